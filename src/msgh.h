/*
 * msgh.h: how the netlua program reports errors, the same way on the
 * command line (main.c) and at the prompt (repl.c): a message handler that
 * adds a traceback, and "progname: message" on stderr.
 */
#ifndef NETLUA_MSGH_H
#define NETLUA_MSGH_H

#include <lua.h>

/* The message handler of every protected call of the program: any error
   object becomes a message with a traceback, as in lua.c. */
int netlua_msghandler(lua_State *L);

/* Print "progname: msg" on stderr (just msg if progname is NULL). */
void msgh_message(const char *progname, const char *msg);

/* Print the error message at the top of the stack as msgh_message does
   (a non-string says so) and pop it. */
void msgh_report(lua_State *L, const char *progname);

#endif
