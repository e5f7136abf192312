-- spec/hardening_failalloc.lua (issue #12): allocation failure. Each
-- operation runs in a child process of the failalloc build (ASan + UBSan
-- and src/failalloc.c; `make failalloc`), once to count its allocations,
-- then once for every N in 1..count (stepping when the count is large),
-- failing allocation N (and the next one: Lua retries once after an
-- emergency collection), and once more failing only allocation N.
-- Every run must end with a result, nil and a message, or Lua's "not
-- enough memory"; never a crash, a sanitizer report (leaks included) or
-- a lost descriptor (spec/support/failalloc_child.lua checks these).
local common = require "spec.support.common"
local dns_helper = require "spec.support.dns_helper"
local http_helper = require "spec.support.http_helper"
local tls_helper = require "spec.support.tls_helper"

local BIN = os.getenv("NETLUA_FAILALLOC_BIN")
if not BIN and io.open("build-failalloc/netlua") then BIN = common.root .. "/build-failalloc/netlua" end
local CHILD = "spec/support/failalloc_child.lua"
local LONG = os.getenv("HARDENING_LONG") == "1"
local MAXRUNS = LONG and 400 or 60   -- child runs per operation and K

-- The operations walked; peers filled in by setup. tls: a client handshake
-- to nginx; tlsaccept: a server handshake of openssl s_client.
local OPS = { "connect", "accept", "receive", "dns", "http", "tls", "tlsaccept" }
if os.getenv("FAILALLOC_OPS") then
  OPS = {}
  for w in os.getenv("FAILALLOC_OPS"):gmatch("%a+") do OPS[#OPS + 1] = w end
end

describe("allocation failure", function()
  local dns, nginx, tlsnginx, peers = nil, nil, nil, {}

  setup(function()
    dns = dns_helper.start()
    nginx = http_helper.nginx()
    tlsnginx = tls_helper.nginx()
    local certs = tls_helper.certs()
    peers.dns = dns.server
    peers.http = "http://127.0.0.1:" .. nginx.port .. "/file"
    peers.tls = tlsnginx.port13 .. ":" .. certs.ca
    peers.tlsaccept = certs.good .. ":" .. certs.goodkey
  end)

  teardown(function()
    if dns then dns.stop() end
    if nginx then nginx.stop() end
    if tlsnginx then tlsnginx.stop() end
    tls_helper.cleanup()
  end)

  -- Run the child once; returns its result line, or fails the test.
  local function child(op, n, k)
    local cmd = "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 " ..
      "LSAN_OPTIONS=suppressions=" .. common.root .. "/spec/support/lsan_cares.supp " ..
      "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 timeout 30 " ..
      common.q(BIN) .. " " .. CHILD .. " " .. op .. " " .. n .. " " ..
      common.q(peers[op] or "-") .. " " .. k
    local ok, code, out, err = common.run(cmd)
    local where = string.format("%s N=%d K=%d: ", op, n, k)
    assert(not err:find("Sanitizer") and not err:find("runtime error") and not err:find("PANIC"),
      where .. "sanitizer or panic:\n" .. err)
    assert(ok and code == 0, where .. "exit " .. tostring(code) .. "\n" .. out .. err)
    if os.getenv("FA_DEBUG") then print(out) end
    local line = out:match("RESULT [^\n]*")
    assert(line, where .. "no result line:\n" .. out .. err)
    return line
  end

  for _, op in ipairs(OPS) do
    it("walks every allocation of " .. op, function()
      if not BIN then pending("no build-failalloc/netlua: make failalloc") return end
      local first = child(op, 0, 2)
      assert.matches("^RESULT ok", first)
      if os.getenv("FA_DEBUG") then print(first) end
      local count = tonumber(first:match("COUNT (%d+)"))
      local delta = first:match("DELTA (%-?%d+)")
      assert.is_true(count > 0)
      local step = math.max(1, math.ceil(count / MAXRUNS))
      local seen = {}
      for _, k in ipairs({ 2, 1 }) do
        for n = 1, count, step do
          local line = child(op, n, k)
          local kind = line:match("^RESULT (%a+)")
          assert(line:match("DELTA (%-?%d+)") == delta,
            string.format("%s N=%d K=%d: descriptors: %s (unarmed: DELTA %s)", op, n, k, line, delta))
          seen[kind] = (seen[kind] or 0) + 1
        end
      end
      -- the walk must have failed something that surfaced
      assert.is_true((seen.mem or 0) + (seen["nil"] or 0) > 0)
      print(string.format("\n  %s: %d allocations, step %d: %d ok, %d nil+message, %d not enough memory",
        op, count, step, seen.ok or 0, seen["nil"] or 0, seen.mem or 0))
    end)
  end
end)
