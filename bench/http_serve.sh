#!/bin/sh
# bench/http_serve.sh: net.http.serve against nginx (one worker, no master,
# no access log) answering the same 6-byte body, with wrk -t2 -c50 for
# DURATION seconds (default 3): keep-alive, then Connection: close, where a
# single-threaded LuaSocket HTTP/1.0 server (lua5.4, lua-socket) answers too.
# Prints requests/s for each and the ratios, and in close mode the CPU time
# each server used per request (wrk, sharing the machine, bounds the rates).
cd "$(dirname "$0")/.." || exit 1
DUR=${DURATION:-3}
D=$(mktemp -d /tmp/netlua-bench-http.XXXXXX)
# ports below the ephemeral range wrk's clients use
P1=$(shuf -i 20000-30000 -n 1); P2=$((P1 + 1)); P3=$((P1 + 2))
mkdir -p "$D/www" "$D/tmp"; printf 'hello\n' > "$D/www/index.html"
cat > "$D/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $D/nginx.pid;
error_log $D/error.log; events { worker_connections 1024; }
http { access_log off; client_body_temp_path $D/tmp; proxy_temp_path $D/tmp;
  fastcgi_temp_path $D/tmp; uwsgi_temp_path $D/tmp; scgi_temp_path $D/tmp;
  server { listen 127.0.0.1:$P2; root $D/www; } }
CONF
nginx -e "$D/error.log" -p "$D" -c "$D/nginx.conf" >/dev/null 2>&1 & NPID=$!
build/netlua -e "net.http.serve('127.0.0.1', $P1, function() return 200, {['Content-Type']='text/html'}, 'hello\n' end, {max = 2000}) net.run()" & LPID=$!
cat > "$D/luasocket.lua" <<'LUA'
-- a single-threaded HTTP/1.0 server with LuaSocket: one request per connection
local socket = require "socket"
local s = assert(socket.bind("127.0.0.1", tonumber(arg[1]), 1024))
while true do
  local c = s:accept()
  if c then
    c:settimeout(5)
    repeat local l = c:receive("*l") until not l or l == ""
    c:send("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\nhello\n")
    c:close()
  end
end
LUA
lua5.4 "$D/luasocket.lua" $P3 & SPID=$!
sleep 0.5
rps() { wrk -t2 -c50 -d"${DUR}s" "$@" | awk '/Requests\/sec/ {print $2} /requests in/ {print $1 > "'"$D"'/n"} /Non-2xx|Socket errors/ {print "  (" $0 ")" > "/dev/stderr"}'; }
# CPU time the server process $1 used so far, in ns (scheduler's count)
cpu() { awk '{print $1}' /proc/$1/schedstat; }
# rps for the server process $1 (then wrk's arguments); also writes its CPU
# microseconds per request to $D/us_$1
rps_cpu() { p=$1; shift; c0=$(cpu $p); r=$(rps "$@"); c1=$(cpu $p)
  echo "$c0 $c1 $(cat "$D/n")" | awk '{printf "%.1f", ($2 - $1) / $3 / 1000}' > "$D/us_$p"; echo "$r"; }
for mode in keep-alive close; do
  if [ $mode = close ]; then
    rps_cpu $LPID -H "Connection: close" "http://127.0.0.1:$P1/" > "$D/a"; a=$(cat "$D/a")
    b=$(rps -H "Connection: close" "http://127.0.0.1:$P2/")
    rps_cpu $SPID -H "Connection: close" "http://127.0.0.1:$P3/" > "$D/s"; s=$(cat "$D/s")
  else
    a=$(rps "http://127.0.0.1:$P1/"); b=$(rps "http://127.0.0.1:$P2/")
  fi
  echo "$mode: net.http.serve $a req/s, nginx (1 worker) $b req/s, ratio $(echo "$a $b" | awk '{printf "%.2f", $1/$2}')"
  [ $mode = close ] && echo "close: LuaSocket HTTP/1.0 $s req/s, ratio net.http.serve/LuaSocket $(echo "$a $s" | awk '{printf "%.2f", $1/$2}')"
  [ $mode = close ] && echo "close: server CPU per request (its own, from /proc): net.http.serve $(cat "$D/us_$LPID") us, LuaSocket $(cat "$D/us_$SPID") us"
done
kill $LPID $NPID $SPID 2>/dev/null; wait 2>/dev/null; rm -rf "$D"
