--[[
nslookup.lua: ask a DNS server about a name and print what nslookup prints
(non-interactive mode): the Server and Address lines, "Non-authoritative
answer:" when the answer is not from the zone's own server, then the
records in nslookup's forms (Name/Address, mail exchanger = ..., text = ...,
and so on). An address instead of a name asks for its PTR record.

  netlua scripts/nslookup.lua www.example.org
  netlua scripts/nslookup.lua -type=MX example.org 9.9.9.9
  netlua scripts/nslookup.lua -port=5353 www.test 127.0.0.1
  netlua scripts/nslookup.lua www.test 127.0.0.1:5353
  netlua scripts/nslookup.lua www.test @127.0.0.1:5353      (dig's form)

Exits 0 when the server answered (even with no record of the type), 1 when
the name does not exist or the server failed, refused or never answered,
2 on a bad option.
]]

local net = require "net"

local USAGE = [[
usage: nslookup.lua [options] NAME [SERVER]
Look NAME up (A and AAAA unless -type is given; an address: its PTR) and
print the answer as nslookup does. SERVER (or @SERVER, as dig takes it) is
an address, ADDRESS:PORT ([IPv6]:PORT) or a host name (found with the
system's resolver; default: the system's first resolver, from
/etc/resolv.conf).
  -type=T, -query=T, -q=T   record type: A AAAA MX TXT NS CNAME SOA SRV PTR CAA
  -port=N                   the server's port (default 53)
  -timeout=S                give up after S seconds in all (default 5)
  -retry=N                  tries per server within the time (default 2)
  -vc                       ask over TCP
  --help                    this text]]

local TYPES = { A = 1, AAAA = 1, MX = 1, TXT = 1, NS = 1, CNAME = 1, SOA = 1,
  SRV = 1, PTR = 1, CAA = 1 }

