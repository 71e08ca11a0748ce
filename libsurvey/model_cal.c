/* svy-model on calibrated weights (svy_model_add_calibration), and the
 * design covariance of any linearized values of the model's rows.
 *
 * R's svyglm on a design passed through postStratify() or rake() hands
 * svyrecvar the influence functions estfun %*% Ainv of every design row
 * (svy.varcoef pads the rows glm dropped for a missing value with 0: on a
 * calibrated design `[` keeps them, weight 0), and svyrecvar replaces each
 * column by its calibration residuals before the multistage variance.
 * svypredmeans' svymean of the predictions goes the same way.  So:
 *
 *  - every design row gets its joint margin cell (estimate_calib.c's
 *    svy_cal_cell, svy-weight's reader of the margins); the model's rows
 *    carry it in the spool, the others (a missing value, outside --subpop)
 *    go to a second spool with their design path: their influence is 0 but
 *    their residual is not;
 *  - a variance reads the model's rows twice: the per-cell sums of the
 *    values (of z / w when raked), from which estimate_calib.c's
 *    svy_cal_coef gives b per cell and column, then every design row's
 *    residual z - psw b into vtotals.  A row outside the model enters with
 *    weight 0 for the df, as R's degf of design[-nas, ] counts it.
 *
 * Without margins the values go to vtotals in one read. */
#include "svy_private.h"
#include "calib_private.h"
#include "model_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <survey/outfile.h>
#include <unistd.h>

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

svy_status svy_model_add_calibration(svy_model *m, const char *path, svy_err *err)
{
    if (m->schema)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL,
                           "calibration margins must be given before the schema is bound");
    return svy_cal_add_margin(&m->cal, path, err);
}

void svy_model_set_source(svy_model *m, const char *name)
{
    m->source = name;
}

size_t svy_model_calibration_count(const svy_model *m)
{
    return m->cal ? m->cal->npaths : 0;
}

const char *svy_model_calibration_margin(const svy_model *m, size_t i)
{
    return m->cal && i < m->cal->npaths ? m->cal->paths[i] : NULL;
}

double svy_model_calibration_gap(const svy_model *m)
{
    return m->cal && m->cal_ready ? m->cal->gap : NAN;
}

const char *svy_mcal_column(const svy_model *m, size_t i)
{
    return svy_cal_margin_column(m->cal, i);
}

void svy_mcal_free(svy_model *m)
{
    if (m->cal_out)
        fclose(m->cal_out);
    svy_cal_free(m->cal);
    m->cal_out = NULL;
    m->cal = NULL;
}

/* A design row outside the model: path (stages, weight) and cell. */
static size_t out_reclen(const svy_model *m)
{
    return m->dsn.nstage * 8 + 8 + 4;
}

svy_status svy_mcal_bind(svy_model *m, svy_err *err)
{
    svy_status st = svy_cal_begin(m->cal, m->schema, m->source, err);
    if (st)
        return st;
    return svy_tmpfile(&m->cal_out, err);
}

svy_status svy_mcal_again(svy_model *m, svy_err *err)
{
    if (fflush(m->cal_out) != 0 || fseek(m->cal_out, 0, SEEK_SET) != 0 || ftruncate(fileno(m->cal_out), 0) != 0)
        return svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot rewind the spool of the design's other rows");
    return svy_cal_restart(m->cal, m->schema, m->source, err);
}

svy_status svy_mcal_row(svy_model *m, const svy_row *row, const svy_dpath *path, uint32_t *cell, svy_err *err)
{
    size_t c;
    svy_status st = svy_cal_cell(m->cal, row, path->w, &c, err);
    if (st)
        return st;
    if (path->w == 0 && m->cal->rake)
        return svy_fail_row(m->schema, row, m->dsn.weight_col, err, "%s", SVY_CAL_ZERO_RAKE);
    *cell = (uint32_t)c;
    return SVY_OK;
}

svy_status svy_mcal_outside(svy_model *m, const svy_dpath *path, uint32_t cell, svy_err *err)
{
    unsigned char buf[8 * SVY_STAGES_MAX + 12];
    size_t ns = m->dsn.nstage;
    memcpy(buf, path->stratum, ns * 4);
    memcpy(buf + ns * 4, path->unit, ns * 4);
    memcpy(buf + ns * 8, &path->w, 8);
    memcpy(buf + ns * 8 + 8, &cell, 4);
    size_t n = out_reclen(m);
    if (fwrite(buf, 1, n, m->cal_out) != n)
        return svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot spool the design's rows to a temporary file");
    return SVY_OK;
}

