/*
 * forward.h: conn:forward(other [, timeout]) and conn:reset(), the relay's
 * primitives (forward.c): a stream moved from one connection to another
 * through the loop, by splice(2) when nothing needs to see the bytes.
 */
#ifndef NETLUA_FORWARD_H
#define NETLUA_FORWARD_H

#include <lua.h>

/* Add forward and reset to the connection's methods (the connection type
   must be open already: server_open calls this). */
void forward_open(lua_State *L);

#endif
