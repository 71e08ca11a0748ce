/* The writer front, CSV output, dates and atomic output files. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <survey/survey.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static svy_schema *sample_schema(void)
{
    svy_schema *s = svy_schema_new();
    svy_schema_set_date_origin(s, SVY_ORIGIN_STATA);
    svy_var *g = svy_schema_add(s, "gender", SVY_VAR_NUMERIC, NULL);
    svy_var_add_label_num(g, 1, "男");
    svy_var_add_label_tagged(g, 'a', "refused");
    svy_schema_add(s, "name", SVY_VAR_STRING, NULL);
    svy_var *d = svy_schema_add(s, "born", SVY_VAR_NUMERIC, NULL);
    svy_var_set_format(d, "%td");
    svy_var *inc = svy_schema_add(s, "income", SVY_VAR_NUMERIC, NULL);
    svy_var_add_missing_range(inc, -9, -8);
    return s;
}

static void write_rows(svy_writer *w)
{
    svy_err err;
    svy_value v1[] = {{.type = SVY_VAL_NUM, .num = 1},
                      {.type = SVY_VAL_STR, .str = "a,\"b\"", .len = 5},
                      {.type = SVY_VAL_NUM, .num = 0},
                      {.type = SVY_VAL_NUM, .num = 0.1}};
    svy_value v2[] = {{.type = SVY_VAL_NUM, .num = NAN, .missing = SVY_MISS_TAGGED, .tag = 'a'},
                      {.type = SVY_VAL_STR, .str = "", .len = 0},
                      {.type = SVY_VAL_NUM, .num = 22797},
                      {.type = SVY_VAL_NUM, .num = -9, .missing = SVY_MISS_USER}};
    svy_row r1 = {.index = 1, .nvals = 4, .vals = v1}, r2 = {.index = 2, .nvals = 4, .vals = v2};
    cr_assert_eq(svy_writer_write(w, &r1, &err), SVY_OK);
    cr_assert_eq(svy_writer_write(w, &r2, &err), SVY_OK);
}

Test(writer, csv_codes_dates_and_missing)
{
    char path[] = "/tmp/svy-w-XXXXXX.csv";
    close(mkstemps(path, 4));
    svy_schema *s = sample_schema();
    svy_writer *w = svy_writer_new(svy_format_from_path(path));
    svy_err err;
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK, "%s", err.msg);
    write_rows(w);
    cr_assert_eq(svy_writer_close(w, &err), SVY_OK);
    svy_writer_free(w);
    cr_assert_str_eq(slurp(path), "gender,name,born,income\n1,\"a,\"\"b\"\"\",1960-01-01,0.1\n,\"\",2022-06-01,\n",
                     "missing is empty, \"\" is an empty string, %%td is ISO 8601");
    unlink(path);
    svy_schema_free(s);
}

Test(writer, csv_labels_and_missing_codes)
{
    char path[] = "/tmp/svy-w-XXXXXX.csv";
    close(mkstemps(path, 4));
    svy_schema *s = sample_schema();
    svy_writer *w = svy_writer_new(SVY_FMT_CSV);
    svy_writer_set_labels(w, 1);
    svy_writer_set_missing_codes(w, 1);
    svy_err err;
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK);
    write_rows(w);
    cr_assert_eq(svy_writer_close(w, &err), SVY_OK);
    svy_writer_free(w);
    cr_assert_str_eq(slurp(path), "gender,name,born,income\n男,\"a,\"\"b\"\"\",1960-01-01,0.1\nrefused,\"\",2022-06-01,-9\n");
    unlink(path);
    svy_schema_free(s);
}

Test(writer, freed_without_close_leaves_no_file)
{
    char dir[] = "/tmp/svy-wd-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/out.csv", dir);
    svy_schema *s = sample_schema();
    svy_writer *w = svy_writer_new(SVY_FMT_CSV);
    svy_err err;
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK);
    write_rows(w);
    svy_writer_free(w);
    cr_assert_neq(access(path, F_OK), 0, "no output without a successful close");
    cr_assert_eq(rmdir(dir), 0, "no temporary file left behind either");
    svy_schema_free(s);
}

Test(writer, unwritable_output_is_an_io_error)
{
    svy_schema *s = sample_schema();
    svy_writer *w = svy_writer_new(SVY_FMT_CSV);
    svy_err err;
    cr_assert_eq(svy_writer_open(w, "/nonexistent-dir/out.csv", s, &err), SVY_E_IO);
    cr_assert_str_eq(err.file, "/nonexistent-dir/out.csv");
    svy_writer_free(w);
    svy_schema_free(s);
}

Test(writer, full_device_is_reported)
{
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        cr_skip_test("no /dev/full");
    svy_schema *s = sample_schema();
    svy_writer *w = svy_writer_new(SVY_FMT_CSV);
    svy_err err;
    cr_assert_eq(svy_writer_open_stream(w, f, "/dev/full", s, &err), SVY_OK);
    write_rows(w);
    cr_assert_eq(svy_writer_close(w, &err), SVY_E_IO, "ENOSPC must surface at close");
    svy_writer_free(w);
    fclose(f);
    svy_schema_free(s);
}

Test(writer, format_names)
{
    cr_assert_eq(svy_format_from_path("x/y.DTA"), SVY_FMT_DTA);
    cr_assert_eq(svy_format_from_path("a.b/c"), SVY_FMT_UNKNOWN);
    cr_assert_eq(svy_format_from_name("zsav"), SVY_FMT_ZSAV);
    cr_assert_null(svy_writer_new(SVY_FMT_UNKNOWN));
}

Test(writer, iso_dates_beyond_four_digit_years_use_the_expanded_form)
{
    char path[] = "/tmp/svy-w-XXXXXX.csv";
    close(mkstemps(path, 4));
    svy_schema *s = svy_schema_new();
    svy_schema_set_date_origin(s, SVY_ORIGIN_STATA);
    svy_var *d = svy_schema_add(s, "d", SVY_VAR_NUMERIC, NULL);
    svy_var_set_format(d, "%td");
    svy_writer *w = svy_writer_new(SVY_FMT_CSV);
    svy_err err;
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK);
    /* 3,000,000 days after 1960 is 10173-09-20 and 800,000 days before is -231-09-03 (R: as.Date(x, origin = "1960-01-01")) */
    svy_value v1[] = {{.type = SVY_VAL_NUM, .num = 3000000}}, v2[] = {{.type = SVY_VAL_NUM, .num = -800000}};
    svy_row r1 = {.index = 1, .nvals = 1, .vals = v1}, r2 = {.index = 2, .nvals = 1, .vals = v2};
    cr_assert_eq(svy_writer_write(w, &r1, &err), SVY_OK);
    cr_assert_eq(svy_writer_write(w, &r2, &err), SVY_OK);
    cr_assert_eq(svy_writer_close(w, &err), SVY_OK);
    svy_writer_free(w);
    cr_assert_str_eq(slurp(path), "d\n+10173-09-20\n-0231-09-03\n");
    unlink(path);
    svy_schema_free(s);
}

