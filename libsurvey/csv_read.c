/* CSV and TSV input through libcsv.  Every column is untyped text: a number
 * is parsed by whoever needs it (svy_value_number), so no column's type is
 * ever guessed from its first rows.  An unquoted empty field is missing; a
 * quoted empty field ("") is an empty string. */
#include "csv_private.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* libcsv grows a field's buffer by a fixed block (128 bytes): a 64 MiB
 * quoted field took half a million reallocs, each copying the field, which
 * under ASan (or any allocator without mremap) ran for many minutes.  The
 * parser being fed is noted here so each growth sets the next block to the
 * size so far: geometric growth, a few dozen reallocs at most. */
static _Thread_local struct csv_parser *growing;

static void *capped_realloc(void *p, size_t n)
{
    if (n > FIELD_MAX)
        return NULL;
    void *q = realloc(p, n);
    if (q && growing && n > 128)
        csv_set_blk_size(growing, n);
    return q;
}

/* 0xFF is never UTF-8: the abort mark of a failed upstream tool, or a
 * wrong encoding.  NUL would cut a value short for every C-string consumer
 * (and detection calls a head with NUL bytes binary).  Checked on the whole
 * line, because the field checks skip columns that are not delivered.
 * Returns 1, with c->st set, when the line has either. */
static int bad_bytes(csvctx *c, const char *line, size_t n)
{
    const char *ff = c->check_ff ? memchr(line, 0xFF, n) : NULL;
    if (ff) {
        size_t rest = n - (size_t)(ff - line);
        int mark = rest >= 10 && memcmp(ff, SVY_ABORT_MARK, 10) == 0;
        c->st = svy_err_set(c->err, mark ? SVY_E_IO : SVY_E_ENCODING, c->r->name,
                            c->header_done ? c->r->rows + 1 : 0, 0, NULL, "%s",
                            mark ? "the input is incomplete: the program writing it failed"
                                 : "text is not valid UTF-8 (byte 0xFF); give the file's encoding with "
                                   "--encoding, for example CP1252");
        return 1;
    }
    if (memchr(line, 0, n)) {
        c->st = svy_err_set(c->err, SVY_E_ENCODING, c->r->name, c->header_done ? c->r->rows + 1 : 0, 0, NULL,
                            "NUL byte in the text: a binary file, or UTF-16 without --encoding?");
        return 1;
    }
    return 0;
}

/* A quote-free line is what a CSV writer writes for its values unless a
 * field holds CR or starts with U+FEFF (the writer quotes those).  Only
 * lines the scan called odd can have either. */
static int line_plain(const char *p, size_t n, const size_t *bounds, size_t nb, int ascii)
{
    if (ascii)
        return 1;
    if (memchr(p, '\r', n))
        return 0;
    for (size_t k = 0; k <= nb; k++) {
        size_t from = k ? bounds[k - 1] + 1 : 0;
        if (n - from >= 3 && memcmp(p + from, "\xEF\xBB\xBF", 3) == 0)
            return 0;
    }
    return 1;
}

/* The common case, a data line with the header's number of fields and no
 * quote: fill the row's values straight from the line (each field's
 * delimiter becomes its NUL) and deliver it, without the per-field
 * callbacks libcsv's path needs.  Same values, same checks. */
