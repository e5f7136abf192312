/*
 * tlsconn.c: TLS on connections (see tlsconn.h): conn:starttls and
 * conn:tlsinfo, the handshake continuation on the loop, and the hooks of
 * net.connect, net.listen and server:accept.
 */
#define _GNU_SOURCE
#include "tlsconn.h"

#include <string.h>

#include <lauxlib.h>

#include "conn.h"
#include "loop.h"
#include "net.h"
#include "netaux.h"
#include "sock.h"
#include "tls.h"
#include "tlsctx.h"
#include "tlsinfo.h"

/* The stack of a handshake: the connection, the context (or the options
   it is made from), the deadline, the name to check (or nil). The
   continuation's context is 1 on the accepting side. */
enum { H_CONN = 1, H_CTX, H_DEADLINE, H_NAME };

/* Push the host part of "host:port" / "[v6]:port" (withport) or of a host
   as given ("name", "::1", "[::1]"), zone dropped: the name to check. */
static void pushhost(lua_State *L, const char *label, int withport) {
  const char *end = label[0] == '[' ? strchr(label, ']') : withport ? strrchr(label, ':') : NULL;
  const char *start = label[0] == '[' ? label + 1 : label;
  const char *pct;
  if (end == NULL) end = label + strlen(label);
  pct = memchr(start, '%', (size_t)(end - start));
  lua_pushlstring(L, start, (size_t)((pct ? pct : end) - start));
}

/* The message at the top, prefixed with who the connection is: "tls
   HOST:PORT (ADDR): ..." for a client, "tls client PEER: ..." for a
   server. */
static void prefix(lua_State *L, int server) {
  const sock_addr *peer;
  char addr[SOCK_ADDRSTRLEN];
  const char *label = conn_pushlabel(L, H_CONN, &peer);
  if (server) lua_pushfstring(L, "tls client %s: %s", label, lua_tostring(L, -2));
  else lua_pushfstring(L, "tls %s (%s): %s", label, sock_ntop(peer, addr, sizeof addr), lua_tostring(L, -2));
  lua_replace(L, -3);
  lua_pop(L, 1);
}

/* The handshake failed (the message at the top, prefixed if `named`): tell
   the transcript, close the connection, return nil, message. */
