/* http.c: the HTTP transport on libcurl, with no Lua in it (see http.h).
 * Callbacks only copy bytes into the call's C buffers and never fail except on
 * the size cap or out of memory; results are classified after the transfer into
 * stable codes, with messages that name the method and the URL without its query
 * or user info (they may carry secrets). */
#define _GNU_SOURCE
#include <errno.h>
#include <strings.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "http.h"
#include "codec.h"

/* An easy handle and the URL it was last pointed at, parsed once (CURLOPT_CURLU):
 * the same URL again (the usual case for an API client) costs curl no parse and
 * no re-rendering of the URL per transfer. */
typedef struct http_handle {
    CURL *e;
    CURLU *u;                    /* the parsed URL handed to curl, NULL until the first */
    mallapi_http_buf url;        /* its text */
    struct mallapi_http_call *call; /* in a batch: the call it runs (CURLOPT_PRIVATE is the handle) */
} http_handle;

struct mallapi_http_session {
    CURLSH *share;
    http_handle easy;            /* sequential calls */
    CURLM *multi;                /* batches, created on first use */
    http_handle *pool;           /* easy handles for batches */
    size_t pool_len;
    http_handle **idle;          /* batch scratch: the idle handles of pool */
    struct pollfd *watch;        /* sockets the multi handle asked us to watch */
    size_t nwatch, watch_cap;
    long timer_ms;               /* the multi handle's next timeout, -1: none */
    CURLU *url_check;            /* validates request URLs */
    mallapi_http_buf checked_url; /* the last URL that passed */
    mallapi_http_config cfg;     /* string fields point at the copies below */
    char *proxy, *ca_file, *user_agent;
    char *ua_line;               /* "User-Agent: <user_agent>" */
};

/* ---- buffers ---- */

