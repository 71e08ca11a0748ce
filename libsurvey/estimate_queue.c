/* The queue of rows in any order (see rqueue in estimate_private.h): a row
 * into its key's bucket (the slow half: a new chunk, more buckets), the
 * units' first records, and summing the queued rows bucket after bucket.
 * The per-row half (queueing a row) is inline in estimate_private.h. */
#include "svy_private.h"
#include "estimate_private.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(SVY_SCAN_AVX2) && defined(__GNUC__)
#include <immintrin.h>
#define QAVX2 1 /* the flush's sums in 4 lanes on CPUs with AVX2 (sum_entries_avx2) */
#endif

int svy_est_queue_scalar_only;

/* Keep the units' tables under this many bytes a layer. */
#define UX_MAX ((size_t)64 << 20)

/* A bucket of 2^4 keys before any record tells how large they are. */
enum { USH0 = 4, USH_MAX = 16 };

static void ux_put(layer *L, uint32_t key, uint32_t dom, uint32_t r)
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

/* The place of dom in a slot, -1 when it is not there.  Without a branch
 * per place: rows in any order find their domain at any place in it, and
 * a branch would guess wrong. */
static inline int slot_find(const uslot *u, uint32_t dom)
{
#if defined(__SSE2__)
    /* n and dom[0..2] (n's lane dropped), then dom[3..6]; places past n
     * masked out */
    const __m128i d = _mm_set1_epi32((int)dom);
    __m128i a = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(const void *)u), d);
    __m128i b = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(const void *)&u->dom[3]), d);
    unsigned m = ((unsigned)_mm_movemask_ps(_mm_castsi128_ps(a)) >> 1) |
                 (unsigned)_mm_movemask_ps(_mm_castsi128_ps(b)) << 3;
    m &= ((unsigned)1 << u->n) - 1;
    return m ? __builtin_ctz(m) : -1;
#else
    for (uint32_t j = 0; j < u->n; j++)
        if (u->dom[j] == dom)
            return (int)j;
    return -1;
#endif
}

/* The record of (dom, key) in layer li, made when new (-1 out of memory). */
static inline long rec_of(svy_est *e, layer *L, size_t li, uint32_t dom, uint32_t key, svy_err *err)
{
    if (key < L->uxlen) {
        const uslot *u = &L->ux[key];
        int j = slot_find(u, dom);
        if (j >= 0)
            return u->rec[j];
    }
    long r = svy_est_rec_get(e, L, li, dom, key, err);
    if (r >= 0)
        ux_put(L, key, dom, (uint32_t)r);
    return r;
}

