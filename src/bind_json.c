/* bind_json.c: Lua binding of the JSON codec (core.json). The Lua-free pieces
 * (scanning, unescaping, UTF-8 checks, number text, the output buffer) live in
 * json.c; this file holds what must touch Lua values: the single-pass decoder
 * that builds tables on the Lua stack and creates each one at its closing
 * bracket with its exact size, the encoder's table walk, raw numbers
 * (MALLAPI_MT_RAWNUMBER), the array mark, raw_members and the options. */
#include "bind.h"
#include "json.h"
#include "mallapi.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH_LIMIT 10000      /* C recursion bound for max_depth */
#define JSON_ORDER_FIELD "__jsonorder"   /* metatable field: member names in order */
#define JSON_NUMTEXT_FIELD "__jsonnumtext" /* metatable field: name -> number text as read */
#define JSON_ARRAY_FLUSH 256            /* pending array elements before a flush */
#define JSON_OBJECT_FLUSH 64           /* pending object members before a flush */
#define JSON_KEEP_BUFFER (1u << 20)      /* output buffer kept between calls up to this */

/* Upvalues shared by every function of the area. */
#define UV_STATE lua_upvalueindex(1)
#define UV_ARRAY_MT lua_upvalueindex(2)
#define UV_RAW_MT lua_upvalueindex(3)
/* Weak-keyed: decoded array -> { [index] = number text as read } (ordered mode
 * only, for numbers encode would write differently, such as 0.0 on LuaJIT). */
#define UV_ARRAY_TEXTS lua_upvalueindex(4)

typedef struct {
    const void *table;     /* the table at this depth */
    const char *key;       /* member name being written, or NULL */
    size_t keylen;
    lua_Integer index;     /* array index being written when key is NULL */
} json_level;

/* Per-Lua-state memory of the codec, a full userdata with __gc (upvalue 1).
 * Encode and decode run no Lua code of their own, but an allocation may run
 * the collector and a finalizer may call the codec again: such a nested call
 * gets a fresh state (see json_acquire). */
typedef struct {
    mallapi_jbuf out;
    mallapi_jbuf scratch;
    json_level *levels;
    size_t nlevels;
    int busy;
} json_state;

typedef struct {
    size_t len;
    char text[1];
} json_raw;

static int json_state_gc(lua_State *L) {
    json_state *st = (json_state *)lua_touserdata(L, 1);
    mallapi_jbuf_free(&st->out);
    mallapi_jbuf_free(&st->scratch);
    free(st->levels);
    st->levels = NULL;
    st->nlevels = 0;
    return 0;
}

/* The state for one call, and one value pushed to keep it alive: the shared
 * state (nil pushed) or, when the shared one is busy, a fresh state with the
 * same __gc. json_release marks the shared state free again; a Lua error
 * (out of memory) thrown past a call leaves it busy, and later calls then
 * simply use fresh states. */
static json_state *json_acquire(lua_State *L) {
    json_state *st = (json_state *)lua_touserdata(L, UV_STATE);
    if (!st->busy) {
        st->busy = 1;
        lua_pushnil(L);
        return st;
    }
    st = (json_state *)lua_newuserdata(L, sizeof *st);
    memset(st, 0, sizeof *st);
    st->busy = 2;                                            /* not the shared one */
    lua_getmetatable(L, UV_STATE);
    lua_setmetatable(L, -2);
    return st;
}

static void json_release(json_state *st) {
    if (st->busy == 1) st->busy = 0;
}

static int json_type_error(lua_State *L, int arg, const char *expected) {
    return luaL_argerror(L, arg, lua_pushfstring(L, "%s expected, got %s", expected,
                                                 luaL_typename(L, arg)));
}

static void json_push_raw(lua_State *L, const char *text, size_t len, int raw_mt) {
    json_raw *r = (json_raw *)lua_newuserdata(L, offsetof(json_raw, text) + len + 1);
    r->len = len;
    memcpy(r->text, text, len);
    r->text[len] = '\0';
    lua_pushvalue(L, raw_mt);
    lua_setmetatable(L, -2);
}

/* The raw number at idx, or NULL. raw_mt is a stack index of the metatable. */
static json_raw *json_toraw(lua_State *L, int idx, int raw_mt) {
    json_raw *r = NULL;
    if (lua_type(L, idx) == LUA_TUSERDATA && lua_getmetatable(L, idx)) {
        if (lua_rawequal(L, -1, raw_mt)) r = (json_raw *)lua_touserdata(L, idx);
        lua_pop(L, 1);
    }
    return r;
}

/* The text encode writes for the finite Lua number at idx (at most 32 bytes):
 * integers in decimal, floats in their shortest form marked with ".0" when
 * integral, except that on LuaJIT integral values up to 2^53 are integers. */
static size_t json_number_text(lua_State *L, int idx, char *out) {
    mallapi_jbuf b = { out, 0, 32 };
#if MALLAPI_HAS_INT64
    if (lua_isinteger(L, idx)) {
        mallapi_json_put_int(&b, (int64_t)lua_tointeger(L, idx));
        return b.len;
    }
#endif
    double x = (double)lua_tonumber(L, idx);
#if !MALLAPI_HAS_INT64
    if (x == floor(x) && fabs(x) <= 9007199254740992.0 && !(x == 0 && signbit(x))) {
        mallapi_json_put_int(&b, (int64_t)x);
        return b.len;
    }
#endif
    /* Always marked as a float: on LuaJIT an integral double beyond 2^53
     * then reads back as a double rather than as a raw integer. */
    return mallapi_json_fmt_double(x, out, 1);
}

/* ================================================================ decoder */

enum { JSON_BIG_RAW, JSON_BIG_STRING, JSON_BIG_FLOAT };

typedef struct {
    lua_State *L;
    mallapi_json_scanner s;
    int max_depth;
    int ordered;
    int big;
    int array_mt, raw_mt;      /* absolute stack indices */
    int array_texts;           /* absolute stack index of UV_ARRAY_TEXTS */
} json_dec;

static const char *json_dec_value(json_dec *d, const char *p, int depth);
static void json_dec_keep_text(json_dec *d, int texts_slot, const char *text, const char *end,
                               lua_Integer index);

static const char *json_dec_depth_error(json_dec *d, const char *p) {
    char what[64];
    snprintf(what, sizeof what, "nesting deeper than %d", d->max_depth);
    return mallapi_json_fail(&d->s, p, "DEPTH", what);
}

