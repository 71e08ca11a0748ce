/* svy-tab --partial, --from-sums, --sql and --table: the estimates' sums
 * written from rows, read back from files, or computed by a database
 * (libsurvey/sums_*.c; the format in survey/sums.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <survey/subpop.h>

#include "tab_sums.h"
#include "tool.h"

int tab_sums_option(tab_sums *s, int c, const char *arg)
{
    switch (c) {
    case OPT_SUMS_FROM:
        s->from_sums = 1;
        return 1;
    case OPT_SUMS_PARTIAL:
        s->partial = 1;
        return 1;
    case OPT_SUMS_SQL:
        if (!svy_sql_dialect_parse(arg, &s->dialect))
            svy_tool_usage_error("--sql: unknown dialect '%s' (sqlite, postgres, clickhouse, spark)", arg);
        s->sql = arg;
        return 1;
    case OPT_SUMS_TABLE:
        s->table = arg;
        return 1;
    }
    return 0;
}

void tab_sums_check(tab_sums *s, svy_est *est, int ninputs, const svy_codebook *cb, int weight_unsure)
{
    if (s->partial + s->from_sums + (s->sql != NULL) > 1)
        svy_tool_usage_error("--partial, --from-sums and --sql are three different runs: give one");
    if (s->table && !s->sql)
        svy_tool_usage_error("--table names the table of --sql");
    if (s->sql && !s->table)
        svy_tool_usage_error("--sql %s needs --table NAME", s->sql);
    if (s->sql && weight_unsure)
        svy_tool_usage_error("--sql with a codebook: give -w (a file run prefers a final weight the input holds, "
                             "which the query cannot see)");
    if (s->sql && ninputs > 0)
        svy_tool_usage_error("--sql reads no input: it prints the query (run it, then svy-tab --from-sums)");
    if (!s->partial && !s->from_sums && !s->sql) {
        if (ninputs > 1)
            svy_tool_usage_error("one input at most, got %d (several sums files: --from-sums)", ninputs);
        return;
    }
    if (s->partial && ninputs > 1)
        svy_tool_usage_error("--partial reads one shard: run it once per shard, then --from-sums on all the outputs");
    svy_err err;
    svy_err_clear(&err);
    if (svy_sums_share_codes(est, cb, &err) != SVY_OK || svy_sums_check(est, &err) != SVY_OK)
        svy_tool_usage_error("%s", err.msg);
    if (s->from_sums && svy_est_set_from_sums(est, &err) != SVY_OK)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
}

static svy_status sql_write(FILE *f, const char *name, void *ctx, svy_err *err)
{
    (void)name;
    void **a = ctx;
    const tab_sums *s = a[0];
    return svy_sums_sql(a[1], s->dialect, s->table, a[2], f, err);
}

/* --subpop against the columns it names, untyped as a CSV's are: the
 * query compares a code as a number and other text as text, as a file run
 * does, and the same labels and errors. */
static void sql_subpop(svy_subpop *sub, const svy_codebook *cb)
{
    svy_err err;
    svy_err_clear(&err);
    svy_schema *sc = svy_schema_new();
    if (!sc)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    for (size_t i = 0; i < svy_subpop_ncolumns(sub); i++)
        if (!svy_schema_add(sc, svy_subpop_column(sub, i), SVY_VAR_UNTYPED, &err))
            svy_tool_die(SVY_EXIT_IO, "out of memory");
    svy_status st = svy_subpop_bind(sub, sc, cb, &err);
    svy_schema_free(sc);
    if (st != SVY_OK)
        svy_tool_usage_error("%s", err.msg);
}

int tab_sums_sql(tab_sums *s, svy_est *est, const svy_codebook *cb, const char *const *columns,
                 const char *const *values, svy_subpop *sub, const char *output)
{
    if (sub)
        sql_subpop(sub, cb);
    size_t n = 0;
    while (columns[n])
        n++;
    svy_sql_level *lv = calloc(n + 1, sizeof *lv);
    if (!lv)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!values[i])
            continue;
        long ci = cb ? svy_codebook_find(cb, columns[i]) : -1;
        const svy_cb_var *cbv = ci >= 0 ? svy_codebook_var(cb, (size_t)ci) : NULL;
        double code;
        char *known = NULL;
        svy_level_match m = svy_level_resolve(NULL, cbv, values[i], &code, &known);
        if (m == SVY_LEVEL_NONE)
            svy_tool_usage_error("--rate %s=%s: '%s' is neither a code nor a label of %s; %s has %s", columns[i],
                                 values[i], values[i], columns[i], columns[i], known ? known : "no labelled codes");
        free(known);
        if (m == SVY_LEVEL_CODE || svy_parse_number(values[i], (size_t)-1, &code))
            lv[i] = (svy_sql_level){1, code};
    }
    svy_err err;
    svy_err_clear(&err);
    void *ctx[3] = {s, est, lv};
    int rc = svy_tool_write_result(output, sql_write, ctx, &err);
    free(lv);
    return rc;
}

