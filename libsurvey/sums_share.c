/* Shares in sums files (see survey/sums.h): the levels are the codes a
 * codebook labels, fixed before any row so that every shard and every
 * query has the same columns; a value outside them is counted (other) and
 * is an error at reading.  Also each outcome's fields, shares or not. */
#include "svy_private.h"
#include "estimate_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/sums.h>

#include "sums_private.h"

svy_status svy_sums_share_codes(svy_est *e, const svy_codebook *cb, svy_err *err)
{
    for (size_t o = 0; o < e->nout; o++) {
        outcome *oc = &e->out[o];
        if (oc->stat != SVY_STAT_SHARE || oc->lev)
            continue;
        long ci = cb ? svy_codebook_find(cb, oc->column) : -1;
        const svy_cb_var *v = ci >= 0 ? svy_codebook_var(cb, (size_t)ci) : NULL;
        size_t n = v ? svy_cb_var_nlabels(v) : 0;
        SVY_FAIL_IF(n == 0, err, SVY_E_USAGE,
                    "--share %s from sums needs the codes of %s, fixed before the rows: give -c with a codebook that "
                    "labels them, or --rate %s=VALUE per level",
                    oc->column, oc->column, oc->column);
        SVY_FAIL_IF(!(oc->lev = svy_calloc(n, sizeof *oc->lev)), err, SVY_E_NOMEM, "out of memory");
        for (size_t k = 0; k < n; k++)
            oc->lev[k] = svy_cb_var_label_code(v, k);
        oc->nlev = n;
    }
    return SVY_OK;
}

/* A share's fields: n z other, then SUMS: b and per level k s; ROWS: per
 * level a group k v d e (count, shift of w, sums of w - v and its square). */
size_t svy_sums_nf(const svy_est *e, size_t o)
{
    const outcome *oc = &e->out[o];
    int rows = svy_sums_rows(e);
    if (oc->stat != SVY_STAT_SHARE)
        return svy_sums_nfields(oc->stat, rows);
    return rows ? 3 + 4 * oc->nlev : 4 + 2 * oc->nlev;
}

const char *svy_sums_fname(const svy_est *e, size_t o, size_t j, char *buf, size_t cap)
{
    const outcome *oc = &e->out[o];
    int rows = svy_sums_rows(e);
    if (oc->stat != SVY_STAT_SHARE)
        return svy_sums_field(oc->stat, rows, j);
    static const char *const head[] = {"n", "z", "other", "b"};
    size_t nh = rows ? 3 : 4, per = rows ? 4 : 2;
    if (j < nh)
        return head[j];
    static const char *const g_rows[] = {"k", "v", "d", "e"}, *const g_sums[] = {"k", "s"};
    snprintf(buf, cap, "%s%zu", (rows ? g_rows : g_sums)[(j - nh) % per], (j - nh) / per + 1);
    return buf;
}

int svy_sums_fpow(const svy_est *e, size_t o, size_t j)
{
    const outcome *oc = &e->out[o];
    int rows = svy_sums_rows(e);
    if (oc->stat != SVY_STAT_SHARE)
        return svy_sums_power(oc->stat, rows, j);
    if (!rows)
        return j == 3 || (j >= 4 && (j - 4) % 2 == 1);
    static const int g[] = {0, 1, 1, 2};
    return j < 3 ? 0 : g[(j - 3) % 4];
}

/* The level of a row's value: its index, or -1 (other). */
static long level_of(const outcome *oc, const svy_row *row)
{
    double x;
    if (!svy_value_number(&row->vals[oc->col], &x))
        return -1;
    for (size_t k = 0; k < oc->nlev; k++)
        if (oc->lev[k] == x)
            return (long)k;
    return -1;
}

void svy_sums_share_add(const svy_est *e, size_t o, double *f, const svy_row *row, double w)
{
    const outcome *oc = &e->out[o];
    long k = level_of(oc, row);
    f[0] += 1;
    f[1] += w == 0;
    if (k < 0) {
        f[2] += 1;
        return;
    }
    if (svy_sums_rows(e)) {
        svy_est_group_add(f + 3 + 4 * (size_t)k, w);
    } else {
        f[3] += w;
        f[4 + 2 * (size_t)k] += 1;
        f[5 + 2 * (size_t)k] += w;
    }
}

svy_status svy_sums_share_merge(svy_est *e, size_t o, size_t li, size_t r, const double *x, svy_err *err)
{
    outcome *oc = &e->out[o];
    layer *L = &e->lay[li];
    int rows = L->rows;
    double *c = L->pool + L->recs[r].block + (rows ? oc->off_rows : oc->off_sums);
    if (rows) {
        c[0] += x[0];
    } else {
        c[0] += x[3];
        c[1] += x[0];
    }
    for (size_t k = 0; k < oc->nlev; k++) {
        const double *g = x + (rows ? 3 + 4 * k : 4 + 2 * k);
        if (g[0] == 0)
            continue;
        char nb[SVY_DTOA_MAX];
        svy_value v = {.type = SVY_VAL_STR, .str = nb};
        v.len = svy_dtoa(oc->lev[k], nb);
        long lv = svy_est_level_get(e, o, &v, err);
        if (lv < 0)
            return SVY_E_NOMEM;
        double *lb = svy_est_level_block(e, L, r, lv, err);
        if (!lb)
            return SVY_E_NOMEM;
        if (rows)
            svy_sums_group_merge(lb, g);
        else
            lb[0] += g[1];
    }
    return SVY_OK;
}
