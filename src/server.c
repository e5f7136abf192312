/*
 * server.c: net.listen(host, port [, opts]) -> server, and the server type
 * (metatable "netlua.server"): accept, which waits for a client through the
 * loop and returns a connection (conn.h) over the plain transport (or,
 * listening with opts.tls, after the TLS handshake; accept(t, false)
 * leaves that to handshake(conn), for a per-client task);
 * settimeout, getsockname, close. "*" and "::" listen on both families
 * where the system allows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "args.h"
#include "conn.h"
#include "errwords.h"
#include "forward.h"
#include "loop.h"
#include "net.h"
#include "netaux.h"
#include "plain.h"
#include "sock.h"
#include "tlsconn.h"

#define SERVER_MT "netlua.server"

/* A listening socket. User value 1: its label ("host:port" as given); 2:
   with opts.tls, the TLS context (accepted clients handshake in accept). */
typedef struct server {
  int fd;
  double timeout;
  size_t linemax;         /* for accepted connections */
  sock_addr local;
} server;

/* Options of net.listen. */
static const char *const listen_opts[] = {"timeout", "family", "backlog", "linelimit", "tls", "defer", NULL};

/* The server at arg, checked. */
static server *checkserver(lua_State *L, int arg) {
  return luaL_checkudata(L, arg, SERVER_MT);
}

/* __gc and __close of a server. */
static int server_gc(lua_State *L) {
  server *sv = lua_touserdata(L, 1);
  if (sv && sv->fd >= 0) {
    loop_close_fd(L, sv->fd);
    sv->fd = -1;
  }
  return 0;
}

/* server:close() -> true, or nil, "closed". */
static int server_close(lua_State *L) {
  server *sv = checkserver(L, 1);
  if (sv->fd < 0) return net_closed(L);
  server_gc(L);
  lua_pushboolean(L, 1);
  return 1;
}

/* __tostring: "tcp server ADDR (listening|closed)", "tls server ..." with
   opts.tls. */
static int server_tostring(lua_State *L) {
  server *sv = checkserver(L, 1);
  char a[SOCK_ADDRSTRLEN];
  const char *kind = lua_getiuservalue(L, 1, 2) == LUA_TUSERDATA ? "tls" : "tcp";
  if (sv->local.len == 0) lua_pushfstring(L, "%s server (closed)", kind);
  else lua_pushfstring(L, "%s server %s (%s)", kind, sock_format(&sv->local, a, sizeof a),
                       sv->fd < 0 ? "closed" : "listening");
  return 1;
}

/* server:getsockname() -> host, port. */
static int server_getsockname(lua_State *L) {
  server *sv = checkserver(L, 1);
  if (sv->fd < 0) return net_closed(L);
  return args_pushaddr(L, &sv->local);
}

/* server:settimeout(seconds | nil) -> true: the default for accept. */
static int server_settimeout(lua_State *L) {
  server *sv = checkserver(L, 1);
  sv->timeout = args_checktimeout(L, 2, -1);
  lua_pushboolean(L, 1);
  return 1;
}

/* accept continuation. Stack: server, timeout, conn, deadline; ctx 1:
   leave the TLS handshake to server:handshake. */
