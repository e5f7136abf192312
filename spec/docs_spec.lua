-- spec/docs_spec.lua: the documentation says what netlua does: README's
-- prompt examples print what the prompt prints, and the manual page
-- (doc/netlua.1, rendered by man -l) covers every part of net and every
-- ready-made script, without groff warnings.
local common = require "spec.support.common"
local q = common.q

-- The contents of file `path`.
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

describe("docs", function()
  it("README shows net.spawn's value as the prompt prints it", function()
    local readme = slurp("README.md")
    assert.is_nil(readme:find("thread: 0x", 1, true))
    local _, code, out = common.run("printf 'net.spawn(function() end)\\n' | " .. q(common.netlua) .. " -i")
    assert.are.equal(0, code)
    local shown = out:match("> (task 1: [^\n]*)\n")
    assert.are.equal("task 1: function at stdin:1 (ready)", shown)
    assert.truthy(readme:find("\n" .. shown .. "\n", 1, true), "README lacks: " .. shown)
  end)

  it("README's two web servers run one after the other in one session (port freed)", function()
    local readme = slurp("README.md")
    local port = tostring(require("spec.support.tcp_helper").free_port())
    local input = {}
    for _, title in ipairs { "**Telnet to port 80", "**Fetch a page" } do
      local at = assert(readme:find(title, 1, true), title)
      local section = readme:sub(at, (readme:find("\n%*%*%u", at + 2)))  -- not "*** closed"
      for line in section:gmatch("\n> ([^\n]*)") do
        if not line:find("18080", 1, true) and not line:find("headers[", 1, true) then
          input[#input + 1] = (line:gsub("8080", port))
        end
      end
    end
    local _, code, out, err = common.run(common.netlua .. " -i", table.concat(input, "\n") .. "\n")
    assert.are.equal(0, code, err)
    assert.falsy(err:find("already in use", 1, true), err)
    assert.falsy(err:find("error in task", 1, true), err)
    assert.truthy(out:find("hello /students", 1, true), out)
  end)

  it("netlua.1 covers net's parts, the dialogue methods and the scripts", function()
    local _, code, page, err = common.run("MANWIDTH=200 man -l doc/netlua.1 | col -b")
    assert.are.equal(0, code, err)
    for _, name in ipairs { "net.connect(", "net.serve(", "net.fake(", "net.relay(", "net.http.get(",
      "net.http.request{", "net.smtp.send{", "net.trace(", "net.explain(", "net.tasks()",
      "c:expect(", "c:reply(", "c:interact(", ":reply", ":interact" } do
      assert.truthy(page:find(name, 1, true), "netlua.1 lacks " .. name)
    end
    local p = io.popen("ls scripts")
    for script in p:lines() do
      assert.truthy(page:find(script, 1, true), "netlua.1 lacks " .. script)
    end
    p:close()
    local _, _, _, warnings = common.run("groff -man -ww -z doc/netlua.1")
    assert.are.equal("", warnings)
  end)
end)
