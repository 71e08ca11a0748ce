/* Replicate weights, per row: a row's R weights read, added to the
 * replicates' sums of its domain, and to the Gram matrices whose ranks give
 * the degrees of freedom (replicate.c reads them).
 *
 * Speed without changing a bit of the sums: the additions per replicate
 * run two at a time (SSE2: the same IEEE additions as the scalar loop), a
 * 0/1 outcome adds a (y = 1) or nothing (y = 0: a * 0 adds +0, a no-op),
 * and the denominators are shared per domain while an outcome has a value
 * on every row (replicate_private.h).
 *
 * The Gram matrices only give ranks, so they are summed per distinct
 * direction: a row a = c b (c its first nonzero weight) adds c^2 to its
 * direction's term, and the matrix gets sum c^2 b b' once per direction
 * before a rank is read.  In the files replicate weights come in (bootstrap,
 * JK, BRR, Fay, and svy-weight's) a row's weights are its weight times its
 * PSU's factors, so a PSU's rows share a direction and a domain has one
 * term per PSU instead of one per row.  Directions whose nonzero weights
 * are all equal are matched exactly by their mask; others by b to 1e-12 of
 * its largest value (far below the rank's 1e-10 of the largest
 * eigenvalue).  A row that matches no direction adds a a' itself, and past
 * PAT_DOUBLES (files with no structure) every row does: the same ranks. */
#include "svy_private.h"
#include "replicate_private.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum { PAT_DOUBLES = 1 << 20, ENT_MAX = 1 << 20 };
#define FULL_TGT UINT32_MAX

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

/* s += a, and s += a y: the scalar loop's IEEE operations, two at a time. */
static void vadd(double *restrict s, const double *restrict a, size_t R)
{
    size_t i = 0;
#if defined(__SSE2__)
    for (; i + 2 <= R; i += 2)
        _mm_storeu_pd(s + i, _mm_add_pd(_mm_loadu_pd(s + i), _mm_loadu_pd(a + i)));
#endif
    for (; i < R; i++)
        s[i] += a[i];
}

static void vaddmul(double *restrict s, const double *restrict a, double y, size_t R)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128d vy = _mm_set1_pd(y);
    for (; i + 2 <= R; i += 2)
        _mm_storeu_pd(s + i, _mm_add_pd(_mm_loadu_pd(s + i), _mm_mul_pd(_mm_loadu_pd(a + i), vy)));
#endif
    for (; i < R; i++)
        s[i] += a[i] * y;
}

/* ------------------------------------------------------------- sums */

static long slot_index(svy_rep *r, size_t dom, size_t o, long level, int *added)
{
    uint64_t key = (uint64_t)dom << 40 | (uint64_t)o << 20 | (uint64_t)(level + 1);
    long i = svy_u64map_get(&r->map, key, r->nslots, added);
    if (i < 0 || !*added)
        return i;
    size_t cap = r->capslots, capf = r->capsplit;
    if (!svy_grow((void **)&r->pool, &cap, (r->nslots + 1) * 2 * r->R, sizeof *r->pool) ||
        !svy_grow((void **)&r->split, &capf, r->nslots + 1, sizeof *r->split))
        return -1;
    memset(r->pool + r->nslots * 2 * r->R, 0, 2 * r->R * sizeof *r->pool);
    r->split[r->nslots] = 1;
    r->capslots = cap;
    r->capsplit = capf;
    r->nslots++;
    return i;
}

/* The domain's shared sum of a, created with the domain, and its outcomes'
 * slots (a table: no hashing per row and outcome). */
static double *dom_den(svy_rep *r, size_t dom, size_t nout)
{
    if (dom >= r->capdd) {
        size_t cap = r->capdd, capn = r->capdd, caps = r->capds;
        if (!svy_grow((void **)&r->dden, &cap, dom + 1, sizeof *r->dden) ||
            !svy_grow((void **)&r->drows, &capn, cap, sizeof *r->drows) ||
            !svy_grow((void **)&r->dslot, &caps, cap * nout, sizeof *r->dslot))
            return NULL;
        memset(r->dden + r->capdd, 0, (cap - r->capdd) * sizeof *r->dden);
        memset(r->drows + r->capdd, 0, (cap - r->capdd) * sizeof *r->drows);
        for (size_t i = r->capdd * nout; i < cap * nout; i++)
            r->dslot[i] = -1;
        r->capdd = cap;
        r->capds = caps;
    }
    if (!r->dden[dom])
        r->dden[dom] = svy_calloc(r->R, sizeof **r->dden);
    return r->dden[dom];
}

