/* The queue of rows in any order (estimate_queue.c): rows whose unit
 * changes from row to row wait in buckets and are summed into their records
 * at a flush, on CPUs with AVX2 four doubles at a time.  Whichever way a
 * row is summed (queued with AVX2, queued without, or at once), every rate
 * must have the same bits: the same numbers are added to the same doubles
 * in the same order.  The rows here have what the fast paths must not get
 * wrong: 1 to 16 outcomes (the AVX2 sums take four at a time and 1 to 3 at
 * the end), missing outcomes, weights of 0 and -0, domains past a unit's
 * slot, the overall domain, strata. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <survey/estimate.h>
#include <survey/schema.h>

#include "estimate_private.h"

enum { ROWS = 30000, YS = 16 };

typedef struct qcase {
    size_t nout;   /* rates y1..y<nout> */
    int missing;   /* some outcomes missing */
    int zero;      /* some weights 0 or -0 */
    int overall;   /* the overall domain too */
    size_t na;     /* levels of by variable a: 20 gives a unit more domains than its slot holds */
    int psu;       /* PSUs (else rows are the units, in strata) */
    int mixed;     /* rows in any order, then grouped by PSU, then in any order again */
} qcase;

/* Row r's cells: stratum, PSU (PSUs interleaved: 300 of them), weight,
 * by values and outcomes; text[] points into buf. */
static void row_text(const qcase *c, size_t r, char buf[][24], const char **text)
{
    uint64_t x = (uint64_t)(r + 1) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 31;
    size_t psu = c->mixed && r >= ROWS / 3 && r < 2 * ROWS / 3 ? r / 100 % 300 : r % 300;
    sprintf(buf[0], "%zu", psu % 10); /* strata interleaved too: rows as units are queued */
    sprintf(buf[1], "%zu", psu);
    if (c->zero && x % 17 == 0)
        sprintf(buf[2], "%s", x % 2 ? "0" : "-0");
    else
        sprintf(buf[2], "%zu.%02zu", 1 + (size_t)(x >> 8) % 900, (size_t)(x >> 20) % 100);
    sprintf(buf[3], "%zu", (size_t)(x >> 27) % c->na);
    sprintf(buf[4], "%zu", (size_t)(x >> 35) % 2);
    for (size_t o = 0; o < YS; o++) {
        uint64_t b = x >> (40 + o % 20) ^ (uint64_t)o * 0x51;
        if (c->missing && (b * 2654435761u >> 7) % 23 == 0)
            buf[5 + o][0] = 0;
        else
            sprintf(buf[5 + o], "%d", (int)(b & 1));
    }
    if (c->mixed && psu != r % 300 && c->zero && x % 17 == 0)
        buf[5][0] = 0; /* grouped rows of weight 0 miss y1, summed at once right after queued rows */
    for (size_t k = 0; k < 5 + YS; k++)
        text[k] = buf[k];
}

/* The case's table; queued: rates only (rows in any order are queued),
 * else a mean of w as well (every row summed at once). */
