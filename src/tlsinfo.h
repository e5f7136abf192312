/*
 * tlsinfo.h: what a TLS session negotiated, for Lua: conn:tlsinfo()'s
 * table and the one-line summary the transcript shows ("TLS 1.3
 * TLS_AES_256_GCM_SHA384, certificate CN=localhost (issuer ..., valid until
 * ...), verified").
 */
#ifndef NETLUA_TLSINFO_H
#define NETLUA_TLSINFO_H

#include <lua.h>

#include "tls.h"

/* Push {version, cipher, alpn, verified, verifyresult, servername,
   chain = {{subject, issuer, altnames, notbefore, notafter, daysleft,
   serial, sha256}, ...}} (the peer's certificate first). */
void tlsinfo_push(lua_State *L, tls_state *s);

/* Push the one-line summary of an established session. */
void tlsinfo_pushsummary(lua_State *L, tls_state *s);

#endif
