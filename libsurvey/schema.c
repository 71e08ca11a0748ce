/* Variables and their metadata. */
#include "svy_private.h"
#include "hashmap_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <survey/schema.h>

typedef struct label_entry {
    svy_value value; /* value.str owned */
    char *label;
} label_entry;

typedef struct missing_def {
    double lo, hi;
    char *str; /* string variables: the missing value */
} missing_def;

struct svy_var {
    char *name;
    char *label;
    char *format;
    char *labelset;
    svy_var_type type;
    size_t width;
    svy_date_kind date_kind;
    int date_kind_set;
    label_entry *labels;
    size_t nlabels, labels_cap;
    missing_def missing[4];
    size_t nmissing;
    struct svy_schema *owner; /* whose name index to rebuild on a rename */
};

struct svy_schema {
    svy_var **vars;
    size_t nvars, cap;
    char *format, *label, *encoding;
    long long nrows;
    svy_date_origin origin;
    /* Names to indexes once there are more than a few: a linear scan made
     * a header of 100,000 columns quadratic (a minute for one row).  Names
     * are unique, so the table's ids are the indexes. */
    svy_strtab index;
    int indexed;
};

#define INDEX_FROM 16

/* (Re)build the name index; on failure the schema falls back to scanning. */
static void index_build(svy_schema *s)
{
    svy_strtab_free(&s->index);
    s->indexed = 0;
    if (s->nvars < INDEX_FROM)
        return;
    for (size_t i = 0; i < s->nvars; i++)
        if (svy_strtab_intern(&s->index, s->vars[i]->name, strlen(s->vars[i]->name), NULL) != (long)i) {
            svy_strtab_free(&s->index);
            return;
        }
    s->indexed = 1;
}

static const char empty[] = "";

svy_schema *svy_schema_new(void)
{
    svy_schema *s = calloc(1, sizeof *s);
    if (s)
        s->nrows = -1;
    return s;
}

static void var_free(svy_var *v)
{
    if (!v)
        return;
    free(v->name);
    free(v->label);
    free(v->format);
    free(v->labelset);
    for (size_t i = 0; i < v->nlabels; i++) {
        free((char *)v->labels[i].value.str);
        free(v->labels[i].label);
    }
    free(v->labels);
    for (size_t i = 0; i < v->nmissing; i++)
        free(v->missing[i].str);
    free(v);
}

void svy_schema_free(svy_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nvars; i++)
        var_free(s->vars[i]);
    free(s->vars);
    free(s->format);
    free(s->label);
    free(s->encoding);
    svy_strtab_free(&s->index);
    free(s);
}

/* Replace *dst with a copy of src ("" and NULL both clear it). */
static svy_status set_str(char **dst, const char *src)
{
    char *c = NULL;
    if (src && *src) {
        c = svy_strdup(src);
        if (!c)
            return SVY_E_NOMEM;
    }
    free(*dst);
    *dst = c;
    return SVY_OK;
}

size_t svy_schema_nvars(const svy_schema *s) { return s->nvars; }
const svy_var *svy_schema_var(const svy_schema *s, size_t i) { return i < s->nvars ? s->vars[i] : NULL; }
svy_var *svy_schema_var_mut(svy_schema *s, size_t i) { return i < s->nvars ? s->vars[i] : NULL; }

long svy_schema_find(const svy_schema *s, const char *name)
{
    if (s->indexed)
        return svy_strtab_find(&s->index, name, strlen(name));
    for (size_t i = 0; i < s->nvars; i++)
        if (strcmp(s->vars[i]->name, name) == 0)
            return (long)i;
    return -1;
}

const char *svy_schema_format(const svy_schema *s) { return s->format ? s->format : empty; }
const char *svy_schema_label(const svy_schema *s) { return s->label ? s->label : empty; }
const char *svy_schema_encoding(const svy_schema *s) { return s->encoding ? s->encoding : empty; }
long long svy_schema_nrows(const svy_schema *s) { return s->nrows; }
svy_date_origin svy_schema_date_origin(const svy_schema *s) { return s->origin; }
svy_status svy_schema_set_format(svy_schema *s, const char *f) { return set_str(&s->format, f); }
svy_status svy_schema_set_label(svy_schema *s, const char *l) { return set_str(&s->label, l); }
svy_status svy_schema_set_encoding(svy_schema *s, const char *e) { return set_str(&s->encoding, e); }
void svy_schema_set_nrows(svy_schema *s, long long n) { s->nrows = n; }
void svy_schema_set_date_origin(svy_schema *s, svy_date_origin o) { s->origin = o; }

