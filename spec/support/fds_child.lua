-- spec/support/fds_child.lua: out of descriptors, for
-- spec/hardening_fds.lua; run under `ulimit -n 64` (soft and hard, so
-- netlua cannot raise it).
--   netlua fds_child.lua calls
--       fills the table of descriptors, then tries net.connect and
--       server:accept; prints "CONNECT <message>" and "ACCEPT <message>".
--   netlua fds_child.lua serve|http|relay HOLD
--       starts that server on 127.0.0.1 (port 0), prints "READY <port>",
--       fills the descriptors, prints "FULL <n files>", holds them HOLD
--       seconds (clients wait in the backlog meanwhile), frees them, prints
--       "FREED", and serves 10 s more.
local net = require "net"
local what, hold = arg[1], tonumber(arg[2] or "3")

local files = {}
local function fill()
  while true do
    local f = io.open("/dev/null")
    if not f then break end
    files[#files + 1] = f
  end
  return #files
end
local function free()
  for i = #files, 1, -1 do files[i]:close(); files[i] = nil end
end

local function say(s) io.stdout:write(s, "\n"); io.stdout:flush() end

if what == "calls" then
  local s = assert(net.listen("127.0.0.1", 0))
  local _, port = s:getsockname()
  local early = assert(net.connect("127.0.0.1", port))  -- waits in the backlog
  fill()
  local c, err = net.connect("127.0.0.1", port, { timeout = 2 })
  say("CONNECT " .. tostring(c and "connected" or err))
  local a, err2 = s:accept(2)
  say("ACCEPT " .. tostring(a and "accepted" or err2))
  free()
  a, err2 = s:accept(2)
  say("AFTER " .. tostring(a and "accepted" or err2))
  early:close(); if a then a:close() end; s:close()
  return
end

local srv, port
if what == "serve" then
  srv = assert(net.serve("127.0.0.1", 0, function(c)
    local l = c:receive("l")
    if l then c:send("echo " .. l .. "\n") end
  end))
elseif what == "http" then
  srv = assert(net.http.serve("127.0.0.1", 0, function(req)
    return 200, { ["Content-Type"] = "text/plain" }, "hello " .. req.path .. "\n"
  end))
elseif what == "relay" then
  local echo = assert(net.serve("127.0.0.1", 0, function(c)
    local l = c:receive("l")
    if l then c:send("echo " .. l .. "\n") end
  end))
  local _, eport = echo:getsockname()
  srv = assert(net.relay("127.0.0.1", 0, "127.0.0.1", eport))
end
_, port = srv:getsockname()
say("READY " .. port)
say("FULL " .. fill())
net.sleep(hold)
free()
say("FREED")
net.sleep(10)
os.exit(0)
