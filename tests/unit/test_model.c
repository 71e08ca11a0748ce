/* svy_model against R: tests/ref/model-api.R wrote the cases
 * (model-cases.csv: design, family, formula, --ref, --margins, --wald) and
 * R's numbers (model-api.csv: svyglm coefficients, SEs, t, df, p-values and
 * CIs, the fit's n, design df and iterations, regTermTest, svypredmeans and
 * the differences from the reference level); every number must agree to
 * 1e-8 relative (issue 17). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/model.h>
#include <survey/schema.h>
#include <survey/subpop.h>

#include "design_case.h"
#include "test_util.h"

typedef svy_test_table table;

static const double TOL = 1e-8;


static void near(const char *id, const char *what, double got, const char *want_s)
{
    if (!*want_s) {
        cr_expect(isnan(got), "%s %s: %.17g, R has none", id, what, got);
        return;
    }
    double want = strtod(want_s, NULL);
    cr_expect(fabs(got - want) <= TOL * fabs(want) + 1e-300, "%s %s: %.17g, R %.17g (rel %.3g)", id, what, got, want,
              fabs(got - want) / fabs(want));
}

typedef struct run {
    svy_model *m;
    svy_subpop *subpop;
    svy_schema *schema;
    table data;
} run;

/* Runs a case of model-cases.csv: id,data,weight,strata,psu,fpc,ultimate,lonely,family,formula,ref,margins,wald
 * (model-subpop-cases.csv: then subpop, in svy's syntax: NULL for none;
 * model-cal-cases.csv: then subpop_r and cal, margin files under tests/data: NULL for none) */
static run run_case_cal(char **cs, const char *subpop, const char *cal, svy_status *status, svy_err *err)
{
    static design_case dc;
    char path[256];
    snprintf(path, sizeof path, "tests/data/model/%s.csv", cs[1]);
    run R = {0};
    R.data = svy_test_table_load(path, "the R script tests/ref/model-api.R");
    svy_design d;
    design_case_read((const char *const *)cs, &dc, &d);
    svy_family fam = strcmp(cs[8], "logit") == 0 ? SVY_FAMILY_LOGIT : SVY_FAMILY_LINEAR;
    R.m = svy_model_new(&d, fam, cs[9], err);
    cr_assert(R.m, "%s: %s", cs[0], err->msg);
    if (*cs[10]) {
        char ref[128];
        snprintf(ref, sizeof ref, "%s", cs[10]);
        char *eq = strchr(ref, '=');
        *eq = '\0';
        cr_assert_eq(svy_model_set_ref(R.m, ref, eq + 1, err), SVY_OK, "%s", err->msg);
    }
    if (*cs[11])
        cr_assert_eq(svy_model_set_margins(R.m, cs[11], err), SVY_OK, "%s", err->msg);
    char wbuf[256];
    const char *wald[8];
    snprintf(wbuf, sizeof wbuf, "%s", cs[12]);
    size_t nw = split_words(wbuf, wald, 8);
    for (size_t i = 0; i < nw; i++)
        cr_assert_eq(svy_model_add_wald(R.m, wald[i], err), SVY_OK, "%s", err->msg);
    if (nw > 1) {
        char all[256] = "";
        for (size_t i = 0; i < nw; i++)
            snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", i ? "," : "", wald[i]);
        cr_assert_eq(svy_model_add_wald(R.m, all, err), SVY_OK, "%s", err->msg);
    }
    char cbuf[512];
    const char *margin[8];
    snprintf(cbuf, sizeof cbuf, "%s", cal ? cal : "");
    size_t nc = split_words(cbuf, margin, 8);
    for (size_t i = 0; i < nc; i++) {
        char mp[1024];
        snprintf(mp, sizeof mp, "%s/tests/data/%s", SVY_SRCDIR, margin[i]);
        cr_assert_eq(svy_model_add_calibration(R.m, mp, err), SVY_OK, "%s: %s", cs[0], err->msg);
    }
    R.schema = svy_schema_new();
    for (size_t c = 0; c < R.data.ncol; c++)
        cr_assert(svy_schema_add(R.schema, R.data.head[c], SVY_VAR_UNTYPED, err));
    if (subpop) {
        cr_assert_eq(svy_subpop_parse(subpop, &R.subpop, err), SVY_OK, "%s: %s", cs[0], err->msg);
        cr_assert_eq(svy_subpop_bind(R.subpop, R.schema, NULL, err), SVY_OK, "%s: %s", cs[0], err->msg);
        svy_model_set_subpop(R.m, R.subpop);
    }
    *status = svy_model_bind(R.m, R.schema, err);
    if (*status)
        return R;
    svy_value *vals = calloc(R.data.ncol, sizeof *vals);
    int again = 1;
    while (again && *status == SVY_OK) {
        for (size_t r = 0; r < R.data.nrow && *status == SVY_OK; r++) {
            for (size_t c = 0; c < R.data.ncol; c++) {
                const char *s = R.data.cell[r][c];
                vals[c] = (svy_value){.type = SVY_VAL_STR, .str = s, .len = strlen(s)};
                if (!*s)
                    vals[c].missing = SVY_MISS_SYSTEM;
            }
            svy_row row = {.index = (long long)r + 1, .nvals = R.data.ncol, .vals = vals};
            *status = svy_model_push(R.m, &row, err);
        }
        if (*status == SVY_OK)
            *status = svy_model_end_pass(R.m, &again, err);
    }
    free(vals);
    if (*status == SVY_OK)
        *status = svy_model_finish(R.m, err);
    return R;
}

