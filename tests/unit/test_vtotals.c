/* The p-column design covariance against R: tests/ref/vtotals-api.R wrote
 * the designs (vtotals-cases.csv) and vcov(svytotal(~a + b + c, design))
 * (vtotals-api.csv); every entry must agree to 1e-9 relative. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/estimate.h>
#include <survey/schema.h>

#include "design_private.h"
#include "design_case.h"
#include "test_util.h"
#include "vtotals_private.h"

typedef svy_test_table table;


static long col_of(const table *t, const char *name)
{
    for (size_t c = 0; c < t->ncol; c++)
        if (strcmp(t->head[c], name) == 0)
            return (long)c;
    cr_assert_fail("no column %s", name);
    return -1;
}

static double num(const char *s)
{
    return *s && strcmp(s, "NA") ? strtod(s, NULL) : NAN;
}

/* "COL > NUM" */
static int in_domain(const table *t, size_t r, const char *dom)
{
    if (!*dom)
        return 1;
    char name[64];
    double lim;
    cr_assert(sscanf(dom, "%63s > %lf", name, &lim) == 2, "domain %s", dom);
    return num(t->cell[r][col_of(t, name)]) > lim;
}

static void run_case(const table *cases, size_t ci, const table *ref)
{
    const char *const *cs = (const char *const *)cases->cell[ci];
    const char *id = cs[0];
    char path[256], cbuf[256];
    snprintf(path, sizeof path, "tests/data/model/%s.csv", cs[1]);
    table t = svy_test_table_load(path, "the R script tests/ref/model-api.R");
    const char *cols[8];
    snprintf(cbuf, sizeof cbuf, "%s", cs[8]);
    design_case dc;
    svy_design spec;
    design_case_read(cs, &dc, &spec);
    size_t p = split_words(cbuf, cols, 8);

    svy_err err;
    svy_schema *schema = svy_schema_new();
    for (size_t c = 0; c < t.ncol; c++)
        cr_assert(svy_schema_add(schema, t.head[c], SVY_VAR_UNTYPED, &err));
    svy_dsn d;
    cr_assert_eq(svy_dsn_init(&d, &spec, &err), SVY_OK, "%s: %s", id, err.msg);
    cr_assert_eq(svy_dsn_bind(&d, schema, &err), SVY_OK, "%s: %s", id, err.msg);
    svy_value *vals = calloc(t.ncol, sizeof *vals);
    svy_dpath *paths = calloc(t.nrow, sizeof *paths);
    cr_assert(vals && paths);
    int again = 1;
    while (again) {
        for (size_t r = 0; r < t.nrow; r++) {
            for (size_t c = 0; c < t.ncol; c++) {
                memset(&vals[c], 0, sizeof vals[c]);
                vals[c].type = SVY_VAL_STR;
                vals[c].str = t.cell[r][c];
                vals[c].len = strlen(t.cell[r][c]);
                if (vals[c].len == 0 || strcmp(t.cell[r][c], "NA") == 0)
                    vals[c].missing = SVY_MISS_SYSTEM;
            }
            svy_row row = {.index = (long long)r + 1, .nvals = t.ncol, .vals = vals};
            cr_assert_eq(svy_dsn_row(&d, &row, &paths[r], &err), SVY_OK, "%s row %zu: %s", id, r + 1, err.msg);
        }
        cr_assert_eq(svy_dsn_end_pass(&d, &again, &err), SVY_OK, "%s: %s", id, err.msg);
    }
    svy_vtot *v = svy_vtot_new(&d, p, spec.lonely, &err);
    cr_assert(v, "%s: %s", id, err.msg);
    long xc[8];
    for (size_t a = 0; a < p; a++)
        xc[a] = col_of(&t, cols[a]);
    double z[8];
    for (size_t r = 0; r < t.nrow; r++) {
        if (!in_domain(&t, r, cs[9]))
            continue;
        double w = paths[r].w * d.wscale;
        for (size_t a = 0; a < p; a++)
            z[a] = w * num(t.cell[r][xc[a]]);
        svy_vtot_add(v, &paths[r], z);
    }
    double V[64];
    cr_assert_eq(svy_vtot_cov(v, V, &err), SVY_OK, "%s: %s", id, err.msg);
    size_t checked = 0;
    for (size_t k = 0; k < ref->nrow; k++) {
        if (strcmp(ref->cell[k][0], id))
            continue;
        size_t i = strtoul(ref->cell[k][1], NULL, 10), j = strtoul(ref->cell[k][2], NULL, 10);
        double want = strtod(ref->cell[k][3], NULL), got = V[i * p + j];
        cr_expect(fabs(got - want) <= 1e-9 * fabs(want) + 1e-12, "%s V[%zu,%zu] = %.17g, R %.17g (rel %.3g)", id, i,
                  j, got, want, fabs(got - want) / fabs(want));
        checked++;
    }
    cr_expect_eq(checked, p * p, "%s: %zu entries in R's table", id, checked);
    svy_vtot_free(v);
    svy_dsn_free(&d);
    svy_schema_free(schema);
    free(vals);
    free(paths);
    svy_test_table_free(&t);
}

