/* The variance of one estimated quantity (an outcome, or a level of a
 * share) of one domain: its records' sums, the linearization, and the
 * stage-by-stage sums of squares (the kernel is variance.c; the layout of
 * records is in estimate_private.h).  Per result, not per row. */
#include "svy_private.h"
#include "estimate_private.h"
#include "variance_private.h"
#include "calib_private.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static svy_vgroup_stats level_stats(const layer *L, size_t r, long level)
{
    long li = svy_u64map_find(&L->lmap, ((uint64_t)r << 32) | (uint64_t)level);
    if (li < 0)
        return (svy_vgroup_stats){0, 0, 0};
    const double *g = L->lpool + (size_t)li * 4;
    return svy_vstats_from_shifted(g[0], g[1], g[2], g[3]);
}

/* The share's rows outside `level` in record r: the other levels merged. */
static svy_vgroup_stats other_levels(const layer *L, size_t r, const qty *q)
{
    svy_vgroup_stats acc = {0, 0, 0};
    for (size_t i = 0; i < q->nlv; i++)
        if (q->lv[i] != q->level)
            acc = svy_vstats_merge(acc, level_stats(L, r, q->lv[i]));
    return acc;
}

static usum rec_sum(const svy_est *e, const layer *L, size_t r, const qty *q)
{
    const outcome *oc = &e->out[q->o];
    usum u = {0, 0, 0, 0, 0};
    if (!L->rows) {
        const double *c = L->pool + L->recs[r].block + oc->off_sums;
        switch (q->stat) {
        case SVY_STAT_RATE:
            return (usum){c[2], c[0], c[1], 0, 0};
        case SVY_STAT_SHARE: {
            long li = svy_u64map_find(&L->lmap, ((uint64_t)r << 32) | (uint64_t)q->level);
            double s = li < 0 ? 0 : L->lpool[li];
            return (usum){c[1], s, c[0] - s, 0, 0};
        }
        case SVY_STAT_MEAN:
            return (usum){c[2], c[0], c[1], 0, c[3]};
        case SVY_STAT_TOTAL:
            return (usum){c[2], c[0], c[1], c[3], c[4]};
        case SVY_STAT_RATIO:
            return svy_est_ratio_rec_sum(c, 0);
        case SVY_STAT_QUANTILE: /* never: its outcome is a rate (estimate_quantile.c) */
            break;
        }
        return u;
    }
    const double *c = L->pool + L->recs[r].block + oc->off_rows;
    switch (q->stat) {
    case SVY_STAT_RATE:
        return (usum){c[0] + c[4], c[0] * c[1] + c[2], c[4] * c[5] + c[6], 0, 0};
    case SVY_STAT_SHARE: {
        svy_vgroup_stats in = level_stats(L, r, q->level), out = other_levels(L, r, q);
        return (usum){c[0], in.s, out.s, 0, 0};
    }
    case SVY_STAT_MEAN:
        return (usum){c[0], c[0] * c[1] + c[3], c[0] * c[2] + c[4], 0, c[8]};
    case SVY_STAT_TOTAL:
        return (usum){c[0], c[0] * c[1] + c[3], c[0] * c[2] + c[4], c[8], c[9]};
    case SVY_STAT_RATIO:
        return svy_est_ratio_rec_sum(c, 1);
    case SVY_STAT_QUANTILE: /* never: its outcome is a rate */
        break;
    }
    return u;
}

usum svy_est_rec_usum(const svy_est *e, const layer *L, size_t r, const qty *q)
{
    return rec_sum(e, L, r, q);
}

lin svy_est_lin_of(svy_stat stat, double R, double X)
{
    if (svy_est_is_prop(stat))
        return (lin){(1 - R) / X, -R / X};
    if (stat == SVY_STAT_MEAN || stat == SVY_STAT_RATIO) /* Z = (Y - R X)/X: a mean's, with x for 1 */
        return (lin){1 / X, -R / X};
    return (lin){1, 0};
}

