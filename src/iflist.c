/*
 * iflist.c: the getifaddrs list read without Lua (see iflist.h): interface
 * rows by index, entries of an interface, address text and prefixes, the
 * fallback "my IP" address.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netpacket/packet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iflist.h"

/* The interface name of an entry: its label up to any ':' ("eth0:1"). */
void iflist_base_name(const char *label, char out[IF_NAMESIZE]) {
  size_t i = 0;
  while (label[i] && label[i] != ':' && i < IF_NAMESIZE - 1) {
    out[i] = label[i];
    i++;
  }
  out[i] = '\0';
}

/* True when a getifaddrs entry belongs to the interface `name`. */
int iflist_belongs(const struct ifaddrs *ifa, const char *name) {
  char base[IF_NAMESIZE];
  if (!ifa->ifa_name) return 0;
  iflist_base_name(ifa->ifa_name, base);
  return strcmp(base, name) == 0;
}

/* True when an entry carries an IPv4 or IPv6 address. */
int iflist_is_ip(const struct ifaddrs *ifa) {
  return ifa->ifa_addr && (ifa->ifa_addr->sa_family == AF_INET ||
                           ifa->ifa_addr->sa_family == AF_INET6);
}

/* Text of an IPv4 or IPv6 socket address into buf; 0 on success. */
int iflist_sa_text(const struct sockaddr *sa, char *buf, size_t len) {
  const void *a;
  if (!sa) return -1;
  if (sa->sa_family == AF_INET)
    a = &((const struct sockaddr_in *)sa)->sin_addr;
  else if (sa->sa_family == AF_INET6)
    a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
  else
    return -1;
  return inet_ntop(sa->sa_family, a, buf, (socklen_t)len) ? 0 : -1;
}

/* Number of leading one bits of a netmask (IPv4 or IPv6). */
int iflist_mask_prefix(const struct sockaddr *sa) {
  const unsigned char *p;
  size_t n, i;
  int bits = 0;
  if (sa->sa_family == AF_INET) {
    p = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
    n = 4;
  } else {
    p = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    n = 16;
  }
  for (i = 0; i < n && p[i] == 0xff; i++) bits += 8;
  if (i < n)
    for (unsigned char b = p[i]; b & 0x80; b = (unsigned char)(b << 1)) bits++;
  return bits;
}

/* True when two IP socket addresses hold the same address. */
int iflist_same_addr(const struct sockaddr *a, const struct sockaddr *b) {
  if (a->sa_family != b->sa_family) return 0;
  if (a->sa_family == AF_INET)
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
           ((const struct sockaddr_in *)b)->sin_addr.s_addr;
  return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* Scope word of an IPv6 address, as `ip addr` shows it. */
const char *iflist_v6_scope(const struct in6_addr *a) {
  if (IN6_IS_ADDR_LOOPBACK(a)) return "host";
  if (IN6_IS_ADDR_LINKLOCAL(a)) return "link";
  if (IN6_IS_ADDR_SITELOCAL(a)) return "site";
  return "global";
}

/* Index of the interface: from its link entry, else if_nametoindex. */
static unsigned entry_index(const struct ifaddrs *ifa, const char *name) {
  if (ifa->ifa_addr && ifa->ifa_addr->sa_family == AF_PACKET &&
      strcmp(ifa->ifa_name, name) == 0)
    return (unsigned)((const struct sockaddr_ll *)ifa->ifa_addr)->sll_ifindex;
  return if_nametoindex(name);
}

/* Add the interface of one entry to t unless it is there already. */
static void table_add(iftable *t, const struct ifaddrs *ifa) {
  char name[IF_NAMESIZE];
  unsigned index;
  iflist_base_name(ifa->ifa_name, name);
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->rows[i].name, name) == 0) return;
  index = entry_index(ifa, name);
  if (index == 0) return; /* gone meanwhile */
  memcpy(t->rows[t->n].name, name, sizeof name);
  t->rows[t->n].index = index;
  t->n++;
}

/* qsort order of rows: by interface index. */
static int row_cmp(const void *a, const void *b) {
  unsigned x = ((const ifrow *)a)->index, y = ((const ifrow *)b)->index;
  return (x > y) - (x < y);
}

/* Fill t with one row per interface of list; 0, or -1 when out of memory. */
int iflist_table_build(iftable *t, const struct ifaddrs *list) {
  size_t n = 0;
  for (const struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) n++;
  t->n = 0;
  t->rows = malloc((n ? n : 1) * sizeof *t->rows);
  if (!t->rows) return -1;
  for (const struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next)
    if (ifa->ifa_name) table_add(t, ifa);
  qsort(t->rows, t->n, sizeof *t->rows, row_cmp);
  return 0;
}

/* True when an address entry may stand in for "my IP" in the fallback:
   up, of an allowed family, loopback or not as asked, and not link-local. */
static int fallback_ok(const struct ifaddrs *ifa, int family, int loopback) {
  const struct sockaddr *sa = ifa->ifa_addr;
  if (!iflist_is_ip(ifa) || !(ifa->ifa_flags & IFF_UP)) return 0;
  if (family != AF_UNSPEC && sa->sa_family != family) return 0;
  if (!!(ifa->ifa_flags & IFF_LOOPBACK) != loopback) return 0;
  if (sa->sa_family == AF_INET6 &&
      IN6_IS_ADDR_LINKLOCAL(&((const struct sockaddr_in6 *)sa)->sin6_addr))
    return 0;
  return 1;
}

/* The first fallback entry: IPv4 before IPv6 unless family says. */
const struct ifaddrs *iflist_fallback_find(const struct ifaddrs *list,
                                           int family, int loopback) {
  static const int order[2] = {AF_INET, AF_INET6};
  for (int i = 0; i < 2; i++) {
    if (family != AF_UNSPEC && family != order[i]) continue;
    for (const struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next)
      if (fallback_ok(ifa, order[i], loopback)) return ifa;
  }
  return NULL;
}

/* A datagram socket for interface ioctls, or -1. */
int iflist_ioctl_socket(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  return s;
}
