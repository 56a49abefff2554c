/* bind_map.c: Lua binding of the field mapper. core.map.compile(spec) turns a Lua
 * spec table into a C program (map.h) held by a "mallapi.Mapper" userdata, with the
 * spec's Lua values (constants, defaults, enum tables, functions) in a registry
 * table; calling the mapper runs the program over decoded Lua tables. Errors name the
 * target field and the source path ("field 'lines[2].price': required source
 * 'items[2].price' missing"). */
#include "bind.h"
#include "mallapi.h"
#include "map.h"
#include "clock.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdarg.h>

#define MAPPER_MT "mallapi.Mapper"
#define MAP_MAX_DEPTH 32

typedef struct {
    mallapi_map_program *prog;
    int values_ref;             /* registry ref of the value table, LUA_NOREF when none */
    mallapi_map_plan *plan;     /* how mapper:decode streams the program, made on first use */
    int array_mt_slot;          /* json.array_mt in the value table (0: none): marks arrays */
    int number_slot;            /* json.number (0: none): ids beyond 2^53 on LuaJIT */
} map_mapper;

/* ------------------------------------------------------------------ compile */

typedef struct {
    lua_State *L;
    int values;                 /* stack index of the value table */
    int nvalues;
    int depth;                  /* nesting of fields = {...}, bounded (a spec may loop) */
    char err[1024];
} map_compiler;

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
static int compile_conv(map_compiler *c, const char *field, mallapi_map_field *f, int idx) {
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
static int conv_empty_is_missing(mallapi_conv_kind k) {
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
    return conv_empty_is_missing(f->conv) ? 2 : 0;
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
        if (compile_conv(c, field, f, -1)) { lua_pop(L, 1); return -1; }
    }
    lua_pop(L, 1);
    lua_getfield(L, v, "conv");
    if (!lua_isnil(L, -1)) {
        if (f->conv) { lua_pop(L, 1); return compile_fail(c, field, "give the converter either as [2] or as conv, not both"); }
        if (compile_conv(c, field, f, -1)) { lua_pop(L, 1); return -1; }
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

static int mapper_gc(lua_State *L) {
    map_mapper *m = luaL_checkudata(L, 1, MAPPER_MT);
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

/* core.map.compile(spec) -> mapper; a bad spec raises "mapper: field 'x': ..." */
static int map_compile(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    map_mapper *m = lua_newuserdata(L, sizeof *m);   /* userdata first: __gc frees a half-built one */
    m->prog = NULL;
    m->values_ref = LUA_NOREF;
    m->plan = NULL;
    m->array_mt_slot = m->number_slot = 0;
    luaL_setmetatable(L, MAPPER_MT);
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

/* ------------------------------------------------------------------ run */

typedef struct {
    const char *target;         /* target field name */
    const char *source;         /* source path text, NULL for none */
    long index;                 /* array element (1-based), 0 for an object */
} map_frame;

typedef struct {
    lua_State *L;
    int values;                 /* stack index of the value table */
    int depth;
    long elem;                  /* element of a scalar array being converted, 0 when none */
    int array_mt_slot, number_slot;
    map_frame frames[MAP_MAX_DEPTH];
    char err[MALLAPI_ERRLEN * 3];
} map_run;

/* "lines[2].price" from the frames plus the current field name. */
static void run_names(map_run *r, const char *last_t, const char *last_s, char *tbuf, char *sbuf, size_t size) {
    size_t to = 0, so = 0;
    tbuf[0] = sbuf[0] = '\0';
    for (int i = 0; i < r->depth; i++) {
        map_frame *fr = &r->frames[i];
        to += (size_t)snprintf(tbuf + to, size - to, "%s", fr->target);
        if (to >= size) to = size - 1;
        if (fr->source) {
            so += (size_t)snprintf(sbuf + so, size - so, "%s", fr->source);
            if (so >= size) so = size - 1;
        }
        if (fr->index) {
            to += (size_t)snprintf(tbuf + to, size - to, "[%ld]", fr->index);
            if (to >= size) to = size - 1;
            if (fr->source) {
                so += (size_t)snprintf(sbuf + so, size - so, "[%ld]", fr->index);
                if (so >= size) so = size - 1;
            }
        }
        to += (size_t)snprintf(tbuf + to, size - to, ".");
        if (to >= size) to = size - 1;
        if (fr->source) {
            so += (size_t)snprintf(sbuf + so, size - so, ".");
            if (so >= size) so = size - 1;
        }
    }
    snprintf(tbuf + to, size - to, "%s", last_t);
    if (last_s) snprintf(sbuf + so, size - so, "%s", last_s);
    else if (so) sbuf[so - 1] = '\0';
}

/* "field 'lines[2].price': <message>" */
static int run_fail(map_run *r, const mallapi_map_field *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int run_fail(map_run *r, const mallapi_map_field *f, const char *fmt, ...) {
    char t[200], s[200], msg[MALLAPI_ERRLEN * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    run_names(r, f->name, NULL, t, s, sizeof t);
    if (r->elem) snprintf(r->err, sizeof r->err, "field '%s[%ld]': %s", t, r->elem, msg);
    else snprintf(r->err, sizeof r->err, "field '%s': %s", t, msg);
    return -1;
}

/* The same with the field's full source path: "<before>'<source><suffix>'<after>". */
static int run_fail_src(map_run *r, const mallapi_map_field *f, const char *before,
                        const char *suffix, const char *after) {
    char t[200], s[200];
    run_names(r, f->name, f->npaths ? f->paths[0].text : NULL, t, s, sizeof t);
    return run_fail(r, f, "%s'%s%s'%s", before, s, suffix, after);
}

static int is_missing(lua_State *L, int idx) {
    int t = lua_type(L, idx);
    return t == LUA_TNIL || (t == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL);
}

/* Push the value at path below the table at src (nil when any step is missing). */
static void run_push_path(lua_State *L, int values, int src, const mallapi_map_path *path) {
    const mallapi_map_step *st = &path->steps[0];
    if (path->nsteps == 1 && st->key) {               /* the common case: one key */
        lua_rawgeti(L, values, st->slot);
        lua_rawget(L, src);
        return;
    }
    lua_pushvalue(L, src);
    for (int i = 0; i < path->nsteps; i++, st++) {
        if (lua_type(L, -1) != LUA_TTABLE) { lua_pop(L, 1); lua_pushnil(L); return; }
        if (st->key) { lua_rawgeti(L, values, st->slot); lua_rawget(L, -2); }
        else lua_rawgeti(L, -1, st->index);
        lua_replace(L, -2);
    }
}

/* ---- scalar access: text or integer of the value at idx */

#if MALLAPI_HAS_INT64
#define MAP_INT_EXACT(v) 1
#else
#define MAP_INT_EXACT(v) ((v) >= -9007199254740992LL && (v) <= 9007199254740992LL)
#endif

/* luaL_tolstring for both runtimes (LuaJIT lacks it): pushes the value's text. */
static const char *map_tolstring(lua_State *L, int idx, size_t *len) {
    idx = lua_absindex(L, idx);
    if (luaL_callmeta(L, idx, "__tostring")) {
        if (!lua_isstring(L, -1)) { lua_pop(L, 1); lua_pushliteral(L, "?"); }
    } else {
        switch (lua_type(L, idx)) {
        case LUA_TNUMBER: case LUA_TSTRING: lua_pushvalue(L, idx); break;
        case LUA_TBOOLEAN: lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false"); break;
        case LUA_TNIL: lua_pushliteral(L, "nil"); break;
        default: lua_pushstring(L, luaL_typename(L, idx)); break;
        }
    }
    return lua_tolstring(L, -1, len);
}

/* Text of a string or raw number at idx; NULL for other types. */
static const char *run_text(lua_State *L, int idx, size_t *len) {
    int t = lua_type(L, idx);
    if (t == LUA_TSTRING) return lua_tolstring(L, idx, len);
    if (t == LUA_TUSERDATA && luaL_testudata(L, idx, MALLAPI_MT_RAWNUMBER)) {
        map_tolstring(L, idx, len);                 /* pushes the exact digits */
        lua_replace(L, idx);
        return lua_tolstring(L, idx, len);
    }
    return NULL;
}

/* Decimal text -> integer at scale, the error naming the converter `what`. */
static int decimal_for(const mallapi_map_field *f, const char *s, size_t len, int scale,
                       int64_t *out, const char *what, char *err) {
    int rc = mallapi_money_to_minor(s, len, scale, out, err);
    if (rc && strncmp(err, "money_to_minor", 14) == 0) {
        char tmp[MALLAPI_ERRLEN];
        snprintf(tmp, sizeof tmp, "%s%s", what, err + 14);
        if (f->conv != MALLAPI_CONV_MONEY_TO_MINOR && scale == 0) {
            char *more = strstr(tmp, " has more than 0 decimals");
            if (more) strcpy(more, " is not an integer");
        }
        memcpy(err, tmp, MALLAPI_ERRLEN);
    }
    return rc;
}

/* The value at idx as an integer scaled by 10^scale (number, decimal text, raw number). */
static int run_scaled(map_run *r, const mallapi_map_field *f, int idx, int scale, int64_t *out, const char *what) {
    lua_State *L = r->L;
    char err[MALLAPI_ERRLEN];
    static const int64_t pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000 };
    if (lua_type(L, idx) == LUA_TNUMBER) {
#if MALLAPI_HAS_INT64
        if (lua_isinteger(L, idx)) {
            lua_Integer v = lua_tointeger(L, idx);
            if (v > INT64_MAX / pow10[scale] || v < INT64_MIN / pow10[scale])
                return run_fail(r, f, "%s: value out of range", what);
            *out = (int64_t)v * pow10[scale];
            return 0;
        }
#endif
        double d = lua_tonumber(L, idx);
        if (!isfinite(d)) return run_fail(r, f, "%s: not a finite number", what);
        /* Fast exact path: n/10^scale is the nearest double to the decimal n/10^scale, so
         * when it equals d, d's shortest decimal text has at most scale decimals. */
        double scaled = d * (double)pow10[scale];
        if (fabs(scaled) < 4503599627370496.0) {
            double n = nearbyint(scaled);
            if (n / (double)pow10[scale] == d) { *out = (int64_t)n; return 0; }
        }
        char buf[32];
        size_t n = mallapi_json_fmt_double(d, buf, 0);
        if (decimal_for(f, buf, n, scale, out, what, err) == 0) return 0;
        return run_fail(r, f, "%s", err);
    }
    size_t len;
    const char *s = run_text(L, idx, &len);
    if (!s) {
        char m[64];
        snprintf(m, sizeof m, "%s: want a number or a string, got %s", what, luaL_typename(L, idx));
        return run_fail(r, f, "%s", m);
    }
    if (decimal_for(f, s, len, scale, out, what, err)) return run_fail(r, f, "%s", err);
    return 0;
}

/* Decimal text of v (snprintf is slow for the many ids of a document). */
static size_t map_int_text(int64_t v, char *buf) {
    char tmp[24];
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    int n = 0;
    do { tmp[n++] = (char)('0' + mag % 10); mag /= 10; } while (mag);
    size_t o = 0;
    if (v < 0) buf[o++] = '-';
    while (n) buf[o++] = tmp[--n];
    buf[o] = '\0';
    return o;
}

static void run_push_int(lua_State *L, int64_t v) {
    if (MAP_INT_EXACT(v)) {
#if MALLAPI_HAS_INT64
        lua_pushinteger(L, (lua_Integer)v);
#else
        lua_pushnumber(L, (lua_Number)v);
#endif
    } else {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)v);
        lua_pushstring(L, buf);
    }
}

static int run_bool(map_run *r, const mallapi_map_field *f, int idx, int *out) {
    lua_State *L = r->L;
    int t = lua_type(L, idx);
    if (t == LUA_TBOOLEAN) { *out = lua_toboolean(L, idx); return 0; }
    if (t == LUA_TNUMBER) {
        lua_Number n = lua_tonumber(L, idx);
        if (n == 0 || n == 1) { *out = n == 1; return 0; }
    } else if (t == LUA_TSTRING) {
        const char *s = lua_tostring(L, idx);
        if (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "TRUE") || !strcmp(s, "True")) { *out = 1; return 0; }
        if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "FALSE") || !strcmp(s, "False")) { *out = 0; return 0; }
    }
    lua_pushvalue(L, idx);
    const char *shown = map_tolstring(L, -1, NULL);
    char m[96];
    snprintf(m, sizeof m, "bool: '%.40s' is not 0/1/true/false", shown);
    lua_pop(L, 2);
    return run_fail(r, f, "%s", m);
}

