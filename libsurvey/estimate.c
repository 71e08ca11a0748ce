/* Design-based domain estimates in one pass (see survey/estimate.h).
 *
 * What is kept, and why it is enough:
 *  - With PSUs: per (domain, PSU) and per outcome, Y = sum w*y, X = sum w and
 *    the count of valid rows.  The linearized PSU total of a ratio is
 *    (Y - R X) / X_domain, linear in R, so R can wait until the end.
 *  - Without PSUs (every row a PSU): per (domain, stratum) and outcome, the
 *    sums of a = w*y, b = w, a^2, a*b, b^2, which give sum z and sum z^2 over
 *    the stratum's rows for any R.  Rows of the stratum outside the domain
 *    have z = 0 and only count in n_h.
 *  - Per (domain, outcome): n, sum w, sum w*y, sum w*y^2 for the estimate and
 *    the SRS variance of the design effect.
 * Means are accumulated on y - c, c the first value seen, so that sums of
 * squares do not cancel when the mean is large against the spread.
 */
#include "svy_private.h"
#include "hashmap_private.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <survey/estimate.h>

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

/* ------------------------------------------------------------ quantiles */

double svy_qt(double p, double df)
{
    if (isnan(p) || isnan(df) || df <= 0)
        return NAN;
    if (isinf(df))
        return gsl_cdf_ugaussian_Pinv(p);
    return gsl_cdf_tdist_Pinv(p, df);
}

/* gsl_cdf_beta_Pinv gives up ("failed to converge") for shape parameters in
 * the thousands, which effective sample sizes reach: invert the regularized
 * incomplete beta by safeguarded Newton steps instead. */
double svy_qbeta(double p, double a, double b)
{
    if (isnan(p) || isnan(a) || isnan(b) || !(a > 0) || !(b > 0) || p < 0 || p > 1)
        return NAN;
    if (p == 0)
        return 0;
    if (p == 1)
        return 1;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    double lo = 0, hi = 1, x = a / (a + b);
    double lbeta = gsl_sf_lnbeta(a, b);
    for (int it = 0; it < 400; it++) {
        gsl_sf_result r;
        if (gsl_sf_beta_inc_e(a, b, x, &r) != GSL_SUCCESS) {
            x = NAN;
            break;
        }
        double F = r.val - p;
        if (F == 0)
            break;
        if (F < 0)
            lo = x;
        else
            hi = x;
        double lpdf = (a - 1) * log(x) + (b - 1) * log1p(-x) - lbeta;
        double xn = x - F / exp(lpdf);
        if (!(xn > lo && xn < hi))
            xn = 0.5 * (lo + hi);
        if (fabs(xn - x) <= 4e-16 * x || xn == lo || xn == hi) {
            x = xn;
            break;
        }
        x = xn;
    }
    gsl_set_error_handler(old);
    return x;
}

/* ---------------------------------------------------------------- state */

enum { OUT_BASE = 0 };

typedef struct outcome {
    svy_stat stat;
    char *column;
    char *value;      /* rate COL=VALUE: the text asked for */
    char *name;       /* display name */
    long col;         /* index in the schema */
    int match_num;    /* value compares as a number */
    double match;     /* the number (a code, or the code of a label) */
    int have_shift;
    double shift;     /* c in y - c for means */
    int plain;        /* a rate of a 0/1 column (no VALUE) */
} outcome;

/* A slot is one estimated quantity: an outcome, or a level of a share. */
typedef struct slot {
    size_t outcome;
    long level;       /* share: id in levels, else -1 */
} slot;

/* Per (domain, stratum). */
typedef struct dstrat {
    uint32_t domain, stratum;
    long long rows;   /* rows of the domain in the stratum */
    long long npsu;   /* PSUs of the stratum holding domain rows */
    size_t block;     /* element designs: NE doubles per outcome/level in pool */
} dstrat;

/* Per (domain, PSU), designs with PSUs. */
typedef struct cell {
    uint32_t domain, psu;
    size_t block;     /* NC doubles per outcome in pool */
    uint32_t ds;      /* its dstrat */
    long long rows;
} cell;

/* Per domain. */
typedef struct dominfo {
    size_t key_off;   /* by values in the domain arena */
    long long rows;
    long long first_row;
    int overall;
    size_t block;     /* ND doubles per outcome in dpool */
    long last_psu, last_cell; /* rows come grouped by PSU: the cell of the last one */
} dominfo;

/* Per stratum. */
typedef struct stratum {
    long long npsu;   /* design PSUs (rows when there are no PSUs) */
    long long rows;
    double fpc;       /* as given; NAN when none */
    long long fpc_row;
} stratum;

/* Doubles per outcome: cells (Y, X, m); element strata (m, a, b, aa, ab, bb);
 * domains (n, W, Y, Wyy). */
enum { NC = 3, NE = 6, ND = 4 };

/* Entries of each by variable's cache of short values, and of the cache
 * of domains. */
enum { BYC_BITS = 6, BYC = 1 << BYC_BITS, DOMC_BITS = 10, DOMC = 1 << DOMC_BITS };

/* Per (cell or dstrat, share level): the level's own sums. */
typedef struct lvlacc {
    double y;  /* cell: Y; element: a */
    double aa; /* element: a^2 (= a*b for an indicator) */
} lvlacc;

struct svy_est {
    svy_design d;
    char *strata_col, *psu_col, *weight_col, *fpc_col;
    char **by;
    size_t nby;
    long *by_idx;
    /* Each by variable's values get small ids (byval_tab, keyed by value
     * text), and a domain is keyed by its by variables' ids.  byval_cache
     * maps short text values straight to their ids: BYC entries per by
     * variable, direct-mapped. */
    svy_strtab *byval_tab;
    struct byc {
        uint64_t key; /* text of up to 7 bytes with its length; 0 = empty entry */
        uint32_t id;
    } *byval_cache;
    uint32_t *dom_key; /* nby ids: the key of the row's domain */
    /* Up to four by ids below 2^16 packed in one word, direct-mapped to
     * their domain: most rows skip the domain table. */
    struct domc {
        uint64_t key;
        uint32_t dom1; /* domain + 1; 0 = empty entry */
    } dom_cache[DOMC];
    long strata_idx, psu_idx, weight_idx, fpc_idx;
    const svy_schema *schema;

    outcome *out;
    size_t nout, capout;
    int bound, finished;
    int any_share; /* an outcome is a share: levels to count per row */

    svy_strtab strata_tab, psu_tab, dom_tab, lvl_tab;
    stratum *strata;
    size_t cap_strata;
    uint32_t *psu_stratum;
    size_t cap_psu;
    dominfo *doms;
    size_t cap_doms;
    /* by values of the domains: type byte + text, one after the other */
    svy_strtab domval_tab;
    size_t *dom_vals; /* nby ids per domain into domval_tab */
    size_t cap_dom_vals;
    unsigned char *domval_num;
    size_t cap_domval_num;

