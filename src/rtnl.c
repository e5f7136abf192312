/*
 * rtnl.c: rtnetlink requests (see rtnl.h), no Lua: peers and broadcast
 * addresses of interface addresses, the default routes and the route to
 * the outside. One request function (rtnl_request) sends a message on a
 * fresh NETLINK_ROUTE socket and hands every reply message to a handler.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "rtnl.h"

/* ---- requests ----------------------------------------------------------- */

/* Size of the buffer one netlink read goes into (a dump part fits). */
#define NL_BUFSIZE 65536
/* Most reads one request may take (bounds a misbehaving kernel answer). */
#define NL_MAX_READS 4096

/* Called for each reply message of a request; ud is the caller's. */
typedef void (*nl_handler)(const struct nlmsghdr *h, void *ud);

/* A NETLINK_ROUTE socket with a 1 s receive bound, or -1 (errno set). */
static int nl_socket(void) {
  struct timeval tv = {1, 0};
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s >= 0) setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

/* Handle the messages of one read; 1 when the answer is complete, 0 when
   more follows, or -errno (the kernel's error for the request). */
static int nl_walk(const char *buf, size_t len, unsigned seq, int dump,
                   nl_handler fn, void *ud) {
  const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
  for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
    if (h->nlmsg_seq != seq) continue;
    if (h->nlmsg_type == NLMSG_DONE) return 1;
    if (h->nlmsg_type == NLMSG_ERROR) {
      const struct nlmsgerr *e = NLMSG_DATA(h);
      return e->error ? e->error : 1;
    }
    fn(h, ud);
    if (!dump) return 1;
  }
  return 0;
}

/*
 * Send req (nlmsg_len set) on a fresh rtnetlink socket and pass every reply
 * message to fn: a dump until NLMSG_DONE, else the one answer.  0, or an
 * errno (the kernel's, e.g. ENETUNREACH for a route lookup).
 */
static int rtnl_request(struct nlmsghdr *req, nl_handler fn, void *ud) {
  static unsigned serial;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  int dump = !!(req->nlmsg_flags & NLM_F_DUMP), s, r = 0, err = 0;
  char *buf = malloc(NL_BUFSIZE);
  if (!buf) return ENOMEM;
  req->nlmsg_seq = ++serial;
  s = nl_socket();
  if (s < 0 || sendto(s, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel,
                      sizeof kernel) < 0)
    err = errno;
  for (int i = 0; !err && r == 0 && i < NL_MAX_READS; i++) {
    ssize_t n = recv(s, buf, NL_BUFSIZE, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) err = n < 0 ? errno : EPROTO;
    else r = nl_walk(buf, (size_t)n, req->nlmsg_seq, dump, fn, ud);
  }
  if (!err && r < 0) err = -r;
  if (!err && r == 0) err = ETIMEDOUT;
  if (s >= 0) close(s);
  free(buf);
  return err;
}

/* Index the attributes of a message part: tb[type] = attribute (max types). */
static void nl_attrs(const struct rtattr *a, int len, const struct rtattr **tb,
                     int max) {
  memset(tb, 0, sizeof *tb * (size_t)(max + 1));
  for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
    if (a->rta_type <= max) tb[a->rta_type] = a;
}

