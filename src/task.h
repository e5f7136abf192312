/*
 * task.h: tasks, the coroutines the loop runs (net.spawn), and their Lua
 * side: net.spawn, net.sleep, net.now, net.run, net.tasks. On top of the
 * loop (loop.h): a task waits through loop_wait like any caller.
 */
#ifndef NETLUA_TASK_H
#define NETLUA_TASK_H

#include <lua.h>

/* Number of tasks not yet finished. */
int task_count(lua_State *L);

/* Number of tasks that ended with an error (reported on stderr) so far. */
int task_errors(lua_State *L);

/* Run the loop until every task has finished. Raises "interrupted!" on
   Ctrl-C, and an error inside a task. */
void task_runall(lua_State *L);

/* Lua side: net.spawn, net.sleep, net.now, net.run, net.tasks, on the table
   at the top (the loop part's opener, called by net.c). */
void loop_open(lua_State *L);

#endif
