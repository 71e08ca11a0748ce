/* Design-based domain estimates: setting up and taking rows in (see
 * survey/estimate.h; what is kept and why is in estimate_private.h, the
 * estimates themselves in estimate_finish.c). */
#include "svy_private.h"
#include "estimate_private.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- names */

void svy_design_init(svy_design *d)
{
    memset(d, 0, sizeof *d);
    d->lonely = SVY_LONELY_FAIL;
    d->df_rule = SVY_DF_DOMAIN;
    d->ci = SVY_CI_LOGIT;
    d->level = 0.95;
}

static const char *const lonely_names[] = {"fail", "remove", "certainty", "adjust", "average"};
static const char *const df_names[] = {"domain", "full", "inf", "fixed"};
static const char *const ci_names[] = {"logit", "wald", "beta", "wilson"};
static const char *const stat_names[] = {"rate", "share", "mean", "total"};

const char *svy_lonely_name(svy_lonely l)
{
    return (unsigned)l < 5 ? lonely_names[l] : "?";
}

const char *svy_df_rule_name(svy_df_rule r)
{
    return (unsigned)r < 4 ? df_names[r] : "?";
}

const char *svy_ci_method_name(svy_ci_method m)
{
    return (unsigned)m < 4 ? ci_names[m] : "?";
}

const char *svy_stat_name(svy_stat s)
{
    return (unsigned)s < 4 ? stat_names[s] : "?";
}

int svy_stat_is_proportion(svy_stat s)
{
    return s == SVY_STAT_RATE || s == SVY_STAT_SHARE;
}

int svy_lonely_parse(const char *s, svy_lonely *out)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(s, lonely_names[i]) == 0) {
            *out = (svy_lonely)i;
            return 1;
        }
    return 0;
}

int svy_ci_method_parse(const char *s, svy_ci_method *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, ci_names[i]) == 0) {
            *out = (svy_ci_method)i;
            return 1;
        }
    if (strcmp(s, "kg") == 0 || strcmp(s, "korn-graubard") == 0) {
        *out = SVY_CI_BETA;
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- setup */

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

/* A copy of n names; NULL with *ok cleared on failure. */
static char **dup_names(const char *const *src, size_t n, int *ok)
{
    if (!n)
        return NULL;
    char **v = calloc(n, sizeof *v);
    if (!v) {
        *ok = 0;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!src[i] || !*src[i] || !(v[i] = svy_strdup(src[i])))
            *ok = 0;
    return v;
}

static void free_names(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

svy_est *svy_est_new(const svy_design *d, const char *const *by, size_t nby, svy_err *err)
{
    if (!(d->level > 0 && d->level < 1)) {
        svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "confidence level must be between 0 and 1, not %g", d->level);
        return NULL;
    }
    if (d->df_rule == SVY_DF_FIXED && !(d->df > 0)) {
        svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "degrees of freedom must be positive, not %g", d->df);
        return NULL;
    }
    svy_est *e = calloc(1, sizeof *e);
    if (!e) {
        nomem(err);
        return NULL;
    }
    e->d = *d;
    e->overall_dom = -1;
    int ok = 1;
    e->psu_cols = dup_names(d->psu, d->npsu, &ok);
    e->strata_cols = dup_names(d->strata, d->nstrata, &ok);
    e->fpc_cols = dup_names(d->fpc, d->nfpc, &ok);
    if (d->weight && !(e->weight_col = svy_strdup(d->weight)))
        ok = 0;
    e->d.psu = (const char *const *)e->psu_cols;
    e->d.strata = (const char *const *)e->strata_cols;
    e->d.fpc = (const char *const *)e->fpc_cols;
    e->d.weight = e->weight_col;
    e->nby = nby;
    e->by = calloc(nby ? nby : 1, sizeof *e->by);
    e->by_idx = calloc(nby ? nby : 1, sizeof *e->by_idx);
    e->by_numeric = calloc(nby ? nby : 1, sizeof *e->by_numeric);
    e->byval_tab = calloc(nby ? nby : 1, sizeof *e->byval_tab);
    e->byval_cache = calloc((nby ? nby : 1) * BYC, sizeof *e->byval_cache);
    e->dom_key = calloc(nby ? nby : 1, sizeof *e->dom_key);
    ok &= e->by && e->by_idx && e->by_numeric && e->byval_tab && e->byval_cache && e->dom_key;
    for (size_t k = 0; ok && k < nby; k++) {
        e->by[k] = svy_strdup(by[k]);
        ok &= e->by[k] != NULL;
    }
    if (!ok) {
        int bad_name = e->by && e->by_idx && e->by_numeric && e->byval_tab && e->byval_cache && e->dom_key;
        svy_est_free(e);
        if (bad_name)
            svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "an empty column name in the design");
        else
            nomem(err);
        return NULL;
    }
    if (svy_dsn_init(&e->dsn, &e->d, err) != SVY_OK) {
        svy_est_free(e);
        return NULL;
    }
    return e;
}

/* The per-stage records and their pools (svy_est_free, and a second pass). */
static void layers_free(svy_est *e)
{
    for (size_t l = 0; l < LAYERS_MAX; l++) {
        layer *L = &e->lay[l];
        free(L->recs);
        free(L->pool);
        svy_u64map_free(&L->map);
        svy_u64map_free(&L->lmap);
        free(L->lpool);
        free(L->dstart);
    }
}

