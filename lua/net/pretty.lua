--[[
net.pretty: show Lua values the way a person wants to read them, at the
prompt (every result goes through here) and from scripts.

  require("net.pretty")(v [, opts])  -> text    same as format
  net.pretty.format(v [, opts])      -> text    a representation of v
  net.pretty.show(...)               -> text    what the prompt prints
  net.pretty.print(...)                         show(...) and a newline

Rules (format):
  - strings are quoted, with \n \t \" \\ escapes; other control bytes as \xNN;
    bytes >= 0x80 stay as they are when the string is valid UTF-8, else \xNN;
    strings longer than opts.max_string (2000) bytes are cut, with a note
    of how many bytes were left out;
  - numbers, booleans and nil as tostring gives them; functions, threads and
    userdata (and tables with __tostring) as tostring gives them, unquoted
    (inside a table the lines after the first indented under the entry);
  - a table: its array part (1..n) first, in order and without keys, then
    the other keys sorted: numbers in order, then `name` and `type` (what a
    record is, e.g. an interface or a DNS record), then the other strings,
    then booleans, then the rest; identifier keys bare (`name = `), others in brackets
    (`["a b"] = `, `[10] = `);
  - a table whose values are all short (no table that cannot itself fit)
    and which fits in opts.width (78) columns is shown on one line,
    `{ 1, 2, 3 }` or `{ family = "inet", prefix = 8 }`; otherwise one entry
    per line, indented by two spaces, entries separated by commas;
  - a table met again inside itself is shown as `<cycle: table: 0x...>`;
    nesting deeper than opts.max_depth (30) as `<table: 0x...: too deep>`;
  - at most opts.max_lines (200) lines; the rest is replaced by
    `... (N more lines)`. Lines past the cap are counted, not built
    (a scalar entry costs a count); after HARD_LIMIT rendered lines it stops
    and the note gives a lower bound, `... (at least N more lines)` (every
    entry not reached is at least one line). Keys are sorted by type with
    the plain `<` (fast for 200,000 string keys).
show(...) is the prompt's way: each value alone as lua prints it (strings
raw, tostring for everything else) except tables without __tostring, which
go through format; several values separated by tabs.
]]

local M = {}

local DEFAULTS = { max_lines = 200, width = 78, max_depth = 30, max_string = 2000 }
local HARD_LIMIT = 20000 -- lines rendered (scalars past the cap aside) before giving up

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local
  nil not or repeat return then true until while]]):gmatch("%a+") do
  KEYWORDS[w] = true
end

local ESCAPES = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r",
  ["\t"] = "\\t", ["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f", ["\v"] = "\\v",
}

--- tostring that never raises (a failing __tostring shows the type).
local function safe_tostring(v)
  local ok, s = pcall(tostring, v)
  if ok and type(s) == "string" then return s end
  return "<" .. type(v) .. ": __tostring failed>"
end

