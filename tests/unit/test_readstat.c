/* ReadStat backends: round trips through every writable format (.dta, .sav,
 * .zsav) and the errors a reader of real files meets. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/survey.h>
#include <unistd.h>

#include "test_util.h"

#define NROWS 6
#define NVARS 6
#define SPSS_1960_DAYS 137775.0
#define STATA_DBL_MAX 8.988465674311579e307

/* What a read collects: a copy of the schema and every value. */
typedef struct cell {
    double num;
    char *str;
    int type, missing;
    char tag;
} cell;

typedef struct got {
    svy_schema *schema;
    cell rows[64][NVARS + 1];
    size_t nrows, nvars;
} got;

static svy_status got_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    got *g = ctx;
    g->schema = svy_schema_clone(s);
    g->nvars = svy_schema_nvars(s);
    return SVY_OK;
}

static svy_status got_row(void *ctx, const svy_row *row, svy_err *err)
{
    got *g = ctx;
    cr_assert_lt(g->nrows, 64, "test files are small");
    for (size_t i = 0; i < row->nvals && i <= NVARS; i++) {
        const svy_value *v = &row->vals[i];
        cell *c = &g->rows[g->nrows][i];
        c->num = v->num;
        c->type = v->type;
        c->missing = v->missing;
        c->tag = v->tag;
        c->str = v->type == SVY_VAL_STR ? strndup(v->str, v->len) : NULL;
    }
    g->nrows++;
    return SVY_OK;
}

static void got_free(got *g)
{
    for (size_t r = 0; r < g->nrows; r++)
        for (size_t i = 0; i <= NVARS; i++)
            free(g->rows[r][i].str);
    svy_schema_free(g->schema);
}

static svy_status read_file(const char *path, const char *encoding, got *g, svy_err *err)
{
    memset(g, 0, sizeof *g);
    svy_reader *r = svy_reader_new();
    if (encoding)
        svy_reader_set_encoding(r, encoding);
    svy_handler h = {.schema = got_schema, .row = got_row};
    svy_status st = svy_reader_open(r, path, err);
    if (st == SVY_OK)
        st = svy_reader_run(r, &h, g, err);
    svy_reader_free(r);
    return st;
}

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/svy-test-readstat-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "a scratch directory");
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0, "scratch directory removed");
}

static const char *const cities[NROWS] = {"北京市", "上海", "", "Zürich", "Ἀθῆναι", "東京都港区"};
static const double incomes[NROWS] = {DBL_MAX, -DBL_MAX, 4.9406564584124654e-324, 0.1, 1e-300, 3.141592653589793};
static const double days[NROWS] = {0, -137696, 21310, 2936547, -1, 15000};

/* The test data set: labels, CJK text, extreme doubles, dates and every
 * kind of missing value.  origin says how dates are counted. */
static svy_schema *make_schema(svy_date_origin origin)
{
    svy_err err;
    svy_schema *s = svy_schema_new();
    svy_schema_set_label(s, "测试数据 test data");
    svy_schema_set_date_origin(s, origin);
    svy_var *v = svy_schema_add(s, "id", SVY_VAR_NUMERIC, &err);
    svy_var_set_label(v, "标识 identifier");
    v = svy_schema_add(s, "q1", SVY_VAR_NUMERIC, &err);
    svy_var_set_label(v, "您是否同意?");
    svy_var_set_labelset_name(v, "agree");
    svy_var_add_label_num(v, 1, "是");
    svy_var_add_label_num(v, 2, "否");
    svy_var_add_label_num(v, 9, "不知道");
    if (origin == SVY_ORIGIN_STATA)
        svy_var_add_label_tagged(v, 'a', "拒绝回答");
    else
        svy_var_add_missing_range(v, 9, 9);
    v = svy_schema_add(s, "income", SVY_VAR_NUMERIC, &err);
    svy_var_set_format(v, origin == SVY_ORIGIN_STATA ? "%10.0g" : "F40.16");
    v = svy_schema_add(s, "city", SVY_VAR_STRING, &err);
    svy_var_set_width(v, 16);
    v = svy_schema_add(s, "visit", SVY_VAR_NUMERIC, &err);
    svy_var_set_format(v, origin == SVY_ORIGIN_STATA ? "%td" : "DATE11");
    v = svy_schema_add(s, "note", SVY_VAR_STRING, &err);
    svy_var_set_width(v, 3000);
    return s;
}

static char longtext[3001];

