/* libsurvey: survey weights from design weights to calibrated, trimmed weights.
 *
 * The engine works on weighting cells, never on rows.  A first pass feeds
 * every row to svy_weight_add_row(), which files it under a cell: the levels
 * of every margin variable, the nonresponse class and respondent or not.
 * Nonresponse adjustment, post-stratification and raking multiply all the
 * weights of a cell by one factor, so they need only each cell's count and
 * sum of starting weights: time and memory do not depend on how many
 * distinct starting weights there are.  Trimming clips single weights; a
 * cell keeps up to 16 distinct starting weights in memory, and the rows of
 * a cell with more go to a temporary spool file (12 bytes a row) that
 * trimming and the median in the report read again.  svy_weight_fit() then
 * adjusts for nonresponse, post-stratifies or rakes to the margins, and
 * trims; a second pass asks svy_weight_lookup() for each row's final weight.
 *
 * The steps follow R's survey package: postStratify(), rake() (iterative
 * proportional fitting, one margin after another) and trimWeights(), strict
 * (the default here, R's strict = TRUE) or one pass (R's default, strict =
 * FALSE), and agree with it to rounding.  Unlike rake(), convergence is
 * judged against the targets: the largest relative gap between a weighted
 * margin cell and its population total.
 *
 * Typical use:
 *     svy_weight *w = svy_weight_new();
 *     svy_weight_set_start(w, "pw", 0);
 *     svy_weight_load_margin(w, "stype.csv", &err);
 *     svy_weight_begin(w, schema, "api.csv", &err);      // schema callback
 *     svy_weight_add_row(w, row, &err);                  // each row, pass 1
 *     svy_weight_fit(w, &err);
 *     svy_weight_lookup(w, row, &weight, &err);          // each row, pass 2
 */
#ifndef SURVEY_WEIGHT_H
#define SURVEY_WEIGHT_H

#include <stddef.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/schema.h>
#include <survey/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svy_weight svy_weight;

/* Defaults: raking sweeps allowed, the relative gap to the targets that
 * counts as converged, and rounds of trimming and raking allowed. */
#define SVY_WEIGHT_MAX_ITER 10000
#define SVY_WEIGHT_TOL 1e-10
#define SVY_WEIGHT_TRIM_ROUNDS 1000

/* What the fit did and what the weights look like.  Weight statistics are
 * over respondents (nonrespondents end with weight 0); cv is the standard
 * deviation over the mean with divisor n, so deff_kish = 1 + cv^2 =
 * n * sum(w^2) / sum(w)^2, Kish's design effect due to weighting. */
typedef struct svy_weight_report {
    long long rows;           /* rows seen in the first pass */
    long long respondents;    /* rows that keep a positive weight */
    long long nonrespondents; /* rows set to weight 0 by the nonresponse step */
    size_t cells;             /* weighting cells the rows fell into */
    size_t nr_cells;          /* nonresponse cells */
    int iterations;           /* raking sweeps over all margins, summed over trimming rounds */
    int trim_rounds;          /* trimming rounds (each followed by raking) */
    double max_gap;           /* largest |weighted margin - total| / total at the end */
    double total;             /* sum of the final weights */
    double min, median, max, mean;
    double cv;
    double deff_kish;
    double trim_lo, trim_hi;  /* bounds in weight units after resolving "x" (mean-relative) */
    long long trimmed;        /* rows whose weight was clipped at a bound in some round */
    /* Fields added in 0.3 (the struct is only ever read through a pointer). */
    int converged;            /* raking met the tolerance (1 also without margins) */
    int trim_strict;          /* trimming passes repeated until no weight is outside */
    int trim_passes;          /* clip-and-redistribute passes, summed over rounds */
    long long outside;        /* rows still outside the trimming bounds at the end */
    long long spooled;        /* rows whose starting weight went to the spool */
    /* The margin line furthest from its total at the end (empty without
     * margins): the margin's name, its line and levels, weighted and total. */
    char worst_margin[256];
    char worst_level[256];
    long long worst_line;
    double worst_weighted, worst_total;
} svy_weight_report;

SVY_API svy_weight *svy_weight_new(void);
SVY_API void svy_weight_free(svy_weight *w);

/* Settings: before svy_weight_begin(). */

/* Starting weight: column col holds the weight, or with is_prob the
 * inclusion probability (weight 1/p).  No column: every row starts at 1. */
