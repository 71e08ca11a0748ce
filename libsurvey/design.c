/* The sampling design as rows reveal it (see design_private.h). */
#include "svy_private.h"
#include "design_private.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

svy_status svy_dsn_init(svy_dsn *d, const svy_design *spec, svy_err *err)
{
    memset(d, 0, sizeof *d);
    size_t nids = spec->npsu, stages = nids ? nids : 1;
    SVY_FAIL_IF(nids > SVY_STAGES_MAX, err, SVY_E_USAGE, "--psu names %zu stages; at most %d are supported", nids,
                SVY_STAGES_MAX);
    SVY_FAIL_IF(spec->nstrata > stages, err, SVY_E_USAGE,
                "--strata names %zu columns for %zu stage%s: at most one per --psu column", spec->nstrata, stages,
                stages == 1 ? "" : "s");
    SVY_FAIL_IF(spec->nfpc && spec->nfpc != stages, err, SVY_E_USAGE,
                "--fpc names %zu column%s for %zu stage%s: give one per stage (R's svydesign fails on this too)",
                spec->nfpc, spec->nfpc == 1 ? "" : "s", stages, stages == 1 ? "" : "s");
    d->nids = nids;
    d->ids_all = spec->psu;
    d->nstrata_cols = spec->nstrata;
    d->has_fpc = spec->nfpc > 0;
    d->nstage = d->has_fpc ? stages : 1;
    d->ultimate = spec->ultimate_cluster != 0;
    d->multistage = d->has_fpc && nids >= 2 && !d->ultimate;
    d->nvar = d->multistage ? d->nstage : 1;
    d->derive_w = !spec->weight && d->has_fpc;
    d->weight_name = spec->weight;
    d->weight_col = -1;
    d->rows_last = nids == 0 || d->nstage >= 2;
    d->pass = 1;
    d->estimating = !d->derive_w;
    d->fpc_min = INFINITY;
    d->fpc_max = -INFINITY;
    d->wmin = INFINITY;
    d->wmax = 0;
    d->wscale = 1;
    for (size_t i = 0; i < d->nstage; i++) {
        svy_dstage *S = &d->st[i];
        S->id_col = S->strata_col = S->fpc_col = -1;
        S->id_name = nids ? spec->psu[i] : NULL;
        S->own_strata = i == 0 ? spec->nstrata >= 1 : spec->nstrata >= i + 1;
        if (S->own_strata)
            S->strata_name = spec->strata[i];
        S->fpc_name = d->has_fpc ? spec->fpc[i] : NULL;
        S->scache = svy_calloc((size_t)1 << SVY_DCACHE_BITS, sizeof *S->scache);
        S->ucache = svy_calloc((size_t)1 << SVY_DCACHE_BITS, sizeof *S->ucache);
        if (!S->scache || !S->ucache)
            return nomem(err);
    }
    return SVY_OK;
}

void svy_dsn_idset_free(svy_idset *s)
{
    free(s->own);
    free(s->seen);
    free(s->slots);
    svy_strtab_free(&s->other);
    memset(s, 0, sizeof *s);
}

void svy_dsn_free(svy_dsn *d)
{
    for (size_t i = 0; i < SVY_STAGES_MAX; i++) {
        svy_dstage *S = &d->st[i];
        svy_strtab_free(&S->labels);
        svy_strtab_free(&S->ukeys);
        free(S->strata);
        free(S->hot);
        free(S->sdir.e);
        free(S->udir.e);
        free(S->units);
        free(S->nzbits);
        svy_dsn_idset_free(&S->ids);
        free(S->scache);
        free(S->ucache);
    }
    free(d->keybuf);
    memset(d, 0, sizeof *d);
}

static svy_status find(const svy_schema *s, const char *name, const char *role, long *idx, int *numeric,
                       svy_err *err)
{
    if (!name)
        return SVY_OK;
    *idx = svy_schema_find(s, name);
    if (*idx < 0)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, name, "no column '%s' (%s) in the input", name, role);
    if (numeric)
        *numeric = svy_var_type_of(svy_schema_var(s, (size_t)*idx)) != SVY_VAR_STRING;
    return SVY_OK;
}

