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
#include "reader_private.h"
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

#define RS_BUF_SIZE (1u << 20)

/* Buffered file access for ReadStat. */
typedef struct rs_io {
    int fd;
    int input_fd;    /* the reader's descriptor (not ours to close), or -1: open the path (a catalog) */
    unsigned char *buf;
    size_t len, pos; /* bytes in buf, read position in buf */
    off_t base;      /* file offset of buf[0] */
    int sys_errno;   /* errno of a failed system call, 0 if none */
    /* The last read that got less than it asked for (the end of the file):
     * old .dta value labels end at the first short read, whatever it cut. */
    size_t short_want, short_got;
    int short_read;
} rs_io;

/* Both passes read the descriptor the reader detected, never the path
 * again: a file replaced in between would be read with the labels of the
 * first (the path ReadStat passes is only a name). */
static int io_open(const char *path, void *ctx)
{
    rs_io *io = ctx;
    if (io->input_fd >= 0) {
        if (lseek(io->input_fd, 0, SEEK_SET) != 0) {
            io->sys_errno = errno;
            return -1;
        }
        io->fd = io->input_fd;
    } else {
        io->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (io->fd < 0) {
            io->sys_errno = errno;
            return -1;
        }
    }
    io->len = io->pos = 0;
    io->base = 0;
    io->short_read = 0;
    return io->fd;
}

static int io_close(void *ctx)
{
    rs_io *io = ctx;
    int rc = 0;
    if (io->fd >= 0 && io->fd != io->input_fd)
        rc = close(io->fd);
    io->fd = -1;
    return rc;
}

static ssize_t io_read(void *dst, size_t n, void *ctx)
{
    rs_io *io = ctx;
    unsigned char *d = dst;
    size_t done = 0;
    /* ReadStat 1.1.8 compares what this returns with the size it wanted as
     * size_t in places (the .sav header), so -1 read as a full read of
     * garbage: a failed read returns the short count instead, and the error
     * stays in sys_errno for rs_fail (found by fault injection). */
    if (io->sys_errno)
        return 0;
    while (done < n) {
        if (io->pos < io->len) {
            size_t k = io->len - io->pos;
            if (k > n - done)
                k = n - done;
            memcpy(d + done, io->buf + io->pos, k);
            io->pos += k;
            done += k;
            continue;
        }
        io->base += (off_t)io->len;
        io->len = io->pos = 0;
        /* Large reads bypass the buffer. */
        size_t want = n - done;
        unsigned char *into = want >= RS_BUF_SIZE ? d + done : io->buf;
        size_t cap = want >= RS_BUF_SIZE ? want : RS_BUF_SIZE;
        ssize_t got;
        do
            got = read(io->fd, into, cap);
        while (got < 0 && errno == EINTR);
        if (got < 0) {
            io->sys_errno = errno;
            return (ssize_t)done;
        }
        if (got == 0) {
            io->short_read = 1;
            io->short_want = n;
            io->short_got = done;
            break;
        }
        if (into == io->buf) {
            io->len = (size_t)got;
        } else {
            io->base += got;
            done += (size_t)got;
        }
    }
    return (ssize_t)done;
}

static readstat_off_t io_seek(readstat_off_t off, readstat_io_flags_t whence, void *ctx)
{
    rs_io *io = ctx;
    off_t target;
    if (whence == READSTAT_SEEK_SET) {
        target = off;
    } else if (whence == READSTAT_SEEK_CUR) {
        target = io->base + (off_t)io->pos + off;
    } else {
        struct stat st;
        if (fstat(io->fd, &st) != 0) {
            io->sys_errno = errno;
            return -1;
        }
        target = st.st_size + off;
    }
    if (target < 0)
        return -1;
    if (target >= io->base && target <= io->base + (off_t)io->len) {
        io->pos = (size_t)(target - io->base);
        return target;
    }
    if (lseek(io->fd, target, SEEK_SET) < 0) {
        /* EINVAL: an offset no file can have, read from a corrupt header
         * (a .dta map): bad data, not a failing system. */
        if (errno != EINVAL)
            io->sys_errno = errno;
        return -1;
    }
    io->base = target;
    io->len = io->pos = 0;
    return target;
}

static readstat_error_t io_update(long file_size, readstat_progress_handler h, void *user_ctx, void *ctx)
{
    return READSTAT_OK;
}

/* One delivered column: where its value goes and its string buffer. */
typedef struct rs_col {
    long slot;          /* output slot, -1 when skipped */
    int user_missing;   /* the variable has SPSS missing definitions */
    char *sbuf;
    size_t scap;
} rs_col;

