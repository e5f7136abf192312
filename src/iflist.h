/*
 * iflist.h: the getifaddrs list read without Lua: one row per interface
 * (sorted by index), which entries belong to an interface, address text,
 * netmask prefix lengths, IPv6 scopes, and the address that stands in for
 * "my IP" when there is no default route.
 */
#ifndef NETLUA_IFLIST_H
#define NETLUA_IFLIST_H

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

/* One interface seen in the getifaddrs list. */
typedef struct ifrow {
  char name[IF_NAMESIZE];
  unsigned index;
} ifrow;

/* The rows of every interface in a getifaddrs list, sorted by index. */
typedef struct iftable {
  ifrow *rows;
  size_t n;
} iftable;

/* Fill t with one row per interface of list (t->rows malloc'd: the caller
   frees it); 0, or -1 when out of memory. */
int iflist_table_build(iftable *t, const struct ifaddrs *list);

/* The interface name of an entry: its label up to any ':' ("eth0:1"). */
void iflist_base_name(const char *label, char out[IF_NAMESIZE]);

/* True when a getifaddrs entry belongs to the interface `name`. */
int iflist_belongs(const struct ifaddrs *ifa, const char *name);

/* True when an entry carries an IPv4 or IPv6 address. */
int iflist_is_ip(const struct ifaddrs *ifa);

/* Text of an IPv4 or IPv6 socket address into buf; 0 on success, -1 for
   NULL or another family. */
int iflist_sa_text(const struct sockaddr *sa, char *buf, size_t len);

/* Number of leading one bits of a netmask (IPv4 or IPv6). */
int iflist_mask_prefix(const struct sockaddr *sa);

/* True when two IP socket addresses hold the same address. */
int iflist_same_addr(const struct sockaddr *a, const struct sockaddr *b);

/* Scope word of an IPv6 address, as `ip addr` shows it: "host", "link",
   "site" or "global". */
const char *iflist_v6_scope(const struct in6_addr *a);

/* The first entry that may stand in for "my IP": up, of family (AF_UNSPEC:
   IPv4 before IPv6), loopback or not as asked, not link-local; or NULL. */
const struct ifaddrs *iflist_fallback_find(const struct ifaddrs *list,
                                           int family, int loopback);

/* A datagram socket for interface ioctls, or -1. */
int iflist_ioctl_socket(void);

#endif
