-- spec/fake_spec.lua: net.fake, the scripted peer, against clients made
-- with net in this file. Every wait is bounded; no fd may leak.
local net = require "net"
local common = require "spec.support.common"

-- An SMTP-like opening.
local DIALOGUE = {
  { send = "220 fake ready" },
  { expect = "^HELO (%S+)$" },
  { send = "250 hello" },
  { expect = "^QUIT$" },
  { send = "221 bye" },
}

describe("net.fake", function()
  common.guard_fds(setup, teardown)

  it("passes a client that follows the dialogue", function()
    local fake = assert(net.fake("127.0.0.1", 0, DIALOGUE, { timeout = 5 }))
    local host, port = fake:getsockname()
    assert.are.equal("127.0.0.1", host)
    assert.matches("^net%.fake 127%.0%.0%.1:%d+ %(waiting%)$", tostring(fake))
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:settimeout(5)
    assert.are.equal("220 fake ready\r\n", c:receive("L"))
    c:send("HELO me\r\n")
    assert.are.equal("250 hello", c:receive())
    c:send("QUIT\n")
    assert.are.equal("221 bye", c:receive())
    assert.are.same({ nil, "closed", "" }, { c:receive() })
    c:close()
    assert.is_true(fake:wait(5))
    assert.are.same({ "HELO me", "QUIT" }, fake.received[1])
    assert.matches("%(passed%)$", tostring(fake))
    fake:close()
  end)

  it("fails a wrong client with a message naming the step and what came", function()
    local fake = assert(net.fake("127.0.0.1", 0, DIALOGUE, { timeout = 5 }))
    local _, port = fake:getsockname()
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:settimeout(5)
    c:receive()
    c:send("EHLO me\t\r\n")
    local ok, err = fake:wait(5)
    assert.is_nil(ok)
    assert.are.equal('step 2 (expect "^HELO (%S+)$"): received "EHLO me\\t", no match', err)
    c:close()
    fake:close()
  end)

  it("says what a client sent before it closed early", function()
    local fake = assert(net.fake("127.0.0.1", 0, DIALOGUE, { timeout = 5 }))
    local _, port = fake:getsockname()
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:send("HEL")
    c:close()
    local ok, err = fake:wait(5)
    assert.is_nil(ok)
    assert.are.equal('step 2 (expect "^HELO (%S+)$"): expected a line matching "^HELO (%S+)$", got closed (received "HEL")', err)
    fake:close()
  end)

  it("gives timeout when no client comes", function()
    local fake = assert(net.fake("127.0.0.1", 0, DIALOGUE, { timeout = 0.1 }))
    local t0 = net.now()
    assert.are.same({ nil, "timeout" }, { fake:wait(5) })
    assert.is_true(net.now() - t0 < 2)
    fake:close()
  end)

  it("wait gives timeout when its own time runs out, and close stops the fake", function()
    local fake = assert(net.fake("127.0.0.1", 0, DIALOGUE, { timeout = 5 }))
    assert.are.same({ nil, "timeout" }, { fake:wait(0.05) })
    assert.is_true(fake:close())
    assert.are.same({ nil, "closed" }, { fake:wait(5) })
    assert.are.same({ nil, "closed" }, { fake:close() })
  end)

  it("plays raw sends, receive, sleep, shutdown and several clients", function()
    local fake = assert(net.fake("127.0.0.1", 0, {
      { send = "a\n", raw = true }, { receive = 3 }, { sleep = 0.01 }, { shutdown = "send" },
      { receive = "a" },
    }, { clients = 2, timeout = 5 }))
    local _, port = fake:getsockname()
    for i = 1, 2 do
      local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      c:settimeout(5)
      assert.are.equal("a", c:receive())
      c:send("xyz" .. i .. "rest")
      assert.are.same({ nil, "closed", "" }, { c:receive() })
      c:shutdown("send")
      c:close()
    end
    assert.is_true(fake:wait(5))
    assert.are.same({ { "xyz", "1rest" }, { "xyz", "2rest" } }, fake.received)
    fake:close()
  end)

  it("raises on a malformed dialogue or options", function()
    assert.has_error(function() net.fake("127.0.0.1", 0, "x") end)
    assert.has_error(function() net.fake("127.0.0.1", 0, { { sned = "x" } }) end)
    assert.has_error(function() net.fake("127.0.0.1", 0, { { send = "x", expect = "y" } }) end)
    assert.has_error(function() net.fake("127.0.0.1", 0, { { expect = "[" } }) end)
    assert.has_error(function() net.fake("127.0.0.1", 0, {}, { client = 2 }) end)
  end)
end)
