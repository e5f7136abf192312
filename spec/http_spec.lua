-- spec/http_spec.lua: net.url unit cases, and the net.http client against
-- real peers on loopback: nginx (spec/support/http_helper.lua) and servers
-- written with `net` that send well- and ill-formed replies. Every wait is
-- bounded; no fd may leak; nothing but 127.0.0.1 and ::1 is contacted.
local net = require "net"
local common = require "spec.support.common"
local helper = require "spec.support.http_helper"
local tcp_helper = require "spec.support.tcp_helper"
local url = require "net.url"
local http = net.http

local timed = common.timed

local closed_port = common.closed_port

local open_fds = common.open_fds

-- The response bytes "HTTP/1.1 200 OK" with header lines and body.
local function reply(head, body)
  return "HTTP/1.1 200 OK\r\n" .. head .. "\r\n" .. (body or "")
end

describe("net.url", function()
  it("takes apart an IPv6 literal URL with port, query and fragment", function()
    local u = assert(url.parse("http://[::1]:8080/x/y?a=1&b#frag"))
    assert.are.same({ scheme = "http", host = "::1", port = 8080, path = "/x/y", query = "a=1&b",
      fragment = "frag", ipv6 = true, default_port = false }, u)
    assert.are.equal("/x/y?a=1&b", url.target(u))
    assert.are.equal("[::1]:8080", url.authority(u))
    assert.are.equal("http://[::1]:8080/x/y?a=1&b#frag", url.build(u))
  end)

  it("fills default ports and the root path, lower-cases the scheme, keeps userinfo", function()
    local u = assert(url.parse("HTTP://user:pw@example.test"))
    assert.are.equal("http", u.scheme)
    assert.are.equal(80, u.port)
    assert.is_true(u.default_port)
    assert.are.equal("/", u.path)
    assert.are.equal("user:pw", u.userinfo)
    assert.are.equal("example.test", url.authority(u))
    assert.are.equal(443, url.parse("https://h/").port)
    assert.are.equal(80, url.parse("http://h:/").port)
    assert.are.equal("h:8443", url.authority(url.parse("https://h:8443/")))
    assert.are.equal("", url.parse("http://h/p?").query)
    assert.is_nil(url.parse("http://h/p").query)
  end)

  for _, case in ipairs({
    { "example.org/x", "no scheme" },
    { "http:///x", "empty host" },
    { "http://:80/", "empty host" },
    { "http://h:8o/", 'bad port "8o"' },
    { "http://h:70000/", "port 70000 out of range" },
    { "http://h:0/", "port 0 out of range" },
    { "http://a b/", "contains a space or control character" },
    { "http://h/\r\nX: y", "contains a space or control character" },
    { "http://[zz]/", "bad IPv6 literal" },
    { "http://[::1]junk/", "junk after IPv6 literal" },
    { "http://h\"/", "bad character in host" },
  }) do
    it("refuses " .. string.format("%q", case[1]):gsub("\\\n", "\\n") .. " naming the URL and the problem", function()
      local u, err = url.parse(case[1])
      assert.is_nil(u)
      assert.are.equal("url ", err:sub(1, 4))
      assert.truthy(err:find(case[1]:sub(1, 6), 1, true), err)
      assert.truthy(err:find(case[2], 1, true), err)
    end)
  end

  it("splits the fragment off before the query", function()
    local u = assert(url.parse("http://h/p#frag?x"))
    assert.are.same({ "/p", nil, "frag?x" }, { u.path, u.query, u.fragment })
    u = assert(url.parse("http://[::1]"))
    assert.are.same({ "::1", 80, "/", "http://[::1]/" }, { u.host, u.port, u.path, url.build(u) })
  end)

  it("raises on a URL that is not a string", function()
    assert.has_error(function() url.parse(42) end, "bad argument #1 to 'parse' (string expected, got number)")
  end)

  it("resolves a Location against the URL it came from", function()
    local base = "http://h:81/a/b?x"
    assert.are.equal("http://h:81/target", url.resolve(base, "/target"))
    assert.are.equal("http://o/x", url.resolve(base, "http://o/x"))
    assert.are.equal("http://o2/y", url.resolve(base, "//o2/y"))
    assert.are.equal("http://h:81/a/b?q", url.resolve(base, "?q"))
    assert.are.equal("http://h:81/a/c", url.resolve(base, "c"))
    assert.are.equal("http://h:81/c", url.resolve(base, "../c"))
    assert.are.equal("http://h:81/a/e", url.resolve(base, "./d/../e"))
    assert.are.equal("http://[::1]:8/z", url.resolve("http://[::1]:8/y", "z"))
  end)

  it("percent-encodes and decodes", function()
    assert.are.equal("a%20b%2Fc%3F%C3%A9", url.encode("a b/c?\xc3\xa9"))
    assert.are.equal("a%20b/c", url.encode("a b/c", "/"))
    assert.are.equal("a b/c?", url.decode("a%20b%2Fc%3f"))
    assert.are.equal("100%", url.decode("100%"))
  end)
end)

