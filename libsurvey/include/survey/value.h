/* libsurvey: one cell and one row of data as they flow through a stream.
 *
 * Values are small plain structs handed to callbacks by pointer; strings in
 * them are borrowed (see the ownership rules in survey.h).
 */
#ifndef SURVEY_VALUE_H
#define SURVEY_VALUE_H

#include <stddef.h>
#include <survey/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum svy_vtype {
    SVY_VAL_NUM = 0, /* num holds the number */
    SVY_VAL_STR = 1  /* str/len hold UTF-8 text (NUL-terminated as well) */
} svy_vtype;

/* Missing values stay distinct, so nothing is lost on the way through. */
typedef enum svy_missing {
    SVY_MISS_NONE = 0,
    SVY_MISS_SYSTEM,  /* Stata "." , SPSS sysmis, an empty CSV field */
    SVY_MISS_TAGGED,  /* Stata extended missing .a-.z, SAS .A-.Z ._ : tag holds the letter */
    SVY_MISS_USER     /* SPSS user-missing: the value is kept in num/str */
} svy_missing;

typedef struct svy_value {
    double num;
    const char *str;
    size_t len;
    unsigned char type;    /* svy_vtype */
    unsigned char missing; /* svy_missing */
    char tag;              /* 'a'..'z' for SVY_MISS_TAGGED, else 0 */
} svy_value;

/* Build rows with designated initializers ({.index = ..., .nvals = ...,
 * .vals = ...}): the fields not named are then zero, as they must be. */
typedef struct svy_row {
    long long index;       /* 1-based data row in the input */
    size_t nvals;
    const svy_value *vals; /* one per variable of the schema, in order */
    /* When line is not NULL, the first line_nvals values written as CSV
     * (',' between them, no line end) are exactly these line_len bytes.  Set by a reader asked to keep lines
     * (svy_reader_set_keep_lines) for a CSV line that needs no quoting;
     * a CSV writer then copies the line instead of writing those values.
     * Rows built by hand leave it NULL. */
    const char *line;
    size_t line_len;
    size_t line_nvals;
} svy_row;

/* True for any kind of missing. */
static inline int svy_value_is_missing(const svy_value *v) { return v->missing != SVY_MISS_NONE; }

/* The number in a value: a numeric value as is; a text value parsed as a
 * whole (leading and trailing blanks allowed, nothing else) as a decimal
 * number.  Returns 1 and sets *out when it is one, 0 when it is missing or not
 * a number.  This is how untyped (CSV) columns are read as numbers: lazily,
 * by whoever needs the number, so no type is guessed from the first rows. */
SVY_API int svy_value_number(const svy_value *v, double *out);

/* Parse text as a number the same way; len may be (size_t)-1 for NUL-terminated. */
SVY_API int svy_parse_number(const char *s, size_t len, double *out);

/* Shortest decimal text that reads back (strtod) to the same double; "inf",
 * "-inf" and "nan" for the special values.  buf needs SVY_DTOA_MAX bytes.
 * Returns the length written (without the NUL). */
#define SVY_DTOA_MAX 32
SVY_API size_t svy_dtoa(double d, char *buf);

/* d with exactly `decimals` decimals (0..20), rounded as printf's %.*f
 * rounds, with '.' as the point whatever LC_NUMERIC says; the text is cut
 * to fit size bytes.  A negative value that rounds to zero prints without
 * its sign ("0.00", never "-0.00"); "inf", "-inf" and "nan" as svy_dtoa. */
SVY_API void svy_fmt_fixed(double d, int decimals, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
