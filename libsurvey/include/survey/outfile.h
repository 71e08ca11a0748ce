/* libsurvey: output files that appear whole or not at all.
 *
 * svy_outfile_open() creates a temporary file beside the target;
 * svy_outfile_commit() flushes, syncs and renames it over the target;
 * svy_outfile_abort() removes it.  "-" stands for standard output, which is
 * flushed on commit and left open.
 */
#ifndef SURVEY_OUTFILE_H
#define SURVEY_OUTFILE_H

#include <stdio.h>
#include <survey/common.h>
#include <survey/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svy_outfile svy_outfile;

SVY_API svy_status svy_outfile_open(const char *path, svy_outfile **out, svy_err *err);
SVY_API FILE *svy_outfile_stream(svy_outfile *o);
SVY_API const char *svy_outfile_path(const svy_outfile *o);
/* Commits and frees o, whatever the result. */
SVY_API svy_status svy_outfile_commit(svy_outfile *o, svy_err *err);
/* Removes the temporary file and frees o; NULL is fine. */
SVY_API void svy_outfile_abort(svy_outfile *o);

/* Remove the temporary files of open outputs when SIGHUP, SIGINT, SIGQUIT,
 * SIGTERM, SIGPIPE, SIGXFSZ, SIGXCPU or SIGALRM ends the process: installs
 * a handler for each of those whose disposition is the default (an ignored
 * signal stays ignored); it unlinks the files, then ends the process by
 * the same signal.  The svy tools call it first thing.  0, or -1 with errno. */
SVY_API int svy_outfile_cleanup_on_signals(void);

/* A temporary file for spooling (removed when closed or on exit of the
 * process), in $TMPDIR or /tmp. */
SVY_API svy_status svy_tmpfile(FILE **out, svy_err *err);

#ifdef __cplusplus
}
#endif

#endif
