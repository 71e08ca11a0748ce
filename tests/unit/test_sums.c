/* Sums files (libsurvey/sums_*.c, survey/sums.h): partial sums of shards
 * read back equal the estimates from the rows, values near 1e9 with a
 * spread of 1 included, and with replicate weights (their df from the
 * Gram's rank); the identity follows the flags; fields. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/survey.h>
#include <unistd.h>

static const char *srcdir(void)
{
    const char *s = getenv("SVY_SRCDIR");
    return s ? s : SVY_SRCDIR;
}

typedef struct run {
    svy_est *e;
    svy_sums *acc;  /* partial: rows into sums */
    int from;       /* lines of sums */
    long long from_row, to_row; /* partial: the rows of this shard [from_row, to_row) */
    long long n;
} run;

static svy_status on_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    run *R = ctx;
    svy_status st = svy_est_bind(R->e, schema, err);
    if (st == SVY_OK && !R->from && R->to_row > 0 && !(R->acc = svy_sums_new(R->e, err)))
        return err->code;
    return st;
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    run *R = ctx;
    long long i = R->n++;
    if (R->from)
        return svy_est_push_sums(R->e, row, err);
    if (R->acc)
        return i % 2 == R->from_row ? svy_sums_push(R->acc, row, err) : SVY_OK; /* every other row: PSUs split */
    return svy_est_push(R->e, row, err);
}

/* An estimator of the flags: by dom, rate b, mean y7 y9, total yd, ratio
 * b/y7; design 0: strata and PSUs, 1: with the fpc, 2: strata, rows as units. */
static svy_est *make(int psu_fpc, svy_err *err)
{
    static const char *strata[] = {"h"}, *psu[] = {"psu"}, *fpc[] = {"fpc1"}, *by[] = {"dom"};
    svy_design d;
    svy_design_init(&d);
    d.strata = strata;
    d.nstrata = 1;
    d.psu = psu;
    d.npsu = psu_fpc < 2;
    d.weight = "w";
    if (psu_fpc == 1) {
        d.fpc = fpc;
        d.nfpc = 1;
    }
    d.overall = 1;
    svy_est *e = svy_est_new(&d, by, 1, err);
    cr_assert(e);
    cr_assert(!svy_est_add_outcome(e, SVY_STAT_RATE, "b", NULL, err));
    cr_assert(!svy_est_add_outcome(e, SVY_STAT_MEAN, "y7", NULL, err));
    cr_assert(!svy_est_add_outcome(e, SVY_STAT_MEAN, "y9", NULL, err));
    cr_assert(!svy_est_add_outcome(e, SVY_STAT_TOTAL, "yd", NULL, err));
    /* not y9/y7: a ratio sums raw values (estimate_ratio.c), so its linearized
     * totals cancel to the spread (1) of values near 1e9 in either path (yd/y7
     * too: yd is nearly a multiple of y7) */
    cr_assert(!svy_est_add_ratio(e, "b", "y7", err));
    return e;
}

/* R's JK1 replicates of apiclus1 (rw1..rw15): by stype, the overall row,
 * a rate, a mean, a total and a ratio; df: the domain's rank (df 0) or the
 * whole design's (1). */
static svy_est *make_rep(int df_full, svy_err *err)
{
    static const char *by[] = {"stype"}, *cols[] = {"rw*"};
    svy_design d;
    svy_design_init(&d);
    d.weight = "pw";
    d.overall = 1;
    if (df_full)
        d.df_rule = SVY_DF_FULL;
    svy_est *e = svy_est_new(&d, by, 1, err);
    cr_assert(e);
    svy_repdesign r;
    svy_repdesign_init(&r);
    r.cols = cols;
    r.ncols = 1;
    cr_assert(!svy_est_add_outcome(e, SVY_STAT_RATE, "sch_wide", NULL, err));
    cr_assert(!svy_est_add_outcome(e, SVY_STAT_MEAN, "api00", NULL, err));
    cr_assert(!svy_est_add_outcome(e, SVY_STAT_TOTAL, "enroll", NULL, err));
    cr_assert(!svy_est_add_ratio(e, "api00", "enroll", err));
    cr_assert(!svy_est_set_replicates(e, &r, err), "%s", err->msg);
    return e;
}

static void read_into(run *R, const char *path)
{
    svy_err err;
    svy_err_clear(&err);
    svy_reader *r = svy_reader_new();
    svy_handler h = {on_schema, on_row};
    cr_assert(!svy_reader_open(r, path, &err), "%s", err.msg);
    cr_assert(!svy_reader_run(r, &h, R, &err), "%s", err.msg);
    svy_reader_free(r);
}

static int close12(double a, double b)
{
    return a == b || (isnan(a) && isnan(b)) || fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b));
}

/* Designs 0-2: make(); 3, 4: make_rep() with either df rule. */
static svy_est *make_any(int k, svy_err *err)
{
    return k < 3 ? make(k, err) : make_rep(k - 3, err);
}

