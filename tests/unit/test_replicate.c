/* Replicate-weight variance (libsurvey/replicate.c): R's svrepdesign()
 * defaults, svrVar() with and without mse, degf() as the rank of the
 * replicate weights, and the errors, on a four-row design worked by hand.
 * The R agreement on api data is the CLI case svy-tab/rep-reference.test. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <survey/estimate.h>
#include <survey/replicate.h>
#include <survey/schema.h>

static const char *const head[] = {"y", "w", "r1", "r2", "r3"};
static const char *const rows[4][5] = {
    {"1", "2", "0", "3", "3"},
    {"0", "2", "3", "0", "3"},
    {"1", "2", "3", "3", "0"},
    {"1", "1", "1.5", "1.5", "1.5"},
};

static svy_schema *schema(void)
{
    svy_schema *s = svy_schema_new();
    svy_err err;
    for (size_t i = 0; i < 5; i++)
        cr_assert(svy_schema_add(s, head[i], SVY_VAR_UNTYPED, &err));
    return s;
}

/* Run the mean of y with the design rd (NULL: none); the first result. */
static svy_est_result run(const svy_repdesign *rd, svy_stat stat, svy_status *bind_st, svy_err *err)
{
    svy_design d;
    svy_design_init(&d);
    d.weight = "w";
    svy_est *e = svy_est_new(&d, NULL, 0, err);
    cr_assert(e);
    cr_assert_eq(svy_est_add_outcome(e, stat, "y", NULL, err), SVY_OK);
    if (rd)
        cr_assert_eq(svy_est_set_replicates(e, rd, err), SVY_OK, "%s", err->msg);
    svy_schema *s = schema();
    svy_est_result out;
    memset(&out, 0, sizeof out);
    *bind_st = svy_est_bind(e, s, err);
    if (*bind_st == SVY_OK) {
        for (size_t r = 0; r < 4; r++) {
            svy_value v[5];
            memset(v, 0, sizeof v);
            for (size_t c = 0; c < 5; c++) {
                v[c].type = SVY_VAL_STR;
                v[c].str = rows[r][c];
                v[c].len = strlen(rows[r][c]);
            }
            svy_row row = {.index = (long long)r + 1, .nvals = 5, .vals = v};
            cr_assert_eq(svy_est_push(e, &row, err), SVY_OK, "%s", err->msg);
        }
        cr_assert_eq(svy_est_finish(e, err), SVY_OK, "%s", err->msg);
        out = *svy_est_get(e, 0);
    }
    svy_est_free(e);
    svy_schema_free(s);
    return out;
}

static const char *const cols[] = {"r*"};

Test(replicate, jk1_mean_by_hand)
{
    svy_repdesign rd;
    svy_repdesign_init(&rd);
    rd.cols = cols;
    rd.ncols = 1;
    rd.scale = 2.0 / 3;
    svy_status st;
    svy_err err;
    svy_est_result r = run(&rd, SVY_STAT_MEAN, &st, &err);
    cr_assert_eq(st, SVY_OK);
    double t[3] = {4.5 / 7.5, 7.5 / 7.5, 4.5 / 7.5}, m = (t[0] + t[1] + t[2]) / 3, v = 0;
    for (int i = 0; i < 3; i++)
        v += (t[i] - m) * (t[i] - m);
    cr_assert_float_eq(r.estimate, 5.0 / 7, 1e-15);
    cr_assert_float_eq(r.se, sqrt(2.0 / 3 * v), 1e-15);
    cr_assert_eq(r.df, 2); /* rank 3 - 1 */
    rd.mse = 1;
    r = run(&rd, SVY_STAT_MEAN, &st, &err);
    v = 0;
    for (int i = 0; i < 3; i++)
        v += (t[i] - 5.0 / 7) * (t[i] - 5.0 / 7);
    cr_assert_float_eq(r.se, sqrt(2.0 / 3 * v), 1e-15);
}

Test(replicate, brr_total_default_scale_and_rscales)
{
    static const double rs[] = {1, 0.5, 0};
    svy_repdesign rd;
    svy_repdesign_init(&rd);
    rd.cols = cols;
    rd.ncols = 1;
    rd.type = SVY_REP_OTHER;
    rd.scale = 1.0 / 3;
    rd.rscales = rs;
    rd.nrscales = 3;
    svy_status st;
    svy_err err;
    svy_est_result r = run(&rd, SVY_STAT_TOTAL, &st, &err);
    /* totals 4.5, 7.5, 4.5; the centre is the mean over rscale > 0: 6 */
    double v = (1 * 1.5 * 1.5 + 0.5 * 1.5 * 1.5 + 0) / 3;
    cr_assert_float_eq(r.se, sqrt(v), 1e-15);
    rd.type = SVY_REP_BRR;
    rd.rscales = NULL;
    rd.nrscales = 0;
    rd.scale = NAN;
    r = run(&rd, SVY_STAT_TOTAL, &st, &err);
    cr_assert_float_eq(r.se, sqrt((1.0 + 4 + 1) / 3), 1e-15); /* scale 1/R, centre 5.5 */
}

