-- spec/support/http_helper.lua: peers for the HTTP client specs: nginx on
-- a free loopback port (127.0.0.1 and [::1]) with static files, redirects
-- and an SSI page it sends chunked; hand-written servers made with `net`
-- that record the request and answer with given bytes; a large random file.
local common = require "spec.support.common"
local tcp_helper = require "spec.support.tcp_helper"
local net = require "net"

local M = {}

-- Write `data` to file `path`.
local function write_file(path, data)
  local f = assert(io.open(path, "wb")); f:write(data); f:close()
end

-- The nginx configuration for directory dir and port.
local function conf(dir, port)
  return ([[
daemon off;
master_process off;
worker_processes 1;
pid DIR/nginx.pid;
error_log DIR/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path DIR/tmp; proxy_temp_path DIR/tmp; fastcgi_temp_path DIR/tmp;
  uwsgi_temp_path DIR/tmp; scgi_temp_path DIR/tmp;
  default_type application/octet-stream;
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
}
]]):gsub("DIR", dir):gsub("PORT", tostring(port))
end

-- The body of /chunked.html as nginx sends it (after SSI).
M.chunked_body = "before\n" .. "included part\n" .. "after\n"

-- Start nginx; returns a handle with .port, .dir and :stop(); errors if
-- it does not come up within 10 s.
function M.nginx()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/www " .. dir .. "/tmp"))
  write_file(dir .. "/www/index.html", "hello from nginx\n")
  write_file(dir .. "/www/target", "you found the target\n")
  write_file(dir .. "/www/file", tcp_helper.body())
  write_file(dir .. "/www/part.txt", "included part\n")
  write_file(dir .. "/www/chunked.html", 'before\n<!--# include file="/part.txt" -->after\n')
  local port = tcp_helper.free_port()
  write_file(dir .. "/nginx.conf", conf(dir, port))
  local p = io.popen("nginx -e " .. dir .. "/error.log -p " .. dir .. " -c " .. dir ..
    "/nginx.conf >/dev/null 2>&1 </dev/null & echo $!")
  local pid = tonumber(p:read("l"))
  p:close()
  local h = { port = port, pid = pid, dir = dir }
  function h.stop()
    if h.pid then
      os.execute("kill " .. h.pid .. " 2>/dev/null; for i in $(seq 100); do kill -0 " .. h.pid ..
        " 2>/dev/null || break; sleep 0.05; done")
      h.pid = nil
    end
    os.execute("rm -rf " .. dir)
  end
  if not common.wait_port(port, 10) then
    local log = io.open(dir .. "/error.log"); local msg = log and log:read("a") or ""
    if log then log:close() end
    h.stop()
    error("nginx did not start: " .. msg)
  end
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
