-- src/fuzz/smtp_reply.lua: fuzz driver of the numeric reply reader
-- (dialogue.lua: conn:reply, multi-line replies) and conn:expect. The
-- input is what an SMTP (or FTP, POP) server sends. code, lines or nil,
-- message, lines is fine; a raise is a finding.
return function(data)
  local c <close> = memconn(data, 1000)
  for _ = 1, 50 do
    local code, lines, got = c:reply()
    if not code then
      assert(type(lines) == "string", "failure without a message")
      assert(type(got) == "table", "failure without the lines read")
      break
    end
    assert(math.type(code) == "integer" and code >= 0 and code <= 999, "bad code")
    assert(type(lines) == "table" and #lines >= 1, "no lines")
    for _, l in ipairs(lines) do assert(type(l) == "string") end
  end
  local e <close> = memconn(data, 1000)
  local i, line = e:expect({ "^250 ", "^5%d%d[ -](.*)$", "^220" }, 5)
  if i then assert(math.type(i) == "integer" and type(line) == "string")
  else assert(type(line) == "string") end
end
