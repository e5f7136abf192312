/*
 * buffer.c: receive buffering for connections (see buffer.h).
 */
#define _GNU_SOURCE
#include "buffer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void buffer_init(buffer *b, size_t linemax) {
  memset(b, 0, sizeof *b);
  b->linemax = linemax ? linemax : BUFFER_LINEMAX;
}

/* The length of the mapping that holds a block of cap bytes: whole pages. */
static size_t maplen(size_t cap) {
  static size_t page;
  if (page == 0) page = (size_t)sysconf(_SC_PAGESIZE);
  return (cap + page - 1) / page * page;
}

/* Free a block of cap bytes, a mapping or malloc's. */
static void release(char *data, size_t cap) {
  if (data == NULL) return;
  if (cap >= BUFFER_MAPMIN) munmap(data, maplen(cap));
  else free(data);
}

void buffer_free(buffer *b) {
  size_t linemax = b->linemax;
  release(b->data, b->cap);
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
    /* linemax bytes and one more that is no CR: no EOL can end it in time */
    if (avail > b->linemax && (avail - b->linemax >= 2 || p[b->linemax] != '\r')) return BUFFER_LONG;
    return BUFFER_MORE;
  }
  n = (size_t)(lf - p);
  *eol = n > 0 && p[n - 1] == '\r' ? 2 : 1;
  *len = n + 1;
  b->scan = 0;
  return *len - *eol > b->linemax ? BUFFER_LONG : BUFFER_LINE;
}

/* Move the unread data to the front of the block. */
static void compact(buffer *b) {
  size_t avail = buffer_len(b);
  if (b->start == 0) return;
  memmove(b->data, b->data + b->start, avail);
  b->start = 0;
  b->end = avail;
}

/* Make the block exactly n bytes (n >= the unread data), keeping the
   unread data: within malloc or within a mapping by resizing in place (or
   moving, without a copy for a mapping), between the two by a new block
   and one copy. 0, or -1 with errno ENOMEM (the buffer unchanged). */
static int resize(buffer *b, size_t n) {
  size_t avail = buffer_len(b);
  char *p;
  if (n < b->end) compact(b);  /* shrinking: the data must stay inside */
  if (b->data != NULL && (n >= BUFFER_MAPMIN) == (b->cap >= BUFFER_MAPMIN)) {
    p = n >= BUFFER_MAPMIN ? mremap(b->data, maplen(b->cap), maplen(n), MREMAP_MAYMOVE)
                           : realloc(b->data, n);
    if (p == MAP_FAILED || p == NULL) { errno = ENOMEM; return -1; }
  } else {
    p = n >= BUFFER_MAPMIN ? mmap(NULL, maplen(n), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                           : malloc(n);
    if (p == MAP_FAILED || p == NULL) { errno = ENOMEM; return -1; }
    if (avail) memcpy(p, b->data + b->start, avail);
    release(b->data, b->cap);
    b->start = 0;
    b->end = avail;
  }
  b->data = p;
  b->cap = n;
  return 0;
}

/* True while a line is being looked for: every unread byte was searched
   and none is a LF. */
static int line_pending(const buffer *b) {
  return b->scan > 0 && b->scan == buffer_len(b);
}

/* Grow the block, doubling its size until it holds `target` bytes; `need`
   (<= target) is what the caller must have room for. While a line is
   pending, a block that can hold need within linemax + 2 bytes stops at
   linemax + 2: a line that never ends grows it to that and no further. */
static int grow(buffer *b, size_t need, size_t target) {
  size_t n = b->cap ? b->cap : BUFFER_MIN, most = b->linemax + 2;
  while (n < target) n *= 2;
  if (n > most && need <= most && line_pending(b)) n = most;
  if (n <= b->cap) return 0;
  return resize(b, n);
}

char *buffer_reserve(buffer *b, size_t want, size_t *room) {
  size_t avail = buffer_len(b), need = want > avail ? want : avail + 1, target = need;
  if (b->grow && b->cap < BUFFER_AUTOMAX && target < b->cap * 2) target = b->cap * 2;
  if (target > b->cap && grow(b, need, target) != 0) return NULL;
  /* move the unread data to the front when the free tail is short */
  if (b->start > 0 && (b->cap - b->end < b->cap / 4 || b->cap - b->start < need)) compact(b);
  *room = b->cap - b->end;
  return b->data + b->end;
}

void buffer_commit(buffer *b, size_t n) {
  b->grow = n == b->cap - b->end;  /* the read filled all the room */
  b->end += n;
}

void buffer_trim(buffer *b) {
  size_t avail = buffer_len(b), n = BUFFER_MIN;
  if (avail == 0) {
    buffer_free(b);
    return;
  }
  while (n < avail) n *= 2;
  if (n < b->cap && resize(b, n) == 0) b->grow = 0;  /* on failure the block stays */
}
