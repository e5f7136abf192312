/*
 * loop.c: the event loop of a Lua state: epoll for fds, a binary heap of
 * deadlines, waiters, a queue of waiters ready to run (the tasks of task.c,
 * through their `run` callback), and Ctrl-C. It knows nothing of what a
 * task is. See loop.h for the contract every waiting call follows.
 */
#define _GNU_SOURCE
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#define MAXPOLLERS 4
#define MAXEVENTS 256

typedef loop_waiter waiter;

/* What the loop knows of one fd. */
typedef struct fdent {
  int registered;        /* epoll mask currently registered */
  waiter *waiters;
  loop_fd_cb cb;
  void *ud;
  int cbevents;
} fdent;

typedef struct poller {
  loop_next_fn next;
  loop_poll_fn poll;
  void *ud;
} poller;

struct loop {
  lua_State *L;          /* main thread */
  int epfd;
  int closed;
  fdent *fds;
  int nfds;
  waiter **heap;
  int heapn, heapcap;
  waiter *rhead, *rtail; /* ready queue */
  waiter *mainwait;      /* innermost blocking wait */
  poller pollers[MAXPOLLERS];
  int npollers;
  loop_hook before, after;
  void *hookud;
  int sigwatched;
};

static char loop_key;
static char bound_key;  /* registry: lightuserdata(thread) -> lightuserdata(waiter) */

/* ---- Ctrl-C ---------------------------------------------------------- */

static volatile sig_atomic_t interrupted;
static int sigfds[2] = {-1, -1};
static lua_State *volatile running;  /* thread running Lua code now */

/* The hook set by the signal handler: raise inside running Lua code. In
   the main thread that is the whole interrupt; in a task the loop sees it
   too at its next turn, so that a handler that catches its error (a
   server's) does not swallow the Ctrl-C meant for the program: a script's
   server still stops, the prompt still gets it. */
static void stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  if (lua_pushthread(L)) interrupted = 0;
  lua_pop(L, 1);
  luaL_error(L, "interrupted!");
}

/* SIGINT: only set a flag and a hook, and wake epoll through a pipe. A
   second one while the first is still pending (code inside one long C
   call, where no hook runs and no wait looks) ends the program the way
   it ends lua5.4: by SIGINT itself, once this handler returns. */
