/*
 * dns.c: DNS for the `net` module through c-ares, never blocking the loop.
 *
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
 * MAXFLIGHT queries are in flight per channel; the rest wait in the
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
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <lauxlib.h>
#include <lua.h>

#include "loop.h"
#include "net.h"
#include "netaux.h"

#define STATE_MT  "netlua.dns"
#define QUERY_MT  "netlua.dnsquery"
#define RECORD_MT "netlua.dnsrecord"
#define INFO_MT   "netlua.dnsinfo"
#define MAXCHANS  16        /* cached option channels */
#define MAXFLIGHT 100       /* c-ares queries in flight per channel; the rest
                               wait in the channel's queue (a socket's receive
                               buffer holds ~250 answers: never overflow it) */
#define DEF_TIMEOUT 10.0    /* seconds for a whole call, by default */
#define DEF_TRIES   2       /* tries per server within it, by default */

/* Stack layout of a waiting call (after lua_settop(L, 3)). */
#define S_BOX      4
#define S_DEADLINE 5
#define S_SERVER   6

typedef struct dnsstate dnsstate;
typedef struct query query;
typedef struct part part;

/* One c-ares channel and what the messages say about it. */
typedef struct chan {
  ares_channel ch;
  dnsstate *st;
  char *key;             /* option set; NULL for the default channel */
  int flight;            /* c-ares queries started and not yet called back */
  int waiting;           /* queries a caller still holds (done or not) */
  int inherit;           /* option channel using the default servers */
  int stale;             /* the default servers changed: do not reuse */
  double deadline;       /* a call's default time limit (seconds) */
  double next;           /* when the poller must process timeouts (< 0 none) */
  query *qhead, *qtail;  /* queries waiting for room in flight */
  part *retry;           /* parts to ask again (a server closed TCP) */
  int tcp;               /* queries go over TCP */
  unsigned long heard;   /* messages received (progress, for resends) */
  char from[64];         /* the server the last message came from */
  struct chan *next_chan;
} chan;

struct dnsstate {
  lua_State *L;          /* main thread, for loop_watch */
  chan *def;             /* the default channel, once made */
  chan *chans;           /* every channel, default included */
  int nchans;
  int closing;           /* being collected: callbacks must not touch the loop */
  int v6first;           /* resolve lists IPv6 first (a global IPv6 route) */
  unsigned rng;
};

enum { Q_LOOKUP, Q_RESOLVE, Q_REVERSE };

/* One c-ares query of a call (a resolve asks A and AAAA: two parts). */
struct part {
  query *q;
  int rtype, status;
  unsigned char *abuf;   /* copy of the answer (also of a failed one) */
  int alen;
  char server[64];       /* who answered */
  int resent;            /* times asked again after a TCP connection closed */
  unsigned long heard;   /* the channel's `heard` when it was last asked */
  struct part *rnext;    /* in the channel's list of parts to ask again */
};

/* One call in flight, shared by its waiter (through a box) and c-ares. */
struct query {
  chan *c;
  lua_State *L;          /* the waiting thread */
  int kind, rtype;
  int done, abandoned, started;
  int nparts, remaining;
  part part[2];
  char *name;            /* the name to ask */
  query *qnext;          /* in the channel's queue */
};

typedef struct qbox { query *q; } qbox;

/* ---- record types and error words ------------------------------------ */

static const struct { const char *name; int type; } rtypes[] = {
  {"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"PTR", 12}, {"MX", 15},
  {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"CAA", 257}, {NULL, 0}};

/* The name of a record type ("TYPE99" for one we do not know). */
static const char *rtype_name(int type, char *buf, size_t n) {
  for (int i = 0; rtypes[i].name; i++)
    if (rtypes[i].type == type) return rtypes[i].name;
  snprintf(buf, n, "TYPE%d", type);
  return buf;
}

/* The record type named at stack index i, or a Lua error naming it. */
static int check_rtype(lua_State *L, int i) {
  const char *s = luaL_checkstring(L, i);
  for (int j = 0; rtypes[j].name; j++)
    if (strcasecmp(s, rtypes[j].name) == 0) return rtypes[j].type;
  return luaL_argerror(L, i, lua_pushfstring(L, "unknown record type '%s'", s));
}

/* netlua's words for c-ares statuses. */
static const char *dns_strerror(int status) {
  switch (status) {
  case ARES_ENOTFOUND: return "no such name";
  case ARES_ENODATA: return "no address";
  case ARES_ESERVFAIL: return "server failure";
  case ARES_EREFUSED: return "refused";
  case ARES_ETIMEOUT: return "timeout";
  case ARES_ECONNREFUSED: return "connection refused";
  case ARES_EFORMERR: return "format error";
  case ARES_ENOTIMP: return "not implemented by the server";
  case ARES_EBADRESP: return "bad response";
  case ARES_EBADNAME: return "invalid name";
  case ARES_ENOMEM: return "out of memory";
  case ARES_EDESTRUCTION: case ARES_ECANCELLED: return "cancelled";
  default: return ares_strerror(status);
  }
}

/* ---- names ----------------------------------------------------------- */

/* Push a printable form of s (len bytes) for messages. */
static const char *push_shown(lua_State *L, const char *s, size_t len) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x21 || c >= 0x7f || c == '\\') {
      char esc[8];
      snprintf(esc, sizeof esc, "\\%03u", c);
      luaL_addstring(&b, esc);
    } else {
      luaL_addchar(&b, (char)c);
    }
  }
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

/* Why `s` is not a valid host name, or NULL if it is one. */
static const char *name_problem(const char *s, size_t len) {
  size_t label = 0;
  if (len == 0) return "empty name";
  if (len == 1 && s[0] == '.') return NULL;  /* the root */
  if (s[len - 1] == '.') len--;
  if (len > 253) return "name over 253 bytes";
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == 0) return "NUL in name";
    if (c <= 0x20 || c == 0x7f) return "space or control character in name";
    if (c == '.') {
      if (label == 0) return "empty label";
      label = 0;
    } else if (++label > 63) {
      return "label over 63 bytes";
    }
  }
  return NULL;
}

/* ---- sockets of c-ares --------------------------------------------------
   c-ares 1.18 writes with writev, which raises SIGPIPE when a DNS server has
   closed a TCP connection; these socket functions write with
   sendmsg(MSG_NOSIGNAL), make sockets close-on-exec, and note which server
   each message came from (so an answer can name the server that gave it). */

/* Open a socket for c-ares: close-on-exec, non-blocking. */
static ares_socket_t sk_socket(int domain, int type, int protocol, void *ud) {
  (void)ud;
  return socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
}

/* Close a c-ares socket (the socket-state callback has already unwatched it). */
static int sk_close(ares_socket_t fd, void *ud) {
  (void)ud;
  return close(fd);
}

static int sk_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t n,
                      void *ud) {
  (void)ud;
  return connect(fd, sa, n);
}

/* Text of an address: IPv4 by hand (inet_ntop goes through sprintf, and a
   busy resolver formats several addresses per answer), IPv6 by inet_ntop. */
static void addr_text(int family, const void *addr, char *out, size_t n) {
  if (family == AF_INET && n >= INET_ADDRSTRLEN) {
    const unsigned char *a = addr;
    for (int i = 0; i < 4; i++) {
      unsigned v = a[i];
      if (v >= 100) *out++ = (char)('0' + v / 100);
      if (v >= 10) *out++ = (char)('0' + v / 10 % 10);
      *out++ = (char)('0' + v % 10);
      *out++ = i < 3 ? '.' : '\0';
    }
  } else if (!inet_ntop(family, addr, out, (socklen_t)n)) {
    snprintf(out, n, "?");
  }
}

/* Append the decimal digits of v (>= 0) at out; returns the end. */
static char *put_uint(char *out, unsigned long long v) {
  char d[24];
  int k = 0;
  do d[k++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  while (k) *out++ = d[--k];
  *out = '\0';
  return out;
}

/* "ip", "ip:port" or "[ip6]:port" (port 0 and 53 left out) into out,
   which holds at least HOSTPORT_LEN bytes. */
#define HOSTPORT_LEN (INET6_ADDRSTRLEN + 10)
static void hostport_text(int family, const void *addr, int port, char *out) {
  char *p = out;
  int bracket = family == AF_INET6 && port != 0 && port != 53;
  if (bracket) *p++ = '[';
  addr_text(family, addr, p, INET6_ADDRSTRLEN);
  p += strlen(p);
  if (port != 0 && port != 53) {
    if (bracket) *p++ = ']';
    *p++ = ':';
    put_uint(p, (unsigned)port);
  }
}

/* Note the address of a peer in c->from ("ip", "ip:port" or "[ip6]:port"). */
static void note_from(chan *c, const struct sockaddr *sa) {
  char text[HOSTPORT_LEN];
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *s4 = (const void *)sa;
    hostport_text(AF_INET, &s4->sin_addr, ntohs(s4->sin_port), text);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const void *)sa;
    hostport_text(AF_INET6, &s6->sin6_addr, ntohs(s6->sin6_port), text);
  } else {
    return;
  }
  snprintf(c->from, sizeof c->from, "%s", text);
}

