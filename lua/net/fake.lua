-- net.fake: a scripted peer for tests. It listens, accepts a client and
-- plays a dialogue with it, step by step, failing with a message that says
-- which step went wrong, what was expected and what came instead.
--
-- Entry points (the module table is callable, so the lazy `net.fake`
-- already works as a function):
--   net.fake(host, port, dialogue [, opts]) -> fake, or nil, message
--       Listens on host:port (port 0: any, see fake:getsockname()) and
--       returns at once; the dialogue runs as a task. dialogue is a list of
--       steps, played in order for each client:
--         {send = "220 ready"}  send the text, CRLF added (not with
--                               opts.raw or step.raw = true)
--         {expect = "^HELO"}    the next line received (without its end)
--                               must match this Lua pattern
--         {receive = n}         receive n bytes (or "l": a line, "a": all
--                               until the client closes); kept in
--                               fake.received
--         {sleep = s}           wait s seconds
--         {shutdown = "send"}   shut down a side of the connection
--         {close = true}        close the connection (the dialogue ends)
--       After the last step the connection is closed.
--       opts: clients = n (clients to accept one after the other, default
--       1), timeout = seconds for each step and for each client to come
--       (default 10), raw = true (no CRLF added to sends), linelimit.
--       Misuse (a dialogue that is not a list of known steps, a bad
--       pattern kind, unknown options) raises.
--   fake:wait([timeout]) -> true when every client played the dialogue to
--       the end; nil, message when a step failed, e.g.
--         step 2 (expect "^HELO"): received "EHLO x\r", no match
--       (escapes made visible; "client 2, step 2 ..." with several
--       clients), "timeout" when a client never came or the dialogue did
--       not end within timeout (default: opts.timeout times the steps,
--       plus one), "closed" if fake:close() stopped it first.
--   fake:close() -> true, or nil, "closed": stop listening and playing.
--   fake:getsockname() -> host, port
--   fake.received: a list of what each client sent (lines matched by
--       expect and the data of receive steps), per client: received[i].
--   tostring(fake) -> "net.fake 127.0.0.1:2525 (waiting|playing|passed|failed)"
local net = require "net"
local serve = require "net.serve"

local M = {}

-- At the prompt a failure says so by itself (netaux.h, "net.notice"): called
-- as a statement in the public entry point, whose caller is the prompt's line.
local notice = package.loaded["net.notice"] or function() end

local STEP_TIMEOUT = 10
local WAIT_POLL_FIRST, WAIT_POLL_MAX = 0.002, 0.05

local KNOWN = { clients = true, timeout = true, raw = true, linelimit = true, family = true,
  backlog = true }
local STEP_KEYS = { send = true, expect = true, receive = true, sleep = true, close = true,
  shutdown = true, raw = true }
local KINDS = { "send", "expect", "receive", "sleep", "shutdown", "close" }

local Fake = {}
Fake.__index = Fake

-- Text made visible and quoted, for messages.
local function quote(s)
  return '"' .. require("net.transcript").visible(tostring(s)) .. '"'
end

-- The kind of a step ("send", "expect" ...) and a short form for messages.
local function describe(step)
  for _, k in ipairs(KINDS) do
    if step[k] ~= nil then
      local v = step[k]
      if k == "close" then return k, "close" end
      return k, k .. " " .. (type(v) == "string" and quote(v) or tostring(v))
    end
  end
end

-- Check the dialogue: a list of tables, each with exactly one known kind.
local function checkdialogue(dialogue)
  if type(dialogue) ~= "table" then
    error("bad argument #3 to 'fake' (table expected, got " .. type(dialogue) .. ")", 3)
  end
  for i, step in ipairs(dialogue) do
    if type(step) ~= "table" then error("bad argument #3 to 'fake' (step " .. i .. " is not a table)", 3) end
    local kinds = 0
    for k in pairs(step) do
      if not STEP_KEYS[k] then
        error("bad argument #3 to 'fake' (step " .. i .. ": unknown key '" .. tostring(k) .. "')", 3)
      end
      if k ~= "raw" then kinds = kinds + 1 end
    end
    if kinds ~= 1 then error("bad argument #3 to 'fake' (step " .. i .. " needs exactly one of send, expect, receive, sleep, shutdown, close)", 3) end
    local kind = describe(step)
    local v = step[kind]
    local okv = (kind == "send" or kind == "expect") and type(v) == "string"
      or kind == "sleep" and type(v) == "number" and v >= 0
      or kind == "receive" and (math.type(v) == "integer" and v >= 0 or v == "l" or v == "a")
      or kind == "shutdown" and (v == "send" or v == "receive" or v == "both")
      or kind == "close" and v == true
    if not okv then error("bad argument #3 to 'fake' (step " .. i .. ": bad value for " .. kind .. ")", 3) end
    if kind == "expect" and not pcall(string.find, "", v) then
      error("bad argument #3 to 'fake' (step " .. i .. ": bad pattern " .. quote(v) .. ")", 3)
    end
  end