/* Byte length of an address of family. */
static size_t addr_len(int family) {
  return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Text of the raw address in attribute a (family's size) into out; 0 on
   success, -1 when a is absent or the wrong size. */
static int attr_text(const struct rtattr *a, int family, char *out, size_t len) {
  size_t n = addr_len(family);
  if (!a || !n || RTA_PAYLOAD(a) != n) return -1;
  return inet_ntop(family, RTA_DATA(a), out, (socklen_t)len) ? 0 : -1;
}

/* ---- what rtnetlink adds about addresses (peer, broadcast) -------------- */

/* A request: header, message of type T, room for a few attributes. */
#define NL_REQ(T) struct { struct nlmsghdr h; T m; char attrs[64]; }

/* Handler of an RTM_GETADDR dump: remember each address's peer/broadcast. */
static void on_addr(const struct nlmsghdr *h, void *ud) {
  nladdrs *l = ud;
  const struct ifaddrmsg *m = NLMSG_DATA(h);
  const struct rtattr *tb[IFA_MAX + 1], *local;
  size_t n = addr_len(m->ifa_family);
  nladdr *r;
  if (h->nlmsg_type != RTM_NEWADDR || !n || h->nlmsg_len < NLMSG_LENGTH(sizeof *m)) return;
  nl_attrs(IFA_RTA(m), (int)IFA_PAYLOAD(h), tb, IFA_MAX);
  local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
  if (!local || RTA_PAYLOAD(local) != n) return;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    nladdr *rows = realloc(l->rows, cap * sizeof *rows);
    if (!rows) { l->failed = 1; return; }
    l->rows = rows;
    l->cap = cap;
  }
  r = memset(&l->rows[l->n++], 0, sizeof *r);
  r->family = m->ifa_family;
  r->index = m->ifa_index;
  r->prefix = m->ifa_prefixlen;
  memcpy(r->local, RTA_DATA(local), n);
  /* IFA_ADDRESS is the peer when it differs from IFA_LOCAL */
  if (tb[IFA_LOCAL] && tb[IFA_ADDRESS] && RTA_PAYLOAD(tb[IFA_ADDRESS]) == n &&
      memcmp(RTA_DATA(tb[IFA_ADDRESS]), r->local, n) != 0) {
    memcpy(r->peer, RTA_DATA(tb[IFA_ADDRESS]), n);
    r->has_peer = 1;
  }
  if (tb[IFA_BROADCAST] && RTA_PAYLOAD(tb[IFA_BROADCAST]) == n) {
    memcpy(r->brd, RTA_DATA(tb[IFA_BROADCAST]), n);
    r->has_brd = 1;
  }
}

/* Fill l from an RTM_GETADDR dump; on any failure l->failed is set and
   the getifaddrs fields are used instead. */
void rtnl_addrs(nladdrs *l) {
  NL_REQ(struct ifaddrmsg) req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof req.m);
  req.h.nlmsg_type = RTM_GETADDR;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.m.ifa_family = AF_UNSPEC;
  if (rtnl_request(&req.h, on_addr, l) != 0) l->failed = 1;
}

/* The row of l for the address raw (of family) on interface index with
   prefix length prefix (< 0: any), or NULL. */
const nladdr *rtnl_addr_find(const nladdrs *l, int family, unsigned index,
                             int prefix, const void *raw) {
  for (size_t i = 0; !l->failed && i < l->n; i++) {
    const nladdr *r = &l->rows[i];
    if (r->family == family && r->index == index &&
        (prefix < 0 || (int)r->prefix == prefix) &&
        memcmp(r->local, raw, addr_len(r->family)) == 0)
      return r;
  }
  return NULL;
}

/* ---- routes: default gateways and the route to the outside -------------- */

/* Text of a next hop: RTA_GATEWAY (the route's family) or RTA_VIA (any);
   "" when there is none. */
static void hop_text(const struct rtattr *gw, const struct rtattr *via,
                     int family, char *out, size_t len) {
  out[0] = '\0';
  if (gw) {
    attr_text(gw, family, out, len);
  } else if (via && RTA_PAYLOAD(via) >= sizeof(struct rtvia)) {
    const struct rtvia *v = RTA_DATA(via);
    size_t n = addr_len(v->rtvia_family);
    if (n && RTA_PAYLOAD(via) >= sizeof *v + n)
      inet_ntop(v->rtvia_family, v->rtvia_addr, out, (socklen_t)len);
  }
}