Test(replicate, errors)
{
    static const double rs[] = {1, 1};
    svy_repdesign rd;
    svy_repdesign_init(&rd);
    rd.cols = cols;
    rd.ncols = 1;
    rd.type = SVY_REP_JKN;
    svy_status st;
    svy_err err;
    run(&rd, SVY_STAT_MEAN, &st, &err);
    cr_assert_eq(st, SVY_E_USAGE); /* jkn without rscales */
    cr_assert(strstr(err.msg, "--rscales"));
    rd.rscales = rs;
    rd.nrscales = 2;
    run(&rd, SVY_STAT_MEAN, &st, &err);
    cr_assert_eq(st, SVY_E_USAGE); /* 2 rscales for 3 columns */
    static const char *const none[] = {"q*"};
    rd.cols = none;
    run(&rd, SVY_STAT_MEAN, &st, &err);
    cr_assert_eq(st, SVY_E_USAGE);
    cr_assert(strstr(err.msg, "starts with 'q'"));

    svy_design d;
    svy_design_init(&d);
    static const char *const strata[] = {"y"};
    d.strata = strata;
    d.nstrata = 1;
    svy_est *e = svy_est_new(&d, NULL, 0, &err);
    rd.cols = cols;
    cr_assert_eq(svy_est_set_replicates(e, &rd, &err), SVY_E_USAGE);
    svy_est_free(e);
}

Test(replicate, type_names)
{
    svy_reptype t;
    cr_assert(svy_reptype_parse("bootstrap", &t) && t == SVY_REP_BOOTSTRAP);
    cr_assert(svy_reptype_parse("successive-difference", &t) && t == SVY_REP_SDR);
    cr_assert(!svy_reptype_parse("JK1", &t));
    cr_assert_str_eq(svy_reptype_name(SVY_REP_FAY), "fay");
}

/* ------------------------------------------------------------------
 * The Gram matrices summed per distinct direction (replicate_rows.c):
 * the same degrees of freedom as one term per row, with binary and
 * general factors, a linearly dependent PSU and an all-zero row; and the
 * denominators shared per domain, split when an outcome is missing. */
#include "replicate_private.h"

enum { NR = 6, NROWS = 301 };
static const double fac[10][NR] = {
    {0, 2, 2, 0, 2, 0},       {2, 0, 2, 2, 0, 0},     {0, 1.5, 0.5, 3, 0, 1}, {1, 0, 2.5, 0, 1, 1},
    {1, 1.5, 3, 3, 1, 2},     {1, 0, 0, 2, 0.5, 0},   {0, 1, 0, 0, 2, 0.5},   {0.5, 0, 1, 0, 0, 2},
    {2, 0.5, 0, 1, 0, 0},     {0, 0, 0.5, 1, 1, 1},
}; /* PSU 4 = PSU 2 + PSU 3 */
static char cell[NROWS][4 + NR][32];

static void make_rows(void)
{
    for (int i = 0; i < NROWS; i++) {
        int g = i % 3, k = i / 3;
        int p = g == 0 ? k % 2 : g == 1 ? 2 + k % 3 : 5 + k % 5;
        double w = 1 + (i * 37 % 100) / 8.0;
        snprintf(cell[i][0], 32, "%d", g);
        snprintf(cell[i][1], 32, "%d", i % 2);
        if (i % 7 == 3)
            cell[i][2][0] = '\0';
        else
            snprintf(cell[i][2], 32, "%d", i * 13 % 5);
        snprintf(cell[i][3], 32, "%.17g", w);
        for (int r = 0; r < NR; r++) /* the last row: every replicate weight 0 */
            snprintf(cell[i][4 + r], 32, "%.17g", i == NROWS - 1 ? 0 : w * fac[p][r]);
    }
}

/* Means of the columns ys by g (and overall), without the rows missing y2
 * when skip_missing_y2;
 * dir_cap: the directions kept (SIZE_MAX: the default). */
