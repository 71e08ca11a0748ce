/* The fit on weighting cells: nonresponse classes, the margin checks that
 * must come before any iteration, raking (post-stratification is raking to
 * one margin), then trimming (weight_trim.c) and the report.  Every step
 * here multiplies the weights of a cell by one factor: a row's weight is
 * its starting weight times its cell's factor a. */
#include "weight_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void describe_nr(const svy_weight *w, size_t cell, char *buf, size_t size)
{
    size_t len = svy_strtab_len(&w->nrcells, cell);
    const char *k = svy_strtab_str(&w->nrcells, cell);
    size_t off = 0, p = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < w->n_nr && p < len && off + 1 < size; i++) {
        char val[220];
        if (k[p] == 'N') {
            double d;
            memcpy(&d, k + p + 1, 8);
            svy_dtoa(d, val);
            p += 9;
        } else {
            uint32_t l;
            memcpy(&l, k + p + 1, 4);
            snprintf(val, sizeof val, "%.*s", (int)(l < 200 ? l : 200), k + p + 5);
            p += 5 + l;
        }
        int n = snprintf(buf + off, size - off, "%s%s=%s", i ? ", " : "", w->nr_cols[i], val);
        if (n < 0)
            break;
        off += (size_t)n < size - off ? (size_t)n : size - off - 1;
    }
    if (!w->n_nr)
        snprintf(buf, size, "all rows");
}

/* Weighting classes: respondents carry their class's total. */
static svy_status nonresponse(svy_weight *w, svy_err *err)
{
    size_t nc = w->nrcells.n;
    long double *all = svy_calloc(nc ? nc : 1, sizeof *all);
    long double *resp = svy_calloc(nc ? nc : 1, sizeof *resp);
    if (!all || !resp) {
        free(all);
        free(resp);
        return svy_weight_nomem(err);
    }
    size_t ncells = w->cells_ix.n;
    for (size_t u = 0; u < ncells; u++) {
        const wcell *x = &w->cells[u];
        all[x->nr] += x->s1;
        if (x->resp)
            resp[x->nr] += x->s1;
    }
    for (size_t c = 0; c < nc; c++)
        if (resp[c] == 0) {
            char d[400];
            describe_nr(w, c, d, sizeof d);
            free(all);
            free(resp);
            return svy_err_set(err, SVY_E_DATA, w->source, w->nr_first[c], 0, NULL,
                               "nonresponse cell %s has no respondents to carry its weight", d);
        }
    for (size_t u = 0; u < ncells; u++) {
        wcell *x = &w->cells[u];
        x->a = x->resp ? (double)(all[x->nr] / resp[x->nr]) : 0;
    }
    free(all);
    free(resp);
    return SVY_OK;
}

/* Name a combination of categories by the levels of some line sharing each
 * category: every category came from some margin line. */
static void describe_tuple(const svy_weight *w, const margin *m, const uint32_t *tuple, char *lev, size_t size)
{
    size_t off = 0;
    lev[0] = '\0';
    for (size_t j = 0; j < m->nvars; j++) {
        const mvar *v = &w->mvars[m->var[j]];
        const char *t = "?";
        for (size_t e = 0; e < v->bytext.n; e++)
            if (v->textcat[e] == tuple[j]) {
                t = svy_strtab_str(&v->bytext, e);
                break;
            }
        int n = snprintf(lev + off, size - off, "%s%s=%s", j ? ", " : "", v->name, t);
        if (n > 0)
            off += (size_t)n < size - off ? (size_t)n : size - off - 1;
    }
}

/* Map every respondent cell to its line in each margin; the checks that
 * must precede any iteration live here. */
static svy_status check_margins(svy_weight *w, svy_err *err)
{
    size_t nr = w->nresp;
    size_t maxv = 1;
    for (size_t mi = 0; mi < w->nmargins; mi++)
        if (w->margins[mi].nvars > maxv)
            maxv = w->margins[mi].nvars;
    uint32_t *tuple = svy_calloc(maxv, sizeof *tuple);
    if (!tuple)
        return svy_weight_nomem(err);
    svy_status st = SVY_OK;
    for (size_t mi = 0; !st && mi < w->nmargins; mi++) {
        margin *m = &w->margins[mi];
        long long *count = svy_calloc(m->nlines, sizeof *count);
        if (!count || !(m->line_of = svy_calloc(nr ? nr : 1, sizeof *m->line_of))) {
            free(count);
            st = svy_weight_nomem(err);
            break;
        }
        for (size_t k = 0; !st && k < nr; k++) {
            const wcell *x = &w->cells[w->resp[k]];
            for (size_t j = 0; j < m->nvars; j++) {
                const mvar *v = &w->mvars[m->var[j]];
                tuple[j] = (uint32_t)((x->vcell / v->stride) % (v->ncat ? v->ncat : 1));
            }
            long l = svy_strtab_find(&m->lines, tuple, m->nvars * sizeof *tuple);
            if (l < 0) {
                char lev[400];
                describe_tuple(w, m, tuple, lev, sizeof lev);
                st = svy_err_set(err, SVY_E_DATA, m->name, 0, 0, NULL,
                                 "no line for %s, a level respondents have (first at %s row %lld)", lev, w->source,
                                 x->first_row);
                break;
            }
            m->line_of[k] = (uint32_t)l;
            count[l] += x->n;
        }
        for (size_t l = 0; !st && l < m->nlines; l++)
            if (!count[l])
                st = svy_weight_line_err(w, m, l, err, "no respondent has this level");
        free(count);
    }
    free(tuple);
    return st;
}

