/* libsurvey: read, clean, weight and tabulate survey data as a stream of rows.
 *
 * Ownership rules, for every module without exception:
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
#include <survey/plot.h>
#include <survey/profile.h>
#include <survey/table.h>
#include <survey/weight.h>
#include <survey/weight_rep.h>

#endif
