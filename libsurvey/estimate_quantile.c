/* Quantiles by domain (svy_est_add_quantile): R survey >= 4's svyquantile
 * (qrule = "math", interval.type = "mean"), as svyby calls it.
 *
 * A quantile outcome is a rate outcome whose row value is 1{x <= q_d}, d
 * the domain the row is summed into.  The estimating pass keeps each row's
 * (domain, first-stage stratum and unit, x, w) with x present and w != 0
 * (32 bytes a row and quantile; the units give the df: R's na.rm = TRUE
 * makes the rows with a value the domain);
 * at its end every domain's pairs are sorted (svy_qdomain_prepare, 16 bytes
 * a row kept) and q_d = svy_qrule_math; one more pass sums the indicator as
 * an ordinary domain rate, so Fhat = svymean(x <= q_d) and its SE come from
 * the estimator's own linearization (domains, --subpop, lonely PSUs), and svy_woodruff gives R's interval and SE. */
#include "estimate_private.h"
#include "quantile_private.h"
#include "svy_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct qdom {
    size_t start, n;  /* its pairs in qpairs */
    double total, q;
    double df;        /* R's degf of the domain's rows with a value and w != 0 */
} qdom;

svy_status svy_est_add_quantile(svy_est *e, const char *column, double p, svy_err *err)
{
    SVY_FAIL_IF(!(p > 0 && p < 1), err, SVY_E_USAGE, "a quantile's probability must be above 0 and below 1, not %g", p);
    SVY_FAIL_IF(e->diff_on, err, SVY_E_USAGE,
                "--diff: differences of quantiles are not computed (no joint variance of two domains' "
                "quantiles); run svy-tab once with --quantile and once with --diff");
    svy_status st = svy_est_add_outcome(e, SVY_STAT_RATE, column, NULL, err);
    if (st)
        return st;
    e->out[e->nout - 1].quant = 1;
    e->out[e->nout - 1].prob = p;
    e->qphase = 1;
    return SVY_OK;
}

svy_status svy_est_quant_row(svy_est *e, uint32_t dom, const svy_dpath *p, double *ys, const int *valid, svy_err *err)
{
    double w = p->w;
    for (size_t o = 0; o < e->nout; o++) {
        outcome *oc = &e->out[o];
        if (!oc->quant || !valid[o])
            continue;
        if (e->qphase == 2) {
            ys[o] = dom < oc->nqd && oc->x <= oc->qd[dom].q;
            continue;
        }
        if (w == 0)
            continue;
        if (!svy_grow((void **)&oc->qs, &oc->capqs, oc->nqs + 1, sizeof *oc->qs))
            return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory keeping the values of %s (--quantile)", oc->column);
        oc->qs[oc->nqs++] = (struct qspool){dom, p->stratum[0], p->unit[0], oc->x, w};
    }
    return SVY_OK;
}

double svy_est_quant_indicator(const svy_est *e, size_t o, size_t dom)
{
    const outcome *oc = &e->out[o];
    return dom < oc->nqd && oc->x <= oc->qd[dom].q;
}

/* LSD radix sort of n keys, byte by byte, skipping the bytes all keys
 * share (strata and units use few); tmp: n keys of scratch. */
static void sort_u64(uint64_t *k, size_t n, uint64_t *tmp)
{
    size_t cnt[8][256];
    if (n < 2)
        return;
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            cnt[b][(k[i] >> (8 * b)) & 255]++;
    uint64_t *a = k, *o = tmp;
    for (int b = 0; b < 8; b++) {
        size_t *c = cnt[b], at = 0;
        if (c[(a[0] >> (8 * b)) & 255] == n)
            continue;
        for (int d = 0; d < 256; d++) {
            size_t m = c[d];
            c[d] = at;
            at += m;
        }
        for (size_t i = 0; i < n; i++)
            o[c[(a[i] >> (8 * b)) & 255]++] = a[i];
        uint64_t *t = a;
        a = o;
        o = t;
    }
    if (a != k)
        memcpy(k, a, n * sizeof *k);
}

/* PSUs minus strata among n keys (stratum << 32 | unit), sorted here
 * (tmp: n keys of scratch); a row is its own PSU where there are none. */
static double keys_df(uint64_t *k, size_t n, uint64_t *tmp)
{
    sort_u64(k, n, tmp);
    long long psu = 0, str = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || k[i] >> 32 != k[i - 1] >> 32)
            str++;
        if (i == 0 || k[i] != k[i - 1] || (uint32_t)k[i] == SVY_DSN_NOUNIT)
            psu++;
    }
    return (double)(psu - str);
}