    dstrat *ds;
    size_t nds, capds;
    svy_u64map ds_map;
    cell *cells;
    size_t ncells, capcells;
    svy_u64map cell_map;
    double *pool;
    size_t npool, cappool;
    double *dpool;
    size_t ndpool, capdpool;

    /* share levels: lvl_tab keys are "outcome index \0 text" */
    long *lvl_outcome;
    size_t cap_lvl_outcome;
    svy_u64map lvl_map; /* (cell or dstrat index, level) -> lvlacc */
    lvlacc *lacc;
    size_t nlacc, caplacc;
    svy_u64map dlvl_map; /* (domain, level) -> dlacc (Y) */
    double *dlacc;
    size_t ndlacc, capdlacc;

    long long rows;
    long overall_dom;

    /* fast paths: rows come grouped by stratum and PSU */
    long last_stratum, last_psu;
    char *last_skey, *last_pkey;
    size_t last_slen, last_plen, cap_skey, cap_pkey;
    char *keybuf;
    size_t capkey;
    double fpc_min, fpc_max;
    long long fpc_row_big, fpc_row_small;

    svy_est_result *res;
    size_t nres, capres;
    char **names; /* display names of share levels, owned */
    size_t nnames, capnames;
};

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
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
    e->strata_idx = e->psu_idx = e->weight_idx = e->fpc_idx = -1;
    e->last_stratum = e->last_psu = -1;
    e->overall_dom = -1;
    e->fpc_min = INFINITY;
    e->fpc_max = -INFINITY;
    int ok = 1;
#define DUP(field, src)                                                                                    \
    if (src) {                                                                                             \
        e->field = svy_strdup(src);                                                                        \
        ok &= e->field != NULL;                                                                            \
    }
    DUP(strata_col, d->strata)
    DUP(psu_col, d->psu)
    DUP(weight_col, d->weight)
    DUP(fpc_col, d->fpc)
#undef DUP
    e->d.strata = e->strata_col;
    e->d.psu = e->psu_col;
    e->d.weight = e->weight_col;
    e->d.fpc = e->fpc_col;
    e->nby = nby;
    e->by = calloc(nby ? nby : 1, sizeof *e->by);
    e->by_idx = calloc(nby ? nby : 1, sizeof *e->by_idx);
    e->byval_tab = calloc(nby ? nby : 1, sizeof *e->byval_tab);
    e->byval_cache = calloc((nby ? nby : 1) * BYC, sizeof *e->byval_cache);
    e->dom_key = calloc(nby ? nby : 1, sizeof *e->dom_key);
    ok &= e->by && e->by_idx && e->byval_tab && e->byval_cache && e->dom_key;
    for (size_t k = 0; ok && k < nby; k++) {
        e->by[k] = svy_strdup(by[k]);
        ok &= e->by[k] != NULL;
    }
    if (!ok) {
        svy_est_free(e);
        nomem(err);
        return NULL;
    }
    return e;
}

void svy_est_free(svy_est *e)
{
    if (!e)
        return;
    free(e->strata_col);
    free(e->psu_col);
    free(e->weight_col);
    free(e->fpc_col);
    for (size_t k = 0; k < e->nby; k++)
        free(e->by[k]);
    free(e->by);
    free(e->by_idx);
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
    svy_strtab_free(&e->strata_tab);
    svy_strtab_free(&e->psu_tab);
    svy_strtab_free(&e->dom_tab);
    svy_strtab_free(&e->lvl_tab);
    svy_strtab_free(&e->domval_tab);
    free(e->strata);
    free(e->psu_stratum);
    free(e->doms);
    free(e->dom_vals);
    free(e->domval_num);
    free(e->ds);
    svy_u64map_free(&e->ds_map);
    free(e->cells);
    svy_u64map_free(&e->cell_map);
    free(e->pool);
    free(e->dpool);
    free(e->lvl_outcome);
    svy_u64map_free(&e->lvl_map);
    free(e->lacc);
    svy_u64map_free(&e->dlvl_map);
    free(e->dlacc);
    free(e->last_skey);
    free(e->last_pkey);
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

svy_status svy_est_bind(svy_est *e, const svy_schema *schema, svy_err *err)
{
    SVY_FAIL_IF(e->nout == 0, err, SVY_E_USAGE, "nothing to estimate: give at least one outcome");
    e->schema = schema;
    if (e->strata_col && (e->strata_idx = find_col(schema, e->strata_col, "strata", err)) < 0)
        return SVY_E_USAGE;
    if (e->psu_col && (e->psu_idx = find_col(schema, e->psu_col, "PSU", err)) < 0)
        return SVY_E_USAGE;
    if (e->weight_col && (e->weight_idx = find_col(schema, e->weight_col, "weight", err)) < 0)
        return SVY_E_USAGE;
    if (e->fpc_col && (e->fpc_idx = find_col(schema, e->fpc_col, "fpc", err)) < 0)
        return SVY_E_USAGE;
    for (size_t k = 0; k < e->nby; k++)
        if ((e->by_idx[k] = find_col(schema, e->by[k], "by", err)) < 0)
            return SVY_E_USAGE;
    for (size_t i = 0; i < e->nout; i++) {
        outcome *o = &e->out[i];
        if ((o->col = find_col(schema, o->column, "outcome", err)) < 0)
            return SVY_E_USAGE;
        if (o->value) {
            const svy_var *v = svy_schema_var(schema, (size_t)o->col);
            double code;
            if (svy_parse_number(o->value, (size_t)-1, &code)) {
                o->match_num = 1;
                o->match = code;
            } else if (svy_var_type_of(v) != SVY_VAR_STRING && svy_var_code_for(v, o->value, &code)) {
                o->match_num = 1;
                o->match = code;
            }
        }
    }
    for (size_t i = 0; i < e->nout; i++) {
        e->any_share |= e->out[i].stat == SVY_STAT_SHARE;
        e->out[i].plain = e->out[i].stat == SVY_STAT_RATE && !e->out[i].value;
    }
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
    size_t n = 0;
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
    if (e->strata_col)
        PUT(e->strata_col);
    if (e->psu_col)
        PUT(e->psu_col);
    if (e->weight_col)
        PUT(e->weight_col);
    if (e->fpc_col)
        PUT(e->fpc_col);
    for (size_t k = 0; k < e->nby; k++)
        PUT(e->by[k]);
    for (size_t i = 0; i < e->nout; i++)
        PUT(e->out[i].column);
#undef PUT
    return n;
}

/* ------------------------------------------------------------- per row */

/* Text of a value for use as a key: the text itself, or the shortest
 * round-trip decimal of a number. */
static const char *value_key(const svy_value *v, char *buf, size_t *len)
{
    if (v->type == SVY_VAL_STR) {
        *len = v->len;
        return v->str;
    }
    *len = svy_dtoa(v->num, buf);
    return buf;
}

static inline svy_status key_grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return SVY_OK;
    return svy_grow((void **)buf, cap, need, 1) ? SVY_OK : SVY_E_NOMEM;
}