svy_status svy_dsn_bind(svy_dsn *d, const svy_schema *schema, svy_err *err)
{
    d->schema = schema;
    svy_status st = find(schema, d->weight_name, "weight", &d->weight_col, NULL, err);
    /* Later stages without an fpc do not enter R's variance, but a column
     * that is not there is still an error, not a stage silently dropped. */
    for (size_t i = d->nstage; st == SVY_OK && i < d->nids; i++) {
        long idx;
        st = find(schema, d->ids_all[i], "stage id", &idx, NULL, err);
    }
    for (size_t i = 0; st == SVY_OK && i < d->nstage; i++) {
        svy_dstage *S = &d->st[i];
        if ((st = find(schema, S->id_name, i == 0 ? "PSU" : "stage id", &S->id_col, &S->id_numeric, err)) ||
            (st = find(schema, S->strata_name, "strata", &S->strata_col, &S->strata_numeric, err)) ||
            (st = find(schema, S->fpc_name, "fpc", &S->fpc_col, NULL, err)))
            break;
    }
    return st;
}

size_t svy_dsn_columns(const svy_dsn *d, const char **names, size_t cap, size_t n)
{
#define PUT(s_)                                                                                            \
    do {                                                                                                   \
        const char *s = (s_);                                                                              \
        int dup = !s;                                                                                      \
        for (size_t j = 0; !dup && j < n && j < cap; j++)                                                  \
            dup = strcmp(names[j], s) == 0;                                                                \
        if (!dup) {                                                                                        \
            if (n < cap)                                                                                   \
                names[n] = s;                                                                              \
            n++;                                                                                           \
        }                                                                                                  \
    } while (0)
    for (size_t i = 0; i < d->nstage; i++) {
        PUT(d->st[i].strata_name);
        PUT(d->st[i].id_name);
    }
    PUT(d->weight_name);
    for (size_t i = 0; i < d->nstage; i++)
        PUT(d->st[i].fpc_name);
    /* Read only so that bind can tell a stage column that is not there
     * (a later stage without an fpc is not in the variance). */
    for (size_t i = d->nstage; i < d->nids; i++)
        PUT(d->ids_all[i]);
#undef PUT
    return n;
}

/* ------------------------------------------------------------- per row */

const char *svy_dsn_key(const svy_value *v, int numeric, char *buf, size_t *len)
{
    double x;
    if (v->type == SVY_VAL_NUM)
        x = v->num;
    else if (!numeric || !(svy_number_fast(v->str, v->len, &x) || svy_parse_number(v->str, v->len, &x)) ||
             !isfinite(x)) {
        *len = v->len;
        return v->str;
    }
    if (x == 0)
        x = 0; /* -0 and 0 are one code */
    *len = svy_dtoa(x, buf);
    return buf;
}

svy_status svy_fail_row(const svy_schema *schema, const svy_row *row, long col, svy_err *err, const char *fmt, ...)
{
    const char *name = col >= 0 ? svy_var_name(svy_schema_var(schema, (size_t)col)) : NULL;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return svy_err_set(err, SVY_E_DATA, NULL, row->index, col >= 0 ? col + 1 : 0, name, "%s", msg);
}

static const char *text_of(const svy_value *v, char *buf)
{
    if (v->type == SVY_VAL_STR)
        return v->str;
    svy_dtoa(v->num, buf);
    return buf;
}

/* The cache key of a value: a short text, or a number's bits. */
static inline int cache_key(const svy_value *v, uint64_t *key, uint32_t *isnum)
{
    if (v->type == SVY_VAL_STR) {
        if (v->len > 7)
            return 0;
        *key = svy_short_key(v->str, v->len);
        *isnum = 0;
        return 1;
    }
    memcpy(key, &v->num, sizeof *key);
    *isnum = 1;
    return 1;
}

