-- net.smtp: an SMTP client (RFC 5321) over `net` connections: a session
-- whose commands return the server's reply, and send{}, which delivers one
-- message (headers built, body dot-stuffed, CR/LF injection refused).
--
-- Entry points:
--   smtp.open(host, port [, opts]) -> session, or nil, message
--       connects and reads the greeting (220). A failure to connect, or
--       a greeting that is not 220, gives nil and a message naming
--       HOST:PORT and the cause (the server's code and text); the
--       connection is then closed. opts: timeout (seconds for each
--       command, default 60), trace (true | function | file | path, see
--       net.transcript), helo (our name, default net.hostname() or
--       "localhost"), tls (true | "tls" | a table of TLS options: TLS from
--       the start, as on port 465; "starttls": send() upgrades after EHLO
--       and fails if the server does not offer it), tlsopts (TLS options,
--       help("tls"), for either mode).
--   session:ehlo([name]) session:helo([name]) session:mail(from [, params])
--   session:rcpt(to) session:data(message) session:rset() session:noop()
--   session:quit() session:command(text) session:starttls([tlsopts])
--       each sends one command and returns code, lines: the reply's code
--       (an integer) and the text of each of its lines (a list). A network
--       failure or a malformed reply gives nil, message ("timeout",
--       "closed", 'malformed reply: "..."'...), lines so far, and closes
--       the connection (the dialogue is out of step). ehlo fills
--       session.extensions (KEYWORD -> parameters, "" when none; empty
--       unless the reply is 250). data sends DATA and, after a 354, the
--       message (see encode) and returns the final reply; another code
--       than 354 is returned as it is. quit closes the connection after
--       the reply.
--   session:auth(user, password [, mechanism | opts]) -> code, lines
--       AUTH PLAIN or LOGIN (RFC 4954), chosen from the EHLO AUTH list
--       (PLAIN first) unless mechanism (or opts.mechanism) names one:
--       235 on success, the server's refusal (535 ...) as it is. Refused by
--       netlua, before anything is sent, on a connection that is not TLS:
--       nil, "smtp HOST:PORT: refusing to send the password over a clear
--       connection ...", unless opts.cleartext = true (then the password
--       crosses the network readable by anyone on the path). Also nil,
--       message when the server offers no AUTH or not the mechanism. The
--       transcript (trace) shows the base64 of the credentials, which is
--       the password in the clear to anyone who reads it.
--   session:close()              closes the connection (idempotent)
--   smtp.send{server=, port=, from=, to=, cc=, bcc=, subject=, headers=,
--             body=, timeout=, trace=, helo=, tls=, tlsopts=, user=, password=,
--             mechanism=, cleartext=} -> true, final reply text
--       user and password: AUTH after EHLO (session:auth; refused
--       unless tls is "tls" or "starttls", or cleartext = true)
--       or nil, message (see send below).
--   smtp.encode(message) -> the DATA bytes: CRLF line ends, dot-stuffed,
--       a final CRLF, then ".\r\n"
--   smtp.address(text) -> the envelope address "a@b" of "a@b", "<a@b>" or
--       "Name <a@b>" (raises for anything else)
--   smtp.replytext(code, lines) -> "250 OK" (lines joined with " / ")
--
-- Programmer errors raise, naming the argument: a CR, LF or NUL in any
-- command argument, address, subject, header name or value (checked before
-- anything is sent; for send, before connecting), wrong types.
local net = require "net"
local dialogue = require "net.dialogue"
local transcript = require "net.transcript"

local M = {}
local Session = {}
Session.__index = Session

local DEFAULT_TIMEOUT = 60

-- Read one reply on conn. The one place that reads replies: it becomes
-- conn:reply() when the connection has that method.
local function readreply(conn)
  return dialogue.reply(conn)
end

-- s quoted for an error message, control bytes visible (one line).
local function shown(s)
  return '"' .. transcript.visible(tostring(s)) .. '"'
end

-- Raise unless s is free of CR, LF and NUL (what ends or splits a command
-- or a header). what names the argument in the error.
local function checkline(s, what, fname)
  if type(s) ~= "string" then
    error(string.format("bad argument %s to '%s' (string expected, got %s)", what, fname, type(s)), 3)
  end
  if s:find("[\r\n%z]") then
    error(string.format("bad argument %s to '%s' (CR, LF or NUL not allowed: %s)", what, fname, shown(s)), 3)
  end
  return s
