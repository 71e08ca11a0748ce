/* Contrasts and Rao-Scott tests (libsurvey/compare.c) against R: the
 * inputs and R's outputs are in tests/ref/compare.csv (tests/ref/compare.R). */
#include "compare_private.h"
#include "test_util.h"

#include <math.h>

/* The items of one case of compare.csv: vectors by i, matrices by (i, j). */
typedef struct refcase {
    svy_test_table t;
    const char *name;
} refcase;

static refcase ref_open(const char *name)
{
    refcase r = {svy_test_table_load("tests/ref/compare.csv", "tests/ref/compare.R"), name};
    return r;
}

/* Value of item at (i, j); a missing one fails the test. */
static double ref_get(const refcase *r, const char *item, int i, int j)
{
    for (size_t k = 0; k < r->t.nrow; k++) {
        char **c = r->t.cell[k];
        if (!strcmp(c[0], r->name) && !strcmp(c[1], item) && atoi(c[2]) == i && atoi(c[3]) == j)
            return strtod(c[4], NULL);
    }
    cr_assert_fail("compare.csv: no %s %s %d %d", r->name, item, i, j);
    return NAN;
}

static double *ref_vec(const refcase *r, const char *item, size_t n)
{
    double *v = calloc(n, sizeof *v);
    cr_assert(v);
    for (size_t i = 0; i < n; i++)
        v[i] = ref_get(r, item, (int)i + 1, 0);
    return v;
}

static double *ref_mat(const refcase *r, const char *item, size_t n)
{
    double *v = calloc(n * n, sizeof *v);
    cr_assert(v);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            v[i * n + j] = ref_get(r, item, (int)i + 1, (int)j + 1);
    return v;
}

static void near(double got, double want, double rel, const char *what, const char *name)
{
    cr_expect(fabs(got - want) <= rel * fabs(want), "%s %s: got %.17g, R %.17g (rel %.3g)", name, what, got, want,
              fabs(got - want) / fabs(want));
}

static void contrast_case(const char *name)
{
    refcase r = ref_open(name);
    size_t k = (size_t)ref_get(&r, "k", 0, 0);
    double *theta = ref_vec(&r, "coef", k), *V = ref_mat(&r, "vcov", k), *c = ref_vec(&r, "c", k);
    double df = ref_get(&r, "df", 0, 0);
    svy_contrast_result res;
    svy_err err;
    cr_assert_eq(svy_contrast(k, theta, V, c, df, 0.95, &res, &err), SVY_OK, "%s", err.msg);
    near(res.estimate, ref_get(&r, "est", 0, 0), 1e-9, "estimate", name);
    near(res.se, ref_get(&r, "se", 0, 0), 1e-9, "se", name);
    near(res.t, ref_get(&r, "t", 0, 0), 1e-9, "t", name);
    near(res.p_value, ref_get(&r, "p", 0, 0), 1e-8, "p", name);
    near(res.ci_low, ref_get(&r, "lo", 0, 0), 1e-9, "ci_low", name);
    near(res.ci_high, ref_get(&r, "hi", 0, 0), 1e-9, "ci_high", name);
    cr_expect_eq(res.df, df);
    cr_assert_eq(svy_contrast(k, theta, V, c, df, 0.90, &res, &err), SVY_OK, "%s", err.msg);
    near(res.ci_low, ref_get(&r, "lo90", 0, 0), 1e-9, "ci_low 90%", name);
    near(res.ci_high, ref_get(&r, "hi90", 0, 0), 1e-9, "ci_high 90%", name);
    cr_assert_eq(svy_contrast(k, theta, V, c, INFINITY, 0.95, &res, &err), SVY_OK, "%s", err.msg);
    near(res.ci_low, ref_get(&r, "lo_inf", 0, 0), 1e-9, "ci_low df=Inf", name);
    near(res.ci_high, ref_get(&r, "hi_inf", 0, 0), 1e-9, "ci_high df=Inf", name);
    near(res.p_value, ref_get(&r, "p_inf", 0, 0), 1e-8, "p df=Inf", name);
    free(theta);
    free(V);
    free(c);
    svy_test_table_free(&r.t);
}

Test(compare, contrast_strat_two_domains) { contrast_case("strat_api00_EH"); }
Test(compare, contrast_strat_against_average) { contrast_case("strat_api00_Eavg"); }
Test(compare, contrast_clus1_shared_psus) { contrast_case("clus1_api00_EH"); }
Test(compare, contrast_clus1_proportion) { contrast_case("clus1_schwide_EH"); }
Test(compare, contrast_clus1_totals) { contrast_case("clus1_enroll_total_EM"); }
Test(compare, contrast_clus2_two_stage) { contrast_case("clus2_api00_awards_E"); }
Test(compare, contrast_mu284_two_stage) { contrast_case("mu284_y1_half"); }

/* The hand formula sqrt(se1^2 + se2^2) is what the issue says is wrong: the
 * covariance of domains sharing PSUs must enter (statistics-reference-2 §3:
 * 30.03 with it, 44.11 without it on apiclus1). */
