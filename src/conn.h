/*
 * conn.h: the connection, a Lua type (metatable "netlua.conn"): send,
 * receive with LuaSocket-like patterns ("l", "L", "a", a byte count; "*l",
 * "*a"), lines, timeouts, line limit, shutdown, close, addresses, and the
 * transcript (settrace, and the handler of net.trace taken at birth;
 * expect, reply and trace are written in Lua, lua/net/connmethods.lua). It reads and writes only through its transport
 * (transport.h), so it does not know whether the bytes are plain or TLS.
 *
 * The parts that produce connections (connect.c, server.c) make one closed
 * with conn_new, acquire a socket, and hand it over with conn_attach; until
 * then the object says "closed", so a failure half-way leaves it
 * consistent.
 */
#ifndef NETLUA_CONN_H
#define NETLUA_CONN_H

#include <stddef.h>

#include <lua.h>

#include "sock.h"
#include "transport.h"

typedef struct conn conn;

/* Push a new closed connection: line limit `linemax` (0: the default),
   `timeout` seconds per call (< 0: none). */
conn *conn_new(lua_State *L, size_t linemax, double timeout);

/* Give the connection its transport (copied; the connection now owns its
   fd), the peer's address and its local one (NULL: read from the fd; a
   listener bound to one address knows it for every client it accepts). */
void conn_attach(conn *c, const transport *io, const sock_addr *peer, const sock_addr *local);

/* Pop the string at the top: the connection at idx is named so in messages
   ("host:port" as given), instead of by its peer address. */
void conn_setlabel(lua_State *L, int idx);


/* Tell the trace handler of the connection at idx, if any, of event `what`
   with data (NULL: none; for "connected", NULL means "LOCAL -> PEER" of
   the connection). "connected" announces the connection; otherwise an
   accepted one traced by net.trace says "accepted" before its first
   event, whichever file reports it. */
void conn_trace(lua_State *L, int idx, const char *what, const char *data, size_t len);

/* Pop the function (or nil: none) at the top: the trace handler of the
   connection at idx (net.connect's opts.trace). */
void conn_sethandler(lua_State *L, int idx);

/* ---- accessors for forward.c (conn:forward, conn:reset) --------------- */

#include "buffer.h"

/* The connection at arg, checked (raises if it is not one). */
conn *conn_check(lua_State *L, int arg);

/* Its transport (io.fd -1 when closed) and its receive buffer. */
transport *conn_transport(conn *c);
buffer *conn_buffer(conn *c);

/* True when it has a trace handler. */
int conn_traced(const conn *c);


/* ---- for TLS (tlsconn.c): a connection's transport is swapped in place
   by conn:starttls and after connect/accept with opts.tls ---- */

/* Seconds per call of the connection at idx (< 0: none). */
double conn_timeout(lua_State *L, int idx);

/* Its peer's address (kept after it is closed). */
const sock_addr *conn_peer(const conn *c);

/* Push the label of the connection at idx ("host:port" as given, or its
   peer address) and return it; *peer: its peer address. */
const char *conn_pushlabel(lua_State *L, int idx, const sock_addr **peer);

#endif
