/* Weighting on cells: nonresponse adjustment, post-stratification, raking
 * and trimming (see survey/weight.h). */
#include "weight_private.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/reader.h>
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

static svy_status too_late(const svy_weight *w, svy_err *err)
{
    if (w->begun)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL,
                           "weighting settings must come before the first pass");
    return SVY_OK;
}

svy_status svy_weight_set_start(svy_weight *w, const char *col, int is_prob, svy_err *err)
{
    svy_status st = too_late(w, err);
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
    svy_status st = too_late(w, err);
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

/* ---- margins -------------------------------------------------------------- */

svy_status svy_weight_add_margin(svy_weight *w, const char *name, const char *const *vars, size_t nvars,
                                 size_t *index, svy_err *err)
{
    svy_status st = too_late(w, err);
    if (st)
        return st;
    SVY_FAIL_IF(nvars == 0, err, SVY_E_USAGE, "margin %s names no variable", name);
    if (!svy_grow((void **)&w->margins, &w->mcap, w->nmargins + 1, sizeof *w->margins))
        return svy_weight_nomem(err);
    margin *m = &w->margins[w->nmargins];
    memset(m, 0, sizeof *m);
    if (!(m->name = svy_strdup(name)) || !(m->var = svy_calloc(nvars, sizeof *m->var))) {
        free(m->name);
        return svy_weight_nomem(err);
    }
    m->nvars = nvars;
    for (size_t j = 0; j < nvars; j++) {
        for (size_t k = 0; k < j; k++)
            if (strcmp(vars[k], vars[j]) == 0) {
                free(m->name);
                free(m->var);
                return svy_err_set(err, SVY_E_USAGE, name, 0, 0, vars[j],
                                   "variable %s appears twice in the margin", vars[j]);
            }
        size_t v = 0;
        while (v < w->nmvars && strcmp(w->mvars[v].name, vars[j]) != 0)
            v++;
        if (v == w->nmvars) {
            if (!svy_grow((void **)&w->mvars, &w->mvcap, w->nmvars + 1, sizeof *w->mvars)) {
                free(m->name);
                free(m->var);
                return svy_weight_nomem(err);
            }
            mvar *mv = &w->mvars[v];
            memset(mv, 0, sizeof *mv);
            if (!(mv->name = svy_strdup(vars[j]))) {
                free(m->name);
                free(m->var);
                return svy_weight_nomem(err);
            }
            mv->first_margin = w->nmargins;
            w->nmvars++;
        }
        m->var[j] = v;
    }
    /* The same variables twice (in any order, from any file) would weigh
     * that margin double in every sweep and hide a mistake in the call. */
    for (size_t p = 0; p < w->nmargins; p++) {
        const margin *o = &w->margins[p];
        size_t same = 0;
        for (size_t j = 0; o->nvars == nvars && j < nvars; j++)
            for (size_t k = 0; k < nvars; k++)
                same += o->var[k] == m->var[j];
        if (o->nvars == nvars && same == nvars) {
            char list[300];
            size_t off = 0;
            list[0] = '\0';
            for (size_t j = 0; j < nvars && off + 1 < sizeof list; j++) {
                int k = snprintf(list + off, sizeof list - off, "%s%s", j ? " x " : "", vars[j]);
                if (k > 0)
                    off += (size_t)k < sizeof list - off ? (size_t)k : sizeof list - off - 1;
            }
            svy_status st2 = svy_err_set(err, SVY_E_USAGE, name, 0, 0, NULL,
                                         "the margin %s is given twice (here and in %s): give each margin once",
                                         list, o->name);
            free(m->name);
            free(m->var);
            return st2;
        }
    }
    if (index)
        *index = w->nmargins;
    w->nmargins++;
    return SVY_OK;
}

size_t svy_weight_margin_count(const svy_weight *w)
{
    return w->nmargins;
}

/* "stype=E, sch.wide=Yes" for messages. */
void svy_weight_describe_line(const svy_weight *w, const margin *m, size_t line, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < m->nvars && off + 1 < size; j++) {
        int k = snprintf(buf + off, size - off, "%s%s=%s", j ? ", " : "", w->mvars[m->var[j]].name,
                         m->levels[line * m->nvars + j]);
        if (k < 0)
            break;
        off += (size_t)k < size - off ? (size_t)k : size - off - 1;
    }
}

