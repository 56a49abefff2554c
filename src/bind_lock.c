/* bind_lock.c: Lua binding of lock.c and token.c as core.lock: clocks and sleep
 * in ms, fcntl lock handles with a lease, atomic file write and read, and the
 * token refresh-window arithmetic. The token manager and the stores in
 * lua/mallapi/ orchestrate these; this file only converts values. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind.h"
#include "mallapi.h"
#include "lock.h"
#include "token.h"

#define LOCK_MT "mallapi.Lock"

typedef struct {
    int fd;         /* -1 once released */
    char *path;     /* malloc'ed copy, freed on release */
} lock_handle;

static void lock_push_ms(lua_State *L, int64_t ms) {
#if MALLAPI_HAS_INT64
    lua_pushinteger(L, (lua_Integer)ms);
#else
    lua_pushnumber(L, (lua_Number)ms);
#endif
}

static int64_t lock_check_ms(lua_State *L, int arg) {
    lua_Number n = luaL_checknumber(L, arg);
    if (n != n || n < -9.0e15 || n > 9.0e15) luaL_argerror(L, arg, "milliseconds out of range");
    return (int64_t)n;
}

static int64_t lock_opt_ms(lua_State *L, int arg) {
    return lua_isnoneornil(L, arg) ? -1 : lock_check_ms(L, arg);
}

static int lock_now(lua_State *L) { lock_push_ms(L, mallapi_clock_wall_ms()); return 1; }
static int lock_monotonic(lua_State *L) { lock_push_ms(L, mallapi_clock_monotonic_ms()); return 1; }
static int lock_pid(lua_State *L) { lua_pushinteger(L, (lua_Integer)getpid()); return 1; }

static int lock_sleep(lua_State *L) {
    mallapi_sleep_ms(lock_check_ms(L, 1));
    return 0;
}

static void lock_handle_release(lock_handle *h) {
    if (h->fd >= 0) mallapi_lock_release(h->fd, h->path);
    h->fd = -1;
    free(h->path);
    h->path = NULL;
}

/* lock.try(path, id, lease_ms) -> handle | false (held elsewhere) | nil, msg, "IO" */
static int lock_try(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    const char *id = luaL_checkstring(L, 2);
    int64_t lease_ms = lock_check_ms(L, 3);
    if (lease_ms <= 0) return luaL_argerror(L, 3, "lease must be positive");
    /* userdata first, so a failure below never leaks the descriptor */
    lock_handle *h = lua_newuserdata(L, sizeof *h);  /* handle */
    h->fd = -1;
    h->path = NULL;
    luaL_setmetatable(L, LOCK_MT);
    h->path = strdup(path);
    if (!h->path) return luaL_error(L, "lock.try: out of memory");
    char err[MALLAPI_ERRLEN], msg[MALLAPI_ERRLEN + 16];
    int fd = -1;
    int got = mallapi_lock_try(path, id, lease_ms, &fd, err, sizeof err);
    if (got < 0) {
        lock_handle_release(h);
        snprintf(msg, sizeof msg, "lock.try: %s", err);
        return mallapi_push_error(L, msg, "IO");
    }
    if (got == 0) {
        lock_handle_release(h);
        lua_pushboolean(L, 0);
        return 1;
    }
    h->fd = fd;
    return 1;
}

static int lock_handle_gc(lua_State *L) {
    lock_handle_release(luaL_checkudata(L, 1, LOCK_MT));
    return 0;
}

static int lock_handle_tostring(lua_State *L) {
    lock_handle *h = luaL_checkudata(L, 1, LOCK_MT);
    lua_pushstring(L, h->fd >= 0 ? "mallapi.Lock (held)" : "mallapi.Lock (released)");
    return 1;
}

static int lock_handle_held(lua_State *L) {
    lock_handle *h = luaL_checkudata(L, 1, LOCK_MT);
    lua_pushboolean(L, h->fd >= 0);
    return 1;
}

/* lock.write_file(path, data) -> true | nil, msg, "IO" */
static int lock_write_file(lua_State *L) {
    size_t len;
    const char *path = luaL_checkstring(L, 1);
    const char *data = luaL_checklstring(L, 2, &len);
    char err[MALLAPI_ERRLEN], msg[MALLAPI_ERRLEN + 24];
    if (mallapi_file_write_atomic(path, data, len, err, sizeof err) != 0) {
        snprintf(msg, sizeof msg, "lock.write_file: %s", err);
        return mallapi_push_error(L, msg, "IO");
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* lock.read_file(path) -> data | false (no such file) | nil, msg, "IO" */
static int lock_read_file(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    char err[MALLAPI_ERRLEN], msg[MALLAPI_ERRLEN + 24];
    char *data = NULL;
    size_t len = 0;
    int got = mallapi_file_read(path, &data, &len, err, sizeof err);
    if (got < 0) {
        snprintf(msg, sizeof msg, "lock.read_file: %s", err);
        return mallapi_push_error(L, msg, "IO");
    }
    if (got == 0) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_pushlstring(L, data, len);  /* may raise on memory error: data is lost then, */
    free(data);                     /* acceptable only because Lua is already dying */
    return 1;
}

/* lock.phase(now, fetched_at, expires_at [, advisory_ms [, mandatory_ms]])
 *   -> "fresh" | "advisory" | "mandatory" | "expired" */
static int lock_phase(lua_State *L) {
    static const char *const names[] = { "fresh", "advisory", "mandatory", "expired" };
    int64_t now = lock_check_ms(L, 1), fetched_at = lock_check_ms(L, 2);
    int64_t expires_at = lock_check_ms(L, 3);
    int64_t advisory = lock_opt_ms(L, 4), mandatory = lock_opt_ms(L, 5);
    enum mallapi_token_phase phase = mallapi_token_phase(now, fetched_at, expires_at, advisory, mandatory);
    lua_pushstring(L, names[phase]);
    return 1;
}

/* core.lock.alive(pid) -> true | false: does a process with this pid run on this machine
 * (the holder of a claim or a lease recorded with its pid)? */
static int lock_alive(lua_State *L) {
    lua_Number n = luaL_checknumber(L, 1);
    int rc;
    if (!(n >= 1 && n <= 2147483647.0) || n != (lua_Number)(long)n)
        return luaL_argerror(L, 1, "pid expected (a positive integer)");
    rc = mallapi_pid_alive((long)n);
    lua_pushboolean(L, rc == 1);
    return 1;
}

void mallapi_open_lock(lua_State *L) {
    static const luaL_Reg handle_methods[] = {
        { "release", lock_handle_gc },
        { "held", lock_handle_held },
        { NULL, NULL },
    };
    static const luaL_Reg functions[] = {
        { "now", lock_now },
        { "monotonic", lock_monotonic },
        { "sleep", lock_sleep },
        { "pid", lock_pid },
        { "alive", lock_alive },
        { "try", lock_try },
        { "write_file", lock_write_file },
        { "read_file", lock_read_file },
        { "phase", lock_phase },
        { NULL, NULL },
    };
    if (luaL_newmetatable(L, LOCK_MT)) {            /* core mt */
        luaL_newlib(L, handle_methods);             /* core mt methods */
        lua_setfield(L, -2, "__index");             /* core mt */
        lua_pushcfunction(L, lock_handle_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, lock_handle_gc);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, lock_handle_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);                                  /* core */
    luaL_newlib(L, functions);                      /* core lock */
    lua_setfield(L, -2, "lock");                    /* core */
}
