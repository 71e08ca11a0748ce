/* Trimming every replicate as the full sample was trimmed.
 *
 * Trimming clips single rows, so a replicate's trimmed weight is no longer
 * w0 * m_r(PSU) * F_r(cell).  But within a cell a replicate is a weighting
 * of its own: starting weights u = w0 * m_r(PSU), every row of the cell
 * multiplied by F_r(cell).  So each replicate gets cells of its own (the
 * full sample's cells, with the replicate's rows, sums and distinct u) and
 * the full sample's trimming runs on them unchanged (weight_trim.c): the
 * same bounds (relative bounds taken from the replicate's own mean weight),
 * the same mode, then raking again in rounds, with the same margins.  Rows
 * the replicate gives weight 0 (a deleted PSU, a PSU the bootstrap did not
 * draw) are not its rows: they stay 0 and count in no mean.
 *
 * What trimming needs of the rows comes from a spool of the respondents'
 * (cell, PSU, w0), 16 bytes a row in a temporary file: one read per
 * replicate to fill its cells (counts, sums, extremes, up to WCELL_KEEP
 * distinct u; past that the cell is "spooled" and trimming reads the file
 * again where its edge lists do not suffice).  Kept afterwards per trimmed
 * replicate: its cells' factors and trimming groups (no row data); a
 * replicate that no weight of falls outside the bounds keeps nothing. */
#include "weight_rep_private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <survey/outfile.h>

#define RSPOOL_BLOCK 4096

struct wrep_trim {
    FILE *f;
    uint32_t *cell, *psu; /* the block being filled or read */
    double *w0;
    size_t fill;
    long long rows;
    uint32_t *ocell; /* a block handed to trimming: cells and u > 0 */
    double *ou;
    size_t cur;     /* the replicate being trimmed */
    const svy_wrep *r;
    wcell **cells; /* per replicate: trimmed cells, or NULL */
    size_t ncells;
    svy_wrep_trim_report rep;
};

static svy_status rspool_io(svy_err *err, const char *what)
{
    int e = errno;
    if (e)
        return svy_err_sys(err, e, NULL, 0, "cannot %s the replicates' spool", what);
    return svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot %s the replicates' spool: short transfer", what);
}

static svy_status rspool_flush(struct wrep_trim *t, svy_err *err)
{
    if (!t->fill)
        return SVY_OK;
    for (size_t i = t->fill; i < RSPOOL_BLOCK; i++) {
        t->cell[i] = t->psu[i] = 0;
        t->w0[i] = 0;
    }
    errno = 0;
    if (fwrite(t->cell, sizeof *t->cell, RSPOOL_BLOCK, t->f) != RSPOOL_BLOCK ||
        fwrite(t->psu, sizeof *t->psu, RSPOOL_BLOCK, t->f) != RSPOOL_BLOCK ||
        fwrite(t->w0, sizeof *t->w0, RSPOOL_BLOCK, t->f) != RSPOOL_BLOCK)
        return rspool_io(err, "write");
    t->fill = 0;
    return SVY_OK;
}

svy_status svy_wrep_trim_row(svy_wrep *r, uint32_t cell, uint32_t psu, double w0, svy_err *err)
{
    struct wrep_trim *t = r->trim;
    if (!t) {
        if (!(t = r->trim = svy_calloc(1, sizeof *t)) || !(t->cell = svy_calloc(RSPOOL_BLOCK, sizeof *t->cell)) ||
            !(t->psu = svy_calloc(RSPOOL_BLOCK, sizeof *t->psu)) ||
            !(t->w0 = svy_calloc(RSPOOL_BLOCK, sizeof *t->w0)) ||
            !(t->ocell = svy_calloc(RSPOOL_BLOCK, sizeof *t->ocell)) ||
            !(t->ou = svy_calloc(RSPOOL_BLOCK, sizeof *t->ou)))
            return svy_weight_nomem(err);
        svy_status st = svy_tmpfile(&t->f, err);
        if (st)
            return st;
    }
    t->cell[t->fill] = cell;
    t->psu[t->fill] = psu;
    t->w0[t->fill] = w0;
    t->rows++;
    if (++t->fill == RSPOOL_BLOCK)
        return rspool_flush(t, err);
    return SVY_OK;
}