void svy_est_free(svy_est *e)
{
    if (!e)
        return;
    svy_dsn_free(&e->dsn);
    free_names(e->psu_cols, e->d.npsu);
    free_names(e->strata_cols, e->d.nstrata);
    free_names(e->fpc_cols, e->d.nfpc);
    free(e->weight_col);
    for (size_t k = 0; e->by && k < e->nby; k++)
        free(e->by[k]);
    free(e->by);
    free(e->by_idx);
    free(e->by_numeric);
    if (e->byval_tab)
        for (size_t k = 0; k < e->nby; k++)
            svy_strtab_free(&e->byval_tab[k]);
    free(e->byval_tab);
    free(e->byval_cache);
    free(e->dom_key);
    for (size_t i = 0; i < e->nout; i++) {
        free(e->out[i].column);
        free(e->out[i].value);
        free(e->out[i].name);
    }
    free(e->out);
    svy_strtab_free(&e->dom_tab);
    svy_strtab_free(&e->lvl_tab);
    svy_strtab_free(&e->domval_tab);
    if (e->doms)
        for (size_t i = 0; i < e->cap_doms; i++)
            for (size_t l = 0; l < LAYERS_MAX; l++)
                free(e->doms[i].dix[l].idx);
    free(e->doms);
    free(e->dom_vals);
    free(e->domval_num);
    free(e->dpool);
    layers_free(e);
    free(e->lvl_outcome);
    free(e->keybuf);
    free(e->res);
    for (size_t i = 0; i < e->nnames; i++)
        free(e->names[i]);
    free(e->names);
    free(e);
}

svy_status svy_est_add_outcome(svy_est *e, svy_stat stat, const char *column, const char *value, svy_err *err)
{
    SVY_FAIL_IF(e->bound, err, SVY_E_USAGE, "outcomes must be added before the schema is bound");
    SVY_FAIL_IF(!column || !*column, err, SVY_E_USAGE, "empty column name");
    SVY_FAIL_IF(value && stat != SVY_STAT_RATE, err, SVY_E_USAGE, "a value is only for rates");
    SVY_FAIL_IF((unsigned)stat > SVY_STAT_TOTAL, err, SVY_E_USAGE, "unknown statistic");
    if (!svy_grow((void **)&e->out, &e->capout, e->nout + 1, sizeof *e->out))
        return nomem(err);
    outcome *o = &e->out[e->nout];
    memset(o, 0, sizeof *o);
    o->stat = stat;
    o->col = -1;
    o->column = svy_strdup(column);
    o->value = value ? svy_strdup(value) : NULL;
    size_t nl = strlen(column) + (value ? strlen(value) + 1 : 0) + 1;
    o->name = svy_malloc(nl);
    if (!o->column || (value && !o->value) || !o->name) {
        free(o->column);
        free(o->value);
        free(o->name);
        return nomem(err);
    }
    if (value)
        snprintf(o->name, nl, "%s=%s", column, value);
    else
        snprintf(o->name, nl, "%s", column);
    e->nout++;
    return SVY_OK;
}

static long find_col(const svy_schema *s, const char *name, const char *role, svy_err *err)
{
    long i = svy_schema_find(s, name);
    if (i < 0)
        svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, name, "no column '%s' (%s) in the input", name, role);
    return i;
}

static const size_t sums_size[] = {3, 2, 4, 5}, rows_size[] = {8, 1, 9, 10};

/* The layers of records the design needs (see estimate_private.h). */
static void plan_layers(svy_est *e)
{
    const svy_dsn *d = &e->dsn;
    memset(e->lay, 0, sizeof e->lay);
    e->nlay = 0;
    size_t nv = d->nvar;
    int last_rows = nv >= 2 && d->rows_last;
    if (d->nids == 0) {
        e->lay[e->nlay++] = (layer){.stage = 0, .by_stratum = 1, .rows = 1};
    } else {
        for (size_t s = 0; s < nv; s++) {
            if (last_rows && s + 1 == nv) {
                if (d->st[s].own_strata)
                    e->lay[e->nlay++] = (layer){.stage = s, .by_stratum = 1, .rows = 1};
                continue; /* else the unit above carries it */
            }
            int merged = last_rows && s + 2 == nv && !d->st[s + 1].own_strata;
            e->lay[e->nlay++] = (layer){.stage = s, .by_stratum = 0, .rows = merged};
        }
    }
    for (size_t l = 0; l < e->nlay; l++)
        e->lay[l].bsize = e->lay[l].rows ? e->rows_size : e->sums_size;
}

