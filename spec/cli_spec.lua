-- spec/cli_spec.lua: netlua's command line is lua5.4's. Each case runs
-- build/netlua (or $NETLUA) and a stock lua5.4 on the same arguments, input
-- and environment and compares stdout, stderr (program name normalised) and
-- exit status. Then what only netlua does: its banner, `net` as a global,
-- the module for stock lua5.4, `make install`, and hosting busted.
-- `-i` and the prompt are covered by the REPL specs.
local common = require "spec.support.common"
local cli = require "spec.support.cli_helper"
local q = cli.q

-- Print every arg entry from the lowest index up, then the varargs.
local ARGS_SCRIPT = [[
local lo = 0
while arg[lo - 1] ~= nil do lo = lo - 1 end
for i = lo, #arg do print(i, arg[i]) end
print("...", select("#", ...), ...)
]]

describe("netlua's command line, compared with lua5.4", function()
  local dir, fds_before
  setup(function()
    fds_before = common.count_fds()
    dir = cli.tmpdir()
    cli.write(dir .. "/args.lua", ARGS_SCRIPT)
    cli.write(dir .. "/-", 'print("a file named -", ...)\n')
    cli.write(dir .. "/runtime.lua",
      "local function inner() error('boom') end\n" ..
      "local function outer() inner() end\n" ..
      "outer()\n")
    cli.write(dir .. "/syntax.lua", "print('a')\nx = = 1\n")
    cli.write(dir .. "/init.lua", 'print("init from file", arg ~= nil)\n')
    os.execute("mkdir " .. q(dir .. "/mods"))
    cli.write(dir .. "/mods/mymod.lua", 'print("loading", ...)\nreturn { v = 42 }\n')
    cli.write(dir .. "/mods/badmod.lua", 'local t = nil\nreturn t.field\n')
  end)
  teardown(function()
    cli.rmdir(dir)
    assert.are.equal(fds_before, common.count_fds())
  end)

  describe("a script", function()
    it("gets its arguments in arg, negative indices included, and as ...", function()
      local n = cli.same("args.lua a 'b c' ''", { dir = dir })
      assert.matches("0\targs.lua\n1\ta\n2\tb c\n3\t\n", n.out, 1, true)
      assert.matches("-1\tLUA\n", n.out, 1, true)
    end)

    it("sees the options before it at negative indices", function()
      local n = cli.same("-W -e 'x=1' args.lua a", { dir = dir })
      assert.matches("-4\tLUA\n-3\t-W\n-2\t-e\n-1\tx=1\n0\targs.lua\n", n.out, 1, true)
    end)

    it("takes everything after it as arguments, options included", function()
      cli.same("args.lua -e 'print(1)' -v --", { dir = dir })
    end)

    it("after -- is a script even if it starts with -", function()
      cli.same("-- args.lua x", { dir = dir })
      cli.same("-- - y", { dir = dir, input = "print('not stdin')" })
    end)

    it("exits 0 when it ends, whatever it returns", function()
      local n = cli.same("-", { input = "return 1, false, nil" })
      assert.are.equal(0, n.code)
    end)

    it("can read its own standard input", function()
      cli.write(dir .. "/cat.lua", "for l in io.lines() do print(#l, l) end\n")
      local n = cli.same("cat.lua", { dir = dir, input = "one\ntwo\n" })
      assert.are.equal("3\tone\n3\ttwo\n", n.out)
    end)

    it("starts programs with SIGPIPE at its default, as lua5.4 does", function()
      -- An ignored SIGPIPE would be inherited: `yes` would then complain of
      -- a broken pipe instead of ending quietly.
      local n = cli.same("-e 'print(os.execute(\"yes | head -1\"))'")
      assert.are.equal("y\ntrue\texit\t0\n", n.out)
      assert.are.equal("", n.err)
    end)

    it("runs with the collector running, as lua5.4 does", function()
      local n = cli.same("-e 'print(collectgarbage(\"isrunning\"))'")
      assert.are.equal("true\n", n.out)
    end)
  end)

  describe("-e", function()
    it("runs several in order", function()
      local n = cli.same("-e 'x = 1' -e 'x = x * 10' -e 'print(x)' -e'print(x + 1)'")
      assert.are.equal("10\n11\n", n.out)
    end)

    it("stops at the first that fails, with status 1", function()
      local n = cli.same("-e 'print(1)' -e 'error(\"stop\")' -e 'print(2)'")
      assert.are.equal(1, n.code)
      assert.matches("^LUA: %(command line%):1: stop\nstack traceback:\n", n.err)
    end)

    it("reports a syntax error with the chunk name (command line)", function()
      local n = cli.same("-e 'x ='")
      assert.are.equal("LUA: (command line):1: unexpected symbol near <eof>\n", n.err)
    end)

    it("runs before the script, which then runs", function()
      cli.same("-e 'print(\"first\")' args.lua z", { dir = dir })
    end)
  end)

  describe("-l", function()
    local env
    before_each(function() env = { LUA_PATH = dir .. "/mods/?.lua;;" } end)

    it("requires mod into global mod", function()
      local n = cli.same("-l mymod -e 'print(mymod.v)'", { env = env })
      assert.are.equal("loading\tmymod\t" .. dir .. "/mods/mymod.lua\n42\n", n.out)
    end)

    it("requires mod into global g with g=mod", function()
      local n = cli.same("-l g=mymod -e 'print(g.v, mymod)'", { env = env })
      assert.matches("42\tnil\n$", n.out)
    end)

    it("accepts the module name joined to -l", function()
      cli.same("-lmymod -e 'print(mymod.v)'", { env = env })
    end)

    it("and -e run in the order given", function()
      cli.same("-e 'print(mymod)' -l mymod -e 'print(mymod.v)'", { env = env })
    end)

    it("of a module that does not exist fails with the paths tried", function()
      local n = cli.same("-l nosuchmod -e 'print(\"not reached\")'", { env = env })
      assert.are.equal(1, n.code)
      assert.matches("^LUA: module 'nosuchmod' not found:\n", n.err)
      assert.matches("stack traceback:\n", n.err, 1, true)
    end)

    it("of a module that raises an error reports it with a traceback", function()
      local n = cli.same("-l badmod", { env = env })
      assert.are.equal(1, n.code)
      assert.matches("badmod.lua:2: attempt to index a nil value (local 't')", n.err, 1, true)
    end)
  end)

  describe("-E", function()
    it("ignores LUA_INIT and LUA_PATH", function()
      local env = { LUA_INIT = 'print("init ran")', LUA_PATH = dir .. "/mods/?.lua;;" }
      local n = cli.same("-E -e 'print(package.path:find(\"mods\", 1, true))'", { env = env })
      assert.are.equal("nil\n", n.out)
      n = cli.same("-E -l mymod", { env = env })
      assert.are.equal(1, n.code)
      assert.matches("module 'mymod' not found", n.err, 1, true)
    end)

    it("is only effective alone (-Ex is an unknown option)", function()
      local n = cli.same("-Ex")
      assert.are.equal(1, n.code)
    end)
  end)

  describe("-W", function()
    it("turns warnings on", function()
      local n = cli.same("-W -e 'warn(\"hi\")'")
      assert.are.equal("Lua warning: hi\n", n.err)
      n = cli.same("-e 'warn(\"hi\")'")
      assert.are.equal("", n.err)
    end)
  end)

  describe("LUA_INIT", function()
    it("LUA_INIT runs before -e", function()
      local n = cli.same("-e 'print(2)'", { env = { LUA_INIT = 'print("init")' } })
      assert.are.equal("init\n2\n", n.out)
    end)

    it("LUA_INIT_5_4 beats LUA_INIT", function()
      local n = cli.same("-e 'print(2)'",
        { env = { LUA_INIT = 'print("init")', LUA_INIT_5_4 = 'print("init54")' } })
      assert.are.equal("init54\n2\n", n.out)
    end)

    it("@file runs the file, with arg already set", function()
      local n = cli.same("args.lua q", { dir = dir, env = { LUA_INIT = "@init.lua" } })
      assert.matches("^init from file\ttrue\n", n.out)
    end)

    it("@file that does not exist fails, and nothing else runs", function()
      local n = cli.same("-e 'print(\"no\")'", { dir = dir, env = { LUA_INIT = "@nosuch.lua" } })
      assert.are.equal(1, n.code)
      assert.are.equal("LUA: cannot open nosuch.lua: No such file or directory\n", n.err)
    end)

    it("an error in LUA_INIT names the variable", function()
      local n = cli.same("-e 'print(\"no\")'", { env = { LUA_INIT_5_4 = 'error("bad")' } })
      assert.are.equal(1, n.code)
      assert.matches("^LUA: LUA_INIT_5_4:1: bad\n", n.err)
    end)
  end)

  describe("standard input", function()
    it("- runs stdin as the script, with arguments", function()
      local n = cli.same("- x y", { input = ARGS_SCRIPT })
      assert.matches("0\t-\n1\tx\n2\ty\n", n.out, 1, true)
    end)

    it("with no script and not a terminal: runs it, no prompt, no escape codes", function()
      local input = "print(1)\nio.write('two\\n')\n"
      local n = cli.same("", { input = input, env = { TERM = "xterm" } })
      assert.are.equal("1\ntwo\n", n.raw_out)
      assert.are.equal("", n.raw_err)
      assert.is_nil(n.raw_out:find("\27", 1, true))
      assert.is_nil(n.raw_out:find("> ", 1, true))
    end)

    it("gives the right status for errors and os.exit", function()
      -- lua5.4 (lua.c 5.4.4) ignores the result of running stdin when no
      -- script is named and exits 0 after an error; the issue asks netlua for
      -- a correct status, so here only the output must match lua5.4's, and
      -- netlua exits 1, as both do for an explicit "-".
      for _, input in ipairs({ "print(1)\nerror('in stdin')\n", "x = = 1" }) do
        local n, l = cli.both("", { input = input })
        assert.are.equal(l.out, n.out)
        assert.are.equal(l.err, n.err)
        assert.are.equal(1, n.code)
        n = cli.same("-", { input = input })
        assert.are.equal(1, n.code)
      end
      local n = cli.same("-", { input = "print(1)\nerror('in stdin')\n" })
      assert.matches("^LUA: stdin:2: in stdin\nstack traceback:\n", n.err)
      n = cli.same("", { input = "os.exit(5)" })
      assert.are.equal(5, n.code)
    end)

    it("skips a #! first line", function()
      cli.same("-", { input = "#!/usr/bin/env netlua\nprint(arg[0])\n" })
    end)
  end)

  describe("exit statuses", function()
    for _, case in ipairs({
      { "os.exit()", 0 }, { "os.exit(0)", 0 }, { "os.exit(3)", 3 }, { "os.exit(255)", 255 },
      { "os.exit(true)", 0 }, { "os.exit(false)", 1 }, { "os.exit(7, true)", 7 },
      { "io.write('unflushed'); os.exit(2)", 2 },
    }) do
      it(case[1] .. " exits " .. case[2], function()
        local n = cli.same("-e " .. q(case[1]))
        assert.are.equal(case[2], n.code)
      end)
    end

    it("os.exit(n) from a script file", function()
      cli.write(dir .. "/exit.lua", "print('bye')\nos.exit(tonumber(arg[1]))\n")
      local n = cli.same("exit.lua 42", { dir = dir })
      assert.are.equal(42, n.code)
    end)
  end)

  describe("Ctrl-C (SIGINT)", function()
    it("interrupts a busy script with 'interrupted!', a traceback and status 1", function()
      local n = cli.same("-e 'local i = 0 while true do i = i + 1 end'",
        -- --foreground: one SIGINT to the program only (without it, timeout
        -- also signals its process group, and lua.c dies of a second one).
        { wrap = "timeout --foreground --preserve-status -k 5 -s INT 0.3 " })
      assert.are.equal(1, n.code)
      assert.matches("^LUA: interrupted!\nstack traceback:\n", n.err)
    end)
  end)

  describe("error objects", function()
    it("a table without __tostring", function()
      local n = cli.same("-e 'error({})'")
      assert.matches("^LUA: %(error object is a table value%)\nstack traceback:\n", n.err)
    end)

    it("a table with __tostring (no traceback)", function()
      local n = cli.same("-e 'error(setmetatable({}, {__tostring = function() return \"custom\" end}))'")
      assert.are.equal("LUA: custom\n", n.err)
      assert.are.equal(1, n.code)
    end)

    it("nil, a number, a string at level 0", function()
      cli.same("-e 'error(nil)'")
      cli.same("-e 'error(42)'")
      local n = cli.same("-e 'error(\"plain\", 0)'")
      assert.matches("^LUA: plain\n", n.err)
    end)
  end)

  describe("odd corners", function()
    for _, chunk in ipairs({
      'error(setmetatable({}, {__tostring = function() error("inner") end}))',
      'error(setmetatable({}, {__tostring = function() return 1 end}))',
      'local t <close> = setmetatable({}, {__close = function() print("closed") end}) error("x")',
      'local t = setmetatable({}, {__gc = function() print("collected at exit") end})',
      'coroutine.wrap(function() error("in a coroutine") end)()',
      'print(#arg, arg[0] ~= nil, arg[1], arg[-1] ~= nil)',
      'os.exit(-1)', 'os.exit(256)', 'os.exit(1.5)',
    }) do
      it("-e " .. chunk, function() cli.same("-e " .. q(chunk)) end)
    end

    it("a script starting with a UTF-8 byte-order mark", function()
      cli.write(dir .. "/bom.lua", "\239\187\191print('bom')\n")
      local n = cli.same("bom.lua", { dir = dir })
      assert.are.equal("bom\n", n.out)
    end)

    -- SIGPIPE stays at its default (sockets use MSG_NOSIGNAL), so a
    -- script writing into a closed pipe ends as under lua5.4.
    it("dies of SIGPIPE when stdout is a closed pipe, as lua5.4 does", function()
      local function piped(prog)
        local _, _, out = common.run("timeout 20 bash -c " .. common.q(common.q(prog) ..
          [[ -e 'for i = 1, 1e8 do print(i) end' | head -1; echo "status ${PIPESTATUS[0]}"]]))
        return out
      end
      assert.are.equal("1\nstatus 141\n", piped(cli.lua))
      assert.are.equal("1\nstatus 141\n", piped(cli.netlua))
    end)
  end)

  describe("bad input", function()
    it("a missing script file", function()
      local n = cli.same("nosuch.lua a", { dir = dir })
      assert.are.equal(1, n.code)
      assert.are.equal("LUA: cannot open nosuch.lua: No such file or directory\n", n.err)
      assert.matches("^netlua: ", n.raw_err)
    end)

    it("a directory as script", function()
      local n = cli.same(q(dir))
      assert.are.equal(1, n.code)
    end)

    it("a syntax error names file and line", function()
      local n = cli.same("syntax.lua", { dir = dir })
      assert.are.equal(1, n.code)
      assert.are.equal("", n.out)  -- nothing of the file ran
      assert.are.equal("LUA: syntax.lua:2: unexpected symbol near '='\n", n.err)
    end)

    it("a runtime error names file:line and gives the traceback", function()
      local n = cli.same("runtime.lua", { dir = dir })
      assert.are.equal(1, n.code)
      assert.are.equal(table.concat({
        "LUA: runtime.lua:1: boom",
        "stack traceback:",
        "\t[C]: in function 'error'",
        "\truntime.lua:1: in upvalue 'inner'",
        "\truntime.lua:2: in local 'outer'",
        "\truntime.lua:3: in main chunk",
        "\t[C]: in ?", "" }, "\n"), n.err)
    end)

    for _, opt in ipairs({ "-x", "--x", "-vx", "-Wx", "-ix", "---" }) do
      it("an unknown option " .. opt .. " prints the usage on stderr", function()
        local n = cli.same(opt .. " -e 'print(1)'")
        assert.are.equal(1, n.code)
        assert.are.equal("", n.out)
        assert.matches("^LUA: unrecognized option '" .. opt:gsub("%-", "%%-") .. "'\nusage: LUA %[options%]", n.err)
      end)
    end

    for _, cmd in ipairs({ "-e", "-l", "-e -v", "-l -e x" }) do
      it("'" .. cmd .. "': an option without its argument prints the usage", function()
        local n = cli.same(cmd)
        assert.are.equal(1, n.code)
        assert.matches("^LUA: '%-[el]' needs argument\nusage: LUA", n.err)
      end)
    end

    it("a precompiled chunk is refused (netlua loads text only, on purpose)", function()
      -- LESSONS.md: Lua 5.4.4 can crash on corrupted binary chunks, so
      -- netlua loads scripts as text only; lua5.4 would run this chunk.
      cli.write(dir .. "/bin.luac", string.dump(load("print('binary ran')")))
      local n, l = cli.both("bin.luac", { dir = dir })
      assert.are.equal("binary ran\n", l.out)
      assert.are.equal(1, n.code)
      assert.are.equal("", n.out)
      assert.matches("attempt to load a binary chunk", n.err, 1, true)
      n = cli.run1(cli.netlua, "-", { dir = dir, input = string.dump(load("print(1)")) })
      assert.are.equal(1, n.code)
      assert.matches("attempt to load a binary chunk", n.err, 1, true)
    end)
  end)

  describe("a #!/usr/bin/env netlua script", function()
    it("runs directly, netlua found on PATH, as a lua5.4 one does", function()
      local bin = dir .. "/bin"
      os.execute("mkdir -p " .. q(bin) .. " && ln -sf " .. q(cli.netlua) .. " " .. q(bin .. "/netlua"))
      cli.write(dir .. "/she.lua", "#!/usr/bin/env netlua\n" .. ARGS_SCRIPT .. "print(type(net))\n")
      cli.write(dir .. "/she54.lua", "#!/usr/bin/env lua5.4\n" .. ARGS_SCRIPT .. "print(type(net))\n")
      os.execute("chmod +x " .. q(dir .. "/she.lua") .. " " .. q(dir .. "/she54.lua"))
      local path = "cd " .. q(dir) .. " && PATH=" .. q(bin) .. ":\"$PATH\" "
      local _, ncode, nout, nerr = common.run(path .. "./she.lua a 'b c'")
      local _, lcode, lout, lerr = common.run(path .. "./she54.lua a 'b c'")
      assert.are.equal("", nerr)
      assert.are.equal(0, ncode)
      assert.are.equal(lcode, ncode)
      assert.are.equal("", lerr)
      assert.are.equal(cli.normalise(lout, { "lua5.4" }):gsub("she54", "she"):gsub("nil\n$", "table\n"),
                       cli.normalise(nout, { "netlua" }))
      assert.matches("-1\tnetlua\n0\t./she.lua\n1\ta\n2\tb c\n", nout, 1, true)
    end)
  end)
end)

