/* json.c: the Lua-free half of the JSON codec (see json.h): whitespace and
 * character tables, string scanning (escapes, surrogate pairs, strict UTF-8),
 * number scanning (exact int64 path, strtod.c's exact fast paths, strtod fallback),
 * validate-only skipping, error positions, the output buffer with string
 * escaping and integer printing; floats are written by dtoa.c.
 * bind_json.c builds and walks Lua values on top of these. */
#include "json.h"

#include "dtoa.h"
#include "strtod.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---------------------------------------------------------------- tables */

const unsigned char mallapi_json_ws[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1,
};

/* 1 for bytes that may appear in a string as they are and need no check:
 * printable ASCII other than '"' and '\\'. */
static const unsigned char json_plain[256] = {
#define P(c) ((c) >= 0x20 && (c) < 0x80 && (c) != '"' && (c) != '\\')
#define R4(c) P(c), P(c + 1), P(c + 2), P(c + 3)
#define R16(c) R4(c), R4(c + 4), R4(c + 8), R4(c + 12)
#define R64(c) R16(c), R16(c + 16), R16(c + 32), R16(c + 48)
    R64(0), R64(64), R64(128), R64(192)
};

/* Exponents are read up to this magnitude (then saturated): far beyond any
 * double, and beyond the count of fraction digits of any document that fits
 * in memory, so that exponent - fraction digits keeps the right sign. */
#define JSON_EXP_CAP ((int64_t)100000000000000000)   /* 1e17: exp * 10 + 9 stays in int64 */

static inline int json_isdigit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Length (2..4) of the valid UTF-8 sequence at q, or 0: rejects overlong
 * forms, surrogates and code points above U+10FFFF. Reads stop at the first
 * bad byte, so the NUL sentinel is never passed. */
