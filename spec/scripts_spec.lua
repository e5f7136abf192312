-- spec/scripts_spec.lua: the ready-made scripts run as a person runs them
-- (netlua scripts/NAME.lua ...), against peers on loopback: --help on
-- stdout with status 0, a usage error with status 2, failures with one
-- line on stderr and status 1, and a real run each.
--   http_server.lua runs in the background on a free port over a temporary
--   directory (with a secret beside it and symlinks pointing out), and
--   http_get.lua and curl --path-as-is talk to it.
--   portcheck.lua's "filtered" port is a listener on 127.0.0.2 whose
--   backlog is full (http_helper.dead_server): its SYNs are dropped, so a
--   connect never completes, as behind a firewall that drops them.
--   nslookup.lua and dig.lua ask a private dnsmasq (dns_helper).
local common = require "spec.support.common"
local tcp_helper = require "spec.support.tcp_helper"
local http_helper = require "spec.support.http_helper"
local dns_helper = require "spec.support.dns_helper"
local q = common.q

local NETLUA = q(common.netlua)

-- Run a script with a shell-quoted argument string; returns code, out, err.
local function run(name, args)
  local _, code, out, err = common.run(NETLUA .. " scripts/" .. name .. " " .. (args or ""))
  return code, out, err
end

-- The contents of file `path` ("" when it cannot be read).
local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- Start a script in the background; returns its pid.
local function background(name, args, log)
  local p = io.popen(NETLUA .. " scripts/" .. name .. " " .. args .. " >" .. q(log) .. " 2>&1 </dev/null & echo $!")
  local pid = tonumber(p:read("l"))
  p:close()
  return pid
end

-- The conventions every script keeps: --help, and a usage error.
local function conventions(name, bad_args)
  local code, out, err = run(name, "--help")
  assert.are.equal(0, code, name .. " --help")
  assert.matches("^usage: " .. name:gsub("%.", "%%."), out)
  assert.are.equal("", err)
  code, out, err = run(name, bad_args)
  assert.are.equal(2, code, name .. " " .. bad_args)
  assert.are.equal("", out)
  assert.matches("^" .. name:gsub("%.", "%%.") .. ": ", err)
end

