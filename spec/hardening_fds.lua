-- spec/hardening_fds.lua (issue #12): out of descriptors. A child netlua
-- runs under `ulimit -n 64` (soft and hard: netlua raises its soft limit
-- to the hard one, so both are set) and fills its table with open files
-- (spec/support/fds_child.lua). net.connect and server:accept must say
-- "too many open files"; the accept loops netlua runs itself (net.serve,
-- net.http.serve, net.relay) must back off instead of spinning (the
-- child's CPU time over 2 s, from /proc/PID/stat, stays under 10%) and
-- serve the client that waited in the backlog once descriptors are free.
local net = require "net"
local common = require "spec.support.common"

local CHILD = common.root .. "/spec/support/fds_child.lua"
local HZ = 100  -- clock ticks per second of /proc/PID/stat (CLK_TCK)

-- Start the child under ulimit -n 64; returns its pid and output pipe.
local function start(args)
  local p = io.popen("bash -c " .. common.q("ulimit -n 64; echo $$; exec " .. common.q(common.netlua)
    .. " " .. CHILD .. " " .. args) .. " 2>&1")
  local pid = tonumber(p:read("l"))
  return pid, p
end

-- utime + stime of pid, in ticks.
local function cpu(pid)
  local f = assert(io.open("/proc/" .. pid .. "/stat"))
  local s = f:read("a"); f:close()
  local fields = {}
  for w in s:match("%) (.*)"):gmatch("%S+") do fields[#fields + 1] = w end
  return tonumber(fields[12]) + tonumber(fields[13])  -- fields 14 and 15 of stat
end

describe("out of descriptors", function()
  it("net.connect and server:accept say too many open files, and accept works once freed", function()
    local pid, p = start("calls")
    assert.is_number(pid)
    local out = p:read("a"); p:close()
    assert.matches("CONNECT connect 127%.0%.0%.1:%d+ %(127%.0%.0%.1%): too many open files", out)
    assert.matches("ACCEPT accept [^\n]*: too many open files", out)
    assert.matches("AFTER accepted", out)
  end)

  local cases = {
    { "serve", "hi\n", "^echo hi" },
    { "http", "GET /x HTTP/1.0\r\nHost: a\r\n\r\n", "^HTTP/1%.1 200" },
    { "relay", "hi\n", "^echo hi" },
  }
  for _, case in ipairs(cases) do
    local kind, request, answer = case[1], case[2], case[3]
    it(kind .. " backs off while out of descriptors and serves again when they are freed", function()
      local pid, p = start(kind .. " 3")
      local port = tonumber((p:read("l") or ""):match("READY (%d+)"))
      assert(port, "child did not start")
      local full = p:read("l")
      assert.matches("FULL %d+", full)
      local t0 = net.now()
      local c = assert(net.connect("127.0.0.1", port, { timeout = 5 }))  -- the backlog takes it
      assert(c:send(request))
      local before = cpu(pid)
      net.sleep(2)
      local used = cpu(pid) - before
      print(string.format("\n  %s: CPU while out of descriptors: %.2f s over 2 s", kind, used / HZ))
      assert.is_true(used < 0.2 * HZ, kind .. " spun: " .. used .. " ticks in 2 s")
      c:settimeout(10)
      local line, err = c:receive("l")
      assert(line, err)
      assert.matches(answer, line)
      print(string.format("  %s: answered %.1f s after connecting (descriptors freed at ~3 s)",
        kind, net.now() - t0))
      c:close()
      assert.equal("FREED", p:read("l"))
      os.execute("kill " .. pid .. " 2>/dev/null")
      p:close()
    end)
  end
end)
