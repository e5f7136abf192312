/*
 * ifaddr.c: interfaces, addresses and host identity for the `net` module.
 *
 * "What is my IP address?" answered from the OS: getifaddrs for interfaces
 * and their addresses, rtnetlink (RTM_GETADDR) to tell a peer from a
 * broadcast address, ioctl(SIOCGIFMTU) for the MTU, gethostname, and
 * rtnetlink routes: RTM_GETROUTE for 8.8.8.8 / 2001:4860:4860::8888 (what
 * `ip route get` asks; nothing is sent) for the address on the default
 * route, a route dump of the main table for the default gateways.  No
 * external commands.  This file is the Lua API and the tables it builds;
 * the OS work is below it, without Lua: iflist.c (the getifaddrs list)
 * and rtnl.c (rtnetlink).
 *
 * Lua API (added to the `net` table by ifaddr_open):
 *
 *   net.interfaces() -> list, ordered by index, of
 *     { name = "eth0", index = 2, mtu = 1500,
 *       mac = "02:fc:00:00:00:01",          -- absent when there is none
 *       flags = { up, running, loopback, broadcast, multicast,
 *                 ["point-to-point"] },     -- each true or false
 *       addrs = {
 *         { family = "inet", address = "192.0.2.2", netmask = "255.255.255.0",
 *           prefix = 24, broadcast = "192.0.2.255",  -- when there is one
 *           peer = "...",          -- "addr add A peer P" (any interface, IPv6 too)
 *           label = "eth0:1" },                      -- alias label, if any
 *         { family = "inet6", address = "fe80::1", netmask = "ffff:ffff:ffff:ffff::",
 *           prefix = 64, scope = "link",    -- "host" | "link" | "site" | "global"
 *           scope_id = 2 },                 -- when non-zero (link-local)
 *       } }
 *     or nil, message.
 *   net.interface(name | index) -> one such table, or nil, "no interface NAME".
 *   net.hostname() -> name, or nil, message.
 *   net.myip([family]) -> address [, note]   family: "inet" | "inet6" | "any"
 *     address       the source address of the route to the outside (the
 *                   default route); IPv4 first, then IPv6, unless family.
 *                   On a multipath route: the next hop the kernel picks,
 *                   the one `ip route get 8.8.8.8` shows and gateways().inet.
 *     address, note no such route: the first address of an up, non-loopback
 *                   interface, else a loopback address; note says so, e.g.
 *                   "no default route: loopback only".
 *     nil, message  no usable address at all ("no address: no interface is up").
 *   net.gateways() -> { inet = gw, inet6 = gw, gw, gw, ... } or
 *                     nil, "no default route"
 *     where gw = { family = "inet"|"inet6", gateway = "192.0.2.1",
 *                  interface = "eth0", metric = 0,
 *                  weight = 1 }      -- only for a next hop of a multipath route
 *     The array part lists every next hop of every default route of the main
 *     table (by family, then metric).  inet/inet6 are the one the kernel
 *     takes to the outside (`ip route get`; so net.myip() is an address of
 *     its interface), else the lowest metric.  A default route without a
 *     next hop ("default dev tun0") has no gateway field but counts: it can
 *     be inet/inet6.
 *
 * Wrong argument types raise; runtime failures return nil, message.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "net.h"
#include "errwords.h"
#include "iflist.h"
#include "netaux.h"
#include "rtnl.h"

/*
 * What a call holds while it builds Lua tables: the getifaddrs list, the
 * rows, an ioctl socket.  It lives in a userdata so that a Lua error while
 * building (out of memory) cannot leak them: the collector frees them then.
 */
typedef struct scratch {
  struct ifaddrs *list;
  iftable t;
  nladdrs a;
  int sock;
} scratch;

#define SCRATCH_MT "netlua.ifaddr.scratch"

/* ---- small helpers ------------------------------------------------------ */

/* t[k] = s for the table at the top of the stack. */
static void set_string(lua_State *L, const char *k, const char *s) {
  lua_pushstring(L, s);
  lua_setfield(L, -2, k);
}

/* t[k] = n for the table at the top of the stack. */
static void set_integer(lua_State *L, const char *k, lua_Integer n) {
  lua_pushinteger(L, n);
  lua_setfield(L, -2, k);
}

/* t[k] = b for the table at the top of the stack. */
static void set_boolean(lua_State *L, const char *k, int b) {
  lua_pushboolean(L, b);
  lua_setfield(L, -2, k);
}

/* ---- the interface list ------------------------------------------------- */

/* Free what a scratch holds (idempotent): also its __gc. */
static int scratch_release(lua_State *L) {
  scratch *s = luaL_checkudata(L, 1, SCRATCH_MT);
  if (s->list) freeifaddrs(s->list);
  free(s->t.rows);
  free(s->a.rows);
  if (s->sock >= 0) close(s->sock);
  memset(s, 0, sizeof *s);
  s->sock = -1;
  return 0;
}

