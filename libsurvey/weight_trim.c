/* Trimming on cells, as R's trimWeights(): clip the weights outside the
 * bounds and spread what was clipped evenly over the weights inside, one
 * pass (strict = FALSE) or passes until none is outside (strict = TRUE);
 * with margins, raking again after each trimming step.
 *
 * A cell's rows that were never clipped ("free") still weigh w0 * a + b,
 * increasing in the starting weight w0: the free rows beyond a bound are
 * those with the largest (or smallest) starting weights, and after a pass
 * the free rows are still those with w0 in [lo_cut, hi_cut].  Rows clipped
 * in the same pass share one value from then on, so they become a group of
 * the cell (count and value), and groups whose values meet are one group.
 * Finding the free rows beyond a bound takes the cell's kept starting
 * weights, or one read of the spool for all the cells that need it. */
#include "weight_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct wgroup {
    long long n;
    double v;
} wgroup;

/* Rows that left the free range in one pass: above a bound those with
 * w0 >= at (and below the previous such at), below a bound those with
 * w0 <= at.  Outermost first. */
typedef struct wexit {
    double at;
    uint32_t g;
} wexit;

/* Spooled cells: the largest and smallest distinct free starting weights
 * (with their counts) that the last read of the spool found, so that the
 * next passes find the rows crossing a bound without reading it again:
 * every free row at or beyond the last entry is in the list. */
#define EDGE_KEEP 32

struct wtrim {
    wval *etop, *ebot; /* descending, ascending */
    uint32_t netop, nebot;
    long long ctop, cbot; /* rows they hold */
    long long nfree;
    long double sfree;     /* sum of the free rows' starting weights */
    double lo_cut, hi_cut; /* the free rows' smallest and largest w0 */
    uint32_t lo_i, hi_i;   /* kept cells: the free values are vals[lo_i .. hi_i) */
    wgroup *g;
    uint32_t ng, gcap;
    wexit *top, *bot;
    uint32_t ntop, nbot, tcap, bcap;
};

void svy_wtrim_shrink(struct wtrim *t)
{
    if (!t)
        return;
    free(t->etop);
    free(t->ebot);
    t->etop = t->ebot = NULL;
    t->netop = t->nebot = 0;
}

void svy_wtrim_free(struct wtrim *t)
{
    if (!t)
        return;
    free(t->g);
    free(t->top);
    free(t->bot);
    free(t->etop);
    free(t->ebot);
    free(t);
}

static inline double free_weight(const wcell *c, double w0)
{
    return w0 * c->a + c->b;
}

double svy_wtrim_weight(const wcell *c, double w0)
{
    const struct wtrim *t = c->trim;
    if (t->nfree && w0 >= t->lo_cut && w0 <= t->hi_cut)
        return free_weight(c, w0);
    if (t->ntop && w0 >= t->top[t->ntop - 1].at)
        for (uint32_t i = 0; i < t->ntop; i++)
            if (w0 >= t->top[i].at)
                return t->g[t->top[i].g].v;
    for (uint32_t i = 0; i < t->nbot; i++)
        if (w0 <= t->bot[i].at)
            return t->g[t->bot[i].g].v;
    return free_weight(c, w0); /* not a starting weight of this cell */
}

/* What one pass finds in a cell's free rows. */
typedef struct tfind {
    long long tn, bn, in;   /* above, below, inside */
    long double ts, bs, is; /* their sums of w0 */
    double tat, bat;        /* smallest w0 above, largest below */
    double imin, imax;      /* inside: smallest and largest w0 */
    int scan;               /* found by reading the spool */
} tfind;

/* Largest and smallest weight over the respondents. */
static void extremes(const svy_weight *w, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t k = 0; k < w->nresp; k++) {
        const wcell *c = &w->cells[w->resp[k]];
        const struct wtrim *t = c->trim;
        if (t->nfree) {
            double a = free_weight(c, t->lo_cut), b = free_weight(c, t->hi_cut);
            *lo = fmin(*lo, a);
            *hi = fmax(*hi, b);
        }
        for (uint32_t i = 0; i < t->ng; i++) {
            *lo = fmin(*lo, t->g[i].v);
            *hi = fmax(*hi, t->g[i].v);
        }
    }
}

/* Within the bounds to the tolerance; *worst is the weight furthest out. */
static int within(const svy_weight *w, double lo, double hi, double *worst)
{
    double mn, mx;
    extremes(w, &mn, &mx);
    double slack = w->tol;
    int over = mx > hi * (1 + slack), under = mn < lo * (1 - slack);
    *worst = over && (!under || mx - hi > lo - mn) ? mx : under ? mn : NAN;
    return !over && !under;
}

