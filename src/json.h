/* json.h: the Lua-free half of mallapi's JSON codec: the scanner pieces the
 * decoder is built from (whitespace, strings with unescaping and UTF-8
 * checks, numbers, validate-only skipping), the output buffer with string
 * escaping and the shortest round-trip double formatter. bind_json.c builds
 * Lua values on top of it. Plain C data in and out; errors go to a buffer. */
#ifndef MALLAPI_JSON_H
#define MALLAPI_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "mallapi.h"

/* ---------------------------------------------------------------- output buffer
 * Growable byte buffer; the owner frees it with mallapi_jbuf_free. The reserve
 * helpers return 0, or -1 when memory runs out (the buffer is left intact). */
typedef struct {
    char *data;
    size_t len, cap;
} mallapi_jbuf;

int mallapi_jbuf_grow(mallapi_jbuf *b, size_t need);
void mallapi_jbuf_free(mallapi_jbuf *b);

static inline int mallapi_jbuf_reserve(mallapi_jbuf *b, size_t need) {
    return (b->cap - b->len >= need) ? 0 : mallapi_jbuf_grow(b, need);
}
/* Unchecked appends: call mallapi_jbuf_reserve first. */
static inline void mallapi_jbuf_putc(mallapi_jbuf *b, char c) { b->data[b->len++] = c; }
static inline void mallapi_jbuf_putn(mallapi_jbuf *b, const char *s, size_t n) {
    memcpy(b->data + b->len, s, n);
    b->len += n;
}
static inline int mallapi_jbuf_append(mallapi_jbuf *b, const char *s, size_t n) {
    if (n == 0) return 0;                 /* data may still be NULL */
    if (mallapi_jbuf_reserve(b, n)) return -1;
    mallapi_jbuf_putn(b, s, n);
    return 0;
}

/* Appends s as a quoted JSON string: control characters, '"' and '\\' escaped,
 * everything else (UTF-8) verbatim. Returns 0, -1 out of memory, -2 when s is
 * not valid UTF-8 (nothing useful appended then). */
int mallapi_json_put_string(mallapi_jbuf *b, const char *s, size_t n);

/* Appends a 64-bit integer in decimal. Returns 0 or -1 (out of memory). */
int mallapi_json_put_int(mallapi_jbuf *b, int64_t v);

/* Writes the shortest decimal text that reads back (strtod) to the same finite
 * double into out (at least 32 bytes) and returns its length. When
 * mark_float is set, an integral result gets ".0" so it reads back as a float
 * (Lua 5.4's float/integer split). */
size_t mallapi_json_fmt_double(double d, char *out, int mark_float);

/* ---------------------------------------------------------------- scanning
 * The document must be followed by a NUL byte (Lua strings are): the hot loops
 * use it as a sentinel instead of testing the end pointer. */
typedef struct {
    const char *start, *end;       /* the document; *end == '\0' */
    int replace_invalid_utf8;      /* invalid UTF-8 / lone surrogates -> U+FFFD */
    mallapi_jbuf *scratch;         /* unescaped strings; owned by the caller */
    char err[MALLAPI_ERRLEN];      /* "json: unexpected ',' at line 3 column 14 (byte 52)" */
    const char *errcode;           /* "SYNTAX", "DEPTH", "MEMORY" */
} mallapi_json_scanner;

extern const unsigned char mallapi_json_ws[256];

static inline const char *mallapi_json_skip_ws(const char *p) {
    while (mallapi_json_ws[(unsigned char)*p]) p++;
    return p;
}

/* Records an error at p: "json: <what> at line L column C (byte B)", all
 * 1-based, counted in bytes. Returns NULL so callers can `return fail(...)`. */
const char *mallapi_json_fail(mallapi_json_scanner *s, const char *p, const char *code,
                              const char *what);
/* "unexpected ','", "unexpected end of input", "unexpected byte 0x01". */
const char *mallapi_json_unexpected(mallapi_json_scanner *s, const char *p);

/* Scans a string whose opening quote is at p[-1]. On success returns the
 * position after the closing quote and sets *str and *len to the content: a
 * pointer into the document when it needed no change, else into s->scratch
 * (valid until the next scan). On error returns NULL with s->err set. */
const char *mallapi_json_scan_string(mallapi_json_scanner *s, const char *p,
                                     const char **str, size_t *len);

enum { MALLAPI_JSON_INT, MALLAPI_JSON_BIGINT, MALLAPI_JSON_FLOAT, MALLAPI_JSON_BIGFLOAT };
typedef struct {
    int kind;          /* INT: fits int64 (i); BIGINT: integer beyond int64;
                          FLOAT: d; BIGFLOAT: overflows a double */
    int negative;
    int64_t i;
    double d;
    const char *text;  /* the token, in the document */
    size_t len;
} mallapi_json_number;

/* Scans a number token at p ('-' or a digit). Returns the position after it,
 * or NULL with s->err set when it breaks the JSON number grammar. */
const char *mallapi_json_scan_number(mallapi_json_scanner *s, const char *p, mallapi_json_number *n);

/* Checks that text[0..len) is exactly one JSON number. Returns 1 or 0. */
int mallapi_json_is_number(const char *text, size_t len);

/* Exact order of two valid number tokens as decimal values: -1, 0 or 1
 * ("1.0" equals "1", "-0" equals "0"; no rounding through doubles). */
int mallapi_json_compare_numbers(const char *a, size_t alen, const char *b, size_t blen);

/* Writes the exact decimal value of the finite double d as a number token
 * into out (at least MALLAPI_JSON_EXACT_LEN bytes); returns its length. */
#define MALLAPI_JSON_EXACT_LEN 800
size_t mallapi_json_exact_double(double d, char *out);

/* strtod of text[0..len) (a valid number token) in any locale. */
double mallapi_json_strtod(const char *text, size_t len);

/* Validates one value at p (after whitespace) without building anything;
 * depth_left bounds the nesting. Returns the position after it or NULL. */
const char *mallapi_json_skip_value(mallapi_json_scanner *s, const char *p, int depth_left);

#endif