static const char *json_dec_big(json_dec *d, const char *p, const mallapi_json_number *num) {
    switch (d->big) {
    case JSON_BIG_STRING: lua_pushlstring(d->L, num->text, num->len); break;
    case JSON_BIG_FLOAT:
        /* INT reaches here on LuaJIT (beyond 2^53): num->d is unset for it;
         * the int64 to double conversion rounds to nearest like strtod. */
        if (num->kind == MALLAPI_JSON_INT) lua_pushnumber(d->L, (lua_Number)num->i);
        else if (num->kind == MALLAPI_JSON_BIGINT) lua_pushnumber(d->L, mallapi_json_strtod(num->text, num->len));
        else lua_pushnumber(d->L, num->d);
        break;
    default: json_push_raw(d->L, num->text, num->len, d->raw_mt);
    }
    return p;
}

static const char *json_dec_number(json_dec *d, const char *p) {
    mallapi_json_number num;
    p = mallapi_json_scan_number(&d->s, p, &num);
    if (!p) return NULL;
    switch (num.kind) {
    case MALLAPI_JSON_INT:
#if MALLAPI_HAS_INT64
        lua_pushinteger(d->L, (lua_Integer)num.i);
#else
        if (num.i > 9007199254740992LL || num.i < -9007199254740992LL) return json_dec_big(d, p, &num);
        lua_pushnumber(d->L, (lua_Number)num.i);
#endif
        return p;
    case MALLAPI_JSON_FLOAT:
        lua_pushnumber(d->L, num.d);
        return p;
    default:
        return json_dec_big(d, p, &num);
    }
}

/* Makes room for the next values; when the Lua stack cannot grow, the caller
 * flushes its pending values into its table first. */
static int json_dec_room(lua_State *L) { return lua_checkstack(L, 48); }

/* Array: elements wait on the stack above a placeholder slot; the table is
 * created with the exact count at ']' (or early, when too many are pending). */
static const char *json_dec_array(json_dec *d, const char *p, int depth) {
    lua_State *L = d->L;
    if (depth >= d->max_depth) return json_dec_depth_error(d, p);
    if (!json_dec_room(L)) return mallapi_json_fail(&d->s, p, "DEPTH", "nesting too deep for the Lua stack");
    int slot = lua_gettop(L) + 1;
    int created = 0, pending = 0;
    lua_Integer n = 0;
    lua_pushnil(L);                                          /* slot */
    if (d->ordered) lua_pushnil(L);                          /* slot, number texts */
    p = mallapi_json_skip_ws(p + 1);
    if (*p != ']') {
        for (;;) {
            const char *value = p;
            if (!(p = json_dec_value(d, p, depth + 1))) return NULL;
            n++;
            if (d->ordered && lua_type(L, -1) == LUA_TNUMBER) json_dec_keep_text(d, slot + 1, value, p, n);
            if ((++pending & 31) == 0 && (pending >= JSON_ARRAY_FLUSH || !json_dec_room(L))) {
                if (!created) {
                    lua_createtable(L, (int)n, 0);
                    lua_replace(L, slot);
                    created = 1;
                }
                for (lua_Integer i = n; pending > 0; i--, pending--) lua_rawseti(L, slot, i);
                if (!json_dec_room(L))
                    return mallapi_json_fail(&d->s, p, "DEPTH", "nesting too deep for the Lua stack");
            }
            p = mallapi_json_skip_ws(p);
            if (*p == ',') {
                p = mallapi_json_skip_ws(p + 1);
                continue;
            }
            if (*p == ']') break;
            return mallapi_json_unexpected(&d->s, p);
        }
    }
    if (!created) {
        lua_createtable(L, (int)n, 0);
        lua_replace(L, slot);
    }
    for (lua_Integer i = n; pending > 0; i--, pending--) lua_rawseti(L, slot, i);
    if (lua_istable(L, d->array_mt)) {                       /* array_mt = false: none */
        lua_pushvalue(L, d->array_mt);
        lua_setmetatable(L, slot);
    }
    if (d->ordered) {                                        /* slot, texts */
        if (lua_isnil(L, -1)) lua_pop(L, 1);
        else {
            lua_pushvalue(L, slot);
            lua_insert(L, -2);
            lua_rawset(L, d->array_texts);
        }
    }                                                        /* slot: the array */
    return p + 1;
}

/* Moves the pending name/value pairs above `first` into the table at slot, in
 * document order so that a repeated name keeps its last value. In ordered
 * mode new names are appended to the order list at slot + 1. */
static void json_dec_flush_members(json_dec *d, int slot, int first, int pending, lua_Integer *nkeys) {
    lua_State *L = d->L;
    for (int j = 0; j < pending; j++) {
        int k = first + 2 * j;
        if (d->ordered) {
            lua_pushvalue(L, k);
            lua_rawget(L, slot);
            if (lua_isnil(L, -1)) {
                lua_pushvalue(L, k);
                lua_rawseti(L, slot + 1, ++*nkeys);
            }
            lua_pop(L, 1);
        }
        lua_pushvalue(L, k);
        lua_pushvalue(L, k + 1);
        lua_rawset(L, slot);
    }
    lua_settop(L, first - 1);
}

/* Ordered mode: when the number just decoded (top, its name below) would be
 * written differently by encode ("26.0" on LuaJIT, "1E2", "-0", "1.50"), keep
 * its text in the table at texts_slot (made on first use) so that encode can
 * write it back while the value is unchanged. */
static void json_dec_keep_text(json_dec *d, int texts_slot, const char *text, const char *end,
                               lua_Integer index) {
    lua_State *L = d->L;
    char canonical[32];
    size_t len = (size_t)(end - text);
    size_t n = json_number_text(L, -1, canonical);
    if (n == len && memcmp(canonical, text, len) == 0) return;
    if (lua_isnil(L, texts_slot)) {
        lua_newtable(L);
        lua_replace(L, texts_slot);
    }
    if (index) {                                             /* array element */
        lua_pushlstring(L, text, len);
        lua_rawseti(L, texts_slot, (int)index);
        return;
    }
    lua_pushvalue(L, -2);
    lua_pushlstring(L, text, len);
    lua_rawset(L, texts_slot);
}

