/* --test: Rao-Scott tests of independence between each two-level outcome
 * (a rate; a share of two levels) and one by variable, within each
 * combination of the other by variables: R's svychisq on
 * subset(design, other == c).  compare.c computes the statistics from the
 * cell proportions and their covariance; here both come from the
 * estimator's records.  Cell (o, j) (o the outcome's level, j the by
 * variable's) has p = W_oj / W over the rows with both present, and its
 * linearization per unit Z_oj = (W_i,oj - p W_i) / W touches every domain j'
 * of the combination, linearly in the domain's (in-level, out-of-level)
 * sums: so any combination of cells is a combination of the domains
 * (svy_est_combination_var), and the covariances follow by polarization.
 * Work per result, after the others; nothing per row. */
#include "svy_private.h"
#include "compare_private.h"
#include "estimate_private.h"
#include "replicate_private.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

svy_status svy_est_set_test(svy_est *e, const char *by, int chisq, svy_err *err)
{
    SVY_FAIL_IF(!e || !by, err, SVY_E_USAGE, "svy_est_set_test: no estimator or no variable");
    size_t k = 0;
    while (k < e->nby && strcmp(e->by[k], by) != 0)
        k++;
    if (k == e->nby)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, by, "--test %s: %s is not a --by variable%s", by, by,
                           e->nby ? "" : " (there is no --by)");
    e->test_on = 1;
    e->test_by = k;
    e->test_chisq = chisq != 0;
    return SVY_OK;
}

size_t svy_est_test_count(const svy_est *e)
{
    return e ? e->ntests : 0;
}

const svy_est_test *svy_est_test_get(const svy_est *e, size_t i)
{
    return e && i < e->ntests ? &e->tests[i] : NULL;
}

long svy_est_test_by(const svy_est *e)
{
    return e && e->test_on ? (long)e->test_by : -1;
}

static int same_others(const svy_est *e, size_t a, size_t b)
{
    for (size_t k = 0; k < e->nby; k++)
        if (k != e->test_by && e->dom_vals[a * e->nby + k] != e->dom_vals[b * e->nby + k] &&
            strcmp(svy_strtab_str(&e->domval_tab, e->dom_vals[a * e->nby + k]),
                   svy_strtab_str(&e->domval_tab, e->dom_vals[b * e->nby + k])) != 0)
            return 0;
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* R's nu: distinct PSUs minus distinct strata over the combination's rows
 * (zero weights and missing outcomes count). */
static double combination_nu(const svy_est *e, const size_t *dom, size_t nd)
{
    const layer *L = &e->lay[0];
    size_t n = 0;
    for (size_t j = 0; j < nd; j++)
        n += L->dstart[dom[j] + 1] - L->dstart[dom[j]];
    uint64_t *k = svy_calloc(n ? n : 1, sizeof *k);
    if (!k)
        return NAN;
    double psu = 0;
    n = 0;
    for (size_t j = 0; j < nd; j++)
        for (size_t i = L->dstart[dom[j]]; i < L->dstart[dom[j] + 1]; i++) {
            const rec *r = &L->recs[i];
            if (L->by_stratum)
                psu += (double)r->rows; /* rows are the PSUs */
            k[n++] = ((uint64_t)r->stratum << 32) | (L->by_stratum ? 0 : r->key);
        }
    qsort(k, n, sizeof *k, cmp_u64);
    double strata = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || k[i] >> 32 != k[i - 1] >> 32)
            strata++;
        if (!L->by_stratum && (i == 0 || k[i] != k[i - 1]))
            psu++;
    }
    free(k);
    return psu - strata;
}

typedef struct ctab {
    svy_est *e;
    const qty *q;
    const size_t *dom;
    size_t nc;        /* levels of the by variable (domains) */
    double W;         /* the combination's weight over complete rows */
    double *pin, *pout; /* per domain: weight in the level, out of it */
    vctx *terms;
    double *zbuf;
} ctab;

/* Var(sum of cells a and b) (b = a: the variance of cell a times 4). Cells
 * are o + 2 j, o = 0 the in-level side. */
static svy_status cells_var(ctab *t, size_t a, size_t b, double *V, svy_err *err)
{
    double A = 0;
    size_t cells[2] = {a, b};
    for (int s = 0; s < 2; s++) {
        size_t c = cells[s], j = c / 2;
        A += (c % 2 == 0 ? t->pin[j] : t->pout[j]) / t->W;
    }
    for (size_t j = 0; j < t->nc; j++) {
        double ain = 0, aout = 0;
        for (int s = 0; s < 2; s++)
            if (cells[s] / 2 == j)
                *(cells[s] % 2 == 0 ? &ain : &aout) += 1;
        t->terms[j] = (vctx){t->e, t->q, {(ain - A) / t->W, (aout - A) / t->W}, t->zbuf, 0, 0};
    }
    vctx c = {t->e, t->q, {0, 0}, t->zbuf, 0, 0};
    svy_status st = svy_est_combination_var(&c, t->nc, t->dom, t->terms, err);
    *V = c.undefined ? NAN : c.V;
    return st;
}

static const char NOTE_LEVELS[] = "fewer than two levels of the outcome or of the by variable: no test";
static const char NOTE_LEVELS3[] = "a share of more than two levels: not tested yet (rates and two-level shares are)";

