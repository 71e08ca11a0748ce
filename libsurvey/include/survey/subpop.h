/* libsurvey: subpopulations, --subpop EXPR.
 *
 * Estimates restricted to the rows where EXPR holds, the whole design kept
 * for the variance: R's subset(design, EXPR) and Stata's svy, subpop().
 * The estimator treats the rows out of the subpopulation as out of every
 * domain (their linearized values are 0, their PSUs still count).
 *
 * Grammar (precedence: ! over & over |; & and && are the same, | and ||):
 *   expr    := expr '|' expr | expr '&' expr | '!' expr | '(' expr ')' | test
 *   test    := column op value | column 'in' '{' value {',' value} '}'
 *   op      := '==' | '!=' | '<' | '<=' | '>' | '>='
 *   column  := a name (letters, digits, '_', '.', any UTF-8) or `any text`
 *   value   := a number (-3, 2.5, 1e3) | "text" or 'text' (\" \' \\ escape)
 * A text value compared with a labelled column names a code by its label,
 * in any language of the codebook or as the data label it (exactly, else
 * ignoring case: survey/choices.h's rule, the one --rate uses).  Ordering
 * operators compare numbers (a label stands for its code); text columns
 * take == != and in only.
 *
 * Missing values follow R's subset(): a comparison with a missing value is
 * unknown (NA), & | ! are three-valued (FALSE & NA is FALSE, TRUE | NA is
 * TRUE, !NA is NA), and a row whose EXPR is unknown is out.  `in` is R's
 * %in%: a missing value is in no set, so `!(x in {1})` keeps the rows where
 * x is missing while `!(x == 1)` drops them.
 */
#ifndef SURVEY_SUBPOP_H
#define SURVEY_SUBPOP_H

#include <stddef.h>
#include <survey/codebook.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/schema.h>
#include <survey/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svy_subpop svy_subpop;

/* Parse EXPR.  A syntax error is SVY_E_USAGE whose message names the
 * character (1-based, counting UTF-8 characters) where it went wrong. */
SVY_API svy_status svy_subpop_parse(const char *expr, svy_subpop **out, svy_err *err);
SVY_API void svy_subpop_free(svy_subpop *s);

/* The distinct columns EXPR reads, in order of first use (a tool that
 * projects its input adds them to the columns it reads). */
SVY_API size_t svy_subpop_ncolumns(const svy_subpop *s);
SVY_API const char *svy_subpop_column(const svy_subpop *s, size_t i);

/* Resolve columns against the schema the rows will follow and labels
 * against its value labels and the codebook (cb may be NULL).  An unknown
 * column or label, a number that is not a code of a coded column, or a
 * value of the wrong type for its column is SVY_E_USAGE naming the column
 * (err->var) and the character of the expression.  Call again for another
 * schema. */
SVY_API svy_status svy_subpop_bind(svy_subpop *s, const svy_schema *schema, const svy_codebook *cb, svy_err *err);

/* Whether a row (of the bound schema) is in: *in = 1 or 0.  A value that
 * must be a number and is not (text in a CSV column) is SVY_E_DATA naming
 * the row and the column. */
SVY_API svy_status svy_subpop_eval(const svy_subpop *s, const svy_row *row, int *in, svy_err *err);

/* EXPR in canonical form (single spaces, && as &, parentheses only where
 * needed and around what ! negates, text in double quotes): what the notes
 * of a table state, and read back by svy_subpop_parse to the same tree. */
SVY_API const char *svy_subpop_text(const svy_subpop *s);

#ifdef __cplusplus
}
#endif

#endif
