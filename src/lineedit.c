/*
 * lineedit.c: reading the prompt's lines, with libedit's native API
 * (histedit.h) on the event loop, and the history file. See lineedit.h.
 *
 * Lines are read with el_gets; libedit gets its characters from getc_fn,
 * which turns the event loop (loop_turn) until the terminal is readable, so
 * tasks spawned at the prompt keep running while a line is typed. Output
 * that tasks write meanwhile goes through stdout/stderr replaced by stdio
 * cookies: the first write of a batch clears the line being typed, and the
 * loop's `after` hook draws it again below the output. Ctrl-C discards the
 * line being typed. Tab calls complete.c.
 *
 * History: ~/.netlua_history, at most HISTORY_MAX entries, only chunks that
 * compiled. Each chunk is appended to the file as it is accepted, so two
 * prompts open at once both keep their lines; the file is trimmed back to
 * HISTORY_MAX entries when a session loads it and finds it longer.
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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "complete.h"
#include "lineedit.h"
#include "loop.h"
#include "netaux.h"

#define HISTORY_MAX 1000
#define HISTORY_NAME ".netlua_history"
#define HISTORY_BYTES (1 << 20)  /* a history file larger is not loaded */

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
static void line_clear(lineedit *e) {
  const LineInfoW *li = el_wline(e->el);
  int cols = 0, col, rows;
  char seq[32];
  if (el_get(e->el, EL_GETTC, "co", &cols) != 0 || cols <= 0) cols = 80;
  col = (int)strlen(e->prompt);
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
  lineedit *e = ck->e;
  if (n == 0) return 0;
  if (e->editing) {
    if (!e->cleared) line_clear(e);
    e->cleared = 1;
    e->lastnl = buf[n - 1] == '\n';
  }
  if (write_all(ck->fd, buf, n) < 0) return -1;
  return (ssize_t)n;
}

/* After tasks ran: flush what they wrote and draw the line again. */
static void after_tasks(void *ud) {
  lineedit *e = ud;
  fflush(e->cout);
  fflush(e->cerr);
  if (!e->editing || !e->cleared) return;
  if (!e->lastnl) write_all(STDOUT_FILENO, "\n", 1);
  e->cleared = 0;
  el_set(e->el, EL_REFRESH);
}

/* Where io.stdout and io.stderr (kept at e->streamref) write: FILEs
   `from` become `to`. */
static void streams_swap(lineedit *e, FILE *from1, FILE *to1, FILE *from2, FILE *to2) {
  lua_State *L = e->L;
  luaL_Stream *p;
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->streamref);
  lua_rawgeti(L, -1, 1);
  if ((p = luaL_testudata(L, -1, LUA_FILEHANDLE)) && p->f == from1) p->f = to1;
  lua_rawgeti(L, -2, 2);
  if ((p = luaL_testudata(L, -1, LUA_FILEHANDLE)) && p->f == from2) p->f = to2;
  lua_pop(L, 3);
}

/* Route stdout and stderr (C's, and Lua's io.stdout and io.stderr) through
   the cookies. glibc lets a program assign stdout and stderr; print and
   fprintf(stderr) read them at each call. */
static void streams_install(lineedit *e) {
  lua_State *L = e->L;
  cookie_io_functions_t fns = {NULL, cookie_write, NULL, NULL};
  e->ckout.e = e->ckerr.e = e;
  e->ckout.fd = STDOUT_FILENO;
  e->ckerr.fd = STDERR_FILENO;
  e->cout = fopencookie(&e->ckout, "w", fns);
  e->cerr = fopencookie(&e->ckerr, "w", fns);
  if (!e->cout || !e->cerr) {
    if (e->cout) fclose(e->cout);
    if (e->cerr) fclose(e->cerr);
    e->cout = e->cerr = NULL;
    return;
  }
  setvbuf(e->cout, NULL, _IOLBF, BUFSIZ);
  setvbuf(e->cerr, NULL, _IONBF, 0);
  fflush(stdout);
  fflush(stderr);
  stdout = e->cout;
  stderr = e->cerr;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, LUA_IOLIBNAME);
  lua_createtable(L, 2, 0);
  if (lua_type(L, -2) == LUA_TTABLE) {
    lua_getfield(L, -2, "stdout");
    lua_rawseti(L, -2, 1);
    lua_getfield(L, -2, "stderr");
    lua_rawseti(L, -2, 2);
  }
  e->streamref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 2);
  streams_swap(e, e->out, e->cout, e->err, e->cerr);
}

