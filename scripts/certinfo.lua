--[==[
certinfo.lua: the certificate chain a TLS server presents, and whether it
verifies (and why not), in a form read at a glance: for each certificate
its subject, names, issuer, dates and days left.

  netlua scripts/certinfo.lua localhost:8443 --cacert ca.pem
  netlua scripts/certinfo.lua mail.example.org --starttls smtp
  netlua scripts/certinfo.lua '[::1]:8443' -k

It connects verified first (against the system store, which honours
SSL_CERT_FILE and SSL_CERT_DIR, or --cacert); when that fails it connects
again without verifying, to show the chain anyway, with the reason the
verification failed. -k does not verify at all (only the chain is shown).
With --starttls smtp it speaks SMTP first (greeting, EHLO, STARTTLS; port
25 by default) and shows the certificate the mail server upgrades with.

Exits 0 when the chain verifies (or was only shown, with -k), 1 when it
does not verify or no TLS session could be made (one line on standard
error says why), 2 on a usage error.
]==]

local net = require "net"

local USAGE = [==[
usage: certinfo.lua HOST[:PORT] [--starttls smtp] [--cacert FILE | -k] [--timeout S]
Show the certificate chain of the TLS server at HOST:PORT (default 443, or
25 with --starttls smtp) and whether it verifies.
  --starttls smtp  speak SMTP and STARTTLS first
  --cacert FILE    verify against this CA file (or directory) instead of
                   the system store
  -k               do not verify; only show the chain
  --timeout S      seconds for each connection (default 10)
  --help           this text
Exits 0 when verified (or with -k), 1 when not or on a failure, 2 on a
usage error.]==]

--- Say why the command line is wrong; returns 2.
local function usage_error(msg)
  io.stderr:write("certinfo.lua: ", msg, "\n", USAGE, "\n")
  return 2
end

--- Options and the target from the command line, or nil, message.
local function options(args)
  local o = { timeout = 10 }
  local i = 0
  while i < #args do
    i = i + 1
    local a = args[i]
    if a == "--help" or a == "-h" then o.help = true
    elseif a == "-k" or a == "--insecure" then o.insecure = true
    elseif a == "--cacert" or a == "--starttls" or a == "--timeout" then
      i = i + 1
      local v = args[i]
      if not v then return nil, a .. " needs a value" end
      if a == "--cacert" then o.cacert = v
      elseif a == "--starttls" then
        if v ~= "smtp" then return nil, "--starttls knows only smtp, not " .. v end
        o.starttls = v
      else
        o.timeout = tonumber(v)
        if not o.timeout or o.timeout <= 0 then return nil, "bad timeout: " .. v end
      end
    elseif a:sub(1, 1) == "-" then return nil, "unknown option: " .. a
    elseif o.target then return nil, "only one HOST[:PORT], please"
    else o.target = a end
  end
  if o.help then return o end
  if not o.target then return nil, "expected HOST[:PORT]" end
  if o.cacert and o.insecure then return nil, "--cacert and -k exclude each other" end
  local host, port = o.target:match("^%[(.+)%]:?(%d*)$")
  if not host then
    host, port = o.target:match("^([^:]+):(%d+)$")
    host = host or o.target
  end
  o.host = host
  o.port = tonumber(port ~= "" and port or nil) or (o.starttls and 25 or 443)
  if math.type(o.port) ~= "integer" or o.port < 1 or o.port > 65535 then return nil, "bad port: " .. tostring(port) end
  return o
end

--- One SMTP reply's code (the last line's), or nil, message.
local function smtpreply(c)
  while true do
    local line, err = c:receive()
    if not line then return nil, err end
    local code, sep = line:match("^(%d%d%d)([ -]?)")
    if not code then return nil, "not SMTP: " .. line end
    if sep ~= "-" then return tonumber(code), line end
  end
end