/* Exact text of a scalar: integers without ".0", doubles shortest, raw numbers as written. */
static int run_push_text(map_run *r, const mallapi_map_field *f, int idx, int id_only) {
    lua_State *L = r->L;
    char buf[32];
    int t = lua_type(L, idx);
    if (t == LUA_TSTRING) { lua_pushvalue(L, idx); return 0; }
    if (t == LUA_TNUMBER) {
#if MALLAPI_HAS_INT64
        if (lua_isinteger(L, idx)) {
            lua_pushlstring(L, buf, map_int_text((int64_t)lua_tointeger(L, idx), buf));
            return 0;
        }
#endif
        double d = lua_tonumber(L, idx);
        if (d == floor(d) && fabs(d) < 9.2e18) {
            map_int_text((int64_t)d, buf);
        } else {
            if (id_only) return run_fail(r, f, "id_string: %s is not an integer", lua_tostring(L, idx));
            buf[mallapi_json_fmt_double(d, buf, 0)] = '\0';
        }
        lua_pushstring(L, buf);
        return 0;
    }
    size_t len;
    if (run_text(L, idx, &len)) { lua_pushvalue(L, idx); return 0; }
    if (t == LUA_TBOOLEAN && !id_only) { lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false"); return 0; }
    char m[80];
    snprintf(m, sizeof m, "%s: want a scalar, got %s", id_only ? "id_string" : "string", luaL_typename(L, idx));
    return run_fail(r, f, "%s", m);
}

/* Replace the value on top of the stack by its conversion. */
static int run_convert(map_run *r, const mallapi_map_field *f) {
    lua_State *L = r->L;
    int top = lua_gettop(L);
    int64_t v;
    char buf[40];
    switch (f->conv) {
    case MALLAPI_CONV_NONE:
        return 0;
    case MALLAPI_CONV_STRING:
    case MALLAPI_CONV_ID_STRING:
        if (run_push_text(r, f, top, f->conv == MALLAPI_CONV_ID_STRING)) return -1;
        break;
    case MALLAPI_CONV_ID_NUMBER:
    case MALLAPI_CONV_INT:
    case MALLAPI_CONV_MS:
        if (run_scaled(r, f, top, 0, &v, mallapi_map_conv_name(f->conv))) return -1;
        if (f->conv == MALLAPI_CONV_INT && !MAP_INT_EXACT(v))
            return run_fail(r, f, "int: %s is beyond 2^53 on this Lua (use id_string)", lua_tostring(L, top));
        if (!MAP_INT_EXACT(v) && r->number_slot) {   /* LuaJIT: a raw number keeps the digits */
            lua_rawgeti(L, r->values, r->number_slot);
            lua_pushlstring(L, buf, map_int_text(v, buf));
            if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
                lua_settop(L, top);
                return run_fail(r, f, "id_number: json.number failed");
            }
            break;
        }
        run_push_int(L, v);
        break;
    case MALLAPI_CONV_NUMBER: {
        if (lua_type(L, top) == LUA_TNUMBER) return 0;
        size_t len;
        const char *s = run_text(L, top, &len);
        char *end = NULL;
        double d = s ? strtod(s, &end) : 0;
        if (!s || len == 0 || end != s + len) return run_fail(r, f, "number: '%s' is not a number", s ? s : luaL_typename(L, top));
        lua_pushnumber(L, d);
        break;
    }
    case MALLAPI_CONV_BOOL:
    case MALLAPI_CONV_BOOL_INT: {
        int b = 0;
        if (run_bool(r, f, top, &b)) return -1;
        if (f->conv == MALLAPI_CONV_BOOL) lua_pushboolean(L, b);
        else run_push_int(L, b);
        break;
    }
    case MALLAPI_CONV_MONEY_TO_MINOR:
        if (run_scaled(r, f, top, f->scale, &v, "money_to_minor")) return -1;
        run_push_int(L, v);
        break;
    case MALLAPI_CONV_MINOR_TO_MONEY:
    case MALLAPI_CONV_MINOR_TO_MONEY_STRING: {
        if (run_scaled(r, f, top, 0, &v, mallapi_map_conv_name(f->conv))) return -1;
        size_t n = mallapi_minor_to_money(v, f->scale, buf);
        if (f->conv == MALLAPI_CONV_MINOR_TO_MONEY_STRING) { lua_pushlstring(L, buf, n); break; }
        int64_t unit = 1;
        for (int i = 0; i < f->scale; i++) unit *= 10;
        if (v % unit == 0) run_push_int(L, v / unit);
        else lua_pushnumber(L, strtod(buf, NULL));
        break;
    }
    case MALLAPI_CONV_S_TO_MS:
        if (run_scaled(r, f, top, 3, &v, "s_to_ms")) return -1;
        run_push_int(L, v);
        break;
    case MALLAPI_CONV_MS_TO_S:
        if (run_scaled(r, f, top, 0, &v, "ms_to_s")) return -1;
        run_push_int(L, v >= 0 ? v / 1000 : -((-v + 999) / 1000));
        break;
    case MALLAPI_CONV_MS_STRING:
        if (run_scaled(r, f, top, 0, &v, "ms_string")) return -1;
        snprintf(buf, sizeof buf, "%lld", (long long)v);
        lua_pushstring(L, buf);
        break;
    case MALLAPI_CONV_AUTO_MS:
        if (run_scaled(r, f, top, 0, &v, "auto_ms")) return -1;
        if (v > -100000000000LL && v < 100000000000LL) v *= 1000;
        run_push_int(L, v);
        break;
    case MALLAPI_CONV_DATETIME_TO_MS: {
        size_t len;
        const char *s = lua_type(L, top) == LUA_TSTRING ? lua_tolstring(L, top, &len) : NULL;
        char err[MALLAPI_ERRLEN];
        if (!s) return run_fail(r, f, "datetime_to_ms: want a string, got %s", luaL_typename(L, top));
        if (mallapi_clock_parse_loose(s, len, f->offset_min, &v, err)) return run_fail(r, f, "%s", err);
        run_push_int(L, v);
        break;
    }
    case MALLAPI_CONV_MS_TO_DATETIME:
        if (run_scaled(r, f, top, 0, &v, "ms_to_datetime")) return -1;
        if (mallapi_clock_format(v, f->offset_min, buf))
            return run_fail(r, f, "ms_to_datetime: %lld is outside the years 0001-9999", (long long)v);
        lua_pushlstring(L, buf, 19);
        break;
    case MALLAPI_CONV_TRIM: {
        size_t len;
        const char *s = run_text(L, top, &len);
        if (!s) return run_fail(r, f, "trim: want a string, got %s", luaL_typename(L, top));
        const char *e = s + len;
        while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) e--;
        lua_pushlstring(L, s, (size_t)(e - s));
        break;
    }
    default:
        return run_fail(r, f, "internal: bad converter");
    }
    lua_replace(L, top);
    lua_settop(L, top);
    return 0;
}


