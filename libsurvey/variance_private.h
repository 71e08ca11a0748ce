/* The design-based variance kernel (not installed): R's survey:::svyrecvar
 * -> multistage -> onestage -> onestrat, as primitives that an estimator
 * drives over its own sums per unit.  Every linearization variance svy
 * computes goes through here; later estimators (ratios, quantiles, domain
 * contrasts, regression) feed it their linearized values the same way.
 *
 * R's recursion, written flat.  With Z the totals per unit of the
 * linearized values (p columns: R's n x p matrix summed by unit),
 *
 *   V = sum over stages s = 1..S, over the parent units P of stage s
 *       (the whole sample at s = 1, a unit of stage s-1 below):
 *         F(P) * avg(P) * sum over the strata h of stage s inside P of onestrat(h)
 *
 *   onestrat(h) = g_h * n_h/(n_h - 1) * sum_i (Z_i - Zbar)(Z_i - Zbar)^T,
 *       over the n_h units of h in the design (units with no row of the
 *       estimate count as Z = 0), Zbar over those n_h, g_h = (N_h - n_h)/N_h
 *       (1 without an fpc); 0 when g_h < 1e-7 (R's test, before any lonely rule);
 *   F(P) = the product of the sampling fractions n/N of the strata on the
 *       path from the top to P (1 at the top): each later stage enters scaled
 *       by the earlier stages' fractions;
 *   avg(P) = 1, or under lonely "average" (strata of P present) / (those of
 *       them with n_h >= 2), NaN when none has.
 *
 * A stratum or unit is present when it holds a row of the estimate (domain
 * estimation: R's subset keeps n_h, so absent units enter as zeros).  A
 * stratum with n_h = 1 follows the lonely rule: fail (the caller names it),
 * remove and certainty (0), adjust (g_h Z Z^T, not centred: R skips the
 * sweep), average (NA: left out, and avg(P) scales the rest).
 *
 * Call sequence for one variance of p columns (V p x p, zeroed by the caller):
 *   for each parent unit P with present strata:
 *     svy_vgroup_begin(&grp, p, sum)
 *     for each present stratum h of P:
 *       ss, uu from svy_vss_units() (unit totals), svy_vss_groups() (rows as
 *       units, 0/1 indicators) or svy_vss_comoments() (rows as units)
 *       if (svy_vgroup_add(&grp, ss, uu, n_h, g_h, rule) < 0) -> lone PSU under "fail"
 *     svy_vgroup_end(&grp, F(P), V)
 * Memory: the caller's buffers (sum, ss, uu: p x p each); nothing is kept.
 * The estimator (estimate.c) uses p = 1, one call per estimate.
 */
#ifndef SVY_VARIANCE_PRIVATE_H
#define SVY_VARIANCE_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error variance_private.h is only for building libsurvey and its unit tests.
#endif

#include <stddef.h>
#include <survey/estimate.h>

/* The strata of one parent unit. */
typedef struct svy_vgroup {
    size_t p;
    double *sum; /* p x p */
    long nstrat, nok;
} svy_vgroup;

void svy_vgroup_begin(svy_vgroup *g, size_t p, double *sum);
/* One present stratum: ss = centred cross-products over its n design units
 * (absent units as 0), uu = uncentred Z Z^T; n its units in the design, gf
 * its (N - n)/N.  0 added, 1 left out (lonely "average"), -1 a lone unit
 * under "fail". */
int svy_vgroup_add(svy_vgroup *g, const double *ss, const double *uu, double n, double gf, svy_lonely rule);
/* V += F * avg * sum (NaN everywhere when every stratum was left out). */
void svy_vgroup_end(const svy_vgroup *g, double F, double *V);

/* ss and uu of a stratum from the totals z (k x p, row-major) of its k
 * present units, padded with zeros to n units: two passes, centred on the
 * mean of the n, so large totals do not cancel. */
void svy_vss_units(const double *z, size_t k, size_t p, double n, double *ss, double *uu);

/* Sums of the rows of one group: count k, sum s, and m = the sum of
 * squared deviations from the group's own mean (see svy_vgroup_stats). */
typedef struct svy_vgroup_stats {
    double k, s, m;
} svy_vgroup_stats;

/* Merge two groups (Chan et al.): no term can cancel. */
svy_vgroup_stats svy_vstats_merge(svy_vgroup_stats a, svy_vgroup_stats b);
/* From sums shifted by the group's first value x0: k, d1 = sum (x - x0),
 * d2 = sum (x - x0)^2.  Loses only eps times the squared distance of x0
 * from the mean in units of the spread. */
svy_vgroup_stats svy_vstats_from_shifted(double k, double x0, double d1, double d2);

/* ss and uu (p = 1) of a stratum whose units are its rows, for
 * Z = alpha P + beta Q, where each present row has P = w, Q = 0 (group 1:
 * in the level, y = 1) or P = 0, Q = w (group 0).  Every term is a sum of
 * squares (alpha beta <= 0 for proportions): nothing cancels, even for a
 * proportion of 0.999999.  n: rows of the stratum in the design. */
void svy_vss_groups(svy_vgroup_stats g1, svy_vgroup_stats g0, double alpha, double beta, double n, double *ss,
                    double *uu);

/* ss and uu (p = 1) of a stratum whose units are its rows, for
 * Z = alpha a + beta b, from the co-moments of (a, b) over its k present
 * rows: sums A, B, centred Caa, Cab, Cbb.  n: rows of the stratum. */
void svy_vss_comoments(double k, double A, double B, double Caa, double Cab, double Cbb, double alpha, double beta,
                       double n, double *ss, double *uu);

#endif
