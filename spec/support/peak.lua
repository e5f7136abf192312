-- spec/support/peak.lua: the memory a piece of work costs at its peak,
-- measured inside the process doing it (Linux; a child netlua of a spec,
-- since the figures are per process).
--   peak.start()   the baseline, taken right before the work: a full
--                  collection, the kernel's high-water mark (VmHWM) reset
--                  to the resident size (5 written to /proc/self/clear_refs),
--                  the figures noted
--   peak.sample()  notes the memory held now; call it where the peak is
--                  (from a trace handler, receive calls it with the partial
--                  line while the receive buffer still holds the line)
--   peak.grown()   bytes: the most held above the baseline, by the samples,
--                  by the figures now, and by the high-water mark
-- "Memory" is what the process allocated: its anonymous and shared pages
-- (RssAnon + RssShmem), read exact while it is held. Not the files it maps
-- (RssFile, in VmRSS): the first run of a code path faults in pages of the
-- program's and libc's code, shared with every process using them (64 KiB
-- of libc in the load child's first long line). VmHWM alone would be
-- wrong twice over: it counts those pages, and the kernel records it from
-- per-CPU counters when memory is unmapped, which left it 224 KiB low
-- after a 1 MiB line whose buffer was given back (Linux 6.18, 2 CPUs). It
-- stays as a check on peaks between samples, less the files mapped since
-- the start; without clear_refs it is the process's whole-life mark and
-- can only make grown() larger than the truth.
local M = {}

-- What a line too long may cost beyond twice the line limit (the bound of
-- spec/regress_spec.lua and spec/hardening_load.lua): granularity, nothing
-- that grows with the limit. The receive buffer and the partial string
-- each end in a page of their own (8 KiB); the buffer's first blocks,
-- below BUFFER_MAPMIN (16 KiB, src/buffer.h), come from malloc, whose heap
-- keeps their pages; the sample itself reads /proc/self/status through a
-- stdio buffer into a string (8 KiB). Measured: 4 KiB over twice a 16 KiB
-- limit, 16-20 KiB over twice 1, 4 and 16 MiB.
M.LINE_SLACK = 8 * 1024 + 16 * 1024 + 8 * 1024

local base, top

-- The figures of this process (bytes): the high-water mark, the resident
-- size, the part of it that is memory allocated (anonymous and shared
-- memory) and the part that is mapped files (the program's code).
local function status()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  local function kib(k) return tonumber(s:match(k .. ":%s*(%d+)")) * 1024 end
  return { hwm = kib("VmHWM"), rss = kib("VmRSS"), mem = kib("RssAnon") + kib("RssShmem"),
           file = kib("RssFile") }
end

function M.start()
  collectgarbage()
  collectgarbage()
  local f = io.open("/proc/self/clear_refs", "w")
  if f then f:write("5"); f:close() end
  base = status()
  top = base.mem
end

function M.sample()
  local mem = status().mem
  if mem > top then top = mem end
end

function M.grown()
  local now = status()
  -- the mark counts mapped files too: take off those mapped since the start
  return math.max(top - base.mem, now.mem - base.mem,
                  now.hwm - base.rss - math.max(0, now.file - base.file))
end

return M
