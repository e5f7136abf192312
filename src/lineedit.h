/*
 * lineedit.h: the prompt's line reader. With a terminal it is libedit (on
 * the event loop, so tasks run while a line is typed; their output does not
 * garble the line; Tab completes names; ~/.netlua_history), else plain
 * reads of standard input, still on the loop.
 *
 * lineedit.c and complete.c are the edit part, netlua-edit.so, the only
 * object linked with libedit: the program loads it (part.h) when the
 * prompt starts or conn:interact first reads a line at a terminal, so
 * that start-up does not load libedit and the libraries under it. The
 * program calls the functions below only through the part's table,
 * `netlua_lineedit` (lineedit_lib); the part calls back into the program
 * (the loop, netaux.c), whose symbols netlua exports.
 */
#ifndef NETLUA_LINEEDIT_H
#define NETLUA_LINEEDIT_H

#include <signal.h>          /* struct sigaction: include with _GNU_SOURCE */
#include <stdio.h>

#include <histedit.h>
#include <lua.h>

#include "netaux.h"

typedef struct lineedit lineedit;

/* A stdio cookie standing for stdout or stderr while the prompt runs. */
typedef struct outcookie {
  lineedit *e;
  int fd;
} outcookie;

/* The reader's state: the caller owns the storage, the fields are
   lineedit.c's. */
struct lineedit {
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
  int escape;                /* conn:interact's escape byte (0: none) */
  int escaped, stopped;      /* it was typed; the interaction was stopped */
  net_lineread_fn oldread;   /* the line reader registered before us */
  void *oldreadud;
  char in[4096];             /* plain mode: bytes read, not yet used */
  size_t inlen;
  char *oldlocale;           /* LC_CTYPE to restore */
  struct sigaction oldwinch; /* SIGWINCH action to restore */
};

/* Start reading for state L: a UTF-8 LC_CTYPE; with a usable terminal,
   libedit (emacs keys, ~/.editrc), SIGWINCH, the history, and stdout and
   stderr (C's and Lua's) routed so that output keeps the line intact.
   `progname` names libedit's settings. */
void lineedit_open(lineedit *e, lua_State *L, const char *progname);

/* Show the first prompt (first != 0) or the second (_PROMPT / _PROMPT2 if
   set, else "> " and ">> ") and push the line read, without its newline.
   Returns 1, 0 at end of input, -1 on Ctrl-C (nothing pushed then). */
int lineedit_read(lineedit *e, int first);

/* Keep a chunk that compiled in the history (not blank ones, not a repeat
   of the last one); append it to the file now, so a killed session loses
   nothing. A file that cannot be written is no error. */
void lineedit_remember(lineedit *e, const char *chunk);

/* conn:interact's line (netaux.h, net_lineread_fn): read one line on an
   empty prompt with libedit; push it and return 1; 0 at end of input, -1
   on Ctrl-C, -2 when the escape byte is typed, -3 when the interaction is
   stopped (net_terminal_stopped), -4 without libedit. lineedit_open
   registers it (net_set_lineread) while libedit runs. */
int lineedit_interact(void *e, lua_State *L, int escape);

/* Undo lineedit_open: terminal, streams, signal, locale; free it all. */
void lineedit_close(lineedit *e);

/* The edit part's table: the calls above. */
#define LINEEDIT_FILE "netlua-edit.so"
#define LINEEDIT_SYMBOL "netlua_lineedit"
#define LINEEDIT_ABI 1     /* raise when the table or struct lineedit changes */

typedef struct lineedit_lib {
  int abi;
  void (*open)(lineedit *e, lua_State *L, const char *progname);
  int (*read)(lineedit *e, int first);
  void (*remember)(lineedit *e, const char *chunk);
  int (*interact)(void *e, lua_State *L, int escape);
  void (*close)(lineedit *e);
} lineedit_lib;

#endif