static long new_domain(svy_est *e, const svy_row *row, int overall, svy_err *err)
{
    size_t id = e->dom_tab.n - 1; /* already interned by the caller */
    if (!svy_grow((void **)&e->doms, &e->cap_doms, id + 1, sizeof *e->doms))
        return nomem(err), -1;
    dominfo *d = &e->doms[id];
    memset(d, 0, sizeof *d);
    d->last_psu = -1;
    d->overall = overall;
    d->first_row = row->index;
    d->block = e->ndpool;
    size_t need = e->ndpool + ND * e->nout;
    if (!svy_grow((void **)&e->dpool, &e->capdpool, need, sizeof *e->dpool))
        return nomem(err), -1;
    memset(e->dpool + e->ndpool, 0, ND * e->nout * sizeof *e->dpool);
    e->ndpool = need;
    if (!svy_grow((void **)&e->dom_vals, &e->cap_dom_vals, (id + 1) * (e->nby ? e->nby : 1), sizeof *e->dom_vals))
        return nomem(err), -1;
    for (size_t k = 0; k < e->nby; k++) {
        size_t idx = id * e->nby + k;
        if (overall) {
            e->dom_vals[idx] = (size_t)-1;
            continue;
        }
        const svy_value *v = &row->vals[e->by_idx[k]];
        char nb[SVY_DTOA_MAX];
        size_t len;
        const char *s = value_key(v, nb, &len);
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

/* The id of by variable k's value v, -1 when memory ran out.  Values are
 * the same when their key texts are (value_key), whatever their type. */
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
    const char *s = value_key(v, nb, &len);
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

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static svy_status fail_row(svy_est *e, const svy_row *row, long col, svy_err *err, const char *fmt, ...)
{
    const char *name = col >= 0 ? svy_var_name(svy_schema_var(e->schema, (size_t)col)) : NULL;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return svy_err_set(err, SVY_E_DATA, NULL, row->index, col >= 0 ? col + 1 : 0, name, "%s", msg);
}

static const char *value_text(const svy_value *v, char *buf)
{
    if (v->type == SVY_VAL_STR)
        return v->str;
    svy_dtoa(v->num, buf);
    return buf;
}

static long dstrat_get(svy_est *e, uint32_t dom, uint32_t st, svy_err *err)
{
    int added;
    long i = svy_u64map_get(&e->ds_map, ((uint64_t)dom << 32) | st, e->nds, &added);
    if (i < 0)
        return nomem(err), -1;
    if (added) {
        if (!svy_grow((void **)&e->ds, &e->capds, e->nds + 1, sizeof *e->ds))
            return nomem(err), -1;
        dstrat *d = &e->ds[e->nds++];
        memset(d, 0, sizeof *d);
        d->domain = dom;
        d->stratum = st;
        if (e->psu_idx < 0) {
            d->block = e->npool;
            size_t need = e->npool + NE * e->nout;
            if (!svy_grow((void **)&e->pool, &e->cappool, need, sizeof *e->pool))
                return nomem(err), -1;
            memset(e->pool + e->npool, 0, NE * e->nout * sizeof *e->pool);
            e->npool = need;
        }
    }
    return i;
}

static long cell_get(svy_est *e, uint32_t dom, uint32_t psu, uint32_t st, svy_err *err)
{
    int added;
    long i = svy_u64map_get(&e->cell_map, ((uint64_t)dom << 32) | psu, e->ncells, &added);
    if (i < 0)
        return nomem(err), -1;
    if (added) {
        if (!svy_grow((void **)&e->cells, &e->capcells, e->ncells + 1, sizeof *e->cells))
            return nomem(err), -1;
        cell *c = &e->cells[e->ncells++];
        c->domain = dom;
        c->psu = psu;
        c->block = e->npool;
        size_t need = e->npool + NC * e->nout;
        if (!svy_grow((void **)&e->pool, &e->cappool, need, sizeof *e->pool))
            return nomem(err), -1;
        memset(e->pool + e->npool, 0, NC * e->nout * sizeof *e->pool);
        e->npool = need;
        long ds = dstrat_get(e, dom, st, err);
        if (ds < 0)
            return -1;
        e->ds[ds].npsu++;
        e->cells[i].ds = (uint32_t)ds;
        e->cells[i].rows = 0;
    }
    return i;
}

static long level_get(svy_est *e, size_t o, const svy_value *v, svy_err *err)
{
    char nb[SVY_DTOA_MAX];
    size_t len;
    const char *s = value_key(v, nb, &len);
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

static lvlacc *lvl_acc(svy_est *e, size_t owner, long level, svy_err *err)
{
    int added;
    long i = svy_u64map_get(&e->lvl_map, ((uint64_t)owner << 32) | (uint64_t)level, e->nlacc, &added);
    if (i < 0)
        return nomem(err), NULL;
    if (added) {
        if (!svy_grow((void **)&e->lacc, &e->caplacc, e->nlacc + 1, sizeof *e->lacc))
            return nomem(err), NULL;
        memset(&e->lacc[e->nlacc++], 0, sizeof *e->lacc);
    }
    return &e->lacc[i];
}

static double *dlvl_acc(svy_est *e, size_t dom, long level, svy_err *err)
{
    int added;
    long i = svy_u64map_get(&e->dlvl_map, ((uint64_t)dom << 32) | (uint64_t)level, e->ndlacc, &added);
    if (i < 0)
        return nomem(err), NULL;
    if (added) {
        if (!svy_grow((void **)&e->dlacc, &e->capdlacc, e->ndlacc + 1, sizeof *e->dlacc))
            return nomem(err), NULL;
        e->dlacc[e->ndlacc++] = 0;
    }
    return &e->dlacc[i];
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
                const char *s = value_key(v, nb, &len);
                *y = len == strlen(oc->value) && memcmp(s, oc->value, len) == 0;
            }
            return 1;
        }
        if (!number_of(v, y) || (*y != 0 && *y != 1)) {
            fail_row(e, row, oc->col, err, "column %s holds '%s', but a rate needs 0 or 1 (use --rate COL=VALUE for a code)",
                     oc->column, value_text(v, nb));
            return -1;
        }
        return 1;
    case SVY_STAT_MEAN:
    case SVY_STAT_TOTAL:
        if (!number_of(v, y) || !isfinite(*y)) {
            fail_row(e, row, oc->col, err, "column %s holds '%s', which is not a number", oc->column, value_text(v, nb));
            return -1;
        }
        return 1;
    case SVY_STAT_SHARE:
        *y = 1;
        return 1;
    }
    return 0;
}

