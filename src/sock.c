/*
 * sock.c: socket addresses and non-blocking socket calls for netlua (see
 * sock.h). Plain OS code: no Lua, no loop; callers decide how to wait.
 */
#define _GNU_SOURCE
#include "sock.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Copy host into buf without surrounding brackets; -1 if it does not fit. */
static int strip_brackets(const char *host, char *buf, size_t n) {
  size_t len = strlen(host);
  if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
    host++;
    len -= 2;
  }
  if (len + 1 > n) return -1;
  memcpy(buf, host, len);
  buf[len] = '\0';
  return 0;
}

/* The scope of an IPv6 literal ("lo", "eth0" or a number) as an
   interface index; 0 if there is no such interface. */
static unsigned scope_index(const char *scope) {
  char *end;
  unsigned long n;
  if (*scope == '\0') return 0;
  if (isdigit((unsigned char)*scope)) {
    n = strtoul(scope, &end, 10);
    return *end == '\0' && n > 0 && n <= 0xffffffffUL ? (unsigned)n : 0;
  }
  return if_nametoindex(scope);
}

int sock_pton(const char *host, int port, int family, sock_addr *a) {
  char buf[64], *pct;
  unsigned scope = 0;
  memset(a, 0, sizeof *a);
  if (family != AF_INET6 && inet_pton(AF_INET, host, &a->u.in.sin_addr) == 1) {
    a->u.in.sin_family = AF_INET;
    a->u.in.sin_port = htons((unsigned short)port);
    a->len = sizeof a->u.in;
    return 0;
  }
  if (family == AF_INET || strip_brackets(host, buf, sizeof buf) != 0) return -1;
  if ((pct = strchr(buf, '%')) != NULL) {
    *pct = '\0';
    if ((scope = scope_index(pct + 1)) == 0) return -1;
  }
  if (inet_pton(AF_INET6, buf, &a->u.in6.sin6_addr) != 1) return -1;
  a->u.in6.sin6_family = AF_INET6;
  a->u.in6.sin6_port = htons((unsigned short)port);
  a->u.in6.sin6_scope_id = scope;
  a->len = sizeof a->u.in6;
  return 0;
}

int sock_looks_numeric(const char *host) {
  size_t i;
  if (host[0] == '[' || strchr(host, ':')) return 1;
  for (i = 0; host[i]; i++)
    if (!isdigit((unsigned char)host[i]) && host[i] != '.') return 0;
  return i > 0;
}

void sock_any(int family, int port, sock_addr *a) {
  memset(a, 0, sizeof *a);
  if (family == AF_INET6) {
    a->u.in6.sin6_family = AF_INET6;
    a->u.in6.sin6_addr = in6addr_any;
    a->len = sizeof a->u.in6;
  } else {
    a->u.in.sin_family = AF_INET;
    a->u.in.sin_addr.s_addr = htonl(INADDR_ANY);
    a->len = sizeof a->u.in;
  }
  sock_setport(a, port);
}

int sock_is_any(const sock_addr *a) {
  if (a->u.sa.sa_family == AF_INET6) return IN6_IS_ADDR_UNSPECIFIED(&a->u.in6.sin6_addr);
  return a->u.sa.sa_family != AF_INET || a->u.in.sin_addr.s_addr == htonl(INADDR_ANY);
}

void sock_loopback(int family, int port, sock_addr *a) {
  sock_any(family, port, a);
  if (family == AF_INET6)
    a->u.in6.sin6_addr = in6addr_loopback;
  else
    a->u.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* True for an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
static int is_mapped(const sock_addr *a) {
  return a->u.sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->u.in6.sin6_addr);
}

/* Dotted-quad text of the 4 bytes at p into buf (n >= INET_ADDRSTRLEN):
   what inet_ntop gives, without its trip through sprintf (a server formats
   every client's address). */
static void ntop4(const unsigned char *p, char *buf, size_t n) {
  char *o = buf;
  if (n < INET_ADDRSTRLEN) {
    if (!inet_ntop(AF_INET, p, buf, (socklen_t)n)) buf[0] = '\0';
    return;
  }
  for (int i = 0; i < 4; i++) {
    unsigned v = p[i];
    if (v >= 100) *o++ = (char)('0' + v / 100);
    if (v >= 10) *o++ = (char)('0' + v / 10 % 10);
    *o++ = (char)('0' + v % 10);
    *o++ = i < 3 ? '.' : '\0';
  }
}

