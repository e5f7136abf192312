#!/bin/sh
# bench/tcp_many.sh: 1,000 concurrent connections from one process, each
# sending one request line and reading one reply, against a netlua server
# in another process. netlua tasks vs LuaSocket + select vs cqueues (both
# under lua5.4): elapsed time (date) and peak RSS (/usr/bin/time); then 10,000
# connections for netlua alone (past select's limit). Best of 3 each.
cd "$(dirname "$0")/.." || exit 1
. bench/tcp_common.shlib
RUNS=${RUNS:-3}
PORT=$((PORT_BASE + 200))
ulimit -n 20000 2>/dev/null

cat > /tmp/many-server.lua <<'LUA'
local s = assert(net.listen("127.0.0.1", tonumber(arg[1]), { backlog = 65535 }))
print("ready"); io.stdout:flush()
while true do
  local c = s:accept()
  net.spawn(function()
    local l = c:receive()
    if l then c:send("re " .. l .. "\n") end
    c:close()
  end)
end
LUA
cat > /tmp/many-netlua.lua <<'LUA'
local port, n, ok = tonumber(arg[1]), tonumber(arg[2]), 0
for i = 1, n do
  net.spawn(function()
    local c = assert(net.connect("127.0.0.1", port, { timeout = 30 }))
    c:send("req " .. i .. "\n")
    if c:receive() == "re req " .. i then ok = ok + 1 end
    c:close()
  end)
end
net.run()
assert(ok == n, "ok " .. ok)
LUA
cat > /tmp/many-luasocket.lua <<'LUA'
local socket = require "socket"
local port, n, ok = tonumber(arg[1]), tonumber(arg[2]), 0
local conns, idx = {}, {}
for i = 1, n do
  local c = socket.tcp(); c:settimeout(0)
  c:connect("127.0.0.1", port)
  conns[i] = c; idx[c] = i
end
local pending, wr = {}, {}
for i = 1, n do wr[i] = conns[i] end
local sent = {}
while next(wr) do       -- wait until connected, send the request
  local _, w = socket.select(nil, wr, 5)
  for _, c in ipairs(w) do
    c:send("req " .. idx[c] .. "\n"); sent[c] = true
  end
  local rest = {}
  for _, c in ipairs(wr) do if not sent[c] then rest[#rest + 1] = c end end
  wr = rest
end
for i = 1, n do pending[i] = conns[i] end
while #pending > 0 do   -- read each reply
  local r = socket.select(pending, nil, 5)
  local done = {}
  for _, c in ipairs(r) do
    local l = c:receive("*l")
    if l == "re req " .. idx[c] then ok = ok + 1 end
    done[c] = true; c:close()
  end
  local rest = {}
  for _, c in ipairs(pending) do if not done[c] then rest[#rest + 1] = c end end
  pending = rest
end
assert(ok == n, "ok " .. ok)
LUA
cat > /tmp/many-cqueues.lua <<'LUA'
local cqueues = require "cqueues"
local socket = require "cqueues.socket"
local port, n, ok = tonumber(arg[1]), tonumber(arg[2]), 0
local cq = cqueues.new()
for i = 1, n do
  cq:wrap(function()
    local c = socket.connect("127.0.0.1", port)
    c:setmode("b", "b")
    c:write("req " .. i .. "\n"); c:flush()
    if c:read("*l") == "re req " .. i then ok = ok + 1 end
    c:close()
  end)
end
assert(cq:loop())
assert(ok == n, "ok " .. ok)
LUA

"$NETLUA" /tmp/many-server.lua "$PORT" > /tmp/netlua-many-ready &
SERVER=$!
for _ in $(seq 200); do grep -q ready /tmp/netlua-many-ready 2>/dev/null && break; sleep 0.02; done

measure() {  # prints "seconds maxrss_kib" of one run of "$@"
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o /tmp/netlua-many-time "$@" >/dev/null 2>/tmp/netlua-many-err || cat /tmp/netlua-many-err >&2
  t1=$(date +%s.%N)
  sleep 0.2
  echo "$t0 $t1 $(cat /tmp/netlua-many-time)" | awk '{ printf "%.4f %d", $2 - $1, $3 }'
}
nt=""; nm=""; lt=""; lm=""; ct=""; cm=""
for i in $(seq "$RUNS"); do
  set -- $(measure "$NETLUA" /tmp/many-netlua.lua "$PORT" 1000); nt="$nt $1"; nm="$nm $2"
  set -- $(measure lua5.4 /tmp/many-luasocket.lua "$PORT" 1000); lt="$lt $1"; lm="$lm $2"
  set -- $(measure lua5.4 /tmp/many-cqueues.lua "$PORT" 1000); ct="$ct $1"; cm="$cm $2"
done
bt=""; bm=""
for i in $(seq "$RUNS"); do
  set -- $(measure "$NETLUA" /tmp/many-netlua.lua "$PORT" 10000); bt="$bt $1"; bm="$bm $2"
done
kill "$SERVER"
awk -v nt="$(best $nt)" -v nm="$(best $nm)" -v lt="$(best $lt)" -v lm="$(best $lm)" \
    -v ct="$(best $ct)" -v cm="$(best $cm)" -v bt="$(best $bt)" -v bm="$(best $bm)" 'BEGIN {
  printf "tcp-many: 1,000 conns: netlua %.2f s %.1f MiB, LuaSocket+select %.2f s %.1f MiB, cqueues %.2f s %.1f MiB; time ratio vs LuaSocket %.2f, vs cqueues %.2f; memory ratio vs LuaSocket %.2f, vs cqueues %.2f\n",
    nt, nm / 1024, lt, lm / 1024, ct, cm / 1024, lt / nt, ct / nt, lm / nm, cm / nm
  printf "tcp-many: 10,000 conns: netlua %.2f s %.1f MiB (goal: under 1 s and 64 MiB)\n", bt, bm / 1024 }'
