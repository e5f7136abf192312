--[[
ifaddr_helper: support for spec/ifaddr_spec.lua.

Runs commands and parses `ip -j` JSON, counts this process's open fds, and
builds throwaway network namespaces (ip netns, veth pairs) in which a netlua
child runs a chunk and hands its results back as Lua text.  Every namespace
made here is remembered and removed by cleanup(), even after a failure.
]]

local H = {}

local ok_json, json = pcall(require, "dkjson")

--- Quote s for the shell.
local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
H.quote = quote

--- Run a shell command; returns its output (stdout and stderr), true/false
--- for success, and the exit code.
function H.sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok == true, code
end

--- Decoded JSON of `ip -j ARGS` (prefix with "-n NS" for a namespace),
--- or nil, message.
function H.ip_json(args)
  if not ok_json then return nil, "dkjson is not installed" end
  local out, ok = H.sh("ip -j " .. args)
  if not ok then return nil, "ip -j " .. args .. ": " .. out end
  local v, _, err = json.decode(out, 1, json.null)
  if v == nil then return nil, "bad JSON from ip -j " .. args .. ": " .. tostring(err) end
  return v
end

--- The pid of this process (not of a child), from /proc/self/stat.
local function my_pid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("n")
  f:close()
  return math.tointeger(pid)
end

--- How many fds this process has open.
function H.fd_count()
  -- what earlier specs left to the collector goes first: only the calls
  -- between two counts may change the second (CI once saw 10, then 9)
  collectgarbage(); collectgarbage()
  local out = H.sh("ls /proc/" .. my_pid() .. "/fd")
  local n = 0
  for _ in out:gmatch("%d+") do n = n + 1 end
  return n
end

--- The netlua binary to run in namespaces (absolute path), or nil.
function H.netlua()
  local p = os.getenv("NETLUA")
  if p and p ~= "" then return p end
  local f = io.open("build/netlua")
  if not f then return nil end
  f:close()
  local pwd = H.sh("pwd"):gsub("%s+$", "")
  return pwd .. "/build/netlua"
end

--- Why namespace tests cannot run here, or nil when they can.
function H.netns_unavailable()
  local uid = H.sh("id -u"):gsub("%s+", "")
  if uid ~= "0" then return "namespace tests need root (uid is " .. uid .. ")" end
  if not H.netlua() then return "no netlua binary (build/netlua or $NETLUA)" end
  local out, ok = H.sh("ip netns list")
  if not ok then return "ip netns does not work here: " .. out end
  return nil
end

local made = {}    -- namespaces created and not yet deleted
local serial = 0

--- Create a namespace netlua-test-<pid>-<n>; returns its name or nil, message.
function H.netns_add()
  serial = serial + 1
  local name = ("netlua-test-%d-%d"):format(my_pid(), serial)
  local out, ok = H.sh("ip netns add " .. name)
  if not ok then return nil, "ip netns add " .. name .. ": " .. out end
  made[#made + 1] = name
  return name
end

--- Run `ip -n NS <cmd>` for each command; returns true or nil, message.
function H.ns_ip(ns, cmds)
  for _, c in ipairs(cmds) do
    local out, ok = H.sh("ip -n " .. ns .. " " .. c)
    if not ok then return nil, "ip -n " .. ns .. " " .. c .. ": " .. out end
  end
  return true
end

--- Delete every namespace this helper made.
function H.cleanup()
  for i = #made, 1, -1 do
    H.sh("ip netns del " .. made[i])
    made[i] = nil
  end
end

-- Turns a value into Lua text a parent can load (no functions or cycles).
local SERIALIZER = [==[
local function ser(v)
  local t = type(v)
  if t == "string" then return ("%q"):format(v) end
  if t ~= "table" then return tostring(v) end
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = "[" .. ser(k) .. "]=" .. ser(x) end
  return "{" .. table.concat(parts, ",") .. "}"
end
]==]

--- Run `chunk` (Lua code whose return values we want) with netlua inside
--- namespace ns; returns the packed results, or nil, message.
function H.run_in_ns(ns, chunk)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(SERIALIZER, "local net = require 'net'\n",
    "local r = table.pack((function() ", chunk, "\nend)())\n",
    "io.write('RESULT', ser(r), '\\n')\n")
  f:close()
  local out, ok = H.sh("ip netns exec " .. ns .. " " .. quote(H.netlua()) .. " " .. path)
  os.remove(path)
  local text = out:match("RESULT(.-)\n")
  if not ok or not text then return nil, "netlua in " .. ns .. " failed: " .. out end
  local fn, err = load("return " .. text, "=result", "t", {})
  if not fn then return nil, err end
  return fn()
end

--- `ip -j addr` interfaces as comparable records, keyed by name:
--- { index, mtu, mac, flags = {up=..}, addrs = {"inet 10.0.0.1/24 brd 10.0.0.255", ...} }
function H.ip_interfaces(prefix)
  local links, err = H.ip_json((prefix or "") .. " addr")
  if not links then return nil, err end
  local t = {}
  for _, l in ipairs(links) do
    local fl = {}
    for _, f in ipairs(l.flags or {}) do fl[f] = true end
    local mac = l.address
    if l.link_type ~= "ether" or mac == "00:00:00:00:00:00" then mac = nil end
    local addrs = {}
    for _, a in ipairs(l.addr_info or {}) do
      addrs[#addrs + 1] = H.addr_key(a.family, a["local"], a.prefixlen,
        a.broadcast, a.family == "inet6" and a.scope or nil)
    end
    table.sort(addrs)
    t[l.ifname] = { index = l.ifindex, mtu = l.mtu, mac = mac, addrs = addrs,
      flags = { up = fl.UP or false, loopback = fl.LOOPBACK or false,
                broadcast = fl.BROADCAST or false, multicast = fl.MULTICAST or false,
                ["point-to-point"] = fl.POINTOPOINT or false } }
  end
  return t
end

--- One address as a comparable string.
function H.addr_key(family, address, prefix, broadcast, scope)
  return ("%s %s/%s%s%s"):format(family, address, tostring(prefix),
    broadcast and (" brd " .. broadcast) or "", scope and (" scope " .. scope) or "")
end

--- net.interfaces() in the same shape as ip_interfaces.
function H.net_interfaces(list)
  local t = {}
  for _, i in ipairs(list) do
    local addrs = {}
    for _, a in ipairs(i.addrs) do
      addrs[#addrs + 1] = H.addr_key(a.family, a.address, a.prefix, a.broadcast, a.scope)
    end
    table.sort(addrs)
    local f = i.flags
    t[i.name] = { index = i.index, mtu = i.mtu, mac = i.mac, addrs = addrs,
      flags = { up = f.up, loopback = f.loopback, broadcast = f.broadcast,
                multicast = f.multicast, ["point-to-point"] = f["point-to-point"] } }
  end
  return t
end

--- The default routes of `ip -j route` for one family: list of {gateway, dev, metric}.
function H.ip_defaults(prefix, family)
  local routes, err = H.ip_json((prefix or "") .. (family == "inet6" and " -6" or " -4")
    .. " route show default")
  if not routes then return nil, err end
  local t = {}
  for _, r in ipairs(routes) do
    if r.type == nil or r.type == "unicast" then
      t[#t + 1] = { gateway = r.gateway, dev = r.dev, metric = r.metric or 0 }
    end
  end
  return t
end

--- The source address `ip route get` reports for dst, or nil (no route).
function H.route_src(prefix, dst)
  local r = H.ip_json((prefix or "") .. " route get " .. dst)
  return r and r[1] and r[1].prefsrc or nil
end

return H
