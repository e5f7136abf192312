/*
 * tlsconn.c: TLS on connections (see tlsconn.h): conn:starttls and
 * conn:tlsinfo, the check of TLS options, the handshake continuation on
 * the loop, and the hooks of net.connect, net.listen and server:accept.
 * OpenSSL is behind the TLS part (tlslib.h), loaded by the first handshake.
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
#include "tlslib.h"

static const char *const client_opts[] = {"verify", "ca", "servername", "alpn", "cert", "key", "minversion", NULL};
static const char *const server_opts[] = {"cert", "key", "ca", "alpn", "minversion", NULL};

/* ---- options ----------------------------------------------------------- */

/* Check that opts.name at the table idx is a non-empty string without NUL
   or absent; return it (NULL when absent). */
static const char *checkstr(lua_State *L, int idx, const char *name) {
  const char *s = NULL;
  size_t len;
  switch (lua_getfield(L, idx, name)) {
    case LUA_TNIL: break;
    case LUA_TSTRING:
      s = lua_tolstring(L, -1, &len);
      if (strlen(s) != len || len == 0) luaL_error(L, "option tls.%s must be a non-empty string without NUL", name);
      break;
    default:
      luaL_error(L, "option tls.%s must be a string, got %s", name, luaL_typename(L, -1));
  }
  lua_pop(L, 1);  /* the string stays alive in the options table */
  return s;
}

/* Check the TLS options at idx (nil, true or a table) for the client
   (server 0) or server side; `extra` names one more allowed key (NULL:
   none). Raises on a bad one, as an error of argument `arg` (the options
   table opts.tls is in, or idx itself for conn:starttls's argument). */