static void on_sigint(int sig) {
  int saved = errno;
  if (interrupted) {
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  interrupted = 1;
  if (running)
    lua_sethook(running, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  if (sigfds[1] >= 0) {
    ssize_t r = write(sigfds[1], "!", 1);
    (void)r;
  }
  errno = saved;
}

void loop_install_sigint(lua_State *L) {
  struct sigaction sa;
  running = L;
  if (sigfds[0] < 0 && pipe2(sigfds, O_NONBLOCK | O_CLOEXEC) != 0)
    sigfds[0] = sigfds[1] = -1;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
}

void loop_uninstall_sigint(void) {
  signal(SIGINT, SIG_DFL);
}

/* Consume a pending interrupt: returns 1 if there was one. */
static int take_interrupt(lua_State *L) {
  if (!interrupted) {
    /* under stock lua, its handler only sets a hook on the main thread */
    if (sigfds[0] < 0 && lua_gethook(L) != NULL && lua_gethookmask(L) != 0 &&
        lua_gethookcount(L) == 1) {
      lua_sethook(L, NULL, 0, 0);
      return 1;
    }
    return 0;
  }
  interrupted = 0;
  if (lua_gethook(L) == stop_hook) lua_sethook(L, NULL, 0, 0);
  return 1;
}

/* ---- time ------------------------------------------------------------ */

double loop_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double loop_deadline(double timeout) {
  if (timeout < 0 || isnan(timeout)) return -1;
  return loop_now() + timeout;
}

int loop_expired(double deadline) {
  return deadline >= 0 && loop_now() >= deadline;
}

/* ---- the heap of deadlines ------------------------------------------- */

static void heap_set(loop *lp, int i, waiter *w) {
  lp->heap[i] = w;
  w->heapidx = i;
}

static void heap_up(loop *lp, int i) {
  waiter *w = lp->heap[i];
  while (i > 0) {
    int p = (i - 1) / 2;
    if (lp->heap[p]->deadline <= w->deadline) break;
    heap_set(lp, i, lp->heap[p]);
    i = p;
  }
  heap_set(lp, i, w);
}

static void heap_down(loop *lp, int i) {
  waiter *w = lp->heap[i];
  for (;;) {
    int c = 2 * i + 1;
    if (c >= lp->heapn) break;
    if (c + 1 < lp->heapn && lp->heap[c + 1]->deadline < lp->heap[c]->deadline) c++;
    if (w->deadline <= lp->heap[c]->deadline) break;
    heap_set(lp, i, lp->heap[c]);
    i = c;
  }
  heap_set(lp, i, w);
}

/* Room for one more deadline; -1 when out of memory. */
static int heap_reserve(loop *lp) {
  if (lp->heapn == lp->heapcap) {
    int cap = lp->heapcap ? lp->heapcap * 2 : 64;
    waiter **h = realloc(lp->heap, (size_t)cap * sizeof *h);
    if (!h) return -1;
    lp->heap = h;
    lp->heapcap = cap;
  }
  return 0;
}

/* Callers made room first (loop_reserve), so this cannot fail. */
static void heap_push(loop *lp, waiter *w) {
  if (heap_reserve(lp) != 0) abort();
  heap_set(lp, lp->heapn++, w);
  heap_up(lp, lp->heapn - 1);
}

static void heap_remove(loop *lp, waiter *w) {
  int i = w->heapidx;
  if (i < 0) return;
  w->heapidx = -1;
  lp->heapn--;
  if (i == lp->heapn) return;
  heap_set(lp, i, lp->heap[lp->heapn]);
  heap_up(lp, i);
  heap_down(lp, lp->heap[i]->heapidx);
}

/* ---- fds ------------------------------------------------------------- */

/* The entry of fd, the table grown to hold it; NULL when out of memory
   (callers that may raise reserve first: loop_reserve). */
static fdent *fd_entry(loop *lp, int fd) {
  if (fd >= lp->nfds) {
    int n = lp->nfds ? lp->nfds : 64;
    while (n <= fd) n *= 2;
    fdent *f = realloc(lp->fds, (size_t)n * sizeof *f);
    if (!f) return NULL;
    memset(f + lp->nfds, 0, (size_t)(n - lp->nfds) * sizeof *f);
    lp->fds = f;
    lp->nfds = n;
  }
  return &lp->fds[fd];
}

/* The events wanted on fd by its waiters and watcher. */
static int fd_wanted(fdent *fe) {
  int want = fe->cb ? fe->cbevents : 0;
  for (waiter *w = fe->waiters; w; w = w->fdnext) want |= w->events;
  return want;
}

static uint32_t to_epoll(int ev) {
  return (ev & LOOP_READ ? EPOLLIN | EPOLLRDHUP : 0) | (ev & LOOP_WRITE ? EPOLLOUT : 0);
}

/* Make the epoll mask of fd exactly `want`. Returns -1 if epoll refuses it
   (a regular file: always ready). */
static int fd_register(loop *lp, int fd, int want) {
  fdent *fe = fd_entry(lp, fd);
  struct epoll_event ev;
  int op;
  if (!fe) return -1;
  if (want == fe->registered) return 0;
  memset(&ev, 0, sizeof ev);
  ev.events = to_epoll(want);
  ev.data.fd = fd;
  op = want == 0 ? EPOLL_CTL_DEL : fe->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(lp->epfd, op, fd, &ev) != 0) {
    if (errno == ENOENT && op == EPOLL_CTL_MOD)
      op = EPOLL_CTL_ADD;
    else if (errno == EEXIST && op == EPOLL_CTL_ADD)
      op = EPOLL_CTL_MOD;
    else {
      fe->registered = 0;
      return want ? -1 : 0;
    }
    if (epoll_ctl(lp->epfd, op, fd, &ev) != 0) { fe->registered = 0; return -1; }
  }
  fe->registered = want;
  return 0;
}

/* ---- waiters --------------------------------------------------------- */

static void ready_enqueue(loop *lp, waiter *w);

/* Take w off every list. */
static void waiter_detach(loop *lp, waiter *w) {
  if (!w->active) return;
  w->active = 0;
  heap_remove(lp, w);
  if (w->fd >= 0 && w->fd < lp->nfds) {
    waiter **pp = &lp->fds[w->fd].waiters;
    while (*pp && *pp != w) pp = &(*pp)->fdnext;
    if (*pp) *pp = w->fdnext;
  }
  w->fdnext = NULL;
}

/* w's wait is over: detach it and let its thread run. */
static void waiter_fire(loop *lp, waiter *w, int revents) {
  waiter_detach(lp, w);
  w->fired = 1;
  w->revents = revents;
  if (w->run) ready_enqueue(lp, w);
}

/* Register w for fd/events/deadline. */
static void waiter_add(loop *lp, waiter *w, int fd, int events, double deadline) {
  w->fd = fd;
  w->events = events;
  w->deadline = deadline;
  w->revents = 0;
  w->fired = 0;
  w->active = 1;
  w->heapidx = -1;
  w->fdnext = NULL;
  if (deadline >= 0) heap_push(lp, w);
  if (fd >= 0 && events) {
    fdent *fe = fd_entry(lp, fd);
    waiter **pp = &fe->waiters;
    while (*pp) pp = &(*pp)->fdnext;  /* first come, first woken */
    *pp = w;
    if ((events & ~fe->registered) &&
        fd_register(lp, fd, fe->registered | events) != 0)
      waiter_fire(lp, w, events);  /* not pollable: ready now */
  }
}

/* ---- the ready queue ------------------------------------------------ */

static void ready_enqueue(loop *lp, waiter *w) {
  if (w->queued) return;
  w->queued = 1;
  w->next = NULL;
  if (lp->rtail) lp->rtail->next = w; else lp->rhead = w;
  lp->rtail = w;
}

static waiter *ready_dequeue(loop *lp) {
  waiter *w = lp->rhead;
  if (!w) return NULL;
  lp->rhead = w->next;
  if (!lp->rhead) lp->rtail = NULL;
  w->queued = 0;
  return w;
}

/* Take w out of the ready queue if it is there. */
static void ready_remove(loop *lp, waiter *w) {
  waiter *prev = NULL;
  if (!w->queued) return;
  for (waiter *q = lp->rhead; q; prev = q, q = q->next) {
    if (q != w) continue;
    if (prev) prev->next = w->next; else lp->rhead = w->next;
    if (lp->rtail == w) lp->rtail = prev;
    break;
  }
  w->queued = 0;
  w->next = NULL;
}

/* Run the waiters that are ready now (not those that become ready
   meanwhile), from thread L. */
static void run_ready(loop *lp, lua_State *L) {
  int n = 0;
  for (waiter *w = lp->rhead; w; w = w->next) n++;
  while (n-- > 0 && !interrupted) {
    waiter *w = ready_dequeue(lp);
    if (!w) break;
    w->run(L, w);
  }
}

/* ---- one turn -------------------------------------------------------- */

/* How long epoll may sleep, in ms. */
static int turn_timeout(loop *lp) {
  double d = -1, now;
  if (lp->rhead) return 0;
  if (lp->heapn) d = lp->heap[0]->deadline;
  for (int i = 0; i < lp->npollers; i++) {
    double p = lp->pollers[i].next(lp->pollers[i].ud);
    if (p >= 0 && (d < 0 || p < d)) d = p;
  }
  if (d < 0) return -1;
  now = loop_now();
  if (d <= now) return 0;
  d = ceil((d - now) * 1000.0);
  return d > 3600000 ? 3600000 : (int)d;
}

/* Deliver one epoll event. */
static void deliver(loop *lp, struct epoll_event *ev) {
  int fd = ev->data.fd, rev = 0, unwanted;
  fdent *fe;
  if (fd == sigfds[0]) {
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {}
    return;
  }
  if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) rev |= LOOP_READ;
  if (ev->events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) rev |= LOOP_WRITE;
  fe = fd_entry(lp, fd);  /* registered, so in the table */
  if (!fe) return;
  unwanted = rev & ~fd_wanted(fe);
  for (waiter *w = fe->waiters, *nx; w; w = nx) {
    nx = w->fdnext;
    if (w->events & rev) waiter_fire(lp, w, w->events & rev);
  }
  if (fe->cb && (fe->cbevents & rev)) fe->cb(fe->ud, fd, fe->cbevents & rev);
  /* Interest stays registered after a waiter fires (it usually waits again
     soon); it is dropped only when an event comes that nobody wanted. */
  if (unwanted) {
    fe = fd_entry(lp, fd);  /* the callback may have grown the table */
    if (fe) fd_register(lp, fd, fd_wanted(fe));
  }
}

