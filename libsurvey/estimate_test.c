/* --test: Rao-Scott tests of independence between each rate or share
 * outcome and one by variable, within each combination of the other by
 * variables: R's svychisq on subset(design, other == c), the R x C table of
 * the outcome's levels by the variable's.  compare.c computes the
 * statistics from the cell proportions and their covariance; here both come
 * from the estimator's records.  Cell (o, j) (o the outcome's level, j the
 * by variable's) has p = W_oj / W over the rows with both present, and its
 * linearization per unit Z_oj = (W_i,oj - p W_i) / W touches every domain j'
 * of the combination: one pass over the combination's records gives each
 * unit's K = R C values, and the kernel their K x K covariance
 * (svy_est_cells_cov).  R's N and nu count every row of the combination,
 * also those missing the outcome or the tested variable: the latter, in no
 * domain, are counted as they come (svy_est_test_row).  Work per result,
 * after the others; nothing per row but for rows missing the variable. */
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

/* Whether domains a and b have the same other by values: their keys' value
 * ids ("1" and "1.0" one value, as the domains are), not the first-shown
 * spellings. */
static int same_others(const svy_est *e, size_t a, size_t b)
{
    const char *ka = svy_strtab_str(&e->dom_tab, a), *kb = svy_strtab_str(&e->dom_tab, b);
    for (size_t k = 0; k < e->nby; k++) {
        uint32_t x, y;
        memcpy(&x, ka + k * sizeof x, sizeof x);
        memcpy(&y, kb + k * sizeof y, sizeof y);
        if (k != e->test_by && x != y)
            return 0;
    }
    return 1;
}

/* ------------------------------------- rows whose tested variable is missing */

svy_status svy_est_test_row(svy_est *e, const svy_dpath *p, svy_err *err)
{
    int added;
    long c = svy_strtab_intern(&e->tmiss_combo, e->dom_key, e->nby * sizeof *e->dom_key, &added);
    if (c < 0 || !svy_grow((void **)&e->tmiss_rows, &e->cap_tmiss_rows, (size_t)c + 1, sizeof *e->tmiss_rows))
        return nomem(err);
    if (added)
        e->tmiss_rows[c] = 0;
    e->tmiss_rows[c]++;
    const layer *L = &e->lay[0];
    uint32_t k[3] = {(uint32_t)c, p->stratum[L->stage], L->by_stratum ? 0 : p->unit[L->stage]};
    return svy_strtab_intern(&e->tmiss_psu, k, sizeof k, NULL) < 0 ? nomem(err) : SVY_OK;
}

void svy_est_test_free(svy_est *e)
{
    svy_strtab_free(&e->tmiss_combo);
    svy_strtab_free(&e->tmiss_psu);
    free(e->tmiss_rows);
    e->tmiss_rows = NULL;
    e->cap_tmiss_rows = 0;
}

/* The combination (of rows missing the tested variable) of domain d's other
 * by values; -1 none. */
