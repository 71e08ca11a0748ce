/* libsurvey: design-based linear and logistic regression, predictive margins
 * and Wald tests, as R's survey package computes them:
 *   svyglm(formula, design, family = gaussian() | quasibinomial()),
 *   summary()/confint() (t on df = design df + 1 - rank), vcov (the sandwich
 *   with the multistage design variance of the scores), svypredmeans
 *   (Korn-Graubard predictive margins) and regTermTest (Wald F test).
 *
 * Formula: 'Y ~ a + b + a:b + a*b + factor(x) - 1' (R's syntax, terms ordered
 * as R orders them: by degree, then as written).  A column with value labels,
 * with text values, or inside factor() is categorical: indicator columns
 * against a reference level (the lowest code, or svy_model_set_ref), coded as
 * R's model.matrix codes them (treatment contrasts where the term without
 * this variable is in the model, else indicators of every level).  Rows with
 * a missing Y, term or margins variable leave the model but stay in the
 * design (R: glm's na.action, then design[-nas, ]).  With a subpopulation
 * (svy_model_set_subpop) the rows outside it leave the model the same way:
 * their PSUs and strata stay in the design, as in R's
 * svyglm(design = subset(design, EXPR)).
 * With svy_model_add_calibration the weight was post-stratified (one
 * margin) or raked (several) to margin files as svy-weight --margin reads
 * them: every variance (coefficients, Wald tests, margins) replaces the
 * linearized values of every design row by their calibration residuals, as
 * R's svyglm on a design passed through postStratify() or rake() does
 * (survey/calibrate.h has the rules; the rows outside the model, with a
 * missing value or outside the subpopulation, have value 0 and a residual;
 * with a subpopulation glm's weights are rescaled by the mean over every
 * design row, as R's `[` on a calibrated design keeps them with weight 0).
 *
 * Call sequence (the rows come in the same order every pass):
 *   svy_model *m = svy_model_new(&design, SVY_FAMILY_LOGIT, "y ~ a + b", &err);
 *   svy_model_set_ref / set_margins / add_wald ...
 *   svy_model_bind(m, schema, &err);
 *   do { each row: svy_model_push(m, row, &err); svy_model_end_pass(m, &again, &err); } while (again);
 *   svy_model_finish(m, &err);                  (fits: reads its spool, not the input)
 *   svy_model_coef_get(m, i), svy_model_margin_get, svy_model_wald_get, svy_model_fit_get
 *
 * Memory: the rows of the model are spooled to an unlinked temporary file
 * (design path, weight and the model's values: 8 (2 stages + 2) + 12 v bytes
 * per row for v variables), which every iteration reads again; in memory
 * only the design (see estimate.h), O(p^2) per stratum of a stage whose
 * units are rows, p per PSU, and the levels of the categorical columns.
 */
#ifndef SURVEY_MODEL_H
#define SURVEY_MODEL_H

#include <stddef.h>
#include <stdio.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/estimate.h>
#include <survey/schema.h>
#include <survey/subpop.h>
#include <survey/table.h>
#include <survey/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum svy_family {
    SVY_FAMILY_LINEAR = 0, /* gaussian, identity link */
    SVY_FAMILY_LOGIT       /* quasibinomial, logit link */
} svy_family;

typedef struct svy_model svy_model;

/* One coefficient.  NaN where undefined (an aliased column: all NaN). */
typedef struct svy_model_coef {
    const char *term;     /* "(Intercept)", "api00", "stype=H", "stype=H:api00" */
    const char *label;    /* the same with value labels for codes (= term when none) */
    double estimate, se, t, df, p_value, ci_low, ci_high;
    int aliased;          /* linearly dependent on earlier columns (R's NA) */
} svy_model_coef;

/* The fit as a whole. */
typedef struct svy_model_fit {
    long long rows;          /* rows of the design */
    long long used;          /* rows in the model */
    long long dropped;       /* rows with a missing value in the model's columns */
    long long zero_weight;   /* rows of the model with weight 0 */
    double design_df;        /* R's degf of the design without the dropped rows */
    double df;               /* design_df + 1 - rank: t and F tests */
    size_t ncoef, rank;
    int iterations, converged;
    long long fitted_01;     /* logit: fitted probabilities within 10 eps of 0 or 1 */
    const char *separation;  /* logit: separation named ("category=3: Y is 0 in every row"); NULL none */
    const char *y_note;      /* how Y was read when it is text (R's factor response); NULL none */
    const char *subpop;      /* the subpopulation (svy_subpop_text); NULL: the whole sample */
    long long subpop_rows;   /* rows in it (used + its rows with a missing value); = rows without one */
} svy_model_fit;

/* A predictive margin of one level and its difference from the reference
 * level (R: svypredmeans, then svycontrast; normal intervals and p-values, as
 * R's confint on them). */
typedef struct svy_model_margin {
    const char *level;    /* "VAR=LEVEL" */
    const char *label;    /* "VAR=its value label" (= level when none) */
    const char *value;    /* "LEVEL": the code or text */
    const char *value_label; /* its value label, or the code */
    int reference;
    double margin, se, ci_low, ci_high;
    double diff, diff_se, diff_z, diff_p, diff_low, diff_high; /* NaN for the reference */
} svy_model_margin;

