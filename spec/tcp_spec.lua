-- spec/tcp_spec.lua: TCP clients and servers against real peers on
-- loopback: nginx (started by the helper) and servers written with `net`
-- in this file. Every wait is bounded; no fd may leak.
local net = require "net"
local common = require "spec.support.common"
local helper = require "spec.support.tcp_helper"

local serve = helper.serve

-- Echo each line back upper-cased until the peer closes.
local function upper_echo(c)
  for line in c:lines() do c:send(line:upper() .. "\r\n") end
end

local timed = common.timed

local closed_port = common.closed_port

-- A listener on 127.0.0.2 whose backlog is full: SYNs to it are dropped,
-- so a connect to it never completes (a dead address, on loopback).
local function dead_server()
  local s = assert(net.listen("127.0.0.2", 0, { backlog = 0 }))
  local _, port = s:getsockname()
  local held = {}
  for i = 1, 2 do held[i] = assert(net.connect("127.0.0.2", port, { timeout = 2 })) end
  return { server = s, port = port, close = function()
    for _, c in ipairs(held) do c:close() end
    s:close()
  end }
end

describe("tcp", function()
  local fds_before, nginx
  setup(function()
    net.run()
    collectgarbage(); collectgarbage()
    fds_before = common.count_fds()
    nginx = helper.nginx()
  end)
  teardown(function()
    if nginx then nginx.stop() end
    net.run()
    collectgarbage(); collectgarbage()
    assert.are.equal(fds_before, common.count_fds())
  end)
  after_each(function()
    net.sleep(0.01)
  end)

  describe("against nginx", function()
    -- Read the status line and headers; returns status line and headers.
    local function head(c)
      local status = assert(c:receive())
      local h = {}
      while true do
        local line = assert(c:receive())
        if line == "" then break end
        local k, v = line:match("^([^:]+):%s*(.*)$")
        h[k:lower()] = v
      end
      return status, h
    end

    for _, host in ipairs({ "127.0.0.1", "::1", "[::1]", "localhost" }) do
      it("does an HTTP GET typed by hand over " .. host, function()
        local c = assert(net.connect(host, nginx.port, { timeout = 5 }))
        local req = "GET /file HTTP/1.1\r\nHost: test\r\n\r\n"
        assert.are.equal(#req, c:send(req))
        local status, h = head(c)
        assert.are.equal("HTTP/1.1 200 OK", status)
        assert.are.equal(100000, tonumber(h["content-length"]))
        local body = assert(c:receive(tonumber(h["content-length"])))
        assert.are.equal(helper.body(), body)
        -- the same connection again, body read with "a" after Connection: close
        assert(c:send("GET /index.html HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"))
        status = head(c)
        assert.are.equal("HTTP/1.1 200 OK", status)
        assert.are.equal("hello from nginx\n", c:receive("a"))
        assert.are.same({ nil, "closed", "" }, { c:receive() })
        c:close()
      end)
    end

    it("reads lines with LuaSocket spellings and keeps CR LF with L", function()
      local c <close> = assert(net.connect("127.0.0.1", nginx.port, { timeout = 5 }))
      c:send("HEAD / HTTP/1.0\r\n\r\n")
      assert.are.equal("HTTP/1.1 200 OK\r\n", c:receive("L"))
      assert.matches("^Server: nginx", c:receive("*l"))
      assert.matches("\r\n\r\n$", c:receive("*a"))
    end)

    it("reports peer and local addresses of both families", function()
      local c4 <close> = assert(net.connect("127.0.0.1", nginx.port))
      assert.are.same({ "127.0.0.1", nginx.port }, { c4:getpeername() })
      assert.are.equal("127.0.0.1", (c4:getsockname()))
      local c6 <close> = assert(net.connect("::1", nginx.port))
      assert.are.same({ "::1", nginx.port }, { c6:getpeername() })
      assert.matches("^tcp connection %[::1%]:%d+ %-> %[::1%]:" .. nginx.port .. " %(open%)$", tostring(c6))
    end)
  end)

  describe("against servers in the spec", function()
    it("echoes lines, counts and reads until close", function()
      local s, port = serve(upper_echo)
      local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      assert.are.equal(12, c:send("hello\nworld\n"))
      assert.are.equal("HELLO", c:receive())
      assert.are.equal("WORLD\r\n", c:receive("L"))
      c:send("abc\n")
      assert.are.equal("AB", c:receive(2))
      assert.are.equal("C\r", c:receive(2))
      assert.are.equal("\n", c:receive(1))
      assert.are.equal("", c:receive(0))
      c:send("last\n")
      c:shutdown("send")
      assert.are.equal("LAST\r\n", c:receive("a"))
      c:close()
      s:close()
    end)

    it("strips one CR before LF and keeps a lone CR", function()
      local s, port = serve(function(c) c:send("a\r\r\nb\rc\n\r\n\n") end)
      local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      assert.are.equal("a\r", c:receive())
      assert.are.equal("b\rc", c:receive())
      assert.are.equal("", c:receive())
      assert.are.equal("", c:receive())
      assert.are.same({ nil, "closed", "" }, { c:receive() })
      s:close()
    end)

    it("iterates lines() until the peer closes, the last unterminated line included", function()
      local s, port = serve(function(c) c:send("one\ntwo\r\nthree") end)
      local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      local got = {}
      for line in c:lines() do got[#got + 1] = line end
      assert.are.same({ "one", "two", "three" }, got)
      s:close()
    end)

    it("returns the partial line when the peer closes mid-line", function()
      local s, port = serve(function(c) c:send("complete\nhalf a li") end)
      local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      assert.are.equal("complete", c:receive())
      assert.are.same({ nil, "closed", "half a li" }, { c:receive() })
      s:close()
    end)

    it("returns partial data when the peer closes before a byte count", function()
      local s, port = serve(function(c) c:send("12345") end)
      local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      assert.are.same({ nil, "closed", "12345" }, { c:receive(10) })
      s:close()
    end)

    it("reports a reset by the peer, naming host and port", function()
      local s, port = serve(function(c)
        net.sleep(0.1)   -- the client's bytes arrive unread: close sends RST
      end)
      local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      c:send("unread data\n")
      local ok, err = c:receive()
      assert.is_nil(ok)
      assert.are.equal("receive 127.0.0.1:" .. port .. ": connection reset by peer", err)
      s:close()
    end)

    it("times out against a peer that never answers, within its bound", function()
      local s, port = serve(function(c) net.sleep(1.5) end)
      local c <close> = assert(net.connect("127.0.0.1", port))
      c:settimeout(0.2)
      local dt, ok, err, partial = timed(c.receive, c)
      assert.are.same({ nil, "timeout", "" }, { ok, err, partial })
      assert.is_true(dt >= 0.19 and dt < 1, "took " .. dt)
      s:close()
    end)

    it("times out the whole call against a slow drip, keeping what came", function()
      local s, port = serve(function(c)
        for i = 1, 20 do
          if not c:send(string.char(96 + i)) then return end
          net.sleep(0.05)
        end
      end)
      local c <close> = assert(net.connect("127.0.0.1", port))
      c:settimeout(0.3)
      local dt, ok, err, partial = timed(c.receive, c)
      assert.is_nil(ok)
      assert.are.equal("timeout", err)
      assert.is_true(#partial >= 3 and #partial <= 8, "partial " .. partial)
      assert.are.equal(("abcdefghijklmnopqrst"):sub(1, #partial), partial)
      assert.is_true(dt < 0.6, "took " .. dt)
      s:close()
    end)

    it("stops an endless line at the limit, with memory flat", function()
      local chunk = ("x"):rep(65536)
      local s, port = serve(function(c)
        for _ = 1, 64 do if not c:send(chunk) then return end end -- 4 MiB, no newline
      end)
      local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 10 }))
      local rss0 = helper.rss_kib()
      local ok, err, partial = c:receive()
      assert.is_nil(ok)
      assert.are.equal("line too long", err)
      assert.are.equal(1024 * 1024, #partial)
      partial = nil
      -- the limit is per socket and settable; the rest keeps hitting it
      c:setlinelimit(1000)
      for _ = 1, 20 do
        ok, err, partial = c:receive()
        assert.are.same({ nil, "line too long" }, { ok, err })
        assert.are.equal(1000, #partial)
      end
      collectgarbage()
      assert.is_true(helper.rss_kib() - rss0 < 16 * 1024, "memory grew by " .. (helper.rss_kib() - rss0) .. " KiB")
      s:close()
    end)

    it("keeps the rest of a line too long: the next receive goes on after the partial", function()
      -- a line of 2.5 limits whose bytes show their offset, then two lines,
      -- sent in pieces that do not fall on the limit
      local t = {}
      for i = 1, 2500 do t[i] = string.char(65 + (i * 7 + i // 26) % 26) end
      local long = table.concat(t)
      local data = long .. "\r\nnext\r\nlast\n"
      local s, port = serve(function(c)
        for i = 1, #data, 333 do c:send(data:sub(i, i + 332)); net.sleep(0.001) end
      end)
      for _, way in ipairs({ "receive", "lines" }) do
        local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5, linelimit = 1000 }))
        if way == "lines" then
          -- lines() raises and takes nothing: receive then returns the partial
          local ok, err = pcall(function() for _ in c:lines() do end end)
          assert.is_false(ok)
          assert.matches("line too long", err)
        end
        assert.are.same({ nil, "line too long", long:sub(1, 1000) }, { c:receive() })
        assert.are.same({ nil, "line too long", long:sub(1001, 2000) }, { c:receive() })
        assert.are.equal(long:sub(2001), c:receive())
        assert.are.equal("next", c:receive())
        local rest = {}
        for l in c:lines() do rest[#rest + 1] = l end
        assert.are.same({ "last" }, rest)
        assert.matches("open", tostring(c))
      end
      s:close()
    end)

    it("reports refused ports with host, port and address", function()
      local port = closed_port()
      assert.are.same({ nil, "connect 127.0.0.1:" .. port .. " (127.0.0.1): connection refused" },
        { net.connect("127.0.0.1", port) })
      assert.are.same({ nil, "connect [::1]:" .. port .. " (::1): connection refused" },
        { net.connect("::1", port) })
      assert.are.same({ nil, "connect localhost:" .. port .. ": ::1: connection refused; 127.0.0.1: connection refused" },
        { net.connect("localhost", port) })
    end)

    it("never dies of SIGPIPE when writing to a peer that has gone", function()
      local s, port = serve(function(c) end)
      local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      net.sleep(0.05)
      local ok, err
      for _ = 1, 50 do
        ok, err = c:send(("y"):rep(65536))
        if not ok then break end
        net.sleep(0.005)
      end
      assert.is_nil(ok)
      assert.is_true(err == "closed" or err:match("connection reset by peer$") ~= nil, err)
      s:close()
    end)

    it("sends all or returns nil, timeout and the bytes sent", function()
      local s, port = serve(function(c) net.sleep(1) end)
      local c <close> = assert(net.connect("127.0.0.1", port))
      c:settimeout(0.2)
      local data = ("z"):rep(64 * 1024 * 1024)
      local dt, ok, err, sent = timed(c.send, c, data)
      assert.is_nil(ok)
      assert.are.equal("timeout", err)
      assert.is_true(sent > 0 and sent < #data, "sent " .. tostring(sent))
      assert.is_true(dt < 1, "took " .. dt)
      s:close()
    end)

    it("serves 1,000 concurrent clients in one process, every reply checked", function()
      local s, port = serve(function(c)
        local line = c:receive()
        if line then c:send("reply " .. line .. "\n") end
      end)
      local ok, done = 0, 0
      for i = 1, 1000 do
        net.spawn(function()
          local c = net.connect("127.0.0.1", port, { timeout = 20 })
          if c then
            c:send("req " .. i .. "\n")
            if c:receive() == "reply req " .. i then ok = ok + 1 end
            c:close()
          end
          done = done + 1
        end)
      end
      local limit = net.now() + 30
      while done < 1000 and net.now() < limit do net.sleep(0.05) end
      assert.are.equal(1000, ok)
      s:close()
    end)

    it("waits in accept with a timeout", function()
      local s <close> = assert(net.listen("127.0.0.1", 0))
      local dt, ok, err = timed(s.accept, s, 0.1)
      assert.are.same({ nil, "timeout" }, { ok, err })
      assert.is_true(dt >= 0.09 and dt < 1)
      s:settimeout(0)
      assert.are.same({ nil, "timeout" }, { s:accept() })
    end)

    it("wakes a task waiting on a connection closed by another task", function()
      local s, port = serve(function(c) net.sleep(1) end)
      local c = assert(net.connect("127.0.0.1", port))
      local got
      net.spawn(function() got = { c:receive() } end)
      net.spawn(function() net.sleep(0.05); c:close() end)
      local limit = net.now() + 5
      while not got and net.now() < limit do net.sleep(0.01) end
      assert.are.same({ nil, "closed", "" }, got)
      s:close()
    end)
  end)

  describe("Happy Eyeballs", function()
    local saved
    before_each(function() saved = net.resolve end)
    after_each(function() net.resolve = saved end)

    -- net.resolve answering `addrs` for any name, recording its options.
    local function stub(addrs)
      local seen = {}
      net.resolve = function(name, opts) seen[#seen + 1] = { name, opts }; return addrs end
      return seen
    end

    it("tries every address of a name, a dead one costing only the stagger", function()
      local dead = dead_server()
      local live = assert(net.listen("127.0.0.1", dead.port))
      local seen = stub({ "127.0.0.2", "127.0.0.1" })
      local dt, c = timed(net.connect, "two.test", dead.port, { timeout = 5 })
      assert(c, "no connection")
      assert.are.equal("127.0.0.1", (c:getpeername()))
      assert.is_true(dt >= 0.2 and dt < 1.5, "took " .. dt)
      assert.are.equal("two.test", seen[1][1])
      assert.is_true(seen[1][2].timeout <= 5)
      c:close(); live:close(); dead.close()
    end)

    it("interleaves families and names each failed address", function()
      local port = closed_port()
      stub({ "127.0.0.1", "127.0.0.3", "::1" })
      local ok, err = net.connect("multi.test", port, { timeout = 5 })
      assert.is_nil(ok)
      assert.are.equal("connect multi.test:" .. port .. ": 127.0.0.1: connection refused; ::1: connection refused; "
        .. "127.0.0.3: connection refused", err)
    end)

    it("bounds the whole call by one timeout", function()
      local dead = dead_server()
      stub({ "127.0.0.2", "127.0.0.2" })
      local dt, ok, err = timed(net.connect, "dead.test", dead.port, { timeout = 0.4 })
      assert.are.same({ nil, "timeout" }, { ok, err })
      assert.is_true(dt >= 0.35 and dt < 1.2, "took " .. dt)
      dead.close()
    end)

    it("passes the family to the resolver and filters by it", function()
      local port = closed_port()
      local seen = stub({ "::1", "127.0.0.1" })
      local ok, err = net.connect("fam.test", port, { family = "inet" })
      assert.is_nil(ok)
      assert.are.equal("connect fam.test:" .. port .. " (127.0.0.1): connection refused", err)
      assert.are.equal("inet", seen[1][2].family)
    end)

    it("reports resolver failures with the name", function()
      net.resolve = function() return nil, "no such name" end
      assert.are.same({ nil, "connect nowhere.test:80: no such name" }, { net.connect("nowhere.test", 80) })
      net.resolve = nil
      assert.are.same({ nil, "connect nowhere.test:80: cannot resolve names yet" }, { net.connect("nowhere.test", 80) })
    end)

    it("resolves inside a task that yields while the name resolves", function()
      local s, port = serve(upper_echo)
      net.resolve = function() net.sleep(0.05); return { "127.0.0.1" } end
      local got, ticks = nil, 0
      net.spawn(function()
        local c = assert(net.connect("task.test", port, { timeout = 5 }))
        c:send("hi\n"); got = c:receive(); c:close()
      end)
      net.spawn(function() for _ = 1, 3 do ticks = ticks + 1; net.sleep(0.01) end end)
      local limit = net.now() + 5
      while not got and net.now() < limit do net.sleep(0.01) end
      assert.are.equal("HI", got)
      assert.are.equal(3, ticks)
      s:close()
    end)
  end)

  describe("servers", function()
    it("listen on * for both families with a free port", function()
      local s <close> = assert(net.listen("*", 0))
      local _, port = s:getsockname()
      assert.is_true(port > 0)
      for _, host in ipairs({ "127.0.0.1", "::1" }) do
        local c <close> = assert(net.connect(host, port))
        local a <close> = assert(s:accept(1))
        assert.are.equal(host, (a:getpeername()))
      end
      assert.matches("^tcp server %[::%]:%d+ %(listening%)$", tostring(s))
    end)

    it("report a port in use", function()
      local s <close> = assert(net.listen("127.0.0.1", 0))
      local _, port = s:getsockname()
      assert.are.same({ nil, "listen 127.0.0.1:" .. port .. ": address already in use" },
        { net.listen("127.0.0.1", port) })
    end)

    it("say why a port below 1024 is refused without the right", function()
      if not common.is_root() then return end
      local ok, code, out, err = common.run("setpriv --reuid=65534 --regid=65534 --clear-groups " ..
        common.q(common.netlua) .. [[ -e 'print(net.listen("127.0.0.1", 81))']])
      assert.is_true(ok, err)
      assert.are.equal("nil\tlisten 127.0.0.1:81: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)\n", out)
    end)
  end)

  describe("bad input", function()
    it("raises errors naming a bad port", function()
      for _, p in ipairs({ 65536, -1, 1.5, "http", {} }) do
        assert.has_error(function() net.connect("127.0.0.1", p) end)
        assert.has_error(function() net.listen("127.0.0.1", p) end)
      end
      local ok, err = pcall(net.connect, "127.0.0.1", 70000)
      assert.is_false(ok)
      assert.matches("bad argument #2 .*port must be an integer 1%-65535, got 70000", err)
      assert.is_truthy(net.listen("127.0.0.1", "0"))
    end)

    it("raises errors for bad hosts, options and patterns", function()
      assert.has_error(function() net.connect("127.0.0.1\0evil", 80) end)
      assert.has_error(function() net.connect(nil, 80) end)
      assert.has_error(function() net.connect("127.0.0.1", 80, { family = "ipx" }) end)
      assert.has_error(function() net.connect("127.0.0.1", 80, 5) end)
      local s <close> = assert(net.listen("127.0.0.1", 0))
      local _, port = s:getsockname()
      local c <close> = assert(net.connect("127.0.0.1", port))
      assert.has_error(function() c:receive("*x") end)
      assert.has_error(function() c:receive(-1) end)
      assert.has_error(function() c:send() end)
      assert.has_error(function() c.receive(s) end)
    end)
  end)

  describe("closing", function()
    it("says \"open, closed by peer\" in tostring once the peer's end was read (QA)", function()
      local s <close> = assert(net.listen("127.0.0.1", 0))
      local c <close> = assert(net.connect(s:getsockname()))
      local a = assert(s:accept())
      assert.matches("%(open%)$", tostring(c))
      a:close()
      c:settimeout(5)
      assert.are.same({ nil, "closed", "" }, { c:receive() })
      assert.matches("%(open, closed by peer%)$", tostring(c))
      c:close()
      assert.matches("%(closed%)$", tostring(c))
    end)

    it("closes once; every use after close returns nil, closed", function()
      local s <close> = assert(net.listen("127.0.0.1", 0))
      local _, port = s:getsockname()
      local c = assert(net.connect("127.0.0.1", port))
      assert.is_true(c:close())
      for _, m in ipairs({ "receive", "send", "getpeername", "getsockname", "shutdown", "close" }) do
        local r = { c[m](c, m == "send" and "x" or nil) }
        assert.are.equal(nil, r[1])
        assert.are.equal("closed", r[2])
      end
      assert.matches("%(closed%)$", tostring(c))
      assert.is_true(s:close())
      assert.are.same({ nil, "closed" }, { s:accept() })
      assert.matches("%(closed%)$", tostring(s))
    end)

    it("closes with <close> and by the GC without leaking fds", function()
      net.run()  -- handlers of earlier tests finish (their servers are closed)
      local s <close> = assert(net.listen("127.0.0.1", 0))
      local _, port = s:getsockname()
      collectgarbage(); collectgarbage()
      local n0 = common.count_fds()
      do
        local c <close> = assert(net.connect("127.0.0.1", port))
        local a <close> = assert(s:accept())
      end
      assert.are.equal(n0, common.count_fds())
      for _ = 1, 20 do assert(net.connect("127.0.0.1", port)); assert(s:accept()) end
      for _ = 1, 5 do net.connect("127.0.0.1", closed_port()) end
      collectgarbage(); collectgarbage()
      assert.are.equal(n0, common.count_fds())
    end)
  end)

  describe("trace and expect", function()
    it("writes a transcript and matches lines", function()
      local s, port = serve(function(c)
        c:send("220 ready\r\n")
        local l = c:receive()
        c:send("250-hello " .. l .. "\r\n250 ok\x01\r\n")
      end)
      local lines = {}
      local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      c:trace(function(line) lines[#lines + 1] = line end)
      assert.are.equal("220", select(3, c:expect("^(%d+) ")))
      c:send("EHLO me\r\n")
      assert.are.equal("ok\\x01", (select(3, c:expect("^250 (.*)$")):gsub("\1", "\\x01")))
      assert.are.same({ nil, "closed", {} }, { c:expect("never") })
      c:close()
      assert.are.same({ "<- 220 ready", " -> EHLO me", "<- 250-hello EHLO me", "<- 250 ok\\x01",
        "*** closed by peer", "*** closed" }, lines)
      s:close()
    end)
  end)
  describe("regressions (QA)", function()
    -- A connected pair on 127.0.0.1: client and accepted connection.
    local function pair()
      local s = assert(net.listen("127.0.0.1", 0))
      local _, port = s:getsockname()
      local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      local a = assert(s:accept(5))
      s:close()
      return c, a
    end

    -- Run a Lua chunk in a child netlua (SIGPIPE at its default action, as
    -- a shell would leave it); returns ok, code, stdout, stderr.
    local function child(code, prog)
      return common.run("perl -e '$SIG{PIPE}=\"DEFAULT\"; exec @ARGV' " .. (prog or common.q(common.netlua)) ..
        " -e " .. common.q(code))
    end

    it("grows the buffer as data arrives for a huge byte count (item 3)", function()
      local rss0 = helper.rss_kib()
      for _, n in ipairs({ 2 ^ 40, 3e9, math.maxinteger, 2 ^ 62 }) do
        local c, a = pair()
        a:send("hello"); a:close()
        assert.are.same({ nil, "closed", "hello" }, { c:receive(n) })
        c:close()
      end
      assert.is_true(helper.rss_kib() - rss0 < 64 * 1024, "memory grew")
      local c, a = pair()
      a:send(("b"):rep(300000))
      assert.are.equal(300000, #c:receive(300000))
      assert.matches("byte count too large", select(2, pcall(c.receive, c, 2 ^ 70)))
      assert.matches("byte count must be >= 0", select(2, pcall(c.receive, c, -1)))
      assert.matches("byte count must be an integer", select(2, pcall(c.receive, c, 1.5)))
      c:close(); a:close()
    end)

    it("returns exactly timeout when the deadline passes while the name resolves (item 4)", function()
      local saved = net.resolve
      net.resolve = function(name, opts)
        net.sleep(opts.timeout)
        return nil, "resolve " .. name .. " (server 127.0.0.1:5398): timeout"
      end
      local ok, dt, c, err = pcall(timed, net.connect, "blackhole.test", 80, { timeout = 0.2 })
      net.resolve = saved
      assert(ok, dt)
      assert.are.same({ nil, "timeout" }, { c, err })
      assert.is_true(dt < 1, "took " .. dt)
    end)

    it("returns exactly timeout against a DNS server that never answers (item 4)", function()
      local silent = assert(net.udp())
      assert(silent:bind("127.0.0.1", 0))
      local _, port = silent:getsockname()
      local before = net.dns.servers()
      net.dns.servers({ "127.0.0.1:" .. port })
      local ok, dt, c, err = pcall(timed, net.connect, "blackhole.test", 80, { timeout = 0.5 })
      net.dns.servers(before)
      silent:close()
      assert(ok, dt)
      assert.are.same({ nil, "timeout" }, { c, err })
      assert.is_true(dt < 2, "took " .. dt)
    end)

    it("never sends literals to DNS: scoped and bracketed IPv6, bad dotted quads (item 5)", function()
      local saved, asked = net.resolve, {}
      net.resolve = function(name) asked[#asked + 1] = name; return nil, "no such name" end
      local port = closed_port()
      local results = {}
      for _, h in ipairs({ "fe80::1%lo", "fe80::1%1", "::1", "[::1]", "127.0.0.1", "300.1.1.1",
                           "127.0.0.256", "127", "1.2.3", "fe80::1%nosuchif0", "[::1", "1:2:3:4:5:6:7:8:9" }) do
        results[h] = { net.connect(h, port, { timeout = 1 }) }
      end
      net.resolve = saved
      assert.are.same({}, asked)
      assert.are.equal("connect [::1]:" .. port .. " (::1): connection refused", results["[::1]"][2])
      assert.are.equal("connect [::1]:" .. port .. " (::1): connection refused", results["::1"][2])
      for _, h in ipairs({ "300.1.1.1", "127.0.0.256", "127", "1.2.3" }) do
        assert.are.same({ nil, "connect " .. h .. ":" .. port .. ": invalid address" }, results[h])
      end
      assert.are.same({ nil, "connect [fe80::1%nosuchif0]:" .. port .. ": invalid address" },
        results["fe80::1%nosuchif0"])
      -- the scope reaches the kernel: the message names it, and it is not a DNS error
      assert.matches("^connect %[fe80::1%%lo%]:%d+ %(fe80::1%%lo%): ", results["fe80::1%lo"][2])
      assert.matches("^connect %[fe80::1%%1%]:%d+ %(fe80::1%%lo%): ", results["fe80::1%1"][2])
      assert.matches("bad argument #1 .*host must be a string, got number",
        select(2, pcall(net.connect, 127, 80)))
      assert.are.same({ nil, "listen 300.1.1.1:0: invalid address" }, { net.listen("300.1.1.1", 0) })
    end)

    it("raises for a NUL byte or a name in opts.localaddr (item 6)", function()
      assert.matches("bad argument #3 to .*connect.*option 'localaddr' contains a NUL byte",
        select(2, pcall(net.connect, "127.0.0.1", 1, { localaddr = "127.0.0.1\0x" })))
      assert.matches("option 'localaddr' must be a numeric address",
        select(2, pcall(net.connect, "127.0.0.1", 1, { localaddr = "localhost" })))
      assert.matches("option 'localport' must be an integer 0%-65535",
        select(2, pcall(net.connect, "127.0.0.1", 1, { localaddr = "127.0.0.1", localport = 70000 })))
      local s <close> = assert(net.listen("127.0.0.1", 0))
      local _, port = s:getsockname()
      local c <close> = assert(net.connect("127.0.0.1", port, { localaddr = "127.0.0.3" }))
      assert.are.equal("127.0.0.3", (c:getsockname()))
    end)

    it("never dies of SIGPIPE, with SIGPIPE at its default action", function()
      local code = [[
        local s = assert(net.listen("127.0.0.1", 0))
        local c = assert(net.connect("127.0.0.1", select(2, s:getsockname())))
        s:accept():close()
        net.sleep(0.05)
        local ok, err
        for _ = 1, 50 do
          ok, err = c:send(("y"):rep(65536))
          if not ok then break end
          net.sleep(0.005)
        end
        print(ok, err)
      ]]
      local ok, status, out, err = child(code)
      assert.is_true(ok, "status " .. tostring(status) .. " " .. err)
      assert.matches("^nil\t", out)
      ok, status, out, err = child("net = require 'net' " .. code, "env " .. common.stock_lua())
      assert.is_true(ok, "stock lua: status " .. tostring(status) .. " " .. err)
      assert.matches("^nil\t", out)
    end)

    it("closes the connection when a send is interrupted; a receive keeps its data (item 9)", function()
      local ok, status, out, err = child([[
        local s = assert(net.listen("127.0.0.1", 0))
        local c = assert(net.connect("127.0.0.1", select(2, s:getsockname())))
        local a = assert(s:accept())
        local data = ("x"):rep(64 * 1024 * 1024)
        os.execute("(sleep 0.3; kill -INT $PPID) &")
        print(pcall(c.send, c, data))
        print(c:send("y"))
        print(tostring(c):match("%((.-)%)$"))
        c = assert(net.connect("127.0.0.1", select(2, s:getsockname())))
        a = assert(s:accept())
        a:send("part")
        os.execute("(sleep 0.3; kill -INT $PPID) &")
        print(pcall(c.receive, c))
        a:send("ial\n")
        print(c:receive())
      ]])
      assert.is_true(ok, "status " .. tostring(status) .. " " .. err)
      assert.are.equal("false\tinterrupted!\nnil\tclosed\t0\nclosed\nfalse\tinterrupted!\npartial\n",
        (out:gsub("\t[^\n]*interrupted!", "\tinterrupted!")))
    end)

    it("checks options and timeouts with messages naming the function (item 11)", function()
      local function msg(f, ...) return select(2, pcall(f, ...)) end
      assert.matches("bad argument #3 to '[%w.]*connect' %(unknown option 'sever'%)",
        msg(net.connect, "127.0.0.1", 1, { sever = 1 }))
      assert.matches("bad argument #3 to '[%w.]*listen' %(unknown option 'backlg'%)",
        msg(net.listen, "127.0.0.1", 0, { backlg = 1 }))
      assert.matches("bad argument #3 to '[%w.]*connect' %(option 'timeout' must be a number, got string%)",
        msg(net.connect, "127.0.0.1", 1, { timeout = "1" }))
      assert.matches("option 'timeout' is NaN", msg(net.connect, "127.0.0.1", 1, { timeout = 0 / 0 }))
      assert.matches("option 'timeout' must be a number >= 0 or nil, got %-1",
        msg(net.connect, "127.0.0.1", 1, { timeout = -1 }))
      assert.matches("option 'family' must be \"inet\" or \"inet6\", got ipx",
        msg(net.connect, "127.0.0.1", 1, { family = "ipx" }))
      assert.matches("option 'linelimit' must be an integer >= 1",
        msg(net.listen, "127.0.0.1", 0, { linelimit = -5 }))
      local c, a = pair()
      assert.matches("timeout must be a number >= 0 or nil, got %-1", msg(c.settimeout, c, -1))
      assert.matches("timeout must be a number >= 0 or nil, got %-?nan", msg(c.settimeout, c, 0 / 0))
      assert.matches("timeout must be a number >= 0 or nil, got string", msg(c.settimeout, c, "x"))
      assert.is_true(c:settimeout(nil))
      assert.is_true(c:settimeout(math.huge))
      assert.is_nil(c:gettimeout())
      local s <close> = assert(net.listen("127.0.0.1", 0))
      assert.matches("timeout must be a number >= 0 or nil", msg(s.accept, s, -1))
      assert.matches("timeout must be a number >= 0 or nil", msg(s.settimeout, s, -0.5))
      c:close(); a:close()
    end)
  end)
end)