describe("what only netlua has", function()
  for _, opt in ipairs({ "--help", "-h" }) do
    it(opt .. " prints lua's usage and a line on net and help() on stdout, exit 0", function()
      local _, code, out, err = common.run(common.netlua .. " " .. opt .. " -e 'print(\"ran\")'")
      assert.are.equal(0, code, err)
      assert.are.equal("", err)
      -- the same usage text as for a bad option (on stderr, status 1)
      local _, bad, _, usage = common.run(common.netlua .. " -x")
      assert.are.equal(1, bad)
      assert.are.equal(usage:match("\n(usage: .*)$"), out:match("^(usage: .-)The table net"))
      assert.truthy(out:find("\nThe table net [^\n]*\n[^\n]*help%(%)"), out)
      assert.falsy(out:find("ran", 1, true), out)
    end)
  end

  it("-v names netlua, Lua, c-ares, libedit and OpenSSL, then Lua's own line", function()
    local n, l = cli.both("-v")
    assert.are.equal(0, n.code)
    local first, rest = n.raw_out:match("^([^\n]*)\n(.*)$")
    local luaver = l.out:match("^Lua (5%.4%.%d+)")
    assert.matches("^netlua %d+%.%d+%.%d+  %(Lua " .. luaver:gsub("%.", "%%.")
                   .. ", c%-ares %d+%.%d+%.%d+, libedit [%d.]+, OpenSSL %d+%.%d+%.%d+%S*%)$", first)
    assert.are.equal(l.out, rest)
    assert.are.equal("", n.err)
  end)

  it("-v with -e prints the banner, runs the chunk, and does not prompt", function()
    local n = cli.run1(cli.netlua, "-v -e 'print(\"ran\")'")
    assert.matches("^netlua [^\n]*\nLua [^\n]*\nran\n$", n.raw_out)
    assert.are.equal(0, n.code)
  end)

  it("has net as a global, and require 'net' returns the same table", function()
    local n = cli.run1(cli.netlua, "-e " .. q(
      "print(type(net), require('net') == net, package.loaded.net == net," ..
      " type(net.spawn), type(net.sleep), type(net.run))"))
    assert.are.equal("table\ttrue\ttrue\tfunction\tfunction\tfunction\n", n.out)
    assert.are.equal("", n.err)
  end)

  it("has net in a script and in piped stdin, with LUA_PATH and LUA_CPATH empty", function()
    local env = { LUA_PATH = "/nonexistent/?.lua", LUA_CPATH = "/nonexistent/?.so" }
    local n = cli.run1(cli.netlua, "-", { env = env,
      input = "assert(require('net') == net); print(type(net.sleep))" })
    assert.are.equal("function\n", n.out)
    assert.are.equal(0, n.code)
  end)

  it("builds as a module that stock lua5.4 can require", function()
    local env = cli.module_env(cli.net_so:gsub("net%.so$", "?.so") .. ";;")
    local n = cli.run1(cli.lua, "-e " .. q(
      "local net = require 'net'; print(type(net.spawn), type(net.sleep), net == package.loaded.net, rawget(_G, 'net'))" ..
      "; local t = {}; net.spawn(function() net.sleep(0.01); t[#t+1] = 'b' end)" ..
      "; net.spawn(function() t[#t+1] = 'a' end); net.run(); print(table.concat(t))"),
      { env = env })
    assert.are.equal("", n.err)
    assert.are.equal("function\tfunction\ttrue\tnil\nab\n", n.out)
  end)
end)

