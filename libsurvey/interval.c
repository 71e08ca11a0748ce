/* Confidence intervals and reliability flags of estimates (see
 * survey/estimate.h): t and beta quantiles, the four intervals for
 * proportions, and the NCHS standards for proportions. */
#include "svy_private.h"
#include "estimate_private.h"

#include <math.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>

/* ------------------------------------------------------------ quantiles */

double svy_qt(double p, double df)
{
    if (isnan(p) || isnan(df) || df <= 0)
        return NAN;
    if (isinf(df))
        return gsl_cdf_ugaussian_Pinv(p);
    return gsl_cdf_tdist_Pinv(p, df);
}

/* gsl_cdf_beta_Pinv gives up ("failed to converge") for shape parameters in
 * the thousands, which effective sample sizes reach: invert the regularized
 * incomplete beta by safeguarded Newton steps instead. */
double svy_qbeta(double p, double a, double b)
{
    if (isnan(p) || isnan(a) || isnan(b) || !(a > 0) || !(b > 0) || p < 0 || p > 1)
        return NAN;
    if (p == 0)
        return 0;
    if (p == 1)
        return 1;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    double lo = 0, hi = 1, x = a / (a + b);
    double lbeta = gsl_sf_lnbeta(a, b);
    for (int it = 0; it < 400; it++) {
        gsl_sf_result r;
        if (gsl_sf_beta_inc_e(a, b, x, &r) != GSL_SUCCESS) {
            x = NAN;
            break;
        }
        double F = r.val - p;
        if (F == 0)
            break;
        if (F < 0)
            lo = x;
        else
            hi = x;
        double lpdf = (a - 1) * log(x) + (b - 1) * log1p(-x) - lbeta;
        double xn = x - F / exp(lpdf);
        if (!(xn > lo && xn < hi))
            xn = 0.5 * (lo + hi);
        if (fabs(xn - x) <= 4e-16 * x || xn == lo || xn == hi) {
            x = xn;
            break;
        }
        x = xn;
    }
    gsl_set_error_handler(old);
    return x;
}

void svy_est_nchs_flags(svy_est_result *r, double level, long long nrows)
{
    /* Parker et al. (2017): Korn-Graubard interval whatever --ci says; n_eff
     * capped at n, and n itself when p is 0 or 1. */
    double p = r->estimate, n = (double)r->n;
    double alpha = 1 - level;
    double neff;
    if (p <= 0 || p >= 1 || !(r->se > 0))
        neff = n;
    else {
        neff = p * (1 - p) / (r->se * r->se);
        double ratio = svy_qt(alpha / 2, (double)nrows - 1) / svy_qt(alpha / 2, r->df);
        if (isfinite(ratio))
            neff *= ratio * ratio;
        if (neff > n)
            neff = n;
    }
    double lo = p <= 0 ? 0 : svy_qbeta(alpha / 2, neff * p, neff * (1 - p) + 1);
    double hi = p >= 1 ? 1 : svy_qbeta(1 - alpha / 2, neff * p + 1, neff * (1 - p));
    double width = hi - lo;
    unsigned fl = 0;
    if (n < 30 || !(neff >= 30) || !(width < 0.30))
        fl |= SVY_FLAG_SUPPRESS;
    else if (width > 0.05 && (p <= 0 || width / p > 1.30))
        fl |= SVY_FLAG_SUPPRESS;
    if (!(r->df >= 8))
        fl |= SVY_FLAG_REVIEW;
    r->flags |= fl;
}

void svy_est_rate_ci(const svy_design *d, svy_est_result *r, long long nrows)
{
    double p = r->estimate, se = r->se, df = r->df;
    double alpha = 1 - d->level;
    double t = svy_qt(1 - alpha / 2, df);
    r->ci_low = r->ci_high = NAN;
    if (isnan(se))
        return;
    if (se == 0 && p > 0 && p < 1) {
        /* No sampling variance (every stratum taken whole): every method's
         * interval shrinks to the point, as R's do. */
        if (!isnan(t))
            r->ci_low = r->ci_high = p;
        return;
    }
    switch (d->ci) {
    case SVY_CI_WALD:
        r->ci_low = p - t * se;
        r->ci_high = p + t * se;
        break;
    case SVY_CI_LOGIT:
        if (p > 0 && p < 1 && se > 0) {
            double L = log(p / (1 - p)), sL = se / (p * (1 - p));
            r->ci_low = 1 / (1 + exp(-(L - t * sL)));
            r->ci_high = 1 / (1 + exp(-(L + t * sL)));
        }
        break;
    case SVY_CI_BETA:
        if (p > 0 && p < 1 && se > 0) {
            double neff = p * (1 - p) / (se * se);
            double ratio = svy_qt(alpha / 2, (double)nrows - 1) / svy_qt(alpha / 2, df);
            neff *= ratio * ratio;
            r->ci_low = svy_qbeta(alpha / 2, neff * p, neff * (1 - p) + 1);
            r->ci_high = svy_qbeta(1 - alpha / 2, neff * p + 1, neff * (1 - p));
        }
        break;
    case SVY_CI_WILSON:
        if (p > 0 && p < 1 && se > 0) {
            double neff = p * (1 - p) / (se * se);
            double t2 = t * t;
            double ctr = (p + t2 / (2 * neff)) / (1 + t2 / neff);
            double hw = t / (1 + t2 / neff) * sqrt(p * (1 - p) / neff + t2 / (4 * neff * neff));
            r->ci_low = ctr - hw;
            r->ci_high = ctr + hw;
        }
        break;
    }
}
