--[[
myip.lua: "What is my IP address?" -- the host name, the address this host
uses to reach the outside with its class (public, private behind NAT, ...),
the default gateways, and every interface with its addresses.

  netlua scripts/myip.lua            everything
  netlua scripts/myip.lua --brief    just the primary address (for scripts)
  netlua scripts/myip.lua -4 | -6    only IPv4 / only IPv6

Exits 0 when it found an address, 1 when it could not, 2 on a bad option.
]]

local net = require "net"
local ip = require "net.ip"

local USAGE = [[
usage: myip.lua [--brief] [-4 | -6] [--help]
Print the host name, the primary address (the one on the default route)
with its class, the default gateways, and every interface with its
addresses.
  --brief   print only the primary address
  -4, -6    only IPv4 or only IPv6 addresses
  --help    this text]]

--- Options from the command line: { brief, family }, or nil, message.
local function options(args)
  local o = { family = "any" }
  for _, a in ipairs(args) do
    if a == "--help" or a == "-h" then o.help = true
    elseif a == "--brief" then o.brief = true
    elseif a == "-4" then o.family = "inet"
    elseif a == "-6" then o.family = "inet6"
    else return nil, "unknown option " .. a end
  end
  return o
end

--- The flags of an interface as words, in a fixed order.
local function flag_words(flags)
  local words = {}
  for _, f in ipairs { "up", "running", "loopback", "broadcast", "multicast",
                       "point-to-point" } do
    if flags[f] then words[#words + 1] = f end
  end
  if not flags.up then words[#words + 1] = "DOWN" end
  return table.concat(words, " ")
end

--- The columns of one address: family, text/prefix, peer/broadcast/scope,
--- class and primary mark.
local function addr_cells(a, primary)
  local extra = {}
  if a.peer then extra[#extra + 1] = "peer " .. a.peer end
  if a.broadcast then extra[#extra + 1] = "brd " .. a.broadcast end
  if a.scope then extra[#extra + 1] = "scope " .. a.scope end
  return { a.family, a.address .. "/" .. tostring(a.prefix), table.concat(extra, " "),
           (ip.classify(a.address) or "?") .. (a.address == primary and "  <- primary" or "") }
end

--- True when address table a is of the family asked for.
local function wanted(a, family)
  return family == "any" or a.family == family
end

--- Lines of rows of cells, each column as wide as its widest cell (the last
--- column is not padded), with `indent` before each.
local function columns(rows, indent)
  local width = {}
  for _, r in ipairs(rows) do
    for c = 1, #r - 1 do width[c] = math.max(width[c] or 0, #r[c]) end
  end
  local lines = {}
  for i, r in ipairs(rows) do
    local cells = {}
    for c = 1, #r - 1 do cells[c] = r[c] .. (" "):rep(width[c] - #r[c]) end
    cells[#r] = r[#r]
    lines[i] = indent .. table.concat(cells, " ")
  end
  return lines
end

--- Print every interface and its addresses; names and address columns as
--- wide as the widest (interface names run to 15 characters).
local function print_interfaces(ifs, primary, family)
  local namew, rows = 0, {}
  for _, i in ipairs(ifs) do namew = math.max(namew, #i.name) end
  for _, i in ipairs(ifs) do
    for _, a in ipairs(i.addrs) do
      if wanted(a, family) then rows[#rows + 1] = addr_cells(a, primary) end
    end
  end
  local lines, n = columns(rows, "        "), 0
  for _, i in ipairs(ifs) do
    local head = ("  %-" .. namew .. "s index %-3d %s"):format(i.name, i.index,
      flag_words(i.flags))
    if i.mtu then head = head .. "  mtu " .. i.mtu end
    if i.mac then head = head .. "  mac " .. i.mac end
    print(head)
    for _, a in ipairs(i.addrs) do
      if wanted(a, family) then n = n + 1 print(lines[n]) end
    end
  end
end

--- Print the default gateways (or why there are none).
local function print_gateways(family)
  local gws, err = net.gateways()
  if not gws then print(("gateway   none (%s)"):format(err)) return end
  local count = {}
  for _, g in ipairs(gws) do count[g.family] = (count[g.family] or 0) + 1 end
  for _, g in ipairs(gws) do
    if wanted(g, family) then
      print(("gateway   %s via %s (%s, metric %d%s)%s"):format(g.gateway or "(direct)",
        g.interface, g.family, g.metric, g.weight and (", weight " .. g.weight) or "",
        count[g.family] > 1 and g == gws[g.family] and "  <- preferred" or ""))
    end
  end
end

--- Print everything; returns the exit status.
local function report(o)
  local addr, note = net.myip(o.family)
  if o.brief then
    if not addr then io.stderr:write("myip.lua: ", note, "\n") return 1 end
    print(addr)
    return 0
  end
  print("host      " .. (net.hostname() or "?"))
  if addr then
    local class, about = ip.classify(addr)
    print("address   " .. addr .. (note and ("  (" .. note .. ")") or ""))
    print(("class     %s: %s"):format(class, about))
    if class == "private" or class == "shared" then
      print("          not routed on the internet: the outside sees your NAT's public address")
    end
  else
    print("address   none (" .. note .. ")")
  end
  print_gateways(o.family)
  local ifs, err = net.interfaces()
  if not ifs then io.stderr:write("myip.lua: ", err, "\n") return 1 end
  print("interfaces")
  print_interfaces(ifs, addr, o.family)
  return addr and 0 or 1
end

--- Entry point: parse the options, print, exit.
local function main(args)
  local o, err = options(args)
  if not o then
    io.stderr:write("myip.lua: ", err, "\n", USAGE, "\n")
    os.exit(2)
  end
  if o.help then print(USAGE) os.exit(0) end
  os.exit(report(o))
end

main(arg or {})
