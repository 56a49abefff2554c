/* json_fuzz.c: random-mutation driver for the JSON codec, built with
 * ASan/UBSan (make fuzz-smoke). It embeds Lua 5.4, opens core.json through
 * bind_json.c and feeds it inputs derived from a corpus (the JSONTestSuite
 * files and the vendor payloads) by a deterministic mutator. Each input goes
 * through decode (plain, ordered, replace_invalid_utf8), raw_members and,
 * when accepted, encode with two invariants checked:
 *   encode(decode(t)) == t  for t = encode(v, {sort_keys = true})
 *   encode(decode(o, {ordered = true})) == o  for o = encode(ordered value)
 * A sanitizer report or a broken invariant aborts.
 *
 *   json_fuzz ITERATIONS SEED PATH...   (PATH: a file or a directory of files)
 *
 * Built with -DMALLAPI_LIBFUZZER (clang -fsanitize=fuzzer) it is a libFuzzer
 * target instead, for longer runs (make fuzz-long). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bind.h"

#define FUZZ_MAX_INPUT 65536
#define FUZZ_WINDOW 8192

static lua_State *fuzz_L;
static int fuzz_json_ref;
static long fuzz_accepted;      /* inputs the plain decode accepted */

static void fuzz_fail(const char *what, const char *input, size_t len) {
    fprintf(stderr, "json_fuzz: %s\ninput (%zu bytes): ", what, len);
    fwrite(input, 1, len < 2000 ? len : 2000, stderr);
    fputc('\n', stderr);
    abort();
}

static void fuzz_setup(void) {
    fuzz_L = luaL_newstate();
    luaL_openlibs(fuzz_L);
    lua_newtable(fuzz_L);                   /* core */
    mallapi_open_json(fuzz_L);
    lua_getfield(fuzz_L, -1, "json");       /* core, json */
    fuzz_json_ref = luaL_ref(fuzz_L, LUA_REGISTRYINDEX);
    lua_pop(fuzz_L, 1);
}

/* Calls json[fname](args on the stack) protected; leaves nres results. */
static int fuzz_call(const char *fname, int nargs, int nres) {
    lua_State *L = fuzz_L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, fuzz_json_ref);
    lua_getfield(L, -1, fname);
    lua_remove(L, -2);
    lua_insert(L, -(nargs + 1));
    return lua_pcall(L, nargs, nres, 0);
}

static void fuzz_push_opts(const char *name) {
    lua_createtable(fuzz_L, 0, 1);
    if (name) {
        lua_pushboolean(fuzz_L, 1);
        lua_setfield(fuzz_L, -2, name);
    }
}

/* encode(value at top, {opt}) -> string or nil, replacing the value. */
static void fuzz_encode_top(const char *opt) {
    fuzz_push_opts(opt);
    if (fuzz_call("encode", 2, 1) != LUA_OK) fuzz_fail(lua_tostring(fuzz_L, -1), "", 0);
}

