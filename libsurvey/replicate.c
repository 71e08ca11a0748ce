/* Replicate-weight variance (survey/replicate.h): R's svrepdesign()
 * defaults, the replicates' sums per domain and quantity, svrVar(), and
 * degf() as the rank of the replicate-weight matrix. */
#include "svy_private.h"
#include "replicate_private.h"

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

static const char *const type_names[] = {"jk1", "jkn", "brr", "fay", "bootstrap", "sdr", "other"};

const char *svy_reptype_name(svy_reptype t)
{
    return (unsigned)t < sizeof type_names / sizeof *type_names ? type_names[t] : "?";
}

int svy_reptype_parse(const char *s, svy_reptype *out)
{
    for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
        if (strcmp(s, type_names[i]) == 0) {
            *out = (svy_reptype)i;
            return 1;
        }
    if (strcmp(s, "successive-difference") == 0) {
        *out = SVY_REP_SDR;
        return 1;
    }
    return 0;
}

void svy_repdesign_init(svy_repdesign *r)
{
    memset(r, 0, sizeof *r);
    r->type = SVY_REP_JK1;
    r->rho = NAN;
    r->scale = NAN;
}

void svy_rep_free(svy_rep *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->npat; i++)
        free(r->pat[i]);
    free(r->pat);
    free(r->rs_given);
    free(r->col);
    for (size_t i = 0; r->names && i < r->R; i++)
        free(r->names[i]);
    free(r->names);
    free(r->rscales);
    free(r->a);
    free(r->nz);
    svy_rep_rows_clear(r, 1);
    for (size_t i = 0; i < r->capgram; i++)
        free(r->gram[i]);
    free(r->gram);
    free(r->gfull);
    free(r->dfs);
    free(r);
}

svy_status svy_est_set_replicates(svy_est *e, const svy_repdesign *d, svy_err *err)
{
    SVY_FAIL_IF(e->bound, err, SVY_E_USAGE, "svy_est_set_replicates after bind");
    SVY_FAIL_IF(d->ncols == 0, err, SVY_E_USAGE, "--repweights: no replicate weight column given");
    SVY_FAIL_IF(e->d.nstrata || e->d.npsu || e->d.nfpc, err, SVY_E_USAGE,
                "replicate weights carry the design: strata, PSUs and the fpc are not used with them "
                "(R's svrepdesign ignores them); leave out --strata, --psu and --fpc");
    SVY_FAIL_IF(d->type == SVY_REP_FAY && !(d->rho >= 0 && d->rho < 1), err, SVY_E_USAGE,
                "--reptype fay needs --rho R, 0 <= R < 1 (R: \"With type='Fay' you must supply the correct rho\")");
    SVY_FAIL_IF(!isnan(d->scale) && !(d->scale > 0 && isfinite(d->scale)), err, SVY_E_USAGE,
                "--scale must be a positive number");
    for (size_t i = 0; i < d->nrscales; i++)
        SVY_FAIL_IF(!(d->rscales[i] >= 0 && isfinite(d->rscales[i])), err, SVY_E_USAGE,
                    "--rscales: value %zu is not a number of 0 or more", i + 1);
    svy_rep *r = svy_calloc(1, sizeof *r);
    if (!r)
        return nomem(err);
    r->pat = svy_calloc(d->ncols, sizeof *r->pat);
    if (!r->pat) {
        svy_rep_free(r);
        return nomem(err);
    }
    r->npat = d->ncols;
    for (size_t i = 0; i < d->ncols; i++)
        if (!(r->pat[i] = svy_strdup(d->cols[i]))) {
            svy_rep_free(r);
            return nomem(err);
        }
    if (d->nrscales) {
        if (!(r->rs_given = svy_calloc(d->nrscales, sizeof *r->rs_given))) {
            svy_rep_free(r);
            return nomem(err);
        }
        memcpy(r->rs_given, d->rscales, d->nrscales * sizeof *r->rs_given);
        r->nrs_given = d->nrscales;
    }
    r->type = d->type;
    r->rho = d->rho;
    r->scale_given = d->scale;
    r->mse = d->mse;
    svy_rep_free(e->rep);
    e->rep = r;
    return SVY_OK;
}

/* ------------------------------------------------------------- binding */

static svy_status add_col(svy_rep *r, long c, size_t *cap, svy_err *err)
{
    for (size_t i = 0; i < r->R; i++)
        if (r->col[i] == c)
            return SVY_OK; /* a column asked for twice counts once */
    if (!svy_grow((void **)&r->col, cap, r->R + 1, sizeof *r->col))
        return nomem(err);
    r->col[r->R++] = c;
    return SVY_OK;
}

