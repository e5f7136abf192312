/*
 * tlsctx.c: TLS contexts from options, the verify callback that notes why
 * a certificate was refused, new sessions with the name to check, and
 * failed handshakes in words (see tlsctx.h).
 */
#define _GNU_SOURCE
#include "tlsctx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "errwords.h"
#include "tlscert.h"

#define CTX_MT "netlua.tlsctx"
#define CACHE_KEY "netlua.tlsctx.cache"
#define CACHE_MAX 32     /* client contexts kept; more start a new cache */

/* A context object (a userdata with __gc). */
typedef struct ctxbox { SSL_CTX *ctx; } ctxbox;

/* A server's ALPN list in wire form, kept as SSL_CTX ex data. */
typedef struct alpnlist { unsigned int len; unsigned char data[]; } alpnlist;
static int alpn_index = -1;

/* ---- options ----------------------------------------------------------- */

/* opts.name of the options at idx (checked by tlsconn.c: a string or
   absent), or NULL. */
static const char *optstr(lua_State *L, int idx, const char *name) {
  const char *s = NULL;
  if (lua_type(L, idx) != LUA_TTABLE) return NULL;
  if (lua_getfield(L, idx, name) == LUA_TSTRING) s = lua_tostring(L, -1);
  lua_pop(L, 1);  /* the string stays alive in the options table */
  return s;
}

/* Push the ALPN list of the options at idx in wire form (length-prefixed
   names), or nothing and return 0 when there is none. */
static int pushalpn(lua_State *L, int idx) {
  luaL_Buffer b;
  if (lua_type(L, idx) != LUA_TTABLE || lua_getfield(L, idx, "alpn") != LUA_TTABLE) {
    if (lua_type(L, idx) == LUA_TTABLE) lua_pop(L, 1);
    return 0;
  }
  luaL_buffinit(L, &b);
  for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -2); i++) {
    size_t len;
    const char *s;
    lua_rawgeti(L, -2, i);
    s = lua_tolstring(L, -1, &len);
    lua_pop(L, 1);
    luaL_addchar(&b, (char)len);
    luaL_addlstring(&b, s, len);
  }
  luaL_pushresult(&b);
  lua_remove(L, -2);
  return 1;
}

/* Push the cache key of client options at idx: every option that shapes
   the context, and the environment the system store reads. */
