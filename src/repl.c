/*
 * repl.c: netlua's interactive prompt, on libedit's native API (histedit.h)
 * and on the event loop.
 *
 * Lines are read with el_gets; libedit gets its characters from getc_fn,
 * which turns the event loop (loop_turn) until the terminal is readable, so
 * tasks spawned at the prompt keep running while a line is typed. Output
 * that tasks write meanwhile goes through stdout/stderr replaced by stdio
 * cookies: the first write of a batch clears the line being typed, and the
 * loop's `after` hook draws it again below the output.
 *
 * Evaluation follows lua.c: a line is tried as `return <line>`, then as a
 * statement; a chunk whose syntax error ends at <eof> continues on the
 * second prompt. Results are printed through net.pretty, errors with a
 * traceback on stderr. Ctrl-C discards the line being typed, or interrupts
 * running code ("interrupted!"); Ctrl-D on an empty line leaves.
 *
 * History: ~/.netlua_history, at most HISTORY_MAX entries, only chunks that
 * compiled. Each chunk is appended to the file as it is accepted, so two
 * prompts open at once both keep their lines; the file is trimmed back to
 * HISTORY_MAX entries when a session loads it and finds it longer. Tab completes globals, keywords, fields (`net.con`) and methods
 * through metatables (`c:rec`).
 *
 * Without a usable terminal (stdin not a tty with -i, TERM=dumb, el_init
 * failing) lines are read plainly, still on the loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <wchar.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "loop.h"
#include "msgh.h"
#include "repl.h"

#define HISTORY_MAX 1000
#define HISTORY_NAME ".netlua_history"
#define LIST_MAX 120         /* completion candidates listed at most */

typedef struct repl repl;

/* A stdio cookie standing for stdout or stderr while the prompt runs. */
typedef struct outcookie {
  repl *r;
  int fd;
} outcookie;

struct repl {
  lua_State *L;
  const char *progname;
  EditLine *el;              /* NULL: plain reads */
  History *hist;
  char *histfile;            /* NULL: no history file */
  FILE *out, *err;           /* the real stdout and stderr */
  FILE *cout, *cerr;         /* the cookies put in their place */
  outcookie ckout, ckerr;
  int streamref;             /* registry ref of {io.stdout, io.stderr} */
  char prompt[256];
  int editing;               /* inside el_gets: the line is on screen */
  int cleared;               /* output went over the line: draw it again */
  int lastnl;                /* that output ended with a newline */
  int interrupted;           /* Ctrl-C while reading */
  char in[4096];             /* plain mode: bytes read, not yet used */
  size_t inlen;
};

/* ---- output while a line is being typed ------------------------------- */

/* Write all of buf to fd (the terminal). */
static int write_all(int fd, const char *buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Erase the line being edited (all its screen rows up to the cursor), so
   that output starts at column 0 of a clean row. */
static void line_clear(repl *r) {
  const LineInfoW *li = el_wline(r->el);
  int cols = 0, col, rows;
  char seq[32];
  if (el_get(r->el, EL_GETTC, "co", &cols) != 0 || cols <= 0) cols = 80;
  col = (int)strlen(r->prompt);
  for (const wchar_t *p = li->buffer; p < li->cursor; p++) {
    int w = wcwidth(*p);
    col += w > 0 ? w : 1;
  }
  rows = col / cols;
  if (rows > 0) {
    snprintf(seq, sizeof seq, "\033[%dA", rows);
    write_all(STDOUT_FILENO, seq, strlen(seq));
  }
  write_all(STDOUT_FILENO, "\r\033[J", 4);
}

/* Cookie write: clear the line first if it is on screen. */
static ssize_t cookie_write(void *c, const char *buf, size_t n) {
  outcookie *ck = c;
  repl *r = ck->r;
  if (n == 0) return 0;
  if (r->editing) {
    if (!r->cleared) line_clear(r);
    r->cleared = 1;
    r->lastnl = buf[n - 1] == '\n';
  }
  if (write_all(ck->fd, buf, n) < 0) return -1;
  return (ssize_t)n;
}

/* After tasks ran: flush what they wrote and draw the line again. */
static void after_tasks(void *ud) {
  repl *r = ud;
  fflush(r->cout);
  fflush(r->cerr);
  if (!r->editing || !r->cleared) return;
  if (!r->lastnl) write_all(STDOUT_FILENO, "\n", 1);
  r->cleared = 0;
  el_set(r->el, EL_REFRESH);
}

/* Where io.stdout and io.stderr (kept at r->streamref) write: FILEs
   `from` become `to`. */
static void streams_swap(repl *r, FILE *from1, FILE *to1, FILE *from2, FILE *to2) {
  lua_State *L = r->L;
  luaL_Stream *p;
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->streamref);
  lua_rawgeti(L, -1, 1);
  if ((p = luaL_testudata(L, -1, LUA_FILEHANDLE)) && p->f == from1) p->f = to1;
  lua_rawgeti(L, -2, 2);
  if ((p = luaL_testudata(L, -1, LUA_FILEHANDLE)) && p->f == from2) p->f = to2;
  lua_pop(L, 3);
}

