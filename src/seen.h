/* seen.h: a set of "already seen" keys, each with an expiry, that several
 * processes share: the nginx workers of a webhook receiver dropping repeated
 * deliveries. The set lives in a memory-mapped file (it survives reloads and
 * restarts) or, without a path, in anonymous shared memory inherited across
 * fork. Keys are kept as 128-bit SipHash-2-4 fingerprints (keyed by a random
 * key stored in the set) in an open-addressing table of fixed capacity: an
 * insert touches one or two cache lines, where a red-black tree walks ~20.
 * Writers take a short spinlock in the mapping; a holder that died is detected
 * (its pid is gone) and the lock taken over. No Lua here. */
#ifndef MALLAPI_SEEN_H
#define MALLAPI_SEEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct mallapi_seen mallapi_seen;

enum {
    MALLAPI_SEEN_EXISTS = 0,     /* the key is there and has not expired */
    MALLAPI_SEEN_ADDED = 1,      /* the key was not there (or had expired): now it is */
    MALLAPI_SEEN_FULL = -2       /* no room: every slot holds a live key */
};

typedef struct {
    uint32_t capacity;           /* slots */
    uint32_t used;               /* slots filled (live or expired) */
    uint32_t live;               /* slots whose key has not expired */
} mallapi_seen_stats;

/* The smallest and largest capacity (slots of 24 bytes); others are rounded up
 * to a power of two. */
#define MALLAPI_SEEN_MIN_CAPACITY 64u
#define MALLAPI_SEEN_MAX_CAPACITY (1u << 26)

/* Open (or create, mode 0600) the set at path, or a new anonymous one when path
 * is NULL. A new set gets `capacity` slots; an existing file keeps its own. NULL
 * with a message in err on failure (not a set file, I/O, memory). */
mallapi_seen *mallapi_seen_open(const char *path, uint32_t capacity, char *err, size_t errlen);
/* Unmap and free (the file stays). */
void mallapi_seen_close(mallapi_seen *set);

/* Add key with a lifetime of ttl_s seconds from now_s (unix seconds):
 * MALLAPI_SEEN_ADDED, MALLAPI_SEEN_EXISTS or MALLAPI_SEEN_FULL. */
int mallapi_seen_add(mallapi_seen *set, const char *key, size_t len, uint32_t ttl_s, uint32_t now_s);
/* 1 when key is there and not expired at now_s, else 0. */
int mallapi_seen_has(mallapi_seen *set, const char *key, size_t len, uint32_t now_s);
/* Forget key (it may be added again at once): 1 when it was there, else 0. */
int mallapi_seen_delete(mallapi_seen *set, const char *key, size_t len);
void mallapi_seen_stats_get(mallapi_seen *set, uint32_t now_s, mallapi_seen_stats *out);
/* How long a live holder may keep the lock before a waiter takes it over
 * (default MALLAPI_SEEN_STEAL_MS; a holder that died is taken over at once). */
#define MALLAPI_SEEN_STEAL_MS 2000
void mallapi_seen_set_steal_ms(mallapi_seen *set, int64_t ms);
/* The path given to open, or NULL for an anonymous set. */
const char *mallapi_seen_path(const mallapi_seen *set);

/* SipHash-2-4 with a 128-bit result (out[0], out[1]: the first and last 8
 * bytes of the reference output, read little-endian). */
void mallapi_siphash128(const uint8_t key[16], const void *data, size_t len, uint64_t out[2]);

#endif
