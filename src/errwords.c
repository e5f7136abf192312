/*
 * errwords.c: the one table of error words (errno -> "connection refused",
 * "timeout", "closed", ...), so every message reads the same. No Lua.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errwords.h"

/* errno values and the words netlua uses for them. */
static const struct { int err; const char *msg; } errwords[] = {
  {ECONNREFUSED, "connection refused"},
  {ECONNRESET, "connection reset by peer"},
  {ECONNABORTED, "connection aborted"},
  {ETIMEDOUT, "timeout"},
  {EHOSTUNREACH, "host unreachable"},
  {ENETUNREACH, "network unreachable"},
  {ENETDOWN, "network is down"},
  {EADDRINUSE, "address already in use"},
  {EADDRNOTAVAIL, "address not available"},
  {EACCES, "permission denied"},
  {EPERM, "operation not permitted"},
  {EPIPE, "closed"},
  {EAFNOSUPPORT, "address family not supported"},
  {EMSGSIZE, "message too long"},
  {EMFILE, "too many open files"},
  {ENFILE, "too many open files in system"},
  {ENOBUFS, "no buffer space available"},
  {EINVAL, "invalid argument"},
  {ENOMEM, "out of memory"},
  {0, NULL}};

const char *net_strerror(int err) {
  static char other[128];
  for (int i = 0; errwords[i].msg; i++)
    if (errwords[i].err == err) return errwords[i].msg;
  /* any other cause in the same lower-case style */
  snprintf(other, sizeof other, "%s", strerror(err));
  if (other[0] >= 'A' && other[0] <= 'Z' && !(other[1] >= 'A' && other[1] <= 'Z'))
    other[0] = (char)(other[0] - 'A' + 'a');
  return other;
}
