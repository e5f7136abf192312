/*
 * netaux.h: Lua helpers shared by every part of the `net` module (below
 * the parts, above the OS helpers): options, classes, failures.
 */
#ifndef NETLUA_NETAUX_H
#define NETLUA_NETAUX_H

#include <lauxlib.h>
#include <lua.h>

/* Options tables: raise a Lua error (luaL_argerror at `arg`, e.g. "bad
   argument #3 to 'connect' (unknown option 'sever')") for the first key
   not in `known` (NULL-terminated) or not a string; nothing when the
   argument is nil or absent; a non-table raises too. A misspelt option
   must never be silently ignored (a typo in `server` would send a query to
   the system resolver). */
void net_checkopts(lua_State *L, int arg, const char *const known[]);

/* A class of objects: the metatable `name` (registered as luaL_newmetatable
   does) with __index = a table of `methods`, __gc and __close = `gc` (one
   idempotent close), and __tostring; left at the top of the stack. */
void net_newclass(lua_State *L, const char *name, const luaL_Reg *methods,
                  lua_CFunction gc, lua_CFunction tostring);

/* Push nil, "closed" (a method used after close); returns 2. */
int net_closed(lua_State *L);

/* Push nil and a formatted message; returns 2 (use as `return net_fail(...)`). */
int net_fail(lua_State *L, const char *fmt, ...);

#endif
