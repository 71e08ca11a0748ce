/* libsurvey: variance from replicate weights, as R's svrepdesign() with
 * combined.weights = TRUE (each replicate column is the analysis weight of
 * its replicate) and svrVar():
 *
 *     V = scale * sum_r rscale_r (theta_r - c)^2
 *
 * with c the mean of the theta_r of replicates with rscale_r > 0, or the
 * full-sample estimate with mse.  theta_r is the estimate recomputed with
 * replicate r's weights; replicates whose theta_r is not defined (a domain
 * without weight in that replicate) are dropped, as R drops NA replicates.
 * Degrees of freedom: the rank of the domain's matrix of replicate weights
 * minus 1 (R's degf() of the domain's subset, qr tolerance 1e-5).
 *
 * Call sequence: svy_est_new(), svy_est_add_outcome()...,
 * svy_est_set_replicates(e, &rd, err), svy_est_bind() (which resolves the
 * columns and R's defaults: see svy_est_rep_note), then as usual.  The
 * design may have no strata, PSUs or fpc (svrepdesign ignores them).
 *
 * Memory: (domains x quantities + domains) x replicates x 16 bytes, plus a
 * replicates^2 / 2 matrix per domain for the degrees of freedom; nothing
 * grows with rows. */
#ifndef SURVEY_REPLICATE_H
#define SURVEY_REPLICATE_H

#include <stddef.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/estimate.h>

#ifdef __cplusplus
extern "C" {
#endif

/* R's svrepdesign(type =). */
typedef enum svy_reptype {
    SVY_REP_JK1 = 0,
    SVY_REP_JKN,
    SVY_REP_BRR,
    SVY_REP_FAY,
    SVY_REP_BOOTSTRAP,
    SVY_REP_SDR, /* successive difference */
    SVY_REP_OTHER
} svy_reptype;

/* "jk1", "jkn", "brr", "fay", "bootstrap", "sdr", "other". */
SVY_API const char *svy_reptype_name(svy_reptype t);
SVY_API int svy_reptype_parse(const char *s, svy_reptype *out); /* 1 when known */

typedef struct svy_repdesign {
    const char *const *cols; /* column names, or PREFIX* (every column whose name starts
                              * with PREFIX, in the file's order); copied */
    size_t ncols;
    svy_reptype type;
    double rho;              /* Fay's rho (required for fay); NAN otherwise */
    double scale;            /* NAN: R's default for the type */
    const double *rscales;   /* NULL: R's default (1 each); else one per replicate; copied */
    size_t nrscales;
    int mse;                 /* centre at the full-sample estimate */
} svy_repdesign;

/* Defaults: no columns, JK1, rho/scale NAN, no rscales, mse 0. */
SVY_API void svy_repdesign_init(svy_repdesign *r);

/* Before svy_est_bind().  SVY_E_USAGE when the design has strata, PSUs or
 * an fpc, or the specification contradicts itself (fay without rho). */
SVY_API svy_status svy_est_set_replicates(svy_est *e, const svy_repdesign *r, svy_err *err);

/* After svy_est_bind(), with replicates: what R would have warned about
 * (a default scale assumed, a scale ignored), one sentence per line; "" when
 * nothing.  NULL without replicates. */
SVY_API const char *svy_est_rep_note(const svy_est *e);

/* After svy_est_bind(), with replicates: the design as used (number of
 * replicates, the scale and the rscales' range, mse); 0 without replicates. */
typedef struct svy_rep_info {
    svy_reptype type;
    size_t nrep;
    double scale, rscale_min, rscale_max, rho;
    int mse;
} svy_rep_info;
SVY_API int svy_est_rep_info(const svy_est *e, svy_rep_info *out);

/* The replicate-design file written by svy-weight --repinfo (one row per
 * replicate column: column,type,scale,rscale,rho,mse,weight; see
 * svy-tab(1)).  SVY_E_DATA naming the row of a row that disagrees with the
 * first on type, scale, rho, mse or weight, or holds a bad number. */
typedef struct svy_repinfo svy_repinfo;
SVY_API svy_status svy_repinfo_read(const char *path, svy_repinfo **out, svy_err *err);
SVY_API void svy_repinfo_free(svy_repinfo *ri);
/* The design it describes (valid while ri lives), and its full-sample weight. */
SVY_API const svy_repdesign *svy_repinfo_design(const svy_repinfo *ri);
SVY_API const char *svy_repinfo_weight(const svy_repinfo *ri);

#ifdef __cplusplus
}
#endif

#endif