/* ss and uu of a record whose rows are the units of its stratum (of n rows). */
static void rows_ss(const vctx *v, const layer *L, size_t r, double n, double *ss, double *uu)
{
    const qty *q = v->q;
    const lin z = v->z;
    const double *c = L->pool + L->recs[r].block + v->e->out[q->o].off_rows;
    switch (q->stat) {
    case SVY_STAT_RATE:
        svy_vss_groups(svy_vstats_from_shifted(c[0], c[1], c[2], c[3]),
                       svy_vstats_from_shifted(c[4], c[5], c[6], c[7]), z.alpha, z.beta, n, ss, uu);
        return;
    case SVY_STAT_SHARE:
        svy_vss_groups(level_stats(L, r, q->level), other_levels(L, r, q), z.alpha, z.beta, n, ss, uu);
        return;
    case SVY_STAT_MEAN:
    case SVY_STAT_TOTAL:
    case SVY_STAT_RATIO: {
        double k = c[0];
        if (k == 0) {
            *ss = *uu = 0;
            return;
        }
        double A = k * c[1] + c[3], B = k * c[2] + c[4];
        double caa = c[5] - c[3] * (c[3] / k), cab = c[6] - c[3] * (c[4] / k), cbb = c[7] - c[4] * (c[4] / k);
        svy_vss_comoments(k, A, B, caa > 0 ? caa : 0, cab, cbb > 0 ? cbb : 0, z.alpha, z.beta, n, ss, uu);
        return;
    }
    case SVY_STAT_QUANTILE: /* never: its outcome is a rate */
        *ss = *uu = 0;
        return;
    }
}

void svy_est_rows_ss(const vctx *v, const layer *L, size_t r, double n, double *ss, double *uu)
{
    rows_ss(v, L, r, n, ss, uu);
}

static double rec_count(const svy_est *e, const layer *L, size_t r, const qty *q)
{
    const outcome *oc = &e->out[q->o];
    if (!L->rows) {
        static const size_t cnt_at[] = {2, 1, 2, 2, 2};
        return L->pool[L->recs[r].block + oc->off_sums + cnt_at[q->stat]];
    }
    const double *c = L->pool + L->recs[r].block + oc->off_rows;
    return q->stat == SVY_STAT_RATE ? c[0] + c[4] : c[0];
}

static void group_end(vctx *c, const svy_vgroup *g, double F)
{
    double before = c->V;
    svy_vgroup_end(g, F, &c->V);
    if (isnan(c->V) && !isnan(before))
        c->undefined = 1;
}

/* Stage-s variance over the unit records [a, b) of one domain. */
static svy_status units_var(vctx *c, const layer *L, size_t a, size_t b, svy_err *err)
{
    const svy_dstage *S = &c->e->dsn.st[L->stage];
    svy_lonely rule = c->e->d.lonely;
    size_t i = a;
    while (i < b) {
        uint32_t P = L->recs[i].parent;
        double sum, ss, uu;
        svy_vgroup g;
        svy_vgroup_begin(&g, 1, &sum);
        double F = S->strata[L->recs[i].stratum].F;
        while (i < b && L->recs[i].parent == P) {
            uint32_t h = L->recs[i].stratum;
            size_t k = 0;
            for (; i < b && L->recs[i].stratum == h && L->recs[i].parent == P; i++) {
                if (rec_count(c->e, L, i, c->q) == 0)
                    continue;
                usum u = rec_sum(c->e, L, i, c->q);
                c->zbuf[k++] = c->z.alpha * u.p + c->z.beta * u.q;
            }
            if (!k)
                continue;
            const svy_dstratum *T = &S->strata[h];
            svy_vss_units(c->zbuf, k, 1, (double)T->n, &ss, &uu);
            if (svy_vgroup_add(&g, &ss, &uu, (double)T->n, T->g, rule) < 0)
                return svy_dsn_lonely_error(&c->e->dsn, L->stage, h, 0, err);
        }
        group_end(c, &g, F);
    }
    return SVY_OK;
}

/* The variance within records whose rows are the units: each record is a
 * stratum of stage `stage`; records [a, b) of one domain, grouped by their
 * parent unit when by_parent. */
