-- spec/interact_spec.lua: conn:interact, telnet mode: through a
-- pseudo-terminal at the prompt (a line typed goes out, the answer shows,
-- Ctrl-] gives the prompt back with the connection open), and with piped
-- stdin in a script (lines sent with CRLF, a line with the escape byte ends
-- it, end of input half-closes and prints until the peer closes).
local common = require "spec.support.common"
local pty = require "spec.support.pty"

-- An echo server in its own netlua process (the specs' own loop does not
-- run while a session is driven): greets "hello", answers each line with
-- "echo: LINE|" (the | shows the CR was taken off), "bye" closes, and
-- says "eof" when the client half-closes. Writes its port to a file; ends
-- by itself after 30 s.
local SERVER = [[
local s = assert(net.listen("127.0.0.1", 0))
local f = assert(io.open(arg[1], "w")); f:write(select(2, s:getsockname())); f:close()
net.spawn(function() net.sleep(30); os.exit(0) end)
while true do
  local c = s:accept()
  net.spawn(function()
    c:send("hello\r\n")
    while true do
      local l, err = c:receive("L")
      if not l then
        if err == "closed" then c:send("eof\r\n") end
        break
      end
      l = l:gsub("\r\n$", "|"):gsub("\n$", "")
      if l == "bye|" then c:send("bye!\r\n") break end
      c:send("echo: " .. l .. "\r\n")
    end
    c:close()
  end)
end
]]

--- Start the server; returns its port and a function that stops it.
local function start_server()
  local dir = pty.tmpdir()
  local file, portfile, pidfile = dir .. "/server.lua", dir .. "/port", dir .. "/pid"
  local f = assert(io.open(file, "w")); f:write(SERVER); f:close()
  os.execute(common.q(common.netlua) .. " " .. common.q(file) .. " " .. common.q(portfile)
    .. " >/dev/null 2>&1 & echo $! >" .. common.q(pidfile))
  local port
  for _ = 1, 100 do
    local p = io.open(portfile)
    if p then port = tonumber(p:read("a")); p:close() end
    if port then break end
    os.execute("sleep 0.05")
  end
  assert(port, "the echo server did not start")
  local p = assert(io.open(pidfile)); local pid = tonumber(p:read("a")); p:close()
  return port, function()
    os.execute("kill " .. pid .. " 2>/dev/null")
    pty.rmdir(dir)
  end
end

describe("conn:interact", function()
  local port, stop, fds_before
  setup(function()
    collectgarbage(); collectgarbage()
    fds_before = common.count_fds()
    port, stop = start_server()
  end)
  teardown(function()
    stop()
    collectgarbage(); collectgarbage()
    assert.are.equal(fds_before, common.count_fds())
  end)

  it("at the prompt: a line goes out, the answer shows, Ctrl-] returns with the connection open", function()
    local r = pty.run({
      { expect = "> " },
      { send = ('c = net.connect("127.0.0.1", %d)\r'):format(port) }, { expect = "> " },
      { send = "c:interact()\r" }, { expect = "Escape character is '^]'." }, { expect = "hello" },
      { send = "first line\r" }, { expect = "echo: first line|" },
      { send = "\29" }, { expect = "true" }, { expect = "> " },
      { send = 'c:send("bye\\r\\n"), c:receive()\r' }, { expect = "bye!" }, { expect = "> " },
      { send = "c:interact()\r" }, { expect = "connection closed by foreign host" },
      { expect = "closed" }, { expect = "> " },
    })
    assert(r.ok, r.why)
    assert.are.equal(0, r.exit)
    local out = pty.clean(r.out)
    assert.truthy(out:find("5\tbye!", 1, true), out)
  end)

  it("at the prompt: Ctrl-C returns nil, interrupted, sending nothing", function()
    local r = pty.run({
      { expect = "> " },
      { send = ('c = net.connect("127.0.0.1", %d)\r'):format(port) }, { expect = "> " },
      { send = 'c:interact("x")\r' }, { expect = "Escape character is 'x'." }, { expect = "hello" },
      -- (a Ctrl-C while the printing task runs would stop that task: let it
      -- finish printing first)
      { sleep = 0.3 }, { send = "unsent" }, { send = "\3" }, { expect = "interrupted" }, { expect = "> " },
      { send = 'c:send("next\\r\\n"), c:receive()\r' }, { expect = "echo: next|" },
      { expect = "> " },
    })
    assert(r.ok, r.why)
    assert.falsy(r.out:find("echo: unsent", 1, true), r.out)
  end)

  it("in a script with piped stdin: lines with CRLF; a line with the escape ends it", function()
    local ok, code, out, err = common.run(common.netlua .. " -e " .. common.q(([[
      local c = assert(net.connect("127.0.0.1", %d))
      assert(c:receive() == "hello")
      print(c:interact())
      c:send("after\r\n")
      for _ = 1, 3 do
        local l = c:receive()
        print(l)
        if l == "echo: after|" then break end
      end]]):format(port)), "one\ntwo\n\29\nnot sent\n")
    assert.is_true(ok, err)
    assert.are.equal(0, code)
    assert.are.equal("", err)
    -- what arrived before the escape is printed by interact or left for
    -- the script to read: either way, in order
    assert.truthy(out:find("true\n", 1, true), out)
    local plain = out:gsub("\r", ""):gsub("true\n", "")
    assert.are.equal("echo: one|\necho: two|\necho: after|\n", plain)
    assert.falsy(out:find("not sent", 1, true), out)
  end)

  it("in a script: end of input half-closes and prints until the peer closes", function()
    local ok, code, out, err = common.run(common.netlua .. " -e " .. common.q(([[
      local c = assert(net.connect("127.0.0.1", %d))
      print(c:interact())]]):format(port)), "one\n")
    assert.is_true(ok, err)
    assert.are.equal(0, code)
    assert.are.equal("hello\r\necho: one|\r\neof\r\n\n*** connection closed by foreign host\nnil\tclosed\n", out)
  end)

  it("under stock lua5.4 with net.so: plain reads of stdin", function()
    local ok, code, out, err = common.run(common.stock_lua() .. " -e " .. common.q(([[
      local net = require "net"
      local c = assert(net.connect("127.0.0.1", %d))
      print(c:interact())]]):format(port)), "one\nbye\n")
    assert.is_true(ok, err)
    assert.are.equal(0, code)
    assert.are.equal("hello\r\necho: one|\r\nbye!\r\n\n*** connection closed by foreign host\nnil\tclosed\n", out)
  end)

  it("on a connection closed here: nil, closed at once, no foreign host blamed (QA)", function()
    local ok, code, out, err = common.run(common.netlua .. " -e " .. common.q(([[
      local e = assert(net.connect("127.0.0.1", %d))
      e:close()
      print(e:interact())]]):format(port)), "one\n")
    assert.is_true(ok, err)
    assert.are.equal(0, code)
    assert.are.equal("", err)   -- no escape hint either: stdin is no terminal
    assert.are.equal("nil\tclosed\n", out)
  end)

  it("checks its argument and refuses to run in a task", function()
    local ok, code, _, err = common.run(common.netlua .. " -e " .. common.q(([[
      local c = assert(net.connect("127.0.0.1", %d))
      assert(not pcall(c.interact, c, "ab"))
      net.spawn(function() c:interact() end)]]):format(port)))
    assert.falsy(ok)
    assert.are.equal(1, code)
    assert.truthy(err:find("only outside tasks", 1, true), err)
  end)
end)
