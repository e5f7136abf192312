/*
 * dns.h: the DNS part of the `net` module (c-ares, never blocking the loop),
 * and what each of its files offers the ones above it.
 *
 * Lua API (dns.c, dns_text.c):
 *   net.resolve(name [, opts])        -> {addr, ...}   (A and AAAA, hosts file)
 *   net.lookup(name, rtype [, opts])  -> {record, ...}, info
 *   net.reverse(addr [, opts])        -> name
 *   net.dns.servers([list])           -> the default servers (read or set)
 *   net.dns.config()                  -> {servers, search, ndots, timeout, tries}
 *   net.dns.rdata(record)             -> the record's data as a zone file shows it
 *   opts: server ("ip", "ip:port", "[ip6]:port" or a list), timeout (seconds,
 *         a deadline for the whole call, default 10), tries (per server,
 *         within it, default 2), tcp (boolean), family (resolve only); any
 *         other key raises "unknown option". resolv.conf's "options
 *         timeout:N attempts:N" (and RES_OPTIONS) set the default channel's.
 *
 * Every call is a query of its own (ares_search for lookups and resolves,
 * A and AAAA parsed here; ares_query on the arpa name for reverses), so a
 * REFUSED answer is "refused" and a closed port "connection refused", and
 * records are filtered by owner (the name or its CNAME chain). At most
 * DNS_MAXFLIGHT queries are in flight per channel; the rest wait in the
 * channel's queue with their own deadlines. c-ares gets socket functions
 * that send with MSG_NOSIGNAL (no SIGPIPE) and note who answered.
 *
 * How it is driven.  A Lua state has one dnsstate (a userdata in the
 * registry, made on first use) holding c-ares channels: the default one
 * (resolv.conf) and one per set of non-default options, cached.  Each
 * channel tells the loop which sockets to watch through its socket-state
 * callback (loop_watch), and one loop poller bounds the loop's wait by
 * ares_timeout and processes expired timeouts.  A waiting call allocates a
 * query (C memory), starts it, and waits in loop_wait until the c-ares
 * callback marks it done; the callback only copies the answer and calls
 * loop_wake.  The query is owned by a userdata on the caller's stack: if the
 * caller goes away (timeout, error, abandoned task), the query is marked
 * abandoned and the callback frees it when c-ares finally calls it.
 *
 * Answers are parsed here from the raw message (header, question, answer
 * records, names through ares_expand_name) so that every record keeps its
 * TTL, which c-ares 1.18's typed parsers drop for most types.
 *
 * Files, each using only those below it:
 *   dns.c         net.resolve, net.lookup, net.reverse, net.dns.servers and
 *                 .config: arguments, names, literals, the hosts file
 *   dns_text.c    records as zone files write them: net.dns.rdata, __tostring
 *                 of records and of a lookup's info
 *   dns_wait.c    a waiting call: its stack, the box owning its query, the
 *                 wait until done or the deadline
 *   dns_result.c  a finished query as Lua results: records, info, addresses,
 *                 names, MX/SRV order, failure messages and error words
 *   dns_parse.c   the bytes of an answer into record tables (no state)
 *   dns_opts.c    options tables and server addresses ("ip:port" both ways)
 *   dns_chan.c    the DNS state and its c-ares channels: creation, timing,
 *                 cache, their sockets and timeouts on the loop
 *   dns_query.c   queries and a channel's queue: start, bounded in flight,
 *                 asked again, the c-ares callback, freeing
 *   dns_sock.c    c-ares socket functions (MSG_NOSIGNAL, who answered) and
 *                 address text; no Lua
 */
#ifndef NETLUA_DNS_H
#define NETLUA_DNS_H

#include <ares.h>
#include <lua.h>

#include <netinet/in.h>

#define DNS_RECORD_MT "netlua.dnsrecord"   /* metatable of a record */
#define DNS_INFO_MT   "netlua.dnsinfo"     /* metatable of a lookup's info */
#define DNS_MAXCHANS  16    /* cached option channels */
#define DNS_MAXFLIGHT 100   /* c-ares queries in flight per channel; the rest
                               wait in the channel's queue (a socket's receive
                               buffer holds ~250 answers: never overflow it) */
#define DNS_DEF_TIMEOUT 10.0  /* seconds for a whole call, by default */
#define DNS_DEF_TRIES   2     /* tries per server within it, by default */

