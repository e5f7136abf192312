--[[
smtp_send.lua: send one mail message over SMTP with net.smtp, and with -v
show the whole dialogue the way the lesson shows a telnet SMTP session
(" -> " what we sent, "<- " what the server said, "*** " events), on
standard error.

  netlua scripts/smtp_send.lua --server 127.0.0.1:2525 --from me@example.org \
      --to you@example.org --subject hello --body "Hi there" -v
  netlua scripts/smtp_send.lua --server '[::1]' --port 25 --from a@b \
      --to c@d --cc e@f --body-file letter.txt

Over TLS: --starttls (upgrade after EHLO, never falling back to plain) or
--tls (TLS from the start, port 465 style), verified against the system
store or --cacert FILE (-k: not verified, and it says so). With --user the
password is read from --password-file F (its first line; "-": standard
input), never from the command line, and sent only over TLS.

  netlua scripts/smtp_send.lua --server mail.example.org --port 587 \
      --starttls --user me --password-file ~/.smtp-pass --from me@example.org \
      --to you@example.org --body "over TLS"

Exits 0 when the server accepted the message, 1 when it did not (refused
connection, a rejected sender or recipient, a timeout: one line on
standard error saying which), 2 on a usage error: an unknown option or a
missing required one prints the usage, a bad value (a malformed address,
a CR or LF in a header) one line and "try 'smtp_send.lua --help'".
]]

local smtp = require "net.smtp"

