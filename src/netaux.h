/*
 * netaux.h: Lua helpers shared by every part of the `net` module (below
 * the parts, above the OS helpers): options, classes, failures, guards.
 */
#ifndef NETLUA_NETAUX_H
#define NETLUA_NETAUX_H

#include <lauxlib.h>
#include <lua.h>

/* Options tables: raise a Lua error (luaL_argerror at `arg`, e.g. "bad
   argument #3 to 'connect' (unknown option 'sever')") for the first key
   not in `known` (NULL-terminated) or not a string; nothing when the
   argument is nil or absent; a non-table raises too. A misspelt option
   must never be silently ignored (a typo in `server` would send a query to
   the system resolver). */
void net_checkopts(lua_State *L, int arg, const char *const known[]);

/* The same for a table at stack index idx nested in argument `arg`
   (opts.tls): errors name argument `arg` and the key with `prefix`
   ("unknown option 'tls.foo'"). */
void net_checkopts_in(lua_State *L, int idx, int arg, const char *prefix, const char *const known[]);

/* A class of objects: the metatable `name` (registered as luaL_newmetatable
   does) with __index = a table of `methods`, __gc and __close = `gc` (one
   idempotent close), and __tostring; left at the top of the stack. */
void net_newclass(lua_State *L, const char *name, const luaL_Reg *methods,
                  lua_CFunction gc, lua_CFunction tostring);

/* Guards: how a call that waits gives back what it holds when it is
   unwound instead of returning. The call pushes a guard at the top of its
   stack, a to-be-closed slot (it stays in place until it is disarmed or
   the call returns), for the value at idx. If the call's frame is left while the
   guard is armed (an error unwinds it, such as Ctrl-C's "interrupted!",
   or its task is cancelled: task:cancel, coroutine.close), `undo` is
   called with that value and the error (nil for a cancelled task); a
   return with the guard armed undoes too, so the call disarms it before
   it hands over what the guard holds. Used by send (conn.c: the
   interrupted-send rule) and the TLS handshake of connect and accept
   (tlsconn.c). */
void net_guard_push(lua_State *L, int idx, lua_CFunction undo);

/* Disarm the guard at stack slot `slot`, if there is one there, and close
   its slot (now nil), so that the stack may be cut below it: Lua 5.4.4's
   lua_settop across a pending to-be-closed slot can use a stale stack
   pointer. */
void net_guard_disarm(lua_State *L, int slot);

/* Push nil, "closed" (a method used after close, a peer gone); returns 2.
   Records a notice (below). */
int net_closed(lua_State *L);

/* Push nil, "timeout"; returns 2. Records a notice (below). Every path
   that gives up on a deadline says it through this. */
int net_timeout(lua_State *L);

/* Push nil and a formatted message; returns 2 (use as `return net_fail(...)`).
   Records a notice (below). */
int net_fail(lua_State *L, const char *fmt, ...);

/* Notices: at the prompt a failure is never silent. While notice mode is
   on (the prompt turns it on; scripts, -e and piped input never do), a
   failure of a net function called directly from the chunk typed at the
   prompt (the caller of the running C function is the main chunk of source
   "=stdin", on the main thread) is recorded, and the prompt prints it as
   "*** MESSAGE" after the line ran, even when the results were assigned or
   dropped. Failures inside library code (a Lua function calling net) and
   in tasks record nothing.

   net_fail, net_closed and net_timeout record by themselves; a C path that
   pushes its own nil, message calls net_notice(L, message).

   Lua-written parts (net.http.get, net.smtp.send ...) that return
   nil, message from Lua record the same way with the internal module
   "net.notice" (no net.X name, not listed by help):
       local notice = require "net.notice"
       ...
       if not ok then notice(err) return nil, err end
   notice(message) records when the Lua function that calls it was called
   directly from the prompt's chunk. Call it as a statement at the public
   entry point (not in a tail call: `return notice(err)` would drop that
   function's frame); it returns nothing. */
void net_notice(lua_State *L, const char *msg);

/* The prompt's side: turn notice mode on or off (pending notices are
   dropped either way). */
void net_notice_mode(lua_State *L, int on);

/* Push the pending notices as a list (field n: how many were recorded, the
   list keeps the first few dozen) and forget them; an empty list when the
   mode is off. */
void net_notice_take(lua_State *L);

/* Register package.loaded["net.notice"], the Lua side of net_notice (its
   opener: called by loop_open with the net table at the top). */
void net_notice_open(lua_State *L);

/* The terminal, for conn:interact: the internal module "net.terminal"
   (package.loaded, no net.X name) with
     readline(escape) -> line | nil, "escape" | "eof" | "interrupted" | "stopped"
       one line typed (without its end of line), from the main thread only;
       escape: a byte (1..255) that ends the interaction when typed (with
       libedit: the key itself; in plain reads: a line containing it);
       Ctrl-C gives "interrupted", end of input "eof", stop() "stopped";
     stop() makes a readline in progress (or the next turn of it) return
       nil, "stopped" (the peer has gone).
   With a terminal and a line editor registered (the netlua program's
   libedit, net_set_lineread), lines are edited and output printed
   meanwhile keeps the line intact; otherwise (stock lua, pipes, files)
   stdin is read plainly on the loop. */
void net_terminal_open(lua_State *L);

/* A line editor for readline: `fn` pushes the line typed and returns 1,
   or returns 0 at end of input, -1 on Ctrl-C, -2 on the escape key, -3
   when stopped (it checks net_terminal_stopped() after each loop turn),
   -4 when it cannot edit (then stdin is read plainly). fn NULL removes it.
   Returns the previous one through *oldfn, *oldud (to put back). */
typedef int (*net_lineread_fn)(void *ud, lua_State *L, int escape);
void net_set_lineread(net_lineread_fn fn, void *ud, net_lineread_fn *oldfn, void **oldud);

/* True once stop() was called during the current readline. */
int net_terminal_stopped(void);

#endif