static const char *json_dec_object(json_dec *d, const char *p, int depth) {
    lua_State *L = d->L;
    if (depth >= d->max_depth) return json_dec_depth_error(d, p);
    if (!json_dec_room(L)) return mallapi_json_fail(&d->s, p, "DEPTH", "nesting too deep for the Lua stack");
    int slot = lua_gettop(L) + 1;
    int created = 0, pending = 0, n = 0;
    lua_Integer nkeys = 0;
    lua_pushnil(L);                                          /* slot */
    if (d->ordered) {
        lua_newtable(L);                                     /* slot, order */
        lua_pushnil(L);                                      /* slot, order, number texts */
    }
    int first = slot + 1 + 2 * d->ordered;
    p = mallapi_json_skip_ws(p + 1);
    if (*p != '}') {
        for (;;) {
            const char *key;
            size_t keylen;
            if (*p != '"') return mallapi_json_unexpected(&d->s, p);
            if (!(p = mallapi_json_scan_string(&d->s, p + 1, &key, &keylen))) return NULL;
            lua_pushlstring(L, key, keylen);
            p = mallapi_json_skip_ws(p);
            if (*p != ':') return mallapi_json_unexpected(&d->s, p);
            p = mallapi_json_skip_ws(p + 1);
            const char *value = p;
            if (!(p = json_dec_value(d, p, depth + 1))) return NULL;
            if (d->ordered && lua_type(L, -1) == LUA_TNUMBER) json_dec_keep_text(d, slot + 2, value, p, 0);
            n++;
            if ((++pending & 15) == 0 && (pending >= JSON_OBJECT_FLUSH || !json_dec_room(L))) {
                if (!created) {
                    lua_createtable(L, 0, n);
                    lua_replace(L, slot);
                    created = 1;
                }
                json_dec_flush_members(d, slot, first, pending, &nkeys);
                pending = 0;
                if (!json_dec_room(L))
                    return mallapi_json_fail(&d->s, p, "DEPTH", "nesting too deep for the Lua stack");
            }
            p = mallapi_json_skip_ws(p);
            if (*p == ',') {
                p = mallapi_json_skip_ws(p + 1);
                continue;
            }
            if (*p == '}') break;
            return mallapi_json_unexpected(&d->s, p);
        }
    }
    if (!created) {
        lua_createtable(L, 0, n);
        lua_replace(L, slot);
    }
    if (pending) json_dec_flush_members(d, slot, first, pending, &nkeys);
    if (d->ordered) {
        lua_createtable(L, 0, 2);                            /* slot, order, texts, mt */
        lua_insert(L, slot + 1);                             /* slot, mt, order, texts */
        if (!lua_isnil(L, -1)) lua_setfield(L, slot + 1, JSON_NUMTEXT_FIELD);
        else lua_pop(L, 1);                                  /* slot, mt, order */
        lua_setfield(L, -2, JSON_ORDER_FIELD);               /* slot, mt */
        lua_setmetatable(L, slot);                           /* slot */
    }
    return p + 1;
}

static const char *json_dec_value(json_dec *d, const char *p, int depth) {
    switch (*p) {
    case '{':
        return json_dec_object(d, p, depth);
    case '[':
        return json_dec_array(d, p, depth);
    case '"': {
        const char *str;
        size_t len;
        if (!(p = mallapi_json_scan_string(&d->s, p + 1, &str, &len))) return NULL;
        lua_pushlstring(d->L, str, len);
        return p;
    }
    case 't':
        if (p[1] == 'r' && p[2] == 'u' && p[3] == 'e') {
            lua_pushboolean(d->L, 1);
            return p + 4;
        }
        break;
    case 'f':
        if (p[1] == 'a' && p[2] == 'l' && p[3] == 's' && p[4] == 'e') {
            lua_pushboolean(d->L, 0);
            return p + 5;
        }
        break;
    case 'n':
        if (p[1] == 'u' && p[2] == 'l' && p[3] == 'l') {
            lua_pushlightuserdata(d->L, NULL);
            return p + 4;
        }
        break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return json_dec_number(d, p);
    default:
        return mallapi_json_unexpected(&d->s, p);
    }
    return mallapi_json_fail(&d->s, p, "SYNTAX", "invalid literal");
}

/* ================================================================ options */

static int json_opt_bool(lua_State *L, const char *fname, const char *name) {
    if (!lua_isboolean(L, -1))
        return luaL_error(L, "bad argument #2 to '%s' (option '%s' must be a boolean)", fname, name);
    return lua_toboolean(L, -1);
}

static int json_opt_depth(lua_State *L, const char *fname) {
    lua_Number n = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1;
    if (n != floor(n) || n < 1 || n > JSON_MAX_DEPTH_LIMIT)
        return luaL_error(L, "bad argument #2 to '%s' (option 'max_depth' must be an integer in 1..%d)",
                          fname, JSON_MAX_DEPTH_LIMIT);
    return (int)n;
}

/* Reads the options table at index 2 (nil or absent: defaults). Each known
 * name goes to its handler; an unknown name or a wrong type raises. */
static void json_dec_options(lua_State *L, json_dec *d) {
    int t = lua_type(L, 2);
    if (t == LUA_TNONE || t == LUA_TNIL) return;
    if (t != LUA_TTABLE) json_type_error(L, 2, "table");
    lua_pushnil(L);
    while (lua_next(L, 2)) {                                 /* key, value */
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        if (strcmp(name, "max_depth") == 0) d->max_depth = json_opt_depth(L, "decode");
        else if (strcmp(name, "ordered") == 0) d->ordered = json_opt_bool(L, "decode", name);
        else if (strcmp(name, "replace_invalid_utf8") == 0)
            d->s.replace_invalid_utf8 = json_opt_bool(L, "decode", name);
        else if (strcmp(name, "big") == 0) {
            const char *mode = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
            if (strcmp(mode, "raw") == 0) d->big = JSON_BIG_RAW;
            else if (strcmp(mode, "string") == 0) d->big = JSON_BIG_STRING;
            else if (strcmp(mode, "float") == 0) d->big = JSON_BIG_FLOAT;
            else luaL_error(L, "bad argument #2 to 'decode' (option 'big' must be \"raw\", \"string\" or \"float\")");
        } else if (strcmp(name, "array_mt") == 0) {
            /* read again by json_decode once the stack is laid out */
            if (!lua_istable(L, -1) && !(lua_isboolean(L, -1) && !lua_toboolean(L, -1)))
                luaL_error(L, "bad argument #2 to 'decode' (option 'array_mt' must be a table or false)");
        } else {
            luaL_error(L, "bad argument #2 to 'decode' (unknown option '%s')", name);
        }
        lua_pop(L, 1);
    }
}

static int json_decode(lua_State *L) {
    json_state *st;
    json_dec d;
    size_t len;
    if (lua_type(L, 1) != LUA_TSTRING) return json_type_error(L, 1, "string");
    const char *s = lua_tolstring(L, 1, &len);
    memset(&d.s, 0, sizeof d.s);
    d.L = L;
    d.max_depth = MALLAPI_JSON_DEFAULT_DEPTH;
    d.ordered = 0;
    d.big = JSON_BIG_RAW;
    json_dec_options(L, &d);
    lua_settop(L, 2);
    lua_pushvalue(L, UV_ARRAY_MT);                           /* 3 */
    if (lua_istable(L, 2)) {                                 /* array_mt = t | false */
        lua_getfield(L, 2, "array_mt");
        if (lua_isnil(L, -1)) lua_pop(L, 1);
        else lua_replace(L, 3);
    }
    lua_pushvalue(L, UV_RAW_MT);                             /* 4 */
    lua_pushvalue(L, UV_ARRAY_TEXTS);                        /* 5 */
    st = json_acquire(L);                                    /* 6 */
    d.array_mt = 3;
    d.raw_mt = 4;
    d.array_texts = 5;
    d.s.start = s;
    d.s.end = s + len;
    d.s.scratch = &st->scratch;
    const char *p = json_dec_value(&d, mallapi_json_skip_ws(s), 0);
    if (p) {
        p = mallapi_json_skip_ws(p);
        if (p != d.s.end) p = mallapi_json_unexpected(&d.s, p);
    }
    if (st->scratch.cap > JSON_KEEP_BUFFER) mallapi_jbuf_free(&st->scratch);
    json_release(st);
    if (!p) {
        lua_settop(L, 6);
        return mallapi_push_error(L, d.s.err, d.s.errcode);
    }
    return 1;
}

