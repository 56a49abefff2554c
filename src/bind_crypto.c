/* bind_crypto.c: Lua binding of crypto.c as core.crypto (digests, HMAC,
 * random bytes, nonces, UUIDs, constant-time compare). Caller mistakes raise
 * "bad argument #N to 'fn' (...)"; secrets (HMAC keys) never enter a message. */
#include <math.h>
#include <string.h>

#include "bind.h"
#include "mallapi.h"
#include "crypto.h"
#include "codec.h"   /* hex / base64 output encodings */

#define BIND_MAX_RANDOM (1 << 24)   /* bytes per crypto.random / crypto.nonce call */
#define BIND_STACKBUF 1024          /* outputs up to this size need no allocation */

/* A count argument: a non-negative integer up to BIND_MAX_RANDOM. */
static size_t bind_checkcount(lua_State *L, int arg, const char *fname) {
    if (lua_type(L, arg) != LUA_TNUMBER)
        bind_typeerror(L, arg, fname, "number");
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
    mallapi_crypto_ctx **box = (mallapi_crypto_ctx **)luaL_checkudata(L, 1, MALLAPI_MT_CRYPTO_CTX);
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
        return mallapi_push_error(L, err, MALLAPI_E_CRYPTO);
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
        return mallapi_push_error(L, err, MALLAPI_E_CRYPTO);
    bind_push_encoded(L, md, mdlen, enc);
    return 1;
}

/* crypto.random(n) -> n raw bytes */
static int bind_random(lua_State *L) {
    size_t n = bind_checkcount(L, 1, "random");
    char stackbuf[256], err[MALLAPI_ERRLEN];
    unsigned char *buf = (unsigned char *)bind_buffer(L, stackbuf, sizeof stackbuf, n);
    if (mallapi_random(buf, n, err) != 0) return mallapi_push_error(L, err, MALLAPI_E_CRYPTO);
    lua_pushlstring(L, (const char *)buf, n);
    return 1;
}

/* crypto.nonce([n]) -> 2n lower-case hex digits of n random bytes (n = 16) */
static int bind_nonce(lua_State *L) {
    size_t n = lua_isnoneornil(L, 1) ? 16 : bind_checkcount(L, 1, "nonce");
    char stackbuf[3 * 128], err[MALLAPI_ERRLEN];
    char *buf = bind_buffer(L, stackbuf, sizeof stackbuf, 3 * n);
    unsigned char *raw = (unsigned char *)buf + 2 * n;
    if (mallapi_random(raw, n, err) != 0) return mallapi_push_error(L, err, MALLAPI_E_CRYPTO);
    mallapi_hexencode(raw, n, 0, buf);
    lua_pushlstring(L, buf, 2 * n);
    return 1;
}

/* crypto.uuid4() -> "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx" */
static int bind_uuid4(lua_State *L) {
    char out[36], err[MALLAPI_ERRLEN];
    if (mallapi_uuid4(out, err) != 0) return mallapi_push_error(L, err, MALLAPI_E_CRYPTO);
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

/* ---- registration ------------------------------------------------------ */

void mallapi_open_crypto(lua_State *L) {                    /* core */
    mallapi_crypto_ctx **box;
    lua_newtable(L);                                        /* core crypto */
    box = (mallapi_crypto_ctx **)lua_newuserdata(L, sizeof *box);
    *box = NULL;                                            /* core crypto ud */
    if (luaL_newmetatable(L, MALLAPI_MT_CRYPTO_CTX)) {
        lua_pushcfunction(L, bind_crypto_ctx_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    *box = mallapi_crypto_new();
    if (*box == NULL) luaL_error(L, "mallapi.crypto: out of memory");
    luaL_setfuncs(L, bind_crypto_funcs, 1);                 /* core crypto */
    lua_setfield(L, -2, "crypto");                          /* core */
}
