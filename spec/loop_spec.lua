-- spec/loop_spec.lua: the event loop: tasks, sleep, run, errors in tasks,
-- and the same calls outside tasks.
local net = require "net"
local common = require "spec.support.common"

-- Shell: wait (at most 10 s) until the background netlua wrote "ready" to $F.
-- (timeout --foreground: a plain timeout passes the SIGINT on twice, to
-- netlua and to its whole group, and a second Ctrl-C may end netlua as it
-- ends lua5.4.)
local WAIT_READY = [[for i in $(seq 200); do grep -q ready $F 2>/dev/null && break; sleep 0.05; done;]]

describe("the loop", function()
  local fds_before
  setup(function() net.run(); fds_before = common.count_fds() end)  -- the loop's own epoll fd is made on first use
  teardown(function()
    collectgarbage(); collectgarbage()
    assert.are.equal(fds_before, common.count_fds())
  end)

  it("runs tasks interleaved by sleep, in order of their wake-ups", function()
    local log = {}
    net.spawn(function() for i = 1, 3 do log[#log + 1] = "a" .. i; net.sleep(0.02) end end)
    net.spawn(function() net.sleep(0.01); for i = 1, 3 do log[#log + 1] = "b" .. i; net.sleep(0.02) end end)
    net.run()
    assert.are.same({ "a1", "b1", "a2", "b2", "a3", "b3" }, log)
    assert.are.equal(0, #net.tasks())
  end)

  it("lets the other tasks run on net.sleep(0), in a task and outside one", function()
    local log = {}
    net.spawn(function() for i = 1, 3 do log[#log + 1] = "a" .. i; net.sleep(0) end end)
    net.spawn(function() for i = 1, 3 do log[#log + 1] = "b" .. i; net.sleep(0) end end)
    net.run()
    assert.are.same({ "a1", "b1", "a2", "b2", "a3", "b3" }, log)
    local ran = false
    net.spawn(function() ran = true end)
    net.sleep(0)
    assert.is_true(ran)
  end)

  it("passes arguments to a task and returns its thread", function()
    local got
    local t = net.spawn(function(a, b) got = a + b end, 2, 3)
    assert.are.equal("thread", type(t))
    net.run()
    assert.are.equal(5, got)
    assert.are.equal("dead", coroutine.status(t))
  end)

  it("sleeps outside a task for about the time asked, running tasks meanwhile", function()
    local ran = false
    net.spawn(function() ran = true end)
    local t0 = net.now()
    net.sleep(0.05)
    local dt = net.now() - t0
    assert.is_true(ran)
    assert.is_true(dt >= 0.05 and dt < 2, "slept " .. dt)
  end)

  it("reports a task's error with a traceback and keeps the others going", function()
    local ok, code, out, err = common.run(common.q(common.netlua) .. [[ -e '
      net.spawn(function() net.sleep(0.01) error("boom") end)
      net.spawn(function() net.sleep(0.03) print("still here") end)
      net.run() print("done")']])
    assert.is_falsy(ok)
    assert.are.equal(1, code)  -- a task died: the run failed
    assert.are.equal("still here\ndone\n", out)
    assert.matches("error in task: %(command line%):2: boom", err)
    assert.matches("stack traceback", err)
  end)

  it("exits 0 when every task ended well, 1 when one raised", function()
    local ok, code = common.run(common.q(common.netlua) .. [[ -e 'net.spawn(function() net.sleep(0.01) end)']])
    assert.is_true(ok)
    assert.are.equal(0, code)
    local _, code2, _, err = common.run(common.q(common.netlua) .. [[ -e 'net.spawn(function() net.sleep(0.01) assert(false, "check failed") end)']])
    assert.are.equal(1, code2)
    assert.matches("check failed", err)
  end)

  it("wakes two tasks waiting on one fd in the order they started waiting", function()
    local s = assert(net.listen("127.0.0.1", 0))
    local _, port = s:getsockname()
    local c = assert(net.connect("127.0.0.1", port))
    local a = assert(s:accept())
    local got = {}
    net.spawn(function() local l = c:receive(); got[#got + 1] = "first:" .. tostring(l) end)
    net.spawn(function() local l = c:receive(); got[#got + 1] = "second:" .. tostring(l) end)
    net.sleep(0.05)
    a:send("one\ntwo\n")
    net.run()
    assert.are.same({ "first:one", "second:two" }, got)
    a:close(); c:close(); s:close()
  end)

  it("lets a task yield plainly and be resumed by the loop", function()
    local n = 0
    net.spawn(function() for _ = 1, 5 do n = n + 1; coroutine.yield() end end)
    net.run()
    assert.are.equal(5, n)
  end)

  it("runs the tasks left when a script ends", function()
    local ok, code, out = common.run(common.q(common.netlua) ..
      [[ -e 'net.spawn(function() net.sleep(0.02) print("late") end) print("end of chunk")']])
    assert.is_true(ok)
    assert.are.equal(0, code)
    assert.are.equal("end of chunk\nlate\n", out)
  end)

  it("rejects bad arguments with errors that name them", function()
    assert.has_error(function() net.spawn(42) end)
    assert.has_error(function() net.sleep("x") end)
    assert.has_error(function() net.sleep(-1) end)
    assert.has_error(function() net.sleep(0/0) end)
  end)

  it("refuses net.run inside a task", function()
    local err
    net.spawn(function() local ok, e = pcall(net.run); err = not ok and e end)
    net.run()
    assert.matches("inside a task", err)
  end)

  it("keeps a sleep in a plain coroutine blocking, not yielding to it", function()
    local co = coroutine.wrap(function() net.sleep(0.01); return "woke" end)
    assert.are.equal("woke", co())
  end)

  it("stops a blocking sleep on SIGINT with 'interrupted!'", function()
    local ok, code, _, err = common.run("F=$(mktemp); timeout --foreground 10 " .. common.q(common.netlua) ..
      [[ -e 'io.stderr:write("ready\n") net.sleep(30)' 2>$F & pid=$!; ]] .. WAIT_READY .. [[ kill -INT $pid; wait $pid; rc=$?; cat $F >&2; rm -f $F; exit $rc]])
    assert.is_falsy(ok)
    assert.are.equal(1, code)
    assert.matches("interrupted!", err)
  end)

  it("stops a busy Lua loop on SIGINT", function()
    local ok, code, _, err = common.run("F=$(mktemp); timeout --foreground 10 " .. common.q(common.netlua) ..
      [[ -e 'io.stderr:write("ready\n") while true do end' 2>$F & pid=$!; ]] .. WAIT_READY .. [[ kill -INT $pid; wait $pid; rc=$?; cat $F >&2; rm -f $F; exit $rc]])
    assert.is_falsy(ok)
    assert.are.equal(1, code)
    assert.matches("interrupted!", err)
  end)

  it("works from a stock lua5.4 with the module", function()
    local ok, code, out, err = common.run(common.stock_lua() ..
      [[ -e 'local net = require "net"; net.spawn(function() net.sleep(0.01) print("task") end); net.run(); print("ok")']])
    assert.is_true(ok, err)
    assert.are.equal(0, code)
    assert.are.equal("task\nok\n", out)
  end)
end)
