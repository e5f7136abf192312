/*
 * dns_parse.c: the bytes of a DNS answer into Lua record tables.
 *
 * One entry point, dns_parse_answer (a fuzz target: any bytes are safe),
 * reads the header, the question and the answer records (names through
 * ares_expand_name) so that every record keeps its TTL, which c-ares 1.18's
 * typed parsers drop for most types, and keeps the records of the asked
 * type owned by the question name or its CNAME chain. No state: it needs
 * only a Lua state to build tables in. Record type names are here too.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <ares.h>
#include <lauxlib.h>
#include <lua.h>

#include "dns.h"

/* ---- record types ------------------------------------------------------ */

static const struct { const char *name; int type; } rtypes[] = {
  {"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"PTR", 12}, {"MX", 15},
  {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"CAA", 257}, {NULL, 0}};

/* The name of a record type ("TYPE99" for one we do not know). */
const char *dns_rtype_name(int type, char *buf, size_t n) {
  for (int i = 0; rtypes[i].name; i++)
    if (rtypes[i].type == type) return rtypes[i].name;
  snprintf(buf, n, "TYPE%d", type);
  return buf;
}

/* The record type named s (any case), or 0 if unknown. */
int dns_rtype_find(const char *s) {
  for (int j = 0; rtypes[j].name; j++)
    if (strcasecmp(s, rtypes[j].name) == 0) return rtypes[j].type;
  return 0;
}

/* ---- answers ----------------------------------------------------------- */

typedef struct msg { const unsigned char *buf; int len; } msg;

static unsigned rd16(const unsigned char *p) { return ((unsigned)p[0] << 8) | p[1]; }
static unsigned long rd32(const unsigned char *p) {
  return ((unsigned long)rd16(p) << 16) | rd16(p + 2);
}

/* Push the name at p (within rdata ending at end); returns the bytes it
   takes at p, or -1 if malformed. */
static int push_name(lua_State *L, const msg *m, const unsigned char *p,
                     const unsigned char *end) {
  char *s;
  long enclen;
  if (p >= end || ares_expand_name(p, m->buf, m->len, &s, &enclen) != ARES_SUCCESS)
    return -1;
  if (enclen > end - p) { ares_free_string(s); return -1; }
  lua_pushstring(L, s);
  ares_free_string(s);
  return (int)enclen;
}

/* Set field k of the table at -2 to the name at p; returns bytes or -1. */
static int set_name(lua_State *L, const msg *m, const unsigned char *p,
                    const unsigned char *end, const char *k) {
  int n = push_name(L, m, p, end);
  if (n >= 0) lua_setfield(L, -2, k);
  return n;
}

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

/* TXT rdata: strings (the list) and text (them joined). Returns 0 or -1. */
static int set_txt(lua_State *L, const unsigned char *p, const unsigned char *end) {
  luaL_Buffer b;
  int i = 0, tbl;
  lua_newtable(L);
  tbl = lua_gettop(L);
  while (p < end) {
    size_t n = *p++;
    if ((size_t)(end - p) < n) { lua_pop(L, 1); return -1; }
    lua_pushlstring(L, (const char *)p, n);
    lua_rawseti(L, tbl, ++i);
    p += n;
  }
  luaL_buffinit(L, &b);
  for (int k = 1; k <= i; k++) {
    lua_rawgeti(L, tbl, k);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_setfield(L, tbl - 1, "text");
  lua_setfield(L, tbl - 1, "strings");
  return 0;
}

/* Add the fields of rdata (type t) to the record table at the top.
   Returns 0, or -1 if the data is malformed. */
static int set_rdata(lua_State *L, const msg *m, int t, const unsigned char *p, int rdlen) {
  const unsigned char *end = p + rdlen;
  char addr[INET6_ADDRSTRLEN];
  int n;
  switch (t) {
  case 1: case 28:
    if (rdlen != (t == 1 ? 4 : 16)) return -1;
    dns_addr_text(t == 1 ? AF_INET : AF_INET6, p, addr, sizeof addr);
    lua_pushstring(L, addr);
    lua_setfield(L, -2, "address");
    return 0;
  case 2: case 12:
    return set_name(L, m, p, end, "host") < 0 ? -1 : 0;
  case 5:
    return set_name(L, m, p, end, "target") < 0 ? -1 : 0;
  case 15:
    if (rdlen < 3) return -1;
    set_int(L, "preference", rd16(p));
    return set_name(L, m, p + 2, end, "exchange") < 0 ? -1 : 0;
  case 16:
    return set_txt(L, p, end);
  case 6:
    if ((n = set_name(L, m, p, end, "mname")) < 0) return -1;
    p += n;
    if ((n = set_name(L, m, p, end, "rname")) < 0) return -1;
    p += n;
    if (end - p < 20) return -1;
    set_int(L, "serial", (lua_Integer)rd32(p));
    set_int(L, "refresh", (lua_Integer)rd32(p + 4));
    set_int(L, "retry", (lua_Integer)rd32(p + 8));
    set_int(L, "expire", (lua_Integer)rd32(p + 12));
    set_int(L, "minimum", (lua_Integer)rd32(p + 16));
    return 0;
  case 33:
    if (rdlen < 7) return -1;
    set_int(L, "priority", rd16(p));
    set_int(L, "weight", rd16(p + 2));
    set_int(L, "port", rd16(p + 4));
    return set_name(L, m, p + 6, end, "target") < 0 ? -1 : 0;
  case 257:
    if (rdlen < 2 || p[1] > rdlen - 2) return -1;
    set_int(L, "flags", p[0]);
    lua_pushboolean(L, p[0] & 0x80);
    lua_setfield(L, -2, "critical");
    lua_pushlstring(L, (const char *)p + 2, p[1]);
    lua_setfield(L, -2, "tag");
    lua_pushlstring(L, (const char *)p + 2 + p[1], (size_t)(rdlen - 2 - p[1]));
    lua_setfield(L, -2, "value");
    return 0;
  default: {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < rdlen; i++) {
      char hx[3];
      snprintf(hx, sizeof hx, "%02x", p[i]);
      luaL_addlstring(&b, hx, 2);
    }
    luaL_pushresult(&b);
    lua_setfield(L, -2, "data");
    return 0;
  }
  }
}

/* Skip the name at off; returns the offset after it, or -1. */
static int skip_name(const msg *m, int off) {
  char *s;
  long enclen;
  if (off >= m->len || ares_expand_name(m->buf + off, m->buf, m->len, &s, &enclen) != ARES_SUCCESS)
    return -1;
  ares_free_string(s);
  return off + (int)enclen;
}

/* Push the lower-case form of the string field k of the table at t
   (DNS names compare without case). */
static void push_lower_field(lua_State *L, int t, const char *k) {
  luaL_Buffer b;
  size_t n;
  const char *s;
  lua_getfield(L, t, k);
  s = lua_tolstring(L, -1, &n);
  luaL_buffinit(L, &b);
  for (size_t i = 0; s && i < n; i++)
    luaL_addchar(&b, (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]));
  luaL_pushresult(&b);
  lua_remove(L, -2);
}

