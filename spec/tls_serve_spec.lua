-- spec/tls_serve_spec.lua: net.serve and net.http.serve over TLS against
-- real clients on loopback (curl, openssl s_client, net.connect), each
-- client's handshake in its own task: a client that sends garbage or
-- nothing never stops the server nor delays the others. The long check
-- (NETLUA_LONG=1): a thousand failed handshakes on both sides leak
-- neither descriptors nor memory (run it under ASan too).
local net = require "net"
local common = require "spec.support.common"
local tls = require "spec.support.tls_helper"

local background = common.background

local function echo(c)
  for line in c:lines() do c:send("you said " .. line .. "\n") end
end

describe("tls servers", function()
  local certs, fds_before, good
  setup(function()
    net.run()
    certs = tls.certs()
    good = { cert = certs.good, key = certs.goodkey }
    collectgarbage(); collectgarbage()
    fds_before = common.count_fds()
  end)
  teardown(function()
    net.run()
    collectgarbage(); collectgarbage()
    tls.cleanup()
    assert.are.equal(fds_before, common.count_fds())
  end)

  describe("the listener", function()
    it("says tls server in tostring", function()
      local s = assert(net.listen("127.0.0.1", 0, { tls = good }))
      assert.matches("^tls server 127%.0%.0%.1:%d+ %(listening%)$", tostring(s))
      s:close()
      assert.matches("^tls server 127%.0%.0%.1:%d+ %(closed%)$", tostring(s))
      local p = assert(net.listen("127.0.0.1", 0))
      assert.matches("^tcp server ", tostring(p))
      p:close()
    end)

    it("accept(t, false) leaves the handshake to server:handshake", function()
      local s = assert(net.listen("127.0.0.1", 0, { tls = good }))
      local _, port = s:getsockname()
      local got
      net.spawn(function()
        local c = assert(net.connect("localhost", port, { tls = { ca = certs.ca }, timeout = 5 }))
        c:send("hi\n"); got = c:receive(); c:close()
      end)
      local c = assert(s:accept(5, false))
      assert.matches("^tcp connection ", tostring(c))
      assert.are.equal(c, s:handshake(c, 5))
      assert.matches("^tls connection ", tostring(c))
      assert.are.equal("hi", c:receive())
      c:send("yo\n")
      net.run()
      c:close(); s:close()
      assert.are.equal("yo", got)
      local p = assert(net.listen("127.0.0.1", 0))
      local pc = net.connect("127.0.0.1", select(2, p:getsockname()))
      local a = assert(p:accept(5, false))
      assert.same({ nil, "handshake: the server is not TLS" }, { p:handshake(a) })
      a:close(); pc:close(); p:close()
    end)
  end)

  describe("net.serve{tls}", function()
    it("serves openssl s_client, verified; tostring says tls", function()
      local srv = assert(net.serve("127.0.0.1", 0, function(c) c:send("you said " .. c:receive() .. "\n") end,
        { tls = good }))
      assert.matches("^net%.serve tls 127%.0%.0%.1:%d+ %(0 clients%)$", tostring(srv))
      local _, port = srv:getsockname()
      local wait = background(("echo ping | openssl s_client -quiet -verify_return_error -CAfile %s "
        .. "-verify_hostname localhost -connect 127.0.0.1:%d"):format(common.q(certs.ca), port))
      local ok, rc, out = pcall(wait)
      srv:close()
      assert(ok, rc)
      assert.are.equal(0, rc, out)
      assert.matches("you said ping\n", out, 1, true)
    end)

    it("garbage instead of a ClientHello, and a silent client, never hold a good one", function()
      local handled = 0
      local srv = assert(net.serve("127.0.0.1", 0, function(c) handled = handled + 1; echo(c) end,
        { tls = good, handshake = 1 }))
      local _, port = srv:getsockname()
      local silent = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      local bad = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      bad:send("GET / HTTP/1.0\r\n\r\n")
      local t0 = net.now()
      local c = assert(net.connect("localhost", port, { tls = { ca = certs.ca }, timeout = 5 }))
      c:send("again\n")
      assert.are.equal("you said again", c:receive())
      assert.is_true(net.now() - t0 < 0.9, "the good client waited for the others")
      c:close()
      assert.is_nil(bad:receive("a"))   -- refused and closed
      -- the silent one is dropped after its handshake deadline
      local data, err = silent:receive("a")
      assert.are.equal("", data or "")
      assert.is_true(err == nil or err == "closed" or err:match("reset") ~= nil, tostring(err))
      assert.is_true(net.now() - t0 < 3)
      assert.are.equal(2, srv.failed_handshakes)
      assert.are.equal(1, handled)
      bad:close(); silent:close()
      srv:close()
    end)

    it("a bad certificate: nil and a message at serve", function()
      local srv, err = net.serve("127.0.0.1", 0, echo, { tls = { cert = certs.dir .. "/none.pem", key = certs.goodkey } })
      assert.is_nil(srv)
      assert.matches("^listen 127%.0%.0%.1:0: tls: .*none%.pem", err)
      assert.has_error(function() net.serve("127.0.0.1", 0, echo, { tls = { key = certs.goodkey } }) end)
    end)

    it("srv:close() during a handshake closes that client too", function()
      local srv = assert(net.serve("127.0.0.1", 0, echo, { tls = good }))
      local _, port = srv:getsockname()
      local silent = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      net.sleep(0.1)
      assert.are.equal(1, srv:clients())
      srv:close()
      net.sleep(0.05)
      assert.are.equal(0, srv:clients())
      silent:close()
    end)
  end)

  describe("net.http.serve{tls}", function()
    it("serves curl --cacert, reusing the connection (keep-alive)", function()
      local conns = {}
      local srv = assert(net.http.serve("127.0.0.1", 0, function(req)
        conns[req.peer] = true
        return 200, { ["Content-Type"] = "text/plain" }, "hello " .. req.path .. "\n"
      end, { tls = good }))
      local _, port = srv:getsockname()
      local wait = background(("curl -sS -v --max-time 5 --cacert %s https://localhost:%d/a https://localhost:%d/b")
        :format(common.q(certs.ca), port, port))
      local rc, out = wait()
      srv:close()
      assert.are.equal(0, rc, out)
      assert.matches("hello /a\n", out, 1, true)
      assert.matches("hello /b\n", out, 1, true)
      assert.matches("Re%-using existing connection", out)
      local n = 0
      for _ in pairs(conns) do n = n + 1 end
      assert.are.equal(1, n)
    end)

    it("net.http.get over https against it, verified", function()
      local srv = assert(net.http.serve("127.0.0.1", 0, function() return 200, {}, "ok\n" end, { tls = good }))
      local _, port = srv:getsockname()
      local status, _, body = net.http.get(("https://localhost:%d/"):format(port), { tls = { ca = certs.ca } })
      assert.are.equal(200, status)
      assert.are.equal("ok\n", body)
      local s2, err = net.http.get(("https://localhost:%d/"):format(port))
      assert.is_nil(s2)
      assert.matches("certificate verify failed", err)
      srv:close()
    end)
  end)

  local long = os.getenv("NETLUA_LONG") == "1"
  local long_it = long and it or pending
  describe("a thousand failed handshakes (NETLUA_LONG=1)", function()
    long_it("as a client (a self-signed server) and as a server (garbage clients): no fd, no memory kept", function()
      local srv = tls.s_server(certs.self, certs.selfkey)
      for _ = 1, 5 do net.connect("127.0.0.1", srv.port, { tls = { ca = certs.ca }, timeout = 5 }) end
      collectgarbage(); collectgarbage()
      local n0, m0 = common.count_fds(), collectgarbage("count")
      for _ = 1, 1000 do
        local c, err = net.connect("127.0.0.1", srv.port, { tls = { ca = certs.ca }, timeout = 5 })
        assert.is_nil(c)
        assert.matches("self%-signed certificate", err)
      end
      srv.stop()
      collectgarbage(); collectgarbage()
      assert.is_true(common.count_fds() <= n0)
      assert.is_true(collectgarbage("count") < m0 + 512, "Lua memory grew")

      local served = assert(net.serve("127.0.0.1", 0, echo, { tls = good, handshake = 2 }))
      local _, port = served:getsockname()
      n0 = common.count_fds()
      for i = 1, 1000 do
        local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
        if i % 2 == 0 then c:send("\22\3\1\0\5garbage that is no ClientHello\r\n") else c:send("HELO x\r\n") end
        c:receive("a")
        c:close()
      end
      local t = net.now() + 5
      while served.failed_handshakes < 1000 and net.now() < t do net.sleep(0.05) end
      assert.are.equal(1000, served.failed_handshakes)
      local c = assert(net.connect("localhost", port, { tls = { ca = certs.ca }, timeout = 5 }))
      c:send("still here\n")
      assert.are.equal("you said still here", c:receive())
      c:close()
      served:close()
      net.sleep(0.05)
      collectgarbage(); collectgarbage()
      assert.is_true(common.count_fds() <= n0)
    end)
  end)
end)
