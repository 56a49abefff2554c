/* seen.c: the shared set of seen keys (see seen.h). Layout of the mapping: a
 * 128-byte header, then `capacity` slots of 24 bytes. A slot holds a key's
 * 128-bit fingerprint (0,0: never used) and its expiry in unix seconds (0:
 * deleted). Linear probing from the fingerprint's low bits; a slot once used
 * stays used (so probe runs stay intact) and an expired one is reused by the
 * next insert whose run passes it. When used slots reach 3/4 of the table, an
 * insert that needs an empty slot first compacts the table (keeps the live
 * keys only). Every operation runs under the spinlock in the header. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "seen.h"
#include "clock.h"

#define SEEN_MAGIC "MALLSEEN"
#define SEEN_VERSION 1u
#define SEEN_HEADER_SIZE 128

typedef struct {
    char magic[8];
    uint32_t version;
    uint32_t capacity;              /* a power of two */
    uint8_t key[16];                /* the SipHash key */
    char boot_id[40];               /* the boot that last opened it: a lock from an earlier boot is void */
    uint32_t lock;                  /* pid of the writer, 0 when free */
    uint32_t used;                  /* non-empty slots */
    uint32_t compact_after;         /* unix s: no compaction before (the last one freed too little) */
} seen_header;

typedef struct {
    uint64_t h0, h1;                /* fingerprint; 0,0: empty */
    uint32_t expires;               /* unix s; 0: deleted */
    uint32_t spare;
} seen_slot;

struct mallapi_seen {
    seen_header *head;
    seen_slot *slots;
    size_t size;                    /* of the mapping */
    uint32_t mask;
    int64_t steal_ms;               /* a live holder this slow is taken over too */
    char *path;
};

_Static_assert(sizeof(seen_header) <= SEEN_HEADER_SIZE, "seen header too large");
_Static_assert(sizeof(seen_slot) == 24, "seen slot size");

/* ---- SipHash-2-4, 128-bit output ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                              \
    do {                                                                      \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);             \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);             \
    } while (0)

static uint64_t load_le64(const uint8_t *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

void mallapi_siphash128(const uint8_t key[16], const void *data, size_t len, uint64_t out[2]) {
    const uint8_t *p = (const uint8_t *)data, *end = p + (len & ~(size_t)7);
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8), m, b = (uint64_t)len << 56;
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    size_t left = len & 7;
    v1 ^= 0xee;
    for (; p != end; p += 8) {
        m = load_le64(p);
        v3 ^= m;
        SIPROUND; SIPROUND;
        v0 ^= m;
    }
    while (left--) b |= (uint64_t)p[left] << (8 * left);
    v3 ^= b;
    SIPROUND; SIPROUND;
    v0 ^= b;
    v2 ^= 0xee;
    SIPROUND; SIPROUND; SIPROUND; SIPROUND;
    out[0] = v0 ^ v1 ^ v2 ^ v3;
    v1 ^= 0xdd;
    SIPROUND; SIPROUND; SIPROUND; SIPROUND;
    out[1] = v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the lock ---- */

