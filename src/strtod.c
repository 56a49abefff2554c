/* strtod.c: decimal to double (see strtod.h) for mantissas that fit in 64 bits.
 *
 * 1. Clinger's fast path: w <= 2^53 and |q| <= 22 make both w and 10^|q| exact
 *    doubles, so one IEEE multiplication or division rounds correctly.
 * 2. Eisel-Lemire (D. Lemire, "Number Parsing at a Gigabyte per Second", 2021):
 *    normalize w to [2^63, 2^64), multiply by a truncated 128-bit 10^q
 *    (strtod_table.h), keep the top 54 bits of the product and round them to 53.
 *    The truncations only ever make the product too small, by less than w units
 *    of its lowest word; when that error could carry into the bits that decide
 *    the rounding, the next 64 bits of 10^q are brought in, and when even then
 *    it could, or the product sits exactly on a halfway point, we decline.
 *    Subnormal and overflowing results are declined too (rare, strtod's job). */
#include "strtod.h"

#include <string.h>

#include "strtod_table.h"

static const double strtod_pow10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* The 128-bit product a * b as *hi, *lo. */
static inline void strtod_mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
#ifdef __SIZEOF_INT128__
    unsigned __int128 p = (unsigned __int128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#else
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    *lo = (mid << 32) | (uint32_t)p00;
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

static inline int strtod_clz64(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_clzll(x);
#else
    int n = 0;
    while (!(x & ((uint64_t)1 << 63))) { x <<= 1; n++; }
    return n;
#endif
}

int mallapi_strtod_decimal(uint64_t w, int64_t q, int negative, double *out) {
    double d;
    if (w == 0) {
        d = 0.0;
        goto done;
    }
    if (w <= ((uint64_t)1 << 53) && q >= -22 && q <= 22) {
        d = (double)w;
        d = q < 0 ? d / strtod_pow10[-q] : d * strtod_pow10[q];
        goto done;
    }
    if (q < MALLAPI_STRTOD_Q_MIN || q > MALLAPI_STRTOD_Q_MAX) return 0;

    const uint64_t *t = mallapi_strtod_pow10[q - MALLAPI_STRTOD_Q_MIN];
    int lz = strtod_clz64(w);
    w <<= lz;
    /* w * 10^q = (hi:lo of w * t_high, plus the w * t_low and truncation
     * terms below) * 2^(floor(log2 10^q) - 127 - lz - 64 ...). */
    uint64_t hi, lo;
    strtod_mul64(w, t[0], &hi, &lo);
    /* The missing w * t_low adds less than w to lo: it can only change the
     * kept bits (or the round decision) if the low 9 bits of hi are all ones
     * and lo + w carries. */
    if ((hi & 0x1FF) == 0x1FF && lo + w < lo) {
        uint64_t hi2, lo2;
        strtod_mul64(w, t[1], &hi2, &lo2);
        uint64_t merged_lo = lo + hi2;
        uint64_t merged_hi = hi + (merged_lo < lo);
        /* What is still missing (t's truncation) adds less than w to lo2. */
        if ((merged_hi & 0x1FF) == 0x1FF && merged_lo == UINT64_MAX && lo2 + w < lo2) return 0;
        hi = merged_hi;
        lo = merged_lo;
    }
    /* hi is in [2^62, 2^64): keep 54 bits (53 plus a rounding bit). */
    int top = (int)(hi >> 63);
    uint64_t m = hi >> (top + 9);
    /* Biased exponent for m rounded to 53 bits in [2^52, 2^53). */
    int64_t e2 = ((217706 * q) >> 16) + 64 + 1023 - lz - (1 - top);
    /* Exactly halfway between two doubles with an even lower one: the true
     * value may lie just above (round up) or on it (round to even, down). */
    if (lo == 0 && (hi & 0x1FF) == 0 && (m & 3) == 1) return 0;
    m += m & 1;
    m >>= 1;
    if (m >> 53) {
        m >>= 1;
        e2++;
    }
    if (e2 <= 0 || e2 >= 0x7FF) return 0;
    uint64_t bits = ((uint64_t)e2 << 52) | (m & (((uint64_t)1 << 52) - 1));
    memcpy(&d, &bits, sizeof d);
done:
    *out = negative ? -d : d;
    return 1;
}
