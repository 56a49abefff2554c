/* bind_webhook.c: core.webhook, the Lua face of webhook.c (the one-pass
 * Shoplus signature check). One digest context and one set of work buffers
 * live in a userdata upvalue; the check never yields, so one set serves a
 * whole Lua state (or nginx worker).
 *
 *   core.webhook.shoplus(body, secret, nested_skip, name...)
 *     -> "OK" | "MISMATCH" | "UNSIGNED", then per name: its text (a string
 *        decoded, a number/boolean as written), false (object/array) or nil
 *        (absent or null)
 *     -> nil, msg, "BAD_BODY" | "MEMORY" | "CRYPTO" */
#include <stdio.h>
#include <string.h>
#include "compat.h"
#include "bind.h"
#include "webhook.h"

#define BIND_MT_WEBHOOK "mallapi.webhook.work"
#define WH_MAX_FIELDS 16
#define WH_KEEP_BUFFER (64 * 1024)

typedef struct {
    mallapi_crypto_ctx *ctx;
    mallapi_wh_work work;
} bind_wh;

static int wh_gc(lua_State *L) {
    bind_wh *b = (bind_wh *)luaL_checkudata(L, 1, BIND_MT_WEBHOOK);
    mallapi_crypto_free(b->ctx);
    b->ctx = NULL;
    mallapi_wh_work_free(&b->work);
    return 0;
}

static void wh_trim(mallapi_jbuf *buf) {
    if (buf->cap > WH_KEEP_BUFFER) mallapi_jbuf_free(buf);
}

static int wh_shoplus(lua_State *L) {
    bind_wh *b = (bind_wh *)lua_touserdata(L, lua_upvalueindex(1));
    mallapi_wh_field fields[WH_MAX_FIELDS];
    size_t len, secretlen, i, nfields;
    const char *body, *secret, *code = NULL;
    char err[MALLAPI_ERRLEN];
    int verdict = MALLAPI_WH_MISMATCH, rc, top = lua_gettop(L);
    if (lua_type(L, 1) != LUA_TSTRING) return luaL_argerror(L, 1, "string expected");
    if (lua_type(L, 2) != LUA_TSTRING) return luaL_argerror(L, 2, "string expected");
    body = lua_tolstring(L, 1, &len);
    secret = lua_tolstring(L, 2, &secretlen);
    nfields = top > 3 ? (size_t)(top - 3) : 0;
    if (nfields > WH_MAX_FIELDS) return luaL_argerror(L, 4 + WH_MAX_FIELDS, "too many member names");
    for (i = 0; i < nfields; i++) {
        if (lua_type(L, (int)i + 4) != LUA_TSTRING) return luaL_argerror(L, (int)i + 4, "string expected");
        fields[i].name = lua_tolstring(L, (int)i + 4, &fields[i].namelen);
    }
    if (b->ctx == NULL) return mallapi_push_error(L, "webhook.shoplus: closed", "CRYPTO");
    rc = mallapi_wh_shoplus(b->ctx, &b->work, body, len, secret, secretlen, lua_toboolean(L, 3),
                            fields, nfields, &verdict, err, &code);
    if (rc == 0) {
        luaL_checkstack(L, (int)nfields + 1, "webhook.shoplus");
        lua_pushstring(L, verdict == MALLAPI_WH_OK ? "OK" : verdict == MALLAPI_WH_UNSIGNED ? "UNSIGNED" : "MISMATCH");
        for (i = 0; i < nfields; i++) {
            if (fields[i].kind == MALLAPI_WH_TEXT) lua_pushlstring(L, fields[i].text, fields[i].len);
            else if (fields[i].kind == MALLAPI_WH_NESTED) lua_pushboolean(L, 0);
            else lua_pushnil(L);
        }
    }
    wh_trim(&b->work.scratch);
    wh_trim(&b->work.texts);
    wh_trim(&b->work.members);
    wh_trim(&b->work.plain);
    if (rc != 0) {
        char msg[MALLAPI_ERRLEN + 32];
        snprintf(msg, sizeof msg, "webhook.shoplus: %s", err);
        return mallapi_push_error(L, msg, code);
    }
    return (int)nfields + 1;
}

static const luaL_Reg wh_funcs[] = {
    {"shoplus", wh_shoplus},
    {NULL, NULL}
};

void mallapi_open_webhook(lua_State *L) {                   /* core */
    bind_wh *b;
    lua_newtable(L);                                        /* core webhook */
    b = (bind_wh *)lua_newuserdata(L, sizeof *b);           /* core webhook ud */
    memset(b, 0, sizeof *b);
    if (luaL_newmetatable(L, BIND_MT_WEBHOOK)) {
        lua_pushcfunction(L, wh_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    b->ctx = mallapi_crypto_new();
    if (b->ctx == NULL) luaL_error(L, "mallapi.webhook: out of memory");
    luaL_setfuncs(L, wh_funcs, 1);                          /* core webhook */
    lua_setfield(L, -2, "webhook");                         /* core */
}
