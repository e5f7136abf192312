-- spec/hardening_dns.lua (issue #12): hostile DNS answers. A fake server
-- (a net.udp socket in a task of this process, 127.0.0.1) answers every
-- query in one bad way; net.lookup and net.resolve must give a clean result
-- or nil and a message, within their timeout, and nothing else (under
-- `make asan-test SPECS=spec/hardening_dns.lua` no sanitizer report either).
-- The same port also answers over TCP (after TC), with the same way,
-- except for "the TC bit, nothing over TCP".
-- Ways: a wrong ID, the TC bit with nothing but TC over TCP too, a
-- compression loop, RDATA past the end, 1,000 records, a zero-byte reply,
-- a header only, a question only and a name pointer past the end.
local net = require "net"
local common = require "spec.support.common"

local TIMEOUT = 2

local function u16(n) return string.char(n >> 8 & 255, n & 255) end

-- The question section of query q (from byte 13), and its qtype.
local function question(q)
  local i = 13
  while q:byte(i) and q:byte(i) ~= 0 do i = i + q:byte(i) + 1 end
  local qtype = (q:byte(i + 1) or 0) << 8 | (q:byte(i + 2) or 0)
  return q:sub(13, i + 4), qtype
end

-- One answer record for the question's name (pointer to offset 12).
local function rr(qtype, i)
  if qtype == 28 then
    return "\xc0\x0c" .. u16(28) .. u16(1) .. "\0\0\0\60" .. u16(16)
      .. "\x20\x01\x0d\xb8" .. ("\0"):rep(10) .. u16(i)
  end
  return "\xc0\x0c" .. u16(1) .. u16(1) .. "\0\0\0\60" .. u16(4)
    .. string.char(10, 9, i >> 8 & 255, i & 255)
end

-- Header: id, flags, counts.
local function header(id, flags, qd, an)
  return id .. u16(flags) .. u16(qd) .. u16(an) .. u16(0) .. u16(0)
end

-- The bad answers, each a function(query) -> datagram or nil (no answer).
local NO_TCP = { ["the TC bit, nothing over TCP"] = true }
local BAD = {
  ["a wrong ID"] = function(q)
    local qs, qt = question(q)
    local id = u16(((q:byte(1) << 8 | q:byte(2)) ~ 0x5a5a) & 0xffff)
    return header(id, 0x8180, 1, 1) .. qs .. rr(qt, 1)
  end,
  ["the TC bit, and TC over TCP too"] = function(q)
    local qs = question(q)
    return header(q:sub(1, 2), 0x8380, 1, 0) .. qs
  end,
  ["a compression loop"] = function(q)
    local qs = question(q)
    local off = 12 + #qs  -- the answer's name points at itself
    return header(q:sub(1, 2), 0x8180, 1, 1) .. qs .. u16(0xc000 | off)
      .. u16(1) .. u16(1) .. "\0\0\0\60" .. u16(4) .. "\1\2\3\4"
  end,
  ["a two-pointer compression loop"] = function(q)
    local qs = question(q)
    local off = 12 + #qs
    -- name A: label "a", then pointer to B; B: pointer to A
    return header(q:sub(1, 2), 0x8180, 1, 1) .. qs .. "\1a" .. u16(0xc000 | (off + 4))
      .. u16(0xc000 | off) .. u16(1) .. u16(1) .. "\0\0\0\60" .. u16(4) .. "\1\2\3\4"
  end,
  ["RDATA past the end"] = function(q)
    local qs, qt = question(q)
    return header(q:sub(1, 2), 0x8180, 1, 1) .. qs .. "\xc0\x0c" .. u16(qt) .. u16(1)
      .. "\0\0\0\60" .. u16(200) .. "\1\2\3\4"
  end,
  ["1,000 records"] = function(q)
    local qs, qt = question(q)
    local t = {}
    for i = 1, 1000 do t[i] = rr(qt, i) end
    return header(q:sub(1, 2), 0x8180, 1, 1000) .. qs .. table.concat(t)
  end,
  ["1,000 records over TCP (after TC over UDP)"] = function(q, tcp)
    local qs, qt = question(q)
    if not tcp then return header(q:sub(1, 2), 0x8380, 1, 0) .. qs end
    local t = {}
    for i = 1, 1000 do t[i] = rr(qt, i) end
    return header(q:sub(1, 2), 0x8180, 1, 1000) .. qs .. table.concat(t)
  end,
  ["the TC bit, nothing over TCP"] = function(q)
    local qs = question(q)
    return header(q:sub(1, 2), 0x8380, 1, 0) .. qs
  end,
  ["a zero-byte reply"] = function() return "" end,
  ["a header only, counts saying more"] = function(q)
    return header(q:sub(1, 2), 0x8180, 1, 5)
  end,
  ["a name pointer past the end"] = function(q)
    local qs = question(q)
    return header(q:sub(1, 2), 0x8180, 1, 1) .. qs .. "\xff\xff" .. u16(1) .. u16(1)
      .. "\0\0\0\60" .. u16(4) .. "\1\2\3\4"
  end,
  ["a label running past the end"] = function(q)
    local qs = question(q)
    return header(q:sub(1, 2), 0x8180, 1, 1) .. qs .. "\63abc"
  end,
}

describe("hostile DNS answers", function()
  common.guard_fds(setup, teardown)

  local names = {}
  for name in pairs(BAD) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    it("gives a clean result or error for " .. name, function()
      -- a port free for both UDP and TCP (the TCP listener comes first)
      local u, tl, port
      for _ = 1, 20 do
        tl = assert(net.listen("127.0.0.1", 0))
        _, port = tl:getsockname()
        u = assert(net.udp())
        if u:bind("127.0.0.1", port) then break end
        u:close(); tl:close(); u = nil
      end
      assert(u, "no port free for UDP and TCP")
      tl:close()  -- net.serve takes the port again at once below
      local served = 0
      local task = net.spawn(function()
        while true do
          local q, host, qport = u:receivefrom()
          if not q then return end
          served = served + 1
          if #q >= 12 then
            local a = BAD[name](q)
            if a then u:sendto(a, host, qport) end
          end
        end
      end)
      -- over TCP (after TC), the same answers, length-prefixed
      local tsrv, terr = nil, nil
      if not NO_TCP[name] then tsrv, terr = net.serve("127.0.0.1", port, function(c)
        while true do
          local len = c:receive(2)
          if not len then return end
          local q = c:receive(len:byte(1) << 8 | len:byte(2))
          if not q or #q < 12 then return end
          served = served + 1
          local a = BAD[name](q, true)
          if not a then return end
          c:send(u16(#a) .. a)
        end
      end)
      end
      if not NO_TCP[name] and not tsrv then u:close(); task:cancel(); error(terr) end
      local opts = { server = "127.0.0.1:" .. port, timeout = TIMEOUT }
      local results = {}
      for _, call in ipairs({
        function() return net.lookup("bad.test", "A", opts) end,
        function() return net.lookup("bad.test", "AAAA", opts) end,
        function() return net.resolve("bad.test", opts) end,
      }) do
        local t0 = net.now()
        local ok, r, err = pcall(call)
        local took = net.now() - t0
        assert(ok, "raised: " .. tostring(r))
        if r == nil then
          assert.is_string(err)
          assert.is_true(#err > 0)
        else
          assert.is_table(r)
        end
        assert.is_true(took < TIMEOUT + 1.5, string.format("took %.2f s", took))
        results[#results + 1] = string.format("%s (%.2f s)",
          r and (#r .. " records") or err, took)
      end
      print("\n  " .. name .. ": " .. table.concat(results, "; "))
      assert.is_true(served > 0)
      task:cancel()
      u:close()
      if tsrv then tsrv:close() end
    end)
  end
end)
