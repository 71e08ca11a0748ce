/* Shared front end for the svy-* tools: program name, messages, exit codes.
 * Tools are thin: parse options, call libsurvey, print, map status to exit. */
#ifndef SVY_TOOL_H
#define SVY_TOOL_H

#include <stdio.h>
#include <survey/survey.h>

/* Exit codes, the same for every tool and listed in every man page. */
enum svy_exit {
    SVY_EXIT_OK = 0,
    SVY_EXIT_DATA = 1,  /* bad data, failed check, unsupported file */
    SVY_EXIT_USAGE = 2, /* bad options */
    SVY_EXIT_IO = 3     /* I/O or system error, out of memory */
};

#if defined(__GNUC__)
#define SVY_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define SVY_NORETURN __attribute__((noreturn))
#else
#define SVY_PRINTF(a, b)
#define SVY_NORETURN
#endif

/* Set the program name from argv[0]; call first in main(). */
void svy_tool_init(const char *argv0);
const char *svy_tool_name(void);

/* "prog: message" on stderr. */
void svy_tool_warn(const char *fmt, ...) SVY_PRINTF(1, 2);
/* "prog: message", then exit with code. */
SVY_NORETURN void svy_tool_die(int code, const char *fmt, ...) SVY_PRINTF(2, 3);
/* Usage error: "prog: message" and "Try 'prog --help'.", exit 2. */
SVY_NORETURN void svy_tool_usage_error(const char *fmt, ...) SVY_PRINTF(1, 2);

/* The one message for what getopt_long returned '?' for (svy_tool_init sets
 * opterr to 0): unknown option, or one missing its value; exit 2. */
SVY_NORETURN void svy_tool_bad_option(char **argv, const char *optstring);

/* Exit code for a library status. */
int svy_tool_exit_code(svy_status st);
/* Print a library error record ("prog: FILE:ROW:COL: message") and return
 * its exit code. */
int svy_tool_report(const svy_err *err);

/* A new writer for fmt with the tools' common settings: the creation time
 * stamped into .dta/.sav headers is SOURCE_DATE_EPOCH when set to a whole
 * number of seconds (reproducible builds; the library reads no environment),
 * else the time of writing.  NULL when fmt cannot be written or out of
 * memory. */
svy_writer *svy_tool_writer_new(svy_format fmt);

/* --version text, same layout for every tool. */
void svy_tool_version(void);

/* Flush stdout and turn a write error (full disk, closed pipe) into exit 3
 * with a message; call before returning 0. */
int svy_tool_finish_stdout(int code);

/* Write a tool's one result: to standard output when path is NULL, else
 * atomically to path (temp file, renamed when complete; removed when write
 * fails).  write(f, name, ctx, err) writes the whole result to f.  Returns
 * the exit code, having reported any error. */
typedef svy_status (*svy_tool_write_fn)(FILE *f, const char *name, void *ctx, svy_err *err);
int svy_tool_write_result(const char *path, svy_tool_write_fn write, void *ctx, svy_err *err);

/* Progress on a long run (tools/common/progress.c): when standard error is
 * a terminal (and TERM is not "dumb") and quiet is 0, a run of r that passes
 * about two seconds shows rows read, rows per second and, when the input's
 * size is known, how far into it, updated in place a few times a second and
 * erased when the run ends.  Call once per reader, after svy_reader_new. */
void svy_tool_progress(svy_reader *r, int quiet);
/* Erase the progress line now (messages call it before they print). */
void svy_tool_progress_clear(void);

/* Parse "a,b,c" into a NULL-terminated array of strings (one allocation,
 * free with free()); *n gets the count.  Empty items are a usage error. */
char **svy_tool_split_list(const char *s, size_t *n);

#endif