/* An error about one line of a margin: "FILE: line N: v=level: msg". */
svy_status svy_weight_line_err(const svy_weight *w, const margin *m, size_t line, svy_err *err, const char *msg)
{
    char lev[300];
    svy_weight_describe_line(w, m, line, lev, sizeof lev);
    if (m->lineno[line] > 0)
        return svy_err_set(err, SVY_E_DATA, m->name, 0, 0, NULL, "line %lld: %s: %s", m->lineno[line], lev, msg);
    return svy_err_set(err, SVY_E_DATA, m->name, 0, 0, NULL, "%s: %s", lev, msg);
}

svy_status svy_weight_add_margin_level(svy_weight *w, size_t mi, const char *const *levels, double total,
                                       long long line, svy_err *err)
{
    svy_status st = too_late(w, err);
    if (st)
        return st;
    SVY_FAIL_IF(mi >= w->nmargins, err, SVY_E_USAGE, "no margin %zu", mi);
    margin *m = &w->margins[mi];
    size_t cap = m->cap;
    if (!svy_grow((void **)&m->total, &cap, m->nlines + 1, sizeof *m->total))
        return svy_weight_nomem(err);
    cap = m->cap;
    if (!svy_grow((void **)&m->lineno, &cap, m->nlines + 1, sizeof *m->lineno))
        return svy_weight_nomem(err);
    if (!svy_grow((void **)&m->levels, &m->levcap, (m->nlines + 1) * m->nvars, sizeof *m->levels))
        return svy_weight_nomem(err);
    m->cap = cap;
    size_t l = m->nlines;
    for (size_t j = 0; j < m->nvars; j++)
        m->levels[l * m->nvars + j] = NULL;
    for (size_t j = 0; j < m->nvars; j++)
        if (!(m->levels[l * m->nvars + j] = svy_strdup(levels[j] ? levels[j] : ""))) {
            for (size_t k = 0; k < j; k++)
                free(m->levels[l * m->nvars + k]);
            return svy_weight_nomem(err);
        }
    m->total[l] = total;
    m->lineno[l] = line;
    m->nlines++;
    for (size_t j = 0; j < m->nvars; j++)
        if (!levels[j] || !*levels[j])
            return svy_weight_line_err(w, m, l, err, "missing level of a margin variable");
    if (isnan(total))
        return svy_weight_line_err(w, m, l, err, "missing total");
    if (!(total > 0) || !isfinite(total)) {
        char msg[80];
        snprintf(msg, sizeof msg, "total %g is not a positive number", total);
        return svy_weight_line_err(w, m, l, err, msg);
    }
    m->grand += total;
    return SVY_OK;
}

typedef struct margin_ctx {
    svy_weight *w;
    const char *path;
    size_t index;
    size_t nvars;
    char **texts;
} margin_ctx;

static svy_status margin_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    margin_ctx *c = ctx;
    size_t n = svy_schema_nvars(s);
    SVY_FAIL_IF(n < 2 || strcmp(svy_var_name(svy_schema_var(s, n - 1)), "total") != 0, err, SVY_E_DATA,
                "margin file %s: columns must be one or more variables and then 'total'", c->path);
    const char **names = svy_calloc(n, sizeof *names);
    if (!names)
        return svy_weight_nomem(err);
    for (size_t i = 0; i + 1 < n; i++)
        names[i] = svy_var_name(svy_schema_var(s, i));
    svy_status st = svy_weight_add_margin(c->w, c->path, names, n - 1, &c->index, err);
    free(names);
    if (st)
        return st;
    c->nvars = n - 1;
    if (!(c->texts = svy_calloc(n, sizeof *c->texts)))
        return svy_weight_nomem(err);
    return SVY_OK;
}

