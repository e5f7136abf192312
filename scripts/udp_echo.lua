--[[
udp_echo.lua: the UDP echo service, both ends. The server sends every
datagram back to where it came from; the client sends one datagram and
prints what comes back.

  netlua scripts/udp_echo.lua server -p 7007
  netlua scripts/udp_echo.lua client 127.0.0.1 7007 "hello"

UDP is fire-and-forget: nothing says whether a datagram arrived. When the
peer is silent (nobody listening and no "port unreachable" comes back, or
the datagram or its echo was dropped) the client simply gets no answer;
it waits --timeout seconds (default 2) and gives up.

Exits 0 when the echo came back (client) or the server was stopped, 1 when
there was no echo or the socket failed, 2 on a bad option.
]]

local net = require "net"

local USAGE = [[
usage: udp_echo.lua server [-p PORT] [-b ADDR]
       udp_echo.lua client HOST PORT MESSAGE [--timeout S]
server: echo every datagram back to its sender (default 127.0.0.1, port 7007;
        port 0 picks a free one) and log one line per datagram on stderr.
client: send MESSAGE to HOST PORT and print the echo; with no answer within
        S seconds (default 2) say so and exit 1.
  --help   this text]]

--- A port number from text (0 allowed when zero_ok), or nil.
local function port_of(s, zero_ok)
  local p = math.tointeger(tonumber(s))
  if not p or p > 65535 or p < (zero_ok and 0 or 1) then return nil end
  return p
end

--- Options and arguments from the command line, or nil, message.
local function options(args)
  local o = { port = 7007, bind = "127.0.0.1", timeout = 2 }
  local pos, i = {}, 1
  while i <= #args do
    local a = args[i]
    if a == "--help" or a == "-h" then o.help = true
    elseif a == "-p" or a == "-b" or a == "--timeout" then
      local v = args[i + 1]
      if not v then return nil, a .. " needs a value" end
      if a == "-p" then
        o.port = port_of(v, true)
        if not o.port then return nil, "bad port: " .. v end
      elseif a == "-b" then o.bind = v
      else
        o.timeout = tonumber(v)
        if not o.timeout or o.timeout <= 0 then return nil, "bad timeout: " .. v end
      end
      i = i + 1
    elseif a:sub(1, 1) == "-" and #a > 1 then return nil, "unknown option: " .. a
    else pos[#pos + 1] = a end
    i = i + 1
  end
  if o.help then return o end
  o.mode = pos[1]
  if o.mode == "server" then
    if #pos ~= 1 then return nil, "server takes no arguments but -p and -b" end
  elseif o.mode == "client" then
    if #pos ~= 4 then return nil, "expected client HOST PORT MESSAGE" end
    o.host, o.port, o.message = pos[2], port_of(pos[3]), pos[4]
    if not o.port then return nil, "bad port: " .. pos[3] end
  else
    return nil, "expected 'server' or 'client'"
  end
  return o
end

--- Run the echo server until interrupted; returns the exit status.
local function server(o)
  local u = net.udp()
  local ok, err = u:bind(o.bind, o.port)
  if not ok then
    io.stderr:write("udp_echo.lua: cannot bind ", o.bind, " port ", o.port, ": ", tostring(err), "\n")
    return 1
  end
  local host, port = u:getsockname()
  print(("echoing UDP on %s port %d"):format(host, port))
  io.stdout:flush()
  while true do
    local data, from, fport = u:receivefrom()
    if data then
      io.stderr:write(("%s port %d: %d bytes\n"):format(from, fport, #data))
      u:sendto(data, from, fport)
    elseif from ~= "timeout" then
      io.stderr:write("udp_echo.lua: ", tostring(from), "\n")
      return 1
    end
  end
end

--- Send one datagram and wait for its echo; returns the exit status.
local function client(o)
  local u = net.udp()
  local ok, err = u:connect(o.host, o.port)
  if not ok then
    io.stderr:write("udp_echo.lua: ", tostring(err), "\n")
    return 1
  end
  u:settimeout(o.timeout)
  ok, err = u:send(o.message)
  if not ok then
    io.stderr:write("udp_echo.lua: send to ", o.host, " port ", o.port, ": ", tostring(err), "\n")
    return 1
  end
  local data
  data, err = u:receive()
  u:close()
  if data then print(data) return 0 end
  if err == "timeout" then
    io.stderr:write(("udp_echo.lua: no answer from %s port %d within %g s: UDP is fire-and-forget, "
      .. "a datagram to a silent or absent peer simply gets no answer\n"):format(o.host, o.port, o.timeout))
  elseif tostring(err):find("connection refused", 1, true) then
    io.stderr:write(("udp_echo.lua: no echo from %s port %d: connection refused (the host said "
      .. "\"port unreachable\": nothing listens there)\n"):format(o.host, o.port))
  else
    io.stderr:write(("udp_echo.lua: no echo from %s port %d: %s\n"):format(o.host, o.port, tostring(err)))
  end
  return 1
end

--- Entry point: returns the exit status.
local function main(args)
  local o, err = options(args)
  if not o then
    io.stderr:write("udp_echo.lua: ", err, "\n", USAGE, "\n")
    return 2
  end
  if o.help then print(USAGE) return 0 end
  if o.mode == "server" then return server(o) end
  return client(o)
end

-- Ctrl-C ends the server (and a waiting client) quietly, status 130.
local ok, status = pcall(main, arg or {})
if not ok and tostring(status):find("interrupted!$") then os.exit(130) end
if not ok then error(status, 0) end
os.exit(status)
