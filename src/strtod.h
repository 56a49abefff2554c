/* strtod.h: exact decimal-to-double conversion without strtod for the common
 * case (Clinger's fast path, then Eisel-Lemire, see strtod.c). Plain C, no Lua:
 * the JSON number scanner (json.c) calls it and falls back to strtod when it
 * declines. The reverse direction is dtoa.h. */
#ifndef MALLAPI_STRTOD_H
#define MALLAPI_STRTOD_H

#include <stdint.h>

/* For the decimal value w * 10^q (w exact, the sign apart): stores the
 * correctly rounded double (round half to even, as strtod does) in *out and
 * returns 1, or returns 0 without touching *out when this path cannot decide
 * it cheaply: exact halfway ambiguities, results that would be subnormal,
 * infinite or zero from a nonzero w, q outside the power table. */
int mallapi_strtod_decimal(uint64_t w, int64_t q, int negative, double *out);

#endif