/* ---- a large CSV output is written by a second thread ------------------- */

/* Rows "i,text" for i < n, with every 1000th text needing quotes. */
static void write_numbered(svy_csv_out *o, long n)
{
    char num[32];
    for (long i = 0; i < n; i++) {
        snprintf(num, sizeof num, "%ld", i);
        svy_csv_out_cstr(o, num);
        svy_csv_out_cstr(o, i % 1000 ? "plain text of a row" : "a, \"quoted\" one");
        svy_csv_out_end_row(o);
    }
}

/* The rows of write_numbered in path, then last (or nothing). */
static void check_numbered(const char *path, long n, const char *last)
{
    FILE *in = fopen(path, "rb");
    cr_assert_not_null(in);
    char line[128], want[128];
    for (long i = 0; i < n; i++) {
        cr_assert(fgets(line, sizeof line, in), "row %ld is there", i);
        snprintf(want, sizeof want, "%ld,%s\n", i, i % 1000 ? "plain text of a row" : "\"a, \"\"quoted\"\" one\"");
        cr_assert_str_eq(line, want, "row %ld in its place", i);
    }
    if (last) {
        cr_assert(fgets(line, sizeof line, in), "the line after the flush is there");
        cr_assert_str_eq(line, last);
    }
    cr_assert_null(fgets(line, sizeof line, in), "nothing after the last row");
    fclose(in);
}

Test(writer, large_output_arrives_whole_and_in_order)
{
    char path[] = "/tmp/svy-big-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    svy_csv_out *o = svy_csv_out_new(f, ',');
    enum { N = 1000000 }; /* about 25 MB: most of it through the thread */
    write_numbered(o, N);
    svy_err err;
    cr_assert_eq(svy_csv_out_flush(o, path, &err), SVY_OK, "%s", err.msg);
    svy_csv_out_free(o);
    fclose(f);
    check_numbered(path, N, NULL);
    unlink(path);
}

Test(writer, write_error_in_the_writer_thread_is_reported_at_flush)
{
    /* a file size limit past the point where the thread takes over */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
    rl.rlim_cur = 12 << 20;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    char path[] = "/tmp/svy-big-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    svy_csv_out *o = svy_csv_out_new(f, ',');
    write_numbered(o, 1000000);
    svy_err err;
    cr_assert_eq(svy_csv_out_flush(o, path, &err), SVY_E_IO, "a full file is an I/O error");
    cr_assert(strstr(err.msg, "write error"), "says so: %s", err.msg);
    svy_csv_out_free(o);
    fclose(f);
    unlink(path);
}

Test(writer, freeing_with_the_thread_running_is_clean)
{
    FILE *f = fopen("/dev/null", "wb");
    svy_csv_out *o = svy_csv_out_new(f, ',');
    write_numbered(o, 600000); /* past the threshold, no flush */
    svy_csv_out_free(o);
    fclose(f);
}

/* The line contract is decided by the writer alone: only plain CSV copies
 * a reader's lines; labels, missing codes and other formats need values. */
