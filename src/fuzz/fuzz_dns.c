/*
 * fuzz_dns.c: libFuzzer target for the DNS answer parser
 * (src/dns_parse.c, dns_parse_answer).
 *
 * Input: a DNS message as it comes from a server. It is parsed once for
 * the record type its question asks (A when it cannot say) and once for a
 * type the last byte picks. Checked: on success exactly three values
 * (records, answers, question name) with the documented types, every
 * record a table with a string name and type and an integer ttl >= 0; on
 * failure nothing pushed. One Lua state per process, with `net` opened so
 * the record metatable exists.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "dns.h"
#include "net.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_dns: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static lua_State *L;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "net", luaopen_net, 1);
  lua_settop(L, 0);
  return 0;
}

/* The QTYPE of the first question, or 1 (A). */
static int qtype(const uint8_t *m, size_t n) {
  size_t off = 12;
  if (n < 12 || ((m[4] << 8) | m[5]) == 0) return 1;
  while (off < n && m[off] != 0) {
    if ((m[off] & 0xc0) == 0xc0) { off += 1; break; }
    off += 1u + m[off];
  }
  off += 1;
  if (off + 2 > n) return 1;
  return (m[off] << 8) | m[off + 1];
}

/* tostring(record) (zone-file form, dns_text.c) inside a protected call. */
static int record_text(lua_State *Ls) {
  luaL_tolstring(Ls, 1, NULL);
  return 1;
}

/* One record list at idx: a sequence of record tables, each printable
   (tostring gives a line without control bytes: it goes to terminals). */
static void check_records(int idx) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  for (lua_Integer i = 1; i <= n; i++) {
    size_t len;
    const char *s;
    CHECK(lua_rawgeti(L, idx, i) == LUA_TTABLE);
    CHECK(lua_getfield(L, -1, "name") == LUA_TSTRING);
    CHECK(lua_getfield(L, -2, "type") == LUA_TSTRING);
    CHECK(lua_getfield(L, -3, "ttl") == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0);
    lua_pop(L, 3);
    lua_pushcfunction(L, record_text);
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
      fprintf(stderr, "fuzz_dns: tostring(record) raised: %s\n", lua_tostring(L, -1));
      abort();
    }
    s = lua_tolstring(L, -1, &len);
    for (size_t k = 0; k < len; k++) {
      if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f) {
        fprintf(stderr, "fuzz_dns: control byte 0x%02x in tostring(record): %s\n", (unsigned char)s[k], s);
        abort();
      }
    }
    lua_pop(L, 1);
  }
}

static void parse(const uint8_t *data, size_t size, int want) {
  int top = lua_gettop(L);
  int r = dns_parse_answer(L, data, (int)size, want);
  if (r == 0) {
    CHECK(lua_gettop(L) == top + 3);
    CHECK(lua_type(L, -3) == LUA_TTABLE && lua_type(L, -2) == LUA_TTABLE && lua_type(L, -1) == LUA_TSTRING);
    check_records(top + 1);
    check_records(top + 2);
    CHECK(lua_rawlen(L, top + 1) <= lua_rawlen(L, top + 2));
  } else {
    CHECK(r == -1 && lua_gettop(L) == top);
  }
  lua_settop(L, top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int types[] = {1, 2, 5, 6, 12, 15, 16, 28, 33, 257, 99, 255};
  if (size > 65535) return 0;  /* a DNS message is at most 64 KiB */
  parse(data, size, qtype(data, size));
  if (size > 0) parse(data, size, types[data[size - 1] % (sizeof types / sizeof *types)]);
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