describe("make install", function()
  local dest
  setup(function() dest = cli.tmpdir() end)
  teardown(function() cli.rmdir(dest) end)

  it("installs a netlua that finds net without LUA_PATH, and net.so for lua5.4, both with TLS", function()
    local build = cli.netlua:match("^(.*)/[^/]*$")
    -- -o: install what is built; never rebuild from inside the suite.
    local ok, code, out, err = common.run("make -s -C " .. q(common.root) ..
      " BUILD=" .. q(build) .. " -o " .. q(build .. "/netlua") .. " -o " .. q(build .. "/net.so") ..
      " -o " .. q(build .. "/netlua-tls.so") .. " -o " .. q(build .. "/netlua-edit.so") ..
      " DESTDIR=" .. q(dest) .. " PREFIX=/usr/local install")
    assert.is_true(ok, "make install: " .. tostring(code) .. "\n" .. out .. err)
    local prefix = dest .. "/usr/local"
    for _, f in ipairs({ "/bin/netlua", "/lib/lua/5.4/net.so", "/lib/netlua/netlua-tls.so",
                         "/lib/netlua/netlua-edit.so", "/share/man/man1/netlua.1" }) do
      assert.is_true(os.execute("test -f " .. q(prefix .. f)), f .. " installed")
    end
    local script = prefix .. "/check.lua"
    cli.write(script, [[
      local n = require "net"
      assert(n == net, "require returns the global")
      for name, f in pairs(package.preload) do
        if name:match("^net%.") then assert(type(f) == "function", name) end
      end
      print("ok", type(n.spawn))
    ]])
    local n = cli.run1(prefix .. "/bin/netlua", q(script), { dir = dest })
    assert.are.equal("", n.err)
    assert.are.equal("ok\tfunction\n", n.out)
    local l = cli.run1(cli.lua, "-e " .. q("local net = require 'net'; print(type(net.spawn), type(net.sleep))"),
      { dir = dest, env = cli.module_env(prefix .. "/lib/lua/5.4/?.so") })
    assert.are.equal("", l.err)
    assert.are.equal("function\tfunction\n", l.out)
    -- the parts in lib/netlua: the prompt's line editor, and TLS (found
    -- from bin/ and from lib/lua/5.4/)
    local i = cli.run1(prefix .. "/bin/netlua", "-i", { dir = dest, input = "print(1 + 1)\n" })
    assert.are.equal("", i.err)
    assert.matches("\n> 2\n", i.out)
    local v = cli.run1(prefix .. "/bin/netlua", "-v", { dir = dest })
    assert.matches("OpenSSL %d+%.%d+%.%d+", v.out)
    local tls = "print(net.listen('127.0.0.1', 0, {tls = {cert = '/nonexistent.pem'}}))"
    local want = "nil\tlisten 127.0.0.1:0: tls: cannot load certificate /nonexistent.pem: no such file or directory\n"
    assert.are.equal(want, cli.run1(prefix .. "/bin/netlua", "-e " .. q(tls), { dir = dest }).out)
    l = cli.run1(cli.lua, "-e " .. q("net = require 'net'; " .. tls),
      { dir = dest, env = cli.module_env(prefix .. "/lib/lua/5.4/?.so") })
    assert.are.equal("", l.err)
    assert.are.equal(want, l.out)
    local _, mcode, mout, merr = common.run("MANWIDTH=80 man -l " .. q(prefix .. "/share/man/man1/netlua.1"))
    assert.are.equal(0, mcode, merr)
    assert.matches("SYNOPSIS", mout, 1, true)
    assert.matches("EXIT STATUS", mout, 1, true)
  end)
