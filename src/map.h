/* map.h: the field mapper's Lua-free half: compiled programs (target field <- source
 * path, converter, flags), the need trees and plans of mapper:decode, and the exact
 * converter arithmetic (money on decimal text, scaled decimals, 64-bit integers;
 * datetime text and offsets are clock.h's). bind_map_compile.c builds these from Lua
 * spec tables and bind_map_run.c / bind_map_decode.c run them; nothing here knows of
 * Lua. Errors go to a caller's buffer of MALLAPI_ERRLEN bytes; functions return 0 on
 * success, -1 on failure. */
#ifndef MALLAPI_MAP_H
#define MALLAPI_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Internal to core.so: direct calls, no PLT (the runner calls these per value). */
#pragma GCC visibility push(hidden)

/* One step of a source or target path: an object key, or a 1-based array index. */
typedef struct {
    char *key;          /* NUL-terminated key, NULL when this step is an index */
    size_t key_len;
    long index;         /* 1-based array index when key is NULL */
    int slot;           /* the key as a Lua string in the mapper's value table */
} mallapi_map_step;

typedef struct {
    char *text;                 /* the path as written ("items[2].price") */
    mallapi_map_step *steps;
    int nsteps;
} mallapi_map_path;

/* Converters, applied to the source value before an enum table. */
typedef enum {
    MALLAPI_CONV_NONE = 0,
    MALLAPI_CONV_STRING,        /* any scalar -> exact text (integers without ".0") */
    MALLAPI_CONV_ID_STRING,     /* integer number, raw number or digit string -> digit string */
    MALLAPI_CONV_ID_NUMBER,     /* digit string or number -> integer (text when not exact) */
    MALLAPI_CONV_INT,           /* number or integer text -> integer */
    MALLAPI_CONV_NUMBER,        /* number or decimal text -> number */
    MALLAPI_CONV_BOOL,          /* true/false, 0/1, "0"/"1", "true"/"false" -> boolean */
    MALLAPI_CONV_BOOL_INT,      /* boolean-like -> 0/1 */
    MALLAPI_CONV_MONEY_TO_MINOR,    /* decimal currency units -> integer minor units */
    MALLAPI_CONV_MINOR_TO_MONEY,    /* integer minor units -> number in currency units */
    MALLAPI_CONV_MINOR_TO_MONEY_STRING, /* integer minor units -> "16.05" */
    MALLAPI_CONV_MS,            /* ms number or ms text -> integer ms */
    MALLAPI_CONV_S_TO_MS,       /* seconds (number or text) -> integer ms */
    MALLAPI_CONV_MS_TO_S,       /* ms -> integer seconds (floor) */
    MALLAPI_CONV_MS_STRING,     /* ms -> ms text */
    MALLAPI_CONV_AUTO_MS,       /* s or ms by magnitude (< 1e11 is seconds) -> ms */
    MALLAPI_CONV_DATETIME_TO_MS,    /* "yyyy-MM-dd HH:mm:ss" at offset -> ms */
    MALLAPI_CONV_MS_TO_DATETIME,    /* ms -> "yyyy-MM-dd HH:mm:ss" at offset */
    MALLAPI_CONV_TRIM,          /* text without leading and trailing blanks */
    MALLAPI_CONV__COUNT
} mallapi_conv_kind;

typedef enum {
    MALLAPI_SRC_PATH = 0,       /* first present of paths[] */
    MALLAPI_SRC_CONST,          /* the constant in the mapper's value table */
    MALLAPI_SRC_JOIN,           /* present paths[] joined with sep */
    MALLAPI_SRC_SELF            /* the current source object itself (fields without a path) */
} mallapi_src_kind;

struct mallapi_map_program;

typedef struct {
    char *name;                 /* target name as written ("receiver.phone") */
    mallapi_map_path target;    /* target path (keys only) */
    mallapi_src_kind src;
    mallapi_map_path *paths;    /* source paths (alternatives, or join parts) */
    int npaths;
    char *sep;                  /* join / split separator, NULL when none */
    int split;                  /* split the source text on sep into an array */
    mallapi_conv_kind conv;
    int scale;                  /* money decimals */
    int offset_min;             /* datetime UTC offset in minutes */
    int required;
    int skip_empty;             /* treat "" as missing */
    /* Slots in the mapper's value table (0 = none), owned by the binding. */
    int const_slot, default_slot, enum_slot, enum_default_slot, fn_slot;
    int each;                   /* map every element of the source array */
    int as_list;                /* wrap the nested object in a one-element array */
    int simple;                 /* one key in, one key out, value as is (fast path) */
    mallapi_map_path *uses;     /* what an fn reads of its source object (mapper:decode) */
    int nuses;
    struct mallapi_map_program *sub;  /* fields of the nested object / each element */
} mallapi_map_field;

typedef struct mallapi_map_program {
    mallapi_map_field *fields;
    int nfields;
} mallapi_map_program;

/* What of a source document a program reads, for decoding only those parts of the
 * JSON text (mapper:decode): needed object members by key, what every array element
 * needs, or `whole` (build everything below). */