/* ================================================================ encoder */

/* lua-cjson's markers, read from package.loaded.cjson and
 * package.loaded["cjson.safe"] (each module instance may have its own):
 * array_mt, empty_array_mt and empty_array of each, in that order. */
#define JSON_CJ_MARKS 6
enum { JSON_CJ_ARRAY_MT, JSON_CJ_EMPTY_ARRAY_MT, JSON_CJ_EMPTY_ARRAY };

typedef struct {
    lua_State *L;
    mallapi_jbuf *b;
    json_level *levels;
    int max_depth;
    int sort_keys, allow_nan, empty_as_array;
    int array_mt, raw_mt;                          /* stack indices */
    int cj_marks;      /* stack index of the first of JSON_CJ_MARKS cjson markers */
    int cj_any;        /* 1 when one of them is set */
    int array_texts;   /* stack index of UV_ARRAY_TEXTS */
    char err[MALLAPI_ERRLEN];
    const char *code;
} json_enc;

static int json_enc_value(json_enc *e, int idx, int depth);

/* Formats "json.encode: <what> at $.a[2].b" from the levels above depth. */
static int json_enc_fail(json_enc *e, int depth, const char *code, const char *what) {
    char path[160];
    size_t n = 0;
    path[n++] = '$';
    for (int i = 0; i < depth && n < sizeof path - 24; i++) {
        json_level *lv = &e->levels[i];
        if (lv->key) {
            size_t k = lv->keylen;
            if (k > sizeof path - 24 - n) k = sizeof path - 24 - n;
            path[n++] = '.';
            memcpy(path + n, lv->key, k);
            n += k;
        } else {
            n += (size_t)snprintf(path + n, sizeof path - n, "[%lld]", (long long)lv->index);
        }
    }
    if (n >= sizeof path - 24) n += (size_t)snprintf(path + n, sizeof path - n, "...");
    path[n] = '\0';
    snprintf(e->err, sizeof e->err, "json.encode: %s at %s", what, path);
    e->code = code;
    return -1;
}

static int json_enc_oom(json_enc *e, int depth) { return json_enc_fail(e, depth, "MEMORY", "out of memory"); }

static int json_enc_number(json_enc *e, int idx, int depth) {
    mallapi_jbuf *b = e->b;
    double x = (double)lua_tonumber(e->L, idx);
    if (!isfinite(x)) {
        if (!e->allow_nan) return json_enc_fail(e, depth, "NUMBER", isnan(x) ? "cannot encode NaN" : "cannot encode inf");
        const char *t = isnan(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
        return mallapi_jbuf_append(b, t, strlen(t)) ? json_enc_oom(e, depth) : 0;
    }
    if (mallapi_jbuf_reserve(b, 32)) return json_enc_oom(e, depth);
    b->len += json_number_text(e->L, idx, b->data + b->len);
    return 0;
}

static int json_enc_string(json_enc *e, const char *s, size_t len, int depth) {
    int rc = mallapi_json_put_string(e->b, s, len);
    if (rc == -2) return json_enc_fail(e, depth, "UTF8", "invalid UTF-8 in string");
    return rc ? json_enc_oom(e, depth) : 0;
}

static int json_enc_key_string(json_enc *e, int kidx, int depth, int first) {
    size_t kl;
    const char *k = lua_tolstring(e->L, kidx, &kl);
    e->levels[depth].key = k;
    e->levels[depth].keylen = kl;
    if (!first && mallapi_jbuf_append(e->b, ",", 1)) return json_enc_oom(e, depth);
    if (json_enc_string(e, k, kl, depth + 1)) return -1;
    return mallapi_jbuf_append(e->b, ":", 1) ? json_enc_oom(e, depth) : 0;
}

static int json_enc_member_value(json_enc *e, int depth, int texts_idx, int key_idx);

/* Array elements 1..n of the table at idx; holes are written as null. Number
 * texts kept by an ordered decode (UV_ARRAY_TEXTS) are written back while the
 * element is unchanged. */
static int json_enc_array(json_enc *e, int idx, int depth, lua_Integer n) {
    lua_State *L = e->L;
    int texts = 0;
    if (mallapi_jbuf_append(e->b, "[", 1)) return json_enc_oom(e, depth);
    e->levels[depth].key = NULL;
    lua_pushvalue(L, idx);
    lua_rawget(L, e->array_texts);
    if (lua_istable(L, -1)) texts = lua_gettop(L);
    else lua_pop(L, 1);
    for (lua_Integer i = 1; i <= n; i++) {
        if (i > 1 && mallapi_jbuf_append(e->b, ",", 1)) return json_enc_oom(e, depth);
        e->levels[depth].index = i;
        if (texts) {
            lua_pushinteger(L, i);                           /* i */
            lua_rawgeti(L, idx, (int)i);                     /* i, value */
            if (json_enc_member_value(e, depth, texts, lua_gettop(L) - 1)) return -1;
            lua_pop(L, 2);
            continue;
        }
        lua_rawgeti(L, idx, (int)i);
        if (json_enc_value(e, lua_gettop(L), depth + 1)) return -1;
        lua_pop(L, 1);
    }
    if (texts) lua_pop(L, 1);
    return mallapi_jbuf_append(e->b, "]", 1) ? json_enc_oom(e, depth) : 0;
}

typedef struct {
    const char *s;
    size_t len;
} json_keyref;

static int json_keyref_cmp(const void *a, const void *b) {
    const json_keyref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Object with string keys in byte order (sort_keys). The key strings stay
 * anchored by the table itself while the sorted list is used. */
static int json_enc_sorted(json_enc *e, int idx, int depth, size_t count) {
    lua_State *L = e->L;
    json_keyref *keys = (json_keyref *)lua_newuserdata(L, (count ? count : 1) * sizeof *keys);
    int keys_idx = lua_gettop(L);
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (n < count) keys[n].s = lua_tolstring(L, -2, &keys[n].len);
        n++;
        lua_pop(L, 1);
    }
    qsort(keys, n, sizeof *keys, json_keyref_cmp);
    if (mallapi_jbuf_append(e->b, "{", 1)) return json_enc_oom(e, depth);
    for (size_t i = 0; i < n; i++) {
        lua_pushlstring(L, keys[i].s, keys[i].len);         /* key */
        if (json_enc_key_string(e, -1, depth, i == 0)) return -1;
        e->levels[depth].key = keys[i].s;                    /* anchored by the table */
        lua_rawget(L, idx);                                  /* value */
        if (json_enc_value(e, lua_gettop(L), depth + 1)) return -1;
        lua_pop(L, 1);
    }
    lua_settop(L, keys_idx - 1);
    return mallapi_jbuf_append(e->b, "}", 1) ? json_enc_oom(e, depth) : 0;
}

/* Object in the order of the name list at order_idx (a decoded ordered
 * object); names added later follow in table order. */
/* Writes the member value at the top: the number text kept by an ordered
 * decode when the value still equals it, else the value itself. */
static int json_enc_member_value(json_enc *e, int depth, int texts_idx, int key_idx) {
    lua_State *L = e->L;
    int top = lua_gettop(L);
    if (texts_idx && lua_type(L, top) == LUA_TNUMBER
#if MALLAPI_HAS_INT64
        && !lua_isinteger(L, top)
#endif
    ) {
        lua_pushvalue(L, key_idx);
        lua_rawget(L, texts_idx);                            /* value, text */
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *text = lua_tolstring(L, -1, &len);
            if (mallapi_json_strtod(text, len) == (double)lua_tonumber(L, top)) {
                int rc = mallapi_jbuf_append(e->b, text, len) ? json_enc_oom(e, depth) : 0;
                lua_pop(L, 1);
                return rc;
            }
        }
        lua_pop(L, 1);
    }
    return json_enc_value(e, top, depth + 1);
}

