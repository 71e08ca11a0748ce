/* libsurvey: write a stream of rows as CSV, TSV, Stata .dta or SPSS .sav/.zsav.
 *
 * Output paths are written atomically: to a temporary file in the same
 * folder, renamed over the target by svy_writer_close().  A writer freed
 * without a successful close removes its temporary file, so a failed run
 * never leaves a partial output.  "-" writes to standard output.
 */
#ifndef SURVEY_WRITER_H
#define SURVEY_WRITER_H

#include <stdio.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/schema.h>
#include <survey/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum svy_format {
    SVY_FMT_UNKNOWN = 0,
    SVY_FMT_CSV,
    SVY_FMT_TSV,
    SVY_FMT_DTA,   /* Stata 118 */
    SVY_FMT_SAV,
    SVY_FMT_ZSAV
} svy_format;

/* "csv", "tsv", "dta", "sav", "zsav" -> format; SVY_FMT_UNKNOWN otherwise. */
SVY_API svy_format svy_format_from_name(const char *name);
/* From a path's extension (output side only: inputs are detected by content). */
SVY_API svy_format svy_format_from_path(const char *path);

typedef struct svy_writer svy_writer;

SVY_API svy_writer *svy_writer_new(svy_format fmt);
SVY_API void svy_writer_free(svy_writer *w);

/* CSV/TSV options. */
/* Write value labels instead of codes where a value has one. */
SVY_API void svy_writer_set_labels(svy_writer *w, int on);
/* Write missing values as their code (user-missing) or tag (".", ".a")
 * instead of an empty field. */
SVY_API void svy_writer_set_missing_codes(svy_writer *w, int on);
/* Write date variables as ISO 8601 text (default on). */
SVY_API void svy_writer_set_iso_dates(svy_writer *w, int on);
/* Number of rows that will be written: required by .dta and .sav, whose
 * headers carry it; writing a different number is an error at close. */
SVY_API void svy_writer_set_row_count(svy_writer *w, long long n);

/* The line contract between a reader and a writer, decided here only: 1 when
 * this writer, as its options stand, writes an svy_row.line as it is instead
 * of the values it stands for (plain CSV: ',' between fields, no labels, no
 * missing codes), 0 when it needs every value.  A tool passing rows from a
 * reader to this writer asks it, after setting the writer's options:
 * svy_reader_set_keep_lines(r, svy_writer_copies_lines(w)).  When it is 1 the
 * writer reads only the values after the line's line_nvals. */
SVY_API int svy_writer_copies_lines(const svy_writer *w);

/* Creation time stored in .dta/.sav headers, in seconds since 1970.  By
 * default the current time (the library reads no environment: the tools
 * pass SOURCE_DATE_EPOCH here, for reproducible builds). */
SVY_API void svy_writer_set_timestamp(svy_writer *w, long long epoch_seconds);

/* Open the output for this schema (copied).  "-" is standard output. */
SVY_API svy_status svy_writer_open(svy_writer *w, const char *path, const svy_schema *schema, svy_err *err);
/* Write to a stream the caller owns and closes (no atomic rename). */
SVY_API svy_status svy_writer_open_stream(svy_writer *w, FILE *f, const char *name,
                                          const svy_schema *schema, svy_err *err);
/* One row; its values follow the schema given at open. */
SVY_API svy_status svy_writer_write(svy_writer *w, const svy_row *row, svy_err *err);
/* Flush, check and commit.  After it, only svy_writer_free() is allowed. */
SVY_API svy_status svy_writer_close(svy_writer *w, svy_err *err);

#ifdef __cplusplus
}
#endif

#endif
