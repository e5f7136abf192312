-- spec/scripts_tls_spec.lua: the scripts' TLS options against real peers
-- in other processes: http_get.lua https (--cacert, -k) and certinfo.lua
-- and telnet.lua --tls against nginx with ssl; smtp_send.lua --starttls /
-- --tls with --user and --password-file against aiosmtpd.
local common = require "spec.support.common"
local tls = require "spec.support.tls_helper"
local smtph = require "spec.support.smtp_helper"
local q = common.q

local function run(name, args, input)
  local _, code, out, err = common.run(common.netlua .. " scripts/" .. name .. " " .. args, input)
  return code, out, err
end

describe("scripts over tls", function()
  local certs, nginx, st, im, pwfile
  setup(function()
    certs = tls.certs()
    nginx = tls.nginx()
    st = smtph.start_auth("starttls", certs.good, certs.goodkey)
    im = smtph.start_auth("tls", certs.good, certs.goodkey)
    pwfile = certs.dir .. "/pw"
    local f = assert(io.open(pwfile, "w")); f:write("s3cret pass\n"); f:close()
  end)
  teardown(function()
    if nginx then nginx.stop() end
    if st then st.stop() end
    if im then im.stop() end
    tls.cleanup()
  end)

  it("http_get.lua https: --cacert, a refusal, -k says so", function()
    local url = "https://localhost:" .. nginx.port13 .. "/index.html"
    local code, out, err = run("http_get.lua", "--cacert " .. q(certs.ca) .. " " .. q(url))
    assert.are.equal(0, code, err)
    assert.are.equal("hello over tls\n", out)
    code, out, err = run("http_get.lua", q(url))
    assert.are.equal(1, code)
    assert.matches("certificate verify failed", err)
    code, out, err = run("http_get.lua", "-k " .. q(url))
    assert.are.equal(0, code, err)
    assert.are.equal("hello over tls\n", out)
    assert.matches("NOT VERIFIED", err)
    assert.are.equal(2, (run("http_get.lua", "-k --cacert x " .. q(url))))
  end)

  it("certinfo.lua: verified, not verified (chain still shown), -k, usage", function()
    local code, out, err = run("certinfo.lua", "localhost:" .. nginx.port12 .. " --cacert " .. q(certs.ca))
    assert.are.equal(0, code, err)
    assert.matches("TLSv1%.2", out)
    assert.matches("Verification: OK", out)
    assert.matches("%[1%] CN=localhost", out)
    assert.matches("names:   localhost, 127%.0%.0%.1, ::1", out)
    assert.matches("days left", out)
    code, out, err = run("certinfo.lua", "127.0.0.1:" .. nginx.port13)
    assert.are.equal(1, code)
    assert.matches("Verification: FAILED against the system store: certificate verify failed", out)
    assert.matches("%[1%] CN=localhost", out)
    assert.matches("NOT VERIFIED", err)
    code, out = run("certinfo.lua", "127.0.0.1:" .. nginx.port13 .. " -k")
    assert.are.equal(0, code)
    assert.matches("not checked %(%-k%)", out)
    assert.are.equal(0, (run("certinfo.lua", "--help")))
    assert.are.equal(2, (run("certinfo.lua", "")))
    assert.are.equal(2, (run("certinfo.lua", "x --starttls imap")))
  end)

  it("certinfo.lua --starttls smtp", function()
    local code, out, err = run("certinfo.lua", "localhost:" .. st.port .. " --starttls smtp --cacert " .. q(certs.ca))
    assert.are.equal(0, code, err)
    assert.matches("after STARTTLS %(smtp%)", out)
    assert.matches("Verification: OK", out)
  end)

  it("telnet.lua --tls prints the session's summary, then talks", function()
    local code, out, err = run("telnet.lua", "--tls --cacert " .. q(certs.ca) .. " localhost " .. nginx.port13,
      "GET /index.html HTTP/1.0\n\n")
    assert.are.equal(0, code, err)
    assert.matches("TLS: TLSv1%.3, cipher ", out)
    assert.matches("Verified: yes", out)
    assert.matches("Certificate: CN=localhost", out)
    assert.matches("hello over tls", out)
    code, _, err = run("telnet.lua", "--tls 127.0.0.1 " .. nginx.port13, "")
    assert.are.equal(1, code)
    assert.matches("TLS failed: .*certificate verify failed", err)
    assert.are.equal(2, (run("telnet.lua", "-k localhost 1")))
  end)

  it("smtp_send.lua --starttls / --tls with --user and --password-file", function()
    local base = "--from a@b.example --to c@d.example --body hi --cacert " .. q(certs.ca) ..
      " --user alice --password-file " .. q(pwfile)
    local code, _, err = run("smtp_send.lua", "--server localhost:" .. st.port .. " --starttls " .. base)
    assert.are.equal(0, code, err)
    code, _, err = run("smtp_send.lua", "--server localhost:" .. im.port .. " --tls " .. base)
    assert.are.equal(0, code, err)
    assert.matches("a@b%.example alice\n", im.log())
    code, _, err = run("smtp_send.lua", "--server localhost:" .. im.port .. " --tls " ..
      base:gsub("%-%-password%-file %S+", "--password-file -"), "wrong\n")
    assert.are.equal(1, code)
    assert.matches("535", err)
    code, _, err = run("smtp_send.lua", "--server localhost:" .. st.port .. " --password hunter2 " .. base)
    assert.are.equal(2, code)
    assert.matches("password%-file", err)
    code, _, err = run("smtp_send.lua", "--server localhost:" .. st.port .. " " .. base:gsub("%-%-cacert %S+", ""))
    assert.are.equal(1, code)
    assert.matches("refusing to send the password", err)
  end)
end)