/* Enum lookup of the top value; codes are tried as given, then as number/text. */
static int run_enum(map_run *r, const mallapi_map_field *f) {
    lua_State *L = r->L;
    int top = lua_gettop(L);
    lua_rawgeti(L, r->values, f->enum_slot);         /* value enum */
    lua_pushvalue(L, top);
    lua_rawget(L, -2);                                /* value enum mapped */
    if (lua_isnil(L, -1) && (lua_type(L, top) == LUA_TNUMBER || lua_type(L, top) == LUA_TSTRING)) {
        lua_pop(L, 1);
        if (lua_type(L, top) == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, top, &len);
            char *end = NULL;
            double d = len ? strtod(s, &end) : 0;
            if (len && end == s + len) lua_pushnumber(L, d); else lua_pushnil(L);
        } else {
            lua_pushvalue(L, top);
            lua_tostring(L, -1);                      /* number -> its text (copy) */
        }
        if (lua_isnil(L, -1)) lua_pushnil(L); else lua_rawget(L, -2);
    }
    if (lua_isnil(L, -1)) {
        if (f->enum_default_slot) {
            lua_pop(L, 1);
            lua_rawgeti(L, r->values, f->enum_default_slot);
        } else {
            lua_pushvalue(L, top);
            const char *code = map_tolstring(L, -1, NULL);
            char m[96];
            snprintf(m, sizeof m, "unknown code '%.40s' (no enum_default)", code);
            lua_settop(L, top);
            return run_fail(r, f, "%s", m);
        }
    }
    lua_replace(L, top);
    lua_settop(L, top);
    return 0;
}

/* Store the top value into dst at the field's (possibly dotted) target; pops it. */
static void run_store(lua_State *L, int values, int dst, const mallapi_map_field *f) {
    const mallapi_map_path *t = &f->target;
    if (t->nsteps == 1) {
        lua_rawgeti(L, values, t->steps[0].slot);
        lua_insert(L, -2);
        lua_rawset(L, dst);
        return;
    }
    int value = lua_gettop(L);
    lua_pushvalue(L, dst);
    for (int i = 0; i < t->nsteps - 1; i++) {
        lua_rawgeti(L, values, t->steps[i].slot);
        lua_rawget(L, -2);
        if (lua_type(L, -1) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_rawgeti(L, values, t->steps[i].slot);
            lua_pushvalue(L, -2);
            lua_rawset(L, -4);
        }
        lua_replace(L, -2);
    }
    lua_rawgeti(L, values, t->steps[t->nsteps - 1].slot);
    lua_pushvalue(L, value);
    lua_rawset(L, -3);
    lua_settop(L, value - 1);
}

static int run_program(map_run *r, const mallapi_map_program *p, int src, int dst);

