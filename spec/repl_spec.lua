-- spec/repl_spec.lua: the interactive prompt (src/repl.c) driven through a
-- pseudo-terminal with expect, as a person would use it; the pretty-printer
-- (net.pretty) and help (net.help) it relies on; and netlua reading a
-- non-terminal stdin as a script.
local net = require "net"
local common = require "spec.support.common"
local pty = require "spec.support.pty"

local clean = pty.clean

--- Run a session and insist that every expectation was met.
local function session(steps, opts)
  local r = pty.run(steps, opts)
  assert(r.ok, r.why)
  return r, clean(r.out)
end

--- Type a line and wait for text in the answer.
local function line(text, answer)
  return { send = text .. "\r" }, { expect = answer }
end

--- Steps: a list made of single steps and pairs from line().
local function steps(...)
  local out = {}
  for _, s in ipairs({ ... }) do
    if s[1] then for _, x in ipairs(s) do out[#out + 1] = x end else out[#out + 1] = s end
  end
  return out
end

--- Pack line()'s two results as one item for steps().
local function L(text, answer) return { line(text, answer) } end

local PROMPT = { expect = "> " }

describe("the prompt", function()
  local fds_before
  setup(function()
    -- files left unreferenced by earlier specs would be closed by the
    -- collector meanwhile: collect them first
    collectgarbage(); collectgarbage()
    fds_before = common.count_fds()
  end)
  teardown(function()
    collectgarbage(); collectgarbage()
    assert.are.equal(fds_before, common.count_fds())
  end)

  it("prints the value of an expression, several separated by tabs, nil as nil", function()
    local r, out = session(steps(PROMPT, L("6*7", "42\r\n"), L('1, nil, "x"', "1\tnil\tx\r\n"),
      L("nil", "nil\r\n"), L("=2^10", "1024.0"), L('"raw string"', "raw string\r\n"),
      L("local a = 1", "> ")))
    assert.are.equal(0, r.exit)
    assert.truthy(out:find("\n42\n", 1, true))
  end)

  it("prints tables pretty: nested, sorted, arrays in order, cycles marked", function()
    local _, out = session(steps(PROMPT,
      L('t = {name = "eth0", mtu = 1500, addrs = {{family = "inet", address = "10.0.0.1", '
        .. 'netmask = "255.0.0.0", prefix = 8, broadcast = "10.255.255.255"}}}', "> "),
      L("t", "}\r\n> "),
      L("{3, 2, 1, z = 1, a = 2, [10] = 0}", "}\r\n"),
      L("c = {}; c.self = c", "> "), L("c", "<cycle: table: 0x"),
      L("s = {}; for i = 1, 500 do s[i] = {i, {i}} end", "> "), L("s", "more lines)")))
    assert.truthy(out:find([[
{
  name = "eth0",
  addrs = {
    {
      address = "10.0.0.1",
      broadcast = "10.255.255.255",
      family = "inet",
      netmask = "255.0.0.0",
      prefix = 8
    }
  },
  mtu = 1500
}]], 1, true), out)
    assert.truthy(out:find("{ 3, 2, 1, [10] = 0, a = 2, z = 1 }", 1, true), out)
    assert.truthy(out:find("self = <cycle: table: 0x", 1, true), out)
    assert.truthy(out:find("\n... (302 more lines)\n", 1, true), out)
  end)

  it("continues an unfinished statement on a second prompt", function()
    local _, out = session(steps(PROMPT, { send = "for i = 1, 2 do\r" }, { expect = ">> " },
      { send = "print('i=' .. i)\r" }, { expect = ">> " }, L("end", "i=2\r\n"),
      { send = "x = [[a\r" }, { expect = ">> " }, L("b]]", "> "), L("x", "a\r\nb\r\n")))
    assert.truthy(out:find("i=1\ni=2\n", 1, true), out)
  end)

  it("completes globals, fields of tables and methods through metatables", function()
    local _, out = session(steps(PROMPT,
      { send = "type(net.sl\t" }, { expect = "eep" }, L(")", "function\r\n"),
      { send = "strin\t" }, { expect = "g" }, { send = ".up\t" }, { expect = "per" },
      L('("abc")', "ABC\r\n"),
      { send = "io.stdout:wr\t" }, { expect = "ite" }, L('("hi", "\\n")', "file ("),
      { send = "string.\t" }, { expect = "upper" }, { send = "\3" }, PROMPT,
      L("return_value = 6*7", "> "), { send = "return_va\t" }, { expect = "lue" }, L("", "42\r\n")))
    -- several candidates are listed
    assert.truthy(out:find("format", 1, true) and out:find("gsub", 1, true), out)
    assert.truthy(out:find("\nABC\n", 1, true), out)
  end)

  it("completes the methods of a connection (c:rec -> c:receive)", function()
    session(steps(PROMPT,
      L('s = net.listen("127.0.0.1", 0); c = net.connect("127.0.0.1", select(2, s:getsockname()))', "> "),
      { send = "c:rec\t" }, { expect = "eive" }, { send = "\3" }, PROMPT,
      { send = "s:acc\t" }, { expect = "ept" }, { send = "\3" }, PROMPT,
      L("c:close(); s:close()", "> ")))
  end)

  it("keeps history across sessions, only lines that compiled", function()
    local home = pty.tmpdir()
    finally(function() pty.rmdir(home) end)
    session(steps(PROMPT, L("hist_probe = 6*7", "> "), L("1 +* 2", "unexpected symbol"),
      { expect = "> " }), { home = home })
    local f = assert(io.open(home .. "/.netlua_history"))
    local text = f:read("a")
    f:close()
    assert.truthy(text:find("hist_probe", 1, true), text)
    assert.falsy(text:find("+*", 1, true), text)
    -- the previous line (Up arrow) is the last good one
    local _, out = session(steps(PROMPT, { send = "\27[A" }, { expect = "hist_probe = 6*7" },
      L("", "> "), L("hist_probe", "42\r\n")), { home = home })
    assert.falsy(out:find("+*", 1, true), out)
  end)

  it("keeps at most 1000 history entries (trimmed at load, then appended)", function()
    local home = pty.tmpdir()
    finally(function() pty.rmdir(home) end)
    local f = assert(io.open(home .. "/.netlua_history", "w"))
    f:write("_HiStOrY_V2_\n")
    for i = 1, 1500 do f:write("x", i, "\\040=\\0401\n") end
    f:close()
    session(steps(PROMPT, L("last_line = 1", "> ")), { home = home })
    local n, last, second = 0, nil, nil
    for l in io.lines(home .. "/.netlua_history") do
      n = n + 1; last = l
      if n == 2 then second = l end
    end
    assert.are.equal(1002, n) -- the header, the last 1000 entries loaded, the new line
    assert.are.equal("x501\\040=\\0401", second)
    assert.are.equal("last_line\\040=\\0401", last)
  end)

  it("keeps the lines of two prompts open at once (QA item 10)", function()
    local home = pty.tmpdir()
    finally(function() pty.rmdir(home) end)
    local marker = home .. "/b_done"
    -- A waits (bounded) for B to finish between its two lines
    local a = pty.start(steps(PROMPT, L("from_A = 1", "> "),
      L("for i = 1, 200 do if io.open(" .. ("%q"):format(marker) .. ") then break end; os.execute('sleep 0.05') end", "> "),
      L("from_A2 = 1", "> ")), { home = home, timeout = 15 })
    os.execute("sleep 0.3")
    session(steps(PROMPT, L("from_B = 1", "> ")), { home = home })
    io.open(marker, "w"):close()
    local r = a.wait()
    assert(r.ok, r.why)
    local f = assert(io.open(home .. "/.netlua_history"))
    local text = f:read("a")
    f:close()
    for _, l in ipairs({ "from_A\\040=\\0401", "from_B\\040=\\0401", "from_A2\\040=\\0401" }) do
      assert.truthy(text:find("\n" .. l .. "\n", 1, true), l .. " missing from:\n" .. text)
    end
    assert.are.equal(1, select(2, text:gsub("_HiStOrY_V2_", "")))
    -- a fresh session reads every line back
    session(steps(PROMPT, { send = "\27[A\27[A\27[A\27[A" }, { expect = "from_A = 1" }, { send = "\3" }, PROMPT),
      { home = home })
  end)

  it("prints a string with NUL bytes whole (QA item 8)", function()
    local _, out = session(steps(PROMPT, L('"ab\\0cd"', "> "), L('"x\\0"', "> ")))
    assert.truthy(out:find("ab\0cd\n", 1, true), out)
    assert.truthy(out:find("x\0\n", 1, true), out)
  end)

  it("works without a usable HOME (no history, no error)", function()
    local _, out = session(steps(PROMPT, L("6*7", "42\r\n")), { home = "/nonexistent/dir" })
    assert.falsy(out:find("history", 1, true), out)
  end)

  it("Ctrl-C stops an endless loop and leaves a working prompt", function()
    session(steps(PROMPT, { send = "while true do end\r" }, { sleep = 0.3 }, { send = "\3" },
      { expect = "interrupted" }, PROMPT, L("6*7", "42\r\n")))
  end)

  it("Ctrl-C discards a half-typed line or chunk", function()
    local _, out = session(steps(PROMPT, { send = "abc" }, { sleep = 0.1 }, { send = "\3" },
      PROMPT, L("6*7", "42\r\n"), { send = "for i = 1, 2 do\r" }, { expect = ">> " },
      { send = "\3" }, PROMPT, L("6*7", "42\r\n")))
    assert.falsy(out:find("abc6", 1, true), out)
    assert.falsy(out:find("error", 1, true), out)
  end)

  it("Ctrl-C interrupts waiting calls: sleep, receive, accept", function()
    session(steps(PROMPT,
      { send = "net.sleep(100)\r" }, { sleep = 0.3 }, { send = "\3" }, { expect = "interrupted" },
      PROMPT, L("6*7", "42\r\n"),
      L('s = net.listen("127.0.0.1", 0); c = net.connect("127.0.0.1", select(2, s:getsockname()))', "> "),
      { send = "c:receive()\r" }, { sleep = 0.3 }, { send = "\3" }, { expect = "interrupted" },
      PROMPT, L('s2 = net.listen("127.0.0.1", 0)', "> "),
      { send = "s2:accept()\r" }, { sleep = 0.3 }, { send = "\3" }, { expect = "interrupted" },
      PROMPT, L("c:close(); s:close(); s2:close(); print(6*7)", "42\r\n")))
  end)

  it("runs tasks while a line is typed, without garbling it", function()
    local r = session(steps(PROMPT,
      L('net.spawn(function() net.sleep(0.3) print("tick") end)', "task "),
      { send = "typed_meanwhile" }, { expect = "tick\r\n" }, { expect = "typed_meanwhile" },
      L(" = 5", "> "), L("typed_meanwhile", "5\r\n")))
    -- the typed line is erased, "tick" written at the start of its row,
    -- and the line drawn again below it
    local at = r.out:find("typed_meanwhile\r\27[Jtick\r\n", 1, true)
    assert.truthy(at, r.out)
    assert.truthy(r.out:find("> typed_meanwhile", at, true), r.out)
  end)

  it("a server spawned at the prompt answers while the next line is edited", function()
    session(steps(PROMPT,
      L('s = net.listen("127.0.0.1", 0); net.spawn(function() for i = 1, 2 do '
        .. 'local c = s:accept(); c:send("hello " .. i .. "\\n"); c:close() end end); '
        .. 'print("PORT=" .. select(2, s:getsockname()))', "PORT="),
      { re = "PORT=(\\d+)" }, { tcl = "set port $expect_out(1,string)" }, { expect = "> " },
      { send = "half" },
      { tcl = [[set reply [exec bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; timeout 5 cat <&3"]
if {$reply ne "hello 1"} { puts stderr "reply: $reply"; exit 5 }
set reply [exec bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; timeout 5 cat <&3"]
if {$reply ne "hello 2"} { puts stderr "reply: $reply"; exit 5 }]] },
      L("_line = 1", "> "), L("half_line", "1\r\n"), L("s:close()", "true\r\n> ")))
  end)

  it("prints an error (a traceback when it comes from deeper code) and asks again", function()
    local _, out = session(steps(PROMPT, L('error("boom")', "boom"), PROMPT,
      L('function f() error("deep") end', "> "), L("f()", "stack traceback:"), PROMPT,
      L("6*7", "42\r\n"), L("error({})", "error object is a table value"), PROMPT,
      L("1 +* 2", "unexpected symbol"), PROMPT, L("6*7", "42\r\n")))
    assert.truthy(out:find("stdin:1: boom", 1, true), out)
  end)

  it("exits with status 0 on Ctrl-D, and as os.exit says", function()
    local r = session({ PROMPT })
    assert.are.equal(0, r.exit)
    r = session(steps(PROMPT, { send = "os.exit(3)\r" }), { no_eof = true })
    assert.are.equal(3, r.exit)
  end)

  it("has help(): everything grouped, and one function in full", function()
    -- PAGER=cat: the listing is taller than the terminal (help_spec.lua pages it)
    local _, out = session(steps(PROMPT, L("help()", "Tasks and time"), PROMPT,
      L("help(net.spawn)", "Example:"), PROMPT, L('help("receive")', "Example:"), PROMPT),
      { env = { "PAGER=cat" } })
    assert.truthy(out:find("net.connect(host, port [, opts])", 1, true), out)
    assert.truthy(out:find("net.spawn(fn, ...) -> task", 1, true), out)
    assert.truthy(out:find("c:receive([pattern]) -> data", 1, true), out)
  end)

  it("honours _PROMPT and _PROMPT2", function()
    session(steps(PROMPT, L('_PROMPT = "netlua% "; _PROMPT2 = "...% "', "\nnetlua% "),
      { send = "if true then\r" }, { expect = "\n...% " }, L("end", "end\r\nnetlua% ")))
  end)

  it("falls back to plain reads on a dumb terminal: no escape codes", function()
    local _, out = session(steps(PROMPT, L("6*7", "42\r\n"), { send = "for i = 1, 2 do\r" },
      { expect = ">> " }, L("end", "> "), { send = "abc" }, { sleep = 0.1 }, { send = "\3" },
      PROMPT, L("6*7", "42\r\n")), { term = "dumb" })
    assert.falsy(out:find("\27", 1, true), out)
  end)
end)

describe("netlua with stdin not a terminal", function()
  it("runs stdin as a script: no prompt, no escape codes, status 0", function()
    local ok, code, out = common.run(common.netlua, "print(6*7)\nio.write('x')\n")
    assert.is_true(ok)
    assert.are.equal(0, code)
    assert.are.equal("42\nx", out)
  end)

  it("fails with status 1 and a message on an error", function()
    local ok, code, out, err = common.run(common.netlua, "print(1)\nerror('boom')\n")
    assert.is_falsy(ok)
    assert.are.equal(1, code)
    assert.are.equal("1\n", out)
    assert.truthy(err:find("boom", 1, true), err)
  end)

  it("reads lines with -i from a pipe, still evaluating like the prompt", function()
    local _, code, out = common.run(common.netlua .. " -i", "6*7\nfor i = 1, 2 do\nprint(i)\nend\n")
    assert.are.equal(0, code)
    assert.falsy(out:find("\27", 1, true), out)
    assert.truthy(out:find("42\n", 1, true), out)
    assert.truthy(out:find("1\n2\n", 1, true), out)
  end)
end)

describe("argument errors at the prompt", function()
  it("from the Lua-written parts read like C's: the line's position, the public name (QA)", function()
    local lines = {
      { 'net.serve("127.0.0.1", 0, 5)', "'serve' (function expected, got number)" },
      { 'net.http.get(5)', "'get' (string expected, got number)" },
      { 'net.http.serve("127.0.0.1", 0, 5)', "'serve'" },
      { 'net.explain({})', "'explain'" },
      { 'net.smtp.send(5)', "'send' (table expected, got number)" },
      { 'net.relay("127.0.0.1", 0, 5)', "'relay'" },
      { 'net.fake("127.0.0.1", 0, 5)', "'fake'" },
      { 'net.trace(5)', "'trace'" },
      { 'x = net.serve("127.0.0.1", 0, 5)', "'serve'" },
    }
    local input = {}
    for _, l in ipairs(lines) do input[#input + 1] = l[1] end
    local _, _, _, err = common.run(common.netlua .. " -i", table.concat(input, "\n") .. "\n")
    local got = {}
    for m in err:gmatch("netlua: ([^\n]*)") do got[#got + 1] = m end
    assert.are.equal(#lines, #got, err)
    for i, l in ipairs(lines) do
      assert.are.equal("stdin:1: bad argument", got[i]:sub(1, 21), got[i])
      assert.truthy(got[i]:find(l[2], 1, true), got[i])
    end
    -- and, as for C's, no traceback through net's own files
    assert.falsy(err:find("stack traceback", 1, true), err)
    -- a function typed at the prompt still gets one (the error came from deeper)
    _, _, _, err = common.run(common.netlua .. " -i",
      'function f() net.http.serve("127.0.0.1", 0) end\nf()\n')
    assert.truthy(err:find("stdin:1: bad argument #3 to 'serve'", 1, true), err)
    assert.truthy(err:find("stack traceback", 1, true), err)
  end)
end)

describe("net.pretty", function()
  local pretty = require "net.pretty"

  it("shows scalars as Lua does and quotes strings inside tables", function()
    assert.are.equal('"a\\"b\\n\\x00"', pretty('a"b\n\0'))
    assert.are.equal("42", pretty(42))
    assert.are.equal("nil", pretty(nil))
    assert.are.equal('{ "é", "\\xFF" }', pretty({ "é", "\255" }))
  end)

  it("lays out short tables on one line, longer ones one key per line", function()
    assert.are.equal("{ 1, 2, 3 }", pretty({ 1, 2, 3 }))
    assert.are.equal("{}", pretty({}))
    assert.are.equal('{ 1, [3] = 3, ["a b"] = 1, x = true, [true] = 0 }',
      pretty({ 1, nil, 3, x = true, ["a b"] = 1, [true] = 0 }))
    local long = pretty({ alpha = string.rep("a", 40), beta = string.rep("b", 40) })
    assert.are.equal('{\n  alpha = "' .. string.rep("a", 40) .. '",\n  beta = "'
      .. string.rep("b", 40) .. '"\n}', long)
  end)

  it("puts name and type first in records", function()
    assert.are.equal('{ name = "x", type = "MX", a = 1, ttl = 5 }',
      pretty({ ttl = 5, a = 1, type = "MX", name = "x" }))
  end)

  it("marks cycles and cuts long output with a count", function()
    local t = { 1 }
    t.me = t
    assert.truthy(pretty(t):find("me = <cycle: " .. tostring(t) .. ">", 1, true))
    local big = {}
    for i = 1, 1000 do big[i] = { i, string.rep("x", 80) } end
    local s = pretty(big, { max_lines = 10 })
    local n = select(2, s:gsub("\n", "\n")) + 1
    assert.are.equal(11, n)
    assert.truthy(s:find("%.%.%. %(%d+ more lines%)$"))
  end)

  it("uses __tostring, and survives a failing one", function()
    local obj = setmetatable({}, { __tostring = function() return "OBJ" end })
    local bad = setmetatable({}, { __tostring = function() error("no") end })
    assert.are.equal("{ OBJ }", pretty({ obj }))
    assert.truthy(pretty({ bad }):find("__tostring failed", 1, true))
  end)

  it("indents the lines of a several-line __tostring inside a table (req.headers)", function()
    local h = setmetatable({}, { __tostring = function() return "Host: x\nAccept: */*" end })
    assert.are.equal('{\n  headers = Host: x\n    Accept: */*,\n  method = "GET"\n}',
      pretty({ headers = h, method = "GET" }))
    assert.are.equal("Host: x\nAccept: */*", pretty(h))   -- alone: as tostring gives it
  end)

  it("show() prints the prompt's way: raw strings, tabs between values", function()
    assert.are.equal("a\tnil\t{ 1 }\t2", pretty.show("a", nil, { 1 }, 2))
  end)

  it("refuses options that are not a table", function()
    assert.has_error(function() pretty.format({}, 5) end)
  end)

  it("shows the head of a huge table quickly, counting what it cut (QA item 13)", function()
    local t = {}
    for i = 1, 200000 do t["key" .. i] = i end
    local t0 = os.clock()
    local s = pretty(t)
    local dt = os.clock() - t0
    assert.are.equal(201, select(2, s:gsub("\n", "\n")) + 1)
    -- 200,000 entries and two braces, 200 lines shown
    assert.are.equal("\n... (199802 more lines)", s:sub(-24))
    assert.is_true(dt < 1.5, "took " .. dt) -- was 1.9 s; generous for sanitizer builds
    -- nested entries past the hard limit: a lower bound, never less than the entries cut
    local big = {}
    for i = 1, 100000 do big[i] = { i, { i } } end
    s = pretty(big)
    local n = tonumber(s:match("%.%.%. %(at least (%d+) more lines%)$"))
    assert.is_true(n and n >= 100000 - 200, s:sub(-80))
  end)
end)

describe("net.help", function()
  --- What help(...) writes, run in a fresh netlua.
  local function help_of(expr)
    local _, code, out, err = common.run(common.netlua .. " -e " .. common.q(
      "local help = require 'net.help'; local s = net.listen('127.0.0.1', 0); help(" .. expr .. ")"))
    assert.are.equal(0, code, err)
    return out
  end

  it("describes every function of net that exists", function()
    local help = require "net.help"
    local names = {}
    for _, g in ipairs(help.groups) do
      for _, e in ipairs(g.entries) do names[e.name] = true end
    end
    for k, v in pairs(net) do
      if type(v) == "function" then assert.truthy(names["net." .. k], "no help for net." .. k) end
    end
    for _, part in ipairs({ "ip", "dns" }) do
      for k, v in pairs(net[part] or {}) do
        if type(v) == "function" then
          assert.truthy(names["net." .. part .. "." .. k], "no help for net." .. part .. "." .. k)
        end
      end
    end
  end)

  it("describes every method of connections, servers and UDP sockets", function()
    local help = require "net.help"
    local names = {}
    for _, g in ipairs(help.groups) do
      for _, e in ipairs(g.entries) do names[e.name] = true end
    end
    local kinds = { ["netlua.conn"] = "conn", ["netlua.server"] = "server", ["netlua.udp"] = "udp" }
    local s = net.listen("127.0.0.1", 0)
    local u = net.udp()
    s:close(); u:close()
    for mtname, kind in pairs(kinds) do
      local mt = debug.getregistry()[mtname]
      assert.is_table(mt, mtname)
      for k in pairs(mt.__index) do
        assert.truthy(names[kind .. ":" .. k], "no help for " .. kind .. ":" .. k)
      end
    end
  end)

  it("gives signature, returns and example of a function, by value or by name", function()
    local out = help_of("net.connect")
    assert.truthy(out:find("^net%.connect%(host, port %[, opts%]%) %-> conn\n"), out)
    assert.truthy(out:find("Returns:", 1, true) and out:find("Example:", 1, true), out)
    assert.are.equal(out, help_of("'connect'"))
    assert.truthy(help_of("s.accept"):find("s:accept([timeout [, handshake]]) -> conn", 1, true))
    assert.truthy(help_of("s"):find("s:getsockname()", 1, true))
    assert.truthy(help_of("net.ip"):find("net.ip.parse(text)", 1, true))
    assert.truthy(help_of("string.format"):find("part of Lua itself", 1, true))
    assert.truthy(help_of("'nosuch'"):find("no help", 1, true))
  end)

  it("lists only what exists; says what an interrupted send or receive does (QA items 7, 9)", function()
    local all = help_of("")
    assert.truthy(all:find("net.http.get", 1, true), all)      -- built: lua/net/http.lua
    assert.truthy(all:find("net.http.serve", 1, true), all)    -- built: lua/net/httpserve.lua
    assert.truthy(all:find("net.smtp.send", 1, true), all)     -- built: lua/net/smtp.lua
    assert.falsy(help_of("'net.http.serve'"):find("no help", 1, true))
    local send = help_of("'conn:send'")
    assert.truthy(send:find("Ctrl-C", 1, true) and send:find("closes the connection", 1, true), send)
    local recv = help_of("'conn:receive'")
    assert.truthy(recv:find("leaves the connection open", 1, true), recv)
    -- every entry listed by help() names something that exists
    for call in all:gmatch("\n  (net%.[%w_.]+)") do
      local _, _, out = common.run(common.netlua .. " -e " .. common.q("assert(" .. call .. " ~= nil)"))
      assert.are.equal("", out, call)
    end
  end)
end)

describe("failure notices at the prompt", function()
  local free_port = common.closed_port   -- a port nobody listens on

  it("a refused connect assigned to a variable says so; no double print", function()
    local port = free_port()
    local refused = ("connect 127.0.0.1:%d (127.0.0.1): connection refused"):format(port)
    local _, out = session(steps(PROMPT,
      L(('c = net.connect("127.0.0.1", %d)'):format(port), "*** " .. refused),
      PROMPT, L(('net.connect("127.0.0.1", %d)'):format(port), "nil\t" .. refused),
      PROMPT, L(('for i = 1, 5 do net.connect("127.0.0.1", %d) end'):format(port), "*** (2 more)"),
      PROMPT, L('s = net.listen("127.0.0.1", 0); x = s:accept(0.05)', "*** timeout"),
      PROMPT, L('function f() return net.connect("127.0.0.1", ' .. port .. ') end; y = f(); s:close()', "> "),
      L(('x = net.http.get("http://127.0.0.1:%d/")'):format(port), "*** " .. refused),
      PROMPT))
    -- shown once when the results show it already, three times of five
    -- in the loop, not at all from inside a function
    local _, n = out:gsub("connection refused", "")
    assert.are.equal(1 + 1 + 3 + 0 + 1, n, out)
    assert.falsy(out:find("*** nil", 1, true), out)
  end)

  it("the Lua-written entry points, expect, reply and udp receive say so too (QA)", function()
    local busy = assert(net.listen("127.0.0.1", 0))
    local _, port = busy:getsockname()
    local _, out = session(steps(PROMPT,
      L(('sv = net.serve("127.0.0.1", %d, print)'):format(port), "*** listen"),
      PROMPT, L(('fk = net.fake("127.0.0.1", %d, {})'):format(port), "*** listen"),
      PROMPT, L(('r2 = net.relay("127.0.0.1", %d, "127.0.0.1", 1)'):format(port), "*** listen"),
      PROMPT, L(('hs = net.http.serve("127.0.0.1", %d, print)'):format(port), "*** listen"),
      PROMPT, L('s = net.listen("127.0.0.1", 0); c2 = net.connect(s:getsockname()); q = c2:expect("zzz", 0.2)',
        "*** timeout"),
      PROMPT, L('rp = c2:reply(0.2)', "*** timeout"),
      PROMPT, L('u = net.udp(); u:bind("127.0.0.1", 0); u:settimeout(0.1); d = u:receive()', "*** timeout"),
      PROMPT, L('print(sv, fk, r2, hs, q, rp, d)', "nil\tnil\tnil\tnil\tnil\tnil\tnil"),
      PROMPT))
    busy:close()
    local _, n = out:gsub("%*%*%* listen 127%.0%.0%.1:%d+: address already in use", "")
    assert.are.equal(4, n, out)
    _, n = out:gsub("%*%*%* timeout", "")
    assert.are.equal(3, n, out)
  end)

  it("a failed TLS handshake says so too (QA round 2)", function()
    local port = free_port()
    -- a plain peer in its own process (this one is busy driving the prompt)
    local p = io.popen("socat TCP-LISTEN:" .. port .. ",bind=127.0.0.1,reuseaddr,fork SYSTEM:'echo not tls' " ..
      ">/dev/null 2>&1 & echo $!")
    local pid = p:read("l"); p:close()
    finally(function() os.execute("kill " .. pid .. " 2>/dev/null") end)
    assert.is_true(common.wait_port(port, 5))
    local _, out = session(steps(PROMPT,
      L(('c = net.connect("127.0.0.1", %d, {tls = true, timeout = 5})'):format(port), "*** tls"),
      PROMPT))
    assert.matches("%*%*%* tls 127%.0%.0%.1:%d+ %(127%.0%.0%.1%): ", out)
  end)

  it("a script, -e and piped stdin stay quiet and keep nil, message", function()
    local port = free_port()
    local code = ('c, e = net.connect("127.0.0.1", %d); print(c, e)'):format(port)
    local ok, status, out, err = common.run(common.netlua .. " -e " .. common.q(code))
    assert.is_true(ok, err)
    assert.are.equal(0, status)
    assert.are.equal("", err)
    assert.truthy(out:find("^nil\tconnect 127.0.0.1:%d+ %(127.0.0.1%): connection refused\n$"), out)
    ok, status, out, err = common.run(common.netlua, code .. "\n")
    assert.is_true(ok, err)
    assert.are.equal("", err)
    assert.falsy(out:find("***", 1, true), out)
  end)
end)
