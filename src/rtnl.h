/*
 * rtnl.h: what the kernel's routing netlink (rtnetlink) tells about this
 * host, with no Lua in it: which other address of an interface address is
 * a peer and which a broadcast (RTM_GETADDR), the default routes of the
 * main table (RTM_GETROUTE dump) and the route to the outside (RTM_GETROUTE
 * for 8.8.8.8 / 2001:4860:4860::8888, the question `ip route get` asks;
 * nothing is sent). Each request uses a fresh socket with a 1 s receive
 * bound. Failures return an errno value (0: success).
 */
#ifndef NETLUA_RTNL_H
#define NETLUA_RTNL_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>

/* What rtnetlink says about one address that getifaddrs cannot: whether
   the other address is a peer or a broadcast address. */
typedef struct nladdr {
  int family;
  unsigned index, prefix;
  unsigned char local[16], peer[16], brd[16];
  int has_peer, has_brd;
} nladdr;

/* Every address of an RTM_GETADDR dump; failed when the dump did not work. */
typedef struct nladdrs {
  nladdr *rows;   /* malloc'd: the caller frees it */
  size_t n, cap;
  int failed;
} nladdrs;

/* Fill l (zeroed by the caller) from an RTM_GETADDR dump; on any failure
   l->failed is set (the caller then guesses from getifaddrs). */
void rtnl_addrs(nladdrs *l);

/* The row of l for the address raw (of family) on interface index with
   prefix length prefix (< 0: any), or NULL. */
const nladdr *rtnl_addr_find(const nladdrs *l, int family, unsigned index,
                             int prefix, const void *raw);

/* Most default routes rtnl_gateways reports. */
#define RTNL_MAX_GATEWAYS 64

/* One next hop of a default route. */
typedef struct gwrow {
  int family;                     /* of the route */
  char gateway[INET6_ADDRSTRLEN]; /* "" when the route has no next hop */
  char dev[IF_NAMESIZE];
  unsigned long metric;
  int weight;                     /* multipath weight; 0 when single path */
  size_t order;                   /* position in the kernel's answer */
} gwrow;

/* The default routes found. */
typedef struct gwlist {
  gwrow rows[RTNL_MAX_GATEWAYS];
  size_t n;
} gwlist;

/* Fill l with the next hops of the main table's default unicast routes
   (dead ones skipped), sorted: IPv4 first, then by metric, then the
   kernel's order (the next hops of one multipath route stay together).
   0 or an errno. */
int rtnl_gateways(gwlist *l);

/* The row of l that is family's preferred default route: the next hop the
   kernel takes to the outside (as `ip route get` and net.myip see it, which
   matters on a multipath route), else the first (lowest metric) row; l->n
   when family has none. A route without a next hop ("default dev tun0")
   counts like any other. */
size_t rtnl_gateway_preferred(const gwlist *l, int family);

/* The source address the kernel picks to reach the outside over family,
   into out (INET6_ADDRSTRLEN bytes); 0 on success, else an errno
   (ENETUNREACH: no route; EADDRNOTAVAIL: a route without a source). */
int rtnl_route_source(int family, char *out);

#endif
