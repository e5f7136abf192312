/*
 * part.h: parts of netlua built as shared objects of their own and loaded
 * with dlopen on first use, so that start-up does not load (and relocate)
 * libraries it does not use: netlua-tls.so (OpenSSL, tlslib.h) and
 * netlua-edit.so (libedit, lineedit.h). bench/startup.sh holds start-up
 * to 1.5 times lua5.4's.
 *
 * A part exports one table of calls under a known symbol; the table
 * starts with an int, the part's ABI number, so a stale part is refused.
 * A part is looked for beside the program or module that holds this code
 * (the build directory: netlua, net.so and the parts side by side), then
 * where `make install` puts it, PREFIX/lib/netlua/ (seen from
 * PREFIX/bin/netlua and from PREFIX/lib/lua/5.4/net.so). No Lua.
 */
#ifndef NETLUA_PART_H
#define NETLUA_PART_H

#include <stddef.h>

/* Load the part `file` (a file name, no directory) and return its table
   `symbol`, checked to start with `abi`; the part stays loaded for the
   life of the process. NULL on failure, with why it failed in `why`
   ("no netlua-tls.so in DIR ...", dlerror's words). */
const void *part_load(const char *file, const char *symbol, int abi, char *why, size_t size);

#endif
