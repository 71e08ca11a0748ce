/* Rows in: each row's outcomes read, then summed into its domain's
 * records in every layer (queued when rows come in any order), and the
 * end of a pass (see survey/estimate.h; the layout of records is in
 * estimate_private.h). */
#include "svy_private.h"
#include "estimate_private.h"
#include "replicate_private.h"
#include "calib_private.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

/* ------------------------------------------------- the domain of a row */

/* Looked up for every row, with caches of short values and of domains: kept
 * in this file with the code that sums rows (one call less per row, about
 * 1% of svy-tab's instructions).  New domains are made in estimate_domain.c. */

/* A text of one to three digits: its place among such texts ("5" 5, "05"
 * 15, "15" 25, "105" 215: each text a place of its own), below BYDIR_N;
 * else -1. */
static inline long small_code(const svy_value *v)
{
    if (v->type != SVY_VAL_STR)
        return -1;
    const unsigned char *s = (const unsigned char *)v->str;
    unsigned a, b, c;
    switch (v->len) {
    case 1:
        a = s[0] - '0';
        return a <= 9 ? (long)a : -1;
    case 2:
        a = s[0] - '0', b = s[1] - '0';
        return a <= 9 && b <= 9 ? (long)(10 + 10 * a + b) : -1;
    case 3:
        a = s[0] - '0', b = s[1] - '0', c = s[2] - '0';
        return a <= 9 && b <= 9 && c <= 9 ? (long)(110 + 100 * a + 10 * b + c) : -1;
    }
    return -1;
}

/* The id of by variable k's value v (c: its small_code, or -1), -1 when
 * memory ran out.  Numbers are the same value whatever their spelling
 * ("1", "1.0") in a column that is not typed text.  Codes of one to three
 * digits are found by text in bydir; others in the short-text cache, which
 * is direct-mapped (codes whose entries collide would miss in turn when
 * rows come in any order), then the table. */
static long byval_slow(svy_est *e, size_t k, const svy_value *v, long c)
{
    uint64_t key = 0;
    svy_textcache_ent *ent = svy_textcache_slot(&e->byval_cache[k], v, &key);
    if (ent && ent->key == key)
        return ent->id;
    char nb[SVY_DTOA_MAX];
    size_t len;
    const char *s = svy_dsn_key(v, e->by_numeric[k], nb, &len);
    long id = svy_strtab_intern(&e->byval_tab[k], s, len, NULL);
    if (id >= 0 && ent)
        svy_textcache_put(ent, key, (uint32_t)id);
    if (id >= 0 && id < UINT16_MAX && c >= 0)
        e->bydir[k][c] = (uint16_t)(id + 1);
    return id;
}

static inline long byval_id(svy_est *e, size_t k, const svy_value *v)
{
    long c = k < BYDIR_K ? small_code(v) : -1;
    if (c >= 0 && e->bydir[k][c])
        return e->bydir[k][c] - 1;
    return byval_slow(e, k, v, c);
}

/* By variable k's id outgrew its dbits[k] bits in ddir: more bits, and ddir
 * starts empty; 0 when the ids would need more than DDIR_BITS in all. */
static int ddir_widen(svy_est *e, size_t k, uint32_t id)
{
    unsigned b = e->dbits[k];
    while (b < 32 && id >> b)
        b++;
    if (e->dtot - e->dbits[k] + b > DDIR_BITS)
        return 0;
    e->dtot = e->dtot - e->dbits[k] + b;
    e->dbits[k] = (uint8_t)b;
    memset(e->ddir, 0, sizeof e->ddir);
    return 1;
}

/* The domain of by value ids dom_key[0..nby), found or made; its entry in
 * ddir (dd), or else in dom_cache when the ids pack in 64 bits. */