/* Replicate cur's rows of every block: u = w0 * m > 0, to fn. */
static svy_status rspool_scan(void *src, svy_wcell_block_fn fn, void *ctx, svy_err *err)
{
    struct wrep_trim *t = src;
    errno = 0;
    if (fseek(t->f, 0, SEEK_SET) != 0)
        return rspool_io(err, "read");
    for (long long done = 0; done < t->rows; done += RSPOOL_BLOCK) {
        errno = 0;
        if (fread(t->cell, sizeof *t->cell, RSPOOL_BLOCK, t->f) != RSPOOL_BLOCK ||
            fread(t->psu, sizeof *t->psu, RSPOOL_BLOCK, t->f) != RSPOOL_BLOCK ||
            fread(t->w0, sizeof *t->w0, RSPOOL_BLOCK, t->f) != RSPOOL_BLOCK)
            return rspool_io(err, "read");
        long long left = t->rows - done;
        size_t n = left < RSPOOL_BLOCK ? (size_t)left : RSPOOL_BLOCK, k = 0;
        for (size_t j = 0; j < n; j++) {
            double u = t->w0[j] * svy_wrep_multiplier(t->r, t->cur, t->psu[j]);
            if (u > 0) {
                t->ocell[k] = t->cell[j];
                t->ou[k++] = u;
            }
        }
        if (k && fn(ctx, t->ocell, t->ou, k))
            break;
    }
    return SVY_OK;
}

static void free_cells(wcell *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        free(c[i].vals);
        svy_wtrim_free(c[i].trim);
    }
    free(c);
}

void svy_wrep_trim_free(struct wrep_trim *t)
{
    if (!t)
        return;
    if (t->f)
        fclose(t->f);
    for (size_t i = 0; t->cells && i < t->rep.replicates; i++)
        free_cells(t->cells[i], t->ncells);
    free(t->cells);
    free(t->cell);
    free(t->psu);
    free(t->w0);
    free(t->ocell);
    free(t->ou);
    free(t);
}

typedef struct fill_ctx {
    wcell *rc;
    int nomem;
} fill_ctx;

/* One row u of a replicate's cell: counts, sum, extremes, and the sorted
 * distinct values while there are at most WCELL_KEEP. */
static int fill_block(void *ctx, const uint32_t *cell, const double *u, size_t n)
{
    fill_ctx *x = ctx;
    for (size_t j = 0; j < n; j++) {
        wcell *c = &x->rc[cell[j]];
        double v = u[j];
        c->n++;
        c->s1 += v;
        c->min0 = fmin(c->min0, v);
        c->max0 = fmax(c->max0, v);
        if (c->spooled)
            continue;
        size_t lo = 0, hi = c->nvals;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (c->vals[mid].w0 < v)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < c->nvals && c->vals[lo].w0 == v) {
            c->vals[lo].n++;
            continue;
        }
        if (c->nvals == WCELL_KEEP) {
            free(c->vals);
            c->vals = NULL;
            c->nvals = 0;
            c->spooled = 1;
            continue;
        }
        if (!c->vals && !(c->vals = svy_calloc(WCELL_KEEP, sizeof *c->vals)))
            return x->nomem = 1;
        memmove(c->vals + lo + 1, c->vals + lo, (c->nvals - lo) * sizeof *c->vals);
        c->vals[lo] = (wval){v, 1};
        c->nvals++;
    }
    return 0;
}

/* Replicate i's cells before trimming: its rows, and its factors F_r. */
static svy_status rep_cells(struct wrep_trim *t, const svy_wrep *r, const svy_weight *w, size_t i, wcell **out,
                            svy_err *err)
{
    size_t nc = r->ncells;
    wcell *rc = svy_calloc(nc ? nc : 1, sizeof *rc);
    if (!rc)
        return svy_weight_nomem(err);
    const double *F = r->fac + i * nc;
    for (size_t c = 0; c < nc; c++) {
        const wcell *u = &w->cells[c];
        rc[c] = (wcell){.vcell = u->vcell, .nr = u->nr, .resp = u->resp, .first_row = u->first_row,
                        .min0 = INFINITY, .max0 = -INFINITY, .a = F[c]};
    }
    fill_ctx x = {rc, 0};
    t->cur = i;
    svy_status st = rspool_scan(t, fill_block, &x, err);
    if (!st && x.nomem)
        st = svy_weight_nomem(err);
    if (st) {
        free_cells(rc, nc);
        return st;
    }
    *out = rc;
    return SVY_OK;
}

