/* libsurvey: column profiles, what one pass over a data set learns about
 * each column (counts, range, whether a text column holds numbers, distinct
 * values up to a bound, the longest text).  svy-codebook prints them,
 * svy-export types CSV columns and sizes Stata integers by them.
 *
 * Memory grows with the columns and the distinct values (up to the bound),
 * never with the rows.
 */
#ifndef SURVEY_PROFILE_H
#define SURVEY_PROFILE_H

#include <stddef.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/schema.h>
#include <survey/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svy_profile svy_profile;

/* Samples of text that is not a number, kept for messages. */
#define SVY_PROFILE_SAMPLES 3

/* One column.  Valid values are those not missing and, in an untyped (CSV)
 * column, not empty; the rest count as missing. */
typedef struct svy_col_profile {
    long long valid, missing;
    double min, max;  /* of the valid numbers: +inf and -inf when none */
    int all_numeric;  /* every valid value is a number (always 0 for a text column) */
    int all_integer;  /* ... and a whole one below 2^53 in magnitude */
    int unlabelled;   /* a valid number without a value label */
    size_t distinct;  /* distinct valid values, up to the bound */
    int distinct_full; /* the bound was reached: at least that many */
    /* User-missing numeric values (written as values by the writers). */
    double umin, umax; /* 0 when none */
    int u_integer;     /* all of them whole (or none) */
    long long tagged;  /* tagged missing values (.a-.z) */
    /* Text values (CSV fields, string variables). */
    size_t width;            /* longest, in bytes */
    long long nnum, ntext;   /* non-empty, not missing: numbers, and not */
    long long text_row[SVY_PROFILE_SAMPLES]; /* the first that are not numbers */
    char text[SVY_PROFILE_SAMPLES][24];      /* ... cut at a whole character */
} svy_col_profile;

/* A profile of the columns of schema (copied).  max_distinct bounds the
 * distinct values counted per column; 0 counts none.  NULL when out of
 * memory. */
SVY_API svy_profile *svy_profile_new(const svy_schema *schema, size_t max_distinct);
SVY_API void svy_profile_free(svy_profile *p);
/* Count one row (values past the schema's columns are ignored). */
SVY_API svy_status svy_profile_add_row(svy_profile *p, const svy_row *row, svy_err *err);

SVY_API const svy_schema *svy_profile_schema(const svy_profile *p);
SVY_API size_t svy_profile_ncols(const svy_profile *p);
SVY_API const svy_col_profile *svy_profile_col(const svy_profile *p, size_t i);

/* Bytes of the smallest Stata integer storage (byte 1, int 2, long 4) that
 * holds every number of a column written as a value (valid and
 * user-missing), within Stata's ranges below its missing codes; 0 when none
 * does (a double). */
SVY_API size_t svy_profile_stata_bytes(const svy_col_profile *c);

/* Types for the untyped (CSV) columns of schema, which has p's columns
 * first, from every value p counted: numeric when each non-empty value is a
 * number, with the Stata integer storage that holds them
 * (svy_profile_stata_bytes), else text as wide as the longest value.  Typed
 * columns are left alone.  For writers of typed formats (.dta, .sav), so a
 * CSV column of numbers is written as numbers. */
SVY_API void svy_profile_type_untyped(const svy_profile *p, svy_schema *schema);

#ifdef __cplusplus
}
#endif

#endif
