/* Stata, SPSS and SAS files through ReadStat: .dta, .sav, .zsav, .por,
 * .sas7bdat (+ .sas7bcat) and .xpt.
 *
 * Two passes over the file.  The first collects every variable and every
 * value-label set without a value handler: ReadStat then seeks over the data
 * section instead of decoding it, so the pass costs a few reads even for a
 * 10M-row file, and the Stata label sets (stored after the data) are known
 * before the first row is delivered.  The second pass decodes the rows of the
 * delivered variables only; the others are skipped inside ReadStat.
 *
 * ReadStat's own I/O reads each Stata row with one read(2); ours serves its
 * reads from a 1 MiB buffer, which is most of what makes svy-import faster
 * than the readstat command.
 */
#include "readstat_private.h"
#include "encoding_private.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <readstat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void on_error(const char *msg, void *vctx)
{
    rs_ctx *c = vctx;
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    if (n >= sizeof c->rs_msg)
        n = sizeof c->rs_msg - 1;
    memcpy(c->rs_msg, msg, n);
    c->rs_msg[n] = '\0';
}

static int stop(rs_ctx *c, svy_status st)
{
    c->st = st;
    return READSTAT_HANDLER_ABORT;
}

static svy_rs_parse_fn parse_fn(const char *format);

/* Text of a file that declares no encoding is not UTF-8: refused. */
static svy_status undeclared_error(rs_ctx *c, long long row, long long col, const char *var, const char *what,
                                   size_t bad)
{
    return svy_undeclared_error(c->err, c->file, row, col, var, what, bad, parse_fn(c->r->format),
                                svy_reader_input_fd(c->r));
}

/* Text from ReadStat must be UTF-8 once converted; anything else is a file
 * whose declared encoding is wrong, and is refused rather than passed on.
 * *sp becomes the file's own bytes when it declares no encoding. */
static int check_text(rs_ctx *c, const char **sp, const char *what, const char *var)
{
    const char *s = *sp;
    size_t bad;
    if (!s)
        return 0;
    size_t len = strlen(s);
    if (c->undeclared && !(s = *sp = svy_raw_text(&c->raw, s, &len))) {
        stop(c, svy_err_set(c->err, SVY_E_NOMEM, c->file, 0, 0, var, "out of memory"));
        return 1;
    }
    if (svy_utf8_valid(s, len, &bad))
        return 0;
    if (c->undeclared)
        undeclared_error(c, 0, 0, var, what, bad);
    else
        svy_err_set(c->err, SVY_E_ENCODING, c->file, 0, 0, var,
                    "%s is not valid %s text (byte %zu); name the file's real encoding with --encoding",
                    what, c->encoding[0] ? c->encoding : "UTF-8", bad + 1);
    c->st = SVY_E_ENCODING;
    return 1;
}

static int on_metadata(readstat_metadata_t *md, void *vctx)
{
    rs_ctx *c = vctx;
    if (!c->r->encoding && !c->undeclared &&
        svy_rs_declares_no_encoding(c->r->format, md, svy_reader_input_fd(c->r))) {
        c->restart = 1;
        return stop(c, SVY_E_ABORT);
    }
    long long n = readstat_get_row_count(md);
    svy_schema_set_nrows(c->full, n >= 0 ? n : -1);
    const char *label = readstat_get_file_label(md);
    if (label && *label) {
        if (check_text(c, &label, "the data set label", NULL))
            return READSTAT_HANDLER_ABORT;
        if (svy_schema_set_label(c->full, label) != SVY_OK)
            return stop(c, svy_err_set(c->err, SVY_E_NOMEM, c->file, 0, 0, NULL, "out of memory"));
    }
    if (!strcmp(c->r->format, "dta"))
        c->dta_version = readstat_get_file_format_version(md);
    const char *enc = c->r->encoding ? c->r->encoding : readstat_get_file_encoding(md);
    /* dta 118+ is UTF-8 by definition; older Stata files are read as
     * Windows-1252 unless told otherwise. */
    const char *shown = c->undeclared ? "UTF-8"
                        : enc && *enc ? enc
                        : !strcmp(c->r->format, "dta") ? (readstat_get_file_format_version(md) >= 118 ? "UTF-8"
                                                                                                    : "WINDOWS-1252")
                        : "the declared encoding";
    snprintf(c->encoding, sizeof c->encoding, "%s", shown);
    if (enc && *enc && !c->undeclared && svy_schema_set_encoding(c->full, enc) != SVY_OK)
        return stop(c, svy_err_set(c->err, SVY_E_NOMEM, c->file, 0, 0, NULL, "out of memory"));
    return READSTAT_HANDLER_OK;
}

