/* The CSV/TSV reader with its options, and two properties beyond "does not
 * crash":
 *  - projection: reading columns (c3, c1) gives exactly what a full read
 *    gives in those columns;
 *  - round trip: what svy writes, svy reads back to the same values
 *    (read -> write -> read -> write is byte-identical).
 * The first byte chooses the options, the rest is the file. */
#define _GNU_SOURCE
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const encodings[4] = {NULL, "CP1252", "GB18030", "UTF-16LE"};
static const char delims[4] = {0, ',', ';', '\t'};

/* Values of one read, flattened: per cell a missing byte and the text. */
typedef struct cells {
    fuzz_sink sink;
    svy_writer *w;      /* also write what is read, when set */
    FILE *wf;
    svy_writer *wv;     /* and again from the values alone (no svy_row.line), when set */
    FILE *wvf;
    int keep_lines;
    char **names;
    size_t nnames;
    char *buf;
    size_t len, cap;
    int overflow;
} cells;

static void cells_put(cells *c, const void *p, size_t n)
{
    if (c->overflow || c->len + n > (8u << 20)) {
        c->overflow = 1;
        return;
    }
    if (!svy_grow((void **)&c->buf, &c->cap, c->len + n, 1))
        abort();
    memcpy(c->buf + c->len, p, n);
    c->len += n;
}

static svy_status cells_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    cells *c = ctx;
    fuzz_on_schema(&c->sink, s, err);
    c->nnames = svy_schema_nvars(s);
    c->names = calloc(c->nnames + 1, sizeof *c->names);
    for (size_t i = 0; i < c->nnames; i++)
        c->names[i] = strdup(svy_var_name(svy_schema_var(s, i)));
    if (c->wv) {
        svy_status st = svy_writer_open_stream(c->wv, c->wvf, "mem", s, err);
        if (st)
            return st;
    }
    if (c->w)
        return svy_writer_open_stream(c->w, c->wf, "mem", s, err);
    return SVY_OK;
}

static svy_status cells_row(void *ctx, const svy_row *row, svy_err *err)
{
    cells *c = ctx;
    fuzz_on_row(&c->sink, row, err);
    for (size_t i = 0; i < row->nvals; i++) {
        const svy_value *v = &row->vals[i];
        cells_put(c, &v->missing, 1);
        size_t n = v->type == SVY_VAL_STR ? v->len : 0;
        cells_put(c, &n, sizeof n);
        if (n)
            cells_put(c, v->str, n);
    }
    if (row->line) {
        /* A kept line is the row's values as plain CSV, every column. */
        FUZZ_ASSERT(c->keep_lines && row->line_nvals == row->nvals);
        FUZZ_ASSERT(memchr(row->line, 0, row->line_len) == NULL);
    }
    if (c->wv) {
        svy_row plain = {.index = row->index, .nvals = row->nvals, .vals = row->vals};
        svy_status st = svy_writer_write(c->wv, &plain, err);
        if (st)
            return st;
    }
    if (c->w)
        return svy_writer_write(c->w, row, err);
    return SVY_OK;
}

static void cells_free(cells *c)
{
    for (size_t i = 0; i < c->nnames; i++)
        free(c->names[i]);
    free(c->names);
    free(c->buf);
}

static svy_status read_path(const char *path, const char *enc, char delim, const char *const *cols,
                            size_t ncols, long long limit, cells *c, svy_err *err)
{
    svy_reader *r = svy_reader_new();
    svy_reader_set_encoding(r, enc);
    svy_reader_set_delimiter(r, delim);
    svy_reader_set_limit(r, limit);
    svy_reader_set_keep_lines(r, c->keep_lines);
    if (cols)
        svy_reader_set_columns(r, cols, ncols);
    svy_handler h = {cells_schema, cells_row};
    svy_err_clear(err);
    svy_status st = svy_reader_open(r, path, err);
    if (st == SVY_OK) {
        const char *fmt = svy_reader_format(r);
        if (strcmp(fmt, "csv") != 0 && strcmp(fmt, "tsv") != 0) {
            svy_reader_free(r);
            return SVY_E_ABORT; /* not text: fuzz_reader covers it */
        }
        st = svy_reader_run(r, &h, c, err);
    }
    fuzz_check_error(st, err);
    svy_reader_free(r);
    return st;
}

