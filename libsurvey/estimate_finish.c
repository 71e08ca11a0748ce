/* Design-based domain estimates: from the records to the results (see
 * estimate_private.h for the records, variance_private.h for the kernel). */
#include "svy_private.h"
#include "estimate_private.h"
#include "calib_private.h"
#include "variance_private.h"
#include "replicate_private.h"

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

/* By values compare numerically when both are numbers, else as bytes, so
 * that 2 < 10 as R orders numeric levels. */
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

/* The comparators take no context: each element carries what it needs
 * (qsort_r is not portable, and a file-scope context is not reentrant). */
typedef struct domkey {
    const svy_est *e;
    size_t dom;
} domkey;

static int cmp_domain(const void *pa, const void *pb)
{
    const domkey *ka = pa, *kb = pb;
    size_t a = ka->dom, b = kb->dom;
    const svy_est *e = ka->e;
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

/* A share level: its text, and its id (ties, between outcomes, keep the
 * order of the ids). */
typedef struct lvlkey {
    const char *text;
    long id;
} lvlkey;

static int cmp_level(const void *pa, const void *pb)
{
    const lvlkey *a = pa, *b = pb;
    int c = cmp_text(a->text, b->text);
    return c ? c : (a->id > b->id) - (a->id < b->id);
}

/* The domains in table order into order[ndom], the share levels sorted by
 * their text into lv[nlv]; 0 when out of memory. */
static int sort_domains_levels(const svy_est *e, size_t *order, size_t ndom, long *lv, size_t nlv)
{
    domkey *dk = svy_calloc(ndom ? ndom : 1, sizeof *dk);
    lvlkey *lk = svy_calloc(nlv ? nlv : 1, sizeof *lk);
    if (!dk || !lk) {
        free(dk);
        free(lk);
        return 0;
    }
    for (size_t i = 0; i < ndom; i++)
        dk[i] = (domkey){e, i};
    qsort(dk, ndom, sizeof *dk, cmp_domain);
    for (size_t i = 0; i < ndom; i++)
        order[i] = dk[i].dom;
    for (size_t i = 0; i < nlv; i++) {
        const char *s = svy_strtab_str(&e->lvl_tab, i);
        lk[i] = (lvlkey){s + strlen(s) + 1, (long)i};
    }
    qsort(lk, nlv, sizeof *lk, cmp_level);
    for (size_t i = 0; i < nlv; i++)
        lv[i] = lk[i].id;
    free(dk);
    free(lk);
    return 1;
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

double svy_est_full_df(const svy_est *e)
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

/* A new result for quantity q of domain dom: what it is. */
static svy_status result_head(svy_est *e, size_t dom, const qty *q, double df, svy_est_result **out, svy_err *err)
{
    const outcome *oc = &e->out[q->o];
    svy_est_result *r = NULL;
    svy_status st = add_result(e, &r, err);
    if (st)
        return st;
    r->domain = dom;
    r->column = oc->column;
    r->stat = q->stat;
    r->variable = oc->name;
    r->level = oc->value;
    r->domain_rows = e->doms[dom].rows;
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
    *out = r;
    return SVY_OK;
}

/* A result's sums, and what follows from them. */
typedef struct rsums {
    usum t;          /* the domain's sums */
    double n, nnz;   /* rows with a valid value; those of nonzero weight */
    double s;        /* the weights' scale */
    double W, R;     /* sum of (scaled) weights; the proportion, or the shifted mean */
    int total;
} rsums;

/* The standard error of r, NAN with a note where there is none. */
static svy_status result_se(vctx *c, size_t dom, const rsums *m, svy_est_result *r, svy_err *err)
{
    svy_est *e = c->e;
    const outcome *oc = &e->out[c->q->o];
    int total = m->total;
    int one_psu = !total && svy_est_top_units(e, dom, c->q) < 2;
    svy_status st = svy_est_quantity_var(c, dom, one_psu, err);
    if (st)
        return st;
    double V = c->V;
    if (isnan(V) && !c->undefined)
        return overflow(e, oc, "variance", err);
    if (isinf(V))
        return overflow(e, oc, "variance", err);
    double se = sqrt(V) * (total ? m->s : 1);
    if (isinf(se))
        return overflow(e, oc, "standard error", err);
    if (c->undefined) {
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
    return SVY_OK;
}

/* The design effect, CV and interval of r. */
static void result_deff_ci(const svy_est *e, const qty *q, const rsums *m, svy_est_result *r)
{
    /* deff: the SRSWOR variance of the same estimate within the domain,
     * N = sum of weights, n = rows of nonzero weight (R's deff = TRUE) */
    const usum *t = &m->t;
    int total = m->total;
    double W = m->W, R = m->R, nnz = m->nnz, se = r->se;
    double Wu = W * m->s, mw = total ? t->ash / W : R;
    double var1 = svy_est_is_prop(q->stat) ? (t->p / W) * (t->q / W) : (total ? t->qq / W - mw * mw : t->qq / W - R * R);
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
    if (svy_est_is_prop(q->stat)) {
        svy_est_rate_ci(&e->d, r, r->domain_rows);
        if (e->d.nchs)
            svy_est_nchs_flags(r, 0.95, r->domain_rows); /* the standard is written for 95% intervals */
    } else {
        double tq = svy_qt(1 - (1 - e->d.level) / 2, r->df);
        r->ci_low = r->estimate - tq * r->se;
        r->ci_high = r->estimate + tq * r->se;
    }
}

/* With replicate weights: the replicates' SE and df, R's deff on a
 * replicate design (its n counts rows of weight 0 too), and the logit
 * interval from the replicates' logits, as R's svyciprop(method = "logit")
 * fits the logit on every replicate. */
static svy_status rep_result(svy_est *e, size_t dom, const qty *q, rsums *m, svy_est_result *r, svy_err *err)
{
    double se_logit;
    svy_status st = svy_rep_result(e, dom, q, r, &se_logit, err);
    if (st)
        return st;
    m->nnz = m->n;
    result_deff_ci(e, q, m, r);
    if (q->stat == SVY_STAT_RATIO)
        r->deff = NAN; /* R's svyratio(deff = TRUE) on a svrepdesign stops with an error: none */
    if (svy_est_is_prop(q->stat) && e->d.ci == SVY_CI_LOGIT) {
        double p = r->estimate, t = svy_qt(1 - (1 - e->d.level) / 2, r->df);
        r->ci_low = r->ci_high = NAN;
        if (p > 0 && p < 1 && isfinite(se_logit)) {
            double L = log(p / (1 - p));
            r->ci_low = 1 / (1 + exp(-(L - t * se_logit)));
            r->ci_high = 1 / (1 + exp(-(L + t * se_logit)));
        }
    }
    return SVY_OK;
}

/* Fill one result from the domain's sums and the variance. */
static svy_status one_result(svy_est *e, size_t dom, const qty *q, double df, double *zbuf, svy_err *err)
{
    const outcome *oc = &e->out[q->o];
    const dominfo *D = &e->doms[dom];
    rsums m = {.t = svy_est_domain_sum(e, dom, q)};
    svy_est_result *r = NULL;
    svy_status st = result_head(e, dom, q, df, &r, err);
    if (st)
        return st;
    double zeros = e->dpool[D->block + DB * q->o + 2];
    m.n = m.t.cnt;
    m.nnz = m.n - zeros;
    m.s = e->dsn.wscale;
    m.W = svy_est_is_prop(q->stat) ? m.t.p + m.t.q : m.t.q; /* scaled */
    r->n = (long long)m.nnz;
    r->weighted_n = (q->stat == SVY_STAT_RATIO ? m.t.ash : m.W) * m.s; /* a ratio's W is its X */
    r->estimate = r->se = r->ci_low = r->ci_high = r->deff = r->cv = NAN;
    if (m.n == 0 || m.W == 0) {
        r->flags |= SVY_FLAG_NO_ESTIMATE;
        r->note = m.n == 0 ? NOTE_NONE : NOTE_ZERO_W;
        return SVY_OK;
    }
    m.R = m.t.p / m.W; /* proportion, or the shifted mean */
    double shift = q->stat == SVY_STAT_MEAN ? e->dpool[D->block + DB * q->o + 1] : 0;
    m.total = q->stat == SVY_STAT_TOTAL;
    r->estimate = m.total ? m.t.p * m.s : shift + m.R;
    if (!isfinite(r->weighted_n))
        return svy_err_set(err, SVY_E_DATA, NULL, e->dsn.wmax_row, e->dsn.weight_col + 1, e->dsn.weight_name,
                           "the sum of weights of a domain overflows a double (beyond 1.8e308): weights up to %g "
                           "(this row)",
                           e->dsn.wmax);
    if (!isfinite(r->estimate))
        return overflow(e, oc, m.total ? "total" : "estimate", err);
    if (e->rep)
        return rep_result(e, dom, q, &m, r, err);
    vctx c = {e, q, svy_est_lin_of(q->stat, m.R, m.W), zbuf, 0, 0};
    if ((st = result_se(&c, dom, &m, r, err)))
        return st;
    result_deff_ci(e, q, &m, r);
    if (q->stat == SVY_STAT_RATIO)
        r->deff = svy_est_ratio_deff(e, dom, q, m.R, r->se, m.nnz);
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
    if (e->cal) { /* the margins against the weights, whatever needs a variance */
        svy_status cs = svy_cal_prepare(e, err);
        if (cs)
            return cs;
    }
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
    if (!sort_domains_levels(e, order, ndom, lv, nlv)) {
        st = nomem(err);
        goto out;
    }
    double fdf = svy_est_full_df(e);
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
    if (st == SVY_OK && e->test_on)
        st = svy_est_test_results(e, order, ndom, lv, nlv, err);
    if (st == SVY_OK && e->diff_on)
        st = svy_est_diff_results(e, order, ndom, lv, nlv, err);
out:
    free(order);
    free(lv);
    free(olv);
    free(zbuf);
    return st;
}

static svy_status finish(svy_est *e, svy_err *err)
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
    SVY_FAIL_IF(e->dom_tab.n == 0 && e->subpop && !e->subpop_rows, err, SVY_E_DATA,
                "no row is in the subpopulation (--subpop): nothing to estimate");
    SVY_FAIL_IF(e->dom_tab.n == 0, err, SVY_E_DATA, "every row has a missing --by value: no domain to estimate");
    svy_status st = svy_est_compute(e, err);
    if (st == SVY_OK && e->qphase)
        svy_est_quant_results(e);
    return st;
}

svy_status svy_est_finish(svy_est *e, svy_err *err)
{
    return svy_est_blame(e, finish(e, err), err);
}
