/* Weighting on cells (see survey/weight.h): the engine's settings, its
 * report, and freeing it.  Margins are read in weight_margin.c, rows filed
 * into cells in weight_pass.c, the fit in weight_fit.c and weight_trim.c,
 * the starting weights kept per cell in weight_cells.c. */
#include "weight_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <survey/weight.h>

/* ---- settings ------------------------------------------------------------ */

svy_weight *svy_weight_new(void)
{
    svy_weight *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->start_idx = -1;
    w->resp_idx = -1;
    w->max_iter = SVY_WEIGHT_MAX_ITER;
    w->tol = SVY_WEIGHT_TOL;
    w->trim_rounds_max = SVY_WEIGHT_TRIM_ROUNDS;
    w->trim_lo = -INFINITY;
    w->trim_hi = INFINITY;
    return w;
}

void svy_weight_free(svy_weight *w)
{
    if (!w)
        return;
    free(w->start_col);
    for (size_t i = 0; i < w->n_nr; i++)
        free(w->nr_cols[i]);
    free(w->nr_cols);
    free(w->nr_idx);
    free(w->resp_col);
    for (size_t i = 0; i < w->nmvars; i++) {
        mvar *v = &w->mvars[i];
        free(v->name);
        svy_strtab_free(&v->bytext);
        svy_strtab_free(&v->bynum);
        free(v->textcat);
        free(v->numcat);
    }
    free(w->mvars);
    for (size_t i = 0; i < w->nmargins; i++) {
        margin *m = &w->margins[i];
        free(m->name);
        free(m->var);
        for (size_t k = 0; k < m->nlines * m->nvars; k++)
            free(m->levels[k]);
        free(m->levels);
        free(m->total);
        free(m->lineno);
        svy_strtab_free(&m->lines);
        free(m->line_of);
    }
    free(w->margins);
    svy_schema_free(w->schema);
    free(w->source);
    svy_strtab_free(&w->nrcells);
    free(w->nr_first);
    for (size_t c = 0; c < w->cells_ix.n; c++) {
        free(w->cells[c].vals);
        svy_wtrim_free(w->cells[c].trim);
    }
    svy_strtab_free(&w->cells_ix);
    free(w->cells);
    free(w->resp);
    free(w->acc);
    free(w->ctot);
    free(w->cfac);
    svy_wcell_free(w);
    free(w->keybuf);
    free(w->cell_cache);
    free(w);
}

svy_status svy_weight_nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory while weighting");
}

svy_status svy_weight_too_late(const svy_weight *w, svy_err *err)
{
    if (w->begun)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL,
                           "weighting settings must come before the first pass");
    return SVY_OK;
}

svy_status svy_weight_set_start(svy_weight *w, const char *col, int is_prob, svy_err *err)
{
    svy_status st = svy_weight_too_late(w, err);
    if (st)
        return st;
    free(w->start_col);
    w->start_col = NULL;
    if (col && !(w->start_col = svy_strdup(col)))
        return svy_weight_nomem(err);
    w->start_prob = is_prob;
    return SVY_OK;
}

svy_status svy_weight_set_nonresponse(svy_weight *w, const char *const *cells, size_t ncells,
                                      const char *respondent, svy_err *err)
{
    svy_status st = svy_weight_too_late(w, err);
    if (st)
        return st;
    SVY_FAIL_IF(!respondent || !*respondent, err, SVY_E_USAGE,
                "nonresponse adjustment needs a respondent column");
    free(w->resp_col);
    if (!(w->resp_col = svy_strdup(respondent)))
        return svy_weight_nomem(err);
    for (size_t i = 0; i < w->n_nr; i++)
        free(w->nr_cols[i]);
    free(w->nr_cols);
    w->n_nr = 0;
    if (!(w->nr_cols = svy_calloc(ncells ? ncells : 1, sizeof *w->nr_cols)))
        return svy_weight_nomem(err);
    for (size_t i = 0; i < ncells; i++) {
        if (!(w->nr_cols[i] = svy_strdup(cells[i])))
            return svy_weight_nomem(err);
        w->n_nr++;
    }
    return SVY_OK;
}

