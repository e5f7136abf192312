-- spec/dns_spec.lua: net.resolve, net.lookup, net.reverse and net.dns
-- against a private dnsmasq (spec/support/dns_helper.lua) on loopback high
-- ports, plus a server that never answers and one that answers SERVFAIL.
local net = require "net"
local common = require "spec.support.common"
local helper = require "spec.support.dns_helper"

local NETLUA = os.getenv("NETLUA") or "build/netlua"

describe("DNS", function()
  local env, S, fds_before

  setup(function()
    net.run()  -- the loop's own epoll fd is made on first use
    fds_before = common.count_fds()
    env = helper.start()
    S = { server = env.server, timeout = 5 }
  end)

  teardown(function()
    if env then env.stop() end
    collectgarbage()
    collectgarbage()
    assert.are.equal(fds_before, common.count_fds())
  end)

  -- The one record of the answer, checked for count.
  local function one(name, rtype, opts)
    local r, err = net.lookup(name, rtype, opts or S)
    assert(r, err)
    assert.are.equal(1, #r)
    return r[1]
  end

  describe("net.lookup", function()
    it("gives A and AAAA records with address, name, type and ttl", function()
      local a = one("www.test", "A")
      assert.are.same({ "www.test", "A", "192.0.2.10", 300 }, { a.name, a.type, a.address, a.ttl })
      local aaaa = one("www.test", "aaaa")
      assert.are.same({ "AAAA", "2001:db8::10", 300 }, { aaaa.type, aaaa.address, aaaa.ttl })
    end)

    it("sorts MX by preference, with exchange and ttl", function()
      local r = assert(net.lookup("test", "MX", S))
      assert.are.equal(3, #r)
      local got = {}
      for i, mx in ipairs(r) do
        got[i] = mx.preference .. " " .. mx.exchange
        assert.are.equal(300, mx.ttl)
      end
      assert.are.same({ "5 mx0.test", "10 mail.test", "20 mx2.test" }, got)
    end)

    it("gives TXT text joined and its separate strings, over 255 bytes too", function()
      local t = one("txt.test", "TXT")
      assert.are.same({ "hello world", "second string" }, t.strings)
      assert.are.equal("hello worldsecond string", t.text)
      assert.are.equal(300, t.ttl)
      local long = one("long.test", "TXT")
      assert.are.equal(helper.LONG_TXT, long.text)
      assert.are.equal(2, #long.strings)
      assert.are.equal(255, #long.strings[1])
    end)

    it("orders SRV by priority, and by weight at random within a priority", function()
      local seen = {}
      for _ = 1, 60 do
        local r = assert(net.lookup("_sip._tcp.test", "SRV", S))
        assert.are.equal(4, #r)
        assert.are.same({ 5, 10, 10, 20 }, { r[1].priority, r[2].priority, r[3].priority, r[4].priority })
        assert.are.same({ "sip0.test", 5062, 0 }, { r[1].target, r[1].port, r[1].weight })
        assert.are.equal("sip3.test", r[4].target)
        seen[r[2].target] = true
      end
      assert.is_true(seen["sip1.test"] and seen["sip2.test"])  -- 0.6^60 to miss one
    end)

    it("gives NS, SOA, CNAME and CAA with named fields", function()
      local ns = assert(net.lookup("test", "NS", S))
      local hosts = { ns[1].host, ns[2].host }
      table.sort(hosts)
      assert.are.same({ "ns1.test", "ns2.test" }, hosts)
      local soa = one("test", "SOA")
      for k, v in pairs(helper.SOA) do assert.are.equal(v, soa[k], k) end
      assert.are.equal("www.test", one("alias.test", "CNAME").target)
      local caa = assert(net.lookup("test", "CAA", S))
      table.sort(caa, function(a, b) return a.flags < b.flags end)
      assert.are.same({ 0, "issue", "letsencrypt.org", false },
        { caa[1].flags, caa[1].tag, caa[1].value, caa[1].critical })
      assert.are.same({ 128, "iodef", true }, { caa[2].flags, caa[2].tag, caa[2].critical })
    end)

    it("gives PTR records, for an arpa name or an address", function()
      assert.are.equal("five.test", one("5.2.0.192.in-addr.arpa", "PTR").host)
      assert.are.equal("www.test", one("192.0.2.10", "PTR").host)
      assert.are.equal("www.test", one("2001:db8::10", "PTR").host)
    end)

    it("follows a CNAME and shows the whole answer in info", function()
      local r, info = net.lookup("alias.test", "A", S)
      assert.are.equal(1, #r)
      assert.are.same({ "www.test", "192.0.2.10" }, { r[1].name, r[1].address })
      assert.are.equal(2, #info.answers)
      assert.are.same({ "CNAME", "www.test" }, { info.answers[1].type, info.answers[1].target })
      assert.are.equal(env.server, info.server)
      assert.are.equal("alias.test", info.name)
    end)

    it("falls back to TCP when the UDP answer is truncated", function()
      local r = assert(net.lookup("many.test", "A", S))
      assert.are.equal(helper.MANY, #r)
      local r2 = assert(net.lookup("many.test", "A", { server = env.server, tcp = true }))
      assert.are.equal(helper.MANY, #r2)
    end)

    it("asks a server at an IPv6 address", function()
      assert.are.equal("192.0.2.10", one("www.test", "A", { server = env.server6 }).address)
      assert.are.equal("10.77.0.9", one("h9.test", "A", { server = { env.server6 } }).address)
    end)

    it("prints records readably", function()
      assert.are.equal("test. 300 IN MX 5 mx0.test.", tostring(net.lookup("test", "MX", S)[1]))
      local _, info = net.lookup("alias.test", "A", S)
      assert.are.equal("answer for alias.test from " .. env.server ..
        " (authoritative, 2 records: CNAME, A)", tostring(info))
      -- one word per type (QA item 9)
      _, info = net.lookup("many.test", "A", S)
      assert.are.equal("answer for many.test from " .. env.server ..
        " (authoritative, 60 records: A)", tostring(info))
      -- a space in a name as dig writes it
      assert.are.equal("a\\.b\\032c.test.", net.dns.rdata({ type = "CNAME", target = "a\\.b c.test" }))
      assert.are.equal('"hello world" "second string"', net.dns.rdata(one("txt.test", "TXT")))
      assert.are.equal("ns1.test. hostmaster.test. 2024010101 3600 600 86400 60",
        net.dns.rdata(one("test", "SOA")))
      assert.are.equal('0 issue "letsencrypt.org"',
        net.dns.rdata({ type = "CAA", flags = 0, tag = "issue", value = "letsencrypt.org" }))
    end)

    it("gives an empty list for a name without records of the type", function()
      local r, info = net.lookup("www.test", "MX", S)
      assert.are.same({}, r)
      assert.are.equal(env.server, info.server)
      assert.are.same({}, assert(net.lookup("mail.test", "TXT", S)))
    end)
  end)

  describe("failures", function()
    it("says no such name, naming the name, type and server", function()
      local r, err = net.lookup("nosuch.test", "MX", S)
      assert.is_nil(r)
      assert.are.equal("lookup nosuch.test MX (server " .. env.server .. "): no such name", err)
    end)

    it("says refused when the server refuses", function()
      local r, err = net.lookup("example.org", "A", S)
      assert.is_nil(r)
      assert.are.equal("lookup example.org A (server " .. env.server .. "): refused", err)
    end)

    it("says server failure on SERVFAIL", function()
      local server = "127.0.0.1:" .. env.servfail_port
      local r, err = net.lookup("www.test", "A", { server = server, timeout = 5 })
      assert.is_nil(r)
      assert.are.equal("lookup www.test A (server " .. server .. "): server failure", err)
    end)

    it("times out within its bound on a server that never answers", function()
      local server = "127.0.0.1:" .. env.silent_port
      for _, f in ipairs {
        function() return net.lookup("www.test", "A", { server = server, timeout = 0.4 }) end,
        function() return net.resolve("www.test", { server = server, timeout = 0.4 }) end,
        function() return net.reverse("192.0.2.10", { server = server, timeout = 0.4 }) end,
      } do
        local t0 = net.now()
        local r, err = f()
        local took = net.now() - t0
        assert.is_nil(r)
        assert.matches("timeout", err)
        assert.matches(server, err, 1, true)
        assert.is_true(took >= 0.35 and took < 1.5, "took " .. took)
      end
    end)

    it("survives a query that ends after its caller gave up", function()
      local server = "127.0.0.1:" .. env.silent_port
      -- c-ares goes on for 0.1 + 0.2 + 0.4 s; the caller leaves at 0.3 s
      local r, err = net.lookup("www.test", "A", { server = server, timeout = 0.3, tries = 3 })
      assert.is_nil(r)
      assert.matches("timeout", err)
      collectgarbage()
      net.sleep(0.8)
      collectgarbage()
      assert.are.equal("192.0.2.10", one("www.test", "A").address)
    end)

    it("rejects names that are not host names, saying why", function()
      local cases = {
        { "", "empty name" },
        { ("a"):rep(64) .. ".test", "label over 63 bytes" },
        { ("abcdefg."):rep(32) .. "test", "name over 253 bytes" },
        { "a\0b.test", "NUL in name" },
        { "a b.test", "space" },
        { "a..test", "empty label" },
      }
      for _, c in ipairs(cases) do
        local r, err = net.lookup(c[1], "A", S)
        assert.is_nil(r)
        assert.matches("^lookup .* A: invalid name %(" .. c[2], err)
        local r2, err2 = net.resolve(c[1], S)
        assert.is_nil(r2)
        assert.matches("^resolve .*: invalid name", err2)
      end
      local _, err = net.lookup("a\0b.test", "A", S)
      assert.matches("a\\000b.test", err, 1, true)
      -- 253 bytes and a final dot are fine
      local ok = ("abcdefg."):rep(30) .. "abcdefgh.test"
      assert.are.equal(253, #ok)
      assert.matches("no such name", select(2, net.lookup(ok, "A", S)))
      assert.are.equal(1, #assert(net.lookup("www.test.", "A", S)))
    end)

    it("raises on wrong arguments, naming them", function()
      local function raises(pat, f, ...)
        local ok, err = pcall(f, ...)
        assert.is_false(ok)
        assert.matches(pat, err)
      end
      raises("bad argument #1 to '[%w.]*lookup' %(string expected, got table%)", net.lookup, {}, "A")
      raises("unknown record type 'BOGUS'", net.lookup, "www.test", "BOGUS")
      raises("bad argument #2", net.lookup, "www.test", nil)
      raises("bad server 'nonsense'", net.lookup, "www.test", "A", { server = "nonsense" })
      raises("bad server '127.0.0.1:99999'", net.lookup, "www.test", "A", { server = "127.0.0.1:99999" })
      raises("bad option 'timeout'", net.lookup, "www.test", "A", { timeout = "soon" })
      raises("bad option 'tries'", net.lookup, "www.test", "A", { tries = 0 })
      raises("bad option 'family'", net.resolve, "www.test", { family = "ipx" })
      -- every options table is checked: a typo never reaches the system resolver
      raises("unknown option 'sever'", net.lookup, "www.test", "A", { sever = env.server })
      raises("unknown option 'sever'", net.resolve, "www.test", { sever = env.server })
      raises("unknown option 'sever'", net.reverse, "192.0.2.10", { sever = env.server })
      raises("unknown option 'family'", net.lookup, "www.test", "A", { family = "inet" })
      raises("bad option 'tcp' %(boolean expected, got string%)", net.lookup, "www.test", "A",
        { server = env.server, tcp = "yes" })
      raises("IP address expected, got 'www.test'", net.reverse, "www.test")
      raises("bad argument #1 to '[%w.]*resolve'", net.resolve, nil)
    end)
  end)

  describe("net.resolve", function()
    it("gives IPv6 and IPv4 addresses, or one family", function()
      local r = assert(net.resolve("www.test", S))
      table.sort(r)
      assert.are.same({ "192.0.2.10", "2001:db8::10" }, r)
      assert.are.same({ "192.0.2.10" }, net.resolve("www.test", { server = env.server, family = "inet" }))
      assert.are.same({ "2001:db8::10" }, net.resolve("www.test", { server = env.server, family = "inet6" }))
    end)

    it("takes bracketed and scoped literals as themselves, never to DNS", function()
      assert.are.same({ "::1" }, net.resolve("[::1]", S))
      assert.are.same({ "fe80::1%lo" }, net.resolve("fe80::1%lo", S))
      for _, bad in ipairs { "300.1.1.1", "127.0.0.256", "1.2.3", "12345" } do
        local r, err = net.resolve(bad, S)
        assert.is_nil(r)
        assert.are.equal("resolve " .. bad .. ": invalid address", err)
      end
    end)

    it("returns numeric addresses as they are", function()
      assert.are.same({ "192.0.2.1" }, net.resolve("192.0.2.1"))
      assert.are.same({ "::1" }, net.resolve("::1", { family = "inet6" }))
      local r, err = net.resolve("::1", { family = "inet" })
      assert.is_nil(r)
      assert.matches("resolve ::1: not an IPv4 address", err, 1, true)
    end)

    it("honours the hosts file as the system does", function()
      local r = assert(net.resolve("localhost", { family = "inet" }))
      assert.are.same({ "127.0.0.1" }, r)
    end)

    it("fails with the name and the cause", function()
      local r, err = net.resolve("nosuch.test", S)
      assert.is_nil(r)
      assert.are.equal("resolve nosuch.test (server " .. env.server .. "): no such name", err)
    end)
  end)

  describe("net.reverse", function()
    it("reads the hosts file first when no server is given, as the system does", function()
      local hosts = os.tmpname()
      local f = assert(io.open(hosts, "w"))
      f:write("# test hosts\n127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n",
              "192.0.2.77   host-a.test alias-a   # comment\n")
      f:close()
      local ok, code, out, err = common.run("CARES_HOSTS=" .. common.q(hosts) .. " " .. common.q(common.netlua) ..
        [[ -e 'print(net.reverse("127.0.0.1"), net.reverse("::1"), net.reverse("0::1"), net.reverse("192.0.2.77"))']])
      os.remove(hosts)
      assert.is_true(ok, err)
      assert.are.equal(0, code)
      assert.are.equal("localhost\tip6-localhost\tip6-localhost\thost-a.test\n", out)
    end)

    it("names IPv4 and IPv6 addresses", function()
      assert.are.equal("www.test", net.reverse("192.0.2.10", S))
      assert.are.equal("www.test", net.reverse("2001:db8::10", S))
      assert.are.equal("five.test", net.reverse("192.0.2.5", S))
      local r, err = net.reverse("192.0.2.99", S)
      assert.is_nil(r)
      assert.are.equal("reverse 192.0.2.99 (server " .. env.server .. "): no such name", err)
      -- a server nobody runs is never "no such name" (QA item 4)
      local closed = "127.0.0.1:" .. env.closed_port
      r, err = net.reverse("192.0.2.80", { server = closed, timeout = 3 })
      assert.is_nil(r)
      assert.are.equal("reverse 192.0.2.80 (server " .. closed .. "): connection refused", err)
      r, err = net.reverse("203.0.113.1", S)  -- outside the server's zones
      assert.is_nil(r)
      assert.matches("%): refused$", err)
    end)
  end)

  describe("many lookups at once", function()
    it("answers every task correctly on one channel", function()
      -- 300 datagrams at once may overflow a socket queue: c-ares resends
      -- (after 1.25 s here); every answer must still come, and be right
      local results, done = {}, 0
      local opts = { server = env.server, timeout = 5, tries = 4 }
      for i = 1, helper.NHOSTS do
        net.spawn(function()
          local r, err = net.lookup("h" .. i .. ".test", "A", opts)
          results[i] = r and r[1].address or err
          done = done + 1
        end)
      end
      -- some that time out meanwhile, and some resolves
      local silent = "127.0.0.1:" .. env.silent_port
      for _ = 1, 5 do
        net.spawn(function()
          local _, err = net.lookup("www.test", "A", { server = silent, timeout = 0.2 })
          assert(err:match("timeout"))
          done = done + 1
        end)
      end
      net.run()
      assert.are.equal(helper.NHOSTS + 5, done)
      for i = 1, helper.NHOSTS do assert.are.equal(helper.host_addr(i), results[i]) end
    end)
  end)

  describe("QA regressions", function()
    it("answers 1,000 concurrent lookups with the default options (item 1)", function()
      local N, ok, bad = 1000, 0, {}
      for i = 1, N do
        net.spawn(function()
          local h = (i - 1) % helper.NHOSTS + 1
          local r, err = net.lookup("h" .. h .. ".test", "A", S)
          if r and #r == 1 and r[1].address == helper.host_addr(h) then ok = ok + 1
          else bad[#bad + 1] = err or "wrong answer" end
        end)
      end
      net.run()
      assert.are.same({}, bad)
      assert.are.equal(N, ok)
    end)

    it("answers concurrent lookups over TCP", function()
      local N, ok, bad = 300, 0, {}
      local opts = { server = env.server, tcp = true, timeout = 10 }
      for i = 1, N do
        net.spawn(function()
          local r, err = net.lookup("h" .. i .. ".test", "A", opts)
          if r and r[1] and r[1].address == helper.host_addr(i) then ok = ok + 1
          else bad[#bad + 1] = err or "wrong answer" end
        end)
      end
      net.run()
      assert.are.same({}, bad)
      assert.are.equal(N, ok)
    end)

    it("fails over to the next server within the timeout (item 2)", function()
      local list = { "127.0.0.1:" .. env.silent_port, env.server }
      local t0 = net.now()
      local r, info = net.lookup("www.test", "A", { server = list, timeout = 3 })
      assert(r, info)
      assert.are.equal("192.0.2.10", r[1].address)
      assert.are.equal(env.server, info.server)  -- the server that answered
      local a = assert(net.resolve("www.test", { server = list, timeout = 3, family = "inet" }))
      assert.are.same({ "192.0.2.10" }, a)
      assert.is_true(net.now() - t0 < 3)
    end)

    it("honours resolv.conf options (RES_OPTIONS) for the default channel (item 11)", function()
      local code = "net.dns.servers('127.0.0.1:" .. env.silent_port .. "') " ..
        "local c = net.dns.config() local t0 = net.now() " ..
        "local r, err = net.lookup('www.test', 'A') " ..
        "print(c.timeout, c.tries, err:match('timeout$'), net.now() - t0 < 2.5)"
      local ok, _, out, err = common.run("RES_OPTIONS='timeout:1 attempts:1' " .. NETLUA ..
        " -e " .. common.q(code))
      assert.is_true(ok, err)
      assert.are.equal("1.0\t1\ttimeout\ttrue\n", out)
      -- without them, netlua's defaults: 2 tries within 10 s
      ok, _, out, err = common.run("env -u RES_OPTIONS " .. NETLUA .. " -e " ..
        common.q("print(net.dns.config().tries)"))
      assert.is_true(ok, err)
      assert.are.equal("2\n", out)
    end)

    it("tells REFUSED from connection refused everywhere (item 5)", function()
      local closed = "127.0.0.1:" .. env.closed_port
      local C = { server = closed, timeout = 3 }
      local function cause(r, err) assert.is_nil(r) return err:match(".*: (.-)$") end
      assert.are.equal("refused", cause(net.lookup("example.org", "A", S)))
      assert.are.equal("refused", cause(net.resolve("example.org", S)))
      assert.are.equal("refused", cause(net.resolve("localhost", S)))
      assert.are.equal("refused", cause(net.reverse("203.0.113.7", S)))
      assert.are.equal("connection refused", cause(net.lookup("www.test", "A", C)))
      assert.are.equal("connection refused", cause(net.resolve("www.test", C)))
      assert.are.equal("connection refused", cause(net.reverse("192.0.2.10", C)))
      -- a failed lookup still shows the answer's header
      local _, _, info = net.lookup("nosuch.test", "A", S)
      assert.are.equal("NXDOMAIN", info.rcode)
    end)

    it("keeps only records owned by the name or its CNAME chain (item 7)", function()
      local other = { server = "127.0.0.1:" .. env.other_port, timeout = 3 }
      local r, info = net.lookup("x.test", "A", other)
      assert.are.same({}, r)
      assert.are.equal(1, #info.answers)  -- still shown in the whole answer
      local a, err = net.resolve("x.test", other)
      assert.is_nil(a)
      assert.matches("no address$", err)
    end)

    it("exposes the answer's flags and rcode in info (item 6)", function()
      local _, info = net.lookup("www.test", "A", S)
      assert.are.same({ qr = true, aa = true, tc = false, rd = true, ra = true }, info.flags)
      assert.are.equal("NOERROR", info.rcode)
    end)

    it("never dies of SIGPIPE when a DNS server closes a TCP connection (item 8)", function()
      -- the child runs with SIGPIPE at its default action
      local code = "local n = 0 for i = 1, 200 do net.spawn(function() " ..
        "local r, err = net.lookup('h' .. i .. '.test', 'A', {server = '127.0.0.1:" ..
        env.closer_port .. "', tcp = true, timeout = 2}) n = n + 1 end) end " ..
        "net.run() print(n)"
      local ok, _, out, err = common.run("perl -e '$SIG{PIPE}=\"DEFAULT\"; exec @ARGV' " ..
        NETLUA .. " -e " .. common.q(code))
      assert.is_true(ok, err)
      assert.are.equal("200\n", out)
    end)
  end)

  describe("scripts", function()
    local function script(name, args)
      return common.run(NETLUA .. " scripts/" .. name .. " " .. args)
    end

    it("nslookup.lua prints what nslookup prints", function()
      local port = " -port=" .. env.port .. " "
      local ok, code, out = script("nslookup.lua", port .. "alias.test 127.0.0.1")
      assert.is_true(ok, code)
      assert.are.equal("Server:\t\t127.0.0.1\nAddress:\t127.0.0.1#" .. env.port .. "\n\n" ..
        "alias.test\tcanonical name = www.test.\nName:\twww.test\nAddress: 192.0.2.10\n" ..
        "Name:\twww.test\nAddress: 2001:db8::10\n\n", out)
      _, _, out = script("nslookup.lua", port .. "-type=MX test 127.0.0.1")
      assert.matches("test\tmail exchanger = 5 mx0.test.\ntest\tmail exchanger = 10 mail.test.\n", out, 1, true)
      _, _, out = script("nslookup.lua", port .. "-type=soa test ::1")
      assert.matches("Server:\t\t::1\n", out, 1, true)
      assert.matches("test\n\torigin = ns1.test\n\tmail addr = hostmaster.test\n\tserial = 2024010101\n", out, 1, true)
      _, _, out = script("nslookup.lua", port .. "192.0.2.10 127.0.0.1")
      assert.matches("10.2.0.192.in-addr.arpa\tname = www.test.\n", out, 1, true)
      _, _, out = script("nslookup.lua", port .. "-q=txt txt.test 127.0.0.1")
      assert.matches('txt.test\ttext = "hello world" "second string"\n', out, 1, true)
      ok, code, out = script("nslookup.lua", port .. "nosuch.test 127.0.0.1")
      assert.is_falsy(ok)
      assert.are.equal(1, code)
      assert.matches("** server can't find nosuch.test: NXDOMAIN", out, 1, true)
      ok, _, out = script("nslookup.lua", port .. "-type=MX www.test 127.0.0.1")
      assert.is_true(ok)
      assert.matches("*** Can't find www.test: No answer", out, 1, true)
      ok, code = script("nslookup.lua", "-timeout=0.3 -port=" .. env.silent_port .. " www.test 127.0.0.1")
      assert.is_falsy(ok); assert.are.equal(1, code)
      ok, code = script("nslookup.lua", "-type=BOGUS www.test")
      assert.is_falsy(ok); assert.are.equal(2, code)
      ok, code, out = script("nslookup.lua", "--help")
      assert.is_true(ok, code)
      assert.matches("usage: nslookup.lua", out, 1, true)
    end)

    it("scripts report a closed port and REFUSED as dig and nslookup do (item 5)", function()
      local port = " -port=" .. env.closed_port .. " "
      local ok, code, out = script("nslookup.lua", port .. "www.test 127.0.0.1")
      assert.is_falsy(ok); assert.are.equal(1, code)
      assert.matches(";; communications error to 127.0.0.1#" .. env.closed_port ..
        ": connection refused\n;; no servers could be reached\n", out, 1, true)
      ok, code, out = script("dig.lua", "@127.0.0.1 -p " .. env.closed_port .. " www.test")
      assert.is_falsy(ok); assert.are.equal(9, code)
      assert.are.equal(";; communications error to 127.0.0.1#" .. env.closed_port ..
        ": connection refused\n;; no servers could be reached\n", out)
      ok, code, out = script("dig.lua", "@127.0.0.1 -p " .. env.port .. " example.org")
      assert.is_falsy(ok); assert.are.equal(1, code)
      assert.matches("status: REFUSED", out, 1, true)
      _, _, out = script("nslookup.lua", " -port=" .. env.port .. " 192.0.2.99 127.0.0.1")
      assert.are.equal("** server can't find 99.2.0.192.in-addr.arpa: NXDOMAIN\n\n", out)
    end)

    it("dig.lua: header flags, -x checks, servers and type order (item 6)", function()
      local at = "@127.0.0.1 -p " .. env.port .. " "
      local _, _, out = script("dig.lua", at .. "www.test")
      assert.matches(";; flags: qr aa rd ra;", out, 1, true)
      for _, bad in ipairs { "999.1.1.1", "www.test" } do
        local ok, code, o2, err = script("dig.lua", at .. "-x " .. bad)
        assert.is_falsy(ok); assert.are.equal(10, code); assert.are.equal("", o2)
        assert.matches("invalid IP address '" .. bad .. "'", err, 1, true)
      end
      local ok, code
      ok, code, out = script("dig.lua", at .. "-x 192.0.2.99")
      assert.matches(";99.2.0.192.in-addr.arpa.\tIN\tPTR", out, 1, true)
      local err
      -- "@ip:port" names the port too (issue #10)
      ok, code, out, err = script("dig.lua", "@127.0.0.1:" .. env.port .. " www.test +short")
      assert.is_true(ok, err); assert.are.equal("192.0.2.10\n", out)
      ok, code, out, err = script("dig.lua", "@999.1.1.1:" .. env.port .. " www.test")
      assert.is_falsy(ok); assert.are.equal(10, code)
      assert.matches("couldn't get address for '999.1.1.1:" .. env.port .. "'", err, 1, true)
      assert.not_matches("traceback", err)
      _, _, out = script("dig.lua", "@[::1] -p " .. env.port .. " AAAA www.test +short")
      assert.are.equal("2001:db8::10\n", out)
      _, _, out = script("dig.lua", at .. "MX test +short")
      assert.matches("5 mx0.test.", out, 1, true)
    end)

    it("dig.lua prints the answer section with TTLs", function()
      local at = "@127.0.0.1 -p " .. env.port .. " "
      local ok, code, out = script("dig.lua", at .. "alias.test")
      assert.is_true(ok, code)
      assert.matches("status: NOERROR", out, 1, true)
      assert.matches(";alias.test.\t\t\tIN\tA\n", out, 1, true)
      assert.matches("alias.test.\t\t300\tIN\tCNAME\twww.test.\nwww.test.\t\t300\tIN\tA\t192.0.2.10\n", out, 1, true)
      _, _, out = script("dig.lua", at .. "-x 192.0.2.10 +short")
      assert.are.equal("www.test.\n", out)
      _, _, out = script("dig.lua", "@::1 -p " .. env.port .. " www.test AAAA +short")
      assert.are.equal("2001:db8::10\n", out)
      ok, code, out = script("dig.lua", at .. "nosuch.test")
      assert.is_falsy(ok); assert.are.equal(1, code)
      assert.matches("status: NXDOMAIN", out, 1, true)
      ok, code = script("dig.lua", "@127.0.0.1 -p " .. env.silent_port .. " +time=0.3 www.test")
      assert.is_falsy(ok); assert.are.equal(9, code)
      ok, code = script("dig.lua", "--help")
      assert.is_true(ok, code)
    end)
  end)

  describe("net.dns", function()
    it("reads and sets the default servers", function()
      local before = net.dns.servers()
      assert.is_true(#before >= 1)
      assert.are.same({ env.server }, net.dns.servers(env.server))
      assert.are.equal("192.0.2.10", net.lookup("www.test", "A")[1].address)
      assert.are.same({ "192.0.2.10" }, net.resolve("www.test", { family = "inet" }))
      local _, err = net.lookup("nosuch.test", "A")
      assert.matches("(server " .. env.server .. ")", err, 1, true)
      assert.are.same(before, net.dns.servers(before))
      local cfg = net.dns.config()
      assert.are.same(before, cfg.servers)
      assert.are.equal("table", type(cfg.search))
    end)

    it("copes with an empty /etc/resolv.conf (root: a private mount)", function()
      if not common.is_root() or not os.execute("unshare -m true 2>/dev/null") then
        pending("needs root and unshare -m")
        return
      end
      local code = "print(table.concat(net.dns.servers(), ' ')) " ..
        "print(select(2, net.lookup('x.test', 'A', {timeout = 0.5})))"
      local ok, _, out, err = common.run("unshare -m sh -c " .. common.q(
        "mount --bind /dev/null /etc/resolv.conf && " .. NETLUA .. " -e " .. common.q(code)))
      assert.is_true(ok, err)
      assert.matches("^127%.0%.0%.1\nlookup x%.test A %(server 127%.0%.0%.1%): ", out)
    end)

    it("honours search domains as the system does (LOCALDOMAIN)", function()
      local code = "net.dns.servers('" .. env.server .. "') " ..
        "print(net.dns.config().search[1], net.lookup('www', 'A')[1].address, " ..
        "net.resolve('h3', {family='inet'})[1])"
      local ok, _, out, err = common.run("LOCALDOMAIN=test " .. NETLUA .. " -e " .. common.q(code))
      assert.is_true(ok, err)
      assert.are.equal("test\t192.0.2.10\t10.77.0.3\n", out)
    end)
  end)
end)
