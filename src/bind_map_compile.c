/* bind_map_compile.c: the mapper's compile phase. core.map.compile(spec) turns a Lua
 * spec table into a C program (map.h) held by a "mallapi.Mapper" userdata, with the
 * spec's Lua values (constants, defaults, enum tables, functions) in a value table
 * kept in the registry. A bad spec raises "mapper: field 'x': ...". */
#include "bind_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Store the value at stack index idx in the value table; returns its slot. */
static int compile_keep(map_compiler *c, int idx) {
    lua_State *L = c->L;
    idx = lua_absindex(L, idx);
    lua_pushvalue(L, idx);
    lua_rawseti(L, c->values, ++c->nvalues);
    return c->nvalues;
}

static int compile_fail(map_compiler *c, const char *field, const char *msg) {
    snprintf(c->err, sizeof c->err, "field '%s': %s", field, msg);
    return -1;
}

static int compile_program(map_compiler *c, int spec, const char *prefix, mallapi_map_program **out);

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keep every key of path as a Lua string in the value table: running then looks keys
 * up with lua_rawget on interned strings, without hashing or comparing C strings. */
static void compile_intern(map_compiler *c, mallapi_map_path *path) {
    for (int i = 0; i < path->nsteps; i++) {
        mallapi_map_step *st = &path->steps[i];
        if (!st->key) continue;
        lua_pushlstring(c->L, st->key, st->key_len);
        st->slot = compile_keep(c, -1);
        lua_pop(c->L, 1);
    }
}

static int compile_path(map_compiler *c, const char *field, mallapi_map_path *path, const char *text) {
    char err[MALLAPI_ERRLEN];
    if (mallapi_map_path_parse(path, text, 0, err) != 0) return compile_fail(c, field, err);
    compile_intern(c, path);
    return 0;
}

/* Source paths from a string or an array of strings (alternatives / join parts). */
static int compile_paths(map_compiler *c, const char *field, mallapi_map_field *f, int idx, const char *what) {
    lua_State *L = c->L;
    if (lua_type(L, idx) == LUA_TSTRING) {
        f->paths = calloc(1, sizeof *f->paths);
        if (!f->paths) return compile_fail(c, field, "out of memory");
        f->npaths = 1;
        return compile_path(c, field, &f->paths[0], lua_tostring(L, idx));
    }
    if (lua_type(L, idx) != LUA_TTABLE) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s must be a path or a list of paths, got %s", what, luaL_typename(L, idx));
        return compile_fail(c, field, msg);
    }
    int n = (int)lua_rawlen(L, idx);
    if (n < 1) return compile_fail(c, field, "empty list of paths");
    f->paths = calloc((size_t)n, sizeof *f->paths);
    if (!f->paths) return compile_fail(c, field, "out of memory");
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            return compile_fail(c, field, "a list of paths holds strings only");
        }
        int rc = compile_path(c, field, &f->paths[f->npaths], lua_tostring(L, -1));
        lua_pop(L, 1);
        if (rc) return -1;
        f->npaths++;
    }
    return 0;
}

/* Converter from a name or {name, offset=, scale=}. */
int bind_map_compile_conv(map_compiler *c, const char *field, mallapi_map_field *f, int idx) {
    lua_State *L = c->L;
    const char *name = NULL;
    char msg[400];
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING) {
        name = lua_tostring(L, idx);
    } else if (lua_type(L, idx) == LUA_TTABLE) {
        lua_rawgeti(L, idx, 1);
        if (lua_type(L, -1) == LUA_TSTRING) name = lua_tostring(L, -1);
        lua_pop(L, 1);                              /* the string stays anchored by the table */
        if (!name) return compile_fail(c, field, "a converter table starts with the converter name");
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) == LUA_TNUMBER) continue;
            const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
            if (strcmp(k, "offset") != 0 && strcmp(k, "scale") != 0) {
                lua_pop(L, 1);
                snprintf(msg, sizeof msg, "converter '%s': unknown option '%s'", name, k);
                return compile_fail(c, field, msg);
            }
        }
        lua_getfield(L, idx, "offset");
        if (!lua_isnil(L, -1)) {
            char err[MALLAPI_ERRLEN];
            if (lua_type(L, -1) != LUA_TSTRING)
                snprintf(err, sizeof err, "offset must be a string like \"+08:00\"");
            else {
                size_t olen;
                const char *o = lua_tolstring(L, -1, &olen);
                if (mallapi_clock_parse_offset(o, olen, &f->offset_min))
                    snprintf(err, sizeof err, "offset '%.40s': want +HH:MM within +-18:00", o);
                else err[0] = '\0';
            }
            if (err[0]) {
                lua_pop(L, 1);
                snprintf(msg, sizeof msg, "converter '%s': %s", name, err);
                return compile_fail(c, field, msg);
            }
        }
        lua_pop(L, 1);
        lua_getfield(L, idx, "scale");
        if (!lua_isnil(L, -1)) {
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0 || lua_tointeger(L, -1) > 9) {
                lua_pop(L, 1);
                snprintf(msg, sizeof msg, "converter '%s': scale must be an integer 0..9", name);
                return compile_fail(c, field, msg);
            }
            f->scale = (int)lua_tointeger(L, -1);
        }
        lua_pop(L, 1);
    } else {
        snprintf(msg, sizeof msg, "converter must be a name or a table, got %s", luaL_typename(L, idx));
        return compile_fail(c, field, msg);
    }
    int kind = mallapi_map_conv_lookup(name);
    if (kind < 0) {
        snprintf(msg, sizeof msg, "unknown converter '%.60s'", name);
        return compile_fail(c, field, msg);
    }
    f->conv = (mallapi_conv_kind)kind;
    return 0;
}

