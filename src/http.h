/* http.h: the HTTP transport on libcurl, with no Lua in it. A session owns a
 * curl share (DNS cache, TLS sessions, connection pool), one easy handle reused
 * for sequential calls, and a multi handle with a pool of easy handles for
 * concurrent batches. A call describes one request and collects its response
 * (status, header pairs, body) in C buffers; failures fill call->code (a stable
 * upper-case string, see MALLAPI_HTTP_E_*) and call->err. */
#ifndef MALLAPI_HTTP_H
#define MALLAPI_HTTP_H

#include <stddef.h>
#include "mallapi.h"
#include "errors.h"

/* The transport's error codes (src/errors.h). */
#define MALLAPI_HTTP_E_TIMEOUT     MALLAPI_E_TIMEOUT
#define MALLAPI_HTTP_E_CONNECT     MALLAPI_E_CONNECT
#define MALLAPI_HTTP_E_DNS         MALLAPI_E_DNS
#define MALLAPI_HTTP_E_TLS         MALLAPI_E_TLS
#define MALLAPI_HTTP_E_TOO_LARGE   MALLAPI_E_TOO_LARGE
#define MALLAPI_HTTP_E_PROTOCOL    MALLAPI_E_PROTOCOL
#define MALLAPI_HTTP_E_IO          MALLAPI_E_IO
#define MALLAPI_HTTP_E_BAD_REQUEST MALLAPI_E_BAD_REQUEST
#define MALLAPI_HTTP_E_PROXY       MALLAPI_E_PROXY
#define MALLAPI_HTTP_E_INTERNAL    MALLAPI_E_INTERNAL

/* Answer headers beyond this many bytes are refused with TOO_LARGE (the nginx
 * transport has the same cap). */
#define MALLAPI_HTTP_MAX_HEADER_BYTES 65536

/* Room for a message: the method, the URL without its query and curl's own words. */
#define MALLAPI_HTTP_ERRLEN 512

/* A growable byte buffer (sds-like, owned by whoever holds the struct). */
typedef struct mallapi_http_buf {
    char *data;
    size_t len, cap;
} mallapi_http_buf;

/* Append n bytes of s (s NULL: reserve n bytes for the caller to fill); keeps a NUL after. */
int mallapi_http_buf_append(mallapi_http_buf *b, const char *s, size_t n);
void mallapi_http_buf_free(mallapi_http_buf *b);

/* Session settings; strings are copied by mallapi_http_session_new. */
typedef struct mallapi_http_config {
    long connect_timeout_ms;
    size_t max_body;
    const char *proxy;          /* NULL: none (curl also reads no proxy variables then) */
    const char *ca_file;        /* NULL: system store */
    const char *user_agent;
    int verify;                 /* TLS peer and host name checks */
    long max_connections;       /* connection pool size and total open connections */
    int http2;                  /* offer HTTP/2 over TLS (ALPN) */
} mallapi_http_config;

typedef struct mallapi_http_session mallapi_http_session;

/* One request and its response. The caller fills the request part (method, url,
 * query, header_lines, body) and the library the response part. Strings given by
 * pointer (method, url, body) must stay alive until the call is performed. */
typedef struct mallapi_http_call {
    /* request */
    const char *method;         /* upper-case token, e.g. "GET" */
    const char *url;
    const char *body;           /* NULL: no body */
    size_t body_len;
    long timeout_ms;            /* whole call; > 0 */
    mallapi_http_buf query;     /* encoded "a=1&b=2", appended to the URL's own query */
    mallapi_http_buf header_lines; /* "Name: value\0" each */
    /* response */
    long status;
    mallapi_http_buf headers;   /* "name\0value\0" pairs, names lower-cased */
    size_t header_count;
    mallapi_http_buf body_out;
    double time_s;              /* total time of the transfer */
    const char *code;           /* NULL on success, else MALLAPI_HTTP_E_* */
    char err[MALLAPI_HTTP_ERRLEN];
    /* private */
    int too_large;              /* 1: body over max_body, 2: headers over the cap */
    int in_headers;             /* between the status line and the blank line */
    size_t max_body;
    mallapi_http_buf url_buf;   /* the URL sent: given URL + query, no fragment */
    void *header_nodes;         /* struct curl_slist[]: the header list handed to curl, */
    size_t header_nodes_cap;    /* pointing into header_lines (no malloc per header) */
    int has_user_agent;         /* the caller set User-Agent */
    char curl_err[256];         /* CURLOPT_ERRORBUFFER (CURL_ERROR_SIZE) */
} mallapi_http_call;

/* Create / destroy a session. new returns NULL with err filled on failure. */
mallapi_http_session *mallapi_http_session_new(const mallapi_http_config *cfg, char *err, size_t errlen);
void mallapi_http_session_free(mallapi_http_session *s);

/* Prepare a call for reuse (keeps buffer capacity) and release it. */
void mallapi_http_call_reset(mallapi_http_call *c);
void mallapi_http_call_free(mallapi_http_call *c);

/* Request building; each returns 0, or -1 with c->code = BAD_REQUEST and c->err set. */
int mallapi_http_add_query(mallapi_http_call *c, const char *name, size_t nlen,
                           const char *value, size_t vlen);
int mallapi_http_add_header(mallapi_http_call *c, const char *name, size_t nlen,
                            const char *value, size_t vlen);

/* Perform one call on the session's reused easy handle: 0 when an HTTP answer
 * came (any status), -1 with c->code/c->err otherwise. */
int mallapi_http_perform(mallapi_http_session *s, mallapi_http_call *c);

/* Perform n calls concurrently, at most `concurrency` at once, on the multi
 * handle. Calls that already carry a code (refused while building) are skipped.
 * Returns 0 when the batch ran (each call has its own result), -1 on a fault of
 * the multi handle itself (then every unfinished call carries the code). */
int mallapi_http_perform_many(mallapi_http_session *s, mallapi_http_call **calls, size_t n,
                              size_t concurrency);

/* RFC 3986 percent-encoding of everything but unreserved characters
 * (ALPHA / DIGIT / "-" / "." / "_" / "~"), appended to b. */
int mallapi_http_url_encode(mallapi_http_buf *b, const char *s, size_t n);

#endif
