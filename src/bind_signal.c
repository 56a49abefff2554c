/* bind_signal.c: Lua binding of signal.c as core.signal: trap_stop() installs the
 * SIGTERM/SIGINT trap, stop_signal() answers the name of the signal received
 * ("TERM", "INT") or nil, clear() forgets it. mallapi.fleet.worker polls it. */
#include <signal.h>

#include "bind.h"
#include "signal_trap.h"

static int sig_trap_stop(lua_State *L) {
    char err[128];
    if (mallapi_signal_trap_stop(err, sizeof err) != 0) return mallapi_push_error(L, err, MALLAPI_E_SYSTEM);
    lua_pushboolean(L, 1);
    return 1;
}

static int sig_stop_signal(lua_State *L) {
    int sig = mallapi_signal_stop_received();
    if (sig == SIGTERM) lua_pushliteral(L, "TERM");
    else if (sig == SIGINT) lua_pushliteral(L, "INT");
    else lua_pushnil(L);
    return 1;
}

static int sig_clear(lua_State *L) {
    mallapi_signal_clear();
    return 0;
}

void mallapi_open_signal(lua_State *L) {
    static const luaL_Reg functions[] = {
        { "trap_stop", sig_trap_stop },
        { "stop_signal", sig_stop_signal },
        { "clear", sig_clear },
        { NULL, NULL },
    };
    luaL_newlib(L, functions);                      /* core signal */
    lua_setfield(L, -2, "signal");                  /* core */
}