static run run_case(char **cs, const char *subpop, svy_status *status, svy_err *err)
{
    return run_case_cal(cs, subpop, NULL, status, err);
}

static void run_free(run *R)
{
    svy_model_free(R->m);
    svy_subpop_free(R->subpop);
    svy_schema_free(R->schema);
    svy_test_table_free(&R->data);
}

static void check_case_cal(char **cs, const char *subpop, const char *cal, const table *ref)
{
    const char *id = cs[0];
    svy_err err;
    svy_status st;
    run R = run_case_cal(cs, subpop, cal, &st, &err);
    cr_assert_eq(st, SVY_OK, "%s: %s", id, err.msg);
    const svy_model_fit *F = svy_model_fit_get(R.m);
    size_t ncoef = 0, nmarg = 0, nwald = 0;
    for (size_t k = 0; k < ref->nrow; k++) {
        char **r = ref->cell[k];
        if (strcmp(r[0], id))
            continue;
        char what[400];
        if (strcmp(r[1], "coef") == 0) {
            const svy_model_coef *c = NULL;
            for (size_t i = 0; i < svy_model_ncoef(R.m); i++)
                if (strcmp(svy_model_coef_get(R.m, i)->term, r[2]) == 0)
                    c = svy_model_coef_get(R.m, i);
            cr_expect(c, "%s: no term %s", id, r[2]);
            if (!c)
                continue;
            ncoef++;
            double got[] = {c->estimate, c->se, c->t, c->df, c->p_value, c->ci_low, c->ci_high};
            static const char *names[] = {"estimate", "se", "t", "df", "p", "ci_low", "ci_high"};
            for (size_t j = 0; j < 7; j++) {
                snprintf(what, sizeof what, "%s %s", r[2], names[j]);
                near(id, what, got[j], r[3 + j]);
            }
        } else if (strcmp(r[1], "fit") == 0) {
            /* R's glm on a calibrated subset keeps the rows outside (weight 0) in
             * length(fit$y); svy-model counts the rows of the subpopulation used. */
            if (!(cal && *cal && subpop))
                near(id, "n", (double)F->used, r[3]);
            near(id, "design df", F->design_df, r[6]);
            near(id, "iterations", F->iterations, r[8]);
            cr_expect_eq(F->converged, strcmp(r[9], "1") == 0, "%s converged", id);
        } else if (strcmp(r[1], "wald") == 0) {
            char spec[100];
            snprintf(spec, sizeof spec, "%s", r[2]);
            const svy_model_wald *t = NULL;
            for (size_t i = 0; i < svy_model_nwald(R.m); i++)
                if (strcmp(svy_model_wald_get(R.m, i)->terms, spec) == 0)
                    t = svy_model_wald_get(R.m, i);
            cr_expect(t, "%s: no Wald test %s", id, spec);
            if (!t)
                continue;
            nwald++;
            snprintf(what, sizeof what, "wald %s F", spec);
            near(id, what, t->F, r[3]);
            snprintf(what, sizeof what, "wald %s df", spec);
            near(id, what, t->df_num, r[4]);
            snprintf(what, sizeof what, "wald %s ddf", spec);
            near(id, what, t->df_den, r[6]);
            snprintf(what, sizeof what, "wald %s p", spec);
            near(id, what, t->p_value, r[7]);
        } else {
            const svy_model_margin *M = NULL;
            for (size_t i = 0; i < svy_model_nmargins(R.m); i++)
                if (strcmp(svy_model_margin_get(R.m, i)->level, r[2]) == 0)
                    M = svy_model_margin_get(R.m, i);
            cr_expect(M, "%s: no margin %s", id, r[2]);
            if (!M)
                continue;
            nmarg++;
            int diff = strcmp(r[1], "diff") == 0;
            double got[] = {diff ? M->diff : M->margin, diff ? M->diff_se : M->se, diff ? M->diff_z : M->margin / M->se,
                            diff ? M->diff_p : NAN, diff ? M->diff_low : M->ci_low, diff ? M->diff_high : M->ci_high};
            static const char *names[] = {"estimate", "se", "z", "p", "ci_low", "ci_high"};
            for (size_t j = 0; j < 6; j++) {
                snprintf(what, sizeof what, "%s %s %s", r[1], r[2], names[j]);
                near(id, what, got[j], r[3 + j + (j >= 3)]);
            }
        }
    }
    cr_expect_eq(ncoef, svy_model_ncoef(R.m), "%s: %zu of %zu coefficients in R's table", id, ncoef,
                 svy_model_ncoef(R.m));
    cr_expect(nmarg == 0 || nmarg == 2 * svy_model_nmargins(R.m) - 1, "%s: margins %zu", id, nmarg);
    cr_expect_eq(nwald, svy_model_nwald(R.m), "%s: Wald tests", id);
    run_free(&R);
}

