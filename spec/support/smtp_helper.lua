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
  local p = io.popen("PYTHONPATH=" .. dir .. "/py exec /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:" ..
    port .. " -c smtpspec.SpecMailbox " .. dir .. "/md >" .. dir .. "/log 2>&1 </dev/null & echo $!")
  local pid = tonumber(p:read("l"))
  p:close()
  local h = { port = port, pid = pid, dir = dir }

  -- Stop the server (bounded wait) and remove its directory.
  function h.stop()
    if h.pid then
      os.execute("kill " .. h.pid .. " 2>/dev/null; for i in $(seq 100); do kill -0 " .. h.pid ..
        " 2>/dev/null || break; sleep 0.05; done; kill -9 " .. h.pid .. " 2>/dev/null")
      h.pid = nil
    end
    os.execute("rm -rf " .. common.q(dir))
  end

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

  if not common.wait_port(port, 10) then
    local log = slurp(dir .. "/log") or ""
    h.stop()
    error("aiosmtpd did not start: " .. log)
  end
  return h
end

return M
