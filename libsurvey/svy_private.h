/* libsurvey internals shared between modules.  Not installed. */
#ifndef SVY_PRIVATE_H
#define SVY_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error svy_private.h is only for building libsurvey and its unit tests.
/* A new schema with copies of the variables idx[0..n-1] of s (schema.c). */
struct svy_schema;
struct svy_schema *svy_schema_project(const struct svy_schema *s, const long *idx, size_t n);

#endif

#include <stddef.h>
#include <stdint.h>
#include <survey/error.h>

/* No single allocation sized by input may exceed this: a file header that
 * claims billions of anything fails with SVY_E_LIMIT instead. */
#define SVY_ALLOC_MAX ((size_t)1 << 30)

/* Internal functions are hidden from the shared library by visibility, not
 * by reserved names. */
void *svy_malloc(size_t n);
void *svy_calloc(size_t count, size_t size);
/* Array growth with overflow and cap check; NULL on failure, p untouched. */
void *svy_reallocarray(void *p, size_t count, size_t size);
char *svy_strdup(const char *s);
char *svy_strndup(const char *s, size_t n);

/* Grow a dynamic array *pp of *cap elements to hold at least need. */
int svy_grow(void **pp, size_t *cap, size_t need, size_t elem);

/* Fail early with a record; evaluates to return. */
#define SVY_FAIL_IF(cond, err, code, ...)                                  \
    do {                                                                   \
        if (cond)                                                          \
            return svy_err_set((err), (code), NULL, 0, 0, NULL, __VA_ARGS__); \
    } while (0)

/* Written by svy_outfile_abort() after whatever part of a stream reached
 * standard output (or a FIFO), so the next tool in a pipeline fails instead
 * of taking the prefix for the whole: 0xFF never occurs in UTF-8, and the
 * CSV reader checks every line for it, quoted or not, projected or not. */
#define SVY_ABORT_MARK "\xFF" "svy-abort: the program writing this stream failed; the data are incomplete"

/* Temp dir for spools and atomic outputs. */
const char *svy_tmpdir(void);

/* UTF-8: 1 when the bytes are valid UTF-8; on failure *bad is the offset of
 * the first bad byte. */
int svy_utf8_valid(const char *s, size_t len, size_t *bad);

/* A new schema with copies of the variables idx[0..n-1] of s (schema.c). */
struct svy_schema;
struct svy_schema *svy_schema_project(const struct svy_schema *s, const long *idx, size_t n);

#endif