static svy_status rows_var(vctx *c, const layer *L, size_t stage, size_t a, size_t b, svy_err *err)
{
    const svy_dstage *S = &c->e->dsn.st[stage];
    svy_lonely rule = c->e->d.lonely;
    size_t i = a;
    while (i < b) {
        /* Stratum records (by_stratum) share a parent unit; unit records
         * carrying the next stage are each their own parent. */
        uint32_t P = L->by_stratum ? L->recs[i].parent : L->recs[i].key;
        double sum, ss, uu;
        svy_vgroup g;
        svy_vgroup_begin(&g, 1, &sum);
        uint32_t h0 = L->by_stratum ? L->recs[i].stratum : L->recs[i].key;
        double F = S->strata[h0].F;
        do {
            uint32_t h = L->by_stratum ? L->recs[i].stratum : L->recs[i].key;
            if (rec_count(c->e, L, i, c->q) > 0) {
                const svy_dstratum *T = &S->strata[h];
                rows_ss(c, L, i, (double)T->n, &ss, &uu);
                if (svy_vgroup_add(&g, &ss, &uu, (double)T->n, T->g, rule) < 0)
                    return svy_dsn_lonely_error(&c->e->dsn, stage, h, 0, err);
            }
            i++;
        } while (i < b && L->by_stratum && L->recs[i].parent == P);
        group_end(c, &g, F);
    }
    return SVY_OK;
}

/* The variance of one quantity of domain d (in the units of the scaled
 * weights); skip_top leaves out the first stage (a ratio whose rows all lie
 * in one PSU, where it is 0 by construction). */
svy_status svy_est_quantity_var(vctx *c, size_t d, int skip_top, svy_err *err)
{
    if (c->e->cal) /* residuals reach units outside the domain: never 0 by construction */
        return svy_cal_var(c, 1, &d, c, err);
    c->V = 0;
    svy_status st = SVY_OK;
    for (size_t li = 0; li < c->e->nlay && st == SVY_OK; li++) {
        const layer *L = &c->e->lay[li];
        size_t a = L->dstart[d], b = L->dstart[d + 1];
        int top = L->stage == 0 && skip_top;
        if (L->by_stratum) {
            if (!top)
                st = rows_var(c, L, L->stage, a, b, err);
        } else {
            if (!top)
                st = units_var(c, L, a, b, err);
            if (st == SVY_OK && L->rows)
                st = rows_var(c, L, L->stage + 1, a, b, err);
        }
    }
    return st;
}

/* Present PSUs of the first stage for a quantity (2 means "more than one"). */
int svy_est_top_units(const svy_est *e, size_t d, const qty *q)
{
    const layer *L = &e->lay[0];
    double n = 0;
    for (size_t i = L->dstart[d]; i < L->dstart[d + 1] && n < 2; i++)
        n += L->by_stratum ? rec_count(e, L, i, q) : rec_count(e, L, i, q) > 0;
    return n >= 2 ? 2 : (int)n;
}

usum svy_est_domain_sum(const svy_est *e, size_t dom, const qty *q)
{
    const layer *L0 = &e->lay[0];
    usum t = {0, 0, 0, 0, 0};
    for (size_t i = L0->dstart[dom]; i < L0->dstart[dom + 1]; i++) {
        usum u = rec_sum(e, L0, i, q);
        t.cnt += u.cnt;
        t.p += u.p;
        t.q += u.q;
        t.ash += u.ash;
        t.qq += u.qq;

    }
    return t;
}

/* ------------------------------------------- linear combinations of domains
 *
 * The variance of sum_t theta_t over disjoint domains dom[t] of one
 * quantity (a difference: two terms, the second's lin negated): R's
 * svyby(covmat = TRUE) + svycontrast, whose c'Vc is the variance of the
 * combined linearization Z_i = sum_t Z_{i,t}.  Records of each domain are
 * sorted by (parent, stratum, key), so the domains' lists are merged. */

typedef struct cterm {
    size_t a, b;     /* the term's records [a, b) in the layer */
    vctx v;          /* its quantity and lin */
} cterm;

