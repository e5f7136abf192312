-- net.connmethods: the methods of connections written in Lua, internal to
-- the connection type (conn.c joins them to its method table when net
-- opens, then takes this file out of package.preload, so it is no part of
-- net: not net.connmethods, not in help() or completion).
-- Returns a function(M, net) that adds to M, the method table:
--   c:expect(pattern [, timeout]) reads lines until one matches and returns
--   its captures (or the line);
--   c:trace([on | function | file]) installs a transcript writer from
--   net.trace.
return function(M, net)
  function M.expect(c, pat, timeout)
    if type(pat) ~= 'string' then error("bad argument #1 to 'expect' (string expected, got "..type(pat)..')', 2) end
    local stop = timeout and net.now() + timeout
    local old = c:gettimeout()
    local seen = {}
    while true do
      if stop then c:settimeout(math.max(0, stop - net.now())) end
      local line, err, partial = c:receive('l')
      if stop then c:settimeout(old) end
      if not line then
        if #seen > 0 then err = err .. ' (read: ' .. table.concat(seen, ' | '):sub(1, 200) .. ')' end
        return nil, err, partial
      end
      if line:find(pat) then return line:match(pat) end
      seen[#seen + 1] = line
    end
  end
  function M.trace(c, how)
    if how == nil or how == false then return c:settrace(nil) end
    return c:settrace(require('net.trace').handler(how))
  end
end
