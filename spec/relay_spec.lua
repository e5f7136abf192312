-- spec/relay_spec.lua: net.relay and conn:forward between real peers on
-- loopback: curl and nginx, socat, and clients and servers written with
-- net; scripts/relay.lua. Programs run in the background while this
-- process's loop serves the relay; every wait is bounded; no fd may leak.
local net = require "net"
local common = require "spec.support.common"
local helper = require "spec.support.tcp_helper"

-- Run a shell command in the background; returns a handle with its pid
-- (of the shell that runs it: `exec` in cmd makes it the program's), the
-- path of its stdout, and :wait(seconds), which lets the loop run until the
-- command ends and gives true, exit code, stdout, stderr (nil, "timeout"
-- if it did not end in time). The end is seen by a file the shell writes
-- (a finished process may stay a zombie for a while: kill -0 cannot tell).
local function bg(cmd)
  local out, err, rc = os.tmpname(), os.tmpname(), os.tmpname()
  os.remove(rc)
  local p = io.popen("((" .. cmd .. ") >" .. out .. " 2>" .. err .. " </dev/null; echo $? >" .. rc ..
    ".tmp; mv " .. rc .. ".tmp " .. rc .. ") >/dev/null 2>&1 & echo $!")
  local pid = tonumber(p:read("l"))
  p:close()
  local h = { pid = pid, out = out }
  local function slurp(n)
    local f = io.open(n, "rb"); local s = f and f:read("a") or ""; if f then f:close() end
    os.remove(n)
    return s
  end
  function h.wait(_, seconds)
    local limit = net.now() + (seconds or 10)
    local f = io.open(rc)
    while not f do
      if net.now() > limit then
        os.execute("kill " .. pid .. " 2>/dev/null")
        return nil, "timeout"
      end
      net.sleep(0.01)
      f = io.open(rc)
    end
    local code = tonumber(f:read("l"))
    f:close()
    os.remove(rc)
    return true, code, slurp(out), slurp(err)
  end
  return h
end

-- Run cmd in the background and wait for it (at most `seconds`).
local function bgrun(cmd, seconds)
  return bg(cmd):wait(seconds)
end

-- The sha256 of a string, in hex (by sha256sum).
local function sha256(data)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb")); f:write(data); f:close()
  local p = io.popen("sha256sum " .. path)
  local sum = p:read("l"):match("^%x+")
  p:close()
  os.remove(path)
  return sum
end

-- A server on 127.0.0.1, port 0, running handler(conn) per client.
local function serve(handler)
  local srv = assert(net.serve("127.0.0.1", 0, handler, { timeout = 5 }))
  local _, port = srv:getsockname()
  return srv, port
end

-- Read everything, then answer "got N" and the data upper-cased.
local function upper_all(c)
  local all = c:receive("a")
  c:send("got " .. #all .. "\n" .. all:upper())
end

describe("net.relay", function()
  local fds_before, nginx
  setup(function()
    net.run()
    nginx = helper.nginx()
    fds_before = common.count_fds()
  end)
  teardown(function()
    net.run()
    assert.are.equal(fds_before, common.count_fds())
    nginx.stop()
  end)

  it("relays curl to nginx, the body intact", function()
    local relay = assert(net.relay("127.0.0.1", 0, "127.0.0.1", nginx.port))
    local _, port = relay:getsockname()
    assert.matches("^net%.relay 127%.0%.0%.1:%d+ %-> 127%.0%.0%.1:%d+ %(0 pairs%)$", tostring(relay))
    local body = os.tmpname()
    local ok, code = bgrun("curl -s -m 10 -o " .. body .. " http://127.0.0.1:" .. port .. "/file", 15)
    assert.is_true(ok)
    assert.are.equal(0, code)
    local p = io.popen("sha256sum " .. body)
    local got = p:read("l"):match("^%x+")
    p:close()
    os.remove(body)
    assert.are.equal(sha256(helper.body()), got)
    relay:close()
  end)

  it("relays a large body from nginx over IPv6 with the same sha256", function()
    local relay = assert(net.relay("::1", 0, "::1", nginx.port))
    local _, port = relay:getsockname()
    local ok, code, out = bgrun("curl -s -m 10 http://[::1]:" .. port .. "/file | sha256sum", 15)
    assert.is_true(ok)
    assert.are.equal(0, code)
    assert.are.equal(sha256(helper.body()), out:match("^%x+"))
    relay:close()
  end)

  it("passes a half-close through: the reply still flows back (net client)", function()
    local srv, tport = serve(upper_all)
    local relay = assert(net.relay("127.0.0.1", 0, "127.0.0.1", tport))
    local _, port = relay:getsockname()
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:settimeout(5)
    local data = ("abc\n"):rep(50000)
    c:send("pre:")
    c:send(data)
    c:shutdown("send")
    assert.are.equal("got " .. (#data + 4), c:receive())
    assert.are.equal("PRE:" .. data:upper(), c:receive("a"))
    c:close()
    relay:close()
    srv:close()
  end)

  it("passes a half-close through (socat)", function()
    local srv, tport = serve(upper_all)
    local relay = assert(net.relay("127.0.0.1", 0, "127.0.0.1", tport))
    local _, port = relay:getsockname()
    local ok, code, out = bgrun("printf 'hello\\nworld\\n' | socat -t 5 -T 10 - TCP:127.0.0.1:" .. port, 15)
    assert.is_true(ok)
    assert.are.equal(0, code)
    assert.are.equal("got 12\nHELLO\nWORLD\n", out)
    relay:close()
    srv:close()
  end)

  it("resets the client when the target resets", function()
    local srv, tport = serve(function(c)
      c:receive()
      c:send("partial reply\n")
      net.sleep(0.05)
      c:reset()
    end)
    local relay = assert(net.relay("127.0.0.1", 0, "127.0.0.1", tport))
    local _, port = relay:getsockname()
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:settimeout(5)
    c:send("hello\n")
    assert.are.equal("partial reply", c:receive())
    local r = table.pack(c:receive())
    assert.is_nil(r[1])
    assert.matches("reset", r[2])
    c:close()
    relay:close()
    srv:close()
  end)

  it("resets the target when the client resets", function()
    local seen
    local srv, tport = serve(function(c)
      seen = table.pack(c:receive())
    end)
    local relay = assert(net.relay("127.0.0.1", 0, "127.0.0.1", tport))
    local _, port = relay:getsockname()
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:send("part")
    net.sleep(0.05)
    c:reset()
    local limit = net.now() + 5
    while not seen and net.now() < limit do net.sleep(0.01) end
    assert.is_nil(seen[1])
    assert.matches("reset", seen[2])
    assert.are.equal("part", seen[3])
    relay:close()
    srv:close()
  end)

  it("traces each pair with its connection number", function()
    local srv, tport = serve(function(c)
      c:send("220 hi\r\n")
      local l = c:receive()
      c:send("250 " .. l .. "\r\n")
    end)
    local lines = {}
    local relay = assert(net.relay("127.0.0.1", 0, "127.0.0.1", tport,
      { trace = function(line) lines[#lines + 1] = line end }))
    local _, port = relay:getsockname()
    for i = 1, 2 do
      local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      c:settimeout(5)
      assert.are.equal("220 hi", c:receive())
      c:send("HELO " .. i .. "\r\n")
      assert.are.equal("250 HELO " .. i, c:receive())
      assert.are.same({ nil, "closed", "" }, { c:receive() })
      c:close()
    end
    local limit = net.now() + 5
    while relay:pairs() > 0 and net.now() < limit do net.sleep(0.01) end
    relay:close()
    srv:close()
    local text = table.concat(lines, "\n")
    for i = 1, 2 do
      assert.matches("%[" .. i .. "%] %*%*%* client 127%.0%.0%.1:%d+ %-> 127%.0%.0%.1:" .. port, text)
      assert.matches("%[" .. i .. "%] %*%*%* connected %(127%.0%.0%.1:%d+ %-> 127%.0%.0%.1:" .. tport .. "%)", text)
      assert.matches("%[" .. i .. "%] <%- 220 hi", text)
      assert.matches("%[" .. i .. "%]  %-> HELO " .. i, text)
      assert.matches("%[" .. i .. "%] <%- 250 HELO " .. i, text)
      assert.matches("%[" .. i .. "%] %*%*%* target closed", text)
    end
    for _, l in ipairs(lines) do assert.matches("^%[%d%] ", l) end
  end)

  it("closes the client when the target cannot be reached, and goes on", function()
    local s = assert(net.listen("127.0.0.1", 0))
    local _, dead = s:getsockname()
    s:close()
    local lines = {}
    local relay = assert(net.relay("127.0.0.1", 0, "127.0.0.1", dead,
      { trace = function(line) lines[#lines + 1] = line end, timeout = 2 }))
    local _, port = relay:getsockname()
    for _ = 1, 2 do
      local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      c:settimeout(5)
      assert.are.same({ nil, "closed", "" }, { c:receive() })
      c:close()
    end
    relay:close()
    local text = table.concat(lines, "\n")
    assert.matches("%[1%] %*%*%* [^\n]*refused", text)
    assert.matches("%[2%] %*%*%* [^\n]*refused", text)
  end)

  it("untraced, an unreachable target: the client sees an end, not a reset; stderr says why (QA)", function()
    local s = assert(net.listen("127.0.0.1", 0))
    local _, dead = s:getsockname()
    s:close()
    local ok, code, out, err = common.run(common.q(common.netlua) .. " -e " .. common.q(([[
      local relay = assert(net.relay("127.0.0.1", 0, "127.0.0.1", %d, { timeout = 2 }))
      local _, port = relay:getsockname()
      for _ = 1, 2 do
        local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
        c:settimeout(5)
        c:send("GET / HTTP/1.0\r\n\r\n")   -- unread by the relay: must not turn into a reset
        net.sleep(0.1)
        print(c:receive())
        c:close()
      end
      relay:close()]]):format(dead)))
    assert.is_true(ok, err)
    assert.are.equal(0, code, err)
    assert.are.equal("nil\tclosed\t\nnil\tclosed\t\n", out)
    local line = ("relay: connect 127.0.0.1:%d (127.0.0.1): connection refused\n"):format(dead)
    assert.are.equal(line .. line, err)
  end)

  it("names the ends in the transcript: client closed (shutdown send to target), target closed (QA)", function()
    local srv, tport = serve(function(c) local all = c:receive("a"); c:send("got " .. #all .. "\n") end)
    local lines = {}
    local relay = assert(net.relay("127.0.0.1", 0, "127.0.0.1", tport,
      { trace = function(line) lines[#lines + 1] = line end }))
    local _, port = relay:getsockname()
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:settimeout(5)
    c:send("hello\n")
    c:shutdown("send")
    assert.are.equal("got 6\n", c:receive("a"))
    c:close()
    local limit = net.now() + 5
    while relay:pairs() > 0 and net.now() < limit do net.sleep(0.01) end
    relay:close()
    srv:close()
    local text = table.concat(lines, "\n")
    assert.truthy(text:find("[1] *** client closed (shutdown send to target)", 1, true), text)
    assert.truthy(text:find("[1] *** target closed", 1, true), text)
    assert.falsy(text:find("closed by peer", 1, true), text)
    assert.falsy(text:find("*** shutdown send", 1, true), text)
  end)

  it("forwards through conn:forward with bytes already buffered, by splice and traced", function()
    for _, traced in ipairs({ false, true }) do
      local srv, tport = serve(upper_all)
      local a = assert(net.listen("127.0.0.1", 0))
      local _, aport = a:getsockname()
      local c = assert(net.connect("127.0.0.1", aport, { timeout = 5 }))
      local s = assert(a:accept(5))
      local t = assert(net.connect("127.0.0.1", tport, { timeout = 5 }))
      local seen = 0
      if traced then t:settrace(function(what, data) if what == "send" then seen = seen + #data end end) end
      c:send("first line\nsecond part and more")
      c:shutdown("send")
      assert.are.equal("first line", s:receive())  -- the rest stays in s's buffer
      assert.are.equal(#"second part and more", s:forward(t, 5))
      assert.are.equal("got 20\nSECOND PART AND MORE", t:receive("a"))
      assert.are.equal(traced and 20 or 0, seen)
      for _, x in ipairs({ c, s, t, a }) do x:close() end
      srv:close()
    end
  end)

  it("raises on misuse", function()
    assert.has_error(function() net.relay("127.0.0.1", 0, 80, 80) end)
    assert.has_error(function() net.relay("127.0.0.1", 0, "127.0.0.1", 0) end)
    assert.has_error(function() net.relay("127.0.0.1", 0, "127.0.0.1", 80, { bogus = 1 }) end)
    local a = assert(net.listen("127.0.0.1", 0))
    local _, port = a:getsockname()
    local c = assert(net.connect("127.0.0.1", port))
    assert.has_error(function() c:forward(c) end)
    assert.has_error(function() c:forward("x") end)
    c:close(); a:close()
  end)
end)

describe("scripts/relay.lua", function()
  local script = "scripts/relay.lua"

  it("prints its usage with --help, and exits 2 on a usage error", function()
    local ok, code, out = common.run(common.q(common.netlua) .. " " .. script .. " --help")
    assert.is_true(ok)
    assert.are.equal(0, code)
    assert.matches("^usage: relay%.lua LISTEN TARGET", out)
    local _, code2, _, err = common.run(common.q(common.netlua) .. " " .. script .. " 127.0.0.1:1")
    assert.are.equal(2, code2)
    assert.matches("need LISTEN and TARGET", err)
    local _, code3, _, err3 = common.run(common.q(common.netlua) .. " " .. script .. " 0 nohost")
    assert.are.equal(2, code3)
    assert.matches("not HOST:PORT", err3)
  end)

  it("relays with -v, showing the transcript, until interrupted", function()
    local srv, tport = serve(function(c)
      local l = c:receive()
      c:send("echo " .. l .. "\r\n")
    end)
    local pidf = os.tmpname()
    local h = bg("sh -c " .. common.q("echo $$ >" .. pidf .. "; exec " .. common.q(common.netlua) .. " " ..
      script .. " 127.0.0.1:0 127.0.0.1:" .. tport .. " -v"))
    local port
    local limit = net.now() + 10
    repeat
      net.sleep(0.02)
      local f = io.open(h.out); local s = f and f:read("a") or ""; if f then f:close() end
      port = s:match("^relaying 127%.0%.0%.1:(%d+) %-> 127%.0%.0%.1:" .. tport .. "\n")
    until port or net.now() > limit
    assert.is_truthy(port, "the relay did not start")
    local c = assert(net.connect("127.0.0.1", tonumber(port), { timeout = 5 }))
    c:settimeout(5)
    c:send("hi there\r\n")
    assert.are.equal("echo hi there", c:receive())
    c:close()
    net.sleep(0.1)
    local f = assert(io.open(pidf)); local pid = tonumber(f:read("l")); f:close()
    os.remove(pidf)
    os.execute("kill -INT " .. pid)
    local ok, code, out, err = h:wait(10)
    assert.is_true(ok)
    assert.are.equal(130, code)
    assert.matches("^relaying ", out)
    assert.matches("%[1%]  %-> hi there", err)
    assert.matches("%[1%] <%- echo hi there", err)
    srv:close()
  end)
end)
