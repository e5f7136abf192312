--[[
net.ip: reading and reasoning about IP addresses, in pure Lua.

  net.ip.parse(s)            -> family, text   family "inet" or "inet6"; text
                                               is canonical (IPv6 per RFC 5952,
                                               a zone "%eth0" kept)
  net.ip.tonumber(v4)        -> integer        "an IPv4 address is a 32-bit number"
  net.ip.fromnumber(n)       -> "a.b.c.d"      n an integer 0 .. 2^32-1
  net.ip.contains(cidr, a)   -> boolean        "10.0.0.0/8", "fd00::/8" or a bare
                                               address; false across families
  net.ip.classify(a)         -> class, note    class is one of "unspecified",
                                               "loopback", "private", "shared",
                                               "link-local", "documentation",
                                               "multicast", "broadcast",
                                               "reserved", "public"; note names
                                               the range and its RFC
  net.ip.network(cidr)       -> { family, address, prefix, netmask, network,
                                  broadcast (IPv4, prefix < 31), first, last,
                                  size (IPv4) }
  net.ip.prefix_to_netmask(prefix [, family]) -> netmask text
  net.ip.netmask_to_prefix(netmask)           -> prefix

Malformed text gives nil, message ("256.1.1.1", "1.2.3", "::g", "10.0.0.0/33");
an argument of the wrong type or a number out of range raises an error.
Nothing here touches the network.
]]

local M = {}

local MAX32 = 0xffffffff

--- Raise "bad argument" the way Lua's own functions word it, blaming the
--- caller of the net.ip function `fname`.
local function argerror(i, fname, msg)
  error(("bad argument #%d to '%s' (%s)"):format(i, fname, msg), 3)
end

--- Check that argument i of fname is a string.
local function check_string(v, i, fname)
  if type(v) ~= "string" then
    error(("bad argument #%d to '%s' (string expected, got %s)")
      :format(i, fname, v == nil and "no value" or type(v)), 3)
  end
  return v
end

--- The input quoted for a message, escaped and cut short when long.
local function show(s)
  if #s > 60 then s = s:sub(1, 57) .. "..." end
  return (("%q"):format(s):gsub("\\\n", "\\n"))
end

---------------------------------------------------------------- IPv4

