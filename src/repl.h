/*
 * repl.h: the interactive prompt (libedit), run on the event loop so tasks
 * keep running while a line is typed.
 */
#ifndef NETLUA_REPL_H
#define NETLUA_REPL_H

#include <lua.h>

/* Read-eval-print until end of input (Ctrl-D). Runs inside a protected call
   made by main.c; never lets an error escape. `progname` prefixes
   messages. */
void repl_run(lua_State *L, const char *progname);

#endif