/* Kept values: walk in from both ends of the free range. */
static void find_kept(const wcell *c, double lo, double hi, tfind *f)
{
    const struct wtrim *t = c->trim;
    uint32_t i = t->hi_i, j = t->lo_i;
    while (i > j && free_weight(c, c->vals[i - 1].w0) > hi) {
        i--;
        f->tn += c->vals[i].n;
        f->ts += (long double)c->vals[i].w0 * c->vals[i].n;
        f->tat = c->vals[i].w0;
    }
    while (j < i && free_weight(c, c->vals[j].w0) < lo) {
        f->bn += c->vals[j].n;
        f->bs += (long double)c->vals[j].w0 * c->vals[j].n;
        f->bat = c->vals[j].w0;
        j++;
    }
    f->in = t->nfree - f->tn - f->bn;
    f->imin = j < i ? c->vals[j].w0 : NAN;
    f->imax = j < i ? c->vals[i - 1].w0 : NAN;
    f->is = t->sfree - f->ts - f->bs;
}

/* Keep x in an edge list of at most EDGE_KEEP distinct values: the
 * largest (desc) or the smallest. */
static void edge_put(wval *e, uint32_t *n, double x, int desc)
{
    uint32_t k = *n;
    if (k == EDGE_KEEP && (desc ? x < e[k - 1].w0 : x > e[k - 1].w0))
        return;
    uint32_t lo = 0, hi = k;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (desc ? e[mid].w0 > x : e[mid].w0 < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < k && e[lo].w0 == x) {
        e[lo].n++;
        return;
    }
    if (k == EDGE_KEEP)
        k--; /* the last one goes */
    memmove(e + lo + 1, e + lo, (k - lo) * sizeof *e);
    e[lo] = (wval){x, 1};
    *n = k + 1;
}

/* Spooled cells: the crossing rows from the edge lists, when they hold
 * them all; 0 when the spool must be read. */
static int find_edges(const wcell *c, double lo, double hi, tfind *f)
{
    const struct wtrim *t = c->trim;
    if (!t->etop || !t->ebot)
        return 0;
    uint32_t i = 0, j = 0;
    while (i < t->netop && free_weight(c, t->etop[i].w0) > hi) {
        f->tn += t->etop[i].n;
        f->ts += (long double)t->etop[i].w0 * t->etop[i].n;
        f->tat = t->etop[i].w0;
        i++;
    }
    if (i == t->netop && t->ctop < t->nfree)
        return 0;
    while (j < t->nebot && free_weight(c, t->ebot[j].w0) < lo) {
        f->bn += t->ebot[j].n;
        f->bs += (long double)t->ebot[j].w0 * t->ebot[j].n;
        f->bat = t->ebot[j].w0;
        j++;
    }
    if (j == t->nebot && t->cbot < t->nfree)
        return 0;
    f->in = t->nfree - f->tn - f->bn;
    f->is = t->sfree - f->ts - f->bs;
    if (f->in) {
        f->imax = i < t->netop ? t->etop[i].w0 : NAN;
        f->imin = j < t->nebot ? t->ebot[j].w0 : NAN;
        if (isnan(f->imax) || isnan(f->imin))
            return 0; /* not reached: a list that holds every free row holds the rest */
    }
    return 1;
}

/* After a pass: the edge lists lose the rows that left the free range. */
static void edge_trim(struct wtrim *t)
{
    if (!t->etop)
        return;
    wval *lists[2] = {t->etop, t->ebot};
    uint32_t *ns[2] = {&t->netop, &t->nebot};
    long long *cs[2] = {&t->ctop, &t->cbot};
    for (int s = 0; s < 2; s++) {
        uint32_t m = 0;
        long long cnt = 0;
        for (uint32_t i = 0; i < *ns[s]; i++) {
            wval v = lists[s][i];
            if (!t->nfree || v.w0 > t->hi_cut || v.w0 < t->lo_cut)
                continue;
            lists[s][m++] = v;
            cnt += v.n;
        }
        *ns[s] = m;
        *cs[s] = cnt;
    }
}

typedef struct scan_ctx {
    const wcell *cells;
    tfind *find; /* per cell; scan set where the spool must be read */
    double lo, hi;
} scan_ctx;

