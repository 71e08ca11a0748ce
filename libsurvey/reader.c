/* The reader front: open, detect the format by content, spool stdin when a
 * format must seek, project columns, and hand rows from a backend to the
 * caller. */
#include "reader_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEAD_MAX (64u * 1024u)

static const struct {
    const char *format;
    svy_backend_run run;
} backends[] = {
    {"csv", svy_csv_read_run},
    {"tsv", svy_csv_read_run},
    {"dta", svy_rs_read_run},
    {"por", svy_rs_read_run},
    {"sas7bdat", svy_rs_read_run},
    {"sav", svy_rs_read_run},
    {"xpt", svy_rs_read_run},
    {"zsav", svy_rs_read_run},
};

svy_reader *svy_reader_new(void)
{
    svy_reader *r = calloc(1, sizeof *r);
    if (r) {
        r->limit = -1;
        r->in_fd = -1;
        r->spool_fd = -1;
    }
    return r;
}

static void run_state_free(svy_reader *r)
{
    if (r->out != r->full)
        svy_schema_free(r->out);
    svy_schema_free(r->full);
    free(r->map);
    free(r->vals);
    r->out = r->full = NULL;
    r->map = NULL;
    r->vals = NULL;
}

void svy_reader_free(svy_reader *r)
{
    if (!r)
        return;
    run_state_free(r);
    if (r->owns_fd)
        close(r->in_fd);
    if (r->spool_fd >= 0)
        close(r->spool_fd);
    for (size_t i = 0; i < r->ncolumns; i++)
        free(r->columns[i]);
    free(r->columns);
    free(r->path);
    free(r->name);
    free(r->encoding);
    free(r->catalog);
    free(r->head);
    free(r);
}

static svy_status replace_str(char **dst, const char *src)
{
    char *c = src ? svy_strdup(src) : NULL;
    if (src && !c)
        return SVY_E_NOMEM;
    free(*dst);
    *dst = c;
    return SVY_OK;
}

svy_status svy_reader_set_encoding(svy_reader *r, const char *enc) { return replace_str(&r->encoding, enc); }
svy_status svy_reader_set_catalog(svy_reader *r, const char *path) { return replace_str(&r->catalog, path); }
void svy_reader_set_limit(svy_reader *r, long long n) { r->limit = n < 0 ? -1 : n; }
void svy_reader_set_delimiter(svy_reader *r, char delim) { r->delim = delim; }
void svy_reader_set_rewindable(svy_reader *r, int on) { r->rewindable = on; }

void svy_reader_set_keep_lines(svy_reader *r, int on) { r->keep_lines = on; }

svy_status svy_reader_set_columns(svy_reader *r, const char *const *names, size_t n)
{
    for (size_t i = 0; i < r->ncolumns; i++)
        free(r->columns[i]);
    free(r->columns);
    r->columns = NULL;
    r->ncolumns = 0;
    if (!names)
        return SVY_OK;
    r->columns = svy_calloc(n, sizeof *r->columns);
    if (!r->columns)
        return SVY_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!(r->columns[i] = svy_strdup(names[i])))
            return SVY_E_NOMEM;
        r->ncolumns++;
    }
    return SVY_OK;
}

const char *svy_reader_format(const svy_reader *r) { return r->format; }
const char *svy_reader_name(const svy_reader *r) { return r->name ? r->name : "<stdin>"; }
long long svy_reader_rows(const svy_reader *r) { return r->rows; }

long long svy_reader_column_of(const svy_reader *r, const char *name)
{
    if (!r->full || !name)
        return 0;
    long i = svy_schema_find(r->full, name);
    return i < 0 ? 0 : (long long)i + 1;
}

int svy_reader_input_fd(const svy_reader *r)
{
    if (r->spool_fd >= 0)
        return r->spool_fd;
    return r->stream ? -1 : r->in_fd;
}

/* ---- detection ---- */

static int has_prefix(const unsigned char *b, size_t len, const char *magic, size_t mlen)
{
    return len >= mlen && memcmp(b, magic, mlen) == 0;
}

/* The bytes before the "SPSSPORT" tag of a portable file are 456 bytes in
 * lines of exactly 80, or in one unbroken run. */
static int por_lines(const unsigned char *b, size_t tag)
{
    size_t run = 0, data = 0;
    for (size_t i = 0; i < tag; i++) {
        if (b[i] == '\r' && i + 1 < tag && b[i + 1] == '\n')
            continue;
        if (b[i] == '\n') {
            if (run != 80)
                return 0;
            run = 0;
            continue;
        }
        run++;
        data++;
    }
    return data == 456;
}

