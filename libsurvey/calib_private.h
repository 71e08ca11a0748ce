/* Calibration-aware linearization (survey/calibrate.h): the estimator's
 * calibration state, shared by estimate_calib.c, estimate_rows.c (rows in)
 * and estimate_variance.c (the variance).  Not installed.
 *
 * What is kept (nothing per row):
 *  - per joint cell j of the margins (a weighting cell of svy-weight's
 *    engine, which reads the margin files and files rows): rows and weight;
 *  - per place and cell, pc (place: the first-stage unit, or its stratum
 *    when rows are the units): the sum of psw (the weight, 1 for weight 0
 *    under post-stratification, as R) and, rows as units, of psw^2;
 *  - per domain, SUMS records (estimate_private.h's layout) by cell with
 *    weight w (lw, post-stratification: sums of z) or 1 (l1, raking: sums
 *    of u = z/w), and, where
 *    rows are the units of some stage, by pc with weight w^2 (l2: sums of z w). */
#ifndef SVY_CALIB_PRIVATE_H
#define SVY_CALIB_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error calib_private.h is only for building libsurvey and its unit tests.
#endif

#include "estimate_private.h"

#include <survey/calibrate.h>
#include <survey/weight.h>

/* The back-fitting passes of R's svyrecvar for a "raking" postStrata. */
enum { SVY_CAL_PASSES = 10 };
/* Weights further than this (relative) from a margin line's total were not
 * calibrated to it: an error.  R's rake() with its default control leaves
 * gaps near 1e-5. */
#define SVY_CAL_GAP_MAX 1e-3

typedef struct svy_cal {
    char **paths;
    size_t npaths;
    svy_weight *wt;       /* the margins; the rows' joint cells */
    int rake;             /* two or more margins */
    int rows_units;       /* layer 0 is keyed by stratum: rows are the units */
    int stage2;           /* layer 0 is keyed by unit, whose rows are the units of stage 2 */
    int prepared;
    double gap;           /* the largest relative gap of a margin line's weight to its total */
    uint32_t cur_cell, cur_pc; /* the row being summed */
    svy_u64map pcmap;     /* (place << 32 | cell) -> pc */
    uint32_t *pc_place, *pc_cell;
    double *pc_w, *pc_w2, *pc_z0; /* pc_z0: rows of weight 0 (psw 1 once scaled) */
    size_t npc, cappc;
    double *cell_n, *cell_w; /* per joint cell: rows, sum of weights (scaled) */
    size_t ncell, capcell;
    layer lw, l1, l2;
    size_t *dw, *d1, *d2; /* at finish: the records of domain d are [dX[d], dX[d+1]) of permX */
    size_t *pw, *p1, *p2;
    uint32_t *line;       /* ncell x nm: each cell's line in every margin */
    size_t nm, *mstart;   /* margin m's lines are [mstart[m], mstart[m+1]) of the line arrays */
    double *line_n;       /* rows per margin line */
    double *X, *b, *a, *acc, *z, *zq; /* scratch */
    size_t *ustart, *uorder; /* units of the first stage by stratum */
} svy_cal;

/* R's raking residual divides by the weight. */
#define SVY_CAL_ZERO_RAKE "weight 0 with --calibrated-to several margins: R's raking residual is 0/0 here"

/* estimate_calib.c, without an estimator (svy-model's calibration: the
 * caller keeps each row's cell, and hands in sums per cell):
 *   svy_cal_add_margin (each margin, *c NULL at first), svy_cal_begin (the
 *   schema), svy_cal_cell (every row of the design), svy_cal_restart (the
 *   rows come again), svy_cal_cells_ready (after the last pass: the cells
 *   against the margins' totals; c->gap), then svy_cal_coef as often as
 *   needed: X per joint cell (c->ncell) is the sum of the linearized values
 *   z (post-stratification) or of z / w (raking, c->rake) over the cell's
 *   rows; b per cell such that row k's residual is z_k - psw_k b_cell(k),
 *   psw the weight (1 in the file's units for a weight of 0, only possible
 *   when post-stratified: weight 0 with raking is the caller's data error,
 *   SVY_CAL_ZERO_RAKE). */
svy_status svy_cal_add_margin(svy_cal **c, const char *path, svy_err *err);
svy_status svy_cal_begin(svy_cal *c, const svy_schema *schema, const char *source, svy_err *err);
svy_status svy_cal_cell(svy_cal *c, const svy_row *row, double w, size_t *cell, svy_err *err);
svy_status svy_cal_restart(svy_cal *c, const svy_schema *schema, const char *source, svy_err *err);
svy_status svy_cal_cells_ready(svy_cal *c, double wscale, svy_err *err);
void svy_cal_coef(svy_cal *c, const double *X, double *b);
const char *svy_cal_margin_column(const svy_cal *c, size_t i);

/* estimate_calib.c, for the estimator */
svy_status svy_cal_bind(svy_est *e, svy_err *err);
/* A row of the estimating pass (every row of the design, whatever its
 * domain): its joint cell and place into cur_cell, cur_pc, and the shared
 * sums. */
svy_status svy_cal_row(svy_est *e, const svy_row *row, const svy_dpath *p, svy_err *err);
/* Rows come again: forget the sums (the margins stay). */
svy_status svy_cal_reset(svy_est *e, svy_err *err);
void svy_cal_free(svy_cal *c);
/* After the last pass, before any variance: the lines of every cell, the
 * weights against the margins' totals, the records by domain. */
svy_status svy_cal_prepare(svy_est *e, svy_err *err);
/* The variance of the sum of nt terms (domain dom[t], quantity and lin of
 * terms[t]) into c->V, with calibration residuals. */
svy_status svy_cal_var(vctx *c, size_t nt, const size_t *dom, const vctx *terms, svy_err *err);
/* The i-th column the margins read, NULL past the last. */
const char *svy_cal_column(const svy_est *e, size_t i);

/* estimate_variance.c, for estimate_calib.c: a record's sums for quantity
 * q; ss and uu of a record whose rows are the units of its stratum. */
usum svy_est_rec_usum(const svy_est *e, const layer *L, size_t r, const qty *q);
void svy_est_rows_ss(const vctx *v, const layer *L, size_t r, double n, double *ss, double *uu);

#endif