static int on_variable(int index, readstat_variable_t *rv, const char *val_labels, void *vctx)
{
    rs_ctx *c = vctx;
    /* ReadStat hands a .dta label-set name straight from the file's lbllist,
     * a fixed-width field with no NUL when the name fills it: strlen ran off
     * the end of ReadStat's buffer (found by fuzzing).  Bound it by the
     * field width of the format version, as ReadStat's dta_ctx_init sets it. */
    char lblname[130];
    if (val_labels && c->dta_version) {
        size_t cap = c->dta_version < 110 ? 9 : c->dta_version < 118 ? 33 : 129;
        size_t n = strnlen(val_labels, cap);
        memcpy(lblname, val_labels, n);
        lblname[n] = '\0';
        val_labels = lblname;
    }
    const char *name = readstat_variable_get_name(rv);
    if (check_text(c, &name, "a variable name", NULL))
        return READSTAT_HANDLER_ABORT;
    svy_var_type type = readstat_variable_get_type_class(rv) == READSTAT_TYPE_CLASS_STRING
                            ? SVY_VAR_STRING : SVY_VAR_NUMERIC;
    svy_var *v = svy_schema_add(c->full, name, type, c->err);
    if (!v) {
        if (c->err->code == SVY_E_USAGE)
            c->err->code = SVY_E_FORMAT;
        snprintf(c->err->file, sizeof c->err->file, "%s", c->file);
        return stop(c, c->err->code);
    }
    const char *label = readstat_variable_get_label(rv);
    const char *format = readstat_variable_get_format(rv);
    if (check_text(c, &label, "the variable label", name) || check_text(c, &format, "the display format", name))
        return READSTAT_HANDLER_ABORT;
    if (svy_var_set_label(v, label) || svy_var_set_format(v, format) ||
        (val_labels && *val_labels && svy_var_set_labelset_name(v, val_labels)))
        return stop(c, svy_err_set(c->err, SVY_E_NOMEM, c->file, 0, 0, name, "out of memory"));
    if (type == SVY_VAR_STRING)
        svy_var_set_width(v, readstat_variable_get_storage_width(rv));

    int nm = readstat_variable_get_missing_ranges_count(rv);
    for (int i = 0; i < nm; i++) {
        readstat_value_t lo = readstat_variable_get_missing_range_lo(rv, i);
        readstat_value_t hi = readstat_variable_get_missing_range_hi(rv, i);
        svy_status st;
        if (readstat_value_type_class(lo) == READSTAT_TYPE_CLASS_STRING) {
            const char *s = readstat_string_value(lo);
            if (check_text(c, &s, "a missing-value definition", name))
                return READSTAT_HANDLER_ABORT;
            st = svy_var_add_missing_str(v, s ? s : "");
        } else {
            st = svy_var_add_missing_range(v, readstat_double_value(lo), readstat_double_value(hi));
        }
        if (st == SVY_E_NOMEM)
            return stop(c, svy_err_set(c->err, SVY_E_NOMEM, c->file, 0, 0, name, "out of memory"));
        if (st != SVY_OK)
            return stop(c, svy_err_set(c->err, SVY_E_FORMAT, c->file, 0, 0, name,
                                       "unusable missing-value definition %d", i + 1));
    }
    return READSTAT_HANDLER_OK;
}

/* SAS tags are upper case and '_'; Stata's lower case. */
static char norm_tag(char t)
{
    return (char)tolower((unsigned char)t);
}

static int is_tagged(readstat_value_t v)
{
    return readstat_value_is_tagged_missing(v) || (v.is_system_missing && v.tag);
}

static int on_value_label(const char *set, readstat_value_t value, const char *label, void *vctx)
{
    rs_ctx *c = vctx;
    if (check_text(c, &label, "a value label", NULL))
        return READSTAT_HANDLER_ABORT;
    long k = svy_schema_find(c->sets, set);
    svy_var *holder = k >= 0 ? svy_schema_var_mut(c->sets, (size_t)k) : svy_schema_add(c->sets, set, SVY_VAR_NUMERIC, c->err);
    if (!holder && c->err->code == SVY_E_NOMEM)
        return stop(c, svy_err_set(c->err, SVY_E_NOMEM, c->file, 0, 0, NULL, "out of memory"));
    if (!holder)
        return stop(c, svy_err_set(c->err, SVY_E_FORMAT, c->file, 0, 0, NULL,
                                   "unusable value-label set name '%s'", set));
    svy_status st;
    if (readstat_value_type_class(value) == READSTAT_TYPE_CLASS_STRING) {
        const char *s = readstat_string_value(value);
        if (check_text(c, &s, "a labelled value", NULL))
            return READSTAT_HANDLER_ABORT;
        st = svy_var_add_label_str(holder, s ? s : "", label);
    } else if (is_tagged(value)) {
        st = svy_var_add_label_tagged(holder, norm_tag(readstat_value_tag(value)), label);
    } else if (value.is_system_missing) {
        return READSTAT_HANDLER_OK; /* a label for "." cannot be attached to anything */
    } else {
        st = svy_var_add_label_num(holder, readstat_double_value(value), label);
    }
    if (st != SVY_OK)
        return stop(c, svy_err_set(c->err, SVY_E_NOMEM, c->file, 0, 0, NULL, "out of memory"));
    return READSTAT_HANDLER_OK;
}

