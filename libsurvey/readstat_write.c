/* Stata .dta (version 118) and SPSS .sav/.zsav through ReadStat's writer.
 *
 * Both formats carry the row count and every string width in the header, so
 * the schema must hold the widths (svy_var_width, in UTF-8 bytes) and the
 * writer the row count before the first row.  Numbers are stored as doubles,
 * so every value (extreme ones included) comes back bit for bit.
 *
 * What each format cannot hold:
 *  - .dta has no user-missing values: they are written as plain numbers and
 *    the definitions are dropped; its value labels are integers only, and it
 *    has no labels on string variables.
 *  - .sav has no tagged (extended) missing values: they become system
 *    missing; svy-export counts and reports them.
 * Dates keep their meaning across the two: a day or a date-time is converted
 * between the Stata/SAS origin (1960-01-01) and the SPSS one (1582-10-14), and
 * its display format translated.
 */
#include "writer_private.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <readstat.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DTA_STR_MAX 2045
#define SAV_STR_MAX 32767
/* Above this Stata doubles are missing codes. */
#define STATA_DBL_MAX 8.988465674311579e307
/* SPSS's LOWEST: -SAV_LOWEST and below are LOWEST or system missing. */
#define SAV_LOWEST 1.7976931348623155e308
/* Days from the SPSS origin 1582-10-14 to 1960-01-01. */
#define SPSS_1960_DAYS 137775.0

typedef enum date_conv {
    CONV_NONE = 0,
    CONV_DAYS_TO_SPSS,     /* Stata/SAS days -> SPSS seconds */
    CONV_STATA_MS_TO_SPSS, /* Stata %tc milliseconds -> SPSS seconds */
    CONV_SAS_S_TO_SPSS,    /* SAS datetime seconds -> SPSS seconds */
    CONV_SPSS_TO_DAYS,     /* SPSS seconds -> Stata days */
    CONV_SPSS_TO_STATA_MS, /* SPSS seconds -> Stata %tc milliseconds */
    CONV_SAS_S_TO_STATA_MS,
    CONV_S_TO_MS,          /* SPSS/SAS time of day -> Stata %tcHH:MM:SS */
    CONV_MS_TO_S
} date_conv;

typedef struct rs_wcol {
    readstat_variable_t *rv;
    int is_str, is_strl;
    int itype;          /* .dta: 1, 2, 4 for Stata byte, int, long storage; 0 double */
    size_t width;
    size_t readable;    /* .sav: the longest text that reads back whole (sav_readable) */
    date_conv conv;
} rs_wcol;

typedef struct rs_wimpl {
    readstat_writer_t *rw;
    rs_wcol *cols;
    size_t ncols;
    int dta;
    int began;
    long long rows;
    int sys_errno;
    /* ReadStat 1.1.8 leaves the strL section out of the last three .dta map
     * offsets; where the tags really land is tracked here to fix the map. */
    long long written, map_at, vl_at, end_at, base;
    uint64_t map[14];
    int map_next;
    char rs_msg[256];
    char numbuf[SVY_DTOA_MAX];
} rs_wimpl;

static ssize_t data_writer(const void *data, size_t len, void *ctx)
{
    svy_writer *w = ctx;
    rs_wimpl *m = w->impl;
    if (m->dta) {
        if (m->map_next && len == sizeof m->map) {
            memcpy(m->map, data, len);
            m->map_next = 0;
        } else if (len == 5 && !memcmp(data, "<map>", 5) && m->map_at < 0) {
            m->map_at = m->written + 5;
            m->map_next = 1;
        } else if (len == 14 && !memcmp(data, "<value_labels>", 14)) {
            m->vl_at = m->written;
        } else if (len == 12 && !memcmp(data, "</stata_dta>", 12)) {
            m->end_at = m->written;
        }
    }
    /* ReadStat 1.1.8 compares what this returns with len as size_t, so -1
     * read as success and a failed write gave a "complete" corrupt file
     * (fault injection found it): return 0, and keep failing once failed. */
    if (m->sys_errno)
        return 0;
    if (len && fwrite(data, 1, len, w->f) != len) {
        m->sys_errno = errno ? errno : EIO;
        return 0;
    }
    m->written += (long long)len;
    return (ssize_t)len;
}