static int json_utf8_seq(const unsigned char *q) {
    unsigned c = q[0];
    if (c < 0xC2) return 0;
    if (c < 0xE0) return (q[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if ((q[1] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && q[1] < 0xA0) return 0;
        if (c == 0xED && q[1] >= 0xA0) return 0;
        return (q[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c < 0xF5) {
        if ((q[1] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && q[1] < 0x90) return 0;
        if (c == 0xF4 && q[1] >= 0x90) return 0;
        if ((q[2] & 0xC0) != 0x80) return 0;
        return (q[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

/* ---------------------------------------------------------------- buffer */

int mallapi_jbuf_grow(mallapi_jbuf *b, size_t need) {
    size_t cap = b->cap ? b->cap : 256;
    if (need > SIZE_MAX / 2 - b->len) return -1;
    while (cap - b->len < need) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

void mallapi_jbuf_free(mallapi_jbuf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---------------------------------------------------------------- errors */

const char *mallapi_json_fail(mallapi_json_scanner *s, const char *p, const char *code,
                              const char *what) {
    size_t line = 1, col = 1;
    for (const char *q = s->start; q < p; q++) {
        if (*q == '\n') { line++; col = 1; } else col++;
    }
    snprintf(s->err, sizeof s->err, "json: %s at line %zu column %zu (byte %zu)", what, line, col,
             (size_t)(p - s->start) + 1);
    s->errcode = code;
    return NULL;
}

const char *mallapi_json_unexpected(mallapi_json_scanner *s, const char *p) {
    char what[32];
    unsigned char c = (unsigned char)*p;
    if (p >= s->end) return mallapi_json_fail(s, p, "SYNTAX", "unexpected end of input");
    if (c > 0x20 && c < 0x7f) snprintf(what, sizeof what, "unexpected '%c'", c);
    else snprintf(what, sizeof what, "unexpected byte 0x%02X", c);
    return mallapi_json_fail(s, p, "SYNTAX", what);
}

/* ---------------------------------------------------------------- strings */

static int json_hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;   /* also stops at the NUL sentinel */
    }
    *out = v;
    return 0;
}

static void json_put_utf8(mallapi_jbuf *b, unsigned cp) {
    char *o = b->data + b->len;
    if (cp < 0x80) { o[0] = (char)cp; b->len += 1; }
    else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); b->len += 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); b->len += 3;
    } else {
        o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); b->len += 4;
    }
}

/* Nonzero when one of the 8 bytes in v is a control character, '"', '\\'
 * or non-ASCII: the word-at-a-time test for plain string runs. */
static inline uint64_t json_special8(uint64_t v) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = v ^ (ones * '"'), bslash = v ^ (ones * '\\');
    uint64_t ctrl = (v - ones * 0x20) & ~v;
    uint64_t zq = (quote - ones) & ~quote, zb = (bslash - ones) & ~bslash;
    return (ctrl | zq | zb | v) & highs;
}

/* Skips whole 8-byte words of plain bytes (see json_plain): stops at the
 * first special byte when it lies in a word read, else with < 8 bytes left.
 * Reads never pass end. */
static inline const char *json_skip_plain_words(const char *q, const char *end) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - q >= 8) {
        uint64_t v, m;
        memcpy(&v, q, 8);
        /* The lowest flagged byte is always a true hit: borrows only carry
         * upwards from a real match. */
        if ((m = json_special8(v)) != 0) return q + (__builtin_ctzll(m) >> 3);
        q += 8;
    }
#else
    (void)end;
#endif
    return q;
}

/* First non-plain byte at or after q; the NUL at *end stops the byte loop. */
static inline const char *json_skip_plain(const char *q, const char *end) {
    q = json_skip_plain_words(q, end);
    while (json_plain[(unsigned char)*q]) q++;
    return q;
}

/* The same for a string with no sentinel: never reads at or past end. */
static inline const char *json_skip_plain_n(const char *q, const char *end) {
    q = json_skip_plain_words(q, end);
    while (q < end && json_plain[(unsigned char)*q]) q++;
    return q;
}

/* The byte a one-letter escape stands for (0: not a one-letter escape). */
static const char json_unescape[256] = {
    ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b', ['f'] = '\f', ['n'] = '\n', ['r'] = '\r',
    ['t'] = '\t',
};

/* Slow path of scan_string: the string has escapes or bytes to replace.
 * run_start..q is the clean prefix already scanned. Plain runs are copied a
 * word at a time (each word stored whole, the length advanced only up to the
 * first special byte); the buffer keeps 16 spare bytes for whatever one escape
 * or UTF-8 sequence writes, so the loop checks room once per run. */
static const char *json_scan_string_slow(mallapi_json_scanner *s, const char *run_start,
                                         const char *q, const char **str, size_t *len) {
    mallapi_jbuf *b = s->scratch;
    const char *end = s->end;
    b->len = 0;
    if (mallapi_jbuf_append(b, run_start, (size_t)(q - run_start)))
        return mallapi_json_fail(s, q, "MEMORY", "out of memory");
    for (;;) {
        if (mallapi_jbuf_reserve(b, 64)) return mallapi_json_fail(s, q, "MEMORY", "out of memory");
        char *o = b->data + b->len, *lim = b->data + b->cap - 16;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        while (end - q >= 8 && lim - o >= 8) {
            uint64_t v, m;
            memcpy(&v, q, 8);
            memcpy(o, &v, 8);
            if ((m = json_special8(v)) != 0) {
                size_t n = (size_t)__builtin_ctzll(m) >> 3;
                o += n;
                q += n;
                break;
            }
            o += 8;
            q += 8;
        }
#endif
        while (o < lim && json_plain[(unsigned char)*q]) *o++ = *q++;
        b->len = (size_t)(o - b->data);
        if (json_plain[(unsigned char)*q]) continue;   /* out of room, not a special byte */
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            *str = b->data;
            *len = b->len;
            return q + 1;
        }
        if (c == '\\') {
            char out = json_unescape[(unsigned char)q[1]];
            if (out) {
                mallapi_jbuf_putc(b, out);
                q += 2;
                continue;
            }
            switch (q[1]) {
            case 'u': {
                unsigned cp, lo;
                if (json_hex4(q + 2, &cp)) return mallapi_json_fail(s, q, "SYNTAX", "invalid \\u escape");
                q += 6;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (q[0] == '\\' && q[1] == 'u' && json_hex4(q + 2, &lo) == 0 &&
                        lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        q += 6;
                    } else if (s->replace_invalid_utf8) {
                        cp = 0xFFFD;
                    } else {
                        return mallapi_json_fail(s, q - 6, "SYNTAX", "invalid surrogate");
                    }
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    if (!s->replace_invalid_utf8)
                        return mallapi_json_fail(s, q - 6, "SYNTAX", "invalid surrogate");
                    cp = 0xFFFD;
                }
                json_put_utf8(b, cp);
                continue;
            }
            default:
                return mallapi_json_fail(s, q, "SYNTAX", "invalid escape");
            }
        }
        if (c >= 0x80) {
            int n = json_utf8_seq((const unsigned char *)q);
            if (n) {
                mallapi_jbuf_putn(b, q, (size_t)n);
                q += n;
            } else if (s->replace_invalid_utf8) {
                mallapi_jbuf_putn(b, "\xEF\xBF\xBD", 3);
                q++;
            } else {
                return mallapi_json_fail(s, q, "SYNTAX", "invalid UTF-8");
            }
            continue;
        }
        if (q >= s->end) return mallapi_json_fail(s, q, "SYNTAX", "unterminated string");
        return mallapi_json_fail(s, q, "SYNTAX", "unescaped control character in string");
    }
}

