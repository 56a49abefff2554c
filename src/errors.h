/* errors.h: every error code mallapi returns, listed once (the third value of a
 * runtime failure `nil, msg, CODE`). The same list is lua/mallapi/errors.lua and the
 * table in doc/errors.md; spec/errors_spec.lua checks that the C and Lua sources
 * produce exactly these codes. C files that produce a code use these names. */
#ifndef MALLAPI_ERRORS_H
#define MALLAPI_ERRORS_H

#define MALLAPI_E_TIMEOUT      "TIMEOUT"        /* retry: the deadline passed before the answer was complete (also a token waiter that waited too long) */
#define MALLAPI_E_CONNECT      "CONNECT"        /* retry: could not connect to the host */
#define MALLAPI_E_DNS          "DNS"            /* retry: the host (or proxy) name could not be resolved */
#define MALLAPI_E_TLS          "TLS"            /* final: TLS handshake or certificate check failed */
#define MALLAPI_E_PROXY        "PROXY"          /* final: the proxy refused the request */
#define MALLAPI_E_PROTOCOL     "PROTOCOL"       /* retry: broken answer: cut mid-body, not HTTP, bad chunking or length */
#define MALLAPI_E_IO           "IO"             /* retry: send/receive failed with nothing answered, or a file could not be read or written */
#define MALLAPI_E_TOO_LARGE    "TOO_LARGE"      /* final: an answer or a request body over its size limit */
#define MALLAPI_E_BAD_REQUEST  "BAD_REQUEST"    /* final: the request was refused before anything was sent (bad URL, method, header) */
#define MALLAPI_E_INTERNAL     "INTERNAL"       /* final: out of memory or libcurl misuse inside the transport */
#define MALLAPI_E_TRANSPORT    "TRANSPORT"      /* retry: the transport failed without naming a code (a user's transport) */
#define MALLAPI_E_HTTP         "HTTP"           /* by status: an HTTP status the vendor does not explain, or an answer that is not JSON; retryable for 5xx, 408 and 429 (detail.retryable) */
#define MALLAPI_E_AUTH         "AUTH"           /* final: credentials or token refused, or the token fetch failed */
#define MALLAPI_E_VENDOR       "VENDOR"         /* final: the vendor answered with a business error for this call */
#define MALLAPI_E_INVALID      "INVALID"        /* final: parameters refused by the operation's limits before anything was sent */
#define MALLAPI_E_RATE_LIMIT   "RATE_LIMIT"     /* retry: the rate limit wait would not fit in the time left */
#define MALLAPI_E_STORE        "STORE"          /* retry: the token/state store (shared dict, Redis) failed */
#define MALLAPI_E_DECODE       "DECODE"         /* final: text that does not decode (URL, base64, hex, date-time) */
#define MALLAPI_E_CRYPTO       "CRYPTO"         /* final: the crypto library failed */
#define MALLAPI_E_SYNTAX       "SYNTAX"         /* final: the JSON text is not valid JSON */
#define MALLAPI_E_DEPTH        "DEPTH"          /* final: nesting deeper than the limit */
#define MALLAPI_E_MEMORY       "MEMORY"         /* final: out of memory (or Lua stack) while decoding or encoding */
#define MALLAPI_E_TYPE         "TYPE"           /* final: a value JSON cannot encode (function, userdata, ...) */
#define MALLAPI_E_CYCLE        "CYCLE"          /* final: a table that contains itself, met while encoding */
#define MALLAPI_E_JSON         "JSON"           /* final: mapper:decode got text that is not a JSON object */
#define MALLAPI_E_MAP          "MAP"            /* final: a document does not map (missing or malformed field) */
#define MALLAPI_E_FULL         "FULL"           /* final: the seen-ids set is full */
#define MALLAPI_E_SYSTEM       "SYSTEM"         /* final: an operating system call failed (signal trap, listening socket) */
#define MALLAPI_E_BAD_BODY     "BAD_BODY"       /* final: the webhook body is not one JSON object, or a header/id it needs is missing */
#define MALLAPI_E_SIGNATURE    "SIGNATURE"      /* final: the webhook signature is missing or does not match */
#define MALLAPI_E_STALE        "STALE"          /* final: the webhook timestamp is missing or outside the tolerance window */
#define MALLAPI_E_DUPLICATE    "DUPLICATE"      /* final: the webhook event was already received (answered 200) */
#define MALLAPI_E_QUEUE        "QUEUE"          /* retry: the webhook queue is unavailable (answered 503) */
#define MALLAPI_E_PERMANENT    "PERMANENT"      /* final: the handler says the event can never succeed (dead letter at once) */
#define MALLAPI_E_TIMER        "TIMER"          /* final: nginx could not start the worker timer */
#define MALLAPI_E_PHASE        "PHASE"          /* final: the current nginx phase cannot wait on the network */
#define MALLAPI_E_STATE        "STATE"          /* final: a checkpoint that cannot be read or saved */
#define MALLAPI_E_SOURCE       "SOURCE"         /* final: a source record without the id or update time it needs */
#define MALLAPI_E_REJECTED     "REJECTED"       /* final: the sink refused a record (dead letter) */
#define MALLAPI_E_DEAD_LETTERS "DEAD_LETTERS"   /* final: too many records refused in a row; the run stops */
#define MALLAPI_E_BUSY         "BUSY"           /* retry: the job's lock is held elsewhere or was lost */
#define MALLAPI_E_STOPPED      "STOPPED"        /* final: the run stopped on request after a batch */
#define MALLAPI_E_ERROR        "ERROR"          /* final: a user function (map, sink, handler, job) raised an error */
#define MALLAPI_E_CONFIG       "CONFIG"         /* final: a job definition or secret reference is unusable */

#endif
