/* sign.c: builds canonical strings-to-sign from plain key/value arrays:
 * sort by key, write each pair in the chosen style, join, wrap. The caller
 * filters (excluded keys, empty values) and owns every buffer. Knows nothing
 * of Lua. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign.h"
#include "json.h"

static inline int sign_key_cmp(const mallapi_sign_pair *a, const mallapi_sign_pair *b) {
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    /* Most parameter names differ in their first byte: decide that inline. */
    if (n && a->key[0] != b->key[0])
        return (unsigned char)a->key[0] < (unsigned char)b->key[0] ? -1 : 1;
    int c = n ? memcmp(a->key, b->key, n) : 0;
    if (c != 0) return c;
    return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

static int sign_qsort_cmp(const void *a, const void *b) {
    return sign_key_cmp(a, b);
}

/* Straight insertion sort for the usual handful of parameters (no call
 * through a function pointer, and most comparisons end at the first byte);
 * qsort for large tables. */
void mallapi_sign_sort(mallapi_sign_pair *pairs, size_t n) {
    if (n > 32) {
        qsort(pairs, n, sizeof *pairs, sign_qsort_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        mallapi_sign_pair item = pairs[i];
        size_t j = i;
        while (j > 0 && sign_key_cmp(&pairs[j - 1], &item) > 0) {
            pairs[j] = pairs[j - 1];
            j--;
        }
        pairs[j] = item;
    }
}

/* Append len bytes at *pos when they fit; always advance the length. */
static void sign_put(char *out, size_t cap, size_t *pos, const char *s, size_t len) {
    if (len && *pos + len <= cap) memcpy(out + *pos, s, len);
    *pos += len;
}

size_t mallapi_sign_write(const mallapi_sign_pair *pairs, size_t n,
                          const mallapi_sign_opts *opts, char *out, size_t cap) {
    size_t pos = 0;
    sign_put(out, cap, &pos, opts->prefix, opts->prefix_len);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) sign_put(out, cap, &pos, opts->sep, opts->sep_len);
        if (opts->style != MALLAPI_SIGN_VALUES) {
            sign_put(out, cap, &pos, pairs[i].key, pairs[i].key_len);
            if (opts->style == MALLAPI_SIGN_PAIRS) sign_put(out, cap, &pos, "=", 1);
        }
        sign_put(out, cap, &pos, pairs[i].value, pairs[i].value_len);
    }
    sign_put(out, cap, &pos, opts->suffix, opts->suffix_len);
    return pos;
}

size_t mallapi_sign_format_integer(long long v, char *out) {
    return (size_t)snprintf(out, MALLAPI_SIGN_NUMLEN, "%lld", v);
}

size_t mallapi_sign_format_double(double v, char *out) {
    if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && v == (double)(long long)v)
        return mallapi_sign_format_integer((long long)v, out);   /* -0.0 prints "0" too */
    return mallapi_json_fmt_double(v, out, 0);            /* shortest text that reads back */
}