--- Options and arguments from the command line, or nil, message.
local function options(args)
  local o = { timeout = 5 }
  local pos = {}
  for _, a in ipairs(args) do
    local k, v = a:match("^%-(%a+)=(.*)$")
    if a == "--help" or a == "-h" or a == "-help" then o.help = true
    elseif a == "-vc" then o.tcp = true
    elseif k == "type" or k == "query" or k == "q" or k == "querytype" then o.type = v:upper()
    elseif k == "port" then
      o.port = tonumber(v)
      if not o.port or o.port < 1 or o.port > 65535 or o.port % 1 ~= 0 then
        return nil, "bad port: " .. v
      end
    elseif k == "timeout" then
      o.timeout = tonumber(v)
      if not o.timeout or o.timeout <= 0 then return nil, "bad timeout: " .. v end
    elseif k == "retry" then
      o.tries = math.tointeger(tonumber(v))
      if not o.tries or o.tries < 1 then return nil, "bad retry: " .. v end
    elseif a:sub(1, 1) == "-" and #a > 1 then return nil, "unknown option: " .. a
    else pos[#pos + 1] = a end
  end
  if o.help then return o end
  if o.type and not TYPES[o.type] then return nil, "unknown record type " .. o.type end
  if #pos < 1 or #pos > 2 then return nil, "expected NAME [SERVER]" end
  o.name, o.server = pos[1], pos[2]
  if o.server and o.server:sub(1, 1) == "@" then o.server = o.server:sub(2) end
  return o
end

--- "host" and "host:port" (brackets for IPv6) for an address and port.
local function server_text(host, port)
  if host:find(":", 1, true) then return "[" .. host .. "]:" .. port end
  return host .. ":" .. port
end

--- An "ip:port" or "[ipv6]:port" server argument split into address and
--- port; nil when s is not in that form (a bare address or a name).
local function split_hostport(s)
  local h, p = s:match("^%[(.+)%]:(%d+)$")
  if not h then h, p = s:match("^(%d+%.%d+%.%d+%.%d+):(%d+)$") end
  if not h or not net.ip.parse(h) then return nil end
  p = tonumber(p)
  if p < 1 or p > 65535 then return nil end
  return h, p
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

--- The server to ask: { host, port, spec } where spec is for net opts.
--- SERVER may be an address, "ip:port", "[ipv6]:port" (that port wins over
--- -port) or a host name (found with the system's resolver); anything else
--- is refused before a query is sent: nil, message, 2.
local function choose_server(o)
  local host = o.server
  if host then
    local h, p = split_hostport(host)
    if h then host, o.port = h, p end
  end
  if not host then
    local s = net.dns.servers()[1] or "127.0.0.1"
    local h, p = s:match("^%[(.*)%]:(%d+)$")
    if not h then h, p = s:match("^([^:]*):(%d+)$") end
    host = h or s
    o.port = o.port or tonumber(p)
  end
  local family, text = net.ip.parse(host:match("^%[(.*)%]$") or host)
  if family then
    host = text
  elseif is_hostname(host) then  -- a server given by name: the system's resolver finds it
    local addrs, err = net.resolve(host, { timeout = o.timeout })
    if not addrs then return nil, err, 1 end
    host = addrs[1]
  else
    return nil, "not an address, ADDRESS:PORT ([IPv6]:PORT) or host name"
      .. (host:find("^[%w.-]+:%d+$") and " (a name's port goes in -port=N)" or ""), 2
  end
  local port = o.port or 53
  return { host = host, port = port, spec = server_text(host, port) }
end

--- True when s is an IPv4 or IPv6 address literal.
local function is_address(s)
  return net.ip.parse(s) ~= nil
end

--- nslookup's name for a failure cause in our messages (the cause after
--- the last ": "), or nil when the server was not reached.
local function rcode_word(err)
  local cause = err:match(".*: (.-)$") or err
  return ({ ["no such name"] = "NXDOMAIN", ["server failure"] = "SERVFAIL",
    ["refused"] = "REFUSED", ["not implemented by the server"] = "NOTIMP",
    ["format error"] = "FORMERR", ["no PTR record"] = "NXDOMAIN" })[cause]
end

--- Print one record the way nslookup does.
local function print_record(r)
  local t = r.type
  if t == "A" or t == "AAAA" then
    print("Name:\t" .. r.name)
    print("Address: " .. r.address)
  elseif t == "SOA" then
    print(r.name)
    print("\torigin = " .. r.mname)
    print("\tmail addr = " .. r.rname)
    for _, k in ipairs { "serial", "refresh", "retry", "expire", "minimum" } do
      print("\t" .. k .. " = " .. r[k])
    end
  else
    local label = ({ CNAME = "canonical name", MX = "mail exchanger", TXT = "text",
      NS = "nameserver", PTR = "name", SRV = "service", CAA = "rdata_257" })[t]
      or ("rdata_" .. (t:match("^TYPE(%d+)$") or t))
    print(r.name .. "\t" .. label .. " = " .. net.dns.rdata(r))
  end
end

--- Ask for one type; prints what it finds. Returns "ok", "empty" or nil, err.
local function ask(o, server, name, rtype, shown)
  local records, info = net.lookup(name, rtype,
    { server = server.spec, timeout = o.timeout, tries = o.tries, tcp = o.tcp })
  if not records then return nil, info end
  if not shown.header then
    shown.header = true
    if not info.authoritative then print("Non-authoritative answer:") end
  end
  for _, r in ipairs(info.answers) do
    if r.type == "CNAME" and rtype ~= "CNAME" and not shown[r.name] then
      shown[r.name] = true
      print_record(r)
    end
  end
  for _, r in ipairs(records) do print_record(r) end
  return #records > 0 and "ok" or "empty"
end

--- Print a failure as nslookup does; returns the exit status.
local function report_failure(server, name, err)
  local word = rcode_word(err)
  if word then
    print("** server can't find " .. name .. ": " .. word)
    print()
  elseif err:find("invalid name", 1, true) then
    print(";; " .. err)
    print()
  else  -- the server was not reached: timeout, connection refused, ...
    local cause = err:match(".*: (.-)$") or err
    if cause == "timeout" then cause = "timed out" end
    print(";; communications error to " .. server.host .. "#" .. server.port .. ": " .. cause)
    print(";; no servers could be reached")
    print()
  end
  return 1
end

--- The reverse-lookup name of an address (as nslookup shows it).
local function arpa_of(addr)
  local family, text = net.ip.parse(addr)
  if family == "inet" then
    local a, b, c, d = text:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    return d .. "." .. c .. "." .. b .. "." .. a .. ".in-addr.arpa"
  end
  return addr
end

local function main(args)
  local o, err = options(args)
  if not o then
    io.stderr:write("nslookup.lua: ", err, "\n", USAGE, "\n")
    return 2
  end
  if o.help then print(USAGE) return 0 end
  local server, serr, scode = choose_server(o)
  if not server then
    io.stderr:write("nslookup.lua: cannot use server ", o.server or "?", ": ", serr or "not an address", "\n")
    return scode or 1
  end
  local name, types = o.name, nil
  local reverse = not o.type and is_address(name)
  if o.type then types = { o.type }
  elseif reverse then types = { "PTR" }
  else types = { "A", "AAAA" } end
  if not reverse then  -- nslookup leaves these out for a reverse lookup
    print("Server:\t\t" .. server.host)
    print("Address:\t" .. server.host .. "#" .. server.port)
    print()
  end
  local shown, found = {}, false
  for _, t in ipairs(types) do
    local ok, status, lerr = pcall(ask, o, server, name, t, shown)
    if not ok then
      io.stderr:write("nslookup.lua: ", status, "\n")
      return 2
    end
    if not status then
      -- the A answer stands when the AAAA question fails (nslookup's way)
      if found then break end
      return report_failure(server, reverse and arpa_of(name) or name, lerr)
    end
    found = found or status == "ok"
  end
  if not found then print("*** Can't find " .. name .. ": No answer") end
  print()
  return 0
end

os.exit(main(arg))
