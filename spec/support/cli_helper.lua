-- spec/support/cli_helper.lua: run netlua and a stock lua5.4 on the same
-- command line, input and environment, and compare what each printed, with
-- the program's own name (netlua's path or "netlua", "lua5.4") normalised
-- to "LUA" so that the rest of the output must match byte for byte.
local common = require "spec.support.common"
local assert = require "luassert"

local M = {}

-- Absolute path of the netlua under test (NETLUA, else build/netlua).
M.netlua = common.netlua
if M.netlua:sub(1, 1) ~= "/" then M.netlua = common.root .. "/" .. M.netlua end
-- The module built next to it (NETLUA_SO, else net.so beside netlua).
M.net_so = os.getenv("NETLUA_SO") or M.netlua:gsub("[^/]*$", "net.so")
M.lua = "lua5.4"
M.q = common.q

-- Make a fresh private directory; returns its path.
function M.tmpdir()
  local name = os.tmpname()
  os.remove(name)
  assert(os.execute("mkdir -m 700 " .. common.q(name)))
  return name
end

-- Remove a directory made by tmpdir (only under /tmp, as a guard).
function M.rmdir(dir)
  assert(dir:match("^/tmp/"), dir)
  os.execute("rm -rf " .. common.q(dir))
end

-- Write a file, creating it with the given content.
function M.write(path, content)
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
end

-- Escape a string for use inside a Lua pattern.
local function pesc(s)
  return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

-- Replace each whole-word occurrence of the given program names (a path,
-- a bare name) by "LUA": at a line start ("netlua: ..."), in "usage: ..."
-- and as a printed arg[-n]. Longest names first, so a path goes whole.
function M.normalise(s, names)
  table.sort(names, function(a, b) return #a > #b end)
  s = "\n" .. s
  for _, name in ipairs(names) do
    for _ = 1, 2 do  -- twice: adjacent matches share a separator
      s = s:gsub("([\n\t ])" .. pesc(name) .. "([:\t \n])", "%1LUA%2")
      s = s:gsub("([\n\t ])" .. pesc(name) .. "$", "%1LUA")
    end
  end
  return s:sub(2)
end

-- Environment for a stock lua5.4 loading net.so from cpath (a LUA_CPATH
-- template): a sanitizer build of net.so needs its runtimes preloaded.
function M.module_env(cpath)
  local env = { LUA_CPATH = cpath }
  local so = cpath:gsub("%?", "net"):gsub(";.*", "")
  local p = io.popen("ldd " .. common.q(so) .. " 2>/dev/null")
  local preload = {}
  for line in p:lines() do
    local lib = line:match("=> (%S*lib[ua]b?san%.so[%.%d]*)")
    if lib then preload[#preload + 1] = lib end
  end
  p:close()
  if #preload > 0 then env.LD_PRELOAD = table.concat(preload, " ") end
  return env
end

-- Build the shell command: cd into dir, set env (a table; false unsets),
-- run prog with the argument string (already quoted for the shell).
local function command(prog, args, opts)
  local parts = {}
  if opts.dir then parts[#parts + 1] = "cd " .. common.q(opts.dir) .. " &&" end
  parts[#parts + 1] = "env"
  for _, k in ipairs({ "LUA_INIT", "LUA_INIT_5_4", "LUA_PATH", "LUA_PATH_5_4",
                       "LUA_CPATH", "LUA_CPATH_5_4" }) do
    if not (opts.env and opts.env[k]) then parts[#parts + 1] = "-u " .. k end
  end
  for k, v in pairs(opts.env or {}) do
    if v then parts[#parts + 1] = k .. "=" .. common.q(v) end
  end
  if opts.wrap then parts[#parts + 1] = opts.wrap end  -- e.g. timeout
  parts[#parts + 1] = common.q(prog)
  parts[#parts + 1] = args or ""
  return table.concat(parts, " ")
end

-- Run one program; returns {code=, out=, err=} with names normalised.
-- opts: dir, env (table), input (string for stdin; else /dev/null),
-- wrap (a command put before the program, such as a timeout).
function M.run1(prog, args, opts)
  opts = opts or {}
  local _, code, out, err = common.run(command(prog, args, opts), opts.input)
  local base = prog:match("[^/]*$")
  local names = { prog, base }
  return { code = code, out = M.normalise(out, names), err = M.normalise(err, names),
           raw_out = out, raw_err = err }
end

-- Run netlua and lua5.4 the same way; returns netlua's result, lua's result.
function M.both(args, opts)
  return M.run1(M.netlua, args, opts), M.run1(M.lua, args, opts)
end

-- Assert that netlua and lua5.4 agree on stdout, stderr and status.
-- Returns netlua's result for further checks.
function M.same(args, opts)
  local n, l = M.both(args, opts)
  local what = "netlua " .. (args or "")
  assert.are.equal(l.out, n.out, what .. ": stdout")
  assert.are.equal(l.err, n.err, what .. ": stderr")
  assert.are.equal(l.code, n.code, what .. ": exit status")
  return n, l
end

return M
