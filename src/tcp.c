/*
 * tcp.c: TCP for the `net` module: net.connect (every address of a name,
 * Happy Eyeballs, one deadline for the whole call), net.listen and the two
 * Lua types they make, a connection (send, receive with LuaSocket-like
 * patterns, lines, timeouts, shutdown, close) and a server (accept). Every
 * waiting method follows loop.h: try now; on EAGAIN loop_wait with itself
 * as continuation, its state kept on the Lua stack or in the object. A
 * connection moves bytes only through its transport (transport.h; the
 * plain socket, plain.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "buffer.h"
#include "loop.h"
#include "net.h"
#include "errwords.h"
#include "netaux.h"
#include "sock.h"
#include "args.h"
#include "plain.h"
#include "transport.h"

#define CONN_MT "netlua.conn"
#define SERVER_MT "netlua.server"
#define STAGGER 0.25      /* Happy Eyeballs: next attempt after this */
#define ALLCHUNK 65536    /* "a" reads grow the buffer by this much */

/* Connection flags. */
enum { SHUT_SEND = 1, SHUT_RECV = 2 };

/* A TCP connection. User value 1: its label for messages when made from a
   name ("host:port"); 2: the trace handler. */
typedef struct conn {
  transport io;           /* io.fd -1 when closed */
  int shut;               /* SHUT_SEND | SHUT_RECV done */
  int tracing;            /* user value 2 is set */
  double timeout;         /* seconds per call, < 0 none */
  buffer buf;
  sock_addr local, peer;
} conn;

/* A listening socket. User value 1: its label ("host:port" as given). */
typedef struct server {
  int fd;
  double timeout;
  size_t linemax;         /* for accepted connections */
  sock_addr local;
} server;


/* ---- connection objects ---------------------------------------------- */


static const void *conn_mt;  /* the connection metatable of the state that opened
                                tcp last: receive() per line is hot, so the check
                                compares addresses; other states take the slow path */

/* The connection at arg, checked (luaL_checkudata gives the error). */
static conn *checkconn(lua_State *L, int arg) {
  void *p = lua_touserdata(L, arg);
  if (p && lua_getmetatable(L, arg)) {
    int same = lua_topointer(L, -1) == conn_mt;
    lua_pop(L, 1);
    if (same) return p;
  }
  return luaL_checkudata(L, arg, CONN_MT);
}

/* A new closed connection object on the stack. */
static conn *newconn(lua_State *L, size_t linemax) {
  conn *c = lua_newuserdatauv(L, sizeof *c, 2);
  memset(c, 0, sizeof *c);
  c->io.fd = -1;
  c->timeout = -1;
  buffer_init(&c->buf, linemax);
  luaL_setmetatable(L, CONN_MT);
  return c;
}

/* Close c once: its transport, its fd and its buffer. Returns 1 if it was
   open. */
static int conn_shut(lua_State *L, conn *c) {
  if (c->io.fd < 0) return 0;
  c->io.ops->close(&c->io);
  loop_close_fd(L, c->io.fd);
  c->io.fd = -1;
  buffer_free(&c->buf);
  return 1;
}

/* __gc and __close: close once, quietly. */
static int conn_gc(lua_State *L) {
  conn_shut(L, checkconn(L, 1));
  return 0;
}

/* Push the label of c for messages: the name it was opened with, or its
   peer address. */
static const char *pushlabel(lua_State *L, int idx, conn *c) {
  char buf[SOCK_ADDRSTRLEN];
  if (lua_getiuservalue(L, idx, 1) == LUA_TSTRING) return lua_tostring(L, -1);
  lua_pop(L, 1);
  return lua_pushstring(L, sock_format(&c->peer, buf, sizeof buf));
}

/* Call the trace handler (user value 2) with what happened. */
static void trace(lua_State *L, int idx, conn *c, const char *what, const char *data, size_t len) {
  if (!c->tracing) return;
  idx = lua_absindex(L, idx);
  if (lua_getiuservalue(L, idx, 2) != LUA_TFUNCTION) { lua_pop(L, 1); return; }
  lua_pushstring(L, what);
  if (data) lua_pushlstring(L, data, len); else lua_pushnil(L);
  lua_pushvalue(L, idx);
  lua_call(L, 3, 0);
}

/* Trace what receive is about to return (the string at the top). */
static void trace_received(lua_State *L, conn *c) {
  if (c->tracing) trace(L, 1, c, "receive", lua_tostring(L, -1), lua_rawlen(L, -1));
}


/* conn:close() -> true, or nil, "closed" if it was closed already. */
static int conn_close(lua_State *L) {
  conn *c = checkconn(L, 1);
  if (c->io.fd < 0) return net_closed(L);
  trace(L, 1, c, "close", NULL, 0);
  conn_shut(L, c);
  lua_pushboolean(L, 1);
  return 1;
}