static int scan_block(void *ctx, const uint32_t *cell, const double *w0, size_t n)
{
    scan_ctx *s = ctx;
    for (size_t i = 0; i < n; i++) {
        tfind *f = &s->find[cell[i]];
        if (!f->scan)
            continue;
        const wcell *c = &s->cells[cell[i]];
        double x = w0[i];
        if (x < c->trim->lo_cut || x > c->trim->hi_cut)
            continue; /* clipped before */
        double v = free_weight(c, x);
        if (v > s->hi) {
            f->tn++;
            f->ts += x;
            f->tat = fmin(f->tat, x);
        } else if (v < s->lo) {
            f->bn++;
            f->bs += x;
            f->bat = fmax(f->bat, x);
        } else {
            f->in++;
            f->is += x;
            f->imin = fmin(f->imin, x);
            f->imax = fmax(f->imax, x);
            edge_put(c->trim->etop, &c->trim->netop, x, 1);
            edge_put(c->trim->ebot, &c->trim->nebot, x, 0);
        }
    }
    return 0;
}

static svy_status add_group(struct wtrim *t, long long n, double v, uint32_t *idx, svy_err *err)
{
    for (uint32_t i = 0; i < t->ng; i++)
        if (t->g[i].v == v) {
            t->g[i].n += n;
            *idx = i;
            return SVY_OK;
        }
    size_t cap = t->gcap;
    if (!svy_grow((void **)&t->g, &cap, (size_t)t->ng + 1, sizeof *t->g))
        return svy_weight_nomem(err);
    t->gcap = (uint32_t)cap;
    t->g[t->ng] = (wgroup){n, v};
    *idx = t->ng++;
    return SVY_OK;
}

static svy_status add_exit(wexit **list, uint32_t *n, uint32_t *cap, double at, uint32_t g, svy_err *err)
{
    size_t c = *cap;
    if (!svy_grow((void **)list, &c, (size_t)*n + 1, sizeof **list))
        return svy_weight_nomem(err);
    *cap = (uint32_t)c;
    (*list)[(*n)++] = (wexit){at, g};
    return SVY_OK;
}

/* Groups whose values met are one group; exits that now lead to the same
 * group one after the other are one exit (the inner one covers both). */
static void merge_groups(struct wtrim *t)
{
    uint32_t map[64], *mp = t->ng <= 64 ? map : malloc(t->ng * sizeof *mp);
    if (!mp)
        return; /* merging only saves memory */
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->ng; i++) {
        uint32_t j = 0;
        while (j < n && t->g[j].v != t->g[i].v)
            j++;
        if (j == n)
            t->g[n++] = t->g[i];
        else
            t->g[j].n += t->g[i].n;
        mp[i] = j;
    }
    t->ng = n;
    wexit *lists[2] = {t->top, t->bot};
    uint32_t *counts[2] = {&t->ntop, &t->nbot};
    for (int s = 0; s < 2; s++) {
        uint32_t m = 0;
        for (uint32_t i = 0; i < *counts[s]; i++) {
            wexit e = lists[s][i];
            e.g = mp[e.g];
            if (m && lists[s][m - 1].g == e.g)
                m--;
            lists[s][m++] = e;
        }
        *counts[s] = m;
    }
    if (mp != map)
        free(mp);
}

/* The free rows beyond the bounds in every cell: kept values at once, and
 * one read of the spool for the spooled cells that have any. */
static svy_status find_all(svy_weight *w, tfind *find, double lo, double hi, int *any, svy_err *err)
{
    int need_scan = 0;
    *any = 0;
    for (size_t k = 0; k < w->nresp; k++) {
        size_t ci = w->resp[k];
        const wcell *c = &w->cells[ci];
        const struct wtrim *t = c->trim;
        tfind *f = &find[ci];
        *f = (tfind){.tat = INFINITY, .bat = -INFINITY, .imin = INFINITY, .imax = -INFINITY};
        if (!t->nfree || (free_weight(c, t->hi_cut) <= hi && free_weight(c, t->lo_cut) >= lo)) {
            f->in = t->nfree;
            continue;
        }
        *any = 1;
        if (!c->spooled) {
            find_kept(c, lo, hi, f);
            continue;
        }
        if (find_edges(c, lo, hi, f))
            continue;
        /* Read the spool for this cell, and fill its edge lists anew. */
        *f = (tfind){.tat = INFINITY, .bat = -INFINITY, .imin = INFINITY, .imax = -INFINITY, .scan = 1};
        struct wtrim *tw = w->cells[ci].trim;
        if (!tw->etop && (!(tw->etop = svy_calloc(EDGE_KEEP, sizeof *tw->etop)) ||
                          !(tw->ebot = svy_calloc(EDGE_KEEP, sizeof *tw->ebot))))
            return svy_weight_nomem(err);
        tw->netop = tw->nebot = 0;
        need_scan = 1;
    }
    if (!need_scan)
        return SVY_OK;
    scan_ctx s = {w->cells, find, lo, hi};
    svy_status st = w->trim_scan ? w->trim_scan(w->trim_src, scan_block, &s, err)
                                 : svy_wcell_spool_scan(w, scan_block, &s, err);
    for (size_t k = 0; !st && k < w->nresp; k++) {
        struct wtrim *tw = w->cells[w->resp[k]].trim;
        if (!find[w->resp[k]].scan)
            continue;
        tw->ctop = tw->cbot = 0;
        for (uint32_t i = 0; i < tw->netop; i++)
            tw->ctop += tw->etop[i].n;
        for (uint32_t i = 0; i < tw->nebot; i++)
            tw->cbot += tw->ebot[i].n;
    }
    return st;
}

