#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/schema.h>
#include <survey/weight.h>

#include "test_util.h"
#include "weight_private.h"

typedef svy_test_table table;

static table load(const char *rel)
{
    return svy_test_table_load(rel, "the R script tests/ref/weight-api.R");
}

static svy_schema *schema_of(const table *t)
{
    svy_schema *s = svy_schema_new();
    for (size_t i = 0; i < t->ncol; i++)
        cr_assert_not_null(svy_schema_add(s, t->head[i], SVY_VAR_UNTYPED, NULL));
    return s;
}

/* Row r of t as CSV text values (empty = missing), as the CSV reader gives them. */
static void row_of(const table *t, size_t r, svy_value *vals, svy_row *row)
{
    for (size_t i = 0; i < t->ncol; i++) {
        const char *c = t->cell[r][i];
        vals[i] = (svy_value){.type = SVY_VAL_STR, .str = c, .len = strlen(c),
                              .missing = *c ? SVY_MISS_NONE : SVY_MISS_SYSTEM};
    }
    *row = (svy_row){.index = (long long)r + 1, .nvals = t->ncol, .vals = vals};
}

/* Margin from a CSV file, through the level API (the file reader is tested
 * through svy-weight itself). */
static void add_margin_file(svy_weight *w, const char *rel)
{
    table m = load(rel);
    const char *vars[8];
    for (size_t i = 0; i + 1 < m.ncol; i++)
        vars[i] = m.head[i];
    size_t idx;
    svy_err err;
    cr_assert_eq(svy_weight_add_margin(w, rel, vars, m.ncol - 1, &idx, &err), SVY_OK, "%s", err.msg);
    for (size_t r = 0; r < m.nrow; r++) {
        const char *lev[8];
        for (size_t i = 0; i + 1 < m.ncol; i++)
            lev[i] = m.cell[r][i];
        double total = strtod(m.cell[r][m.ncol - 1], NULL);
        cr_assert_eq(svy_weight_add_margin_level(w, idx, lev, total, (long long)r + 2, &err), SVY_OK, "%s",
                     err.msg);
    }
    svy_test_table_free(&m);
}

/* Both passes over data: fit, then the weight of every row. */
static svy_status run(svy_weight *w, const table *d, double *out, svy_err *err)
{
    svy_schema *s = schema_of(d);
    svy_status st = svy_weight_begin(w, s, "data.csv", err);
    svy_value *vals = calloc(d->ncol, sizeof *vals);
    svy_row row;
    for (size_t r = 0; !st && r < d->nrow; r++) {
        row_of(d, r, vals, &row);
        st = svy_weight_add_row(w, &row, err);
    }
    if (!st)
        st = svy_weight_fit(w, err);
    for (size_t r = 0; !st && out && r < d->nrow; r++) {
        row_of(d, r, vals, &row);
        st = svy_weight_lookup(w, &row, &out[r], err);
    }
    free(vals);
    svy_schema_free(s);
    return st;
}

static void compare_to_r(const table *d, const double *got, const char *refpath)
{
    table ref = load(refpath);
    cr_assert_eq(ref.nrow, d->nrow, "%s has one weight per data row", refpath);
    size_t id = svy_test_col(d, "snum");
    for (size_t r = 0; r < d->nrow; r++) {
        cr_assert_str_eq(ref.cell[r][0], d->cell[r][id], "%s row %zu: rows in the same order", refpath,
                         r + 1);
        double want = strtod(ref.cell[r][1], NULL);
        double rel = want == 0 ? fabs(got[r]) : fabs(got[r] - want) / fabs(want);
        cr_assert(rel <= 1e-8, "%s row %zu (snum %s): weight %.17g, R has %.17g (relative %.3g)", refpath, r + 1,
                  ref.cell[r][0], got[r], want, rel);
    }
    svy_test_table_free(&ref);
}

#define MARGINS "tests/data/weight-margins/"

/* The comparisons with R all start from the design weight pw of a data file. */
static svy_weight *start_pw(table *d, const char *data)
{
    *d = load(data);
    svy_weight *w = svy_weight_new();
    svy_err err;
    cr_assert_eq(svy_weight_set_start(w, "pw", 0, &err), SVY_OK);
    return w;
}

/* The weights w gives the rows of d; what says what must succeed. */
static double *fit(svy_weight *w, const table *d, const char *what)
{
    svy_err err;
    double *got = calloc(d->nrow, sizeof *got);
    cr_assert_eq(run(w, d, got, &err), SVY_OK, "%s: %s", what, err.msg);
    return got;
}

