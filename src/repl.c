/*
 * repl.c: netlua's interactive prompt: read, evaluate, print, on the event
 * loop. Lines come from lineedit.c (libedit or plain reads), in the edit
 * part: through its table (lineedit.h).
 *
 * Evaluation follows lua.c: a line is tried as `return <line>`, then as a
 * statement; a chunk whose syntax error ends at <eof> continues on the
 * second prompt. Results are printed through net.pretty (through the
 * global print instead once the user has replaced it, as lua.c calls it),
 * errors on stderr (msgh.c): the message alone for Ctrl-C and for an error
 * the typed chunk raised itself, with a traceback when it came from deeper
 * code. Ctrl-C discards the line being typed, or
 * interrupts running code ("interrupted!"); Ctrl-D on an empty line leaves.
 *
 * Failures are never silent at the prompt: notice mode (netaux.h) records
 * each failure of a net call made directly by the line, and the line's
 * notices are printed after it ran as "*** MESSAGE" (at most NOTICES_SHOWN,
 * then "*** (N more)"), except those the printed results or the error
 * already show.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lineedit.h"
#include "loop.h"
#include "msgh.h"
#include "netaux.h"
#include "repl.h"

#define NOTICES_SHOWN 3

/* The prompt's state. */
typedef struct repl {
  lua_State *L;
  const char *progname;
  const lineedit_lib *ed;
  lineedit le;
  int printref;  /* the global print when the prompt started */
} repl;

/* ---- evaluation ------------------------------------------------------- */

/* Print the message at the top on stderr and pop it. */
static void report(repl *r) {
  msgh_report(r->L, r->progname);
}

/* True when the error being handled was raised by the typed chunk itself
   (or a C function it called directly): no Lua function other than the
   chunk is on the stack below the handler. An error that names the typed
   line (msg "stdin:...") raised by net's own Lua parts ("@lua/net/...",
   e.g. net.http.serve's "bad argument") counts as the chunk's, as the
   same mistake made with a C function of net does. */
static int raised_by_chunk(lua_State *L, const char *msg) {
  lua_Debug ar;
  int blamed = msg && strncmp(msg, "stdin:", 6) == 0;
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "S", &ar);
    if (strcmp(ar.what, "main") == 0) return 1;
    if (blamed && strncmp(ar.source, "@lua/net/", 9) == 0) continue;
    if (strcmp(ar.what, "Lua") == 0) return 0;
  }
  return 0;
}

/* The prompt's message handler. A traceback only when it helps: not for
   Ctrl-C ("interrupted!"), not for an error the typed chunk raised itself
   (its message names stdin:LINE already); for an error from deeper code
   (a function, a module) the traceback, as the program's handler gives. */
static int prompt_msghandler(lua_State *L) {
  size_t len;
  const char *msg = lua_tolstring(L, 1, &len);
  if (msg && ((len >= 12 && strcmp(msg + len - 12, "interrupted!") == 0) || raised_by_chunk(L, msg)))
    return 1;
  return netlua_msghandler(L);
}

/* A syntax error that ends at <eof>: more lines may complete it. Pops the
   message if so. */
static int incomplete(lua_State *L, int status) {
  size_t n;
  const char *msg;
  if (status != LUA_ERRSYNTAX) return 0;
  msg = lua_tolstring(L, -1, &n);
  if (n >= 5 && strcmp(msg + n - 5, "<eof>") == 0) {
    lua_pop(L, 1);
    return 1;
  }
  return 0;
}

/* The line at the top as `return <line>;` (`=expr` too): on success push
   the function above the line; else leave the line alone. The return is
   kept from being a tail call (a to-be-closed nil is in scope), so a
   function written in Lua called there still has the prompt's line as its
   caller: its errors say "stdin:1:" and its failures are noticed. */
#define NOTAIL "local __netlua_notail <close> = nil; "
static int load_return(lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *code = line[0] == '=' ? lua_pushfstring(L, NOTAIL "return %s;", line + 1)
                                    : lua_pushfstring(L, NOTAIL "return %s;", line);
  if (luaL_loadbufferx(L, code, strlen(code), "=stdin", "t") == LUA_OK) {
    lua_remove(L, -2);
    return LUA_OK;
  }
  lua_pop(L, 2);
  return LUA_ERRSYNTAX;
}

/* Compile the chunk at the top as statements, reading more lines while it
   is incomplete. Leaves the chunk and then the function or the error
   message. Returns the load status, or -1 when the chunk was dropped
   (Ctrl-C, or end of input: then *eof is set). */
