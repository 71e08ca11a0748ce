/* Shared pieces of the libFuzzer targets: put the input where the reader
 * can open it by path, and check what every reader must guarantee. */
#ifndef SVY_FUZZ_COMMON_H
#define SVY_FUZZ_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <survey/survey.h>

#include "svy_private.h"

/* Invariants broken are bugs even when nothing crashes: abort() makes
 * libFuzzer keep the input. */
#define FUZZ_ASSERT(cond)                                                            \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* A regular file holding the bytes, open at *fd; its path in path.
 * memfd keeps the disk out of the loop. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t cap)
{
    int fd = memfd_create("svy-fuzz", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    for (size_t off = 0; off < size;) {
        ssize_t k = write(fd, data + off, size - off);
        if (k <= 0)
            abort();
        off += (size_t)k;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

/* A pipe already holding the bytes, write end closed: the reader sees a
 * non-seekable stream, as with `svy-x <(cmd)`.  Returns -1 when the bytes
 * do not fit the pipe buffer. */
static inline int fuzz_pipefile(const uint8_t *data, size_t size, char *path, size_t cap)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        abort();
    if (size > 65536 && fcntl(p[1], F_SETPIPE_SZ, (int)size) < (int)size) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    for (size_t off = 0; off < size;) {
        ssize_t k = write(p[1], data + off, size - off);
        if (k <= 0)
            abort();
        off += (size_t)k;
    }
    close(p[1]);
    snprintf(path, cap, "/proc/self/fd/%d", p[0]);
    return p[0];
}

typedef struct fuzz_sink {
    size_t nvars;
    long long rows;
    double sum;   /* keeps the value reads from being optimised away */
} fuzz_sink;

static inline svy_status fuzz_on_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    fuzz_sink *k = ctx;
    (void)err;
    k->nvars = svy_schema_nvars(s);
    for (size_t i = 0; i < k->nvars; i++) {
        const svy_var *v = svy_schema_var(s, i);
        const char *name = svy_var_name(v);
        FUZZ_ASSERT(name && *name);
        FUZZ_ASSERT(svy_utf8_valid(name, strlen(name), NULL));
        FUZZ_ASSERT(svy_schema_find(s, name) == (long)i);
        for (size_t j = 0; j < svy_var_nlabels(v); j++)
            FUZZ_ASSERT(svy_var_label_text(v, j) != NULL);
    }
    return SVY_OK;
}

static inline svy_status fuzz_on_row(void *ctx, const svy_row *row, svy_err *err)
{
    fuzz_sink *k = ctx;
    (void)err;
    FUZZ_ASSERT(row->nvals == k->nvars);
    FUZZ_ASSERT(row->index == k->rows + 1);
    k->rows++;
    for (size_t i = 0; i < row->nvals; i++) {
        const svy_value *v = &row->vals[i];
        FUZZ_ASSERT(v->missing <= SVY_MISS_USER);
        if (v->type == SVY_VAL_STR) {
            FUZZ_ASSERT(v->str != NULL);
            FUZZ_ASSERT(v->str[v->len] == '\0');
            FUZZ_ASSERT(svy_utf8_valid(v->str, v->len, NULL));
        } else {
            FUZZ_ASSERT(v->type == SVY_VAL_NUM);
        }
        double d;
        if (svy_value_number(v, &d))
            k->sum += d;
    }
    return SVY_OK;
}

/* Every failure names itself. */
static inline void fuzz_check_error(svy_status st, const svy_err *err)
{
    if (st == SVY_OK)
        return;
    FUZZ_ASSERT(st > SVY_OK && st < SVY_STATUS_COUNT_);
    FUZZ_ASSERT(err->code == st);
    FUZZ_ASSERT(err->msg[0] != '\0');
    char buf[1200];
    svy_err_format(err, buf, sizeof buf);
}

#endif
