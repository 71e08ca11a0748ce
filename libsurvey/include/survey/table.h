/* libsurvey: print the estimates of an svy_est as a table.
 *
 * Machine formats (csv, tsv, json) carry every number at full precision
 * (svy_dtoa), proportions as fractions unless percent is set, and missing
 * numbers as empty fields (null in JSON).  Report formats (md, latex, html)
 * round for reading, show proportions as percentages, and end with a footer
 * naming the design, the CI method, the df rule and the lonely-PSU rule.
 *
 * Long layout columns: the by columns, variable, estimate, se, ci_low,
 * ci_high, df, deff, n, weighted_n, then cv and flag when asked.  Wide
 * layout: one row per domain and one column per variable, each cell
 * "estimate (ci_low-ci_high)".
 */
#ifndef SURVEY_TABLE_H
#define SURVEY_TABLE_H

#include <stdio.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/estimate.h>
#include <survey/messages.h>
#include <survey/schema.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum svy_table_format {
    SVY_TABLE_CSV = 0,
    SVY_TABLE_TSV,
    SVY_TABLE_MD,
    SVY_TABLE_LATEX,
    SVY_TABLE_HTML,
    SVY_TABLE_JSON
} svy_table_format;

typedef enum svy_table_layout { SVY_TABLE_LONG = 0, SVY_TABLE_WIDE } svy_table_layout;

typedef struct svy_table_opts {
    svy_table_format format;
    svy_table_layout layout;
    int percent;               /* -1: the format's default (report formats 1, others 0) */
    int labels;                /* print value labels of by values and levels (needs schema) */
    const svy_schema *schema;  /* where labels come from; NULL for none */
    int cv;                    /* add the cv column */
    int flag;                  /* add the flag column (needs svy_design.nchs) */
    const char *title;         /* report formats: a caption; NULL for none */
    svy_lang lang;             /* report formats: language of the notes and the
                                  overall row (survey/messages.h); English by default */
    const char *note;          /* report formats: a sentence added to the notes
                                  (the tool's own choices, said out loud); NULL for none */
} svy_table_opts;

SVY_API void svy_table_opts_init(svy_table_opts *o);
/* "csv", "tsv", "md" (or "markdown"), "latex" (or "tex"), "html", "json"; 1 when known. */
SVY_API int svy_table_format_parse(const char *s, svy_table_format *out);
SVY_API int svy_table_layout_parse(const char *s, svy_table_layout *out);
/* The names a format and a layout are parsed from ("csv"..., "long", "wide";
 * a format's canonical name: "md", "latex"); "?" when unknown. */
SVY_API const char *svy_table_format_name(svy_table_format f);
SVY_API const char *svy_table_layout_name(svy_table_layout l);

/* Write the table to f (flushed, not closed); SVY_E_IO names `name` on a
 * write error. */
SVY_API svy_status svy_table_write(FILE *f, const char *name, const svy_est *e, const svy_table_opts *o,
                                   svy_err *err);
/* The tests table of svy_est_set_test (Rao-Scott): per outcome and
 * combination of the other by variables, the other by columns, variable,
 * by, statistic, ndf, ddf, p_value, note and method (machine formats; report
 * formats put the method under the table). */
SVY_API svy_status svy_table_write_tests(FILE *f, const char *name, const svy_est *e, const svy_table_opts *o,
                                         svy_err *err);

#ifdef __cplusplus
}
#endif

#endif