/* Append n bytes and keep a NUL after them (not counted in len). */
int mallapi_http_buf_append(mallapi_http_buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) return -1;
        b->data = p;
        b->cap = cap;
    }
    if (n && s) memcpy(b->data + b->len, s, n);     /* s == NULL: reserve n bytes, caller fills */
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void mallapi_http_buf_free(mallapi_http_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static void http_buf_clear(mallapi_http_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

/* ---- encoding and validation ---- */

/* Append s percent-encoded per RFC 3986 (codec.c's encoder, at most 3 bytes per byte). */
int mallapi_http_url_encode(mallapi_http_buf *b, const char *s, size_t n) {
    size_t at = b->len;
    if (mallapi_http_buf_append(b, NULL, 3 * n) < 0) return -1;
    b->len = at + mallapi_urlencode((const unsigned char *)s, n, MALLAPI_URL_RFC3986, b->data + at);
    b->data[b->len] = '\0';
    return 0;
}

/* RFC 9110 token characters (method and header names). */
static int http_is_tchar(unsigned char ch) {
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) return 1;
    return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int http_fail(mallapi_http_call *c, const char *code, const char *fmt, const char *arg) {
    c->code = code;
    snprintf(c->err, sizeof c->err, fmt, arg ? arg : "");
    return -1;
}

int mallapi_http_add_query(mallapi_http_call *c, const char *name, size_t nlen,
                           const char *value, size_t vlen) {
    if ((c->query.len && mallapi_http_buf_append(&c->query, "&", 1) < 0) ||
        mallapi_http_url_encode(&c->query, name, nlen) < 0 ||
        mallapi_http_buf_append(&c->query, "=", 1) < 0 ||
        mallapi_http_url_encode(&c->query, value, vlen) < 0)
        return http_fail(c, MALLAPI_HTTP_E_INTERNAL, "http.request: out of memory%s", NULL);
    return 0;
}

/* Headers the transport owns: how the message is framed and how the connection is
 * used (RFC 9112 section 6, RFC 9110 section 7.6.1). A caller's Content-Length or
 * Transfer-Encoding would let a body carry a second request of the caller's making. */
static const char *const http_framing_names[] = {
    "content-length", "transfer-encoding", "host", "connection", "keep-alive", "te", "trailer",
    "upgrade", "proxy-connection", NULL,
};

static int http_is_framing(const char *name, size_t nlen) {
    for (const char *const *f = http_framing_names; *f; f++)
        if (strlen(*f) == nlen && strncasecmp(name, *f, nlen) == 0) return 1;
    return 0;
}

int mallapi_http_add_header(mallapi_http_call *c, const char *name, size_t nlen,
                            const char *value, size_t vlen) {
    if (nlen == 0)
        return http_fail(c, MALLAPI_HTTP_E_BAD_REQUEST, "http.request: empty header name%s", NULL);
    for (size_t i = 0; i < nlen; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch == '\r' || ch == '\n')
            return http_fail(c, MALLAPI_HTTP_E_BAD_REQUEST,
                             "http.request: header name contains CR or LF%s", NULL);
        if (!http_is_tchar(ch))
            return http_fail(c, MALLAPI_HTTP_E_BAD_REQUEST,
                             "http.request: header name contains a character not allowed in a token%s", NULL);
    }
    /* the name is a checked token, safe to show; the value is never shown */
    char shown[64];
    size_t k = nlen < sizeof shown - 1 ? nlen : sizeof shown - 1;
    memcpy(shown, name, k);
    shown[k] = '\0';
    for (size_t i = 0; i < vlen; i++) {
        unsigned char ch = (unsigned char)value[i];
        if (ch == '\r' || ch == '\n' || ch == 0)
            return http_fail(c, MALLAPI_HTTP_E_BAD_REQUEST,
                             ch ? "http.request: header '%s' value contains CR or LF"
                                : "http.request: header '%s' value contains NUL", shown);
    }
    if (http_is_framing(name, nlen))
        return http_fail(c, MALLAPI_HTTP_E_BAD_REQUEST,
                         "http.request: header '%s' is set by the transport, not the caller", shown);
    if (nlen == 10 && strncasecmp(name, "user-agent", 10) == 0) c->has_user_agent = 1;
    /* curl sends "Name;" as a header with an empty value ("Name:" would remove it) */
    if (mallapi_http_buf_append(&c->header_lines, name, nlen) < 0 ||
        mallapi_http_buf_append(&c->header_lines, vlen ? ": " : ";", vlen ? 2 : 1) < 0 ||
        mallapi_http_buf_append(&c->header_lines, value, vlen) < 0 ||
        mallapi_http_buf_append(&c->header_lines, "", 1) < 0)
        return http_fail(c, MALLAPI_HTTP_E_INTERNAL, "http.request: out of memory%s", NULL);
    return 0;
}

/* ---- calls ---- */

void mallapi_http_call_reset(mallapi_http_call *c) {
    c->method = NULL;
    c->url = NULL;
    c->body = NULL;
    c->body_len = 0;
    c->timeout_ms = 0;
    http_buf_clear(&c->query);
    http_buf_clear(&c->header_lines);
    http_buf_clear(&c->url_buf);
    c->status = 0;
    http_buf_clear(&c->headers);
    c->header_count = 0;
    http_buf_clear(&c->body_out);
    c->time_s = 0;
    c->code = NULL;
    c->err[0] = '\0';
    c->too_large = 0;
    c->in_headers = 0;
    c->curl_err[0] = '\0';
    c->has_user_agent = 0;
}

void mallapi_http_call_free(mallapi_http_call *c) {
    mallapi_http_call_reset(c);
    mallapi_http_buf_free(&c->query);
    mallapi_http_buf_free(&c->header_lines);
    mallapi_http_buf_free(&c->url_buf);
    mallapi_http_buf_free(&c->headers);
    mallapi_http_buf_free(&c->body_out);
    free(c->header_nodes);
    c->header_nodes = NULL;
    c->header_nodes_cap = 0;
}

/* Body bytes: refuse (abort the transfer) past the cap. */
static size_t http_on_body(char *p, size_t size, size_t nmemb, void *ud) {
    mallapi_http_call *c = ud;
    size_t n = size * nmemb;
    if (c->body_out.len + n > c->max_body) {
        c->too_large = 1;
        return 0;
    }
    if (mallapi_http_buf_append(&c->body_out, p, n) < 0) return 0;
    return n;
}

static int http_is_ows(char ch) { return ch == ' ' || ch == '\t'; }

/* Header lines: a status line starts a fresh header set (1xx answers, proxy
 * CONNECT); others become "name\0value\0" with the name lower-cased. */
static size_t http_on_header(char *p, size_t size, size_t nmemb, void *ud) {
    mallapi_http_call *c = ud;
    size_t total = size * nmemb, n = total;
    while (n && (p[n - 1] == '\r' || p[n - 1] == '\n')) n--;
    if (n == 0) { c->in_headers = 0; return total; }  /* the blank line: headers complete */
    if (c->headers.len + n > MALLAPI_HTTP_MAX_HEADER_BYTES) {
        c->too_large = 2;                             /* headers: refused, not out of memory */
        return 0;
    }
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        c->in_headers = 1;
        http_buf_clear(&c->headers);
        c->header_count = 0;
        return total;
    }
    if (http_is_ows(p[0])) {                          /* obsolete line folding */
        if (c->header_count == 0) return total;
        size_t i = 0;
        while (i < n && http_is_ows(p[i])) i++;
        c->headers.len--;                             /* drop the value's NUL */
        if (mallapi_http_buf_append(&c->headers, " ", 1) < 0 ||
            mallapi_http_buf_append(&c->headers, p + i, n - i) < 0 ||
            mallapi_http_buf_append(&c->headers, "", 1) < 0) return 0;
        return total;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p) return total;           /* not a header: ignore */
    size_t nlen = (size_t)(colon - p), start = nlen + 1;
    while (nlen && http_is_ows(p[nlen - 1])) nlen--;
    while (start < n && http_is_ows(p[start])) start++;
    size_t end = n;
    while (end > start && http_is_ows(p[end - 1])) end--;
    size_t vlen = end - start, at = c->headers.len;
    if (mallapi_http_buf_append(&c->headers, NULL, nlen + vlen + 2) < 0) return 0;   /* room */
    char *out = c->headers.data + at;
    for (size_t i = 0; i < nlen; i++) {
        char ch = p[i];
        out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch ? ch : ' ';
    }
    out[nlen] = '\0';
    char *value = out + nlen + 1, *nul;
    memcpy(value, p + start, vlen);
    value[vlen] = '\0';
    while ((nul = memchr(value, '\0', vlen)) != NULL) *nul = ' ';   /* keep the pairs aligned */
    c->header_count++;
    return total;
}