/* Stack layout of a waiting call (after lua_settop(L, 3)): 1 the name,
   2 an argument, 3 the options, then these. */
#define DNS_S_BOX      4
#define DNS_S_DEADLINE 5
#define DNS_S_SERVER   6

typedef struct dnsstate dnsstate;
typedef struct dnsquery dnsquery;
typedef struct dnspart dnspart;

/* One c-ares channel and what the messages say about it. */
typedef struct dnschan {
  ares_channel ch;
  dnsstate *st;
  char *key;             /* option set; NULL for the default channel */
  int flight;            /* c-ares queries started and not yet called back */
  int waiting;           /* queries a caller still holds (done or not) */
  int inherit;           /* option channel using the default servers */
  int stale;             /* the default servers changed: do not reuse */
  double deadline;       /* a call's default time limit (seconds) */
  double next;           /* when the poller must process timeouts (< 0 none) */
  dnsquery *qhead, *qtail;  /* queries waiting for room in flight */
  dnspart *retry;        /* parts to ask again (a server closed TCP) */
  int tcp;               /* queries go over TCP */
  unsigned long heard;   /* messages received (progress, for resends) */
  char from[64];         /* the server the last message came from */
  struct dnschan *next_chan;
} dnschan;

/* The DNS state of a Lua state. */
struct dnsstate {
  lua_State *L;          /* main thread, for loop_watch */
  dnschan *def;          /* the default channel, once made */
  dnschan *chans;        /* every channel, default included */
  int nchans;
  int closing;           /* being collected: callbacks must not touch the loop */
  int v6first;           /* resolve lists IPv6 first (a global IPv6 route) */
  unsigned rng;
};

enum { DNS_LOOKUP, DNS_RESOLVE, DNS_REVERSE };

/* One c-ares query of a call (a resolve asks A and AAAA: two parts). */
struct dnspart {
  dnsquery *q;
  int rtype, status;
  unsigned char *abuf;   /* copy of the answer (also of a failed one) */
  int alen;
  char server[64];       /* who answered */
  int resent;            /* times asked again after a TCP connection closed */
  unsigned long heard;   /* the channel's `heard` when it was last asked */
  struct dnspart *rnext; /* in the channel's list of parts to ask again */
};

/* One call in flight, shared by its waiter (through a box) and c-ares. */
struct dnsquery {
  dnschan *c;
  lua_State *L;          /* the waiting thread */
  int kind, rtype;
  int done, abandoned, started;
  int nparts, remaining;
  dnspart part[2];
  char *name;            /* the name to ask */
  dnsquery *qnext;       /* in the channel's queue */
};

/* Channel options wanted by a call. */
typedef struct dnsopts {
  struct ares_addr_port_node *servers;  /* NULL: the default servers */
  int nservers;
  int tcp, tries;        /* tries 0: default */
  double timeout;        /* < 0: default */
  char key[512];
} dnsopts;

/* ---- dns_sock.c: c-ares sockets, address text (no Lua) ---------------- */

/* Socket functions for ares_set_socket_functions (user data: the dnschan):
   close-on-exec sockets, sends with MSG_NOSIGNAL, each received message
   counted in c->heard and its sender noted in c->from. */
extern const struct ares_socket_functions dns_sockfns;

/* Text of an IPv4 (by hand: the hot path) or IPv6 address into out
   (n >= INET6_ADDRSTRLEN for IPv6); "?" if it cannot be written. */
void dns_addr_text(int family, const void *addr, char *out, size_t n);

/* "ip", "ip:port" or "[ip6]:port" (port 0 and 53 left out) into out,
   which holds at least DNS_HOSTPORT_LEN bytes. */
#define DNS_HOSTPORT_LEN (INET6_ADDRSTRLEN + 10)
void dns_hostport_text(int family, const void *addr, int port, char *out);

/* Write the decimal digits of v at out (NUL-terminated); returns the end. */
char *dns_put_uint(char *out, unsigned long long v);

/* ---- dns_query.c: queries and a channel's queue ------------------------ */

/* A new query on channel c for thread L, asking `name` for the record types
   types[0..n-1] (n <= 2) as `kind`; counted as waiting on c. NULL when out
   of memory. */
dnsquery *dns_query_new(dnschan *c, lua_State *L, int kind, const char *name,
                        const int *types, int n);

