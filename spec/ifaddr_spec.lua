--[[
ifaddr_spec: net.interfaces, net.interface, net.hostname, net.myip and
net.gateways, checked against `ip -j addr` / `ip -j route` on this machine
and in network namespaces built for the purpose (root only; skipped with a
message otherwise).  No traffic leaves the host: `ip route get` and a
connect()ed UDP socket send nothing.
]]

local net = require "net"
local H = require "spec.support.ifaddr_helper"

local FLAGS = { "up", "running", "loopback", "broadcast", "multicast", "point-to-point" }

--- The address tables of iface with the given address text, or nil.
local function find_addr(iface, address)
  for _, a in ipairs(iface.addrs) do
    if a.address == address then return a end
  end
end

describe("net.interfaces()", function()
  it("returns one well-formed entry per interface, ordered by index", function()
    local list = assert(net.interfaces())
    assert.is_true(#list >= 1)
    local last = 0
    for _, i in ipairs(list) do
      assert.is_string(i.name)
      assert.is_true(i.index > last)
      last = i.index
      for _, f in ipairs(FLAGS) do assert.is_boolean(i.flags[f], f) end
      assert.is_table(i.addrs)
      if i.mac then assert.matches("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$", i.mac) end
      for _, a in ipairs(i.addrs) do
        assert.is_true(a.family == "inet" or a.family == "inet6")
        assert.equal(a.family, (net.ip.parse(a.address)))
        assert.equal(net.ip.prefix_to_netmask(a.prefix, a.family), a.netmask)
        if a.family == "inet6" then assert.is_string(a.scope) end
      end
    end
  end)

  it("agrees with `ip -j addr`: names, indices, flags, MTU, MAC, addresses", function()
    local theirs, err = H.ip_interfaces("")
    if not theirs then pending(err) return end
    local ours = H.net_interfaces(assert(net.interfaces()))
    assert.same(theirs, ours)
  end)

  it("shows the loopback interface with 127.0.0.1/8 when lo is up", function()
    local lo = assert(net.interface("lo"))
    if not lo.flags.up then pending("lo is down here") return end
    assert.is_true(lo.flags.loopback)
    local a = find_addr(lo, "127.0.0.1")
    assert.is_table(a)
    assert.equal(8, a.prefix)
    assert.equal("255.0.0.0", a.netmask)
    assert.is_nil(lo.mac)
  end)

  it("leaks no file descriptor", function()
    local before = H.fd_count()
    for _ = 1, 50 do
      net.interfaces(); net.interface("lo"); net.interface("nosuch0")
      net.hostname(); net.myip(); net.myip("inet6"); net.gateways()
    end
    assert.equal(before, H.fd_count())
  end)
end)

describe("net.interface(name)", function()
  it("returns the same entry as net.interfaces(), by name or index", function()
    for _, i in ipairs(assert(net.interfaces())) do
      assert.same(i, net.interface(i.name))
      assert.same(i, net.interface(i.index))
    end
  end)

  it("returns nil, 'no interface NAME' for an unknown name or index", function()
    local v, err = net.interface("nosuch0")
    assert.is_nil(v)
    assert.equal("no interface nosuch0", err)
    v, err = net.interface(987654)
    assert.is_nil(v)
    assert.matches("no interface", err)
    assert.is_nil((net.interface(("x"):rep(100))))
  end)

  it("raises on a wrong argument", function()
    assert.has_error(function() net.interface() end)
    assert.has_error(function() net.interface({}) end)
    assert.error_matches(function() net.interface("lo\0x") end, "NUL")
  end)
end)

describe("net.hostname()", function()
  it("is the kernel's host name", function()
    local f = io.open("/proc/sys/kernel/hostname")
    if not f then pending("no /proc/sys/kernel/hostname") return end
    local want = f:read("l")
    f:close()
    assert.equal(want, net.hostname())
  end)
end)

describe("net.myip()", function()
  it("is the source address `ip route get` picks for the outside", function()
    local want = H.route_src("", "8.8.8.8")
    local got, note = net.myip("inet")
    if want then
      assert.equal(want, got)
      assert.is_nil(note)
    else
      assert.matches("no default route", note)
    end
  end)

  it("does the same for IPv6", function()
    local want = H.route_src("", "2001:4860:4860::8888")
    local got, note = net.myip("inet6")
    if want then
      assert.equal(want, got)
      assert.is_nil(note)
    elseif got then
      assert.matches("no default route", note)
    end
  end)

  it("returns an address of this host, classified", function()
    local addr = net.myip()
    if not addr then pending("no address at all here") return end
    local found = false
    for _, i in ipairs(net.interfaces()) do
      if find_addr(i, addr) then found = true end
    end
    assert.is_true(found)
    assert.is_string((net.ip.classify(addr)))
  end)

  it("raises on an unknown family", function()
    assert.error_matches(function() net.myip("ipx") end, "invalid option")
    assert.has_error(function() net.myip({}) end)
  end)
end)

describe("net.gateways()", function()
  it("agrees with `ip -j route show default`", function()
    local v4, err = H.ip_defaults("", "inet")
    if not v4 then pending(err) return end
    local v6 = H.ip_defaults("", "inet6") or {}
    local gws, why = net.gateways()
    if #v4 + #v6 == 0 then
      assert.is_nil(gws)
      assert.equal("no default route", why)
      return
    end
    assert.is_table(gws, why)
    for fam, want in pairs { inet = v4, inet6 = v6 } do
      table.sort(want, function(a, b) return a.metric < b.metric end)
      if want[1] then
        assert.equal(want[1].gateway, gws[fam].gateway)
        assert.equal(want[1].dev, gws[fam].interface)
        assert.equal(want[1].metric, gws[fam].metric)
      else
        assert.is_nil(gws[fam])
      end
    end
    assert.equal(#v4 + #v6, #gws)
  end)
end)

-- The lab: lo up; veth va (up, several IPv4 and IPv6 addresses, an alias
-- label, MTU 1400) <-> vb (up); veth vc (down, one address) <-> vd (down).
local LAB = {
  "link set lo up",
  "link add va type veth peer name vb",
  "link set va address 02:00:5e:10:00:01 mtu 1400",
  "link set vb address 02:00:5e:10:00:02",
  "addr add 10.11.0.1/24 brd 10.11.0.255 dev va",
  "addr add 192.168.77.1/24 brd 192.168.77.255 dev va",
  "addr add 10.11.5.1/24 brd 10.11.5.255 dev va label va:five",
  "addr add 10.99.0.1/32 dev va",
  "addr add fd11::1/64 dev va nodad",
  "addr add fd12::1/48 dev va nodad",
  "addr add 10.11.0.2/24 brd 10.11.0.255 dev vb",
  "link set va up",
  "link set vb up",
  "link add vc type veth peer name vd",
  "addr add 10.12.0.1/24 dev vc",
}

describe("in network namespaces", function()
  local why = H.netns_unavailable()
  if why then
    it("(skipped)", function() pending("namespace tests skipped: " .. why) end)
    return
  end

  local ns
  before_each(function()
    local err
    ns, err = H.netns_add()
    if not ns then H.cleanup() end
    assert(ns, err)
  end)
  after_each(function() H.cleanup() end)

  --- Build the lab in ns, or mark the test pending when that fails.
  local function lab()
    local ok, err = H.ns_ip(ns, LAB)
    if not ok then pending("cannot build the lab: " .. err) end
    return ok
  end

  it("reports known addresses, prefixes, MACs and MTU", function()
    if not lab() then return end
    local r = assert(H.run_in_ns(ns, "return net.interface('va'), net.interfaces()"))
    local va = r[1]
    assert.equal("02:00:5e:10:00:01", va.mac)
    assert.equal(1400, va.mtu)
    assert.is_true(va.flags.up and va.flags.broadcast and va.flags.multicast)
    local a = assert(find_addr(va, "10.11.0.1"))
    assert.same({ family = "inet", address = "10.11.0.1", netmask = "255.255.255.0",
                  prefix = 24, broadcast = "10.11.0.255" }, a)
    assert.equal(24, find_addr(va, "192.168.77.1").prefix)
    a = assert(find_addr(va, "10.99.0.1"))
    assert.equal(32, a.prefix)
    assert.is_nil(a.broadcast)
    a = assert(find_addr(va, "10.11.5.1"))
    assert.equal("va:five", a.label)
    assert.same({ family = "inet6", address = "fd11::1", netmask = "ffff:ffff:ffff:ffff::",
                  prefix = 64, scope = "global" }, find_addr(va, "fd11::1"))
    assert.equal(48, find_addr(va, "fd12::1").prefix)
    for _, x in ipairs(va.addrs) do
      if x.address:match("^fe80:") then
        assert.equal("link", x.scope)
        assert.equal(va.index, x.scope_id)
      end
    end
    -- no separate entry for the alias label, and the whole list matches ip
    for _, i in ipairs(r[2]) do assert.is_not.equal("va:five", i.name) end
    assert.same(assert(H.ip_interfaces("-n " .. ns)), H.net_interfaces(r[2]))
  end)

  it("shows an interface that is down, with its address", function()
    if not lab() then return end
    local r = assert(H.run_in_ns(ns, "return net.interface('vc'), net.interface('vd'), net.interface('vb')"))
    local vc, vd, vb = r[1], r[2], r[3]
    assert.is_false(vc.flags.up)
    assert.is_false(vc.flags.running)
    assert.is_table(find_addr(vc, "10.12.0.1"))
    assert.is_false(vd.flags.up)
    assert.equal(0, #vd.addrs)
    assert.is_true(vb.flags.up and vb.flags.running)
  end)

  it("says clearly when there is no default route", function()
    if not lab() then return end
    local r = assert(H.run_in_ns(ns, [[
      local a, n = net.myip()
      local a6, n6 = net.myip('inet6')
      local g, ge = net.gateways()
      return a, n, a6, n6, g, ge]]))
    assert.is_truthy(({ ["10.11.0.1"] = 1, ["192.168.77.1"] = 1, ["10.11.5.1"] = 1,
                        ["10.99.0.1"] = 1, ["10.11.0.2"] = 1 })[r[1]], r[1])
    assert.matches("^no default route: first address of v[ab]", r[2])
    assert.is_truthy(({ ["fd11::1"] = 1, ["fd12::1"] = 1 })[r[3]], r[3])
    assert.matches("^no default route", r[4])
    assert.is_nil(r[5])
    assert.equal("no default route", r[6])
  end)

  it("finds the default route, its source address and its gateways", function()
    if not lab() then return end
    assert(H.ns_ip(ns, { "route add default via 10.11.0.253 dev va metric 50",
                         "route add default via 10.11.0.254 dev va",
                         "-6 route add default via fd11::fe dev va metric 300" }))
    local r = assert(H.run_in_ns(ns, [[
      local a, n = net.myip()
      local a6, n6 = net.myip('inet6')
      return a, n, a6, n6, net.gateways()]]))
    assert.equal(H.route_src("-n " .. ns, "8.8.8.8"), r[1])
    assert.equal("10.11.0.1", r[1])
    assert.is_nil(r[2])
    assert.equal(H.route_src("-n " .. ns, "2001:4860:4860::8888"), r[3])
    assert.is_nil(r[4])
    local g = r[5]
    assert.same({ family = "inet", gateway = "10.11.0.254", interface = "va", metric = 0 }, g.inet)
    assert.same({ family = "inet6", gateway = "fd11::fe", interface = "va", metric = 300 }, g.inet6)
    assert.equal(3, #g)
    assert.same({ family = "inet", gateway = "10.11.0.253", interface = "va", metric = 50 }, g[2])
    assert.same(g.inet6, g[3])
  end)

  it("shows a point-to-point interface and a default route without a gateway", function()
    local ok, err = H.ns_ip(ns, { "link set lo up", "tuntap add mode tun name tn0",
      "addr add 10.50.0.1 peer 10.50.0.2/32 dev tn0", "link set tn0 up",
      "route add default dev tn0" })
    if not ok then pending("no tun device here: " .. err) return end
    local r = assert(H.run_in_ns(ns, "return net.interface('tn0'), net.gateways()"))
    local tn = r[1]
    assert.is_true(tn.flags["point-to-point"])
    assert.is_false(tn.flags.broadcast)
    assert.is_nil(tn.mac)
    assert.same({ family = "inet", address = "10.50.0.1", netmask = "255.255.255.255",
                  prefix = 32, peer = "10.50.0.2" }, find_addr(tn, "10.50.0.1"))
    assert.same({ family = "inet", interface = "tn0", metric = 0 }, r[2].inet)
  end)

  -- QA report 12: a peer address on an Ethernet-like (broadcast) interface
  -- came back as "broadcast", and an IPv6 peer was lost (getifaddrs has one
  -- field for both; rtnetlink says which it is).
  it("reports a peer address as peer on any interface, IPv4 and IPv6", function()
    assert(H.ns_ip(ns, { "link set lo up", "link add pa type veth peer name pb",
      "addr add 10.9.9.1 peer 10.9.9.2/32 dev pa",
      "addr add 2001:db8:9::1 peer 2001:db8:9::2/128 dev pa nodad",
      "addr add 10.9.8.1/24 brd 10.9.8.255 dev pa", "link set pa up", "link set pb up" }))
    local r = assert(H.run_in_ns(ns, "return net.interface('pa')"))
    local pa = r[1]
    assert.is_false(pa.flags["point-to-point"])
    assert.same({ family = "inet", address = "10.9.9.1", netmask = "255.255.255.255",
                  prefix = 32, peer = "10.9.9.2" }, find_addr(pa, "10.9.9.1"))
    assert.same({ family = "inet6", address = "2001:db8:9::1", prefix = 128,
                  netmask = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", scope = "global",
                  peer = "2001:db8:9::2" }, find_addr(pa, "2001:db8:9::1"))
    assert.equal("10.9.8.255", find_addr(pa, "10.9.8.1").broadcast)
    assert.is_nil(find_addr(pa, "10.9.8.1").peer)
    -- and `ip -j addr` agrees: its "address" is the peer when it differs from "local"
    for _, l in ipairs(assert(H.ip_json("-n " .. ns .. " addr show dev pa"))) do
      for _, a in ipairs(l.addr_info) do
        local ours = assert(find_addr(pa, a["local"]))
        assert.equal(a.address ~= a["local"] and a.address or nil, ours.peer)
        assert.equal(a.broadcast, ours.broadcast)
      end
    end
  end)

  -- QA report 8: a default route without a gateway must still be the
  -- preferred route of its family (gateways().inet / .inet6).
  it("takes a default route without a gateway as inet / inet6", function()
    assert(H.ns_ip(ns, { "link set lo up", "link add da type veth peer name db",
      "addr add 10.7.0.1/24 dev da", "addr add fd07::1/64 dev da nodad",
      "link set da up", "link set db up",
      "route add default dev da", "-6 route add default dev da" }))
    local r = assert(H.run_in_ns(ns, "return net.gateways(), net.myip('inet'), net.myip('inet6')"))
    local g = r[1]
    assert.same({ family = "inet", interface = "da", metric = 0 }, g.inet)
    assert.same({ family = "inet6", interface = "da", metric = 1024 }, g.inet6)
    assert.equal(2, #g)
    assert.equal("10.7.0.1", r[2])
    assert.equal("fd07::1", r[3])
  end)

  -- QA report 8: every next hop of a multipath default route is listed, and
  -- myip and gateways().inet name the hop the kernel takes (`ip route get`).
  it("lists every next hop of a multipath default route, agreeing with `ip route get`", function()
    assert(H.ns_ip(ns, { "link set lo up",
      "link add mpa type veth peer name mpb", "link add mpc type veth peer name mpd",
      "addr add 10.31.0.1/24 dev mpa", "addr add 10.32.0.1/24 dev mpc",
      "addr add fd31::1/64 dev mpa nodad", "addr add fd32::1/64 dev mpc nodad",
      "link set mpa up", "link set mpb up", "link set mpc up", "link set mpd up",
      "route add default nexthop via 10.31.0.254 dev mpa nexthop via 10.32.0.254 dev mpc weight 3",
      "-6 route add default nexthop via fd31::fe dev mpa nexthop via fd32::fe dev mpc" }))
    local r = assert(H.run_in_ns(ns, "return net.gateways(), net.myip('inet'), net.myip('inet6')"))
    local g = r[1]
    assert.equal(4, #g)
    assert.same({ family = "inet", gateway = "10.31.0.254", interface = "mpa", metric = 0, weight = 1 }, g[1])
    assert.same({ family = "inet", gateway = "10.32.0.254", interface = "mpc", metric = 0, weight = 3 }, g[2])
    assert.same({ family = "inet6", gateway = "fd31::fe", interface = "mpa", metric = 1024, weight = 1 }, g[3])
    assert.same({ family = "inet6", gateway = "fd32::fe", interface = "mpc", metric = 1024, weight = 1 }, g[4])
    for fam, dst in pairs { inet = "8.8.8.8", inet6 = "2001:4860:4860::8888" } do
      local kernel = assert(H.ip_json("-n " .. ns .. " route get " .. dst))[1]
      assert.equal(kernel.prefsrc, fam == "inet" and r[2] or r[3])
      assert.equal(kernel.gateway, g[fam].gateway)
      assert.equal(kernel.dev, g[fam].interface)
      -- myip is an address of the preferred gateway's interface
      local net_of = { mpa = fam == "inet" and "10.31.0.1" or "fd31::1",
                       mpc = fam == "inet" and "10.32.0.1" or "fd32::1" }
      assert.equal(net_of[g[fam].interface], fam == "inet" and r[2] or r[3])
    end
  end)

  it("falls back to loopback, and says so, on a host with only lo", function()
    assert(H.ns_ip(ns, { "link set lo up" }))
    local r = assert(H.run_in_ns(ns, [[
      local a, n = net.myip()
      return a, n, net.gateways()]]))
    assert.equal("127.0.0.1", r[1])
    assert.equal("no default route: loopback only", r[2])
    assert.is_nil(r[3])
    assert.equal("no default route", r[4])
  end)

  it("returns nil, message when no interface is up at all", function()
    local r = assert(H.run_in_ns(ns, [[
      local l = net.interfaces()
      local a, e = net.myip()
      return a, e, #l, l[1].name, l[1].flags.up]]))
    assert.is_nil(r[1])
    assert.equal("no address: no interface is up", r[2])
    assert.equal(1, r[3])
    assert.equal("lo", r[4])
    assert.is_false(r[5])
  end)
end)

describe("scripts/myip.lua", function()
  local bin = H.netlua()
  if not bin then
    it("(skipped)", function() pending("no netlua binary (build/netlua or $NETLUA)") end)
    return
  end
  local function run(args, ns)
    local pre = ns and ("ip netns exec " .. ns .. " ") or ""
    return H.sh(pre .. H.quote(bin) .. " scripts/myip.lua " .. args)
  end

  it("has --help and refuses unknown options with status 2", function()
    local out, ok = run("--help")
    assert.is_true(ok)
    assert.matches("usage: myip.lua", out, 1, true)
    local _, ok2, code = run("--bogus")
    assert.is_false(ok2)
    assert.equal(2, code)
  end)

  it("prints the host name, the primary address with its class, and every interface", function()
    local addr = net.myip()
    local out, ok = run("")
    assert.equal(addr ~= nil, ok)
    assert.matches("host      " .. net.hostname(), out, 1, true)
    if addr then
      assert.matches("address   " .. addr, out, 1, true)
      assert.matches("class     " .. net.ip.classify(addr), out, 1, true)
      assert.equal(addr .. "\n", (run("--brief")))
    end
    for _, i in ipairs(net.interfaces()) do
      assert.matches("\n  " .. i.name .. " ", out, 1, true)
    end
  end)

  describe("in a namespace", function()
    local why = H.netns_unavailable()
    if why then
      it("(skipped)", function() pending("namespace tests skipped: " .. why) end)
      return
    end
    after_each(function() H.cleanup() end)

    -- QA report 12: a 15-character interface name broke the columns
    it("keeps its columns aligned with a 15-character interface name", function()
      local ns = assert(H.netns_add())
      assert(H.ns_ip(ns, { "link set lo up", "link add abcdefghijklmno type veth peer name x0",
        "addr add 10.40.0.1/24 brd 10.40.0.255 dev abcdefghijklmno",
        "addr add 10.41.0.1 peer 10.41.0.2/32 dev abcdefghijklmno",
        "addr add fd40::1/64 dev abcdefghijklmno nodad",
        "link set abcdefghijklmno up", "link set x0 up" }))
      local out, ok = run("", ns)
      assert.is_true(ok, out)
      local index_at, class_at = {}, {}
      for line in out:gmatch("[^\n]+") do
        local name = line:match("^  (%S+) +index ")
        if name then index_at[#index_at + 1] = line:find(" index ", 1, true) end
        local fam = line:match("^        (inet6?) ")
        if fam then
          -- the class column starts at the same place on every address line
          class_at[#class_at + 1] = line:gsub("  <%- primary$", ""):find(" %S+$")
        end
      end
      assert.is_true(#index_at >= 3)
      for _, c in ipairs(index_at) do assert.equal(index_at[1], c) end
      assert.is_true(#class_at >= 4)
      for _, c in ipairs(class_at) do assert.equal(class_at[1], c) end
      assert.matches("peer 10.41.0.2", out, 1, true)
      assert.matches("brd 10.40.0.255", out, 1, true)
    end)

    it("says 'loopback only' with only lo, and fails with nothing up", function()
      local ns = assert(H.netns_add())
      local out, ok, code = run("", ns)
      assert.is_false(ok)
      assert.equal(1, code)
      assert.matches("address   none (no address: no interface is up)", out, 1, true)
      assert(H.ns_ip(ns, { "link set lo up" }))
      out, ok = run("", ns)
      assert.is_true(ok)
      assert.matches("address   127.0.0.1  (no default route: loopback only)", out, 1, true)
      assert.matches("gateway   none (no default route)", out, 1, true)
    end)
  end)
end)
