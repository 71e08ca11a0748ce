/* The starting weights inside each weighting cell, and the report's
 * statistics over the final weights.
 *
 * Raking needs only a cell's count and sum; trimming and the median need
 * more: which rows are above or below a value.  A cell keeps its first
 * WCELL_KEEP distinct starting weights with their counts (weights constant
 * within strata, the common case, never need more).  Once a cell has more,
 * its rows go to the spool: (cell, weight) pairs in blocks of a temporary
 * file, 12 bytes a row, read again only by trimming passes that must find
 * the rows beyond a bound and by the median.  Memory is then fixed per cell
 * whatever the weights are. */
#include "weight_private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <survey/outfile.h>

#define SPOOL_BLOCK 4096

static svy_status spool_io(svy_err *err, const char *what)
{
    int e = errno;
    if (e)
        return svy_err_sys(err, e, NULL, 0, "cannot %s the spool of starting weights", what);
    return svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot %s the spool of starting weights: short transfer",
                       what);
}

/* Write the block being filled, padded to its full size. */
static svy_status spool_flush(svy_weight *w, svy_err *err)
{
    struct wspool *s = &w->spool;
    if (!s->fill)
        return SVY_OK;
    for (size_t i = s->fill; i < SPOOL_BLOCK; i++) {
        s->cell[i] = 0;
        s->w0[i] = 0;
    }
    errno = 0;
    if (fwrite(s->cell, sizeof *s->cell, SPOOL_BLOCK, s->f) != SPOOL_BLOCK ||
        fwrite(s->w0, sizeof *s->w0, SPOOL_BLOCK, s->f) != SPOOL_BLOCK)
        return spool_io(err, "write");
    s->fill = 0;
    return SVY_OK;
}

static svy_status spool_put(svy_weight *w, uint32_t cell, double w0, svy_err *err)
{
    struct wspool *s = &w->spool;
    if (!s->cell) {
        if (!(s->cell = svy_calloc(SPOOL_BLOCK, sizeof *s->cell)) ||
            !(s->w0 = svy_calloc(SPOOL_BLOCK, sizeof *s->w0)))
            return svy_weight_nomem(err);
        svy_status st = svy_tmpfile(&s->f, err);
        if (st)
            return st;
    }
    s->cell[s->fill] = cell;
    s->w0[s->fill] = w0;
    s->rows++;
    if (++s->fill == SPOOL_BLOCK)
        return spool_flush(w, err);
    return SVY_OK;
}

svy_status svy_wcell_spool_finish(svy_weight *w, svy_err *err)
{
    struct wspool *s = &w->spool;
    if (!s->f)
        return SVY_OK;
    svy_status st = spool_flush(w, err);
    if (!st && fflush(s->f) != 0)
        st = spool_io(err, "write");
    w->rep.spooled = s->rows;
    return st;
}

svy_status svy_wcell_spool_scan(svy_weight *w, svy_wcell_block_fn fn, void *ctx, svy_err *err)
{
    struct wspool *s = &w->spool;
    if (!s->f)
        return SVY_OK;
    errno = 0;
    if (fseek(s->f, 0, SEEK_SET) != 0)
        return spool_io(err, "read");
    for (long long done = 0; done < s->rows; done += SPOOL_BLOCK) {
        errno = 0;
        if (fread(s->cell, sizeof *s->cell, SPOOL_BLOCK, s->f) != SPOOL_BLOCK ||
            fread(s->w0, sizeof *s->w0, SPOOL_BLOCK, s->f) != SPOOL_BLOCK)
            return spool_io(err, "read");
        long long left = s->rows - done;
        size_t n = left < SPOOL_BLOCK ? (size_t)left : SPOOL_BLOCK;
        if (fn(ctx, s->cell, s->w0, n))
            break;
    }
    return SVY_OK;
}

void svy_wcell_free(svy_weight *w)
{
    if (w->spool.f)
        fclose(w->spool.f);
    free(w->spool.cell);
    free(w->spool.w0);
    memset(&w->spool, 0, sizeof w->spool);
}

/* A cell's rows past WCELL_KEEP distinct weights: all of them to the spool. */
static svy_status spill(svy_weight *w, size_t cell, svy_err *err)
{
    wcell *c = &w->cells[cell];
    for (size_t i = 0; i < c->nvals; i++)
        for (long long k = 0; k < c->vals[i].n; k++) {
            svy_status st = spool_put(w, (uint32_t)cell, c->vals[i].w0, err);
            if (st)
                return st;
        }
    free(c->vals);
    c->vals = NULL;
    c->nvals = 0;
    c->spooled = 1;
    return SVY_OK;
}