Test(compare, contrast_uses_the_covariance)
{
    refcase r = ref_open("clus1_api00_EH");
    double *theta = ref_vec(&r, "coef", 3), *V = ref_mat(&r, "vcov", 3);
    double c[3] = {1, -1, 0};
    svy_contrast_result res;
    svy_err err;
    cr_assert_eq(svy_contrast(3, theta, V, c, 14, 0.95, &res, &err), SVY_OK);
    double naive = sqrt(V[0] + V[4]);
    cr_expect(fabs(res.se - 30.0276061918454) < 1e-9 && fabs(naive - res.se) > 10, "se %g naive %g", res.se, naive);
    free(theta);
    free(V);
    svy_test_table_free(&r.t);
}

/* R's contrast() drops estimates with a zero coefficient, so an absent
 * (NaN) domain the contrast does not use leaves it intact. */
Test(compare, contrast_ignores_unused_nan)
{
    double theta[3] = {2, NAN, 5}, V[9] = {4, NAN, 1, NAN, NAN, NAN, 1, NAN, 9}, c[3] = {1, 0, -1};
    svy_contrast_result res;
    svy_err err;
    cr_assert_eq(svy_contrast(3, theta, V, c, 10, 0.95, &res, &err), SVY_OK);
    cr_expect_eq(res.estimate, -3);
    cr_expect_eq(res.se, sqrt(4 + 9 - 2));
    c[1] = 1;
    cr_assert_eq(svy_contrast(3, theta, V, c, 10, 0.95, &res, &err), SVY_OK);
    cr_expect(isnan(res.estimate) && isnan(res.se) && isnan(res.p_value));
}

Test(compare, contrast_bad_arguments)
{
    double theta[1] = {1}, V[1] = {1}, c[1] = {1};
    svy_contrast_result res;
    svy_err err;
    cr_expect_eq(svy_contrast(0, theta, V, c, 10, 0.95, &res, &err), SVY_E_USAGE);
    cr_expect_eq(svy_contrast(1, theta, V, c, 10, 1.5, &res, &err), SVY_E_USAGE);
    cr_expect_eq(svy_contrast(1, theta, V, c, 0, 0.95, &res, &err), SVY_E_USAGE);
    cr_expect_eq(svy_contrast(1, theta, V, c, NAN, 0.95, &res, &err), SVY_E_USAGE);
}

static void chisq_case(const char *name)
{
    refcase r = ref_open(name);
    size_t nr = (size_t)ref_get(&r, "R", 0, 0), nc = (size_t)ref_get(&r, "C", 0, 0);
    double *p = ref_vec(&r, "phat", nr * nc), *V = ref_mat(&r, "V", nr * nc);
    svy_raoscott_result res;
    svy_err err;
    cr_assert_eq(svy_raoscott(nr, nc, p, V, ref_get(&r, "N", 0, 0), ref_get(&r, "nu", 0, 0), &res, &err), SVY_OK,
                 "%s", err.msg);
    near(res.x2, ref_get(&r, "X2", 0, 0), 1e-8, "X2", name);
    near(res.f, ref_get(&r, "F", 0, 0), 1e-8, "F", name);
    near(res.ndf, ref_get(&r, "ndf", 0, 0), 1e-8, "ndf", name);
    near(res.ddf, ref_get(&r, "ddf", 0, 0), 1e-8, "ddf", name);
    near(res.p_f, ref_get(&r, "p_F", 0, 0), 1e-8, "p (F)", name);
    near(res.p_chisq, ref_get(&r, "p_chisq", 0, 0), 1e-8, "p (Chisq)", name);
    cr_expect_eq(res.df_chisq, ref_get(&r, "df_chisq", 0, 0));
    free(p);
    free(V);
    svy_test_table_free(&r.t);
}

Test(compare, raoscott_strat_2x3) { chisq_case("strat_awards_stype"); }
Test(compare, raoscott_clus1_2x3) { chisq_case("clus1_schwide_stype"); }
Test(compare, raoscott_clus2_3x2) { chisq_case("clus2_stype_awards"); }
Test(compare, raoscott_mu284_2x2) { chisq_case("mu284_high_half"); }
Test(compare, raoscott_strat_3x4) { chisq_case("strat_stype_ell4"); }

/* statistics-reference-2 §4, checked by hand there: delta = 0.857..., 0.517... */
Test(compare, raoscott_eigenvalues_of_reference)
{
    refcase r = ref_open("strat_awards_stype");
    double *p = ref_vec(&r, "phat", 6), *V = ref_mat(&r, "V", 6);
    svy_raoscott_result res;
    svy_err err;
    cr_assert_eq(svy_raoscott(2, 3, p, V, 200, 197, &res, &err), SVY_OK);
    double d1 = 0.857060276653034, d2 = 0.517708256988279;
    near(res.delta1, d1 + d2, 1e-9, "tr Delta", "strat");
    near(res.delta2, d1 * d1 + d2 * d2, 1e-9, "tr Delta^2", "strat");
    free(p);
    free(V);
    svy_test_table_free(&r.t);
}

Test(compare, raoscott_needs_two_levels)
{
    double p[3] = {0.2, 0.3, 0.5}, V[9] = {0};
    svy_raoscott_result res;
    svy_err err;
    cr_expect_eq(svy_raoscott(1, 3, p, V, 10, 5, &res, &err), SVY_E_USAGE);
    cr_expect(strstr(err.msg, "two levels"), "%s", err.msg);
    cr_expect_eq(svy_raoscott(3, 1, p, V, 10, 5, &res, &err), SVY_E_USAGE);
    cr_expect_eq(svy_raoscott(2, 513, p, V, 10, 5, &res, &err), SVY_E_LIMIT);
}