/* Put the real stdout and stderr back. */
static void streams_remove(lineedit *e) {
  if (!e->cout) return;
  fflush(e->cout);
  fflush(e->cerr);
  stdout = e->out;
  stderr = e->err;
  streams_swap(e, e->cout, e->out, e->cerr, e->err);
  luaL_unref(e->L, LUA_REGISTRYINDEX, e->streamref);
  fclose(e->cout);
  fclose(e->cerr);
  e->cout = e->cerr = NULL;
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
   whole. Ctrl-C sets e->interrupted and returns -1: el_gets then returns
   NULL and the line is dropped. */
static int getc_fn(EditLine *el, wchar_t *wc) {
  lineedit *e;
  char buf[MB_LEN_MAX];
  size_t n = 0;
  el_get(el, EL_CLIENTDATA, &e);
  *wc = 0;
  for (;;) {
    mbstate_t mbs;
    size_t m;
    ssize_t k;
    int t = loop_turn(e->L, STDIN_FILENO, -1);
    if (resized) {
      resized = 0;
      el_resize(el);
    }
    if (t < 0) {
      e->interrupted = 1;
      errno = EINTR;
      return -1;
    }
    if (t == 0) {
      if (e->escape && net_terminal_stopped()) {  /* the peer has gone */
        e->stopped = 1;
        return -1;
      }
      continue;
    }
    k = read(STDIN_FILENO, buf + n, 1);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k <= 0) return k < 0 ? -1 : 0;
    if (n == 0 && e->escape && (unsigned char)buf[0] == e->escape) {
      e->escaped = 1;
      return -1;
    }
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
  lineedit *e;
  el_get(el, EL_CLIENTDATA, &e);
  return e->prompt;
}

/* The global named by upvalue 1 made a string by tostring (its
   __tostring honoured, as lua.c does), or nil when it is nil. */
static int prompt_text(lua_State *L) {
  if (lua_getglobal(L, lua_tostring(L, lua_upvalueindex(1))) == LUA_TNIL) return 1;
  luaL_tolstring(L, -1, NULL);
  return 1;
}

/* Choose the prompt: _PROMPT / _PROMPT2 if set (as in lua, through
   tostring), else "> " and ">> ". A __tostring that fails gives the
   default: the prompt must come. */
static void set_prompt(lineedit *e, int first) {
  lua_State *L = e->L;
  const char *p;
  lua_pushstring(L, first ? "_PROMPT" : "_PROMPT2");
  lua_pushcclosure(L, prompt_text, 1);
  p = lua_pcall(L, 0, 1, 0) == LUA_OK ? lua_tostring(L, -1) : NULL;
  snprintf(e->prompt, sizeof e->prompt, "%s", p ? p : first ? "> " : ">> ");
  lua_pop(L, 1);
}

/* Keys typed while the terminal was cooked (a line running, the prompt
   not drawn yet): a Ctrl-D there is an end of file the kernel holds, and
   the switch to raw mode would turn it into a NUL byte (Ctrl-D lost, the
   next one taken as a key on a line that is no longer empty). Read it
   while still cooked: returns 1 for a Ctrl-D; a line typed ahead is
   handed to libedit as keys. */
static int cooked_eof(lineedit *e) {
  struct termios t;
  struct pollfd p = {STDIN_FILENO, POLLIN, 0};
  char buf[1024];
  ssize_t k;
  if (tcgetattr(STDIN_FILENO, &t) != 0 || !(t.c_lflag & ICANON)) return 0;
  if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) return 0;
  k = read(STDIN_FILENO, buf, sizeof buf - 1);
  if (k == 0) return 1;
  if (k > 0) {
    buf[k] = '\0';
    el_push(e->el, buf);
  }
  return 0;
}

/* Read a line with libedit; push it without its newline. Returns 1, 0 at
   end of input, -1 on Ctrl-C. */
