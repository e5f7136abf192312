/*
 * tlsinfo.c: what a TLS session negotiated, as a Lua table and as one
 * line for the transcript (see tlsinfo.h).
 */
#define _GNU_SOURCE
#include "tlsinfo.h"

#include <string.h>

#include <lauxlib.h>
#include <openssl/x509.h>

#include "tlscert.h"

/* Set t[k] = s (t at the top - 1 after pushing s). */
static void setstr(lua_State *L, const char *k, const char *s) {
  lua_pushstring(L, s);
  lua_setfield(L, -2, k);
}

/* tlscert_eachname's callback: append the name to the list at the top. */
static void addname(void *ud, const char *name) {
  lua_State *L = ud;
  lua_pushstring(L, name);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

/* Push the table of one certificate. */
static void pushcert(lua_State *L, X509 *x) {
  char buf[512];
  lua_createtable(L, 0, 8);
  setstr(L, "subject", tlscert_name(X509_get_subject_name(x), buf, sizeof buf));
  setstr(L, "issuer", tlscert_name(X509_get_issuer_name(x), buf, sizeof buf));
  lua_newtable(L);
  tlscert_eachname(x, addname, L);
  lua_setfield(L, -2, "altnames");
  setstr(L, "notbefore", tlscert_time(X509_get0_notBefore(x), buf, sizeof buf));
  setstr(L, "notafter", tlscert_time(X509_get0_notAfter(x), buf, sizeof buf));
  lua_pushinteger(L, tlscert_daysleft(X509_get0_notAfter(x)));
  lua_setfield(L, -2, "daysleft");
  setstr(L, "serial", tlscert_serial(x, buf, sizeof buf));
  setstr(L, "sha256", tlscert_sha256(x, buf, sizeof buf));
}

/* Whether the peer counts as verified, and the words for it. */
static const char *verdict(tls_state *s, int *verified) {
  long r = SSL_get_verify_result(s->ssl);
  int have = SSL_get0_peer_certificate(s->ssl) != NULL;
  *verified = s->verify && have && r == X509_V_OK;
  if (s->server && !s->verify) return "no client certificate asked for";
  if (!have) return "no certificate";
  if (!s->verify)
    return r == X509_V_OK ? "NOT VERIFIED (verify = false), though the check passes"
                          : X509_verify_cert_error_string(r);
  return X509_verify_cert_error_string(r);
}

void tlsinfo_push(lua_State *L, tls_state *s) {
  const unsigned char *alpn = NULL;
  unsigned int alen = 0;
  const char *servername = SSL_get_servername(s->ssl, TLSEXT_NAMETYPE_host_name), *why;
  X509 *leaf = SSL_get0_peer_certificate(s->ssl);
  STACK_OF(X509) *chain = SSL_get_peer_cert_chain(s->ssl);
  int verified, n = 0;
  lua_createtable(L, 0, 8);
  setstr(L, "version", SSL_get_version(s->ssl));
  setstr(L, "cipher", SSL_get_cipher_name(s->ssl));
  SSL_get0_alpn_selected(s->ssl, &alpn, &alen);
  if (alen) {
    lua_pushlstring(L, (const char *)alpn, alen);
    lua_setfield(L, -2, "alpn");
  }
  why = verdict(s, &verified);
  lua_pushboolean(L, verified);
  lua_setfield(L, -2, "verified");
  if (!s->verify && !s->server && strncmp(why, "NOT", 3))
    lua_pushfstring(L, "NOT VERIFIED (verify = false): %s", why);
  else
    lua_pushstring(L, why);
  lua_setfield(L, -2, "verifyresult");
  if (servername) setstr(L, "servername", servername);
  lua_newtable(L);
  if (leaf) { pushcert(L, leaf); lua_rawseti(L, -2, ++n); }
  for (int i = 0; chain && i < sk_X509_num(chain); i++) {
    X509 *x = sk_X509_value(chain, i);
    if (leaf && X509_cmp(x, leaf) == 0) continue;
    pushcert(L, x);
    lua_rawseti(L, -2, ++n);
  }
  lua_setfield(L, -2, "chain");
}

void tlsinfo_pushsummary(lua_State *L, tls_state *s) {
  const char *v = SSL_get_version(s->ssl), *why;
  const unsigned char *alpn = NULL;
  unsigned int alen = 0;
  X509 *leaf = SSL_get0_peer_certificate(s->ssl);
  char subj[256], iss[256], until[40];
  int verified;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (!strncmp(v, "TLSv", 4)) lua_pushfstring(L, "TLS %s %s", v + 4, SSL_get_cipher_name(s->ssl));
  else lua_pushfstring(L, "%s %s", v, SSL_get_cipher_name(s->ssl));
  luaL_addvalue(&b);
  SSL_get0_alpn_selected(s->ssl, &alpn, &alen);
  if (alen) {
    luaL_addstring(&b, ", alpn ");
    luaL_addlstring(&b, (const char *)alpn, alen);
  }
  why = verdict(s, &verified);
  if (leaf) {
    lua_pushfstring(L, ", %scertificate %s (issuer %s, valid until %s)", s->server ? "client " : "",
                    tlscert_name(X509_get_subject_name(leaf), subj, sizeof subj),
                    tlscert_name(X509_get_issuer_name(leaf), iss, sizeof iss),
                    tlscert_time(X509_get0_notAfter(leaf), until, sizeof until));
    luaL_addvalue(&b);
  } else {
    luaL_addstring(&b, s->server ? ", no client certificate" : ", no certificate");
  }
  if (verified) luaL_addstring(&b, ", verified");
  else if (!s->server && !s->verify) {
    luaL_addstring(&b, !strncmp(why, "NOT", 3) ? ", " : ", NOT VERIFIED (verify = false): ");
    luaL_addstring(&b, why);
  }
  luaL_pushresult(&b);
}