/* Start q now if there is room in flight, else queue it (first come, first
   served). */
void dns_query_submit(dnsquery *q);

/* The caller lets go of q (answered, timed out, or collected): free it if
   c-ares is done with it (or never had it), else leave it to the callback. */
void dns_query_release(dnsquery *q);

/* Ask again the parts a closed TCP connection lost, and start queued
   queries while there is room in flight (after c-ares processed a socket
   or a timeout). */
void dns_queue_drain(dnschan *c);

/* End every queued query and part waiting to be asked again of c with
   ARES_EDESTRUCTION (the channel is being destroyed). */
void dns_queue_end(dnschan *c);

/* ---- dns_chan.c: the state and its channels --------------------------- */

/* The DNS state of this Lua state, made (with ares_library_init) on first
   use; raises if c-ares cannot start. */
dnsstate *dns_state_get(lua_State *L);

/* The channel for options o (NULL or no key: the default one), or NULL and
   *err (a c-ares status). */
dnschan *dns_chan_get(lua_State *L, const dnsopts *o, int *err);

/* Drop idle option channels beyond the cache size, and stale idle ones. */
void dns_chan_trim(dnsstate *st);

/* ---- dns_opts.c: options and server addresses ------------------------- */

/* Read the options table at idx into o (servers kept alive on the stack);
   family_ok: "family" is an option, read into *family. Raises for a bad
   option. */
void dns_check_opts(lua_State *L, int idx, dnsopts *o, int family_ok, int *family);

/* Read servers from the value at idx (string or list of strings) into a
   linked list allocated as a userdata pushed on the stack (freed by the GC);
   raises a Lua error naming a bad entry. Appends them to key. */
struct ares_addr_port_node *dns_check_servers(lua_State *L, int idx, char *key,
                                              size_t keysz);

/* Push the servers of channel c (may be NULL) as one string ("a, b"). */
void dns_push_servers_text(lua_State *L, dnschan *c);

/* Push a list of the servers of channel c. */
void dns_push_servers_list(lua_State *L, dnschan *c);

/* ---- dns_parse.c: answers ---------------------------------------------- */

/* Parse the DNS message buf[0..len-1] (a fuzz entry point: any bytes are
   safe) and push three values: the records of type `want` owned by the
   question name or its CNAME chain, every answer record (info.answers),
   and the question name ("" when none). Records are tables {name, type,
   ttl, the type's fields} with metatable DNS_RECORD_MT (when registered).
   Returns 0, or -1 (nothing pushed) if the message is malformed. */
int dns_parse_answer(lua_State *L, const unsigned char *buf, int len, int want);

/* The name of a record type ("TYPE99" for one without a name here, written
   into buf). */
const char *dns_rtype_name(int type, char *buf, size_t n);

/* The record type named s (any case), or 0 if unknown. */
int dns_rtype_find(const char *s);

/* ---- dns_result.c: results of a finished query ------------------------- */

/* netlua's words for c-ares statuses. */
const char *dns_strerror(int status);

/* Push a printable form of s (len bytes) for messages. */
const char *dns_push_shown(lua_State *L, const char *s, size_t len);

/* Push the failure message of a waiting call: "VERB NAME [TYPE] (server
   S): cause". Returns 2 (nil, message). */
int dns_push_fail(lua_State *L, int kind, int rtype, const char *cause);

/* Push the results of the finished query q of a waiting call; returns
   their number. */
int dns_finish(lua_State *L, dnsquery *q);

/* ---- dns_wait.c: a waiting call ---------------------------------------- */

/* Set up the stack of a waiting call (name, arg, opts, then box at
   DNS_S_BOX, deadline, server text) and submit the query for `name`,
   types[0..n-1]. Returns 1, or 0 after pushing nil, message (the resolver
   could not start). */
int dns_start(lua_State *L, dnsopts *o, int kind, const char *name,
              const int *types, int n);

/* Continuation of every waiting call: done, timed out, or wait again. */
int dns_wait_k(lua_State *L, int status, lua_KContext ctx);

/* ---- dns_text.c: zone-file text ----------------------------------------- */

/* net.dns.rdata(record) -> its data as a zone file writes it. */
int dns_rdata(lua_State *L);

/* Register the metatables of records and infos (their __tostring). */
void dns_text_open(lua_State *L);

#endif