static void fill_row(svy_value *vals, int r, svy_date_origin origin, int sav)
{
    memset(vals, 0, sizeof(svy_value) * NVARS);
    vals[0] = (svy_value){.type = SVY_VAL_NUM, .num = r + 1};
    vals[1] = (svy_value){.type = SVY_VAL_NUM, .num = 1 + r % 2};
    if (r == 2)
        vals[1] = (svy_value){.type = SVY_VAL_NUM, .num = NAN, .missing = SVY_MISS_SYSTEM};
    if (r == 3)
        vals[1] = sav ? (svy_value){.type = SVY_VAL_NUM, .num = 9, .missing = SVY_MISS_USER}
                      : (svy_value){.type = SVY_VAL_NUM, .num = NAN, .missing = SVY_MISS_TAGGED, .tag = 'a'};
    if (r == 4 && !sav)
        vals[1] = (svy_value){.type = SVY_VAL_NUM, .num = NAN, .missing = SVY_MISS_TAGGED, .tag = 'z'};
    /* Stata's largest double is below DBL_MAX: the top is its missing codes. */
    /* SPSS keeps -DBL_MAX for system missing and the next two for LO/HI. */
    double x = incomes[r];
    if (r == 0)
        x = sav ? nextafter(DBL_MAX, 0) : STATA_DBL_MAX;
    if (r == 1 && sav)
        x = -nextafter(nextafter(DBL_MAX, 0), 0);
    vals[2] = (svy_value){.type = SVY_VAL_NUM, .num = x};
    vals[3] = (svy_value){.type = SVY_VAL_STR, .str = cities[r], .len = strlen(cities[r])};
    double d = origin == SVY_ORIGIN_SPSS ? (days[r] + SPSS_1960_DAYS) * 86400.0 : days[r];
    vals[4] = (svy_value){.type = SVY_VAL_NUM, .num = d};
    if (r == 5)
        vals[4] = (svy_value){.type = SVY_VAL_NUM, .num = NAN, .missing = SVY_MISS_SYSTEM};
    const char *note = r == 0 ? longtext : cities[r];
    vals[5] = (svy_value){.type = SVY_VAL_STR, .str = note, .len = strlen(note)};
}

static void write_file(const char *path, svy_format fmt, svy_date_origin origin)
{
    svy_err err;
    svy_schema *s = make_schema(origin);
    svy_writer *w = svy_writer_new(fmt);
    cr_assert_not_null(w, "a writer for format %d", fmt);
    svy_writer_set_row_count(w, NROWS);
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK, "open %s: %s", path, err.msg);
    svy_value vals[NVARS];
    for (int r = 0; r < NROWS; r++) {
        fill_row(vals, r, origin, fmt != SVY_FMT_DTA);
        svy_row row = {.index = r + 1, .nvals = NVARS, .vals = vals};
        cr_assert_eq(svy_writer_write(w, &row, &err), SVY_OK, "row %d col %lld: %s", r + 1, err.col, err.msg);
    }
    cr_assert_eq(svy_writer_close(w, &err), SVY_OK, "close: %s", err.msg);
    svy_writer_free(w);
    svy_schema_free(s);
}

static void check_round_trip(svy_format fmt, const char *ext, svy_date_origin origin)
{
    int sav = fmt != SVY_FMT_DTA;
    for (size_t i = 0; i < sizeof longtext - 1; i++)
        longtext[i] = (char)('a' + i % 26);
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/rt.%s", tmpdir, ext);
    write_file(path, fmt, origin);

    got g;
    svy_err err;
    cr_assert_eq(read_file(path, NULL, &g, &err), SVY_OK, "read back %s: %s", ext, err.msg);
    cr_assert_eq(g.nrows, NROWS, "%s: every row comes back", ext);
    cr_assert_eq(g.nvars, NVARS, "%s: every variable comes back", ext);
    cr_assert_str_eq(svy_schema_format(g.schema), ext[0] == 'z' ? "zsav" : ext, "format detected by content");
    cr_assert_str_eq(svy_schema_label(g.schema), "测试数据 test data", "%s: data set label", ext);

    const svy_var *q1 = svy_schema_var(g.schema, 1);
    cr_assert_str_eq(svy_var_name(q1), "q1");
    cr_assert_str_eq(svy_var_label(q1), "您是否同意?", "%s: CJK variable label", ext);
    if (!sav) /* SPSS label sets have no names */
        cr_assert_str_eq(svy_var_labelset_name(q1), "agree", "%s: label set name kept", ext);
    svy_value one = {.type = SVY_VAL_NUM, .num = 1}, two = {.type = SVY_VAL_NUM, .num = 2};
    cr_assert_str_eq(svy_var_label_for(q1, &one), "是", "%s: value label 1", ext);
    cr_assert_str_eq(svy_var_label_for(q1, &two), "否", "%s: value label 2", ext);
    if (!sav) {
        svy_value ta = {.type = SVY_VAL_NUM, .num = NAN, .missing = SVY_MISS_TAGGED, .tag = 'a'};
        cr_assert_str_eq(svy_var_label_for(q1, &ta), "拒绝回答", "dta: label of tagged missing .a");
    } else {
        cr_assert_eq(svy_var_nmissing(q1), 1, "sav: the user-missing definition comes back");
        double lo, hi;
        svy_var_missing_range(q1, 0, &lo, &hi);
        cr_assert(lo == 9 && hi == 9, "sav: user-missing 9");
    }
    cr_assert_str_eq(svy_var_format(svy_schema_var(g.schema, 4)), sav ? "DATE11" : "%td", "%s: date format", ext);
    cr_assert_eq(svy_var_date_kind(svy_schema_var(g.schema, 4)), SVY_DATE_DAY, "%s: a date", ext);

    svy_value want[NVARS];
    for (int r = 0; r < NROWS; r++) {
        fill_row(want, r, origin, sav);
        for (int i = 0; i < NVARS; i++) {
            const cell *c = &g.rows[r][i];
            const svy_value *w = &want[i];
            cr_assert_eq(c->missing, w->missing, "%s row %d col %d: missing kind %d, want %d", ext, r + 1, i + 1,
                         c->missing, w->missing);
            if (w->missing == SVY_MISS_TAGGED)
                cr_assert_eq(c->tag, w->tag, "%s row %d col %d: tag", ext, r + 1, i + 1);
            if (w->type == SVY_VAL_STR) {
                cr_assert_eq(c->type, SVY_VAL_STR, "%s row %d col %d: text", ext, r + 1, i + 1);
                cr_assert_str_eq(c->str, w->str, "%s row %d col %d: text identical", ext, r + 1, i + 1);
            } else if (w->missing == SVY_MISS_NONE || w->missing == SVY_MISS_USER) {
                cr_assert(memcmp(&c->num, &w->num, sizeof(double)) == 0,
                          "%s row %d col %d: %.17g comes back as %.17g", ext, r + 1, i + 1, w->num, c->num);
            }
        }
    }
    got_free(&g);
    remove_tmpdir();
}

