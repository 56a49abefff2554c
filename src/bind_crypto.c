/* bind_crypto.c: Lua binding of the signing primitives. Adds four tables to
 * the module: core.crypto (crypto.c), core.codec (codec.c), core.sign
 * (sign.c) and core.clock (clock.c). Caller mistakes raise "bad argument #N
 * to 'fn' (...)" with the function named explicitly (so the name survives
 * pcall and tail calls); malformed input to a decoder returns nil, msg,
 * "DECODE". Secrets (HMAC keys, sign prefix/suffix) never enter a message. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bind.h"
#include "mallapi.h"
#include "crypto.h"
#include "codec.h"
#include "sign.h"
#include "clock.h"

#define BIND_MT_CRYPTO_CTX "mallapi.CryptoContext"
#define BIND_MAX_RANDOM (1 << 24)   /* bytes per crypto.random / crypto.nonce call */
#define BIND_STACKBUF 1024          /* outputs up to this size need no allocation */
#define BIND_MAX_EXCLUDE 64

/* ---- argument helpers ------------------------------------------------- */

/* Raise "bad argument #arg to 'fname' (message)". */
static int bind_argerror(lua_State *L, int arg, const char *fname, const char *fmt, ...) {
    char msg[MALLAPI_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
}

static const char *bind_checkstring(lua_State *L, int arg, const char *fname, size_t *len) {
    int t = lua_type(L, arg);
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
        bind_argerror(L, arg, fname, "string expected, got %s", luaL_typename(L, arg));
    return lua_tolstring(L, arg, len);
}

/* Optional boolean: nil or absent is 0. */
static int bind_optboolean(lua_State *L, int arg, const char *fname) {
    int t = lua_type(L, arg);
    if (t == LUA_TNONE || t == LUA_TNIL) return 0;
    if (t != LUA_TBOOLEAN)
        bind_argerror(L, arg, fname, "boolean expected, got %s", luaL_typename(L, arg));
    return lua_toboolean(L, arg);
}

/* A short, printable copy of a caller's word for a message (never a secret). */
static const char *bind_shortword(const char *s, size_t len, char *out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < cap; i++)
        out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (n < len && n + 4 <= cap) { memcpy(out + n, "...", 3); n += 3; }
    out[n] = '\0';
    return out;
}

/* Output space: stackbuf when need fits, else a userdata left on the stack
 * (collected with it, so an error half-way leaks nothing). */
static char *bind_buffer(lua_State *L, char *stackbuf, size_t cap, size_t need) {
    if (need <= cap) return stackbuf;
    return (char *)lua_newuserdata(L, need);
}

static int bind_decode_error(lua_State *L, const char *err) {
    return mallapi_push_error(L, err, "DECODE");
}

/* A decoder's answer: the n bytes at out, or nil, err, "DECODE" when n < 0. */
static int bind_push_decoded(lua_State *L, const void *out, long n, const char *err) {
    if (n < 0) return bind_decode_error(L, err);
    lua_pushlstring(L, (const char *)out, (size_t)n);
    return 1;
}

/* A count argument: a non-negative integer up to BIND_MAX_RANDOM. */
static size_t bind_checkcount(lua_State *L, int arg, const char *fname) {
    if (lua_type(L, arg) != LUA_TNUMBER)
        bind_argerror(L, arg, fname, "number expected, got %s", luaL_typename(L, arg));
    lua_Number n = lua_tonumber(L, arg);
    if (n != n) bind_argerror(L, arg, fname, "count must be between 0 and %d (got NaN)", BIND_MAX_RANDOM);
    if (!lua_isinteger(L, arg) && n != floor(n))
        bind_argerror(L, arg, fname, "number has no integer representation");
    if (n < 0 || n > BIND_MAX_RANDOM)
        bind_argerror(L, arg, fname, "count must be between 0 and %d", BIND_MAX_RANDOM);
    return (size_t)n;
}

/* ---- crypto ------------------------------------------------------------ */

typedef enum { ENC_HEX, ENC_HEX_UPPER, ENC_RAW, ENC_BASE64 } bind_encoding;

