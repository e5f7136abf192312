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

The texts follow the contract in DESIGN.md. Only what exists is shown:
an entry named net.X is listed only while net.X is there, so the texts of
parts not built yet (net.http, net.smtp) wait here, hidden, until they
land. help returns nothing; it writes on io.stdout.
]]

local M = {}

-- Each entry: name, sig (with -> results), text (one line), returns,
-- example; grouped in the order help() shows them.
local GROUPS = {
  { title = "Connections (TCP)", part = "tcp", entries = {
    { name = "net.connect", sig = "net.connect(host, port [, opts]) -> conn",
      text = "open a TCP connection",
      more = "Every address of host is tried (IPv6 and IPv4, Happy Eyeballs); IP literals (\"::1\", \"[::1]\", \"fe80::1%lo\") are never sent to DNS. opts: timeout (seconds >= 0 for the whole call, name resolution included; nil: none), family (\"inet\" | \"inet6\"), localaddr, localport, linelimit, tls (see help(\"tls\"))",
      returns = "a connection; on failure nil and a message naming host, port and cause, e.g. \"connect example.org:81 (93.184.216.34): connection refused\", or \"timeout\"",
      example = 'c = net.connect("example.org", 80)' },
    { name = "net.listen", sig = "net.listen(host, port [, opts]) -> server",
      text = "listen for TCP connections",
      more = "host \"*\" listens on every address, port 0 on any free port (see s:getsockname()). opts: backlog, family, timeout (default for accept), linelimit, tls = {cert, key [, ca, alpn, minversion]} (accept does the handshake; a client that fails it makes accept return nil, \"tls client ADDR: ...\" and the server goes on)",
      returns = "a server; on failure nil and a message (\"address already in use\" ...)",
      example = 's = net.listen("127.0.0.1", 8080)' },
    { name = "tls", sig = "opts.tls = true | {verify, ca, servername, alpn, cert, key, minversion}",
      text = "TLS for net.connect (and net.listen, c:starttls)",
      more = "Verified by default: the chain against the system store (SSL_CERT_FILE, SSL_CERT_DIR honoured) or ca (a file or directory), and the name (host, or servername; SNI is sent for names). verify = false connects anyway and says NOT VERIFIED in tostring(c), c:tlsinfo() and the transcript. alpn: a list like {\"h2\", \"http/1.1\"}; cert, key: a client certificate; minversion: \"1.2\" | \"1.3\". The handshake shares connect's deadline.",
      returns = "on failure nil and a message, e.g. \"tls example.org:443 (93.184.216.34): certificate verify failed: certificate has expired (notAfter ...)\"",
      example = 'c = net.connect("example.org", 443, {tls = true})' },
  } },
  { title = "Connection methods (c = net.connect(...) or s:accept())", part = "conn", entries = {
    { name = "conn:send", sig = "c:send(data) -> bytes",
      text = "send all of data, waiting as needed",
      more = "Ctrl-C (or any error) while a send waits closes the connection: part of the data may have gone, and how much cannot be returned. A timeout leaves it open.",
      returns = "the number of bytes sent (all of them); on failure nil, message, bytes sent before it (\"closed\", \"timeout\")",
      example = 'c:send("GET / HTTP/1.1\\r\\nHost: example.org\\r\\n\\r\\n")' },
    { name = "conn:receive", sig = "c:receive([pattern]) -> data",
      text = "read a line, n bytes, or all until close",
      more = "pattern: \"l\" a line without its end (the default), \"L\" a line with its end, \"a\" everything until the peer closes, a number n exactly n bytes; \"*l\" and \"*a\" are accepted too. Ctrl-C while it waits leaves the connection open and what was read so far buffered for the next receive.",
      returns = "the data; on failure nil, message, partial data read before it (\"closed\", \"timeout\")",
      example = 'line = c:receive()        -- or c:receive("a"), c:receive(512)' },
    { name = "conn:lines", sig = "c:lines() -> iterator",
      text = "iterate over the lines received",
      returns = "an iterator for a generic for; errors other than the end raise",
      example = "for line in c:lines() do print(line) end" },
    { name = "conn:expect", sig = "c:expect(pattern [, timeout]) -> captures",
      text = "read lines until one matches a pattern",
      returns = "the pattern's captures (or the whole line); on failure nil, message (naming the lines read), partial",
      example = 'code = c:expect("^(%d%d%d) ")' },
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
      more = "a longer line is an error, never unbounded memory",
      returns = "true",
      example = "c:setlinelimit(1024 * 1024)" },
    { name = "conn:trace", sig = "c:trace([on | function | file])",
      text = "show the dialogue as a transcript",
      more = "\"<- \" what the peer said, \" -> \" what was sent, \"*** \" events (connected, closed); on stderr, to a file, or to your function",
      returns = "true; c:trace(false) stops it",
      example = "c:trace(true)" },
    { name = "conn:settrace", sig = "c:settrace(handler | nil) -> true",
      text = "call handler(what, data, conn) after each event",
      more = "what is \"send\", \"receive\", \"shutdown\" or \"close\"; c:trace() builds such a handler from net.trace",
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
    { name = "server:accept", sig = "s:accept([timeout]) -> conn",
      text = "wait for the next client",
      returns = "a connection; on failure nil, message (\"timeout\", \"closed\")",
      example = "c = s:accept(); c:send(\"hello\\n\"); c:close()" },
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
    { name = "udp:receive", sig = "u:receive([size]) -> datagram",
      text = "wait for one datagram",
      returns = "the datagram; on failure nil, message (\"timeout\")",
      example = "d = u:receive()" },
    { name = "udp:sendto", sig = "u:sendto(data, host, port) -> bytes",
      text = "send one datagram to host:port",
      returns = "bytes sent; on failure nil, message",
      example = 'u:sendto("ping", "127.0.0.1", 9999)' },
    { name = "udp:receivefrom", sig = "u:receivefrom([size]) -> datagram, host, port",
      text = "wait for one datagram, and its sender",
      returns = "the datagram, the sender's address and port; on failure nil, message",
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
    { name = "udp:close", sig = "u:close() -> true",
      text = "close the socket",
      returns = "true; nil, \"closed\" if it was closed already",
      example = "u:close()" },
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
      returns = "its table; nil, \"no interface NAME\" when there is none",
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
    { name = "net.tasks", sig = "net.tasks() -> n",
      text = "how many tasks have not finished",
      returns = "a number",
      example = "net.tasks()" },
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
      more = "opts as for net.http.request: timeout, redirects, headers, sink, trace",
      returns = "the status code, headers (any case), the body (its size with opts.sink) and the reason; on failure nil, message, kind",
      example = 'status, headers, body = net.http.get("http://127.0.0.1:8080/")' },
    { name = "net.http.request", sig = "net.http.request{url, method, headers, body, ...} -> status, headers, body, reason",
      text = "any HTTP/1.1 request",
      more = "also timeout (seconds for the whole request, 60), redirects (true or a hop count; off by default), sink (function, file or path: the body is streamed there), trace (true or a function), tls (options for https, help(\"tls\"); https is verified by default)",
      returns = "the status code, headers (any case), the body (its size with a sink) and the reason; on failure nil, message, kind",
      example = 'net.http.request{ url = "http://127.0.0.1:8080/", method = "POST", body = "x=1" }' },
    { name = "net.http.serve", sig = "net.http.serve(host, port, handler)",
      text = "a small HTTP server",
      more = "handler(request) returns status, headers, body",
      returns = "the server",
      example = 'net.http.serve("127.0.0.1", 8080, function(req) return 200, {}, "hello\\n" end)' },
    { name = "net.smtp.send", sig = "net.smtp.send{server, from, to, headers, body} -> true",
      text = "send one mail",
      more = "dot-stuffing is done; CR or LF inside addresses or headers is refused. tls = \"starttls\" (upgrade after EHLO; no fallback to plain) or \"tls\" (TLS from the start, port 465), tlsopts = TLS options (help(\"tls\"))",
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
  io.write(table.concat(out, "\n"), "\n")
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
  io.write(table.concat(out, "\n"), "\n")
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
    io.write(std, " is part of Lua itself: see https://www.lua.org/manual/5.4/manual.html#6\n")
    return
  end
  local info = debug.getinfo(f, "Su")
  if info.what == "Lua" then
    local params = {}
    for i = 1, info.nparams do params[i] = debug.getlocal(f, i) end
    if info.isvararg then params[#params + 1] = "..." end
    io.write(("a Lua function (%s), defined at %s:%d; no help for it\n")
      :format(table.concat(params, ", "), info.short_src, info.linedefined))
  else
    io.write("a C function that is not part of net; no help for it\n")
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
  io.write(table.concat(out, "\n"), "\n")
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
  io.write(table.concat(out, "\n"), "\n")
end

--- help(name): by full name, "ip.parse", or the last part ("receive").
local function show_name(s)
  local e = BY_NAME[s] or BY_NAME["net." .. s] or BY_NAME[s:gsub("^%a+:", "conn:")]
  if e and not exists(e) then -- kept for later, not built yet
    io.write("no help for ", ("%q"):format(s), " (not in this netlua); help() lists everything\n")
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
    io.write("no help for ", ("%q"):format(s), "; help() lists everything\n")
  end
  for i, x in ipairs(found) do
    if i > 1 then io.write("\n") end
    show_entry(x)
  end
end

--- help(x): see the top of the file.
function M.help(x)
  local tx = type(x)
  if x == nil or x == package.loaded.net then return show_all() end
  if tx == "string" then return show_name(x) end
  if tx == "function" then
    local found = function_entries(x)
    if #found == 0 then return show_other_function(x) end
    for i, e in ipairs(found) do
      if i > 1 then io.write("\n") end
      show_entry(e)
    end
    return
  end
  if x == M then return show_entry(BY_NAME.help) end
  if tx == "table" then -- a part of net: net.ip, net.dns ...
    for name in pairs(BY_NAME) do
      local part = name:match("^(net%.[%w_]+)%.")
      if part and resolve(part) == x then return show_part(part) end
    end
  end
  if show_object(x) then return end
  io.write("no help for a ", tx, " value; help() lists everything\n")
end

M.groups = GROUPS

return setmetatable(M, { __call = function(_, ...) return M.help(...) end })
