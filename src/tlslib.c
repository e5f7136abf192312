/*
 * tlslib.c: finding and loading the TLS part, netlua-tls.so, on first use
 * (see tlslib.h). No Lua: the callers turn a failure into their message.
 */
#define _GNU_SOURCE
#include "tlslib.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const tlslib *lib;       /* once loaded */
static char why[PATH_MAX + 256];  /* once failed: the reason, kept */

/* Where the part may be, relative to the directory of the object holding
   this code: beside it (the build directory), from PREFIX/bin, from
   PREFIX/lib/lua/5.4. */
static const char *const places[] = {"", "/../lib/netlua", "/../../netlua", NULL};

/* The directory of the object this code is linked into, as the dynamic
   linker's $ORIGIN: netlua's (from /proc/self/exe: glibc keeps no origin
   for the program itself), or net.so's under a stock lua5.4. */
static int origin(char dir[PATH_MAX]) {
  Dl_info info;
  struct link_map *map;
  void *self;
  int ok;
  if (dladdr1(&lib, &info, (void **)&map, RTLD_DL_LINKMAP) == 0 || map == NULL) return 0;
  if (map->l_name[0] == '\0') {
    ssize_t n = readlink("/proc/self/exe", dir, PATH_MAX - 1);
    char *slash;
    if (n <= 0) return 0;
    dir[n] = '\0';
    if ((slash = strrchr(dir, '/')) == NULL) return 0;
    *slash = '\0';
    return 1;
  }
  self = dlopen(map->l_name, RTLD_LAZY | RTLD_NOLOAD);
  ok = self != NULL && dlinfo(self, RTLD_DI_ORIGIN, dir) == 0;
  if (self) dlclose(self);
  return ok;
}

/* Open the part at path and take its table; NULL and `why` on failure. */
static const tlslib *open_part(const char *path) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  const tlslib *t;
  if (h == NULL) {
    snprintf(why, sizeof why, "TLS unavailable: %s", dlerror());
    return NULL;
  }
  t = dlsym(h, TLSLIB_SYMBOL);
  if (t == NULL || t->abi != TLSLIB_ABI) {
    snprintf(why, sizeof why, "TLS unavailable: %s is not the TLS part of this netlua", path);
    dlclose(h);
    return NULL;
  }
  return t;  /* kept open for the life of the process */
}

/* Look for the part in each place; the first one found is the one. */
static const tlslib *find_part(void) {
  char dir[PATH_MAX], path[PATH_MAX + 64];
  if (!origin(dir)) {
    snprintf(why, sizeof why, "TLS unavailable: cannot tell which directory netlua is in");
    return NULL;
  }
  for (int i = 0; places[i]; i++) {
    snprintf(path, sizeof path, "%s%s/" TLSLIB_FILE, dir, places[i]);
    if (access(path, F_OK) == 0) return open_part(path);
  }
  snprintf(why, sizeof why, "TLS unavailable: no " TLSLIB_FILE " in %s (nor in ../lib/netlua, ../../netlua)", dir);
  return NULL;
}

const tlslib *tlslib_load(const char **err) {
  if (lib == NULL && why[0] == '\0') lib = find_part();
  *err = why;
  return lib;
}

const tlslib *tlslib_loaded(void) {
  return lib;
}