/* Numeric and time converters read "" as a missing value. */
int bind_map_empty_is_missing(mallapi_conv_kind k) {
    return k != MALLAPI_CONV_NONE && k != MALLAPI_CONV_STRING && k != MALLAPI_CONV_ID_STRING &&
           k != MALLAPI_CONV_TRIM;
}

/* 1: dst[key] = src[key]; 2: the same through a converter; 0: the general path. */
static int compile_is_simple(const mallapi_map_field *f) {
    int plain = f->src == MALLAPI_SRC_PATH && f->npaths == 1 && f->paths[0].nsteps == 1 &&
                f->paths[0].steps[0].key && f->target.nsteps == 1 && !f->enum_slot &&
                !f->fn_slot && !f->sub && !f->each && !f->split && !f->default_slot && !f->skip_empty;
    if (!plain) return 0;
    if (!f->conv) return f->required ? 0 : 1;
    return bind_map_empty_is_missing(f->conv) ? 2 : 0;
}

static const char *const field_options[] = {
    "conv", "required", "default", "const", "enum", "enum_default", "each", "fields",
    "join", "sep", "split", "fn", "skip_empty", "list", "uses", NULL
};

/* Compile one field whose spec value is at stack index v. */
static int compile_field(map_compiler *c, const char *field, mallapi_map_field *f, int v) {
    lua_State *L = c->L;
    char msg[160];
    f->scale = 2;
    f->offset_min = 8 * 60;
    f->src = MALLAPI_SRC_PATH;
    if (lua_type(L, v) == LUA_TSTRING) {
        if (compile_paths(c, field, f, v, "source")) return -1;
        f->simple = compile_is_simple(f);
        return 0;
    }
    if (lua_type(L, v) == LUA_TFUNCTION) {
        f->src = MALLAPI_SRC_SELF;
        f->fn_slot = compile_keep(c, v);
        return 0;
    }
    if (lua_type(L, v) != LUA_TTABLE) {
        snprintf(msg, sizeof msg, "want a source path, a table or a function, got %s", luaL_typename(L, v));
        return compile_fail(c, field, msg);
    }
    /* Unknown option names are errors (a typo must not silently drop a field). */
    lua_pushnil(L);
    while (lua_next(L, v)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TNUMBER) {
            lua_Number k = lua_tonumber(L, -1);
            if (k == 1 || k == 2) continue;
            lua_pop(L, 1);
            return compile_fail(c, field, "only [1] (source) and [2] (converter) are positional");
        }
        if (lua_type(L, -1) != LUA_TSTRING) { lua_pop(L, 1); return compile_fail(c, field, "option names are strings"); }
        const char *k = lua_tostring(L, -1);
        int known = 0;
        for (int i = 0; field_options[i]; i++) if (strcmp(field_options[i], k) == 0) known = 1;
        if (!known) {
            snprintf(msg, sizeof msg, "unknown option '%.40s'", k);
            lua_pop(L, 1);
            return compile_fail(c, field, msg);
        }
    }
    int has_path = 0;
    lua_rawgeti(L, v, 1);
    if (!lua_isnil(L, -1)) {
        if (compile_paths(c, field, f, lua_gettop(L), "source")) { lua_pop(L, 1); return -1; }
        has_path = 1;
    }
    lua_pop(L, 1);

    lua_getfield(L, v, "each");
    if (!lua_isnil(L, -1)) {
        if (has_path) { lua_pop(L, 1); return compile_fail(c, field, "give the array either as [1] or as each, not both"); }
        if (compile_paths(c, field, f, lua_gettop(L), "each")) { lua_pop(L, 1); return -1; }
        has_path = 1;
        f->each = 1;
    }
    lua_pop(L, 1);

    lua_getfield(L, v, "const");
    if (!lua_isnil(L, -1)) {
        if (has_path) { lua_pop(L, 1); return compile_fail(c, field, "const takes no source path"); }
        f->src = MALLAPI_SRC_CONST;
        f->const_slot = compile_keep(c, -1);
    }
    lua_pop(L, 1);

    lua_getfield(L, v, "join");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) == LUA_TTABLE) {
            if (has_path) { lua_pop(L, 1); return compile_fail(c, field, "join = {paths} takes no [1] source"); }
            if (compile_paths(c, field, f, lua_gettop(L), "join")) { lua_pop(L, 1); return -1; }
            f->src = MALLAPI_SRC_JOIN;
            has_path = 1;
        } else if (lua_type(L, -1) == LUA_TSTRING) {   /* join the source array with this separator */
            if (!has_path) { lua_pop(L, 1); return compile_fail(c, field, "join = \"sep\" needs a source array path"); }
            f->sep = strdup(lua_tostring(L, -1));
            f->src = MALLAPI_SRC_JOIN;
        } else {
            lua_pop(L, 1);
            return compile_fail(c, field, "join must be a list of paths or a separator string");
        }
    }
    lua_pop(L, 1);

    lua_getfield(L, v, "sep");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING || f->src != MALLAPI_SRC_JOIN || f->sep) {
            lua_pop(L, 1);
            return compile_fail(c, field, "sep is a string given with join = {paths}");
        }
        f->sep = strdup(lua_tostring(L, -1));
    }
    lua_pop(L, 1);

    lua_getfield(L, v, "split");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0 || !has_path || f->src == MALLAPI_SRC_JOIN || f->each) {
            lua_pop(L, 1);
            return compile_fail(c, field, "split is a non-empty separator string given with a source path");
        }
        f->sep = strdup(lua_tostring(L, -1));
        f->split = 1;
    }
    lua_pop(L, 1);

    lua_getfield(L, v, "fn");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TFUNCTION) { lua_pop(L, 1); return compile_fail(c, field, "fn must be a function"); }
        if (f->src == MALLAPI_SRC_CONST || f->src == MALLAPI_SRC_JOIN || f->each)
            { lua_pop(L, 1); return compile_fail(c, field, "fn goes with a plain source path or none"); }
        f->fn_slot = compile_keep(c, -1);
        if (!has_path) f->src = MALLAPI_SRC_SELF;
        has_path = 1;
    }
    lua_pop(L, 1);

    lua_getfield(L, v, "uses");                       /* what fn reads of src (for mapper:decode) */
    if (!lua_isnil(L, -1)) {
        if (!f->fn_slot) { lua_pop(L, 1); return compile_fail(c, field, "uses goes with fn"); }
        mallapi_map_field tmp;
        memset(&tmp, 0, sizeof tmp);
        int rc = compile_paths(c, field, &tmp, lua_gettop(L), "uses");
        f->uses = tmp.paths;
        f->nuses = tmp.npaths;
        if (rc) { lua_pop(L, 1); return -1; }
    }
    lua_pop(L, 1);

    lua_getfield(L, v, "fields");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TTABLE) { lua_pop(L, 1); return compile_fail(c, field, "fields must be a table"); }
        if (f->src != MALLAPI_SRC_PATH || f->split || f->fn_slot)
            { lua_pop(L, 1); return compile_fail(c, field, "fields goes with a source path, each, or nothing"); }
        if (!has_path) f->src = MALLAPI_SRC_SELF;
        has_path = 1;
        if (c->depth >= MAP_MAX_DEPTH - 1) { lua_pop(L, 1); return compile_fail(c, field, "fields nested deeper than 31 levels"); }
        c->depth++;
        int rc = compile_program(c, lua_gettop(L), field, &f->sub);
        c->depth--;
        if (rc) { lua_pop(L, 1); return -1; }
    }
    lua_pop(L, 1);

    if (!has_path && f->src != MALLAPI_SRC_CONST)
        return compile_fail(c, field, "no source: give a path, const, join, each, fields or fn");

    lua_rawgeti(L, v, 2);
    if (!lua_isnil(L, -1)) {
        if (bind_map_compile_conv(c, field, f, -1)) { lua_pop(L, 1); return -1; }
    }
    lua_pop(L, 1);
    lua_getfield(L, v, "conv");
    if (!lua_isnil(L, -1)) {
        if (f->conv) { lua_pop(L, 1); return compile_fail(c, field, "give the converter either as [2] or as conv, not both"); }
        if (bind_map_compile_conv(c, field, f, -1)) { lua_pop(L, 1); return -1; }
    }
    lua_pop(L, 1);
    if (f->conv && f->sub) return compile_fail(c, field, "a converter does not apply to fields");

    lua_getfield(L, v, "enum");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TTABLE) { lua_pop(L, 1); return compile_fail(c, field, "enum must be a table of code = value"); }
        if (f->sub) { lua_pop(L, 1); return compile_fail(c, field, "enum does not apply to fields"); }
        f->enum_slot = compile_keep(c, -1);
    }
    lua_pop(L, 1);
    lua_getfield(L, v, "enum_default");
    if (!lua_isnil(L, -1)) {
        if (!f->enum_slot) { lua_pop(L, 1); return compile_fail(c, field, "enum_default without enum"); }
        f->enum_default_slot = compile_keep(c, -1);
    }
    lua_pop(L, 1);

    lua_getfield(L, v, "default");
    if (!lua_isnil(L, -1)) f->default_slot = compile_keep(c, -1);
    lua_pop(L, 1);
    lua_getfield(L, v, "required");
    f->required = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, v, "list");
    f->as_list = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (f->as_list && (!f->sub || f->each)) return compile_fail(c, field, "list = true goes with fields (not each)");
    lua_getfield(L, v, "skip_empty");
    f->skip_empty = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (f->required && f->default_slot) return compile_fail(c, field, "required and default exclude each other");
    f->simple = compile_is_simple(f);
    return 0;
}

