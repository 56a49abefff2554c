/* bind.h: the binding files' entry points. Each one adds its fields to the
 * module table on top of the stack and leaves the stack as it found it. */
#ifndef MALLAPI_BIND_H
#define MALLAPI_BIND_H

#include <stdint.h>

#include "compat.h"
#include "errors.h"

void mallapi_open_crypto(lua_State *L);  /* bind_crypto.c */
void mallapi_open_codec(lua_State *L);   /* bind_codec.c */
void mallapi_open_sign(lua_State *L);    /* bind_sign.c */
void mallapi_open_clock(lua_State *L);   /* bind_clock.c */
void mallapi_open_json(lua_State *L);    /* bind_json.c */
void mallapi_open_http(lua_State *L);    /* bind_http.c */
void mallapi_open_lock(lua_State *L);    /* bind_lock.c */
void mallapi_open_token(lua_State *L);   /* bind_token.c (after lock: sets core.lock.phase) */
void mallapi_open_map(lua_State *L);     /* bind_map.c */
void mallapi_open_webhook(lua_State *L); /* bind_webhook.c */
void mallapi_open_seen(lua_State *L);    /* bind_seen.c */
void mallapi_open_signal(lua_State *L);  /* bind_signal.c */

/* luv-style result helper: push nil, msg, code and return 3. */
int mallapi_push_error(lua_State *L, const char *msg, const char *code);

/* Argument checks for binding files (bind_util.c). Each raises
 * "bad argument #arg to 'fname' (...)" naming fname explicitly, so the name
 * survives pcall and tail calls. */
int bind_argerror(lua_State *L, int arg, const char *fname, const char *fmt, ...);
int bind_typeerror(lua_State *L, int arg, const char *fname, const char *expected);
const char *bind_checkstring(lua_State *L, int arg, const char *fname, size_t *len);
int bind_optboolean(lua_State *L, int arg, const char *fname);   /* nil/absent is 0 */
/* A duration or instant in ms (a number within +-9e15, truncated). */
int64_t bind_checkms(lua_State *L, int arg, const char *fname);
/* A short printable copy of a caller's word for a message (never a secret). */
const char *bind_shortword(const char *s, size_t len, char *out, size_t cap);
/* stackbuf when need <= cap, else a userdata left on the stack. */
char *bind_buffer(lua_State *L, char *stackbuf, size_t cap, size_t need);
int bind_decode_error(lua_State *L, const char *err);           /* nil, err, "DECODE" */
/* A decoder's answer: the n bytes at out, or nil, err, "DECODE" when n < 0. */
int bind_push_decoded(lua_State *L, const void *out, long n, const char *err);

#endif