static mallapi_crypto_ctx *bind_crypto_ctx(lua_State *L) {
    mallapi_crypto_ctx **box = (mallapi_crypto_ctx **)lua_touserdata(L, lua_upvalueindex(1));
    return *box;
}

static int bind_crypto_ctx_gc(lua_State *L) {
    mallapi_crypto_ctx **box = (mallapi_crypto_ctx **)luaL_checkudata(L, 1, BIND_MT_CRYPTO_CTX);
    mallapi_crypto_free(*box);
    *box = NULL;
    return 0;
}

static mallapi_alg bind_checkalg(lua_State *L, int arg, const char *fname) {
    size_t len;
    const char *name = bind_checkstring(L, arg, fname, &len);
    int alg = mallapi_alg_from_name(name, len);
    if (alg < 0) {
        char word[40];
        bind_argerror(L, arg, fname, "unknown algorithm '%s', expected md5, sha1, sha256 or sha512",
                      bind_shortword(name, len, word, sizeof word));
    }
    return (mallapi_alg)alg;
}

static bind_encoding bind_checkencoding(lua_State *L, int arg, const char *fname) {
    size_t len;
    const char *name;
    if (lua_isnoneornil(L, arg)) return ENC_HEX;
    name = bind_checkstring(L, arg, fname, &len);
    if (len == 3 && memcmp(name, "hex", 3) == 0) return ENC_HEX;
    if (len == 3 && memcmp(name, "HEX", 3) == 0) return ENC_HEX_UPPER;
    if (len == 3 && memcmp(name, "raw", 3) == 0) return ENC_RAW;
    if (len == 6 && memcmp(name, "base64", 6) == 0) return ENC_BASE64;
    char word[40];
    bind_argerror(L, arg, fname, "unknown encoding '%s', expected hex, HEX, raw or base64",
                  bind_shortword(name, len, word, sizeof word));
    return ENC_HEX;
}

/* Push a digest in the requested encoding. */
static void bind_push_encoded(lua_State *L, const unsigned char *md, size_t len, bind_encoding enc) {
    char out[2 * MALLAPI_MAX_DIGEST];
    switch (enc) {
    case ENC_RAW:
        lua_pushlstring(L, (const char *)md, len);
        break;
    case ENC_BASE64:
        lua_pushlstring(L, out, mallapi_base64encode(md, len, 0, out));
        break;
    default:
        mallapi_hexencode(md, len, enc == ENC_HEX_UPPER, out);
        lua_pushlstring(L, out, 2 * len);
    }
}

/* crypto.digest(alg, data [, enc]) -> string */
static int bind_digest(lua_State *L) {
    size_t len, mdlen;
    mallapi_alg alg = bind_checkalg(L, 1, "digest");
    const char *data = bind_checkstring(L, 2, "digest", &len);
    bind_encoding enc = bind_checkencoding(L, 3, "digest");
    unsigned char md[MALLAPI_MAX_DIGEST];
    char err[MALLAPI_ERRLEN];
    if (mallapi_digest(bind_crypto_ctx(L), alg, data, len, md, &mdlen, err) != 0)
        return mallapi_push_error(L, err, "CRYPTO");
    bind_push_encoded(L, md, mdlen, enc);
    return 1;
}

/* crypto.hmac(alg, key, data [, enc]) -> string */
static int bind_hmac(lua_State *L) {
    size_t keylen, len, mdlen;
    mallapi_alg alg = bind_checkalg(L, 1, "hmac");
    const char *key = bind_checkstring(L, 2, "hmac", &keylen);
    const char *data = bind_checkstring(L, 3, "hmac", &len);
    bind_encoding enc = bind_checkencoding(L, 4, "hmac");
    unsigned char md[MALLAPI_MAX_DIGEST];
    char err[MALLAPI_ERRLEN];
    if (mallapi_hmac(bind_crypto_ctx(L), alg, key, keylen, data, len, md, &mdlen, err) != 0)
        return mallapi_push_error(L, err, "CRYPTO");
    bind_push_encoded(L, md, mdlen, enc);
    return 1;
}

