-- net.relay: a TCP relay (port forwarder) that can show what passes
-- through it, for looking at a dialogue between two programs.
--
-- Entry points (the module table is callable, so the lazy `net.relay`
-- already works as a function):
--   net.relay(lhost, lport, thost, tport [, opts]) -> relay, or nil, message
--       Listens on lhost:lport (port 0: any, see relay:getsockname()) as
--       net.serve does and returns at once. Each client gets a connection
--       to thost:tport, and the bytes are forwarded both ways
--       (conn:forward, by splice(2) when not traced) until both sides have
--       finished: a half-close passes through (the client shuts down its
--       sending side, the target sees the end and its reply still flows
--       back), a reset on one side resets the other, nothing is lost or
--       reordered. A target that cannot be reached: the client is closed
--       normally (what it sent is read and dropped for up to a second
--       first, so it sees the end of the stream, not a reset) and the relay
--       goes on; why is said in the transcript, or, without one, on stderr
--       as one line per failure: "relay: connect HOST:PORT (ADDR): ...".
--       In the transcript the ends are named: "client closed (shutdown
--       send to target)" when the client half-closes, "target closed" when
--       the target ends its stream.
--       opts: trace = true | function | file | path: the transcript of each
--         pair, each line prefixed with its connection number "[n] ",
--         client -> target data as " -> " (sent to the target), target ->
--         client data as "<- " (received from it), events "*** ";
--         time = true: an elapsed-time column in the transcript;
--         timeout: seconds to connect to the target (default 10);
--         backlog, family, max: as net.serve.
--       Misuse (bad ports, unknown options) raises; a trace path that
--       cannot be opened gives nil, message.
--   relay:close() -> true, or nil, "closed": stops accepting and ends the
--       pairs still open (quietly).
--   relay:getsockname() -> host, port
--   relay:pairs() -> the number of pairs open now
--   tostring(relay) -> "net.relay 127.0.0.1:8081 -> 127.0.0.1:80 (1 pair)"
local net = require "net"
local serve = require "net.serve"

local M = {}

-- At the prompt a failure says so by itself (netaux.h, "net.notice"): called
-- as a statement in the public entry point, whose caller is the prompt's line.
local notice = package.loaded["net.notice"] or function() end

local CONNECT_TIMEOUT = 10
local LINGER, LINGER_BYTES = 1, 1 << 20   -- draining a client before closing it
local JOIN_FIRST, JOIN_MAX = 0.005, 0.2   -- polls while one direction waits for the other

local KNOWN = { trace = true, time = true, timeout = true, backlog = true, family = true,
  max = true }

local Relay = {}
Relay.__index = Relay

-- Wait (polling, backoff) until done() is true.
local function join(done)
  local pause = JOIN_FIRST
  while not done() do
    net.sleep(pause)
    pause = math.min(pause * 2, JOIN_MAX)
  end
end

-- True when a forward's error says a peer reset its connection.
local function isreset(err)
  return type(err) == "string" and (err:find("reset", 1, true) ~= nil)
end

-- End of a direction that failed: reset or close both connections. `from`
-- is where the bytes came from, `to` where they went; side which one failed.
local function abort(from, to, err, side, ev)
  local failed, other = from, to
  if side == "send" then failed, other = to, from end
  if err == "closed" then
    other:close()
  elseif isreset(err) then
    ev("reset", nil, failed)
    other:reset()
  else
    ev("error", err, failed)
    other:close()
  end
  failed:close()
end

-- Close a client normally: end our side, read and drop what it sent (at
-- most LINGER seconds, LINGER_BYTES), then close. Closing with unread
-- bytes would send it a reset instead of an end of stream.
local function close_gently(c)
  c:shutdown("send")
  c:settimeout(LINGER)
  local stop, got = net.now() + LINGER, 0
  while got < LINGER_BYTES and net.now() < stop do
    local data = c:receive(65536)
    if not data then break end
    got = got + #data
  end
  c:close()
end

-- The target's transcript events, named for a relay: which end closed.
local function target_events(ev)
  return function(what, data, ...)
    if what == "shutdown" and data == "send" then return ev("client closed", "(shutdown send to target)", ...) end
    if what == "peerclosed" then return ev("target closed", nil, ...) end
    return ev(what, data, ...)
  end
end