/* "scheme://host[:port]/path" of the call's URL, for messages: never the query,
 * the fragment or user info. */
static void http_shown_url(mallapi_http_call *c, char *out, size_t outlen) {
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    out[0] = '\0';
    CURLU *u = c->url ? curl_url() : NULL;
    if (!u) return;
    if (curl_url_set(u, CURLUPART_URL, c->url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        curl_url_get(u, CURLUPART_PATH, &path, 0);
        snprintf(out, outlen, "%s://%s%s%s%s", scheme ? scheme : "?", host ? host : "?",
                 port ? ":" : "", port ? port : "", path ? path : "");
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
}

/* ---- easy handles ---- */

static CURL *http_easy_new(mallapi_http_session *s) {
    CURL *e = curl_easy_init();
    if (!e) return NULL;
    const mallapi_http_config *cfg = &s->cfg;
    curl_easy_setopt(e, CURLOPT_SHARE, s->share);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cfg->verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cfg->verify ? 2L : 0L);
    if (s->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
    curl_easy_setopt(e, CURLOPT_PROXY, s->proxy ? s->proxy : "");
    /* no_proxy/NO_PROXY are not read either (curl would getenv both per transfer) */
    curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    if (cfg->max_connections > 0) curl_easy_setopt(e, CURLOPT_MAXCONNECTS, cfg->max_connections);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                     cfg->http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_on_header);
    return e;
}

static int http_streq(const char *a, const char *b) { return strcmp(a, b) == 0; }

/* Point the easy handle at call c: validate the method and URL, append the query,
 * set the method, body, headers and timeout. 0, or -1 with c->code. */
static int http_prepare(mallapi_http_session *s, http_handle *h, mallapi_http_call *c) {
    CURL *e = h->e;
    const char *m = c->method;
    if (!m || !*m)
        return http_fail(c, MALLAPI_HTTP_E_BAD_REQUEST, "http.request: empty method%s", NULL);
    for (const char *q = m; *q; q++)
        if (!http_is_tchar((unsigned char)*q))
            return http_fail(c, MALLAPI_HTTP_E_BAD_REQUEST,
                             "http.request: method contains a character not allowed in a token%s", NULL);
    /* validate the URL with curl's parser; the session remembers the last URL that
     * passed, so the same URL again (the usual case) skips the parse */
    size_t url_len = strlen(c->url);
    if (url_len == 0 || url_len != s->checked_url.len || memcmp(c->url, s->checked_url.data, url_len) != 0) {
        http_buf_clear(&s->checked_url);
        if (!s->url_check && !(s->url_check = curl_url()))
            return http_fail(c, MALLAPI_HTTP_E_INTERNAL, "http.request: out of memory%s", NULL);
        CURLU *u = s->url_check;
        curl_url_set(u, CURLUPART_URL, NULL, 0);      /* else a new URL is resolved against the old */
        CURLUcode uc = curl_url_set(u, CURLUPART_URL, c->url, CURLU_NON_SUPPORT_SCHEME);
        if (uc != CURLUE_OK)
            return http_fail(c, MALLAPI_HTTP_E_BAD_REQUEST, "http.request: URL does not parse (%s)",
                             curl_url_strerror(uc));
        char *scheme = NULL;
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        if (!scheme || (!http_streq(scheme, "http") && !http_streq(scheme, "https"))) {
            char shown[32];
            snprintf(shown, sizeof shown, "%s", scheme ? scheme : "");
            curl_free(scheme);
            return http_fail(c, MALLAPI_HTTP_E_BAD_REQUEST,
                             "http.request: scheme '%s' not allowed (http or https only)", shown);
        }
        curl_free(scheme);
        if (mallapi_http_buf_append(&s->checked_url, c->url, url_len) < 0) http_buf_clear(&s->checked_url);
    }
    const char *hash = memchr(c->url, '#', url_len);
    size_t base = hash ? (size_t)(hash - c->url) : url_len;
    /* the URL as given (curl's URL API would re-case percent-escapes, which breaks
     * signed queries), without its fragment, plus the encoded query */
    http_buf_clear(&c->url_buf);
    if (mallapi_http_buf_append(&c->url_buf, c->url, base) < 0 ||
        (c->query.len &&
         (mallapi_http_buf_append(&c->url_buf, memchr(c->url, '?', base) ? "&" : "?", 1) < 0 ||
          mallapi_http_buf_append(&c->url_buf, c->query.data, c->query.len) < 0)))
        return http_fail(c, MALLAPI_HTTP_E_INTERNAL, "http.request: out of memory%s", NULL);
    if (!h->u || h->url.len != c->url_buf.len || memcmp(h->url.data, c->url_buf.data, c->url_buf.len) != 0) {
        http_buf_clear(&h->url);
        if (!h->u && !(h->u = curl_url()))
            return http_fail(c, MALLAPI_HTTP_E_INTERNAL, "http.request: out of memory%s", NULL);
        curl_url_set(h->u, CURLUPART_URL, NULL, 0);   /* else a new URL is resolved against the old */
        CURLUcode uc = curl_url_set(h->u, CURLUPART_URL, c->url_buf.data, CURLU_NON_SUPPORT_SCHEME);
        if (uc != CURLUE_OK)
            return http_fail(c, MALLAPI_HTTP_E_BAD_REQUEST, "http.request: URL does not parse (%s)",
                             curl_url_strerror(uc));
        curl_easy_setopt(e, CURLOPT_CURLU, h->u);    /* curl copies it per transfer */
        if (mallapi_http_buf_append(&h->url, c->url_buf.data, c->url_buf.len) < 0) http_buf_clear(&h->url);
    }

    /* method and body: start from a plain GET, then adjust */
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    int is_get = http_streq(m, "GET"), is_head = http_streq(m, "HEAD");
    if (is_head && !c->body) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (c->body || http_streq(m, "POST") || http_streq(m, "PUT") || http_streq(m, "PATCH")) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body ? c->body : "");
        if (!http_streq(m, "POST")) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    } else if (!is_get) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    }

    /* the header list: our own nodes over header_lines, plus the session's User-Agent
     * (sent as a plain header: cheaper for curl than CURLOPT_USERAGENT) */
    static char expect_off[] = "Expect:";
    size_t want = 2;
    for (size_t at = 0; at < c->header_lines.len; at += strlen(c->header_lines.data + at) + 1) want++;
    if (want > c->header_nodes_cap) {
        struct curl_slist *grown = realloc(c->header_nodes, want * sizeof *grown);
        if (!grown) return http_fail(c, MALLAPI_HTTP_E_INTERNAL, "http.request: out of memory%s", NULL);
        c->header_nodes = grown;
        c->header_nodes_cap = want;
    }
    struct curl_slist *nodes = c->header_nodes, *list = NULL;
    size_t used = 0;
    for (size_t at = 0; at < c->header_lines.len; at += strlen(c->header_lines.data + at) + 1)
        nodes[used++].data = c->header_lines.data + at;
    if (!c->has_user_agent) nodes[used++].data = s->ua_line;
    if (c->body && c->body_len > 1024) nodes[used++].data = expect_off;   /* no 100-continue wait */
    for (size_t i = 0; i < used; i++) nodes[i].next = i + 1 < used ? &nodes[i + 1] : NULL;
    if (used) list = nodes;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);

    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms > 0 ? c->timeout_ms : 1L);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
    c->curl_err[0] = '\0';
    c->max_body = s->cfg.max_body;
    c->too_large = 0;
    c->status = 0;
    http_buf_clear(&c->headers);
    c->header_count = 0;
    http_buf_clear(&c->body_out);
    return 0;
}

