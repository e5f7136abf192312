/*
 * buffer.h: the receive buffer of a connection, with no Lua and no fd in
 * it. The connection reads from its transport straight into one growing
 * block (buffer_reserve, then buffer_commit); lines are found with
 * memchr, remembering how far a partial line was already searched, so a
 * slow drip costs no rescans.
 *
 * The block starts small (many idle connections stay cheap) and doubles
 * while reads fill it (bulk transfers get large reads), up to
 * BUFFER_AUTOMAX; beyond that it grows only when what the caller waits for
 * does not fit. A line that never ends makes it grow to linemax + 2 bytes
 * and no further, even while reads fill it (a block already larger from
 * earlier reads stays as it is): then buffer_line says BUFFER_LONG, the
 * caller takes linemax bytes as the partial line and buffer_trim gives the
 * block back. A line too long therefore costs the block (linemax + 2) and
 * the caller's copy of the partial (linemax) at its peak: twice the limit,
 * and the page each of the two ends in.
 *
 * A block of BUFFER_MAPMIN bytes or more is a mapping of its own (mmap):
 * it grows and shrinks with mremap, without a second block alive during a
 * copy, and its pages go back to the system as soon as it is freed or
 * shrunk. Smaller blocks come from malloc. So a large receive buffer never
 * passes through malloc's heap, where freed blocks stay resident and
 * where, once a large block has been freed, malloc would put the next one
 * (its mmap threshold rises) and grow it by copying.
 */
#ifndef NETLUA_BUFFER_H
#define NETLUA_BUFFER_H

#include <stddef.h>

#define BUFFER_LINEMAX (1024 * 1024)  /* default line limit: 1 MiB */
#define BUFFER_MIN 1024               /* first allocation */
#define BUFFER_AUTOMAX (256 * 1024)   /* growth by full reads stops here */
#define BUFFER_MAPMIN (16 * 1024)     /* blocks this large are mappings */

/* Results of buffer_line. */
enum { BUFFER_MORE, BUFFER_LINE, BUFFER_LONG };

typedef struct buffer {
  char *data;
  size_t start, end, cap;  /* unread data is data[start, end); cap: the
                              block's size (a mapping is rounded up to
                              pages, but no more than cap bytes are used) */
  size_t scan;             /* unread bytes already searched for LF */
  size_t linemax;          /* longest line accepted, EOL excluded */
  int grow;                /* the last read filled all free space */
} buffer;

/* An empty buffer with line limit `linemax` (0: the default). */
void buffer_init(buffer *b, size_t linemax);

/* Release the memory; the buffer is empty and usable again. */
void buffer_free(buffer *b);

/* Unread bytes and where they start. */
static inline size_t buffer_len(const buffer *b) { return b->end - b->start; }
static inline const char *buffer_data(const buffer *b) {
  return b->data ? b->data + b->start : "";  /* NULL + 0 is undefined in C */
}

/* Drop the first n unread bytes. */
void buffer_consume(buffer *b, size_t n);

/* Look for a complete line at the start of the unread data.
   BUFFER_LINE: *len is its length including the EOL, *eol the EOL's
   length (1 for LF, 2 for CR LF). BUFFER_MORE: read more first.
   BUFFER_LONG: longer than linemax (take linemax bytes as the partial),
   said as soon as it is certain: without a LF, once linemax + 1 bytes are
   unread and the last of them is no CR (it could start a CR LF), or
   linemax + 2. */
int buffer_line(buffer *b, size_t *len, size_t *eol);

/* Make room for one read: the buffer can then hold `want` unread bytes
   (and at least one more than now). While a line is being looked for
   (every unread byte searched, no LF) and want fits within linemax + 2,
   the block does not grow past linemax + 2. Returns where the read should
   go and its size in *room, or NULL with errno ENOMEM. */
char *buffer_reserve(buffer *b, size_t want, size_t *room);

/* The read into the reserved room gave n bytes (n <= *room): they become
   unread data. Nothing may change the buffer between the two calls. */
void buffer_commit(buffer *b, size_t n);

/* Give back what the block holds beyond the unread data (after a line too
   long): it shrinks to the smallest size that holds that data, or is
   freed when none is left. */
void buffer_trim(buffer *b);

#endif
