/* The reader front and the CSV backend. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <survey/survey.h>

typedef struct collect {
    char out[8192];
    size_t len;
    long long rows;
    size_t nvars;
} collect;

/* Append to the collected text; what does not fit is dropped (rows are
 * still counted). */
static void put(collect *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(collect *c, const char *fmt, ...)
{
    if (c->len + 1 >= sizeof c->out)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(c->out + c->len, sizeof c->out - c->len, fmt, ap);
    va_end(ap);
    if (k > 0)
        c->len = c->len + (size_t)k >= sizeof c->out ? sizeof c->out - 1 : c->len + (size_t)k;
}

static svy_status on_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    collect *c = ctx;
    c->nvars = svy_schema_nvars(s);
    for (size_t i = 0; i < c->nvars; i++)
        put(c, "%s%s", i ? "|" : "", svy_var_name(svy_schema_var(s, i)));
    put(c, "\n");
    return SVY_OK;
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    collect *c = ctx;
    c->rows++;
    for (size_t i = 0; i < row->nvals; i++) {
        const svy_value *v = &row->vals[i];
        const char *sep = i ? "|" : "";
        if (v->missing)
            put(c, "%s<NA>", sep);
        else
            put(c, "%s[%.*s]", sep, (int)v->len, v->str);
    }
    put(c, "\n");
    return SVY_OK;
}

static const svy_handler handler = {on_schema, on_row};