static void on_error(const char *msg, void *ctx)
{
    svy_writer *w = ctx;
    rs_wimpl *m = w->impl;
    snprintf(m->rs_msg, sizeof m->rs_msg, "%s", msg);
    size_t n = strlen(m->rs_msg);
    while (n && m->rs_msg[n - 1] == '\n')
        m->rs_msg[--n] = '\0';
}

static svy_status fail(svy_writer *w, svy_err *err, readstat_error_t e, long long row, long long col,
                       const char *var, const char *what)
{
    rs_wimpl *m = w->impl;
    if (e == READSTAT_ERROR_WRITE && m->sys_errno) {
        svy_err_sys(err, m->sys_errno, w->name, 0, "write error");
        return SVY_E_IO;
    }
    if (e == READSTAT_ERROR_MALLOC)
        return svy_err_set(err, SVY_E_NOMEM, w->name, row, col, var, "out of memory while %s", what);
    return svy_err_set(err, SVY_E_DATA, w->name, row, col, var, "cannot write %s as %s: %s%s%s%s", what,
                       m->dta ? "Stata .dta" : "SPSS .sav", readstat_error_message(e),
                       m->rs_msg[0] ? " (" : "", m->rs_msg, m->rs_msg[0] ? ")" : "");
}

static int fmt_is_stata(const char *f)
{
    return f[0] == '%';
}

/* Display format for the target, and how values move with it. */
static const char *target_format(const svy_var *v, svy_date_origin from, int dta, date_conv *conv)
{
    const char *f = svy_var_format(v);
    svy_date_kind k = svy_var_date_kind(v);
    *conv = CONV_NONE;
    if (!*f)
        return NULL;
    if (dta) {
        if (from == SVY_ORIGIN_STATA || (from == SVY_ORIGIN_NONE && fmt_is_stata(f)))
            return fmt_is_stata(f) ? f : NULL;
        if (k == SVY_DATE_DAY) {
            *conv = from == SVY_ORIGIN_SPSS ? CONV_SPSS_TO_DAYS : CONV_NONE;
            return "%td";
        }
        if (k == SVY_DATE_DATETIME) {
            *conv = from == SVY_ORIGIN_SPSS ? CONV_SPSS_TO_STATA_MS : CONV_SAS_S_TO_STATA_MS;
            return "%tc";
        }
        if (k == SVY_DATE_TIME) {
            /* A time of day counts seconds in SPSS and SAS, milliseconds in Stata. */
            *conv = CONV_S_TO_MS;
            return "%tcHH:MM:SS";
        }
        return NULL;
    }
    if (from == SVY_ORIGIN_SPSS || (from == SVY_ORIGIN_NONE && !fmt_is_stata(f)))
        return fmt_is_stata(f) ? NULL : f;
    if (k == SVY_DATE_DAY) {
        *conv = CONV_DAYS_TO_SPSS;
        return "DATE11";
    }
    /* Stata's time of day is a %tc shown as hours only, in milliseconds. */
    if (k == SVY_DATE_TIME && from == SVY_ORIGIN_STATA) {
        *conv = CONV_MS_TO_S;
        return "TIME8";
    }
    if (k == SVY_DATE_DATETIME) {
        *conv = from == SVY_ORIGIN_SAS ? CONV_SAS_S_TO_SPSS : CONV_STATA_MS_TO_SPSS;
        return "DATETIME20";
    }
    if (k == SVY_DATE_TIME && from == SVY_ORIGIN_SAS)
        return "TIME8";
    if (from == SVY_ORIGIN_SAS || fmt_is_stata(f))
        return NULL;
    return f;
}