/* crypto.random(n) -> n raw bytes */
static int bind_random(lua_State *L) {
    size_t n = bind_checkcount(L, 1, "random");
    char stackbuf[256], err[MALLAPI_ERRLEN];
    unsigned char *buf = (unsigned char *)bind_buffer(L, stackbuf, sizeof stackbuf, n);
    if (mallapi_random(buf, n, err) != 0) return mallapi_push_error(L, err, "CRYPTO");
    lua_pushlstring(L, (const char *)buf, n);
    return 1;
}

/* crypto.nonce([n]) -> 2n lower-case hex digits of n random bytes (n = 16) */
static int bind_nonce(lua_State *L) {
    size_t n = lua_isnoneornil(L, 1) ? 16 : bind_checkcount(L, 1, "nonce");
    char stackbuf[3 * 128], err[MALLAPI_ERRLEN];
    char *buf = bind_buffer(L, stackbuf, sizeof stackbuf, 3 * n);
    unsigned char *raw = (unsigned char *)buf + 2 * n;
    if (mallapi_random(raw, n, err) != 0) return mallapi_push_error(L, err, "CRYPTO");
    mallapi_hexencode(raw, n, 0, buf);
    lua_pushlstring(L, buf, 2 * n);
    return 1;
}

/* crypto.uuid4() -> "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx" */
static int bind_uuid4(lua_State *L) {
    char out[36], err[MALLAPI_ERRLEN];
    if (mallapi_uuid4(out, err) != 0) return mallapi_push_error(L, err, "CRYPTO");
    lua_pushlstring(L, out, sizeof out);
    return 1;
}

/* crypto.equals(a, b) -> boolean, in time that depends on the lengths only */
static int bind_equals(lua_State *L) {
    size_t alen, blen;
    const char *a = bind_checkstring(L, 1, "equals", &alen);
    const char *b = bind_checkstring(L, 2, "equals", &blen);
    lua_pushboolean(L, mallapi_equals(a, alen, b, blen));
    return 1;
}

static const luaL_Reg bind_crypto_funcs[] = {
    { "digest", bind_digest },
    { "hmac", bind_hmac },
    { "random", bind_random },
    { "nonce", bind_nonce },
    { "uuid4", bind_uuid4 },
    { "equals", bind_equals },
    { NULL, NULL },
};

/* ---- codec ------------------------------------------------------------- */

/* codec.urlencode(s [, flavor]) */
static int bind_urlencode(lua_State *L) {
    size_t len, flen;
    const char *s = bind_checkstring(L, 1, "urlencode", &len);
    mallapi_url_flavor flavor = MALLAPI_URL_RFC3986;
    if (!lua_isnoneornil(L, 2)) {
        const char *f = bind_checkstring(L, 2, "urlencode", &flen);
        if (flen == 7 && memcmp(f, "rfc3986", 7) == 0) flavor = MALLAPI_URL_RFC3986;
        else if (flen == 4 && memcmp(f, "form", 4) == 0) flavor = MALLAPI_URL_FORM;
        else if (flen == 4 && memcmp(f, "java", 4) == 0) flavor = MALLAPI_URL_JAVA;
        else {
            char word[40];
            bind_argerror(L, 2, "urlencode", "unknown flavor '%s', expected rfc3986, form or java",
                          bind_shortword(f, flen, word, sizeof word));
        }
    }
    char stackbuf[BIND_STACKBUF];
    char *out = bind_buffer(L, stackbuf, sizeof stackbuf, 3 * len);
    lua_pushlstring(L, out, mallapi_urlencode((const unsigned char *)s, len, flavor, out));
    return 1;
}

/* codec.urldecode(s [, plus_as_space]) -> string | nil, msg, "DECODE" */
static int bind_urldecode(lua_State *L) {
    size_t len;
    const char *s = bind_checkstring(L, 1, "urldecode", &len);
    int plus = bind_optboolean(L, 2, "urldecode");
    char stackbuf[BIND_STACKBUF], err[MALLAPI_ERRLEN];
    char *out = bind_buffer(L, stackbuf, sizeof stackbuf, len);
    return bind_push_decoded(L, out, mallapi_urldecode(s, len, plus, out, err), err);
}