/* Append one next hop of a default route to l (when there is room). */
static void gw_add(gwlist *l, int family, const struct rtattr *gw,
                   const struct rtattr *via, unsigned oif, unsigned long metric,
                   int weight) {
  gwrow *g;
  if (l->n == RTNL_MAX_GATEWAYS) return;
  g = &l->rows[l->n];
  memset(g, 0, sizeof *g);
  g->family = family;
  g->metric = metric;
  g->weight = weight;
  g->order = l->n;
  hop_text(gw, via, family, g->gateway, sizeof g->gateway);
  if (oif && !if_indextoname(oif, g->dev)) return; /* interface gone */
  l->n++;
}

/* Add every next hop of an RTA_MULTIPATH attribute (dead ones skipped). */
static void gw_add_multipath(gwlist *l, int family, const struct rtattr *mp,
                             unsigned long metric) {
  const struct rtnexthop *nh = RTA_DATA(mp);
  int len = (int)RTA_PAYLOAD(mp);
  while (len >= (int)sizeof *nh && nh->rtnh_len >= sizeof *nh &&
         nh->rtnh_len <= len) {
    const struct rtattr *tb[RTA_MAX + 1];
    nl_attrs(RTNH_DATA(nh), nh->rtnh_len - (int)RTNH_LENGTH(0), tb, RTA_MAX);
    if (!(nh->rtnh_flags & RTNH_F_DEAD))
      gw_add(l, family, tb[RTA_GATEWAY], tb[RTA_VIA], (unsigned)nh->rtnh_ifindex,
             metric, nh->rtnh_hops + 1);
    len -= (int)RTNH_ALIGN(nh->rtnh_len);
    nh = RTNH_NEXT(nh);
  }
}

/* An unsigned 32-bit attribute, or dflt when absent. */
static unsigned long attr_u32(const struct rtattr *a, unsigned long dflt) {
  uint32_t v;
  if (!a || RTA_PAYLOAD(a) < sizeof v) return dflt;
  memcpy(&v, RTA_DATA(a), sizeof v);
  return v;
}

/* Handler of an RTM_GETROUTE dump: collect the main table's default
   unicast routes, one row per next hop. */
static void on_route(const struct nlmsghdr *h, void *ud) {
  const struct rtmsg *m = NLMSG_DATA(h);
  const struct rtattr *tb[RTA_MAX + 1];
  unsigned long metric;
  if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof *m)) return;
  if (!addr_len(m->rtm_family) || m->rtm_dst_len != 0 || m->rtm_src_len != 0 ||
      m->rtm_type != RTN_UNICAST || (m->rtm_flags & RTM_F_CLONED))
    return;
  nl_attrs(RTM_RTA(m), (int)RTM_PAYLOAD(h), tb, RTA_MAX);
  if (attr_u32(tb[RTA_TABLE], m->rtm_table) != RT_TABLE_MAIN) return;
  metric = attr_u32(tb[RTA_PRIORITY], 0);
  if (tb[RTA_MULTIPATH])
    gw_add_multipath(ud, m->rtm_family, tb[RTA_MULTIPATH], metric);
  else
    gw_add(ud, m->rtm_family, tb[RTA_GATEWAY], tb[RTA_VIA],
           (unsigned)attr_u32(tb[RTA_OIF], 0), metric, 0);
}

/* qsort order of gateways: IPv4 first, then by metric, then the kernel's
   order (the next hops of one multipath route stay together). */
static int gw_cmp(const void *a, const void *b) {
  const gwrow *x = a, *y = b;
  if (x->family != y->family) return x->family == AF_INET ? -1 : 1;
  if (x->metric != y->metric) return x->metric > y->metric ? 1 : -1;
  return (x->order > y->order) - (x->order < y->order);
}

/* Fill l with the default routes of the main table, sorted; 0 or an
   errno. */
int rtnl_gateways(gwlist *l) {
  NL_REQ(struct rtmsg) req;
  int err;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof req.m);
  req.h.nlmsg_type = RTM_GETROUTE;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.m.rtm_family = AF_UNSPEC;
  l->n = 0;
  err = rtnl_request(&req.h, on_route, l);
  if (!err) qsort(l->rows, l->n, sizeof *l->rows, gw_cmp);
  return err;
}