--- A string as a quoted Lua literal, readable and unambiguous.
local function quote(s, max)
  local extra = ""
  if #s > max then
    extra = ("...(%d more bytes)"):format(#s - max)
    s = s:sub(1, max)
  end
  local utf8ok = utf8.len(s) ~= nil
  s = s:gsub('[%c"\\\128-\255]', function(c)
    local e = ESCAPES[c]
    if e then return e end
    if c:byte() >= 128 and utf8ok then return c end
    return ("\\x%02X"):format(c:byte())
  end)
  return '"' .. s .. '"' .. extra
end
M.quote = function(s) return quote(s, math.huge) end

--- True when a table prints through its own __tostring.
local function has_tostring(t)
  local mt = getmetatable(t)
  return type(mt) == "table" and rawget(mt, "__tostring") ~= nil
end

--- A value that is not a table shown inside a table.
local function scalar(v, o)
  local tv = type(v)
  if tv == "string" then return quote(v, o.max_string) end
  if tv == "number" or tv == "boolean" or tv == "nil" then return tostring(v) end
  return safe_tostring(v)
end

local TYPE_RANK = { number = 1, string = 3, boolean = 4 }
local FIRST = { name = 1, type = 2 } -- what a record is: shown before the rest

--- Sort rank of a key: numbers, then FIRST keys, strings, booleans, others.
local function rank(k)
  if FIRST[k] then return 2, FIRST[k] end
  return TYPE_RANK[type(k)] or 5, k
end

--- Order of the keys that are not in the array part.
local function key_less(a, b)
  local ra, va = rank(a)
  local rb, vb = rank(b)
  if ra ~= rb then return ra < rb end
  if ra <= 3 then return va < vb end
  if ra == 4 then return (not a) and b end
  return safe_tostring(a) < safe_tostring(b)
end

--- The keys of one sort rank, sorted: plain `<` for numbers and strings
--- (fast), key_less for the rest.
local function sorted(list, r)
  if r == 1 or r == 3 then table.sort(list) else table.sort(list, key_less) end
  return list
end

--- The array length n (1..n all present) and the other keys, sorted.
local function layout(t)
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  local by_rank = { {}, {}, {}, {}, {} }
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      local list = by_rank[(rank(k))]
      list[#list + 1] = k
    end
  end
  local keys = {}
  for r = 1, 5 do
    table.move(sorted(by_rank[r], r), 1, #by_rank[r], #keys + 1, keys)
  end
  return n, keys
end

--- How a key is written before " = ".
local function key_text(k, o)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then
    return k
  end
  if type(k) == "table" and not has_tostring(k) then
    return "[" .. safe_tostring(k) .. "]"
  end
  return "[" .. scalar(k, o) .. "]"
end

--- The one-line form of t if it fits in `room` columns, else nil.
local function inline(t, o, room, seen, depth)
  if seen[t] or depth > 3 then return nil end
  local count, k = 0, next(t)
  while k ~= nil do  -- more than 16 entries never fit: say so before sorting
    count = count + 1
    if count > 16 then return nil end
    k = next(t, k)
  end
  local n, keys = layout(t)
  if n + #keys == 0 then return "{}" end
  if n + #keys > 16 then return nil end
  seen[t] = true
  local parts, len = {}, 4
  local function add(prefix, v)
    local s
    if type(v) == "table" and not has_tostring(v) then
      s = inline(v, o, room - len - #prefix, seen, depth + 1)
    else
      s = scalar(v, o)
    end
    if not s or s:find("\n", 1, true) then return false end
    parts[#parts + 1] = prefix .. s
    len = len + #prefix + #s + 2
    return len <= room
  end
  local ok = true
  for i = 1, n do
    if not add("", rawget(t, i)) then ok = false break end
  end
  if ok then
    for _, k in ipairs(keys) do
      if not add(key_text(k, o) .. " = ", rawget(t, k)) then ok = false break end
    end
  end
  seen[t] = nil
  if not ok then return nil end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

local STOP = {} -- raised when the hard limit of lines is reached

--- Count one line; keep it only below the cap.
local function emit(ctx, line)
  ctx.n = ctx.n + 1
  ctx.rendered = ctx.rendered + 1
  if ctx.n <= ctx.o.max_lines then ctx.lines[ctx.n] = line end
  if ctx.rendered >= HARD_LIMIT then error(STOP) end
end

--- True when v is shown by scalar() (one line, no layout).
local function is_scalar(v)
  return type(v) ~= "table" or has_tostring(v)
end

--- Write value v as the text after `head` on a line indented by `ind`,
--- followed by `tail` (a comma or nothing).
local function render(ctx, v, ind, head, tail, depth)
  local o = ctx.o
  if is_scalar(v) then
    local text = scalar(v, o)
    if ind == "" and head == "" or not text:find("\n", 1, true) then
      emit(ctx, ind .. head .. text .. tail)
      return
    end
    -- a several-line __tostring (HTTP headers) inside a table: its lines
    -- after the first indented under the entry, not at the margin
    local first = true
    for line in (text .. tail):gmatch("[^\n]*") do
      if first then emit(ctx, ind .. head .. line) first = false
      else emit(ctx, ind .. "  " .. line) end
    end
    return
  end
  if ctx.ancestors[v] then
    emit(ctx, ind .. head .. "<cycle: " .. safe_tostring(v) .. ">" .. tail)
    return
  end
  if depth > o.max_depth then
    emit(ctx, ind .. head .. "<" .. safe_tostring(v) .. ": too deep>" .. tail)
    return
  end
  local one = inline(v, o, o.width - #ind - #head - #tail, ctx.ancestors, 0)
  if one then
    emit(ctx, ind .. head .. one .. tail)
    return
  end
  local n, keys = layout(v)
  local total, inner = n + #keys, ind .. "  "
  local frame = { n = n, keys = keys, total = total, pos = 0, t = v }
  ctx.frames[#ctx.frames + 1] = frame
  ctx.ancestors[v] = true
  emit(ctx, ind .. head .. "{")
  for i = 1, total do
    frame.pos = i
    local k = i <= n and i or keys[i - n]
    local val = rawget(v, k)
    if ctx.n >= o.max_lines and is_scalar(val) then
      ctx.n = ctx.n + 1 -- past the cap: counted, not built
    else
      render(ctx, val, inner, i <= n and "" or key_text(k, o) .. " = ",
        i < total and "," or "", depth + 1)
    end
  end
  frame.pos = total + 1
  emit(ctx, ind .. "}" .. tail)
  ctx.ancestors[v] = nil
  ctx.frames[#ctx.frames] = nil
end

--- After STOP: the fewest lines still to come (each entry not reached is
--- at least a line, each open table has its closing brace).
local function lines_left(ctx)
  local left = 0
  for _, f in ipairs(ctx.frames) do
    if f.pos <= f.total then left = left + (f.total - f.pos) + 1 end
  end
  return left
end

--- Options merged over the defaults.
local function options(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to 'format' (table expected, got " .. type(opts) .. ")", 3)
  end
  local o = {}
  for k, d in pairs(DEFAULTS) do
    local v = opts and opts[k]
    o[k] = type(v) == "number" and v or d
  end
  return o
end

--- The text of any value (strings quoted, tables laid out).
function M.format(v, opts)
  local ctx = { o = options(opts), lines = {}, n = 0, rendered = 0, ancestors = {}, frames = {} }
  local ok, err = pcall(render, ctx, v, "", "", "", 1)
  local lines = ctx.lines
  if not ok then
    if err ~= STOP then error(err, 0) end
    lines[#lines + 1] = ("... (at least %d more lines)"):format(ctx.n - ctx.o.max_lines + lines_left(ctx))
  elseif ctx.n > ctx.o.max_lines then
    lines[#lines + 1] = ("... (%d more lines)"):format(ctx.n - ctx.o.max_lines)
  end
  return table.concat(lines, "\n")
end

--- What the prompt prints for its results: values separated by tabs.
function M.show(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) == "table" and not has_tostring(v) then
      out[i] = M.format(v)
    else
      out[i] = safe_tostring(v)
    end
  end
  return table.concat(out, "\t")
end

--- Print values the prompt's way (for scripts).
function M.print(...)
  io.write(M.show(...), "\n")
end

return setmetatable(M, {
  __call = function(_, v, opts) return M.format(v, opts) end,
})
