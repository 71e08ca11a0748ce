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