static long domain_of_ids(svy_est *e, const svy_row *row, uint32_t *dd, svy_err *err)
{
    uint64_t packed = 0;
    int packable = e->nby <= 4;
    for (size_t k = 0; k < e->nby; k++) {
        packable &= e->dom_key[k] < 65536;
        packed = packed << 16 | e->dom_key[k];
    }
    struct domc *dc = NULL;
    if (packable && !dd) {
        dc = &e->dom_cache[(packed * 0x9e3779b97f4a7c15ull) >> (64 - DOMC_BITS)];
        if (dc->dom1 && dc->key == packed)
            return (long)dc->dom1 - 1;
    }
    int added;
    long id = svy_strtab_intern(&e->dom_tab, (const char *)e->dom_key, e->nby * sizeof *e->dom_key, &added);
    if (id < 0)
        return nomem(err), -2;
    if (added && svy_est_new_domain(e, row, 0, err) < 0)
        return -2;
    if (dc && id < UINT32_MAX) {
        dc->key = packed;
        dc->dom1 = (uint32_t)id + 1;
    }
    if (dd && id < UINT32_MAX)
        *dd = (uint32_t)id + 1;
    return id;
}

/* The domain of a row, -1 when a by value is missing (the row stays in the
 * design but in no domain), -2 on failure, -3 when only --test's variable is
 * (dom_key holds the others: R's svychisq counts the row in N and nu). */
static long row_domain(svy_est *e, const svy_row *row, svy_err *err)
{
    if (e->nby == 0) {
        int added;
        long id = svy_strtab_intern(&e->dom_tab, "", 0, &added);
        if (id < 0)
            return nomem(err), -2;
        if (added && svy_est_new_domain(e, row, 0, err) < 0)
            return -2;
        return id;
    }
    const size_t nby = e->nby;
    int direct = nby <= BYDIR_K; /* the domain by its ids in ddir */
    size_t idx = 0;
    int test_missing = 0;
    for (size_t k = 0; k < nby; k++) {
        const svy_value *v = &row->vals[e->by_idx[k]];
        if (svy_value_is_missing(v)) {
            if (!e->test_on || k != e->test_by)
                return -1;
            test_missing = 1;
            e->dom_key[k] = UINT32_MAX;
            continue;
        }
        long id = byval_id(e, k, v);
        if (id < 0)
            return nomem(err), -2;
        e->dom_key[k] = (uint32_t)id;
        if (direct) { /* nby <= BYDIR_K */
            if ((uint32_t)id >> e->dbits[k])
                direct = ddir_widen(e, k, (uint32_t)id);
            idx = idx << e->dbits[k] | (size_t)id;
        }
    }
    if (test_missing)
        return -3;
    uint32_t *dd = direct ? &e->ddir[idx] : NULL;
    if (dd && *dd)
        return (long)*dd - 1;
    return domain_of_ids(e, row, dd, err);
}

static long overall_domain(svy_est *e, const svy_row *row, svy_err *err)
{
    if (e->overall_dom >= 0)
        return e->overall_dom;
    int added;
    long id = svy_strtab_intern(&e->dom_tab, "\x1e", 1, &added); /* no by key is one byte 0x1e */
    if (id < 0)
        return nomem(err), -2;
    if (added && svy_est_new_domain(e, row, 1, err) < 0)
        return -2;
    e->overall_dom = id;
    return id;
}

/* ------------------------------------------------------------- per row */

static const char *value_text(const svy_value *v, char *buf)
{
    if (v->type == SVY_VAL_STR)
        return v->str;
    svy_dtoa(v->num, buf);
    return buf;
}

/* Most survey cells are one digit (0/1 outcomes, codes): read those without
 * the general parser. */
static inline int number_of(const svy_value *v, double *out)
{
    if (v->type == SVY_VAL_STR && v->missing == SVY_MISS_NONE) {
        if (v->len == 1 && v->str[0] >= '0' && v->str[0] <= '9') {
            *out = v->str[0] - '0';
            return 1;
        }
        if (svy_number_fast(v->str, v->len, out))
            return 1;
    }
    return svy_value_number(v, out);
}