static int json_enc_ordered(json_enc *e, int idx, int depth, int order_idx, int texts_idx) {
    lua_State *L = e->L;
    lua_Integer m = (lua_Integer)lua_rawlen(L, order_idx), written = 0, total = 0;
    int first = 1;
    if (mallapi_jbuf_append(e->b, "{", 1)) return json_enc_oom(e, depth);
    for (lua_Integer i = 1; i <= m; i++) {
        lua_rawgeti(L, order_idx, (int)i);                   /* key */
        if (lua_type(L, -1) != LUA_TSTRING) { lua_pop(L, 1); continue; }
        lua_pushvalue(L, -1);
        lua_rawget(L, idx);                                  /* key, value */
        if (lua_isnil(L, -1)) { lua_pop(L, 2); continue; }
        if (json_enc_key_string(e, -2, depth, first)) return -1;
        if (json_enc_member_value(e, depth, texts_idx, lua_gettop(L) - 1)) return -1;
        lua_pop(L, 2);
        first = 0;
        written++;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) { total++; lua_pop(L, 1); }
    if (total > written) {
        lua_createtable(L, 0, (int)m);                       /* listed names */
        int set = lua_gettop(L);
        for (lua_Integer i = 1; i <= m; i++) {
            lua_rawgeti(L, order_idx, (int)i);
            lua_pushboolean(L, 1);
            lua_rawset(L, set);
        }
        lua_pushnil(L);
        while (lua_next(L, idx)) {                           /* key, value */
            if (lua_type(L, -2) != LUA_TSTRING) return json_enc_fail(e, depth, "KEYS", "table with mixed keys");
            lua_pushvalue(L, -2);
            lua_rawget(L, set);
            int listed = !lua_isnil(L, -1);
            lua_pop(L, 1);
            if (!listed) {
                if (json_enc_key_string(e, -2, depth, first)) return -1;
                if (json_enc_value(e, lua_gettop(L), depth + 1)) return -1;
                first = 0;
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    return mallapi_jbuf_append(e->b, "}", 1) ? json_enc_oom(e, depth) : 0;
}

/* Integer keys that are not 1..n: an object whose names are the decimals. */
static int json_enc_int_keys(json_enc *e, int idx, int depth) {
    lua_State *L = e->L;
    int first = 1;
    if (mallapi_jbuf_append(e->b, "{", 1)) return json_enc_oom(e, depth);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        char num[32];
        int nl = snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, -2));
        e->levels[depth].key = NULL;
        e->levels[depth].index = lua_tointeger(L, -2);
        if (!first && mallapi_jbuf_append(e->b, ",", 1)) return json_enc_oom(e, depth);
        if (mallapi_jbuf_reserve(e->b, (size_t)nl + 3)) return json_enc_oom(e, depth);
        mallapi_jbuf_putc(e->b, '"');
        mallapi_jbuf_putn(e->b, num, (size_t)nl);
        mallapi_jbuf_putn(e->b, "\":", 2);
        if (json_enc_value(e, lua_gettop(L), depth + 1)) return -1;
        lua_pop(L, 1);
        first = 0;
    }
    return mallapi_jbuf_append(e->b, "}", 1) ? json_enc_oom(e, depth) : 0;
}

static int json_is_int_key(lua_State *L, int idx, lua_Integer *out) {
#if MALLAPI_HAS_INT64
    if (lua_isinteger(L, idx)) { *out = lua_tointeger(L, idx); return 1; }
    lua_Number x = lua_tonumber(L, idx);
    if (x == floor(x) && fabs(x) < 9.2e18) { *out = (lua_Integer)x; return 1; }
    return 0;
#else
    lua_Number x = lua_tonumber(L, idx);
    if (x == floor(x) && fabs(x) <= 9007199254740992.0) { *out = (lua_Integer)x; return 1; }
    return 0;
#endif
}

/* 1 when the value at idx is raw-equal to the cjson marker `which` of either module. */
static int json_is_cj_mark(json_enc *e, int idx, int which) {
    for (int m = 0; m < JSON_CJ_MARKS; m += 3) {
        int at = e->cj_marks + m + which;
        if (!lua_isnil(e->L, at) && lua_rawequal(e->L, idx, at)) return 1;
    }
    return 0;
}

