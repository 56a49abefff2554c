/* bind_codec.c: Lua binding of codec.c as core.codec (URL, base64 and hex
 * encoders and decoders). Malformed input to a decoder returns nil, msg,
 * "DECODE"; caller mistakes raise. */
#include <string.h>

#include "bind.h"
#include "mallapi.h"
#include "codec.h"

#define BIND_STACKBUF 1024          /* outputs up to this size need no allocation */

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

/* ---- registration ------------------------------------------------------ */

void mallapi_open_codec(lua_State *L) {                    /* core */
    luaL_newlib(L, bind_codec_funcs);                    /* core codec */
    lua_setfield(L, -2, "codec");                            /* core */
}
