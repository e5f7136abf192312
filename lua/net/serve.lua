-- net.serve: a TCP server that runs a handler for each client, each in a
-- task of its own, on the one loop.
--
-- Entry points (the module table is callable, so the lazy `net.serve`
-- already works as a function):
--   net.serve(host, port, handler [, opts]) -> srv, or nil, message
--       Listens as net.listen does (same messages on failure), then returns
--       at once: accepting runs as a task, and handler(conn) runs in a
--       task serving that one client, so clients are served concurrently
--       while the script or the prompt goes on. (A task done with its client
--       takes the next one waiting, or waits a moment to be handed one:
--       net.tasks() shows it "waiting for the next client".) The connection is closed (and the
--       client uncounted) when the handler returns or fails, or its task
--       is cancelled (task:cancel()).
--       A handler error is written on stderr with its traceback, naming the
--       server and the client, and the server goes on serving. It does NOT
--       make the script's exit status 1 (a dying task does): the server
--       survived it; a test that needs to notice can catch errors itself.
--       opts: backlog, family, linelimit, defer (as net.listen), timeout (seconds
--       for each call on a client's connection; nil: none), max (clients
--       served at once, default 1000; more wait in the listen backlog),
--       tls = {cert, key [, ca, alpn, minversion]} (as net.listen: the
--       certificate is loaded at once, a bad one is nil, message here), and
--       handshake (seconds a client has for its TLS handshake, default 10).
--       With tls the listener accepts plain and each client's handshake runs
--       in its own task (server:accept(t, false), then server:handshake), so
--       a slow or broken handshaker never holds accept nor the others; one
--       that fails is closed quietly (no handler, no report) and counted in
--       srv.failed_handshakes.
--   srv:close() -> true, or nil, "closed": stops accepting and closes the
--       connections of the clients still being served (their handlers see
--       "closed"; errors they raise after that are not reported). Quiet:
--       no task error.
--   srv:getsockname() -> host, port     (the port chosen when 0 was asked)
--   srv:clients() -> number of clients being served now
--   tostring(srv) -> "net.serve 127.0.0.1:8080 (2 clients)" or "(closed)"
-- Out of descriptors while accepting (EMFILE, ENFILE), the server waits a
-- little (BACKOFF seconds) instead of spinning, and goes on.
local net = require "net"

local M = {}

-- At the prompt a failure says so by itself (netaux.h, "net.notice"): called
-- as a statement in the public entry point, whose caller is the prompt's line.
local notice = package.loaded["net.notice"] or function() end

local DEFAULT_MAX = 1000
local BACKOFF = 0.1       -- seconds to wait after accept runs out of something
local FULL_POLL = 0.01    -- seconds between looks for a free slot when max is reached

local KNOWN = { backlog = true, family = true, linelimit = true, defer = true, timeout = true, max = true,
  tls = true, handshake = true }

local Server = {}
Server.__index = Server

-- Clients one task serves in a row when more are waiting (internal; the
-- specs make it small to see the hand-over often).
M.reuse = 64
-- Client tasks kept waiting for the next client, and for how many seconds
-- (internal).
M.idle = 8
M.idle_time = 1

-- park(seconds) and wake(thread), internal (src/task.c).
local park, wake = package.loaded["net.park"].park, package.loaded["net.park"].wake

-- Give task t a description for net.tasks().
function M.describe(t, what)
  t:describe(what)
end

-- "host:port" of a server or a connection, IPv6 in brackets.
local function hostport(host, port)
  if not host then return "?" end
  if host:find(":", 1, true) then return "[" .. host .. "]:" .. port end
  return host .. ":" .. port
end
M.hostport = hostport

-- Report a handler's error (message with traceback) on stderr.
local function report(srv, peer, msg)
  io.stderr:write(string.format("netlua: error in net.serve handler (%s, client %s): %s\n",
    srv.name, peer, msg))
  io.stderr:flush()
end

-- A handler's error as a message with its traceback (for xpcall).
local function traceback(m)
  if type(m) ~= "string" then
    local mt = getmetatable(m)
    m = mt and mt.__tostring and tostring(m) or ("(error object is a " .. type(m) .. " value)")
  end
  return debug.traceback(m, 2)
