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

  -- spec/fuzz/transcript/crash-utf8-c1-csi.txt: U+009B (CSI) in valid
  -- UTF-8 passed through transcript.visible, so a peer could move the
  -- cursor or clear the screen of whoever reads the transcript.
  it("crash-utf8-c1-csi: the transcript escapes C1 controls inside UTF-8", function()
    local t = require "net.transcript"
    assert.are.equal("ok \\xc2\\x9b2J caf\u{e9}", t.visible("ok \u{9b}2J caf\u{e9}"))
    assert.are.equal("\\xc2\\x85", t.visible("\xc2\x85"))
    local lines = t.format("receive", "250 \u{9b}31m ok\r\n", nil, { colored = false })
    assert.are.equal("<- 250 \\xc2\\x9b31m ok", lines[1])
  end)

  -- spec/fuzz/http_response/crash-header-control-bytes.http: a response
  -- header value with control bytes (here ESC and DC1) is kept, as RFC 9110
  -- allows, but tostring(headers), which the prompt prints, gave them raw.
  it("crash-header-control-bytes: tostring(headers) escapes control bytes", function()
    local http = require "net.http"
    local h = http.headers()
    h["X-A"] = "1 2\0170\27[2J"
    h["Server"] = "nginx"
    assert.are.equal("X-A: 1 2\\x110\\x1b[2J\nServer: nginx", tostring(h))
    assert.are.equal("1 2\0170\27[2J", h["x-a"])
  end)
end)