svy_status svy_wcell_add(svy_weight *w, size_t cell, double w0, svy_err *err)
{
    wcell *c = &w->cells[cell];
    c->n++;
    c->s1 += w0;
    if (w0 < c->min0)
        c->min0 = w0;
    if (w0 > c->max0)
        c->max0 = w0;
    /* Nonrespondents end with weight 0: only their sum counts. */
    if (!c->resp)
        return SVY_OK;
    if (c->spooled)
        return spool_put(w, (uint32_t)cell, w0, err);
    /* Sorted distinct values: a binary search, though most cells hold one. */
    size_t lo = 0, hi = c->nvals;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->vals[mid].w0 < w0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->nvals && c->vals[lo].w0 == w0) {
        c->vals[lo].n++;
        return SVY_OK;
    }
    if (c->nvals == WCELL_KEEP) {
        svy_status st = spill(w, cell, err);
        if (st)
            return st;
        return spool_put(w, (uint32_t)cell, w0, err);
    }
    /* Capacity: the next power of two, so that growth is by doubling. */
    size_t n = c->nvals;
    if ((n & (n - 1)) == 0) {
        wval *nv = svy_reallocarray(c->vals, n ? n * 2 : 1, sizeof *nv);
        if (!nv)
            return svy_weight_nomem(err);
        c->vals = nv;
    }
    memmove(c->vals + lo + 1, c->vals + lo, (n - lo) * sizeof *c->vals);
    c->vals[lo] = (wval){w0, 1};
    c->nvals++;
    return SVY_OK;
}

/* ---- the summary: statistics over the final weights ----------------------- */

/* Exact order statistics without holding the rows: radix selection on the
 * bits of the weights, 16 at a time, over the kept values and the spool,
 * until few enough candidates remain to sort. */
#define RADIX_BITS 16
#define RADIX_BINS (1u << RADIX_BITS)
#define COLLECT_MAX ((long long)1 << 16)

typedef struct kv {
    uint64_t key;
    long long n;
} kv;

typedef struct selector {
    long long rank;  /* 1-based, within the candidates */
    uint64_t prefix; /* bits of the key fixed so far */
    int shift;       /* bits below the prefix */
    long long cand;  /* rows with the prefix */
    int done;
    double value;
    long long *hist; /* this pass: RADIX_BINS counts, or NULL when collecting */
    kv *pairs;       /* this pass: the candidates when collecting */
    size_t npairs;
} selector;

typedef struct summary {
    svy_weight *w;
    selector sel[2];
    int first; /* the first pass also sums */
    long double s, s2;
    long long n, outside;
    double min, max, lo, hi;
} summary;

/* Order-preserving map of a double to an unsigned integer. */
static uint64_t key_of(double x)
{
    uint64_t u;
    x = x == 0 ? 0.0 : x;
    memcpy(&u, &x, 8);
    return u >> 63 ? ~u : u | (uint64_t)1 << 63;
}

static double value_of(uint64_t k)
{
    uint64_t u = k >> 63 ? k & ~((uint64_t)1 << 63) : ~k;
    double x;
    memcpy(&x, &u, 8);
    return x;
}

static void see(summary *s, double x, long long n)
{
    if (s->first) {
        s->s += (long double)x * n;
        s->s2 += (long double)x * x * n;
        s->n += n;
        if (x < s->min)
            s->min = x;
        if (x > s->max)
            s->max = x;
        if (x > s->hi || x < s->lo)
            s->outside += n;
    }
    uint64_t k = key_of(x);
    for (int i = 0; i < 2; i++) {
        selector *q = &s->sel[i];
        if (q->done || (q->shift < 64 && k >> q->shift != q->prefix))
            continue;
        if (q->hist)
            q->hist[(k >> (q->shift - RADIX_BITS)) & (RADIX_BINS - 1)] += n;
        else if (q->pairs)
            q->pairs[q->npairs++] = (kv){k, n};
    }
}

static int see_block(void *ctx, const uint32_t *cell, const double *w0, size_t n)
{
    summary *s = ctx;
    const wcell *cells = s->w->cells;
    for (size_t i = 0; i < n; i++)
        see(s, svy_wcell_weight(&cells[cell[i]], w0[i]), 1);
    return 0;
}

static int cmp_kv(const void *a, const void *b)
{
    uint64_t x = ((const kv *)a)->key, y = ((const kv *)b)->key;
    return (x > y) - (x < y);
}

