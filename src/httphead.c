/*
 * httphead.c: the head of an HTTP request, read from a connection and
 * split into its parts in C: the HTTP server's hot path (net.http.serve,
 * lua/net/httpserve.lua), where doing it line by line in Lua cost more
 * than everything else a request does. What the parts mean (methods,
 * versions, framing, Host, keep-alive, the replies) stays in Lua.
 *
 * Internal, not a part of net: package.loaded["net.httphead"] holds
 *
 *   request(conn, max, idle, timeout) -> method, target, major, minor,
 *       fields, lengths, encodings, hosts, connection, expect, target_ctl,
 *       deadline (parse's results, then the deadline)
 *       or nil, status, why (parse refused the head)
 *       or nil, "idle" | "closed" | "empty" | "line" | "large" | "timeout" | message
 *     Reads up to and including the empty line that ends a request head
 *     (lines end in LF or CR LF) and splits it as parse does, where it lies
 *     in the connection's buffer. Empty lines before the request line are
 *     skipped (a fourth one: "empty"). Waits `idle` seconds for the request
 *     line to be complete, then `timeout` seconds from then for the rest
 *     ("idle": the request line did not come in time; "timeout": the rest
 *     did not). deadline: the end of the `timeout` seconds (net.now()'s
 *     clock), for reading the body. conn not a connection: nil, "not a
 *     connection". "closed": the
 *     peer closed (or the connection is closed); "line": the request line
 *     alone is longer than max bytes; "large": the head is. Other errors:
 *     "receive HOST:PORT: reason". Only the head is taken from the
 *     connection: what follows it (a body, the next request) stays for the
 *     next receive. The transcript sees the head as received data.
 *
 *   parse(head [, "fields"]) -> method, target, major, minor, fields, lengths,
 *       encodings, hosts, connection, expect, target_ctl; or nil, status, why.
 *       With "fields": the text is header fields alone (a chunked body's
 *       trailers) -> fields.
 *     The request line "METHOD SP TARGET SP HTTP/d.d" (the method a token,
 *     target and method free of white space; target_ctl: the target holds
 *     a control byte) and the header fields, each "name: value" with the
 *     name a token and the value, without the spaces and tabs around it,
 *     free of control bytes but tab. fields: {name, value, name, value, ...}
 *     in order (net.http.headers takes it); then the fields the server
 *     reads itself: lengths and encodings, the lists of the Content-Length
 *     and Transfer-Encoding values; hosts, how many Host fields; connection
 *     and expect, the values joined with ", ", in lower case; nil when
 *     absent. Refused:
 *     400 "malformed request line", 400 "obsolete line folding", 400
 *     "malformed header field", 400 "control characters in a header value",
 *     431 "too many header fields" (over MAXFIELDS).
 *
 *   peer(conn) -> "HOST:PORT" of the connection's peer ("[::1]:PORT"),
 *     even after it is closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <lua.h>

#include "buffer.h"
#include "conn.h"
#include "errwords.h"
#include "httphead.h"
#include "loop.h"

#define MAXFIELDS 1000   /* header fields in one head */
#define MAXEMPTY 3       /* empty lines tolerated before the request line */

/* ---- reading --------------------------------------------------------- */

/* Where the head in buf[0, n) ends: the length through its empty line, or
   0 when it is not complete. Scanning resumes at *from (a line start),
   which is left at the start of the last incomplete line; the line at 0 is
   the request line, and *first is set to its length with the LF when this
   scan finds its end. */
static size_t head_end(const char *buf, size_t n, size_t *from, size_t *first) {
  size_t at = *from;
  for (;;) {
    const char *lf = at < n ? memchr(buf + at, '\n', n - at) : NULL;
    size_t len;
    if (lf == NULL) {
      *from = at;
      return 0;
    }
    len = (size_t)(lf - (buf + at));        /* the line without its LF */
    if (at == 0) *first = len + 1;
    else if (len == 0 || (len == 1 && buf[at] == '\r')) return (size_t)(lf - buf) + 1;
    at = (size_t)(lf - buf) + 1;
  }
}

/* Drop the empty lines at the start of b; returns how many. (A CR whose
   LF has not come yet stays: the next call takes the line when it has.) */
