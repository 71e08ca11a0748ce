/* Writer internals shared by writer.c and the format backends. */
#ifndef SVY_WRITER_PRIVATE_H
#define SVY_WRITER_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error writer_private.h is only for building libsurvey.
#endif

#include <stdio.h>
#include <survey/csv.h>
#include <survey/outfile.h>
#include <survey/writer.h>

#include "svy_private.h"

typedef struct svy_writer_ops {
    /* w->schema, w->f and w->name are set; allocate w->impl. */
    svy_status (*open)(svy_writer *w, svy_err *err);
    svy_status (*write)(svy_writer *w, const svy_row *row, svy_err *err);
    /* Finish the bytes of the file; writer.c then commits it. */
    svy_status (*close)(svy_writer *w, svy_err *err);
    /* Release w->impl (after close, or instead of it on failure, including a
     * failed open: it must cope with a half-built or NULL impl). */
    void (*release)(svy_writer *w);
} svy_writer_ops;

struct svy_writer {
    svy_format fmt;
    const svy_writer_ops *ops;
    void *impl;
    svy_schema *schema; /* copy of the caller's */
    svy_outfile *out;   /* NULL when writing to a caller's stream */
    FILE *f;
    char *name;
    int labels, missing_codes, iso_dates;
    long long row_count; /* declared, -1 when not */
    long long rows;      /* written */
    long long timestamp; /* file creation time; < 0: now */
    int opened, closed;
};

/* The CSV output of an open writer that copies lines (copies_lines), for a
 * caller that writes whole lines into it itself (svy_csv_out_room and
 * svy_csv_out_advance, or svy_csv_out_fields and svy_csv_out_end_row) and
 * counts each with svy_writer_count_row; NULL for any other writer. */
svy_csv_out *svy_writer_line_out(svy_writer *w);
void svy_writer_count_row(svy_writer *w);

extern const svy_writer_ops svy_csv_writer_ops;  /* csv and tsv (writer.c) */
extern const svy_writer_ops svy_rs_writer_ops;   /* dta, sav, zsav (readstat_write.c) */

/* ISO 8601 text for a date value of this kind and origin (date.c);
 * returns the length, 0 when the value cannot be shown as a date. */
size_t svy_date_iso(double v, svy_date_kind kind, svy_date_origin origin, char *buf, size_t size);

#endif