static svy_est *run(const qcase *c, int queued, svy_schema **sp)
{
    static const char *const by[] = {"a", "b"}, *const st_col[] = {"st"}, *const psu_col[] = {"psu"};
    static const char *const cols[5 + YS] = {"st", "psu", "w", "a", "b", "y1", "y2", "y3", "y4", "y5", "y6",
                                             "y7", "y8", "y9", "y10", "y11", "y12", "y13", "y14", "y15", "y16"};
    svy_err err;
    svy_design d;
    svy_design_init(&d);
    d.strata = st_col;
    d.nstrata = 1;
    if (c->psu) {
        d.psu = psu_col;
        d.npsu = 1;
    }
    d.weight = "w";
    d.overall = c->overall;
    svy_schema *s = svy_schema_new();
    for (size_t i = 0; i < 5 + YS; i++)
        cr_assert(svy_schema_add(s, cols[i], SVY_VAR_UNTYPED, &err));
    svy_est *e = svy_est_new(&d, by, 2, &err);
    cr_assert(e);
    for (size_t o = 0; o < c->nout; o++)
        cr_assert_eq(svy_est_add_outcome(e, SVY_STAT_RATE, cols[5 + o], NULL, &err), SVY_OK);
    if (!queued)
        cr_assert_eq(svy_est_add_outcome(e, SVY_STAT_MEAN, "w", NULL, &err), SVY_OK);
    cr_assert_eq(svy_est_bind(e, s, &err), SVY_OK, "%s", err.msg);
    char buf[5 + YS][24];
    const char *text[5 + YS];
    svy_value v[5 + YS];
    for (size_t r = 0; r < ROWS; r++) {
        row_text(c, r, buf, text);
        for (size_t k = 0; k < 5 + YS; k++) {
            v[k] = (svy_value){.type = SVY_VAL_STR, .str = text[k], .len = strlen(text[k])};
            if (!v[k].len)
                v[k].missing = SVY_MISS_SYSTEM;
        }
        svy_row row = {.index = (long long)r + 1, .nvals = 5 + YS, .vals = v};
        cr_assert_eq(svy_est_push(e, &row, &err), SVY_OK, "row %zu: %s", r + 1, err.msg);
    }
    cr_assert_eq(svy_est_finish(e, &err), SVY_OK, "%s", err.msg);
    *sp = s;
    return e;
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Every rate of x is in y with the same bits. */
static void same_rates(const svy_est *x, const svy_est *y, const char *what, const qcase *c)
{
    size_t n = svy_est_count(x), m = svy_est_count(y), checked = 0;
    for (size_t i = 0; i < n; i++) {
        const svy_est_result *p = svy_est_get(x, i);
        for (size_t j = 0; j < m; j++) {
            const svy_est_result *q = svy_est_get(y, j);
            if (q->domain != p->domain || q->stat != SVY_STAT_RATE || strcmp(q->variable, p->variable) != 0)
                continue;
            cr_assert(p->n == q->n && same_bits(p->weighted_n, q->weighted_n) && same_bits(p->estimate, q->estimate) &&
                          same_bits(p->se, q->se) && same_bits(p->deff, q->deff),
                      "%s, %zu outcomes (missing %d, zero weights %d, overall %d, %zu levels, psu %d): %s in domain "
                      "%zu: %.17g (%.17g) against %.17g (%.17g)",
                      what, c->nout, c->missing, c->zero, c->overall, c->na, c->psu, p->variable, p->domain,
                      p->estimate, p->se, q->estimate, q->se);
            checked++;
        }
    }
    cr_assert_eq(checked, n, "%s: every rate found in both (%zu of %zu)", what, checked, n);
}

static void check_case(const qcase *c)
{
    svy_schema *s1, *s2, *s3;
    svy_est *fast = run(c, 1, &s1);
    svy_est_queue_scalar_only = 1;
    svy_est *scalar = run(c, 1, &s2);
    svy_est_queue_scalar_only = 0;
    svy_est *at_once = run(c, 0, &s3);
    cr_assert_gt(svy_est_count(fast), 0);
    same_rates(fast, scalar, "queued, AVX2 against scalar", c);
    same_rates(fast, at_once, "queued against at once", c);
    svy_est_free(fast);
    svy_est_free(scalar);
    svy_est_free(at_once);
    svy_schema_free(s1);
    svy_schema_free(s2);
    svy_schema_free(s3);
}

Test(estimate_queue, every_number_of_outcomes_gives_the_same_bits_queued_or_not)
{
    for (size_t nout = 1; nout <= YS; nout++)
        check_case(&(qcase){nout, 0, 0, 0, 3, 1, 0});
}

Test(estimate_queue, missing_outcomes_and_zero_weights_give_the_same_bits)
{
    static const size_t nouts[] = {1, 2, 3, 4, 5, 6, 7, 11, 16};
    for (size_t i = 0; i < sizeof nouts / sizeof *nouts; i++) {
        check_case(&(qcase){nouts[i], 1, 0, 0, 3, 1, 0});
        check_case(&(qcase){nouts[i], 0, 1, 0, 3, 1, 0});
        check_case(&(qcase){nouts[i], 1, 1, 1, 3, 1, 0});
    }
}

Test(estimate_queue, many_domains_a_unit_strata_and_the_overall_domain_give_the_same_bits)
{
    check_case(&(qcase){6, 1, 1, 1, 20, 1, 0}); /* 40 domains a unit: past its slot of USLOT */
    check_case(&(qcase){5, 1, 1, 0, 20, 1, 0});
    check_case(&(qcase){6, 1, 1, 1, 3, 0, 0}); /* rows are the units: ROWS records by stratum */
    check_case(&(qcase){3, 0, 1, 0, 20, 0, 0});
}

/* Queueing stops while rows come grouped by unit and starts again: rows
 * summed at once in between (weights 0, missing outcomes) read every
 * outcome afresh. */
Test(estimate_queue, rows_grouped_between_rows_in_any_order_give_the_same_bits)
{
    check_case(&(qcase){6, 1, 1, 1, 3, 1, 1});
    check_case(&(qcase){5, 1, 1, 0, 20, 0, 1});
}
