--[[
http_server.lua: a small web server on net.http.serve. It serves the files
under DIR (index.html for a directory), and a JSON data service:
  /api/time                             {"unix": 1700000000, "iso": "2023-11-14T22:13:20Z"}
  /api/lookup?name=N&type=T[&server=IP:PORT]
                                        the records net.lookup finds, as JSON

  netlua scripts/http_server.lua -p 8080 /srv/www
  curl http://127.0.0.1:8080/api/lookup?name=example.org&type=MX

Nothing outside DIR is ever served. The raw path is split at "/" and each
segment percent-decoded; a segment that is "." or "..", or holds "/" (from
%2f), "\" or NUL (from %00), is refused with 403, and so is any backslash
in the raw path. The file left over is then resolved to its real path (a
name at a time, each symlink followed, with lua-filesystem), so that a
symlink that points out of DIR is refused (403) however deep it is.
A missing file is 404; a method other than GET or HEAD is 405; a directory
without index.html is 403 (no listings).

One line per request goes to standard error. Clients are served at once
(a task each).
Exits 1 when it cannot listen or DIR is missing or not a directory, 2 on a bad option.
]]

local net = require "net"
local lfs = require "lfs"   -- Debian: lua-filesystem
local json_ok, json = pcall(require, "cjson")
if not json_ok then json = require "dkjson" end  -- Debian: lua-cjson or lua-dkjson

local USAGE = [[
usage: http_server.lua [-p PORT] [-b ADDR] [DIR]
Serve the files under DIR (default: the current directory) over HTTP, with
index.html for directories, and JSON under /api/:
  /api/time                                  {"unix": ..., "iso": ...}
  /api/lookup?name=N&type=A[&server=IP:PORT] DNS records (net.lookup)
  -p PORT   port (default 8000; 0: any free one)
  -b ADDR   address to listen on (default 127.0.0.1)
  --help    this text]]

local TYPES = {
  html = "text/html; charset=utf-8", htm = "text/html; charset=utf-8",
  txt = "text/plain; charset=utf-8", css = "text/css", js = "text/javascript",
  json = "application/json", xml = "application/xml", svg = "image/svg+xml",
  png = "image/png", jpg = "image/jpeg", jpeg = "image/jpeg", gif = "image/gif",
  ico = "image/x-icon", webp = "image/webp", pdf = "application/pdf",
  wasm = "application/wasm", mp4 = "video/mp4", woff2 = "font/woff2",
  gz = "application/gzip", zip = "application/zip", lua = "text/plain; charset=utf-8",
  md = "text/markdown; charset=utf-8",
}

