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

  -- spec/fuzz/http_request/crash-empty-lines-split-cr.http: four empty lines
  -- before a request are refused ("no request line"), but when a read ended
  -- between the CR and the LF of one, the empty lines skipped so far were
  -- not counted (src/httphead.c) and the outcome depended on the split.
  it("crash-empty-lines-split-cr: empty lines before a request count however the bytes come", function()
    local net = require "net"
    local serve = require "net.httpserve"
    local s = assert(net.listen("127.0.0.1", 0))
    local _, port = s:getsockname()
    local function outcome(pieces)
      local c <close> = assert(net.connect("127.0.0.1", port))
      local a <close> = assert(s:accept(5))
      net.spawn(function()
        for _, p in ipairs(pieces) do c:send(p) net.sleep(0.05) end
      end)
      local req, status, why = serve.read_request(a, { timeout = 5 })
      return tostring(req) .. " " .. tostring(status) .. " " .. tostring(why)
    end
    local rest = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    assert.are.equal("nil 400 no request line", outcome { "\r\n\r\n\n\r\n" .. rest })
    assert.are.equal("nil 400 no request line", outcome { "\r\n\r\n\n\r", "\n" .. rest })
    assert.are.equal("nil 400 no request line", outcome { "\r", "\n\r", "\n\n\r", "\n" .. rest })
    assert.is_truthy(outcome { "\r\n\r", "\n" .. rest }):find("^table")
    s:close()
  end)
end)