local USAGE = [[
usage: smtp_send.lua --server HOST[:PORT] --from ADDR --to ADDR [options]
Send one message. An address is a@b or "Name <a@b>"; HOST an IP address or
a name, an IPv6 address in brackets when a port follows ([::1]:2525).
  --server S       the SMTP server (required)
  --port P         its port (default 25, or the one in --server)
  --from ADDR      the sender (required)
  --to ADDR        a recipient (required; may be repeated)
  --cc ADDR        a copy recipient, shown in Cc (may be repeated)
  --bcc ADDR       a hidden recipient, never shown (may be repeated)
  --subject TEXT   the Subject header
  --header 'N: V'  an extra header (may be repeated)
  --body TEXT      the body text (default: empty)
  --body-file F    the body from file F ("-": standard input)
  --helo NAME      the name to greet with (default: this host's name)
  --timeout S      seconds to wait for each reply (default 60)
  --starttls       STARTTLS after EHLO (port 587 style); no plain fallback
  --tls            TLS from the start (port 465 style)
  --cacert FILE    verify the server against this CA file (or directory)
  -k, --insecure   do not verify the server's certificate (says so)
  --user U         log in as U (AUTH PLAIN or LOGIN, over TLS only)
  --password-file F  the password: the first line of F ("-": stdin)
  -v               show the dialogue on standard error
  --help           this text
Options take their value as the next argument or after "=" (--to=a@b).
Any rejection fails the whole message: nobody gets it.]]

local TAKES = { server = "one", port = "one", from = "one", to = "list", cc = "list",
  bcc = "list", subject = "one", header = "list", body = "one", ["body-file"] = "one",
  helo = "one", timeout = "one", cacert = "one", user = "one", ["password-file"] = "one" }

--- Options from the command line, or nil, message (a usage error).
local function options(args)
  local o = { to = {}, cc = {}, bcc = {}, header = {} }
  local i = 1
  while i <= #args do
    local a = args[i]
    local k, v = a:match("^%-%-([%w-]+)=(.*)$")
    k = k or a:match("^%-%-([%w-]+)$")
    if a == "--help" or a == "-h" then o.help = true
    elseif a == "-v" or a == "--verbose" then o.verbose = true
    elseif a == "--starttls" then o.starttls = true
    elseif a == "--tls" then o.tls = true
    elseif a == "-k" or a == "--insecure" then o.insecure = true
    elseif a == "--password" or a:match("^%-%-password=") then
      return nil, "no --password: a password on the command line is seen by every user (ps); use --password-file"
    elseif k and TAKES[k] then
      if not v then
        i = i + 1
        v = args[i]
        if v == nil then return nil, "option --" .. k .. " needs a value" end
      end
      if TAKES[k] == "list" then table.insert(o[k], v)
      elseif o[k] ~= nil then return nil, "option --" .. k .. " given twice"
      else o[k] = v end
    else
      return nil, (a:sub(1, 1) == "-" and "unknown option: " or "unexpected argument: ") .. a
    end
    i = i + 1
  end
  return o
end

--- Check the options and turn them into smtp.send's table, or nil,
--- message, usage (true when the usage is to be shown: a missing option).
local function request(o)
  if not o.server then return nil, "--server is required", true end
  if not o.from then return nil, "--from is required", true end
  if #o.to == 0 then return nil, "--to is required", true end
  if o.body and o["body-file"] then return nil, "--body and --body-file exclude each other" end
  local port = o.port and math.tointeger(tonumber(o.port))
  if o.port and (not port or port < 1 or port > 65535) then return nil, "bad port: " .. o.port end
  local timeout = o.timeout and tonumber(o.timeout)
  if o.timeout and (not timeout or timeout <= 0) then return nil, "bad timeout: " .. o.timeout end
  if o.starttls and o.tls then return nil, "--starttls and --tls exclude each other" end
  if (o.cacert or o.insecure) and not (o.starttls or o.tls) then return nil, "--cacert and -k need --starttls or --tls" end
  if o.cacert and o.insecure then return nil, "--cacert and -k exclude each other" end
  if o.user and not o["password-file"] then return nil, "--user needs --password-file" end
  if o["password-file"] and not o.user then return nil, "--password-file needs --user" end
  local headers = {}
  for _, h in ipairs(o.header) do
    local name, value = h:match("^([^:]+):%s*(.*)$")
    if not name then return nil, "bad header (NAME: VALUE expected): " .. h end
    headers[name] = value
  end
  return { server = o.server, port = port, from = o.from, to = o.to, cc = o.cc, bcc = o.bcc,
    subject = o.subject, headers = headers, body = o.body, helo = o.helo, timeout = timeout,
    trace = o.verbose or nil, tls = o.starttls and "starttls" or o.tls and "tls" or nil,
    tlsopts = (o.cacert or o.insecure) and { ca = o.cacert, verify = not o.insecure } or nil,
    user = o.user }
end

--- The password: the first line of path ("-": standard input), or nil, message.
local function readpassword(path)
  local f, err = io.stdin, nil
  if path ~= "-" then f, err = io.open(path, "rb") end
  if not f then return nil, "cannot read the password: " .. err end
  local s = f:read("l")
  if f ~= io.stdin then f:close() end
  if not s or s == "" then return nil, "cannot read the password: " .. path .. " is empty" end
  return (s:gsub("\r$", ""))
end

--- The body from --body-file (a path or "-"), or nil, message.
local function readbody(path)
  local f, err = io.stdin, nil
  if path ~= "-" then f, err = io.open(path, "rb") end
  if not f then return nil, "cannot read body: " .. err end
  local s = f:read("a")
  if f ~= io.stdin then f:close() end
  return s
end

--- Print a usage error, then the usage (`usage` true) or a hint to
--- --help (a bad value); returns 2.
local function usage_error(msg, usage)
  io.stderr:write("smtp_send.lua: ", msg, "\n", usage and USAGE or "try 'smtp_send.lua --help'", "\n")
  return 2
end

local function main(args)
  local o, err = options(args)
  if not o then return usage_error(err, true) end
  if o.help then print(USAGE) return 0 end
  local req, usage
  req, err, usage = request(o)
  if not req then return usage_error(err, usage) end
  if o["body-file"] then
    req.body, err = readbody(o["body-file"])
    if not req.body then
      io.stderr:write("smtp_send.lua: ", err, "\n")
      return 1
    end
  end
  if o.user then
    req.password, err = readpassword(o["password-file"])
    if not req.password then
      io.stderr:write("smtp_send.lua: ", err, "\n")
      return 1
    end
  end
  if o.insecure then io.stderr:write("smtp_send.lua: warning: -k: the server's certificate is NOT VERIFIED\n") end
  -- a CR/LF in an address, subject or header, or a malformed address, is
  -- refused by net.smtp before it connects: a usage error here
  local ok, sent, reply = pcall(smtp.send, req)
  if not ok then return usage_error((tostring(sent):gsub("^[^\n]-:%d+: ", ""))) end
  if not sent then
    io.stderr:write("smtp_send.lua: ", (tostring(reply):gsub("[\r\n]", " ")), "\n")
    return 1
  end
  if o.verbose then io.stderr:write("*** sent: ", reply, "\n") end
  return 0
end

os.exit(main(arg))