Test(readstat, round_trip_dta)
{
    check_round_trip(SVY_FMT_DTA, "dta", SVY_ORIGIN_STATA);
}

Test(readstat, round_trip_sav)
{
    check_round_trip(SVY_FMT_SAV, "sav", SVY_ORIGIN_SPSS);
}

Test(readstat, round_trip_zsav)
{
    check_round_trip(SVY_FMT_ZSAV, "zsav", SVY_ORIGIN_SPSS);
}

/* A Stata date written to .sav means the same day. */
Test(readstat, stata_dates_to_sav_keep_their_day)
{
    for (size_t i = 0; i < sizeof longtext - 1; i++)
        longtext[i] = 'x';
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/d.sav", tmpdir);
    svy_err err;
    svy_schema *s = make_schema(SVY_ORIGIN_STATA);
    svy_var_add_missing_range(svy_schema_var_mut(s, 1), 9, 9); /* not in a Stata schema otherwise */
    svy_writer *w = svy_writer_new(SVY_FMT_SAV);
    svy_writer_set_row_count(w, NROWS);
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK, "%s", err.msg);
    svy_value vals[NVARS];
    for (int r = 0; r < NROWS; r++) {
        fill_row(vals, r, SVY_ORIGIN_STATA, 1);
        svy_row row = {.index = r + 1, .nvals = NVARS, .vals = vals};
        cr_assert_eq(svy_writer_write(w, &row, &err), SVY_OK, "%s", err.msg);
    }
    cr_assert_eq(svy_writer_close(w, &err), SVY_OK, "%s", err.msg);
    svy_writer_free(w);
    svy_schema_free(s);
    got g;
    cr_assert_eq(read_file(path, NULL, &g, &err), SVY_OK, "%s", err.msg);
    cr_assert_str_eq(svy_var_format(svy_schema_var(g.schema, 4)), "DATE11", "a %%td becomes DATE11");
    for (int r = 0; r < NROWS - 1; r++)
        cr_assert_eq(g.rows[r][4].num / 86400.0 - SPSS_1960_DAYS, days[r], "row %d: same day", r + 1);
    got_free(&g);
    remove_tmpdir();
}

Test(readstat, beyond_stata_doubles_is_an_error)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/big.dta", tmpdir);
    svy_err err;
    svy_schema *s = svy_schema_new();
    svy_schema_add(s, "x", SVY_VAR_NUMERIC, &err);
    svy_writer *w = svy_writer_new(SVY_FMT_DTA);
    svy_writer_set_row_count(w, 1);
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK, "%s", err.msg);
    svy_value v = {.type = SVY_VAL_NUM, .num = DBL_MAX};
    svy_row row = {.index = 1, .nvals = 1, .vals = &v};
    cr_assert_eq(svy_writer_write(w, &row, &err), SVY_E_DATA, "DBL_MAX is a missing code in Stata: refused");
    cr_assert(strstr(err.msg, "Stata"), "the message says why: %s", err.msg);
    svy_writer_free(w);
    svy_schema_free(s);
    cr_assert_neq(access(path, F_OK), 0, "no output file");
    remove_tmpdir();
}