end

-- Play step `step` with connection c; nil, or the message of a failure.
local function play(fake, c, step, got)
  local kind = describe(step)
  local v = step[kind]
  if kind == "send" then
    local raw = step.raw or (step.raw == nil and fake.raw)
    local ok, err = c:send(raw and v or v .. "\r\n")
    if not ok then return "sending failed: " .. err end
  elseif kind == "expect" then
    local line, err, partial = c:receive()
    if not line then
      return "expected a line matching " .. quote(v) .. ", got " .. err ..
        (partial ~= "" and " (received " .. quote(partial) .. ")" or "")
    end
    got[#got + 1] = line
    if not line:find(v) then return "received " .. quote(line) .. ", no match" end
  elseif kind == "receive" then
    local data, err, partial = c:receive(v)
    if not data then
      return "receive " .. tostring(v) .. ": " .. err ..
        (partial and partial ~= "" and " (received " .. quote(partial) .. ")" or "")
    end
    got[#got + 1] = data
  elseif kind == "sleep" then
    net.sleep(v)
  elseif kind == "shutdown" then
    c:shutdown(v)
  elseif kind == "close" then
    c:close()
    return nil, true
  end
end

-- The task of a fake: accept each client in turn and play the dialogue.
local function run(fake)
  for n = 1, fake.clients do
    local c, err = fake.sock:accept(fake.timeout)
    if not c then
      fake.err = fake.closed and "closed" or err
      return
    end
    fake.conn = c
    c:settimeout(fake.timeout)
    local got = {}
    fake.received[n] = got
    for i, step in ipairs(fake.dialogue) do
      local msg, closed = play(fake, c, step, got)
      if fake.closed then fake.err = "closed"; c:close(); return end
      if msg then
        local _, short = describe(step)
        fake.err = (fake.clients > 1 and "client " .. n .. ", " or "") ..
          "step " .. i .. " (" .. short .. "): " .. msg
        c:close()
        return
      end
      if closed then break end
    end
    c:close()
    fake.conn = nil
  end
  fake.passed = true
end

-- net.fake(host, port, dialogue [, opts]) -> fake, or nil, message.
function M.fake(host, port, dialogue, opts)
  checkdialogue(dialogue)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #4 to 'fake' (table expected, got " .. type(opts) .. ")", 2)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not KNOWN[k] then error("bad argument #4 to 'fake' (unknown option '" .. tostring(k) .. "')", 2) end
  end
  local clients = opts.clients or 1
  if math.type(clients) ~= "integer" or clients < 1 then
    error("bad argument #4 to 'fake' (clients must be an integer >= 1)", 2)
  end
  local timeout = opts.timeout or STEP_TIMEOUT
  if type(timeout) ~= "number" or timeout < 0 or timeout ~= timeout then
    error("bad argument #4 to 'fake' (timeout must be a number >= 0)", 2)
  end
  local sock, err = net.listen(host, port, { linelimit = opts.linelimit, family = opts.family,
    backlog = opts.backlog })
  if not sock then notice(err) return nil, err end
  local fake = setmetatable({ sock = sock, dialogue = dialogue, clients = clients,
    timeout = timeout, raw = opts.raw, received = {}, passed = false, closed = false }, Fake)
  fake.name = serve.hostport(sock:getsockname())
  fake.task = net.spawn(function()
    run(fake)
    fake.finished = true
    if not fake.closed then sock:close() end
  end)
  serve.describe(fake.task, "net.fake " .. fake.name)
  return fake
end

-- fake:wait([timeout]) -> true, or nil, message.
function Fake:wait(timeout)
  if timeout == nil then timeout = self.timeout * (#self.dialogue + 1) * self.clients end
  local limit = net.now() + timeout
  local pause = WAIT_POLL_FIRST
  while not self.finished do
    if net.now() >= limit then return nil, "timeout" end
    net.sleep(math.min(pause, math.max(0, limit - net.now())))
    pause = math.min(pause * 2, WAIT_POLL_MAX)
  end
  if self.passed then return true end
  return nil, self.err
end

-- fake:close() -> true, or nil, "closed".
function Fake:close()
  if self.closed then return nil, "closed" end
  self.closed = true
  self.sock:close()
  if self.conn then self.conn:close() end
  return true
end

-- fake:getsockname() -> host, port.
function Fake:getsockname()
  return self.sock:getsockname()
end

function Fake:__tostring()
  local state = self.passed and "passed" or self.finished and "failed"
    or self.conn and "playing" or self.closed and "closed" or "waiting"
  return "net.fake " .. self.name .. " (" .. state .. ")"
end

Fake.__close = Fake.close
M.Fake = Fake

return setmetatable(M, { __call = function(_, ...) return M.fake(...) end })