static int direct_row(csvctx *c, char *p, size_t n, size_t *bounds, size_t nb)
{
    if (c->lines_ok && line_plain(p, n, bounds, nb, c->ascii_line)) {
        if (n + 1 > c->linecap && !svy_grow((void **)&c->linebuf, &c->linecap, n + 1, 1)) {
            svy_csv_fail(c, SVY_E_NOMEM, 0, NULL, "out of memory");
            return 1;
        }
        memcpy(c->linebuf, p, n);
        c->r->line = c->linebuf;
        c->r->line_len = n;
    }
    /* Locals, not c->...: the stores into the line (char) may alias
     * anything, and the compiler would reload every field per cell.  The
     * values' type, tag and num were set once (start_rows). */
    svy_value *vals = c->r->vals;
    const long *map = c->r->map;
    const int ascii = c->ascii_line;
    bounds[nb] = n;
    size_t from = 0;
    for (size_t k = 0; k <= nb; k++) {
        size_t to = bounds[k];
        long slot = map[k];
        if (slot >= 0) {
            svy_value *v = &vals[slot];
            size_t len = to - from;
            if (!len) {
                v->missing = SVY_MISS_SYSTEM;
                v->str = "";
                v->len = 0;
            } else {
                if (!ascii && !svy_utf8_valid(p + from, len, NULL)) {
                    c->r->line = NULL;
                    c->col = k;
                    svy_csv_check_utf8(c, p + from, len, NULL);
                    c->ascii_line = 0;
                    return 1;
                }
                p[to] = '\0';
                v->missing = SVY_MISS_NONE;
                v->str = p + from;
                v->len = len;
            }
        }
        from = to + 1;
    }
    c->ascii_line = 0;
    c->col = 0;
    c->arena_len = 0;
    svy_status st = svy_reader_emit(c->r, c->h, c->ctx, c->err);
    c->r->line = NULL;
    if (st)
        c->st = st;
    return 1;
}

/* Splits a line in one pass: the offsets of its first SCAN_FIELDS - 1 delimiters go to
 * bounds[], and the count of all of them is returned; SCAN_QUOTE when the
 * line has a quote (libcsv's job).  *nonascii is set when a byte is NUL, CR
 * or not ASCII: the only lines that can hold a bad byte, or need quotes
 * when written back (line_plain).  The SSE2 version looks
 * at 16 bytes at a time (the line's buffer has SCAN_PAD bytes after it). */
#define SCAN_QUOTE ((size_t)-1)
/* Lines of up to SCAN_FIELDS fields take direct_row (a file with 80
 * replicate weights has 94). */
#define SCAN_FIELDS 256
static size_t scan_line(const char *p, size_t n, char delim, size_t *bounds, int *nonascii)
{
    size_t nb = 0;
#if defined(__SSE2__)
    const __m128i vd = _mm_set1_epi8(delim), vq = _mm_set1_epi8('"'), vz = _mm_setzero_si128(),
                  vr = _mm_set1_epi8('\r');
    unsigned odd = 0;
    for (size_t i = 0; i < n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned md = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vd));
        unsigned mq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vq));
        unsigned mo = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(x, _mm_or_si128(_mm_cmpeq_epi8(x, vz), _mm_cmpeq_epi8(x, vr))));
        if (n - i < 16) {
            unsigned keep = (1u << (n - i)) - 1;
            md &= keep;
            mq &= keep;
            mo &= keep;
        }
        if (mq)
            return SCAN_QUOTE;
        odd |= mo;
        while (md) {
            if (nb < SCAN_FIELDS - 1)
                bounds[nb] = i + (size_t)__builtin_ctz(md);
            nb++;
            md &= md - 1;
        }
    }
    *nonascii = odd != 0;
#else
    unsigned char acc = 0;
    int nul = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)p[i];
        acc |= b;
        if (b == (unsigned char)delim) {
            if (nb < SCAN_FIELDS - 1)
                bounds[nb] = i;
            nb++;
        } else if (b == '"') {
            return SCAN_QUOTE;
        } else if (b == 0 || b == '\r') {
            nul = 1;
        }
    }
    *nonascii = nul || acc >= 0x80;
#endif
    return nb;
}

/* A line without a quote character is split here, in one pass, and its
 * fields go to the same callbacks libcsv uses.  Lines with quotes go to
 * libcsv, which owns RFC 4180's quoting rules.  Returns -1 when the line
 * has a bad byte (c->st set).  Returns 0 when the line has
 * a quote and must go to libcsv instead. */