svy_status svy_est_bind(svy_est *e, const svy_schema *schema, svy_err *err)
{
    SVY_FAIL_IF(e->nout == 0, err, SVY_E_USAGE, "nothing to estimate: give at least one outcome");
    SVY_FAIL_IF(e->bound, err, SVY_E_USAGE, "the schema is already bound");
    e->schema = schema;
    svy_status st = svy_dsn_bind(&e->dsn, schema, err);
    if (st)
        return st;
    for (size_t k = 0; k < e->nby; k++) {
        if ((e->by_idx[k] = find_col(schema, e->by[k], "by", err)) < 0)
            return SVY_E_USAGE;
        e->by_numeric[k] = svy_var_type_of(svy_schema_var(schema, (size_t)e->by_idx[k])) != SVY_VAR_STRING;
    }
    size_t so = 0, ro = 0;
    e->all_rates = 1;
    e->all_plain = 1;
    for (size_t i = 0; i < e->nout; i++) {
        outcome *o = &e->out[i];
        if ((o->col = find_col(schema, o->column, "outcome", err)) < 0)
            return SVY_E_USAGE;
        const svy_var *v = svy_schema_var(schema, (size_t)o->col);
        o->numeric = svy_var_type_of(v) != SVY_VAR_STRING;
        if (o->value) {
            double code;
            if (svy_parse_number(o->value, (size_t)-1, &code)) {
                o->match_num = 1;
                o->match = code;
            } else if (svy_var_type_of(v) != SVY_VAR_STRING && svy_var_code_for(v, o->value, &code)) {
                o->match_num = 1;
                o->match = code;
            }
        }
        o->plain = o->stat == SVY_STAT_RATE && !o->value;
        e->any_share |= o->stat == SVY_STAT_SHARE;
        e->any_shift |= o->stat == SVY_STAT_MEAN || o->stat == SVY_STAT_TOTAL;
        e->all_rates &= o->stat == SVY_STAT_RATE;
        e->all_plain &= o->plain;
        o->off_sums = so;
        o->off_rows = ro;
        so += sums_size[o->stat];
        ro += rows_size[o->stat];
    }
    e->sums_size = so;
    e->rows_size = ro;
    e->batch = e->all_rates && e->nout <= 32;
    plan_layers(e);
    e->bound = 1;
    return SVY_OK;
}

svy_status svy_est_set_level_code(svy_est *e, size_t i, double code, svy_err *err)
{
    SVY_FAIL_IF(!e->bound || i >= e->nout || !e->out[i].value, err, SVY_E_USAGE, "no COL=VALUE outcome %zu", i);
    e->out[i].match_num = 1;
    e->out[i].match = code;
    return SVY_OK;
}

size_t svy_est_columns(const svy_est *e, const char **names, size_t cap)
{
    size_t n = svy_dsn_columns(&e->dsn, names, cap, 0);
#define PUT(s)                                                                                             \
    do {                                                                                                   \
        const char *s_ = (s);                                                                              \
        int dup_ = 0;                                                                                      \
        for (size_t j_ = 0; j_ < n && j_ < cap; j_++)                                                      \
            dup_ |= strcmp(names[j_], s_) == 0;                                                            \
        if (!dup_) {                                                                                       \
            if (n < cap)                                                                                   \
                names[n] = s_;                                                                             \
            n++;                                                                                           \
        }                                                                                                  \
    } while (0)
    for (size_t k = 0; k < e->nby; k++)
        PUT(e->by[k]);
    for (size_t i = 0; i < e->nout; i++)
        PUT(e->out[i].column);
#undef PUT
    return n;
}

int svy_est_passes_max(const svy_est *e)
{
    return e->dsn.derive_w || e->dsn.nstage >= 2 ? 2 : 1;
}

/* ------------------------------------------------------------- domains */

static svy_status key_grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return SVY_OK;
    return svy_grow((void **)buf, cap, need, 1) ? SVY_OK : SVY_E_NOMEM;
}

static long new_domain(svy_est *e, const svy_row *row, int overall, svy_err *err)
{
    size_t id = e->dom_tab.n - 1; /* already interned by the caller */
    size_t oldcap = e->cap_doms;
    if (!svy_grow((void **)&e->doms, &e->cap_doms, id + 1, sizeof *e->doms))
        return nomem(err), -1;
    if (e->cap_doms > oldcap)
        memset(e->doms + oldcap, 0, (e->cap_doms - oldcap) * sizeof *e->doms);
    dominfo *d = &e->doms[id];
    d->overall = overall;
    d->first_row = row->index;
    d->block = e->ndpool;
    size_t need = e->ndpool + DB * e->nout;
    if (!svy_grow((void **)&e->dpool, &e->capdpool, need, sizeof *e->dpool))
        return nomem(err), -1;
    memset(e->dpool + e->ndpool, 0, DB * e->nout * sizeof *e->dpool);
    e->ndpool = need;
    if (!svy_grow((void **)&e->dom_vals, &e->cap_dom_vals, (id + 1) * (e->nby ? e->nby : 1), sizeof *e->dom_vals))
        return nomem(err), -1;
    for (size_t k = 0; k < e->nby; k++) {
        size_t idx = id * e->nby + k;
        if (overall) {
            e->dom_vals[idx] = (size_t)-1;
            continue;
        }
        /* shown as first seen: "01" stays "01" though "1" is the same code */
        const svy_value *v = &row->vals[e->by_idx[k]];
        char nb[SVY_DTOA_MAX];
        size_t len;
        const char *s = v->type == SVY_VAL_STR ? v->str : nb;
        len = v->type == SVY_VAL_STR ? v->len : svy_dtoa(v->num, nb);
        long vid = svy_strtab_intern(&e->domval_tab, s, len, NULL);
        if (vid < 0)
            return nomem(err), -1;
        if (!svy_grow((void **)&e->domval_num, &e->cap_domval_num, (size_t)vid + 1, 1))
            return nomem(err), -1;
        e->domval_num[vid] = v->type == SVY_VAL_NUM;
        e->dom_vals[idx] = (size_t)vid;
    }
    return (long)id;
}

