/*
 * task.c: tasks, coroutines run by the loop, and net.spawn, net.sleep,
 * net.now, net.run, net.tasks. A task is a thread bound to a loop waiter
 * (loop.h): when it waits, loop_wait yields it; when its wait is over, the
 * loop calls task_resume. A task's error is reported with a traceback on
 * stderr and never stops the loop or other tasks. See task.h.
 *
 * Internal, not a part of net: package.loaded["net.park"] holds park(seconds)
 * (wait until woken or the seconds have passed) and wake(thread), with
 * which net.serve keeps idle client tasks for the next clients instead of
 * starting a task for each.
 *
 * Tasks can be seen and stopped: net.tasks() lists the unfinished ones;
 * threads get a metatable (one for the whole thread type) whose methods
 * task:cancel() and task:describe() act on tasks, and whose __tostring
 * says "task N: DESCRIPTION (state)" for a task and "thread: 0x..." for any
 * other coroutine. A task closed with coroutine.close is noticed at its
 * next resume or count (task_count) and dropped quietly.
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
#include "netaux.h"
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
  int started;           /* resumed at least once */
  lua_Integer id;        /* its number, "task N" */
  loop_waiter w;         /* what it waits for; w.L is T */
  task *all_next, *all_prev;
};

/* The tasks of a Lua state (a userdata in the registry). */
struct tasks {
  task *all;             /* every live task */
  int ntasks;
  int taskerrors;        /* tasks that ended with an error */
  lua_Integer lastid;    /* the number of the last task spawned */
};

/* The user values of the tasks userdata: tables keyed by thread. */
enum { UV_IDS = 1,       /* weak keys: thread -> its number (every task) */
       UV_DESCS,         /* weak keys: thread -> description (text or function) */
       UV_LIVE,          /* thread -> lightuserdata(task), unfinished ones */
       UV_N = UV_LIVE };

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
  ts = lua_newuserdatauv(L, sizeof *ts, UV_N);
  memset(ts, 0, sizeof *ts);
  if (luaL_newmetatable(L, "netlua.tasks")) {
    lua_pushcfunction(L, tasks_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  for (int uv = 1; uv <= UV_N; uv++) {
    lua_newtable(L);
    if (uv != UV_LIVE) {
      lua_createtable(L, 0, 1);
      lua_pushliteral(L, "k");
      lua_setfield(L, -2, "__mode");
      lua_setmetatable(L, -2);
    }
    lua_setiuservalue(L, -2, uv);
  }
  lua_rawsetp(L, LUA_REGISTRYINDEX, &tasks_key);
  return ts;
}

/* The task a loop waiter belongs to. */
static task *task_of_waiter(loop_waiter *w) {
  return (task *)(void *)((char *)w - offsetof(task, w));
}

/* Push the user value `uv` of the tasks of L's state (nil if none). */
static void tasks_table(lua_State *L, int uv) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &tasks_key) == LUA_TUSERDATA) {
    lua_getiuservalue(L, -1, uv);
    lua_remove(L, -2);
  }
}

/* Set table[t's thread] = the value at the top (popped), in user value
   `uv`. */
static void tasks_set(lua_State *L, int uv, task *t) {
  tasks_table(L, uv);
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 2);
}

/* Push table[T] of user value `uv` (nil if absent). */
static int tasks_lookup(lua_State *L, int uv, int idx) {
  idx = lua_absindex(L, idx);
  tasks_table(L, uv);
  if (!lua_istable(L, -1)) return lua_type(L, -1);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  lua_remove(L, -2);
  return lua_type(L, -1);
}

/* The unfinished task whose thread is at idx, or NULL. */
static task *task_at(lua_State *L, int idx) {
  task *t;
  if (lua_type(L, idx) != LUA_TTHREAD) return NULL;
  tasks_lookup(L, UV_LIVE, idx);
  t = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return t;
}

/* Take a task off the loop, the list and the count; its thread is no task
   any more (not yet reset). */