typedef struct rs_ctx {
    svy_reader *r;
    const svy_handler *h;
    void *hctx;
    svy_err *err;
    svy_status st;         /* why a handler stopped ReadStat */
    const char *file;      /* name for messages: r->name or the catalog */

    /* Pass 1. */
    svy_schema *full;
    svy_schema *sets;      /* value-label sets, one pseudo-variable each */

    /* Pass 2. */
    rs_col *cols;
    size_t ncols;
    int trigger;           /* variable whose value ends a row */
    long long row;         /* 0-based row being read */
    int last_index;        /* last variable seen in the row, -1 at row start */

    int dta_version;       /* .dta format version (104..119), 0 for other formats */
    char encoding[64];     /* the text encoding in force, for messages */
    int undeclared;        /* the file declares no encoding: its bytes are UTF-8, or refused */
    svy_raw_texts raw;     /* the file's own bytes of its texts, then */
    int restart;           /* pass 1 stopped to read again with undeclared set */
    char rs_msg[256];      /* last message from ReadStat's error handler */
} rs_ctx;

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

/* The column a failed string conversion most likely hit: the next delivered
 * variable after the last one ReadStat handed over. */
static void locate_failure(const rs_ctx *c, long long *row, long long *col, const char **var)
{
    *row = c->row + 1;
    *col = 0;
    *var = NULL;
    if (!c->cols)
        return;
    int from = c->last_index + 1;
    for (size_t i = (size_t)from; i < c->ncols; i++) {
        const svy_var *v = svy_schema_var(c->full ? c->full : c->r->full, i);
        if (c->cols[i].slot >= 0 && v && svy_var_type_of(v) == SVY_VAR_STRING) {
            *col = (long long)i + 1;
            *var = svy_var_name(v);
            return;
        }
    }
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
    readstat_set_open_handler(p, io_open);
    readstat_set_close_handler(p, io_close);
    readstat_set_read_handler(p, io_read);
    readstat_set_seek_handler(p, io_seek);
    readstat_set_update_handler(p, io_update);
    readstat_set_io_ctx(p, io);
    readstat_set_error_handler(p, on_error);
    readstat_set_handler_character_encoding(p, "UTF-8");
    if (c->r->encoding)
        readstat_set_file_character_encoding(p, c->r->encoding);
    else if (c->undeclared)
        readstat_set_file_character_encoding(p, "ISO-8859-1"); /* each byte a character: svy_raw_text */
    *st = SVY_OK;
    return p;
}

/* Turn what ReadStat returned into a record (unless a handler set one). */
static svy_status rs_fail(rs_ctx *c, rs_io *io, readstat_error_t e, int in_data)
{
    if (e == READSTAT_ERROR_USER_ABORT && c->st != SVY_OK)
        return c->st;
    long long row = 0, col = 0;
    /* A failed read makes ReadStat see a short or odd file: whatever it
     * concluded, the cause is the system's. */
    if (io->sys_errno && e != READSTAT_ERROR_OPEN) {
        const char *where;
        if (in_data)
            locate_failure(c, &row, &col, &where);
        return svy_err_sys(c->err, io->sys_errno, c->file, row, "read error");
    }
    const char *var = NULL;
    if (in_data)
        locate_failure(c, &row, &col, &var);
    const char *rsmsg = readstat_error_message(e);
    char extra[300] = "";
    if (c->rs_msg[0])
        snprintf(extra, sizeof extra, " (%s)", c->rs_msg);
    switch (e) {
    case READSTAT_ERROR_OPEN:
        return svy_err_sys(c->err, io->sys_errno ? io->sys_errno : ENOENT, c->file, 0, "cannot open");
    case READSTAT_ERROR_MALLOC:
        /* ReadStat refuses allocations a corrupt header asks for. */
        return svy_err_set(c->err, SVY_E_FORMAT, c->file, row, 0, NULL,
                           "corrupt or unsupported %s file: %s%s", c->r->format, rsmsg, extra);
    case READSTAT_ERROR_CONVERT:
    case READSTAT_ERROR_CONVERT_BAD_STRING:
    case READSTAT_ERROR_CONVERT_SHORT_STRING:
    case READSTAT_ERROR_CONVERT_LONG_STRING:
        return svy_err_set(c->err, SVY_E_ENCODING, c->file, row, col, var,
                           "text cannot be converted from %s to UTF-8; name the file's real encoding with --encoding",
                           c->encoding[0] ? c->encoding : "the declared encoding");
    case READSTAT_ERROR_UNSUPPORTED_CHARSET:
        if (c->r->encoding)
            return svy_err_set(c->err, SVY_E_USAGE, c->file, 0, 0, NULL, "unknown encoding '%s'", c->r->encoding);
        return svy_err_set(c->err, SVY_E_ENCODING, c->file, 0, 0, NULL,
                           "the file declares a character set this system cannot convert%s; "
                           "name one with --encoding", extra);
    case READSTAT_ERROR_READ:
    case READSTAT_ERROR_SEEK:
        if (io->sys_errno) {
            return svy_err_sys(c->err, io->sys_errno, c->file, row, "read error");
        }
        return svy_err_set(c->err, SVY_E_FORMAT, c->file, row, 0, NULL,
                           "%s file ends early or is corrupt: %s%s", c->r->format, rsmsg, extra);
    case READSTAT_ERROR_UNSUPPORTED_FILE_FORMAT_VERSION:
        if (!strcmp(c->r->format, "dta")) {
            unsigned char b = 0;
            int fd = svy_reader_input_fd(c->r);
            if (fd < 0 || pread(fd, &b, 1, 0) != 1)
                b = 0;
            if (b >= 0x66 && b < 0x68)
                return svy_err_set(c->err, SVY_E_FORMAT, c->file, 0, 0, NULL,
                                   "Stata file format %d (Stata 1 and 2) is older than ReadStat reads "
                                   "(104 and later); save it again in a newer Stata", b);
        }
        return svy_err_set(c->err, SVY_E_FORMAT, c->file, 0, 0, NULL, "unsupported version of the %s format%s",
                           c->r->format, extra);
    case READSTAT_ERROR_ROW_COUNT_MISMATCH:
        return svy_err_set(c->err, SVY_E_FORMAT, c->file, row, 0, NULL,
                           "%s file has fewer rows than its header says (truncated?)%s", c->r->format, extra);
    default:
        return svy_err_set(c->err, SVY_E_FORMAT, c->file, row, col, var, "not a readable %s file: %s%s",
                           c->r->format, rsmsg, extra);
    }
}

