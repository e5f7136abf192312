/*
 * udp.c: UDP for the `net` module: net.udp([opts]) and its type (bind,
 * connect, send, receive, sendto, receivefrom, timeouts). The socket is
 * IPv6 dual stack unless opts.family says "inet", so one object talks to
 * IPv4 and IPv6 peers; IPv4 peers are shown as plain IPv4 addresses. Waits
 * follow loop.h; names go through net.resolve (args.h). The transcript
 * (u:trace, or net.trace's handler taken at birth, user value 1) shows
 * each datagram with its peer, timeouts and the close.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "loop.h"
#include "net.h"
#include "errwords.h"
#include "netaux.h"
#include "sock.h"
#include "args.h"
#include "trace.h"

#define UDP_MT "netlua.udp"
#define MAXDGRAM 65535    /* the largest datagram receive returns */

/* A UDP socket. */
typedef struct udp {
  int fd;                 /* -1 when closed */
  int family;             /* of the socket */
  int v6only;
  int connected;
  int tracing;            /* user value 1 is a trace handler */
  double timeout;
  sock_addr local, peer;
} udp;

/* Operations that take a host and a port (ctx of the continuations). */
enum { OP_BIND, OP_CONNECT, OP_SENDTO };
static const char *const opnames[] = {"bind", "connect", "sendto"};
static const int hostarg[] = {2, 2, 3};

/* The udp object at arg, checked. */
static udp *checkudp(lua_State *L, int arg) {
  return luaL_checkudata(L, arg, UDP_MT);
}

/* Call the trace handler of the udp object at 1 with what happened;
   peer: the datagram's other end, or NULL. */
static void trace(lua_State *L, udp *u, const char *what, const char *data, size_t len,
                  const sock_addr *peer) {
  char buf[SOCK_ADDRSTRLEN];
  if (!u->tracing || lua_getiuservalue(L, 1, 1) != LUA_TFUNCTION) {
    if (u->tracing) lua_pop(L, 1);
    return;
  }
  lua_pushstring(L, what);
  if (data) lua_pushlstring(L, data, len); else lua_pushnil(L);
  lua_pushvalue(L, 1);
  if (peer) lua_pushstring(L, sock_format(peer, buf, sizeof buf)); else lua_pushnil(L);
  lua_call(L, 4, 0);
}

/* nil, "timeout", after the transcript says what was waiting. */
static int timedout(lua_State *L, udp *u, const char *waiting) {
  trace(L, u, "timeout", waiting, strlen(waiting), NULL);
  return net_timeout(L);   /* noticed at the prompt */
}

/* __gc and __close: close once. */
static int udp_gc(lua_State *L) {
  udp *u = checkudp(L, 1);
  if (u->fd >= 0) {
    loop_close_fd(L, u->fd);
    u->fd = -1;
  }
  return 0;
}

/* u:close() -> true, or nil, "closed". */
static int udp_close(lua_State *L) {
  udp *u = checkudp(L, 1);
  if (u->fd < 0) return net_closed(L);
  trace(L, u, "close", NULL, 0, NULL);
  udp_gc(L);
  lua_pushboolean(L, 1);
  return 1;
}

/* __tostring: "udp LOCAL [-> PEER] (open|closed)". */
static int udp_tostring(lua_State *L) {
  udp *u = checkudp(L, 1);
  char a[SOCK_ADDRSTRLEN], b[SOCK_ADDRSTRLEN];
  const char *state = u->fd < 0 ? "closed" : "open";
  if (u->local.len == 0) sock_name(u->fd, 0, &u->local);
  sock_format(&u->local, a, sizeof a);
  if (u->connected)
    lua_pushfstring(L, "udp %s -> %s (%s)", a, sock_format(&u->peer, b, sizeof b), state);
  else
    lua_pushfstring(L, "udp %s (%s)", a, state);
  return 1;
}

/* Push host, port of an address; returns 2. */
static int pushaddr(lua_State *L, const sock_addr *a) {
  char buf[SOCK_ADDRSTRLEN];
  lua_pushstring(L, sock_ntop(a, buf, sizeof buf));
  lua_pushinteger(L, sock_port(a));
  return 2;
}

/* u:getsockname() -> host, port. */
static int udp_getsockname(lua_State *L) {
  udp *u = checkudp(L, 1);
  if (u->fd < 0) return net_closed(L);
  sock_name(u->fd, 0, &u->local);
  return pushaddr(L, &u->local);
}

/* u:getpeername() -> host, port (after connect). */
static int udp_getpeername(lua_State *L) {
  udp *u = checkudp(L, 1);
  if (u->fd < 0) return net_closed(L);
  if (!u->connected) return net_fail(L, "getpeername: not connected");
  return pushaddr(L, &u->peer);
}