static void check_case(char **cs, const char *subpop, const table *ref)
{
    check_case_cal(cs, subpop, NULL, ref);
}

Test(model, r_reference)
{
    table cases = svy_test_table_load("tests/ref/model-cases.csv", "the R script tests/ref/model-api.R");
    table ref = svy_test_table_load("tests/ref/model-api.csv", "the R script tests/ref/model-api.R");
    cr_assert(cases.nrow >= 18);
    for (size_t i = 0; i < cases.nrow; i++)
        check_case(cases.cell[i], NULL, &ref);
    svy_test_table_free(&cases);
    svy_test_table_free(&ref);
}

/* --subpop: R's svyglm on subset(design, EXPR) (tests/ref/model-subpop.R):
 * the rows outside stay in the design; df = degf of the subset + 1 - rank. */
Test(model, r_reference_subpop)
{
    table cases = svy_test_table_load("tests/ref/model-subpop-cases.csv", "the R script tests/ref/model-subpop.R");
    table ref = svy_test_table_load("tests/ref/model-subpop.csv", "the R script tests/ref/model-subpop.R");
    cr_assert(cases.nrow >= 12 && cases.ncol == 15);
    for (size_t i = 0; i < cases.nrow; i++)
        check_case(cases.cell[i], cases.cell[i][13], &ref);
    svy_test_table_free(&cases);
    svy_test_table_free(&ref);
}

/* --calibrated-to: R's svyglm on designs passed through rake() and
 * postStratify() (tests/ref/model-cal.R): every design row's influence
 * (0 outside the model) replaced by its calibration residual. */
Test(model, r_reference_calibrated)
{
    table cases = svy_test_table_load("tests/ref/model-cal-cases.csv", "the R script tests/ref/model-cal.R");
    table ref = svy_test_table_load("tests/ref/model-cal.csv", "the R script tests/ref/model-cal.R");
    cr_assert(cases.nrow >= 12 && cases.ncol == 16);
    for (size_t i = 0; i < cases.nrow; i++)
        check_case_cal(cases.cell[i], *cases.cell[i][13] ? cases.cell[i][13] : NULL, cases.cell[i][15], &ref);
    svy_test_table_free(&cases);
    svy_test_table_free(&ref);
}

/* ---------------------------------------------------- the formula alone */

#include "model_private.h"

static char *terms_text(const mformula *f)
{
    static char buf[512];
    size_t len = (size_t)snprintf(buf, sizeof buf, "%s~%s", f->vars[0].name, f->intercept ? "1" : "0");
    for (size_t t = 0; t < f->nterms; t++) {
        len += (size_t)snprintf(buf + len, sizeof buf - len, "+");
        int first = 1;
        for (size_t v = 0; v < f->nvars; v++)
            if (f->terms[t] >> v & 1) {
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", first ? "" : ":", f->vars[v].name);
                first = 0;
            }
    }
    return buf;
}

static void expands(const char *text, const char *want)
{
    mformula f;
    svy_err err;
    cr_assert_eq(svy_mformula_parse(&f, text, &err), SVY_OK, "%s: %s", text, err.msg);
    cr_expect_str_eq(terms_text(&f), want, "%s", text);
    svy_mformula_free(&f);
}

/* R's terms(): a*b = a + b + a:b, ':' before '*', by degree then as written,
 * duplicates once, '- 1' / '+ 0' / '- term'. */