int svy_est_queue_put_slow(rqueue *q, size_t li, uint32_t key, uint32_t dom, double w, uint32_t yv)
{
    qlayer *l = &q->ql[li];
    if (key >= l->keys)
        l->keys = key == UINT32_MAX ? key : key + 1;
    uint32_t b = key >> l->ush;
    if (dom > 0xffff || b >= QBUCKETS)
        return 0;
    if (b >= l->nb) {
        uint32_t nb = l->nb ? l->nb : 16;
        while (nb <= b)
            nb *= 2;
        if (nb > QBUCKETS)
            nb = QBUCKETS;
        qbucket *bk = realloc(l->bk, nb * sizeof *bk);
        if (!bk)
            return 0;
        for (uint32_t i = l->nb; i < nb; i++)
            bk[i] = (qbucket){SVY_QNONE, SVY_QNONE, QCH};
        l->bk = bk;
        l->nb = nb;
    }
    qbucket *B = &l->bk[b];
    if (B->fill == QCH) {
        if (q->used == QCHUNKS)
            return -1;
        uint32_t c = q->used++;
        if (B->head == SVY_QNONE)
            B->head = c;
        else
            q->next[B->tail] = c;
        B->tail = c;
        B->fill = 0;
    }
    q->pool[(size_t)B->tail * QCH + B->fill++] = (qent){w, key << 16 | dom, yv};
    return 1;
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

/* The record of queued row x (in a bucket whose keys are base + their low
 * ush bits), its row counted: its doubles (NULL out of memory). */
static inline double *entry_block(svy_est *e, layer *L, size_t li, uint32_t base, uint32_t mask, const qent *x,
                                  svy_err *err)
{
    const uint32_t kd = x->kd;
    long r = rec_of(e, L, li, kd & 0xffff, base | (kd >> 16 & mask), err);
    if (r < 0)
        return NULL;
    rec *R = &L->recs[r];
    R->rows++;
    R->nzrows += x->w != 0;
    return L->pool + R->block;
}

/* n queued rows of a bucket. */
static svy_status sum_entries(svy_est *e, layer *L, size_t li, uint32_t base, uint32_t mask, const qent *x,
                              size_t n, svy_err *err)
{
    for (size_t i = 0; i < n; i++) {
        double *blk = entry_block(e, L, li, base, mask, &x[i], err);
        if (!blk)
            return SVY_E_NOMEM;
        add_rates_bits(blk, L->rows, e->nout, x[i].w, x[i].yv);
    }
    return SVY_OK;
}

#if defined(QAVX2)
/* A queued row whose outcomes are all valid, in a SUMS record of rates,
 * four outcomes (twelve doubles) at a time: the lanes to add are w or +0
 * (S1 and S0: the same w times 0 or 1 as add_rate, w - w being +0) and 1
 * (cnt), so each is (w AND mask) OR one, with the masks of the four
 * outcomes' bits (qmask) and 1.0 in every third lane (qone).  The same
 * numbers added to the same doubles in the same order: the same bits. */
#define QY(n, k) ((uint64_t)0 - (((n) >> (k)) & 1))
#define QM(n) {QY(n, 0), ~QY(n, 0), 0, QY(n, 1), ~QY(n, 1), 0, QY(n, 2), ~QY(n, 2), 0, QY(n, 3), ~QY(n, 3), 0}
static const uint64_t qmask[16][12] = {QM(0),  QM(1),  QM(2),  QM(3),  QM(4),  QM(5),  QM(6),  QM(7),
                                       QM(8),  QM(9),  QM(10), QM(11), QM(12), QM(13), QM(14), QM(15)};
static const double qone[12] = {0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1};

__attribute__((target("avx2"))) static inline void add4(double *b, __m256d w, const uint64_t *m, const double *one)
{
    __m256d a = _mm256_or_pd(_mm256_and_pd(w, _mm256_loadu_pd((const double *)(const void *)m)),
                             _mm256_loadu_pd(one));
    _mm256_storeu_pd(b, _mm256_add_pd(_mm256_loadu_pd(b), a));
}

__attribute__((target("avx2"))) static inline void add2(double *b, __m256d w, const uint64_t *m, const double *one)
{
    __m128d a = _mm_or_pd(_mm_and_pd(_mm256_castpd256_pd128(w), _mm_loadu_pd((const double *)(const void *)m)),
                          _mm_loadu_pd(one));
    _mm_storeu_pd(b, _mm_add_pd(_mm_loadu_pd(b), a));
}

__attribute__((target("avx2"))) static inline void add_rates_avx2(double *blk, size_t nout, double wd, uint32_t y)
{
    const __m256d w = _mm256_set1_pd(wd);
    size_t o = nout;
    for (; o >= 4; o -= 4, blk += 12, y >>= 4) {
        const uint64_t *m = qmask[y & 15];
        add4(blk, w, m, qone);
        add4(blk + 4, w, m + 4, qone + 4);
        add4(blk + 8, w, m + 8, qone + 8);
    }
    /* the last 1 to 3 outcomes (the same count every row): 3 to 9 doubles,
     * the last of 3 and 9 a count */
    const uint64_t *m = qmask[y & 15];
    switch (o) {
    case 3:
        add4(blk, w, m, qone);
        add4(blk + 4, w, m + 4, qone + 4);
        blk[8] += 1;
        break;
    case 2:
        add4(blk, w, m, qone);
        add2(blk + 4, w, m + 4, qone + 4);
        break;
    case 1:
        add2(blk, w, m, qone);
        blk[2] += 1;
        break;
    default:
        break;
    }
}

/* sum_entries for a SUMS layer on a CPU with AVX2: rows with a missing
 * outcome take add_rates_bits. */
__attribute__((target("avx2"))) static svy_status sum_entries_avx2(svy_est *e, layer *L, size_t li, uint32_t base,
                                                                   uint32_t mask, const qent *x, size_t n,
                                                                   svy_err *err)
{
    const size_t nout = e->nout;
    const uint32_t all = ((uint32_t)1 << nout) - 1;
    for (size_t i = 0; i < n; i++) {
        double *blk = entry_block(e, L, li, base, mask, &x[i], err);
        if (!blk)
            return SVY_E_NOMEM;
        if (x[i].yv >> 16 == all)
            add_rates_avx2(blk, nout, x[i].w, x[i].yv & 0xffff);
        else
            add_rates_bits(blk, 0, nout, x[i].w, x[i].yv);
    }
    return SVY_OK;
}
#endif

/* Keys a bucket: as many as have records of about QBYTES in all (with their
 * slots), in at most QBUCKETS buckets. */
static unsigned bucket_shift(const layer *L, const qlayer *l)
{
    if (!l->keys || !L->nrecs)
        return USH0;
    double per = (double)L->nrecs / l->keys * (double)(L->bsize * sizeof(double) + sizeof(rec)) + sizeof(uslot);
    unsigned s = 0;
    while (s < USH_MAX && (double)((size_t)2 << s) * per <= QBYTES)
        s++;
    while (s < USH_MAX && (l->keys - 1) >> s >= QBUCKETS)
        s++;
    return s;
}

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* Lines from memory before they are needed: a chunk of entries. */
static inline void fetch_chunk(const rqueue *q, uint32_t c)
{
    if (c == SVY_QNONE)
        return;
    const char *p = (const char *)(q->pool + (size_t)c * QCH);
    for (size_t i = 0; i < QCH * sizeof(qent); i += 64)
        PREFETCH(p + i);
}

/* The slots of bucket b's keys (fetch_slots), then, a bucket later, the
 * records they name (fetch_recs: a record's doubles are at rec * bsize in
 * a table of rates, whose records have no other blocks). */
static inline void fetch_slots(const layer *L, const qlayer *l, uint32_t b)
{
    size_t k0 = (size_t)b << l->ush, k1 = k0 + ((size_t)1 << l->ush);
    for (size_t k = k0; k < k1 && k < L->uxlen; k++)
        PREFETCH(&L->ux[k]);
}

static inline void fetch_recs(const layer *L, const qlayer *l, uint32_t b)
{
    size_t k0 = (size_t)b << l->ush, k1 = k0 + ((size_t)1 << l->ush);
    const size_t bytes = L->bsize * sizeof(double);
    for (size_t k = k0; k < k1 && k < L->uxlen; k++) {
        const uslot *u = &L->ux[k];
        for (uint32_t j = 0; j < u->n && j < USLOT; j++) {
            size_t r = u->rec[j];
            if (r >= L->nrecs)
                continue;
            PREFETCH(&L->recs[r]);
            const char *p = (const char *)(L->pool + r * L->bsize);
            for (size_t i = 0; i < bytes; i += 64)
                PREFETCH(p + i);
        }
    }
}

/* One layer's queued rows, bucket after bucket; the buckets left empty. */
static svy_status flush_layer(svy_est *e, size_t li, svy_err *err)
{
    rqueue *q = e->q;
    qlayer *l = &q->ql[li];
    layer *L = &e->lay[li];
    const uint32_t mask = ((uint32_t)1 << l->ush) - 1;
    svy_status st = SVY_OK;
    svy_status (*sum)(svy_est *, layer *, size_t, uint32_t, uint32_t, const qent *, size_t, svy_err *) = sum_entries;
#if defined(QAVX2)
    if (q->avx2 && !L->rows)
        sum = sum_entries_avx2;
#endif
    if (l->nb)
        fetch_slots(L, l, 0);
    if (l->nb > 1)
        fetch_slots(L, l, 1);
    if (l->nb)
        fetch_recs(L, l, 0);
    for (uint32_t b = 0; b < l->nb; b++) {
        qbucket *B = &l->bk[b];
        if (b + 2 < l->nb)
            fetch_slots(L, l, b + 2);
        if (b + 1 < l->nb) {
            fetch_recs(L, l, b + 1);
            fetch_chunk(q, l->bk[b + 1].head);
        }
        for (uint32_t c = B->head; st == SVY_OK && c != SVY_QNONE; c = c == B->tail ? SVY_QNONE : q->next[c]) {
            if (c != B->tail)
                fetch_chunk(q, q->next[c]);
            st = sum(e, L, li, b << l->ush, mask, q->pool + (size_t)c * QCH, c == B->tail ? B->fill : QCH, err);
        }
        *B = (qbucket){SVY_QNONE, SVY_QNONE, QCH};
    }
    l->ush = bucket_shift(L, l);
    return st;
}

/* Sum every queued row. */
svy_status svy_est_flush_queue(svy_est *e, svy_err *err)
{
    rqueue *q = e->q;
    if (!q || !q->used)
        return SVY_OK;
    svy_status st = SVY_OK;
    for (size_t li = 0; li < e->nlay; li++) {
        svy_status s = flush_layer(e, li, err);
        if (s && !st)
            st = s;
    }
    q->used = 0;
    return st;
}

void svy_est_queue_rows(svy_est *e)
{
    rqueue *q = e->q;
    for (size_t d = 0; q && d < q->ndrows; d++) {
        e->doms[d].rows += q->drows[d];
        q->drows[d] = 0;
    }
}

void svy_est_queue_free(svy_est *e)
{
    if (!e->q)
        return;
    for (size_t l = 0; l < LAYERS_MAX; l++)
        free(e->q->ql[l].bk);
    free(e->q->pool);
    free(e->q->next);
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
    if (!q)
        return 0;
    /* a huge page (asked for before it is written): the chunks are
     * written and read at random */
    const size_t bytes = (size_t)QCHUNKS * QCH * sizeof *q->pool;
    q->pool = aligned_alloc((size_t)2 << 20, bytes);
    q->next = malloc(QCHUNKS * sizeof *q->next);
    if (!q->pool || !q->next) {
        svy_est_queue_free(e);
        return 0;
    }
    svy_dsn_huge(q->pool, bytes);
#if defined(QAVX2)
    q->avx2 = !svy_est_queue_scalar_only && __builtin_cpu_supports("avx2");
#endif
    for (size_t l = 0; l < LAYERS_MAX; l++)
        q->ql[l].ush = USH0;
    return 1;
}
