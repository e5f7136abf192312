#!/bin/sh
# bench/tls_serve.sh: net.http.serve over TLS against nginx with ssl (one
# worker, no master, no access log), the same certificate and the same
# 6-byte body, with wrk -t2 -c50 for DURATION seconds (default 3),
# keep-alive. Prints requests/s for each and the ratio netlua/nginx.
cd "$(dirname "$0")/.." || exit 1
. bench/tls_certs.shlib
DUR=${DURATION:-3}
D=$(mktemp -d /tmp/netlua-bench-tlsserve.XXXXXX)
P1=$(shuf -i 30000-40000 -n 1); P2=$((P1 + 1))
mkdir -p "$D/www" "$D/tmp"; printf 'hello\n' > "$D/www/index.html"
tls_certs "$D"
cat > "$D/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $D/nginx.pid;
error_log $D/error.log; events { worker_connections 1024; }
http { access_log off; client_body_temp_path $D/tmp; proxy_temp_path $D/tmp;
  fastcgi_temp_path $D/tmp; uwsgi_temp_path $D/tmp; scgi_temp_path $D/tmp;
  ssl_certificate $D/cert.pem; ssl_certificate_key $D/key.pem;
  server { listen 127.0.0.1:$P2 ssl; root $D/www; } }
CONF
nginx -e "$D/error.log" -p "$D" -c "$D/nginx.conf" >/dev/null 2>&1 & NPID=$!
build/netlua -e "net.http.serve('127.0.0.1', $P1, function() return 200, {['Content-Type']='text/html'}, 'hello\n' end, {max = 2000, tls = {cert = '$D/cert.pem', key = '$D/key.pem'}}) net.run()" & LPID=$!
sleep 0.5
rps() { wrk -t2 -c50 -d"${DUR}s" "$@" | awk '/Requests\/sec/ {print $2} /Non-2xx|Socket errors/ {print "  (" $0 ")" > "/dev/stderr"}'; }
a=$(rps "https://127.0.0.1:$P1/"); b=$(rps "https://127.0.0.1:$P2/")
echo "tls keep-alive: net.http.serve $a req/s, nginx (1 worker) $b req/s, ratio $(echo "$a $b" | awk '{printf "%.2f", $1/$2}')"
kill $LPID $NPID 2>/dev/null; wait 2>/dev/null; rm -rf "$D"
