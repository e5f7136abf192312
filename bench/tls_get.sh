#!/bin/sh
# bench/tls_get.sh: scripts/http_get.lua -o FILE against curl -o FILE and
# curl -o /dev/null over https, fetching the same file (SIZE_MB, default
# 1024) from a private nginx with ssl (one worker, no master, no access
# log; a certificate from a private CA made here, verified by both with
# --cacert), in the same run, best of 3 each. Prints MB/s (10^6 bytes) for
# each and the ratio netlua/curl (-o FILE).
cd "$(dirname "$0")/.." || exit 1
. bench/tcp_common.shlib
. bench/tls_certs.shlib
MB=${SIZE_MB:-1024}
D=$(mktemp -d /tmp/netlua-bench-tlsget.XXXXXX)
P=$(shuf -i 30000-40000 -n 1)
mkdir -p "$D/www" "$D/tmp"
tls_certs "$D"
head -c $((MB * 1048576)) /dev/zero > "$D/www/big"
cat > "$D/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $D/nginx.pid;
error_log $D/error.log; events { worker_connections 64; }
http { access_log off; sendfile on; client_body_temp_path $D/tmp; proxy_temp_path $D/tmp;
  fastcgi_temp_path $D/tmp; uwsgi_temp_path $D/tmp; scgi_temp_path $D/tmp;
  ssl_certificate $D/cert.pem; ssl_certificate_key $D/key.pem;
  server { listen 127.0.0.1:$P ssl; root $D/www; } }
CONF
nginx -e "$D/error.log" -p "$D" -c "$D/nginx.conf" >/dev/null 2>&1 & NPID=$!
URL="https://localhost:$P/big"
for _ in $(seq 100); do curl -sfo /dev/null --cacert "$D/ca.pem" "$URL" -r 0-0 && break; sleep 0.05; done
a=""; b=""; c=""
for _ in 1 2 3; do
  a="$a $(seconds "$NETLUA" scripts/http_get.lua --cacert "$D/ca.pem" -o "$D/out" "$URL")"
  [ "$(stat -c %s "$D/out")" = $((MB * 1048576)) ] || echo "netlua: short file" >&2
  rm -f "$D/out"
  b="$b $(seconds curl -s --cacert "$D/ca.pem" -o "$D/out" "$URL")"
  rm -f "$D/out"
  c="$c $(seconds curl -s --cacert "$D/ca.pem" -o /dev/null "$URL")"
done
ta=$(best $a); tb=$(best $b); tc=$(best $c)
mbs() { echo "$MB $1" | awk '{printf "%.0f", $1*1.048576/$2}'; }
echo "tls_get: netlua $(mbs "$ta") MB/s, curl -o FILE $(mbs "$tb") MB/s, curl -o /dev/null $(mbs "$tc") MB/s, ratio $(echo "$ta $tb" | awk '{printf "%.2f", $2/$1}') (vs -o FILE), $(echo "$ta $tc" | awk '{printf "%.2f", $2/$1}') (vs /dev/null)"
kill $NPID 2>/dev/null; wait 2>/dev/null; rm -rf "$D"