/* Push the records of `answers` (index) of type `want` owned by the name
   `qname` (index) or by the CNAME chain from it: another owner's records
   are not the answer. */
static void push_owned(lua_State *L, int answers, int qname, const char *want) {
  int n = (int)lua_rawlen(L, answers), chain, out, k = 0, grew = 1;
  lua_newtable(L);
  out = lua_gettop(L);
  lua_newtable(L);
  chain = lua_gettop(L);
  lua_newtable(L);  /* the question name, lower-cased, starts the chain */
  lua_pushvalue(L, qname);
  lua_setfield(L, -2, "name");
  push_lower_field(L, lua_gettop(L), "name");
  lua_pushboolean(L, 1);
  lua_settable(L, chain);
  lua_pop(L, 1);
  for (int round = 0; grew && round <= n; round++) {
    grew = 0;
    for (int i = 1; i <= n; i++) {
      lua_rawgeti(L, answers, i);
      lua_getfield(L, -1, "type");
      if (strcmp(lua_tostring(L, -1), "CNAME") == 0) {
        push_lower_field(L, -2, "name");
        if (lua_gettable(L, chain) != LUA_TNIL) {
          push_lower_field(L, -3, "target");
          if (lua_rawget(L, chain) == LUA_TNIL) {
            push_lower_field(L, -4, "target");
            lua_pushboolean(L, 1);
            lua_settable(L, chain);
            grew = 1;
          }
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 2);
    }
  }
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, answers, i);
    lua_getfield(L, -1, "type");
    if (strcmp(lua_tostring(L, -1), want) == 0) {
      push_lower_field(L, -2, "name");
      if (lua_gettable(L, chain) != LUA_TNIL) {
        lua_pushvalue(L, -3);
        lua_rawseti(L, out, ++k);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);  /* chain */
}

/* Parse the answer section into two lists pushed on the stack: the records
   of type `want` owned by the question name or its CNAME chain, and every
   record (info.answers); also the question name.
   Pushes: list, answers, qname. Returns 0, or -1 if malformed (nothing
   pushed). */
int dns_parse_answer(lua_State *L, const unsigned char *buf, int len, int want) {
  int top = lua_gettop(L), off = 12, nq, na;
  char tbuf[16];
  msg mb = {buf, len}, *m = &mb;
  if (m->len < 12) return -1;
  nq = (int)rd16(m->buf + 4);
  na = (int)rd16(m->buf + 6);
  lua_newtable(L);                 /* top + 1: answers */
  lua_pushliteral(L, "");          /* top + 2: qname */
  for (int i = 0; i < nq; i++) {
    if (i == 0) {
      if (push_name(L, m, m->buf + off, m->buf + m->len) < 0) goto bad;
      lua_replace(L, top + 2);
    }
    if ((off = skip_name(m, off)) < 0 || off + 4 > m->len) goto bad;
    off += 4;
  }
  for (int i = 0; i < na; i++) {
    int t, rdlen;
    unsigned long ttl;
    int noff = skip_name(m, off);
    if (noff < 0 || noff + 10 > m->len) goto bad;
    t = (int)rd16(m->buf + noff);
    ttl = rd32(m->buf + noff + 4);
    rdlen = (int)rd16(m->buf + noff + 8);
    if (noff + 10 + rdlen > m->len) goto bad;
    if (rd16(m->buf + noff + 2) == 1) {  /* class IN */
      lua_newtable(L);
      if (push_name(L, m, m->buf + off, m->buf + noff) < 0) goto bad;
      lua_setfield(L, -2, "name");
      lua_pushstring(L, dns_rtype_name(t, tbuf, sizeof tbuf));
      lua_setfield(L, -2, "type");
      set_int(L, "ttl", (lua_Integer)(ttl > 0x7fffffffUL ? 0 : ttl));
      if (set_rdata(L, m, t, m->buf + noff + 10, rdlen) < 0) goto bad;
      luaL_setmetatable(L, DNS_RECORD_MT);
      lua_rawseti(L, top + 1, (lua_Integer)lua_rawlen(L, top + 1) + 1);
    }
    off = noff + 10 + rdlen;
  }
  push_owned(L, top + 1, top + 2, dns_rtype_name(want, tbuf, sizeof tbuf));
  lua_rotate(L, top + 1, 1);       /* list, answers, qname */
  return 0;
bad:
  lua_settop(L, top);
  return -1;
}

