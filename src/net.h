/*
 * net.h: how the parts of the `net` module fit together.
 *
 * luaopen_net (net.c) makes the `net` table, registers the embedded Lua
 * files (an opener may use them), and calls each part's opener with that
 * table at the top of the stack; an opener adds its functions and
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
void loop_open(lua_State *L);     /* task.c: spawn, sleep, now, run, tasks */
void conn_open(lua_State *L);     /* conn.c: the connection type (no net.X) */
void connect_open(lua_State *L);  /* connect.c: connect */
void server_open(lua_State *L);   /* server.c: listen, the server type */
void tlsconn_open(lua_State *L);  /* tlsconn.c: conn:starttls, conn:tlsinfo */
void udp_open(lua_State *L);      /* udp.c: udp */
void dns_open(lua_State *L);      /* dns.c: resolve, lookup, reverse, dns */
void ifaddr_open(lua_State *L);   /* ifaddr.c: interfaces, interface, hostname, myip, gateways */

/* The embedded Lua files (generated luafiles.c): registers each as
   package.preload["net.NAME"]. */
void luafiles_preload(lua_State *L);

#endif
