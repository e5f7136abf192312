-- net.url: URLs taken apart and put together, for net.http and scripts.
--   url.parse("http://[::1]:8080/x?y#z")
--     -> {scheme="http", host="::1", port=8080, path="/x", query="y",
--         fragment="z", userinfo=nil, ipv6=true, default_port=false}
--   or nil, message naming the URL and what is wrong with it.
-- Also: url.target(u) (the request target "/x?y"), url.authority(u) (the
-- Host header value: host, [v6], ":port" when not the default),
-- url.build(u), url.resolve(base, ref) (a Location against the URL it
-- came from), url.encode/decode (percent-encoding).
local M = {}

-- Default port of each scheme this module knows.
M.default_ports = { http = 80, https = 443 }

-- A string for messages: the URL quoted, cut when long.
local function show(s)
  if #s > 200 then s = s:sub(1, 200) .. "..." end
  return string.format("%q", s):gsub("\\\n", "\\n")
end

-- nil and "url <u>: <problem>" (the failure result of parse).
local function fail(s, problem)
  return nil, "url " .. show(s) .. ": " .. problem
end

-- Raise an argument error naming the function and argument, like luaL.
local function argerror(fname, n, expected, got)
  error(string.format("bad argument #%d to '%s' (%s expected, got %s)", n, fname, expected, type(got)), 3)
end

-- Percent-decode s ("%41" -> "A"); "+" stays "+".
function M.decode(s)
  if type(s) ~= "string" then argerror("decode", 1, "string", s) end
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Percent-encode every byte of s but the unreserved ones (letters, digits,
-- - . _ ~) and those in `keep` (a Lua pattern class body, e.g. "/" for
-- paths).
function M.encode(s, keep)
  if type(s) ~= "string" then argerror("encode", 1, "string", s) end
  local class = "[^%w%-%._~" .. (keep and keep:gsub("[%^%]%%%-]", "%%%0") or "") .. "]"
  return (s:gsub(class, function(c) return string.format("%%%02X", c:byte()) end))
end

-- Split an authority "user@host:port" into {userinfo, host, port (text),
-- ipv6}; or nil, problem.
local function split_authority(auth)
  local userinfo, hostport = auth:match("^(.*)@(.*)$")
  if not userinfo then hostport = auth end
  local host, port = hostport:match("^%[([^%]]*)%](.*)$")
  if host then
    if not host:find("^[%x:.]+$") or not host:find(":") then return nil, "bad IPv6 literal [" .. host .. "]" end
    if port ~= "" and not port:find("^:") then return nil, "junk after IPv6 literal" end
    return { userinfo = userinfo, host = host, port = port:sub(2), ipv6 = true }
  end
  host, port = hostport:match("^([^:]*)(.*)$")
  if host == "" then return nil, "empty host" end
  if not host:find("^[%w%-%._~%%!$&'()*+,;=]+$") then return nil, "bad character in host " .. show(host) end
  return { userinfo = userinfo, host = host, port = port:sub(2), ipv6 = false }
end

-- The port number from its text (empty: the scheme's default), or nil, problem.
local function check_port(port, scheme)
  if port == "" then return M.default_ports[scheme] end
  if not port:find("^%d+$") then return nil, "bad port " .. show(port) end
  local n = tonumber(port)
  if n < 1 or n > 65535 then return nil, "port " .. port .. " out of range (1-65535)" end
  return n
end

-- Take URL s apart (see the top comment); nil, message when malformed.
function M.parse(s)
  if type(s) ~= "string" then argerror("parse", 1, "string", s) end
  if s:find("[%c ]") then return fail(s, "contains a space or control character") end
  local scheme, rest = s:match("^(%a[%w+%-.]*)://(.*)$")
  if not scheme then return fail(s, "no scheme (expected e.g. http://host/path)") end
  scheme = scheme:lower()
  local auth, tail = rest:match("^([^/?#]*)(.*)$")
  local a, err = split_authority(auth)
  if not a then return fail(s, err) end
  local port
  port, err = check_port(a.port, scheme)
  if not port and a.port ~= "" then return fail(s, err) end
  local fragment = tail:match("#(.*)$")
  tail = tail:gsub("#.*$", "")
  local path, query = tail:match("^([^?]*)%?(.*)$")
  return {
    scheme = scheme, host = a.host, port = port, path = (path or tail) ~= "" and (path or tail) or "/",
    query = query, fragment = fragment, userinfo = a.userinfo, ipv6 = a.ipv6,
    default_port = port ~= nil and port == M.default_ports[scheme],
  }
end

-- The request target of a parsed URL: path and "?query" (no fragment).
function M.target(u)
  if type(u) ~= "table" then argerror("target", 1, "table", u) end
  return (u.path or "/") .. (u.query and "?" .. u.query or "")
end

-- The Host header value: host ([v6] in brackets), ":port" unless default.
function M.authority(u)
  if type(u) ~= "table" then argerror("authority", 1, "table", u) end
  local host = (u.ipv6 or (u.host or ""):find(":")) and "[" .. u.host .. "]" or u.host
  if u.port and u.port ~= M.default_ports[u.scheme] then host = host .. ":" .. u.port end
  return host
end

-- The URL text of a parsed URL (the inverse of parse).
function M.build(u)
  if type(u) ~= "table" then argerror("build", 1, "table", u) end
  return u.scheme .. "://" .. (u.userinfo and u.userinfo .. "@" or "") .. M.authority(u) ..
    M.target(u) .. (u.fragment and "#" .. u.fragment or "")
end

-- A path with "." and ".." segments removed (RFC 3986 5.2.4, simplified).
local function remove_dots(path)
  local out, segs = {}, {}
  for seg in (path:gsub("^/", "") .. "/"):gmatch("([^/]*)/") do segs[#segs + 1] = seg end
  for i, seg in ipairs(segs) do
    if seg == ".." then
      out[#out] = nil
    elseif seg ~= "." then
      out[#out + 1] = seg
    end
    if (seg == "." or seg == "..") and i == #segs then out[#out + 1] = "" end
  end
  return "/" .. table.concat(out, "/")
end

-- The absolute URL text of reference `ref` (e.g. a Location header) seen
-- from absolute URL `base`; nil, message when either is malformed.
function M.resolve(base, ref)
  if type(base) ~= "string" then argerror("resolve", 1, "string", base) end
  if type(ref) ~= "string" then argerror("resolve", 2, "string", ref) end
  local b, err = M.parse(base)
  if not b then return nil, err end
  if ref:find("^%a[%w+%-.]*://") then return ref end
  local prefix = b.scheme .. "://" .. (b.userinfo and b.userinfo .. "@" or "") .. M.authority(b)
  if ref:find("^//") then return b.scheme .. ":" .. ref end
  if ref == "" then return prefix .. M.target(b) end
  if ref:find("^[?#]") then
    local keep = ref:find("^#") and M.target(b) or b.path
    return prefix .. keep .. ref
  end
  local path, rest = ref:match("^([^?#]*)(.*)$")
  if not path:find("^/") then path = b.path:gsub("[^/]*$", "") .. path end
  return prefix .. remove_dots(path) .. rest
end

return M