/* The value of an outcome in a row: 1 valid (y set), 0 missing, -1 error. */
static int outcome_value(svy_est *e, size_t o, const svy_row *row, double *y, svy_err *err)
{
    outcome *oc = &e->out[o];
    const svy_value *v = &row->vals[oc->col];
    if (svy_value_is_missing(v))
        return 0;
    char nb[SVY_DTOA_MAX];
    switch (oc->stat) {
    case SVY_STAT_RATE:
        if (oc->quant) { /* its value now, the indicator per domain (svy_est_quant_row) */
            if (!number_of(v, y) || !isfinite(*y)) {
                svy_fail_row(e->schema, row, oc->col, err, "column %s holds '%s', which is not a number (--quantile)",
                             oc->column, value_text(v, nb));
                return -1;
            }
            oc->x = *y;
            *y = 0;
            return 1;
        }
        if (oc->value) {
            double num;
            if (oc->match_num && number_of(v, &num))
                *y = num == oc->match;
            else {
                size_t len;
                const char *s = v->type == SVY_VAL_STR ? v->str : nb;
                len = v->type == SVY_VAL_STR ? v->len : svy_dtoa(v->num, nb);
                *y = len == strlen(oc->value) && memcmp(s, oc->value, len) == 0;
            }
            return 1;
        }
        if (!number_of(v, y) || (*y != 0 && *y != 1)) {
            svy_fail_row(e->schema, row, oc->col, err, "column %s holds '%s', but a rate needs 0 or 1 (use --rate COL=VALUE for a code)",
                     oc->column, value_text(v, nb));
            return -1;
        }
        return 1;
    case SVY_STAT_MEAN:
    case SVY_STAT_TOTAL:
        if (!number_of(v, y) || !isfinite(*y)) {
            svy_fail_row(e->schema, row, oc->col, err, "column %s holds '%s', which is not a number", oc->column, value_text(v, nb));
            return -1;
        }
        return 1;
    case SVY_STAT_SHARE:
        *y = 1;
        return 1;
    case SVY_STAT_RATIO:
        return svy_est_ratio_value(e, oc, row, y, err);
    case SVY_STAT_QUANTILE: /* never: its outcome is a rate (above) */
        break;
    }
    return 0;
}


/* A row in a record of a table of rates only. */
static inline void add_rates(double *blk, int rows, size_t nout, double w, const double *ys, const int *valid)
{
    if (!rows) {
        /* the common table: rates only, three sums each, one after the other */
        for (size_t o = 0; o < nout; o++, blk += 3) {
            if (!valid[o])
                continue;
            double a = w * ys[o];
            blk[0] += a;
            blk[1] += w - a;
            blk[2] += 1;
        }
        return;
    }
    /* rows as units, rates only: one group of eight doubles each */
    for (size_t o = 0; o < nout; o++, blk += 8)
        if (valid[o])
            svy_est_group_add(blk + (ys[o] != 0 ? 0 : 4), w);
}

/* One row's outcomes: their values (y), shifted values (means and totals:
 * y - c), which are valid (not missing), and share levels. */
typedef struct rowvals {
    double *ys, *ysh;
    int *valid;
    long *levels;
    uint32_t yv; /* while queueing: the outcomes as bits (qent) */
} rowvals;

/* ys and valid of the outcomes that a queued row read as bits only
 * (e->packed of them: it is summed at once after all, or weighs 0). */
static void rowvals_unpack(svy_est *e, rowvals *v)
{
    for (size_t o = 0; o < e->packed; o++) {
        v->ys[o] = v->yv >> o & 1;
        v->valid[o] = 1;
    }
    e->packed = 0;
}

/* One outcome of a row in a SUMS record (units hold several rows), shares
 * apart; ysh: its shifted value (means and totals). */
static inline void sums_cell(double *c, svy_stat stat, double w, double y, const double *ysh)
{
    if (stat == SVY_STAT_RATE) {
        double a = w * y;
        c[0] += a;
        c[1] += w - a;
        c[2] += 1;
    } else if (stat == SVY_STAT_MEAN) {
        double yp = *ysh, a = w * yp;
        c[0] += a;
        c[1] += w;
        c[2] += 1;
        c[3] += a * yp;
    } else if (stat == SVY_STAT_TOTAL) {
        double yp = *ysh, a = w * yp;
        c[0] += w * y;
        c[1] += w;
        c[2] += 1;
        c[3] += a;
        c[4] += a * yp;
    } else if (stat == SVY_STAT_RATIO) {
        svy_est_ratio_sums_cell(c, w, y, *ysh);
    }
}

