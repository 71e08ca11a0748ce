/* Design-based domain estimates: from the records to the results (see
 * estimate_private.h for the records, variance_private.h for the kernel). */
#include "svy_private.h"
#include "estimate_private.h"
#include "variance_private.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

/* ------------------------------------------------------------- sorting */

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
    return a < b ? -1 : a > b;
}

static int cmp_level(const void *pa, const void *pb)
{
    long a = *(const long *)pa, b = *(const long *)pb;
    const svy_est *e = sort_est;
    const char *sa = svy_strtab_str(&e->lvl_tab, (size_t)a);
    const char *sb = svy_strtab_str(&e->lvl_tab, (size_t)b);
    return cmp_text(sa + strlen(sa) + 1, sb + strlen(sb) + 1);
}

static int cmp_rec(const void *pa, const void *pb)
{
    const rec *a = pa, *b = pb;
    if (a->domain != b->domain)
        return a->domain < b->domain ? -1 : 1;
    if (a->parent != b->parent)
        return a->parent < b->parent ? -1 : 1;
    if (a->stratum != b->stratum)
        return a->stratum < b->stratum ? -1 : 1;
    return a->key < b->key ? -1 : a->key > b->key;
}

/* Sorts base[0..n-1] and returns where each element went (inv[old] = new),
 * or NULL when out of memory with base unsorted. */
static size_t *sort_tracked(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    const size_t align = _Alignof(max_align_t);
    size_t tag = (size + sizeof(size_t) - 1) / sizeof(size_t) * sizeof(size_t);
    size_t stride = (tag + sizeof(size_t) + align - 1) / align * align;
    unsigned char *tg = svy_calloc(n ? n : 1, stride);
    size_t *inv = svy_calloc(n ? n : 1, sizeof *inv);
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

/* Group a layer's records by domain, parent unit, stratum and unit; the
 * level sums follow their records. */
static svy_status sort_layer(svy_est *e, layer *L, svy_err *err)
{
    const svy_dstage *S = &e->dsn.st[L->stage];
    for (size_t i = 0; i < L->nrecs; i++) {
        rec *r = &L->recs[i];
        r->stratum = L->by_stratum ? r->key : S->units[r->key].stratum;
        r->parent = L->stage > 0 ? S->strata[r->stratum].parent : 0;
    }
    size_t *inv = sort_tracked(L->recs, L->nrecs, sizeof *L->recs, cmp_rec);
    if (!inv)
        return nomem(err);
    if (L->lmap.n) {
        svy_u64map nm = {0};
        for (size_t i = 0; i < L->lmap.nslots; i++) {
            if (!L->lmap.vals[i])
                continue;
            uint64_t k = L->lmap.keys[i];
            uint64_t nk = ((uint64_t)inv[k >> 32] << 32) | (k & 0xffffffffu);
            int added;
            if (svy_u64map_get(&nm, nk, L->lmap.vals[i] - 1, &added) < 0) {
                svy_u64map_free(&nm);
                free(inv);
                return nomem(err);
            }
        }
        svy_u64map_free(&L->lmap);
        L->lmap = nm;
    }
    free(inv);
    size_t ndom = e->dom_tab.n;
    L->dstart = svy_calloc(ndom + 1, sizeof *L->dstart);
    if (!L->dstart)
        return nomem(err);
    for (size_t i = 0; i < L->nrecs; i++)
        L->dstart[L->recs[i].domain + 1]++;
    for (size_t d = 0; d < ndom; d++)
        L->dstart[d + 1] += L->dstart[d];
    return SVY_OK;
}

/* ------------------------------------------------------ one quantity */

/* One estimated quantity: an outcome, or a level of a share. */
typedef struct qty {
    size_t o;
    long level;      /* share level, or -1 */
    svy_stat stat;
    const long *lv;  /* every level of a share outcome (sorted), nlv of them */
    size_t nlv;
} qty;

/* A unit's (or a domain's) sums for one quantity. */
typedef struct usum {
    double cnt;      /* rows with a valid value */
    double p, q;     /* proportions: weight in the level and outside; means: A', B; totals: A, B */
    double ash, qq;  /* totals: A' = sum w (y - c); means and totals: Q = sum w (y - c)^2 */
} usum;

static int is_prop(svy_stat s)
{
    return s == SVY_STAT_RATE || s == SVY_STAT_SHARE;
}

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
    }
    return u;
}