/* Turn the transfer's result into the call's status or code and message. */
static int http_finish(CURL *e, mallapi_http_call *c, CURLcode rc) {
    double t = 0;
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &t);
    c->time_s = t;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    if (rc == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        c->status = status;
        return 0;
    }
    const char *code, *what;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        code = MALLAPI_HTTP_E_TIMEOUT; what = "timed out"; break;
    case CURLE_COULDNT_RESOLVE_HOST:
        code = MALLAPI_HTTP_E_DNS; what = "could not resolve host"; break;
    case CURLE_COULDNT_RESOLVE_PROXY:
        code = MALLAPI_HTTP_E_DNS; what = "could not resolve proxy"; break;
    case CURLE_COULDNT_CONNECT:
        code = MALLAPI_HTTP_E_CONNECT; what = "could not connect"; break;
    case CURLE_SSL_CONNECT_ERROR: case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM: case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND: case CURLE_SSL_ENGINE_SETFAILED: case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_PINNEDPUBKEYNOTMATCH: case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE: case CURLE_SSL_SHUTDOWN_FAILED: case CURLE_USE_SSL_FAILED:
        code = MALLAPI_HTTP_E_TLS; what = "TLS handshake or certificate check failed"; break;
    case CURLE_FILESIZE_EXCEEDED:
        code = MALLAPI_HTTP_E_TOO_LARGE; what = "answer larger than max_body"; break;
    case CURLE_WRITE_ERROR:
        if (c->too_large == 2) { code = MALLAPI_HTTP_E_TOO_LARGE; what = "answer headers too large"; }
        else if (c->too_large) { code = MALLAPI_HTTP_E_TOO_LARGE; what = "answer larger than max_body"; }
        else { code = MALLAPI_HTTP_E_INTERNAL; what = "out of memory"; }
        break;
    case CURLE_PARTIAL_FILE: case CURLE_WEIRD_SERVER_REPLY: case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING: case CURLE_HTTP3: case CURLE_UNSUPPORTED_PROTOCOL:
        code = MALLAPI_HTTP_E_PROTOCOL; what = "broken answer"; break;
    case CURLE_GOT_NOTHING: case CURLE_SEND_ERROR: case CURLE_RECV_ERROR:
        code = MALLAPI_HTTP_E_IO; what = "connection failed"; break;
    case CURLE_URL_MALFORMAT:
        code = MALLAPI_HTTP_E_BAD_REQUEST; what = "URL not accepted"; break;
    case CURLE_PROXY:
        code = MALLAPI_HTTP_E_PROXY; what = "proxy refused"; break;
    case CURLE_OUT_OF_MEMORY:
        /* curl 7.x reports a header line over its own cap (100 KiB) as out of memory */
        if (c->in_headers || strstr(c->curl_err, "header")) { code = MALLAPI_HTTP_E_TOO_LARGE; what = "answer headers too large"; }
        else { code = MALLAPI_HTTP_E_INTERNAL; what = "out of memory"; }
        break;
    default:
        code = MALLAPI_HTTP_E_IO; what = "transfer failed"; break;
    }
    char shown[160];
    http_shown_url(c, shown, sizeof shown);
    c->code = code;
    snprintf(c->err, sizeof c->err, "http.request: %s: %.31s %s (%.255s)", what, c->method, shown,
             c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
    return -1;
}

