-- src/fuzz/smtp_reply.lua: fuzz driver of the numeric reply reader
-- (dialogue.lua: conn:reply, multi-line replies), conn:expect, and a whole
-- smtp.send session (greeting, EHLO extensions, MAIL, RCPT, DATA, QUIT)
-- with net.connect answering a connection that reads the input. The input
-- is what an SMTP (or FTP, POP) server sends. code, lines or nil, message,
-- lines is fine; a raise is a finding.
local net = require "net"
local smtp = require "net.smtp"
-- Read up to 50 replies from c; returns them as one string.
local function replies(c)
  local seen = {}
  for _ = 1, 50 do
    local code, lines, got = c:reply()
    if not code then
      assert(type(lines) == "string", "failure without a message")
      assert(type(got) == "table", "failure without the lines read")
      seen[#seen + 1] = "fail " .. lines .. "\0" .. table.concat(got, "\0") .. "\0" .. tostring(got.partial)
      break
    end
    assert(math.type(code) == "integer" and code >= 0 and code <= 999, "bad code")
    assert(type(lines) == "table" and #lines >= 1, "no lines")
    for _, l in ipairs(lines) do assert(type(l) == "string") end
    seen[#seen + 1] = code .. "\0" .. table.concat(lines, "\0")
  end
  return table.concat(seen, "\n")
end

return function(data)
  local c <close> = memconn(data, 1000)
  local w <close> = memconn(data, 1000, 0)
  local a, b = replies(c), replies(w)
  assert(a == b, "the replies depend on how the bytes were split:\n" .. a .. "\n" .. b)
  local connect = net.connect
  net.connect = function() return memconn(data, 1000) end
  local ok, msg = smtp.send { server = "127.0.0.1:2525", from = "a@example.org",
    to = { "b@example.org", "c@example.org" }, subject = "s", body = "hi\r\n.dot\n" }
  net.connect = connect
  assert((ok == true or ok == nil) and type(msg) == "string", "send gave neither true, text nor nil, message")
  local e <close> = memconn(data, 1000)
  local i, line = e:expect({ "^250 ", "^5%d%d[ -](.*)$", "^220" }, 5)
  if i then assert(math.type(i) == "integer" and type(line) == "string")
  else assert(type(line) == "string") end
end