static double convert(double d, date_conv c)
{
    switch (c) {
    case CONV_DAYS_TO_SPSS: return (d + SPSS_1960_DAYS) * 86400.0;
    case CONV_STATA_MS_TO_SPSS: return d / 1000.0 + SPSS_1960_DAYS * 86400.0;
    case CONV_SAS_S_TO_SPSS: return d + SPSS_1960_DAYS * 86400.0;
    case CONV_SPSS_TO_DAYS: return d / 86400.0 - SPSS_1960_DAYS; /* a time of day stays, as a fraction */
    case CONV_SPSS_TO_STATA_MS: return (d - SPSS_1960_DAYS * 86400.0) * 1000.0;
    case CONV_SAS_S_TO_STATA_MS: return d * 1000.0;
    case CONV_S_TO_MS: return d * 1000.0;
    case CONV_MS_TO_S: return d / 1000.0;
    default: return d;
    }
}

static int labels_equal(const svy_var *a, const svy_var *b)
{
    size_t n = svy_var_nlabels(a);
    if (n != svy_var_nlabels(b) || svy_var_type_of(a) != svy_var_type_of(b))
        return 0;
    for (size_t i = 0; i < n; i++) {
        const svy_value *x = svy_var_label_value(a, i), *y = svy_var_label_value(b, i);
        if (x->type != y->type || x->missing != y->missing || x->tag != y->tag ||
            strcmp(svy_var_label_text(a, i), svy_var_label_text(b, i)))
            return 0;
        if (x->type == SVY_VAL_STR ? strcmp(x->str, y->str) : (x->missing == SVY_MISS_NONE && x->num != y->num))
            return 0;
    }
    return 1;
}

/* The label set for variable i: shared with an earlier variable of the same
 * set name and the same labels, else a new one. */
static readstat_label_set_t *label_set_for(svy_writer *w, size_t i, svy_err *err, svy_status *st)
{
    rs_wimpl *m = w->impl;
    const svy_var *v = svy_schema_var(w->schema, i);
    int is_str = svy_var_type_of(v) != SVY_VAR_NUMERIC;
    *st = SVY_OK;
    if (!svy_var_nlabels(v) || (is_str && m->dta))
        return NULL;
    const char *set = svy_var_labelset_name(v);
    if (!*set)
        set = svy_var_name(v);
    for (size_t j = 0; j < i; j++) {
        const svy_var *o = svy_schema_var(w->schema, j);
        const char *oset = *svy_var_labelset_name(o) ? svy_var_labelset_name(o) : svy_var_name(o);
        if (m->cols[j].rv && m->cols[j].rv->label_set && !strcmp(oset, set) && labels_equal(o, v))
            return m->cols[j].rv->label_set;
    }
    /* A name clash with different labels: name the set after the variable. */
    for (long k = 0; k < m->rw->label_sets_count; k++)
        if (!strcmp(m->rw->label_sets[k]->name, set)) {
            set = svy_var_name(v);
            break;
        }
    readstat_type_t t = is_str ? READSTAT_TYPE_STRING : (m->dta ? READSTAT_TYPE_INT32 : READSTAT_TYPE_DOUBLE);
    readstat_label_set_t *ls = readstat_add_label_set(m->rw, t, set);
    if (!ls) {
        *st = svy_err_set(err, SVY_E_NOMEM, w->name, 0, 0, svy_var_name(v), "out of memory");
        return NULL;
    }
    for (size_t j = 0; j < svy_var_nlabels(v); j++) {
        const svy_value *lv = svy_var_label_value(v, j);
        const char *text = svy_var_label_text(v, j);
        if (is_str) {
            if (lv->type == SVY_VAL_STR)
                readstat_label_string_value(ls, lv->str, text);
        } else if (lv->missing == SVY_MISS_TAGGED) {
            if (m->dta)
                readstat_label_tagged_value(ls, lv->tag, text);
        } else if (lv->type == SVY_VAL_NUM) {
            if (!m->dta) {
                readstat_label_double_value(ls, lv->num, text);
            } else if (lv->num == floor(lv->num) && lv->num >= -2147483647.0 && lv->num <= 2147483620.0) {
                readstat_label_int32_value(ls, (int32_t)lv->num, text);
            } else {
                *st = svy_err_set(err, SVY_E_DATA, w->name, 0, 0, svy_var_name(v),
                                  "Stata labels only integers from -2147483647 to 2147483620; "
                                  "the label of %.17g cannot be written", lv->num);
                return NULL;
            }
        }
    }
    return ls;
}