static int skip_empty(buffer *b) {
  int n = 0;
  for (;;) {
    const char *p = buffer_data(b);
    size_t len = buffer_len(b);
    if (len >= 1 && p[0] == '\n') buffer_consume(b, 1);
    else if (len >= 2 && p[0] == '\r' && p[1] == '\n') buffer_consume(b, 2);
    else return n;
    n++;
  }
}

static int parse(lua_State *L, const char *s, size_t len, int only_fields);

/* request continuation. Stack: 1 conn, 2 max, 3 idle deadline, 4
   timeout, 5 head deadline (nil until the request line is complete), 6
   empty lines skipped. ctx: where the scan resumes. */
static int read_k(lua_State *L, int status, lua_KContext ctx) {
  conn *c = lua_touserdata(L, 1);
  transport *io = conn_transport(c);
  buffer *b = conn_buffer(c);
  size_t max = (size_t)lua_tointeger(L, 2), from = (size_t)ctx;
  (void)status;
  for (;;) {
    size_t first = 0, end, room;
    int skipped;
    ssize_t n;
    char *p;
    if (io->fd < 0) goto closed;
    if (from == 0 && lua_isnil(L, 5)) {   /* before the request line */
      skipped = skip_empty(b);
      if (skipped > 0) {
        lua_pushinteger(L, lua_tointeger(L, 6) + skipped);
        lua_replace(L, 6);
        if (lua_tointeger(L, 6) > MAXEMPTY) {
          lua_pushnil(L);
          lua_pushliteral(L, "empty");
          return 2;
        }
      }
    }
    end = head_end(buffer_data(b), buffer_len(b), &from, &first);
    if (first > 0 && lua_isnil(L, 5)) {     /* the request line is in: the rest has `timeout` */
      lua_pushnumber(L, loop_deadline(lua_tonumber(L, 4)));
      lua_replace(L, 5);
    }
    if (end > 0 && end <= max) {
      int r;
      if (conn_traced(c)) conn_trace(L, 1, "receive", buffer_data(b), end);
      r = parse(L, buffer_data(b), end, 0);   /* split where it lies */
      buffer_consume(b, end);
      if (r == 3) return 3;             /* refused: nil, status, why */
      lua_pushvalue(L, 5);
      return r + 1;
    }
    if (first > max || (lua_isnil(L, 5) && buffer_len(b) > max)) {
      lua_pushnil(L);
      lua_pushliteral(L, "line");
      return 2;
    }
    if (end > max || buffer_len(b) > max) {
      lua_pushnil(L);
      lua_pushliteral(L, "large");
      return 2;
    }
    p = buffer_reserve(b, buffer_len(b) + 1, &room);
    if (p == NULL) return luaL_error(L, "not enough memory");
    n = io->ops->read(io, p, room);
    if (n > 0) {
      buffer_commit(b, (size_t)n);
      continue;
    }
    if (n == 0) goto closed;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      double deadline = lua_isnil(L, 5) ? lua_tonumber(L, 3) : lua_tonumber(L, 5);
      if (loop_expired(deadline)) {
        lua_pushnil(L);
        if (lua_isnil(L, 5)) lua_pushliteral(L, "idle");
        else lua_pushliteral(L, "timeout");
        return 2;
      }
      loop_wait(L, io->fd, io->want == TRANSPORT_READ ? LOOP_READ : LOOP_WRITE, deadline,
                (lua_KContext)from, read_k);
      continue;
    }
    {
      int e = errno;
      const char *label = conn_pushlabel(L, 1, NULL);
      lua_pushnil(L);
      lua_pushfstring(L, "receive %s: %s", label, net_strerror(e));
      return 2;
    }
  }
closed:
  lua_pushnil(L);
  lua_pushliteral(L, "closed");
  return 2;
}

/* read(conn, max, idle, timeout) -> head, deadline, or nil, why; nil, "not a
   connection" for anything else (the caller reads lines itself). */
/* request(conn, max, idle, timeout). */
static int l_request(lua_State *L) {
  lua_Integer max;
  if (luaL_testudata(L, 1, "netlua.conn") == NULL) {
    lua_pushnil(L);
    lua_pushliteral(L, "not a connection");
    return 2;
  }
  max = luaL_checkinteger(L, 2);
  luaL_argcheck(L, max > 0, 2, "must be > 0");
  lua_settop(L, 4);
  lua_pushnumber(L, loop_deadline(luaL_checknumber(L, 3)));
  lua_replace(L, 3);
  luaL_checknumber(L, 4);
  lua_pushnil(L);          /* 5: the head's deadline, once the request line is in */
  lua_pushinteger(L, 0);   /* 6: empty lines skipped */
  return read_k(L, 0, 0);
}