/* Receive for c-ares, noting the sender (TCP: the peer). */
static ares_ssize_t sk_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
                                struct sockaddr *from, ares_socklen_t *fromlen, void *ud) {
  chan *c = ud;
  ares_ssize_t n = recvfrom(fd, buf, len, flags, from, fromlen);
  if (n > 0) {
    c->heard++;
    if (from) {
      note_from(c, from);
    } else {
      struct sockaddr_storage ss;
      socklen_t sl = sizeof ss;
      if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) note_from(c, (struct sockaddr *)&ss);
    }
  }
  return n;
}

/* Send for c-ares without ever raising SIGPIPE. */
static ares_ssize_t sk_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *ud) {
  struct msghdr m;
  (void)ud;
  memset(&m, 0, sizeof m);
  m.msg_iov = (struct iovec *)iov;
  m.msg_iovlen = (size_t)n;
  return sendmsg(fd, &m, MSG_NOSIGNAL);
}

static const struct ares_socket_functions sockfns = {
  sk_socket, sk_close, sk_connect, sk_recvfrom, sk_sendv};

/* ---- channels -------------------------------------------------------- */

static void on_fd(void *ud, int fd, int revents);
static void drain(chan *c);
static void query_free(query *q);
static void on_part(void *arg, int status, int timeouts, unsigned char *abuf, int alen);

/* c-ares says which sockets it wants watched: tell the loop. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable) {
  chan *c = data;
  if (c->st->closing) return;
  loop_watch(c->st->L, fd, (readable ? LOOP_READ : 0) | (writable ? LOOP_WRITE : 0),
             on_fd, c);
}

/* A c-ares socket is ready; answers may have made room for queued queries. */
static void on_fd(void *ud, int fd, int revents) {
  chan *c = ud;
  ares_process_fd(c->ch, (revents & LOOP_READ) ? fd : ARES_SOCKET_BAD,
                  (revents & LOOP_WRITE) ? fd : ARES_SOCKET_BAD);
  drain(c);
}

/* Poller: the earliest time a channel needs its timeouts processed. */
static double poll_next(void *ud) {
  dnsstate *st = ud;
  double best = -1, now = -1;
  if (st->closing) return -1;
  for (chan *c = st->chans; c; c = c->next_chan) {
    struct timeval tv;
    c->next = -1;
    if (c->flight == 0) continue;
    if (ares_timeout(c->ch, NULL, &tv) == NULL) continue;
    if (now < 0) now = loop_now();
    c->next = now + (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
    if (best < 0 || c->next < best) best = c->next;
  }
  return best;
}

/* Poller: process the timeouts that have come. */
static void poll_run(void *ud) {
  dnsstate *st = ud;
  double now;
  if (st->closing) return;
  now = loop_now();
  for (chan *c = st->chans; c; c = c->next_chan)
    if (c->flight > 0 && c->next >= 0 && now >= c->next) {
      c->next = -1;
      ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      drain(c);
    }
}

/* Destroy one channel (its pending callbacks run with ARES_EDESTRUCTION;
   queued queries end the same way, for their boxes to free). */
static void chan_free(chan *c) {
  while (c->retry) {
    part *p = c->retry;
    query *q = p->q;
    c->retry = p->rnext;
    p->status = ARES_EDESTRUCTION;
    if (--q->remaining == 0) {
      q->done = 1;
      q->c = NULL;
      if (q->abandoned) query_free(q);
    }
  }
  while (c->qhead) {
    query *q = c->qhead;
    c->qhead = q->qnext;
    q->c = NULL;
    q->done = 1;
    for (int i = 0; i < q->nparts; i++) q->part[i].status = ARES_EDESTRUCTION;
    if (q->abandoned) query_free(q);
  }
  ares_destroy(c->ch);
  free(c->key);
  free(c);
}

/* __gc of the state: stop talking to the loop, destroy every channel. */
static int state_gc(lua_State *L) {
  dnsstate *st = luaL_checkudata(L, 1, STATE_MT);
  st->closing = 1;
  while (st->chans) {
    chan *c = st->chans;
    st->chans = c->next_chan;
    chan_free(c);
  }
  st->def = NULL;
  st->nchans = 0;
  return 0;
}

/* True when this host has a global IPv6 route (so IPv6 addresses are
   listed first, as RFC 6724 would): a UDP connect sends nothing. */
static int have_ipv6_route(void) {
  struct sockaddr_in6 sa;
  int ok, fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  memset(&sa, 0, sizeof sa);
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(53);
  inet_pton(AF_INET6, "2001:db8::1", &sa.sin6_addr);
  ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  close(fd);
  return ok;
}

/* The DNS state of this Lua state, made (with ares_library_init) on first use. */
static dnsstate *state_get(lua_State *L) {
  static int lib_ready;
  dnsstate *st;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, STATE_MT) == LUA_TUSERDATA) {
    st = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return st;
  }
  lua_pop(L, 1);
  if (!lib_ready) {
    int r = ares_library_init(ARES_LIB_INIT_ALL);
    if (r != ARES_SUCCESS) luaL_error(L, "c-ares: %s", ares_strerror(r));
    lib_ready = 1;
  }
  st = lua_newuserdatauv(L, sizeof *st, 0);
  memset(st, 0, sizeof *st);
  if (luaL_newmetatable(L, STATE_MT)) {
    lua_pushcfunction(L, state_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  st->L = lua_tothread(L, -1);
  lua_pop(L, 1);
  st->rng = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16) ^ (unsigned)(size_t)st;
  if (st->rng == 0) st->rng = 1;
  st->v6first = have_ipv6_route();
  loop_get(L);  /* the loop exists before the state, so it outlives it */
  loop_add_poller(L, poll_next, poll_run, st);
  lua_rawsetp(L, LUA_REGISTRYINDEX, STATE_MT);
  return st;
}

/* Channel options wanted by a call. */
typedef struct chanopts {
  struct ares_addr_port_node *servers;  /* NULL: the default servers */
  int nservers;
  int tcp, tries;        /* tries 0: default */
  double timeout;        /* < 0: default */
  char key[512];
} chanopts;

/* Number of servers of a channel. */
static int count_servers(ares_channel ch) {
  struct ares_addr_port_node *list = NULL;
  int n = 0;
  if (ares_get_servers_ports(ch, &list) != ARES_SUCCESS) return 1;
  for (struct ares_addr_port_node *p = list; p; p = p->next) n++;
  ares_free_data(list);
  return n > 0 ? n : 1;
}

/* c-ares's first-try timeout (ms) so that `tries` rounds over `nservers`
   fit in `total` seconds: 1.18 doubles it each round, so a whole query
   takes nservers * (2^tries - 1) times it. */
static int per_try_ms(double total, int tries, int nservers) {
  double ms = total * 1000.0 / ((double)nservers * (double)((1 << tries) - 1));
  return ms < 1 ? 1 : ms > 1e8 ? 100000000 : (int)ms;
}

/* Read "timeout:N" and "attempts:N" from an options text (resolv.conf's
   options line, or RES_OPTIONS) into *secs and *tries. */
static void scan_options(const char *s, int *secs, int *tries) {
  for (const char *p = s; (p = strpbrk(p, "ta")) != NULL; p++) {
    if ((p == s || p[-1] == ' ' || p[-1] == '\t') && !strncmp(p, "timeout:", 8))
      *secs = atoi(p + 8);
    else if ((p == s || p[-1] == ' ' || p[-1] == '\t') && !strncmp(p, "attempts:", 9))
      *tries = atoi(p + 9);
  }
}

/* The default channel's timing. c-ares 1.18 does not apply resolv.conf's
   "options timeout:N attempts:N" (nor RES_OPTIONS): read them here, as
   glibc does (N seconds per try, N tries per server). Without them,
   netlua's defaults: 2 tries within DEF_TIMEOUT. Sets *ms, *tries and
   returns the default call time limit. */
static double default_timing(int *ms, int *tries) {
  ares_channel probe;
  struct ares_options opt;
  int secs = 0, n = 1, t = 0;
  char line[512];
  const char *env = getenv("RES_OPTIONS");
  FILE *f = fopen("/etc/resolv.conf", "re");
  if (f) {
    while (fgets(line, sizeof line, f))
      if (!strncmp(line, "options", 7) && (line[7] == ' ' || line[7] == '\t'))
        scan_options(line + 7, &secs, &t);
    fclose(f);
  }
  if (env) scan_options(env, &secs, &t);
  if (ares_init_options(&probe, &opt, 0) == ARES_SUCCESS) {
    n = count_servers(probe);
    ares_destroy(probe);
  }
  *tries = t >= 1 && t <= 5 ? t : DEF_TRIES;
  if (secs >= 1 && secs <= 30) {
    *ms = secs * 1000;
    return (double)secs * n * *tries;  /* the last tries are cut short */
  }
  *ms = per_try_ms(DEF_TIMEOUT, *tries, n);
  return DEF_TIMEOUT;
}