local MAXLINKS = 40   -- symbolic links followed in one path (as Linux's ELOOP)

--- The real path of an existing path and "d" or "f" (directory or not),
--- or nil when it does not exist or its links loop: the path is walked a
--- name at a time from /, each symbolic link on the way replaced by its
--- target (lfs reads it; a relative one from the link's directory), "."
--- and ".." taken as they come, as realpath(3) does.
local function realpath(path)
  if path:sub(1, 1) ~= "/" then path = lfs.currentdir() .. "/" .. path end
  local done, todo, links = {}, {}, 0   -- done: the real names so far; todo: a stack
  local function push(p)
    local names = {}
    for name in p:gmatch("[^/]+") do names[#names + 1] = name end
    for i = #names, 1, -1 do todo[#todo + 1] = names[i] end
  end
  push(path)
  while #todo > 0 do
    local name = table.remove(todo)
    if name == ".." then
      done[#done] = nil
    elseif name ~= "." then
      local a = lfs.symlinkattributes("/" .. table.concat(done, "/") .. (#done > 0 and "/" or "") .. name)
      if not a then return nil end
      if a.mode == "link" then
        links = links + 1
        if links > MAXLINKS or not a.target then return nil end
        if a.target:sub(1, 1) == "/" then done = {} end
        push(a.target)
      else
        done[#done + 1] = name
      end
    end
  end
  local real = "/" .. table.concat(done, "/")
  local mode = lfs.attributes(real, "mode")
  if not mode then return nil end
  return real, mode == "directory" and "d" or "f"
end

--- Options and arguments from the command line, or nil, message.
local function options(args)
  local o = { port = 8000, bind = "127.0.0.1" }
  local pos, i = {}, 1
  while i <= #args do
    local a = args[i]
    if a == "--help" or a == "-h" then o.help = true
    elseif a == "-p" or a == "-b" then
      local v = args[i + 1]
      if not v then return nil, a .. " needs a value" end
      if a == "-p" then
        o.port = math.tointeger(tonumber(v))
        if not o.port or o.port < 0 or o.port > 65535 then return nil, "bad port: " .. v end
      else o.bind = v end
      i = i + 1
    elseif a:sub(1, 1) == "-" and #a > 1 then return nil, "unknown option: " .. a
    else pos[#pos + 1] = a end
    i = i + 1
  end
  if #pos > 1 then return nil, "only one DIR, please" end
  o.dir = pos[1] or "."
  return o
end

--- A JSON reply.
local function json_reply(status, t)
  return status, { ["Content-Type"] = "application/json" }, json.encode(t) .. "\n"
end

--- A plain-text reply.
local function text_reply(status, s)
  return status, { ["Content-Type"] = "text/plain; charset=utf-8" }, s .. "\n"
end

--- /api/time: the time now, as Unix seconds and ISO 8601 (UTC).
local function api_time()
  local now = os.time()
  return json_reply(200, { unix = now, iso = os.date("!%Y-%m-%dT%H:%M:%SZ", now) })
end

--- /api/lookup?name=&type=&server=: net.lookup's records as JSON.
local function api_lookup(req)
  local p = req.params
  local name, rtype = p.name, (p.type or "A"):upper()
  if not name or name == "" then return json_reply(400, { error = "name= is missing" }) end
  if p.server and not p.server:match("^%[?[%x:.]+%]?:?%d*$") then
    return json_reply(400, { error = "server= must be an address or address:port" })
  end
  local ok, records, info = pcall(net.lookup, name, rtype, { server = p.server, timeout = 5 })
  if not ok then return json_reply(400, { error = tostring(records) }) end
  if not records then
    local status = tostring(info):find("no such name", 1, true) and 404 or 502
    return json_reply(status, { name = name, type = rtype, error = tostring(info) })
  end
  local list = {}
  for i, r in ipairs(records) do
    local t = {}
    for k, v in pairs(r) do t[k] = v end
    list[i] = t
  end
  if #list == 0 then  -- cjson 2.1.0 would write an empty table as {}
    local status, h, body = json_reply(200, { name = name, type = rtype })
    return status, h, (body:gsub("}\n$", ',"records":[]}\n'))
  end
  return json_reply(200, { name = name, type = rtype, records = list })
end

--- The file system path for a raw request path under root, or nil, status
--- when a segment tries to leave it.
local function file_path(root, raw)
  if raw:find("\\", 1, true) then return nil, 403 end
  local parts = {}
  for seg in raw:gmatch("[^/]+") do
    local d = seg:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
    if d == "." or d == ".." or d:find("[/\\%z]") then return nil, 403 end
    parts[#parts + 1] = d
  end
  return root .. "/" .. table.concat(parts, "/")
end

--- True when real path `real` is root or inside it.
local function inside(root, real)
  return real == root or real:sub(1, #root + 1) == root .. "/"
end

--- A file from DIR: status, headers, body (an open file for a hit).
local function serve_file(root, req)
  if req.method ~= "GET" and req.method ~= "HEAD" then
    return 405, { Allow = "GET, HEAD", ["Content-Type"] = "text/plain" }, "405 only GET and HEAD here\n"
  end
  if req.path:sub(1, 1) ~= "/" then return text_reply(400, "400 bad path") end
  local path, bad = file_path(root, req.path)
  if not path then return text_reply(bad, "403 forbidden path") end
  local real, kind = realpath(path)
  if not real then return text_reply(404, "404 not found") end
  if not inside(root, real) then return text_reply(403, "403 outside the served directory") end
  if kind == "d" then
    if req.path:sub(-1) ~= "/" then
      local to = req.path .. "/" .. (req.query ~= "" and ("?" .. req.query) or "")
      return 301, { Location = to, ["Content-Type"] = "text/plain" }, "moved to " .. to .. "\n"
    end
    real, kind = realpath(real .. "/index.html")
    if not real or kind ~= "f" then return text_reply(403, "403 no index.html here (no listings)") end
    if not inside(root, real) then return text_reply(403, "403 outside the served directory") end
  end
  local f = io.open(real, "rb")
  if not f then return text_reply(403, "403 cannot read this file") end
  local ext = real:match("%.([%w]+)$")
  return 200, { ["Content-Type"] = TYPES[ext and ext:lower() or ""] or "application/octet-stream" }, f
end

--- The request handler for root: /api/... or a file.
local function handler(root)
  return function(req)
    local status, h, body
    if req.path == "/api/time" then status, h, body = api_time()
    elseif req.path == "/api/lookup" then status, h, body = api_lookup(req)
    elseif req.path:find("^/api/") then status, h, body = json_reply(404, { error = "no such API: " .. req.path })
    else status, h, body = serve_file(root, req) end
    io.stderr:write(("%s %s %s %d\n"):format(req.peer, req.method, req.target, status))
    return status, h, body
  end
end

--- Entry point: returns the exit status (on a listen failure; else it
--- serves until interrupted).
local function main(args)
  local o, err = options(args)
  if not o then
    io.stderr:write("http_server.lua: ", err, "\n", USAGE, "\n")
    return 2
  end
  if o.help then print(USAGE) return 0 end
  local root, kind = realpath(o.dir)
  if not root or kind ~= "d" then
    io.stderr:write("http_server.lua: ", o.dir, root and ": not a directory\n" or ": no such directory\n")
    return 1
  end
  local srv, lerr = net.http.serve(o.bind, o.port, handler(root))
  if not srv then
    io.stderr:write("http_server.lua: ", tostring(lerr), "\n")
    return 1
  end
  local host, port = srv:getsockname()
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  print(("serving %s on http://%s:%d/"):format(root, host, port))
  io.stdout:flush()
  local ok, e = pcall(net.run)  -- the server's task runs until Ctrl-C
  if not ok and tostring(e):find("interrupted!$") then return 130 end
  if not ok then error(e, 0) end
  return 0
end

os.exit(main(arg or {}))
