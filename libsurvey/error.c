/* Status texts and the error record. */
#include "svy_private.h"
#include <errno.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <survey/common.h>

const char *svy_version(void)
{
    return SVY_VERSION_STRING;
}

static const char *const status_text[SVY_STATUS_COUNT_] = {
    [SVY_OK] = "success",
    [SVY_E_DATA] = "data error",
    [SVY_E_FORMAT] = "unsupported or corrupt file",
    [SVY_E_USAGE] = "usage error",
    [SVY_E_IO] = "I/O error",
    [SVY_E_NOMEM] = "out of memory",
    [SVY_E_ENCODING] = "text encoding error",
    [SVY_E_LIMIT] = "input exceeds a size limit",
    [SVY_E_ABORT] = "stopped by the caller",
};

const char *svy_status_str(svy_status code)
{
    if ((unsigned)code >= SVY_STATUS_COUNT_)
        return "unknown status";
    return status_text[code];
}

void svy_err_clear(svy_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

static void copy_trunc(char *dst, size_t size, const char *src)
{
    if (!src) {
        dst[0] = '\0';
        return;
    }
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

svy_status svy_err_set(svy_err *err, svy_status code, const char *file, long long row,
                       long long col, const char *var, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->row = row;
    err->col = col;
    err->sys_errno = 0;
    copy_trunc(err->file, sizeof err->file, file);
    copy_trunc(err->var, sizeof err->var, var);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

svy_status svy_err_sys(svy_err *err, int errnum, const char *file, long long row, const char *fmt, ...)
{
    if (errnum == 0)
        errnum = EIO;
    svy_status code = errnum == ENOMEM ? SVY_E_NOMEM : SVY_E_IO;
    if (!err)
        return code;
    char what[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    svy_err_set(err, code, file, row, 0, NULL, "%s: %s", what, strerror(errnum));
    err->sys_errno = errnum;
    return code;
}

/* The attribute lets clang's -Wformat=2 check callers instead of this body. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void append(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
    if (*off + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *off, size - *off, fmt, ap);
    va_end(ap);
    if (k > 0)
        *off = (size_t)k >= size - *off ? size - 1 : *off + (size_t)k;
}

char *svy_err_format(const svy_err *err, char *buf, size_t size)
{
    if (!size)
        return buf;
    size_t off = 0;
    buf[0] = '\0';
    if (err->file[0]) {
        append(buf, size, &off, "%s:", err->file);
        if (err->row > 0)
            append(buf, size, &off, "%lld:", err->row);
        /* A column without a row is the header's: FILE:COL would read as a
         * row number. */
        if (err->col > 0 && err->row <= 0)
            append(buf, size, &off, " header, column %lld:", err->col);
        else if (err->col > 0)
            append(buf, size, &off, "%lld:", err->col);
        append(buf, size, &off, " ");
    } else if (err->row > 0) {
        append(buf, size, &off, "row %lld: ", err->row);
    }
    append(buf, size, &off, "%s", err->msg[0] ? err->msg : svy_status_str(err->code));
    if (err->var[0] && !strstr(err->msg, err->var))
        append(buf, size, &off, " (variable %s)", err->var);
    return buf;
}
