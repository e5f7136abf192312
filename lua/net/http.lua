-- net.http: an HTTP/1.1 client over net.connect.
--   local http = net.http
--   status, headers, body = http.get("http://127.0.0.1:8080/x" [, opts])
--   status, headers, body = http.request{method=, url=, headers=, body=,
--       timeout=, redirects=, sink= (or output=), trace=, tls=, onheaders=}
-- https verifies the server as net.connect does; tls = {ca = ..., verify =
-- false, ...} passes options (help("tls")) to every https hop.
-- A failure (refused, timeout, a malformed reply, a TLS failure) returns
-- nil, message, kind, where message names host:port and the problem and
-- kind is one word: "url", "connect", "tls", "timeout", "closed",
-- "protocol", "sink", "redirect". A 404 is a status, not a failure.
-- Wrong argument types and CR/LF smuggled into the method or a header
-- raise errors before anything is sent.
--
-- headers: a table of the response's header fields under their names as
-- received; looking a name up in any case works (h["content-type"]);
-- pairs(h) goes in the order received; repeated fields are joined with
-- ", "; http.values(h, name) gives each received value separately (the way
-- to read several Set-Cookie fields); tostring(h) prints them, control
-- bytes made visible as in a transcript.
--
-- With opts.sink (a function called with each chunk then nil, an open
-- file, or a path to write) the body goes there as it arrives and the
-- third result is the number of body bytes instead of the body.
-- opts.onheaders(status, headers), when given, is called once the head of
-- the response whose body will be read has arrived (not for a redirect
-- being followed), before the body: to learn Content-Length, say.
local net = require "net"
local url = require "net.url"
local headers = require "net.headers"

local M = {}

M.timeout = 60              -- seconds for a whole request when opts.timeout is nil
M.max_header_bytes = 65536  -- status line, header section or trailers, each
M.max_line = 16384          -- one header line
M.chunk = 65536             -- body bytes read at a time
M.max_redirects = 5         -- hops when opts.redirects is true
M.user_agent = "netlua/" .. tostring(net.version)

local redirect_codes = { [301] = true, [302] = true, [303] = true, [307] = true, [308] = true }
local token = "^[!#$%%&'*+%-.^_`|~%w]+$"

-- ---- headers (net.headers) -------------------------------------------

M.headers = headers.new
M.values = headers.values
local add_header, fold_header = headers.add, headers.fold

-- ---- argument checks (raise) ----------------------------------------

-- The checks below raise plain messages (level 0); request and get
-- re-raise them at their caller's line.

-- Raise a bad-argument error for request option `what`.
local function bad(what, expected, got)
  error("bad argument #1 to 'request' (" .. what .. ": " .. expected .. " expected, got " .. type(got) .. ")", 0)
end

-- Raise unless s (from the caller) is free of CR, LF and NUL.
local function no_injection(what, s)
  if s:find("[\r\n%z]") then
    error("request: CR, LF or NUL in " .. what .. " " .. string.format("%q", s):gsub("\\\n", "\\n") ..
      " (header injection refused)", 0)
  end
end

