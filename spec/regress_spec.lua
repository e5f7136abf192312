-- spec/regress_spec.lua: one case per bug found by trying netlua as a
-- hostile user would (issue #12), in the spirit of cqueues' regress/NN.
-- Each `it` names the bug it proves fixed. Cases that could hang or crash
-- run in a child netlua under `timeout`, so a regression fails the case
-- instead of the suite.
local common = require "spec.support.common"
local q = common.q

-- Run SRC as a script in a child netlua (killed after SECS seconds);
-- returns exit code, stdout, stderr.
local function child(src, secs, args)
  local f = os.tmpname()
  local h = assert(io.open(f, "wb")); h:write(src); h:close()
  local _, code, out, err = common.run("timeout -s KILL " .. (secs or 10) .. " " ..
    q(common.netlua) .. " " .. q(f) .. (args and (" " .. args) or ""))
  os.remove(f)
  return code, out, err
end

describe("regressions (issue #12)", function()
  local fds_before
  setup(function() fds_before = common.count_fds() end)
  teardown(function() assert.are.equal(fds_before, common.count_fds()) end)

  it("task error whose __tostring raises does not escape into receive", function()
    local code, out, err = child([[
      local s = net.listen("127.0.0.1", 0)
      local _, port = s:getsockname()
      local c = net.connect("127.0.0.1", port)
      local a = s:accept()
      net.spawn(function()
        net.sleep(0.05)
        error(setmetatable({}, {__tostring = function() error("boom") end}))
      end)
      c:settimeout(0.3)
      print("recv", c:receive())
      print("close", c:close())
      a:close(); s:close()
    ]], 5)
    assert.are.equal("recv\tnil\ttimeout\t\nclose\ttrue\n", out)
    assert.matches("error in task: %(error object is a table value", err)
    assert.are.equal(1, code)
  end)
end)
