/*
 * loop.h: the one event loop of a Lua state (epoll, timers, waits, the
 * queue of tasks ready to run, Ctrl-C). Tasks themselves (net.spawn...) are
 * task.c's, on top of this (task.h).
 *
 * Contract.  C primitives never block: they try the operation now and, when
 * it would block, call loop_wait().  loop_wait() does the right thing for
 * whoever is running:
 *   - inside a task (a coroutine started by net.spawn) it registers what the
 *     task waits for and yields to the loop with the continuation `k`; when
 *     the fd is ready, the deadline passes, or loop_wake() is called, the task
 *     is resumed and `k` runs again (it retries, and checks the deadline);
 *   - anywhere else (the main chunk, a line at the prompt, a plain
 *     coroutine) it runs the loop, resuming other tasks meanwhile, until the
 *     same happens, and then returns 0 so the caller's for(;;) retries.
 * Ctrl-C while waiting outside a task raises "interrupted!".
 *
 * A typical method:
 *     static int m_k(lua_State *L, int status, lua_KContext ctx) {
 *       for (;;) {
 *         r = try_now();
 *         if (r != WOULDBLOCK) return push_result(L, r);
 *         if (loop_expired(deadline)) return push_timeout(L);
 *         loop_wait(L, fd, LOOP_READ, deadline, ctx, m_k);
 *       }
 *     }
 *     static int m(lua_State *L) { ...check args...; return m_k(L, 0, 0); }
 * Keep the state a continuation needs (the deadline, partial results) on the
 * Lua stack or in the object: the C stack does not survive a yield.
 */
#ifndef NETLUA_LOOP_H
#define NETLUA_LOOP_H

#include <lua.h>

#define LOOP_READ  1
#define LOOP_WRITE 2

typedef struct loop loop;

/* The loop of this Lua state, created on first use. */
loop *loop_get(lua_State *L);

/* Monotonic time in seconds. */
double loop_now(void);

/* A deadline `timeout` seconds from now; timeout < 0 (or nil) means none (-1). */
double loop_deadline(double timeout);

/* True when a deadline (>= 0) has passed. */
int loop_expired(double deadline);

/* Wait for `events` on `fd` (fd < 0: wait only for the deadline or a
   loop_wake) until `deadline` (< 0: none). See the contract above. Returns 0
   when it returns at all. */
int loop_wait(lua_State *L, int fd, int events, double deadline,
              lua_KContext ctx, lua_KFunction k);

/* Wake thread `T` if it is waiting in loop_wait (used by callbacks that
   complete work without an fd, e.g. a DNS answer). Safe to call from a
   c-ares callback: it only marks the waiter. */
void loop_wake(lua_State *T);

/* An fd is about to be closed: wake everything waiting on it and forget
   it. Call before close(2). */
void loop_forget_fd(lua_State *L, int fd);

/* loop_forget_fd, then close(2): how every socket of net is closed. */
void loop_close_fd(lua_State *L, int fd);

/* Watchers for fds owned by C code (c-ares, the terminal): `cb` is called
   from the loop when `fd` is ready; events 0 removes the watch. */
typedef void (*loop_fd_cb)(void *ud, int fd, int revents);
void loop_watch(lua_State *L, int fd, int events, loop_fd_cb cb, void *ud);

/* A poller asked every turn: `next` returns the absolute deadline by which
   `poll` must be called (< 0: none); `poll` is called after each wait. Used
   for c-ares timeouts. */
typedef double (*loop_next_fn)(void *ud);
typedef void (*loop_poll_fn)(void *ud);
void loop_add_poller(lua_State *L, loop_next_fn next, loop_poll_fn poll, void *ud);

/* One turn for code that owns the wait itself (the prompt): wait until `fd`
   is readable (fd < 0: just one turn), running tasks meanwhile. Returns 1 when
   fd is readable, 0 on a plain turn, -1 if interrupted (Ctrl-C). Never
   raises. */
int loop_turn(lua_State *L, int fd, double deadline);

/* Hooks around each batch of task resumes (the prompt uses them to keep its
   line intact when tasks print). */
typedef void (*loop_hook)(void *ud);
void loop_set_resume_hooks(lua_State *L, loop_hook before, loop_hook after, void *ud);

/* Call the `before` (after == 0) or the `after` hook, if set: for output
   written from inside a batch of resumes (a task's error). */
void loop_call_hook(lua_State *L, int after);

/* Install netlua's SIGINT handling for state L (the netlua program only):
   Ctrl-C stops running Lua code ("interrupted!") and wakes the loop. */
void loop_install_sigint(lua_State *L);
/* Restore the default SIGINT action. */
void loop_uninstall_sigint(void);

/* ---- for the task side (task.c) -------------------------------------- */

/* A wait of a thread. A thread bound to a waiter (loop_bind) is a task: in
   it loop_wait registers that waiter and yields; when the waiter fires it
   is queued, and a turn of the loop calls its `run` (which resumes the
   thread). Blocking waits use waiters of their own, with `run` NULL. The
   fields after `run` are the loop's. */
typedef struct loop_waiter loop_waiter;
typedef void (*loop_run_fn)(lua_State *L, loop_waiter *w);
struct loop_waiter {
  lua_State *L;              /* the waiting thread */
  loop_run_fn run;           /* called from a turn (thread L) when ready */
  int fd, events;            /* fd < 0: no fd */
  int revents;               /* what woke it (0: deadline or wake) */
  double deadline;           /* < 0: none */
  int heapidx;               /* position in the heap, -1 if not there */
  int active, fired;         /* registered; its wait is over */
  int queued;                /* in the ready queue */
  loop_waiter *fdnext;       /* next waiter on the same fd */
  loop_waiter *up;           /* enclosing blocking wait */
  loop_waiter *next;         /* ready queue */
};

/* Bind thread T to waiter w (w->L == T), or unbind it (w NULL). */
void loop_bind(lua_State *L, lua_State *T, loop_waiter *w);

/* The waiter T is bound to, or NULL. */
loop_waiter *loop_bound(lua_State *T);

/* Queue w to run at the next turn of lp (once, however often called). */
void loop_ready(loop *lp, loop_waiter *w);

/* Take w off everything: its fd, the deadlines, the ready queue. Does
   nothing once the loop is closed (lua_close: the loop's __gc may come
   first). */
void loop_cancel(loop *lp, loop_waiter *w);

/* Make T the thread Ctrl-C interrupts (it runs Lua code now); returns the
   one before, to put back. */
lua_State *loop_set_running(lua_State *T);

#endif