/* ---- splitting ------------------------------------------------------- */

/* The bytes of a token (RFC 9110 tchar): letters, digits and these. */
static const char tchars[] = "!#$%&'*+-.^_`|~";
static unsigned char is_tchar[256];   /* made by httphead_open */

int http_token(const char *s, size_t n) {
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++)
    if (!is_tchar[(unsigned char)s[i]]) return 0;
  return 1;
}

/* White space as Lua's %s (the C locale's isspace). */
static int space(unsigned char ch) {
  return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/* A control byte (as Lua's %c: 0-31 and 127). */
static int ctl(unsigned char ch) {
  return ch < 32 || ch == 127;
}

/* The fields parse sums up after `fields`, in this order: how (see
   note_framing). */
enum { LIST, COUNT, JOIN };
static const struct { const char *name; size_t len; int how; } framing_names[] = {
  {"content-length", 14, LIST}, {"transfer-encoding", 17, LIST}, {"host", 4, COUNT},
  {"connection", 10, JOIN}, {"expect", 6, JOIN}, {NULL, 0, 0}};

/* True when s[0, n) has no upper-case letter. */
static int lower(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] >= 'A' && s[i] <= 'Z') return 0;
  return 1;
}

/* Push nil, status, why; returns 3. */
static int refuse(lua_State *L, int status, const char *why) {
  lua_pushnil(L);
  lua_pushinteger(L, status);
  lua_pushstring(L, why);
  return 3;
}

/* Split the request line line[0, n) (no EOL). Pushes method, target,
   major, minor and returns 1, or returns 0. *tctl: the target has a
   control byte. */
static int request_line(lua_State *L, const char *line, size_t n, int *tctl) {
  size_t m = 0, t, tn;
  while (m < n && !space((unsigned char)line[m])) m++;
  if (m == 0 || m >= n || line[m] != ' ') return 0;
  t = m + 1;
  tn = 0;
  while (t + tn < n && !space((unsigned char)line[t + tn])) tn++;
  if (tn == 0) return 0;
  /* the rest must be exactly " HTTP/d.d" */
  if (n - (t + tn) != 9 || memcmp(line + t + tn, " HTTP/", 6) != 0) return 0;
  {
    const char *v = line + t + tn + 6;
    if (v[0] < '0' || v[0] > '9' || v[1] != '.' || v[2] < '0' || v[2] > '9') return 0;
    if (!http_token(line, m)) return 0;
    *tctl = 0;
    for (size_t i = 0; i < tn; i++)
      if (ctl((unsigned char)line[t + i])) *tctl = 1;
    lua_pushlstring(L, line, m);
    lua_pushlstring(L, line + t, tn);
    lua_pushinteger(L, v[0] - '0');
    lua_pushinteger(L, v[2] - '0');
  }
  return 1;
}

/* Note the value at vidx of field name[0, n) in the framing slots (from
   index `base`, one per framing_names entry, nil until such a field comes)
   when the name is one of framing_names: LIST, the list of its values;
   COUNT, how many there were; JOIN, their values joined with ", " and in
   lower case. */
static void note_framing(lua_State *L, int base, const char *name, size_t n, int vidx) {
  for (int i = 0; framing_names[i].name; i++) {
    int slot = base + i;
    if (framing_names[i].len != n || strncasecmp(name, framing_names[i].name, n) != 0) continue;
    if (framing_names[i].how == COUNT) {
      lua_pushinteger(L, lua_tointeger(L, slot) + 1);
      lua_replace(L, slot);
    } else if (framing_names[i].how == JOIN) {
      luaL_Buffer b;
      size_t len;
      const char *v = lua_tolstring(L, vidx, &len);
      if (lua_isnil(L, slot) && lower(v, len)) {   /* the first, in lower case already */
        lua_pushvalue(L, vidx);
        lua_replace(L, slot);
        return;
      }
      luaL_buffinit(L, &b);
      if (lua_isstring(L, slot)) {
        lua_pushvalue(L, slot);         /* the joined values so far */
        luaL_addvalue(&b);
        luaL_addstring(&b, ", ");
      }
      for (size_t j = 0; j < len; j++)
        luaL_addchar(&b, (char)(v[j] >= 'A' && v[j] <= 'Z' ? v[j] + 32 : v[j]));
      luaL_pushresult(&b);
      lua_replace(L, slot);
    } else {
      if (!lua_istable(L, slot)) {
        lua_createtable(L, 1, 0);
        lua_replace(L, slot);
      }
      lua_pushvalue(L, vidx);
      lua_rawseti(L, slot, (lua_Integer)lua_rawlen(L, slot) + 1);
    }
    return;
  }
}