/* Trim replicate i's cells: the full sample's trimming with the cells and
 * the spool swapped, the full sample's report kept. */
static svy_status trim_one(struct wrep_trim *t, svy_weight *w, size_t i, wcell *rc, svy_err *err)
{
    wcell *keep = w->cells;
    svy_weight_report saved = w->rep;
    w->cells = rc;
    w->trim_scan = rspool_scan;
    w->trim_src = t;
    t->cur = i;
    w->rep.trim_passes = w->rep.trim_rounds = 0;
    w->rep.trimmed = 0;
    svy_status st = svy_weight_trim(w, err);
    svy_wrep_trim_report *p = &t->rep;
    if (!st) {
        double lo = w->rep.trim_lo, hi = w->rep.trim_hi;
        p->lo_min = i ? fmin(p->lo_min, lo) : lo;
        p->lo_max = i ? fmax(p->lo_max, lo) : lo;
        p->hi_min = i ? fmin(p->hi_min, hi) : hi;
        p->hi_max = i ? fmax(p->hi_max, hi) : hi;
        p->clipped += w->rep.trimmed;
        p->changed += w->rep.trim_passes > 0;
        if (w->rep.trim_rounds > p->rounds_max)
            p->rounds_max = w->rep.trim_rounds;
        if (w->rep.trim_passes > p->passes_max)
            p->passes_max = w->rep.trim_passes;
    }
    int changed = w->rep.trim_passes > 0;
    w->cells = keep;
    w->rep = saved;
    w->trim_scan = NULL;
    w->trim_src = NULL;
    if (st) {
        free_cells(rc, t->ncells);
        if (err) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "replicate %zu: %.480s", i + 1, err->msg);
            memcpy(err->msg, msg, sizeof msg);
        }
        return st;
    }
    /* Only the factors and the groups are needed from now on. */
    for (size_t c = 0; c < t->ncells; c++) {
        free(rc[c].vals);
        rc[c].vals = NULL;
        rc[c].nvals = 0;
        svy_wtrim_shrink(rc[c].trim);
    }
    if (changed)
        t->cells[i] = rc;
    else
        free_cells(rc, t->ncells);
    return SVY_OK;
}

svy_status svy_wrep_trim_fit(svy_wrep *r, svy_weight *w, svy_err *err)
{
    if (!w->trim_on)
        return SVY_OK;
    struct wrep_trim *t = r->trim;
    if (!t) /* no respondent rows: nothing reaches here (the fit fails first) */
        return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, NULL, "no respondents to trim");
    svy_status st = rspool_flush(t, err);
    if (!st && fflush(t->f) != 0)
        st = rspool_io(err, "write");
    if (st)
        return st;
    t->r = r;
    t->ncells = r->ncells;
    t->rep.replicates = r->nrep;
    if (!(t->cells = svy_calloc(r->nrep ? r->nrep : 1, sizeof *t->cells)))
        return svy_weight_nomem(err);
    for (size_t i = 0; i < r->nrep; i++) {
        wcell *rc = NULL;
        if ((st = rep_cells(t, r, w, i, &rc, err)))
            return st;
        if ((st = trim_one(t, w, i, rc, err)))
            return st;
    }
    return SVY_OK;
}

const wcell *svy_wrep_trim_cells(const svy_wrep *r, size_t i)
{
    return r->trim && r->trim->cells ? r->trim->cells[i] : NULL;
}

const svy_wrep_trim_report *svy_wrep_get_trim_report(const svy_wrep *r)
{
    return r->trim && r->trim->cells ? &r->trim->rep : NULL;
}
