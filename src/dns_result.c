/*
 * dns_result.c: a finished DNS query as the results of its Lua call.
 *
 * net.lookup: the records of the asked type (MX by preference, SRV in the
 * order RFC 2782 gives a client) and the info table {name, server,
 * answers, authoritative, rcode, flags}; net.resolve: the addresses of its
 * A and AAAA parts without repeats; net.reverse: the first PTR name. A
 * failure is nil and "VERB NAME [TYPE] (server S): cause", the cause in
 * netlua's words for c-ares statuses (dns_strerror). Reads the waiting
 * call's stack (dns.h: the name at 1, the server text at DNS_S_SERVER).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include <ares.h>
#include <lauxlib.h>
#include <lua.h>

#include "dns.h"
#include "netaux.h"

/* ---- error words and names in messages ---------------------------------- */

/* netlua's words for c-ares statuses. */
const char *dns_strerror(int status) {
  switch (status) {
  case ARES_ENOTFOUND: return "no such name";
  case ARES_ENODATA: return "no address";
  case ARES_ESERVFAIL: return "server failure";
  case ARES_EREFUSED: return "refused";
  case ARES_ETIMEOUT: return "timeout";
  case ARES_ECONNREFUSED: return "connection refused";
  case ARES_EFORMERR: return "format error";
  case ARES_ENOTIMP: return "not implemented by the server";
  case ARES_EBADRESP: return "bad response";
  case ARES_EBADNAME: return "invalid name";
  case ARES_ENOMEM: return "out of memory";
  case ARES_EDESTRUCTION: case ARES_ECANCELLED: return "cancelled";
  default: return ares_strerror(status);
  }
}

/* Push a printable form of s (len bytes) for messages. */
const char *dns_push_shown(lua_State *L, const char *s, size_t len) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x21 || c >= 0x7f || c == '\\') {
      char esc[8];
      snprintf(esc, sizeof esc, "\\%03u", c);
      luaL_addstring(&b, esc);
    } else {
      luaL_addchar(&b, (char)c);
    }
  }
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

/* ---- order of MX and SRV records --------------------------------------- */

/* Integer field k of the table at list[i]. */
static lua_Integer field_at(lua_State *L, int list, int i, const char *k) {
  lua_Integer v;
  lua_rawgeti(L, list, i);
  lua_getfield(L, -1, k);
  v = lua_tointeger(L, -1);
  lua_pop(L, 2);
  return v;
}

/* Swap list[i] and list[j]. */
static void swap_at(lua_State *L, int list, int i, int j) {
  lua_rawgeti(L, list, i);
  lua_rawgeti(L, list, j);
  lua_rawseti(L, list, i);
  lua_rawseti(L, list, j);
}

/* Stable insertion sort of list by integer field k, ascending. */
static void sort_by(lua_State *L, int list, const char *k) {
  int n = (int)lua_rawlen(L, list);
  for (int i = 2; i <= n; i++)
    for (int j = i; j > 1 && field_at(L, list, j - 1, k) > field_at(L, list, j, k); j--)
      swap_at(L, list, j - 1, j);
}

/* A small random number generator for SRV weights (xorshift). */
static unsigned rnd(dnsstate *st) {
  unsigned x = st->rng;
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  return st->rng = x;
}

/* SRV order as RFC 2782 says a client uses it: by priority, and within a
   priority by a weighted random choice. */
static void sort_srv(lua_State *L, int list, dnsstate *st) {
  int n = (int)lua_rawlen(L, list);
  sort_by(L, list, "priority");
  for (int i = 1; i <= n;) {
    int j = i;
    lua_Integer prio = field_at(L, list, i, "priority");
    while (j + 1 <= n && field_at(L, list, j + 1, "priority") == prio) j++;
    for (int pos = i; pos < j; pos++) {  /* choose each position in turn */
      unsigned long total = 0, r, run = 0;
      int pick = pos;
      for (int k = pos; k <= j; k++) total += (unsigned long)field_at(L, list, k, "weight");
      if (total == 0) break;
      r = rnd(st) % (total + 1);
      for (int k = pos; k <= j; k++) {
        run += (unsigned long)field_at(L, list, k, "weight");
        if (run >= r && (field_at(L, list, k, "weight") > 0 || r == 0)) { pick = k; break; }
      }
      for (int k = pick; k > pos; k--) swap_at(L, list, k - 1, k);
    }
    i = j + 1;
  }
}
/* ---- results ------------------------------------------------------------ */

