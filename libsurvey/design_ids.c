/* The exact check of a last stage whose units are rows (see
 * design_private.h): is (stratum, id) new?  Respondent numbers go through a
 * bit per id and a direct array of strata; others through a set of packed
 * keys or of texts.  The estimator checks them a few rows late, in a
 * queue, so rows in any order do not wait on the bit and the array: their
 * lines are fetched when a row is queued and read when it leaves. */
#include "svy_private.h"
#include "design_private.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int idset_grow(svy_idset *s)
{
    size_t nn = s->nslots ? s->nslots * 2 : 1024;
    uint64_t *ns = svy_calloc(nn, sizeof *ns);
    if (!ns)
        return 0;
    for (size_t i = 0; i < s->nslots; i++) {
        uint64_t k = s->slots[i];
        if (!k)
            continue;
        size_t j = (size_t)((k * 0x9e3779b97f4a7c15ull) >> 20) & (nn - 1);
        while (ns[j])
            j = (j + 1) & (nn - 1);
        ns[j] = k;
    }
    free(s->slots);
    s->slots = ns;
    s->nslots = nn;
    return 1;
}

/* The packed key set: 1 new, 0 there before, -1 out of memory. */
static int slots_add(svy_idset *s, uint64_t k)
{
    if ((s->n + 1) * 4 > s->nslots * 3 && !idset_grow(s))
        return -1;
    size_t j = (size_t)((k * 0x9e3779b97f4a7c15ull) >> 20) & (s->nslots - 1);
    while (s->slots[j]) {
        if (s->slots[j] == k)
            return 0;
        j = (j + 1) & (s->nslots - 1);
    }
    s->slots[j] = k;
    s->n++;
    return 1;
}

static uint64_t pack(uint32_t stratum, double x)
{
    return 1ull << 63 | (uint64_t)stratum << 40 | (uint64_t)x;
}

/* n bytes, the first old of them p's (p is freed), the rest zero; large
 * ones 2 MiB aligned, huge pages asked for before anything is written
 * (asked for later, pages already there stay small): rows in any order
 * write the direct array at random, and each small page would cost a TLB
 * entry. */
static void *huge_realloc(void *p, size_t old, size_t n)
{
    const size_t page = (size_t)2 << 20;
    void *q = n >= page ? aligned_alloc(page, (n + page - 1) / page * page) : malloc(n);
    if (!q)
        return NULL;
    svy_dsn_huge(q, n);
    if (old)
        memcpy(q, p, old);
    memset((char *)q + old, 0, n - old);
    free(p);
    return q;
}

/* Cover ids below need with the direct array while it stays within 4 ids
 * per row seen, plus 2^20 ids (respondent numbers are dense; in rows in
 * any order the largest come early).  Ids already in the key set that the
 * array now covers are marked as living there. */
static int own_grow(svy_idset *s, double need, long long rows)
{
    size_t cap = s->ncap ? s->ncap : 4096;
    while ((double)cap < need)
        cap *= 2;
    if ((double)cap > 4.0 * (double)(rows + 262144) || cap > ((size_t)1 << 30))
        return 0;
    uint64_t *b = realloc(s->seen, cap / 64 * sizeof *b);
    if (!b)
        return 0;
    memset(b + s->ncap / 64, 0, (cap - s->ncap) / 64 * sizeof *b);
    s->seen = b;
    uint32_t *o = huge_realloc(s->own, s->ncap * sizeof *o, cap * sizeof *o);
    if (!o)
        return 0;
    for (size_t i = 0; i < s->nslots; i++) {
        uint64_t k = s->slots[i];
        uint64_t x = k & ((1ull << 40) - 1);
        if (k && x >= s->ncap && x < cap) {
            o[x] = UINT32_MAX;
            b[x / 64] |= 1ull << (x % 64);
        }
    }
    s->own = o;
    s->ncap = cap;
    return 1;
}

/* An id below ncap, by the bit set and the direct array: 1 new, 0 seen
 * before, -2 when only the key set can tell (the id in several strata). */
static inline int own_add(svy_idset *s, uint64_t u, uint32_t stratum)
{
    uint64_t *b = &s->seen[u / 64], bit = 1ull << (u % 64);
    if (!(*b & bit)) {
        /* a new id: own is written, not read (no wait on memory) */
        *b |= bit;
        s->own[u] = stratum + 1;
        return 1;
    }
    return s->own[u] == stratum + 1 ? 0 : -2;
}

/* An id below ncap seen before in another stratum: both go to the key set. */
static int own_shared(svy_idset *s, size_t x, uint32_t stratum)
{
    uint32_t *o = &s->own[x];
    if (*o != UINT32_MAX) {
        if (slots_add(s, pack(*o - 1, (double)x)) < 0)
            return -1;
        *o = UINT32_MAX;
    }
    return slots_add(s, pack(stratum, (double)x));
}

