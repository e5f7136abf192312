--[[
relay.lua: forward TCP connections from a local address to a target, and
with -v show each dialogue as a transcript (a numbered connection per
client), to watch two programs talk.

  netlua scripts/relay.lua 127.0.0.1:8081 127.0.0.1:80 -v
  netlua scripts/relay.lua 8025 [::1]:25 -v -t

Prints "relaying LISTEN -> TARGET" and runs until interrupted (Ctrl-C).
Exits 1 when it cannot listen, 2 on a usage error.
]]

local net = require "net"

local USAGE = [[
usage: relay.lua LISTEN TARGET [-v] [-t] [-o FILE]
Accept TCP connections on LISTEN and forward each one to TARGET, both
ways, until both sides are done; runs until interrupted (Ctrl-C).
  LISTEN     HOST:PORT to listen on ([::1]:PORT for IPv6); a bare PORT
             means 127.0.0.1:PORT; port 0 picks a free one
  TARGET     HOST:PORT to connect to for each client
  -v         show the transcript of each connection on stderr: "[n]" the
             connection number, " -> " client to target, "<- " target to
             client, "*** " events
  -t         with -v, add an elapsed-time column
  -o FILE    write the transcript to FILE instead of stderr (implies -v)
  --help     this text]]

--- HOST, PORT from "HOST:PORT", "[V6]:PORT" (or "PORT" when bare is
--- allowed), or nil, message.
local function hostport(s, bare)
  local host, port = s:match("^%[(.+)%]:(%d+)$")
  if not host then host, port = s:match("^([^:]+):(%d+)$") end
  if not host and bare and s:match("^%d+$") then host, port = "127.0.0.1", s end
  if not host then return nil, "not HOST:PORT: " .. s end
  port = tonumber(port)
  if port > 65535 then return nil, "port out of range: " .. s end
  return host, port
end

--- Options from the command line, or nil, message.
local function options(args)
  local o, words = {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--help" or a == "-h" then o.help = true
    elseif a == "-v" then o.verbose = true
    elseif a == "-t" then o.time = true
    elseif a == "-o" then
      i = i + 1
      if not args[i] then return nil, "-o needs a file" end
      o.file, o.verbose = args[i], true
    elseif a:sub(1, 1) == "-" and #a > 1 then return nil, "unknown option " .. a
    else words[#words + 1] = a end
    i = i + 1
  end
  if o.help then return o end
  if #words ~= 2 then return nil, "need LISTEN and TARGET" end
  local err
  o.lhost, o.lport = hostport(words[1], true)
  if not o.lhost then return nil, o.lport end
  o.thost, o.tport = hostport(words[2], false)
  if not o.thost then return nil, o.tport end
  if o.tport == 0 then return nil, "target port 0" end
  return o, err
end

local function main(args)
  local o, err = options(args)
  if not o then
    io.stderr:write("relay.lua: ", err, "\n", USAGE, "\n")
    return 2
  end
  if o.help then print(USAGE) return 0 end
  local trace = o.verbose and (o.file or true) or nil
  local relay, rerr = net.relay(o.lhost, o.lport, o.thost, o.tport, { trace = trace, time = o.time })
  if not relay then
    io.stderr:write("relay.lua: ", rerr, "\n")
    return 1
  end
  print("relaying " .. relay.name)
  io.stdout:flush()
  local ok, e = pcall(net.run)  -- the relay's task runs until Ctrl-C
  if not ok and tostring(e):find("interrupted", 1, true) then return 130 end
  if not ok then error(e, 0) end
  return 0
end

os.exit(main(arg), true)
