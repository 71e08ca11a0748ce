/* libsurvey: choices a tool would otherwise make silently for its user.
 *
 * "Never choose silently" (README): the code a --rate COL=VALUE names, and
 * the weight an input already holds, are decided here, in one place, so
 * that every tool decides them the same way and can say what it decided.
 */
#ifndef SURVEY_CHOICES_H
#define SURVEY_CHOICES_H

#include <stddef.h>
#include <survey/codebook.h>
#include <survey/common.h>
#include <survey/schema.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What VALUE of `COL=VALUE` names, given what is known about the levels of
 * COL: the value labels the data carry (var, may be NULL) and the codebook's
 * variable (cbv, may be NULL), whose labels count in every language the
 * codebook has, whatever --lang says.
 *
 *  SVY_LEVEL_CODE     VALUE is a known code, or a label of one (exact, else
 *                     the one label equal to it ignoring ASCII case and
 *                     surrounding blanks): *code is set.
 *  SVY_LEVEL_UNKNOWN  nothing to check against (no labels, or a numeric
 *                     VALUE on a column whose data label only some codes):
 *                     the value is matched as given.
 *  SVY_LEVEL_NONE     levels are known and VALUE is none of them: *known
 *                     (malloc'd, free it) lists them: "1 = 男 / male, 2 = ...". */
typedef enum svy_level_match { SVY_LEVEL_UNKNOWN = 0, SVY_LEVEL_CODE, SVY_LEVEL_NONE } svy_level_match;

SVY_API svy_level_match svy_level_resolve(const svy_var *var, const svy_cb_var *cbv, const char *value,
                                          double *code, char **known);

/* The final weight an input holds: a variable whose label says svy-weight
 * made it (SVY_FINAL_WEIGHT_LABEL, written into .dta and .sav), or, where a
 * format has no variable labels (CSV), the column svy-weight names by
 * default (SVY_FINAL_WEIGHT_NAME).  Returns its name, NULL when there is
 * none; *ambiguous is set when more than one qualifies (the caller must not
 * choose then). */
#define SVY_FINAL_WEIGHT_NAME "weight_final"
#define SVY_FINAL_WEIGHT_LABEL "Final survey weight (svy-weight"
SVY_API const char *svy_final_weight_find(const svy_schema *s, int *ambiguous);

#ifdef __cplusplus
}
#endif

#endif
