/* Shares in sums files (see survey/sums.h).  Of a column a codebook
 * labels, the levels are its codes, fixed before any row so that every
 * shard and every query has the same columns; a value outside them is
 * counted (other) and is an error at reading.  Of any other column (an
 * "open" share) the lines are split by the value too, which comes back in
 * a column _K_level: each line holds one level.  Also each outcome's
 * fields, shares or not. */
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
        if (n == 0)
            continue; /* open: the levels come with the sums */
        SVY_FAIL_IF(!(oc->lev = svy_calloc(n, sizeof *oc->lev)), err, SVY_E_NOMEM, "out of memory");
        for (size_t k = 0; k < n; k++)
            oc->lev[k] = svy_cb_var_label_code(v, k);
        oc->nlev = n;
    }
    return SVY_OK;
}

int svy_sums_open(const outcome *oc)
{
    return oc->stat == SVY_STAT_SHARE && oc->nlev == 0;
}

/* A share's fields: n z other, then SUMS: b and per level k s; ROWS: per
 * level a group k v d e (count, shift of w, sums of w - v and its square).
 * Open shares, the line's one level: SUMS n z b; ROWS n z k v d e. */
static const char *const f_open[2][6] = {{"n", "z", "b"}, {"n", "z", "k", "v", "d", "e"}};
static const int p_open[2][6] = {{0, 0, 1}, {0, 0, 0, 1, 1, 2}};

size_t svy_sums_nf(const svy_est *e, size_t o)
{
    const outcome *oc = &e->out[o];
    int rows = svy_sums_rows(e);
    if (oc->stat != SVY_STAT_SHARE)
        return svy_sums_nfields(oc->stat, rows);
    if (svy_sums_open(oc))
        return rows ? 6 : 3;
    return rows ? 3 + 4 * oc->nlev : 4 + 2 * oc->nlev;
}

const char *svy_sums_fname(const svy_est *e, size_t o, size_t j, char *buf, size_t cap)
{
    const outcome *oc = &e->out[o];
    int rows = svy_sums_rows(e);
    if (oc->stat != SVY_STAT_SHARE)
        return svy_sums_field(oc->stat, rows, j);
    if (svy_sums_open(oc))
        return f_open[rows][j];
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
    if (svy_sums_open(oc))
        return p_open[rows][j];
    if (!rows)
        return j == 3 || (j >= 4 && (j - 4) % 2 == 1);
    static const int g[] = {0, 1, 1, 2};
    return j < 3 ? 0 : g[(j - 3) % 4];
}

/* The level of a row's value: its index, or -1 (other). */
long svy_sums_share_code(const outcome *oc, const svy_row *row)
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
    f[0] += 1;
    f[1] += w == 0;
    if (svy_sums_open(oc)) { /* the line's one level */
        if (svy_sums_rows(e))
            svy_est_group_add(f + 2, w);
        else
            f[2] += w;
        return;
    }
    long k = svy_sums_share_code(oc, row);
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

/* An open share's line (its one level lv) into record r. */
static svy_status open_merge(svy_est *e, size_t o, layer *L, size_t r, const double *x, long lv, svy_err *err)
{
    const outcome *oc = &e->out[o];
    double *c = L->pool + L->recs[r].block + (L->rows ? oc->off_rows : oc->off_sums);
    if (x[0] == 0)
        return SVY_OK;
    if (L->rows) {
        c[0] += x[0];
    } else {
        c[0] += x[2];
        c[1] += x[0];
    }
    double *lb = svy_est_level_block(e, L, r, lv, err);
    if (!lb)
        return SVY_E_NOMEM;
    if (L->rows)
        svy_sums_group_merge(lb, x + 2);
    else
        lb[0] += x[2];
    return SVY_OK;
}

svy_status svy_sums_share_merge(svy_est *e, size_t o, size_t li, size_t r, const double *x, long lv, svy_err *err)
{
    outcome *oc = &e->out[o];
    layer *L = &e->lay[li];
    if (svy_sums_open(oc))
        return open_merge(e, o, L, r, x, lv, err);
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
        long id = svy_est_level_get(e, o, &v, err);
        if (id < 0)
            return SVY_E_NOMEM;
        double *lb = svy_est_level_block(e, L, r, id, err);
        if (!lb)
            return SVY_E_NOMEM;
        if (rows)
            svy_sums_group_merge(lb, g);
        else
            lb[0] += g[1];
    }
    return SVY_OK;
}
