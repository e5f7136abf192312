#!/bin/sh
# src/fuzz/replay.sh BINDIR CORPUSDIR TARGET...: run every file of
# CORPUSDIR/TARGET/ once through BINDIR/TARGET (libFuzzer, one file per
# run, so each is counted on its own). Prints one line per target, each
# failing file with the end of its report, and a busted-like summary line
# "N successes / N failures / 0 errors / 0 pending : S seconds" (.ci/run
# reads it). Exits non-zero if any file failed.
bindir=$1 corpus=$2
shift 2
start=$(date +%s.%N)
pass=0 fail=0
log=$(mktemp)
for t in "$@"; do
  tp=0 tf=0
  for f in "$corpus/$t"/*; do
    [ -f "$f" ] || continue
    if "$bindir/$t" -runs=1 "$f" >"$log" 2>&1; then
      tp=$((tp + 1))
    else
      tf=$((tf + 1))
      echo "FAIL $t: $f"
      tail -25 "$log" | sed 's/^/    /'
    fi
  done
  echo "$t: $tp passed, $tf failed"
  pass=$((pass + tp)) fail=$((fail + tf))
done
rm -f "$log"
secs=$(echo "$start $(date +%s.%N)" | awk '{printf "%.2f", $2 - $1}')
echo "$pass successes / $fail failures / 0 errors / 0 pending : $secs seconds"
[ "$fail" -eq 0 ]