/* The set of a key: two entries, the one used last first. */
static inline svy_dcache *cache_slot(svy_dcache *c, uint64_t key, uint32_t parent)
{
    uint64_t h = (key ^ (uint64_t)parent * 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
    return &c[(h >> (64 - SVY_DCACHE_BITS)) & ~(uint64_t)1];
}

static inline int cache_hit(const svy_dcache *e, uint64_t key, uint32_t parent, uint32_t isnum)
{
    return e->key == key && e->parent == parent && e->isnum == isnum && e->id != UINT32_MAX;
}

/* 1 and *id when key is in the set (made the first entry), else 0. */
static inline int cache_get(svy_dcache *set, uint64_t key, uint32_t parent, uint32_t isnum, uint32_t *id)
{
    if (cache_hit(&set[0], key, parent, isnum)) {
        *id = set[0].id;
        return 1;
    }
    if (cache_hit(&set[1], key, parent, isnum)) {
        svy_dcache t = set[1];
        set[1] = set[0];
        set[0] = t;
        *id = t.id;
        return 1;
    }
    return 0;
}

static inline void cache_put(svy_dcache *set, uint64_t key, uint32_t parent, uint32_t isnum, uint32_t id)
{
    set[1] = set[0];
    set[0] = (svy_dcache){key, parent, id, isnum, 0};
}

/* A code that is a small whole number in digits, in a numeric column
 * (where "01" and "1" are the same code): its value, else UINT64_MAX. */
static inline uint64_t direct_code(const svy_value *v, int numeric)
{
    if (!numeric || v->type != SVY_VAL_STR || v->len - 1 >= 9)
        return UINT64_MAX;
    uint64_t u = 0;
    for (size_t i = 0; i < v->len; i++) {
        unsigned dg = (unsigned)(unsigned char)v->str[i] - '0';
        if (dg > 9)
            return UINT64_MAX;
        u = u * 10 + dg;
    }
    return u;
}

static inline int direct_get(const svy_ddirect *t, uint64_t u, uint32_t parent, uint32_t *out)
{
    if (u >= t->cap || t->e[u] >> 32 != (uint64_t)parent + 1)
        return 0;
    *out = (uint32_t)t->e[u];
    return 1;
}

/* Remember the id of code u under parent, while the array stays within 4
 * entries per code it holds (plus 1024); a code taken by another parent
 * stays with the caches.  Only a cache: out of memory, it does nothing. */
static void direct_put(svy_ddirect *t, uint64_t u, uint32_t parent, uint32_t id)
{
    if (u == UINT64_MAX || parent >= UINT32_MAX - 1)
        return;
    if (u >= t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap <= u)
            cap *= 2;
        if (cap > 4 * (t->n + 1024))
            return;
        uint64_t *e = realloc(t->e, cap * sizeof *e);
        if (!e)
            return;
        memset(e + t->cap, 0, (cap - t->cap) * sizeof *e);
        t->e = e;
        t->cap = cap;
    }
    if (!t->e[u]) {
        t->e[u] = ((uint64_t)parent + 1) << 32 | id;
        t->n++;
    }
}

/* A code of a stage, a stratum or a unit: its id from the two-way cache
 * (code_cached), or interned as prefix + text (svy_dsn_code_intern, -1 out of
 * memory); the caller makes a new code's record, then code_remember()
 * caches the id. */
typedef struct code_probe {
    svy_dcache *slot;
    uint64_t key;
    uint32_t isnum;
} code_probe;

static inline int code_cached(svy_dcache *cache, const svy_value *v, uint32_t parent, code_probe *p, uint32_t *out)
{
    p->slot = NULL;
    if (!cache_key(v, &p->key, &p->isnum))
        return 0;
    p->slot = cache_slot(cache, p->key, parent);
    return cache_get(p->slot, p->key, parent, p->isnum, out);
}

long svy_dsn_code_intern(svy_dsn *d, svy_strtab *tab, const svy_value *v, int numeric, uint32_t prefix, int *added)
{
    char nb[SVY_DTOA_MAX];
    size_t len;
    const char *s = svy_dsn_key(v, numeric, nb, &len);
    if (!svy_grow((void **)&d->keybuf, &d->capkey, len + 4, 1))
        return -1;
    memcpy(d->keybuf, &prefix, 4);
    memcpy(d->keybuf + 4, s, len);
    long id = svy_strtab_intern(tab, d->keybuf, len + 4, added);
    return id >= (long)UINT32_MAX - 1 ? -1 : id;
}

