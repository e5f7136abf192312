/*
 * tls.h: the TLS transport (see transport.h), OpenSSL's SSL over a
 * connected non-blocking socket, with no Lua in it. SSL_ERROR_WANT_READ and
 * SSL_ERROR_WANT_WRITE become errno EAGAIN with `want` set, so a
 * connection waits on the loop exactly as over the plain socket; receive
 * patterns, the line cap, timeouts and the transcript do not know.
 *
 * The socket is read and written by a BIO of our own that sends with
 * MSG_NOSIGNAL (OpenSSL's socket BIO uses write(2), which raises SIGPIPE
 * when the peer has gone; netlua leaves SIGPIPE at its default).
 *
 * The handshake is driven by tls_handshake() (connect, accept, starttls);
 * a read or write before it is done would also complete it. What made
 * verification fail is kept in the state (tls_failure) by the verify
 * callback of tlsctx.c, for the message.
 */
#ifndef NETLUA_TLS_H
#define NETLUA_TLS_H

#include <openssl/ssl.h>

#include "transport.h"

/* Why the peer's certificate was refused (filled by the verify callback). */
typedef struct tls_failure {
  int err;                 /* X509_V_ERR_..., 0: none recorded */
  int depth;               /* of the certificate it is about */
  char subject[256];       /* its subject, "CN=..., O=..." */
  char issuer[256];
  char names[512];         /* its names (subjectAltName, else CN), ", " */
  char notbefore[40], notafter[40];
} tls_failure;

/* The state of a TLS transport (transport.state). */
typedef struct tls_state {
  SSL *ssl;
  int server;              /* accepting side */
  int verify;              /* the peer is verified (a failure is fatal) */
  int done;                /* 1: handshake complete; 2: and a fatal error
                              since (no close_notify then) */
  int eof;                 /* the peer closed the socket (our BIO saw 0) */
  tls_failure fail;
} tls_state;

/* Make t the TLS transport over fd with ssl (taken over: freed by the
   transport's close); the state is the SSL's app data (SSL_get_app_data)
   for the verify callback. Returns 0, or -1 (ENOMEM) leaving t unchanged
   and ssl freed. */
int tls_init(transport *t, int fd, SSL *ssl, int server, int verify);

/* One step of the handshake: 1 done (an unverified client session is
   noted "NOT VERIFIED" in t->note), 0 would block (errno EAGAIN, t->want
   set), -1 failed (OpenSSL's error queue and the state say why). */
int tls_handshake(transport *t);

/* The state of t if it is a TLS transport, else NULL. */
tls_state *tls_get(const transport *t);

#endif
