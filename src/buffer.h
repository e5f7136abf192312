/*
 * buffer.h: the receive buffer of a connection, with no Lua and no fd in
 * it. The connection reads from its transport straight into one growing
 * block (buffer_reserve, then buffer_commit); lines are found with
 * memchr, remembering how far a partial line was already searched, so a
 * slow drip costs no rescans. The block starts small (many idle
 * connections stay cheap), doubles while reads fill it (bulk transfers get
 * large reads), and holds at most `linemax` + 2 bytes while looking for a
 * line: a line that never ends cannot make memory grow without bound.
 */
#ifndef NETLUA_BUFFER_H
#define NETLUA_BUFFER_H

#include <stddef.h>

#define BUFFER_LINEMAX (1024 * 1024)  /* default line limit: 1 MiB */
#define BUFFER_MIN 1024               /* first allocation */
#define BUFFER_AUTOMAX (256 * 1024)   /* growth by full reads stops here */

/* Results of buffer_line. */
enum { BUFFER_MORE, BUFFER_LINE, BUFFER_LONG };

typedef struct buffer {
  char *data;
  size_t start, end, cap;  /* unread data is data[start, end) */
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
   BUFFER_LONG: longer than linemax (take linemax bytes as the partial). */
int buffer_line(buffer *b, size_t *len, size_t *eol);

/* Make room for one read: the buffer can then hold `want` unread bytes
   (and at least one more than now). Returns where the read should go and
   its size in *room, or NULL with errno ENOMEM. */
char *buffer_reserve(buffer *b, size_t want, size_t *room);

/* The read into the reserved room gave n bytes (n <= *room): they become
   unread data. Nothing may change the buffer between the two calls. */
void buffer_commit(buffer *b, size_t n);

#endif