static inline void code_remember(const code_probe *p, uint32_t parent, uint32_t id)
{
    if (p->slot)
        cache_put(p->slot, p->key, parent, p->isnum, id);
}

static svy_status changed(const svy_dsn *d, const svy_row *row, long col, svy_err *err)
{
    return svy_fail_row(d->schema, row, col, err, "the input changed between the two passes the design needs: "
                                      "this value was not there the first time");
}

static svy_status new_stratum(svy_dsn *d, svy_dstage *S, uint32_t parent, uint32_t label, const svy_row *row,
                              svy_err *err)
{
    if (!svy_grow((void **)&S->strata, &S->capstrata, S->nstrata + 1, sizeof *S->strata) ||
        !svy_grow((void **)&S->hot, &S->caphot, S->nstrata + 1, sizeof *S->hot))
        return nomem(err);
    S->hot[S->nstrata] = (svy_dhot){0, 0};
    svy_dstratum *h = &S->strata[S->nstrata++];
    memset(h, 0, sizeof *h);
    h->parent = parent;
    h->label = label;
    h->first_row = row->index;
    h->fpc = NAN;
    (void)d;
    return SVY_OK;
}

/* The stratum of a row at stage i, whose unit at stage i-1 is parent. */
static svy_status stratum_of(svy_dsn *d, size_t i, const svy_row *row, uint32_t parent, uint32_t *out,
                             svy_err *err)
{
    svy_dstage *S = &d->st[i];
    if (!S->own_strata) {
        /* One stratum at stage 1; below, the unit above is the stratum. */
        uint32_t h = i == 0 ? 0 : parent;
        while (S->nstrata <= h) {
            if (d->pass > 1)
                return changed(d, row, d->st[i].id_col, err);
            svy_status st = new_stratum(d, S, i == 0 ? 0 : (uint32_t)S->nstrata, 0, row, err);
            if (st)
                return st;
            S->strata[S->nstrata - 1].first_row = row->index;
        }
        *out = h;
        return SVY_OK;
    }
    const svy_value *v = &row->vals[S->strata_col];
    if (svy_value_is_missing(v))
        return svy_fail_row(d->schema, row, S->strata_col, err, "stratum %s is missing", S->strata_name);
    uint64_t u = direct_code(v, S->strata_numeric);
    if (direct_get(&S->sdir, u, parent, out))
        return SVY_OK;
    code_probe p;
    if (code_cached(S->scache, v, parent, &p, out)) {
        direct_put(&S->sdir, u, parent, *out);
        return SVY_OK;
    }
    int added;
    long id = svy_dsn_code_intern(d, &S->labels, v, S->strata_numeric, i == 0 ? 0 : parent, &added);
    if (id < 0)
        return nomem(err);
    if (added) {
        if (d->pass > 1)
            return changed(d, row, S->strata_col, err);
        svy_status st = new_stratum(d, S, i == 0 ? 0 : parent, (uint32_t)id, row, err);
        if (st)
            return st;
    }
    code_remember(&p, parent, (uint32_t)id);
    direct_put(&S->sdir, u, parent, (uint32_t)id);
    *out = (uint32_t)id;
    return SVY_OK;
}

/* The unit of a row at stage i in stratum h; SVY_DSN_NOUNIT where rows
 * are the units. */