--- Parse dotted-quad text into an integer, or nil, reason.  Strict: four
--- decimal parts 0..255, no leading zeros (is "010" octal? refuse to guess).
local function parse4(s)
  local parts = {}
  for p in (s .. "."):gmatch("([^.]*)%.") do parts[#parts + 1] = p end
  if #parts ~= 4 then
    return nil, ("%d parts, need 4"):format(#parts)
  end
  local n = 0
  for _, p in ipairs(parts) do
    if not p:match("^%d+$") then return nil, ("bad part %s"):format(show(p)) end
    if #p > 1 and p:sub(1, 1) == "0" then
      return nil, ("leading zero in %s"):format(p)
    end
    if #p > 3 or tonumber(p) > 255 then
      return nil, ("%s is greater than 255"):format(p)
    end
    n = n * 256 + tonumber(p)
  end
  return n
end

--- Dotted-quad text of an integer 0 .. 2^32-1.
local function text4(n)
  return ("%d.%d.%d.%d"):format(n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)
end

---------------------------------------------------------------- IPv6

--- Parse one side of "::" into a list of 16-bit groups, or nil, reason.
--- v4ok: the last field may be an embedded dotted quad.
local function groups6(part, v4ok)
  local list = {}
  if part == "" then return list end
  local fields = {}
  for f in (part .. ":"):gmatch("([^:]*):") do fields[#fields + 1] = f end
  for i, f in ipairs(fields) do
    if f == "" then return nil, "empty group (stray ':')" end
    if i == #fields and v4ok and f:find(".", 1, true) then
      local n, why = parse4(f)
      if not n then return nil, "embedded IPv4 " .. show(f) .. ": " .. why end
      list[#list + 1] = n >> 16
      list[#list + 1] = n & 0xffff
    elseif f:match("^%x%x?%x?%x?$") then
      list[#list + 1] = tonumber(f, 16)
    else
      return nil, ("bad group %s"):format(show(f))
    end
  end
  return list
end

--- Parse IPv6 text (no zone) into 8 groups, or nil, reason.
local function parse6(s)
  local a, b = s:find("::", 1, true)
  local head, tail = s, nil
  if a then
    head, tail = s:sub(1, a - 1), s:sub(b + 1)
    if tail:find("::", 1, true) then return nil, "more than one '::'" end
  end
  local h, why = groups6(head, tail == nil)
  if not h then return nil, why end
  local t = {}
  if tail then
    t, why = groups6(tail, true)
    if not t then return nil, why end
    if #h + #t > 7 then return nil, "too many groups for '::'" end
  elseif #h ~= 8 then
    return nil, ("%d groups, need 8"):format(#h)
  end
  local g = {}
  for i = 1, #h do g[#g + 1] = h[i] end
  for _ = 1, 8 - #h - #t do g[#g + 1] = 0 end
  for i = 1, #t do g[#g + 1] = t[i] end
  return g
end

--- The longest run of two or more zero groups (first wins): start, length.
local function zero_run(g)
  local best, blen, i = nil, 1, 1
  while i <= 8 do
    if g[i] == 0 then
      local j = i
      while j < 8 and g[j + 1] == 0 do j = j + 1 end
      if j - i + 1 > blen then best, blen = i, j - i + 1 end
      i = j + 1
    else
      i = i + 1
    end
  end
  return best, blen
end

--- True when groups are an IPv4-mapped address ::ffff:a.b.c.d.
local function is_mapped(g)
  return g[1] == 0 and g[2] == 0 and g[3] == 0 and g[4] == 0 and g[5] == 0
    and g[6] == 0xffff
end

--- RFC 5952 text of 8 groups: lower case, no leading zeros, the longest
--- zero run (two groups or more) as "::", mapped IPv4 in dotted form.
local function text6(g)
  if is_mapped(g) then return "::ffff:" .. text4((g[7] << 16) | g[8]) end
  local hex = {}
  for i = 1, 8 do hex[i] = ("%x"):format(g[i]) end
  local start, len = zero_run(g)
  if not start then return table.concat(hex, ":") end
  return table.concat(hex, ":", 1, start - 1) .. "::"
    .. table.concat(hex, ":", start + len, 8)
end

---------------------------------------------------------------- addresses

--- Parse address text into { family, n (IPv4) or g (IPv6 groups), zone },
--- or nil, message.
local function parse_addr(s)
  if s:find(":", 1, true) then
    local addr, zone = s:match("^([^%%]*)%%(.*)$")
    if zone and not zone:match("^[%w%-_.]+$") then
      return nil, ("bad IPv6 address %s: bad zone"):format(show(s))
    end
    local g, why = parse6(addr or s)
    if not g then return nil, ("bad IPv6 address %s: %s"):format(show(s), why) end
    return { family = "inet6", g = g, zone = zone }
  end
  if s:match("^[%d.]+$") then
    local n, why = parse4(s)
    if not n then return nil, ("bad IPv4 address %s: %s"):format(show(s), why) end
    return { family = "inet", n = n }
  end
  return nil, ("not an IP address: %s"):format(show(s))
end

--- Canonical text of a parsed address.
local function addr_text(a)
  if a.family == "inet" then return text4(a.n) end
  return text6(a.g) .. (a.zone and "%" .. a.zone or "")
end

--- Parse "address/prefix" (or a bare address: a host route) into
--- address, prefix, or nil, message.
local function parse_cidr(s)
  local addr, p = s:match("^(.-)/(.*)$")
  local a, why = parse_addr(addr or s)
  if not a then return nil, why end
  local bits = a.family == "inet" and 32 or 128
  if not addr then return a, bits end
  if not p:match("^%d%d?%d?$") or tonumber(p) > bits then
    return nil, ("bad prefix length %s in %s (0..%d)"):format(show(p), show(s), bits)
  end
  if #p > 1 and p:sub(1, 1) == "0" then -- as parse4 refuses "010"
    return nil, ("leading zero in prefix length %s in %s"):format(show(p), show(s))
  end
  return a, tonumber(p)
end

--- The IPv4 mask integer of a prefix length.
local function mask4(prefix)
  return (MAX32 << (32 - prefix)) & MAX32
end

--- The 16-bit mask of group i (1..8) under a prefix length.
local function group_mask(prefix, i)
  local bits = math.max(0, math.min(16, prefix - (i - 1) * 16))
  return (0xffff << (16 - bits)) & 0xffff
end

--- True when parsed address a lies in network net/prefix (same family).
local function in_net(net, prefix, a)
  if net.family ~= a.family then return false end
  if a.family == "inet" then
    local m = mask4(prefix)
    return (net.n & m) == (a.n & m)
  end
  for i = 1, 8 do
    local m = group_mask(prefix, i)
    if (net.g[i] & m) ~= (a.g[i] & m) then return false end
  end
  return true
end

---------------------------------------------------------------- public API

--- net.ip.parse(s) -> family, canonical text; or nil, message.
function M.parse(s)
  check_string(s, 1, "parse")
  local a, why = parse_addr(s)
  if not a then return nil, why end
  return a.family, addr_text(a)
end

--- net.ip.tonumber(v4) -> the address as an integer 0 .. 2^32-1; or nil, message.
function M.tonumber(s)
  check_string(s, 1, "tonumber")
  local a, why = parse_addr(s)
  if not a then return nil, why end
  if a.family ~= "inet" then
    return nil, ("not an IPv4 address: %s (IPv6 is 128 bits)"):format(show(s))
  end
  return a.n
end

--- net.ip.fromnumber(n) -> dotted-quad text of an integer 0 .. 2^32-1.
function M.fromnumber(n)
  if type(n) ~= "number" then
    argerror(1, "fromnumber", "number expected, got " .. (n == nil and "no value" or type(n)))
  end
  local i = math.tointeger(n)
  if not i then argerror(1, "fromnumber", "number has no integer representation") end
  if i < 0 or i > MAX32 then argerror(1, "fromnumber", "out of range 0..4294967295") end
  return text4(i)
end

--- net.ip.contains(cidr, addr) -> true/false; or nil, message.
function M.contains(cidr, addr)
  check_string(cidr, 1, "contains")
  check_string(addr, 2, "contains")
  local net, prefix = parse_cidr(cidr)
  if not net then return nil, prefix end
  local a, why = parse_addr(addr)
  if not a then return nil, why end
  return in_net(net, prefix, a)
end

-- The ranges classify() knows, most specific first: cidr, class, note.
local RANGES = {
  { "0.0.0.0/32", "unspecified", "0.0.0.0, unspecified" },
  { "0.0.0.0/8", "reserved", "0.0.0.0/8, \"this network\" (RFC 791)" },
  { "127.0.0.0/8", "loopback", "127.0.0.0/8, loopback (RFC 1122)" },
  { "10.0.0.0/8", "private", "10.0.0.0/8, private (RFC 1918)" },
  { "172.16.0.0/12", "private", "172.16.0.0/12, private (RFC 1918)" },
  { "192.168.0.0/16", "private", "192.168.0.0/16, private (RFC 1918)" },
  { "100.64.0.0/10", "shared", "100.64.0.0/10, shared carrier-grade NAT (RFC 6598)" },
  { "169.254.0.0/16", "link-local", "169.254.0.0/16, link-local (RFC 3927)" },
  { "192.0.0.0/24", "reserved", "192.0.0.0/24, IETF protocol assignments (RFC 6890)" },
  { "192.0.2.0/24", "documentation", "192.0.2.0/24, TEST-NET-1 documentation (RFC 5737)" },
  { "198.51.100.0/24", "documentation", "198.51.100.0/24, TEST-NET-2 documentation (RFC 5737)" },
  { "203.0.113.0/24", "documentation", "203.0.113.0/24, TEST-NET-3 documentation (RFC 5737)" },
  { "198.18.0.0/15", "reserved", "198.18.0.0/15, benchmarking (RFC 2544)" },
  { "224.0.0.0/4", "multicast", "224.0.0.0/4, multicast (RFC 5771)" },
  { "255.255.255.255/32", "broadcast", "255.255.255.255, limited broadcast (RFC 919)" },
  { "240.0.0.0/4", "reserved", "240.0.0.0/4, reserved (RFC 1112)" },
  { "0.0.0.0/0", "public", "public IPv4 address" },
  { "::/128", "unspecified", "::, unspecified (RFC 4291)" },
  { "::1/128", "loopback", "::1, loopback (RFC 4291)" },
  { "64:ff9b::/96", "public", "64:ff9b::/96, NAT64 to public IPv4 (RFC 6052)" },
  { "100::/64", "reserved", "100::/64, discard-only (RFC 6666)" },
  { "2001:db8::/32", "documentation", "2001:db8::/32, documentation (RFC 3849)" },
  { "3fff::/20", "documentation", "3fff::/20, documentation (RFC 9637)" },
  { "fc00::/7", "private", "fc00::/7, unique local (RFC 4193)" },
  { "fe80::/10", "link-local", "fe80::/10, link-local (RFC 4291)" },
  { "fec0::/10", "reserved", "fec0::/10, deprecated site-local (RFC 3879)" },
  { "ff00::/8", "multicast", "ff00::/8, multicast (RFC 4291)" },
  { "2000::/3", "public", "2000::/3, global unicast (RFC 4291)" },
  { "::/0", "reserved", "outside 2000::/3, reserved by IANA" },
}
for _, r in ipairs(RANGES) do r.net, r.prefix = parse_cidr(r[1]) end

--- The class and note of a parsed address (IPv4-mapped: of its IPv4).
local function classify(a)
  if a.family == "inet6" and is_mapped(a.g) then
    local class, note = classify({ family = "inet", n = (a.g[7] << 16) | a.g[8] })
    return class, "IPv4-mapped (::ffff:0:0/96): " .. note
  end
  for _, r in ipairs(RANGES) do
    if in_net(r.net, r.prefix, a) then return r[2], r[3] end
  end
end

--- net.ip.classify(addr) -> class, note; or nil, message.
function M.classify(s)
  check_string(s, 1, "classify")
  local a, why = parse_addr(s)
  if not a then return nil, why end
  return classify(a)
end

--- net.ip.prefix_to_netmask(prefix [, family]) -> netmask text.
function M.prefix_to_netmask(prefix, family)
  family = family or "inet"
  if family ~= "inet" and family ~= "inet6" then
    argerror(2, "prefix_to_netmask", "\"inet\" or \"inet6\" expected")
  end
  local bits = family == "inet" and 32 or 128
  local p = math.tointeger(prefix)
  if type(prefix) ~= "number" or not p or p < 0 or p > bits then
    argerror(1, "prefix_to_netmask", ("integer 0..%d expected"):format(bits))
  end
  if family == "inet" then return text4(mask4(p)) end
  local g = {}
  for i = 1, 8 do g[i] = group_mask(p, i) end
  return text6(g)
end

--- net.ip.netmask_to_prefix(mask) -> prefix length; or nil, message when the
--- text is not an address or its one bits are not contiguous.
function M.netmask_to_prefix(s)
  check_string(s, 1, "netmask_to_prefix")
  local a, why = parse_addr(s)
  if not a then return nil, why end
  if a.zone then return nil, ("not a netmask: %s (has a zone)"):format(show(s)) end
  local bits = a.family == "inet" and 32 or 128
  for p = 0, bits do
    if in_net(a, bits, parse_addr(M.prefix_to_netmask(p, a.family))) then return p end
  end
  return nil, ("not a netmask: %s (one bits not contiguous)"):format(show(s))
end

--- The last address of net/prefix as a parsed address.
local function last_of(a, prefix)
  if a.family == "inet" then return { family = "inet", n = a.n | (~mask4(prefix) & MAX32) } end
  local g = {}
  for i = 1, 8 do g[i] = a.g[i] | (~group_mask(prefix, i) & 0xffff) end
  return { family = "inet6", g = g }
end

--- The network (first) address of net/prefix as a parsed address.
local function first_of(a, prefix)
  if a.family == "inet" then return { family = "inet", n = a.n & mask4(prefix) } end
  local g = {}
  for i = 1, 8 do g[i] = a.g[i] & group_mask(prefix, i) end
  return { family = "inet6", g = g }
end

--- net.ip.network(cidr) -> table describing the network; or nil, message.
--- first/last are the usable host range (RFC 3021: a /31 has two hosts).
function M.network(s)
  check_string(s, 1, "network")
  local a, prefix = parse_cidr(s)
  if not a then return nil, prefix end
  local lo, hi = first_of(a, prefix), last_of(a, prefix)
  local t = { family = a.family, address = addr_text(a), prefix = prefix,
              netmask = M.prefix_to_netmask(prefix, a.family),
              network = addr_text(lo), first = addr_text(lo), last = addr_text(hi) }
  if a.family == "inet" then
    t.size = 1 << (32 - prefix)
    if prefix < 31 then
      t.broadcast = addr_text(hi)
      t.first, t.last = text4(lo.n + 1), text4(hi.n - 1)
    end
  end
  return t
end

return M
