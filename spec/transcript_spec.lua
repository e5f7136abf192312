-- spec/transcript_spec.lua: net.transcript, the swaks-form transcript:
-- lines and escapes, hex dumps, events, time and id columns, colour and
-- NO_COLOR, reply annotations, and the destinations (stderr, function,
-- file, path), last through a real connection on loopback.
local net = require "net"
local common = require "spec.support.common"
local t = require "net.transcript"

-- The lines format gives for one event, without colour.
local function fmt(what, data, opts)
  return t.format(what, data, nil, opts or { color = false })
end

describe("net.transcript", function()
  common.guard_fds(setup, teardown)

  describe("lines", function()
    it("marks directions and ends lines at LF or CR LF", function()
      assert.are.same({ " -> EHLO me" }, fmt("send", "EHLO me\r\n"))
      assert.are.same({ "<- 250-a", "<- 250 b" }, fmt("receive", "250-a\r\n250 b\r\n"))
      assert.are.same({ "<- one", "<- two" }, fmt("receive", "one\ntwo"))
      assert.are.same({ "<- ", "<- x" }, fmt("receive", "\r\nx\n"))
      assert.are.same({ " -> " }, fmt("send", ""))
    end)

    it("makes control bytes visible and doubles backslashes", function()
      assert.are.same({ [[<- a\tb\0c\x1b[1m\\d\r]] }, fmt("receive", "a\tb\0c\27[1m\\d\r"))
      assert.are.same({ [[ -> bare\rcr]] }, fmt("send", "bare\rcr\r\n"))
      assert.are.same({ [[<- \x7f\x01]] }, fmt("receive", "\127\1"))
    end)

    it("keeps valid UTF-8 and escapes invalid high bytes", function()
      assert.are.same({ "<- grüße" }, fmt("receive", "grüße\r\n"))
      assert.are.same({ [[<- a\xffb]] }, fmt("receive", "a\255b"))
    end)
  end)

  describe("hex dump", function()
    it("shows binary data like hexdump -C, prefixed by the direction", function()
      local data = "\0\1\2\3GET\255" .. string.rep("\0", 12) .. "AB"
      assert.is_false(t.istext(data))
      assert.are.same({
        "<- 00000000  00 01 02 03 47 45 54 ff  00 00 00 00 00 00 00 00  |....GET.........|",
        "<- 00000010  00 00 00 00 41 42                                 |....AB|",
      }, fmt("receive", data))
    end)

    it("keeps short or mostly-text data as lines", function()
      assert.is_true(t.istext("\0\1\2\3\4\5"))
      assert.are.same({ [[ -> \0\x01\x02]] }, fmt("send", "\0\1\2"))
      local mostly = string.rep("text line ", 10) .. "\0"
      assert.is_true(t.istext(mostly))
      assert.are.equal(1, #fmt("receive", mostly))
    end)

    it("cuts a long dump at hexmax", function()
      local lines = fmt("send", string.rep("\0", 100), { hexmax = 32 })
      assert.are.equal(3, #lines)
      assert.are.equal(" -> 00000020  ... 68 more bytes", lines[3])
    end)
  end)

  describe("events", function()
    it("has one line per event", function()
      assert.are.same({ "*** resolving mx.example.org" }, fmt("resolving", "mx.example.org"))
      assert.are.same({ "*** connecting to mx.example.org:25 (192.0.2.1)" },
        fmt("connecting", "mx.example.org:25 (192.0.2.1)"))
      assert.are.same({ "*** connected (127.0.0.1:4000 -> 127.0.0.1:25)" },
        fmt("connected", "127.0.0.1:4000 -> 127.0.0.1:25"))
      assert.are.same({ "*** connect x:81 (192.0.2.1): connection refused" },
        fmt("refused", "connect x:81 (192.0.2.1): connection refused"))
      assert.are.same({ "*** connection refused" }, fmt("refused"))
      assert.are.same({ "*** timeout" }, fmt("timeout"))
      assert.are.same({ "*** connection reset by peer" }, fmt("reset"))
      assert.are.same({ "*** closed by peer" }, fmt("peerclosed"))
      assert.are.same({ "*** closed" }, fmt("close"))
      assert.are.same({ "*** shutdown send" }, fmt("shutdown", "send"))
      assert.are.same({ "*** starttls TLSv1.3" }, fmt("starttls", "TLSv1.3"))
      assert.are.same({ "*** odd\\r\\n" }, fmt("odd\r\n"))
      assert.are.same({ "*** accepted (127.0.0.1:25 <- 127.0.0.1:4000)" },
        fmt("accepted", "127.0.0.1:25 <- 127.0.0.1:4000"))
      assert.are.same({ "*** timeout waiting for a line" }, fmt("timeout", "timeout waiting for a line"))
    end)

    it("shows the peer of a datagram, before its text or above its dump", function()
      local o = { color = false }
      assert.are.same({ " -> [127.0.0.1:53] ping" }, t.format("send", "ping\r\n", nil, o, "127.0.0.1:53"))
      assert.are.same({ "<- [[::1]:53] a", "<- [[::1]:53] b" }, t.format("receive", "a\nb\n", nil, o, "[::1]:53"))
      local bin = ("\0\1"):rep(10)
      assert.are.same({ "<- [127.0.0.1:53] 20 bytes",
        "<- 00000000  00 01 00 01 00 01 00 01  00 01 00 01 00 01 00 01  |................|",
        "<- 00000010  00 01 00 01                                       |....|" },
        t.format("receive", bin, nil, o, "127.0.0.1:53"))
      local got = {}
      t.handler(function(l) got[#got + 1] = l end)("send", "x", nil, "127.0.0.1:9")
      assert.are.same({ " -> [127.0.0.1:9] x" }, got)
    end)
  end)

  describe("columns", function()
    it("adds a connection number and the elapsed time", function()
      local now = 10
      local opts = { id = 3, time = true, clock = function() return now end, start = 10 }
      assert.are.same({ "[3]   0.000  -> QUIT" }, fmt("send", "QUIT\r\n", opts))
      now = 11.25
      assert.are.same({ "[3]   1.250 <- 221 bye" }, fmt("receive", "221 bye", opts))
      assert.are.same({ "[3]   1.250 *** closed" }, fmt("close", nil, opts))
    end)

    it("annotates reply lines with their meaning when asked", function()
      local opts = { explain = true }
      assert.are.same({ "<- 250-PIPELINING", "<- 250 OK   (requested action completed)" },
        fmt("receive", "250-PIPELINING\r\n250 OK\r\n", opts))
      assert.are.same({ "<- HTTP/1.1 404 Not Found   (not found)", "<- Server: x" },
        fmt("receive", "HTTP/1.1 404 Not Found\r\nServer: x\r\n", opts))
      assert.are.same({ " -> 250 OK" }, fmt("send", "250 OK", opts))
      assert.are.same({ "<- 299 what" }, fmt("receive", "299 what", opts))
      assert.are.same({ "<- 250 OK" }, fmt("receive", "250 OK"))
    end)
  end)

  describe("colour", function()
    it("colours the markers only when asked", function()
      assert.are.same({ "\27[36m -> \27[0mHELO x" },
        t.format("send", "HELO x", nil, { color = true, env = {} }))
      assert.are.same({ "\27[32m<- \27[0m220 hi" },
        t.format("receive", "220 hi", nil, { color = true, env = {} }))
      assert.are.same({ "\27[33m*** \27[0mclosed" },
        t.format("close", nil, nil, { color = true, env = {} }))
      assert.are.same({ " -> HELO x" }, t.format("send", "HELO x", nil, {}))
      assert.are.same({ " -> HELO x" }, t.format("send", "HELO x"))
    end)

    it("never colours when NO_COLOR is set, and follows isatty for auto", function()
      assert.is_false(t.usecolor({ color = true, env = { NO_COLOR = "1" } }))
      assert.is_false(t.usecolor({ color = true, env = { NO_COLOR = "anything" } }))
      assert.is_true(t.usecolor({ color = true, env = { NO_COLOR = "" } }))
      assert.is_true(t.usecolor({ color = true, env = {} }))
      assert.is_false(t.usecolor({ env = {} }))
      assert.is_false(t.usecolor({ color = false, env = {} }))
      local tty = function() return true end
      local notty = function() return false end
      assert.is_true(t.usecolor({ color = "auto", isatty = tty, env = {} }, io.stderr))
      assert.is_false(t.usecolor({ color = "auto", isatty = notty, env = {} }, io.stderr))
      assert.is_false(t.usecolor({ color = "auto", env = {} }, io.stderr))
      assert.is_false(t.usecolor({ color = "auto", isatty = tty, env = { NO_COLOR = "1" } }))
      local got = {}
      local h = t.handler(function(l) got[#got + 1] = l end,
        { color = true, env = { NO_COLOR = "1" } })
      h("send", "x")
      assert.are.same({ " -> x" }, got)
    end)
  end)

  describe("destinations", function()
    it("calls a function with each line", function()
      local got = {}
      local h = t.handler(function(l) got[#got + 1] = l end)
      h("send", "a\r\nb\r\n")
      h("close")
      assert.are.same({ " -> a", " -> b", "*** closed" }, got)
    end)

    it("writes to a file handle or anything with :write", function()
      local parts = {}
      local sink = { write = function(_, ...) for _, s in ipairs({ ... }) do parts[#parts + 1] = s end end }
      t.handler(sink)("receive", "220 hi\r\n")
      assert.are.equal("<- 220 hi\n", table.concat(parts))
      local f = io.tmpfile()
      t.handler(f)("send", "QUIT")
      f:seek("set")
      assert.are.equal(" -> QUIT\n", f:read("a"))
      f:close()
    end)

    it("appends to a path, and names the path it cannot open", function()
      local path = os.tmpname()
      do
        local f = io.open(path, "w"); f:write("before\n"); f:close()
        local h = t.handler(path)
        h("send", "one")
        h("close")
      end
      collectgarbage(); collectgarbage() -- the handler's file is closed
      local f = io.open(path); local text = f:read("a"); f:close()
      os.remove(path)
      assert.are.equal("before\n -> one\n*** closed\n", text)
      local h, err = t.handler("/nonexistent-dir/transcript.txt")
      assert.is_nil(h)
      assert.matches("^transcript /nonexistent%-dir/transcript%.txt: No such file", err)
    end)

    it("writes to standard error for true", function()
      local ok, _, out, err = common.run(common.q(common.netlua) ..
        [[ -e 'require("net.transcript").handler(true)("send", "hi")']])
      assert.is_true(ok, err)
      assert.are.equal("", out)
      assert.are.equal(" -> hi\n", err)
    end)

    it("colours standard error by default only when isatty says it is a terminal", function()
      local run = function(isatty)
        local ok, _, out, err = common.run(common.q(common.netlua) .. " -e " .. common.q(
          'require("net.transcript").handler(true, { env = {}, isatty = function() return ' .. isatty ..
          ' end })("send", "hi")'))
        assert.is_true(ok, err)
        assert.are.equal("", out)
        return err
      end
      assert.are.equal("\27[36m -> \27[0mhi\n", run("true"))
      assert.are.equal(" -> hi\n", run("false"))
    end)

    it("raises on anything else", function()
      assert.has_error(function() t.handler(42) end,
        "bad argument #1 to 'trace' (true, a function, a file or a path expected, got number)")
      assert.has_error(function() t.handler({}) end)
    end)
  end)

  it("transcribes a real dialogue on loopback through conn:settrace", function()
    local s = assert(net.listen("127.0.0.1", 0))
    local _, port = s:getsockname()
    local task = net.spawn(function()
      local c = assert(s:accept(5))
      c:send("220 ready\r\n")
      c:receive()
      c:send("221 bye\r\n")
      c:close()
    end)
    local got = {}
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:settrace(t.handler(function(l) got[#got + 1] = l end, { explain = true }))
    assert.are.equal("220 ready", c:receive())
    c:send("QUIT\r\n")
    assert.are.equal("221 bye", c:receive())
    c:close()
    s:close()
    net.run()
    assert.is_truthy(task)
    assert.are.same({ "<- 220 ready   (service ready)", " -> QUIT",
      "<- 221 bye   (service closing transmission channel)", "*** closed" }, got)
  end)
end)
