/*
 * netaux.c: Lua helpers every part of `net` uses: options tables checked
 * for misspelt keys, a class's metatable made one way, and the two shapes
 * of a runtime failure (nil, "closed" and nil, message), and the notices
 * that make a failure typed at the prompt say so. See netaux.h.
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
  net_notice(L, "closed");
  return 2;
}

int net_timeout(lua_State *L) {
  lua_pushnil(L);
  lua_pushliteral(L, "timeout");
  net_notice(L, "timeout");
  return 2;
}

int net_fail(lua_State *L, const char *fmt, ...) {
  va_list ap;
  lua_pushnil(L);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  net_notice(L, lua_tostring(L, -1));
  return 2;
}

/* ---- notices ----------------------------------------------------------- */

#define NOTICE_KEEP 32   /* notices kept per line; more are only counted */

static char notice_key;  /* registry: the pending notices, while the mode is on */

/* True when the function `level` levels up is the prompt's chunk, running
   on the main thread. */
static int from_prompt(lua_State *L, int level) {
  lua_Debug ar;
  int main = lua_pushthread(L);
  lua_pop(L, 1);
  if (!main || !lua_getstack(L, level, &ar) || !lua_getinfo(L, "S", &ar)) return 0;
  return strcmp(ar.what, "main") == 0 && strcmp(ar.source, "=stdin") == 0;
}

/* Record msg if the mode is on and the function `level` up is the prompt. */
static void notice_at(lua_State *L, int level, const char *msg) {
  lua_Integer n;
  if (msg == NULL) return;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &notice_key) != LUA_TTABLE || !from_prompt(L, level)) {
    lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, "n");
  n = lua_tointeger(L, -1) + 1;
  lua_pop(L, 1);
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  if (n <= NOTICE_KEEP) {
    lua_pushstring(L, msg);
    lua_rawseti(L, -2, n);
  }
  lua_pop(L, 1);
}

void net_notice(lua_State *L, const char *msg) {
  notice_at(L, 1, msg);
}

void net_notice_mode(lua_State *L, int on) {
  if (on) lua_newtable(L); else lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &notice_key);
}

void net_notice_take(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &notice_key) == LUA_TTABLE) {
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &notice_key);
  } else {
    lua_pop(L, 1);
    lua_newtable(L);
  }
}

/* notice(message): record it when the caller was called from the prompt. */
static int l_notice(lua_State *L) {
  notice_at(L, 2, luaL_checkstring(L, 1));
  return 0;
}

void net_notice_open(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushcfunction(L, l_notice);
  lua_setfield(L, -2, "net.notice");
  lua_pop(L, 1);
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