/* Wait once for events, deliver them, fire expired deadlines, run the
   tasks that became ready. Returns -1 if interrupted. */
static int turn(loop *lp, lua_State *L) {
  struct epoll_event evs[MAXEVENTS];
  int n, i;
  if (take_interrupt(L)) return -1;
  n = epoll_wait(lp->epfd, evs, MAXEVENTS, turn_timeout(lp));
  if (n < 0) n = 0;
  for (i = 0; i < n; i++) deliver(lp, &evs[i]);
  for (i = 0; i < lp->npollers; i++) lp->pollers[i].poll(lp->pollers[i].ud);
  if (lp->heapn) {
    double now = loop_now();
    while (lp->heapn && lp->heap[0]->deadline <= now) waiter_fire(lp, lp->heap[0], 0);
  }
  if (take_interrupt(L)) return -1;
  if (lp->rhead) {
    if (lp->before) lp->before(lp->hookud);
    run_ready(lp, L);
    if (lp->after) lp->after(lp->hookud);
  }
  return take_interrupt(L) ? -1 : 0;
}

/* ---- the loop object ------------------------------------------------- */

/* The loop of L's state if it exists and is open, else NULL (never makes
   one: for calls that have nothing to do without a loop). */
static loop *loop_find(lua_State *L) {
  loop *lp = NULL;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &loop_key) == LUA_TUSERDATA) lp = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return lp && !lp->closed ? lp : NULL;
}

