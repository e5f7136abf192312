#!/bin/sh
# bench/tcp_bulk.sh: receive 1 GiB over loopback in 64 KiB reads.
# netlua vs socat vs LuaSocket (lua5.4), iperf3 as the limit; runs
# interleaved, best of 3 each. Prints one line with rates and ratios.
cd "$(dirname "$0")/.." || exit 1
. bench/tcp_common.shlib
BYTES=${BYTES:-1073741824}
RUNS=${RUNS:-3}

cat > /tmp/netlua-bulk.lua <<'LUA'
local c = assert(net.connect("127.0.0.1", tonumber(arg[1])))
local n = 0
while true do
  local d, err, partial = c:receive(65536)
  if not d then n = n + #partial; break end
  n = n + #d
end
assert(n == tonumber(arg[2]), "got " .. n)
LUA
cat > /tmp/luasocket-bulk.lua <<'LUA'
local socket = require "socket"
local c = assert(socket.connect("127.0.0.1", tonumber(arg[1])))
local n = 0
while true do
  local d, err, partial = c:receive(65536)
  if not d then n = n + #partial; break end
  n = n + #d
end
assert(n == tonumber(arg[2]), "got " .. n)
LUA

run_one() {  # $1 tool, $2 port
  start_source "$2" bulk "$BYTES" || return 1
  case $1 in
    netlua) seconds "$NETLUA" /tmp/netlua-bulk.lua "$2" "$BYTES" ;;
    socat) seconds socat -u -b 65536 TCP:127.0.0.1:"$2" /dev/null ;;
    luasocket) seconds lua5.4 /tmp/luasocket-bulk.lua "$2" "$BYTES" ;;
  esac
  wait "$SRC_PID"
}

n=""; s=""; l=""
port=$PORT_BASE
for i in $(seq "$RUNS"); do
  n="$n $(run_one netlua $port)"; port=$((port + 1))
  s="$s $(run_one socat $port)"; port=$((port + 1))
  l="$l $(run_one luasocket $port)"; port=$((port + 1))
done
iperf3 -s -p "$port" -1 >/dev/null 2>&1 &
sleep 0.3
ip=$(iperf3 -c 127.0.0.1 -p "$port" -n "$BYTES" -l 65536 -J 2>/dev/null | lua5.4 -e '
  local j = io.read("a"); print(tonumber(j:match([["sum_received"%s*:%s*{.-"bits_per_second"%s*:%s*([%d%.e+]+)]])) / 8e9)')
wait
bn=$(best $n); bs=$(best $s); bl=$(best $l)
awk -v b="$BYTES" -v n="$bn" -v s="$bs" -v l="$bl" -v ip="$ip" 'BEGIN {
  rn = b / n / 1e9; rs = b / s / 1e9; rl = b / l / 1e9
  printf "tcp-bulk: netlua %.2f GB/s, socat %.2f GB/s, LuaSocket %.2f GB/s, iperf3 %.2f GB/s (limit); ratio vs socat %.2f, vs LuaSocket %.2f\n", rn, rs, rl, ip, rn / rs, rn / rl }'
