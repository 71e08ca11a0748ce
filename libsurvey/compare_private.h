/* Comparisons of domain estimates (not installed): linear contrasts with
 * their design-based SE (R's svycontrast + confint) and the Rao-Scott tests
 * of independence in a two-way table (R's svychisq, statistic "F" and
 * "Chisq").  The estimator feeds both from its joint linearization: the
 * covariance of several domain estimates is svy_vgroup_* (variance_private.h)
 * run with p columns, one per domain, over the same unit totals.
 *
 * Matrices are row-major, k x k (contrasts) or RC x RC (tests); nothing is
 * kept between calls, and every buffer is allocated per call and freed. */
#ifndef SVY_COMPARE_PRIVATE_H
#define SVY_COMPARE_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error compare_private.h is only for building libsurvey and its unit tests.
#endif

#include <stddef.h>
#include <survey/error.h>

/* A linear contrast c'theta of k estimates theta with covariance V.
 * se = sqrt(c'Vc); t = estimate / se; p_value = 2 P(T_df > |t|); the CI is
 * estimate +- qt((1 + level)/2, df) se.  df = INFINITY uses the normal, as
 * R's confint.svystat does by default; svy passes degf(design), as Stata's
 * lincom after svy does (the CI and p R would print with confint(..., df =)).
 * Estimates with c_i = 0 are left out, so an absent (NaN) domain that the
 * contrast does not use does not spoil it (R's contrast() does the same);
 * a NaN that it does use gives NaN everywhere. */
typedef struct svy_contrast_result {
    double estimate, se, t, df, p_value, ci_low, ci_high;
} svy_contrast_result;

svy_status svy_contrast(size_t k, const double *theta, const double *V, const double *c, double df, double level,
                        svy_contrast_result *out, svy_err *err);

/* The Rao-Scott tests of independence of an nr x nc table, from what R's
 * svychisq.survey.design computes them:
 *   phat  the nr*nc cell proportions (svymean of the cell indicators over
 *         the rows where both variables are present), cells ordered with
 *         the row variable varying fastest: cell (i, j) at i + nr*j;
 *   V     their design covariance (nr*nc x nr*nc);
 *   n     R's N: every design row, rows missing either variable included;
 *   nu    R's nu: distinct PSUs minus distinct strata over every design row
 *         (not degf: zero weights and missing values count).
 * x2 is Pearson's X^2 of the table n * phat (R prints it unadjusted under
 * "Chisq"); delta1 = tr(Delta), delta2 = tr(Delta^2) with Delta = A^-1 B,
 * A = C'D^-1C/n, B = C'D^-1 V D^-1 C, D = diag(phat) (1/0 taken as 0), C the
 * interaction contrasts (the residuals of the interaction columns on the
 * additive model, R's Cmat; tr Delta and tr Delta^2 do not depend on the basis).
 *   "F":     f = x2/delta1, ndf = delta1^2/delta2, ddf = ndf*nu,
 *            p_f = P(F(ndf, ddf) > f)
 *   "Chisq": p_chisq = P(chi2(df_chisq) > x2/(delta1/df_chisq)),
 *            df_chisq = (nr-1)(nc-1).
 * Fewer than two rows or columns is SVY_E_USAGE, more than 1024 cells
 * SVY_E_LIMIT; a singular A (an empty
 * row or column margin) gives NaN statistics, as R's would be NA/error. */
typedef struct svy_raoscott_result {
    double x2, delta1, delta2;
    double f, ndf, ddf, p_f;
    double df_chisq, p_chisq;
} svy_raoscott_result;

svy_status svy_raoscott(size_t nr, size_t nc, const double *phat, const double *V, double n, double nu,
                        svy_raoscott_result *out, svy_err *err);

#endif