/* Route stdout and stderr (C's, and Lua's io.stdout and io.stderr) through
   the cookies. glibc lets a program assign stdout and stderr; print and
   fprintf(stderr) read them at each call. */
static void streams_install(repl *r) {
  lua_State *L = r->L;
  cookie_io_functions_t fns = {NULL, cookie_write, NULL, NULL};
  r->ckout.r = r->ckerr.r = r;
  r->ckout.fd = STDOUT_FILENO;
  r->ckerr.fd = STDERR_FILENO;
  r->cout = fopencookie(&r->ckout, "w", fns);
  r->cerr = fopencookie(&r->ckerr, "w", fns);
  if (!r->cout || !r->cerr) {
    if (r->cout) fclose(r->cout);
    if (r->cerr) fclose(r->cerr);
    r->cout = r->cerr = NULL;
    return;
  }
  setvbuf(r->cout, NULL, _IOLBF, BUFSIZ);
  setvbuf(r->cerr, NULL, _IONBF, 0);
  fflush(stdout);
  fflush(stderr);
  stdout = r->cout;
  stderr = r->cerr;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, LUA_IOLIBNAME);
  lua_createtable(L, 2, 0);
  if (lua_type(L, -2) == LUA_TTABLE) {
    lua_getfield(L, -2, "stdout");
    lua_rawseti(L, -2, 1);
    lua_getfield(L, -2, "stderr");
    lua_rawseti(L, -2, 2);
  }
  r->streamref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 2);
  streams_swap(r, r->out, r->cout, r->err, r->cerr);
}

/* Put the real stdout and stderr back. */
static void streams_remove(repl *r) {
  if (!r->cout) return;
  fflush(r->cout);
  fflush(r->cerr);
  stdout = r->out;
  stderr = r->err;
  streams_swap(r, r->cout, r->out, r->cerr, r->err);
  luaL_unref(r->L, LUA_REGISTRYINDEX, r->streamref);
  fclose(r->cout);
  fclose(r->cerr);
  r->cout = r->cerr = NULL;
}

/* ---- reading lines ---------------------------------------------------- */

static volatile sig_atomic_t resized;  /* SIGWINCH seen: tell libedit */

/* SIGWINCH: only a flag; the next key read applies it. */
static void on_winch(int sig) {
  (void)sig;
  resized = 1;
}

/* libedit's character source: turn the event loop (running tasks) until
   the terminal has a byte, then read one character, a UTF-8 sequence
   whole. Ctrl-C sets r->interrupted and returns -1: el_gets then returns
   NULL and the line is dropped. */
static int getc_fn(EditLine *el, wchar_t *wc) {
  repl *r;
  char buf[MB_LEN_MAX];
  size_t n = 0;
  el_get(el, EL_CLIENTDATA, &r);
  *wc = 0;
  for (;;) {
    mbstate_t mbs;
    size_t m;
    ssize_t k;
    int t = loop_turn(r->L, STDIN_FILENO, -1);
    if (resized) {
      resized = 0;
      el_resize(el);
    }
    if (t < 0) {
      r->interrupted = 1;
      errno = EINTR;
      return -1;
    }
    if (t == 0) continue;
    k = read(STDIN_FILENO, buf + n, 1);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k <= 0) return k < 0 ? -1 : 0;
    n++;
    memset(&mbs, 0, sizeof mbs);
    m = mbrtowc(wc, buf, n, &mbs);
    if (m == (size_t)-2 && n < sizeof buf) continue;  /* more bytes to come */
    if (m == (size_t)-1 || m == (size_t)-2) {          /* invalid: dropped */
      n = 0;
      continue;
    }
    return 1;
  }
}

/* The prompt libedit shows. */
static char *prompt_fn(EditLine *el) {
  repl *r;
  el_get(el, EL_CLIENTDATA, &r);
  return r->prompt;
}