const char *mallapi_json_scan_string(mallapi_json_scanner *s, const char *p,
                                     const char **str, size_t *len) {
    const char *q = p;
    for (;;) {
        q = json_skip_plain(q, s->end);
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            *str = p;
            *len = (size_t)(q - p);
            return q + 1;
        }
        if (c >= 0x80) {
            int n;
            while ((n = json_utf8_seq((const unsigned char *)q)) != 0) {
                q += n;
                if ((unsigned char)*q < 0x80) break;
            }
            if (n) continue;
            if (!s->replace_invalid_utf8) return mallapi_json_fail(s, q, "SYNTAX", "invalid UTF-8");
        } else if (c != '\\') {
            if (q >= s->end) return mallapi_json_fail(s, q, "SYNTAX", "unterminated string");
            return mallapi_json_fail(s, q, "SYNTAX", "unescaped control character in string");
        }
        return json_scan_string_slow(s, p, q, str, len);
    }
}

/* ---------------------------------------------------------------- numbers */

/* strtod on a private NUL-terminated copy, with '.' swapped for the locale's
 * decimal point. */
double mallapi_json_strtod(const char *text, size_t len) {
    char small[64];
    char *copy = len < sizeof small ? small : malloc(len + 1);
    if (!copy) return NAN;
    memcpy(copy, text, len);
    copy[len] = '\0';
    char point = localeconv()->decimal_point[0];
    if (point != '.') {
        for (size_t i = 0; i < len; i++) if (copy[i] == '.') copy[i] = point;
    }
    double d = strtod(copy, NULL);
    if (copy != small) free(copy);
    return d;
}

const char *mallapi_json_scan_number(mallapi_json_scanner *s, const char *p, mallapi_json_number *n) {
    const char *start = p;
    int neg = 0;
    uint64_t mant = 0;
    int sig = 0;          /* significant digits accumulated in mant */
    int64_t dropped = 0;  /* digits that did not fit in mant */
    if (*p == '-') { neg = 1; p++; }
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        do {
            if (sig < 19) { mant = mant * 10 + (uint64_t)(*p - '0'); sig++; }
            else dropped++;
            p++;
        } while (json_isdigit((unsigned char)*p));
    } else {
        return mallapi_json_fail(s, start, "SYNTAX", "invalid number");
    }
    n->negative = neg;
    n->text = start;
    if (*p != '.' && *p != 'e' && *p != 'E') {
        n->len = (size_t)(p - start);
        if (dropped || mant > (uint64_t)INT64_MAX + (uint64_t)neg) {
            n->kind = MALLAPI_JSON_BIGINT;
        } else if (neg && mant == 0) {
            n->kind = MALLAPI_JSON_FLOAT;     /* "-0" keeps its sign as a float */
            n->d = -0.0;
        } else {
            n->kind = MALLAPI_JSON_INT;
            n->i = neg ? (int64_t)(0 - mant) : (int64_t)mant;
        }
        return p;
    }
    /* frac counts every fraction digit read into mant or dropped; exp is
     * saturated far beyond any double (and beyond any possible fraction
     * length), so e10 = exp - frac is exact whenever it matters. */
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        if (!json_isdigit((unsigned char)*p)) return mallapi_json_fail(s, start, "SYNTAX", "invalid number");
        do {
            if (sig < 19) {
                if (mant || *p != '0') sig++;
                mant = mant * 10 + (uint64_t)(*p - '0');
                frac++;
            } else {
                dropped++;
                frac++;
            }
            p++;
        } while (json_isdigit((unsigned char)*p));
    }
    int64_t exp = 0;
    if (*p == 'e' || *p == 'E') {
        int eneg = 0;
        p++;
        if (*p == '+' || *p == '-') { eneg = *p == '-'; p++; }
        if (!json_isdigit((unsigned char)*p)) return mallapi_json_fail(s, start, "SYNTAX", "invalid number");
        do {
            if (exp < JSON_EXP_CAP) exp = exp * 10 + (*p - '0');
            p++;
        } while (json_isdigit((unsigned char)*p));
        if (eneg) exp = -exp;
    }
    n->len = (size_t)(p - start);
    n->kind = MALLAPI_JSON_FLOAT;
    /* Up to 19 digits, every one in mant: Clinger's fast path or Eisel-Lemire
     * (strtod.c) decide nearly every value exactly without strtod. */
    if (!dropped && mallapi_strtod_decimal(mant, exp - frac, neg, &n->d)) return p;
    n->d = mallapi_json_strtod(start, n->len);
    if (isinf(n->d)) n->kind = MALLAPI_JSON_BIGFLOAT;
    return p;
}

