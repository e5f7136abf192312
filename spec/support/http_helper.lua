-- spec/support/http_helper.lua: peers for the HTTP client specs: nginx on
-- a free loopback port (127.0.0.1 and [::1]) with static files, redirects
-- and an SSI page it sends chunked; hand-written servers made with `net`
-- that record the request and answer with given bytes; a large random file.
local common = require "spec.support.common"
local tcp_helper = require "spec.support.tcp_helper"
local net = require "net"

local M = {}

-- The server block of nginx's configuration for port.
local function server_conf(port)
  return ([[
  server {
    listen 127.0.0.1:PORT;
    listen [::1]:PORT;
    root DIR/www;
    location = /redirect { return 301 /target; }
    location = /relative { absolute_redirect off; return 302 /target; }
    location = /see-other { return 303 /target; }
    location = /temporary { absolute_redirect off; return 307 /target; }
    location = /loop { absolute_redirect off; return 302 /loop; }
    location = /chunked.html { ssi on; }
    location = /cookies {
      add_header Set-Cookie "a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT";
      add_header Set-Cookie "b=2";
      return 200 "cookies\n";
    }
  }
]]):gsub("PORT", tostring(port))
end

-- The body of /chunked.html as nginx sends it (after SSI).
M.chunked_body = "before\n" .. "included part\n" .. "after\n"

-- Start nginx; returns a handle with .port, .dir and :stop(); errors if
-- it does not come up within 10 s.
function M.nginx()
  local dir = tcp_helper.nginx_dir({
    ["index.html"] = "hello from nginx\n", target = "you found the target\n",
    file = tcp_helper.body(), ["part.txt"] = "included part\n",
    ["chunked.html"] = 'before\n<!--# include file="/part.txt" -->after\n' })
  local port = tcp_helper.free_port()
  local h = tcp_helper.run_nginx(dir, server_conf(port), { port })
  h.port = port
  return h
end

-- Make a file of `mb` MiB of random bytes at path; returns its sha256.
function M.random_file(path, mb)
  assert(os.execute("dd if=/dev/urandom of=" .. common.q(path) .. " bs=1M count=" .. mb .. " status=none"))
  return M.sha256(path)
end

-- The sha256 (hex) of the file at path.
function M.sha256(path)
  local p = io.popen("sha256sum " .. common.q(path))
  local sum = p:read("l"):match("^(%x+)")
  p:close()
  return sum
end

-- Read one request (head and Content-Length body) from conn, bounded;
-- returns {line=, headers={lower name = value}, raw=, body=} or nil.
function M.read_request(conn)
  conn:settimeout(5)
  local line = conn:receive("l")
  if not line then return nil end
  local req = { line = line, headers = {}, raw = { line } }
  for _ = 1, 200 do
    local l = conn:receive("l")
    if not l or l == "" then break end
    req.raw[#req.raw + 1] = l
    local k, v = l:match("^([^:]+):%s*(.*)$")
    if k then req.headers[k:lower()] = v end
  end
  local n = tonumber(req.headers["content-length"] or 0)
  req.body = n > 0 and conn:receive(n) or ""
  return req
end

-- A server on host (127.0.0.1) answering each request with `answer`: a
-- string sent as is, or a function(conn, req) that writes what it likes.
-- Returns a handle with .port, .requests (each one received) and :close().
function M.raw_server(answer, host)
  local s = assert(net.listen(host or "127.0.0.1", 0))
  local _, port = s:getsockname()
  local h = { port = port, requests = {} }
  net.spawn(function()
    for _ = 1, 100 do
      local c = s:accept()
      if not c then return end
      net.spawn(function()
        local req = M.read_request(c)
        if req then
          h.requests[#h.requests + 1] = req
          if type(answer) == "function" then answer(c, req) else c:send(answer) end
        end
        c:close()
      end)
    end
  end)
  function h.close() s:close() end
  return h
end

-- A listener on 127.0.0.2 whose backlog is full, so that a connect to it
-- never completes; returns a handle with .port and :close().
function M.dead_server()
  local s = assert(net.listen("127.0.0.2", 0, { backlog = 0 }))
  local _, port = s:getsockname()
  local held = {}
  for i = 1, 2 do held[i] = assert(net.connect("127.0.0.2", port, { timeout = 2 })) end
  return { port = port, close = function()
    for _, c in ipairs(held) do c:close() end
    s:close()
  end }
end

return M
