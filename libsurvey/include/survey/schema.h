/* libsurvey: the variables of a data set and their metadata.
 *
 * A schema is what a reader hands over before the first row, and what a
 * writer needs before it can write one.  It is also built by hand (svy-clean
 * derives variables, svy-weight appends a weight).
 */
#ifndef SURVEY_SCHEMA_H
#define SURVEY_SCHEMA_H

#include <stddef.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svy_schema svy_schema;
typedef struct svy_var svy_var;

typedef enum svy_var_type {
    SVY_VAR_NUMERIC = 0,
    SVY_VAR_STRING,
    SVY_VAR_UNTYPED  /* CSV: values arrive as text; read numbers with svy_value_number() */
} svy_var_type;

/* What a display format says about dates and times. */
typedef enum svy_date_kind {
    SVY_DATE_NONE = 0,
    SVY_DATE_DAY,       /* calendar date */
    SVY_DATE_DATETIME,  /* date and time of day */
    SVY_DATE_TIME,      /* time of day / duration */
    SVY_DATE_WEEK,
    SVY_DATE_MONTH,
    SVY_DATE_QUARTER,
    SVY_DATE_HALFYEAR,
    SVY_DATE_YEAR,
    SVY_DATE_MONTH_NAME, /* SPSS MONTH: a month 1-12, or a date shown as its month */
    SVY_DATE_WEEKDAY     /* SPSS WKDAY: a weekday 1-7, or a date shown as its weekday */
} svy_date_kind;

/* Epoch conventions: Stata counts from 1960-01-01 (days, or ms for %tc),
 * SPSS seconds from 1582-10-14, SAS days (or seconds) from 1960-01-01. */
typedef enum svy_date_origin {
    SVY_ORIGIN_NONE = 0,
    SVY_ORIGIN_STATA,
    SVY_ORIGIN_SPSS,
    SVY_ORIGIN_SAS
} svy_date_origin;

SVY_API svy_schema *svy_schema_new(void);
SVY_API void svy_schema_free(svy_schema *s);
/* Deep copy. */
SVY_API svy_schema *svy_schema_clone(const svy_schema *s);

SVY_API size_t svy_schema_nvars(const svy_schema *s);
SVY_API const svy_var *svy_schema_var(const svy_schema *s, size_t i);
SVY_API svy_var *svy_schema_var_mut(svy_schema *s, size_t i);
/* Index of the variable with this exact name, or -1. */
SVY_API long svy_schema_find(const svy_schema *s, const char *name);

/* File-level metadata. */
SVY_API const char *svy_schema_format(const svy_schema *s);    /* "dta", "sav", "csv", ... */
SVY_API const char *svy_schema_label(const svy_schema *s);     /* data set label or "" */
SVY_API const char *svy_schema_encoding(const svy_schema *s);  /* declared encoding or "" */
SVY_API long long svy_schema_nrows(const svy_schema *s);        /* -1 when unknown */
SVY_API svy_date_origin svy_schema_date_origin(const svy_schema *s);
SVY_API svy_status svy_schema_set_format(svy_schema *s, const char *format);
SVY_API svy_status svy_schema_set_label(svy_schema *s, const char *label);
SVY_API svy_status svy_schema_set_encoding(svy_schema *s, const char *enc);
SVY_API void svy_schema_set_nrows(svy_schema *s, long long nrows);
SVY_API void svy_schema_set_date_origin(svy_schema *s, svy_date_origin o);

/* Append a variable; returns it (owned by the schema) or NULL on failure.
 * A duplicate name is an SVY_E_USAGE error. */
SVY_API svy_var *svy_schema_add(svy_schema *s, const char *name, svy_var_type type, svy_err *err);

SVY_API const char *svy_var_name(const svy_var *v);
SVY_API svy_var_type svy_var_type_of(const svy_var *v);
SVY_API const char *svy_var_label(const svy_var *v);   /* "" when none */
SVY_API const char *svy_var_format(const svy_var *v);  /* display format, "" when none */
/* Text: storage width in bytes, 0 when unknown.  Numbers: 1, 2 or 4 let the
 * .dta writer store them as Stata byte, int or long (each value must then be
 * a whole number in that type's range); 0 (the default) stores doubles. */
SVY_API size_t svy_var_width(const svy_var *v);
SVY_API const char *svy_var_labelset_name(const svy_var *v); /* "" when none */
SVY_API svy_date_kind svy_var_date_kind(const svy_var *v);

SVY_API svy_status svy_var_set_name(svy_var *v, const char *name);
SVY_API void svy_var_set_type(svy_var *v, svy_var_type type);
SVY_API svy_status svy_var_set_label(svy_var *v, const char *label);
SVY_API svy_status svy_var_set_format(svy_var *v, const char *format);
SVY_API void svy_var_set_width(svy_var *v, size_t width);
SVY_API svy_status svy_var_set_labelset_name(svy_var *v, const char *name);
/* Date kind is derived from the format; set it directly for formats the
 * library does not know, or to turn date output off. */
SVY_API void svy_var_set_date_kind(svy_var *v, svy_date_kind k);

/* Value labels.  A numeric variable labels numbers (and tagged missings,
 * with tag set); a string variable labels strings. */
SVY_API size_t svy_var_nlabels(const svy_var *v);
/* The i-th labelled value (type SVY_VAL_NUM or SVY_VAL_STR, missing/tag set
 * for a labelled tagged missing) and its label. */
SVY_API const svy_value *svy_var_label_value(const svy_var *v, size_t i);
SVY_API const char *svy_var_label_text(const svy_var *v, size_t i);
SVY_API svy_status svy_var_add_label_num(svy_var *v, double value, const char *label);
SVY_API svy_status svy_var_add_label_tagged(svy_var *v, char tag, const char *label);
SVY_API svy_status svy_var_add_label_str(svy_var *v, const char *value, const char *label);
/* Label of a value, or NULL when it has none. */
SVY_API const char *svy_var_label_for(const svy_var *v, const svy_value *val);
/* Reverse look-up: the numeric code whose label is exactly `label`; 1 if found. */
SVY_API int svy_var_code_for(const svy_var *v, const char *label, double *code);

/* SPSS user-missing definitions: up to 3 discrete values or a range plus one
 * value, as SPSS allows.  A discrete value is a range with lo == hi.  For a
 * string variable, lo_str holds the value. */
SVY_API size_t svy_var_nmissing(const svy_var *v);
SVY_API void svy_var_missing_range(const svy_var *v, size_t i, double *lo, double *hi);
SVY_API const char *svy_var_missing_str(const svy_var *v, size_t i);
SVY_API svy_status svy_var_add_missing_range(svy_var *v, double lo, double hi);
SVY_API svy_status svy_var_add_missing_str(svy_var *v, const char *value);
/* True when a non-missing value falls in a user-missing definition. */
SVY_API int svy_var_is_user_missing(const svy_var *v, const svy_value *val);

#ifdef __cplusplus
}
#endif

#endif
