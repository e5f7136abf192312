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
 *         a deadline for the whole call), tries, tcp, family (resolve only).
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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <lauxlib.h>
#include <lua.h>

#include "loop.h"
#include "net.h"

#define STATE_MT  "netlua.dns"
#define QUERY_MT  "netlua.dnsquery"
#define RECORD_MT "netlua.dnsrecord"
#define INFO_MT   "netlua.dnsinfo"
#define MAXCHANS  16        /* cached option channels */

/* Stack layout of a waiting call (after lua_settop(L, 3)). */
#define S_BOX      4
#define S_DEADLINE 5
#define S_SERVER   6

typedef struct dnsstate dnsstate;

/* One c-ares channel and what the messages say about it. */
typedef struct chan {
  ares_channel ch;
  dnsstate *st;
  char *key;             /* option set; NULL for the default channel */
  int pending;           /* queries started and not yet called back */
  int waiting;           /* queries a caller still holds (done or not) */
  double next;           /* when the poller must process timeouts (< 0 none) */
  struct chan *next_chan;
} chan;

struct dnsstate {
  lua_State *L;          /* main thread, for loop_watch */
  chan *def;             /* the default channel, once made */
  chan *chans;           /* every channel, default included */
  int nchans;
  int closing;           /* being collected: callbacks must not touch the loop */
  unsigned rng;
};

enum { Q_LOOKUP, Q_RESOLVE, Q_REVERSE };

/* One query in flight, shared by its waiter (through a box) and c-ares. */
typedef struct query {
  chan *c;
  lua_State *L;          /* the waiting thread */
  int kind, rtype;
  int done, abandoned, status;
  unsigned char *abuf;   /* Q_LOOKUP: copy of the answer */
  int alen;
  struct ares_addrinfo *ai;  /* Q_RESOLVE */
  char *host;            /* Q_REVERSE */
} query;

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

/* ---- channels -------------------------------------------------------- */

static void on_fd(void *ud, int fd, int revents);

/* c-ares says which sockets it wants watched: tell the loop. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable) {
  chan *c = data;
  if (c->st->closing) return;
  loop_watch(c->st->L, fd, (readable ? LOOP_READ : 0) | (writable ? LOOP_WRITE : 0),
             on_fd, c);
}

/* A c-ares socket is ready. */
static void on_fd(void *ud, int fd, int revents) {
  chan *c = ud;
  ares_process_fd(c->ch, (revents & LOOP_READ) ? fd : ARES_SOCKET_BAD,
                  (revents & LOOP_WRITE) ? fd : ARES_SOCKET_BAD);
}

