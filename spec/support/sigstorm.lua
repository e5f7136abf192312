-- spec/support/sigstorm.lua: run at netlua's prompt (dofile) while another
-- process sends SIGWINCH every millisecond or so (the prompt's handler makes
-- every slow system call return EINTR). Connects, accepts, receives 100 kB
-- through a task, sleeps and asks a DNS server (a task answering on UDP)
-- ROUNDS times; prints "STORM ok N errors E" where ok counts rounds with
-- every byte and every answer right, errors lists the first failure.
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
    if got ~= data then fail("receive", rerr or #got)
    elseif not r or r[1].address ~= "127.0.0.1" then fail("lookup", derr)
    else ok = ok + 1 end
    c:close()
  end
end
s:close()
dns:close()
net.run()
print("STORM ok " .. ok .. " errors " .. (first or "none"))