/* ---- sessions ---- */

static void http_handle_free(http_handle *h) {
    if (h->e) curl_easy_cleanup(h->e);
    if (h->u) curl_url_cleanup(h->u);
    mallapi_http_buf_free(&h->url);
    h->e = NULL;
    h->u = NULL;
}

static char *http_strdup(const char *s, int *failed) {
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) *failed = 1;
    return d;
}

mallapi_http_session *mallapi_http_session_new(const mallapi_http_config *cfg, char *err, size_t errlen) {
    static int global_done = 0;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "http.new: curl_global_init failed");
            return NULL;
        }
        global_done = 1;
    }
    mallapi_http_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "http.new: out of memory");
        return NULL;
    }
    int failed = 0;
    s->cfg = *cfg;
    s->proxy = http_strdup(cfg->proxy, &failed);
    s->ca_file = http_strdup(cfg->ca_file, &failed);
    s->user_agent = http_strdup(cfg->user_agent ? cfg->user_agent : "mallapi/" MALLAPI_VERSION, &failed);
    s->cfg.proxy = s->proxy;
    s->cfg.ca_file = s->ca_file;
    s->cfg.user_agent = s->user_agent;
    if (!failed) {
        size_t n = strlen("User-Agent: ") + strlen(s->user_agent) + 1;
        if ((s->ua_line = malloc(n)) != NULL) snprintf(s->ua_line, n, "User-Agent: %s", s->user_agent);
        else failed = 1;
    }
    if (!failed) s->share = curl_share_init();
    if (s->share) {
        curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        s->easy.e = http_easy_new(s);
    }
    if (!s->easy.e) {
        mallapi_http_session_free(s);
        snprintf(err, errlen, "http.new: out of memory");
        return NULL;
    }
    return s;
}

