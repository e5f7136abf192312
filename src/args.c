/*
 * args.c: argument checks (host, port, timeout, family, numeric options,
 * receive patterns), labels and address results, and address lookup
 * (literals, "localhost", names through net.resolve) for every part that
 * takes an address. See args.h.
 */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <lua.h>

#include "args.h"
#include "sock.h"

#define MAXADDRS ARGS_MAXADDRS

static char net_key;      /* registry: the net table */

/* The port at arg, from lo (0 or 1) to 65535; else an argument error. */
static int checkport(lua_State *L, int arg, lua_Integer lo) {
  int isnum = 0;
  lua_Integer p = 0;
  if (lua_type(L, arg) == LUA_TNUMBER || lua_type(L, arg) == LUA_TSTRING)
    p = lua_tointegerx(L, arg, &isnum);
  if (!isnum || p < lo || p > 65535) {
    const char *got = lua_type(L, arg) == LUA_TSTRING || lua_type(L, arg) == LUA_TNUMBER
                          ? lua_pushfstring(L, "%s", lua_tostring(L, arg))
                          : luaL_typename(L, arg);
    if (isnum && p == 0)
      return luaL_argerror(L, arg, "port must be 1-65535 (port 0 is no port to connect or send to)");
    return luaL_argerror(L, arg, lua_pushfstring(L, "port must be an integer %d-65535, got %s", (int)lo, got));
  }
  return (int)p;
}

int args_checkport(lua_State *L, int arg) { return checkport(L, arg, 0); }

int args_checkdestport(lua_State *L, int arg) { return checkport(L, arg, 1); }

/* If h is "[addr]:port" or "name:port" (one colon, digits after it), push
   the host part and return 1. */
static int host_with_port(lua_State *L, const char *h, size_t len) {
  const char *colon = strrchr(h, ':');
  if (colon == NULL || colon[1] == '\0' || strspn(colon + 1, "0123456789") != strlen(colon + 1))
    return 0;
  if (h[0] == '[' && colon > h + 1 && colon[-1] == ']') {
    lua_pushlstring(L, h + 1, (size_t)(colon - h) - 2);
    return 1;
  }
  if (colon == h || memchr(h, ':', (size_t)(colon - h)) != NULL || h[0] == '[') return 0;
  (void)len;
  lua_pushlstring(L, h, (size_t)(colon - h));
  return 1;
}

const char *args_checkhost(lua_State *L, int arg) {
  size_t len;
  const char *h;
  if (lua_type(L, arg) != LUA_TSTRING)
    luaL_argerror(L, arg, lua_pushfstring(L, "host must be a string, got %s", luaL_typename(L, arg)));
  h = lua_tolstring(L, arg, &len);
  luaL_argcheck(L, strlen(h) == len, arg, "host contains a NUL byte");
  luaL_argcheck(L, len > 0, arg, "host is empty");
  if (host_with_port(L, h, len)) {
    const char *bare = lua_tostring(L, -1);
    luaL_argerror(L, arg, lua_pushfstring(L, "host \"%s\" has a port in it: give the port apart, "
                                          "as in net.connect(\"%s\", %s)", h, bare, strrchr(h, ':') + 1));
  }
  return h;
}

int args_optfamily(lua_State *L, int opts) {
  int f = 0;
  if (opts == 0 || lua_type(L, opts) != LUA_TTABLE) return 0;
  lua_getfield(L, opts, "family");
  if (!lua_isnil(L, -1)) {
    const char *s = lua_tostring(L, -1);
    if (s && (!strcmp(s, "inet") || !strcmp(s, "ipv4") || !strcmp(s, "4"))) f = AF_INET;
    else if (s && (!strcmp(s, "inet6") || !strcmp(s, "ipv6") || !strcmp(s, "6"))) f = AF_INET6;
    else luaL_argerror(L, opts, lua_pushfstring(L, "option 'family' must be \"inet\" or \"inet6\", got %s",
                                                s ? s : luaL_typename(L, -1)));
  }
  lua_pop(L, 1);
  return f;
}