/* The same in a ROWS record (rows are the units). */
static inline void rows_cell(double *c, svy_stat stat, double w, double y, const double *ysh)
{
    if (stat == SVY_STAT_RATE) {
        svy_est_group_add(c + (y != 0 ? 0 : 4), w);
    } else if (stat == SVY_STAT_MEAN) {
        double yp = *ysh, a = w * yp;
        svy_est_comoment_add(c, a, w);
        c[8] += a * yp;
    } else if (stat == SVY_STAT_TOTAL) {
        double yp = *ysh, a = w * yp;
        svy_est_comoment_add(c, w * y, w);
        c[8] += a;
        c[9] += a * yp;
    } else if (stat == SVY_STAT_RATIO) {
        svy_est_ratio_rows_cell(c, w, y, *ysh);
    }
}

/* A row's outcomes in record r of a layer (tables of rates only take the
 * short path, add_rates). */
static svy_status add_outcomes(svy_est *e, layer *L, size_t r, double w, const rowvals *v, svy_err *err)
{
    double *blk = L->pool + L->recs[r].block;
    const size_t nout = e->nout;
    const outcome *out = e->out;
    const int rows = L->rows;
    for (size_t o = 0; o < nout; o++) {
        if (!v->valid[o])
            continue;
        double *c = blk + (rows ? out[o].off_rows : out[o].off_sums), y = v->ys[o];
        if (out[o].stat != SVY_STAT_SHARE) {
            if (rows)
                rows_cell(c, out[o].stat, w, y, &v->ysh[o]);
            else
                sums_cell(c, out[o].stat, w, y, &v->ysh[o]);
            continue;
        }
        if (rows) {
            c[0] += 1;
        } else {
            c[0] += w;
            c[1] += 1;
        }
        double *lb = svy_est_level_block(e, L, r, v->levels[o], err);
        if (!lb)
            return SVY_E_NOMEM;
        if (rows)
            svy_est_group_add(lb, w);
        else
            lb[0] += w;
        blk = L->pool + L->recs[r].block;
    }
    return SVY_OK;
}

/* Add one row to one record of a layer. */
static inline svy_status add_to_record(svy_est *e, layer *L, size_t r, double w, const rowvals *v, svy_err *err)
{
    rec *R = &L->recs[r];
    R->rows++;
    R->nzrows += w != 0;
    if (e->all_rates) {
        add_rates(L->pool + R->block, L->rows, e->nout, w, v->ys, v->valid);
        return SVY_OK;
    }
    return add_outcomes(e, L, r, w, v, err);
}

/* --calibrated-to: the row in its domain's records by joint cell (weight w
 * to post-stratify, 1 to rake) and, where rows are units, by (place, cell)
 * with w^2 (calib_private.h). */
static svy_status cal_add(svy_est *e, uint32_t dom, double w, const rowvals *v, svy_err *err)
{
    svy_cal *c = e->cal;
    layer *Ls[3] = {&c->lw, &c->l1, &c->l2};
    const double ws[3] = {w, 1, w * w};
    const uint32_t keys[3] = {c->cur_cell, c->cur_cell, c->cur_pc};
    for (int i = 0; i < 3; i++) {
        if ((i == 0 && c->rake) || (i == 1 && !c->rake) || (i == 2 && !c->rows_units && !c->stage2))
            continue;
        long r = svy_est_rec_new(e, Ls[i], LAYERS_MAX, dom, keys[i], err);
        if (r < 0)
            return SVY_E_NOMEM;
        svy_status st = add_to_record(e, Ls[i], (size_t)r, ws[i], v, err);
        if (st)
            return st;
    }
    return SVY_OK;
}

/* A queued row of domain dom: counted in the queue (a small array that
 * stays in the cache), into the domain at the flush; 0 out of memory. */
static inline int queue_count(rqueue *q, size_t dom)
{
    if (dom >= q->ndrows) {
        size_t old = q->capdrows;
        if (!svy_grow((void **)&q->drows, &q->capdrows, dom + 1, sizeof *q->drows))
            return 0;
        memset(q->drows + old, 0, (q->capdrows - old) * sizeof *q->drows);
        q->ndrows = dom + 1;
    }
    q->drows[dom]++;
    return 1;
}