/* Copy the labels of each variable's set onto the variable. */
static svy_status attach_labels(rs_ctx *c)
{
    size_t n = svy_schema_nvars(c->full);
    for (size_t i = 0; i < n; i++) {
        svy_var *v = svy_schema_var_mut(c->full, i);
        const char *set = svy_var_labelset_name(v);
        if (!*set)
            continue;
        long k = svy_schema_find(c->sets, set);
        if (k < 0)
            continue;
        const svy_var *h = svy_schema_var(c->sets, (size_t)k);
        int is_str = svy_var_type_of(v) == SVY_VAR_STRING;
        for (size_t j = 0; j < svy_var_nlabels(h); j++) {
            const svy_value *lv = svy_var_label_value(h, j);
            const char *text = svy_var_label_text(h, j);
            svy_status st;
            if ((lv->type == SVY_VAL_STR) != is_str)
                continue; /* a set of the other type: nothing it could label */
            if (lv->type == SVY_VAL_STR)
                st = svy_var_add_label_str(v, lv->str, text);
            else if (lv->missing == SVY_MISS_TAGGED)
                st = svy_var_add_label_tagged(v, lv->tag, text);
            else
                st = svy_var_add_label_num(v, lv->num, text);
            if (st != SVY_OK)
                return svy_err_set(c->err, SVY_E_NOMEM, c->file, 0, 0, svy_var_name(v), "out of memory");
        }
    }
    return SVY_OK;
}

static int on_variable_pass2(int index, readstat_variable_t *rv, const char *val_labels, void *vctx)
{
    rs_ctx *c = vctx;
    if (index < 0 || (size_t)index >= c->ncols)
        return stop(c, svy_err_set(c->err, SVY_E_FORMAT, c->file, 0, 0, NULL,
                                   "the file changed while it was read"));
    return c->cols[index].slot >= 0 || index == c->trigger ? READSTAT_HANDLER_OK
                                                            : READSTAT_HANDLER_SKIP_VARIABLE;
}

static int on_value(int obs, readstat_variable_t *rv, readstat_value_t v, void *vctx)
{
    rs_ctx *c = vctx;
    int idx = readstat_variable_get_index(rv);
    rs_col *col = &c->cols[idx];
    c->row = obs;
    c->last_index = idx;
    if (col->slot >= 0) {
        svy_value *out = &c->r->vals[col->slot];
        out->tag = 0;
        out->missing = SVY_MISS_NONE;
        if (v.type == READSTAT_TYPE_STRING || v.type == READSTAT_TYPE_STRING_REF) {
            const char *s = readstat_string_value(v);
            size_t len = s ? strlen(s) : 0;
            size_t bad;
            if (c->undeclared && len && !(s = svy_raw_text(&c->raw, s, &len)))
                return stop(c, svy_err_set(c->err, SVY_E_NOMEM, c->file, (long long)obs + 1, (long long)idx + 1,
                                           NULL, "out of memory"));
            if (len && !svy_utf8_valid(s, len, &bad)) {
                if (c->undeclared)
                    undeclared_error(c, (long long)obs + 1, (long long)idx + 1, readstat_variable_get_name(rv),
                                     "text", bad);
                else
                    svy_err_set(c->err, SVY_E_ENCODING, c->file, (long long)obs + 1, (long long)idx + 1,
                                readstat_variable_get_name(rv),
                                "text is not valid %s (byte %zu); name the file's real encoding with --encoding",
                                c->encoding[0] ? c->encoding : "UTF-8", bad + 1);
                return stop(c, SVY_E_ENCODING);
            }
            if (len + 1 > col->scap) {
                size_t ncap = col->scap ? col->scap : 64;
                while (ncap < len + 1)
                    ncap *= 2;
                char *nb = svy_malloc(ncap);
                if (!nb)
                    return stop(c, svy_err_set(c->err, SVY_E_NOMEM, c->file, (long long)obs + 1,
                                               (long long)idx + 1, NULL, "out of memory"));
                free(col->sbuf);
                col->sbuf = nb;
                col->scap = ncap;
            }
            if (len)
                memcpy(col->sbuf, s, len);
            col->sbuf[len] = '\0';
            out->type = SVY_VAL_STR;
            out->str = col->sbuf;
            out->len = len;
            out->num = 0;
            if (col->user_missing && readstat_value_is_defined_missing(v, rv))
                out->missing = SVY_MISS_USER;
        } else {
            double d;
            switch (v.type) {
            case READSTAT_TYPE_INT8: d = v.v.i8_value; break;
            case READSTAT_TYPE_INT16: d = v.v.i16_value; break;
            case READSTAT_TYPE_INT32: d = v.v.i32_value; break;
            case READSTAT_TYPE_FLOAT: d = v.v.float_value; break;
            default: d = v.v.double_value; break;
            }
            out->type = SVY_VAL_NUM;
            out->str = NULL;
            out->len = 0;
            if (is_tagged(v)) {
                out->missing = SVY_MISS_TAGGED;
                out->tag = norm_tag(v.tag);
                d = NAN;
            } else if (v.is_system_missing || isnan(d)) {
                out->missing = SVY_MISS_SYSTEM;
                d = NAN;
            } else if (col->user_missing && readstat_value_is_defined_missing(v, rv)) {
                out->missing = SVY_MISS_USER;
            }
            out->num = d;
        }
    }
    if (idx == c->trigger) {
        c->last_index = -1;
        c->row = (long long)obs + 1;
        svy_status st = svy_reader_emit(c->r, c->h, c->hctx, c->err);
        if (st != SVY_OK)
            return stop(c, st);
    }
    return READSTAT_HANDLER_OK;
}

