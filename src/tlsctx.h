/*
 * tlsctx.h: TLS contexts from netlua's options (tlsconn.h lists them;
 * tlsconn.c has checked them before they come here), and what a failed
 * handshake means in words. Client contexts are cached per option set
 * (the registry, a bounded table); a server context belongs to its
 * listener. Contexts are Lua objects: freed when collected (a session
 * keeps its context alive by OpenSSL's own count). Part of netlua-tls.so
 * (tlslib.h).
 */
#ifndef NETLUA_TLSCTX_H
#define NETLUA_TLSCTX_H

#include <lua.h>
#include <openssl/ssl.h>

#include "tls.h"

/* Push the context for the options at idx (cached for clients) and return
   its SSL_CTX; or push a message ("cannot load certificate x.pem: no such
   file or directory") and return NULL. */
SSL_CTX *tlsctx_push(lua_State *L, int idx, int server);

/* The SSL_CTX of the context object at idx, or NULL if it is not one. */
SSL_CTX *tlsctx_to(lua_State *L, int idx);

/* A new client or server SSL on ctx. A client checks `name` (a DNS name,
   sent as SNI, or an IP literal, checked against the certificate's IP
   addresses and not sent); name NULL: no name check. NULL on failure. */
SSL *tlsctx_newssl(SSL_CTX *ctx, int server, const char *name);

/* True when a client context verifies its peer (verify ~= false). */
int tlsctx_verifies(SSL_CTX *ctx);

/* Push what made the handshake of s fail, in words: "certificate verify
   failed: self-signed certificate (CN=x)", "name mismatch: certificate is
   for a.example, not b.example", "handshake: no shared protocol version",
   "peer closed during the handshake", ... Call right after the failure
   (it reads OpenSSL's error queue). `name`: the name checked, or NULL. */
void tlsctx_pushfailure(lua_State *L, tls_state *s, const char *name);

#endif
