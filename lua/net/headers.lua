-- net.headers: the headers table of net.http (a reply's header fields, a
-- served request's): its values under the field names as received, looked
-- up in any case (h["content-type"]), pairs in the order received,
-- repeated fields joined with ", " (each kept for values()), tostring
-- printing them with control bytes made visible.
--   new([fields]) -> h            net.http.headers: empty, or from a list
--                                 {name, value, ...} or {name = value}, checked
--   received(fields) -> h         the same, unchecked (the HTTP server's)
--   add(h, name, value)           one more received field
--   fold(h, name, more)           an obsolete folded line joined to a field
--   values(h, name) -> {v, ...}   net.http.values: each value received
local M = {}

-- A headers table keeps its field values under the names as first given
-- (rawget works, pairs goes in order); its own metatable holds the
-- bookkeeping: names (lower name -> name as given), order (names in
-- order), and lists (lower name -> each value, only for fields received
-- more than once; false until one is). The metamethods are shared by all
-- headers tables. A table made from a list of fields is that list until
-- its first use (see ready): a server that never looks at a request's
-- headers does not pay for them.
local HEADERS = {}  -- key marking a headers table's metatable
local add_header   -- M.add, below

local PENDING   -- the metatable of the tables not filled in yet, below
local h_index, h_newindex, h_pairs, h_tostring

-- The bookkeeping of headers table h, its fields filled in. Until its
-- first use a table holds the fields received as they came, the list
-- {name, value, ...} itself, under the metatable PENDING shared by all
-- such tables; then it gets a metatable of its own and its fields.
local function ready(h)
  local mt = getmetatable(h)
  if mt == PENDING then
    local n = rawlen(h)
    local fields = table.move(h, 1, n, 1, {})
    for i = 1, n do rawset(h, i, nil) end
    mt = { __index = h_index, __newindex = h_newindex, __pairs = h_pairs, __tostring = h_tostring,
      [HEADERS] = true, names = {}, order = {}, lists = false }
    setmetatable(h, mt)
    for i = 1, n, 2 do add_header(h, fields[i], fields[i + 1], mt) end
  end
  return mt
end

function h_index(h, k)
  local name = type(k) == "string" and ready(h).names[k:lower()]
  return name and rawget(h, name) or nil
end

function h_newindex(h, k, v)
  local mt = ready(h)
  local low = k:lower()
  local name = mt.names[low]
  if not name then
    name = k; mt.names[low] = k; mt.order[#mt.order + 1] = k
  end
  rawset(h, name, v)
  if mt.lists then mt.lists[low] = nil end
end

function h_pairs(h)
  local order, i = ready(h).order, 0
  return function()
    repeat
      i = i + 1
      local name = order[i]
      if name and rawget(h, name) ~= nil then return name, rawget(h, name) end
    until not name
  end, h, nil
end

function h_tostring(h)  -- control bytes from the peer shown escaped
  local out, visible = {}, require("net.transcript").visible
  for name, v in pairs(h) do out[#out + 1] = visible(name .. ": " .. tostring(v)) end
  return table.concat(out, "\n")
end

-- The bookkeeping of headers table h (its fields filled in), or nil when
-- h is not one.
local function info_of(h)
  local mt = type(h) == "table" and getmetatable(h)
  return type(mt) == "table" and mt[HEADERS] and ready(h) or nil
end

-- Add one received field to headers table h (repeats joined with ", ");
-- info: h's bookkeeping when the caller has it.
function M.add(h, name, value, info)
  info = info or info_of(h)
  local low = name:lower()
  local given = info.names[low]
  local old = given and rawget(h, given)
  if old == nil then
    if not given then
      info.names[low] = name; info.order[#info.order + 1] = name; given = name
    end
    rawset(h, given, value)
    return
  end
  info.lists = info.lists or {}
  local list = info.lists[low] or { old }
  list[#list + 1] = value
  info.lists[low] = list
  rawset(h, given, table.concat(list, ", "))
end
add_header = M.add

PENDING = { __index = h_index, __newindex = h_newindex, __pairs = h_pairs, __tostring = h_tostring,
  [HEADERS] = true }

-- received(fields) -> `fields`, a list {name, value, name, value, ...} of
-- strings in the order received, not checked (the HTTP server's, from its
-- own parser), made the headers table holding them (filled in on first
-- use; the list is taken over).
function M.received(fields)
  return setmetatable(fields or {}, PENDING)
end
local received = M.received

-- new([fields]) -> a new headers table (net.http.headers), empty or
-- holding `fields`: a list {name, value, ...} as received() takes, or a
-- table {name = value} (in the order of the names); raises when fields is
-- neither.
function M.new(fields)
  if fields ~= nil and type(fields) ~= "table" then
    error("bad argument #1 to 'headers' (table expected, got " .. type(fields) .. ")", 2)
  end
  if fields and #fields == 0 and next(fields) ~= nil then   -- {name = value}
    local names, list = {}, {}
    for k, v in pairs(fields) do
      if type(k) ~= "string" or (type(v) ~= "string" and type(v) ~= "number") then
        error("bad argument #1 to 'headers' (field " .. tostring(k) .. " is not a name and a value)", 2)
      end
      names[#names + 1] = k
    end
    table.sort(names)
    for _, k in ipairs(names) do list[#list + 1] = k; list[#list + 1] = tostring(fields[k]) end
    return received(list)
  end
  for i = 1, fields and #fields or 0, 2 do
    if type(fields[i]) ~= "string" or type(fields[i + 1]) ~= "string" then
      error("bad argument #1 to 'headers' (field " .. (i + 1) // 2 .. " is not a name and a value)", 2)
    end
  end
  return received(fields and table.move(fields, 1, #fields, 1, {}))   -- (the caller's list stays)
end

-- Append `more` (an obsolete folded continuation line) to the last value
-- received for field `name`, with one space.
function M.fold(h, name, more)
  local info = info_of(h)
  local low = name:lower()
  local given = info.names[low]
  local list = info.lists and info.lists[low]
  if not list then rawset(h, given, rawget(h, given) .. " " .. more) return end
  list[#list] = list[#list] .. " " .. more
  rawset(h, given, table.concat(list, ", "))
end

-- Each value received for field `name` of headers table h, as a list.
function M.values(h, name)
  if type(name) ~= "string" then error("bad argument #2 to 'values' (string expected, got " .. type(name) .. ")", 2) end
  local info = info_of(h)
  if not info then error("bad argument #1 to 'values' (headers table expected)", 2) end
  local low = name:lower()
  local list = info.lists and info.lists[low]
  if list then return table.move(list, 1, #list, 1, {}) end
  local v = info.names[low] and rawget(h, info.names[low])
  return { v }
end

return M