svy_var *svy_schema_add(svy_schema *s, const char *name, svy_var_type type, svy_err *err)
{
    if (!name || !*name) {
        svy_err_set(err, SVY_E_USAGE, NULL, 0, (long long)s->nvars + 1, NULL, "empty variable name");
        return NULL;
    }
    if (svy_schema_find(s, name) >= 0) {
        svy_err_set(err, SVY_E_USAGE, NULL, 0, (long long)s->nvars + 1, name,
                    "duplicate variable name '%s'", name);
        return NULL;
    }
    if (!svy_grow((void **)&s->vars, &s->cap, s->nvars + 1, sizeof *s->vars))
        goto nomem;
    svy_var *v = calloc(1, sizeof *v);
    if (!v)
        goto nomem;
    v->name = svy_strdup(name);
    if (!v->name) {
        free(v);
        goto nomem;
    }
    v->type = type;
    v->owner = s;
    s->vars[s->nvars++] = v;
    if (s->indexed) {
        if (svy_strtab_intern(&s->index, v->name, strlen(v->name), NULL) != (long)s->nvars - 1)
            index_build(s);
    } else if (s->nvars == INDEX_FROM) {
        index_build(s);
    }
    return v;
nomem:
    svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, name, "out of memory adding variable");
    return NULL;
}

static svy_var *var_clone(const svy_var *v)
{
    svy_var *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->type = v->type;
    c->width = v->width;
    c->date_kind = v->date_kind;
    c->date_kind_set = v->date_kind_set;
    if (set_str(&c->name, v->name) || set_str(&c->label, v->label) ||
        set_str(&c->format, v->format) || set_str(&c->labelset, v->labelset))
        goto fail;
    if (v->nlabels) {
        c->labels = svy_calloc(v->nlabels, sizeof *c->labels);
        if (!c->labels)
            goto fail;
        c->labels_cap = v->nlabels;
        for (size_t i = 0; i < v->nlabels; i++) {
            label_entry *d = &c->labels[i];
            d->value = v->labels[i].value;
            d->value.str = NULL;
            d->label = svy_strdup(v->labels[i].label);
            if (v->labels[i].value.str)
                d->value.str = svy_strndup(v->labels[i].value.str, v->labels[i].value.len);
            c->nlabels++;
            if (!d->label || (v->labels[i].value.str && !d->value.str))
                goto fail;
        }
    }
    for (size_t i = 0; i < v->nmissing; i++) {
        c->missing[i] = v->missing[i];
        c->missing[i].str = NULL;
        c->nmissing++;
        if (v->missing[i].str && !(c->missing[i].str = svy_strdup(v->missing[i].str)))
            goto fail;
    }
    return c;
fail:
    var_free(c);
    return NULL;
}

/* A new schema with s's header and copies of the variables idx[0..n-1], or
 * of all of them in order when idx is NULL. */
static svy_schema *schema_copy(const svy_schema *s, const long *idx, size_t n)
{
    svy_schema *c = svy_schema_new();
    if (!c)
        return NULL;
    c->nrows = s->nrows;
    c->origin = s->origin;
    if (set_str(&c->format, s->format) || set_str(&c->label, s->label) ||
        set_str(&c->encoding, s->encoding))
        goto fail;
    if (n) {
        c->vars = svy_calloc(n, sizeof *c->vars);
        if (!c->vars)
            goto fail;
        c->cap = n;
        for (size_t i = 0; i < n; i++) {
            if (!(c->vars[i] = var_clone(s->vars[idx ? (size_t)idx[i] : i])))
                goto fail;
            c->vars[i]->owner = c;
            c->nvars++;
        }
    }
    index_build(c);
    return c;
fail:
    svy_schema_free(c);
    return NULL;
}

svy_schema *svy_schema_clone(const svy_schema *s) { return schema_copy(s, NULL, s->nvars); }
svy_schema *svy_schema_project(const svy_schema *s, const long *idx, size_t n) { return schema_copy(s, idx, n); }

const char *svy_var_name(const svy_var *v) { return v->name; }
svy_var_type svy_var_type_of(const svy_var *v) { return v->type; }
const char *svy_var_label(const svy_var *v) { return v->label ? v->label : empty; }
const char *svy_var_format(const svy_var *v) { return v->format ? v->format : empty; }
size_t svy_var_width(const svy_var *v) { return v->width; }
const char *svy_var_labelset_name(const svy_var *v) { return v->labelset ? v->labelset : empty; }

svy_status svy_var_set_name(svy_var *v, const char *name)
{
    if (!name || !*name)
        return SVY_E_USAGE;
    svy_status st = set_str(&v->name, name);
    if (v->owner && v->owner->indexed)
        index_build(v->owner);
    return st;
}
void svy_var_set_type(svy_var *v, svy_var_type type) { v->type = type; }
svy_status svy_var_set_label(svy_var *v, const char *l) { return set_str(&v->label, l); }
svy_status svy_var_set_format(svy_var *v, const char *f) { return set_str(&v->format, f); }
void svy_var_set_width(svy_var *v, size_t w) { v->width = w; }
svy_status svy_var_set_labelset_name(svy_var *v, const char *n) { return set_str(&v->labelset, n); }