static int loop_gc(lua_State *L) {
  loop *lp = luaL_checkudata(L, 1, "netlua.loop");
  if (lp->closed) return 0;
  lp->closed = 1;
  lp->rhead = lp->rtail = NULL;
  if (lp->epfd >= 0) close(lp->epfd);
  lp->epfd = -1;
  free(lp->fds);
  free(lp->heap);
  lp->fds = NULL;
  lp->heap = NULL;
  lp->nfds = lp->heapn = lp->heapcap = 0;
  return 0;
}

loop *loop_get(lua_State *L) {
  loop *lp;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &loop_key) == LUA_TUSERDATA) {
    lp = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return lp;
  }
  lua_pop(L, 1);
  lp = lua_newuserdatauv(L, sizeof *lp, 0);
  memset(lp, 0, sizeof *lp);
  lp->epfd = -1;
  lp->closed = 1;
  if (luaL_newmetatable(L, "netlua.loop")) {
    lua_pushcfunction(L, loop_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lp->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (lp->epfd < 0) luaL_error(L, "epoll_create1: %s", strerror(errno));
  lp->closed = 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  lp->L = lua_tothread(L, -1);
  lua_pop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &loop_key);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &bound_key);
  return lp;
}

/* Watch the Ctrl-C pipe once it exists. */
static void watch_sigpipe(loop *lp) {
  if (lp->sigwatched || sigfds[0] < 0) return;
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.fd = sigfds[0];
  if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, sigfds[0], &ev) == 0) lp->sigwatched = 1;
}

/* Block in thread L until w fires, running the loop. Returns -1 if
   interrupted (w detached), else 0. */
static int wait_blocking(loop *lp, lua_State *L, waiter *w) {
  int r = 0;
  w->up = lp->mainwait;
  lp->mainwait = w;
  watch_sigpipe(lp);
  while (w->active && !w->fired) {
    if (turn(lp, L) < 0) { r = -1; break; }
  }
  waiter_detach(lp, w);
  lp->mainwait = w->up;
  return r;
}

/* Room in the tables for a waiter on fd with a deadline, or raise Lua's
   memory error (before anything is registered: nothing to undo). */
static void loop_reserve(loop *lp, lua_State *L, int fd) {
  if (heap_reserve(lp) != 0 || (fd >= 0 && !fd_entry(lp, fd))) {
    lua_pushliteral(L, "not enough memory");
    lua_error(L);
  }
}

int loop_wait(lua_State *L, int fd, int events, double deadline,
              lua_KContext ctx, lua_KFunction k) {
  loop *lp = loop_get(L);
  waiter *tw = loop_bound(L);
  loop_reserve(lp, L, fd);
  if (tw && tw->L == L && lua_isyieldable(L)) {
    waiter_add(lp, tw, fd, events, deadline);
    if (tw->fired) ready_enqueue(lp, tw);
    return lua_yieldk(L, 0, ctx, k);
  }
  waiter w;
  memset(&w, 0, sizeof w);
  w.L = L;
  waiter_add(lp, &w, fd, events, deadline);
  if (wait_blocking(lp, L, &w) < 0) luaL_error(L, "interrupted!");
  return 0;
}

int loop_turn(lua_State *L, int fd, double deadline) {
  loop *lp = loop_get(L);
  waiter w;
  int r;
  memset(&w, 0, sizeof w);
  w.L = L;
  if (fd < 0) {
    watch_sigpipe(lp);
    return turn(lp, L);
  }
  loop_reserve(lp, L, fd);
  waiter_add(lp, &w, fd, LOOP_READ, deadline);
  r = wait_blocking(lp, L, &w);
  if (r < 0) return -1;
  return w.revents ? 1 : 0;
}

