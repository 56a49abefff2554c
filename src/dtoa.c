/* dtoa.c: shortest round-trip decimal text of a double, written for mallapi
 * from the Schubfach method (R. Giulietti, "The Schubfach way to render
 * doubles", 2020). Plain C, no Lua; the JSON encoder is its user.
 *
 * For x = c * 2^q, every decimal inside the rounding interval R of x reads back
 * to x. With k = floor(log10(width of R)), R holds at least one multiple of 10^k
 * and at most one of 10^(k+1). Scaled by 4 * 10^-k (one 64x128-bit product per
 * bound, rounded to odd so that comparisons with even numbers stay exact), the
 * answer is the multiple of 10^(k+1) in R if there is one, else whichever of
 * floor and ceil of x * 10^-k lies in R, the nearer when both do.
 * Relies on unsigned __int128 (GCC, Clang) and arithmetic right shifts. */
#include "dtoa.h"

#include <math.h>
#include <string.h>

#include "dtoa_table.h"

typedef unsigned __int128 dtoa_u128;

/* floor(log10(2^q)), floor(log10(3/4 * 2^q)), floor(log2(10^e)): exact over
 * the exponents of doubles (checked by src/gen/dtoa_table.py). */
static inline int dtoa_flog10_pow2(int q) { return (q * 315653) >> 20; }
static inline int dtoa_flog10_3q_pow2(int q) { return (q * 315653 - 131237) >> 20; }
static inline int dtoa_flog2_pow10(int e) { return (e * 1741647) >> 19; }

/* floor(g * cp / 2^128) with the lowest bit set when the product has a
 * fractional part (round to odd). g overestimates its power of ten by less
 * than one unit, so a low word of 0 or 1 stands for an exact product. */
static inline uint64_t dtoa_rop(const uint64_t g[2], uint64_t cp) {
    dtoa_u128 x = (dtoa_u128)g[1] * cp;
    dtoa_u128 y = (dtoa_u128)g[0] * cp + (uint64_t)(x >> 64);
    return (uint64_t)(y >> 64) | ((uint64_t)y > 1);
}

static inline void dtoa_strip_zeros(uint64_t *f, int *e) {
    if (*f % 100000000 == 0) { *f /= 100000000; *e += 8; }
    while (*f % 10 == 0) { *f /= 10; (*e)++; }
}

void mallapi_dtoa_shortest(double x, uint64_t *digits, int *exp10) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    uint64_t t = bits & ((1ULL << 52) - 1);
    int bq = (int)((bits >> 52) & 0x7ff);
    uint64_t c;
    int q;
    if (bq) {
        c = t | (1ULL << 52);
        q = bq - 1075;
        if (q <= 0 && q > -53 && (c & ((1ULL << -q) - 1)) == 0) {
            /* an integer below 2^53: its own digits */
            uint64_t f = c >> -q;
            int e = 0;
            dtoa_strip_zeros(&f, &e);
            *digits = f;
            *exp10 = e;
            return;
        }
    } else {
        c = t;
        q = -1074;
    }
    uint64_t cb = c << 2, cbr = cb + 2, cbl;
    int k;
    if (t != 0 || bq <= 1) {        /* neighbours at equal distance */
        cbl = cb - 2;
        k = dtoa_flog10_pow2(q);
    } else {                        /* a power of two: the lower one is nearer */
        cbl = cb - 1;
        k = dtoa_flog10_3q_pow2(q);
    }
    int h = q + dtoa_flog2_pow10(-k) + 1;      /* 1..4 */
    const uint64_t *g = mallapi_dtoa_g[-k - MALLAPI_DTOA_E_MIN];
    uint64_t vb = dtoa_rop(g, cb << h);
    uint64_t vbl = dtoa_rop(g, cbl << h), vbr = dtoa_rop(g, cbr << h);
    uint64_t odd = c & 1;          /* strtod rounds ties to even: bounds of an odd c are out */
    vbl += odd;
    vbr -= odd;

    uint64_t s = vb >> 2, f;
    int e = k;
    uint64_t u1 = s / 10 * 10, w1 = u1 + 10;   /* the multiples of 10^(k+1) around x */
    int uin = vbl <= u1 << 2, win = w1 << 2 <= vbr;
    if (uin != win) {
        f = uin ? u1 : w1;
        dtoa_strip_zeros(&f, &e);
    } else {
        uint64_t s1 = s + 1;
        uin = vbl <= s << 2;
        win = s1 << 2 <= vbr;
        if (uin != win) {
            f = uin ? s : s1;
        } else {
            int64_t cmp = (int64_t)(vb - ((s + s1) << 1));
            f = (cmp < 0 || (cmp == 0 && (s & 1) == 0)) ? s : s1;
        }
    }
    *digits = f;
    *exp10 = e;
}

static const char dtoa_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

char *mallapi_dtoa_utoa(uint64_t u, char *end) {
    while (u >= 100) {
        unsigned i = (unsigned)(u % 100) * 2;
        u /= 100;
        *--end = dtoa_pairs[i + 1];
        *--end = dtoa_pairs[i];
    }
    if (u >= 10) {
        unsigned i = (unsigned)u * 2;
        *--end = dtoa_pairs[i + 1];
        *--end = dtoa_pairs[i];
    } else {
        *--end = (char)('0' + u);
    }
    return end;
}

size_t mallapi_dtoa_format(double x, char *out, int mark_float) {
    char *o = out;
    if (signbit(x)) {
        *o++ = '-';
        x = -x;
    }
    if (x == 0) {
        *o++ = '0';
        if (mark_float) { *o++ = '.'; *o++ = '0'; }
        return (size_t)(o - out);
    }
    uint64_t f;
    int e;
    mallapi_dtoa_shortest(x, &f, &e);
    char tmp[24], *end = tmp + sizeof tmp, *d = mallapi_dtoa_utoa(f, end);
    int n = (int)(end - d), sci = e + n - 1;   /* x = d.ddd * 10^sci */
    if (sci >= -4 && sci < (n > 15 ? n : 15)) {
        if (sci < 0) {                         /* 0.000ddd */
            *o++ = '0';
            *o++ = '.';
            memset(o, '0', (size_t)(-sci - 1));
            o += -sci - 1;
            memcpy(o, d, (size_t)n);
            o += n;
        } else if (sci >= n - 1) {             /* ddd000 */
            memcpy(o, d, (size_t)n);
            o += n;
            memset(o, '0', (size_t)(sci - n + 1));
            o += sci - n + 1;
            if (mark_float) { *o++ = '.'; *o++ = '0'; }
        } else {                               /* dd.ddd */
            memcpy(o, d, (size_t)sci + 1);
            o += sci + 1;
            *o++ = '.';
            memcpy(o, d + sci + 1, (size_t)(n - sci - 1));
            o += n - sci - 1;
        }
        return (size_t)(o - out);
    }
    *o++ = d[0];
    if (n > 1) {
        *o++ = '.';
        memcpy(o, d + 1, (size_t)n - 1);
        o += n - 1;
    }
    *o++ = 'e';
    *o++ = sci < 0 ? '-' : '+';
    unsigned a = (unsigned)(sci < 0 ? -sci : sci);
    if (a >= 100) {
        *o++ = (char)('0' + a / 100);
        a %= 100;
    }
    *o++ = dtoa_pairs[a * 2];
    *o++ = dtoa_pairs[a * 2 + 1];
    return (size_t)(o - out);
}