static int accept_k(lua_State *L, int status, lua_KContext ctx) {
  server *sv = lua_touserdata(L, 1);
  double deadline = lua_tonumber(L, 4);
  (void)status;
  for (;;) {
    int fd, e;
    sock_addr peer;
    if (sv->fd < 0) return net_closed(L);
    fd = sock_accept(sv->fd, &peer);
    if (fd >= 0) {
      transport io;
      plain_init(&io, fd);
      /* a listener on one address: that is every client's local one */
      conn_attach(lua_touserdata(L, 3), &io, &peer, sock_is_any(&sv->local) ? NULL : &sv->local);
      lua_settop(L, 3);
      if (lua_getiuservalue(L, 1, 2) == LUA_TUSERDATA && !ctx)  /* TLS hook: listen's opts.tls */
        return tlsconn_accept(L, 3, 4, deadline, 1);
      lua_pop(L, 1);
      return 1;
    }
    e = errno;
    if (e == ECONNABORTED) continue;
    if (e == EAGAIN || e == EWOULDBLOCK) {
      if (loop_expired(deadline)) {
        net_timeout(L);
        return 2;
      }
      loop_wait(L, sv->fd, LOOP_READ, deadline, ctx, accept_k);
      continue;
    }
    lua_getiuservalue(L, 1, 1);
    return net_fail(L, "accept %s: %s", lua_tostring(L, -1), net_strerror(e));
  }
}

/* server:accept([timeout [, handshake]]) -> conn, or nil, message.
   handshake false: a TLS listener's client is returned before its
   handshake (plain); server:handshake(conn) does it later. */
static int server_accept(lua_State *L) {
  server *sv = checkserver(L, 1);
  double t = args_checktimeout(L, 2, sv->timeout);
  int later = lua_isboolean(L, 3) && !lua_toboolean(L, 3);
  lua_settop(L, 2);
  conn_new(L, sv->linemax, -1);
  lua_pushnumber(L, loop_deadline(t));
  return accept_k(L, 0, later);
}

/* server:handshake(conn [, timeout]) -> conn, or nil, message: the TLS
   handshake of a client accepted with accept(t, false), within timeout
   (capped by TLSCONN_ACCEPT_MAX). */
static int server_handshake(lua_State *L) {
  double t;
  checkserver(L, 1);
  luaL_checkudata(L, 2, "netlua.conn");
  t = args_checktimeout(L, 3, -1);
  if (lua_getiuservalue(L, 1, 2) != LUA_TUSERDATA) return net_fail(L, "handshake: the server is not TLS");
  lua_pushnumber(L, loop_deadline(t));
  return tlsconn_accept(L, 2, 4, lua_tonumber(L, 5), 0);
}

/* Stack of net.listen: 1 host, 2 port, 3 opts, 4 server. */

/* Bind and listen on address a; "*" and "::" are dual stack. */
static int listen_on(lua_State *L, sock_addr *a, int dual) {
  server *sv = lua_touserdata(L, 4);
  double bl = args_optnumber(L, 3, "backlog", 4096);
  int backlog = bl < 1 ? 1 : bl > 65535 ? 65535 : (int)bl, r;
  int port = sock_port(a);
  const char *label;
  sv->fd = sock_socket(a->u.sa.sa_family, SOCK_STREAM);
  if (sv->fd < 0 && dual && errno == EAFNOSUPPORT) {
    sock_any(AF_INET, port, a);
    sv->fd = sock_socket(AF_INET, SOCK_STREAM);
  }
  lua_getiuservalue(L, 4, 1);
  label = lua_tostring(L, -1);
  if (sv->fd < 0) return net_fail(L, "listen %s: %s", label, net_strerror(errno));
  r = sock_bind(sv->fd, a, !dual, backlog);
  if (r != 0) {
    close(sv->fd);
    sv->fd = -1;
    if (r == EACCES && port < 1024)
      return net_fail(L, "listen %s: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)", label);
    return net_fail(L, "listen %s: %s", label, net_strerror(r));
  }
  sock_name(sv->fd, 0, &sv->local);
  sock_nodelay(sv->fd);  /* Linux hands it on to every accepted socket */
  {
    double d = args_optnumber(L, 3, "defer", 0);  /* checked > 0 by l_listen */
    if (d > 0) sock_defer_accept(sv->fd, d < 1 ? 1 : d > 3600 ? 3600 : (int)d);
  }
  lua_settop(L, 4);
  return 1;
}

