/*
 * dns_chan.c: the DNS state of a Lua state and its c-ares channels.
 *
 * The state (a userdata in the registry, made on first use) holds the
 * default channel (resolv.conf, with its "options timeout:N attempts:N"
 * read here as glibc does) and one channel per set of non-default options,
 * cached (DNS_MAXCHANS). Each channel tells the loop which of its sockets
 * to watch (its socket-state callback, loop_watch); one loop poller bounds
 * the loop's wait by ares_timeout and processes expired timeouts. After
 * c-ares processed a socket or a timeout, the channel's queue is drained.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <lauxlib.h>
#include <lua.h>

#include "dns.h"
#include "loop.h"

#define STATE_MT "netlua.dns"

static void on_fd(void *ud, int fd, int revents);

/* c-ares says which sockets it wants watched: tell the loop. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable) {
  dnschan *c = data;
  if (c->st->closing) return;
  loop_watch(c->st->L, fd, (readable ? LOOP_READ : 0) | (writable ? LOOP_WRITE : 0),
             on_fd, c);
}

/* A c-ares socket is ready; answers may have made room for queued queries. */
static void on_fd(void *ud, int fd, int revents) {
  dnschan *c = ud;
  ares_process_fd(c->ch, (revents & LOOP_READ) ? fd : ARES_SOCKET_BAD,
                  (revents & LOOP_WRITE) ? fd : ARES_SOCKET_BAD);
  dns_queue_drain(c);
}

/* Poller: the earliest time a channel needs its timeouts processed. */
static double poll_next(void *ud) {
  dnsstate *st = ud;
  double best = -1, now = -1;
  if (st->closing) return -1;
  for (dnschan *c = st->chans; c; c = c->next_chan) {
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
  for (dnschan *c = st->chans; c; c = c->next_chan)
    if (c->flight > 0 && c->next >= 0 && now >= c->next) {
      c->next = -1;
      ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      dns_queue_drain(c);
    }
}

/* Destroy one channel (its pending callbacks run with ARES_EDESTRUCTION;
   queued queries end the same way, for their boxes to free). */
static void chan_free(dnschan *c) {
  dns_queue_end(c);
  ares_destroy(c->ch);
  free(c->key);
  free(c);
}

/* __gc of the state: stop talking to the loop, destroy every channel. */
static int state_gc(lua_State *L) {
  dnsstate *st = luaL_checkudata(L, 1, STATE_MT);
  st->closing = 1;
  while (st->chans) {
    dnschan *c = st->chans;
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
dnsstate *dns_state_get(lua_State *L) {
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
  *tries = t >= 1 && t <= 5 ? t : DNS_DEF_TRIES;
  if (secs >= 1 && secs <= 30) {
    *ms = secs * 1000;
    return (double)secs * n * *tries;  /* the last tries are cut short */
  }
  *ms = per_try_ms(DNS_DEF_TIMEOUT, *tries, n);
  return DNS_DEF_TIMEOUT;
}

/* Make a channel (o NULL: the default one); returns NULL and sets *err. */
static dnschan *chan_new(dnsstate *st, const dnsopts *o, const char *key, int *err) {
  struct ares_options opt;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS |
             ARES_OPT_TRIES | ARES_OPT_SOCK_RCVBUF;
  dnschan *c = calloc(1, sizeof *c);
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
    c->deadline = o->timeout >= 0 ? o->timeout : DNS_DEF_TIMEOUT;
    opt.tries = o->tries > 0 ? o->tries : DNS_DEF_TRIES;
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
  ares_set_socket_functions(c->ch, &dns_sockfns, c);
  c->key = key ? strdup(key) : NULL;
  c->next_chan = st->chans;
  st->chans = c;
  st->nchans++;
  return c;
}

/* True when channel c has nothing in flight, queued or held. */
static int chan_idle(const dnschan *c) {
  return c->flight == 0 && c->waiting == 0 && c->qhead == NULL && c->retry == NULL;
}

/* Drop idle option channels beyond the cache size, and stale idle ones. */
void dns_chan_trim(dnsstate *st) {
  dnschan **pp = &st->chans;
  while (*pp) {
    dnschan *c = *pp;
    if (c != st->def && chan_idle(c) && (c->stale || st->nchans > DNS_MAXCHANS)) {
      *pp = c->next_chan;
      st->nchans--;
      chan_free(c);
    } else {
      pp = &c->next_chan;
    }
  }
}

/* The channel for options `o` (NULL: the default one), or NULL + *err. */
dnschan *dns_chan_get(lua_State *L, const dnsopts *o, int *err) {
  dnsstate *st = dns_state_get(L);
  *err = ARES_SUCCESS;
  if (!st->def && !(st->def = chan_new(st, NULL, NULL, err))) return NULL;
  if (!o || o->key[0] == 0) return st->def;
  for (dnschan *c = st->chans; c; c = c->next_chan)
    if (c->key && !c->stale && strcmp(c->key, o->key) == 0) return c;
  dns_chan_trim(st);
  return chan_new(st, o, o->key, err);
}