static int json_enc_table(json_enc *e, int idx, int depth) {
    lua_State *L = e->L;
    const void *self = lua_topointer(L, idx);
    if (depth >= e->max_depth) {
        e->levels[depth].table = self;
        /* Report the first table that reappears inside itself. */
        for (int j = 1; j <= depth; j++)
            for (int i = 0; i < j; i++)
                if (e->levels[i].table == e->levels[j].table) return json_enc_fail(e, j, "CYCLE", "cycle");
        char what[64];
        snprintf(what, sizeof what, "nesting deeper than %d", e->max_depth);
        return json_enc_fail(e, depth, "DEPTH", what);
    }
    if (!lua_checkstack(L, 8)) return json_enc_fail(e, depth, "DEPTH", "nesting too deep for the Lua stack");
    e->levels[depth].table = self;
    e->levels[depth].key = NULL;
    e->levels[depth].index = 0;
    if (e->cj_any && json_is_cj_mark(e, idx, JSON_CJ_EMPTY_ARRAY))
        return mallapi_jbuf_append(e->b, "[]", 2) ? json_enc_oom(e, depth) : 0;
    if (lua_getmetatable(L, idx)) {                          /* mt */
        int top = lua_gettop(L);
        if (lua_rawequal(L, -1, e->array_mt) || (e->cj_any && json_is_cj_mark(e, top, JSON_CJ_ARRAY_MT))) {
            lua_pop(L, 1);
            return json_enc_array(e, idx, depth, (lua_Integer)lua_rawlen(L, idx));
        }
        if (e->cj_any && json_is_cj_mark(e, top, JSON_CJ_EMPTY_ARRAY_MT)) {
            lua_pushnil(L);
            if (!lua_next(L, idx)) {                         /* empty: [] */
                lua_pop(L, 1);
                return mallapi_jbuf_append(e->b, "[]", 2) ? json_enc_oom(e, depth) : 0;
            }
            lua_pop(L, 2);                                   /* mt */
        }
        if (!e->sort_keys) {
            lua_pushliteral(L, JSON_ORDER_FIELD);
            lua_rawget(L, -2);                               /* mt, order */
            if (lua_type(L, -1) == LUA_TTABLE) {
                int order_idx = lua_gettop(L);
                lua_pushliteral(L, JSON_NUMTEXT_FIELD);
                lua_rawget(L, -3);                           /* mt, order, texts */
                int rc = json_enc_ordered(e, idx, depth, order_idx, lua_istable(L, -1) ? order_idx + 1 : 0);
                if (rc == 0) lua_pop(L, 3);
                return rc;
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    if (!lua_next(L, idx)) {
        if (e->empty_as_array) return mallapi_jbuf_append(e->b, "[]", 2) ? json_enc_oom(e, depth) : 0;
        return mallapi_jbuf_append(e->b, "{}", 2) ? json_enc_oom(e, depth) : 0;
    }
    if (lua_type(L, -2) == LUA_TSTRING && !e->sort_keys) {
        /* The common object: written in one pass, keys checked on the way. */
        int first = 1;
        if (mallapi_jbuf_append(e->b, "{", 1)) return json_enc_oom(e, depth);
        do {                                                 /* key, value */
            if (lua_type(L, -2) != LUA_TSTRING) return json_enc_fail(e, depth, "KEYS", "table with mixed keys");
            if (json_enc_key_string(e, -2, depth, first)) return -1;
            if (json_enc_value(e, lua_gettop(L), depth + 1)) return -1;
            lua_pop(L, 1);
            first = 0;
        } while (lua_next(L, idx));
        return mallapi_jbuf_append(e->b, "}", 1) ? json_enc_oom(e, depth) : 0;
    }
    lua_Integer k;
    if (lua_type(L, -2) == LUA_TNUMBER && json_is_int_key(L, -2, &k) && k == 1) {
        /* A sequence built by Lua code (no array metatable): written while
         * the traversal yields 1, 2, 3, ...; any other key rewinds the output
         * to the classification below. */
        size_t mark = e->b->len;
        lua_Integer i = 1;
        if (mallapi_jbuf_append(e->b, "[", 1)) return json_enc_oom(e, depth);
        for (;;) {                                           /* key, value */
            if (i > 1 && mallapi_jbuf_append(e->b, ",", 1)) return json_enc_oom(e, depth);
            e->levels[depth].index = i;
            if (json_enc_value(e, lua_gettop(L), depth + 1)) return -1;
            lua_pop(L, 1);
            if (!lua_next(L, idx))
                return mallapi_jbuf_append(e->b, "]", 1) ? json_enc_oom(e, depth) : 0;
            i++;
            if (lua_type(L, -2) != LUA_TNUMBER || !json_is_int_key(L, -2, &k) || k != i) break;
        }
        e->b->len = mark;
        e->levels[depth].index = 0;
    }
    lua_pop(L, 2);
    /* Classify: a sequence 1..n, string keys only, or integer keys only. */
    size_t count = 0, nstr = 0, nint = 0;
    int nonpositive = 0;
    lua_Integer max = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int kt = lua_type(L, -2);
        count++;
        if (kt == LUA_TSTRING) nstr++;
        else if (kt == LUA_TNUMBER && json_is_int_key(L, -2, &k)) {
            nint++;
            if (k > max) max = k;
            if (k <= 0) nonpositive = 1;
        } else {
            char what[64];
            snprintf(what, sizeof what, "unsupported key type %s", luaL_typename(L, -2));
            return json_enc_fail(e, depth, "KEYS", what);
        }
        lua_pop(L, 1);
    }
    if (nstr && nint) return json_enc_fail(e, depth, "KEYS", "table with mixed keys");
    if (nstr) return json_enc_sorted(e, idx, depth, count);
    if (!nonpositive && max == (lua_Integer)count) return json_enc_array(e, idx, depth, max);
    return json_enc_int_keys(e, idx, depth);
}

static int json_enc_value(json_enc *e, int idx, int depth) {
    lua_State *L = e->L;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return json_enc_string(e, s, len, depth);
    }
    case LUA_TNUMBER:
        return json_enc_number(e, idx, depth);
    case LUA_TTABLE:
        return json_enc_table(e, idx, depth);
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx)) return mallapi_jbuf_append(e->b, "true", 4) ? json_enc_oom(e, depth) : 0;
        return mallapi_jbuf_append(e->b, "false", 5) ? json_enc_oom(e, depth) : 0;
    case LUA_TNIL:
        return mallapi_jbuf_append(e->b, "null", 4) ? json_enc_oom(e, depth) : 0;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) return mallapi_jbuf_append(e->b, "null", 4) ? json_enc_oom(e, depth) : 0;
        if (e->cj_any && json_is_cj_mark(e, idx, JSON_CJ_EMPTY_ARRAY))
            return mallapi_jbuf_append(e->b, "[]", 2) ? json_enc_oom(e, depth) : 0;
        return json_enc_fail(e, depth, "TYPE", "cannot encode lightuserdata");
    case LUA_TUSERDATA: {
        json_raw *r = json_toraw(L, idx, e->raw_mt);
        if (r) return mallapi_jbuf_append(e->b, r->text, r->len) ? json_enc_oom(e, depth) : 0;
        return json_enc_fail(e, depth, "TYPE", "cannot encode userdata");
    }
    default: {
        char what[48];
        snprintf(what, sizeof what, "cannot encode %s", luaL_typename(L, idx));
        return json_enc_fail(e, depth, "TYPE", what);
    }
    }
}