/* __tostring: "tcp connection LOCAL -> PEER (open|closed)". */
static int conn_tostring(lua_State *L) {
  conn *c = checkconn(L, 1);
  char a[SOCK_ADDRSTRLEN], b[SOCK_ADDRSTRLEN];
  const char *state = c->io.fd < 0 ? "closed" : c->shut == (SHUT_SEND | SHUT_RECV) ? "shut down"
                    : c->shut == SHUT_SEND ? "open, sending shut down"
                    : c->shut == SHUT_RECV ? "open, receiving shut down" : "open";
  if (c->peer.len == 0) {
    lua_pushfstring(L, "tcp connection (%s)", state);
    return 1;
  }
  lua_pushfstring(L, "tcp connection %s -> %s (%s)", sock_format(&c->local, a, sizeof a),
                  sock_format(&c->peer, b, sizeof b), state);
  return 1;
}

/* Push host and port of an address. */
static int pushaddr(lua_State *L, const sock_addr *a) {
  char buf[SOCK_ADDRSTRLEN];
  lua_pushstring(L, sock_ntop(a, buf, sizeof buf));
  lua_pushinteger(L, sock_port(a));
  return 2;
}

/* conn:getpeername() -> host, port. */
static int conn_getpeername(lua_State *L) {
  conn *c = checkconn(L, 1);
  return c->io.fd < 0 ? net_closed(L) : pushaddr(L, &c->peer);
}

/* conn:getsockname() -> host, port. */
static int conn_getsockname(lua_State *L) {
  conn *c = checkconn(L, 1);
  return c->io.fd < 0 ? net_closed(L) : pushaddr(L, &c->local);
}

/* conn:settimeout(seconds | nil) -> true: bounds each later call. */
static int conn_settimeout(lua_State *L) {
  conn *c = checkconn(L, 1);
  c->timeout = args_checktimeout(L, 2, -1);
  lua_pushboolean(L, 1);
  return 1;
}

/* conn:setlinelimit(bytes) -> true: the longest line receive accepts. */
static int conn_setlinelimit(lua_State *L) {
  conn *c = checkconn(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 1, 2, "line limit must be at least 1");
  c->buf.linemax = (size_t)n;
  lua_pushboolean(L, 1);
  return 1;
}

/* conn:shutdown(["both" | "send" | "receive"]) -> true. */
static int conn_shutdown(lua_State *L) {
  static const char *const hows[] = {"both", "send", "receive", NULL};
  static const int how_os[] = {SHUT_RDWR, SHUT_WR, SHUT_RD};
  static const int how_flag[] = {SHUT_SEND | SHUT_RECV, SHUT_SEND, SHUT_RECV};
  conn *c = checkconn(L, 1);
  int how = luaL_checkoption(L, 2, "both", hows);
  if (c->io.fd < 0) return net_closed(L);
  if (c->io.ops->shutdown(&c->io, how_os[how]) != 0) {
    int e = errno;
    pushlabel(L, 1, c);
    return net_fail(L, "shutdown %s: %s", lua_tostring(L, -1), net_strerror(e));
  }
  c->shut |= how_flag[how];
  trace(L, 1, c, "shutdown", hows[how], strlen(hows[how]));
  lua_pushboolean(L, 1);
  return 1;
}

/* What to wait for on the fd after the transport said EAGAIN. */
static int waitfor(const transport *io) {
  return io->want == TRANSPORT_READ ? LOOP_READ : LOOP_WRITE;
}

/* ---- send ------------------------------------------------------------ */

/* The interrupted-send rule. A send that has to wait puts a guard in a
   to-be-closed slot of its frame. If an error unwinds the send while it
   waits (Ctrl-C's "interrupted!"), the guard closes the connection: part
   of the data may have gone and the count cannot be returned, so the
   stream is in an unknown state. A send that ends (all sent, timeout,
   error returned) disarms it. A receive has no guard: an interrupted
   receive leaves the connection open and the data read so far buffered. */
typedef struct sendguard { int armed; } sendguard;

/* __close of a guard: close its connection if an error unwinds the send. */
static int guard_close(lua_State *L) {
  sendguard *g = lua_touserdata(L, 1);
  if (g->armed && !lua_isnil(L, 2) && lua_getiuservalue(L, 1, 1) == LUA_TUSERDATA) {
    g->armed = 0;
    conn_shut(L, lua_touserdata(L, -1));
  }
  return 0;
}