Test(readstat, row_count_mismatch_leaves_no_file)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/short.dta", tmpdir);
    svy_err err;
    svy_schema *s = make_schema(SVY_ORIGIN_STATA);
    svy_writer *w = svy_writer_new(SVY_FMT_DTA);
    svy_writer_set_row_count(w, NROWS + 1);
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK, "%s", err.msg);
    svy_value vals[NVARS];
    fill_row(vals, 1, SVY_ORIGIN_STATA, 0);
    svy_row row = {.index = 1, .nvals = NVARS, .vals = vals};
    cr_assert_eq(svy_writer_write(w, &row, &err), SVY_OK, "%s", err.msg);
    cr_assert_neq(svy_writer_close(w, &err), SVY_OK, "fewer rows than declared is an error");
    svy_writer_free(w);
    cr_assert_neq(access(path, F_OK), 0, "no output file after a failed close");
    svy_schema_free(s);

    w = svy_writer_new(SVY_FMT_SAV);
    s = make_schema(SVY_ORIGIN_SPSS);
    cr_assert_neq(svy_writer_open(w, path, s, &err), SVY_OK, "a .sav without a row count is refused");
    cr_assert_eq(err.code, SVY_E_USAGE, "a usage error");
    svy_writer_free(w);
    svy_schema_free(s);
    remove_tmpdir();
}

Test(readstat, text_too_wide_is_an_error)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/wide.sav", tmpdir);
    svy_err err;
    svy_schema *s = make_schema(SVY_ORIGIN_SPSS);
    svy_var_set_width(svy_schema_var_mut(s, 3), 2);
    svy_writer *w = svy_writer_new(SVY_FMT_SAV);
    svy_writer_set_row_count(w, 1);
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK, "%s", err.msg);
    svy_value vals[NVARS];
    fill_row(vals, 0, SVY_ORIGIN_SPSS, 1);
    svy_row row = {.index = 1, .nvals = NVARS, .vals = vals};
    cr_assert_eq(svy_writer_write(w, &row, &err), SVY_E_DATA, "9 bytes do not fit in 2, never cut");
    cr_assert_eq(err.row, 1, "the row is named");
    cr_assert_eq(err.col, 4, "the column is named");
    svy_writer_free(w);
    svy_schema_free(s);
    remove_tmpdir();
}

/* Truncate a good file at several points: always an error, never a crash. */
Test(readstat, truncated_files_fail_cleanly)
{
    for (size_t i = 0; i < sizeof longtext - 1; i++)
        longtext[i] = 'y';
    const char *exts[] = {"dta", "sav", "zsav"};
    svy_format fmts[] = {SVY_FMT_DTA, SVY_FMT_SAV, SVY_FMT_ZSAV};
    for (int k = 0; k < 3; k++) {
        make_tmpdir();
        char path[128], cut[160];
        snprintf(path, sizeof path, "%s/full.%s", tmpdir, exts[k]);
        write_file(path, fmts[k], fmts[k] == SVY_FMT_DTA ? SVY_ORIGIN_STATA : SVY_ORIGIN_SPSS);
        FILE *f = fopen(path, "rb");
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        char *buf = malloc((size_t)size);
        fseek(f, 0, SEEK_SET);
        cr_assert_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        long cuts[] = {size / 10, size / 3, size / 2, size - 40};
        for (int c = 0; c < 4; c++) {
            snprintf(cut, sizeof cut, "%s/cut%d.%s", tmpdir, c, exts[k]);
            FILE *o = fopen(cut, "wb");
            fwrite(buf, 1, (size_t)cuts[c], o);
            fclose(o);
            got g;
            svy_err err;
            svy_status st = read_file(cut, NULL, &g, &err);
            if (st == SVY_OK)
                cr_assert_lt(g.nrows, NROWS, "%s cut at %ld: rows cannot all be there", exts[k], cuts[c]);
            else
                cr_assert(st == SVY_E_FORMAT || st == SVY_E_DATA, "%s cut at %ld: a data error (%d: %s)",
                          exts[k], cuts[c], st, err.msg);
            got_free(&g);
        }
        free(buf);
        remove_tmpdir();
    }
}

Test(readstat, unknown_encoding_is_a_usage_error)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/e.dta", tmpdir);
    write_file(path, SVY_FMT_DTA, SVY_ORIGIN_STATA);
    got g;
    svy_err err;
    cr_assert_eq(read_file(path, "NO-SUCH-ENCODING", &g, &err), SVY_E_USAGE, "a bad --encoding is a usage error");
    cr_assert(strstr(err.msg, "NO-SUCH-ENCODING"), "the message names it: %s", err.msg);
    got_free(&g);
    remove_tmpdir();
}

/* dta 118 is UTF-8 by definition: Latin-1 bytes in it are refused with the
 * row and column, and read once the right encoding is named. */
