/* libsurvey: clean a stream of raw rows by a codebook, with an audit trail.
 *
 * For each row: source columns are renamed, trimmed, missing codes made
 * missing, recoded by the codebook's PCRE2 patterns (first match wins),
 * numbers read out of text with units, checked against valid values; then
 * derived variables are computed, consistency checks run, and duplicate ids
 * resolved by the codebook's rule.  Every cell whose cleaned value differs
 * from its raw value is reported to the change hook (row, id, variable, old,
 * new, rule); every dropped row to the reject hook; every problem (a value
 * that had to be made missing, a failed check, a duplicate) to the problem
 * hook.  In strict mode the first problem stops the run instead.
 *
 * Memory grows with the number of distinct ids (for duplicate detection),
 * never with rows otherwise.
 */
#ifndef SURVEY_CLEAN_H
#define SURVEY_CLEAN_H

#include <stddef.h>
#include <survey/codebook.h>
#include <survey/common.h>
#include <survey/csv.h>
#include <survey/error.h>
#include <survey/schema.h>
#include <survey/value.h>
#include <survey/writer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svy_clean svy_clean;

/* What changed a cell or raised a problem; the log's `rule` column is the
 * name, with details after a colon (see svy-clean(1)). */
typedef enum svy_clean_rule {
    SVY_RULE_TRIM = 0,   /* blanks around the value removed */
    SVY_RULE_MISSING,    /* a missing code made missing */
    SVY_RULE_RECODE,     /* a recode pattern matched */
    SVY_RULE_NUMBER,     /* a number read out of text */
    SVY_RULE_RANGE,      /* outside the valid values: made missing (or row rejected) */
    SVY_RULE_INVALID,    /* not a number, or no recode pattern matched */
    SVY_RULE_CHECK,      /* a consistency check */
    SVY_RULE_DUPLICATE,  /* a later record of an id already kept */
    SVY_RULE_DERIVE,     /* a derived value could not be computed (map without a case) */
    SVY_RULE_COUNT_
} svy_clean_rule;

SVY_API const char *svy_clean_rule_name(svy_clean_rule rule);

typedef struct svy_clean_change {
    long long row;         /* 1-based row of the input */
    const char *id;        /* cleaned id, "" when there is none */
    const char *var;       /* cleaned variable name */
    const char *old_value; /* raw text, "" for missing */
    const char *new_value; /* cleaned text, "" for missing */
    svy_clean_rule rule;
    const char *detail;    /* e.g. "province@recodes.csv:7", "-9", "16-75" */
} svy_clean_change;

typedef struct svy_clean_hooks {
    /* Each may be NULL.  Non-OK stops the run with that status. */
    svy_status (*change)(void *ctx, const svy_clean_change *ch, svy_err *err);
    svy_status (*reject)(void *ctx, long long row, const char *id, svy_clean_rule rule, const char *reason,
                         svy_err *err);
    svy_status (*problem)(void *ctx, long long row, const char *id, const char *var, const char *reason,
                          svy_err *err);
} svy_clean_hooks;

typedef struct svy_clean_stats {
    long long rows_in, rows_out, rows_rejected;
    long long cells_changed, problems;
    long long changed_by[SVY_RULE_COUNT_];  /* cells changed, by rule */
    long long rejected_by[SVY_RULE_COUNT_]; /* rows rejected, by rule */
} svy_clean_stats;

/* The engine borrows the codebook, which must outlive it. */
SVY_API svy_clean *svy_clean_new(const svy_codebook *cb);
SVY_API void svy_clean_free(svy_clean *c);
SVY_API void svy_clean_set_strict(svy_clean *c, int on);
SVY_API void svy_clean_set_hooks(svy_clean *c, const svy_clean_hooks *hooks, void *ctx);
/* Write the log of changed cells to o as svy-clean's --log has it (one CSV
 * line per change: row,id,variable,old,new,rule,detail, missing as an empty
 * field; no header), once the row is known to be kept: the bytes the change
 * hook would give, made once per remembered text instead of per row.  The
 * change hook, if set as well, is still called.  NULL: no log. */
SVY_API void svy_clean_set_log(svy_clean *c, svy_csv_out *o);
/* On: the rows svy_clean_row gives carry their values in the line alone
 * (svy_row.line holds every one); vals are left as they were.  For a
 * writer that copies lines (svy_writer_copies_lines()). */
SVY_API void svy_clean_set_line_only(svy_clean *c, int on);
/* Kept rows written to w by svy_clean_row itself (*out is then NULL), their
 * lines made in w's output buffer, when w is an open CSV writer that copies
 * lines (svy_writer_copies_lines()); else, or with NULL, rows are given to
 * the caller as before.  The engine borrows w, open while rows are cleaned. */
SVY_API void svy_clean_set_writer(svy_clean *c, svy_writer *w);
/* Name of the input, for error records (copied). */
SVY_API svy_status svy_clean_set_input_name(svy_clean *c, const char *name);

/* Bind the codebook to a raw schema (svy_codebook_check_schema() first).
 * After it, svy_clean_schema() is the cleaned schema. */
SVY_API svy_status svy_clean_begin(svy_clean *c, const svy_schema *raw, svy_err *err);
SVY_API const svy_schema *svy_clean_schema(const svy_clean *c);

/* Clean one raw row.  *out is the cleaned row (valid until the next call),
 * or NULL when the row was rejected; its line (svy_row.line) holds all its
 * values as a CSV writer with ',' writes them. */
SVY_API svy_status svy_clean_row(svy_clean *c, const svy_row *in, const svy_row **out, svy_err *err);

/* Validation of already cleaned data: bind by cleaned variable names (every
 * codebook variable must be present), then check each row: every value valid
 * for its variable and no consistency check violated.  Each problem goes to
 * the problem hook (and counts in stats.problems); in strict mode the first
 * one is returned as SVY_E_DATA. */
SVY_API svy_status svy_clean_begin_validate(svy_clean *c, const svy_schema *cleaned, svy_err *err);
SVY_API svy_status svy_clean_validate_row(svy_clean *c, const svy_row *row, svy_err *err);

SVY_API const svy_clean_stats *svy_clean_get_stats(const svy_clean *c);

#ifdef __cplusplus
}
#endif

#endif