describe("net.http", function()
  local fds_before, nginx, base
  setup(function()
    net.run()
    collectgarbage(); collectgarbage()
    fds_before = common.count_fds()
    nginx = helper.nginx()
    base = "http://127.0.0.1:" .. nginx.port
  end)
  teardown(function()
    if nginx then nginx.stop() end
    net.run()
    collectgarbage(); collectgarbage()
    assert.are.equal(fds_before, common.count_fds())
  end)
  after_each(function()
    net.sleep(0.01)
  end)

  describe("against nginx", function()
    it("gets a file: status, headers in any case, body", function()
      local status, h, body, reason = http.get(base .. "/file", { timeout = 5 })
      assert.are.equal(200, status)
      assert.are.equal("OK", reason)
      assert.are.equal(tcp_helper.body(), body)
      assert.are.equal("100000", h["content-length"])
      assert.are.equal("100000", h["Content-Length"])
      assert.are.equal("100000", h["CONTENT-LENGTH"])
      assert.are.equal("100000", rawget(h, "Content-Length"))
      assert.is_nil(h["x-not-there"])
    end)

    it("keeps header names as received, in order, for pairs and tostring", function()
      local _, h = http.get(base .. "/index.html", { timeout = 5 })
      local names = {}
      for k in pairs(h) do names[#names + 1] = k end
      assert.are.equal("Server", names[1])
      assert.truthy(table.concat(names, " "):find("Content-Type Content-Length", 1, true))
      assert.matches("^Server: nginx", tostring(h))
      assert.matches("\nContent%-Length: 17\n", tostring(h))
    end)

    it("returns a 404 as a status, not a failure", function()
      local status, h, body = http.get(base .. "/missing", { timeout = 5 })
      assert.are.equal(404, status)
      assert.are.equal("text/html", h["content-type"])
      assert.matches("404 Not Found", body)
    end)

    it("reads no body after HEAD though Content-Length is given", function()
      local status, h, body = http.request { method = "HEAD", url = base .. "/file", timeout = 5 }
      assert.are.equal(200, status)
      assert.are.equal("100000", h["content-length"])
      assert.are.equal("", body)
    end)

    for _, host in ipairs({ "[::1]", "localhost" }) do
      it("gets over " .. host, function()
        local status, _, body = http.get("http://" .. host .. ":" .. nginx.port .. "/index.html", { timeout = 5 })
        assert.are.equal(200, status)
        assert.are.equal("hello from nginx\n", body)
      end)
    end

    it("reads a chunked body (nginx SSI)", function()
      local status, h, body = http.get(base .. "/chunked.html", { timeout = 5 })
      assert.are.equal(200, status)
      assert.are.equal("chunked", h["transfer-encoding"])
      assert.is_nil(h["content-length"])
      assert.are.equal(helper.chunked_body, body)
    end)

    it("does not follow a redirect unless asked", function()
      local status, h = http.get(base .. "/redirect", { timeout = 5 })
      assert.are.equal(301, status)
      assert.are.equal(base .. "/target", h.location)
      status, h = http.get(base .. "/redirect", { timeout = 5, redirects = 0 })
      assert.are.equal(301, status)
    end)

    it("follows redirects when asked, absolute and relative, over IPv6 too", function()
      for _, u in ipairs({ base .. "/redirect", base .. "/relative", "http://[::1]:" .. nginx.port .. "/redirect" }) do
        local status, _, body = http.get(u, { timeout = 5, redirects = true })
        assert.are.equal(200, status, u)
        assert.are.equal("you found the target\n", body)
      end
    end)

    it("turns a POST into a GET after 303 and keeps it after 307", function()
      -- the request lines the client sent, from the transcript
      local function sent_lines(r)
        local lines = {}
        r.trace = function(line) if line:find("^ %-> %u+ /") then lines[#lines + 1] = line end end
        return http.request(r), lines
      end
      local status, sent = sent_lines { method = "POST", url = base .. "/see-other", body = "x=1",
        redirects = 2, timeout = 5 }
      assert.are.equal(200, status)
      assert.are.same({ " -> POST /see-other HTTP/1.1", " -> GET /target HTTP/1.1" }, sent)
      status, sent = sent_lines { method = "POST", url = base .. "/temporary", body = "x=1",
        redirects = 2, timeout = 5 }
      assert.are.equal(405, status)  -- nginx refuses POST to a static file: the method was kept
      assert.are.same({ " -> POST /temporary HTTP/1.1", " -> POST /target HTTP/1.1" }, sent)
    end)

    it("stops after the given number of hops", function()
      local ok, err, kind = http.get(base .. "/loop", { timeout = 5, redirects = 3 })
      assert.is_nil(ok)
      assert.are.equal("redirect", kind)
      assert.are.equal("127.0.0.1:" .. nginx.port .. ": too many redirects (3), last to /loop", err)
    end)

    it("sends only the final body to the sink when following redirects", function()
      local parts = {}
      local status, _, n = http.get(base .. "/redirect", { timeout = 5, redirects = 1,
        sink = function(chunk) parts[#parts + 1] = chunk end })
      assert.are.equal(200, status)
      assert.are.equal(21, n)
      assert.are.same({ "you found the target\n" }, parts)
    end)

    it("keeps each Set-Cookie value apart in http.values", function()
      local status, h = http.get(base .. "/cookies", { timeout = 5 })
      assert.are.equal(200, status)
      assert.are.same({ "a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT", "b=2" }, http.values(h, "set-cookie"))
      assert.are.equal("a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT, b=2", h["Set-Cookie"])
    end)

    it("writes the body to a function, a file or a path and returns the byte count", function()
      local parts, ended = {}, false
      local status, _, n = http.get(base .. "/file", { timeout = 5, sink = function(s)
        if s then parts[#parts + 1] = s else ended = true end
      end })
      assert.are.equal(200, status)
      assert.are.equal(100000, n)
      assert.is_true(ended)
      assert.are.equal(tcp_helper.body(), table.concat(parts))
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      assert.are.equal(100000, select(3, http.get(base .. "/file", { timeout = 5, output = f })))
      f:close()
      f = assert(io.open(path, "rb")); assert.are.equal(tcp_helper.body(), f:read("a")); f:close()
      os.remove(path)
      assert.are.equal(17, select(3, http.get(base .. "/index.html", { timeout = 5, sink = path })))
      f = assert(io.open(path, "rb")); assert.are.equal("hello from nginx\n", f:read("a")); f:close()
      os.remove(path)
    end)

    it("shows the whole dialogue as a transcript", function()
      local lines = {}
      http.get(base .. "/index.html", { timeout = 5, trace = function(l) lines[#lines + 1] = l end })
      assert.are.equal("*** connecting to 127.0.0.1:" .. nginx.port .. " (127.0.0.1)", lines[1])
      assert.matches("^%*%*%* connected %(127%.0%.0%.1:%d+ %-> 127%.0%.0%.1:" .. nginx.port .. "%)$", lines[2])
      assert.are.equal(" -> GET /index.html HTTP/1.1", lines[3])
      assert.are.equal(" -> Host: 127.0.0.1:" .. nginx.port, lines[4])
      assert.truthy(lines[#lines - 1] == "<- hello from nginx")
      assert.are.equal("*** closed", lines[#lines])
    end)

    it("downloads 100 MiB to a path in a separate netlua whose peak memory stays small", function()
      local big = nginx.dir .. "/www/big.bin"
      local sum = helper.random_file(big, 100)
      local out = nginx.dir .. "/big.out"
      local script = nginx.dir .. "/download.lua"
      local f = assert(io.open(script, "w"))
      f:write([[
local net = require "net"
local status, _, n = net.http.get(arg[1], { sink = arg[2], timeout = 60 })
local s = io.open("/proc/self/status"):read("a")
print(status, n, s:match("VmHWM:%s*(%d+)"))
]])
      f:close()
      -- (under AddressSanitizer freed chunks wait in its quarantine: none here)
      local ok, code, stdout, stderr = common.run("ASAN_OPTIONS=\"$ASAN_OPTIONS:quarantine_size_mb=0\" " ..
        common.q(common.netlua) .. " " .. script .. " " ..
        base .. "/big.bin " .. out)
      assert.is_true(ok, stderr)
      assert.are.equal(0, code)
      local status, n, hwm = stdout:match("^(%d+)\t(%d+)\t(%d+)")
      assert.are.equal("200", status)
      assert.are.equal(100 * 1024 * 1024, tonumber(n))
      assert.are.equal(sum, helper.sha256(out))
      assert.is_true(tonumber(hwm) < 40 * 1024, "peak memory " .. hwm .. " KiB")
      os.remove(big); os.remove(out)
    end)
  end)

  describe("against servers in the spec", function()
    local servers = {}
    -- A raw server that is closed after the test.
    local function raw(answer, host)
      local s = helper.raw_server(answer, host)
      servers[#servers + 1] = s
      return s, "http://" .. (host == "::1" and "[::1]" or "127.0.0.1") .. ":" .. s.port
    end
    after_each(function()
      for _, s in ipairs(servers) do s.close() end
      servers = {}
    end)

    it("sends Host (with port, IPv6 in brackets), Connection: close and the caller's headers", function()
      local s, u = raw(reply("Content-Length: 2\r\n", "ok"), "::1")
      local status, _, body = http.request { url = u .. "/p?q=1#frag", timeout = 5,
        headers = { ["X-Test"] = "yes", ["user-agent"] = "mine" } }
      assert.are.equal(200, status)
      assert.are.equal("ok", body)
      local req = s.requests[1]
      assert.are.equal("GET /p?q=1 HTTP/1.1", req.line)
      assert.are.equal("[::1]:" .. s.port, req.headers.host)
      assert.are.equal("close", req.headers.connection)
      assert.are.equal("yes", req.headers["x-test"])
      assert.are.equal("mine", req.headers["user-agent"])
      assert.is_nil(req.headers["content-length"])
    end)

    it("sends a body with its Content-Length, and Basic auth from the URL", function()
      local s, u = raw(reply("Content-Length: 0\r\n"))
      local status = http.request { method = "PUT", url = u:gsub("//", "//al%%20i:pw@") .. "/up",
        body = "hello body", timeout = 5 }
      assert.are.equal(200, status)
      local req = s.requests[1]
      assert.are.equal("PUT /up HTTP/1.1", req.line)
      assert.are.equal("10", req.headers["content-length"])
      assert.are.equal("hello body", req.body)
      assert.are.equal("Basic " .. http.base64("al i:pw"), req.headers.authorization)
      assert.are.equal("YWwgaTpwdw==", http.base64("al i:pw"))
    end)

    it("reads chunks with extensions, skips trailers, joins repeated headers", function()
      local _, u = raw(reply("Transfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n",
        "5;name=val\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer-X: t\r\n\r\n"))
      local status, h, body = http.get(u, { timeout = 5 })
      assert.are.equal(200, status)
      assert.are.equal("hello world", body)
      assert.are.equal("1, 2", h["X-A"])
      assert.is_nil(h["trailer-x"])
    end)

    it("joins an obsolete folded header line to its field with a space", function()
      local _, u = raw(reply("X-Fold: one\r\n  two\r\n\tthree\r\nX-Fold: four\r\nContent-Length: 0\r\n"))
      local status, h = http.get(u, { timeout = 5 })
      assert.are.equal(200, status)
      assert.are.equal("one two three, four", h["x-fold"])
      assert.are.same({ "one two three", "four" }, http.values(h, "X-FOLD"))
    end)

    it("reads a body delimited by close, and skips an interim 100 response", function()
      local _, u = raw("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 Fine\r\nX: y\r\n\r\nuntil the end")
      local status, h, body, reason = http.get(u, { timeout = 5 })
      assert.are.same({ 200, "y", "until the end", "Fine" }, { status, h.x, body, reason })
    end)

    it("reads no body after 204 and 304, and accepts repeated equal Content-Lengths", function()
      for _, code in ipairs({ "204 No Content", "304 Not Modified" }) do
        local _, u = raw("HTTP/1.1 " .. code .. "\r\nContent-Length: 5\r\n\r\n")
        local status, _, body = http.get(u, { timeout = 2 })
        assert.are.equal(tonumber(code:sub(1, 3)), status)
        assert.are.equal("", body)
      end
      local _, u = raw(reply("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"))
      assert.are.equal("abc", select(3, http.get(u, { timeout = 5 })))
    end)

    for _, case in ipairs({
      { "a malformed status line", "HTTP/1.1 2OO OK\r\n\r\n", 'malformed status line "HTTP/1.1 2OO OK"' },
      { "a non-HTTP reply", "SSH-2.0-OpenSSH\r\n", 'malformed status line "SSH-2.0-OpenSSH"' },
      { "a malformed header", reply("Bad Header\r\n"), 'malformed header line "Bad Header"' },
      { "a space before the colon", reply("X-Y : z\r\n"), 'malformed header line "X-Y : z"' },
      { "a bad chunk size", reply("Transfer-Encoding: chunked\r\n", "zz\r\nhello\r\n0\r\n\r\n"),
        'bad chunk size line "zz"' },
      { "a chunk longer than its size", reply("Transfer-Encoding: chunked\r\n", "2\r\nhello\r\n0\r\n\r\n"),
        "chunk longer than its size (2 bytes)" },
      { "a body shorter than Content-Length", reply("Content-Length: 10\r\n", "short"),
        "body shorter than announced (5 of 10 bytes)" },
      { "two different Content-Lengths", reply("Content-Length: 3\r\nContent-Length: 4\r\n", "abcd"),
        'conflicting Content-Length values "3, 4"' },
      { "a Content-Length that is not a number", reply("Content-Length: -1\r\n", "abcd"),
        'malformed Content-Length "-1"' },
      { "both Transfer-Encoding and Content-Length", reply("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
        "3\r\nabc\r\n0\r\n\r\n"), "both Transfer-Encoding and Content-Length (refused)" },
      { "a close in the header section", "HTTP/1.1 200 OK\r\nX: y\r\n", "connection closed reading header section" },
      { "a close before any reply", "", "connection closed reading the status line" },
    }) do
      it("fails on " .. case[1] .. ", naming host:port and the problem", function()
        local s, u = raw(case[2])
        local ok, err = http.get(u .. "/", { timeout = 5 })
        assert.is_nil(ok)
        assert.are.equal("127.0.0.1:" .. s.port .. ": " .. case[3], err)
      end)
    end

    it("fails on a header section over 64 KiB and on an over-long line", function()
      local many = {}
      for i = 1, 800 do many[i] = ("X-H%d: %s\r\n"):format(i, ("v"):rep(90)) end
      local s, u = raw(reply(table.concat(many), ""))
      local ok, err = http.get(u, { timeout = 5 })
      assert.is_nil(ok)
      assert.are.equal("127.0.0.1:" .. s.port .. ": header section too large (over 65536 bytes)", err)
      s, u = raw(reply("X-Long: " .. ("v"):rep(20000) .. "\r\n", ""))
      ok, err = http.get(u, { timeout = 5 })
      assert.is_nil(ok)
      assert.are.equal("127.0.0.1:" .. s.port .. ": header section too large (a line over 16384 bytes)", err)
    end)

    it("times out against a silent server within the deadline", function()
      local s, u = raw(function() net.sleep(1.5) end)
      local dt, ok, err, kind = timed(http.get, u, { timeout = 0.3 })
      assert.is_nil(ok)
      assert.are.equal("timeout", kind)
      assert.are.equal("127.0.0.1:" .. s.port .. ": timeout reading the status line", err)
      assert.is_true(dt >= 0.29 and dt < 1, "took " .. dt)
    end)

    it("keeps the deadline for the whole request against a slow drip", function()
      local _, u = raw(function(c)
        c:send(reply("Content-Length: 100\r\n"))
        for _ = 1, 30 do
          if not c:send("x") then return end
          net.sleep(0.05)
        end
      end)
      local dt, ok, err, kind = timed(http.get, u, { timeout = 0.4 })
      assert.is_nil(ok)
      assert.are.equal("timeout", kind)
      assert.matches("timeout reading body$", err)
      assert.is_true(dt >= 0.39 and dt < 1, "took " .. dt)
    end)

    it("times out connecting to an address that never answers, naming it", function()
      local dead = helper.dead_server()
      local dt, ok, err, kind = timed(http.get, "http://127.0.0.2:" .. dead.port .. "/", { timeout = 0.3 })
      dead.close()
      assert.is_nil(ok)
      assert.are.equal("timeout", kind)
      assert.are.equal("127.0.0.2:" .. dead.port .. ": timeout connecting", err)
      assert.is_true(dt >= 0.29 and dt < 1, "took " .. dt)
    end)

    it("follows a redirect to https (here to a closed port)", function()
      local _, u = raw("HTTP/1.1 302 Found\r\nLocation: https://127.0.0.1:1/secure\r\nContent-Length: 0\r\n\r\n")
      local ok, err, kind = http.get(u, { timeout = 5, redirects = true })
      assert.is_nil(ok)
      assert.are.equal("connect", kind)
      assert.are.equal("connect 127.0.0.1:1 (127.0.0.1): connection refused", err)
    end)

    it("reports a refused connection", function()
      local port = closed_port()
      local ok, err, kind = http.get("http://127.0.0.1:" .. port .. "/", { timeout = 2 })
      assert.is_nil(ok)
      assert.are.equal("connect", kind)
      assert.are.equal("connect 127.0.0.1:" .. port .. " (127.0.0.1): connection refused", err)
    end)

    it("https to a closed port is a refused connection", function()
      local ok, err, kind = http.get("https://127.0.0.1:" .. closed_port() .. "/x", { timeout = 2 })
      assert.is_nil(ok)
      assert.are.equal("connect", kind)
      assert.matches("^connect 127%.0%.0%.1:%d+ %(127%.0%.0%.1%): connection refused$", err)
    end)

    it("returns a malformed URL as a failure", function()
      local ok, err, kind = http.get("127.0.0.1/x")
      assert.is_nil(ok)
      assert.are.equal("url", kind)
      assert.are.equal('url "127.0.0.1/x": no scheme (expected e.g. http://host/path)', err)
      ok, err = http.get("ftp://127.0.0.1/x")
      assert.is_nil(ok)
      assert.matches("scheme 'ftp' not supported", err)
    end)

    it("refuses CR or LF in the method or a header before sending anything", function()
      local s, u = raw(reply("Content-Length: 0\r\n"))
      assert.has_error(function() http.request { url = u, headers = { ["X-A"] = "a\r\nEvil: 1" } } end,
        'request: CR, LF or NUL in header X-A "a\\13\\nEvil: 1" (header injection refused)')
      assert.has_error(function() http.request { url = u, headers = { ["X-A\nEvil"] = "1" } } end)
      assert.has_error(function() http.request { url = u, method = "GET / HTTP/1.1\r\nX: y\r\n" } end)
      assert.has_error(function() http.request { url = u, method = "GET /" } end, 'request: bad method "GET /"')
      net.sleep(0.05)
      assert.are.equal(0, #s.requests)
    end)

    it("makes a headers table from a list or from a table of names (QA: a table was taken as empty)", function()
      local h = http.headers { "B", "2", "A", "1", "b", "3" }
      assert.are.same({ "2, 3", "1" }, { h.b, h.a })
      local m = http.headers { ["X-B"] = "2", ["X-A"] = 1 }
      local seen = {}
      for k, v in pairs(m) do seen[#seen + 1] = k .. "=" .. v end
      assert.are.same({ "X-A=1", "X-B=2" }, seen)
      assert.are.equal("2", m["x-b"])
      assert.has_error(function() http.headers { ["X-A"] = {} } end,
        "bad argument #1 to 'headers' (field X-A is not a name and a value)")
    end)

    it("rejects unknown options of get, request and serve (QA)", function()
      assert.has_error(function() http.get("http://127.0.0.1:1/", { bogus = 1 }) end,
        "bad argument #2 to 'get' (unknown option 'bogus')")
      assert.has_error(function() http.get("http://127.0.0.1:1/", { url = "http://x/" }) end,
        "bad argument #2 to 'get' (unknown option 'url')")
      assert.has_error(function() http.request { url = "http://127.0.0.1:1/", bogus = 1 } end,
        "bad argument #1 to 'request' (unknown option 'bogus')")
      assert.has_error(function() http.serve("127.0.0.1", 0, function() end, { bogus = 1 }) end,
        "bad argument #4 to 'serve' (unknown option 'bogus')")
      -- the known ones still pass the check (the connect is refused)
      assert.is_nil((http.get("http://127.0.0.1:1/", { timeout = 1, redirects = false,
        headers = {}, method = "GET" })))
    end)

    it("raises on wrong argument types, naming the argument", function()
      assert.has_error(function() http.get(42) end, "bad argument #1 to 'get' (string expected, got number)")
      assert.has_error(function() http.get("http://127.0.0.1/", 5) end,
        "bad argument #2 to 'get' (table expected, got number)")
      assert.has_error(function() http.request("http://x/") end,
        "bad argument #1 to 'request' (table expected, got string)")
      assert.has_error(function() http.request { url = "http://127.0.0.1/", timeout = "1" } end,
        "bad argument #1 to 'request' (timeout: seconds >= 0 expected, got string)")
      assert.has_error(function() http.request { url = "http://127.0.0.1/", sink = 5 } end,
        "bad argument #1 to 'request' (sink: function, file or path expected, got number)")
      assert.has_error(function() http.request { url = "http://127.0.0.1/", redirects = -1 } end,
        "bad argument #1 to 'request' (redirects: integer >= 0 or boolean expected, got number)")
      assert.has_error(function() http.request { url = "http://127.0.0.1/", trace = "path" } end,
        "bad argument #1 to 'request' (trace: true, function or file expected, got string)")
      assert.has_error(function() http.request { url = "http://127.0.0.1/", body = "abc",
        headers = { ["Transfer-Encoding"] = "chunked" } } end,
        'request: Transfer-Encoding "chunked" not supported (bodies are sent with Content-Length)')
      assert.has_error(function() http.request { url = "http://127.0.0.1/", body = "abc",
        headers = { ["Content-Length"] = "5" } } end)
    end)

    it("closes the connection when a sink raises, and names a path it cannot open", function()
      local seen   -- what the server's read after its reply gave: the client's close, not a timeout
      local s, u = raw(function(c)
        c:send(reply("Content-Length: 10\r\n", "0123456789"))
        c:settimeout(2)
        local data, err = c:receive("a")
        seen = data and "closed" or err
      end)
      collectgarbage("stop")   -- the close must not wait for a collection
      local ok, err = pcall(http.get, u, { timeout = 5, sink = function() error("sink blew up") end })
      for _ = 1, 100 do if seen then break end net.sleep(0.02) end
      collectgarbage("restart")
      assert.is_false(ok)
      assert.matches("sink blew up", err)
      assert.are.equal("closed", seen)
      local status, msg, kind = http.get(u, { timeout = 5, sink = "/nonexistent/dir/file" })
      assert.is_nil(status)
      assert.are.equal("sink", kind)
      assert.are.equal("127.0.0.1:" .. s.port .. ": sink: /nonexistent/dir/file: No such file or directory", msg)
    end)

    it("reports a reset by the server, naming host:port once", function()
      local srv = assert(net.listen("127.0.0.1", 0))
      local _, port = srv:getsockname()
      net.spawn(function()
        local c = srv:accept()
        if not c then return end
        net.sleep(0.05)   -- the request arrives and stays unread: close sends RST
        c:send(reply("Content-Length: 100\r\n", "part"))
        c:close()
      end)
      local ok, err, kind = http.get("http://127.0.0.1:" .. port .. "/", { timeout = 5 })
      srv:close()
      assert.is_nil(ok)
      assert.are.equal("closed", kind)
      assert.matches("^receive 127%.0%.0%.1:" .. port .. ": connection reset by peer %(reading [%w ]+%)$", err)
    end)

    it("passes a sink's failure back and stops reading", function()
      local s, u = raw(reply("Content-Length: 10\r\n", "0123456789"))
      local ok, err, kind = http.get(u, { timeout = 5, sink = function(chunk)
        if chunk then return nil, "disk full" end
      end })
      assert.is_nil(ok)
      assert.are.equal("sink", kind)
      assert.are.equal("127.0.0.1:" .. s.port .. ": sink: disk full", err)
    end)
  end)
end)
