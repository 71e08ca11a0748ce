/* libsurvey: a study's codebook, read from a folder of CSV files.
 *
 * The format is documented in codebooks/README.md: variables.csv (names,
 * sources, labels, types, valid values, missing codes, design roles),
 * values.csv (value labels in Chinese and English), recodes.csv (PCRE2
 * patterns), derived.csv (derived variables from a small set of rule kinds),
 * checks.csv (consistency checks) and study.csv (id and duplicate rule).
 *
 * Errors in a codebook name the codebook file, its line and its column (the
 * field number, 1-based, as a spreadsheet counts): err->file, err->row,
 * err->col.
 */
#ifndef SURVEY_CODEBOOK_H
#define SURVEY_CODEBOOK_H

#include <stddef.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/profile.h>
#include <survey/schema.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svy_codebook svy_codebook;
typedef struct svy_cb_var svy_cb_var;

/* What a variable is for in the design and the analysis. */
typedef enum svy_role {
    SVY_ROLE_NONE = 0,
    SVY_ROLE_ID,
    SVY_ROLE_WEIGHT,
    SVY_ROLE_STRATA,
    SVY_ROLE_PSU,
    SVY_ROLE_FPC,
    SVY_ROLE_OUTCOME,
    SVY_ROLE_GROUP,
    SVY_ROLE_COUNT_
} svy_role;

/* How a cleaned value is stored and checked. */
typedef enum svy_cb_type {
    SVY_CB_NUMBER = 0, /* a number, read out of text with units ("5,000元", "5k", "35岁") */
    SVY_CB_INTEGER,    /* the same, and it must be whole */
    SVY_CB_CODE,       /* a whole number that must be one of the labelled codes (or `valid`) */
    SVY_CB_TEXT        /* text, kept as it is after recoding */
} svy_cb_type;

typedef enum svy_lang { SVY_LANG_ZH = 0, SVY_LANG_EN } svy_lang;

/* "zh" or "en" -> *out; 0 for anything else. */
SVY_API int svy_lang_parse(const char *s, svy_lang *out);

/* "id", "weight", ... ; "" for SVY_ROLE_NONE. */
SVY_API const char *svy_role_name(svy_role role);
/* Role from its name (caseless; "" is SVY_ROLE_NONE): 1 when known, 0 not. */
SVY_API int svy_role_parse(const char *name, svy_role *out);
/* The design roles name a stage: "psu" and "psu1" are stage 1, "psu2" stage
 * 2 (R's id = ~psu + psu2), likewise strata and fpc, up to stage 8.  *stage
 * is 0 for the other roles.  1 when known. */
#define SVY_CB_STAGES_MAX 8
SVY_API int svy_role_parse_stage(const char *name, svy_role *out, int *stage);

/* Load DIR/variables.csv and the other files of the folder.  Every pattern
 * is compiled (with JIT) here, once. */
SVY_API svy_status svy_codebook_load(const char *dir, svy_codebook **out, svy_err *err);
SVY_API void svy_codebook_free(svy_codebook *cb);

SVY_API const char *svy_codebook_dir(const svy_codebook *cb);
/* study.csv: name and title ("" when not given). */
SVY_API const char *svy_codebook_name(const svy_codebook *cb);
SVY_API const char *svy_codebook_title(const svy_codebook *cb);

/* The cleaned variables in output order: those of variables.csv, then the
 * derived ones. */
SVY_API size_t svy_codebook_nvars(const svy_codebook *cb);
SVY_API const svy_cb_var *svy_codebook_var(const svy_codebook *cb, size_t i);
/* Index of a cleaned variable, or -1. */
SVY_API long svy_codebook_find(const svy_codebook *cb, const char *name);

/* Name of the (first) variable with this role, or NULL; for a design role,
 * the one of stage 1. */
SVY_API const char *svy_codebook_role(const svy_codebook *cb, svy_role role);
/* The variable with a design role at a stage (1-based), or NULL. */
SVY_API const char *svy_codebook_role_stage(const svy_codebook *cb, svy_role role, int stage);
/* All variables with this role (outcomes, groups): fills up to max names,
 * returns how many there are. */
SVY_API size_t svy_codebook_roles(const svy_codebook *cb, svy_role role, const char **names, size_t max);

SVY_API const char *svy_cb_var_name(const svy_cb_var *v);
/* Column of the raw data it comes from; "" for a derived variable. */
SVY_API const char *svy_cb_var_source(const svy_cb_var *v);
SVY_API const char *svy_cb_var_label(const svy_cb_var *v, svy_lang lang);
SVY_API svy_cb_type svy_cb_var_type(const svy_cb_var *v);
/* The first role of the variable (a cell may give several: "id;psu2"). */
SVY_API svy_role svy_cb_var_role(const svy_cb_var *v);
/* The stage of that role (1 for psu, 2 for psu2 ...); 0 for others. */
SVY_API int svy_cb_var_stage(const svy_cb_var *v);
SVY_API int svy_cb_var_is_derived(const svy_cb_var *v);
/* Value labels of the cleaned variable. */
SVY_API size_t svy_cb_var_nlabels(const svy_cb_var *v);
SVY_API double svy_cb_var_label_code(const svy_cb_var *v, size_t i);
SVY_API const char *svy_cb_var_label_text(const svy_cb_var *v, size_t i, svy_lang lang);
/* 1 when a non-missing cleaned value is valid for the variable (type, whole
 * number, valid ranges, labelled codes). */
SVY_API int svy_cb_var_valid_num(const svy_cb_var *v, double x);

/* Check a raw data schema against the codebook: every source column exists,
 * and the data's own value labels do not contradict the codebook's (a label
 * the codebook gives to one code, the data give to another).  The error
 * names the codebook file, line and column. */
SVY_API svy_status svy_codebook_check_schema(const svy_codebook *cb, const svy_schema *raw, svy_err *err);

/* Set variable labels and value labels (in lang) on the variables of a
 * schema that the codebook names; variables it does not name are left as
 * they are.  For svy-tab -c and svy-export -c on cleaned data. */
SVY_API svy_status svy_codebook_apply_labels(const svy_codebook *cb, svy_schema *schema, svy_lang lang,
                                             svy_err *err);

/* Write a codebook folder (codebooks/README.md: variables.csv and
 * values.csv, each atomically) describing the profiled data: types from the
 * data, labels and missing-value definitions from the schema; what the
 * format cannot say is named in the note column.  DIR is created if
 * needed. */
SVY_API svy_status svy_codebook_write(const svy_profile *p, const char *dir, svy_err *err);

/* A variable's value labels as one text, as svy-codebook lists them:
 * "1=yes; 2=no", text values quoted, tagged missings as ".a".  Malloc'd
 * ("" when none); NULL when out of memory. */
SVY_API char *svy_codebook_labels_text(const svy_var *v);
/* Its missing-value definitions likewise: "8; 9", "1 thru 3", "LO thru -1",
 * text codes quoted. */
SVY_API char *svy_codebook_missing_text(const svy_var *v);

#ifdef __cplusplus
}
#endif

#endif
