/*
 * fuzz_buffer.c: libFuzzer target for the receive buffer (src/buffer.c).
 *
 * Input: byte 0 picks the line limit (1..64), byte 1 seeds the split
 * points; the rest is the byte stream. It is fed in reads of sizes drawn
 * from the seed (buffer_reserve, then buffer_commit), and taken out the way
 * conn.c does: lines ("l"), byte counts, or all at the end. Checked: a line
 * ends at the first LF, never holds more than linemax bytes before its EOL,
 * the EOL is CR LF exactly when a CR precedes the LF; BUFFER_MORE only
 * while no LF is unread and fewer than linemax + 2 bytes wait, BUFFER_LONG
 * without a LF only once linemax + 1 bytes wait and the last of them is no
 * CR, or linemax + 2; a line being looked for never grows the block past
 * linemax + 2 (nor a block already larger); after a line too long the block
 * is trimmed (buffer_trim) as conn.c does; the unread bytes are always
 * exactly the stream's next ones, and every byte comes out once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_buffer: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

/* A small generator of split points and choices. */
static uint32_t next(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
  buffer b;
  size_t linemax, len, fed = 0, out = 0;
  const uint8_t *data;
  uint32_t rng;
  if (size < 2) return 0;
  linemax = 1 + in[0] % 64;
  rng = 0x9e3779b9u ^ ((uint32_t)in[1] << 8 | in[1]);
  data = in + 2;
  len = size - 2;
  buffer_init(&b, linemax);
  for (;;) {
    uint32_t r = next(&rng);
    int mode = r % 4;            /* 0, 1: line; 2: count; 3: line with "L" */
    size_t count = 1 + (r >> 8) % 50, want, room, n, l, eol;
    int got;
    /* the unread data is the stream's next bytes */
    CHECK(buffer_len(&b) == fed - out);
    CHECK(buffer_len(&b) == 0 || memcmp(buffer_data(&b), data + out, buffer_len(&b)) == 0);
    if (mode == 2) {
      if (buffer_len(&b) >= count) { buffer_consume(&b, count); out += count; continue; }
      want = count;
    } else {
      got = buffer_line(&b, &l, &eol);
      if (got == BUFFER_LINE) {
        const char *p = buffer_data(&b);
        CHECK(l >= 1 && l <= buffer_len(&b));
        CHECK(p[l - 1] == '\n');
        CHECK(memchr(p, '\n', l - 1) == NULL);
        CHECK(eol == ((l >= 2 && p[l - 2] == '\r') ? 2u : 1u));
        CHECK(l - eol <= linemax);
        buffer_consume(&b, l);
        out += l;
        continue;
      }
      if (got == BUFFER_LONG) {
        const char *lf = memchr(buffer_data(&b), '\n', buffer_len(&b));
        size_t take = buffer_len(&b) < linemax ? buffer_len(&b) : linemax;
        if (lf) {
          size_t ll = (size_t)(lf - buffer_data(&b));
          CHECK(ll - (ll > 0 && lf[-1] == '\r') > linemax);
        } else {
          CHECK(buffer_len(&b) >= linemax + 2 ||
                (buffer_len(&b) == linemax + 1 && buffer_data(&b)[linemax] != '\r'));
        }
        buffer_consume(&b, take);  /* conn.c returns linemax bytes as the partial */
        out += take;
        buffer_trim(&b);           /* and gives the block back */
        CHECK(buffer_len(&b) == 0 ? b.cap == 0 : b.cap >= buffer_len(&b));
        continue;
      }
      CHECK(got == BUFFER_MORE);
      CHECK(memchr(buffer_data(&b), '\n', buffer_len(&b)) == NULL);
      CHECK(buffer_len(&b) < linemax + 2);
      want = buffer_len(&b) + 1;
    }
    if (fed == len) break;  /* end of stream: what is left comes out as "a" */
    {
      size_t before = b.cap;
      int pending = mode != 2 && buffer_len(&b) > 0 && b.scan == buffer_len(&b);
      char *p = buffer_reserve(&b, want, &room);
      CHECK(p != NULL && room >= 1);
      CHECK(buffer_len(&b) + room >= want);
      if (pending) CHECK(b.cap == before || b.cap <= linemax + 2);
      n = (r >> 16) % 8 == 0 ? room : 1 + (r >> 20) % 40;  /* sometimes fill it */
      if (n > room) n = room;
      if (n > len - fed) n = len - fed;
      memcpy(p, data + fed, n);
      buffer_commit(&b, n);
      fed += n;
    }
    CHECK(b.cap <= 4 * BUFFER_AUTOMAX);
  }
  CHECK(buffer_len(&b) == fed - out);
  CHECK(buffer_len(&b) == 0 || memcmp(buffer_data(&b), data + out, buffer_len(&b)) == 0);
  out += buffer_len(&b);
  buffer_consume(&b, buffer_len(&b));
  CHECK(out == len && buffer_len(&b) == 0);
  buffer_free(&b);
  return 0;
}