/* ReadStat 1.1.8 reads a .sav "very long" string (over 255 bytes: segments
 * of 255 bytes stored in 256) into a buffer of the file's longest width + 7,
 * and once a piece no longer fits it still takes one byte off per segment
 * end: a later segment's padding then lands on the last bytes of the value.
 * A text of 32,767 bytes (SPSS's limit) reads back as 32,766, and about one
 * width in ten loses up to 8 bytes when its value fills it.  The fix is in
 * contrib/readstat/.  This replays ReadStat's loop on positions: how many
 * leading bytes of a value read back intact. */
static size_t sav_readable(size_t width, size_t longest)
{
    if (width <= 255)
        return width;
    size_t cap = (longest > 256 ? longest : 256) + 7;
    size_t nseg = (width + 251) / 252, used = 0, intact = width;
    for (size_t k = 0; k < nseg; k++) {
        size_t chunks = k + 1 < nseg ? 32 : (width - (nseg - 1) * 252 + 7) / 8;
        for (size_t j = 0; j < chunks; j++) {
            if (used + 8 > cap)
                continue;
            if (used != k * 255 + 8 * j && used < intact)
                intact = used; /* bytes from further on land here */
            used += 8;
        }
        if (k + 1 < nseg)
            used--;
    }
    return used < intact ? used : intact;
}

/* Widen .sav strings where ReadStat would lose their last bytes: the
 * smallest width (at most SPSS's limit) whose values of the width asked for
 * read back whole.  What no width can save (a text of 32,767 bytes) is
 * refused row by row (rs_write): never written to be read back shorter. */
static void sav_safe_widths(rs_wimpl *m)
{
    for (int round = 0; round < 3; round++) {
        size_t longest = 0;
        for (size_t i = 0; i < m->ncols; i++)
            if (m->cols[i].is_str && m->cols[i].width > longest)
                longest = m->cols[i].width;
        for (size_t i = 0; i < m->ncols; i++) {
            rs_wcol *c = &m->cols[i];
            if (!c->is_str || c->width <= 255)
                continue;
            size_t need = c->readable ? c->readable : c->width, w = c->width;
            c->readable = need;
            while (w < SAV_STR_MAX && sav_readable(w, w > longest ? w : longest) < need)
                w++;
            if (sav_readable(w, w > longest ? w : longest) >= need)
                c->width = w;
        }
    }
    size_t longest = 0;
    for (size_t i = 0; i < m->ncols; i++)
        if (m->cols[i].is_str && m->cols[i].width > longest)
            longest = m->cols[i].width;
    for (size_t i = 0; i < m->ncols; i++)
        if (m->cols[i].is_str)
            m->cols[i].readable = sav_readable(m->cols[i].width, longest);
}