static void fuzz_one(const char *data, size_t len) {
    lua_State *L = fuzz_L;
    int top = lua_gettop(L);

    /* Plain decode; when accepted, canonical encode must be a fixed point. */
    lua_pushlstring(L, data, len);
    if (fuzz_call("decode", 1, 2) != LUA_OK) fuzz_fail(lua_tostring(L, -1), data, len);
    if (lua_isnil(L, -1) && !lua_isnil(L, -2)) {
        fuzz_accepted++;
        lua_pop(L, 1);
        fuzz_encode_top("sort_keys");                       /* text */
        if (!lua_isstring(L, -1)) fuzz_fail("encode of a decoded value failed", data, len);
        size_t tl;
        const char *t = lua_tolstring(L, -1, &tl);
        lua_pushvalue(L, -1);
        if (fuzz_call("decode", 1, 1) != LUA_OK || lua_isnil(L, -1))
            fuzz_fail("decode of encoder output failed", t, tl);
        fuzz_encode_top("sort_keys");
        size_t t2l;
        const char *t2 = lua_tolstring(L, -1, &t2l);
        if (!t2 || t2l != tl || memcmp(t, t2, tl) != 0) fuzz_fail("canonical encode not stable", data, len);
    }
    lua_settop(L, top);

    /* Ordered decode: its compact encoding must reproduce itself. */
    lua_pushlstring(L, data, len);
    fuzz_push_opts("ordered");
    if (fuzz_call("decode", 2, 2) != LUA_OK) fuzz_fail(lua_tostring(L, -1), data, len);
    if (lua_isnil(L, -1) && !lua_isnil(L, -2)) {
        lua_pop(L, 1);
        fuzz_encode_top(NULL);
        size_t ol;
        const char *o = lua_tolstring(L, -1, &ol);
        if (!o) fuzz_fail("encode of an ordered value failed", data, len);
        lua_pushvalue(L, -1);
        fuzz_push_opts("ordered");
        if (fuzz_call("decode", 2, 1) != LUA_OK || lua_isnil(L, -1))
            fuzz_fail("ordered decode of encoder output failed", o, ol);
        fuzz_encode_top(NULL);
        size_t o2l;
        const char *o2 = lua_tolstring(L, -1, &o2l);
        if (!o2 || o2l != ol || memcmp(o, o2, ol) != 0) fuzz_fail("ordered round trip not exact", data, len);
    }
    lua_settop(L, top);

    /* Replacement of invalid UTF-8, and raw_members: must not crash. */
    lua_pushlstring(L, data, len);
    fuzz_push_opts("replace_invalid_utf8");
    if (fuzz_call("decode", 2, 2) != LUA_OK) fuzz_fail(lua_tostring(L, -1), data, len);
    lua_settop(L, top);
    lua_pushlstring(L, data, len);
    if (fuzz_call("raw_members", 1, 2) != LUA_OK) fuzz_fail(lua_tostring(L, -1), data, len);
    lua_settop(L, top);
}

#ifdef MALLAPI_LIBFUZZER

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!fuzz_L) fuzz_setup();
    fuzz_one((const char *)data, size);
    return 0;
}

#else

typedef struct {
    char *data;
    size_t len;
} fuzz_input;

static fuzz_input *corpus;
static size_t ncorpus, capcorpus;

static void corpus_add(const char *data, size_t len) {
    if (ncorpus == capcorpus) {
        capcorpus = capcorpus ? capcorpus * 2 : 512;
        corpus = realloc(corpus, capcorpus * sizeof *corpus);
        if (!corpus) abort();
    }
    corpus[ncorpus].data = malloc(len ? len : 1);
    if (!corpus[ncorpus].data) abort();
    memcpy(corpus[ncorpus].data, data, len);
    corpus[ncorpus].len = len;
    ncorpus++;
}

/* A small file is one entry; a big one gives up to 16 windows of 8 KB. */
static void corpus_load_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(size > 0 ? (size_t)size : 1);
    if (!buf) abort();
    size_t n = fread(buf, 1, (size_t)size, f);
    fclose(f);
    if (n <= FUZZ_MAX_INPUT) {
        corpus_add(buf, n);
    } else {
        size_t step = n / 16;
        for (size_t off = 0; off + FUZZ_WINDOW <= n; off += step) corpus_add(buf + off, FUZZ_WINDOW);
    }
    free(buf);
}

static void corpus_load(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "json_fuzz: cannot read %s\n", path);
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        corpus_load_file(path);
        return;
    }
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort);     /* sorted: deterministic */
    for (int i = 0; i < n; i++) {
        if (strstr(names[i]->d_name, ".json")) {
            char full[4096];
            snprintf(full, sizeof full, "%s/%s", path, names[i]->d_name);
            corpus_load_file(full);
        }
        free(names[i]);
    }
    free(names);
}

static uint64_t rng_state;

