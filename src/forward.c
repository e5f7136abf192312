/*
 * forward.c: moving a stream from one connection to another, the relay's
 * primitive: conn:forward(other [, timeout]) and conn:reset(). Added to the
 * connection's methods by forward_open (see forward.h).
 *
 * conn:forward(other) moves everything conn receives to other until conn's
 * peer half-closes, then shuts down other's sending side. It waits through
 * the loop (loop.h) like receive: in a task it yields. Two ways to move:
 *   - splice: both connections plain sockets, neither traced, conn's
 *     receive buffer empty: splice(2) socket -> pipe -> socket, the bytes
 *     never enter user space (nor Lua);
 *   - copy: otherwise (a trace handler wants to see the bytes, or a
 *     transport that is not a plain socket, e.g. TLS later): read through
 *     conn's transport into its receive buffer, write through other's, and
 *     tell the trace handlers ("receive" on conn, "send" on other).
 * Bytes already in conn's receive buffer (read by an earlier receive) go
 * first, so nothing is lost or reordered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "args.h"
#include "buffer.h"
#include "conn.h"
#include "errwords.h"
#include "forward.h"
#include "loop.h"
#include "netaux.h"
#include "plain.h"

#define FORWARD_MT "netlua.forward"
#define PIPE_WANT (1024 * 1024)    /* pipe size asked for the splice path */
#define COPY_CHUNK 65536           /* reads of the copy path */
#define BURST (16 * 1024 * 1024)   /* bytes moved before letting others run */

/* The state of one forward call, kept in a userdata on its stack so that
   it survives yields; its __gc closes the pipe if the call never ends
   (a cancelled task). */
typedef struct fwd {
  int pipe[2];           /* -1 until the splice path needs it */
  size_t cap;            /* the pipe's size */
  size_t pending;        /* bytes in the pipe */
  lua_Integer total;     /* bytes written to other */
  size_t burst;          /* bytes moved since the last wait */
  int eof;               /* conn's peer has half-closed */
  int nosplice;          /* splice refused: copy instead */
} fwd;

/* What one step did. */
enum { STEP_MORE, STEP_BLOCK, STEP_DONE, STEP_ERROR };

/* Close the pipe of f, if any. */
static void fwd_release(fwd *f) {
  if (f->pipe[0] >= 0) {
    close(f->pipe[0]);
    close(f->pipe[1]);
    f->pipe[0] = f->pipe[1] = -1;
  }
}

/* __gc of the state. */
static int fwd_gc(lua_State *L) {
  fwd_release(luaL_checkudata(L, 1, FORWARD_MT));
  return 0;
}

/* True when t is the plain transport (compared with a fresh plain one). */
static int is_plain(const transport *t) {
  transport p;
  plain_init(&p, -1);
  return t->ops == p.ops;
}

/* What to wait for on t's fd after it said EAGAIN. */
static int waitfor(const transport *t) {
  return t->want == TRANSPORT_READ ? LOOP_READ : LOOP_WRITE;
}

/* Push nil, "VERB LABEL: reason" (or "closed" for a peer gone while
   sending), the bytes moved and the side ("receive" or "send"); returns
   STEP_ERROR. idx: the connection that failed. */
static int fail(lua_State *L, fwd *f, int idx, const char *verb, int e) {
  lua_pushnil(L);
  if (e == EPIPE) lua_pushliteral(L, "closed");
  else {
    const char *label = conn_pushlabel(L, idx, NULL);
    lua_pushfstring(L, "%s %s: %s", verb, label, net_strerror(e));
    lua_remove(L, -2);
  }
  lua_pushinteger(L, f->total);
  lua_pushstring(L, verb);
  return STEP_ERROR;
}

/* Write what conn's buffer holds to other (copy path, and the bytes an
   earlier receive left). */
static int step_flush(lua_State *L, fwd *f, buffer *b, transport *oi, int *fd, int *ev) {
  ssize_t n = oi->ops->write(oi, buffer_data(b), buffer_len(b));
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return fail(L, f, 2, "send", errno);
    *fd = oi->fd;
    *ev = waitfor(oi);
    return STEP_BLOCK;
  }
  if (conn_traced(lua_touserdata(L, 2))) conn_trace(L, 2, "send", buffer_data(b), (size_t)n);
  buffer_consume(b, (size_t)n);
  f->total += n;
  f->burst += (size_t)n;
  return STEP_MORE;
}