-- Check the method and the headers (names, values, Content-Length).
local function check_head(r)
  if r.method ~= nil then
    if type(r.method) ~= "string" then bad("method", "string", r.method) end
    no_injection("method", r.method)
    if not r.method:find(token) then error("request: bad method " .. string.format("%q", r.method), 0) end
  end
  if r.headers ~= nil and type(r.headers) ~= "table" then bad("headers", "table", r.headers) end
  for k, v in pairs(r.headers or {}) do
    if type(k) ~= "string" then bad("header name", "string", k) end
    if type(v) ~= "string" and type(v) ~= "number" then bad("header " .. k, "string", v) end
    no_injection("header name", k)
    no_injection("header " .. k, tostring(v))
    if not k:find(token) then error("request: bad header name " .. string.format("%q", k), 0) end
    if k:lower() == "transfer-encoding" then
      error("request: Transfer-Encoding " .. string.format("%q", v) .. " not supported (bodies are sent with Content-Length)", 0)
    end
    if k:lower() == "content-length" and tostring(v) ~= tostring(#(r.body or "")) then
      error("request: Content-Length " .. v .. " given for a body of " .. #(r.body or "") .. " bytes", 0)
    end
  end
end

-- The fields of a request table (get's options are the same, less url).
local KNOWN = { url = true, method = true, headers = true, body = true, timeout = true,
  redirects = true, sink = true, output = true, trace = true, onheaders = true, tls = true }

-- Raise for the first key of t that is not a known option (a misspelt
-- option is never silently ignored).
local function check_known(t, arg, fname, level)
  for k in pairs(t) do
    if not KNOWN[k] or (fname == "get" and k == "url") then
      error("bad argument #" .. arg .. " to '" .. fname .. "' (unknown option '" .. tostring(k) .. "')", level)
    end
  end
end

-- Check the request table's types and contents; raises on misuse.
local function check_request(r)
  if type(r) ~= "table" then error("bad argument #1 to 'request' (table expected, got " .. type(r) .. ")", 0) end
  check_known(r, 1, "request", 0)
  if type(r.url) ~= "string" then bad("url", "string", r.url) end
  if r.body ~= nil and type(r.body) ~= "string" then bad("body", "string", r.body) end
  check_head(r)
  if r.timeout ~= nil and (type(r.timeout) ~= "number" or r.timeout < 0) then bad("timeout", "seconds >= 0", r.timeout) end
  local red = r.redirects
  if red ~= nil and type(red) ~= "boolean" and not (math.type(red) == "integer" and red >= 0) then
    bad("redirects", "integer >= 0 or boolean", red)
  end
  local tr = r.trace
  if tr ~= nil and type(tr) ~= "boolean" and type(tr) ~= "function" and io.type(tr) ~= "file" then
    bad("trace", "true, function or file", tr)
  end
  if r.onheaders ~= nil and type(r.onheaders) ~= "function" then bad("onheaders", "function", r.onheaders) end
  if r.tls ~= nil and r.tls ~= true and type(r.tls) ~= "table" then bad("tls", "true or a table of TLS options", r.tls) end
  local sink = r.sink or r.output
  if sink ~= nil and type(sink) ~= "function" and type(sink) ~= "string" and io.type(sink) ~= "file" then
    bad("sink", "function, file or path", sink)
  end
end

-- check_request(r), its error raised at the line that called request/get.
local function checked(r)
  local ok, err = pcall(check_request, r)
  -- Lua's memory error stays as it is (no position added)
  if not ok then error(err, err == "not enough memory" and 0 or 3) end
end

-- ---- sinks ----------------------------------------------------------

-- write(chunk) -> true or nil, err; finish(err) -> true or nil, err; for
-- opts.sink, or a collector when there is none (finish returns the body).
local function open_sink(sink)
  if sink == nil then
    local parts = {}
    return function(s) parts[#parts + 1] = s; return true end,
      function() return table.concat(parts) end
  end
  if type(sink) == "function" then
    return function(s)
      local ok, err = sink(s)
      if ok == nil and err ~= nil then return nil, "sink: " .. tostring(err) end
      return true
    end, function(err) sink(nil, err); return true end
  end
  local f, close = sink, false
  if type(sink) == "string" then
    local err
    f, err = io.open(sink, "wb")
    if not f then return nil, "sink: " .. err end
    close = true
  end
  return function(s)
    local ok, err = f:write(s)
    if not ok then return nil, "sink: " .. tostring(err) end
    return true
  end, function()
    if close then f:close() else f:flush() end
    return true
  end
end

-- ---- the exchange ---------------------------------------------------

-- A request in flight: connection, where it goes, its deadline.
local Exchange = {}
Exchange.__index = Exchange

-- nil, "host:port: problem", kind (the failure result); a problem that
-- names host:port already (an error from net) is not prefixed again.
function Exchange:fail(problem, kind)
  if not problem:find(self.label, 1, true) then problem = self.label .. ": " .. problem end
  return nil, problem, kind or "protocol"
end

-- Set the connection's timeout to what is left of the deadline; false
-- when nothing is left.
function Exchange:arm()
  local left = self.deadline - net.now()
  if left <= 0 then return false end
  self.conn:settimeout(left)
  return true
end

-- conn:receive(pattern) within the deadline: data, or nil, err, partial.
function Exchange:receive(pattern)
  if not self:arm() then return nil, "timeout", "" end
  return self.conn:receive(pattern)
end

-- The failure for a receive error `err` while reading `what`.
function Exchange:receive_failed(err, what)
  if err == "timeout" then return self:fail("timeout reading " .. what, "timeout") end
  if err == "closed" then return self:fail("connection closed reading " .. what, "closed") end
  return self:fail(tostring(err) .. " (reading " .. what .. ")", "closed")
end

-- Open the connection: the one place where TLS plugs in (https passes
-- opts.tls, true by default, to net.connect: verified as net.connect
-- does). Returns true or the failure result.
function Exchange:open(u, opts)
  local tls
  if u.scheme == "https" then
    tls = opts.tls == nil or opts.tls
  elseif u.scheme ~= "http" then
    return self:fail("scheme '" .. u.scheme .. "' not supported (http and https)", "url")
  end
  local left = self.deadline - net.now()
  if left <= 0 then return self:fail("timeout before connecting", "timeout") end
  local conn, err = net.connect(u.host, u.port, { timeout = left, linelimit = M.max_line,
    trace = opts.trace, tls = tls })
  if not conn then
    if err == "timeout" then return self:fail("timeout connecting", "timeout") end
    return nil, tostring(err), tostring(err):match("^tls ") and "tls" or "connect"
  end
  self.conn = conn
  return true
end

-- Send the request head and body (method, target, Host, defaults).
function Exchange:send_request(method, u, headers, body)
  local lines = { method .. " " .. url.target(u) .. " HTTP/1.1" }
  local given = {}
  for k in pairs(headers) do given[k:lower()] = true end
  local function add(name, value)
    if not given[name:lower()] then lines[#lines + 1] = name .. ": " .. value end
  end
  add("Host", url.authority(u))
  add("User-Agent", M.user_agent)
  if u.userinfo then add("Authorization", "Basic " .. M.base64(url.decode(u.userinfo))) end
  add("Connection", "close")
  if body or method == "POST" or method == "PUT" then
    add("Content-Length", tostring(#(body or "")))
  end
  for k, v in pairs(headers) do lines[#lines + 1] = k .. ": " .. v end
  lines[#lines + 1] = "\r\n"
  if not self:arm() then return self:fail("timeout sending the request", "timeout") end
  local ok, err = self.conn:send(table.concat(lines, "\r\n") .. (body or ""))
  if not ok then
    return self:fail(err == "timeout" and "timeout sending the request" or tostring(err), err == "timeout" and "timeout" or "closed")
  end
  return true
end

-- Read header lines up to the empty one into headers table h, within the
-- byte cap `used` started with; returns true or the failure result.
function Exchange:read_fields(h, used, what)
  local last
  for _ = 1, M.max_header_bytes do
    local line, err = self:receive("l")
    if not line then
      if tostring(err):find("line too long") then
        return self:fail(what .. " too large (a line over " .. M.max_line .. " bytes)")
      end
      return self:receive_failed(err, what)
    end
    used = used + #line + 2
    if used > M.max_header_bytes then
      return self:fail(what .. " too large (over " .. M.max_header_bytes .. " bytes)")
    end
    if line == "" then return true end
    if line:find("^[ \t]") and last then       -- obsolete line folding: join with a space
      fold_header(h, last, (line:gsub("^[ \t]+", ""):gsub("[ \t]+$", "")))
    else
      local name, value = line:match("^([^:]+):[ \t]*(.-)[ \t]*$")
      if not name or not name:find(token) or value:find("[%z\r\n]") then
        return self:fail("malformed header line " .. string.format("%q", line:sub(1, 100)):gsub("\\\n", "\\n"))
      end
      add_header(h, name, value)
      last = name
    end
  end
  return self:fail(what .. " too large")
end

-- Read one response head: status (integer), reason, headers; or the
-- failure result. Interim 1xx responses are skipped.
function Exchange:read_head()
  for _ = 1, 20 do
    local line, err = self:receive("l")
    if not line then
      if tostring(err):find("line too long") then return self:fail("status line too long") end
      return self:receive_failed(err, "the status line")
    end
    local code, reason = line:match("^HTTP/1%.%d (%d%d%d) ?([^%c]*)$")
    if not code then
      return self:fail("malformed status line " .. string.format("%q", line:sub(1, 100)):gsub("\\\n", "\\n"))
    end
    local h = M.headers()
    local ok, ferr, kind = self:read_fields(h, #line + 2, "header section")
    if not ok then return nil, ferr, kind end
    code = tonumber(code)
    if code >= 200 or code == 101 then return code, reason, h end
  end
  return self:fail("too many interim (1xx) responses")
end

-- How the body is delimited: "none", "chunked", "length" (with n), "close";
-- or the failure result for ambiguous framing.
function Exchange:framing(method, code, h)
  if method == "HEAD" or code == 204 or code == 304 or (code >= 100 and code < 200) then return "none" end
  local te, cl = h["transfer-encoding"], h["content-length"]
  if te then
    if cl then return self:fail("both Transfer-Encoding and Content-Length (refused)") end
    if te:lower():match("([%w%-]+)%s*$") == "chunked" then return "chunked" end
    return "close"
  end
  if not cl then return "close" end
  local n
  for v in (cl .. ","):gmatch("[ \t]*([^,]*),") do
    v = v:gsub("[ \t]+$", "")
    if not v:find("^%d+$") or #v > 15 then return self:fail("malformed Content-Length " .. string.format("%q", cl)) end
    if n and n ~= tonumber(v) then return self:fail("conflicting Content-Length values " .. string.format("%q", cl)) end
    n = tonumber(v)
  end
  return "length", n
end

-- Read exactly n body bytes into write(); true or the failure result.
function Exchange:read_length(n, write, what)
  local total = n
  while n > 0 do
    local data, err, partial = self:receive(math.min(n, M.chunk))
    if partial and partial ~= "" then
      local ok, werr = write(partial)
      if not ok then return self:fail(werr, "sink") end
      n = n - #partial
    end
    if not data then
      if err == "closed" then
        return self:fail(what .. " shorter than announced (" .. (total - n) .. " of " .. total .. " bytes)", "closed")
      end
      return self:receive_failed(err, what)
    end
    local ok, werr = write(data)
    if not ok then return self:fail(werr, "sink") end
    n = n - #data
  end
  return true
end

-- Read a chunked body into write(), trailers skipped; true or failure.
function Exchange:read_chunked(write)
  while true do
    local line, err = self:receive("l")
    if not line then return self:receive_failed(err, "a chunk size") end
    local hex, rest = line:match("^(%x+)(.*)$")
    if not hex or #hex > 15 or not (rest:find("^[ \t]*$") or rest:find("^[ \t]*;")) then
      return self:fail("bad chunk size line " .. string.format("%q", line:sub(1, 100)):gsub("\\\n", "\\n"))
    end
    local size = tonumber(hex, 16)
    if size == 0 then return self:read_fields(M.headers(), 0, "trailer section") end
    local ok, ferr, kind = self:read_length(size, write, "a chunk")
    if not ok then return nil, ferr, kind end
    line, err = self:receive("l")
    if not line then return self:receive_failed(err, "the end of a chunk") end
    if line ~= "" then return self:fail("chunk longer than its size (" .. size .. " bytes)") end
  end
end

-- Read a body delimited by the connection's close into write().
function Exchange:read_close(write)
  while true do
    local data, err, partial = self:receive(M.chunk)
    data = data or partial
    if data and data ~= "" then
      local ok, werr = write(data)
      if not ok then return self:fail(werr, "sink") end
    end
    if err == "closed" then return true end
    if err then return self:receive_failed(err, "the body") end
  end
end

-- Read the body as framed into write(); true or the failure result.
function Exchange:read_body(mode, n, write)
  if mode == "none" then return true end
  if mode == "length" then return self:read_length(n, write, "body") end
  if mode == "chunked" then return self:read_chunked(write) end
  return self:read_close(write)
end

-- Close the connection (idempotent); also the exchange's __close.
function Exchange:close()
  if self.conn then self.conn:close(); self.conn = nil end
end
Exchange.__close = Exchange.close

-- ---- request --------------------------------------------------------

-- "host:port" of parsed URL u, IPv6 in brackets: the name in messages
-- (just the host when the scheme has no known port: ftp://host/).
local function label(u)
  return (u.ipv6 and "[" .. u.host .. "]" or u.host) .. (u.port and ":" .. u.port or "")
end

-- Read the body framed by (mode, n) into the sink (or drop it when
-- `drop`); returns the body (the byte count with a sink) or the failure
-- result.
local function take_body(ex, mode, n, sink, drop)
  local write, done
  if drop then
    write, done = function() return true end, function() return true end
  else
    write, done = open_sink(sink)
    if not write then return ex:fail(done, "sink") end
  end
  local count = 0
  local ok, err, kind = ex:read_body(mode, n, function(s) count = count + #s; return write(s) end)
  if not ok then
    if sink and not drop then done(err) end
    return nil, err, kind
  end
  local body = done()
  if sink then return count end
  return body
end

-- One request/response on a fresh connection, closed after (also when an
-- error is raised). Returns code, reason, headers, body (or byte count) or
-- the failure result. The body of a redirect that follow(code, headers)
-- says to follow is read and dropped.
local function exchange(method, u, r, deadline, follow)
  local ex <close> = setmetatable({ deadline = deadline, label = label(u) }, Exchange)
  local ok, err, kind = ex:open(u, r)
  if not ok then return nil, err, kind end
  ok, err, kind = ex:send_request(method, u, r.headers or {}, r.body)
  if not ok then return nil, err, kind end
  local code, reason, h = ex:read_head()
  if not code then return nil, reason, h end
  local mode, n = ex:framing(method, code, h)
  if not mode then return nil, n, "protocol" end
  local drop = follow(code, h)
  if r.onheaders and not drop then r.onheaders(code, h) end
  local body
  body, err, kind = take_body(ex, mode, n, r.sink or r.output, drop)
  if body == nil then return nil, err, kind end
  return code, reason, h, body
end

-- read_response(conn [, method]) -> code, reason, headers, body, or nil,
-- message, kind: one response read from an open connection as a request
-- reads it (head, framing, body). The response parser without a socket
-- (src/fuzz/http_response.lua drives it).
function M.read_response(conn, method)
  local ex = setmetatable({ conn = conn, deadline = net.now() + M.timeout, label = "response" }, Exchange)
  local code, reason, h = ex:read_head()
  if not code then return nil, reason, h end
  local mode, n = ex:framing(method or "GET", code, h)
  if not mode then return nil, n, "protocol" end
  local body, err, kind = take_body(ex, mode, n)
  if body == nil then return nil, err, kind end
  return code, reason, h, body
end

-- The request to make after a redirect with `code` from parsed URL `u`
-- to `where`: 303 turns into GET without a body; Authorization and Cookie
-- are dropped when the host or port changes.
local function redirected_request(r, method, code, u, where)
  local to = url.parse(where) or u
  local other = to.host ~= u.host or to.port ~= u.port or to.scheme ~= u.scheme
  local get = code == 303 and method ~= "HEAD"
  local n = {}
  for k, v in pairs(r) do n[k] = v end
  n.method, n.headers = get and "GET" or method, {}
  if get then n.body = nil end
  for k, v in pairs(r.headers or {}) do
    local low = k:lower()
    local drop = (get and (low == "content-length" or low == "content-type")) or
      (other and (low == "authorization" or low == "cookie"))
    if not drop then n.headers[k] = v end
  end
  return n
end

-- Make checked request r, following redirects as it asks.
local function perform(r)
  local deadline = net.now() + (r.timeout or M.timeout)
  local hops = r.redirects == true and M.max_redirects or tonumber(r.redirects) or 0
  local method = r.method or "GET"
  local where = r.url
  local req = r
  for hop = 0, hops do
    local u, err = url.parse(where)
    if not u then return nil, err, "url" end
    local function follow(code, h)
      return redirect_codes[code] and h.location ~= nil and hops > 0
    end
    local code, reason, h, body = exchange(method, u, req, deadline, follow)
    if not code then return nil, reason, h end
    if not follow(code, h) then return code, h, body, reason end
    if hop == hops then
      return nil, label(u) .. ": too many redirects (" .. hops .. "), last to " .. h.location, "redirect"
    end
    where, err = url.resolve(where, h.location)
    if not where then return nil, err, "redirect" end
    req = redirected_request(req, method, code, u, where)
    method = req.method or "GET"
  end
end

-- At the prompt a failure says so by itself (netaux.h, "net.notice"):
-- request and get record their nil, message when their caller is the
-- prompt's line (notice is called from them directly, not in a tail call).
local notice = package.loaded["net.notice"] or function() end

-- request{method, url, headers, body, timeout, redirects, sink|output, trace,
-- onheaders}
-- -> status, headers, body (or byte count with a sink), reason; or nil,
-- message, kind.
function M.request(r)
  checked(r)
  local res = table.pack(perform(r))
  if res[1] == nil and type(res[2]) == "string" then notice(res[2]) end
  return table.unpack(res, 1, res.n)
end

-- get(url [, opts]) -> status, headers, body: request{url=url, ...opts}.
function M.get(u, opts)
  if type(u) ~= "string" then error("bad argument #1 to 'get' (string expected, got " .. type(u) .. ")", 2) end
  if opts ~= nil and type(opts) ~= "table" then error("bad argument #2 to 'get' (table expected, got " .. type(opts) .. ")", 2) end
  check_known(opts or {}, 2, "get", 3)
  local r = {}
  for k, v in pairs(opts or {}) do r[k] = v end
  r.url, r.method = u, r.method or "GET"
  checked(r)
  local res = table.pack(perform(r))
  if res[1] == nil and type(res[2]) == "string" then notice(res[2]) end
  return table.unpack(res, 1, res.n)
end

-- serve(host, port, handler [, opts]) -> srv: the server, in net.httpserve.
function M.serve(...) return require("net.httpserve").serve(...) end

-- ---- helpers --------------------------------------------------------

local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- Base64 of s (for Basic authorization from a URL's userinfo).
function M.base64(s)
  return (s:gsub("..?.?", function(t)
    local a, b, c = t:byte(1, 3)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local out = {}
    for i = 1, 4 do
      local idx = (n >> (6 * (4 - i))) & 63
      out[i] = b64:sub(idx + 1, idx + 1)
    end
    if not b then out[3], out[4] = "=", "=" elseif not c then out[4] = "=" end
    return table.concat(out)
  end))
end

return M