svy_status tab_sums_schema(tab_sums *s, svy_est *est, const svy_schema *schema, int first, svy_err *err)
{
    if (s->partial) {
        s->acc = svy_sums_new(est, err);
        return s->acc ? SVY_OK : err->code;
    }
    if (!s->from_sums)
        return SVY_OK;
    size_t n = svy_schema_nvars(schema);
    if (first) {
        s->cols = calloc(n + 1, sizeof *s->cols);
        if (!s->cols)
            return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        for (size_t i = 0; i < n; i++)
            if (!(s->cols[i] = strdup(svy_var_name(svy_schema_var(schema, i)))))
                return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        s->ncols = n;
        s->c_rows = svy_schema_find(schema, "_rows");
        s->c_dom = svy_schema_find(schema, "_dom");
        return SVY_OK;
    }
    int same = n == s->ncols;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(s->cols[i], svy_var_name(svy_schema_var(schema, i))) == 0;
    return same ? SVY_OK
                : svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL,
                              "its columns are not those of the first sums file (the same flags make the same columns)");
}

svy_status tab_sums_add_var(svy_schema *schema, const char *a, const char *b, svy_err *err)
{
    const char *names[2] = {a, b};
    for (int i = 0; i < 2; i++)
        if (names[i] && svy_schema_find(schema, names[i]) < 0 && !svy_schema_add(schema, names[i], SVY_VAR_NUMERIC, err))
            return err->code ? err->code : SVY_E_NOMEM;
    return SVY_OK;
}

svy_status tab_sums_row(tab_sums *s, svy_est *est, const svy_row *row, svy_err *err)
{
    if (s->partial)
        return svy_sums_push(s->acc, row, err);
    svy_status st = svy_est_push_sums(est, row, err);
    double r, d;
    if (st == SVY_OK && s->c_rows >= 0 && s->c_dom >= 0 && svy_value_number(&row->vals[s->c_rows], &r) &&
        svy_value_number(&row->vals[s->c_dom], &d) && d == 1 && r > 0 && (s->min_cell == 0 || r < (double)s->min_cell))
        s->min_cell = (long long)r;
    return st;
}

/* The later sums files: their columns checked, their lines to the tool. */
typedef struct later {
    tab_sums *s;
    svy_est *est;
    const svy_handler *h;
    void *ctx;
} later;

static svy_status later_schema(void *c, const svy_schema *schema, svy_err *err)
{
    later *L = c;
    return tab_sums_schema(L->s, L->est, schema, 0, err);
}

static svy_status later_row(void *c, const svy_row *row, svy_err *err)
{
    later *L = c;
    return L->h->row(L->ctx, row, err);
}

svy_status tab_sums_read_all(tab_sums *s, svy_est *est, svy_reader *r, const svy_handler *h, void *ctx,
                             char *const *inputs, int n, svy_err *err)
{
    svy_status st = svy_reader_run(r, h, ctx, err);
    later L = {s, est, h, ctx};
    svy_handler lh = {later_schema, later_row};
    for (int i = 1; st == SVY_OK && i < n; i++) {
        if (strcmp(inputs[i], "-") == 0)
            svy_tool_usage_error("--from-sums: standard input (-) may only be the first file");
        svy_reader *lr = svy_reader_new();
        if (!lr)
            svy_tool_die(SVY_EXIT_IO, "out of memory");
        svy_est_set_reader(est, lr);
        if ((st = svy_reader_open(lr, inputs[i], err)) == SVY_OK)
            st = svy_reader_run(lr, &lh, &L, err);
        if (st != SVY_OK && !err->file[0])
            snprintf(err->file, sizeof err->file, "%s", inputs[i]);
        svy_est_set_reader(est, r);
        svy_reader_free(lr);
    }
    return st;
}

static svy_status partial_write(FILE *f, const char *name, void *ctx, svy_err *err)
{
    (void)name;
    tab_sums *s = ctx;
    return svy_sums_write(s->acc, f, &s->min_cell, err);
}

int tab_sums_partial_write(tab_sums *s, const char *output, int quiet, svy_err *err)
{
    int rc = svy_tool_write_result(output, partial_write, s, err);
    if (rc == SVY_EXIT_OK)
        tab_sums_say(s, quiet);
    return rc;
}

void tab_sums_say(const tab_sums *s, int quiet)
{
    if (quiet || !s->min_cell)
        return;
    svy_tool_warn("note: the sums hold only aggregates; their smallest cell (a domain within a PSU) has %lld row%s%s",
                  s->min_cell, s->min_cell == 1 ? "" : "s",
                  s->min_cell < 10 ? ": check your disclosure rules (e.g. cells of 10 rows or more) before they leave" : "");
}

void tab_sums_free(tab_sums *s)
{
    svy_sums_free(s->acc);
    for (size_t i = 0; s->cols && i < s->ncols; i++)
        free(s->cols[i]);
    free(s->cols);
}