static svy_status match_columns(svy_est *e, svy_rep *r, svy_err *err)
{
    size_t cap = 0;
    const svy_schema *s = e->schema;
    for (size_t i = 0; i < r->npat; i++) {
        const char *p = r->pat[i];
        size_t len = strlen(p);
        size_t before = r->R;
        if (len && p[len - 1] == '*') {
            for (size_t c = 0; c < svy_schema_nvars(s); c++)
                if (strncmp(svy_var_name(svy_schema_var(s, c)), p, len - 1) == 0) {
                    svy_status st = add_col(r, (long)c, &cap, err);
                    if (st)
                        return st;
                }
            SVY_FAIL_IF(r->R == before, err, SVY_E_USAGE,
                        "--repweights: no column of the input starts with '%.*s'", (int)(len - 1), p);
            continue;
        }
        long c = svy_schema_find(s, p);
        if (c < 0)
            return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, p, "--repweights: no column %s in the input", p);
        svy_status st = add_col(r, c, &cap, err);
        if (st)
            return st;
    }
    long wc = e->d.weight ? svy_schema_find(s, e->d.weight) : -1;
    for (size_t i = 0; i < r->R; i++)
        SVY_FAIL_IF(r->col[i] == wc, err, SVY_E_USAGE,
                    "--repweights: the full-sample weight %s is among the replicate columns", e->d.weight);
    SVY_FAIL_IF(r->R < 2, err, SVY_E_USAGE, "--repweights: %zu replicate column; a variance needs 2 or more", r->R);
    if (!(r->names = svy_calloc(r->R, sizeof *r->names)))
        return nomem(err);
    for (size_t i = 0; i < r->R; i++)
        if (!(r->names[i] = svy_strdup(svy_var_name(svy_schema_var(s, (size_t)r->col[i])))))
            return nomem(err);
    return SVY_OK;
}

static void note(svy_rep *r, const char *fmt, ...)
{
    size_t u = strlen(r->note);
    if (u + 1 >= sizeof r->note)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note + u, sizeof r->note - u, fmt, ap);
    va_end(ap);
    u = strlen(r->note);
    if (u + 1 < sizeof r->note)
        snprintf(r->note + u, sizeof r->note - u, "\n");
}

/* R's svrepdesign() defaults for scale and rscales, and its warnings. */
static svy_status defaults(svy_rep *r, svy_err *err)
{
    double R = (double)r->R, sc = r->scale_given;
    int has_rs = r->nrs_given > 0, has_rho = !isnan(r->rho);
    const char *tn = svy_reptype_name(r->type);
    SVY_FAIL_IF(has_rs && r->nrs_given != 1 && r->nrs_given != r->R, err, SVY_E_USAGE,
                "--rscales: %zu values for %zu replicate columns (give one per column, or one for all)",
                r->nrs_given, r->R);
    if (has_rho && r->type != SVY_REP_FAY)
        note(r, "--rho is not used with --reptype %s: ignored (as R)", tn);
    switch (r->type) {
    case SVY_REP_BRR:
        if (!isnan(sc) && fabs(sc * R - 1) > 1e-12)
            note(r, "--reptype brr does not use --scale: scale 1/%zu (as R)", r->R);
        sc = 1 / R;
        break;
    case SVY_REP_FAY:
        if (!isnan(sc) && fabs(sc * (R * (1 - r->rho) * (1 - r->rho)) - 1) > 1e-12)
            note(r, "--reptype fay sets the scale from --rho: --scale ignored (as R)");
        sc = 1 / (R * (1 - r->rho) * (1 - r->rho));
        break;
    case SVY_REP_BOOTSTRAP:
        if (isnan(sc))
            sc = 1 / (R - 1); /* R's bootstrap.average = 1 */
        break;
    case SVY_REP_JK1:
        if (isnan(sc)) {
            sc = (R - 1) / R;
            note(r, "--reptype jk1 without --scale: scale (n-1)/n with n = %zu replicates assumed (as R); "
                    "with an fpc the scale is (1-n/N)(n-1)/n", r->R);
        }
        break;
    case SVY_REP_JKN:
        SVY_FAIL_IF(!has_rs, err, SVY_E_USAGE,
                    "--reptype jkn needs --rscales (the (n_h-1)/n_h of each replicate's stratum), "
                    "or --repinfo; R: \"Must provide rscales for combined JKn weights\"");
        if (isnan(sc))
            sc = 1;
        break;
    case SVY_REP_SDR:
        if ((!isnan(sc) && fabs(sc * R - 4) > 1e-12) || has_rs)
            note(r, "--reptype sdr: --scale and --rscales are not needed and are ignored: scale 4/%zu (as R)", r->R);
        sc = 4 / R;
        has_rs = 0;
        break;
    case SVY_REP_OTHER:
        if (isnan(sc) || !has_rs)
            note(r, "--reptype other: %s not given, set to 1 (as R)",
                 isnan(sc) && !has_rs ? "--scale and --rscales" : isnan(sc) ? "--scale" : "--rscales");
        if (isnan(sc))
            sc = 1;
        break;
    }
    r->scale = sc;
    if (!(r->rscales = svy_calloc(r->R, sizeof *r->rscales)))
        return nomem(err);
    for (size_t i = 0; i < r->R; i++)
        r->rscales[i] = has_rs ? r->rs_given[r->nrs_given == 1 ? 0 : i] : 1;
    return SVY_OK;
}