Test(writer, copies_lines_only_as_plain_csv)
{
    svy_writer *w = svy_writer_new(SVY_FMT_CSV);
    cr_assert(svy_writer_copies_lines(w), "plain CSV writes the line as it is");
    svy_writer_set_labels(w, 1);
    cr_assert_not(svy_writer_copies_lines(w), "labels replace codes");
    svy_writer_set_labels(w, 0);
    svy_writer_set_missing_codes(w, 1);
    cr_assert_not(svy_writer_copies_lines(w), "missing codes replace empty fields");
    svy_writer_free(w);
    static const svy_format other[] = {SVY_FMT_TSV, SVY_FMT_DTA, SVY_FMT_SAV};
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        w = svy_writer_new(other[i]);
        cr_assert_not(svy_writer_copies_lines(w), "format %zu writes its own bytes", i);
        svy_writer_free(w);
    }
}

/* svy_csv_out_int prints what svy_dtoa prints for the same integer (its
 * own digits below 1e15, svy_dtoa's text above). */
Test(writer, csv_out_int_prints_as_dtoa)
{
    static const long long v[] = {0, 1, -1, 9, 10, 99, 100, -100, 123456789, -987654321012LL, 999999999999999LL,
                                  -999999999999999LL, 1000000000000000LL, -1000000000000000LL, 1234567890123456789LL,
                                  -9223372036854775807LL - 1, 9223372036854775807LL};
    char *buf = NULL, want[4096] = "";
    size_t len = 0, w = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    svy_csv_out *o = svy_csv_out_new(f, ',');
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        svy_csv_out_int(o, v[i]);
        w += svy_dtoa((double)v[i], want + w);
        want[w++] = i + 1 < sizeof v / sizeof *v ? ',' : '\n';
    }
    svy_csv_out_end_row(o);
    want[w] = '\0';
    svy_err err;
    cr_assert_eq(svy_csv_out_flush(o, "mem", &err), SVY_OK);
    svy_csv_out_free(o);
    fclose(f);
    cr_assert_str_eq(buf, want);
    free(buf);
}

/* Rows made in place sit between the rows written field by field; no room
 * inside a row or past a buffer; the room's slack beyond what is advanced
 * is not written. */
Test(writer, csv_out_room_takes_whole_rows_in_place)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    svy_csv_out *o = svy_csv_out_new(f, ',');
    svy_csv_out_cstr(o, "a");
    cr_assert_null(svy_csv_out_room(o, 8), "not inside a row");
    svy_csv_out_end_row(o);
    cr_assert_null(svy_csv_out_room(o, (size_t)1 << 30), "not past a buffer");
    for (int k = 0; k < 3000; k++) { /* past one 256 KB buffer */
        char *d = svy_csv_out_room(o, 200);
        cr_assert_not_null(d);
        memset(d, 'x', 200);
        memcpy(d, "1,2\n3,4\n", 8);
        svy_csv_out_advance(o, 8);
        svy_csv_out_int(o, k);
        svy_csv_out_end_row(o);
    }
    svy_err err;
    cr_assert_eq(svy_csv_out_flush(o, "mem", &err), SVY_OK);
    svy_csv_out_free(o);
    fclose(f);
    cr_assert(!memchr(buf, 'x', len), "only what was advanced");
    char *p = buf;
    cr_assert(!strncmp(p, "a\n", 2));
    p += 2;
    for (int k = 0; k < 3000; k++) {
        char want[32];
        int n = snprintf(want, sizeof want, "1,2\n3,4\n%d\n", k);
        cr_assert(!strncmp(p, want, (size_t)n), "rows of %d in their place", k);
        p += n;
    }
    cr_assert_eq((size_t)(p - buf), len);
    free(buf);
}

/* svy_fmt_ll is svy_csv_out_int's text: "%lld" below 1e15 in size (every
 * digit count, both signs), svy_dtoa's beyond. */
Test(writer, fmt_ll_is_lld_below_1e15_and_dtoa_beyond)
{
    long long v[] = {0, 1, -1, 9, 10, 99, 100, 101, 999, 1000, 12345, -99999, 1000000, 2147483648LL,
                     999999999999999LL, -999999999999999LL, 1000000000000000LL, -1000000000000000LL,
                     9007199254740993LL, -9223372036854775807LL - 1};
    for (size_t k = 0; k < sizeof v / sizeof *v; k++) {
        char got[SVY_DTOA_MAX + 1], want[SVY_DTOA_MAX + 1];
        size_t n = svy_fmt_ll(v[k], got);
        got[n] = '\0';
        if (v[k] <= -1000000000000000LL || v[k] >= 1000000000000000LL)
            want[svy_dtoa((double)v[k], want)] = '\0';
        else
            snprintf(want, sizeof want, "%lld", v[k]);
        cr_assert_str_eq(got, want, "%lld", v[k]);
    }
    for (long long x = -20000; x <= 20000; x += 7) {
        char got[SVY_DTOA_MAX + 1], want[32];
        got[svy_fmt_ll(x, got)] = '\0';
        snprintf(want, sizeof want, "%lld", x);
        cr_assert_str_eq(got, want);
    }
}
