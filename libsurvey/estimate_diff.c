/* --diff: the difference between each level of one by variable and a
 * reference level, for every estimate, within each combination of the other
 * by variables.  R: svyby(..., covmat = TRUE) + svycontrast(c(-1, 1)); the
 * variance is that of the joint linearization of the two domains
 * (estimate_variance.c's svy_est_combination_var): the domains share PSUs,
 * so their covariance enters.  Work per result, after the others; nothing
 * per row. */
#include "svy_private.h"
#include "compare_private.h"
#include "estimate_private.h"
#include "replicate_private.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

svy_status svy_est_set_diff(svy_est *e, const char *by, const char *ref, svy_err *err)
{
    SVY_FAIL_IF(!e || !by, err, SVY_E_USAGE, "svy_est_set_diff: no estimator or no variable");
    size_t k = 0;
    while (k < e->nby && strcmp(e->by[k], by) != 0)
        k++;
    if (k == e->nby)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, by, "--diff %s: %s is not a --by variable%s", by, by,
                           e->nby ? "" : " (there is no --by)");
    /* A quantile's SE comes from Woodruff's interval, not a linearization of
     * the domain: there is no covariance to difference it with. */
    for (size_t o = 0; o < e->nout; o++)
        SVY_FAIL_IF(e->out[o].quant, err, SVY_E_USAGE,
                    "--diff: differences of quantiles are not computed (no joint variance of two domains' "
                    "quantiles); run svy-tab once with --quantile and once with --diff");
    char *r = NULL;
    if (ref && !(r = svy_strdup(ref)))
        return nomem(err);
    free(e->diff_ref);
    e->diff_ref = r;
    e->diff_on = 1;
    e->diff_by = k;
    return SVY_OK;
}

long svy_est_diff_by(const svy_est *e)
{
    return e && e->diff_on ? (long)e->diff_by : -1;
}

/* By values compare as numbers when both are (2 < 10, "2" = "2.0"), else as
 * bytes: the order of the table's rows. */
static int cmp_level(const char *a, const char *b)
{
    double x, y;
    if (svy_parse_number(a, (size_t)-1, &x) && svy_parse_number(b, (size_t)-1, &y))
        return (x > y) - (x < y);
    return strcmp(a, b);
}

static const char *by_text(const svy_est *e, size_t dom, size_t k)
{
    return svy_strtab_str(&e->domval_tab, e->dom_vals[dom * e->nby + k]);
}

/* The domain holding the reference level with d's other by values; -1 none. */
static long ref_domain(const svy_est *e, const size_t *order, size_t ndom, size_t d, const char *ref)
{
    for (size_t i = 0; i < ndom; i++) {
        size_t c = order[i];
        if (e->doms[c].overall || cmp_level(by_text(e, c, e->diff_by), ref) != 0)
            continue;
        size_t k = 0;
        while (k < e->nby && (k == e->diff_by || strcmp(by_text(e, c, k), by_text(e, d, k)) == 0))
            k++;
        if (k == e->nby)
            return (long)c;
    }
    return -1;
}

/* The reference level: the one asked for (a usage error when no row has
 * it), else the lowest. */
static svy_status find_ref(const svy_est *e, const size_t *order, size_t ndom, const char **ref, svy_err *err)
{
    const char *lo = NULL;
    for (size_t i = 0; i < ndom; i++) {
        if (e->doms[order[i]].overall)
            continue;
        const char *t = by_text(e, order[i], e->diff_by);
        if (e->diff_ref && cmp_level(t, e->diff_ref) == 0) {
            *ref = t;
            return SVY_OK;
        }
        if (!lo || cmp_level(t, lo) < 0)
            lo = t;
    }
    if (!e->diff_ref) {
        *ref = lo;
        return SVY_OK;
    }
    char known[200];
    size_t u = 0;
    known[0] = '\0';
    for (size_t i = 0; i < ndom && u < sizeof known - 8; i++) {
        if (e->doms[order[i]].overall)
            continue;
        const char *t = by_text(e, order[i], e->diff_by);
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !e->doms[order[j]].overall && strcmp(by_text(e, order[j], e->diff_by), t) == 0;
        if (!seen)
            u += (size_t)snprintf(known + u, sizeof known - u, "%s%s", u ? ", " : "", t);
    }
    const char *var = e->by[e->diff_by];
    return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, var,
                       "--diff %s=%s: no row has %s equal to '%s' (neither a code nor a label of it); %s has %s", var,
                       e->diff_ref, var, e->diff_ref, var, u ? known : "no value");
}

/* Every quantity of a domain, in the order of its results. */
static qty *quantities(const svy_est *e, const long *lv, size_t nlv, long *olv, size_t *nq)
{
    size_t n = 0, used = 0;
    for (size_t o = 0; o < e->nout; o++) {
        if (e->out[o].stat != SVY_STAT_SHARE) {
            n++;
            continue;
        }
        for (size_t i = 0; i < nlv; i++)
            n += e->lvl_outcome[lv[i]] == (long)o;
    }
    qty *q = svy_calloc(n ? n : 1, sizeof *q);
    if (!q)
        return NULL;
    n = 0;
    for (size_t o = 0; o < e->nout; o++) {
        if (e->out[o].stat != SVY_STAT_SHARE) {
            q[n++] = (qty){o, -1, e->out[o].stat, NULL, 0};
            continue;
        }
        long *seg = olv + used;
        size_t k = 0;
        for (size_t i = 0; i < nlv; i++)
            if (e->lvl_outcome[lv[i]] == (long)o)
                seg[k++] = lv[i];
        used += k;
        for (size_t i = 0; i < k; i++)
            q[n++] = (qty){o, seg[i], SVY_STAT_SHARE, seg, k};
    }
    *nq = n;
    return q;
}