/* How the estimate is linear in a unit's sums: Z = alpha p + beta q. */
typedef struct lin {
    double alpha, beta;
} lin;

static lin lin_of(svy_stat stat, double R, double X)
{
    if (is_prop(stat))
        return (lin){(1 - R) / X, -R / X};
    if (stat == SVY_STAT_MEAN)
        return (lin){1 / X, -R / X};
    return (lin){1, 0};
}

/* ss and uu of a record whose rows are the units of its stratum (of n rows). */
static void rows_ss(const svy_est *e, const layer *L, size_t r, const qty *q, lin z, double n, double *ss,
                    double *uu)
{
    const double *c = L->pool + L->recs[r].block + e->out[q->o].off_rows;
    switch (q->stat) {
    case SVY_STAT_RATE:
        svy_vss_groups(svy_vstats_from_shifted(c[0], c[1], c[2], c[3]),
                       svy_vstats_from_shifted(c[4], c[5], c[6], c[7]), z.alpha, z.beta, n, ss, uu);
        return;
    case SVY_STAT_SHARE:
        svy_vss_groups(level_stats(L, r, q->level), other_levels(L, r, q), z.alpha, z.beta, n, ss, uu);
        return;
    case SVY_STAT_MEAN:
    case SVY_STAT_TOTAL: {
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
    }
}

static double rec_count(const svy_est *e, const layer *L, size_t r, const qty *q)
{
    const outcome *oc = &e->out[q->o];
    if (!L->rows) {
        static const size_t cnt_at[] = {2, 1, 2, 2};
        return L->pool[L->recs[r].block + oc->off_sums + cnt_at[q->stat]];
    }
    const double *c = L->pool + L->recs[r].block + oc->off_rows;
    return q->stat == SVY_STAT_RATE ? c[0] + c[4] : c[0];
}

/* A lone unit under --lonely fail: name the stratum, the row of its first
 * member and the column. */
static svy_status lonely_error(const svy_est *e, size_t s, uint32_t h, svy_err *err)
{
    const svy_dsn *d = &e->dsn;
    const svy_dstage *S = &d->st[s];
    const svy_dstratum *T = &S->strata[h];
    size_t len;
    const char *t = svy_dsn_stratum_text(d, s, h, &len);
    int tl = (int)(len < 100 ? len : 100);
    const char *rule = "choose --lonely remove|certainty|adjust|average (R's survey.lonely.psu)";
    if (s == 0) {
        const char *col = S->strata_name ? S->strata_name : S->id_name;
        long c = S->strata_name ? S->strata_col : S->id_col;
        if (S->strata_name)
            return svy_err_set(err, SVY_E_DATA, NULL, T->first_row, c + 1, col,
                               "stratum '%.*s' of column %s has a single PSU%s%s (this row is its first): %s", tl, t,
                               S->strata_name, S->id_name ? " of column " : "", S->id_name ? S->id_name : "", rule);
        return svy_err_set(err, SVY_E_DATA, NULL, T->first_row, c >= 0 ? c + 1 : 0, col,
                           "the design has a single PSU%s%s: %s", S->id_name ? " of column " : "",
                           S->id_name ? S->id_name : "", rule);
    }
    const svy_dstage *U = &d->st[s - 1];
    if (!S->own_strata)
        return svy_err_set(err, SVY_E_DATA, NULL, T->first_row, S->id_col + 1, S->id_name,
                           "unit '%.*s' of column %s (stage %zu) has a single unit of column %s sampled in it "
                           "(stage %zu; this row is its first): %s",
                           tl, t, U->id_name, s, S->id_name, s + 1, rule);
    size_t ul;
    const char *ut = svy_dsn_unit_text(d, s - 1, T->parent, &ul);
    return svy_err_set(err, SVY_E_DATA, NULL, T->first_row, S->strata_col + 1, S->strata_name,
                       "stratum '%.*s' of column %s within unit '%.*s' of column %s has a single unit of "
                       "column %s at stage %zu (this row is its first): %s",
                       tl, t, S->strata_name, (int)(ul < 100 ? ul : 100), ut, U->id_name, S->id_name, s + 1, rule);
}

typedef struct vctx {
    svy_est *e;
    const qty *q;
    lin z;
    double *zbuf;
    int undefined;   /* lonely "average" left a unit with no stratum to average */
} vctx;

static svy_status group_end(vctx *c, const svy_vgroup *g, double F, double *V)
{
    double before = *V;
    svy_vgroup_end(g, F, V);
    if (isnan(*V) && !isnan(before))
        c->undefined = 1;
    return SVY_OK;
}

/* Stage-s variance over the unit records [a, b) of one domain. */
static svy_status units_var(vctx *c, const layer *L, size_t a, size_t b, double *V, svy_err *err)
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
                return lonely_error(c->e, L->stage, h, err);
        }
        group_end(c, &g, F, V);
    }
    return SVY_OK;
}