end)

describe("hosting busted", function()
  local bdir
  setup(function()
    bdir = cli.tmpdir()
    os.execute("mkdir " .. q(bdir .. "/spec"))
  end)
  teardown(function() cli.rmdir(bdir) end)

  -- Run busted under netlua in bdir; returns status and output.
  local function busted(args, lua)
    local _, code, out, err = common.run("cd " .. q(bdir) .. " && busted --lua=" .. q(lua or cli.netlua) ..
      " -o TAP " .. args)
    return code, out, err
  end

  it("runs a spec suite under netlua and reports success", function()
    cli.write(bdir .. "/spec/tiny_spec.lua", [[
      describe("tiny", function()
        it("has net", function() assert.are.equal(require("net"), net) end)
        it("runs under netlua", function() assert.truthy(arg[-1]:match("netlua$")) end)
        it("sleeps", function() net.sleep(0.01) end)
      end)
    ]])
    os.execute("ln -s " .. q(cli.netlua) .. " " .. q(bdir .. "/netlua"))
    local code, out, err = busted("spec", "./netlua")  -- as the issue writes it
    assert.are.equal(0, code, out .. err)
    assert.matches("ok 1 - tiny has net", out, 1, true)
    assert.matches("ok 3 - tiny sleeps", out, 1, true)
    assert.matches("1..3", out, 1, true)
  end)

  it("reports a failing spec with a non-zero status", function()
    cli.write(bdir .. "/spec/fail_spec.lua", [[
      describe("failing", function()
        it("fails", function() assert.are.equal(1, 2) end)
      end)
    ]])
    local code, out = busted("spec/fail_spec.lua")
    assert.are_not.equal(0, code)
    assert.matches("not ok 1 - failing fails", out, 1, true)
  end)
end)