/* Add one row to one domain: its shifts, then a record in every layer. */
static svy_status add_to_domain(svy_est *e, long dom, const svy_dpath *p, rowvals *v, svy_err *err)
{
    dominfo *D = &e->doms[dom];
    if (!e->queueing)
        D->rows++;
    else if (!queue_count(e->q, (size_t)dom))
        return nomem(err);
    double *dp = e->dpool + D->block;
    double w = p->w;
    const double *ys = v->ys;
    const int *valid = v->valid;
    double *ysh = v->ysh;
    if (e->any_shift || w == 0) {
        if (e->packed)
            rowvals_unpack(e, v);
        for (size_t o = 0; o < e->nout; o++) {
            if (!valid[o])
                continue;
            double *c = dp + DB * o;
            svy_stat st = e->out[o].stat;
            if (st == SVY_STAT_MEAN || st == SVY_STAT_TOTAL) {
                if (!c[0]) {
                    c[0] = 1;
                    c[1] = ys[o];
                }
                ysh[o] = ys[o] - c[1];
            } else if (st == SVY_STAT_RATIO) {
                ysh[o] = e->out[o].x; /* the denominator, where the cells look for it */
            }
            if (w == 0)
                c[2] += 1;
        }
    }
    for (size_t li = 0; li < e->nlay; li++) {
        layer *L = &e->lay[li];
        uint32_t key = L->by_stratum ? p->stratum[L->stage] : p->unit[L->stage];
        if (e->batch && li == 0) {
            /* rows grouped by unit stay on its few records: no need to queue them */
            e->changes += key != e->last_rec;
            e->last_rec = key;
        }
        if (e->queueing) {
            int put = svy_est_queue_put(e->q, li, key, (uint32_t)dom, w, v->yv);
            svy_status st;
            if (put < 0) { /* the queue is full */
                if ((st = svy_est_flush_queue(e, err)) != SVY_OK)
                    return st;
                put = svy_est_queue_put(e->q, li, key, (uint32_t)dom, w, v->yv);
            }
            if (put > 0)
                continue;
            /* a row the queue cannot take: the rows before it first, and
             * no queue until the next choice (choose_queueing) */
            if ((st = svy_est_flush_queue(e, err)) != SVY_OK)
                return st;
            e->queueing = 0;
            if (e->packed)
                rowvals_unpack(e, v);
        }
        /* rows grouped by unit: the domain's direct index is in the cache */
        long r = svy_est_rec_get(e, L, li, (uint32_t)dom, key, err);
        if (r < 0)
            return SVY_E_NOMEM;
        svy_status st = add_to_record(e, L, (size_t)r, w, v, err);
        if (st)
            return st;
    }
    return e->cal ? cal_add(e, (uint32_t)dom, w, v, err) : SVY_OK; /* never queued (batch 0) */
}

/* Every 1024 rows: queue while most rows change unit (rows in any order),
 * sum at once while they do not (rows grouped by unit, whose few records
 * stay in the cache). */
static svy_status choose_queueing(svy_est *e, svy_err *err)
{
    if (++e->window < 1024)
        return SVY_OK;
    int q = e->changes > 512 && svy_est_queue_ready(e);
    svy_status st = !q && e->queueing ? svy_est_flush_queue(e, err) : SVY_OK;
    e->queueing = q;
    if (!q)
        e->packed = 0; /* rows summed at once read every outcome into ys */
    e->window = e->changes = 0;
    return st;
}

