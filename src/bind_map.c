/* bind_map.c: Lua binding of the field mapper (core.map): the "mallapi.Mapper"
 * userdata's life and methods. The work is split by phase like LPeg's tree/code/VM:
 * bind_map_compile.c (spec -> program), bind_map_run.c (program over Lua tables),
 * bind_map_decode.c (program streamed from JSON text); bind_map.h is their private
 * header, map.c the Lua-free half (programs, plans, converter arithmetic). */
#include "bind_map.h"

static int mapper_gc(lua_State *L) {
    map_mapper *m = luaL_checkudata(L, 1, MALLAPI_MT_MAPPER);
    mallapi_map_plan_free(m->plan);                  /* before the program it points into */
    m->plan = NULL;
    mallapi_map_program_free(m->prog);
    m->prog = NULL;
    if (m->values_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, m->values_ref);
        m->values_ref = LUA_NOREF;
    }
    return 0;
}

map_mapper *bind_map_check(lua_State *L) {
    map_mapper *m = luaL_checkudata(L, 1, MALLAPI_MT_MAPPER);
    if (!m->prog) luaL_argerror(L, 1, "mapper is closed");
    return m;
}

static int mapper_tostring(lua_State *L) {
    map_mapper *m = luaL_checkudata(L, 1, MALLAPI_MT_MAPPER);
    lua_pushfstring(L, "mallapi.mapper (%d fields)", m->prog ? m->prog->nfields : 0);
    return 1;
}

void mallapi_open_map(lua_State *L) {
    bind_map_open_decode(L);
    static const luaL_Reg methods[] = {
        { "many", bind_map_many },
        { "decode", bind_map_decode },
        { NULL, NULL }
    };
    static const luaL_Reg funcs[] = {
        { "compile", bind_map_compile },
        { "convert", bind_map_convert },
        { NULL, NULL }
    };
    luaL_newmetatable(L, MALLAPI_MT_MAPPER);                  /* core mt */
    lua_pushcfunction(L, mapper_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, bind_map_call);
    lua_setfield(L, -2, "__call");
    lua_pushcfunction(L, mapper_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_newtable(L);                                  /* core mt methods */
    luaL_setfuncs(L, methods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__index");                   /* core mt methods */
    lua_newtable(L);                                  /* core mt methods map */
    luaL_setfuncs(L, funcs, 0);
    lua_insert(L, -2);                                /* core mt map methods */
    lua_setfield(L, -2, "methods");                   /* core mt map */
    lua_setfield(L, -3, "map");                       /* core mt */
    lua_pop(L, 1);                                    /* core */
}
