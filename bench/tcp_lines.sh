#!/bin/sh
# bench/tcp_lines.sh: receive 2 million 40-byte lines over loopback, one
# receive() per line. netlua vs LuaSocket receive("*l") (lua5.4), with
# `nc | wc -l` as the limit; runs interleaved, best of 3 each.
cd "$(dirname "$0")/.." || exit 1
. bench/tcp_common.shlib
LINES=${LINES:-2000000}
RUNS=${RUNS:-3}
PORT_BASE=$((PORT_BASE + 100))

cat > /tmp/netlua-lines.lua <<'LUA'
local c = assert(net.connect("127.0.0.1", tonumber(arg[1])))
local n = 0
while c:receive() do n = n + 1 end
assert(n == tonumber(arg[2]), "got " .. n)
LUA
cat > /tmp/luasocket-lines.lua <<'LUA'
local socket = require "socket"
local c = assert(socket.connect("127.0.0.1", tonumber(arg[1])))
local n = 0
while c:receive("*l") do n = n + 1 end
assert(n == tonumber(arg[2]), "got " .. n)
LUA

run_one() {  # $1 tool, $2 port
  start_source "$2" lines "$LINES" || return 1
  case $1 in
    netlua) seconds "$NETLUA" /tmp/netlua-lines.lua "$2" "$LINES" ;;
    luasocket) seconds lua5.4 /tmp/luasocket-lines.lua "$2" "$LINES" ;;
    nc) seconds sh -c "nc -N 127.0.0.1 $2 </dev/null | wc -l" ;;
  esac
  wait "$SRC_PID"
}

n=""; l=""; w=""
port=$PORT_BASE
for i in $(seq "$RUNS"); do
  n="$n $(run_one netlua $port)"; port=$((port + 1))
  l="$l $(run_one luasocket $port)"; port=$((port + 1))
  w="$w $(run_one nc $port)"; port=$((port + 1))
done
awk -v c="$LINES" -v n="$(best $n)" -v l="$(best $l)" -v w="$(best $w)" 'BEGIN {
  printf "tcp-lines: netlua %.1f M lines/s, LuaSocket %.1f M lines/s, nc|wc -l %.1f M lines/s (limit); ratio vs LuaSocket %.2f\n", c / n / 1e6, c / l / 1e6, c / w / 1e6, l / n }'
