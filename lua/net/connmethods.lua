-- net.connmethods: the methods of connections written in Lua, internal to
-- the connection type (conn.c joins them to its method table when net
-- opens, then takes this file out of package.preload, so it is no part of
-- net: not net.connmethods, not in help() or completion).
-- Returns a function(M, net, build) that adds to M, the method table:
--   c:expect(patterns [, timeout]) and c:reply([timeout]): net.dialogue's
--   expect and reply as methods;
--   c:trace(true | function | file | path | false [, opts]): the
--   connection's transcript (net.transcript), or none; `build` is the C
--   side's handler builder (trace.c: transcript.handler with a terminal
--   test for the colour rule).
local notice = package.loaded["net.notice"] or function() end

-- Re-raise an error caught from net.dialogue: an argument error at the line
-- that called the method (as C's are), any other as it was.
local function rethrow(msg)
  if type(msg) == "string" and msg:match("^bad argument") then error(msg, 3) end
  error(msg, 0)
end

return function(M, net, build)
  -- expect and reply: at the prompt a failure says so by itself (netaux.h,
  -- "net.notice": called here, whose caller is the prompt's line)
  function M.expect(c, patterns, timeout)
    local r = table.pack(pcall(require("net.dialogue").expect, c, patterns, timeout))
    if not r[1] then rethrow(r[2]) end
    if r[2] == nil and type(r[3]) == "string" then notice(r[3]) end
    return table.unpack(r, 2, r.n)
  end
  function M.reply(c, timeout)
    local r = table.pack(pcall(require("net.dialogue").reply, c, timeout))
    if not r[1] then rethrow(r[2]) end
    if r[2] == nil and type(r[3]) == "string" then notice(r[3]) end
    return table.unpack(r, 2, r.n)
  end
  function M.trace(c, how, opts)
    if how == nil or how == false then return c:settrace(nil) end
    if opts ~= nil and type(opts) ~= "table" then
      error("bad argument #2 to 'trace' (table expected, got " .. type(opts) .. ")", 2)
    end
    local ok, handler, err = pcall(build, how, opts)
    if not ok then  -- an argument error: at the caller's line, as C's are
      error((tostring(handler):gsub("^[^\n]-:%d+: ", "")), 2)
    end
    if not handler then return nil, err end
    return c:settrace(handler)
  end
  -- c:interact([escape]) -> true | nil, "closed" | nil, "interrupted":
  -- telnet mode. Lines typed go out with CRLF (libedit at netlua's
  -- terminal, plain reads of stdin otherwise: see "net.terminal" in
  -- src/netaux.h); what arrives is printed as it comes by a task; the
  -- escape key (default Ctrl-], "\29") returns true with the connection
  -- still open; Ctrl-C returns nil, "interrupted", sending nothing. When the
  -- peer closes: "*** connection closed by foreign host", nil, "closed".
  -- End of input (Ctrl-D, the end of a pipe) half-closes the connection,
  -- as nc -N does, and prints what still arrives until the peer closes.
  -- Not inside a task: the terminal belongs to the main chunk or prompt.
  -- A connection closed here before gives nil, "closed" at once. At a
  -- terminal it starts as telnet does: "Escape character is '^]'." on
  -- stderr.
  function M.interact(c, escape)
    if escape ~= nil and (type(escape) ~= 'string' or #escape ~= 1) then
      error("bad argument #1 to 'interact' (one-character string expected)", 2)
    end
    if not c:getsockname() then  -- closed locally: no peer to blame
      notice('closed')
      return nil, 'closed'
    end
    local isatty = debug.getregistry()['netlua.isatty']
    if type(isatty) == 'function' and isatty(io.stdin) and not coroutine.isyieldable() then
      local b = (escape or '\29'):byte()
      local shown = b < 32 and '^' .. string.char(b + 64) or b == 127 and '^?' or string.char(b)
      io.stderr:write("Escape character is '", shown, "'.\n")
      io.stderr:flush()
    end
    local term = package.loaded['net.terminal']
    local closed, done = false, false
    local out = io.stdout
    local printer = net.spawn(function()
      while not done do
        local data, err = c:receive(1)
        if data then
          local old = c:gettimeout()
          c:settimeout(0)
          local more, _, partial = c:receive(65536)
          c:settimeout(old)
          out:write(data, more or partial or '')
          out:flush()
        elseif err ~= 'timeout' then
          if not done then
            out:write('\n*** connection closed by foreign host\n')
            out:flush()
          end
          closed = true
          term.stop()
          return
        end
      end
    end)
    printer:describe('interact: printing what arrives')
    local why
    while not closed do
      local line, how = term.readline(escape)
      if line then
        if not closed then
          local ok, err = c:send(line .. '\r\n')
          if not ok then why = err break end
        end
      elseif how == 'eof' then
        c:shutdown('send')
        while not closed do net.sleep(0.05) end
      elseif how == 'escape' then
        break
      elseif how == 'interrupted' then
        why = 'interrupted'
        break
      end
    end
    done = true
    if closed then return nil, 'closed' end
    printer:cancel()
    if why then return nil, why end
    return true
  end
end
