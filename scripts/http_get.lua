--[[
http_get.lua: fetch one URL with net.http and show it the way curl does:
the body on standard output, or the status line and header fields (-I,
a HEAD request), or the whole dialogue as a transcript on standard error
(-v), or the body into a file (-o) with a progress bar on a terminal.

  netlua scripts/http_get.lua http://127.0.0.1:8080/
  netlua scripts/http_get.lua -I http://127.0.0.1:8080/file
  netlua scripts/http_get.lua -v -o big.iso http://127.0.0.1:8080/big.iso
  netlua scripts/http_get.lua -L http://127.0.0.1:8080/old
  netlua scripts/http_get.lua --cacert ca.pem https://localhost:8443/

A URL without a scheme is taken as http://, as curl does
(`http_get.lua 127.0.0.1:8080/`).

https:// URLs are verified against the system store (SSL_CERT_FILE and
SSL_CERT_DIR are honoured) or --cacert FILE; -k skips verification and
says so on standard error.

Redirects are followed with -L (up to net.http's max_redirects hops, as
curl -L); without it a 3xx reply with a Location gets one line on standard
error: "http_get.lua: 301 Moved Permanently -> Location: URL (use -L to
follow)".

Exit status: 0 for a 2xx or 3xx reply (redirects followed only with -L); 22
for a 4xx or 5xx reply, as `curl -f` does (the body is still written, so
an error page can be read; one line on standard error names the status);
1 when no reply came (refused, timeout, a malformed reply, a file that
cannot be written); 2 on a bad option.

The progress bar is drawn only when standard error is a terminal (netlua's
own isatty, the one help() pages with); redirected or piped, nothing is
drawn. Its total is the Content-Length, read from the reply's head
(net.http's opts.onheaders): the body itself is never traced unless -v.
Ctrl-C stops the download with "http_get.lua: interrupted", status 130.
]]

local net = require "net"

