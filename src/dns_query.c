/*
 * dns_query.c: DNS queries and a channel's queue.
 *
 * A query is one call's question (one c-ares query per record type: a
 * resolve asks A and AAAA), in C memory shared by the waiting call and
 * c-ares. At most DNS_MAXFLIGHT c-ares queries are in flight per channel;
 * the rest wait in the channel's queue, first come, first served, and start
 * as answers make room (dns_queue_drain, after each c-ares processing). A
 * part that a closed TCP connection lost is asked again within the call's
 * deadline. The c-ares callback only copies the answer and wakes the
 * waiting thread; a query whose caller went away is freed by it.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "dns.h"
#include "loop.h"

static void on_part(void *arg, int status, int timeouts, unsigned char *abuf, int alen);

/* Free a query and what it holds. */
static void query_free(dnsquery *q) {
  for (int i = 0; i < q->nparts; i++) free(q->part[i].abuf);
  free(q->name);
  free(q);
}

/* Start the c-ares queries of q (lookups and resolves through the search
   list; a reverse asks its arpa name as it is). */
static void query_start(dnsquery *q) {
  dnschan *c = q->c;
  q->started = 1;
  c->flight += q->nparts;
  for (int i = 0; i < q->nparts && q->c; i++) {
    dnspart *p = &q->part[i];
    p->heard = c->heard;
    void (*ask)(ares_channel, const char *, int, int, ares_callback, void *) =
      q->kind == DNS_REVERSE ? ares_query : ares_search;
    ask(c->ch, q->name, 1 /* IN */, p->rtype, on_part, p);
  }
}

/* Ask again the parts a closed TCP connection lost; start queued queries
   while there is room in flight. */
void dns_queue_drain(dnschan *c) {
  if (c->st->closing) return;
  while (c->retry) {
    dnspart *p = c->retry;
    dnsquery *q = p->q;
    c->retry = p->rnext;
    if (q->abandoned) {  /* nobody waits: this part is over */
      if (--q->remaining == 0) query_free(q);
      continue;
    }
    c->flight++;
    p->heard = c->heard;
    (q->kind == DNS_REVERSE ? ares_query : ares_search)(c->ch, q->name, 1, p->rtype, on_part, p);
  }
  while (c->qhead && c->flight + c->qhead->nparts <= DNS_MAXFLIGHT) {
    dnsquery *q = c->qhead;
    c->qhead = q->qnext;
    if (!c->qhead) c->qtail = NULL;
    q->qnext = NULL;
    query_start(q);
  }
}

/* A new query on channel c for thread L (see dns.h); NULL when out of
   memory. */
dnsquery *dns_query_new(dnschan *c, lua_State *L, int kind, const char *name,
                        const int *types, int n) {
  dnsquery *q = calloc(1, sizeof *q);
  if (!q || !(q->name = strdup(name))) { free(q); return NULL; }
  q->c = c;
  q->L = L;
  q->kind = kind;
  q->rtype = types[0];
  q->nparts = q->remaining = n;
  for (int i = 0; i < n; i++) {
    q->part[i].q = q;
    q->part[i].rtype = types[i];
  }
  c->waiting++;
  return q;
}

/* Start q now if there is room, else queue it (first come, first served). */
void dns_query_submit(dnsquery *q) {
  dnschan *c = q->c;
  if (!c->qhead && c->flight + q->nparts <= DNS_MAXFLIGHT) { query_start(q); return; }
  if (c->qtail) c->qtail->qnext = q; else c->qhead = q;
  c->qtail = q;
}

/* Take a queued query out of its channel's queue. */
static void query_unqueue(dnsquery *q) {
  dnschan *c = q->c;
  dnsquery *prev = NULL;
  for (dnsquery *p = c->qhead; p; prev = p, p = p->qnext) {
    if (p != q) continue;
    if (prev) prev->qnext = q->qnext; else c->qhead = q->qnext;
    if (c->qtail == q) c->qtail = prev;
    q->qnext = NULL;
    return;
  }
}

/* The caller lets go of q (answered, timed out, or collected): free it if
   c-ares is done with it (or never had it), else leave it to the callback. */
void dns_query_release(dnsquery *q) {
  if (q->c) q->c->waiting--;
  if (q->c && !q->started && !q->done) query_unqueue(q);
  if (q->done || !q->started) query_free(q); else q->abandoned = 1;
}

/* c-ares callback of one part: keep a copy of the message (answers and
   failures alike, for info and the rcode) and who sent it. */
static void on_part(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  dnspart *p = arg;
  dnsquery *q = p->q;
  dnschan *c = q->c;
  (void)timeouts;
  p->status = status;
  if (c && c->tcp && status == ARES_ECONNREFUSED && !q->abandoned && !c->st->closing &&
      (p->resent < 2 || c->heard != p->heard)) {
    /* a server closed the TCP connection with this query on it (dnsmasq
       does after 100 queries); 1.18 does not ask again on the same
       server: dns_queue_drain() does, within the caller's deadline, as long as
       the server keeps answering (twice only if it does not) */
    p->resent++;
    c->flight--;
    p->rnext = c->retry;
    c->retry = p;
    return;
  }
  if (abuf && alen >= 12 && !q->abandoned && status != ARES_EDESTRUCTION) {
    p->abuf = malloc((size_t)alen);
    if (p->abuf) { memcpy(p->abuf, abuf, (size_t)alen); p->alen = alen; }
    else p->status = ARES_ENOMEM;
    if (c) memcpy(p->server, c->from, sizeof p->server);
  }
  if (c) c->flight--;
  if (--q->remaining > 0) return;
  q->done = 1;
  if (q->abandoned) { query_free(q); return; }
  if (!c || c->st->closing) q->c = NULL;  /* the channel is going away */
  else loop_wake(q->L);
}


/* End the parts to ask again and the queued queries of channel c with
   ARES_EDESTRUCTION (c is being destroyed; c-ares ends its own queries):
   a query whose caller is gone is freed, the others are done for their
   boxes to free. */
void dns_queue_end(dnschan *c) {
  while (c->retry) {
    dnspart *p = c->retry;
    dnsquery *q = p->q;
    c->retry = p->rnext;
    p->status = ARES_EDESTRUCTION;
    if (--q->remaining == 0) {
      q->done = 1;
      q->c = NULL;
      if (q->abandoned) query_free(q);
    }
  }
  while (c->qhead) {
    dnsquery *q = c->qhead;
    c->qhead = q->qnext;
    q->c = NULL;
    q->done = 1;
    for (int i = 0; i < q->nparts; i++) q->part[i].status = ARES_EDESTRUCTION;
    if (q->abandoned) query_free(q);
  }
}
