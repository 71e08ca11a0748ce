/* libsurvey: read any supported survey file as a stream of rows.
 *
 * The format is detected from the content (magic bytes), never from the file
 * name: .dta, .sav, .zsav, .por, .sas7bdat, .xpt, CSV and TSV.  "-" reads
 * standard input; formats that need to seek (all but CSV/TSV) are spooled to
 * a temporary file first.
 *
 * Rows are pushed: svy_reader_run() calls the schema callback once, then the
 * row callback for each row.  Memory does not grow with the number of rows.
 */
#ifndef SURVEY_READER_H
#define SURVEY_READER_H

#include <stddef.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/schema.h>
#include <survey/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svy_reader svy_reader;

/* Callbacks return SVY_OK to go on.  Any other status stops the run, which
 * returns that status; the callback fills err itself. */
typedef struct svy_handler {
    svy_status (*schema)(void *ctx, const svy_schema *schema, svy_err *err);
    svy_status (*row)(void *ctx, const svy_row *row, svy_err *err);
} svy_handler;

SVY_API svy_reader *svy_reader_new(void);
SVY_API void svy_reader_free(svy_reader *r);

/* Options; set them before svy_reader_open(). */
/* Text encoding of the file, overriding what it declares (iconv names:
 * "GB18030", "CP1252", "LATIN1"...).  Output is always UTF-8. */
SVY_API svy_status svy_reader_set_encoding(svy_reader *r, const char *encoding);
/* SAS format catalog (.sas7bcat) holding the value labels of a .sas7bdat. */
SVY_API svy_status svy_reader_set_catalog(svy_reader *r, const char *path);
/* Stop after n data rows (n < 0: all rows). */
SVY_API void svy_reader_set_limit(svy_reader *r, long long n);
/* CSV field delimiter; 0 detects ',' ';' '\t' or '|' from the header line. */
SVY_API void svy_reader_set_delimiter(svy_reader *r, char delim);
/* Deliver only these columns, in this order.  A name the file lacks makes
 * svy_reader_run() fail with SVY_E_USAGE naming it. */
SVY_API svy_status svy_reader_set_columns(svy_reader *r, const char *const *names, size_t n);
/* Allow svy_reader_run() more than once: standard input is then spooled to a
 * temporary file at open, and removed at free. */
SVY_API void svy_reader_set_rewindable(svy_reader *r, int on);

/* Hand each row's input line to the row callback (svy_row.line) when the
 * input is UTF-8 CSV with ',' between fields, every column is delivered,
 * and the line needs no quoting: a tool that passes rows through to a CSV
 * writer then copies lines instead of writing every value.  Off by default
 * (it costs a copy of each line); svy_writer_copies_lines() says whether a
 * writer would use them. */
SVY_API void svy_reader_set_keep_lines(svy_reader *r, int on);

/* Progress of a run, for a tool to show (the library prints nothing).  The
 * callback is called from svy_reader_run() after every SVY_PROGRESS_ROWS
 * rows and once more at the end of the run (done = 1, also when the run
 * fails), on the caller's thread; it must not call the reader.  bytes is
 * how far into the input the reader is and size the input's size, both -1
 * when unknown (a pipe that is not spooled).  Costs one lseek per call, no
 * clock: a tool that wants time reads its own clock in the callback. */
#define SVY_PROGRESS_ROWS 16384
typedef struct svy_progress {
    long long rows;  /* rows delivered so far in this run */
    long long bytes; /* input bytes read so far, or -1 */
    long long size;  /* input size in bytes, or -1 */
    int done;        /* 1: the run is over */
} svy_progress;
typedef void (*svy_progress_fn)(void *ctx, const svy_progress *p);
/* fn NULL: no progress (the default). */
SVY_API void svy_reader_set_progress(svy_reader *r, svy_progress_fn fn, void *ctx);

/* Open a path, or "-" for standard input, and detect its format. */
SVY_API svy_status svy_reader_open(svy_reader *r, const char *path, svy_err *err);

/* Short name of the detected format: "dta", "sav", "zsav", "por",
 * "sas7bdat", "xpt", "csv", "tsv"; NULL before open. */
SVY_API const char *svy_reader_format(const svy_reader *r);
/* Name used in messages: the path, or "<stdin>". */
SVY_API const char *svy_reader_name(const svy_reader *r);

/* Read the whole input, calling h->schema once and h->row per row. */
SVY_API svy_status svy_reader_run(svy_reader *r, const svy_handler *h, void *ctx, svy_err *err);

/* 1-based column of variable `name` in the file (not in the projection),
 * for messages; 0 when unknown.  Valid after a run has started. */
SVY_API long long svy_reader_column_of(const svy_reader *r, const char *name);

/* Rows delivered by the last run. */
SVY_API long long svy_reader_rows(const svy_reader *r);

/* Detect the format of the first bytes of a file: returns a name as
 * svy_reader_format() does, or NULL when none matches.  CSV is the fallback
 * for text that is valid UTF-8 (or starts with a BOM). */
SVY_API const char *svy_detect_format(const unsigned char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
