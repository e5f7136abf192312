-- net.dialogue: reading a line dialogue on a connection: wait for a line
-- that matches (expect), or read one numeric-code reply (reply). Both take
-- the connection first, so they can become the methods conn:expect and
-- conn:reply as they are (argument numbers in messages count from the
-- first argument after the connection, as for a method).
--
-- Entry points:
--   dialogue.expect(c, patterns [, timeout]) -> index, line, captures...
--       patterns: one Lua pattern or a non-empty list of them, tried in
--       order on each line read with c:receive("l"); the first line that
--       one matches gives that pattern's index, the whole line and the
--       pattern's captures (string.find's). Lines before it are skipped.
--       On failure: nil, reason, lines. reason is "timeout" or "closed"
--       (exactly), or receive's message ("line too long", a reset...);
--       lines are the lines that did arrive and matched nothing (the last
--       1000 at most), then the partial line, if one came without its
--       newline, which is also lines.partial. At a close, a last line
--       without newline counts as a line (tried, then kept in lines like
--       any other). A partial line at a timeout has been consumed from the
--       connection: it is only here. Lines are read with receive("l"), so
--       a prompt without newline ("Password: ") never matches before the
--       timeout or close.
--   dialogue.reply(c [, timeout]) -> code, lines
--       one reply of SMTP/NNTP/FTP form: "250-first", "250-second",
--       "250 last" ("250" alone ends a reply too): the code as an integer
--       and the text of each line after the code and its separator.
--       On failure: nil, message, lines so far (texts). A line without a
--       3-digit code and " " / "-" / end after it, or with another code
--       than the first line, gives 'malformed reply: "LINE"' (control
--       bytes visible, long lines cut). More than 1000 lines: "reply too
--       long". Timeout and close: "timeout" / "closed"; a partial line that
--       came before a timeout is lines.partial. (FTP's continuation lines
--       that do not start with the code are not accepted.)
--   dialogue.checkpattern(p) -> nil, or a message saying why the Lua
--       pattern p is malformed (checked before anything is read)
--
-- timeout: seconds for the whole call (a deadline, not per line); nil: the
-- connection's own timeout (c:gettimeout()), also for the whole call. The
-- connection's timeout is restored afterwards, even on error.
-- Programmer errors raise: a patterns argument that is not a string or a
-- list of strings, a malformed pattern (named), a bad timeout.
local net = require "net"
local M = {}

local MAXLINES = 1000  -- lines kept by expect, lines accepted in a reply
local MAXCAPTURES = 32 -- Lua's LUAI_MAXCAPTURES

-- The index just past the single-character class at i in pattern p, or
-- nil and a message.
local function classend(p, i)
  local n, c = #p, p:sub(i, i)
  if c == "%" then
    if i + 1 > n then return nil, "malformed pattern (ends with '%')" end
    return i + 2
  elseif c == "[" then
    local j = i + 1
    if p:sub(j, j) == "^" then j = j + 1 end
    repeat -- the first character is part of the set, even ']'
      if j > n then return nil, "malformed pattern (missing ']')" end
      local cc = p:sub(j, j)
      j = j + 1
      if cc == "%" and j <= n then j = j + 1 end
    until p:sub(j, j) == "]"
    return j + 1
  end
  return i + 1
end

