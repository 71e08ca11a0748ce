/* libsurvey: design-based estimates of rates, means and totals by domain.
 *
 * Agrees with R's survey package (svymean, svytotal, svyciprop, svyby) on
 * stratified multistage designs: svydesign(id = ~A + B, strata = ~S1 + S2,
 * fpc = ~F1 + F2, weights = ~w, nest = TRUE), with Taylor linearization and
 * R's recursive multistage variance (survey.ultimate.cluster = FALSE), or
 * the first stage alone (ultimate_cluster).  Domains are estimated on the
 * whole design: units without members of a domain count, with a
 * linearized total of 0, as R's subset() does.  Weights of 0 keep their row
 * in the design (R's weights = 0); without weights, an fpc gives the
 * weights R derives from it (the product over stages of N/n).
 *
 * Call sequence:
 *   svy_design d; svy_design_init(&d); d.strata = strata; d.nstrata = 1; ...
 *   svy_est *e = svy_est_new(&d, by_names, nby, &err);
 *   svy_est_add_outcome(e, SVY_STAT_RATE, "covered", NULL, &err); ...
 *   svy_est_bind(e, schema, &err);              (the reader's schema)
 *   do {
 *       svy_est_push(e, row, &err);             (once per row, in the same order each pass)
 *       svy_est_end_pass(e, &again, &err);
 *   } while (again);                            (see svy_est_passes_max)
 *   svy_est_finish(e, &err);
 *   for i < svy_est_count(e): svy_est_get(e, i)
 *
 * Memory (bytes, d domains, k outcomes, P units of the first stage):
 *  - one stage with PSUs: about d x P x (24 + 8 k) for the PSU sums
 *    (plus 4 d P for a direct index while that stays under 64 MB);
 *  - without PSUs: about d x H x (24 + 80 k) for H strata;
 *  - later stages (multistage variance): units of stages 2..S-1 like PSUs;
 *    the last stage's units, when they are single rows, cost no sums of
 *    their own (row-level co-moments per unit of the stage above: 80 k
 *    bytes per domain and unit) but an exact check that ids do not repeat,
 *    11 to 21 bytes per row (see libsurvey/design_private.h); when they hold
 *    several rows, sums per domain and unit as for PSUs.
 * Nothing else grows with rows.
 */
#ifndef SURVEY_ESTIMATE_H
#define SURVEY_ESTIMATE_H

#include <stddef.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/reader.h>
#include <survey/schema.h>
#include <survey/value.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Strata with a single PSU: R's options(survey.lonely.psu=). */
typedef enum svy_lonely {
    SVY_LONELY_FAIL = 0,  /* an error naming the stratum (R's default) */
    SVY_LONELY_REMOVE,    /* the stratum contributes 0 */
    SVY_LONELY_CERTAINTY, /* the stratum contributes 0 (sampled with certainty) */
    SVY_LONELY_ADJUST,    /* the lone PSU's linearized total, uncentred, as R does */
    SVY_LONELY_AVERAGE    /* drop the stratum, scale the rest by strata / strata kept */
} svy_lonely;

/* Degrees of freedom used for t quantiles. */
typedef enum svy_df_rule {
    SVY_DF_DOMAIN = 0, /* PSUs with domain members minus strata with domain members (R) */
    SVY_DF_FULL,       /* the whole design's PSUs minus strata (Stata's subpop) */
    SVY_DF_INF,        /* normal quantiles */
    SVY_DF_FIXED       /* svy_design.df */
} svy_df_rule;

/* Confidence interval for a proportion; means and totals always get Wald. */
typedef enum svy_ci_method {
    SVY_CI_LOGIT = 0, /* R svyciprop(method="logit"), Stata's default */
    SVY_CI_WALD,      /* p +- t se: R svyciprop(method="mean") */
    SVY_CI_BETA,      /* Korn-Graubard: R svyciprop(method="beta") */
    SVY_CI_WILSON     /* score interval with n_eff = p(1-p)/se^2 and t on df */
} svy_ci_method;

/* What an estimate is; svy_stat_name() gives the word tables print in
 * their statistic column.  Later kinds (ratio, quantile, difference) are
 * added at the end. */
typedef enum svy_stat {
    SVY_STAT_RATE = 0, /* mean of a 0/1 column, or the share with one value */
    SVY_STAT_SHARE,    /* the share of every level of a categorical column */
    SVY_STAT_MEAN,
    SVY_STAT_TOTAL,
    SVY_STAT_RATIO,    /* R's svyratio: total of NUM / total of DEN (estimate_ratio.c) */
    SVY_STAT_QUANTILE  /* R's svyquantile (estimate_quantile.c); svy_est_result.p */
} svy_stat;