static svy_status rs_open_impl(svy_writer *w, svy_err *err)
{
    int dta = w->fmt == SVY_FMT_DTA;
    if (w->row_count < 0)
        return svy_err_set(err, SVY_E_USAGE, w->name, 0, 0, NULL,
                           "%s output needs the row count before the first row", dta ? ".dta" : ".sav");
    if (dta && w->row_count > 2147483647LL)
        return svy_err_set(err, SVY_E_LIMIT, w->name, 0, 0, NULL, "too many rows for ReadStat's .dta writer");
    rs_wimpl *m = calloc(1, sizeof *m);
    if (!m)
        return svy_err_set(err, SVY_E_NOMEM, w->name, 0, 0, NULL, "out of memory");
    w->impl = m;
    m->dta = dta;
    m->map_at = m->vl_at = m->end_at = -1;
    m->base = (long long)ftello(w->f);
    m->ncols = svy_schema_nvars(w->schema);
    m->cols = svy_calloc(m->ncols ? m->ncols : 1, sizeof *m->cols);
    m->rw = readstat_writer_init();
    if (!m->cols || !m->rw)
        return svy_err_set(err, SVY_E_NOMEM, w->name, 0, 0, NULL, "out of memory");
    readstat_set_data_writer(m->rw, data_writer);
    /* Both formats stamp the time of writing into the header; a fixed time
     * (svy_writer_set_timestamp; the tools pass SOURCE_DATE_EPOCH) makes the
     * same data give the same bytes.  The library reads no environment. */
    if (w->timestamp >= 0)
        readstat_writer_set_file_timestamp(m->rw, (time_t)w->timestamp);
    readstat_writer_set_error_handler(m->rw, on_error);
    readstat_error_t e;
    if (dta) {
        readstat_writer_set_file_format_version(m->rw, 118);
    } else {
        readstat_writer_set_compression(m->rw, w->fmt == SVY_FMT_ZSAV ? READSTAT_COMPRESS_BINARY
                                                                      : READSTAT_COMPRESS_ROWS);
    }
    const char *label = svy_schema_label(w->schema);
    if (*label) {
        /* The header field is fixed: cut at a character boundary. */
        char buf[257];
        size_t n = strlen(label), max = dta ? 80 : 64;
        if (n > max) {
            n = max;
            while (n && ((unsigned char)label[n] & 0xC0) == 0x80)
                n--;
        }
        memcpy(buf, label, n);
        buf[n] = '\0';
        readstat_writer_set_file_label(m->rw, buf);
    }
    svy_date_origin from = svy_schema_date_origin(w->schema);
    if (!dta) {
        for (size_t i = 0; i < m->ncols; i++) {
            const svy_var *v = svy_schema_var(w->schema, i);
            m->cols[i].is_str = svy_var_type_of(v) != SVY_VAR_NUMERIC;
            m->cols[i].width = m->cols[i].is_str && svy_var_width(v) <= SAV_STR_MAX ? svy_var_width(v) : 0;
        }
        sav_safe_widths(m);
    }
    for (size_t i = 0; i < m->ncols; i++) {
        const svy_var *v = svy_schema_var(w->schema, i);
        rs_wcol *c = &m->cols[i];
        c->is_str = svy_var_type_of(v) != SVY_VAR_NUMERIC;
        readstat_type_t t = READSTAT_TYPE_DOUBLE;
        size_t width = 0;
        if (c->is_str) {
            width = svy_var_width(v);
            if (dta && (width == 0 || width > DTA_STR_MAX)) {
                t = READSTAT_TYPE_STRING_REF;
                c->is_strl = 1;
            } else if (!dta && width > SAV_STR_MAX) {
                return svy_err_set(err, SVY_E_DATA, w->name, 0, 0, svy_var_name(v),
                                   "strings of %zu bytes exceed SPSS's limit of %d", width, SAV_STR_MAX);
            } else if (!dta && width == 0) {
                return svy_err_set(err, SVY_E_USAGE, w->name, 0, 0, svy_var_name(v),
                                   "string width unknown: the .sav writer needs it before the first row");
            } else {
                t = READSTAT_TYPE_STRING;
            }
            if (!dta && c->width > width)
                width = c->width; /* widened by sav_safe_widths */
            c->width = width;
        }
        const char *numfmt = c->is_str ? NULL : target_format(v, from, dta, &c->conv);
        /* Whole numbers the caller vouches for go in Stata's integer types,
         * as Stata itself would store them (a quarter of the bytes). */
        size_t nw = c->is_str ? 0 : svy_var_width(v);
        if (dta && c->conv == CONV_NONE && (nw == 1 || nw == 2 || nw == 4)) {
            c->itype = (int)nw;
            t = nw == 1 ? READSTAT_TYPE_INT8 : nw == 2 ? READSTAT_TYPE_INT16 : READSTAT_TYPE_INT32;
        }
        svy_status st;
        readstat_label_set_t *ls = label_set_for(w, i, err, &st);
        if (st != SVY_OK)
            return st;
        c->rv = readstat_add_variable(m->rw, svy_var_name(v), t, t == READSTAT_TYPE_STRING ? width : 0);
        if (!c->rv)
            return svy_err_set(err, SVY_E_NOMEM, w->name, 0, 0, NULL, "out of memory");
        if (*svy_var_label(v))
            readstat_variable_set_label(c->rv, svy_var_label(v));
        if (!c->is_str) {
            if (numfmt)
                readstat_variable_set_format(c->rv, numfmt);
        } else if (!dta && svy_var_format(v)[0] == 'A') {
            readstat_variable_set_format(c->rv, svy_var_format(v));
        } else if (dta && svy_var_format(v)[0] == '%' && !c->is_strl) {
            readstat_variable_set_format(c->rv, svy_var_format(v));
        }
        if (ls)
            readstat_variable_set_label_set(c->rv, ls);
        if (!dta) {
            for (size_t k = 0; k < svy_var_nmissing(v); k++) {
                const char *ms = svy_var_missing_str(v, k);
                double lo, hi;
                svy_var_missing_range(v, k, &lo, &hi);
                if (c->is_str && ms)
                    e = readstat_variable_add_missing_string_value(c->rv, ms);
                else if (!c->is_str && !ms)
                    e = lo == hi ? readstat_variable_add_missing_double_value(c->rv, lo)
                                 : readstat_variable_add_missing_double_range(c->rv, lo, hi);
                else
                    continue;
                if (e != READSTAT_OK)
                    return fail(w, err, e, 0, 0, svy_var_name(v), "the missing-value definitions");
            }
        }
    }
    e = dta ? readstat_begin_writing_dta(m->rw, w, (long)w->row_count)
            : readstat_begin_writing_sav(m->rw, w, (long)w->row_count);
    if (e != READSTAT_OK)
        return fail(w, err, e, 0, 0, NULL, "the header");
    m->began = 1;
    for (size_t i = 0; i < m->ncols; i++) {
        e = readstat_validate_variable(m->rw, m->cols[i].rv);
        if (e != READSTAT_OK)
            return svy_err_set(err, SVY_E_DATA, w->name, 0, 0, svy_var_name(svy_schema_var(w->schema, i)),
                               "%s cannot take the variable name '%s': %s; rename it",
                               dta ? "Stata .dta" : "SPSS .sav", svy_var_name(svy_schema_var(w->schema, i)),
                               readstat_error_message(e));
    }
    e = readstat_validate_metadata(m->rw);
    if (e != READSTAT_OK)
        return fail(w, err, e, 0, 0, NULL, "the file metadata");
    return SVY_OK;
}