typedef struct mallapi_map_need {
    int whole;
    int nkeys, cap;
    struct mallapi_map_member *members;
    struct mallapi_map_need *elems;
} mallapi_map_need;

typedef struct mallapi_map_member {
    char *key;
    size_t len;
    int slot;                   /* the key's slot in the mapper's value table, 0 if none */
    mallapi_map_need *need;
} mallapi_map_member;

/* Needs of p when its source object is at `at` (NULL: the document itself; else the
 * array of records at that path). NULL when out of memory. */
mallapi_map_need *mallapi_map_need_build(const mallapi_map_program *p, const mallapi_map_path *at);
void mallapi_map_need_free(mallapi_map_need *n);

static inline const mallapi_map_member *mallapi_map_need_member(const mallapi_map_need *n,
                                                                const char *key, size_t len) {
    for (int i = 0; i < n->nkeys; i++)
        if (n->members[i].len == len && memcmp(n->members[i].key, key, len) == 0) return &n->members[i];
    return NULL;
}

/* How mapper:decode streams one object level of a program from JSON text: which
 * members feed which fields directly (SCALAR: the value itself; EACH / OBJECT: an
 * array or object mapped straight into the target), and what the remaining (PARTIAL)
 * fields read, built as a small source table and run by the ordinary runner. */
enum { MALLAPI_PLAN_PARTIAL = 0, MALLAPI_PLAN_SCALAR, MALLAPI_PLAN_EACH, MALLAPI_PLAN_OBJECT };

typedef struct { int field, alt; } mallapi_plan_use;

typedef struct {
    char *key;
    size_t len;
    int slot;                           /* interned key in the value table, 0 if none */
    mallapi_plan_use *uses;             /* SCALAR fields fed by this member (alt: path rank) */
    int nuses;
    int structured;                     /* the EACH / OBJECT field fed by it, -1 if none */
    const mallapi_map_need *partial;    /* what PARTIAL fields need of it, NULL if nothing */
} mallapi_plan_key;

typedef struct mallapi_map_plan {
    const mallapi_map_program *prog;    /* not owned: free the plan first */
    int nfields;
    int *kind;                          /* per field */
    struct mallapi_map_plan **subs;     /* per field: plan of an EACH / OBJECT field's sub */
    mallapi_plan_key *keys;
    int nkeys;
    mallapi_map_need *partial;          /* needs of the PARTIAL fields (root), NULL if none */
    int npartial;                       /* PARTIAL fields (a source table is built when > 0) */
} mallapi_map_plan;

mallapi_map_plan *mallapi_map_plan_build(const mallapi_map_program *p);
void mallapi_map_plan_free(mallapi_map_plan *pl);

/* Programs: allocate with n zeroed fields; free recursively (NULL is fine). */
mallapi_map_program *mallapi_map_program_new(int nfields);
void mallapi_map_program_free(mallapi_map_program *p);

/* Parse "a.b[2].c" into steps. target=1 forbids indexes. */
int mallapi_map_path_parse(mallapi_map_path *out, const char *text, int target, char *err);

/* Converter names ("money_to_minor") -> kind; -1 when unknown. */
int mallapi_map_conv_lookup(const char *name);
const char *mallapi_map_conv_name(int kind);

/* ---- converter arithmetic (the runner in bind_map_run.c only moves Lua values) */

/* Decimal text ("-16.05", "1.605e1", "7") -> integer at 10^scale (scale 0..9), the
 * error naming the converter `what`. Digits beyond scale must be zeros: no rounding
 * ever happens ("'16.055' has more than 2 decimals", "'1.5' is not an integer"). */
int mallapi_map_decimal(const char *text, size_t len, int scale, int64_t *out, const char *what, char *err);
/* The same from an integer (range checked) or a double (exact: through its shortest
 * decimal text when the fast path cannot prove it). */
int mallapi_map_scaled_int(int64_t v, int scale, int64_t *out, const char *what, char *err);
int mallapi_map_scaled_double(double d, int scale, int64_t *out, const char *what, char *err);
int64_t mallapi_map_pow10(int scale);              /* 10^scale, scale 0..9 */
/* Minor units -> "-16.05" (always scale decimals); buf of at least 32 bytes. */
size_t mallapi_minor_to_money(int64_t minor, int scale, char *buf);
/* Decimal text of v, NUL-terminated; buf of at least 24 bytes. */
size_t mallapi_map_int_text(int64_t v, char *buf);
int64_t mallapi_map_auto_ms(int64_t v);            /* |v| < 1e11 is seconds: * 1000 */
/* "1"/"true"/"TRUE"/"True" -> 1, "0"/"false"/"FALSE"/"False" -> 0; -1 otherwise. */
int mallapi_map_bool_text(const char *s, int *out);
/* The whole text is one number (strtod); -1 otherwise. */
int mallapi_map_number_text(const char *s, size_t len, double *out);
/* s without leading and trailing blanks (space, tab, CR, LF); *len updated. */
const char *mallapi_map_trim(const char *s, size_t *len);

/* Offsets and datetime text are clock.c's (clock.h): one home for time. */

#pragma GCC visibility pop

#endif
