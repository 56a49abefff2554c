/* crypto.h: digests, HMAC, random bytes and constant-time comparison over
 * OpenSSL 3's EVP API. Plain C in and out; errors go to a caller's buffer
 * (MALLAPI_ERRLEN bytes) with OpenSSL's error queue drained into it. */
#ifndef MALLAPI_CRYPTO_H
#define MALLAPI_CRYPTO_H

#include <stddef.h>

typedef enum {
    MALLAPI_MD5 = 0,
    MALLAPI_SHA1,
    MALLAPI_SHA256,
    MALLAPI_SHA512,
    MALLAPI_ALG_COUNT
} mallapi_alg;

#define MALLAPI_MAX_DIGEST 64   /* SHA-512 */

/* Algorithm by its lower-case name ("md5", "sha1", "sha256", "sha512");
 * -1 when unknown. */
int mallapi_alg_from_name(const char *name, size_t len);
const char *mallapi_alg_name(mallapi_alg alg);
size_t mallapi_alg_size(mallapi_alg alg);

/* A reusable digest context: the fetched algorithms and one EVP_MD_CTX, so
 * that a digest costs no allocation. Owned by the caller; one per thread. */
typedef struct mallapi_crypto_ctx mallapi_crypto_ctx;

mallapi_crypto_ctx *mallapi_crypto_new(void);
void mallapi_crypto_free(mallapi_crypto_ctx *ctx);

/* out must hold MALLAPI_MAX_DIGEST bytes; *outlen gets the digest size.
 * Return 0, or -1 with err filled. */
int mallapi_digest(mallapi_crypto_ctx *ctx, mallapi_alg alg,
                   const void *data, size_t len,
                   unsigned char *out, size_t *outlen, char *err);

int mallapi_hmac(mallapi_crypto_ctx *ctx, mallapi_alg alg,
                 const void *key, size_t keylen,
                 const void *data, size_t len,
                 unsigned char *out, size_t *outlen, char *err);

/* n bytes from OpenSSL's CSPRNG into out. Return 0 or -1 with err. */
int mallapi_random(unsigned char *out, size_t n, char *err);

/* 1 when a and b are equal. The time depends on the lengths only, not on
 * the contents (different lengths answer 0 at once). */
int mallapi_equals(const void *a, size_t alen, const void *b, size_t blen);

/* Fill out[36] with a random RFC 4122 version-4 UUID, lower-case.
 * Return 0 or -1 with err. */
int mallapi_uuid4(char out[36], char *err);

/* Format the pending OpenSSL errors after "what: " into err and clear the
 * queue (used by the other OpenSSL users as well). */
void mallapi_openssl_error(char *err, const char *what);

#endif
