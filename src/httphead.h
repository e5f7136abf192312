/*
 * httphead.h: an HTTP request head read from a connection and split in C
 * (httphead.c), for the HTTP server written in Lua (lua/net/httpserve.lua).
 * Not a part of net: package.loaded["net.httphead"].
 */
#ifndef NETLUA_HTTPHEAD_H
#define NETLUA_HTTPHEAD_H

#include <lua.h>

/* Register package.loaded["net.httphead"] = {read = ..., parse = ...}
   (the connection type must be open already). */
void httphead_open(lua_State *L);

/* True when s[0, n) is a token (RFC 9110: a method, a field name); once
   httphead_open has run. */
int http_token(const char *s, size_t n);

#endif
