-- spec/telnet_spec.lua: scripts/telnet.lua: refused (telnet's message,
-- exit 1), usage (exit 2), --help, a session with piped stdin, and one
-- through a pseudo-terminal (Ctrl-] ends it).
local net = require "net"
local common = require "spec.support.common"
local pty = require "spec.support.pty"

local TELNET = common.root .. "/scripts/telnet.lua"

-- A server in its own process (the specs' loop does not run meanwhile):
-- greets, echoes lines as "echo: LINE", closes on "bye"; ends after 30 s.
local SERVER = [[
local s = assert(net.listen("127.0.0.1", 0))
local f = assert(io.open(arg[1], "w")); f:write(select(2, s:getsockname())); f:close()
net.spawn(function() net.sleep(30); os.exit(0) end)
while true do
  local c = s:accept()
  net.spawn(function()
    c:send("220 hello\r\n")
    for l in c:lines() do
      if l == "bye" then c:send("221 bye\r\n") break end
      c:send("echo: " .. l .. "\r\n")
    end
    c:close()
  end)
end
]]

describe("scripts/telnet.lua", function()
  local port, dir, pid
  setup(function()
    dir = pty.tmpdir()
    local f = assert(io.open(dir .. "/server.lua", "w")); f:write(SERVER); f:close()
    os.execute(common.q(common.netlua) .. " " .. common.q(dir .. "/server.lua") .. " " .. common.q(dir .. "/port")
      .. " >/dev/null 2>&1 & echo $! >" .. common.q(dir .. "/pid"))
    for _ = 1, 100 do
      local p = io.open(dir .. "/port")
      if p then port = tonumber(p:read("a")); p:close() end
      if port then break end
      os.execute("sleep 0.05")
    end
    local p = assert(io.open(dir .. "/pid")); pid = tonumber(p:read("a")); p:close()
    assert(port, "the server did not start")
  end)
  teardown(function()
    if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
    pty.rmdir(dir)
  end)

  it("says Unable to connect as telnet does, and exits 1", function()
    local s = assert(net.listen("127.0.0.1", 0))
    local _, free = s:getsockname()
    s:close()
    local _, code, out, err = common.run(common.netlua .. " " .. TELNET .. " 127.0.0.1 " .. free)
    assert.are.equal(1, code)
    assert.are.equal("Trying 127.0.0.1...\n", out)
    assert.are.equal("telnet.lua: Unable to connect to remote host: Connection refused\n", err)
  end)

  it("exits 2 on usage errors, 0 with --help", function()
    local _, code, _, err = common.run(common.netlua .. " " .. TELNET)
    assert.are.equal(2, code)
    assert.truthy(err:find("usage: telnet.lua [--tls [--cacert FILE | -k]] HOST [PORT]", 1, true), err)
    _, code = common.run(common.netlua .. " " .. TELNET .. " 127.0.0.1 99999")
    assert.are.equal(2, code)
    _, code = common.run(common.netlua .. " " .. TELNET .. " -x 127.0.0.1")
    assert.are.equal(2, code)
    local out
    _, code, out = common.run(common.netlua .. " " .. TELNET .. " --help")
    assert.are.equal(0, code)
    assert.truthy(out:find("usage: telnet.lua", 1, true), out)
  end)

  it("with piped stdin: sends each line with CRLF, prints the answers", function()
    local _, code, out, err = common.run(common.netlua .. " " .. TELNET .. " 127.0.0.1 " .. port, "one\nbye\n")
    assert.are.equal(0, code, err)
    assert.are.equal("Trying 127.0.0.1...\nConnected to 127.0.0.1.\nEscape character is '^]'.\n"
      .. "220 hello\r\necho: one\r\n221 bye\r\n\n*** connection closed by foreign host\n", out)
  end)

  it("through a terminal: lines edited and sent, Ctrl-] closes", function()
    local r = pty.run({
      { expect = "Escape character is '^]'." }, { expect = "220 hello" },
      { send = "typed\r" }, { expect = "echo: typed" },
      { send = "\29" }, { expect = "Connection closed." },
    }, { args = { TELNET, "127.0.0.1", tostring(port) }, no_eof = true })
    assert(r.ok, r.why)
    assert.are.equal(0, r.exit)
    local _, shown = r.out:gsub("Escape character is", "")
    assert.are.equal(1, shown, r.out)   -- once (the script and interact used to both say it)
  end)
end)
