-- spec/support/dns_helper.lua: private DNS servers on loopback high ports
-- for the DNS specs and benchmarks.
--   start() -> env: dnsmasq serving the test zone on 127.0.0.1 and ::1
--     (env.port), a black hole that never answers (env.silent_port), a
--     server answering SERVFAIL (env.servfail_port), one answering with a
--     record owned by another name (env.other_port), a TCP server that
--     closes every connection at once (env.closer_port), and a port where
--     nothing listens (env.closed_port); env.stop() ends them.
--   The zone (below) is the specs' own: ZONE lists what each name holds.
local common = require "spec.support.common"
local q = common.q

local M = {}

-- A DNS name in wire format, as hex (for --dns-rr).
local function wire_name(n)
  local out = {}
  for label in n:gmatch("[^.]+") do
    out[#out + 1] = string.format("%02x", #label)
      .. label:gsub(".", function(c) return string.format("%02x", c:byte()) end)
  end
  return table.concat(out) .. "00"
end

local function u32(n) return string.format("%08x", n) end

M.SOA = { mname = "ns1.test", rname = "hostmaster.test", serial = 2024010101,
          refresh = 3600, retry = 600, expire = 86400, minimum = 60 }
M.LONG_TXT = ("0123456789"):rep(30) .. "!"  -- 301 bytes: split in 255 + 46
M.MANY = 60                                  -- A records of many.test (> 512 bytes)
M.NHOSTS = 300                               -- hN.test, for concurrent lookups

-- The address of hN.test.
function M.host_addr(i)
  return string.format("10.77.%d.%d", i // 256, i % 256)
end

-- dnsmasq's configuration for the test zone.
local function zone_conf(hostsfile)
  local soa = M.SOA
  local lines = {
    "no-resolv", "no-hosts", "bind-interfaces", "local=/test/", "local-ttl=300",
    "local=/2.0.192.in-addr.arpa/",
    "addn-hosts=" .. hostsfile,
    "host-record=www.test,192.0.2.10,2001:db8::10",
    "host-record=mail.test,192.0.2.25", "host-record=mx0.test,192.0.2.26",
    "host-record=mx2.test,192.0.2.27",
    "mx-host=test,mail.test,10", "mx-host=test,mx0.test,5", "mx-host=test,mx2.test,20",
    'txt-record=txt.test,"hello world","second string"',
    'txt-record=long.test,"' .. M.LONG_TXT .. '"',
    "srv-host=_sip._tcp.test,sip1.test,5060,10,60",
    "srv-host=_sip._tcp.test,sip2.test,5061,10,40",
    "srv-host=_sip._tcp.test,sip0.test,5062,5,0",
    "srv-host=_sip._tcp.test,sip3.test,5063,20,0",
    "cname=alias.test,www.test",
    "caa-record=test,0,issue,letsencrypt.org",
    "caa-record=test,128,iodef,mailto:security@test",
    "ptr-record=5.2.0.192.in-addr.arpa,five.test",
    "dns-rr=test,6," .. wire_name(soa.mname) .. wire_name(soa.rname) .. u32(soa.serial)
      .. u32(soa.refresh) .. u32(soa.retry) .. u32(soa.expire) .. u32(soa.minimum),
    "dns-rr=test,2," .. wire_name("ns1.test"),
    "dns-rr=test,2," .. wire_name("ns2.test"),
  }
  for i = 1, M.MANY do
    lines[#lines + 1] = string.format("host-record=many.test,198.51.100.%d", i)
  end
  return table.concat(lines, "\n") .. "\n"
end

-- A server answering every question with rcode `rcode` (lua5.4 behind
-- socat, one process per datagram).
local FAKE = [[
local rcode = tonumber(arg[1])
local h = io.stdin:read(12)
if not h or #h < 12 then return end
local qname = {}
while true do
  local n = io.stdin:read(1)
  if not n then return end
  qname[#qname + 1] = n
  if n:byte() == 0 then break end
  qname[#qname + 1] = io.stdin:read(n:byte())
end
local tail = io.stdin:read(4) or ""
if arg[2] == "other" then  -- NOERROR, one A record owned by "other."
  io.stdout:write(h:sub(1, 2), string.char(0x81, 0x80), "\0\1\0\1\0\0\0\0",
    table.concat(qname), tail, "\5other\0", "\0\1\0\1\0\0\0\60\0\4", "\9\9\9\9")
  return
end
io.stdout:write(h:sub(1, 2), string.char(0x81, 0x80 | rcode), "\0\1\0\0\0\0\0\0",
  table.concat(qname), tail)
]]

local function write(path, s)
  local f = assert(io.open(path, "w"))
  f:write(s)
  f:close()
end

-- A free-looking high port (random, then checked by the server's start).
local function pick_port()
  local p = io.popen("shuf -i 20000-60000 -n 1")
  local n = tonumber(p:read("l"))
  p:close()
  return n
end

-- True when something answers UDP DNS on port (dnsmasq also listens TCP).
local function wait_up(port)
  return common.wait_port(port, 5)
end

-- Start a background command; returns its pid.
local function spawn(cmd, log)
  local p = io.popen(cmd .. " >" .. q(log) .. " 2>&1 & echo $!")
  local pid = tonumber(p:read("l"))
  p:close()
  return pid
end

local function alive(pid)
  return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true
end

-- Start dnsmasq with the test zone (and the helpers); returns env.
function M.start()
  local env = { pids = {} }
  local p = io.popen("mktemp -d /tmp/netlua-dns.XXXXXX")
  env.dir = p:read("l")
  p:close()
  local hosts = {}
  for i = 1, M.NHOSTS do hosts[#hosts + 1] = M.host_addr(i) .. " h" .. i .. ".test" end
  write(env.dir .. "/hosts", table.concat(hosts, "\n") .. "\n")
  write(env.dir .. "/dnsmasq.conf", zone_conf(env.dir .. "/hosts"))
  write(env.dir .. "/fake.lua", FAKE)
  for _ = 1, 10 do
    env.port = pick_port()
    local pid = spawn("exec dnsmasq -k -C " .. q(env.dir .. "/dnsmasq.conf")
      .. " --port=" .. env.port .. " --listen-address=127.0.0.1,::1 --pid-file="
      .. " --user=root --group=root", env.dir .. "/dnsmasq.log")
    if wait_up(env.port) and alive(pid) then
      env.pids[#env.pids + 1] = pid
      break
    end
    os.execute("kill " .. pid .. " 2>/dev/null")
    env.port = nil
  end
  assert(env.port, "dnsmasq did not start: see " .. env.dir .. "/dnsmasq.log")
  env.silent_port = pick_port()
  env.pids[#env.pids + 1] = spawn("exec socat -u UDP4-RECVFROM:" .. env.silent_port
    .. ",bind=127.0.0.1,fork OPEN:/dev/null", env.dir .. "/silent.log")
  env.servfail_port = pick_port()
  env.pids[#env.pids + 1] = spawn("exec socat -T2 UDP4-RECVFROM:" .. env.servfail_port
    .. ",bind=127.0.0.1,fork " .. q("EXEC:lua5.4 " .. env.dir .. "/fake.lua 2"),
    env.dir .. "/servfail.log")
  env.other_port = pick_port()
  env.pids[#env.pids + 1] = spawn("exec socat -T2 UDP4-RECVFROM:" .. env.other_port
    .. ",bind=127.0.0.1,fork " .. q("EXEC:lua5.4 " .. env.dir .. "/fake.lua 0 other"),
    env.dir .. "/other.log")
  env.closer_port = pick_port()
  env.pids[#env.pids + 1] = spawn("exec socat TCP4-LISTEN:" .. env.closer_port
    .. ",bind=127.0.0.1,reuseaddr,fork,linger=0 EXEC:true", env.dir .. "/closer.log")
  env.closed_port = pick_port()
  os.execute("sleep 0.2")
  env.server = "127.0.0.1:" .. env.port
  env.server6 = "[::1]:" .. env.port
  function env.stop()
    for _, pid in ipairs(env.pids) do os.execute("kill " .. pid .. " 2>/dev/null") end
    os.execute("sleep 0.1")
    os.execute("rm -rf " .. q(env.dir))
  end
  return env
end

return M
