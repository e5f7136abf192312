/*
 * connect.c: net.connect(host, port [, opts]) -> conn, or nil, message.
 * Every address of the name is tried, Happy Eyeballs style (the next
 * attempt starts after STAGGER seconds or as soon as one fails, the first
 * to connect wins), within one deadline for the whole call (resolution
 * included); when all fail, the message names each address and why. The
 * winner becomes a connection (conn.h) over the plain transport; with
 * opts.tls the TLS handshake follows within the same deadline (tlsconn.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "args.h"
#include "conn.h"
#include "errwords.h"
#include "loop.h"
#include "net.h"
#include "netaux.h"
#include "plain.h"
#include "sock.h"
#include "trace.h"
#include "tlsconn.h"

#define STAGGER 0.25      /* Happy Eyeballs: next attempt after this */

/* One address being tried. */
typedef struct attempt {
  sock_addr addr;
  int fd;                 /* -1: not started or finished */
  int err;                /* why it failed (0: not failed) */
} attempt;

/* The attempts of one net.connect: a userdata in a to-be-closed slot of
   the call (C_SET), which owns every attempt's fd until the winner's is
   handed to the connection. An error that unwinds the call while it waits
   (Ctrl-C's "interrupted!") or its task cancelled closes them at once, as
   the interrupted-send rule does for send (conn.c); collection too. */
typedef struct connset {
  int n, next, inflight, done;
  int epfd;               /* watches every attempt when several run */
  double next_start;
  sock_addr local;        /* opts.localaddr, if local.len */
  int localport;          /* opts.localport alone: bind the wildcard */
  attempt a[];
} connset;

/* Stack of net.connect: 1 host, 2 port, 3 opts, 4 conn, 5 deadline,
   6 label, 7 connset (after resolution). */
enum { C_HOST = 1, C_PORT, C_OPTS, C_CONN, C_DEADLINE, C_LABEL, C_SET };

/* The end of a failed connect, nil and the message at the top: the
   transcript's event `what` with the message; returns 2. */
static int failed(lua_State *L, const char *what) {
  conn_trace(L, C_CONN, what, lua_tostring(L, -1), lua_rawlen(L, -1));
  return 2;
}

/* nil, "timeout", after the transcript's "timeout" naming the target. */
static int timedout(lua_State *L) {
  lua_pushfstring(L, "connect %s: timeout", lua_tostring(L, C_LABEL));
  conn_trace(L, C_CONN, "timeout", lua_tostring(L, -1), lua_rawlen(L, -1));
  lua_pop(L, 1);
  net_timeout(L);
  return 2;
}

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

/* __gc and __close of a connset: close what it still holds. */
static int cs_gc(lua_State *L) {
  connset *s = lua_touserdata(L, 1);
  if (!s->done) cs_cleanup(L, s, -1);
  return 0;
}

