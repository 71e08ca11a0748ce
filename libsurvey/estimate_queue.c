/* The queue of rows in any order (see rqueue in estimate_private.h): the
 * units' first records, and summing a batch of queued rows sorted by record.
 * Per batch, not per row: the per-row half (looking a record up, queueing
 * the row) is in estimate_rows.c. */
#include "svy_private.h"
#include "estimate_private.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Keep the units' tables under this many bytes a layer. */
#define UX_MAX ((size_t)64 << 20)

void svy_est_ux_put(layer *L, uint32_t key, uint32_t dom, uint32_t r)
{
    if (key >= L->uxlen) {
        size_t nl = L->uxlen ? L->uxlen * 2 : 256;
        while (nl <= key)
            nl *= 2;
        if (nl * sizeof *L->ux > UX_MAX)
            return;
        uslot *nu = aligned_alloc(64, nl * sizeof *nu); /* a slot a line */
        if (!nu)
            return; /* only a cache */
        if (L->uxlen)
            memcpy(nu, L->ux, L->uxlen * sizeof *nu);
        memset(nu + L->uxlen, 0, (nl - L->uxlen) * sizeof *nu);
        free(L->ux);
        L->ux = nu;
        L->uxlen = nl;
    }
    uslot *u = &L->ux[key];
    if (u->n < USLOT) {
        u->dom[u->n] = dom;
        u->rec[u->n++] = r;
    }
}

/* One outcome of a queued row: w times 0 or 1 (w >= 0) is w or +0, taken
 * without a branch on y; wb holds w's bits. */
static inline void add_rate(double *blk, double w, uint64_t wb, uint32_t y)
{
    uint64_t ab = wb & (0 - (uint64_t)y);
    double a;
    memcpy(&a, &ab, sizeof a);
    blk[0] += a;
    blk[1] += w - a;
    blk[2] += 1;
}

/* A queued row in its record: add_rates with the outcomes as bits (the
 * same products: w times 0 or 1). */
static inline void add_rates_bits(double *blk, int rows, size_t nout, double w, uint32_t yv)
{
    uint32_t y = yv & 0xffff, v = yv >> 16;
    if (!rows) {
        uint64_t wb;
        memcpy(&wb, &w, sizeof wb);
        if (v == ((uint32_t)1 << nout) - 1) { /* every outcome valid: the usual row */
            for (size_t o = 0; o < nout; o++, blk += 3, y >>= 1)
                add_rate(blk, w, wb, y & 1);
            return;
        }
        for (size_t o = 0; o < nout; o++, blk += 3) {
            if (v >> o & 1)
                add_rate(blk, w, wb, y >> o & 1);
        }
        return;
    }
    for (size_t o = 0; o < nout; o++, blk += 8)
        if (v >> o & 1)
            svy_est_group_add(blk + ((y >> o & 1) ? 0 : 4), w);
}

static void sum_entries(svy_est *e, layer *L, const qent *x, size_t n)
{
    const size_t nout = e->nout;
    for (size_t i = 0; i < n; i++) {
        rec *R = &L->recs[x[i].rec];
        R->rows++;
        R->nzrows += x[i].w != 0;
        add_rates_bits(L->pool + R->block, L->rows, nout, x[i].w, x[i].yv);
    }
}

/* A stable sort of n queued entries by record (records below nr, at most
 * 2^18), from in into the returned array (in or tmp, n entries each): a
 * counting pass by the low bits of the record, then, past 256 records, one
 * by the high bits.  Each pass writes to at most 512 places at once, whose
 * lines stay in the cache; one pass over thousands of records would miss a
 * line for nearly every entry. */
static qent *sort_entries(qent *in, qent *tmp, size_t n, size_t nr)
{
    unsigned bits = 1;
    while (((size_t)1 << bits) < nr)
        bits++;
    const unsigned lo = bits <= 8 ? bits : (bits + 1) / 2, hi = bits - lo;
    const uint32_t mask = ((uint32_t)1 << lo) - 1;
    uint32_t c1[512] = {0}, c2[512] = {0};
    for (size_t i = 0; i < n; i++) {
        c1[in[i].rec & mask]++;
        c2[in[i].rec >> lo]++;
    }
    uint32_t s1 = 0, s2 = 0;
    for (size_t b = 0; b < 512; b++) {
        uint32_t t1 = c1[b], t2 = c2[b];
        c1[b] = s1;
        c2[b] = s2;
        s1 += t1;
        s2 += t2;
    }
    for (size_t i = 0; i < n; i++)
        tmp[c1[in[i].rec & mask]++] = in[i];
    if (!hi)
        return tmp;
    for (size_t i = 0; i < n; i++)
        in[c2[tmp[i].rec >> lo]++] = tmp[i];
    return in;
}

/* Sum every queued row: each layer's entries sorted by record (stable),
 * unless its records are too many to gain from it; then the domains' row
 * counts. */
void svy_est_flush_queue(svy_est *e)
{
    rqueue *q = e->q;
    if (!q)
        return;
    for (size_t li = 0; li < e->nlay; li++) {
        size_t n = q->n[li], nr = e->lay[li].nrecs;
        layer *L = &e->lay[li];
        q->n[li] = 0;
        if (n)
            sum_entries(e, L, nr > 4 * (size_t)QROWS ? q->ent[li] : sort_entries(q->ent[li], q->sorted, n, nr), n);
    }
    for (size_t d = 0; d < q->ndrows; d++) {
        e->doms[d].rows += q->drows[d];
        q->drows[d] = 0;
    }
    q->rows = 0;
}

void svy_est_queue_free(svy_est *e)
{
    if (!e->q)
        return;
    for (size_t l = 0; l < LAYERS_MAX; l++)
        free(e->q->ent[l]);
    free(e->q->sorted);
    free(e->q->drows);
    free(e->q);
    e->q = NULL;
}

/* The queue's memory, when rows start coming in any order; 0 when there
 * is none (the rows are then summed at once). */
int svy_est_queue_ready(svy_est *e)
{
    if (e->q)
        return 1;
    if (e->nout > QOUT)
        return 0;
    rqueue *q = e->q = calloc(1, sizeof *q);
    int ok = q && (q->sorted = svy_malloc(2 * QROWS * sizeof *q->sorted)) != NULL;
    for (size_t l = 0; ok && l < e->nlay; l++)
        ok = (q->ent[l] = svy_malloc(2 * QROWS * sizeof *q->ent[l])) != NULL;
    if (!ok)
        svy_est_queue_free(e);
    return ok;
}