/* Push an armed guard for the connection at idx as a to-be-closed slot. */
static void guard_push(lua_State *L, int idx) {
  sendguard *g = lua_newuserdatauv(L, sizeof *g, 1);
  g->armed = 1;
  lua_pushvalue(L, idx);
  lua_setiuservalue(L, -2, 1);
  if (luaL_newmetatable(L, "netlua.sendguard")) {
    lua_pushcfunction(L, guard_close);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  lua_toclose(L, -1);
}

/* The send has ended: disarm its guard (slot 5) if it has one. */
static void guard_disarm(lua_State *L) {
  if (lua_gettop(L) >= 5 && lua_type(L, 5) == LUA_TUSERDATA)
    ((sendguard *)lua_touserdata(L, 5))->armed = 0;
}

/* nil, err, sent: the end of a send that did not send everything. */
static int send_fail(lua_State *L, size_t sent) {
  lua_pushinteger(L, (lua_Integer)sent);
  return 3;
}

/* send continuation. Stack: conn, data, deadline, bytes sent so far,
   [guard]. */
static int send_k(lua_State *L, int status, lua_KContext ctx) {
  conn *c = lua_touserdata(L, 1);
  size_t len, sent = (size_t)lua_tointeger(L, 4);
  const char *data = lua_tolstring(L, 2, &len);
  double deadline = lua_tonumber(L, 3);
  (void)status;
  for (;;) {
    ssize_t n;
    int e;
    if (c->io.fd < 0) {
      guard_disarm(L);
      net_closed(L);
      return send_fail(L, sent);
    }
    if (sent == len) break;
    n = c->io.ops->write(&c->io, data + sent, len - sent);
    if (n >= 0) {
      sent += (size_t)n;
      lua_pushinteger(L, (lua_Integer)sent);
      lua_replace(L, 4);
      continue;
    }
    e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK) {
      if (loop_expired(deadline)) {
        guard_disarm(L);
        lua_pushnil(L);
        lua_pushliteral(L, "timeout");
        return send_fail(L, sent);
      }
      if (lua_gettop(L) < 5) guard_push(L, 1);
      loop_wait(L, c->io.fd, waitfor(&c->io), deadline, ctx, send_k);
      continue;
    }
    guard_disarm(L);
    if (e == EPIPE) {
      lua_pushnil(L);
      lua_pushliteral(L, "closed");
    } else {
      pushlabel(L, 1, c);
      net_fail(L, "send %s: %s", lua_tostring(L, -1), net_strerror(e));
    }
    return send_fail(L, sent);
  }
  guard_disarm(L);
  trace(L, 1, c, "send", data, len);
  lua_pushinteger(L, (lua_Integer)len);
  return 1;
}

/* conn:send(data) -> #data, or nil, err, bytes sent. */
static int conn_send(lua_State *L) {
  conn *c = checkconn(L, 1);
  luaL_checkstring(L, 2);
  lua_settop(L, 2);
  lua_pushnumber(L, loop_deadline(c->timeout));
  lua_pushinteger(L, 0);
  return send_k(L, 0, 0);
}

/* ---- receive --------------------------------------------------------- */

enum { PAT_LINE, PAT_LINE_EOL, PAT_ALL, PAT_COUNT };

/* The receive pattern at arg: its kind, and the count for PAT_COUNT. */
static int checkpattern(lua_State *L, int arg, size_t *count) {
  if (lua_gettop(L) < arg) return PAT_LINE;  /* the common c:receive() */
  if (lua_type(L, arg) == LUA_TNUMBER) {
    lua_Integer n;
    if (!lua_isinteger(L, arg)) {
      lua_Number f = lua_tonumber(L, arg);
      luaL_argcheck(L, f == floor(f), arg, "byte count must be an integer");
      luaL_argcheck(L, f >= 0, arg, "byte count must be >= 0");
      luaL_argcheck(L, f < -(lua_Number)LUA_MININTEGER, arg,
                    "byte count too large (at most math.maxinteger)");
      n = (lua_Integer)f;
    } else {
      n = lua_tointeger(L, arg);
      luaL_argcheck(L, n >= 0, arg, "byte count must be >= 0");
    }
    *count = (size_t)n;
    return PAT_COUNT;
  }
  if (lua_isnoneornil(L, arg)) return PAT_LINE;
  {
    const char *p = luaL_checkstring(L, arg);
    if (*p == '*') p++;
    if (!strcmp(p, "l")) return PAT_LINE;
    if (!strcmp(p, "L")) return PAT_LINE_EOL;
    if (!strcmp(p, "a")) return PAT_ALL;
    return luaL_argerror(L, arg, lua_pushfstring(L, "invalid pattern '%s' (\"l\", \"L\", \"a\" or a byte count)",
                                                 lua_tostring(L, arg)));
  }
}

/* Push what the buffer can give for the pattern now and consume it:
   1 done (result pushed), 0 more data needed, -1 line too long. */
static int take(lua_State *L, conn *c, int kind, size_t count) {
  buffer *b = &c->buf;
  size_t len, eol;
  int r;
  switch (kind) {
    case PAT_COUNT:
      if (buffer_len(b) < count) return 0;
      lua_pushlstring(L, buffer_data(b), count);
      buffer_consume(b, count);
      return 1;
    case PAT_ALL:
      return 0;
    default:
      r = buffer_line(b, &len, &eol);
      if (r == BUFFER_MORE) return 0;
      if (r == BUFFER_LONG) return -1;
      lua_pushlstring(L, buffer_data(b), kind == PAT_LINE ? len - eol : len);
      buffer_consume(b, len);
      return 1;
  }
}

/* Push nil, msg, partial (all that is buffered, consumed); returns 3. For
   lines() (ctx 1): end of stream gives the partial line or nothing, and
   other errors are raised. */
