/* Calibration-aware linearization (libsurvey/estimate_calib.c, survey/
 * calibrate.h): the streaming residual operator against R's formula applied
 * row by row here (svyrecvar: post-stratification against the weighted
 * cell mean of u = z/w; raking as 10 passes of back-fitting with
 * unweighted cell means), on a small design: rows as units in strata, and
 * PSUs with a domain.  The R agreement on api data is the CLI case
 * svy-tab/cal-reference.test. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <survey/calibrate.h>
#include <survey/estimate.h>
#include <survey/schema.h>

enum { N = 12, NC = 6 };
static const char *const head[NC] = {"y", "w", "a", "b", "s", "psu"};
static const char *const rows[N][NC] = {
    {"3", "2", "p", "x", "1", "1"},   {"5", "3", "q", "x", "1", "1"},   {"4", "1.5", "p", "y", "1", "2"},
    {"9", "2.5", "q", "y", "1", "2"}, {"1", "4", "p", "x", "1", "3"},   {"7", "1", "q", "y", "2", "3"},
    {"2", "2", "p", "y", "2", "4"},   {"8", "3.5", "q", "x", "2", "4"}, {"6", "2", "p", "x", "2", "5"},
    {"4", "1", "q", "y", "2", "5"},   {"5", "2.5", "p", "y", "2", "6"}, {"3", "3", "q", "x", "2", "6"},
};

static double num(size_t r, size_t c)
{
    return strtod(rows[r][c], NULL);
}

/* A margin file of column c with totals the weights give (so the weights
 * are calibrated to it); its path in buf. */
static void margin_file(size_t c, char *buf, size_t size)
{
    snprintf(buf, size, "/tmp/svy-test-cal-XXXXXX");
    int fd = mkstemp(buf);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "%s,total\n", head[c]);
    const char *lv[2] = {c == 2 ? "p" : "x", c == 2 ? "q" : "y"};
    for (int l = 0; l < 2; l++) {
        double t = 0;
        for (size_t r = 0; r < N; r++)
            if (strcmp(rows[r][c], lv[l]) == 0)
                t += num(r, 1);
        fprintf(f, "%s,%.17g\n", lv[l], t);
    }
    fclose(f);
}

/* The estimator's SE of the mean of y in domain s = dom ("" all rows) with
 * margins on the columns mc[0..nm). */
static double lib_se(int psu, const char *dom, const size_t *mc, size_t nm, svy_status *st_out, svy_err *err)
{
    svy_design d;
    svy_design_init(&d);
    d.weight = "w";
    static const char *const strata[] = {"s"}, *const psus[] = {"psu"};
    if (psu) {
        d.psu = psus;
        d.npsu = 1;
    } else {
        d.strata = strata;
        d.nstrata = 1;
    }
    static const char *const by[] = {"s"};
    svy_est *e = svy_est_new(&d, *dom ? by : NULL, *dom ? 1 : 0, err);
    cr_assert(e);
    cr_assert_eq(svy_est_add_outcome(e, SVY_STAT_MEAN, "y", NULL, err), SVY_OK);
    char paths[2][64];
    for (size_t m = 0; m < nm; m++) {
        margin_file(mc[m], paths[m], sizeof paths[m]);
        cr_assert_eq(svy_est_add_calibration(e, paths[m], err), SVY_OK, "%s", err->msg);
    }
    cr_assert_eq(svy_est_calibration_count(e), nm);
    svy_schema *s = svy_schema_new();
    for (size_t i = 0; i < NC; i++)
        cr_assert(svy_schema_add(s, head[i], SVY_VAR_UNTYPED, err));
    double se = NAN;
    svy_status st = svy_est_bind(e, s, err);
    for (size_t r = 0; st == SVY_OK && r < N; r++) {
        svy_value v[NC];
        memset(v, 0, sizeof v);
        for (size_t c = 0; c < NC; c++) {
            v[c].type = SVY_VAL_STR;
            v[c].str = rows[r][c];
            v[c].len = strlen(rows[r][c]);
        }
        svy_row row = {.index = (long long)r + 1, .nvals = NC, .vals = v};
        st = svy_est_push(e, &row, err);
    }
    if (st == SVY_OK)
        st = svy_est_finish(e, err);
    for (size_t i = 0; st == SVY_OK && i < svy_est_count(e); i++) {
        const svy_est_result *res = svy_est_get(e, i);
        const svy_value *dv = *dom ? svy_est_domain_value(e, res->domain, 0) : NULL;
        if (!*dom || (dv && dv->type == SVY_VAL_STR && strcmp(dv->str, dom) == 0))
            se = res->se;
    }
    *st_out = st;
    for (size_t m = 0; m < nm; m++)
        unlink(paths[m]);
    svy_est_free(e);
    svy_schema_free(s);
    return se;
}

