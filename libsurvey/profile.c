/* Column profiles (see survey/profile.h). */
#include "svy_private.h"
#include "hashmap_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <survey/profile.h>

typedef struct col {
    svy_col_profile p;
    svy_var_type type;
    /* Distinct valid values: numbers keyed by their 8 bytes while the
     * column is all numbers, texts by their bytes once it is not. */
    svy_strtab seen;
} col;

struct svy_profile {
    svy_schema *schema;
    col *cols;
    size_t ncols;
    size_t max_distinct;
};

svy_profile *svy_profile_new(const svy_schema *schema, size_t max_distinct)
{
    svy_profile *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->schema = svy_schema_clone(schema);
    p->ncols = svy_schema_nvars(schema);
    p->cols = svy_calloc(p->ncols ? p->ncols : 1, sizeof *p->cols);
    p->max_distinct = max_distinct;
    if (!p->schema || !p->cols) {
        svy_profile_free(p);
        return NULL;
    }
    for (size_t i = 0; i < p->ncols; i++) {
        col *c = &p->cols[i];
        c->type = svy_var_type_of(svy_schema_var(schema, i));
        c->p.min = INFINITY;
        c->p.max = -INFINITY;
        c->p.all_numeric = c->type != SVY_VAR_STRING;
        c->p.all_integer = 1;
        c->p.u_integer = 1;
    }
    return p;
}

void svy_profile_free(svy_profile *p)
{
    if (!p)
        return;
    if (p->cols)
        for (size_t i = 0; i < p->ncols; i++)
            svy_strtab_free(&p->cols[i].seen);
    free(p->cols);
    svy_schema_free(p->schema);
    free(p);
}

const svy_schema *svy_profile_schema(const svy_profile *p) { return p->schema; }
size_t svy_profile_ncols(const svy_profile *p) { return p->ncols; }
const svy_col_profile *svy_profile_col(const svy_profile *p, size_t i) { return &p->cols[i].p; }

static int is_whole(double d)
{
    return d == floor(d) && fabs(d) < 9007199254740992.0;
}

/* Count a distinct value; 0 when out of memory. */
static int distinct_add(col *c, size_t bound, const void *key, size_t len)
{
    if (c->p.distinct_full || bound == 0)
        return 1;
    int added;
    if (svy_strtab_intern(&c->seen, key, len, &added) < 0)
        return 0;
    if (added && ++c->p.distinct >= bound)
        c->p.distinct_full = 1;
    return 1;
}

/* A valid value. */
static int add_valid(svy_profile *p, size_t i, const svy_value *v)
{
    col *c = &p->cols[i];
    c->p.valid++;
    double d;
    if (c->type == SVY_VAR_STRING)
        return distinct_add(c, p->max_distinct, v->str, v->len);
    if (!svy_value_number(v, &d)) {
        if (c->p.all_numeric && c->p.distinct) {
            /* Numbers seen so far were keyed by their bytes: count afresh as text from here. */
            svy_strtab_free(&c->seen);
            c->p.distinct = 0;
        }
        c->p.all_numeric = 0;
        return distinct_add(c, p->max_distinct, v->str, v->len);
    }
    if (d < c->p.min)
        c->p.min = d;
    if (d > c->p.max)
        c->p.max = d;
    if (c->p.all_integer && !is_whole(d))
        c->p.all_integer = 0;
    if (!c->p.unlabelled) {
        const svy_var *var = svy_schema_var(p->schema, i);
        svy_value nv = {.type = SVY_VAL_NUM, .num = d};
        if (svy_var_nlabels(var) && !svy_var_label_for(var, &nv))
            c->p.unlabelled = 1;
    }
    if (!c->p.all_numeric)
        return distinct_add(c, p->max_distinct, v->str, v->len);
    if (d == 0)
        d = 0; /* -0 and 0 are one value */
    return distinct_add(c, p->max_distinct, &d, sizeof d);
}

static void add_missing(col *c, const svy_value *v)
{
    c->p.missing++;
    if (v->missing == SVY_MISS_TAGGED)
        c->p.tagged++;
    if (v->missing != SVY_MISS_USER || v->type != SVY_VAL_NUM)
        return;
    double x = v->num;
    if (c->p.u_integer && !is_whole(x))
        c->p.u_integer = 0;
    if (x < c->p.umin)
        c->p.umin = x;
    if (x > c->p.umax)
        c->p.umax = x;
}

/* The text side: width, and numbers among non-empty texts. */
static void add_text(col *c, const svy_value *v, long long row)
{
    if (v->len > c->p.width)
        c->p.width = v->len;
    double d;
    if (!v->len || v->missing != SVY_MISS_NONE)
        return;
    if (svy_value_number(v, &d)) {
        c->p.nnum++;
        return;
    }
    if (c->p.ntext < SVY_PROFILE_SAMPLES) {
        char *t = c->p.text[c->p.ntext];
        c->p.text_row[c->p.ntext] = row;
        size_t n = v->len < sizeof c->p.text[0] - 1 ? v->len : sizeof c->p.text[0] - 1;
        while (n && n < v->len && ((unsigned char)v->str[n] & 0xC0) == 0x80)
            n--; /* a whole character */
        memcpy(t, v->str, n);
        t[n] = '\0';
    }
    c->p.ntext++;
}

svy_status svy_profile_add_row(svy_profile *p, const svy_row *row, svy_err *err)
{
    for (size_t i = 0; i < row->nvals && i < p->ncols; i++) {
        const svy_value *v = &row->vals[i];
        col *c = &p->cols[i];
        if (v->type == SVY_VAL_STR)
            add_text(c, v, row->index);
        if (svy_value_is_missing(v) || (c->type == SVY_VAR_UNTYPED && v->type == SVY_VAL_STR && v->len == 0))
            add_missing(c, v);
        else if (!add_valid(p, i, v))
            return svy_err_set(err, SVY_E_NOMEM, NULL, row->index, (long long)i + 1, NULL, "out of memory");
    }
    return SVY_OK;
}

size_t svy_profile_stata_bytes(const svy_col_profile *c)
{
    if (!c->all_integer || !c->u_integer)
        return 0;
    /* The ranges all hold 0, so a column without numbers is a byte. */
    double lo = c->min < c->umin ? c->min : c->umin, hi = c->max > c->umax ? c->max : c->umax;
    if (c->valid == 0 || c->min > c->max)
        lo = c->umin, hi = c->umax;
    if (lo > 0)
        lo = 0;
    if (hi < 0)
        hi = 0;
    /* Stata's integer ranges (above them are its missing codes). */
    return lo >= -127 && hi <= 100                      ? 1
           : lo >= -32767 && hi <= 32740                 ? 2
           : lo >= -2147483647.0 && hi <= 2147483620.0 ? 4
                                                         : 0;
}

void svy_profile_type_untyped(const svy_profile *p, svy_schema *schema)
{
    size_t n = svy_profile_ncols(p);
    for (size_t i = 0; i < n && i < svy_schema_nvars(schema); i++) {
        svy_var *v = svy_schema_var_mut(schema, i);
        const svy_col_profile *c = svy_profile_col(p, i);
        if (svy_var_type_of(v) != SVY_VAR_UNTYPED)
            continue;
        if (c->ntext == 0) {
            svy_var_set_type(v, SVY_VAR_NUMERIC);
            svy_var_set_width(v, svy_profile_stata_bytes(c));
        } else {
            svy_var_set_type(v, SVY_VAR_STRING);
            svy_var_set_width(v, c->width ? c->width : 1);
        }
    }
}