static svy_status unit_of(svy_dsn *d, size_t i, const svy_row *row, uint32_t h, uint32_t *out, svy_err *err)
{
    svy_dstage *S = &d->st[i];
    if (S->id_col < 0) {
        if (d->pass == 1)
            S->strata[h].n++;
        *out = SVY_DSN_NOUNIT;
        return SVY_OK;
    }
    const svy_value *v = &row->vals[S->id_col];
    if (svy_value_is_missing(v))
        return svy_fail_row(d->schema, row, S->id_col, err, "%s %s is missing", i == 0 ? "PSU" : "unit id", S->id_name);
    if (d->rows_last && i + 1 == d->nstage) {
        *out = SVY_DSN_NOUNIT;
        if (d->pass > 1)
            return SVY_OK;
        return svy_dsn_id_check(d, S, h, v, row->index) < 0 ? nomem(err) : SVY_OK;
    }
    uint64_t uc = direct_code(v, S->id_numeric);
    if (direct_get(&S->udir, uc, h, out))
        return SVY_OK;
    code_probe p;
    if (code_cached(S->ucache, v, h, &p, out)) {
        direct_put(&S->udir, uc, h, *out);
        return SVY_OK;
    }
    int added;
    long id = svy_dsn_code_intern(d, &S->ukeys, v, S->id_numeric, h, &added);
    if (id < 0)
        return nomem(err);
    if (added) {
        /* In a second pass only a last stage that turned out to hold
         * units of several rows gets its units now; n came from pass 1. */
        if (d->pass > 1 && i + 1 != d->nstage)
            return changed(d, row, S->id_col, err);
        if (!svy_grow((void **)&S->units, &S->capunits, S->nunits + 1, sizeof *S->units))
            return nomem(err);
        S->units[S->nunits++] = (svy_dunit){h, 0, row->index};
        if (d->pass == 1)
            S->strata[h].n++;
    }
    code_remember(&p, h, (uint32_t)id);
    direct_put(&S->udir, uc, h, (uint32_t)id);
    *out = (uint32_t)id;
    return SVY_OK;
}

static svy_status read_fpc(svy_dsn *d, size_t i, const svy_row *row, uint32_t h, svy_err *err)
{
    svy_dstage *S = &d->st[i];
    const svy_value *v = &row->vals[S->fpc_col];
    char nb[SVY_DTOA_MAX];
    double f;
    if (svy_value_is_missing(v))
        return svy_fail_row(d->schema, row, S->fpc_col, err, "fpc %s is missing", S->fpc_name);
    /* The fpc repeats row after row: a short text seen last time is not parsed again. */
    uint64_t key = v->type == SVY_VAL_STR && v->len <= 7 ? svy_short_key(v->str, v->len) : 0;
    if (key && key == S->hot[h].fpc_text)
        return SVY_OK; /* this text passed every check below in this stratum */
    svy_dstratum *T = &S->strata[h];
    if (key && key == S->fpc_key)
        f = S->fpc_last;
    else if (!(v->type == SVY_VAL_STR && svy_number_fast(v->str, v->len, &f)) && !svy_value_number(v, &f))
        f = NAN;
    S->fpc_key = key;
    S->fpc_last = f;
    if (!(f > 0) || !isfinite(f))
        return svy_fail_row(d->schema, row, S->fpc_col, err,
                        "fpc %s holds '%s': it must be a positive number (population units, or a fraction)",
                        S->fpc_name, text_of(v, nb));
    if (isnan(T->fpc)) {
        T->fpc = f;
        T->fpc_row = row->index;
    } else if (T->fpc != f) {
        char was[SVY_DTOA_MAX];
        svy_dtoa(T->fpc, was);
        return svy_fail_row(d->schema, row, S->fpc_col, err,
                        "fpc %s is %s here but %s in row %lld of the same stratum%s: it must be constant "
                        "within a stratum",
                        S->fpc_name, text_of(v, nb), was, T->fpc_row, i ? " (of this stage)" : "");
    }
    if (f < d->fpc_min) {
        d->fpc_min = f;
        d->fpc_min_row = row->index;
        d->fpc_min_stage = i;
    }
    if (f > d->fpc_max) {
        d->fpc_max = f;
        d->fpc_max_row = row->index;
        d->fpc_max_stage = i;
    }
    S->hot[h].fpc_text = key;
    return SVY_OK;
}

