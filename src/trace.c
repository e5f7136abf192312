/*
 * trace.c: net.trace and the handler builder (see trace.h). The formatting
 * is Lua's (net.transcript); what Lua cannot do is ask whether a file is a
 * terminal, so the builder hands transcript.handler an isatty of its own
 * (opts.isatty), which its colour rule for standard error uses.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "trace.h"

#define TRACE_KEY "netlua.trace"   /* registry: the global handler */

/* isatty(file) -> boolean [, rows], for a Lua file handle; rows: the
   terminal's height when it is one and says. At the prompt io.stderr
   and io.stdout are routed around the line editor through streams without
   an fd (lineedit.c), which C's stderr and stdout then name: they stand
   for fds 2 and 1. Internal: given to transcript as opts.isatty, and to
   net.help (its pager) as registry["netlua.isatty"]. */
static int l_isatty(lua_State *L) {
  luaL_Stream *p = luaL_testudata(L, 1, LUA_FILEHANDLE);
  int fd = -1;
  if (p && p->closef && p->f) {
    fd = fileno(p->f);
    if (fd < 0 && p->f == stderr) fd = STDERR_FILENO;
    if (fd < 0 && p->f == stdout) fd = STDOUT_FILENO;
  }
  struct winsize ws;
  int tty = fd >= 0 && isatty(fd);
  lua_pushboolean(L, tty);
  if (tty && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
    lua_pushinteger(L, ws.ws_row);
    return 2;
  }
  return 1;
}

int trace_build(lua_State *L, int how, int opts) {
  how = lua_absindex(L, how);
  if (opts) opts = lua_absindex(L, opts);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "net.transcript");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "handler");
  lua_remove(L, -2);
  lua_pushvalue(L, how);
  lua_newtable(L);   /* a copy of opts, with isatty */
  if (opts && lua_istable(L, opts)) {
    lua_pushnil(L);
    while (lua_next(L, opts)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -4);
    }
  }
  if (lua_getfield(L, -1, "isatty") == LUA_TNIL) {
    lua_pushcfunction(L, l_isatty);
    lua_setfield(L, -3, "isatty");
  }
  lua_pop(L, 1);
  lua_call(L, 2, 2);
  if (lua_isfunction(L, -2)) {
    lua_pop(L, 1);
    return 1;
  }
  return 0;
}

int trace_pushglobal(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, TRACE_KEY) == LUA_TFUNCTION) return 1;
  lua_pop(L, 1);
  return 0;
}

/* builder(how [, opts]) -> handler, or nil, message. */
static int l_build(lua_State *L) {
  lua_settop(L, 2);
  return trace_build(L, 1, 2) ? 1 : 2;
}

void trace_pushbuilder(lua_State *L) {
  lua_pushcfunction(L, l_build);
}

/* net.trace(true | function | file | path | false [, opts]) -> true, or
   nil, message: the transcript of every socket made from now on (false or
   nil: none). */
static int l_trace(lua_State *L) {
  lua_settop(L, 2);
  if (lua_isnil(L, 1) || (lua_isboolean(L, 1) && !lua_toboolean(L, 1))) {
    lua_pushnil(L);
  } else {
    luaL_argexpected(L, !lua_isboolean(L, 1) || lua_toboolean(L, 1), 1, "true");
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    if (!trace_build(L, 1, 2)) return 2;
  }
  lua_setfield(L, LUA_REGISTRYINDEX, TRACE_KEY);
  lua_pushboolean(L, 1);
  return 1;
}

void trace_open(lua_State *L) {
  lua_pushcfunction(L, l_trace);
  lua_setfield(L, -2, "trace");
  lua_pushcfunction(L, l_isatty);
  lua_setfield(L, LUA_REGISTRYINDEX, "netlua.isatty");
}
