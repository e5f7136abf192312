/*
 * dns_wait.c: a DNS call waiting for its answer.
 *
 * dns_start sets up the caller's stack (dns.h: DNS_S_BOX, DNS_S_DEADLINE,
 * DNS_S_SERVER) and submits a query owned by a box (a userdata): if the
 * caller goes away (timeout, error, abandoned task), the box's __gc lets
 * go of the query and the c-ares callback frees it. dns_wait_k waits on
 * the loop (yielding in a task) until the query is done, then pushes its
 * results, or until the deadline, then says "timeout".
 */
#define _GNU_SOURCE
#include <ares.h>
#include <lauxlib.h>
#include <lua.h>

#include "dns.h"
#include "loop.h"

#define QUERY_MT "netlua.dnsquery"

/* A query's owner on the stack of its call. */
typedef struct qbox { dnsquery *q; } qbox;

/* __gc of a query box: free a finished query, abandon a running one. */
static int box_gc(lua_State *L) {
  qbox *b = lua_touserdata(L, 1);
  dnsquery *q = b->q;
  b->q = NULL;
  if (q) dns_query_release(q);
  return 0;
}

/* Push a box owning a new query for thread L on channel c, asking `name`
   for the record types types[0..n-1] (the box keeps the thread alive as
   long as a callback may wake it). */
static dnsquery *box_new(lua_State *L, dnschan *c, int kind, const char *name,
                         const int *types, int n) {
  qbox *b = lua_newuserdatauv(L, sizeof *b, 1);
  b->q = NULL;
  if (luaL_newmetatable(L, QUERY_MT)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_pushthread(L);
  lua_setiuservalue(L, -2, 1);
  b->q = dns_query_new(c, L, kind, name, types, n);
  if (!b->q) {  /* as Lua's own memory error: the message alone */
    lua_pushliteral(L, "not enough memory");
    lua_error(L);
  }
  return b->q;
}

/* Continuation of every waiting call: done, timed out, or wait again. */
int dns_wait_k(lua_State *L, int status, lua_KContext ctx) {
  qbox *b = lua_touserdata(L, DNS_S_BOX);
  double deadline = lua_tonumber(L, DNS_S_DEADLINE);
  (void)status;
  for (;;) {
    dnsquery *q = b->q;
    if (q->done) {
      int r = dns_finish(L, q);
      b->q = NULL;
      dns_query_release(q);
      return r;
    }
    if (loop_expired(deadline)) {
      int kind = q->kind, rtype = q->rtype;
      dnschan *c = q->c;
      b->q = NULL;
      dns_query_release(q);  /* its callback frees it */
      /* nobody waits on this channel any more: end what c-ares still
         retries (1.18 cannot cancel one query), closing its sockets */
      if (c && c->waiting == 0 && c->flight > 0) ares_cancel(c->ch);
      return dns_push_fail(L, kind, rtype, "timeout");
    }
    loop_wait(L, -1, 0, deadline, ctx, dns_wait_k);
  }
}

/* Set up the stack of a waiting call (name, arg, opts, then box at
   DNS_S_BOX, deadline, server text) and submit the query for `name`,
   types[0..n-1]. Returns 1, or 0 after pushing nil, message (the resolver
   could not start). */
int dns_start(lua_State *L, dnsopts *o, int kind, const char *name,
              const int *types, int n) {
  int err;
  dnschan *c = dns_chan_get(L, o, &err);  /* o's servers are still on the stack */
  dnsquery *q;
  lua_settop(L, 3);
  if (!c) {
    dns_push_fail(L, kind, types[0], lua_pushfstring(L, "cannot start the resolver: %s",
                                                     dns_strerror(err)));
    return 0;
  }
  q = box_new(L, c, kind, name, types, n);
  lua_pushnumber(L, loop_deadline(o->timeout >= 0 ? o->timeout : c->deadline));
  dns_push_servers_text(L, c);
  dns_query_submit(q);
  return 1;
}
