/* bind_http.c: Lua binding of the HTTP transport (http.c). Sets core.http =
 * { new, now, sleep, url_encode }; new(opts) returns a userdata session
 * (metatable mallapi.Session) with request, batch and close. This layer reads
 * Lua tables into plain C calls and pushes responses back; retries, hooks and
 * masking live in lua/mallapi/http.lua. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "http.h"

typedef struct http_batch_slot {
    mallapi_http_call call;
    char method[32];
} http_batch_slot;

typedef struct http_session_ud {
    mallapi_http_session *session;   /* NULL once closed */
    mallapi_http_call call;          /* reused by sequential requests */
    long default_timeout_ms;
    http_batch_slot *slots;          /* reused by batches (buffers keep their room) */
    mallapi_http_call **slot_ptrs;
    size_t slot_cap;
} http_session_ud;

/* ---- options ---- */

static double http_opt_number(lua_State *L, int idx, const char *name, double dflt, int positive) {
    lua_getfield(L, idx, name);
    double v = dflt;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TNUMBER || (positive && !(lua_tonumber(L, -1) > 0)))
            luaL_error(L, "bad argument #1 to 'http.new' (option '%s': %snumber expected)", name, positive ? "positive " : "");
        v = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* Numbers from Lua into C sizes and times, clamped: math.huge is the natural "no
 * limit", and a double past the target type's range is undefined behaviour in C. */
#define HTTP_MAX_SIZE ((double)(SIZE_MAX >> 1))   /* also fits curl_off_t */
#define HTTP_MAX_MS 2147483647.0                  /* about 24.8 days: curl's timers take it */

static size_t http_size(double v) { return v >= HTTP_MAX_SIZE ? (size_t)(SIZE_MAX >> 1) : (size_t)v; }

static long http_ms(double seconds) {
    double ms = seconds * 1000 + 0.5;
    return ms >= HTTP_MAX_MS ? (long)HTTP_MAX_MS : (long)ms;
}

static const char *http_opt_string(lua_State *L, int idx, const char *name) {
    lua_getfield(L, idx, name);
    const char *v = NULL;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "bad argument #1 to 'http.new' (option '%s': string expected)", name);
        v = lua_tostring(L, -1);                      /* stays alive in opts */
    }
    lua_pop(L, 1);
    return v;
}

static int http_opt_bool(lua_State *L, int idx, const char *name, int dflt) {
    lua_getfield(L, idx, name);
    int v = dflt;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TBOOLEAN) luaL_error(L, "bad argument #1 to 'http.new' (option '%s': boolean expected)", name);
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* core.http.new([opts]) -> session */
static int http_new(lua_State *L) {
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    mallapi_http_config cfg;
    memset(&cfg, 0, sizeof cfg);
    double timeout = http_opt_number(L, 1, "timeout", 30, 1);
    cfg.connect_timeout_ms = http_ms(http_opt_number(L, 1, "connect_timeout", 10, 1));
    cfg.max_body = http_size(http_opt_number(L, 1, "max_body", 16 * 1024 * 1024, 1));
    cfg.proxy = http_opt_string(L, 1, "proxy");
    cfg.ca_file = http_opt_string(L, 1, "ca_file");
    cfg.user_agent = http_opt_string(L, 1, "user_agent");
    if (cfg.user_agent && cfg.user_agent[strcspn(cfg.user_agent, "\r\n")])
        luaL_error(L, "bad argument #1 to 'http.new' (option 'user_agent': must not contain CR or LF)");
    cfg.verify = http_opt_bool(L, 1, "verify", 1);
    cfg.http2 = http_opt_bool(L, 1, "http2", 1);
    cfg.max_connections = (long)http_size(http_opt_number(L, 1, "max_connections", 0, 1));
    if (cfg.max_connections > 1000000) cfg.max_connections = 1000000;

    /* the userdata (with its __gc) before the C resource it owns */
    http_session_ud *ud = lua_newuserdata(L, sizeof *ud);
    memset(ud, 0, sizeof *ud);
    luaL_setmetatable(L, MALLAPI_MT_SESSION);
    ud->default_timeout_ms = http_ms(timeout);
    char err[MALLAPI_ERRLEN];
    ud->session = mallapi_http_session_new(&cfg, err, sizeof err);
    if (!ud->session) return mallapi_push_error(L, err, MALLAPI_HTTP_E_INTERNAL);
    return 1;
}

