-- spec/hardening_load.lua (issue #12): load and hostile peers, loopback
-- only, bounded in count and time. Servers and crowds of clients are child
-- netlua processes (spec/support/load_child.lua); netlua raises its soft
-- descriptor limit to the hard one itself (20000 here).
-- Sizes: the shortened run (CI, .ci/run) by default; HARDENING_LONG=1 (make
-- check-hardening) for the long one:
--                              short                  long
--   connections held           1,000 for 5 s          10,000 for 60 s
--   line without a newline     64 MiB, cap 16 MiB     1 GiB, cap 256 MiB
--   every byte through echo    64 MiB                 64 MiB
--   slowloris clients          500                    500
local net = require "net"
local common = require "spec.support.common"
local peak = require "spec.support.peak"

local LONG = os.getenv("HARDENING_LONG") == "1"
local CHILD = common.root .. "/spec/support/load_child.lua"
local MiB = 1024 * 1024

local SIZES = LONG and { conns = 10000, hold = 60, every = 5, longline = 1024 * MiB, cap = 256 * MiB }
  or { conns = 1000, hold = 5, every = 1, longline = 64 * MiB, cap = 16 * MiB }

-- Start a child in the background; returns a handle with :line(pattern,
-- seconds) (waits for a line of its output matching pattern), :stop().
local function spawn(args)
  local out = os.tmpname()
  local p = io.popen("exec " .. common.q(common.netlua) .. " " .. CHILD .. " " .. args
    .. " >" .. out .. " 2>&1 </dev/null & echo $!")
  local h = { pid = tonumber(p:read("l")), out = out }
  p:close()
  function h.text()
    local f = io.open(out); local s = f and f:read("a") or ""; if f then f:close() end
    return s
  end
  function h.line(pattern, seconds)
    local limit = net.now() + (seconds or 10)
    repeat
      local m = h.text():match(pattern)
      if m then return m end
      net.sleep(0.05)
    until net.now() > limit
    error("child " .. args .. ": no " .. pattern .. " in:\n" .. h.text())
  end
  function h.stop()
    os.execute("kill " .. h.pid .. " 2>/dev/null; for i in $(seq 100); do kill -0 " .. h.pid ..
      " 2>/dev/null || break; sleep 0.05; done; kill -9 " .. h.pid .. " 2>/dev/null")
    os.remove(out)
  end
  return h
end

-- Fields k=v of a RESULT line.
local function fields(line)
  local t = {}
  for k, v in line:gmatch("(%w+)=(%S+)") do t[k] = tonumber(v) or v end
  return t
end

describe("load and hostile peers", function()
  it(string.format("holds %d connections for %d s against a net echo server, every byte checked",
    SIZES.conns, SIZES.hold), function()
    local srv = spawn("echo")
    local port = srv.line("READY (%d+)")
    local cl = spawn(string.format("clients %d %d %d %s", SIZES.conns, SIZES.hold, SIZES.every, port))
    local ok, res = pcall(cl.line, "RESULT [^\n]*", SIZES.hold + 200)
    cl.stop(); srv.stop()
    assert(ok, res)
    print("\n  " .. res)
    local r = fields(res)
    assert.equal(SIZES.conns, r.connected)
    assert.equal(SIZES.conns, r.livehold)
    assert.equal(0, r.bad)
    assert.equal(0, r.errors)
    assert.is_true(r.msgs >= SIZES.conns * math.floor(SIZES.hold / SIZES.every))
  end)

  it(string.format("a line without a newline (%d MiB, cap %d MiB): line too long at the cap, peak memory at most twice the cap",
    SIZES.longline // MiB, SIZES.cap // MiB), function()
    local rcv = spawn("longline " .. SIZES.cap)
    local port = rcv.line("READY (%d+)")
    local c = assert(net.connect("127.0.0.1", port))
    local chunk = ("x"):rep(MiB)
    local sent = 0
    while sent < SIZES.longline do
      local n, err, part = c:send(chunk)
      if not n then sent = sent + (part or 0); break end
      sent = sent + n
    end
    c:close()
    local ok, res = pcall(rcv.line, "RESULT [^\n]*", 60)
    rcv.stop()
    assert(ok, res)
    local r = fields(res)
    local grew = r.grown
    print(string.format("\n  sent %.1f MiB before the receiver gave up: %s; peak grew %.3f MiB, %.4f x the cap (%d MiB)",
      sent / MiB, r.err, grew / MiB, grew / SIZES.cap, SIZES.cap // MiB))
    assert.equal("nil", r.line)
    assert.equal("line_too_long", r.err)
    assert.equal(SIZES.cap, r.partial)
    assert.is_true(sent < SIZES.cap + 64 * MiB, "the receiver read on past the cap")
    -- twice the cap (the buffer and the partial), and granularity
    -- (LINE_SLACK, spec/support/peak.lua)
    assert.is_true(grew <= 2 * SIZES.cap + peak.LINE_SLACK, string.format(
      "peak grew %d bytes, %d over twice the cap (%d MiB)", grew, grew - 2 * SIZES.cap, SIZES.cap // MiB))
  end)

  it("64 MiB of every byte value through echo, SHA-256 equal", function()
    local srv = spawn("rawecho")
    local port = srv.line("READY (%d+)")
    local size = 64 * MiB
    -- a block holding every byte value, in a varying order
    local t = {}
    for i = 0, 65535 do t[i + 1] = string.char((i * 167 + (i >> 8)) % 256) end
    local block = table.concat(t)
    local c = assert(net.connect("127.0.0.1", port))
    net.spawn(function()
      for _ = 1, size // #block do assert(c:send(block)) end
      c:shutdown("send")
    end)
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "wb"))
    local got = 0
    c:settimeout(60)
    while true do
      local data, err, partial = c:receive(65536)
      data = data or partial
      if data and #data > 0 then f:write(data); got = got + #data end
      if err then assert.equal("closed", err) break end
    end
    f:close()
    c:close()
    srv.stop()
    local exp = os.tmpname()
    f = assert(io.open(exp, "wb"))
    for _ = 1, size // #block do f:write(block) end
    f:close()
    local p = io.popen("sha256sum " .. tmp .. " " .. exp)
    local a = p:read("l"):match("^(%x+)"); local b = p:read("l"):match("^(%x+)")
    p:close()
    os.remove(tmp); os.remove(exp)
    print(string.format("\n  %d bytes back, sha256 %s (sent %s)", got, a:sub(1, 16), b:sub(1, 16)))
    assert.equal(size, got)
    assert.equal(b, a)
  end)

  for _, kind in ipairs({ "http", "line" }) do
    it("500 slowloris clients against " .. (kind == "http" and "net.http.serve" or "net.serve reading lines")
      .. ": a good client is answered within 100 ms", function()
      local srv = spawn(kind == "http" and "httpserve" or "lineserve")
      local port = srv.line("READY (%d+)")
      local slow = spawn(string.format("slow 500 %s %s 2 %d", kind, port, LONG and 20 or 8))
      local ok, held = pcall(slow.line, "HOLDING (%d+)", 15)
      if not ok then slow.stop(); srv.stop(); error(held) end
      net.sleep(1)
      local lat = {}
      local okall, err = pcall(function()
        for i = 1, 10 do
          local t0 = net.now()
          local c = assert(net.connect("127.0.0.1", port, { timeout = 2 }))
          c:settimeout(2)
          local l
          if kind == "http" then
            assert(c:send("GET /good HTTP/1.1\r\nHost: good\r\nConnection: close\r\n\r\n"))
            l = assert(c:receive("l"))
            assert.matches("^HTTP/1%.1 200", l)
          else
            assert(c:send("good " .. i .. "\n"))
            l = assert(c:receive("l"))
            assert.equal("got good " .. i, l)
          end
          lat[#lat + 1] = (net.now() - t0) * 1000
          c:close()
          net.sleep(0.3)
        end
      end)
      local still = srv.text()
      slow.stop(); srv.stop()
      assert(okall, err)
      table.sort(lat)
      print(string.format("\n  %s: %s slow clients held; good client: median %.1f ms, worst %.1f ms",
        kind, held, lat[5], lat[#lat]))
      assert.equal("500", held)
      assert.is_true(lat[#lat] < 100, string.format("worst latency %.1f ms", lat[#lat]))
      assert.is_nil(still:find("error"), still)
    end)
  end
end)