/* regTermTest(model, ~terms): F = W/k on k and df.residual df. */
typedef struct svy_model_wald {
    const char *terms;    /* as asked, "stype" or "ell,meals" */
    double chisq, F, df_num, df_den, p_value;
} svy_model_wald;

SVY_API svy_model *svy_model_new(const svy_design *d, svy_family family, const char *formula, svy_err *err);
SVY_API void svy_model_free(svy_model *m);

/* Before bind: the reference level of a categorical column (a code, its
 * text, or one of its value labels). */
SVY_API svy_status svy_model_set_ref(svy_model *m, const char *column, const char *value, svy_err *err);
/* Predictive margins over the levels of column (categorical; a main effect
 * of the formula or not in it, never in an interaction). */
SVY_API svy_status svy_model_set_margins(svy_model *m, const char *column, svy_err *err);
/* Before the first push: fit the model on the rows where s holds (bound by
 * the caller to the schema the rows follow; borrowed, it must outlive m).
 * The rows outside stay in the design: their PSUs and strata count for the
 * variance, and the df are R's degf of the subset design (units and strata
 * among the subpopulation's rows of nonzero weight).  Margins average over
 * the subpopulation's rows. */
SVY_API void svy_model_set_subpop(svy_model *m, const svy_subpop *s);
/* A joint Wald test of the terms (comma-separated, "a:b" for an interaction). */
SVY_API svy_status svy_model_add_wald(svy_model *m, const char *terms, svy_err *err);
/* Before svy_model_bind(): the weight was calibrated to the margin in path
 * (repeat for raking).  After svy_model_finish(): the margins given, and the
 * largest relative gap between a margin line's weight and its total (NaN
 * without margins).  Weights further than 1e-3 from a total: SVY_E_DATA
 * naming the margin line; a weight of 0 with raking: SVY_E_DATA (R's
 * residual is 0/0). */
SVY_API svy_status svy_model_add_calibration(svy_model *m, const char *path, svy_err *err);
/* The input's name for the margins' messages (borrowed; NULL: "<data>"). */
SVY_API void svy_model_set_source(svy_model *m, const char *name);
SVY_API size_t svy_model_calibration_count(const svy_model *m);
SVY_API const char *svy_model_calibration_margin(const svy_model *m, size_t i);
SVY_API double svy_model_calibration_gap(const svy_model *m);

SVY_API svy_status svy_model_bind(svy_model *m, const svy_schema *schema, svy_err *err);
/* Every column the model and its design read (for svy_reader_set_columns). */
SVY_API size_t svy_model_columns(const svy_model *m, const char **names, size_t cap);
/* 1 or 2 (see svy_est_passes_max). */
SVY_API int svy_model_passes_max(const svy_model *m);
SVY_API svy_status svy_model_push(svy_model *m, const svy_row *row, svy_err *err);
SVY_API svy_status svy_model_end_pass(svy_model *m, int *again, svy_err *err);
/* Fit, sandwich, margins and tests.  SVY_E_DATA: no row in the model, a Y
 * outside [0, 1] for a logit, a lone PSU under lonely "fail". */
SVY_API svy_status svy_model_finish(svy_model *m, svy_err *err);

SVY_API const svy_model_fit *svy_model_fit_get(const svy_model *m);
SVY_API size_t svy_model_ncoef(const svy_model *m);
SVY_API const svy_model_coef *svy_model_coef_get(const svy_model *m, size_t i);
SVY_API size_t svy_model_nmargins(const svy_model *m);
SVY_API const svy_model_margin *svy_model_margin_get(const svy_model *m, size_t i);
SVY_API size_t svy_model_nwald(const svy_model *m);
SVY_API const svy_model_wald *svy_model_wald_get(const svy_model *m, size_t i);
/* p x p covariance of the coefficients (row-major, NaN rows for aliased). */
SVY_API const double *svy_model_vcov(const svy_model *m);
SVY_API const svy_design *svy_model_design(const svy_model *m);
SVY_API svy_family svy_model_family(const svy_model *m);
SVY_API const char *svy_model_formula(const svy_model *m);

/* Output.  csv/tsv: the coefficients, one row per term
 * (term,estimate,se,t,df,p_value,ci_low,ci_high; odds_ratios exponentiates
 * estimate and CI and drops nothing else); with margins set: the margins
 * instead, in svy-tab's long layout so that svy-plot draws them
 * (VAR,variable,estimate,se,ci_low,ci_high,difference,diff_se,z,p_value,
 * diff_ci_low,diff_ci_high: one row per level of VAR, variable = Y); with
 * Wald tests and no margins: the tests.  md, latex,
 * html: every table asked for, with the fit line and notes naming the design
 * and the model.  json is not supported (SVY_E_USAGE). */
typedef struct svy_model_out {
    svy_table_format format;
    int labels;          /* terms by value labels */
    int odds_ratios;     /* logit: exp(estimate), exp(CI); se stays on the log scale */
    const char *title;
    const char *note;    /* a sentence added to the notes (the tool's choices) */
} svy_model_out;

SVY_API svy_status svy_model_write(FILE *f, const char *name, const svy_model *m, const svy_model_out *o,
                                   svy_err *err);

#ifdef __cplusplus
}
#endif

#endif