/* Add one row to one domain.  valid[] is int, not char, so that its
 * stores cannot alias the estimator's fields for the compiler. */
static svy_status add_to_domain(svy_est *e, long dom, uint32_t st, long psu, double w, const double *ys,
                                const int *valid, const long *levels, svy_err *err)
{
    dominfo *d = &e->doms[dom];
    d->rows++;
    double *dp = e->dpool + d->block;
    const size_t nout = e->nout;
    size_t owner;
    if (psu >= 0) {
        long ci = d->last_psu == psu ? d->last_cell : cell_get(e, (uint32_t)dom, (uint32_t)psu, st, err);
        if (ci < 0)
            return SVY_E_NOMEM;
        d->last_psu = psu;
        d->last_cell = ci;
        owner = (size_t)ci;
        e->cells[ci].rows++;
        double *acc = e->pool + e->cells[ci].block;
        for (size_t o = 0; o < nout; o++) {
            if (!valid[o])
                continue;
            double y = ys[o], wy = w * y;
            double *dq = dp + ND * o;
            dq[0] += 1;
            dq[1] += w;
            dq[2] += wy;
            dq[3] += wy * y;
            double *c = acc + NC * o;
            c[0] += wy;
            c[1] += w;
            c[2] += 1;
        }
    } else {
        long dsi = dstrat_get(e, (uint32_t)dom, st, err);
        if (dsi < 0)
            return SVY_E_NOMEM;
        e->ds[dsi].rows++;
        e->ds[dsi].npsu++; /* every row is a PSU */
        owner = (size_t)dsi;
        double *acc = e->pool + e->ds[dsi].block;
        for (size_t o = 0; o < nout; o++) {
            if (!valid[o])
                continue;
            double y = ys[o], a = w * y;
            double *dq = dp + ND * o;
            dq[0] += 1;
            dq[1] += w;
            dq[2] += a;
            dq[3] += a * y;
            double *c = acc + NE * o;
            c[0] += 1;
            c[1] += a;
            c[2] += w;
            c[3] += a * a;
            c[4] += a * w;
            c[5] += w * w;
        }
    }
    if (e->any_share) {
        for (size_t o = 0; o < nout; o++) {
            if (!valid[o] || e->out[o].stat != SVY_STAT_SHARE)
                continue;
            lvlacc *la = lvl_acc(e, owner, levels[o], err);
            double *dl = la ? dlvl_acc(e, (size_t)dom, levels[o], err) : NULL;
            if (!dl)
                return SVY_E_NOMEM;
            la->y += w;
            la->aa += w * w;
            *dl += w;
        }
    }
    return SVY_OK;
}

