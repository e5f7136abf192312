/*
 * errwords.h: error words for errno values, with no Lua in it.
 */
#ifndef NETLUA_ERRWORDS_H
#define NETLUA_ERRWORDS_H

/* Errors: one table of words for errno values, so every message reads the
   same ("connection refused", "timeout", "closed"). */
const char *net_strerror(int err);

#endif
