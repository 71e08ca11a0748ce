/* Ratios, --ratio NUM/DEN: R's svyratio(~NUM, ~DEN, design) by domain.
 *
 * R-hat = Y/X with Y = sum w y and X = sum w x over the domain's rows where
 * both are present (svyratio's na.rm = TRUE is design[!nas, ]: a domain).
 * Its influence is z = w (y - R x)/X, so a unit's linearized total is
 * (Y_i - R X_i)/X: a mean's, with w x where the mean has w.  The records
 * keep Y_i and X_i where a mean keeps A'_i and W_i, and the variance, the
 * lonely-PSU rules, the domain df and the subpopulation are the estimator's
 * own (estimate_variance.c).  Record layouts: estimate_private.h. */
#include "svy_private.h"
#include "estimate_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

svy_status svy_est_add_ratio(svy_est *e, const char *num, const char *den, svy_err *err)
{
    SVY_FAIL_IF(!den || !*den, err, SVY_E_USAGE, "empty denominator of a ratio");
    svy_status st = svy_est_add_outcome(e, SVY_STAT_MEAN, num, NULL, err);
    if (st)
        return st;
    outcome *o = &e->out[e->nout - 1];
    size_t nl = strlen(num) + strlen(den) + 2;
    char *name = svy_malloc(nl);
    o->den = svy_strdup(den);
    if (!name || !o->den) {
        free(name);
        return nomem(err); /* the outcome (and den) are freed with e */
    }
    snprintf(name, nl, "%s/%s", num, den);
    free(o->name);
    o->name = name;
    o->stat = SVY_STAT_RATIO;
    o->den_col = -1;
    return SVY_OK;
}

/* The numerator is read (not missing) by outcome_value; the denominator here. */
int svy_est_ratio_value(svy_est *e, outcome *oc, const svy_row *row, double *y, svy_err *err)
{
    const svy_value *vy = &row->vals[oc->col], *vx = &row->vals[oc->den_col];
    if (svy_value_is_missing(vx))
        return 0;
    long bad = -1;
    const svy_value *bv = NULL;
    if (!svy_value_number(vy, y) || !isfinite(*y))
        bad = oc->col, bv = vy;
    else if (!svy_value_number(vx, &oc->x) || !isfinite(oc->x))
        bad = oc->den_col, bv = vx;
    if (bad < 0)
        return 1;
    char nb[SVY_DTOA_MAX];
    const char *text = bv->type == SVY_VAL_STR ? bv->str : (svy_dtoa(bv->num, nb), nb);
    svy_fail_row(e->schema, row, bad, err, "column %s holds '%s', which is not a number (ratio %s)",
                 bad == oc->col ? oc->column : oc->den, text, oc->name);
    return -1;
}

void svy_est_ratio_sums_cell(double *c, double w, double y, double x)
{
    double a = w * y, b = w * x;
    c[0] += a;
    c[1] += b;
    c[2] += 1;
    c[3] += w;
    c[4] += a * y;
    c[5] += a * x;
    c[6] += b * x;
}

void svy_est_ratio_rows_cell(double *c, double w, double y, double x)
{
    double a = w * y, b = w * x;
    svy_est_comoment_add(c, a, b); /* co-moments of (w y, w x), as a mean's */
    c[8] += w;
    c[9] += a * y;
    c[10] += a * x;
    c[11] += b * x;
}

usum svy_est_ratio_rec_sum(const double *c, int rows)
{
    if (!rows)
        return (usum){c[2], c[0], c[1], c[3], 0};
    double k = c[0];
    return (usum){k, k * c[1] + c[3], k * c[2] + c[4], c[8], 0};
}

/* R: deff(svytotal(r, design, deff = TRUE)) with r = (y - R x)/X per row:
 * V / (svyvar(r) N^2 (N - n)/(N n)), N = sum w, n = rows of nonzero
 * weight; svyvar(r) = n/(n - 1) sum w r^2 / N, r's weighted mean being 0.
 * Sums are in the scaled weights (s: the scale); r is scale-free once X is
 * the true total. */
double svy_est_ratio_deff(const svy_est *e, size_t dom, const qty *q, double R, double se, double nnz)
{
    /* the domain's records of the first layer: sums of w, w y y, w x y, w x x */
    const layer *L = &e->lay[0];
    const outcome *oc = &e->out[q->o];
    double W = 0, X = 0, syy = 0, sxy = 0, sxx = 0;
    for (size_t i = L->dstart[dom]; i < L->dstart[dom + 1]; i++) {
        const double *c = L->pool + L->recs[i].block + (L->rows ? oc->off_rows : oc->off_sums);
        usum u = svy_est_ratio_rec_sum(c, L->rows);
        const double *m = c + (L->rows ? 9 : 4);
        W += u.ash;
        X += u.q;
        syy += m[0];
        sxy += m[1];
        sxx += m[2];
    }
    double s = e->dsn.wscale, Wu = W * s;
    X *= s;
    double ss = syy - 2 * R * sxy + R * R * sxx; /* sum w (y - R x)^2, scaled */
    double var1 = (ss > 0 ? ss : 0) / W / (X * X);
    double vsrs = nnz / (nnz - 1) * var1 * Wu * Wu * (Wu - nnz) / (Wu * nnz);
    double d = se * se / vsrs;
    return isfinite(d) && !(se == 0 && vsrs == 0) && Wu >= nnz ? d : NAN;
}