/* Mark the table on top as a JSON array (encodes as [] even when empty). */
static void run_mark_array(map_run *r) {
    if (!r->array_mt_slot) return;
    lua_rawgeti(r->L, r->values, r->array_mt_slot);
    lua_setmetatable(r->L, -2);
}

/* Convert + enum one scalar on top of the stack. */
static int run_scalar(map_run *r, const mallapi_map_field *f) {
    if (f->conv && run_convert(r, f)) return -1;
    if (f->enum_slot && run_enum(r, f)) return -1;
    return 0;
}

/* Join: the present parts (or the elements of one array) as text with sep. */
static int run_join(map_run *r, const mallapi_map_field *f, int src) {
    lua_State *L = r->L;
    luaL_Buffer b;
    int first = 1;
    const char *sep = f->sep ? f->sep : "";
    int top = lua_gettop(L);
    if (f->npaths == 1 && f->sep && !f->split) {      /* one path: join its array */
        run_push_path(L, r->values, src, &f->paths[0]);
        int arr = lua_gettop(L);
        if (is_missing(L, arr)) return 0;             /* leaves nil on top */
        if (lua_type(L, arr) != LUA_TTABLE) return run_fail_src(r, f, "source ", "", " is not an array");
        int n = (int)lua_rawlen(L, arr);
        luaL_buffinit(L, &b);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, arr, i);
            if (is_missing(L, -1)) { lua_pop(L, 1); continue; }
            if (run_push_text(r, f, lua_gettop(L), 0)) { lua_settop(L, top); return -1; }
            lua_replace(L, -2);
            if (!first) luaL_addstring(&b, sep);
            first = 0;
            luaL_addvalue(&b);
        }
        luaL_pushresult(&b);
        lua_replace(L, arr);
        return 0;
    }
    /* several paths (the buffer sits on the stack: convert each part before adding) */
    lua_pushnil(L);                                   /* result slot */
    int slot = lua_gettop(L);
    int parts = 0;
    for (int i = 0; i < f->npaths; i++) {
        run_push_path(L, r->values, src, &f->paths[i]);
        if (is_missing(L, -1) || (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) == 0)) { lua_pop(L, 1); continue; }
        if (run_push_text(r, f, lua_gettop(L), 0)) { lua_settop(L, top); return -1; }
        lua_replace(L, -2);
        if (parts++) { lua_pushstring(L, sep); lua_insert(L, -2); }
    }
    if (parts) { lua_concat(L, lua_gettop(L) - slot); lua_replace(L, slot); }
    lua_settop(L, slot);
    return 0;
}

/* Split the text on top into an array of (converted) pieces. */
static int run_split(map_run *r, const mallapi_map_field *f) {
    lua_State *L = r->L;
    int top = lua_gettop(L);
    if (lua_type(L, top) != LUA_TSTRING) return run_fail_src(r, f, "split: source ", "", " is not a string");
    size_t len, seplen = strlen(f->sep);
    const char *s = lua_tolstring(L, top, &len), *end = s + len;
    lua_newtable(L);
    run_mark_array(r);
    int n = 0;
    while (len > 0) {
        const char *hit = NULL;
        for (const char *p = s; p + seplen <= end; p++)
            if (memcmp(p, f->sep, seplen) == 0) { hit = p; break; }
        const char *pe = hit ? hit : end;
        lua_pushlstring(L, s, (size_t)(pe - s));
        if (run_scalar(r, f)) return -1;
        lua_rawseti(L, -2, ++n);
        if (!hit) break;
        s = hit + seplen;
    }
    lua_replace(L, top);
    return 0;
}

static int run_push_frame(map_run *r, const mallapi_map_field *f, long index) {
    if (r->depth >= MAP_MAX_DEPTH) return run_fail(r, f, "nested deeper than 32 levels");
    r->frames[r->depth].target = f->name;
    r->frames[r->depth].source = f->npaths ? f->paths[0].text : NULL;
    r->frames[r->depth].index = index;
    r->depth++;
    return 0;
}

static int run_value(map_run *r, const mallapi_map_field *f, int dst, int top);

/* One field: push its value (or nothing when missing and optional) and store it. */
static int run_field(map_run *r, const mallapi_map_field *f, int src, int dst) {
    lua_State *L = r->L;
    if (f->simple == 1) {                             /* dst[key] = src[key] */
        lua_rawgeti(L, r->values, f->target.steps[0].slot);
        lua_rawgeti(L, r->values, f->paths[0].steps[0].slot);
        lua_rawget(L, src);                           /* ... tkey value */
        if (is_missing(L, -1)) lua_pop(L, 2);
        else lua_rawset(L, dst);
        return 0;
    }
    if (f->simple == 2) {                             /* dst[key] = conv(src[key]) */
        int base = lua_gettop(L);
        lua_rawgeti(L, r->values, f->target.steps[0].slot);
        lua_rawgeti(L, r->values, f->paths[0].steps[0].slot);
        lua_rawget(L, src);                           /* ... tkey value */
        int t = lua_type(L, -1);
        if (t == LUA_TNIL || (t == LUA_TLIGHTUSERDATA && !lua_touserdata(L, -1)) ||
            (t == LUA_TSTRING && lua_rawlen(L, -1) == 0)) {
            lua_settop(L, base);
            if (f->required) return run_fail_src(r, f, "required source ", "", " missing");
            return 0;
        }
        if (run_convert(r, f)) { lua_settop(L, base); return -1; }
        lua_rawset(L, dst);
        return 0;
    }
    int top = lua_gettop(L);
    switch (f->src) {
    case MALLAPI_SRC_CONST:
        lua_rawgeti(L, r->values, f->const_slot);
        break;
    case MALLAPI_SRC_JOIN:
        if (run_join(r, f, src)) return -1;
        break;
    case MALLAPI_SRC_SELF:
        lua_pushvalue(L, src);
        break;
    case MALLAPI_SRC_PATH:
        run_push_path(L, r->values, src, &f->paths[0]);
        for (int i = 1; i < f->npaths && is_missing(L, -1); i++) {
            lua_pop(L, 1);
            run_push_path(L, r->values, src, &f->paths[i]);
        }
        break;
    }
    if (f->fn_slot) {                                 /* escape hatch: fn(value, src) or fn(src) */
        lua_rawgeti(L, r->values, f->fn_slot);
        lua_insert(L, -2);
        int nargs = 1;
        if (f->src != MALLAPI_SRC_SELF) { lua_pushvalue(L, src); nargs = 2; }
        if (lua_pcall(L, nargs, 1, 0) != LUA_OK) {
            const char *m = lua_tostring(L, -1);
            int rc = run_fail(r, f, "fn: %s", m ? m : "error object is not a string");
            lua_settop(L, top);
            return rc;
        }
    }
    return run_value(r, f, dst, top);
}

/* The rest of a field once its value is on top of the stack (above `top`): missing
 * values, each, nested fields, split, converter and enum, then the store. */