static http_session_ud *http_check_open(lua_State *L, const char *fname) {
    http_session_ud *ud = luaL_checkudata(L, 1, MALLAPI_MT_SESSION);
    if (!ud->session) {                               /* no position: the same message from Lua and C */
        lua_pushfstring(L, "%s: session is closed", fname);
        lua_error(L);
    }
    return ud;
}

/* ---- reading a request table (never raises but on out of memory) ---- */

static int http_refuse(mallapi_http_call *c, const char *msg) {
    c->code = MALLAPI_HTTP_E_BAD_REQUEST;
    strncpy(c->err, msg, sizeof c->err - 1);
    c->err[sizeof c->err - 1] = '\0';
    return -1;
}

/* The value on top as query/header text ("true"/"false" for booleans); leaves
 * one value pushed (the text or the original) that the caller pops. */
static const char *http_value_text(lua_State *L, size_t *len) {
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: return lua_tolstring(L, -1, len);
    case LUA_TNUMBER:
        lua_pushvalue(L, -1);
        lua_replace(L, -2);                           /* convert a copy, not the table's */
        return lua_tolstring(L, -1, len);
    case LUA_TBOOLEAN:
        lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false");
        lua_replace(L, -2);
        return lua_tolstring(L, -1, len);
    default: return NULL;
    }
}

typedef struct http_key { const char *s; size_t len; } http_key;

static int http_key_cmp(const void *a, const void *b) {
    const http_key *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->s, y->s, n);
    return r ? r : (x->len > y->len) - (x->len < y->len);
}

typedef int (*http_add_fn)(mallapi_http_call *c, const char *name, size_t nlen, const char *value, size_t vlen);

/* Whether the table at t is a list (has [1]) rather than a map. */
static int http_is_list(lua_State *L, int t) {
    lua_rawgeti(L, t, 1);
    int is_list = !lua_isnil(L, -1);
    lua_pop(L, 1);
    return is_list;
}

/* A list of {name, value} pairs at t, each passed to add() in order. Refused with not_pair
 * (an item that is not a table), bad_name (a name that is not a string) or bad_value (a value
 * http_value_text refuses, and a boolean unless allow_bool). Returns 0, or -1. */
static int http_read_pairs(lua_State *L, int t, mallapi_http_call *c, http_add_fn add, int allow_bool,
                           const char *not_pair, const char *bad_name, const char *bad_value) {
    size_t nlen, vlen, n = lua_rawlen(L, t);
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, t, (int)i);                    /* pair */
        if (lua_type(L, -1) != LUA_TTABLE) {
            lua_pop(L, 1);
            return http_refuse(c, not_pair);
        }
        lua_rawgeti(L, -1, 1);                        /* pair name */
        lua_rawgeti(L, -2, 2);                        /* pair name value */
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &nlen) : NULL;
        const char *value = !allow_bool && lua_type(L, -1) == LUA_TBOOLEAN ? NULL : http_value_text(L, &vlen);
        int rc = !name ? http_refuse(c, bad_name)
               : !value ? http_refuse(c, bad_value)
               : add(c, name, nlen, value, vlen);
        lua_pop(L, 3);
        if (rc < 0) return -1;
    }
    return 0;
}

/* query: a map (sent sorted by name) or a list of {name, value} pairs (sent in order). */
static int http_read_query(lua_State *L, int t, mallapi_http_call *c) {
    static const char *bad_pair =
        "http.request: query pair needs a string name and a string, number or boolean value";
    size_t vlen;
    if (http_is_list(L, t))
        return http_read_pairs(L, t, c, mallapi_http_add_query, 1,
                               "http.request: query list items must be {name, value} pairs", bad_pair, bad_pair);
    http_key stack_keys[32], *keys = stack_keys;
    size_t count = 0, cap = 32;
    int rc = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {                          /* key value */
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            rc = http_refuse(c, "http.request: query names must be strings");
            break;
        }
        if (count == cap) {
            http_key *grown = malloc(2 * cap * sizeof *grown);
            if (!grown) { lua_pop(L, 1); rc = http_refuse(c, "http.request: out of memory"); break; }
            memcpy(grown, keys, count * sizeof *keys);
            if (keys != stack_keys) free(keys);
            keys = grown;
            cap *= 2;
        }
        keys[count].s = lua_tolstring(L, -1, &keys[count].len);   /* kept alive by the table */
        count++;
    }
    if (rc == 0) {
        qsort(keys, count, sizeof *keys, http_key_cmp);
        for (size_t i = 0; i < count && rc == 0; i++) {
            lua_pushlstring(L, keys[i].s, keys[i].len);
            lua_rawget(L, t);
            const char *value = http_value_text(L, &vlen);
            rc = value ? mallapi_http_add_query(c, keys[i].s, keys[i].len, value, vlen)
                       : http_refuse(c, "http.request: query values must be strings, numbers or booleans");
            lua_pop(L, 1);
        }
    }
    if (keys != stack_keys) free(keys);
    return rc;
}