static uint64_t rng(void) {                               /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static size_t rng_below(size_t n) { return n ? (size_t)(rng() % n) : 0; }

static const char fuzz_tokens[] = "\"\\[]{},:0123456789-+.eEtrufalsn \t\n\x00\x7f\x80\xbf\xc0\xe4\xed\xf0\xf4\xffu";

/* Applies random edits to buf (len bytes, capacity FUZZ_MAX_INPUT): mostly
 * one, sometimes up to eight, so that a good share stays valid JSON. */
static size_t fuzz_mutate(char *buf, size_t len) {
    int edits = rng_below(4) ? 1 : 1 + (int)rng_below(8);
    for (int k = 0; k < edits; k++) {
        switch (rng_below(8)) {
        case 0: /* flip a bit */
            if (len) buf[rng_below(len)] ^= (char)(1u << rng_below(8));
            break;
        case 1: /* overwrite with an interesting byte */
            if (len) buf[rng_below(len)] = fuzz_tokens[rng_below(sizeof fuzz_tokens - 1)];
            break;
        case 2: /* insert an interesting byte */
            if (len < FUZZ_MAX_INPUT) {
                size_t at = rng_below(len + 1);
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = fuzz_tokens[rng_below(sizeof fuzz_tokens - 1)];
                len++;
            }
            break;
        case 3: /* delete a range */
            if (len) {
                size_t at = rng_below(len), n = 1 + rng_below(len - at < 16 ? len - at : 16);
                memmove(buf + at, buf + at + n, len - at - n);
                len -= n;
            }
            break;
        case 4: /* duplicate a range */
            if (len) {
                size_t at = rng_below(len), n = 1 + rng_below(len - at < 64 ? len - at : 64);
                if (len + n <= FUZZ_MAX_INPUT) {
                    size_t to = rng_below(len + 1);
                    char tmp[64];
                    memcpy(tmp, buf + at, n);
                    memmove(buf + to + n, buf + to, len - to);
                    memcpy(buf + to, tmp, n);
                    len += n;
                }
            }
            break;
        case 5: { /* splice in a piece of another corpus entry */
            fuzz_input *o = &corpus[rng_below(ncorpus)];
            if (o->len) {
                size_t from = rng_below(o->len), n = 1 + rng_below(o->len - from < 256 ? o->len - from : 256);
                size_t to = rng_below(len + 1);
                if (to + n > FUZZ_MAX_INPUT) n = FUZZ_MAX_INPUT - to;
                memcpy(buf + to, o->data + from, n);
                if (to + n > len) len = to + n;
            }
            break;
        }
        case 6: /* truncate */
            if (len) len = rng_below(len + 1);
            break;
        default: /* deepen: wrap in brackets */
            if (len + 2 <= FUZZ_MAX_INPUT) {
                memmove(buf + 1, buf, len);
                buf[0] = rng() & 1 ? '[' : '{';
                buf[len + 1] = buf[0] == '[' ? ']' : '}';
                len += 2;
            }
            break;
        }
    }
    return len;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: json_fuzz ITERATIONS SEED PATH...\n");
        return 2;
    }
    long iterations = atol(argv[1]);
    rng_state = (uint64_t)atoll(argv[2]) * 0x9E3779B97F4A7C15ULL + 1;
    for (int i = 3; i < argc; i++) corpus_load(argv[i]);
    if (!ncorpus) {
        fprintf(stderr, "json_fuzz: empty corpus\n");
        return 2;
    }
    fuzz_setup();
    clock_t t0 = clock();
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    char *buf = malloc(FUZZ_MAX_INPUT);
    if (!buf) abort();
    for (size_t i = 0; i < ncorpus; i++) fuzz_one(corpus[i].data, corpus[i].len);
    for (long it = 0; it < iterations; it++) {
        fuzz_input *in = &corpus[rng_below(ncorpus)];
        memcpy(buf, in->data, in->len);
        size_t len = fuzz_mutate(buf, in->len);
        /* An exact-size heap copy lets ASan catch a read one byte too far
         * (the decoder relies on the NUL after a Lua string, not on this). */
        char *exact = malloc(len ? len : 1);
        if (!exact) abort();
        memcpy(exact, buf, len);
        fuzz_one(exact, len);
        free(exact);
        if ((it & 1023) == 0) lua_gc(fuzz_L, LUA_GCCOLLECT, 0);
    }
    free(buf);
    lua_close(fuzz_L);
    for (size_t i = 0; i < ncorpus; i++) free(corpus[i].data);
    free(corpus);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    printf("json_fuzz: %zu corpus entries, %ld mutated inputs (%ld decoded, the rest rejected), seed %s, "
           "%.1f s CPU, %.1f s wall, no findings\n", ncorpus, iterations, fuzz_accepted, argv[2],
           (double)(clock() - t0) / CLOCKS_PER_SEC,
           (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9);
    return 0;
}

#endif