static int run_value(map_run *r, const mallapi_map_field *f, int dst, int top) {
    lua_State *L = r->L;
    int v = lua_gettop(L);
    int missing = is_missing(L, v) ||
        (lua_type(L, v) == LUA_TSTRING && lua_rawlen(L, v) == 0 &&
         (f->skip_empty || conv_empty_is_missing(f->conv)));
    if (missing) {
        if (f->default_slot) {
            lua_rawgeti(L, r->values, f->default_slot);
            run_store(L, r->values, dst, f);
        } else if (f->required) {
            lua_settop(L, top);
            if (f->npaths) return run_fail_src(r, f, "required source ", "", " missing");
            return run_fail(r, f, "required value missing");
        }
        lua_settop(L, top);
        return 0;
    }
    if (f->each) {
        if (lua_type(L, v) != LUA_TTABLE) {
            lua_settop(L, top);
            return run_fail_src(r, f, "source ", "", " is not an array");
        }
        int n = (int)lua_rawlen(L, v);
        lua_createtable(L, n, 0);                     /* ... src_array out_array */
        run_mark_array(r);
        int out = lua_gettop(L);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, v, i);
            int el = lua_gettop(L);
            if (f->sub) {
                if (lua_type(L, el) != LUA_TTABLE) {
                    char idx[32];
                    snprintf(idx, sizeof idx, "[%d]", i);
                    lua_settop(L, top);
                    return run_fail_src(r, f, "source ", idx, " is not an object");
                }
                lua_createtable(L, 0, f->sub->nfields);
                if (run_push_frame(r, f, i)) { lua_settop(L, top); return -1; }
                int rc = run_program(r, f->sub, el, lua_gettop(L));
                r->depth--;
                if (rc) { lua_settop(L, top); return -1; }
            } else if (!is_missing(L, el)) {
                r->elem = i;
                int rc = run_scalar(r, f);
                r->elem = 0;
                if (rc) { lua_settop(L, top); return -1; }
            } else {
                lua_settop(L, out);                   /* a null element is dropped */
                continue;
            }
            lua_rawseti(L, out, (int)lua_rawlen(L, out) + 1);
            lua_settop(L, out);
        }
        lua_replace(L, v);
        lua_settop(L, v);
        run_store(L, r->values, dst, f);
        lua_settop(L, top);
        return 0;
    }
    if (f->sub) {
        if (lua_type(L, v) != LUA_TTABLE) {
            lua_settop(L, top);
            return run_fail_src(r, f, "source ", "", " is not an object");
        }
        lua_createtable(L, 0, f->sub->nfields);
        if (run_push_frame(r, f, 0)) { lua_settop(L, top); return -1; }
        if (f->src == MALLAPI_SRC_SELF) r->frames[r->depth - 1].source = NULL;
        int rc = run_program(r, f->sub, v, lua_gettop(L));
        r->depth--;
        if (rc) { lua_settop(L, top); return -1; }
        if (f->src == MALLAPI_SRC_SELF) {             /* an object of nothing found is left out */
            lua_pushnil(L);
            if (!lua_next(L, -2)) {
                lua_settop(L, top);
                if (f->required) return run_fail(r, f, "required value missing");
                return 0;
            }
            lua_pop(L, 2);
        }
        if (f->as_list) {                             /* one object -> a one-element array */
            lua_createtable(L, 1, 0);
            run_mark_array(r);
            lua_insert(L, -2);
            lua_rawseti(L, -2, 1);
        }
        run_store(L, r->values, dst, f);
        lua_settop(L, top);
        return 0;
    }
    if (f->split) {
        if (run_split(r, f)) { lua_settop(L, top); return -1; }
    } else if (run_scalar(r, f)) {
        lua_settop(L, top);
        return -1;
    }
    run_store(L, r->values, dst, f);
    lua_settop(L, top);
    return 0;
}

static int run_program(map_run *r, const mallapi_map_program *p, int src, int dst) {
    for (int i = 0; i < p->nfields; i++)
        if (run_field(r, &p->fields[i], src, dst)) return -1;
    return 0;
}

/* Map the table at src; on success pushes the target and returns 0. */
static int run_one(map_run *r, const map_mapper *m, int src) {
    r->depth = 0;
    lua_createtable(r->L, 0, m->prog->nfields);
    if (run_program(r, m->prog, src, lua_gettop(r->L))) { lua_pop(r->L, 1); return -1; }
    return 0;
}

static map_mapper *check_mapper(lua_State *L) {
    map_mapper *m = luaL_checkudata(L, 1, MAPPER_MT);
    if (!m->prog) luaL_argerror(L, 1, "mapper is closed");
    return m;
}

static void run_init(map_run *r, lua_State *L, const map_mapper *m) {
    r->L = L;
    r->depth = 0;
    r->elem = 0;
    r->array_mt_slot = m->array_mt_slot;
    r->number_slot = m->number_slot;
    r->err[0] = '\0';
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->values_ref);
    r->values = lua_gettop(L);
}

/* mapper(doc) -> target | nil, "mapper: field 'x': ...", "MAP" */
static int mapper_call(lua_State *L) {
    map_mapper *m = check_mapper(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    map_run r;
    run_init(&r, L, m);
    if (run_one(&r, m, 2)) {
        lua_pushfstring(L, "mapper: %s", r.err);
        return mallapi_push_error(L, lua_tostring(L, -1), "MAP");
    }
    return 1;
}

/* Map every record of the array at list; pushes out, errs and returns 2 (or nil, msg,
 * "MAP" and 3 at the first failure when stop is set). */
static int map_many_run(lua_State *L, map_run *r, const map_mapper *m, int list, int stop) {
    int n = (int)lua_rawlen(L, list);
    lua_createtable(L, n, 0);                         /* out */
    int out = lua_gettop(L);
    int errs = 0, nerr = 0;
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, list, i);
        int rec = lua_gettop(L);
        int rc;
        if (lua_type(L, rec) != LUA_TTABLE) {
            snprintf(r->err, sizeof r->err, "not an object (%s)", luaL_typename(L, rec));
            rc = -1;
        } else {
            rc = run_one(r, m, rec);
        }
        if (rc == 0) {
            lua_rawseti(L, out, i);
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        lua_pushfstring(L, "mapper: record %d: %s", i, r->err);
        if (stop) return mallapi_push_error(L, lua_tostring(L, -1), "MAP");
        if (!errs) { lua_newtable(L); lua_insert(L, out + 1); errs = out + 1; }
        lua_rawseti(L, errs, ++nerr);
        lua_pushboolean(L, 0);
        lua_rawseti(L, out, i);
    }
    lua_settop(L, errs ? errs : out);
    if (!errs) lua_pushnil(L);
    return 2;
}

/* mapper:many(list [, {stop_on_error = true}]) -> out, errs
 * out[i] is the target of list[i], or false when that record failed; errs lists the
 * failures' messages (nil when none). With stop_on_error: nil, msg, "MAP" at the first. */