/* The variance within records whose rows are the units: each record is a
 * stratum of stage `stage`; records [a, b) of one domain, grouped by their
 * parent unit when by_parent. */
static svy_status rows_var(vctx *c, const layer *L, size_t stage, size_t a, size_t b, double *V, svy_err *err)
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
                rows_ss(c->e, L, i, c->q, c->z, (double)T->n, &ss, &uu);
                if (svy_vgroup_add(&g, &ss, &uu, (double)T->n, T->g, rule) < 0)
                    return lonely_error(c->e, stage, h, err);
            }
            i++;
        } while (i < b && L->by_stratum && L->recs[i].parent == P);
        group_end(c, &g, F, V);
    }
    return SVY_OK;
}

/* The variance of one quantity of domain d (in the units of the scaled
 * weights); skip_top leaves out the first stage (a ratio whose rows all lie
 * in one PSU, where it is 0 by construction). */
static svy_status quantity_var(vctx *c, size_t d, int skip_top, double *V, svy_err *err)
{
    *V = 0;
    svy_status st = SVY_OK;
    for (size_t li = 0; li < c->e->nlay && st == SVY_OK; li++) {
        const layer *L = &c->e->lay[li];
        size_t a = L->dstart[d], b = L->dstart[d + 1];
        int top = L->stage == 0 && skip_top;
        if (L->by_stratum) {
            if (!top)
                st = rows_var(c, L, L->stage, a, b, V, err);
        } else {
            if (!top)
                st = units_var(c, L, a, b, V, err);
            if (st == SVY_OK && L->rows)
                st = rows_var(c, L, L->stage + 1, a, b, V, err);
        }
    }
    return st;
}

/* ------------------------------------------------------------- results */

static svy_status add_result(svy_est *e, svy_est_result **out, svy_err *err)
{
    if (!svy_grow((void **)&e->res, &e->capres, e->nres + 1, sizeof *e->res))
        return nomem(err);
    *out = &e->res[e->nres++];
    memset(*out, 0, sizeof **out);
    return SVY_OK;
}

static char *keep_name(svy_est *e, char *s)
{
    if (!s || !svy_grow((void **)&e->names, &e->capnames, e->nnames + 1, sizeof *e->names)) {
        free(s);
        return NULL;
    }
    e->names[e->nnames++] = s;
    return s;
}

/* Degrees of freedom of domain d: its PSUs with rows of nonzero weight
 * minus their strata (R's degf on the domain's subset). */
