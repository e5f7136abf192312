# bench/tcp_common.sh: helpers sourced by the tcp_*.sh benchmarks.
NETLUA=${NETLUA:-$(pwd)/build/netlua}
PORT_BASE=${PORT_BASE:-39000}

# Start the netlua source on port $1 with mode $2 and count $3; wait for it.
start_source() {
  rm -f /tmp/netlua-bench-ready.$1
  "$NETLUA" bench/tcp_source.lua "$1" "$2" "$3" > /tmp/netlua-bench-ready.$1 &
  SRC_PID=$!
  for _ in $(seq 200); do grep -q ready /tmp/netlua-bench-ready.$1 2>/dev/null && return 0; sleep 0.02; done
  echo "source did not start" >&2; return 1
}

# Seconds elapsed while running the command "$@" (stdout discarded).
seconds() {
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{ printf "%.4f", $2 - $1 }'
}

# The best (smallest) of a list of numbers.
best() { echo "$@" | tr ' ' '\n' | sort -g | head -1; }
