-- spec/support/tcp_helper.lua: peers for the TCP specs: nginx on a free
-- loopback port (IPv4 and IPv6) serving known files, free ports, and the
-- resident memory of this process.
local common = require "spec.support.common"
local net = require "net"

local M = {}

-- A port that was free a moment ago on 127.0.0.1 (and ::1).
function M.free_port()
  for _ = 1, 20 do
    local s = assert(net.listen("127.0.0.1", 0))
    local _, port = s:getsockname()
    s:close()
    local s6 = net.listen("::1", port)
    if s6 then s6:close(); return port end
  end
  error("no free port")
end

-- The body nginx serves at /file: 100,000 bytes, lines of known text.
function M.body()
  local t = {}
  for i = 1, 1000 do t[i] = string.format("line %05d %s\n", i, ("x"):rep(88)) end
  return table.concat(t)
end

-- A fresh directory for a private nginx, with www/ and tmp/ in it; files
-- maps names under www/ to their contents.
function M.nginx_dir(files)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/www " .. dir .. "/tmp"))
  for name, data in pairs(files or {}) do
    local f = assert(io.open(dir .. "/www/" .. name, "wb")); f:write(data); f:close()
  end
  return dir
end

-- Run nginx in dir (from nginx_dir) with `http` inside its http block (DIR
-- stands for dir), until every port of `ports` accepts; returns a handle
-- with .dir, .pid and :stop() (which also removes dir). Errors with
-- nginx's log if it does not come up within 10 s.
function M.run_nginx(dir, http, ports)
  local conf = ([[
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
]] .. http .. "}\n"):gsub("DIR", dir)
  local f = assert(io.open(dir .. "/nginx.conf", "w")); f:write(conf); f:close()
  return common.daemon("nginx", "nginx -e " .. dir .. "/error.log -p " .. dir .. " -c " .. dir ..
    "/nginx.conf >/dev/null 2>&1", dir, ports, dir .. "/error.log")
end

-- Start nginx on 127.0.0.1:port and [::1]:port serving M.body() at /file;
-- returns a handle with .port and :stop(). Errors if it does not come up
-- within 10 s.
function M.nginx()
  local dir = M.nginx_dir({ file = M.body(), ["index.html"] = "hello from nginx\n" })
  local port = M.free_port()
  local h = M.run_nginx(dir, ([[
  server {
    listen 127.0.0.1:PORT;
    listen [::1]:PORT;
    root DIR/www;
  }
]]):gsub("PORT", tostring(port)), { port })
  h.port = port
  return h
end

-- Resident memory of this process in KiB.
function M.rss_kib()
  local f = io.open("/proc/" .. common.pid() .. "/status")
  local s = f:read("a"); f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

-- A server on 127.0.0.1, port 0, whose connections are handled by
-- handler(conn) in tasks; returns the server and its port.
function M.serve(handler, opts, host)
  local s = assert(net.listen(host or "127.0.0.1", 0, opts))
  local _, port = s:getsockname()
  net.spawn(function()
    while true do
      local c = s:accept()
      if not c then return end
      net.spawn(function() handler(c); c:close() end)
    end
  end)
  return s, port
end

return M
