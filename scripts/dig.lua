--[[
dig.lua: ask a DNS server one question and print a dig-like answer: the
status, the question section, the answer section with TTLs (every record
of the answer, CNAMEs included), the server and the query time.

  netlua scripts/dig.lua example.org MX
  netlua scripts/dig.lua @127.0.0.1 -p 5353 www.test AAAA
  netlua scripts/dig.lua -x 192.0.2.10 +short

Exits 0 when the server answered (even with no record of the type), 9 when
no server could be reached (as dig), 10 for a server or -x address it
cannot use (as dig), 1 for NXDOMAIN, SERVFAIL or REFUSED (dig exits 0
there: a script can tell them apart this way), 2 on a bad option.
]]

local net = require "net"

local USAGE = [[
usage: dig.lua [@SERVER] [-p PORT] [-x ADDR] NAME [TYPE] [+short] [+tcp]
               [+time=S] [+tries=N]
Ask SERVER (default: the system's first resolver) for NAME's records of
TYPE (default A) and print the answer section as dig does.
  @SERVER    server address (IPv6 with or without brackets), ADDRESS:PORT
             ([IPv6]:PORT), or host name (resolved by the system's
             resolver); the port also goes in -p
  -p PORT    server port (default 53)
  -x ADDR    reverse lookup: the PTR record of an address
  -t TYPE    the record type (also as a bare word: A AAAA MX TXT NS CNAME
             SOA SRV PTR CAA)
  +short     print only the data of each record
  +tcp       ask over TCP
  +time=S    give up after S seconds in all (default 5)
  +tries=N   tries per server within the time (default 2)
  --help     this text
Exits 0 when the server answered (even with no record of the type), 1 for
NXDOMAIN, SERVFAIL or REFUSED (dig exits 0), 9 when no server could be
reached and 10 for a server or -x address it cannot use (as dig), 2 on a
bad option.]]

local TYPES = { A = 1, AAAA = 1, MX = 1, TXT = 1, NS = 1, CNAME = 1, SOA = 1,
  SRV = 1, PTR = 1, CAA = 1 }

--- The reverse-lookup name of an address, or nil if it is not one.
local function arpa(addr)
  local family, text = net.ip.parse(addr)
  if family == "inet" then
    local a, b, c, d = text:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    return d .. "." .. c .. "." .. b .. "." .. a .. ".in-addr.arpa"
  elseif family == "inet6" and not text:find("%", 1, true) then
    -- expand to 32 nibbles
    local head, tail = text:match("^(.-)::(.*)$")
    local groups = {}
    local function add(part)
      for g in part:gmatch("[^:]+") do groups[#groups + 1] = ("%04x"):format(tonumber(g, 16)) end
    end
    if head then
      add(head)
      local n = #groups
      local rest = {}
      for g in tail:gmatch("[^:]+") do rest[#rest + 1] = g end
      for _ = 1, 8 - n - #rest do groups[#groups + 1] = "0000" end
      add(tail)
    else
      add(text)
    end
    local hex = table.concat(groups):reverse()
    return (hex:gsub(".", "%0.")) .. "ip6.arpa"
  end
  return nil
end

--- Options from the command line, or nil, message.
local function options(args)
  local o = { timeout = 5 }
  local words = {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--help" or a == "-h" then o.help = true
    elseif a:sub(1, 1) == "@" then o.server = a:sub(2)
    elseif a == "-p" or a == "-x" or a == "-t" then
      local v = args[i + 1]
      if not v then return nil, a .. " needs a value" end
      i = i + 1
      if a == "-p" then
        o.port = math.tointeger(tonumber(v))
        if not o.port or o.port < 1 or o.port > 65535 then return nil, "bad port: " .. v end
      elseif a == "-x" then o.reverse = v
      else o.type = v:upper() end
    elseif a == "+short" then o.short = true
    elseif a == "+tcp" or a == "+vc" then o.tcp = true
    elseif a:match("^%+time=") then
      o.timeout = tonumber(a:match("=(.*)"))
      if not o.timeout or o.timeout <= 0 then return nil, "bad " .. a end
    elseif a:match("^%+tries=") or a:match("^%+retry=") then
      o.tries = math.tointeger(tonumber(a:match("=(.*)")))
      if not o.tries or o.tries < 1 then return nil, "bad " .. a end
    elseif a:sub(1, 1) == "-" or a:sub(1, 1) == "+" then return nil, "unknown option: " .. a
    else words[#words + 1] = a end
    i = i + 1
  end
  if o.help then return o end
  -- a bare word that is a type is the type (before or after the name), as in dig
  for _, w in ipairs(words) do
    if TYPES[w:upper()] and not o.type and (#words > 1 or o.reverse) then o.type = w:upper()
    elseif not o.name then o.name = w
    elseif not o.type and w:find("^%a%w*$") then return nil, "unknown record type " .. w
    else return nil, "unexpected argument: " .. w end
  end
  if o.type and not TYPES[o.type] then return nil, "unknown record type " .. o.type end
  if o.reverse then
    o.qname = arpa(o.reverse)
    if not o.qname then return nil, "invalid IP address '" .. o.reverse .. "'", 10 end
    o.name, o.type = o.reverse, "PTR"
  end
  if not o.name then return nil, "expected a NAME" end
  o.type = o.type or "A"
  return o
end

--- True when s is a host name (letters, digits, hyphens in dot-separated
--- labels, not all digits): only such a server is given to the resolver.
local function is_hostname(s)
  if #s > 253 or s:find("^[%d.]+$") then return false end
  for label in (s:gsub("%.$", "") .. "."):gmatch("(.-)%.") do
    if #label > 63 or not label:find("^%w[%w-]*$") or label:find("-$") then return false end
  end
  return true
end

--- The server: host, port and the text net.lookup takes; or nil, message.
--- An address (IPv6 with or without brackets) is used as it is; a host name
--- is resolved with the system's resolver, as dig does; anything else (a
--- '@', a ':' or a space in it) is refused before any query is sent.
local function choose_server(o)
  local host, port = o.server, o.port
  if not host then
    local s = net.dns.servers()[1] or "127.0.0.1"
    local h, p = s:match("^%[(.*)%]:(%d+)$")
    if not h then h, p = s:match("^([^:]*):(%d+)$") end
    host, port = h or s, port or tonumber(p)
  else
    local bare = host:match("^%[(.*)%]$") or host
    local family, text = net.ip.parse(bare)
    -- "@ip:port" and "@[ipv6]:port": the port given there wins over -p
    local h, p = host:match("^%[(.+)%]:(%d+)$")
    if not h then h, p = host:match("^(%d+%.%d+%.%d+%.%d+):(%d+)$") end
    if h and net.ip.parse(h) and tonumber(p) >= 1 and tonumber(p) <= 65535 then
      family, text, port = net.ip.parse(h), select(2, net.ip.parse(h)), tonumber(p)
    end
    if family then
      host = text
    elseif is_hostname(host) then
      local addrs, err = net.resolve(host, { timeout = o.timeout })
      if not addrs then return nil, "couldn't get address for '" .. host .. "': " .. err end
      host = addrs[1]
    else
      return nil, "couldn't get address for '" .. host .. "': not a host name"
        .. (host:find("^[%w.-]+:%d+$") and " (a name's port goes in -p PORT)" or "")
    end
  end
  port = port or 53
  local spec = host:find(":", 1, true) and ("[" .. host .. "]:" .. port) or (host .. ":" .. port)
  return { host = host, port = port, spec = spec }
end

--- s followed by tabs up to column col (dig's layout), or nil if s is wider.
local function tabbed(s, col)
  if #s >= col then return nil end
  local pos, out = #s, { s }
  while pos < col do
    pos = (pos // 8 + 1) * 8
    out[#out + 1] = "\t"
  end
  return table.concat(out)
end

--- A name with its final dot, spaces shown as dig shows them (\\032).
local function fqdn(n)
  n = n:gsub(" ", "\\032")
  return n:sub(-1) == "." and n or n .. "."
end

--- One record as dig prints it.
local function record_line(r)
  local name = fqdn(r.name)
  local head = tabbed(name, 24)
  if not head then
    return string.format("%s %d IN %s %s", name, r.ttl, r.type, net.dns.rdata(r))
  end
  return string.format("%s%d\tIN\t%s\t%s", head, r.ttl, r.type, net.dns.rdata(r))
end

--- dig's status word for one of our failure messages (the cause after
--- the last ": "), or nil when the server was not reached.
local function status_word(err)
  local cause = err:match(".*: (.-)$") or err
  return ({ ["no such name"] = "NXDOMAIN", ["server failure"] = "SERVFAIL",
    ["refused"] = "REFUSED", ["not implemented by the server"] = "NOTIMP",
    ["format error"] = "FORMERR" })[cause]
end

--- The flags line of the header, from the answer's own flags.
local function flags_text(info)
  local f = info and info.flags or { qr = true, rd = true }
  local out = {}
  for _, k in ipairs { "qr", "aa", "tc", "rd", "ra" } do
    if f[k] then out[#out + 1] = k end
  end
  return table.concat(out, " ")
end

local function main(args)
  local o, err, code = options(args)
  if not o then
    io.stderr:write("dig.lua: ", err, "\n")
    if not code then io.stderr:write(USAGE, "\n") end
    return code or 2
  end
  if o.help then print(USAGE) return 0 end
  local server, serr = choose_server(o)
  if not server then
    io.stderr:write("dig.lua: ", serr, "\n")
    return 10
  end
  local t0 = net.now()
  local records, info, finfo = net.lookup(o.name, o.type,
    { server = server.spec, timeout = o.timeout, tries = o.tries, tcp = o.tcp })
  local ms = math.floor((net.now() - t0) * 1000 + 0.5)
  if not records then
    if info:find("invalid name", 1, true) then
      io.stderr:write("dig.lua: ", info, "\n")
      return 10
    end
    if not status_word(info) then  -- no answer: timeout, connection refused, ...
      local cause = info:match(".*: (.-)$") or info
      if cause == "timeout" then cause = "timed out" end
      print(";; communications error to " .. server.host .. "#" .. server.port .. ": " .. cause)
      print(";; no servers could be reached")
      return 9
    end
    info = finfo
  end
  if o.short then
    for _, r in ipairs(records and info.answers or {}) do print(net.dns.rdata(r)) end
    return records and 0 or 1
  end
  local status = info and info.rcode or "NOERROR"
  local answers = records and info.answers or {}
  print()
  print("; <<>> netlua dig.lua <<>> " .. table.concat(args, " "))
  print(";; Got answer:")
  print(";; ->>HEADER<<- opcode: QUERY, status: " .. status)
  print(";; flags: " .. flags_text(info) .. "; QUERY: 1, ANSWER: " .. #answers)
  print()
  print(";; QUESTION SECTION:")
  local q = ";" .. fqdn(o.qname or (info and info.name) or o.name)
  print((tabbed(q, 32) or (q .. " ")) .. "IN\t" .. o.type)
  print()
  if #answers > 0 then
    print(";; ANSWER SECTION:")
    for _, r in ipairs(answers) do print(record_line(r)) end
    print()
  end
  print(";; Query time: " .. ms .. " msec")
  print(";; SERVER: " .. server.host .. "#" .. server.port .. "(" .. server.host .. ") ("
    .. (o.tcp and "TCP" or "UDP") .. ")")
  print(";; WHEN: " .. os.date("%a %b %d %H:%M:%S %Z %Y"))
  print()
  return records and 0 or 1
end

os.exit(main(arg))
