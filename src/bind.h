/* bind.h: the binding files' entry points. Each one adds its fields to the
 * module table on top of the stack and leaves the stack as it found it. */
#ifndef MALLAPI_BIND_H
#define MALLAPI_BIND_H

#include "compat.h"

void mallapi_open_crypto(lua_State *L);  /* bind_crypto.c */
void mallapi_open_json(lua_State *L);    /* bind_json.c */
void mallapi_open_http(lua_State *L);    /* bind_http.c */
void mallapi_open_lock(lua_State *L);    /* bind_lock.c */
void mallapi_open_map(lua_State *L);     /* bind_map.c */
void mallapi_open_webhook(lua_State *L); /* bind_webhook.c */
void mallapi_open_seen(lua_State *L);    /* bind_seen.c */
void mallapi_open_signal(lua_State *L);  /* bind_signal.c */

/* luv-style result helper: push nil, msg, code and return 3. */
int mallapi_push_error(lua_State *L, const char *msg, const char *code);

#endif
