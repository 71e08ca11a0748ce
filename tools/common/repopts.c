/* The replicate-weight flags shared by the estimating tools. */
#include "repopts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

void svy_repopts_init(svy_repopts *o)
{
    memset(o, 0, sizeof *o);
    o->type = SVY_REP_JK1;
    o->rho = NAN;
    o->scale = NAN;
}

void svy_repopts_free(svy_repopts *o)
{
    free(o->cols);
    free(o->rscales);
    svy_repinfo_free(o->ri);
}

static double number(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        svy_tool_usage_error("%s: '%s' is not a number", opt, s);
    return v;
}

/* --rscales: a comma list of numbers, or a file of numbers (one a line, or
 * separated by commas or blanks). */
static void read_rscales(svy_repopts *o, const char *arg)
{
    char *text = NULL;
    char *end;
    strtod(arg, &end);
    if (strchr(arg, ',') || (end != arg && *end == '\0')) {
        text = strdup(arg);
    } else {
        FILE *f = fopen(arg, "rb");
        if (!f)
            svy_tool_die(SVY_EXIT_IO, "--rscales: cannot open %s: %s", arg, strerror(errno));
        size_t cap = 4096, n = 0;
        text = malloc(cap);
        for (size_t k; text && (k = fread(text + n, 1, cap - n - 1, f)) > 0;) {
            n += k;
            if (n + 1 == cap)
                text = realloc(text, cap *= 2);
        }
        if (ferror(f))
            svy_tool_die(SVY_EXIT_IO, "--rscales: cannot read %s", arg);
        fclose(f);
        if (text)
            text[n] = '\0';
    }
    if (!text)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    free(o->rscales);
    o->rscales = NULL;
    o->nrscales = 0;
    size_t cap = 0;
    for (char *tok = strtok(text, ", \t\r\n"); tok; tok = strtok(NULL, ", \t\r\n")) {
        if (o->nrscales == cap) {
            cap = cap ? 2 * cap : 64;
            double *p = realloc(o->rscales, cap * sizeof *p);
            if (!p)
                svy_tool_die(SVY_EXIT_IO, "out of memory");
            o->rscales = p;
        }
        o->rscales[o->nrscales++] = number("--rscales", tok);
    }
    if (o->nrscales == 0)
        svy_tool_usage_error("--rscales: no number in '%s'", arg);
    free(text);
}

int svy_repopts_option(svy_repopts *o, int c, const char *arg)
{
    switch (c) {
    case SVY_REPOPT_WEIGHTS:
        free(o->cols);
        o->cols = svy_tool_split_list(arg, &o->ncols);
        for (size_t i = 0; i < o->ncols; i++)
            if (!o->cols[i][0] || strcmp(o->cols[i], "*") == 0)
                svy_tool_usage_error("--repweights: empty column name or prefix in '%s'", arg);
        break;
    case SVY_REPOPT_TYPE:
        if (!svy_reptype_parse(arg, &o->type))
            svy_tool_usage_error("--reptype: unknown type '%s' (jk1, jkn, brr, fay, bootstrap, sdr, other)", arg);
        o->type_given = 1;
        break;
    case SVY_REPOPT_RHO:
        o->rho = number("--rho", arg);
        if (!(o->rho >= 0 && o->rho < 1))
            svy_tool_usage_error("--rho: %s is not in [0, 1)", arg);
        break;
    case SVY_REPOPT_SCALE:
        o->scale = number("--scale", arg);
        if (!(o->scale > 0))
            svy_tool_usage_error("--scale: %s is not a positive number", arg);
        break;
    case SVY_REPOPT_RSCALES:
        read_rscales(o, arg);
        break;
    case SVY_REPOPT_MSE:
        o->mse = 1;
        break;
    case SVY_REPOPT_INFO:
        o->repinfo = arg;
        break;
    default:
        return 0;
    }
    o->any = 1;
    return 1;
}

void svy_repopts_design(svy_repopts *o, svy_repdesign *d, const char **weight)
{
    svy_repdesign_init(d);
    *weight = NULL;
    if (o->repinfo) {
        if (o->ncols || o->type_given || !isnan(o->rho) || !isnan(o->scale) || o->nrscales || o->mse)
            svy_tool_usage_error("--repinfo gives the replicate design: leave out --repweights, --reptype, "
                                 "--rho, --scale, --rscales and --mse");
        svy_err err;
        svy_err_clear(&err);
        if (svy_repinfo_read(o->repinfo, &o->ri, &err) != SVY_OK)
            exit(svy_tool_report(&err));
        *d = *svy_repinfo_design(o->ri);
        *weight = svy_repinfo_weight(o->ri);
        return;
    }
    if (!o->ncols)
        svy_tool_usage_error("--reptype, --rho, --scale, --rscales and --mse need --repweights (or --repinfo)");
    d->cols = (const char *const *)o->cols;
    d->ncols = o->ncols;
    d->type = o->type;
    d->rho = o->rho;
    d->scale = o->scale;
    d->rscales = o->rscales;
    d->nrscales = o->nrscales;
    d->mse = o->mse;
}