/* Compile the spec table at stack index spec (field name -> field spec). */
static int compile_program(map_compiler *c, int spec, const char *prefix, mallapi_map_program **out) {
    lua_State *L = c->L;
    int n = 0;
    spec = lua_absindex(L, spec);
    lua_pushnil(L);
    while (lua_next(L, spec)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            if (prefix) return compile_fail(c, prefix, "field names are strings");
            snprintf(c->err, sizeof c->err, "spec keys are target field names (strings)");
            return -1;
        }
        n++;
    }
    if (n == 0) {
        if (prefix) return compile_fail(c, prefix, "empty fields");
        snprintf(c->err, sizeof c->err, "empty spec");
        return -1;
    }
    const char **names = malloc((size_t)n * sizeof *names);
    if (!names) { snprintf(c->err, sizeof c->err, "out of memory"); return -1; }
    int i = 0;
    lua_pushnil(L);
    while (lua_next(L, spec)) { lua_pop(L, 1); names[i++] = lua_tostring(L, -1); }
    qsort(names, (size_t)n, sizeof *names, name_cmp);   /* fixed order: deterministic errors */
    mallapi_map_program *p = mallapi_map_program_new(n);
    if (!p) { free(names); snprintf(c->err, sizeof c->err, "out of memory"); return -1; }
    *out = p;
    for (i = 0; i < n; i++) {
        char full[256];
        if (prefix) snprintf(full, sizeof full, "%s.%s", prefix, names[i]);
        else snprintf(full, sizeof full, "%s", names[i]);
        mallapi_map_field *f = &p->fields[i];
        f->name = strdup(names[i]);
        char err[MALLAPI_ERRLEN];
        if (!f->name) { free(names); snprintf(c->err, sizeof c->err, "out of memory"); return -1; }
        if (mallapi_map_path_parse(&f->target, names[i], 1, err)) {
            free(names);
            return compile_fail(c, full, err);
        }
        compile_intern(c, &f->target);
        lua_getfield(L, spec, names[i]);
        int rc = compile_field(c, full, f, lua_gettop(L));
        lua_pop(L, 1);
        if (rc) { free(names); return -1; }
    }
    free(names);
    return 0;
}