/* One outcome's test in one combination. */
static svy_status one_test(svy_est *e, const qty *q, const size_t *dom, size_t nc, double *zbuf, svy_err *err)
{
    if (!svy_grow((void **)&e->tests, &e->captests, e->ntests + 1, sizeof *e->tests))
        return nomem(err);
    svy_est_test *T = &e->tests[e->ntests++];
    memset(T, 0, sizeof *T);
    T->domain = dom[0];
    T->variable = e->out[q->o].name;
    T->by = e->by[e->test_by];
    T->chisq = e->test_chisq;
    T->statistic = T->ndf = T->ddf = T->p_value = NAN;
    if (q->stat == SVY_STAT_SHARE && q->nlv != 2) {
        T->note = NOTE_LEVELS3;
        return SVY_OK;
    }
    size_t R = 2, K = R * nc;
    ctab t = {e, q, dom, nc, 0, NULL, NULL, NULL, zbuf};
    t.pin = svy_calloc(nc, sizeof *t.pin);
    t.pout = svy_calloc(nc, sizeof *t.pout);
    t.terms = svy_calloc(nc, sizeof *t.terms);
    double *ph = svy_calloc(K, sizeof *ph), *V = svy_calloc(K * K, sizeof *V);
    double N = 0;
    svy_status st = SVY_OK;
    if (!t.pin || !t.pout || !t.terms || !ph || !V) {
        st = nomem(err);
        goto out;
    }
    int in_any = 0, out_any = 0;
    for (size_t j = 0; j < nc; j++) {
        usum u = svy_est_domain_sum(e, dom[j], q);
        t.pin[j] = u.p;
        t.pout[j] = u.q;
        t.W += u.p + u.q;
        in_any |= u.p > 0;
        out_any |= u.q > 0;
        N += (double)e->doms[dom[j]].rows;
    }
    if (nc < 2 || !in_any || !out_any || !(t.W > 0)) {
        T->note = NOTE_LEVELS;
        goto out;
    }
    for (size_t c = 0; c < K; c++)
        ph[c] = (c % 2 == 0 ? t.pin[c / 2] : t.pout[c / 2]) / t.W;
    double nu = NAN;
    if (e->rep) /* the replicates' covariance and degf (replicate_compare.c) */
        st = svy_rep_test_cov(e, q, dom, nc, ph, V, &nu, err);
    for (size_t a = 0; a < K && st == SVY_OK && !e->rep; a++) {
        st = cells_var(&t, a, a, &V[a * K + a], err);
        V[a * K + a] /= 4;
    }
    for (size_t a = 0; a < K && st == SVY_OK && !e->rep; a++)
        for (size_t b = a + 1; b < K && st == SVY_OK; b++) {
            double s;
            st = cells_var(&t, a, b, &s, err);
            V[a * K + b] = V[b * K + a] = (s - V[a * K + a] - V[b * K + b]) / 2;
        }
    if (st)
        goto out;
    svy_raoscott_result rs;
    if ((st = svy_raoscott(R, nc, ph, V, N, e->rep ? nu : combination_nu(e, dom, nc), &rs, err)))
        goto out;
    if (e->test_chisq) {
        T->statistic = rs.x2;
        T->ndf = rs.df_chisq;
        T->p_value = rs.p_chisq;
    } else {
        T->statistic = rs.f;
        T->ndf = rs.ndf;
        T->ddf = rs.ddf;
        T->p_value = rs.p_f;
    }
out:
    free(t.pin);
    free(t.pout);
    free(t.terms);
    free(ph);
    free(V);
    return st;
}

svy_status svy_est_test_results(svy_est *e, const size_t *order, size_t ndom, const long *lv, size_t nlv,
                                svy_err *err)
{
    size_t maxrecs = 1;
    for (size_t li = 0; li < e->nlay; li++)
        if (e->lay[li].nrecs > maxrecs)
            maxrecs = e->lay[li].nrecs;
    size_t *dom = svy_calloc(ndom ? ndom : 1, sizeof *dom);
    unsigned char *done = svy_calloc(ndom ? ndom : 1, 1);
    long *olv = svy_calloc(nlv ? nlv : 1, sizeof *olv);
    double *zbuf = svy_calloc(maxrecs * 2, sizeof *zbuf);
    svy_status st = SVY_OK;
    if (!dom || !done || !olv || !zbuf) {
        st = nomem(err);
        goto out;
    }
    for (size_t i = 0; i < ndom && st == SVY_OK; i++) {
        size_t d = order[i];
        if (done[i] || e->doms[d].overall)
            continue;
        size_t nc = 0;
        for (size_t k = i; k < ndom; k++)
            if (!done[k] && !e->doms[order[k]].overall && same_others(e, d, order[k])) {
                done[k] = 1;
                dom[nc++] = order[k];
            }
        for (size_t o = 0; o < e->nout && st == SVY_OK; o++) {
            if (e->out[o].stat == SVY_STAT_RATE && !e->out[o].quant) { /* a quantile is no 0/1 outcome */
                qty q = {o, -1, SVY_STAT_RATE, NULL, 0};
                st = one_test(e, &q, dom, nc, zbuf, err);
            } else if (e->out[o].stat == SVY_STAT_SHARE) {
                size_t k = 0;
                for (size_t l = 0; l < nlv; l++)
                    if (e->lvl_outcome[lv[l]] == (long)o)
                        olv[k++] = lv[l];
                qty q = {o, k ? olv[0] : -1, SVY_STAT_SHARE, olv, k};
                st = one_test(e, &q, dom, nc, zbuf, err);
            }
        }
    }
out:
    free(dom);
    free(done);
    free(olv);
    free(zbuf);
    return st;
}