/* After net.resolve in net.listen: take the first address. */
static int listen_resolved_k(lua_State *L, int status, lua_KContext ctx) {
  sock_addr a[1];
  int n = args_take_resolved(L, args_checkport(L, 2), args_optfamily(L, 3), a, 1);
  (void)status; (void)ctx;
  if (n <= 0) {
    const char *msg = n < 0 ? lua_tostring(L, -1) : "no address of that family";
    lua_getiuservalue(L, 4, 1);
    return net_fail(L, "listen %s: %s", lua_tostring(L, -1), msg);
  }
  lua_settop(L, 4);
  return listen_on(L, &a[0], 0);
}

/* net.listen(host, port [, opts]) -> server, or nil, message. */
static int l_listen(lua_State *L) {
  const char *host = args_checkhost(L, 1);
  int port = args_checkport(L, 2), family;
  server *sv;
  sock_addr a[2];
  net_checkopts(L, 3, listen_opts);
  family = args_optfamily(L, 3);
  lua_settop(L, 3);
  args_optnumber(L, 3, "backlog", 0);  /* checked before anything is made */
  if (args_optnumber(L, 3, "defer", 1) <= 0) luaL_argerror(L, 3, "defer must be a number of seconds > 0");
  sv = lua_newuserdatauv(L, sizeof *sv, 2);  /* 2: the TLS context (tlsconn.c) */
  memset(sv, 0, sizeof *sv);
  sv->fd = -1;
  sv->timeout = args_opttimeout(L, 3);
  sv->linemax = args_optlinelimit(L, 3);
  luaL_setmetatable(L, SERVER_MT);
  args_pushhostport(L, host, port);
  lua_setiuservalue(L, 4, 1);
  lua_getiuservalue(L, 4, 1);  /* TLS hook: opts.tls -> user value 2 */
  if (tlsconn_listen(L, 3, 4, 2, lua_tostring(L, 5))) return 2;
  lua_settop(L, 4);
  if (!strcmp(host, "*") || (family != AF_INET && (!strcmp(host, "::") || !strcmp(host, "[::]")))) {
    sock_any(family == AF_INET ? AF_INET : AF_INET6, port, &a[0]);
    return listen_on(L, &a[0], family == 0);
  }
  if (!strcasecmp(host, "localhost")) {
    sock_loopback(family == AF_INET6 ? AF_INET6 : AF_INET, port, &a[0]);
    return listen_on(L, &a[0], 0);
  }
  if (sock_looks_numeric(host) && sock_pton(host, port, 0, &a[0]) != 0) {
    lua_getiuservalue(L, 4, 1);
    return net_fail(L, "listen %s: invalid address", lua_tostring(L, -1));
  }
  if (sock_pton(host, port, 0, &a[0]) == 0) {
    if (family && sock_family(&a[0]) != family) {
      lua_getiuservalue(L, 4, 1);
      return net_fail(L, "listen %s: address is not of family %s", lua_tostring(L, -1),
                      family == AF_INET ? "inet" : "inet6");
    }
    return listen_on(L, &a[0], 0);
  }
  if (!args_push_resolve(L, host, 3, -1)) {
    lua_getiuservalue(L, 4, 1);
    return net_fail(L, "listen %s: cannot resolve names yet", lua_tostring(L, -1));
  }
  lua_callk(L, 2, 2, 0, listen_resolved_k);
  return listen_resolved_k(L, LUA_OK, 0);
}

void server_open(lua_State *L) {
  static const luaL_Reg server_m[] = {
    {"accept", server_accept}, {"handshake", server_handshake}, {"close", server_close},
    {"settimeout", server_settimeout}, {"getsockname", server_getsockname},
    {NULL, NULL}};
  lua_pushcfunction(L, l_listen);
  lua_setfield(L, -2, "listen");
  net_newclass(L, SERVER_MT, server_m, server_gc, server_tostring);
  lua_pop(L, 1);
  forward_open(L);  /* conn:forward, conn:reset: what servers that relay use */
}
