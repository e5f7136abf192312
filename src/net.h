/*
 * net.h: how the parts of the `net` module fit together.
 *
 * luaopen_net (net.c) makes the `net` table and calls each part's opener
 * with that table at the top of the stack; an opener adds its functions and
 * metatables and leaves the stack as it found it. Lua parts of the module
 * (lua/net/NAME.lua) are compiled into the program and module (luafiles.c,
 * generated) and reached as package.preload["net.NAME"]; `net.NAME` loads
 * them on first use.
 */
#ifndef NETLUA_NET_H
#define NETLUA_NET_H

#include <lauxlib.h>
#include <lua.h>

#define NETLUA_VERSION "0.1.0"

int luaopen_net(lua_State *L);

/* Part openers (one per C file), each adding to the table at the top. */
void loop_open(lua_State *L);     /* loop.c: spawn, sleep, now, run */
void tcp_open(lua_State *L);      /* tcp.c: connect, listen */
void udp_open(lua_State *L);      /* udp.c: udp */
void dns_open(lua_State *L);      /* dns.c: resolve, lookup, reverse, dns */
void ifaddr_open(lua_State *L);   /* ifaddr.c: interfaces, interface, hostname, myip, gateways */

/* The embedded Lua files (generated luafiles.c): registers each as
   package.preload["net.NAME"]. */
void luafiles_preload(lua_State *L);

/* Errors: one table of words for errno values, so every message reads the
   same ("connection refused", "timeout", "closed"). */
const char *net_strerror(int err);

/* SIGPIPE is left at its default, as in lua (so `netlua script | head`
   ends as lua5.4 does): every write to a socket, ours and c-ares', uses
   MSG_NOSIGNAL instead, so a peer that has gone never kills the process. */

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