static int recv_fail(lua_State *L, conn *c, const char *msg, size_t maxpartial, lua_KContext ctx) {
  size_t n = buffer_len(&c->buf);
  if (n > maxpartial) n = maxpartial;
  if (ctx == 1 && !strcmp(msg, "closed")) {
    if (n == 0) return 0;
    lua_pushlstring(L, buffer_data(&c->buf), n);
    buffer_consume(&c->buf, n);
    return 1;
  }
  if (ctx == 1) return luaL_error(L, "%s", msg);
  lua_pushnil(L);
  lua_pushstring(L, msg);
  lua_pushlstring(L, n ? buffer_data(&c->buf) : "", n);
  buffer_consume(&c->buf, n);
  return 3;
}

/* How many unread bytes the buffer should be able to hold for the next
   read: a byte count grows the buffer as data arrives (at most a chunk
   beyond what came), never by the count asked for up front. */
static size_t want(conn *c, int kind, size_t count) {
  size_t have = buffer_len(&c->buf);
  if (kind == PAT_COUNT) return count - have < ALLCHUNK ? count : have + ALLCHUNK;
  if (kind == PAT_ALL) return have + ALLCHUNK;
  return have + 1;
}

/* One read from the transport into the buffer, with room for `want`
   unread bytes: the bytes read, 0 at end of stream, or -1 with errno. */
static ssize_t fill(conn *c, size_t want) {
  size_t room;
  char *p = buffer_reserve(&c->buf, want, &room);
  ssize_t n;
  if (p == NULL) return -1;
  n = c->io.ops->read(&c->io, p, room);
  if (n > 0) buffer_commit(&c->buf, (size_t)n);
  return n;
}

/* receive continuation. Stack: conn, pattern, deadline. ctx 1: lines(). */
static int recv_k(lua_State *L, int status, lua_KContext ctx) {
  conn *c = lua_touserdata(L, 1);
  double deadline = lua_tonumber(L, 3);
  size_t count = 0;
  int kind = checkpattern(L, 2, &count);
  (void)status;
  for (;;) {
    ssize_t n;
    int r, e;
    if (c->io.fd < 0) {
      if (ctx == 1) return 0;
      net_closed(L);
      lua_pushliteral(L, "");
      return 3;
    }
    r = take(L, c, kind, count);
    if (r > 0) {
      trace_received(L, c);
      return 1;
    }
    if (r < 0) return recv_fail(L, c, "line too long", c->buf.linemax, ctx);
    n = fill(c, want(c, kind, count));
    if (n > 0) continue;
    if (n == 0) {
      if (kind != PAT_ALL) return recv_fail(L, c, "closed", (size_t)-1, ctx);
      lua_pushlstring(L, buffer_len(&c->buf) ? buffer_data(&c->buf) : "", buffer_len(&c->buf));
      buffer_consume(&c->buf, buffer_len(&c->buf));
      trace_received(L, c);
      return 1;
    }
    e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK) {
      if (loop_expired(deadline)) return recv_fail(L, c, "timeout", (size_t)-1, ctx);
      loop_wait(L, c->io.fd, waitfor(&c->io), deadline, ctx, recv_k);
      continue;
    }
    pushlabel(L, 1, c);
    lua_pushfstring(L, "receive %s: %s", lua_tostring(L, -1), net_strerror(e));
    return recv_fail(L, c, lua_tostring(L, -1), (size_t)-1, ctx);
  }
}

/* conn:receive([pattern]) -> data, or nil, err, partial. */
static int conn_receive(lua_State *L) {
  conn *c = checkconn(L, 1);
  size_t count = 0;
  int kind = checkpattern(L, 2, &count);
  if (c->io.fd >= 0 && kind != PAT_ALL && take(L, c, kind, count) > 0) {  /* fast path */
    trace_received(L, c);
    return 1;
  }
  lua_settop(L, 2);
  lua_pushnumber(L, loop_deadline(c->timeout));
  return recv_k(L, 0, 0);
}

/* The iterator of conn:lines(): the next line, nil at the end. */
static int lines_iter(lua_State *L) {
  conn *c = lua_touserdata(L, lua_upvalueindex(1));
  lua_settop(L, 0);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushliteral(L, "l");
  lua_pushnumber(L, loop_deadline(c->timeout));
  return recv_k(L, 0, 1);
}

/* conn:lines() -> iterator over lines (errors other than the end raise). */
static int conn_lines(lua_State *L) {
  checkconn(L, 1);
  lua_settop(L, 1);
  lua_pushcclosure(L, lines_iter, 1);
  return 1;
}

/* conn:trace(handler | nil | false): handler(what, data, conn) is called
   after each send, receive, shutdown and close (the Lua side formats). */