/* Weighted totals of margin m's lines into w->acc. */
static void margin_sums(svy_weight *w, const margin *m)
{
    for (size_t l = 0; l < m->nlines; l++)
        w->acc[l] = 0;
    for (size_t k = 0; k < w->nresp; k++)
        w->acc[m->line_of[k]] += w->ctot[k];
}

double svy_weight_max_gap(svy_weight *w, size_t *worst_m, size_t *worst_l)
{
    double gap = 0;
    for (size_t mi = 0; mi < w->nmargins; mi++) {
        const margin *m = &w->margins[mi];
        margin_sums(w, m);
        for (size_t l = 0; l < m->nlines; l++) {
            double g = (double)(fabsl(w->acc[l] - m->total[l]) / m->total[l]);
            if (g > gap || isnan(g) || (mi == 0 && l == 0)) {
                gap = g;
                *worst_m = mi;
                *worst_l = l;
            }
        }
    }
    return gap;
}

/* The report's account of where raking stands. */
static void note_worst(svy_weight *w, double gap, size_t wm, size_t wl)
{
    svy_weight_report *r = &w->rep;
    r->max_gap = gap;
    r->converged = gap <= w->tol;
    const margin *m = &w->margins[wm];
    snprintf(r->worst_margin, sizeof r->worst_margin, "%s", m->name);
    svy_weight_describe_line(w, m, wl, r->worst_level, sizeof r->worst_level);
    r->worst_line = m->lineno[wl];
    margin_sums(w, m);
    r->worst_weighted = (double)w->acc[wl];
    r->worst_total = m->total[wl];
}

svy_status svy_weight_rake(svy_weight *w, svy_err *err)
{
    for (size_t k = 0; k < w->nresp; k++)
        w->cfac[k] = 1;
    if (!w->nmargins)
        return SVY_OK;
    for (int it = 1;; it++) {
        for (size_t mi = 0; mi < w->nmargins; mi++) {
            const margin *m = &w->margins[mi];
            margin_sums(w, m);
            for (size_t l = 0; l < m->nlines; l++)
                w->acc[l] = (long double)m->total[l] / w->acc[l];
            for (size_t k = 0; k < w->nresp; k++) {
                long double f = w->acc[m->line_of[k]];
                w->ctot[k] *= f;
                w->cfac[k] = (double)(w->cfac[k] * f);
            }
        }
        w->rep.iterations++;
        size_t wm = 0, wl = 0;
        double gap = svy_weight_max_gap(w, &wm, &wl);
        note_worst(w, gap, wm, wl);
        if (gap <= w->tol)
            return SVY_OK;
        if (it >= w->max_iter) {
            const svy_weight_report *r = &w->rep;
            return svy_err_set(err, SVY_E_DATA, r->worst_margin, 0, 0, NULL,
                               "raking did not converge in %d iterations: largest relative gap %.3g "
                               "(tolerance %g) at line %lld, %s: weighted %.17g, total %.17g",
                               it, gap, w->tol, r->worst_line, r->worst_level, r->worst_weighted, r->worst_total);
        }
    }
}

/* Totals of the respondent cells from their factors (no trimming yet). */
static void cell_totals(svy_weight *w)
{
    for (size_t k = 0; k < w->nresp; k++) {
        const wcell *c = &w->cells[w->resp[k]];
        w->ctot[k] = c->s1 * c->a;
    }
}

svy_status svy_weight_fit_cells(svy_weight *w, svy_err *err)
{
    svy_status st = svy_wcell_spool_finish(w, err);
    if (st)
        return st;
    size_t nc = w->cells_ix.n;
    w->rep.cells = nc;
    w->rep.nr_cells = w->resp_idx >= 0 ? w->nrcells.n : 0;
    w->rep.trim_strict = w->trim_on && !w->trim_once;
    w->rep.converged = 1;
    if (!(w->resp = svy_calloc(nc ? nc : 1, sizeof *w->resp)))
        return svy_weight_nomem(err);
    for (size_t u = 0; u < nc; u++) {
        w->cells[u].a = w->cells[u].resp;
        w->cells[u].b = 0;
        if (w->cells[u].resp)
            w->resp[w->nresp++] = u;
    }
    size_t maxl = 1;
    for (size_t mi = 0; mi < w->nmargins; mi++)
        if (w->margins[mi].nlines > maxl)
            maxl = w->margins[mi].nlines;
    if (!(w->acc = svy_calloc(maxl, sizeof *w->acc)) || !(w->ctot = svy_calloc(nc ? nc : 1, sizeof *w->ctot)) ||
        !(w->cfac = svy_calloc(nc ? nc : 1, sizeof *w->cfac)))
        return svy_weight_nomem(err);
    if (w->nmargins && (st = check_margins(w, err)))
        return st;
    if (w->resp_idx >= 0 && (st = nonresponse(w, err)))
        return st;
    cell_totals(w);
    st = svy_weight_rake(w, err);
    w->rake_sweeps = w->rep.iterations;
    for (size_t k = 0; k < w->nresp; k++)
        w->cells[w->resp[k]].a *= w->cfac[k];
    if (!st && w->trim_on)
        st = svy_weight_trim(w, err);
    if (w->nmargins && w->rep.iterations) {
        size_t wm = 0, wl = 0;
        double gap = svy_weight_max_gap(w, &wm, &wl);
        note_worst(w, gap, wm, wl);
    }
    /* The report describes the weights as they stand even when raking did
     * not converge, so the caller can show how close it came. */
    if (!st || !w->rep.converged) {
        svy_err keep;
        svy_err_clear(&keep);
        if (err)
            keep = *err;
        svy_status sst = svy_wcell_summarize(w, err);
        if (st) {
            if (err)
                *err = keep;
            return st;
        }
        if (sst)
            return sst;
    }
    if (st)
        return st;
    w->fit_ok = 1;
    return SVY_OK;
}
