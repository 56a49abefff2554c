/* bind_map_decode.c: mapper:decode, the mapper streamed from JSON text. It builds
 * only the parts of the document the program reads (its need tree and plan, map.c)
 * and feeds scalar members straight into the target; every other value is skipped by
 * the JSON scanner without creating anything. */
#include "bind_map.h"
#include "bind_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- decode and map
 * mapper:decode builds, from the JSON text, only the parts of the document the program
 * reads (its need tree, map.c); every other value is skipped by the JSON scanner
 * without creating anything. The program then runs over that partial document. */


static int map_path_gc(lua_State *L) {
    mallapi_map_path *path = luaL_checkudata(L, 1, MALLAPI_MT_MAPPATH);
    for (int i = 0; i < path->nsteps; i++) free(path->steps[i].key);
    free(path->steps);
    free(path->text);
    memset(path, 0, sizeof *path);
    return 0;
}

static int map_scratch_gc(lua_State *L) {
    mallapi_jbuf *b = luaL_checkudata(L, 1, MALLAPI_MT_MAPSCRATCH);
    mallapi_jbuf_free(b);
    return 0;
}

/* Decode the value at p (no leading blanks) with what `need` says of it; pushes it.
 * Whole values and scalars are the JSON binding's decoder (bind_json.h); only the
 * objects and arrays of which the program reads a part are walked here. */
static const char *dec_value(lua_State *L, mallapi_json_scanner *s, const char *p,
                             const mallapi_map_need *need, int depth, int values) {
    if (depth <= 0) return mallapi_json_fail(s, p, "DEPTH", "nesting too deep");
    if (need->whole || (*p != '{' && *p != '[')) return mallapi_json_push_value(L, s, p, depth);
    if (!lua_checkstack(L, 4)) return mallapi_json_fail(s, p, "MEMORY", "Lua stack overflow");
    if (*p == '{') {
        lua_createtable(L, 0, need->nkeys);
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
            const mallapi_map_member *mem = mallapi_map_need_member(need, key, klen);
            if (mem) {
                /* the key before the value reuses the scratch; the interned one when known */
                if (mem->slot) lua_rawgeti(L, values, mem->slot);
                else lua_pushlstring(L, key, klen);
                if (!(p = dec_value(L, s, p, mem->need, depth - 1, values))) return NULL;
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
    const mallapi_map_need *el = need->elems;               /* '[' */
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
            bind_map_mark_array(r);
            bind_map_store(L, r->values, dst, f);
            return mallapi_json_skip_ws(p + 1) + 1;
        }
        if (*p != '[') {
            bind_map_fail_src(r, f, "source ", "", " is not an array");
            *failed = 1;
            return mallapi_json_skip_value(s, p, depth);
        }
        lua_newtable(L);
        bind_map_mark_array(r);
        int out = lua_gettop(L), i = 0, count = 0;
        p = mallapi_json_skip_ws(p + 1);
        if (*p != ']') for (;;) {
            i++;
            if (*failed) {
                if (!(p = mallapi_json_skip_value(s, p, depth - 1))) return NULL;
            } else if (f->sub) {
                if (*p == '{') {
                    if (bind_map_push_frame(r, f, i)) { *failed = 1; continue; }
                    p = stream_object(r, s, p, sub, depth - 1, failed);
                    r->depth--;
                    if (!p) return NULL;
                    if (*failed) lua_pop(L, 1);
                    else lua_rawseti(L, out, i);
                } else {
                    char idx[32];
                    snprintf(idx, sizeof idx, "[%d]", i);
                    bind_map_fail_src(r, f, "source ", idx, " is not an object");
                    *failed = 1;
                    if (!(p = mallapi_json_skip_value(s, p, depth - 1))) return NULL;
                }
            } else {
                if (!(p = dec_value(L, s, p, &map_whole_need, depth - 1, r->values))) return NULL;
                if (bind_map_is_missing(L, -1)) lua_pop(L, 1);
                else {
                    r->elem = i;
                    int rc = bind_map_scalar(r, f);
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
        bind_map_store(L, r->values, dst, f);
        return p;
    }
    if (*p != '{') {
        bind_map_fail_src(r, f, "source ", "", " is not an object");
        *failed = 1;
        return mallapi_json_skip_value(s, p, depth);
    }
    if (bind_map_push_frame(r, f, 0)) { *failed = 1; return mallapi_json_skip_value(s, p, depth); }
    p = stream_object(r, s, p, sub, depth, failed);
    r->depth--;
    if (!p) return NULL;
    if (*failed) { lua_settop(L, top); return p; }
    if (f->as_list) {
        lua_createtable(L, 1, 0);
        bind_map_mark_array(r);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
    }
    bind_map_store(L, r->values, dst, f);
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
            if (pk && !bind_map_is_missing(L, -1)) {
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
            if (bind_map_value(r, f, dst, top)) *failed = 1;
            break;
        case MALLAPI_PLAN_EACH:
        case MALLAPI_PLAN_OBJECT:
            if (best[i] == 0) break;
            lua_pushnil(L);
            if (bind_map_value(r, f, dst, top)) *failed = 1;
            break;
        default:
            if (bind_map_field(r, f, src, dst)) *failed = 1;
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
int bind_map_decode(lua_State *L) {
    map_mapper *m = bind_map_check(L);
    size_t len;
    luaL_checktype(L, 2, LUA_TSTRING);
    const char *text = lua_tolstring(L, 2, &len);
    const char *at = luaL_optstring(L, 3, NULL);
    int stop = bind_map_stop_option(L, 4);
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
    luaL_setmetatable(L, MALLAPI_MT_MAPSCRATCH);
    mallapi_map_path *keep = lua_newuserdata(L, sizeof *keep);      /* 6: the parsed `at` */
    *keep = path;
    luaL_setmetatable(L, MALLAPI_MT_MAPPATH);
    map_run r;
    bind_map_run_init(&r, L, m);                               /* 7: values */
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
        bind_map_mark_array(&r);
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

void bind_map_open_decode(lua_State *L) {
    luaL_newmetatable(L, MALLAPI_MT_MAPSCRATCH);
    lua_pushcfunction(L, map_scratch_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, MALLAPI_MT_MAPPATH);
    lua_pushcfunction(L, map_path_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}
