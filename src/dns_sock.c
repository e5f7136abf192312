/*
 * dns_sock.c: the sockets c-ares uses, and address text (no Lua).
 *
 * c-ares 1.18 writes with writev, which raises SIGPIPE when a DNS server has
 * closed a TCP connection; the socket functions here (dns_sockfns) write
 * with sendmsg(MSG_NOSIGNAL), make sockets close-on-exec, and note which
 * server each message came from in the channel (so an answer can name the
 * server that gave it). Address text is written by hand for IPv4: it runs
 * for every message and every A record (inet_ntop goes through sprintf).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dns.h"

/* Open a socket for c-ares: close-on-exec, non-blocking. */
static ares_socket_t sk_socket(int domain, int type, int protocol, void *ud) {
  (void)ud;
  return socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
}

/* Close a c-ares socket (the socket-state callback has already unwatched it). */
static int sk_close(ares_socket_t fd, void *ud) {
  (void)ud;
  return close(fd);
}

/* Connect a c-ares socket. */
static int sk_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t n,
                      void *ud) {
  (void)ud;
  return connect(fd, sa, n);
}

/* Text of an address: IPv4 by hand (inet_ntop goes through sprintf, and a
   busy resolver formats several addresses per answer), IPv6 by inet_ntop. */
void dns_addr_text(int family, const void *addr, char *out, size_t n) {
  if (family == AF_INET && n >= INET_ADDRSTRLEN) {
    const unsigned char *a = addr;
    for (int i = 0; i < 4; i++) {
      unsigned v = a[i];
      if (v >= 100) *out++ = (char)('0' + v / 100);
      if (v >= 10) *out++ = (char)('0' + v / 10 % 10);
      *out++ = (char)('0' + v % 10);
      *out++ = i < 3 ? '.' : '\0';
    }
  } else if (!inet_ntop(family, addr, out, (socklen_t)n)) {
    snprintf(out, n, "?");
  }
}

/* Append the decimal digits of v (>= 0) at out; returns the end. */
char *dns_put_uint(char *out, unsigned long long v) {
  char d[24];
  int k = 0;
  do d[k++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  while (k) *out++ = d[--k];
  *out = '\0';
  return out;
}

/* "ip", "ip:port" or "[ip6]:port" (port 0 and 53 left out) into out,
   which holds at least DNS_HOSTPORT_LEN bytes. */
void dns_hostport_text(int family, const void *addr, int port, char *out) {
  char *p = out;
  int bracket = family == AF_INET6 && port != 0 && port != 53;
  if (bracket) *p++ = '[';
  dns_addr_text(family, addr, p, INET6_ADDRSTRLEN);
  p += strlen(p);
  if (port != 0 && port != 53) {
    if (bracket) *p++ = ']';
    *p++ = ':';
    dns_put_uint(p, (unsigned)port);
  }
}

/* Note the address of a peer in c->from ("ip", "ip:port" or "[ip6]:port"). */
static void note_from(dnschan *c, const struct sockaddr *sa) {
  char text[DNS_HOSTPORT_LEN];
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *s4 = (const void *)sa;
    dns_hostport_text(AF_INET, &s4->sin_addr, ntohs(s4->sin_port), text);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const void *)sa;
    dns_hostport_text(AF_INET6, &s6->sin6_addr, ntohs(s6->sin6_port), text);
  } else {
    return;
  }
  snprintf(c->from, sizeof c->from, "%s", text);
}

/* Receive for c-ares, noting the sender (TCP: the peer). */
static ares_ssize_t sk_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
                                struct sockaddr *from, ares_socklen_t *fromlen, void *ud) {
  dnschan *c = ud;
  ares_ssize_t n = recvfrom(fd, buf, len, flags, from, fromlen);
  if (n > 0) {
    c->heard++;
    if (from) {
      note_from(c, from);
    } else {
      struct sockaddr_storage ss;
      socklen_t sl = sizeof ss;
      if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) note_from(c, (struct sockaddr *)&ss);
    }
  }
  return n;
}

/* Send for c-ares without ever raising SIGPIPE. */
static ares_ssize_t sk_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *ud) {
  struct msghdr m;
  (void)ud;
  memset(&m, 0, sizeof m);
  m.msg_iov = (struct iovec *)iov;
  m.msg_iovlen = (size_t)n;
  return sendmsg(fd, &m, MSG_NOSIGNAL);
}

/* The socket functions of every channel (user data: the channel). */
const struct ares_socket_functions dns_sockfns = {
  sk_socket, sk_close, sk_connect, sk_recvfrom, sk_sendv};