local USAGE = [[
usage: http_get.lua [-v] [-I] [-L] [-o FILE] [--timeout S] [-k | --cacert F] URL
Fetch URL (http:// or https://; no scheme: http) and write the body to standard output.
  -I            HEAD request: print the status line and header fields
  -L            follow redirects (3xx with a Location)
  -v            the whole dialogue as a transcript on standard error
  -o FILE       write the body to FILE (a progress bar on a terminal)
  --timeout S   give up after S seconds in all (default 60)
  --cacert F    https: verify the server against CA file (or directory) F
  -k            https: do not verify the server's certificate (says so)
  --help        this text
Exits 0 on 2xx/3xx, 22 on 4xx/5xx (as curl -f), 1 on a network failure.]]

--- Options and arguments from the command line, or nil, message.
local function options(args)
  local o = {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--help" or a == "-h" then o.help = true
    elseif a == "-v" then o.verbose = true
    elseif a == "-I" then o.head = true
    elseif a == "-L" or a == "--location" then o.follow = true
    elseif a == "-k" or a == "--insecure" then o.insecure = true
    elseif a == "-o" or a == "--timeout" or a == "--cacert" then
      local v = args[i + 1]
      if not v then return nil, a .. " needs a value" end
      if a == "-o" then o.output = v
      elseif a == "--cacert" then o.cacert = v
      else
        o.timeout = tonumber(v)
        if not o.timeout or o.timeout <= 0 then return nil, "bad timeout: " .. v end
      end
      i = i + 1
    elseif a:sub(1, 1) == "-" and #a > 1 then return nil, "unknown option: " .. a
    elseif o.url then return nil, "only one URL, please"
    else o.url = a end
    i = i + 1
  end
  if not o.help and not o.url then return nil, "expected a URL" end
  -- as curl: a URL without a scheme is http ("127.0.0.1:8080/x")
  if o.url and not o.url:find("^%a[%w+.-]*://") then o.url = "http://" .. o.url end
  if o.insecure and o.cacert then return nil, "-k and --cacert exclude each other" end
  return o
end

--- A byte count for people: 512 B, 1.5 KiB, 3.2 MiB.
local function bytes(n)
  if n < 1024 then return ("%d B"):format(n) end
  local units = { "KiB", "MiB", "GiB", "TiB" }
  local u = 0
  repeat n = n / 1024; u = u + 1 until n < 1024 or u == #units
  return ("%.1f %s"):format(n, units[u])
end

--- Seconds as m:ss (or h:mm:ss).
local function clock(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then return ("%d:%02d:%02d"):format(s // 3600, s % 3600 // 60, s % 60) end
  return ("%d:%02d"):format(s // 60, s % 60)
end

--- A progress bar on standard error: bar.total (set once known),
--- bar:update(n) adds n bytes (redraws at most ten times a second),
--- bar:finish() draws the last state and ends the line.
local function progress_bar()
  local bar = { got = 0, t0 = net.now(), drawn = 0 }
  function bar:draw()
    local now = net.now()
    local elapsed = math.max(now - self.t0, 1e-6)
    local rate = self.got / elapsed
    local line
    if self.total and self.total > 0 then
      local frac = math.min(self.got / self.total, 1)
      local width = 30
      local fill = math.floor(frac * width)
      local left = rate > 0 and (self.total - self.got) / rate or 0
      line = ("%3d%% [%s%s] %s / %s  %s/s  %s left"):format(math.floor(frac * 100),
        ("="):rep(fill), (" "):rep(width - fill), bytes(self.got), bytes(self.total),
        bytes(rate), clock(left))
    else
      line = ("%s  %s/s  %s"):format(bytes(self.got), bytes(rate), clock(elapsed))
    end
    io.stderr:write("\r", line, "\27[K")
    self.drawn = now
  end
  function bar:update(n)
    self.got = self.got + n
    if net.now() - self.drawn >= 0.1 then self:draw() end
  end
  function bar:finish()
    self:draw()
    io.stderr:write("\n")
  end
  return bar
end

--- True when standard error is a terminal: netlua's isatty (in the
--- registry, as help() finds it for paging); false under stock Lua.
local function stderr_is_tty()
  local isatty = debug.getregistry()["netlua.isatty"]
  return type(isatty) == "function" and isatty(io.stderr) == true
end

--- Make the request; returns status, headers, body-or-count, reason, or
--- nil, message.
local function fetch(o)
  local sink, file, bar
  if o.output then
    local err
    file, err = io.open(o.output, "wb")
    if not file then return nil, "cannot write " .. err end
    if stderr_is_tty() then bar = progress_bar() end
    sink = function(chunk)
      if chunk == nil then return true end
      local ok, werr = file:write(chunk)
      if not ok then return nil, werr end
      if bar then bar:update(#chunk) end
      return true
    end
  elseif not o.head then
    sink = function(chunk)
      if chunk then io.stdout:write(chunk) end
      return true
    end
  end
  local ok, status, h, body, reason = pcall(net.http.request, {
    method = o.head and "HEAD" or "GET", url = o.url, timeout = o.timeout,
    sink = sink, trace = o.verbose or nil, redirects = o.follow or nil,
    onheaders = bar and function(_, head) bar.total = tonumber(head["content-length"]) end,
    tls = (o.insecure or o.cacert) and { verify = not o.insecure, ca = o.cacert } or nil,
  })
  if file then file:close() end
  if bar and (status or not ok) then bar:finish() end
  if not ok then error(status, 0) end
  return status, h, body, reason
end

--- Entry point: returns the exit status.
local function main(args)
  local o, err = options(args)
  if not o then
    io.stderr:write("http_get.lua: ", err, "\n", USAGE, "\n")
    return 2
  end
  if o.help then print(USAGE) return 0 end
  if o.insecure and o.url:match("^[Hh][Tt][Tt][Pp][Ss]:") then
    io.stderr:write("http_get.lua: warning: -k: the server's certificate is NOT VERIFIED\n")
  end
  local ok, status, h, _, reason = pcall(fetch, o)
  if not ok and tostring(status):find("interrupted!$") then  -- Ctrl-C
    io.stderr:write("http_get.lua: interrupted\n")
    return 130
  end
  if not ok then  -- a URL or header the client refuses raises
    io.stderr:write("http_get.lua: ", tostring(status), "\n")
    return 1
  end
  if not status then
    io.stderr:write("http_get.lua: ", tostring(h), "\n")
    return 1
  end
  if o.head then
    io.stdout:write(("HTTP/1.1 %d %s\r\n"):format(status, reason or ""))
    for name, value in pairs(h) do
      for _, v in ipairs(net.http.values(h, name)) do io.stdout:write(name, ": ", v, "\r\n") end
      if #net.http.values(h, name) == 0 then io.stdout:write(name, ": ", value, "\r\n") end
    end
    io.stdout:write("\r\n")
  end
  io.stdout:flush()
  if status >= 300 and status < 400 and h.location and not o.follow then
    io.stderr:write(("http_get.lua: %d %s -> Location: %s (use -L to follow)\n"):format(status,
      reason or "", h.location))
  end
  if status >= 400 then
    io.stderr:write(("http_get.lua: %s: the server answered %d %s\n"):format(o.url, status, reason or ""))
    return 22
  end
  return 0
end

os.exit(main(arg or {}))
