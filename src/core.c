/* core.c: entry point of the mallapi.core shared object. It builds the module
 * table and lets each binding file add its area (crypto, codec, sign, clock,
 * json, http, lock, token, map, webhook, seen, signal). The concern files themselves know nothing of Lua. */
#include "compat.h"
#include "mallapi.h"
#include "bind.h"

int luaopen_mallapi_core(lua_State *L) {
    lua_newtable(L);                                /* core */
    lua_pushliteral(L, MALLAPI_VERSION);
    lua_setfield(L, -2, "version");
    mallapi_open_crypto(L);                         /* core.crypto */
    mallapi_open_codec(L);                          /* core.codec */
    mallapi_open_sign(L);                           /* core.sign */
    mallapi_open_clock(L);                          /* core.clock */
    mallapi_open_json(L);                           /* core.json */
    mallapi_open_http(L);                           /* core.http */
    mallapi_open_lock(L);                           /* core.lock (file locks for the token stores) */
    mallapi_open_token(L);                          /* core.token (token refresh window) */
    mallapi_open_map(L);                            /* core.map (compiled field mappings) */
    mallapi_open_webhook(L);                        /* core.webhook (one-pass webhook signature check) */
    mallapi_open_seen(L);                           /* core.seen (seen keys shared by processes) */
    mallapi_open_signal(L);                         /* core.signal (SIGTERM drain for workers) */
    return 1;
}