svy_status svy_est_push(svy_est *e, const svy_row *row, svy_err *err)
{
    SVY_FAIL_IF(!e->bound || e->finished, err, SVY_E_USAGE, "svy_est_push before bind or after finish");
    e->rows++;
    char nb[SVY_DTOA_MAX];

    double w = 1;
    if (e->weight_idx >= 0) {
        const svy_value *v = &row->vals[e->weight_idx];
        if (svy_value_is_missing(v))
            return fail_row(e, row, e->weight_idx, err, "weight %s is missing", e->weight_col);
        if (!number_of(v, &w) || !isfinite(w))
            return fail_row(e, row, e->weight_idx, err, "weight %s holds '%s', which is not a number",
                            e->weight_col, value_text(v, nb));
        if (!(w > 0))
            return fail_row(e, row, e->weight_idx, err, "weight %s is %s: weights must be positive",
                            e->weight_col, value_text(v, nb));
    }

    /* stratum */
    long st;
    if (e->strata_idx >= 0) {
        const svy_value *v = &row->vals[e->strata_idx];
        if (svy_value_is_missing(v))
            return fail_row(e, row, e->strata_idx, err, "stratum %s is missing", e->strata_col);
        size_t len;
        const char *s = value_key(v, nb, &len);
        if (e->last_stratum >= 0 && len == e->last_slen && memcmp(s, e->last_skey, len) == 0)
            st = e->last_stratum;
        else {
            int added;
            st = svy_strtab_intern(&e->strata_tab, s, len, &added);
            if (st < 0 || key_grow(&e->last_skey, &e->cap_skey, len + 1))
                return nomem(err);
            if (added) {
                if (!svy_grow((void **)&e->strata, &e->cap_strata, (size_t)st + 1, sizeof *e->strata))
                    return nomem(err);
                memset(&e->strata[st], 0, sizeof *e->strata);
                e->strata[st].fpc = NAN;
            }
            memcpy(e->last_skey, s, len);
            e->last_slen = len;
            e->last_stratum = st;
            e->last_psu = -1; /* a PSU belongs to one stratum */
        }
    } else {
        st = 0;
        if (e->strata_tab.n == 0) {
            int added;
            if (svy_strtab_intern(&e->strata_tab, "", 0, &added) < 0 ||
                !svy_grow((void **)&e->strata, &e->cap_strata, 1, sizeof *e->strata))
                return nomem(err);
            memset(&e->strata[0], 0, sizeof *e->strata);
            e->strata[0].fpc = NAN;
        }
    }
    stratum *S = &e->strata[st];
    S->rows++;

    /* fpc */
    if (e->fpc_idx >= 0) {
        const svy_value *v = &row->vals[e->fpc_idx];
        double f;
        if (svy_value_is_missing(v))
            return fail_row(e, row, e->fpc_idx, err, "fpc %s is missing", e->fpc_col);
        if (!svy_value_number(v, &f) || !(f > 0) || !isfinite(f))
            return fail_row(e, row, e->fpc_idx, err,
                            "fpc %s holds '%s': it must be a positive number (population PSUs, or a fraction)",
                            e->fpc_col, value_text(v, nb));
        if (isnan(S->fpc)) {
            S->fpc = f;
            S->fpc_row = row->index;
        } else if (S->fpc != f) {
            return fail_row(e, row, e->fpc_idx, err, "fpc %s is %s here, but differs earlier in the same stratum",
                            e->fpc_col, value_text(v, nb));
        }
        if (f < e->fpc_min) {
            e->fpc_min = f;
            if (f < 1)
                e->fpc_row_small = row->index;
        }
        if (f > e->fpc_max) {
            e->fpc_max = f;
            if (f > 1)
                e->fpc_row_big = row->index;
        }
    }

    /* PSU */
    long psu = -1;
    if (e->psu_idx >= 0) {
        const svy_value *v = &row->vals[e->psu_idx];
        if (svy_value_is_missing(v))
            return fail_row(e, row, e->psu_idx, err, "PSU %s is missing", e->psu_col);
        size_t len;
        const char *s = value_key(v, nb, &len);
        if (e->last_psu >= 0 && len == e->last_plen && memcmp(s, e->last_pkey, len) == 0)
            psu = e->last_psu;
        else {
            /* PSUs are nested in strata: the key carries the stratum. */
            if (key_grow(&e->keybuf, &e->capkey, len + 8))
                return nomem(err);
            uint32_t st32 = (uint32_t)st;
            memcpy(e->keybuf, &st32, 4);
            memcpy(e->keybuf + 4, s, len);
            int added;
            psu = svy_strtab_intern(&e->psu_tab, e->keybuf, len + 4, &added);
            if (psu < 0 || key_grow(&e->last_pkey, &e->cap_pkey, len + 1))
                return nomem(err);
            if (added) {
                if (!svy_grow((void **)&e->psu_stratum, &e->cap_psu, (size_t)psu + 1, sizeof *e->psu_stratum))
                    return nomem(err);
                e->psu_stratum[psu] = (uint32_t)st;
                S->npsu++;
            }
            memcpy(e->last_pkey, s, len);
            e->last_plen = len;
            e->last_psu = psu;
        }
    } else {
        S->npsu++;
    }

    /* outcomes */
    enum { SMALL = 32 };
    double ys_s[SMALL];
    int valid_s[SMALL];
    long lv_s[SMALL];
    double *ys = ys_s;
    int *valid = valid_s;
    long *levels = lv_s;
    if (e->nout > SMALL) {
        ys = malloc(e->nout * sizeof *ys);
        valid = malloc(e->nout * sizeof *valid);
        levels = malloc(e->nout * sizeof *levels);
        if (!ys || !valid || !levels) {
            free(ys);
            free(valid);
            free(levels);
            return nomem(err);
        }
    }
    svy_status rc = SVY_OK;
    /* Loop invariants in locals: the stores to ys[] and levels[] could
     * alias the estimator's fields, and the compiler would reload them. */
    const size_t nout = e->nout;
    const outcome *out = e->out;
    const svy_value *vals = row->vals;
    for (size_t o = 0; o < nout && rc == SVY_OK; o++) {
        const svy_value *v = &vals[out[o].col];
        /* the common case, a 0/1 rate cell of one character */
        if (out[o].plain && v->len == 1 && v->type == SVY_VAL_STR && v->missing == SVY_MISS_NONE) {
            unsigned d = (unsigned)(unsigned char)v->str[0] - '0';
            if (d <= 1) {
                ys[o] = d;
                valid[o] = 1;
                levels[o] = -1;
                continue;
            }
        }
        int r = outcome_value(e, o, row, &ys[o], err);
        if (r < 0) {
            rc = SVY_E_DATA;
            break;
        }
        valid[o] = r;
        levels[o] = -1;
        if (r && e->out[o].stat == SVY_STAT_SHARE) {
            levels[o] = level_get(e, o, &row->vals[e->out[o].col], err);
            if (levels[o] < 0)
                rc = SVY_E_NOMEM;
        }
        if (r && e->out[o].stat == SVY_STAT_MEAN) {
            if (!e->out[o].have_shift) {
                e->out[o].have_shift = 1;
                e->out[o].shift = ys[o];
            }
            ys[o] -= e->out[o].shift;
        }
    }
    if (rc == SVY_OK) {
        long dom = row_domain(e, row, err);
        if (dom == -2)
            rc = SVY_E_NOMEM;
        else if (dom >= 0)
            rc = add_to_domain(e, dom, (uint32_t)st, psu, w, ys, valid, levels, err);
        if (rc == SVY_OK && e->d.overall && e->nby > 0) {
            long od = overall_domain(e, row, err);
            rc = od < 0 ? SVY_E_NOMEM : add_to_domain(e, od, (uint32_t)st, psu, w, ys, valid, levels, err);
        }
    }
    if (ys != ys_s) {
        free(ys);
        free(valid);
        free(levels);
    }
    return rc;
}

/* -------------------------------------------------------------- finish */

/* Sort keys for domains: each by value numerically when both are numbers,
 * else as bytes, so that 2 < 10 as R orders numeric levels. */
static const svy_est *sort_est;

static int cmp_text(const char *a, const char *b)
{
    double x, y;
    if (svy_parse_number(a, (size_t)-1, &x) && svy_parse_number(b, (size_t)-1, &y)) {
        if (x < y)
            return -1;
        if (x > y)
            return 1;
    }
    return strcmp(a, b);
}

static int cmp_domain(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    const svy_est *e = sort_est;
    int oa = e->doms[a].overall, ob = e->doms[b].overall;
    if (oa != ob)
        return oa - ob; /* the overall row last */
    for (size_t k = 0; k < e->nby; k++) {
        int c = cmp_text(svy_strtab_str(&e->domval_tab, e->dom_vals[a * e->nby + k]),
                         svy_strtab_str(&e->domval_tab, e->dom_vals[b * e->nby + k]));
        if (c)
            return c;
    }
    return 0;
}

static int cmp_level(const void *pa, const void *pb)
{
    long a = *(const long *)pa, b = *(const long *)pb;
    const svy_est *e = sort_est;
    const char *sa = svy_strtab_str(&e->lvl_tab, (size_t)a);
    const char *sb = svy_strtab_str(&e->lvl_tab, (size_t)b);
    return cmp_text(sa + strlen(sa) + 1, sb + strlen(sb) + 1);
}

static int cmp_cell(const void *pa, const void *pb)
{
    const cell *a = pa, *b = pb;
    const svy_est *e = sort_est;
    if (a->domain != b->domain)
        return a->domain < b->domain ? -1 : 1;
    uint32_t sa = e->psu_stratum[a->psu], sb = e->psu_stratum[b->psu];
    if (sa != sb)
        return sa < sb ? -1 : 1;
    return a->psu < b->psu ? -1 : a->psu > b->psu;
}

static int cmp_ds(const void *pa, const void *pb)
{
    const dstrat *a = pa, *b = pb;
    if (a->domain != b->domain)
        return a->domain < b->domain ? -1 : 1;
    return a->stratum < b->stratum ? -1 : a->stratum > b->stratum;
}

/* Sorts base[0..n-1] and returns where each element went (inv[old] = new),
 * or NULL when out of memory with base unsorted.  Each element is sorted
 * with its old index behind it, so cmp sees the element as it is. */