static int edit_line(lineedit *e) {
  const char *s;
  int n = 0;
  e->interrupted = e->escaped = e->stopped = 0;
  e->cleared = 0;
  if (e->prompt[0] && cooked_eof(e)) {  /* the prompt's Ctrl-D, typed early */
    fputs(e->prompt, e->out);
    fflush(e->out);
    return 0;
  }
  e->editing = 1;
  el_set(e->el, EL_PREP_TERM, 1);  /* keys typed once the prompt shows are raw */
  s = el_gets(e->el, &n);
  e->editing = 0;
  if (e->escaped || e->stopped) {
    const LineInfo *li = el_line(e->el);
    if (li && li->lastchar > li->buffer) fputs("\n", e->out);
    fflush(e->out);
    return e->escaped ? -2 : -3;
  }
  if (e->interrupted) {
    fputs("^C\n", e->out);
    fflush(e->out);
    return -1;
  }
  if (s == NULL || n <= 0) return 0;
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
  lua_pushlstring(e->L, s, (size_t)n);
  return 1;
}

/* Read a line without libedit (no terminal, or a dumb one), still on the
   loop; push it without its newline. Returns 1, 0 at end of input, -1 on
   Ctrl-C. */
static int plain_line(lineedit *e) {
  lua_State *L = e->L;
  luaL_Buffer b;
  int got = 0;
  fputs(e->prompt, stdout);
  fflush(stdout);
  luaL_buffinit(L, &b);
  for (;;) {
    char *nl = memchr(e->in, '\n', e->inlen);
    size_t take = nl ? (size_t)(nl - e->in) + 1 : e->inlen;
    ssize_t k;
    luaL_addlstring(&b, e->in, nl ? take - 1 : take);
    memmove(e->in, e->in + take, e->inlen - take);
    e->inlen -= take;
    got |= take > 0;
    if (nl) break;
    if (loop_turn(L, STDIN_FILENO, -1) < 0) {
      luaL_pushresult(&b);
      lua_pop(L, 1);
      fputs("\n", stdout);
      return -1;
    }
    k = read(STDIN_FILENO, e->in, sizeof e->in);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k <= 0) {
      luaL_pushresult(&b);
      if (got) return 1;
      lua_pop(L, 1);
      return 0;
    }
    e->inlen = (size_t)k;
  }
  luaL_pushresult(&b);
  if (lua_rawlen(L, -1) > 0 && lua_tostring(L, -1)[lua_rawlen(L, -1) - 1] == '\r') {
    lua_pushlstring(L, lua_tostring(L, -1), lua_rawlen(L, -1) - 1);
    lua_remove(L, -2);
  }
  return 1;
}

/* The next line, on the first or second prompt (lineedit.h). */
int lineedit_read(lineedit *e, int first) {
  set_prompt(e, first);
  return e->el ? edit_line(e) : plain_line(e);
}

/* conn:interact's line (lineedit.h). */
int lineedit_interact(void *ud, lua_State *L, int escape) {
  lineedit *e = ud;
  int r;
  if (e->el == NULL || e->L == NULL) return -4;
  (void)L;  /* the reading thread is e->L, the main one, by readline's check */
  e->prompt[0] = '\0';
  e->escape = escape;
  r = edit_line(e);
  e->escape = 0;
  if (r == 1) {
    HistEvent ev;  /* up-arrow recalls it, in this session only */
    if (e->hist && lua_rawlen(e->L, -1) > 0) history(e->hist, &ev, H_ENTER, lua_tostring(e->L, -1));
  }
  return r;
}

/* ---- history ---------------------------------------------------------- */

/* True when the history file may be read and written: it does not exist
   yet, or it is a regular file (a symlink to one is fine) of at most
   HISTORY_BYTES. Anything else (a FIFO, /dev/zero, /dev/full, a
   directory, a huge file) would block start-up or fill memory: the
   session then keeps no history file, and says so. The open does not
   block, even on a FIFO. */
static int history_usable(const char *file) {
  struct stat st;
  const char *why = NULL;
  int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return errno == ENOENT;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) why = "is not a regular file";
  else if (st.st_size > HISTORY_BYTES) why = "is over 1 MB";
  close(fd);
  if (why) fprintf(stderr, "netlua: %s %s: history not kept\n", file, why);
  return why == NULL;
}

/* Open the history and load ~/.netlua_history if there is a HOME; a file
   grown past HISTORY_MAX (every session appends) is rewritten with the
   last HISTORY_MAX entries. */
