#!/bin/sh
# bench/dns_resolve.sh: resolve NAMES distinct names (A records) against a
# private dnsmasq on a loopback high port, all in one run:
#   netlua     INFLIGHT net.spawn workers on one c-ares channel, twice:
#              net.resolve(name, {family = "inet"}) and net.lookup(name, "A")
#   dnsperf    the limit (-q INFLIGHT queries outstanding)
#   cqueues    cqueues.dns resolvers, 50 in flight (one per coroutine)
# Every answer is checked (address of the name) by netlua and cqueues.
# Prints two lines (resolve, then lookup):
#   dns-resolve: netlua X q/s, dnsperf Y q/s, cqueues Z q/s, ratio X/Y, ratio X/Z
# The aim: at least 0.5x dnsperf and ahead of cqueues.
cd "$(dirname "$0")/.." || exit 1
NETLUA=${NETLUA:-build/netlua}
NAMES=${NAMES:-5000}
INFLIGHT=${INFLIGHT:-100}
ROUNDS=${ROUNDS:-3}

[ -x "$NETLUA" ] || { echo "dns-resolve: $NETLUA not built (make)" >&2; exit 1; }
for t in dnsmasq dnsperf lua5.4; do
  command -v $t >/dev/null || { echo "dns-resolve: $t not found" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/netlua-bench-dns.XXXXXX) || exit 1
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

# The zone: nN.bench.test -> 10.(N/65536).(N/256%256).(N%256)
i=1
awk -v n="$NAMES" 'BEGIN { for (i = 1; i <= n; i++)
  printf "10.%d.%d.%d n%d.bench.test\n", int(i / 65536), int(i / 256) % 256, i % 256, i }' >"$dir/hosts"
awk '{ print $2 " A" }' "$dir/hosts" >"$dir/queries"

port=
for try in 1 2 3 4 5; do
  port=$(shuf -i 20000-60000 -n 1)
  dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
    --listen-address=127.0.0.1 --port="$port" --local=/test/ --addn-hosts="$dir/hosts" \
    --cache-size=10000 --pid-file= --user=root --group=root >"$dir/log" 2>&1 &
  pid=$!
  sleep 0.3
  kill -0 "$pid" 2>/dev/null && break
  pid=
done
[ -n "$pid" ] || { echo "dns-resolve: dnsmasq did not start" >&2; cat "$dir/log" >&2; exit 1; }

# netlua: workers pulling names from a shared counter; prints q/s.
cat >"$dir/netlua.lua" <<'EOF'
local net = require "net"
local port, names, inflight = tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3])
local mode = arg[4]
local opts = { server = "127.0.0.1:" .. port, timeout = 10, tries = 4 }
local ropts = { server = opts.server, timeout = 10, tries = 4, family = "inet" }
local function addr(i) return string.format("10.%d.%d.%d", i // 65536, i // 256 % 256, i % 256) end
local next_i, bad = 1, 0
local t0 = net.now()
for _ = 1, inflight do
  net.spawn(function()
    while next_i <= names do
      local i = next_i
      next_i = i + 1
      local name, got = "n" .. i .. ".bench.test", nil
      if mode == "resolve" then
        local r = net.resolve(name, ropts)
        got = r and r[1]
      else
        local r = net.lookup(name, "A", opts)
        got = r and r[1] and r[1].address
      end
      if got ~= addr(i) then bad = bad + 1 end
    end
  end)
end
net.run()
local dt = net.now() - t0
if bad > 0 then io.stderr:write("netlua: ", bad, " wrong answers\n") os.exit(1) end
print(string.format("%.0f", names / dt))
EOF

# cqueues: 50 coroutines, each with its own stub resolver.
cat >"$dir/cqueues.lua" <<'EOF'
local cqueues = require "cqueues"
local resolver = require "cqueues.dns.resolver"
local config = require "cqueues.dns.config"
local port, names, inflight = tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3])
local function addr(i) return string.format("10.%d.%d.%d", i // 65536, i // 256 % 256, i % 256) end
local cq = cqueues.new()
local next_i, bad = 1, 0
local t0 = cqueues.monotime()
for _ = 1, inflight do
  cq:wrap(function()
    local r = resolver.new(config.new { nameserver = { "[127.0.0.1]:" .. port }, search = {} })
    while next_i <= names do
      local i = next_i
      next_i = i + 1
      local ans = r:query("n" .. i .. ".bench.test.", "A", "IN", 10)
      local got
      if ans then for rr in ans:grep { section = "answer", type = "A" } do got = rr:addr() end end
      if got ~= addr(i) then bad = bad + 1 end
    end
  end)
end
assert(cq:loop())
local dt = cqueues.monotime() - t0
if bad > 0 then io.stderr:write("cqueues: ", bad, " wrong answers\n") os.exit(1) end
print(string.format("%.0f", names / dt))
EOF

# Median of the numbers on standard input.
median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# warm dnsmasq's cache
dnsperf -s 127.0.0.1 -p "$port" -d "$dir/queries" -n 1 -q "$INFLIGHT" >/dev/null 2>&1

: >"$dir/n"; : >"$dir/l"; : >"$dir/d"; : >"$dir/c"
r=0
while [ $r -lt "$ROUNDS" ]; do
  "$NETLUA" "$dir/netlua.lua" "$port" "$NAMES" "$INFLIGHT" resolve >>"$dir/n" || exit 1
  "$NETLUA" "$dir/netlua.lua" "$port" "$NAMES" "$INFLIGHT" lookup >>"$dir/l" || exit 1
  dnsperf -s 127.0.0.1 -p "$port" -d "$dir/queries" -n 1 -q "$INFLIGHT" 2>/dev/null |
    awk '/Queries per second/ { printf "%d\n", $4 }' >>"$dir/d"
  lua5.4 "$dir/cqueues.lua" "$port" "$NAMES" 50 >>"$dir/c" || exit 1
  r=$((r + 1))
done
d=$(median <"$dir/d"); c=$(median <"$dir/c")
for what in resolve lookup; do
  [ $what = resolve ] && n=$(median <"$dir/n") || n=$(median <"$dir/l")
  echo "dns-$what: netlua $n q/s, dnsperf $d q/s, cqueues $c q/s ($NAMES names, $INFLIGHT in flight)," \
    "ratio $(awk -v a="$n" -v b="$d" 'BEGIN { printf "%.2f", a / b }') of dnsperf," \
    "$(awk -v a="$n" -v b="$c" 'BEGIN { printf "%.2f", a / b }') of cqueues"
done
