/*
 * main.c: the netlua program. Its command line is Lua 5.4's own (`lua`):
 *   netlua [options] [script [args]]
 * with -e, -l (mod or g=mod), -i, -v, -E, -W, --, -, LUA_INIT_5_4/LUA_INIT,
 * the `arg` table and the same exit statuses. `net` is preloaded and set
 * as a global. As in lua.c, main only makes the state and runs everything
 * else in one protected call.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ares.h>
#include <histedit.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lineedit.h"
#include "loop.h"
#include "msgh.h"
#include "net.h"
#include "netaux.h"
#include "part.h"
#include "repl.h"
#include "task.h"
#include "tlslib.h"

static const char *progname = "netlua";

#ifdef NETLUA_FAILALLOC  /* the test build's failing allocator: src/failalloc.c */
lua_State *failalloc_newstate(void);
#define luaL_newstate failalloc_newstate
#endif

/* Flags found on the command line. */
enum { HAS_ERROR = 1, HAS_I = 2, HAS_V = 4, HAS_E = 8, HAS_BIG_E = 16, HAS_HELP = 32 };

/* Report the error at the top of the stack, if status is not OK. */
static int report(lua_State *L, int status) {
  if (status != LUA_OK) msgh_report(L, progname);
  return status;
}

/* Call the function below its `narg` arguments with a traceback handler and
   Ctrl-C armed. */
static int docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  int status;
  lua_pushcfunction(L, netlua_msghandler);
  lua_insert(L, base);
  loop_install_sigint(L);
  status = lua_pcall(L, narg, nres, base);
  loop_uninstall_sigint();
  lua_remove(L, base);
  return status;
}

/* The version line: netlua's, and those of Lua, c-ares, libedit and
   OpenSSL (the library loaded, by loading the TLS part: "3.0.13"; why not,
   if it cannot be). */
static void print_version(void) {
  const char *err;
  const tlslib *tls = tlslib_load(&err);
  printf("netlua %s  (%s, c-ares %s, libedit %s, %s%s)\n%s\n", NETLUA_VERSION,
         LUA_RELEASE, ares_version(NULL), LIBEDIT_VERSION, tls ? "OpenSSL " : "", tls ? tls->version() : err,
         LUA_COPYRIGHT);
  fflush(stdout);
}

/* Build `arg`: the script at 0, its arguments after, the interpreter and
   options at negative indices. */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
  int i, narg;
  if (script == argc) script = 0;  /* no script name */
  narg = argc - (script + 1);
  lua_createtable(L, narg, script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, status);
}

static int dofile(lua_State *L, const char *name) {
  return dochunk(L, luaL_loadfilex(L, name, "t"));
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbufferx(L, s, strlen(s), name, "t"));
}

/* -l mod or -l g=mod: require mod into global g. */
static int dolibrary(lua_State *L, char *globname) {
  int status;
  char *modname = strchr(globname, '=');
  if (modname == NULL) {
    modname = globname;
  } else {
    *modname = '\0';
    modname++;
  }
  lua_getglobal(L, "require");
  lua_pushstring(L, modname);
  status = docall(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, globname);
  return report(L, status);
}

/* Push the script's arguments (arg[1..n]) and return n. */
static int pushargs(lua_State *L) {
  int i, n;
  if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -i);
  return n;
}

/* Run the script (or standard input for "-"). */
static int handle_script(lua_State *L, char **argv) {
  const char *fname = argv[0];
  int status;
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL;
  status = luaL_loadfilex(L, fname, "t");
  if (status == LUA_OK) {
    int n = pushargs(L);
    status = docall(L, n, LUA_MULTRET);
  }
  return report(L, status);
}

/* Scan the options once. Returns the flags; *first is the index of the
   script (argc if none), or of the bad option on error. --help and -h
   (netlua's own; lua has neither) return HAS_HELP alone. */
