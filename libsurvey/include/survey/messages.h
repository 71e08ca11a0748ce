/* libsurvey: the one catalogue of words the tools generate for readers.
 *
 * Every word that ends up in a report (a table's notes, a chart's legend,
 * subtitle and description) comes from here, in each language a codebook
 * has (svy_lang: Chinese and English), so a study's tables can be entirely
 * in its language (--lang zh) or entirely in English (--lang en).  Error
 * messages for the operator stay in English and are not catalogued.
 *
 * Adding an entry:
 *   1. add an id to svy_msg_id below, in the group it belongs to;
 *   2. add its row to the table in libsurvey/messages.c, same place:
 *        [SVY_MSG_X] = {"English text", "中文"},
 *      (a unit test fails when a row is missing or a language is empty);
 *   3. write placeholders as {1} ... {9}: svy_msg_format() replaces them by
 *      its text arguments in that order, so each language may put them
 *      where its grammar wants.  Numbers go in as text (svy_dtoa, "%lld").
 *   4. use it: svy_msg(lang, SVY_MSG_X), or svy_msg_format(buf, size,
 *      lang, SVY_MSG_X, arg1, ..., NULL).
 */
#ifndef SURVEY_MESSAGES_H
#define SURVEY_MESSAGES_H

#include <stddef.h>
#include <survey/codebook.h>
#include <survey/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum svy_msg_id {
    /* table notes (svy-tab's md, latex and html footers) */
    SVY_MSG_TAB_DESIGN,          /* {1} the stages and weight, {2} the counts, {3} the variance */
    SVY_MSG_TAB_ROLE_STRATA,     /* "strata {1}" */
    SVY_MSG_TAB_ROLE_PSU,
    SVY_MSG_TAB_ROLE_WEIGHT,
    SVY_MSG_TAB_ROLE_FPC,
    SVY_MSG_TAB_LIST_SEP,        /* ", " */
    SVY_MSG_TAB_PERCENT,
    SVY_MSG_TAB_CI,              /* {1} level, {2} method */
    SVY_MSG_TAB_CI_LOGIT,
    SVY_MSG_TAB_CI_WALD,
    SVY_MSG_TAB_CI_BETA,
    SVY_MSG_TAB_CI_WILSON,
    SVY_MSG_TAB_DF,              /* {1} the rule */
    SVY_MSG_TAB_DF_DOMAIN,
    SVY_MSG_TAB_DF_FULL,
    SVY_MSG_TAB_DF_INF,
    SVY_MSG_TAB_LONELY,          /* {1} the rule */
    SVY_MSG_TAB_LONELY_FAIL,
    SVY_MSG_TAB_LONELY_REMOVE,
    SVY_MSG_TAB_LONELY_CERTAINTY,
    SVY_MSG_TAB_LONELY_ADJUST,
    SVY_MSG_TAB_LONELY_AVERAGE,
    SVY_MSG_TAB_FLAG_NOTE,       /* what * and the dagger mean */
    SVY_MSG_TAB_TOTAL,           /* the overall row */
    SVY_MSG_TAB_FINAL_WEIGHT_NOTE, /* {1} final weight, {2} the codebook's weight */
    SVY_MSG_TAB_SUBPOP_NOTE,     /* {1} --subpop's expression, {2} rows in, {3} rows */
    SVY_MSG_TAB_QUANTILE_NOTE,   /* --quantile/--median: the method */
    /* charts (svy-plot) */
    SVY_MSG_PLOT_PERCENT,        /* subtitle: "Percent" */
    SVY_MSG_PLOT_PROPORTION,
    SVY_MSG_PLOT_BY_FIRST,       /* " by " before the first mapped column */
    SVY_MSG_PLOT_BY_LAST,        /* " and " before the last */
    SVY_MSG_PLOT_BY_SEP,         /* ", " between the others */
    SVY_MSG_PLOT_WITH_CI,        /* ", with confidence intervals" */
    SVY_MSG_PLOT_OUTCOME,        /* title of svy-tab's variable column */
    SVY_MSG_PLOT_ALL,            /* an empty (overall) by cell */
    SVY_MSG_PLOT_CI,             /* legend: "Confidence interval" */
    SVY_MSG_PLOT_HOLLOW,         /* legend: "Hollow: " + flag text */
    SVY_MSG_PLOT_HATCHED,
    SVY_MSG_PLOT_UNRELIABLE,     /* legend: flagged estimate */
    SVY_MSG_PLOT_UNRELIABLE_FLAG, /* {1} the flag values */
    SVY_MSG_PLOT_DESC_DOT,       /* description for screen readers: {1} percentages|proportions */
    SVY_MSG_PLOT_DESC_BAR,
    SVY_MSG_PLOT_PERCENTAGES,
    SVY_MSG_PLOT_PROPORTIONS,
    SVY_MSG_PLOT_DESC_BY,        /* {1} */
    SVY_MSG_PLOT_DESC_COLOR,     /* {1} */
    SVY_MSG_PLOT_DESC_FACET,     /* {1} */
    SVY_MSG_PLOT_GROUP,
    SVY_MSG_PLOT_END,            /* sentence end: "." */
    SVY_MSG_PLOT_DEFAULT_TITLE,
    SVY_MSG_PLOT_COLON,          /* after the legend's title */
    SVY_MSG_PLOT_DESC_ITEM,      /* {1} category, {2} estimate */
    SVY_MSG_PLOT_DESC_ITEM_COLOR, /* {1} category, {2} colour, {3} estimate */
    SVY_MSG_PLOT_DESC_CI,        /* {1} low, {2} high */
    SVY_MSG_PLOT_DESC_FLAGGED,
    SVY_MSG_PLOT_DESC_SEP,       /* after each item */
    /* report tables' column names (long layout) and flags */
    SVY_MSG_TAB_COL_VARIABLE,
    SVY_MSG_TAB_COL_STATISTIC,
    SVY_MSG_TAB_COL_ESTIMATE,
    SVY_MSG_TAB_COL_SE,
    SVY_MSG_TAB_COL_CI_LOW,
    SVY_MSG_TAB_COL_CI_HIGH,
    SVY_MSG_TAB_COL_DF,
    SVY_MSG_TAB_COL_DEFF,
    SVY_MSG_TAB_COL_N,
    SVY_MSG_TAB_COL_WEIGHTED_N,
    SVY_MSG_TAB_COL_CV,
    SVY_MSG_TAB_COL_FLAG,
    SVY_MSG_TAB_COL_NOTE,
    SVY_MSG_TAB_COL_METHOD,
    SVY_MSG_TAB_STAT_RATE,       /* the statistic column's words (svy_stat) */
    SVY_MSG_TAB_STAT_SHARE,
    SVY_MSG_TAB_STAT_MEAN,
    SVY_MSG_TAB_STAT_TOTAL,
    SVY_MSG_TAB_FLAG_SUPPRESS,
    SVY_MSG_TAB_FLAG_REVIEW,
    SVY_MSG_TAB_FLAG_BOTH,
    SVY_MSG_TAB_FLAG_NO_ESTIMATE,
    SVY_MSG_TAB_FLAG_NO_VARIANCE,
    SVY_MSG_TAB_FLAG_JOIN,       /* between two flag words: "+" */
    /* the design and variance of a table (its notes, and the method column) */
    SVY_MSG_TAB_STAGE,           /* "stage {1}:" */
    SVY_MSG_TAB_STAGE_SEP,       /* between stages: "; " */
    SVY_MSG_TAB_ROLE_UNIT,       /* "unit {1}": a unit of stage 2 or later */
    SVY_MSG_TAB_EVERY_ROW_PSU,
    SVY_MSG_TAB_WEIGHTS_FPC,
    SVY_MSG_TAB_UNWEIGHTED,
    SVY_MSG_TAB_COUNTS,          /* {1} rows, {2} zero-weight note, {3} strata, {4} PSUs, {5} later units */
    SVY_MSG_TAB_ZERO_WEIGHTS,    /* {1} rows of weight 0 */
    SVY_MSG_TAB_UNITS_AT_STAGE,  /* {1} units, {2} the stage */
    SVY_MSG_TAB_VAR_MULTI,       /* {1} stages, {2} how the fpc was read */
    SVY_MSG_TAB_VAR_FIRST_ASKED, /* {1} how the fpc was read */
    SVY_MSG_TAB_VAR_FIRST_NOFPC, /* {1} how the fpc was read */
    SVY_MSG_TAB_VAR_ONE,         /* {1} how the fpc was read */
    SVY_MSG_TAB_FPC_FRACTIONS,
    SVY_MSG_TAB_FPC_COUNTS,
    SVY_MSG_TAB_FPC_NONE,
    SVY_MSG_TAB_NOTE_NO_VARIANCE, /* what the double dagger means */
    SVY_MSG_TAB_NOTE_NO_ESTIMATE, /* what the dash means */
    SVY_MSG_PLOT_DIFF_PP,        /* subtitle of a chart of differences (svy-tab --diff), percent */
    SVY_MSG_PLOT_DIFF_PROP,      /* the same, proportions */
    SVY_MSG_PLOT_DIFF_OF_PP,     /* {1} "level − reference", one comparison in the whole chart */
    SVY_MSG_PLOT_DIFF_OF_PROP,
    SVY_MSG_PLOT_DIFFS_PP,       /* description: what the chart shows ({1} of DESC_DOT) */
    SVY_MSG_PLOT_DIFFS_PROP,
    SVY_MSG_TAB_COL_REFERENCE,   /* --diff's columns and statistic word (report formats) */
    SVY_MSG_TAB_COL_P_VALUE,
    SVY_MSG_TAB_STAT_DIFFERENCE,
    SVY_MSG_TAB_STAT_RATIO,
    SVY_MSG_TAB_STAT_QUANTILE,
    SVY_MSG_TAB_DIFF_NOTE,       /* {1} by variable, {2} reference, {3} distribution, {4} DESIGN_DF or "" */
    SVY_MSG_TAB_DIFF_NORMAL,
    SVY_MSG_TAB_DIFF_T,          /* {1} df */
    SVY_MSG_TAB_DIFF_DESIGN_DF,
    SVY_MSG_TAB_DIFF_NOTE_REP,   /* as DIFF_NOTE, SE from the replicates */
    SVY_MSG_TAB_DIFF_REP_DF,
    SVY_MSG_TAB_CALIB_RAKED,     /* {1} the margin files */
    SVY_MSG_TAB_CALIB_POSTSTRAT, /* {1} the margin file */
    SVY_MSG_COUNT_
} svy_msg_id;

/* The text of a message in lang (never NULL). */
SVY_API const char *svy_msg(svy_lang lang, svy_msg_id id);

/* The message with {1}..{9} replaced by the NULL-terminated text
 * arguments, into buf (truncated to size, always terminated).  Returns the
 * length the whole text needs, as snprintf does. */
SVY_API size_t svy_msg_format(char *buf, size_t size, svy_lang lang, svy_msg_id id, ...);

#ifdef __cplusplus
}
#endif

#endif
