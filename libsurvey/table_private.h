/* The grid of text cells a table is built as (table.c), its method text
 * (table_method.c) and its output modules (table_write.c).  Not installed. */
#ifndef SVY_TABLE_PRIVATE_H
#define SVY_TABLE_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error table_private.h is only for building libsurvey and its unit tests.
#endif

#include <stdio.h>
#include <survey/estimate.h>
#include <survey/table.h>

typedef enum { C_STR, C_NUM, C_MISSING } ckind;

typedef struct tcell {
    char *text;
    ckind kind;
} tcell;

typedef struct grid {
    size_t ncol, nrow; /* rows exclude the header */
    char **head;
    tcell *cells;      /* nrow x ncol */
    size_t cap;
    int *right;        /* align right (numbers) */
    char *footer;
    int failed;
} grid;

/* A formatted string, owned by the caller; NULL with g->failed set when
 * out of memory. */
char *svy_grid_printf(grid *g, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* table_method.c: the design and method paragraph (NULL, g->failed set, when
 * out of memory). */
char *svy_table_method(grid *g, const svy_est *e, const svy_table_opts *o, int percent, int report);
/* The label of by value `text` of column `column` (with --labels), else text. */
const char *svy_table_label_of(const svy_table_opts *o, const char *column, const char *text);

/* table_write.c: write the grid in o->format; 0, or an errno (ENOMEM, or a
 * failure the stream's error flag does not show). */
int svy_table_emit(FILE *f, const grid *g, const svy_table_opts *o);

/* table.c: write the grid (unless building it ran out of memory), free it,
 * and report as svy_table_write does: out of memory, or a write error on name. */
svy_status svy_table_finish(FILE *f, grid *g, const svy_table_opts *o, const char *name, svy_err *err);

#endif