/* Choose the prompt: _PROMPT / _PROMPT2 if set (as in lua), else "> " and
   ">> ". */
static void set_prompt(repl *r, int first) {
  lua_State *L = r->L;
  const char *p;
  lua_pushglobaltable(L);
  lua_pushstring(L, first ? "_PROMPT" : "_PROMPT2");
  lua_rawget(L, -2);
  p = lua_tostring(L, -1);
  snprintf(r->prompt, sizeof r->prompt, "%s", p ? p : first ? "> " : ">> ");
  lua_pop(L, 2);
}

/* Read a line with libedit; push it without its newline. Returns 1, 0 at
   end of input, -1 on Ctrl-C. */
static int edit_line(repl *r) {
  const char *s;
  int n = 0;
  r->interrupted = 0;
  r->cleared = 0;
  r->editing = 1;
  el_set(r->el, EL_PREP_TERM, 1);  /* keys typed once the prompt shows are raw */
  s = el_gets(r->el, &n);
  r->editing = 0;
  if (r->interrupted) {
    fputs("^C\n", r->out);
    fflush(r->out);
    return -1;
  }
  if (s == NULL || n <= 0) return 0;
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
  lua_pushlstring(r->L, s, (size_t)n);
  return 1;
}

/* Read a line without libedit (no terminal, or a dumb one), still on the
   loop; push it without its newline. Returns 1, 0 at end of input, -1 on
   Ctrl-C. */
static int plain_line(repl *r) {
  lua_State *L = r->L;
  luaL_Buffer b;
  int got = 0;
  fputs(r->prompt, stdout);
  fflush(stdout);
  luaL_buffinit(L, &b);
  for (;;) {
    char *nl = memchr(r->in, '\n', r->inlen);
    size_t take = nl ? (size_t)(nl - r->in) + 1 : r->inlen;
    ssize_t k;
    luaL_addlstring(&b, r->in, nl ? take - 1 : take);
    memmove(r->in, r->in + take, r->inlen - take);
    r->inlen -= take;
    got |= take > 0;
    if (nl) break;
    if (loop_turn(L, STDIN_FILENO, -1) < 0) {
      luaL_pushresult(&b);
      lua_pop(L, 1);
      fputs("\n", stdout);
      return -1;
    }
    k = read(STDIN_FILENO, r->in, sizeof r->in);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k <= 0) {
      luaL_pushresult(&b);
      if (got) return 1;
      lua_pop(L, 1);
      return 0;
    }
    r->inlen = (size_t)k;
  }
  luaL_pushresult(&b);
  if (lua_rawlen(L, -1) > 0 && lua_tostring(L, -1)[lua_rawlen(L, -1) - 1] == '\r') {
    lua_pushlstring(L, lua_tostring(L, -1), lua_rawlen(L, -1) - 1);
    lua_remove(L, -2);
  }
  return 1;
}

/* Push the next line, showing the first or second prompt. */
static int push_line(repl *r, int first) {
  set_prompt(r, first);
  return r->el ? edit_line(r) : plain_line(r);
}

/* ---- history ---------------------------------------------------------- */

/* Open the history and load ~/.netlua_history if there is a HOME; a file
   grown past HISTORY_MAX (every session appends) is rewritten with the
   last HISTORY_MAX entries. */
static void history_open(repl *r) {
  HistEvent ev;
  const char *home = getenv("HOME");
  int n;
  r->hist = history_init();
  if (r->hist == NULL) return;
  history(r->hist, &ev, H_SETSIZE, HISTORY_MAX);
  history(r->hist, &ev, H_SETUNIQUE, 1);
  el_set(r->el, EL_HIST, history, r->hist);
  if (home == NULL || *home == '\0') return;
  if (asprintf(&r->histfile, "%s/%s", home, HISTORY_NAME) < 0) {
    r->histfile = NULL;
    return;
  }
  n = history(r->hist, &ev, H_LOAD, r->histfile);
  if (n > HISTORY_MAX) history(r->hist, &ev, H_SAVE, r->histfile);
}

/* Append one entry to the history file in libedit's format (its first
   line a cookie; each entry on one line, with backslash doubled and
   blanks, control and non-ASCII bytes as \ooo, as strunvis reads them).
   One write(2) with O_APPEND, so lines of two sessions do not mix. */