static int fast_line(csvctx *c, char *p, size_t n, char delim)
{
    if (n && p[n - 1] == '\r')
        n--;
    c->fast_done = 1;
    if (n == 0) {
        /* Blank lines are skipped, as libcsv does, except in a one-column
         * file: there a blank line is a row whose value is missing, which is
         * exactly what the writer writes for it (found by round-tripping). */
        if (!c->header_done || c->ncols != 1)
            return 1;
        if (svy_reader_slot(c->r, 0) < 0)
            c->col++;
        else
            svy_csv_on_field(NULL, 0, c);
        svy_csv_on_row('\n', c);
        return 1;
    }
    size_t bounds[SCAN_FIELDS];
    int nonascii;
    size_t nb = scan_line(p, n, delim, bounds, &nonascii);
    if (nb == SCAN_QUOTE) {
        c->fast_done = 0;
        return 0;
    }
    /* Only a line with a NUL or a non-ASCII byte can hold a bad byte. */
    if (nonascii && bad_bytes(c, p, n))
        return -1;
    c->ascii_line = !nonascii;
    if (c->header_done && nb + 1 == c->ncols && nb < SCAN_FIELDS - 1 && !c->st)
        return direct_row(c, p, n, bounds, nb);
    c->zero_copy = c->header_done;
    size_t from = 0;
    for (size_t k = 0; k <= nb; k++) {
        size_t to;
        if (k == nb) {
            to = n;
        } else if (k < SCAN_FIELDS - 1) {
            to = bounds[k];
        } else {
            const char *q = memchr(p + from, delim, n - from);
            to = (size_t)(q - p);
        }
        size_t len = to - from;
        if (c->header_done && c->col < c->ncols && svy_reader_slot(c->r, c->col) < 0)
            c->col++; /* not delivered: skip without copying */
        else
            svy_csv_on_field(len ? p + from : NULL, len, c);
        from = to + 1;
    }
    c->ascii_line = 0;
    c->zero_copy = 0;
    svy_csv_on_row('\n', c);
    return 1;
}

/* Whether lines end in CR alone ("CSV (Macintosh)" from Excel): the first
 * line end outside quotes is a CR not followed by LF.  -1 while the buffer
 * does not tell yet.  Such a file used to be read as one header line and no
 * rows (exit 0), unless a quote sent it to libcsv, which ends rows at CR. */
static int line_ends_in_cr(const char *p, size_t n, int at_eof)
{
    int inq = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"')
            inq = !inq;
        else if (!inq && p[i] == '\n')
            return 0;
        else if (!inq && p[i] == '\r')
            return i + 1 < n ? p[i + 1] != '\n' : at_eof ? 1 : -1;
    }
    return at_eof ? 0 : -1;
}

/* In a CR-only file, each CR outside quotes that is not followed by LF
 * becomes LF, from *from to end, so the line loop (and libcsv) sees LF
 * lines and pays nothing for this in other files.  A quoted CR stays data;
 * a CR at the end of what was read waits for the next byte. */
__attribute__((noinline, cold)) static void cr_to_lf(char *buf, size_t *from, size_t end, int at_eof, int *inq)
{
    size_t i = *from;
    for (; i < end; i++) {
        if (buf[i] == '"') {
            *inq = !*inq;
        } else if (buf[i] == '\r' && !*inq) {
            if (i + 1 == end && !at_eof)
                break;
            if (i + 1 == end || buf[i + 1] != '\n')
                buf[i] = '\n';
        }
    }
    *from = i;
}

/* A failed upstream tool cut its last row short, then wrote the abort
 * mark: does the mark come right after the row that ends at at? */
static int mark_after(source *src, const char *buf, size_t at, size_t end)
{
    return (end - at >= 10 && memcmp(buf + at, SVY_ABORT_MARK, 10) == 0) ||
           (at == end && svy_csv_mark_follows(src));
}

/* csv_scan.c's row loop from *start: 1 when the caller stops splitting
 * lines (to read more, or on a failure); else *start is a line for the
 * line path. */
static int scan_rows(csvctx *c, source *src, char *buf, size_t *start, size_t end, int at_eof)
{
    int why;
    size_t next = svy_csv_scan(c, buf, *start, end, &why);
    *start = next;
    if (why == SCAN_FAILED) {
        if (c->st == SVY_E_DATA && mark_after(src, buf, next, end))
            c->st = svy_err_set(c->err, SVY_E_IO, c->r->name, c->r->rows + 1, 0, NULL,
                                "the input is incomplete: the program writing it failed");
        return 1;
    }
    return (why == SCAN_MORE && !at_eof) || next >= end;
}