static svy_status margin_row(void *ctx, const svy_row *row, svy_err *err)
{
    margin_ctx *c = ctx;
    char nums[64][SVY_DTOA_MAX];
    SVY_FAIL_IF(row->nvals != c->nvars + 1, err, SVY_E_DATA, "margin file %s: row %lld has %zu field%s", c->path,
                row->index, row->nvals, row->nvals == 1 ? "" : "s");
    for (size_t j = 0; j < c->nvars; j++) {
        const svy_value *v = &row->vals[j];
        if (svy_value_is_missing(v))
            c->texts[j] = "";
        else if (v->type == SVY_VAL_STR)
            c->texts[j] = (char *)v->str;
        else if (j < 64) {
            svy_dtoa(v->num, nums[j]);
            c->texts[j] = nums[j];
        } else
            return svy_err_set(err, SVY_E_LIMIT, c->path, 0, 0, NULL, "more than 64 numeric margin variables");
    }
    double total = NAN;
    const svy_value *tv = &row->vals[c->nvars];
    long long line = row->index + 1; /* the header is line 1 */
    if (!svy_value_is_missing(tv) && !svy_value_number(tv, &total) &&
        !(tv->type == SVY_VAL_STR && tv->len == 0))
        return svy_err_set(err, SVY_E_DATA, c->path, 0, 0, "total", "line %lld: total '%s' is not a number",
                           line, tv->str);
    return svy_weight_add_margin_level(c->w, c->index, (const char *const *)c->texts, total, line, err);
}

svy_status svy_weight_load_margin(svy_weight *w, const char *path, svy_err *err)
{
    svy_status st = too_late(w, err);
    if (st)
        return st;
    svy_reader *r = svy_reader_new();
    if (!r)
        return svy_weight_nomem(err);
    margin_ctx c = {.w = w, .path = path};
    svy_handler h = {margin_schema, margin_row};
    st = svy_reader_open(r, path, err);
    if (!st)
        st = svy_reader_run(r, &h, &c, err);
    if (!st && (!c.texts || w->margins[c.index].nlines == 0))
        st = svy_err_set(err, SVY_E_DATA, path, 0, 0, NULL, "margin file has no levels");
    free(c.texts);
    svy_reader_free(r);
    return st;
}

/* ---- first pass ----------------------------------------------------------- */

static double norm_zero(double d)
{
    return d == 0 ? 0.0 : d; /* -0 and 0 are one category */
}

static int map_set(svy_strtab *it, uint32_t **cats, size_t *cap, const void *key, size_t len, uint32_t cat,
                   uint32_t *have)
{
    int added;
    long e = svy_strtab_intern(it, key, len, &added);
    if (e < 0)
        return -1;
    if (added) {
        if (!svy_grow((void **)cats, cap, (size_t)e + 1, sizeof **cats))
            return -1;
        (*cats)[e] = cat;
        *have = cat;
        return 1;
    }
    *have = (*cats)[e];
    return 0;
}

static long map_get(const svy_strtab *it, const uint32_t *cats, const void *key, size_t len)
{
    long e = svy_strtab_find(it, key, len);
    return e < 0 ? -1 : (long)cats[e];
}

/* Category of a margin level text, creating one for a new level. */
static svy_status resolve_level(svy_weight *w, mvar *v, const svy_var *sv, const char *text, uint32_t *cat,
                                svy_err *err)
{
    size_t len = strlen(text);
    double num, code;
    int isnum = svy_parse_number(text, len, &num);
    int iscode = sv && svy_var_code_for(sv, text, &code);
    long c = map_get(&v->bytext, v->textcat, text, len);
    if (c < 0 && isnum) {
        num = norm_zero(num);
        c = map_get(&v->bynum, v->numcat, &num, sizeof num);
    }
    if (c < 0 && iscode) {
        code = norm_zero(code);
        c = map_get(&v->bynum, v->numcat, &code, sizeof code);
    }
    if (c < 0) {
        c = (long)v->ncat++;
        SVY_FAIL_IF(v->ncat > UINT32_MAX / 2, err, SVY_E_LIMIT, "too many levels of %s", v->name);
    }
    uint32_t have;
    if (map_set(&v->bytext, &v->textcat, &v->textcap, text, len, (uint32_t)c, &have) < 0)
        return svy_weight_nomem(err);
    if (isnum && map_set(&v->bynum, &v->numcat, &v->numcap, &num, sizeof num, (uint32_t)c, &have) < 0)
        return svy_weight_nomem(err);
    if (iscode && map_set(&v->bynum, &v->numcat, &v->numcap, &code, sizeof code, (uint32_t)c, &have) < 0)
        return svy_weight_nomem(err);
    *cat = (uint32_t)c;
    (void)w;
    return SVY_OK;
}

