/*
 * httpreply.c: the header fields of an HTTP reply, checked and written in
 * C for the HTTP server (lua/net/httpserve.lua): every reply makes them,
 * and done field by field in Lua they cost more than the rest of a small
 * reply. What a reply holds and when (status, framing, keep-alive) stays
 * in Lua.
 *
 * Internal, not a part of net: package.loaded["net.httpreply"] holds
 *
 *   fields(headers, date, server) -> text, close
 *       or nil, name (a bad field: its name as given)
 *     headers: what a handler returned (a table {Name = value}, its
 *     __pairs honoured; nil: none). text: its fields as "Name: value\r\n",
 *     in the order pairs gives, each value through tostring; then the
 *     lines `date` and `server` ("Date: ...", "Server: ...") with CR LF,
 *     each unless the table has that field (in any case). Content-Length,
 *     Transfer-Encoding and Connection are left out (the server writes
 *     them); close: a Connection field holding "close" (any case). Bad: a
 *     name that is not a string token, a value with CR, LF or NUL.
 *
 *   last(conn): what is sent on conn from now on is the last before it is
 *     closed (a reply with "Connection: close"): plain TCP holds it back
 *     (MSG_MORE) and the close (or a shutdown) sends it with the FIN, one
 *     segment where there were two. TLS ignores it.
 */
#define _GNU_SOURCE
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <lua.h>

#include "conn.h"
#include "httphead.h"
#include "transport.h"

/* The text being made: in `local` (on the C stack) while it fits, then
   in a userdata at stack index `slot`, which the collector frees if an
   error (a __tostring, memory) cuts the call short. */
typedef struct {
  char *p;
  size_t len, cap;
  int slot;
} text;

static void put(lua_State *L, text *t, const char *s, size_t n) {
  if (t->cap - t->len < n) {
    size_t cap = t->cap * 2 + n;
    char *p = lua_newuserdatauv(L, cap, 0);
    memcpy(p, t->p, t->len);
    lua_replace(L, t->slot);
    t->p = p;
    t->cap = cap;
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
}

/* True when name[0, n) is `word` (lower case) in any case. */
static int named(const char *name, size_t n, const char *word, size_t wn) {
  return n == wn && strncasecmp(name, word, n) == 0;
}

/* One step of pairs over the table at h: the control key at the top is
   replaced by the next key and value; 0 (and nothing) at the end. `it`:
   the stack index of __pairs's iterator and state, or 0 for lua_next. */
static int step(lua_State *L, int h, int it) {
  if (it == 0) return lua_next(L, h);
  lua_pushvalue(L, it);
  lua_pushvalue(L, it + 1);
  lua_rotate(L, -3, 2);   /* iterator, state, control */
  lua_call(L, 2, 2);
  if (lua_isnil(L, -2)) {
    lua_pop(L, 2);
    return 0;
  }
  return 1;
}

/* Stack: 1 headers, 2 date, 3 server, 4 the text's slot, 5 and 6 the
   iterator and state of __pairs (when it has one). */
static int l_fields(lua_State *L) {
  char local[1024];
  text t = {local, 0, sizeof local, 4};
  int close = 0, date = 0, server = 0, it = 0;
  size_t n;
  const char *s;
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkstring(L, 2);
  luaL_checkstring(L, 3);
  lua_settop(L, 4);
  if (lua_istable(L, 1)) {
    if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
      lua_pushvalue(L, 1);
      lua_call(L, 1, 3);      /* iterator, state, first control */
      it = 5;
    } else {
      lua_pushnil(L);
    }
    while (step(L, 1, it)) {  /* ... key value */
      int key = lua_gettop(L) - 1;
      const char *name;
      size_t nn;
      if (lua_type(L, key) != LUA_TSTRING) goto bad;
      name = lua_tolstring(L, key, &nn);
      if (!http_token(name, nn)) goto bad;
      if (lua_type(L, key + 1) == LUA_TSTRING) s = lua_tolstring(L, key + 1, &n);
      else s = luaL_tolstring(L, key + 1, &n);   /* ... key value text */
      if (memchr(s, '\r', n) || memchr(s, '\n', n) || memchr(s, '\0', n)) goto bad;
      if (named(name, nn, "connection", 10)) {
        if (strcasestr(s, "close")) close = 1;
      } else if (!named(name, nn, "content-length", 14) && !named(name, nn, "transfer-encoding", 17)) {
        date = date || named(name, nn, "date", 4);
        server = server || named(name, nn, "server", 6);
        put(L, &t, name, nn);
        put(L, &t, ": ", 2);
        put(L, &t, s, n);
        put(L, &t, "\r\n", 2);
      }
      lua_settop(L, key);     /* the key stays: the next control */
      continue;
    bad:
      lua_pushnil(L);
      lua_pushvalue(L, key);
      return 2;
    }
  }
  if (!date) {
    s = lua_tolstring(L, 2, &n);
    put(L, &t, s, n);
    put(L, &t, "\r\n", 2);
  }
  if (!server) {
    s = lua_tolstring(L, 3, &n);
    put(L, &t, s, n);
    put(L, &t, "\r\n", 2);
  }
  lua_pushlstring(L, t.p, t.len);
  lua_pushboolean(L, close);
  return 2;
}

/* last(conn). */
static int l_last(lua_State *L) {
  conn_transport(conn_check(L, 1))->last = 1;
  return 0;
}

void httpreply_open(lua_State *L) {
  static const luaL_Reg f[] = {{"fields", l_fields}, {"last", l_last}, {NULL, NULL}};
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  luaL_newlib(L, f);
  lua_setfield(L, -2, "net.httpreply");
  lua_pop(L, 1);
}
