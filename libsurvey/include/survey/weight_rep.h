/* libsurvey: replicate weights made by svy_weight, every replicate weighted
 * again through the same chain (nonresponse classes, post-stratification or
 * raking), as R's as.svrepdesign() then rake() / postStratify() does.
 *
 * Replicate factors depend only on (stratum, PSU) and every replicate's
 * weighting cells are the full sample's cells with other sums, so the first
 * pass keeps one sum per (cell, PSU) pair and the fit keeps one factor per
 * (replicate, cell): memory grows with cells, PSUs and replicates, never
 * with rows.  Stage 1 only: the PSU column is the first-stage unit, PSUs are
 * nested in strata, the fpc is the first stage's.
 *
 * With trimming (svy_weight_set_trim), every replicate is trimmed as the
 * full sample is, after its own nonresponse and raking factors: the same
 * bounds (relative ones from the replicate's own mean weight over the rows
 * it gives a positive weight), the same mode, raking again in rounds.  Rows
 * of weight 0 in a replicate stay 0.  That spools the respondents' (cell,
 * PSU, weight), 16 bytes a row, to a temporary file read once or a few
 * times per replicate.
 *
 * Use with an svy_weight w:
 *     svy_wrep *r = svy_wrep_new();
 *     svy_wrep_set_type(r, SVY_REP_JKN, 0, 0, &err);
 *     svy_wrep_set_design(r, "stype", NULL, "fpc", &err);
 *     svy_weight_begin(w, ...);  svy_wrep_begin(r, w, &err);
 *     svy_wrep_add_row(r, w, row, &err);          // instead of svy_weight_add_row
 *     svy_weight_fit(w, &err);  svy_wrep_fit(r, w, &err);
 *     svy_wrep_lookup(r, w, row, &weight, reps, &err);  // reps: svy_wrep_count() */
#ifndef SURVEY_WEIGHT_REP_H
#define SURVEY_WEIGHT_REP_H

#include <stddef.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/replicate.h>
#include <survey/schema.h>
#include <survey/weight.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svy_wrep svy_wrep;

/* The types svy-weight makes: SVY_REP_JK1 (R's jk1weights: one replicate per
 * PSU, no strata), SVY_REP_JKN (jknweights: one per PSU of a stratum with 2+
 * PSUs), SVY_REP_BRR (brrweights: strata of 2 PSUs, or of an even number
 * split into pairs; R's Hadamard matrix; no fpc), SVY_REP_FAY (the same
 * half-samples with Fay's multipliers) and SVY_REP_BOOTSTRAP
 * (bootweights: Canty-Davison rescaled bootstrap). */

#define SVY_REP_BOOT_DEFAULT 50 /* R's bootweights(replicates = 50) */

SVY_API svy_wrep *svy_wrep_new(void);
SVY_API void svy_wrep_free(svy_wrep *r);
/* nboot: bootstrap replicates (0: SVY_REP_BOOT_DEFAULT); seed for the
 * bootstrap's generator (GSL's mt19937). */
SVY_API svy_status svy_wrep_set_type(svy_wrep *r, svy_reptype type, size_t nboot, unsigned long seed,
                                     svy_err *err);
/* Fay's rho for SVY_REP_FAY (BRR's half-samples with multipliers 2 - rho
 * and rho; R's brrweights(fay.rho =)), 0 < rho < 1. */
SVY_API svy_status svy_wrep_set_rho(svy_wrep *r, double rho, svy_err *err);
/* Fay's rho, NAN for the other types. */
SVY_API double svy_wrep_rho(const svy_wrep *r);
/* Columns (NULL: none).  No PSU column: every row is its own PSU.  fpc:
 * the population size of the stratum (a value <= 1 is the sampling
 * fraction, as R's svydesign reads it); constant within a stratum. */
SVY_API svy_status svy_wrep_set_design(svy_wrep *r, const char *strata, const char *psu, const char *fpc,
                                       svy_err *err);
/* After svy_weight_begin(w, ...). */
SVY_API svy_status svy_wrep_begin(svy_wrep *r, svy_weight *w, svy_err *err);
SVY_API svy_status svy_wrep_add_row(svy_wrep *r, svy_weight *w, const svy_row *row, svy_err *err);
/* After a successful svy_weight_fit(w). */
SVY_API svy_status svy_wrep_fit(svy_wrep *r, svy_weight *w, svy_err *err);
SVY_API size_t svy_wrep_count(const svy_wrep *r);
/* R's type name in lower case ("jk1", "jkn", "bootstrap"), scale and rscales[i]. */
SVY_API const char *svy_wrep_type_name(const svy_wrep *r);
SVY_API double svy_wrep_scale(const svy_wrep *r);
SVY_API double svy_wrep_rscale(const svy_wrep *r, size_t i);
/* The row's full-sample weight and its svy_wrep_count() replicate weights. */
SVY_API svy_status svy_wrep_lookup(const svy_wrep *r, const svy_weight *w, const svy_row *row, double *weight,
                                   double *reps, svy_err *err);
/* Trimming of the replicates, after svy_wrep_fit. */
typedef struct svy_wrep_trim_report {
    size_t replicates;    /* replicates trimmed (all of them) */
    size_t changed;       /* replicates that had weights outside the bounds */
    double lo_min, lo_max; /* lower bound in weight units: smallest and largest over replicates */
    double hi_min, hi_max; /* upper bound, likewise */
    long long clipped;    /* rows clipped in some round, summed over replicates */
    int rounds_max, passes_max; /* most trimming rounds and passes of a replicate */
} svy_wrep_trim_report;
/* NULL without trimming. */
SVY_API const svy_wrep_trim_report *svy_wrep_get_trim_report(const svy_wrep *r);
/* The bootstrap multipliers of replicate i (PSUs in order of first
 * appearance), for tests; NULL for the jackknives. */
SVY_API const double *svy_wrep_boot_multipliers(const svy_wrep *r, size_t i, size_t *npsu);

#ifdef __cplusplus
}
#endif

#endif
