#!/bin/sh
# bench/http_get.sh: scripts/http_get.lua -o FILE against curl -o FILE,
# fetching the same file (SIZE_MB, default 1024) from a private nginx on
# loopback (one worker, no master, no access log), in the same run, best of
# 3 each. The files written go to a directory of their own under /tmp and
# are removed. Prints MB/s (10^6 bytes) for each and the ratio netlua/curl.
cd "$(dirname "$0")/.." || exit 1
. bench/tcp_common.shlib
MB=${SIZE_MB:-1024}
D=$(mktemp -d /tmp/netlua-bench-get.XXXXXX)
P=$(shuf -i 30000-40000 -n 1)
mkdir -p "$D/www" "$D/tmp"
head -c $((MB * 1048576)) /dev/zero > "$D/www/big"
cat > "$D/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $D/nginx.pid;
error_log $D/error.log; events { worker_connections 64; }
http { access_log off; sendfile on; client_body_temp_path $D/tmp; proxy_temp_path $D/tmp;
  fastcgi_temp_path $D/tmp; uwsgi_temp_path $D/tmp; scgi_temp_path $D/tmp;
  server { listen 127.0.0.1:$P; root $D/www; } }
CONF
nginx -e "$D/error.log" -p "$D" -c "$D/nginx.conf" >/dev/null 2>&1 & NPID=$!
for _ in $(seq 100); do curl -sfo /dev/null "http://127.0.0.1:$P/big" -r 0-0 && break; sleep 0.05; done
URL="http://127.0.0.1:$P/big"
a=""; b=""
for _ in 1 2 3; do
  a="$a $(seconds "$NETLUA" scripts/http_get.lua -o "$D/out" "$URL")"
  [ "$(stat -c %s "$D/out")" = $((MB * 1048576)) ] || echo "netlua: short file" >&2
  rm -f "$D/out"
  b="$b $(seconds curl -s -o "$D/out" "$URL")"
  rm -f "$D/out"
done
ta=$(best $a); tb=$(best $b)
echo "http_get: netlua $(echo "$MB $ta" | awk '{printf "%.0f", $1*1.048576/$2}') MB/s, curl $(echo "$MB $tb" | awk '{printf "%.0f", $1*1.048576/$2}') MB/s, ratio $(echo "$ta $tb" | awk '{printf "%.2f", $2/$1}')"
kill $NPID 2>/dev/null; wait 2>/dev/null; rm -rf "$D"
