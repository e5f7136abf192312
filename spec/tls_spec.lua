-- spec/tls_spec.lua: TLS clients and servers against real peers on
-- loopback: nginx with ssl (TLS 1.2 only and TLS 1.3 only servers),
-- openssl s_server, curl and openssl s_client against net.listen{tls},
-- and net's own servers. Certificates come from a private CA made with
-- the openssl command (spec/support/tls_helper.lua). Every wait is
-- bounded; no fd may leak.
local net = require "net"
local common = require "spec.support.common"
local tcp = require "spec.support.tcp_helper"
local tls = require "spec.support.tls_helper"

-- A server on 127.0.0.1, port 0 (opts passed to net.listen), whose
-- connections are handled by handler(conn) in tasks. accept's nil returns
-- (a client that failed its handshake) are collected in `failures`.
local function serve(handler, opts)
  local s = assert(net.listen("127.0.0.1", 0, opts))
  local _, port = s:getsockname()
  local h = { server = s, port = port, failures = {} }
  net.spawn(function()
    while true do
      local c, err = s:accept()
      if not c then
        if err == "closed" then return end
        h.failures[#h.failures + 1] = err
      else
        net.spawn(function() handler(c); c:close() end)
      end
    end
  end)
  return h
end

local background = common.background

-- A port on which a plain server accepts and says nothing (for timeouts).
local function silent_server()
  local held = {}
  local h = serve(function(c) held[#held + 1] = c; net.sleep(3) end)
  return h
end

describe("tls", function()
  local certs, fds_before, nginx
  setup(function()
    net.run()
    certs = tls.certs()
    nginx = tls.nginx()
    collectgarbage(); collectgarbage()
    fds_before = common.count_fds()
  end)
  teardown(function()
    if nginx then nginx.stop() end
    net.run()
    collectgarbage(); collectgarbage()
    tls.cleanup()
    assert.are.equal(fds_before, common.count_fds())
  end)

  describe("client against nginx", function()
    for _, v in ipairs { { "1.2", "port12", "TLSv1.2" }, { "1.3", "port13", "TLSv1.3" } } do
      it("GET by hand over TLS " .. v[1] .. ", verified against the CA", function()
        local c = assert(net.connect("localhost", nginx[v[2]], { tls = { ca = certs.ca }, timeout = 5 }))
        assert.matches("^tls connection 127%.0%.0%.1:%d+ %-> 127%.0%.0%.1:%d+ %(open%)$", tostring(c))
        assert(c:send("GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
        assert.are.equal("HTTP/1.1 200 OK", c:receive())
        local rest = assert(c:receive("a"))
        assert.matches("\r\n\r\nhello over tls\n$", rest)
        local info = assert(c:tlsinfo())
        assert.are.equal(v[3], info.version)
        assert.is_true(info.verified)
        assert.are.equal("ok", info.verifyresult)
        assert.are.equal("localhost", info.servername)
        assert.is_string(info.cipher)
        local leaf = info.chain[1]
        assert.are.equal("CN=localhost", leaf.subject)
        assert.are.equal("CN=netlua test CA", leaf.issuer)
        assert.are.same({ "localhost", "127.0.0.1", "::1" }, leaf.altnames)
        assert.is_true(leaf.daysleft >= 363 and leaf.daysleft <= 365)
        assert.matches("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d UTC$", leaf.notafter)
        assert.matches("^%x%x:" .. ("%x%x:"):rep(30) .. "%x%x$", leaf.sha256)
        assert.matches("^%x+$", leaf.serial)
        c:close()
        assert.matches("^tls connection .* %(closed%)$", tostring(c))
      end)

      it("a large file over TLS " .. v[1] .. " arrives whole (sha256)", function()
        local c = assert(net.connect("127.0.0.1", nginx[v[2]], { tls = { ca = certs.ca }, timeout = 10 }))
        c:send("GET /file HTTP/1.0\r\nHost: localhost\r\n\r\n")
        local len
        for line in c:lines() do
          if line == "" then break end
          len = len or tonumber(line:match("^Content%-Length: (%d+)"))
        end
        local body = assert(c:receive(len))
        c:close()
        local want = tcp.body()
        local function sha(s)
          local n = os.tmpname()
          local f = io.open(n, "wb"); f:write(s); f:close()
          local _, _, out = common.run("sha256sum " .. n)
          os.remove(n)
          return out:match("^%x+")
        end
        assert.are.equal(#want, #body)
        assert.are.equal(sha(want), sha(body))
      end)
    end

    it("every receive pattern works after the handshake", function()
      local c = assert(net.connect("localhost", nginx.port13, { tls = { ca = certs.ca }, timeout = 5 }))
      c:send("GET /file HTTP/1.0\r\n\r\n")
      assert.are.equal("HTTP/1.1 200 OK\r\n", c:receive("L"))
      repeat local l = c:receive("*l") until l == ""
      assert.are.equal("line 00001 ", c:receive(11))
      assert.are.equal(("x"):rep(88), c:receive())
      local n = 0
      for _ in c:lines() do n = n + 1; if n == 10 then break end end
      local rest = c:receive("a")
      assert.are.equal(100000 - 100 - 10 * 100, #rest)
      assert.are.same({ nil, "closed", "" }, { c:receive() })
      c:close()
    end)

    it("refuses a server the system store does not trust", function()
      local c, err = net.connect("localhost", nginx.port13, { tls = true, timeout = 5 })
      assert.is_nil(c)
      assert.are.equal(("tls localhost:%d (127.0.0.1): certificate verify failed: unable to get local issuer "
        .. "certificate (CN=localhost, issuer CN=netlua test CA)"):format(nginx.port13), err)
    end)

    it("honours SSL_CERT_FILE for the system store", function()
      local code = ("local net = require 'net' local c, e = net.connect('localhost', %d, {tls = true, timeout = 5}) "
        .. "print(c and c:tlsinfo().verifyresult or e)"):format(nginx.port13)
      local _, _, out = common.run("SSL_CERT_FILE=" .. common.q(certs.ca) .. " " .. common.q(common.netlua)
        .. " -e " .. common.q(code))
      assert.are.equal("ok\n", out)
    end)

    it("minversion 1.3 against a TLS 1.2 server: no shared protocol version", function()
      local c, err = net.connect("localhost", nginx.port12, { tls = { ca = certs.ca, minversion = "1.3" }, timeout = 5 })
      assert.is_nil(c)
      assert.are.equal(("tls localhost:%d (127.0.0.1): handshake: no shared protocol version"):format(nginx.port12), err)
    end)

    it("verify = false connects and says so everywhere", function()
      local c = assert(net.connect("127.0.0.1", nginx.port13, { tls = { verify = false }, timeout = 5 }))
      assert.matches("%(open, NOT VERIFIED%)$", tostring(c))
      local info = c:tlsinfo()
      assert.is_false(info.verified)
      assert.are.equal("NOT VERIFIED (verify = false): unable to get local issuer certificate", info.verifyresult)
      c:close()
    end)
  end)

  describe("net.http over https", function()
    it("gets a file from nginx, verified against the CA", function()
      local code, h, body = net.http.get(("https://localhost:%d/file"):format(nginx.port13),
        { tls = { ca = certs.ca }, timeout = 10 })
      assert.are.equal(200, code)
      assert.are.equal(tcp.body(), body)
    end)
    it("refuses an unverified server: nil, message, \"tls\"", function()
      local ok, err, kind = net.http.get(("https://localhost:%d/"):format(nginx.port12), { timeout = 5 })
      assert.is_nil(ok)
      assert.are.equal("tls", kind)
      assert.matches("^tls localhost:%d+ %(127%.0%.0%.1%): certificate verify failed: unable to get local issuer", err)
    end)
    it("follows a redirect from http to https", function()
      local h = serve(function(c)
        repeat local l = c:receive() until not l or l == ""
        c:send(("HTTP/1.1 301 Moved\r\nLocation: https://localhost:%d/index.html\r\nContent-Length: 0\r\n\r\n")
          :format(nginx.port12))
      end)
      local code, _, body = net.http.get(("http://127.0.0.1:%d/"):format(h.port),
        { tls = { ca = certs.ca }, redirects = true, timeout = 5 })
      h.server:close()
      assert.are.equal(200, code)
      assert.are.equal("hello over tls\n", body)
    end)
  end)

  describe("net.smtp over TLS", function()
    -- A small SMTP server: STARTTLS offered when `starttls`; records what
    -- it was sent and whether the session was TLS when the mail came.
    local function smtp_server(opts, starttls)
      local seen = {}
      local h = serve(function(c)
        c:send("220 fake ESMTP\r\n")
        for line in c:lines() do
          local cmd = line:match("^(%u+)")
          if cmd == "EHLO" then
            c:send(starttls and not c:tlsinfo() and "250-fake\r\n250 STARTTLS\r\n" or "250 fake\r\n")
          elseif cmd == "STARTTLS" then
            c:send("220 go ahead\r\n")
            if not c:starttls { server = true, cert = certs.good, key = certs.goodkey } then return end
          elseif cmd == "MAIL" or cmd == "RCPT" then
            c:send("250 ok\r\n")
          elseif cmd == "DATA" then
            c:send("354 go\r\n")
            local body = {}
            for l in c:lines() do if l == "." then break end body[#body + 1] = l end
            seen.body, seen.tls = table.concat(body, "\n"), c:tlsinfo() ~= nil
            c:send("250 queued\r\n")
          elseif cmd == "QUIT" then
            c:send("221 bye\r\n")
            return
          else
            c:send("500 what\r\n")
          end
        end
      end, opts)
      h.seen = seen
      return h
    end

    it("send{tls = \"starttls\"} upgrades after EHLO", function()
      local h = smtp_server(nil, true)
      local ok, reply = net.smtp.send { server = "localhost", port = h.port, from = "a@b.example", to = "c@d.example",
        body = "over tls", tls = "starttls", tlsopts = { ca = certs.ca }, timeout = 5 }
      h.server:close()
      assert.is_true(ok, reply)
      assert.are.equal("250 queued", reply)
      assert.is_true(h.seen.tls)
      assert.matches("over tls$", h.seen.body)
    end)

    it("send{tls = \"starttls\"} never falls back to plain", function()
      local h = smtp_server(nil, false)
      local ok, err = net.smtp.send { server = "localhost", port = h.port, from = "a@b.example", to = "c@d.example",
        body = "x", tls = "starttls", tlsopts = { ca = certs.ca }, timeout = 5 }
      h.server:close()
      assert.is_nil(ok)
      assert.are.equal(("smtp localhost:%d: the server does not offer STARTTLS"):format(h.port), err)
      assert.is_nil(h.seen.body)
    end)

    it("send{tls = \"tls\"} speaks TLS from the start; verification failures are messages", function()
      local h = smtp_server({ tls = { cert = certs.good, key = certs.goodkey } }, false)
      local ok, reply = net.smtp.send { server = "localhost", port = h.port, from = "a@b.example", to = "c@d.example",
        body = "implicit", tls = "tls", tlsopts = { ca = certs.ca }, timeout = 5 }
      assert.is_true(ok, reply)
      assert.is_true(h.seen.tls)
      local s, err = net.smtp.open("localhost", h.port, { tls = true, timeout = 5 })
      h.server:close()
      assert.is_nil(s)
      assert.matches("^tls localhost:%d+ %(127%.0%.0%.1%): certificate verify failed: unable to get local issuer", err)
    end)

    it("session:starttls by hand", function()
      local h = smtp_server(nil, true)
      local s = assert(net.smtp.open("localhost", h.port, { timeout = 5 }))
      assert.are.equal(250, s:ehlo())
      assert.are.equal("", s.extensions.STARTTLS)
      assert.are.equal(220, s:starttls { ca = certs.ca })
      assert.are.equal("TLSv1.3", s.conn:tlsinfo().version)
      assert.are.equal(250, s:ehlo())
      assert.is_nil(s.extensions.STARTTLS)
      assert.are.equal(221, s:quit())
      h.server:close()
    end)
  end)

  describe("failures name the reason", function()
    local function fails_with(cert, key, host, opts)
      local srv = tls.s_server(cert, key)
      local c, err = net.connect(host, srv.port, { tls = opts or { ca = certs.ca }, timeout = 5 })
      srv.stop()
      assert.is_nil(c)
      return (err:gsub(":" .. srv.port .. " ", ":PORT "))
    end

    it("self-signed", function()
      assert.are.equal("tls localhost:PORT (127.0.0.1): certificate verify failed: self-signed certificate "
        .. "(CN=selfsigned.example)", fails_with(certs.self, certs.selfkey, "localhost"))
    end)
    it("expired", function()
      local err = fails_with(certs.expired, certs.expiredkey, "localhost")
      assert.matches("^tls localhost:PORT %(127%.0%.0%.1%): certificate verify failed: certificate has expired "
        .. "%(notAfter %d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d UTC, CN=expired%.example%)$", err)
    end)
    it("a name mismatch, for a name and for an address", function()
      assert.are.equal("tls localhost:PORT (127.0.0.1): name mismatch: certificate is for a.example, not localhost",
        fails_with(certs.other, certs.otherkey, "localhost"))
      assert.are.equal("tls 127.0.0.1:PORT (127.0.0.1): name mismatch: certificate is for a.example, not 127.0.0.1",
        fails_with(certs.other, certs.otherkey, "127.0.0.1"))
    end)
    it("servername sets the name checked", function()
      local srv = tls.s_server(certs.other, certs.otherkey)
      local c = assert(net.connect("127.0.0.1", srv.port, { tls = { ca = certs.ca, servername = "a.example" }, timeout = 5 }))
      assert.are.equal("a.example", c:tlsinfo().servername)
      c:close()
      srv.stop()
    end)
    it("a peer that closes during the handshake", function()
      local h = serve(function(c) c:close() end)
      local c, err = net.connect("127.0.0.1", h.port, { tls = { ca = certs.ca }, timeout = 5 })
      h.server:close()
      assert.is_nil(c)
      assert.matches(("^tls 127%%.0%%.0%%.1:%d %%(127%%.0%%.0%%.1%%): peer closed during the handshake"):format(h.port), err)
    end)
    it("a peer that does not speak TLS", function()
      local h = serve(function(c) c:send("220 plain text here, not TLS\r\n"); net.sleep(0.5) end)
      local c, err = net.connect("127.0.0.1", h.port, { tls = { ca = certs.ca }, timeout = 5 })
      h.server:close()
      assert.is_nil(c)
      assert.are.equal(("tls 127.0.0.1:%d (127.0.0.1): handshake: the peer does not speak TLS (wrong version number)")
        :format(h.port), err)
    end)
    it("a silent server: the handshake times out within connect's deadline", function()
      local h = silent_server()
      local t0 = net.now()
      local c, err = net.connect("127.0.0.1", h.port, { tls = true, timeout = 0.3 })
      local dt = net.now() - t0
      h.server:close()
      assert.is_nil(c)
      assert.are.equal("timeout", err)
      assert.is_true(dt >= 0.25 and dt < 2, "took " .. dt)
    end)
    it("a handshake in a task yields: other tasks run meanwhile", function()
      local h = silent_server()
      local ticks, got = 0, nil
      net.spawn(function() got = { net.connect("127.0.0.1", h.port, { tls = true, timeout = 0.3 }) } end)
      net.spawn(function() for _ = 1, 5 do ticks = ticks + 1; net.sleep(0.02) end end)
      for _ = 1, 100 do if got then break end net.sleep(0.02) end
      h.server:close()
      assert.are.equal(5, ticks)
      assert.are.same({ nil, "timeout" }, got)
    end)
    it("Ctrl-C interrupts a handshake", function()
      local script = [[
        local s = net.listen("127.0.0.1", 0); local _, port = s:getsockname()
        net.spawn(function() local c = s:accept(); net.sleep(30) end)
        net.spawn(function() net.sleep(0.2); io.stderr:write("ready\n") end)
        net.connect("127.0.0.1", port, { tls = true })]]
      local ok, code, _, err = common.run("F=$(mktemp); timeout --foreground 10 " .. common.q(common.netlua) ..
        " -e " .. common.q(script) .. [[ 2>$F & pid=$!; for i in $(seq 200); do grep -q ready $F 2>/dev/null && break; ]] ..
        [[sleep 0.05; done; kill -INT $pid; wait $pid; rc=$?; cat $F >&2; rm -f $F; exit $rc]])
      assert.is_falsy(ok)
      assert.are.equal(1, code)
      assert.matches("interrupted!", err)
    end)
    it("bad options raise", function()
      assert.has_error(function() net.connect("127.0.0.1", 1, { tls = { verfy = false } }) end)
      assert.has_error(function() net.connect("127.0.0.1", 1, { tls = { minversion = "1.1" } }) end)
      assert.has_error(function() net.connect("127.0.0.1", 1, { tls = { alpn = "h2" } }) end)
      assert.has_error(function() net.connect("127.0.0.1", 1, { tls = 1 }) end)
      assert.has_error(function() net.listen("127.0.0.1", 0, { tls = { key = certs.goodkey } }) end)
    end)
    it("bad nested options name argument #3 and the key as tls.KEY (QA round 2)", function()
      local ok, err = pcall(net.connect, "127.0.0.1", 1, { tls = { foo = 1 } })
      assert.is_false(ok)
      assert.matches("bad argument #3 to '[%w.]*connect' %(unknown option 'tls%.foo'%)", err)
      ok, err = pcall(net.connect, "127.0.0.1", 1, { tls = 5 })
      assert.matches("bad argument #3 to '[%w.]*connect' %(option 'tls' must be true or a table, got number%)", err)
      ok, err = pcall(net.listen, "127.0.0.1", 0, { tls = { bogus = 1 } })
      assert.matches("bad argument #3 to '[%w.]*listen' %(unknown option 'tls%.bogus'%)", err)
    end)
    it("a missing ca file: nil and a message", function()
      local h = silent_server()
      local c, err = net.connect("127.0.0.1", h.port, { tls = { ca = "/nonexistent/ca.pem" }, timeout = 5 })
      h.server:close()
      assert.is_nil(c)
      assert.are.equal(("tls 127.0.0.1:%d (127.0.0.1): cannot load ca /nonexistent/ca.pem: no such file or directory")
        :format(h.port), err)
    end)
  end)

  describe("client certificates and alpn against openssl s_server", function()
    it("sends a client certificate the server verifies", function()
      local srv = tls.s_server(certs.good, certs.goodkey, "-rev -Verify 1 -CAfile " .. common.q(certs.ca))
      local c = assert(net.connect("localhost", srv.port,
        { tls = { ca = certs.ca, cert = certs.client, key = certs.clientkey }, timeout = 5 }))
      c:send("hello\n")
      assert.are.equal("olleh", c:receive())
      c:close()
      srv.stop()
    end)
    it("negotiates alpn", function()
      local srv = tls.s_server(certs.good, certs.goodkey, "-rev -alpn http/1.1")
      local c = assert(net.connect("localhost", srv.port,
        { tls = { ca = certs.ca, alpn = { "h2", "http/1.1" } }, timeout = 5 }))
      assert.are.equal("http/1.1", c:tlsinfo().alpn)
      c:close()
      srv.stop()
    end)
  end)

  describe("net.listen with tls", function()
    local function hello(c)
      local line = c:receive()
      if line and line:match("^GET ") then
        repeat local l = c:receive() until not l or l == ""
        c:send("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n")
      elseif line then
        c:send("you said " .. line .. "\n")
      end
    end

    it("serves curl --cacert", function()
      local h = serve(hello, { tls = { cert = certs.good, key = certs.goodkey } })
      local wait = background(("curl -sS --max-time 5 --cacert %s https://127.0.0.1:%d/"):format(common.q(certs.ca), h.port))
      local rc, out = wait()
      h.server:close()
      assert.are.equal(0, rc, out)
      assert.are.equal("hello\n", out)
    end)

    it("serves openssl s_client, verified", function()
      local h = serve(hello, { tls = { cert = certs.good, key = certs.goodkey } })
      local wait = background(("echo ping | openssl s_client -quiet -verify_return_error -CAfile %s "
        .. "-verify_hostname localhost -connect 127.0.0.1:%d"):format(common.q(certs.ca), h.port))
      local rc, out = wait()
      h.server:close()
      assert.are.equal(0, rc, out)
      assert.matches("you said ping\n", out, 1, true)
    end)

    it("a client failing its handshake neither stops the server nor others", function()
      local h = serve(hello, { tls = { cert = certs.good, key = certs.goodkey } })
      local bad = assert(net.connect("127.0.0.1", h.port, { timeout = 5 }))
      bad:send("GET / HTTP/1.0\r\n\r\n")
      local c = assert(net.connect("localhost", h.port, { tls = { ca = certs.ca }, timeout = 5 }))
      c:send("again\n")
      assert.are.equal("you said again", c:receive())
      c:close()
      bad:close()
      h.server:close()
      net.sleep(0.05)
      assert.are.equal(1, #h.failures)
      assert.matches("^tls client 127%.0%.0%.1:%d+: handshake: ", h.failures[1])
    end)

    it("requires and verifies client certificates when given ca", function()
      local h = serve(hello, { tls = { cert = certs.good, key = certs.goodkey, ca = certs.ca } })
      local c = assert(net.connect("localhost", h.port,
        { tls = { ca = certs.ca, cert = certs.client, key = certs.clientkey }, timeout = 5 }))
      c:send("with cert\n")
      assert.are.equal("you said with cert", c:receive())
      c:close()
      local d = net.connect("localhost", h.port, { tls = { ca = certs.ca }, timeout = 5 })
      if d then d:send("x\n"); assert.is_nil(d:receive()); d:close() end
      h.server:close()
      net.sleep(0.05)
      assert.matches("^tls client 127%.0%.0%.1:%d+: handshake: the client sent no certificate$", h.failures[1])
    end)

    it("IPv6: the address is checked against the certificate's IP names", function()
      local s = assert(net.listen("::1", 0, { tls = { cert = certs.good, key = certs.goodkey } }))
      local _, port = s:getsockname()
      net.spawn(function()
        for _ = 1, 2 do local c = s:accept(); if c then c:send("six\n"); c:close() end end
      end)
      for _, host in ipairs { "::1", "[::1]" } do
        local c = assert(net.connect(host, port, { tls = { ca = certs.ca }, timeout = 5 }))
        assert.are.equal("six", c:receive())
        assert.is_nil(c:tlsinfo().servername)  -- no SNI for addresses
        c:close()
      end
      s:close()
    end)

    it("a missing certificate: nil and a message at listen", function()
      local s, err = net.listen("127.0.0.1", 0, { tls = { cert = "/nonexistent/cert.pem" } })
      assert.is_nil(s)
      assert.are.equal("listen 127.0.0.1:0: tls: cannot load certificate /nonexistent/cert.pem: no such file or directory", err)
      s, err = net.listen("127.0.0.1", 0, { tls = { cert = certs.good, key = certs.otherkey } })
      assert.is_nil(s)
      assert.are.equal(("listen 127.0.0.1:0: tls: key %s does not match certificate %s"):format(certs.otherkey, certs.good), err)
    end)
  end)

  describe("starttls", function()
    -- A server that speaks plain lines until STARTTLS, then TLS.
    local function starttls_server(extra)
      return serve(function(c)
        assert.are.equal("STARTTLS", c:receive())
        c:send("220 go ahead\r\n" .. (extra or ""))
        if not c:starttls { server = true, cert = certs.good, key = certs.goodkey } then return end
        for line in c:lines() do c:send("tls: " .. line .. "\r\n") end
      end)
    end

    it("upgrades a plain connection after an exchange; transcript and tostring follow", function()
      local h = starttls_server()
      local c = assert(net.connect("localhost", h.port, { timeout = 5 }))
      local lines = {}
      c:trace(function(l) lines[#lines + 1] = l end)
      assert.matches("^tcp connection", tostring(c))
      c:send("STARTTLS\r\n")
      assert.are.equal("220 go ahead", c:receive())
      assert.are.equal(c, c:starttls { ca = certs.ca })
      assert.matches("^tls connection", tostring(c))
      c:send("hello\r\n")
      assert.are.equal("tls: hello", c:receive())
      assert.are.equal("TLSv1.3", c:tlsinfo().version)
      local text = table.concat(lines, "\n")
      assert.matches("\n%*%*%* tls TLS 1%.3 [%w_]+, certificate CN=localhost %(issuer CN=netlua test CA, valid until "
        .. "[%d%- :]+ UTC%), verified\n", text)
      local n, err = c:starttls()
      assert.is_nil(n)
      assert.matches("TLS already", err)
      c:close()
      h.server:close()
    end)

    it("verify = false shows in the transcript", function()
      local h = starttls_server()
      local c = assert(net.connect("localhost", h.port, { timeout = 5 }))
      local lines = {}
      c:trace(function(l) lines[#lines + 1] = l end)
      c:send("STARTTLS\r\n")
      c:receive()
      assert(c:starttls { verify = false })
      c:close()
      h.server:close()
      assert.matches("^%*%*%* tls TLS 1%.3 .*, NOT VERIFIED %(verify = false%): unable to get local issuer certificate$",
        lines[3])
    end)

    it("refuses plaintext injected after the STARTTLS reply", function()
      local h = starttls_server("MAIL FROM:<evil@example.org>\r\n")
      local c = assert(net.connect("localhost", h.port, { timeout = 5 }))
      c:send("STARTTLS\r\n")
      assert.are.equal("220 go ahead", c:receive())
      net.sleep(0.1)
      local x, err = c:starttls { ca = certs.ca }
      assert.is_nil(x)
      assert.matches("^starttls localhost:%d+: refused: 30 bytes arrived before the handshake", err)
      assert.matches("^tcp connection", tostring(c))
      c:close()
      h.server:close()
    end)

    it("tlsinfo on a plain connection", function()
      local h = silent_server()
      local c = assert(net.connect("127.0.0.1", h.port, { timeout = 5 }))
      assert.are.same({ nil, "not TLS" }, { c:tlsinfo() })
      c:close()
      assert.are.same({ nil, "closed" }, { c:tlsinfo() })
      h.server:close()
    end)
  end)

  describe("memory and descriptors", function()
    it("200 failed handshakes leak neither fds nor memory", function()
      local srv = tls.s_server(certs.self, certs.selfkey)
      for _ = 1, 5 do net.connect("127.0.0.1", srv.port, { tls = { ca = certs.ca }, timeout = 5 }) end
      local n0 = common.count_fds()
      for _ = 1, 200 do
        local c, err = net.connect("127.0.0.1", srv.port, { tls = { ca = certs.ca }, timeout = 5 })
        assert.is_nil(c)
        assert.matches("self%-signed certificate", err)
      end
      srv.stop()
      assert.is_true(common.count_fds() <= n0)
    end)

    it("100 good handshakes on net.listen{tls} in tasks", function()
      local h = serve(function(c) c:send("hi\n") end, { tls = { cert = certs.good, key = certs.goodkey } })
      local ok = 0
      for _ = 1, 100 do
        local c = assert(net.connect("127.0.0.1", h.port, { tls = { ca = certs.ca }, timeout = 5 }))
        if c:receive() == "hi" then ok = ok + 1 end
        c:close()
      end
      h.server:close()
      assert.are.equal(100, ok)
    end)
  end)
end)
