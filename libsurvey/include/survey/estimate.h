/* libsurvey: design-based estimates of rates, means and totals by domain.
 *
 * Agrees with R's survey package (svymean, svytotal, svyciprop, svyby) on a
 * one-stage design: strata, PSUs nested in strata, weights and an FPC, with
 * Taylor linearization and the ultimate-cluster variance.  Domains are
 * estimated on the whole design: PSUs without members of a domain count, with
 * a linearized total of 0, as R's subset() does.
 *
 * Call sequence:
 *   svy_design d; svy_design_init(&d); d.strata = "stratum"; ...
 *   svy_est *e = svy_est_new(&d, by_names, nby, &err);
 *   svy_est_add_outcome(e, SVY_STAT_RATE, "covered", NULL, &err); ...
 *   svy_est_bind(e, schema, &err);              (the reader's schema)
 *   svy_est_push(e, row, &err);                 (once per row)
 *   svy_est_finish(e, &err);
 *   for i < svy_est_count(e): svy_est_get(e, i)
 *
 * One pass; memory grows with domains x PSUs (or domains x strata when there
 * are no PSUs), never with rows.
 */
#ifndef SURVEY_ESTIMATE_H
#define SURVEY_ESTIMATE_H

#include <stddef.h>
#include <survey/common.h>
#include <survey/error.h>
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

typedef enum svy_stat {
    SVY_STAT_RATE = 0, /* mean of a 0/1 column, or the share with one value */
    SVY_STAT_SHARE,    /* the share of every level of a categorical column */
    SVY_STAT_MEAN,
    SVY_STAT_TOTAL
} svy_stat;

typedef struct svy_design {
    const char *strata; /* column names; NULL when the design has no such role */
    const char *psu;    /* NULL: every row is its own PSU */
    const char *weight; /* NULL: weight 1 */
    const char *fpc;    /* N_h (PSUs in the stratum's population), or the fraction when all <= 1 */
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
/* Parse a name ("fail", "domain", "logit"...); 1 when known. */
SVY_API int svy_lonely_parse(const char *s, svy_lonely *out);
SVY_API int svy_ci_method_parse(const char *s, svy_ci_method *out);

/* NCHS Data Presentation Standards for Proportions (Parker et al. 2017). */
#define SVY_FLAG_SUPPRESS 1u /* n or effective n below 30, or CI too wide */
#define SVY_FLAG_REVIEW 2u   /* fewer than 8 degrees of freedom */
#define SVY_FLAG_COMPLEMENT 4u /* shown only because its complement passes the relative-width rule */

typedef struct svy_est svy_est;

/* One estimate.  Numbers that are not defined are NaN (printed empty). */
typedef struct svy_est_result {
    size_t domain;         /* svy_est_domain_value(e, domain, k) */
    const char *variable;  /* "covered", "scheme=2", "api00" */
    const char *column;    /* the input column */
    const char *level;     /* COL=VALUE rates and shares: the value, as text; else NULL */
    svy_stat stat;
    double estimate, se, ci_low, ci_high, df, deff, cv;
    long long n;           /* rows of the domain with a valid value */
    double weighted_n;     /* their sum of weights */
    long long domain_rows; /* rows of the domain, valid or not */
    unsigned flags;        /* SVY_FLAG_* when nchs is set */
} svy_est_result;

/* by: the domain columns (copied), nby may be 0 (one domain, everything). */
SVY_API svy_est *svy_est_new(const svy_design *d, const char *const *by, size_t nby, svy_err *err);
SVY_API void svy_est_free(svy_est *e);

/* Add an outcome before svy_est_bind().  value is for SVY_STAT_RATE only: the
 * share of rows whose column equals value (a code, or a value label of the
 * column); NULL means the column itself is 0/1. */
SVY_API svy_status svy_est_add_outcome(svy_est *e, svy_stat stat, const char *column,
                                       const char *value, svy_err *err);

/* Find the columns in the schema (SVY_E_USAGE naming an unknown one); the
 * schema must outlive the run. */
SVY_API svy_status svy_est_bind(svy_est *e, const svy_schema *schema, svy_err *err);

/* After svy_est_bind(): outcome i (in the order added) of kind COL=VALUE
 * counts the rows whose COL is this code, as svy_level_resolve() found it
 * (a label in another language than the schema's, say). */
SVY_API svy_status svy_est_set_level_code(svy_est *e, size_t i, double code, svy_err *err);

/* Every column the estimator reads, in a fixed order, for
 * svy_reader_set_columns(); valid after svy_est_add_outcome() calls. */
SVY_API size_t svy_est_columns(const svy_est *e, const char **names, size_t cap);

/* One row of the bound schema.  SVY_E_DATA names the column and row of a
 * missing or non-positive weight, a missing stratum or PSU, a rate that is
 * not 0/1, a value that is not a number, an FPC that varies in a stratum. */
SVY_API svy_status svy_est_push(svy_est *e, const svy_row *row, svy_err *err);

/* Compute every estimate.  Fails on a lonely PSU under SVY_LONELY_FAIL, an
 * outcome with no valid value in a domain, an FPC below the sampled PSUs. */
SVY_API svy_status svy_est_finish(svy_est *e, svy_err *err);

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

/* Quantiles used for intervals, exposed for tests: t (df may be INFINITY),
 * and the beta quantile refined to full precision. */
SVY_API double svy_qt(double p, double df);
SVY_API double svy_qbeta(double p, double a, double b);

#ifdef __cplusplus
}
#endif

#endif
