-- src/fuzz/transcript.lua: fuzz driver of the transcript's formatting
-- (visible, istext, hexdump, format) with arbitrary bytes. Nothing may
-- raise, and no output line may hold a raw control byte, except ESC
-- starting a colour sequence when colour is on.
local t = require "net.transcript"

local function clean(line, colored, what)
  assert(type(line) == "string", what .. ": not a string")
  if colored then line = line:gsub("\27%[[%d;]*m", "") end
  local bad = line:find("[%c\127]")
  assert(not bad, string.format("%s: raw control byte 0x%02x in %q", what, bad and line:byte(bad) or 0, line))
  -- C1 controls (U+0080-U+009F) in UTF-8: U+009B is CSI to many terminals
  local c1 = utf8.len(line) and line:find("\xC2[\x80-\x9F]")
  assert(not c1, string.format("%s: C1 control U+00%02X in %q", what, c1 and line:byte(c1 + 1) or 0, line))
end

return function(data)
  clean(t.visible(data), false, "visible")
  assert(type(t.istext(data)) == "boolean")
  for _, l in ipairs(t.hexdump(data, "<- ", 64)) do clean(l, false, "hexdump") end
  local colored = #data % 2 == 1
  local opts = { colored = colored, explain = #data % 3 == 0 and "smtp" or true, hexmax = 256 }
  for _, what in ipairs { "send", "receive", "connected", "reset", data:sub(1, 12) } do
    for _, l in ipairs(t.format(what, data, nil, opts)) do clean(l, colored, "format " .. what) end
  end
  for _, l in ipairs(t.format("receive", data, nil, opts, data:sub(-8))) do clean(l, colored, "format peer") end
end
