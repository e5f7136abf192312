-- spec/tasks_spec.lua: tasks as values: net.tasks() lists them,
-- task:cancel() ends one (its <close> variables close, it leaves the loop),
-- task:describe() says what it does, tostring names it; coroutine.close on
-- a task is noticed by the loop.
local net = require "net"
local common = require "spec.support.common"

describe("tasks", function()
  local fds_before
  setup(function() net.run(); fds_before = common.count_fds() end)
  teardown(function()
    net.run()
    collectgarbage(); collectgarbage()
    assert.are.equal(fds_before, common.count_fds())
  end)

  it("net.tasks() lists the unfinished tasks, oldest first", function()
    assert.are.equal(0, #net.tasks())
    local a = net.spawn(function() net.sleep(0.05) end)
    local b = net.spawn(function() end)
    local l = net.tasks()
    assert.are.same({ a, b }, { l[1], l[2] })
    assert.are.equal(2, #l)
    net.run()
    assert.are.equal(0, #net.tasks())
    assert.are.equal("no tasks", tostring(net.tasks()))
  end)

  it("tostring names a task, its description and its state", function()
    local t = net.spawn(function() net.sleep(5) end)
    assert.matches("^task %d+: function at .-tasks_spec.lua:%d+ %(ready%)$", tostring(t))
    net.sleep(0.01)
    assert.matches("^task %d+: .- %(sleeping%)$", tostring(t))
    local n = 0
    assert.are.equal(t, t:describe(function(task) n = n + 1; return "counting " .. n .. (task == t and "" or "?") end))
    assert.matches("^task %d+: counting 1 %(sleeping%)$", tostring(t))
    assert.matches("^task %d+: counting 2 %(sleeping%)\n", tostring(net.tasks()) .. "\n")
    t:describe("napping")
    assert.matches("^task %d+: napping %(sleeping%)$", tostring(t))
    t:describe(function() error("oops") end)
    assert.matches("describe failed", tostring(t))
    assert.is_true(t:cancel())
    assert.matches("^task %d+: .-%(finished%)$", tostring(t))
    -- a plain coroutine keeps its usual name and is no task
    local co = coroutine.create(print)
    assert.matches("^thread: 0x", tostring(co))
    local ok, err = co:cancel()
    assert.is_nil(ok)
    assert.matches("not a task", err)
    assert.is_nil((co:describe("x")))
  end)

  it("a task waiting on a socket shows it, and describes itself", function()
    local s = assert(net.listen("127.0.0.1", 0))
    local t = net.spawn(function()
      coroutine.running():describe("accepting")
      s:accept()
    end)
    net.sleep(0.01)
    assert.matches("^task %d+: accepting %(waiting%)$", tostring(t))
    assert.is_true(t:cancel())
    s:close()
  end)

  it("cancel closes the task's <close> connection and leaves no waiter", function()
    local s = assert(net.listen("127.0.0.1", 0))
    local _, port = s:getsockname()
    local before = common.count_fds()
    local closed = false
    local t = net.spawn(function()
      local c <close> = assert(net.connect("127.0.0.1", port))
      local _ <close> = setmetatable({}, { __close = function() closed = true end })
      c:receive()   -- waits for ever
    end)
    local peer = assert(s:accept(2))
    net.sleep(0.02)
    assert.are.equal(1, #net.tasks())
    assert.is_true(t:cancel())
    assert.is_true(closed)
    assert.are.equal(0, #net.tasks())
    assert.are.equal("dead", coroutine.status(t))
    -- the peer sees the close; a second cancel says it has finished
    local got, why = peer:receive()
    assert.are.same({ nil, "closed" }, { got, why })
    local ok, err = t:cancel()
    assert.is_nil(ok)
    assert.matches("has finished", err)
    peer:close()
    s:close()
    net.run()   -- returns: nothing counted, nothing resumed
    assert.are.equal(before - 1, common.count_fds())
  end)

  it("cancel refuses the running task", function()
    local res
    local t
    t = net.spawn(function() res = { t:cancel() } end)
    net.run()
    assert.is_nil(res[1])
    assert.matches("running", res[2])
  end)

  it("coroutine.close(task) is noticed: not counted, never resumed", function()
    local s = assert(net.listen("127.0.0.1", 0))
    local t1 = net.spawn(function() net.sleep(30) end)
    local t2 = net.spawn(function() s:accept() end)
    net.sleep(0.01)
    local t3 = net.spawn(function() error("never runs") end)
    assert.is_true(coroutine.close(t1))
    assert.is_true(coroutine.close(t2))
    assert.is_true(coroutine.close(t3))
    assert.are.equal(0, #net.tasks())
    local t0 = net.now()
    net.run()                  -- would wait 30 s if t1 still counted
    assert.is_true(net.now() - t0 < 1)
    s:close()
  end)

  it("a script sees a cancelled task end, and exits", function()
    local ok, code, out, err = common.run(common.netlua .. " -e " .. common.q([[
      local t = net.spawn(function() net.sleep(60) end)
      net.spawn(function() net.sleep(0.05); print(tostring(t):match("sleeping")); t:cancel() end)
      net.run(); print(#net.tasks())]]))
    assert.is_true(ok, err)
    assert.are.equal(0, code)
    assert.are.equal("sleeping\n0\n", out)
  end)
end)
