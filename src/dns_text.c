/*
 * dns_text.c: DNS records as zone files write them.
 *
 *   net.dns.rdata(record)  -> the record's data ("10 mx.example.org.")
 *   tostring(record)       -> "name. ttl IN TYPE data"
 *   tostring(info)         -> "answer for NAME from SERVER (authoritative,
 *                              N records: TYPE, ...)"
 * Records and infos are the tables net.lookup returns (dns_parse.c,
 * dns_result.c); any table with the fields of a record will do.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "dns.h"

/* Quote a TXT/CAA string the way zone files do. */
static void add_quoted(luaL_Buffer *b, const char *s, size_t n) {
  luaL_addchar(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') { luaL_addchar(b, '\\'); luaL_addchar(b, (char)c); }
    else if (c < 0x20 || c >= 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\%03u", c);
      luaL_addstring(b, esc);
    } else luaL_addchar(b, (char)c);
  }
  luaL_addchar(b, '"');
}

/* Add a bare word (a CAA tag) with what is not printable ASCII, and the
   space, as \DDD: it comes from the network and goes to terminals. */
static void add_word(luaL_Buffer *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\%03u", c);
      luaL_addstring(b, esc);
    } else luaL_addchar(b, (char)c);
  }
}

/* Add field k of table t as a name with its final dot. */
static void add_fqdn(lua_State *L, luaL_Buffer *b, int t, const char *k) {
  size_t n;
  const char *s;
  lua_getfield(L, t, k);
  s = lua_tolstring(L, -1, &n);
  lua_pop(L, 1);  /* still referenced by the table */
  for (size_t i = 0; s && i < n; i++) {  /* a space as zone files write it */
    if (s[i] == ' ') luaL_addstring(b, "\\032"); else luaL_addchar(b, s[i]);
  }
  if (!s || n == 0 || s[n - 1] != '.') luaL_addchar(b, '.');
}

/* Add integer fields of table t, separated by spaces. */
static void add_ints(lua_State *L, luaL_Buffer *b, int t, const char *const *ks) {
  for (int i = 0; ks[i]; i++) {
    char num[32];
    lua_getfield(L, t, ks[i]);
    snprintf(num, sizeof num, "%s%lld", i ? " " : "", (long long)lua_tointeger(L, -1));
    lua_pop(L, 1);
    luaL_addstring(b, num);
  }
}

/* net.dns.rdata(record) -> its data as a zone file writes it. */
int dns_rdata(lua_State *L) {
  static const char *const soa[] = {"serial", "refresh", "retry", "expire", "minimum", NULL};
  static const char *const srv[] = {"priority", "weight", "port", NULL};
  static const char *const mx[] = {"preference", NULL};
  static const char *const caa[] = {"flags", NULL};
  const char *type;
  luaL_Buffer b;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_getfield(L, 1, "type");     /* 2 */
  lua_getfield(L, 1, "strings");  /* 3 (TXT) */
  type = lua_tostring(L, 2);
  if (!type) return luaL_argerror(L, 1, "DNS record expected (no type field)");
  luaL_buffinit(L, &b);
  if (!strcmp(type, "A") || !strcmp(type, "AAAA")) {
    lua_getfield(L, 1, "address");
    luaL_addvalue(&b);
  } else if (!strcmp(type, "NS") || !strcmp(type, "PTR")) {
    add_fqdn(L, &b, 1, "host");
  } else if (!strcmp(type, "CNAME")) {
    add_fqdn(L, &b, 1, "target");
  } else if (!strcmp(type, "MX")) {
    add_ints(L, &b, 1, mx); luaL_addchar(&b, ' '); add_fqdn(L, &b, 1, "exchange");
  } else if (!strcmp(type, "SRV")) {
    add_ints(L, &b, 1, srv); luaL_addchar(&b, ' '); add_fqdn(L, &b, 1, "target");
  } else if (!strcmp(type, "SOA")) {
    add_fqdn(L, &b, 1, "mname"); luaL_addchar(&b, ' ');
    add_fqdn(L, &b, 1, "rname"); luaL_addchar(&b, ' ');
    add_ints(L, &b, 1, soa);
  } else if (!strcmp(type, "TXT")) {
    for (lua_Integer i = 1; lua_istable(L, 3); i++) {
      size_t n;
      const char *s;
      if (lua_rawgeti(L, 3, i) != LUA_TSTRING) { lua_pop(L, 1); break; }
      s = lua_tolstring(L, -1, &n);
      lua_pop(L, 1);  /* still held by the list */
      if (i > 1) luaL_addchar(&b, ' ');
      add_quoted(&b, s, n);
    }
  } else if (!strcmp(type, "CAA")) {
    size_t n;
    const char *s;
    add_ints(L, &b, 1, caa);
    luaL_addchar(&b, ' ');
    lua_getfield(L, 1, "tag");
    s = lua_tolstring(L, -1, &n);
    lua_pop(L, 1);  /* still referenced by the table */
    if (s) add_word(&b, s, n);
    luaL_addchar(&b, ' ');
    lua_getfield(L, 1, "value");
    s = lua_tolstring(L, -1, &n);
    lua_pop(L, 1);
    if (s) add_quoted(&b, s, n);
  } else {
    lua_getfield(L, 1, "data");
    if (lua_isstring(L, -1)) luaL_addvalue(&b); else lua_pop(L, 1);
  }
  luaL_pushresult(&b);
  return 1;
}

/* __tostring of a record: "name. ttl IN TYPE data" (dig.lua aligns them
   in columns itself). */
static int record_tostring(lua_State *L) {
  lua_settop(L, 1);
  lua_pushcfunction(L, dns_rdata);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "ttl");
  lua_getfield(L, 1, "type");
  lua_pushfstring(L, "%s. %d IN %s %s", luaL_optstring(L, 3, ""),
                  (int)lua_tointeger(L, 4), luaL_optstring(L, 5, "?"), lua_tostring(L, 2));
  return 1;
}

/* __tostring of a lookup's info: "answer for NAME from SERVER (...)". */
static int info_tostring(lua_State *L) {
  luaL_Buffer b;
  lua_Integer n;
  lua_settop(L, 1);
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "server");
  lua_getfield(L, 1, "authoritative");
  lua_getfield(L, 1, "answers");  /* 5 */
  n = lua_istable(L, 5) ? (lua_Integer)lua_rawlen(L, 5) : 0;
  lua_newtable(L);  /* 6: types already named */
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "answer for %s from %s (%s, %d record%s", luaL_optstring(L, 2, "?"),
                  luaL_optstring(L, 3, "?"), lua_toboolean(L, 4) ? "authoritative" : "not authoritative",
                  (int)n, n == 1 ? "" : "s");
  luaL_addvalue(&b);
  for (lua_Integer i = 1, k = 0; i <= n; i++) {
    lua_rawgeti(L, 5, i);
    lua_getfield(L, -1, "type");
    lua_remove(L, -2);
    if (lua_type(L, -1) != LUA_TSTRING) { lua_pop(L, 1); continue; }
    lua_pushvalue(L, -1);
    if (lua_rawget(L, 6) != LUA_TNIL) { lua_pop(L, 2); continue; }
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, 6);
    luaL_addstring(&b, k++ == 0 ? ": " : ", ");
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, ')');
  luaL_pushresult(&b);
  return 1;
}

/* Register the metatables of records and infos. */
void dns_text_open(lua_State *L) {
  if (luaL_newmetatable(L, DNS_RECORD_MT)) {
    lua_pushcfunction(L, record_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "dns record");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, DNS_INFO_MT)) {
    lua_pushcfunction(L, info_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "dns answer");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
}
