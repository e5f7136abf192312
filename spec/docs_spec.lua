-- spec/docs_spec.lua: the documentation says what netlua does: README's
-- prompt examples print what the prompt prints.
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
end)
