/*
 * dns_opts.c: the options of a DNS call and server addresses.
 *
 * An options table ({server, timeout, tries, tcp [, family]}) is checked
 * (a bad or unknown option raises) into a dnsopts with the key of its
 * channel; servers are read from "ip", "ip:port", "[ip6]" or "[ip6]:port"
 * (or a list of them) and written back the same way for messages and
 * net.dns.servers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ares.h>
#include <lauxlib.h>
#include <lua.h>

#include "dns.h"
#include "netaux.h"

/* Parse "ip", "ip:port", "[ip6]" or "[ip6]:port" into n; 0 if it is none. */
static int parse_server(const char *s, struct ares_addr_port_node *n) {
  char host[INET6_ADDRSTRLEN + 1];
  const char *h = s, *p = NULL;
  size_t hl;
  memset(n, 0, sizeof *n);
  if (s[0] == '[') {
    const char *e = strchr(s, ']');
    if (!e) return 0;
    h = s + 1;
    hl = (size_t)(e - h);
    if (e[1] == ':') p = e + 2; else if (e[1]) return 0;
  } else {
    const char *colon = strchr(s, ':');
    if (colon && strchr(colon + 1, ':') == NULL) { hl = (size_t)(colon - s); p = colon + 1; }
    else hl = strlen(s);
  }
  if (hl == 0 || hl >= sizeof host) return 0;
  memcpy(host, h, hl);
  host[hl] = 0;
  if (inet_pton(AF_INET, host, &n->addr.addr4) == 1) n->family = AF_INET;
  else if (inet_pton(AF_INET6, host, &n->addr.addr6) == 1) n->family = AF_INET6;
  else return 0;
  n->udp_port = n->tcp_port = 53;
  if (p) {
    char *end;
    long port = strtol(p, &end, 10);
    if (*p == 0 || *end || port < 1 || port > 65535) return 0;
    n->udp_port = n->tcp_port = (int)port;
  }
  return 1;
}

/* Append server text for messages: "ip", "ip:port", "[ip6]:port". */
static void add_server_text(luaL_Buffer *b, int family, const void *addr, int port) {
  char text[DNS_HOSTPORT_LEN];
  dns_hostport_text(family, addr, port, text);
  luaL_addstring(b, text);
}

/* Push the servers of channel c as one string ("a, b"). */
void dns_push_servers_text(lua_State *L, dnschan *c) {
  struct ares_addr_port_node *list = NULL;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (c && ares_get_servers_ports(c->ch, &list) == ARES_SUCCESS) {
    for (struct ares_addr_port_node *n = list; n; n = n->next) {
      add_server_text(&b, n->family, &n->addr, n->udp_port);
      if (n->next) luaL_addstring(&b, ", ");
    }
    ares_free_data(list);
  }
  luaL_pushresult(&b);
}

/* Push a list of the servers of channel c. */
void dns_push_servers_list(lua_State *L, dnschan *c) {
  struct ares_addr_port_node *list = NULL;
  int i = 0;
  lua_newtable(L);
  if (ares_get_servers_ports(c->ch, &list) != ARES_SUCCESS) return;
  for (struct ares_addr_port_node *n = list; n; n = n->next) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    add_server_text(&b, n->family, &n->addr, n->udp_port);
    luaL_pushresult(&b);
    lua_rawseti(L, -2, ++i);
  }
  ares_free_data(list);
}

/* Read servers from the value at idx (string or list of strings) into a
   linked list allocated as a userdata pushed on the stack (freed by the GC);
   raises a Lua error naming a bad entry. Appends them to key. */