static svy_status add_domain(svy_est *e, size_t dom, const double *ys, const int *valid, const long *levels,
                             svy_err *err)
{
    svy_rep *r = e->rep;
    const size_t R = r->R;
    const double *a = r->a;
    double *dd = dom_den(r, dom, e->nout);
    if (!dd)
        return nomem(err);
    long *ds = r->dslot + dom * e->nout;
    /* an outcome without a value here leaves the shared den from now on */
    for (size_t o = 0; o < e->nout; o++)
        if (!valid[o]) {
            long i = ds[o];
            if (i >= 0 && !r->split[i]) {
                memcpy(r->pool + (size_t)i * 2 * R + R, dd, R * sizeof *dd);
                r->split[i] = 1;
            }
        }
    for (size_t o = 0; o < e->nout; o++) {
        if (!valid[o])
            continue;
        svy_stat k = e->out[o].stat;
        int added = 0;
        long i = ds[o] >= 0 ? ds[o] : (ds[o] = slot_index(r, dom, o, -1, &added));
        if (i < 0)
            return nomem(err);
        double *s = r->pool + (size_t)i * 2 * R;
        /* shared from the domain's first row on, or never */
        if (added && k != SVY_STAT_RATIO && r->drows[dom] == 0)
            r->split[i] = 0;
        /* a quantile's 1{x <= q} is the domain's own (ys holds the last domain's) */
        double y = k == SVY_STAT_SHARE ? 0 : e->out[o].quant ? svy_est_quant_indicator(e, o, dom) : ys[o];
        if (k == SVY_STAT_RATIO) { /* sums of a y and a x (the row's denominator) */
            vaddmul(s, a, y, R);
            vaddmul(s + R, a, e->out[o].x, R);
            continue;
        }
        if (y == 1)
            vadd(s, a, R);
        else if (y != 0)
            vaddmul(s, a, y, R);
        if (r->split[i])
            vadd(s + R, a, R);
        if (k == SVY_STAT_SHARE) {
            if ((i = slot_index(r, dom, o, levels[o], &added)) < 0)
                return nomem(err);
            vadd(r->pool + (size_t)i * 2 * R, a, R);
        }
    }
    vadd(dd, a, R);
    r->drows[dom]++;
    return SVY_OK;
}

void svy_rep_sums(const svy_est *e, size_t dom, const qty *q, const double **num, const double **den)
{
    const svy_rep *r = e->rep;
    const size_t R = r->R;
    long i = svy_u64map_find(&r->map, (uint64_t)dom << 40 | (uint64_t)q->o << 20 | (uint64_t)(q->level + 1));
    long id = q->level >= 0 ? svy_u64map_find(&r->map, (uint64_t)dom << 40 | (uint64_t)q->o << 20) : i;
    *num = i >= 0 ? r->pool + (size_t)i * 2 * R : NULL;
    *den = id < 0 ? NULL : r->split[id] ? r->pool + (size_t)id * 2 * R + R : r->dden[dom];
}

/* ------------------------------------------------------------- Gram */

static double *dom_gram(svy_rep *r, uint32_t t)
{
    if (t == FULL_TGT)
        return r->gfull;
    size_t dom = t;
    if (dom >= r->capgram) {
        size_t cap = r->capgram;
        if (!svy_grow((void **)&r->gram, &cap, dom + 1, sizeof *r->gram))
            return NULL;
        memset(r->gram + r->capgram, 0, (cap - r->capgram) * sizeof *r->gram);
        r->capgram = cap;
    }
    if (!r->gram[dom])
        r->gram[dom] = svy_calloc(r->R * (r->R + 1) / 2, sizeof **r->gram);
    return r->gram[dom];
}

/* Add s b b' to the packed lower triangle g.  Zeros add nothing, so only
 * the pairs of nonzero b are summed, unless under a quarter are 0 (the
 * dense loop, vectorized): a row with no direction (files without
 * structure) costs what it did. */
