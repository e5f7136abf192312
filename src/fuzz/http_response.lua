-- src/fuzz/http_response.lua: fuzz driver of the HTTP client's response
-- parser (net.http.read_response: status line, headers, Content-Length,
-- chunked and close-delimited bodies). The input is what the server sends.
-- A result or nil, message is fine; a raise is a finding.
local http = require "net.http"
local max_line = http.max_line

return function(data)
  local c <close> = memconn(data, max_line)
  local code, reason, h, body = http.read_response(c, #data % 7 == 0 and "HEAD" or "GET")
  if code then
    assert(math.type(code) == "integer" and code >= 100 and code <= 999, "bad code")
    assert(type(reason) == "string", "bad reason")
    assert(type(body) == "string", "bad body")
    for k, v in pairs(h) do assert(type(k) == "string" and type(v) == "string", "bad header") end
    assert(type(tostring(h)) == "string")
    for _, k in ipairs { "content-length", "transfer-encoding", "x" } do
      for _, v in ipairs(http.values(h, k)) do assert(type(v) == "string") end
    end
  else
    assert(type(reason) == "string", "failure without a message")
    assert(type(h) == "string", "failure without a kind")
  end
end
