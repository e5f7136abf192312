/*
 * msgh.c: error reporting shared by the command line and the prompt: the
 * message handler of the program's protected calls and the
 * "progname: message" line on stderr. See msgh.h.
 */
#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>

#include "msgh.h"

/* Message handler: turn any error object into a message with a traceback. */
int netlua_msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Print a message on stderr, prefixed with the program name; one call, so
   an unbuffered stderr writes the line whole. */
void msgh_message(const char *progname, const char *msg) {
  if (progname)
    fprintf(stderr, "%s: %s\n", progname, msg);
  else
    fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}

/* Report the error message at the top of the stack and pop it. */
void msgh_report(lua_State *L, const char *progname) {
  const char *msg = lua_tostring(L, -1);
  msgh_message(progname, msg ? msg : "(error object is not a string)");
  lua_pop(L, 1);
}
