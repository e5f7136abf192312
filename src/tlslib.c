/*
 * tlslib.c: the TLS part, netlua-tls.so, loaded on first use (see
 * tlslib.h and part.h). No Lua: the callers turn a failure into their
 * message.
 */
#define _GNU_SOURCE
#include "tlslib.h"

#include <limits.h>
#include <stdio.h>

#include "part.h"

static const tlslib *lib;            /* once loaded */
static char why[PATH_MAX + 300];     /* once failed: the reason, kept */

const tlslib *tlslib_load(const char **err) {
  if (lib == NULL && why[0] == '\0') {
    char reason[PATH_MAX + 256];
    lib = part_load(TLSLIB_FILE, TLSLIB_SYMBOL, TLSLIB_ABI, reason, sizeof reason);
    if (lib == NULL) snprintf(why, sizeof why, "TLS unavailable: %s", reason);
  }
  *err = why;
  return lib;
}

const tlslib *tlslib_loaded(void) {
  return lib;
}
