/*
 * netaux.c: Lua helpers every part of `net` uses: options tables checked
 * for misspelt keys, a class's metatable made one way, and the two shapes
 * of a runtime failure (nil, "closed" and nil, message), the notices
 * that make a failure typed at the prompt say so, and the guards that undo
 * what an unwound call holds. See netaux.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "loop.h"
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

/* ---- guards ------------------------------------------------------------ */

#define GUARD_MT "netlua.guard"

/* A guard; user value 1: the value it guards. */
typedef struct guard {
  int armed;
  lua_CFunction undo;
} guard;

/* __close of a guard: undo, once, if still armed (the error is at 2). */
static int guard_close(lua_State *L) {
  guard *g = lua_touserdata(L, 1);
  if (!g->armed) return 0;
  g->armed = 0;
  lua_pushcfunction(L, g->undo);
  lua_getiuservalue(L, 1, 1);
  lua_pushvalue(L, 2);
  lua_call(L, 2, 0);
  return 0;
}

void net_guard_push(lua_State *L, int idx, lua_CFunction undo) {
  guard *g;
  idx = lua_absindex(L, idx);
  g = lua_newuserdatauv(L, sizeof *g, 1);
  g->armed = 1;
  g->undo = undo;
  lua_pushvalue(L, idx);
  lua_setiuservalue(L, -2, 1);
  if (luaL_newmetatable(L, GUARD_MT)) {
    lua_pushcfunction(L, guard_close);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  lua_toclose(L, -1);
}

void net_guard_disarm(lua_State *L, int slot) {
  guard *g = lua_gettop(L) >= slot ? luaL_testudata(L, slot, GUARD_MT) : NULL;
  if (g) {
    g->armed = 0;
    lua_closeslot(L, slot);
  }
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

void net_checkopts_in(lua_State *L, int idx, int arg, const char *prefix, const char *const known[]) {
  idx = lua_absindex(L, idx);
  if (lua_isnoneornil(L, idx)) return;
  if (idx == arg) luaL_checktype(L, arg, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    int ok = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -1);
      for (int i = 0; known[i] && !ok; i++) ok = strcmp(k, known[i]) == 0;
      if (!ok) luaL_argerror(L, arg, lua_pushfstring(L, "unknown option '%s%s'", prefix ? prefix : "", k));
    } else {
      luaL_argerror(L, arg, lua_pushfstring(L, "option names are strings, got %s",
                                            luaL_typename(L, -1)));
    }
  }
}

void net_checkopts(lua_State *L, int arg, const char *const known[]) {
  net_checkopts_in(L, arg, arg, NULL, known);
}

/* ---- the terminal, for conn:interact -------------------------------- */

static net_lineread_fn lineread;   /* the program's line editor, if any */
static void *lineread_ud;
static volatile int stopped;       /* stop() during the current readline */
static lua_State *reading;         /* the thread inside readline, or NULL */
static char inbuf[4096];           /* plain reads: bytes not used yet */
static size_t inlen;

void net_set_lineread(net_lineread_fn fn, void *ud, net_lineread_fn *oldfn, void **oldud) {
  if (oldfn) *oldfn = lineread;
  if (oldud) *oldud = lineread_ud;
  lineread = fn;
  lineread_ud = ud;
}

int net_terminal_stopped(void) {
  return stopped;
}

/* Plain reads of stdin on the loop: push the next line (without \n or
   \r\n). Returns 1, 0 at end of input, -1 on Ctrl-C, -2 for a line with
   the escape byte, -3 when stopped. */
static int plain_readline(lua_State *L, int escape) {
  for (;;) {
    char *nl = memchr(inbuf, '\n', inlen);
    ssize_t k;
    int t;
    if (nl) {
      size_t len = (size_t)(nl - inbuf), take = len + 1;
      int esc = escape > 0 && memchr(inbuf, escape, len) != NULL;
      if (len > 0 && inbuf[len - 1] == '\r') len--;
      if (!esc) lua_pushlstring(L, inbuf, len);
      memmove(inbuf, inbuf + take, inlen - take);
      inlen -= take;
      return esc ? -2 : 1;
    }
    if (escape > 0 && memchr(inbuf, escape, inlen)) {  /* no newline needed */
      inlen = 0;
      return -2;
    }
    if (stopped) return -3;
    if (inlen == sizeof inbuf) {  /* a long line goes in pieces */
      lua_pushlstring(L, inbuf, inlen);
      inlen = 0;
      return 1;
    }
    t = loop_turn(L, STDIN_FILENO, -1);
    if (t < 0) return -1;
    if (t == 0) continue;
    k = read(STDIN_FILENO, inbuf + inlen, sizeof inbuf - inlen);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k <= 0) {
      if (inlen == 0) return 0;
      lua_pushlstring(L, inbuf, inlen);  /* a last line without \n */
      inlen = 0;
      return 1;
    }
    inlen += (size_t)k;
  }
}

/* readline(escape) -> line | nil, why. */
static int l_readline(lua_State *L) {
  static const char *const why[] = {"eof", "interrupted", "escape", "stopped"};
  int escape = 0, r = -4;
  size_t n;
  const char *e = luaL_optlstring(L, 1, "\035", &n);
  luaL_argcheck(L, n == 1 && e[0] != '\0' && e[0] != '\n', 1, "one character (not NUL or newline)");
  escape = (unsigned char)e[0];
  if (!lua_pushthread(L)) luaL_error(L, "interact: only outside tasks (the main chunk or the prompt)");
  if (reading) luaL_error(L, "interact: the terminal is in use");
  lua_settop(L, 0);
  reading = L;
  stopped = 0;
  if (lineread && isatty(STDIN_FILENO)) r = lineread(lineread_ud, L, escape);
  if (r == -4) r = plain_readline(L, escape);
  reading = NULL;
  if (r == 1) return 1;
  lua_pushnil(L);
  lua_pushstring(L, why[r == 0 ? 0 : -r]);
  return 2;
}

/* stop(): make the readline in progress return nil, "stopped". */
static int l_stop(lua_State *L) {
  (void)L;
  stopped = 1;
  if (reading) loop_wake(reading);
  return 0;
}

void net_terminal_open(lua_State *L) {
  static const luaL_Reg fns[] = {{"readline", l_readline}, {"stop", l_stop}, {NULL, NULL}};
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "net.terminal");
  lua_pop(L, 1);
}
