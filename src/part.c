/*
 * part.c: finding and loading a part (a shared object of netlua's own) on
 * first use; see part.h.
 */
#define _GNU_SOURCE
#include "part.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Where a part may be, relative to the directory of the object holding
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
  if (dladdr1(places, &info, (void **)&map, RTLD_DL_LINKMAP) == 0 || map == NULL) return 0;
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

/* Open the part at path and take its table. */
static const void *open_part(const char *path, const char *symbol, int abi, char *why, size_t size) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  const int *table;
  if (h == NULL) {
    snprintf(why, size, "%s", dlerror());
    return NULL;
  }
  table = dlsym(h, symbol);
  if (table == NULL || *table != abi) {
    snprintf(why, size, "%s is not the one of this netlua (another version?)", path);
    dlclose(h);
    return NULL;
  }
  return table;  /* h stays open for the life of the process */
}

const void *part_load(const char *file, const char *symbol, int abi, char *why, size_t size) {
  char dir[PATH_MAX], path[PATH_MAX + 64];
  if (!origin(dir)) {
    snprintf(why, size, "cannot tell which directory netlua is in, to find %s", file);
    return NULL;
  }
  for (int i = 0; places[i]; i++) {
    snprintf(path, sizeof path, "%s%s/%s", dir, places[i], file);
    if (access(path, F_OK) == 0) return open_part(path, symbol, abi, why, size);
  }
  snprintf(why, size, "no %s in %s (nor in ../lib/netlua, ../../netlua)", file, dir);
  return NULL;
}