static int conn_settrace(lua_State *L) {
  conn *c = checkconn(L, 1);
  if (!lua_isnoneornil(L, 2) && lua_type(L, 2) != LUA_TBOOLEAN)
    luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  c->tracing = lua_type(L, 2) == LUA_TFUNCTION;
  if (!c->tracing) { lua_pushnil(L); lua_replace(L, 2); }
  lua_setiuservalue(L, 1, 2);
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- connect --------------------------------------------------------- */

/* One address being tried. */
typedef struct attempt {
  sock_addr addr;
  int fd;                 /* -1: not started or finished */
  int err;                /* why it failed (0: not failed) */
} attempt;

/* The attempts of one net.connect (a userdata, so an error or an
   interrupt closes the fds at collection). */
typedef struct connset {
  int n, next, inflight, done;
  int epfd;               /* watches every attempt when several run */
  double next_start;
  sock_addr local;        /* opts.localaddr, if local.len */
  attempt a[];
} connset;

/* Close every attempt's fd but `keep`, and the epoll fd. */
static void cs_cleanup(lua_State *L, connset *s, int keep) {
  for (int i = 0; i < s->n; i++)
    if (i != keep && s->a[i].fd >= 0) {
      loop_close_fd(L, s->a[i].fd);
      s->a[i].fd = -1;
    }
  loop_close_fd(L, s->epfd);
  s->epfd = -1;
  s->inflight = 0;
  s->done = 1;
}

/* __gc of a connset. */
static int cs_gc(lua_State *L) {
  connset *s = lua_touserdata(L, 1);
  if (!s->done) cs_cleanup(L, s, -1);
  return 0;
}

/* A new connset for n addresses on the stack. */
static connset *cs_new(lua_State *L, int n) {
  connset *s = lua_newuserdatauv(L, sizeof *s + (size_t)n * sizeof(attempt), 0);
  memset(s, 0, sizeof *s);
  s->epfd = -1;
  s->n = n;
  for (int i = 0; i < n; i++) s->a[i].fd = -1;
  if (luaL_newmetatable(L, "netlua.connset")) {
    lua_pushcfunction(L, cs_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return s;
}

/* Watch fd in the connset's epoll (made when a second attempt starts). */
static void cs_watch(connset *s, int i) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLOUT;
  ev.data.u32 = (uint32_t)i;
  epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->a[i].fd, &ev);
}

/* An attempt failed: record why, close it, let the next one start now. */
static void cs_failed(lua_State *L, connset *s, int i, int err) {
  s->a[i].err = err ? err : ECONNREFUSED;
  if (s->a[i].fd >= 0) {
    loop_close_fd(L, s->a[i].fd);
    s->a[i].fd = -1;
    s->inflight--;
  }
  s->next_start = loop_now();
}

/* Start attempt i. */
static void cs_start(lua_State *L, connset *s, int i) {
  attempt *a = &s->a[i];
  int fd = sock_socket(a->addr.u.sa.sa_family, SOCK_STREAM), r;
  if (fd < 0) { cs_failed(L, s, i, errno); return; }
  if (s->local.len) {
    sock_addr l = s->local;
    if (l.u.sa.sa_family != a->addr.u.sa.sa_family) {
      close(fd);
      cs_failed(L, s, i, EAFNOSUPPORT);
      return;
    }
    if ((r = sock_bind(fd, &l, 0, -1)) != 0) { close(fd); cs_failed(L, s, i, r); return; }
  }
  r = sock_connect(fd, &a->addr);
  if (r != 0 && r != EINPROGRESS) { close(fd); cs_failed(L, s, i, r); return; }
  a->fd = fd;
  s->inflight++;
  s->next_start = loop_now() + STAGGER;
  if (s->inflight > 1 && s->epfd < 0) {
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd >= 0)
      for (int j = 0; j < s->n; j++) if (s->a[j].fd >= 0) cs_watch(s, j);
  } else if (s->epfd >= 0) {
    cs_watch(s, i);
  }
}

/* Check the attempts under way: returns the index of one that connected,
   or -1; failed ones are closed. */
static int cs_poll(lua_State *L, connset *s) {
  struct pollfd p[ARGS_MAXADDRS];
  int idx[ARGS_MAXADDRS], k = 0;
  for (int i = 0; i < s->n; i++)
    if (s->a[i].fd >= 0) {
      p[k].fd = s->a[i].fd;
      p[k].events = POLLOUT;
      p[k].revents = 0;
      idx[k++] = i;
    }
  if (k == 0 || poll(p, (nfds_t)k, 0) <= 0) return -1;
  for (int j = 0; j < k; j++) {
    int e;
    if (!p[j].revents) continue;
    e = sock_error(p[j].fd);
    if (e == 0 && (p[j].revents & POLLOUT) && !(p[j].revents & (POLLERR | POLLHUP))) return idx[j];
    cs_failed(L, s, idx[j], e);
  }
  return -1;
}

/* nil and the message of a connect where every attempt failed. Stack:
   1 host, 2 port, ... label at LABEL. */