void svy_var_set_date_kind(svy_var *v, svy_date_kind k)
{
    v->date_kind = k;
    v->date_kind_set = 1;
}

/* Case-insensitive prefix test for format names. */
static int fmt_is(const char *f, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < n; i++) {
        char c = f[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c != prefix[i])
            return 0;
    }
    return 1;
}

/* What a display format says, across Stata (%td...), SPSS (DATE11...) and
 * SAS (DATE9., DATETIME20. ...) conventions. */
static svy_date_kind kind_from_format(const char *f)
{
    if (!f || !*f)
        return SVY_DATE_NONE;
    if (f[0] == '%') {
        const char *p = f + 1;
        if (*p == '-')
            p++;
        if (p[0] == 't' || p[0] == 'd') {
            if (p[0] == 'd') /* old Stata %d is %td */
                return SVY_DATE_DAY;
            switch (p[1]) {
            case 'd': return SVY_DATE_DAY;
            case 'c': case 'C':
                /* %tcHH:MM:SS shows no date: a time of day. */
                if ((p[2] == 'H' && p[3] == 'H') || (p[2] == 'h' && p[3] == 'h'))
                    return SVY_DATE_TIME;
                return SVY_DATE_DATETIME;
            case 'w': return SVY_DATE_WEEK;
            case 'm': return SVY_DATE_MONTH;
            case 'q': return SVY_DATE_QUARTER;
            case 'h': return SVY_DATE_HALFYEAR;
            case 'y': return SVY_DATE_YEAR;
            default: return SVY_DATE_NONE;
            }
        }
        return SVY_DATE_NONE;
    }
    if (fmt_is(f, "DATETIME") || fmt_is(f, "YMDHMS") || fmt_is(f, "E8601DT") ||
        fmt_is(f, "IS8601DT") || fmt_is(f, "DATEAMPM"))
        return SVY_DATE_DATETIME;
    if (fmt_is(f, "DTIME") || fmt_is(f, "TIME") || fmt_is(f, "MTIME") || fmt_is(f, "HHMM") ||
        fmt_is(f, "E8601TM") || fmt_is(f, "TOD"))
        return SVY_DATE_TIME;
    if (fmt_is(f, "MONTH"))
        return SVY_DATE_MONTH_NAME;
    if (fmt_is(f, "WKDAY"))
        return SVY_DATE_WEEKDAY;
    if (fmt_is(f, "MOYR") || fmt_is(f, "MONYY") || fmt_is(f, "YYMON"))
        return SVY_DATE_MONTH;
    if (fmt_is(f, "QYR") || fmt_is(f, "YYQ"))
        return SVY_DATE_QUARTER;
    if (fmt_is(f, "WKYR"))
        return SVY_DATE_WEEK;
    if (fmt_is(f, "DATE") || fmt_is(f, "ADATE") || fmt_is(f, "EDATE") || fmt_is(f, "SDATE") ||
        fmt_is(f, "JDATE") || fmt_is(f, "MMDDYY") || fmt_is(f, "DDMMYY") || fmt_is(f, "YYMMDD") ||
        fmt_is(f, "E8601DA") || fmt_is(f, "IS8601DA") || fmt_is(f, "WEEKDATE") ||
        fmt_is(f, "WORDDATE") || fmt_is(f, "MINGUO") || fmt_is(f, "NLDATE"))
        return SVY_DATE_DAY;
    return SVY_DATE_NONE;
}

svy_date_kind svy_var_date_kind(const svy_var *v)
{
    if (v->date_kind_set)
        return v->date_kind;
    if (v->type != SVY_VAR_NUMERIC)
        return SVY_DATE_NONE;
    return kind_from_format(v->format);
}

size_t svy_var_nlabels(const svy_var *v) { return v->nlabels; }
const svy_value *svy_var_label_value(const svy_var *v, size_t i) { return i < v->nlabels ? &v->labels[i].value : NULL; }
const char *svy_var_label_text(const svy_var *v, size_t i) { return i < v->nlabels ? v->labels[i].label : NULL; }