static char *write_temp(const char *content, size_t len)
{
    static char path[64];
    strcpy(path, "/tmp/svy-test-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0, "cannot create a temp file");
    cr_assert_eq(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

/* Read a file into c; the file is removed afterwards. */
static svy_status read_path(const char *path, collect *c, svy_err *err, const char *enc,
                            const char *const *cols, size_t ncols)
{
    svy_reader *r = svy_reader_new();
    if (enc)
        svy_reader_set_encoding(r, enc);
    if (cols)
        svy_reader_set_columns(r, cols, ncols);
    memset(c, 0, sizeof *c);
    svy_status st = svy_reader_open(r, path, err);
    if (!st)
        st = svy_reader_run(r, &handler, c, err);
    svy_reader_free(r);
    unlink(path);
    return st;
}

static svy_status read_string(const char *content, collect *c, svy_err *err, const char *enc,
                              const char *const *cols, size_t ncols)
{
    return read_path(write_temp(content, strlen(content)), c, err, enc, cols, ncols);
}

Test(reader, csv_quoting_missing_and_empty_strings)
{
    collect c;
    svy_err err;
    svy_status st = read_string("a,b,c\n1,,\"\"\n\"x,\"\"y\"\"\nz\",2,3\r\n", &c, &err, NULL, NULL, 0);
    cr_assert_eq(st, SVY_OK, "%s", err.msg);
    cr_assert_str_eq(c.out, "a|b|c\n[1]|<NA>|[]\n[x,\"y\"\nz]|[2]|[3]\n",
                     "an unquoted empty field is missing, a quoted one an empty string; quotes span lines");
}

Test(reader, csv_last_line_without_newline_and_bom)
{
    collect c;
    svy_err err;
    cr_assert_eq(read_string("\xEF\xBB\xBFid;name\n1;王芳\n2;李\xE5\xA8\x9C", &c, &err, NULL, NULL, 0), SVY_OK);
    cr_assert_str_eq(c.out, "id|name\n[1]|[王芳]\n[2]|[李娜]\n", "BOM dropped, ';' detected, last line kept");
}

Test(reader, csv_projection_delivers_asked_columns_in_order)
{
    collect c;
    svy_err err;
    const char *cols[] = {"c", "a"};
    cr_assert_eq(read_string("a,b,c\n1,2,3\n4,5,6\n", &c, &err, NULL, cols, 2), SVY_OK);
    cr_assert_str_eq(c.out, "c|a\n[3]|[1]\n[6]|[4]\n");
    const char *bad[] = {"nope"};
    cr_assert_eq(read_string("a,b\n1,2\n", &c, &err, NULL, bad, 1), SVY_E_USAGE);
    cr_assert_str_eq(err.var, "nope", "the unknown column is named");
}

Test(reader, csv_ragged_rows_name_the_row)
{
    collect c;
    svy_err err;
    cr_assert_eq(read_string("a,b\n1,2\n3\n", &c, &err, NULL, NULL, 0), SVY_E_DATA);
    cr_assert_eq(err.row, 2, "second data row is short");
    cr_assert(strstr(err.msg, "row has 1 field,") != NULL, "%s", err.msg);
    cr_assert_eq(read_string("a,b\n1,2,3\n", &c, &err, NULL, NULL, 0), SVY_E_DATA);
    cr_assert_eq(err.row, 1);
    cr_assert_eq(err.col, 3);
}

Test(reader, csv_broken_quoting_is_an_error)
{
    collect c;
    svy_err err;
    cr_assert_eq(read_string("a,b\n1,x\"y\n", &c, &err, NULL, NULL, 0), SVY_E_DATA);
    cr_assert_eq(err.row, 1);
    cr_assert_eq(read_string("a,b\n1,\"open\n2,3\n", &c, &err, NULL, NULL, 0), SVY_E_DATA);
    cr_assert(strstr(err.msg, "quoted field") != NULL, "%s", err.msg);
}

Test(reader, csv_invalid_utf8_names_row_and_column)
{
    collect c;
    svy_err err;
    /* "浙江" in GB18030 */
    cr_assert_eq(read_string("id,province\n1,\xD5\xE3\xBD\xAD\n", &c, &err, NULL, NULL, 0), SVY_E_ENCODING);
    cr_assert_eq(err.row, 1);
    cr_assert_eq(err.col, 2);
    cr_assert_str_eq(err.var, "province");
    cr_assert_eq(read_string("id,province\n1,\xD5\xE3\xBD\xAD\n", &c, &err, "GB18030", NULL, 0), SVY_OK, "%s", err.msg);
    cr_assert_str_eq(c.out, "id|province\n[1]|[浙江]\n", "GB18030 converted to UTF-8");
    cr_assert_eq(read_string("a\n1\n", &c, &err, "NO-SUCH-ENCODING", NULL, 0), SVY_E_USAGE);
}

Test(reader, csv_duplicate_header_is_an_error)
{
    collect c;
    svy_err err;
    cr_assert_eq(read_string("a,b,a\n1,2,3\n", &c, &err, NULL, NULL, 0), SVY_E_DATA);
    cr_assert_eq(err.col, 3);
}

Test(reader, limit_stops_early)
{
    char *path = write_temp("x\n1\n2\n3\n", 8);
    svy_reader *r = svy_reader_new();
    svy_reader_set_limit(r, 2);
    collect c = {0};
    svy_err err;
    cr_assert_eq(svy_reader_open(r, path, &err), SVY_OK);
    cr_assert_eq(svy_reader_run(r, &handler, &c, &err), SVY_OK);
    cr_assert_eq(c.rows, 2);
    cr_assert_eq(svy_reader_rows(r), 2);
    cr_assert_eq(svy_reader_run(r, &handler, &c, &err), SVY_OK, "a path can be read twice");
    svy_reader_free(r);
    unlink(path);
}

Test(reader, open_errors)
{
    svy_reader *r = svy_reader_new();
    svy_err err;
    cr_assert_eq(svy_reader_open(r, "/nonexistent/file.dta", &err), SVY_E_IO);
    cr_assert(strstr(err.msg, "No such file") != NULL, "%s", err.msg);
    svy_reader_free(r);
    char *path = write_temp("", 0);
    r = svy_reader_new();
    cr_assert_eq(svy_reader_open(r, path, &err), SVY_E_FORMAT);
    cr_assert(strstr(err.msg, "empty") != NULL);
    svy_reader_free(r);
    unlink(path);
    path = write_temp("\x01\x02\x00\x04garbage", 11);
    r = svy_reader_new();
    cr_assert_eq(svy_reader_open(r, path, &err), SVY_E_FORMAT);
    cr_assert(strstr(err.msg, "not a survey file") != NULL);
    svy_reader_free(r);
    unlink(path);
}

Test(reader, detect_by_content)
{
    cr_assert_str_eq(svy_detect_format((const unsigned char *)"$FL2@(#)", 8), "sav");
    cr_assert_str_eq(svy_detect_format((const unsigned char *)"$FL3@(#)", 8), "zsav");
    cr_assert_str_eq(svy_detect_format((const unsigned char *)"<stata_dta><header>", 19), "dta");
    cr_assert_str_eq(svy_detect_format((const unsigned char *)"\x72\x02\x01\x00", 4), "dta");
    cr_assert_str_eq(svy_detect_format((const unsigned char *)"a\tb\n", 4), "tsv");
    cr_assert_str_eq(svy_detect_format((const unsigned char *)"a,b\tc\n", 6), "csv");
    cr_assert_null(svy_detect_format((const unsigned char *)"\x00\x01", 2));
}

/* Fuzzing found text with "SPSSPORT" in it detected as SPSS portable: the
 * tag counts only at its fixed offset after 456 bytes in 80-byte lines. */
Test(reader, por_detected_only_by_its_header_layout)
{
    char text[1024];
    memset(text, 'x', sizeof text);
    memcpy(text, "a,b\n", 4);
    memcpy(text + 460, "SPSSPORT", 8);
    cr_assert_str_eq(svy_detect_format((const unsigned char *)text, sizeof text), "csv",
                     "a CSV that mentions SPSSPORT at byte 460 is still CSV");
    memcpy(text + 300, "SPSSPORT", 8);
    cr_assert_str_eq(svy_detect_format((const unsigned char *)text, sizeof text), "csv",
                     "SPSSPORT before byte 456 is text");
    /* A portable header: 456 bytes in lines of 80 (CRLF), then the tag. */
    char por[1024];
    size_t n = 0;
    for (int i = 0; i < 456; i++) {
        if (i && i % 80 == 0) {
            por[n++] = '\r';
            por[n++] = '\n';
        }
        por[n++] = 'A';
    }
    memcpy(por + n, "SPSSPORT", 8);
    n += 8;
    cr_assert_str_eq(svy_detect_format((const unsigned char *)por, n), "por",
                     "456 bytes in 80-byte CRLF lines, then SPSSPORT, is a portable file");
    const char *shared = SVY_SRCDIR "/../shared/testdata/realworld/foreign-electric.por";
    FILE *f = fopen(shared, "rb");
    if (f) {
        unsigned char head[2048];
        size_t k = fread(head, 1, sizeof head, f);
        fclose(f);
        cr_assert_str_eq(svy_detect_format(head, k), "por", "a real portable file is detected");
    }
}

/* A one-column file with a missing value is written with a blank line; it
 * must read back as a row, not vanish. */
Test(reader, one_column_missing_value_round_trips)
{
    char path[] = "/tmp/svy-onecol-XXXXXX";
    close(mkstemp(path));
    svy_schema *s = svy_schema_new();
    svy_schema_add(s, "x", SVY_VAR_NUMERIC, NULL);
    svy_writer *w = svy_writer_new(SVY_FMT_CSV);
    svy_err err;
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK, "%s", err.msg);
    svy_value v[3] = {{.type = SVY_VAL_NUM, .num = 1},
                      {.type = SVY_VAL_NUM, .missing = SVY_MISS_SYSTEM},
                      {.type = SVY_VAL_NUM, .num = 3}};
    for (int i = 0; i < 3; i++) {
        svy_row row = {.index = i + 1, .nvals = 1, .vals = &v[i]};
        cr_assert_eq(svy_writer_write(w, &row, &err), SVY_OK, "%s", err.msg);
    }
    cr_assert_eq(svy_writer_close(w, &err), SVY_OK, "%s", err.msg);
    svy_writer_free(w);
    svy_schema_free(s);
    collect c;
    cr_assert_eq(read_path(path, &c, &err, NULL, NULL, 0), SVY_OK, "%s", err.msg);
    cr_assert_eq(c.rows, 3, "three rows written, three read (got %lld)", c.rows);
    cr_assert_str_eq(c.out, "x\n[1]\n<NA>\n[3]\n", "the missing value stays in its row");
}

/* A NUL byte past the detection head was read into values, where every
 * C-string consumer cut the text short; the same byte in the head made the
 * file "binary".  Now both are errors. */
Test(reader, nul_byte_in_text_is_an_error)
{
    static char big[70000 + 16];
    memset(big, 'x', sizeof big);
    memcpy(big, "a,b\n", 4);
    for (size_t i = 4; i < 70000; i += 10) {
        big[i] = '\n';
        big[i + 5] = ',';
    }
    memcpy(big + 69990, "\n1,\0002\n", 7);
    char *path = write_temp(big, 69997);
    svy_reader *r = svy_reader_new();
    svy_err err;
    collect *c = calloc(1, sizeof *c);
    cr_assert_eq(svy_reader_open(r, path, &err), SVY_OK, "the head is text: %s", err.msg);
    svy_status st = svy_reader_run(r, &(svy_handler){NULL, NULL}, c, &err);
    cr_assert_eq(st, SVY_E_ENCODING, "a NUL in the text is refused: %d %s", st, err.msg);
    cr_assert(strstr(err.msg, "NUL"), "the message names the NUL byte: %s", err.msg);
    svy_reader_free(r);
    free(c);
    unlink(path);
}

/* Rows and errors of a file of several read buffers' worth of rows. */
static void read_big(const char *path, collect *c, svy_status *st, svy_err *err, long long limit)
{
    svy_reader *r = svy_reader_new();
    const char *cols[] = {"b", "a"};
    svy_reader_set_columns(r, cols, 2);
    svy_reader_set_limit(r, limit);
    memset(c, 0, sizeof *c);
    *st = svy_reader_open(r, path, err);
    if (!*st)
        *st = svy_reader_run(r, &handler, c, err);
    svy_reader_free(r);
}

Test(reader, many_rows_then_an_error_or_a_limit)
{
    char path[] = "/tmp/svy-big-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("a,b,c\n", f);
    for (int i = 0; i < 5000; i++)
        fprintf(f, i % 7 ? "%d,x%d,\"q,%d\"\n" : "%d,,\"\"\n", i, i, i);
    fputs("1,2\n", f); /* a short row after two batches */
    fclose(f);
    static collect seq;
    svy_err e1;
    svy_status s1;
    /* collect's buffer holds the first rows only; the row count checks the rest */
    read_big(path, &seq, &s1, &e1, -1);
    cr_assert_eq(s1, SVY_E_DATA);
    cr_assert_eq(e1.row, 5001, "the error names the row after every good one");
    cr_assert_eq(seq.rows, 5000, "every good row arrives before the error");
    cr_assert(strncmp(seq.out, "b|a\n<NA>|[0]\n[x1]|[1]\n", 19) == 0, "rows in order from the first: %.30s",
              seq.out);
    read_big(path, &seq, &s1, &e1, 3000);
    cr_assert_eq(s1, SVY_OK, "the limit stops before the bad row");
    cr_assert_eq(seq.rows, 3000);
    unlink(path);
}

/* A first header name that starts with U+FEFF was written bare, then read
 * back as a byte-order mark and dropped (found by the csv fuzzer's round
 * trip): the writer quotes such text. */
Test(reader, name_starting_with_feff_round_trips)
{
    char path[] = "/tmp/svy-feff-XXXXXX";
    close(mkstemp(path));
    svy_schema *s = svy_schema_new();
    svy_schema_add(s, "\xEF\xBB\xBFx", SVY_VAR_STRING, NULL);
    svy_writer *w = svy_writer_new(SVY_FMT_CSV);
    svy_err err;
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK, "%s", err.msg);
    svy_value v = {.type = SVY_VAL_STR, .str = "1", .len = 1};
    svy_row row = {.index = 1, .nvals = 1, .vals = &v};
    cr_assert_eq(svy_writer_write(w, &row, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(svy_writer_close(w, &err), SVY_OK, "%s", err.msg);
    svy_writer_free(w);
    svy_schema_free(s);
    collect c;
    cr_assert_eq(read_path(path, &c, &err, NULL, NULL, 0), SVY_OK, "%s", err.msg);
    cr_assert_str_eq(c.out, "\xEF\xBB\xBFx\n[1]\n", "the name keeps its U+FEFF");
}

/* Quote-free lines are split 16 bytes at a time: every length of line and
 * field, delimiters at every offset of a block, more than the 64 fields
 * whose offsets the scan keeps, non-ASCII text, and the bytes that must
 * stop the scan (a quote, NUL, 0xFF, bad UTF-8) at offsets past the first
 * block. */
Test(reader, csv_block_scan_splits_every_line_length)
{
    uint64_t x = 7;
    for (int round = 0; round < 400; round++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t ncol = 1 + (size_t)(x >> 33) % (round < 200 ? 8 : 70);
        char content[4096], expect[8192];
        size_t n = 0, m = 0;
        for (size_t k = 0; k < ncol; k++)
            n += (size_t)snprintf(content + n, sizeof content - n, "%sc%zu", k ? "," : "", k);
        content[n++] = '\n';
        for (size_t k = 0; k < ncol; k++)
            m += (size_t)snprintf(expect + m, sizeof expect - m, "%sc%zu", k ? "|" : "", k);
        expect[m++] = '\n';
        for (int row = 0; row < 3; row++) {
            for (size_t k = 0; k < ncol; k++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                size_t len = (size_t)(x >> 35) % (ncol > 8 ? 4 : 40);
                if (k)
                    content[n++] = ',';
                m += (size_t)snprintf(expect + m, sizeof expect - m, "%s%s", k ? "|" : "", len ? "[" : "<NA>");
                for (size_t i = 0; i < len; i++) {
                    if (((x >> (i % 50)) & 7) == 0) {
                        memcpy(content + n, "é", 2); /* two bytes */
                        memcpy(expect + m, "é", 2);
                        n += 2;
                        m += 2;
                    } else {
                        content[n++] = (char)('a' + i % 26);
                        expect[m++] = (char)('a' + i % 26);
                    }
                }
                if (len)
                    expect[m++] = ']';
            }
            content[n++] = '\n';
            expect[m++] = '\n';
        }
        content[n] = '\0';
        expect[m] = '\0';
        collect c;
        svy_err err;
        cr_assert_eq(read_string(content, &c, &err, NULL, NULL, 0), SVY_OK, "%s", err.msg);
        cr_assert_str_eq(c.out, expect, "round %d:\n%s", round, content);
    }

    collect c;
    svy_err err;
    cr_assert_eq(read_string("a,b\nabcdefghijklmnopqrstu,\"x,y\"\n", &c, &err, NULL, NULL, 0), SVY_OK);
    cr_assert_str_eq(c.out, "a|b\n[abcdefghijklmnopqrstu]|[x,y]\n", "a quote in the second block goes to libcsv");
    cr_assert_eq(read_string("a,b\nabcdefghijklmnopqrstu,x\xFFy\n", &c, &err, NULL, NULL, 0), SVY_E_ENCODING);
    cr_assert(err.row == 1 && strstr(err.msg, "0xFF"), "0xFF past the first block: %s", err.msg);
    cr_assert_eq(read_string("a,b\nabcdefghijklmnopqrstu,xy\xC3(\n", &c, &err, NULL, NULL, 0), SVY_E_ENCODING);
    cr_assert(err.row == 1 && err.col == 2, "bad UTF-8 past the first block names row 1 column 2: %lld %lld",
              err.row, err.col);
    /* NUL: past the bytes detection looks at, which would call it binary */
    static char big[70000 + 40];
    memset(big, 'x', sizeof big);
    memcpy(big, "a,b\n", 4);
    for (size_t i = 4; i < 70000; i += 10) {
        big[i] = '\n';
        big[i + 5] = ',';
    }
    memcpy(big + 69990, "\nabcdefghijklmnopqrstu,x\0y\n", 28);
    cr_assert_eq(read_path(write_temp(big, 69990 + 28), &c, &err, NULL, NULL, 0), SVY_E_ENCODING);
    cr_assert(strstr(err.msg, "NUL"), "NUL past the first block: %s", err.msg);
}

/* ---- svy_row.line: a row's line is what a CSV writer writes for it ------- */

typedef struct lines_ctx {
    svy_writer *by_line, *by_value; /* the same rows, with and without lines */
    long long with_line;
    svy_status st;
} lines_ctx;

static svy_status lines_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    lines_ctx *l = ctx;
    svy_status st = svy_writer_open(l->by_line, "lines-a.csv", s, err);
    return st ? st : svy_writer_open(l->by_value, "lines-b.csv", s, err);
}

static svy_status lines_row(void *ctx, const svy_row *row, svy_err *err)
{
    lines_ctx *l = ctx;
    l->with_line += row->line != NULL;
    svy_row plain = {.index = row->index, .nvals = row->nvals, .vals = row->vals};
    svy_status st = svy_writer_write(l->by_line, row, err);
    return st ? st : svy_writer_write(l->by_value, &plain, err);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot read %s", path);
    static char buf[2][4096];
    static int which;
    char *b = buf[which ^= 1];
    size_t n = fread(b, 1, sizeof buf[0] - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* Reads content with lines kept; returns how many rows carried one, after
 * checking that writing by line and by value gives the same bytes. */
static long long lines_of(const char *content, const char *const *cols, size_t ncols)
{
    char dir[] = "/tmp/svy-lines-XXXXXX";
    cr_assert(mkdtemp(dir));
    char old[4096];
    cr_assert(getcwd(old, sizeof old));
    cr_assert_eq(chdir(dir), 0);
    FILE *f = fopen("in.csv", "wb");
    fwrite(content, 1, strlen(content), f);
    fclose(f);
    svy_reader *r = svy_reader_new();
    svy_reader_set_keep_lines(r, 1);
    if (cols)
        svy_reader_set_columns(r, cols, ncols);
    lines_ctx l = {.by_line = svy_writer_new(SVY_FMT_CSV), .by_value = svy_writer_new(SVY_FMT_CSV)};
    svy_err err;
    svy_status st = svy_reader_open(r, "in.csv", &err);
    if (!st)
        st = svy_reader_run(r, &(svy_handler){lines_schema, lines_row}, &l, &err);
    if (!st)
        st = svy_writer_close(l.by_line, &err);
    if (!st)
        st = svy_writer_close(l.by_value, &err);
    cr_assert_eq(st, SVY_OK, "%s", err.msg);
    char *a = slurp("lines-a.csv"), *b = slurp("lines-b.csv");
    cr_assert_str_eq(a, b, "by line and by value write the same:\n%s", content);
    svy_writer_free(l.by_line);
    svy_writer_free(l.by_value);
    svy_reader_free(r);
    unlink("in.csv");
    unlink("lines-a.csv");
    unlink("lines-b.csv");
    cr_assert_eq(chdir(old), 0);
    rmdir(dir);
    return l.with_line;
}

Test(reader, kept_lines_write_back_as_the_values_would)
{
    cr_assert_eq(lines_of("a,b,c\n1,,x\n2,王芳,\n", NULL, 0), 2, "plain lines, empty fields, UTF-8");
    cr_assert_eq(lines_of("a,b\r\n1,2\r\n3,4\r\n", NULL, 0), 2, "CR LF: the line without its CR");
    cr_assert_eq(lines_of("a,b\n1,\"x,y\"\n3,4\n", NULL, 0), 1, "a quoted line is written from its values");
    cr_assert_eq(lines_of("a,b\n1,x\ry\n3,\xEF\xBB\xBFz\n5,\xC3\xA9\n", NULL, 0), 1,
                 "CR inside a field, and a field starting with U+FEFF, need quotes: no line");
    const char *ba[] = {"b", "a"};
    cr_assert_eq(lines_of("a,b\n1,2\n", ba, 2), 0, "projected rows have no line");
    cr_assert_eq(lines_of("a;b\n1;2\n", NULL, 0), 0, "';' between fields: not this CSV, no line");
}


/* Progress (issue 18): the callback sees every SVY_PROGRESS_ROWS rows and
 * the end, with the bytes read so far of the file's size; the library
 * itself prints nothing. */
typedef struct seen_progress {
    int calls, done;
    long long rows[8], bytes[8], size[8];
} seen_progress;

static void record_progress(void *ctx, const svy_progress *p)
{
    seen_progress *s = ctx;
    if (s->calls < 8) {
        s->rows[s->calls] = p->rows;
        s->bytes[s->calls] = p->bytes;
        s->size[s->calls] = p->size;
    }
    s->calls++;
    s->done += p->done;
}

static svy_status count_row(void *ctx, const svy_row *row, svy_err *err)
{
    (void)ctx;
    (void)row;
    (void)err;
    return SVY_OK;
}

Test(reader, progress_every_so_many_rows_and_at_the_end)
{
    size_t cap = 40001 * 12, len = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    len += (size_t)snprintf(text, cap, "id,x\n");
    for (int i = 1; i <= 40000; i++)
        len += (size_t)snprintf(text + len, cap - len, "%d,%d\n", i, i % 7);
    char *path = write_temp(text, len);
    svy_reader *r = svy_reader_new();
    seen_progress s = {0};
    svy_reader_set_progress(r, record_progress, &s);
    svy_err err;
    svy_err_clear(&err);
    svy_handler h = {NULL, count_row};
    cr_assert_eq(svy_reader_open(r, path, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(svy_reader_run(r, &h, NULL, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(s.calls, 3, "at 16384 and 32768 rows and at the end: %d calls", s.calls);
    cr_assert_eq(s.done, 1);
    cr_assert_eq(s.rows[0], 16384);
    cr_assert_eq(s.rows[1], 32768);
    cr_assert_eq(s.rows[2], 40000);
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(s.size[k], (long long)len, "the file's size");
        cr_assert(s.bytes[k] > 0 && s.bytes[k] <= (long long)len, "bytes read %lld", s.bytes[k]);
    }
    cr_assert(s.bytes[0] <= s.bytes[1] && s.bytes[1] <= s.bytes[2]);
    svy_reader_free(r);
    unlink(path);
    free(text);
}
