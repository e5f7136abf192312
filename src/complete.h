/*
 * complete.h: Tab completion of Lua names for the prompt's line editor.
 */
#ifndef NETLUA_COMPLETE_H
#define NETLUA_COMPLETE_H

#include <stdio.h>

#include <histedit.h>
#include <lua.h>

/* Complete the word before the cursor of `el` with names from state L:
   one candidate is inserted; with several, what they share is inserted and
   they are listed on `out`. A tab with no word before it is inserted as is
   (pasted code). Returns a libedit CC_ code; never raises. */
unsigned char complete_name(EditLine *el, lua_State *L, FILE *out);

#endif