/* Push a new, empty scratch. */
static scratch *scratch_new(lua_State *L) {
  scratch *s = lua_newuserdatauv(L, sizeof *s, 0);
  memset(s, 0, sizeof *s);
  s->sock = -1;
  luaL_setmetatable(L, SCRATCH_MT);
  return s;
}

/* Release the scratch at stack index idx and remove it from the stack. */
static void scratch_drop(lua_State *L, int idx) {
  lua_pushcfunction(L, scratch_release);
  lua_pushvalue(L, idx);
  lua_call(L, 1, 0);
  lua_remove(L, idx);
}

/* Push the flags table of an interface from its IFF_* bits. */
static void push_flags(lua_State *L, unsigned flags) {
  lua_createtable(L, 0, 6);
  set_boolean(L, "up", flags & IFF_UP);
  set_boolean(L, "running", flags & IFF_RUNNING);
  set_boolean(L, "loopback", flags & IFF_LOOPBACK);
  set_boolean(L, "broadcast", flags & IFF_BROADCAST);
  set_boolean(L, "multicast", flags & IFF_MULTICAST);
  set_boolean(L, "point-to-point", flags & IFF_POINTOPOINT);
}

/* Set t.mac from a link entry when it carries a non-zero 6-byte address. */
static void set_mac(lua_State *L, const struct ifaddrs *ifa) {
  const struct sockaddr_ll *ll = (const struct sockaddr_ll *)ifa->ifa_addr;
  const unsigned char *m = ll->sll_addr;
  char buf[18];
  if (ll->sll_halen != 6) return;
  if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5])) return;
  snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
           m[2], m[3], m[4], m[5]);
  set_string(L, "mac", buf);
}

/* Set t.mtu via SIOCGIFMTU on sock (left unset when that fails). */
static void set_mtu(lua_State *L, int sock, const char *name) {
  struct ifreq ifr;
  if (sock < 0) return;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, strlen(name) + 1);
  if (ioctl(sock, SIOCGIFMTU, &ifr) == 0) set_integer(L, "mtu", ifr.ifr_mtu);
}

/* Set t[k] to the text of sa when sa is a usable address unlike addr. */
static void set_other(lua_State *L, const char *k, const struct sockaddr *sa,
                      const struct sockaddr *addr) {
  char buf[INET6_ADDRSTRLEN];
  /* glibc puts the local address here when no broadcast/peer was given */
  if (!sa || sa->sa_family != addr->sa_family || iflist_same_addr(sa, addr)) return;
  if (iflist_sa_text(sa, buf, sizeof buf) == 0) set_string(L, k, buf);
}

/* Set the IPv6-only fields (scope, scope_id) of an address table. */
static void set_v6_fields(lua_State *L, const struct sockaddr_in6 *s6) {
  set_string(L, "scope", iflist_v6_scope(&s6->sin6_addr));
  if (s6->sin6_scope_id) set_integer(L, "scope_id", s6->sin6_scope_id);
}

/* Set peer and broadcast of an address table from getifaddrs alone: the
   union field is a peer on point-to-point interfaces, else a broadcast. */
static void set_other_guess(lua_State *L, const struct ifaddrs *ifa) {
  if (ifa->ifa_addr->sa_family != AF_INET) return;
  if (ifa->ifa_flags & IFF_POINTOPOINT)
    set_other(L, "peer", ifa->ifa_dstaddr, ifa->ifa_addr);
  else if (ifa->ifa_flags & IFF_BROADCAST)
    set_other(L, "broadcast", ifa->ifa_broadaddr, ifa->ifa_addr);
}

/* Set t[k] to the text of a raw address of family. */
static void set_raw(lua_State *L, const char *k, int family, const void *raw) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(family, raw, buf, sizeof buf)) set_string(L, k, buf);
}

/* Set peer and broadcast of an address table: from rtnetlink, which says
   which is which whatever the interface flags ("addr add A peer P" on an
   Ethernet interface, IPv6 peers), else guessed from getifaddrs. */
static void set_peer_broadcast(lua_State *L, const struct ifaddrs *ifa,
                               const ifrow *row, const nladdrs *a) {
  const struct sockaddr *sa = ifa->ifa_addr;
  const void *raw = sa->sa_family == AF_INET
                        ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                        : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
  int prefix = ifa->ifa_netmask ? iflist_mask_prefix(ifa->ifa_netmask) : -1;
  const nladdr *r = rtnl_addr_find(a, sa->sa_family, row->index, prefix, raw);
  if (!r) {
    set_other_guess(L, ifa);
    return;
  }
  if (r->has_peer) set_raw(L, "peer", r->family, r->peer);
  if (r->has_brd) set_raw(L, "broadcast", r->family, r->brd);
}