/* u:settimeout(seconds | nil) -> true. */
static int udp_settimeout(lua_State *L) {
  udp *u = checkudp(L, 1);
  u->timeout = args_checktimeout(L, 2, -1);
  lua_pushboolean(L, 1);
  return 1;
}

/* Push "host:port" for messages. */
static const char *pushhostport(lua_State *L, int hidx) {
  const char *h = lua_tostring(L, hidx);
  int port = (int)lua_tointeger(L, hidx + 1);
  if (strchr(h, ':') && h[0] != '[') return lua_pushfstring(L, "[%s]:%d", h, port);
  return lua_pushfstring(L, "%s:%d", h, port);
}

/* An address for the socket from a numeric host (mapped for dual
   stack). Returns 0, or -1 with a message pushed. */
static int sockaddr_for(lua_State *L, udp *u, int op, const char *host, int port, sock_addr *a) {
  int h = hostarg[op];
  if (!strcmp(host, "*")) {
    sock_any(u->family, port, a);
    return 0;
  }
  if (sock_pton(host, port, 0, a) != 0) {
    sock_loopback(u->family, port, a);   /* "localhost" */
  }
  if (sock_family(a) == AF_INET && u->family == AF_INET6) {
    if (u->v6only) {
      net_fail(L, "%s %s: the socket is IPv6 only", opnames[op], pushhostport(L, h));
      return -1;
    }
    sock_map4(a);
  } else if (sock_family(a) == AF_INET6 && u->family == AF_INET) {
    net_fail(L, "%s %s: the socket is IPv4 only", opnames[op], pushhostport(L, h));
    return -1;
  }
  return 0;
}

static int op_run(lua_State *L, int op, const char *host);

/* After net.resolve: run the operation with the first address. */
static int resolved_k(lua_State *L, int status, lua_KContext ctx) {
  int op = (int)ctx, h = hostarg[op];
  udp *u = lua_touserdata(L, 1);
  sock_addr a[1];
  char buf[SOCK_ADDRSTRLEN];
  int n = args_take_resolved(L, (int)lua_tointeger(L, h + 1),
                            u->family == AF_INET ? AF_INET : (u->v6only ? AF_INET6 : 0), a, 1);
  (void)status;
  if (n <= 0) {
    const char *msg = n < 0 ? lua_tostring(L, -1) : "no address of the socket's family";
    size_t ml = strlen(msg);
    /* the socket's timeout passed while the name resolved: "timeout" */
    if (!strcmp(msg, "timeout") || (u->timeout >= 0 && ml >= 9 && !strcmp(msg + ml - 9, ": timeout"))) {
      return net_timeout(L);
    }
    return net_fail(L, "%s %s: %s", opnames[op], pushhostport(L, h), msg);
  }
  sock_ntop(&a[0], buf, sizeof buf);
  lua_pushstring(L, buf);
  lua_replace(L, h);
  return op_run(L, op, buf);
}

/* Resolve the host argument of op if it is a name, then run op. */
static int with_address(lua_State *L, int op) {
  udp *u = checkudp(L, 1);
  int h = hostarg[op];
  const char *host = args_checkhost(L, h);
  sock_addr a[2];
  int n;
  if (op == 0) args_checkport(L, h + 1);  /* bind: 0 is any port */
  else args_checkdestport(L, h + 1);
  if (u->fd < 0) return net_closed(L);
  if (!strcmp(host, "*")) return op_run(L, op, host);
  n = args_literal(host, 0, 0, a, 2);
  if (n == -2) return net_fail(L, "%s %s: invalid address", opnames[op], pushhostport(L, h));
  if (n >= 0) return op_run(L, op, host);
  if (!args_push_resolve(L, host, 0, u->timeout))
    return net_fail(L, "%s %s: cannot resolve names yet", opnames[op], pushhostport(L, h));
  lua_callk(L, 2, 2, op, resolved_k);
  return resolved_k(L, LUA_OK, op);
}

/* The end of a failed call: nil, "OP HOST:PORT: cause". */
static int op_fail(lua_State *L, int op, int err) {
  const char *hp = pushhostport(L, hostarg[op]);
  return net_fail(L, "%s %s: %s", opnames[op], hp, net_strerror(err));
}

