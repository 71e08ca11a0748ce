/* Domain quantiles and Woodruff intervals (libsurvey/quantile.c) against R:
 * tests/ref/quantile.csv, written by tests/ref/quantile.R. */
#include "quantile_private.h"
#include "test_util.h"

#include <math.h>

typedef struct qref {
    svy_test_table t;
    const char *name;
} qref;

static double get(const qref *r, const char *item, int i)
{
    for (size_t k = 0; k < r->t.nrow; k++) {
        char **c = r->t.cell[k];
        if (!strcmp(c[0], r->name) && !strcmp(c[1], item) && atoi(c[2]) == i)
            return strtod(c[3], NULL);
    }
    cr_assert_fail("quantile.csv: no %s %s %d", r->name, item, i);
    return NAN;
}

static void near(double got, double want, const char *what, const char *name)
{
    cr_expect(fabs(got - want) <= 1e-9 * fabs(want), "%s %s: got %.17g, R %.17g", name, what, got, want);
}

static void qcase(const char *name)
{
    qref r = {svy_test_table_load("tests/ref/quantile.csv", "tests/ref/quantile.R"), name};
    size_t n = (size_t)get(&r, "n", 0);
    svy_qpair *v = calloc(n, sizeof *v), *tmp = calloc(n, sizeof *tmp);
    cr_assert(v && tmp);
    for (size_t i = 0; i < n; i++)
        v[i] = (svy_qpair){get(&r, "x", (int)i + 1), get(&r, "w", (int)i + 1)};
    double total;
    svy_err err;
    cr_assert_eq(svy_qdomain_prepare(v, &n, tmp, &total, &err), SVY_OK, "%s", err.msg);
    double p = get(&r, "p", 0), q = svy_qrule_math(v, n, total, p);
    cr_expect_eq(q, get(&r, "q", 0), "%s: quantile %.17g, R %.17g", name, q, get(&r, "q", 0));
    svy_quantile_ci ci;
    svy_woodruff(v, n, total, get(&r, "Fhat", 0), get(&r, "se_F", 0), get(&r, "df", 0), 0.95, &ci);
    cr_expect_eq(ci.ci_low, get(&r, "lo", 0), "%s: ci_low %.17g, R %.17g", name, ci.ci_low, get(&r, "lo", 0));
    cr_expect_eq(ci.ci_high, get(&r, "hi", 0), "%s: ci_high %.17g, R %.17g", name, ci.ci_high, get(&r, "hi", 0));
    near(ci.se, get(&r, "se", 0), "se", name);
    free(v);
    free(tmp);
    svy_test_table_free(&r.t);
}

Test(quantile, strat_whole_sample)
{
    qcase("strat_all_0.25");
    qcase("strat_all_0.5");
    qcase("strat_all_0.75");
}

/* svyby(~api00, ~stype, dstrat, svyquantile): equal weights inside a
 * stratum, so the CDF lands exactly on p and R's "== 0" picks x_pos. */
Test(quantile, strat_by_stype_median)
{
    qcase("strat_E_0.5");
    qcase("strat_H_0.5");
    qcase("strat_M_0.5");
}

Test(quantile, strat_by_stype_quartiles)
{
    const char *s[] = {"E", "H", "M"};
    for (int i = 0; i < 3; i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "strat_%s_0.25", s[i]);
        snprintf(b, sizeof b, "strat_%s_0.75", s[i]);
        qcase(a);
        qcase(b);
    }
}

/* statistics-reference-2 §5: dclus1 median 652, CI (561, 714), SE 35.67. */
Test(quantile, clus1_median_and_decile)
{
    qcase("clus1_all_0.5");
    qcase("clus1_all_0.1");
}

static double qm(const double *x, const double *w, size_t n, double p)
{
    svy_qpair v[16], tmp[16];
    for (size_t i = 0; i < n; i++)
        v[i] = (svy_qpair){x[i], w[i]};
    double total;
    svy_err err;
    cr_assert_eq(svy_qdomain_prepare(v, &n, tmp, &total, &err), SVY_OK);
    return svy_qrule_math(v, n, total, p);
}

/* R: qrule_math(1:5, c(10,1,1,1,1), 0.1) is 2, not 1 (no cumw <= p W: pos
 * is 1 and p - cumw/W != 0), and so is p = 0. */
Test(quantile, r_quirk_below_first_weight)
{
    double x[5] = {1, 2, 3, 4, 5}, w[5] = {10, 1, 1, 1, 1};
    cr_expect_eq(qm(x, w, 5, 0.1), 2);
    cr_expect_eq(qm(x, w, 5, 0), 2);
    cr_expect_eq(qm(x, w, 5, 1), 5);
}

/* The inverse of the weighted ECDF, min{x : F(x) >= p}, for unsorted input;
 * zero weights are dropped before anything else (R's qrule_math). */