describe("scripts", function()
  it("all keep the conventions: --help on stdout exits 0, a usage error exits 2", function()
    conventions("http_get.lua", "--bogus")
    conventions("http_server.lua", "-p notaport")
    conventions("portcheck.lua", "127.0.0.1 0-5")
    conventions("udp_echo.lua", "sideways")
    conventions("nslookup.lua", "-type=BOGUS x")
    conventions("dig.lua", "-p")
    conventions("smtp_send.lua", "--bogus")
    conventions("telnet.lua", "--bogus")
    conventions("relay.lua", "--bogus")
    -- netlua.1 sends the reader to dig.lua's and http_get.lua's --help for their statuses
    for _, name in ipairs { "dig.lua", "http_get.lua" } do
      local c, o = run(name, "--help")
      assert.are.equal(0, c)
      assert.truthy(o:find("\nExits 0 ", 1, true), name .. " --help lacks its exit statuses")
    end
    local code, out, err = run("myip.lua", "--help")
    assert.are.equal(0, code)
    assert.matches("^usage: myip%.lua", out)
    code, out, err = run("myip.lua", "--nonsense")
    assert.are.same({ 2, "" }, { code, out })
    assert.matches("^myip%.lua: ", err)
    -- every message a script writes itself names it as NAME.lua
    for _, name in ipairs { "dig", "http_get", "http_server", "myip", "nslookup", "portcheck",
      "relay", "smtp_send", "telnet", "udp_echo" } do
      local f = assert(io.open("scripts/" .. name .. ".lua"))
      local src = f:read("a")
      f:close()
      assert.is_nil(src:find('"' .. name .. ': ', 1, true), name .. ".lua has a prefix without .lua")
    end
  end)

  describe("http_server.lua and http_get.lua", function()
    local dir, port, pid, base
    setup(function()
      local p = io.popen("mktemp -d /tmp/netlua-www.XXXXXX")
      dir = p:read("l")
      p:close()
      assert(os.execute(table.concat({
        "mkdir -p " .. q(dir .. "/www/sub") .. " " .. q(dir .. "/www/empty"),
        "echo secret > " .. q(dir .. "/secret.txt"),
        "echo home > " .. q(dir .. "/www/index.html"),
        "echo sub > " .. q(dir .. "/www/sub/index.html"),
        "echo hello > " .. q(dir .. "/www/hello.txt"),
        "ln -s ../secret.txt " .. q(dir .. "/www/out"),
        "ln -s " .. q(dir) .. " " .. q(dir .. "/www/up"),
        "ln -s hello.txt " .. q(dir .. "/www/in.txt"),
        "ln -s loop2 " .. q(dir .. "/www/loop1"), "ln -s loop1 " .. q(dir .. "/www/loop2"),
        "ln -s ../sub/./../in.txt " .. q(dir .. "/www/sub/back.txt"),
        "dd if=/dev/urandom of=" .. q(dir .. "/www/big.bin") .. " bs=1M count=3 status=none",
      }, " && ")))
      port = tcp_helper.free_port()
      base = "http://127.0.0.1:" .. port
      pid = background("http_server.lua", "-p " .. port .. " " .. q(dir .. "/www"), dir .. "/server.log")
      assert(common.wait_port(port, 10), "http_server.lua did not start")
    end)
    teardown(function()
      os.execute("kill " .. pid .. " 2>/dev/null")
      os.execute("rm -rf " .. q(dir))
    end)

    -- curl --path-as-is: status code and body of a raw path.
    local function curl(path, extra)
      local _, _, out = common.run("curl -s --max-time 10 --path-as-is " .. (extra or "") ..
        " -w '\\n%{http_code}' " .. q(base .. path))
      local body, code = out:match("^(.*)\n(%d+)$")
      return tonumber(code), body
    end

    it("says why it will not serve DIR: missing, or a file (status 1)", function()
      local code, out, err = run("http_server.lua", "-p 0 " .. q(dir .. "/nosuch"))
      assert.are.same({ 1, "" }, { code, out })
      assert.are.equal("http_server.lua: " .. dir .. "/nosuch: no such directory\n", err)
      code, out, err = run("http_server.lua", "-p 0 " .. q(dir .. "/www/hello.txt"))
      assert.are.same({ 1, "" }, { code, out })
      assert.are.equal("http_server.lua: " .. dir .. "/www/hello.txt: not a directory\n", err)
    end)

    it("says where it serves, and serves files, index.html, types and the JSON API", function()
      local f = io.open(dir .. "/server.log")
      local first = f:read("l")
      f:close()
      assert.are.equal("serving " .. dir .. "/www on " .. base .. "/", first)
      assert.are.same({ 200, "home\n" }, { curl("/") })
      assert.are.same({ 200, "sub\n" }, { curl("/sub/") })
      assert.are.equal(301, (curl("/sub")))
      assert.are.same({ 200, "hello\n" }, { curl("/in.txt") })
      assert.are.same({ 200, "hello\n" }, { curl("/sub/back.txt") })   -- link to a link, with . and ..
      assert.are.equal(404, (curl("/loop1")))   -- links that loop: not found, at once
      assert.are.equal(404, (curl("/missing")))
      assert.are.equal(403, (curl("/empty/")))
      assert.are.equal(405, (curl("/hello.txt", "-X DELETE")))
      local _, _, head = common.run("curl -sI " .. q(base .. "/hello.txt"))
      assert.matches("Content%-Type: text/plain", head)
      local code, body = curl("/api/time")
      assert.are.equal(200, code)
      local t = require("cjson").decode(body)
      assert.is_true(math.abs(t.unix - os.time()) < 5)
      assert.matches("^%d+%-%d+%-%d+T%d+:%d+:%d+Z$", t.iso)
      assert.are.equal(400, (curl("/api/lookup")))
      assert.are.equal(404, (curl("/api/nothing")))
    end)

    -- (a symlink out whose target leads back inside, /up/www/hello.txt, is
    -- served: the real path decides, and it is inside)
    it("never serves anything outside DIR", function()
      for _, path in ipairs {
        "/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
        "/sub%2f..%2f..%2fsecret.txt", "/..%2fsecret.txt", "/..\\secret.txt", "/%5c..%5csecret.txt",
        "/hello.txt%00.html", "/out", "/up/secret.txt",
      } do
        local code, body = curl(path)
        assert.truthy(code == 403 or code == 404, path .. " -> " .. tostring(code))
        assert.is_nil(body:find("secret", 1, true), path)
      end
    end)

    it("answers the JSON lookup from a private DNS server", function()
      local env = dns_helper.start()
      finally(env.stop)
      local code, body = curl("/api/lookup?name=www.test&type=A&server=" .. env.server)
      assert.are.equal(200, code, body)
      local t = require("cjson").decode(body)
      assert.are.equal("192.0.2.10", t.records[1].address)
      code, body = curl("/api/lookup?name=www.test&type=MX&server=" .. env.server)
      assert.are.equal(200, code)
      assert.matches('"records":%[%]', body)
      code = curl("/api/lookup?name=nothing.test&type=A&server=" .. env.server)
      assert.are.equal(404, code)
    end)

    it("http_get.lua prints a body, a HEAD (-I), a transcript (-v), and fails clearly", function()
      local code, out, err = run("http_get.lua", q(base .. "/hello.txt"))
      assert.are.same({ 0, "hello\n", "" }, { code, out, err })
      -- no scheme: http, as curl (QA: it was "no scheme", exit 1)
      code, out, err = run("http_get.lua", q(base:gsub("^http://", "") .. "/hello.txt"))
      assert.are.same({ 0, "hello\n", "" }, { code, out, err })
      code, out = run("http_get.lua", "-I " .. q(base .. "/hello.txt"))
      assert.are.equal(0, code)
      assert.matches("^HTTP/1%.1 200 OK\r\n", out)
      assert.matches("Content%-Length: 6\r\n", out)
      code, out, err = run("http_get.lua", "-v " .. q(base .. "/hello.txt"))
      assert.are.equal("hello\n", out)
      assert.matches(" %-> GET /hello%.txt HTTP/1%.1\n", err)
      assert.matches("<%- HTTP/1%.1 200 OK\n", err)
      code, _, err = run("http_get.lua", q(base .. "/missing"))
      assert.are.equal(22, code)
      assert.matches("404", err)
      code, out, err = run("http_get.lua", q("http://127.0.0.1:" .. tcp_helper.free_port() .. "/"))
      assert.are.same({ 1, "" }, { code, out })
      assert.matches("^http_get%.lua: .*connection refused\n$", err)
      code, out, err = run("http_get.lua", "ftp://127.0.0.1/")
      assert.are.same({ 1, "", "http_get.lua: 127.0.0.1: scheme 'ftp' not supported (http and https)\n" },
        { code, out, err })
      code, _, err = run("http_get.lua", "--timeout 1 " .. q("http://nonsense:/"))
      assert.are.equal(1, code)
      assert.are.equal(1, select(2, err:gsub("\n", "")))
    end)

    it("http_get.lua -o writes the file, with a progress bar only on a terminal", function()
      local out_file = dir .. "/got.bin"
      local code, out, err = run("http_get.lua", "-o " .. q(out_file) .. " " .. q(base .. "/big.bin"))
      assert.are.same({ 0, "", "" }, { code, out, err })
      assert.are.equal(http_helper.sha256(dir .. "/www/big.bin"), http_helper.sha256(out_file))
      os.remove(out_file)
      -- script(1) gives the command a terminal
      local _, _, tty = common.run("script -qec " .. q(common.netlua .. " scripts/http_get.lua -o " ..
        q(out_file) .. " " .. q(base .. "/big.bin")) .. " /dev/null")
      assert.matches("\r100%% %[=+%] 3%.0 MiB / 3%.0 MiB", tty)
      assert.matches("left", tty)
      assert.are.equal(http_helper.sha256(dir .. "/www/big.bin"), http_helper.sha256(out_file))
    end)
  end)

  describe("http_get.lua against nginx", function()
    local nginx
    setup(function() nginx = http_helper.nginx() end)
    teardown(function() nginx.stop() end)

    -- (before: the bar's Content-Length came from a trace of every body
    -- byte, some 250 times slower on a terminal)
    it("-o on a terminal is quick, draws the bar, and never traces without -v", function()
      local sum = http_helper.random_file(nginx.dir .. "/www/big20.bin", 20)
      local out_file = nginx.dir .. "/got20.bin"
      local t0 = require("net").now()
      local _, _, tty = common.run("timeout 60 script -qec " .. q(common.netlua .. " scripts/http_get.lua -o " ..
        q(out_file) .. " http://127.0.0.1:" .. nginx.port .. "/big20.bin") .. " /dev/null")
      local took = require("net").now() - t0
      assert.matches("\r100%% %[=+%] 20%.0 MiB / 20%.0 MiB", tty)
      assert.is_nil(tty:find("<- ", 1, true))
      assert.are.equal(sum, http_helper.sha256(out_file))
      assert.is_true(took < 2, ("took %.2f s"):format(took))
    end)

    it("says where a redirect goes, and follows it with -L", function()
      local base = "http://127.0.0.1:" .. nginx.port
      local code, out, err = run("http_get.lua", base .. "/redirect")
      assert.are.equal(0, code)
      assert.matches("301 Moved Permanently", out)
      assert.are.equal("http_get.lua: 301 Moved Permanently -> Location: " .. base .. "/target (use -L to follow)\n", err)
      code, out, err = run("http_get.lua", "-L " .. base .. "/redirect")
      assert.are.same({ 0, "you found the target\n", "" }, { code, out, err })
      code, out, err = run("http_get.lua", "-L " .. base .. "/relative")
      assert.are.same({ 0, "you found the target\n", "" }, { code, out, err })
      code, out, err = run("http_get.lua", "-L " .. base .. "/loop")
      assert.are.same({ 1, "" }, { code, out })
      assert.matches("^http_get%.lua: [^\n]*too many redirects[^\n]*\n$", err)
    end)

    it("stops on Ctrl-C with 'interrupted' and status 130, no traceback", function()
      -- a server that announces a big body, sends a little and stalls
      local port = tcp_helper.free_port()
      local head = nginx.dir .. "/stall.http"
      local f = assert(io.open(head, "wb"))
      f:write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" .. ("x"):rep(1000))
      f:close()
      local p = io.popen("timeout 20 socat TCP-LISTEN:" .. port .. ",bind=127.0.0.1,reuseaddr,fork " ..
        q("SYSTEM:cat " .. head .. "; sleep 10") .. " >/dev/null 2>&1 & echo $!")
      local spid = p:read("l")
      p:close()
      finally(function() os.execute("kill " .. spid .. " 2>/dev/null") end)
      assert(common.wait_port(port, 10))
      -- on a terminal (the bar is drawn) and off one
      for _, wrap in ipairs { "script", "plain" } do
        local cmd = common.netlua .. " scripts/http_get.lua -o " .. q(nginx.dir .. "/stall.out") ..
          " http://127.0.0.1:" .. port .. "/ & P=$!; sleep 1; kill -INT $P; wait $P; echo status=$?"
        if wrap == "script" then cmd = "script -qec " .. q(cmd) .. " /dev/null" end
        if wrap == "plain" then os.execute("sleep 0.2") end
        local _, _, out, err = common.run("timeout 30 sh -c " .. q(cmd))
        local all = out .. err
        assert.matches("http_get%.lua: interrupted\r?\n", all, nil, wrap)
        assert.matches("status=130", all, nil, wrap)
        assert.is_nil(all:find("traceback", 1, true), wrap)
        assert.is_nil(all:find(".lua:%d+:"), wrap)
      end
    end)
  end)

  describe("portcheck.lua", function()
    it("tells open, closed and filtered ports apart, sorted", function()
      local net = require "net"
      local open = assert(net.listen("127.0.0.2", 0))
      local _, oport = open:getsockname()
      local dead = http_helper.dead_server()
      local closed = tcp_helper.free_port()
      local _, code, out = common.run(NETLUA .. " scripts/portcheck.lua --timeout 0.5 --max 3 127.0.0.2 " ..
        table.concat({ dead.port, oport, closed }, ","))
      dead.close()
      open:close()
      assert.are.equal(0, code)
      local lines = {}
      for l in out:gmatch("(%d+/tcp[^\n]*)") do lines[tonumber(l:match("^%d+"))] = l end
      assert.matches("open$", lines[oport])
      assert.matches("closed: connection refused$", lines[closed])
      assert.matches("filtered: nobody's home %(timeout%)$", lines[dead.port])
      local order = {}
      for p in out:gmatch("\n(%d+)/tcp") do order[#order + 1] = tonumber(p) end
      local sorted = { table.unpack(order) }
      table.sort(sorted)
      assert.are.same(sorted, order)
      assert.matches("1 open, 1 closed, 1 filtered", out)
    end)

    it("checks many ports concurrently within the bound", function()
      local t0 = os.time()
      local _, code, out = common.run(NETLUA .. " scripts/portcheck.lua --max 50 127.0.0.1 40000-40499")
      assert.are.equal(0, code)
      assert.matches("500 ports", out)
      assert.is_true(os.time() - t0 < 10)
    end)
  end)

  describe("udp_echo.lua", function()
    it("echoes, and gives up in bounded time on a silent peer", function()
      local port = tcp_helper.free_port()
      local log = os.tmpname()
      local pid, spid = background("udp_echo.lua", "server -p " .. port, log), nil
      -- one finally per case (busted keeps only the last one given)
      finally(function()
        os.execute("kill " .. pid .. (spid and (" " .. spid) or "") .. " 2>/dev/null")
        os.remove(log)
      end)
      os.execute("sleep 0.3")
      local code, out = run("udp_echo.lua", "client 127.0.0.1 " .. port .. " " .. q("hello, echo"))
      assert.are.same({ 0, "hello, echo\n" }, { code, out })
      -- a silent peer: socat swallows the datagram
      local sport = tcp_helper.free_port()
      local p = io.popen("socat -u UDP4-RECVFROM:" .. sport .. ",bind=127.0.0.1,fork OPEN:/dev/null " ..
        ">/dev/null 2>&1 & echo $!")
      spid = p:read("l")
      p:close()
      os.execute("sleep 0.2")
      local t0 = os.time()
      local err
      code, out, err = run("udp_echo.lua", "client 127.0.0.1 " .. sport .. " hi --timeout 0.5")
      assert.are.same({ 1, "" }, { code, out })
      assert.matches("no answer .* fire%-and%-forget", err)
      assert.is_true(os.time() - t0 <= 3)
      -- nobody there at all: the refusal comes back as an ICMP error
      code, _, err = run("udp_echo.lua", "client 127.0.0.1 " .. tcp_helper.free_port() .. " hi --timeout 0.5")
      assert.are.equal(1, code)
      assert.matches("udp_echo%.lua: ", err)
    end)
  end)

  describe("nslookup.lua and dig.lua", function()
    local env
    setup(function() env = dns_helper.start() end)
    teardown(function() env.stop() end)

    it("nslookup.lua takes SERVER as ip:port and never asks the system resolver for it", function()
      local code, out = run("nslookup.lua", "www.test " .. env.server)
      assert.are.equal(0, code, out)
      assert.matches("Address:\t127.0.0.1#" .. env.port .. "\n", out, 1, true)
      assert.matches("Name:\twww.test\nAddress: 192.0.2.10\n", out, 1, true)
      code, out = run("nslookup.lua", "-type=MX test " .. q("[::1]:" .. env.port))
      assert.are.equal(0, code)
      assert.matches("test\tmail exchanger = 5 mx0.test.", out, 1, true)
      code, out = run("nslookup.lua", "nothing.test " .. env.server)
      assert.are.equal(1, code)
      assert.matches("NXDOMAIN", out)
      code, out = run("nslookup.lua", "-timeout=1 www.test 127.0.0.1:" .. env.silent_port)
      assert.are.equal(1, code)
      assert.matches("no servers could be reached", out)
    end)

    it("nslookup.lua takes dig's @SERVER form", function()
      local code, out = run("nslookup.lua", "www.test @" .. env.server)
      assert.are.equal(0, code, out)
      assert.matches("Address:\t127.0.0.1#" .. env.port .. "\n", out, 1, true)
      assert.matches("Name:\twww.test\nAddress: 192.0.2.10\n", out, 1, true)
      code, out = run("nslookup.lua", "-type=MX test " .. q("@[::1]:" .. env.port))
      assert.are.equal(0, code)
      assert.matches("test\tmail exchanger = 5 mx0.test.", out, 1, true)
    end)

    -- In private user, network and mount namespaces (unshare -rnm) the
    -- system's resolver is 127.0.0.1 (a bind-mounted resolv.conf), where
    -- socat records every datagram: a bogus server form must send none; a
    -- host name (the control) is asked of that resolver.
    it("refuse a server that is neither an address nor a host name without asking anyone", function()
      if not os.execute("unshare -rnm true 2>/dev/null") then
        pending("no user namespaces here (unshare -rnm)")
        return
      end
      local p = io.popen("mktemp -d /tmp/netlua-ns.XXXXXX")
      local dir = p:read("l")
      p:close()
      finally(function() os.execute("rm -rf " .. q(dir)) end)
      local f = assert(io.open(dir .. "/resolv.conf", "w"))
      f:write("nameserver 127.0.0.1\n")
      f:close()
      -- each case: its output in dir/N.out, its status in dir/N.rc
      local function in_namespace(cases)
        local cmds = {}
        for i, c in ipairs(cases) do
          cmds[#cmds + 1] = NETLUA .. " scripts/" .. c .. " >" .. q(dir .. "/" .. i .. ".out") .. " 2>&1; echo $? >"
            .. q(dir .. "/" .. i .. ".rc")
        end
        local script = "ip link set lo up && mount --bind " .. q(dir .. "/resolv.conf") .. " /etc/resolv.conf && "
          .. "{ socat -u UDP4-RECVFROM:53,bind=127.0.0.1,fork OPEN:" .. q(dir .. "/got") .. ",creat,append & "
          .. "S=$!; sleep 0.3; " .. table.concat(cmds, "; ") .. "; kill $S; }"
        assert(os.execute("unshare -rnm sh -c " .. q(script)))
        local results = {}
        for i in ipairs(cases) do
          results[i] = { tonumber(slurp(dir .. "/" .. i .. ".rc")), slurp(dir .. "/" .. i .. ".out") }
        end
        local got = io.open(dir .. "/got")
        local n = got and #got:read("a") or 0
        if got then got:close() end
        os.remove(dir .. "/got")
        return results, n
      end
      local bogus = { "@127.0.0.1:15399", "1.2.3.4:x", "'a b'", "127.0.0.300", "x:53", "[::1]:99999", "a..b" }
      local cases = {}
      for _, b in ipairs(bogus) do
        cases[#cases + 1] = "nslookup.lua -timeout=1 www.test " .. (b:sub(1, 1) == "@" and "@" or "") .. b
        cases[#cases + 1] = "dig.lua +time=1 www.test @" .. b
      end
      local results, n = in_namespace(cases)
      assert.are.equal(0, n, "bytes sent to the system resolver")
      for i, r in ipairs(results) do
        local script = cases[i]:match("^(%S+)")
        assert.are.equal(script == "dig.lua" and 10 or 2, r[1], cases[i] .. ": " .. r[2])
        assert.matches("^" .. script:gsub("%.", "%%.") .. ": [^\n]*not a?n? ?[^\n]*host name[^\n]*\n$", r[2], nil, cases[i])
      end
      -- the control: a real name is asked of the system's resolver
      results, n = in_namespace { "nslookup.lua -timeout=1 www.test ns.example.test" }
      assert.is_true(n > 0, "the control asked nobody")
      assert.are.equal(1, results[1][1])
    end)

    it("dig.lua takes @ip:port too", function()
      local code, out = run("dig.lua", "@" .. env.server .. " www.test A +short")
      assert.are.same({ 0, "192.0.2.10\n" }, { code, out })
      code, out = run("dig.lua", "@" .. q("[::1]:" .. env.port) .. " www.test AAAA +short")
      assert.are.same({ 0, "2001:db8::10\n" }, { code, out })
      local err
      code, out, err = run("dig.lua", "@" .. env.server .. " www.test BOGUS")
      assert.are.same({ 2, "" }, { code, out })
      assert.matches("^dig%.lua: unknown record type BOGUS\n", err)
      code, out, err = run("dig.lua", "@" .. env.server .. " -t bogus www.test")
      assert.are.same({ 2, "" }, { code, out })
      assert.matches("^dig%.lua: unknown record type BOGUS\n", err)
    end)
  end)

  describe("servers stopped with Ctrl-C", function()
    for _, s in ipairs({ "udp_echo.lua server -p PORT", "http_server.lua -p PORT ." }) do
      it(s .. " exits 130 without a traceback", function()
        local port = tcp_helper.free_port()
        local ok, code, out, err = common.run("cd " .. q(common.root) .. "; " .. NETLUA ..
          " scripts/" .. s:gsub("PORT", tostring(port)) .. " & p=$!; sleep 0.7; kill -INT $p; wait $p")
        assert.are.equal(130, code, out .. err)
        assert.not_matches("traceback", err)
        assert.not_matches("interrupted!", err)
        assert.falsy(ok)
      end)
    end
  end)
end)
