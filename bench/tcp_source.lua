-- bench/tcp_source.lua: the sending side of the TCP benchmarks (netlua).
-- Usage: netlua bench/tcp_source.lua PORT bulk BYTES | lines COUNT
-- Listens on 127.0.0.1:PORT, prints "ready", serves one connection:
-- BYTES of data in 1 MiB sends, or COUNT lines of 40 bytes; then exits.
local port, mode, n = tonumber(arg[1]), arg[2], tonumber(arg[3])
local s = assert(net.listen("127.0.0.1", port))
print("ready"); io.stdout:flush()
local c = assert(s:accept(60))
if mode == "bulk" then
  local chunk = ("x"):rep(1024 * 1024)
  local left = n
  while left > 0 do
    local part = left >= #chunk and chunk or chunk:sub(1, left)
    assert(c:send(part))
    left = left - #part
  end
else
  local line = ("l"):rep(39) .. "\n"            -- 40 bytes with its LF
  local block = line:rep(25000)                  -- 1,000,000 bytes
  for _ = 1, n // 25000 do assert(c:send(block)) end
  c:send(line:rep(n % 25000))
end
c:close()
s:close()
