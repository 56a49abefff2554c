/* bind_sign.c: Lua binding of sign.c as core.sign (the canonical string of
 * a parameter table that vendors sign). Secrets (sign prefix/suffix) never
 * enter a message. */
#include <math.h>
#include <string.h>

#include "bind.h"
#include "mallapi.h"
#include "sign.h"

#define BIND_STACKBUF 1024          /* outputs up to this size need no allocation */
#define BIND_MAX_EXCLUDE 64

/* ---- sign -------------------------------------------------------------- */

typedef struct {
    mallapi_sign_opts opts;
    int skip_empty;
    size_t n_exclude;
    const char *exclude[BIND_MAX_EXCLUDE];
    size_t exclude_len[BIND_MAX_EXCLUDE];
} bind_sign_config;

/* An optional string option of the opts table at index 2 (value on top). */
static const char *bind_sign_optstring(lua_State *L, const char *name, size_t *len) {
    int t = lua_type(L, -1);
    /* Strings only: a number converted here would live on the stack alone
     * and be popped before use; a string is anchored by the opts table. */
    if (t != LUA_TSTRING)
        bind_argerror(L, 2, "canonical", "opts.%s must be a string, got %s", name, luaL_typename(L, -1));
    return lua_tolstring(L, -1, len);
}

/* The string key k (klen bytes, NULL when not a string) equals the literal. */
#define BIND_KEY_IS(lit) (k != NULL && klen == sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)

/* Read opts (index 2) into cfg. Every key must be known, so a misspelt
 * option fails loudly instead of changing the signature silently. The
 * strings stay anchored by the opts table. */
static void bind_sign_read_opts(lua_State *L, bind_sign_config *cfg) {
    cfg->opts.style = MALLAPI_SIGN_CONCAT;
    cfg->opts.sep_len = cfg->opts.prefix_len = cfg->opts.suffix_len = 0;
    cfg->skip_empty = 0;
    cfg->n_exclude = 0;   /* the exclude arrays are left unset: only n_exclude entries are read */
    cfg->opts.sep = cfg->opts.prefix = cfg->opts.suffix = "";
    if (lua_isnoneornil(L, 2)) return;
    if (!lua_istable(L, 2))
        bind_typeerror(L, 2, "canonical", "table");
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {                           /* key value */
        size_t klen = 0, len;
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &klen) : NULL;
        if (BIND_KEY_IS("style")) {
            const char *s = bind_sign_optstring(L, "style", &len);
            if (strcmp(s, "concat") == 0) cfg->opts.style = MALLAPI_SIGN_CONCAT;
            else if (strcmp(s, "pairs") == 0) cfg->opts.style = MALLAPI_SIGN_PAIRS;
            else if (strcmp(s, "values") == 0) cfg->opts.style = MALLAPI_SIGN_VALUES;
            else {
                char word[40];
                bind_argerror(L, 2, "canonical", "unknown style '%s', expected concat, pairs or values",
                              bind_shortword(s, len, word, sizeof word));
            }
        } else if (BIND_KEY_IS("sep")) {
            cfg->opts.sep = bind_sign_optstring(L, "sep", &cfg->opts.sep_len);
        } else if (BIND_KEY_IS("prefix")) {
            cfg->opts.prefix = bind_sign_optstring(L, "prefix", &cfg->opts.prefix_len);
        } else if (BIND_KEY_IS("suffix")) {
            cfg->opts.suffix = bind_sign_optstring(L, "suffix", &cfg->opts.suffix_len);
        } else if (BIND_KEY_IS("skip_empty")) {
            if (!lua_isboolean(L, -1))
                bind_argerror(L, 2, "canonical", "opts.skip_empty must be a boolean, got %s",
                              luaL_typename(L, -1));
            cfg->skip_empty = lua_toboolean(L, -1);
        } else if (BIND_KEY_IS("exclude")) {
            if (!lua_istable(L, -1))
                bind_argerror(L, 2, "canonical", "opts.exclude must be a list of keys, got %s",
                              luaL_typename(L, -1));
            size_t n = lua_rawlen(L, -1);
            if (n > BIND_MAX_EXCLUDE)
                bind_argerror(L, 2, "canonical", "opts.exclude has more than %d keys", BIND_MAX_EXCLUDE);
            for (size_t i = 0; i < n; i++) {
                lua_rawgeti(L, -1, (int)i + 1);             /* key value item */
                if (lua_type(L, -1) != LUA_TSTRING)
                    bind_argerror(L, 2, "canonical", "opts.exclude[%d] must be a string, got %s",
                                  (int)i + 1, luaL_typename(L, -1));
                cfg->exclude[i] = lua_tolstring(L, -1, &cfg->exclude_len[i]);
                lua_pop(L, 1);                              /* key value */
            }
            cfg->n_exclude = n;
        } else {
            char word[40];
            if (k) bind_shortword(k, klen, word, sizeof word);
            else snprintf(word, sizeof word, "(%s)", luaL_typename(L, -2));
            bind_argerror(L, 2, "canonical", "unknown option '%s'", word);
        }
        lua_pop(L, 1);                                      /* key */
    }
}

static int bind_sign_excluded(const bind_sign_config *cfg, const char *k, size_t klen) {
    for (size_t i = 0; i < cfg->n_exclude; i++)
        if (cfg->exclude_len[i] == klen && memcmp(cfg->exclude[i], k, klen) == 0) return 1;
    return 0;
}

