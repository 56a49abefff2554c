/* bind_util.c: small helpers shared by the binding files: the error triple,
 * argument checks that raise "bad argument #N to 'fn' (...)" naming the
 * function explicitly, and output buffers. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bind.h"
#include "mallapi.h"

int mallapi_push_error(lua_State *L, const char *msg, const char *code) {
    lua_pushnil(L);
    lua_pushstring(L, msg);
    if (code) lua_pushstring(L, code); else lua_pushnil(L);
    return 3;
}

/* Raise "bad argument #arg to 'fname' (message)". */
int bind_argerror(lua_State *L, int arg, const char *fname, const char *fmt, ...) {
    char msg[MALLAPI_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
}

/* Raise "bad argument #arg to 'fname' (<expected> expected, got <type>)". */
int bind_typeerror(lua_State *L, int arg, const char *fname, const char *expected) {
    return bind_argerror(L, arg, fname, "%s expected, got %s", expected, luaL_typename(L, arg));
}

const char *bind_checkstring(lua_State *L, int arg, const char *fname, size_t *len) {
    int t = lua_type(L, arg);
    if (t != LUA_TSTRING && t != LUA_TNUMBER) bind_typeerror(L, arg, fname, "string");
    return lua_tolstring(L, arg, len);
}

/* Milliseconds: a number (or numeric text, like luaL_checknumber) within
 * +-9e15, truncated toward zero. */
int64_t bind_checkms(lua_State *L, int arg, const char *fname) {
    if (!lua_isnumber(L, arg)) bind_typeerror(L, arg, fname, "number");
    lua_Number n = lua_tonumber(L, arg);
    if (n != n || n < -9.0e15 || n > 9.0e15) bind_argerror(L, arg, fname, "milliseconds out of range");
    return (int64_t)n;
}

/* Optional boolean: nil or absent is 0. */
int bind_optboolean(lua_State *L, int arg, const char *fname) {
    int t = lua_type(L, arg);
    if (t == LUA_TNONE || t == LUA_TNIL) return 0;
    if (t != LUA_TBOOLEAN) bind_typeerror(L, arg, fname, "boolean");
    return lua_toboolean(L, arg);
}

/* A short, printable copy of a caller's word for a message (never a secret). */
const char *bind_shortword(const char *s, size_t len, char *out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < cap; i++)
        out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (n < len && n + 4 <= cap) { memcpy(out + n, "...", 3); n += 3; }
    out[n] = '\0';
    return out;
}

/* Output space: stackbuf when need fits, else a userdata left on the stack
 * (collected with it, so an error half-way leaks nothing). */
char *bind_buffer(lua_State *L, char *stackbuf, size_t cap, size_t need) {
    if (need <= cap) return stackbuf;
    return (char *)lua_newuserdata(L, need);
}

int bind_decode_error(lua_State *L, const char *err) {
    return mallapi_push_error(L, err, MALLAPI_E_DECODE);
}

/* A decoder's answer: the n bytes at out, or nil, err, "DECODE" when n < 0. */
int bind_push_decoded(lua_State *L, const void *out, long n, const char *err) {
    if (n < 0) return bind_decode_error(L, err);
    lua_pushlstring(L, (const char *)out, (size_t)n);
    return 1;
}

