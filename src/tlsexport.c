/*
 * tlsexport.c: the one symbol netlua-tls.so exports to the core,
 * `netlua_tlslib` (see tlslib.h): the calls of tls.c, tlsctx.c and
 * tlsinfo.c the core needs, taking transports and Lua values, so that no
 * OpenSSL type crosses the seam.
 */
#define _GNU_SOURCE
#include <openssl/crypto.h>

#include "tls.h"
#include "tlsctx.h"
#include "tlsinfo.h"
#include "tlslib.h"

/* OpenSSL's version ("OpenSSL 3.0.13 30 Jan 2024" -> "3.0.13"). */
static const char *version(void) {
  return OpenSSL_version(OPENSSL_VERSION_STRING);
}

/* The context at idx as it is, or made from the options there. */
static int context(lua_State *L, int idx, int server) {
  if (tlsctx_to(L, idx) != NULL) {
    lua_pushvalue(L, idx);
    return 1;
  }
  return tlsctx_push(L, idx, server) != NULL;
}

/* A new session on the context at ctx, over t's fd. */
static int start(lua_State *L, transport *t, int ctx, int server, const char *name) {
  SSL_CTX *c = tlsctx_to(L, ctx);
  SSL *ssl = c ? tlsctx_newssl(c, server, name) : NULL;
  if (ssl == NULL) return -1;
  return tls_init(t, t->fd, ssl, server, tlsctx_verifies(c));
}

static int phase(const transport *t) {
  tls_state *s = tls_get(t);
  return s == NULL ? 0 : s->done ? 2 : 1;
}

static void pushfailure(lua_State *L, transport *t, const char *name) {
  tlsctx_pushfailure(L, tls_get(t), name);
}

static void pushsummary(lua_State *L, transport *t) {
  tlsinfo_pushsummary(L, tls_get(t));
}

static void pushinfo(lua_State *L, transport *t) {
  tlsinfo_push(L, tls_get(t));
}

const tlslib netlua_tlslib = {
  .abi = TLSLIB_ABI, .version = version, .context = context, .start = start,
  .handshake = tls_handshake, .phase = phase, .pushfailure = pushfailure,
  .pushsummary = pushsummary, .pushinfo = pushinfo};