/* Read a row's outcomes into v (values, validity, share levels; with bits,
 * the outcomes as bits too, for the queue, and the rates of 0/1 cells of
 * one character as bits only (e->packed of them), as the queue takes them,
 * unless replicate weights read them). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline svy_status read_outcomes(svy_est *e, const svy_row *row, rowvals *v, int bits, svy_err *err)
{
    /* Loop invariants in locals: the stores to ys[] and levels[] could
     * alias the estimator's fields, and the compiler would reload them. */
    const size_t nout = e->nout;
    const outcome *out = e->out;
    const svy_value *vals = row->vals;
    double *ys = v->ys;
    int *valid = v->valid;
    long *levels = v->levels;
    uint32_t yv = 0;
    size_t o0 = 0;
    if (e->all_plain) {
        /* every cell 0 or 1, one character: no levels (no share) to set */
        for (; o0 < nout; o0++) {
            const svy_value *c = &vals[out[o0].col];
            if (c->len != 1 || c->type != SVY_VAL_STR || c->missing != SVY_MISS_NONE)
                break;
            unsigned dg = (unsigned)(unsigned char)c->str[0] - '0';
            if (dg > 1)
                break;
            if (!bits || e->rep) {
                ys[o0] = dg;
                valid[o0] = 1;
            }
            if (bits)
                yv |= dg << o0;
        }
        if (bits) {
            yv |= (((uint32_t)1 << o0) - 1) << 16; /* those o0 are valid */
            e->packed = e->rep ? 0 : o0;
        }
    }
    for (size_t o = o0; o < nout; o++) {
        const svy_value *c = &vals[out[o].col];
        levels[o] = -1;
        /* the common case, a 0/1 rate cell of one character */
        if (out[o].plain && c->len == 1 && c->type == SVY_VAL_STR && c->missing == SVY_MISS_NONE) {
            unsigned dg = (unsigned)(unsigned char)c->str[0] - '0';
            if (dg <= 1) {
                ys[o] = dg;
                valid[o] = 1;
                if (bits)
                    yv |= dg << o | 1u << (o + 16);
                continue;
            }
        }
        int r = outcome_value(e, o, row, &ys[o], err);
        if (r < 0)
            return SVY_E_DATA;
        valid[o] = r;
        if (bits && r)
            yv |= (uint32_t)(ys[o] != 0) << o | 1u << (o + 16);
        if (r && out[o].stat == SVY_STAT_SHARE) {
            levels[o] = svy_est_level_get(e, o, &row->vals[out[o].col], err);
            if (levels[o] < 0)
                return SVY_E_NOMEM;
        }
    }
    v->yv = yv;
    return SVY_OK;
}

/* Sum a row whose outcomes are read into its domain (and the overall one),
 * or queue it. */
static svy_status sum_row(svy_est *e, const svy_row *row, const svy_dpath *p, rowvals *v, svy_err *err)
{
    svy_status rc = SVY_OK;
    long dom = row_domain(e, row, err);
    if (dom == -3) {
        rc = svy_est_test_row(e, p, err);
        dom = -1;
    }
    if (dom == -2)
        rc = SVY_E_NOMEM;
    else if (dom >= 0 && (!e->qphase || (rc = svy_est_quant_row(e, (uint32_t)dom, p, v->ys, v->valid, err)) == SVY_OK))
        rc = add_to_domain(e, dom, p, v, err);
    if (rc == SVY_OK && e->row_extra) { /* one test per row for both (set at bind) */
        if (e->d.overall && e->nby > 0) {
            long od = overall_domain(e, row, err);
            if (od >= 0 && e->qphase)
                rc = svy_est_quant_row(e, (uint32_t)od, p, v->ys, v->valid, err);
            if (rc == SVY_OK)
                rc = od < 0 ? SVY_E_NOMEM : add_to_domain(e, od, p, v, err);
        }
        if (rc == SVY_OK && e->rep)
            rc = svy_rep_row(e, row, dom, v->ys, v->valid, v->levels, err);
    }
    if (rc == SVY_OK && e->batch)
        rc = choose_queueing(e, err);
    return rc;
}

static void rowvals_free(rowvals *v)
{
    free(v->ys);
    free(v->ysh);
    free(v->valid);
    free(v->levels);
}