static int map_stop_option(lua_State *L, int idx) {
    int stop = 0;
    if (!lua_isnoneornil(L, idx)) {
        luaL_checktype(L, idx, LUA_TTABLE);
        lua_getfield(L, idx, "stop_on_error");
        stop = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    return stop;
}

static int mapper_many(lua_State *L) {
    map_mapper *m = check_mapper(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    int stop = map_stop_option(L, 3);
    lua_settop(L, 2);
    map_run r;
    run_init(&r, L, m);
    return map_many_run(L, &r, m, 2, stop);
}



/* ---------------------------------------------------------------- decode and map
 * mapper:decode builds, from the JSON text, only the parts of the document the program
 * reads (its need tree, map.c); every other value is skipped by the JSON scanner
 * without creating anything. The program then runs over that partial document. */

#define MAP_SCRATCH_MT "mallapi.MapScratch"
#define MAP_PATH_MT "mallapi.MapPath"

static int map_path_gc(lua_State *L) {
    mallapi_map_path *path = luaL_checkudata(L, 1, MAP_PATH_MT);
    for (int i = 0; i < path->nsteps; i++) free(path->steps[i].key);
    free(path->steps);
    free(path->text);
    memset(path, 0, sizeof *path);
    return 0;
}

static int map_scratch_gc(lua_State *L) {
    mallapi_jbuf *b = luaL_checkudata(L, 1, MAP_SCRATCH_MT);
    mallapi_jbuf_free(b);
    return 0;
}

static void dec_push_number(lua_State *L, const mallapi_json_number *num) {
    switch (num->kind) {
    case MALLAPI_JSON_INT:
        if (MAP_INT_EXACT(num->i)) {
#if MALLAPI_HAS_INT64
            lua_pushinteger(L, (lua_Integer)num->i);
#else
            lua_pushnumber(L, (lua_Number)num->i);
#endif
            return;
        }
        break;                                        /* LuaJIT beyond 2^53: the digits */
    case MALLAPI_JSON_FLOAT:
        lua_pushnumber(L, num->d);
        return;
    default:
        break;
    }
    lua_pushlstring(L, num->text, num->len);          /* exact digits; converters read text */
}

/* Decode the value at p (no leading blanks) with what `need` says of it; pushes it. */
static const char *dec_value(lua_State *L, mallapi_json_scanner *s, const char *p,
                             const mallapi_map_need *need, int depth, int values) {
    if (depth <= 0) return mallapi_json_fail(s, p, "DEPTH", "nesting too deep");
    if (!lua_checkstack(L, 4)) return mallapi_json_fail(s, p, "MEMORY", "Lua stack overflow");
    switch (*p) {
    case '{': {
        lua_createtable(L, 0, need->whole ? 4 : need->nkeys);
        p = mallapi_json_skip_ws(p + 1);
        if (*p == '}') return p + 1;
        for (;;) {
            const char *key;
            size_t klen;
            if (*p != '"') return mallapi_json_unexpected(s, p);
            if (!(p = mallapi_json_scan_string(s, p + 1, &key, &klen))) return NULL;
            p = mallapi_json_skip_ws(p);
            if (*p != ':') return mallapi_json_unexpected(s, p);
            p = mallapi_json_skip_ws(p + 1);
            const mallapi_map_member *mem = need->whole ? NULL : mallapi_map_need_member(need, key, klen);
            if (need->whole || mem) {
                /* the key before the value reuses the scratch; the interned one when known */
                if (mem && mem->slot) lua_rawgeti(L, values, mem->slot);
                else lua_pushlstring(L, key, klen);
                if (!(p = dec_value(L, s, p, mem ? mem->need : need, depth - 1, values))) return NULL;
                lua_rawset(L, -3);
            } else if (!(p = mallapi_json_skip_value(s, p, depth - 1))) {
                return NULL;
            }
            p = mallapi_json_skip_ws(p);
            if (*p == '}') return p + 1;
            if (*p != ',') return mallapi_json_unexpected(s, p);
            p = mallapi_json_skip_ws(p + 1);
        }
    }
    case '[': {
        const mallapi_map_need *el = need->whole ? need : need->elems;
        int n = 0;
        lua_newtable(L);
        p = mallapi_json_skip_ws(p + 1);
        if (*p == ']') return p + 1;
        for (;;) {
            if (el) {
                if (!(p = dec_value(L, s, p, el, depth - 1, values))) return NULL;
                lua_rawseti(L, -2, ++n);
            } else if (!(p = mallapi_json_skip_value(s, p, depth - 1))) {
                return NULL;
            }
            p = mallapi_json_skip_ws(p);
            if (*p == ']') return p + 1;
            if (*p != ',') return mallapi_json_unexpected(s, p);
            p = mallapi_json_skip_ws(p + 1);
        }
    }
    case '"': {
        const char *str;
        size_t len;
        if (!(p = mallapi_json_scan_string(s, p + 1, &str, &len))) return NULL;
        lua_pushlstring(L, str, len);
        return p;
    }
    case 't': case 'f': case 'n': {
        char c = *p;
        if (!(p = mallapi_json_skip_value(s, p, 1))) return NULL;
        if (c == 'n') lua_pushlightuserdata(L, NULL);  /* json.null */
        else lua_pushboolean(L, c == 't');
        return p;
    }
    default: {
        mallapi_json_number num;
        if (*p != '-' && (*p < '0' || *p > '9')) return mallapi_json_unexpected(s, p);
        if (!(p = mallapi_json_scan_number(s, p, &num))) return NULL;
        dec_push_number(L, &num);
        return p;
    }
    }
}

static const mallapi_map_need map_whole_need = { 1, 0, 0, NULL, NULL };

static const mallapi_plan_key *plan_find(const mallapi_map_plan *pl, const char *key, size_t len) {
    for (int i = 0; i < pl->nkeys; i++)
        if (pl->keys[i].len == len && memcmp(pl->keys[i].key, key, len) == 0) return &pl->keys[i];
    return NULL;
}

static const char *stream_object(map_run *r, mallapi_json_scanner *s, const char *p,
                                 const mallapi_map_plan *pl, int depth, int *failed);

/* An EACH / OBJECT field fed straight from the member value at p: maps it into the
 * target (dst) without building the source. *present is cleared for null. */
static const char *stream_structured(map_run *r, mallapi_json_scanner *s, const char *p,
                                     const mallapi_map_field *f, const mallapi_map_plan *sub,
                                     int depth, int *failed, int dst, int *present) {
    lua_State *L = r->L;
    int top = lua_gettop(L);
    *present = 1;
    if (*p == 'n') { *present = 0; return mallapi_json_skip_value(s, p, depth); }
    if (f->each) {
        if (*p == '{' && *mallapi_json_skip_ws(p + 1) == '}') {   /* {} reads as an empty table */
            lua_newtable(L);
            run_mark_array(r);
            run_store(L, r->values, dst, f);
            return mallapi_json_skip_ws(p + 1) + 1;
        }
        if (*p != '[') {
            run_fail_src(r, f, "source ", "", " is not an array");
            *failed = 1;
            return mallapi_json_skip_value(s, p, depth);
        }
        lua_newtable(L);
        run_mark_array(r);
        int out = lua_gettop(L), i = 0, count = 0;
        p = mallapi_json_skip_ws(p + 1);
        if (*p != ']') for (;;) {
            i++;
            if (*failed) {
                if (!(p = mallapi_json_skip_value(s, p, depth - 1))) return NULL;
            } else if (f->sub) {
                if (*p == '{') {
                    if (run_push_frame(r, f, i)) { *failed = 1; continue; }
                    p = stream_object(r, s, p, sub, depth - 1, failed);
                    r->depth--;
                    if (!p) return NULL;
                    if (*failed) lua_pop(L, 1);
                    else lua_rawseti(L, out, i);
                } else {
                    char idx[32];
                    snprintf(idx, sizeof idx, "[%d]", i);
                    run_fail_src(r, f, "source ", idx, " is not an object");
                    *failed = 1;
                    if (!(p = mallapi_json_skip_value(s, p, depth - 1))) return NULL;
                }
            } else {
                if (!(p = dec_value(L, s, p, &map_whole_need, depth - 1, r->values))) return NULL;
                if (is_missing(L, -1)) lua_pop(L, 1);
                else {
                    r->elem = i;
                    int rc = run_scalar(r, f);
                    r->elem = 0;
                    if (rc) { *failed = 1; lua_settop(L, out); }
                    else lua_rawseti(L, out, ++count);
                }
            }
            p = mallapi_json_skip_ws(p);
            if (*p == ']') break;
            if (*p != ',') return mallapi_json_unexpected(s, p);
            p = mallapi_json_skip_ws(p + 1);
        }
        p++;
        if (*failed) { lua_settop(L, top); return p; }
        run_store(L, r->values, dst, f);
        return p;
    }
    if (*p != '{') {
        run_fail_src(r, f, "source ", "", " is not an object");
        *failed = 1;
        return mallapi_json_skip_value(s, p, depth);
    }
    if (run_push_frame(r, f, 0)) { *failed = 1; return mallapi_json_skip_value(s, p, depth); }
    p = stream_object(r, s, p, sub, depth, failed);
    r->depth--;
    if (!p) return NULL;
    if (*failed) { lua_settop(L, top); return p; }
    if (f->as_list) {
        lua_createtable(L, 1, 0);
        run_mark_array(r);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
    }
    run_store(L, r->values, dst, f);
    return p;
}

/* Map the JSON object at p ('{') with plan pl into a new target, pushed (nil when the
 * record failed: *failed is set and r->err says why; the rest of the object is still
 * scanned). Returns the position after the object, NULL on a JSON error. */
static const char *stream_object(map_run *r, mallapi_json_scanner *s, const char *p,
                                 const mallapi_map_plan *pl, int depth, int *failed) {
    lua_State *L = r->L;
    const mallapi_map_program *prog = pl->prog;
    int n = prog->nfields;
    if (depth <= 0) return mallapi_json_fail(s, p, "DEPTH", "nesting too deep");
    if (!lua_checkstack(L, n + 10)) return mallapi_json_fail(s, p, "MEMORY", "Lua stack overflow");
    int base = lua_gettop(L);
    int dst = base + 1, src = base + 2, slots = base + 3;
    lua_createtable(L, 0, n);
    if (pl->npartial) lua_createtable(L, 0, pl->partial->nkeys); else lua_pushnil(L);
    for (int i = 0; i < n; i++) lua_pushnil(L);
    int best_small[64];
    int *best = n <= 64 ? best_small : malloc((size_t)n * sizeof *best);
    if (!best) return mallapi_json_fail(s, p, "MEMORY", "out of memory");
    for (int i = 0; i < n; i++) best[i] = 1 << 20;   /* SCALAR: rank of the path seen; EACH/OBJECT: 0 when present */
    p = mallapi_json_skip_ws(p + 1);
    if (*p != '}') for (;;) {
        const char *key;
        size_t klen;
        if (*p != '"') { p = mallapi_json_unexpected(s, p); break; }
        if (!(p = mallapi_json_scan_string(s, p + 1, &key, &klen))) break;
        p = mallapi_json_skip_ws(p);
        if (*p != ':') { p = mallapi_json_unexpected(s, p); break; }
        p = mallapi_json_skip_ws(p + 1);
        const mallapi_plan_key *pk = *failed ? NULL : plan_find(pl, key, klen);
        int whole_src = !*failed && pl->npartial && pl->partial->whole;
        if (pk && pk->structured >= 0) {
            int fi = pk->structured, present;
            p = stream_structured(r, s, p, &prog->fields[fi], pl->subs[fi], depth - 1, failed, dst, &present);
            if (!p) break;
            if (present) best[fi] = 0;
        } else if (pk || whole_src) {
            const mallapi_map_need *need = (!pk || pk->nuses || whole_src) ? &map_whole_need : pk->partial;
            int to_src = whole_src || (pk && pk->partial);
            if (to_src) {
                if (pk && pk->slot) lua_rawgeti(L, r->values, pk->slot);
                else lua_pushlstring(L, key, klen);   /* before the value reuses the scratch */
            }
            if (!(p = dec_value(L, s, p, need, depth - 1, r->values))) break;
            if (pk && !is_missing(L, -1)) {
                for (int u = 0; u < pk->nuses; u++) {
                    const mallapi_plan_use *use = &pk->uses[u];
                    if (use->alt <= best[use->field]) {   /* a repeated key: the last wins */
                        best[use->field] = use->alt;
                        lua_pushvalue(L, -1);
                        lua_replace(L, slots + use->field);
                    }
                }
            }
            if (to_src) lua_rawset(L, src);
            else lua_pop(L, 1);
        } else if (!(p = mallapi_json_skip_value(s, p, depth - 1))) {
            break;
        }
        p = mallapi_json_skip_ws(p);
        if (*p == '}') break;
        if (*p != ',') { p = mallapi_json_unexpected(s, p); break; }
        p = mallapi_json_skip_ws(p + 1);
    }
    if (p && *p == '}' ) p++;
    /* the fields in program order, as the ordinary runner does */
    for (int i = 0; p && !*failed && i < n; i++) {
        const mallapi_map_field *f = &prog->fields[i];
        int top = lua_gettop(L);
        switch (pl->kind[i]) {
        case MALLAPI_PLAN_SCALAR:
            lua_pushvalue(L, slots + i);
            if (run_value(r, f, dst, top)) *failed = 1;
            break;
        case MALLAPI_PLAN_EACH:
        case MALLAPI_PLAN_OBJECT:
            if (best[i] == 0) break;
            lua_pushnil(L);
            if (run_value(r, f, dst, top)) *failed = 1;
            break;
        default:
            if (run_field(r, f, src, dst)) *failed = 1;
            break;
        }
        lua_settop(L, top);
    }
    if (best != best_small) free(best);
    if (!p) return NULL;
    lua_settop(L, dst);
    if (*failed) { lua_pop(L, 1); lua_pushnil(L); }
    return p;
}

/* Walk the JSON value at p along `at` (step i on); the array found there has its
 * records mapped into out (stack index) and failures listed in errs. */
typedef struct {
    const mallapi_map_path *at;
    const mallapi_map_plan *plan;
    int out, errs, nerr, found, stop, stopped;
} stream_many;

static const char *stream_at(map_run *r, mallapi_json_scanner *s, const char *p, stream_many *sm,
                             int i, int depth) {
    lua_State *L = r->L;
    if (depth <= 0) return mallapi_json_fail(s, p, "DEPTH", "nesting too deep");
    if (i == sm->at->nsteps) {
        if (*p != '[' || sm->found) return mallapi_json_skip_value(s, p, depth);
        sm->found = 1;
        int rec = 0;
        p = mallapi_json_skip_ws(p + 1);
        if (*p == ']') return p + 1;
        for (;;) {
            rec++;
            if (*p == '{' && !sm->stopped) {
                int failed = 0;
                r->depth = 0;
                if (!(p = stream_object(r, s, p, sm->plan, depth - 1, &failed))) return NULL;
                if (!failed) lua_rawseti(L, sm->out, rec);
                else {
                    lua_pop(L, 1);
                    lua_pushfstring(L, "mapper: record %d: %s", rec, r->err);
                    lua_rawseti(L, sm->errs, ++sm->nerr);
                    lua_pushboolean(L, 0);
                    lua_rawseti(L, sm->out, rec);
                    if (sm->stop) sm->stopped = 1;
                }
            } else {
                if (!sm->stopped) {
                    const char *what = *p == '[' ? "table" : *p == '"' ? "string" : *p == 'n' ? "nil" :
                                       (*p == 't' || *p == 'f') ? "boolean" : "number";
                    lua_pushfstring(L, "mapper: record %d: not an object (%s)", rec, what);
                    lua_rawseti(L, sm->errs, ++sm->nerr);
                    lua_pushboolean(L, 0);
                    lua_rawseti(L, sm->out, rec);
                    if (sm->stop) sm->stopped = 1;
                }
                if (!(p = mallapi_json_skip_value(s, p, depth - 1))) return NULL;
            }
            p = mallapi_json_skip_ws(p);
            if (*p == ']') return p + 1;
            if (*p != ',') return mallapi_json_unexpected(s, p);
            p = mallapi_json_skip_ws(p + 1);
        }
    }
    const mallapi_map_step *st = &sm->at->steps[i];
    char open = st->key ? '{' : '[', close = st->key ? '}' : ']';
    if (*p != open) return mallapi_json_skip_value(s, p, depth);
    long idx = 0;
    p = mallapi_json_skip_ws(p + 1);
    if (*p == close) return p + 1;
    for (;;) {
        int hit;
        if (st->key) {
            const char *key;
            size_t klen;
            if (*p != '"') return mallapi_json_unexpected(s, p);
            if (!(p = mallapi_json_scan_string(s, p + 1, &key, &klen))) return NULL;
            hit = klen == st->key_len && memcmp(key, st->key, klen) == 0;
            p = mallapi_json_skip_ws(p);
            if (*p != ':') return mallapi_json_unexpected(s, p);
            p = mallapi_json_skip_ws(p + 1);
        } else {
            hit = ++idx == st->index;
        }
        p = hit ? stream_at(r, s, p, sm, i + 1, depth - 1) : mallapi_json_skip_value(s, p, depth - 1);
        if (!p) return NULL;
        p = mallapi_json_skip_ws(p);
        if (*p == close) return p + 1;
        if (*p != ',') return mallapi_json_unexpected(s, p);
        p = mallapi_json_skip_ws(p + 1);
    }
}

/* mapper:decode(text [, at]) -> target | nil, msg, code
 * With `at` (a path such as "data.list"), maps every record of the array there and
 * returns out, errs like mapper:many. */
static int mapper_decode(lua_State *L) {
    map_mapper *m = check_mapper(L);
    size_t len;
    luaL_checktype(L, 2, LUA_TSTRING);
    const char *text = lua_tolstring(L, 2, &len);
    const char *at = luaL_optstring(L, 3, NULL);
    int stop = map_stop_option(L, 4);
    lua_settop(L, 4);
    mallapi_map_path path;
    memset(&path, 0, sizeof path);
    char err[MALLAPI_ERRLEN];
    if (at && mallapi_map_path_parse(&path, at, 0, err)) {
        lua_pushfstring(L, "mapper.decode: %s", err);
        return luaL_argerror(L, 3, lua_tostring(L, -1));
    }
    if (!m->plan) {
        m->plan = mallapi_map_plan_build(m->prog);
        if (!m->plan) {
            for (int i = 0; i < path.nsteps; i++) free(path.steps[i].key);
            free(path.steps);
            free(path.text);
            return luaL_error(L, "mapper.decode: out of memory");
        }
    }
    mallapi_jbuf *scratch = lua_newuserdata(L, sizeof *scratch);   /* 5: freed by __gc on error */
    memset(scratch, 0, sizeof *scratch);
    luaL_setmetatable(L, MAP_SCRATCH_MT);
    mallapi_map_path *keep = lua_newuserdata(L, sizeof *keep);      /* 6: the parsed `at` */
    *keep = path;
    luaL_setmetatable(L, MAP_PATH_MT);
    map_run r;
    run_init(&r, L, m);                               /* 7: values */
    mallapi_json_scanner sc;
    memset(&sc, 0, sizeof sc);
    sc.start = text;
    sc.end = text + len;
    sc.scratch = scratch;
    const char *p = mallapi_json_skip_ws(text);
    int failed = 0;
    stream_many sm;
    memset(&sm, 0, sizeof sm);
    if (at) {
        lua_newtable(L);                              /* 8: out */
        run_mark_array(&r);
        lua_newtable(L);                              /* 9: errs */
        sm.at = keep;
        sm.plan = m->plan;
        sm.out = 8;
        sm.errs = 9;
        sm.stop = stop;
        p = stream_at(&r, &sc, p, &sm, 0, MALLAPI_JSON_DEFAULT_DEPTH);
    } else {
        if (*p != '{') return mallapi_push_error(L, "mapper.decode: the document is not an object", "JSON");
        p = stream_object(&r, &sc, p, m->plan, MALLAPI_JSON_DEFAULT_DEPTH, &failed);  /* 8 */
    }
    if (p) {
        p = mallapi_json_skip_ws(p);
        if (p != sc.end) p = mallapi_json_unexpected(&sc, p);
    }
    mallapi_jbuf_free(scratch);
    if (!p) {
        lua_pushfstring(L, "mapper.decode: %s", sc.err);
        return mallapi_push_error(L, lua_tostring(L, -1), "JSON");
    }
    if (!at) {
        if (!failed) return 1;
        lua_pushfstring(L, "mapper: %s", r.err);
        return mallapi_push_error(L, lua_tostring(L, -1), "MAP");
    }
    if (!sm.found) {
        lua_pushfstring(L, "mapper.decode: no array at '%s'", at);
        return mallapi_push_error(L, lua_tostring(L, -1), "MAP");
    }
    if (stop && sm.nerr) {
        lua_rawgeti(L, 9, 1);
        return mallapi_push_error(L, lua_tostring(L, -1), "MAP");
    }
    if (!sm.nerr) { lua_pushnil(L); lua_replace(L, 9); }
    return 2;
}

static int mapper_tostring(lua_State *L) {
    map_mapper *m = luaL_checkudata(L, 1, MAPPER_MT);
    lua_pushfstring(L, "mallapi.mapper (%d fields)", m->prog ? m->prog->nfields : 0);
    return 1;
}

/* core.map.convert(name_or_table, value) -> converted | nil, msg: one converter,
 * for tests and for Lua code that needs the same exact arithmetic. */
static int map_convert(lua_State *L) {
    luaL_checkany(L, 2);
    mallapi_map_field f;
    memset(&f, 0, sizeof f);
    f.scale = 2;
    f.offset_min = 8 * 60;
    f.name = (char *)"value";
    map_compiler c;
    c.L = L;
    if (compile_conv(&c, "value", &f, 1)) {
        lua_pushfstring(L, "map.convert: %s", c.err + strlen("field 'value': "));
        return luaL_argerror(L, 1, lua_tostring(L, -1));
    }
    lua_settop(L, 2);
    map_run r;
    r.L = L;
    r.depth = 0;
    r.elem = 0;
    r.array_mt_slot = r.number_slot = 0;
    r.values = 0;
    if (is_missing(L, 2) || (lua_type(L, 2) == LUA_TSTRING && lua_rawlen(L, 2) == 0 && conv_empty_is_missing(f.conv))) {
        lua_pushnil(L);
        return 1;
    }
    if (run_convert(&r, &f)) {
        const char *e = r.err + strlen("field 'value': ");
        return mallapi_push_error(L, e, "MAP");
    }
    return 1;
}

void mallapi_open_map(lua_State *L) {
    luaL_newmetatable(L, MAP_SCRATCH_MT);
    lua_pushcfunction(L, map_scratch_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, MAP_PATH_MT);
    lua_pushcfunction(L, map_path_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    static const luaL_Reg methods[] = {
        { "many", mapper_many },
        { "decode", mapper_decode },
        { NULL, NULL }
    };
    static const luaL_Reg funcs[] = {
        { "compile", map_compile },
        { "convert", map_convert },
        { NULL, NULL }
    };
    luaL_newmetatable(L, MAPPER_MT);                  /* core mt */
    lua_pushcfunction(L, mapper_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, mapper_call);
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
