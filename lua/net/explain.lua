-- net.explain: what a numeric reply code means, in one line, for people
-- reading an SMTP or HTTP dialogue (and for transcript annotations).
--
-- Entry points (the module table is callable, so the lazy `net.explain`
-- already works as a function):
--   net.explain(code [, protocol]) -> text, protocol
--   explain.explain(code [, protocol]) -> text, protocol   (the same)
--     code      an integer (250), or a string that starts with the code:
--               "250", "250 OK", "250-PIPELINING", "HTTP/1.1 404 Not Found"
--               (an HTTP status line implies protocol "http")
--     protocol  "smtp" or "http" (any case); nil: guess. A code known to
--               only one protocol gets that meaning; a code known to both
--               (221, 500-504) gets both, labelled: "SMTP: ...; HTTP: ...".
--     returns   the meaning and the protocol it came from ("smtp", "http",
--               or "smtp/http" for the labelled pair); for an unknown code
--               or a string that holds no code: nil and a message.
--   Raises on a code that is neither number nor string, and on a protocol
--   that is not a string or not one of the names above.
-- FTP codes are not covered (yet).
local M = {}

-- SMTP reply codes (RFC 5321, 4954 AUTH, 3207 STARTTLS).
M.smtp = {
  [211] = "system status, or system help reply",
  [214] = "help message",
  [220] = "service ready",
  [221] = "service closing transmission channel",
  [235] = "authentication succeeded",
  [250] = "requested action completed",
  [251] = "user not local; will forward",
  [252] = "cannot verify the user, but will accept the message",
  [334] = "authentication challenge: send the next part",
  [354] = "start mail input; end with <CRLF>.<CRLF>",
  [421] = "service not available, closing transmission channel",
  [450] = "mailbox unavailable (busy or temporarily blocked); try again later",
  [451] = "local error in processing; try again later",
  [452] = "insufficient system storage, or too many recipients; try again later",
  [454] = "temporary authentication failure, or TLS not available",
  [500] = "syntax error, command unrecognized",
  [501] = "syntax error in parameters or arguments",
  [502] = "command not implemented",
  [503] = "bad sequence of commands",
  [504] = "command parameter not implemented",
  [530] = "authentication required",
  [535] = "authentication credentials invalid",
  [550] = "mailbox unavailable (not found, no access, or refused by policy)",
  [551] = "user not local",
  [552] = "exceeded storage allocation (message too big)",
  [553] = "mailbox name not allowed",
  [554] = "transaction failed (or no SMTP service here)",
  [555] = "MAIL FROM/RCPT TO parameters not recognized or not implemented",
}

-- HTTP status codes (RFC 9110, 6585).
M.http = {
  [100] = "continue: send the request body",
  [101] = "switching protocols",
  [200] = "OK",
  [201] = "created",
  [202] = "accepted for processing, not yet done",
  [204] = "no content",
  [206] = "partial content (a range)",
  [301] = "moved permanently (see Location)",
  [302] = "found: moved temporarily (see Location)",
  [303] = "see other: fetch Location with GET",
  [304] = "not modified since the cached copy",
  [307] = "temporary redirect, same method (see Location)",
  [308] = "permanent redirect, same method (see Location)",
  [400] = "bad request",
  [401] = "unauthorized: authentication required",
  [403] = "forbidden",
  [404] = "not found",
  [405] = "method not allowed",
  [406] = "not acceptable (no representation matches Accept)",
  [408] = "request timeout",
  [409] = "conflict with the current state of the resource",
  [410] = "gone, for good",
  [411] = "length required (Content-Length missing)",
  [413] = "content too large",
  [414] = "URI too long",
  [415] = "unsupported media type",
  [416] = "range not satisfiable",
  [426] = "upgrade required",
  [429] = "too many requests",
  [431] = "request header fields too large",
  [500] = "internal server error",
  [501] = "not implemented",
  [502] = "bad gateway",
  [503] = "service unavailable",
  [504] = "gateway timeout",
  [505] = "HTTP version not supported",
}

-- What each class of code says, for the message about an unknown code.
local classes = {
  [1] = "1xx: informational", [2] = "2xx: success", [3] = "3xx: more needed or redirect",
  [4] = "4xx: temporary or client error", [5] = "5xx: permanent or server error",
}

local aliases = { smtp = "smtp", esmtp = "smtp", http = "http", https = "http" }

-- The integer code in `code` and the protocol it implies (from an HTTP
-- status line), or nil and a message.
local function getcode(code)
  if math.type(code) == "integer" then return code end
  if type(code) == "number" then return nil, "not a reply code: " .. tostring(code) end
  local n = code:match("^HTTP/%d[%.%d]* (%d%d%d)%f[^%d]")
  if n then return tonumber(n), "http" end
  n = code:match("^%s*(%d%d%d)%f[^%d]")
  if n then return tonumber(n) end
  local shown = #code > 40 and code:sub(1, 40) .. "..." or code
  return nil, string.format("not a reply code: %q", shown)
end

-- Why `code` is unknown, with the class it is in when it has one.
local function unknown(code, proto)
  local class = classes[code // 100]
  return string.format("unknown %sreply code %d%s", proto and proto:upper() .. " " or "",
    code, class and code >= 100 and code <= 599 and " (" .. class .. ")" or "")
end

-- net.explain(code [, protocol]) -> text, protocol (see the top).
function M.explain(code, protocol)
  local tc = type(code)
  if tc ~= "number" and tc ~= "string" then
    error("bad argument #1 to 'explain' (number or string expected, got " .. tc .. ")", 2)
  end
  local proto
  if protocol ~= nil then
    if type(protocol) ~= "string" then
      error("bad argument #2 to 'explain' (string expected, got " .. type(protocol) .. ")", 2)
    end
    proto = aliases[protocol:lower()]
    if not proto then error("bad argument #2 to 'explain' (unknown protocol '" .. protocol .. "')", 2) end
  end
  local n, implied = getcode(code)
  if not n then return nil, implied end
  proto = proto or implied
  if proto then
    local text = M[proto][n]
    if text then return text, proto end
    return nil, unknown(n, proto)
  end
  local s, h = M.smtp[n], M.http[n]
  if s and h then return "SMTP: " .. s .. "; HTTP: " .. h, "smtp/http" end
  if s then return s, "smtp" end
  if h then return h, "http" end
  return nil, unknown(n)
end

return setmetatable(M, { __call = function(_, ...) return M.explain(...) end })