end

-- Like checkline for a password: the message never shows it.
local function checksecret(s, what, fname)
  if type(s) ~= "string" then
    error(string.format("bad argument %s to '%s' (string expected, got %s)", what, fname, type(s)), 3)
  end
  if s:find("[\r\n%z]") then
    error(string.format("bad argument %s to '%s' (CR, LF or NUL not allowed)", what, fname), 3)
  end
  return s
end

-- The envelope address inside "a@b", "<a@b>" or "Name <a@b>", or nil.
local function parseaddress(text)
  local inner = text:match("^[^<>]-%s*<([^<>]*)>%s*$")
  if inner then
    if inner:find("%s") then return nil end
    return inner
  end
  local bare = text:match("^%s*(%S+)%s*$")
  if bare and not bare:find("[<>]") then return bare end
  return nil
end

-- smtp.address(text) -> envelope address (see the top).
function M.address(text, what, fname)
  what, fname = what or "#1", fname or "address"
  checkline(text, what, fname)
  local a = parseaddress(text)
  if not a or a == "" then
    error(string.format("bad argument %s to '%s' (not an address: %s)", what, fname, shown(text)), 2)
  end
  return a
end

-- smtp.replytext(code, lines) -> "CODE text / text".
function M.replytext(code, lines)
  local text = table.concat(lines or {}, " / ")
  return text ~= "" and code .. " " .. text or tostring(code)
end

-- smtp.encode(message) -> the DATA bytes (see the top).
function M.encode(message)
  if type(message) ~= "string" then
    error("bad argument #1 to 'data' (string expected, got " .. type(message) .. ")", 2)
  end
  local s = message:gsub("\r\n", "\n"):gsub("\r", "\n")
  s = ("\n" .. s):gsub("\n%.", "\n.."):sub(2)
  if s ~= "" and s:sub(-1) ~= "\n" then s = s .. "\n" end
  return (s:gsub("\n", "\r\n")) .. ".\r\n"
end

-- The place where TLS plugs in: option tls (and tlsopts, TLS options as
-- net.connect takes them) -> the mode ("tls": implicit TLS at open, as on
-- port 465; "starttls": STARTTLS after EHLO, never falling back to plain)
-- and the options for net.connect / conn:starttls; nil for plain. `arg`
-- names the option in errors ("#3 (option 'tls')" or "'tls'").
local function tlslayer(how, tlsopts, arg, fname)
  if tlsopts ~= nil and type(tlsopts) ~= "table" then
    error("bad argument " .. arg:gsub("tls", "tlsopts") .. " to '" .. fname .. "' (table expected)", 3)
  end
  if how == nil or how == false then return nil end
  if how == true or how == "tls" then return "tls", tlsopts or true end
  if how == "starttls" then return "starttls", tlsopts end
  if type(how) == "table" then return "tls", how end
  error("bad argument " .. arg .. " to '" .. fname .. "' (\"tls\", \"starttls\" or a table of TLS options expected)", 3)
end

-- A failure of the dialogue: close the connection, pass the failure on.
local function broken(s, err, lines)
  s:close()
  return nil, err or "closed", lines
end

-- Send bytes, then read one reply; code, lines or nil, message, lines.
local function exchange(s, bytes)
  if not s.conn then return nil, "closed" end
  local ok, err = s.conn:send(bytes)
  if not ok then return broken(s, err) end
  local code, lines, more = readreply(s.conn)
  if not code then return broken(s, lines, more) end
  return code, lines
end

-- session:command(text): send one raw command line, read the reply.
function Session:command(text)
  checkline(text, "#1", "command")
  return exchange(self, text .. "\r\n")
end

-- The name to greet with: name, or the session's default; checked.
local function greetname(s, name, fname)
  name = name or s.name
  checkline(name, "#1", fname)
  if name == "" or name:find("%s") then
    error("bad argument #1 to '" .. fname .. "' (not a host name: " .. shown(name) .. ")", 3)
  end
  return name
end

-- Parse EHLO reply lines (after the first) into KEYWORD -> parameters.
local function extensions(lines)
  local ext = {}
  for i = 2, #lines do
    local kw, params = lines[i]:match("^%s*(%S+)%s*(.-)%s*$")
    if kw then ext[kw:upper()] = params end
  end
  return ext
end