static long missing_combo(const svy_est *e, size_t d)
{
    if (!e->tmiss_combo.n)
        return -1;
    uint32_t k8[8], *k = e->nby <= 8 ? k8 : svy_calloc(e->nby, sizeof *k);
    if (!k)
        return -1;
    memcpy(k, svy_strtab_str(&e->dom_tab, d), e->nby * sizeof *k);
    k[e->test_by] = UINT32_MAX;
    long c = svy_strtab_find(&e->tmiss_combo, k, e->nby * sizeof *k);
    if (k != k8)
        free(k);
    return c;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* R's nu: distinct PSUs minus distinct strata over the combination's rows
 * (zero weights, missing outcomes and a missing tested variable count);
 * miss: the combination's rows missing the tested variable, or -1. */
static double combination_nu(const svy_est *e, const size_t *dom, size_t nd, long miss)
{
    const layer *L = &e->lay[0];
    size_t n = 0;
    for (size_t j = 0; j < nd; j++)
        n += L->dstart[dom[j] + 1] - L->dstart[dom[j]];
    if (miss >= 0)
        n += e->tmiss_psu.n;
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
    if (miss >= 0) {
        if (L->by_stratum)
            psu += (double)e->tmiss_rows[miss];
        for (size_t i = 0; i < e->tmiss_psu.n; i++) {
            uint32_t m[3];
            memcpy(m, svy_strtab_str(&e->tmiss_psu, i), sizeof m);
            if (m[0] == (uint32_t)miss)
                k[n++] = ((uint64_t)m[1] << 32) | m[2];
        }
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

/* ------------------------------------------------------------ the table */

/* One outcome's table in one combination: rows the outcome's levels with
 * weight (a rate: in, out), columns the domains; cell (o, j) at o + nr j. */
typedef struct ctab {
    svy_est *e;
    const qty *q;
    const size_t *dom;
    size_t nc, nr;
    size_t *row_lv;   /* a share: each table row's index in q->lv */
    long *level_id;   /* and its level */
    double W;         /* the combination's weight over complete rows */
    double *cw;       /* nr * nc cell weights */
} ctab;

/* The cells' weights: a rate's in and out, a share's levels with weight in
 * the combination (levels seen only with weight 0 carry no information and
 * are left out, as levels no row has).  0: fewer than two rows. */
static int cell_weights(ctab *t)
{
    const qty *q = t->q;
    if (q->stat == SVY_STAT_RATE) {
        double in = 0, out = 0;
        for (size_t j = 0; j < t->nc; j++) {
            usum u = svy_est_domain_sum(t->e, t->dom[j], q);
            in += t->cw[2 * j] = u.p;
            out += t->cw[2 * j + 1] = u.q;
        }
        t->nr = in > 0 && out > 0 ? 2 : 1;
    } else {
        t->nr = 0;
        for (size_t l = 0; l < q->nlv; l++) {
            qty ql = *q;
            ql.level = q->lv[l];
            double tot = 0;
            for (size_t j = 0; j < t->nc; j++)
                tot += t->cw[l + q->nlv * j] = svy_est_domain_sum(t->e, t->dom[j], &ql).p;
            if (tot > 0)
                t->row_lv[t->nr++] = l;
        }
        /* compact to the rows kept: cell (o, j) at o + nr j */
        for (size_t j = 0; j < t->nc; j++)
            for (size_t o = 0; o < t->nr; o++)
                t->cw[o + t->nr * j] = t->cw[t->row_lv[o] + q->nlv * j];
    }
    t->W = 0;
    for (size_t c = 0; c < t->nr * t->nc; c++)
        t->W += t->cw[c];
    return t->nr >= 2;
}

static const char NOTE_LEVELS[] = "fewer than two levels of the outcome or of the by variable: no test";
/* compare.c's limit; the covariance costs K^2 per unit of the design */
enum { CELLS_MAX = 1024 };
static const char NOTE_CELLS[] = "a table of more than 1024 cells: no test";

/* Var(cell a + cell b) with calibration residuals (b = a: 4 Var(cell a)).
 * The linearization of the cells' proportions is (1{a} + 1{b} - A 1{in
 * the table}) / W, A = p_a + p_b: per domain, a term per cell of S in it
 * and one for every row of the domain in the table. */
static svy_status cal_pair_var(svy_est *e, const svy_cells *cs, size_t a, size_t b, vctx *terms, size_t *tdom,
                               qty *tq, double *V, svy_err *err)
{
    const size_t nr = cs->nr, cells[2] = {a, b};
    const double A = cs->ph[a] + cs->ph[b], W = cs->W;
    size_t nt = 0;
    for (size_t j = 0; j < cs->nc; j++) {
        lin base = {-A / W, -A / W};
        for (int s = 0; s < 2; s++) {
            if (cells[s] / nr != j)
                continue;
            size_t o = cells[s] % nr;
            if (cs->q->stat == SVY_STAT_SHARE) {
                tq[nt] = *cs->q;
                tq[nt].level = cs->row_level[o];
                terms[nt] = (vctx){e, &tq[nt], {1 / W, 0}, NULL, 0, 0};
                tdom[nt++] = cs->dom[j];
            } else if (o == 0) {
                base.alpha += 1 / W;
            } else {
                base.beta += 1 / W;
            }
        }
        tq[nt] = *cs->q;
        if (cs->q->stat == SVY_STAT_SHARE)
            tq[nt].level = cs->row_level[0];
        terms[nt] = (vctx){e, &tq[nt], base, NULL, 0, 0};
        tdom[nt++] = cs->dom[j];
    }
    vctx c = {e, cs->q, {0, 0}, NULL, 0, 0};
    svy_status st = svy_est_combination_var(&c, nt, tdom, terms, err);
    *V = c.undefined ? NAN : c.V;
    return st;
}

/* The K x K covariance of the cells under --calibrated-to, from the
 * variances of single cells and of pairs (svy_est_cells_cov's one pass has
 * no calibration residuals). */
static svy_status cal_cells_cov(svy_est *e, const svy_cells *cs, double *V, svy_err *err)
{
    const size_t K = cs->nr * cs->nc, nt = 3 * cs->nc;
    vctx *terms = svy_calloc(nt, sizeof *terms);
    size_t *tdom = svy_calloc(nt, sizeof *tdom);
    qty *tq = svy_calloc(nt, sizeof *tq);
    svy_status st = terms && tdom && tq ? SVY_OK : nomem(err);
    for (size_t a = 0; a < K && st == SVY_OK; a++) {
        st = cal_pair_var(e, cs, a, a, terms, tdom, tq, &V[a * K + a], err);
        V[a * K + a] /= 4;
    }
    for (size_t a = 0; a < K && st == SVY_OK; a++)
        for (size_t b = a + 1; b < K && st == SVY_OK; b++) {
            double s;
            st = cal_pair_var(e, cs, a, b, terms, tdom, tq, &s, err);
            V[a * K + b] = V[b * K + a] = (s - V[a * K + a] - V[b * K + b]) / 2;
        }
    free(terms);
    free(tdom);
    free(tq);
    return st;
}

/* One outcome's test in one combination. */
static svy_status one_test(svy_est *e, const qty *q, const size_t *dom, size_t nc, svy_err *err)
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
    size_t L = q->stat == SVY_STAT_SHARE ? q->nlv : 2, K = L * nc;
    ctab t = {e, q, dom, nc, 0, NULL, NULL, 0, NULL};
    t.row_lv = svy_calloc(L, sizeof *t.row_lv);
    t.level_id = svy_calloc(L, sizeof *t.level_id);
    t.cw = svy_calloc(K, sizeof *t.cw);
    double *ph = NULL, *V = NULL;
    svy_status st = SVY_OK;
    if (!t.row_lv || !t.level_id || !t.cw) {
        st = nomem(err);
        goto out;
    }
    long miss = missing_combo(e, dom[0]);
    double N = miss >= 0 ? (double)e->tmiss_rows[miss] : 0;
    for (size_t j = 0; j < nc; j++)
        N += (double)e->doms[dom[j]].rows;
    if (nc < 2 || !cell_weights(&t) || !(t.W > 0)) {
        T->note = NOTE_LEVELS;
        goto out;
    }
    K = t.nr * nc;
    if (K > CELLS_MAX) {
        T->note = NOTE_CELLS;
        goto out;
    }
    ph = svy_calloc(K, sizeof *ph);
    V = svy_calloc(K * K, sizeof *V);
    if (!ph || !V) {
        st = nomem(err);
        goto out;
    }
    for (size_t c = 0; c < K; c++)
        ph[c] = t.cw[c] / t.W;
    for (size_t o = 0; q->stat == SVY_STAT_SHARE && o < t.nr; o++)
        t.level_id[o] = q->lv[t.row_lv[o]];
    svy_cells cs = {q, nc, t.nr, dom, t.level_id, ph, t.W};
    double nu = NAN;
    if (e->rep) /* the replicates' covariance and degf (replicate_compare.c) */
        st = svy_rep_test_cov(e, &cs, V, &nu, err);
    else if (e->cal) /* calibration residuals reach every cell: pairs through svy_cal_var */
        st = cal_cells_cov(e, &cs, V, err);
    else
        st = svy_est_cells_cov(e, &cs, V, err);
    if (st)
        goto out;
    svy_raoscott_result rs;
    if ((st = svy_raoscott(t.nr, nc, ph, V, N, e->rep ? nu : combination_nu(e, dom, nc, miss), &rs, err)))
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
    free(t.row_lv);
    free(t.level_id);
    free(t.cw);
    free(ph);
    free(V);
    return st;
}

svy_status svy_est_test_results(svy_est *e, const size_t *order, size_t ndom, const long *lv, size_t nlv,
                                svy_err *err)
{
    size_t *dom = svy_calloc(ndom ? ndom : 1, sizeof *dom);
    unsigned char *done = svy_calloc(ndom ? ndom : 1, 1);
    long *olv = svy_calloc(nlv ? nlv : 1, sizeof *olv);
    svy_status st = SVY_OK;
    if (!dom || !done || !olv) {
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
                st = one_test(e, &q, dom, nc, err);
            } else if (e->out[o].stat == SVY_STAT_SHARE) {
                size_t k = 0;
                for (size_t l = 0; l < nlv; l++)
                    if (e->lvl_outcome[lv[l]] == (long)o)
                        olv[k++] = lv[l];
                qty q = {o, k ? olv[0] : -1, SVY_STAT_SHARE, olv, k};
                st = one_test(e, &q, dom, nc, err);
            }
        }
    }
out:
    free(dom);
    free(done);
    free(olv);
    return st;
}
