/* svy-plot's chart of differences: the rows svy-tab --diff writes
 * (statistic "difference", a reference level), kept until the end so that
 * the by column holding the compared levels is known, then labelled
 * "level − reference". */
#ifndef SVY_PLOT_DIFF_H
#define SVY_PLOT_DIFF_H

#include <stddef.h>
#include <survey/survey.h>

typedef struct plot_drow {
    char *x, *color, *facet, *ref; /* cells as read (NULL: not mapped) */
    char **by;                     /* the by columns' cells */
    double est, lo, hi;
    int flagged;
    long long row;
} plot_drow;

typedef struct plot_diff {
    int on;
    long iref;               /* the reference column */
    size_t nby;              /* by columns: those before 'variable' */
    unsigned char *has_ref;  /* per by column: a difference row has its reference there */
    plot_drow *rows;
    size_t n, cap;
    long long estimates;     /* rows that are not differences, left out */
    struct plot_dvals {      /* per by column: its distinct cells in those rows */
        char **v;
        size_t n, cap;
    } *seen;
} plot_diff;

/* Whether the table holds svy-tab's differences (a reference column) and
 * the chart shows them: not when a --filter on statistic asks for another. */
void plot_diff_detect(plot_diff *d, const svy_schema *s, long ivar, const char *stat_filter);
/* A row that is not a difference (no reference): noted (its by cells tell
 * which column the differences compare), not drawn: 1; a difference: 0;
 * -1 out of memory. */
int plot_diff_skip(plot_diff *d, const svy_row *row);
/* A difference kept for the end: 1, or -1 out of memory. */
int plot_diff_keep(plot_diff *d, const svy_row *row, long ix, long icolor, long ifacet, double est, double lo,
                   double hi, int flagged);
/* The by column of the compared levels: one that never holds a difference
 * row's reference but (when the table has its estimates too, as svy-tab
 * writes it) holds every reference among the estimates' rows; among
 * several, the one mapped to x, colour or facet, else the last; -1 none. */
long plot_diff_column(const plot_diff *d, long ix, long icolor, long ifacet);
/* "level − reference" (caller frees); NULL when out of memory. */
char *plot_diff_label(const char *level, const char *ref);
void plot_diff_free(plot_diff *d);

#endif
