--[[
net.help: what `net` offers, for the prompt (where it is the global `help`).

  help()                  every function of net and every method, grouped,
                          one line each
  help(net.connect)       one function: signature, what it returns, one
                          example (any function of net, a method taken from
                          an object such as c.receive, or help itself)
  help("receive")         the same by name: "connect", "net.connect",
                          "conn:receive", "ip.parse" ...
  help(c)                 the methods of an object (a connection, ...)
  help(net.ip)            one part of net (ip, dns, pretty, ...)
  help("http")            a topic: http, smtp, telnet, tls, trace, serve, dns,
                          tasks (a short page with an example to run);
                          topics come before functions and parts of the
                          same name (help "net.trace", help(net.http) ...)

On a terminal, a text taller than it goes through $PAGER (less -FRX, or
more, by default); never when io.stdout is not a terminal.

The texts follow the contract in DESIGN.md. Only what exists is shown:
an entry named net.X is listed only while net.X is there, so the texts of
parts not built yet (net.http, net.smtp) wait here, hidden, until they
land. help returns nothing; it writes on io.stdout.
]]

local M = {}

-- ---- Paging (issue #10) ----------------------------------------------------
-- What one help call writes is gathered, then written on io.stdout at its
-- end; when io.stdout is a terminal and the text is taller than it, through
-- a pager instead: $PAGER, or less -FRX, or more. Never when io.stdout is
-- not a terminal (a pipe, a file, the specs without a pty).
local pending = {}

--- Gather text for the end of the help call.
local function write(...)
  for i = 1, select("#", ...) do pending[#pending + 1] = tostring((select(i, ...))) end
end

--- isatty(io.stdout) -> boolean, rows: trace.c's (registry["netlua.isatty"]);
--- false where it is missing (net.help required from stock Lua).
local function terminal(f)
  local isatty = debug.getregistry()["netlua.isatty"]
  if type(isatty) ~= "function" then return false end
  return isatty(f)
end

local DEFAULT_PAGER = "command -v less >/dev/null 2>&1 && exec less -FRX || exec more"

--- Write text on io.stdout, through a pager when it is taller than the terminal.
local function emit(text)
  local tty, rows = terminal(io.stdout)
  local _, lines = text:gsub("\n", "")
  if not tty or not rows or lines < rows then io.stdout:write(text) return end
  local pager = os.getenv("PAGER")
  if not pager or pager:match("^%s*$") then pager = DEFAULT_PAGER end
  local tmp = os.tmpname()
  local f = io.open(tmp, "w")
  if not f then io.stdout:write(text) return end
  f:write(text)
  f:close()
  io.stdout:flush()
  -- os.execute: system(3), which ignores Ctrl-C in netlua while the pager runs
  local _, how, code = os.execute("(" .. pager .. ") <" .. tmp)
  os.remove(tmp)
  if how == "exit" and code == 127 then io.stdout:write(text) end -- no such pager
end
-- ---- end of paging -----------------------------------------------------------

-- Each entry: name, sig (with -> results), text (one line), returns,
-- example; grouped in the order help() shows them.
local GROUPS = {
  { title = "Connections (TCP)", part = "tcp", entries = {
    { name = "net.connect", sig = "net.connect(host, port [, opts]) -> conn",
      text = "open a TCP connection",
      more = "Every address of host is tried (IPv6 and IPv4, Happy Eyeballs); IP literals (\"::1\", \"[::1]\", \"fe80::1%lo\") are never sent to DNS. port is 1-65535 (0 raises, as for u:sendto and net.relay's target); a host with a port in it (\"[::1]:80\", \"host:25\") raises: give the port apart. opts: timeout (seconds >= 0 for the whole call, name resolution included; nil: none), family (\"inet\" | \"inet6\"), localaddr (a numeric address to connect from), localport (the port to connect from; alone, it binds the wildcard address of each address tried, as nc -p), linelimit, trace (as conn:trace, from the first step: resolving, connecting, connected or refused; false: none even with net.trace on), tls (see help(\"tls\")). Ctrl-C or task:cancel() while it connects or does its TLS handshake closes at once what it opened",
      returns = "a connection; on failure nil and a message naming host, port and cause, e.g. \"connect example.org:81 (93.184.216.34): connection refused\", or \"timeout\"",
      example = 'c = net.connect("example.org", 80)' },
    { name = "net.listen", sig = "net.listen(host, port [, opts]) -> server",
      text = "listen for TCP connections",
      more = "host \"*\" listens on every address, port 0 on any free port (see s:getsockname()). opts: backlog, family, timeout (default for accept), linelimit, defer = seconds (a client is handed to accept once it has sent something, or after about that long: TCP_DEFER_ACCEPT, for protocols where the client speaks first), tls = {cert, key [, ca, alpn, minversion]} (accept does the handshake; a client that fails it makes accept return nil, \"tls client ADDR: ...\" and the server goes on)",
      returns = "a server; on failure nil and a message (\"address already in use\" ...)",
      example = 's = net.listen("127.0.0.1", 8080)' },
    { name = "tls", sig = "opts.tls = true | {verify, ca, servername, alpn, cert, key, minversion}",
      text = "TLS for net.connect (and net.listen, c:starttls)",
      more = "Verified by default: the chain against the system store (SSL_CERT_FILE, SSL_CERT_DIR honoured) or ca (a file or directory), and the name (host, or servername; SNI is sent for names). verify = false connects anyway and says NOT VERIFIED in tostring(c), c:tlsinfo() and the transcript. alpn: a list like {\"h2\", \"http/1.1\"}; cert, key: a client certificate; minversion: \"1.2\" | \"1.3\". The handshake shares connect's deadline.",
      returns = "on failure nil and a message, e.g. \"tls example.org:443 (93.184.216.34): certificate verify failed: certificate has expired (notAfter ...)\"",
      example = 'c = net.connect("example.org", 443, {tls = true})' },
  } },
  { title = "Connection methods (c = net.connect(...) or s:accept())", part = "conn", entries = {
    { name = "conn:send", sig = "c:send(data [, i [, j]]) -> last",
      text = "send all of data (or data:sub(i, j), as LuaSocket), waiting as needed",
      more = "Ctrl-C (or any error) while a send waits closes the connection: part of the data may have gone, and how much cannot be returned. A timeout leaves it open. i and j are taken as string.sub takes them; what is returned is the index in data of the last byte sent, so without i and j it is the number of bytes sent (#data).",
      returns = "the index of the last byte sent (j when all went; #data without i and j); on failure nil, message (\"closed\", \"timeout\", ...), the index of the last byte that went (i - 1 when none did)",
      example = 'c:send("GET / HTTP/1.1\\r\\nHost: example.org\\r\\n\\r\\n")' },
    { name = "conn:receive", sig = "c:receive([pattern]) -> data",
      text = "read a line, n bytes, or all until close",
      more = "pattern: \"l\" a line without its end (the default), \"L\" a line with its end, \"a\" everything until the peer closes, a number n exactly n bytes; \"*l\" and \"*a\" are accepted too. Ctrl-C while it waits leaves the connection open and what was read so far buffered for the next receive.",
      returns = "the data; on failure nil, message, partial data read before it (\"closed\", \"timeout\"; \"line too long\": the line's first bytes up to the limit, see c:setlinelimit)",
      example = 'line = c:receive()        -- or c:receive("a"), c:receive(512)' },
    { name = "conn:lines", sig = "c:lines() -> iterator",
      text = "iterate over the lines received",
      returns = "an iterator for a generic for; errors other than the end raise",
      example = "for line in c:lines() do print(line) end" },
    { name = "conn:expect", sig = "c:expect(pattern | {patterns} [, timeout]) -> index, line, captures",
      text = "read lines until one matches a pattern",
      more = "patterns are Lua patterns tried in order on each line; lines before the match are skipped. timeout: seconds for the whole call (default: the connection's timeout). A malformed pattern raises before anything is read",
      returns = "the index of the pattern that matched, the line, its captures; on failure nil, \"timeout\" | \"closed\" | message, and the lines read that matched nothing",
      example = 'i, line = c:expect({ "^2%d%d ", "^[45]%d%d " }, 5)' },
    { name = "conn:reply", sig = "c:reply([timeout]) -> code, lines",
      text = "read one numeric reply (SMTP, FTP, NNTP: 250-... 250 ...)",
      more = "a multi-line reply (\"250-first\" ... \"250 last\") is read to its end; timeout: seconds for the whole reply",
      returns = "the code (an integer) and the text of each line; on failure nil, message (\"timeout\", \"closed\", \"malformed reply: ...\"), the lines so far",
      example = 'c:send("EHLO me\\r\\n"); code, lines = c:reply(10)' },
    { name = "conn:interact", sig = "c:interact([escape]) -> true",
      text = "telnet mode: hand the connection to the terminal",
      more = "lines typed go out with CRLF (line editing and history at the terminal), what arrives is printed as it comes; the escape key (default Ctrl-], \"\\29\"; any one-character string) returns with the connection still open, so the session goes on in Lua; Ctrl-C returns too, sending nothing. Without a terminal, lines of standard input are sent; a line with the escape character ends it; at the end of input the sending side is shut down (as nc -N) and what arrives is printed until the peer closes. Not inside a task",
      returns = "true after the escape key; nil, \"closed\" when the peer closed (\"*** connection closed by foreign host\" is printed); nil, \"interrupted\" after Ctrl-C",
      example = 'c = net.connect("127.0.0.1", 25); c:interact()' },
    { name = "conn:settimeout", sig = "c:settimeout(seconds | nil) -> true",
      text = "bound every later call (nil: no bound)",
      more = "seconds >= 0 bound each whole call, not each chunk; a negative or NaN timeout is an error",
      returns = "true",
      example = "c:settimeout(5)" },
    { name = "conn:gettimeout", sig = "c:gettimeout() -> seconds | nil",
      text = "the timeout set by settimeout",
      returns = "seconds, or nil when there is none",
      example = "print(c:gettimeout())" },
    { name = "conn:setlinelimit", sig = "c:setlinelimit(bytes) -> true",
      text = "the longest line receive accepts",
      more = "1 MiB unless set here or by opts.linelimit of net.connect, net.listen, net.serve. A longer line is an error, never unbounded memory: receive returns nil, \"line too long\" and the line's first bytes, as many as the limit; the connection stays open and the rest of the line stays buffered, so the next receive goes on from the byte after them (lines() raises the error instead and takes nothing). Meanwhile receive holds about twice the limit (its buffer and the partial), and gives its buffer back before it returns",
      returns = "true",
      example = "c:setlinelimit(1024 * 1024)" },
    { name = "conn:trace", sig = "c:trace(true | function | file | path | false [, opts])",
      text = "show this connection's dialogue as a transcript",
      more = "\"<- \" what the peer said, \" -> \" what was sent, \"*** \" events (closed by peer, reset, timeout, closed); control bytes shown as \\r \\x1b ..., binary as a hex dump. true: on stderr, coloured on a terminal unless NO_COLOR is set; a function gets each line; a file or a path (appended) gets the lines. opts: time (elapsed seconds), explain (reply codes annotated), color, hexmax. See net.trace for every new connection",
      returns = "true; nil, message for a path that cannot be opened; c:trace(false) stops it",
      example = "c:trace(true, { time = true })" },
    { name = "conn:settrace", sig = "c:settrace(handler | nil) -> true",
      text = "call handler(what, data, conn) at each event",
      more = "what: \"send\", \"receive\", \"connected\", \"accepted\", \"peerclosed\", \"reset\", \"timeout\", \"shutdown\", \"close\" ... (net.transcript lists them); c:trace() builds such a handler",
      returns = "true",
      example = 'c:settrace(function(what, data) io.stderr:write(what, " ", #(data or ""), "\\n") end)' },
    { name = "conn:shutdown", sig = 'c:shutdown(["both" | "send" | "receive"]) -> true',
      text = "close one direction",
      more = "after \"send\" the peer sees the end of the data, and can still answer",
      returns = "true; on failure nil, message",
      example = 'c:shutdown("send")' },
    { name = "conn:close", sig = "c:close() -> true",
      text = "close the connection",
      more = "also done by <close> variables and by garbage collection",
      returns = "true; nil, \"closed\" if it was closed already",
      example = "c:close()" },
    { name = "conn:getpeername", sig = "c:getpeername() -> host, port",
      text = "the address and port of the other end",
      returns = "address text and port number",
      example = "print(c:getpeername())" },
    { name = "conn:getsockname", sig = "c:getsockname() -> host, port",
      text = "the local address and port",
      returns = "address text and port number",
      example = "print(c:getsockname())" },
    { name = "conn:forward", sig = "c:forward(other [, timeout]) -> bytes",
      text = "move everything c receives to other, until c's peer half-closes",
      more = "then other:shutdown(\"send\"). Waits through the loop (in a task it lets others run). Bytes already buffered by a receive go first; untraced plain sockets move by splice(2) without entering Lua, traced ones are read, traced and written. timeout bounds the whole call (nil: none)",
      returns = "the bytes moved; on failure nil, message, bytes moved, and the side that failed (\"receive\": c, \"send\": other)",
      example = 'net.spawn(function() client:forward(target) end); target:forward(client)' },
    { name = "conn:reset", sig = "c:reset() -> true",
      text = "close at once with a reset (RST), dropping unsent data",
      returns = "true; nil, \"closed\" if it was closed already",
      example = "c:reset()" },
    { name = "conn:starttls", sig = "c:starttls([opts]) -> c",
      text = "switch an open connection to TLS",
      more = "As a client (the name checked is the one connected to, or opts.servername; options as help(\"tls\")), or with {server = true, cert = ..., key = ...} as a server. Refused when data arrived before the handshake (plaintext injected after STARTTLS). Within the connection's timeout; a failed handshake closes the connection.",
      returns = "the connection, now TLS; on failure nil, message (\"timeout\")",
      example = 'c:send("STARTTLS\\r\\n"); c:reply(); c:starttls()' },
    { name = "conn:tlsinfo", sig = "c:tlsinfo() -> table",
      text = "what TLS negotiated, and the certificates",
      more = "version, cipher, alpn, verified, verifyresult, servername, chain = {{subject, issuer, altnames, notbefore, notafter, daysleft, serial, sha256}, ...} (the peer's certificate first)",
      returns = "the table; nil, \"not TLS\" on a plain connection",
      example = "print(c:tlsinfo().chain[1].notafter)" },
  } },
  { title = "Server methods (s = net.listen(...))", part = "server", entries = {
    { name = "server:accept", sig = "s:accept([timeout [, handshake]]) -> conn",
      text = "wait for the next client",
      more = "On a TLS listener the handshake is done in accept; accept(t, false) returns the client before it (plain), for s:handshake(c) in the client's own task.",
      returns = "a connection; on failure nil, message (\"timeout\", \"closed\")",
      example = "c = s:accept(); c:send(\"hello\\n\"); c:close()" },
    { name = "server:handshake", sig = "s:handshake(c [, timeout]) -> c",
      text = "the TLS handshake of a client taken with s:accept(t, false)",
      more = "With the listener's certificate (net.listen{tls}); at most 10 s whatever timeout. net.serve{tls} does this in each client's task.",
      returns = "the connection, now TLS; on failure nil, \"tls client ADDR: ...\" (the connection is closed)",
      example = "c = s:accept(nil, false); net.spawn(function() if s:handshake(c, 5) then c:send(\"hi\\n\") end c:close() end)" },
    { name = "server:settimeout", sig = "s:settimeout(seconds | nil) -> true",
      text = "the default timeout of accept",
      returns = "true",
      example = "s:settimeout(10)" },
    { name = "server:getsockname", sig = "s:getsockname() -> host, port",
      text = "the address and port listened on",
      returns = "address text and port number",
      example = "host, port = s:getsockname()" },
    { name = "server:close", sig = "s:close() -> true",
      text = "stop listening",
      returns = "true; nil, \"closed\" if it was closed already",
      example = "s:close()" },
  } },
  { title = "Servers, fakes and relays (tasks on the one loop)", part = "serve", entries = {
    { name = "net.serve", sig = "net.serve(host, port, handler [, opts]) -> srv",
      text = "serve each client with handler(conn) in a task of its own",
      more = "Returns at once; the server keeps serving while the script or the prompt goes on. The connection is closed when the handler returns or fails; a handler's error is written on stderr with its traceback and the server goes on (it does not make the script's exit status 1). srv:close() stops it quietly and closes the clients' connections (so does cancelling its task); srv:getsockname(), srv:clients(). A task done with its client waits a moment for the next one (net.tasks() shows it \"waiting for the next client\"). opts: backlog, family, linelimit, defer (as net.listen), timeout (per call on each connection), max (clients at once, 1000; the others wait in the backlog), tls = {cert, key [, ca, alpn, minversion]} (each client's handshake runs in its own task, within opts.handshake seconds, default 10; one that fails is closed quietly and counted in srv.failed_handshakes)",
      returns = "the server; on failure nil and a message, as net.listen",
      example = 'srv = net.serve("127.0.0.1", 8080, function(c) for l in c:lines() do c:send(l .. "\\n") end end)' },
    { name = "net.fake", sig = "net.fake(host, port, dialogue [, opts]) -> fake",
      text = "a scripted peer for tests: plays a dialogue with a client",
      more = "dialogue: a list of steps {send = text} (CRLF added unless raw), {expect = pattern} (the next line must match), {receive = n | \"l\" | \"a\"}, {sleep = s}, {shutdown = how}, {close = true}. opts: clients (one after the other, 1), timeout (per step and for a client to come, 10), raw. fake:wait([timeout]) -> true, or nil and a message naming the step, what was expected and what came (\"timeout\" when no client came); fake:close(); fake:getsockname(); fake.received",
      returns = "the fake; on failure nil and a message, as net.listen",
      example = 'f = net.fake("127.0.0.1", 0, {{send = "220 hi"}, {expect = "^HELO"}, {send = "250 ok"}})' },
    { name = "net.relay", sig = "net.relay(lhost, lport, thost, tport [, opts]) -> relay",
      text = "forward each client to a target, both ways, and show the dialogue",
      more = "Returns at once (a server task). Half-closes pass through, a reset on one side resets the other; an unreachable target closes the client normally (an end of stream, not a reset) and says why in the transcript, or untraced on stderr (\"relay: connect ...: connection refused\"); the transcript names the ends: \"client closed (shutdown send to target)\", \"target closed\". Untraced, bytes move by splice(2). opts: trace = true | function | file | path (the transcript of each pair, lines prefixed \"[n] \", \" -> \" client to target, \"<- \" target to client), time (elapsed-time column), timeout (connecting to the target, 10), backlog, family, max. relay:close(), relay:getsockname(), relay:pairs()",
      returns = "the relay; on failure nil and a message, as net.listen",
      example = 'r = net.relay("127.0.0.1", 8081, "127.0.0.1", 80, {trace = true})' },
  } },
  { title = "UDP (u = net.udp())", part = "udp", entries = {
    { name = "net.udp", sig = "net.udp([opts]) -> udp",
      text = "a UDP socket",
      more = "IPv6 and IPv4 both, unless opts.family. opts: family (\"inet\" | \"inet6\"), timeout",
      returns = "a UDP socket; on failure nil, message",
      example = "u = net.udp()" },
    { name = "udp:bind", sig = "u:bind(host, port) -> true",
      text = "receive on an address and port (\"*\": all)",
      returns = "true; on failure nil, message",
      example = 'u:bind("127.0.0.1", 5353)' },
    { name = "udp:connect", sig = "u:connect(host, port) -> true",
      text = "fix the peer of send and receive",
      returns = "true; on failure nil, message",
      example = 'u:connect("127.0.0.1", 53)' },
    { name = "udp:send", sig = "u:send(data) -> bytes",
      text = "send one datagram to the connected peer",
      returns = "bytes sent; on failure nil, message",
      example = 'u:send("ping")' },
    { name = "udp:receive", sig = "u:receive([size]) -> datagram [, whole]",
      text = "wait for one datagram",
      more = "a datagram longer than size (default 65535) is cut to size and the rest is dropped, as the system does; whole, its size before the cut, says so",
      returns = "the datagram, and its whole size only when it was cut to size; on failure nil, message (\"timeout\")",
      example = "d = u:receive()" },
    { name = "udp:sendto", sig = "u:sendto(data, host, port) -> bytes",
      text = "send one datagram to host:port",
      returns = "bytes sent; on failure nil, message",
      example = 'u:sendto("ping", "127.0.0.1", 9999)' },
    { name = "udp:receivefrom", sig = "u:receivefrom([size]) -> datagram, host, port [, whole]",
      text = "wait for one datagram, and its sender",
      more = "a datagram longer than size is cut to size as with u:receive; whole, its size before the cut, comes fourth",
      returns = "the datagram, the sender's address and port, and the whole size only when it was cut; on failure nil, message",
      example = "d, host, port = u:receivefrom()" },
    { name = "udp:settimeout", sig = "u:settimeout(seconds | nil) -> true",
      text = "bound every later receive",
      returns = "true",
      example = "u:settimeout(2)" },
    { name = "udp:getsockname", sig = "u:getsockname() -> host, port",
      text = "the local address and port",
      returns = "address text and port number",
      example = "print(u:getsockname())" },
    { name = "udp:getpeername", sig = "u:getpeername() -> host, port",
      text = "the peer fixed by connect",
      returns = "address text and port number",
      example = "print(u:getpeername())" },
    { name = "udp:trace", sig = "u:trace(true | function | file | path | false [, opts])",
      text = "show the datagrams as a transcript",
      more = "each datagram one line (or a hex dump) with the peer: \" -> [127.0.0.1:53] ...\", \"<- [127.0.0.1:53] ...\"; as conn:trace otherwise",
      returns = "true; nil, message for a path that cannot be opened; u:trace(false) stops it",
      example = "u:trace(true)" },
    { name = "udp:close", sig = "u:close() -> true",
      text = "close the socket",
      returns = "true; nil, \"closed\" if it was closed already",
      example = "u:close()" },
  } },
  { title = "Transcripts and replies", part = "trace", entries = {
    { name = "net.trace", sig = "net.trace(true | function | file | path | false [, opts]) -> true",
      text = "a transcript for every connection and UDP socket made from now on",
      more = "resolving, connecting, connected, refused, sends, receives, closed ...; as conn:trace (same opts); false: none for new ones. net.connect(host, port, { trace = ... }) traces one connection from its first step",
      returns = "true; nil, message for a path that cannot be opened",
      example = 'net.trace(true); c = net.connect("127.0.0.1", 25)' },
    { name = "net.explain", sig = "net.explain(code [, protocol]) -> text, protocol",
      text = "what a numeric reply code means (SMTP, HTTP)",
      more = "code: 250, \"250 OK\", \"HTTP/1.1 404 Not Found\"; protocol \"smtp\" or \"http\", guessed when absent",
      returns = "the meaning and the protocol; for an unknown code nil, message",
      example = 'print(net.explain(550, "smtp"))' },
  } },
  { title = "Names (DNS, through c-ares; opts: server, timeout (default 10 s), tries, tcp)", part = "dns", entries = {
    { name = "net.resolve", sig = "net.resolve(name [, opts]) -> {addr, ...}",
      text = "the addresses of a name (A and AAAA)",
      more = "opts: server (\"ip\", \"ip:port\" or a list), timeout (seconds for the whole call, retries included; default 10, or resolv.conf's options timeout/attempts), tries (per server, default 2), tcp, family. IP literals are returned as they are, never sent to DNS.",
      returns = "a list of address texts; on failure nil and a message naming the name and cause (\"NXDOMAIN\", \"timeout\")",
      example = 'net.resolve("localhost")' },
    { name = "net.lookup", sig = "net.lookup(name, rtype [, opts]) -> {record, ...}, info",
      text = "the records of a name, of one type",
      more = "rtype: A AAAA MX TXT NS CNAME SOA SRV PTR CAA; each record is a table of named fields and ttl, e.g. { type = \"MX\", name = ..., preference = 10, exchange = ..., ttl = 300 }. opts: server, timeout (seconds for the whole call, retries included; default 10, or resolv.conf's), tries (per server, default 2), tcp",
      returns = "the list of records and a table about the answer; on failure nil, message",
      example = 'net.lookup("example.org", "MX", { server = "127.0.0.1:5353" })' },
    { name = "net.reverse", sig = "net.reverse(addr [, opts]) -> name",
      text = "the name of an address (PTR record)",
      more = "opts: server, timeout (seconds for the whole call, retries included; default 10, or resolv.conf's), tries (per server, default 2), tcp",
      returns = "the name; on failure nil, message",
      example = 'net.reverse("127.0.0.1")' },
    { name = "net.dns.servers", sig = "net.dns.servers([list]) -> {server, ...}",
      text = "the DNS servers used by default (or set)",
      returns = "the list of servers",
      example = 'net.dns.servers({ "127.0.0.1:5353" })' },
    { name = "net.dns.config", sig = "net.dns.config() -> {servers, search, ndots, timeout, tries}",
      text = "the resolver configuration in use",
      returns = "a table",
      example = "net.dns.config()" },
    { name = "net.dns.rdata", sig = "net.dns.rdata(record) -> text",
      text = "a record's data as a zone file writes it",
      returns = "text",
      example = 'net.dns.rdata(net.lookup("example.org", "MX")[1])' },
  } },
  { title = "This host", part = "ifaddr", entries = {
    { name = "net.interfaces", sig = "net.interfaces() -> { {name, index, flags, mtu, mac, addrs}, ... }",
      text = "the interfaces and their addresses",
      more = "each address: family, address, netmask, prefix, broadcast (IPv4), scope (IPv6)",
      returns = "a list ordered by index; on failure nil, message",
      example = "net.interfaces()" },
    { name = "net.interface", sig = "net.interface(name | index) -> {name, index, flags, mtu, mac, addrs}",
      text = "one interface",
      returns = "its table; nil, \"no interface NAME\" when there is none (an index below 1 is an argument error)",
      example = 'net.interface("lo")' },
    { name = "net.myip", sig = "net.myip([family]) -> address [, note]",
      text = "the address this host uses to reach out",
      more = "the source address of the default route; family: \"inet\", \"inet6\" or \"any\"; nothing is sent",
      returns = "the address, and a note when there is no default route; nil, message when there is no address at all",
      example = "net.myip()" },
    { name = "net.hostname", sig = "net.hostname() -> name",
      text = "this host's name",
      returns = "the name; on failure nil, message",
      example = "net.hostname()" },
    { name = "net.gateways", sig = "net.gateways() -> { inet = gw, inet6 = gw, gw, ... }",
      text = "the default routes",
      more = "gw: family, gateway (absent for a route with none), interface, metric, weight (multipath); inet and inet6 are the hops the kernel uses, every next hop is listed",
      returns = "a table; nil, \"no default route\" when there is none",
      example = "net.gateways().inet" },
  } },
  { title = "Tasks and time (one event loop)", part = "loop", entries = {
    { name = "net.spawn", sig = "net.spawn(fn, ...) -> task",
      text = "run fn(...) as a task, beside the rest",
      more = "its waiting calls (receive, accept, sleep ...) let other tasks and the prompt run",
      returns = "the task (a coroutine); an error in it is printed with a traceback",
      example = 'net.spawn(function() net.sleep(1) print("later") end)' },
    { name = "net.sleep", sig = "net.sleep(seconds)",
      text = "wait, letting tasks run",
      returns = "nothing",
      example = "net.sleep(0.5)" },
    { name = "net.now", sig = "net.now() -> seconds",
      text = "a monotonic clock, in seconds",
      returns = "seconds (a float)",
      example = "t = net.now(); net.sleep(0.1); print(net.now() - t)" },
    { name = "net.run", sig = "net.run()",
      text = "run until every task has finished",
      more = "a script does this by itself at its end",
      returns = "nothing; Ctrl-C raises \"interrupted!\"",
      example = "net.run()" },
    { name = "net.tasks", sig = "net.tasks() -> {task, ...}",
      text = "the tasks that have not finished",
      more = "oldest first; #net.tasks() counts them; printed one per line as \"task N: DESCRIPTION (state)\", state one of ready, running, waiting, waiting to send, sleeping. A task is the coroutine net.spawn returns; inside one, coroutine.running() is its own task",
      returns = "a list of tasks (threads)",
      example = "net.tasks()          -- #net.tasks() is how many" },
    { name = "task:cancel", sig = "task:cancel() -> true",
      text = "end a task now",
      more = "as coroutine.close: its pending to-be-closed variables close (a `local c <close> = net.connect(...)` is closed) and it leaves the loop; coroutine.close(task) does the same",
      returns = "true; nil, message for a task that has finished, the task running now, or a coroutine that is not a task",
      example = "net.tasks()[1]:cancel()" },
    { name = "task:describe", sig = "task:describe([text | function]) -> task",
      text = "say what a task is doing, for net.tasks()",
      more = "a function is called with the task whenever the task is shown, for live figures; nil forgets the description (the task then shows where its function was defined)",
      returns = "the task",
      example = 'net.spawn(serve):describe(function() return "serving :8080, " .. n .. " clients" end)' },
  } },
  { title = "IP addresses (net.ip, no network)", part = "ip", entries = {
    { name = "net.ip.parse", sig = "net.ip.parse(text) -> family, text",
      text = "check an address, write it canonically",
      returns = "\"inet\" or \"inet6\" and the canonical text; nil, message if malformed",
      example = 'net.ip.parse("2001:DB8:0:0::1")' },
    { name = "net.ip.tonumber", sig = "net.ip.tonumber(v4) -> integer",
      text = "an IPv4 address as a 32-bit number",
      returns = "an integer; nil, message if malformed",
      example = 'net.ip.tonumber("10.0.0.1")' },
    { name = "net.ip.fromnumber", sig = "net.ip.fromnumber(n) -> text",
      text = "the IPv4 address of a number",
      returns = "\"a.b.c.d\"",
      example = "net.ip.fromnumber(167772161)" },
    { name = "net.ip.contains", sig = "net.ip.contains(cidr, addr) -> boolean",
      text = "whether a network holds an address",
      returns = "true or false; nil, message if malformed",
      example = 'net.ip.contains("10.0.0.0/8", "10.1.2.3")' },
    { name = "net.ip.classify", sig = "net.ip.classify(addr) -> class, note",
      text = "what kind of address it is",
      more = "loopback, private, shared, link-local, documentation, multicast, broadcast, reserved, public ...",
      returns = "the class and a note naming the range and its RFC",
      example = 'net.ip.classify("192.168.1.1")' },
    { name = "net.ip.network", sig = "net.ip.network(cidr) -> {network, netmask, broadcast, first, last, size, ...}",
      text = "everything about a network",
      returns = "a table; nil, message if malformed",
      example = 'net.ip.network("192.168.1.77/24")' },
    { name = "net.ip.prefix_to_netmask", sig = "net.ip.prefix_to_netmask(prefix [, family]) -> netmask",
      text = "a prefix length as a netmask",
      returns = "the netmask text",
      example = "net.ip.prefix_to_netmask(20)" },
    { name = "net.ip.netmask_to_prefix", sig = "net.ip.netmask_to_prefix(netmask) -> prefix",
      text = "a netmask as a prefix length",
      returns = "a number; nil, message if it is not a netmask",
      example = 'net.ip.netmask_to_prefix("255.255.240.0")' },
  } },
  { title = "Protocols (net.http, net.smtp)", part = "proto", entries = {
    { name = "net.http.get", sig = "net.http.get(url [, opts]) -> status, headers, body, reason",
      text = "an HTTP/1.1 GET",
      more = "opts as for net.http.request: method, headers, body, timeout, redirects, sink (or output), trace, tls; an unknown option is an error",
      returns = "the status code, headers (any case), the body (its size with opts.sink) and the reason; on failure nil, message, kind",
      example = 'status, headers, body = net.http.get("http://127.0.0.1:8080/")' },
    { name = "net.http.request", sig = "net.http.request{url, method, headers, body, ...} -> status, headers, body, reason",
      text = "any HTTP/1.1 request",
      more = "also timeout (seconds for the whole request, 60), redirects (true or a hop count; off by default), sink (function, file or path: the body is streamed there), trace (true or a function), tls (options for https, help(\"tls\"); https is verified by default), onheaders (function(status, headers) called before the body is read)",
      returns = "the status code, headers (any case), the body (its size with a sink) and the reason; on failure nil, message, kind",
      example = 'net.http.request{ url = "http://127.0.0.1:8080/", method = "POST", body = "x=1" }' },
    { name = "net.http.serve", sig = "net.http.serve(host, port, handler [, opts])",
      text = "a small HTTP server",
      more = "handler(req) runs per request (req.method, path (raw), decoded_path, query, params, headers, body, peer) and returns status, headers, body (a string, a function giving chunks, or an open file); keep-alive; opts: timeout (10 s to read a request), idle (5 s), maxbody (1 MiB), maxheader (16 KiB), max, tls and handshake (HTTPS, as net.serve)",
      returns = "the server (srv:close(), srv:getsockname()); nil, message if it cannot listen",
      example = 'net.http.serve("127.0.0.1", 8080, function(req) return 200, {}, "hello\\n" end)' },
    { name = "net.http.headers", sig = "net.http.headers([fields]) -> headers",
      text = "a headers table, as net.http.get returns and req.headers is",
      more = "fields: a list {name, value, name, value, ...} in order (a name may repeat: the values are joined with \", \" and net.http.values(h, name) gives each) or a table {name = value}; h[name] in any case, pairs in order, tostring prints them",
      returns = "the headers table",
      example = 'net.http.headers{ "Content-Type", "text/plain", "X-A", "1" }["content-type"]' },
    { name = "net.smtp.send", sig = "net.smtp.send{server, from, to, headers, body} -> true",
      text = "send one mail",
      more = "dot-stuffing is done; CR or LF inside addresses or headers is refused. tls = \"starttls\" (upgrade after EHLO; no fallback to plain) or \"tls\" (TLS from the start, port 465), tlsopts = TLS options (help(\"tls\")); user, password: AUTH PLAIN or LOGIN after EHLO (mechanism = to choose), refused before anything is sent unless the connection is TLS or cleartext = true. By hand: s = net.smtp.open(host, port, opts); s:ehlo(); s:starttls(); s:ehlo(); s:auth(user, password [, mechanism | {mechanism, cleartext}]) -> 235",
      returns = "true; on failure nil and the server's reply",
      example = 'net.smtp.send{ server = "127.0.0.1:2525", from = "a@example.org", to = "b@example.org", body = "hi" }' },
  } },
  { title = "The prompt", part = "prompt", entries = {
    { name = "help", sig = "help([function | name | object])",
      text = "this help",
      more = "help() everything, help(f) or help(\"name\") one function, help(obj) the methods of an object",
      returns = "nothing (it prints)",
      example = "help(net.connect)" },
    { name = "net.pretty", sig = "net.pretty(value [, opts]) -> text",
      text = "a value as the prompt shows it",
      more = "tables nested, keys sorted, cycles marked, long output cut. opts: max_lines (200), width (78), max_depth (30), max_string (2000); net.pretty.print(...) prints",
      returns = "the text",
      example = "print(net.pretty(net.interfaces()))" },
    { name = "net.version", sig = "net.version",
      text = "netlua's version (a string)",
      returns = "the version",
      example = "net.version" },
  } },
}

--- True when the thing an entry names exists now: entries named net.X
--- need net.X (net.http is listed once it is built); methods and help do.
local function exists(e)
  if not e.name:match("^net%.") then return true end
  local ok, v = pcall(function()
    local t = package.loaded.net or rawget(_G, "net")
    for part in e.name:sub(5):gmatch("[^.]+") do
      if type(t) ~= "table" and type(t) ~= "userdata" then return nil end
      t = t[part]
    end
    return t
  end)
  return ok and v ~= nil
end

local BY_NAME = {}
for _, g in ipairs(GROUPS) do
  for _, e in ipairs(g.entries) do
    e.group = g
    BY_NAME[e.name] = e
  end
end

--- Wrap text to `width` columns, each line starting with `ind`.
local function wrap(text, ind, width)
  local lines, line = {}, ind
  for word in text:gmatch("%S+") do
    if #line > #ind and #line + 1 + #word > width then
      lines[#lines + 1] = line
      line = ind .. word
    else
      line = line .. (#line > #ind and " " or "") .. word
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

-- ---- Topics (issue #10) -------------------------------------------------
-- help "http", help "smtp" ...: a short page on a subject a student looks
-- for, before any function or part of that name (help(net.http) and
-- help "net.http" still list the part, help "net.trace" the function).
-- Each page: what it is, the functions involved, and an example that runs
-- as it stands on loopback (spec/help_spec.lua runs every one).
local TOPICS = {
  { name = "http", title = "http: the web, as a client and as a server (net.http)",
    text = "net.http.get fetches a URL and returns status, headers, body; net.http.request does any method (opts: headers, body, timeout, sink for big bodies, trace). net.http.serve answers requests with handler(req), each in a task of its own, and returns at once, so the same prompt can be its client.",
    funcs = { "net.http.get", "net.http.request", "net.http.serve" },
    example = [[
srv = assert(net.http.serve("127.0.0.1", 8080, function(req)
  return 200, { ["Content-Type"] = "text/plain" }, "hello from " .. req.path .. "\n"
end))
status, headers, body = net.http.get("http://127.0.0.1:8080/hi")
print(status, headers["content-type"], body)
srv:close()]],
    more = "From the shell: netlua scripts/http_get.lua -v http://127.0.0.1:8080/ (the dialogue as a transcript), netlua scripts/http_server.lua." },
  { name = "smtp", title = "smtp: sending mail (net.smtp)",
    text = "net.smtp.send{server, from, to, subject, body} speaks the SMTP dialogue (EHLO, MAIL FROM, RCPT TO, DATA, QUIT) with a server and returns true, or nil and the server's reply. To try it without a mail server, play one in Lua (below; net.fake plays a fixed dialogue, for tests), or run a local debugging server: python3 -m aiosmtpd -n -l 127.0.0.1:2525 (it prints each mail it gets).",
    funcs = { "net.smtp.send", "net.serve", "net.fake", "conn:reply" },
    example = [[
srv = assert(net.serve("127.0.0.1", 2525, function(c)  -- a toy mail server
  c:send("220 toy ESMTP\r\n")
  for line in c:lines() do
    if line:match("^DATA") then
      c:send("354 go on\r\n")
      repeat local l = c:receive() until l == nil or l:match("^%.\r?$")
      c:send("250 queued\r\n")
    elseif line:match("^QUIT") then c:send("221 bye\r\n"); return
    else c:send("250 ok\r\n") end
  end
end))
print(net.smtp.send{ server = "127.0.0.1:2525", from = "me@example.org",
  to = "you@example.org", subject = "hi", body = "hello\n", trace = true })
srv:close()]],
    more = "trace = true shows the dialogue; the same by hand: c = net.connect(\"127.0.0.1\", 2525); print(c:reply()); netlua scripts/smtp_send.lua --help." },
  { name = "telnet", title = "telnet: talking to a server by hand",
    text = "net.connect opens a TCP connection; c:interact() hands it to the terminal: lines typed go out with CRLF, what arrives is printed as it comes. Ctrl-] comes back to Lua with the connection open (c:send, c:receive, c:trace go on); Ctrl-C comes back too. From the shell: netlua scripts/telnet.lua 127.0.0.1 2323.",
    funcs = { "net.connect", "conn:interact", "conn:send", "conn:receive", "conn:close" },
    example = [[
srv = assert(net.serve("127.0.0.1", 2323, function(c)
  c:send("hello; type a line\r\n")
  c:send("you said: " .. tostring(c:receive()) .. "\r\nbye\r\n")
end))
c = net.connect("127.0.0.1", 2323)
c:interact()      -- type a line; the server answers and closes
c:close(); srv:close()]],
    more = "Without a terminal, c:interact() sends the lines of standard input. help \"conn:interact\" has the details." },
  { name = "tls", title = "tls: talking to (and being) a TLS server",
    text = "net.connect(host, port, {tls = true}) speaks TLS, verified against the system store (SSL_CERT_FILE, SSL_CERT_DIR honoured) or tls.ca; a refusal is nil and a message saying why (\"certificate verify failed: self-signed certificate\"). c:tlsinfo() tells the version, cipher and certificates; c:starttls() upgrades a plain connection (SMTP, ...). net.listen, net.serve and net.http.serve take tls = {cert = ..., key = ...}. The example makes a throwaway CA and certificate with the openssl command in a temporary directory.",
    funcs = { "tls", "conn:starttls", "conn:tlsinfo", "net.serve", "server:handshake" },
    example = [[
d = os.tmpname(); os.remove(d); os.execute("mkdir " .. d)
os.execute(("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 "
  .. "-keyout key.pem -out cert.pem -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null"):format(d))
srv = assert(net.serve("127.0.0.1", 8443, function(c) c:send("hello over tls\n") end,
  {tls = {cert = d .. "/cert.pem", key = d .. "/key.pem"}}))
print(net.connect("localhost", 8443, {tls = true}))   -- nil, "... self-signed certificate ..."
c = net.connect("localhost", 8443, {tls = {ca = d .. "/cert.pem"}})
print(c:receive(), c:tlsinfo().version, c:tlsinfo().chain[1].notafter)
c:close(); srv:close(); os.execute("rm -r " .. d)]],
    more = "From the shell: netlua scripts/certinfo.lua HOST[:PORT] (the chain, and why it does not verify), scripts/telnet.lua --tls, scripts/http_get.lua https://... (--cacert, -k), scripts/smtp_send.lua --starttls --user U --password-file F." },
  { name = "trace", title = "trace: seeing what goes over a connection",
    text = "A transcript shows a connection's dialogue as it happens, one line each, with three markers: \"->\" what was sent, \"<-\" what the peer said, \"***\" events (connected, closed by peer, reset, timeout ...). net.trace(true) traces every connection made from now on, c:trace(true) one connection, net.connect(host, port, {trace = true}) one from its first step; on stderr, or into a function, a file or a path; opts: time, explain (reply codes), hexmax.",
    funcs = { "net.trace", "conn:trace", "conn:settrace", "net.explain" },
    example = [[
srv = assert(net.serve("127.0.0.1", 7007, function(c)
  for line in c:lines() do c:send(line:upper() .. "\n") end
end))
c = net.connect("127.0.0.1", 7007)
c:trace(true)     -- net.trace(true): every new one, the server's side too
c:send("hello\n"); print(c:receive())
c:close(); srv:close()]],
    more = "net.relay(lhost, lport, thost, tport, {trace = true}) shows the dialogue of a client you do not control (netlua scripts/relay.lua)." },
  { name = "serve", title = "serve: servers, fakes and relays",
    text = "net.serve(host, port, handler) serves each client with handler(conn) in a task of its own and returns at once; the prompt (or the script) goes on, and can be its own client. net.fake plays a scripted dialogue, for tests; net.relay stands between a client and a server and shows their dialogue. srv:close() stops one.",
    funcs = { "net.serve", "net.fake", "net.relay", "net.http.serve", "net.listen" },
    example = [[
srv = assert(net.serve("127.0.0.1", 7007, function(c)
  for line in c:lines() do c:send(#line .. " bytes\n") end
end))
c = net.connect("127.0.0.1", 7007)
c:send("hello\n"); print(c:receive())
print(srv:clients() .. " client(s)")
c:close(); srv:close()]],
    more = "help \"net.serve\" has the options (max, timeout ...); net.listen and s:accept() serve one client at a time by hand." },
  { name = "dns", title = "dns: names and addresses (net.resolve, net.lookup, net.reverse)",
    text = "net.resolve(name) gives the addresses of a name, net.lookup(name, rtype) any record (\"A\", \"AAAA\", \"MX\", \"TXT\", \"NS\" ...), net.reverse(addr) the name of an address; opts.server asks one server (\"127.0.0.1:5353\") instead of the system's; IP literals are never sent to DNS. From the shell: netlua scripts/dig.lua, scripts/nslookup.lua.",
    funcs = { "net.resolve", "net.lookup", "net.reverse", "net.dns.servers", "net.dns.config", "net.ip.parse" },
    example = [[
print(net.resolve("::1")[1])                -- a literal: no query sent
print(net.ip.classify("127.0.0.1"))
print(net.lookup("example.org", "A", { server = "127.0.0.1:1", timeout = 0.5, tries = 1 }))
-- nil and a message here: no DNS server on 127.0.0.1 port 1]],
    more = "net.dns.config() shows the servers, search list and options read from the system." },
  { name = "tasks", title = "tasks: several things at once (one event loop)",
    text = "net.spawn(fn) runs fn as a task beside the rest; while a task waits (receive, accept, sleep ...) the others and the prompt run. net.tasks() lists them, task:describe names one, task:cancel stops one. At the prompt tasks run while you type; a script's tasks keep running after its last line until they end (net.run waits for them).",
    funcs = { "net.spawn", "net.sleep", "net.tasks", "task:cancel", "task:describe", "net.run" },
    example = [[
t = net.spawn(function() for i = 1, 3 do print("tick", i); net.sleep(0.1) end end)
t:describe("ticker")
print(#net.tasks() .. " task(s)")
net.sleep(0.5)                               -- the task ticks meanwhile]],
    more = "net.serve, net.fake, net.relay and net.http.serve run their clients as tasks." },
}
local TOPIC = {}
for _, t in ipairs(TOPICS) do TOPIC[t.name] = t end

--- Write one topic's page.
local function show_topic(t)
  local out = { t.title, wrap(t.text, "  ", 78),
    wrap("Functions: " .. table.concat(t.funcs, ", ") .. " (help \"" .. t.funcs[1] .. "\" ...)", "  ", 78),
    "  Example (paste it at the prompt, or save it and run netlua FILE):" }
  for l in (t.example .. "\n"):gmatch("(.-)\n") do out[#out + 1] = "    " .. l end
  if t.more then out[#out + 1] = wrap(t.more, "  ", 78) end
  write(table.concat(out, "\n"), "\n")
end

--- The line of topics at the end of help().
local function topics_line()
  local names = {}
  for i, t in ipairs(TOPICS) do names[i] = ("help %q"):format(t.name) end
  return wrap("Topics: " .. table.concat(names, ", "), "", 78)
end
M.topics = TOPICS
-- ---- end of topics ---------------------------------------------------------

local COL = 34 -- width of the signature column of the lists

--- One entry of a list: the call (without its results) and the text
--- wrapped beside it.
local function list_line(e)
  local call = e.sig:match("^[^(]*%b()") or e.sig:match("^[^{]*%b{}") or e.sig
  local text = wrap(e.text, (" "):rep(COL + 3), 78):sub(COL + 4)
  if #call > COL then
    return "  " .. call .. "\n" .. (" "):rep(COL + 3) .. text
  end
  return ("  %-" .. COL .. "s %s"):format(call, text)
end

--- The value an entry names (net.connect -> the function), or nil;
--- never raises (net.http may not be built yet).
local function resolve(name)
  if not name:match("^net%.") then return nil end
  local ok, v = pcall(function()
    local t = package.loaded.net or rawget(_G, "net")
    for part in name:sub(5):gmatch("[^.]+") do
      if t == nil then return nil end
      t = t[part]
    end
    return t
  end)
  return ok and v or nil
end

--- Write the full help of one entry.
local function show_entry(e)
  local out = { e.sig, wrap(e.text, "  ", 78) }
  if e.more then out[#out + 1] = wrap(e.more, "  ", 78) end
  out[#out + 1] = wrap("Returns: " .. e.returns, "  ", 78)
  out[#out + 1] = "  Example: " .. e.example
  write(table.concat(out, "\n"), "\n")
end

--- help(): every group, one line per function.
local function show_all()
  local out = { "netlua " .. tostring(rawget(package.loaded.net or {}, "version") or "")
    .. ": sockets, DNS and interfaces, in the table net.",
    "More on one: help(net.connect), help(\"receive\"), help(c) for an object." }
  for _, g in ipairs(GROUPS) do
    local lines = {}
    for _, e in ipairs(g.entries) do
      if exists(e) then lines[#lines + 1] = list_line(e) end
    end
    if #lines > 0 then
      out[#out + 1] = ""
      out[#out + 1] = g.title
      table.move(lines, 1, #lines, #out + 1, out)
    end
  end
  out[#out + 1] = ""
  out[#out + 1] = topics_line()
  write(table.concat(out, "\n"), "\n")
end

--- The entries whose method or function name is `short` ("receive").
local function by_short(short)
  local found = {}
  for _, g in ipairs(GROUPS) do
    for _, e in ipairs(g.entries) do
      if (e.name:match("[.:]([%w_]+)$") == short or e.name == short) and exists(e) then
        found[#found + 1] = e
      end
    end
  end
  return found
end

--- The kind of object a metatable describes ("conn", "server", "udp").
local function kind_of(mt)
  local n = type(mt) == "table" and rawget(mt, "__name")
  if type(n) ~= "string" then return nil end
  if n:find("udp") then return "udp" end
  if n:find("server") or n:find("listen") then return "server" end
  if n:find("conn") or n:find("tcp") then return "conn" end
  return nil
end

--- A method found in some metatable of the registry: entries for it.
local function method_entries(f)
  for _, mt in pairs(debug.getregistry()) do
    if type(mt) == "table" then
      local idx = rawget(mt, "__index")
      if type(idx) == "table" then
        for k, v in next, idx do
          if v == f and type(k) == "string" then
            local kind = kind_of(mt)
            if kind and BY_NAME[kind .. ":" .. k] then return { BY_NAME[kind .. ":" .. k] } end
            local found = by_short(k)
            if #found > 0 then return found end
          end
        end
      end
    end
  end
  return {}
end

--- Entries describing the function f.
local function function_entries(f)
  for name, e in pairs(BY_NAME) do
    if name == "help" and f == M.help then return { e } end
    if resolve(name) == f then return { e } end
  end
  return method_entries(f)
end

--- The name of a function of Lua's own libraries ("string.format"), or nil.
local function std_name(f)
  for lib, t in pairs(package.loaded) do
    if type(t) == "table" and lib ~= "net" and not lib:match("^net%.") then
      for k, v in pairs(t) do
        if v == f then return lib == "_G" and k or lib .. "." .. k end
      end
    end
  end
  return nil
end

--- No entry for a function: say what it is.
local function show_other_function(f)
  local std = std_name(f)
  if std then
    write(std, " is part of Lua itself: see https://www.lua.org/manual/5.4/manual.html#6\n")
    return
  end
  local info = debug.getinfo(f, "Su")
  if info.what == "Lua" then
    local params = {}
    for i = 1, info.nparams do params[i] = debug.getlocal(f, i) end
    if info.isvararg then params[#params + 1] = "..." end
    write(("a Lua function (%s), defined at %s:%d; no help for it\n")
      :format(table.concat(params, ", "), info.short_src, info.linedefined))
  else
    write("a C function that is not part of net; no help for it\n")
  end
end

--- help(object): the methods of an object (its metatable's __index).
local function show_object(v)
  local mt = getmetatable(v)
  local idx = type(mt) == "table" and rawget(mt, "__index")
  if type(idx) ~= "table" then return false end
  local kind, names = kind_of(mt), {}
  for k in next, idx do
    if type(k) == "string" and not k:match("^__") then names[#names + 1] = k end
  end
  table.sort(names)
  local out = { ("%s: methods"):format(tostring(v)) }
  for _, k in ipairs(names) do
    local e = (kind and BY_NAME[kind .. ":" .. k]) or by_short(k)[1]
    out[#out + 1] = e and list_line(e) or ("  :" .. k .. "()")
  end
  write(table.concat(out, "\n"), "\n")
  return true
end

--- help(net.ip): the functions of one part of net, one line each.
local function show_part(part)
  local out = { part .. ":" }
  for _, g in ipairs(GROUPS) do
    for _, e in ipairs(g.entries) do
      if e.name:sub(1, #part + 1) == part .. "." and exists(e) then
        out[#out + 1] = list_line(e)
      end
    end
  end
  write(table.concat(out, "\n"), "\n")
end

--- help(name): by full name, "ip.parse", or the last part ("receive").
local function show_name(s)
  local e = BY_NAME[s] or BY_NAME["net." .. s] or BY_NAME[s:gsub("^%a+:", "conn:")]
  if e and not exists(e) then -- kept for later, not built yet
    write("no help for ", ("%q"):format(s), " (not in this netlua); help() lists everything\n")
    return
  end
  local found = e and { e } or by_short(s:match("([%w_]+)$") or s)
  if #found == 0 and s:match("^[%w_.]+$") then
    local part = s:match("^net%.") and s or "net." .. s
    for name, x in pairs(BY_NAME) do
      if name:sub(1, #part + 1) == part .. "." and exists(x) then return show_part(part) end
    end
  end
  if #found == 0 then
    write("no help for ", ("%q"):format(s), "; help() lists everything\n")
  end
  for i, x in ipairs(found) do
    if i > 1 then write("\n") end
    show_entry(x)
  end
end

--- help(x), what it writes gathered by write().
local function dispatch(x)
  local tx = type(x)
  if x == nil or x == package.loaded.net then return show_all() end
  if tx == "string" and TOPIC[x] then return show_topic(TOPIC[x]) end
  if tx == "string" then return show_name(x) end
  if tx == "function" then
    local found = function_entries(x)
    if #found == 0 then return show_other_function(x) end
    for i, e in ipairs(found) do
      if i > 1 then write("\n") end
      show_entry(e)
    end
    return
  end
  if x == M then return show_entry(BY_NAME.help) end
  if tx == "table" then -- a callable part (net.serve, net.relay ...): its entry
    for name, e in pairs(BY_NAME) do
      if name:match("^net%.[%w_]+$") and resolve(name) == x and exists(e) then return show_entry(e) end
    end
  end
  if tx == "table" then -- a part of net: net.ip, net.dns ...
    for name in pairs(BY_NAME) do
      local part = name:match("^(net%.[%w_]+)%.")
      if part and resolve(part) == x then return show_part(part) end
    end
  end
  if show_object(x) then return end
  write("no help for a ", tx, " value; help() lists everything\n")
end

--- help(x): see the top of the file.
function M.help(x)
  pending = {}
  local ok, err = pcall(dispatch, x)
  local text = table.concat(pending)
  pending = {}
  emit(text)
  if not ok then error(err, 0) end
end

M.groups = GROUPS

return setmetatable(M, { __call = function(_, ...) return M.help(...) end })
