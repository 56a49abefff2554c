/* bind_util.c: small helpers shared by the binding files. */
#include "bind.h"

int mallapi_push_error(lua_State *L, const char *msg, const char *code) {
    lua_pushnil(L);
    lua_pushstring(L, msg);
    if (code) lua_pushstring(L, code); else lua_pushnil(L);
    return 3;
}
