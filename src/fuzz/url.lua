-- src/fuzz/url.lua: fuzz driver of net.url (parse, build, target,
-- authority, resolve, encode, decode). The input is a URL as found in a
-- Location header or typed by a user. nil, message is fine; a raise is a
-- finding, and so is a parsed URL that does not survive build and parse.
local url = require "net.url"

local function check(u, s)
  assert(type(u.scheme) == "string" and type(u.host) == "string" and type(u.path) == "string")
  assert(u.port == nil or math.type(u.port) == "integer")
  assert(type(url.target(u)) == "string")
  assert(type(url.authority(u)) == "string")
  local b = url.build(u)
  assert(type(b) == "string")
  local v, err = url.parse(b)
  assert(v, "built URL does not parse: " .. tostring(err) .. " (from " .. string.format("%q", s) .. ")")
  assert(v.scheme == u.scheme and v.host == u.host and v.port == u.port and v.path == u.path
    and v.query == u.query, "build then parse changed the URL " .. string.format("%q", s))
end

return function(s)
  local u, err = url.parse(s)
  if u then check(u, s) else assert(type(err) == "string", "parse failure without a message") end
  assert(url.decode(url.encode(s)) == s, "decode(encode(s)) ~= s")
  assert(type(url.decode(s)) == "string")
  for _, base in ipairs { "http://a.example/b/c/d?q", "http://[::1]:8080/" } do
    local r, rerr = url.resolve(base, s)
    assert(r ~= nil or type(rerr) == "string", "resolve failure without a message")
    if type(r) == "string" then assert(type(url.parse(r) or "") ~= "nil") end
  end
  if u then
    local r, rerr = url.resolve(s, "../x/./y?z#f")
    assert(r ~= nil or type(rerr) == "string")
  end
end