static void gram_add(double *g, const double *b, double s, size_t R, size_t *nz)
{
    size_t k = 0;
    for (size_t i = 0; i < R; i++)
        if (b[i] != 0)
            nz[k++] = i;
    if (4 * k > 3 * R) {
        for (size_t i = 0; i < R; i++) {
            double bi = s * b[i];
            double *gi = g + i * (i + 1) / 2;
            for (size_t j = 0; j <= i; j++)
                gi[j] += bi * b[j];
        }
        return;
    }
    for (size_t p = 0; p < k; p++) {
        size_t i = nz[p];
        double bi = s * b[i];
        double *gi = g + i * (i + 1) / 2;
        for (size_t q = 0; q <= p; q++)
            gi[nz[q]] += bi * b[nz[q]];
    }
}

svy_status svy_rep_gram_flush(svy_rep *r)
{
    for (size_t i = 0; i < r->nent; i++) {
        double *g = dom_gram(r, r->etgt[i]);
        if (!g)
            return SVY_E_NOMEM;
        gram_add(g, r->pb + (size_t)r->epid[i] * r->R, r->esum[i], r->R, r->nz);
    }
    svy_u64map_free(&r->emap);
    memset(&r->emap, 0, sizeof r->emap);
    r->nent = 0;
    return SVY_OK;
}

static uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

/* The row's direction: c, its nonzero mask, and whether every nonzero
 * weight equals c.  0 when every weight is 0. */
static int row_direction(svy_rep *r, double *c, int *bin)
{
    const double *a = r->a;
    const size_t R = r->R;
    size_t f = 0;
    while (f < R && a[f] == 0)
        f++;
    if (f == R)
        return 0;
    const double cc = a[f];
    uint64_t *m = r->mask;
    memset(m, 0, r->nw * sizeof *m);
    unsigned off = 0;
    size_t k = 0;
#if defined(__SSE2__)
    const __m128d vz = _mm_setzero_pd(), vc = _mm_set1_pd(cc);
    for (; k + 2 <= R; k += 2) {
        __m128d x = _mm_loadu_pd(a + k);
        unsigned nz = (unsigned)_mm_movemask_pd(_mm_cmpneq_pd(x, vz));
        off |= nz & ~(unsigned)_mm_movemask_pd(_mm_cmpeq_pd(x, vc));
        m[k >> 6] |= (uint64_t)nz << (k & 63);
    }
#endif
    for (; k < R; k++) {
        unsigned nz = a[k] != 0;
        off |= nz & (a[k] != cc);
        m[k >> 6] |= (uint64_t)nz << (k & 63);
    }
    *c = cc;
    *bin = !off;
    return 1;
}

/* The index of the row's direction (added when new), or -1: it collides
 * with another's hash, or there is no room (r->pat_off set). */
static long direction_index(svy_rep *r, double c, int bin)
{
    const size_t R = r->R;
    uint64_t h = mix(0x51ed270b27ull, (uint64_t)bin);
    for (size_t w = 0; w < r->nw; w++)
        h = mix(h, r->mask[w]);
    if (!bin)
        for (size_t k = 0; k < R; k++) {
            r->b[k] = r->a[k] / c;
            uint64_t bits;
            memcpy(&bits, &r->b[k], sizeof bits);
            h = mix(h, bits >> 24); /* near-equal b hash alike, mostly */
        }
    int added;
    long p = svy_u64map_get(&r->pmap, h, r->ndir, &added);
    if (p < 0)
        return -1;
    if (!added) {
        if (r->pbin[p] != bin || memcmp(r->pm + (size_t)p * r->nw, r->mask, r->nw * sizeof *r->mask) != 0)
            return -1;
        if (!bin) {
            const double *pb = r->pb + (size_t)p * R, tol = 1e-12 * r->pbmax[p];
            for (size_t k = 0; k < R; k++)
                if (!(fabs(r->b[k] - pb[k]) <= tol))
                    return -1;
        }
        return p;
    }
    size_t n = r->ndir + 1;
    if (n > r->dir_cap || !svy_grow((void **)&r->pb, &r->cappb, n * R, sizeof *r->pb) ||
        !svy_grow((void **)&r->pm, &r->cappm, n * r->nw, sizeof *r->pm) ||
        !svy_grow((void **)&r->pbin, &r->cappbin, n, sizeof *r->pbin) ||
        !svy_grow((void **)&r->pbmax, &r->cappbmax, n, sizeof *r->pbmax)) {
        r->pat_off = 1;
        return -1;
    }
    double *pb = r->pb + r->ndir * R, mx = 0;
    for (size_t k = 0; k < R; k++) {
        pb[k] = bin ? (double)(r->mask[k >> 6] >> (k & 63) & 1) : r->b[k];
        mx = pb[k] > mx ? pb[k] : mx;
    }
    memcpy(r->pm + r->ndir * r->nw, r->mask, r->nw * sizeof *r->mask);
    r->pbin[r->ndir] = (unsigned char)bin;
    r->pbmax[r->ndir] = mx;
    return (long)r->ndir++;
}