svy_status svy_rep_bind(svy_est *e, svy_err *err)
{
    svy_rep *r = e->rep;
    for (size_t o = 0; o < e->nout; o++) {
        svy_stat k = e->out[o].stat;
        SVY_FAIL_IF(k != SVY_STAT_RATE && k != SVY_STAT_SHARE && k != SVY_STAT_MEAN && k != SVY_STAT_TOTAL &&
                        k != SVY_STAT_RATIO, err,
                    SVY_E_USAGE, "replicate weights give rates, shares, means, totals, ratios and quantiles; a %s "
                    "is not supported with them", svy_stat_name(k));
    }
    svy_status st = match_columns(e, r, err);
    if (st)
        return st;
    r->note[0] = '\0';
    if ((st = defaults(r, err)))
        return st;
    if ((st = svy_rep_rows_bind(r, err)))
        return st;
    /* --diff and --test take the df of the whole design (a test within
     * combinations of other by variables: that of the combination's domains) */
    r->gram_dom = e->d.df_rule == SVY_DF_DOMAIN || (e->test_on && e->nby > 1);
    r->gram_full = e->d.df_rule == SVY_DF_FULL || e->diff_on || e->test_on;
    r->df_full = -2;
    if (r->gram_full && !(r->gfull = svy_calloc(r->R * (r->R + 1) / 2, sizeof *r->gfull)))
        return nomem(err);
    return SVY_OK;
}

const char *svy_est_rep_note(const svy_est *e)
{
    return e->rep ? e->rep->note : NULL;
}

int svy_est_rep_info(const svy_est *e, svy_rep_info *out)
{
    const svy_rep *r = e->rep;
    if (!r || !r->rscales)
        return 0;
    out->type = r->type;
    out->nrep = r->R;
    out->scale = r->scale;
    out->rho = r->rho;
    out->mse = r->mse;
    out->rscale_min = out->rscale_max = r->rscales[0];
    for (size_t i = 1; i < r->R; i++) {
        if (r->rscales[i] < out->rscale_min)
            out->rscale_min = r->rscales[i];
        if (r->rscales[i] > out->rscale_max)
            out->rscale_max = r->rscales[i];
    }
    return 1;
}

/* ------------------------------------------------------------- results */

/* The rank of the packed lower triangle g (R x R) minus 1: singular values
 * of the weight matrix above 1e-5 of the largest (R's qr tolerance). */
static double rank_df(const double *g, size_t R)
{
    if (!g)
        return NAN;
    gsl_matrix *m = gsl_matrix_alloc(R, R);
    gsl_vector *ev = gsl_vector_alloc(R);
    gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc(R);
    double df = NAN;
    if (m && ev && w) {
        for (size_t i = 0; i < R; i++)
            for (size_t j = 0; j <= i; j++) {
                double x = g[i * (i + 1) / 2 + j];
                gsl_matrix_set(m, i, j, x);
                gsl_matrix_set(m, j, i, x);
            }
        gsl_error_handler_t *old = gsl_set_error_handler_off();
        if (gsl_eigen_symm(m, ev, w) == GSL_SUCCESS) {
            double mx = 0;
            for (size_t i = 0; i < R; i++)
                if (gsl_vector_get(ev, i) > mx)
                    mx = gsl_vector_get(ev, i);
            size_t rank = 0;
            for (size_t i = 0; i < R; i++)
                rank += mx > 0 && gsl_vector_get(ev, i) > 1e-10 * mx;
            df = (double)rank - 1;
        }
        gsl_set_error_handler(old);
    }
    gsl_eigen_symm_free(w);
    gsl_vector_free(ev);
    gsl_matrix_free(m);
    return df;
}

double svy_rep_df(svy_est *e, size_t dom)
{
    svy_rep *r = e->rep;
    switch (e->d.df_rule) {
    case SVY_DF_INF:
        return INFINITY;
    case SVY_DF_FIXED:
        return e->d.df;
    case SVY_DF_FULL:
        return svy_rep_full_df(e);
    default:
        break;
    }
    if (svy_rep_gram_flush(r) != SVY_OK)
        return NAN;
    if (dom >= r->capdfs) {
        size_t cap = r->capdfs;
        if (!svy_grow((void **)&r->dfs, &cap, dom + 1, sizeof *r->dfs))
            return NAN;
        for (size_t i = r->capdfs; i < cap; i++)
            r->dfs[i] = -2;
        r->capdfs = cap;
    }
    if (r->dfs[dom] == -2)
        r->dfs[dom] = rank_df(dom < r->capgram ? r->gram[dom] : NULL, r->R);
    return r->dfs[dom];
}