svy_status svy_mcal_ready(svy_model *m, svy_err *err)
{
    if (m->cal_ready)
        return SVY_OK;
    svy_status st = svy_cal_cells_ready(m->cal, m->dsn.wscale, err);
    if (st == SVY_OK)
        m->cal_ready = 1;
    return st;
}

/* psw of R's residual: the weight, 1 (in the file's units) for a weight of 0. */
static double psw(const svy_model *m, double w)
{
    return w == 0 ? 1 / m->dsn.wscale : w;
}

/* The per-cell sums of the model's values, then b (ncell x p). */
static svy_status cal_coefs(svy_model *m, size_t p, svy_mz_fn fn, void *ctx, double *z, double *B, svy_err *err)
{
    svy_cal *c = m->cal;
    size_t J = c->ncell;
    double *X = svy_calloc(J * p + 1, sizeof *X), *x = svy_calloc(J + 1, sizeof *x), *b = svy_calloc(J + 1, sizeof *b);
    svy_status st = !X || !x || !b ? nomem(err) : svy_model_rewind(m, err);
    mrow r;
    int k = 0;
    while (st == SVY_OK && (k = svy_model_next(m, &r, err)) > 0) {
        fn(ctx, &r, z, 0);
        double s = c->rake ? r.path.w : 1;
        for (size_t a = 0; a < p; a++)
            X[r.cell * p + a] += z[a] / s;
    }
    if (st == SVY_OK && k < 0)
        st = err->code;
    for (size_t a = 0; st == SVY_OK && a < p; a++) {
        for (size_t j = 0; j < J; j++)
            x[j] = X[j * p + a];
        svy_cal_coef(c, x, b);
        for (size_t j = 0; j < J; j++)
            B[j * p + a] = b[j];
    }
    free(X);
    free(x);
    free(b);
    return st;
}

/* The design's rows outside the model: residual -psw b, weight 0 for the df. */
static svy_status add_outside(svy_model *m, svy_vtot *v, size_t p, const double *B, double *z, svy_err *err)
{
    unsigned char buf[8 * SVY_STAGES_MAX + 12];
    size_t ns = m->dsn.nstage, n = out_reclen(m), got;
    if (fflush(m->cal_out) != 0 || fseek(m->cal_out, 0, SEEK_SET) != 0)
        return svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot rewind the spool of the design's other rows");
    while ((got = fread(buf, 1, n, m->cal_out)) == n) {
        svy_dpath path;
        memset(&path, 0, sizeof path);
        uint32_t cell;
        memcpy(path.stratum, buf, ns * 4);
        memcpy(path.unit, buf + ns * 4, ns * 4);
        memcpy(&path.w, buf + ns * 8, 8);
        memcpy(&cell, buf + ns * 8 + 8, 4);
        double s = psw(m, path.w);
        for (size_t a = 0; a < p; a++)
            z[a] = -s * B[(size_t)cell * p + a];
        path.w = 0;
        svy_vtot_add(v, &path, z);
    }
    if (got != 0 || ferror(m->cal_out))
        return svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot read the spool of the design's other rows");
    return SVY_OK;
}

svy_status svy_model_vcov_of(svy_model *m, size_t p, svy_mz_fn fn, void *ctx, double *V, double *df, svy_err *err)
{
    svy_cal *c = m->cal;
    double *z = svy_calloc(p + 1, sizeof *z), *B = NULL;
    svy_vtot *v = svy_vtot_new(&m->dsn, p, m->d.lonely, err);
    svy_status st = !z ? nomem(err) : !v ? err->code : SVY_OK;
    if (st == SVY_OK && c && (st = svy_mcal_ready(m, err)) == SVY_OK) {
        if (!(B = svy_calloc(c->ncell * p + 1, sizeof *B)))
            st = nomem(err);
        else
            st = cal_coefs(m, p, fn, ctx, z, B, err);
    }
    if (st == SVY_OK)
        st = svy_model_rewind(m, err);
    mrow r;
    int k = 0;
    while (st == SVY_OK && (k = svy_model_next(m, &r, err)) > 0) {
        fn(ctx, &r, z, 1);
        if (c) {
            double s = psw(m, r.path.w);
            for (size_t a = 0; a < p; a++)
                z[a] -= s * B[(size_t)r.cell * p + a];
        }
        svy_vtot_add(v, &r.path, z);
    }
    if (st == SVY_OK && k < 0)
        st = err->code;
    if (st == SVY_OK && c)
        st = add_outside(m, v, p, B, z, err);
    if (st == SVY_OK && p > 0)
        st = svy_vtot_cov(v, V, err);
    if (st == SVY_OK && df)
        *df = svy_vtot_df(v);
    svy_vtot_free(v);
    free(z);
    free(B);
    return st;
}
