-- spec/support/pty.lua: drive netlua's prompt through a pseudo-terminal with
-- expect(1), as a person at a terminal would.
--
--   local pty = require "spec.support.pty"
--   local r = pty.run({ { send = "6*7\r" }, { expect = "42" } }, { home = dir })
--   assert(r.ok, r.why)         -- every expectation met in time
--   r.out                       -- the whole session as the terminal got it
--   r.exit                      -- netlua's exit status (after Ctrl-D)
--   local h = pty.start(steps, opts) ... h.wait()   -- the same, in the
--                               -- background (two prompts at once)
--
-- Steps, in order:
--   { send = "text" }           type it ("\r" is Enter, "\3" Ctrl-C, "\4" Ctrl-D)
--   { expect = "text" }         wait until the output shows it (exactly)
--   { re = "regexp" }           wait until the output matches (Tcl regexp)
--   { sleep = seconds }
--   { tcl = "code" }            anything else, in Tcl (e.g. exec a client)
-- Every wait is bounded (opts.timeout, 5 s by default); the first one that
-- fails ends the session and says what was awaited in r.why. At the end
-- Ctrl-D is typed once a prompt shows (unless opts.no_eof) and netlua must
-- exit.
-- opts: home (HOME for netlua; a fresh directory by default), env (extra
-- "NAME=value" strings), args (extra arguments), term (TERM, "xterm").
local common = require "spec.support.common"

local M = {}

--- A Tcl double-quoted string holding s exactly (every byte escaped).
local function tcl(s)
  return '"' .. s:gsub("[^%w ]", function(c) return ("\\u%04x"):format(c:byte()) end) .. '"'
end
M.tcl = tcl

--- A fresh temporary directory.
function M.tmpdir()
  local p = io.popen("mktemp -d")
  local d = p:read("l")
  p:close()
  return d
end

--- Remove a directory made by tmpdir.
function M.rmdir(d)
  if d and d:match("^/tmp/") then os.execute("rm -rf " .. common.q(d)) end
end

--- The Tcl for one wait: pattern, or fail with a message naming it.
local function wait(kind, pat)
  local what = tcl(pat)
  return table.concat({
    "expect {",
    "  " .. kind .. " " .. what .. " {}",
    "  timeout { puts stderr \"\\nTIMEOUT waiting for: \"; puts stderr " .. what .. "; exit 2 }",
    "  eof { puts stderr \"\\nEOF waiting for: \"; puts stderr " .. what .. "; exit 3 }",
    "}" }, "\n")
end

--- The expect script of a session.
local function script(steps, opts, home)
  local cmd = { "env", "HOME=" .. home, "TERM=" .. (opts.term or "xterm") }
  for _, e in ipairs(opts.env or {}) do cmd[#cmd + 1] = e end
  cmd[#cmd + 1] = common.netlua
  for _, a in ipairs(opts.args or {}) do cmd[#cmd + 1] = a end
  local words = {}
  for i, w in ipairs(cmd) do words[i] = tcl(w) end
  local out = {
    "set timeout " .. (opts.timeout or 5),
    "set stty_init {rows 40 cols 100}",
    "log_user 1",
    "spawn -noecho " .. table.concat(words, " "),
  }
  for _, s in ipairs(steps) do
    if s.send then
      out[#out + 1] = "send -- " .. tcl(s.send)
    elseif s.expect then
      out[#out + 1] = wait("-ex", s.expect)
    elseif s.re then
      out[#out + 1] = wait("-re", s.re)
    elseif s.sleep then
      out[#out + 1] = ("after %d"):format(math.floor(s.sleep * 1000))
    elseif s.tcl then
      out[#out + 1] = s.tcl
    end
  end
  if not opts.no_eof then
    -- Ctrl-D typed before the prompt shows would reach a terminal still in
    -- cooked mode (where it is not a key): wait for a prompt first
    out[#out + 1] = "set timeout 1\nexpect -re {> $} {}\nset timeout " .. (opts.timeout or 5)
    out[#out + 1] = "send -- \"\\u0004\""
  end
  out[#out + 1] = [[
expect {
  eof {}
  timeout { puts stderr "\nnetlua did not exit"; exit 4 }
}
lassign [wait] pid spawnid oserr value
puts "\nEXIT=$value"
exit 0]]
  return table.concat(out, "\n") .. "\n"
end

--- Start a session in the background (another process meanwhile, e.g. a
--- second prompt); returns a handle whose :wait() gives what run gives.
function M.start(steps, opts)
  opts = opts or {}
  local home = opts.home or M.tmpdir()
  local file, out, err, done = os.tmpname(), os.tmpname(), os.tmpname(), os.tmpname()
  os.remove(done)
  local f = assert(io.open(file, "w"))
  f:write(script(steps, opts, home))
  f:close()
  os.execute("(timeout 60 expect -f " .. common.q(file) .. " >" .. common.q(out) .. " 2>" .. common.q(err) ..
    " </dev/null; echo $? >" .. common.q(done .. ".t") .. "; mv " .. common.q(done .. ".t") .. " " ..
    common.q(done) .. ") >/dev/null 2>&1 &")  -- renamed when written: never read half-written
  local h = {}
  function h.wait()
    local code
    for _ = 1, 1300 do -- at most 65 s: expect itself stops at 60
      local d = io.open(done)
      if d then code = tonumber(d:read("a")); d:close(); break end
      os.execute("sleep 0.05")
    end
    local function slurp(n)
      local x = io.open(n, "rb"); local t = x and x:read("a") or ""; if x then x:close() end
      os.remove(n); return t
    end
    os.remove(file); os.remove(done)
    if not opts.home then M.rmdir(home) end
    return M.result(code or -1, slurp(out), slurp(err))
  end
  return h
end

--- What run returns, from expect's status and output.
function M.result(code, out, err)
  local exit = out:match("\nEXIT=(%-?%d+)%s*$")
  local sanitizer = out:find("Sanitizer", 1, true) or out:find("runtime error:", 1, true)
  if sanitizer and code == 0 then err = "sanitizer report in the session" end
  return {
    ok = code == 0 and not sanitizer,
    exit = exit and tonumber(exit),
    out = out,
    why = (err ~= "" and err or ("expect exited with " .. tostring(code))) .. "\n--- session:\n" .. out,
  }
end

--- Run a session; see the top of the file.
function M.run(steps, opts)
  return M.start(steps, opts).wait()
end

--- The session's text without terminal escapes and carriage returns.
function M.clean(s)
  return (s:gsub("\27%[[%d;?]*%a", ""):gsub("\27[%(%)][%w]", ""):gsub("\r", ""))
end

return M
