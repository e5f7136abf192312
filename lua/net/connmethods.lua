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
return function(M, net, build)
  function M.expect(c, patterns, timeout)
    return require("net.dialogue").expect(c, patterns, timeout)
  end
  function M.reply(c, timeout)
    return require("net.dialogue").reply(c, timeout)
  end
  function M.trace(c, how, opts)
    if how == nil or how == false then return c:settrace(nil) end
    if opts ~= nil and type(opts) ~= "table" then
      error("bad argument #2 to 'trace' (table expected, got " .. type(opts) .. ")", 2)
    end
    local handler, err = build(how, opts)
    if not handler then return nil, err end
    return c:settrace(handler)
  end
end