-- nil if p is a well-formed Lua pattern, else a message saying why not
-- (the rules of lstrlib.c, checked for the whole pattern up front).
function M.checkpattern(p)
  local i, n = 1, #p
  local open, closed, level = {}, {}, 0
  if p:sub(1, 1) == "^" then i = 2 end
  while i <= n do
    local c, d = p:sub(i, i), p:sub(i + 1, i + 1)
    if c == "(" then
      level = level + 1
      if level > MAXCAPTURES then return "too many captures" end
      if d == ")" then closed[level] = true; i = i + 2
      else open[#open + 1] = level; i = i + 1 end
    elseif c == ")" then
      if #open == 0 then return "invalid pattern capture" end
      closed[table.remove(open)] = true
      i = i + 1
    elseif c == "%" and d == "b" then
      if i + 3 > n then return "missing arguments to '%b'" end
      i = i + 4
    elseif c == "%" and d == "f" then
      if p:sub(i + 2, i + 2) ~= "[" then return "missing '[' after '%f' in pattern" end
      local j, err = classend(p, i + 2)
      if not j then return err end
      i = j
    elseif c == "%" and d:match("^%d$") then
      local l = tonumber(d)
      if l < 1 or l > level or not closed[l] then return "invalid capture index %" .. d end
      i = i + 2
    elseif c == "$" and i == n then
      i = i + 1
    else
      local j, err = classend(p, i)
      if not j then return err end
      if p:sub(j, j):match("^[*+?-]$") then j = j + 1 end
      i = j
    end
  end
  if #open > 0 then return "unfinished capture" end
  return nil
end

-- The list of patterns from expect's argument, or a raised error.
local function checkpatterns(patterns)
  local list = patterns
  if type(patterns) == "string" then
    list = { patterns }
  elseif type(patterns) ~= "table" or #patterns == 0 then
    error("bad argument #1 to 'expect' (pattern or non-empty list of patterns expected, got "
      .. (type(patterns) == "table" and "empty table" or type(patterns)) .. ")", 3)
  end
  for i, p in ipairs(list) do
    if type(p) ~= "string" then
      error("bad argument #1 to 'expect' (pattern " .. i .. " is a " .. type(p) .. ", not a string)", 3)
    end
    local err = M.checkpattern(p)
    if err then error(string.format("bad argument #1 to 'expect' (pattern %q: %s)", p, err), 3) end
  end
  return list
end

-- Raise unless timeout is nil or a number of seconds >= 0.
local function checktimeout(timeout, arg, fname)
  if timeout == nil then return end
  if type(timeout) ~= "number" or timeout ~= timeout or timeout < 0 then
    error(string.format("bad argument #%d to '%s' (non-negative number of seconds expected, got %s)",
      arg, fname, type(timeout) == "number" and tostring(timeout) or type(timeout)), 3)
  end
end

-- body(read), where read() is c:receive("l") within one deadline for the
-- whole call (timeout, or c's own); c's timeout is restored afterwards.
local function withdeadline(c, timeout, body)
  local old = c:gettimeout()
  timeout = timeout or old
  local stop = timeout and net.now() + timeout
  local function read()
    if stop then c:settimeout(math.max(0, stop - net.now())) end
    return c:receive("l")
  end
  local restore <close> = setmetatable({}, { __close = function() c:settimeout(old) end })
  return body(read)
end

-- index, line, captures of the first pattern in list that matches line.
local function matchline(list, line)
  for i, p in ipairs(list) do
    local r = table.pack(line:find(p))
    if r[1] then return i, line, table.unpack(r, 3, r.n) end
  end
  return nil
end

-- dialogue.expect(c, patterns [, timeout]) (see the top).
function M.expect(c, patterns, timeout)
  local list = checkpatterns(patterns)
  checktimeout(timeout, 2, "expect")
  return withdeadline(c, timeout, function(read)
    local seen = {}
    while true do
      local line, err, partial = read()
      if not line and err == "closed" and partial and partial ~= "" then
        line, partial = partial, nil -- the last line, without its newline
      end
      if not line then
        if partial and partial ~= "" then
          seen[#seen + 1] = partial
          seen.partial = partial
        end
        return nil, err, seen
      end
      local r = table.pack(matchline(list, line))
      if r[1] then return table.unpack(r, 1, r.n) end
      if #seen >= MAXLINES then table.remove(seen, 1) end
      seen[#seen + 1] = line
    end
  end)
end

-- 'malformed reply: "LINE"' with the line visible and cut at 200 bytes.
local function malformed(line, code)
  local visible = require("net.transcript").visible
  local shown = #line > 200 and visible(line:sub(1, 200)) .. "..." or visible(line)
  return 'malformed reply: "' .. shown .. '"' .. (code and " (expected code " .. code .. ")" or "")
end

-- dialogue.reply(c [, timeout]) -> code, lines (see the top).
function M.reply(c, timeout)
  checktimeout(timeout, 1, "reply")
  return withdeadline(c, timeout, function(read)
    local code, lines = nil, {}
    while true do
      local line, err, partial = read()
      if not line and err == "closed" and partial and partial ~= "" then
        line = partial -- the last line, without its newline
      elseif not line then
        if partial and partial ~= "" then lines.partial = partial end
        return nil, err, lines
      end
      local n, sep, text = line:match("^(%d%d%d)(.?)(.*)$")
      if not n or (sep ~= " " and sep ~= "-" and sep ~= "") then
        return nil, malformed(line), lines
      end
      n = tonumber(n)
      if code and n ~= code then return nil, malformed(line, code), lines end
      if #lines >= MAXLINES then
        return nil, "reply too long (more than " .. MAXLINES .. " lines)", lines
      end
      code = n
      lines[#lines + 1] = text
      if sep ~= "-" then return code, lines end
    end
  end)
end

return M
