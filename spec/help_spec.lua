-- spec/help_spec.lua: help's topics (help "http" ...) and its pager (issue
-- #10). Every topic's example is taken from the text help prints and run,
-- with its ports swapped for free ones, so the examples stay true.
local net = require "net"
local common = require "spec.support.common"
local pty = require "spec.support.pty"

--- What netlua -e CODE writes on stdout (stdout a file: never paged).
local function netlua_e(code, env)
  local _, status, out, err = common.run((env or "") .. " " .. common.netlua .. " -e " .. common.q(code))
  assert.are.equal(0, status, err)
  return out
end

local free_port = common.closed_port   -- a port nobody listens on now

--- The example of a topic page: the indented lines after "Example".
local function example_of(page)
  local lines, inside = {}, false
  for l in page:gmatch("([^\n]*)\n") do
    if l:match("^  Example") then inside = true
    elseif inside and l:match("^    ") then lines[#lines + 1] = l:sub(5)
    elseif inside then break end
  end
  return table.concat(lines, "\n") .. "\n"
end

local TOPICS = { "http", "smtp", "telnet", "trace", "serve", "dns", "tasks" }

describe("help topics", function()
  it("has a page for each topic, before any function or part of that name", function()
    for _, t in ipairs(TOPICS) do
      local page = netlua_e(("help %q"):format(t))
      assert.truthy(page:find("^" .. t .. ": "), page)
      assert.truthy(page:find("\n  Functions: ", 1, true), page)
      assert.truthy(page:find("\n  Example", 1, true), page)
    end
    assert.truthy(netlua_e('help "trace"'):find('"->"', 1, true))
  end)

  it("keeps the lookups of parts and functions of the same names", function()
    assert.truthy(netlua_e("help(net.http)"):find("^net%.http:\n"))
    assert.truthy(netlua_e('help "net.http"'):find("^net%.http:\n"))
    assert.truthy(netlua_e('help "net.trace"'):find("^net%.trace%(true"))
    assert.truthy(netlua_e('help "net.serve"'):find("^net%.serve%(host, port"))
    assert.truthy(netlua_e('help "net.tasks"'):find("^net%.tasks%(%)"))
    assert.truthy(netlua_e('help "net.dns"'):find("^net%.dns:\n"))
    assert.truthy(netlua_e('help "receive"'):find("^c:receive"))
  end)

  it("names the topics at the end of help()", function()
    local all = netlua_e("help()")
    local last = all:match("\n(Topics:.*)$")
    assert.truthy(last, all:sub(-300))
    for _, t in ipairs(TOPICS) do assert.truthy(last:find(('help "%s"'):format(t), 1, true), last) end
  end)

  for _, t in ipairs(TOPICS) do
    it("runs the example of help " .. t, function()
      local code = example_of(netlua_e(("help %q"):format(t)))
      assert.truthy(#code > 20, code)
      -- every loopback port of the example: a free one instead
      local ports = {}
      code = code:gsub('"127%.0%.0%.1", (%d+)', function(p)
        ports[p] = ports[p] or free_port()
        return '"127.0.0.1", ' .. ports[p]
      end):gsub("127%.0%.0%.1:(%d+)", function(p)
        if p == "1" then return nil end -- the dns example: a port where no DNS server is
        ports[p] = ports[p] or free_port()
        return "127.0.0.1:" .. ports[p]
      end)
      local file = os.tmpname()
      local f = assert(io.open(file, "w")); f:write(code); f:close()
      local _, status, out, err = common.run("timeout 20 " .. common.netlua .. " " .. file, "hi\n")
      os.remove(file)
      assert.are.equal(0, status, code .. "\n--- stderr:\n" .. err)
      local want = {
        http = "200\ttext/plain\thello from /hi", smtp = "true\t250 queued", telnet = "you said: hi",
        trace = "HELLO", serve = "5 bytes", dns = "::1", tasks = "tick\t3",
      }
      assert.truthy(out:find(want[t], 1, true), out .. "\n--- stderr:\n" .. err)
      assert.falsy(err:find("traceback", 1, true), err)
    end)
  end
end)

describe("help's examples", function()
  it("are each one line that compiles as the prompt takes it, so they can be pasted (QA)", function()
    local h = require "net.help"
    local n = 0
    for _, g in ipairs(h.groups) do
      for _, e in ipairs(g.entries) do
        if e.example then
          n = n + 1
          assert.falsy(e.example:find("[\r\n]"), e.name .. ": a line break in " .. e.example)
          local f, err = load("return " .. e.example .. ";", "=example")
          if not f then f, err = load(e.example, "=example") end
          assert.truthy(f, e.name .. ": " .. tostring(err))
        end
      end
    end
    assert.is_true(n > 20)
  end)
end)

describe("help's pager", function()
  local PAGER = "PAGER=sed s/^/PAGED:\\ /"

  it("pages help() taller than the terminal through $PAGER; not a short page", function()
    local r = pty.run({ { expect = "> " }, { send = "help()\r" }, { expect = "PAGED: Topics:" }, { expect = "> " },
      { send = 'help "connect"\r' }, { expect = "Example:" }, { expect = "> " } }, { env = { PAGER } })
    assert(r.ok, r.why)
    local out = pty.clean(r.out)
    assert.truthy(out:find("PAGED: netlua", 1, true), out)
    assert.falsy(out:find("PAGED: net.connect(host", 1, true), out)
  end)

  it("pages with less -FRX when $PAGER is not set: q comes back to the prompt", function()
    if not os.execute("command -v less >/dev/null 2>&1") then return end
    local r = pty.run({ { expect = "> " }, { send = "help()\r" }, { re = "\n:" }, { send = "q" },
      { expect = "> " }, { send = "print(6*7)\r" }, { expect = "42" }, { expect = "> " } })
    assert(r.ok, r.why)
  end)

  it("never pages when stdout is not a terminal", function()
    local out = netlua_e("help()", "PAGER=" .. common.q("sed s/^/PAGED:\\ /"))
    assert.falsy(out:find("PAGED", 1, true), out:sub(1, 200))
    assert.truthy(out:find("^netlua"), out:sub(1, 200))
    -- piped, from a script at a terminal's prompt as well: stdin a pty, stdout a pipe
    local r = pty.run({ { expect = "> " },
      { send = 'p = io.popen("' .. common.netlua .. ' -e help\\\\(\\\\) | wc -l"); print("lines", p:read("a")); p:close()\r' },
      { re = "lines\t *[0-9]+" }, { expect = "> " } }, { env = { PAGER } })
    assert(r.ok, r.why)
    assert.falsy(pty.clean(r.out):find("PAGED", 1, true), r.out)
  end)
end)
