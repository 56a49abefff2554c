/* token.h: the refresh-window arithmetic of the token lifecycle, a pure
 * function of times in milliseconds (wall clock), free of Lua and of I/O. */
#ifndef MALLAPI_TOKEN_H
#define MALLAPI_TOKEN_H

#include <stdint.h>

enum mallapi_token_phase {
    MALLAPI_TOKEN_FRESH,      /* use it */
    MALLAPI_TOKEN_ADVISORY,   /* one caller refreshes, the others keep using it */
    MALLAPI_TOKEN_MANDATORY,  /* callers wait for a refresh */
    MALLAPI_TOKEN_EXPIRED     /* past expires_at: callers wait for a refresh */
};

#define MALLAPI_TOKEN_ADVISORY_MIN_MS 300000   /* advisory window at least 5 minutes */
#define MALLAPI_TOKEN_ADVISORY_PERMILLE 100    /* ... or the last 10% of the lifetime */
#define MALLAPI_TOKEN_MANDATORY_MS 60000       /* mandatory window: the last 60 s */

/* The advisory window in ms for a token of the given lifetime: advisory_ms when
 * it is >= 0, else the default (10% of the lifetime, at least 5 minutes); never
 * smaller than the mandatory window. */
int64_t mallapi_token_advisory_ms(int64_t lifetime_ms, int64_t advisory_ms, int64_t mandatory_ms);

/* The phase of a token fetched at fetched_at and expiring at expires_at, seen at
 * now. mandatory_ms < 0 means the default (60 s); both windows are capped at half
 * the lifetime so that a token just fetched is always fresh. */
enum mallapi_token_phase mallapi_token_phase(int64_t now, int64_t fetched_at, int64_t expires_at,
                                             int64_t advisory_ms, int64_t mandatory_ms);

#endif
