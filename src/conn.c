/*
 * conn.c: the connection type (see conn.h): send, receive and its
 * patterns, lines, timeouts, line limit, shutdown, close, addresses and
 * the trace calls. Bytes move only through the connection's transport
 * (transport.h) and its receive buffer (buffer.h). Every waiting method
 * follows loop.h: try now; when the transport would block, loop_wait on its
 * fd for what it wants, with the method as continuation, its state kept on
 * the Lua stack or in the object.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <lauxlib.h>
#include <lua.h>

#include "args.h"
#include "buffer.h"
#include "conn.h"
#include "errwords.h"
#include "loop.h"
#include "net.h"
#include "netaux.h"
#include "sock.h"
#include "trace.h"
#include "transport.h"

#define CONN_MT "netlua.conn"
#define ALLCHUNK 65536    /* "a" reads grow the buffer by this much */

/* Connection flags. */
enum { SHUT_SEND = 1, SHUT_RECV = 2 };

/* A TCP connection. User value 1: its label for messages when made from a
   name ("host:port"); 2: the trace handler. */
struct conn {
  transport io;           /* io.fd -1 when closed */
  int shut;               /* SHUT_SEND | SHUT_RECV done */
  int tracing;            /* user value 2 is set */
  int announce;           /* traced from birth by net.trace: say "accepted"
                             before the first event unless connect did */
  int peerclosed;         /* the end of the stream was seen (and traced) */
  double timeout;         /* seconds per call, < 0 none */
  buffer buf;
  sock_addr local, peer;
};

/* ---- connection objects ---------------------------------------------- */


static const void *conn_mt;  /* the connection metatable of the state that opened
                                conn last: receive() per line is hot, so the check
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

conn *conn_new(lua_State *L, size_t linemax, double timeout) {
  conn *c = lua_newuserdatauv(L, sizeof *c, 2);
  memset(c, 0, sizeof *c);
  c->io.fd = -1;
  c->timeout = timeout;
  buffer_init(&c->buf, linemax);
  luaL_setmetatable(L, CONN_MT);
  if (trace_pushglobal(L)) {
    lua_setiuservalue(L, -2, 2);
    c->tracing = c->announce = 1;
  }
  return c;
}

void conn_attach(conn *c, const transport *io, const sock_addr *peer, const sock_addr *local) {
  c->io = *io;
  c->peer = *peer;
  if (local) c->local = *local;
  else sock_name(c->io.fd, 0, &c->local);
}

void conn_setlabel(lua_State *L, int idx) {
  lua_setiuservalue(L, idx, 1);
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

/* __gc: close once, quietly. */
static int conn_gc(lua_State *L) {
  conn_shut(L, checkconn(L, 1));
  return 0;
}

static void trace(lua_State *L, int idx, conn *c, const char *what, const char *data, size_t len);

