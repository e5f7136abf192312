/*
 * tls.c: the TLS transport (see tls.h and transport.h): SSL_read_ex and
 * SSL_write_ex over our own socket BIO, OpenSSL's "want read/write" turned
 * into errno EAGAIN and transport.want, the handshake step, close_notify
 * on shutdown and close. No Lua.
 */
#define _GNU_SOURCE
#include "tls.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <openssl/err.h>

/* ---- the socket BIO: recv/send with MSG_NOSIGNAL ----------------------- */

static BIO_METHOD *bio_method;  /* made once, kept for the process */

/* The fd of a BIO of ours is the state's (BIO data: the tls_state). */
typedef struct bio_link { tls_state *s; int fd; } bio_link;

/* Read from the socket; EAGAIN asks OpenSSL to retry the read. */
static int bio_read(BIO *b, char *buf, int len) {
  bio_link *k = BIO_get_data(b);
  ssize_t r;
  BIO_clear_retry_flags(b);
  do r = recv(k->fd, buf, (size_t)len, 0); while (r < 0 && errno == EINTR);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_read(b);
  if (r == 0) k->s->eof = 1;
  return (int)r;
}

/* Write to the socket without SIGPIPE; EAGAIN asks for a retry. */
static int bio_write(BIO *b, const char *buf, int len) {
  bio_link *k = BIO_get_data(b);
  ssize_t r;
  BIO_clear_retry_flags(b);
  do r = send(k->fd, buf, (size_t)len, MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_write(b);
  return (int)r;
}

/* Only a flush means something here (there is nothing to flush). */
static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)b; (void)num; (void)ptr;
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

/* A new BIO is ready at once; its link is set by tls_init. */
static int bio_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

/* Free the link (the fd is the connection's). */
static int bio_destroy(BIO *b) {
  free(BIO_get_data(b));
  BIO_set_data(b, NULL);
  return 1;
}

/* Our BIO method, made on first use. */
static BIO_METHOD *bio_meth(void) {
  if (bio_method == NULL) {
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "netlua socket");
    if (m == NULL) return NULL;
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    BIO_meth_set_destroy(m, bio_destroy);
    bio_method = m;
  }
  return bio_method;
}

/* ---- the transport ----------------------------------------------------- */

/* The errno for a TLS error: ENOMEM when OpenSSL's queue says an
   allocation failed (first or last entry), else EPROTO. The queue is left
   as it is (tlsctx.c reads it after a failed handshake). */
static int tls_errno(void) {
  unsigned long first = ERR_peek_error(), last = ERR_peek_last_error();
  if (ERR_GET_REASON(first) == ERR_R_MALLOC_FAILURE || ERR_GET_REASON(last) == ERR_R_MALLOC_FAILURE)
    return ENOMEM;
  return EPROTO;
}

/* After an SSL call returned r <= 0: -1 with errno EAGAIN and want set for
   "try again", 0 for the end of the stream, -1 with errno otherwise (EPIPE
   when the peer has gone while we wrote, ENOMEM when OpenSSL ran out of
   memory, EPROTO for another TLS error). */
static ssize_t tls_failed(transport *t, tls_state *s, int r, int writing) {
  int e = errno;
  switch (SSL_get_error(s->ssl, r)) {
    case SSL_ERROR_WANT_READ:
      t->want = TRANSPORT_READ;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      t->want = TRANSPORT_WRITE;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      if (!writing) return 0;
      errno = EPIPE;
      return -1;
    case SSL_ERROR_SYSCALL:
      s->done = s->done ? 2 : 0;  /* 2: no close_notify after a fatal error */
      if (e == 0 && !writing) return 0;
      errno = e ? e : EPIPE;
      return -1;
    default:
      s->done = s->done ? 2 : 0;
      errno = tls_errno();
      return -1;
  }
}

/* SSL_read_ex. */
static ssize_t tls_read(transport *t, char *buf, size_t len) {
  tls_state *s = t->state;
  size_t n = 0;
  ERR_clear_error();
  errno = 0;
  if (SSL_read_ex(s->ssl, buf, len, &n) == 1) return (ssize_t)n;
  return tls_failed(t, s, 0, 0);
}

/* SSL_write_ex (partial writes allowed: conn.c sends the rest). */
static ssize_t tls_write(transport *t, const char *buf, size_t len) {
  tls_state *s = t->state;
  size_t n = 0;
  ERR_clear_error();
  errno = 0;
  if (SSL_write_ex(s->ssl, buf, len, &n) == 1) return (ssize_t)n;
  return tls_failed(t, s, 0, 1);
}

/* Send close_notify once, best effort, if the session is healthy. */
static void tls_notify(tls_state *s) {
  if (s->done == 1 && !(SSL_get_shutdown(s->ssl) & SSL_SENT_SHUTDOWN)) {
    ERR_clear_error();
    SSL_shutdown(s->ssl);
    ERR_clear_error();
  }
}

/* Shutting down the sending side sends close_notify first. */
static int tls_shutdown(transport *t, int how) {
  if (how != SHUT_RD) tls_notify(t->state);
  if (shutdown(t->fd, how) != 0 && errno != ENOTCONN) return -1;
  return 0;
}

/* close_notify, then free the session. */
static void tls_close(transport *t) {
  tls_state *s = t->state;
  if (s == NULL) return;
  tls_notify(s);
  SSL_free(s->ssl);
  free(s);
  t->state = NULL;
}

static const transport_ops tls_ops = {
  .read = tls_read, .write = tls_write, .shutdown = tls_shutdown,
  .close = tls_close, .kind = "tls"};

int tls_init(transport *t, int fd, SSL *ssl, int server, int verify) {
  tls_state *s = calloc(1, sizeof *s);
  bio_link *k = malloc(sizeof *k);
  BIO_METHOD *m = bio_meth();
  BIO *b = m ? BIO_new(m) : NULL;
  if (s == NULL || k == NULL || b == NULL) {
    free(s);
    free(k);
    BIO_free(b);
    SSL_free(ssl);
    errno = ENOMEM;
    return -1;
  }
  k->s = s;
  k->fd = fd;
  BIO_set_data(b, k);
  SSL_set_bio(ssl, b, b);
  s->ssl = ssl;
  s->server = server;
  s->verify = verify;
  SSL_set_app_data(ssl, s);
  if (server) SSL_set_accept_state(ssl); else SSL_set_connect_state(ssl);
  t->ops = &tls_ops;
  t->fd = fd;
  t->want = 0;
  t->state = s;
  t->note = NULL;
  t->last = 0;
  return 0;
}

int tls_handshake(transport *t) {
  tls_state *s = t->state;
  int r;
  ERR_clear_error();
  errno = 0;
  r = SSL_do_handshake(s->ssl);
  if (r == 1) {
    s->done = 1;
    t->note = !s->server && !s->verify ? "NOT VERIFIED" : NULL;
    return 1;
  }
  if (tls_failed(t, s, r, 0) < 0 && errno == EAGAIN) return 0;
  return -1;
}

tls_state *tls_get(const transport *t) {
  return t->ops == &tls_ops ? t->state : NULL;
}