/* Push the failure message of a waiting call: "VERB NAME [TYPE] (server
   S): cause". Returns 2 (nil, message). */
int dns_push_fail(lua_State *L, int kind, int rtype, const char *cause) {
  size_t len;
  const char *name = lua_tolstring(L, 1, &len);
  const char *shown = dns_push_shown(L, name, len);
  const char *server = lua_tostring(L, DNS_S_SERVER);
  char tbuf[16];
  const char *verb = kind == DNS_LOOKUP ? "lookup" : kind == DNS_RESOLVE ? "resolve" : "reverse";
  const char *type = kind == DNS_LOOKUP ? dns_rtype_name(rtype, tbuf, sizeof tbuf) : NULL;
  return net_fail(L, "%s %s%s%s%s%s%s: %s", verb, shown, type ? " " : "", type ? type : "",
                  server ? " (server " : "", server ? server : "", server ? ")" : "", cause);
}

/* dig's word for a response code. */
static const char *rcode_name(int rcode, char *buf, size_t n) {
  static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                      "NOTIMP", "REFUSED"};
  if (rcode >= 0 && rcode < 6) return names[rcode];
  snprintf(buf, n, "RCODE%d", rcode);
  return buf;
}

/* Set boolean field k of the table at the top. */
static void set_bool(lua_State *L, const char *k, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}

/* Parse the message of part p and push the records of its type and the
   info table {name, server, answers, authoritative, rcode, flags = {qr,
   aa, tc, rd, ra}}. Returns 0, or -1 (nothing pushed) if malformed. */
static int push_answer(lua_State *L, const dnspart *p) {
  const unsigned char *h = p->abuf;
  char rbuf[16];
  if (!h || dns_parse_answer(L, p->abuf, p->alen, p->rtype) < 0) return -1;
  lua_createtable(L, 0, 7);        /* list, answers, qname, info */
  lua_rotate(L, -3, 1);            /* list, info, answers, qname */
  if (lua_rawlen(L, -1) == 0) { lua_pop(L, 1); lua_pushvalue(L, 1); }
  lua_setfield(L, -3, "name");
  lua_setfield(L, -2, "answers");
  if (p->server[0]) lua_pushstring(L, p->server); else lua_pushvalue(L, DNS_S_SERVER);
  lua_setfield(L, -2, "server");
  set_bool(L, "authoritative", (h[2] & 0x04) != 0);
  lua_pushstring(L, rcode_name(h[3] & 0x0f, rbuf, sizeof rbuf));
  lua_setfield(L, -2, "rcode");
  lua_createtable(L, 0, 5);
  set_bool(L, "qr", (h[2] & 0x80) != 0);
  set_bool(L, "aa", (h[2] & 0x04) != 0);
  set_bool(L, "tc", (h[2] & 0x02) != 0);
  set_bool(L, "rd", (h[2] & 0x01) != 0);
  set_bool(L, "ra", (h[3] & 0x80) != 0);
  lua_setfield(L, -2, "flags");
  luaL_setmetatable(L, DNS_INFO_MT);
  return 0;
}

/* The results of a finished lookup: records, info; or nil, message and,
   when the server answered, info. */