static const unsigned char *find_bytes(const unsigned char *h, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (h[i] == (unsigned char)needle[0] && !memcmp(h + i, needle, k))
            return h + i;
    return NULL;
}

/* ReadStat stops quietly at a short read in the value labels of a .dta, so
 * a file cut there would lose its labels unnoticed.  Formats 117 and later
 * carry a map whose last entry is the end of the file: check it. */
static svy_status check_dta_length(int fd, const char *name, svy_err *err)
{
    unsigned char head[1024];
    ssize_t n = pread(fd, head, sizeof head, 0);
    struct stat st;
    int have_size = fstat(fd, &st) == 0;
    if (n < 20 || !have_size || memcmp(head, "<stata_dta>", 11) != 0)
        return SVY_OK;
    const unsigned char *bo = find_bytes(head, (size_t)n, "<byteorder>");
    const unsigned char *map = find_bytes(head, (size_t)n, "<map>");
    if (!bo || !map || map + 5 + 14 * 8 > head + n)
        return SVY_OK;
    int msf = bo + 14 <= head + n && !memcmp(bo + 11, "MSF", 3);
    const unsigned char *p = map + 5 + 13 * 8;
    uint64_t end = 0;
    for (int i = 0; i < 8; i++)
        end |= (uint64_t)p[msf ? i : 7 - i] << (8 * (7 - i));
    if (end > (uint64_t)st.st_size)
        return svy_err_set(err, SVY_E_FORMAT, name, 0, 0, NULL,
                           "dta file is truncated: %lld bytes of the %llu its map announces",
                           (long long)st.st_size, (unsigned long long)end);
    return SVY_OK;
}

/* Before format 117 a .dta has no map: its value labels run to the end of
 * the file, and ReadStat ends them quietly at the first read that comes
 * back short, so a file cut inside them (even by one byte) lost its last
 * label set unnoticed.  The only short read of a whole file is the length
 * field of the table that is not there (2 or 4 bytes, none of them read);
 * any other means the file ends inside a table.  Not for 105-107: ReadStat
 * 1.1.8 reads their tables with the layout of 108 (4-byte length, 33-byte
 * name) while Stata 5 wrote 2-byte lengths and 9-byte names, so a whole file
 * ends in a short read too (a real 105 file of the test corpus does). */
static svy_status check_dta_labels_end(rs_ctx *c, const rs_io *io)
{
    if (!c->dta_version || c->dta_version >= 117 || !io->short_read)
        return SVY_OK;
    if (c->dta_version >= 105 && c->dta_version <= 107)
        return SVY_OK;
    if (io->short_got == 0 && (io->short_want == 2 || io->short_want == 4))
        return SVY_OK;
    return svy_err_set(c->err, SVY_E_FORMAT, c->file, 0, 0, NULL,
                       "dta file (format %d) is truncated: it ends inside its value labels (a read of %zu bytes "
                       "found %zu)",
                       c->dta_version, io->short_want, io->short_got);
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
            st = rs_fail(&c, &io, e, 0);
            goto out;
        }
        c.file = r->name;
        readstat_parser_free(p);
        p = NULL;
    }

    io.input_fd = fd;
    if (!strcmp(r->format, "dta") && (st = check_dta_length(fd, r->name, err)) != SVY_OK)
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
        st = rs_fail(&c, &io, e, 0);
        goto out;
    }
    if ((st = check_dta_labels_end(&c, &io)) != SVY_OK)
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
            st = rs_fail(&c, &io, e, 1);
    }

out:
    if (p)
        readstat_parser_free(p);
    io_close(&io);
    free(io.buf);
    ctx_free(&c);
    return st;
}
