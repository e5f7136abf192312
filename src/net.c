/*
 * net.c: luaopen_net, which assembles the `net` module from its parts (one
 * opener per C file, see net.h) and the embedded Lua parts (net.NAME loads
 * lua/net/NAME.lua on first use); and the shared table of error words.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "net.h"

/* Parts not linked in yet are skipped (weak), so the module builds as the
   parts land. */
#define WEAK __attribute__((weak))
WEAK void tcp_open(lua_State *L);
WEAK void udp_open(lua_State *L);
WEAK void dns_open(lua_State *L);
WEAK void ifaddr_open(lua_State *L);
WEAK void luafiles_preload(lua_State *L);

/* errno values and the words netlua uses for them. */
static const struct { int err; const char *msg; } errwords[] = {
  {ECONNREFUSED, "connection refused"},
  {ECONNRESET, "connection reset by peer"},
  {ECONNABORTED, "connection aborted"},
  {ETIMEDOUT, "timeout"},
  {EHOSTUNREACH, "host unreachable"},
  {ENETUNREACH, "network unreachable"},
  {ENETDOWN, "network is down"},
  {EADDRINUSE, "address already in use"},
  {EADDRNOTAVAIL, "address not available"},
  {EACCES, "permission denied"},
  {EPERM, "operation not permitted"},
  {EPIPE, "closed"},
  {EAFNOSUPPORT, "address family not supported"},
  {EMSGSIZE, "message too long"},
  {EMFILE, "too many open files"},
  {ENFILE, "too many open files in system"},
  {ENOBUFS, "no buffer space available"},
  {EINVAL, "invalid argument"},
  {ENOMEM, "out of memory"},
  {0, NULL}};

const char *net_strerror(int err) {
  static char other[128];
  for (int i = 0; errwords[i].msg; i++)
    if (errwords[i].err == err) return errwords[i].msg;
  /* any other cause in the same lower-case style */
  snprintf(other, sizeof other, "%s", strerror(err));
  if (other[0] >= 'A' && other[0] <= 'Z' && !(other[1] >= 'A' && other[1] <= 'Z'))
    other[0] = (char)(other[0] - 'A' + 'a');
  return other;
}

void net_newclass(lua_State *L, const char *name, const luaL_Reg *methods,
                  lua_CFunction gc, lua_CFunction tostring) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, tostring);
  lua_setfield(L, -2, "__tostring");
}

int net_closed(lua_State *L) {
  lua_pushnil(L);
  lua_pushliteral(L, "closed");
  return 2;
}

int net_fail(lua_State *L, const char *fmt, ...) {
  va_list ap;
  lua_pushnil(L);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return 2;
}

void net_checkopts(lua_State *L, int arg, const char *const known[]) {
  if (lua_isnoneornil(L, arg)) return;
  luaL_checktype(L, arg, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, arg) != 0) {
    int ok = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -1);
      for (int i = 0; known[i] && !ok; i++) ok = strcmp(k, known[i]) == 0;
      if (!ok) luaL_argerror(L, arg, lua_pushfstring(L, "unknown option '%s'", k));
    } else {
      luaL_argerror(L, arg, lua_pushfstring(L, "option names are strings, got %s",
                                            luaL_typename(L, -1)));
    }
  }
}

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
  loop_open(L);
  if (tcp_open) tcp_open(L);
  if (udp_open) udp_open(L);
  if (dns_open) dns_open(L);
  if (ifaddr_open) ifaddr_open(L);
  if (luafiles_preload) luafiles_preload(L);
  lua_newtable(L);
  lua_pushcfunction(L, net_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  return 1;
}
