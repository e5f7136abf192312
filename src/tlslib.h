/*
 * tlslib.h: the seam between the core and its TLS part. Everything that
 * calls OpenSSL (tls.c, tlsctx.c, tlscert.c, tlsinfo.c) is built into a
 * shared object of its own, netlua-tls.so, which the core loads with
 * dlopen the first time TLS is used (a handshake, a TLS listener, the
 * version line): loading and relocating libssl and libcrypto costs more
 * than the rest of netlua's start-up, and a program that never speaks TLS
 * must not pay for it (bench/startup.sh).
 *
 * The part exports one table, `netlua_tlslib` (tlsexport.c), of the calls
 * below, in terms of transports (transport.h) and Lua values: no OpenSSL
 * type crosses the seam. It needs nothing of the core but Lua's API, so a
 * stock lua5.4 running net.so loads it too.
 *
 * Where it is looked for: part.h.
 */
#ifndef NETLUA_TLSLIB_H
#define NETLUA_TLSLIB_H

#include "transport.h"

struct lua_State;  /* Lua's state (lua.h): the part's calls take one; no Lua here */

#define TLSLIB_FILE "netlua-tls.so"
#define TLSLIB_SYMBOL "netlua_tlslib"
#define TLSLIB_ABI 1     /* raise when the table changes: a stale part is refused */

typedef struct tlslib {
  int abi;               /* TLSLIB_ABI of the part */
  /* The version of the OpenSSL loaded: "3.0.13". */
  const char *(*version)(void);
  /* Push the TLS context for the options at idx (nil, true or a table,
     already checked by tlsconn.c; client contexts are cached), or the
     value at idx itself if it is a context; return 1. On failure push a
     message ("cannot load certificate x.pem: ...") and return 0. */
  int (*context)(struct lua_State *L, int idx, int server);
  /* Make t, an open plain transport, the TLS one over its fd, with the
     context at ctx, checking `name` (NULL: no name check; see
     tlsctx_newssl). 0, or -1 (out of memory) with t unchanged. */
  int (*start)(struct lua_State *L, transport *t, int ctx, int server, const char *name);
  /* One step of the handshake: 1 done, 0 would block (errno EAGAIN,
     t->want set), -1 failed. */
  int (*handshake)(transport *t);
  /* 0: t is not TLS; 1: its handshake is not done; 2: established. */
  int (*phase)(const transport *t);
  /* Push what made the handshake of t fail, in words (right after it). */
  void (*pushfailure)(struct lua_State *L, transport *t, const char *name);
  /* Push the one-line summary of t's session, or conn:tlsinfo()'s table. */
  void (*pushsummary)(struct lua_State *L, transport *t);
  void (*pushinfo)(struct lua_State *L, transport *t);
} tlslib;

/* The TLS part, loaded on the first call and kept; NULL if it cannot be
   loaded, with *err set to why ("TLS unavailable: ..."; the same on every
   later call). */
const tlslib *tlslib_load(const char **err);

/* The TLS part if it has been loaded, else NULL (and then no transport
   is TLS). */
const tlslib *tlslib_loaded(void);

#endif
