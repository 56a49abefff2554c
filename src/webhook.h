/* webhook.h: Shoplus webhook signatures checked in one pass over the raw body,
 * without building the decoded document: the top-level members are scanned
 * with the json.c scanner, the string to sign is built from their text (sign,
 * null and "" left out, sorted by name in byte order, numbers and booleans as
 * written, strings decoded, nested values as their raw JSON or left out),
 * hashed with SHA-256 and compared in constant time. A few requested members
 * are handed back as text for the caller's event id. Plain C data in and out;
 * errors go to a buffer. Knows nothing of Lua. */
#ifndef MALLAPI_WEBHOOK_H
#define MALLAPI_WEBHOOK_H

#include <stddef.h>
#include "crypto.h"
#include "json.h"

/* The signature verdicts. */
enum { MALLAPI_WH_OK = 0, MALLAPI_WH_MISMATCH, MALLAPI_WH_UNSIGNED };

/* Kinds of a requested member's text. */
enum { MALLAPI_WH_ABSENT = 0,  /* not in the body, or null */
       MALLAPI_WH_TEXT,        /* a string (decoded) or a number/boolean (as written) */
       MALLAPI_WH_NESTED };    /* an object or an array (text is its raw JSON) */

typedef struct {
    const char *name;          /* in: member name */
    size_t namelen;
    int kind;                  /* out: MALLAPI_WH_* (the last member of that name wins) */
    const char *text;          /* out: valid until the work buffers change */
    size_t len;
} mallapi_wh_field;

/* Work buffers, reusable across calls (free with mallapi_wh_work_free). */
typedef struct {
    mallapi_jbuf scratch;      /* the scanner's unescaping buffer */
    mallapi_jbuf texts;        /* decoded texts of escaped names and strings */
    mallapi_jbuf members;      /* the member table */
    mallapi_jbuf plain;        /* the string to sign */
} mallapi_wh_work;

void mallapi_wh_work_free(mallapi_wh_work *w);

/* Checks a Shoplus webhook body (body[len] must be '\0'). nested_skip leaves
 * nested objects and arrays out of the string to sign (default: their raw
 * JSON text). On success returns 0 with *verdict set (MALLAPI_WH_OK when
 * `sign` is a non-empty string equal, ignoring ASCII case, to the lower hex
 * SHA-256 of the string to sign followed by the secret; MALLAPI_WH_UNSIGNED
 * when sign is missing, empty or not a string) and fields filled. On failure
 * returns -1 with err (MALLAPI_ERRLEN bytes) and *code set: "BAD_BODY" (not
 * one JSON object), "MEMORY" or "CRYPTO". The secret never enters err. */
int mallapi_wh_shoplus(mallapi_crypto_ctx *ctx, mallapi_wh_work *w,
                       const char *body, size_t len,
                       const char *secret, size_t secretlen, int nested_skip,
                       mallapi_wh_field *fields, size_t nfields,
                       int *verdict, char *err, const char **code);

#endif
