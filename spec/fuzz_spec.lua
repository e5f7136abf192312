-- spec/fuzz_spec.lua: one spec per bug found by fuzzing (src/fuzz/) that
-- is reachable from Lua, named after its crash file in spec/fuzz/TARGET/
-- (make fuzz-replay replays those files through the targets themselves).
local net = require "net"

describe("found by fuzzing", function()
  -- spec/fuzz/dns/crash-caa-tag-control.bin: a CAA record whose tag holds
  -- DEL and other control bytes was printed raw by net.dns.rdata and
  -- tostring(record), straight to the terminal.
  it("crash-caa-tag-control: rdata escapes a CAA tag's control bytes and spaces", function()
    local rec = { type = "CAA", flags = 0, tag = "\127is\27[2Jsue x\0", value = "v\n" }
    local text = net.dns.rdata(rec)
    assert.are.equal('0 \\127is\\027[2Jsue\\032x\\000 "v\\010"', text)
    assert.is_nil(text:find("[%c\127]"))
    assert.are.equal('0 issue "letsencrypt.org"',
      net.dns.rdata({ type = "CAA", flags = 0, tag = "issue", value = "letsencrypt.org" }))
  end)
end)