Test(vtotals, r_reference)
{
    table cases = svy_test_table_load("tests/ref/vtotals-cases.csv", "the R script tests/ref/vtotals-api.R");
    table ref = svy_test_table_load("tests/ref/vtotals-api.csv", "the R script tests/ref/vtotals-api.R");
    cr_assert(cases.nrow >= 14);
    for (size_t i = 0; i < cases.nrow; i++)
        run_case(&cases, i, &ref);
    svy_test_table_free(&cases);
    svy_test_table_free(&ref);
}

/* The df R's degf gives on the rows added: PSUs minus strata with a row of
 * nonzero weight; a lone PSU under "fail" is an error naming its stratum. */
Test(vtotals, lonely_fail_names_stratum)
{
    table t = svy_test_table_load("tests/data/model/apiclus1.csv", "the R script tests/ref/model-api.R");
    const char *psu[] = {"dnum"}, *strata[] = {"lstr"};
    svy_design spec;
    svy_design_init(&spec);
    spec.weight = "pw";
    spec.psu = psu;
    spec.npsu = 1;
    spec.strata = strata;
    spec.nstrata = 1;
    svy_err err;
    svy_schema *schema = svy_schema_new();
    for (size_t c = 0; c < t.ncol; c++)
        cr_assert(svy_schema_add(schema, t.head[c], SVY_VAR_UNTYPED, &err));
    svy_dsn d;
    cr_assert_eq(svy_dsn_init(&d, &spec, &err), SVY_OK);
    cr_assert_eq(svy_dsn_bind(&d, schema, &err), SVY_OK);
    svy_value *vals = calloc(t.ncol, sizeof *vals);
    svy_dpath *paths = calloc(t.nrow, sizeof *paths);
    for (size_t r = 0; r < t.nrow; r++) {
        for (size_t c = 0; c < t.ncol; c++)
            vals[c] = (svy_value){.type = SVY_VAL_STR, .str = t.cell[r][c], .len = strlen(t.cell[r][c])};
        svy_row row = {.index = (long long)r + 1, .nvals = t.ncol, .vals = vals};
        cr_assert_eq(svy_dsn_row(&d, &row, &paths[r], &err), SVY_OK, "%s", err.msg);
    }
    int again;
    cr_assert_eq(svy_dsn_end_pass(&d, &again, &err), SVY_OK);
    svy_vtot *v = svy_vtot_new(&d, 1, SVY_LONELY_FAIL, &err);
    double one = 1, V;
    for (size_t r = 0; r < t.nrow; r++)
        svy_vtot_add(v, &paths[r], &one);
    cr_expect_eq(svy_vtot_df(v), 15 - 4);
    cr_assert_eq(svy_vtot_cov(v, &V, &err), SVY_E_DATA);
    cr_expect(strstr(err.msg, "stratum 'c' of column lstr has a single PSU"), "%s", err.msg);
    svy_vtot_free(v);
    svy_dsn_free(&d);
    svy_schema_free(schema);
    free(vals);
    free(paths);
    svy_test_table_free(&t);
}