/* A number token as 0.D x 10^pexp, D its significant digits without leading
 * or trailing zeros, read across the integer and fraction parts. */
typedef struct {
    int neg, zero;
    const char *ip, *fp;   /* integer and fraction digits */
    size_t in, fn;
    size_t lz, nd;         /* leading zeros skipped in ip+fp; significant digits */
    int64_t pexp;
} json_decimal;

static char json_decimal_digit(const json_decimal *x, size_t i) {
    size_t j = x->lz + i;
    return j < x->in ? x->ip[j] : x->fp[j - x->in];
}

static void json_decimal_read(json_decimal *x, const char *t, size_t len) {
    const char *p = t, *end = t + len;
    int64_t exp = 0;
    x->neg = *p == '-';
    if (x->neg) p++;
    x->ip = p;
    while (p < end && json_isdigit((unsigned char)*p)) p++;
    x->in = (size_t)(p - x->ip);
    x->fp = p;
    x->fn = 0;
    if (p < end && *p == '.') {
        x->fp = ++p;
        while (p < end && json_isdigit((unsigned char)*p)) p++;
        x->fn = (size_t)(p - x->fp);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        p++;
        if (*p == '+' || *p == '-') eneg = *p++ == '-';
        while (p < end && json_isdigit((unsigned char)*p)) {
            if (exp < JSON_EXP_CAP) exp = exp * 10 + (*p - '0');
            p++;
        }
        if (eneg) exp = -exp;
    }
    size_t total = x->in + x->fn;
    x->lz = 0;
    x->nd = total;
    while (x->lz < total && json_decimal_digit(x, 0) == '0') { x->lz++; x->nd--; }
    x->zero = x->nd == 0;
    while (x->nd > 0 && json_decimal_digit(x, x->nd - 1) == '0') x->nd--;
    x->pexp = (int64_t)x->in - (int64_t)x->lz + exp;
}

int mallapi_json_compare_numbers(const char *a, size_t alen, const char *b, size_t blen) {
    json_decimal x, y;
    json_decimal_read(&x, a, alen);
    json_decimal_read(&y, b, blen);
    if (x.zero && y.zero) return 0;
    if (x.zero) return y.neg ? 1 : -1;
    if (y.zero) return x.neg ? -1 : 1;
    if (x.neg != y.neg) return x.neg ? -1 : 1;
    int c = 0;
    if (x.pexp != y.pexp) c = x.pexp < y.pexp ? -1 : 1;
    else {
        size_t n = x.nd < y.nd ? x.nd : y.nd;
        for (size_t i = 0; i < n && !c; i++) {
            char dx = json_decimal_digit(&x, i), dy = json_decimal_digit(&y, i);
            if (dx != dy) c = dx < dy ? -1 : 1;
        }
        if (!c && x.nd != y.nd) c = x.nd < y.nd ? -1 : 1;
    }
    return x.neg ? -c : c;
}

size_t mallapi_json_exact_double(double d, char *out) {
    /* A double has at most 767 significant decimal digits, and glibc's (and
     * musl's) printf writes the exact binary value when asked for them all. */
    int n = snprintf(out, MALLAPI_JSON_EXACT_LEN, "%.766e", d);
    char point = localeconv()->decimal_point[0];
    for (int i = 0; i < n; i++) if (out[i] == point) out[i] = '.';
    return (size_t)n;
}

int mallapi_json_is_number(const char *text, size_t len) {
    mallapi_json_scanner s;
    mallapi_json_number n;
    char buf[64];
    /* The scanner stops at the first byte outside the grammar; bound it with
     * a NUL-terminated copy so it never reads past text[len). */
    char *copy = len < sizeof buf ? buf : malloc(len + 1);
    if (!copy) return 0;
    memcpy(copy, text, len);
    copy[len] = '\0';
    s.start = copy;
    s.end = copy + len;
    int ok = len > 0 && (copy[0] == '-' || json_isdigit((unsigned char)copy[0])) &&
             mallapi_json_scan_number(&s, copy, &n) == copy + len;
    if (copy != buf) free(copy);
    return ok;
}

/* ---------------------------------------------------------------- skipping */

static const char *json_skip_literal(mallapi_json_scanner *s, const char *p, const char *lit, size_t n) {
    if (strncmp(p, lit, n) != 0) return mallapi_json_fail(s, p, "SYNTAX", "invalid literal");
    return p + n;
}

