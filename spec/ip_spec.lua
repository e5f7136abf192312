--[[
ip_spec: net.ip, the pure-Lua address helpers: parse and canonical text
(RFC 5952), IPv4 as a 32-bit number, CIDR containment, classification,
netmasks.  Bad input must give a clear error or nil, message -- never a
wrong answer.
]]

local net = require "net"
local ip = net.ip

describe("net.ip", function()
  it("is reachable as net.ip and as require 'net.ip'", function()
    -- (not compared by identity: busted unloads modules between spec files)
    local function names(t)
      local list = {}
      for k in pairs(t) do list[#list + 1] = k end
      table.sort(list)
      return list
    end
    assert.same(names(require "net.ip"), names(ip))
    assert.equal("private", require("net.ip").classify("10.0.0.1"))
  end)
end)

describe("net.ip.parse", function()
  local good = {
    { "1.2.3.4", "inet", "1.2.3.4" },
    { "0.0.0.0", "inet", "0.0.0.0" },
    { "255.255.255.255", "inet", "255.255.255.255" },
    { "::", "inet6", "::" },
    { "::1", "inet6", "::1" },
    { "1::", "inet6", "1::" },
    { "2001:DB8::1", "inet6", "2001:db8::1" },
    { "2001:0db8:0000:0000:0000:0000:0000:0001", "inet6", "2001:db8::1" },
    -- RFC 5952 section 4: leading zeros, longest run, first of equal runs,
    -- a single zero group not shortened, lower case
    { "2001:db8:0:0:1:0:0:1", "inet6", "2001:db8::1:0:0:1" },
    { "2001:db8:0:1:1:1:1:1", "inet6", "2001:db8:0:1:1:1:1:1" },
    { "2001:db8::0:1", "inet6", "2001:db8::1" },
    { "2001:db8:0000:1:1:1:1:1", "inet6", "2001:db8:0:1:1:1:1:1" },
    { "2001:0:0:1:0:0:0:1", "inet6", "2001:0:0:1::1" },
    { "2001:db8:aaaa:bbbb:cccc:dddd:eeee:AAAA", "inet6", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa" },
    { "1:2:3:4:5:6:7::", "inet6", "1:2:3:4:5:6:7:0" },
    { "::2:3:4:5:6:7:8", "inet6", "0:2:3:4:5:6:7:8" },
    { "fe80::1%eth0", "inet6", "fe80::1%eth0" },
    { "::ffff:192.0.2.1", "inet6", "::ffff:192.0.2.1" },
    { "::ffff:c000:0201", "inet6", "::ffff:192.0.2.1" },
    { "64:ff9b::192.0.2.33", "inet6", "64:ff9b::c000:221" },
  }
  for _, c in ipairs(good) do
    it(("reads %s as %s %s"):format(c[1], c[2], c[3]), function()
      local family, text = ip.parse(c[1])
      assert.equal(c[2], family)
      assert.equal(c[3], text)
    end)
  end

  local bad = {
    { "256.1.1.1", "256 is greater than 255" },
    { "1.2.3", "3 parts, need 4" },
    { "1.2.3.4.5", "5 parts" },
    { "1.2.3.", "bad part" },
    { "1..3.4", "bad part" },
    { "01.2.3.4", "leading zero" },
    { "1.2.3.0004", "leading zero" },
    { "1.2.3.1000", "greater than 255" },
    { "-1.2.3.4", "not an IP address" },
    { " 1.2.3.4", "not an IP address" },
    { "1.2.3.4\0", "not an IP address" },
    { "", "not an IP address" },
    { "localhost", "not an IP address" },
    { "0x7f.0.0.1", "not an IP address" },
    { "::g", "bad group" },
    { ":::", "empty group" },
    { ":1::", "empty group" },
    { "1::2::3", "more than one" },
    { "1:2:3:4:5:6:7", "7 groups, need 8" },
    { "1:2:3:4:5:6:7:8:9", "9 groups, need 8" },
    { "1:2:3:4:5:6:7:8::", "too many groups" },
    { "12345::", "bad group" },
    { "1.2.3.4::", "bad group" },
    { "::1.2.3", "embedded IPv4" },
    { "::ffff:1.2.3.256", "embedded IPv4" },
    { "fe80::1%", "bad zone" },
    { "[::1]", "bad group" },
  }
  for _, c in ipairs(bad) do
    it(("refuses %q with nil, message"):format(c[1]), function()
      local v, err = ip.parse(c[1])
      assert.is_nil(v)
      assert.is_string(err)
      assert.matches(c[2], err, 1, true)
    end)
  end

  it("raises for a non-string argument", function()
    assert.error_matches(function() ip.parse() end, "bad argument #1 to 'parse' (string expected, got no value)", 1, true)
    assert.error_matches(function() ip.parse(16909060) end, "string expected, got number", 1, true)
    assert.has_error(function() ip.parse({}) end)
  end)

  it("gives text that parses back to itself (1000 random IPv6 addresses)", function()
    math.randomseed(5952)
    for _ = 1, 1000 do
      local g = {}
      for j = 1, 8 do
        local r = math.random(4)
        g[j] = ("%x"):format(r <= 2 and 0 or r == 3 and math.random(0, 15) or math.random(0, 0xffff))
      end
      local long = table.concat(g, ":")
      local family, text = ip.parse(long)
      assert.equal("inet6", family)
      assert.equal(text, select(2, ip.parse(text)))
      assert.is_true(#text <= #long)
      assert.is_nil(text:find(":::", 1, true))
      assert.is_true(ip.contains(long .. "/128", text))
    end
  end)
end)

describe("net.ip.tonumber / fromnumber", function()
  local pairs_ = {
    { "0.0.0.0", 0 }, { "0.0.0.1", 1 }, { "1.0.0.0", 16777216 },
    { "192.168.1.1", 3232235777 }, { "127.0.0.1", 2130706433 },
    { "255.255.255.255", 4294967295 },
  }
  for _, c in ipairs(pairs_) do
    it(("maps %s <-> %d"):format(c[1], c[2]), function()
      assert.equal(c[2], ip.tonumber(c[1]))
      assert.equal(c[1], ip.fromnumber(c[2]))
    end)
  end

  it("round-trips random 32-bit numbers", function()
    math.randomseed(32)
    for _ = 1, 1000 do
      local n = math.random(0, 0xffffffff)
      assert.equal(n, ip.tonumber(ip.fromnumber(n)))
    end
  end)

  it("tonumber: nil, message for bad text and for IPv6", function()
    for _, s in ipairs { "256.1.1.1", "1.2.3", "", "::1", "::ffff:1.2.3.4", "x" } do
      local v, err = ip.tonumber(s)
      assert.is_nil(v)
      assert.is_string(err)
    end
    assert.matches("not an IPv4 address", select(2, ip.tonumber("::1")))
  end)

  it("tonumber raises for a non-string", function()
    assert.error_matches(function() ip.tonumber(5) end, "bad argument #1 to 'tonumber'", 1, true)
  end)

  it("fromnumber raises for anything but an integer 0 .. 2^32-1", function()
    assert.error_matches(function() ip.fromnumber(-1) end, "out of range")
    assert.error_matches(function() ip.fromnumber(4294967296) end, "out of range")
    assert.error_matches(function() ip.fromnumber(math.maxinteger) end, "out of range")
    assert.error_matches(function() ip.fromnumber(1.5) end, "no integer representation")
    assert.error_matches(function() ip.fromnumber(0 / 0) end, "no integer representation")
    assert.error_matches(function() ip.fromnumber(math.huge) end, "no integer representation")
    assert.error_matches(function() ip.fromnumber("1") end, "number expected, got string")
    assert.error_matches(function() ip.fromnumber() end, "number expected, got no value")
    assert.equal("0.0.0.3", ip.fromnumber(3.0))
  end)
end)

describe("net.ip.contains", function()
  local cases = {
    { "10.0.0.0/8", "10.1.2.3", true },
    { "10.0.0.0/8", "11.0.0.0", false },
    { "10.0.0.0/8", "9.255.255.255", false },
    { "192.168.1.0/24", "192.168.1.255", true },
    { "192.168.1.7/24", "192.168.1.200", true },  -- host bits in the network are ignored
    { "172.16.0.0/12", "172.31.255.255", true },
    { "172.16.0.0/12", "172.32.0.0", false },
    { "0.0.0.0/0", "203.0.113.9", true },
    { "1.2.3.4/32", "1.2.3.4", true },
    { "1.2.3.4/32", "1.2.3.5", false },
    { "1.2.3.4", "1.2.3.4", true },
    { "1.2.3.4", "1.2.3.5", false },
    { "fd00::/8", "fd12:3456::1", true },
    { "fd00::/8", "fe00::1", false },
    { "2001:db8::/32", "2001:db8:ffff::1", true },
    { "2001:db8::/33", "2001:db8:8000::1", false },
    { "fe80::/10", "fe80::1%eth0", true },
    { "fe80::/10", "febf::1", true },
    { "fe80::/10", "fec0::1", false },
    { "::/0", "::1", true },
    { "::1/128", "::1", true },
    { "::/0", "1.2.3.4", false },        -- an IPv4 address is in no IPv6 network
    { "0.0.0.0/0", "::1", false },
    { "0.0.0.0/0", "::ffff:1.2.3.4", false },
  }
  for _, c in ipairs(cases) do
    it(("%s contains %s: %s"):format(c[1], c[2], tostring(c[3])), function()
      assert.equal(c[3], ip.contains(c[1], c[2]))
    end)
  end

  it("returns nil, message for a bad network or address", function()
    for _, c in ipairs {
      { "10.0.0.0/33", "1.1.1.1", "bad prefix length" },
      { "::/129", "::1", "bad prefix length" },
      { "10.0.0.0/", "1.1.1.1", "bad prefix length" },
      { "10.0.0.0/-1", "1.1.1.1", "bad prefix length" },
      { "10.0.0.0/8/8", "1.1.1.1", "bad prefix length" },
      { "10.0.0.0/ 8", "1.1.1.1", "bad prefix length" },
      { "10.0.0/8", "10.0.0.1", "3 parts" },
      { "10.0.0.0/8", "10.0.0.256", "greater than 255" },
      { "10.0.0.0/8", "", "not an IP address" },
    } do
      local v, err = ip.contains(c[1], c[2])
      assert.is_nil(v)
      assert.matches(c[3], err, 1, true)
    end
  end)

  -- QA report 10: "10.0.0.0/08" was accepted though parse refuses "010"
  it("refuses a leading zero in the prefix length, as parse does in addresses", function()
    for _, c in ipairs { { "10.0.0.0/08", "10.1.2.3" }, { "10.0.0.0/00", "10.1.2.3" },
                         { "fd00::/008", "fd00::1" }, { "::/064", "::1" } } do
      local v, err = ip.contains(c[1], c[2])
      assert.is_nil(v)
      assert.matches("leading zero in prefix length", err, 1, true)
      v, err = ip.network(c[1])
      assert.is_nil(v)
      assert.matches("leading zero in prefix length", err, 1, true)
    end
    assert.is_nil((ip.parse("010.0.0.1")))
    assert.is_true(ip.contains("10.0.0.0/8", "10.1.2.3"))
    assert.is_true(ip.contains("0.0.0.0/0", "10.1.2.3"))
  end)

  it("raises for non-string arguments, naming which", function()
    assert.error_matches(function() ip.contains(nil, "1.1.1.1") end, "bad argument #1 to 'contains'", 1, true)
    assert.error_matches(function() ip.contains("10.0.0.0/8", 167837953) end, "bad argument #2 to 'contains'", 1, true)
  end)
end)

describe("net.ip.classify", function()
  local cases = {
    { "0.0.0.0", "unspecified" }, { "::", "unspecified" },
    { "127.0.0.1", "loopback" }, { "127.255.255.254", "loopback" }, { "::1", "loopback" },
    { "10.1.2.3", "private" }, { "172.16.0.1", "private" }, { "172.31.255.255", "private" },
    { "192.168.0.1", "private" }, { "fd00::1", "private" }, { "fc00::1", "private" },
    { "172.32.0.1", "public" }, { "172.15.255.255", "public" }, { "11.0.0.1", "public" },
    { "100.64.0.1", "shared" }, { "100.127.255.255", "shared" }, { "100.128.0.0", "public" },
    { "169.254.10.20", "link-local" }, { "fe80::1", "link-local" }, { "fe80::1%eth0", "link-local" },
    { "192.0.2.1", "documentation" }, { "198.51.100.1", "documentation" },
    { "203.0.113.255", "documentation" }, { "2001:db8::1", "documentation" },
    { "224.0.0.1", "multicast" }, { "239.255.255.250", "multicast" }, { "ff02::1", "multicast" },
    { "255.255.255.255", "broadcast" },
    { "240.0.0.1", "reserved" }, { "0.1.2.3", "reserved" }, { "198.18.0.1", "reserved" },
    { "fec0::1", "reserved" }, { "4000::1", "reserved" },
    { "8.8.8.8", "public" }, { "1.1.1.1", "public" }, { "93.184.216.34", "public" },
    { "2001:4860:4860::8888", "public" }, { "2a00:1450:4001::1", "public" },
    { "::ffff:10.0.0.1", "private" }, { "::ffff:8.8.8.8", "public" },
  }
  for _, c in ipairs(cases) do
    it(("calls %s %s"):format(c[1], c[2]), function()
      local class, note = ip.classify(c[1])
      assert.equal(c[2], class)
      assert.is_string(note)
    end)
  end

  it("names the range in its note", function()
    assert.matches("RFC 1918", select(2, ip.classify("192.168.1.1")), 1, true)
    assert.matches("RFC 6598", select(2, ip.classify("100.64.1.1")), 1, true)
    assert.matches("IPv4-mapped", select(2, ip.classify("::ffff:192.168.1.1")), 1, true)
  end)

  it("returns nil, message for bad text and raises for a non-string", function()
    for _, s in ipairs { "256.1.1.1", "1.2.3", "::g", "", "10.0.0.0/8" } do
      local v, err = ip.classify(s)
      assert.is_nil(v)
      assert.is_string(err)
    end
    assert.error_matches(function() ip.classify(10) end, "bad argument #1 to 'classify'", 1, true)
  end)
end)

describe("net.ip netmask helpers", function()
  it("turns prefixes into netmasks and back", function()
    local v4 = { [0] = "0.0.0.0", [1] = "128.0.0.0", [8] = "255.0.0.0", [20] = "255.255.240.0",
                 [24] = "255.255.255.0", [31] = "255.255.255.254", [32] = "255.255.255.255" }
    for p, m in pairs(v4) do
      assert.equal(m, ip.prefix_to_netmask(p))
      assert.equal(p, ip.netmask_to_prefix(m))
    end
    local v6 = { [0] = "::", [10] = "ffc0::", [64] = "ffff:ffff:ffff:ffff::",
                 [127] = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe" }
    for p, m in pairs(v6) do
      assert.equal(m, ip.prefix_to_netmask(p, "inet6"))
      assert.equal(p, ip.netmask_to_prefix(m))
    end
  end)

  it("refuses a non-contiguous netmask and bad prefixes", function()
    local v, err = ip.netmask_to_prefix("255.0.255.0")
    assert.is_nil(v)
    assert.matches("not contiguous", err)
    assert.is_nil((ip.netmask_to_prefix("255.255.255")))
    assert.error_matches(function() ip.prefix_to_netmask(33) end, "integer 0..32 expected", 1, true)
    assert.error_matches(function() ip.prefix_to_netmask(-1) end, "integer 0..32 expected", 1, true)
    assert.error_matches(function() ip.prefix_to_netmask(129, "inet6") end, "0..128", 1, true)
    assert.error_matches(function() ip.prefix_to_netmask(24.5) end, "integer", 1, true)
    assert.error_matches(function() ip.prefix_to_netmask("24") end, "integer", 1, true)
    assert.error_matches(function() ip.prefix_to_netmask(24, "ipx") end, "bad argument #2", 1, true)
    assert.error_matches(function() ip.netmask_to_prefix() end, "bad argument #1", 1, true)
  end)

  it("refuses a netmask with a zone", function()
    local v, err = ip.netmask_to_prefix("ffff:ffff::%eth0")
    assert.is_nil(v)
    assert.matches("has a zone", err, 1, true)
    assert.equal(32, ip.netmask_to_prefix("ffff:ffff::"))
  end)
end)

describe("net.ip.network", function()
  it("describes an IPv4 network", function()
    assert.same({ family = "inet", address = "192.168.1.77", prefix = 24,
                  netmask = "255.255.255.0", network = "192.168.1.0",
                  broadcast = "192.168.1.255", first = "192.168.1.1",
                  last = "192.168.1.254", size = 256 }, ip.network("192.168.1.77/24"))
  end)

  it("treats /31 and /32 without a broadcast address (RFC 3021)", function()
    local n = ip.network("10.0.0.1/31")
    assert.is_nil(n.broadcast)
    assert.equal("10.0.0.0", n.first)
    assert.equal("10.0.0.1", n.last)
    n = ip.network("10.0.0.1")
    assert.equal(32, n.prefix)
    assert.equal(1, n.size)
    assert.equal("10.0.0.1", n.first)
  end)

  it("describes an IPv6 network", function()
    local n = ip.network("2001:db8:1:2::5/64")
    assert.equal("2001:db8:1:2::", n.network)
    assert.equal("2001:db8:1:2:ffff:ffff:ffff:ffff", n.last)
    assert.equal("ffff:ffff:ffff:ffff::", n.netmask)
    assert.is_nil(n.broadcast)
  end)

  it("returns nil, message for a bad network and raises for a non-string", function()
    assert.is_nil((ip.network("10.0.0.0/33")))
    assert.is_nil((ip.network("300.0.0.0/8")))
    assert.has_error(function() ip.network(true) end)
  end)
end)