/* Make a channel (o NULL: the default one); returns NULL and sets *err. */
static chan *chan_new(dnsstate *st, const chanopts *o, const char *key, int *err) {
  struct ares_options opt;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS |
             ARES_OPT_TRIES | ARES_OPT_SOCK_RCVBUF;
  chan *c = calloc(1, sizeof *c);
  if (!c) { *err = ARES_ENOMEM; return NULL; }
  memset(&opt, 0, sizeof opt);
  c->st = st;
  c->next = -1;
  opt.sock_state_cb = sock_state;
  opt.sock_state_cb_data = c;
  opt.socket_receive_buffer_size = 1 << 20;
  /* every answer as the server gave it (REFUSED is "refused", not a
     connection refused; 1.18 reports a skipped server as ECONNREFUSED) */
  opt.flags = ARES_FLAG_NOCHECKRESP;
  if (!o) {
    c->deadline = default_timing(&opt.timeout, &opt.tries);
  } else {
    int n = o->servers ? o->nservers : (st->def ? count_servers(st->def->ch) : 1);
    c->deadline = o->timeout >= 0 ? o->timeout : DEF_TIMEOUT;
    opt.tries = o->tries > 0 ? o->tries : DEF_TRIES;
    opt.timeout = per_try_ms(c->deadline, opt.tries, n);
    if (o->tcp) { opt.flags |= ARES_FLAG_USEVC; c->tcp = 1; }
    if (o->servers) {  /* a server asked by name: DNS only */
      opt.lookups = (char *)"b";
      mask |= ARES_OPT_LOOKUPS;
    }
  }
  *err = ares_init_options(&c->ch, &opt, mask);
  if (*err == ARES_SUCCESS && o) {
    struct ares_addr_port_node *list = NULL;
    if (o->servers) {
      *err = ares_set_servers_ports(c->ch, o->servers);
    } else if (st->def && ares_get_servers_ports(st->def->ch, &list) == ARES_SUCCESS) {
      c->inherit = 1;  /* the default servers, as net.dns.servers set them */
      *err = ares_set_servers_ports(c->ch, list);
      ares_free_data(list);
    }
  }
  if (*err != ARES_SUCCESS) {
    if (c->ch) ares_destroy(c->ch);
    free(c);
    return NULL;
  }
  ares_set_socket_functions(c->ch, &sockfns, c);
  c->key = key ? strdup(key) : NULL;
  c->next_chan = st->chans;
  st->chans = c;
  st->nchans++;
  return c;
}

/* True when channel c has nothing in flight, queued or held. */
static int chan_idle(const chan *c) {
  return c->flight == 0 && c->waiting == 0 && c->qhead == NULL && c->retry == NULL;
}

/* Drop idle option channels beyond the cache size, and stale idle ones. */
static void chan_trim(dnsstate *st) {
  chan **pp = &st->chans;
  while (*pp) {
    chan *c = *pp;
    if (c != st->def && chan_idle(c) && (c->stale || st->nchans > MAXCHANS)) {
      *pp = c->next_chan;
      st->nchans--;
      chan_free(c);
    } else {
      pp = &c->next_chan;
    }
  }
}

/* The channel for options `o` (NULL: the default one), or NULL + *err. */
static chan *chan_get(lua_State *L, const chanopts *o, int *err) {
  dnsstate *st = state_get(L);
  *err = ARES_SUCCESS;
  if (!st->def && !(st->def = chan_new(st, NULL, NULL, err))) return NULL;
  if (!o || o->key[0] == 0) return st->def;
  for (chan *c = st->chans; c; c = c->next_chan)
    if (c->key && !c->stale && strcmp(c->key, o->key) == 0) return c;
  chan_trim(st);
  return chan_new(st, o, o->key, err);
}

/* ---- server addresses ------------------------------------------------ */

/* Parse "ip", "ip:port", "[ip6]" or "[ip6]:port" into n; 0 if it is none. */
static int parse_server(const char *s, struct ares_addr_port_node *n) {
  char host[INET6_ADDRSTRLEN + 1];
  const char *h = s, *p = NULL;
  size_t hl;
  memset(n, 0, sizeof *n);
  if (s[0] == '[') {
    const char *e = strchr(s, ']');
    if (!e) return 0;
    h = s + 1;
    hl = (size_t)(e - h);
    if (e[1] == ':') p = e + 2; else if (e[1]) return 0;
  } else {
    const char *colon = strchr(s, ':');
    if (colon && strchr(colon + 1, ':') == NULL) { hl = (size_t)(colon - s); p = colon + 1; }
    else hl = strlen(s);
  }
  if (hl == 0 || hl >= sizeof host) return 0;
  memcpy(host, h, hl);
  host[hl] = 0;
  if (inet_pton(AF_INET, host, &n->addr.addr4) == 1) n->family = AF_INET;
  else if (inet_pton(AF_INET6, host, &n->addr.addr6) == 1) n->family = AF_INET6;
  else return 0;
  n->udp_port = n->tcp_port = 53;
  if (p) {
    char *end;
    long port = strtol(p, &end, 10);
    if (*p == 0 || *end || port < 1 || port > 65535) return 0;
    n->udp_port = n->tcp_port = (int)port;
  }
  return 1;
}

/* Append server text for messages: "ip", "ip:port", "[ip6]:port". */
static void add_server_text(luaL_Buffer *b, int family, const void *addr, int port) {
  char text[HOSTPORT_LEN];
  hostport_text(family, addr, port, text);
  luaL_addstring(b, text);
}

/* Push the servers of channel c as one string ("a, b"). */
static void push_servers_text(lua_State *L, chan *c) {
  struct ares_addr_port_node *list = NULL;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (c && ares_get_servers_ports(c->ch, &list) == ARES_SUCCESS) {
    for (struct ares_addr_port_node *n = list; n; n = n->next) {
      add_server_text(&b, n->family, &n->addr, n->udp_port);
      if (n->next) luaL_addstring(&b, ", ");
    }
    ares_free_data(list);
  }
  luaL_pushresult(&b);
}

/* Push a list of the servers of channel c. */
static void push_servers_list(lua_State *L, chan *c) {
  struct ares_addr_port_node *list = NULL;
  int i = 0;
  lua_newtable(L);
  if (ares_get_servers_ports(c->ch, &list) != ARES_SUCCESS) return;
  for (struct ares_addr_port_node *n = list; n; n = n->next) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    add_server_text(&b, n->family, &n->addr, n->udp_port);
    luaL_pushresult(&b);
    lua_rawseti(L, -2, ++i);
  }
  ares_free_data(list);
}

/* Read servers from the value at idx (string or list of strings) into a
   linked list allocated as a userdata pushed on the stack (freed by the GC);
   raises a Lua error naming a bad entry. Appends them to key. */
static struct ares_addr_port_node *check_servers(lua_State *L, int idx, char *key,
                                                 size_t keysz) {
  int n = 1, t = lua_type(L, idx);
  struct ares_addr_port_node *nodes;
  if (t == LUA_TTABLE) n = (int)lua_rawlen(L, idx);
  else if (t != LUA_TSTRING)
    luaL_error(L, "bad option 'server' (string or list expected, got %s)", luaL_typename(L, idx));
  if (n < 1 || n > 32) luaL_error(L, "bad option 'server' (1 to 32 servers expected)");
  nodes = lua_newuserdatauv(L, (size_t)n * sizeof *nodes, 0);
  for (int i = 0; i < n; i++) {
    const char *s;
    if (t == LUA_TTABLE) lua_rawgeti(L, idx, i + 1); else lua_pushvalue(L, idx);
    s = lua_tostring(L, -1);
    if (lua_type(L, -1) != LUA_TSTRING || strlen(s) != lua_rawlen(L, -1) ||
        !parse_server(s, &nodes[i]))
      luaL_error(L, "bad server '%s' (address, address:port or [IPv6]:port expected)",
                 s ? s : luaL_typename(L, -1));
    if (strlen(key) + strlen(s) + 2 < keysz) { strcat(key, s); strcat(key, ","); }
    nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
    lua_pop(L, 1);
  }
  return nodes;
}