--- Connect (and STARTTLS for smtp) with TLS options tls; the connection,
--- or nil, message.
local function session(o, tls)
  if not o.starttls then
    return net.connect(o.host, o.port, { timeout = o.timeout, tls = tls })
  end
  local c, err = net.connect(o.host, o.port, { timeout = o.timeout })
  if not c then return nil, err end
  local function step(send, want)
    if send then c:send(send .. "\r\n") end
    local code, line = smtpreply(c)
    if code ~= want then
      c:close()
      return nil, ("smtp %s: %s"):format(send or "greeting", line or "no reply")
    end
    return true
  end
  local ok
  ok, err = step(nil, 220)
  if ok then ok, err = step("EHLO certinfo.invalid", 250) end
  if ok then ok, err = step("STARTTLS", 220) end
  if not ok then return nil, err end
  local upgraded
  upgraded, err = c:starttls(tls)
  if not upgraded then return nil, err end
  return c
end

--- "2027-11-30" from "2027-11-30 20:42:03 UTC".
local function day(stamp)
  return (tostring(stamp):match("^(%d+%-%d+%-%d+)")) or tostring(stamp)
end

--- Days left in words: "364 days left", "EXPIRED 3 days ago".
local function left(days)
  if days < 0 then return ("EXPIRED %d day%s ago"):format(-days, days == -1 and "" or "s") end
  if days < 30 then return ("%d day%s left (soon!)"):format(days, days == 1 and "" or "s") end
  return ("%d days left"):format(days)
end

--- The report of session info t; verdict: the verification's line.
local function report(o, c, t, verdict)
  local out = {}
  local function add(...) out[#out + 1] = table.concat({ ... }) end
  local peer = c:getpeername()
  add("certinfo ", o.host, ":", o.port, peer and peer ~= o.host and (" (" .. peer .. ")") or "",
    o.starttls and " after STARTTLS (smtp)" or "")
  add("TLS:          ", t.version, ", ", t.cipher, t.alpn and (", alpn " .. t.alpn) or "")
  add("Verification: ", verdict)
  add("Chain (", #t.chain, " certificate", #t.chain == 1 and "" or "s", ", as the server sent it):")
  for i, cert in ipairs(t.chain) do
    add(("  [%d] %s"):format(i, cert.subject))
    if cert.altnames and #cert.altnames > 0 then add("      names:   ", table.concat(cert.altnames, ", ")) end
    add("      issuer:  ", cert.issuer, cert.issuer == cert.subject and "  (self-signed)" or "")
    add("      valid:   ", day(cert.notbefore), " to ", day(cert.notafter), ", ", left(cert.daysleft))
    add("      sha256:  ", cert.sha256)
  end
  return table.concat(out, "\n") .. "\n"
end

local function main(args)
  local o, err = options(args)
  if not o then return usage_error(err) end
  if o.help then print(USAGE) return 0 end
  local against = o.cacert and ("against " .. o.cacert) or "against the system store"
  local c, verdict, failed
  if o.insecure then
    c, err = session(o, { verify = false })
    verdict = "not checked (-k)"
  else
    c, err = session(o, { ca = o.cacert })
    if c then
      verdict = "OK (" .. against .. ", name " .. o.host .. ")"
    elseif tostring(err):match("^tls ") or tostring(err):match("^starttls ") then
      failed = err
      c, err = session(o, { verify = false })
      verdict = "FAILED " .. against .. ": " .. tostring(failed):gsub("^tls .-%b():%s*", "")
    end
  end
  if not c then
    io.stderr:write("certinfo.lua: ", tostring(failed or err), "\n")
    return 1
  end
  local t = assert(c:tlsinfo())
  c:close()
  io.stdout:write(report(o, c, t, verdict))
  if failed then
    io.stderr:write("certinfo.lua: NOT VERIFIED: ", tostring(failed), "\n")
    return 1
  end
  return 0
end

os.exit(main(arg or {}))