void mallapi_http_session_free(mallapi_http_session *s) {
    if (!s) return;
    for (size_t i = 0; i < s->pool_len; i++) {
        if (s->multi) curl_multi_remove_handle(s->multi, s->pool[i].e);
        http_handle_free(&s->pool[i]);
    }
    free(s->pool);
    free(s->idle);
    if (s->multi) curl_multi_cleanup(s->multi);
    free(s->watch);
    http_handle_free(&s->easy);
    if (s->share) curl_share_cleanup(s->share);
    free(s->proxy);
    free(s->ca_file);
    free(s->user_agent);
    free(s->ua_line);
    if (s->url_check) curl_url_cleanup(s->url_check);
    mallapi_http_buf_free(&s->checked_url);
    free(s);
}

int mallapi_http_perform(mallapi_http_session *s, mallapi_http_call *c) {
    if (c->code) return -1;                           /* refused while building */
    if (http_prepare(s, &s->easy, c) < 0) return -1;
    CURLcode rc = curl_easy_perform(s->easy.e);
    return http_finish(s->easy.e, c, rc);
}

/* The batch loop drives the multi handle with curl_multi_socket_action: curl tells
 * which sockets to watch (http_on_socket) and when to wake up (http_on_timer); we
 * poll() just those and hand back only the sockets that fired, so curl does not
 * walk every transfer on each wake-up. Both callbacks only record plain C data. */