svy_status svy_csv_read_run(svy_reader *r, const svy_handler *h, void *ctx, svy_err *err)
{
    csvctx c = {.r = r, .h = h, .ctx = ctx, .err = err};
    source src = {.r = r, .fd = -1, .cd = (iconv_t)-1};
    struct csv_parser p;
    svy_status st = SVY_OK;
    char *buf = NULL;
    size_t cap = CHUNK, start = 0, end = 0;
    int in_csv = 0; /* libcsv holds an unfinished row (a quoted field spans lines) */

    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0)
        return svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
    char delim = svy_csv_detect_delim(r);
    c.check_ff = !r->encoding || svy_csv_is_utf8_name(r->encoding);
    c.delim = delim;
    csv_set_delim(&p, (unsigned char)delim);
    csv_set_space_func(&p, svy_csv_no_space);
    csv_set_realloc_func(&p, capped_realloc);

    if (r->encoding && !svy_csv_is_utf8_name(r->encoding)) {
        src.cd = iconv_open("UTF-8", r->encoding);
        if (src.cd == (iconv_t)-1) {
            /* Only EINVAL means the name is unknown; ENOMEM and EMFILE are
             * system failures, not the user's mistake. */
            int e = errno;
            if (e == EINVAL)
                st = svy_err_set(err, SVY_E_USAGE, r->name, 0, 0, NULL, "unknown encoding '%s'", r->encoding);
            else
                st = svy_err_set(err, e == ENOMEM ? SVY_E_NOMEM : SVY_E_IO, r->name, 0, 0, NULL,
                                 "cannot convert from %s: %s", r->encoding, strerror(e));
            goto out;
        }
        src.raw = svy_malloc(CHUNK / 4 * 2);
        if (!src.raw) {
            st = svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
            goto out;
        }
    }
    buf = svy_malloc(cap + 1 + SCAN_PAD); /* +1: the NUL after a last field at the very end */
    if (!buf) {
        st = svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
        goto out;
    }
    memset(buf, 0, cap + 1 + SCAN_PAD);
    src.fd = svy_reader_input_fd(r);
    if (src.fd >= 0) {
        /* The file detected at open (even if its path now names another),
         * or the spool of a stream. */
        if (lseek(src.fd, 0, SEEK_SET) != 0)
            src.fd = -1;
    } else {
        src.fd = r->in_fd;
        src.head_pending = 1; /* a stream: the bytes read for detection come first */
    }
    if (src.fd < 0) {
        int e = errno;
        st = svy_err_sys(err, e, r->name, 0, "cannot read");
        goto out;
    }

    int first = 1, at_eof = 0;
    int scan_tried = 0; /* svy_csv_scan_init was asked, once the header is read */
    int cr_only = -1;   /* lines end in CR alone (Excel for Mac): -1 until the first line end is seen */
    size_t cr_from = 0; /* cr_to_lf: translated up to here */
    int cr_inq = 0;     /* cr_to_lf: inside quotes there */
    while (!c.st) {
        /* Refill: keep the unfinished line, read after it. */
        if (!at_eof) {
            if (start > 0) {
                memmove(buf, buf + start, end - start);
                end -= start;
                cr_from -= cr_from >= start ? start : cr_from;
                start = 0;
            }
            if (end == cap) {
                if (cap >= LINE_MAX_BYTES) {
                    c.st = svy_err_set(err, SVY_E_LIMIT, r->name, c.header_done ? r->rows + 1 : 0, 0, NULL,
                                       "line longer than 64 MiB (a line without end?)");
                    break;
                }
                char *nb = svy_reallocarray(buf, cap * 2 + 1 + SCAN_PAD, 1);
                if (!nb) {
                    c.st = svy_err_set(err, SVY_E_NOMEM, r->name, 0, 0, NULL, "out of memory");
                    break;
                }
                memset(nb + cap, 0, cap + 1 + SCAN_PAD);
                buf = nb;
                cap *= 2;
            }
            ssize_t k = svy_csv_src_read(&src, buf + end, cap - end);
            if (k == -1) {
                int e = errno;
                c.st = svy_err_sys(err, e, r->name, c.header_done ? r->rows + 1 : 0, "read error");
                break;
            }
            if (k == -2) {
                c.st = svy_err_set(err, SVY_E_ENCODING, r->name, c.header_done ? r->rows + 1 : 0, 0, NULL,
                                   "bytes that are not valid %s text", r->encoding);
                break;
            }
            if (k == -3) {
                c.st = svy_err_set(err, SVY_E_IO, r->name, c.header_done ? r->rows + 1 : 0, 0, NULL,
                                   "the input is incomplete: the program writing it failed");
                break;
            }
            if (k == 0)
                at_eof = 1;
            end += (size_t)k;
            if (first && end - start >= 3) {
                first = 0;
                if (memcmp(buf + start, "\xEF\xBB\xBF", 3) == 0)
                    start += 3;
            } else if (first && at_eof) {
                first = 0;
            }
            if (cr_only < 0 && (cr_only = line_ends_in_cr(buf + start, end - start, at_eof)) > 0)
                cr_from = start;
            if (cr_only > 0)
                cr_to_lf(buf, &cr_from, end, at_eof, &cr_inq);
        }
        /* Whole lines; at the end, the last line even without a newline. */
        while (!c.st && start < end) {
            if (c.header_done && !in_csv && !scan_tried) {
                scan_tried = 1;
                svy_csv_scan_init(&c);
            }
            if (c.smap && !in_csv && scan_rows(&c, &src, buf, &start, end, at_eof))
                break;
            char *line = buf + start;
            char *nl = memchr(line, '\n', end - start);
            if (!nl && !at_eof)
                break;
            size_t n = nl ? (size_t)(nl - line) + 1 : end - start;
            c.fast_done = 0;
            if (!in_csv && fast_line(&c, line, nl ? n - 1 : n, delim) < 0)
                break;
            if (!c.fast_done) {
                if (bad_bytes(&c, line, n))
                    break;
                c.row_done = 0;
                growing = &p;
                size_t used = csv_parse(&p, line, n, svy_csv_on_field, svy_csv_on_row, &c);
                growing = NULL;
                if (used != n && !c.st) {
                    int e = csv_error(&p);
                    c.st = svy_err_set(err, e == CSV_EPARSE ? SVY_E_DATA : SVY_E_LIMIT, r->name,
                                       c.header_done ? r->rows + 1 : 0, (long long)c.col + 1, NULL, "%s",
                                       e == CSV_EPARSE ? "broken quoting: a quote inside an unquoted field, or "
                                                         "text after a closing quote"
                                                       : "field longer than 64 MiB");
                }
                /* A row ends only at a newline outside quotes: libcsv says so by
                 * calling svy_csv_on_row.  Otherwise the quoted field goes on. */
                in_csv = !(c.row_done && nl);
            }
            /* A failed upstream tool cut its last row short, then wrote the
             * abort mark: say the input is incomplete, not that the row is. */
            if (c.st == SVY_E_DATA && mark_after(&src, buf, start + n, end))
                c.st = svy_err_set(err, SVY_E_IO, r->name, r->rows + 1, 0, NULL,
                                   "the input is incomplete: the program writing it failed");
            start += n;
        }
        if (at_eof && start >= end)
            break;
    }
    if (!c.st && in_csv && csv_fini(&p, svy_csv_on_field, svy_csv_on_row, &c) != 0 && !c.st)
        c.st = svy_err_set(err, SVY_E_DATA, r->name, c.header_done ? r->rows + 1 : 0, (long long)c.col + 1, NULL,
                           "file ends inside a quoted field");
    if (!c.st && !c.header_done)
        c.st = svy_err_set(err, SVY_E_FORMAT, r->name, 0, 0, NULL, "no header line");
    st = c.st;
out:
    csv_free(&p);
    if (src.cd != (iconv_t)-1)
        iconv_close(src.cd);
    free(src.raw);
    free(buf);
    for (size_t i = 0; i < c.nnames; i++)
        free(c.names[i]);
    free(c.names);
    free(c.arena);
    free(c.off);
    free(c.len);
    free(c.miss);
    free(c.direct);
    free(c.linebuf);
    free(c.smap);
    return st;
}