/* The linearization of quantity q in domain d (as one_result makes it). */
static lin lin_in(const svy_est *e, size_t d, const qty *q)
{
    usum t = svy_est_domain_sum(e, d, q);
    double W = svy_est_is_prop(q->stat) ? t.p + t.q : t.q;
    return svy_est_lin_of(q->stat, W > 0 ? t.p / W : 0, W);
}

static const char NOTE_MISSING[] = "no estimate for this level or the reference level: no difference";
static const char NOTE_AVG[] = "no stratum with two or more PSUs to average over (--lonely average): no variance";

static svy_status diff_ci(const svy_est *e, svy_est_result *r, double est, double V, double df, svy_err *err);

/* One difference: d's result a minus dref's result b, quantity q. */
static svy_status one_diff(svy_est *e, size_t d, size_t dref, const qty *q, size_t a, size_t b, const char *ref,
                           double df, double *zbuf, svy_err *err)
{
    svy_est_result r1 = e->res[a], r0 = e->res[b];
    if (!svy_grow((void **)&e->res, &e->capres, e->nres + 1, sizeof *e->res))
        return nomem(err);
    svy_est_result *r = &e->res[e->nres++];
    memset(r, 0, sizeof *r);
    r->domain = d;
    r->variable = r1.variable;
    r->column = r1.column;
    r->level = r1.level;
    r->stat = q->stat;
    r->reference = ref;
    r->df = df;
    r->n = r1.n + r0.n;
    r->weighted_n = r1.weighted_n + r0.weighted_n;
    r->domain_rows = r1.domain_rows + r0.domain_rows;
    r->estimate = r->se = r->ci_low = r->ci_high = r->deff = r->cv = r->p_value = NAN;
    if (isnan(r1.estimate) || isnan(r0.estimate)) {
        r->note = NOTE_MISSING;
        return SVY_OK;
    }
    double est = r1.estimate - r0.estimate, V;
    svy_status st;
    if (e->rep) { /* svrVar of the replicates' differences (replicate_compare.c) */
        if ((st = svy_rep_diff(e, d, dref, q, est, &V, err)))
            return st;
        r->estimate = est;
        return diff_ci(e, r, est, V, df, err);
    }
    vctx terms[2] = {{e, q, lin_in(e, d, q), zbuf, 0, 0}, {e, q, lin_in(e, dref, q), zbuf, 0, 0}};
    terms[1].z.alpha = -terms[1].z.alpha;
    terms[1].z.beta = -terms[1].z.beta;
    size_t doms[2] = {d, dref};
    vctx c = {e, q, {0, 0}, zbuf, 0, 0};
    if ((st = svy_est_combination_var(&c, 2, doms, terms, err)))
        return st;
    r->estimate = est;
    if (c.undefined || isnan(c.V)) {
        r->note = NOTE_AVG;
        return SVY_OK;
    }
    double s = q->stat == SVY_STAT_TOTAL ? e->dsn.wscale : 1;
    return diff_ci(e, r, est, c.V * s * s, df, err);
}

/* The SE, interval and p of a difference est with variance V. */
static svy_status diff_ci(const svy_est *e, svy_est_result *r, double est, double V, double df, svy_err *err)
{
    double one = 1;
    svy_status st;
    svy_contrast_result cr;
    if ((st = svy_contrast(1, &est, &V, &one, df, e->d.level, &cr, err)))
        return st;
    r->se = cr.se;
    r->ci_low = cr.ci_low;
    r->ci_high = cr.ci_high;
    r->p_value = cr.p_value;
    r->cv = NAN;
    return SVY_OK;
}

svy_status svy_est_diff_results(svy_est *e, const size_t *order, size_t ndom, const long *lv, size_t nlv,
                                svy_err *err)
{
    const char *ref = NULL;
    svy_status st = find_ref(e, order, ndom, &ref, err);
    if (st || !ref)
        return st;
    size_t nres = e->nres, nq = 0, maxrecs = 1;
    for (size_t li = 0; li < e->nlay; li++)
        if (e->lay[li].nrecs > maxrecs)
            maxrecs = e->lay[li].nrecs;
    size_t *first = svy_calloc(ndom ? ndom : 1, sizeof *first);
    long *olv = svy_calloc(nlv ? nlv : 1, sizeof *olv);
    double *zbuf = svy_calloc(maxrecs, sizeof *zbuf);
    qty *q = olv ? quantities(e, lv, nlv, olv, &nq) : NULL;
    if (!first || !olv || !zbuf || !q) {
        st = nomem(err);
        goto out;
    }
    for (size_t i = nres; i-- > 0;)
        first[e->res[i].domain] = i; /* each domain's results are contiguous */
    double df = e->d.df_rule == SVY_DF_INF     ? INFINITY
                : e->d.df_rule == SVY_DF_FIXED ? e->d.df
                : e->rep                       ? svy_rep_full_df(e) /* degf of the replicate design */
                                               : svy_est_full_df(e);
    for (size_t i = 0; i < ndom && st == SVY_OK; i++) {
        size_t d = order[i];
        if (e->doms[d].overall || cmp_level(by_text(e, d, e->diff_by), ref) == 0)
            continue;
        long dr = ref_domain(e, order, ndom, d, ref);
        if (dr < 0)
            continue; /* this combination has no row at the reference level */
        for (size_t k = 0; k < nq && st == SVY_OK; k++)
            st = one_diff(e, d, (size_t)dr, &q[k], first[d] + k, first[dr] + k, ref, df, zbuf, err);
    }
out:
    free(first);
    free(olv);
    free(zbuf);
    free(q);
    return st;
}