static svy_status find_col(const svy_weight *w, const char *name, const char *what, long *idx, svy_err *err)
{
    *idx = svy_schema_find(w->schema, name);
    if (*idx < 0)
        return svy_err_set(err, SVY_E_USAGE, w->source, 0, 0, name, "no column %s (%s) in the data", name, what);
    return SVY_OK;
}

svy_status svy_weight_begin(svy_weight *w, const svy_schema *schema, const char *source, svy_err *err)
{
    SVY_FAIL_IF(w->begun, err, SVY_E_USAGE, "the first pass has already begun");
    w->begun = 1;
    w->nvars = svy_schema_nvars(schema);
    if (!(w->schema = svy_schema_clone(schema)) || !(w->source = svy_strdup(source ? source : "<data>")))
        return svy_weight_nomem(err);
    svy_status st;
    if (w->start_col && (st = find_col(w, w->start_col, w->start_prob ? "inclusion probability" : "weight",
                                       &w->start_idx, err)))
        return st;
    if (w->resp_col) {
        if ((st = find_col(w, w->resp_col, "respondent flag", &w->resp_idx, err)))
            return st;
        if (!(w->nr_idx = svy_calloc(w->n_nr ? w->n_nr : 1, sizeof *w->nr_idx)))
            return svy_weight_nomem(err);
        for (size_t i = 0; i < w->n_nr; i++)
            if ((st = find_col(w, w->nr_cols[i], "nonresponse cell", &w->nr_idx[i], err)))
                return st;
    }
    for (size_t i = 0; i < w->nmvars; i++)
        if ((st = find_col(w, w->mvars[i].name, "margin variable", &w->mvars[i].col, err))) {
            err->file[0] = '\0';
            snprintf(err->msg, sizeof err->msg, "margin %s: no column %s in %s",
                     w->margins[w->mvars[i].first_margin].name, w->mvars[i].name, w->source);
            return st;
        }
    /* Categories are the union of every margin's levels, so that a variable
     * in two margins (stype, and stype x sch.wide) is one set of cells. */
    size_t maxv = 0;
    for (size_t mi = 0; mi < w->nmargins; mi++)
        if (w->margins[mi].nvars > maxv)
            maxv = w->margins[mi].nvars;
    uint32_t *tuple = svy_calloc(maxv ? maxv : 1, sizeof *tuple);
    if (!tuple)
        return svy_weight_nomem(err);
    for (size_t mi = 0; mi < w->nmargins; mi++) {
        margin *m = &w->margins[mi];
        if (!m->nlines) {
            free(tuple);
            return svy_err_set(err, SVY_E_DATA, m->name, 0, 0, NULL, "margin has no levels");
        }
        for (size_t l = 0; l < m->nlines; l++) {
            for (size_t j = 0; j < m->nvars; j++) {
                mvar *v = &w->mvars[m->var[j]];
                const svy_var *sv = svy_schema_var(w->schema, (size_t)v->col);
                if ((st = resolve_level(w, v, sv, m->levels[l * m->nvars + j], &tuple[j], err))) {
                    free(tuple);
                    return st;
                }
            }
            int added;
            long e = svy_strtab_intern(&m->lines, tuple, m->nvars * sizeof *tuple, &added);
            if (e < 0) {
                free(tuple);
                return svy_weight_nomem(err);
            }
            if (!added) {
                free(tuple);
                char lev[300];
                svy_weight_describe_line(w, m, l, lev, sizeof lev);
                return svy_err_set(err, SVY_E_DATA, m->name, 0, 0, NULL,
                                   "line %lld: %s: the same level as line %lld", m->lineno[l], lev,
                                   m->lineno[(size_t)e]);
            }
        }
    }
    free(tuple);
    /* Grand totals must agree or raking cannot converge; checked here so the
     * error comes before reading any data. */
    for (size_t mi = 1; mi < w->nmargins; mi++) {
        long double g0 = w->margins[0].grand, g = w->margins[mi].grand;
        if (fabsl(g - g0) > (long double)w->tol * g0)
            return svy_err_set(err, SVY_E_DATA, w->margins[mi].name, 0, 0, NULL,
                               "totals sum to %.17g but %s sums to %.17g: margins must describe one population",
                               (double)g, w->margins[0].name, (double)g0);
    }
    uint64_t stride = 1;
    for (size_t i = 0; i < w->nmvars; i++) {
        w->mvars[i].stride = stride;
        if (w->mvars[i].ncat && stride > (UINT64_MAX >> 2) / w->mvars[i].ncat)
            return svy_err_set(err, SVY_E_LIMIT, NULL, 0, 0, NULL, "margins cross too many levels");
        stride *= w->mvars[i].ncat ? w->mvars[i].ncat : 1;
    }
    if (stride <= ((uint64_t)1 << 20)) {
        w->ncells_dense = stride;
        if (!(w->cell_cache = svy_calloc((size_t)stride, sizeof *w->cell_cache)))
            return svy_weight_nomem(err);
    }
    return SVY_OK;
}

