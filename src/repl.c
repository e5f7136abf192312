/*
 * repl.c: the interactive prompt. (Minimal version: plain reads; the
 * libedit prompt replaces it.)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "repl.h"

void repl_run(lua_State *L, const char *progname) {
  char line[4096];
  (void)progname;
  while (fputs("> ", stdout), fflush(stdout), fgets(line, sizeof line, stdin)) {
    lua_pushfstring(L, "return %s", line);
    if (luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=stdin") != LUA_OK) {
      lua_pop(L, 2);
      if (luaL_loadbuffer(L, line, strlen(line), "=stdin") != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        continue;
      }
    } else {
      lua_remove(L, -2);
    }
    if (lua_pcall(L, 0, LUA_MULTRET, 0) != LUA_OK) {
      fprintf(stderr, "%s\n", lua_tostring(L, -1));
    } else {
      int n = lua_gettop(L);
      for (int i = 1; i <= n; i++) printf("%s%s", luaL_tolstring(L, i, NULL), i < n ? "\t" : "\n"), lua_pop(L, 1);
    }
    lua_settop(L, 0);
  }
}