-- session:ehlo([name]) -> code, lines; fills session.extensions.
function Session:ehlo(name)
  name = greetname(self, name, "ehlo")
  self.extensions = {}
  local code, lines, more = self:command("EHLO " .. name)
  if code == 250 then self.extensions = extensions(lines) end
  return code, lines, more
end

-- session:helo([name]) -> code, lines.
function Session:helo(name)
  name = greetname(self, name, "helo")
  self.extensions = {}
  return self:command("HELO " .. name)
end

-- The parameters of MAIL FROM as " P1 P2" from a string or a list.
local function mailparams(params)
  if params == nil then return "" end
  if type(params) == "string" then
    checkline(params, "#2", "mail")
    return params ~= "" and " " .. params or ""
  end
  if type(params) ~= "table" then
    error("bad argument #2 to 'mail' (string or list expected, got " .. type(params) .. ")", 3)
  end
  local out = {}
  for i, p in ipairs(params) do out[i] = checkline(p, "#2 (item " .. i .. ")", "mail") end
  return #out > 0 and " " .. table.concat(out, " ") or ""
end

-- session:mail(from [, params]) -> code, lines. from "" or "<>" is the
-- null sender (for bounces).
function Session:mail(from, params)
  local a = (from == "" or from == "<>") and "" or M.address(from, "#1", "mail")
  return self:command("MAIL FROM:<" .. a .. ">" .. mailparams(params))
end

-- session:rcpt(to) -> code, lines.
function Session:rcpt(to)
  return self:command("RCPT TO:<" .. M.address(to, "#1", "rcpt") .. ">")
end

-- session:data(message) -> the final reply (or the reply to DATA if it
-- is not 354).
function Session:data(message)
  local bytes = M.encode(message)
  local code, lines, more = self:command("DATA")
  if code ~= 354 then return code, lines, more end
  return exchange(self, bytes)
end

-- session:rset() -> code, lines.
function Session:rset() return self:command("RSET") end

-- session:noop() -> code, lines.
function Session:noop() return self:command("NOOP") end

-- session:quit() -> code, lines; the connection is closed afterwards.
function Session:quit()
  local code, lines, more = self:command("QUIT")
  self:close()
  return code, lines, more
end