svy_status svy_est_push(svy_est *e, const svy_row *row, svy_err *err)
{
    SVY_FAIL_IF(!e->bound || e->finished || e->ended, err, SVY_E_USAGE,
                "svy_est_push before bind, after the last pass or after finish");
    svy_dpath p;
    /* rows in any order: the last stage's ids are checked a few rows late
     * (a repeated id is news only at the end of the pass here) */
    e->dsn.defer_ids = e->queueing;
    svy_status rc = svy_dsn_row(&e->dsn, row, &p, err);
    if (rc || !e->dsn.estimating)
        return rc ? svy_est_blame(e, rc, err) : rc; /* no call per row */
    e->rows++;
    if (e->cal && (rc = svy_cal_row(e, row, &p, err)) != SVY_OK) /* every row of the design */
        return svy_est_blame(e, rc, err);
    if (e->subpop) { /* out of the subpopulation: in the design, in no domain */
        int in;
        if ((rc = svy_est_subpop_in(e, row, &in, err)) != SVY_OK || !in)
            return rc ? svy_est_blame(e, rc, err) : rc;
    }

    enum { SMALL = 32 };
    double ys_s[SMALL], ysh_s[SMALL];
    int valid_s[SMALL];
    long lv_s[SMALL];
    rowvals v = {ys_s, ysh_s, valid_s, lv_s, 0};
    if (e->nout > SMALL) {
        v = (rowvals){malloc(e->nout * sizeof *v.ys), malloc(e->nout * sizeof *v.ysh),
                      malloc(e->nout * sizeof *v.valid), malloc(e->nout * sizeof *v.levels), 0};
        if (!v.ys || !v.ysh || !v.valid || !v.levels) {
            rowvals_free(&v);
            return nomem(err);
        }
    }
    /* two copies: the sums at once (rows grouped by unit) need no bits */
    rc = e->queueing ? read_outcomes(e, row, &v, 1, err) : read_outcomes(e, row, &v, 0, err);
    if (rc == SVY_OK)
        rc = sum_row(e, row, &p, &v, err);
    if (v.levels != lv_s)
        rowvals_free(&v);
    return rc ? svy_est_blame(e, rc, err) : rc;
}

/* Forget every estimate (the rows come again). */
static void reset_estimates(svy_est *e)
{
    svy_est_layers_free(e);
    if (e->doms)
        for (size_t i = 0; i < e->cap_doms; i++)
            for (size_t l = 0; l < LAYERS_MAX; l++)
                free(e->doms[i].dix[l].idx);
    free(e->doms);
    e->doms = NULL;
    e->cap_doms = 0;
    e->dense_bytes = 0;
    svy_strtab_free(&e->dom_tab);
    svy_strtab_free(&e->domval_tab);
    memset(e->dom_cache, 0, sizeof e->dom_cache);
    memset(e->ddir, 0, sizeof e->ddir);
    e->ndpool = 0;
    e->overall_dom = -1;
    e->rows = 0;
    e->subpop_rows = 0;
    svy_rep_reset(e->rep);
    svy_est_plan_layers(e);
}

static svy_status end_pass(svy_est *e, int *again, svy_err *err)
{
    *again = 0;
    SVY_FAIL_IF(!e->bound || e->finished || e->ended, err, SVY_E_USAGE,
                "svy_est_end_pass before bind, after the last pass or after finish");
    svy_status fst = svy_est_flush_queue(e, err);
    svy_est_queue_rows(e);
    svy_est_queue_free(e);
    e->queueing = 0;
    e->packed = 0;
    if (fst)
        return fst;
    int was_estimating = e->dsn.estimating;
    svy_status st = svy_dsn_end_pass(&e->dsn, again, err);
    if (!st && e->qphase)
        st = svy_est_quant_end_pass(e, again, err);
    if (st)
        return st;
    if (*again) {
        if (was_estimating || e->dsn.repeat) {
            reset_estimates(e);
            if (e->cal && (st = svy_cal_reset(e, err)) != SVY_OK)
                return st;
        }
        return SVY_OK;
    }
    e->ended = 1;
    return SVY_OK;
}

svy_status svy_est_end_pass(svy_est *e, int *again, svy_err *err)
{
    return svy_est_blame(e, end_pass(e, again, err), err);
}

/* ------------------------------------------- for the sums (sums_*.c) */

long svy_est_row_domain(svy_est *e, const svy_row *row, svy_err *err)
{
    return row_domain(e, row, err);
}

long svy_est_overall_dom(svy_est *e, const svy_row *row, svy_err *err)
{
    return overall_domain(e, row, err);
}

svy_status svy_est_row_outcomes(svy_est *e, const svy_row *row, double *ys, int *valid, svy_err *err)
{
    for (size_t o = 0; o < e->nout; o++) {
        int r = outcome_value(e, o, row, &ys[o], err);
        if (r < 0)
            return SVY_E_DATA;
        valid[o] = r;
    }
    return SVY_OK;
}
