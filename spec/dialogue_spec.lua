-- spec/dialogue_spec.lua: net.dialogue's expect and reply against real
-- peers on loopback (servers written with `net`, spawned as tasks). Every
-- wait is bounded in time; no fd may leak.
local net = require "net"
local common = require "spec.support.common"
local d = require "net.dialogue"

-- A peer on 127.0.0.1 that runs script(conn) for one client, then closes;
-- returns a client connected to it (timeout 5 s) and the server.
local function peer(script)
  local s = assert(net.listen("127.0.0.1", 0))
  local _, port = s:getsockname()
  net.spawn(function()
    local c = s:accept(5)
    s:close()
    if not c then return end
    script(c)
    c:close()
  end)
  return assert(net.connect("127.0.0.1", port, { timeout = 5 }))
end

-- A peer that sends `text` and closes at once (or after `hold` seconds).
local function says(text, hold)
  return peer(function(c)
    c:send(text)
    if hold then net.sleep(hold) end
  end)
end

local timed = common.timed

describe("net.dialogue", function()
  common.guard_fds(setup, teardown)
  after_each(function()
    net.run()
  end)

  describe("expect", function()
    it("returns the index, the line and the captures of the first match", function()
      local c <close> = says("220 mx ESMTP ready\r\n")
      assert.are.same({ 1, "220 mx ESMTP ready", "mx" }, { d.expect(c, "^220 (%S+)") })
    end)

    it("skips lines until one of a list matches, and says which", function()
      local c <close> = says("banner\r\nnoise 1\r\nuser 42 logged in\r\n+OK done\r\n")
      local pats = { "^%-ERR (.*)", "^user (%d+) (%a+)", "^%+OK" }
      assert.are.same({ 2, "user 42 logged in", "42", "logged" }, { d.expect(c, pats) })
      assert.are.same({ 3, "+OK done" }, { d.expect(c, pats) })
    end)

    it("returns position captures as numbers", function()
      local c <close> = says("key=value\n")
      assert.are.same({ 1, "key=value", 5 }, { d.expect(c, "=()") })
    end)

    it("times out with the lines that came, the partial one last", function()
      local c <close> = says("one\r\ntwo\r\nPassword: ", 0.6)
      c:settimeout(3)
      local took, i, err, lines = timed(d.expect, c, "^never", 0.2)
      assert.is_nil(i)
      assert.are.equal("timeout", err)
      assert.are.same({ "one", "two", "Password: ", partial = "Password: " }, lines)
      assert.is_true(took >= 0.19 and took < 1, took)
      assert.are.equal(3, c:gettimeout()) -- restored
    end)

    it("has one deadline for the whole call against a slow drip", function()
      local c <close> = peer(function(p)
        for i = 1, 20 do
          if not p:send("tick " .. i .. "\r\n") then return end
          net.sleep(0.05)
        end
      end)
      local took, i, err, lines = timed(d.expect, c, "^never", 0.3)
      assert.is_nil(i)
      assert.are.equal("timeout", err)
      assert.is_true(#lines >= 2 and #lines < 20, #lines)
      assert.is_true(took < 0.8, took)
      -- without a timeout argument, the connection's timeout is the deadline
      c:settimeout(0.3)
      took, i, err = timed(d.expect, c, "^never")
      assert.are.same({ nil, "timeout" }, { i, err })
      assert.is_true(took < 0.8, took)
      assert.are.equal(0.3, c:gettimeout())
    end)

    it("returns closed with the lines when the peer closes", function()
      local c <close> = says("a\r\nb\r\n")
      assert.are.same({ nil, "closed", { "a", "b" } }, { d.expect(c, "^z", 5) })
      assert.are.equal(5, c:gettimeout())
    end)

    it("matches a last line without newline at the close", function()
      local c <close> = says("a\r\nbye now")
      assert.are.same({ 1, "bye now", "now" }, { d.expect(c, "^bye (%a+)", 5) })
      local c2 <close> = says("a\r\nlast")
      assert.are.same({ nil, "closed", { "a", "last" } },
        { d.expect(c2, "^z", 5) })
    end)

    it("reports a line that is too long", function()
      local c <close> = says(string.rep("x", 100) .. "\r\n")
      c:setlinelimit(10)
      local i, err, lines = d.expect(c, "^y", 5)
      assert.is_nil(i)
      assert.are.equal("line too long", err)
      assert.is_table(lines)
    end)

    it("keeps at most the last 1000 unmatched lines", function()
      local c <close> = peer(function(p)
        local t = {}
        for i = 1, 1500 do t[i] = "line " .. i .. "\r\n" end
        p:send(table.concat(t))
      end)
      local i, err, lines = d.expect(c, "^never", 5)
      assert.are.same({ nil, "closed" }, { i, err })
      assert.are.equal(1000, #lines)
      assert.are.equal("line 501", lines[1])
      assert.are.equal("line 1500", lines[1000])
    end)

    it("restores the timeout when reading raises", function()
      local c <close> = says("hello\r\n", 0.2)
      c:settimeout(4)
      c:settrace(function(what) if what == "receive" then error("trace failed") end end)
      assert.has_error(function() d.expect(c, "^z", 0.5) end)
      c:settrace(nil)
      assert.are.equal(4, c:gettimeout())
    end)

    it("raises on a bad pattern argument before reading anything", function()
      local c <close> = says("still here\r\n")
      assert.has_error(function() d.expect(c, 42) end,
        "bad argument #1 to 'expect' (pattern or non-empty list of patterns expected, got number)")
      assert.has_error(function() d.expect(c, {}) end,
        "bad argument #1 to 'expect' (pattern or non-empty list of patterns expected, got empty table)")
      assert.has_error(function() d.expect(c, { "ok", true }) end,
        "bad argument #1 to 'expect' (pattern 2 is a boolean, not a string)")
      assert.has_error(function() d.expect(c, { "x", "(%d+" }) end,
        [[bad argument #1 to 'expect' (pattern "(%d+": unfinished capture)]])
      assert.has_error(function() d.expect(c, "z[a-") end,
        [[bad argument #1 to 'expect' (pattern "z[a-": malformed pattern (missing ']'))]])
      assert.has_error(function() d.expect(c, "x", -1) end,
        "bad argument #2 to 'expect' (non-negative number of seconds expected, got -1)")
      assert.has_error(function() d.expect(c, "x", "soon") end,
        "bad argument #2 to 'expect' (non-negative number of seconds expected, got string)")
      assert.are.same({ 1, "still here" }, { d.expect(c, "here", 5) })
    end)
  end)

  describe("checkpattern", function()
    it("accepts what Lua accepts and names what it refuses", function()
      for _, p in ipairs({ "^a$", "%d+", "[]]", "[^%]]", "(a)(b)%2%1", "()", "%bxy",
        "%f[%w]x", "a$b", "[%a-z_]*", "x-" }) do
        assert.is_nil(d.checkpattern(p), p)
        assert.is_true(pcall(string.find, "some (xy) text ab", p))
      end
      local bad = {
        ["%"] = "malformed pattern (ends with '%')",
        ["[a"] = "malformed pattern (missing ']')",
        ["[]"] = "malformed pattern (missing ']')",
        ["a)"] = "invalid pattern capture",
        ["(a"] = "unfinished capture",
        ["%1"] = "invalid capture index %1",
        ["(a%1)"] = "invalid capture index %1",
        ["%0"] = "invalid capture index %0",
        ["%bx"] = "missing arguments to '%b'",
        ["%fx"] = "missing '[' after '%f' in pattern",
        [string.rep("()", 33)] = "too many captures",
      }
      for p, msg in pairs(bad) do
        assert.are.equal(msg, d.checkpattern(p), p)
      end
    end)
  end)

  describe("reply", function()
    it("reads a one-line and a multi-line reply", function()
      local c <close> = says("220 mx.example.org ESMTP\r\n250-mx hello\r\n250-PIPELINING\r\n250 8BITMIME\r\n354\r\n")
      assert.are.same({ 220, { "mx.example.org ESMTP" } }, { d.reply(c) })
      assert.are.same({ 250, { "mx hello", "PIPELINING", "8BITMIME" } }, { d.reply(c) })
      assert.are.same({ 354, { "" } }, { d.reply(c) })
      assert.are.same({ nil, "closed", {} }, { d.reply(c) })
    end)

    it("takes a last line without newline at the close", function()
      local c <close> = says("221-bye\r\n221 now")
      assert.are.same({ 221, { "bye", "now" } }, { d.reply(c) })
    end)

    it("calls lines without a code, another code or separator malformed", function()
      local cases = {
        ["hello\r\n"] = 'malformed reply: "hello"',
        ["25 x\r\n"] = 'malformed reply: "25 x"',
        ["2500 x\r\n"] = 'malformed reply: "2500 x"',
        ["250_x\r\n"] = 'malformed reply: "250_x"',
        ["250-a\r\n251 b\r\n"] = 'malformed reply: "251 b" (expected code 250)',
        ["250-a\r\n\tb\0\r\n"] = [[malformed reply: "\tb\0"]],
      }
      for text, msg in pairs(cases) do
        local c <close> = says(text)
        local code, err = d.reply(c, 5)
        assert.is_nil(code, text)
        assert.are.equal(msg, err)
      end
      local c <close> = says(string.rep("x", 300) .. "\r\n")
      local _, err = d.reply(c, 5)
      assert.are.equal('malformed reply: "' .. string.rep("x", 200) .. '..."', err)
    end)

    it("times out with the lines so far and the partial line", function()
      local c <close> = says("250-first\r\n250-sec", 0.6)
      local took, code, err, lines = timed(d.reply, c, 0.2)
      assert.are.same({ nil, "timeout", { "first", partial = "250-sec" } }, { code, err, lines })
      assert.is_true(took < 1, took)
      assert.are.equal(5, c:gettimeout())
    end)

    it("returns closed when the peer closes in the middle", function()
      local c <close> = says("250-first\r\n")
      assert.are.same({ nil, "closed", { "first" } }, { d.reply(c) })
    end)

    it("refuses a reply of more than 1000 lines", function()
      local c <close> = peer(function(p)
        local t = {}
        for i = 1, 1200 do t[i] = "250-line " .. i .. "\r\n" end
        p:send(table.concat(t))
      end)
      local code, err, lines = d.reply(c, 5)
      assert.is_nil(code)
      assert.are.equal("reply too long (more than 1000 lines)", err)
      assert.are.equal(1000, #lines)
    end)

    it("raises on a bad timeout", function()
      local c <close> = says("250 ok\r\n")
      assert.has_error(function() d.reply(c, {}) end,
        "bad argument #1 to 'reply' (non-negative number of seconds expected, got table)")
      assert.are.same({ 250, { "ok" } }, { d.reply(c) })
    end)
  end)
end)