Test(quantile, inverse_ecdf_unsorted_zero_weights)
{
    double x[6] = {30, 10, 99, 20, 40, -5}, w[6] = {1, 1, 0, 1, 1, 0};
    cr_expect_eq(qm(x, w, 6, 0.25), 10); /* F(10) = 0.25 exactly */
    cr_expect_eq(qm(x, w, 6, 0.26), 20);
    cr_expect_eq(qm(x, w, 6, 0.5), 20);
    cr_expect_eq(qm(x, w, 6, 0.75), 30);
    cr_expect_eq(qm(x, w, 6, 0.9), 40);
    cr_expect_eq(qm(x, w, 6, 1), 40);
}

Test(quantile, ties_and_outside)
{
    double x[5] = {2, 1, 2, 2, 3}, w[5] = {1, 1, 1, 1, 1};
    cr_expect_eq(qm(x, w, 5, 0.5), 2);
    cr_expect_eq(qm(x, w, 5, 0.2), 1);
    cr_expect_eq(qm(x, w, 5, 0.8), 2);
    cr_expect_eq(qm(x, w, 5, 0.81), 3);
    cr_expect(isnan(qm(x, w, 5, -0.1)));
    cr_expect(isnan(qm(x, w, 5, 1.1)));
    cr_expect(isnan(svy_qrule_math(NULL, 0, 0, 0.5)));
}

/* An interval bound outside [0, 1] is NaN, and so is the SE (R). */
Test(quantile, woodruff_out_of_range)
{
    svy_qpair v[4] = {{1, 1}, {2, 1}, {3, 1}, {4, 1}}, tmp[4];
    size_t n = 4;
    double total;
    svy_err err;
    cr_assert_eq(svy_qdomain_prepare(v, &n, tmp, &total, &err), SVY_OK);
    svy_quantile_ci ci;
    svy_woodruff(v, n, total, 0.25, 0.3, 10, 0.95, &ci);
    cr_expect(isnan(ci.ci_low) && ci.ci_high == 4 && isnan(ci.se));
    svy_woodruff(v, n, total, 0.5, 0.01, INFINITY, 0.95, &ci);
    cr_expect(ci.ci_low == 2 && ci.ci_high == 3, "%g %g", ci.ci_low, ci.ci_high);
    cr_expect(fabs(ci.se - 1 / (2 * 1.959963984540054)) < 1e-12, "%.17g", ci.se);
}

Test(quantile, bad_pairs_are_data_errors)
{
    svy_qpair v[2] = {{1, 1}, {NAN, 1}}, tmp[2];
    size_t n = 2;
    double total;
    svy_err err;
    cr_expect_eq(svy_qdomain_prepare(v, &n, tmp, &total, &err), SVY_E_DATA);
    v[1] = (svy_qpair){2, -1};
    n = 2;
    cr_expect_eq(svy_qdomain_prepare(v, &n, tmp, &total, &err), SVY_E_DATA);
    v[1] = (svy_qpair){2, INFINITY};
    n = 2;
    cr_expect_eq(svy_qdomain_prepare(v, &n, tmp, &total, &err), SVY_E_DATA);
}

/* Domains of 2048 rows or more are radix-sorted: the order must be the merge
 * sort's (by x, ties incl. -0 and +0 in input order) on negatives, zeros of
 * both signs, ties, and values far apart.  w_i = i + 1 tells the rows apart
 * after the running sum. */
Test(quantile, radix_order_is_stable_merge_order)
{
    enum { N = 3000 };
    static const double pool[] = {-0.0, 0.0, 1, -1, 2.5, -2.5, 1e300, -1e300, 5e-324, 3000, 3000.5, -7};
    svy_qpair *v = calloc(N, sizeof *v), *tmp = calloc(N, sizeof *tmp);
    size_t idx[N], ref[N];
    cr_assert(v && tmp);
    for (size_t i = 0; i < N; i++) {
        v[i] = (svy_qpair){pool[(i * 7 + i / 13) % (sizeof pool / sizeof *pool)], (double)(i + 1)};
        ref[i] = i;
    }
    for (size_t i = 1; i < N; i++) /* stable insertion sort of the indices */
        for (size_t j = i; j > 0 && v[ref[j]].x < v[ref[j - 1]].x; j--) {
            size_t t = ref[j];
            ref[j] = ref[j - 1];
            ref[j - 1] = t;
        }
    double want_x[N];
    for (size_t i = 0; i < N; i++)
        want_x[i] = v[ref[i]].x;
    size_t n = N;
    double total;
    svy_err err;
    cr_assert_eq(svy_qdomain_prepare(v, &n, tmp, &total, &err), SVY_OK);
    cr_assert_eq(n, (size_t)N);
    for (size_t i = 0; i < N; i++) {
        idx[i] = (size_t)(v[i].w - (i ? v[i - 1].w : 0)) - 1;
        cr_expect_eq(idx[i], ref[i], "position %zu: row %zu, the merge sort's %zu", i, idx[i], ref[i]);
        cr_expect(!memcmp(&v[i].x, &want_x[i], sizeof v[i].x), "position %zu: x %g", i, v[i].x);
    }
    free(v);
    free(tmp);
}