-- session:starttls([tlsopts]) -> code, lines: STARTTLS, and on 220 the
-- TLS handshake (conn:starttls, verified by default); EHLO again after it.
-- Another reply is returned as it is; a failed handshake closes the session
-- and gives nil, message.
function Session:starttls(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'starttls' (table expected, got " .. type(opts) .. ")", 2)
  end
  local code, lines, more = self:command("STARTTLS")
  if code ~= 220 then return code, lines, more end
  local ok, err = self.conn:starttls(opts)
  if not ok then
    self:close()
    return nil, err, lines
  end
  self.extensions = {}
  return code, lines
end

-- The AUTH mechanisms the server offers (EHLO "AUTH PLAIN LOGIN", or the
-- old "AUTH=PLAIN LOGIN"), upper case: name -> true.
local function authlist(s)
  local out, any = {}, false
  for kw, params in pairs(s.extensions or {}) do
    local rest = kw == "AUTH" and params or kw:match("^AUTH=(.*)$") and (kw:sub(6) .. " " .. params)
    if rest then
      for m in rest:gmatch("[^%s=]+") do out[m:upper()] = true; any = true end
    end
  end
  return any and out or nil
end

-- session:auth(user, password [, mechanism | opts]) -> code, lines (235 on
-- success), or nil, message (refused before sending: not TLS, no AUTH, an
-- unknown mechanism).
function Session:auth(user, password, how)
  checkline(user, "#1", "auth")
  checksecret(password, "#2", "auth")
  local opts = type(how) == "table" and how or { mechanism = how }
  if opts.mechanism ~= nil and type(opts.mechanism) ~= "string" then
    error("bad argument #3 to 'auth' (mechanism name or table expected)", 3)
  end
  if not self.conn then return nil, "closed" end
  local offered = authlist(self)
  local mech = opts.mechanism and opts.mechanism:upper()
  if mech and mech ~= "PLAIN" and mech ~= "LOGIN" then
    error("bad argument #3 to 'auth' (mechanism \"PLAIN\" or \"LOGIN\" expected, got " .. shown(mech) .. ")", 3)
  end
  if not self.conn:tlsinfo() and not opts.cleartext then
    return nil, "smtp " .. self.where .. ": refusing to send the password over a clear (not TLS) connection;"
      .. " use tls = \"starttls\" or \"tls\" (or cleartext = true to send it readable anyway)"
  end
  if not offered then
    return nil, "smtp " .. self.where .. ": the server offers no AUTH (after EHLO)"
  end
  if mech and not offered[mech] then
    return nil, "smtp " .. self.where .. ": the server does not offer AUTH " .. mech
  end
  mech = mech or (offered.PLAIN and "PLAIN") or (offered.LOGIN and "LOGIN")
  if not mech then
    local names = {}
    for m in pairs(offered) do names[#names + 1] = m end
    table.sort(names)
    return nil, "smtp " .. self.where .. ": no AUTH mechanism netlua knows (PLAIN, LOGIN) among "
      .. table.concat(names, " ")
  end
  self.authmech = mech
  local b64 = require("net.http").base64
  if mech == "PLAIN" then
    return self:command("AUTH PLAIN " .. b64("\0" .. user .. "\0" .. password))
  end
  local code, lines, more = self:command("AUTH LOGIN")
  if code ~= 334 then return code, lines, more end
  code, lines, more = self:command(b64(user))
  if code ~= 334 then return code, lines, more end
  return self:command(b64(password))
end

-- session:close(): close the connection; a second close does nothing.
function Session:close()
  if self.conn then
    self.conn:close()
    self.conn = nil
  end
  return true
end

Session.__close = Session.close
Session.__gc = Session.close

-- "host:port" with brackets around an IPv6 address.
local function hostport(host, port)
  if host:find(":", 1, true) then return "[" .. host .. "]:" .. port end
  return host .. ":" .. port
end

-- Check the options of open (or of send, fname "send"); returns timeout,
-- helo name.
local function openopts(opts, fname)
  fname = fname or "open"
  local function arg(k) return fname == "send" and "'" .. k .. "'" or "#3 (option '" .. k .. "')" end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #3 to 'open' (table expected, got " .. type(opts) .. ")", 3)
  end
  opts = opts or {}
  local t = opts.timeout or DEFAULT_TIMEOUT
  if type(t) ~= "number" or t ~= t or t < 0 then
    error("bad argument " .. arg("timeout") .. " to '" .. fname .. "' (number >= 0 expected)", 3)
  end
  local name = opts.helo or net.hostname() or "localhost"
  checkline(name, arg("helo"), fname)
  if name == "" or name:find("%s") then
    error("bad argument " .. arg("helo") .. " to '" .. fname .. "' (not a host name: " .. shown(name) .. ")", 3)
  end
  local mode, tlsopts = tlslayer(opts.tls, opts.tlsopts, arg("tls"), fname)
  return t, name, mode, tlsopts
end

-- smtp.open(host, port [, opts]) -> session, or nil, message.
function M.open(host, port, opts)
  local timeout, name, mode, tlsopts = openopts(opts)
  local where = hostport(tostring(host), tostring(port))
  -- the transcript (opts.trace) starts with net.connect's own events:
  -- connecting, connected, TLS, or the failure
  local conn, err = net.connect(host, port, { timeout = timeout, trace = (opts or {}).trace,
    tls = mode == "tls" and tlsopts or nil })
  if not conn then return nil, err end
  local s = setmetatable({ conn = conn, host = host, port = port, where = where,
    timeout = timeout, name = name, extensions = {}, tlsmode = mode, tlsopts = tlsopts }, Session)
  local code, lines = readreply(conn)
  if code == 220 then return s end
  s:close()
  if not code then return nil, "smtp " .. where .. ": greeting: " .. lines end
  return nil, "smtp " .. where .. ": greeting refused: " .. M.replytext(code, lines)
end

-- ---- send -------------------------------------------------------------

-- A list of strings from a string or a list (checked), for send's `field`.
local function list(v, field)
  if v == nil then return {} end
  if type(v) == "string" then v = { v } end
  if type(v) ~= "table" then
    error("bad argument '" .. field .. "' to 'send' (string or list expected, got " .. type(v) .. ")", 3)
  end
  local out = {}
  for i, x in ipairs(v) do
    out[i] = checkline(x, "'" .. field .. "' (item " .. i .. ")", "send")
  end
  return out
end

-- host, port from "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6
-- address; port when the text has none (raises on a conflict or a bad port).
local function splitserver(server, port)
  local host, p = server:match("^%[(.+)%]:(%d+)$")
  if not host then host = server:match("^%[(.+)%]$") end
  if not host then host, p = server:match("^([^:]+):(%d+)$") end
  host = host or server
  p = tonumber(p)
  if p and port and p ~= port then
    error("bad argument 'port' to 'send' (" .. port .. " but server says " .. server .. ")", 3)
  end
  p = p or port or 25
  if math.type(p) ~= "integer" or p < 1 or p > 65535 then
    error("bad argument 'port' to 'send' (port 1-65535 expected)", 3)
  end
  return host, p
end

-- Raise unless name is a header field name (printable ASCII, no colon).
local function checkname(name)
  if type(name) ~= "string" or name == "" or name:find("[^\33-\57\59-\126]") then
    error("bad argument 'headers' to 'send' (not a header name: " .. shown(name) .. ")", 4)
  end
end

-- The message-ID for a message from host: <random.timestamp@host>.
local function messageid(host)
  return string.format("<%08x%08x.%d@%s>", math.random(0, 0x7fffffff),
    math.random(0, 0x7fffffff), os.time(), host)
end

-- The header lines of the message for send's arguments t.
local function buildheaders(t, to, cc, name)
  local given, extra = {}, {}
  for k, v in pairs(t.headers or {}) do
    checkname(k)
    checkline(v, "'headers' (" .. k .. ")", "send")
    if k:lower() == "bcc" then
      error("bad argument 'headers' to 'send' (no Bcc header: use bcc=)", 3)
    end
    given[k:lower()] = true
    extra[#extra + 1] = k
  end
  table.sort(extra)
  local h = {}
  local function add(k, v) if v and not given[k:lower()] then h[#h + 1] = k .. ": " .. v end end
  add("Date", os.date("!%a, %d %b %Y %H:%M:%S +0000"))
  add("From", t.from)
  add("To", #to > 0 and table.concat(to, ", ") or nil)
  add("Cc", #cc > 0 and table.concat(cc, ", ") or nil)
  add("Subject", t.subject)
  add("Message-ID", messageid(name))
  for _, k in ipairs(extra) do h[#h + 1] = k .. ": " .. t.headers[k] end
  return h
end

-- Check send's arguments; returns the job: host, port, from, rcpts,
-- message and the options for open.
local function prepare(t)
  if type(t) ~= "table" then
    error("bad argument #1 to 'send' (table expected, got " .. type(t) .. ")", 3)
  end
  checkline(t.server, "'server'", "send")
  if t.port ~= nil and math.type(t.port) ~= "integer" then
    error("bad argument 'port' to 'send' (integer expected)", 3)
  end
  local host, port = splitserver(t.server, t.port)
  local from = M.address(checkline(t.from, "'from'", "send"), "'from'", "send")
  local to, cc, bcc = list(t.to, "to"), list(t.cc, "cc"), list(t.bcc, "bcc")
  local rcpts = {}
  for _, group in ipairs { { to, "to" }, { cc, "cc" }, { bcc, "bcc" } } do
    for _, a in ipairs(group[1]) do rcpts[#rcpts + 1] = M.address(a, "'" .. group[2] .. "'", "send") end
  end
  if #rcpts == 0 then error("bad argument 'to' to 'send' (no recipient)", 3) end
  if t.subject ~= nil then checkline(t.subject, "'subject'", "send") end
  if t.headers ~= nil and type(t.headers) ~= "table" then
    error("bad argument 'headers' to 'send' (table expected, got " .. type(t.headers) .. ")", 3)
  end
  local body = t.body or ""
  if type(body) ~= "string" then error("bad argument 'body' to 'send' (string expected)", 3) end
  if t.user ~= nil or t.password ~= nil then
    checkline(t.user, "'user'", "send")
    checksecret(t.password, "'password'", "send")
  end
  local opts = { timeout = t.timeout, trace = t.trace, helo = t.helo, tls = t.tls, tlsopts = t.tlsopts }
  local timeout, name = openopts(opts, "send")
  opts.timeout, opts.helo = timeout, name
  local message = table.concat(buildheaders(t, to, cc, name), "\r\n") .. "\r\n\r\n" .. body
  return { host = host, port = port, from = from, rcpts = rcpts, message = message, opts = opts,
    user = t.user, password = t.password, auth = { mechanism = t.mechanism, cleartext = t.cleartext } }
end

-- Say hello: EHLO, then HELO if EHLO is refused. nil, message on failure.
local function greet(s)
  local code, lines = s:ehlo()
  if code and code ~= 250 and code >= 500 then code, lines = s:helo() end
  if code == 250 and s.tlsmode == "starttls" and not s.tlsdone then  -- never falls back to plain
    if not s.extensions.STARTTLS then return nil, "smtp " .. s.where .. ": the server does not offer STARTTLS" end
    code, lines = s:starttls(s.tlsopts)
    if not code then return nil, lines end
    if code ~= 220 then return nil, "STARTTLS rejected: " .. M.replytext(code, lines) end
    s.tlsdone = true
    return greet(s)
  end
  if code == 250 then return true end
  if not code then return nil, "EHLO: " .. lines end
  return nil, "EHLO " .. s.name .. " rejected: " .. M.replytext(code, lines)
end

-- One step of the transaction: true if the reply is want, else nil and a
-- message naming the command (what) and the server's reply or the failure.
local function step(what, want, code, lines)
  if code == want then return true end
  if not code then return nil, what .. ": " .. lines end
  return nil, what .. " rejected: " .. M.replytext(code, lines)
end

-- The envelope: MAIL, then every RCPT. Any refused recipient fails the
-- whole send (before DATA, so no one gets the message), all named.
local function envelope(s, job)
  local ok, err = step("MAIL FROM:<" .. job.from .. ">", 250, s:mail(job.from))
  if not ok then return nil, err end
  local refused = {}
  for _, a in ipairs(job.rcpts) do
    local code, lines = s:rcpt(a)
    if not code or code >= 300 then
      ok, err = step("RCPT TO:<" .. a .. ">", 250, code, lines)
      if not code then return nil, err end
      refused[#refused + 1] = err
    end
  end
  if #refused > 0 then return nil, table.concat(refused, "; ") end
  return true
end

-- smtp.send{...} -> true, final reply text, or nil, message.
-- The message gets Date, From, To, Cc, Subject and Message-ID unless
-- headers has them, then headers (sorted by name); never a Bcc header.
-- Envelope recipients: to, cc and bcc. If the server refuses the sender or
-- any recipient, nothing is sent (RSET, QUIT) and the message names each
-- refusal: 'RCPT TO:<x@y> rejected: 550 5.1.1 no such user'.
function M.send(t)
  local job = prepare(t)
  local s, err = M.open(job.host, job.port, job.opts)
  if not s then return nil, err end
  local ok, code, lines
  ok, err = greet(s)
  if ok and job.user then
    local c, l = s:auth(job.user, job.password, job.auth)
    if not c then ok, err = nil, l
    else ok, err = step("AUTH " .. (s.authmech or "") .. " as " .. job.user, 235, c, l) end
  end
  if ok then ok, err = envelope(s, job) end
  if ok then
    code, lines = s:data(job.message)
    ok, err = step("DATA", 250, code, lines)
  end
  if not ok and s.conn then s:rset() end
  if s.conn then s:quit() end
  s:close()
  if not ok then return nil, err end
  return true, M.replytext(code, lines)
end

-- fn with its argument errors raised at the level
-- of its caller: the checks sit at various depths, the error must name the
-- user's line. Any other error (a bug) passes on untouched.
local notice = package.loaded["net.notice"] or function() end
local function api(fn)
  return function(...)
    local r = table.pack(pcall(fn, ...))
    if r[1] then
      -- at the prompt a failure says so by itself (netaux.h, "net.notice")
      if r[2] == nil and type(r[3]) == "string" then notice(r[3]) end
      return table.unpack(r, 2, r.n)
    end
    local msg = r[2]
    -- raised at level 3 from a check called by fn, called by pcall: no
    -- position then, or smtp.lua's when the check sits deeper
    local own = type(msg) == "string" and (msg:match("^bad argument .*$")
      or msg:match("^[^\n]-smtp%.lua:%d+: (bad argument .*)$"))
    if own then error(own, 2) end
    error(msg, 0)
  end
end

for _, k in ipairs { "ehlo", "helo", "mail", "rcpt", "data", "command", "starttls", "auth" } do
  Session[k] = api(Session[k])
end
for _, k in ipairs { "open", "send", "encode", "address" } do M[k] = api(M[k]) end

return M