static void compare_and_free(svy_weight *w, table *d, double *got, const char *refpath)
{
    compare_to_r(d, got, refpath);
    free(got);
    svy_weight_free(w);
    svy_test_table_free(d);
}

Test(weight, poststratify_crossed_margin_matches_r)
{
    table d;
    svy_weight *w = start_pw(&d, "tests/data/weight-apistrat.csv");
    add_margin_file(w, MARGINS "stype-sch.wide.csv");
    double *got = fit(w, &d, "post-stratification fits");
    const svy_weight_report *rep = svy_weight_get_report(w);
    cr_assert_eq(rep->iterations, 1, "one margin is one sweep, got %d", rep->iterations);
    cr_assert(rep->max_gap <= 1e-12, "post-stratification hits its targets, gap %g", rep->max_gap);
    compare_and_free(w, &d, got, "tests/ref/weight-poststrat.csv");
}

Test(weight, rake_three_margins_matches_r)
{
    table d;
    svy_weight *w = start_pw(&d, "tests/data/weight-apistrat.csv");
    add_margin_file(w, MARGINS "stype.csv");
    add_margin_file(w, MARGINS "sch.wide.csv");
    add_margin_file(w, MARGINS "stype-awards.csv");
    double *got = fit(w, &d, "raking converges");
    const svy_weight_report *rep = svy_weight_get_report(w);
    cr_assert(rep->max_gap <= 1e-10, "converged to the default tolerance, gap %g", rep->max_gap);
    cr_assert(rep->iterations > 1 && rep->iterations < 100, "several sweeps needed, got %d", rep->iterations);
    cr_assert(fabs(rep->total - 6194) < 1e-8, "weights sum to the population, got %.17g", rep->total);
    compare_and_free(w, &d, got, "tests/ref/weight-rake.csv");
}

Test(weight, rake_cluster_sample_matches_r)
{
    table d;
    svy_weight *w = start_pw(&d, "tests/data/weight-apiclus1.csv");
    add_margin_file(w, MARGINS "stype.csv");
    add_margin_file(w, MARGINS "sch.wide.csv");
    double *got = fit(w, &d, "raking converges");
    compare_and_free(w, &d, got, "tests/ref/weight-rake-clus1.csv");
}

Test(weight, trim_absolute_matches_r_trimweights)
{
    table d;
    svy_weight *w = start_pw(&d, "tests/data/weight-apistrat.csv");
    svy_err err;
    cr_assert_eq(svy_weight_set_trim_spec(w, "20,40", &err), SVY_OK, "%s", err.msg);
    double *got = fit(w, &d, "trimming fits");
    const svy_weight_report *rep = svy_weight_get_report(w);
    cr_assert_eq(rep->trimmed, 150, "every E (100) and H (50) school is clipped, got %lld", rep->trimmed);
    cr_assert_eq(rep->max, 40, "the upper bound is hit exactly, max %.17g", rep->max);
    compare_and_free(w, &d, got, "tests/ref/weight-trim.csv");
}

Test(weight, rake_and_trim_alternate_to_r)
{
    table d;
    svy_weight *w = start_pw(&d, "tests/data/weight-apistrat.csv");
    svy_err err;
    add_margin_file(w, MARGINS "stype.csv");
    add_margin_file(w, MARGINS "sch.wide.csv");
    add_margin_file(w, MARGINS "stype-awards.csv");
    cr_assert_eq(svy_weight_set_trim_spec(w, "0.4x,1.7x", &err), SVY_OK, "%s", err.msg);
    double *got = fit(w, &d, "raking and trimming settle");
    const svy_weight_report *rep = svy_weight_get_report(w);
    cr_assert(rep->trim_rounds > 1, "bounds this tight need several rounds, got %d", rep->trim_rounds);
    cr_assert(rep->max <= rep->trim_hi * (1 + 1e-10), "max %.17g within the upper bound %.17g", rep->max,
              rep->trim_hi);
    cr_assert(fabs(rep->trim_hi - 1.7 * 30.97) < 1e-9, "the bound is 1.7 times the mean, got %.17g", rep->trim_hi);
    compare_and_free(w, &d, got, "tests/ref/weight-rake-trim.csv");
}