/* R's svyrecvar, row by row: z of the domain mean, the residuals, then the
 * variance by strata (rows as units) or by PSU (one stratum). */
static double by_hand(int psu, const char *dom, const size_t *mc, size_t nm)
{
    double z[N], w[N], W = 0, Y = 0;
    for (size_t r = 0; r < N; r++) {
        int in = !*dom || strcmp(rows[r][4], dom) == 0;
        w[r] = num(r, 1);
        W += in * w[r];
        Y += in * w[r] * num(r, 0);
    }
    for (size_t r = 0; r < N; r++) {
        int in = !*dom || strcmp(rows[r][4], dom) == 0;
        z[r] = in ? w[r] * (num(r, 0) - Y / W) / W : 0;
    }
    if (nm == 1) { /* postStratify: x - w * sum_c(d x / w) / sum_c d, d proportional to w in c */
        double Xc[2] = {0, 0}, Wc[2] = {0, 0};
        for (size_t r = 0; r < N; r++) {
            int c = rows[r][mc[0]][0] == 'p' || rows[r][mc[0]][0] == 'x' ? 0 : 1;
            Xc[c] += z[r];
            Wc[c] += w[r];
        }
        for (size_t r = 0; r < N; r++) {
            int c = rows[r][mc[0]][0] == 'p' || rows[r][mc[0]][0] == 'x' ? 0 : 1;
            z[r] -= w[r] * Xc[c] / Wc[c];
        }
    } else { /* rake: 10 passes of x <- x - w ave(x / w) */
        for (int it = 0; it < 10; it++)
            for (size_t m = 0; m < nm; m++) {
                double su[2] = {0, 0}, n[2] = {0, 0};
                for (size_t r = 0; r < N; r++) {
                    int c = rows[r][mc[m]][0] == 'p' || rows[r][mc[m]][0] == 'x' ? 0 : 1;
                    su[c] += z[r] / w[r];
                    n[c] += 1;
                }
                for (size_t r = 0; r < N; r++) {
                    int c = rows[r][mc[m]][0] == 'p' || rows[r][mc[m]][0] == 'x' ? 0 : 1;
                    z[r] -= w[r] * su[c] / n[c];
                }
            }
    }
    double V = 0;
    if (!psu) {
        for (int h = 1; h <= 2; h++) {
            double s = 0, q = 0, n = 0;
            for (size_t r = 0; r < N; r++)
                if (atoi(rows[r][4]) == h) {
                    s += z[r];
                    q += z[r] * z[r];
                    n++;
                }
            V += n / (n - 1) * (q - s * s / n);
        }
        return sqrt(V);
    }
    double Z[6] = {0}, s = 0, q = 0;
    for (size_t r = 0; r < N; r++)
        Z[atoi(rows[r][5]) - 1] += z[r];
    for (int i = 0; i < 6; i++) {
        s += Z[i];
        q += Z[i] * Z[i];
    }
    return sqrt(6.0 / 5 * (q - s * s / 6));
}

static void check(int psu, const char *dom, const size_t *mc, size_t nm)
{
    svy_err err;
    svy_status st;
    double se = lib_se(psu, dom, mc, nm, &st, &err);
    cr_assert_eq(st, SVY_OK, "%s", err.msg);
    double ref = by_hand(psu, dom, mc, nm);
    cr_assert(fabs(se - ref) <= 1e-12 * ref, "psu %d dom '%s' margins %zu: %.17g, by hand %.17g", psu, dom, nm, se,
              ref);
}

Test(calibrate, poststratify_rows_as_units)
{
    static const size_t a[] = {2};
    check(0, "", a, 1);
    check(0, "2", a, 1);
}

Test(calibrate, poststratify_psus_domain)
{
    static const size_t b[] = {3};
    check(1, "", b, 1);
    check(1, "1", b, 1);
}

Test(calibrate, rake_rows_as_units_and_psus)
{
    static const size_t ab[] = {2, 3};
    check(0, "", ab, 2);
    check(0, "1", ab, 2);
    check(1, "", ab, 2);
    check(1, "2", ab, 2);
}

Test(calibrate, errors)
{
    svy_design d;
    svy_design_init(&d);
    d.weight = "w";
    svy_err err;
    svy_est *e = svy_est_new(&d, NULL, 0, &err);
    cr_assert_eq(svy_est_add_calibration(e, "/nonexistent/margin.csv", &err), SVY_E_IO);
    cr_assert_eq(svy_est_calibration_count(e), 0);
    svy_est_free(e);
}
