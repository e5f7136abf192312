/*
 * net.c: luaopen_net, which assembles the `net` module from its parts (one
 * opener per C file, see net.h) and the embedded Lua parts (net.NAME loads
 * lua/net/NAME.lua on first use). Assembly only: nothing else lives here.
 */
#define _GNU_SOURCE

#include <lauxlib.h>
#include <lua.h>

#include "args.h"
#include "net.h"

/* Parts not linked in yet are skipped (weak), so the module builds as the
   parts land. */
#define WEAK __attribute__((weak))
WEAK void conn_open(lua_State *L);
WEAK void connect_open(lua_State *L);
WEAK void server_open(lua_State *L);
WEAK void tlsconn_open(lua_State *L);
WEAK void udp_open(lua_State *L);
WEAK void dns_open(lua_State *L);
WEAK void ifaddr_open(lua_State *L);
WEAK void httphead_open(lua_State *L);
WEAK void httpreply_open(lua_State *L);
WEAK void luafiles_preload(lua_State *L);

/* net.NAME on first use: require "net.NAME" if it is one of ours. */
static int net_index(lua_State *L) {
  const char *k = lua_tostring(L, 2);
  if (k == NULL) return 0;
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushfstring(L, "net.%s", k);
  if (lua_gettable(L, -2) == LUA_TNIL) return 0;
  lua_getglobal(L, "require");
  lua_pushfstring(L, "net.%s", k);
  lua_call(L, 1, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

int luaopen_net(lua_State *L) {
  lua_newtable(L);
  lua_pushstring(L, NETLUA_VERSION);
  lua_setfield(L, -2, "version");
  args_setnet(L);  /* names in every part resolve through net.resolve */
  if (luafiles_preload) luafiles_preload(L);  /* first: openers may use them */
  loop_open(L);
  if (conn_open) conn_open(L);
  if (connect_open) connect_open(L);
  if (server_open) server_open(L);
  if (tlsconn_open) tlsconn_open(L);
  if (udp_open) udp_open(L);
  if (dns_open) dns_open(L);
  if (ifaddr_open) ifaddr_open(L);
  if (httphead_open) httphead_open(L);
  if (httpreply_open) httpreply_open(L);
  lua_newtable(L);
  lua_pushcfunction(L, net_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  return 1;
}