SVY_API svy_status svy_weight_set_start(svy_weight *w, const char *col, int is_prob, svy_err *err);
/* Weighting-class nonresponse adjustment.  respondent names a column whose
 * value is 1 for respondents and 0 for nonrespondents; cells (may be empty:
 * one cell of everyone) name the columns whose levels form the classes.
 * In each class, respondents' weights are scaled up by the class's total
 * over its respondents' total; nonrespondents get weight 0. */
SVY_API svy_status svy_weight_set_nonresponse(svy_weight *w, const char *const *cells, size_t ncells,
                                              const char *respondent, svy_err *err);
/* Raking stops when every margin cell is within tol (relative) of its
 * total; more than max_iter sweeps is an error.  Defaults SVY_WEIGHT_TOL
 * and SVY_WEIGHT_MAX_ITER. */
SVY_API svy_status svy_weight_set_convergence(svy_weight *w, int max_iter, double tol, svy_err *err);
/* Rounds of trimming then raking allowed before bounds and margins that
 * cannot both hold are an error (default SVY_WEIGHT_TRIM_ROUNDS). */
SVY_API svy_status svy_weight_set_trim_rounds(svy_weight *w, int rounds, svy_err *err);
/* strict (the default): each trimming step repeats R's clip-and-redistribute
 * pass until no weight is outside the bounds (to the tolerance), as
 * trimWeights(strict = TRUE).  Not strict: one pass, as trimWeights()'s
 * default strict = FALSE, which can leave weights that the redistribution
 * pushed past a bound; with margins, rounds of one pass then raking go on
 * until the raked weights are within the bounds. */
SVY_API void svy_weight_set_trim_strict(svy_weight *w, int strict);
/* Bounds on the final weights.  A bound with rel set is a multiple of the
 * mean weight.  Use -INFINITY / INFINITY for no bound. */
SVY_API svy_status svy_weight_set_trim(svy_weight *w, double lo, int lo_rel, double hi, int hi_rel,
                                       svy_err *err);
/* The same from text "LO,HI", each a number or a number followed by 'x'
 * (times the mean); either may be empty for no bound: "0.3x,3.5x", "1,500", ",4x". */
SVY_API svy_status svy_weight_set_trim_spec(svy_weight *w, const char *spec, svy_err *err);

/* Margins.  name is the file (or any label) used in messages; vars are the
 * data columns the margin crosses.  Levels are matched to the data at
 * svy_weight_begin(): a level is the text of a value, a number equal to a
 * numeric code, or a value label.  line is where the level was read (for
 * messages; 0 if none).  total must be positive and finite (NaN: missing). */
SVY_API svy_status svy_weight_add_margin(svy_weight *w, const char *name, const char *const *vars,
                                         size_t nvars, size_t *index, svy_err *err);
SVY_API svy_status svy_weight_add_margin_level(svy_weight *w, size_t margin, const char *const *levels,
                                               double total, long long line, svy_err *err);
/* Read a margin file: any format the reader takes (CSV in practice); its
 * columns are one or more variables, then "total". */
SVY_API svy_status svy_weight_load_margin(svy_weight *w, const char *path, svy_err *err);
SVY_API size_t svy_weight_margin_count(const svy_weight *w);

/* First pass.  begin() resolves the columns in the data's schema and the
 * margin levels against its value labels; source names the data in messages. */
SVY_API svy_status svy_weight_begin(svy_weight *w, const svy_schema *schema, const char *source, svy_err *err);
SVY_API svy_status svy_weight_add_row(svy_weight *w, const svy_row *row, svy_err *err);
/* Check the margins against the cells, then adjust, rake and trim. */
SVY_API svy_status svy_weight_fit(svy_weight *w, svy_err *err);

/* Second pass: the final weight of a row of the same data (same schema). */
SVY_API svy_status svy_weight_lookup(const svy_weight *w, const svy_row *row, double *weight, svy_err *err);
/* The same, and the row's weighting cell, 0 .. report.cells - 1.  Rows of
 * a cell share its factors, not their weight, unless they share their
 * starting weight. */
SVY_API svy_status svy_weight_lookup_cell(const svy_weight *w, const svy_row *row, double *weight, size_t *cell,
                                          svy_err *err);

/* Valid after a successful svy_weight_fit(), and after one that failed
 * because raking did not converge (converged 0, worst_* say where). */
SVY_API const svy_weight_report *svy_weight_get_report(const svy_weight *w);

#ifdef __cplusplus
}
#endif

#endif
