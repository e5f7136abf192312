/*
 * trace.h: transcripts of sockets, the C side. A trace handler is a Lua
 * function(what, data, sock [, peer]) made by net.transcript.handler
 * (lua/net/transcript.lua formats); this part builds handlers from what a
 * user gives (true, a function, a file, a path) with the terminal test Lua
 * lacks, and keeps the global handler of net.trace, which every socket
 * made afterwards (connect, accept, udp) takes as its own.
 */
#ifndef NETLUA_TRACE_H
#define NETLUA_TRACE_H

#include <lua.h>

/* Push a handler for `how` (stack index; true, function, file, path) with
   transcript options at `opts` (0 or a nil index: none) and return 1; for
   a path that cannot be opened push nil and the message and return 0.
   Another `how` raises. */
int trace_build(lua_State *L, int how, int opts);

/* Push the global handler of net.trace and return 1, or push nothing and
   return 0 when tracing is off. */
int trace_pushglobal(lua_State *L);

/* Add net.trace to the table at the top; leave in the registry the
   internal functions connmethods.lua needs (see trace.c). */
void trace_open(lua_State *L);

/* Push the internal C function handler(how [, opts]) -> handler | nil, msg
   (what trace_build does, callable from Lua). */
void trace_pushbuilder(lua_State *L);

#endif