static int cs_fail(lua_State *L, connset *s, const char *label) {
  char addr[SOCK_ADDRSTRLEN];
  luaL_Buffer b;
  int failed = 0;
  for (int i = 0; i < s->n; i++) if (s->a[i].err) failed++;
  if (failed == 1 && s->n == 1)
    return net_fail(L, "connect %s (%s): %s", label, sock_ntop(&s->a[0].addr, addr, sizeof addr),
                    net_strerror(s->a[0].err));
  lua_pushnil(L);
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "connect ");
  luaL_addstring(&b, label);
  luaL_addstring(&b, ": ");
  for (int i = 0, k = 0; i < s->n; i++) {
    if (!s->a[i].err) continue;
    if (k++) luaL_addstring(&b, "; ");
    luaL_addstring(&b, sock_ntop(&s->a[i].addr, addr, sizeof addr));
    luaL_addstring(&b, ": ");
    luaL_addstring(&b, net_strerror(s->a[i].err));
  }
  luaL_pushresult(&b);
  return 2;
}

/* Stack of net.connect: 1 host, 2 port, 3 opts, 4 conn, 5 deadline,
   6 label, 7 connset (after resolution). */
enum { C_HOST = 1, C_PORT, C_OPTS, C_CONN, C_DEADLINE, C_LABEL, C_SET };

/* The winner: hand its fd to the connection object and return it. */
static int cs_won(lua_State *L, connset *s, int i) {
  conn *c = lua_touserdata(L, C_CONN);
  plain_init(&c->io, s->a[i].fd);
  s->a[i].fd = -1;
  cs_cleanup(L, s, -1);
  c->peer = s->a[i].addr;
  sock_name(c->io.fd, 0, &c->local);
  sock_nodelay(c->io.fd);
  lua_pushvalue(L, C_LABEL);
  lua_setiuservalue(L, C_CONN, 1);
  lua_settop(L, C_CONN);
  trace(L, C_CONN, c, "connect", NULL, 0);
  return 1;
}

/* connect continuation: start attempts, watch them, until one wins, all
   fail, or the deadline passes. */
static int connect_k(lua_State *L, int status, lua_KContext ctx) {
  connset *s = lua_touserdata(L, C_SET);
  double deadline = lua_tonumber(L, C_DEADLINE);
  (void)status;
  for (;;) {
    double until;
    int won = cs_poll(L, s), fd, ev;
    if (won >= 0) return cs_won(L, s, won);
    if (s->next < s->n && (s->inflight == 0 || loop_now() >= s->next_start)) {
      cs_start(L, s, s->next++);
      continue;
    }
    if (s->inflight == 0) {
      cs_cleanup(L, s, -1);
      return cs_fail(L, s, lua_tostring(L, C_LABEL));
    }
    if (loop_expired(deadline)) {
      cs_cleanup(L, s, -1);
      lua_pushnil(L);
      lua_pushliteral(L, "timeout");
      return 2;
    }
    until = deadline;
    if (s->next < s->n && (until < 0 || s->next_start < until)) until = s->next_start;
    if (s->inflight > 1 && s->epfd >= 0) { fd = s->epfd; ev = LOOP_READ; }
    else {
      fd = -1;
      for (int i = s->n - 1; i >= 0 && fd < 0; i--) if (s->a[i].fd >= 0) fd = s->a[i].fd;
      ev = LOOP_WRITE;
    }
    loop_wait(L, fd, ev, until, ctx, connect_k);
  }
}

/* opts.localaddr and opts.localport of net.connect into *a (a->len 0
   when not given); a bad one raises an argument error naming it. */
static void optlocal(lua_State *L, sock_addr *a) {
  size_t len;
  const char *la;
  int port = 0;
  memset(a, 0, sizeof *a);
  if (lua_type(L, C_OPTS) != LUA_TTABLE) return;
  if (lua_getfield(L, C_OPTS, "localport") != LUA_TNIL) {
    lua_Integer p = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
    if (p < 0 || p > 65535)
      luaL_argerror(L, C_OPTS, lua_pushfstring(L, "option 'localport' must be an integer 0-65535, got %s",
                                               luaL_tolstring(L, -1, NULL)));
    port = (int)p;
  }
  if (lua_getfield(L, C_OPTS, "localaddr") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_argerror(L, C_OPTS, lua_pushfstring(L, "option 'localaddr' must be a string, got %s",
                                               luaL_typename(L, -1)));
    la = lua_tolstring(L, -1, &len);
    if (strlen(la) != len) luaL_argerror(L, C_OPTS, "option 'localaddr' contains a NUL byte");
    if (sock_pton(la, port, 0, a) != 0)
      luaL_argerror(L, C_OPTS, lua_pushfstring(L, "option 'localaddr' must be a numeric address, got '%s'", la));
  }
  lua_pop(L, 2);
}

/* Go on with n addresses in `addrs`: make the connset and run. */
static int connect_start(lua_State *L, const sock_addr *addrs, int n) {
  connset *s;
  lua_settop(L, C_LABEL);
  if (n == 0)
    return net_fail(L, "connect %s: no address%s", lua_tostring(L, C_LABEL),
                    args_optfamily(L, C_OPTS) ? " of that family" : "");
  s = cs_new(L, n);
  for (int i = 0; i < n; i++) s->a[i].addr = addrs[i];
  optlocal(L, &s->local);
  lua_settop(L, C_SET);
  return connect_k(L, 0, 0);
}