static void pushkey(lua_State *L, int idx) {
  static const char *const keyed[] = {"ca", "cert", "key", "minversion", NULL};
  const char *env;
  luaL_Buffer b;
  int verify = 1;
  if (lua_type(L, idx) == LUA_TTABLE) {
    lua_getfield(L, idx, "verify");
    verify = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  luaL_buffinit(L, &b);
  luaL_addstring(&b, verify ? "verify" : "noverify");
  for (int i = 0; keyed[i]; i++) {
    const char *v = optstr(L, idx, keyed[i]);
    luaL_addchar(&b, '\n');
    if (v) luaL_addstring(&b, v);
  }
  luaL_addchar(&b, '\n');
  if (pushalpn(L, idx)) luaL_addvalue(&b);
  luaL_addstring(&b, "\nSSL_CERT_FILE=");
  if ((env = getenv("SSL_CERT_FILE"))) luaL_addstring(&b, env);
  luaL_addstring(&b, "\nSSL_CERT_DIR=");
  if ((env = getenv("SSL_CERT_DIR"))) luaL_addstring(&b, env);
  luaL_pushresult(&b);
}

/* ---- building a context ------------------------------------------------ */

/* The verify callback: note the first refusal and its certificate, for
   the message (tls_state is the SSL's app data); the verdict stands. */
static int verify_cb(int ok, X509_STORE_CTX *x) {
  SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
  tls_state *s = ssl ? SSL_get_app_data(ssl) : NULL;
  X509 *c;
  if (ok || s == NULL || s->fail.err) return ok;
  s->fail.err = X509_STORE_CTX_get_error(x);
  s->fail.depth = X509_STORE_CTX_get_error_depth(x);
  if ((c = X509_STORE_CTX_get_current_cert(x)) != NULL) {
    tlscert_name(X509_get_subject_name(c), s->fail.subject, sizeof s->fail.subject);
    tlscert_name(X509_get_issuer_name(c), s->fail.issuer, sizeof s->fail.issuer);
    tlscert_names(c, s->fail.names, sizeof s->fail.names);
    tlscert_time(X509_get0_notBefore(c), s->fail.notbefore, sizeof s->fail.notbefore);
    tlscert_time(X509_get0_notAfter(c), s->fail.notafter, sizeof s->fail.notafter);
  }
  return ok;
}

/* The server's ALPN choice: its first protocol the client offers too. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
  alpnlist *a = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), alpn_index);
  unsigned char *o;
  (void)arg;
  if (a == NULL || SSL_select_next_proto(&o, outlen, a->data, a->len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = o;
  return SSL_TLSEXT_ERR_OK;
}

/* Free a server's ALPN list with its context. */
static void alpn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
  (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
  free(ptr);
}

/* Push "WHAT PATH: reason" for a file OpenSSL could not load; returns
   NULL (for `return fail(...)`). */
static SSL_CTX *fail(lua_State *L, const char *what, const char *path) {
  struct stat st;
  unsigned long e = ERR_peek_last_error();
  const char *why = e ? ERR_reason_error_string(e) : NULL;
  if (path && stat(path, &st) != 0) why = net_strerror(errno);
  if (path) lua_pushfstring(L, "cannot load %s %s: %s", what, path, why ? why : "unusable");
  else lua_pushfstring(L, "%s: %s", what, why ? why : "failed");
  ERR_clear_error();
  return NULL;
}

/* Trust the CA file or directory `ca`. */
static int loadca(SSL_CTX *ctx, const char *ca) {
  struct stat st;
  if (stat(ca, &st) != 0) return 0;
  if (S_ISDIR(st.st_mode)) return SSL_CTX_load_verify_locations(ctx, NULL, ca) == 1;
  return SSL_CTX_load_verify_locations(ctx, ca, NULL) == 1;
}

/* Fill ctx from the options at idx; NULL and a message pushed on failure. */
static SSL_CTX *setup(lua_State *L, SSL_CTX *ctx, int idx, int server) {
  const char *ca = optstr(L, idx, "ca"), *cert = optstr(L, idx, "cert");
  const char *key = optstr(L, idx, "key"), *minv = optstr(L, idx, "minversion");
  int verify = 1;
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (minv) SSL_CTX_set_min_proto_version(ctx, strcmp(minv, "1.3") ? TLS1_2_VERSION : TLS1_3_VERSION);
  if (lua_type(L, idx) == LUA_TTABLE) {
    lua_getfield(L, idx, "verify");
    verify = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  if (server) {
    if (ca) {
      STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
      if (!loadca(ctx, ca)) return fail(L, "ca", ca);
      if (names) SSL_CTX_set_client_CA_list(ctx, names);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    }
  } else {
    if (ca ? !loadca(ctx, ca) : SSL_CTX_set_default_verify_paths(ctx) != 1)
      return fail(L, "ca", ca ? ca : "(the system's)");
    SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, verify_cb);
  }
  if (cert) {
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) return fail(L, "certificate", cert);
    if (SSL_CTX_use_PrivateKey_file(ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1 &&
        ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH)
      return fail(L, "key", key ? key : cert);
    if (ERR_peek_last_error() || SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      lua_pushfstring(L, "key %s does not match certificate %s", key ? key : cert, cert);
      return NULL;
    }
  } else if (key) {
    lua_pushliteral(L, "option tls.key without tls.cert");
    return NULL;
  }
  if (pushalpn(L, idx)) {
    size_t len;
    const char *w = lua_tolstring(L, -1, &len);
    int ok;
    if (server) {
      alpnlist *a = malloc(sizeof *a + len);
      if (a) {
        a->len = (unsigned int)len;
        memcpy(a->data, w, len);
      }
      ok = a && alpn_index >= 0 && SSL_CTX_set_ex_data(ctx, alpn_index, a);
      if (ok) SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
      else free(a);
    } else {
      ok = SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)w, (unsigned int)len) == 0;
    }
    lua_pop(L, 1);
    if (!ok) return fail(L, "alpn", NULL);
  }
  return ctx;
}

/* __gc of a context object. */
static int ctx_gc(lua_State *L) {
  ctxbox *b = luaL_checkudata(L, 1, CTX_MT);
  SSL_CTX_free(b->ctx);
  b->ctx = NULL;
  return 0;
}

SSL_CTX *tlsctx_to(lua_State *L, int idx) {
  ctxbox *b = luaL_testudata(L, idx, CTX_MT);
  return b ? b->ctx : NULL;
}

SSL_CTX *tlsctx_push(lua_State *L, int idx, int server) {
  ctxbox *b;
  idx = lua_absindex(L, idx);
  if (alpn_index < 0) alpn_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, alpn_free);
  if (!server) {  /* the cache: registry[CACHE_KEY][key] */
    pushkey(L, idx);
    if (lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
    }
    lua_pushvalue(L, -2);
    if (lua_rawget(L, -2) == LUA_TUSERDATA) {
      lua_replace(L, -3);
      lua_pop(L, 1);
      return tlsctx_to(L, -1);
    }
    lua_pop(L, 2);
  }
  b = lua_newuserdatauv(L, sizeof *b, 0);
  b->ctx = NULL;
  if (luaL_newmetatable(L, CTX_MT)) {
    lua_pushcfunction(L, ctx_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  ERR_clear_error();
  b->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (b->ctx == NULL || setup(L, b->ctx, idx, server) == NULL) {
    if (b->ctx == NULL) fail(L, "cannot make a TLS context", NULL);
    lua_remove(L, -2);  /* the box (collected later) */
    if (!server) lua_remove(L, -2);  /* the key */
    return NULL;
  }
  if (!server) {  /* key, box -> cache[key] = box; leave box */
    int n = 0;
    lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
    lua_pushnil(L);
    while (lua_next(L, -2)) { lua_pop(L, 1); n++; }
    if (n >= CACHE_MAX) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
    }
    lua_pushvalue(L, -3);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_remove(L, -2);
  }
  return b->ctx;
}

