/* The replicate-design file (svy-weight --repinfo, svy-tab --repinfo):
 * column,type,scale,rscale,rho,mse,weight, one row per replicate column. */
#include "svy_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/reader.h>
#include <survey/replicate.h>
#include <survey/schema.h>

struct svy_repinfo {
    svy_repdesign d;
    char **cols;
    double *rscales;
    size_t n, cap, caprs;
    char *weight;
    long idx[7]; /* column, type, scale, rscale, rho, mse, weight */
    double scale, rho;
    int mse;
};

static const char *const fields[7] = {"column", "type", "scale", "rscale", "rho", "mse", "weight"};

void svy_repinfo_free(svy_repinfo *ri)
{
    if (!ri)
        return;
    for (size_t i = 0; i < ri->n; i++)
        free(ri->cols[i]);
    free(ri->cols);
    free(ri->rscales);
    free(ri->weight);
    free(ri);
}

static svy_status on_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    svy_repinfo *ri = ctx;
    for (int k = 0; k < 7; k++) {
        ri->idx[k] = svy_schema_find(s, fields[k]);
        if (ri->idx[k] < 0 && k != 4)
            return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, fields[k],
                               "a replicate-design file needs the column %s (column,type,scale,rscale,rho,mse,weight)",
                               fields[k]);
    }
    return SVY_OK;
}

/* Field k of a row as text ("" when missing). */
static const char *field(const svy_repinfo *ri, const svy_row *row, int k, char *buf, size_t size)
{
    if (ri->idx[k] < 0)
        return "";
    const svy_value *v = &row->vals[ri->idx[k]];
    if (svy_value_is_missing(v))
        return "";
    if (v->type == SVY_VAL_STR)
        snprintf(buf, size, "%.*s", (int)v->len, v->str);
    else
        svy_dtoa(v->num, buf);
    return buf;
}

static svy_status bad(const svy_repinfo *ri, const svy_row *row, int k, svy_err *err, const char *what)
{
    return svy_err_set(err, SVY_E_DATA, NULL, row->index, ri->idx[k] + 1, fields[k], "replicate-design file: %s %s",
                       fields[k], what);
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    svy_repinfo *ri = ctx;
    char b[7][512];
    const char *f[7];
    for (int k = 0; k < 7; k++)
        f[k] = field(ri, row, k, b[k], sizeof b[k]);
    svy_reptype t;
    double scale, rs, rho = NAN;
    if (!f[0][0])
        return bad(ri, row, 0, err, "is empty");
    if (!svy_reptype_parse(f[1], &t))
        return bad(ri, row, 1, err, "is not one of jk1, jkn, brr, fay, bootstrap, sdr, other");
    if (!svy_parse_number(f[2], (size_t)-1, &scale) || !(scale > 0))
        return bad(ri, row, 2, err, "is not a positive number");
    if (!svy_parse_number(f[3], (size_t)-1, &rs) || !(rs >= 0))
        return bad(ri, row, 3, err, "is not a number of 0 or more");
    if (f[4][0] && !svy_parse_number(f[4], (size_t)-1, &rho))
        return bad(ri, row, 4, err, "is not a number");
    if (strcmp(f[5], "0") != 0 && strcmp(f[5], "1") != 0)
        return bad(ri, row, 5, err, "is neither 0 nor 1");
    if (!f[6][0])
        return bad(ri, row, 6, err, "is empty");
    int mse = f[5][0] == '1';
    if (ri->n == 0) {
        ri->d.type = t;
        ri->scale = scale;
        ri->rho = rho;
        ri->mse = mse;
        if (!(ri->weight = svy_strdup(f[6])))
            return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    } else {
        if (t != ri->d.type)
            return bad(ri, row, 1, err, "differs from the first row's: every row must have the same");
        if (scale != ri->scale)
            return bad(ri, row, 2, err, "differs from the first row's: every row must have the same");
        if (!(rho == ri->rho || (isnan(rho) && isnan(ri->rho))))
            return bad(ri, row, 4, err, "differs from the first row's: every row must have the same");
        if (mse != ri->mse)
            return bad(ri, row, 5, err, "differs from the first row's: every row must have the same");
        if (strcmp(f[6], ri->weight) != 0)
            return bad(ri, row, 6, err, "differs from the first row's: every row must have the same");
    }
    size_t c1 = ri->cap, c2 = ri->caprs;
    if (!svy_grow((void **)&ri->cols, &c1, ri->n + 1, sizeof *ri->cols) ||
        !svy_grow((void **)&ri->rscales, &c2, ri->n + 1, sizeof *ri->rscales))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    ri->cap = c1;
    ri->caprs = c2;
    if (!(ri->cols[ri->n] = svy_strdup(f[0])))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    ri->rscales[ri->n++] = rs;
    return SVY_OK;
}

svy_status svy_repinfo_read(const char *path, svy_repinfo **out, svy_err *err)
{
    *out = NULL;
    svy_repinfo *ri = svy_calloc(1, sizeof *ri);
    svy_reader *r = svy_reader_new();
    if (!ri || !r) {
        free(ri);
        svy_reader_free(r);
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    svy_repdesign_init(&ri->d);
    svy_handler h = {on_schema, on_row};
    svy_status st = svy_reader_open(r, path, err);
    if (st == SVY_OK)
        st = svy_reader_run(r, &h, ri, err);
    if (st == SVY_OK && ri->n == 0)
        st = svy_err_set(err, SVY_E_DATA, NULL, 0, 0, NULL, "replicate-design file: no replicate rows");
    if (st != SVY_OK && !err->file[0])
        snprintf(err->file, sizeof err->file, "%s", path);
    svy_reader_free(r);
    if (st != SVY_OK) {
        svy_repinfo_free(ri);
        return st;
    }
    *out = ri;
    return SVY_OK;
}

const svy_repdesign *svy_repinfo_design(const svy_repinfo *ri)
{
    svy_repinfo *m = (svy_repinfo *)ri;
    m->d.cols = (const char *const *)ri->cols;
    m->d.ncols = ri->n;
    m->d.scale = ri->scale;
    m->d.rho = ri->rho;
    m->d.mse = ri->mse;
    m->d.rscales = ri->rscales;
    m->d.nrscales = ri->n;
    return &ri->d;
}

const char *svy_repinfo_weight(const svy_repinfo *ri)
{
    return ri->weight;
}