/* Read the options table at idx into o (servers kept alive on the stack). */
static void check_opts(lua_State *L, int idx, chanopts *o, int family_ok, int *family) {
  static const char *const known[] = {"server", "timeout", "tries", "tcp", "family", NULL};
  static const char *const known_nf[] = {"server", "timeout", "tries", "tcp", NULL};
  memset(o, 0, sizeof *o);
  o->timeout = -1;
  if (family) *family = AF_UNSPEC;
  net_checkopts(L, idx, family_ok ? known : known_nf);
  if (lua_isnoneornil(L, idx)) return;
  if (lua_getfield(L, idx, "server") != LUA_TNIL) {
    strcpy(o->key, "s=");
    o->servers = check_servers(L, lua_absindex(L, -1), o->key, sizeof o->key);
    o->nservers = (int)(lua_rawlen(L, -1) / sizeof *o->servers);
    lua_remove(L, -2);  /* keep the nodes userdata, drop the option value */
  } else {
    lua_pop(L, 1);
  }
  if (lua_getfield(L, idx, "tcp") != LUA_TNIL) {
    if (!lua_isboolean(L, -1))
      luaL_error(L, "bad option 'tcp' (boolean expected, got %s)", luaL_typename(L, -1));
    o->tcp = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "tries") != LUA_TNIL) {
    lua_Integer n = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
    if (n < 1 || n > 20)
      luaL_error(L, "bad option 'tries' (integer 1 to 20 expected)");
    o->tries = (int)n;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "timeout") != LUA_TNIL) {
    int isnum;
    double t = lua_tonumberx(L, -1, &isnum);
    if (!isnum || isnan(t) || t < 0 || t > 1e6)
      luaL_error(L, "bad option 'timeout' (seconds >= 0 expected)");
    o->timeout = t;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "family") != LUA_TNIL) {
    const char *f = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (f && (!strcmp(f, "inet") || !strcmp(f, "ipv4") || !strcmp(f, "4"))) *family = AF_INET;
    else if (f && (!strcmp(f, "inet6") || !strcmp(f, "ipv6") || !strcmp(f, "6"))) *family = AF_INET6;
    else if (!f || strcmp(f, "any") != 0)
      luaL_error(L, "bad option 'family' (\"inet\", \"inet6\" or \"any\" expected, got %s)",
                 f ? f : luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  if (o->servers || o->tcp || o->tries || o->timeout >= 0) {
    /* by hand, not snprintf: this runs on every call */
    char *p = o->key + strlen(o->key);
    if (p + 64 < o->key + sizeof o->key) {
      memcpy(p, "|t=", 3);
      p = put_uint(p + 3, (unsigned)o->tcp);
      memcpy(p, "|r=", 3);
      p = put_uint(p + 3, (unsigned)o->tries);
      memcpy(p, "|m=", 3);
      if (o->timeout < 0) memcpy(p + 3, "-", 2);
      else put_uint(p + 3, (unsigned long long)(o->timeout * 1000.0 + 0.5));
    }
  }
}

/* ---- queries --------------------------------------------------------- */

/* Free a query and what it holds. */
static void query_free(query *q) {
  for (int i = 0; i < q->nparts; i++) free(q->part[i].abuf);
  free(q->name);
  free(q);
}

/* Start the c-ares queries of q (lookups and resolves through the search
   list; a reverse asks its arpa name as it is). */
static void query_start(query *q) {
  chan *c = q->c;
  q->started = 1;
  c->flight += q->nparts;
  for (int i = 0; i < q->nparts && q->c; i++) {
    part *p = &q->part[i];
    p->heard = c->heard;
    void (*ask)(ares_channel, const char *, int, int, ares_callback, void *) =
      q->kind == Q_REVERSE ? ares_query : ares_search;
    ask(c->ch, q->name, 1 /* IN */, p->rtype, on_part, p);
  }
}

/* Start queued queries while there is room in flight. */
static void drain(chan *c) {
  if (c->st->closing) return;
  while (c->retry) {
    part *p = c->retry;
    query *q = p->q;
    c->retry = p->rnext;
    if (q->abandoned) {  /* nobody waits: this part is over */
      if (--q->remaining == 0) query_free(q);
      continue;
    }
    c->flight++;
    p->heard = c->heard;
    (q->kind == Q_REVERSE ? ares_query : ares_search)(c->ch, q->name, 1, p->rtype, on_part, p);
  }
  while (c->qhead && c->flight + c->qhead->nparts <= MAXFLIGHT) {
    query *q = c->qhead;
    c->qhead = q->qnext;
    if (!c->qhead) c->qtail = NULL;
    q->qnext = NULL;
    query_start(q);
  }
}

/* Start q now if there is room, else queue it (first come, first served). */
static void query_submit(query *q) {
  chan *c = q->c;
  if (!c->qhead && c->flight + q->nparts <= MAXFLIGHT) { query_start(q); return; }
  if (c->qtail) c->qtail->qnext = q; else c->qhead = q;
  c->qtail = q;
}

/* Take a queued query out of its channel's queue. */
static void query_unqueue(query *q) {
  chan *c = q->c;
  query *prev = NULL;
  for (query *p = c->qhead; p; prev = p, p = p->qnext) {
    if (p != q) continue;
    if (prev) prev->qnext = q->qnext; else c->qhead = q->qnext;
    if (c->qtail == q) c->qtail = prev;
    q->qnext = NULL;
    return;
  }
}

/* The caller lets go of q (answered, timed out, or collected): free it if
   c-ares is done with it (or never had it), else leave it to the callback. */
static void query_release(query *q) {
  if (q->c) q->c->waiting--;
  if (q->c && !q->started && !q->done) query_unqueue(q);
  if (q->done || !q->started) query_free(q); else q->abandoned = 1;
}

/* c-ares callback of one part: keep a copy of the message (answers and
   failures alike, for info and the rcode) and who sent it. */
static void on_part(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  part *p = arg;
  query *q = p->q;
  chan *c = q->c;
  (void)timeouts;
  p->status = status;
  if (c && c->tcp && status == ARES_ECONNREFUSED && !q->abandoned && !c->st->closing &&
      (p->resent < 2 || c->heard != p->heard)) {
    /* a server closed the TCP connection with this query on it (dnsmasq
       does after 100 queries); 1.18 does not ask again on the same
       server: drain() does, within the caller's deadline, as long as
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

/* __gc of a query box: free a finished query, abandon a running one. */
static int box_gc(lua_State *L) {
  qbox *b = lua_touserdata(L, 1);
  query *q = b->q;
  b->q = NULL;
  if (q) query_release(q);
  return 0;
}

/* Push a box owning a new query for thread L on channel c, asking `name`
   for the record types types[0..n-1] (the box keeps the thread alive as
   long as a callback may wake it). */
static query *box_new(lua_State *L, chan *c, int kind, const char *name,
                      const int *types, int n) {
  qbox *b = lua_newuserdatauv(L, sizeof *b, 1);
  query *q;
  b->q = NULL;
  if (luaL_newmetatable(L, QUERY_MT)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_pushthread(L);
  lua_setiuservalue(L, -2, 1);
  q = calloc(1, sizeof *q);
  if (!q || !(q->name = strdup(name))) { free(q); luaL_error(L, "out of memory"); }
  b->q = q;
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

/* ---- parsing answers ------------------------------------------------- */

typedef struct msg { const unsigned char *buf; int len; } msg;

static unsigned rd16(const unsigned char *p) { return ((unsigned)p[0] << 8) | p[1]; }
static unsigned long rd32(const unsigned char *p) {
  return ((unsigned long)rd16(p) << 16) | rd16(p + 2);
}

/* Push the name at p (within rdata ending at end); returns the bytes it
   takes at p, or -1 if malformed. */
static int push_name(lua_State *L, const msg *m, const unsigned char *p,
                     const unsigned char *end) {
  char *s;
  long enclen;
  if (p >= end || ares_expand_name(p, m->buf, m->len, &s, &enclen) != ARES_SUCCESS)
    return -1;
  if (enclen > end - p) { ares_free_string(s); return -1; }
  lua_pushstring(L, s);
  ares_free_string(s);
  return (int)enclen;
}

/* Set field k of the table at -2 to the name at p; returns bytes or -1. */
static int set_name(lua_State *L, const msg *m, const unsigned char *p,
                    const unsigned char *end, const char *k) {
  int n = push_name(L, m, p, end);
  if (n >= 0) lua_setfield(L, -2, k);
  return n;
}

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

/* TXT rdata: strings (the list) and text (them joined). Returns 0 or -1. */
static int set_txt(lua_State *L, const unsigned char *p, const unsigned char *end) {
  luaL_Buffer b;
  int i = 0, tbl;
  lua_newtable(L);
  tbl = lua_gettop(L);
  while (p < end) {
    size_t n = *p++;
    if ((size_t)(end - p) < n) { lua_pop(L, 1); return -1; }
    lua_pushlstring(L, (const char *)p, n);
    lua_rawseti(L, tbl, ++i);
    p += n;
  }
  luaL_buffinit(L, &b);
  for (int k = 1; k <= i; k++) {
    lua_rawgeti(L, tbl, k);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_setfield(L, tbl - 1, "text");
  lua_setfield(L, tbl - 1, "strings");
  return 0;
}

/* Add the fields of rdata (type t) to the record table at the top.
   Returns 0, or -1 if the data is malformed. */
static int set_rdata(lua_State *L, const msg *m, int t, const unsigned char *p, int rdlen) {
  const unsigned char *end = p + rdlen;
  char addr[INET6_ADDRSTRLEN];
  int n;
  switch (t) {
  case 1: case 28:
    if (rdlen != (t == 1 ? 4 : 16)) return -1;
    addr_text(t == 1 ? AF_INET : AF_INET6, p, addr, sizeof addr);
    lua_pushstring(L, addr);
    lua_setfield(L, -2, "address");
    return 0;
  case 2: case 12:
    return set_name(L, m, p, end, "host") < 0 ? -1 : 0;
  case 5:
    return set_name(L, m, p, end, "target") < 0 ? -1 : 0;
  case 15:
    if (rdlen < 3) return -1;
    set_int(L, "preference", rd16(p));
    return set_name(L, m, p + 2, end, "exchange") < 0 ? -1 : 0;
  case 16:
    return set_txt(L, p, end);
  case 6:
    if ((n = set_name(L, m, p, end, "mname")) < 0) return -1;
    p += n;
    if ((n = set_name(L, m, p, end, "rname")) < 0) return -1;
    p += n;
    if (end - p < 20) return -1;
    set_int(L, "serial", (lua_Integer)rd32(p));
    set_int(L, "refresh", (lua_Integer)rd32(p + 4));
    set_int(L, "retry", (lua_Integer)rd32(p + 8));
    set_int(L, "expire", (lua_Integer)rd32(p + 12));
    set_int(L, "minimum", (lua_Integer)rd32(p + 16));
    return 0;
  case 33:
    if (rdlen < 7) return -1;
    set_int(L, "priority", rd16(p));
    set_int(L, "weight", rd16(p + 2));
    set_int(L, "port", rd16(p + 4));
    return set_name(L, m, p + 6, end, "target") < 0 ? -1 : 0;
  case 257:
    if (rdlen < 2 || p[1] > rdlen - 2) return -1;
    set_int(L, "flags", p[0]);
    lua_pushboolean(L, p[0] & 0x80);
    lua_setfield(L, -2, "critical");
    lua_pushlstring(L, (const char *)p + 2, p[1]);
    lua_setfield(L, -2, "tag");
    lua_pushlstring(L, (const char *)p + 2 + p[1], (size_t)(rdlen - 2 - p[1]));
    lua_setfield(L, -2, "value");
    return 0;
  default: {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < rdlen; i++) {
      char hx[3];
      snprintf(hx, sizeof hx, "%02x", p[i]);
      luaL_addlstring(&b, hx, 2);
    }
    luaL_pushresult(&b);
    lua_setfield(L, -2, "data");
    return 0;
  }
  }
}

/* Skip the name at off; returns the offset after it, or -1. */
static int skip_name(const msg *m, int off) {
  char *s;
  long enclen;
  if (off >= m->len || ares_expand_name(m->buf + off, m->buf, m->len, &s, &enclen) != ARES_SUCCESS)
    return -1;
  ares_free_string(s);
  return off + (int)enclen;
}

/* Push the lower-case form of the string field k of the table at t
   (DNS names compare without case). */
static void push_lower_field(lua_State *L, int t, const char *k) {
  luaL_Buffer b;
  size_t n;
  const char *s;
  lua_getfield(L, t, k);
  s = lua_tolstring(L, -1, &n);
  luaL_buffinit(L, &b);
  for (size_t i = 0; s && i < n; i++)
    luaL_addchar(&b, (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]));
  luaL_pushresult(&b);
  lua_remove(L, -2);
}

/* Push the records of `answers` (index) of type `want` owned by the name
   `qname` (index) or by the CNAME chain from it: another owner's records
   are not the answer. */
static void push_owned(lua_State *L, int answers, int qname, const char *want) {
  int n = (int)lua_rawlen(L, answers), chain, out, k = 0, grew = 1;
  lua_newtable(L);
  out = lua_gettop(L);
  lua_newtable(L);
  chain = lua_gettop(L);
  lua_newtable(L);  /* the question name, lower-cased, starts the chain */
  lua_pushvalue(L, qname);
  lua_setfield(L, -2, "name");
  push_lower_field(L, lua_gettop(L), "name");
  lua_pushboolean(L, 1);
  lua_settable(L, chain);
  lua_pop(L, 1);
  for (int round = 0; grew && round <= n; round++) {
    grew = 0;
    for (int i = 1; i <= n; i++) {
      lua_rawgeti(L, answers, i);
      lua_getfield(L, -1, "type");
      if (strcmp(lua_tostring(L, -1), "CNAME") == 0) {
        push_lower_field(L, -2, "name");
        if (lua_gettable(L, chain) != LUA_TNIL) {
          push_lower_field(L, -3, "target");
          if (lua_rawget(L, chain) == LUA_TNIL) {
            push_lower_field(L, -4, "target");
            lua_pushboolean(L, 1);
            lua_settable(L, chain);
            grew = 1;
          }
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 2);
    }
  }
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, answers, i);
    lua_getfield(L, -1, "type");
    if (strcmp(lua_tostring(L, -1), want) == 0) {
      push_lower_field(L, -2, "name");
      if (lua_gettable(L, chain) != LUA_TNIL) {
        lua_pushvalue(L, -3);
        lua_rawseti(L, out, ++k);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);  /* chain */
}

/* Parse the answer section into two lists pushed on the stack: the records
   of type `want` owned by the question name or its CNAME chain, and every
   record (info.answers); also the question name.
   Pushes: list, answers, qname. Returns 0, or -1 if malformed (nothing
   pushed). */
static int parse_answer(lua_State *L, const msg *m, int want) {
  int top = lua_gettop(L), off = 12, nq, na;
  char tbuf[16];
  if (m->len < 12) return -1;
  nq = (int)rd16(m->buf + 4);
  na = (int)rd16(m->buf + 6);
  lua_newtable(L);                 /* top + 1: answers */
  lua_pushliteral(L, "");          /* top + 2: qname */
  for (int i = 0; i < nq; i++) {
    if (i == 0) {
      if (push_name(L, m, m->buf + off, m->buf + m->len) < 0) goto bad;
      lua_replace(L, top + 2);
    }
    if ((off = skip_name(m, off)) < 0 || off + 4 > m->len) goto bad;
    off += 4;
  }
  for (int i = 0; i < na; i++) {
    int t, rdlen;
    unsigned long ttl;
    int noff = skip_name(m, off);
    if (noff < 0 || noff + 10 > m->len) goto bad;
    t = (int)rd16(m->buf + noff);
    ttl = rd32(m->buf + noff + 4);
    rdlen = (int)rd16(m->buf + noff + 8);
    if (noff + 10 + rdlen > m->len) goto bad;
    if (rd16(m->buf + noff + 2) == 1) {  /* class IN */
      lua_newtable(L);
      if (push_name(L, m, m->buf + off, m->buf + noff) < 0) goto bad;
      lua_setfield(L, -2, "name");
      lua_pushstring(L, rtype_name(t, tbuf, sizeof tbuf));
      lua_setfield(L, -2, "type");
      set_int(L, "ttl", (lua_Integer)(ttl > 0x7fffffffUL ? 0 : ttl));
      if (set_rdata(L, m, t, m->buf + noff + 10, rdlen) < 0) goto bad;
      luaL_setmetatable(L, RECORD_MT);
      lua_rawseti(L, top + 1, (lua_Integer)lua_rawlen(L, top + 1) + 1);
    }
    off = noff + 10 + rdlen;
  }
  push_owned(L, top + 1, top + 2, rtype_name(want, tbuf, sizeof tbuf));
  lua_rotate(L, top + 1, 1);       /* list, answers, qname */
  return 0;
bad:
  lua_settop(L, top);
  return -1;
}

/* Integer field k of the table at list[i]. */
static lua_Integer field_at(lua_State *L, int list, int i, const char *k) {
  lua_Integer v;
  lua_rawgeti(L, list, i);
  lua_getfield(L, -1, k);
  v = lua_tointeger(L, -1);
  lua_pop(L, 2);
  return v;
}

/* Swap list[i] and list[j]. */
static void swap_at(lua_State *L, int list, int i, int j) {
  lua_rawgeti(L, list, i);
  lua_rawgeti(L, list, j);
  lua_rawseti(L, list, i);
  lua_rawseti(L, list, j);
}

/* Stable insertion sort of list by integer field k, ascending. */
static void sort_by(lua_State *L, int list, const char *k) {
  int n = (int)lua_rawlen(L, list);
  for (int i = 2; i <= n; i++)
    for (int j = i; j > 1 && field_at(L, list, j - 1, k) > field_at(L, list, j, k); j--)
      swap_at(L, list, j - 1, j);
}

/* A small random number generator for SRV weights (xorshift). */
static unsigned rnd(dnsstate *st) {
  unsigned x = st->rng;
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  return st->rng = x;
}

/* SRV order as RFC 2782 says a client uses it: by priority, and within a
   priority by a weighted random choice. */
static void sort_srv(lua_State *L, int list, dnsstate *st) {
  int n = (int)lua_rawlen(L, list);
  sort_by(L, list, "priority");
  for (int i = 1; i <= n;) {
    int j = i;
    lua_Integer prio = field_at(L, list, i, "priority");
    while (j + 1 <= n && field_at(L, list, j + 1, "priority") == prio) j++;
    for (int pos = i; pos < j; pos++) {  /* choose each position in turn */
      unsigned long total = 0, r, run = 0;
      int pick = pos;
      for (int k = pos; k <= j; k++) total += (unsigned long)field_at(L, list, k, "weight");
      if (total == 0) break;
      r = rnd(st) % (total + 1);
      for (int k = pos; k <= j; k++) {
        run += (unsigned long)field_at(L, list, k, "weight");
        if (run >= r && (field_at(L, list, k, "weight") > 0 || r == 0)) { pick = k; break; }
      }
      for (int k = pick; k > pos; k--) swap_at(L, list, k - 1, k);
    }
    i = j + 1;
  }
}

/* ---- results --------------------------------------------------------- */

/* Push the failure message of a waiting call: "VERB NAME [TYPE] (server
   S): cause". Returns 2 (nil, message). */
static int push_fail(lua_State *L, int kind, int rtype, const char *cause) {
  size_t len;
  const char *name = lua_tolstring(L, 1, &len);
  const char *shown = push_shown(L, name, len);
  const char *server = lua_tostring(L, S_SERVER);
  char tbuf[16];
  const char *verb = kind == Q_LOOKUP ? "lookup" : kind == Q_RESOLVE ? "resolve" : "reverse";
  const char *type = kind == Q_LOOKUP ? rtype_name(rtype, tbuf, sizeof tbuf) : NULL;
  return net_fail(L, "%s %s%s%s%s%s%s: %s", verb, shown, type ? " " : "", type ? type : "",
                  server ? " (server " : "", server ? server : "", server ? ")" : "", cause);
}

/* dig's word for a response code. */
static const char *rcode_name(int rcode, char *buf, size_t n) {
  static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                      "NOTIMP", "REFUSED"};
  if (rcode >= 0 && rcode < 6) return names[rcode];
  snprintf(buf, n, "RCODE%d", rcode);
  return buf;
}

/* Set boolean field k of the table at the top. */
static void set_bool(lua_State *L, const char *k, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}

/* Parse the message of part p and push the records of its type and the
   info table {name, server, answers, authoritative, rcode, flags = {qr,
   aa, tc, rd, ra}}. Returns 0, or -1 (nothing pushed) if malformed. */
static int push_answer(lua_State *L, const part *p) {
  msg m;
  const unsigned char *h = p->abuf;
  char rbuf[16];
  m.buf = p->abuf;
  m.len = p->alen;
  if (!h || parse_answer(L, &m, p->rtype) < 0) return -1;
  lua_createtable(L, 0, 7);        /* list, answers, qname, info */
  lua_rotate(L, -3, 1);            /* list, info, answers, qname */
  if (lua_rawlen(L, -1) == 0) { lua_pop(L, 1); lua_pushvalue(L, 1); }
  lua_setfield(L, -3, "name");
  lua_setfield(L, -2, "answers");
  if (p->server[0]) lua_pushstring(L, p->server); else lua_pushvalue(L, S_SERVER);
  lua_setfield(L, -2, "server");
  set_bool(L, "authoritative", (h[2] & 0x04) != 0);
  lua_pushstring(L, rcode_name(h[3] & 0x0f, rbuf, sizeof rbuf));
  lua_setfield(L, -2, "rcode");
  lua_createtable(L, 0, 5);
  set_bool(L, "qr", (h[2] & 0x80) != 0);
  set_bool(L, "aa", (h[2] & 0x04) != 0);
  set_bool(L, "tc", (h[2] & 0x02) != 0);
  set_bool(L, "rd", (h[2] & 0x01) != 0);
  set_bool(L, "ra", (h[3] & 0x80) != 0);
  lua_setfield(L, -2, "flags");
  luaL_setmetatable(L, INFO_MT);
  return 0;
}

/* The results of a finished lookup: records, info; or nil, message and,
   when the server answered, info. */
static int finish_lookup(lua_State *L, query *q) {
  part *p = &q->part[0];
  int r;
  if (p->status == ARES_SUCCESS || p->status == ARES_ENODATA) {
    if (push_answer(L, p) == 0) {
      if (q->rtype == 15) sort_by(L, lua_absindex(L, -2), "preference");
      if (q->rtype == 33) sort_srv(L, lua_absindex(L, -2), state_get(L));
      return 2;
    }
    if (p->status == ARES_ENODATA) {  /* the name exists, no record of the type */
      lua_newtable(L);
      lua_createtable(L, 0, 3);
      lua_pushvalue(L, S_SERVER);
      lua_setfield(L, -2, "server");
      lua_newtable(L);
      lua_setfield(L, -2, "answers");
      lua_pushvalue(L, 1);
      lua_setfield(L, -2, "name");
      luaL_setmetatable(L, INFO_MT);
      return 2;
    }
    return push_fail(L, Q_LOOKUP, q->rtype, "malformed answer");
  }
  r = push_fail(L, Q_LOOKUP, q->rtype, dns_strerror(p->status));
  if (push_answer(L, p) == 0) {  /* nil, message, info */
    lua_remove(L, -2);
    r++;
  }
  return r;
}

/* True for statuses that say what the name holds (rather than that the
   servers could not be asked). */
static int says_name(int status) {
  return status == ARES_SUCCESS || status == ARES_ENODATA || status == ARES_ENOTFOUND;
}

/* Add the addresses of part p's answer to the list at `list`, skipping
   those in `seen`; returns the new count. */
static int add_addresses(lua_State *L, const part *p, int list, int seen, int n) {
  int rec;
  if (p->status != ARES_SUCCESS || push_answer(L, p) < 0) return n;
  lua_pop(L, 1);
  rec = lua_gettop(L);
  for (lua_Integer i = 1; lua_rawgeti(L, rec, i) == LUA_TTABLE; i++) {
    lua_getfield(L, -1, "address");
    lua_pushvalue(L, -1);
    if (lua_rawget(L, seen) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_pushboolean(L, 1);
      lua_rawset(L, seen);
      lua_rawseti(L, list, ++n);
    } else {
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
  }
  lua_settop(L, rec - 1);
  return n;
}

/* The results of a finished resolve: the addresses, without repeats. */
static int finish_resolve(lua_State *L, query *q) {
  int n = 0, list, cause = ARES_SUCCESS, all_nx = 1;
  lua_newtable(L);
  list = lua_gettop(L);
  lua_newtable(L);  /* seen */
  for (int i = 0; i < q->nparts; i++)
    n = add_addresses(L, &q->part[i], list, list + 1, n);
  lua_pop(L, 1);
  if (n > 0) return 1;
  lua_pop(L, 1);
  for (int i = 0; i < q->nparts; i++) {
    int s = q->part[i].status;
    if (s != ARES_ENOTFOUND) all_nx = 0;
    if (!says_name(s) && cause == ARES_SUCCESS) cause = s;
  }
  if (cause != ARES_SUCCESS) return push_fail(L, Q_RESOLVE, 0, dns_strerror(cause));
  return push_fail(L, Q_RESOLVE, 0, all_nx ? "no such name" : "no address");
}

/* The result of a finished reverse lookup: the first PTR name. */
static int finish_reverse(lua_State *L, query *q) {
  part *p = &q->part[0];
  if (p->status == ARES_SUCCESS && push_answer(L, p) == 0) {
    lua_pop(L, 1);
    if (lua_rawgeti(L, -1, 1) == LUA_TTABLE) {
      lua_getfield(L, -1, "host");
      return 1;
    }
    lua_pop(L, 2);
    return push_fail(L, Q_REVERSE, 0, "no PTR record");
  }
  if (p->status == ARES_ENODATA) return push_fail(L, Q_REVERSE, 0, "no PTR record");
  return push_fail(L, Q_REVERSE, 0, dns_strerror(p->status));
}

/* Continuation of every waiting call: done, timed out, or wait again. */
static int wait_k(lua_State *L, int status, lua_KContext ctx) {
  qbox *b = lua_touserdata(L, S_BOX);
  double deadline = lua_tonumber(L, S_DEADLINE);
  (void)status;
  for (;;) {
    query *q = b->q;
    if (q->done) {
      int r = q->kind == Q_LOOKUP ? finish_lookup(L, q)
            : q->kind == Q_RESOLVE ? finish_resolve(L, q) : finish_reverse(L, q);
      b->q = NULL;
      query_release(q);
      return r;
    }
    if (loop_expired(deadline)) {
      int kind = q->kind, rtype = q->rtype;
      chan *c = q->c;
      b->q = NULL;
      query_release(q);  /* its callback frees it */
      /* nobody waits on this channel any more: end what c-ares still
         retries (1.18 cannot cancel one query), closing its sockets */
      if (c && c->waiting == 0 && c->flight > 0) ares_cancel(c->ch);
      return push_fail(L, kind, rtype, "timeout");
    }
    loop_wait(L, -1, 0, deadline, ctx, wait_k);
  }
}

/* Set up the stack of a waiting call (name, arg, opts, then box at S_BOX,
   deadline, server text) and submit the query for `name`, types[0..n-1].
   Returns 1, or 0 after pushing nil, message (the resolver could not
   start). */
static int start(lua_State *L, chanopts *o, int kind, const char *name,
                 const int *types, int n) {
  int err;
  chan *c = chan_get(L, o, &err);  /* o's servers are still on the stack */
  query *q;
  lua_settop(L, 3);
  if (!c) {
    push_fail(L, kind, types[0], lua_pushfstring(L, "cannot start the resolver: %s",
                                                 dns_strerror(err)));
    return 0;
  }
  q = box_new(L, c, kind, name, types, n);
  lua_pushnumber(L, loop_deadline(o->timeout >= 0 ? o->timeout : c->deadline));
  push_servers_text(L, c);
  query_submit(q);
  return 1;
}

/* ---- net.lookup, net.resolve, net.reverse ---------------------------- */

/* Turn an IP literal into its reverse-lookup name; 0 if s is not one. */
static int arpa_name(const char *s, char *out, size_t n) {
  unsigned char a[16];
  if (inet_pton(AF_INET, s, a) == 1) {
    snprintf(out, n, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
    return 1;
  }
  if (inet_pton(AF_INET6, s, a) == 1) {
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (int i = 15; i >= 0 && k + 4 < n; i--) {
      out[k++] = hex[a[i] & 15]; out[k++] = '.';
      out[k++] = hex[a[i] >> 4]; out[k++] = '.';
    }
    snprintf(out + k, n - k, "ip6.arpa");
    return 1;
  }
  return 0;
}

/* net.lookup(name, rtype [, opts]) -> records, info | nil, message [, info] */
static int l_lookup(lua_State *L) {
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  int rtype = check_rtype(L, 2);
  const char *why = name_problem(name, len);
  char arpa[80];
  chanopts o;
  check_opts(L, 3, &o, 0, NULL);
  if (rtype == 12 && arpa_name(name, arpa, sizeof arpa)) {  /* PTR of an address */
    lua_pushstring(L, arpa);
    lua_replace(L, 1);
    name = lua_tolstring(L, 1, &len);
    why = NULL;
  }
  if (why) {
    char tbuf[16];
    const char *shown = push_shown(L, name, len);
    return net_fail(L, "lookup %s %s: invalid name (%s)", shown,
                    rtype_name(rtype, tbuf, sizeof tbuf), why);
  }
  if (!start(L, &o, Q_LOOKUP, lua_tostring(L, 1), &rtype, 1)) return 2;
  return wait_k(L, 0, 0);
}

/* The family of an address literal in s (brackets, "%zone" allowed),
   with its text pushed; 0 (nothing pushed) if s is no literal. */
static int push_literal(lua_State *L, const char *s, size_t len) {
  char buf[INET6_ADDRSTRLEN + 64];
  unsigned char a[16];
  char *pct;
  if (len >= 2 && s[0] == '[' && s[len - 1] == ']') { s++; len -= 2; }
  if (len == 0 || len >= sizeof buf || memchr(s, 0, len)) return 0;
  memcpy(buf, s, len);
  buf[len] = 0;
  if (inet_pton(AF_INET, buf, a) == 1) { lua_pushstring(L, buf); return AF_INET; }
  if (inet_pton(AF_INET6, buf, a) == 1) { lua_pushstring(L, buf); return AF_INET6; }
  if ((pct = strchr(buf, '%')) != NULL && pct[1] && !strpbrk(pct, " \t/")) {
    *pct = 0;  /* a scoped IPv6 address: fe80::1%eth0 */
    if (inet_pton(AF_INET6, buf, a) == 1) {
      *pct = '%';
      lua_pushstring(L, buf);
      return AF_INET6;
    }
  }
  return 0;
}

/* True when s is made of digits and dots only (a dotted quad or a number:
   never a name to send to DNS). */
static int looks_numeric(const char *s, size_t len) {
  if (len == 0) return 0;
  for (size_t i = 0; i < len; i++)
    if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) return 0;
  return 1;
}

/* Addresses of name in the hosts file (as the system resolver reads it)
   for family f, added to the list at the top; returns the new count. */
static int hosts_file(lua_State *L, chan *c, const char *name, int f, int n) {
  struct hostent *h = NULL;
  if (ares_gethostbyname_file(c->ch, name, f, &h) != ARES_SUCCESS || !h) return n;
  for (char **a = h->h_addr_list; a && *a; a++) {
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(h->h_addrtype, *a, buf, sizeof buf)) {
      lua_pushstring(L, buf);
      lua_rawseti(L, -2, ++n);
    }
  }
  ares_free_hostent(h);
  return n;
}

/* net.resolve(name [, opts]) -> {addr, ...} | nil, message */
static int l_resolve(lua_State *L) {
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  const char *why = name_problem(name, len);
  int family, f, types[2], ntypes = 0, err, v6first;
  chanopts o;
  lua_settop(L, 2);
  lua_pushnil(L);
  lua_insert(L, 2);  /* opts at 3, as for net.lookup */
  check_opts(L, 3, &o, 1, &family);
  if ((f = push_literal(L, name, len)) != 0) {  /* addresses are themselves */
    if (family != AF_UNSPEC && family != f)
      return net_fail(L, "resolve %s: not an %s address", lua_tostring(L, -1),
                      family == AF_INET ? "IPv4" : "IPv6");
    lua_createtable(L, 1, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
    return 1;
  }
  if (looks_numeric(name, len))
    return net_fail(L, "resolve %s: invalid address", name);
  if (why) return net_fail(L, "resolve %s: invalid name (%s)", push_shown(L, name, len), why);
  if (!o.servers) {  /* the hosts file first, as the system does */
    chan *c = chan_get(L, &o, &err);
    int n = 0;
    lua_newtable(L);
    if (c && family != AF_INET) n = hosts_file(L, c, name, AF_INET6, n);
    if (c && family != AF_INET6) n = hosts_file(L, c, name, AF_INET, n);
    if (n > 0) return 1;
    lua_pop(L, 1);
  }
  v6first = state_get(L)->v6first;
  if (family != AF_INET && v6first) types[ntypes++] = 28;
  if (family != AF_INET6) types[ntypes++] = 1;
  if (family != AF_INET && !v6first) types[ntypes++] = 28;
  if (!start(L, &o, Q_RESOLVE, name, types, ntypes)) return 2;
  return wait_k(L, 0, 0);
}

/* The first name of address s in the hosts file (CARES_HOSTS or
   /etc/hosts, as c-ares reads it), pushed; 0 if none. */
static int hosts_reverse(lua_State *L, const char *s) {
  unsigned char want[16], have[16];
  int fam = inet_pton(AF_INET, s, want) == 1 ? AF_INET : AF_INET6;
  if (fam == AF_INET6 && inet_pton(AF_INET6, s, want) != 1) return 0;
  const char *path = getenv("CARES_HOSTS");
  char line[1024];
  FILE *f = fopen(path && *path ? path : "/etc/hosts", "re");
  int found = 0;
  if (!f) return 0;
  while (!found && fgets(line, sizeof line, f)) {
    char *save = NULL, *addr, *name;
    line[strcspn(line, "#\n")] = '\0';
    addr = strtok_r(line, " \t", &save);
    name = addr ? strtok_r(NULL, " \t", &save) : NULL;
    if (name && inet_pton(fam, addr, have) == 1 &&
        memcmp(want, have, fam == AF_INET ? 4 : 16) == 0) {
      lua_pushstring(L, name);
      found = 1;
    }
  }
  fclose(f);
  return found;
}

/* net.reverse(addr [, opts]) -> name | nil, message */
static int l_reverse(lua_State *L) {
  const char *s = luaL_checkstring(L, 1);
  char arpa[80];
  int ptr = 12;
  chanopts o;
  if (!arpa_name(s, arpa, sizeof arpa))
    return luaL_argerror(L, 1, lua_pushfstring(L, "IP address expected, got '%s'", s));
  lua_settop(L, 2);
  lua_pushnil(L);
  lua_insert(L, 2);  /* opts at 3 */
  check_opts(L, 3, &o, 0, NULL);
  if (!o.servers && hosts_reverse(L, s)) return 1;  /* the hosts file first, as the system does */
  if (!start(L, &o, Q_REVERSE, arpa, &ptr, 1)) return 2;
  return wait_k(L, 0, 0);
}

/* ---- net.dns ---------------------------------------------------------- */

/* net.dns.servers([list]) -> the default servers (after setting them). */
static int l_servers(lua_State *L) {
  int err;
  chan *c = chan_get(L, NULL, &err);
  if (!c) return net_fail(L, "dns: cannot start the resolver: %s", dns_strerror(err));
  if (!lua_isnoneornil(L, 1)) {
    char key[512] = "";
    struct ares_addr_port_node *nodes = check_servers(L, 1, key, sizeof key);
    err = ares_set_servers_ports(c->ch, nodes);
    if (err != ARES_SUCCESS)  /* c-ares 1.18 refuses while queries are pending */
      return net_fail(L, "dns: cannot set servers: %s",
                      err == ARES_ENOTIMP ? "queries in flight" : dns_strerror(err));
    for (chan *o = c->st->chans; o; o = o->next_chan)  /* copies of the old list */
      if (o->inherit) o->stale = 1;
    chan_trim(c->st);
  }
  push_servers_list(L, c);
  return 1;
}

/* net.dns.config() -> {servers, search, ndots, timeout, tries, rotate}. */
static int l_config(lua_State *L) {
  int err, mask = 0;
  struct ares_options opt;
  chan *c = chan_get(L, NULL, &err);
  if (!c) return net_fail(L, "dns: cannot start the resolver: %s", dns_strerror(err));
  memset(&opt, 0, sizeof opt);
  if ((err = ares_save_options(c->ch, &opt, &mask)) != ARES_SUCCESS)
    return net_fail(L, "dns: %s", dns_strerror(err));
  lua_newtable(L);
  push_servers_list(L, c);
  lua_setfield(L, -2, "servers");
  lua_createtable(L, opt.ndomains, 0);
  for (int i = 0; i < opt.ndomains; i++) {
    lua_pushstring(L, opt.domains[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "search");
  set_int(L, "ndots", opt.ndots);
  lua_pushnumber(L, (mask & ARES_OPT_TIMEOUTMS) ? opt.timeout / 1000.0 : opt.timeout);
  lua_setfield(L, -2, "timeout");
  set_int(L, "tries", opt.tries);
  lua_pushstring(L, opt.lookups ? opt.lookups : "fb");
  lua_setfield(L, -2, "lookups");
  ares_destroy_options(&opt);
  return 1;
}

/* Quote a TXT/CAA string the way zone files do. */
static void add_quoted(luaL_Buffer *b, const char *s, size_t n) {
  luaL_addchar(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') { luaL_addchar(b, '\\'); luaL_addchar(b, (char)c); }
    else if (c < 0x20 || c >= 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\%03u", c);
      luaL_addstring(b, esc);
    } else luaL_addchar(b, (char)c);
  }
  luaL_addchar(b, '"');
}

/* Add field k of table t as a name with its final dot. */
static void add_fqdn(lua_State *L, luaL_Buffer *b, int t, const char *k) {
  size_t n;
  const char *s;
  lua_getfield(L, t, k);
  s = lua_tolstring(L, -1, &n);
  lua_pop(L, 1);  /* still referenced by the table */
  for (size_t i = 0; s && i < n; i++) {  /* a space as zone files write it */
    if (s[i] == ' ') luaL_addstring(b, "\\032"); else luaL_addchar(b, s[i]);
  }
  if (!s || n == 0 || s[n - 1] != '.') luaL_addchar(b, '.');
}

/* Add integer fields of table t, separated by spaces. */
static void add_ints(lua_State *L, luaL_Buffer *b, int t, const char *const *ks) {
  for (int i = 0; ks[i]; i++) {
    char num[32];
    lua_getfield(L, t, ks[i]);
    snprintf(num, sizeof num, "%s%lld", i ? " " : "", (long long)lua_tointeger(L, -1));
    lua_pop(L, 1);
    luaL_addstring(b, num);
  }
}

/* net.dns.rdata(record) -> its data as a zone file writes it. */
static int l_rdata(lua_State *L) {
  static const char *const soa[] = {"serial", "refresh", "retry", "expire", "minimum", NULL};
  static const char *const srv[] = {"priority", "weight", "port", NULL};
  static const char *const mx[] = {"preference", NULL};
  static const char *const caa[] = {"flags", NULL};
  const char *type;
  luaL_Buffer b;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_getfield(L, 1, "type");     /* 2 */
  lua_getfield(L, 1, "strings");  /* 3 (TXT) */
  type = lua_tostring(L, 2);
  if (!type) return luaL_argerror(L, 1, "DNS record expected (no type field)");
  luaL_buffinit(L, &b);
  if (!strcmp(type, "A") || !strcmp(type, "AAAA")) {
    lua_getfield(L, 1, "address");
    luaL_addvalue(&b);
  } else if (!strcmp(type, "NS") || !strcmp(type, "PTR")) {
    add_fqdn(L, &b, 1, "host");
  } else if (!strcmp(type, "CNAME")) {
    add_fqdn(L, &b, 1, "target");
  } else if (!strcmp(type, "MX")) {
    add_ints(L, &b, 1, mx); luaL_addchar(&b, ' '); add_fqdn(L, &b, 1, "exchange");
  } else if (!strcmp(type, "SRV")) {
    add_ints(L, &b, 1, srv); luaL_addchar(&b, ' '); add_fqdn(L, &b, 1, "target");
  } else if (!strcmp(type, "SOA")) {
    add_fqdn(L, &b, 1, "mname"); luaL_addchar(&b, ' ');
    add_fqdn(L, &b, 1, "rname"); luaL_addchar(&b, ' ');
    add_ints(L, &b, 1, soa);
  } else if (!strcmp(type, "TXT")) {
    for (lua_Integer i = 1; lua_istable(L, 3); i++) {
      size_t n;
      const char *s;
      if (lua_rawgeti(L, 3, i) != LUA_TSTRING) { lua_pop(L, 1); break; }
      s = lua_tolstring(L, -1, &n);
      lua_pop(L, 1);  /* still held by the list */
      if (i > 1) luaL_addchar(&b, ' ');
      add_quoted(&b, s, n);
    }
  } else if (!strcmp(type, "CAA")) {
    size_t n;
    const char *s;
    add_ints(L, &b, 1, caa);
    luaL_addchar(&b, ' ');
    lua_getfield(L, 1, "tag");
    luaL_addvalue(&b);
    luaL_addchar(&b, ' ');
    lua_getfield(L, 1, "value");
    s = lua_tolstring(L, -1, &n);
    lua_pop(L, 1);
    if (s) add_quoted(&b, s, n);
  } else {
    lua_getfield(L, 1, "data");
    if (lua_isstring(L, -1)) luaL_addvalue(&b); else lua_pop(L, 1);
  }
  luaL_pushresult(&b);
  return 1;
}

/* __tostring of a record: "name. ttl IN TYPE data" (dig.lua aligns them
   in columns itself). */
static int record_tostring(lua_State *L) {
  lua_settop(L, 1);
  lua_pushcfunction(L, l_rdata);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "ttl");
  lua_getfield(L, 1, "type");
  lua_pushfstring(L, "%s. %d IN %s %s", luaL_optstring(L, 3, ""),
                  (int)lua_tointeger(L, 4), luaL_optstring(L, 5, "?"), lua_tostring(L, 2));
  return 1;
}

/* __tostring of a lookup's info: "answer for NAME from SERVER (...)". */
static int info_tostring(lua_State *L) {
  luaL_Buffer b;
  lua_Integer n;
  lua_settop(L, 1);
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "server");
  lua_getfield(L, 1, "authoritative");
  lua_getfield(L, 1, "answers");  /* 5 */
  n = lua_istable(L, 5) ? (lua_Integer)lua_rawlen(L, 5) : 0;
  lua_newtable(L);  /* 6: types already named */
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "answer for %s from %s (%s, %d record%s", luaL_optstring(L, 2, "?"),
                  luaL_optstring(L, 3, "?"), lua_toboolean(L, 4) ? "authoritative" : "not authoritative",
                  (int)n, n == 1 ? "" : "s");
  luaL_addvalue(&b);
  for (lua_Integer i = 1, k = 0; i <= n; i++) {
    lua_rawgeti(L, 5, i);
    lua_getfield(L, -1, "type");
    lua_remove(L, -2);
    if (lua_type(L, -1) != LUA_TSTRING) { lua_pop(L, 1); continue; }
    lua_pushvalue(L, -1);
    if (lua_rawget(L, 6) != LUA_TNIL) { lua_pop(L, 2); continue; }
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, 6);
    luaL_addstring(&b, k++ == 0 ? ": " : ", ");
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, ')');
  luaL_pushresult(&b);
  return 1;
}

void dns_open(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"resolve", l_resolve}, {"lookup", l_lookup}, {"reverse", l_reverse}, {NULL, NULL}};
  static const luaL_Reg dnsfns[] = {
    {"servers", l_servers}, {"config", l_config}, {"rdata", l_rdata}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
  lua_newtable(L);
  luaL_setfuncs(L, dnsfns, 0);
  lua_pushliteral(L, ARES_VERSION_STR);
  lua_setfield(L, -2, "cares_version");
  lua_setfield(L, -2, "dns");
  if (luaL_newmetatable(L, RECORD_MT)) {
    lua_pushcfunction(L, record_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "dns record");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, INFO_MT)) {
    lua_pushcfunction(L, info_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "dns answer");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
}