static int rec_cmp3(const layer *L, size_t i, uint32_t P, uint32_t h, uint32_t k)
{
    const rec *r = &L->recs[i];
    if (r->parent != P)
        return r->parent < P ? -1 : 1;
    if (r->stratum != h)
        return r->stratum < h ? -1 : 1;
    return r->key < k ? -1 : r->key > k;
}

/* The smallest (parent, stratum, key) at the heads; 0 when every list is done. */
static int next_head(const layer *L, const cterm *t, size_t nt, uint32_t *P, uint32_t *h, uint32_t *k)
{
    int any = 0;
    for (size_t i = 0; i < nt; i++) {
        if (t[i].a >= t[i].b)
            continue;
        if (!any || rec_cmp3(L, t[i].a, *P, *h, *k) < 0) {
            const rec *r = &L->recs[t[i].a];
            *P = r->parent;
            *h = r->stratum;
            *k = r->key;
        }
        any = 1;
    }
    return any;
}

static svy_status c_units_var(vctx *c, const layer *L, cterm *t, size_t nt, svy_err *err)
{
    const svy_dstage *S = &c->e->dsn.st[L->stage];
    svy_lonely rule = c->e->d.lonely;
    uint32_t P, h, k;
    while (next_head(L, t, nt, &P, &h, &k)) {
        uint32_t P0 = P;
        double sum, ss, uu;
        svy_vgroup g;
        svy_vgroup_begin(&g, 1, &sum);
        double F = S->strata[h].F;
        while (next_head(L, t, nt, &P, &h, &k) && P == P0) {
            uint32_t h0 = h;
            size_t n = 0;
            while (next_head(L, t, nt, &P, &h, &k) && P == P0 && h == h0) {
                double Z = 0;
                int any = 0;
                for (size_t i = 0; i < nt; i++) {
                    if (t[i].a >= t[i].b || rec_cmp3(L, t[i].a, P, h, k) != 0)
                        continue;
                    if (rec_count(c->e, L, t[i].a, t[i].v.q) > 0) {
                        usum u = rec_sum(c->e, L, t[i].a, t[i].v.q);
                        Z += t[i].v.z.alpha * u.p + t[i].v.z.beta * u.q;
                        any = 1;
                    }
                    t[i].a++;
                }
                if (any)
                    c->zbuf[n++] = Z;
            }
            if (!n)
                continue;
            const svy_dstratum *T = &S->strata[h0];
            svy_vss_units(c->zbuf, n, 1, (double)T->n, &ss, &uu);
            if (svy_vgroup_add(&g, &ss, &uu, (double)T->n, T->g, rule) < 0)
                return svy_dsn_lonely_error(&c->e->dsn, L->stage, h0, 0, err);
        }
        group_end(c, &g, F);
    }
    return SVY_OK;
}

/* Rows are the units: the terms' rows are disjoint, so the stratum's sum of
 * squares is the terms' own minus their cross products S_t S_u / n. */
static svy_status c_rows_var(vctx *c, const layer *L, size_t stage, cterm *t, size_t nt, svy_err *err)
{
    const svy_dstage *S = &c->e->dsn.st[stage];
    svy_lonely rule = c->e->d.lonely;
    uint32_t P, h, k;
    while (next_head(L, t, nt, &P, &h, &k)) {
        uint32_t G = L->by_stratum ? P : k;
        double sum, ss, uu;
        svy_vgroup g;
        svy_vgroup_begin(&g, 1, &sum);
        double F = S->strata[L->by_stratum ? h : k].F;
        do {
            uint32_t hh = L->by_stratum ? h : k, h0 = h, k0 = k;
            const svy_dstratum *T = &S->strata[hh];
            double n = (double)T->n, sst = 0, uut = 0, Ssum = 0, Ssq = 0;
            int any = 0;
            for (size_t i = 0; i < nt; i++) {
                if (t[i].a >= t[i].b || rec_cmp3(L, t[i].a, P, h0, k0) != 0)
                    continue;
                size_t r = t[i].a++;
                if (rec_count(c->e, L, r, t[i].v.q) <= 0)
                    continue;
                double s1, u1;
                rows_ss(&t[i].v, L, r, n, &s1, &u1);
                usum u = rec_sum(c->e, L, r, t[i].v.q);
                double St = t[i].v.z.alpha * u.p + t[i].v.z.beta * u.q;
                sst += s1;
                uut += u1;
                Ssum += St;
                Ssq += St * St;
                any = 1;
            }
            if (any) {
                /* sum over t != u of S_t S_u = (sum S)^2 - sum S^2 */
                double cross = (Ssum * Ssum - Ssq) / n;
                ss = sst - cross;
                if (ss < 0)
                    ss = 0;
                uu = uut;
                if (svy_vgroup_add(&g, &ss, &uu, n, T->g, rule) < 0)
                    return svy_dsn_lonely_error(&c->e->dsn, stage, hh, 0, err);
            }
        } while (L->by_stratum && next_head(L, t, nt, &P, &h, &k) && P == G);
        group_end(c, &g, F);
    }
    return SVY_OK;
}

