/*
 * transport.h: the byte stream under a connection, with no Lua in it. A
 * connection (conn.c) reads, writes, shuts down and closes only through
 * these calls, so its receive patterns, line limit, transcript and timeouts
 * work the same over every transport: the plain socket (plain.c) and TLS
 * (tls.c, in the TLS part that is loaded on first use: tlslib.h).
 *
 * Every call is non-blocking. read and write return the bytes moved (read:
 * 0 at the end of the stream), or -1 with errno set; errno EAGAIN means
 * "would block": the caller waits until `fd` is ready for `want`
 * (TRANSPORT_READ or TRANSPORT_WRITE), which the call has just set. A TLS
 * write may need the fd readable (a renegotiation), hence `want` and not
 * the direction of the call. EINTR is handled inside and never returned.
 */
#ifndef NETLUA_TRANSPORT_H
#define NETLUA_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

/* What a blocked call waits for on fd. */
enum { TRANSPORT_READ = 1, TRANSPORT_WRITE = 2 };

typedef struct transport transport;

typedef struct transport_ops {
  ssize_t (*read)(transport *t, char *buf, size_t len);
  ssize_t (*write)(transport *t, const char *buf, size_t len);
  /* how: SHUT_RD, SHUT_WR or SHUT_RDWR. 0, or -1 with errno. */
  int (*shutdown)(transport *t, int how);
  /* Release what the transport holds besides the fd (a TLS session); the
     owner closes the fd itself afterwards, through the loop. */
  void (*close)(transport *t);
  const char *kind;       /* "tcp", "tls": what tostring(conn) calls it */
} transport_ops;

struct transport {
  const transport_ops *ops;
  int fd;                 /* the socket to wait on; -1 when closed */
  int want;               /* after EAGAIN: TRANSPORT_READ or TRANSPORT_WRITE */
  void *state;            /* the transport's own (NULL for plain) */
  const char *note;       /* shown in tostring(conn) ("NOT VERIFIED"), or NULL */
  int last;               /* what is written now is the last before the close:
                             plain holds it (MSG_MORE), so that the close sends
                             it in one segment with the FIN; TLS ignores it */
};

#endif
