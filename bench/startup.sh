#!/bin/sh
# bench/startup.sh: start-up time of `netlua -e ''` against `lua5.4 -e ''`,
# measured in the same run. The two are interleaved: ROUNDS rounds, each
# timing a batch of BATCH runs of one then BATCH runs of the other (which
# goes first alternates), so drift in machine load hits both alike. The
# figure per program is the median over rounds of the batch's time per run.
# Prints one line:
#   startup: netlua X ms, lua5.4 Y ms, ratio Z
# The aim is a ratio of at most 1.5: nothing slow (DNS set-up, reading
# files) may happen at start-up unless it is used.
cd "$(dirname "$0")/.." || exit 1
NETLUA=${NETLUA:-build/netlua}
LUA=${LUA:-lua5.4}
ROUNDS=${ROUNDS:-15}
BATCH=${BATCH:-40}

[ -x "$NETLUA" ] || { echo "startup: $NETLUA not built (make)" >&2; exit 1; }
command -v "$LUA" >/dev/null || { echo "startup: $LUA not found" >&2; exit 1; }

# Time BATCH runs of "$@ -e ''"; print the mean per run in microseconds.
batch() {
  t0=$(date +%s%N)
  i=0
  while [ $i -lt "$BATCH" ]; do
    "$@" -e '' </dev/null >/dev/null 2>&1
    i=$((i + 1))
  done
  t1=$(date +%s%N)
  echo $(((t1 - t0) / BATCH / 1000))
}

# Median of the numbers on standard input, one per line.
median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Warm the page cache and the dynamic linker's caches for both.
batch "$NETLUA" >/dev/null
batch "$LUA" >/dev/null

n_file=$(mktemp) && l_file=$(mktemp) || exit 1
trap 'rm -f "$n_file" "$l_file"' EXIT
r=0
while [ $r -lt "$ROUNDS" ]; do
  if [ $((r % 2)) -eq 0 ]; then
    batch "$NETLUA" >>"$n_file"; batch "$LUA" >>"$l_file"
  else
    batch "$LUA" >>"$l_file"; batch "$NETLUA" >>"$n_file"
  fi
  r=$((r + 1))
done

n_us=$(median <"$n_file")
l_us=$(median <"$l_file")
awk -v n="$n_us" -v l="$l_us" 'BEGIN {
  printf "startup: netlua %.2f ms, lua5.4 %.2f ms, ratio %.2f\n", n / 1000, l / 1000, n / l
  if (n / l > 1.5) { print "startup: ratio above the 1.5 aim" > "/dev/stderr"; exit 1 }
}'