/* Push the table of one IPv4/IPv6 address entry of interface row. */
static void push_addr(lua_State *L, const struct ifaddrs *ifa, const ifrow *row,
                      const nladdrs *a) {
  const struct sockaddr *sa = ifa->ifa_addr;
  char buf[INET6_ADDRSTRLEN];
  lua_createtable(L, 0, 7);
  set_string(L, "family", sa->sa_family == AF_INET ? "inet" : "inet6");
  if (iflist_sa_text(sa, buf, sizeof buf) == 0) set_string(L, "address", buf);
  if (ifa->ifa_netmask && ifa->ifa_netmask->sa_family == sa->sa_family &&
      iflist_sa_text(ifa->ifa_netmask, buf, sizeof buf) == 0) {
    set_string(L, "netmask", buf);
    set_integer(L, "prefix", iflist_mask_prefix(ifa->ifa_netmask));
  }
  if (sa->sa_family == AF_INET6) set_v6_fields(L, (const void *)sa);
  set_peer_broadcast(L, ifa, row, a);
  if (strcmp(ifa->ifa_name, row->name) != 0) set_string(L, "label", ifa->ifa_name);
}

/* Push the addrs list of interface row. */
static void push_addrs(lua_State *L, const scratch *s, const ifrow *row) {
  lua_Integer n = 0;
  lua_newtable(L);
  for (const struct ifaddrs *ifa = s->list; ifa; ifa = ifa->ifa_next) {
    if (!iflist_is_ip(ifa) || !iflist_belongs(ifa, row->name)) continue;
    push_addr(L, ifa, row, &s->a);
    lua_rawseti(L, -2, ++n);
  }
}

/* Push the table of one interface. */
static void push_interface(lua_State *L, const scratch *s, const ifrow *row) {
  int have_flags = 0;
  lua_createtable(L, 0, 6);
  set_string(L, "name", row->name);
  set_integer(L, "index", row->index);
  for (const struct ifaddrs *ifa = s->list; ifa; ifa = ifa->ifa_next) {
    if (!iflist_belongs(ifa, row->name)) continue;
    if (!have_flags) {
      push_flags(L, ifa->ifa_flags);
      lua_setfield(L, -2, "flags");
      have_flags = 1;
    }
    if (ifa->ifa_addr && ifa->ifa_addr->sa_family == AF_PACKET &&
        strcmp(ifa->ifa_name, row->name) == 0)
      set_mac(L, ifa);
  }
  set_mtu(L, s->sock, row->name);
  push_addrs(L, s, row);
  lua_setfield(L, -2, "addrs");
}

/* True when row matches the argument of net.interface: a name or an index. */
static int row_matches(const ifrow *row, const char *name, lua_Integer index) {
  return name ? strcmp(row->name, name) == 0 : (lua_Integer)row->index == index;
}

/*
 * Push the interfaces matching (name, index) -- every one when both are
 * "any" (NULL, -1) -- as a list; returns how many, or -1 with nil, message
 * pushed instead.
 */
static int push_matching(lua_State *L, const char *name, lua_Integer index) {
  scratch *s = scratch_new(L);
  int top = lua_gettop(L), n = 0;
  if (getifaddrs(&s->list) != 0) {
    s->list = NULL;
    scratch_drop(L, top);
    return net_fail(L, "getifaddrs: %s", net_strerror(errno)), -1;
  }
  if (iflist_table_build(&s->t, s->list) != 0) {
    scratch_drop(L, top);
    return net_fail(L, "interfaces: out of memory"), -1;
  }
  s->sock = iflist_ioctl_socket();
  rtnl_addrs(&s->a);
  lua_createtable(L, (int)s->t.n, 0);
  for (size_t i = 0; i < s->t.n; i++) {
    if ((name || index >= 0) && !row_matches(&s->t.rows[i], name, index)) continue;
    push_interface(L, s, &s->t.rows[i]);
    lua_rawseti(L, -2, ++n);
  }
  scratch_drop(L, top);
  return n;
}

/* net.interfaces() -> list of interface tables, or nil, message. */
static int l_interfaces(lua_State *L) {
  return push_matching(L, NULL, -1) < 0 ? 2 : 1;
}

