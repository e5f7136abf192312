/*
 * fuzz_lua.c: the libFuzzer harness of the targets written in Lua (the
 * parsers in lua/net/: HTTP responses and requests, URLs, SMTP replies,
 * the transcript). Built once per target with FUZZ_DRIVER, the path of a
 * driver chunk (src/fuzz/NAME.lua; $NETLUA_FUZZ_DRIVER overrides it).
 *
 * One Lua state per process: the standard libraries, `net` (as netlua
 * preloads it) and one global, memconn(data [, linemax [, seed]]), a real
 * connection (conn.c) whose transport reads `data` from memory in pieces
 * of sizes derived from the data, then the end of the stream; writes are
 * taken and dropped. So receive("l"/"L"/n/"a"), the line limit, partial
 * results and "closed" behave exactly as on a socket. The driver returns
 * a function called with each input; any error it raises is a finding
 * (printed with a traceback, then abort).
 *
 * libFuzzer sees only the instrumented C; the Lua parsers run in the
 * (uninstrumented) interpreter. So a line hook feeds Lua coverage to
 * libFuzzer's extra counters: each pair (previous line, this line) of
 * Lua code bumps one counter, which makes new paths through the Lua
 * parsers count as progress.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "conn.h"
#include "net.h"

#ifndef FUZZ_DRIVER
#error "FUZZ_DRIVER: the path of the driver chunk"
#endif

static lua_State *L;

/* Lua line-pair coverage, read by libFuzzer after each input. */
#define NCOUNTERS 65536
__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t lua_counters[NCOUNTERS];
static uint32_t prev_line;

static void line_hook(lua_State *Ls, lua_Debug *ar) {
  uint32_t id;
  if (!lua_getinfo(Ls, "S", ar)) return;
  /* a function's source string is one object for the life of the state */
  id = (uint32_t)((uintptr_t)ar->source * 2654435761u) ^ (uint32_t)ar->currentline * 40503u;
  id ^= id >> 15;
  {
    uint8_t *k = &lua_counters[(id ^ (prev_line >> 1)) % NCOUNTERS];
    if (*k != 255) (*k)++;
  }
  prev_line = id;
}

static int spare_fd = -1;   /* dup'ed as each memconn's fd (conn.c closes it) */

/* ---- the memory transport ---------------------------------------------- */

typedef struct memsrc {
  char *data;
  size_t len, pos;
  uint32_t rng;
} memsrc;

static ssize_t mem_read(transport *t, char *buf, size_t len) {
  memsrc *m = t->state;
  size_t n = m->len - m->pos;
  if (m->rng != 0) {                /* 0: every read as large as it can be */
    m->rng ^= m->rng << 13;
    m->rng ^= m->rng >> 17;
    m->rng ^= m->rng << 5;
  }
  if (m->rng != 0 && m->rng % 4 != 0) {  /* mostly short reads: 1..64 bytes */
    size_t cut = 1 + (m->rng >> 8) % 64;
    if (n > cut) n = cut;
  }
  if (n > len) n = len;
  memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  return (ssize_t)n;
}

static ssize_t mem_write(transport *t, const char *buf, size_t len) {
  (void)t; (void)buf;
  return (ssize_t)len;
}

static int mem_shutdown(transport *t, int how) {
  (void)t; (void)how;
  return 0;
}

static void mem_close(transport *t) {
  memsrc *m = t->state;
  if (m) { free(m->data); free(m); }
  t->state = NULL;
}

static const transport_ops mem_ops = {.read = mem_read, .write = mem_write, .shutdown = mem_shutdown,
                                      .close = mem_close, .kind = "tcp"};

/* memconn(data [, linemax [, seed]]) -> a connection reading data in
   pieces drawn from seed (default: from the length; 0: whole reads). */
static int l_memconn(lua_State *Ls) {
  size_t len;
  const char *s = luaL_checklstring(Ls, 1, &len);
  lua_Integer linemax = luaL_optinteger(Ls, 2, 0);
  memsrc *m = calloc(1, sizeof *m);
  transport io;
  sock_addr peer;
  conn *c;
  if (m == NULL || (m->data = malloc(len ? len : 1)) == NULL) abort();
  memcpy(m->data, s, len);
  m->len = len;
  m->rng = (uint32_t)luaL_optinteger(Ls, 3, (lua_Integer)(0x9e3779b9u ^ (uint32_t)(len * 2654435761u)));
  memset(&peer, 0, sizeof peer);
  io.ops = &mem_ops;
  io.fd = dup(spare_fd);
  io.want = 0;
  io.state = m;
  if (io.fd < 0) abort();
  c = conn_new(Ls, linemax > 0 ? (size_t)linemax : 0, -1);
  conn_attach(c, &io, &peer, NULL);
  return 1;
}

/* ---- the harness --------------------------------------------------------- */

static int traceback(lua_State *Ls) {
  luaL_traceback(Ls, Ls, luaL_tolstring(Ls, 1, NULL), 1);
  return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *path = getenv("NETLUA_FUZZ_DRIVER");
  int sv[2];
  (void)argc; (void)argv;
  if (path == NULL || *path == '\0') path = FUZZ_DRIVER;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
  spare_fd = sv[0];
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "net", luaopen_net, 1);
  lua_pop(L, 1);
  lua_pushcfunction(L, l_memconn);
  lua_setglobal(L, "memconn");
  lua_pushcfunction(L, traceback);
  if (luaL_loadfile(L, path) != LUA_OK || lua_pcall(L, 0, 1, 1) != LUA_OK || !lua_isfunction(L, -1)) {
    fprintf(stderr, "fuzz driver %s: %s\n", path, lua_tostring(L, -1));
    exit(1);
  }
  lua_setfield(L, LUA_REGISTRYINDEX, "netlua.fuzz");
  lua_settop(L, 0);
  lua_sethook(L, line_hook, LUA_MASKLINE, 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static unsigned runs;
  lua_settop(L, 0);
  prev_line = 0;
  lua_pushcfunction(L, traceback);
  lua_getfield(L, LUA_REGISTRYINDEX, "netlua.fuzz");
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 1) != LUA_OK) {
    fprintf(stderr, "fuzz driver raised: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_settop(L, 0);
  if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT);
  else lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
