/*
 * plain.c: the plain transport (see plain.h and transport.h): recv(2) and
 * send(2) on a non-blocking socket, MSG_NOSIGNAL so that a peer that has
 * gone gives EPIPE and never SIGPIPE. No Lua.
 */
#define _GNU_SOURCE
#include "plain.h"

#include <errno.h>
#include <sys/socket.h>

/* recv(2), retried on EINTR. */
static ssize_t plain_read(transport *t, char *buf, size_t len) {
  ssize_t r;
  do r = recv(t->fd, buf, len, 0); while (r < 0 && errno == EINTR);
  if (r < 0) t->want = TRANSPORT_READ;
  return r;
}

/* send(2) without SIGPIPE, retried on EINTR; held back (MSG_MORE) when it
   is the last before the close, which then sends it with the FIN. */
static ssize_t plain_write(transport *t, const char *buf, size_t len) {
  int flags = MSG_NOSIGNAL | (t->last ? MSG_MORE : 0);
  ssize_t r;
  do r = send(t->fd, buf, len, flags); while (r < 0 && errno == EINTR);
  if (r < 0) t->want = TRANSPORT_WRITE;
  return r;
}

/* shutdown(2); a socket no longer connected has nothing left to shut. */
static int plain_shutdown(transport *t, int how) {
  if (shutdown(t->fd, how) != 0 && errno != ENOTCONN) return -1;
  return 0;
}

/* Nothing of its own to release. */
static void plain_close(transport *t) {
  (void)t;
}

static const transport_ops plain_ops = {
  .read = plain_read, .write = plain_write, .shutdown = plain_shutdown,
  .close = plain_close, .kind = "tcp"};

void plain_init(transport *t, int fd) {
  t->ops = &plain_ops;
  t->fd = fd;
  t->want = 0;
  t->state = NULL;
  t->note = NULL;
  t->last = 0;
}