const char *mallapi_json_skip_value(mallapi_json_scanner *s, const char *p, int depth_left) {
    const char *str;
    size_t len;
    mallapi_json_number num;
    switch (*p) {
    case '"':
        return mallapi_json_scan_string(s, p + 1, &str, &len);
    case 't': return json_skip_literal(s, p, "true", 4);
    case 'f': return json_skip_literal(s, p, "false", 5);
    case 'n': return json_skip_literal(s, p, "null", 4);
    case '[':
    case '{': {
        char close = *p == '[' ? ']' : '}';
        int object = *p == '{';
        if (depth_left <= 0) return mallapi_json_fail(s, p, "DEPTH", "nesting too deep");
        p = mallapi_json_skip_ws(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (object) {
                if (*p != '"') return mallapi_json_unexpected(s, p);
                if (!(p = mallapi_json_scan_string(s, p + 1, &str, &len))) return NULL;
                p = mallapi_json_skip_ws(p);
                if (*p != ':') return mallapi_json_unexpected(s, p);
                p = mallapi_json_skip_ws(p + 1);
            }
            if (!(p = mallapi_json_skip_value(s, p, depth_left - 1))) return NULL;
            p = mallapi_json_skip_ws(p);
            if (*p == close) return p + 1;
            if (*p != ',') return mallapi_json_unexpected(s, p);
            p = mallapi_json_skip_ws(p + 1);
        }
    }
    default:
        if (*p == '-' || json_isdigit((unsigned char)*p)) return mallapi_json_scan_number(s, p, &num);
        return mallapi_json_unexpected(s, p);
    }
}

/* ---------------------------------------------------------------- encoding */

/* 0: copy as is; 1: needs a short escape or \u00XX; 2: start of a UTF-8 sequence. */
static const unsigned char json_esc_class[256] = {
#undef P
#define P(c) ((c) >= 0x80 ? 2 : ((c) < 0x20 || (c) == '"' || (c) == '\\') ? 1 : 0)
    R64(0), R64(64), R64(128), R64(192)
#undef P
#undef R64
#undef R16
#undef R4
};

int mallapi_json_put_string(mallapi_jbuf *b, const char *str, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)str, *end = p + n;
    /* Room for the quotes and every byte as is; each escape reserves its
     * extra bytes on top of what is left. */
    if (mallapi_jbuf_reserve(b, n + 2)) return -1;
    mallapi_jbuf_putc(b, '"');
    for (;;) {
        const unsigned char *r = p;
        for (;;) {
            p = (const unsigned char *)json_skip_plain_n((const char *)p, (const char *)end);
            if (p >= end) break;
            unsigned cls = json_esc_class[*p];
            if (cls == 0) { p++; continue; }
            if (cls == 1) break;
            /* UTF-8: validate against a bounded view so that a sequence
             * cut by the end of the string is not read past it. */
            int len;
            if (end - p >= 4) len = json_utf8_seq(p);
            else {
                unsigned char tmp[5] = {0};
                memcpy(tmp, p, (size_t)(end - p));
                len = json_utf8_seq(tmp);
            }
            if (!len) return -2;
            p += len;
        }
        if (p > r) mallapi_jbuf_putn(b, (const char *)r, (size_t)(p - r));
        if (p >= end) break;
        if (mallapi_jbuf_reserve(b, (size_t)(end - p) + 7)) return -1;
        char *o = b->data + b->len;
        unsigned char c = *p++;
        o[0] = '\\';
        switch (c) {
        case '"': o[1] = '"'; b->len += 2; break;
        case '\\': o[1] = '\\'; b->len += 2; break;
        case '\b': o[1] = 'b'; b->len += 2; break;
        case '\f': o[1] = 'f'; b->len += 2; break;
        case '\n': o[1] = 'n'; b->len += 2; break;
        case '\r': o[1] = 'r'; b->len += 2; break;
        case '\t': o[1] = 't'; b->len += 2; break;
        default:
            o[1] = 'u'; o[2] = '0'; o[3] = '0'; o[4] = hex[c >> 4]; o[5] = hex[c & 15];
            b->len += 6;
        }
    }
    mallapi_jbuf_putc(b, '"');
    return 0;
}

int mallapi_json_put_int(mallapi_jbuf *b, int64_t v) {
    char tmp[24], *end = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char *s = mallapi_dtoa_utoa(u, end);
    if (v < 0) *--s = '-';
    return mallapi_jbuf_append(b, s, (size_t)(end - s));
}

size_t mallapi_json_fmt_double(double d, char *out, int mark_float) {
    return mallapi_dtoa_format(d, out, mark_float);
}