static size_t *sort_tracked(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    const size_t align = _Alignof(max_align_t);
    size_t tag = (size + sizeof(size_t) - 1) / sizeof(size_t) * sizeof(size_t);
    size_t stride = (tag + sizeof(size_t) + align - 1) / align * align;
    unsigned char *tg = svy_calloc(n, stride);
    size_t *inv = svy_calloc(n, sizeof *inv);
    if (!tg || !inv) {
        free(tg);
        free(inv);
        return NULL;
    }
    unsigned char *b = base;
    for (size_t i = 0; i < n; i++) {
        memcpy(tg + i * stride, b + i * size, size);
        memcpy(tg + i * stride + tag, &i, sizeof i);
    }
    qsort(tg, n, stride, cmp);
    for (size_t i = 0; i < n; i++) {
        size_t old;
        memcpy(b + i * size, tg + i * stride, size);
        memcpy(&old, tg + i * stride + tag, sizeof old);
        inv[old] = i;
    }
    free(tg);
    return inv;
}

/* Moves the level sums' keys (owner << 32 | level) to the owners' new
 * places.  0, or -1 when out of memory with the map unchanged. */
static int rekey_levels(svy_est *e, const size_t *inv)
{
    if (!e->lvl_map.n)
        return 0;
    svy_u64map nm = {0};
    for (size_t i = 0; i < e->lvl_map.nslots; i++) {
        if (!e->lvl_map.vals[i])
            continue;
        uint64_t k = e->lvl_map.keys[i];
        uint64_t nk = ((uint64_t)inv[k >> 32] << 32) | (k & 0xffffffffu);
        int added;
        if (svy_u64map_get(&nm, nk, e->lvl_map.vals[i] - 1, &added) < 0) {
            svy_u64map_free(&nm);
            return -1;
        }
    }
    svy_u64map_free(&e->lvl_map);
    e->lvl_map = nm;
    return 0;
}

/* R's f: 1 - n_h/N_h, 1 without an fpc. */
static double stratum_f(const svy_est *e, const stratum *S, int fraction)
{
    if (isnan(S->fpc))
        return 1;
    double N = fraction ? (double)S->npsu / S->fpc : S->fpc;
    return (N - (double)S->npsu) / N;
}

/* Where one (domain, quantity) gets its sums, per stratum. */
typedef struct qsrc {
    size_t o;     /* outcome */
    long level;   /* share level or -1 */
} qsrc;

/* z of PSU cell k (see domain_variance); 0 when the cell has no valid row
 * of the outcome, which then counts as absent rather than as z = 0.  Inline:
 * as a call it cost svy-tab 0.07% more instructions on bench/tab.sh's 1M rows. */
static inline int cell_z(const svy_est *e, size_t k, qsrc q, double R, double Xd, int total, double *z)
{
    const double *c = e->pool + e->cells[k].block + NC * q.o;
    if (c[2] == 0)
        return 0;
    double Y = c[0];
    if (q.level >= 0) {
        long li = svy_u64map_find(&e->lvl_map, ((uint64_t)k << 32) | (uint64_t)q.level);
        Y = li < 0 ? 0 : e->lacc[li].y;
    }
    *z = total ? Y : (Y - R * c[1]) / Xd;
    return 1;
}

/* Variance of one estimate (see the header comment for the formula).  For a
 * ratio z = (Y - R X)/Xd; for a total z = Y.  Returns NAN when no stratum
 * is left (lonely "average" with only lonely strata). */
static svy_status domain_variance(svy_est *e, size_t dom, qsrc q, double R, double Xd, int total,
                                  size_t cfirst, size_t clast, size_t dfirst, size_t dlast, int fraction,
                                  double *var, svy_err *err)
{
    double sum = 0;
    long nstrat = 0, nok = 0;
    int has_psu = e->psu_idx >= 0;
    size_t ci = cfirst;
    for (size_t di = dfirst; di < dlast; di++) {
        const dstrat *D = &e->ds[di];
        const stratum *S = &e->strata[D->stratum];
        double nh = (double)S->npsu;
        /* z over the domain's PSUs in this stratum: m PSUs with valid rows */
        double zs = 0, zz = 0; /* sum z, sum z^2 over present PSUs */
        double m = 0;
        size_t c0 = ci;
        if (has_psu) {
            while (ci < clast && e->psu_stratum[e->cells[ci].psu] == D->stratum)
                ci++;
            for (size_t k = c0; k < ci; k++) {
                double z;
                if (!cell_z(e, k, q, R, Xd, total, &z))
                    continue;
                zs += z;
                m += 1;
            }
        } else {
            const double *c = e->pool + D->block + NE * q.o;
            m = c[0];
        }
        if (m == 0)
            continue; /* no valid row of the domain here: R never sees the stratum */
        nstrat++;
        double f = stratum_f(e, S, fraction);
        if (f < 1e-7) {
            nok++;
            continue;
        }
        double ss; /* sum over all n_h PSUs of (z - zbar)^2 */
        double zbar;
        if (has_psu) {
            zbar = zs / nh;
            ss = 0;
            for (size_t k = c0; k < ci; k++) {
                double z;
                if (!cell_z(e, k, q, R, Xd, total, &z))
                    continue;
                ss += (z - zbar) * (z - zbar);
                zz += z * z;
            }
            ss += (nh - m) * zbar * zbar;
        } else {
            const double *c = e->pool + D->block + NE * q.o;
            double a = c[1], aa = c[3], ab = c[4];
            if (q.level >= 0) {
                long li = svy_u64map_find(&e->lvl_map, ((uint64_t)di << 32) | (uint64_t)q.level);
                a = li < 0 ? 0 : e->lacc[li].y;
                aa = ab = li < 0 ? 0 : e->lacc[li].aa;
            }
            double b = c[2], bb = c[5];
            if (total) {
                zs = a;
                zz = aa;
            } else {
                zs = (a - R * b) / Xd;
                zz = (aa - 2 * R * ab + R * R * bb) / (Xd * Xd);
            }
            zbar = zs / nh;
            ss = zz - zs * zbar;
            if (ss < 0)
                ss = 0;
        }
        if (nh > 1) {
            sum += f * nh / (nh - 1) * ss;
            nok++;
            continue;
        }
        switch (e->d.lonely) {
        case SVY_LONELY_FAIL: {
            char nb[64];
            snprintf(nb, sizeof nb, "%s", svy_strtab_str(&e->strata_tab, D->stratum));
            return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, e->strata_col,
                               "stratum '%s' of column %s has a single PSU: choose --lonely "
                               "remove|certainty|adjust|average (R's survey.lonely.psu)",
                               nb, e->strata_col ? e->strata_col : "(none)");
        }
        case SVY_LONELY_REMOVE:
        case SVY_LONELY_CERTAINTY:
            nok++;
            break;
        case SVY_LONELY_ADJUST:
            sum += f * zz; /* R leaves the lone PSU uncentred */
            nok++;
            break;
        case SVY_LONELY_AVERAGE:
            break;
        }
    }
    (void)dom;
    if (nok == 0)
        *var = NAN;
    else
        *var = sum * (double)nstrat / (double)nok;
    return SVY_OK;
}

