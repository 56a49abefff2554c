/* bind_map.h: private to the mapper's binding, which is split by phase like LPeg's
 * tree/code/VM: bind_map.c (the "mallapi.Mapper" userdata and core.map),
 * bind_map_compile.c (Lua spec table -> map.h program), bind_map_run.c (running a
 * program over decoded Lua tables, core.map.convert) and bind_map_decode.c
 * (mapper:decode: streaming a program straight from JSON text). */
#ifndef MALLAPI_BIND_MAP_H
#define MALLAPI_BIND_MAP_H

#include "bind.h"
#include "mallapi.h"
#include "map.h"
#include "json.h"
#include "clock.h"

#define MAP_MAX_DEPTH 32

/* The phases call each other on every field: hidden, so that these calls inside
 * core.so stay direct (no PLT) and the compiler may inline them. */
#pragma GCC visibility push(hidden)

#if MALLAPI_HAS_INT64
#define MAP_INT_EXACT(v) 1
#else
#define MAP_INT_EXACT(v) ((v) >= -9007199254740992LL && (v) <= 9007199254740992LL)
#endif

typedef struct {
    mallapi_map_program *prog;
    int values_ref;             /* registry ref of the value table, LUA_NOREF when none */
    mallapi_map_plan *plan;     /* how mapper:decode streams the program, made on first use */
    int array_mt_slot;          /* json.array_mt in the value table (0: none): marks arrays */
    int number_slot;            /* json.number (0: none): ids beyond 2^53 on LuaJIT */
} map_mapper;

/* ---- compile (bind_map_compile.c) */
typedef struct {
    lua_State *L;
    int values;                 /* stack index of the value table */
    int nvalues;
    int depth;                  /* nesting of fields = {...}, bounded (a spec may loop) */
    char err[1024];
} map_compiler;

/* Converter from a name or {name, offset=, scale=} at stack index idx into f. */
int bind_map_compile_conv(map_compiler *c, const char *field, mallapi_map_field *f, int idx);
/* Numeric and time converters read "" as a missing value. */
int bind_map_empty_is_missing(mallapi_conv_kind k);
int bind_map_compile(lua_State *L);             /* core.map.compile(spec [, json]) */

/* ---- run (bind_map_run.c) */
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

void bind_map_run_init(map_run *r, lua_State *L, const map_mapper *m);
int bind_map_is_missing(lua_State *L, int idx);     /* nil or json.null */
/* "field 'x': <before>'<source><suffix>'<after>"; returns -1. */
int bind_map_fail_src(map_run *r, const mallapi_map_field *f, const char *before,
                      const char *suffix, const char *after);
/* One field over the source table at src into the target at dst. */
int bind_map_field(map_run *r, const mallapi_map_field *f, int src, int dst);
/* The rest of a field once its value is on top of the stack (above `top`). */
int bind_map_value(map_run *r, const mallapi_map_field *f, int dst, int top);
int bind_map_scalar(map_run *r, const mallapi_map_field *f);   /* convert + enum the top */
void bind_map_store(lua_State *L, int values, int dst, const mallapi_map_field *f);
void bind_map_mark_array(map_run *r);
int bind_map_push_frame(map_run *r, const mallapi_map_field *f, long index);
int bind_map_stop_option(lua_State *L, int idx);    /* {stop_on_error = true} */
int bind_map_call(lua_State *L);                    /* mapper(doc) */
int bind_map_many(lua_State *L);                    /* mapper:many(list [, opts]) */
int bind_map_convert(lua_State *L);                 /* core.map.convert(conv, value) */

/* ---- decode (bind_map_decode.c) */
int bind_map_decode(lua_State *L);                  /* mapper:decode(text [, at [, opts]]) */
void bind_map_open_decode(lua_State *L);            /* its scratch metatables */

/* ---- bind_map.c */
map_mapper *bind_map_check(lua_State *L);           /* argument 1, not closed */

#pragma GCC visibility pop

#endif
