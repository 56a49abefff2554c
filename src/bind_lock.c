/* bind_lock.c: Lua binding of lock.c as core.lock: fcntl lock handles with a
 * lease, atomic file write and read, pids. The token stores in lua/mallapi/
 * orchestrate these; this file only converts values. The token refresh window
 * is bind_token.c's (core.token.phase, which it also sets as core.lock.phase). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind.h"
#include "mallapi.h"
#include "lock.h"


typedef struct {
    int fd;         /* -1 once released */
    char *path;     /* malloc'ed copy, freed on release */
} lock_handle;

static int lock_pid(lua_State *L) { lua_pushinteger(L, (lua_Integer)getpid()); return 1; }

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
    int64_t lease_ms = bind_checkms(L, 3, "try");
    if (lease_ms <= 0) return luaL_argerror(L, 3, "lease must be positive");
    /* userdata first, so a failure below never leaks the descriptor */
    lock_handle *h = lua_newuserdata(L, sizeof *h);  /* handle */
    h->fd = -1;
    h->path = NULL;
    luaL_setmetatable(L, MALLAPI_MT_LOCK);
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
    lock_handle_release(luaL_checkudata(L, 1, MALLAPI_MT_LOCK));
    return 0;
}

static int lock_handle_tostring(lua_State *L) {
    lock_handle *h = luaL_checkudata(L, 1, MALLAPI_MT_LOCK);
    lua_pushstring(L, h->fd >= 0 ? "mallapi.Lock (held)" : "mallapi.Lock (released)");
    return 1;
}

static int lock_handle_held(lua_State *L) {
    lock_handle *h = luaL_checkudata(L, 1, MALLAPI_MT_LOCK);
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
        { "pid", lock_pid },
        { "alive", lock_alive },
        { "try", lock_try },
        { "write_file", lock_write_file },
        { "read_file", lock_read_file },
        { NULL, NULL },
    };
    if (luaL_newmetatable(L, MALLAPI_MT_LOCK)) {            /* core mt */
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