static int http_on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp) {
    (void)e;
    (void)socketp;
    mallapi_http_session *s = userp;
    size_t i = 0;
    while (i < s->nwatch && s->watch[i].fd != fd) i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < s->nwatch) s->watch[i] = s->watch[--s->nwatch];
        return 0;
    }
    if (i == s->nwatch) {
        if (s->nwatch == s->watch_cap) {
            size_t cap = s->watch_cap ? 2 * s->watch_cap : 32;
            struct pollfd *w = realloc(s->watch, cap * sizeof *w);
            if (!w) return -1;                        /* curl fails the transfer */
            s->watch = w;
            s->watch_cap = cap;
        }
        s->nwatch++;
        s->watch[i].fd = fd;
    }
    s->watch[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    s->watch[i].revents = 0;
    return 0;
}

static int http_on_timer(CURLM *m, long timeout_ms, void *userp) {
    (void)m;
    ((mallapi_http_session *)userp)->timer_ms = timeout_ms;
    return 0;
}

static int http_multi_ready(mallapi_http_session *s, size_t want) {
    if (!s->multi) {
        if (!(s->multi = curl_multi_init())) return -1;
        curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, http_on_socket);
        curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
        curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, http_on_timer);
        curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
        s->timer_ms = -1;
        if (s->cfg.max_connections > 0) {
            curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, s->cfg.max_connections);
            curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, s->cfg.max_connections);
        }
    }
    if (s->pool_len < want) {
        http_handle *pool = realloc(s->pool, want * sizeof *pool);
        if (!pool) return -1;
        s->pool = pool;
        http_handle **idle = realloc(s->idle, want * sizeof *idle);
        if (!idle) return -1;
        s->idle = idle;
        while (s->pool_len < want) {
            CURL *e = http_easy_new(s);
            if (!e) return -1;
            if (s->cfg.http2) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
            http_handle *h = &s->pool[s->pool_len++];
            memset(h, 0, sizeof *h);
            h->e = e;
        }
    }
    return 0;
}