/* sendto continuation. Stack: u, data, host (numeric), port, deadline. */
static int sendto_k(lua_State *L, int status, lua_KContext ctx) {
  udp *u = lua_touserdata(L, 1);
  size_t len;
  const char *data = lua_tolstring(L, 2, &len);
  double deadline = lua_tonumber(L, 5);
  sock_addr a;
  (void)status;
  if (sockaddr_for(L, u, OP_SENDTO, lua_tostring(L, 3), (int)lua_tointeger(L, 4), &a) != 0) return 2;
  for (;;) {
    ssize_t n;
    if (u->fd < 0) return net_closed(L);
    n = sendto(u->fd, data, len, MSG_NOSIGNAL, &a.u.sa, a.len);
    if (n >= 0) {
      trace(L, u, "send", data, (size_t)n, &a);
      lua_pushinteger(L, (lua_Integer)n);
      return 1;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return op_fail(L, OP_SENDTO, errno);
    if (loop_expired(deadline)) return timedout(L, u, "timeout sending a datagram");
    loop_wait(L, u->fd, LOOP_WRITE, deadline, ctx, sendto_k);
  }
}

/* Run op with a numeric host (or "*", "localhost"). */
static int op_run(lua_State *L, int op, const char *host) {
  udp *u = lua_touserdata(L, 1);
  int port = (int)lua_tointeger(L, hostarg[op] + 1), r;
  sock_addr a;
  if (u->fd < 0) return net_closed(L);
  if (op == OP_SENDTO) {
    lua_settop(L, 4);
    lua_pushnumber(L, loop_deadline(u->timeout));
    return sendto_k(L, 0, 0);
  }
  if (sockaddr_for(L, u, op, host, port, &a) != 0) return 2;
  if (op == OP_BIND) {
    sock_addr now;
    char buf[SOCK_ADDRSTRLEN];
    if (sock_name(u->fd, 0, &now) == 0 && sock_port(&now) != 0)
      return net_fail(L, "bind %s: already bound (to %s)", pushhostport(L, 2),
                      sock_format(&now, buf, sizeof buf));
    r = sock_bind(u->fd, &a, u->v6only, -1);
    if (r == EACCES && port < 1024 && port > 0) {
      const char *hp = pushhostport(L, 2);
      return net_fail(L, "bind %s: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)", hp);
    }
  } else {
    r = sock_connect(u->fd, &a);
    if (r == 0) {
      u->peer = a;
      u->connected = 1;
    }
  }
  if (r != 0) return op_fail(L, op, r);
  sock_name(u->fd, 0, &u->local);
  lua_pushboolean(L, 1);
  return 1;
}

/* u:bind(host, port) -> true ("*" for every address). */
static int udp_bind(lua_State *L) { lua_settop(L, 3); return with_address(L, OP_BIND); }

/* u:connect(host, port) -> true: the peer of send and receive. */
static int udp_connect(lua_State *L) { lua_settop(L, 3); return with_address(L, OP_CONNECT); }

/* u:sendto(data, host, port) -> bytes. */
static int udp_sendto(lua_State *L) {
  luaL_checkstring(L, 2);
  lua_settop(L, 4);
  return with_address(L, OP_SENDTO);
}

/* send continuation. Stack: u, data, deadline. */
static int send_k(lua_State *L, int status, lua_KContext ctx) {
  udp *u = lua_touserdata(L, 1);
  size_t len;
  const char *data = lua_tolstring(L, 2, &len);
  double deadline = lua_tonumber(L, 3);
  char buf[SOCK_ADDRSTRLEN];
  (void)status;
  for (;;) {
    ssize_t n;
    if (u->fd < 0) return net_closed(L);
    n = send(u->fd, data, len, MSG_NOSIGNAL);
    if (n >= 0) {
      trace(L, u, "send", data, (size_t)n, &u->peer);
      lua_pushinteger(L, (lua_Integer)n);
      return 1;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      int e = errno;
      if (!u->connected) return net_fail(L, "send: not connected (use sendto)");
      return net_fail(L, "send %s: %s", sock_format(&u->peer, buf, sizeof buf), net_strerror(e));
    }
    if (loop_expired(deadline)) return timedout(L, u, "timeout sending a datagram");
    loop_wait(L, u->fd, LOOP_WRITE, deadline, ctx, send_k);
  }
}

/* u:send(data) -> bytes (after connect). */
static int udp_send(lua_State *L) {
  udp *u = checkudp(L, 1);
  luaL_checkstring(L, 2);
  lua_settop(L, 2);
  lua_pushnumber(L, loop_deadline(u->timeout));
  return send_k(L, 0, 0);
}

/* receive/receivefrom continuation. Stack: u, size, deadline. ctx 1:
   also return the sender's host and port. */
static int recv_k(lua_State *L, int status, lua_KContext ctx) {
  udp *u = lua_touserdata(L, 1);
  size_t size = (size_t)lua_tointeger(L, 2);
  double deadline = lua_tonumber(L, 3);
  char data[MAXDGRAM];
  (void)status;
  for (;;) {
    sock_addr from;
    ssize_t n;
    if (u->fd < 0) return net_closed(L);
    memset(&from, 0, sizeof from);
    from.len = sizeof from.u;
    n = recvfrom(u->fd, data, size, MSG_TRUNC, &from.u.sa, &from.len);
    if (n >= 0) {  /* n is the datagram's whole size (MSG_TRUNC) */
      size_t got = (size_t)n < size ? (size_t)n : size;
      int nres;
      trace(L, u, "receive", data, got, &from);
      lua_pushlstring(L, data, got);
      nres = ctx ? 1 + pushaddr(L, &from) : 1;
      if (got == (size_t)n) return nres;
      lua_pushinteger(L, (lua_Integer)n);  /* truncated: the size it had */
      return nres + 1;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      int e = errno;
      char buf[SOCK_ADDRSTRLEN];
      if (u->connected)
        return net_fail(L, "receive %s: %s", sock_format(&u->peer, buf, sizeof buf), net_strerror(e));
      return net_fail(L, "receive: %s", net_strerror(e));
    }
    if (loop_expired(deadline)) return timedout(L, u, "timeout waiting for a datagram");
    loop_wait(L, u->fd, LOOP_READ, deadline, ctx, recv_k);
  }
}

/* Common start of receive and receivefrom. */
static int start_recv(lua_State *L, int from) {
  udp *u = checkudp(L, 1);
  lua_Integer size = luaL_optinteger(L, 2, MAXDGRAM);
  luaL_argcheck(L, size >= 1, 2, "size must be at least 1");
  if (size > MAXDGRAM) size = MAXDGRAM;
  lua_settop(L, 1);
  lua_pushinteger(L, size);
  lua_pushnumber(L, loop_deadline(u->timeout));
  return recv_k(L, 0, from);
}

/* u:receive([size]) -> datagram [, whole size when it was cut to size]. */
static int udp_receive(lua_State *L) { return start_recv(L, 0); }

/* u:receivefrom([size]) -> datagram, host, port [, whole size when it
   was cut to size]. */
static int udp_receivefrom(lua_State *L) { return start_recv(L, 1); }

/* net.udp([opts]) -> udp object (IPv6 dual stack, or opts.family). */
static int l_udp(lua_State *L) {
  static const char *const opts[] = {"family", "timeout", NULL};
  int family;
  double timeout;
  udp *u;
  net_checkopts(L, 1, opts);
  family = args_optfamily(L, lua_isnoneornil(L, 1) ? 0 : 1);
  timeout = args_opttimeout(L, lua_istable(L, 1) ? 1 : 0);
  u = lua_newuserdatauv(L, sizeof *u, 1);
  memset(u, 0, sizeof *u);
  u->fd = -1;
  u->timeout = -1;
  luaL_setmetatable(L, UDP_MT);
  if (trace_pushglobal(L)) {
    lua_setiuservalue(L, -2, 1);
    u->tracing = 1;
  }
  u->family = family == AF_INET ? AF_INET : AF_INET6;
  u->v6only = family == AF_INET6;
  u->fd = sock_socket(u->family, SOCK_DGRAM);
  if (u->fd < 0 && family == 0 && errno == EAFNOSUPPORT) {
    u->family = AF_INET;
    u->fd = sock_socket(AF_INET, SOCK_DGRAM);
  }
  if (u->fd < 0) return net_fail(L, "udp: %s", net_strerror(errno));
  if (u->family == AF_INET6)
    setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &u->v6only, sizeof u->v6only);
  u->timeout = timeout;
  return 1;
}