/* The id of by variable k's value v, -1 when memory ran out.  Numbers are
 * the same value whatever their spelling ("1", "1.0") in a column that is
 * not typed text. */
static long byval_id(svy_est *e, size_t k, const svy_value *v)
{
    struct byc *ent = NULL;
    uint64_t key = 0;
    if (v->type == SVY_VAL_STR && v->len <= 7) {
        key = svy_short_key(v->str, v->len);
        ent = &e->byval_cache[k * BYC + ((key * 0x9e3779b97f4a7c15ull) >> (64 - BYC_BITS))];
        if (ent->key == key)
            return ent->id;
    }
    char nb[SVY_DTOA_MAX];
    size_t len;
    const char *s = svy_dsn_key(v, e->by_numeric[k], nb, &len);
    long id = svy_strtab_intern(&e->byval_tab[k], s, len, NULL);
    if (id >= 0 && ent) {
        ent->key = key;
        ent->id = (uint32_t)id;
    }
    return id;
}

/* The domain of a row, -1 when a by value is missing (the row stays in the
 * design but in no domain), -2 on failure. */
static long row_domain(svy_est *e, const svy_row *row, svy_err *err)
{
    if (e->nby == 0) {
        int added;
        long id = svy_strtab_intern(&e->dom_tab, "", 0, &added);
        if (id < 0)
            return nomem(err), -2;
        if (added && new_domain(e, row, 0, err) < 0)
            return -2;
        return id;
    }
    const size_t nby = e->nby;
    uint64_t packed = 0;
    int packable = nby <= 4;
    for (size_t k = 0; k < nby; k++) {
        const svy_value *v = &row->vals[e->by_idx[k]];
        if (svy_value_is_missing(v))
            return -1;
        long id = byval_id(e, k, v);
        if (id < 0)
            return nomem(err), -2;
        e->dom_key[k] = (uint32_t)id;
        packable &= id < 65536;
        packed = packed << 16 | (uint64_t)id;
    }
    struct domc *dc = NULL;
    if (packable) {
        dc = &e->dom_cache[(packed * 0x9e3779b97f4a7c15ull) >> (64 - DOMC_BITS)];
        if (dc->dom1 && dc->key == packed)
            return (long)dc->dom1 - 1;
    }
    int added;
    long id = svy_strtab_intern(&e->dom_tab, (const char *)e->dom_key, nby * sizeof *e->dom_key, &added);
    if (id < 0)
        return nomem(err), -2;
    if (added && new_domain(e, row, 0, err) < 0)
        return -2;
    if (dc && id < UINT32_MAX) {
        dc->key = packed;
        dc->dom1 = (uint32_t)id + 1;
    }
    return id;
}

static long overall_domain(svy_est *e, const svy_row *row, svy_err *err)
{
    if (e->overall_dom >= 0)
        return e->overall_dom;
    int added;
    long id = svy_strtab_intern(&e->dom_tab, "\x1e", 1, &added); /* no by key is one byte 0x1e */
    if (id < 0)
        return nomem(err), -2;
    if (added && new_domain(e, row, 1, err) < 0)
        return -2;
    e->overall_dom = id;
    return id;
}

/* ------------------------------------------------------------- records */

/* Keep the direct indexes of records under this many bytes in all. */
#define DENSE_MAX ((size_t)64 << 20)

static long rec_new(svy_est *e, layer *L, size_t li, uint32_t dom, uint32_t key, svy_err *err)
{
    int added;
    long i = svy_u64map_get(&L->map, ((uint64_t)dom << 32) | key, L->nrecs, &added);
    if (i < 0)
        return nomem(err), -1;
    if (added) {
        if (!svy_grow((void **)&L->recs, &L->caprecs, L->nrecs + 1, sizeof *L->recs))
            return nomem(err), -1;
        size_t need = L->npool + L->bsize;
        if (!svy_grow((void **)&L->pool, &L->cappool, need, sizeof *L->pool))
            return nomem(err), -1;
        memset(L->pool + L->npool, 0, L->bsize * sizeof *L->pool);
        L->recs[L->nrecs++] = (rec){.domain = dom, .key = key, .block = L->npool};
        L->npool = need;
    }
    /* Extend the domain's direct index over this key while memory allows:
     * rows in any order then find their record without hashing. */
    dindex *x = &e->doms[dom].dix[li];
    if (key >= x->len) {
        size_t nl = x->len ? x->len * 2 : 64;
        while (nl <= key)
            nl *= 2;
        if (e->dense_bytes + (nl - x->len) * sizeof *x->idx <= DENSE_MAX) {
            uint32_t *ni = realloc(x->idx, nl * sizeof *ni);
            if (ni) {
                memset(ni + x->len, 0, (nl - x->len) * sizeof *ni);
                e->dense_bytes += (nl - x->len) * sizeof *ni;
                x->idx = ni;
                x->len = nl;
            }
        }
    }
    if (key < x->len)
        x->idx[key] = (uint32_t)i + 1;
    return i;
}