Test(weight, nonresponse_classes_match_r)
{
    table d;
    svy_weight *w = start_pw(&d, "tests/data/weight-apistrat-nr.csv");
    svy_err err;
    const char *cells[] = {"stype"};
    cr_assert_eq(svy_weight_set_nonresponse(w, cells, 1, "resp", &err), SVY_OK);
    double *got = fit(w, &d, "nonresponse adjustment fits");
    const svy_weight_report *rep = svy_weight_get_report(w);
    cr_assert(rep->nonrespondents > 0 && rep->respondents + rep->nonrespondents == 200,
              "every row is a respondent or not: %lld + %lld", rep->respondents, rep->nonrespondents);
    double design = 0;
    for (size_t r = 0; r < d.nrow; r++)
        design += strtod(d.cell[r][svy_test_col(&d, "pw")], NULL);
    cr_assert(fabs(rep->total - design) < 1e-9, "the classes keep the design total %.17g, got %.17g", design,
              rep->total);
    compare_and_free(w, &d, got, "tests/ref/weight-nonresponse.csv");
}

Test(weight, nonresponse_then_rake_matches_r)
{
    table d;
    svy_weight *w = start_pw(&d, "tests/data/weight-apistrat-nr.csv");
    svy_err err;
    const char *cells[] = {"stype"};
    cr_assert_eq(svy_weight_set_nonresponse(w, cells, 1, "resp", &err), SVY_OK);
    add_margin_file(w, MARGINS "sch.wide.csv");
    add_margin_file(w, MARGINS "stype-awards.csv");
    double *got = fit(w, &d, "nonresponse then raking fits");
    compare_and_free(w, &d, got, "tests/ref/weight-nonresponse-rake.csv");
}

/* ---- small hand-made cases: checks and statistics ------------------------- */

/* Rows of (g, h, weight) as text. */
static table mini(const char *const *rows, size_t n)
{
    table t = {.ncol = 3, .nrow = n};
    t.head = calloc(3, sizeof *t.head);
    cr_assert(t.head, "out of memory");
    t.head[0] = svy_test_strdup("g");
    t.head[1] = svy_test_strdup("h");
    t.head[2] = svy_test_strdup("wt");
    t.cell = calloc(n, sizeof *t.cell);
    cr_assert(t.cell, "out of memory");
    for (size_t r = 0; r < n; r++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", rows[r]);
        char *f[3];
        cr_assert_eq(svy_test_split_csv(buf, f, 3), 3);
        t.cell[r] = calloc(3, sizeof **t.cell);
        cr_assert(t.cell[r], "out of memory");
        for (int i = 0; i < 3; i++)
            t.cell[r][i] = svy_test_strdup(f[i]);
    }
    return t;
}

static size_t margin1(svy_weight *w, const char *name, const char *var, const char *const *levels,
                      const double *totals, size_t n)
{
    size_t idx;
    svy_err err;
    cr_assert_eq(svy_weight_add_margin(w, name, &var, 1, &idx, &err), SVY_OK, "%s", err.msg);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(svy_weight_add_margin_level(w, idx, &levels[i], totals[i], (long long)i + 2, &err), SVY_OK,
                     "%s", err.msg);
    return idx;
}

static const char *const rows5[] = {"a,x,1", "a,y,1", "b,x,2", "b,y,2", "b,y,2"};

