-- spec/support/sigstorm.lua: run at netlua's prompt (dofile) while another
-- process sends SIGWINCH every millisecond or so (the prompt's handler makes
-- every slow system call return EINTR). Connects, accepts, receives 100 kB
-- through a task, sleeps and asks a DNS server (a task answering on UDP)
-- ROUNDS times; with STORM_TLS = {cert, key, ca} set (paths of
-- spec/support/tls_helper.lua's certificates), each round also makes a TLS
-- connection (the client handshake here, the server's in a task accepting
-- on net.listen{tls}) and receives 100 kB over it. Prints "STORM ok N
-- errors E" where ok counts rounds with every byte and every answer right,
-- errors lists the first failure.
local ROUNDS = 150
local SIZE = 100000

-- A minimal DNS server: every A question gets 127.0.0.1.
local dns = assert(net.udp())
assert(dns:bind("127.0.0.1", 0))
local _, dport = dns:getsockname()
local server = net.spawn(function()
  while true do
    local q, host, port = dns:receivefrom()
    if not q then return end
    local i = 13
    while q:byte(i) ~= 0 do i = i + q:byte(i) + 1 end
    dns:sendto(q:sub(1, 2) .. "\129\128\0\1\0\1\0\0\0\0" .. q:sub(13, i + 4) ..
               "\192\12\0\1\0\1\0\0\0\60\0\4\127\0\0\1", host, port)
  end
end)

local s = assert(net.listen("127.0.0.1", 0))
local _, port = s:getsockname()
local tls = STORM_TLS
local ts = tls and assert(net.listen("127.0.0.1", 0, {tls = {cert = tls.cert, key = tls.key}}))
local tport = ts and select(2, ts:getsockname())
local ok, first = 0, nil
local data = ("0123456789"):rep(SIZE // 10)
for round = 1, ROUNDS do
  local function fail(what, err)
    first = first or ("round " .. round .. ": " .. what .. ": " .. tostring(err))
  end
  local c, err = net.connect("127.0.0.1", port, {timeout = 5})
  local a, aerr = s:accept(5)
  if not c or not a then
    fail("connect/accept", err or aerr)
  else
    net.spawn(function() a:send(data); a:close() end)
    c:settimeout(5)
    local got, rerr = c:receive("a")
    net.sleep(0.001)
    local r, derr = net.lookup("storm.test", "A", {server = "127.0.0.1:" .. dport, timeout = 5})
    local tlsok = true
    if ts then  -- both handshakes under the storm, then the data over TLS
      local served = false
      net.spawn(function()
        local ta, taerr = ts:accept(5)
        if not ta then
          fail("tls accept", taerr)
        else
          local sent, serr = ta:send(data)
          if not sent then fail("tls send", serr) end
          ta:close()
        end
        served = true
      end)
      local tc, terr = net.connect("localhost", tport, {tls = {ca = tls.ca}, timeout = 5})
      local tgot
      if tc then tgot, terr = tc:receive("a"); tc:close() end
      if tgot ~= data then fail("tls connect/receive", terr or #tgot); tlsok = false end
      for _ = 1, 5000 do  -- the server's task ends within its 5 s
        if served then break end
        net.sleep(0.001)
      end
    end
    if got ~= data then fail("receive", rerr or #got)
    elseif not r or r[1].address ~= "127.0.0.1" then fail("lookup", derr)
    elseif tlsok then ok = ok + 1 end
    c:close()
  end
end
s:close()
if ts then ts:close() end
dns:close()
net.run()
print("STORM ok " .. ok .. " errors " .. (first or "none"))