static void task_unlink(tasks *ts, lua_State *L, task *t) {
  loop_cancel(t->lp, &t->w);
  if (t->all_prev) t->all_prev->all_next = t->all_next; else ts->all = t->all_next;
  if (t->all_next) t->all_next->all_prev = t->all_prev;
  t->all_next = t->all_prev = NULL;
  loop_bind(L, t->T, NULL);
  lua_pushnil(L);
  tasks_set(L, UV_LIVE, t);
  ts->ntasks--;
}

/* A finished task: forget it and let its thread be collected. */
static void task_free(tasks *ts, lua_State *L, task *t) {
  task_unlink(ts, L, t);
  lua_resetthread(t->T);
  luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
  free(t);
}

/* A task closed from Lua (coroutine.close): started, not suspended, no
   call left. */
static int task_dead(task *t) {
  lua_Debug ar;
  if (lua_status(t->T) != LUA_OK || lua_getstack(t->T, 0, &ar)) return 0;
  return t->started || lua_gettop(t->T) != t->nargs + 1;  /* not started: fn and args gone */
}

/* Drop the tasks closed behind the loop's back. */
static void tasks_sweep(tasks *ts, lua_State *L) {
  for (task *t = ts->all, *nx; t; t = nx) {
    nx = t->all_next;
    if (task_dead(t)) task_free(ts, L, t);
  }
}

/* The message of the error value at index 1, made under lua_pcall: a
   __tostring (or __name) that raises must not run unprotected. */
static int task_errmsg(lua_State *L) {
  luaL_tolstring(L, 1, NULL);
  return 1;
}

/* Print a task's error with its traceback on stderr. The error value is
   turned into a message on L under protection: an unprotected error in a
   dead coroutine would jump into whatever frame the main thread is in. */
static void task_report(lua_State *L, task *t) {
  int top = lua_gettop(L);
  const char *msg;
  lua_pushcfunction(L, task_errmsg);
  lua_pushvalue(t->T, -1);
  lua_xmove(t->T, L, 1);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK)
    msg = lua_tostring(L, -1);
  else
    msg = lua_pushfstring(L, "(error object is a %s value; its __tostring failed)",
                          luaL_typename(t->T, -1));
  luaL_traceback(L, t->T, msg, 0);
  loop_call_hook(L, 0);
  fprintf(stderr, "netlua: error in task: %s\n", lua_tostring(L, -1));
  fflush(stderr);
  loop_call_hook(L, 1);
  lua_settop(L, top);
}

/* The loop's `run` for a task: resume it from thread L. */
static void task_resume(lua_State *L, loop_waiter *w) {
  task *t = task_of_waiter(w);
  tasks *ts = t->ts;
  int nres, st;
  int nargs = t->nargs;
  lua_State *prev;
  if (task_dead(t)) {  /* coroutine.close(task): nothing to resume */
    task_free(ts, L, t);
    return;
  }
  t->nargs = 0;
  t->started = 1;
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
  if (ts) tasks_sweep(ts, L);
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
  if (!t) {  /* as Lua's own memory error: the message alone */
    lua_pushliteral(L, "not enough memory");
    return lua_error(L);
  }
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
  t->id = ++ts->lastid;
  lua_pushlightuserdata(L, t);
  tasks_set(L, UV_LIVE, t);
  lua_pushinteger(L, t->id);
  tasks_set(L, UV_IDS, t);
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

/* net.sleep(seconds): wait, letting other tasks run (at least once: so
   does net.sleep(0), in a task and at the prompt). */
static int l_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1), deadline;
  luaL_argcheck(L, s >= 0 && !isnan(s), 1, "seconds must be >= 0");
  lua_settop(L, 1);
  deadline = loop_now() + s;
  lua_pushnumber(L, deadline);
  loop_wait(L, -1, 0, deadline, 0, sleep_k);
  return sleep_k(L, 0, 0);
}