static void nchs_flags(svy_est_result *r, double level, long long nrows)
{
    /* Parker et al. (2017): Korn-Graubard interval whatever --ci says; n_eff
     * capped at n, and n itself when p is 0 or 1. */
    double p = r->estimate, n = (double)r->n;
    double alpha = 1 - level;
    double neff;
    if (p <= 0 || p >= 1 || !(r->se > 0))
        neff = n;
    else {
        neff = p * (1 - p) / (r->se * r->se);
        double ratio = svy_qt(alpha / 2, (double)nrows - 1) / svy_qt(alpha / 2, r->df);
        if (isfinite(ratio))
            neff *= ratio * ratio;
        if (neff > n)
            neff = n;
    }
    double lo = p <= 0 ? 0 : svy_qbeta(alpha / 2, neff * p, neff * (1 - p) + 1);
    double hi = p >= 1 ? 1 : svy_qbeta(1 - alpha / 2, neff * p + 1, neff * (1 - p));
    double width = hi - lo;
    unsigned fl = 0;
    if (n < 30 || !(neff >= 30) || !(width < 0.30))
        fl |= SVY_FLAG_SUPPRESS;
    else if (width > 0.05 && (p <= 0 || width / p > 1.30))
        fl |= SVY_FLAG_SUPPRESS;
    if (!(r->df >= 8))
        fl |= SVY_FLAG_REVIEW;
    r->flags = fl;
}

static void rate_ci(const svy_est *e, svy_est_result *r, long long nrows)
{
    double p = r->estimate, se = r->se, df = r->df;
    double alpha = 1 - e->d.level;
    double t = svy_qt(1 - alpha / 2, df);
    r->ci_low = r->ci_high = NAN;
    if (isnan(se))
        return;
    switch (e->d.ci) {
    case SVY_CI_WALD:
        r->ci_low = p - t * se;
        r->ci_high = p + t * se;
        break;
    case SVY_CI_LOGIT:
        if (p > 0 && p < 1 && se > 0) {
            double L = log(p / (1 - p)), sL = se / (p * (1 - p));
            r->ci_low = 1 / (1 + exp(-(L - t * sL)));
            r->ci_high = 1 / (1 + exp(-(L + t * sL)));
        }
        break;
    case SVY_CI_BETA:
        if (p > 0 && p < 1 && se > 0) {
            double neff = p * (1 - p) / (se * se);
            double ratio = svy_qt(alpha / 2, (double)nrows - 1) / svy_qt(alpha / 2, df);
            neff *= ratio * ratio;
            r->ci_low = svy_qbeta(alpha / 2, neff * p, neff * (1 - p) + 1);
            r->ci_high = svy_qbeta(1 - alpha / 2, neff * p + 1, neff * (1 - p));
        }
        break;
    case SVY_CI_WILSON:
        if (p > 0 && p < 1 && se > 0) {
            double neff = p * (1 - p) / (se * se);
            double t2 = t * t;
            double ctr = (p + t2 / (2 * neff)) / (1 + t2 / neff);
            double hw = t / (1 + t2 / neff) * sqrt(p * (1 - p) / neff + t2 / (4 * neff * neff));
            r->ci_low = ctr - hw;
            r->ci_high = ctr + hw;
        }
        break;
    }
}

static svy_status add_result(svy_est *e, svy_est_result **out, svy_err *err)
{
    if (!svy_grow((void **)&e->res, &e->capres, e->nres + 1, sizeof *e->res))
        return nomem(err);
    *out = &e->res[e->nres++];
    memset(*out, 0, sizeof **out);
    return SVY_OK;
}

static const char *domain_desc(const svy_est *e, size_t dom, char *buf, size_t size)
{
    if (e->doms[dom].overall || e->nby == 0) {
        snprintf(buf, size, "the whole sample");
        return buf;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < e->nby && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s=%s", k ? ", " : "", e->by[k],
                                 svy_strtab_str(&e->domval_tab, e->dom_vals[dom * e->nby + k]));
    return buf;
}