static svy_status add_label(svy_var *v, svy_value val, const char *strval, const char *label)
{
    if (!svy_grow((void **)&v->labels, &v->labels_cap, v->nlabels + 1, sizeof *v->labels))
        return SVY_E_NOMEM;
    label_entry *e = &v->labels[v->nlabels];
    e->value = val;
    e->value.str = NULL;
    e->label = svy_strdup(label ? label : "");
    if (!e->label)
        return SVY_E_NOMEM;
    if (strval) {
        char *c = svy_strdup(strval);
        if (!c) {
            free(e->label);
            return SVY_E_NOMEM;
        }
        e->value.str = c;
        e->value.len = strlen(c);
    }
    v->nlabels++;
    return SVY_OK;
}

svy_status svy_var_add_label_num(svy_var *v, double value, const char *label)
{
    svy_value val = {.num = value, .type = SVY_VAL_NUM};
    return add_label(v, val, NULL, label);
}

svy_status svy_var_add_label_tagged(svy_var *v, char tag, const char *label)
{
    svy_value val = {.num = NAN, .type = SVY_VAL_NUM, .missing = SVY_MISS_TAGGED, .tag = tag};
    return add_label(v, val, NULL, label);
}

svy_status svy_var_add_label_str(svy_var *v, const char *value, const char *label)
{
    svy_value val = {.type = SVY_VAL_STR};
    return add_label(v, val, value ? value : "", label);
}

const char *svy_var_label_for(const svy_var *v, const svy_value *val)
{
    if (!v->nlabels)
        return NULL;
    if (val->missing == SVY_MISS_TAGGED) {
        for (size_t i = 0; i < v->nlabels; i++)
            if (v->labels[i].value.missing == SVY_MISS_TAGGED && v->labels[i].value.tag == val->tag)
                return v->labels[i].label;
        return NULL;
    }
    if (val->missing == SVY_MISS_SYSTEM)
        return NULL;
    if (val->type == SVY_VAL_STR) {
        for (size_t i = 0; i < v->nlabels; i++) {
            const svy_value *lv = &v->labels[i].value;
            if (lv->type == SVY_VAL_STR && lv->len == val->len && memcmp(lv->str, val->str, val->len) == 0)
                return v->labels[i].label;
        }
        /* An untyped (CSV) cell may still hold a labelled number. */
        double d;
        if (!svy_parse_number(val->str, val->len, &d))
            return NULL;
        svy_value nv = {.num = d, .type = SVY_VAL_NUM};
        return svy_var_label_for(v, &nv);
    }
    for (size_t i = 0; i < v->nlabels; i++) {
        const svy_value *lv = &v->labels[i].value;
        if (lv->type == SVY_VAL_NUM && lv->missing != SVY_MISS_TAGGED && lv->num == val->num)
            return v->labels[i].label;
    }
    return NULL;
}

int svy_var_code_for(const svy_var *v, const char *label, double *code)
{
    for (size_t i = 0; i < v->nlabels; i++) {
        const svy_value *lv = &v->labels[i].value;
        if (lv->type == SVY_VAL_NUM && lv->missing == SVY_MISS_NONE &&
            strcmp(v->labels[i].label, label) == 0) {
            *code = lv->num;
            return 1;
        }
    }
    return 0;
}

size_t svy_var_nmissing(const svy_var *v) { return v->nmissing; }

void svy_var_missing_range(const svy_var *v, size_t i, double *lo, double *hi)
{
    *lo = v->missing[i].lo;
    *hi = v->missing[i].hi;
}

const char *svy_var_missing_str(const svy_var *v, size_t i) { return v->missing[i].str; }

svy_status svy_var_add_missing_range(svy_var *v, double lo, double hi)
{
    if (v->nmissing >= 4 || lo > hi)
        return SVY_E_USAGE;
    v->missing[v->nmissing++] = (missing_def){.lo = lo, .hi = hi};
    return SVY_OK;
}

svy_status svy_var_add_missing_str(svy_var *v, const char *value)
{
    if (v->nmissing >= 4)
        return SVY_E_USAGE;
    char *c = svy_strdup(value);
    if (!c)
        return SVY_E_NOMEM;
    v->missing[v->nmissing++] = (missing_def){.lo = NAN, .hi = NAN, .str = c};
    return SVY_OK;
}

int svy_var_is_user_missing(const svy_var *v, const svy_value *val)
{
    if (!v->nmissing || val->missing == SVY_MISS_SYSTEM || val->missing == SVY_MISS_TAGGED)
        return 0;
    for (size_t i = 0; i < v->nmissing; i++) {
        const missing_def *m = &v->missing[i];
        if (m->str) {
            if (val->type == SVY_VAL_STR && strlen(m->str) == val->len &&
                memcmp(m->str, val->str, val->len) == 0)
                return 1;
            continue;
        }
        double d;
        if (svy_value_number(val, &d) || (val->missing == SVY_MISS_USER && val->type == SVY_VAL_NUM && (d = val->num, 1)))
            if (d >= m->lo && d <= m->hi)
                return 1;
    }
    return 0;
}
