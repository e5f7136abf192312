-- spec/smtp_auth_spec.lua: session:auth and send{user, password} against
-- aiosmtpd with an authenticator (STARTTLS and implicit TLS, PLAIN and
-- LOGIN, a wrong password), and the refusal to send a password over a
-- clear connection, checked on a recording server: nothing is sent.
local net = require "net"
local common = require "spec.support.common"
local tls = require "spec.support.tls_helper"
local smtph = require "spec.support.smtp_helper"

describe("smtp auth", function()
  local certs, fds_before, st, im
  setup(function()
    net.run()
    certs = tls.certs()
    st = smtph.start_auth("starttls", certs.good, certs.goodkey)
    im = smtph.start_auth("tls", certs.good, certs.goodkey)
    collectgarbage(); collectgarbage()
    fds_before = common.count_fds()
  end)
  teardown(function()
    if st then st.stop() end
    if im then im.stop() end
    net.run()
    collectgarbage(); collectgarbage()
    tls.cleanup()
    assert.are.equal(fds_before, common.count_fds())
  end)

  local function mail(t)
    t.server = t.server or "localhost"
    t.from = t.from or "a@b.example"
    t.to = t.to or "c@d.example"
    t.body = t.body or "hi\n"
    t.timeout = 10
    return net.smtp.send(t)
  end

  for _, mech in ipairs { "PLAIN", "LOGIN" } do
    it("session:auth with " .. mech .. " after STARTTLS: 235", function()
      local s = assert(net.smtp.open("localhost", st.port, { timeout = 10, tlsopts = { ca = certs.ca } }))
      assert.are.equal(250, s:ehlo())
      assert.is_nil(s.extensions.AUTH)  -- aiosmtpd offers AUTH only over TLS
      assert.are.equal(220, s:starttls { ca = certs.ca })
      assert.are.equal(250, s:ehlo())
      assert.truthy(s.extensions.AUTH:find(mech))
      local code, lines = s:auth("alice", "s3cret pass", mech)
      assert.are.equal(235, code, table.concat(lines or {}, " "))
      assert.are.equal(mech, s.authmech)
      assert.are.equal(221, s:quit())
    end)
  end

  it("send{tls = \"starttls\", user, password} delivers as the user", function()
    local ok, reply = mail { port = st.port, tls = "starttls", tlsopts = { ca = certs.ca },
      user = "alice", password = "s3cret pass", from = "st@x.example" }
    assert.is_true(ok, reply)
    assert.matches("250", reply)
    assert.matches("st@x%.example alice\n", st.log())
  end)

  it("send{tls = \"tls\", user, password, mechanism = \"LOGIN\"} (port 465 style)", function()
    local ok, reply = mail { port = im.port, tls = "tls", tlsopts = { ca = certs.ca },
      user = "alice", password = "s3cret pass", mechanism = "LOGIN", from = "im@x.example" }
    assert.is_true(ok, reply)
    assert.matches("im@x%.example alice\n", im.log())
  end)

  it("a wrong password is a clear error (535), nothing delivered", function()
    for _, mech in ipairs { "PLAIN", "LOGIN" } do
      local ok, err = mail { port = st.port, tls = "starttls", tlsopts = { ca = certs.ca },
        user = "alice", password = "wrong", mechanism = mech, from = "bad@x.example" }
      assert.is_nil(ok)
      assert.matches("^AUTH " .. mech .. " as alice rejected: 535 ", err)
    end
    assert.is_nil(st.log():find("bad@x.example", 1, true))
  end)

  describe("on a clear connection", function()
    -- A plain server offering AUTH without TLS; records every line.
    local function recorder()
      local seen = {}
      local srv = assert(net.serve("127.0.0.1", 0, function(c)
        c:send("220 clear ESMTP\r\n")
        for line in c:lines() do
          seen[#seen + 1] = line
          local cmd = line:match("^(%u+)")
          if cmd == "EHLO" then c:send("250-clear\r\n250 AUTH PLAIN LOGIN\r\n")
          elseif line == "AUTH LOGIN" then c:send("334 VXNlcm5hbWU6\r\n")
            seen[#seen + 1] = c:receive(); c:send("334 UGFzc3dvcmQ6\r\n")
            seen[#seen + 1] = c:receive(); c:send("235 2.7.0 ok\r\n")
          elseif cmd == "AUTH" then c:send("235 2.7.0 ok\r\n")
          elseif cmd == "QUIT" then c:send("221 bye\r\n"); return
          else c:send("250 ok\r\n") end
        end
      end))
      return srv, select(2, srv:getsockname()), seen
    end

    it("refuses before the password is sent", function()
      local srv, port, seen = recorder()
      local ok, err = mail { server = "127.0.0.1", port = port, user = "alice", password = "s3cret pass" }
      assert.is_nil(ok)
      assert.matches("refusing to send the password over a clear %(not TLS%) connection", err)
      local s = assert(net.smtp.open("127.0.0.1", port, { timeout = 5 }))
      s:ehlo()
      local c, e = s:auth("alice", "s3cret pass")
      assert.is_nil(c)
      assert.matches("^smtp 127%.0%.0%.1:%d+: refusing", e)
      s:quit()
      srv:close()
      for _, l in ipairs(seen) do
        assert.is_nil(l:match("^AUTH"), l)
        assert.is_nil(l:find(net.http.base64("\0alice\0s3cret pass"), 1, true))
      end
      assert.are.equal("QUIT", seen[#seen])
    end)

    it("sends it when told cleartext = true", function()
      local srv, port, seen = recorder()
      local ok = mail { server = "127.0.0.1", port = port, user = "alice", password = "pw", cleartext = true }
      assert.is_true(ok)
      local s = assert(net.smtp.open("127.0.0.1", port, { timeout = 5 }))
      s:ehlo()
      assert.are.equal(235, s:auth("alice", "pw", { mechanism = "login", cleartext = true }))
      s:quit()
      srv:close()
      local joined = table.concat(seen, "\n")
      assert.truthy(joined:find("AUTH PLAIN " .. net.http.base64("\0alice\0pw"), 1, true))
      assert.truthy(joined:find("AUTH LOGIN\n" .. net.http.base64("alice") .. "\n" .. net.http.base64("pw"), 1, true))
    end)

    it("bad arguments raise without showing the password", function()
      local s = assert(net.smtp.open("127.0.0.1", im.port, { timeout = 5, tls = "tls", tlsopts = { ca = certs.ca } }))
      local ok, err = pcall(s.auth, s, "alice", "pw\r\nsecret")
      assert.is_false(ok)
      assert.is_nil(err:find("secret", 1, true))
      assert.has_error(function() s:auth("alice", "pw", "CRAM-MD5") end)
      s:close()
    end)
  end)
end)
