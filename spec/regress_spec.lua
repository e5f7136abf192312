-- spec/regress_spec.lua: one case per bug found by trying netlua as a
-- hostile user would (issue #12), in the spirit of cqueues' regress/NN.
-- Each `it` names the bug it proves fixed. Cases that could hang or crash
-- run in a child netlua under `timeout`, so a regression fails the case
-- instead of the suite.
local net = require "net"
local common = require "spec.support.common"
local peak = require "spec.support.peak"
local q = common.q

-- Run SRC as a script in a child netlua (killed after SECS seconds);
-- returns exit code, stdout, stderr.
local function child(src, secs, args)
  local f = os.tmpname()
  local h = assert(io.open(f, "wb")); h:write(src); h:close()
  local _, code, out, err = common.run("timeout -s KILL " .. (secs or 10) .. " " ..
    q(common.netlua) .. " " .. q(f) .. (args and (" " .. args) or ""))
  os.remove(f)
  return code, out, err
end

describe("regressions (issue #12)", function()
  local fds_before
  setup(function()
    net.run()  -- the loop's own epoll fd is made on first use
    fds_before = common.count_fds()
  end)
  teardown(function() assert.are.equal(fds_before, common.count_fds()) end)

  it("task error whose __tostring raises does not escape into receive", function()
    local code, out, err = child([[
      local s = net.listen("127.0.0.1", 0)
      local _, port = s:getsockname()
      local c = net.connect("127.0.0.1", port)
      local a = s:accept()
      net.spawn(function()
        net.sleep(0.05)
        error(setmetatable({}, {__tostring = function() error("boom") end}))
      end)
      c:settimeout(0.3)
      print("recv", c:receive())
      print("close", c:close())
      a:close(); s:close()
    ]], 5)
    assert.are.equal("recv\tnil\ttimeout\t\nclose\ttrue\n", out)
    assert.matches("error in task: %(error object is a table value", err)
    assert.are.equal(1, code)
  end)
  it("binary chunks are refused for scripts, -l and require; load keeps Lua's modes", function()
    local dir = os.tmpname(); os.remove(dir); assert(os.execute("mkdir " .. q(dir)))
    local function put(name, data)
      local h = assert(io.open(dir .. "/" .. name, "wb")); h:write(data); h:close()
    end
    local dump = string.dump(function() return {v = 1} end)
    -- one corrupted byte past the header: what crashed netlua with SIGSEGV
    local bad = dump:sub(1, 40) .. string.char((dump:byte(41) + 1) % 256) .. dump:sub(42)
    put("bmod.lua", bad)
    put("tmod.lua", "return {v = 2}")
    put("bscript.lua", bad)
    local cd = "cd " .. q(dir) .. " && "
    local _, code, _, err = common.run(cd .. q(common.netlua) .. " bscript.lua")
    assert.are.equal(1, code)
    assert.matches("attempt to load a binary chunk %(mode is 't'%)", err)
    _, code, _, err = common.run(cd .. q(common.netlua) .. " -l bmod -e ''")
    assert.are.equal(1, code)
    assert.matches("error loading module 'bmod'.-binary chunk", err)
    local ok, out
    ok, code, out = common.run(cd .. q(common.netlua) .. [[ -e '
      print(require("tmod").v)
      print(pcall(require, "bmod"))
      local d = string.dump(function() return 7 end)
      print(load(d)(), load(d, "d", "b")(), load(d, "d", "t"))']])
    assert.is_true(ok, out)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal("2", lines[1])
    assert.matches("^false\terror loading module 'bmod'", lines[2])
    assert.matches("^7\t7\tnil\tattempt to load a binary chunk", lines[4])
    os.execute("rm -rf " .. q(dir))
  end)
  it("net.reverse and PTR lookups refuse a NUL in the address, sending nothing", function()
    local dns = net.udp()
    assert(dns:bind("127.0.0.1", 0))
    local _, port = dns:getsockname()
    local opts = {server = "127.0.0.1:" .. port, timeout = 0.5}
    local ok, err = pcall(net.reverse, "127.0.0.1\0evil", opts)
    assert.is_false(ok)
    assert.matches("IP address expected.*NUL in address", err)
    local r, msg = net.lookup("127.0.0.1\0evil", "PTR", opts)
    assert.is_nil(r)
    assert.matches("invalid name %(NUL in name%)", msg)
    dns:settimeout(0.2)
    local got, why = dns:receive()
    assert.is_nil(got)
    assert.are.equal("timeout", why)
    dns:close()
  end)
  -- A connected pair on loopback: client, accepted side, listener.
  local function pair()
    local s = assert(net.listen("127.0.0.1", 0))
    local _, port = s:getsockname()
    local c = assert(net.connect("127.0.0.1", port))
    local a = assert(s:accept())
    return c, a, s
  end

  it("conn:send(data, i, j) sends data:sub(i, j) and returns the last index", function()
    local c, a, s = pair()
    assert.are.equal(3, c:send("hello", 2, 3))
    assert.are.equal(5, c:send("hello"))
    assert.are.equal(5, c:send("hello", -2))
    assert.are.equal(3, c:send("hello", 4, 2))  -- nothing: i - 1
    c:close()
    assert.are.equal("elhellolo", a:receive("a"))
    -- a peer that never reads: nil, "timeout", the exact last index sent
    c, a, s = (function() s:close(); a:close(); return pair() end)()
    local data = ("0123456789"):rep(32 * 2 ^ 20 // 10)
    c:settimeout(0.3)
    local r, err, last = c:send(data, 11)
    assert.is_nil(r)
    assert.are.equal("timeout", err)
    assert.is_true(last > 10 and last < #data)
    c:close()
    local got = a:receive("a")
    assert.are.equal(last - 10, #got)
    assert.is_true(got == data:sub(11, last))
    a:close(); s:close()
  end)
  it("udp:receive(n) of a longer datagram says it was cut, with the whole size", function()
    local u, v = net.udp(), net.udp()
    assert(u:bind("127.0.0.1", 0))
    local host, port = u:getsockname()
    u:settimeout(2)
    assert(v:sendto(("x"):rep(100), host, port))
    local d, whole = u:receive(10)
    assert.are.same({("x"):rep(10), 100}, {d, whole})
    assert(v:sendto("short", host, port))
    assert.are.same({"short", n = 1}, table.pack(u:receive(10)))
    assert(v:sendto(("y"):rep(50), host, port))
    local r = table.pack(u:receivefrom(20))
    assert.are.same({("y"):rep(20), "127.0.0.1", select(2, v:getsockname()), 50},
                    {r[1], r[2], r[3], r[4]})
    assert(v:sendto("12345", host, port))
    r = table.pack(u:receivefrom(5))
    assert.are.equal(3, r.n)
    u:close(); v:close()
  end)
  it("a history file that is /dev/zero, /dev/full or a FIFO does not stop the prompt", function()
    local pty = require "spec.support.pty"
    for _, make in ipairs({"ln -s /dev/zero", "ln -s /dev/full", "mkfifo"}) do
      local home = pty.tmpdir()
      local hist = home .. "/.netlua_history"
      if make == "mkfifo" then assert(os.execute("mkfifo " .. q(hist)))
      else assert(os.execute(make .. " " .. q(hist))) end
      local r = pty.run({ { expect = "history not kept" }, { expect = "> " },
                          { send = "6*7\r" }, { expect = "42" } }, { home = home })
      pty.rmdir(home)
      assert.is_true(r.ok, make .. ": " .. tostring(r.why) .. "\n" .. r.out)
      assert.are.equal(0, r.exit)
    end
  end)
  -- under ASan (make asan-test sets NETLUA_PRELOAD) memory has the
  -- sanitizer's quarantine and redzones in it: nothing to measure there
  local measure = (os.getenv("NETLUA_PRELOAD") or "") == "" and it or pending
  -- three limits: a small one from net.listen's opts.linelimit, the
  -- default (1 MiB), a larger one from c:setlinelimit
  for _, case in ipairs({ { 16 * 1024, "opts" }, { 1024 * 1024, "default" }, { 4 * 1024 * 1024, "set" } }) do
    local cap, how = case[1], case[2]
    measure(string.format("an endless line costs at most twice the line limit in memory (%d KiB, %s)",
      cap // 1024, how), function()
      -- measured in a child (the figures are per process), from right
      -- before one receive that meets a line four times the limit; the
      -- trace handler samples the peak inside it (spec/support/peak.lua)
      local code, out, err = child([[
        local peak = require "spec.support.peak"
        local cap, how = tonumber(arg[1]), arg[2]
        local s = net.listen("127.0.0.1", 0, how == "opts" and { linelimit = cap } or nil)
        local _, port = s:getsockname()
        os.execute("bash -c 'head -c " .. 4 * cap .. " /dev/zero >/dev/tcp/127.0.0.1/" .. port ..
                   "' 2>/dev/null &")
        local c = s:accept()
        if how == "set" then c:setlinelimit(cap) end
        c:settrace(function(what) if what == "receive" then peak.sample() end end)
        peak.start()
        local r, e, partial = c:receive()
        print(r, e, #partial, peak.grown())
      ]], 20, cap .. " " .. how)
      assert.are.equal(0, code, err)
      local e, n, grown = out:match("^nil\t(.-)\t(%d+)\t(%d+)")
      assert.are.equal("line too long", e)
      assert.are.equal(cap, tonumber(n))
      -- twice the limit: the receive buffer and the partial; and
      -- granularity (LINE_SLACK, spec/support/peak.lua)
      assert.is_true(tonumber(grown) <= 2 * cap + peak.LINE_SLACK,
        string.format("grew %s bytes: %.4f x the limit", grown, grown / cap))
    end)
  end
  it("expect's bad timeouts and net.interface(-1) are argument errors", function()
    local c, a, s = pair()
    for _, t in ipairs({"y", -1, 0 / 0}) do
      local ok, err = pcall(c.expect, c, "x", t)
      assert.is_false(ok)
      assert.matches("bad argument #2 to 'expect' %(non%-negative number of seconds", err)
    end
    for _, i in ipairs({-1, 0}) do
      local ok, err = pcall(net.interface, i)
      assert.is_false(ok)
      assert.matches("interface index must be at least 1", err)
    end
    c:close(); a:close(); s:close()
  end)
  it("port 0 to connect or send to, and a host with a port in it, are argument errors", function()
    local ok, err = pcall(net.connect, "127.0.0.1", 0)
    assert.is_false(ok)
    assert.matches("port must be 1%-65535", err)
    local u = net.udp()
    ok, err = pcall(u.sendto, u, "x", "127.0.0.1", 0)
    assert.matches("port must be 1%-65535", err)
    ok, err = pcall(u.connect, u, "127.0.0.1", 0)
    assert.matches("port must be 1%-65535", err)
    assert.is_true(u:bind("127.0.0.1", 0))  -- binding keeps port 0: any port
    u:close()
    ok, err = pcall(net.relay, "127.0.0.1", 0, "127.0.0.1", 0)
    assert.matches("port must be an integer 1%-65535", err)
    local s = assert(net.listen("127.0.0.1", 0))
    s:close()
    for host, bare in pairs({["[::1]:80"] = '"::1", 80', ["127.0.0.1:80"] = '"127.0.0.1", 80',
                             ["mail.test:25"] = '"mail.test", 25'}) do
      ok, err = pcall(net.connect, host, 80)
      assert.is_false(ok)
      assert.truthy(err:find("has a port in it", 1, true), err)
      assert.truthy(err:find("net.connect(" .. bare .. ")", 1, true), err)
    end
    -- IPv6 literals, bracketed or not, are hosts
    local r, e = net.connect("[::1]", 1, {timeout = 1})
    assert.is_nil(r)
    assert.matches("connect %[::1%]:1", e)
  end)
  it("net.connect's localport alone binds that port (as nc -p)", function()
    local s = assert(net.listen("127.0.0.1", 0))
    local _, port = s:getsockname()
    local free = assert(net.listen("127.0.0.1", 0))  -- a TCP port free now
    local _, lp = free:getsockname()
    free:close()
    local c = assert(net.connect("127.0.0.1", port, {localport = lp}))
    assert.are.same({"127.0.0.1", lp}, {c:getsockname()})
    local a = assert(s:accept())
    assert.are.same({"127.0.0.1", lp}, {a:getpeername()})
    c:close(); a:close(); s:close()
    local ok, err = pcall(net.connect, "127.0.0.1", port, {localport = -1})
    assert.is_false(ok)
    assert.matches("option 'localport' must be an integer 0%-65535", err)
  end)
  it("a second Ctrl-C inside one long C call ends netlua, as it ends lua5.4", function()
    local f = os.tmpname()
    local h = assert(io.open(f, "w"))
    h:write('print("start"); io.stdout:flush(); local _ = ("a"):rep(5000):find(".-.-.-.-b"); print("never")\n')
    h:close()
    local function run(prog)
      local _, _, out = common.run("sh -c " .. q(prog .. " " .. q(f) .. " & p=$!; sleep 0.5; " ..
        "kill -INT $p; sleep 0.3; kill -0 $p && echo alive; kill -INT $p; wait $p; echo rc=$?"))
      return out
    end
    local mine, theirs = run(q(common.netlua)), run("lua5.4")
    os.remove(f)
    assert.are.equal("start\nalive\nrc=130\n", theirs)
    assert.are.equal(theirs, mine)
  end)

  it("signals every millisecond lose no data and raise no error (connect, accept, receive, sleep, DNS, "
     .. "TLS handshakes both sides)", function()
    local pty = require "spec.support.pty"
    local certs = require("spec.support.tls_helper").certs()
    local r = pty.run({
      { expect = "> " },
      { send = ("STORM_TLS = {cert = %q, key = %q, ca = %q}\r"):format(certs.good, certs.goodkey, certs.ca) },
      { expect = "> " },
      { tcl = "set p [exp_pid]\nexec sh -c \"while kill -WINCH $p 2>/dev/null; do sleep 0.001; done\" &" },
      { send = 'dofile("spec/support/sigstorm.lua")\r' },
      { re = "STORM ok \\d+ errors [^\r\n]*" },
    }, { timeout = 60 })
    assert.is_true(r.ok, tostring(r.why) .. "\n" .. r.out)
    require("spec.support.tls_helper").cleanup()
    assert.truthy(r.out:find("STORM ok 150 errors none", 1, true), r.out)
  end)
  it("Ctrl-C on a script whose tasks still serve exits 130 without a traceback", function()
    local f = os.tmpname()
    local h = assert(io.open(f, "w"))
    h:write('net.serve("127.0.0.1", 0, function(c) c:send("hi\\n") end)\n' ..
            'print("serving"); io.stdout:flush()\n')
    h:close()
    local _, _, out, err = common.run("sh -c " .. q(q(common.netlua) .. " " .. q(f) ..
      " & p=$!; sleep 0.5; kill -INT $p; wait $p; echo rc=$?"))
    os.remove(f)
    assert.are.equal("serving\nrc=130\n", out)
    assert.are.equal("", err)
  end)
  it("Ctrl-C on a script whose server is busy in a handler still exits 130 (QA)", function()
    -- The handler runs most of the time, so Ctrl-C lands in it: the
    -- server's protected call catches that error, and the program must
    -- stop all the same.
    local f = os.tmpname()
    local h = assert(io.open(f, "w"))
    h:write([[
      local srv = net.http.serve("127.0.0.1", 0, function()
        local stop = net.now() + 0.02
        while net.now() < stop do end   -- busy
        return 200, {}, "ok"
      end, { quiet = true })
      local _, port = srv:getsockname()
      for _ = 1, 2 do
        net.spawn(function()
          for _ = 1, 500 do net.http.get("http://127.0.0.1:" .. port .. "/", { timeout = 5 }) end
        end)
      end
      print("serving"); io.stdout:flush()
    ]])
    h:close()
    local _, _, out = common.run("sh -c " .. q(q(common.netlua) .. " " .. q(f) ..
      " 2>/dev/null & p=$!; sleep 0.7; kill -INT $p; sleep 2; kill -0 $p 2>/dev/null && echo alive && kill -KILL $p; wait $p; echo rc=$?"))
    os.remove(f)
    assert.are.equal("serving\nrc=130\n", out)
  end)

  it("the prompt: message only for the chunk's own errors and Ctrl-C; user's print and _PROMPT", function()
    local pty = require "spec.support.pty"
    local r = pty.run({
      { expect = "> " },
      { send = 'error("own")\r' }, { expect = "stdin:1: own" }, { expect = "> " },
      { send = "function f() error('deep') end\r" }, { expect = "> " },
      { send = "f()\r" }, { expect = "in function 'f'" }, { expect = "> " },
      { send = "while true do end\r" }, { sleep = 0.3 }, { send = "\3" },
      { expect = "interrupted!" }, { expect = "> " },
      { send = 'print = function(...) io.write("MINE ", select("#", ...), "\\n") end\r' },
      { expect = "> " },
      { send = "1, 2, 3\r" }, { expect = "MINE 3" }, { expect = "> " },
      { send = '_PROMPT = setmetatable({}, {__tostring = function() return "P$ " end})\r' },
      { expect = "P$ " },
      { send = '_PROMPT = setmetatable({}, {__tostring = function() error("no") end})\r' },
      { expect = "> " },
    })
    assert.is_true(r.ok, tostring(r.why) .. "\n" .. r.out)
    local out = pty.clean(r.out)
    assert.falsy(out:match("own%s*stack traceback"), out)
    assert.falsy(out:match("interrupted!%s*stack traceback"), out)
    assert.truthy(out:match("deep%s*stack traceback"), out)
    assert.are.equal(0, r.exit)
  end)
  it("Ctrl-D typed while a line runs (the prompt not yet redrawn) is not lost", function()
    local pty = require "spec.support.pty"
    -- a line typed ahead still runs
    local r = pty.run({ { expect = "> " }, { send = "net.sleep(0.5)\r" }, { sleep = 0.1 },
                        { send = "6*7\r" }, { expect = "42" } })
    assert.is_true(r.ok, tostring(r.why) .. "\n" .. r.out)
    -- one Ctrl-D typed early ends the session, as at the prompt
    r = pty.run({ { expect = "> " }, { send = "net.sleep(0.5)\r" }, { sleep = 0.1 },
                  { send = "\4" } }, { no_eof = true })
    assert.is_true(r.ok, tostring(r.why) .. "\n" .. r.out)
    assert.are.equal(0, r.exit)
  end)
  it("a peer that resets mid-transfer: nil, a message naming the reset, the data that came", function()
    local c, a, s = pair()
    c:send("never read by the peer")  -- unread data makes its close a reset
    a:send(("x"):rep(1000))
    net.sleep(0.1)
    a:close()
    net.sleep(0.1)
    c:settimeout(2)
    local r, err, partial = c:receive(2000)
    assert.is_nil(r)
    assert.matches("^receive 127%.0%.0%.1:%d+: connection reset by peer$", err)
    assert.are.equal(("x"):rep(1000), partial)
    assert.are.same({nil, "closed", ""}, {c:receive(10)})
    assert.are.same({nil, "closed", 0}, {c:send("more")})
    s:close()
  end)

  it("a peer that never reads: send gives nil, \"timeout\" and the exact count sent", function()
    local c, a, s = pair()
    local data = ("0123456789"):rep(32 * 2 ^ 20 // 10)
    c:settimeout(0.3)
    local r, err, sent = c:send(data)
    assert.is_nil(r)
    assert.are.equal("timeout", err)
    assert.is_true(sent > 0 and sent < #data)
    assert.is_false(c:getsockname() == nil)  -- a timeout leaves it open
    c:close()
    local got = a:receive("a")
    assert.are.equal(sent, #got)
    assert.is_true(got == data:sub(1, sent))
    a:close(); s:close()
  end)

  it("start-up loads neither OpenSSL nor libedit, each comes with its first use (start-up was 2.5 times lua5.4's)", function()
    local code, out, err = child([[
      local function maps()
        local f = assert(io.open("/proc/self/maps"))
        local m = f:read("a")
        f:close()
        return m
      end
      local function loaded()
        local m = maps()
        return (m:find("libssl", 1, true) or m:find("netlua-tls", 1, true)) and "loaded" or "not loaded"
      end
      print(loaded(), maps():find("libedit", 1, true) and "libedit" or "no libedit")
      local s = net.listen("127.0.0.1", 0)
      local c = net.connect("127.0.0.1", select(2, s:getsockname()))
      print(c:tlsinfo())
      print(pcall(net.connect, "127.0.0.1", 1, {tls = {bogus = 1}}))
      print(pcall(c.starttls, c, {minversion = "1.1"}))
      print(loaded())
      print(net.listen("127.0.0.1", 0, {tls = {cert = "/nonexistent.pem"}}))
      print(loaded())
      c:close(); s:close()
    ]], 10)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("not loaded\tno libedit\n" ..
      "nil\tnot TLS\n" ..
      "false\tbad argument #3 to 'net.connect' (unknown option 'tls.bogus')\n" ..
      "false\toption tls.minversion must be \"1.2\" or \"1.3\", got \"1.1\"\n" ..
      "not loaded\n" ..
      "nil\tlisten 127.0.0.1:0: tls: cannot load certificate /nonexistent.pem: no such file or directory\n" ..
      "loaded\n", out)
  end)

  it("a peer that half-closes: the rest of its data, then \"closed\"; our side can still send", function()
    local c, a, s = pair()
    a:send("last line\nno newline")
    a:shutdown("send")
    c:settimeout(2); a:settimeout(2)
    assert.are.equal("last line", c:receive())
    assert.are.same({nil, "closed", "no newline"}, {c:receive()})
    assert.are.same({nil, "closed", ""}, {c:receive(1)})
    assert.are.equal(5, c:send("reply"))
    c:shutdown("send")
    assert.are.equal("reply", a:receive("a"))
    c:close(); a:close(); s:close()
  end)

  local open_fds = common.open_fds

  -- A listener on host whose accept queue is full (backlog 1 holds two
  -- connections), so the next SYN is dropped and a connect to it waits;
  -- returns it and the two connections holding the queue.
  local function full_listener(host, port)
    local s = net.listen(host, port or 0, { backlog = 1 })
    if not s then return nil end
    port = select(2, s:getsockname())
    return s, { assert(net.connect(host, port)), assert(net.connect(host, port)) }
  end

  it("Ctrl-C at the prompt during connect, its TLS handshake, https or a TLS accept closes the socket at once " ..
     "(it stayed open until collected)", function()
    local pty = require "spec.support.pty"
    local certs = require("spec.support.tls_helper").certs()
    -- each PEERn task holds the other end and says, within 1.5 s of its
    -- accept or connect, whether it saw the connection closed; the
    -- collector is stopped, so only the fix can close it
    local setup = 'collectgarbage("stop"); function nfd() local p = io.popen("ls /proc/$PPID/fd | wc -l") ' ..
      'local n = tonumber(p:read("a")) p:close() return n end; function says(who, c) c:settimeout(1.5) ' ..
      'local d, e = c:receive("a") print(who .. " sees " .. (d and "closed" or e)) c:close() end; ' ..
      'function peer(s, who) net.spawn(function() says(who, s:accept()) end) end'
    local function interrupt(line, who)
      return { send = line .. "\r" }, { sleep = 0.4 }, { send = "\3" }, { expect = "interrupted!" },
        { re = who .. " sees [a-z]+" }, { expect = "> " }
    end
    local steps = { { expect = "> " }, { send = setup .. "\r" }, { expect = "> " },
      { send = 's = net.listen("127.0.0.1", 0); port = select(2, s:getsockname()); peer(s, "PEER1")\r' },
      { expect = "> " } }
    local function add(...) for _, x in ipairs({ ... }) do steps[#steps + 1] = x end end
    add(interrupt('x = net.connect("127.0.0.1", port, {tls = true, timeout = 30})', "PEER1"))
    add({ send = 'peer(s, "PEER2")\r' }, { expect = "> " })
    add(interrupt('x = net.http.get("https://127.0.0.1:" .. port .. "/", {timeout = 30})', "PEER2"))
    add({ send = ('t = net.listen("127.0.0.1", 0, {tls = {cert = %q, key = %q}}); tport = select(2, t:getsockname()); ' ..
      'net.spawn(function() says("PEER3", net.connect("127.0.0.1", tport)) end)\r'):format(certs.good, certs.goodkey) },
      { expect = "> " })
    add(interrupt("y = t:accept()", "PEER3"))
    -- the plain connect phase: the SYN is dropped, connect waits
    add({ send = 'b = net.listen("127.0.0.1", 0, {backlog = 1}); bport = select(2, b:getsockname()); ' ..
      'f1 = net.connect("127.0.0.1", bport); f2 = net.connect("127.0.0.1", bport); n0 = nfd()\r' }, { expect = "> " },
      { send = 'x = net.connect("127.0.0.1", bport, {timeout = 30})\r' }, { sleep = 0.4 }, { send = "\3" },
      { expect = "interrupted!" }, { expect = "> " },
      { send = 'print("FDS " .. nfd() - n0, x)\r' }, { re = "FDS -?[0-9]+" }, { expect = "> " })
    local r = pty.run(steps, { timeout = 5 })
    assert(r.ok, r.why)
    local out = pty.clean(r.out)
    for i = 1, 3 do assert.truthy(out:find("PEER" .. i .. " sees closed", 1, true), out) end
    assert.truthy(out:find("FDS 0\tnil", 1, true), out)
  end)

  it("a task cancelled while connecting (one attempt or two) or in its TLS handshake closes its sockets at once " ..
     "(they stayed open until collected)", function()
    collectgarbage("stop")
    local open = {}
    finally(function()
      for _, x in ipairs(open) do x:close() end
      collectgarbage("restart")
    end)
    local function hold(s, held)
      open[#open + 1] = s
      for _, c in ipairs(held or {}) do open[#open + 1] = c end
      return s
    end
    local s4, held = full_listener("127.0.0.1")
    hold(s4, held)
    local port = select(2, s4:getsockname())
    local n0 = open_fds()
    local t = net.spawn(function() net.connect("127.0.0.1", port, { timeout = 10 }) end)
    net.sleep(0.2)
    assert.are.equal(n0 + 1, open_fds())  -- the attempt, waiting
    assert.is_true(t:cancel())
    assert.are.equal(n0, open_fds())
    -- "localhost" is ::1 and 127.0.0.1 (no resolver): both attempts wait,
    -- watched by an epoll fd of their own
    local s6, held6 = full_listener("::1", port)
    if s6 then
      hold(s6, held6)
      n0 = open_fds()
      t = net.spawn(function() net.connect("localhost", port, { timeout = 10 }) end)
      net.sleep(0.4)
      assert.are.equal(n0 + 3, open_fds())
      assert.is_true(coroutine.close(t))
      assert.are.equal(n0, open_fds())
    end
    -- the TLS handshake with a peer that never answers: it sees the close
    local silent = hold(assert(net.listen("127.0.0.1", 0)))
    t = net.spawn(function() net.connect("127.0.0.1", select(2, silent:getsockname()), { tls = true, timeout = 10 }) end)
    local a = hold(assert(silent:accept(2)))
    net.sleep(0.1)
    assert.is_true(t:cancel())
    a:settimeout(1)
    local data, err = a:receive("a")
    assert.truthy(data, err)  -- the ClientHello, then the end of the stream
  end)
end)
