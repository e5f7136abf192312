/*
 * dns.c: the Lua API of DNS in the `net` module (see dns.h for the whole
 * part and its files).
 *
 *   net.resolve(name [, opts])        -> {addr, ...}   (A and AAAA, hosts file)
 *   net.lookup(name, rtype [, opts])  -> {record, ...}, info
 *   net.reverse(addr [, opts])        -> name
 *   net.dns.servers([list])           -> the default servers (read or set)
 *   net.dns.config()                  -> {servers, search, ndots, timeout, tries}
 *   net.dns.rdata(record)             (dns_text.c)
 *
 * Here: the arguments (record types, names checked before any query, IP
 * literals that are their own addresses, arpa names), the hosts file read
 * first when no server is given (as the system resolver does), and the
 * default servers and configuration. The query itself waits in dns_wait.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ares.h>
#include <lauxlib.h>
#include <lua.h>

#include "dns.h"
#include "net.h"
#include "netaux.h"

/* ---- arguments ----------------------------------------------------------- */

/* The record type named at stack index i, or a Lua error naming it. */
static int check_rtype(lua_State *L, int i) {
  const char *s = luaL_checkstring(L, i);
  int t = dns_rtype_find(s);
  if (t) return t;
  return luaL_argerror(L, i, lua_pushfstring(L, "unknown record type '%s'", s));
}

/* Why `s` is not a valid host name, or NULL if it is one. */
static const char *name_problem(const char *s, size_t len) {
  size_t label = 0;
  if (len == 0) return "empty name";
  if (len == 1 && s[0] == '.') return NULL;  /* the root */
  if (s[len - 1] == '.') len--;
  if (len > 253) return "name over 253 bytes";
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == 0) return "NUL in name";
    if (c <= 0x20 || c == 0x7f) return "space or control character in name";
    if (c == '.') {
      if (label == 0) return "empty label";
      label = 0;
    } else if (++label > 63) {
      return "label over 63 bytes";
    }
  }
  return NULL;
}

/* ---- net.lookup, net.resolve, net.reverse ---------------------------- */

/* Turn an IP literal into its reverse-lookup name; 0 if s is not one. */
static int arpa_name(const char *s, char *out, size_t n) {
  unsigned char a[16];
  if (inet_pton(AF_INET, s, a) == 1) {
    snprintf(out, n, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
    return 1;
  }
  if (inet_pton(AF_INET6, s, a) == 1) {
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (int i = 15; i >= 0 && k + 4 < n; i--) {
      out[k++] = hex[a[i] & 15]; out[k++] = '.';
      out[k++] = hex[a[i] >> 4]; out[k++] = '.';
    }
    snprintf(out + k, n - k, "ip6.arpa");
    return 1;
  }
  return 0;
}

/* net.lookup(name, rtype [, opts]) -> records, info | nil, message [, info] */
static int l_lookup(lua_State *L) {
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  int rtype = check_rtype(L, 2);
  const char *why = name_problem(name, len);
  char arpa[80];
  dnsopts o;
  dns_check_opts(L, 3, &o, 0, NULL);
  if (rtype == 12 && !memchr(name, 0, len) && arpa_name(name, arpa, sizeof arpa)) {
    /* PTR of an address (never of one cut at a NUL) */
    lua_pushstring(L, arpa);
    lua_replace(L, 1);
    name = lua_tolstring(L, 1, &len);
    why = NULL;
  }
  if (why) {
    char tbuf[16];
    const char *shown = dns_push_shown(L, name, len);
    return net_fail(L, "lookup %s %s: invalid name (%s)", shown,
                    dns_rtype_name(rtype, tbuf, sizeof tbuf), why);
  }
  if (!dns_start(L, &o, DNS_LOOKUP, lua_tostring(L, 1), &rtype, 1)) return 2;
  return dns_wait_k(L, 0, 0);
}

/* The family of an address literal in s (brackets, "%zone" allowed),
   with its text pushed; 0 (nothing pushed) if s is no literal. */
static int push_literal(lua_State *L, const char *s, size_t len) {
  char buf[INET6_ADDRSTRLEN + 64];
  unsigned char a[16];
  char *pct;
  if (len >= 2 && s[0] == '[' && s[len - 1] == ']') { s++; len -= 2; }
  if (len == 0 || len >= sizeof buf || memchr(s, 0, len)) return 0;
  memcpy(buf, s, len);
  buf[len] = 0;
  if (inet_pton(AF_INET, buf, a) == 1) { lua_pushstring(L, buf); return AF_INET; }
  if (inet_pton(AF_INET6, buf, a) == 1) { lua_pushstring(L, buf); return AF_INET6; }
  if ((pct = strchr(buf, '%')) != NULL && pct[1] && !strpbrk(pct, " \t/")) {
    *pct = 0;  /* a scoped IPv6 address: fe80::1%eth0 */
    if (inet_pton(AF_INET6, buf, a) == 1) {
      *pct = '%';
      lua_pushstring(L, buf);
      return AF_INET6;
    }
  }
  return 0;
}

/* True when s is made of digits and dots only (a dotted quad or a number:
   never a name to send to DNS). */
static int looks_numeric(const char *s, size_t len) {
  if (len == 0) return 0;
  for (size_t i = 0; i < len; i++)
    if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) return 0;
  return 1;
}

