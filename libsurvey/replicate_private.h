/* Replicate-weight variance inside the estimator (see survey/replicate.h).
 * Not installed.
 *
 * Per (domain, outcome, share level) a slot of 2R doubles: the replicates'
 * sums of a_r y (num) and of a_r (den) over the rows with a valid value;
 * a share keeps its denominator in the slot of level -1.  Per domain, when
 * the df rule needs it, the lower triangle of sum_k a_k a_k' (R x R), whose
 * rank is the rank of the domain's replicate-weight matrix. */
#ifndef SVY_REPLICATE_PRIVATE_H
#define SVY_REPLICATE_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error replicate_private.h is only for building libsurvey and its unit tests.
#endif

#include <survey/replicate.h>

#include "estimate_private.h"
#include "hashmap_private.h"

typedef struct svy_rep {
    char **pat;         /* the columns or PREFIX* patterns asked for */
    size_t npat;
    svy_reptype type;
    double rho, scale_given;
    double *rs_given;
    size_t nrs_given;
    int mse;
    /* at bind */
    size_t R;
    long *col;          /* schema index of each replicate column */
    double scale;
    double *rscales;
    char note[800];
    double *a;          /* one row's replicate weights */
    size_t *nz;         /* the indices of its nonzero ones (gram_add) */
    svy_u64map map;     /* (domain, outcome, level + 1) -> slot */
    double *pool;
    size_t nslots, capslots;
    int gram_dom, gram_full; /* which matrices the df rule needs */
    double **gram;      /* per domain, NULL until its first row */
    size_t capgram;
    double *gfull;
    double *dfs;        /* per domain, NAN until computed */
    size_t capdfs;
} svy_rep;

void svy_rep_free(svy_rep *r);
/* At svy_est_bind(): the columns, R's defaults and the notes. */
svy_status svy_rep_bind(svy_est *e, svy_err *err);
/* One row, whose domain is dom (-1: none) and outcome values v
 * (estimate_rows.c's rowvals: ys, valid, levels). */
svy_status svy_rep_row(svy_est *e, const svy_row *row, long dom, const double *ys, const int *valid,
                       const long *levels, svy_err *err);
/* The replicate SE, df, deff's n and the logit-scale SE of result r
 * (quantity q of domain dom), set in r; se_logit NAN unless a proportion. */
svy_status svy_rep_result(svy_est *e, size_t dom, const qty *q, svy_est_result *r, double *se_logit,
                          svy_err *err);
/* The degrees of freedom of domain dom under the design's df rule. */
double svy_rep_df(svy_est *e, size_t dom);

#endif