/* "rate", "share", "mean", "total", "ratio", "quantile". */
SVY_API const char *svy_stat_name(svy_stat s);
SVY_API int svy_stat_parse(const char *s, svy_stat *out); /* 1 when known */
/* 1 for statistics that are proportions (printed in percent in reports). */
SVY_API int svy_stat_is_proportion(svy_stat s);

/* The most stages a design may have. */
#define SVY_STAGES_MAX 8

typedef struct svy_design {
    /* Column names per stage, outermost first, as R's id = ~A + B,
     * strata = ~S1 + S2, fpc = ~F1 + F2 (the arrays and names are copied). */
    const char *const *psu;    /* npsu ids; npsu 0: every row is its own PSU */
    size_t npsu;
    const char *const *strata; /* stage s uses column min(s, nstrata); 0: no strata */
    size_t nstrata;
    const char *const *fpc;    /* one per stage (max(npsu, 1)): population units N,
                                * or fractions n/N when no value is above 1; 0: none */
    size_t nfpc;
    const char *weight;        /* NULL: weights from the fpc, or 1 without one */
    int ultimate_cluster;      /* first-stage variance only (R's survey.ultimate.cluster) */
    svy_lonely lonely;
    svy_df_rule df_rule;
    double df;          /* for SVY_DF_FIXED */
    svy_ci_method ci;
    double level;       /* confidence level, 0 < level < 1 */
    int overall;        /* add an overall domain besides the --by domains */
    int nchs;           /* set SVY_FLAG_* by the NCHS standards for proportions */
} svy_design;

/* Defaults: no roles, lonely fail, domain df, logit, 0.95. */
SVY_API void svy_design_init(svy_design *d);

SVY_API const char *svy_lonely_name(svy_lonely l);
SVY_API const char *svy_df_rule_name(svy_df_rule r);
SVY_API const char *svy_ci_method_name(svy_ci_method m);
/* Parse a name ("fail", "domain", "logit"...; the ci method also takes "kg"
 * and "korn-graubard" for beta); 1 when known. */
SVY_API int svy_lonely_parse(const char *s, svy_lonely *out);
SVY_API int svy_ci_method_parse(const char *s, svy_ci_method *out);
SVY_API int svy_df_rule_parse(const char *s, svy_df_rule *out);

/* NCHS Data Presentation Standards for Proportions (Parker et al. 2017). */
#define SVY_FLAG_SUPPRESS 1u /* n or effective n below 30, or CI too wide */
#define SVY_FLAG_REVIEW 2u   /* fewer than 8 degrees of freedom */
#define SVY_FLAG_COMPLEMENT 4u /* shown only because its complement passes the relative-width rule */
/* Set whatever nchs says; the result's note says why. */
#define SVY_FLAG_NO_ESTIMATE 8u  /* no valid value (or only weights of 0) in the domain: estimate empty */
#define SVY_FLAG_NO_VARIANCE 16u /* every row of the domain is in one PSU: no variance estimate */

typedef struct svy_est svy_est;

/* One estimate.  Numbers that are not defined are NaN (printed empty). */
typedef struct svy_est_result {
    size_t domain;         /* svy_est_domain_value(e, domain, k) */
    const char *variable;  /* "covered", "scheme=2", "api00" */
    const char *column;    /* the input column */
    const char *level;     /* COL=VALUE rates and shares: the value, as text; else NULL */
    svy_stat stat;
    double estimate, se, ci_low, ci_high, df, deff, cv;
    long long n;           /* rows of the domain with a valid value and a weight above 0 */
    double weighted_n;     /* their sum of weights */
    long long domain_rows; /* rows of the domain, valid or not, of any weight */
    unsigned flags;        /* SVY_FLAG_*: the NCHS ones when nchs is set */
    const char *note;      /* why a number is missing or flagged, for people; NULL when none */
    /* Differences (svy_est_set_diff): reference is the reference level's
     * by value (the estimate is the domain's stat minus the reference
     * level's, in the same other by values), p_value the two-sided p of
     * the t test on df; reference is NULL for every other result. */
    const char *reference;
    double p_value;
    double p;              /* SVY_STAT_QUANTILE: the probability (else 0) */
} svy_est_result;

/* Where the weights come from. */
typedef enum svy_weights_kind {
    SVY_WEIGHTS_COLUMN = 0, /* svy_design.weight */
    SVY_WEIGHTS_FPC,        /* the product over stages of N/n, as R derives them */
    SVY_WEIGHTS_NONE        /* every row weighs 1 */
} svy_weights_kind;

/* The design as the rows showed it, for a table's method note; valid after
 * svy_est_finish(). */
