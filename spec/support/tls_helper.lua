-- spec/support/tls_helper.lua: certificates for the TLS specs, made with the
-- openssl command in a temporary directory (a private CA, a good server
-- certificate for localhost, 127.0.0.1 and ::1, an expired one, one for
-- another name, a self-signed one, a client certificate), and real TLS
-- peers on loopback: openssl s_server and nginx with ssl.
local common = require "spec.support.common"
local tcp = require "spec.support.tcp_helper"

local M = {}

local function sh(cmd)
  local ok, _, out, err = common.run(cmd)
  if not ok then error("command failed: " .. cmd .. "\n" .. out .. err) end
  return out
end

local EC = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

-- A key and a certificate NAME.key, NAME.pem in dir signed by the CA:
-- subject CN, subjectAltName san, -days days.
local function signed(dir, name, cn, san, days)
  local d = common.q(dir)
  sh(("cd %s && openssl req %s -keyout %s.key -out %s.csr -subj %s"):format(d, EC, name, name, common.q("/CN=" .. cn)))
  local f = assert(io.open(dir .. "/" .. name .. ".ext", "w"))
  f:write(san and ("subjectAltName=" .. san .. "\n") or "basicConstraints=CA:FALSE\n")
  f:close()
  sh(("cd %s && openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days %d -extfile %s.ext -out %s.pem")
    :format(d, name, days or 365, name, name))
end

-- Make every certificate once per run; returns a table of paths:
-- dir, ca, good/goodkey, expired/expiredkey, other/otherkey,
-- self/selfkey, client/clientkey.
function M.certs()
  if M._certs then return M._certs end
  local dir = os.tmpname()
  os.remove(dir)
  sh("mkdir -p " .. common.q(dir))
  local d = common.q(dir)
  sh(("cd %s && openssl req -x509 %s -keyout ca.key -out ca.pem -days 3650 -subj '/CN=netlua test CA'"):format(d, EC))
  signed(dir, "good", "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1")
  signed(dir, "expired", "expired.example", "DNS:localhost,IP:127.0.0.1,IP:::1", -1)
  signed(dir, "other", "a.example", "DNS:a.example")
  signed(dir, "client", "netlua client", nil)
  sh(("cd %s && openssl req -x509 %s -keyout self.key -out self.pem -days 365 -subj '/CN=selfsigned.example' "
    .. "-addext subjectAltName=DNS:localhost,IP:127.0.0.1"):format(d, EC))
  local c = { dir = dir, ca = dir .. "/ca.pem" }
  for _, n in ipairs { "good", "expired", "other", "self", "client" } do
    c[n] = dir .. "/" .. n .. ".pem"
    c[n .. "key"] = dir .. "/" .. n .. ".key"
  end
  M._certs = c
  return c
end

-- Remove the certificates.
function M.cleanup()
  if M._certs then os.execute("rm -rf " .. common.q(M._certs.dir)); M._certs = nil end
end

-- Start `openssl s_server` on 127.0.0.1:port with cert/key and extra
-- arguments (a string); it answers each line with nothing but keeps the
-- connection (use -rev, -www ... in args). Returns {port, stop()}.
function M.s_server(cert, key, args)
  local port = tcp.free_port()
  local log = os.tmpname()
  local p = io.popen(("openssl s_server -quiet -accept 127.0.0.1:%d -cert %s -key %s %s >%s 2>&1 </dev/null & echo $!")
    :format(port, common.q(cert), common.q(key), args or "", log))
  local pid = tonumber(p:read("l"))
  p:close()
  local h = { port = port, pid = pid, log = log }
  function h.stop()
    if h.pid then
      os.execute("kill " .. h.pid .. " 2>/dev/null; for i in $(seq 100); do kill -0 " .. h.pid ..
        " 2>/dev/null || break; sleep 0.05; done")
      h.pid = nil
      os.remove(log)
    end
  end
  if not common.wait_port(port, 10) then h.stop(); error("openssl s_server did not start") end
  return h
end

-- Start nginx with TLS on 127.0.0.1: one server for TLS 1.2 only and one
-- for TLS 1.3 only, both with the good certificate, serving tcp_helper's
-- body at /file. Returns {port12, port13, stop()}.
function M.nginx()
  local c = M.certs()
  local dir = tcp.nginx_dir({ file = tcp.body(), ["index.html"] = "hello over tls\n" })
  local p12, p13 = tcp.free_port(), tcp.free_port()
  while p13 == p12 do p13 = tcp.free_port() end
  local h = tcp.run_nginx(dir, ([[
  ssl_certificate CERT;
  ssl_certificate_key KEY;
  server { listen 127.0.0.1:P12 ssl; ssl_protocols TLSv1.2; root DIR/www; }
  server { listen 127.0.0.1:P13 ssl; ssl_protocols TLSv1.3; root DIR/www; }
]]):gsub("P12", tostring(p12)):gsub("P13", tostring(p13)):gsub("CERT", c.good):gsub("KEY", c.goodkey),
    { p12, p13 })
  h.port12, h.port13 = p12, p13
  return h
end

return M