static svy_status row_err(const svy_weight *w, const svy_row *row, long col, svy_err *err, const char *msg)
{
    const char *name = col >= 0 ? svy_var_name(svy_schema_var(w->schema, (size_t)col)) : NULL;
    return svy_err_set(err, SVY_E_DATA, w->source, row->index, col >= 0 ? col + 1 : 0, name, "%s", msg);
}

/* Category of a data value, or -1 when no margin level matches it. */
static long value_cat_slow(const mvar *v, const svy_var *sv, const svy_value *val)
{
    long c;
    double d;
    if (val->type == SVY_VAL_NUM) {
        d = norm_zero(val->num);
        if ((c = map_get(&v->bynum, v->numcat, &d, sizeof d)) >= 0)
            return c;
    } else {
        if ((c = map_get(&v->bytext, v->textcat, val->str, val->len)) >= 0)
            return c;
        if (svy_parse_number(val->str, val->len, &d)) {
            d = norm_zero(d);
            if ((c = map_get(&v->bynum, v->numcat, &d, sizeof d)) >= 0)
                return c;
        }
    }
    const char *lab = svy_var_label_for(sv, val);
    if (lab)
        return map_get(&v->bytext, v->textcat, lab, strlen(lab));
    return -1;
}

/* The same through the cache of short texts (the usual codes), which
 * keeps only what the slow path found: a function of the text alone. */
static long value_cat(mvar *v, const svy_schema *schema, const svy_value *val)
{
    if (val->type != SVY_VAL_STR || val->len > 7)
        return value_cat_slow(v, svy_schema_var(schema, (size_t)v->col), val);
    uint64_t key = svy_short_key(val->str, val->len);
    struct vcache *ent = &v->vcache[(key * 0x9e3779b97f4a7c15ull) >> 58];
    if (ent->key == key)
        return ent->cat;
    long c = value_cat_slow(v, svy_schema_var(schema, (size_t)v->col), val);
    if (c >= 0) {
        ent->key = key;
        ent->cat = (uint32_t)c;
    }
    return c;
}

static void value_text(const svy_value *v, char *buf, size_t size)
{
    if (v->type == SVY_VAL_STR)
        snprintf(buf, size, "%.*s", (int)(v->len < 200 ? v->len : 200), v->str);
    else {
        char d[SVY_DTOA_MAX];
        svy_dtoa(v->num, d);
        snprintf(buf, size, "%s", d);
    }
}

/* Key bytes of a nonresponse-cell value: numbers by value, so "1" and "1.0"
 * are one class. */
static int put_nr_value(svy_weight *w, size_t *off, const svy_value *v)
{
    double d;
    size_t need = *off + 1 + (v->type == SVY_VAL_STR ? 4 + v->len : 8);
    if (!svy_grow((void **)&w->keybuf, &w->keycap, need + 8, 1))
        return 0;
    if (svy_value_number(v, &d)) {
        d = norm_zero(d);
        w->keybuf[(*off)++] = 'N';
        memcpy(w->keybuf + *off, &d, 8);
        *off += 8;
    } else {
        uint32_t len = (uint32_t)v->len;
        w->keybuf[(*off)++] = 'S';
        memcpy(w->keybuf + *off, &len, 4);
        memcpy(w->keybuf + *off + 4, v->str, v->len);
        *off += 4 + v->len;
    }
    return 1;
}

