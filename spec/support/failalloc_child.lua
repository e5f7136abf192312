-- spec/support/failalloc_child.lua: one operation under the failing
-- allocator (build-failalloc/netlua, src/failalloc.c), run in a child
-- process by spec/hardening_failalloc.lua.
--   netlua failalloc_child.lua OP N [PEER [K]]
-- Sets OP up (unarmed), arms _FAILALLOC to fail allocation N (N = 0: only
-- count), runs OP, disarms, then checks: the operation gave a result, or
-- nil and a message, or raised Lua's "not enough memory". Prints one line
--   RESULT <ok|nil|mem> COUNT <allocations> FAILED <failed> DELTA <d> [message]
-- where d is descriptors after minus before (after the objects are
-- collected); the parent checks d equals the unarmed run's.
-- and exits 0, or prints BAD <why> and exits 3.
-- K: how many allocations in a row fail (default 2).
-- PEER: for dns, "127.0.0.1:port" of a DNS server; for http, a URL; for
-- tls, "PORT:CA"; for tlsaccept, "CERT:KEY" (see ops.tls, ops.tlsaccept).
local net = require "net"
local op, N, peer, K = arg[1], tonumber(arg[2]), arg[3], tonumber(arg[4])
local FA = assert(_FAILALLOC, "not the failalloc build")

local function fds()
  collectgarbage(); collectgarbage()
  -- pipes are left out: the listing's own pipe is seen with one end or two
  local p = io.popen("ls -l /proc/$PPID/fd | sed -n 's/.* \\([0-9]* -> \\)/\\1/p' | grep -v pipe:")
  local list = p:read("a"); p:close()
  local n = 0
  for _ in list:gmatch("\n") do n = n + 1 end
  return n, list:gsub("\n", "  ")
end

local keep = {}   -- objects made by the set-up, closed after the count
local ops = {}

function ops.connect()
  local s = assert(net.listen("127.0.0.1", 0)); keep[#keep + 1] = s
  local _, port = s:getsockname()
  return function()
    local c, err = net.connect("127.0.0.1", port, { timeout = 3 })
    if c then c:close() end
    return c, err
  end
end

function ops.accept()
  local s = assert(net.listen("127.0.0.1", 0)); keep[#keep + 1] = s
  local _, port = s:getsockname()
  keep[#keep + 1] = assert(net.connect("127.0.0.1", port))
  return function()
    local c, err = s:accept(3)
    if c then c:close() end
    return c, err
  end
end

function ops.receive()
  local s = assert(net.listen("127.0.0.1", 0)); keep[#keep + 1] = s
  local _, port = s:getsockname()
  local c = assert(net.connect("127.0.0.1", port)); keep[#keep + 1] = c
  local a = assert(s:accept(3)); keep[#keep + 1] = a
  assert(a:send("hello world\n" .. ("x"):rep(20000) .. "\nlast"))
  a:shutdown("send")
  return function()
    local l, err = c:receive("l")
    if not l then return nil, err end
    local n; n, err = c:receive(20000)
    if not n then return nil, err end
    return c:receive("a")
  end
end

function ops.dns()
  return function()
    local r, err = net.lookup("www.test", "A", { server = peer, timeout = 3 })
    if not r then return nil, err end
    r, err = net.resolve("www.test", { server = peer, timeout = 3 })
    if not r then return nil, err end
    return net.lookup("test", "MX", { server = peer, timeout = 3 })
  end
end

function ops.http()
  return function()
    local status, headers, body = net.http.get(peer, { timeout = 3 })
    if not status then return nil, headers end
    return body and #body > 0 and status or nil, "empty body"
  end
end

-- A TLS client handshake (net.connect with opts.tls, verified against
-- the test CA) to nginx, then a request and the status line back. PEER:
-- "PORT:CA" (spec/support/tls_helper.lua's nginx, TLS 1.3, and its CA).
-- OpenSSL's one-time set-up (providers, algorithms) is done unarmed first,
-- with other options: the walk covers the context (the CA file) and the
-- handshake.
function ops.tls()
  local port, ca = peer:match("^(%d+):(.+)$")
  local function get(opts)
    local c, err = net.connect("127.0.0.1", tonumber(port), { timeout = 3, tls = opts })
    if not c then return nil, err end
    local l; l, err = c:send("GET /index.html HTTP/1.0\r\n\r\n")
    if l then l, err = c:receive("l") end
    c:close()
    return l, err
  end
  assert(get({ ca = ca, minversion = "1.2" }))
  return function() return get({ ca = ca }) end
end

-- A TLS server handshake (server:accept on net.listen with opts.tls) of
-- an openssl s_client, then its line. PEER: "CERT:KEY". Two clients are
-- started unarmed (one for the walked accept, one for the child's second,
-- unarmed run); each ends when its connection or the listener closes.
function ops.tlsaccept()
  local cert, key = peer:match("^([^:]+):(.+)$")
  local s = assert(net.listen("127.0.0.1", 0, { tls = { cert = cert, key = key } })); keep[#keep + 1] = s
  local _, port = s:getsockname()
  for _ = 1, 2 do
    os.execute(("(echo ping | timeout 10 openssl s_client -quiet -connect 127.0.0.1:%d) >/dev/null 2>&1 &")
      :format(port))
  end
  return function()
    local c, err = s:accept(3)
    if not c then return nil, err end
    local l; l, err = c:receive("l")
    c:close()
    return l, err
  end
end

local setup = assert(ops[op], "unknown op " .. tostring(op))
net.http = net.http  -- load lazily-loaded parts before counting
net.serve = net.serve
local run = setup()
net.run()  -- makes the loop (its epoll descriptor) now: net.sleep(0.001) may
           -- return without waiting, so without it, on a loaded machine
local before, blist = fds()
FA.arm(N, K or 2)
local ok, r, err = pcall(run)
local count, failed = FA.disarm(), FA.failed()
local kind, msg
if not ok then
  kind, msg = "mem", r
  if r ~= "not enough memory" then
    print("BAD raised: " .. tostring(r)); os.exit(3)
  end
elseif r then
  kind = "ok"
else
  kind, msg = "nil", err
  if type(err) ~= "string" or err == "" then
    print("BAD nil without a message: " .. tostring(err)); os.exit(3)
  end
end
r = nil
-- run it again unarmed: what the first use keeps (the DNS channel's socket,
-- an HTTP connection kept alive) then exists whether or not the armed run
-- made it; the parent compares DELTA with the unarmed run's
pcall(run)
local after, alist = fds()
if os.getenv("FA_DEBUG") or after ~= before then print(blist) print(alist) end
for _, o in ipairs(keep) do o:close() end
print(string.format("RESULT %s COUNT %d FAILED %d DELTA %d %s", kind, count, failed,
  after - before, msg or ""))