double args_optnumber(lua_State *L, int opts, const char *name, double dflt) {
  double v = dflt;
  if (opts == 0 || lua_type(L, opts) != LUA_TTABLE) return dflt;
  lua_getfield(L, opts, name);
  if (!lua_isnil(L, -1)) {
    int ok;
    v = lua_tonumberx(L, -1, &ok);
    if (!ok || lua_type(L, -1) != LUA_TNUMBER)
      luaL_argerror(L, opts, lua_pushfstring(L, "option '%s' must be a number, got %s", name,
                                             luaL_typename(L, -1)));
    if (isnan(v)) luaL_argerror(L, opts, lua_pushfstring(L, "option '%s' is NaN", name));
  }
  lua_pop(L, 1);
  return v;
}

/* A timeout value at idx (a number): the seconds, -1 for math.huge; NaN
   and negative values are errors (raised on argument `arg`, naming
   `what`). */
static double checkseconds(lua_State *L, int idx, int arg, const char *what) {
  double t = lua_tonumber(L, idx);
  if (isnan(t) || t < 0)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a number >= 0 or nil, got %s", what,
                                          lua_tostring(L, idx)));
  return isinf(t) ? -1 : t;
}

double args_opttimeout(lua_State *L, int opts) {
  double t = -1;
  if (opts == 0 || lua_type(L, opts) != LUA_TTABLE) return -1;
  args_optnumber(L, opts, "timeout", -1);   /* type check */
  if (lua_getfield(L, opts, "timeout") != LUA_TNIL) t = checkseconds(L, -1, opts, "option 'timeout'");
  lua_pop(L, 1);
  return t;
}

double args_checktimeout(lua_State *L, int arg, double dflt) {
  if (lua_isnoneornil(L, arg)) return dflt;
  if (lua_type(L, arg) != LUA_TNUMBER)
    luaL_argerror(L, arg, lua_pushfstring(L, "timeout must be a number >= 0 or nil, got %s",
                                          luaL_typename(L, arg)));
  return checkseconds(L, arg, arg, "timeout");
}

size_t args_optlinelimit(lua_State *L, int opts) {
  double n = args_optnumber(L, opts, "linelimit", 0);
  if (n != 0 && (n < 1 || n != floor(n) || n > 9007199254740992.0))
    luaL_argerror(L, opts, "option 'linelimit' must be an integer >= 1");
  return (size_t)n;
}

const char *args_pushhostport(lua_State *L, const char *host, int port) {
  if (strchr(host, ':') && host[0] != '[') return lua_pushfstring(L, "[%s]:%d", host, port);
  return lua_pushfstring(L, "%s:%d", host, port);
}

int args_pushaddr(lua_State *L, const sock_addr *a) {
  char buf[SOCK_ADDRSTRLEN];
  lua_pushstring(L, sock_ntop(a, buf, sizeof buf));
  lua_pushinteger(L, sock_port(a));
  return 2;
}

int args_literal(const char *host, int port, int family, sock_addr *out, int max) {
  int n = 0;
  if (sock_pton(host, port, 0, &out[0]) == 0)
    return family == 0 || sock_family(&out[0]) == family ? 1 : 0;
  if (sock_looks_numeric(host)) return -2;
  if (strcasecmp(host, "localhost") != 0 || max < 2) return -1;
  if (family != AF_INET) sock_loopback(AF_INET6, port, &out[n++]);
  if (family != AF_INET6) sock_loopback(AF_INET, port, &out[n++]);
  return n;
}

void args_setnet(lua_State *L) {
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &net_key);
}

int args_push_resolve(lua_State *L, const char *host, int opts, double timeout) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &net_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_getfield(L, -1, "resolve") != LUA_TFUNCTION) {
    lua_pop(L, 2);
    return 0;
  }
  lua_remove(L, -2);
  lua_pushstring(L, host);
  lua_createtable(L, 0, 2);
  if (opts && lua_type(L, opts) == LUA_TTABLE) {
    lua_getfield(L, opts, "family");
    lua_setfield(L, -2, "family");
  }
  if (timeout >= 0) {
    lua_pushnumber(L, timeout);
    lua_setfield(L, -2, "timeout");
  }
  return 1;
}