Test(weight, report_statistics_from_cells)
{
    table d = mini(rows5, 5);
    svy_weight *w = svy_weight_new();
    svy_err err;
    svy_weight_set_start(w, "wt", 0, &err);
    double got[5];
    cr_assert_eq(run(w, &d, got, &err), SVY_OK, "%s", err.msg);
    const svy_weight_report *r = svy_weight_get_report(w);
    cr_assert_eq(r->cells, 1, "no margin and no classes: one cell whatever the starting weights, got %zu",
                 r->cells);
    cr_assert_eq(r->min, 1);
    cr_assert_eq(r->max, 2);
    cr_assert_eq(r->median, 2, "median of 1,1,2,2,2 is 2, got %g", r->median);
    /* n sum(w^2) / sum(w)^2 = 5 * 14 / 64 */
    cr_assert(fabs(r->deff_kish - 70.0 / 64.0) < 1e-15, "Kish deff %.17g", r->deff_kish);
    cr_assert(fabs(r->cv * r->cv - 6.0 / 64.0) < 1e-15, "CV^2 = deff - 1, got %.17g", r->cv * r->cv);
    svy_weight_free(w);
    svy_test_table_free(&d);

    const char *const rows4[] = {"a,x,1", "a,y,4", "b,x,2", "b,y,3"};
    d = mini(rows4, 4);
    w = svy_weight_new();
    svy_weight_set_start(w, "wt", 0, &err);
    cr_assert_eq(run(w, &d, NULL, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(svy_weight_get_report(w)->median, 2.5, "even count: mean of the middle two");
    svy_weight_free(w);
    svy_test_table_free(&d);
}

Test(weight, poststratify_by_hand)
{
    table d = mini(rows5, 5);
    svy_weight *w = svy_weight_new();
    svy_err err;
    svy_weight_set_start(w, "wt", 0, &err);
    const char *lev[] = {"a", "b"};
    double tot[] = {10, 30};
    margin1(w, "g.csv", "g", lev, tot, 2);
    double got[5];
    cr_assert_eq(run(w, &d, got, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(got[0], 5, "a: 2 rows of weight 1 share 10");
    cr_assert_eq(got[1], 5);
    cr_assert_eq(got[2], 10, "b: 3 rows of weight 2 make 6, scaled by 30/6");
    svy_weight_free(w);
    svy_test_table_free(&d);
}

Test(weight, levels_match_numbers_and_labels)
{
    /* Data codes 1/2 with labels; one margin names labels, the other numbers. */
    svy_schema *s = svy_schema_new();
    svy_var *g = svy_schema_add(s, "g", SVY_VAR_NUMERIC, NULL);
    svy_var_add_label_num(g, 1, "Male");
    svy_var_add_label_num(g, 2, "Female");
    svy_schema_add(s, "h", SVY_VAR_NUMERIC, NULL);
    svy_weight *w = svy_weight_new();
    svy_err err;
    const char *lev[] = {"Male", "Female"};
    double tot[] = {6, 4};
    margin1(w, "g.csv", "g", lev, tot, 2);
    const char *hlev[] = {"1.0", "2"};
    double htot[] = {5, 5};
    margin1(w, "h.csv", "h", hlev, htot, 2);
    cr_assert_eq(svy_weight_begin(w, s, "d", &err), SVY_OK, "%s", err.msg);
    double data[][2] = {{1, 1}, {1, 2}, {2, 1}, {2, 2}};
    for (int r = 0; r < 4; r++) {
        svy_value v[2] = {{.type = SVY_VAL_NUM, .num = data[r][0]}, {.type = SVY_VAL_NUM, .num = data[r][1]}};
        svy_row row = {.index = r + 1, .nvals = 2, .vals = v};
        cr_assert_eq(svy_weight_add_row(w, &row, &err), SVY_OK, "row %d: %s", r + 1, err.msg);
    }
    cr_assert_eq(svy_weight_fit(w, &err), SVY_OK, "%s", err.msg);
    cr_assert(svy_weight_get_report(w)->max_gap <= 1e-10, "both margins hold");
    /* Text "Female" in a text cell also finds code 2 through the label. */
    svy_value v[2] = {{.type = SVY_VAL_STR, .str = "2", .len = 1}, {.type = SVY_VAL_STR, .str = "2", .len = 1}};
    svy_row row = {.index = 9, .nvals = 2, .vals = v};
    double x;
    cr_assert_eq(svy_weight_lookup(w, &row, &x, &err), SVY_OK, "text '2' is code 2: %s", err.msg);
    cr_assert(fabs(x - 2) < 1e-9, "g=2,h=2 gets 2 (4 split evenly across h), got %.17g", x);
    svy_weight_free(w);
    svy_schema_free(s);
}

static void expect_fail(svy_weight *w, const table *d, const char *needle)
{
    svy_err err;
    svy_err_clear(&err);
    svy_status st = run(w, d, NULL, &err);
    char buf[1200];
    svy_err_format(&err, buf, sizeof buf);
    cr_assert_neq(st, SVY_OK, "should fail with '%s'", needle);
    cr_assert(strstr(buf, needle), "message '%s' should contain '%s'", buf, needle);
}

Test(weight, margin_level_without_respondents_names_line)
{
    table d = mini(rows5, 5);
    svy_weight *w = svy_weight_new();
    const char *lev[] = {"a", "b", "c"};
    double tot[] = {10, 30, 5};
    margin1(w, "g.csv", "g", lev, tot, 3);
    expect_fail(w, &d, "g.csv: line 4: g=c: no respondent has this level");
    svy_weight_free(w);
    svy_test_table_free(&d);
}

Test(weight, respondent_level_missing_from_margin_names_row)
{
    table d = mini(rows5, 5);
    svy_weight *w = svy_weight_new();
    const char *lev[] = {"a"};
    double tot[] = {10};
    margin1(w, "g.csv", "g", lev, tot, 1);
    expect_fail(w, &d, "data.csv:3:1: respondent at g=b, a level margin g.csv lacks");
    svy_weight_free(w);
    svy_test_table_free(&d);
}

Test(weight, crossed_combination_missing_from_margin)
{
    table d = mini(rows5, 5);
    svy_weight *w = svy_weight_new();
    svy_err err;
    const char *vars[] = {"g", "h"};
    size_t idx;
    svy_weight_add_margin(w, "gh.csv", vars, 2, &idx, &err);
    const char *l1[] = {"a", "x"}, *l2[] = {"a", "y"}, *l3[] = {"b", "x"};
    svy_weight_add_margin_level(w, idx, l1, 1, 2, &err);
    svy_weight_add_margin_level(w, idx, l2, 1, 3, &err);
    svy_weight_add_margin_level(w, idx, l3, 1, 4, &err);
    expect_fail(w, &d, "gh.csv: no line for g=b, h=y, a level respondents have (first at data.csv row 4)");
    svy_weight_free(w);
    svy_test_table_free(&d);
}

Test(weight, grand_totals_must_agree)
{
    table d = mini(rows5, 5);
    svy_weight *w = svy_weight_new();
    const char *lev[] = {"a", "b"}, *hl[] = {"x", "y"};
    double tot[] = {10, 30}, ht[] = {20, 21};
    margin1(w, "g.csv", "g", lev, tot, 2);
    margin1(w, "h.csv", "h", hl, ht, 2);
    expect_fail(w, &d, "h.csv: totals sum to 41 but g.csv sums to 40");
    svy_weight_free(w);
    svy_test_table_free(&d);
}

Test(weight, bad_totals_are_refused_with_their_line)
{
    svy_weight *w = svy_weight_new();
    svy_err err;
    const char *var = "g";
    size_t idx;
    svy_weight_add_margin(w, "g.csv", &var, 1, &idx, &err);
    const char *a = "a";
    cr_assert_eq(svy_weight_add_margin_level(w, idx, &a, 0, 2, &err), SVY_E_DATA, "a zero total is an error");
    cr_assert(strstr(err.msg, "line 2: g=a: total 0 is not a positive number"), "got %s", err.msg);
    cr_assert_eq(svy_weight_add_margin_level(w, idx, &a, -3, 3, &err), SVY_E_DATA, "negative total");
    cr_assert_eq(svy_weight_add_margin_level(w, idx, &a, NAN, 4, &err), SVY_E_DATA, "missing total");
    cr_assert(strstr(err.msg, "line 4: g=a: missing total"), "got %s", err.msg);
    svy_weight_free(w);
}

Test(weight, missing_value_in_margin_variable)
{
    const char *const rows[] = {"a,x,1", ",y,1"};
    table d = mini(rows, 2);
    svy_weight *w = svy_weight_new();
    const char *lev[] = {"a", "b"};
    double tot[] = {10, 30};
    margin1(w, "g.csv", "g", lev, tot, 2);
    expect_fail(w, &d, "data.csv:2:1: missing value in margin variable g");
    svy_weight_free(w);
    svy_test_table_free(&d);
}

Test(weight, not_converging_is_an_error_with_the_gap)
{
    /* A 2x2 with a near-empty cell converges slowly: one sweep is not enough. */
    const char *const rows[] = {"a,x,1", "a,y,1", "b,x,1", "b,y,0.001"};
    table d = mini(rows, 4);
    svy_weight *w = svy_weight_new();
    svy_err err;
    svy_weight_set_start(w, "wt", 0, &err);
    cr_assert_eq(svy_weight_set_convergence(w, 2, 1e-10, &err), SVY_OK);
    const char *gl[] = {"a", "b"}, *hl[] = {"x", "y"};
    double gt[] = {50, 50}, ht[] = {20, 80};
    margin1(w, "g.csv", "g", gl, gt, 2);
    margin1(w, "h.csv", "h", hl, ht, 2);
    expect_fail(w, &d, "raking did not converge in 2 iterations: largest relative gap");
    svy_weight_free(w);
    svy_test_table_free(&d);
}

Test(weight, impossible_bounds_say_why)
{
    table d = mini(rows5, 5);
    svy_weight *w = svy_weight_new();
    svy_err err;
    svy_weight_set_start(w, "wt", 0, &err);
    svy_weight_set_trim_spec(w, ",1.5", &err);
    expect_fail(w, &d, "below the mean weight");
    svy_weight_free(w);
    svy_test_table_free(&d);

    /* Post-stratification fixes each cell's weight: a bound that cuts a
     * cell can never hold together with the margin. */
    d = mini(rows5, 5);
    w = svy_weight_new();
    const char *lev[] = {"a", "b"};
    double tot[] = {2, 60};
    margin1(w, "g.csv", "g", lev, tot, 2);
    svy_weight_set_trim_spec(w, "0,1.5x", &err);
    expect_fail(w, &d, "cannot both hold");
    svy_weight_free(w);
    svy_test_table_free(&d);
}

Test(weight, trim_spec_is_parsed_strictly)
{
    svy_weight *w = svy_weight_new();
    svy_err err;
    cr_assert_eq(svy_weight_set_trim_spec(w, "0.3x,3.5x", &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(svy_weight_set_trim_spec(w, ",4x", &err), SVY_OK, "an upper bound alone: %s", err.msg);
    cr_assert_eq(svy_weight_set_trim_spec(w, "3", &err), SVY_E_USAGE, "one number is not LO,HI");
    cr_assert_eq(svy_weight_set_trim_spec(w, "5,2", &err), SVY_E_USAGE, "LO above HI");
    cr_assert_eq(svy_weight_set_trim_spec(w, "a,2", &err), SVY_E_USAGE, "not a number");
    cr_assert_eq(svy_weight_set_trim_spec(w, ",", &err), SVY_E_USAGE, "no bound at all");
    svy_weight_free(w);
}

Test(weight, nonresponse_cell_without_respondents)
{
    const char *const rows[] = {"a,1,1", "a,0,1", "b,0,2"};
    table d = mini(rows, 3);
    svy_weight *w = svy_weight_new();
    svy_err err;
    const char *cells[] = {"g"};
    svy_weight_set_start(w, "wt", 0, &err);
    svy_weight_set_nonresponse(w, cells, 1, "h", &err);
    expect_fail(w, &d, "data.csv:3: nonresponse cell g=b has no respondents");
    svy_weight_free(w);
    svy_test_table_free(&d);
}

Test(weight, probability_start_and_bad_weights)
{
    const char *const rows[] = {"a,x,0.5", "a,y,0.25"};
    table d = mini(rows, 2);
    svy_weight *w = svy_weight_new();
    svy_err err;
    svy_weight_set_start(w, "wt", 1, &err);
    double got[2];
    cr_assert_eq(run(w, &d, got, &err), SVY_OK, "%s", err.msg);
    cr_assert(got[0] == 2 && got[1] == 4, "weight is 1/prob: %g %g", got[0], got[1]);
    svy_weight_free(w);
    svy_test_table_free(&d);

    const char *const bad[] = {"a,x,1.5"};
    d = mini(bad, 1);
    w = svy_weight_new();
    svy_weight_set_start(w, "wt", 1, &err);
    expect_fail(w, &d, "data.csv:1:3: inclusion probability 1.5 is not in (0, 1]");
    svy_weight_free(w);
    svy_test_table_free(&d);
}

/* ---- starting weights that differ on every row ----------------------------- */

/* n rows in cells a and b, the starting weight of row i being i + 1: more
 * distinct weights per cell than are kept in memory, so they are spooled. */
static table distinct_rows(size_t n)
{
    table t = {.ncol = 3, .nrow = n};
    t.head = calloc(3, sizeof *t.head);
    t.cell = calloc(n, sizeof *t.cell);
    cr_assert(t.head && t.cell, "out of memory");
    t.head[0] = svy_test_strdup("g");
    t.head[1] = svy_test_strdup("h");
    t.head[2] = svy_test_strdup("wt");
    for (size_t r = 0; r < n; r++) {
        char buf[32];
        t.cell[r] = calloc(3, sizeof **t.cell);
        cr_assert(t.cell[r], "out of memory");
        t.cell[r][0] = svy_test_strdup(r % 2 ? "b" : "a");
        t.cell[r][1] = svy_test_strdup("x");
        snprintf(buf, sizeof buf, "%zu", r + 1);
        t.cell[r][2] = svy_test_strdup(buf);
    }
    return t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

Test(weight, spooled_weights_give_exact_statistics)
{
    size_t n = 1001;
    table d = distinct_rows(n);
    svy_weight *w = svy_weight_new();
    svy_err err;
    svy_weight_set_start(w, "wt", 0, &err);
    const char *lev[] = {"a", "b"};
    double tot[] = {1e6, 3e6};
    margin1(w, "g.csv", "g", lev, tot, 2);
    double *got = calloc(n, sizeof *got);
    cr_assert_eq(run(w, &d, got, &err), SVY_OK, "%s", err.msg);
    const svy_weight_report *r = svy_weight_get_report(w);
    cr_assert_eq(r->cells, 2, "two cells whatever the weights, got %zu", r->cells);
    cr_assert_eq(r->spooled, (long long)n, "every row spooled, got %lld", r->spooled);
    /* Each cell's factor: a holds 1, 3, ..., 1001 (sum 251001), b 2..1000 (250500). */
    for (size_t i = 0; i < n; i++) {
        double want = (double)(i + 1) * (i % 2 ? 3e6 / 250500.0 : 1e6 / 251001.0);
        cr_assert(fabs(got[i] - want) <= 1e-13 * want, "row %zu: %.17g, want %.17g", i + 1, got[i], want);
    }
    double *s = malloc(n * sizeof *s);
    memcpy(s, got, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    cr_assert_eq(r->median, s[n / 2], "median %.17g, sorted %.17g", r->median, s[n / 2]);
    cr_assert_eq(r->min, s[0]);
    cr_assert_eq(r->max, s[n - 1]);
    cr_assert(fabs(r->total - 4e6) < 1e-6, "total %.17g", r->total);
    free(s);
    free(got);
    svy_weight_free(w);
    svy_test_table_free(&d);
}

Test(weight, same_margin_twice_is_refused)
{
    svy_weight *w = svy_weight_new();
    svy_err err;
    const char *ab[] = {"a", "b"}, *ba[] = {"b", "a"}, *ac[] = {"a", "c"};
    cr_assert_eq(svy_weight_add_margin(w, "ab.csv", ab, 2, NULL, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(svy_weight_add_margin(w, "ac.csv", ac, 2, NULL, &err), SVY_OK, "another crossing: %s", err.msg);
    cr_assert_eq(svy_weight_add_margin(w, "a.csv", ab, 1, NULL, &err), SVY_OK, "a nested margin: %s", err.msg);
    cr_assert_eq(svy_weight_add_margin(w, "ba.csv", ba, 2, NULL, &err), SVY_E_USAGE, "the same in another order");
    cr_assert(strstr(err.msg, "b x a is given twice (here and in ab.csv)"), "got %s", err.msg);
    cr_assert_eq(svy_weight_add_margin(w, "a2.csv", ab, 1, NULL, &err), SVY_E_USAGE, "a one-variable margin twice");
    cr_assert_eq(svy_weight_margin_count(w), 3);
    svy_weight_free(w);
}

Test(weight, not_converging_reports_where)
{
    const char *const rows[] = {"a,x,1", "a,y,1", "b,x,1", "b,y,0.001"};
    table d = mini(rows, 4);
    svy_weight *w = svy_weight_new();
    svy_err err;
    svy_weight_set_start(w, "wt", 0, &err);
    cr_assert_eq(svy_weight_set_convergence(w, 3, 1e-10, &err), SVY_OK);
    const char *gl[] = {"a", "b"}, *hl[] = {"x", "y"};
    double gt[] = {50, 50}, ht[] = {20, 80};
    margin1(w, "g.csv", "g", gl, gt, 2);
    margin1(w, "h.csv", "h", hl, ht, 2);
    cr_assert_eq(run(w, &d, NULL, &err), SVY_E_DATA);
    const svy_weight_report *r = svy_weight_get_report(w);
    cr_assert_eq(r->converged, 0);
    cr_assert_eq(r->iterations, 3);
    cr_assert(r->max_gap > 1e-10, "gap %g", r->max_gap);
    cr_assert(*r->worst_margin && *r->worst_level, "the worst margin line is named");
    double g = fabs(r->worst_weighted - r->worst_total) / r->worst_total;
    cr_assert(fabs(g - r->max_gap) <= 1e-12, "the worst line's gap %g is the largest gap %g", g, r->max_gap);
    double x;
    svy_value v[3] = {{.type = SVY_VAL_STR, .str = "a", .len = 1}, {.type = SVY_VAL_STR, .str = "x", .len = 1},
                      {.type = SVY_VAL_STR, .str = "1", .len = 1}};
    svy_row row = {.index = 1, .nvals = 3, .vals = v};
    cr_assert_eq(svy_weight_lookup(w, &row, &x, &err), SVY_E_USAGE, "no weights from a failed fit");
    svy_weight_free(w);
    svy_test_table_free(&d);

    /* The same at the default limit converges. */
    d = mini(rows, 4);
    w = svy_weight_new();
    svy_weight_set_start(w, "wt", 0, &err);
    margin1(w, "g.csv", "g", gl, gt, 2);
    margin1(w, "h.csv", "h", hl, ht, 2);
    cr_assert_eq(run(w, &d, NULL, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(svy_weight_get_report(w)->converged, 1);
    svy_weight_free(w);
    svy_test_table_free(&d);
}

Test(weight, spooled_nonrespondents_stay_out_of_the_statistics)
{
    /* Every third row a nonrespondent, in cells with many distinct weights. */
    size_t n = 300;
    table d = distinct_rows(n);
    for (size_t r = 0; r < n; r++) {
        free(d.cell[r][1]);
        d.cell[r][1] = svy_test_strdup(r % 3 == 2 ? "0" : "1");
    }
    svy_weight *w = svy_weight_new();
    svy_err err;
    svy_weight_set_start(w, "wt", 0, &err);
    const char *cells[] = {"g"};
    cr_assert_eq(svy_weight_set_nonresponse(w, cells, 1, "h", &err), SVY_OK);
    double *got = calloc(n, sizeof *got);
    cr_assert_eq(run(w, &d, got, &err), SVY_OK, "%s", err.msg);
    const svy_weight_report *r = svy_weight_get_report(w);
    cr_assert_eq(r->respondents, 200, "got %lld", r->respondents);
    cr_assert_eq(r->nonrespondents, 100, "got %lld", r->nonrespondents);
    cr_assert(r->min > 1, "the smallest respondent weight, not a nonrespondent's 0: %g", r->min);
    cr_assert(fabs(r->total - 45150) < 1e-8, "the classes keep the design total, got %.17g", r->total);
    for (size_t i = 0; i < n; i++)
        cr_assert(i % 3 == 2 ? got[i] == 0 : got[i] > 0, "row %zu: %g", i + 1, got[i]);
    free(got);
    svy_weight_free(w);
    svy_test_table_free(&d);
}

/* BRR's Hadamard matrices are R's (survey:::hadamard(n)): stored ones,
 * Paley's from a prime, doubled; size and a checksum per n from
 * tests/ref/hadamard.R. */
Test(weight, hadamard_matches_r)
{
    svy_test_table t = svy_test_table_load("tests/ref/hadamard.csv", "tests/ref/hadamard.R");
    size_t cn = svy_test_col(&t, "n"), cs = svy_test_col(&t, "size"), cx = svy_test_col(&t, "sum");
    for (size_t r = 0; r < t.nrow; r++) {
        size_t n = (size_t)atol(t.cell[r][cn]), size;
        unsigned char *h = svy_hadamard(n, &size);
        cr_assert(h, "n = %zu: no matrix", n);
        cr_assert_eq(size, (size_t)atol(t.cell[r][cs]), "n = %zu: size %zu, R %s", n, size, t.cell[r][cs]);
        double sum = 0;
        for (size_t i = 0; i < size; i++)
            for (size_t j = 0; j < size; j++)
                sum += h[i * size + j] * ((double)(i + 1) * 1000003 + (double)(j + 1) * 7919);
        cr_assert_eq(sum, atof(t.cell[r][cx]), "n = %zu: checksum %.17g, R %s", n, sum, t.cell[r][cx]);
        for (size_t a = 1; a < size && size <= 64; a++) /* columns orthogonal as +-1 vectors */
            for (size_t b = 0; b < a; b++) {
                long dot = 0;
                for (size_t i = 0; i < size; i++)
                    dot += (2 * h[i * size + a] - 1) * (2 * h[i * size + b] - 1);
                cr_assert_eq(dot, 0, "n = %zu: columns %zu and %zu not orthogonal", n, a, b);
            }
        free(h);
    }
    svy_test_table_free(&t);
}