/* After net.resolve: its results are at the top. */
static int resolved_k(lua_State *L, int status, lua_KContext ctx) {
  sock_addr addrs[ARGS_MAXADDRS];
  int n;
  (void)status; (void)ctx;
  n = args_take_resolved(L, args_checkport(L, C_PORT), args_optfamily(L, C_OPTS), addrs, ARGS_MAXADDRS);
  if (n < 0) {
    const char *msg = lua_tostring(L, -1);
    size_t ml = strlen(msg);
    double deadline = lua_tonumber(L, C_DEADLINE);
    /* the whole call's deadline passed while the name resolved (net.resolve
       was given what remained of it, and gave up on it): the same word as
       any other timeout of connect */
    if (!strcmp(msg, "timeout") || loop_expired(deadline) ||
        (deadline >= 0 && ml >= 9 && !strcmp(msg + ml - 9, ": timeout"))) {
      lua_pushnil(L);
      lua_pushliteral(L, "timeout");
      return 2;
    }
    return net_fail(L, "connect %s: %s", lua_tostring(L, C_LABEL), msg);
  }
  return connect_start(L, addrs, n);
}

/* Push "host:port" (IPv6 literals in brackets). */
static const char *pushhostport(lua_State *L, const char *host, int port) {
  if (strchr(host, ':') && host[0] != '[') return lua_pushfstring(L, "[%s]:%d", host, port);
  return lua_pushfstring(L, "%s:%d", host, port);
}

/* Options of net.connect and net.listen. */
static const char *const connect_opts[] = {"timeout", "family", "localaddr", "localport", "linelimit", NULL};
static const char *const listen_opts[] = {"timeout", "family", "backlog", "linelimit", NULL};

/* opts.linelimit: an integer >= 1 (absent: 0, the default). */
static size_t optlinelimit(lua_State *L, int opts) {
  double n = args_optnumber(L, opts, "linelimit", 0);
  if (n != 0 && (n < 1 || n != floor(n) || n > 9007199254740992.0))
    luaL_argerror(L, opts, "option 'linelimit' must be an integer >= 1");
  return (size_t)n;
}

/* nil, "OP LABEL: invalid address" for a host that looks numeric but is
   not a valid address (it never goes to DNS). */
static int fail_invalid(lua_State *L, const char *op, const char *label) {
  return net_fail(L, "%s %s: invalid address", op, label);
}

/* net.connect(host, port [, opts]) -> conn, or nil, message. */
static int l_connect(lua_State *L) {
  const char *host = args_checkhost(L, C_HOST);
  int port = args_checkport(L, C_PORT), family, n;
  double timeout;
  sock_addr addrs[2];
  conn *c;
  net_checkopts(L, C_OPTS, connect_opts);
  family = args_optfamily(L, C_OPTS);
  timeout = args_opttimeout(L, C_OPTS);
  lua_settop(L, C_OPTS);
  optlocal(L, &addrs[0]);  /* checked now, before any resolution */
  c = newconn(L, optlinelimit(L, C_OPTS));
  c->timeout = timeout;
  lua_pushnumber(L, loop_deadline(c->timeout));
  pushhostport(L, host, port);
  n = args_literal(host, port, family, addrs, 2);
  if (n == -2) return fail_invalid(L, "connect", lua_tostring(L, C_LABEL));
  if (n >= 0) return connect_start(L, addrs, n);
  if (!args_push_resolve(L, host, C_OPTS, c->timeout))
    return net_fail(L, "connect %s: cannot resolve names yet", lua_tostring(L, C_LABEL));
  lua_callk(L, 2, 2, 0, resolved_k);
  return resolved_k(L, LUA_OK, 0);
}

/* ---- servers --------------------------------------------------------- */

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

/* __tostring: "tcp server ADDR (listening|closed)". */
static int server_tostring(lua_State *L) {
  server *sv = checkserver(L, 1);
  char a[SOCK_ADDRSTRLEN];
  if (sv->local.len == 0) lua_pushstring(L, "tcp server (closed)");
  else lua_pushfstring(L, "tcp server %s (%s)", sock_format(&sv->local, a, sizeof a),
                       sv->fd < 0 ? "closed" : "listening");
  return 1;
}

/* server:getsockname() -> host, port. */
static int server_getsockname(lua_State *L) {
  server *sv = checkserver(L, 1);
  if (sv->fd < 0) return net_closed(L);
  return pushaddr(L, &sv->local);
}

/* server:settimeout(seconds | nil) -> true: the default for accept. */
static int server_settimeout(lua_State *L) {
  server *sv = checkserver(L, 1);
  sv->timeout = args_checktimeout(L, 2, -1);
  lua_pushboolean(L, 1);
  return 1;
}