svy_status svy_est_combination_var(vctx *c, size_t nt, const size_t *dom, const vctx *terms, svy_err *err)
{
    if (c->e->cal)
        return svy_cal_var(c, nt, dom, terms, err);
    c->V = 0;
    c->undefined = 0;
    cterm t8[8], *t = nt <= 8 ? t8 : svy_calloc(nt, sizeof *t);
    if (!t)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    svy_status st = SVY_OK;
    for (size_t li = 0; li < c->e->nlay && st == SVY_OK; li++) {
        const layer *L = &c->e->lay[li];
        for (int pass = 0; pass < 2 && st == SVY_OK; pass++) {
            int rows_pass = pass == 1;
            if (L->by_stratum && !rows_pass)
                continue;
            if (!L->by_stratum && rows_pass && !L->rows)
                continue;
            for (size_t i = 0; i < nt; i++) {
                t[i].a = L->dstart[dom[i]];
                t[i].b = L->dstart[dom[i] + 1];
                t[i].v = terms[i];
            }
            if (L->by_stratum)
                st = c_rows_var(c, L, L->stage, t, nt, err);
            else if (!rows_pass)
                st = c_units_var(c, L, t, nt, err);
            else
                st = c_rows_var(c, L, L->stage + 1, t, nt, err);
        }
    }
    if (t != t8)
        free(t);
    return st;
}

/* ------------------------------------------ the covariance of --test's cells
 *
 * The K = nr x nc cell proportions of a table (estimate_test.c): cell
 * c = (o, j) has unit value Z_i,c = (W_i,c - p_c W_i) / W, W_i the unit's
 * weight over the table's cells, so one pass over the domains' records
 * (merged by unit, as above) gives every Z_i (K columns) for the kernel. */

/* A record's weight in each table row (rate: in, out; share: the levels). */
static void cell_weights_of(const svy_est *e, const layer *L, size_t r, const svy_cells *cs, double *w)
{
    const qty *q = cs->q;
    if (q->stat == SVY_STAT_RATE) {
        usum u = rec_sum(e, L, r, q);
        w[0] = u.p;
        w[1] = u.q;
        return;
    }
    for (size_t o = 0; o < cs->nr; o++) {
        if (L->rows) {
            w[o] = level_stats(L, r, cs->row_level[o]).s;
        } else {
            long li = svy_u64map_find(&L->lmap, ((uint64_t)r << 32) | (uint64_t)cs->row_level[o]);
            w[o] = li < 0 ? 0 : L->lpool[li];
        }
    }
}

/* The groups of a ROWS record's rows, one per table row. */
static void cell_groups_of(const svy_est *e, const layer *L, size_t r, const svy_cells *cs, svy_vgroup_stats *g)
{
    const qty *q = cs->q;
    if (q->stat == SVY_STAT_RATE) {
        const double *c = L->pool + L->recs[r].block + e->out[q->o].off_rows;
        g[0] = svy_vstats_from_shifted(c[0], c[1], c[2], c[3]);
        g[1] = svy_vstats_from_shifted(c[4], c[5], c[6], c[7]);
        return;
    }
    for (size_t o = 0; o < cs->nr; o++)
        g[o] = level_stats(L, r, cs->row_level[o]);
}