void loop_wake(lua_State *T) {
  waiter *tw = loop_bound(T);
  loop *lp = loop_find(T);
  if (!lp) return;
  if (tw && tw->L == T) {
    if (tw->active) waiter_fire(lp, tw, 0);
    return;
  }
  for (waiter *w = lp->mainwait; w; w = w->up)
    if (w->L == T && w->active) { waiter_fire(lp, w, 0); return; }
}

/* Wake what waits on fd and forget it. closing: the fd is closed next,
   which takes it out of the epoll set by itself (netlua never dups a
   socket), so no EPOLL_CTL_DEL is made for it: a server closes a socket
   per client. */
static void forget(lua_State *L, int fd, int closing) {
  loop *lp = loop_find(L);
  fdent *fe;
  if (!lp || fd < 0 || fd >= lp->nfds) return;
  fe = &lp->fds[fd];
  while (fe->waiters) waiter_fire(lp, fe->waiters, fe->waiters->events);
  fe->cb = NULL;
  fe->cbevents = 0;
  if (closing) fe->registered = 0;
  else fd_register(lp, fd, 0);
}

void loop_forget_fd(lua_State *L, int fd) {
  forget(L, fd, 0);
}

void loop_close_fd(lua_State *L, int fd) {
  if (fd < 0) return;
  forget(L, fd, 1);
  close(fd);
}

void loop_watch(lua_State *L, int fd, int events, loop_fd_cb cb, void *ud) {
  loop *lp = loop_get(L);
  fdent *fe = fd_entry(lp, fd);
  /* Out of memory: not watched (called from c-ares, nothing may raise);
     c-ares' own timeouts end its query. */
  if (!fe) return;
  fe->cb = events ? cb : NULL;
  fe->ud = ud;
  fe->cbevents = events;
  if (fd_register(lp, fd, fd_wanted(fe)) != 0 && events && cb)
    cb(ud, fd, events);  /* not pollable: always ready */
}

void loop_add_poller(lua_State *L, loop_next_fn next, loop_poll_fn poll, void *ud) {
  loop *lp = loop_get(L);
  if (lp->npollers == MAXPOLLERS) luaL_error(L, "too many pollers");
  lp->pollers[lp->npollers].next = next;
  lp->pollers[lp->npollers].poll = poll;
  lp->pollers[lp->npollers].ud = ud;
  lp->npollers++;
}

void loop_set_resume_hooks(lua_State *L, loop_hook before, loop_hook after, void *ud) {
  loop *lp = loop_get(L);
  lp->before = before;
  lp->after = after;
  lp->hookud = ud;
}

/* Call the before or after hook, if set (a task's error is output). */
void loop_call_hook(lua_State *L, int after) {
  loop *lp = loop_find(L);
  loop_hook h = lp ? (after ? lp->after : lp->before) : NULL;
  if (h) h(lp->hookud);
}

/* ---- for the task side ------------------------------------------------ */

/* The waiter thread T is bound to (its task's), or NULL. */
loop_waiter *loop_bound(lua_State *T) {
  waiter *w = NULL;
  if (lua_rawgetp(T, LUA_REGISTRYINDEX, &bound_key) == LUA_TTABLE) {
    lua_rawgetp(T, -1, T);
    w = lua_touserdata(T, -1);
    lua_pop(T, 1);
  }
  lua_pop(T, 1);
  return w;
}

/* Bind thread T to w, or unbind it (w NULL). */
void loop_bind(lua_State *L, lua_State *T, loop_waiter *w) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &bound_key);
  if (w) lua_pushlightuserdata(L, w); else lua_pushnil(L);
  lua_rawsetp(L, -2, T);
  lua_pop(L, 1);
}

/* Queue w to run at the next turn. */
void loop_ready(loop *lp, loop_waiter *w) {
  ready_enqueue(lp, w);
}

/* Take w off its fd, the deadlines and the ready queue (loop still open). */
void loop_cancel(loop *lp, loop_waiter *w) {
  if (lp->closed) return;
  waiter_detach(lp, w);
  ready_remove(lp, w);
}

/* Make T the thread Ctrl-C interrupts; return the one before. */
lua_State *loop_set_running(lua_State *T) {
  lua_State *prev = running;
  running = T;
  return prev;
}
