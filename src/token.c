/* token.c: refresh windows of the token lifecycle (see token.h). Kept in C so
 * every runtime (Lua 5.4, LuaJIT, OpenResty) judges a token's age identically. */
#include "token.h"

int64_t mallapi_token_advisory_ms(int64_t lifetime_ms, int64_t advisory_ms, int64_t mandatory_ms) {
    if (advisory_ms < 0) {
        advisory_ms = lifetime_ms > 0 ? lifetime_ms * MALLAPI_TOKEN_ADVISORY_PERMILLE / 1000 : 0;
        if (advisory_ms < MALLAPI_TOKEN_ADVISORY_MIN_MS) advisory_ms = MALLAPI_TOKEN_ADVISORY_MIN_MS;
    }
    return advisory_ms < mandatory_ms ? mandatory_ms : advisory_ms;
}

enum mallapi_token_phase mallapi_token_phase(int64_t now, int64_t fetched_at, int64_t expires_at,
                                             int64_t advisory_ms, int64_t mandatory_ms) {
    int64_t lifetime = expires_at - fetched_at;
    if (mandatory_ms < 0) mandatory_ms = MALLAPI_TOKEN_MANDATORY_MS;
    /* a fresh token is never inside a window, whatever the settings: otherwise a
     * short-lived token would be refetched by every caller */
    if (lifetime > 0 && mandatory_ms > lifetime / 2) mandatory_ms = lifetime / 2;
    int64_t advisory = mallapi_token_advisory_ms(lifetime, advisory_ms, mandatory_ms);
    if (lifetime > 0 && advisory > lifetime / 2) advisory = lifetime / 2 > mandatory_ms ? lifetime / 2 : mandatory_ms;
    if (now >= expires_at) return MALLAPI_TOKEN_EXPIRED;
    if (now >= expires_at - mandatory_ms) return MALLAPI_TOKEN_MANDATORY;
    if (now >= expires_at - advisory) return MALLAPI_TOKEN_ADVISORY;
    return MALLAPI_TOKEN_FRESH;
}
