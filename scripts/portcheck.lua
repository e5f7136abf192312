--[[
portcheck.lua: which TCP ports of a host answer. Each port is tried with a
connect, many at once (tasks, a bounded number in flight), and reported as
  open                               the connection was accepted
  closed: connection refused         the host answered "nobody here" (RST)
  filtered: nobody's home (timeout)  no answer at all within the timeout
                                     (a firewall dropping the SYN, a full
                                     listen queue, a host that is not there)
  unreachable: CAUSE                 the network said no (ICMP unreachable...)
sorted by port, then a summary line.

  netlua scripts/portcheck.lua 127.0.0.1 22,80,8000-8010
  netlua scripts/portcheck.lua --max 20 --timeout 0.5 ::1 1-1024

Exits 0 when the check ran (whatever the ports said), 1 when the host
cannot be used, 2 on a bad option or port list.
]]

local net = require "net"

local USAGE = [[
usage: portcheck.lua [--max N] [--timeout S] HOST PORTS
Try a TCP connection to each of PORTS on HOST, concurrently, and say which
are open, closed (connection refused) or filtered (no answer: timeout).
  PORTS          a list like 22,80,8000-8010
  --max N        connections in flight at once (default 100)
  --timeout S    seconds to wait for each port (default 2)
  --help         this text]]

--- The sorted list of distinct ports in a spec like "22,80,8000-8010",
--- or nil, message.
local function parse_ports(spec)
  local seen, list = {}, {}
  for item in (spec .. ","):gmatch("([^,]*),") do
    local lo, hi = item:match("^(%d+)%-(%d+)$")
    if not lo then lo = item:match("^(%d+)$"); hi = lo end
    lo, hi = tonumber(lo), tonumber(hi)
    if not lo or lo < 1 or hi > 65535 or lo > hi then
      return nil, "bad port or range: '" .. item .. "' (1-65535, like 22,80,8000-8010)"
    end
    for p = lo, hi do
      if not seen[p] then seen[p] = true; list[#list + 1] = p end
    end
  end
  table.sort(list)
  return list
end

--- Options and arguments from the command line, or nil, message.
local function options(args)
  local o = { max = 100, timeout = 2 }
  local pos, i = {}, 1
  while i <= #args do
    local a = args[i]
    if a == "--help" or a == "-h" then o.help = true
    elseif a == "--max" or a == "--timeout" then
      local v = tonumber(args[i + 1])
      if not v or v <= 0 then return nil, a .. " needs a positive number" end
      if a == "--max" then
        o.max = math.tointeger(v)
        if not o.max then return nil, "--max needs a whole number" end
      else o.timeout = v end
      i = i + 1
    elseif a:sub(1, 1) == "-" and #a > 1 then return nil, "unknown option: " .. a
    else pos[#pos + 1] = a end
    i = i + 1
  end
  if o.help then return o end
  if #pos ~= 2 then return nil, "expected HOST PORTS" end
  o.host = pos[1]
  local ports, err = parse_ports(pos[2])
  if not ports then return nil, err end
  o.ports = ports
  return o
end

--- The verdict for one connect result: word ("open", "closed", ...) and text.
local function verdict(conn, err)
  if conn then return "open", "open" end
  local cause = tostring(err):match(".*: (.-)$") or tostring(err)
  if cause == "connection refused" then return "closed", "closed: connection refused" end
  if cause == "timeout" then return "filtered", "filtered: nobody's home (timeout)" end
  return "unreachable", "unreachable: " .. cause
end

--- Check every port with at most o.max connects in flight; returns a
--- table port -> {word, text}.
local function check_all(o, addr)
  local results, next_i = {}, 1
  local function worker()
    while next_i <= #o.ports do
      local port = o.ports[next_i]
      next_i = next_i + 1
      local conn, err = net.connect(addr, port, { timeout = o.timeout })
      local word, text = verdict(conn, err)
      if conn then conn:close() end
      results[port] = { word, text }
    end
  end
  for _ = 1, math.min(o.max, #o.ports) do net.spawn(worker) end
  net.run()
  return results
end

--- Entry point: returns the exit status.
local function main(args)
  local o, err = options(args)
  if not o then
    io.stderr:write("portcheck.lua: ", err, "\n", USAGE, "\n")
    return 2
  end
  if o.help then print(USAGE) return 0 end
  -- resolve once, so that every port goes to the same address
  local addrs, rerr = net.resolve(o.host, { timeout = o.timeout })
  if not addrs or not addrs[1] then
    io.stderr:write("portcheck.lua: cannot resolve ", o.host, ": ", tostring(rerr or "no address"), "\n")
    return 1
  end
  local addr = addrs[1]
  local t0 = net.now()
  local results = check_all(o, addr)
  local count = {}
  print(("%s (%s): %d port%s"):format(o.host, addr, #o.ports, #o.ports == 1 and "" or "s"))
  for _, port in ipairs(o.ports) do
    local r = results[port]
    count[r[1]] = (count[r[1]] or 0) + 1
    print(("%-10s %s"):format(port .. "/tcp", r[2]))
  end
  local parts = {}
  for _, w in ipairs { "open", "closed", "filtered", "unreachable" } do
    if count[w] then parts[#parts + 1] = count[w] .. " " .. w end
  end
  print(("%s in %.1f s"):format(table.concat(parts, ", "), net.now() - t0))
  return 0
end

os.exit(main(arg or {}))