/* sign.canonical(params [, opts]) -> string
 * Stack during the walk: params opts [anchored strings / pair arrays...] key value */
static int bind_canonical(lua_State *L) {
    bind_sign_config cfg;
    mallapi_sign_pair stack_pairs[64];
    mallapi_sign_pair *pairs = stack_pairs;
    size_t n = 0, cap = 64;
    char word[40];

    if (!lua_istable(L, 1))
        bind_typeerror(L, 1, "canonical", "table");
    bind_sign_read_opts(L, &cfg);
    lua_settop(L, 2);
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {                           /* key value */
        size_t klen, vlen = 0;
        const char *k, *v = NULL;
        char num[MALLAPI_SIGN_NUMLEN];
        if (lua_type(L, -2) != LUA_TSTRING)
            bind_argerror(L, 1, "canonical", "key must be a string, got %s", luaL_typename(L, -2));
        k = lua_tolstring(L, -2, &klen);
        if (bind_sign_excluded(&cfg, k, klen)) { lua_pop(L, 1); continue; }
        switch (lua_type(L, -1)) {
        case LUA_TSTRING:
            v = lua_tolstring(L, -1, &vlen);   /* anchored by params */
            if (vlen == 0 && cfg.skip_empty) v = NULL;
            break;
        case LUA_TNUMBER: {
            lua_Number d = lua_tonumber(L, -1);
#if MALLAPI_HAS_INT64
            if (lua_isinteger(L, -1)) {
                vlen = mallapi_sign_format_integer((long long)lua_tointeger(L, -1), num);
            } else
#endif
            {
                if (d != d || d == HUGE_VAL || d == -HUGE_VAL)
                    bind_argerror(L, 1, "canonical", "value of '%s' is not a finite number",
                                  bind_shortword(k, klen, word, sizeof word));
                vlen = mallapi_sign_format_double(d, num);
            }
            luaL_checkstack(L, 4, "canonical");
            lua_pushlstring(L, num, vlen);                  /* key value str */
            lua_remove(L, -2);                              /* key str */
            lua_insert(L, -2);                              /* str key */
            lua_pushvalue(L, -2);                           /* str key str */
            v = lua_tolstring(L, -1, &vlen);
            break;
        }
        case LUA_TBOOLEAN:
            if (lua_toboolean(L, -1)) { v = "true"; vlen = 4; } else { v = "false"; vlen = 5; }
            break;
        case LUA_TLIGHTUSERDATA:                            /* a JSON null */
            if (lua_touserdata(L, -1) == NULL && cfg.skip_empty) break;
            /* fall through */
        default:
            /* A userdata with __tostring (the JSON raw number) signs as its text. */
            if (lua_type(L, -1) == LUA_TUSERDATA && luaL_getmetafield(L, -1, "__tostring")) {
                luaL_checkstack(L, 4, "canonical");
                lua_pushvalue(L, -2);                       /* key value fn value */
                lua_call(L, 1, 1);                          /* key value str */
                if (lua_type(L, -1) != LUA_TSTRING)
                    bind_argerror(L, 1, "canonical", "__tostring of '%s' must return a string",
                                  bind_shortword(k, klen, word, sizeof word));
                lua_remove(L, -2);                          /* key str */
                lua_insert(L, -2);                          /* str key */
                lua_pushvalue(L, -2);                       /* str key str */
                v = lua_tolstring(L, -1, &vlen);
                if (vlen == 0 && cfg.skip_empty) v = NULL;
                break;
            }
            bind_argerror(L, 1, "canonical",
                          "value of '%s' is a %s, expected string, number, boolean or raw number",
                          bind_shortword(k, klen, word, sizeof word),
                          lua_type(L, -1) == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == NULL
                              ? "null" : luaL_typename(L, -1));
        }
        if (v != NULL) {
            if (n == cap) {   /* grow into a userdata anchored below the key */
                mallapi_sign_pair *bigger;
                luaL_checkstack(L, 4, "canonical");
                bigger = (mallapi_sign_pair *)lua_newuserdata(L, 2 * cap * sizeof *pairs);
                memcpy(bigger, pairs, n * sizeof *pairs);   /* key value ud */
                lua_insert(L, -3);                          /* ud key value */
                pairs = bigger;
                cap *= 2;
            }
            pairs[n].key = k;
            pairs[n].key_len = klen;
            pairs[n].value = v;
            pairs[n].value_len = vlen;
            n++;
        }
        lua_pop(L, 1);                                      /* key */
    }
    mallapi_sign_sort(pairs, n);
    char stackbuf[BIND_STACKBUF];
    size_t len = mallapi_sign_write(pairs, n, &cfg.opts, stackbuf, sizeof stackbuf);
    char *out = stackbuf;
    if (len > sizeof stackbuf) {
        out = (char *)lua_newuserdata(L, len);
        mallapi_sign_write(pairs, n, &cfg.opts, out, len);
    }
    lua_pushlstring(L, out, len);
    return 1;
}

static const luaL_Reg bind_sign_funcs[] = {
    { "canonical", bind_canonical },
    { NULL, NULL },
};

/* ---- registration ------------------------------------------------------ */

void mallapi_open_sign(lua_State *L) {                    /* core */
    luaL_newlib(L, bind_sign_funcs);                    /* core sign */
    lua_setfield(L, -2, "sign");                            /* core */
}