/* headers: a map name -> value (a list value sends the header once per item) or
 * a list of {name, value} pairs. */
static int http_read_headers(lua_State *L, int t, mallapi_http_call *c) {
    static const char *bad_name = "http.request: header names must be strings";
    static const char *bad_value = "http.request: header values must be strings or numbers";
    size_t nlen, vlen;
    if (http_is_list(L, t))
        return http_read_pairs(L, t, c, mallapi_http_add_header, 0,
                               "http.request: header list items must be {name, value} pairs", bad_name, bad_value);
    lua_pushnil(L);
    while (lua_next(L, t)) {                          /* key value */
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 2);
            return http_refuse(c, bad_name);
        }
        const char *name = lua_tolstring(L, -2, &nlen);
        int rc = 0;
        if (lua_type(L, -1) == LUA_TTABLE) {          /* repeated header */
            size_t n = lua_rawlen(L, -1);
            for (size_t i = 1; i <= n && rc == 0; i++) {
                lua_rawgeti(L, -1, (int)i);
                const char *value = lua_type(L, -1) == LUA_TBOOLEAN ? NULL : http_value_text(L, &vlen);
                rc = value ? mallapi_http_add_header(c, name, nlen, value, vlen) : http_refuse(c, bad_value);
                lua_pop(L, 1);
            }
        } else {
            const char *value = lua_type(L, -1) == LUA_TBOOLEAN ? NULL : http_value_text(L, &vlen);
            rc = value ? mallapi_http_add_header(c, name, nlen, value, vlen) : http_refuse(c, bad_value);
        }
        lua_pop(L, 1);                                /* key */
        if (rc < 0) { lua_pop(L, 1); return -1; }
    }
    return 0;
}

/* Fill call c from the request table at index t. The method is upper-cased into
 * method_buf. timeout_s > 0 overrides req.timeout and the session default.
 * Returns 0, or -1 with c->code = BAD_REQUEST. */
static int http_read_request(lua_State *L, int t, mallapi_http_call *c, char *method_buf, size_t method_cap,
                             double timeout_s, long default_timeout_ms) {
    int top = lua_gettop(L);
    int rc = -1;
    size_t len;
    lua_getfield(L, t, "method");
    if (lua_isnil(L, -1)) {
        c->method = "GET";
    } else if (lua_type(L, -1) != LUA_TSTRING) {
        http_refuse(c, "http.request: method must be a string");
        goto done;
    } else {
        const char *m = lua_tolstring(L, -1, &len);
        if (len == 0 || len >= method_cap || strlen(m) != len) {
            http_refuse(c, len == 0 ? "http.request: empty method"
                         : len >= method_cap ? "http.request: method is too long"
                         : "http.request: method contains a character not allowed in a token");
            goto done;
        }
        for (size_t i = 0; i <= len; i++)
            method_buf[i] = (m[i] >= 'a' && m[i] <= 'z') ? (char)(m[i] - 32) : m[i];
        c->method = method_buf;
    }
    lua_getfield(L, t, "url");
    if (lua_type(L, -1) != LUA_TSTRING) {
        http_refuse(c, "http.request: url must be a string");
        goto done;
    }
    c->url = lua_tolstring(L, -1, &len);              /* kept alive by req */
    if (strlen(c->url) != len) { http_refuse(c, "http.request: URL does not parse (contains NUL)"); goto done; }
    lua_getfield(L, t, "body");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) {
            char msg[96];
            snprintf(msg, sizeof msg, "http.request: body must be a string (got %s)", luaL_typename(L, -1));
            http_refuse(c, msg);
            goto done;
        }
        c->body = lua_tolstring(L, -1, &c->body_len);
    }
    if (!(timeout_s > 0)) {
        lua_getfield(L, t, "timeout");
        if (!lua_isnil(L, -1)) {
            if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0)) {
                http_refuse(c, "http.request: timeout must be a positive number");
                goto done;
            }
            timeout_s = lua_tonumber(L, -1);
        }
    }
    c->timeout_ms = timeout_s > 0 ? http_ms(timeout_s) : default_timeout_ms;
    if (c->timeout_ms < 1) c->timeout_ms = 1;
    lua_getfield(L, t, "query");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TTABLE) { http_refuse(c, "http.request: query must be a table"); goto done; }
        if (http_read_query(L, lua_gettop(L), c) < 0) goto done;
    }
    lua_getfield(L, t, "headers");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TTABLE) { http_refuse(c, "http.request: headers must be a table"); goto done; }
        if (http_read_headers(L, lua_gettop(L), c) < 0) goto done;
    }
    rc = 0;