static void history_append(const char *file, const char *chunk) {
  static const char cookie[] = "_HiStOrY_V2_\n";
  size_t len = strlen(chunk), k = 0;
  char *line = malloc(4 * len + 2);
  struct stat st;
  int fd;
  if (line == NULL) return;
  for (const unsigned char *p = (const unsigned char *)chunk; *p; p++) {
    if (*p == '\\') { line[k++] = '\\'; line[k++] = '\\'; }
    else if (*p <= 0x20 || *p >= 0x7f) k += (size_t)sprintf(line + k, "\\%03o", *p);
    else line[k++] = (char)*p;
  }
  line[k++] = '\n';
  fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ssize_t w = 0;
    if (fstat(fd, &st) == 0 && st.st_size == 0) w = write(fd, cookie, sizeof cookie - 1);
    if (w >= 0) w = write(fd, line, k);
    (void)w;
    close(fd);
  }
  free(line);
}

/* Keep a chunk that compiled (not blank ones, not a repeat of the last
   one); append it to the file now, so a killed session loses nothing. A
   file that cannot be written is no error. */
static void history_add(repl *r, const char *chunk) {
  HistEvent ev;
  if (r->hist == NULL || chunk[strspn(chunk, " \t\r\n")] == '\0') return;
  if (history(r->hist, &ev, H_FIRST) != -1 && strcmp(ev.str, chunk) == 0) return;
  history(r->hist, &ev, H_ENTER, chunk);
  if (r->histfile) history_append(r->histfile, chunk);
}

/* ---- completion ------------------------------------------------------- */

static const char *const keywords[] = {
  "and", "break", "do", "else", "elseif", "end", "false", "for",
  "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat",
  "return", "then", "true", "until", "while", NULL};

/* Characters of the word being completed: names, '.' and ':'. */
static int word_char(char c) {
  return c == '_' || c == '.' || c == ':' || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* True when the string at idx is a Lua name (not a keyword). */
static int is_name(lua_State *L, int idx) {
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '.' || s[i] == ':' || !word_char(s[i])) return 0;
  for (int i = 0; keywords[i]; i++)
    if (strcmp(s, keywords[i]) == 0) return 0;
  return 1;
}

/* Add to the set at `set` the name keys of the table at the top that start
   with `pre` (only those holding functions if `onlyfn`), then those of its
   metatable's __index tables. Names starting with "__" only if asked. */
static void add_keys(lua_State *L, int set, const char *pre, int onlyfn, int depth) {
  int t = lua_gettop(L);
  size_t plen = strlen(pre);
  luaL_checkstack(L, 8, "completion");
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (lua_type(L, -2) == LUA_TSTRING && is_name(L, -2) &&
        (!onlyfn || lua_type(L, -1) == LUA_TFUNCTION)) {
      const char *k = lua_tostring(L, -2);
      if (strncmp(k, pre, plen) == 0 && (strncmp(k, "__", 2) != 0 || strncmp(pre, "__", 2) == 0)) {
        lua_pushvalue(L, -2);
        lua_pushboolean(L, 1);
        lua_rawset(L, set);
      }
    }
    lua_pop(L, 1);
  }
  if (depth < 8 && lua_getmetatable(L, t)) {
    if (lua_getfield(L, -1, "__index") == LUA_TTABLE)
      add_keys(L, set, pre, onlyfn, depth + 1);
    lua_pop(L, 2);
  }
}

