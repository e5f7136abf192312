-- spec/explain_spec.lua: net.explain, the one-line meaning of SMTP and
-- HTTP reply codes (pure Lua, no sockets).
local net = require "net"
local explain = require "net.explain"

describe("net.explain", function()
  it("is callable as net.explain and as explain.explain", function()
    assert.are.equal("requested action completed", net.explain(250))
    assert.are.equal("requested action completed", explain.explain(250))
    assert.are.equal("requested action completed", explain(250))
  end)

  it("knows every SMTP and HTTP code it promises", function()
    local smtp = { 211, 214, 220, 221, 235, 250, 251, 252, 334, 354, 421, 450, 451, 452, 454,
      500, 501, 502, 503, 504, 530, 535, 550, 551, 552, 553, 554, 555 }
    local http = { 100, 101, 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401,
      403, 404, 405, 406, 408, 409, 410, 411, 413, 414, 415, 416, 426, 429, 431, 500, 501,
      502, 503, 504, 505 }
    for _, code in ipairs(smtp) do
      local text, proto = explain(code, "smtp")
      assert.is_string(text, code)
      assert.are.equal("smtp", proto)
      assert.is_nil(text:find("\n"))
    end
    for _, code in ipairs(http) do
      local text, proto = explain(code, "HTTP")
      assert.is_string(text, code)
      assert.are.equal("http", proto)
    end
  end)

  it("takes the code as a string, or a reply line starting with it", function()
    assert.are.equal("service ready", explain("220"))
    assert.are.equal("service ready", explain("220 mx.example.org ESMTP"))
    assert.are.equal("requested action completed", explain("250-PIPELINING"))
    assert.are.same({ "not found", "http" }, { explain("HTTP/1.1 404 Not Found") })
    assert.are.same({ "OK", "http" }, { explain("HTTP/1.0 200 OK", "http") })
  end)

  it("guesses without a protocol and labels codes both protocols have", function()
    assert.are.same({ "not found", "http" }, { explain(404) })
    assert.are.same({ "start mail input; end with <CRLF>.<CRLF>", "smtp" }, { explain(354) })
    local text, proto = explain(500)
    assert.are.equal("smtp/http", proto)
    assert.matches("^SMTP: syntax error.*; HTTP: internal server error$", text)
    assert.are.equal("internal server error", explain(500, "http"))
    assert.matches("^syntax error", explain(500, "smtp"))
  end)

  it("returns nil and a message for unknown codes and non-codes", function()
    assert.are.same({ nil, "unknown SMTP reply code 299 (2xx: success)" }, { explain(299, "smtp") })
    assert.are.same({ nil, "unknown HTTP reply code 250 (2xx: success)" }, { explain("250", "http") })
    assert.are.same({ nil, "unknown reply code 999" }, { explain(999) })
    assert.are.same({ nil, 'not a reply code: "hello"' }, { explain("hello") })
    assert.are.same({ nil, 'not a reply code: "2500"' }, { explain("2500") })
    assert.are.same({ nil, "not a reply code: 2.5" }, { explain(2.5) })
  end)

  it("raises on a bad argument, naming it", function()
    assert.has_error(function() explain({}) end,
      "bad argument #1 to 'explain' (number or string expected, got table)")
    assert.has_error(function() net.explain(nil) end,
      "bad argument #1 to 'explain' (number or string expected, got nil)")
    assert.has_error(function() explain(250, 1) end,
      "bad argument #2 to 'explain' (string expected, got number)")
    assert.has_error(function() explain(250, "gopher") end,
      "bad argument #2 to 'explain' (unknown protocol 'gopher')")
  end)
end)