/* Read bytes (UTF-8, ',' delimiter) and write them as CSV; *out is malloc'd. */
static svy_status rewrite(const char *bytes, size_t n, char **out, size_t *outlen)
{
    char path[64];
    int fd = fuzz_memfile((const uint8_t *)bytes, n, path, sizeof path);
    cells c = {0};
    c.w = svy_writer_new(SVY_FMT_CSV);
    c.wf = open_memstream(out, outlen);
    svy_err err;
    svy_status st = read_path(path, NULL, ',', NULL, 0, -1, &c, &err);
    if (st == SVY_OK)
        st = svy_writer_close(c.w, &err);
    svy_writer_free(c.w);
    fclose(c.wf);
    cells_free(&c);
    close(fd);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned opt = data[0];
    data++;
    size--;
    const char *enc = encodings[opt & 3];
    char delim = delims[(opt >> 2) & 3];
    int project = (opt >> 4) & 1;
    int use_pipe = (opt >> 5) & 1;
    long long limit = (opt >> 6) & 1 ? 2 : -1;
    int keep_lines = (opt >> 7) & 1;

    char path[64];
    int fd = use_pipe ? fuzz_pipefile(data, size, path, sizeof path) : fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    cells full = {0};
    full.w = svy_writer_new(SVY_FMT_CSV);
    char *out1 = NULL;
    size_t out1len = 0;
    full.wf = open_memstream(&out1, &out1len);
    char *outv = NULL;
    size_t outvlen = 0;
    full.keep_lines = keep_lines;
    if (keep_lines) {
        full.wv = svy_writer_new(SVY_FMT_CSV);
        full.wvf = open_memstream(&outv, &outvlen);
    }
    svy_err err;
    svy_status st = read_path(path, enc, delim, NULL, 0, limit, &full, &err);
    close(fd);
    if (st == SVY_OK)
        st = svy_writer_close(full.w, &err);
    svy_writer_free(full.w);
    fclose(full.wf);
    if (keep_lines) {
        svy_status stv = st == SVY_OK ? svy_writer_close(full.wv, &err) : SVY_E_ABORT;
        svy_writer_free(full.wv);
        fclose(full.wvf);
        /* Copying kept lines writes exactly what writing the values does. */
        if (st == SVY_OK) {
            FUZZ_ASSERT(stv == SVY_OK);
            FUZZ_ASSERT(outvlen == out1len && memcmp(outv, out1, out1len) == 0);
        }
        free(outv);
    }

    if (st == SVY_OK && project && full.nnames > 0 && !full.overflow) {
        /* Last column first, then the first: order and gaps both matter. */
        const char *cols[2] = {full.names[full.nnames - 1], full.names[0]};
        size_t ncols = full.nnames > 1 ? 2 : 1;
        cells proj = {0};
        fd = use_pipe ? fuzz_pipefile(data, size, path, sizeof path) : fuzz_memfile(data, size, path, sizeof path);
        svy_status st2 = read_path(path, enc, delim, cols, ncols, limit, &proj, &err);
        close(fd);
        FUZZ_ASSERT(st2 == SVY_OK);
        FUZZ_ASSERT(proj.sink.rows == full.sink.rows);
        /* Walk the full cells and pick the projected columns out of them. */
        size_t fo = 0, po = 0;
        for (long long row = 0; row < full.sink.rows; row++) {
            size_t start[2] = {0, 0}, fstart = fo;
            for (size_t i = 0; i < full.nnames; i++) {
                if (i == full.nnames - 1)
                    start[0] = fo;
                if (i == 0)
                    start[1] = fo;
                size_t n;
                memcpy(&n, full.buf + fo + 1, sizeof n);
                fo += 1 + sizeof n + n;
            }
            (void)fstart;
            for (size_t k = 0; k < ncols; k++) {
                size_t n;
                memcpy(&n, full.buf + start[k] + 1, sizeof n);
                size_t cell = 1 + sizeof n + n;
                FUZZ_ASSERT(po + cell <= proj.len);
                FUZZ_ASSERT(memcmp(full.buf + start[k], proj.buf + po, cell) == 0);
                po += cell;
            }
        }
        FUZZ_ASSERT(po == proj.len);
        cells_free(&proj);
    }

    /* Content detection is by magic: CSV whose first bytes are another
     * format's signature ("<stata_dta>", "$FL2", a portable file's header
     * layout) is read as that format, by design (tests/README.md). */
    const char *fmt1 = out1len ? svy_detect_format((const unsigned char *)out1, out1len < 65536 ? out1len : 65536) : NULL;
    int text1 = fmt1 && (!strcmp(fmt1, "csv") || !strcmp(fmt1, "tsv"));
    if (st == SVY_OK && out1len && text1) {
        char *out2 = NULL, *out3 = NULL;
        size_t out2len = 0, out3len = 0;
        svy_status st2 = rewrite(out1, out1len, &out2, &out2len);
        FUZZ_ASSERT(st2 == SVY_OK);
        svy_status st3 = rewrite(out2, out2len, &out3, &out3len);
        FUZZ_ASSERT(st3 == SVY_OK);
        /* The first rewrite may normalise (quoting); after that, a fixpoint. */
        FUZZ_ASSERT(out1len == out2len && memcmp(out1, out2, out1len) == 0);
        FUZZ_ASSERT(out2len == out3len && memcmp(out2, out3, out2len) == 0);
        free(out2);
        free(out3);
    }
    free(out1);
    cells_free(&full);
    return 0;
}
