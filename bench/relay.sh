#!/bin/sh
# bench/relay.sh: 1 GiB through a TCP relay on loopback: net.relay
# (scripts/relay.lua, splice(2) underneath) vs socat TCP-LISTEN ... TCP:...
# relaying the same, from the same run. The source is bench/tcp_source.lua
# (netlua, 1 MiB sends), the sink socat -u to /dev/null in 64 KiB reads; the
# time is the sink's. Runs interleaved, best of 3 each. Prints one line.
cd "$(dirname "$0")/.." || exit 1
. bench/tcp_common.shlib
BYTES=${BYTES:-1073741824}
RUNS=${RUNS:-3}
PORT_BASE=${PORT_BASE:-19400}

# Wait until 127.0.0.1:$1 accepts (bounded).
wait_listen() {
  for _ in $(seq 200); do
    ss -ltn 2>/dev/null | grep -q "127.0.0.1:$1 " && return 0
    sleep 0.02
  done
  echo "relay on port $1 did not start" >&2; return 1
}

run_one() {  # $1 relay, $2 source port, $3 relay port
  start_source "$2" bulk "$BYTES" || return 1
  case $1 in
    netlua) "$NETLUA" scripts/relay.lua 127.0.0.1:"$3" 127.0.0.1:"$2" >/dev/null & ;;
    socat) socat TCP-LISTEN:"$3",bind=127.0.0.1,reuseaddr TCP:127.0.0.1:"$2" & ;;
  esac
  RELAY_PID=$!
  wait_listen "$3" || { kill "$RELAY_PID" "$SRC_PID"; return 1; }
  seconds socat -u -b 65536 TCP:127.0.0.1:"$3" /dev/null
  wait "$SRC_PID"
  kill -INT "$RELAY_PID" 2>/dev/null   # socat ends by itself; netlua runs until interrupted
  wait "$RELAY_PID" 2>/dev/null
}

n=""; s=""
port=$PORT_BASE
for i in $(seq "$RUNS"); do
  n="$n $(run_one netlua $port $((port + 1)))"; port=$((port + 2))
  s="$s $(run_one socat $port $((port + 1)))"; port=$((port + 2))
done
bn=$(best $n); bs=$(best $s)
awk -v b="$BYTES" -v n="$bn" -v s="$bs" -v nn="$n" -v ss="$s" 'BEGIN {
  rn = b / n / 1e9; rs = b / s / 1e9
  printf "relay: netlua %.2f GB/s, socat %.2f GB/s (reference), ratio %.2f (runs, s: netlua%s; socat%s)\n", rn, rs, rn / rs, nn, ss }'