/* UTF-16 text: 1 with a byte-order mark (FF FE or FE FF), 2 for little-
 * and 3 for big-endian ASCII text without one (its first line, at least
 * two characters, all in the form "x\0" or "\0x"); 0 otherwise. */
int svy_utf16_kind(const unsigned char *b, size_t len)
{
    if (len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF)))
        return 1;
    for (int be = 0; be < 2; be++) {
        size_t i = 0;
        for (; i + 1 < len; i += 2) {
            unsigned char c = b[i + be], z = b[i + !be];
            if (z != 0 || c == 0 || c >= 0x80)
                break;
            if (c == '\n' || c == '\r')
                break;
        }
        if (i >= 4 && i + 1 < len && b[i + !be] == 0 && (b[i + be] == '\n' || b[i + be] == '\r'))
            return 2 + be;
        if (i >= 4 && i + 1 >= len)
            return 2 + be;
    }
    return 0;
}

const char *svy_detect_format(const unsigned char *b, size_t len)
{
    static const unsigned char sas7bdat_magic[32] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc2, 0xea, 0x81, 0x60,
        0xb3, 0x14, 0x11, 0xcf, 0xbd, 0x92, 0x08, 0x00, 0x09, 0xc7, 0x31, 0x8c, 0x18, 0x1f, 0x10, 0x11};
    if (!len)
        return NULL;
    if (has_prefix(b, len, "$FL2", 4))
        return "sav";
    if (has_prefix(b, len, "$FL3", 4))
        return "zsav";
    if (has_prefix(b, len, "<stata_dta>", 11))
        return "dta";
    if (has_prefix(b, len, (const char *)sas7bdat_magic, sizeof sas7bdat_magic))
        return "sas7bdat";
    if (has_prefix(b, len, "HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!", 48) ||
        has_prefix(b, len, "HEADER RECORD*******LIBV8   HEADER RECORD!!!!!!!", 48))
        return "xpt";
    /* Old binary .dta: release byte, byte order (1 = big, 2 = little; none
     * in 102), file type 1.  The fourth byte is not always zero (Stata 6 and
     * 8 on Sun and Mac wrote 0x01 and 0x1c). */
    if (len >= 4 && b[0] >= 0x66 && b[0] <= 0x73 && (b[1] == 1 || b[1] == 2 || (b[0] == 0x66 && b[1] == 0)) &&
        b[2] == 1)
        return "dta";
    /* UTF-16 CSV/TSV (Excel's "Unicode text"): its NUL bytes are text.
     * Tabs and commas counted on the first line, by code unit. */
    int u16 = svy_utf16_kind(b, len);
    if (u16) {
        size_t tabs = 0, commas = 0;
        for (size_t i = u16 == 1 ? 2 : 0; i + 1 < len; i += 2) {
            unsigned hi = u16 == 3 || (u16 == 1 && b[0] == 0xFE) ? b[i] : b[i + 1];
            unsigned lo = u16 == 3 || (u16 == 1 && b[0] == 0xFE) ? b[i + 1] : b[i];
            if (hi == 0 && (lo == '\n' || lo == '\r'))
                break;
            tabs += hi == 0 && lo == '\t';
            commas += hi == 0 && lo == ',';
        }
        return tabs > commas ? "tsv" : "csv";
    }
    /* Old dta 102-105 start 0x66..0x69 too; anything with NUL bytes that
     * reached here is binary, and not ours. */
    int has_nul = memchr(b, 0, len) != NULL;
    /* SPSS portable: a 200-byte splash, a 256-byte translation table, then
     * "SPSSPORT"; lines are broken every 80 characters, by LF or CRLF, so the
     * tag starts at byte 456 plus at most 6 line breaks.  Anywhere else it is
     * text that happens to contain the word (fuzzing found a CSV read as .por). */
    if (!has_nul) {
        for (size_t i = 456; i <= 456 + 12 && i + 8 <= len; i++)
            if (memcmp(b + i, "SPSSPORT", 8) == 0 && por_lines(b, i))
                return "por";
    }
    if (has_nul)
        return NULL;
    /* Text: CSV unless the first line has more tabs than commas. */
    size_t tabs = 0, commas = 0;
    for (size_t i = 0; i < len && b[i] != '\n' && b[i] != '\r'; i++) {
        tabs += b[i] == '\t';
        commas += b[i] == ',';
    }
    return tabs > commas ? "tsv" : "csv";
}

/* ---- open ---- */


