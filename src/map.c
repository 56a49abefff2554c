/* map.c: the field mapper's Lua-free half: path parsing, program storage and the
 * exact converter arithmetic (scaled decimals, money and minor units, int64 text,
 * second/ms rules, booleans, trimming). Money is converted on decimal text (16.05 -> 1605, never by
 * multiplying doubles); times use proleptic Gregorian day arithmetic at a fixed UTC
 * offset; integers are int64 throughout. Errors are written to a caller's buffer. */
#include "map.h"
#include "mallapi.h"
#include "clock.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#define MAP_ERR(...) (snprintf(err, MALLAPI_ERRLEN, __VA_ARGS__), -1)

/* ------------------------------------------------------------------ programs */

mallapi_map_program *mallapi_map_program_new(int nfields) {
    mallapi_map_program *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    if (nfields > 0) {
        p->fields = calloc((size_t)nfields, sizeof *p->fields);
        if (!p->fields) { free(p); return NULL; }
    }
    p->nfields = nfields;
    return p;
}

static void map_path_free(mallapi_map_path *path) {
    for (int i = 0; i < path->nsteps; i++) free(path->steps[i].key);
    free(path->steps);
    free(path->text);
    path->steps = NULL; path->text = NULL; path->nsteps = 0;
}

void mallapi_map_program_free(mallapi_map_program *p) {
    if (!p) return;
    for (int i = 0; i < p->nfields; i++) {
        mallapi_map_field *f = &p->fields[i];
        free(f->name);
        map_path_free(&f->target);
        for (int j = 0; j < f->npaths; j++) map_path_free(&f->paths[j]);
        free(f->paths);
        for (int j = 0; j < f->nuses; j++) map_path_free(&f->uses[j]);
        free(f->uses);
        free(f->sep);
        mallapi_map_program_free(f->sub);
    }
    free(p->fields);
    free(p);
}