static int collectargs(char **argv, int *first) {
  int args = 0, i;
  for (i = 1; argv[i] != NULL; i++) {
    *first = i;
    if (argv[i][0] != '-') return args;
    switch (argv[i][1]) {
      case '-':
        if (strcmp(argv[i], "--help") == 0) return HAS_HELP;
        if (argv[i][2] != '\0') return HAS_ERROR;
        *first = i + 1;
        return args;
      case '\0':
        return args;
      case 'h':
        return argv[i][2] == '\0' ? HAS_HELP : HAS_ERROR;
      case 'E':
        if (argv[i][2] != '\0') return HAS_ERROR;
        args |= HAS_BIG_E;
        break;
      case 'W':
        if (argv[i][2] != '\0') return HAS_ERROR;
        break;
      case 'i':
        args |= HAS_I;  /* fall through: -i implies -v */
        /* FALLTHROUGH */
      case 'v':
        if (argv[i][2] != '\0') return HAS_ERROR;
        args |= HAS_V;
        break;
      case 'e':
        args |= HAS_E;  /* FALLTHROUGH */
        /* FALLTHROUGH */
      case 'l':
        if (argv[i][2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-') return HAS_ERROR;
        }
        break;
      default:
        return HAS_ERROR;
    }
  }
  *first = i;
  return args;
}

/* Run -e, -l and -W in order. Returns 0 if one failed. */
static int runargs(lua_State *L, char **argv, int n) {
  for (int i = 1; i < n; i++) {
    int opt = argv[i][1];
    switch (opt) {
      case 'e':
      case 'l': {
        char *extra = argv[i] + 2;
        if (*extra == '\0') extra = argv[++i];
        if ((opt == 'e' ? dostring(L, extra, "=(command line)")
                        : dolibrary(L, extra)) != LUA_OK)
          return 0;
        break;
      }
      case 'W':
        lua_warning(L, "@on", 0);
        break;
    }
  }
  return 1;
}

/* LUA_INIT_5_4 or LUA_INIT: "@file" runs a file, else a chunk. */
static int handle_luainit(lua_State *L) {
  const char *name = "=LUA_INIT_5_4";
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=LUA_INIT";
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dofile(L, init + 1);
  return dostring(L, init, name);
}

/* The options, as lua prints them. */
static void usage_lines(FILE *f) {
  fprintf(f,
          "usage: %s [options] [script [args]]\n"
          "Available options are:\n"
          "  -e stat   execute string 'stat'\n"
          "  -i        enter interactive mode after executing 'script'\n"
          "  -l mod    require library 'mod' into global 'mod'\n"
          "  -l g=mod  require library 'mod' into global 'g'\n"
          "  -v        show version information\n"
          "  -E        ignore environment variables\n"
          "  -W        turn warnings on\n"
          "  --        stop handling options\n"
          "  -         stop handling options and execute stdin\n",
          progname);
}

static void print_usage(const char *badoption) {
  fprintf(stderr, "%s: ", progname);
  if (badoption[1] == 'e' || badoption[1] == 'l')
    fprintf(stderr, "'%s' needs argument\n", badoption);
  else
    fprintf(stderr, "unrecognized option '%s'\n", badoption);
  usage_lines(stderr);
  fflush(stderr);
}

/* --help, -h: the usage on stdout, and what netlua adds to lua. */
static void print_help(void) {
  usage_lines(stdout);
  fputs("The table net (sockets, DNS, HTTP, SMTP ...) is loaded; scripts run as with lua;\n"
        "at the prompt, help() lists everything and help \"http\" is a topic.\n", stdout);
  fflush(stdout);
}

/* help(...): the global `help`, in scripts as at the prompt; loads
   net.help only when first called, so start-up does not pay for it. */
static int l_help(lua_State *L) {
  int n = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "net.help");
  lua_call(L, 1, 1);
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

/* The line editor (lineedit.h): the edit part, netlua-edit.so, loaded when
   first needed, so that start-up does not load libedit. NULL, having said
   why on stderr (once), if it cannot be loaded. */
static const lineedit_lib *line_editor(void) {
  static const lineedit_lib *lib;
  static int tried;
  if (!tried) {
    char why[PATH_MAX + 256];
    tried = 1;
    lib = part_load(LINEEDIT_FILE, LINEEDIT_SYMBOL, LINEEDIT_ABI, why, sizeof why);
    if (lib == NULL) {
      fprintf(stderr, "%s: no line editor: %s\n", progname, why);
      fflush(stderr);
    }
  }
  return lib;
}

/* The prompt; 0 if it cannot run (no line editor). */
static int run_prompt(lua_State *L) {
  const lineedit_lib *ed = line_editor();
  if (ed == NULL) return 0;
  repl_run(L, progname, ed);
  return 1;
}

/* conn:interact in a script run at a terminal: the prompt's line editor,
   opened on first use and kept until the program ends (the prompt, when it
   runs, registers its own); without the edit part, plain reads (-4). */
static lineedit script_le;
static int script_le_open;

static int script_lineread(void *ud, lua_State *L, int escape) {
  const lineedit_lib *ed = line_editor();
  (void)ud;
  if (ed == NULL) return -4;
  if (!script_le_open) {
    ed->open(&script_le, L, progname);
    script_le_open = 1;
  }
  return ed->interact(&script_le, L, escape);
}

/* Set when Ctrl-C stopped the tasks a script left running: exit 130. */
static int interrupted_exit;

/* Tasks left when the script ends keep running until done, as a server
   script expects. Ctrl-C then ends the program with status 130 (as a
   shell reports SIGINT) and no traceback: the script never called the
   net.run that was interrupted. Another error is reported as usual. */
static int run_pending_tasks(lua_State *L) {
  int status;
  size_t len;
  const char *msg;
  if (task_count(L) == 0) return LUA_OK;
  lua_getglobal(L, "net");
  lua_getfield(L, -1, "run");
  lua_remove(L, -2);
  loop_install_sigint(L);
  status = lua_pcall(L, 0, 0, 0);
  loop_uninstall_sigint();
  msg = status == LUA_OK ? NULL : lua_tolstring(L, -1, &len);
  if (msg && len >= 12 && strcmp(msg + len - 12, "interrupted!") == 0) {
    lua_pop(L, 1);
    interrupted_exit = 1;
    return status;
  }
  return report(L, status);
}

/* package.searchers[2] for netlua: Lua's own searcher, but a module file
   is loaded as text only, as scripts are (a corrupted binary chunk can
   crash Lua 5.4). Upvalue 1 is the package table. */
static int text_searcher(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const char *file;
  lua_getfield(L, lua_upvalueindex(1), "searchpath");
  lua_pushvalue(L, 1);
  lua_getfield(L, lua_upvalueindex(1), "path");
  if (lua_type(L, -1) != LUA_TSTRING)
    return luaL_error(L, "'package.path' must be a string");
  lua_call(L, 2, 2);
  if (lua_isnil(L, -2)) return 1;  /* the "no file ..." lines */
  file = lua_tostring(L, -2);
  if (luaL_loadfilex(L, file, "t") != LUA_OK)
    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s",
                      name, file, lua_tostring(L, -1));
  lua_pushstring(L, file);
  return 2;
}