static svy_est *run_gram(const char *const *ys, size_t ny, size_t dir_cap, int skip_missing_y2)
{
    static const char *const names[4 + NR] = {"g", "y", "y2", "w", "r1", "r2", "r3", "r4", "r5", "r6"};
    static const char *const by[] = {"g"};
    static const char *const rcols[] = {"r*"};
    svy_err err;
    svy_design d;
    svy_design_init(&d);
    d.weight = "w";
    d.overall = 1;
    svy_est *e = svy_est_new(&d, by, 1, &err);
    cr_assert(e);
    for (size_t j = 0; j < ny; j++)
        cr_assert_eq(svy_est_add_outcome(e, SVY_STAT_MEAN, ys[j], NULL, &err), SVY_OK);
    svy_repdesign rd;
    svy_repdesign_init(&rd);
    rd.cols = rcols;
    rd.ncols = 1;
    rd.type = SVY_REP_BOOTSTRAP;
    cr_assert_eq(svy_est_set_replicates(e, &rd, &err), SVY_OK, "%s", err.msg);
    svy_schema *s = svy_schema_new();
    for (size_t c = 0; c < 4 + NR; c++)
        cr_assert(svy_schema_add(s, names[c], SVY_VAR_UNTYPED, &err));
    cr_assert_eq(svy_est_bind(e, s, &err), SVY_OK, "%s", err.msg);
    if (dir_cap != SIZE_MAX)
        e->rep->dir_cap = dir_cap;
    for (int i = 0; i < NROWS; i++) {
        if (skip_missing_y2 && !cell[i][2][0])
            continue;
        svy_value v[4 + NR];
        memset(v, 0, sizeof v);
        for (size_t c = 0; c < 4 + NR; c++) {
            v[c].type = SVY_VAL_STR;
            v[c].str = cell[i][c];
            v[c].len = strlen(cell[i][c]);
            if (!v[c].len)
                v[c].missing = SVY_MISS_SYSTEM;
        }
        svy_row row = {.index = i + 1, .nvals = 4 + NR, .vals = v};
        cr_assert_eq(svy_est_push(e, &row, &err), SVY_OK, "%s", err.msg);
    }
    cr_assert_eq(svy_est_finish(e, &err), SVY_OK, "%s", err.msg);
    svy_schema_free(s);
    return e;
}

Test(replicate, df_by_direction_equals_by_row)
{
    make_rows();
    static const char *const ys[] = {"y", "y2"};
    svy_est *a = run_gram(ys, 2, SIZE_MAX, 0), *b = run_gram(ys, 2, 0, 0), *c = run_gram(ys, 2, 3, 0);
    cr_assert(!a->rep->pat_off && b->rep->pat_off && c->rep->pat_off);
    cr_assert_eq(svy_est_count(a), svy_est_count(b));
    for (size_t i = 0; i < svy_est_count(a); i++) {
        const svy_est_result *ra = svy_est_get(a, i), *rb = svy_est_get(b, i), *rc = svy_est_get(c, i);
        cr_assert(ra->se == rb->se && ra->se == rc->se && ra->estimate == rb->estimate);
        cr_assert_eq(ra->df, rb->df, "result %zu: df %g by direction, %g by row", i, ra->df, rb->df);
        cr_assert_eq(ra->df, rc->df);
        const svy_value *g = svy_est_domain_value(a, ra->domain, 0);
        /* g 0: two binary PSUs; g 1: three PSUs of rank 2; g 2: five
         * general PSUs; overall: all six replicates */
        double want = !g || svy_value_is_missing(g) ? 5 : g->str[0] == '0' ? 1 : g->str[0] == '1' ? 1 : 4;
        cr_assert_eq(ra->df, want, "domain %s: df %g", g && g->str ? g->str : "overall", ra->df);
    }
    svy_est_free(a);
    svy_est_free(b);
    svy_est_free(c);
}

Test(replicate, shared_denominator_split_at_a_missing_value)
{
    make_rows();
    static const char *const ys[] = {"y", "y2"}, *const y2[] = {"y2"};
    svy_est *a = run_gram(ys, 2, SIZE_MAX, 0), *b = run_gram(y2, 1, SIZE_MAX, 1);
    size_t nb = 0;
    for (size_t i = 0; i < svy_est_count(a); i++) {
        const svy_est_result *ra = svy_est_get(a, i);
        if (strcmp(ra->variable, "y2") != 0)
            continue;
        const svy_est_result *rb = svy_est_get(b, nb++);
        cr_assert(ra->estimate == rb->estimate && ra->se == rb->se, "%s: %.17g %.17g / %.17g %.17g",
                  ra->variable, ra->estimate, ra->se, rb->estimate, rb->se);
    }
    cr_assert_eq(nb, svy_est_count(b));
    svy_est_free(a);
    svy_est_free(b);
}
