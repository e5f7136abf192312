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

local running = {}   -- servers started by the current case

-- Start serve on 127.0.0.1, any port; returns the server and base URL.
local function start(handler, opts)
  local srv = assert(http.serve("127.0.0.1", 0, handler, opts))
  local _, port = srv:getsockname()
  -- a failed case must not leave a server serving (busted keeps one
  -- finally per case: it closes every server started so far)
  running[#running + 1] = srv
  finally(function()
    for _, s in ipairs(running) do s:close() end
    running = {}
  end)
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
  common.guard_fds(setup, teardown)

  it_serve("names itself net.http.serve in tostring (QA)", function()
    local srv = start(function() return 200, {}, "" end)
    assert.matches("^net%.http%.serve 127%.0%.0%.1:%d+ %(0 clients%)$", tostring(srv))
    srv:close()
    assert.matches("^net%.http%.serve 127%.0%.0%.1:%d+ %(closed%)$", tostring(srv))
  end)

  it_serve("names its clients net.http.serve clients in net.tasks() (QA)", function()
    local _, _, port = start(function() return 200, {}, "" end)
    local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:send("GET / HTTP/1.1\r\n")   -- half a request: the client's task waits
    local found
    for _ = 1, 50 do
      for _, t in ipairs(net.tasks()) do
        if tostring(t):find("net.http.serve client 127.0.0.1:", 1, true) then found = t end
      end
      if found then break end
      net.sleep(0.02)
    end
    assert.is_truthy(found)
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

  it_serve("writes the handler's header fields: any table, values through tostring, its own Date and Server", function()
    local cases = {
      -- a headers table that fills itself in on first use (its __pairs)
      { net.http.headers { "X-A", "1", "X-B", "2" }, { "X-A: 1\r\n", "X-B: 2\r\n" } },
      { { ["X-N"] = 42, ["X-T"] = true }, { "X-N: 42\r\n", "X-T: true\r\n" } },
      { { date = "then", SERVER = "mine" }, { "date: then\r\n", "SERVER: mine\r\n" } },
      -- the server frames the body itself
      { { ["Content-Length"] = "99", ["transfer-encoding"] = "chunked" }, { "Content-Length: 4\r\n" } },
      -- a list: a field for each (cookies are never joined)
      { { ["Set-Cookie"] = { "a=1", "b=2" } }, { "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n" } },
      { { ["X-Obj"] = setmetatable({}, { __tostring = function() return "shown" end }) }, { "X-Obj: shown\r\n" } },
    }
    for _, case in ipairs(cases) do
      local _, _, port = start(function() return 200, case[1], "body" end)
      local code, all = raw_exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
      assert.are.equal(200, code)
      for _, line in ipairs(case[2]) do assert.matches(line, all, 1, true) end
      local _, dates = all:lower():gsub("\r\ndate: ", "")
      local _, servers = all:lower():gsub("\r\nserver: ", "")
      local _, framing = all:lower():gsub("\r\ncontent%-length: ", "")
      assert.are.same({ 1, 1, 1 }, { dates, servers, framing })
      assert.is_nil(all:lower():find("transfer-encoding", 1, true))
      assert.matches("\r\n\r\nbody$", all)
    end
    -- a handler's "Connection: CLOSE" closes after the reply
    local _, _, port = start(function() return 200, { connection = "CLOSE" }, "bye" end)
    local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert.matches("Connection: close\r\n\r\nbye$", c:receive("a"))
  end)

  it_serve("answers 500 for a header field a handler should not send, and names it on stderr", function()
    local raises = function() error("no") end
    local bad = { { ["X Y"] = "1" }, { [""] = "1" }, { [1] = "x" }, { ["X-Ok"] = "a\r\nSet-Cookie: evil=1" },
      { ["X-Ok"] = "a\nb" }, { ["X-Ok"] = "a\0b" }, { ["X-Ok"] = "a\1b" }, { ["X-Ok"] = "a\127b" },
      { ["X-Ok"] = { "a", "b\r\nevil: 1" } },
      { ["X-Ok"] = { x = 1 } }, { ["X-Ok"] = setmetatable({}, { __tostring = raises }) },
      setmetatable({}, { __pairs = raises }), setmetatable({}, { __pairs = function() return 42 end }) }
    for _, headers in ipairs(bad) do
      local _, _, port = start(function() return 200, headers, "never" end, { quiet = true })
      local code, all = raw_exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
      assert.are.equal(500, code)
      assert.is_nil(all:find("never", 1, true))
      assert.is_nil(all:find("evil", 1, true))
    end
    local script = os.tmpname()
    finally(function() os.remove(script) end)
    local f = assert(io.open(script, "w"))
    f:write([[
      local srv = net.http.serve("127.0.0.1", 0, function() return 200, { ["Bad Name"] = "v" }, "x" end)
      local _, port = srv:getsockname()
      print((net.http.get("http://127.0.0.1:" .. port .. "/", { timeout = 5 })))
      srv:close()
    ]])
    f:close()
    local p = assert(io.popen(os.getenv("NETLUA") .. " " .. script .. " 2>&1"))
    local out = p:read("a")
    p:close()
    assert.matches('bad header field "Bad Name"', out, 1, true)
    assert.matches("\n500\n", "\n" .. out)
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
  -- Run shell command cmd in the background, serving meanwhile; returns
  -- exit code, stdout, stderr once it ends (bounded by `limit` seconds).
  local function bg(cmd, limit)
    local out, err, rc = os.tmpname(), os.tmpname(), os.tmpname()
    os.remove(rc)
    os.execute("{ (" .. cmd .. ") >" .. out .. " 2>" .. err .. " </dev/null; echo $? >" .. rc .. ".t; mv " ..
      rc .. ".t " .. rc .. "; } >/dev/null 2>&1 &")
    local t0 = net.now()
    local code
    while net.now() - t0 < (limit or 20) do
      local f = io.open(rc)
      if f then code = tonumber(f:read("a")); f:close(); break end
      net.sleep(0.02)
    end
    local function slurp(n) local f = io.open(n, "rb"); local s = f and f:read("a") or ""; if f then f:close() end; os.remove(n); return s end
    os.remove(rc)
    return code, slurp(out), slurp(err)
  end

  it_serve("reads a chunked request body and streams function and file bodies", function()
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "wb")); f:write(("0123456789"):rep(10000)); f:close()
    local srv, base, port = start(function(req)
      if req.path == "/echo" then return 200, { ["Content-Type"] = "text/plain" }, req.body end
      if req.path == "/gen" then
        local i = 0
        return 200, {}, function() i = i + 1; if i <= 3 then return "part" .. i .. "\n" end end
      end
      if req.path == "/file" then return 200, {}, assert(io.open(tmp, "rb")) end
      if req.path:find("^/params") then return 200, {}, req.params.a .. "|" .. req.params.b .. "|" .. req.decoded_path end
      return 404, {}, "no\n"
    end)
    local code, all = raw_exchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n" ..
      "Connection: close\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n")
    assert.are.equal(200, code)
    assert.matches("\r\n\r\nabcdefg$", all)
    local status, h, body = http.get(base .. "/gen", { timeout = 5 })
    assert.are.same({ 200, "chunked", "part1\npart2\npart3\n" }, { status, h["transfer-encoding"], body })
    status, h, body = http.get(base .. "/file", { timeout = 5 })
    assert.are.same({ 200, "100000", 100000 }, { status, h["content-length"], #body })
    status, _, body = http.get(base .. "/params%20x?a=1+2&b=%41%26", { timeout = 5 })
    assert.are.same({ 200, "1 2|A&|/params x" }, { status, body })
    -- HTTP/1.0 gets the generated body delimited by close
    code, all = raw_exchange(port, "GET /gen HTTP/1.0\r\n\r\n")
    assert.are.equal(200, code)
    assert.matches("Connection: close\r\n", all, 1, true)
    assert.matches("\r\n\r\npart1\npart2\npart3\n$", all)
    srv:close()
    os.remove(tmp)
  end)

  it_serve("keeps HTTP/1.1 connections open, and HTTP/1.0 only when asked", function()
    local srv, _, port = start(function(req) return 200, {}, "hi " .. req.path end)
    local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    local seen = {}
    for _ = 1, 2 do
      assert.are.equal("HTTP/1.1 200 OK", c:receive("l"))
      local n
      repeat
        local l = c:receive("l")
        n = n or tonumber(l:match("^Content%-Length: (%d+)"))
      until l == ""
      seen[#seen + 1] = c:receive(n)
    end
    assert.are.same({ "hi /a", "hi /b" }, seen)
    c:send("GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert.matches("hi /c$", c:receive("a"))
    local srv2, _, port2 = start(function() return 200, { Connection = "close" }, "bye" end)
    local code, all = raw_exchange(port2, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")  -- the handler closes
    assert.are.equal(200, code)
    assert.matches("Connection: close\r\n.*bye$", all)
    srv2:close()
    local code, all = raw_exchange(port, "GET /d HTTP/1.0\r\n\r\n")   -- closes by itself
    assert.are.equal(200, code)
    assert.matches("hi /d$", all)
    local k <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    k:send("GET /e HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    local head = {}
    repeat local l = k:receive("l"); head[#head + 1] = l until l == ""
    assert.matches("Connection: keep%-alive", table.concat(head, "\n"))
    assert.are.equal("hi /e", k:receive(5))
    k:send("GET /f HTTP/1.0\r\n\r\n")
    assert.matches("hi /f$", k:receive("a"))
    srv:close()
  end)

  it_serve("closes a keep-alive connection after opts.idle seconds of silence", function()
    local srv, _, port = start(function() return 200, {}, "ok" end, { idle = 0.3 })
    local c <close> = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    c:send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    repeat local l = c:receive("l") until l == ""
    assert.are.equal("ok", c:receive(2))
    local t0 = net.now()
    local rest, err = c:receive("a")
    assert.are.equal("", rest or "", err)
    assert.is_true(net.now() - t0 > 0.2 and net.now() - t0 < 2, "closed after " .. (net.now() - t0))
    srv:close()
  end)

  it_serve("answers 413, 501, 505, 400 for a bad target, and lets the handler say 405", function()
    local srv, base, port = start(function(req)
      if req.method ~= "GET" then return 405, { Allow = "GET" }, "" end
      return 200, {}, "ok"
    end, { maxbody = 1000 })
    local status = http.request { method = "POST", url = base .. "/", body = ("x"):rep(5000), timeout = 5 }
    assert.are.equal(413, status)
    assert.are.equal(405, (http.request { method = "DELETE", url = base .. "/", timeout = 5 }))
    assert.are.equal(501, (raw_exchange(port, "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n")))
    assert.are.equal(505, (raw_exchange(port, "GET / HTTP/2.0\r\nHost: x\r\n\r\n")))
    assert.are.equal(400, (raw_exchange(port, "GET nopath HTTP/1.1\r\nHost: x\r\n\r\n")))
    assert.are.equal(400, (raw_exchange(port, "GET / HTTP/1.1\r\n\r\n")))        -- no Host
    assert.are.equal(400, (raw_exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n")))
    assert.are.equal(400, (raw_exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n")))
    assert.are.equal(400, (raw_exchange(port, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")))
    assert.are.equal(200, (http.get(base .. "/", { timeout = 5 })))
    srv:close()
  end)

  it_serve("survives half a request, binary garbage and a reset client", function()
    local srv, base, port = start(function() return 200, {}, "ok" end, { timeout = 1 })
    local half = assert(net.connect("127.0.0.1", port))
    half:send("GET / HTTP/1.1\r\nHost: x\r\nX-")
    half:close()
    local garbage = {}
    for i = 0, 255 do garbage[#garbage + 1] = string.char((i * 37) % 256) end
    local code = raw_exchange(port, table.concat(garbage):rep(4) .. "\r\n\r\n")
    assert.truthy(code == nil or code == 400, tostring(code))
    -- a reset: SO_LINGER 0 is not reachable from Lua, so a peer process does it
    local rc = bg("printf 'POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 100\\r\\n\\r\\nab' | " ..
      "socat -t0.2 - TCP:127.0.0.1:" .. port .. ",linger=0", 10)
    assert.are.equal(0, rc)
    assert.are.equal(200, (http.get(base .. "/", { timeout = 5 })))
    srv:close()
  end)

  it_serve("answers a good client within 100 ms while a slow one drips", function()
    local srv, base, port = start(function() return 200, {}, "ok" end, { timeout = 3 })
    local slow = assert(net.connect("127.0.0.1", port, { timeout = 5 }))
    local dripping = true
    net.spawn(function()
      for ch in ("GET / HTTP/1.1\r\nHost: x\r\n"):gmatch(".") do
        if not dripping or not slow:send(ch) then return end
        net.sleep(0.05)
      end
    end)
    net.sleep(0.1)
    for _ = 1, 5 do
      local t0 = net.now()
      assert.are.equal(200, (http.get(base .. "/", { timeout = 2 })))
      assert.is_true(net.now() - t0 < 0.1, "took " .. (net.now() - t0))
    end
    dripping = false
    slow:close()
    srv:close()
  end)

  it_serve("serves curl: keep-alive reuse with two URLs, 20 at once", function()
    local srv, base = start(function(req) return 200, { ["Content-Type"] = "text/plain" }, "path " .. req.path .. "\n" end)
    local code, out, err = bg("curl -sv --max-time 10 " .. base .. "/one " .. base .. "/two", 10)
    assert.are.equal(0, code, err)
    assert.are.equal("path /one\npath /two\n", out)
    assert.matches("Re%-using existing connection", err)
    local cmd = {}
    for i = 1, 20 do cmd[#cmd + 1] = "curl -sf --max-time 10 " .. base .. "/p" .. i .. " &" end
    code, out = bg(table.concat(cmd, " ") .. " wait", 20)
    assert.are.equal(0, code)
    local n = 0
    for _ in out:gmatch("path /p%d+\n") do n = n + 1 end
    assert.are.equal(20, n)
    srv:close()
  end)

  it_serve("takes wrk -t2 -c50 -d2s with no errors and no non-2xx replies", function()
    local srv, base = start(function() return 200, { ["Content-Type"] = "text/plain" }, "hello\n" end)
    local code, out, err = bg("wrk -t2 -c50 -d2s " .. base .. "/", 30)
    srv:close()
    assert.are.equal(0, code, err)
    assert.matches("Requests/sec", out)
    assert.is_nil(out:find("Non%-2xx"), out)
    assert.is_nil(out:find("Socket errors"), out)
  end)
end)
