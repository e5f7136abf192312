/*
 * netaux.c: Lua helpers every part of `net` uses: options tables checked
 * for misspelt keys, a class's metatable made one way, and the two shapes
 * of a runtime failure (nil, "closed" and nil, message). See netaux.h.
 */
#include <stdarg.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "netaux.h"

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