static void history_open(lineedit *e) {
  HistEvent ev;
  const char *home = getenv("HOME");
  int n;
  e->hist = history_init();
  if (e->hist == NULL) return;
  history(e->hist, &ev, H_SETSIZE, HISTORY_MAX);
  history(e->hist, &ev, H_SETUNIQUE, 1);
  el_set(e->el, EL_HIST, history, e->hist);
  if (home == NULL || *home == '\0') return;
  if (asprintf(&e->histfile, "%s/%s", home, HISTORY_NAME) < 0) {
    e->histfile = NULL;
    return;
  }
  if (!history_usable(e->histfile)) {
    free(e->histfile);
    e->histfile = NULL;
    return;
  }
  n = history(e->hist, &ev, H_LOAD, e->histfile);
  if (n > HISTORY_MAX) history(e->hist, &ev, H_SAVE, e->histfile);
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
  fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0600);
  if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
    close(fd);  /* replaced by something else since start-up */
    fd = -1;
  }
  if (fd >= 0) {
    ssize_t w = 0;
    if (fstat(fd, &st) == 0 && st.st_size == 0) w = write(fd, cookie, sizeof cookie - 1);
    if (w >= 0) w = write(fd, line, k);
    (void)w;
    close(fd);
  }
  free(line);
}

/* Keep a compiled chunk in the history and its file (lineedit.h). */
void lineedit_remember(lineedit *e, const char *chunk) {
  HistEvent ev;
  if (e->hist == NULL || chunk[strspn(chunk, " \t\r\n")] == '\0') return;
  if (history(e->hist, &ev, H_FIRST) != -1 && strcmp(ev.str, chunk) == 0) return;
  history(e->hist, &ev, H_ENTER, chunk);
  if (e->histfile) history_append(e->histfile, chunk);
}


/* True when stdin and stdout are a terminal libedit can drive. */
static int can_edit(void) {
  const char *term = getenv("TERM");
  return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && term && *term &&
         strcmp(term, "dumb") != 0;
}

/* Tab, bound in edit_open: complete.c does the work with our state. */
static unsigned char complete_fn(EditLine *el, int ch) {
  lineedit *e;
  (void)ch;
  el_get(el, EL_CLIENTDATA, &e);
  return complete_name(el, e->L, e->out);
}

/* Make the line editor: emacs keys, our character source, prompt,
   completion on Tab, then ~/.editrc. NULL if libedit cannot start. */
static EditLine *edit_open(lineedit *e) {
  EditLine *el = el_init(e->progname, stdin, e->out, e->err);
  if (el == NULL) return NULL;
  el_set(el, EL_CLIENTDATA, e);
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

/* Set up the reader: locale, then libedit and all it needs if it can. */
void lineedit_open(lineedit *e, lua_State *L, const char *progname) {
  memset(e, 0, sizeof *e);
  e->L = L;
  e->progname = progname;
  e->out = stdout;
  e->err = stderr;
  e->streamref = LUA_NOREF;
  e->oldlocale = locale_setup();
  if (can_edit() && (e->el = edit_open(e)) != NULL) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_winch;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGWINCH, &sa, &e->oldwinch);
    history_open(e);
    streams_install(e);
    loop_set_resume_hooks(L, NULL, after_tasks, e);
    net_set_lineread(lineedit_interact, e, &e->oldread, &e->oldreadud);
  }
}

/* Tear down what lineedit_open set up, in reverse. */
void lineedit_close(lineedit *e) {
  if (e->el) {
    net_set_lineread(e->oldread, e->oldreadud, NULL, NULL);
    loop_set_resume_hooks(e->L, NULL, NULL, NULL);
    sigaction(SIGWINCH, &e->oldwinch, NULL);
    streams_remove(e);
    el_end(e->el);
  }
  if (e->hist) history_end(e->hist);
  free(e->histfile);
  if (e->oldlocale) setlocale(LC_CTYPE, e->oldlocale);
  free(e->oldlocale);
}

/* What the edit part exports to the program (lineedit.h). */
const lineedit_lib netlua_lineedit = {
  .abi = LINEEDIT_ABI, .open = lineedit_open, .read = lineedit_read,
  .remember = lineedit_remember, .interact = lineedit_interact, .close = lineedit_close};
