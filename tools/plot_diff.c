/* svy-plot's chart of differences (plot_diff.h). */
#include "plot_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *cell_dup(const svy_value *v)
{
    char buf[SVY_DTOA_MAX];
    const char *s = "";
    if (!svy_value_is_missing(v)) {
        if (v->type == SVY_VAL_STR) {
            s = v->str;
        } else {
            svy_dtoa(v->num, buf);
            s = buf;
        }
    }
    return strdup(s);
}

void plot_diff_detect(plot_diff *d, const svy_schema *s, long ivar, const char *stat_filter)
{
    memset(d, 0, sizeof *d);
    d->iref = svy_schema_find(s, "reference");
    d->on = d->iref >= 0 && (!stat_filter || strcmp(stat_filter, "difference") == 0);
    d->nby = ivar > 0 ? (size_t)ivar : 0;
    if (d->on && (!(d->has_ref = calloc(d->nby ? d->nby : 1, 1)) ||
                  !(d->seen = calloc(d->nby ? d->nby : 1, sizeof *d->seen))))
        d->on = 0;
}

static int seen_has(const struct plot_dvals *s, const char *t)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], t) == 0)
            return 1;
    return 0;
}

/* An estimate's row: its by cells among the columns' distinct values. */
static int note_estimate(plot_diff *d, const svy_row *row)
{
    d->estimates++;
    for (size_t k = 0; k < d->nby; k++) {
        struct plot_dvals *s = &d->seen[k];
        char *t = cell_dup(&row->vals[k]);
        if (!t)
            return -1;
        if (seen_has(s, t)) {
            free(t);
            continue;
        }
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 8;
            char **v = realloc(s->v, cap * sizeof *v);
            if (!v) {
                free(t);
                return -1;
            }
            s->v = v;
            s->cap = cap;
        }
        s->v[s->n++] = t;
    }
    return 0;
}

int plot_diff_skip(plot_diff *d, const svy_row *row)
{
    const svy_value *rv = &row->vals[d->iref];
    if (svy_value_is_missing(rv) || (rv->type == SVY_VAL_STR && rv->len == 0))
        return note_estimate(d, row) < 0 ? -1 : 1;
    return 0;
}

int plot_diff_keep(plot_diff *d, const svy_row *row, long ix, long icolor, long ifacet, double est, double lo,
                   double hi, int flagged)
{
    const svy_value *rv = &row->vals[d->iref];
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 16;
        plot_drow *r = realloc(d->rows, cap * sizeof *r);
        if (!r)
            return -1;
        d->rows = r;
        d->cap = cap;
    }
    plot_drow *r = &d->rows[d->n];
    memset(r, 0, sizeof *r);
    r->est = est;
    r->lo = lo;
    r->hi = hi;
    r->flagged = flagged;
    r->row = row->index;
    r->ref = cell_dup(rv);
    r->x = cell_dup(&row->vals[ix]);
    r->color = icolor >= 0 ? cell_dup(&row->vals[icolor]) : NULL;
    r->facet = ifacet >= 0 ? cell_dup(&row->vals[ifacet]) : NULL;
    r->by = calloc(d->nby ? d->nby : 1, sizeof *r->by);
    d->n++; /* freed with the others from here on */
    if (!r->ref || !r->x || (icolor >= 0 && !r->color) || (ifacet >= 0 && !r->facet) || !r->by)
        return -1;
    for (size_t k = 0; k < d->nby; k++) {
        if (!(r->by[k] = cell_dup(&row->vals[k])))
            return -1;
        if (strcmp(r->by[k], r->ref) == 0)
            d->has_ref[k] = 1;
    }
    return 1;
}

static int candidate(const plot_diff *d, size_t k)
{
    if (d->has_ref[k])
        return 0;
    for (size_t i = 0; d->estimates && i < d->n; i++)
        if (!seen_has(&d->seen[k], d->rows[i].ref))
            return 0;
    return 1;
}

long plot_diff_column(const plot_diff *d, long ix, long icolor, long ifacet)
{
    long mapped[3] = {ix, icolor, ifacet};
    for (int i = 0; i < 3; i++)
        if (mapped[i] >= 0 && (size_t)mapped[i] < d->nby && candidate(d, (size_t)mapped[i]))
            return mapped[i];
    for (size_t k = d->nby; k-- > 0;)
        if (candidate(d, k))
            return (long)k;
    return -1;
}

char *plot_diff_label(const char *level, const char *ref)
{
    size_t len = strlen(level) + strlen(ref) + 8;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s \xE2\x88\x92 %s", level, ref); /* U+2212 MINUS SIGN */
    return s;
}

void plot_diff_free(plot_diff *d)
{
    for (size_t i = 0; i < d->n; i++) {
        plot_drow *r = &d->rows[i];
        free(r->x);
        free(r->color);
        free(r->facet);
        free(r->ref);
        for (size_t k = 0; r->by && k < d->nby; k++)
            free(r->by[k]);
        free(r->by);
    }
    free(d->rows);
    free(d->has_ref);
    for (size_t k = 0; d->seen && k < d->nby; k++) {
        for (size_t i = 0; i < d->seen[k].n; i++)
            free(d->seen[k].v[i]);
        free(d->seen[k].v);
    }
    free(d->seen);
    memset(d, 0, sizeof *d);
}