static double domain_df(const svy_est *e, size_t d)
{
    const layer *L = &e->lay[0];
    long long psu = 0, str = 0;
    uint32_t last = UINT32_MAX;
    for (size_t i = L->dstart[d]; i < L->dstart[d + 1]; i++) {
        const rec *r = &L->recs[i];
        if (!r->nzrows)
            continue;
        psu += L->by_stratum ? r->nzrows : 1;
        if (r->stratum != last || L->by_stratum) {
            str++;
            last = r->stratum;
        }
    }
    return (double)(psu - str);
}

static double full_df(const svy_est *e)
{
    const svy_dstage *S = &e->dsn.st[0];
    long long psu = 0, str = 0;
    for (size_t h = 0; h < S->nstrata; h++) {
        long long k = S->id_col >= 0 ? S->strata[h].nzunits : S->strata[h].nzrows;
        psu += k;
        str += k > 0;
    }
    return (double)(psu - str);
}

/* Present PSUs of the first stage for a quantity (2 means "more than one"). */
static int top_units(const svy_est *e, size_t d, const qty *q)
{
    const layer *L = &e->lay[0];
    double n = 0;
    for (size_t i = L->dstart[d]; i < L->dstart[d + 1] && n < 2; i++)
        n += L->by_stratum ? rec_count(e, L, i, q) : rec_count(e, L, i, q) > 0;
    return n >= 2 ? 2 : (int)n;
}

static svy_status overflow(const svy_est *e, const outcome *oc, const char *what, svy_err *err)
{
    const svy_dsn *d = &e->dsn;
    if (d->wmax > 0 && d->wmax / d->wmin > 1e150)
        return svy_err_set(err, SVY_E_DATA, NULL, d->wmax_row, d->weight_col + 1, d->weight_name,
                           "the %s of %s overflows a double: weights range from %g (row %lld) to %g (this row), "
                           "too wide to square",
                           what, oc->column, d->wmin, d->wmin_row, d->wmax);
    return svy_err_set(err, SVY_E_DATA, NULL, 0, oc->col + 1, oc->column,
                       "the %s of %s overflows a double (beyond 1.8e308): its values%s are too large",
                       what, oc->column, d->weight_col >= 0 ? " times the weights" : "");
}

static const char NOTE_NONE[] = "no valid value in this domain";
static const char NOTE_ZERO_W[] = "every weight in this domain is 0";
static const char NOTE_ONE_PSU[] = "every row of this domain is in one PSU: no variance estimate";
static const char NOTE_AVG[] = "no stratum with two or more PSUs to average over (--lonely average): no variance";
static const char NOTE_UNWEIGHTED[] = "unweighted: every row weighs 1 (no weight, no fpc)";