/* Split the head s[0, len) as parse() does (below), pushing its results;
   returns how many. */
static int parse(lua_State *L, const char *s, size_t len, int only_fields) {
  size_t at = 0, nlines = 0;
  int tctl = 0, fields, framing, nfields = 0;
  lua_Integer nf = 0;   /* slots filled in fields */
  luaL_checkstack(L, 20, NULL);   /* its results and a field's values on the caller's */
  if (!only_fields) {
    const char *lf = memchr(s, '\n', len);
    size_t n;
    if (lf == NULL) return refuse(L, 400, "malformed request line");
    n = (size_t)(lf - s);
    if (n > 0 && s[n - 1] == '\r') n--;
    if (!request_line(L, s, n, &tctl)) return refuse(L, 400, "malformed request line");
    at = (size_t)(lf - s) + 1;
  }
  for (const char *p = s + at; p < s + len && (p = memchr(p, '\n', (size_t)(s + len - p))); p++)
    nlines++;
  lua_createtable(L, nlines > MAXFIELDS ? 2 * MAXFIELDS : 2 * (int)nlines, 0);
  fields = lua_gettop(L);
  framing = fields + 1;
  for (int i = 0; framing_names[i].name; i++) lua_pushnil(L);
  while (at < len) {
    const char *line = s + at, *colon, *v, *e;
    const char *end = memchr(line, '\n', len - at);
    size_t n = end ? (size_t)(end - line) : len - at;
    at += n + 1;
    if (n > 0 && line[n - 1] == '\r') n--;
    if (n == 0) break;                       /* the empty line: the end */
    if (line[0] == ' ' || line[0] == '\t') return refuse(L, 400, "obsolete line folding");
    if (++nfields > MAXFIELDS) return refuse(L, 431, "too many header fields");
    colon = memchr(line, ':', n);
    if (colon == NULL || !http_token(line, (size_t)(colon - line)))
      return refuse(L, 400, "malformed header field");
    v = colon + 1;
    e = line + n;
    while (v < e && (*v == ' ' || *v == '\t')) v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
    for (const char *q = v; q < e; q++)
      if (ctl((unsigned char)*q) && *q != '\t') return refuse(L, 400, "control characters in a header value");
    lua_pushlstring(L, line, (size_t)(colon - line));
    lua_rawseti(L, fields, ++nf);
    lua_pushlstring(L, v, (size_t)(e - v));
    note_framing(L, framing, line, (size_t)(colon - line), lua_gettop(L));
    lua_rawseti(L, fields, ++nf);
  }
  if (only_fields) {
    lua_settop(L, fields);
    return 1;
  }
  lua_pushboolean(L, tctl);
  return 11;
}

/* parse(head [, "fields"]) -> method, target, major, minor, fields,
   lengths, encodings, hosts, connection, expect, target_ctl; or nil,
   status, why. With "fields" the text has no request line (trailers): ->
   fields. */
static int l_parse(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int only_fields = lua_isstring(L, 2) && strcmp(lua_tostring(L, 2), "fields") == 0;
  lua_settop(L, 1);
  return parse(L, s, len, only_fields);
}

/* peer(conn) -> "host:port" of the peer ("[v6]:port"), even once closed. */
static int l_peer(lua_State *L) {
  char buf[SOCK_ADDRSTRLEN];
  lua_pushstring(L, sock_format(conn_peer(conn_check(L, 1)), buf, sizeof buf));
  return 1;
}

void httphead_open(lua_State *L) {
  for (int ch = 0; ch < 256; ch++)
    is_tchar[ch] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   (ch != 0 && strchr(tchars, ch) != NULL);
  static const luaL_Reg f[] = {{"request", l_request}, {"parse", l_parse}, {"peer", l_peer},
                               {NULL, NULL}};
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  luaL_newlib(L, f);
  lua_setfield(L, -2, "net.httphead");
  lua_pop(L, 1);
}
