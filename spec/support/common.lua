-- spec/support/common.lua: small helpers shared by the specs.
local M = {}

-- Absolute paths of the program and module under test.
M.netlua = os.getenv("NETLUA") or "build/netlua"
M.root = os.getenv("PWD")

-- Number of open descriptors of this process now, without collecting
-- first (what a call left open to the collector is counted).
function M.open_fds()
  -- the count goes through a file, not a pipe: a pipe's own descriptors
  -- were sometimes counted once too often
  local tmp = os.tmpname()
  os.execute("ls /proc/" .. M.pid() .. "/fd | wc -l >" .. tmp)
  local f = assert(io.open(tmp))
  local n = tonumber(f:read("a"))
  f:close()
  os.remove(tmp)
  return n
end

-- Number of open descriptors of this process, after a full collection (so
-- files and sockets that earlier specs dropped are closed first, not in the
-- middle of a spec).
function M.count_fds()
  collectgarbage()
  collectgarbage()
  return M.open_fds()
end

-- A shell command prefix that runs stock lua5.4 with build/net.so on
-- LUA_CPATH (and the sanitizer runtimes preloaded for the asan build).
function M.stock_lua()
  local so = os.getenv("NETLUA_SO") or "build/net.so"
  local dir = so:match("^(.*)/[^/]+$") or "."
  local pre = os.getenv("NETLUA_PRELOAD")
  return (pre and pre ~= "" and ("ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD=" .. M.q(pre) .. " ") or "") ..
    "LUA_CPATH=" .. M.q(dir .. "/?.so") .. " lua5.4"
end

-- This process's pid (the netlua running busted).
function M.pid()
  if not M._pid then
    local f = io.open("/proc/self/stat")
    -- /proc/self would name the reader; go through the parent of a shell.
    f:close()
    local p = io.popen("echo $PPID")
    M._pid = tonumber(p:read("l"))
    p:close()
  end
  return M._pid
end

-- Run a shell command; returns ok, exit code, stdout, stderr.
function M.run(cmd, input)
  local out, err = os.tmpname(), os.tmpname()
  local full = "(" .. cmd .. ") >" .. out .. " 2>" .. err
  if input then
    local inf = os.tmpname()
    local f = assert(io.open(inf, "wb")); f:write(input); f:close()
    full = full .. " <" .. inf
    M._tmp = inf
  else
    full = full .. " </dev/null"
  end
  local ok, _, code = os.execute(full)
  local function slurp(n)
    local f = io.open(n, "rb"); local s = f:read("a"); f:close(); os.remove(n); return s
  end
  if M._tmp then os.remove(M._tmp); M._tmp = nil end
  return ok, code, slurp(out), slurp(err)
end

-- Quote a string for the shell.
function M.q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- True when running as root (namespaces, private servers).
function M.is_root()
  local p = io.popen("id -u"); local u = p:read("l"); p:close()
  return u == "0"
end

-- Wait (bounded) until a TCP port on 127.0.0.1 accepts, using bash's /dev/tcp.
function M.wait_port(port, seconds)
  local limit = os.time() + (seconds or 5)
  repeat
    if os.execute("bash -c 'exec 3<>/dev/tcp/127.0.0.1/" .. port .. "' 2>/dev/null") then return true end
    os.execute("sleep 0.05")
  until os.time() > limit
  return false
end

-- Inside a describe: check that the specs of the block leave no descriptor
-- open (counted after letting the loop finish what it is doing). busted's
-- setup and teardown are the spec file's, so they are passed in.
function M.guard_fds(setup, teardown)
  local before
  setup(function()
    net.run()
    before = M.count_fds()
  end)
  teardown(function()
    net.run()
    local after = M.count_fds()
    if after ~= before then
      error(("descriptors leaked: %d open before, %d after"):format(before, after), 0)
    end
  end)
end

-- Call fn, returning the time it took and its results.
function M.timed(fn, ...)
  local t0 = net.now()
  local r = table.pack(fn(...))
  return net.now() - t0, table.unpack(r, 1, r.n)
end

-- A port on 127.0.0.1 on which nothing listens.
function M.closed_port()
  local s = assert(net.listen("127.0.0.1", 0))
  local _, p = s:getsockname()
  s:close()
  return p
end

-- Run a shell command in the background; returns a function that waits
-- (through the loop, at most `seconds`) for it and gives its exit status and output.
function M.background(cmd, seconds)
  local out = os.tmpname()
  -- the status file is renamed into place once written: never read half-written
  os.execute("((" .. cmd .. ") >" .. out .. " 2>&1; echo $? >" .. out .. ".rc.t; mv " .. out .. ".rc.t " ..
    out .. ".rc) </dev/null >/dev/null 2>&1 &")
  return function()
    local limit = net.now() + (seconds or 10)
    local f
    while net.now() < limit do
      f = io.open(out .. ".rc")
      if f then break end
      net.sleep(0.05)
    end
    assert(f, "background command did not finish: " .. cmd)
    local rc = tonumber(f:read("l"))
    f:close()
    f = io.open(out)
    local text = f:read("a")
    f:close()
    os.remove(out); os.remove(out .. ".rc")
    return rc, text
  end
end

-- Start a server process: `cmd` is a shell command line run in the
-- background (its output redirected by the caller), in directory `dir`
-- (removed on stop). Waits (10 s at most) until every port of `ports`
-- accepts; otherwise stops it and raises "NAME did not start: " with the
-- contents of `log`. Returns {pid, dir, stop()}; stop() kills it (a
-- bounded wait, then SIGKILL) and removes dir.
function M.daemon(name, cmd, dir, ports, log)
  local p = io.popen(cmd .. " </dev/null & echo $!")
  local h = { pid = tonumber(p:read("l")), dir = dir }
  p:close()
  function h.stop()
    if h.pid then
      os.execute("kill " .. h.pid .. " 2>/dev/null; for i in $(seq 100); do kill -0 " .. h.pid ..
        " 2>/dev/null || break; sleep 0.05; done; kill -9 " .. h.pid .. " 2>/dev/null")
      h.pid = nil
    end
    os.execute("rm -rf " .. M.q(dir))
  end
  for _, port in ipairs(ports) do
    if not M.wait_port(port, 10) then
      local f = io.open(log); local msg = f and f:read("a") or ""
      if f then f:close() end
      h.stop()
      error(name .. " did not start: " .. msg)
    end
  end
  return h
end

return M
