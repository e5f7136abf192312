-- spec/support/load_child.lua: the processes of spec/hardening_load.lua.
-- Each prints "READY <port>" (servers) or its results as "RESULT k=v ..."
-- on stdout, one line each, flushed.
--   echo                 net.serve line echo (max 20000, backlog 4096)
--   rawecho              net.serve echoing raw bytes until the client's end
--   lineserve            net.serve whose handler reads lines and answers each
--   httpserve            net.http.serve answering "hello"
--   longline CAP         one connection, linelimit CAP: receive("l") on a
--                        line that never ends; RESULT err, partial, and
--                        grown: bytes the peak grew (spec/support/peak.lua)
--   clients N HOLD EVERY PORT
--                        N connections to the echo server, held HOLD s
--                        after the last one connected, each sending a
--                        checked line every EVERY s
--   slow N KIND PORT EVERY HOLD
--                        N slowloris clients: one byte every EVERY s of a
--                        request that never ends (KIND http: a header;
--                        line: a line), for HOLD s
local net = require "net"
local mode = arg[1]

local function say(s) io.stdout:write(s, "\n"); io.stdout:flush() end

-- Peak resident memory (VmHWM) of this process, KiB.
local function hwm()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a"); f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)"))
end

local function server(handler, opts)
  local srv = assert(net.serve("127.0.0.1", 0, handler, opts))
  local _, port = srv:getsockname()
  say("READY " .. port)
  net.run()
end

if mode == "echo" then
  server(function(c)
    for line in c:lines() do
      if not c:send(line .. "\n") then return end
    end
  end, { max = 20000, backlog = 4096 })
elseif mode == "rawecho" then
  server(function(c)
    while true do
      local data, err, partial = c:receive(65536)
      data = data or partial
      if data and #data > 0 and not c:send(data) then return end
      if err then c:shutdown("send"); return end
    end
  end)
elseif mode == "lineserve" then
  server(function(c)
    while true do
      local l = c:receive("l")
      if not l then return end
      c:send("got " .. l .. "\n")
    end
  end)
elseif mode == "httpserve" then
  local srv = assert(net.http.serve("127.0.0.1", 0, function()
    return 200, { ["Content-Type"] = "text/plain" }, "hello\n"
  end))
  local _, port = srv:getsockname()
  say("READY " .. port)
  net.run()
elseif mode == "longline" then
  local cap = tonumber(arg[2])
  local s = assert(net.listen("127.0.0.1", 0, { linelimit = cap }))
  local _, port = s:getsockname()
  say("READY " .. port)
  local c = assert(s:accept(30))
  local peak = require "spec.support.peak"
  -- the peak is inside receive: the partial made, the buffer not yet given back
  c:settrace(function(what) if what == "receive" then peak.sample() end end)
  peak.start()
  local l, err, partial = c:receive("l")
  local grown = peak.grown()
  c:close()
  say(string.format("RESULT line=%s err=%s partial=%d grown=%d",
    tostring(l and #l), tostring(err):gsub(" ", "_"), partial and #partial or -1, grown))
elseif mode == "clients" then
  local n, hold, every, port = tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5])
  local connected, live, maxlive, done = 0, 0, 0, 0
  local msgs, bytes, bad, errors = 0, 0, 0, 0
  local firsterr
  local stop = false
  local function client(id)
    local c, err = net.connect("127.0.0.1", port, { timeout = 30 })
    if not c then
      errors = errors + 1; firsterr = firsterr or err; done = done + 1
      return
    end
    c:settimeout(30)
    connected = connected + 1
    live = live + 1
    if live > maxlive then maxlive = live end
    net.sleep(every * (id % 97) / 97)  -- spread the lines over the period
    local seq = 0
    while not stop do
      seq = seq + 1
      -- every byte value but LF and CR (a line's end), in an order that
      -- depends on id and seq
      local t = {}
      local len = 20 + (id * 7 + seq * 13) % 200
      for i = 1, len do
        local b = (id * 31 + seq * 17 + i * 5) % 254
        if b >= 10 then b = b + 1 end
        if b >= 13 then b = b + 1 end
        t[i] = string.char(b)
      end
      local msg = id .. " " .. seq .. " " .. table.concat(t)
      local ok, serr = c:send(msg .. "\n")
      local l, rerr = ok and c:receive("l")
      if l ~= msg then
        if l then bad = bad + 1 else errors = errors + 1; firsterr = firsterr or serr or rerr end
        break
      end
      msgs = msgs + 1
      bytes = bytes + #msg + 1
      net.sleep(every)
    end
    live = live - 1
    c:close()
    done = done + 1
  end
  local t0 = net.now()
  for i = 1, n do
    net.spawn(client, i)
    if i % 250 == 0 then net.sleep(0.02) end  -- no SYN storm past the backlog
  end
  while connected + errors < n and net.now() - t0 < 120 do net.sleep(0.05) end
  local ramp = net.now() - t0
  net.sleep(hold)
  local livehold = live
  stop = true
  while done < n and net.now() - t0 < ramp + hold + 60 do net.sleep(0.05) end
  say(string.format("RESULT connected=%d maxlive=%d livehold=%d msgs=%d bytes=%d bad=%d errors=%d " ..
    "ramp=%.1f peakkib=%d firsterr=%s", connected, maxlive, livehold, msgs, bytes, bad, errors, ramp,
    (hwm()), tostring(firsterr)))
elseif mode == "slow" then
  local n, kind, port, every, hold = tonumber(arg[2]), arg[3], tonumber(arg[4]),
    tonumber(arg[5]), tonumber(arg[6])
  local head = kind == "http" and "GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: " or "slow line "
  local connected, closed = 0, 0
  local t0 = net.now()
  for i = 1, n do
    net.spawn(function()
      local c = net.connect("127.0.0.1", port, { timeout = 10 })
      if not c then return end
      connected = connected + 1
      net.sleep(every * (i % 50) / 50)
      local k = 0
      while net.now() - t0 < hold do
        k = k + 1
        local b = k <= #head and head:sub(k, k) or "a"
        if not c:send(b) then closed = closed + 1; break end
        net.sleep(every)
      end
      c:close()
    end)
    if i % 100 == 0 then net.sleep(0.01) end
  end
  while connected < n and net.now() - t0 < 10 do net.sleep(0.05) end
  say("HOLDING " .. connected)
  net.run()
  say(string.format("RESULT connected=%d closedbyserver=%d", connected, closed))
end