typedef struct svy_est_info {
    long long rows, zero_weight_rows;
    size_t nstages;                /* stages whose ids were read */
    size_t var_stages;             /* stages in the variance (1: first stage, the ultimate cluster) */
    size_t nstrata[SVY_STAGES_MAX]; /* strata per stage (from stage 2 on, within the units above) */
    size_t nunits[SVY_STAGES_MAX];  /* units per stage (rows where rows are the units) */
    svy_weights_kind weights;
    int fpc_fraction;              /* the fpc was read as sampling fractions */
    int last_stage_rows;           /* the last stage's units are single rows */
} svy_est_info;

/* by: the domain columns (copied), nby may be 0 (one domain, everything). */
SVY_API svy_est *svy_est_new(const svy_design *d, const char *const *by, size_t nby, svy_err *err);
SVY_API void svy_est_free(svy_est *e);

/* Add an outcome before svy_est_bind().  value is for SVY_STAT_RATE only: the
 * share of rows whose column equals value (a code, or a value label of the
 * column); NULL means the column itself is 0/1. */
SVY_API svy_status svy_est_add_outcome(svy_est *e, svy_stat stat, const char *column,
                                       const char *value, svy_err *err);

/* Add a ratio NUM/DEN before svy_est_bind(): R's svyratio(~NUM, ~DEN), on
 * the rows where both are present (na.rm = TRUE: a domain).  Its variable
 * is named "NUM/DEN". */
SVY_API svy_status svy_est_add_ratio(svy_est *e, const char *num, const char *den, svy_err *err);

/* Add the quantile of COLUMN at probability p (0 < p < 1) before
 * svy_est_bind(): R's svyquantile(~COLUMN, design, p, na.rm = TRUE) with
 * survey >= 4's defaults (qrule = "math", Woodruff's interval "mean"), by
 * domain as svyby: the rows with a value are the domain, df its own.  The
 * rows then come once more (svy_est_passes_max), and the pairs (x, w) of
 * rows with a value and a weight above 0 are kept: 32 bytes a row while
 * the estimating pass reads, 16 after (each quantile outcome its own).
 * Results: stat SVY_STAT_QUANTILE, p, estimate, se and CI as R reports
 * them (se = CI width / (2 t); an end past the data is NaN, and so is se). */
SVY_API svy_status svy_est_add_quantile(svy_est *e, const char *column, double p, svy_err *err);

/* Find the columns in the schema (SVY_E_USAGE naming an unknown one); the
 * schema must outlive the run. */
SVY_API svy_status svy_est_bind(svy_est *e, const svy_schema *schema, svy_err *err);

/* After svy_est_bind(): outcome i (in the order added) of kind COL=VALUE
 * counts the rows whose COL is this code, as svy_level_resolve() found it
 * (a label in another language than the schema's, say). */
SVY_API svy_status svy_est_set_level_code(svy_est *e, size_t i, double code, svy_err *err);

/* The reader the rows come from (NULL: none).  Errors of svy_est_bind,
 * svy_est_push, svy_est_end_pass and svy_est_finish then name its input
 * (svy_reader_name) and count columns as the file does
 * (svy_reader_column_of), not as the projection svy_reader_set_columns()
 * delivers.  The reader must outlive the estimator's use of it. */
SVY_API void svy_est_set_reader(svy_est *e, const svy_reader *r);

/* Every column the estimator reads, in a fixed order, for
 * svy_reader_set_columns(); valid after svy_est_add_outcome() calls. */
SVY_API size_t svy_est_columns(const svy_est *e, const char **names, size_t cap);

/* 1 or 2: how many times the rows may have to come (2 when weights are
 * derived from the fpc, or later stages are read: their units may turn out
 * to hold several rows).  Open the reader rewindable when 2. */
SVY_API int svy_est_passes_max(const svy_est *e);

/* One row of the bound schema.  SVY_E_DATA names the column and row of a
 * missing, negative or non-finite weight, a missing stratum or id, a rate
 * that is not 0/1, a value that is not a number, an FPC that varies in a
 * stratum. */
SVY_API svy_status svy_est_push(svy_est *e, const svy_row *row, svy_err *err);

/* After the last row of a pass: *again = 1 when every row must be pushed
 * once more, in the same order.  Fails on an fpc that mixes counts and
 * fractions, or is below the units sampled. */
SVY_API svy_status svy_est_end_pass(svy_est *e, int *again, svy_err *err);