static int finish_lookup(lua_State *L, dnsquery *q) {
  dnspart *p = &q->part[0];
  int r;
  if (p->status == ARES_SUCCESS || p->status == ARES_ENODATA) {
    if (push_answer(L, p) == 0) {
      if (q->rtype == 15) sort_by(L, lua_absindex(L, -2), "preference");
      if (q->rtype == 33) sort_srv(L, lua_absindex(L, -2), dns_state_get(L));
      return 2;
    }
    if (p->status == ARES_ENODATA) {  /* the name exists, no record of the type */
      lua_newtable(L);
      lua_createtable(L, 0, 3);
      lua_pushvalue(L, DNS_S_SERVER);
      lua_setfield(L, -2, "server");
      lua_newtable(L);
      lua_setfield(L, -2, "answers");
      lua_pushvalue(L, 1);
      lua_setfield(L, -2, "name");
      luaL_setmetatable(L, DNS_INFO_MT);
      return 2;
    }
    return dns_push_fail(L, DNS_LOOKUP, q->rtype, "malformed answer");
  }
  r = dns_push_fail(L, DNS_LOOKUP, q->rtype, dns_strerror(p->status));
  if (push_answer(L, p) == 0) {  /* nil, message, info */
    lua_remove(L, -2);
    r++;
  }
  return r;
}

/* True for statuses that say what the name holds (rather than that the
   servers could not be asked). */
static int says_name(int status) {
  return status == ARES_SUCCESS || status == ARES_ENODATA || status == ARES_ENOTFOUND;
}

/* Add the addresses of part p's answer to the list at `list`, skipping
   those in `seen`; returns the new count. */
static int add_addresses(lua_State *L, const dnspart *p, int list, int seen, int n) {
  int rec;
  if (p->status != ARES_SUCCESS || push_answer(L, p) < 0) return n;
  lua_pop(L, 1);
  rec = lua_gettop(L);
  for (lua_Integer i = 1; lua_rawgeti(L, rec, i) == LUA_TTABLE; i++) {
    lua_getfield(L, -1, "address");
    lua_pushvalue(L, -1);
    if (lua_rawget(L, seen) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_pushboolean(L, 1);
      lua_rawset(L, seen);
      lua_rawseti(L, list, ++n);
    } else {
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
  }
  lua_settop(L, rec - 1);
  return n;
}

/* The results of a finished resolve: the addresses, without repeats. */
static int finish_resolve(lua_State *L, dnsquery *q) {
  int n = 0, list, cause = ARES_SUCCESS, all_nx = 1;
  lua_newtable(L);
  list = lua_gettop(L);
  lua_newtable(L);  /* seen */
  for (int i = 0; i < q->nparts; i++)
    n = add_addresses(L, &q->part[i], list, list + 1, n);
  lua_pop(L, 1);
  if (n > 0) return 1;
  lua_pop(L, 1);
  for (int i = 0; i < q->nparts; i++) {
    int s = q->part[i].status;
    if (s != ARES_ENOTFOUND) all_nx = 0;
    if (!says_name(s) && cause == ARES_SUCCESS) cause = s;
  }
  if (cause != ARES_SUCCESS) return dns_push_fail(L, DNS_RESOLVE, 0, dns_strerror(cause));
  return dns_push_fail(L, DNS_RESOLVE, 0, all_nx ? "no such name" : "no address");
}

/* The result of a finished reverse lookup: the first PTR name. */
static int finish_reverse(lua_State *L, dnsquery *q) {
  dnspart *p = &q->part[0];
  if (p->status == ARES_SUCCESS && push_answer(L, p) == 0) {
    lua_pop(L, 1);
    if (lua_rawgeti(L, -1, 1) == LUA_TTABLE) {
      lua_getfield(L, -1, "host");
      return 1;
    }
    lua_pop(L, 2);
    return dns_push_fail(L, DNS_REVERSE, 0, "no PTR record");
  }
  if (p->status == ARES_ENODATA) return dns_push_fail(L, DNS_REVERSE, 0, "no PTR record");
  return dns_push_fail(L, DNS_REVERSE, 0, dns_strerror(p->status));
}


/* Push the results of the finished query q of a waiting call. */
int dns_finish(lua_State *L, dnsquery *q) {
  return q->kind == DNS_LOOKUP ? finish_lookup(L, q)
       : q->kind == DNS_RESOLVE ? finish_resolve(L, q) : finish_reverse(L, q);
}
