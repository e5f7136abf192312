/*
 * args.h: argument checks and address lookup shared by the services that
 * take a host, a port, a timeout or a family (tcp, udp).
 * Hosts are numeric IPv4/IPv6 literals (IPv6 possibly in brackets),
 * "localhost", or names handed to net.resolve (dns.c) through lua_callk so
 * that a task yields while the name resolves.
 */
#ifndef NETLUA_ARGS_H
#define NETLUA_ARGS_H

#include <stddef.h>

#include <lua.h>

#include "sock.h"

#define ARGS_MAXADDRS 16  /* addresses of one name tried at most */

/* A port argument: an integer 0-65535 or a numeric string; else a Lua
   error naming it. */
int args_checkport(lua_State *L, int arg);

/* The same for a port to connect or send to: 1-65535 (0 is refused). */
int args_checkdestport(lua_State *L, int arg);

/* Optional i and j at arg and arg + 1 over a string of len bytes, taken
   as string.sub takes them, into 1 <= *i and *i - 1 <= *j <= len. */
void args_optrange(lua_State *L, int arg, size_t len, lua_Integer *i, lua_Integer *j);

/* Receive patterns, as args_checkpattern gives them. */
enum { ARGS_PAT_LINE, ARGS_PAT_LINE_EOL, ARGS_PAT_ALL, ARGS_PAT_COUNT };

/* The receive pattern at arg (conn:receive): absent, nil, "l" or "*l" a
   line, "L" a line with its EOL, "a" all until the end, or a byte count
   (an integer >= 0, into *count); else an argument error. */
int args_checkpattern(lua_State *L, int arg, size_t *count);

/* A host argument: a string without NUL bytes; else a Lua error. */
const char *args_checkhost(lua_State *L, int arg);

/* opts.family of the table at `opts` (absent: 0): "inet"/"ipv4"/4 give
   AF_INET, "inet6"/"ipv6"/6 give AF_INET6; else a Lua error. */
int args_optfamily(lua_State *L, int opts);

/* opts.NAME as a number (absent: dflt); another type or NaN raises an
   argument error at `opts` naming the option. */
double args_optnumber(lua_State *L, int opts, const char *name, double dflt);

/* opts.linelimit of the table at opts: an integer >= 1 (absent: 0, the
   default); else an argument error at opts. */
size_t args_optlinelimit(lua_State *L, int opts);

/* Timeouts, one rule everywhere: nil (or math.huge) means none (-1); a
   number >= 0 is seconds; a negative number, NaN or another type is an
   argument error. args_opttimeout reads opts.timeout of the table at opts;
   args_checktimeout reads argument arg (nil or absent: dflt). */
double args_opttimeout(lua_State *L, int opts);
double args_checktimeout(lua_State *L, int arg, double dflt);

/* Addresses of a numeric host or "localhost" into out (at most max), in
   the order to try them. Returns their number, -1 for a name (to resolve)
   or -2 for a host that can only be meant as a numeric address but is not
   a valid one ("300.1.1.1", "127", "fe80::1%nosuchif"): those never go to
   DNS. */
int args_literal(const char *host, int port, int family, sock_addr *out, int max);

/* For a name: push net.resolve and its two arguments (name, {family,
   timeout}) and return 1, ready for lua_callk(L, 2, 2, ...); return 0 (and
   push nothing) when net.resolve is not there. opts is the caller's option
   table index (0: none); timeout < 0: none. */
int args_push_resolve(lua_State *L, const char *host, int opts, double timeout);

/* The resolver's two results at the top of the stack (a list of address
   strings, or nil and a message): fills out (IPv6 and IPv4 interleaved,
   the first family first, at most max) and returns the count after
   popping both; or returns -1 leaving the message on top (over nothing
   else of the two). */
int args_take_resolved(lua_State *L, int port, int family, sock_addr *out, int max);

/* Push "host:port" as given (IPv6 literals in brackets): the label of a
   connection or server in messages. */
const char *args_pushhostport(lua_State *L, const char *host, int port);

/* Push the host (numeric) and port of an address; returns 2. */
int args_pushaddr(lua_State *L, const sock_addr *a);

/* Store the `net` table (at the top) for net.resolve look-ups. */
void args_setnet(lua_State *L);

#endif