end

-- Lets a client go (to-be-closed in serve_client): uncounts its
-- connection and closes it (as the connection's own __close does).
local Leave = { __close = function(self)
  local srv, c = self.srv, self.c
  srv.nclients = srv.nclients - 1
  getmetatable(c).__close(c)
end }

-- One client (client.c; client is its task's Leave object): run the
-- handler, then close the connection whatever happened.
-- The connection is let go in a to-be-closed variable, so a task:cancel()
-- (coroutine.close semantics) closes and uncounts it too. With TLS the
-- handshake comes first, within srv.handshake seconds.
local function serve_client(srv, client)
  local _ <close> = client
  local c = client.c
  if srv.tls then
    local ok = srv.sock:handshake(c, srv.handshake)
    if not ok then  -- closed and uncounted by the to-be-closed variables
      srv.failed_handshakes = srv.failed_handshakes + 1
      return
    end
  end
  if srv.timeout then c:settimeout(srv.timeout) end
  local ok, err = xpcall(srv.handler, traceback, c)
  if not ok and not srv.closed then report(srv, hostport(c:getpeername()), err) end
end

-- Take an idle client task off srv.idle (the last parked: its stack is
-- warm); nil when none is waiting (one cancelled while parked is dropped).
local function idle_task(srv)
  local idle = srv.idle
  for i = #idle, 1, -1 do
    local client = idle[i]
    idle[i] = nil
    if coroutine.status(client.thread) == "suspended" then return client end
  end
end

-- A client's task: serves client.c, then, while more clients wait in the
-- listen backlog (an accept that need not wait), the next ones, at most
-- M.reuse in a row before it lets the other tasks run. With none waiting
-- it parks among srv.idle (at most M.idle of them) for M.idle_time
-- seconds, for the accepting task to hand it the next client: a server
-- whose clients come one by one does not start a task for each. client:
-- the task's Leave object, {srv, c, thread}, c the connection being
-- served (nil while parked; also for the description).
local function client_task(srv, c, client)
  local reuse = M.reuse
  client.thread = coroutine.running()
  while c do
    for i = 1, reuse do
      client.c = c
      serve_client(srv, client)
      c = nil
      if srv.closed or srv.nclients >= srv.max then return end
      if i == reuse then coroutine.yield() break end   -- the other tasks run, then it goes on
      c = srv.sock:accept(0, not srv.tls)
      if not c then break end
      if srv.closed then c:close() return end
      srv.nclients = srv.nclients + 1
    end
    if not c then
      if #srv.idle >= M.idle then return end
      client.c = nil
      srv.idle[#srv.idle + 1] = client
      park(M.idle_time)
      c = client.c   -- handed one by accept_loop; nil: the time is up, or srv closed
      if not c then
        for i, other in ipairs(srv.idle) do
          if other == client then table.remove(srv.idle, i) break end
        end
      end
    end
  end
end

-- The accepting task: each client goes to an idle client task, or a new
-- one; at most srv.max clients at once. When it ends, however it ends (its
-- task cancelled too), the server is closed.
local function accept_loop(srv)
  local _ <close> = srv
  local sock = srv.sock
  while not srv.closed do
    if srv.nclients >= srv.max then
      net.sleep(FULL_POLL)
    else
      local c, err = sock:accept(nil, not srv.tls)
      if c then
        if srv.closed then c:close(); break end
        srv.nclients = srv.nclients + 1
        local client = idle_task(srv)
        if client then
          client.c = c
          wake(client.thread)
        else
          client = setmetatable({ srv = srv, c = c }, Leave)
          srv.clients_tasks[client] = true
          local t = net.spawn(client_task, srv, c, client)
          M.describe(t, function()  -- asked for by net.tasks() only: made then
            local kind = srv.kind or "net.serve"
            if not client.c then return kind .. " " .. srv.name .. ": waiting for the next client" end
            return kind .. " client " .. hostport(client.c:getpeername()) .. " of " .. srv.name
          end)
        end
        -- that task goes first (a task that yields runs again at the next
        -- turn of the loop): it takes the clients waiting after c itself,
        -- so a task is added only when those there are all waiting
        coroutine.yield()
      elseif err == "closed" or srv.closed then
        break
      else
        -- out of descriptors or memory, or a passing network error: never spin
        net.sleep(BACKOFF)
      end
    end
  end
end

-- Check serve's handler (argument 3) and options table (argument 4)
-- against the option names in `known`; raise at `level` (counted from the
-- caller of checkcall) on misuse. Returns the options (an empty table for
-- nil). Shared with net.http.serve.
function M.checkcall(handler, opts, known, level)
  level = level + 1
  if type(handler) ~= "function" and not (getmetatable(handler) or {}).__call then
    error("bad argument #3 to 'serve' (function expected, got " .. type(handler) .. ")", level)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #4 to 'serve' (table expected, got " .. type(opts) .. ")", level)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not known[k] then error("bad argument #4 to 'serve' (unknown option '" .. tostring(k) .. "')", level) end
  end
  return opts
end

-- Check a handler and the options; raise on misuse.
local function checkargs(handler, opts)
  opts = M.checkcall(handler, opts, KNOWN, 3)
  if opts.tls ~= nil and type(opts.tls) ~= "table" then
    error("bad argument #4 to 'serve' (tls must be a table {cert = ..., key = ...})", 3)
  end
  if opts.handshake ~= nil and (type(opts.handshake) ~= "number" or not (opts.handshake > 0)) then
    error("bad argument #4 to 'serve' (handshake must be a number > 0)", 3)
  end
  local max = opts.max or DEFAULT_MAX
  if math.type(max) ~= "integer" or max < 1 then
    error("bad argument #4 to 'serve' (max must be an integer >= 1)", 3)
  end
  if opts.timeout ~= nil and (type(opts.timeout) ~= "number" or opts.timeout < 0 or opts.timeout ~= opts.timeout) then
    error("bad argument #4 to 'serve' (timeout must be a number >= 0)", 3)
  end
  return opts, max
end

-- net.serve(host, port, handler [, opts]) -> srv, or nil, message.
function M.serve(host, port, handler, opts)
  local max
  opts, max = checkargs(handler, opts)
  local sock, err = net.listen(host, port,
    { backlog = opts.backlog, family = opts.family, linelimit = opts.linelimit, tls = opts.tls,
      defer = opts.defer })
  if not sock then notice(err) return nil, err end
  local srv = setmetatable({ sock = sock, handler = handler, timeout = opts.timeout, max = max,
    tls = opts.tls ~= nil, handshake = opts.handshake or 10, failed_handshakes = 0,
    nclients = 0, idle = {}, closed = false,
    -- the Leave objects of the clients' tasks (c: the connection being
    -- served); weak: a task that ends takes its own with it
    clients_tasks = setmetatable({}, { __mode = "k" }) }, Server)
  srv.name = hostport(sock:getsockname())
  srv.task = net.spawn(accept_loop, srv)
  M.describe(srv.task, function()
    return "serving " .. srv.name .. ", " .. srv.nclients .. " client" .. (srv.nclients == 1 and "" or "s")
  end)
  return srv
end

-- srv:close() -> true, or nil, "closed".
function Server:close()
  if self.closed then return nil, "closed" end
  self.closed = true
  self.sock:close()
  for client in pairs(self.clients_tasks) do
    if client.c then pcall(client.c.close, client.c) end   -- (parked: nil)
  end
  for _, client in ipairs(self.idle) do wake(client.thread) end   -- they end
  self.idle = {}
  return true
end

-- srv:getsockname() -> host, port.
function Server:getsockname()
  if self.closed then return nil, "closed" end
  return self.sock:getsockname()
end

-- srv:clients() -> the number of clients being served.
function Server:clients()
  return self.nclients
end

function Server:__tostring()
  local kind = (self.kind or "net.serve") .. (self.tls and " tls " or " ")   -- net.http.serve names its own
  if self.closed then return kind .. self.name .. " (closed)" end
  return kind .. self.name .. " (" .. self.nclients .. " client" ..
    (self.nclients == 1 and "" or "s") .. ")"
end

Server.__close = Server.close
M.Server = Server

return setmetatable(M, { __call = function(_, ...) return M.serve(...) end })
