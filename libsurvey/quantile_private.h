/* Quantiles of one domain (not installed): R survey >= 4's svyquantile with
 * its defaults, qrule = "math" (the inverse of the weighted ECDF) and
 * interval.type = "mean" (Woodruff's interval, centred as R centres it).
 *
 * The estimator's part (two passes; see the issue-15 note):
 *  1. pass 1 keeps each domain's (value, weight) pairs (16 bytes a row:
 *     spooled by domain, loaded one domain at a time);
 *  2. svy_qdomain_prepare() sorts them once; svy_qrule_math() gives the
 *     estimate q for every p;
 *  3. the CDF at q, Fhat = svymean(x <= q) over the domain, and its design
 *     SE se_F come from the ordinary domain-rate linearization
 *     z_k = w_k (1{x_k <= q} - Fhat) / W_d (0 outside the domain);
 *  4. svy_woodruff() turns Fhat, se_F and the domain's df into R's CI and SE.
 * Nothing here allocates; the caller owns the pairs. */
#ifndef SVY_QUANTILE_PRIVATE_H
#define SVY_QUANTILE_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error quantile_private.h is only for building libsurvey and its unit tests.
#endif

#include <stddef.h>
#include <survey/error.h>

/* One row of a domain: its value and its weight; after
 * svy_qdomain_prepare(), w is the cumulative weight up to and including x. */
typedef struct svy_qpair {
    double x, w;
} svy_qpair;

/* A domain's pairs ready for any p: zero weights dropped (R's qrule_math),
 * sorted by x keeping the input order among ties (R's order()), w replaced
 * by the running sum (R's cumsum, accumulated in long double as R does), and
 * *total = the sum of the weights in input order (R's sum(), long double).
 * *n is updated.  NaN values or weights, and negative or infinite weights,
 * are SVY_E_DATA (the caller passes only rows with a value; R would stop
 * too).  tmp is scratch for the merge sort, *n elements. */
svy_status svy_qdomain_prepare(svy_qpair *v, size_t *n, svy_qpair *tmp, double *total, svy_err *err);

/* R's qrule_math(x, w, p) on prepared pairs: pos = the last j with
 * cumw_j <= p*total (the first when none); x_pos when p - cumw_pos/total is
 * exactly 0, else x_(pos+1) (x_n at the end).  The comparisons are R's,
 * bit for bit, so that a CDF that lands on p picks the same value.  NaN for
 * an empty domain or p outside [0, 1]. */
double svy_qrule_math(const svy_qpair *v, size_t n, double total, double p);

/* R's woodruffCI(method = "mean") and svyquantile's SE, from the CDF at
 * the estimate Fhat = F(q) and its design SE se_F:
 *   [L, U] = Fhat + se_F * qt(c(a, 1 - a), df), a = (1 - level)/2
 *   ci = [qrule_math(L), qrule_math(U)], NaN for L < 0 or U > 1 (or NaN)
 *   se = (ci_high - ci_low) / (2 qt(1 - a, df))
 * (R: alpha = 1 - level; confint's a and svyquantile's 1 - alpha/2 agree
 * to the last bit or two.)
 * df = INFINITY is the normal.  R centres at Fhat, not at p. */
typedef struct svy_quantile_ci {
    double ci_low, ci_high, se;
} svy_quantile_ci;

void svy_woodruff(const svy_qpair *v, size_t n, double total, double Fhat, double se_F, double df, double level,
                  svy_quantile_ci *out);

#endif
