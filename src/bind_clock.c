/* bind_clock.c: Lua binding of clock.c as core.clock, the one clock of the
 * Lua layer: wall-clock and monotonic ms, sleeping, and calendar text to and
 * from epoch ms at a UTC offset. */
#include <math.h>
#include <string.h>

#include "bind.h"
#include "mallapi.h"
#include "clock.h"

/* ---- clock ------------------------------------------------------------- */

/* An instant in ms from argument arg; fractions are floored. */
static int64_t clock_checkinstant(lua_State *L, int arg, const char *fname) {
    if (lua_type(L, arg) != LUA_TNUMBER)
        bind_typeerror(L, arg, fname, "number");
#if MALLAPI_HAS_INT64
    if (lua_isinteger(L, arg)) return (int64_t)lua_tointeger(L, arg);
#endif
    lua_Number d = floor(lua_tonumber(L, arg));
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0))
        bind_argerror(L, arg, fname, "time out of range, years 0001 to 9999");
    return (int64_t)d;
}

static int64_t clock_optinstant(lua_State *L, int arg, const char *fname) {
    return lua_isnoneornil(L, arg) ? mallapi_clock_now_ms() : clock_checkinstant(L, arg, fname);
}

/* A UTC offset: minutes as a number, or "Z" / "+HH:MM" / "-HH:MM" / "+HHMM" / "+HH";
 * absent means 0 (UTC). */
static int bind_optoffset(lua_State *L, int arg, const char *fname) {
    int minutes = 0;
    int t = lua_type(L, arg);
    if (t == LUA_TNONE || t == LUA_TNIL) return 0;
    if (t == LUA_TNUMBER) {
        lua_Number m = lua_tonumber(L, arg);
        if (m != floor(m) || m < -MALLAPI_CLOCK_MAX_OFFSET || m > MALLAPI_CLOCK_MAX_OFFSET)
            bind_argerror(L, arg, fname, "UTC offset must be whole minutes between -1080 and 1080");
        return (int)m;
    }
    if (t == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, arg, &len);
        if (mallapi_clock_parse_offset(s, len, &minutes) == 0) return minutes;
        char word[40];
        bind_argerror(L, arg, fname, "bad UTC offset '%s', expected minutes or '+HH:MM'",
                      bind_shortword(s, len, word, sizeof word));
    }
    return bind_argerror(L, arg, fname, "UTC offset expected, got %s", luaL_typename(L, arg));
}

/* clock.now_ms() -> integer milliseconds since the epoch */
static int bind_now_ms(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)mallapi_clock_now_ms());
    return 1;
}

/* clock.monotonic_ms() -> milliseconds of CLOCK_MONOTONIC (deadlines, leases) */
static int bind_monotonic_ms(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)mallapi_clock_monotonic_ms());
    return 1;
}

/* clock.sleep_ms(ms): blocks the process (the OpenResty adapter installs
 * ngx.sleep where it may yield). */
static int bind_sleep_ms(lua_State *L) {
    mallapi_clock_sleep_ms(bind_checkms(L, 1, "sleep_ms"));
    return 0;
}

/* clock.format(ms [, offset]) -> "yyyy-MM-dd HH:mm:ss" */
static int bind_clock_format(lua_State *L) {
    int64_t ms = clock_checkinstant(L, 1, "format");
    int offset = bind_optoffset(L, 2, "format");
    char out[19];
    if (mallapi_clock_format(ms, offset, out) != 0)
        bind_argerror(L, 1, "format", "time out of range, years 0001 to 9999");
    lua_pushlstring(L, out, sizeof out);
    return 1;
}

/* clock.parse(text [, offset]) -> ms | nil, msg, "DECODE" */
static int bind_clock_parse(lua_State *L) {
    size_t len;
    const char *s = bind_checkstring(L, 1, "parse", &len);
    int offset = bind_optoffset(L, 2, "parse");
    int64_t ms;
    char err[MALLAPI_ERRLEN];
    if (mallapi_clock_parse(s, len, offset, &ms, err) != 0) return bind_decode_error(L, err);
    lua_pushinteger(L, (lua_Integer)ms);
    return 1;
}

static void bind_push_int64(lua_State *L, int64_t v) {
    char out[24];
    lua_pushlstring(L, out, (size_t)snprintf(out, sizeof out, "%lld", (long long)v));
}

/* clock.seconds([ms]) -> decimal string of whole seconds (floor) */
static int bind_clock_seconds(lua_State *L) {
    bind_push_int64(L, mallapi_clock_floor_s(clock_optinstant(L, 1, "seconds")));
    return 1;
}

/* clock.millis([ms]) -> decimal string of milliseconds */
static int bind_clock_millis(lua_State *L) {
    bind_push_int64(L, clock_optinstant(L, 1, "millis"));
    return 1;
}

static const luaL_Reg bind_clock_funcs[] = {
    { "now_ms", bind_now_ms },
    { "monotonic_ms", bind_monotonic_ms },
    { "sleep_ms", bind_sleep_ms },
    { "format", bind_clock_format },
    { "parse", bind_clock_parse },
    { "seconds", bind_clock_seconds },
    { "millis", bind_clock_millis },
    { NULL, NULL },
};

/* ---- registration ------------------------------------------------------ */

void mallapi_open_clock(lua_State *L) {                    /* core */
    luaL_newlib(L, bind_clock_funcs);                    /* core clock */
    lua_setfield(L, -2, "clock");                            /* core */
}