done:
    lua_settop(L, top);
    return rc;
}

/* ---- pushing results ---- */

/* Push res = {status=, headers=, body=, time=, attempts=1}. A header seen once
 * is a string; a repeated one is a list of its values in order. */
/* The methods' upvalues: res's field names, made once (no string lookup per field). */
enum { HTTP_K_STATUS = 1, HTTP_K_HEADERS, HTTP_K_BODY, HTTP_K_TIME, HTTP_K_ATTEMPTS, HTTP_K_COUNT = HTTP_K_ATTEMPTS };
static const char *const http_res_keys[HTTP_K_COUNT] = { "status", "headers", "body", "time", "attempts" };

static void http_push_response(lua_State *L, mallapi_http_call *c) {
    lua_createtable(L, 0, 5);                         /* res */
    lua_pushvalue(L, lua_upvalueindex(HTTP_K_STATUS));
    lua_pushinteger(L, (lua_Integer)c->status);
    lua_rawset(L, -3);
    lua_pushvalue(L, lua_upvalueindex(HTTP_K_HEADERS));
    lua_createtable(L, 0, (int)c->header_count);     /* res headers */
    /* names seen so far, to spot repeats with a scan in C (cheaper than a table
     * lookup for a few names); past the array, ask the table */
    struct { const char *s; size_t len; } seen[32];
    size_t nseen = 0;
    const char *p = c->headers.data, *end = p ? p + c->headers.len : NULL;
    while (p && p < end) {
        size_t nlen = strlen(p);
        const char *value = p + nlen + 1;
        size_t vlen = strlen(value);
        int repeated = 0;
        if (nseen < sizeof seen / sizeof seen[0]) {
            for (size_t i = 0; i < nseen && !repeated; i++)
                repeated = seen[i].len == nlen && memcmp(seen[i].s, p, nlen) == 0;
            if (!repeated) { seen[nseen].s = p; seen[nseen].len = nlen; nseen++; }
            lua_pushlstring(L, p, nlen);              /* res headers name */
        } else {
            lua_pushlstring(L, p, nlen);
            lua_pushvalue(L, -1);
            lua_rawget(L, -3);
            repeated = !lua_isnil(L, -1);
            lua_pop(L, 1);
        }
        if (!repeated) {
            lua_pushlstring(L, value, vlen);
        } else {
            lua_pushvalue(L, -1);
            lua_rawget(L, -3);                        /* res headers name old */
            if (lua_type(L, -1) == LUA_TSTRING) {
                lua_createtable(L, 2, 0);             /* res headers name old list */
                lua_insert(L, -2);
                lua_rawseti(L, -2, 1);
                lua_pushlstring(L, value, vlen);
                lua_rawseti(L, -2, 2);
            } else {
                lua_pushlstring(L, value, vlen);
                lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
            }
        }
        lua_rawset(L, -3);                            /* res "headers" headers */
        p = value + vlen + 1;
    }
    lua_rawset(L, -3);                                /* res */
    lua_pushvalue(L, lua_upvalueindex(HTTP_K_BODY));
    lua_pushlstring(L, c->body_out.data ? c->body_out.data : "", c->body_out.len);
    lua_rawset(L, -3);
    lua_pushvalue(L, lua_upvalueindex(HTTP_K_TIME));
    lua_pushnumber(L, c->time_s);
    lua_rawset(L, -3);
    lua_pushvalue(L, lua_upvalueindex(HTTP_K_ATTEMPTS));
    lua_pushinteger(L, 1);
    lua_rawset(L, -3);
}