/* codec.base64encode(s [, urlsafe]) */
static int bind_base64encode(lua_State *L) {
    size_t len;
    const char *s = bind_checkstring(L, 1, "base64encode", &len);
    int urlsafe = bind_optboolean(L, 2, "base64encode");
    char stackbuf[BIND_STACKBUF];
    char *out = bind_buffer(L, stackbuf, sizeof stackbuf, mallapi_base64_encoded_len(len, urlsafe));
    lua_pushlstring(L, out, mallapi_base64encode((const unsigned char *)s, len, urlsafe, out));
    return 1;
}

/* codec.base64decode(s [, urlsafe]) -> string | nil, msg, "DECODE" */
static int bind_base64decode(lua_State *L) {
    size_t len;
    const char *s = bind_checkstring(L, 1, "base64decode", &len);
    int urlsafe = bind_optboolean(L, 2, "base64decode");
    char stackbuf[BIND_STACKBUF], err[MALLAPI_ERRLEN];
    unsigned char *out = (unsigned char *)bind_buffer(L, stackbuf, sizeof stackbuf, 3 * (len / 4) + 3);
    return bind_push_decoded(L, out, mallapi_base64decode(s, len, urlsafe, out, err), err);
}

/* codec.hexencode(s [, upper]) */
static int bind_hexencode(lua_State *L) {
    size_t len;
    const char *s = bind_checkstring(L, 1, "hexencode", &len);
    int upper = bind_optboolean(L, 2, "hexencode");
    char stackbuf[BIND_STACKBUF];
    char *out = bind_buffer(L, stackbuf, sizeof stackbuf, 2 * len);
    mallapi_hexencode((const unsigned char *)s, len, upper, out);
    lua_pushlstring(L, out, 2 * len);
    return 1;
}

/* codec.hexdecode(s) -> string | nil, msg, "DECODE" */
static int bind_hexdecode(lua_State *L) {
    size_t len;
    const char *s = bind_checkstring(L, 1, "hexdecode", &len);
    char stackbuf[BIND_STACKBUF], err[MALLAPI_ERRLEN];
    unsigned char *out = (unsigned char *)bind_buffer(L, stackbuf, sizeof stackbuf, len / 2);
    return bind_push_decoded(L, out, mallapi_hexdecode(s, len, out, err), err);
}

static const luaL_Reg bind_codec_funcs[] = {
    { "urlencode", bind_urlencode },
    { "urldecode", bind_urldecode },
    { "base64encode", bind_base64encode },
    { "base64decode", bind_base64decode },
    { "hexencode", bind_hexencode },
    { "hexdecode", bind_hexdecode },
    { NULL, NULL },
};

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
        bind_argerror(L, 2, "canonical", "table expected, got %s", luaL_typename(L, 2));
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
        bind_argerror(L, 1, "canonical", "table expected, got %s", luaL_typename(L, 1));
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

/* ---- clock ------------------------------------------------------------- */

/* An instant in ms from argument arg; fractions are floored. */
static int64_t bind_checkms(lua_State *L, int arg, const char *fname) {
    if (lua_type(L, arg) != LUA_TNUMBER)
        bind_argerror(L, arg, fname, "number expected, got %s", luaL_typename(L, arg));
#if MALLAPI_HAS_INT64
    if (lua_isinteger(L, arg)) return (int64_t)lua_tointeger(L, arg);
#endif
    lua_Number d = floor(lua_tonumber(L, arg));
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0))
        bind_argerror(L, arg, fname, "time out of range, years 0001 to 9999");
    return (int64_t)d;
}

static int64_t bind_optms(lua_State *L, int arg, const char *fname) {
    return lua_isnoneornil(L, arg) ? mallapi_clock_now_ms() : bind_checkms(L, arg, fname);
}

/* A UTC offset: minutes as a number, or "Z" / "+HH:MM" / "-HH:MM" / "+HHMM" / "+HH";
 * absent means 0 (UTC). */