static void json_enc_options(lua_State *L, json_enc *e) {
    int t = lua_type(L, 2);
    if (t == LUA_TNONE || t == LUA_TNIL) return;
    if (t != LUA_TTABLE) json_type_error(L, 2, "table");
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        if (strcmp(name, "max_depth") == 0) e->max_depth = json_opt_depth(L, "encode");
        else if (strcmp(name, "sort_keys") == 0) e->sort_keys = json_opt_bool(L, "encode", name);
        else if (strcmp(name, "allow_nan") == 0) e->allow_nan = json_opt_bool(L, "encode", name);
        else if (strcmp(name, "empty_table_as_array") == 0) e->empty_as_array = json_opt_bool(L, "encode", name);
        else luaL_error(L, "bad argument #2 to 'encode' (unknown option '%s')", name);
        lua_pop(L, 1);
    }
}

/* Pushes the JSON_CJ_MARKS cjson markers (nil where a module or a field is
 * absent: Debian's lua-cjson 2.1.0 has none, OpenResty's 2.1.0.x has all)
 * and returns 1 when one is set. */
static int json_push_cjson_marks(lua_State *L) {
    static const char *const modules[] = { "cjson", "cjson.safe" };
    static const char *const fields[] = { "array_mt", "empty_array_mt", "empty_array" };
    int any = 0;
    lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");           /* loaded */
    for (int m = 0; m < 2; m++) {
        if (lua_type(L, -1) == LUA_TTABLE) lua_getfield(L, -1, modules[m]);
        else lua_pushnil(L);                                 /* loaded, module */
        for (int f = 0; f < 3; f++) {
            if (lua_type(L, -1) == LUA_TTABLE) lua_getfield(L, -1, fields[f]);
            else lua_pushnil(L);                             /* loaded, module, mark */
            any |= !lua_isnil(L, -1);
            lua_insert(L, -3);                               /* mark, loaded, module */
        }
        lua_pop(L, 1);                                       /* marks..., loaded */
    }
    lua_pop(L, 1);
    return any;
}

static int json_encode(lua_State *L) {
    json_state *st;
    json_enc e;
    luaL_checkany(L, 1);
    e.L = L;
    e.max_depth = MALLAPI_JSON_DEFAULT_DEPTH;
    e.sort_keys = e.allow_nan = e.empty_as_array = 0;
    json_enc_options(L, &e);
    lua_settop(L, 2);
    lua_pushvalue(L, UV_ARRAY_MT);                           /* 3 */
    lua_pushvalue(L, UV_RAW_MT);                             /* 4 */
    e.cj_any = json_push_cjson_marks(L);                     /* 5..10 */
    e.array_mt = 3;
    e.raw_mt = 4;
    e.cj_marks = 5;
    lua_pushvalue(L, UV_ARRAY_TEXTS);                        /* 11 */
    e.array_texts = 11;
    st = json_acquire(L);                                    /* 12 */
    if (st->nlevels < (size_t)e.max_depth + 1) {
        json_level *lv = (json_level *)realloc(st->levels, ((size_t)e.max_depth + 1) * sizeof *lv);
        if (!lv) {
            json_release(st);
            return mallapi_push_error(L, "json.encode: out of memory", "MEMORY");
        }
        st->levels = lv;
        st->nlevels = (size_t)e.max_depth + 1;
    }
    e.levels = st->levels;
    e.b = &st->out;
    st->out.len = 0;
    int rc = json_enc_value(&e, 1, 0);
    if (rc == 0) lua_pushlstring(L, st->out.data ? st->out.data : "", st->out.len);
    if (st->out.cap > JSON_KEEP_BUFFER) mallapi_jbuf_free(&st->out);
    json_release(st);
    if (rc) {
        lua_settop(L, 12);
        return mallapi_push_error(L, e.err, e.code);
    }
    return 1;
}

/* ================================================================ helpers */

/* json.array([t]): marks t (or a new table) as a JSON array and returns it. */
static int json_array(lua_State *L) {
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else if (!lua_istable(L, 1)) {
        return json_type_error(L, 1, "table");
    }
    lua_settop(L, 1);
    if (lua_getmetatable(L, 1)) {
        if (!lua_rawequal(L, -1, UV_ARRAY_MT))
            return luaL_argerror(L, 1, "table already has a metatable");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, UV_ARRAY_MT);
    lua_setmetatable(L, 1);
    return 1;
}

/* json.number(text): a raw number holding text, which must be one JSON number. */
static int json_number(lua_State *L) {
    size_t len;
    if (lua_type(L, 1) != LUA_TSTRING) return json_type_error(L, 1, "string");
    const char *s = lua_tolstring(L, 1, &len);
    if (!mallapi_json_is_number(s, len)) return luaL_argerror(L, 1, "not a JSON number");
    json_push_raw(L, s, len, UV_RAW_MT);
    return 1;
}

/* json.raw_members(s): { {name, raw, name = name, raw = raw}, ... } for the
 * top-level members of an object document, raw being the exact value text. */
static int json_raw_members(lua_State *L) {
    json_state *st;
    mallapi_json_scanner sc;
    size_t len;
    lua_Integer n = 0;
    if (lua_type(L, 1) != LUA_TSTRING) return json_type_error(L, 1, "string");
    const char *s = lua_tolstring(L, 1, &len);
    memset(&sc, 0, sizeof sc);
    lua_settop(L, 1);
    st = json_acquire(L);                                    /* 2 */
    sc.start = s;
    sc.end = s + len;
    sc.scratch = &st->scratch;
    lua_newtable(L);                                         /* 3: list */
    const char *p = mallapi_json_skip_ws(s);
    if (*p != '{') {
        p = mallapi_json_unexpected(&sc, p);
    } else {
        p = mallapi_json_skip_ws(p + 1);
        if (*p == '}') {
            p++;
        } else {
            for (;;) {
                const char *name, *raw;
                size_t namelen;
                if (*p != '"') { p = mallapi_json_unexpected(&sc, p); break; }
                if (!(p = mallapi_json_scan_string(&sc, p + 1, &name, &namelen))) break;
                lua_createtable(L, 2, 2);                    /* list, member */
                lua_pushlstring(L, name, namelen);
                lua_pushvalue(L, -1);
                lua_rawseti(L, -3, 1);
                lua_setfield(L, -2, "name");
                p = mallapi_json_skip_ws(p);
                if (*p != ':') { p = mallapi_json_unexpected(&sc, p); break; }
                raw = p = mallapi_json_skip_ws(p + 1);
                if (!(p = mallapi_json_skip_value(&sc, p, MALLAPI_JSON_DEFAULT_DEPTH - 1))) break;
                lua_pushlstring(L, raw, (size_t)(p - raw));
                lua_pushvalue(L, -1);
                lua_rawseti(L, -3, 2);
                lua_setfield(L, -2, "raw");
                lua_rawseti(L, 3, ++n);                      /* list */
                p = mallapi_json_skip_ws(p);
                if (*p == ',') { p = mallapi_json_skip_ws(p + 1); continue; }
                if (*p == '}') { p++; break; }
                p = mallapi_json_unexpected(&sc, p);
                break;
            }
        }
        if (p) {
            p = mallapi_json_skip_ws(p);
            if (p != sc.end) p = mallapi_json_unexpected(&sc, p);
        }
    }
    if (st->scratch.cap > JSON_KEEP_BUFFER) mallapi_jbuf_free(&st->scratch);
    json_release(st);
    if (!p) return mallapi_push_error(L, sc.err, sc.errcode);
    lua_settop(L, 3);
    return 1;
}