typedef struct kbuf {
    size_t K;
    double *z, *sum, *ss, *uu, *v, *zbar, *w;
    svy_vgroup_stats *g;
    size_t capz;
} kbuf;

/* v = (e_c - p) / W: how a row's weight in cell c moves the K proportions. */
static void cell_vec(const svy_cells *cs, size_t c, double *v)
{
    size_t K = cs->nr * cs->nc;
    for (size_t a = 0; a < K; a++)
        v[a] = ((double)(a == c) - cs->ph[a]) / cs->W;
}

/* Stage-s covariance over unit records: each unit's K totals. */
static svy_status k_units(svy_est *e, const layer *L, cterm *t, const svy_cells *cs, kbuf *b, double *V,
                          svy_err *err)
{
    const svy_dstage *S = &e->dsn.st[L->stage];
    const size_t K = b->K, nr = cs->nr;
    uint32_t P, h, k;
    while (next_head(L, t, cs->nc, &P, &h, &k)) {
        uint32_t P0 = P;
        svy_vgroup g;
        svy_vgroup_begin(&g, K, b->sum);
        double F = S->strata[h].F;
        while (next_head(L, t, cs->nc, &P, &h, &k) && P == P0) {
            uint32_t h0 = h;
            size_t n = 0;
            while (next_head(L, t, cs->nc, &P, &h, &k) && P == P0 && h == h0) {
                if (!svy_grow((void **)&b->z, &b->capz, (n + 1) * K, sizeof *b->z))
                    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
                double *z = b->z + n * K, Wi = 0;
                memset(z, 0, K * sizeof *z);
                int any = 0;
                for (size_t j = 0; j < cs->nc; j++) {
                    if (t[j].a >= t[j].b || rec_cmp3(L, t[j].a, P, h, k) != 0)
                        continue;
                    if (rec_count(e, L, t[j].a, cs->q) > 0) {
                        cell_weights_of(e, L, t[j].a, cs, b->w);
                        for (size_t o = 0; o < nr; o++) {
                            z[o + nr * j] += b->w[o];
                            Wi += b->w[o];
                        }
                        any = 1;
                    }
                    t[j].a++;
                }
                if (!any)
                    continue;
                for (size_t c = 0; c < K; c++)
                    z[c] = (z[c] - cs->ph[c] * Wi) / cs->W;
                n++;
            }
            if (!n)
                continue;
            const svy_dstratum *T = &S->strata[h0];
            svy_vss_units(b->z, n, K, (double)T->n, b->ss, b->uu);
            if (svy_vgroup_add(&g, b->ss, b->uu, (double)T->n, T->g, e->d.lonely) < 0)
                return svy_dsn_lonely_error(&e->dsn, L->stage, h0, 0, err);
        }
        svy_vgroup_end(&g, F, V);
    }
    return SVY_OK;
}

/* ss and uu of one stratum whose rows are the units, from the groups of its
 * rows by cell: within-cell spread, spread of the cells' means, padding to
 * n units: sums of outer products of one sign, nothing cancels. */
static void k_rows_ss(const svy_cells *cs, const svy_vgroup_stats *g, double n, kbuf *b)
{
    const size_t K = b->K;
    double k = 0;
    memset(b->zbar, 0, K * sizeof *b->zbar);
    memset(b->ss, 0, K * K * sizeof *b->ss);
    memset(b->uu, 0, K * K * sizeof *b->uu);
    for (size_t c = 0; c < K; c++) {
        if (g[c].k == 0)
            continue;
        k += g[c].k;
        cell_vec(cs, c, b->v);
        for (size_t a = 0; a < K; a++)
            b->zbar[a] += g[c].s * b->v[a];
    }
    if (k == 0)
        return;
    for (size_t a = 0; a < K; a++)
        b->zbar[a] /= k;
    for (size_t c = 0; c < K; c++) {
        if (g[c].k == 0)
            continue;
        cell_vec(cs, c, b->v);
        double mu = g[c].s / g[c].k, q2 = g[c].k > 0 ? g[c].m + g[c].s * mu : 0;
        for (size_t a = 0; a < K; a++) {
            double da = mu * b->v[a] - b->zbar[a];
            for (size_t d = 0; d < K; d++) {
                b->ss[a * K + d] += g[c].m * b->v[a] * b->v[d] + g[c].k * da * (mu * b->v[d] - b->zbar[d]);
                b->uu[a * K + d] += q2 * b->v[a] * b->v[d];
            }
        }
    }
    double pad = k * (n - k) / n;
    for (size_t a = 0; a < K; a++)
        for (size_t d = 0; d < K; d++)
            b->ss[a * K + d] += pad * b->zbar[a] * b->zbar[d];
}

