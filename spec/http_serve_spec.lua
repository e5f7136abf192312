-- spec/http_serve_spec.lua: cases for net.http.serve, written ahead of it.
-- Until lua/net/http.lua has serve, every case here is pending; once it
-- lands they run as they are. The contract they assume (DESIGN.md, "The
-- Lua layer"), to be confirmed by whoever writes serve:
--   srv = net.http.serve(host, port, handler [, opts])  port 0: any free one
--   srv:getsockname() -> host, port        srv:close()
--   handler(req) -> status, headers, body   req = {method, target, path,
--     query, headers (case-insensitive), body, peer}; runs in its own task
--   a handler error -> 500, the server goes on; every response carries
--   Content-Length (or is chunked) and the server never waits forever:
--   opts.timeout (seconds for a whole request head and body) guards it.
-- Requests come from net.http's client and from raw `net` connections
-- (for smuggling attempts the client refuses to send). Loopback only.
local net = require "net"
local common = require "spec.support.common"
local http = net.http

-- `it` when serve exists, else pending with the same description.
local it_serve = http.serve and it or function(name) pending(name .. " (net.http.serve not built yet)") end

-- Start serve on 127.0.0.1, any port; returns the server and base URL.
local function start(handler, opts)
  local srv = assert(http.serve("127.0.0.1", 0, handler, opts))
  local _, port = srv:getsockname()
  return srv, "http://127.0.0.1:" .. port, port
end

-- Send raw request bytes to port; returns the status code of the reply
-- (nil when the server closed without one) and the whole reply.
local function raw_exchange(port, bytes)
  local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
  c:send(bytes)
  local all = c:receive("a") or ""
  return tonumber(all:match("^HTTP/1%.%d (%d%d%d)")), all
end

describe("net.http.serve", function()
  local fds_before
  setup(function()
    net.run()
    fds_before = common.count_fds()
  end)
  teardown(function()
    net.run()
    assert.are.equal(fds_before, common.count_fds())
  end)

  it_serve("answers a GET with the handler's status, headers and body", function()
    local seen
    local srv, base = start(function(req)
      seen = req
      return 201, { ["X-Made"] = "here" }, "made " .. req.path .. "\n"
    end)
    local status, h, body = http.get(base .. "/thing?x=1", { timeout = 5, headers = { ["X-Mine"] = "1" } })
    srv:close()
    assert.are.equal(201, status)
    assert.are.equal("here", h["x-made"])
    assert.are.equal(tostring(#body), h["content-length"])
    assert.are.equal("made /thing\n", body)
    assert.are.equal("GET", seen.method)
    assert.are.equal("x=1", seen.query)
    assert.are.equal("1", seen.headers["x-mine"])
  end)

  it_serve("receives a request body, and sends no body after HEAD", function()
    local srv, base = start(function(req) return 200, {}, "got " .. #req.body end)
    local status, _, body = http.request { method = "POST", url = base .. "/", body = ("b"):rep(1000), timeout = 5 }
    assert.are.same({ 200, "got 1000" }, { status, body })
    status, _, body = http.request { method = "HEAD", url = base .. "/", timeout = 5 }
    srv:close()
    assert.are.same({ 200, "" }, { status, body })
  end)

  it_serve("answers 500 when the handler raises, and goes on serving", function()
    local n = 0
    local srv, base = start(function()
      n = n + 1
      if n == 1 then error("handler bug") end
      return 200, {}, "fine"
    end)
    assert.are.equal(500, (http.get(base .. "/", { timeout = 5 })))
    assert.are.equal("fine", select(3, http.get(base .. "/", { timeout = 5 })))
    srv:close()
  end)

  it_serve("refuses smuggling: TE with CL, two Content-Lengths, a CL that is not digits", function()
    local srv, _, port = start(function() return 200, {}, "ok" end)
    for _, head in ipairs({
      "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
      "Content-Length: 3\r\nContent-Length: 4\r\n",
      "Content-Length: +3\r\n",
      "Transfer-Encoding: Chunked \r\nTransfer-Encoding: identity\r\n",
    }) do
      local code = raw_exchange(port, "POST / HTTP/1.1\r\nHost: x\r\n" .. head .. "\r\nabc")
      assert.are.equal(400, code, head)
    end
    srv:close()
  end)

  it_serve("refuses a header section over its cap with 431 (or 400) and closes", function()
    local srv, _, port = start(function() return 200, {}, "ok" end)
    local code = raw_exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " .. ("v"):rep(100000) .. "\r\n\r\n")
    srv:close()
    assert.truthy(code == 431 or code == 400, tostring(code))
  end)

  it_serve("cuts off a slow client at its deadline while serving others (slowloris)", function()
    local srv, base, port = start(function() return 200, {}, "ok" end, { timeout = 0.5 })
    local slow = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    net.spawn(function()
      slow:send("GET / HTTP/1.1\r\n")
      for _ = 1, 20 do
        if not slow:send("X: y\r\n") then return end
        net.sleep(0.1)
      end
    end)
    local t0 = net.now()
    assert.are.equal(200, (http.get(base .. "/", { timeout = 2 })))
    assert.is_true(net.now() - t0 < 0.4)
    slow:settimeout(3)
    local rest = slow:receive("a")   -- the server closed (perhaps after a 408)
    assert.is_true(net.now() - t0 < 2, "slow client held for " .. (net.now() - t0))
    assert.truthy(rest == nil or rest == "" or rest:find("^HTTP/1%.1 408"))
    slow:close()
    srv:close()
  end)
end)