static inline long rec_get(svy_est *e, layer *L, size_t li, uint32_t dom, uint32_t key, svy_err *err)
{
    const dindex *x = &e->doms[dom].dix[li];
    if (key < x->len && x->idx[key])
        return (long)x->idx[key] - 1;
    return rec_new(e, L, li, dom, key, err);
}

static double *level_block(svy_est *e, layer *L, size_t r, long level, svy_err *err)
{
    size_t bs = L->rows ? 4 : 1;
    int added;
    long i = svy_u64map_get(&L->lmap, ((uint64_t)r << 32) | (uint64_t)level, L->nlpool / bs, &added);
    if (i < 0)
        return nomem(err), NULL;
    if (added) {
        if (!svy_grow((void **)&L->lpool, &L->caplpool, L->nlpool + bs, sizeof *L->lpool))
            return nomem(err), NULL;
        memset(L->lpool + L->nlpool, 0, bs * sizeof *L->lpool);
        L->nlpool += bs;
    }
    return L->lpool + (size_t)i * bs;
}

/* ------------------------------------------------------------- per row */

static const char *value_text(const svy_value *v, char *buf)
{
    if (v->type == SVY_VAL_STR)
        return v->str;
    svy_dtoa(v->num, buf);
    return buf;
}


static long level_get(svy_est *e, size_t o, const svy_value *v, svy_err *err)
{
    char nb[SVY_DTOA_MAX];
    size_t len;
    const char *s = svy_dsn_key(v, e->out[o].numeric, nb, &len);
    char pre[24];
    int pl = snprintf(pre, sizeof pre, "%zu", o);
    if (key_grow(&e->keybuf, &e->capkey, (size_t)pl + 1 + len))
        return nomem(err), -1;
    memcpy(e->keybuf, pre, (size_t)pl + 1);
    memcpy(e->keybuf + pl + 1, s, len);
    int added;
    long id = svy_strtab_intern(&e->lvl_tab, e->keybuf, (size_t)pl + 1 + len, &added);
    if (id < 0)
        return nomem(err), -1;
    if (added) {
        if (!svy_grow((void **)&e->lvl_outcome, &e->cap_lvl_outcome, (size_t)id + 1, sizeof *e->lvl_outcome))
            return nomem(err), -1;
        e->lvl_outcome[id] = (long)o;
    }
    return id;
}

/* Most survey cells are one digit (0/1 outcomes, codes): read those without
 * the general parser. */
static inline int number_of(const svy_value *v, double *out)
{
    if (v->type == SVY_VAL_STR && v->missing == SVY_MISS_NONE) {
        if (v->len == 1 && v->str[0] >= '0' && v->str[0] <= '9') {
            *out = v->str[0] - '0';
            return 1;
        }
        if (svy_number_fast(v->str, v->len, out))
            return 1;
    }
    return svy_value_number(v, out);
}

/* The value of an outcome in a row: 1 valid (y set), 0 missing, -1 error. */
static int outcome_value(svy_est *e, size_t o, const svy_row *row, double *y, svy_err *err)
{
    outcome *oc = &e->out[o];
    const svy_value *v = &row->vals[oc->col];
    if (svy_value_is_missing(v))
        return 0;
    char nb[SVY_DTOA_MAX];
    switch (oc->stat) {
    case SVY_STAT_RATE:
        if (oc->value) {
            double num;
            if (oc->match_num && number_of(v, &num))
                *y = num == oc->match;
            else {
                size_t len;
                const char *s = v->type == SVY_VAL_STR ? v->str : nb;
                len = v->type == SVY_VAL_STR ? v->len : svy_dtoa(v->num, nb);
                *y = len == strlen(oc->value) && memcmp(s, oc->value, len) == 0;
            }
            return 1;
        }
        if (!number_of(v, y) || (*y != 0 && *y != 1)) {
            svy_fail_row(e->schema, row, oc->col, err, "column %s holds '%s', but a rate needs 0 or 1 (use --rate COL=VALUE for a code)",
                     oc->column, value_text(v, nb));
            return -1;
        }
        return 1;
    case SVY_STAT_MEAN:
    case SVY_STAT_TOTAL:
        if (!number_of(v, y) || !isfinite(*y)) {
            svy_fail_row(e->schema, row, oc->col, err, "column %s holds '%s', which is not a number", oc->column, value_text(v, nb));
            return -1;
        }
        return 1;
    case SVY_STAT_SHARE:
        *y = 1;
        return 1;
    }
    return 0;
}

/* One group of a proportion (ROWS): count, first weight, sums of w - w0. */
static inline void group_add(double *g, double w)
{
    if (g[0] == 0)
        g[1] = w;
    g[0] += 1;
    double dw = w - g[1];
    g[2] += dw;
    g[3] += dw * dw;
}

