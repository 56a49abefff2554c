/* bind_map_run.c: the mapper's run phase: a compiled program (map.h) over decoded
 * Lua tables (mapper(doc), mapper:many(list)) and single conversions
 * (core.map.convert). Errors name the target field and the source path
 * ("field 'lines[2].price': required source 'items[2].price' missing"). */
#include "bind_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdarg.h>

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
int bind_map_fail_src(map_run *r, const mallapi_map_field *f, const char *before,
                        const char *suffix, const char *after) {
    char t[200], s[200];
    run_names(r, f->name, f->npaths ? f->paths[0].text : NULL, t, s, sizeof t);
    return run_fail(r, f, "%s'%s%s'%s", before, s, suffix, after);
}

int bind_map_is_missing(lua_State *L, int idx) {
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

/* The value at idx as an integer scaled by 10^scale (number, decimal text, raw number). */
static int run_scaled(map_run *r, const mallapi_map_field *f, int idx, int scale, int64_t *out, const char *what) {
    lua_State *L = r->L;
    char err[MALLAPI_ERRLEN];
    int rc;
    if (lua_type(L, idx) == LUA_TNUMBER) {
#if MALLAPI_HAS_INT64
        if (lua_isinteger(L, idx))
            rc = mallapi_map_scaled_int((int64_t)lua_tointeger(L, idx), scale, out, what, err);
        else
#endif
        rc = mallapi_map_scaled_double(lua_tonumber(L, idx), scale, out, what, err);
    } else {
        size_t len;
        const char *s = run_text(L, idx, &len);
        if (!s) return run_fail(r, f, "%s: want a number or a string, got %s", what, luaL_typename(L, idx));
        rc = mallapi_map_decimal(s, len, scale, out, what, err);
    }
    return rc ? run_fail(r, f, "%s", err) : 0;
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
        lua_pushlstring(L, buf, mallapi_map_int_text(v, buf));
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
        if (mallapi_map_bool_text(lua_tostring(L, idx), out) == 0) return 0;
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
            lua_pushlstring(L, buf, mallapi_map_int_text((int64_t)lua_tointeger(L, idx), buf));
            return 0;
        }
#endif
        double d = lua_tonumber(L, idx);
        if (d == floor(d) && fabs(d) < 9.2e18) {
            mallapi_map_int_text((int64_t)d, buf);
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
            lua_pushlstring(L, buf, mallapi_map_int_text(v, buf));
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
        double d = 0;
        if (!s || mallapi_map_number_text(s, len, &d)) return run_fail(r, f, "number: '%s' is not a number", s ? s : luaL_typename(L, top));
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
        int64_t unit = mallapi_map_pow10(f->scale);
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
        run_push_int(L, mallapi_clock_floor_s(v));
        break;
    case MALLAPI_CONV_MS_STRING:
        if (run_scaled(r, f, top, 0, &v, "ms_string")) return -1;
        lua_pushlstring(L, buf, mallapi_map_int_text(v, buf));
        break;
    case MALLAPI_CONV_AUTO_MS:
        if (run_scaled(r, f, top, 0, &v, "auto_ms")) return -1;
        run_push_int(L, mallapi_map_auto_ms(v));
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
        s = mallapi_map_trim(s, &len);
        lua_pushlstring(L, s, len);
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
void bind_map_store(lua_State *L, int values, int dst, const mallapi_map_field *f) {
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
void bind_map_mark_array(map_run *r) {
    if (!r->array_mt_slot) return;
    lua_rawgeti(r->L, r->values, r->array_mt_slot);
    lua_setmetatable(r->L, -2);
}

/* Convert + enum one scalar on top of the stack. */
int bind_map_scalar(map_run *r, const mallapi_map_field *f) {
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
        if (bind_map_is_missing(L, arr)) return 0;             /* leaves nil on top */
        if (lua_type(L, arr) != LUA_TTABLE) return bind_map_fail_src(r, f, "source ", "", " is not an array");
        int n = (int)lua_rawlen(L, arr);
        luaL_buffinit(L, &b);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, arr, i);
            if (bind_map_is_missing(L, -1)) { lua_pop(L, 1); continue; }
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
        if (bind_map_is_missing(L, -1) || (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) == 0)) { lua_pop(L, 1); continue; }
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
    if (lua_type(L, top) != LUA_TSTRING) return bind_map_fail_src(r, f, "split: source ", "", " is not a string");
    size_t len, seplen = strlen(f->sep);
    const char *s = lua_tolstring(L, top, &len), *end = s + len;
    lua_newtable(L);
    bind_map_mark_array(r);
    int n = 0;
    while (len > 0) {
        const char *hit = NULL;
        for (const char *p = s; p + seplen <= end; p++)
            if (memcmp(p, f->sep, seplen) == 0) { hit = p; break; }
        const char *pe = hit ? hit : end;
        lua_pushlstring(L, s, (size_t)(pe - s));
        if (bind_map_scalar(r, f)) return -1;
        lua_rawseti(L, -2, ++n);
        if (!hit) break;
        s = hit + seplen;
    }
    lua_replace(L, top);
    return 0;
}

int bind_map_push_frame(map_run *r, const mallapi_map_field *f, long index) {
    if (r->depth >= MAP_MAX_DEPTH) return run_fail(r, f, "nested deeper than 32 levels");
    r->frames[r->depth].target = f->name;
    r->frames[r->depth].source = f->npaths ? f->paths[0].text : NULL;
    r->frames[r->depth].index = index;
    r->depth++;
    return 0;
}


/* One field: push its value (or nothing when missing and optional) and store it. */
int bind_map_field(map_run *r, const mallapi_map_field *f, int src, int dst) {
    lua_State *L = r->L;
    if (f->simple == 1) {                             /* dst[key] = src[key] */
        lua_rawgeti(L, r->values, f->target.steps[0].slot);
        lua_rawgeti(L, r->values, f->paths[0].steps[0].slot);
        lua_rawget(L, src);                           /* ... tkey value */
        if (bind_map_is_missing(L, -1)) lua_pop(L, 2);
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
            if (f->required) return bind_map_fail_src(r, f, "required source ", "", " missing");
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
        for (int i = 1; i < f->npaths && bind_map_is_missing(L, -1); i++) {
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
    return bind_map_value(r, f, dst, top);
}

/* The rest of a field once its value is on top of the stack (above `top`): missing
 * values, each, nested fields, split, converter and enum, then the store. */
int bind_map_value(map_run *r, const mallapi_map_field *f, int dst, int top) {
    lua_State *L = r->L;
    int v = lua_gettop(L);
    int missing = bind_map_is_missing(L, v) ||
        (lua_type(L, v) == LUA_TSTRING && lua_rawlen(L, v) == 0 &&
         (f->skip_empty || bind_map_empty_is_missing(f->conv)));
    if (missing) {
        if (f->default_slot) {
            lua_rawgeti(L, r->values, f->default_slot);
            bind_map_store(L, r->values, dst, f);
        } else if (f->required) {
            lua_settop(L, top);
            if (f->npaths) return bind_map_fail_src(r, f, "required source ", "", " missing");
            return run_fail(r, f, "required value missing");
        }
        lua_settop(L, top);
        return 0;
    }
    if (f->each) {
        if (lua_type(L, v) != LUA_TTABLE) {
            lua_settop(L, top);
            return bind_map_fail_src(r, f, "source ", "", " is not an array");
        }
        int n = (int)lua_rawlen(L, v);
        lua_createtable(L, n, 0);                     /* ... src_array out_array */
        bind_map_mark_array(r);
        int out = lua_gettop(L);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, v, i);
            int el = lua_gettop(L);
            if (f->sub) {
                if (lua_type(L, el) != LUA_TTABLE) {
                    char idx[32];
                    snprintf(idx, sizeof idx, "[%d]", i);
                    lua_settop(L, top);
                    return bind_map_fail_src(r, f, "source ", idx, " is not an object");
                }
                lua_createtable(L, 0, f->sub->nfields);
                if (bind_map_push_frame(r, f, i)) { lua_settop(L, top); return -1; }
                int rc = run_program(r, f->sub, el, lua_gettop(L));
                r->depth--;
                if (rc) { lua_settop(L, top); return -1; }
            } else if (!bind_map_is_missing(L, el)) {
                r->elem = i;
                int rc = bind_map_scalar(r, f);
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
        bind_map_store(L, r->values, dst, f);
        lua_settop(L, top);
        return 0;
    }
    if (f->sub) {
        if (lua_type(L, v) != LUA_TTABLE) {
            lua_settop(L, top);
            return bind_map_fail_src(r, f, "source ", "", " is not an object");
        }
        lua_createtable(L, 0, f->sub->nfields);
        if (bind_map_push_frame(r, f, 0)) { lua_settop(L, top); return -1; }
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
            bind_map_mark_array(r);
            lua_insert(L, -2);
            lua_rawseti(L, -2, 1);
        }
        bind_map_store(L, r->values, dst, f);
        lua_settop(L, top);
        return 0;
    }
    if (f->split) {
        if (run_split(r, f)) { lua_settop(L, top); return -1; }
    } else if (bind_map_scalar(r, f)) {
        lua_settop(L, top);
        return -1;
    }
    bind_map_store(L, r->values, dst, f);
    lua_settop(L, top);
    return 0;
}

static int run_program(map_run *r, const mallapi_map_program *p, int src, int dst) {
    for (int i = 0; i < p->nfields; i++)
        if (bind_map_field(r, &p->fields[i], src, dst)) return -1;
    return 0;
}

/* Map the table at src; on success pushes the target and returns 0. */
static int run_one(map_run *r, const map_mapper *m, int src) {
    r->depth = 0;
    lua_createtable(r->L, 0, m->prog->nfields);
    if (run_program(r, m->prog, src, lua_gettop(r->L))) { lua_pop(r->L, 1); return -1; }
    return 0;
}

void bind_map_run_init(map_run *r, lua_State *L, const map_mapper *m) {
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
int bind_map_call(lua_State *L) {
    map_mapper *m = bind_map_check(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    map_run r;
    bind_map_run_init(&r, L, m);
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
int bind_map_stop_option(lua_State *L, int idx) {
    int stop = 0;
    if (!lua_isnoneornil(L, idx)) {
        luaL_checktype(L, idx, LUA_TTABLE);
        lua_getfield(L, idx, "stop_on_error");
        stop = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    return stop;
}

int bind_map_many(lua_State *L) {
    map_mapper *m = bind_map_check(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    int stop = bind_map_stop_option(L, 3);
    lua_settop(L, 2);
    map_run r;
    bind_map_run_init(&r, L, m);
    return map_many_run(L, &r, m, 2, stop);
}

/* core.map.convert(name_or_table, value) -> converted | nil, msg: one converter,
 * for tests and for Lua code that needs the same exact arithmetic. */
int bind_map_convert(lua_State *L) {
    luaL_checkany(L, 2);
    mallapi_map_field f;
    memset(&f, 0, sizeof f);
    f.scale = 2;
    f.offset_min = 8 * 60;
    f.name = (char *)"value";
    map_compiler c;
    c.L = L;
    if (bind_map_compile_conv(&c, "value", &f, 1)) {
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
    if (bind_map_is_missing(L, 2) || (lua_type(L, 2) == LUA_TSTRING && lua_rawlen(L, 2) == 0 && bind_map_empty_is_missing(f.conv))) {
        lua_pushnil(L);
        return 1;
    }
    if (run_convert(&r, &f)) {
        const char *e = r.err + strlen("field 'value': ");
        return mallapi_push_error(L, e, "MAP");
    }
    return 1;
}