static void checkopts(lua_State *L, int idx, int arg, int server, const char *extra) {
  const char *known[10], *const *base = server ? server_opts : client_opts, *v;
  int n = 0;
  idx = lua_absindex(L, idx);
  if (lua_isnoneornil(L, idx) || (lua_isboolean(L, idx) && lua_toboolean(L, idx) && !server)) return;
  if (!lua_istable(L, idx))
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be %s, got %s", idx == arg ? "options" : "option 'tls'",
                                          server ? "a table {cert = ..., key = ...}" : "true or a table",
                                          luaL_typename(L, idx)));
  while (base[n]) { known[n] = base[n]; n++; }
  known[n++] = extra;
  known[n] = NULL;
  net_checkopts_in(L, idx, arg, idx == arg ? NULL : "tls.", known);
  if (lua_getfield(L, idx, "verify") > LUA_TNIL && !lua_isboolean(L, -1))
    luaL_error(L, "option tls.verify must be a boolean, got %s", luaL_typename(L, -1));
  lua_pop(L, 1);
  checkstr(L, idx, "ca");
  checkstr(L, idx, "servername");
  checkstr(L, idx, "key");
  if (checkstr(L, idx, "cert") == NULL && server) luaL_error(L, "option tls of a server needs cert (and key)");
  v = checkstr(L, idx, "minversion");
  if (v && strcmp(v, "1.2") && strcmp(v, "1.3")) luaL_error(L, "option tls.minversion must be \"1.2\" or \"1.3\", got \"%s\"", v);
  if (lua_getfield(L, idx, "alpn") > LUA_TNIL) {
    int t = lua_gettop(L);
    if (!lua_istable(L, t) || lua_rawlen(L, t) == 0)
      luaL_error(L, "option tls.alpn must be a list of protocol names, e.g. {\"h2\", \"http/1.1\"}");
    for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, t); i++) {
      size_t len;
      if (lua_rawgeti(L, t, i) != LUA_TSTRING || (lua_tolstring(L, -1, &len), len == 0 || len > 255))
        luaL_error(L, "option tls.alpn[%d] must be a string of 1 to 255 bytes", (int)i);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

/* ---- the handshake ----------------------------------------------------- */

/* How far TLS is on io: 0 not TLS, 1 handshaking, 2 established (see
   tlslib.h); nothing is TLS before the TLS part is loaded. */
static int phase(const transport *io) {
  const tlslib *lib = tlslib_loaded();
  return lib ? lib->phase(io) : 0;
}

/* The stack of a handshake: the connection, the context (or the options
   it is made from), the deadline, the name to check (or nil), and, when
   the call made the connection (connect, accept), a guard (netaux.h). The
   continuation's context is 1 on the accepting side. */
enum { H_CONN = 1, H_CTX, H_DEADLINE, H_NAME, H_GUARD };

/* The undo of a handshake's guard: the connection (at 1) is not handed
   over yet, so an error unwinding the call (Ctrl-C) or its task cancelled
   closes it now, quietly (its __gc), not at collection. A failed
   handshake closes it too; starttls and server:handshake, whose caller
   holds the connection, have no guard. */
static int hs_undo(lua_State *L) {
  luaL_callmeta(L, 1, "__gc");
  return 0;
}

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

/* The handshake is done: tell the transcript what was negotiated, return
   the connection. */
static int hs_done(lua_State *L, const tlslib *lib, transport *io) {
  lib->pushsummary(L, io);
  conn_trace(L, H_CONN, "tls", lua_tostring(L, -1), lua_rawlen(L, -1));
  net_guard_disarm(L, H_GUARD);
  lua_settop(L, H_CONN);
  return 1;
}

/* The handshake continuation: step until done, failed, or the deadline. */
static int hs_k(lua_State *L, int status, lua_KContext server) {
  transport *io = conn_transport(conn_check(L, H_CONN));
  double deadline = lua_tonumber(L, H_DEADLINE);
  const tlslib *lib = tlslib_loaded();  /* by hs_begin */
  (void)status;
  for (;;) {
    int r;
    if (io->fd < 0 || phase(io) == 0) return net_closed(L);
    r = lib->handshake(io);
    if (r > 0) return hs_done(L, lib, io);
    if (r < 0) {
      lib->pushfailure(L, io, lua_tostring(L, H_NAME));
      return hs_fail(L, (int)server, 1);
    }
    if (loop_expired(deadline)) {
      lua_pushliteral(L, "timeout");
      return hs_fail(L, (int)server, 0);
    }
    loop_wait(L, io->fd, io->want == TRANSPORT_READ ? LOOP_READ : LOOP_WRITE, deadline, server, hs_k);
  }
}

/* Start a handshake; the stack is H_CONN..H_NAME (H_CTX: a context, or
   the options to make one from). The transport becomes TLS now. guard:
   the call made the connection (a guard closes it if the call is
   unwound). */
static int hs_begin(lua_State *L, int server, int guard) {
  transport *io = conn_transport(conn_check(L, H_CONN));
  const char *err;
  const tlslib *lib;
  if (guard) net_guard_push(L, H_CONN, hs_undo);
  lib = tlslib_load(&err);
  if (lib == NULL) {
    lua_pushstring(L, err);
    return hs_fail(L, server, 1);
  }
  if (!lib->context(L, H_CTX, server)) return hs_fail(L, server, 1);
  lua_replace(L, H_CTX);
  if (lib->start(L, io, H_CTX, server, lua_tostring(L, H_NAME)) != 0) {
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
  if (on) checkopts(L, -1, opts, 0, NULL);
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
  return hs_begin(L, 0, 1);
}

int tlsconn_listen(lua_State *L, int opts, int server, int uv, const char *label) {
  const char *err;
  const tlslib *lib;
  if (lua_type(L, opts) != LUA_TTABLE) return 0;
  if (lua_getfield(L, opts, "tls") == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  checkopts(L, -1, opts, 1, NULL);
  if ((lib = tlslib_load(&err)) == NULL) return net_fail(L, "listen %s: tls: %s", label, err);
  if (!lib->context(L, -1, 1)) return net_fail(L, "listen %s: tls: %s", label, lua_tostring(L, -1));
  lua_setiuservalue(L, server, uv);
  lua_pop(L, 1);
  return 0;
}

int tlsconn_accept(lua_State *L, int conn, int ctx, double deadline, int owned) {
  double cap = loop_deadline(TLSCONN_ACCEPT_MAX);
  lua_pushvalue(L, conn);
  lua_pushvalue(L, ctx);
  lua_pushnumber(L, deadline < 0 || cap < deadline ? cap : deadline);
  lua_pushnil(L);
  hs_stack(L);
  return hs_begin(L, 1, owned);
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
  checkopts(L, 2, 2, server, "server");
  lua_settop(L, 2);
  if (io->fd < 0) return net_closed(L);
  if (phase(io) > 0) {
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
  return hs_begin(L, server, 0);
}

/* conn:tlsinfo() -> table (see tlsinfo.h), or nil, "not TLS". */
static int conn_tlsinfo(lua_State *L) {
  transport *io = conn_transport(conn_check(L, 1));
  int p = phase(io);
  if (io->fd < 0) return net_closed(L);
  if (p == 0) return net_fail(L, "not TLS");
  if (p == 1) return net_fail(L, "TLS handshake not finished");
  tlslib_loaded()->pushinfo(L, io);
  return 1;
}

void tlsconn_open(lua_State *L) {
  static const luaL_Reg m[] = {{"starttls", conn_starttls}, {"tlsinfo", conn_tlsinfo}, {NULL, NULL}};
  luaL_getmetatable(L, "netlua.conn");  /* conn.c's, opened before */
  lua_getfield(L, -1, "__index");
  luaL_setfuncs(L, m, 0);
  lua_pop(L, 2);
}