/* u:trace(true | function | file | path | false [, opts]) -> true, or nil,
   message (a path that cannot be opened): the socket's transcript. */
static int udp_trace(lua_State *L) {
  udp *u = checkudp(L, 1);
  lua_settop(L, 3);
  if (lua_isnil(L, 2) || (lua_isboolean(L, 2) && !lua_toboolean(L, 2))) {
    lua_pushnil(L);
  } else {
    if (!lua_isnil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
    if (!trace_build(L, 2, 3)) return 2;
  }
  u->tracing = lua_isfunction(L, -1);
  lua_setiuservalue(L, 1, 1);
  lua_pushboolean(L, 1);
  return 1;
}

void udp_open(lua_State *L) {
  static const luaL_Reg m[] = {
    {"bind", udp_bind}, {"connect", udp_connect}, {"send", udp_send},
    {"receive", udp_receive}, {"sendto", udp_sendto}, {"receivefrom", udp_receivefrom},
    {"settimeout", udp_settimeout}, {"close", udp_close}, {"trace", udp_trace},
    {"getsockname", udp_getsockname}, {"getpeername", udp_getpeername}, {NULL, NULL}};
  lua_pushcfunction(L, l_udp);
  lua_setfield(L, -2, "udp");
  net_newclass(L, UDP_MT, m, udp_gc, udp_tostring);
  lua_pop(L, 1);
}