/* File a row: fills its cell key and starting weight; nr cell added when create. */
static svy_status row_key(svy_weight *w, const svy_row *row, int create, unsigned char key[CELL_KEY_LEN],
                          double *start, svy_err *err)
{
    SVY_FAIL_IF(row->nvals != w->nvars, err, SVY_E_DATA, "row %lld has %zu values, expected %zu", row->index,
                row->nvals, w->nvars);
    double w0 = 1;
    char buf[260], msg[400];
    if (w->start_idx >= 0) {
        const svy_value *v = &row->vals[w->start_idx];
        if (svy_value_is_missing(v))
            return row_err(w, row, w->start_idx, err,
                           w->start_prob ? "missing inclusion probability" : "missing weight");
        double d;
        if (!(v->type == SVY_VAL_STR && svy_number_fast(v->str, v->len, &d)) && !svy_value_number(v, &d)) {
            value_text(v, buf, sizeof buf);
            snprintf(msg, sizeof msg, "'%s' is not a number", buf);
            return row_err(w, row, w->start_idx, err, msg);
        }
        if (w->start_prob) {
            if (!(d > 0 && d <= 1)) {
                value_text(v, buf, sizeof buf);
                snprintf(msg, sizeof msg, "inclusion probability %s is not in (0, 1]", buf);
                return row_err(w, row, w->start_idx, err, msg);
            }
            w0 = 1 / d;
        } else {
            if (!(d > 0) || !isfinite(d)) {
                value_text(v, buf, sizeof buf);
                snprintf(msg, sizeof msg, "weight %s is not a positive number", buf);
                return row_err(w, row, w->start_idx, err, msg);
            }
            w0 = d;
        }
    }
    unsigned char resp = 1;
    uint32_t nr = 0;
    if (w->resp_idx >= 0) {
        const svy_value *v = &row->vals[w->resp_idx];
        double d;
        if (svy_value_is_missing(v) || !svy_value_number(v, &d) || (d != 0 && d != 1)) {
            if (svy_value_is_missing(v))
                snprintf(buf, sizeof buf, "missing value");
            else
                value_text(v, buf, sizeof buf);
            snprintf(msg, sizeof msg, "respondent flag '%s' is not 1 or 0", buf);
            return row_err(w, row, w->resp_idx, err, msg);
        }
        resp = d == 1;
        size_t off = 0;
        for (size_t i = 0; i < w->n_nr; i++) {
            const svy_value *cv = &row->vals[w->nr_idx[i]];
            if (svy_value_is_missing(cv))
                return row_err(w, row, w->nr_idx[i], err, "missing value in a nonresponse cell variable");
            if (!put_nr_value(w, &off, cv))
                return svy_weight_nomem(err);
        }
        long e;
        if (create) {
            int added;
            e = svy_strtab_intern(&w->nrcells, w->keybuf ? w->keybuf : "", off, &added);
            if (e < 0)
                return svy_weight_nomem(err);
            if (added) {
                if (!svy_grow((void **)&w->nr_first, &w->nr_firstcap, (size_t)e + 1, sizeof *w->nr_first))
                    return svy_weight_nomem(err);
                w->nr_first[e] = row->index;
            }
        } else {
            e = svy_strtab_find(&w->nrcells, w->keybuf ? w->keybuf : "", off);
            SVY_FAIL_IF(e < 0, err, SVY_E_DATA, "row %lld: the data changed between passes", row->index);
        }
        nr = (uint32_t)e;
    }
    uint64_t vcell = 0;
    if (resp) {
        for (size_t i = 0; i < w->nmvars; i++) {
            mvar *v = &w->mvars[i];
            const svy_value *val = &row->vals[v->col];
            if (svy_value_is_missing(val)) {
                snprintf(msg, sizeof msg, "missing value in margin variable %.200s", v->name);
                return row_err(w, row, v->col, err, msg);
            }
            long c = value_cat(v, w->schema, val);
            if (c < 0) {
                value_text(val, buf, sizeof buf);
                return svy_err_set(err, SVY_E_DATA, w->source, row->index, v->col + 1, v->name,
                                   "respondent at %s=%s, a level margin %s lacks", v->name, buf,
                                   w->margins[v->first_margin].name);
            }
            vcell += (uint64_t)c * v->stride;
        }
    } else {
        vcell = UINT64_MAX; /* nonrespondents take part in no margin */
    }
    memcpy(key, &vcell, 8);
    memcpy(key + 8, &nr, 4);
    key[12] = resp;
    *start = w0;
    return SVY_OK;
}

