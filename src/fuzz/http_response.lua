-- src/fuzz/http_response.lua: fuzz driver of the HTTP client's response
-- parser (net.http.read_response: status line, headers, Content-Length,
-- chunked and close-delimited bodies), and of http.request following
-- redirects, with net.connect answering a connection that reads the input
-- each time. The input is what the server sends. A result or nil, message
-- is fine; a raise is a finding.
local net = require "net"
local http = require "net.http"
-- limits small enough for inputs of a few KiB to cross them
http.max_line, http.max_header_bytes, http.chunk = 300, 1500, 100
local max_line = http.max_line

-- The outcome as one string, to compare two readings.
local function outcome(code, reason, h, body)
  if not code then return "fail " .. tostring(reason) .. " " .. tostring(h) end
  return table.concat({ code, reason, tostring(h), body }, "\0")
end

return function(data)
  local method = #data % 7 == 0 and "HEAD" or "GET"
  local c <close> = memconn(data, max_line)
  local code, reason, h, body = http.read_response(c, method)
  -- the same bytes in other pieces (whole reads) give the same outcome
  local w <close> = memconn(data, max_line, 0)
  local a, b = outcome(code, reason, h, body), outcome(http.read_response(w, method))
  assert(a == b, "the outcome depends on how the bytes were split:\n" .. a .. "\n" .. b)
  local connect = net.connect
  net.connect = function() return memconn(data, max_line) end
  local rcode, rerr = http.request { url = "http://127.0.0.1:8080/a/b?c", redirects = true, method = method }
  net.connect = connect
  assert(math.type(rcode) == "integer" or type(rerr) == "string", "request gave neither a code nor a message")
  if code then
    assert(math.type(code) == "integer" and code >= 100 and code <= 999, "bad code")
    assert(type(reason) == "string", "bad reason")
    assert(type(body) == "string", "bad body")
    for k, v in pairs(h) do assert(type(k) == "string" and type(v) == "string", "bad header") end
    -- the headers print (at the prompt) without raw control bytes
    local text = tostring(h)
    local bad = text:find("[\0-\9\11-\31\127]") or (utf8.len(text) and text:find("\xC2[\x80-\x9F]"))
    assert(not bad, string.format("control byte in tostring(headers): %q", text))
    for _, k in ipairs { "content-length", "transfer-encoding", "x" } do
      for _, v in ipairs(http.values(h, k)) do assert(type(v) == "string") end
    end
  else
    assert(type(reason) == "string", "failure without a message")
    assert(type(h) == "string", "failure without a kind")
  end
end
