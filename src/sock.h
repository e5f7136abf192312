/*
 * sock.h: the OS side of netlua's sockets, with no Lua in it: socket
 * addresses (numeric parsing, formatting, ports, IPv4-mapped IPv6), and
 * non-blocking, close-on-exec socket creation, connect, listen and accept.
 * Functions that can fail return -1 (or an fd) and leave errno set, or
 * return an errno value where that reads better (marked so).
 *
 * SIGPIPE is left at its default, as in lua (so `netlua script | head`
 * ends as lua5.4 does): every write to a socket, ours and c-ares', uses
 * MSG_NOSIGNAL instead, so a peer that has gone never kills the process.
 */
#ifndef NETLUA_SOCK_H
#define NETLUA_SOCK_H

#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Room for "[ffff:...:255.255.255.255%scope]:65535" and a NUL. */
#define SOCK_ADDRSTRLEN 80

/* One socket address of either family, with its length. */
typedef struct sock_addr {
  union {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
  } u;
  socklen_t len;
} sock_addr;

/* Parse a numeric IPv4 or IPv6 address (IPv6 may be in brackets and carry
   a scope, "fe80::1%lo" or "fe80::1%2") with `port` into `a`. Returns 0, or
   -1 when `host` is not a valid numeric address (or names no interface).
   family: 0 for either, AF_INET or AF_INET6 to accept only that one. */
int sock_pton(const char *host, int port, int family, sock_addr *a);

/* True when `host` can only be meant as a numeric address (it contains
   ':' or starts with '[', or is all digits and dots: "300.1.1.1", "127"),
   so it must never be sent to DNS even if sock_pton rejects it. */
int sock_looks_numeric(const char *host);

/* The wildcard ("::" or "0.0.0.0") or loopback address of `family`. */
void sock_any(int family, int port, sock_addr *a);
void sock_loopback(int family, int port, sock_addr *a);
/* True when a is a wildcard address (or not an IP one): a socket bound
   there has no one local address. */
int sock_is_any(const sock_addr *a);

/* The address without port into buf (IPv4-mapped IPv6 shown as IPv4). */
const char *sock_ntop(const sock_addr *a, char *buf, size_t n);

/* "1.2.3.4:80" or "[::1]:80" into buf. */
const char *sock_format(const sock_addr *a, char *buf, size_t n);

/* The port of an address, and setting it. */
int sock_port(const sock_addr *a);
void sock_setport(sock_addr *a, int port);

/* The family of an address, AF_INET for IPv4-mapped IPv6. */
int sock_family(const sock_addr *a);

/* An IPv4 address turned into its IPv4-mapped IPv6 form (for a dual-stack
   socket); other addresses are left alone. */
void sock_map4(sock_addr *a);

/* A new non-blocking, close-on-exec socket. Returns the fd or -1. */
int sock_socket(int family, int type);

/* Start a non-blocking connect: returns 0 (connected), or an errno value
   (EINPROGRESS while under way). */
int sock_connect(int fd, const sock_addr *a);

/* The pending error of a socket (SO_ERROR): 0 or an errno value. */
int sock_error(int fd);

/* Bind, IPv6 dual stack unless v6only; then, if backlog >= 0, listen
   with address reuse (SO_REUSEADDR; not for UDP, where it would share the
   port). Returns 0 or an errno value. */
int sock_bind(int fd, const sock_addr *a, int v6only, int backlog);

/* Accept a connection as a non-blocking, close-on-exec fd; fills `peer`.
   Returns the fd or -1. */
int sock_accept(int fd, sock_addr *peer);

/* The local (peer = 0) or remote (peer = 1) address of fd. 0 or -1. */
int sock_name(int fd, int peer, sock_addr *a);

/* TCP_NODELAY on (small request/reply dialogues should not wait). */
void sock_nodelay(int fd);

/* A listening socket hands out a connection only once the client has sent
   something, or after about `seconds` (TCP_DEFER_ACCEPT): for protocols
   where the client speaks first. */
void sock_defer_accept(int fd, int seconds);

#endif
