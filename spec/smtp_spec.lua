-- spec/smtp_spec.lua: net.smtp and scripts/smtp_send.lua against a real
-- SMTP server (Debian's aiosmtpd, private, on a free port of 127.0.0.1; see
-- spec/support/smtp_helper.lua) and against peers written with `net` for
-- what a real server will not do (odd, malformed or no replies). Only
-- literal loopback addresses; every wait bounded; no fd may leak.
local net = require "net"
local common = require "spec.support.common"
local tcp = require "spec.support.tcp_helper"
local helper = require "spec.support.smtp_helper"
local smtp = require "net.smtp"

-- A peer on host (default 127.0.0.1) that runs script(conn) for one
-- client, then closes; returns its port.
local function peer(script, host)
  local s = assert(net.listen(host or "127.0.0.1", 0))
  local _, port = s:getsockname()
  net.spawn(function()
    local c = s:accept(5)
    s:close()
    if not c then return end
    c:settimeout(5)
    script(c)
    c:close()
  end)
  return port
end

-- A peer that greets, then answers each command line from `answers`
-- (command word -> reply text, "" for silence) and understands DATA.
-- It records what it received in got.lines and got.data.
local function fakesmtp(answers, got, host)
  return peer(function(c)
    c:send(answers.greeting or "220 fake ESMTP\r\n")
    for _ = 1, 100 do
      local line = c:receive("l")
      if not line then return end
      got.lines[#got.lines + 1] = line
      local word = line:match("^(%a+)"):upper()
      local reply = answers[word] or (word == "DATA" and "354 go on\r\n")
        or (word == "QUIT" and "221 bye\r\n") or "250 OK\r\n"
      if reply == "" then net.sleep(1) return end
      c:send(reply)
      if word == "DATA" and reply:match("^354") then
        local t = {}
        for _ = 1, 1000 do
          local l = c:receive("L")
          if not l or l == ".\r\n" then break end
          t[#t + 1] = l
        end
        got.data = table.concat(t)
        c:send(answers.final or "250 2.0.0 queued as 42\r\n")
      end
      if word == "QUIT" then return end
    end
  end, host)
end

local timed = common.timed

-- The body part of raw message bytes (after the first empty line).
local function bodyof(raw)
  return raw:match("^.-\r\n\r\n(.*)$")
end

-- The value of header name in raw message bytes, or nil.
local function header(raw, name)
  local head = raw:match("^(.-\r\n)\r\n") or ""
  for line in head:gmatch("([^\r\n]*)\r\n") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k and k:lower() == name:lower() then return v end
  end
  return nil
end

describe("net.smtp", function()
  local server, fds_before
  setup(function()
    net.run()
    fds_before = common.count_fds()
    server = helper.start()
  end)
  teardown(function()
    if server then server.stop() end
    net.run()
    assert.are.equal(fds_before, common.count_fds())
  end)
  before_each(function()
    server.clear()
  end)
  after_each(function()
    net.run()
  end)

  -- send{} to the private server with some defaults.
  local function send(t)
    t.server = t.server or "127.0.0.1:" .. server.port
    t.from = t.from or "Sender <sender@example.test>"
    t.timeout = t.timeout or 5
    return smtp.send(t)
  end

  describe("encode", function()
    it("makes CRLF line ends, stuffs dots, adds the final CRLF and the dot", function()
      local cases = {
        { "hello", "hello\r\n.\r\n" },
        { "hello\r\n", "hello\r\n.\r\n" },
        { "", ".\r\n" },
        { "a\nb\rc\r\nd", "a\r\nb\r\nc\r\nd\r\n.\r\n" },
        { ".\n", "..\r\n.\r\n" },
        { ".x\n..y\nz.\n. \n", "..x\r\n...y\r\nz.\r\n.. \r\n.\r\n" },
        { "a\n.\nb", "a\r\n..\r\nb\r\n.\r\n" },
        { "\r\r\n\n", "\r\n\r\n\r\n.\r\n" },
      }
      for _, c in ipairs(cases) do assert.are.equal(c[2], smtp.encode(c[1])) end
    end)
  end)

  describe("address", function()
    it("takes a@b, <a@b> and Name <a@b>", function()
      assert.are.equal("a@b.test", smtp.address("a@b.test"))
      assert.are.equal("a@b.test", smtp.address("<a@b.test>"))
      assert.are.equal("a@b.test", smtp.address("\"Doe, J\" <a@b.test>"))
    end)

    it("raises for anything else, naming the argument", function()
      for _, bad in ipairs { "", "a b@c", "a@b>", "x <a@b> y", "a@b\r\nRCPT TO:<c@d>", "a\0@b" } do
        assert.has_error(function() smtp.address(bad) end)
      end
      local ok, err = pcall(smtp.address, "a@b\nX")
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'address' (CR, LF or NUL not allowed: \"a@b\\nX\")", err, 1, true)
    end)
  end)

  describe("send to aiosmtpd", function()
    it("delivers the body byte for byte: dots, a lone dot, bare LF and CR", function()
      local body = ".starts with a dot\n.\n..two\nbare LF\nbare CR\rCRLF\r\nno final newline"
      local ok, reply = send { to = "rcpt@example.test", subject = "dots", body = body }
      assert.are.same({ true, "250 OK" }, { ok, reply })
      local msgs, files = server.messages()
      assert.are.equal(1, #msgs)
      assert.are.equal(1, files)
      assert.are.equal(".starts with a dot\r\n.\r\n..two\r\nbare LF\r\nbare CR\r\nCRLF\r\n" ..
        "no final newline\r\n", bodyof(msgs[1].raw))
      assert.are.equal("sender@example.test", msgs[1].from)
      assert.are.same({ "rcpt@example.test" }, msgs[1].rcpts)
    end)

    it("adds From, To, Subject, Date and Message-ID", function()
      assert.is_true((send { to = "Rec Ipient <rcpt@example.test>", subject = "hello there", body = "x" }))
      local raw = server.messages()[1].raw
      assert.are.equal("Sender <sender@example.test>", header(raw, "From"))
      assert.are.equal("Rec Ipient <rcpt@example.test>", header(raw, "To"))
      assert.are.equal("hello there", header(raw, "Subject"))
      assert.matches("^%a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d %+0000$", header(raw, "Date"))
      assert.matches("^<%x+%.%d+@[^>]+>$", header(raw, "Message-ID"))
      assert.is_nil(header(raw, "Cc"))
      -- aiosmtpd's Mailbox wrote it into its Maildir, parsed
      local md = server.maildir()[1]
      assert.matches("\nSubject: hello there\n", md, 1, true)
      assert.matches("\nX-RcptTo: rcpt@example.test\n", md, 1, true)
    end)

    it("delivers to cc and bcc, shows Cc, never Bcc", function()
      assert.is_true((send { to = { "a@example.test", "b@example.test" }, cc = "c@example.test",
        bcc = { "hidden@example.test" }, subject = "copies", body = "x\n" }))
      local msgs = server.messages()
      assert.are.equal(1, #msgs)
      assert.are.same({ "a@example.test", "b@example.test", "c@example.test", "hidden@example.test" },
        msgs[1].rcpts)
      assert.are.equal("a@example.test, b@example.test", header(msgs[1].raw, "To"))
      assert.are.equal("c@example.test", header(msgs[1].raw, "Cc"))
      assert.is_nil(header(msgs[1].raw, "Bcc"))
      assert.is_nil(msgs[1].raw:find("hidden", 1, true))
    end)

    it("adds the headers of the table and keeps a Date or Message-ID given", function()
      assert.is_true((send { to = "a@example.test", body = "x", headers = {
        ["X-Mailer"] = "netlua spec", Date = "Thu, 01 Jan 2026 00:00:00 +0000",
        ["Message-ID"] = "<fixed@example.test>" } }))
      local raw = server.messages()[1].raw
      assert.are.equal("netlua spec", header(raw, "X-Mailer"))
      assert.are.equal("Thu, 01 Jan 2026 00:00:00 +0000", header(raw, "Date"))
      assert.are.equal("<fixed@example.test>", header(raw, "Message-ID"))
      assert.are.equal(1, select(2, ("\n" .. raw):gsub("\nDate: ", ""))) -- once
      assert.are.equal(1, select(2, ("\n" .. raw):gsub("\nMessage%-ID: ", "")))
    end)

    it("fails on a rejected recipient, with the server's words, and delivers to no one", function()
      local ok, err = send { to = { "a@example.test", "nobody@example.test" }, body = "x" }
      assert.is_nil(ok)
      assert.are.equal("RCPT TO:<nobody@example.test> rejected: 550 5.1.1 no such user", err)
      local msgs, files = server.messages()
      assert.are.equal(0, #msgs)
      assert.are.equal(0, files)
    end)

    it("names every rejected recipient", function()
      local _, err = send { to = "nobody@a.test", cc = "nobody@b.test", body = "x" }
      assert.are.equal("RCPT TO:<nobody@a.test> rejected: 550 5.1.1 no such user; " ..
        "RCPT TO:<nobody@b.test> rejected: 550 5.1.1 no such user", err)
    end)

    it("refuses CR/LF injection anywhere before connecting", function()
      local nl = "x@example.test\r\nRCPT TO:<evil@example.test>"
      local attempts = {
        { from = nl, to = "a@example.test" },
        { to = nl },
        { to = { "a@example.test", "b@example.test\nDATA" } },
        { to = "a@example.test", cc = nl },
        { to = "a@example.test", bcc = nl },
        { to = "a@example.test", subject = "hi\r\nBcc: evil@example.test" },
        { to = "a@example.test", subject = "hi\nX: y" },
        { to = "a@example.test", subject = "nul\0" },
        { to = "a@example.test", headers = { ["X-A"] = "v\r\nBcc: evil@example.test" } },
        { to = "a@example.test", headers = { ["X-A\r\nBcc"] = "evil@example.test" } },
        { to = "a@example.test", headers = { ["X A"] = "v" } },
        { to = "a@example.test", headers = { Bcc = "evil@example.test" } },
        { to = "a@example.test", helo = "me\r\nRSET" },
      }
      for i, t in ipairs(attempts) do
        t.body = "x"
        local ok, err = pcall(send, t)
        assert.is_false(ok, "attempt " .. i)
        assert.matches("bad argument '", err, 1, true)
        -- against a port where nobody listens: still an error, not "refused"
        t.server = "127.0.0.1:1"
        ok, err = pcall(smtp.send, t)
        assert.is_false(ok, "attempt " .. i)
        assert.is_nil(err:find("refused", 1, true), err)
      end
      local msgs, files = server.messages()
      assert.are.equal(0, #msgs)
      assert.are.equal(0, files)
    end)

    it("raises for a bad table: no recipient, no server, a wrong port", function()
      assert.has_error(function() send { to = {} } end)
      assert.has_error(function() smtp.send { from = "a@b", to = "c@d" } end)
      assert.has_error(function() send { server = "127.0.0.1:25", port = 26, to = "c@d" } end)
      assert.has_error(function() send { server = "127.0.0.1:99999", to = "c@d" } end)
      assert.has_error(function() send { to = "c@d", body = 42 } end)
      assert.has_error(function() send { to = "c@d", tls = "yes" } end,
        "bad argument 'tls' to 'send' (\"tls\", \"starttls\" or a table of TLS options expected)")
      assert.has_error(function() smtp.open("127.0.0.1", server.port, { tls = 1 }) end,
        "bad argument #3 (option 'tls') to 'open' (\"tls\", \"starttls\" or a table of TLS options expected)")
      assert.has_error(function() smtp.open("127.0.0.1", server.port, { timeout = "x" }) end,
        "bad argument #3 (option 'timeout') to 'open' (number >= 0 expected)")
    end)

    it("says when the connection is refused, naming the address", function()
      local port = tcp.free_port()
      local ok, err = send { server = "127.0.0.1", port = port, to = "a@b.test" }
      assert.is_nil(ok)
      assert.matches("127.0.0.1:" .. port, err, 1, true)
      assert.matches("refused", err, 1, true)
    end)
  end)

  describe("a session with aiosmtpd", function()
    it("runs each command and returns code and lines", function()
      local s <close> = assert(smtp.open("127.0.0.1", server.port, { timeout = 5, helo = "spec.test" }))
      local code, lines = s:ehlo()
      assert.are.equal(250, code)
      assert.are.equal("8BITMIME", lines[2])
      assert.are.equal("", s.extensions["8BITMIME"])
      assert.are.equal(250, (s:noop()))
      assert.are.equal(250, (s:helo("other.test")))
      assert.are.same({}, s.extensions)
      assert.are.equal(250, (s:mail("a@example.test")))
      assert.are.equal(550, (s:rcpt("nobody@example.test")))
      assert.are.equal(250, (s:rset()))
      assert.are.equal(250, (s:mail("<a@example.test>")))
      assert.are.equal(250, (s:rcpt("B <b@example.test>")))
      code, lines = s:data("Subject: raw\r\n\r\n.hi\n")
      assert.are.same({ 250, { "OK" } }, { code, lines })
      assert.are.equal(250, (s:command("NOOP")))
      assert.are.equal(221, (s:quit()))
      assert.is_nil(s.conn)
      assert.are.same({ nil, "closed" }, { s:noop() })
      assert.are.equal(".hi\r\n", bodyof(server.messages()[1].raw))
    end)

    it("refuses injected commands before sending, and stays usable", function()
      local s <close> = assert(smtp.open("127.0.0.1", server.port, { timeout = 5 }))
      assert.has_error(function() s:command("NOOP\r\nQUIT") end)
      assert.has_error(function() s:mail("a@b\r\nRSET") end)
      assert.has_error(function() s:mail("a@b", "SIZE=1\nRSET") end)
      assert.has_error(function() s:rcpt("a@b\nQUIT") end)
      assert.has_error(function() s:ehlo("me\rQUIT") end)
      assert.has_error(function() s:helo("me\0") end)
      assert.has_error(function() s:data(42) end)
      local ok, err = pcall(s.rcpt, s, "a@b\n")
      assert.is_false(ok)
      assert.matches("^bad argument #1 to 'rcpt' %(CR, LF or NUL not allowed", err)
      assert.are.equal(250, (s:noop()))
      s:quit()
    end)

    it("traces the dialogue into a file given by path", function()
      local path = os.tmpname()
      local s = assert(smtp.open("127.0.0.1", server.port, { timeout = 5, trace = path }))
      s:noop()
      s:quit()
      s = nil
      collectgarbage() -- the handler's file is closed with it
      collectgarbage()
      local f = assert(io.open(path))
      local text = f:read("a")
      f:close()
      os.remove(path)
      assert.matches("\n -> NOOP\n<- 250 ", text, 1, true)
      assert.are.same({ nil, "transcript /nonexistent/dir/t: No such file or directory" },
        { smtp.open("127.0.0.1", server.port, { trace = "/nonexistent/dir/t" }) })
    end)

    it("traces the dialogue through a function", function()
      local seen = {}
      local s <close> = assert(smtp.open("127.0.0.1", server.port,
        { timeout = 5, trace = function(l) seen[#seen + 1] = l end }))
      s:ehlo("trace.test")
      s:quit()
      local text = table.concat(seen, "\n")
      assert.matches("*** connected (127.0.0.1:", text, 1, true)
      assert.matches("\n<- 220 ", text, 1, true)
      assert.matches("\n -> EHLO trace.test\n", text, 1, true)
      assert.matches("\n<- 221 ", text, 1, true)
      assert.matches("*** closed", text, 1, true)
    end)
  end)

  describe("against net peers", function()
    it("parses a multi-line EHLO reply into extensions", function()
      local got = { lines = {} }
      local port = fakesmtp({ EHLO = "250-fake.test hello\r\n250-SIZE 10240000\r\n250-auth PLAIN LOGIN\r\n" ..
        "250-8BITMIME\r\n250 STARTTLS\r\n" }, got)
      local s <close> = assert(smtp.open("127.0.0.1", port, { timeout = 5, helo = "me.test" }))
      local code, lines = s:ehlo()
      assert.are.equal(250, code)
      assert.are.same({ "fake.test hello", "SIZE 10240000", "auth PLAIN LOGIN", "8BITMIME", "STARTTLS" }, lines)
      assert.are.same({ SIZE = "10240000", AUTH = "PLAIN LOGIN", ["8BITMIME"] = "", STARTTLS = "" },
        s.extensions)
      s:quit()
      assert.are.same({ "EHLO me.test", "QUIT" }, got.lines)
    end)

    it("sends to [::1]:port and returns the final reply text", function()
      local got = { lines = {} }
      local port = fakesmtp({}, got, "::1")
      local ok, reply = smtp.send { server = "[::1]:" .. port, from = "a@b.test", to = "c@d.test",
        body = "hi\n.\n", timeout = 5, helo = "me.test" }
      assert.are.same({ true, "250 2.0.0 queued as 42" }, { ok, reply })
      assert.are.same({ "EHLO me.test", "MAIL FROM:<a@b.test>", "RCPT TO:<c@d.test>", "DATA", "QUIT" },
        got.lines)
      assert.matches("\r\n\r\nhi\r\n..\r\n$", got.data)
    end)

    it("falls back to HELO when EHLO is refused", function()
      local got = { lines = {} }
      local port = fakesmtp({ EHLO = "502 5.5.1 what?\r\n" }, got)
      assert.is_true((smtp.send { server = "127.0.0.1", port = port, from = "a@b.test", to = "c@d.test",
        timeout = 5, helo = "me.test" }))
      assert.are.same({ "EHLO me.test", "HELO me.test", "MAIL FROM:<a@b.test>" },
        { table.unpack(got.lines, 1, 3) })
    end)

    it("reports a refused sender and quits politely", function()
      local got = { lines = {} }
      local port = fakesmtp({ MAIL = "553 5.7.1 sender not allowed\r\n" }, got)
      local ok, err = smtp.send { server = "127.0.0.1:" .. port, from = "a@b.test", to = "c@d.test", timeout = 5 }
      assert.is_nil(ok)
      assert.are.equal("MAIL FROM:<a@b.test> rejected: 553 5.7.1 sender not allowed", err)
      assert.are.equal("QUIT", got.lines[#got.lines])
      assert.is_nil(got.data)
    end)

    it("reports a refused message after DATA", function()
      local got = { lines = {} }
      local port = fakesmtp({ final = "554-5.7.1 spam\r\n554 5.7.1 go away\r\n" }, got)
      local ok, err = smtp.send { server = "127.0.0.1:" .. port, from = "a@b.test", to = "c@d.test", timeout = 5 }
      assert.is_nil(ok)
      assert.are.equal("DATA rejected: 554 5.7.1 spam / 5.7.1 go away", err)
    end)

    it("refuses a greeting other than 220 and closes", function()
      local port = peer(function(c) c:send("554 5.3.2 no service today\r\n") net.sleep(0.2) end)
      local s, err = smtp.open("127.0.0.1", port, { timeout = 5 })
      assert.is_nil(s)
      assert.are.equal("smtp 127.0.0.1:" .. port .. ": greeting refused: 554 5.3.2 no service today", err)
    end)

    it("reports a malformed greeting", function()
      local port = peer(function(c) c:send("hello there\r\n") net.sleep(0.2) end)
      local s, err = smtp.open("127.0.0.1", port, { timeout = 5 })
      assert.is_nil(s)
      assert.are.equal('smtp 127.0.0.1:' .. port .. ': greeting: malformed reply: "hello there"', err)
    end)

    it("reports a malformed or mixed multi-line reply and closes the session", function()
      local got = { lines = {} }
      local port = fakesmtp({ NOOP = "250-one\r\n251 two\r\n" }, got)
      local s <close> = assert(smtp.open("127.0.0.1", port, { timeout = 5 }))
      local code, err = s:noop()
      assert.is_nil(code)
      assert.matches('^malformed reply: "251 two"', err)
      assert.is_nil(s.conn)
      assert.are.same({ nil, "closed" }, { s:noop() })
    end)

    it("times out against a silent server, within the timeout", function()
      local port = peer(function() net.sleep(1.5) end)
      local took, s, err = timed(smtp.open, "127.0.0.1", port, { timeout = 0.3 })
      assert.is_nil(s)
      assert.are.equal("smtp 127.0.0.1:" .. port .. ": greeting: timeout", err)
      assert.is_true(took >= 0.25 and took < 1.2, took)
    end)

    it("times out on a command the server never answers", function()
      local got = { lines = {} }
      local port = fakesmtp({ RCPT = "" }, got)
      local took, ok, err = timed(smtp.send, { server = "127.0.0.1:" .. port, from = "a@b.test",
        to = "c@d.test", timeout = 0.3 })
      assert.is_nil(ok)
      assert.are.equal("RCPT TO:<c@d.test>: timeout", err)
      assert.is_true(took < 1.5, took)
    end)

    it("says closed when the server hangs up", function()
      local port = peer(function(c) c:send("220 hi\r\n") c:receive("l") end)
      local s <close> = assert(smtp.open("127.0.0.1", port, { timeout = 5 }))
      local code, err = s:ehlo("me.test")
      assert.are.same({ nil, "closed" }, { code, err })
      assert.is_nil(s.conn)
    end)
  end)

  describe("scripts/smtp_send.lua", function()
    local script = common.q(common.netlua) .. " scripts/smtp_send.lua "

    it("prints the usage for --help and exits 0", function()
      local _, code, out, err = common.run(script .. "--help")
      assert.are.equal(0, code)
      assert.matches("^usage: smtp_send.lua", out)
      assert.are.equal("", err)
    end)

    it("exits 2 with the usage on a usage error", function()
      for _, args in ipairs { "", "--from a@b --to c@d", "--server 127.0.0.1 --to c@d",
        "--server 127.0.0.1 --from a@b", "--bogus", "--server" } do
        local _, code, out, err = common.run(script .. args)
        assert.are.equal(2, code, args)
        assert.are.equal("", out)
        assert.matches("^smtp_send%.lua: [^\n]+\nusage: ", err)
      end
    end)

    it("exits 2 with one line and a hint (no usage) on a bad value", function()
      for _, args in ipairs { "--server 127.0.0.1 --from a@b --to c@d --port x",
        "--server 127.0.0.1 --from a@b --to c@d --body x --body-file y",
        "--server 127.0.0.1:" .. server.port .. " --from a@b --to 'bad address'",
        "--server 127.0.0.1:" .. server.port .. " --from a@b --to \"$(printf 'c@d\\r\\nRCPT TO:<e@f>')\"" } do
        local _, code, out, err = common.run(script .. args)
        assert.are.equal(2, code, args)
        assert.are.equal("", out)
        assert.matches("^smtp_send%.lua: [^\n]+\ntry 'smtp_send%.lua %-%-help'\n$", err)
      end
      assert.are.equal(0, #server.messages())
    end)

    it("sends, exits 0, and shows the dialogue with -v", function()
      local _, code, out, err = common.run(script .. "--server 127.0.0.1:" .. server.port ..
        " --from a@example.test --to b@example.test --cc c@example.test --subject 'by script'" ..
        " --header 'X-Spec: yes' --body-file - -v", ".dot line\nend\n")
      assert.are.equal(0, code, err)
      assert.are.equal("", out)
      assert.matches("*** connected (127.0.0.1:", err, 1, true)
      assert.matches("\n<- 220 ", err, 1, true)
      assert.matches("\n -> MAIL FROM:<a@example.test>\n", err, 1, true)
      assert.matches("\n -> RCPT TO:<c@example.test>\n", err, 1, true)
      assert.matches("\n -> ..dot line\n -> end\n -> .\n<- 250 OK\n", err, 1, true)
      assert.matches("\n<- 221 ", err, 1, true)
      local msgs = server.messages()
      assert.are.equal(1, #msgs)
      assert.are.equal(".dot line\r\nend\r\n", bodyof(msgs[1].raw))
      assert.are.equal("yes", header(msgs[1].raw, "X-Spec"))
      assert.are.equal("by script", header(msgs[1].raw, "Subject"))
    end)

    it("exits 1 with one line when a recipient is refused", function()
      local _, code, out, err = common.run(script .. "--server 127.0.0.1 --port " .. server.port ..
        " --from a@example.test --to nobody@example.test --body hi")
      assert.are.equal(1, code)
      assert.are.equal("", out)
      assert.are.equal("smtp_send.lua: RCPT TO:<nobody@example.test> rejected: 550 5.1.1 no such user\n", err)
      assert.are.equal(0, #server.messages())
    end)

    it("exits 1 when the connection is refused", function()
      local port = tcp.free_port()
      local _, code, _, err = common.run(script .. "--server 127.0.0.1:" .. port ..
        " --from a@example.test --to b@example.test")
      assert.are.equal(1, code)
      assert.matches("^smtp_send%.lua: [^\n]*127.0.0.1:" .. port .. "[^\n]*refused\n$", err)
    end)

    it("exits 2 and sends nothing for an injected subject", function()
      local _, code, _, err = common.run(script .. "--server 127.0.0.1:" .. server.port ..
        " --from a@example.test --to b@example.test --subject \"$(printf 'x\\r\\nBcc: e@example.test')\"")
      assert.are.equal(2, code)
      assert.matches("^smtp_send%.lua: bad argument 'subject' to 'send' %(CR, LF or NUL not allowed", err)
      assert.are.equal(0, #server.messages())
    end)
  end)
end)