/* One read of every respondent's weight: kept values, then the spool. */
static svy_status summary_pass(summary *s, svy_err *err)
{
    svy_weight *w = s->w;
    for (size_t k = 0; k < w->nresp; k++) {
        const wcell *c = &w->cells[w->resp[k]];
        for (size_t i = 0; i < c->nvals; i++)
            see(s, svy_wcell_weight(c, c->vals[i].w0), c->vals[i].n);
    }
    return svy_wcell_spool_scan(w, see_block, s, err);
}

/* After a pass: narrow each selector to the bin holding its rank, or read
 * its value off the sorted candidates. */
static void narrow(selector *q)
{
    if (q->done)
        return;
    if (q->pairs) {
        qsort(q->pairs, q->npairs, sizeof *q->pairs, cmp_kv);
        long long cum = 0;
        for (size_t i = 0; i < q->npairs; i++) {
            cum += q->pairs[i].n;
            if (cum >= q->rank) {
                q->value = value_of(q->pairs[i].key);
                break;
            }
        }
        q->done = 1;
        return;
    }
    long long cum = 0;
    uint64_t b = 0;
    for (; b < RADIX_BINS; b++) {
        if (cum + q->hist[b] >= q->rank)
            break;
        cum += q->hist[b];
    }
    if (b == RADIX_BINS) /* not reached: the rank is within the rows counted */
        b = RADIX_BINS - 1;
    q->rank -= cum;
    q->cand = q->hist[b];
    q->shift -= RADIX_BITS;
    q->prefix = q->shift + RADIX_BITS == 64 ? b : q->prefix << RADIX_BITS | b;
    if (q->shift == 0) {
        q->value = value_of(q->prefix);
        q->done = 1;
    }
}

svy_status svy_wcell_summarize(svy_weight *w, svy_err *err)
{
    svy_weight_report *r = &w->rep;
    summary s = {.w = w, .first = 1, .min = INFINITY, .max = -INFINITY, .lo = -INFINITY, .hi = INFINITY};
    if (w->trim_on) {
        s.lo = r->trim_lo * (1 - w->tol);
        s.hi = r->trim_hi * (1 + w->tol);
    }
    long long n = 0;
    for (size_t k = 0; k < w->nresp; k++)
        n += w->cells[w->resp[k]].n;
    /* R's median: the mean of the two middle rows when there are an even number. */
    s.sel[0] = (selector){.rank = (n + 1) / 2, .shift = 64, .cand = n};
    s.sel[1] = (selector){.rank = n / 2 + 1, .shift = 64, .cand = n};
    long long *hist = svy_calloc(2 * (size_t)RADIX_BINS, sizeof *hist);
    kv *pairs = NULL;
    if (!hist)
        return svy_weight_nomem(err);
    svy_status st = SVY_OK;
    while (!st && !(s.sel[0].done && s.sel[1].done)) {
        size_t need = 0;
        for (int i = 0; i < 2; i++) {
            selector *q = &s.sel[i];
            q->hist = NULL;
            q->pairs = NULL;
            q->npairs = 0;
            if (!q->done && q->cand <= COLLECT_MAX && q->shift < 64)
                need += (size_t)q->cand;
        }
        free(pairs);
        pairs = need ? svy_calloc(need, sizeof *pairs) : NULL;
        if (need && !pairs) {
            st = svy_weight_nomem(err);
            break;
        }
        size_t at = 0;
        for (int i = 0; i < 2; i++) {
            selector *q = &s.sel[i];
            if (q->done)
                continue;
            if (q->cand <= COLLECT_MAX && q->shift < 64) {
                q->pairs = pairs + at;
                at += (size_t)q->cand;
            } else {
                q->hist = hist + (size_t)i * RADIX_BINS;
                memset(q->hist, 0, RADIX_BINS * sizeof *q->hist);
            }
        }
        st = summary_pass(&s, err);
        s.first = 0;
        for (int i = 0; !st && i < 2; i++)
            narrow(&s.sel[i]);
    }
    free(pairs);
    free(hist);
    if (st)
        return st;
    r->respondents = s.n;
    r->nonrespondents = r->rows - s.n;
    r->total = (double)s.s;
    r->mean = (double)(s.s / s.n);
    r->min = s.min;
    r->max = s.max;
    long double var = s.s2 / s.n - (s.s / s.n) * (s.s / s.n);
    r->cv = var > 0 ? (double)(sqrtl(var) / (s.s / s.n)) : 0;
    r->deff_kish = (double)(s.n * s.s2 / (s.s * s.s));
    r->median = n % 2 ? s.sel[0].value : (s.sel[0].value + s.sel[1].value) / 2;
    r->outside = w->trim_on ? s.outside : 0;
    return SVY_OK;
}