static int bind_optoffset(lua_State *L, int arg, const char *fname) {
    int minutes = 0;
    int t = lua_type(L, arg);
    if (t == LUA_TNONE || t == LUA_TNIL) return 0;
    if (t == LUA_TNUMBER) {
        lua_Number m = lua_tonumber(L, arg);
        if (m != floor(m) || m < -MALLAPI_CLOCK_MAX_OFFSET || m > MALLAPI_CLOCK_MAX_OFFSET)
            bind_argerror(L, arg, fname, "UTC offset must be whole minutes between -1080 and 1080");
        return (int)m;
    }
    if (t == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, arg, &len);
        if (mallapi_clock_parse_offset(s, len, &minutes) == 0) return minutes;
        char word[40];
        bind_argerror(L, arg, fname, "bad UTC offset '%s', expected minutes or '+HH:MM'",
                      bind_shortword(s, len, word, sizeof word));
    }
    return bind_argerror(L, arg, fname, "UTC offset expected, got %s", luaL_typename(L, arg));
}

/* clock.now_ms() -> integer milliseconds since the epoch */
static int bind_now_ms(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)mallapi_clock_now_ms());
    return 1;
}

/* clock.format(ms [, offset]) -> "yyyy-MM-dd HH:mm:ss" */
static int bind_clock_format(lua_State *L) {
    int64_t ms = bind_checkms(L, 1, "format");
    int offset = bind_optoffset(L, 2, "format");
    char out[19];
    if (mallapi_clock_format(ms, offset, out) != 0)
        bind_argerror(L, 1, "format", "time out of range, years 0001 to 9999");
    lua_pushlstring(L, out, sizeof out);
    return 1;
}

/* clock.parse(text [, offset]) -> ms | nil, msg, "DECODE" */
static int bind_clock_parse(lua_State *L) {
    size_t len;
    const char *s = bind_checkstring(L, 1, "parse", &len);
    int offset = bind_optoffset(L, 2, "parse");
    int64_t ms;
    char err[MALLAPI_ERRLEN];
    if (mallapi_clock_parse(s, len, offset, &ms, err) != 0) return bind_decode_error(L, err);
    lua_pushinteger(L, (lua_Integer)ms);
    return 1;
}

static void bind_push_int64(lua_State *L, int64_t v) {
    char out[24];
    lua_pushlstring(L, out, (size_t)snprintf(out, sizeof out, "%lld", (long long)v));
}

/* clock.seconds([ms]) -> decimal string of whole seconds (floor) */
static int bind_clock_seconds(lua_State *L) {
    int64_t ms = bind_optms(L, 1, "seconds");
    int64_t secs = ms / 1000;
    if (ms % 1000 < 0) secs--;   /* floor, without negating (math.mininteger) */
    bind_push_int64(L, secs);
    return 1;
}

/* clock.millis([ms]) -> decimal string of milliseconds */
static int bind_clock_millis(lua_State *L) {
    bind_push_int64(L, bind_optms(L, 1, "millis"));
    return 1;
}

static const luaL_Reg bind_clock_funcs[] = {
    { "now_ms", bind_now_ms },
    { "format", bind_clock_format },
    { "parse", bind_clock_parse },
    { "seconds", bind_clock_seconds },
    { "millis", bind_clock_millis },
    { NULL, NULL },
};

/* ---- registration ------------------------------------------------------ */

void mallapi_open_crypto(lua_State *L) {                    /* core */
    mallapi_crypto_ctx **box;
    lua_newtable(L);                                        /* core crypto */
    box = (mallapi_crypto_ctx **)lua_newuserdata(L, sizeof *box);
    *box = NULL;                                            /* core crypto ud */
    if (luaL_newmetatable(L, BIND_MT_CRYPTO_CTX)) {
        lua_pushcfunction(L, bind_crypto_ctx_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    *box = mallapi_crypto_new();
    if (*box == NULL) luaL_error(L, "mallapi.crypto: out of memory");
    luaL_setfuncs(L, bind_crypto_funcs, 1);                 /* core crypto */
    lua_setfield(L, -2, "crypto");                          /* core */

    lua_newtable(L);
    luaL_setfuncs(L, bind_codec_funcs, 0);
    lua_setfield(L, -2, "codec");

    lua_newtable(L);
    luaL_setfuncs(L, bind_sign_funcs, 0);
    lua_setfield(L, -2, "sign");

    lua_newtable(L);
    luaL_setfuncs(L, bind_clock_funcs, 0);
    lua_setfield(L, -2, "clock");
}