/* accept continuation. Stack: server, timeout, conn, deadline. */
static int accept_k(lua_State *L, int status, lua_KContext ctx) {
  server *sv = lua_touserdata(L, 1);
  conn *c = lua_touserdata(L, 3);
  double deadline = lua_tonumber(L, 4);
  (void)status;
  for (;;) {
    int fd, e;
    if (sv->fd < 0) return net_closed(L);
    fd = sock_accept(sv->fd, &c->peer);
    if (fd >= 0) {
      plain_init(&c->io, fd);
      sock_name(fd, 0, &c->local);
      sock_nodelay(fd);
      lua_settop(L, 3);
      return 1;
    }
    e = errno;
    if (e == ECONNABORTED) continue;
    if (e == EAGAIN || e == EWOULDBLOCK) {
      if (loop_expired(deadline)) {
        lua_pushnil(L);
        lua_pushliteral(L, "timeout");
        return 2;
      }
      loop_wait(L, sv->fd, LOOP_READ, deadline, ctx, accept_k);
      continue;
    }
    lua_getiuservalue(L, 1, 1);
    return net_fail(L, "accept %s: %s", lua_tostring(L, -1), net_strerror(e));
  }
}

/* server:accept([timeout]) -> conn, or nil, message. */
static int server_accept(lua_State *L) {
  server *sv = checkserver(L, 1);
  double t = args_checktimeout(L, 2, sv->timeout);
  lua_settop(L, 2);
  newconn(L, sv->linemax);
  lua_pushnumber(L, loop_deadline(t));
  return accept_k(L, 0, 0);
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
  sv = lua_newuserdatauv(L, sizeof *sv, 1);
  memset(sv, 0, sizeof *sv);
  sv->fd = -1;
  sv->timeout = args_opttimeout(L, 3);
  sv->linemax = optlinelimit(L, 3);
  luaL_setmetatable(L, SERVER_MT);
  pushhostport(L, host, port);
  lua_setiuservalue(L, 4, 1);
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
    return fail_invalid(L, "listen", lua_tostring(L, -1));
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

/* ---- Lua helpers written in Lua -------------------------------------- */

/* conn:expect(pattern [, timeout]) reads lines until one matches and
   returns its captures (or the line); conn:trace([on | function | file])
   installs a transcript writer from net.trace. */
static const char lua_methods[] =
  "local M, net = ...\n"
  "function M.expect(c, pat, timeout)\n"
  "  if type(pat) ~= 'string' then error(\"bad argument #1 to 'expect' (string expected, got \"..type(pat)..')', 2) end\n"
  "  local stop = timeout and net.now() + timeout\n"
  "  local old = c:gettimeout()\n"
  "  local seen = {}\n"
  "  while true do\n"
  "    if stop then c:settimeout(math.max(0, stop - net.now())) end\n"
  "    local line, err, partial = c:receive('l')\n"
  "    if stop then c:settimeout(old) end\n"
  "    if not line then\n"
  "      if #seen > 0 then err = err .. ' (read: ' .. table.concat(seen, ' | '):sub(1, 200) .. ')' end\n"
  "      return nil, err, partial\n"
  "    end\n"
  "    if line:find(pat) then return line:match(pat) end\n"
  "    seen[#seen + 1] = line\n"
  "  end\n"
  "end\n"
  "function M.trace(c, how)\n"
  "  if how == nil or how == false then return c:settrace(nil) end\n"
  "  return c:settrace(require('net.trace').handler(how))\n"
  "end\n";

/* conn:gettimeout() -> seconds or nil. */
static int conn_gettimeout(lua_State *L) {
  conn *c = checkconn(L, 1);
  if (c->timeout < 0) lua_pushnil(L); else lua_pushnumber(L, c->timeout);
  return 1;
}

void tcp_open(lua_State *L) {
  static const luaL_Reg conn_m[] = {
    {"send", conn_send}, {"receive", conn_receive}, {"lines", conn_lines},
    {"close", conn_close}, {"shutdown", conn_shutdown},
    {"settimeout", conn_settimeout}, {"gettimeout", conn_gettimeout},
    {"setlinelimit", conn_setlinelimit}, {"settrace", conn_settrace},
    {"getpeername", conn_getpeername}, {"getsockname", conn_getsockname},
    {NULL, NULL}};
  static const luaL_Reg server_m[] = {
    {"accept", server_accept}, {"close", server_close},
    {"settimeout", server_settimeout}, {"getsockname", server_getsockname},
    {NULL, NULL}};
  static const luaL_Reg fns[] = {{"connect", l_connect}, {"listen", l_listen}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
  net_newclass(L, CONN_MT, conn_m, conn_gc, conn_tostring);
  lua_getfield(L, -1, "__index");  /* the methods written in Lua join them */
  if (luaL_loadstring(L, lua_methods) != LUA_OK) lua_error(L);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -5);
  lua_call(L, 2, 0);
  lua_pop(L, 1);
  conn_mt = lua_topointer(L, -1);
  lua_pop(L, 1);
  net_newclass(L, SERVER_MT, server_m, server_gc, server_tostring);
  lua_pop(L, 1);
}
