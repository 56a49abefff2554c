/* webhook.c: the one-pass Shoplus webhook check (see webhook.h). The body is
 * scanned once: each top-level member's name and value text are recorded
 * (pointers into the body, or offsets into w->texts when unescaping changed
 * them), then the members are sorted by name (stable), their texts concatenated with
 * the secret, hashed and compared with `sign` in constant time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "webhook.h"

typedef struct {
    const char *name;          /* in the body, or NULL: name_off into texts */
    size_t name_off, namelen;
    const char *val;           /* in the body, or NULL: val_off into texts */
    size_t val_off, vallen;
    size_t pos;                /* order in the body: ties keep it (a stable sort) */
    char first;                /* first byte of the raw value: '"', '{', '[', 'n', ... */
} wh_member;

void mallapi_wh_work_free(mallapi_wh_work *w) {
    mallapi_jbuf_free(&w->scratch);
    mallapi_jbuf_free(&w->texts);
    mallapi_jbuf_free(&w->members);
    mallapi_jbuf_free(&w->plain);
}

static int wh_fail(char *err, const char **code, const char *c, const char *msg) {
    snprintf(err, MALLAPI_ERRLEN, "%s", msg);
    *code = c;
    return -1;
}

/* A scanned string: kept as a pointer into the body when unchanged, else
 * copied into texts (the scanner's scratch is reused by the next scan). */
static int wh_keep(mallapi_wh_work *w, const char *body, size_t len, const char *s, size_t n,
                   const char **ptr, size_t *off) {
    if (n == 0 || (s >= body && s + n <= body + len)) {
        *ptr = n == 0 ? body : s;
        return 0;
    }
    *ptr = NULL;
    *off = w->texts.len;
    return mallapi_jbuf_append(&w->texts, s, n);
}

/* The order: name bytes, a prefix first, then body order. */
static int wh_member_cmp(const void *pa, const void *pb) {
    const wh_member *a = (const wh_member *)pa, *b = (const wh_member *)pb;
    size_t n = a->namelen < b->namelen ? a->namelen : b->namelen;
    int c = n ? memcmp(a->name, b->name, n) : 0;
    if (c) return c;
    if (a->namelen != b->namelen) return a->namelen < b->namelen ? -1 : 1;
    return a->pos < b->pos ? -1 : (a->pos > b->pos);
}