/* core.map.compile(spec) -> mapper; a bad spec raises "mapper: field 'x': ..." */
int bind_map_compile(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    map_mapper *m = lua_newuserdata(L, sizeof *m);   /* userdata first: __gc frees a half-built one */
    m->prog = NULL;
    m->values_ref = LUA_NOREF;
    m->plan = NULL;
    m->array_mt_slot = m->number_slot = 0;
    luaL_setmetatable(L, MALLAPI_MT_MAPPER);
    lua_newtable(L);                                  /* spec mapper values */
    map_compiler c;
    c.L = L;
    c.values = lua_gettop(L);
    c.nvalues = 0;
    c.depth = 0;
    c.err[0] = '\0';
    if (compile_program(&c, 1, NULL, &m->prog) != 0) {
        lua_pushfstring(L, "mapper: %s", c.err);
        return lua_error(L);
    }
    if (lua_istable(L, 2)) {                          /* the JSON codec's array mark and raw numbers */
        lua_getfield(L, 2, "array_mt");
        if (lua_istable(L, -1)) m->array_mt_slot = compile_keep(&c, -1);
        lua_pop(L, 1);
        lua_getfield(L, 2, "number");
        if (lua_isfunction(L, -1)) m->number_slot = compile_keep(&c, -1);
        lua_pop(L, 1);
    }
    m->values_ref = luaL_ref(L, LUA_REGISTRYINDEX);   /* spec mapper */
    return 1;
}
