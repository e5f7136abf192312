/*
 * task.c: tasks, coroutines run by the loop, and net.spawn, net.sleep,
 * net.now, net.run, net.tasks. A task is a thread bound to a loop waiter
 * (loop.h): when it waits, loop_wait yields it; when its wait is over, the
 * loop calls task_resume. A task's error is reported with a traceback on
 * stderr and never stops the loop or other tasks. See task.h.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "loop.h"
#include "net.h"
#include "task.h"

typedef struct task task;
typedef struct tasks tasks;

/* A task: a coroutine run by the loop. */
struct task {
  tasks *ts;             /* the tasks of its state */
  loop *lp;              /* and its loop */
  lua_State *T;
  int ref;               /* registry reference keeping T alive */
  int nargs;             /* arguments for the first resume */
  loop_waiter w;         /* what it waits for; w.L is T */
  task *all_next, *all_prev;
};

/* The tasks of a Lua state (a userdata in the registry). */
struct tasks {
  task *all;             /* every live task */
  int ntasks;
  int taskerrors;        /* tasks that ended with an error */
};

static char tasks_key;

/* The tasks of L's state, or NULL if none was ever spawned. */
static tasks *tasks_find(lua_State *L) {
  tasks *ts = NULL;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &tasks_key) == LUA_TUSERDATA) ts = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return ts;
}

/* __gc of the tasks: forget those left (at lua_close). */
static int tasks_gc(lua_State *L) {
  tasks *ts = luaL_checkudata(L, 1, "netlua.tasks");
  while (ts->all) {
    task *t = ts->all;
    ts->all = t->all_next;
    loop_cancel(t->lp, &t->w);
    free(t);
  }
  ts->ntasks = 0;
  return 0;
}

/* The tasks of L's state, made on first use. */
static tasks *tasks_get(lua_State *L) {
  tasks *ts = tasks_find(L);
  if (ts) return ts;
  ts = lua_newuserdatauv(L, sizeof *ts, 0);
  memset(ts, 0, sizeof *ts);
  if (luaL_newmetatable(L, "netlua.tasks")) {
    lua_pushcfunction(L, tasks_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &tasks_key);
  return ts;
}

/* The task a loop waiter belongs to. */
static task *task_of_waiter(loop_waiter *w) {
  return (task *)(void *)((char *)w - offsetof(task, w));
}

/* A finished task: forget it and let its thread be collected. */
static void task_free(tasks *ts, lua_State *L, task *t) {
  loop_cancel(t->lp, &t->w);
  if (t->all_prev) t->all_prev->all_next = t->all_next; else ts->all = t->all_next;
  if (t->all_next) t->all_next->all_prev = t->all_prev;
  loop_bind(L, t->T, NULL);
  lua_resetthread(t->T);
  luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
  ts->ntasks--;
  free(t);
}

/* Print a task's error with its traceback on stderr. */
static void task_report(lua_State *L, task *t) {
  const char *msg = lua_tostring(t->T, -1);
  if (msg == NULL) {
    if (luaL_callmeta(t->T, -1, "__tostring") && lua_type(t->T, -1) == LUA_TSTRING)
      msg = lua_tostring(t->T, -1);
    else
      msg = lua_pushfstring(t->T, "(error object is a %s value)", luaL_typename(t->T, -1));
  }
  luaL_traceback(L, t->T, msg, 0);
  loop_call_hook(L, 0);
  fprintf(stderr, "netlua: error in task: %s\n", lua_tostring(L, -1));
  fflush(stderr);
  loop_call_hook(L, 1);
  lua_pop(L, 1);
}

/* The loop's `run` for a task: resume it from thread L. */
static void task_resume(lua_State *L, loop_waiter *w) {
  task *t = task_of_waiter(w);
  tasks *ts = t->ts;
  int nres, st;
  int nargs = t->nargs;
  lua_State *prev;
  t->nargs = 0;
  prev = loop_set_running(t->T);
  st = lua_resume(t->T, L, nargs, &nres);
  loop_set_running(prev);
  if (st == LUA_YIELD) {
    lua_pop(t->T, nres);
    if (!t->w.active) loop_ready(t->lp, &t->w);  /* a plain coroutine.yield() */
    return;
  }
  if (st != LUA_OK) {
    ts->taskerrors++;
    task_report(L, t);
  }
  task_free(ts, L, t);
}

int task_count(lua_State *L) {
  tasks *ts = tasks_find(L);  /* none spawned: no loop made for nothing */
  return ts ? ts->ntasks : 0;
}

int task_errors(lua_State *L) {
  tasks *ts = tasks_find(L);
  return ts ? ts->taskerrors : 0;
}

void task_runall(lua_State *L) {
  loop_waiter *w;
  loop_get(L);  /* as every net call that may wait: the loop exists after */
  w = loop_bound(L);
  if (w && w->L == L) luaL_error(L, "net.run called inside a task");
  while (task_count(L) > 0)
    if (loop_turn(L, -1, -1) < 0) luaL_error(L, "interrupted!");
}

/* ---- Lua functions --------------------------------------------------- */

/* net.spawn(fn, ...) -> thread: start fn(...) as a task. */
static int l_spawn(lua_State *L) {
  loop *lp = loop_get(L);
  tasks *ts = tasks_get(L);
  int n;
  lua_State *T;
  task *t;
  n = lua_gettop(L);
  luaL_checktype(L, 1, LUA_TFUNCTION);
  t = calloc(1, sizeof *t);
  if (!t) return luaL_error(L, "out of memory");
  T = lua_newthread(L);
  t->ts = ts;
  t->lp = lp;
  t->T = T;
  t->w.heapidx = -1;
  t->w.L = T;
  t->w.run = task_resume;
  lua_pushvalue(L, -1);
  t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  loop_bind(L, T, &t->w);
  lua_rotate(L, 1, 1);           /* thread first, then fn and args */
  lua_xmove(L, T, n);            /* fn and args onto the task */
  t->nargs = n - 1;
  t->all_next = ts->all;
  if (ts->all) ts->all->all_prev = t;
  ts->all = t;
  ts->ntasks++;
  loop_ready(lp, &t->w);
  return 1;
}

/* net.sleep continuation: done when the deadline has passed. */
static int sleep_k(lua_State *L, int status, lua_KContext ctx) {
  double deadline = lua_tonumber(L, 2);
  (void)status; (void)ctx;
  while (!loop_expired(deadline)) loop_wait(L, -1, 0, deadline, 0, sleep_k);
  return 0;
}

/* net.sleep(seconds): wait, letting other tasks run. */
static int l_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  luaL_argcheck(L, s >= 0 && !isnan(s), 1, "seconds must be >= 0");
  lua_settop(L, 1);
  lua_pushnumber(L, loop_now() + s);
  return sleep_k(L, 0, 0);
}

/* net.now() -> monotonic seconds. */
static int l_now(lua_State *L) {
  lua_pushnumber(L, loop_now());
  return 1;
}

/* net.run(): run until every task has finished. */
static int l_run(lua_State *L) {
  task_runall(L);
  return 0;
}

/* net.tasks() -> number of unfinished tasks. */
static int l_tasks(lua_State *L) {
  lua_pushinteger(L, task_count(L));
  return 1;
}

void loop_open(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"spawn", l_spawn}, {"sleep", l_sleep}, {"now", l_now},
    {"run", l_run}, {"tasks", l_tasks}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
