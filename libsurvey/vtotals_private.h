/* The design covariance of p totals (not installed): rows come with their
 * place in the design (svy_dsn_row's path) and p linearized values z; out
 * comes the p x p covariance R's survey:::svyrecvar(z, ...) gives for the
 * totals of z, on the same design: stratified multistage, fpc at every stage,
 * the ultimate cluster, every lonely rule (see variance_private.h, which does
 * the arithmetic).  Rows never added (a domain, a model's complete cases) are
 * absent, as after R's subset(): their units count in n_h and enter as
 * zeros, their strata do not count as present.
 *
 * Regression (model_fit.c: z = U A^-1), predictive margins and later
 * replicate or calibration work use it the same way:
 *   svy_vtot *v = svy_vtot_new(&dsn, p, rule, &err);   (after the design's last pass)
 *   for each row: svy_vtot_add(v, &path, z);
 *   svy_vtot_cov(v, V, &err);                         (V: p x p, row-major)
 *   svy_vtot_reset(v) to start again on other z.
 *
 * Memory: per unit of the stages kept (every stage in the variance whose
 * units hold several rows) 8 p + 1 bytes; per stratum of a stage whose units
 * are rows 8 (p^2 + p + 1) bytes; nothing per row.
 */
#ifndef SVY_VTOTALS_PRIVATE_H
#define SVY_VTOTALS_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error vtotals_private.h is only for building libsurvey and its unit tests.
#endif

#include "design_private.h"

typedef struct svy_vtot svy_vtot;

/* d must stay unchanged while v lives (its last pass done). */
svy_vtot *svy_vtot_new(const svy_dsn *d, size_t p, svy_lonely rule, svy_err *err);
void svy_vtot_free(svy_vtot *v);
void svy_vtot_reset(svy_vtot *v);
size_t svy_vtot_p(const svy_vtot *v);
/* One row; path->w only decides whether the row counts in the df. */
void svy_vtot_add(svy_vtot *v, const svy_dpath *path, const double *z);
/* V = the covariance of the totals (p x p, row-major; NaN where lonely
 * "average" leaves nothing).  SVY_E_DATA naming the stratum of a lone unit
 * under SVY_LONELY_FAIL. */
svy_status svy_vtot_cov(svy_vtot *v, double *V, svy_err *err);
/* R's degf() of the rows added: first-stage units holding a row of nonzero
 * weight, minus the strata of those rows. */
double svy_vtot_df(const svy_vtot *v);

#endif
