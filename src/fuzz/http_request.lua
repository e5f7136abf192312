-- src/fuzz/http_request.lua: fuzz driver of the HTTP server's request
-- parser (net.http.serve's, through httpserve.read_request): request line,
-- header fields, framing, Content-Length and chunked bodies, pipelined
-- requests. The input is what a client sends. A request, nil (the client
-- left) or nil, status, why (a refusal) is fine; a raise is a finding.
local serve = require "net.httpserve"
local opts = { maxheader = 2048, maxbody = 4096, timeout = 30 }

-- Read up to 8 requests from c; returns their outcomes as one string.
local function read_all(c)
  local seen = {}
  for _ = 1, 8 do
    local req, status, why = serve.read_request(c, opts)
    if not req then
      if status ~= nil then
        assert(math.type(status) == "integer" and status >= 400 and status <= 599, "bad refusal status")
        assert(type(why) == "string", "refusal without a reason")
      end
      seen[#seen + 1] = "end " .. tostring(status) .. " " .. tostring(why)
      break
    end
    seen[#seen + 1] = table.concat({ req.method, req.target, req.version, tostring(req.headers), req.body }, "\0")
    for _, k in ipairs { "method", "target", "version", "path", "query", "decoded_path", "body" } do
      assert(type(req[k]) == "string", "request without " .. k)
    end
    assert(type(req.params) == "table" and req.headers ~= nil, "request without params or headers")
    for k, v in pairs(req.headers) do assert(type(k) == "string" and type(v) == "string", "bad header") end
    assert(#req.body <= opts.maxbody, "body over maxbody")
  end
  return table.concat(seen, "\n")
end

return function(data)
  local c <close> = memconn(data, opts.maxheader + 2)
  local w <close> = memconn(data, opts.maxheader + 2, 0)
  local a, b = read_all(c), read_all(w)
  assert(a == b, "the outcome depends on how the bytes were split:\n" .. a .. "\n" .. b)
end
