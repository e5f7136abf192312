-- net.trace: the transcript of a dialogue, for teaching and debugging.
-- conn:trace(on | function | file) installs handler(how) from here; each
-- send, receive and event becomes lines like
--   *** connected to 127.0.0.1:80 (127.0.0.1:40312 -> 127.0.0.1:80)
--    -> GET / HTTP/1.1
--   <- HTTP/1.1 200 OK
--   *** closed
-- ("<- " what the server said, " -> " what the client sent, "*** " events),
-- with control characters made visible (\r alone, \0, \x1b ...).
local M = {}

local names = { ["\t"] = "\\t", ["\r"] = "\\r", ["\0"] = "\\0", ["\\"] = "\\\\" }

-- One line of data with control characters made visible.
function M.visible(s)
  return (s:gsub("[%c\\]", function(c)
    return names[c] or string.format("\\x%02x", c:byte())
  end))
end

-- The transcript lines for one event (what, data) of a connection.
function M.format(what, data, conn)
  local out = {}
  if what == "send" or what == "receive" then
    local prefix = what == "send" and " -> " or "<- "
    -- split on LF; a CR just before the LF is the line end, not shown
    for line, eol in data:gmatch("([^\n]*)(\n?)") do
      if line == "" and eol == "" then break end
      line = line:gsub("\r$", "")
      out[#out + 1] = prefix .. M.visible(line)
    end
    if #out == 0 then out[1] = prefix end
  elseif what == "connect" then
    out[1] = "*** connected (" .. tostring(conn):match("connection (.-) %(") .. ")"
  elseif what == "shutdown" then
    out[1] = "*** shutdown " .. tostring(data)
  else
    out[1] = "*** " .. (what == "close" and "closed" or what) .. (data and " " .. M.visible(data) or "")
  end
  return out
end

-- A handler for conn:settrace from what the user gave conn:trace: true
-- (standard error), a function (called with each line), or a file.
function M.handler(how)
  local emit
  if how == true then
    emit = function(line) io.stderr:write(line, "\n") end
  elseif type(how) == "function" then
    emit = how
  elseif io.type(how) == "file" or (type(how) == "table" and how.write) then
    emit = function(line) how:write(line, "\n") end
  else
    error("bad argument #1 to 'trace' (true, a function or a file expected, got " .. type(how) .. ")", 3)
  end
  return function(what, data, conn)
    for _, line in ipairs(M.format(what, data, conn)) do emit(line) end
  end
end

return M