int tlsctx_verifies(SSL_CTX *ctx) {
  return (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) != 0;
}

SSL *tlsctx_newssl(SSL_CTX *ctx, int server, const char *name) {
  SSL *ssl = SSL_new(ctx);
  unsigned char tmp[16];
  if (ssl == NULL || server || name == NULL || *name == '\0') return ssl;
  if (inet_pton(AF_INET, name, tmp) == 1 || inet_pton(AF_INET6, name, tmp) == 1) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);  /* no SNI for addresses */
  } else {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl, name);
    SSL_set_tlsext_host_name(ssl, name);
  }
  return ssl;
}

/* ---- failures in words ------------------------------------------------- */

/* Push the words for a refused certificate. */
static void pushverify(lua_State *L, const tls_failure *f, const char *name) {
  const char *why = X509_verify_cert_error_string(f->err);
  switch (f->err) {
    case X509_V_ERR_HOSTNAME_MISMATCH: case X509_V_ERR_IP_ADDRESS_MISMATCH:
      lua_pushfstring(L, "name mismatch: certificate is for %s, not %s", f->names, name ? name : "?");
      break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      lua_pushfstring(L, "certificate verify failed: %s (notAfter %s, %s)", why, f->notafter, f->subject);
      break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      lua_pushfstring(L, "certificate verify failed: %s (notBefore %s, %s)", why, f->notbefore, f->subject);
      break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY: case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      lua_pushfstring(L, "certificate verify failed: %s (%s, issuer %s)", why, f->subject, f->issuer);
      break;
    default:
      lua_pushfstring(L, "certificate verify failed: %s (%s)", why, f->subject);
  }
}

void tlsctx_pushfailure(lua_State *L, tls_state *s, const char *name) {
  unsigned long e = ERR_peek_error();
  int reason = ERR_GET_REASON(e), e_no = errno;
  if (s->fail.err) {
    pushverify(L, &s->fail, name);
  } else if (e && ERR_GET_LIB(e) == ERR_LIB_SSL) {
    const char *r = ERR_reason_error_string(e);
    switch (reason) {
      case SSL_R_UNSUPPORTED_PROTOCOL: case SSL_R_NO_PROTOCOLS_AVAILABLE:
      case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION: case SSL_R_VERSION_TOO_LOW:
      case SSL_R_UNSUPPORTED_SSL_VERSION: case SSL_R_WRONG_SSL_VERSION:
        lua_pushliteral(L, "handshake: no shared protocol version");
        break;
      case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        lua_pushliteral(L, "peer closed during the handshake");
        break;
      case SSL_R_WRONG_VERSION_NUMBER: case SSL_R_HTTP_REQUEST: case SSL_R_PACKET_LENGTH_TOO_LONG:
        lua_pushfstring(L, "handshake: the peer does not speak TLS (%s)", r);
        break;
      case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED: case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
        lua_pushfstring(L, "handshake: refused by the peer; does it want a client certificate? (%s)", r);
        break;
      case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        lua_pushliteral(L, "handshake: the client sent no certificate");
        break;
      case SSL_R_TLSV1_ALERT_UNKNOWN_CA: case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
      case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN: case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
        lua_pushfstring(L, "handshake: the peer refused our certificate (%s)", r);
        break;
      case SSL_R_NO_APPLICATION_PROTOCOL: case SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
        lua_pushliteral(L, "handshake: no shared application protocol (alpn)");
        break;
      default:
        lua_pushfstring(L, "handshake: %s", r ? r : "failed");
    }
  } else if (s->eof || e_no == 0 || e_no == EPIPE) {
    lua_pushliteral(L, "peer closed during the handshake");
  } else if (e_no == ECONNRESET) {
    lua_pushliteral(L, "peer closed during the handshake (connection reset)");
  } else if (e) {
    const char *r = ERR_reason_error_string(e);
    lua_pushfstring(L, "handshake: %s", r ? r : "failed");
  } else {
    lua_pushfstring(L, "handshake: %s", net_strerror(e_no));
  }
  ERR_clear_error();
}
