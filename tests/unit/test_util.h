/* Scaffolding shared by the unit tests: reference tables written by the R
 * scripts in tests/ref/, and scratch folders.  Header-only, because each
 * unit test is its own executable and uses a different part of it. */
#ifndef SVY_TEST_UTIL_H
#define SVY_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SVY_SRCDIR
#define SVY_SRCDIR "."
#endif

/* ---- reference tables: enough CSV for R's write.csv output -------------- */

typedef struct svy_test_table {
    size_t ncol, nrow;
    char **head;
    char ***cell; /* nrow x ncol */
} svy_test_table;

static inline char *svy_test_strdup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    cr_assert(d, "out of memory");
    strcpy(d, s);
    return d;
}

/* Splits line in place at commas, undoing R's quoting; at most max fields
 * are stored, the count is of all fields. */
static inline size_t svy_test_split_csv(char *line, char **out, size_t max)
{
    size_t n = 0;
    char *p = line, *w = line;
    for (;;) {
        if (n < max)
            out[n] = w;
        n++;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else if (!*p)
                    break;
                else
                    *w++ = *p++;
            }
        }
        while (*p && *p != ',' && *p != '\n' && *p != '\r')
            *w++ = *p++;
        if (*p != ',') {
            *w = '\0';
            break;
        }
        *w++ = '\0';
        p++;
        w = p;
    }
    return n;
}

/* The table at rel (from the source root); origin names what writes it, for
 * the message when it is missing. */
static inline svy_test_table svy_test_table_load(const char *rel, const char *origin)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SVY_SRCDIR, rel);
    FILE *f = fopen(path, "r");
    cr_assert(f, "cannot open %s: %s writes it", path, origin);
    svy_test_table t = {0};
    char *line = NULL;
    size_t cap = 0;
    char *fields[256];
    while (getline(&line, &cap, f) > 0) {
        size_t n = svy_test_split_csv(line, fields, 256);
        cr_assert(n <= 256, "%s: more than 256 fields", rel);
        if (!t.head) {
            t.ncol = n;
            t.head = calloc(n, sizeof *t.head);
            cr_assert(t.head, "out of memory");
            for (size_t i = 0; i < n; i++)
                t.head[i] = svy_test_strdup(fields[i]);
            continue;
        }
        cr_assert_eq(n, t.ncol, "%s: row %zu has %zu fields, header %zu", rel, t.nrow + 1, n, t.ncol);
        t.cell = realloc(t.cell, (t.nrow + 1) * sizeof *t.cell);
        cr_assert(t.cell, "out of memory");
        t.cell[t.nrow] = calloc(n, sizeof **t.cell);
        cr_assert(t.cell[t.nrow], "out of memory");
        for (size_t i = 0; i < n; i++)
            t.cell[t.nrow][i] = svy_test_strdup(fields[i]);
        t.nrow++;
    }
    free(line);
    fclose(f);
    return t;
}

static inline void svy_test_table_free(svy_test_table *t)
{
    for (size_t r = 0; r < t->nrow; r++) {
        for (size_t c = 0; c < t->ncol; c++)
            free(t->cell[r][c]);
        free(t->cell[r]);
    }
    for (size_t c = 0; c < t->ncol; c++)
        free(t->head[c]);
    free(t->cell);
    free(t->head);
}

/* Index of the column; a missing column fails the test. */
static inline size_t svy_test_col(const svy_test_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncol; i++)
        if (strcmp(t->head[i], name) == 0)
            return i;
    cr_assert_fail("no column %s", name);
    return 0;
}

/* Index of the column, or -1 when the table has none. */
static inline long svy_test_col_opt(const svy_test_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncol; i++)
        if (strcmp(t->head[i], name) == 0)
            return (long)i;
    return -1;
}

/* ---- scratch folders ---------------------------------------------------- */

/* Makes a fresh folder from template (ending in XXXXXX) into dir. */
static inline void svy_test_scratch_new(char *dir, size_t size, const char *template)
{
    snprintf(dir, size, "%s", template);
    cr_assert(mkdtemp(dir), "mkdtemp");
}

static inline void svy_test_write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot create %s", path);
    fputs(text, f);
    fclose(f);
}

static inline void svy_test_scratch_remove(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

#endif