double svy_rep_full_df(svy_est *e)
{
    svy_rep *r = e->rep;
    if (svy_rep_gram_flush(r) != SVY_OK)
        return NAN;
    if (r->df_full == -2)
        r->df_full = rank_df(r->gfull, r->R);
    return r->df_full;
}

double svy_rep_domains_df(svy_est *e, const size_t *dom, size_t nd)
{
    svy_rep *r = e->rep;
    size_t n = r->R * (r->R + 1) / 2;
    double *g = svy_rep_gram_flush(r) == SVY_OK ? svy_calloc(n, sizeof *g) : NULL;
    if (!g)
        return NAN;
    int any = 0;
    for (size_t j = 0; j < nd; j++)
        if (dom[j] < r->capgram && r->gram[dom[j]]) {
            any = 1;
            for (size_t i = 0; i < n; i++)
                g[i] += r->gram[dom[j]][i];
        }
    double df = any ? rank_df(g, r->R) : NAN;
    free(g);
    return df;
}

void svy_rep_reset(svy_rep *r)
{
    if (!r)
        return;
    svy_rep_rows_clear(r, 0);
    for (size_t i = 0; i < r->capgram; i++) {
        free(r->gram[i]);
        r->gram[i] = NULL;
    }
    if (r->gfull)
        memset(r->gfull, 0, r->R * (r->R + 1) / 2 * sizeof *r->gfull);
    for (size_t i = 0; i < r->capdfs; i++)
        r->dfs[i] = -2;
    r->df_full = -2;
}

/* svrVar: scale sum_r rscale_r (t_r - c)^2 over the replicates whose t_r
 * is a number; *dropped counts the others. */
double svy_rep_var(const svy_rep *r, const double *t, double centre, int mse, size_t *dropped)
{
    double sum = 0, n = 0;
    *dropped = 0;
    for (size_t i = 0; i < r->R; i++) {
        if (isnan(t[i])) {
            ++*dropped;
            continue;
        }
        if (r->rscales[i] > 0) {
            sum += t[i];
            n++;
        }
    }
    if (*dropped == r->R)
        return NAN;
    double c = mse ? centre : sum / n, v = 0;
    for (size_t i = 0; i < r->R; i++)
        if (!isnan(t[i]))
            v += r->rscales[i] * (t[i] - c) * (t[i] - c);
    return v * r->scale;
}

static const char NOTE_NA[] = "some replicates have no weight in this domain: dropped (as R)";
static const char NOTE_ALL_NA[] = "no replicate has weight in this domain: no variance";

void svy_rep_estimates(const svy_est *e, size_t dom, const qty *q, double *t)
{
    const double *num, *den;
    svy_rep_sums(e, dom, q, &num, &den);
    int ratio = q->stat == SVY_STAT_RATIO;
    for (size_t k = 0; k < e->rep->R; k++) {
        double nu = num ? num[k] : 0, de = den ? den[k] : 0;
        t[k] = q->stat == SVY_STAT_TOTAL ? nu : (ratio ? de != 0 : de > 0) ? nu / de : NAN;
    }
}

svy_status svy_rep_result(svy_est *e, size_t dom, const qty *q, svy_est_result *res, double *se_logit,
                          svy_err *err)
{
    svy_rep *r = e->rep;
    const size_t R = r->R;
    *se_logit = NAN;
    double *t = svy_calloc(2 * R, sizeof *t);
    if (!t)
        return nomem(err);
    svy_rep_estimates(e, dom, q, t);
    for (size_t k = 0; k < R; k++) {
        t[R + k] = t[k] > 0 && t[k] < 1 ? log(t[k] / (1 - t[k])) : t[k] <= 0 ? -INFINITY : INFINITY;
        if (isnan(t[k]))
            t[R + k] = NAN;
    }
    size_t dropped;
    double V = svy_rep_var(r, t, res->estimate, r->mse, &dropped);
    res->se = sqrt(V);
    res->df = svy_rep_df(e, dom);
    if (dropped && !res->note)
        res->note = dropped == R ? NOTE_ALL_NA : NOTE_NA;
    if (svy_est_is_prop(q->stat)) {
        double p = res->estimate;
        double Vl = svy_rep_var(r, t + R, p > 0 && p < 1 ? log(p / (1 - p)) : NAN, r->mse, &dropped);
        *se_logit = sqrt(Vl);
    }
    free(t);
    return SVY_OK;
}
