-- spec/trace_spec.lua: transcripts of real sockets (issue #9): the events
-- the C side reports (resolving, connecting, connected, refused, timeout,
-- closed by peer, reset, accepted, closed), directions, escapes, hex dumps,
-- UDP datagrams with their peer, colour only on a terminal, net.trace as a
-- global switch (function, path, off), and conn:expect / conn:reply as
-- methods. Peers: `net` servers, nginx, and a python one-liner that resets.
-- Every wait is bounded; no fd may leak.
local net = require "net"
local common = require "spec.support.common"
local helper = require "spec.support.tcp_helper"
local pty = require "spec.support.pty"

local serve = helper.serve

-- A list of lines and a function that appends to it.
local function collector()
  local lines = {}
  return lines, function(l) lines[#lines + 1] = l end
end

local closed_port = common.closed_port

-- "LOCAL -> PEER" of a connection, as the transcript writes it.
local function arrow(c)
  local lh, lp = c:getsockname()
  local ph, pp = c:getpeername()
  return lh .. ":" .. lp .. " -> " .. ph .. ":" .. pp
end

-- Let the loop run a little (tasks finish their sends and closes).
local function settle(seconds)
  net.sleep(seconds or 0.05)
end

-- Open descriptors once the server tasks of the last test have ended.
local function fds()
  settle(0.1)
  return common.count_fds()
end

-- Each case of the enclosing describe ends with tracing off and no
-- descriptor left over.
local function each_case_clean()
  local n0
  before_each(function() n0 = fds() end)
  after_each(function()
    net.trace(false)
    assert.are.equal(n0, fds())
  end)
end

describe("transcripts of connections", function()
  each_case_clean()

  it("shows a whole dialogue with a net server: events, directions, close by peer", function()
    local s, port = serve(function(c)
      c:send("220 ready\r\n")
      local l = c:receive()
      c:send("250 hello " .. tostring(l) .. "\r\nbye\r\n")
    end)
    local lines, add = collector()
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5, trace = add }))
    assert.are.equal("220 ready", c:receive())
    c:send("EHLO me\r\n")
    assert.are.equal("250 hello EHLO me", c:receive())
    assert.are.equal("bye", c:receive())
    assert.are.same({ nil, "closed", "" }, { c:receive() })
    assert.are.same({ nil, "closed", "" }, { c:receive() }) -- the end is said once
    local where = arrow(c)
    c:close()
    assert.are.same({
      "*** connecting to 127.0.0.1:" .. port .. " (127.0.0.1)",
      "*** connected (" .. where .. ")",
      "<- 220 ready",
      " -> EHLO me",
      "<- 250 hello EHLO me",
      "<- bye",
      "*** closed by peer",
      "*** closed",
    }, lines)
    assert.matches("^tcp connection 127%.0%.0%.1:%d+ %-> 127%.0%.0%.1:" .. port .. " %(closed%)$", tostring(c))
    s:close()
  end)

  it("traces a dialogue with nginx, and a receive('a') up to the close", function()
    local nginx = helper.nginx()
    local lines, add = collector()
    local c = assert(net.connect("127.0.0.1", nginx.port, { timeout = 5 }))
    assert.is_true(c:trace(add))
    c:send("GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    local all = assert(c:receive("a"))
    c:close()
    nginx:stop()
    assert.matches("hello from nginx\n$", all)
    assert.are.equal(" -> GET /index.html HTTP/1.1", lines[1])
    assert.are.equal(" -> Host: x", lines[2])
    assert.are.equal(" -> Connection: close", lines[3])
    assert.are.equal(" -> ", lines[4])
    assert.are.equal("<- HTTP/1.1 200 OK", lines[5])
    assert.are.equal("<- hello from nginx", lines[#lines - 2])
    assert.are.equal("*** closed by peer", lines[#lines - 1])
    assert.are.equal("*** closed", lines[#lines])
  end)

  it("says resolving for a name, then each address tried", function()
    local s = assert(net.listen("127.0.0.1", 0))
    local _, port = s:getsockname()
    local lines, add = collector()
    local c = assert(net.connect("localhost", port, { timeout = 5, trace = add }))
    assert.are.equal("*** resolving localhost", lines[1])
    assert.are.equal("*** connecting to localhost:" .. port .. " (127.0.0.1)", lines[#lines - 1])
    assert.are.equal("*** connected (" .. arrow(c) .. ")", lines[#lines])
    -- each address tried, and why each one that failed did (QA: ::1 refused)
    for i = 2, #lines - 2, 2 do
      local addr = lines[i]:match("^%*%*%* connecting to localhost:%d+ %((.-)%)$")
      assert.truthy(addr, lines[i])
      assert.are.equal("*** " .. addr .. ": connection refused", lines[i + 1])
    end
    if #lines == 5 then assert.are.equal("*** ::1: connection refused", lines[3]) end
    c:close()
    s:close()
    -- every address refused: each says so, then the summary
    lines, add = collector()
    assert.is_nil(net.connect("localhost", port, { timeout = 5, trace = add }))
    assert.are.equal("*** 127.0.0.1: connection refused", lines[#lines - 1])
    assert.matches("^%*%*%* connect localhost:%d+: .*127%.0%.0%.1: connection refused$", lines[#lines])
    -- a literal is not resolved
    lines, add = collector()
    assert.is_nil(net.connect("127.0.0.1", closed_port(), { trace = add }))
    assert.matches("^%*%*%* connecting to ", lines[1])
  end)

  it("says refused on a closed port, and timeout when nobody answers", function()
    local port = closed_port()
    local lines, add = collector()
    local c, err = net.connect("127.0.0.1", port, { timeout = 5, trace = add })
    assert.is_nil(c)
    assert.are.same({
      "*** connecting to 127.0.0.1:" .. port .. " (127.0.0.1)",
      "*** " .. err,
    }, lines)
    assert.matches("connection refused$", err)
    -- a listener with a full queue: SYNs are dropped, the connect waits
    local s = assert(net.listen("127.0.0.1", 0, { backlog = 0 }))
    local _, lport = s:getsockname()
    local held, got = {}, nil
    for _ = 1, 8 do
      lines, add = collector()
      local x, e = net.connect("127.0.0.1", lport, { timeout = 0.3, trace = add })
      if not x then got = e; break end
      held[#held + 1] = x
    end
    assert.are.equal("timeout", got)
    assert.are.equal("*** connect 127.0.0.1:" .. lport .. ": timeout", lines[#lines])
    for _, x in ipairs(held) do x:close() end
    s:close()
  end)

  it("says what a receive was waiting for at a timeout, after the partial data", function()
    local s, port = serve(function(c)
      c:send("no newline")
      c:receive() -- until the client goes
    end)
    local lines, add = collector()
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:trace(add)
    c:settimeout(0.2)
    assert.are.same({ nil, "timeout", "no newline" }, { c:receive() })
    assert.are.same({ nil, "timeout", "" }, { c:receive(5) })
    c:close()
    assert.are.same({
      "<- no newline",
      "*** timeout waiting for a line",
      "*** timeout waiting for 5 bytes",
      "*** closed",
    }, lines)
    s:close()
  end)

  it("says connection reset when the peer resets", function()
    local py = [[
import socket, struct
s = socket.socket(); s.settimeout(10); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.settimeout(10); c.recv(100)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
]]
    local p = assert(io.popen("timeout 15 python3 -c " .. common.q(py)))
    local port = assert(tonumber(p:read("l")))
    local lines, add = collector()
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5, trace = add }))
    c:send("hi\n")
    local r, err = c:receive()
    assert.is_nil(r)
    assert.matches("reset", err)
    c:close()
    p:close()
    assert.are.same({ " -> hi", "*** connection reset by peer", "*** closed" }, { table.unpack(lines, 3) })
  end)

  it("makes control bytes visible and dumps binary data in hex", function()
    local bin = ""
    for i = 0, 31 do bin = bin .. string.char(i) end
    local s, port = serve(function(c)
      c:send("a\tb\27[31mc\r\nx\ry\r\n\0z\r\nback\\slash\r\n" .. bin)
      c:receive()
    end)
    local lines, add = collector()
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:trace(add)
    for _ = 1, 4 do assert(c:receive()) end
    assert.are.equal(bin, c:receive(32))
    c:close()
    assert.are.same({
      "<- a\\tb\\x1b[31mc",
      "<- x\\ry",
      "<- \\0z",
      "<- back\\\\slash",
      "<- 00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|",
      "<- 00000010  10 11 12 13 14 15 16 17  18 19 1a 1b 1c 1d 1e 1f  |................|",
      "*** closed",
    }, lines)
    s:close()
  end)

  it("traces shutdown, the close of a <close> variable, and a send that times out", function()
    local gate = false
    local s, port = serve(function(c)
      while not gate do net.sleep(0.02) end
      c:receive("a")
    end)
    local lines, add = collector()
    do
      local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
      c:trace(add)
      c:settimeout(0.2)
      local big = ("x"):rep(64 * 1024)
      local r, err
      for _ = 1, 200 do -- fills the socket buffers: bounded
        r, err = c:send(big)
        if not r then break end
      end
      assert.are.equal("timeout", err)
      c:shutdown("send")
    end
    gate = true
    settle(0.1)
    assert.matches("^%*%*%* timeout sending %(%d+ of 65536 bytes sent%)$", lines[#lines - 2])
    assert.are.equal("*** shutdown send", lines[#lines - 1])
    assert.are.equal("*** closed", lines[#lines])
    s:close()
  end)
end)

describe("net.trace", function()
  each_case_clean()

  it("traces every connection made after it, client and server side, until false", function()
    local lines, add = collector()
    assert.is_true(net.trace(add))
    local s, port = serve(function(c) c:send("hi\r\n"); c:receive() end)
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    assert.are.equal("hi", c:receive())
    local where = arrow(c)
    local lh, lp = c:getsockname()
    assert.is_true(net.trace(false))
    local quiet = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    assert.are.equal("hi", quiet:receive())
    quiet:close()
    c:close() -- still traced: it was made while tracing was on
    settle()
    s:close()
    local text = table.concat(lines, "\n")
    assert.matches("*** connecting to 127.0.0.1:" .. port .. " (127.0.0.1)\n*** connected (" .. where .. ")",
      text, 1, true)
    -- the server's side announces itself before its first line
    assert.matches("*** accepted (127.0.0.1:" .. port .. " <- " .. lh .. ":" .. lp .. ")\n -> hi", text, 1, true)
    assert.matches("\n<- hi\n", text, 1, true)
    assert.matches("*** closed by peer", text, 1, true)
    local count = 0
    for _ in text:gmatch("connecting to") do count = count + 1 end
    assert.are.equal(1, count)
  end)

  it("net.http.serve's side of a traced dialogue says accepted before the request it read", function()
    -- the server reads a request's head in one piece (src/httphead.c);
    -- the transcript must still announce the accepted connection first
    local lines, add = collector()
    assert.is_true(net.trace(add))
    local srv = assert(net.http.serve("127.0.0.1", 0, function() return 200, {}, "ok\n" end))
    local _, port = srv:getsockname()
    local status = net.http.get("http://127.0.0.1:" .. port .. "/x", { timeout = 5 })
    net.trace(false)
    settle()
    srv:close()
    assert.are.equal(200, status)
    local text = table.concat(lines, "\n")
    assert.matches("%*%*%* accepted %(127%.0%.0%.1:" .. port .. " <%- [^)]*%)\n<%- GET /x HTTP/1%.1\n", text)
  end)

  it("writes to a path, and says why a path cannot be opened", function()
    local path = os.tmpname()
    assert.is_true(net.trace(path))
    local s, port = serve(function(c) c:send("220 ok\r\n") end)
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    assert.are.equal("220 ok", c:receive())
    c:close()
    net.trace(false)
    settle()
    s:close()
    collectgarbage(); collectgarbage() -- the file goes with the handler
    local f = assert(io.open(path))
    local text = f:read("a")
    f:close()
    os.remove(path)
    assert.matches("*** connected (", text, 1, true)
    assert.matches("\n<- 220 ok\n", text, 1, true)
    assert.matches("\n%*%*%* closed\n", text)
    assert.are.same({ nil, "transcript /nonexistent/dir/t: No such file or directory" },
      { net.trace("/nonexistent/dir/t") })
    assert.are.same({ nil, "transcript /nonexistent/dir/t: No such file or directory" },
      { net.connect("127.0.0.1", 1, { trace = "/nonexistent/dir/t" }) })
  end)

  it("yields to opts.trace = false, and rejects what is not a transcript", function()
    local lines, add = collector()
    net.trace(add)
    local s, port = serve(function(c) c:send("x\n") end)
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5, trace = false }))
    assert.are.equal("x", c:receive())
    c:close()
    settle()
    s:close()
    for _, l in ipairs(lines) do assert.falsy(l:find("connecting", 1, true), l) end
    assert.has_error(function() net.connect("127.0.0.1", 1, { trace = 42 }) end,
      "bad argument #3 to 'connect' (option 'trace' must be true, a function, a file or a path, got number)")
    assert.has_error(function() net.trace(42) end)
    assert.has_error(function() net.trace(true, 5) end)
  end)

  it("traces UDP datagrams with their peer, a hex dump for binary, timeouts and the close", function()
    local lines, add = collector()
    net.trace(add)
    local a = assert(net.udp())
    assert(a:bind("127.0.0.1", 0))
    local _, aport = a:getsockname()
    local b = assert(net.udp({ timeout = 5 }))
    net.trace(false)
    b:sendto("ping\r\n", "127.0.0.1", aport)
    local d, h, p = a:receivefrom()
    assert.are.equal("ping\r\n", d)
    a:sendto(("\0\1\2\3"):rep(5), h, p)
    assert.are.equal(20, #b:receive())
    a:settimeout(0.05)
    assert.are.same({ nil, "timeout" }, { a:receive() })
    a:close(); b:close()
    assert.are.same({
      " -> [127.0.0.1:" .. aport .. "] ping",
      "<- [127.0.0.1:" .. p .. "] ping",
      " -> [127.0.0.1:" .. p .. "] 20 bytes",
      " -> 00000000  00 01 02 03 00 01 02 03  00 01 02 03 00 01 02 03  |................|",
      " -> 00000010  00 01 02 03                                       |....|",
      "<- [127.0.0.1:" .. aport .. "] 20 bytes",
      "<- 00000000  00 01 02 03 00 01 02 03  00 01 02 03 00 01 02 03  |................|",
      "<- 00000010  00 01 02 03                                       |....|",
      "*** timeout waiting for a datagram",
      "*** closed",
      "*** closed",
    }, lines)
    -- u:trace sets one socket
    lines, add = collector()
    local u = assert(net.udp())
    assert.is_true(u:trace(add))
    u:sendto("x", "127.0.0.1", aport)
    assert.is_true(u:trace(false))
    u:sendto("y", "127.0.0.1", aport)
    u:close()
    assert.are.same({ " -> [127.0.0.1:" .. aport .. "] x" }, lines)
  end)
end)

describe("transcript colour", function()
  -- A chunk for netlua -e: traces one datagram to itself on stderr.
  local chunk = 'net.trace(true); local u = net.udp(); u:bind("127.0.0.1", 0); '
    .. 'u:sendto("hi", u:getsockname()); u:close()'

  it("is on at a terminal, off with NO_COLOR, and never when stderr is not a terminal", function()
    local r = pty.run({ { expect = "] hi" } }, { args = { "-e", chunk }, no_eof = true })
    assert(r.ok, r.why)
    assert.truthy(r.out:find("\27[36m -> \27[0m[127.0.0.1:", 1, true), r.out)
    assert.truthy(r.out:find("\27[33m*** \27[0mclosed", 1, true), r.out)
    r = pty.run({ { expect = "] hi" } }, { args = { "-e", chunk }, env = { "NO_COLOR=1" }, no_eof = true })
    assert(r.ok, r.why)
    assert.falsy(r.out:find("\27[", 1, true), r.out)
    assert.truthy(r.out:find(" -> [127.0.0.1:", 1, true), r.out)
    local ok, _, out, err = common.run(common.q(common.netlua) .. " -e " .. common.q(chunk))
    assert.is_true(ok, err)
    assert.are.equal("", out)
    assert.matches("^ %-> %[127%.0%.0%.1:%d+%] hi\n%*%*%* closed\n$", err)
  end)

  it("is on at the prompt, where stderr goes around the line editor", function()
    local r = pty.run({
      { expect = "> " }, { send = "net.trace(true)\r" }, { expect = "true" },
      { send = "u = net.udp(); u:bind('127.0.0.1', 0); u:sendto('hi', u:getsockname())\r" },
      { expect = "] hi" }, { expect = "> " },
    })
    assert(r.ok, r.why)
    assert.truthy(r.out:find("\27[36m -> \27[0m[127.0.0.1:", 1, true), r.out)
    assert.are.equal(0, r.exit)
  end)
end)

describe("conn:expect and conn:reply", function()
  local n0
  before_each(function() n0 = fds() end)
  after_each(function() assert.are.equal(n0, fds()) end)

  -- A connection to a server that sends `text` and then closes (or, with
  -- hold, waits for the client to go first).
  local function peer(text, hold)
    local s, port = serve(function(c)
      c:send(text)
      if hold then c:receive() end
    end)
    local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    return c, s
  end

  it("finds a line by one pattern or a list, with index, line and captures", function()
    local c, s = peer("hello\r\n250-one\r\n250 two three\r\n", true)
    assert.are.same({ 1, "250-one", "one" }, { c:expect("^250%-(%w+)") })
    assert.are.same({ 2, "250 two three", "two", "three" }, { c:expect({ "^5", "^250 (%w+) (%w+)" }) })
    c:close(); s:close()
  end)

  it("gives up at the timeout or the close, with the lines that came", function()
    local c, s = peer("a\r\nb\r\npart", true)
    local t0 = net.now()
    assert.are.same({ nil, "timeout", { "a", "b", "part", partial = "part" } }, { c:expect("^z", 0.2) })
    assert.is_true(net.now() - t0 < 2)
    assert.are.equal(5, c:gettimeout()) -- restored
    c:close(); s:close()
    c, s = peer("x\r\ny")
    assert.are.same({ nil, "closed", { "x", "y" } }, { c:expect("^z") })
    c:close(); s:close()
    assert.has_error(function() c:expect("(") end)
  end)

  it("reads a multi-line reply, and says when one is malformed", function()
    local c, s = peer("250-mx.example\r\n250-SIZE 10\r\n250 HELP\r\n220 x\r\nhello\r\n", true)
    assert.are.same({ 250, { "mx.example", "SIZE 10", "HELP" } }, { c:reply() })
    assert.are.same({ 220, { "x" } }, { c:reply(1) })
    assert.are.same({ nil, 'malformed reply: "hello"', {} }, { c:reply(1) })
    c:close(); s:close()
    c, s = peer("250-a\r\n251 b\r\n")
    assert.are.same({ nil, 'malformed reply: "251 b" (expected code 250)', { "a" } }, { c:reply() })
    c:close(); s:close()
  end)

  it("shows what expect and reply read in the transcript", function()
    local lines, add = collector()
    local c, s = peer("220 hi\r\n", true)
    c:trace(add)
    assert.are.equal(220, (c:reply()))
    c:close(); s:close()
    assert.are.same({ "<- 220 hi", "*** closed" }, lines)
  end)
end)