static ssize_t read_full(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

/* Copy what was read for detection and the rest of a stream to a temporary
 * file, for the formats that seek.  The file is unlinked as soon as it is
 * made and read through its descriptor: nothing is left in $TMPDIR however
 * the process ends (an interrupt, a kill -9), and nothing else can open it
 * by name meanwhile. */
static svy_status spool_stdin(svy_reader *r, svy_err *err)
{
    size_t n = strlen(svy_tmpdir()) + 32;
    char *path = svy_malloc(n);
    if (!path)
        return svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
    snprintf(path, n, "%s/svy-stdin.XXXXXX", svy_tmpdir());
    int fd = mkstemp(path);
    if (fd < 0) {
        int e = errno;
        free(path);
        return svy_err_sys(err, e, r->name, 0, "cannot create a temporary file to spool standard input");
    }
    unlink(path);
    free(path);
    r->spool_fd = fd;
    unsigned char *buf = svy_malloc(1u << 20);
    if (!buf)
        return svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
    svy_status st = SVY_OK;
    size_t len = r->head_len;
    memcpy(buf, r->head, len);
    for (;;) {
        for (size_t off = 0; off < len;) {
            ssize_t k = write(fd, buf + off, len - off);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0) {
                st = svy_err_sys(err, errno, r->name, 0, "cannot spool standard input");
                goto out;
            }
            off += (size_t)k;
        }
        ssize_t k = read_full(r->in_fd, buf, 1u << 20);
        if (k < 0) {
            st = svy_err_sys(err, errno, r->name, 0, "read error");
            goto out;
        }
        if (k == 0)
            break;
        len = (size_t)k;
    }
out:
    free(buf);
    return st;
}

svy_status svy_reader_open(svy_reader *r, const char *path, svy_err *err)
{
    if (r->format)
        return svy_err_set(err, SVY_E_USAGE, path, 0, 0, NULL, "reader is already open");
    r->use_stdin = strcmp(path, "-") == 0;
    if (replace_str(&r->path, r->use_stdin ? NULL : path) ||
        replace_str(&r->name, r->use_stdin ? "<stdin>" : path))
        return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
    r->head = svy_malloc(HEAD_MAX);
    if (!r->head)
        return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
    int fd = r->use_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return svy_err_sys(err, errno, r->name, 0, "cannot open");
    r->in_fd = fd;
    r->owns_fd = !r->use_stdin;
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return svy_err_sys(err, errno, r->name, 0, "cannot open");
    if (S_ISDIR(sb.st_mode))
        return svy_err_sys(err, EISDIR, r->name, 0, "cannot read");
    /* A pipe or FIFO given by path (`svy-x <(zcat f.csv.gz)`) cannot be
     * opened twice: it is read like standard input. */
    r->stream = r->use_stdin || !S_ISREG(sb.st_mode);
    ssize_t k = read_full(fd, r->head, HEAD_MAX);
    if (k < 0)
        return svy_err_sys(err, errno, r->name, 0, "%s", errno == EISDIR ? "cannot read" : "read error");
    r->head_len = (size_t)k;
    if (r->head_len == 0)
        return svy_err_set(err, SVY_E_FORMAT, r->name, 0, 0, NULL, "empty file: no header and no data");
    const char *fmt = svy_detect_format(r->head, r->head_len);
    /* SPSS 21+ password protection wraps the .sav in its own container. */
    if (!fmt && r->head_len >= 20 && memcmp(r->head + 8, "ENCRYPTEDSAV", 12) == 0)
        return svy_err_set(err, SVY_E_FORMAT, r->name, 0, 0, NULL,
                           "password-encrypted SPSS file: save it without a password in SPSS first");
    if (!fmt)
        return svy_err_set(err, SVY_E_FORMAT, r->name, 0, 0, NULL,
                           "not a survey file of any supported format (Stata .dta, SPSS .sav/.zsav/.por, "
                           "SAS .sas7bdat/.xpt, CSV, TSV)");
    int known = 0;
    for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
        known |= strcmp(backends[i].format, fmt) == 0;
    if (!known)
        return svy_err_set(err, SVY_E_FORMAT, r->name, 0, 0, NULL, "format '%s' is not supported by this build", fmt);
    /* UTF-16 text is converted: a byte-order mark says which UTF-16; without
     * one the order is a guess, which the user makes (--encoding). */
    int u16 = (!strcmp(fmt, "csv") || !strcmp(fmt, "tsv")) ? svy_utf16_kind(r->head, r->head_len) : 0;
    if (u16 && !r->encoding) {
        if (u16 > 1)
            return svy_err_set(err, SVY_E_ENCODING, r->name, 0, 0, NULL,
                               "UTF-16 text without a byte-order mark: give its encoding, --encoding %s",
                               u16 == 2 ? "UTF-16LE" : "UTF-16BE");
        if (replace_str(&r->encoding, "UTF-16"))
            return svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
    }
    /* Never ignored silently: the catalog was asked for, and nothing would
     * read it. */
    if (r->catalog && strcmp(fmt, "sas7bdat") != 0)
        return svy_err_set(err, SVY_E_USAGE, r->name, 0, 0, NULL,
                           "a format catalog (-C) goes with SAS .sas7bdat input only, and this is %s input", fmt);
    r->format = fmt;
    int textual = strcmp(fmt, "csv") == 0 || strcmp(fmt, "tsv") == 0;
    if (r->stream && (!textual || r->rewindable))
        return spool_stdin(r, err);
    return SVY_OK;
}

