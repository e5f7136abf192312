-- spec/serve_spec.lua: net.serve, a task per client, against clients made
-- with net in this file and scripts run by the netlua program. Every wait is
-- bounded; no fd may leak.
local net = require "net"
local common = require "spec.support.common"

-- Run a Lua program text with the netlua program; ok, code, stdout, stderr.
local function run_script(text, prefix)
  local path = os.tmpname()
  local f = assert(io.open(path, "w")); f:write(text); f:close()
  local r = table.pack(common.run((prefix or "") .. "timeout 20 " .. common.q(common.netlua) .. " " .. path))
  os.remove(path)
  return table.unpack(r, 1, r.n)
end

-- Echo lines upper-cased until the peer closes.
local function upper_echo(c)
  for line in c:lines() do c:send(line:upper() .. "\n") end
end

describe("net.serve", function()
  common.guard_fds(setup, teardown)

  it("serves clients concurrently on port 0 and closes quietly", function()
    local srv = assert(net.serve("127.0.0.1", 0, function(c)
      local line = c:receive()
      net.sleep(0.2)            -- every client waits: served at once, 5 take ~0.2 s
      c:send("hi " .. line .. "\n")
    end))
    local host, port = srv:getsockname()
    assert.are.equal("127.0.0.1", host)
    assert.is_true(port > 0)
    assert.matches("^net%.serve 127%.0%.0%.1:%d+ %(0 clients%)$", tostring(srv))
    local got, t0 = {}, net.now()
    local done = 0
    for i = 1, 5 do
      net.spawn(function()
        local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
        c:settimeout(5)
        c:send("n" .. i .. "\n")
        got[i] = c:receive()
        c:close()
        done = done + 1
      end)
    end
    local limit = net.now() + 5
    while done < 5 and net.now() < limit do net.sleep(0.01) end
    assert.is_true(net.now() - t0 < 0.9, "clients were not served concurrently")
    for i = 1, 5 do assert.are.equal("hi n" .. i, got[i]) end
    assert.is_true(srv:close())
    assert.are.same({ nil, "closed" }, { srv:close() })
    assert.matches("%(closed%)$", tostring(srv))
  end)

  it("keeps serving after a handler error, which is reported with its traceback", function()
    local ok, code, out, err = run_script([[
      local srv = assert(net.serve("127.0.0.1", 0, function(c)
        local l = c:receive()
        if l == "boom" then error("kaboom") end
        c:send("ok " .. l .. "\n")
      end))
      local _, port = srv:getsockname()
      for _, w in ipairs{"a", "boom", "b"} do
        local c = assert(net.connect("127.0.0.1", port, {timeout = 5}))
        c:settimeout(5)
        c:send(w .. "\n")
        print(c:receive())
        c:close()
      end
      srv:close()
    ]])
    assert.is_true(ok, err)
    assert.are.equal(0, code)
    assert.are.equal("ok a\nnil\tclosed\t\nok b\n", out)
    assert.matches("error in net.serve handler %(127%.0%.0%.1:%d+, client 127%.0%.0%.1:%d+%): [^\n]*kaboom", err)
    assert.matches("stack traceback", err)
    assert.not_matches("error in task", err)
  end)

  it("ends its task without an error when closed while accepting", function()
    local ok, code, out, err = run_script([[
      local srv = assert(net.serve("127.0.0.1", 0, function(c) c:receive() end))
      net.sleep(0.05)
      print(#net.tasks() >= 1 and "running" or "none")
      srv:close()
      net.run()
      print("done")
    ]])
    assert.is_true(ok, err)
    assert.are.equal(0, code)
    assert.are.equal("running\ndone\n", out)
    assert.are.equal("", err)
  end)

  it("returns nil, closed from an accept waiting when its server is closed", function()
    local s = assert(net.listen("127.0.0.1", 0))
    local got
    net.spawn(function() got = table.pack(s:accept()) end)
    net.sleep(0.02)
    s:close()
    net.run()
    assert.are.same({ nil, "closed", n = 2 }, got)
  end)

  it("backs off instead of spinning when accept runs out of descriptors", function()
    local ok, code, out, err = run_script([[
      local served = 0
      local srv = assert(net.serve("127.0.0.1", 0, function(c) c:receive(); served = served + 1 end))
      local _, port = srv:getsockname()
      local hold = {}
      for _ = 1, 40 do  -- more than the limit allows: accept meets EMFILE
        local c = net.connect("127.0.0.1", port, { timeout = 1 })
        if not c then break end
        hold[#hold + 1] = c
      end
      local cpu0 = os.clock()
      net.sleep(0.5)
      local cpu = os.clock() - cpu0
      for _, c in ipairs(hold) do c:send("x\n") end
      for i = 1, #hold // 2 do hold[i]:close() end
      local limit = net.now() + 5
      while served < #hold and net.now() < limit do net.sleep(0.02) end
      for _, c in ipairs(hold) do c:close() end
      srv:close()
      print(#hold > 15, served == #hold, cpu < 0.25 or cpu)
    ]], "ulimit -n 40; ")
    assert.is_true(ok, err)
    assert.are.equal(0, code)
    assert.are.equal("true\ttrue\ttrue\n", out)
  end)

  it("close ends the clients being served and gives back every descriptor", function()
    local n0 = common.count_fds()
    local srv = assert(net.serve("127.0.0.1", 0, upper_echo, { timeout = 5 }))
    local _, port = srv:getsockname()
    local cs = {}
    for i = 1, 3 do
      cs[i] = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      cs[i]:settimeout(5)
      cs[i]:send("x" .. i .. "\n")
      assert.are.equal("X" .. i, cs[i]:receive())
    end
    assert.matches("%(3 clients%)", tostring(srv))
    assert.are.equal(3, srv:clients())
    srv:close()
    for i = 1, 3 do
      assert.are.same({ nil, "closed", "" }, { cs[i]:receive() })
      cs[i]:close()
    end
    net.run()
    assert.are.equal(n0, common.count_fds())
  end)

  it("serves at most max clients at once; the others wait their turn", function()
    local active, peak = 0, 0
    local srv = assert(net.serve("127.0.0.1", 0, function(c)
      active = active + 1
      if active > peak then peak = active end
      net.sleep(0.05)
      c:send("done\n")
      active = active - 1
    end, { max = 2 }))
    local _, port = srv:getsockname()
    local ok = 0
    for _ = 1, 6 do
      net.spawn(function()
        local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
        c:settimeout(5)
        if c:receive() == "done" then ok = ok + 1 end
        c:close()
      end)
    end
    local limit = net.now() + 5
    while ok < 6 and net.now() < limit do net.sleep(0.01) end
    srv:close()
    assert.are.equal(6, ok)
    assert.are.equal(2, peak)
  end)

  it("answers every client when tasks take waiting clients over from the backlog (no client left unserved)", function()
    -- A client's task takes the next waiting client itself, up to
    -- serve.reuse in a row. With max = 4 the accepting task stops while 4
    -- are served, so the others wait in the backlog and the clients' tasks
    -- hand them over; reuse = 2 makes the end of a run come often. Each
    -- client must get its answer and be closed.
    local serve = require "net.serve"
    local reuse = serve.reuse
    serve.reuse = 2
    local served = 0
    local srv = assert(net.serve("127.0.0.1", 0, function(c)
      local line = c:receive()
      net.sleep(0.005)
      if line then c:send(line .. " ok\n") end
      served = served + 1
    end, { max = 4 }))
    local _, port = srv:getsockname()
    local answered = 0
    for i = 1, 40 do
      net.spawn(function()
        local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
        c:settimeout(5)
        c:send("client " .. i .. "\n")
        if c:receive() == "client " .. i .. " ok" then answered = answered + 1 end
      end)
    end
    local limit = net.now() + 10
    while (answered < 40 or srv:clients() > 0) and net.now() < limit do net.sleep(0.01) end
    srv:close()
    serve.reuse = reuse
    assert.are.equal(40, answered)
    assert.are.equal(40, served)
  end)

  it("serves clients that come one by one with the same task, parked between them", function()
    -- A client's task with no client waiting parks among the server's idle
    -- ones, and the accepting task hands it the next client: no task is
    -- started per client.
    local threads, n = {}, 0
    local srv = assert(net.serve("127.0.0.1", 0, function(c)
      threads[coroutine.running()] = true
      c:send(c:receive() .. " ok\n")
    end))
    finally(function() srv:close() end)   -- also when an assertion fails
    local _, port = srv:getsockname()
    for i = 1, 20 do
      local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      c:settimeout(5)
      c:send("client " .. i .. "\n")
      assert.are.equal("client " .. i .. " ok", c:receive())
      net.sleep(0.002)   -- its task is done with it and parks before the next comes
    end
    for _ in pairs(threads) do n = n + 1 end
    assert.are.equal(1, n)
    local idle
    for _, t in ipairs(net.tasks()) do
      if tostring(t):find("waiting for the next client", 1, true) then idle = t end
    end
    assert.truthy(idle, "no idle client task in net.tasks()")
    assert.matches("^task %d+: net%.serve 127%.0%.0%.1:%d+: waiting for the next client", tostring(idle))
    srv:close()
  end)

  it("ends its idle client tasks when closed, or after serve.idle_time, and skips a cancelled one", function()
    local serve = require "net.serve"
    local idle_time, servers = serve.idle_time, {}
    finally(function()   -- also when an assertion fails
      serve.idle_time = idle_time
      for _, srv in ipairs(servers) do srv:close() end
    end)
    -- Tasks of this server still there after `limit` seconds (bounded wait).
    local function remaining(name, limit)
      local stop, left = net.now() + limit, nil
      repeat
        net.sleep(0.01)
        left = 0
        for _, t in ipairs(net.tasks()) do
          if tostring(t):find(name, 1, true) then left = left + 1 end
        end
      until left == 0 or net.now() > stop
      return left
    end
    local function exchange(port, text)
      local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      c:settimeout(5)
      c:send(text .. "\n")
      return c:receive()
    end
    for _, ending in ipairs { "close", "time", "cancel" } do
      serve.idle_time = ending == "time" and 0.1 or 60
      local srv = assert(net.serve("127.0.0.1", 0, upper_echo))
      servers[#servers + 1] = srv
      local _, port = srv:getsockname()
      local name = "127.0.0.1:" .. port
      assert.are.equal("HI", exchange(port, "hi"))
      net.sleep(0.01)
      if ending == "close" then
        srv:close()
        assert.are.equal(0, remaining(name, 2))
      elseif ending == "time" then
        assert.are.equal(0, remaining("waiting for the next client", 2))
        assert.are.equal("AGAIN", exchange(port, "again"))   -- a new task serves the next
        srv:close()
      else
        local parked
        for _, t in ipairs(net.tasks()) do
          if tostring(t):find("waiting for the next client", 1, true) then parked = t end
        end
        assert.truthy(parked, "no idle client task")
        assert.is_true(parked:cancel())
        assert.are.equal("AGAIN", exchange(port, "again"))   -- not handed to the cancelled one
        srv:close()
        assert.are.equal(0, remaining(name, 2))
      end
    end
  end)

  it("closes when its accepting task is cancelled: the port is free again (QA)", function()
    local srv = assert(net.serve("127.0.0.1", 0, upper_echo))
    local _, port = srv:getsockname()
    net.sleep(0.01)   -- its task waits in accept, as net.tasks() shows it
    assert.is_true(srv.task:cancel())
    assert.matches("%(closed%)$", tostring(srv))
    local again = assert(net.listen("127.0.0.1", port))   -- the port is free
    again:close()
  end)

  it("applies the timeout to each call on a client's connection", function()
    local got
    local srv = assert(net.serve("127.0.0.1", 0, function(c)
      got = table.pack(c:receive())
    end, { timeout = 0.1 }))
    local _, port = srv:getsockname()
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:settimeout(5)
    assert.are.same({ nil, "closed", "" }, { c:receive() })  -- closed after the handler's timeout
    c:close()
    srv:close()
    assert.are.equal("timeout", got[2])
  end)

  it("fails as net.listen does, and raises on misuse", function()
    local s = assert(net.listen("127.0.0.1", 0))
    local _, port = s:getsockname()
    local srv, err = net.serve("127.0.0.1", port, function() end)
    assert.is_nil(srv)
    assert.matches("address already in use", err)
    s:close()
    assert.has_error(function() net.serve("127.0.0.1", 0, 42) end)
    assert.has_error(function() net.serve("127.0.0.1", 0, function() end, { bogus = 1 }) end)
    assert.has_error(function() net.serve("127.0.0.1", 0, function() end, { tls = true }) end,
      "bad argument #4 to 'serve' (tls must be a table {cert = ..., key = ...})")
    assert.has_error(function() net.serve("127.0.0.1", 0, function() end, { tls = {} }) end)
    assert.has_error(function() net.serve("127.0.0.1", 0, function() end, { handshake = 0 }) end)
  end)
  it("task:cancel() of a client's task closes its connection and uncounts it (QA)", function()
    local srv = assert(net.serve("127.0.0.1", 0, upper_echo))
    local _, port = srv:getsockname()
    local a = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    finally(function() a:close(); srv:close() end)  -- one finally: busted keeps the last
    a:settimeout(1)
    a:send("hi\n")
    assert.are.equal("HI", a:receive())
    local client
    for _, t in ipairs(net.tasks()) do
      if tostring(t):find("net.serve client", 1, true) then client = t end
    end
    assert.truthy(client, "no client task")
    assert.are.equal(1, srv:clients())
    assert.is_true(client:cancel())
    assert.are.equal(0, srv:clients())
    assert.matches("%(0 clients%)$", tostring(srv))
    assert.are.same({ nil, "closed", "" }, { a:receive() })
  end)
end)