typedef readstat_error_t (*rs_parse_fn)(readstat_parser_t *, const char *, void *);

static rs_parse_fn parse_fn(const char *format)
{
    if (!strcmp(format, "dta"))
        return readstat_parse_dta;
    if (!strcmp(format, "sav") || !strcmp(format, "zsav"))
        return readstat_parse_sav;
    if (!strcmp(format, "por"))
        return readstat_parse_por;
    if (!strcmp(format, "sas7bdat"))
        return readstat_parse_sas7bdat;
    if (!strcmp(format, "xpt"))
        return readstat_parse_xport;
    return NULL;
}

static svy_date_origin origin_of(const char *format)
{
    if (!strcmp(format, "dta"))
        return SVY_ORIGIN_STATA;
    if (!strcmp(format, "sas7bdat") || !strcmp(format, "xpt"))
        return SVY_ORIGIN_SAS;
    return SVY_ORIGIN_SPSS;
}

static readstat_parser_t *new_parser(rs_ctx *c, rs_io *io, svy_status *st)
{
    readstat_parser_t *p = readstat_parser_init();
    if (!p) {
        *st = svy_err_set(c->err, SVY_E_NOMEM, c->file, 0, 0, NULL, "out of memory");
        return NULL;
    }
    svy_rs_set_io(p, io);
    readstat_set_error_handler(p, on_error);
    readstat_set_handler_character_encoding(p, "UTF-8");
    if (c->r->encoding)
        readstat_set_file_character_encoding(p, c->r->encoding);
    else if (c->undeclared)
        readstat_set_file_character_encoding(p, "ISO-8859-1"); /* each byte a character: svy_raw_text */
    *st = SVY_OK;
    return p;
}

static void ctx_free(rs_ctx *c)
{
    svy_raw_text_free(&c->raw);
    svy_schema_free(c->full);
    svy_schema_free(c->sets);
    if (c->cols)
        for (size_t i = 0; i < c->ncols; i++)
            free(c->cols[i].sbuf);
    free(c->cols);
}

static svy_status check_encoding_name(const char *enc, const char *file, svy_err *err)
{
    iconv_t cd = iconv_open("UTF-8", enc);
    if (cd == (iconv_t)-1)
        return svy_err_set(err, SVY_E_USAGE, file, 0, 0, NULL, "unknown encoding '%s'", enc);
    iconv_close(cd);
    return SVY_OK;
}