svy_status svy_weight_set_convergence(svy_weight *w, int max_iter, double tol, svy_err *err)
{
    SVY_FAIL_IF(max_iter < 1, err, SVY_E_USAGE, "the iteration limit must be at least 1 (got %d)", max_iter);
    SVY_FAIL_IF(!(tol > 0) || !isfinite(tol), err, SVY_E_USAGE,
                "the tolerance must be a positive number (got %g)", tol);
    w->max_iter = max_iter;
    w->tol = tol;
    return SVY_OK;
}

svy_status svy_weight_set_trim_rounds(svy_weight *w, int rounds, svy_err *err)
{
    SVY_FAIL_IF(rounds < 1, err, SVY_E_USAGE, "the limit on trimming rounds must be at least 1 (got %d)", rounds);
    w->trim_rounds_max = rounds;
    return SVY_OK;
}

void svy_weight_set_trim_strict(svy_weight *w, int strict)
{
    w->trim_once = !strict;
}

svy_status svy_weight_set_trim(svy_weight *w, double lo, int lo_rel, double hi, int hi_rel, svy_err *err)
{
    SVY_FAIL_IF(isnan(lo) || isnan(hi), err, SVY_E_USAGE, "a trimming bound is not a number");
    SVY_FAIL_IF(lo == INFINITY || hi == -INFINITY, err, SVY_E_USAGE, "a trimming bound is infinite the wrong way");
    SVY_FAIL_IF(lo < 0 && isfinite(lo), err, SVY_E_USAGE, "the lower trimming bound %g is negative", lo);
    SVY_FAIL_IF(!(hi > 0), err, SVY_E_USAGE, "the upper trimming bound %g is not positive", hi);
    SVY_FAIL_IF(lo_rel == hi_rel && lo >= hi, err, SVY_E_USAGE,
                "the lower trimming bound %g is not below the upper bound %g", lo, hi);
    w->trim_lo = lo;
    w->trim_hi = hi;
    w->trim_lo_rel = lo_rel && isfinite(lo);
    w->trim_hi_rel = hi_rel && isfinite(hi);
    w->trim_on = isfinite(lo) || isfinite(hi);
    return SVY_OK;
}

static int parse_bound(const char *s, size_t len, double *v, int *rel, double none)
{
    while (len && (s[len - 1] == ' '))
        len--;
    while (len && *s == ' ')
        s++, len--;
    *rel = 0;
    if (!len) {
        *v = none;
        return 1;
    }
    if (s[len - 1] == 'x' || s[len - 1] == 'X') {
        *rel = 1;
        len--;
    }
    return len && svy_parse_number(s, len, v) && isfinite(*v);
}

svy_status svy_weight_set_trim_spec(svy_weight *w, const char *spec, svy_err *err)
{
    const char *comma = strchr(spec, ',');
    SVY_FAIL_IF(!comma || strchr(comma + 1, ','), err, SVY_E_USAGE,
                "trimming bounds '%s' are not LO,HI (e.g. 0.3x,3.5x or 1,500)", spec);
    double lo, hi;
    int lr, hr;
    SVY_FAIL_IF(!parse_bound(spec, (size_t)(comma - spec), &lo, &lr, -INFINITY), err, SVY_E_USAGE,
                "lower trimming bound in '%s' is not a number or a multiple of the mean (Nx)", spec);
    SVY_FAIL_IF(!parse_bound(comma + 1, strlen(comma + 1), &hi, &hr, INFINITY), err, SVY_E_USAGE,
                "upper trimming bound in '%s' is not a number or a multiple of the mean (Nx)", spec);
    SVY_FAIL_IF(isinf(lo) && isinf(hi), err, SVY_E_USAGE, "trimming bounds '%s' set no bound", spec);
    return svy_weight_set_trim(w, lo, lr, hi, hr, err);
}

const svy_weight_report *svy_weight_get_report(const svy_weight *w)
{
    return &w->rep;
}
