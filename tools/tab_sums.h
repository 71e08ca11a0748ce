/* svy-tab's sums options (--partial, --from-sums, --sql, --table): see
 * survey/sums.h and tools/tab_sums.c. */
#ifndef TAB_SUMS_H
#define TAB_SUMS_H

#include <survey/subpop.h>
#include <survey/survey.h>

enum { OPT_SUMS_FROM = 600, OPT_SUMS_PARTIAL, OPT_SUMS_SQL, OPT_SUMS_TABLE };
#define TAB_SUMS_LONG                                                                                           \
    {"from-sums", no_argument, NULL, OPT_SUMS_FROM}, {"partial", no_argument, NULL, OPT_SUMS_PARTIAL},          \
        {"sql", required_argument, NULL, OPT_SUMS_SQL}, {"table", required_argument, NULL, OPT_SUMS_TABLE}

typedef struct tab_sums {
    int partial, from_sums;
    const char *sql, *table;
    svy_sql_dialect dialect;
    svy_sums *acc;          /* --partial: the sums of the rows read */
    long c_rows, c_dom;     /* --from-sums: the columns _rows and _dom of the first file */
    long long min_cell;     /* the smallest count of rows of a domain line */
    size_t ncols;
    char **cols;            /* --from-sums: the first file's column names */
} tab_sums;

/* 1 when c is one of the options (then parsed into s). */
int tab_sums_option(tab_sums *s, int c, const char *arg);
/* Usage errors of the flags; est made with them (and the levels of its
 * shares, from the codebook cb); weight_unsure: a
 * codebook and no -w (the input's final weight would be preferred). */
void tab_sums_check(tab_sums *s, svy_est *est, int ninputs, const svy_codebook *cb, int weight_unsure);
/* --sql: the query to output (an exit code).  values[i]: outcome i's
 * COL=VALUE, columns[i] its column; sub: --subpop (NULL: none), bound
 * here as a CSV run would bind it (labels from the codebook). */
int tab_sums_sql(tab_sums *s, svy_est *est, const svy_codebook *cb, const char *const *columns,
                 const char *const *values, svy_subpop *sub, const char *output);
/* After the schema is bound: --partial's accumulator; --from-sums: the
 * columns of the first file, the same in every later one. */
svy_status tab_sums_schema(tab_sums *s, svy_est *est, const svy_schema *schema, int first, svy_err *err);
/* --from-sums, once per pass: the first file (open in r, its schema to h)
 * and every later one (inputs[1..n-1], opened again) through h's row
 * callback with ctx. */
svy_status tab_sums_read_all(tab_sums *s, svy_est *est, svy_reader *r, const svy_handler *h, void *ctx,
                             char *const *inputs, int n, svy_err *err);
/* --from-sums: the outcome columns a and b (NULL: none) in the sums
 * file's schema, where the codebook's labels find them (no values). */
svy_status tab_sums_add_var(svy_schema *schema, const char *a, const char *b, svy_err *err);
/* A row (--partial) or a line (--from-sums). */
svy_status tab_sums_row(tab_sums *s, svy_est *est, const svy_row *row, svy_err *err);
/* --partial: write the sums (an exit code); --from-sums: say what the
 * sums show of the smallest cell (unless quiet). */
int tab_sums_partial_write(tab_sums *s, const char *output, int quiet, svy_err *err);
void tab_sums_say(const tab_sums *s, int quiet);
void tab_sums_free(tab_sums *s);

#endif
