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
 *       or nil, name or nil, message (a __tostring of a value, or the
 *          table's __pairs, raised: the field's name, or nil, and the error)
 *     headers: what a handler returned (a table {Name = value}, its
 *     __pairs honoured; nil: none). text: its fields as "Name: value\r\n",
 *     in the order pairs gives; a value is a string or a number, a list of
 *     them (a line for each: two Set-Cookie fields), or anything else
 *     through tostring; then the lines `date` and `server` ("Date: ...",
 *     "Server: ...") with CR LF, each unless the table has that field (in
 *     any case). Content-Length, Transfer-Encoding and Connection are left
 *     out (the server writes them); close: a Connection field holding
 *     "close" (any case). Bad: a name that is not a string token, a value
 *     with a control byte but tab (CR, LF, NUL ...), a table value that is
 *     not a list of strings.
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
   replaced by the next key and value; 0 (and nothing) at the end, -1 (and
   the error) when __pairs's iterator raised. `it`: the stack index of
   __pairs's iterator and state, or 0 for lua_next. */
static int step(lua_State *L, int h, int it) {
  if (it == 0) return lua_next(L, h);
  lua_pushvalue(L, it);
  lua_pushvalue(L, it + 1);
  lua_rotate(L, -3, 2);   /* iterator, state, control */
  if (lua_pcall(L, 2, 2, 0) != LUA_OK) return -1;
  if (lua_isnil(L, -2)) {
    lua_pop(L, 2);
    return 0;
  }
  return 1;
}

/* tostring(v), for lua_pcall. */
static int tostring(lua_State *L) {
  luaL_tolstring(L, 1, NULL);
  return 1;
}

/* What fields() has seen so far. */
typedef struct {
  text t;
  int close, date, server;
} seen;

/* True when s[0, n) holds a control byte but tab (CR, LF, NUL, DEL ...):
   never in a field value (RFC 9110). */
static int has_ctl(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if ((ch < 32 && ch != '\t') || ch == 127) return 1;
  }
  return 0;
}

/* Write the field name[0, nn): the value at idx (a string or a number),
   or note what it says; 0 when the value holds a control byte. */
static int field(lua_State *L, seen *f, const char *name, size_t nn, int idx) {
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  if (has_ctl(s, n)) return 0;
  if (named(name, nn, "connection", 10)) {
    if (strcasestr(s, "close")) f->close = 1;
  } else if (!named(name, nn, "content-length", 14) && !named(name, nn, "transfer-encoding", 17)) {
    f->date = f->date || named(name, nn, "date", 4);
    f->server = f->server || named(name, nn, "server", 6);
    put(L, &f->t, name, nn);
    put(L, &f->t, ": ", 2);
    put(L, &f->t, s, n);
    put(L, &f->t, "\r\n", 2);
  }
  return 1;
}

/* Write the field whose name is at key and value at key + 1: a string or
   a number; a list of them (one line each: Set-Cookie); anything else
   through tostring. 1, 0 (bad), or -1 with the error of a __tostring on
   the top. */
static int value(lua_State *L, seen *f, int key) {
  size_t nn;
  const char *name = lua_tolstring(L, key, &nn);
  int v = key + 1, type = lua_type(L, v);
  if (type == LUA_TSTRING || type == LUA_TNUMBER) return field(L, f, name, nn, v);
  if (type == LUA_TTABLE && luaL_getmetafield(L, v, "__tostring") == LUA_TNIL) {
    lua_Integer n = (lua_Integer)lua_rawlen(L, v);
    for (lua_Integer i = 1; i <= n; i++) {
      int t = lua_rawgeti(L, v, i);
      if ((t != LUA_TSTRING && t != LUA_TNUMBER) || !field(L, f, name, nn, lua_gettop(L))) return 0;
      lua_pop(L, 1);
    }
    if (n > 0) return 1;
    lua_pushnil(L);
    return lua_next(L, v) == 0;   /* {}: no line; a table that is no list: bad */
  }
  lua_settop(L, v);
  lua_pushcfunction(L, tostring);
  lua_pushvalue(L, v);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) return -1;
  return field(L, f, name, nn, lua_gettop(L));
}

/* Stack: 1 headers, 2 date, 3 server, 4 the text's slot, 5 and 6 the
   iterator and state of __pairs (when it has one). */
static int l_fields(lua_State *L) {
  char local[1024];
  seen f = {{local, 0, sizeof local, 4}, 0, 0, 0};
  int it = 0, r;
  size_t n;
  const char *s;
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkstring(L, 2);
  luaL_checkstring(L, 3);
  lua_settop(L, 4);
  if (lua_istable(L, 1)) {
    if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
      lua_pushvalue(L, 1);
      if (lua_pcall(L, 1, 3, 0) != LUA_OK) goto raised;  /* iterator, state, first control */
      it = 5;
    } else {
      lua_pushnil(L);
    }
    while ((r = step(L, 1, it)) > 0) {  /* ... key value */
      int key = lua_gettop(L) - 1;
      size_t nn;
      if (lua_type(L, key) != LUA_TSTRING) goto bad;
      s = lua_tolstring(L, key, &nn);
      if (!http_token(s, nn)) goto bad;
      r = value(L, &f, key);
      if (r < 0) {
        lua_pushnil(L);
        lua_pushvalue(L, key);
        lua_pushvalue(L, -3);   /* the error */
        return 3;
      }
      if (r == 0) goto bad;
      lua_settop(L, key);     /* the key stays: the next control */
      continue;
    bad:
      lua_pushnil(L);
      lua_pushvalue(L, key);
      return 2;
    }
    if (r < 0) goto raised;
  }
  if (!f.date) {
    s = lua_tolstring(L, 2, &n);
    put(L, &f.t, s, n);
    put(L, &f.t, "\r\n", 2);
  }
  if (!f.server) {
    s = lua_tolstring(L, 3, &n);
    put(L, &f.t, s, n);
    put(L, &f.t, "\r\n", 2);
  }
  lua_pushlstring(L, f.t.p, f.t.len);
  lua_pushboolean(L, f.close);
  return 2;
raised:   /* __pairs or its iterator raised: nil, nil, the error */
  lua_pushnil(L);
  lua_pushnil(L);
  lua_pushvalue(L, -3);
  return 3;
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