/* Co-moments of (a, b) shifted by the first row (ROWS). */
static inline void comoment_add(double *c, double a, double b)
{
    if (c[0] == 0) {
        c[1] = a;
        c[2] = b;
    }
    c[0] += 1;
    double da = a - c[1], db = b - c[2];
    c[3] += da;
    c[4] += db;
    c[5] += da * da;
    c[6] += da * db;
    c[7] += db * db;
}

/* A row in a record of a table of rates only. */
static inline void add_rates(double *blk, int rows, size_t nout, double w, const double *ys, const int *valid)
{
    if (!rows) {
        /* the common table: rates only, three sums each, one after the other */
        for (size_t o = 0; o < nout; o++, blk += 3) {
            if (!valid[o])
                continue;
            double a = w * ys[o];
            blk[0] += a;
            blk[1] += w - a;
            blk[2] += 1;
        }
        return;
    }
    /* rows as units, rates only: one group of eight doubles each */
    for (size_t o = 0; o < nout; o++, blk += 8)
        if (valid[o])
            group_add(blk + (ys[o] != 0 ? 0 : 4), w);
}

/* Add one row to one record of a layer.  ys are the outcomes' values (means
 * and totals: y; ysh: y - c). */
static svy_status add_to_record(svy_est *e, layer *L, size_t r, double w, const double *ys, const double *ysh,
                                const int *valid, const long *levels, svy_err *err)
{
    rec *R = &L->recs[r];
    R->rows++;
    R->nzrows += w != 0;
    double *blk = L->pool + R->block;
    const size_t nout = e->nout;
    const outcome *out = e->out;
    if (e->all_rates) {
        add_rates(blk, L->rows, nout, w, ys, valid);
        return SVY_OK;
    }
    if (!L->rows) {
        for (size_t o = 0; o < nout; o++) {
            if (!valid[o])
                continue;
            double *c = blk + out[o].off_sums, y = ys[o];
            switch (out[o].stat) {
            case SVY_STAT_RATE: {
                double a = w * y;
                c[0] += a;
                c[1] += w - a;
                c[2] += 1;
                break;
            }
            case SVY_STAT_SHARE: {
                c[0] += w;
                c[1] += 1;
                double *lb = level_block(e, L, r, levels[o], err);
                if (!lb)
                    return SVY_E_NOMEM;
                lb[0] += w;
                blk = L->pool + L->recs[r].block;
                break;
            }
            case SVY_STAT_MEAN: {
                double yp = ysh[o], a = w * yp;
                c[0] += a;
                c[1] += w;
                c[2] += 1;
                c[3] += a * yp;
                break;
            }
            case SVY_STAT_TOTAL: {
                double yp = ysh[o], a = w * yp;
                c[0] += w * y;
                c[1] += w;
                c[2] += 1;
                c[3] += a;
                c[4] += a * yp;
                break;
            }
            }
        }
        return SVY_OK;
    }
    for (size_t o = 0; o < nout; o++) {
        if (!valid[o])
            continue;
        double *c = blk + out[o].off_rows, y = ys[o];
        switch (out[o].stat) {
        case SVY_STAT_RATE:
            group_add(c + (y != 0 ? 0 : 4), w);
            break;
        case SVY_STAT_SHARE: {
            c[0] += 1;
            double *lb = level_block(e, L, r, levels[o], err);
            if (!lb)
                return SVY_E_NOMEM;
            group_add(lb, w);
            blk = L->pool + L->recs[r].block;
            break;
        }
        case SVY_STAT_MEAN: {
            double yp = ysh[o], a = w * yp;
            comoment_add(c, a, w);
            c[8] += a * yp;
            break;
        }
        case SVY_STAT_TOTAL: {
            double yp = ysh[o], a = w * yp;
            comoment_add(c, w * y, w);
            c[8] += a;
            c[9] += a * yp;
            break;
        }
        }
    }
    return SVY_OK;
}

/* Add one row to one domain: its shifts, then a record in every layer. */
static svy_status add_to_domain(svy_est *e, long dom, const svy_dpath *p, const double *ys, const int *valid,
                                const long *levels, double *ysh, svy_err *err)
{
    dominfo *D = &e->doms[dom];
    D->rows++;
    double *dp = e->dpool + D->block;
    double w = p->w;
    if (e->any_shift || w == 0) {
        for (size_t o = 0; o < e->nout; o++) {
            if (!valid[o])
                continue;
            double *c = dp + DB * o;
            svy_stat st = e->out[o].stat;
            if (st == SVY_STAT_MEAN || st == SVY_STAT_TOTAL) {
                if (!c[0]) {
                    c[0] = 1;
                    c[1] = ys[o];
                }
                ysh[o] = ys[o] - c[1];
            }
            if (w == 0)
                c[2] += 1;
        }
    }
    for (size_t li = 0; li < e->nlay; li++) {
        layer *L = &e->lay[li];
        uint32_t key = L->by_stratum ? p->stratum[L->stage] : p->unit[L->stage];
        if (e->batch && li == 0) {
            /* rows grouped by unit stay on its few records: no need to queue them */
            e->changes += key != e->last_rec;
            e->last_rec = key;
        }
        if (e->queueing) {
            /* the record is looked up when the queue is summed (flush_pending) */
            pending *q = &e->pend[e->npend];
            q->lay[q->nrec] = (uint32_t)li;
            q->dom[q->nrec] = (uint32_t)dom;
            q->rec[q->nrec++] = key;
#if defined(__GNUC__)
            const dindex *x = &D->dix[li];
            if (key < x->len)
                __builtin_prefetch(&x->idx[key], 0);
#endif
            continue;
        }
        long r = rec_get(e, L, li, (uint32_t)dom, key, err);
        if (r < 0)
            return SVY_E_NOMEM;
        svy_status st = add_to_record(e, L, (size_t)r, w, ys, ysh, valid, levels, err);
        if (st)
            return st;
    }
    return SVY_OK;
}

