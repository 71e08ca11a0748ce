/* The CSV reader's one-pass row loop (csv_scan.c) and the line path it
 * leaves odd lines to: the same values, errors and places either way,
 * across read-buffer edges, from a file and from standard input. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <survey/survey.h>

#include "csv_private.h"

/* Rows as text: "[value]" or "<NA>" joined by '|', one line each. */
typedef struct seen {
    char *out;
    size_t len, cap;
    long long rows;
} seen;

static void add(seen *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->out = realloc(s->out, s->cap);
        cr_assert_not_null(s->out);
    }
    memcpy(s->out + s->len, p, n);
    s->len += n;
    s->out[s->len] = '\0';
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    (void)err;
    seen *s = ctx;
    s->rows++;
    for (size_t i = 0; i < row->nvals; i++) {
        const svy_value *v = &row->vals[i];
        if (i)
            add(s, "|", 1);
        if (v->missing) {
            add(s, "<NA>", 4);
            continue;
        }
        cr_assert_eq(v->str[v->len], '\0', "every value is NUL-terminated");
        add(s, "[", 1);
        add(s, v->str, v->len);
        add(s, "]", 1);
    }
    add(s, "\n", 1);
    return SVY_OK;
}

static char *temp_with(const char *content, size_t len)
{
    static char path[64];
    strcpy(path, "/tmp/svy-scan-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    for (size_t off = 0; off < len;) {
        ssize_t k = write(fd, content + off, len - off);
        cr_assert(k > 0);
        off += (size_t)k;
    }
    close(fd);
    return path;
}

/* Read content (from standard input when on_stdin) into s. */
static svy_status read_all(const char *content, size_t len, int on_stdin, const char *const *cols, size_t ncols,
                           seen *s, svy_err *err)
{
    char *path = temp_with(content, len);
    int saved = -1;
    if (on_stdin) {
        saved = dup(0);
        int fd = open(path, O_RDONLY);
        cr_assert(fd >= 0 && dup2(fd, 0) == 0);
        close(fd);
    }
    svy_reader *r = svy_reader_new();
    if (cols)
        svy_reader_set_columns(r, cols, ncols);
    free(s->out); /* the last read's rows (s starts zeroed) */
    memset(s, 0, sizeof *s);
    add(s, "", 0);
    svy_status st = svy_reader_open(r, on_stdin ? "-" : path, err);
    if (!st)
        st = svy_reader_run(r, &(svy_handler){NULL, on_row}, s, err);
    svy_reader_free(r);
    if (on_stdin) {
        dup2(saved, 0);
        close(saved);
    }
    unlink(path);
    return st;
}

static svy_status read_str(const char *content, seen *s, svy_err *err)
{
    return read_all(content, strlen(content), 0, NULL, 0, s, err);
}

/* Each row-loop test runs twice: on the loop this CPU takes (AVX2 where it
 * has it) and on the SSE2 baseline loop (criterion runs each test in its
 * own process, so the switch does not leak). */