/* Poller: the earliest time a channel needs its timeouts processed. */
static double poll_next(void *ud) {
  dnsstate *st = ud;
  double best = -1, now = -1;
  if (st->closing) return -1;
  for (chan *c = st->chans; c; c = c->next_chan) {
    struct timeval tv;
    c->next = -1;
    if (c->pending == 0) continue;
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
    if (c->pending > 0 && c->next >= 0 && now >= c->next) {
      c->next = -1;
      ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
}

/* Destroy one channel (its pending callbacks run with ARES_EDESTRUCTION). */
static void chan_free(chan *c) {
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
  loop_get(L);  /* the loop exists before the state, so it outlives it */
  loop_add_poller(L, poll_next, poll_run, st);
  lua_rawsetp(L, LUA_REGISTRYINDEX, STATE_MT);
  return st;
}

/* Channel options wanted by a call. */
typedef struct chanopts {
  struct ares_addr_port_node *servers;  /* NULL: resolv.conf's */
  int tcp, tries;        /* tries 0: default */
  double timeout;        /* < 0: none */
  char key[512];
} chanopts;

/* Make a channel; returns NULL and sets *err on failure. */
static chan *chan_new(dnsstate *st, const chanopts *o, const char *key, int *err) {
  struct ares_options opt;
  int mask = ARES_OPT_SOCK_STATE_CB;
  chan *c = calloc(1, sizeof *c);
  if (!c) { *err = ARES_ENOMEM; return NULL; }
  memset(&opt, 0, sizeof opt);
  c->st = st;
  c->next = -1;
  opt.sock_state_cb = sock_state;
  opt.sock_state_cb_data = c;
  if (o && o->tcp) { opt.flags = ARES_FLAG_USEVC; mask |= ARES_OPT_FLAGS; }
  if (o && o->tries > 0) { opt.tries = o->tries; mask |= ARES_OPT_TRIES; }
  if (o && o->timeout > 0) {
    double per = o->timeout * 1000.0 / (o->tries > 0 ? o->tries : 1);
    opt.timeout = per < 1 ? 1 : (int)per;
    mask |= ARES_OPT_TIMEOUTMS;
  }
  if (o && o->servers) {
    /* a server asked by name: DNS only, and its answer as it is (REFUSED,
       SERVFAIL), not failover to another server as a stub resolver does */
    opt.lookups = (char *)"b";
    opt.flags |= ARES_FLAG_NOCHECKRESP;
    mask |= ARES_OPT_LOOKUPS | ARES_OPT_FLAGS;
  }
  *err = ares_init_options(&c->ch, &opt, mask);
  if (*err == ARES_SUCCESS && o && o->servers)
    *err = ares_set_servers_ports(c->ch, o->servers);
  if (*err != ARES_SUCCESS) {
    if (c->ch) ares_destroy(c->ch);
    free(c);
    return NULL;
  }
  c->key = key ? strdup(key) : NULL;
  c->next_chan = st->chans;
  st->chans = c;
  st->nchans++;
  return c;
}

/* Drop idle option channels beyond the cache size. */
static void chan_trim(dnsstate *st) {
  chan **pp = &st->chans;
  while (*pp && st->nchans > MAXCHANS) {
    chan *c = *pp;
    if (c != st->def && c->pending == 0 && c->waiting == 0) {
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
  if (!o || o->key[0] == 0) {
    if (!st->def) st->def = chan_new(st, NULL, NULL, err);
    return st->def;
  }
  for (chan *c = st->chans; c; c = c->next_chan)
    if (c->key && strcmp(c->key, o->key) == 0) return c;
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
  char host[INET6_ADDRSTRLEN];
  char tmp[INET6_ADDRSTRLEN + 16];
  if (!inet_ntop(family, addr, host, sizeof host)) strcpy(host, "?");
  if (port == 0 || port == 53) snprintf(tmp, sizeof tmp, "%s", host);
  else if (family == AF_INET6) snprintf(tmp, sizeof tmp, "[%s]:%d", host, port);
  else snprintf(tmp, sizeof tmp, "%s:%d", host, port);
  luaL_addstring(b, tmp);
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
  memset(o, 0, sizeof *o);
  o->timeout = -1;
  if (family) *family = AF_UNSPEC;
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  if (lua_getfield(L, idx, "server") != LUA_TNIL) {
    strcpy(o->key, "s=");
    o->servers = check_servers(L, lua_absindex(L, -1), o->key, sizeof o->key);
    lua_remove(L, -2);  /* keep the nodes userdata, drop the option value */
  } else {
    lua_pop(L, 1);
  }
  if (lua_getfield(L, idx, "tcp") != LUA_TNIL) o->tcp = lua_toboolean(L, -1);
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
    if (!isnum || isnan(t) || t < 0)
      luaL_error(L, "bad option 'timeout' (seconds >= 0 expected)");
    o->timeout = t;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "family") != LUA_TNIL) {
    const char *f = lua_tostring(L, -1);
    if (!family_ok) luaL_error(L, "bad option 'family' (only net.resolve takes it)");
    if (f && (!strcmp(f, "inet") || !strcmp(f, "ipv4") || !strcmp(f, "4"))) *family = AF_INET;
    else if (f && (!strcmp(f, "inet6") || !strcmp(f, "ipv6") || !strcmp(f, "6"))) *family = AF_INET6;
    else if (!f || strcmp(f, "any") != 0)
      luaL_error(L, "bad option 'family' (\"inet\", \"inet6\" or \"any\" expected, got %s)",
                 f ? f : luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  /* timeout alone is a deadline for the call: the default channel serves it */
  if (o->servers || o->tcp || o->tries) {
    size_t l = strlen(o->key);
    snprintf(o->key + l, sizeof o->key - l, "|t=%d|r=%d|m=%.3f", o->tcp, o->tries,
             o->timeout);
  }
}

/* ---- queries --------------------------------------------------------- */

/* Free a query and what it holds. */
static void query_free(query *q) {
  free(q->abuf);
  if (q->ai) ares_freeaddrinfo(q->ai);
  free(q->host);
  free(q);
}

/* Common end of a c-ares callback: mark done, wake or free. */
static void query_finish(query *q, int status) {
  q->status = status;
  q->done = 1;
  q->c->pending--;
  if (q->abandoned) { query_free(q); return; }
  if (q->c->st->closing) q->c = NULL;  /* the channel is going away */
  else loop_wake(q->L);
}

/* The caller lets go of q (answered, timed out, or collected): free it if
   c-ares is done with it, else leave it to the callback. */
static void query_release(query *q) {
  if (q->c) q->c->waiting--;
  if (q->done) query_free(q); else q->abandoned = 1;
}

/* ares_search callback: keep a copy of the answer. */
static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  query *q = arg;
  (void)timeouts;
  if (status == ARES_SUCCESS && abuf && alen > 0 && !q->abandoned) {
    q->abuf = malloc((size_t)alen);
    if (q->abuf) { memcpy(q->abuf, abuf, (size_t)alen); q->alen = alen; }
    else status = ARES_ENOMEM;
  }
  query_finish(q, status);
}

/* ares_getaddrinfo callback: keep the result. */
static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai) {
  query *q = arg;
  (void)timeouts;
  q->ai = ai;
  query_finish(q, status);
}

/* ares_gethostbyaddr callback: keep the name. */
static void on_host(void *arg, int status, int timeouts, struct hostent *h) {
  query *q = arg;
  (void)timeouts;
  if (status == ARES_SUCCESS && h && h->h_name && !q->abandoned) {
    q->host = strdup(h->h_name);
    if (!q->host) status = ARES_ENOMEM;
  }
  query_finish(q, status);
}

/* __gc of a query box: free a finished query, abandon a running one. */
static int box_gc(lua_State *L) {
  qbox *b = lua_touserdata(L, 1);
  query *q = b->q;
  b->q = NULL;
  if (q) query_release(q);
  return 0;
}

/* Push a box owning a new query for thread L on channel c (the box keeps
   the thread alive as long as a callback may wake it). */
static query *box_new(lua_State *L, chan *c, int kind, int rtype) {
  qbox *b = lua_newuserdatauv(L, sizeof *b, 1);
  b->q = NULL;
  if (luaL_newmetatable(L, QUERY_MT)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_pushthread(L);
  lua_setiuservalue(L, -2, 1);
  b->q = calloc(1, sizeof *b->q);
  if (!b->q) luaL_error(L, "out of memory");
  b->q->c = c;
  b->q->L = L;
  b->q->kind = kind;
  b->q->rtype = rtype;
  c->pending++;
  c->waiting++;
  return b->q;
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
    inet_ntop(t == 1 ? AF_INET : AF_INET6, p, addr, sizeof addr);
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

/* Parse the answer section into two lists pushed on the stack: the records
   of type `want` and every record (info.answers); also the question name.
   Pushes: list, answers, qname. Returns 0, or -1 if malformed (nothing
   pushed). */
static int parse_answer(lua_State *L, const msg *m, int want) {
  int top = lua_gettop(L), off = 12, nq, na, nlist = 0;
  char tbuf[16];
  if (m->len < 12) return -1;
  nq = (int)rd16(m->buf + 4);
  na = (int)rd16(m->buf + 6);
  lua_newtable(L);
  lua_newtable(L);
  lua_pushliteral(L, "");
  for (int i = 0; i < nq; i++) {
    if (i == 0) {
      if (push_name(L, m, m->buf + off, m->buf + m->len) < 0) goto bad;
      lua_replace(L, top + 3);
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
      if (t == want) {
        lua_pushvalue(L, -1);
        lua_rawseti(L, top + 1, ++nlist);
      }
      lua_rawseti(L, top + 2, (lua_Integer)lua_rawlen(L, top + 2) + 1);
    }
    off = noff + 10 + rdlen;
  }
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

/* The results of a finished lookup. */
static int finish_lookup(lua_State *L, query *q) {
  msg m;
  if (q->status == ARES_ENODATA) {  /* the name exists, no record of the type */
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
  if (q->status != ARES_SUCCESS) return push_fail(L, Q_LOOKUP, q->rtype, dns_strerror(q->status));
  m.buf = q->abuf;
  m.len = q->alen;
  if (parse_answer(L, &m, q->rtype) < 0)
    return push_fail(L, Q_LOOKUP, q->rtype, "malformed answer");
  if (q->rtype == 15) sort_by(L, lua_absindex(L, -3), "preference");
  if (q->rtype == 33) sort_srv(L, lua_absindex(L, -3), q->c->st);
  /* info = {server, authoritative, answers, name} */
  lua_createtable(L, 0, 4);
  lua_rotate(L, -3, 1);
  lua_setfield(L, -3, "name");
  lua_setfield(L, -2, "answers");
  lua_pushboolean(L, (q->abuf[2] & 0x04) != 0);
  lua_setfield(L, -2, "authoritative");
  lua_pushvalue(L, S_SERVER);
  lua_setfield(L, -2, "server");
  luaL_setmetatable(L, INFO_MT);
  return 2;
}

/* The results of a finished resolve: the addresses, without repeats. */
static int finish_resolve(lua_State *L, query *q) {
  int n = 0;
  if (q->status != ARES_SUCCESS) return push_fail(L, Q_RESOLVE, 0, dns_strerror(q->status));
  lua_newtable(L);
  lua_newtable(L);  /* seen */
  for (struct ares_addrinfo_node *a = q->ai ? q->ai->nodes : NULL; a; a = a->ai_next) {
    char buf[INET6_ADDRSTRLEN];
    const void *p;
    if (a->ai_family == AF_INET) p = &((struct sockaddr_in *)a->ai_addr)->sin_addr;
    else if (a->ai_family == AF_INET6) p = &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
    else continue;
    if (!inet_ntop(a->ai_family, p, buf, sizeof buf)) continue;
    if (lua_getfield(L, -1, buf) != LUA_TNIL) { lua_pop(L, 1); continue; }
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, buf);
    lua_pushstring(L, buf);
    lua_rawseti(L, -3, ++n);
  }
  lua_pop(L, 1);
  if (n == 0) { lua_pop(L, 1); return push_fail(L, Q_RESOLVE, 0, "no address"); }
  return 1;
}

/* The result of a finished reverse lookup. */
static int finish_reverse(lua_State *L, query *q) {
  if (q->status != ARES_SUCCESS || !q->host)
    return push_fail(L, Q_REVERSE, 0, dns_strerror(q->status == ARES_SUCCESS ? ARES_ENOTFOUND : q->status));
  lua_pushstring(L, q->host);
  return 1;
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
      if (c->waiting == 0 && c->pending > 0) ares_cancel(c->ch);
      return push_fail(L, kind, rtype, "timeout");
    }
    loop_wait(L, -1, 0, deadline, ctx, wait_k);
  }
}

/* Set up the stack of a waiting call (name, arg, opts, then box at S_BOX,
   deadline, server text). Returns the query, or NULL after pushing nil,
   message (the resolver could not start). */
static query *start(lua_State *L, chanopts *o, int kind, int rtype) {
  int err;
  chan *c = chan_get(L, o, &err);  /* o's servers are still on the stack */
  lua_settop(L, 3);
  if (!c) {
    push_fail(L, kind, rtype, lua_pushfstring(L, "cannot start the resolver: %s",
                                              dns_strerror(err)));
    return NULL;
  }
  box_new(L, c, kind, rtype);
  lua_pushnumber(L, loop_deadline(o->timeout));
  push_servers_text(L, c);
  return ((qbox *)lua_touserdata(L, S_BOX))->q;
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

/* net.lookup(name, rtype [, opts]) -> records, info | nil, message */
static int l_lookup(lua_State *L) {
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  int rtype = check_rtype(L, 2);
  const char *why = name_problem(name, len);
  char arpa[80];
  chanopts o;
  query *q;
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
  if (!(q = start(L, &o, Q_LOOKUP, rtype))) return 2;
  ares_search(q->c->ch, name, 1, rtype, on_answer, q);
  return wait_k(L, 0, 0);
}

/* net.resolve(name [, opts]) -> {addr, ...} | nil, message */
static int l_resolve(lua_State *L) {
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  const char *why = name_problem(name, len);
  unsigned char a[16];
  struct ares_addrinfo_hints hints;
  int family;
  chanopts o;
  query *q;
  lua_settop(L, 2);
  lua_pushnil(L);
  lua_insert(L, 2);  /* opts at 3, as for net.lookup */
  check_opts(L, 3, &o, 1, &family);
  if (strlen(name) == len) {  /* numeric addresses are themselves */
    int f = inet_pton(AF_INET, name, a) == 1 ? AF_INET
          : inet_pton(AF_INET6, name, a) == 1 ? AF_INET6 : 0;
    if (f) {
      if (family != AF_UNSPEC && family != f)
        return net_fail(L, "resolve %s: not an %s address", name,
                        family == AF_INET ? "IPv4" : "IPv6");
      lua_createtable(L, 1, 0);
      lua_pushvalue(L, 1);
      lua_rawseti(L, -2, 1);
      return 1;
    }
  }
  if (why) return net_fail(L, "resolve %s: invalid name (%s)", push_shown(L, name, len), why);
  if (!(q = start(L, &o, Q_RESOLVE, 0))) return 2;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  /* RFC 6724 sorting (a socket per address) only matters across families */
  if (family == AF_INET) hints.ai_flags = ARES_AI_NOSORT;
  ares_getaddrinfo(q->c->ch, name, NULL, &hints, on_addrinfo, q);
  return wait_k(L, 0, 0);
}

/* net.reverse(addr [, opts]) -> name | nil, message */
static int l_reverse(lua_State *L) {
  const char *s = luaL_checkstring(L, 1);
  unsigned char a[16];
  int family = AF_INET, alen = 4;
  chanopts o;
  query *q;
  if (inet_pton(AF_INET, s, a) != 1) {
    if (inet_pton(AF_INET6, s, a) != 1)
      return luaL_argerror(L, 1, lua_pushfstring(L, "IP address expected, got '%s'", s));
    family = AF_INET6;
    alen = 16;
  }
  lua_settop(L, 2);
  lua_pushnil(L);
  lua_insert(L, 2);  /* opts at 3 */
  check_opts(L, 3, &o, 0, NULL);
  if (!(q = start(L, &o, Q_REVERSE, 12))) return 2;
  ares_gethostbyaddr(q->c->ch, a, alen, family, on_host, q);
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
  if (s) luaL_addlstring(b, s, n);
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
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "answer for %s from %s (%s, %d record%s", luaL_optstring(L, 2, "?"),
                  luaL_optstring(L, 3, "?"), lua_toboolean(L, 4) ? "authoritative" : "not authoritative",
                  (int)n, n == 1 ? "" : "s");
  luaL_addvalue(&b);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 5, i);
    lua_getfield(L, -1, "type");
    lua_remove(L, -2);
    if (lua_type(L, -1) != LUA_TSTRING) { lua_pop(L, 1); continue; }
    luaL_addstring(&b, i == 1 ? ": " : ", ");
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