/* Put text_searcher in the place of Lua's file searcher. */
static void install_text_searcher(lua_State *L) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchers");
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, text_searcher, 1);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 2);
}

/* Everything, in protected mode: options, libraries, init, -e/-l, the
   script, then the prompt or standard input. */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script = argc;
  int args = collectargs(argv, &script);
  int optlim = script > 0 ? script : argc;
  luaL_checkversion(L);
  if (args == HAS_ERROR) {
    print_usage(argv[script]);
    return 0;
  }
  if (args == HAS_HELP) {
    print_help();
    lua_pushboolean(L, 1);
    return 1;
  }
  if (args & HAS_BIG_E) {
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  install_text_searcher(L);
  luaL_requiref(L, "net", luaopen_net, 1);
  lua_pop(L, 1);
  net_set_lineread(script_lineread, NULL, NULL, NULL);
  lua_pushcfunction(L, l_help);
  lua_setglobal(L, "help");
  createargtable(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);  /* main stopped it while building the state */
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (args & HAS_V) print_version();
  if (!(args & HAS_BIG_E) && handle_luainit(L) != LUA_OK) return 0;
  if (!runargs(L, argv, optlim)) return 0;
  if (script < argc) {
    if (handle_script(L, argv + script) != LUA_OK) return 0;
  }
  if (args & HAS_I) {
    if (!run_prompt(L)) return 0;
  } else if (script == argc && !(args & (HAS_E | HAS_V)) && isatty(0)) {
    print_version();
    if (!run_prompt(L)) return 0;
  } else {
    if (script == argc && !(args & (HAS_E | HAS_V)) && dofile(L, NULL) != LUA_OK)
      return 0;
    if (run_pending_tasks(L) != LUA_OK) return 0;
    if (task_errors(L) > 0) return 0;  /* a task died: the run failed */
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* A server of ten thousand connections needs as many descriptors: raise
   the soft limit to the hard one, as servers do (epoll has no FD_SETSIZE
   ceiling). */
static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int main(int argc, char **argv) {
  int status, result;
  lua_State *L = luaL_newstate();
  if (argv[0] && argv[0][0]) {
    const char *slash = strrchr(argv[0], '/');
    progname = slash ? slash + 1 : argv[0];
  }
  if (L == NULL) {
    msgh_message(progname, "cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  raise_fd_limit();
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  result = lua_toboolean(L, -1);
  report(L, status);
  if (script_le_open) line_editor()->close(&script_le);
  lua_close(L);
  if (interrupted_exit) return 128 + SIGINT;
  return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