/* `net` loads its Lua parts on first use: offer them before that. */
static void add_net_parts(lua_State *L, int set, const char *pre) {
  int t = lua_gettop(L), isnet;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "net");
  isnet = lua_rawequal(L, -1, t);
  lua_pop(L, 2);
  if (!isnet) return;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    if (strncmp(k, "net.", 4) == 0 && strncmp(k + 4, pre, strlen(pre)) == 0) {
      lua_pushstring(L, k + 4);
      lua_pushboolean(L, 1);
      lua_rawset(L, set);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* Push the value a path of names ("a.b.c", `n` bytes) leads to from the
   globals (indexing as Lua does, so lazy fields load); nil if a step is
   missing. */
static void push_path(lua_State *L, const char *s, size_t n) {
  const char *end = s + n;
  lua_pushglobaltable(L);
  while (s < end) {
    const char *dot = memchr(s, '.', (size_t)(end - s));
    int tt = lua_type(L, -1);
    if (!dot) dot = end;
    if (tt != LUA_TTABLE && tt != LUA_TUSERDATA && tt != LUA_TSTRING) {
      lua_pop(L, 1);
      lua_pushnil(L);
      return;
    }
    lua_pushlstring(L, s, (size_t)(dot - s));
    lua_gettable(L, -2);
    lua_remove(L, -2);
    s = dot + 1;
  }
}

/* Lua side of completion, run protected: for the word (argument 1) return
   the sorted names that may follow its last '.' or ':' (or the global
   names and keywords for a plain word). */
static int l_candidates(lua_State *L) {
  size_t n;
  const char *w = luaL_checklstring(L, 1, &n);
  const char *sep = w + n;
  int set, onlyfn = 0;
  while (sep > w && sep[-1] != '.' && sep[-1] != ':') sep--;
  lua_newtable(L);
  set = lua_gettop(L);
  if (sep == w) {
    lua_pushglobaltable(L);
    add_keys(L, set, w, 0, 0);
    lua_pop(L, 1);
    for (int i = 0; keywords[i]; i++)
      if (strncmp(keywords[i], w, n) == 0) {
        lua_pushboolean(L, 1);
        lua_setfield(L, set, keywords[i]);
      }
  } else {
    size_t plen = (size_t)(sep - w) - 1;
    if (sep[-1] == ':' && memchr(w, ':', plen)) return 0;
    onlyfn = sep[-1] == ':';
    push_path(L, w, plen);
    if (lua_type(L, -1) == LUA_TTABLE) {
      add_keys(L, set, sep, onlyfn, 0);
      add_net_parts(L, set, sep);
    } else if (lua_getmetatable(L, -1)) {
      if (lua_getfield(L, -1, "__index") == LUA_TTABLE) add_keys(L, set, sep, onlyfn, 0);
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
  }
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, set)) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, (lua_Integer)lua_rawlen(L, -3) + 1);
  }
  lua_getglobal(L, "table");
  lua_getfield(L, -1, "sort");
  lua_pushvalue(L, -3);
  lua_call(L, 1, 0);
  lua_pop(L, 1);
  return 1;
}

/* Show the candidates (table at the top) in columns below the line. */
static void list_candidates(repl *r, int n) {
  lua_State *L = r->L;
  size_t width = 0;
  int cols = 0, percol, shown = n < LIST_MAX ? n : LIST_MAX;
  if (el_get(r->el, EL_GETTC, "co", &cols) != 0 || cols <= 0) cols = 80;
  for (int i = 1; i <= shown; i++) {
    lua_rawgeti(L, -1, i);
    if (lua_rawlen(L, -1) > width) width = lua_rawlen(L, -1);
    lua_pop(L, 1);
  }
  width += 2;
  percol = (int)((size_t)cols / width);
  if (percol < 1) percol = 1;
  fputs("\n", r->out);
  for (int i = 1; i <= shown; i++) {
    lua_rawgeti(L, -1, i);
    fprintf(r->out, "%-*s", (i % percol && i < shown) ? (int)width : 0, lua_tostring(L, -1));
    if (i % percol == 0 || i == shown) fputs("\n", r->out);
    lua_pop(L, 1);
  }
  if (n > shown) fprintf(r->out, "... and %d more\n", n - shown);
  fflush(r->out);
}

/* Tab: complete the word before the cursor; with several candidates,
   insert what they share and list them. A tab with no word before it is
   inserted as is (pasted code). */