static void rs_release(svy_writer *w);

/* writer.c releases only what opened: undo a failed open here. */
static svy_status rs_open(svy_writer *w, svy_err *err)
{
    svy_status st = rs_open_impl(w, err);
    if (st != SVY_OK)
        rs_release(w);
    return st;
}

static svy_status rs_write(svy_writer *w, const svy_row *row, svy_err *err)
{
    rs_wimpl *m = w->impl;
    long long rowno = m->rows + 1;
    if (row->nvals != m->ncols)
        return svy_err_set(err, SVY_E_USAGE, w->name, rowno, 0, NULL, "row has %zu values, the schema %zu",
                           row->nvals, m->ncols);
    if (m->rows >= w->row_count)
        return svy_err_set(err, SVY_E_USAGE, w->name, rowno, 0, NULL,
                           "more rows than the %lld declared", w->row_count);
    readstat_error_t e = readstat_begin_row(m->rw);
    if (e != READSTAT_OK)
        return fail(w, err, e, rowno, 0, NULL, "a row");
    for (size_t i = 0; i < m->ncols; i++) {
        const svy_value *v = &row->vals[i];
        rs_wcol *c = &m->cols[i];
        const char *name = NULL;
        if (!c->is_str) {
            double d;
            if (v->missing == SVY_MISS_SYSTEM) {
                e = readstat_insert_missing_value(m->rw, c->rv);
            } else if (v->missing == SVY_MISS_TAGGED) {
                e = m->dta && v->tag >= 'a' && v->tag <= 'z'
                        ? readstat_insert_tagged_missing_value(m->rw, c->rv, v->tag)
                        : readstat_insert_missing_value(m->rw, c->rv);
            } else {
                if (v->type == SVY_VAL_NUM) {
                    d = v->num;
                } else if (!svy_parse_number(v->str, v->len, &d)) {
                    if (v->len == 0) {
                        e = readstat_insert_missing_value(m->rw, c->rv);
                        goto check;
                    }
                    name = svy_var_name(svy_schema_var(w->schema, i));
                    return svy_err_set(err, SVY_E_DATA, w->name, rowno, (long long)i + 1, name,
                                       "'%.*s' is not a number", (int)(v->len > 60 ? 60 : v->len), v->str);
                }
                d = convert(d, c->conv);
                if (m->dta && (d > STATA_DBL_MAX || d < -DBL_MAX || isnan(d)))
                    return svy_err_set(err, SVY_E_DATA, w->name, rowno, (long long)i + 1,
                                       svy_var_name(svy_schema_var(w->schema, i)),
                                       "%g cannot be stored in Stata, whose doubles stop at %g "
                                       "(above are its missing codes)", d, STATA_DBL_MAX);
                if (!m->dta && (d == DBL_MAX || d <= -SAV_LOWEST))
                    return svy_err_set(err, SVY_E_DATA, w->name, rowno, (long long)i + 1,
                                       svy_var_name(svy_schema_var(w->schema, i)),
                                       "%g cannot be stored in SPSS, which keeps the extreme doubles "
                                       "for system missing, LO and HI", d);
                if (c->itype) {
                    static const double lo[] = {0, -127, -32767, 0, -2147483647.0};
                    static const double hi[] = {0, 100, 32740, 0, 2147483620.0};
                    if (d != floor(d) || d < lo[c->itype] || d > hi[c->itype])
                        return svy_err_set(err, SVY_E_DATA, w->name, rowno, (long long)i + 1,
                                           svy_var_name(svy_schema_var(w->schema, i)),
                                           "%.17g does not fit the Stata %s storage declared for the variable",
                                           d, c->itype == 1 ? "byte" : c->itype == 2 ? "int" : "long");
                    e = c->itype == 1   ? readstat_insert_int8_value(m->rw, c->rv, (int8_t)d)
                        : c->itype == 2 ? readstat_insert_int16_value(m->rw, c->rv, (int16_t)d)
                                        : readstat_insert_int32_value(m->rw, c->rv, (int32_t)d);
                    goto check;
                }
                e = readstat_insert_double_value(m->rw, c->rv, d);
            }
        } else {
            const char *s;
            size_t len;
            if (v->missing == SVY_MISS_SYSTEM || v->missing == SVY_MISS_TAGGED) {
                s = "";
                len = 0;
            } else if (v->type == SVY_VAL_STR) {
                s = v->str;
                len = v->len;
            } else {
                len = svy_dtoa(v->num, m->numbuf);
                s = m->numbuf;
            }
            if (memchr(s, '\0', len)) {
                name = svy_var_name(svy_schema_var(w->schema, i));
                return svy_err_set(err, SVY_E_DATA, w->name, rowno, (long long)i + 1, name,
                                   "text holds a NUL byte, which %s cannot store", m->dta ? ".dta" : ".sav");
            }
            if (c->is_strl) {
                readstat_string_ref_t *ref = readstat_add_string_ref(m->rw, s);
                e = ref ? readstat_insert_string_ref(m->rw, c->rv, ref) : READSTAT_ERROR_MALLOC;
            } else if (len > c->width) {
                name = svy_var_name(svy_schema_var(w->schema, i));
                return svy_err_set(err, SVY_E_DATA, w->name, rowno, (long long)i + 1, name,
                                   "text of %zu bytes is longer than the variable's width %zu", len, c->width);
            } else if (!m->dta && len > c->readable) {
                name = svy_var_name(svy_schema_var(w->schema, i));
                return svy_err_set(err, SVY_E_DATA, w->name, rowno, (long long)i + 1, name,
                                   "a text of %zu bytes would not read back whole from .sav: ReadStat 1.1.8 "
                                   "keeps only its first %zu bytes in a string of width %zu (see "
                                   "contrib/readstat/); not written",
                                   len, c->readable, c->width);
            } else {
                e = readstat_insert_string_value(m->rw, c->rv, s);
            }
        }
    check:
        if (e != READSTAT_OK)
            return fail(w, err, e, rowno, (long long)i + 1, svy_var_name(svy_schema_var(w->schema, i)),
                        "this value");
    }
    e = readstat_end_row(m->rw);
    if (e == READSTAT_OK && m->sys_errno)
        e = READSTAT_ERROR_WRITE; /* a write ReadStat did not check */
    if (e != READSTAT_OK)
        return fail(w, err, e, rowno, 0, NULL, "a row");
    m->rows++;
    return SVY_OK;
}

