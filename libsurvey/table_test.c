/* The tests table of --test (svy_est_test): one row per outcome and
 * combination of the other by variables, the columns
 * other by variables, variable, by, statistic, ndf, ddf, p_value, method
 * (and note when a test is missing), in every format svy_table_emit writes. */
#include "svy_private.h"
#include "table_private.h"

#include <survey/replicate.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void put(grid *g, tcell *c, const char *s, ckind k)
{
    c->text = svy_grid_printf(g, "%s", s ? s : "");
    c->kind = k;
}

static void put_num(grid *g, tcell *c, double d, int report, int dec)
{
    if (isnan(d))
        return;
    char b[SVY_DTOA_MAX];
    if (report && fabs(d) < 1e-4 && d != 0)
        snprintf(b, sizeof b, "%.1e", d);
    else if (report)
        snprintf(b, sizeof b, "%.*f", dec, d);
    else
        svy_dtoa(d, b);
    put(g, c, b, C_NUM);
}

static const char *method_text(int chisq, int rep)
{
    if (rep)
        return chisq ? "Rao-Scott first-order correction (R svychisq statistic = \"Chisq\" on the svrepdesign): "
                       "statistic = Pearson's X2 of the weighted table scaled to the rows, unadjusted; the cells' "
                       "covariance from the replicates; p from chi-squared((R-1)(C-1)) of X2 / mean eigenvalue of "
                       "the design effect matrix."
                     : "Rao-Scott second-order F (R svychisq statistic = \"F\" on the svrepdesign): the cells' "
                       "covariance from the replicates; F = X2 / tr(Delta), ndf = tr(Delta)^2 / tr(Delta^2), ddf = "
                       "ndf x (rank of the replicate weights of the rows tested minus 1).";
    return chisq ? "Rao-Scott first-order correction (R svychisq statistic = \"Chisq\"): statistic = Pearson's X2 "
                   "of the weighted table scaled to the rows, unadjusted; p from chi-squared((R-1)(C-1)) of X2 / "
                   "mean eigenvalue of the design effect matrix."
                 : "Rao-Scott second-order F (R svychisq statistic = \"F\"): F = X2 / tr(Delta), ndf = tr(Delta)^2 / "
                   "tr(Delta^2), ddf = ndf x (PSUs - strata over every row of the combination, rows missing "
                   "either variable included, as R).";
}

static void build(grid *g, const svy_est *e, const svy_table_opts *o, int report, const char *method)
{
    size_t nby = svy_est_nby(e), tb = (size_t)svy_est_test_by(e), nt = svy_est_test_count(e);
    int note = 0;
    for (size_t i = 0; i < nt; i++)
        note |= svy_est_test_get(e, i)->note != NULL;
    size_t ncol = nby - 1 + 6 + (size_t)(note || !report) + (report ? 0 : 1);
    g->ncol = ncol;
    g->head = calloc(ncol, sizeof *g->head);
    g->right = calloc(ncol, sizeof *g->right);
    if (!g->head || !g->right) {
        g->failed = 1;
        return;
    }
    size_t c = 0;
    for (size_t k = 0; k < nby; k++)
        if (k != tb)
            g->head[c++] = svy_strdup(svy_est_by_name(e, k));
    static const char *const names[] = {"variable", "by", "statistic", "ndf", "ddf", "p_value"};
    for (size_t k = 0; k < 6; k++) {
        g->right[c] = k > 1;
        g->head[c++] = svy_strdup(names[k]);
    }
    if (note || !report)
        g->head[c++] = svy_strdup("note");
    if (!report)
        g->head[c++] = svy_strdup("method");
    for (size_t i = 0; i < ncol; i++)
        if (!g->head[i])
            g->failed = 1;
    for (size_t i = 0; i < nt && !g->failed; i++) {
        const svy_est_test *t = svy_est_test_get(e, i);
        if (!svy_grow((void **)&g->cells, &g->cap, (g->nrow + 1) * ncol, sizeof *g->cells)) {
            g->failed = 1;
            return;
        }
        tcell *row = g->cells + g->nrow++ * ncol;
        memset(row, 0, ncol * sizeof *row);
        for (size_t k = 0; k < ncol; k++)
            row[k].kind = C_MISSING;
        c = 0;
        for (size_t k = 0; k < nby; k++) {
            if (k == tb)
                continue;
            const svy_value *v = svy_est_domain_value(e, t->domain, k);
            const char *l = NULL;
            if (o->labels && o->schema && v) {
                long vi = svy_schema_find(o->schema, svy_est_by_name(e, k));
                if (vi >= 0)
                    l = svy_var_label_for(svy_schema_var(o->schema, (size_t)vi), v);
                if (!l && v->type == SVY_VAL_STR) {
                    svy_value num = *v;
                    if (svy_parse_number(v->str, v->len, &num.num)) {
                        num.type = SVY_VAL_NUM;
                        l = vi >= 0 ? svy_var_label_for(svy_schema_var(o->schema, (size_t)vi), &num) : NULL;
                    }
                }
            }
            if (v)
                put(g, &row[c], l ? l : v->str, C_STR);
            c++;
        }
        put(g, &row[c++], t->variable, C_STR);
        put(g, &row[c++], t->by, C_STR);
        put_num(g, &row[c++], t->statistic, report, 3);
        put_num(g, &row[c++], t->ndf, report, 2);
        put_num(g, &row[c++], t->ddf, report, 1);
        put_num(g, &row[c++], t->p_value, report, 4);
        if (note || !report) {
            if (t->note)
                put(g, &row[c], t->note, C_STR);
            c++;
        }
        if (!report)
            put(g, &row[c], method, C_STR);
    }
}

svy_status svy_table_write_tests(FILE *f, const char *name, const svy_est *e, const svy_table_opts *o, svy_err *err)
{
    SVY_FAIL_IF((unsigned)o->format > SVY_TABLE_JSON, err, SVY_E_USAGE, "unknown table format");
    SVY_FAIL_IF(svy_est_test_by(e) < 0, err, SVY_E_USAGE, "svy_table_write_tests without svy_est_set_test");
    int report = o->format == SVY_TABLE_MD || o->format == SVY_TABLE_LATEX || o->format == SVY_TABLE_HTML;
    grid g;
    memset(&g, 0, sizeof g);
    char *design = svy_table_method(&g, e, o, 0, report);
    svy_rep_info ri;
    const char *m = method_text(svy_est_test_get(e, 0) ? svy_est_test_get(e, 0)->chisq : 0, svy_est_rep_info(e, &ri));
    if (design)
        g.footer = svy_grid_printf(&g, "%s %s", m, design);
    free(design);
    if (g.footer)
        build(&g, e, o, report, g.footer);
    return svy_table_finish(f, &g, o, name, err);
}