/* Compute every estimate (calls svy_est_end_pass when the caller did not,
 * and fails if that asked for another pass).  Fails on a lonely PSU under
 * SVY_LONELY_FAIL (naming the stratum, the row of its first member and the
 * column) and on a result that overflows a double (naming its cause).  An
 * outcome with no valid value in a domain is not an error: its estimate is
 * empty, flagged SVY_FLAG_NO_ESTIMATE, with a note. */
SVY_API svy_status svy_est_finish(svy_est *e, svy_err *err);

/* Differences (R: svyby(covmat = TRUE) + svycontrast; Stata: lincom after
 * svy: mean, over()): for every estimate, each level of by variable `by`
 * minus the reference level `ref` (its by value, as text or a code; NULL:
 * the lowest level), within each combination of the other by variables.
 * The SE comes from the joint linearization of the two domains (they share
 * PSUs); df is the design's (PSUs minus strata, or --df inf/fixed), the
 * p-value two-sided.  The rows follow the estimates (their `reference` set,
 * stat the statistic differenced).  Call before svy_est_finish(); SVY_E_USAGE when `by`
 * is not a by variable, and from svy_est_finish() when no domain has the
 * reference level. */
SVY_API svy_status svy_est_set_diff(svy_est *e, const char *by, const char *ref, svy_err *err);
/* The by variable's index given to svy_est_set_diff, -1 without one. */
SVY_API long svy_est_diff_by(const svy_est *e);

/* Rao-Scott tests of independence (R's svychisq): for every rate (a 0/1
 * column, or COL=VALUE: in the level or not) and every share (its levels with
 * weight), its R x C table against by variable `by`, within each combination
 * of the other by variables; N and nu count every row of the combination,
 * rows missing the outcome or `by` included.  chisq 0: the second-order F (statistic = "F": F, ndf, ddf
 * = ndf (PSUs - strata), p); 1: the first-order correction (statistic =
 * "Chisq": Pearson's X^2 unadjusted, as R prints it, df (R-1)(C-1), p of
 * X^2 / mean(eigenvalues)).  Call before svy_est_finish(); SVY_E_USAGE when
 * `by` is not a by variable. */
typedef struct svy_est_test {
    size_t domain;        /* a domain of the combination (its other by values) */
    const char *variable; /* the outcome */
    const char *by;       /* the by variable tested */
    int chisq;
    double statistic, ndf, ddf, p_value; /* ddf NaN for chisq */
    const char *note;     /* why there is no test; NULL when none */
} svy_est_test;

SVY_API svy_status svy_est_set_test(svy_est *e, const char *by, int chisq, svy_err *err);
SVY_API size_t svy_est_test_count(const svy_est *e);
SVY_API const svy_est_test *svy_est_test_get(const svy_est *e, size_t i);
/* The by variable's index given to svy_est_set_test, -1 without one. */
SVY_API long svy_est_test_by(const svy_est *e);

SVY_API size_t svy_est_count(const svy_est *e);
SVY_API const svy_est_result *svy_est_get(const svy_est *e, size_t i);
SVY_API size_t svy_est_ndomains(const svy_est *e);
SVY_API size_t svy_est_nby(const svy_est *e);
SVY_API const char *svy_est_by_name(const svy_est *e, size_t k);
/* The k-th by value of a domain (text, or number from a typed file); NULL for
 * the overall domain. */
SVY_API const svy_value *svy_est_domain_value(const svy_est *e, size_t domain, size_t k);
SVY_API int svy_est_domain_is_overall(const svy_est *e, size_t domain);
/* Whole design: rows, strata, PSUs, and the design df (PSUs - strata). */
SVY_API long long svy_est_rows(const svy_est *e);
SVY_API size_t svy_est_nstrata(const svy_est *e);
SVY_API size_t svy_est_npsu(const svy_est *e);
SVY_API const svy_design *svy_est_design(const svy_est *e);
SVY_API const svy_est_info *svy_est_design_info(const svy_est *e);

/* Subpopulation (--subpop, survey/subpop.h; NULL: none): rows where s is
 * false stay in the design (their units and strata count) but in no
 * domain, as R's subset(design, ...).  s must be bound to the schema the
 * rows follow and outlive the run; its columns are among svy_est_columns'.
 * Set before svy_est_columns() and the first row. */
struct svy_subpop;
SVY_API void svy_est_set_subpop(svy_est *e, const struct svy_subpop *s);
/* Rows in the subpopulation (all rows without one), after svy_est_finish(). */
SVY_API long long svy_est_subpop_rows(const svy_est *e);

/* Quantiles used for intervals, exposed for tests: t (df may be INFINITY),
 * and the beta quantile refined to full precision. */
SVY_API double svy_qt(double p, double df);
SVY_API double svy_qbeta(double p, double a, double b);

#ifdef __cplusplus
}
#endif

#endif