-- One client: connect to the target and forward both ways.
local function pair(relay, client)
  relay.count = relay.count + 1
  local id = relay.count
  local ev = function() end
  if relay.how then
    local h = require("net.transcript").handler(relay.how, { id = id, time = relay.time })
    ev = function(...)  -- quiet once relay:close() has closed the transcript file
      if io.type(relay.how) ~= "closed file" then h(...) end
    end
  end
  ev("client", serve.hostport(client:getpeername()) .. " -> " .. serve.hostport(client:getsockname()))
  local target, err = net.connect(relay.thost, relay.tport, { timeout = relay.timeout })
  if not target then
    ev("failed", err)
    if not relay.how then  -- not traced: never silent, one line per failure
      io.stderr:write("relay: ", err, "\n")
      io.stderr:flush()
    end
    close_gently(client)
    ev("close", "client")
    return
  end
  relay.conns[target] = true
  relay.npairs = relay.npairs + 1
  ev = target_events(ev)
  if relay.how then target:settrace(ev) end
  ev("connected", nil, target)
  local up, down
  net.spawn(function()
    up = table.pack(client:forward(target))
    if up[1] == nil then abort(client, target, up[2], up[4], ev) end
  end)
  down = table.pack(target:forward(client))
  if down[1] ~= nil then
    ev("peerclosed", nil, target)
  else
    abort(target, client, down[2], down[4], ev)
  end
  join(function() return up ~= nil end)
  relay.npairs = relay.npairs - 1
  relay.conns[target] = nil
  target:close()
  client:close()
end

-- Check the arguments; raise on misuse.
local function checkargs(thost, tport, opts)
  if type(thost) ~= "string" then
    error("bad argument #3 to 'relay' (string expected, got " .. type(thost) .. ")", 3)
  end
  if math.type(tport) ~= "integer" or tport < 1 or tport > 65535 then
    error("bad argument #4 to 'relay' (port must be an integer 1-65535)", 3)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #5 to 'relay' (table expected, got " .. type(opts) .. ")", 3)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not KNOWN[k] then error("bad argument #5 to 'relay' (unknown option '" .. tostring(k) .. "')", 3) end
  end
  return opts
end

-- net.relay(lhost, lport, thost, tport [, opts]) -> relay, or nil, message.
function M.relay(lhost, lport, thost, tport, opts)
  opts = checkargs(thost, tport, opts)
  local how = opts.trace
  if how == false then how = nil end
  local ownfile
  if type(how) == "string" then
    local f, err = io.open(how, "a")
    if not f then notice("transcript " .. err) return nil, "transcript " .. err end
    f:setvbuf("line")
    how, ownfile = f, f
  elseif how ~= nil then
    require("net.transcript").handler(how)  -- raises now on a bad `how`
  end
  local relay = setmetatable({ thost = thost, tport = tport, how = how, time = opts.time,
    ownfile = ownfile, timeout = opts.timeout or CONNECT_TIMEOUT, count = 0, npairs = 0,
    conns = setmetatable({}, { __mode = "k" }) }, Relay)
  local srv, err = serve.serve(lhost, lport, function(c) pair(relay, c) end,
    { backlog = opts.backlog, family = opts.family, max = opts.max })
  if not srv then
    if ownfile then ownfile:close() end
    notice(err)
    return nil, err
  end
  relay.srv = srv
  relay.name = srv.name .. " -> " .. serve.hostport(thost, tport)
  serve.describe(srv.task, function()
    return "relaying " .. relay.name .. ", " .. relay.npairs .. " pair" .. (relay.npairs == 1 and "" or "s")
  end)
  return relay
end

-- relay:close() -> true, or nil, "closed".
function Relay:close()
  local ok, err = self.srv:close()
  if not ok then return ok, err end
  for t in pairs(self.conns) do t:close() end
  if self.ownfile then self.ownfile:close(); self.ownfile = nil end
  return true
end

-- relay:getsockname() -> host, port.
function Relay:getsockname()
  return self.srv:getsockname()
end

-- relay:pairs() -> the number of pairs open now.
function Relay:pairs()
  return self.npairs
end

function Relay:__tostring()
  return "net.relay " .. self.name .. (self.srv.closed and " (closed)" or
    " (" .. self.npairs .. " pair" .. (self.npairs == 1 and "" or "s") .. ")")
end

Relay.__close = Relay.close
M.Relay = Relay

return setmetatable(M, { __call = function(_, ...) return M.relay(...) end })
