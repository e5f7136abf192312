-- spec/udp_spec.lua: UDP sockets on loopback, both families: bind,
-- sendto/receivefrom, connect/send/receive, datagram sizes, timeouts,
-- closing, bad input. No fd may leak.
local net = require "net"
local common = require "spec.support.common"

describe("udp", function()
  local fds_before
  setup(function()
    net.run()
    collectgarbage(); collectgarbage()
    fds_before = common.count_fds()
  end)
  teardown(function()
    collectgarbage(); collectgarbage()
    assert.are.equal(fds_before, common.count_fds())
  end)

  -- A socket bound on host, port 0, with a timeout; returns it and its port.
  local function bound(host)
    local u = net.udp()
    assert.is_true(u:bind(host, 0))
    u:settimeout(5)
    local _, port = u:getsockname()
    return u, port
  end

  for _, host in ipairs({ "127.0.0.1", "::1" }) do
    it("sends and receives datagrams with their sender over " .. host, function()
      local s <close>, port = bound(host)
      local c <close> = net.udp()
      c:settimeout(5)
      assert.are.equal(5, c:sendto("hello", host, port))
      local data, from, fport = s:receivefrom()
      assert.are.equal("hello", data)
      assert.are.equal(host, from)
      assert.are.equal(5, s:sendto("world", from, fport))
      assert.are.equal("world", c:receive())
    end)
  end

  it("connects to a peer, sends and receives up to 65507 bytes", function()
    local s <close>, port = bound("127.0.0.1")
    local c <close> = net.udp()
    assert.is_true(c:connect("127.0.0.1", port))
    assert.are.same({ "127.0.0.1", port }, { c:getpeername() })
    local big = ("d"):rep(65507)
    assert.are.equal(65507, c:send(big))
    assert.are.equal(big, s:receive())
    local ok, err = c:send(big .. "x")
    assert.is_nil(ok)
    assert.are.equal("send 127.0.0.1:" .. port .. ": message too long", err)
    c:send("truncate me")
    assert.are.equal("trunc", s:receive(5))
    assert.matches("^udp 127%.0%.0%.1:%d+ %-> 127%.0%.0%.1:" .. port .. " %(open%)$", tostring(c))
  end)

  it("times out a receive within its bound, also inside a task", function()
    local s <close> = bound("127.0.0.1")
    s:settimeout(0.1)
    local t0 = net.now()
    assert.are.same({ nil, "timeout" }, { s:receivefrom() })
    local dt = net.now() - t0
    assert.is_true(dt >= 0.09 and dt < 1, "took " .. dt)
    local got
    net.spawn(function() got = { s:receive() } end)
    net.run()
    assert.are.same({ nil, "timeout" }, got)
  end)

  it("lets a task wait for a datagram while others run", function()
    local s <close>, port = bound("::1")
    local got
    net.spawn(function() got = { s:receivefrom() } end)
    net.spawn(function() net.sleep(0.02); net.udp():sendto("late", "::1", port) end)
    net.run()
    assert.are.equal("late", got[1])
    assert.are.equal("::1", got[2])
  end)

  it("binds * for both families", function()
    local s <close>, port = bound("*")
    net.udp():sendto("four", "127.0.0.1", port)
    net.udp():sendto("six", "::1", port)
    local a = { s:receivefrom() }
    local b = { s:receivefrom() }
    assert.are.same({ "four", "127.0.0.1" }, { a[1], a[2] })
    assert.are.same({ "six", "::1" }, { b[1], b[2] })
  end)

  it("keeps IPv4-only sockets to IPv4", function()
    local u <close> = net.udp({ family = "inet" })
    assert.is_true(u:bind("127.0.0.1", 0))
    local ok, err = u:sendto("x", "::1", 9)
    assert.is_nil(ok)
    assert.are.equal("sendto [::1]:9: the socket is IPv4 only", err)
  end)

  it("closes once; every use after close returns nil, closed", function()
    local u = net.udp()
    assert.is_true(u:close())
    assert.are.same({ nil, "closed" }, { u:close() })
    assert.are.same({ nil, "closed" }, { u:sendto("x", "127.0.0.1", 9) })
    assert.are.same({ nil, "closed" }, { u:receive() })
    assert.are.same({ nil, "closed" }, { u:bind("127.0.0.1", 0) })
    assert.matches("%(closed%)$", tostring(u))
    do local v <close> = net.udp() end
    for _ = 1, 20 do net.udp() end
    collectgarbage(); collectgarbage()
  end)

  it("raises errors for bad ports, hosts and sizes", function()
    local u <close> = net.udp()
    assert.has_error(function() u:sendto("x", "127.0.0.1", 65536) end)
    assert.has_error(function() u:sendto("x", "127.0.0.1", "port") end)
    assert.has_error(function() u:bind("127.0.0.1\0", 0) end)
    assert.has_error(function() u:receive(0) end)
    assert.has_error(function() net.udp({ family = "x" }) end)
    local ok, err = pcall(u.bind, u, "127.0.0.1", -5)
    assert.is_false(ok)
    assert.matches("port must be an integer 0%-65535, got %-5", err)
  end)

  it("says already bound, checks options and timeouts, keeps literals from DNS (QA items 5, 11)", function()
    local u <close> = net.udp()
    assert.is_true(u:bind("127.0.0.1", 0))
    local _, port = u:getsockname()
    assert.are.same({ nil, "bind 127.0.0.1:0: already bound (to 127.0.0.1:" .. port .. ")" },
      { u:bind("127.0.0.1", 0) })
    local function msg(f, ...) return select(2, pcall(f, ...)) end
    assert.matches("bad argument #1 to '[%w.]*udp' %(unknown option 'timout'%)", msg(net.udp, { timout = 1 }))
    assert.matches("option 'timeout' must be a number >= 0 or nil, got %-1", msg(net.udp, { timeout = -1 }))
    assert.matches("option 'timeout' is NaN", msg(net.udp, { timeout = 0 / 0 }))
    assert.matches("timeout must be a number >= 0 or nil, got %-2", msg(u.settimeout, u, -2))
    assert.is_true(u:settimeout(nil))
    local saved, asked = net.resolve, 0
    net.resolve = function() asked = asked + 1; return nil, "no such name" end
    local r1 = { u:sendto("x", "300.1.1.1", 9) }
    local r2 = { u:connect("127.0.0.256", 9) }
    local v <close> = net.udp()
    assert.is_true(v:bind("::1", 0))
    local r3 = { v:sendto("x", "[::1]", select(2, v:getsockname())) }
    net.resolve = saved
    assert.are.equal(0, asked)
    assert.are.same({ nil, "sendto 300.1.1.1:9: invalid address" }, r1)
    assert.are.same({ nil, "connect 127.0.0.256:9: invalid address" }, r2)
    assert.are.same({ 1 }, r3)
    v:settimeout(1)
    assert.are.same({ "x" }, { v:receive() })
  end)

  it("reports a port in use", function()
    local s <close>, port = bound("127.0.0.1")
    local u <close> = net.udp()
    assert.are.same({ nil, "bind 127.0.0.1:" .. port .. ": address already in use" }, { u:bind("127.0.0.1", port) })
  end)
end)