int args_take_resolved(lua_State *L, int port, int family, sock_addr *out, int max) {
  sock_addr v6[MAXADDRS], v4[MAXADDRS];
  int n6 = 0, n4 = 0, first = 0, n = 0;
  if (lua_type(L, -2) != LUA_TTABLE) {
    if (!lua_isstring(L, -1)) lua_pushliteral(L, "cannot resolve");
    return -1;
  }
  lua_pop(L, 1);
  for (lua_Integer i = 1; n6 + n4 < 2 * MAXADDRS; i++) {
    sock_addr a;
    int t = lua_rawgeti(L, -1, i);
    const char *s = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1);
    if (t == LUA_TNIL) break;
    if (!s || sock_pton(s, port, family, &a) != 0) continue;
    if (!first) first = sock_family(&a);
    if (sock_family(&a) == AF_INET6 && n6 < MAXADDRS) v6[n6++] = a;
    else if (sock_family(&a) == AF_INET && n4 < MAXADDRS) v4[n4++] = a;
  }
  lua_pop(L, 1);
  for (int i = 0; n < max && (i < n6 || i < n4); i++) {
    sock_addr *a = first == AF_INET ? v4 : v6, *b = first == AF_INET ? v6 : v4;
    int na = first == AF_INET ? n4 : n6, nb = first == AF_INET ? n6 : n4;
    if (i < na && n < max) out[n++] = a[i];
    if (i < nb && n < max) out[n++] = b[i];
  }
  return n;
}

void args_optrange(lua_State *L, int arg, size_t len, lua_Integer *i, lua_Integer *j) {
  *i = luaL_optinteger(L, arg, 1);
  *j = luaL_optinteger(L, arg + 1, -1);
  if (*i < 0) *i = (lua_Integer)len + *i + 1;
  if (*j < 0) *j = (lua_Integer)len + *j + 1;
  if (*i < 1) *i = 1;
  if (*j > (lua_Integer)len) *j = (lua_Integer)len;
  if (*j < *i - 1) *j = *i - 1;  /* an empty range: it ends at i - 1 */
}

int args_checkpattern(lua_State *L, int arg, size_t *count) {
  if (lua_gettop(L) < arg) return ARGS_PAT_LINE;  /* the common c:receive() */
  if (lua_type(L, arg) == LUA_TNUMBER) {
    lua_Integer n;
    if (!lua_isinteger(L, arg)) {
      lua_Number f = lua_tonumber(L, arg);
      luaL_argcheck(L, f == floor(f), arg, "byte count must be an integer");
      luaL_argcheck(L, f >= 0, arg, "byte count must be >= 0");
      luaL_argcheck(L, f < -(lua_Number)LUA_MININTEGER, arg,
                    "byte count too large (at most math.maxinteger)");
      n = (lua_Integer)f;
    } else {
      n = lua_tointeger(L, arg);
      luaL_argcheck(L, n >= 0, arg, "byte count must be >= 0");
    }
    *count = (size_t)n;
    return ARGS_PAT_COUNT;
  }
  if (lua_isnoneornil(L, arg)) return ARGS_PAT_LINE;
  {
    const char *p = luaL_checkstring(L, arg);
    if (*p == '*') p++;
    if (!strcmp(p, "l")) return ARGS_PAT_LINE;
    if (!strcmp(p, "L")) return ARGS_PAT_LINE_EOL;
    if (!strcmp(p, "a")) return ARGS_PAT_ALL;
    return luaL_argerror(L, arg, lua_pushfstring(L, "invalid pattern '%s' (\"l\", \"L\", \"a\" or a byte count)",
                                                 lua_tostring(L, arg)));
  }
}
