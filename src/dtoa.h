/* dtoa.h: shortest round-trip formatting of doubles (Schubfach-style, see
 * dtoa.c). Plain C, no Lua: the JSON encoder (json.c) writes floats with it. */
#ifndef MALLAPI_DTOA_H
#define MALLAPI_DTOA_H

#include <stddef.h>
#include <stdint.h>

/* For a finite x > 0: the fewest decimal digits that read back (correctly
 * rounded, as strtod does) to x, as *digits (at most 17 digits, no trailing
 * zero) times 10^*exp10; among several of that length, the one nearest x. */
void mallapi_dtoa_shortest(double x, uint64_t *digits, int *exp10);

/* Writes the shortest text of the finite x into out (at least 32 bytes) and
 * returns its length, laid out like C's "%.*g" with P = max(digits, 15) and
 * trailing zeros removed: plain decimal when 1e-4 <= |x| < 1e15 (and when
 * every digit lies before the point, up to 17 digits), otherwise d.ddde+XX /
 * d.ddde-XX with at least two exponent digits. Zero is "0" or "-0". When
 * mark_float is set, a text without '.' or exponent gets ".0". */
size_t mallapi_dtoa_format(double x, char *out, int mark_float);

/* Writes u in decimal ending just before end; returns its first byte. */
char *mallapi_dtoa_utoa(uint64_t u, char *end);

#endif