Test(sums, shards_of_rows_give_the_estimates_of_the_rows)
{
    char data[1024], sums[2][64];
    svy_err err;
    svy_err_clear(&err);
    for (int fpc = 0; fpc < 5; fpc++) {
        snprintf(data, sizeof data, "%s/tests/data/%s", srcdir(), fpc < 3 ? "exact.csv" : "rep-clus1-jk1.csv");
        run rows = {.e = make_any(fpc, &err)};
        read_into(&rows, data);
        cr_assert(!svy_est_finish(rows.e, &err), "%s", err.msg);
        for (int k = 0; k < 2; k++) {
            run part = {.e = make_any(fpc, &err), .from_row = k, .to_row = 1};
            read_into(&part, data);
            snprintf(sums[k], sizeof sums[k], "/tmp/svy-test-sums-%d-%d.csv", (int)getpid(), k);
            FILE *f = fopen(sums[k], "w");
            long long cell;
            cr_assert(!svy_sums_write(part.acc, f, &cell, &err), "%s", err.msg);
            cr_assert(cell > 0);
            fclose(f);
            svy_sums_free(part.acc);
            svy_est_free(part.e);
        }
        run back = {.e = make_any(fpc, &err), .from = 1};
        cr_assert(!svy_est_set_from_sums(back.e, &err));
        read_into(&back, sums[0]);
        /* the second file: its lines, bound to the first's schema (same columns) */
        svy_reader *r = svy_reader_new();
        svy_handler h = {NULL, on_row};
        cr_assert(!svy_reader_open(r, sums[1], &err));
        cr_assert(!svy_reader_run(r, &h, &back, &err), "%s", err.msg);
        svy_reader_free(r);
        cr_assert(!svy_est_finish(back.e, &err), "%s", err.msg);
        cr_assert_eq(svy_est_count(back.e), svy_est_count(rows.e));
        cr_assert_gt(svy_est_count(rows.e), 0);
        for (size_t i = 0; i < svy_est_count(rows.e); i++) {
            const svy_est_result *a = svy_est_get(rows.e, i), *b = svy_est_get(back.e, i);
            cr_assert_str_eq(a->variable, b->variable);
            cr_assert(close12(a->estimate, b->estimate), "%s: %.17g vs %.17g", a->variable, a->estimate, b->estimate);
            cr_assert(close12(a->se, b->se), "%s se: %.17g vs %.17g", a->variable, a->se, b->se);
            cr_assert(close12(a->deff, b->deff), "%s deff: %.17g vs %.17g", a->variable, a->deff, b->deff);
            cr_assert(close12(a->df, b->df), "%s df: %g vs %g", a->variable, a->df, b->df);
            cr_assert(fpc < 3 || (a->df >= 1 && a->df <= 14)); /* a rank, not a fallback */
            cr_assert_eq(a->n, b->n);
            cr_assert_eq(a->domain_rows, b->domain_rows);
        }
        remove(sums[0]);
        remove(sums[1]);
        svy_est_free(rows.e);
        svy_est_free(back.e);
    }
}

Test(sums, identity_follows_the_flags)
{
    svy_err err;
    svy_err_clear(&err);
    svy_est *a = make(0, &err), *b = make(0, &err), *c = make(1, &err);
    char ia[SVY_SUMS_IDENT_MAX], ib[SVY_SUMS_IDENT_MAX], ic[SVY_SUMS_IDENT_MAX];
    svy_sums_identity(a, ia);
    svy_sums_identity(b, ib);
    svy_sums_identity(c, ic);
    cr_assert_str_eq(ia, ib);
    cr_assert_str_neq(ia, ic);
    cr_assert_eq(strncmp(ia, "svysums1:", 9), 0);
    cr_assert_eq(strlen(ia), 9 + 16);
    svy_est_free(a);
    svy_est_free(b);
    svy_est_free(c);
}

Test(sums, fields_and_what_sums_cannot_give)
{
    cr_assert_eq(svy_sums_nfields(SVY_STAT_RATE, 0), 5);
    cr_assert_str_eq(svy_sums_field(SVY_STAT_TOTAL, 0, 3), "t");
    cr_assert_null(svy_sums_field(SVY_STAT_MEAN, 0, 6));
    cr_assert_str_eq(svy_sums_field(SVY_STAT_MEAN, 1, 8), "daa");
    cr_assert_eq(svy_sums_nfields(SVY_STAT_QUANTILE, 0), 0);
    svy_err err;
    svy_err_clear(&err);
    svy_est *e = make(0, &err);
    cr_assert(!svy_est_add_quantile(e, "y7", 0.5, &err));
    cr_assert_eq(svy_sums_check(e, &err), SVY_E_USAGE);
    cr_assert(strstr(err.msg, "quantiles cannot come from sums"));
    svy_est_free(e);
    svy_sql_dialect d;
    cr_assert(svy_sql_dialect_parse("clickhouse", &d) && d == SVY_SQL_CLICKHOUSE);
    cr_assert(!svy_sql_dialect_parse("mysql", &d));
}
