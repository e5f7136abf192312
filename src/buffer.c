/*
 * buffer.c: receive buffering for connections (see buffer.h).
 */
#define _GNU_SOURCE
#include "buffer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void buffer_init(buffer *b, size_t linemax) {
  memset(b, 0, sizeof *b);
  b->linemax = linemax ? linemax : BUFFER_LINEMAX;
}

void buffer_free(buffer *b) {
  size_t linemax = b->linemax;
  free(b->data);
  buffer_init(b, linemax);
}

void buffer_consume(buffer *b, size_t n) {
  if (n > buffer_len(b)) n = buffer_len(b);
  b->start += n;
  b->scan = b->scan > n ? b->scan - n : 0;
  if (b->start == b->end) b->start = b->end = 0;
}

int buffer_line(buffer *b, size_t *len, size_t *eol) {
  size_t avail = buffer_len(b), n;
  const char *p = buffer_data(b);
  const char *lf = b->scan < avail ? memchr(p + b->scan, '\n', avail - b->scan) : NULL;
  if (lf == NULL) {
    b->scan = avail;
    return avail >= b->linemax + 2 ? BUFFER_LONG : BUFFER_MORE;
  }
  n = (size_t)(lf - p);
  *eol = n > 0 && p[n - 1] == '\r' ? 2 : 1;
  *len = n + 1;
  b->scan = 0;
  return *len - *eol > b->linemax ? BUFFER_LONG : BUFFER_LINE;
}

/* Make the block at least `cap` bytes (doubling), keeping the data.
   Doubling never steps over linemax + 2 when cap fits below it: a line
   search then holds at most linemax + 2 bytes, so a line too long costs
   about twice the limit at its peak (the block and the partial string),
   not three times. */
static int grow_to(buffer *b, size_t cap) {
  size_t n = b->cap ? b->cap : BUFFER_MIN, most = b->linemax + 2;
  char *p;
  while (n < cap) n *= 2;
  if (cap <= most && n > most && b->cap < most) n = most;
  if (n == b->cap) return 0;
  p = realloc(b->data, n);
  if (p == NULL) { errno = ENOMEM; return -1; }
  b->data = p;
  b->cap = n;
  return 0;
}

char *buffer_reserve(buffer *b, size_t want, size_t *room) {
  size_t avail = buffer_len(b);
  if (want <= avail) want = avail + 1;
  if (b->grow && b->cap < BUFFER_AUTOMAX && want < b->cap * 2) want = b->cap * 2;
  if (want > b->cap && grow_to(b, want) != 0) return NULL;
  /* move the unread data to the front when the free tail is short */
  if (b->start > 0 && (b->cap - b->end < b->cap / 4 || b->cap - b->start < want)) {
    memmove(b->data, b->data + b->start, avail);
    b->start = 0;
    b->end = avail;
  }
  *room = b->cap - b->end;
  return b->data + b->end;
}

void buffer_commit(buffer *b, size_t n) {
  b->grow = n == b->cap - b->end;  /* the read filled all the room */
  b->end += n;
}
