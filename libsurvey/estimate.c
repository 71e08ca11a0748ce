/* Design-based domain estimates: the API (names of the enums, setting up,
 * binding to a schema, accessors; see survey/estimate.h).  Rows come in
 * through estimate_rows.c and estimate_domain.c, estimates go out through
 * estimate_finish.c; what is kept and why is in estimate_private.h. */
#include "svy_private.h"
#include "estimate_private.h"
#include "replicate_private.h"
#include "calib_private.h"

#include <survey/subpop.h>

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
static const char *const stat_names[] = {"rate", "share", "mean", "total", "ratio", "quantile"};

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
    return (unsigned)s < 6 ? stat_names[s] : "?";
}

int svy_stat_is_proportion(svy_stat s)
{
    return s == SVY_STAT_RATE || s == SVY_STAT_SHARE;
}

/* The index of s in names[n], -1 when absent. */
static int name_index(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int svy_lonely_parse(const char *s, svy_lonely *out)
{
    int i = name_index(s, lonely_names, 5);
    return i >= 0 ? (*out = (svy_lonely)i, 1) : 0;
}

int svy_df_rule_parse(const char *s, svy_df_rule *out)
{
    int i = name_index(s, df_names, 4);
    return i >= 0 ? (*out = (svy_df_rule)i, 1) : 0;
}

int svy_stat_parse(const char *s, svy_stat *out)
{
    int i = name_index(s, stat_names, 6);
    return i >= 0 ? (*out = (svy_stat)i, 1) : 0;
}

int svy_ci_method_parse(const char *s, svy_ci_method *out)
{
    int i = name_index(s, ci_names, 4);
    if (i >= 0)
        *out = (svy_ci_method)i;
    else if (strcmp(s, "kg") == 0 || strcmp(s, "korn-graubard") == 0)
        *out = SVY_CI_BETA;
    else
        return 0;
    return 1;
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
    e->byval_cache = svy_textcache_new(nby);
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
void svy_est_layers_free(svy_est *e)
{
    for (size_t l = 0; l < LAYERS_MAX; l++) {
        layer *L = &e->lay[l];
        free(L->recs);
        free(L->pool);
        svy_u64map_free(&L->map);
        svy_u64map_free(&L->lmap);
        free(L->lpool);
        free(L->dstart);
        free(L->ux);
    }
    svy_est_test_free(e);
}

void svy_est_free(svy_est *e)
{
    if (!e)
        return;
    svy_dsn_free(&e->dsn);
    svy_est_queue_free(e);
    svy_sums_bind_free(e->sums);
    free_names(e->psu_cols, e->d.npsu);
    free_names(e->strata_cols, e->d.nstrata);
    free_names(e->fpc_cols, e->d.nfpc);
    free(e->weight_col);
    free(e->diff_ref);
    free(e->tests);
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
        free(e->out[i].den);
        svy_est_quant_free(&e->out[i]);
        free(e->out[i].lev);
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
    svy_est_layers_free(e);
    free(e->lvl_outcome);
    free(e->keybuf);
    free(e->res);
    for (size_t i = 0; i < e->nnames; i++)
        free(e->names[i]);
    free(e->names);
    svy_rep_free(e->rep);
    svy_cal_free(e->cal);
    free(e);
}

svy_status svy_est_add_outcome(svy_est *e, svy_stat stat, const char *column, const char *value, svy_err *err)
{
    SVY_FAIL_IF(e->bound, err, SVY_E_USAGE, "outcomes must be added before the schema is bound");
    SVY_FAIL_IF(!column || !*column, err, SVY_E_USAGE, "empty column name");
    SVY_FAIL_IF(value && stat != SVY_STAT_RATE, err, SVY_E_USAGE, "a value is only for rates");
    SVY_FAIL_IF((unsigned)stat > SVY_STAT_TOTAL, err, SVY_E_USAGE, "unknown statistic (ratios: svy_est_add_ratio)");
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

static const size_t sums_size[] = {3, 2, 4, 5, 7}, rows_size[] = {8, 1, 9, 10, 12};

/* The layers of records the design needs (see estimate_private.h). */
void svy_est_plan_layers(svy_est *e)
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

static svy_status bind(svy_est *e, const svy_schema *schema, svy_err *err)
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
        if (e->sums) { /* a sums file: its own columns (sums_read.c) */
            o->col = o->den_col = -1;
            o->numeric = 1; /* share levels: codes */
            goto laid_out;
        }
        if ((o->col = find_col(schema, o->column, o->den ? "ratio numerator" : "outcome", err)) < 0)
            return SVY_E_USAGE;
        if (o->den && (o->den_col = find_col(schema, o->den, "ratio denominator", err)) < 0)
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
    laid_out:
        o->plain = o->stat == SVY_STAT_RATE && !o->value && !o->quant;
        e->any_share |= o->stat == SVY_STAT_SHARE;
        e->any_shift |= o->stat == SVY_STAT_MEAN || o->stat == SVY_STAT_TOTAL || o->stat == SVY_STAT_RATIO;
        e->all_rates &= o->stat == SVY_STAT_RATE;
        e->all_plain &= o->plain;
        o->off_sums = so;
        o->off_rows = ro;
        so += sums_size[o->stat];
        ro += rows_size[o->stat];
    }
    e->sums_size = so;
    e->rows_size = ro;
    e->batch = e->all_rates && e->nout <= 32 && !e->qphase; /* quantiles: ys differ by domain */
    svy_est_plan_layers(e);
    if (e->rep && (st = svy_rep_bind(e, err)) != SVY_OK)
        return st;
    if (e->cal && (st = svy_cal_bind(e, err)) != SVY_OK)
        return st;
    e->row_extra = (e->d.overall && e->nby > 0) || e->rep;
    e->bound = 1;
    return SVY_OK;
}

void svy_est_set_reader(svy_est *e, const svy_reader *r)
{
    e->source = r;
}

svy_status svy_est_blame(const svy_est *e, svy_status st, svy_err *err)
{
    if (st == SVY_OK || !e->source || !err)
        return st;
    const char *name = svy_reader_name(e->source);
    if (!err->file[0] && name)
        snprintf(err->file, sizeof err->file, "%s", name);
    if (err->code == SVY_E_DATA && err->var[0]) {
        long long c = svy_reader_column_of(e->source, err->var);
        if (c > 0)
            err->col = c;
    }
    return st;
}

svy_status svy_est_bind(svy_est *e, const svy_schema *schema, svy_err *err)
{
    return svy_est_blame(e, bind(e, schema, err), err);
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
    for (size_t i = 0; i < e->nout; i++) {
        PUT(e->out[i].column);
        if (e->out[i].den)
            PUT(e->out[i].den);
    }
    for (size_t i = 0; e->subpop && i < svy_subpop_ncolumns(e->subpop); i++)
        PUT(svy_subpop_column(e->subpop, i));
    for (size_t i = 0; svy_cal_column(e, i); i++)
        PUT(svy_cal_column(e, i));
#undef PUT
    return n;
}

int svy_est_passes_max(const svy_est *e)
{
    return (e->dsn.derive_w || e->dsn.nstage >= 2 ? 2 : 1) + (e->qphase != 0);
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

const svy_est_info *svy_est_design_info(const svy_est *e)
{
    return &e->info;
}