/* Bucket one outcome's pairs by domain (stable), prepare each domain and
 * find its quantile. */
static svy_status quant_prepare(svy_est *e, outcome *oc, svy_err *err)
{
    size_t nd = e->dom_tab.n, n = oc->nqs;
    oc->qd = calloc(nd ? nd : 1, sizeof *oc->qd);
    svy_qpair *v = malloc((n ? n : 1) * sizeof *v), *tmp = malloc((n ? n : 1) * sizeof *tmp);
    uint64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    if (!oc->qd || !v || !tmp || !keys) {
        free(v);
        free(tmp);
        free(keys);
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory sorting the values of %s (--quantile)", oc->column);
    }
    oc->nqd = nd;
    for (size_t i = 0; i < n; i++)
        oc->qd[oc->qs[i].dom].n++;
    size_t at = 0;
    for (size_t d = 0; d < nd; d++) {
        oc->qd[d].start = at;
        at += oc->qd[d].n;
        oc->qd[d].n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        qdom *q = &oc->qd[oc->qs[i].dom];
        keys[q->start + q->n] = (uint64_t)oc->qs[i].h << 32 | oc->qs[i].u;
        v[q->start + q->n++] = (svy_qpair){oc->qs[i].x, oc->qs[i].w};
    }
    for (size_t d = 0; d < nd; d++)
        oc->qd[d].df = keys_df(keys + oc->qd[d].start, oc->qd[d].n, (uint64_t *)(void *)tmp);
    free(keys);
    free(oc->qs);
    oc->qs = NULL;
    oc->nqs = oc->capqs = 0;
    svy_status st = SVY_OK;
    for (size_t d = 0; d < nd && st == SVY_OK; d++) {
        qdom *q = &oc->qd[d];
        st = svy_qdomain_prepare(v + q->start, &q->n, tmp, &q->total, err);
        q->q = svy_qrule_math(v + q->start, q->n, q->total, oc->prob);
    }
    free(tmp);
    oc->qpairs = v;
    return st;
}

svy_status svy_est_quant_end_pass(svy_est *e, int *again, svy_err *err)
{
    if (e->qphase != 1)
        return SVY_OK;
    if (*again) { /* the design's pass: the rows come again, and so do the pairs */
        for (size_t o = 0; o < e->nout; o++)
            e->out[o].nqs = 0;
        return SVY_OK;
    }
    for (size_t o = 0; o < e->nout; o++) {
        svy_status st;
        if (e->out[o].quant && (st = quant_prepare(e, &e->out[o], err)))
            return st;
    }
    e->qphase = 2;
    *again = 1;
    e->dsn.pass = 2; /* the design is known: the rows only come again */
    e->dsn.rows = 0;
    return SVY_OK;
}

void svy_est_quant_results(svy_est *e)
{
    for (size_t i = 0; i < e->nres; i++) {
        svy_est_result *r = &e->res[i];
        const outcome *oc = NULL;
        for (size_t o = 0; o < e->nout && !oc; o++)
            if (e->out[o].quant && e->out[o].name == r->variable)
                oc = &e->out[o];
        if (!oc)
            continue;
        r->stat = SVY_STAT_QUANTILE;
        r->p = oc->prob;
        const qdom *q = r->domain < oc->nqd ? &oc->qd[r->domain] : NULL;
        double Fhat = r->estimate, se_F = r->se;
        /* na.rm = TRUE: the rows with a value are the domain (replicate
         * weights: the CDF's df, the rank of the domain's replicates) */
        if (q && e->d.df_rule == SVY_DF_DOMAIN && !e->rep)
            r->df = q->df;
        r->deff = r->cv = NAN;
        if (!q || q->n == 0 || !isfinite(Fhat)) {
            r->estimate = r->se = r->ci_low = r->ci_high = NAN;
            continue;
        }
        svy_quantile_ci ci;
        svy_woodruff((const svy_qpair *)oc->qpairs + q->start, q->n, q->total, Fhat, se_F, r->df, e->d.level, &ci);
        r->estimate = q->q;
        r->se = ci.se;
        r->ci_low = ci.ci_low;
        r->ci_high = ci.ci_high;
        r->cv = r->se / r->estimate;
        if (!isfinite(r->cv))
            r->cv = NAN;
        r->flags = 0; /* the proportion's reliability flags are not the quantile's */
        r->note = NULL;
    }
}

void svy_est_quant_free(outcome *oc)
{
    free(oc->qs);
    free(oc->qd);
    free(oc->qpairs);
}