/* c^2 into matrix t's term of direction p; 0 when there is no room. */
static int add_term(svy_rep *r, uint32_t t, long p, double c)
{
    int added;
    long i = svy_u64map_get(&r->emap, (uint64_t)t << 32 | (uint64_t)p, r->nent, &added);
    if (i < 0)
        return 0;
    if (added) {
        size_t n = r->nent + 1;
        if (n > ENT_MAX || !svy_grow((void **)&r->esum, &r->capes, n, sizeof *r->esum) ||
            !svy_grow((void **)&r->etgt, &r->capet, n, sizeof *r->etgt) ||
            !svy_grow((void **)&r->epid, &r->capep, n, sizeof *r->epid)) {
            r->pat_off = 1;
            return 0;
        }
        r->esum[i] = 0;
        r->etgt[i] = t;
        r->epid[i] = (uint32_t)p;
        r->nent++;
    }
    r->esum[i] += c * c;
    return 1;
}

/* The row's a a' into each of the matrices tgt[0..nt). */
static svy_status gram_row(svy_rep *r, const uint32_t *tgt, size_t nt, svy_err *err)
{
    double c = 0;
    int bin = 0;
    if (!r->pat_off && !row_direction(r, &c, &bin)) { /* no weight: the matrices exist, zero */
        for (size_t j = 0; j < nt; j++)
            if (!dom_gram(r, tgt[j]))
                return nomem(err);
        return SVY_OK;
    }
    long p = r->pat_off ? -1 : direction_index(r, c, bin);
    size_t j = 0;
    for (; p >= 0 && j < nt; j++)
        if (!add_term(r, tgt[j], p, c))
            break;
    if (r->pat_off && svy_rep_gram_flush(r) != SVY_OK)
        return nomem(err);
    for (; j < nt; j++) { /* no direction for it: the row itself */
        double *g = dom_gram(r, tgt[j]);
        if (!g)
            return nomem(err);
        gram_add(g, r->a, 1, r->R, r->nz);
    }
    return SVY_OK;
}

/* ------------------------------------------------------------- the row */

/* Texts of n bytes equal: up to 16 bytes by two overlapping loads each
 * (no byte past either text is read), cheaper than a call to memcmp. */
static int same_text(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a0, a1, b0, b1;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8);
        memcpy(&b1, b + n - 8, 8);
        return a0 == b0 && a1 == b1;
    }
    if (n >= 4 && n < 8) {
        uint32_t a0, a1, b0, b1;
        memcpy(&a0, a, 4);
        memcpy(&b0, b, 4);
        memcpy(&a1, a + n - 4, 4);
        memcpy(&b1, b + n - 4, 4);
        return a0 == b0 && a1 == b1;
    }
    return memcmp(a, b, n) == 0;
}

/* One replicate weight's text to its value: the common forms without the
 * general parser ("0", and the row's last nonzero text again: a bootstrap
 * row repeats its weight times a few factors). */
static int read_fast(svy_rep *r, const svy_value *v, double *w)
{
    if (v->type != SVY_VAL_STR || v->missing != SVY_MISS_NONE)
        return 0;
    if (v->len == 1 && v->str[0] == '0') {
        *w = 0;
        return 1;
    }
    if (r->last_len && v->len == r->last_len && same_text(v->str, r->last_s, v->len)) {
        *w = r->last_w;
        return 1;
    }
    if (!svy_number_fast(v->str, v->len, w) || !(*w >= 0))
        return 0;
    r->last_s = v->str;
    r->last_len = v->len;
    r->last_w = *w;
    return 1;
}