int mallapi_wh_shoplus(mallapi_crypto_ctx *ctx, mallapi_wh_work *w,
                       const char *body, size_t len,
                       const char *secret, size_t secretlen, int nested_skip,
                       mallapi_wh_field *fields, size_t nfields,
                       int *verdict, char *err, const char **code) {
    mallapi_json_scanner sc;
    wh_member *m;
    size_t count = 0, i, j;
    long sign_at = -1;
    int unsigned_body;
    const char *p;

    memset(&sc, 0, sizeof sc);
    sc.start = body;
    sc.end = body + len;
    sc.scratch = &w->scratch;
    w->texts.len = w->members.len = w->plain.len = 0;
    for (i = 0; i < nfields; i++) fields[i].kind = MALLAPI_WH_ABSENT;

    /* 1. one scan: the members, their value texts */
    p = mallapi_json_skip_ws(body);
    if (*p != '{') return wh_fail(err, code, "BAD_BODY", "body is not a JSON object");
    p = mallapi_json_skip_ws(p + 1);
    if (*p == '}') {
        p++;
    } else {
        for (;;) {
            wh_member mm;
            const char *s, *raw;
            size_t n;
            if (*p != '"') return wh_fail(err, code, "BAD_BODY", "body is not a JSON object");
            if (!(p = mallapi_json_scan_string(&sc, p + 1, &s, &n))) goto bad;
            if (wh_keep(w, body, len, s, n, &mm.name, &mm.name_off)) goto nomem;
            mm.namelen = n;
            p = mallapi_json_skip_ws(p);
            if (*p != ':') goto bad;
            raw = p = mallapi_json_skip_ws(p + 1);
            mm.first = *raw;
            if (*raw == '"') {
                if (!(p = mallapi_json_scan_string(&sc, p + 1, &s, &n))) goto bad;
                if (wh_keep(w, body, len, s, n, &mm.val, &mm.val_off)) goto nomem;
                mm.vallen = n;
            } else {
                if (!(p = mallapi_json_skip_value(&sc, p, MALLAPI_JSON_DEFAULT_DEPTH - 1))) goto bad;
                mm.val = raw;
                mm.vallen = (size_t)(p - raw);
            }
            mm.pos = count++;
            if (mallapi_jbuf_append(&w->members, (const char *)&mm, sizeof mm)) goto nomem;
            p = mallapi_json_skip_ws(p);
            if (*p == ',') { p = mallapi_json_skip_ws(p + 1); continue; }
            if (*p == '}') { p++; break; }
            goto bad;
        }
    }
    p = mallapi_json_skip_ws(p);
    if (p != sc.end) goto bad;

    /* 2. resolve the texts; find sign and the requested fields (last one wins) */
    m = (wh_member *)(void *)w->members.data;
    for (i = 0; i < count; i++) {
        if (!m[i].name) m[i].name = w->texts.data + m[i].name_off;
        if (!m[i].val) m[i].val = w->texts.data + m[i].val_off;
        if (m[i].namelen == 4 && memcmp(m[i].name, "sign", 4) == 0) sign_at = (long)i;
        for (j = 0; j < nfields; j++) {
            if (fields[j].namelen != m[i].namelen || memcmp(fields[j].name, m[i].name, m[i].namelen)) continue;
            if (m[i].first == 'n') { fields[j].kind = MALLAPI_WH_ABSENT; continue; }
            fields[j].kind = (m[i].first == '{' || m[i].first == '[') ? MALLAPI_WH_NESTED : MALLAPI_WH_TEXT;
            fields[j].text = m[i].val;
            fields[j].len = m[i].vallen;
        }
    }
    unsigned_body = sign_at < 0 || m[sign_at].first != '"' || m[sign_at].vallen == 0;

    /* 3. sort by name: an insertion sort for the usual few dozen members (no call
     * per comparison), qsort beyond */
    if (count > 64) {
        qsort(m, count, sizeof *m, wh_member_cmp);
    } else {
        for (i = 1; i < count; i++) {
            wh_member x = m[i];
            for (j = i; j > 0 && wh_member_cmp(&m[j - 1], &x) > 0; j--) m[j] = m[j - 1];
            m[j] = x;
        }
    }
    /* a repeated name is refused before anything is verified: the rule skips null and ""
     * values and the decoder keeps the last member, so `"id":""` appended to a signed body
     * would otherwise change its data and still verify */
    for (i = 1; i < count; i++) {
        if (m[i].namelen == m[i - 1].namelen && memcmp(m[i].name, m[i - 1].name, m[i].namelen) == 0)
            return wh_fail(err, code, "BAD_BODY", "repeated member name");
    }
    if (unsigned_body) {
        *verdict = MALLAPI_WH_UNSIGNED;
        return 0;
    }

    /* 4. the string to sign, its digest, the comparison */
    {
        const wh_member *sign = NULL;
        unsigned char md[MALLAPI_MAX_DIGEST];
        char hex[2 * MALLAPI_MAX_DIGEST], given[2 * MALLAPI_MAX_DIGEST];
        size_t mdlen, k;
        static const char digits[] = "0123456789abcdef";
        for (i = 0; i < count; i++) {
            const wh_member *x = &m[i];
            if (x->namelen == 4 && memcmp(x->name, "sign", 4) == 0) { sign = x; continue; }
            if (x->first == 'n') continue;                          /* null */
            if (x->first == '"' && x->vallen == 0) continue;        /* "" */
            if ((x->first == '{' || x->first == '[') && nested_skip) continue;
            if (mallapi_jbuf_append(&w->plain, x->val, x->vallen)) goto nomem;
        }
        /* the sorted list is stable, so the last "sign" seen is the body's last one */
        if (mallapi_jbuf_append(&w->plain, secret, secretlen)) goto nomem;
        if (mallapi_digest(ctx, MALLAPI_SHA256, w->plain.data ? w->plain.data : "", w->plain.len,
                           md, &mdlen, err)) {
            memset(w->plain.data, 0, w->plain.len);                /* the secret */
            *code = "CRYPTO";
            return -1;
        }
        memset(w->plain.data + w->plain.len - secretlen, 0, secretlen);
        for (k = 0; k < mdlen; k++) {
            hex[2 * k] = digits[md[k] >> 4];
            hex[2 * k + 1] = digits[md[k] & 15];
        }
        if (sign->vallen != 2 * mdlen) {
            *verdict = MALLAPI_WH_MISMATCH;
            return 0;
        }
        for (k = 0; k < sign->vallen; k++) {
            unsigned char c = (unsigned char)sign->val[k];
            given[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        *verdict = mallapi_equals(hex, 2 * mdlen, given, sign->vallen) ? MALLAPI_WH_OK : MALLAPI_WH_MISMATCH;
    }
    return 0;

bad:
    if (sc.errcode && strcmp(sc.errcode, "MEMORY") == 0) goto nomem;
    return wh_fail(err, code, "BAD_BODY", "body is not a JSON object");
nomem:
    return wh_fail(err, code, "MEMORY", "out of memory");
}