static int hs_fail(lua_State *L, int server, int named) {
  if (named) prefix(L, server);
  lua_pushfstring(L, "handshake failed: %s", lua_tostring(L, -1));
  conn_trace(L, H_CONN, "tls", lua_tostring(L, -1), lua_rawlen(L, -1));
  lua_pop(L, 1);
  lua_getfield(L, H_CONN, "close");
  lua_pushvalue(L, H_CONN);
  lua_call(L, 1, 0);
  net_notice(L, lua_tostring(L, -1));  /* said at the prompt even when assigned */
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

/* The handshake is done: mark an unverified client session, tell the
   transcript what was negotiated, return the connection. */
static int hs_done(lua_State *L, transport *io, tls_state *s) {
  io->note = !s->server && !s->verify ? "NOT VERIFIED" : NULL;
  tlsinfo_pushsummary(L, s);
  conn_trace(L, H_CONN, "tls", lua_tostring(L, -1), lua_rawlen(L, -1));
  lua_settop(L, H_CONN);
  return 1;
}

/* The handshake continuation: step until done, failed, or the deadline. */
static int hs_k(lua_State *L, int status, lua_KContext server) {
  transport *io = conn_transport(conn_check(L, H_CONN));
  double deadline = lua_tonumber(L, H_DEADLINE);
  (void)status;
  for (;;) {
    tls_state *s = tls_get(io);
    int r;
    if (io->fd < 0 || s == NULL) return net_closed(L);
    r = tls_handshake(io);
    if (r > 0) return hs_done(L, io, s);
    if (r < 0) {
      tlsctx_pushfailure(L, s, lua_tostring(L, H_NAME));
      return hs_fail(L, (int)server, 1);
    }
    if (loop_expired(deadline)) {
      lua_pushliteral(L, "timeout");
      return hs_fail(L, (int)server, 0);
    }
    loop_wait(L, io->fd, io->want == TRANSPORT_READ ? LOOP_READ : LOOP_WRITE, deadline, server, hs_k);
  }
}

/* Start a handshake; the stack is H_CONN..H_NAME. The transport becomes
   TLS now. */
static int hs_begin(lua_State *L, int server) {
  transport *io = conn_transport(conn_check(L, H_CONN));
  SSL_CTX *ctx = tlsctx_to(L, H_CTX);
  SSL *ssl;
  if (ctx == NULL) {
    if ((ctx = tlsctx_push(L, H_CTX, server)) == NULL) return hs_fail(L, server, 1);
    lua_replace(L, H_CTX);
  }
  ssl = tlsctx_newssl(ctx, server, lua_tostring(L, H_NAME));
  if (ssl == NULL || tls_init(io, io->fd, ssl, server, tlsctx_verifies(ctx)) != 0) {
    lua_pushliteral(L, "out of memory");
    return hs_fail(L, server, 1);
  }
  return hs_k(L, 0, server);
}

/* Make the stack conn, ctx-or-options, deadline, name from the four values
   at the top, dropping everything below them. */
static void hs_stack(lua_State *L) {
  lua_rotate(L, 1, 4);
  lua_settop(L, H_NAME);
}

/* ---- hooks ------------------------------------------------------------- */

int tlsconn_wanted(lua_State *L, int opts) {
  int on;
  if (lua_type(L, opts) != LUA_TTABLE) return 0;
  lua_getfield(L, opts, "tls");
  on = !lua_isnil(L, -1) && !(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
  if (on) tlsctx_check(L, -1, opts, 0, NULL);
  lua_pop(L, 1);
  return on;
}

int tlsconn_connect(lua_State *L, int conn, int opts, int host, double deadline) {
  lua_pushvalue(L, conn);
  lua_getfield(L, opts, "tls");
  lua_pushnumber(L, deadline);
  if (lua_type(L, -2) != LUA_TTABLE || lua_getfield(L, -2, "servername") != LUA_TSTRING) {
    if (lua_type(L, -3) == LUA_TTABLE) lua_pop(L, 1);
    pushhost(L, lua_tostring(L, host), 0);
  }
  hs_stack(L);
  return hs_begin(L, 0);
}

int tlsconn_listen(lua_State *L, int opts, int server, int uv, const char *label) {
  if (lua_type(L, opts) != LUA_TTABLE) return 0;
  if (lua_getfield(L, opts, "tls") == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  tlsctx_check(L, -1, opts, 1, NULL);
  if (tlsctx_push(L, -1, 1) == NULL) return net_fail(L, "listen %s: tls: %s", label, lua_tostring(L, -1));
  lua_setiuservalue(L, server, uv);
  lua_pop(L, 1);
  return 0;
}

int tlsconn_accept(lua_State *L, int conn, int ctx, double deadline) {
  double cap = loop_deadline(TLSCONN_ACCEPT_MAX);
  lua_pushvalue(L, conn);
  lua_pushvalue(L, ctx);
  lua_pushnumber(L, deadline < 0 || cap < deadline ? cap : deadline);
  lua_pushnil(L);
  hs_stack(L);
  return hs_begin(L, 1);
}

/* ---- methods ----------------------------------------------------------- */

/* conn:starttls([opts]) -> conn, or nil, message: TLS from here on, as a
   client (checking the name the connection was opened with, or
   opts.servername) or, with opts.server, as a server. */
static int conn_starttls(lua_State *L) {
  transport *io = conn_transport(conn_check(L, 1));
  int server = 0;
  size_t n;
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_getfield(L, 2, "server");
    server = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  tlsctx_check(L, 2, 2, server, "server");
  lua_settop(L, 2);
  if (io->fd < 0) return net_closed(L);
  if (tls_get(io)) {
    conn_pushlabel(L, 1, NULL);
    return net_fail(L, "starttls %s: the connection is TLS already", lua_tostring(L, -1));
  }
  if ((n = buffer_len(conn_buffer(conn_check(L, 1)))) > 0) {  /* fd >= 0 checked above */
    conn_pushlabel(L, 1, NULL);
    return net_fail(L, "starttls %s: refused: %d bytes arrived before the handshake (plaintext injected "
                    "after the STARTTLS command?); they are still buffered, the connection is still plain",
                    lua_tostring(L, -1), (int)n);
  }
  lua_pushnumber(L, loop_deadline(conn_timeout(L, 1)));
  if (!server && (lua_type(L, 2) != LUA_TTABLE || lua_getfield(L, 2, "servername") != LUA_TSTRING)) {
    if (lua_type(L, 2) == LUA_TTABLE) lua_pop(L, 1);
    pushhost(L, conn_pushlabel(L, 1, NULL), 1);
    lua_remove(L, -2);
  } else if (server) {
    lua_pushnil(L);
  }
  return hs_begin(L, server);
}

/* conn:tlsinfo() -> table (see tlsinfo.h), or nil, "not TLS". */
static int conn_tlsinfo(lua_State *L) {
  transport *io = conn_transport(conn_check(L, 1));
  tls_state *s = tls_get(io);
  if (io->fd < 0) return net_closed(L);
  if (s == NULL) return net_fail(L, "not TLS");
  if (!s->done) return net_fail(L, "TLS handshake not finished");
  tlsinfo_push(L, s);
  return 1;
}

void tlsconn_open(lua_State *L) {
  static const luaL_Reg m[] = {{"starttls", conn_starttls}, {"tlsinfo", conn_tlsinfo}, {NULL, NULL}};
  luaL_getmetatable(L, "netlua.conn");  /* conn.c's, opened before */
  lua_getfield(L, -1, "__index");
  luaL_setfuncs(L, m, 0);
  lua_pop(L, 2);
}