/* Fill one result from the domain's sums and the variance. */
static svy_status one_result(svy_est *e, size_t dom, const qty *q, double df, double *zbuf, svy_err *err)
{
    const outcome *oc = &e->out[q->o];
    const dominfo *D = &e->doms[dom];
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
    svy_est_result *r = NULL;
    svy_status st = add_result(e, &r, err);
    if (st)
        return st;
    r->domain = dom;
    r->column = oc->column;
    r->stat = q->stat;
    r->variable = oc->name;
    r->level = oc->value;
    r->domain_rows = D->rows;
    r->df = df;
    if (q->level >= 0) {
        const char *k = svy_strtab_str(&e->lvl_tab, (size_t)q->level);
        const char *text = k + strlen(k) + 1;
        size_t nl = strlen(oc->column) + strlen(text) + 2;
        char *nm = keep_name(e, svy_malloc(nl));
        if (!nm)
            return nomem(err);
        snprintf(nm, nl, "%s=%s", oc->column, text);
        r->variable = nm;
        r->level = text;
    }
    double zeros = e->dpool[D->block + DB * q->o + 2];
    double n = t.cnt, nnz = n - zeros;
    double s = e->dsn.wscale;
    double W = is_prop(q->stat) ? t.p + t.q : t.q; /* scaled */
    r->n = (long long)nnz;
    r->weighted_n = W * s;
    r->estimate = r->se = r->ci_low = r->ci_high = r->deff = r->cv = NAN;
    if (n == 0 || W == 0) {
        r->flags |= SVY_FLAG_NO_ESTIMATE;
        r->note = n == 0 ? NOTE_NONE : NOTE_ZERO_W;
        return SVY_OK;
    }
    double R = t.p / W; /* proportion, or the shifted mean */
    double shift = q->stat == SVY_STAT_MEAN ? e->dpool[D->block + DB * q->o + 1] : 0;
    int total = q->stat == SVY_STAT_TOTAL;
    r->estimate = total ? t.p * s : shift + R;
    if (!isfinite(r->weighted_n))
        return svy_err_set(err, SVY_E_DATA, NULL, e->dsn.wmax_row, e->dsn.weight_col + 1, e->dsn.weight_name,
                           "the sum of weights of a domain overflows a double (beyond 1.8e308): weights up to %g "
                           "(this row)",
                           e->dsn.wmax);
    if (!isfinite(r->estimate))
        return overflow(e, oc, total ? "total" : "estimate", err);

    vctx c = {e, q, lin_of(q->stat, R, W), zbuf, 0};
    int one_psu = !total && top_units(e, dom, q) < 2;
    double V;
    if ((st = quantity_var(&c, dom, one_psu, &V, err)))
        return st;
    if (isnan(V) && !c.undefined)
        return overflow(e, oc, "variance", err);
    if (isinf(V))
        return overflow(e, oc, "variance", err);
    double se = sqrt(V) * (total ? s : 1);
    if (isinf(se))
        return overflow(e, oc, "standard error", err);
    if (c.undefined) {
        r->note = NOTE_AVG;
        se = NAN;
    } else if (one_psu && V == 0) {
        r->flags |= SVY_FLAG_NO_VARIANCE;
        r->note = NOTE_ONE_PSU;
        se = NAN;
    }
    r->se = se;
    if (total && e->dsn.weight_col < 0 && !e->dsn.derive_w && !r->note)
        r->note = NOTE_UNWEIGHTED;

    /* deff: the SRSWOR variance of the same estimate within the domain,
     * N = sum of weights, n = rows of nonzero weight (R's deff = TRUE) */
    double Wu = W * s, mw = total ? t.ash / W : R;
    double var1 = is_prop(q->stat) ? (t.p / W) * (t.q / W) : (total ? t.qq / W - mw * mw : t.qq / W - R * R);
    double s2 = nnz / (nnz - 1) * (var1 > 0 ? var1 : 0);
    double vsrs = s2 * (Wu - nnz) / (Wu * nnz);
    if (total)
        vsrs *= Wu * Wu;
    r->deff = (!total && Wu < nnz) ? NAN : se * se / vsrs;
    if (!isfinite(r->deff) || (se == 0 && vsrs == 0))
        r->deff = NAN;
    r->cv = r->se / r->estimate;
    if (!isfinite(r->cv))
        r->cv = NAN;
    if (is_prop(q->stat)) {
        svy_est_rate_ci(&e->d, r, D->rows);
        if (e->d.nchs)
            svy_est_nchs_flags(r, 0.95, D->rows); /* the standard is written for 95% intervals */
    } else {
        double tq = svy_qt(1 - (1 - e->d.level) / 2, df);
        r->ci_low = r->estimate - tq * r->se;
        r->ci_high = r->estimate + tq * r->se;
    }
    return SVY_OK;
}