static svy_status read_weights(svy_est *e, const svy_row *row, svy_err *err)
{
    svy_rep *r = e->rep;
    r->last_len = 0;
    for (size_t i = 0; i < r->R; i++) {
        const svy_value *v = &row->vals[r->col[i]];
        double w;
        if (read_fast(r, v, &w)) {
            r->a[i] = w;
            continue;
        }
        const char *name = svy_var_name(svy_schema_var(e->schema, (size_t)r->col[i]));
        if (svy_value_is_missing(v))
            return svy_err_set(err, SVY_E_DATA, NULL, row->index, r->col[i] + 1, name,
                               "replicate weight %s is missing (R: \"Missing values not allowed in "
                               "'repweights'\")", name);
        if (!svy_value_number(v, &w) || !isfinite(w) || w < 0)
            return svy_err_set(err, SVY_E_DATA, NULL, row->index, r->col[i] + 1, name,
                               "replicate weight %s is not a number of 0 or more", name);
        r->a[i] = w;
    }
    return SVY_OK;
}

svy_status svy_rep_row(svy_est *e, const svy_row *row, long dom, const double *ys, const int *valid,
                       const long *levels, svy_err *err)
{
    svy_rep *r = e->rep;
    if (e->qphase == 1)
        return SVY_OK; /* quantiles: the rows come again once q is known */
    svy_status st = read_weights(e, row, err);
    if (st)
        return st;
    int ov = e->d.overall && e->nby > 0 && e->overall_dom >= 0;
    uint32_t tgt[3];
    size_t nt = 0;
    if (r->gram_full)
        tgt[nt++] = FULL_TGT;
    if (r->gram_dom && dom >= 0)
        tgt[nt++] = (uint32_t)dom;
    if (r->gram_dom && ov)
        tgt[nt++] = (uint32_t)e->overall_dom;
    if (nt && (st = gram_row(r, tgt, nt, err)))
        return st;
    if (dom >= 0)
        st = add_domain(e, (size_t)dom, ys, valid, levels, err);
    if (st == SVY_OK && ov)
        st = add_domain(e, (size_t)e->overall_dom, ys, valid, levels, err);
    return st;
}

/* ------------------------------------------------------------- lifetime */

svy_status svy_rep_rows_bind(svy_rep *r, svy_err *err)
{
    r->nw = (r->R + 63) / 64;
    r->dir_cap = PAT_DOUBLES / r->R;
    if (!(r->a = svy_calloc(r->R, sizeof *r->a)) || !(r->nz = svy_calloc(r->R, sizeof *r->nz)) ||
        !(r->b = svy_calloc(r->R, sizeof *r->b)) || !(r->mask = svy_calloc(r->nw, sizeof *r->mask)))
        return nomem(err);
    return SVY_OK;
}

void svy_rep_rows_clear(svy_rep *r, int release)
{
    svy_u64map_free(&r->map);
    memset(&r->map, 0, sizeof r->map);
    r->nslots = 0;
    for (size_t i = 0; i < r->capdd; i++) {
        free(r->dden[i]);
        r->dden[i] = NULL;
        r->drows[i] = 0;
    }
    for (size_t i = 0; i < r->capds; i++)
        r->dslot[i] = -1;
    svy_u64map_free(&r->pmap);
    memset(&r->pmap, 0, sizeof r->pmap);
    svy_u64map_free(&r->emap);
    memset(&r->emap, 0, sizeof r->emap);
    r->ndir = r->nent = 0;
    r->pat_off = 0;
    if (!release)
        return;
    free(r->pool);
    free(r->split);
    free(r->dden);
    free(r->drows);
    free(r->dslot);
    free(r->pb);
    free(r->pm);
    free(r->pbin);
    free(r->pbmax);
    free(r->esum);
    free(r->etgt);
    free(r->epid);
    free(r->b);
    free(r->mask);
}

/* ------------------------------------------------------------- sums files */

svy_status svy_rep_read_row(svy_est *e, const svy_row *row, svy_err *err)
{
    return read_weights(e, row, err);
}

double *svy_rep_slot(svy_rep *r, size_t dom, size_t o, long level)
{
    int added = 0;
    long i = slot_index(r, dom, o, level, &added);
    if (i < 0)
        return NULL;
    r->split[i] = 1; /* its den is its own: no rows, no shared dden */
    return r->pool + (size_t)i * 2 * r->R;
}

double *svy_rep_gram_of(svy_rep *r, long dom)
{
    return dom_gram(r, dom < 0 ? FULL_TGT : (uint32_t)dom);
}