static void seen_lock(mallapi_seen *set, uint32_t me) {
    uint32_t *word = &set->head->lock, expected = 0, holder, last = 0;
    unsigned spins = 0;
    int64_t since = 0;
    if (__atomic_compare_exchange_n(word, &expected, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
    for (;;) {
        holder = __atomic_load_n(word, __ATOMIC_RELAXED);
        if (holder == 0) {
            expected = 0;
            if (__atomic_compare_exchange_n(word, &expected, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
            continue;
        }
        if (++spins % 64 == 0) sched_yield();
        if (spins % 1024 != 0) continue;
        /* now and then: is the holder alive, and has it held it too long? */
        if (holder != last) { last = holder; since = mallapi_clock_monotonic_ms(); }
        if ((kill((pid_t)holder, 0) == -1 && errno == ESRCH) || mallapi_clock_monotonic_ms() - since > set->steal_ms) {
            expected = holder;
            if (__atomic_compare_exchange_n(word, &expected, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
        }
    }
}

static void seen_unlock(mallapi_seen *set, uint32_t me) {
    uint32_t expected = me;         /* taken over meanwhile: not ours to free */
    __atomic_compare_exchange_n(&set->head->lock, &expected, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

/* ---- the table ---- */

static void fingerprint(const mallapi_seen *set, const char *key, size_t len, uint64_t fp[2]) {
    mallapi_siphash128(set->head->key, key, len, fp);
    if (fp[0] == 0 && fp[1] == 0) fp[0] = 1;               /* 0,0 means empty */
}

static int slot_empty(const seen_slot *s) { return s->h0 == 0 && s->h1 == 0; }

/* The slot holding fp, or NULL; *reuse: the first expired slot of the run
 * (when wanted), *empty: the empty slot that ended the run (or NULL). */
static seen_slot *seen_find(mallapi_seen *set, const uint64_t fp[2], uint32_t now,
                            seen_slot **reuse, seen_slot **empty) {
    uint32_t i = (uint32_t)fp[0] & set->mask, n;
    if (reuse) *reuse = NULL;
    if (empty) *empty = NULL;
    for (n = 0; n <= set->mask; n++, i = (i + 1) & set->mask) {
        seen_slot *s = &set->slots[i];
        if (s->h0 == fp[0] && s->h1 == fp[1]) return s;
        if (slot_empty(s)) {
            if (empty) *empty = s;
            return NULL;
        }
        if (reuse && *reuse == NULL && s->expires <= now) *reuse = s;
    }
    return NULL;
}

/* Keep the live keys only: 0 and the earliest expiry among them in *first,
 * or -1 when the copy could not be allocated. */
static int seen_compact(mallapi_seen *set, uint32_t now, uint32_t *first) {
    uint32_t i, live = 0, cap = set->mask + 1;
    seen_slot *keep;
    *first = UINT32_MAX;
    for (i = 0; i < cap; i++) {
        if (slot_empty(&set->slots[i]) || set->slots[i].expires <= now) continue;
        live++;
        if (set->slots[i].expires < *first) *first = set->slots[i].expires;
    }
    keep = (seen_slot *)malloc((size_t)(live ? live : 1) * sizeof *keep);
    if (keep == NULL) return -1;
    for (i = 0, live = 0; i < cap; i++)
        if (!slot_empty(&set->slots[i]) && set->slots[i].expires > now) keep[live++] = set->slots[i];
    memset(set->slots, 0, (size_t)cap * sizeof *set->slots);
    for (i = 0; i < live; i++) {
        uint32_t j = (uint32_t)keep[i].h0 & set->mask;
        while (!slot_empty(&set->slots[j])) j = (j + 1) & set->mask;
        set->slots[j] = keep[i];
    }
    set->head->used = live;
    free(keep);
    return 0;
}

static void slot_fill(seen_slot *s, const uint64_t fp[2], uint32_t expires) {
    s->expires = expires;
    s->h1 = fp[1];
    s->h0 = fp[0];
}

int mallapi_seen_add(mallapi_seen *set, const char *key, size_t len, uint32_t ttl_s, uint32_t now_s) {
    uint64_t fp[2];
    seen_slot *hit, *reuse, *empty;
    uint32_t me = (uint32_t)getpid(), cap = set->mask + 1, expires;
    int rc = MALLAPI_SEEN_ADDED;
    expires = ttl_s > UINT32_MAX - now_s ? UINT32_MAX : now_s + ttl_s;
    if (expires == 0) expires = 1;
    fingerprint(set, key, len, fp);
    seen_lock(set, me);
    hit = seen_find(set, fp, now_s, &reuse, &empty);
    if (hit) {
        if (hit->expires > now_s) rc = MALLAPI_SEEN_EXISTS;
        else hit->expires = expires;
    } else if (reuse) {
        slot_fill(reuse, fp, expires);
    } else {
        seen_header *h = set->head;
        uint32_t first;
        if (h->used + 1 > cap / 4 * 3) {                   /* keep the table at most 3/4 full */
            if (now_s >= h->compact_after && seen_compact(set, now_s, &first) == 0) {
                /* still crowded: compacting again frees nothing before the first expiry
                 * (or a delete) */
                h->compact_after = h->used > cap / 8 * 5 ? first : 0;
                seen_find(set, fp, now_s, NULL, &empty);
            }
            if (h->used + 1 > cap / 4 * 3) empty = NULL;
        }
        if (empty) {
            slot_fill(empty, fp, expires);
            h->used++;
        } else {
            rc = MALLAPI_SEEN_FULL;
        }
    }
    seen_unlock(set, me);
    return rc;
}

int mallapi_seen_has(mallapi_seen *set, const char *key, size_t len, uint32_t now_s) {
    uint64_t fp[2];
    seen_slot *hit;
    uint32_t me = (uint32_t)getpid();
    int found;
    fingerprint(set, key, len, fp);
    seen_lock(set, me);
    hit = seen_find(set, fp, now_s, NULL, NULL);
    found = hit != NULL && hit->expires > now_s;
    seen_unlock(set, me);
    return found;
}

int mallapi_seen_delete(mallapi_seen *set, const char *key, size_t len) {
    uint64_t fp[2];
    seen_slot *hit;
    uint32_t me = (uint32_t)getpid();
    int found = 0;
    fingerprint(set, key, len, fp);
    seen_lock(set, me);
    hit = seen_find(set, fp, 0, NULL, NULL);
    if (hit && hit->expires != 0) {
        hit->expires = 0;                                  /* stays used: probe runs stay intact */
        set->head->compact_after = 0;                      /* a compaction would free it */
        found = 1;
    }
    seen_unlock(set, me);
    return found;
}

void mallapi_seen_stats_get(mallapi_seen *set, uint32_t now_s, mallapi_seen_stats *out) {
    uint32_t i, cap = set->mask + 1, live = 0, me = (uint32_t)getpid();
    seen_lock(set, me);
    for (i = 0; i < cap; i++)
        if (!slot_empty(&set->slots[i]) && set->slots[i].expires > now_s) live++;
    out->capacity = cap;
    out->used = set->head->used;
    out->live = live;
    seen_unlock(set, me);
}

const char *mallapi_seen_path(const mallapi_seen *set) { return set->path; }

void mallapi_seen_set_steal_ms(mallapi_seen *set, int64_t ms) { set->steal_ms = ms; }

/* ---- open and close ---- */

static void read_boot_id(char out[40]) {
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    memset(out, 0, 40);
    if (f) {
        if (!fgets(out, 40, f)) out[0] = '\0';
        fclose(f);
    }
}

static int seen_fail(char *err, size_t errlen, const char *what, const char *path, int errnum) {
    if (errnum) snprintf(err, errlen, "seen set %s: %s: %s", path ? path : "(anonymous)", what, strerror(errnum));
    else snprintf(err, errlen, "seen set %s: %s", path ? path : "(anonymous)", what);
    return -1;
}

static uint32_t round_capacity(uint32_t capacity) {
    uint32_t cap = MALLAPI_SEEN_MIN_CAPACITY;
    if (capacity > MALLAPI_SEEN_MAX_CAPACITY) capacity = MALLAPI_SEEN_MAX_CAPACITY;
    while (cap < capacity) cap <<= 1;
    return cap;
}

static size_t map_size(uint32_t capacity) { return SEEN_HEADER_SIZE + (size_t)capacity * sizeof(seen_slot); }

static int init_header(seen_header *h, uint32_t capacity, char *err, size_t errlen, const char *path) {
    size_t got = 0;
    while (got < sizeof h->key) {
        ssize_t n = getrandom(h->key + got, sizeof h->key - got, 0);
        if (n < 0 && errno != EINTR) return seen_fail(err, errlen, "no random key", path, errno);
        if (n > 0) got += (size_t)n;
    }
    h->version = SEEN_VERSION;
    h->capacity = capacity;
    read_boot_id(h->boot_id);
    memcpy(h->magic, SEEN_MAGIC, 8);
    return 0;
}

static mallapi_seen *seen_new(void *map, size_t size, const char *path, char *err, size_t errlen) {
    mallapi_seen *set = (mallapi_seen *)calloc(1, sizeof *set);
    if (set && path && !(set->path = strdup(path))) { free(set); set = NULL; }
    if (!set) {
        munmap(map, size);
        seen_fail(err, errlen, "out of memory", path, 0);
        return NULL;
    }
    set->head = (seen_header *)map;
    set->slots = (seen_slot *)(void *)((char *)map + SEEN_HEADER_SIZE);
    set->size = size;
    set->mask = set->head->capacity - 1;
    set->steal_ms = MALLAPI_SEEN_STEAL_MS;
    return set;
}

static mallapi_seen *open_anonymous(uint32_t capacity, char *err, size_t errlen) {
    size_t size = map_size(capacity);
    void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) { seen_fail(err, errlen, "mmap", NULL, errno); return NULL; }
    if (init_header((seen_header *)map, capacity, err, errlen, NULL)) { munmap(map, size); return NULL; }
    return seen_new(map, size, NULL, err, errlen);
}

mallapi_seen *mallapi_seen_open(const char *path, uint32_t capacity, char *err, size_t errlen) {
    seen_header head;
    struct stat st;
    void *map = MAP_FAILED;
    size_t size = 0;
    char boot[40];
    int fd;
    capacity = round_capacity(capacity);
    if (path == NULL) return open_anonymous(capacity, err, errlen);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) { seen_fail(err, errlen, "open", path, errno); return NULL; }
    if (flock(fd, LOCK_EX) != 0) { seen_fail(err, errlen, "flock", path, errno); goto fail; }  /* one creator */
    if (fstat(fd, &st) != 0) { seen_fail(err, errlen, "fstat", path, errno); goto fail; }
    if (st.st_size == 0) {                                 /* new: size it, write the header last */
        size = map_size(capacity);
        if (ftruncate(fd, (off_t)size) != 0) { seen_fail(err, errlen, "ftruncate", path, errno); goto fail; }
        map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) { seen_fail(err, errlen, "mmap", path, errno); goto fail; }
        if (init_header((seen_header *)map, capacity, err, errlen, path)) goto fail;
    } else {
        if (pread(fd, &head, sizeof head, 0) != (ssize_t)sizeof head || memcmp(head.magic, SEEN_MAGIC, 8) != 0
            || head.version != SEEN_VERSION || head.capacity < MALLAPI_SEEN_MIN_CAPACITY
            || head.capacity > MALLAPI_SEEN_MAX_CAPACITY || (head.capacity & (head.capacity - 1)) != 0
            || (size_t)st.st_size != map_size(head.capacity) || head.used > head.capacity) {
            seen_fail(err, errlen, "not a mallapi seen set (or damaged)", path, 0);
            goto fail;
        }
        size = map_size(head.capacity);
        map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) { seen_fail(err, errlen, "mmap", path, errno); goto fail; }
        read_boot_id(boot);
        if (memcmp(boot, ((seen_header *)map)->boot_id, sizeof boot) != 0) {
            /* first open since a reboot: no holder of the lock can be alive */
            ((seen_header *)map)->lock = 0;
            memcpy(((seen_header *)map)->boot_id, boot, sizeof boot);
        }
    }
    flock(fd, LOCK_UN);                                    /* explicitly: the mapping keeps the file open */
    close(fd);
    return seen_new(map, size, path, err, errlen);
fail:
    if (map != MAP_FAILED) munmap(map, size);
    close(fd);
    return NULL;
}

void mallapi_seen_close(mallapi_seen *set) {
    if (set == NULL) return;
    munmap(set->head, set->size);
    free(set->path);
    free(set);
}
