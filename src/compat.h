/* compat.h: the few Lua C API differences between Lua 5.4 and LuaJIT 2.1
 * (Lua 5.1 ABI), so that every binding file is written once against the 5.4 API. */
#ifndef MALLAPI_COMPAT_H
#define MALLAPI_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502 && defined(__has_include)
#if !__has_include(<luajit.h>)
/* PUC Lua 5.1 headers: the core needs Lua 5.3/5.4 or LuaJIT 2.1 (which has luaL_newlib & co). */
#error "mallapi needs Lua 5.4 (or 5.3) or LuaJIT 2.1; for LuaJIT build with LUA_INCDIR=/usr/include/luajit-2.1"
#endif
#endif

#if LUA_VERSION_NUM < 502
/* LuaJIT 2.1 already provides luaL_setfuncs, luaL_testudata, luaL_setmetatable, luaL_newlib. */
#define lua_rawlen(L, i) lua_objlen((L), (i))
#ifndef LUA_OK
#define LUA_OK 0
#endif
static inline int mallapi_absindex(lua_State *L, int i) {
    return (i > 0 || i <= LUA_REGISTRYINDEX) ? i : lua_gettop(L) + i + 1;
}
#define lua_absindex(L, i) mallapi_absindex((L), (i))
/* Lua 5.1 has no integer subtype: a number is an integer when it holds one exactly. */
static inline int mallapi_isinteger(lua_State *L, int i) {
    if (lua_type(L, i) != LUA_TNUMBER) return 0;
    lua_Number n = lua_tonumber(L, i);
    return n == (lua_Number)(long long)n && n >= -9007199254740992.0 && n <= 9007199254740992.0;
}
#define lua_isinteger(L, i) mallapi_isinteger((L), (i))
#define MALLAPI_HAS_INT64 0
#else
#define MALLAPI_HAS_INT64 1
#endif

#endif