/* Read once from conn into its buffer (copy path). */
static int step_read(lua_State *L, fwd *f, buffer *b, transport *ci, int *fd, int *ev) {
  size_t room;
  char *p = buffer_reserve(b, buffer_len(b) + COPY_CHUNK, &room);
  ssize_t n;
  if (p == NULL) return fail(L, f, 1, "receive", ENOMEM);
  n = ci->ops->read(ci, p, room);
  if (n == 0) {
    f->eof = 1;
    return STEP_DONE;
  }
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return fail(L, f, 1, "receive", errno);
    *fd = ci->fd;
    *ev = waitfor(ci);
    return STEP_BLOCK;
  }
  buffer_commit(b, (size_t)n);
  if (conn_traced(lua_touserdata(L, 1))) conn_trace(L, 1, "receive", p, (size_t)n);
  return STEP_MORE;
}

/* Make the pipe of the splice path; 0, or -1 with errno. */
static int fwd_pipe(fwd *f) {
  int sz;
  if (pipe2(f->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
    f->pipe[0] = f->pipe[1] = -1;
    return -1;
  }
  (void)fcntl(f->pipe[1], F_SETPIPE_SZ, PIPE_WANT);  /* a smaller pipe works too */
  sz = fcntl(f->pipe[1], F_GETPIPE_SZ);
  f->cap = sz > 0 ? (size_t)sz : 65536;
  return 0;
}

/* One round of the splice path: socket -> pipe while the pipe has room
   (unless drain: only empty the pipe), pipe -> socket while it holds
   bytes. */
static int step_splice(lua_State *L, fwd *f, int cfd, int ofd, int drain, int *fd, int *ev) {
  const unsigned flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
  int moved = 0;
  ssize_t n;
  if (f->pipe[0] < 0 && fwd_pipe(f) != 0) return fail(L, f, 1, "receive", errno);
  if (!drain && !f->eof && f->pending < f->cap) {
    n = splice(cfd, NULL, f->pipe[1], NULL, f->cap - f->pending, flags);
    if (n > 0) { f->pending += (size_t)n; moved = 1; }
    else if (n == 0) f->eof = 1;
    else if (errno == EINVAL && f->pending == 0) { f->nosplice = 1; return STEP_MORE; }
    else if (errno == EINTR) moved = 1;
    else if (errno != EAGAIN) return fail(L, f, 1, "receive", errno);
  }
  if (f->pending > 0) {
    n = splice(f->pipe[0], NULL, ofd, NULL, f->pending, flags);
    if (n > 0) {
      f->pending -= (size_t)n;
      f->total += n;
      f->burst += (size_t)n;
      moved = 1;
    } else if (n < 0 && errno == EINTR) moved = 1;
    else if (n < 0 && errno != EAGAIN) return fail(L, f, 2, "send", errno);
  }
  if (f->eof && f->pending == 0) return STEP_DONE;
  if (moved || (drain && f->pending == 0)) return STEP_MORE;
  /* bytes waiting in the pipe: the writer is what is stuck (a read may
     also say EAGAIN because the pipe is full) */
  *fd = f->pending > 0 ? ofd : cfd;
  *ev = f->pending > 0 ? LOOP_WRITE : LOOP_READ;
  return STEP_BLOCK;
}

/* One step of the forward: flush the buffer, splice, or copy. */
static int step(lua_State *L, fwd *f, int *fd, int *ev) {
  conn *c = lua_touserdata(L, 1), *o = lua_touserdata(L, 2);
  transport *ci = conn_transport(c), *oi = conn_transport(o);
  buffer *b = conn_buffer(c);
  if (buffer_len(b) > 0) return step_flush(L, f, b, oi, fd, ev);
  if (f->eof) return STEP_DONE;
  if (!f->nosplice && !conn_traced(c) && !conn_traced(o) && is_plain(ci) && is_plain(oi))
    return step_splice(L, f, ci->fd, oi->fd, 0, fd, ev);
  if (f->pending > 0)  /* a trace began mid-way: the pipe drains first */
    return step_splice(L, f, ci->fd, oi->fd, 1, fd, ev);
  return step_read(L, f, b, ci, fd, ev);
}

/* The end of a forward: conn's peer half-closed and everything went, so
   other's sending side is shut down (through its method: traced). */
static int forward_done(lua_State *L, fwd *f) {
  fwd_release(f);
  lua_getfield(L, 2, "shutdown");
  lua_pushvalue(L, 2);
  lua_pushliteral(L, "send");
  lua_call(L, 2, 0);
  lua_pushinteger(L, f->total);
  return 1;
}

/* forward continuation. Stack: conn, other, deadline, state. */
static int forward_k(lua_State *L, int status, lua_KContext ctx) {
  conn *c = lua_touserdata(L, 1), *o = lua_touserdata(L, 2);
  double deadline = lua_tonumber(L, 3);
  fwd *f = lua_touserdata(L, 4);
  (void)status;
  for (;;) {
    int fd = -1, ev = 0, r;
    if (conn_transport(c)->fd < 0 || conn_transport(o)->fd < 0) {
      fwd_release(f);
      lua_pushnil(L);
      lua_pushliteral(L, "closed");
      lua_pushinteger(L, f->total);
      lua_pushstring(L, conn_transport(c)->fd < 0 ? "receive" : "send");
      return 4;
    }
    r = step(L, f, &fd, &ev);
    if (r == STEP_DONE) return forward_done(L, f);
    if (r == STEP_ERROR) {
      fwd_release(f);
      return 4;
    }
    if (r == STEP_MORE) {
      if (f->burst < BURST) continue;
      fd = -1, ev = 0;  /* a long run: let the others have a turn */
    }
    f->burst = 0;
    if (r == STEP_BLOCK && loop_expired(deadline)) {
      fwd_release(f);
      lua_pushnil(L);
      lua_pushliteral(L, "timeout");
      lua_pushinteger(L, f->total);
      lua_pushstring(L, fd == conn_transport(c)->fd ? "receive" : "send");
      return 4;
    }
    loop_wait(L, fd, ev, fd < 0 ? loop_now() : deadline, ctx, forward_k);
  }
}

/* conn:forward(other [, timeout]) -> bytes moved, or nil, message, bytes
   moved, side ("receive": conn failed, "send": other failed). */
static int conn_forward(lua_State *L) {
  conn *c = conn_check(L, 1);
  double t;
  fwd *f;
  conn_check(L, 2);
  t = args_checktimeout(L, 3, -1);
  luaL_argcheck(L, lua_touserdata(L, 1) != lua_touserdata(L, 2), 2, "cannot forward a connection to itself");
  lua_settop(L, 2);
  lua_pushnumber(L, loop_deadline(t));
  f = lua_newuserdatauv(L, sizeof *f, 0);
  memset(f, 0, sizeof *f);
  f->pipe[0] = f->pipe[1] = -1;
  luaL_setmetatable(L, FORWARD_MT);
  if (conn_transport(c)->fd >= 0 && conn_traced(c) && buffer_len(conn_buffer(c)) > 0)
    conn_trace(L, 1, "receive", buffer_data(conn_buffer(c)), buffer_len(conn_buffer(c)));
  return forward_k(L, 0, 0);
}

/* conn:reset() -> true, or nil, "closed": close at once with a reset (RST,
   SO_LINGER 0) instead of an orderly end; unsent data is dropped. */
static int conn_reset(lua_State *L) {
  conn *c = conn_check(L, 1);
  struct linger lg = {1, 0};
  if (conn_transport(c)->fd < 0) return net_closed(L);
  (void)setsockopt(conn_transport(c)->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  lua_getfield(L, 1, "close");
  lua_pushvalue(L, 1);
  lua_call(L, 1, LUA_MULTRET);
  return lua_gettop(L) - 1;
}

void forward_open(lua_State *L) {
  if (luaL_newmetatable(L, FORWARD_MT)) {
    lua_pushcfunction(L, fwd_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  if (luaL_getmetatable(L, "netlua.conn") == LUA_TTABLE &&
      lua_getfield(L, -1, "__index") == LUA_TTABLE) {
    lua_pushcfunction(L, conn_forward);
    lua_setfield(L, -2, "forward");
    lua_pushcfunction(L, conn_reset);
    lua_setfield(L, -2, "reset");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}