svy_status svy_est_finish(svy_est *e, svy_err *err)
{
    SVY_FAIL_IF(!e->bound || e->finished, err, SVY_E_USAGE, "svy_est_finish before bind or twice");
    e->finished = 1;
    SVY_FAIL_IF(e->rows == 0, err, SVY_E_DATA, "no data rows");
    SVY_FAIL_IF(e->dom_tab.n == 0, err, SVY_E_DATA, "every row has a missing --by value: no domain to estimate");

    /* FPC: N_h everywhere (some > 1) or fractions everywhere (all <= 1), as R. */
    int fraction = 0;
    if (e->fpc_idx >= 0) {
        if (e->fpc_max > 1 && e->fpc_min < 1)
            return svy_err_set(err, SVY_E_DATA, NULL, e->fpc_row_small, e->fpc_idx + 1, e->fpc_col,
                               "fpc %s mixes population counts (row %lld) and sampling fractions (this row): "
                               "use one or the other",
                               e->fpc_col, e->fpc_row_big);
        fraction = !(e->fpc_max > 1);
        for (size_t h = 0; h < e->strata_tab.n; h++) {
            const stratum *S = &e->strata[h];
            double N = fraction ? (double)S->npsu / S->fpc : S->fpc;
            if (N < (double)S->npsu)
                return svy_err_set(err, SVY_E_DATA, NULL, S->fpc_row, e->fpc_idx + 1, e->fpc_col,
                                   "fpc %s says stratum '%s' has %g PSUs in the population, but %lld are sampled",
                                   e->fpc_col, svy_strtab_str(&e->strata_tab, h), N, S->npsu);
        }
    }

    /* Group cells and dstrats by domain then stratum.  Level sums are keyed
     * by the index of their cell (PSU designs) or dstrat (element designs),
     * so they follow whichever of the two moves. */
    sort_est = e;
    size_t *inv;
    if (e->psu_idx >= 0) {
        inv = sort_tracked(e->cells, e->ncells, sizeof *e->cells, cmp_cell);
        if (inv)
            qsort(e->ds, e->nds, sizeof *e->ds, cmp_ds);
    } else {
        inv = sort_tracked(e->ds, e->nds, sizeof *e->ds, cmp_ds);
    }
    if (!inv)
        return nomem(err);
    int rk = rekey_levels(e, inv);
    free(inv);
    if (rk < 0)
        return nomem(err);

    size_t ndom = e->dom_tab.n;
    size_t *order = svy_calloc(ndom, sizeof *order);
    size_t *cstart = svy_calloc(ndom + 1, sizeof *cstart);
    size_t *dstart = svy_calloc(ndom + 1, sizeof *dstart);
    long *lv = svy_calloc(e->lvl_tab.n ? e->lvl_tab.n : 1, sizeof *lv);
    if (!order || !cstart || !dstart || !lv) {
        free(order);
        free(cstart);
        free(dstart);
        free(lv);
        return nomem(err);
    }
    for (size_t i = 0; i < ndom; i++)
        order[i] = i;
    qsort(order, ndom, sizeof *order, cmp_domain);
    for (size_t i = 0; i < e->ncells; i++)
        cstart[e->cells[i].domain + 1]++;
    for (size_t i = 0; i < e->nds; i++)
        dstart[e->ds[i].domain + 1]++;
    for (size_t i = 0; i < ndom; i++) {
        cstart[i + 1] += cstart[i];
        dstart[i + 1] += dstart[i];
    }
    size_t nlv = e->lvl_tab.n;
    for (size_t i = 0; i < nlv; i++)
        lv[i] = (long)i;
    qsort(lv, nlv, sizeof *lv, cmp_level);

    long long full_psu = 0;
    for (size_t h = 0; h < e->strata_tab.n; h++)
        full_psu += e->strata[h].npsu;
    double full_df = (double)(full_psu - (long long)e->strata_tab.n);

    svy_status rc = SVY_OK;
    for (size_t oi = 0; oi < ndom && rc == SVY_OK; oi++) {
        size_t dom = order[oi];
        const dominfo *D = &e->doms[dom];
        long long dpsu = 0, dstr = 0;
        for (size_t di = dstart[dom]; di < dstart[dom + 1]; di++) {
            dpsu += e->ds[di].npsu;
            dstr++;
        }
        double df;
        switch (e->d.df_rule) {
        case SVY_DF_DOMAIN:
            df = (double)(dpsu - dstr);
            break;
        case SVY_DF_FULL:
            df = full_df;
            break;
        case SVY_DF_INF:
            df = INFINITY;
            break;
        default:
            df = e->d.df;
            break;
        }
        for (size_t o = 0; o < e->nout && rc == SVY_OK; o++) {
            const outcome *oc = &e->out[o];
            const double *dq = e->dpool + D->block + ND * o;
            /* quantities: the outcome itself, or each level of a share */
            size_t nq = oc->stat == SVY_STAT_SHARE ? 0 : 1;
            if (oc->stat == SVY_STAT_SHARE)
                for (size_t i = 0; i < nlv; i++)
                    nq += e->lvl_outcome[lv[i]] == (long)o;
            if (dq[0] == 0) {
                char desc[300];
                rc = svy_err_set(err, SVY_E_DATA, NULL, D->first_row, oc->col + 1, oc->column,
                                 "no valid value of %s in the domain %s (first row of the domain)", oc->column,
                                 domain_desc(e, dom, desc, sizeof desc));
                break;
            }
            size_t li = 0;
            for (size_t qi = 0; qi < nq && rc == SVY_OK; qi++) {
                qsrc q = {o, -1};
                if (oc->stat == SVY_STAT_SHARE) {
                    while (e->lvl_outcome[lv[li]] != (long)o)
                        li++;
                    q.level = lv[li++];
                }
                double n = dq[0], W = dq[1], Ysum = dq[2], Wyy = dq[3];
                if (q.level >= 0) {
                    long di = svy_u64map_find(&e->dlvl_map, ((uint64_t)dom << 32) | (uint64_t)q.level);
                    Ysum = di < 0 ? 0 : e->dlacc[di];
                    Wyy = Ysum;
                }
                int total = oc->stat == SVY_STAT_TOTAL;
                double Rs = total ? Ysum : Ysum / W; /* shifted mean for SVY_STAT_MEAN */
                double var = NAN;
                rc = domain_variance(e, dom, q, Rs, W, total, cstart[dom], cstart[dom + 1], dstart[dom],
                                     dstart[dom + 1], fraction, &var, err);
                if (rc != SVY_OK)
                    break;
                svy_est_result *r = NULL;
                if ((rc = add_result(e, &r, err)) != SVY_OK)
                    break;
                r->domain = dom;
                r->column = oc->column;
                r->stat = oc->stat == SVY_STAT_SHARE ? SVY_STAT_RATE : oc->stat;
                r->variable = oc->name;
                r->level = oc->value;
                if (q.level >= 0) {
                    const char *k = svy_strtab_str(&e->lvl_tab, (size_t)q.level);
                    const char *text = k + strlen(k) + 1;
                    size_t nl = strlen(oc->column) + strlen(text) + 2;
                    char *nm = svy_malloc(nl);
                    if (!nm || !svy_grow((void **)&e->names, &e->capnames, e->nnames + 1, sizeof *e->names)) {
                        free(nm);
                        rc = nomem(err);
                        break;
                    }
                    snprintf(nm, nl, "%s=%s", oc->column, text);
                    e->names[e->nnames++] = nm;
                    r->variable = nm;
                    r->level = text;
                }
                double shift = oc->stat == SVY_STAT_MEAN ? oc->shift : 0;
                r->estimate = total ? Ysum : shift + Rs;
                r->se = sqrt(var);
                r->df = df;
                r->n = (long long)n;
                r->weighted_n = W;
                r->domain_rows = D->rows;
                /* deff: SRSWOR variance of the same estimate within the domain, N = sum w */
                double s2 = n / (n - 1) * (Wyy / W - (Ysum / W) * (Ysum / W));
                if (s2 < 0)
                    s2 = 0;
                double vsrs = s2 * (W - n) / (W * n);
                if (total)
                    vsrs *= W * W;
                r->deff = W < n ? NAN : var / vsrs;
                if (isinf(r->deff) || (var == 0 && vsrs == 0))
                    r->deff = NAN;
                r->cv = r->se / r->estimate;
                if (!isfinite(r->cv))
                    r->cv = NAN;
                if (r->stat == SVY_STAT_RATE) {
                    rate_ci(e, r, D->rows);
                    if (e->d.nchs)
                        nchs_flags(r, 0.95, D->rows); /* the standard is written for 95% intervals */
                } else {
                    double t = svy_qt(1 - (1 - e->d.level) / 2, df);
                    r->ci_low = r->estimate - t * r->se;
                    r->ci_high = r->estimate + t * r->se;
                }
            }
        }
    }
    free(order);
    free(cstart);
    free(dstart);
    free(lv);
    return rc;
}

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
    return e->rows;
}

size_t svy_est_nstrata(const svy_est *e)
{
    return e->strata_tab.n;
}

size_t svy_est_npsu(const svy_est *e)
{
    size_t n = 0;
    for (size_t h = 0; h < e->strata_tab.n; h++)
        n += (size_t)e->strata[h].npsu;
    return n;
}

const svy_design *svy_est_design(const svy_est *e)
{
    return &e->d;
}