/* ---- run ---- */

svy_status svy_reader_begin(svy_reader *r, svy_schema *full, const svy_handler *h, void *ctx, svy_err *err)
{
    size_t n = svy_schema_nvars(full);
    r->full = full;
    r->map = svy_calloc(n ? n : 1, sizeof *r->map);
    if (!r->map)
        return svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
    if (r->columns) {
        long *idx = svy_calloc(r->ncolumns, sizeof *idx);
        if (!idx)
            return svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
        for (size_t i = 0; i < n; i++)
            r->map[i] = -1;
        for (size_t k = 0; k < r->ncolumns; k++) {
            long j = svy_schema_find(full, r->columns[k]);
            if (j < 0) {
                free(idx);
                return svy_err_set(err, SVY_E_USAGE, r->name, 0, 0, r->columns[k], "no column '%s' in the input",
                                   r->columns[k]);
            }
            if (r->map[j] >= 0) {
                free(idx);
                return svy_err_set(err, SVY_E_USAGE, r->name, 0, 0, r->columns[k], "column '%s' asked for twice",
                                   r->columns[k]);
            }
            r->map[j] = (long)k;
            idx[k] = j;
        }
        r->out = svy_schema_project(full, idx, r->ncolumns);
        free(idx);
        if (!r->out)
            return svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
    } else {
        for (size_t i = 0; i < n; i++)
            r->map[i] = (long)i;
        r->out = full;
    }
    size_t nout = svy_schema_nvars(r->out);
    r->nvals = nout;
    r->vals = svy_calloc(nout ? nout : 1, sizeof *r->vals);
    if (!r->vals)
        return svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
    return h->schema ? h->schema(ctx, r->out, err) : SVY_OK;
}

/* Out of the row path, so that a run without progress pays one test. */
__attribute__((noinline, cold)) void svy_reader_progress_tick(svy_reader *r)
{
    if (r->rows && !(r->rows % SVY_PROGRESS_ROWS))
        svy_reader_report_progress(r, 0);
}

void svy_reader_set_progress(svy_reader *r, svy_progress_fn fn, void *ctx)
{
    r->progress = fn;
    r->progress_ctx = ctx;
}

void svy_reader_report_progress(svy_reader *r, int done)
{
    svy_progress p = {.rows = r->rows, .bytes = -1, .size = -1, .done = done};
    int fd = svy_reader_input_fd(r);
    struct stat sb;
    if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        off_t pos = lseek(fd, 0, SEEK_CUR);
        p.size = (long long)sb.st_size;
        /* A backend that reads through a descriptor of its own leaves this
         * one at 0: then how far is not known. */
        if (pos > 0)
            p.bytes = (long long)pos < p.size ? (long long)pos : p.size;
    }
    r->progress(r->progress_ctx, &p);
}

svy_status svy_reader_run(svy_reader *r, const svy_handler *h, void *ctx, svy_err *err)
{
    if (!r->format)
        return svy_err_set(err, SVY_E_USAGE, svy_reader_name(r), 0, 0, NULL, "reader is not open");
    if (r->ran && r->stream && r->spool_fd < 0)
        return svy_err_set(err, SVY_E_USAGE, svy_reader_name(r), 0, 0, NULL,
                           "a stream (standard input, a pipe) can be read only once (set the reader rewindable)");
    run_state_free(r);
    r->rows = 0;
    r->limit_hit = 0;
    r->ran = 1;
    for (size_t i = 0; i < sizeof backends / sizeof *backends; i++) {
        if (strcmp(backends[i].format, r->format) == 0) {
            /* The backend runs on the caller's thread.  A read-ahead thread
             * was tried and removed: handing rows between threads cost more
             * CPU than the second core gave back (bench/RESULTS.md). */
            svy_status st = backends[i].run(r, h, ctx, err);
            if (st == SVY_E_ABORT && r->limit_hit)
                st = SVY_OK;
            if (r->progress)
                svy_reader_report_progress(r, 1);
            return st;
        }
    }
    return svy_err_set(err, SVY_E_FORMAT, svy_reader_name(r), 0, 0, NULL, "no reader for format '%s'", r->format);
}