/* Sum the queued rows into their records, in the order they came. */
static svy_status flush_pending(svy_est *e, svy_err *err)
{
    const size_t nout = e->nout;
    /* look the records up in the rows' order (new records come in the same
     * order as summed at once) and prefetch them all, then sum */
    for (size_t i = 0; i < e->npend; i++) {
        pending *q = &e->pend[i];
        for (uint32_t j = 0; j < q->nrec; j++) {
            layer *L = &e->lay[q->lay[j]];
            long r = rec_get(e, L, q->lay[j], q->dom[j], q->rec[j], err);
            if (r < 0) {
                e->npend = 0;
                return SVY_E_NOMEM;
            }
            q->rec[j] = (uint32_t)r;
#if defined(__GNUC__)
            const char *b = (const char *)(L->pool + L->recs[r].block);
            const char *end = b + L->bsize * sizeof *L->pool;
            for (; b < end; b += 64)
                __builtin_prefetch(b, 1);
            __builtin_prefetch(end - 1, 1);
            __builtin_prefetch(&L->recs[r], 1);
#endif
        }
    }
    for (size_t i = 0; i < e->npend; i++) {
        const pending *q = &e->pend[i];
        const double w = q->w;
        for (uint32_t j = 0; j < q->nrec; j++) {
            layer *L = &e->lay[q->lay[j]];
            rec *R = &L->recs[q->rec[j]];
            R->rows++;
            R->nzrows += w != 0;
            add_rates(L->pool + R->block, L->rows, nout, w, q->ys, q->valid);
        }
    }
    e->npend = 0;
    return SVY_OK;
}

/* Every 1024 rows: queue while most rows change unit (rows in any order),
 * sum at once while they do not (rows grouped by unit, whose few records
 * stay in the cache). */
static svy_status choose_queueing(svy_est *e, svy_err *err)
{
    if (++e->window < 1024)
        return SVY_OK;
    int q = e->changes > 512;
    svy_status st = SVY_OK;
    if (!q && e->queueing)
        st = flush_pending(e, err);
    e->queueing = q;
    e->window = e->changes = 0;
    return st;
}

svy_status svy_est_push(svy_est *e, const svy_row *row, svy_err *err)
{
    SVY_FAIL_IF(!e->bound || e->finished || e->ended, err, SVY_E_USAGE,
                "svy_est_push before bind, after the last pass or after finish");
    svy_dpath p;
    svy_status rc = svy_dsn_row(&e->dsn, row, &p, err);
    if (rc || !e->dsn.estimating)
        return rc;
    e->rows++;

    enum { SMALL = 32 };
    double ys_s[SMALL], ysh_s[SMALL];
    int valid_s[SMALL];
    long lv_s[SMALL];
    double *ys = ys_s, *ysh = ysh_s;
    int *valid = valid_s;
    long *levels = lv_s;
    if (e->queueing) { /* (queueing only with at most 32 outcomes, below SMALL) */
        /* the row's outcomes go straight to its place in the queue */
        ys = e->pend[e->npend].ys;
        valid = e->pend[e->npend].valid;
    }
    if (e->nout > SMALL) {
        ys = malloc(e->nout * sizeof *ys);
        ysh = malloc(e->nout * sizeof *ysh);
        valid = malloc(e->nout * sizeof *valid);
        levels = malloc(e->nout * sizeof *levels);
        if (!ys || !ysh || !valid || !levels) {
            free(ys);
            free(ysh);
            free(valid);
            free(levels);
            return nomem(err);
        }
    }
    /* Loop invariants in locals: the stores to ys[] and levels[] could
     * alias the estimator's fields, and the compiler would reload them. */
    const size_t nout = e->nout;
    const outcome *out = e->out;
    const svy_value *vals = row->vals;
    size_t o0 = 0;
    if (e->all_plain) {
        /* every cell 0 or 1, one character: no levels (no share) to set */
        for (; o0 < nout; o0++) {
            const svy_value *v = &vals[out[o0].col];
            if (v->len != 1 || v->type != SVY_VAL_STR || v->missing != SVY_MISS_NONE)
                break;
            unsigned dg = (unsigned)(unsigned char)v->str[0] - '0';
            if (dg > 1)
                break;
            ys[o0] = dg;
            valid[o0] = 1;
        }
    }
    for (size_t o = o0; o < nout && rc == SVY_OK; o++) {
        const svy_value *v = &vals[out[o].col];
        levels[o] = -1;
        /* the common case, a 0/1 rate cell of one character */
        if (out[o].plain && v->len == 1 && v->type == SVY_VAL_STR && v->missing == SVY_MISS_NONE) {
            unsigned dg = (unsigned)(unsigned char)v->str[0] - '0';
            if (dg <= 1) {
                ys[o] = dg;
                valid[o] = 1;
                continue;
            }
        }
        int r = outcome_value(e, o, row, &ys[o], err);
        if (r < 0) {
            rc = SVY_E_DATA;
            break;
        }
        valid[o] = r;
        if (r && out[o].stat == SVY_STAT_SHARE) {
            levels[o] = level_get(e, o, &row->vals[out[o].col], err);
            if (levels[o] < 0)
                rc = SVY_E_NOMEM;
        }
    }
    if (rc == SVY_OK && e->queueing) {
        e->pend[e->npend].w = p.w;
        e->pend[e->npend].nrec = 0;
    }
    if (rc == SVY_OK) {
        long dom = row_domain(e, row, err);
        if (dom == -2)
            rc = SVY_E_NOMEM;
        else if (dom >= 0)
            rc = add_to_domain(e, dom, &p, ys, valid, levels, ysh, err);
        if (rc == SVY_OK && e->d.overall && e->nby > 0) {
            long od = overall_domain(e, row, err);
            rc = od < 0 ? SVY_E_NOMEM : add_to_domain(e, od, &p, ys, valid, levels, ysh, err);
        }
    }
    if (rc == SVY_OK && e->queueing && e->pend[e->npend].nrec && ++e->npend == PEND)
        rc = flush_pending(e, err);
    if (rc == SVY_OK && e->batch)
        rc = choose_queueing(e, err);
    if (levels != lv_s) {
        free(ys);
        free(ysh);
        free(valid);
        free(levels);
    }
    return rc;
}