/* A respondent number of digits only (under 15 of them, so exact in a
 * double), read as an integer: what the general path reads it as, without
 * its double checks.  0 when the text is anything else. */
static int digits_id(const svy_value *v, uint64_t *out)
{
    if (v->type != SVY_VAL_STR || v->len - 1 >= 15)
        return 0;
    uint64_t u = 0;
    for (size_t i = 0; i < v->len; i++) {
        unsigned dg = (unsigned)(unsigned char)v->str[i] - '0';
        if (dg > 9)
            return 0;
        u = u * 10 + dg;
    }
    *out = u;
    return 1;
}

/* 1 new, 0 seen before, -1 out of memory. */
static int idset_add(svy_dsn *d, svy_idset *s, uint32_t stratum, const svy_value *v, int numeric)
{
    double x;
    int isnum = 0;
    uint64_t u;
    if (numeric && stratum < (1u << 23) && digits_id(v, &u) && u < s->ncap) {
        int r = own_add(s, u, stratum);
        if (r >= 0)
            return r;
    }
    if (v->type == SVY_VAL_NUM) {
        x = v->num;
        isnum = 1;
    } else if (numeric && (svy_number_fast(v->str, v->len, &x) || svy_parse_number(v->str, v->len, &x)) &&
               isfinite(x)) {
        isnum = 1;
    }
    if (isnum && x >= 0 && x < 1099511627776.0 && x == floor(x) && stratum < (1u << 23)) {
        if (x >= (double)s->ncap && x < 4294967295.0)
            own_grow(s, x + 1, d->rows);
        if (x < (double)s->ncap) {
            uint32_t *o = &s->own[(size_t)x];
            if (*o == 0) {
                *o = stratum + 1;
                s->seen[(size_t)x / 64] |= 1ull << ((size_t)x % 64);
                return 1;
            }
            if (*o == stratum + 1)
                return 0;
            return own_shared(s, (size_t)x, stratum);
        }
        return slots_add(s, pack(stratum, x));
    }
    int added;
    if (svy_dsn_code_intern(d, &s->other, v, numeric, stratum, &added) < 0)
        return -1;
    return added;
}

/* What the check found for a row of stratum h (row: its number). */
static void id_result(svy_dsn *d, svy_dstage *S, int r, uint32_t h, long long row)
{
    if (r) {
        S->hot[h].n++; /* into n at the end of the pass */
    } else if (!d->repeat) {
        /* Units of several rows: the rest of this pass only counts, and
         * the rows come again with the units kept. */
        d->repeat = 1;
        d->repeat_row = row;
        d->estimating = 0;
    }
}

/* The oldest queued id; -1 out of memory. */
static int dequeue(svy_dsn *d, svy_dstage *S)
{
    svy_idset *s = &S->ids;
    const svy_idq *q = &s->q[s->qhead];
    s->qhead = (s->qhead + 1) % SVY_IDQ;
    s->qn--;
    int r = own_add(s, q->u, q->stratum);
    if (r == -2 && (r = own_shared(s, q->u, q->stratum)) < 0)
        return -1;
    id_result(d, S, r, q->stratum, q->row);
    return 0;
}

int svy_dsn_ids_drain(svy_dsn *d)
{
    svy_dstage *S = &d->st[d->nstage - 1];
    while (S->ids.qn)
        if (dequeue(d, S) < 0)
            return -1;
    return 0;
}

int svy_dsn_id_check(svy_dsn *d, svy_dstage *S, uint32_t h, const svy_value *v, long long row)
{
    svy_idset *s = &S->ids;
    uint64_t u;
    if (d->defer_ids && S->id_numeric && h < (1u << 23) && digits_id(v, &u) && u < s->ncap) {
        if (s->qn == SVY_IDQ && dequeue(d, S) < 0)
            return -1;
#if defined(__GNUC__)
        __builtin_prefetch(&s->seen[u / 64], 1);
        __builtin_prefetch(&s->own[u], 1);
#endif
        s->q[(s->qhead + s->qn++) % SVY_IDQ] = (svy_idq){u, h, row};
        return 0;
    }
    /* in the order the rows came: the queue first */
    if (s->qn && svy_dsn_ids_drain(d) < 0)
        return -1;
    int r = idset_add(d, s, h, v, S->id_numeric);
    if (r < 0)
        return -1;
    id_result(d, S, r, h, row);
    return 0;
}

void svy_dsn_huge(void *p, size_t n)
{
#if defined(MADV_HUGEPAGE)
    const uintptr_t page = (uintptr_t)2 << 20;
    if (n < page)
        return;
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1), b = ((uintptr_t)p + n) & ~(page - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}