static svy_status rs_close(svy_writer *w, svy_err *err)
{
    rs_wimpl *m = w->impl;
    if (m->rows != w->row_count)
        return svy_err_set(err, SVY_E_USAGE, w->name, 0, 0, NULL,
                           "%lld rows written, %lld declared in the header", m->rows, w->row_count);
    readstat_error_t e = readstat_end_writing(m->rw);
    if (e == READSTAT_OK && m->sys_errno)
        e = READSTAT_ERROR_WRITE; /* a write ReadStat did not check */
    if (e != READSTAT_OK)
        return fail(w, err, e, 0, 0, NULL, "the end of the file");
    if (m->dta && m->map_at > 0 && m->vl_at > 0 && m->end_at > 0) {
        uint64_t fix[3] = {(uint64_t)m->vl_at, (uint64_t)m->end_at, (uint64_t)m->written};
        if (memcmp(&m->map[11], fix, sizeof fix) != 0) {
            if (m->base < 0 || fflush(w->f) != 0 || fseeko(w->f, (off_t)(m->base + m->map_at + 11 * 8), SEEK_SET) != 0 ||
                fwrite(fix, 1, sizeof fix, w->f) != sizeof fix || fseeko(w->f, 0, SEEK_END) != 0) {
                int en = errno;
                svy_err_sys(err, en, w->name, 0,
                            "cannot complete the .dta map (strL columns need an output file that can seek)");
                return SVY_E_IO;
            }
        }
    }
    return SVY_OK;
}

static void rs_release(svy_writer *w)
{
    rs_wimpl *m = w->impl;
    if (!m)
        return;
    if (m->rw)
        readstat_writer_free(m->rw);
    free(m->cols);
    free(m);
    w->impl = NULL;
}

const svy_writer_ops svy_rs_writer_ops = {
    .open = rs_open,
    .write = rs_write,
    .close = rs_close,
    .release = rs_release,
};
