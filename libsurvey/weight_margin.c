/* Weighting margins: the population totals the weights are fitted to, set
 * line by line or read from a margin file (any format a reader takes). */
#include "weight_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/reader.h>
#include <survey/weight.h>

/* ---- margins -------------------------------------------------------------- */

svy_status svy_weight_add_margin(svy_weight *w, const char *name, const char *const *vars, size_t nvars,
                                 size_t *index, svy_err *err)
{
    svy_status st = svy_weight_too_late(w, err);
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
    svy_status st = svy_weight_too_late(w, err);
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
    svy_status st = svy_weight_too_late(w, err);
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
