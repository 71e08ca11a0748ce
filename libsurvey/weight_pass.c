/* The passes over the data: the first files each row into its weighting
 * cell (margin categories, nonresponse class, respondent flag) and ends in
 * the fit; the second looks each row's final weight up. */
#include "weight_private.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/reader.h>
#include <survey/weight.h>

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
    uint64_t key;
    svy_textcache_ent *ent = svy_textcache_slot(&v->vcache, val, &key);
    if (ent && ent->key == key)
        return ent->id;
    long c = value_cat_slow(v, svy_schema_var(schema, (size_t)v->col), val);
    if (c >= 0 && ent)
        svy_textcache_put(ent, key, (uint32_t)c);
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

/* The body of svy_weight_add_row; cell and start (may be NULL) get the
 * row's cell and starting weight for weight_rep.c.  Forced inline so the
 * plain path compiles to what it was, the NULL tests folded away. */
static inline __attribute__((always_inline)) svy_status add_row(svy_weight *w, const svy_row *row, size_t *cell, double *start, svy_err *err)
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
    if (cell) {
        *cell = (size_t)e;
        *start = w0;
    }
    return svy_wcell_add(w, (size_t)e, w0, err);
}

svy_status svy_weight_add_row(svy_weight *w, const svy_row *row, svy_err *err)
{
    return add_row(w, row, NULL, NULL, err);
}

svy_status svy_weight_add_row_cell(svy_weight *w, const svy_row *row, size_t *cell, double *start, svy_err *err)
{
    return add_row(w, row, cell, start, err);
}

svy_status svy_weight_fit(svy_weight *w, svy_err *err)
{
    SVY_FAIL_IF(!w->begun || w->fitted, err, SVY_E_USAGE, "fit needs one first pass");
    w->fitted = 1;
    SVY_FAIL_IF(w->rep.rows == 0, err, SVY_E_DATA, "%s has no rows to weight", w->source);
    return svy_weight_fit_cells(w, err);
}

/* ---- second pass --------------------------------------------------------- */

static inline __attribute__((always_inline)) svy_status lookup(const svy_weight *w, const svy_row *row, double *weight, size_t *cell,
                                double *start, svy_err *err)
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
    if (start)
        *start = w0;
    return SVY_OK;
}

svy_status svy_weight_lookup_cell(const svy_weight *w, const svy_row *row, double *weight, size_t *cell,
                                  svy_err *err)
{
    return lookup(w, row, weight, cell, NULL, err);
}

svy_status svy_weight_lookup_start(const svy_weight *w, const svy_row *row, double *weight, size_t *cell,
                                   double *start, svy_err *err)
{
    return lookup(w, row, weight, cell, start, err);
}

svy_status svy_weight_lookup(const svy_weight *w, const svy_row *row, double *weight, svy_err *err)
{
    return svy_weight_lookup_cell(w, row, weight, NULL, err);
}
