/* libsurvey: read, clean, weight and tabulate survey data as a stream of rows.
 *
 * Ownership rules, for every module:
 *  - Objects come in pairs: svy_X_new() / svy_X_free().  svy_X_free(NULL) does
 *    nothing.  A handle is opaque; reach its fields through functions.
 *  - Setters copy the strings they are given; the caller keeps its own.
 *  - Getters return const pointers that the object owns; they stay valid
 *    until the object is changed or freed.
 *  - A value handed to a callback (a row, a schema) is borrowed for the
 *    duration of the call: copy what you need to keep.
 *  - Functions that take ownership of an argument say so with "_take" in
 *    their name.
 *  - Allocations sized by the input are capped (SVY_ALLOC_MAX); a file that
 *    claims more fails with SVY_E_LIMIT instead of trying.
 *  - Every fallible function returns svy_status and fills an svy_err; none
 *    prints or exits.
 * The exceptions, each also said at its declaration:
 *  - Plain values, not objects: svy_err, svy_value, svy_row and the *_info
 *    and option structs live wherever the caller puts them; nothing to free.
 *  - Made through an out-parameter, because opening can fail with a record:
 *    svy_codebook_load() (free with svy_codebook_free()) and
 *    svy_outfile_open(), whose object svy_outfile_commit() or
 *    svy_outfile_abort() frees (there is no svy_outfile_free()).
 *  - Copies the caller owns: svy_schema_clone() (svy_schema_free()), and
 *    the list svy_level_resolve() returns in *known (free()).
 *  - Borrowed, not copied, so they must outlive the object: the codebook of
 *    svy_clean_new(), the schema of svy_est_bind(), the FILE of
 *    svy_csv_out_new() and svy_writer_open_stream() (neither closes it).
 *  - svy_err_format() writes into the caller's buffer and returns it.
 *
 * Threads: an object is used by one thread at a time; different objects may
 * be used from different threads at once (the library keeps no mutable global
 * state, apart from the table of open outputs that
 * svy_outfile_cleanup_on_signals() removes, which is lock-free).  Callbacks
 * run on the thread that called svy_reader_run().  The library starts one
 * thread of its own: an svy_csv_out (and so a CSV writer) past 8 MB of
 * output hands full buffers to a writer thread; it is joined by
 * svy_csv_out_flush() and svy_csv_out_free() (see csv.h).  Error messages use
 * strerror(), which glibc makes safe for the errno values the system sets.
 */
#ifndef SURVEY_SURVEY_H
#define SURVEY_SURVEY_H

#include <survey/common.h>
#include <survey/error.h>
#include <survey/value.h>
#include <survey/schema.h>
#include <survey/reader.h>
#include <survey/writer.h>
#include <survey/csv.h>
#include <survey/outfile.h>
#include <survey/clean.h>
#include <survey/codebook.h>
#include <survey/choices.h>
#include <survey/messages.h>
#include <survey/estimate.h>
#include <survey/model.h>
#include <survey/plot.h>
#include <survey/profile.h>
#include <survey/table.h>
#include <survey/weight.h>
#include <survey/weight_rep.h>
#include <survey/calibrate.h>
#include <survey/sums.h>

#endif
