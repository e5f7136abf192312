/*
 * tlsconn.h: TLS on connections: the methods conn:starttls([opts]) and
 * conn:tlsinfo(), and the hooks connect.c and server.c call for opts.tls.
 * The connection's transport is swapped for the TLS one (tls.h) in place,
 * so everything conn.c does works unchanged over it. A handshake waits
 * through the loop like any call (a deadline, Ctrl-C, tasks yield); when
 * it fails the connection is closed and the result is nil and a message
 * naming the peer ("tls HOST:PORT (ADDR): certificate verify failed:
 * ...") or "timeout".
 *
 * OpenSSL itself is reached through the TLS part (tlslib.h), loaded by the
 * first handshake or TLS listener; options are checked here, before it is
 * needed, so a bad option raises whether or not it is loaded. Options (a
 * table, or true for the defaults):
 *   client: verify (default true), ca (file or directory; default: the
 *           system store, which honours SSL_CERT_FILE and SSL_CERT_DIR),
 *           servername (SNI and the name checked), alpn (list of strings),
 *           cert, key (a client certificate), minversion ("1.2" | "1.3")
 *   server: cert, key (required), ca (then a client certificate is
 *           required and verified against it), alpn, minversion
 * Unknown options and wrong types raise.
 */
#ifndef NETLUA_TLSCONN_H
#define NETLUA_TLSCONN_H

#include <lua.h>

/* Longest handshake of an accepted client (seconds), whatever accept's own
   deadline: one silent client holds accept at most this long. */
#define TLSCONN_ACCEPT_MAX 10.0

/* net.connect: whether opts (the table at `opts`, or none) asks for TLS;
   opts.tls is checked (a bad option raises). */
int tlsconn_wanted(lua_State *L, int opts);

/* net.connect, once connected: the client handshake on the connection at
   `conn` with opts.tls of `opts`, checking the name `host` (or
   tls.servername), within `deadline`. Returns as a lua_CFunction does
   (the connection, or nil and a message), from a continuation if it
   waits: call it as `return tlsconn_connect(...)`. The connection is not
   handed over yet: an error unwinding the call (Ctrl-C) or its task
   cancelled closes it at once. */
int tlsconn_connect(lua_State *L, int conn, int opts, int host, double deadline);

/* net.listen: if the options at `opts` have tls, make the server context
   and store it as user value `uv` of the server at `server`; returns 0, or
   pushes nil, "listen LABEL: tls: ..." and returns 2. */
int tlsconn_listen(lua_State *L, int opts, int server, int uv, const char *label);

/* server:accept, once accepted: the server handshake on the connection at
   `conn` with the context at `ctx`, within `deadline` (capped by
   TLSCONN_ACCEPT_MAX). Returns like tlsconn_connect; the server itself is
   untouched by a failure. owned: accept made the connection, so an error
   unwinding the call (Ctrl-C) or its task cancelled closes it at once (as
   tlsconn_connect does); 0 for server:handshake, whose caller holds it. */
int tlsconn_accept(lua_State *L, int conn, int ctx, double deadline, int owned);

#endif