struct ares_addr_port_node *dns_check_servers(lua_State *L, int idx, char *key,
                                              size_t keysz) {
  int n = 1, t = lua_type(L, idx);
  struct ares_addr_port_node *nodes;
  if (t == LUA_TTABLE) n = (int)lua_rawlen(L, idx);
  else if (t != LUA_TSTRING)
    luaL_error(L, "bad option 'server' (string or list expected, got %s)", luaL_typename(L, idx));
  if (n < 1 || n > 32) luaL_error(L, "bad option 'server' (1 to 32 servers expected)");
  nodes = lua_newuserdatauv(L, (size_t)n * sizeof *nodes, 0);
  for (int i = 0; i < n; i++) {
    const char *s;
    if (t == LUA_TTABLE) lua_rawgeti(L, idx, i + 1); else lua_pushvalue(L, idx);
    s = lua_tostring(L, -1);
    if (lua_type(L, -1) != LUA_TSTRING || strlen(s) != lua_rawlen(L, -1) ||
        !parse_server(s, &nodes[i]))
      luaL_error(L, "bad server '%s' (address, address:port or [IPv6]:port expected)",
                 s ? s : luaL_typename(L, -1));
    if (strlen(key) + strlen(s) + 2 < keysz) { strcat(key, s); strcat(key, ","); }
    nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
    lua_pop(L, 1);
  }
  return nodes;
}

/* Read the options table at idx into o (servers kept alive on the stack). */
void dns_check_opts(lua_State *L, int idx, dnsopts *o, int family_ok, int *family) {
  static const char *const known[] = {"server", "timeout", "tries", "tcp", "family", NULL};
  static const char *const known_nf[] = {"server", "timeout", "tries", "tcp", NULL};
  memset(o, 0, sizeof *o);
  o->timeout = -1;
  if (family) *family = AF_UNSPEC;
  net_checkopts(L, idx, family_ok ? known : known_nf);
  if (lua_isnoneornil(L, idx)) return;
  if (lua_getfield(L, idx, "server") != LUA_TNIL) {
    strcpy(o->key, "s=");
    o->servers = dns_check_servers(L, lua_absindex(L, -1), o->key, sizeof o->key);
    o->nservers = (int)(lua_rawlen(L, -1) / sizeof *o->servers);
    lua_remove(L, -2);  /* keep the nodes userdata, drop the option value */
  } else {
    lua_pop(L, 1);
  }
  if (lua_getfield(L, idx, "tcp") != LUA_TNIL) {
    if (!lua_isboolean(L, -1))
      luaL_error(L, "bad option 'tcp' (boolean expected, got %s)", luaL_typename(L, -1));
    o->tcp = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "tries") != LUA_TNIL) {
    lua_Integer n = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
    if (n < 1 || n > 20)
      luaL_error(L, "bad option 'tries' (integer 1 to 20 expected)");
    o->tries = (int)n;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "timeout") != LUA_TNIL) {
    int isnum;
    double t = lua_tonumberx(L, -1, &isnum);
    if (!isnum || isnan(t) || t < 0 || t > 1e6)
      luaL_error(L, "bad option 'timeout' (seconds >= 0 expected)");
    o->timeout = t;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "family") != LUA_TNIL) {
    const char *f = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (f && (!strcmp(f, "inet") || !strcmp(f, "ipv4") || !strcmp(f, "4"))) *family = AF_INET;
    else if (f && (!strcmp(f, "inet6") || !strcmp(f, "ipv6") || !strcmp(f, "6"))) *family = AF_INET6;
    else if (!f || strcmp(f, "any") != 0)
      luaL_error(L, "bad option 'family' (\"inet\", \"inet6\" or \"any\" expected, got %s)",
                 f ? f : luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  if (o->servers || o->tcp || o->tries || o->timeout >= 0) {
    /* by hand, not snprintf: this runs on every call */
    char *p = o->key + strlen(o->key);
    if (p + 64 < o->key + sizeof o->key) {
      memcpy(p, "|t=", 3);
      p = dns_put_uint(p + 3, (unsigned)o->tcp);
      memcpy(p, "|r=", 3);
      p = dns_put_uint(p + 3, (unsigned)o->tries);
      memcpy(p, "|m=", 3);
      if (o->timeout < 0) memcpy(p + 3, "-", 2);
      else dns_put_uint(p + 3, (unsigned long long)(o->timeout * 1000.0 + 0.5));
    }
  }
}
