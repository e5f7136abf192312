#!/bin/sh
# bench/run.sh: run every benchmark in bench/ (each prints its figures next
# to a reference tool's from the same run, as a ratio). Needs build/netlua
# and the reference tools: lua-socket lua-cqueues socat iperf3 dnsperf
# hyperfine time nginx wrk curl.
cd "$(dirname "$0")/.." || exit 1
status=0
for b in bench/*.sh; do
  [ "$b" = bench/run.sh ] && continue
  echo "== $b"
  sh "$b" || status=1
done
exit $status
