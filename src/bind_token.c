/* bind_token.c: Lua binding of token.c as core.token: the refresh-window
 * arithmetic of the token lifecycle (which phase a cached token is in). The
 * token manager (lua/mallapi/token.lua) decides what to do in each phase.
 * core.lock.phase is the same function, kept for callers of its old home. */
#include "bind.h"
#include "token.h"

static int64_t token_opt_ms(lua_State *L, int arg) {
    return lua_isnoneornil(L, arg) ? -1 : bind_checkms(L, arg, "phase");
}

/* token.phase(now, fetched_at, expires_at [, advisory_ms [, mandatory_ms]])
 *   -> "fresh" | "advisory" | "mandatory" | "expired" */
static int token_phase(lua_State *L) {
    static const char *const names[] = { "fresh", "advisory", "mandatory", "expired" };
    int64_t now = bind_checkms(L, 1, "phase"), fetched_at = bind_checkms(L, 2, "phase");
    int64_t expires_at = bind_checkms(L, 3, "phase");
    int64_t advisory = token_opt_ms(L, 4), mandatory = token_opt_ms(L, 5);
    enum mallapi_token_phase phase = mallapi_token_phase(now, fetched_at, expires_at, advisory, mandatory);
    lua_pushstring(L, names[phase]);
    return 1;
}

/* After mallapi_open_lock: the one function is also core.lock.phase. */
void mallapi_open_token(lua_State *L) {
    lua_createtable(L, 0, 1);                       /* core token */
    lua_pushcfunction(L, token_phase);              /* core token phase */
    lua_getfield(L, -3, "lock");                    /* core token phase lock */
    if (lua_istable(L, -1)) {
        lua_pushvalue(L, -2);
        lua_setfield(L, -2, "phase");
    }
    lua_pop(L, 1);                                  /* core token phase */
    lua_setfield(L, -2, "phase");                   /* core token */
    lua_setfield(L, -2, "token");                   /* core */
}