const char *sock_ntop(const sock_addr *a, char *buf, size_t n) {
  if (a->u.sa.sa_family == AF_INET) {
    ntop4((const unsigned char *)&a->u.in.sin_addr, buf, n);
  } else if (is_mapped(a)) {
    ntop4(&a->u.in6.sin6_addr.s6_addr[12], buf, n);
  } else if (a->u.sa.sa_family == AF_INET6) {
    char name[IF_NAMESIZE];
    size_t len;
    if (!inet_ntop(AF_INET6, &a->u.in6.sin6_addr, buf, (socklen_t)n)) buf[0] = '\0';
    len = strlen(buf);
    if (a->u.in6.sin6_scope_id && len + 1 < n) {
      if (if_indextoname(a->u.in6.sin6_scope_id, name))
        snprintf(buf + len, n - len, "%%%s", name);
      else
        snprintf(buf + len, n - len, "%%%u", (unsigned)a->u.in6.sin6_scope_id);
    }
  } else {
    snprintf(buf, n, "?");
  }
  return buf;
}

const char *sock_format(const sock_addr *a, char *buf, size_t n) {
  char host[SOCK_ADDRSTRLEN], port[8], *p = port + sizeof port, *out = buf;
  int v6 = sock_family(a) == AF_INET6;
  unsigned v = (unsigned)sock_port(a);
  size_t hl, pl;
  sock_ntop(a, host, sizeof host);
  *--p = '\0';                          /* the port's digits, right to left */
  do *--p = (char)('0' + v % 10); while ((v /= 10) > 0);
  hl = strlen(host);
  pl = strlen(p);
  if (n < hl + pl + 4) {                 /* too small: as snprintf would, cut */
    snprintf(buf, n, v6 ? "[%s]:%s" : "%s:%s", host, p);
    return buf;
  }
  if (v6) *out++ = '[';
  memcpy(out, host, hl);
  out += hl;
  if (v6) *out++ = ']';
  *out++ = ':';
  memcpy(out, p, pl + 1);
  return buf;
}

int sock_port(const sock_addr *a) {
  if (a->u.sa.sa_family == AF_INET) return ntohs(a->u.in.sin_port);
  if (a->u.sa.sa_family == AF_INET6) return ntohs(a->u.in6.sin6_port);
  return 0;
}

void sock_setport(sock_addr *a, int port) {
  if (a->u.sa.sa_family == AF_INET) a->u.in.sin_port = htons((unsigned short)port);
  if (a->u.sa.sa_family == AF_INET6) a->u.in6.sin6_port = htons((unsigned short)port);
}

int sock_family(const sock_addr *a) {
  return is_mapped(a) ? AF_INET : a->u.sa.sa_family;
}

void sock_map4(sock_addr *a) {
  struct sockaddr_in in;
  if (a->u.sa.sa_family != AF_INET) return;
  in = a->u.in;
  memset(a, 0, sizeof *a);
  a->u.in6.sin6_family = AF_INET6;
  a->u.in6.sin6_port = in.sin_port;
  a->u.in6.sin6_addr.s6_addr[10] = 0xff;
  a->u.in6.sin6_addr.s6_addr[11] = 0xff;
  memcpy(&a->u.in6.sin6_addr.s6_addr[12], &in.sin_addr, 4);
  a->len = sizeof a->u.in6;
}

int sock_socket(int family, int type) {
  return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int sock_connect(int fd, const sock_addr *a) {
  int r;
  r = connect(fd, &a->u.sa, a->len);
  /* interrupted, a non-blocking connect goes on: calling again would say
     EALREADY; the wait for writability sees how it ends */
  if (r != 0 && errno == EINTR) return EINPROGRESS;
  return r == 0 ? 0 : errno;
}

int sock_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

int sock_bind(int fd, const sock_addr *a, int v6only, int backlog) {
  int on = 1;
  if (backlog >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (a->u.sa.sa_family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  if (bind(fd, &a->u.sa, a->len) != 0) return errno;
  if (backlog >= 0 && listen(fd, backlog) != 0) return errno;
  return 0;
}

int sock_accept(int fd, sock_addr *peer) {
  int r;
  memset(peer, 0, sizeof *peer);
  peer->len = sizeof peer->u;
  do r = accept4(fd, &peer->u.sa, &peer->len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (r < 0 && errno == EINTR);
  return r;
}

int sock_name(int fd, int peer, sock_addr *a) {
  memset(a, 0, sizeof *a);
  a->len = sizeof a->u;
  return peer ? getpeername(fd, &a->u.sa, &a->len) : getsockname(fd, &a->u.sa, &a->len);
}

void sock_nodelay(int fd) {
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

void sock_defer_accept(int fd, int seconds) {
  setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds);
}
