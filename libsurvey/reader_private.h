/* Reader internals shared by reader.c and the format backends. */
#ifndef SVY_READER_PRIVATE_H
#define SVY_READER_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error reader_private.h is only for building libsurvey.
#endif

#include <stdio.h>
#include <survey/reader.h>

#include "svy_private.h"

struct svy_reader {
    char *path;        /* as given; NULL for standard input */
    char *name;        /* for messages: the path or "<stdin>" */
    char *encoding;    /* override, or NULL */
    char *catalog;     /* .sas7bcat, or NULL */
    long long limit;   /* < 0: no limit */
    char delim;        /* CSV delimiter, 0 = detect */
    char **columns;    /* projection, or NULL */
    size_t ncolumns;
    int rewindable;
    int keep_lines;    /* svy_reader_set_keep_lines */
    const char *format;

    /* Input source.  Standard input and pipes are either streamed (CSV:
     * head holds the bytes read for detection) or spooled to spool_fd. */
    int use_stdin;
    /* The input stays open from detection to the end, so a file replaced or
     * removed meanwhile cannot be read in place of the one detected.
     * stream: not a regular file (stdin, a pipe, a FIFO, `<(cmd)`): read
     * once, front to back, after the head bytes; owns_fd: in_fd is ours. */
    int in_fd;
    int stream;
    int owns_fd;
    unsigned char *head;
    size_t head_len;
    int spool_fd;      /* an unlinked temporary file, or -1 */
    int ran;

    /* Run state, set up by svy_reader_begin(). */
    long long rows;
    int limit_hit;     /* the run stopped at the row limit */
    svy_schema *full;  /* every variable of the file */
    svy_schema *out;   /* the delivered ones */
    long *map;         /* full index -> output slot, or -1 */
    svy_value *vals;   /* output row buffer, svy_schema_nvars(out) long */
    size_t nvals;      /* svy_schema_nvars(out) */
    /* The row's line for svy_row.line, set by the backend around
     * svy_reader_emit(); NULL when it has none. */
    const char *line;
    size_t line_len;
    /* svy_reader_set_progress */
    svy_progress_fn progress;
    void *progress_ctx;
};

/* Tell the progress callback where the run is (svy_reader_emit, run). */
void svy_reader_report_progress(svy_reader *r, int done);

/* A format backend reads r's input and drives the handler through
 * svy_reader_begin() and svy_reader_emit(). */
typedef svy_status (*svy_backend_run)(svy_reader *r, const svy_handler *h, void *ctx, svy_err *err);
svy_status svy_csv_read_run(svy_reader *r, const svy_handler *h, void *ctx, svy_err *err);
svy_status svy_rs_read_run(svy_reader *r, const svy_handler *h, void *ctx, svy_err *err);

/* The descriptor a backend reads, from offset 0 (it seeks: pread or lseek):
 * the file detected at open, or the spool of a stream.  -1 when the input is
 * a stream read in place (CSV only): read r->in_fd after the r->head bytes.
 * Backends never open the input by path again: a file replaced in between
 * would be read in place of the one detected. */
int svy_reader_input_fd(const svy_reader *r);

/* Called once the backend knows every variable: takes ownership of full,
 * builds the projection and calls h->schema. */
svy_status svy_reader_begin(svy_reader *r, svy_schema *full, const svy_handler *h, void *ctx,
                            svy_err *err);

/* svy_reader_emit's progress report, out of the row path. */
void svy_reader_progress_tick(svy_reader *r);

/* Deliver r->vals as the next row.  Returns SVY_OK to go on, SVY_E_ABORT
 * (with err untouched) when the row limit is reached, or the handler's
 * status.  Inline: the row loops call it once a row. */
static inline svy_status svy_reader_emit(svy_reader *r, const svy_handler *h, void *ctx, svy_err *err)
{
    if (r->limit >= 0 && r->rows >= r->limit) {
        r->limit_hit = 1;
        return SVY_E_ABORT;
    }
    if (__builtin_expect(r->progress != NULL, 0))
        svy_reader_progress_tick(r);
    size_t nvals = r->nvals;
    svy_row row = {.index = ++r->rows, .nvals = nvals, .vals = r->vals, .line = r->line, .line_len = r->line_len,
                   .line_nvals = r->line ? nvals : 0};
    return h->row ? h->row(ctx, &row, err) : SVY_OK;
}

/* 1: UTF-16 with a byte-order mark; 2, 3: little-, big-endian ASCII text
 * without one; 0: not UTF-16 text (reader.c). */
int svy_utf16_kind(const unsigned char *b, size_t len);

/* Output slot of full-schema variable i, or -1 when it is not delivered. */
static inline long svy_reader_slot(const svy_reader *r, size_t i)
{
    return r->map[i];
}

#endif