/* One clip-and-redistribute pass over all respondents, R's trimWeights()
 * step: trimmings = w - clip(w); the weights inside get their sum / count. */
static svy_status trim_pass(svy_weight *w, tfind *find, double lo, double hi, svy_err *err)
{
    int any;
    svy_status st = find_all(w, find, lo, hi, &any, err);
    if (st)
        return st;
    long double cut = 0;
    long long inside = 0;
    for (size_t k = 0; k < w->nresp; k++) {
        const wcell *c = &w->cells[w->resp[k]];
        const struct wtrim *t = c->trim;
        const tfind *f = &find[w->resp[k]];
        cut += ((long double)c->a * f->ts + (long double)c->b * f->tn - (long double)hi * f->tn) +
               ((long double)c->a * f->bs + (long double)c->b * f->bn - (long double)lo * f->bn);
        inside += f->in;
        for (uint32_t i = 0; i < t->ng; i++) {
            double v = t->g[i].v;
            if (v > hi || v < lo)
                cut += (long double)t->g[i].n * ((long double)v - (v > hi ? hi : lo));
            else
                inside += t->g[i].n;
        }
    }
    SVY_FAIL_IF(!inside, err, SVY_E_DATA,
                "trimming to [%g, %g] leaves no weight inside the bounds to take up the rest", lo, hi);
    double add = (double)(cut / inside);
    for (size_t k = 0; k < w->nresp; k++) {
        wcell *c = &w->cells[w->resp[k]];
        struct wtrim *t = c->trim;
        const tfind *f = &find[w->resp[k]];
        for (uint32_t i = 0; i < t->ng; i++) {
            double v = t->g[i].v;
            t->g[i].v = v > hi ? hi : v < lo ? lo : v + add;
        }
        uint32_t gi;
        if (f->tn) {
            if ((st = add_group(t, f->tn, hi, &gi, err)) || (st = add_exit(&t->top, &t->ntop, &t->tcap, f->tat, gi, err)))
                return st;
        }
        if (f->bn) {
            if ((st = add_group(t, f->bn, lo, &gi, err)) || (st = add_exit(&t->bot, &t->nbot, &t->bcap, f->bat, gi, err)))
                return st;
        }
        if (f->tn || f->bn) {
            t->nfree = f->in;
            t->sfree = f->in ? f->is : 0;
            if (f->in) {
                t->lo_cut = f->imin;
                t->hi_cut = f->imax;
            }
            edge_trim(t);
            if (!c->spooled) {
                while (t->hi_i > t->lo_i && c->vals[t->hi_i - 1].w0 > t->hi_cut)
                    t->hi_i--;
                while (t->lo_i < t->hi_i && c->vals[t->lo_i].w0 < t->lo_cut)
                    t->lo_i++;
                if (!f->in)
                    t->lo_i = t->hi_i;
            }
        }
        c->b += add;
        merge_groups(t);
    }
    w->rep.trim_passes++;
    return SVY_OK;
}

/* A trimming step: one pass, or (strict) passes until every weight is
 * within the bounds to the tolerance.  R's own recursion goes on until
 * none is outside at all, which can ping-pong forever on the last bit of a
 * weight sitting on a bound. */
