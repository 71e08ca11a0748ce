/* Fault injection by link-time wrapping (ld --wrap): every allocation and
 * every system call the library makes on files goes through a counter, and
 * the Nth one fails the way the real call fails (NULL/ENOMEM, -1/EIO or
 * ENOSPC).  The names with two underscores are ld's convention for --wrap. */
#define _GNU_SOURCE
#include "fault.h"

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static fault_class armed_class = FAULT_NONE;
static long fail_at;  /* fail the call with this number (1-based) */
static long calls;    /* calls of the armed class so far */
static int hit;

void fault_arm(fault_class c, long n)
{
    fail_at = n;
    __atomic_store_n(&calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&hit, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&armed_class, c, __ATOMIC_SEQ_CST);
}

long fault_disarm(int *was_hit)
{
    __atomic_store_n(&armed_class, FAULT_NONE, __ATOMIC_SEQ_CST);
    if (was_hit)
        *was_hit = __atomic_load_n(&hit, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&calls, __ATOMIC_SEQ_CST);
}

/* Atomic: the CSV writer write()s from a second thread, so calls of a
 * class can come from two threads at once; each gets its own number. */
static int fault_now(fault_class c)
{
    if (__atomic_load_n(&armed_class, __ATOMIC_SEQ_CST) != c)
        return 0;
    if (__atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST) != fail_at)
        return 0;
    __atomic_store_n(&hit, 1, __ATOMIC_SEQ_CST);
    return 1;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
FILE *__real_fdopen(int fd, const char *mode);
iconv_t __real_iconv_open(const char *to, const char *from);
int __real_open64(const char *path, int flags, ...);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_close(int fd);
int __real_rename(const char *from, const char *to);
int __real_mkstemp64(char *tmpl);
size_t __real_fwrite(const void *p, size_t size, size_t n, FILE *f);
int __real_fflush(FILE *f);
int __real_fclose(FILE *f);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
FILE *__wrap_fdopen(int fd, const char *mode);
iconv_t __wrap_iconv_open(const char *to, const char *from);
int __wrap_open64(const char *path, int flags, ...);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_fsync(int fd);
int __wrap_close(int fd);
int __wrap_rename(const char *from, const char *to);
int __wrap_mkstemp64(char *tmpl);
size_t __wrap_fwrite(const void *p, size_t size, size_t n, FILE *f);
int __wrap_fflush(FILE *f);
int __wrap_fclose(FILE *f);

void *__wrap_malloc(size_t n)
{
    if (fault_now(FAULT_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t s)
{
    if (fault_now(FAULT_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_calloc(n, s);
}

void *__wrap_realloc(void *p, size_t n)
{
    if (fault_now(FAULT_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_realloc(p, n);
}

FILE *__wrap_fdopen(int fd, const char *mode)
{
    if (fault_now(FAULT_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_fdopen(fd, mode);
}

iconv_t __wrap_iconv_open(const char *to, const char *from)
{
    if (fault_now(FAULT_ALLOC)) {
        errno = ENOMEM;
        return (iconv_t)-1;
    }
    return __real_iconv_open(to, from);
}

int __wrap_open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    if (fault_now(FAULT_IO)) {
        errno = EMFILE;
        return -1;
    }
    return __real_open64(path, flags, mode);
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    if (fault_now(FAULT_IO)) {
        errno = EIO;
        return -1;
    }
    return __real_read(fd, buf, n);
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (fault_now(FAULT_IO)) {
        errno = ENOSPC;
        return -1;
    }
    return __real_write(fd, buf, n);
}

int __wrap_fsync(int fd)
{
    if (fault_now(FAULT_IO)) {
        errno = EIO;
        return -1;
    }
    return __real_fsync(fd);
}

int __wrap_close(int fd)
{
    /* A failing close still releases the descriptor, as on Linux. */
    int rc = __real_close(fd);
    if (fault_now(FAULT_IO)) {
        errno = EIO;
        return -1;
    }
    return rc;
}

int __wrap_rename(const char *from, const char *to)
{
    if (fault_now(FAULT_IO)) {
        errno = EXDEV;
        return -1;
    }
    return __real_rename(from, to);
}

int __wrap_mkstemp64(char *tmpl)
{
    if (fault_now(FAULT_IO)) {
        errno = ENOSPC;
        return -1;
    }
    return __real_mkstemp64(tmpl);
}

size_t __wrap_fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    if (fault_now(FAULT_IO)) {
        errno = ENOSPC;
        return 0;
    }
    return __real_fwrite(p, size, n, f);
}

int __wrap_fflush(FILE *f)
{
    if (fault_now(FAULT_IO)) {
        errno = EIO;
        return EOF;
    }
    return __real_fflush(f);
}

int __wrap_fclose(FILE *f)
{
    /* Like close: the stream is gone either way. */
    int rc = __real_fclose(f);
    if (fault_now(FAULT_IO)) {
        errno = EIO;
        return EOF;
    }
    return rc;
}
