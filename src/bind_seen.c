/* bind_seen.c: core.seen, the Lua face of seen.c (a set of seen keys with an
 * expiry, shared by processes through a mapped file or anonymous memory).
 *
 *   core.seen.open([path], [capacity], [steal_ms]) -> set | nil, msg, "IO"
 *     (steal_ms: how long a live lock holder may keep the lock, default 2000)
 *   set:add(key, ttl_s) -> true (added) | false (already there) | nil, msg, "FULL"
 *   set:has(key) -> boolean;  set:delete(key) -> boolean (was there)
 *   set:stats() -> { capacity =, used =, live = };  set:close()
 *   core.seen.siphash128(key16, data) -> 16-byte string (the reference byte order)
 *
 * Times are the wall clock in unix seconds; set:add(key, ttl, now) and
 * set:has(key, now) take "now" for tests. */
#include <stdio.h>
#include <string.h>
#include "bind.h"
#include "mallapi.h"
#include "seen.h"
#include "clock.h"


typedef struct {
    mallapi_seen *set;              /* NULL once closed */
} seen_ud;

static mallapi_seen *check_open(lua_State *L, const char *fn) {
    seen_ud *u = (seen_ud *)luaL_checkudata(L, 1, MALLAPI_MT_SEEN);
    if (u->set == NULL) luaL_error(L, "mallapi.seen.%s: the set is closed", fn);
    return u->set;
}

static uint32_t opt_now(lua_State *L, int arg) {
    lua_Number n;
    if (lua_isnoneornil(L, arg)) return (uint32_t)mallapi_clock_floor_s(mallapi_clock_now_ms());
    n = luaL_checknumber(L, arg);
    if (!(n >= 0 && n <= 4294967295.0)) luaL_argerror(L, arg, "unix seconds expected");
    return (uint32_t)n;
}

static int seen_open(lua_State *L) {
    const char *path = luaL_optstring(L, 1, NULL);
    lua_Number capacity = luaL_optnumber(L, 2, 1 << 20);
    lua_Number steal_ms = luaL_optnumber(L, 3, MALLAPI_SEEN_STEAL_MS);
    char err[256];
    seen_ud *u;
    if (!(capacity >= 1 && capacity <= MALLAPI_SEEN_MAX_CAPACITY))
        return luaL_argerror(L, 2, "capacity out of range (1 to 2^26)");
    if (!(steal_ms >= 1 && steal_ms <= 86400000.0)) return luaL_argerror(L, 3, "steal_ms out of range (1 to 1 day)");
    u = (seen_ud *)lua_newuserdata(L, sizeof *u);
    u->set = NULL;
    luaL_getmetatable(L, MALLAPI_MT_SEEN);
    lua_setmetatable(L, -2);
    u->set = mallapi_seen_open(path, (uint32_t)capacity, err, sizeof err);
    if (u->set == NULL) return mallapi_push_error(L, err, MALLAPI_E_IO);
    mallapi_seen_set_steal_ms(u->set, (int64_t)steal_ms);
    return 1;
}

static int seen_add(lua_State *L) {
    mallapi_seen *set = check_open(L, "add");
    size_t len;
    const char *key = luaL_checklstring(L, 2, &len);
    lua_Number ttl = luaL_checknumber(L, 3);
    int rc;
    if (!(ttl > 0 && ttl <= 4294967295.0)) return luaL_argerror(L, 3, "ttl must be positive seconds");
    rc = mallapi_seen_add(set, key, len, (uint32_t)(ttl + 0.999999), opt_now(L, 4));
    if (rc == MALLAPI_SEEN_FULL) return mallapi_push_error(L, "mallapi.seen.add: the set is full", MALLAPI_E_FULL);
    lua_pushboolean(L, rc == MALLAPI_SEEN_ADDED);
    return 1;
}

static int seen_has(lua_State *L) {
    mallapi_seen *set = check_open(L, "has");
    size_t len;
    const char *key = luaL_checklstring(L, 2, &len);
    lua_pushboolean(L, mallapi_seen_has(set, key, len, opt_now(L, 3)));
    return 1;
}

static int seen_delete(lua_State *L) {
    mallapi_seen *set = check_open(L, "delete");
    size_t len;
    const char *key = luaL_checklstring(L, 2, &len);
    lua_pushboolean(L, mallapi_seen_delete(set, key, len));
    return 1;
}

static int seen_stats(lua_State *L) {
    mallapi_seen_stats st;
    mallapi_seen_stats_get(check_open(L, "stats"), opt_now(L, 2), &st);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)st.capacity);
    lua_setfield(L, -2, "capacity");
    lua_pushinteger(L, (lua_Integer)st.used);
    lua_setfield(L, -2, "used");
    lua_pushinteger(L, (lua_Integer)st.live);
    lua_setfield(L, -2, "live");
    return 1;
}

static int seen_close(lua_State *L) {
    seen_ud *u = (seen_ud *)luaL_checkudata(L, 1, MALLAPI_MT_SEEN);
    mallapi_seen_close(u->set);
    u->set = NULL;
    return 0;
}

static int seen_tostring(lua_State *L) {
    seen_ud *u = (seen_ud *)luaL_checkudata(L, 1, MALLAPI_MT_SEEN);
    const char *path = u->set ? mallapi_seen_path(u->set) : NULL;
    if (u->set == NULL) lua_pushstring(L, "mallapi.seen (closed)");
    else lua_pushfstring(L, "mallapi.seen (%s)", path ? path : "anonymous");
    return 1;
}

static int seen_siphash128(lua_State *L) {
    size_t klen, len, i;
    const char *key = luaL_checklstring(L, 1, &klen);
    const char *data = luaL_checklstring(L, 2, &len);
    uint64_t out[2];
    char bytes[16];
    if (klen != 16) return luaL_argerror(L, 1, "16-byte key expected");
    mallapi_siphash128((const uint8_t *)key, data, len, out);
    for (i = 0; i < 16; i++) bytes[i] = (char)(out[i / 8] >> (8 * (i % 8)));
    lua_pushlstring(L, bytes, 16);
    return 1;
}

static const luaL_Reg seen_methods[] = {
    {"add", seen_add}, {"has", seen_has}, {"delete", seen_delete}, {"stats", seen_stats},
    {"close", seen_close}, {NULL, NULL}
};

static const luaL_Reg seen_funcs[] = {
    {"open", seen_open}, {"siphash128", seen_siphash128}, {NULL, NULL}
};

void mallapi_open_seen(lua_State *L) {                      /* core */
    if (luaL_newmetatable(L, MALLAPI_MT_SEEN)) {
        lua_newtable(L);
        luaL_setfuncs(L, seen_methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, seen_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, seen_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    luaL_newlib(L, seen_funcs);                             /* core seen */
    lua_setfield(L, -2, "seen");                            /* core */
}
