/* Replicate-weight versions of --diff and --test (estimate_diff.c and
 * estimate_test.c call these when the estimator has replicate weights).
 *
 * R: svyby(..., covmat = TRUE) on a svrepdesign stacks the domains'
 * replicate estimates and svrVar gives their covariance; svycontrast's
 * c'Vc is then svrVar of the replicates' contrast (the centre, the mean of
 * the replicates, is linear).  svychisq on a svrepdesign takes V =
 * svymean(cell indicators)'s replicate covariance and nu = degf(design),
 * the rank of the replicate-weight matrix minus 1.  Everything here comes
 * from the replicates' sums kept per domain (replicate.c): nothing per row. */
#include "svy_private.h"
#include "replicate_private.h"

#include <math.h>
#include <stdlib.h>

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

svy_status svy_rep_diff(svy_est *e, size_t d, size_t dref, const qty *q, double est, double *V, svy_err *err)
{
    const svy_rep *r = e->rep;
    double *t = svy_calloc(2 * r->R, sizeof *t);
    if (!t)
        return nomem(err);
    svy_rep_estimates(e, d, q, t);
    svy_rep_estimates(e, dref, q, t + r->R);
    for (size_t k = 0; k < r->R; k++)
        t[k] -= t[r->R + k]; /* NAN when either is: R drops that replicate */
    size_t dropped;
    *V = svy_rep_var(r, t, est, r->mse, &dropped);
    free(t);
    return SVY_OK;
}

/* The cell proportions of replicate k into p[0..K) (cell o + nr j as in
 * svy_cells: a rate's in and out, a share's kept levels); 0 when the
 * replicate has no weight in the table. */
static int rep_cells(const svy_est *e, const svy_cells *cs, size_t k, double *p)
{
    const size_t nr = cs->nr, K = nr * cs->nc;
    double tot = 0;
    for (size_t j = 0; j < cs->nc; j++)
        for (size_t o = 0; o < nr; o++) {
            const double *num, *den;
            qty ql = *cs->q;
            if (ql.stat == SVY_STAT_SHARE)
                ql.level = cs->row_level[o];
            svy_rep_sums(e, cs->dom[j], &ql, &num, &den);
            double in = num ? num[k] : 0, all = den ? den[k] : 0;
            double v = ql.stat == SVY_STAT_SHARE || o == 0 ? in : all - in;
            p[o + nr * j] = v;
            tot += v;
        }
    if (!(tot > 0))
        return 0;
    for (size_t c = 0; c < K; c++)
        p[c] /= tot;
    return 1;
}

svy_status svy_rep_test_cov(svy_est *e, const svy_cells *cs, double *V, double *nu, svy_err *err)
{
    const svy_rep *r = e->rep;
    const size_t K = cs->nr * cs->nc, R = r->R;
    const double *ph = cs->ph;
    double *p = svy_calloc(K * R, sizeof *p), *c = svy_calloc(K, sizeof *c);
    unsigned char *ok = svy_calloc(R, 1);
    if (!p || !c || !ok) {
        free(p);
        free(c);
        free(ok);
        return nomem(err);
    }
    double n = 0;
    for (size_t k = 0; k < R; k++) {
        ok[k] = (unsigned char)rep_cells(e, cs, k, p + k * K);
        if (ok[k] && r->rscales[k] > 0) {
            n++;
            for (size_t a = 0; a < K; a++)
                c[a] += p[k * K + a];
        }
    }
    for (size_t a = 0; a < K; a++)
        c[a] = r->mse ? ph[a] : c[a] / n;
    for (size_t a = 0; a < K * K; a++)
        V[a] = 0;
    for (size_t k = 0; k < R; k++) {
        if (!ok[k])
            continue;
        const double *pk = p + k * K;
        for (size_t a = 0; a < K; a++)
            for (size_t b = 0; b <= a; b++)
                V[a * K + b] += r->rscales[k] * (pk[a] - c[a]) * (pk[b] - c[b]);
    }
    for (size_t a = 0; a < K; a++)
        for (size_t b = 0; b <= a; b++)
            V[b * K + a] = V[a * K + b] *= r->scale;
    *nu = e->nby > 1 ? svy_rep_domains_df(e, cs->dom, cs->nc) : svy_rep_full_df(e);
    free(p);
    free(c);
    free(ok);
    return SVY_OK;
}