#define BOTH_LOOPS(name)                                                                                       \
    Test(csv_scan, name)                                                                                       \
    {                                                                                                          \
        name();                                                                                                \
    }                                                                                                          \
    Test(csv_scan, name##_baseline_loop)                                                                       \
    {                                                                                                          \
        svy_csv_scan_base_only = 1;                                                                            \
        name();                                                                                                \
    }

static void quotes_crlf_empty_fields_and_the_last_line(void)
{
    seen s = {0};
    svy_err err;
    cr_assert_eq(read_str("a,b,c\n"
                          "\"x\",\"\",\n"             /* quoted, quoted empty, missing */
                          "\"say \"\"hi\"\"\",2,\"a,b\"\n" /* doubled quotes, a comma inside */
                          "1,\"\"\"\",3\r\n"          /* a lone quote; CR LF */
                          ",,\"\"\r\n"                 /* all empty; quoted empty before CR LF */
                          "\"two\nlines\",5,6\n"       /* a quoted field spans lines */
                          "王芳,\"李\"\"娜\",é\n"     /* UTF-8 */
                          "7,8,9",                     /* no newline at the end */
                          &s, &err),
                 SVY_OK, "%s", err.msg);
    cr_assert_str_eq(s.out, "[x]|[]|<NA>\n"
                            "[say \"hi\"]|[2]|[a,b]\n"
                            "[1]|[\"]|[3]\n"
                            "<NA>|<NA>|[]\n"
                            "[two\nlines]|[5]|[6]\n"
                            "[王芳]|[李\"娜]|[é]\n"
                            "[7]|[8]|[9]\n");
    cr_assert_eq(read_str("a,b\r\n\"x\"\r\n", &s, &err), SVY_E_DATA, "one field of two, quoted, CR LF");
    cr_assert_eq(err.row, 1);
    free(s.out);
}
BOTH_LOOPS(quotes_crlf_empty_fields_and_the_last_line)

static void errors_name_the_same_place(void)
{
    seen s = {0};
    svy_err err;
    /* Invalid UTF-8 in the third column of the second row. */
    cr_assert_eq(read_str("a,b,c\n1,2,3\n4,5,x\xC3(\n", &s, &err), SVY_E_ENCODING);
    cr_assert(err.row == 2 && err.col == 3, "row %lld col %lld", err.row, err.col);
    cr_assert(strstr(err.msg, "byte 2 of the field"), "%s", err.msg);
    /* ... after a quoted field, and in a quoted field */
    cr_assert_eq(read_str("a,b,c\n\"q\",\xE4\xB8,3\n", &s, &err), SVY_E_ENCODING);
    cr_assert(err.row == 1 && err.col == 2, "row %lld col %lld", err.row, err.col);
    cr_assert_eq(read_str("a,b,c\n1,2,\"\xFE\"\n", &s, &err), SVY_E_ENCODING);
    cr_assert(err.row == 1 && err.col == 3, "row %lld col %lld", err.row, err.col);
    /* A column not asked for is not checked, but 0xFF is, anywhere. */
    const char *ac[] = {"a", "c"};
    cr_assert_eq(read_all("a,b,c\n1,\xC3(,3\n", 12, 0, ac, 2, &s, &err), SVY_OK, "%s", err.msg);
    cr_assert_str_eq(s.out, "[1]|[3]\n");
    cr_assert_eq(read_all("a,b,c\n1,\xFF,3\n", 11, 0, ac, 2, &s, &err), SVY_E_ENCODING);
    cr_assert(strstr(err.msg, "0xFF") && err.row == 1, "%s", err.msg);
    /* Quoting: a quote inside an unquoted field, text after a closing quote. */
    cr_assert_eq(read_str("a,b\n1,2\n3,x\"y\n", &s, &err), SVY_E_DATA);
    cr_assert(err.row == 2 && err.col == 2, "row %lld col %lld", err.row, err.col);
    cr_assert_eq(read_str("a,b\n\"x\"y,2\n", &s, &err), SVY_E_DATA);
    cr_assert_eq(err.row, 1);
    /* Too many fields, and a NUL, after good rows. */
    cr_assert_eq(read_str("a,b\n1,2\n3,4,5,6\n", &s, &err), SVY_E_DATA);
    cr_assert(err.row == 2 && err.col == 3, "row %lld col %lld", err.row, err.col);
    static char nul[70000 + 16]; /* past the bytes detection reads */
    size_t nn = (size_t)snprintf(nul, sizeof nul, "a,b\n");
    while (nn < 70000)
        nn += (size_t)snprintf(nul + nn, sizeof nul - nn, "1,2\n");
    memcpy(nul + nn, "3,\0\n", 4);
    cr_assert_eq(read_all(nul, nn + 4, 0, NULL, 0, &s, &err), SVY_E_ENCODING);
    cr_assert(strstr(err.msg, "NUL") && err.row == (long long)(nn - 4) / 4 + 1, "%s (row %lld)", err.msg, err.row);
    /* A CR alone inside a line, or a blank line, is the line path's. */
    cr_assert_eq(read_str("a,b\n1,x\ry\n\n3,4\n", &s, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(s.rows, 2);
    free(s.out);
}
BOTH_LOOPS(errors_name_the_same_place)

/* Columns after the last one asked for are counted, not visited: the
 * values, and the errors for a field too many or too few, are the line
 * path's, in one block or across several. */
static void columns_not_asked_for_at_the_end(void)
{
    seen s = {0};
    svy_err err;
    const char *ab[] = {"a", "b"};
    const char *csv = "a,b,c,d,e\n1,2,x,y,z\n3,4,,,\n,5,\"q\",\"r,s\",\n";
    cr_assert_eq(read_all(csv, strlen(csv), 0, ab, 2, &s, &err), SVY_OK, "%s", err.msg);
    cr_assert_str_eq(s.out, "[1]|[2]\n[3]|[4]\n<NA>|[5]\n");
    cr_assert_eq(svy_csv_scan_left, 0, "the row loop took every line");
    const char *more = "a,b,c,d,e\n1,2,x,y,z\n3,4,5,6,7,8\n";
    cr_assert_eq(read_all(more, strlen(more), 0, ab, 2, &s, &err), SVY_E_DATA);
    cr_assert(err.row == 2 && err.col == 6, "row %lld col %lld: %s", err.row, err.col, err.msg);
    const char *fewer = "a,b,c,d,e\n1,2,x,y,z\n3,4,5,6\n";
    cr_assert_eq(read_all(fewer, strlen(fewer), 0, ab, 2, &s, &err), SVY_E_DATA);
    cr_assert_eq(err.row, 2, "row %lld: %s", err.row, err.msg);
    /* Long trailing fields: each line's delimiters fall in several blocks;
     * the last line has one field too many, the one before one too few. */
    static char big[400000];
    size_t n = (size_t)snprintf(big, sizeof big, "a,b,c,d,e\n");
    long long rows = 0;
    while (n < sizeof big - 2000) {
        rows++;
        n += (size_t)snprintf(big + n, sizeof big - n, "%lld,%lld,%.*s,%.*s,%.*s\n", rows, rows * 7,
                              (int)(rows % 90), "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
                              (int)(rows % 70), "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
                              (int)(rows % 130), "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
    }
    svy_csv_scan_left = 0; /* the lines with errors above went back */
    cr_assert_eq(read_all(big, n, 0, ab, 2, &s, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(s.rows, rows);
    cr_assert_eq(svy_csv_scan_left, 0, "the row loop took every line");
    char want[64];
    snprintf(want, sizeof want, "[%lld]|[%lld]\n", rows, rows * 7);
    cr_assert(s.len >= strlen(want) && strcmp(s.out + s.len - strlen(want), want) == 0, "last row %s", want);
    size_t m = n + (size_t)snprintf(big + n, sizeof big - n, "x,y,%0100d,%080d,1,2\n", 0, 0);
    cr_assert_eq(read_all(big, m, 1, ab, 2, &s, &err), SVY_E_DATA);
    cr_assert(err.row == rows + 1 && err.col == 6, "row %lld col %lld: %s", err.row, err.col, err.msg);
    m = n + (size_t)snprintf(big + n, sizeof big - n, "x,y,%0100d,%080d\n", 0, 0);
    cr_assert_eq(read_all(big, m, 0, ab, 2, &s, &err), SVY_E_DATA);
    cr_assert_eq(err.row, rows + 1, "row %lld: %s", err.row, err.msg);
    free(s.out);
}
BOTH_LOOPS(columns_not_asked_for_at_the_end)

/* The value of row i, column j, unescaped, and how it is written. */
static size_t value_of(unsigned long long i, unsigned j, char *val, int *missing, int *quote)
{
    uint64_t x = (i * 0x9E3779B97F4A7C15ull) ^ (j * 0xC2B2AE3D27D4EB4Full);
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    unsigned kind = (unsigned)(x % 16);
    size_t n = (size_t)(x >> 8) % (kind == 15 ? 300 : 24);
    *quote = kind >= 10;
    *missing = kind == 0 || (!n && !*quote); /* unquoted and empty: missing */
    if (*missing)
        return 0;
    for (size_t k = 0; k < n; k++) {
        unsigned r = (unsigned)((x >> (k % 40)) + k) % 23;
        val[k] = r == 0 && *quote ? '"' : r == 1 && *quote ? ',' : (char)('a' + r);
    }
    if (kind == 9 && n >= 3)
        memcpy(val + n - 3, "\xE6\xB5\x99", 3); /* 浙 */
    return n;
}

static void rows_across_buffer_edges_from_a_file_and_stdin(void)
{
    /* About 3 MiB of rows: fields of every kind meet the read buffer's end
     * (wherever it is) somewhere; some lines end in CR LF. */
    size_t cap = 4u << 20, n = 0;
    char *text = malloc(cap), *expect = malloc(cap), val[400];
    cr_assert(text && expect);
    size_t m = 0;
    n += (size_t)snprintf(text, cap, "c0,c1,c2,c3,c4\n");
    unsigned long long rows = 0;
    while (n < (3u << 20)) {
        rows++;
        for (unsigned j = 0; j < 5; j++) {
            int missing, quote;
            size_t len = value_of(rows, j, val, &missing, &quote);
            if (j) {
                text[n++] = ',';
                expect[m++] = '|';
            }
            if (missing) {
                memcpy(expect + m, "<NA>", 4);
                m += 4;
                continue;
            }
            expect[m++] = '[';
            memcpy(expect + m, val, len);
            m += len;
            expect[m++] = ']';
            if (quote)
                text[n++] = '"';
            for (size_t k = 0; k < len; k++) {
                text[n++] = val[k];
                if (val[k] == '"')
                    text[n++] = '"';
            }
            if (quote)
                text[n++] = '"';
        }
        if (rows % 7 == 0)
            text[n++] = '\r';
        text[n++] = '\n';
        expect[m++] = '\n';
    }
    expect[m] = '\0';
    for (int on_stdin = 0; on_stdin < 2; on_stdin++) {
        seen s = {0};
        svy_err err;
        cr_assert_eq(read_all(text, n, on_stdin, NULL, 0, &s, &err), SVY_OK, "%s", err.msg);
        cr_assert_eq(s.rows, (long long)rows);
        size_t at = 0;
        while (at < m && at < s.len && s.out[at] == expect[at])
            at++;
        cr_assert(s.len == m && at == m, "the same values (stdin %d), from byte %zu of %zu: %.60s\nnot %.60s",
                  on_stdin, at, m, s.out + (at > 20 ? at - 20 : 0), expect + (at > 20 ? at - 20 : 0));
        free(s.out);
    }
    free(text);
    free(expect);
}
BOTH_LOOPS(rows_across_buffer_edges_from_a_file_and_stdin)

static void very_long_lines(void)
{
    /* A 5 MiB field, unquoted then quoted, between short ones. */
    size_t big = 5u << 20, cap = 2 * big + 64;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    size_t n = (size_t)snprintf(text, cap, "a,b\n1,");
    memset(text + n, 'x', big);
    n += big;
    n += (size_t)snprintf(text + n, cap - n, "\n\"");
    memset(text + n, 'y', big);
    n += big;
    n += (size_t)snprintf(text + n, cap - n, "\",2\n3,4\n");
    seen s = {0};
    svy_err err;
    cr_assert_eq(read_all(text, n, 0, NULL, 0, &s, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(s.rows, 3);
    cr_assert_eq(s.len, 2 * big + 22, "%zu", s.len);
    cr_assert_str_eq(s.out + s.len - 8, "[3]|[4]\n");
    free(s.out);
    free(text);
}
BOTH_LOOPS(very_long_lines)

/* svy_utf8_valid as it was written before it skipped ASCII by blocks and
 * tested sequences by range: code point by code point. */
static int utf8_reference(const unsigned char *s, size_t len, size_t *bad)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            break;
        }
        if (i + n >= len)
            break;
        size_t k = 1;
        for (; k <= n && (s[i + k] & 0xC0) == 0x80; k++)
            cp = (cp << 6) | (s[i + k] & 0x3F);
        if (k <= n || (n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            break;
        i += n + 1;
    }
    *bad = i;
    return i == len;
}

/* Lead and continuation bytes at their edges: every 4-byte sequence of
 * them, numbered 0..EDGE_SEQS-1, is edge_sequence(i). */
static const unsigned char edge_bytes[] = {0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xED,
                                           0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x90, 0x8F};
#define EDGE_N (sizeof edge_bytes)
#define EDGE_SEQS (EDGE_N * EDGE_N * EDGE_N * EDGE_N)

static void edge_sequence(size_t i, unsigned char q[4])
{
    for (int k = 3; k >= 0; k--, i /= EDGE_N)
        q[k] = edge_bytes[i % EDGE_N];
}

Test(csv_scan, utf8_check_agrees_with_the_code_point_check)
{
    /* Every 1- to 4-byte sequence of edge_bytes, after ASCII runs of several lengths (the block
     * skip) and before one more byte. */
    unsigned char buf[40];
    for (size_t pre = 0; pre <= 20; pre += 5) {
        memset(buf, 'a', pre);
        for (size_t i = 0; i < EDGE_SEQS; i++)
            for (size_t len = 1; len <= 4; len++) {
                unsigned char q[4];
                edge_sequence(i, q);
                memcpy(buf + pre, q, len);
                buf[pre + len] = 'z';
                for (size_t n = pre + len; n <= pre + len + 1; n++) {
                    size_t want_bad = 0, bad = 0;
                    int want = utf8_reference(buf, n, &want_bad);
                    int got = svy_utf8_valid((const char *)buf, n, &bad);
                    cr_assert(got == want && (got || bad == want_bad),
                              "%02x %02x %02x %02x (%zu of %zu) after %zu: %d at %zu, not %d at %zu",
                              q[0], q[1], q[2], q[3], len, n, pre, got, bad, want, want_bad);
                }
            }
    }
}

/* The block check alone: svy_utf8_valid asks the byte loop again when it
 * says no, which would hide a valid text it refuses. */
static void block_check_says(const unsigned char *s, size_t n, int want)
{
#if defined(SVY_SCAN_AVX2)
    if (__builtin_cpu_supports("avx2")) {
        int got = svy_utf8_valid_avx2((const char *)s, n);
        cr_assert(got == want, "block check: %d, not %d, on %zu bytes", got, want, n);
    }
#else
    (void)s, (void)n, (void)want;
#endif
}

/* Texts of 64 bytes and more take utf8_avx2.c's check on CPUs with AVX2.
 * The same 1- to 4-byte sequences, now at every place around the 32-byte
 * block edges and the text's end, against the code point check. */
Test(csv_scan, utf8_block_check_agrees_at_every_block_edge)
{
    static const size_t pres[] = {0, 1, 29, 30, 31, 32, 33, 60, 61, 62, 63, 64};
    unsigned char buf[160];
    memset(buf, 'a', sizeof buf);
    for (size_t pi = 0; pi < sizeof pres / sizeof *pres; pi++) {
        size_t pre = pres[pi];
        for (size_t i = 0; i < EDGE_SEQS; i++)
            for (size_t len = 1; len <= 4; len++) {
                unsigned char q[4];
                edge_sequence(i, q);
                memcpy(buf + pre, q, len);
                /* ending right after the sequence, or 64+ bytes on */
                size_t ends[2] = {pre + len, pre + len + 70};
                for (size_t e = 0; e < 2; e++) {
                    size_t n = ends[e];
                    if (n < 64)
                        continue;
                    size_t want_bad = 0, bad = 0;
                    int want = utf8_reference(buf, n, &want_bad);
                    int got = svy_utf8_valid((const char *)buf, n, &bad);
                    cr_assert(got == want && (got || bad == want_bad),
                              "%02x %02x %02x %02x (%zu) at %zu of %zu: %d at %zu, not %d at %zu", q[0],
                              q[1], q[2], q[3], len, pre, n, got, bad, want, want_bad);
                    block_check_says(buf, n, want);
                }
                memset(buf + pre, 'a', len);
            }
    }
}

/* Long texts of real code points (1 to 4 bytes, CJK most), a third of them
 * with one byte changed, through the block check and through the byte loop
 * alone: validity and first bad byte as the code point check says. */
Test(csv_scan, utf8_block_check_agrees_on_random_texts)
{
    uint64_t x = 0x9E3779B97F4A7C15u;
    unsigned char buf[600];
    for (int t = 0; t < 100000; t++) {
        size_t n = 0, want_n = 64 + (size_t)(x % 500);
        while (n + 4 <= want_n) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            unsigned k = (unsigned)(x >> 60); /* 0..15 */
            uint32_t cp = (uint32_t)(x >> 8);
            if (k < 5) { /* ASCII */
                buf[n++] = (unsigned char)(0x20 + cp % 0x5F);
            } else if (k < 7) {
                cp = 0x80 + cp % (0x800 - 0x80);
                buf[n++] = (unsigned char)(0xC0 | cp >> 6);
                buf[n++] = (unsigned char)(0x80 | (cp & 0x3F));
            } else if (k < 15) {
                cp = 0x800 + cp % (0x10000 - 0x800);
                if (cp >= 0xD800 && cp <= 0xDFFF)
                    cp = 0x4E2D; /* 中 */
                buf[n++] = (unsigned char)(0xE0 | cp >> 12);
                buf[n++] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
                buf[n++] = (unsigned char)(0x80 | (cp & 0x3F));
            } else {
                cp = 0x10000 + cp % (0x110000 - 0x10000);
                buf[n++] = (unsigned char)(0xF0 | cp >> 18);
                buf[n++] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
                buf[n++] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
                buf[n++] = (unsigned char)(0x80 | (cp & 0x3F));
            }
        }
        if (t % 3 == 0) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[(x >> 20) % n] = (unsigned char)(x >> 40);
        }
        size_t want_bad = 0, bad = 0, bad2 = 0;
        int want = utf8_reference(buf, n, &want_bad);
        int got = svy_utf8_valid((const char *)buf, n, &bad);
        svy_utf8_bytes_only = 1;
        int got2 = svy_utf8_valid((const char *)buf, n, &bad2);
        svy_utf8_bytes_only = 0;
        cr_assert(got == want && (got || bad == want_bad), "text %d (%zu bytes): %d at %zu, not %d at %zu", t, n,
                  got, bad, want, want_bad);
        block_check_says(buf, n, want);
        cr_assert(got2 == want && (got2 || bad2 == want_bad), "text %d, byte loop: %d at %zu", t, got2, bad2);
    }
}
