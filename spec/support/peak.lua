-- spec/support/peak.lua: the resident memory a piece of work costs at its
-- peak, measured inside the process doing it (Linux; a child netlua of a
-- spec, since the figures are per process).
--   peak.start()   the baseline, taken right before the work: a full
--                  collection, the kernel's high-water mark (VmHWM) reset
--                  to the resident size (5 written to /proc/self/clear_refs),
--                  and the resident size (VmRSS) noted
--   peak.sample()  notes the resident size now; call it where the peak is
--                  (from a trace handler, receive calls it with the partial
--                  line while the receive buffer still holds the line)
--   peak.grown()   bytes: the largest of the samples and of the high-water
--                  mark, minus the baseline
-- VmHWM alone is not exact: the kernel records the mark from its per-CPU
-- counters when memory is unmapped, which can leave it a few hundred KiB
-- low on a peak that is over by the time it is read (seen on Linux 6.18, 2
-- CPUs: 224 KiB low after a 1 MiB line); VmRSS, read while the memory is
-- held, is exact. Without clear_refs the mark is the process's whole-life
-- one: grown() can then only come out larger than the truth, never smaller.
local M = {}

-- What a line too long may cost beyond twice the line limit (the bound of
-- spec/regress_spec.lua and spec/hardening_load.lua): allocator
-- granularity, nothing that grows with the limit. The receive buffer and
-- the partial string each end in a page of their own, and the buffer's
-- first blocks, below BUFFER_MAPMIN (16 KiB, src/buffer.h), come from
-- malloc, whose heap keeps their pages.
M.LINE_SLACK = 2 * 4096 + 16 * 1024

local rss0, top

-- VmHWM and VmRSS of this process, in bytes.
local function status()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)")) * 1024, tonumber(s:match("VmRSS:%s*(%d+)")) * 1024
end

function M.start()
  collectgarbage()
  collectgarbage()
  local f = io.open("/proc/self/clear_refs", "w")
  if f then f:write("5"); f:close() end
  local _, rss = status()
  rss0, top = rss, rss
end

function M.sample()
  local _, rss = status()
  if rss > top then top = rss end
end

function M.grown()
  local hwm, rss = status()
  return math.max(top, hwm, rss) - rss0
end

return M