/* __close: close once; the transcript says "closed" as for close(). */
static int conn_tbc(lua_State *L) {
  conn *c = checkconn(L, 1);
  if (c->io.fd >= 0) trace(L, 1, c, "close", NULL, 0);
  conn_shut(L, c);
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

/* Push "LOCAL -> PEER" (sep " <- ": PEER is on the left of the arrow's
   point, for an accepted connection). */
static const char *pushaddrs(lua_State *L, conn *c, const char *sep) {
  char a[SOCK_ADDRSTRLEN], b[SOCK_ADDRSTRLEN];
  return lua_pushfstring(L, "%s%s%s", sock_format(&c->local, a, sizeof a), sep,
                         sock_format(&c->peer, b, sizeof b));
}

/* Call the trace handler (user value 2) of the connection at idx (an
   absolute index) with what happened and the value at the top, popped:
   the data (passed as it is, never copied) or nil. A connection traced
   from birth that connect did not announce (an accepted one) says
   "accepted" first. */
static void trace_top(lua_State *L, int idx, conn *c, const char *what) {
  if (c->announce && c->peer.len) {
    c->announce = 0;
    pushaddrs(L, c, " <- ");
    trace_top(L, idx, c, "accepted");
  }
  if (lua_getiuservalue(L, idx, 2) != LUA_TFUNCTION) { lua_pop(L, 2); return; }
  lua_pushstring(L, what);
  lua_rotate(L, -3, -1);  /* handler, what, data */
  lua_pushvalue(L, idx);
  lua_call(L, 3, 0);
}

/* Trace what happened, with len bytes of data (NULL: none), if traced. */
static void trace(lua_State *L, int idx, conn *c, const char *what, const char *data, size_t len) {
  if (!c->tracing) return;
  idx = lua_absindex(L, idx);
  if (data) lua_pushlstring(L, data, len); else lua_pushnil(L);
  trace_top(L, idx, c, what);
}

void conn_trace(lua_State *L, int idx, const char *what, const char *data, size_t len) {
  conn *c = lua_touserdata(L, idx);
  if (!strcmp(what, "connected")) c->announce = 0;  /* connect announces itself */
  if (!strcmp(what, "connected") && data == NULL) {
    pushaddrs(L, c, " -> ");
    trace(L, idx, c, what, lua_tostring(L, -1), lua_rawlen(L, -1));
    lua_pop(L, 1);
    return;
  }
  trace(L, idx, c, what, data, len);
}

/* Trace the end of the stream, once. */
static void trace_peerclosed(lua_State *L, conn *c) {
  if (c->peerclosed) return;
  c->peerclosed = 1;
  trace(L, 1, c, "peerclosed", NULL, 0);
}

/* Trace a failed transfer of errno e (the data moved before it, if any,
   is traced by the caller first): "reset" or the end of the stream. */
static void trace_errno(lua_State *L, conn *c, int e) {
  if (e == ECONNRESET) trace(L, 1, c, "reset", NULL, 0);
  else if (e == EPIPE) trace_peerclosed(L, c);
}

/* Trace what receive is about to return (the string at the top, not a
   copy of it: a partial line can be as long as the line limit). */
static void trace_received(lua_State *L, conn *c) {
  if (!c->tracing) return;
  lua_pushvalue(L, -1);
  trace_top(L, 1, c, "receive");
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

/* __tostring: "tcp connection LOCAL -> PEER (open|closed)"; "tls ..." over
   TLS, with the transport's note ("open, NOT VERIFIED"); "open, closed by
   peer" once the peer's end of stream was seen. */
static int conn_tostring(lua_State *L) {
  conn *c = checkconn(L, 1);
  char a[SOCK_ADDRSTRLEN], b[SOCK_ADDRSTRLEN];
  const char *state = c->io.fd < 0 ? "closed" : c->shut == (SHUT_SEND | SHUT_RECV) ? "shut down"
                    : c->shut == SHUT_SEND ? "open, sending shut down"
                    : c->shut == SHUT_RECV ? "open, receiving shut down" : "open";
  const char *kind = c->io.ops ? c->io.ops->kind : "tcp";  /* "tls" over TLS */
  const char *note = c->io.fd >= 0 && c->io.note ? c->io.note : NULL;  /* "NOT VERIFIED" */
  const char *peer = c->io.fd >= 0 && c->peerclosed ? ", closed by peer" : "";
  if (c->peer.len == 0) {
    lua_pushfstring(L, "%s connection (%s%s)", kind, state, peer);
    return 1;
  }
  lua_pushfstring(L, "%s connection %s -> %s (%s%s%s%s)", kind, sock_format(&c->local, a, sizeof a),
                  sock_format(&c->peer, b, sizeof b), state, peer, note ? ", " : "", note ? note : "");
  return 1;
}

/* conn:getpeername() -> host, port. */
static int conn_getpeername(lua_State *L) {
  conn *c = checkconn(L, 1);
  return c->io.fd < 0 ? net_closed(L) : args_pushaddr(L, &c->peer);
}

/* conn:getsockname() -> host, port. */
static int conn_getsockname(lua_State *L) {
  conn *c = checkconn(L, 1);
  return c->io.fd < 0 ? net_closed(L) : args_pushaddr(L, &c->local);
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

/* The interrupted-send rule. A send that has to wait puts a guard
   (netaux.h) in a to-be-closed slot of its frame (slot 7). If an error
   unwinds the send while it waits (Ctrl-C's "interrupted!"), the guard
   closes the connection: part of the data may have gone and the count
   cannot be returned, so the stream is in an unknown state. A send that
   ends (all sent, timeout, error returned) disarms it. A receive has no
   guard: an interrupted receive leaves the connection open and the data
   read so far buffered. */
enum { SEND_GUARD = 7 };

/* The undo of a send's guard: close the connection (at 1) if an error (at
   2) unwinds the send; a cancelled task's send leaves it to its owner. */
static int send_undo(lua_State *L) {
  if (!lua_isnil(L, 2)) conn_shut(L, lua_touserdata(L, 1));
  return 0;
}

/* nil, err, last: the end of a send that did not send everything (nil
   and err at the top); last is the index of the last byte sent (data is
   sent from index first + 1). The transcript shows the part that went,
   then why the rest did not: errno e, or 0 for a timeout. */
static int send_fail(lua_State *L, conn *c, size_t sent, int e) {
  size_t first = (size_t)lua_tointeger(L, 5), len = (size_t)lua_tointeger(L, 6) - first;
  if (c->tracing) {
    const char *data = lua_tostring(L, 2) + first;
    if (sent) trace(L, 1, c, "send", data, sent);
    if (e == 0) {
      lua_pushfstring(L, "timeout sending (%I of %I bytes sent)", (lua_Integer)sent, (lua_Integer)len);
      trace(L, 1, c, "timeout", lua_tostring(L, -1), lua_rawlen(L, -1));
      lua_pop(L, 1);
    }
    trace_errno(L, c, e);
  }
  lua_pushinteger(L, (lua_Integer)(first + sent));
  return 3;
}

/* send continuation. Stack: conn, data, deadline, bytes sent so far,
   first (bytes of data skipped), end (offset after the last byte to
   send), [guard]. */
static int send_k(lua_State *L, int status, lua_KContext ctx) {
  conn *c = lua_touserdata(L, 1);
  size_t sent = (size_t)lua_tointeger(L, 4), first = (size_t)lua_tointeger(L, 5);
  size_t len = (size_t)lua_tointeger(L, 6) - first;
  const char *data = lua_tostring(L, 2) + first;
  double deadline = lua_tonumber(L, 3);
  (void)status;
  for (;;) {
    ssize_t n;
    int e;
    if (c->io.fd < 0) {
      net_guard_disarm(L, SEND_GUARD);
      net_closed(L);
      return send_fail(L, c, sent, -1);
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
        net_guard_disarm(L, SEND_GUARD);
        net_timeout(L);
        return send_fail(L, c, sent, 0);
      }
      if (lua_gettop(L) < SEND_GUARD) net_guard_push(L, 1, send_undo);
      loop_wait(L, c->io.fd, waitfor(&c->io), deadline, ctx, send_k);
      continue;
    }
    net_guard_disarm(L, SEND_GUARD);
    if (e == EPIPE) {
      net_closed(L);
    } else {
      pushlabel(L, 1, c);
      net_fail(L, "send %s: %s", lua_tostring(L, -1), net_strerror(e));
    }
    return send_fail(L, c, sent, e);
  }
  net_guard_disarm(L, SEND_GUARD);
  if (len) trace(L, 1, c, "send", data, len);
  lua_pushinteger(L, (lua_Integer)(first + len));
  return 1;
}

/* conn:send(data [, i [, j]]) -> index of the last byte sent (with i
   and j as in string.sub; without them, #data: the bytes sent), or nil,
   err, index of the last byte sent. */
static int conn_send(lua_State *L) {
  conn *c = checkconn(L, 1);
  size_t len;
  lua_Integer i, j;
  luaL_checklstring(L, 2, &len);
  args_optrange(L, 3, len, &i, &j);
  lua_settop(L, 2);
  lua_pushnumber(L, loop_deadline(c->timeout));
  lua_pushinteger(L, 0);
  lua_pushinteger(L, i - 1);
  lua_pushinteger(L, j);
  return send_k(L, 0, 0);
}

/* ---- receive --------------------------------------------------------- */

/* Push what the buffer can give for the pattern now and consume it:
   1 done (result pushed), 0 more data needed, -1 line too long. */
static int take(lua_State *L, conn *c, int kind, size_t count) {
  buffer *b = &c->buf;
  size_t len, eol;
  int r;
  switch (kind) {
    case ARGS_PAT_COUNT:
      if (buffer_len(b) < count) return 0;
      lua_pushlstring(L, buffer_data(b), count);
      buffer_consume(b, count);
      return 1;
    case ARGS_PAT_ALL:
      return 0;
    default:
      r = buffer_line(b, &len, &eol);
      if (r == BUFFER_MORE) return 0;
      if (r == BUFFER_LONG) return -1;
      lua_pushlstring(L, buffer_data(b), kind == ARGS_PAT_LINE ? len - eol : len);
      buffer_consume(b, len);
      return 1;
  }
}

/* Push nil, msg, partial (at most maxpartial bytes of what is buffered,
   consumed); returns 3. For lines() (ctx 1): end of stream gives the
   partial line or nothing, and other errors are raised, the data left
   buffered. The transcript shows the partial (the string returned: one
   copy of the buffer, however long the line), then event `ev` (NULL:
   none) with `evdata`. */
static int recv_fail(lua_State *L, conn *c, const char *msg, size_t maxpartial, lua_KContext ctx,
                     const char *ev, const char *evdata) {
  size_t n = buffer_len(&c->buf);
  int keep = ctx == 1 && strcmp(msg, "closed") != 0;
  if (n > maxpartial) n = maxpartial;
  if (!keep || (c->tracing && n)) lua_pushlstring(L, n ? buffer_data(&c->buf) : "", n);
  if (!keep) buffer_consume(&c->buf, n);
  if (c->tracing) {
    if (n) trace_received(L, c);
    if (ev && !strcmp(ev, "peerclosed")) trace_peerclosed(L, c);
    else if (ev) trace(L, 1, c, ev, evdata, evdata ? strlen(evdata) : 0);
  }
  if (ev && !strcmp(ev, "peerclosed")) c->peerclosed = 1;  /* tostring says so */
  if (keep) return luaL_error(L, "%s", msg);
  if (ctx == 1) return n ? 1 : 0;
  lua_pushnil(L);
  lua_pushstring(L, msg);
  net_notice(L, msg);
  lua_rotate(L, -3, -1);  /* nil, msg, partial */
  return 3;
}

/* How many unread bytes the buffer should be able to hold for the next
   read: a byte count grows the buffer as data arrives (at most a chunk
   beyond what came), never by the count asked for up front. */
static size_t want(conn *c, int kind, size_t count) {
  size_t have = buffer_len(&c->buf);
  if (kind == ARGS_PAT_COUNT) return count - have < ALLCHUNK ? count : have + ALLCHUNK;
  if (kind == ARGS_PAT_ALL) return have + ALLCHUNK;
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

/* Push and return what a receive of `kind` waited for, for the
   transcript's timeout line. */
static const char *waiting(lua_State *L, int kind, size_t count) {
  if (kind == ARGS_PAT_COUNT) return lua_pushfstring(L, "timeout waiting for %I bytes", (lua_Integer)count);
  return lua_pushstring(L, kind == ARGS_PAT_ALL ? "timeout waiting for the end of the stream"
                                                : "timeout waiting for a line");
}

/* receive continuation. Stack: conn, pattern, deadline. ctx 1: lines(). */
static int recv_k(lua_State *L, int status, lua_KContext ctx) {
  conn *c = lua_touserdata(L, 1);
  double deadline = lua_tonumber(L, 3);
  size_t count = 0;
  int kind = args_checkpattern(L, 2, &count);
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
    if (r < 0) {  /* the partial is the first linemax bytes; the rest stays buffered */
      r = recv_fail(L, c, "line too long", c->buf.linemax, ctx, NULL, NULL);
      buffer_trim(&c->buf);  /* the block the line grew goes back */
      return r;
    }
    n = fill(c, want(c, kind, count));
    if (n > 0) continue;
    if (n == 0) {
      if (kind != ARGS_PAT_ALL) return recv_fail(L, c, "closed", (size_t)-1, ctx, "peerclosed", NULL);
      lua_pushlstring(L, buffer_len(&c->buf) ? buffer_data(&c->buf) : "", buffer_len(&c->buf));
      buffer_consume(&c->buf, buffer_len(&c->buf));
      if (lua_rawlen(L, -1)) trace_received(L, c);
      trace_peerclosed(L, c);
      return 1;
    }
    e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK) {
      if (loop_expired(deadline))
        return recv_fail(L, c, "timeout", (size_t)-1, ctx, "timeout", waiting(L, kind, count));
      loop_wait(L, c->io.fd, waitfor(&c->io), deadline, ctx, recv_k);
      continue;
    }
    pushlabel(L, 1, c);
    lua_pushfstring(L, "receive %s: %s", lua_tostring(L, -1), net_strerror(e));
    return recv_fail(L, c, lua_tostring(L, -1), (size_t)-1, ctx, e == ECONNRESET ? "reset" : "error",
                     e == ECONNRESET ? NULL : lua_tostring(L, -1));
  }
}

/* conn:receive([pattern]) -> data, or nil, err, partial. */
static int conn_receive(lua_State *L) {
  conn *c = checkconn(L, 1);
  size_t count = 0;
  int kind = args_checkpattern(L, 2, &count);
  if (c->io.fd >= 0 && kind != ARGS_PAT_ALL && take(L, c, kind, count) > 0) {  /* fast path */
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

/* conn:settrace(handler | nil | false): handler(what, data, conn) is
   called after each send and receive and at each event (see
   lua/net/transcript.lua for the list; the Lua side formats). */
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

void conn_sethandler(lua_State *L, int idx) {
  conn *c = lua_touserdata(L, idx);
  c->tracing = lua_isfunction(L, -1);
  if (!c->tracing) { lua_pop(L, 1); lua_pushnil(L); }
  lua_setiuservalue(L, idx, 2);
}

/* conn:gettimeout() -> seconds or nil. */
static int conn_gettimeout(lua_State *L) {
  conn *c = checkconn(L, 1);
  if (c->timeout < 0) lua_pushnil(L); else lua_pushnumber(L, c->timeout);
  return 1;
}

/* The methods written in Lua (lua/net/connmethods.lua, embedded as
   package.preload["net.connmethods"]) join the method table at the top;
   `net` is the module's table; they also get the transcript builder of
   trace.c (trace_pushbuilder), which is no part of net. The preload entry is then taken out: those
   methods are the connection's, not a part of net. */
static void add_lua_methods(lua_State *L, int net) {
  int methods = lua_absindex(L, -1);
  net = lua_absindex(L, net);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  if (lua_getfield(L, -1, "net.connmethods") != LUA_TFUNCTION)
    luaL_error(L, "net.connmethods is not embedded");
  lua_pushliteral(L, "net.connmethods");
  lua_call(L, 1, 1);
  lua_pushvalue(L, methods);
  lua_pushvalue(L, net);
  trace_pushbuilder(L);
  lua_call(L, 3, 0);
  lua_pushnil(L);
  lua_setfield(L, -2, "net.connmethods");
  lua_pop(L, 1);
}

void conn_open(lua_State *L) {
  static const luaL_Reg conn_m[] = {
    {"send", conn_send}, {"receive", conn_receive}, {"lines", conn_lines},
    {"close", conn_close}, {"shutdown", conn_shutdown},
    {"settimeout", conn_settimeout}, {"gettimeout", conn_gettimeout},
    {"setlinelimit", conn_setlinelimit}, {"settrace", conn_settrace},
    {"getpeername", conn_getpeername}, {"getsockname", conn_getsockname},
    {NULL, NULL}};
  trace_open(L);
  net_newclass(L, CONN_MT, conn_m, conn_gc, conn_tostring);
  lua_pushcfunction(L, conn_tbc);
  lua_setfield(L, -2, "__close");
  lua_getfield(L, -1, "__index");
  add_lua_methods(L, -3);
  lua_pop(L, 1);
  conn_mt = lua_topointer(L, -1);
  lua_pop(L, 1);
}

/* ---- accessors for forward.c (see conn.h) ---------------------------- */

conn *conn_check(lua_State *L, int arg) {
  return checkconn(L, arg);
}

transport *conn_transport(conn *c) {
  return &c->io;
}

buffer *conn_buffer(conn *c) {
  return &c->buf;
}

int conn_traced(const conn *c) {
  return c->tracing;
}

/* ---- for TLS (tlsconn.c), see conn.h ---------------------------------- */

double conn_timeout(lua_State *L, int idx) {
  return checkconn(L, idx)->timeout;
}

const sock_addr *conn_peer(const conn *c) {
  return &c->peer;
}

const char *conn_pushlabel(lua_State *L, int idx, const sock_addr **peer) {
  conn *c = checkconn(L, idx);
  if (peer) *peer = &c->peer;
  return pushlabel(L, idx, c);
}
