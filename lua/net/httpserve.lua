-- net.httpserve: the HTTP/1.1 server behind net.http.serve, on net.serve
-- (a task per client), so one slow client never holds the others.
--
--   srv = net.http.serve(host, port, handler [, opts])  -> srv, or nil, message
--   srv:close()   srv:getsockname() -> host, port   srv:clients() -> n
--
-- handler(req) runs for each request, in the client's task, and returns
-- status, headers, body:
--   req.method     "GET", ...            req.version  "1.1" or "1.0"
--   req.target     the request-target as received ("/a%20b?x=1")
--   req.path       the path part of it, raw (still percent-encoded): "/a%20b"
--   req.decoded_path  the same percent-decoded ("/a b"); it may hold "/",
--                  "\" or NUL from %2f, %5c, %00: never use it as a file name
--                  without checking each segment
--   req.query      the raw query string after "?" ("" when there is none)
--   req.params     the query decoded: { name = value } ("+" is a space; a
--                  repeated name keeps its last value)
--   req.headers    case-insensitive, ordered, as net.http's client gives them
--   req.body       the request body ("" when none), by Content-Length or chunked
--   req.peer       "host:port" of the client
--   status         a number 100-999; headers: a table (nil for none) of
--                  name = value, a value a string (or through tostring) or
--                  a list of strings, one field each (two Set-Cookie)
--   body           a string; or a function returning the next chunk, nil or
--                  "" at the end (sent chunked, or until close to HTTP/1.0);
--                  or an open file (streamed with its size, then closed)
-- Content-Length (or Transfer-Encoding: chunked), Date and Server are
-- added (the handler's own Content-Length and Transfer-Encoding are
-- ignored; "Connection: close" from it closes after the reply); HEAD, 1xx,
-- 204 and 304 replies carry no body.
--
-- Keep-alive: HTTP/1.1 connections stay open unless "Connection: close";
-- HTTP/1.0 ones close unless "Connection: keep-alive". An idle connection is
-- closed after opts.idle seconds.
-- Refused requests (the connection is closed after each):
--   400 a malformed request line or header field, a missing or repeated
--       Host in HTTP/1.1, Content-Length with Transfer-Encoding, two
--       different Content-Lengths, a Content-Length that is not digits, a
--       Transfer-Encoding that is not exactly "chunked" (any case, spacing
--       or repetition: smuggling attempts), a bad chunk
--   408 the head and body not read within opts.timeout (slowloris)
--   413 a body over opts.maxbody      431 a header section over opts.maxheader
--   417 an Expect other than 100-continue
--   501 an unknown method, a Transfer-Encoding this server does not know
--   505 an HTTP version other than 1.0 and 1.1
--   500 the handler raised (the traceback goes to stderr, the server goes on)
--       or returned something that is not a reply
-- opts: timeout (seconds to read a request's head and body, default 10),
-- idle (keep-alive idle seconds, default 5), maxbody (bytes, default 1 MiB),
-- maxheader (bytes of request line and header section, default 16 KiB),
-- max, backlog, family (as net.serve), quiet (no stderr report of handler
-- errors), tls = {cert, key, ...} and handshake (as net.serve: HTTPS, each
-- client's handshake in its own task).
local net = require "net"
local serve = require "net.serve"
local received = require("net.headers").received   -- a request's headers, unchecked

local M = {}
local notice = package.loaded["net.notice"] or function() end

M.server_name = "netlua/" .. tostring(net.version)
local LINGER = 1          -- seconds to drain a refused request before closing
local LINGER_BYTES = 1 << 20
local FILE_CHUNK = 65536

local KNOWN_METHODS = { GET = true, HEAD = true, POST = true, PUT = true, DELETE = true,
  OPTIONS = true, PATCH = true, TRACE = true, CONNECT = true }

local REASONS = {
  [100] = "Continue", [101] = "Switching Protocols", [200] = "OK", [201] = "Created",
  [202] = "Accepted", [204] = "No Content", [206] = "Partial Content",
  [301] = "Moved Permanently", [302] = "Found", [303] = "See Other", [304] = "Not Modified",
  [307] = "Temporary Redirect", [308] = "Permanent Redirect", [400] = "Bad Request",
  [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [409] = "Conflict",
  [411] = "Length Required", [413] = "Content Too Large", [414] = "URI Too Long",
  [415] = "Unsupported Media Type", [417] = "Expectation Failed",
  [431] = "Request Header Fields Too Large", [500] = "Internal Server Error",
  [501] = "Not Implemented", [502] = "Bad Gateway", [503] = "Service Unavailable",
  [505] = "HTTP Version Not Supported",
}
M.reasons = REASONS

local TOKEN = "^[!#$%%&'*+%-.^_`|~%w]+$"

-- The request head read and split in C (src/httphead.c).
local httphead = package.loaded["net.httphead"]
local request_head = httphead.request
-- The reply's field lines made in C, and the hold of a last reply (src/httpreply.c).
local httpreply = package.loaded["net.httpreply"]
local reply_fields, reply_last = httpreply.fields, httpreply.last

local SLASH = 47   -- the byte "/"
local OPTS = { timeout = true, idle = true, maxbody = true, maxheader = true, max = true,
  backlog = true, family = true, quiet = true,
  tls = true, handshake = true }

-- A refusal: raised inside reading a request (caught by serve_conn), it
-- becomes a reply with `status` and the connection is closed.
local Refusal = {}
Refusal.__index = Refusal
Refusal.__tostring = function(r) return r.status .. " " .. r.why end

-- Raise a refusal with status and a reason shown in the reply body.
local function refuse(status, why)
  error(setmetatable({ status = status, why = why }, Refusal), 0)
end

-- The time as an HTTP date (IMF-fixdate), cached per second.
local date_sec, date_text
local function http_date()
  local s = os.time()
  if s ~= date_sec then date_sec, date_text = s, os.date("!%a, %d %b %Y %H:%M:%S GMT", s) end
  return date_text
end
M.date = http_date

-- The lines every reply carries unless the handler gave its own:
-- "Date: ..." (made once a second) and "Server: ..." (M.server_name).
local date_line_sec, date_line, server_line, server_line_name
local function standard_fields()
  local s = os.time()
  if s ~= date_line_sec then date_line_sec, date_line = s, "Date: " .. http_date() end
  if server_line_name ~= M.server_name then
    server_line_name, server_line = M.server_name, "Server: " .. tostring(M.server_name)
  end
  return date_line, server_line
end

-- Decode a query component: "+" is a space, %XX a byte.
local function decode_component(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- The table of decoded name = value pairs of a raw query string.
function M.parse_query(q)
  local params = {}
  for pair in q:gmatch("[^&;]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if not k then k, v = pair, "" end
    params[decode_component(k)] = decode_component(v)
  end
  return params
end

-- ---- reading a request ----------------------------------------------

-- A client connection being served: conn, options, the current deadline,
-- the timeout last set on conn (false: none yet).
local Client = {}
Client.__index = Client

-- A client on conn, served with options o and handler; peer: "host:port".
-- deadline: when the current request's reading must be done; idle:
-- seconds to wait for the next request (the first one has the whole
-- timeout).
function Client.new(conn, o, handler, peer)
  return setmetatable({ conn = conn, opts = o, handler = handler, peer = peer,
    deadline = 0, idle = o.timeout, timeout = false }, Client)
end

-- The same Client for the next connection: as new.
function Client:reset(conn, peer)
  self.conn, self.peer, self.deadline, self.idle, self.timeout = conn, peer, 0, self.opts.timeout, false
end
local SPARE = 16   -- Client objects a server keeps for its next connections

-- conn:receive(pattern) under the current deadline; on failure raises a
-- refusal (408 on timeout) or "gone" (the client left: no reply).
function Client:receive(pattern)
  local left = self.deadline - net.now()
  if left <= 0 then refuse(408, "the request took too long") end
  self.timeout = left
  self.conn:settimeout(left)
  local data, err = self.conn:receive(pattern)
  if data then return data end
  if err == "timeout" then refuse(408, "the request took too long") end
  if type(err) == "string" and err:find("line too long", 1, true) then
    refuse(431, "a header line is too long")
  end
  error("gone", 0)
end

-- A new request for client `peer` from the parts of its request line and
-- its header fields (httphead.parse's), its fields all made at once (the
-- body "" until read); refuses what this server does not take.
local function new_request(method, target, major, minor, target_ctl, peer, fields)
  if major ~= 1 then refuse(505, "HTTP/" .. major .. "." .. minor .. " is not supported") end
  if not KNOWN_METHODS[method] then refuse(501, "method " .. method .. " is not implemented") end
  if target_ctl then refuse(400, "control characters in the target") end
  local path = target
  if target:byte(1) == SLASH then  -- origin-form, the common case
    if not target:find("[?%%]") then   -- a plain path: nothing to split or decode
      return { method = method, target = target, version = minor == 1 and "1.1" or "1." .. minor,
        path = target, query = "", decoded_path = target, params = {}, peer = peer,
        headers = received(fields), body = "" }
    end
  elseif target:match("^[Hh][Tt][Tt][Pp][Ss]?://") then  -- absolute-form
    path = target:match("^%a+://[^/?]*(.*)$")
    if path == "" or path:sub(1, 1) == "?" then path = "/" .. path end
  elseif target ~= "*" then
    refuse(400, "the target is not a path")
  end
  local query, decoded = "", nil
  local q = path:find("?", 1, true)
  if q then path, query = path:sub(1, q - 1), path:sub(q + 1) end
  if path:find("%", 1, true) then
    decoded = path:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  end
  return { method = method, target = target, version = minor == 1 and "1.1" or "1." .. minor,
    path = path, query = query, decoded_path = decoded or path,
    params = query == "" and {} or M.parse_query(query), peer = peer, headers = received(fields),
    body = "" }
end

local NONE = {}  -- no values (never written)

-- How the body comes: "length", n or "chunked"; refuses every ambiguity.
local function framing(req, lengths, encodings)
  local cls, tes = lengths or NONE, encodings or NONE
  if #tes > 0 and #cls > 0 then refuse(400, "both Content-Length and Transfer-Encoding") end
  if #tes > 0 then
    if req.version == "1.0" then refuse(400, "Transfer-Encoding in HTTP/1.0") end
    if #tes > 1 then refuse(400, "more than one Transfer-Encoding") end
    if tes[1] == "chunked" then return "chunked" end
    if tes[1]:lower():find("chunked", 1, true) or not tes[1]:match(TOKEN) then
      refuse(400, "an obfuscated Transfer-Encoding")
    end
    refuse(501, "Transfer-Encoding " .. tes[1] .. " is not implemented")
  end
  local n
  for _, v in ipairs(cls) do
    if not v:match("^%d+$") or #v > 15 then refuse(400, "a Content-Length that is not digits") end
    if n and tonumber(v) ~= n then refuse(400, "two different Content-Lengths") end
    n = tonumber(v)
  end
  return "length", n or 0
end

-- Read a chunked body (and its trailers) within the caps.
function Client:read_chunked()
  local parts, total = {}, 0
  while true do
    local line = self:receive("l")
    if #line > 1024 then refuse(400, "a chunk size line too long") end
    local hex = line:match("^(%x+)[ \t]*;") or line:match("^(%x+)$")
    if not hex or #hex > 8 then refuse(400, "a malformed chunk size") end
    local n = tonumber(hex, 16)
    if n == 0 then break end
    total = total + n
    if total > self.opts.maxbody then refuse(413, "the body is larger than " .. self.opts.maxbody .. " bytes") end
    parts[#parts + 1] = self:receive(n)
    if self:receive(2) ~= "\r\n" then refuse(400, "a chunk without its CRLF") end
  end
  self:read_trailers()
  return table.concat(parts)
end

-- Read the trailer fields after a chunked body up to the empty line,
-- capped as a head, checked as header fields, and drop them.
function Client:read_trailers()
  local lines, used = {}, 0
  repeat
    local line = self:receive("l")
    used = used + #line + 2
    if used > self.opts.maxheader then refuse(431, "the trailer section is too large") end
    lines[#lines + 1] = line
  until line == "" or #lines > 1000
  local ok, status, why = httphead.parse(table.concat(lines, "\r\n") .. "\r\n", "fields")
  if not ok then refuse(status, why) end
end

-- Send "100 Continue" when the client waits for it before its body
-- (expect: the Expect values, joined).
function Client:continue(req, expect)
  if not expect then return end
  if expect:lower() ~= "100-continue" then refuse(417, "unknown expectation " .. expect) end
  if req.version == "1.1" then self.conn:send("HTTP/1.1 100 Continue\r\n\r\n") end
end

-- Read one request; returns req and its Connection field's tokens (lower
-- case, "" for none), or nil when the client closed, left or idled out
-- before sending one. Raises refusals.
function Client:read_request()
  local method, target, major, minor, fields, lengths, encodings, hosts, connection, expect, target_ctl,
    deadline = request_head(self.conn, self.opts.maxheader, self.idle, self.opts.timeout)
  if not method then
    if major then refuse(target, major) end   -- the status and the reason
    local why = target
    if why == "empty" then refuse(400, "no request line") end
    if why == "line" then refuse(431, "the request line is too long") end
    if why == "large" then refuse(431, "the header section is too large") end
    if why == "timeout" then refuse(408, "the request took too long") end
    if why == "not a connection" then error("read_request: a connection expected", 0) end
    return nil  -- closed, reset or idle: no reply
  end
  self.deadline = deadline
  local req = new_request(method, target, major, minor, target_ctl, self.peer, fields)
  if req.version == "1.1" and hosts ~= 1 then refuse(400, "HTTP/1.1 needs exactly one Host") end
  if not (lengths or encodings) then return req, connection or "" end   -- no body: the common case
  local mode, n = framing(req, lengths, encodings)
  if mode == "length" and n > self.opts.maxbody then
    refuse(413, "the body is larger than " .. self.opts.maxbody .. " bytes")
  end
  if mode == "chunked" or n > 0 then self:continue(req, expect) end
  if mode == "chunked" then req.body = self:read_chunked()
  else req.body = n > 0 and self:receive(n) or "" end
  return req, connection or ""
end

-- ---- replying ---------------------------------------------------------

-- True when the connection should stay open after answering req, whose
-- Connection field holds `tokens` (lower case).
local function keep_alive(req, tokens)
  if req.version == "1.0" then return tokens:find("keep%-alive") ~= nil end
  if tokens == "" then return true elseif tokens == "close" then return false end
  return not tokens:find("close")
end

-- The connection, its timeout set for sending a reply (opts.timeout).
function Client:armed()
  local timeout = self.opts.timeout
  if self.timeout ~= timeout then
    self.timeout = timeout
    self.conn:settimeout(timeout)
  end
  return self.conn
end

-- Send the whole string s; raises "gone" when the client is not there.
function Client:send(s)
  if not self:armed():send(s) then error("gone", 0) end
end

local status_lines = {}   -- status -> "HTTP/1.1 200 OK\r\n", made on first use
local length_lines, nlength_lines = {}, 0  -- n -> "Content-Length: n\r\n" (at most 1024 kept)
local CLOSE, KEEP = "Connection: close\r\n", "Connection: keep-alive\r\n"

-- "Content-Length: n\r\n".
local function content_length(n)
  local line = length_lines[n]
  if line then return line end
  line = "Content-Length: " .. n .. "\r\n"
  if nlength_lines < 1024 then length_lines[n], nlength_lines = line, nlength_lines + 1 end
  return line
end

-- True when a reply with `status` has a body, and so its framing.
local function framed(status)
  return status >= 200 and status ~= 204 and status ~= 304
end

-- The status line of `status` with its CR LF, made and kept.
local function head_line(status)
  local status_line = "HTTP/1.1 " .. status .. " " .. (REASONS[status] or "Unknown") .. "\r\n"
  status_lines[status] = status_line   -- at most 900 of them: statuses are 100-999
  return status_line
end
-- A reply's head, and body when given, as one string: the status line,
-- `fields` (field lines, each with its CR LF, as httpreply.fields makes
-- them), then `framing` and `connection` (lines with CR LF, or nil).
local function head(status, fields, framing, connection, body)
  local status_line = status_lines[status] or head_line(status)
  return status_line .. fields .. (framing or "") .. (connection or "") .. "\r\n" .. (body or "")
end

-- Check what the handler returned; returns status, its field lines (with
-- Date and Server when it gave none; without the framing fields and
-- Connection: for head) and whether it asked to close ("Connection:
-- close"); or nil, a description of the fault.
local function checked_reply(status, headers)
  if math.type(status) ~= "integer" or status < 100 or status > 999 then
    return nil, "handler returned status " .. (type(status) == "string" and string.format("%q", status)
      or tostring(status)) .. " (an integer 100-999 expected)"
  end
  if headers ~= nil and type(headers) ~= "table" then
    return nil, "handler returned headers of type " .. type(headers) .. " (a table expected)"
  end
  local fields, close, err = reply_fields(headers, standard_fields())
  if not fields then
    if err == nil then return nil, "handler returned a bad header field " .. string.format("%q", tostring(close)) end
    if close == nil then return nil, "handler returned headers whose __pairs raised: " .. tostring(err) end
    return nil, "handler returned header field " .. string.format("%q", close) .. " whose tostring raised: " .. tostring(err)
  end
  return status, fields, close
end

-- Send the reply (status, fields, body) to req; `keep` says whether the
-- connection stays open. Returns keep (false when the body had to be
-- delimited by closing). Raises "gone" when the client left, or what a
-- body function or file raised.
function Client:reply(req, status, fields, body, keep)
  local bodiless = req.method == "HEAD" or not framed(status)
  local framing   -- Content-Length or Transfer-Encoding, when the status has a body
  local conn_field = keep and (req.version == "1.0" and KEEP) or (not keep and CLOSE) or nil
  if type(body) == "function" then
    if req.version == "1.0" and not bodiless then keep, conn_field = false, CLOSE
    elseif framed(status) then framing = "Transfer-Encoding: chunked\r\n" end
    self:send(head(status, fields, framing, conn_field))
    if bodiless then return keep end
    local chunked = req.version == "1.1"
    while true do
      local chunk = body()
      if chunk == nil or chunk == "" then break end
      chunk = tostring(chunk)
      self:send(chunked and (("%x\r\n"):format(#chunk) .. chunk .. "\r\n") or chunk)
    end
    if chunked then self:send("0\r\n\r\n") end
    return keep
  elseif io.type(body) == "file" then
    local size = body:seek("end")
    body:seek("set")
    if framed(status) then framing = content_length(size or 0) end
    local ok, err = pcall(function()
      self:send(head(status, fields, framing, conn_field))
      if bodiless then return end
      while true do
        local s = body:read(FILE_CHUNK)
        if not s then break end
        self:send(s)
      end
    end)
    body:close()
    if not ok then error(err, 0) end
    return keep
  end
  error("handler returned a body of type " .. type(body) .. " (string, function or file expected)", 0)
end

-- Send a reply whose body is the string `body` (the common case, without
-- a protected call); returns keep, or nil when the client left.
function Client:reply_string(req, status, fields, body, keep)
  local framing, conn_field
  if framed(status) then
    framing = content_length(#body)
    if req.method == "HEAD" then body = nil end
  else
    body = nil
  end
  if not keep then
    conn_field = CLOSE
    reply_last(self.conn)   -- the reply leaves with the FIN
  elseif req.version == "1.0" then
    conn_field = KEEP
  end
  if not self:armed():send(head(status, fields, framing, conn_field, body)) then return nil end
  return keep
end

-- Answer a refusal (status, why) and end the connection: send, then drain
-- what the client still sends for a moment so that closing does not reset
-- the reply away (not after a timeout: that client had its time).
function Client:refused(r)
  local body = r.status .. " " .. (REASONS[r.status] or "") .. ": " .. r.why .. "\n"
  reply_last(self.conn)   -- the reply leaves with the FIN of the shutdown
  local date, server = standard_fields()
  local ok = pcall(self.send, self, head(r.status,
    date .. "\r\n" .. server .. "\r\nContent-Type: text/plain\r\n",
    content_length(#body), CLOSE, body))
  if not ok or r.status == 408 then return end
  self.conn:shutdown("send")
  local stop, got = net.now() + LINGER, 0
  while got < LINGER_BYTES do
    local left = stop - net.now()
    if left <= 0 then break end
    self.conn:settimeout(left)
    local data, _, partial = self.conn:receive(65536)
    data = data or partial
    if not data or data == "" then break end
    got = got + #data
  end
end

-- The message handler of the handler's call: its error with the traceback.
local function handler_error(m)
  return { traceback = debug.traceback(tostring(m), 2) }
end

-- Run the handler on req; returns status, fields, body, close, or the 500 reply
-- (and reports the error on stderr unless quiet).
function Client:call(req)
  local ok, status, headers, body = xpcall(self.handler, handler_error, req)
  local fields, close, fault
  if ok then
    status, fields, close = checked_reply(status, headers)
    if status then return status, fields, body, close end
    fault = fields
  else
    fault = type(status) == "table" and status.traceback or tostring(status)
  end
  if not self.opts.quiet then
    io.stderr:write(("netlua: error in net.http.serve handler (%s %s from %s): %s\n"):format(
      req.method, req.target, self.peer, fault))
    io.stderr:flush()
  end
  local _, f = checked_reply(500, { ["Content-Type"] = "text/plain" })
  return 500, f, "500 Internal Server Error\n"
end

-- Serve every request of one connection (net.serve's handler).
function Client:serve()
  local keep = true
  while keep do
    local ok, req, tokens = pcall(self.read_request, self)
    if not ok then
      if getmetatable(req) == Refusal then self:refused(req) end
      return
    end
    if not req then return end
    local status, fields, body, close = self:call(req)
    keep = keep_alive(req, tokens) and not close
    if body == nil then body = "" end
    if type(body) == "string" then
      keep = self:reply_string(req, status, fields, body, keep)
    else
      local sent
      sent, keep = pcall(self.reply, self, req, status, fields, body, keep)
      if not sent then
        if keep ~= "gone" and not self.opts.quiet then
          io.stderr:write(("netlua: net.http.serve reply failed (%s %s from %s): %s\n"):format(
            req.method, req.target, self.peer, tostring(keep)))
        end
        return
      end
    end
    self.idle = self.opts.idle
  end
end

-- Check opts and fill in the defaults; raises on misuse.
local function options(handler, opts)
  local o = {}
  for k, v in pairs(serve.checkcall(handler, opts, OPTS, 3)) do o[k] = v end
  for k, default in pairs { timeout = 10, idle = 5, maxbody = 1 << 20, maxheader = 16384 } do
    o[k] = o[k] or default
    if type(o[k]) ~= "number" or o[k] <= 0 then
      error("bad argument #4 to 'serve' (" .. k .. " must be a positive number)", 3)
    end
  end
  return o
end

-- read_request(conn [, opts]) -> req; nil when the client left; or nil,
-- status, why for a request the server refuses. One request read from an
-- open connection as the server reads it (opts as serve's); the request
-- parser without a socket (src/fuzz/http_request.lua drives it).
function M.read_request(conn, opts)
  local c = Client.new(conn, options(function() end, opts), nil, "client")
  local ok, req = pcall(c.read_request, c)
  if ok then return req end   -- (not the Connection tokens)
  if getmetatable(req) == Refusal then return nil, req.status, req.why end
  if req == "gone" then return nil end
  error(req, 0)
end

-- serve(host, port, handler [, opts]) -> srv, or nil, message.
function M.serve(host, port, handler, opts)
  local o = options(handler, opts)
  local spare = {}   -- Client objects done with their connection, for the next ones
  local srv, err = serve(host, port, function(conn)
    local n = #spare
    local client = spare[n]
    if client then
      spare[n] = nil
      client:reset(conn, httphead.peer(conn))
    else
      client = Client.new(conn, o, handler, httphead.peer(conn))
    end
    client:serve()
    if n < SPARE then spare[n + 1] = client end   -- (not after an error or a cancel)
  end, { backlog = o.backlog, family = o.family, max = o.max, linelimit = o.maxheader + 2,
    defer = 1,   -- HTTP clients speak first: a client is taken once its request is coming
    tls = o.tls, handshake = o.handshake })
  -- at the prompt a failure says so by itself (netaux.h, "net.notice";
  -- net.http.serve tail-calls this, so its caller is the prompt's line)
  if not srv then notice(err) return nil, err end
  srv.kind = "net.http.serve"   -- tostring: "net.http.serve 127.0.0.1:8080 (0 clients)"
  return srv
end

return M