/* "a.b[2].c": keys separated by dots, [n] (n >= 1) after a key or at the start. */
int mallapi_map_path_parse(mallapi_map_path *out, const char *text, int target, char *err) {
    size_t len = strlen(text);
    memset(out, 0, sizeof *out);
    if (len == 0) return MAP_ERR("empty path");
    out->text = malloc(len + 1);
    out->steps = calloc(len + 1, sizeof *out->steps);   /* never more steps than chars */
    if (!out->text || !out->steps) { map_path_free(out); return MAP_ERR("out of memory"); }
    memcpy(out->text, text, len + 1);
    const char *s = text, *end = text + len;
    while (s < end) {
        if (*s == '[') {
            if (target) { map_path_free(out); return MAP_ERR("path '%s': no [index] in a target", text); }
            const char *d = ++s;
            long n = 0;
            while (s < end && *s >= '0' && *s <= '9' && n < 100000000) n = n * 10 + (*s++ - '0');
            if (s == d || s >= end || *s != ']' || n < 1) {
                map_path_free(out);
                return MAP_ERR("path '%s': bad index (want [1], [2], ...)", text);
            }
            s++;
            out->steps[out->nsteps].index = n;
            out->nsteps++;
            if (s < end) {
                if (*s == '.') s++;
                else if (*s != '[') { map_path_free(out); return MAP_ERR("path '%s': '.' or '[' expected after ']'", text); }
                if (s == end) { map_path_free(out); return MAP_ERR("path '%s': ends with '.'", text); }
            }
            continue;
        }
        const char *k = s;
        while (s < end && *s != '.' && *s != '[') s++;
        if (s == k) { map_path_free(out); return MAP_ERR("path '%s': empty key", text); }
        mallapi_map_step *st = &out->steps[out->nsteps++];
        st->key_len = (size_t)(s - k);
        st->key = malloc(st->key_len + 1);
        if (!st->key) { map_path_free(out); return MAP_ERR("out of memory"); }
        memcpy(st->key, k, st->key_len);
        st->key[st->key_len] = '\0';
        if (s < end && *s == '.') {
            s++;
            if (s == end) { map_path_free(out); return MAP_ERR("path '%s': ends with '.'", text); }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ needs */

void mallapi_map_need_free(mallapi_map_need *n) {
    if (!n) return;
    for (int i = 0; i < n->nkeys; i++) {
        free(n->members[i].key);
        mallapi_map_need_free(n->members[i].need);
    }
    free(n->members);
    mallapi_map_need_free(n->elems);
    free(n);
}

static mallapi_map_need *need_member(mallapi_map_need *n, const char *key, size_t len, int slot) {
    for (int i = 0; i < n->nkeys; i++)
        if (n->members[i].len == len && memcmp(n->members[i].key, key, len) == 0) {
            if (!n->members[i].slot) n->members[i].slot = slot;
            return n->members[i].need;
        }
    if (n->nkeys == n->cap) {
        int cap = n->cap ? n->cap * 2 : 8;
        mallapi_map_member *m = realloc(n->members, (size_t)cap * sizeof *m);
        if (!m) return NULL;
        n->members = m;
        n->cap = cap;
    }
    mallapi_map_member *m = &n->members[n->nkeys];
    m->key = malloc(len + 1);
    m->need = calloc(1, sizeof *m->need);
    if (!m->key || !m->need) { free(m->key); free(m->need); return NULL; }
    memcpy(m->key, key, len);
    m->key[len] = '\0';
    m->len = len;
    m->slot = slot;
    n->nkeys++;
    return m->need;
}

static mallapi_map_need *need_elems(mallapi_map_need *n) {
    if (!n->elems) n->elems = calloc(1, sizeof *n->elems);
    return n->elems;
}

/* The node at the end of path below n, created as needed. */
static mallapi_map_need *need_walk(mallapi_map_need *n, const mallapi_map_path *path) {
    for (int i = 0; n && i < path->nsteps; i++) {
        const mallapi_map_step *st = &path->steps[i];
        n = st->key ? need_member(n, st->key, st->key_len, st->slot) : need_elems(n);
    }
    return n;
}

static int need_program(mallapi_map_need *n, const mallapi_map_program *p);

/* An fn's source object: what `uses` names, else all of it. */
static int need_fn_source(mallapi_map_need *n, const mallapi_map_field *f) {
    if (!f->nuses) { n->whole = 1; return 0; }
    for (int i = 0; i < f->nuses; i++) {
        mallapi_map_need *u = need_walk(n, &f->uses[i]);
        if (!u) return -1;
        u->whole = 1;
    }
    return 0;
}

static int need_field(mallapi_map_need *n, const mallapi_map_field *f) {
    if (f->src == MALLAPI_SRC_CONST) return 0;
    if (f->src == MALLAPI_SRC_SELF) {
        if (f->sub && need_program(n, f->sub)) return -1;
        if (f->fn_slot && need_fn_source(n, f)) return -1;
        return 0;
    }
    for (int j = 0; j < f->npaths; j++) {
        mallapi_map_need *node = need_walk(n, &f->paths[j]);
        if (!node) return -1;
        if (f->each) {
            mallapi_map_need *el = need_elems(node);
            if (!el) return -1;
            if (f->sub) { if (need_program(el, f->sub)) return -1; }
            else el->whole = 1;
        } else if (f->sub) {
            if (need_program(node, f->sub)) return -1;
        } else {
            node->whole = 1;
        }
    }
    if (f->fn_slot && need_fn_source(n, f)) return -1;
    return 0;
}

static int need_program(mallapi_map_need *n, const mallapi_map_program *p) {
    for (int i = 0; i < p->nfields; i++)
        if (need_field(n, &p->fields[i])) return -1;
    return 0;
}

mallapi_map_need *mallapi_map_need_build(const mallapi_map_program *p, const mallapi_map_path *at) {
    mallapi_map_need *root = calloc(1, sizeof *root);
    if (!root) return NULL;
    mallapi_map_need *n = root;
    if (at) {
        n = need_walk(root, at);
        n = n ? need_elems(n) : NULL;
    }
    if (!n || need_program(n, p)) { mallapi_map_need_free(root); return NULL; }
    return root;
}

/* ------------------------------------------------------------------ streaming plans */

void mallapi_map_plan_free(mallapi_map_plan *pl) {
    if (!pl) return;
    for (int i = 0; i < pl->nkeys; i++) { free(pl->keys[i].key); free(pl->keys[i].uses); }
    free(pl->keys);
    if (pl->subs)
        for (int i = 0; i < pl->nfields; i++) mallapi_map_plan_free(pl->subs[i]);
    free(pl->subs);
    free(pl->kind);
    mallapi_map_need_free(pl->partial);
    free(pl);
}

static int plan_one_key(const mallapi_map_path *path) {
    return path->nsteps == 1 && path->steps[0].key != NULL;
}

static int plan_kind(const mallapi_map_field *f) {
    if (f->src != MALLAPI_SRC_PATH || f->fn_slot || f->split) return MALLAPI_PLAN_PARTIAL;
    for (int j = 0; j < f->npaths; j++) if (!plan_one_key(&f->paths[j])) return MALLAPI_PLAN_PARTIAL;
    if (f->each) return f->npaths == 1 ? MALLAPI_PLAN_EACH : MALLAPI_PLAN_PARTIAL;
    if (f->sub) return f->npaths == 1 ? MALLAPI_PLAN_OBJECT : MALLAPI_PLAN_PARTIAL;
    return MALLAPI_PLAN_SCALAR;
}

static mallapi_plan_key *plan_key(mallapi_map_plan *pl, const char *key, size_t len, int slot, int *cap) {
    for (int i = 0; i < pl->nkeys; i++)
        if (pl->keys[i].len == len && memcmp(pl->keys[i].key, key, len) == 0) {
            if (!pl->keys[i].slot) pl->keys[i].slot = slot;
            return &pl->keys[i];
        }
    if (pl->nkeys == *cap) {
        int ncap = *cap ? *cap * 2 : 8;
        mallapi_plan_key *k = realloc(pl->keys, (size_t)ncap * sizeof *k);
        if (!k) return NULL;
        pl->keys = k;
        *cap = ncap;
    }
    mallapi_plan_key *k = &pl->keys[pl->nkeys];
    memset(k, 0, sizeof *k);
    k->key = malloc(len + 1);
    if (!k->key) return NULL;
    memcpy(k->key, key, len);
    k->key[len] = '\0';
    k->len = len;
    k->slot = slot;
    k->structured = -1;
    pl->nkeys++;
    return k;
}

/* Kinds, then the keys; a structured field sharing its member with anything else, or
 * living next to an fn that reads the whole object, is demoted to PARTIAL. */
mallapi_map_plan *mallapi_map_plan_build(const mallapi_map_program *p) {
    mallapi_map_plan *pl = calloc(1, sizeof *pl);
    if (!pl) return NULL;
    pl->prog = p;
    int n = p->nfields;
    pl->nfields = n;
    pl->kind = calloc((size_t)n + 1, sizeof *pl->kind);
    pl->subs = calloc((size_t)n + 1, sizeof *pl->subs);
    if (!pl->kind || !pl->subs) goto oom;
    for (int i = 0; i < n; i++) pl->kind[i] = plan_kind(&p->fields[i]);
    for (int round = 0; round <= n; round++) {
        /* the needs of the PARTIAL fields, from scratch */
        mallapi_map_need_free(pl->partial);
        pl->partial = calloc(1, sizeof *pl->partial);
        if (!pl->partial) goto oom;
        pl->npartial = 0;
        for (int i = 0; i < n; i++)
            if (pl->kind[i] == MALLAPI_PLAN_PARTIAL) {
                pl->npartial++;
                if (need_field(pl->partial, &p->fields[i])) goto oom;
            }
        int changed = 0;
        for (int i = 0; i < n; i++) {
            int k = pl->kind[i];
            if (k != MALLAPI_PLAN_EACH && k != MALLAPI_PLAN_OBJECT) continue;
            const mallapi_map_step *st = &p->fields[i].paths[0].steps[0];
            int clash = pl->partial->whole || mallapi_map_need_member(pl->partial, st->key, st->key_len);
            for (int j = 0; j < n && !clash; j++) {
                if (j == i || (pl->kind[j] != MALLAPI_PLAN_SCALAR && pl->kind[j] != MALLAPI_PLAN_EACH &&
                               pl->kind[j] != MALLAPI_PLAN_OBJECT)) continue;
                const mallapi_map_field *g = &p->fields[j];
                for (int a = 0; a < g->npaths; a++)
                    if (g->paths[a].steps[0].key_len == st->key_len &&
                        memcmp(g->paths[a].steps[0].key, st->key, st->key_len) == 0) clash = 1;
            }
            if (clash) { pl->kind[i] = MALLAPI_PLAN_PARTIAL; changed = 1; }
        }
        if (!changed) break;
    }
    int cap = 0;
    for (int i = 0; i < n; i++) {
        const mallapi_map_field *f = &p->fields[i];
        if (pl->kind[i] == MALLAPI_PLAN_PARTIAL) continue;
        for (int a = 0; a < f->npaths; a++) {
            const mallapi_map_step *st = &f->paths[a].steps[0];
            mallapi_plan_key *k = plan_key(pl, st->key, st->key_len, st->slot, &cap);
            if (!k) goto oom;
            if (pl->kind[i] == MALLAPI_PLAN_SCALAR) {
                mallapi_plan_use *u = realloc(k->uses, (size_t)(k->nuses + 1) * sizeof *u);
                if (!u) goto oom;
                k->uses = u;
                k->uses[k->nuses].field = i;
                k->uses[k->nuses].alt = a;
                k->nuses++;
            } else {
                k->structured = i;
            }
        }
        if ((pl->kind[i] == MALLAPI_PLAN_EACH || pl->kind[i] == MALLAPI_PLAN_OBJECT) && f->sub) {
            pl->subs[i] = mallapi_map_plan_build(f->sub);
            if (!pl->subs[i]) goto oom;
        }
    }
    for (int m = 0; m < pl->partial->nkeys; m++) {
        const mallapi_map_member *mem = &pl->partial->members[m];
        mallapi_plan_key *k = plan_key(pl, mem->key, mem->len, mem->slot, &cap);
        if (!k) goto oom;
        k->partial = mem->need;
    }
    return pl;
oom:
    mallapi_map_plan_free(pl);
    return NULL;
}

/* ------------------------------------------------------------------ converter names */

static const char *const conv_names[MALLAPI_CONV__COUNT] = {
    "none", "string", "id_string", "id_number", "int", "number", "bool", "bool_int",
    "money_to_minor", "minor_to_money", "minor_to_money_string", "ms", "s_to_ms",
    "ms_to_s", "ms_string", "auto_ms", "datetime_to_ms", "ms_to_datetime", "trim",
};

int mallapi_map_conv_lookup(const char *name) {
    for (int i = 1; i < MALLAPI_CONV__COUNT; i++)
        if (strcmp(conv_names[i], name) == 0) return i;
    return -1;
}

const char *mallapi_map_conv_name(int kind) {
    return (kind >= 0 && kind < MALLAPI_CONV__COUNT) ? conv_names[kind] : "?";
}

/* ------------------------------------------------------------------ decimal text */

/* Show at most 40 bytes of a value in an error message. */
static int shown(size_t len) { return len > 40 ? 40 : (int)len; }

/* Decimal text -> value * 10^scale exactly. Accepts sign, digits, one '.', an
 * exponent; refuses digits that would be dropped unless they are zeros. */
static int decimal_scaled(const char *text, size_t len, int scale, int64_t *out,
                          const char *what, char *err) {
    const char *s = text, *end = text + len;
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t')) end--;
    int neg = 0;
    if (s < end && (*s == '-' || *s == '+')) { neg = (*s == '-'); s++; }
    /* Collect the digits (without the point) and where the point was. */
    char digits[64];
    int nd = 0, point = -1, any = 0;
    long exp10 = 0;
    for (; s < end; s++) {
        if (*s >= '0' && *s <= '9') {
            any = 1;
            if (nd == 0 && *s == '0' && point < 0) continue;     /* leading zeros */
            if (nd >= (int)sizeof digits) return MAP_ERR("%s: '%.*s' has too many digits", what, shown(len), text);
            digits[nd++] = *s;
        } else if (*s == '.' && point < 0) {
            point = nd;
        } else if ((*s == 'e' || *s == 'E') && any) {
            s++;
            int eneg = 0;
            if (s < end && (*s == '-' || *s == '+')) { eneg = (*s == '-'); s++; }
            if (s >= end) return MAP_ERR("%s: '%.*s' is not a decimal number", what, shown(len), text);
            for (; s < end; s++) {
                if (*s < '0' || *s > '9' || exp10 > 10000) return MAP_ERR("%s: '%.*s' is not a decimal number", what, shown(len), text);
                exp10 = exp10 * 10 + (*s - '0');
            }
            if (eneg) exp10 = -exp10;
            break;
        } else {
            return MAP_ERR("%s: '%.*s' is not a decimal number", what, shown(len), text);
        }
    }
    if (!any) return MAP_ERR("%s: '%.*s' is not a decimal number", what, shown(len), text);
    if (point < 0) point = nd;
    /* value = 0.digits * 10^(point + exp10); we want integer part of digits shifted. */
    long int_digits = point + exp10 + scale;  /* how many of digits[] form the integer */
    uint64_t acc = 0;
    for (long i = 0; i < nd; i++) {
        if (i < int_digits) {
            if (acc > (UINT64_MAX - 9) / 10) return MAP_ERR("%s: '%.*s' is out of range", what, shown(len), text);
            acc = acc * 10 + (uint64_t)(digits[i] - '0');
        } else if (digits[i] != '0') {
            if (scale > 0)
                return MAP_ERR("%s: '%.*s' has more than %d decimals", what, shown(len), text, scale);
            return MAP_ERR("%s: '%.*s' is not an integer", what, shown(len), text);
        }
    }
    for (long i = nd; i < int_digits; i++) {
        if (acc == 0) { if (i - nd > 40) break; continue; }
        if (acc > (UINT64_MAX - 9) / 10) return MAP_ERR("%s: '%.*s' is out of range", what, shown(len), text);
        acc *= 10;
    }
    if (neg ? acc > (uint64_t)INT64_MAX + 1 : acc > (uint64_t)INT64_MAX)
        return MAP_ERR("%s: '%.*s' is out of range", what, shown(len), text);
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}

int mallapi_map_decimal(const char *text, size_t len, int scale, int64_t *out, const char *what, char *err) {
    return decimal_scaled(text, len, scale, out, what, err);
}

/* ------------------------------------------------------------------ converter arithmetic */

static const int64_t map_pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000 };

int64_t mallapi_map_pow10(int scale) { return map_pow10[scale]; }

int mallapi_map_scaled_int(int64_t v, int scale, int64_t *out, const char *what, char *err) {
    if (v > INT64_MAX / map_pow10[scale] || v < INT64_MIN / map_pow10[scale])
        return MAP_ERR("%s: value out of range", what);
    *out = v * map_pow10[scale];
    return 0;
}

int mallapi_map_scaled_double(double d, int scale, int64_t *out, const char *what, char *err) {
    if (!isfinite(d)) return MAP_ERR("%s: not a finite number", what);
    /* Fast exact path: n/10^scale is the nearest double to the decimal n/10^scale, so
     * when it equals d, d's shortest decimal text has at most scale decimals. */
    double scaled = d * (double)map_pow10[scale];
    if (fabs(scaled) < 4503599627370496.0) {
        double n = nearbyint(scaled);
        if (n / (double)map_pow10[scale] == d) { *out = (int64_t)n; return 0; }
    }
    char buf[32];
    size_t n = mallapi_json_fmt_double(d, buf, 0);
    return decimal_scaled(buf, n, scale, out, what, err);
}

size_t mallapi_map_int_text(int64_t v, char *buf) {
    char tmp[24];
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    int n = 0;
    do { tmp[n++] = (char)('0' + mag % 10); mag /= 10; } while (mag);
    size_t o = 0;
    if (v < 0) buf[o++] = '-';
    while (n) buf[o++] = tmp[--n];
    buf[o] = '\0';
    return o;
}

int64_t mallapi_map_auto_ms(int64_t v) {
    return (v > -100000000000LL && v < 100000000000LL) ? v * 1000 : v;
}

int mallapi_map_bool_text(const char *s, int *out) {
    if (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "TRUE") || !strcmp(s, "True")) { *out = 1; return 0; }
    if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "FALSE") || !strcmp(s, "False")) { *out = 0; return 0; }
    return -1;
}

int mallapi_map_number_text(const char *s, size_t len, double *out) {
    char *end = NULL;
    if (len == 0) return -1;
    *out = strtod(s, &end);
    return end == s + len ? 0 : -1;
}

const char *mallapi_map_trim(const char *s, size_t *len) {
    const char *e = s + *len;
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) e--;
    *len = (size_t)(e - s);
    return s;
}

size_t mallapi_minor_to_money(int64_t minor, int scale, char *buf) {
    char tmp[32];
    uint64_t mag = minor < 0 ? 0 - (uint64_t)minor : (uint64_t)minor;
    int n = 0;
    do { tmp[n++] = (char)('0' + mag % 10); mag /= 10; } while (mag);
    while (n <= scale) tmp[n++] = '0';                /* at least one integer digit */
    size_t o = 0;
    if (minor < 0) buf[o++] = '-';
    for (int i = n - 1; i >= 0; i--) {
        buf[o++] = tmp[i];
        if (i == scale && scale > 0) buf[o++] = '.';
    }
    buf[o] = '\0';
    return o;
}
