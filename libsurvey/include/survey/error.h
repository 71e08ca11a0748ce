/* libsurvey: status codes and the error record.
 *
 * Every fallible call returns an svy_status and, when it fails, fills the
 * caller's svy_err with where in the data it went wrong.  The library never
 * prints and never exits: what to say and how to stop is the caller's choice.
 */
#ifndef SURVEY_ERROR_H
#define SURVEY_ERROR_H

#include <stddef.h>
#include <survey/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum svy_status {
    SVY_OK = 0,
    SVY_E_DATA,     /* the input is wrong: bad value, bad file, failed check */
    SVY_E_FORMAT,   /* not a file of any supported format, or a corrupt one */
    SVY_E_USAGE,    /* the caller asked for something impossible (unknown column, bad option) */
    SVY_E_IO,       /* open, read, write, rename failed */
    SVY_E_NOMEM,    /* allocation failed or exceeded a cap */
    SVY_E_ENCODING, /* text that cannot be converted to UTF-8 */
    SVY_E_LIMIT,    /* input claims more than the library will allocate */
    SVY_E_ABORT,    /* a callback asked to stop; the callback owns the error record */
    SVY_STATUS_COUNT_
} svy_status;

/* The error record.  A plain value: put it on the stack, no free needed.
 * Fields that do not apply are 0 or empty.  row and col are 1-based. */
typedef struct svy_err {
    svy_status code;
    long long row;      /* data row (not counting a header), 0 if none */
    long long col;      /* column number, 0 if none */
    int sys_errno;      /* errno of a failed system call, 0 if none */
    char file[256];     /* input or output the error is about */
    char var[128];      /* variable name */
    char msg[512];      /* what went wrong, without the location */
} svy_err;

/* Static text for a status: "I/O error" etc. */
SVY_API const char *svy_status_str(svy_status code);

/* Reset a record to "no error". */
SVY_API void svy_err_clear(svy_err *err);

/* Set a record; any of file/var may be NULL, row/col 0.  Returns code, so
 * `return svy_err_set(...)` reads naturally.  err may be NULL. */
SVY_API svy_status svy_err_set(svy_err *err, svy_status code, const char *file,
                               long long row, long long col, const char *var,
                               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;

/* Set a record for a failed system call: the code is SVY_E_NOMEM for ENOMEM
 * and SVY_E_IO otherwise, sys_errno is errnum (EIO when 0), and the message
 * is the formatted text, ": ", then strerror(errnum).  Returns the code. */
SVY_API svy_status svy_err_sys(svy_err *err, int errnum, const char *file, long long row,
                               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* "FILE:ROW:COL: message (variable VAR)" with the parts that are set.
 * Writes at most size bytes including the NUL; returns buf. */
SVY_API char *svy_err_format(const svy_err *err, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