/* ================================================================ raw numbers */

static json_raw *json_checkraw(lua_State *L, int idx) {
    return (json_raw *)luaL_checkudata(L, idx, MALLAPI_MT_RAWNUMBER);
}

static int json_raw_tostring(lua_State *L) {
    json_raw *r = json_checkraw(L, 1);
    lua_pushlstring(L, r->text, r->len);
    return 1;
}

/* The value at idx as an exact number token for comparing: a raw number's
 * text, an integer in decimal, a finite float's exact expansion. Returns
 * the text (in buf unless raw), or NULL for a NaN, with *inf = +-1 for an
 * infinity. Anything else raises. */
static const char *json_cmp_text(lua_State *L, int idx, char *buf, size_t *len, int *inf) {
    json_raw *r = (json_raw *)luaL_testudata(L, idx, MALLAPI_MT_RAWNUMBER);
    *inf = 0;
    if (r) {
        *len = r->len;
        return r->text;
    }
    if (lua_type(L, idx) != LUA_TNUMBER) {
        luaL_error(L, "attempt to compare %s with a raw number", luaL_typename(L, idx));
        return NULL;
    }
#if MALLAPI_HAS_INT64
    if (lua_isinteger(L, idx)) {
        *len = (size_t)snprintf(buf, 32, "%lld", (long long)lua_tointeger(L, idx));
        return buf;
    }
#endif
    double x = (double)lua_tonumber(L, idx);
    if (isnan(x)) return NULL;
    if (isinf(x)) {
        *inf = x > 0 ? 1 : -1;
        return NULL;
    }
    *len = mallapi_json_exact_double(x, buf);
    return buf;
}

/* Exact order of the two operands (at least one a raw number): -1, 0, 1,
 * or 2 when one is NaN (every comparison false). */
static int json_raw_compare(lua_State *L) {
    char ba[MALLAPI_JSON_EXACT_LEN], bb[MALLAPI_JSON_EXACT_LEN];
    size_t la = 0, lb = 0;
    int ia, ib;
    const char *a = json_cmp_text(L, 1, ba, &la, &ia);
    const char *b = json_cmp_text(L, 2, bb, &lb, &ib);
    if (ia || ib) return ia == ib ? 0 : (ia < ib ? -1 : 1);   /* raw numbers are finite */
    if (!a || !b) return 2;
    return mallapi_json_compare_numbers(a, la, b, lb);
}

/* Both operands are raw numbers here (Lua calls __eq only for two userdata):
 * equal when their values are, "1.0" == "1". */
static int json_raw_eq(lua_State *L) {
    json_raw *a = (json_raw *)luaL_testudata(L, 1, MALLAPI_MT_RAWNUMBER);
    json_raw *b = (json_raw *)luaL_testudata(L, 2, MALLAPI_MT_RAWNUMBER);
    lua_pushboolean(L, a && b && mallapi_json_compare_numbers(a->text, a->len, b->text, b->len) == 0);
    return 1;
}

/* json.compare(a, b): -1, 0 or 1, exactly, for raw numbers and Lua numbers
 * in any mix (LuaJIT never calls __lt for a userdata and a number); nil
 * when one is NaN. */
static int json_compare(lua_State *L) {
    int c;
    for (int i = 1; i <= 2; i++)
        if (lua_type(L, i) != LUA_TNUMBER && !luaL_testudata(L, i, MALLAPI_MT_RAWNUMBER))
            return json_type_error(L, i, "number or raw number");
    c = json_raw_compare(L);
    if (c == 2) lua_pushnil(L);
    else lua_pushinteger(L, c);
    return 1;
}

static int json_raw_lt(lua_State *L) {
    lua_pushboolean(L, json_raw_compare(L) < 0);
    return 1;
}

static int json_raw_le(lua_State *L) {
    int c = json_raw_compare(L);
    lua_pushboolean(L, c <= 0);
    return 1;
}

static void json_raw_push_text(lua_State *L, int idx) {
    json_raw *r = (json_raw *)luaL_testudata(L, idx, MALLAPI_MT_RAWNUMBER);
    if (r) lua_pushlstring(L, r->text, r->len);
    else if (lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER) {
        lua_pushvalue(L, idx);
        lua_tostring(L, -1);
    } else {
        luaL_error(L, "attempt to concatenate a %s value with a raw number", luaL_typename(L, idx));
    }
}

static int json_raw_concat(lua_State *L) {
    json_raw_push_text(L, 1);
    json_raw_push_text(L, 2);
    lua_concat(L, 2);
    return 1;
}

/* ================================================================ open */

static const luaL_Reg json_funcs[] = {
    {"decode", json_decode},
    {"encode", json_encode},
    {"array", json_array},
    {"number", json_number},
    {"compare", json_compare},
    {"raw_members", json_raw_members},
    {NULL, NULL},
};

static const luaL_Reg json_raw_meta[] = {
    {"__tostring", json_raw_tostring},
    {"__eq", json_raw_eq},
    {"__lt", json_raw_lt},
    {"__le", json_raw_le},
    {"__concat", json_raw_concat},
    {NULL, NULL},
};

void mallapi_open_json(lua_State *L) {
    lua_createtable(L, 0, 8);                                /* core, json */
    json_state *st = (json_state *)lua_newuserdata(L, sizeof *st);
    memset(st, 0, sizeof *st);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, json_state_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);                                 /* core, json, state */
    lua_newtable(L);                                         /* core, json, state, array_mt */
    luaL_newmetatable(L, MALLAPI_MT_RAWNUMBER);              /* core, json, state, array_mt, raw_mt */
    lua_pushliteral(L, MALLAPI_MT_RAWNUMBER);
    lua_setfield(L, -2, "__name");
    luaL_setfuncs(L, json_raw_meta, 0);
    lua_pushvalue(L, -2);
    lua_setfield(L, -5, "array_mt");
    lua_createtable(L, 0, 0);                                /* ..., raw_mt, array texts */
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    luaL_setfuncs(L, json_funcs, 4);                         /* core, json */
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    lua_setfield(L, -2, "json");                             /* core */
}