static svy_status trim_step(svy_weight *w, tfind *find, double lo, double hi, svy_err *err)
{
    for (int pass = 0;; pass++) {
        double worst;
        if (pass && (w->trim_once || within(w, lo, hi, &worst)))
            return SVY_OK;
        SVY_FAIL_IF(pass >= 100000, err, SVY_E_DATA, "trimming to [%g, %g] does not settle", lo, hi);
        svy_status st = trim_pass(w, find, lo, hi, err);
        if (st)
            return st;
    }
}

/* Rake again after trimming: every weight of a cell takes its factor. */
static svy_status rerake(svy_weight *w, svy_err *err)
{
    for (size_t k = 0; k < w->nresp; k++) {
        const wcell *c = &w->cells[w->resp[k]];
        const struct wtrim *t = c->trim;
        long double s = (long double)c->a * t->sfree + (long double)c->b * t->nfree;
        for (uint32_t i = 0; i < t->ng; i++)
            s += (long double)t->g[i].n * t->g[i].v;
        w->ctot[k] = s;
    }
    svy_status st = svy_weight_rake(w, err);
    if (st)
        return st;
    for (size_t k = 0; k < w->nresp; k++) {
        wcell *c = &w->cells[w->resp[k]];
        struct wtrim *t = c->trim;
        double f = w->cfac[k];
        c->a *= f;
        c->b *= f;
        for (uint32_t i = 0; i < t->ng; i++)
            t->g[i].v *= f;
        merge_groups(t);
    }
    return SVY_OK;
}

static svy_status trim_rounds(svy_weight *w, tfind *find, double lo, double hi, svy_err *err)
{
    for (int round = 0;; round++) {
        double worst;
        if (within(w, lo, hi, &worst))
            return SVY_OK;
        if (round >= w->trim_rounds_max)
            return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, NULL,
                               "trimming to [%.10g, %.10g] and raking to the margins cannot both hold: after %d "
                               "rounds a weight of %.10g is still outside (largest relative margin gap %.3g)",
                               lo, hi, round, worst, w->rep.max_gap);
        svy_status st = trim_step(w, find, lo, hi, err);
        if (st)
            return st;
        w->rep.trim_rounds++;
        /* Without margins there is nothing to restore: one step is all of
         * R's trimWeights(), strict or not. */
        if (!w->nmargins)
            return SVY_OK;
        if ((st = rerake(w, err))) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "after trimming to [%.10g, %.10g]: %.440s", lo, hi, err->msg);
            memcpy(err->msg, msg, sizeof msg);
            return st;
        }
    }
}

svy_status svy_weight_trim(svy_weight *w, svy_err *err)
{
    long double sw = 0;
    long long n = 0;
    for (size_t k = 0; k < w->nresp; k++) {
        wcell *c = &w->cells[w->resp[k]];
        if (!(c->trim = svy_calloc(1, sizeof *c->trim)))
            return svy_weight_nomem(err);
        struct wtrim *t = c->trim;
        t->nfree = c->n;
        t->sfree = c->s1;
        t->lo_cut = c->min0;
        t->hi_cut = c->max0;
        t->hi_i = c->nvals;
        sw += c->s1 * c->a;
        n += c->n;
    }
    double mean = (double)(sw / n);
    double lo = w->trim_lo_rel ? w->trim_lo * mean : w->trim_lo;
    double hi = w->trim_hi_rel ? w->trim_hi * mean : w->trim_hi;
    w->rep.trim_lo = lo;
    w->rep.trim_hi = hi;
    /* Trimming keeps the total, so the mean weight can never leave [lo, hi]. */
    SVY_FAIL_IF(lo >= hi, err, SVY_E_USAGE, "trimming bounds [%g, %g] are empty (mean weight %g)", lo, hi, mean);
    SVY_FAIL_IF(mean > hi, err, SVY_E_DATA,
                "cannot trim to an upper bound %g below the mean weight %g: the total would not hold", hi, mean);
    SVY_FAIL_IF(mean < lo, err, SVY_E_DATA,
                "cannot trim to a lower bound %g above the mean weight %g: the total would not hold", lo, mean);
    tfind *find = svy_calloc(w->cells_ix.n, sizeof *find);
    if (!find)
        return svy_weight_nomem(err);
    svy_status st = trim_rounds(w, find, lo, hi, err);
    free(find);
    long long clipped = 0;
    for (size_t k = 0; k < w->nresp; k++) {
        const struct wtrim *t = w->cells[w->resp[k]].trim;
        clipped += w->cells[w->resp[k]].n - t->nfree;
    }
    w->rep.trimmed = clipped;
    return st;
}