/* The kernel's answer to "how do I reach the outside": source address,
   next hop ("" when direct) and interface, as text. */
typedef struct routeget {
  char src[INET6_ADDRSTRLEN];
  char gateway[INET6_ADDRSTRLEN];
  char dev[IF_NAMESIZE];
} routeget;

/* Handler of an RTM_GETROUTE answer: fill the routeget ud. */
static void on_route_get(const struct nlmsghdr *h, void *ud) {
  const struct rtmsg *m = NLMSG_DATA(h);
  const struct rtattr *tb[RTA_MAX + 1];
  routeget *r = ud;
  unsigned oif;
  if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof *m)) return;
  nl_attrs(RTM_RTA(m), (int)RTM_PAYLOAD(h), tb, RTA_MAX);
  if (attr_text(tb[RTA_PREFSRC], m->rtm_family, r->src, sizeof r->src) != 0)
    r->src[0] = '\0';
  hop_text(tb[RTA_GATEWAY], tb[RTA_VIA], m->rtm_family, r->gateway, sizeof r->gateway);
  oif = (unsigned)attr_u32(tb[RTA_OIF], 0);
  if (!oif || !if_indextoname(oif, r->dev)) r->dev[0] = '\0';
}

/*
 * Ask the kernel how it reaches a public address of family (8.8.8.8 or
 * 2001:4860:4860::8888): the question `ip route get` asks, so on a
 * multipath route both name the same next hop.  Nothing is sent.
 * 0 on success, else an errno (ENETUNREACH: no route).
 */
static int route_get(int family, routeget *out) {
  NL_REQ(struct rtmsg) req;
  struct rtattr *dst;
  size_t n = addr_len(family);
  memset(&req, 0, sizeof req);
  memset(out, 0, sizeof *out);
  req.m.rtm_family = (unsigned char)family;
  req.m.rtm_dst_len = (unsigned char)(8 * n);
  dst = (struct rtattr *)((char *)&req.h + NLMSG_ALIGN(NLMSG_LENGTH(sizeof req.m)));
  dst->rta_type = RTA_DST;
  dst->rta_len = (unsigned short)RTA_LENGTH(n);
  inet_pton(family, family == AF_INET ? "8.8.8.8" : "2001:4860:4860::8888",
            RTA_DATA(dst));
  req.h.nlmsg_len = NLMSG_ALIGN(NLMSG_LENGTH(sizeof req.m)) + dst->rta_len;
  req.h.nlmsg_type = RTM_GETROUTE;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  return rtnl_request(&req.h, on_route_get, out);
}

/* The source address the kernel picks to reach the outside over family,
   into out (INET6_ADDRSTRLEN bytes); 0 on success, else an errno. */
int rtnl_route_source(int family, char *out) {
  routeget r;
  int err = route_get(family, &r);
  if (err) return err;
  if (!r.src[0]) return EADDRNOTAVAIL;
  memcpy(out, r.src, sizeof r.src);
  return 0;
}

/* The row of l that is family's preferred default route: the next hop the
   kernel takes to the outside (as `ip route get` and net.myip see it, which
   matters on a multipath route), else the first (lowest metric) row.  A
   route without a next hop ("default dev tun0") counts like any other. */
size_t rtnl_gateway_preferred(const gwlist *l, int family) {
  routeget r;
  size_t first = l->n;
  int known = route_get(family, &r) == 0;
  for (size_t i = 0; i < l->n; i++) {
    const gwrow *g = &l->rows[i];
    if (g->family != family) continue;
    if (first == l->n) first = i;
    if (known && strcmp(g->gateway, r.gateway) == 0 && strcmp(g->dev, r.dev) == 0)
      return i;
  }
  return first;
}

