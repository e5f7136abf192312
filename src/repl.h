/*
 * repl.h: the interactive prompt (libedit, through the edit part: see
 * lineedit.h), run on the event loop so tasks keep running while a line is
 * typed.
 */
#ifndef NETLUA_REPL_H
#define NETLUA_REPL_H

#include <lua.h>

struct lineedit_lib;

/* Read-eval-print until end of input (Ctrl-D), reading lines with `ed`
   (the edit part, loaded by main.c). Runs inside a protected call made by
   main.c; never lets an error escape. `progname` prefixes messages. */
void repl_run(lua_State *L, const char *progname, const struct lineedit_lib *ed);

#endif