/* net.interface(name | index) -> interface table, or nil, "no interface X". */
static int l_interface(lua_State *L) {
  const char *name = NULL;
  lua_Integer index = -1;
  size_t len;
  int n;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    index = luaL_checkinteger(L, 1);
    luaL_argcheck(L, index >= 1, 1, "interface index must be at least 1");
  } else {
    name = luaL_checklstring(L, 1, &len);
    luaL_argcheck(L, strlen(name) == len, 1, "interface name contains a NUL byte");
  }
  n = push_matching(L, name, index);
  if (n < 0) return 2;
  if (n == 0) {
    if (name) return net_fail(L, "no interface %s", name);
    return net_fail(L, "no interface with index %I", (lua_Integer)index);
  }
  lua_rawgeti(L, -1, 1);
  return 1;
}

/* ---- host identity ------------------------------------------------------ */

/* net.hostname() -> name, or nil, message. */
static int l_hostname(lua_State *L) {
  char buf[256];
  if (gethostname(buf, sizeof buf) != 0)
    return net_fail(L, "gethostname: %s", net_strerror(errno));
  buf[sizeof buf - 1] = '\0';
  lua_pushstring(L, buf);
  return 1;
}

/* myip without a route: push address, note (2) or nil, message (2). */
static int myip_fallback(lua_State *L, int family) {
  scratch *s = scratch_new(L);
  const struct ifaddrs *ifa;
  char buf[INET6_ADDRSTRLEN], name[IF_NAMESIZE];
  int top = lua_gettop(L), loopback = 0;
  if (getifaddrs(&s->list) != 0) {
    s->list = NULL;
    scratch_drop(L, top);
    return net_fail(L, "no default route, and getifaddrs: %s", net_strerror(errno));
  }
  ifa = iflist_fallback_find(s->list, family, 0);
  if (!ifa) ifa = iflist_fallback_find(s->list, family, loopback = 1);
  if (!ifa || iflist_sa_text(ifa->ifa_addr, buf, sizeof buf) != 0) {
    scratch_drop(L, top);
    return net_fail(L, "no address: no interface is up");
  }
  iflist_base_name(ifa->ifa_name, name);
  scratch_drop(L, top);
  lua_pushstring(L, buf);
  if (loopback)
    lua_pushstring(L, "no default route: loopback only");
  else
    lua_pushfstring(L, "no default route: first address of %s", name);
  return 2;
}

/* net.myip([family]) -> address [, note], or nil, message (see the top). */
static int l_myip(lua_State *L) {
  static const char *const names[] = {"any", "inet", "inet6", NULL};
  static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6};
  int family = families[luaL_checkoption(L, 1, "any", names)];
  char buf[INET6_ADDRSTRLEN];
  if (family != AF_INET6 && rtnl_route_source(AF_INET, buf) == 0) {
    lua_pushstring(L, buf);
    return 1;
  }
  if (family != AF_INET && rtnl_route_source(AF_INET6, buf) == 0) {
    lua_pushstring(L, buf);
    return 1;
  }
  return myip_fallback(L, family);
}

/* ---- default gateways --------------------------------------------------- */

/* Push the table of one gateway. */
static void push_gateway(lua_State *L, const gwrow *g) {
  lua_createtable(L, 0, 4);
  set_string(L, "family", g->family == AF_INET ? "inet" : "inet6");
  if (g->gateway[0]) set_string(L, "gateway", g->gateway);
  set_string(L, "interface", g->dev);
  set_integer(L, "metric", (lua_Integer)g->metric);
  if (g->weight) set_integer(L, "weight", g->weight);
}

/* Push the gateways table of l's rows (sorted): the list, and inet/inet6
   the preferred row of each family. */
static void push_gateways(lua_State *L, const gwlist *l) {
  size_t pref[2] = {rtnl_gateway_preferred(l, AF_INET),
                    rtnl_gateway_preferred(l, AF_INET6)};
  lua_createtable(L, (int)l->n, 2);
  for (size_t i = 0; i < l->n; i++) {
    push_gateway(L, &l->rows[i]);
    if (i == pref[0] || i == pref[1]) {
      lua_pushvalue(L, -1);
      lua_setfield(L, -3, l->rows[i].family == AF_INET ? "inet" : "inet6");
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* net.gateways() -> { inet = gw, inet6 = gw, gw... }, or nil, message. */
static int l_gateways(lua_State *L) {
  gwlist l; /* on the stack: nothing to leak if pushing raises */
  int err = rtnl_gateways(&l);
  if (err) return net_fail(L, "gateways: rtnetlink: %s", net_strerror(err));
  if (l.n == 0) return net_fail(L, "no default route");
  push_gateways(L, &l);
  return 1;
}

/* Add interfaces, interface, hostname, myip, gateways to the table on top. */
void ifaddr_open(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"interfaces", l_interfaces}, {"interface", l_interface},
      {"hostname", l_hostname},     {"myip", l_myip},
      {"gateways", l_gateways},     {NULL, NULL}};
  if (luaL_newmetatable(L, SCRATCH_MT)) {
    lua_pushcfunction(L, scratch_release);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
}