/* The cell of a key through the cache by margin categories, or -1. */
static long cached_cell(const svy_weight *w, const unsigned char *key)
{
    uint64_t vcell;
    memcpy(&vcell, key, 8);
    if (vcell >= w->ncells_dense)
        return -1;
    uint32_t c = w->cell_cache[vcell];
    if (!c)
        return -1;
    const wcell *u = &w->cells[c - 1];
    if (memcmp(&u->nr, key + 8, 4) != 0 || u->resp != key[12])
        return -1;
    return (long)c - 1;
}

static void remember_cell(svy_weight *w, const unsigned char *key, long e)
{
    uint64_t vcell;
    memcpy(&vcell, key, 8);
    if (vcell < w->ncells_dense)
        w->cell_cache[vcell] = (uint32_t)e + 1;
}

svy_status svy_weight_add_row(svy_weight *w, const svy_row *row, svy_err *err)
{
    SVY_FAIL_IF(!w->begun || w->fitted, err, SVY_E_USAGE, "rows must come between begin and fit");
    unsigned char key[CELL_KEY_LEN];
    double w0;
    svy_status st = row_key(w, row, 1, key, &w0, err);
    if (st)
        return st;
    int added = 0;
    long e = cached_cell(w, key);
    if (e < 0) {
        e = svy_strtab_intern(&w->cells_ix, key, CELL_KEY_LEN, &added);
        if (e < 0)
            return svy_weight_nomem(err);
    }
    if (added) {
        if (!svy_grow((void **)&w->cells, &w->cellcap, (size_t)e + 1, sizeof *w->cells))
            return svy_weight_nomem(err);
        wcell *u = &w->cells[e];
        memset(u, 0, sizeof *u);
        memcpy(&u->vcell, key, 8);
        memcpy(&u->nr, key + 8, 4);
        u->resp = key[12];
        u->first_row = row->index;
        u->min0 = u->max0 = w0;
    }
    remember_cell(w, key, e);
    w->rep.rows++;
    return svy_wcell_add(w, (size_t)e, w0, err);
}

svy_status svy_weight_fit(svy_weight *w, svy_err *err)
{
    SVY_FAIL_IF(!w->begun || w->fitted, err, SVY_E_USAGE, "fit needs one first pass");
    w->fitted = 1;
    SVY_FAIL_IF(w->rep.rows == 0, err, SVY_E_DATA, "%s has no rows to weight", w->source);
    return svy_weight_fit_cells(w, err);
}

/* ---- second pass --------------------------------------------------------- */

svy_status svy_weight_lookup_cell(const svy_weight *w, const svy_row *row, double *weight, size_t *cell,
                                  svy_err *err)
{
    SVY_FAIL_IF(!w->fitted || !w->fit_ok, err, SVY_E_USAGE, "lookup before a successful fit");
    unsigned char key[CELL_KEY_LEN];
    double w0;
    /* row_key only reuses the scratch key buffer and fills the level caches
     * (results of the text alone): no visible state changes. */
    svy_status st = row_key((svy_weight *)w, row, 0, key, &w0, err);
    if (st)
        return st;
    long e = cached_cell(w, key);
    if (e < 0) {
        e = svy_strtab_find(&w->cells_ix, key, CELL_KEY_LEN);
        SVY_FAIL_IF(e < 0, err, SVY_E_DATA, "row %lld: the data changed between the two passes", row->index);
        /* The cache is not part of the observable state. */
        remember_cell((svy_weight *)w, key, e);
    }
    *weight = svy_wcell_weight(&w->cells[e], w0);
    if (cell)
        *cell = (size_t)e;
    return SVY_OK;
}

svy_status svy_weight_lookup(const svy_weight *w, const svy_row *row, double *weight, svy_err *err)
{
    return svy_weight_lookup_cell(w, row, weight, NULL, err);
}

const svy_weight_report *svy_weight_get_report(const svy_weight *w)
{
    return &w->rep;
}