svy_status svy_rs_read_run(svy_reader *r, const svy_handler *h, void *hctx, svy_err *err)
{
    rs_parse_fn parse = parse_fn(r->format);
    int fd = svy_reader_input_fd(r);
    /* ReadStat wants a path; io_open reads fd instead (a name for messages). */
    const char *path = r->name;
    if (!parse)
        return svy_err_set(err, SVY_E_FORMAT, r->name, 0, 0, NULL, "no ReadStat reader for format '%s'", r->format);
    if (fd < 0)
        return svy_err_set(err, SVY_E_USAGE, r->name, 0, 0, NULL, "%s input must be a file or a spool", r->format);
    if (r->encoding) {
        svy_status st = check_encoding_name(r->encoding, r->name, err);
        if (st != SVY_OK)
            return st;
    }

    rs_io io = {.fd = -1, .input_fd = -1};
    io.buf = svy_malloc(RS_BUF_SIZE);
    rs_ctx c = {.r = r, .h = h, .hctx = hctx, .err = err, .file = r->name, .last_index = -1};
    c.full = svy_schema_new();
    c.sets = svy_schema_new();
    svy_status st = SVY_OK;
    readstat_parser_t *p = NULL;
    readstat_error_t e;
    if (!io.buf || !c.full || !c.sets) {
        st = svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
        goto out;
    }
    if (svy_schema_set_format(c.full, r->format) != SVY_OK) {
        st = svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
        goto out;
    }
    svy_schema_set_date_origin(c.full, origin_of(r->format));

    /* SAS keeps value labels in a separate catalog. */
    if (r->catalog && !strcmp(r->format, "sas7bdat")) {
        if (!(p = new_parser(&c, &io, &st)))
            goto out;
        readstat_set_value_label_handler(p, on_value_label);
        c.file = r->catalog;
        e = readstat_parse_sas7bcat(p, r->catalog, &c); /* a file of its own: opened by path */
        if (e != READSTAT_OK) {
            st = svy_rs_fail(&c, &io, e, 0);
            goto out;
        }
        c.file = r->name;
        readstat_parser_free(p);
        p = NULL;
    }

    io.input_fd = fd;
    if (!strcmp(r->format, "dta") && (st = svy_rs_check_dta_length(fd, r->name, err)) != SVY_OK)
        goto out;

    /* Pass 1: variables and label sets, no values; once more, from the
     * start, when the file turns out to declare no encoding. */
    do {
        if (c.restart)
            c.restart = 0, c.undeclared = 1, c.st = SVY_OK;
        if (!(p = new_parser(&c, &io, &st)))
            goto out;
        readstat_set_metadata_handler(p, on_metadata);
        readstat_set_variable_handler(p, on_variable);
        readstat_set_value_label_handler(p, on_value_label);
        e = parse(p, path, &c);
        readstat_parser_free(p);
        p = NULL;
    } while (e == READSTAT_ERROR_USER_ABORT && c.restart);
    if (e != READSTAT_OK) {
        st = svy_rs_fail(&c, &io, e, 0);
        goto out;
    }
    if ((st = svy_rs_check_dta_labels_end(&c, &io)) != SVY_OK)
        goto out;
    if ((st = attach_labels(&c)) != SVY_OK)
        goto out;

    c.ncols = svy_schema_nvars(c.full);
    c.cols = svy_calloc(c.ncols ? c.ncols : 1, sizeof *c.cols);
    if (!c.cols) {
        st = svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < c.ncols; i++)
        c.cols[i].user_missing = svy_var_nmissing(svy_schema_var(c.full, i)) > 0;

    svy_schema *full = c.full;
    c.full = NULL;
    if ((st = svy_reader_begin(r, full, h, hctx, err)) != SVY_OK)
        goto out;

    c.trigger = -1;
    for (size_t i = 0; i < c.ncols; i++) {
        c.cols[i].slot = svy_reader_slot(r, i);
        if (c.cols[i].slot >= 0)
            c.trigger = (int)i;
    }
    /* Without any delivered variable the last one still marks row ends. */
    if (c.trigger < 0 && c.ncols)
        c.trigger = (int)c.ncols - 1;
    if (c.ncols == 0 || r->limit == 0)
        goto out;

    /* Pass 2: the rows. */
    if (!(p = new_parser(&c, &io, &st)))
        goto out;
    readstat_set_variable_handler(p, on_variable_pass2);
    readstat_set_value_handler(p, on_value);
    if (r->limit > 0 && r->limit < 0x7fffffffL)
        readstat_set_row_limit(p, (long)r->limit);
    c.rs_msg[0] = '\0';
    e = parse(p, path, &c);
    if (e != READSTAT_OK) {
        if (e == READSTAT_ERROR_USER_ABORT && c.st == SVY_E_ABORT)
            st = SVY_OK; /* the row limit */
        else
            st = svy_rs_fail(&c, &io, e, 1);
    }

out:
    if (p)
        readstat_parser_free(p);
    svy_rs_io_close(&io);
    free(io.buf);
    ctx_free(&c);
    return st;
}
