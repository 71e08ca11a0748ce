/* libsurvey: linearization that knows the calibration of the weights.
 *
 * When the weight column was post-stratified (one margin) or raked (several)
 * to known population margins, the variance of every linearized estimate
 * uses the calibration residuals, as R's survey package does for a design
 * passed through postStratify() or rake() (survey:::svyrecvar):
 *
 *  - one margin (post-stratification): each row's linearized value z
 *    becomes z - w * X_c / W_c, where X_c is the sum of z and W_c the sum of
 *    weights over the margin cell c of the row (the w-weighted cell mean of
 *    u = z / w; a row of weight 0 takes weight 1 here, as R does);
 *  - several margins (raking): R's fixed 10 passes of back-fitting, margin
 *    after margin, of u = z / w on the cells with unweighted cell means:
 *    z becomes w * (u - sum over margins of the cell's coefficient).
 *
 * R keeps, for raking, the weights of the last raking pass just after each
 * margin's step; those equal the final weight once raking has converged,
 * which is what is assumed here (svy-weight rakes to 1e-10).  After R's
 * rake() with its default control (epsilon = 1) they differ slightly, and so
 * do the SEs, in the 5th or 6th digit.
 *
 * Streams: the residual operator is linear, so only sums are kept: per
 * joint margin cell (counts, weights), per first-stage unit (or stratum,
 * when rows are the units) and cell (weights, and squares), and per domain
 * and cell the sums of each quantity; nothing per row.
 *
 * Call svy_est_add_calibration() once per margin, before svy_est_bind().
 * Margin files are those svy-weight --margin reads (one or more
 * variable columns, then "total").  At the end, the weights must sum to
 * each margin line's total within 1e-3 (relative): else a data error naming
 * the line; svy_est_calibration_gap() says how close they came (a gap well
 * above rounding means raking stopped early: see above).  Data values that are no level of a margin are data errors naming
 * the row.  Not with replicate weights (the replicates carry the
 * calibration); with a variance of two stages only when the rows are the
 * second stage's units and it has no strata of its own (R's multistage
 * recursion on the residuals); not (yet) with three. */
#ifndef SURVEY_CALIBRATE_H
#define SURVEY_CALIBRATE_H

#include <stddef.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/estimate.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Before svy_est_bind(): the weight was calibrated to the margin in path. */
SVY_API svy_status svy_est_add_calibration(svy_est *e, const char *path, svy_err *err);
/* Margins given (0: none), and the i-th margin's file. */
SVY_API size_t svy_est_calibration_count(const svy_est *e);
SVY_API const char *svy_est_calibration_margin(const svy_est *e, size_t i);
/* After svy_est_finish(): the largest relative gap between a margin line's
 * weight and its total (NAN without margins or before the results). */
SVY_API double svy_est_calibration_gap(const svy_est *e);

#ifdef __cplusplus
}
#endif

#endif