/* Push a new connset for n addresses, to be closed with the call's frame. */
static connset *cs_new(lua_State *L, int n) {
  connset *s = lua_newuserdatauv(L, sizeof *s + (size_t)n * sizeof(attempt), 0);
  memset(s, 0, sizeof *s);
  s->epfd = -1;
  s->n = n;
  for (int i = 0; i < n; i++) s->a[i].fd = -1;
  if (luaL_newmetatable(L, "netlua.connset")) {
    lua_pushcfunction(L, cs_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, cs_gc);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  lua_toclose(L, -1);
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

/* The transcript's word for one attempt that failed with errno e. */
static const char *attempt_word(int e) {
  if (e == EHOSTUNREACH || e == EADDRNOTAVAIL || e == ENETUNREACH) return "unreachable";
  return e == ECONNREFUSED ? "refused" : e == ETIMEDOUT ? "timeout" : "failed";
}

/* An attempt failed: record why, close it, let the next one start now.
   With several addresses the transcript says which one failed and why
   ("::1: connection refused"); the last word is cs_fail's. */
static void cs_failed(lua_State *L, connset *s, int i, int err) {
  s->a[i].err = err ? err : ECONNREFUSED;
  if (s->n > 1) {
    char addr[SOCK_ADDRSTRLEN];
    lua_pushfstring(L, "%s: %s", sock_ntop(&s->a[i].addr, addr, sizeof addr), net_strerror(s->a[i].err));
    conn_trace(L, C_CONN, attempt_word(s->a[i].err), lua_tostring(L, -1), lua_rawlen(L, -1));
    lua_pop(L, 1);
  }
  if (s->a[i].fd >= 0) {
    loop_close_fd(L, s->a[i].fd);
    s->a[i].fd = -1;
    s->inflight--;
  }
  s->next_start = loop_now();
}

/* Start attempt i; the transcript says "connecting" first. */
static void cs_start(lua_State *L, connset *s, int i) {
  attempt *a = &s->a[i];
  char addr[SOCK_ADDRSTRLEN];
  int fd, r;
  lua_pushfstring(L, "%s (%s)", lua_tostring(L, C_LABEL), sock_ntop(&a->addr, addr, sizeof addr));
  conn_trace(L, C_CONN, "connecting", lua_tostring(L, -1), lua_rawlen(L, -1));
  lua_pop(L, 1);
  fd = sock_socket(a->addr.u.sa.sa_family, SOCK_STREAM);
  if (fd < 0) { cs_failed(L, s, i, errno); return; }
  if (s->local.len || s->localport) {
    sock_addr l = s->local;
    if (!l.len) sock_any(a->addr.u.sa.sa_family, s->localport, &l);
    if (l.u.sa.sa_family != a->addr.u.sa.sa_family) {
      close(fd);
      cs_failed(L, s, i, EAFNOSUPPORT);
      return;
    }
    if ((r = sock_bind(fd, &l, !s->local.len, -1)) != 0) { close(fd); cs_failed(L, s, i, r); return; }
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

/* The transcript's word for a connect whose attempts failed: "refused",
   "unreachable", "timeout" when every one did so, else "failed". */
static const char *cs_word(const connset *s) {
  int e = 0;
  for (int i = 0; i < s->n; i++) {
    int x = s->a[i].err;
    if (x == EHOSTUNREACH || x == EADDRNOTAVAIL) x = ENETUNREACH;
    if (!x) continue;
    if (e && x != e) return "failed";
    e = x;
  }
  return e == ECONNREFUSED ? "refused" : e == ENETUNREACH ? "unreachable"
       : e == ETIMEDOUT ? "timeout" : "failed";
}

/* nil and the message of a connect where every attempt failed. Stack:
   1 host, 2 port, ... label at LABEL. */
static int cs_fail(lua_State *L, connset *s, const char *label) {
  char addr[SOCK_ADDRSTRLEN];
  luaL_Buffer b;
  int nfailed = 0;
  for (int i = 0; i < s->n; i++) if (s->a[i].err) nfailed++;
  if (nfailed == 1 && s->n == 1) {
    net_fail(L, "connect %s (%s): %s", label, sock_ntop(&s->a[0].addr, addr, sizeof addr),
             net_strerror(s->a[0].err));
    return failed(L, cs_word(s));
  }
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
  return failed(L, cs_word(s));
}


/* The winner: hand its fd to the connection object and return it. */
static int cs_won(lua_State *L, connset *s, int i) {
  double deadline = lua_tonumber(L, C_DEADLINE);
  transport io;
  plain_init(&io, s->a[i].fd);
  s->a[i].fd = -1;
  cs_cleanup(L, s, -1);
  sock_nodelay(io.fd);
  conn_attach(lua_touserdata(L, C_CONN), &io, &s->a[i].addr, NULL);
  lua_pushvalue(L, C_LABEL);
  conn_setlabel(L, C_CONN);
  lua_closeslot(L, C_SET);  /* it holds nothing now; not by lua_settop (netaux.h) */
  lua_settop(L, C_CONN);
  conn_trace(L, C_CONN, "connected", NULL, 0);
  if (tlsconn_wanted(L, C_OPTS))  /* TLS hook: the handshake, same deadline */
    return tlsconn_connect(L, C_CONN, C_OPTS, C_HOST, deadline);
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
      return timedout(L);
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
   when localaddr is not given); a bad one raises an argument error naming
   it. Returns localport (0: none), which alone binds the wildcard of each
   attempt's family, as nc -p does. */
static int optlocal(lua_State *L, sock_addr *a) {
  size_t len;
  const char *la;
  int port = 0;
  memset(a, 0, sizeof *a);
  if (lua_type(L, C_OPTS) != LUA_TTABLE) return 0;
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
  return port;
}

/* Go on with n addresses in `addrs`: make the connset and run. */
static int connect_start(lua_State *L, const sock_addr *addrs, int n) {
  connset *s;
  lua_settop(L, C_LABEL);
  if (n == 0) {
    net_fail(L, "connect %s: no address%s", lua_tostring(L, C_LABEL),
             args_optfamily(L, C_OPTS) ? " of that family" : "");
    return failed(L, "failed");
  }
  s = cs_new(L, n);
  for (int i = 0; i < n; i++) s->a[i].addr = addrs[i];
  s->localport = optlocal(L, &s->local);
  lua_settop(L, C_SET);
  return connect_k(L, 0, 0);
}

/* After net.resolve: its results are at the top. */
static int resolved_k(lua_State *L, int status, lua_KContext ctx) {
  sock_addr addrs[ARGS_MAXADDRS];
  int n;
  (void)status; (void)ctx;
  n = args_take_resolved(L, args_checkdestport(L, C_PORT), args_optfamily(L, C_OPTS), addrs, ARGS_MAXADDRS);
  if (n < 0) {
    const char *msg = lua_tostring(L, -1);
    size_t ml = strlen(msg);
    double deadline = lua_tonumber(L, C_DEADLINE);
    /* the whole call's deadline passed while the name resolved (net.resolve
       was given what remained of it, and gave up on it): the same word as
       any other timeout of connect */
    if (!strcmp(msg, "timeout") || loop_expired(deadline) ||
        (deadline >= 0 && ml >= 9 && !strcmp(msg + ml - 9, ": timeout")))
      return timedout(L);
    net_fail(L, "connect %s: %s", lua_tostring(L, C_LABEL), msg);
    return failed(L, "failed");
  }
  return connect_start(L, addrs, n);
}

/* Options of net.connect. */
static const char *const connect_opts[] = {"timeout", "family", "localaddr", "localport", "linelimit",
                                           "trace", "tls", NULL};

/* opts.trace of net.connect: the handler of the connection at the top
   (false: none, even with net.trace on). Returns 1, or 0 with nil and a
   message pushed (a path that cannot be opened). */
static int opttrace(lua_State *L) {
  int conn = lua_gettop(L), t;
  if (lua_type(L, C_OPTS) != LUA_TTABLE || (t = lua_getfield(L, C_OPTS, "trace")) == LUA_TNIL) {
    if (lua_type(L, C_OPTS) == LUA_TTABLE) lua_pop(L, 1);
    return 1;
  }
  if (t == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
    lua_pushnil(L);
  } else {
    if (t != LUA_TBOOLEAN && t != LUA_TFUNCTION && t != LUA_TSTRING && t != LUA_TUSERDATA && t != LUA_TTABLE)
      luaL_argerror(L, C_OPTS, lua_pushfstring(L, "option 'trace' must be true, a function, a file or a path, got %s",
                                               luaL_typename(L, -1)));
    if (!trace_build(L, -1, 0)) return 0;
  }
  conn_sethandler(L, conn);
  lua_pop(L, 1);
  return 1;
}

/* net.connect(host, port [, opts]) -> conn, or nil, message. */
static int l_connect(lua_State *L) {
  const char *host = args_checkhost(L, C_HOST);
  int port = args_checkdestport(L, C_PORT), family, n;
  double timeout;
  sock_addr addrs[2];
  net_checkopts(L, C_OPTS, connect_opts);
  tlsconn_wanted(L, C_OPTS);  /* TLS hook: opts.tls checked before anything */
  family = args_optfamily(L, C_OPTS);
  timeout = args_opttimeout(L, C_OPTS);
  lua_settop(L, C_OPTS);
  optlocal(L, &addrs[0]);  /* checked now, before any resolution */
  conn_new(L, args_optlinelimit(L, C_OPTS), timeout);
  if (!opttrace(L)) return 2;
  lua_pushnumber(L, loop_deadline(timeout));
  args_pushhostport(L, host, port);
  n = args_literal(host, port, family, addrs, 2);
  if (n == -1 || (n >= 0 && strcasecmp(host, "localhost") == 0))  /* a name, not an IP literal */
    conn_trace(L, C_CONN, "resolving", host, strlen(host));
  if (n == -2) {
    net_fail(L, "connect %s: invalid address", lua_tostring(L, C_LABEL));
    return failed(L, "failed");
  }
  if (n >= 0) return connect_start(L, addrs, n);
  if (!args_push_resolve(L, host, C_OPTS, timeout))
    return net_fail(L, "connect %s: cannot resolve names yet", lua_tostring(L, C_LABEL));
  lua_callk(L, 2, 2, 0, resolved_k);
  return resolved_k(L, LUA_OK, 0);
}


void connect_open(lua_State *L) {
  lua_pushcfunction(L, l_connect);
  lua_setfield(L, -2, "connect");
}
