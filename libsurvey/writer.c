/* The writer front: options, atomic output, dispatch to a format; CSV/TSV here. */
#include "writer_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <survey/csv.h>

svy_format svy_format_from_name(const char *name)
{
    static const struct { const char *name; svy_format fmt; } names[] = {
        {"csv", SVY_FMT_CSV}, {"tsv", SVY_FMT_TSV}, {"dta", SVY_FMT_DTA},
        {"sav", SVY_FMT_SAV}, {"zsav", SVY_FMT_ZSAV},
    };
    if (!name)
        return SVY_FMT_UNKNOWN;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].fmt;
    return SVY_FMT_UNKNOWN;
}

svy_format svy_format_from_path(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (!dot || (slash && dot < slash))
        return SVY_FMT_UNKNOWN;
    return svy_format_from_name(dot + 1);
}

svy_writer *svy_writer_new(svy_format fmt)
{
    const svy_writer_ops *ops;
    switch (fmt) {
    case SVY_FMT_CSV:
    case SVY_FMT_TSV:
        ops = &svy_csv_writer_ops;
        break;
    case SVY_FMT_DTA:
    case SVY_FMT_SAV:
    case SVY_FMT_ZSAV:
        ops = &svy_rs_writer_ops;
        break;
    default:
        return NULL;
    }
    svy_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->fmt = fmt;
    w->ops = ops;
    w->iso_dates = 1;
    w->row_count = -1;
    w->timestamp = -1;
    return w;
}

void svy_writer_free(svy_writer *w)
{
    if (!w)
        return;
    if (w->opened && !w->closed)
        w->ops->release(w);
    svy_outfile_abort(w->out);
    svy_schema_free(w->schema);
    free(w->name);
    free(w);
}

void svy_writer_set_labels(svy_writer *w, int on) { w->labels = on; }
void svy_writer_set_missing_codes(svy_writer *w, int on) { w->missing_codes = on; }
void svy_writer_set_iso_dates(svy_writer *w, int on) { w->iso_dates = on; }
void svy_writer_set_row_count(svy_writer *w, long long n) { w->row_count = n; }

/* Labels and missing codes would write something else than the line. */
static inline int copies_lines(const svy_writer *w)
{
    return w->fmt == SVY_FMT_CSV && !w->labels && !w->missing_codes;
}

int svy_writer_copies_lines(const svy_writer *w) { return copies_lines(w); }
void svy_writer_set_timestamp(svy_writer *w, long long t) { w->timestamp = t < 0 ? -1 : t; }

static svy_status start(svy_writer *w, const char *name, const svy_schema *schema, svy_err *err)
{
    if (w->opened)
        return svy_err_set(err, SVY_E_USAGE, name, 0, 0, NULL, "writer already open");
    w->schema = svy_schema_clone(schema);
    w->name = svy_strdup(name);
    if (!w->schema || !w->name)
        return svy_err_set(err, SVY_E_NOMEM, name, 0, 0, NULL, "out of memory");
    svy_status st = w->ops->open(w, err);
    if (st == SVY_OK)
        w->opened = 1;
    else
        w->ops->release(w); /* what open allocated before it failed (fault injection found it leaked) */
    return st;
}

svy_status svy_writer_open(svy_writer *w, const char *path, const svy_schema *schema, svy_err *err)
{
    svy_status st = svy_outfile_open(path, &w->out, err);
    if (st)
        return st;
    w->f = svy_outfile_stream(w->out);
    return start(w, svy_outfile_path(w->out), schema, err);
}

svy_status svy_writer_open_stream(svy_writer *w, FILE *f, const char *name, const svy_schema *schema,
                                  svy_err *err)
{
    w->f = f;
    return start(w, name ? name : "<stream>", schema, err);
}

svy_status svy_writer_write(svy_writer *w, const svy_row *row, svy_err *err)
{
    if (!w->opened || w->closed)
        return svy_err_set(err, SVY_E_USAGE, w->name, 0, 0, NULL, "writer is not open");
    if (row->nvals != svy_schema_nvars(w->schema))
        return svy_err_set(err, SVY_E_USAGE, w->name, w->rows + 1, 0, NULL,
                           "row has %zu values, the output has %zu variables", row->nvals,
                           svy_schema_nvars(w->schema));
    svy_status st = w->ops->write(w, row, err);
    if (st == SVY_OK)
        w->rows++;
    return st;
}

svy_status svy_writer_close(svy_writer *w, svy_err *err)
{
    if (!w->opened || w->closed)
        return svy_err_set(err, SVY_E_USAGE, w->name, 0, 0, NULL, "writer is not open");
    svy_status st = w->ops->close(w, err);
    w->ops->release(w);
    w->closed = 1;
    if (st)
        return st; /* svy_writer_free() removes the temporary file */
    if (w->out) {
        svy_outfile *o = w->out;
        w->out = NULL;
        return svy_outfile_commit(o, err);
    }
    if (fflush(w->f) != 0 || ferror(w->f)) {
        int e = errno;
        st = svy_err_sys(err, e, w->name, 0, "write error");
    }
    return st;
}