static int load_statements(repl *r, int *eof) {
  lua_State *L = r->L;
  for (;;) {
    size_t n;
    const char *chunk = lua_tolstring(L, -1, &n);
    int st = luaL_loadbufferx(L, chunk, n, "=stdin", "t"), got;
    if (!incomplete(L, st)) return st;
    got = r->ed->read(&r->le, 0);
    if (got <= 0) {
      *eof = got == 0;
      if (*eof) {  /* report what is missing, as lua does */
        luaL_loadbufferx(L, chunk, n, "=stdin", "t");
        report(r);
      }
      return -1;
    }
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/* Print the results above `base` as the prompt shows values
   (net.pretty.show, kept at r->showref), on stdout. */
static void print_results(repl *r, int base, int showref) {
  lua_State *L = r->L;
  int n = lua_gettop(L) - base, own;
  if (n <= 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "print");
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->printref);
  own = !lua_rawequal(L, -1, -2);
  lua_pop(L, 1);
  if (own) {  /* the user's print prints the results, as in lua.c */
    lua_insert(L, base + 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK) {
      lua_pushfstring(L, "error calling 'print' (%s)", lua_tostring(L, -1));
      report(r);
    }
    lua_settop(L, base);
    return;
  }
  lua_pop(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, showref);
  if (!lua_isfunction(L, -1)) {  /* no net.pretty: tostring them */
    lua_pop(L, 1);
    lua_getglobal(L, "print");
  }
  lua_insert(L, base + 1);
  if (lua_pcall(L, n, 1, 0) != LUA_OK) {
    lua_pushfstring(L, "error printing the results: %s", lua_tostring(L, -1));
    report(r);
  } else if (lua_type(L, -1) == LUA_TSTRING) {
    size_t len;
    const char *text = lua_tolstring(L, -1, &len);
    fwrite(text, 1, len, stdout);   /* all of it: NUL bytes included */
    fputs("\n", stdout);
    fflush(stdout);
  }
  lua_settop(L, base);
}

/* Drop from the list of notices at `list` the messages that the values in
   [from, to] show already (a string result equal to one, or an error
   message containing it). */
static void notices_filter(lua_State *L, int list, int from, int to, int inside) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, list), k = 0, dropped = 0;
  for (lua_Integer i = 1; i <= n; i++) {
    int shown = 0;
    const char *m;
    lua_rawgeti(L, list, i);
    m = lua_tostring(L, -1);
    for (int j = from; j <= to && !shown; j++) {
      const char *v = lua_type(L, j) == LUA_TSTRING ? lua_tostring(L, j) : NULL;
      shown = v && (inside ? strstr(v, m) != NULL : strcmp(v, m) == 0);
    }
    if (shown) { lua_pop(L, 1); dropped++; continue; }
    lua_rawseti(L, list, ++k);
  }
  for (lua_Integer i = k + 1; i <= n; i++) {
    lua_pushnil(L);
    lua_rawseti(L, list, i);
  }
  lua_getfield(L, list, "n");
  lua_pushinteger(L, lua_tointeger(L, -1) - dropped);
  lua_setfield(L, list, "n");
  lua_pop(L, 1);
}

/* Print the notices of the list at `list` on stderr: a few, then how many
   more. */
static void notices_print(lua_State *L, int list) {
  lua_Integer n, shown = 0, len = (lua_Integer)lua_rawlen(L, list);
  lua_getfield(L, list, "n");
  n = lua_tointeger(L, -1);
  lua_pop(L, 1);
  for (lua_Integer i = 1; i <= len && shown < NOTICES_SHOWN; i++, shown++) {
    lua_rawgeti(L, list, i);
    fprintf(stderr, "*** %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  if (n > shown) fprintf(stderr, "*** (%lld more)\n", (long long)(n - shown));
  fflush(stderr);
}

/* Read, compile and run one chunk. Returns 0 at end of input. */
static int do_chunk(repl *r, int showref) {
  lua_State *L = r->L;
  int base = lua_gettop(L), st, eof = 0;
  int got = r->ed->read(&r->le, 1);
  if (got <= 0) return got < 0;
  st = load_return(L);
  if (st != LUA_OK) st = load_statements(r, &eof);
  if (st < 0) {
    lua_settop(L, base);
    return !eof;
  }
  if (st != LUA_OK) {  /* syntax error: not kept in the history */
    report(r);
    lua_settop(L, base);
    return 1;
  }
  r->ed->remember(&r->le, lua_tostring(L, -2));
  lua_remove(L, -2);
  net_notice_take(L);                 /* none from before this line */
  lua_pop(L, 1);
  lua_pushcfunction(L, prompt_msghandler);
  lua_insert(L, base + 1);
  st = lua_pcall(L, 0, LUA_MULTRET, base + 1);
  lua_remove(L, base + 1);
  net_notice_take(L);
  lua_insert(L, base + 1);            /* the notices below the results */
  notices_filter(L, base + 1, base + 2, lua_gettop(L), st != LUA_OK);
  if (st != LUA_OK)
    report(r);
  else
    print_results(r, base + 1, showref);
  notices_print(L, base + 1);
  lua_settop(L, base);
  return 1;
}

/* ---- setting up ------------------------------------------------------- */

/* require(name) protected; pushes the module or nil. */
static void require_quietly(lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
}

/* `help` as a global (unless one is set), and net.pretty.show kept for
   printing results; returns its registry reference. */
static int setup_lua(lua_State *L) {
  if (lua_getglobal(L, "help") == LUA_TNIL) {
    require_quietly(L, "net.help");
    lua_setglobal(L, "help");
  }
  lua_pop(L, 1);
  require_quietly(L, "net.pretty");
  if (lua_istable(L, -1)) lua_getfield(L, -1, "show"); else lua_pushnil(L);
  lua_remove(L, -2);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

void repl_run(lua_State *L, const char *progname, const lineedit_lib *ed) {
  repl r;
  int base = lua_gettop(L), showref;
  r.L = L;
  r.progname = progname;
  r.ed = ed;
  showref = setup_lua(L);
  lua_getglobal(L, "print");
  r.printref = luaL_ref(L, LUA_REGISTRYINDEX);
  ed->open(&r.le, L, progname);
  loop_install_sigint(L);
  net_notice_mode(L, 1);
  while (do_chunk(&r, showref)) lua_settop(L, base);
  net_notice_mode(L, 0);
  loop_uninstall_sigint();
  fputs("\n", stdout);
  fflush(stdout);
  ed->close(&r.le);
  luaL_unref(L, LUA_REGISTRYINDEX, showref);
  luaL_unref(L, LUA_REGISTRYINDEX, r.printref);
  lua_settop(L, base);
}
