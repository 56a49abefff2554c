/* bind_json.h: what other binding files use of the JSON binding (bind_json.c):
 * its decoder, so that one piece of code turns JSON text into Lua values. */
#ifndef MALLAPI_BIND_JSON_H
#define MALLAPI_BIND_JSON_H

#include "compat.h"
#include "json.h"

/* Decode the JSON value at p (no leading blanks) with scanner s and push it, as
 * json.decode(text, {big = "string", array_mt = false}) builds it: integers
 * (beyond 2^53 on LuaJIT: their digits as a string), doubles, other numbers as
 * their text, null as json.null. Containers nest at most max_depth deep. Returns
 * the end of the value, or NULL with s->err / s->errcode set (the stack is then
 * left as it is, for the caller to reset). */
const char *mallapi_json_push_value(lua_State *L, mallapi_json_scanner *s, const char *p, int max_depth);

#endif