/* ---- CSV and TSV ---- */

typedef struct csv_impl {
    svy_csv_out *o;
    const svy_var **vars;
    svy_date_kind *dates;
} csv_impl;

static svy_status csv_open(svy_writer *w, svy_err *err)
{
    csv_impl *c = calloc(1, sizeof *c);
    size_t n = svy_schema_nvars(w->schema);
    if (!c)
        return svy_err_set(err, SVY_E_NOMEM, w->name, 0, 0, NULL, "out of memory");
    w->impl = c;
    c->o = svy_csv_out_new(w->f, w->fmt == SVY_FMT_TSV ? '\t' : ',');
    c->vars = svy_calloc(n, sizeof *c->vars);
    c->dates = svy_calloc(n, sizeof *c->dates);
    if (!c->o || !c->vars || !c->dates)
        return svy_err_set(err, SVY_E_NOMEM, w->name, 0, 0, NULL, "out of memory");
    svy_date_origin origin = svy_schema_date_origin(w->schema);
    for (size_t i = 0; i < n; i++) {
        c->vars[i] = svy_schema_var(w->schema, i);
        c->dates[i] = w->iso_dates && origin != SVY_ORIGIN_NONE ? svy_var_date_kind(c->vars[i]) : SVY_DATE_NONE;
        svy_csv_out_cstr(c->o, svy_var_name(c->vars[i]));
    }
    svy_csv_out_end_row(c->o);
    return SVY_OK;
}

static void csv_missing(svy_writer *w, csv_impl *c, const svy_var *var, const svy_value *v)
{
    if (!w->missing_codes) {
        svy_csv_out_empty(c->o);
        return;
    }
    const char *label = w->labels ? svy_var_label_for(var, v) : NULL;
    if (label) {
        svy_csv_out_cstr(c->o, label);
    } else if (v->missing == SVY_MISS_TAGGED) {
        char tag[3] = {'.', v->tag, '\0'};
        svy_csv_out_cstr(c->o, tag);
    } else if (v->missing == SVY_MISS_USER) {
        if (v->type == SVY_VAL_NUM)
            svy_csv_out_num(c->o, v->num);
        else
            svy_csv_out_str(c->o, v->str, v->len);
    } else if (svy_var_type_of(var) == SVY_VAR_NUMERIC) {
        svy_csv_out_cstr(c->o, ".");
    } else {
        svy_csv_out_empty(c->o);
    }
}

static svy_status csv_write(svy_writer *w, const svy_row *row, svy_err *err)
{
    csv_impl *c = w->impl;
    size_t i = 0;
    /* The reader's line is these values as plain CSV would write them. */
    if (row->line && row->line_nvals && row->line_nvals <= row->nvals && copies_lines(w)) {
        svy_csv_out_fields(c->o, row->line, row->line_len);
        i = row->line_nvals;
    }
    for (; i < row->nvals; i++) {
        const svy_value *v = &row->vals[i];
        const svy_var *var = c->vars[i];
        if (v->missing) {
            csv_missing(w, c, var, v);
            continue;
        }
        if (w->labels) {
            const char *label = svy_var_label_for(var, v);
            if (label) {
                svy_csv_out_cstr(c->o, label);
                continue;
            }
        }
        if (v->type == SVY_VAL_STR) {
            svy_csv_out_str(c->o, v->str, v->len);
        } else if (c->dates[i]) {
            char buf[64];
            size_t n = svy_date_iso(v->num, c->dates[i], svy_schema_date_origin(w->schema), buf, sizeof buf);
            if (n)
                svy_csv_out_str(c->o, buf, n);
            else
                svy_csv_out_num(c->o, v->num);
        } else {
            svy_csv_out_num(c->o, v->num);
        }
    }
    svy_csv_out_end_row(c->o);
    (void)err;
    return SVY_OK;
}

static svy_status csv_close(svy_writer *w, svy_err *err)
{
    csv_impl *c = w->impl;
    return svy_csv_out_flush(c->o, w->name, err);
}

static void csv_release(svy_writer *w)
{
    csv_impl *c = w->impl;
    if (!c)
        return;
    svy_csv_out_free(c->o);
    free(c->vars);
    free(c->dates);
    free(c);
    w->impl = NULL;
}

const svy_writer_ops svy_csv_writer_ops = {csv_open, csv_write, csv_close, csv_release};

svy_csv_out *svy_writer_line_out(svy_writer *w)
{
    if (!w->opened || w->closed || w->ops != &svy_csv_writer_ops || !copies_lines(w))
        return NULL;
    return ((csv_impl *)w->impl)->o;
}

void svy_writer_count_row(svy_writer *w) { w->rows++; }
