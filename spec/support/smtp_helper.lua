-- spec/support/smtp_helper.lua: a private SMTP server for the smtp specs:
-- Debian's aiosmtpd on a free port of 127.0.0.1, with a small handler (a
-- Python file written here, loaded with -c through PYTHONPATH) that is
-- aiosmtpd's Mailbox (a Maildir) plus two things: it refuses recipients
-- whose local part is "nobody" with 550 5.1.1, and it keeps the raw DATA
-- it received (after the server's own dot-unstuffing, CRLFs as sent) and
-- the envelope, so the specs can check delivery byte for byte.
local common = require "spec.support.common"
local tcp = require "spec.support.tcp_helper"

local M = {}

local HANDLER = [[
import os
from aiosmtpd.handlers import Mailbox

class SpecMailbox(Mailbox):
    """Mailbox that refuses nobody@ and keeps raw DATA and the envelope."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = os.path.join(os.path.dirname(os.path.abspath(self.mail_dir)), "raw")
        os.makedirs(raw, exist_ok=True)
        n = len([f for f in os.listdir(raw) if f.endswith(".eml")]) + 1
        with open(os.path.join(raw, "%04d.env" % n), "w") as f:
            f.write("\n".join([envelope.mail_from] + list(envelope.rcpt_tos)) + "\n")
        with open(os.path.join(raw, "%04d.eml" % n), "wb") as f:
            f.write(envelope.original_content)
        return await super().handle_DATA(server, session, envelope)
]]

-- Read a whole file, or nil.
local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The sorted names in a directory (none if it does not exist).
local function listdir(dir)
  local out = {}
  local p = io.popen("ls " .. common.q(dir) .. " 2>/dev/null")
  for name in p:lines() do out[#out + 1] = name end
  p:close()
  table.sort(out)
  return out
end

-- Start the server; returns a handle: .port, .dir, :messages(), :clear(),
-- :stop(). Errors if it does not accept within 10 s.
function M.start()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/py " .. dir .. "/raw"))
  local f = assert(io.open(dir .. "/py/smtpspec.py", "w"))
  f:write(HANDLER)
  f:close()
  local port = tcp.free_port()
  local h = common.daemon("aiosmtpd", "PYTHONPATH=" .. dir .. "/py exec /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:" ..
    port .. " -c smtpspec.SpecMailbox " .. dir .. "/md >" .. dir .. "/log 2>&1", dir, { port }, dir .. "/log")
  h.port = port

  -- The messages received since the last clear, in order: each
  -- { raw = DATA bytes, from = envelope sender, rcpts = {...} }, and the
  -- number of files aiosmtpd's Maildir holds.
  function h.messages()
    local out = {}
    for _, name in ipairs(listdir(dir .. "/raw")) do
      local n = name:match("^(%d+)%.eml$")
      if n then
        local env = slurp(dir .. "/raw/" .. n .. ".env") or ""
        local lines = {}
        for l in env:gmatch("[^\n]*") do if l ~= "" then lines[#lines + 1] = l end end
        out[#out + 1] = { raw = slurp(dir .. "/raw/" .. name), from = lines[1],
          rcpts = { table.unpack(lines, 2) } }
      end
    end
    return out, #listdir(dir .. "/md/new")
  end

  -- The Maildir files' contents (as aiosmtpd's Mailbox wrote them).
  function h.maildir()
    local out = {}
    for _, name in ipairs(listdir(dir .. "/md/new")) do out[#out + 1] = slurp(dir .. "/md/new/" .. name) end
    return out
  end

  -- Forget the messages received so far.
  function h.clear()
    os.execute("rm -f " .. common.q(dir) .. "/raw/* " .. common.q(dir) .. "/md/new/*")
  end

  return h
end

-- A server that authenticates (AUTH PLAIN and LOGIN, one account: user
-- "alice", password "s3cret pass"), as a Python program on aiosmtpd's
-- SMTP class: mode "starttls" offers STARTTLS with cert/key and AUTH only
-- after it (aiosmtpd's auth_require_tls); mode "tls" speaks TLS from the
-- start (port 465 style). Each delivered message's envelope sender and the
-- login it came with are appended to DIR/log.txt ("from login"). Returns {port, log(),
-- stop()}.
local AUTHSERVER = [[
import asyncio, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

mode, port, cert, key, logf = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (mechanism in ("PLAIN", "LOGIN") and isinstance(auth_data, LoginPassword)
          and auth_data.login == b"alice" and auth_data.password == b"s3cret pass")
    return AuthResult(success=ok, handled=False, auth_data=auth_data)

class Handler:
    async def handle_DATA(self, server, session, envelope):
        with open(logf, "a") as f:
            f.write("%s %s\n" % (envelope.mail_from, session.auth_data.login.decode()
                                 if session.auth_data else "-"))
        return "250 OK queued"

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)

def factory():
    return SMTP(Handler(), authenticator=authenticator, hostname="auth.test",
                tls_context=ctx if mode == "starttls" else None,
                auth_require_tls=(mode == "starttls"))

async def main():
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(factory, "127.0.0.1", port, ssl=ctx if mode == "tls" else None)
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
]]

function M.start_auth(mode, cert, key)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local f = assert(io.open(dir .. "/authserver.py", "w"))
  f:write(AUTHSERVER)
  f:close()
  local port = tcp.free_port()
  local h = common.daemon("the aiosmtpd auth server",
    ("exec /usr/bin/python3 %s/authserver.py %s %d %s %s %s/log.txt >%s/out 2>&1")
      :format(dir, mode, port, common.q(cert), common.q(key), dir, dir), dir, { port }, dir .. "/out")
  h.port = port
  function h.log() return slurp(dir .. "/log.txt") or "" end
  return h
end

return M
