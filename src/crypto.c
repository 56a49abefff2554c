/* crypto.c: digests, HMAC, random bytes, UUIDs and constant-time comparison
 * over OpenSSL 3 EVP. The algorithms are fetched once per context and one
 * EVP_MD_CTX is reused, so a digest makes no allocation. Knows nothing of Lua. */
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "mallapi.h"
#include "crypto.h"

static const struct {
    const char *name;       /* our (Lua-facing) name */
    const char *ossl_name;  /* OpenSSL's fetch name */
    size_t size;
} crypto_algs[MALLAPI_ALG_COUNT] = {
    { "md5", "MD5", 16 },
    { "sha1", "SHA1", 20 },
    { "sha256", "SHA256", 32 },
    { "sha512", "SHA512", 64 },
};

struct mallapi_crypto_ctx {
    EVP_MD *md[MALLAPI_ALG_COUNT];           /* fetched on first use */
    EVP_MAC *hmac;                           /* fetched on first use */
    EVP_MAC_CTX *mac_ctx[MALLAPI_ALG_COUNT]; /* digest set once, re-keyed per call */
    EVP_MD_CTX *md_ctx;
};

int mallapi_alg_from_name(const char *name, size_t len) {
    for (int i = 0; i < MALLAPI_ALG_COUNT; i++)
        if (strlen(crypto_algs[i].name) == len && memcmp(crypto_algs[i].name, name, len) == 0)
            return i;
    return -1;
}

const char *mallapi_alg_name(mallapi_alg alg) { return crypto_algs[alg].name; }
size_t mallapi_alg_size(mallapi_alg alg) { return crypto_algs[alg].size; }

void mallapi_openssl_error(char *err, const char *what) {
    size_t used = (size_t)snprintf(err, MALLAPI_ERRLEN, "%s", what);
    unsigned long code;
    int first = 1;
    while ((code = ERR_get_error()) != 0) {
        if (used + 3 < MALLAPI_ERRLEN) {
            memcpy(err + used, first ? ": " : "; ", 3);
            used += 2;
            ERR_error_string_n(code, err + used, MALLAPI_ERRLEN - used);
            used += strlen(err + used);
        }
        first = 0;
    }
    if (first && used + 16 < MALLAPI_ERRLEN)
        memcpy(err + used, ": unknown error", 16);
}

mallapi_crypto_ctx *mallapi_crypto_new(void) {
    mallapi_crypto_ctx *ctx = OPENSSL_zalloc(sizeof *ctx);
    if (ctx == NULL) return NULL;
    ctx->md_ctx = EVP_MD_CTX_new();
    if (ctx->md_ctx == NULL) {
        OPENSSL_free(ctx);
        return NULL;
    }
    return ctx;
}

void mallapi_crypto_free(mallapi_crypto_ctx *ctx) {
    if (ctx == NULL) return;
    for (int i = 0; i < MALLAPI_ALG_COUNT; i++) {
        EVP_MAC_CTX_free(ctx->mac_ctx[i]);
        EVP_MD_free(ctx->md[i]);
    }
    EVP_MAC_free(ctx->hmac);
    EVP_MD_CTX_free(ctx->md_ctx);
    OPENSSL_free(ctx);
}

static const EVP_MD *crypto_md(mallapi_crypto_ctx *ctx, mallapi_alg alg, char *err) {
    if (ctx->md[alg] == NULL) {
        ctx->md[alg] = EVP_MD_fetch(NULL, crypto_algs[alg].ossl_name, NULL);
        if (ctx->md[alg] == NULL) {
            char what[64];
            snprintf(what, sizeof what, "cannot fetch %s", crypto_algs[alg].name);
            mallapi_openssl_error(err, what);
        }
    }
    return ctx->md[alg];
}

int mallapi_digest(mallapi_crypto_ctx *ctx, mallapi_alg alg,
                   const void *data, size_t len,
                   unsigned char *out, size_t *outlen, char *err) {
    const EVP_MD *md = crypto_md(ctx, alg, err);
    unsigned int n = 0;
    if (md == NULL) return -1;
    if (!EVP_DigestInit_ex(ctx->md_ctx, md, NULL)
        || !EVP_DigestUpdate(ctx->md_ctx, data, len)
        || !EVP_DigestFinal_ex(ctx->md_ctx, out, &n)) {
        mallapi_openssl_error(err, "digest failed");
        return -1;
    }
    *outlen = n;
    return 0;
}

/* The HMAC context of one algorithm, created with its digest set; each call
 * re-keys it with EVP_MAC_init. */
static EVP_MAC_CTX *crypto_mac_ctx(mallapi_crypto_ctx *ctx, mallapi_alg alg, char *err) {
    if (ctx->mac_ctx[alg] != NULL) return ctx->mac_ctx[alg];
    if (ctx->hmac == NULL) {
        ctx->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (ctx->hmac == NULL) {
            mallapi_openssl_error(err, "cannot fetch HMAC");
            return NULL;
        }
    }
    EVP_MAC_CTX *mctx = EVP_MAC_CTX_new(ctx->hmac);
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)crypto_algs[alg].ossl_name, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (mctx == NULL || !EVP_MAC_CTX_set_params(mctx, params)) {
        EVP_MAC_CTX_free(mctx);
        mallapi_openssl_error(err, "cannot set up HMAC");
        return NULL;
    }
    ctx->mac_ctx[alg] = mctx;
    return mctx;
}

int mallapi_hmac(mallapi_crypto_ctx *ctx, mallapi_alg alg,
                 const void *key, size_t keylen,
                 const void *data, size_t len,
                 unsigned char *out, size_t *outlen, char *err) {
    static const unsigned char empty_key[1] = { 0 };
    EVP_MAC_CTX *mctx = crypto_mac_ctx(ctx, alg, err);
    size_t n = 0;
    if (mctx == NULL) return -1;
    /* OpenSSL refuses a NULL key; an empty key is a valid HMAC key. */
    if (keylen == 0) key = empty_key;
    if (!EVP_MAC_init(mctx, key, keylen, NULL)
        || !EVP_MAC_update(mctx, data, len)
        || !EVP_MAC_final(mctx, out, &n, MALLAPI_MAX_DIGEST)) {
        mallapi_openssl_error(err, "hmac failed");
        return -1;
    }
    *outlen = n;
    return 0;
}

int mallapi_random(unsigned char *out, size_t n, char *err) {
    /* RAND_bytes takes an int: feed it in chunks. */
    while (n > 0) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        if (RAND_bytes(out, chunk) != 1) {
            mallapi_openssl_error(err, "random bytes unavailable");
            return -1;
        }
        out += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

int mallapi_equals(const void *a, size_t alen, const void *b, size_t blen) {
    if (alen != blen) return 0;
    if (alen == 0) return 1;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

int mallapi_uuid4(char out[36], char *err) {
    static const char digits[] = "0123456789abcdef";
    unsigned char b[16];
    if (mallapi_random(b, sizeof b, err) != 0) return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* variant 10xx */
    for (int i = 0, j = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[j++] = '-';
        out[j++] = digits[b[i] >> 4];
        out[j++] = digits[b[i] & 15];
    }
    return 0;
}
