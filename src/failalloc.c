/*
 * failalloc.c: a failing allocator for the hardening checks (issue #12).
 * Compiled to nothing unless NETLUA_FAILALLOC is defined, which only the
 * test build does (make failalloc -> build-failalloc/, under ASan+UBSan).
 *
 * In that build:
 *   - main.c makes its Lua state with failalloc_newstate(), whose lua_Alloc
 *     counts and can fail;
 *   - the link wraps malloc, calloc, realloc and strdup of netlua's own
 *     objects (-Wl,--wrap=...), so the allocations in src/ count and can fail;
 *     mmap and mremap too (buffer.c maps its large blocks itself);
 *   - c-ares is given the same counting malloc/realloc (ares_library_init_mem,
 *     before dns_chan.c's ares_library_init), so its allocations count too;
 *   - so is OpenSSL (CRYPTO_set_mem_functions, which only works before
 *     OpenSSL's first allocation: failalloc_newstate is main's first call).
 *     The wrap above does not reach inside libcrypto, which calls its own
 *     CRYPTO_malloc and libc's malloc.
 * One counter for all four. Allocation number N (counted from the last
 * arm) and the K-1 after it fail (K = 2 by default: Lua retries a failed
 * allocation once after an emergency collection, so a single failure would
 * be absorbed). Frees and shrinking reallocs never fail and never count.
 *
 * Controls:
 *   NETLUA_FAILALLOC=N[,K]   arm at start: fail from the Nth allocation
 *   _FAILALLOC.arm(N [, K])  from Lua: count from 0 now, fail the Nth (N = 0:
 *                            only count)
 *   _FAILALLOC.disarm() -> number of allocations counted since arm
 *   _FAILALLOC.count()  -> the same, without disarming
 *   _FAILALLOC.failed() -> how many allocations were failed since arm
 *   NETLUA_FAILALLOC_TRACE=1 prints the stack of each failed allocation
 *                            (with ASAN_OPTIONS=fast_unwind_on_malloc=0
 *                            to see through libraries without frame
 *                            pointers: OpenSSL's)
 */
#ifdef NETLUA_FAILALLOC
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <ares.h>
#include <lauxlib.h>
#include <lua.h>
#include <openssl/crypto.h>
#include <sanitizer/common_interface_defs.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void *__real_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off);
void *__real_mremap(void *p, size_t o, size_t n, int flags, ...);
void *__wrap_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off);
void *__wrap_mremap(void *p, size_t o, size_t n, int flags, ...);
lua_State *failalloc_newstate(void);

static long fa_count;    /* allocations since arm */
static long fa_at;       /* first one to fail (0: none) */
static long fa_len = 2;  /* how many in a row fail */
static long fa_failed;   /* how many were failed */
static int fa_trace;     /* NETLUA_FAILALLOC_TRACE set: a stack per failure */
static const char *fa_file;  /* OpenSSL's allocation: its file and line */
static int fa_line;

/* Count one allocation; true when it must fail. */
static int fa_fail(void) {
  fa_count++;
  if (fa_at > 0 && fa_count >= fa_at && fa_count < fa_at + fa_len) {
    fa_failed++;
    if (fa_trace) {
      fprintf(stderr, "failalloc: failing allocation %ld (%s:%d)\n", fa_count,
              fa_file ? fa_file : "-", fa_file ? fa_line : 0);
      __sanitizer_print_stack_trace();
    }
    fa_file = NULL;
    return 1;
  }
  fa_file = NULL;
  return 0;
}

void *__wrap_malloc(size_t n) { return fa_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return fa_fail() ? NULL : __real_calloc(n, m); }
char *__wrap_strdup(const char *s) { return fa_fail() ? NULL : __real_strdup(s); }
void *__wrap_realloc(void *p, size_t n) {
  if (n == 0) return __real_realloc(p, n);
  return fa_fail() ? NULL : __real_realloc(p, n);
}

/* A new mapping counts as an allocation, and so does a mapping that grows
   (netlua never passes mremap a new address). */
void *__wrap_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off) {
  if (fa_fail()) { errno = ENOMEM; return MAP_FAILED; }
  return __real_mmap(a, n, prot, flags, fd, off);
}
void *__wrap_mremap(void *p, size_t o, size_t n, int flags, ...) {
  if (n > o && fa_fail()) { errno = ENOMEM; return MAP_FAILED; }
  return __real_mremap(p, o, n, flags);
}

/* c-ares' allocator: the same counter. */
static void *fa_ares_malloc(size_t n) { return __wrap_malloc(n); }
static void *fa_ares_realloc(void *p, size_t n) { return __wrap_realloc(p, n); }