Test(readstat, invalid_utf8_names_row_and_column)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/latin.dta", tmpdir);
    svy_err err;
    svy_schema *s = svy_schema_new();
    svy_var *v = svy_schema_add(s, "n", SVY_VAR_NUMERIC, &err);
    v = svy_schema_add(s, "town", SVY_VAR_STRING, &err);
    svy_var_set_width(v, 12);
    svy_writer *w = svy_writer_new(SVY_FMT_DTA);
    svy_writer_set_row_count(w, 3);
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK, "%s", err.msg);
    const char *towns[] = {"Bonn", "K\xf6ln", "D\xfcsseldorf"};
    for (int r = 0; r < 3; r++) {
        svy_value vals[2] = {{.type = SVY_VAL_NUM, .num = r},
                             {.type = SVY_VAL_STR, .str = towns[r], .len = strlen(towns[r])}};
        svy_row row = {.index = r + 1, .nvals = 2, .vals = vals};
        cr_assert_eq(svy_writer_write(w, &row, &err), SVY_OK, "%s", err.msg);
    }
    cr_assert_eq(svy_writer_close(w, &err), SVY_OK, "%s", err.msg);
    svy_writer_free(w);
    svy_schema_free(s);
    got g;
    cr_assert_eq(read_file(path, NULL, &g, &err), SVY_E_ENCODING, "invalid UTF-8 is refused, not passed on");
    cr_assert_eq(err.row, 2, "row of the first bad text: %lld", err.row);
    cr_assert_eq(err.col, 2, "column of the bad text: %lld", err.col);
    cr_assert_eq(g.nrows, 1, "rows before it were delivered");
    got_free(&g);
    cr_assert_eq(read_file(path, "LATIN1", &g, &err), SVY_OK, "with --encoding LATIN1: %s", err.msg);
    cr_assert_str_eq(g.rows[1][1].str, "Köln", "converted to UTF-8");
    got_free(&g);
    remove_tmpdir();
}