/* park continuation: the wait is over, woken or at the deadline. */
static int park_k(lua_State *L, int status, lua_KContext ctx) {
  (void)L; (void)status; (void)ctx;
  return 0;
}

/* park(seconds): wait until wake(thread) or until the seconds have
   passed, letting other tasks run (net.serve's idle client tasks). */
static int l_park(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  luaL_argcheck(L, s >= 0 && !isnan(s), 1, "seconds must be >= 0");
  loop_wait(L, -1, 0, loop_now() + s, 0, park_k);
  return 0;
}

/* wake(thread): end the park of thread, if it is in one. */
static int l_wake(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTHREAD);
  loop_wake(lua_tothread(L, 1));
  return 0;
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

/* ---- tasks as values: listing, describing, cancelling ------------------ */

/* What the task is doing now, in a word or two. */
static const char *task_state(lua_State *L, task *t) {
  lua_Debug ar;
  if (t == NULL) return "finished";
  if (t->T == L || (lua_status(t->T) == LUA_OK && lua_getstack(t->T, 0, &ar))) return "running";
  if (!t->started || t->w.queued) return "ready";
  if (!t->w.active) return "waiting";
  if (t->w.fd >= 0) return t->w.events & LOOP_WRITE ? "waiting to send" : "waiting";
  return t->w.deadline >= 0 ? "sleeping" : "waiting";
}

/* Push where the task's function was defined ("stdin:3", "file.lua:10"),
   for a task without a description. */
static void push_where(lua_State *L, task *t) {
  lua_Debug ar;
  int level = 0, found = 0;
  if (t && !t->started && lua_gettop(t->T) > t->nargs) {
    lua_pushvalue(t->T, 1);
    lua_getinfo(t->T, ">S", &ar);
    found = 1;
  } else if (t) {
    while (lua_getstack(t->T, level, &ar)) level++;
    found = level > 0 && lua_getstack(t->T, level - 1, &ar) && lua_getinfo(t->T, "S", &ar);
  }
  if (found && ar.what[0] != 'C')
    lua_pushfstring(L, "function at %s:%d", ar.short_src, ar.linedefined);
  else
    lua_pushliteral(L, "function");
}

/* Push the description of the task at idx: its text, what its describe
   function returns now, or where its function was defined. */
static void push_description(lua_State *L, int idx, task *t) {
  idx = lua_absindex(L, idx);
  if (tasks_lookup(L, UV_DESCS, idx) == LUA_TFUNCTION) {
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
      lua_pushfstring(L, "(describe failed: %s)", luaL_tolstring(L, -1, NULL));
      lua_remove(L, -2);
    }
    luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
  } else if (lua_type(L, -1) == LUA_TSTRING) {
    return;
  } else {
    lua_pop(L, 1);
    push_where(L, t);
  }
}

/* __tostring of threads: "task N: DESCRIPTION (state)" for a task (ever),
   "thread: 0x..." for any other coroutine. */
static int thread_tostring(lua_State *L) {
  task *t;
  lua_Integer id;
  luaL_checktype(L, 1, LUA_TTHREAD);
  if (tasks_lookup(L, UV_IDS, 1) != LUA_TNUMBER) {
    lua_pushfstring(L, "thread: %p", lua_topointer(L, 1));
    return 1;
  }
  id = lua_tointeger(L, -1);
  t = task_at(L, 1);
  if (t == NULL && tasks_lookup(L, UV_DESCS, 1) == LUA_TNIL) {
    lua_pushfstring(L, "task %I (finished)", id);
    return 1;
  }
  push_description(L, 1, t);
  lua_pushfstring(L, "task %I: %s (%s)", id, lua_tostring(L, -1), task_state(L, t));
  return 1;
}

/* Push "task N" or, for a plain coroutine, "not a task", for messages. */
static const char *task_name(lua_State *L, int idx) {
  if (tasks_lookup(L, UV_IDS, idx) == LUA_TNUMBER)
    return lua_pushfstring(L, "task %I", lua_tointeger(L, -1));
  return "not a task";
}