/* Rows are the units: each record's rows, grouped by cell. */
static svy_status k_rows(svy_est *e, const layer *L, size_t stage, cterm *t, const svy_cells *cs, kbuf *b,
                         double *V, svy_err *err)
{
    const svy_dstage *S = &e->dsn.st[stage];
    const size_t K = b->K, nr = cs->nr;
    uint32_t P, h, k;
    while (next_head(L, t, cs->nc, &P, &h, &k)) {
        uint32_t G = L->by_stratum ? P : k;
        svy_vgroup g;
        svy_vgroup_begin(&g, K, b->sum);
        double F = S->strata[L->by_stratum ? h : k].F;
        do {
            uint32_t hh = L->by_stratum ? h : k, h0 = h, k0 = k;
            const svy_dstratum *T = &S->strata[hh];
            int any = 0;
            for (size_t c = 0; c < K; c++)
                b->g[c] = (svy_vgroup_stats){0, 0, 0};
            for (size_t j = 0; j < cs->nc; j++) {
                if (t[j].a >= t[j].b || rec_cmp3(L, t[j].a, P, h0, k0) != 0)
                    continue;
                size_t r = t[j].a++;
                if (rec_count(e, L, r, cs->q) <= 0)
                    continue;
                cell_groups_of(e, L, r, cs, b->g + nr * j);
                any = 1;
            }
            if (any) {
                k_rows_ss(cs, b->g, (double)T->n, b);
                if (svy_vgroup_add(&g, b->ss, b->uu, (double)T->n, T->g, e->d.lonely) < 0)
                    return svy_dsn_lonely_error(&e->dsn, stage, hh, 0, err);
            }
        } while (L->by_stratum && next_head(L, t, cs->nc, &P, &h, &k) && P == G);
        svy_vgroup_end(&g, F, V);
    }
    return SVY_OK;
}

svy_status svy_est_cells_cov(svy_est *e, const svy_cells *cs, double *V, svy_err *err)
{
    const size_t K = cs->nr * cs->nc;
    kbuf b = {K, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    b.sum = svy_calloc(3 * K * K + 3 * K, sizeof *b.sum);
    b.g = svy_calloc(K, sizeof *b.g);
    cterm *t = svy_calloc(cs->nc, sizeof *t);
    svy_status st = SVY_OK;
    if (!b.sum || !b.g || !t) {
        st = svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        goto out;
    }
    b.ss = b.sum + K * K;
    b.uu = b.ss + K * K;
    b.v = b.uu + K * K;
    b.zbar = b.v + K;
    b.w = b.zbar + K;
    memset(V, 0, K * K * sizeof *V);
    for (size_t li = 0; li < e->nlay && st == SVY_OK; li++) {
        const layer *L = &e->lay[li];
        for (int pass = 0; pass < 2 && st == SVY_OK; pass++) {
            int rows_pass = pass == 1;
            if ((L->by_stratum && !rows_pass) || (!L->by_stratum && rows_pass && !L->rows))
                continue;
            for (size_t j = 0; j < cs->nc; j++) {
                t[j].a = L->dstart[cs->dom[j]];
                t[j].b = L->dstart[cs->dom[j] + 1];
            }
            if (L->by_stratum)
                st = k_rows(e, L, L->stage, t, cs, &b, V, err);
            else if (!rows_pass)
                st = k_units(e, L, t, cs, &b, V, err);
            else
                st = k_rows(e, L, L->stage + 1, t, cs, &b, V, err);
        }
    }
out:
    free(b.sum);
    free(b.g);
    free(b.z);
    free(t);
    return st;
}