/* Addresses of name in the hosts file (as the system resolver reads it)
   for family f, added to the list at the top; returns the new count. */
static int hosts_file(lua_State *L, dnschan *c, const char *name, int f, int n) {
  struct hostent *h = NULL;
  if (ares_gethostbyname_file(c->ch, name, f, &h) != ARES_SUCCESS || !h) return n;
  for (char **a = h->h_addr_list; a && *a; a++) {
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(h->h_addrtype, *a, buf, sizeof buf)) {
      lua_pushstring(L, buf);
      lua_rawseti(L, -2, ++n);
    }
  }
  ares_free_hostent(h);
  return n;
}

/* net.resolve(name [, opts]) -> {addr, ...} | nil, message */
static int l_resolve(lua_State *L) {
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  const char *why = name_problem(name, len);
  int family, f, types[2], ntypes = 0, err, v6first;
  dnsopts o;
  lua_settop(L, 2);
  lua_pushnil(L);
  lua_insert(L, 2);  /* opts at 3, as for net.lookup */
  dns_check_opts(L, 3, &o, 1, &family);
  if ((f = push_literal(L, name, len)) != 0) {  /* addresses are themselves */
    if (family != AF_UNSPEC && family != f)
      return net_fail(L, "resolve %s: not an %s address", lua_tostring(L, -1),
                      family == AF_INET ? "IPv4" : "IPv6");
    lua_createtable(L, 1, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
    return 1;
  }
  if (looks_numeric(name, len))
    return net_fail(L, "resolve %s: invalid address", name);
  if (why) return net_fail(L, "resolve %s: invalid name (%s)", dns_push_shown(L, name, len), why);
  if (!o.servers) {  /* the hosts file first, as the system does */
    dnschan *c = dns_chan_get(L, &o, &err);
    int n = 0;
    lua_newtable(L);
    if (c && family != AF_INET) n = hosts_file(L, c, name, AF_INET6, n);
    if (c && family != AF_INET6) n = hosts_file(L, c, name, AF_INET, n);
    if (n > 0) return 1;
    lua_pop(L, 1);
  }
  v6first = dns_state_get(L)->v6first;
  if (family != AF_INET && v6first) types[ntypes++] = 28;
  if (family != AF_INET6) types[ntypes++] = 1;
  if (family != AF_INET && !v6first) types[ntypes++] = 28;
  if (!dns_start(L, &o, DNS_RESOLVE, name, types, ntypes)) return 2;
  return dns_wait_k(L, 0, 0);
}

/* The first name of address s in the hosts file (CARES_HOSTS or
   /etc/hosts, as c-ares reads it), pushed; 0 if none. */
static int hosts_reverse(lua_State *L, const char *s) {
  unsigned char want[16], have[16];
  int fam = inet_pton(AF_INET, s, want) == 1 ? AF_INET : AF_INET6;
  if (fam == AF_INET6 && inet_pton(AF_INET6, s, want) != 1) return 0;
  const char *path = getenv("CARES_HOSTS");
  char line[1024];
  FILE *f = fopen(path && *path ? path : "/etc/hosts", "re");
  int found = 0;
  if (!f) return 0;
  while (!found && fgets(line, sizeof line, f)) {
    char *save = NULL, *addr, *name;
    line[strcspn(line, "#\n")] = '\0';
    addr = strtok_r(line, " \t", &save);
    name = addr ? strtok_r(NULL, " \t", &save) : NULL;
    if (name && inet_pton(fam, addr, have) == 1 &&
        memcmp(want, have, fam == AF_INET ? 4 : 16) == 0) {
      lua_pushstring(L, name);
      found = 1;
    }
  }
  fclose(f);
  return found;
}

/* net.reverse(addr [, opts]) -> name | nil, message */
static int l_reverse(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  char arpa[80];
  int ptr = 12;
  dnsopts o;
  if (memchr(s, 0, len))
    return luaL_argerror(L, 1, lua_pushfstring(L, "IP address expected, got '%s' (NUL in address)",
                                               dns_push_shown(L, s, len)));
  if (!arpa_name(s, arpa, sizeof arpa))
    return luaL_argerror(L, 1, lua_pushfstring(L, "IP address expected, got '%s'", s));
  lua_settop(L, 2);
  lua_pushnil(L);
  lua_insert(L, 2);  /* opts at 3 */
  dns_check_opts(L, 3, &o, 0, NULL);
  if (!o.servers && hosts_reverse(L, s)) return 1;  /* the hosts file first, as the system does */
  if (!dns_start(L, &o, DNS_REVERSE, arpa, &ptr, 1)) return 2;
  return dns_wait_k(L, 0, 0);
}

/* ---- net.dns ---------------------------------------------------------- */

/* net.dns.servers([list]) -> the default servers (after setting them). */
static int l_servers(lua_State *L) {
  int err;
  dnschan *c = dns_chan_get(L, NULL, &err);
  if (!c) return net_fail(L, "dns: cannot start the resolver: %s", dns_strerror(err));
  if (!lua_isnoneornil(L, 1)) {
    char key[512] = "";
    struct ares_addr_port_node *nodes = dns_check_servers(L, 1, key, sizeof key);
    err = ares_set_servers_ports(c->ch, nodes);
    if (err != ARES_SUCCESS)  /* c-ares 1.18 refuses while queries are pending */
      return net_fail(L, "dns: cannot set servers: %s",
                      err == ARES_ENOTIMP ? "queries in flight" : dns_strerror(err));
    for (dnschan *o = c->st->chans; o; o = o->next_chan)  /* copies of the old list */
      if (o->inherit) o->stale = 1;
    dns_chan_trim(c->st);
  }
  dns_push_servers_list(L, c);
  return 1;
}

/* net.dns.config() -> {servers, search, ndots, timeout, tries, rotate}. */
static int l_config(lua_State *L) {
  int err, mask = 0;
  struct ares_options opt;
  dnschan *c = dns_chan_get(L, NULL, &err);
  if (!c) return net_fail(L, "dns: cannot start the resolver: %s", dns_strerror(err));
  memset(&opt, 0, sizeof opt);
  if ((err = ares_save_options(c->ch, &opt, &mask)) != ARES_SUCCESS)
    return net_fail(L, "dns: %s", dns_strerror(err));
  lua_newtable(L);
  dns_push_servers_list(L, c);
  lua_setfield(L, -2, "servers");
  lua_createtable(L, opt.ndomains, 0);
  for (int i = 0; i < opt.ndomains; i++) {
    lua_pushstring(L, opt.domains[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "search");
  lua_pushinteger(L, opt.ndots);
  lua_setfield(L, -2, "ndots");
  lua_pushnumber(L, (mask & ARES_OPT_TIMEOUTMS) ? opt.timeout / 1000.0 : opt.timeout);
  lua_setfield(L, -2, "timeout");
  lua_pushinteger(L, opt.tries);
  lua_setfield(L, -2, "tries");
  lua_pushstring(L, opt.lookups ? opt.lookups : "fb");
  lua_setfield(L, -2, "lookups");
  ares_destroy_options(&opt);
  return 1;
}
/* Add resolve, lookup, reverse and the dns table to the table on top. */
void dns_open(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"resolve", l_resolve}, {"lookup", l_lookup}, {"reverse", l_reverse}, {NULL, NULL}};
  static const luaL_Reg dnsfns[] = {
    {"servers", l_servers}, {"config", l_config}, {"rdata", dns_rdata}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
  lua_newtable(L);
  luaL_setfuncs(L, dnsfns, 0);
  lua_pushliteral(L, ARES_VERSION_STR);
  lua_setfield(L, -2, "cares_version");
  lua_setfield(L, -2, "dns");
  dns_text_open(L);
}