/* OpenSSL's allocator: the same counter, except at the call sites below
   (file as OpenSSL names it, line), which are never failed nor counted:
   each is a bug of OpenSSL's own that this walk found, which no
   LeakSanitizer suppression can single out (libcrypto is stripped: its
   inner frames have no names, and a leak's stack is where the lost object
   was made, not where it was lost). A new OpenSSL moves the lines: the
   leak is reported again, and the site must be looked at again.
   - OpenSSL 3.0 crypto/core_namemap.c:182, namemap_name2num_n's copy of
     a name to look up: when it fails, namemap_add_name_n takes the name
     for new, inserts a second entry, and drops the one the hash table
     replaced (lh_NAMENUM_ENTRY_insert's result is ignored): an entry and
     its name (21 to 40 bytes) leak, made by an earlier EVP_*_fetch. */
static const struct { const char *file; int line; } fa_spared[] = {
  {"crypto/core_namemap.c", 182},
};

/* True when OpenSSL's allocation at file:line is never to fail. */
static int fa_spare(const char *file, int line) {
  size_t fl = file ? strlen(file) : 0;
  for (size_t i = 0; i < sizeof fa_spared / sizeof fa_spared[0]; i++) {
    size_t sl = strlen(fa_spared[i].file);
    if (line == fa_spared[i].line && fl >= sl && strcmp(file + fl - sl, fa_spared[i].file) == 0) return 1;
  }
  return 0;
}

static void *fa_ssl_malloc(size_t n, const char *file, int line) {
  if (fa_spare(file, line)) return __real_malloc(n);
  fa_file = file;
  fa_line = line;
  return __wrap_malloc(n);
}
static void *fa_ssl_realloc(void *p, size_t n, const char *file, int line) {
  if (fa_spare(file, line)) return __real_realloc(p, n);
  fa_file = file;
  fa_line = line;
  return __wrap_realloc(p, n);
}
static void fa_ssl_free(void *p, const char *file, int line) {
  (void)file; (void)line;
  free(p);
}

/* The Lua state's allocator (as lauxlib's l_alloc, but counting). */
static void *fa_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) { free(ptr); return NULL; }
  if (ptr && nsize <= osize) return __real_realloc(ptr, nsize);  /* shrink: never fails */
  if (fa_fail()) return NULL;
  return __real_realloc(ptr, nsize);
}

static int l_arm(lua_State *L) {
  fa_at = 0;
  fa_count = 0;
  fa_failed = 0;
  fa_len = luaL_optinteger(L, 2, 2);
  fa_at = luaL_checkinteger(L, 1);
  return 0;
}

static int l_count(lua_State *L) {
  lua_pushinteger(L, fa_count);
  return 1;
}

static int l_disarm(lua_State *L) {
  fa_at = 0;
  lua_pushinteger(L, fa_count);
  return 1;
}

static int l_failed(lua_State *L) {
  lua_pushinteger(L, fa_failed);
  return 1;
}

/* The panic function: as lauxlib's, a message on stderr. */
static int fa_panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n", msg ? msg : "?");
  return 0;
}

/* A Lua state on the counting allocator, with _FAILALLOC set; armed from
   NETLUA_FAILALLOC when that is set. */
lua_State *failalloc_newstate(void) {
  const char *env = getenv("NETLUA_FAILALLOC");
  static const luaL_Reg fns[] = {
    {"arm", l_arm}, {"count", l_count}, {"disarm", l_disarm}, {"failed", l_failed},
    {NULL, NULL}};
  lua_State *L;
  ares_library_init_mem(ARES_LIB_INIT_ALL, fa_ares_malloc, free, fa_ares_realloc);
  if (!CRYPTO_set_mem_functions(fa_ssl_malloc, fa_ssl_realloc, fa_ssl_free))
    fprintf(stderr, "failalloc: OpenSSL allocated before main; its allocations are not counted\n");
  L = lua_newstate(fa_lua_alloc, NULL);
  if (!L) return NULL;
  lua_atpanic(L, fa_panic);
  luaL_newlib(L, fns);
  lua_setglobal(L, "_FAILALLOC");
  fa_trace = getenv("NETLUA_FAILALLOC_TRACE") != NULL;
  if (env && *env) {
    char *end;
    fa_at = strtol(env, &end, 10);
    if (*end == ',') fa_len = strtol(end + 1, NULL, 10);
  }
  return L;
}
#else
typedef int failalloc_unused; /* ISO C: a translation unit is not empty */
#endif
