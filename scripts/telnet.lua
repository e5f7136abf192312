--[[
telnet.lua: talk to a TCP server by hand, as telnet does: lines typed go
out with CRLF, what the server sends is printed as it comes.

  netlua scripts/telnet.lua 127.0.0.1 25
  printf 'HELO me\nQUIT\n' | netlua scripts/telnet.lua 127.0.0.1 25

Prints "Trying ADDR..." for each address of HOST, then "Connected to
HOST." and "Escape character is '^]'.". At a terminal, lines are edited
with the prompt's line editor (history with the arrows). Ctrl-] (the
escape character) or Ctrl-C closes the connection and ends ("Connection
closed."); there is no telnet> command prompt. When the server closes:
"*** connection closed by foreign host". With standard input not a
terminal each line read is sent; at its end the sending side is shut down
(as nc -N) and what the server still sends is printed until it closes.

With --tls the connection is TLS (like openssl s_client, but readable):
after "Connected" it prints the TLS version and cipher, whether the
certificate verified, and the certificate's subject, names, issuer and
dates, then the session goes on as above. --cacert FILE verifies against
that CA; -k connects even when verification fails (and says NOT VERIFIED).

  netlua scripts/telnet.lua --tls --cacert ca.pem localhost 8443

No telnet option negotiation: the bytes go as they are (a raw TCP
session, like nc -C or telnet to a port that is not 23).

Exits 0 after a session, 1 when no address could be reached ("telnet:
Unable to connect to remote host: Connection refused", as telnet prints
it) or HOST cannot be resolved, 2 on a usage error.
]]

local net = require "net"

local USAGE = [==[
usage: telnet.lua [--tls [--cacert FILE | -k]] HOST [PORT]
Open a TCP connection to HOST (a name or an address) at PORT (default 23,
443 with --tls) and hand it to the terminal: lines typed are sent with
CRLF, what arrives is printed. Ctrl-] ends the session.
  --tls          speak TLS; print the version, cipher and certificate first
  --cacert FILE  verify against this CA file (or directory)
  -k             do not verify the certificate (says NOT VERIFIED)
  --help         this text]==]

--- Say why the command line is wrong, and exit 2.
local function usage_error(msg)
  io.stderr:write("telnet.lua: ", msg, "\n", USAGE, "\n")
  os.exit(2)
end

--- telnet's words for a connect failure: "Connection refused" ...
local function cause(err)
  if err == "timeout" then return "Connection timed out" end
  local why = tostring(err):match(".*: (.-)$") or tostring(err)
  return (why:gsub("^%l", string.upper))
end

--- The TLS summary: version, cipher, verification, the certificate.
local function tlssummary(c)
  local t = c:tlsinfo()
  local out = { ("TLS: %s, cipher %s%s"):format(t.version, t.cipher, t.alpn and (", alpn " .. t.alpn) or ""),
    "Verified: " .. (t.verified and "yes" or ("NO: " .. tostring(t.verifyresult))) }
  local cert = t.chain and t.chain[1]
  if cert then
    out[#out + 1] = "Certificate: " .. cert.subject
    if cert.altnames and #cert.altnames > 0 then out[#out + 1] = "  names:   " .. table.concat(cert.altnames, ", ") end
    out[#out + 1] = "  issuer:  " .. cert.issuer
    out[#out + 1] = ("  valid:   %s to %s (%d days left)"):format(cert.notbefore, cert.notafter, cert.daysleft)
  end
  return table.concat(out, "\n") .. "\n"
end

local function main(args)
  local host, port, tls, cacert, insecure
  local i = 0
  while i < #args do
    i = i + 1
    local a = args[i]
    if a == "--help" or a == "-h" then
      print(USAGE)
      return 0
    elseif a == "--tls" then tls = true
    elseif a == "-k" or a == "--insecure" then insecure = true
    elseif a == "--cacert" then
      i = i + 1
      cacert = args[i] or usage_error("--cacert needs a file")
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      usage_error("unknown option " .. a)
    elseif not host then host = a
    elseif not port then port = a
    else usage_error("too many arguments") end
  end
  if not host then usage_error("no host given") end
  if (cacert or insecure) and not tls then usage_error("--cacert and -k go with --tls") end
  if cacert and insecure then usage_error("--cacert and -k exclude each other") end
  local nport = tonumber(port or (tls and "443" or "23"))
  if not nport or nport ~= math.floor(nport) or nport < 1 or nport > 65535 then
    usage_error("bad port " .. tostring(port))
  end

  local addrs, rerr
  if net.ip.parse(host) then addrs = { select(2, net.ip.parse(host)) }
  else addrs, rerr = net.resolve(host) end
  if not addrs or #addrs == 0 then
    io.stderr:write("telnet.lua: could not resolve ", host, ": ", tostring(rerr), "\n")
    return 1
  end
  local c, err
  for _, addr in ipairs(addrs) do
    io.stdout:write("Trying ", addr, "...\n")
    io.stdout:flush()
    local opts = tls and { tls = { ca = cacert, verify = not insecure,
      servername = not net.ip.parse(host) and host or nil } } or nil
    c, err = net.connect(addr, nport, opts)
    if not c and tls and tostring(err):match("^tls ") then break end  -- a TLS refusal: say why
    if c then break end
  end
  if not c then
    if tls and tostring(err):match("^tls ") then
      io.stderr:write("telnet.lua: TLS failed: ", tostring(err), "\n")
      if not insecure then io.stderr:write("telnet.lua: (-k connects without verifying)\n") end
      return 1
    end
    io.stderr:write("telnet.lua: Unable to connect to remote host: ", cause(err), "\n")
    return 1
  end
  io.stdout:write("Connected to ", host, ".\n")
  if tls then io.stdout:write(tlssummary(c)) end
  -- conn:interact says it itself at a terminal (on stderr); piped, we do
  local isatty = debug.getregistry()["netlua.isatty"]
  if not (type(isatty) == "function" and isatty(io.stdin)) then
    io.stdout:write("Escape character is '^]'.\n")
  end
  io.stdout:flush()
  local _, why = c:interact()
  c:close()
  if why ~= "closed" then io.stdout:write("Connection closed.\n") end
  io.stdout:flush()
  return 0
end

os.exit(main(arg))