Test(model, formula_expands_as_r)
{
    expands("y ~ a + b", "y~1+a+b");
    expands("y ~ a*b", "y~1+a+b+a:b");
    expands("y ~ a:b + c", "y~1+c+a:b");
    expands("y ~ a*b*c", "y~1+a+b+c+a:b+a:c+b:c+a:b:c");
    expands("y ~ a*b - a:b", "y~1+a+b");
    expands("y ~ a + b - 1", "y~0+a+b");
    expands("y ~ 0 + a", "y~0+a");
    expands("y ~ -1 + a", "y~0+a");
    expands("y ~ a + a + b:a", "y~1+a+a:b");
    expands("y ~ (a + b):c", "y~1+a:c+b:c");
    expands("y~factor(g)*x", "y~1+factor(g)+x+factor(g):x");
}

static void refuses(const char *text, const char *msg)
{
    mformula f;
    svy_err err;
    cr_expect_eq(svy_mformula_parse(&f, text, &err), SVY_E_USAGE, "%s parsed", text);
    cr_expect(strstr(err.msg, msg), "%s: %s", text, err.msg);
    svy_mformula_free(&f);
}

Test(model, formula_errors)
{
    refuses("y a + b", "'Y ~ TERMS' expected");
    refuses("y ~ a +", "a column name expected");
    refuses("y ~ log(a)", "only factor() may be applied");
    refuses("y ~ y + a", "Y (y) is also a term");
    refuses("y ~ a - a - 1", "no term and no intercept");
    refuses("y ~ a b", "unexpected text");
}

/* R's coding rule: a factor in a term whose other part is not in the model
 * gets all its levels (R: coef(svyglm(api00 ~ ell:stype, dstrat)) =
 * 756.646428, -3.533032, -7.879079, -5.469709); columns that repeat earlier
 * ones are aliased (R: NA, left out of the rank: df 197 + 1 - 4). */
static run quick(const char *formula)
{
    char *cs[] = {"t", "apistrat", "pw", "stype", "", "fpc", "0", "fail", "linear", (char *)formula, "", "", ""};
    svy_err err;
    svy_status st;
    run R = run_case(cs, NULL, &st, &err);
    cr_assert_eq(st, SVY_OK, "%s", err.msg);
    return R;
}

/* An empty subpopulation is a data error that names it; the counts of a
 * subpopulation are the rows in it and the rows used. */
Test(model, subpop_counts_and_empty)
{
    char *cs[] = {"t", "apistratna", "pw0", "stype", "", "fpc", "0", "fail", "linear", "api00 ~ ell", "", "", ""};
    svy_err err;
    svy_status st;
    run R = run_case(cs, "api00 > 5000", &st, &err);
    cr_assert_eq(st, SVY_E_DATA);
    cr_expect(strstr(err.msg, "api00 > 5000: no row of the 200 is in the subpopulation"), "%s", err.msg);
    run_free(&R);
    R = run_case(cs, "stype == 'E'", &st, &err);
    cr_assert_eq(st, SVY_OK, "%s", err.msg);
    const svy_model_fit *F = svy_model_fit_get(R.m);
    cr_expect_eq(F->rows, 200);
    cr_expect_eq(F->subpop_rows, 100);
    cr_expect_eq(F->used + F->dropped, 100);
    cr_expect(F->dropped > 0);
    cr_expect_str_eq(F->subpop, "stype == \"E\"");
    run_free(&R);
}

Test(model, interaction_coding_and_aliasing)
{
    run R = quick("api00 ~ ell:stype");
    const char *want[] = {"(Intercept)", "ell:stype=E", "ell:stype=H", "ell:stype=M"};
    const double est[] = {756.646428, -3.533032, -7.879079, -5.469709};
    cr_assert_eq(svy_model_ncoef(R.m), 4);
    for (size_t i = 0; i < 4; i++) {
        cr_expect_str_eq(svy_model_coef_get(R.m, i)->term, want[i]);
        cr_expect(fabs(svy_model_coef_get(R.m, i)->estimate - est[i]) < 1e-6 * fabs(est[i]));
    }
    run_free(&R);
    R = quick("api00 ~ stype + factor(stype) + ell");
    const double se[] = {11.84965, 13.76288, 15.85848, NAN, NAN, 0.30944};
    cr_assert_eq(svy_model_ncoef(R.m), 6);
    for (size_t i = 0; i < 6; i++) {
        const svy_model_coef *c = svy_model_coef_get(R.m, i);
        cr_expect_eq(c->aliased, i == 3 || i == 4, "%s", c->term);
        if (!c->aliased)
            cr_expect(fabs(c->se - se[i]) < 1e-5 * se[i], "%s se %g", c->term, c->se);
    }
    cr_expect_eq(svy_model_fit_get(R.m)->rank, 4);
    cr_expect_eq(svy_model_fit_get(R.m)->df, 194);
    run_free(&R);
}