static unsigned char complete_fn(EditLine *el, int ch) {
  repl *r;
  const LineInfo *li = el_line(el);
  const char *start = li->cursor;
  lua_State *L;
  size_t plen, common = 0, last;
  int n, ret = CC_REFRESH;
  (void)ch;
  el_get(el, EL_CLIENTDATA, &r);
  L = r->L;
  while (start > li->buffer && word_char(start[-1])) start--;
  if (start == li->cursor) return el_insertstr(el, "\t") == 0 ? CC_REFRESH : CC_ERROR;
  if (*start >= '0' && *start <= '9') return CC_ERROR;
  plen = (size_t)(li->cursor - start);
  last = plen;
  while (last > 0 && start[last - 1] != '.' && start[last - 1] != ':') last--;
  last = plen - last;  /* length of the part being completed */
  lua_pushcfunction(L, l_candidates);
  lua_pushlstring(L, start, plen);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1) ||
      (n = (int)lua_rawlen(L, -1)) == 0) {
    lua_pop(L, 1);
    return CC_ERROR;
  }
  /* the prefix all candidates share */
  lua_rawgeti(L, -1, 1);
  common = lua_rawlen(L, -1);
  for (int i = 2; i <= n; i++) {
    const char *a = lua_tostring(L, -1);
    lua_rawgeti(L, -2, i);
    const char *b = lua_tostring(L, -1);
    size_t j = 0;
    while (j < common && a[j] == b[j]) j++;
    common = j;
    lua_pop(L, 1);
  }
  if (common > last) {
    lua_pushlstring(L, lua_tostring(L, -1) + last, common - last);
    el_insertstr(el, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (n > 1) {
    list_candidates(r, n);
    ret = CC_REDISPLAY;
  }
  lua_pop(L, 1);
  return (unsigned char)ret;
}

/* ---- evaluation ------------------------------------------------------- */

/* Print the message at the top on stderr and pop it. */
static void report(repl *r) {
  msgh_report(r->L, r->progname);
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
   the function above the line; else leave the line alone. */
static int load_return(lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *code = line[0] == '=' ? lua_pushfstring(L, "return %s;", line + 1)
                                    : lua_pushfstring(L, "return %s;", line);
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
    got = push_line(r, 0);
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
  int n = lua_gettop(L) - base;
  if (n <= 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
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

/* Read, compile and run one chunk. Returns 0 at end of input. */
static int do_chunk(repl *r, int showref) {
  lua_State *L = r->L;
  int base = lua_gettop(L), st, eof = 0;
  int got = push_line(r, 1);
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
  history_add(r, lua_tostring(L, -2));
  lua_remove(L, -2);
  lua_pushcfunction(L, netlua_msghandler);
  lua_insert(L, base + 1);
  st = lua_pcall(L, 0, LUA_MULTRET, base + 1);
  lua_remove(L, base + 1);
  if (st != LUA_OK)
    report(r);
  else
    print_results(r, base, showref);
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
static int setup_lua(repl *r) {
  lua_State *L = r->L;
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

/* True when stdin and stdout are a terminal libedit can drive. */
static int can_edit(void) {
  const char *term = getenv("TERM");
  return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && term && *term &&
         strcmp(term, "dumb") != 0;
}

/* Make the line editor: emacs keys, our character source, prompt,
   completion on Tab, then ~/.editrc. NULL if libedit cannot start. */
static EditLine *edit_open(repl *r) {
  EditLine *el = el_init(r->progname, stdin, r->out, r->err);
  if (el == NULL) return NULL;
  el_set(el, EL_CLIENTDATA, r);
  el_set(el, EL_EDITOR, "emacs");
  el_set(el, EL_PROMPT, prompt_fn);
  el_set(el, EL_GETCFN, getc_fn);
  /* the wide call keeps our static strings (the narrow one leaks copies) */
  el_wset(el, EL_ADDFN, L"netlua-complete", L"complete a name", complete_fn);
  el_set(el, EL_BIND, "^I", "netlua-complete", NULL);
  el_source(el, NULL);
  return el;
}

/* UTF-8 typing needs a character set: the user's, or C.UTF-8 when the
   locale is plain C. Returns the previous LC_CTYPE (to restore). */
static char *locale_setup(void) {
  const char *old = setlocale(LC_CTYPE, NULL);
  char *saved = old ? strdup(old) : NULL;
  const char *now = setlocale(LC_CTYPE, "");
  if (now == NULL || strcmp(now, "C") == 0 || strcmp(now, "POSIX") == 0)
    setlocale(LC_CTYPE, "C.UTF-8");
  return saved;
}

void repl_run(lua_State *L, const char *progname) {
  repl r;
  int base = lua_gettop(L), showref;
  char *oldlocale;
  struct sigaction oldwinch;
  memset(&r, 0, sizeof r);
  r.L = L;
  r.progname = progname;
  r.out = stdout;
  r.err = stderr;
  r.streamref = LUA_NOREF;
  showref = setup_lua(&r);
  oldlocale = locale_setup();
  if (can_edit() && (r.el = edit_open(&r)) != NULL) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_winch;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGWINCH, &sa, &oldwinch);
    history_open(&r);
    streams_install(&r);
    loop_set_resume_hooks(L, NULL, after_tasks, &r);
  }
  loop_install_sigint(L);
  while (do_chunk(&r, showref)) lua_settop(L, base);
  loop_uninstall_sigint();
  fputs("\n", stdout);
  fflush(stdout);
  if (r.el) {
    loop_set_resume_hooks(L, NULL, NULL, NULL);
    sigaction(SIGWINCH, &oldwinch, NULL);
    streams_remove(&r);
    el_end(r.el);
  }
  if (r.hist) history_end(r.hist);
  free(r.histfile);
  if (oldlocale) setlocale(LC_CTYPE, oldlocale);
  free(oldlocale);
  luaL_unref(L, LUA_REGISTRYINDEX, showref);
  lua_settop(L, base);
}
