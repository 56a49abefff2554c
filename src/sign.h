/* sign.h: the canonical string-to-sign builder that vendor signing recipes
 * are made of: key/value pairs sorted by key (byte order), each written as
 * key..value, key=value or value alone, joined by a separator, wrapped in a
 * prefix and suffix. Plain C arrays in, bytes out. */
#ifndef MALLAPI_SIGN_H
#define MALLAPI_SIGN_H

#include <stddef.h>

typedef struct {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
} mallapi_sign_pair;

typedef enum {
    MALLAPI_SIGN_CONCAT = 0, /* key..value (Shoplus requests) */
    MALLAPI_SIGN_PAIRS,      /* key=value */
    MALLAPI_SIGN_VALUES      /* value only (Shoplus webhooks) */
} mallapi_sign_style;

typedef struct {
    mallapi_sign_style style;
    const char *sep;     size_t sep_len;     /* between pairs; may be empty */
    const char *prefix;  size_t prefix_len;
    const char *suffix;  size_t suffix_len;
} mallapi_sign_opts;

/* Sort pairs in place by key, byte order (a shorter key that is a prefix of
 * a longer one comes first). The order of equal keys is unspecified. */
void mallapi_sign_sort(mallapi_sign_pair *pairs, size_t n);

/* Write the canonical string of the (already sorted and filtered) pairs into
 * out, at most cap bytes. Returns the full length; when it exceeds cap,
 * nothing useful was written and the caller retries with a buffer that
 * large. */
size_t mallapi_sign_write(const mallapi_sign_pair *pairs, size_t n,
                          const mallapi_sign_opts *opts, char *out, size_t cap);

/* Number text for a value to sign, into out (MALLAPI_SIGN_NUMLEN bytes),
 * returning its length. Integers print exactly. A double that holds an
 * integer of magnitude up to 2^53 prints as that integer (no ".0", no
 * exponent), so Lua 5.4 and LuaJIT agree; any other double prints in the
 * shortest "%.Ng" form that reads back as the same double. */
#define MALLAPI_SIGN_NUMLEN 32
size_t mallapi_sign_format_integer(long long v, char *out);
size_t mallapi_sign_format_double(double v, char *out);

#endif