/* task:cancel() -> true: end the task as coroutine.close does (its
   to-be-closed variables close); nil, message when it has finished, is
   running, or is no task. */
static int task_cancel(lua_State *L) {
  lua_State *T;
  task *t;
  int st;
  luaL_checktype(L, 1, LUA_TTHREAD);
  T = lua_tothread(L, 1);
  t = task_at(L, 1);
  if (t == NULL || task_dead(t)) {
    const char *name = task_name(L, 1);
    if (t) task_free(t->ts, L, t);
    if (strcmp(name, "not a task") == 0) return net_fail(L, "cancel: not a task (a plain coroutine)");
    return net_fail(L, "cancel: %s has finished", name);
  }
  if (!strcmp(task_state(L, t), "running"))
    return net_fail(L, "cancel: %s is running", task_name(L, 1));
  task_unlink(t->ts, L, t);
  st = lua_resetthread(T);     /* closes its pending to-be-closed variables */
  luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
  free(t);
  if (st != LUA_OK) {
    lua_xmove(T, L, 1);
    return net_fail(L, "cancel: %s: closing failed: %s", task_name(L, 1),
                    luaL_tolstring(L, -1, NULL));
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* task:describe([text | function]) -> task: what the task is doing, as
   net.tasks() and tostring show it; a function is called with the task
   each time it is shown (live figures); nil forgets it. */
static int task_describe(lua_State *L) {
  int ty = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTHREAD);
  luaL_argexpected(L, ty == LUA_TNONE || ty == LUA_TNIL || ty == LUA_TSTRING ||
                   ty == LUA_TFUNCTION, 2, "string or function");
  if (tasks_lookup(L, UV_IDS, 1) != LUA_TNUMBER)
    return net_fail(L, "describe: not a task (a plain coroutine)");
  tasks_table(L, UV_DESCS);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_rawset(L, -3);
  lua_settop(L, 1);
  return 1;
}

/* __tostring of the list net.tasks() returns: one task per line. */
static int tasklist_tostring(lua_State *L) {
  luaL_Buffer b;
  lua_Integer n = luaL_len(L, 1);
  if (n == 0) {
    lua_pushliteral(L, "no tasks");
    return 1;
  }
  luaL_buffinit(L, &b);
  for (lua_Integer i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, '\n');
    lua_geti(L, 1, i);
    luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return 1;
}

/* net.tasks() -> the unfinished tasks, oldest first (#net.tasks() counts
   them); printed one per line. */
static int l_tasks(lua_State *L) {
  int i = task_count(L);          /* first: it drops closed tasks */
  tasks *ts = tasks_find(L);
  task *t = ts ? ts->all : NULL;
  lua_createtable(L, i, 0);
  for (; t; t = t->all_next) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);
    lua_rawseti(L, -2, i--);
  }
  if (luaL_newmetatable(L, "netlua.tasklist")) {
    lua_pushcfunction(L, tasklist_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_setmetatable(L, -2);
  return 1;
}

/* Give threads their metatable (methods of tasks, __tostring), unless
   someone gave them one already. */
static void thread_metatable(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"cancel", task_cancel}, {"describe", task_describe}, {NULL, NULL}};
  lua_pushthread(L);
  if (lua_getmetatable(L, -1)) {
    lua_pop(L, 2);
    return;
  }
  luaL_newmetatable(L, "netlua.task");
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, thread_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
}

void loop_open(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"spawn", l_spawn}, {"sleep", l_sleep}, {"now", l_now},
    {"run", l_run}, {"tasks", l_tasks}, {NULL, NULL}};
  static const luaL_Reg parking[] = {{"park", l_park}, {"wake", l_wake}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);  /* internal, not in net */
  luaL_newlib(L, parking);
  lua_setfield(L, -2, "net.park");
  lua_pop(L, 1);
  thread_metatable(L);
  net_notice_open(L);
  net_terminal_open(L);
}