/* session:request(req [, timeout_s]) -> res | nil, err, code */
static int http_request(lua_State *L) {
    http_session_ud *ud = http_check_open(L, "http.request");
    luaL_checktype(L, 2, LUA_TTABLE);
    double timeout_s = luaL_optnumber(L, 3, 0);
    mallapi_http_call *c = &ud->call;
    char method[32];
    mallapi_http_call_reset(c);
    if (http_read_request(L, 2, c, method, sizeof method, timeout_s, ud->default_timeout_ms) < 0 ||
        mallapi_http_perform(ud->session, c) < 0)
        return mallapi_push_error(L, c->err, c->code);
    http_push_response(L, c);
    mallapi_http_call_reset(c);
    if (c->body_out.cap > 1024 * 1024) mallapi_http_buf_free(&c->body_out);   /* don't pin big answers */
    return 1;
}

/* Make room for n batch slots; 0 or -1 (out of memory). */
static int http_slots_reserve(http_session_ud *ud, size_t n) {
    if (n <= ud->slot_cap) return 0;
    http_batch_slot *slots = realloc(ud->slots, n * sizeof *slots);
    if (!slots) return -1;
    memset(slots + ud->slot_cap, 0, (n - ud->slot_cap) * sizeof *slots);
    ud->slots = slots;
    mallapi_http_call **ptrs = realloc(ud->slot_ptrs, n * sizeof *ptrs);
    if (!ptrs) return -1;                             /* slots kept: slot_cap unchanged */
    ud->slot_ptrs = ptrs;
    ud->slot_cap = n;
    return 0;
}

static void http_slots_free(http_session_ud *ud) {
    for (size_t i = 0; i < ud->slot_cap; i++) mallapi_http_call_free(&ud->slots[i].call);
    free(ud->slots);
    free(ud->slot_ptrs);
    ud->slots = NULL;
    ud->slot_ptrs = NULL;
    ud->slot_cap = 0;
}

/* session:batch(reqs [, concurrency [, timeouts [, statuses]]]) -> results: results[i]
 * is res (as request gives) or {err=, code=}. timeouts[i] (seconds) overrides
 * reqs[i].timeout. With statuses (the retry policy's set), the answers that are final
 * (reqs[i].retry unset, statuses[status] not true) come as {res = res}, and a second
 * value lists the indices of the others (nil when there are none): the Lua layer then
 * looks only at those. */