Test(readstat, projection_and_limit)
{
    for (size_t i = 0; i < sizeof longtext - 1; i++)
        longtext[i] = 'z';
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/p.sav", tmpdir);
    write_file(path, SVY_FMT_SAV, SVY_ORIGIN_SPSS);
    svy_reader *r = svy_reader_new();
    const char *cols[] = {"city", "id"};
    svy_reader_set_columns(r, cols, 2);
    svy_reader_set_limit(r, 4);
    got g;
    memset(&g, 0, sizeof g);
    svy_err err;
    svy_handler h = {.schema = got_schema, .row = got_row};
    cr_assert_eq(svy_reader_open(r, path, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(svy_reader_run(r, &h, &g, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(g.nvars, 2, "two columns delivered");
    cr_assert_eq(g.nrows, 4, "the limit stops the read");
    cr_assert_str_eq(g.rows[1][0].str, "上海", "city first");
    cr_assert_eq(g.rows[1][1].num, 2, "then id");
    cr_assert_eq(svy_reader_rows(r), 4, "rows counted");
    svy_reader_free(r);
    got_free(&g);
    remove_tmpdir();
}

/* ---- The real-world corpus against R haven (tests/ref/realworld-haven.R) ---- */

#define RW_MAXCOLS 128

typedef struct rw_col {
    long long n_missing;
    long double sum;
    long long bytes;
} rw_col;

typedef struct rw_read {
    size_t ncols;
    long long rows;
    char names[RW_MAXCOLS][130];
    int is_str[RW_MAXCOLS];
    rw_col cols[RW_MAXCOLS];
} rw_read;

static svy_status rw_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    rw_read *x = ctx;
    x->ncols = svy_schema_nvars(s);
    for (size_t i = 0; i < x->ncols && i < RW_MAXCOLS; i++) {
        snprintf(x->names[i], sizeof x->names[i], "%s", svy_var_name(svy_schema_var(s, i)));
        x->is_str[i] = svy_var_type_of(svy_schema_var(s, i)) == SVY_VAR_STRING;
    }
    return SVY_OK;
}

static svy_status rw_row(void *ctx, const svy_row *row, svy_err *err)
{
    rw_read *x = ctx;
    x->rows++;
    for (size_t i = 0; i < row->nvals && i < RW_MAXCOLS; i++) {
        const svy_value *v = &row->vals[i];
        rw_col *c = &x->cols[i];
        if (v->type == SVY_VAL_STR)
            c->bytes += (long long)v->len;
        else if (v->missing == SVY_MISS_SYSTEM || v->missing == SVY_MISS_TAGGED)
            c->n_missing++;
        else
            c->sum += v->num;
    }
    return SVY_OK;
}

Test(readstat, realworld_matches_haven)
{
    char dir[1024], path[1400], line[4096];
    snprintf(dir, sizeof dir, "%s/../shared/testdata/realworld", SVY_SRCDIR);
    snprintf(path, sizeof path, "%s/MANIFEST.csv", dir);
    if (access(path, R_OK) != 0)
        cr_skip_test("no ../shared/testdata/realworld");
    snprintf(path, sizeof path, "%s/tests/ref/realworld-files.csv", SVY_SRCDIR);
    FILE *ff = fopen(path, "r");
    cr_assert_not_null(ff, "the expectations written by tests/ref/realworld-haven.R");
    snprintf(path, sizeof path, "%s/tests/ref/realworld-columns.csv", SVY_SRCDIR);
    FILE *fc = fopen(path, "r");
    cr_assert_not_null(fc, "the column expectations");
    cr_assert_not_null(fgets(line, sizeof line, ff), "header");
    cr_assert_not_null(fgets(line, sizeof line, fc), "header");
    char cline[4096];
    int have_cline = fgets(cline, sizeof cline, fc) != NULL;
    int files = 0, checked_cols = 0;
    while (fgets(line, sizeof line, ff)) {
        char *f[8];
        size_t nf = svy_test_split_csv(line, f, 8);
        cr_assert_geq(nf, 4, "file row: %s", line);
        char file[256];
        snprintf(file, sizeof file, "%s", f[0]);
        int ok = !strcmp(f[1], "ok");
        long long want_rows = ok ? atoll(f[2]) : -1;
        size_t want_cols = ok ? (size_t)atoll(f[3]) : 0;
        snprintf(path, sizeof path, "%s/%s", dir, file);
        rw_read *x = calloc(1, sizeof *x);
        svy_reader *r = svy_reader_new();
        svy_err err;
        svy_err_clear(&err);
        svy_handler h = {.schema = rw_schema, .row = rw_row};
        svy_status st = svy_reader_open(r, path, &err);
        if (st == SVY_OK)
            st = svy_reader_run(r, &h, x, &err);
        svy_reader_free(r);
        /* A file that declares no encoding and is not UTF-8 is refused
         * (issue 12); haven reads it as Windows-1252, so compare that. */
        if (st == SVY_E_ENCODING && strstr(err.msg, "declares no encoding")) {
            free(x);
            x = calloc(1, sizeof *x);
            r = svy_reader_new();
            svy_reader_set_encoding(r, "WINDOWS-1252");
            svy_err_clear(&err);
            st = svy_reader_open(r, path, &err);
            if (st == SVY_OK)
                st = svy_reader_run(r, &h, x, &err);
            svy_reader_free(r);
        }
        files++;
        if (!ok) {
            cr_assert(st == SVY_E_FORMAT || st == SVY_E_DATA || st == SVY_E_ENCODING,
                      "%s: haven fails (%s), svy must fail as a data error, got %d", file, f[4], st);
            cr_assert(err.msg[0], "%s: the failure says why", file);
        } else {
            cr_assert_eq(st, SVY_OK, "%s: %s", file, err.msg);
            cr_assert_eq(x->rows, want_rows, "%s: %lld rows, haven %lld", file, x->rows, want_rows);
            cr_assert_eq(x->ncols, want_cols, "%s: %zu columns, haven %zu", file, x->ncols, want_cols);
        }
        /* The column rows of this file. */
        while (have_cline) {
            char tmp[4096];
            memcpy(tmp, cline, sizeof tmp);
            char *c[8];
            size_t nc = svy_test_split_csv(tmp, c, 8);
            cr_assert_geq(nc, 7, "column row: %s", cline);
            if (strcmp(c[0], file))
                break;
            size_t j = (size_t)atoll(c[1]) - 1;
            cr_assert_lt(j, x->ncols, "%s: column %zu exists", file, j + 1);
            cr_assert_str_eq(x->names[j], c[2], "%s: name of column %zu", file, j + 1);
            if (!strcmp(c[3], "string")) {
                cr_assert(x->is_str[j], "%s: %s is text", file, c[2]);
                cr_assert_eq(x->cols[j].bytes, atoll(c[6]), "%s: %s holds %lld bytes, haven %s", file, c[2],
                             x->cols[j].bytes, c[6]);
                checked_cols++;
            } else if (!strcmp(c[3], "numeric")) {
                cr_assert(!x->is_str[j], "%s: %s is numeric", file, c[2]);
                cr_assert_eq(x->cols[j].n_missing, atoll(c[4]), "%s: %s has %lld missing, haven %s", file, c[2],
                             x->cols[j].n_missing, c[4]);
                double want = strtod(c[5], NULL), have = (double)x->cols[j].sum;
                double tol = 1e-12 * (fabs(want) > 1 ? fabs(want) : 1);
                cr_assert(have == want || fabs(have - want) <= tol, "%s: %s sums to %.17g, haven %.17g", file, c[2], have, want);
                checked_cols++;
            }
            have_cline = fgets(cline, sizeof cline, fc) != NULL;
        }
        free(x);
    }
    fclose(ff);
    fclose(fc);
    cr_assert_geq(files, 80, "the whole corpus was checked (%d files)", files);
    cr_assert_geq(checked_cols, 500, "most columns were compared (%d)", checked_cols);
}

/* ---- SAS: no real-world files in the corpus, so ReadStat's own writer
 * makes a .sas7bdat, its .sas7bcat catalog and an .xpt here. ---- */
#include <readstat.h>

static ssize_t to_file(const void *data, size_t len, void *ctx)
{
    return (ssize_t)fwrite(data, 1, len, (FILE *)ctx);
}

static void write_sas(const char *path, int xpt)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    readstat_writer_t *w = readstat_writer_init();
    readstat_set_data_writer(w, to_file);
    readstat_variable_t *v1 = readstat_add_variable(w, "REGION", READSTAT_TYPE_DOUBLE, 8);
    readstat_variable_set_label(v1, "Region of residence");
    readstat_variable_set_format(v1, "REGFMT");
    readstat_variable_t *v2 = readstat_add_variable(w, "VISIT", READSTAT_TYPE_DOUBLE, 8);
    readstat_variable_set_format(v2, "DATE9");
    readstat_variable_t *v3 = readstat_add_variable(w, "NAME", READSTAT_TYPE_STRING, 8);
    cr_assert_eq(xpt ? readstat_begin_writing_xport(w, f, 3) : readstat_begin_writing_sas7bdat(w, f, 3), READSTAT_OK,
                 "begin writing");
    for (int r = 0; r < 3; r++) {
        readstat_begin_row(w);
        readstat_insert_double_value(w, v1, r + 1);
        if (r == 2)
            readstat_insert_tagged_missing_value(w, v2, 'B');
        else
            readstat_insert_double_value(w, v2, 22000 + r);
        readstat_insert_string_value(w, v3, r ? "bob" : "alice");
        cr_assert_eq(readstat_end_row(w), READSTAT_OK, "row %d", r);
    }
    cr_assert_eq(readstat_end_writing(w), READSTAT_OK, "end writing");
    readstat_writer_free(w);
    fclose(f);
}

static void write_catalog(const char *path)
{
    FILE *f = fopen(path, "wb");
    readstat_writer_t *w = readstat_writer_init();
    readstat_set_data_writer(w, to_file);
    readstat_label_set_t *ls = readstat_add_label_set(w, READSTAT_TYPE_DOUBLE, "REGFMT");
    readstat_label_double_value(ls, 1, "North");
    readstat_label_double_value(ls, 2, "South");
    cr_assert_eq(readstat_begin_writing_sas7bcat(w, f), READSTAT_OK, "begin catalog");
    cr_assert_eq(readstat_end_writing(w), READSTAT_OK, "end catalog");
    readstat_writer_free(w);
    fclose(f);
}

static void check_sas(const char *path, const char *catalog, const char *format)
{
    svy_reader *r = svy_reader_new();
    if (catalog)
        svy_reader_set_catalog(r, catalog);
    got g;
    memset(&g, 0, sizeof g);
    svy_err err;
    svy_handler h = {.schema = got_schema, .row = got_row};
    cr_assert_eq(svy_reader_open(r, path, &err), SVY_OK, "%s", err.msg);
    cr_assert_str_eq(svy_reader_format(r), format, "detected by content");
    cr_assert_eq(svy_reader_run(r, &h, &g, &err), SVY_OK, "%s: %s", format, err.msg);
    svy_reader_free(r);
    cr_assert_eq(g.nrows, 3, "%s: rows", format);
    cr_assert_eq(g.nvars, 3, "%s: variables", format);
    cr_assert_eq(svy_schema_date_origin(g.schema), SVY_ORIGIN_SAS, "SAS dates count from 1960");
    const svy_var *region = svy_schema_var(g.schema, 0);
    cr_assert_str_eq(svy_var_label(region), "Region of residence", "%s: variable label", format);
    cr_assert_eq(svy_var_date_kind(svy_schema_var(g.schema, 1)), SVY_DATE_DAY, "%s: DATE9 is a date", format);
    cr_assert_eq(g.rows[1][1].num, 22001, "%s: a date value", format);
    cr_assert_eq(g.rows[2][1].missing, SVY_MISS_TAGGED, "%s: .B is a tagged missing", format);
    cr_assert_eq(g.rows[2][1].tag, 'b', "%s: tag in lower case", format);
    cr_assert_str_eq(g.rows[0][2].str, "alice", "%s: text", format);
    if (catalog) {
        svy_value two = {.type = SVY_VAL_NUM, .num = 2};
        cr_assert_str_eq(svy_var_label_for(region, &two), "South", "value labels from the catalog");
    }
    got_free(&g);
}

Test(readstat, sas7bdat_with_catalog_and_xpt)
{
    make_tmpdir();
    char data[128], cat[128], xpt[128];
    snprintf(data, sizeof data, "%s/t.sas7bdat", tmpdir);
    snprintf(cat, sizeof cat, "%s/formats.sas7bcat", tmpdir);
    snprintf(xpt, sizeof xpt, "%s/t.xpt", tmpdir);
    write_sas(data, 0);
    write_catalog(cat);
    write_sas(xpt, 1);
    check_sas(data, cat, "sas7bdat");
    check_sas(data, NULL, "sas7bdat");
    check_sas(xpt, NULL, "xpt");
    remove_tmpdir();
}

/* Chinese survey files often hold GBK/GB18030 text: refused as it is, read
 * with the encoding named, in .dta and .sav alike. */
Test(readstat, gb18030_text_with_encoding)
{
    const char *exts[] = {"dta", "sav"};
    svy_format fmts[] = {SVY_FMT_DTA, SVY_FMT_SAV};
    /* 北京 and 上海市 in GB18030 */
    const char *gbk[] = {"\xb1\xb1\xbe\xa9", "\xc9\xcf\xba\xa3\xca\xd0"};
    for (int k = 0; k < 2; k++) {
        make_tmpdir();
        char path[128];
        snprintf(path, sizeof path, "%s/gbk.%s", tmpdir, exts[k]);
        svy_err err;
        svy_schema *s = svy_schema_new();
        svy_var *v = svy_schema_add(s, "city", SVY_VAR_STRING, &err);
        svy_var_set_width(v, 8);
        svy_writer *w = svy_writer_new(fmts[k]);
        svy_writer_set_row_count(w, 2);
        cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK, "%s", err.msg);
        for (int r = 0; r < 2; r++) {
            svy_value val = {.type = SVY_VAL_STR, .str = gbk[r], .len = strlen(gbk[r])};
            svy_row row = {.index = r + 1, .nvals = 1, .vals = &val};
            cr_assert_eq(svy_writer_write(w, &row, &err), SVY_OK, "%s", err.msg);
        }
        cr_assert_eq(svy_writer_close(w, &err), SVY_OK, "%s", err.msg);
        svy_writer_free(w);
        svy_schema_free(s);
        got g;
        cr_assert_eq(read_file(path, NULL, &g, &err), SVY_E_ENCODING, "%s: GBK bytes are not UTF-8", exts[k]);
        cr_assert_eq(err.row, 1, "%s: the row is named", exts[k]);
        cr_assert_eq(err.col, 1, "%s: the column is named", exts[k]);
        got_free(&g);
        cr_assert_eq(read_file(path, "GB18030", &g, &err), SVY_OK, "%s with GB18030: %s", exts[k], err.msg);
        cr_assert_str_eq(g.rows[0][0].str, "北京", "%s: converted", exts[k]);
        cr_assert_str_eq(g.rows[1][0].str, "上海市", "%s: converted", exts[k]);
        got_free(&g);
        remove_tmpdir();
    }
}

/* A numeric width of 1, 2 or 4 stores Stata byte, int or long: values come
 * back the same, the file is smaller, and a value out of range is refused. */
static long write_ints(const char *path, size_t width, double bad, svy_status *st_bad)
{
    svy_err err;
    svy_schema *s = svy_schema_new();
    svy_var *v = svy_schema_add(s, "code", SVY_VAR_NUMERIC, &err);
    svy_var_set_width(v, width);
    svy_writer *w = svy_writer_new(SVY_FMT_DTA);
    svy_writer_set_row_count(w, 60);
    cr_assert_eq(svy_writer_open(w, path, s, &err), SVY_OK, "%s", err.msg);
    for (int r = 0; r < 60; r++) {
        svy_value val = {.type = SVY_VAL_NUM, .num = r % 100 - 20};
        if (r == 7)
            val = (svy_value){.type = SVY_VAL_NUM, .num = NAN, .missing = SVY_MISS_TAGGED, .tag = 'c'};
        if (r == 9)
            val = (svy_value){.type = SVY_VAL_NUM, .num = NAN, .missing = SVY_MISS_SYSTEM};
        if (r == 59 && st_bad)
            val.num = bad;
        svy_row row = {.index = r + 1, .nvals = 1, .vals = &val};
        svy_status st = svy_writer_write(w, &row, &err);
        if (r == 59 && st_bad) {
            *st_bad = st;
            svy_writer_free(w);
            svy_schema_free(s);
            return -1;
        }
        cr_assert_eq(st, SVY_OK, "%s", err.msg);
    }
    cr_assert_eq(svy_writer_close(w, &err), SVY_OK, "%s", err.msg);
    svy_writer_free(w);
    svy_schema_free(s);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    return size;
}

Test(readstat, stata_integer_storage)
{
    make_tmpdir();
    char pd[128], pb[128];
    snprintf(pd, sizeof pd, "%s/double.dta", tmpdir);
    snprintf(pb, sizeof pb, "%s/byte.dta", tmpdir);
    long sd = write_ints(pd, 0, 0, NULL), sb = write_ints(pb, 1, 0, NULL);
    cr_assert_eq(sd - sb, 420, "a byte instead of a double per row (%ld vs %ld)", sd, sb);
    got g;
    svy_err err;
    cr_assert_eq(read_file(pb, NULL, &g, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(g.rows[0][0].num, -20, "values come back");
    cr_assert_eq(g.rows[50][0].num, 30, "values come back");
    cr_assert_eq(g.rows[7][0].missing, SVY_MISS_TAGGED, "tagged missing in a byte");
    cr_assert_eq(g.rows[7][0].tag, 'c', "its tag");
    cr_assert_eq(g.rows[9][0].missing, SVY_MISS_SYSTEM, "system missing in a byte");
    got_free(&g);
    svy_status st;
    write_ints(pb, 1, 101, &st);
    cr_assert_eq(st, SVY_E_DATA, "101 is a missing code in a Stata byte: refused");
    write_ints(pb, 2, 2.5, &st);
    cr_assert_eq(st, SVY_E_DATA, "2.5 is no int");
    remove_tmpdir();
}
