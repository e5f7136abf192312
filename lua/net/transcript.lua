-- net.transcript: the transcript of a dialogue, for teaching and debugging,
-- in the form mail tools (swaks) use:
--     0.001 *** connected (127.0.0.1:40312 -> 127.0.0.1:25)
--     0.004 <- 220 mx.example.org ESMTP   (service ready)
--     0.004  -> EHLO me
--   " -> " what we sent, "<- " what the peer sent, "*** " events.
--
-- Entry points:
--   transcript.handler(how [, opts]) -> function(what, data, conn [, peer])
--       how: true (io.stderr; opts.color defaults to "auto" there), a function (called with each line, no
--       newline), a file or anything with :write (gets line .. "\n"), or a
--       path (opened for append, line-buffered, kept open until the handler
--       is collected). An unopenable path: nil, "transcript PATH: reason".
--       Any other `how` raises. The handler is what the C side installs
--       with conn:settrace / calls for every new socket (net.trace).
--   transcript.format(what, data, conn [, opts [, peer]]) -> {line, ...}
--       the lines (without newline) for one event; pure, for unit tests.
--       peer: "HOST:PORT" of a datagram, shown after the marker:
--        -> [127.0.0.1:53] hello    (a hex dump gets a "[peer] N bytes" line)
--   transcript.visible(s) -> s with control bytes made visible
--   transcript.hexdump(data [, prefix [, max]]) -> {line, ...}  (hexdump -C form)
--   transcript.istext(data) -> boolean: shown as lines, or as a hex dump
--   transcript.usecolor(opts, dest) -> boolean (the rule below)
--
-- Events (`what`, `data`), as the C side reports them:
--   "send", "receive"  data: the bytes    -> " -> " / "<- " lines
--   "resolving"        data: the name
--   "connecting"       data: "HOST:PORT (ADDR)"
--   "connected"        data: "LOCAL -> PEER" (nil: asked of conn)
--   "accepted"         data: "LOCAL <- PEER" (a server's connection)
--   "refused", "timeout", "unreachable", "error", "failed"  data: message
--   "reset" (by peer), "peerclosed" (closed by peer), "close" (by us)
--   "shutdown"         data: how ("send", "receive", "both")
--   "timeout"          also after connect: data says what was waiting
--   sends and receives of UDP sockets: "send"/"receive" with the peer as
--   the handler's 4th argument
--   anything else      -> "*** what data"
--
-- opts (all optional):
--   time = true     an elapsed-time column, seconds since the handler was
--                   made ("%7.3f "); format() uses opts.clock() - opts.start
--   clock           function giving seconds (default net.now); start: number
--   id = n          a connection number prefix "[n] " (the relay's)
--   explain = true | "smtp" | "http"  annotate reply lines with net.explain
--   color = true    colour the markers (send cyan, receive green, events
--                   yellow) unless NO_COLOR is set to a non-empty value
--                   (no-color.org); color = "auto": colour only if also
--                   opts.isatty(dest) says the destination is a terminal
--                   (the C side supplies isatty; Lua cannot ask). Default:
--                   "auto" for how == true (standard error), else no
--                   colour. Anything else: no colour. NO_COLOR always wins.
--   env             a table of environment variables to use instead of
--                   os.getenv (for tests, or a C side that knows better)
--   hexmax = n      show at most n bytes of a hex dump (default: all)
local M = {}

-- Bytes longer than this may be shown as a hex dump; a dump is chosen when
-- more than one byte in TEXT_SHARE is not text.
local TEXT_MIN, TEXT_SHARE = 16, 10

local names = { ["\t"] = "\\t", ["\n"] = "\\n", ["\r"] = "\\r", ["\0"] = "\\0", ["\\"] = "\\\\",
  ["\27"] = "\\x1b" }

-- One byte as a visible escape.
local function escape(c)
  return names[c] or string.format("\\x%02x", c:byte())
end

-- s with control characters visible (\r \n \t \0 \x1b, backslash doubled);
-- bytes >= 0x80 stay when s is valid UTF-8, else they are escaped too. The
-- C1 controls U+0080-U+009F (U+009B is CSI to many terminals) are escaped
-- in UTF-8 too, as their two bytes.
function M.visible(s)
  if utf8.len(s) then
    s = s:gsub("[%c\\]", escape)
    return (s:gsub("\xC2[\x80-\x9F]", function(c) return escape(c:sub(1, 1)) .. escape(c:sub(2)) end))
  end
  return (s:gsub("[%c\\\128-\255]", escape))
end

-- True when data reads as text: short, or few bytes that are neither
-- printable, tab, CR, LF nor part of valid UTF-8.
function M.istext(data)
  if #data <= TEXT_MIN then return true end
  local _, bad = data:gsub("[^\t\r\n\32-\126\128-\255]", "")
  if not utf8.len(data) then
    local _, high = data:gsub("[\128-\255]", "")
    bad = bad + high
  end
  return bad * TEXT_SHARE <= #data
end

-- data as hex dump lines: offset, 16 bytes in two groups, ASCII column.
function M.hexdump(data, prefix, max)
  prefix = prefix or ""
  local out, n = {}, #data
  local stop = max and math.min(n, max) or n
  for off = 0, stop - 1, 16 do
    local chunk = data:sub(off + 1, math.min(off + 16, stop))
    local hex = {}
    for i = 1, 16 do
      hex[i] = i <= #chunk and string.format("%02x", chunk:byte(i)) or "  "
    end
    local ascii = chunk:gsub("[^\32-\126]", ".")
    out[#out + 1] = string.format("%s%08x  %s  %s  |%s|", prefix, off,
      table.concat(hex, " ", 1, 8), table.concat(hex, " ", 9, 16), ascii)
  end
  if stop < n then
    out[#out + 1] = string.format("%s%08x  ... %d more bytes", prefix, stop, n - stop)
  end
  return out
end

local markers = { send = " -> ", receive = "<- ", event = "*** " }
local colors = { send = "\27[36m", receive = "\27[32m", event = "\27[33m" }

-- The value of environment variable k, from opts.env or the process.
local function getenv(opts, k)
  if opts.env then return opts.env[k] end
  return os.getenv(k)
end

-- Whether to colour for opts writing to dest (see opts.color at the top).
function M.usecolor(opts, dest)
  opts = opts or {}
  local c = opts.color
  if c ~= true and c ~= "auto" then return false end
  local nc = getenv(opts, "NO_COLOR")
  if nc and nc ~= "" then return false end
  if c == "auto" then return type(opts.isatty) == "function" and opts.isatty(dest) == true end
  return true
end

-- The meaning of a received reply line, for opts.explain, or nil.
local function annotation(line, opts)
  local code, proto = line:match("^HTTP/%d[%.%d]* (%d%d%d)%f[^%d]")
  if code then
    proto = "http"
  else
    code = line:match("^(%d%d%d)$") or line:match("^(%d%d%d) ")
    proto = type(opts.explain) == "string" and opts.explain or "smtp"
  end
  if not code then return nil end
  local explain = require "net.explain"
  return (explain.explain(code, proto))
end

-- Text of an event line (after "*** ").
local failures = { refused = "connection refused", timeout = "timeout",
  unreachable = "unreachable", error = "error", failed = "failed" }

-- The local and peer addresses of conn as "LOCAL -> PEER", if it can say.
local function addresses(conn)
  if conn == nil then return nil end
  local ok, lh, lp = pcall(function() return conn:getsockname() end)
  local ok2, ph, pp = pcall(function() return conn:getpeername() end)
  if not (ok and ok2 and lh and ph) then return nil end
  local function hp(h, p) return (h:find(":") and "[" .. h .. "]" or h) .. ":" .. tostring(p) end
  return hp(lh, lp) .. " -> " .. hp(ph, pp)
end

-- The text for event `what` with data.
local function eventtext(what, data, conn)
  local s = data ~= nil and M.visible(tostring(data)) or nil
  if what == "resolving" then return "resolving " .. (s or "")
  elseif what == "connecting" then return "connecting to " .. (s or "")
  elseif what == "connected" or what == "connect" then
    s = s or addresses(conn)
    return s and "connected (" .. s .. ")" or "connected"
  elseif what == "accepted" then return s and "accepted (" .. s .. ")" or "accepted"
  elseif failures[what] then return s or failures[what]
  elseif what == "reset" then return "connection reset by peer" .. (s and ": " .. s or "")
  elseif what == "peerclosed" then return "closed by peer"
  elseif what == "close" then return "closed"
  elseif what == "shutdown" then return "shutdown " .. (s or "both")
  end
  what = M.visible(tostring(what))
  return s and what .. " " .. s or what
end

-- The prefix of every line: "[id] " and the elapsed time.
local function lead(opts)
  local p = ""
  if opts.id ~= nil then p = "[" .. tostring(opts.id) .. "] " end
  if opts.time then
    local now = opts.clock and opts.clock() or 0
    p = p .. string.format("%7.3f ", now - (opts.start or 0))
  end
  return p
end

-- transcript.format(what, data, conn [, opts [, peer]]) -> {lines} (see
-- the top).
function M.format(what, data, conn, opts, peer)
  opts = opts or {}
  local kind = (what == "send" or what == "receive") and what or "event"
  local marker = markers[kind]
  if opts.colored or (opts.colored == nil and M.usecolor(opts)) then
    marker = colors[kind] .. marker .. "\27[0m"
  end
  marker = lead(opts) .. marker
  if kind == "event" then return { marker .. eventtext(what, data, conn) } end
  data = data and tostring(data) or ""
  if peer then
    local tag = "[" .. M.visible(tostring(peer)) .. "] "
    if not M.istext(data) then
      local out = M.hexdump(data, marker, opts.hexmax)
      table.insert(out, 1, marker .. tag .. #data .. " bytes")
      return out
    end
    marker = marker .. tag
  end
  if not M.istext(data) then return M.hexdump(data, marker, opts.hexmax) end
  local out = {}
  -- split on LF; a CR just before the LF is the line end, not shown
  for line, eol in data:gmatch("([^\n]*)(\n?)") do
    if line == "" and eol == "" then break end
    if eol ~= "" then line = line:gsub("\r$", "") end
    local text = marker .. M.visible(line)
    if opts.explain and kind == "receive" then
      local meaning = annotation(line, opts)
      if meaning then text = text .. "   (" .. meaning .. ")" end
    end
    out[#out + 1] = text
  end
  if #out == 0 then out[1] = marker end
  return out
end

-- True when v is a table or userdata with a write method.
local function haswrite(v)
  local t = type(v)
  if t ~= "table" and t ~= "userdata" then return false end
  local ok, w = pcall(function() return v.write end)
  return ok and w ~= nil
end

-- transcript.handler(how [, opts]) -> function(what, data, conn), or nil,
-- message for a path that cannot be opened (see the top).
function M.handler(how, opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  local emit, dest
  if how == true then
    dest = io.stderr
    emit = function(line) io.stderr:write(line, "\n") end
  elseif type(how) == "function" then
    dest, emit = how, how
  elseif type(how) == "string" then
    local f, err = io.open(how, "a")
    if not f then return nil, "transcript " .. err end
    f:setvbuf("line")
    dest = f
    emit = function(line) f:write(line, "\n") end
  elseif io.type(how) == "file" or haswrite(how) then
    dest = how
    emit = function(line) how:write(line, "\n") end
  else
    -- level 3: handler is called by C (net.trace, the builder), whose
    -- caller is the user's line
    error("bad argument #1 to 'trace' (true, a function, a file or a path expected, got "
      .. type(how) .. ")", 3)
  end
  if o.time then
    if not o.clock then
      local ok, net = pcall(require, "net")
      o.clock = ok and type(net) == "table" and net.now or os.clock
    end
    o.start = o.start or o.clock()
  end
  if how == true and o.color == nil then o.color = "auto" end
  o.colored = M.usecolor(o, dest)
  return function(what, data, conn, peer)
    for _, line in ipairs(M.format(what, data, conn, o, peer)) do emit(line) end
  end
end

return M