static void fill_info(svy_est *e)
{
    const svy_dsn *d = &e->dsn;
    svy_est_info *in = &e->info;
    in->rows = d->rows_pass1 ? d->rows_pass1 : d->rows;
    in->zero_weight_rows = d->zero_rows;
    in->nstages = d->nstage;
    in->var_stages = d->nvar;
    for (size_t s = 0; s < d->nstage; s++) {
        const svy_dstage *S = &d->st[s];
        in->nstrata[s] = S->nstrata;
        if (S->id_col >= 0 && !(d->rows_last && s + 1 == d->nstage)) {
            in->nunits[s] = S->nunits;
        } else {
            size_t n = 0;
            for (size_t h = 0; h < S->nstrata; h++)
                n += (size_t)S->strata[h].n;
            in->nunits[s] = n;
        }
    }
    in->weights = d->weight_col >= 0 ? SVY_WEIGHTS_COLUMN : d->derive_w ? SVY_WEIGHTS_FPC : SVY_WEIGHTS_NONE;
    in->fpc_fraction = d->fraction;
    in->last_stage_rows = d->rows_last;
}

svy_status svy_est_compute(svy_est *e, svy_err *err)
{
    fill_info(e);
    size_t maxrecs = 1;
    for (size_t li = 0; li < e->nlay; li++) {
        svy_status st = sort_layer(e, &e->lay[li], err);
        if (st)
            return st;
        if (e->lay[li].nrecs > maxrecs)
            maxrecs = e->lay[li].nrecs;
    }
    size_t ndom = e->dom_tab.n, nlv = e->lvl_tab.n;
    size_t *order = svy_calloc(ndom ? ndom : 1, sizeof *order);
    long *lv = svy_calloc(nlv ? nlv : 1, sizeof *lv);
    long *olv = svy_calloc(nlv ? nlv : 1, sizeof *olv);
    double *zbuf = svy_calloc(maxrecs, sizeof *zbuf);
    svy_status st = SVY_OK;
    if (!order || !lv || !olv || !zbuf) {
        st = nomem(err);
        goto out;
    }
    sort_est = e;
    for (size_t i = 0; i < ndom; i++)
        order[i] = i;
    qsort(order, ndom, sizeof *order, cmp_domain);
    for (size_t i = 0; i < nlv; i++)
        lv[i] = (long)i;
    qsort(lv, nlv, sizeof *lv, cmp_level);
    double fdf = full_df(e);
    for (size_t oi = 0; oi < ndom && st == SVY_OK; oi++) {
        size_t dom = order[oi];
        double df;
        switch (e->d.df_rule) {
        case SVY_DF_DOMAIN:
            df = domain_df(e, dom);
            break;
        case SVY_DF_FULL:
            df = fdf;
            break;
        case SVY_DF_INF:
            df = INFINITY;
            break;
        default:
            df = e->d.df;
            break;
        }
        for (size_t o = 0; o < e->nout && st == SVY_OK; o++) {
            qty q = {o, -1, e->out[o].stat, NULL, 0};
            if (q.stat != SVY_STAT_SHARE) {
                st = one_result(e, dom, &q, df, zbuf, err);
                continue;
            }
            size_t k = 0;
            for (size_t i = 0; i < nlv; i++)
                if (e->lvl_outcome[lv[i]] == (long)o)
                    olv[k++] = lv[i];
            q.lv = olv;
            q.nlv = k;
            for (size_t i = 0; i < k && st == SVY_OK; i++) {
                q.level = olv[i];
                st = one_result(e, dom, &q, df, zbuf, err);
            }
        }
    }
out:
    free(order);
    free(lv);
    free(olv);
    free(zbuf);
    return st;
}

svy_status svy_est_finish(svy_est *e, svy_err *err)
{
    SVY_FAIL_IF(!e->bound || e->finished, err, SVY_E_USAGE, "svy_est_finish before bind or twice");
    if (!e->ended) {
        int again;
        svy_status st = svy_est_end_pass(e, &again, err);
        if (st)
            return st;
        SVY_FAIL_IF(again, err, SVY_E_USAGE, "this design needs the rows twice: call svy_est_end_pass and push them again");
    }
    e->finished = 1;
    SVY_FAIL_IF(svy_est_rows(e) == 0, err, SVY_E_DATA, "no data rows");
    SVY_FAIL_IF(e->dom_tab.n == 0, err, SVY_E_DATA, "every row has a missing --by value: no domain to estimate");
    return svy_est_compute(e, err);
}
