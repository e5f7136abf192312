/*
 * complete.c: Tab completion at the prompt. The word before the cursor
 * (names, '.' and ':') is completed from the globals and keywords, from the
 * fields of the table a dotted path leads to (`net.con`, with the Lua parts
 * of `net` offered before they load), or from the methods a value finds
 * through its metatable's __index (`c:rec`). Candidates are looked up in a
 * protected call, so no Lua error unwinds through libedit. See complete.h.
 */
#include <stdio.h>
#include <string.h>

#include <histedit.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "complete.h"

#define LIST_MAX 120         /* completion candidates listed at most */

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
static void list_candidates(EditLine *el, lua_State *L, FILE *out, int n) {
  size_t width = 0;
  int cols = 0, percol, shown = n < LIST_MAX ? n : LIST_MAX;
  if (el_get(el, EL_GETTC, "co", &cols) != 0 || cols <= 0) cols = 80;
  for (int i = 1; i <= shown; i++) {
    lua_rawgeti(L, -1, i);
    if (lua_rawlen(L, -1) > width) width = lua_rawlen(L, -1);
    lua_pop(L, 1);
  }
  width += 2;
  percol = (int)((size_t)cols / width);
  if (percol < 1) percol = 1;
  fputs("\n", out);
  for (int i = 1; i <= shown; i++) {
    lua_rawgeti(L, -1, i);
    fprintf(out, "%-*s", (i % percol && i < shown) ? (int)width : 0, lua_tostring(L, -1));
    if (i % percol == 0 || i == shown) fputs("\n", out);
    lua_pop(L, 1);
  }
  if (n > shown) fprintf(out, "... and %d more\n", n - shown);
  fflush(out);
}

/* Tab: complete the word before the cursor; with several candidates,
   insert what they share and list them. A tab with no word before it is
   inserted as is (pasted code). */
unsigned char complete_name(EditLine *el, lua_State *L, FILE *out) {
  const LineInfo *li = el_line(el);
  const char *start = li->cursor;
  size_t plen, common = 0, last;
  int n, ret = CC_REFRESH;
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
    list_candidates(el, L, out, n);
    ret = CC_REDISPLAY;
  }
  lua_pop(L, 1);
  return (unsigned char)ret;
}