static svy_status read_weight(svy_dsn *d, const svy_row *row, double *w, svy_err *err)
{
    const svy_value *v = &row->vals[d->weight_col];
    char nb[SVY_DTOA_MAX];
    if (svy_value_is_missing(v))
        return svy_fail_row(d->schema, row, d->weight_col, err, "weight %s is missing", d->weight_name);
    if (!(v->type == SVY_VAL_STR && svy_number_fast(v->str, v->len, w)) && (!svy_value_number(v, w) || !isfinite(*w)))
        return svy_fail_row(d->schema, row, d->weight_col, err, "weight %s holds '%s', which is not a finite number",
                        d->weight_name, text_of(v, nb));
    if (*w < 0)
        return svy_fail_row(d->schema, row, d->weight_col, err,
                        "weight %s is %s: weights must be 0 or more (rows of weight 0 stay in the design)",
                        d->weight_name, text_of(v, nb));
    return SVY_OK;
}

/* Weights are divided by a power of two near the first positive one, which
 * changes no digit of any result but keeps squares and sums of weights like
 * 1e160 or 1e-200 inside the range of a double. */
static inline double scaled(svy_dsn *d, double w, long long rowi)
{
    if (w > 0) {
        if (!d->have_scale) {
            int ex;
            frexp(w, &ex);
            d->wscale = ldexp(1, ex - 1);
            d->have_scale = 1;
        }
        if (w < d->wmin) {
            d->wmin = w;
            d->wmin_row = rowi;
        }
        if (w > d->wmax) {
            d->wmax = w;
            d->wmax_row = rowi;
        }
    }
    return w / d->wscale;
}

/* Marks stage 1's unit u as holding a row of nonzero weight: 1 when it
 * did not yet, 0 when it did, -1 out of memory.  A bit per unit (rows in
 * any order then read 160 bytes for 1,280 units, not a unit each). */
static inline int nz_mark(svy_dstage *S, uint32_t u)
{
    size_t wi = u >> 6;
    if (wi >= S->nzwords) {
        size_t nw = S->nzwords ? S->nzwords * 2 : 16;
        while (nw <= wi)
            nw *= 2;
        uint64_t *nb = realloc(S->nzbits, nw * sizeof *nb);
        if (!nb)
            return -1;
        memset(nb + S->nzwords, 0, (nw - S->nzwords) * sizeof *nb);
        S->nzbits = nb;
        S->nzwords = nw;
    }
    uint64_t bit = (uint64_t)1 << (u & 63);
    if (S->nzbits[wi] & bit)
        return 0;
    S->nzbits[wi] |= bit;
    return 1;
}

svy_status svy_dsn_row(svy_dsn *d, const svy_row *row, svy_dpath *p, svy_err *err)
{
    svy_status st;
    d->rows++;
    double w = 1;
    if (d->weight_col >= 0 && (st = read_weight(d, row, &w, err)))
        return st;
    uint32_t parent = 0;
    for (size_t i = 0; i < d->nstage; i++) {
        uint32_t h = 0, u = 0;
        if ((st = stratum_of(d, i, row, parent, &h, err)) || (st = unit_of(d, i, row, h, &u, err)))
            return st;
        if (d->pass == 1 && d->st[i].fpc_col >= 0 && (st = read_fpc(d, i, row, h, err)))
            return st;
        p->stratum[i] = h;
        p->unit[i] = u;
        parent = u;
    }
    if (d->derive_w)
        w = d->pass == 1 ? 1 : d->st[d->nstage - 1].strata[p->stratum[d->nstage - 1]].prodN /
                                   d->st[d->nstage - 1].strata[p->stratum[d->nstage - 1]].prodn;
    if (d->pass == 1) {
        if (w != 0 || d->derive_w) {
            svy_dstratum *T = &d->st[0].strata[p->stratum[0]];
            T->nzrows++;
            svy_dstage *S = &d->st[0];
            if (p->unit[0] != SVY_DSN_NOUNIT && p->unit[0] + 1 != S->nzlast) { /* rows by unit: once a unit */
                int fresh = nz_mark(S, p->unit[0]);
                if (fresh < 0)
                    return nomem(err);
                T->nzunits += (long long)fresh;
                S->nzlast = p->unit[0] + 1;
            }
        } else {
            d->zero_rows++;
        }
    }
    p->w = d->estimating ? scaled(d, w, row->index) : w;
    return SVY_OK;
}