/* Finish every transfer curl reports done; returns how many. */
static size_t http_multi_drain(mallapi_http_session *s, http_handle **idle, size_t *nidle) {
    CURLMsg *msg;
    int left = 0;
    size_t done = 0;
    while ((msg = curl_multi_info_read(s->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *e = msg->easy_handle;
        CURLcode rc = msg->data.result;
        char *priv = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
        http_handle *h = (http_handle *)priv;
        curl_multi_remove_handle(s->multi, e);
        http_finish(e, h->call, rc);
        h->call = NULL;
        idle[(*nidle)++] = h;
        done++;
    }
    return done;
}

int mallapi_http_perform_many(mallapi_http_session *s, mallapi_http_call **calls, size_t n,
                              size_t concurrency) {
    if (n == 0) return 0;
    if (concurrency < 1) concurrency = 1;
    if (concurrency > n) concurrency = n;
    if (http_multi_ready(s, concurrency) < 0) {
        for (size_t i = 0; i < n; i++)
            if (!calls[i]->code) http_fail(calls[i], MALLAPI_HTTP_E_INTERNAL, "http.batch: out of memory%s", NULL);
        return -1;
    }
    http_handle **idle = s->idle;                     /* idle[0..nidle) are idle */
    for (size_t i = 0; i < concurrency; i++) idle[i] = &s->pool[i];
    size_t nidle = concurrency, next = 0, running = 0;
    int fault = 0, still = 0;
    for (;;) {
        while (running < concurrency && next < n) {
            mallapi_http_call *c = calls[next++];
            if (c->code) continue;
            http_handle *h = idle[--nidle];
            if (http_prepare(s, h, c) < 0) { nidle++; continue; }
            h->call = c;
            curl_easy_setopt(h->e, CURLOPT_PRIVATE, (void *)h);   /* set here: the pool array may move */
            if (curl_multi_add_handle(s->multi, h->e) != CURLM_OK) {
                http_finish(h->e, c, CURLE_OUT_OF_MEMORY);
                h->call = NULL;
                nidle++;
                continue;
            }
            running++;
        }
        if (running == 0) break;
        CURLMcode mc = CURLM_OK;
        if (s->timer_ms == 0) {                       /* curl asked to be called now */
            s->timer_ms = -1;
            mc = curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &still);
        } else {
            int wait = s->timer_ms < 0 || s->timer_ms > 1000 ? 1000 : (int)s->timer_ms;
            int ready = poll(s->watch, (nfds_t)s->nwatch, wait);
            if (ready < 0 && errno != EINTR) {
                fault = 1;
            } else if (ready <= 0) {
                s->timer_ms = -1;
                mc = curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &still);
            } else {
                /* copy what fired first: the callbacks reshape s->watch */
                struct pollfd fired[64];
                size_t nfired = 0;
                for (size_t i = 0; i < s->nwatch && nfired < 64; i++)
                    if (s->watch[i].revents) fired[nfired++] = s->watch[i];
                for (size_t i = 0; i < nfired && mc == CURLM_OK; i++) {
                    short r = fired[i].revents;
                    int ev = ((r & POLLIN) ? CURL_CSELECT_IN : 0) | ((r & POLLOUT) ? CURL_CSELECT_OUT : 0) |
                             ((r & (POLLERR | POLLHUP | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
                    mc = curl_multi_socket_action(s->multi, fired[i].fd, ev, &still);
                }
            }
        }
        if (mc != CURLM_OK) fault = 1;
        running -= http_multi_drain(s, idle, &nidle);
        if (fault) {                                  /* give up on what still runs */
            for (size_t i = 0; i < s->pool_len && running; i++) {
                http_handle *h = &s->pool[i];
                if (h->call) {                        /* still in flight */
                    curl_multi_remove_handle(s->multi, h->e);
                    http_finish(h->e, h->call, CURLE_OUT_OF_MEMORY);
                    h->call = NULL;
                    running--;
                }
            }
            break;
        }
    }
    for (size_t i = next; i < n; i++)
        if (!calls[i]->code) http_fail(calls[i], MALLAPI_HTTP_E_INTERNAL, "http.batch: multi handle failed%s", NULL);
    return fault ? -1 : 0;
}