static int http_batch(lua_State *L) {
    http_session_ud *ud = http_check_open(L, "http.batch");
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer concurrency = luaL_optinteger(L, 3, 8);
    luaL_argcheck(L, concurrency >= 1, 3, "concurrency must be at least 1");
    int has_timeouts = !lua_isnoneornil(L, 4);
    if (has_timeouts) luaL_checktype(L, 4, LUA_TTABLE);
    size_t n = lua_rawlen(L, 2);
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, 2, (int)i);
        if (lua_type(L, -1) != LUA_TTABLE) luaL_error(L, "bad argument #1 to 'http.batch' (reqs[%d]: table expected)", (int)i);
        lua_pop(L, 1);
    }
    int sort = lua_type(L, 5) == LUA_TTABLE;         /* retry statuses: sort out the final results */
    lua_settop(L, 5);
    if (http_slots_reserve(ud, n) < 0) return luaL_error(L, "http.batch: out of memory");
    for (size_t i = 0; i < n; i++) {
        http_batch_slot *slot = &ud->slots[i];
        mallapi_http_call_reset(&slot->call);
        double timeout_s = 0;
        if (has_timeouts) {
            lua_rawgeti(L, 4, (int)i + 1);
            timeout_s = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        lua_rawgeti(L, 2, (int)i + 1);
        http_read_request(L, lua_gettop(L), &slot->call, slot->method, sizeof slot->method, timeout_s,
                          ud->default_timeout_ms);
        lua_pop(L, 1);
        ud->slot_ptrs[i] = &slot->call;
    }
    mallapi_http_perform_many(ud->session, ud->slot_ptrs, n, (size_t)concurrency);
    lua_createtable(L, (int)n, 0);                    /* ... results */
    int npending = 0;
    if (sort) lua_newtable(L);                        /* ... results pending */
    int results = sort ? -3 : -2;                     /* from the value about to be pushed */
    for (size_t i = 0; i < n; i++) {
        mallapi_http_call *c = &ud->slots[i].call;
        int final = 0;
        if (c->code) {
            lua_createtable(L, 0, 2);
            lua_pushstring(L, c->err);
            lua_setfield(L, -2, "err");
            lua_pushstring(L, c->code);
            lua_setfield(L, -2, "code");
        } else {
            http_push_response(L, c);
            if (sort) {                               /* final: req.retry unset, status not retried */
                lua_rawgeti(L, 2, (int)i + 1);
                lua_getfield(L, -1, "retry");
                final = lua_isnil(L, -1);
                lua_pop(L, 2);
                if (final) {
                    lua_pushinteger(L, (lua_Integer)c->status);
                    lua_gettable(L, 5);
                    final = !lua_toboolean(L, -1);
                    lua_pop(L, 1);
                }
                if (final) {                          /* {res = res} */
                    lua_createtable(L, 0, 1);
                    lua_insert(L, -2);
                    lua_setfield(L, -2, "res");
                }
            }
        }
        if (sort && !final) {
            lua_pushinteger(L, (lua_Integer)i + 1);
            lua_rawseti(L, -3, ++npending);
        }
        lua_rawseti(L, results, (int)i + 1);
    }
    if (sort && npending == 0) {                      /* ... results nil */
        lua_pop(L, 1);
        lua_pushnil(L);
    }
    for (size_t i = 0; i < n; i++) {                  /* don't pin big answers */
        mallapi_http_call *c = &ud->slots[i].call;
        mallapi_http_call_reset(c);
        if (c->body_out.cap > 64 * 1024) mallapi_http_buf_free(&c->body_out);
        if (c->headers.cap > 64 * 1024) mallapi_http_buf_free(&c->headers);
    }
    return sort ? 2 : 1;
}

/* __gc, __close and close(): free the C session; a second time does nothing. */
static int http_close(lua_State *L) {
    http_session_ud *ud = luaL_checkudata(L, 1, MALLAPI_MT_SESSION);
    if (ud->session) {
        mallapi_http_call_free(&ud->call);
        http_slots_free(ud);
        mallapi_http_session_free(ud->session);
        ud->session = NULL;
    }
    return 0;
}

static int http_tostring(lua_State *L) {
    http_session_ud *ud = luaL_checkudata(L, 1, MALLAPI_MT_SESSION);
    lua_pushfstring(L, "mallapi.Session (%s)", ud->session ? "open" : "closed");
    return 1;
}

/* ---- module-level helpers ---- */


static int http_url_encode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    mallapi_http_buf b = { NULL, 0, 0 };
    if (mallapi_http_url_encode(&b, s, n) < 0) {
        mallapi_http_buf_free(&b);
        return luaL_error(L, "http.url_encode: out of memory");
    }
    lua_pushlstring(L, b.data, b.len);
    mallapi_http_buf_free(&b);
    return 1;
}

void mallapi_open_http(lua_State *L) {
    static const luaL_Reg session_methods[] = {
        { "request", http_request },
        { "batch", http_batch },
        { "close", http_close },
        { NULL, NULL },
    };
    if (luaL_newmetatable(L, MALLAPI_MT_SESSION)) {    /* core mt */
        lua_newtable(L);
        for (int k = 0; k < HTTP_K_COUNT; k++) lua_pushstring(L, http_res_keys[k]);
        luaL_setfuncs(L, session_methods, HTTP_K_COUNT);   /* request and batch use them */
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, http_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, http_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, http_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    static const luaL_Reg funcs[] = {
        { "new", http_new },
        { "url_encode", http_url_encode },
        { NULL, NULL },
    };
    lua_newtable(L);                                  /* core http */
    luaL_setfuncs(L, funcs, 0);
    lua_setfield(L, -2, "http");                      /* core */
}
