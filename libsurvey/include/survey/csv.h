/* libsurvey: RFC 4180 output, field by field.
 *
 * For tools that print tables rather than data rows.  Fields are quoted only
 * when they must be; numbers use svy_dtoa() so they read back exactly.
 * Output is buffered; write errors surface at svy_csv_out_flush().
 *
 * The writer thread: after the first 8 MB, each full 256 KB buffer is handed
 * to a thread of the object's own, which write()s it to the stream's
 * descriptor while the caller fills the other buffer (large outputs then
 * cost the caller no system time).  From then on the stream's own stdio
 * buffer is bypassed, so do not write to the FILE yourself between
 * svy_csv_out_new() and svy_csv_out_flush().  svy_csv_out_flush() and
 * svy_csv_out_free() wait for the thread and end it (what follows a flush is
 * written on the caller's thread); a flush reports its first write error.
 * If no thread can be started the output simply stays on the caller's
 * thread.  Small outputs (tables) never start it.
 */
#ifndef SURVEY_CSV_H
#define SURVEY_CSV_H

#include <stddef.h>
#include <stdio.h>
#include <survey/common.h>
#include <survey/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svy_csv_out svy_csv_out;

/* Write to f (not closed by the library) with this delimiter (',' or '\t'). */
SVY_API svy_csv_out *svy_csv_out_new(FILE *f, char delim);
SVY_API void svy_csv_out_free(svy_csv_out *o);

SVY_API void svy_csv_out_str(svy_csv_out *o, const char *s, size_t len);
SVY_API void svy_csv_out_cstr(svy_csv_out *o, const char *s);
SVY_API void svy_csv_out_num(svy_csv_out *o, double d);
SVY_API void svy_csv_out_int(svy_csv_out *o, long long n);
/* The text svy_csv_out_int writes for n, at buf (SVY_DTOA_MAX bytes, not
 * NUL-terminated); returns its length. */
SVY_API size_t svy_fmt_ll(long long n, char *buf);
SVY_API void svy_csv_out_empty(svy_csv_out *o);
/* Text that is already one or more fields of this output, delimiters and
 * any quoting included (an svy_row.line), written as it is. */
SVY_API void svy_csv_out_fields(svy_csv_out *o, const char *s, size_t len);
SVY_API void svy_csv_out_end_row(svy_csv_out *o);
/* Whole rows made in place: room for n bytes at the end of the output,
 * at a row's start (NULL when not at one, or n is more than a buffer);
 * write rows there, each ended by \n, then svy_csv_out_advance() by the
 * bytes written (at most n). */
SVY_API char *svy_csv_out_room(svy_csv_out *o, size_t n);
SVY_API void svy_csv_out_advance(svy_csv_out *o, size_t n);
/* Push buffered bytes to the stream and fflush it; SVY_E_IO on failure. */
SVY_API svy_status svy_csv_out_flush(svy_csv_out *o, const char *name, svy_err *err);

#ifdef __cplusplus
}
#endif

#endif
