--[[
telnet.lua: talk to a TCP server by hand, as telnet does: lines typed go
out with CRLF, what the server sends is printed as it comes.

  netlua scripts/telnet.lua 127.0.0.1 25
  printf 'HELO me\nQUIT\n' | netlua scripts/telnet.lua 127.0.0.1 25

Prints "Trying ADDR..." for each address of HOST, then "Connected to
HOST." and "Escape character is '^]'.". At a terminal, lines are edited
with the prompt's line editor (history with the arrows). Ctrl-] (the
escape character) or Ctrl-C closes the connection and ends ("Connection
closed."); there is no telnet> command prompt. When the server closes:
"*** connection closed by foreign host". With standard input not a
terminal each line read is sent; at its end the sending side is shut down
(as nc -N) and what the server still sends is printed until it closes.

No telnet option negotiation: the bytes go as they are (a raw TCP
session, like nc -C or telnet to a port that is not 23).

Exits 0 after a session, 1 when no address could be reached ("telnet:
Unable to connect to remote host: Connection refused", as telnet prints
it) or HOST cannot be resolved, 2 on a usage error.
]]

local net = require "net"

local USAGE = [[
usage: telnet.lua HOST [PORT]
Open a TCP connection to HOST (a name or an address) at PORT (default 23)
and hand it to the terminal: lines typed are sent with CRLF, what arrives
is printed. Ctrl-] ends the session.
  --help     this text]]

--- Say why the command line is wrong, and exit 2.
local function usage_error(msg)
  io.stderr:write("telnet.lua: ", msg, "\n", USAGE, "\n")
  os.exit(2)
end

--- telnet's words for a connect failure: "Connection refused" ...
local function cause(err)
  if err == "timeout" then return "Connection timed out" end
  local why = tostring(err):match(".*: (.-)$") or tostring(err)
  return (why:gsub("^%l", string.upper))
end

local function main(args)
  local host, port
  for _, a in ipairs(args) do
    if a == "--help" or a == "-h" then
      print(USAGE)
      return 0
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      usage_error("unknown option " .. a)
    elseif not host then host = a
    elseif not port then port = a
    else usage_error("too many arguments") end
  end
  if not host then usage_error("no host given") end
  local nport = tonumber(port or "23")
  if not nport or nport ~= math.floor(nport) or nport < 1 or nport > 65535 then
    usage_error("bad port " .. tostring(port))
  end

  local addrs, rerr
  if net.ip.parse(host) then addrs = { select(2, net.ip.parse(host)) }
  else addrs, rerr = net.resolve(host) end
  if not addrs or #addrs == 0 then
    io.stderr:write("telnet.lua: could not resolve ", host, ": ", tostring(rerr), "\n")
    return 1
  end
  local c, err
  for _, addr in ipairs(addrs) do
    io.stdout:write("Trying ", addr, "...\n")
    io.stdout:flush()
    c, err = net.connect(addr, nport)
    if c then break end
  end
  if not c then
    io.stderr:write("telnet.lua: Unable to connect to remote host: ", cause(err), "\n")
    return 1
  end
  io.stdout:write("Connected to ", host, ".\nEscape character is '^]'.\n")
  io.stdout:flush()
  local _, why = c:interact()
  c:close()
  if why ~= "closed" then io.stdout:write("Connection closed.\n") end
  io.stdout:flush()
  return 0
end

os.exit(main(arg))