/* Forget every estimate (the rows come again). */
static void reset_estimates(svy_est *e)
{
    layers_free(e);
    if (e->doms)
        for (size_t i = 0; i < e->cap_doms; i++)
            for (size_t l = 0; l < LAYERS_MAX; l++)
                free(e->doms[i].dix[l].idx);
    free(e->doms);
    e->doms = NULL;
    e->cap_doms = 0;
    e->dense_bytes = 0;
    svy_strtab_free(&e->dom_tab);
    svy_strtab_free(&e->domval_tab);
    memset(e->dom_cache, 0, sizeof e->dom_cache);
    e->ndpool = 0;
    e->overall_dom = -1;
    e->rows = 0;
    plan_layers(e);
}

svy_status svy_est_end_pass(svy_est *e, int *again, svy_err *err)
{
    *again = 0;
    SVY_FAIL_IF(!e->bound || e->finished || e->ended, err, SVY_E_USAGE,
                "svy_est_end_pass before bind, after the last pass or after finish");
    svy_status fs = flush_pending(e, err);
    if (fs)
        return fs;
    int was_estimating = e->dsn.estimating;
    svy_status st = svy_dsn_end_pass(&e->dsn, again, err);
    if (st)
        return st;
    if (*again) {
        if (was_estimating || e->dsn.repeat)
            reset_estimates(e);
        return SVY_OK;
    }
    e->ended = 1;
    return SVY_OK;
}

/* ------------------------------------------------------------ accessors */

size_t svy_est_count(const svy_est *e)
{
    return e->nres;
}

const svy_est_result *svy_est_get(const svy_est *e, size_t i)
{
    return i < e->nres ? &e->res[i] : NULL;
}

size_t svy_est_ndomains(const svy_est *e)
{
    return e->dom_tab.n;
}

size_t svy_est_nby(const svy_est *e)
{
    return e->nby;
}

const char *svy_est_by_name(const svy_est *e, size_t k)
{
    return k < e->nby ? e->by[k] : NULL;
}

int svy_est_domain_is_overall(const svy_est *e, size_t domain)
{
    return domain < e->dom_tab.n && e->doms[domain].overall;
}

const svy_value *svy_est_domain_value(const svy_est *e, size_t domain, size_t k)
{
    static _Thread_local svy_value v;
    if (domain >= e->dom_tab.n || k >= e->nby || e->doms[domain].overall)
        return NULL;
    size_t id = e->dom_vals[domain * e->nby + k];
    memset(&v, 0, sizeof v);
    v.str = svy_strtab_str(&e->domval_tab, id);
    v.len = e->domval_tab.ent[id].len;
    v.type = SVY_VAL_STR;
    if (e->domval_num[id]) {
        v.type = SVY_VAL_NUM;
        v.num = strtod(v.str, NULL);
    }
    return &v;
}

long long svy_est_rows(const svy_est *e)
{
    return e->dsn.rows_pass1 ? e->dsn.rows_pass1 : e->dsn.rows;
}

size_t svy_est_nstrata(const svy_est *e)
{
    return e->dsn.st[0].nstrata;
}

size_t svy_est_npsu(const svy_est *e)
{
    const svy_dstage *S = &e->dsn.st[0];
    if (S->id_col >= 0)
        return S->nunits;
    size_t n = 0;
    for (size_t h = 0; h < S->nstrata; h++)
        n += (size_t)S->strata[h].n;
    return n;
}

const svy_design *svy_est_design(const svy_est *e)
{
    return &e->d;
}

const svy_est_info *svy_est_info_get(const svy_est *e)
{
    return &e->info;
}
