/* svy-weight --replicates: option checks, replicate columns and the
 * replicate-design file (the format both svy-weight and svy-tab --repinfo
 * use: column,type,scale,rscale,rho,mse,weight). */
#include "weight_rep_opts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/* The first of a comma list: replicates are made from stage 1 only. */
static char *first_stage(const char *list, const char *flag)
{
    if (!list)
        return NULL;
    size_t n = 0;
    char **v = svy_tool_split_list(list, &n);
    if (!v || !n || !*v[0])
        svy_tool_usage_error("%s needs a column name", flag);
    char *s = strdup(v[0]);
    if (!s)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    if (n > 1) /* a design simplification: said even with --quiet */
        svy_tool_warn("note: %s %s: replicates use stage 1 only (%s); later stages are dropped, as R's "
                      "as.svrepdesign() drops them: each replicate deletes or resamples whole PSUs",
                      flag, list, s);
    free(v);
    return s;
}

svy_wrep *wrep_tool_setup(const struct wrep_opts *o)
{
    if (!o->spec) {
        if (o->strata || o->psu || o->fpc || o->repinfo || o->seed)
            svy_tool_usage_error("--strata, --psu, --fpc, --seed and --repinfo go with --replicates");
        return NULL;
    }
    svy_reptype type;
    size_t nboot = 0;
    double rho = 0;
    if (strcmp(o->spec, "jk1") == 0)
        type = SVY_REP_JK1;
    else if (strcmp(o->spec, "jkn") == 0)
        type = SVY_REP_JKN;
    else if (strcmp(o->spec, "brr") == 0)
        type = SVY_REP_BRR;
    else if (strncmp(o->spec, "fay:", 4) == 0) {
        type = SVY_REP_FAY;
        char *end;
        rho = strtod(o->spec + 4, &end);
        if (!o->spec[4] || *end || !(rho > 0 && rho < 1))
            svy_tool_usage_error("--replicates fay:RHO needs RHO above 0 and below 1, not '%s'", o->spec + 4);
    }
    else if (strncmp(o->spec, "bootstrap", 9) == 0 && (o->spec[9] == '\0' || o->spec[9] == ':')) {
        type = SVY_REP_BOOTSTRAP;
        if (o->spec[9] == ':') {
            char *end;
            unsigned long n = strtoul(o->spec + 10, &end, 10);
            if (!o->spec[10] || *end || n < 2 || n > 100000)
                svy_tool_usage_error("--replicates bootstrap:N needs N from 2 to 100000, not '%s'", o->spec + 10);
            nboot = n;
        }
    } else {
        svy_tool_usage_error("--replicates '%s': use jk1, jkn, brr, fay:RHO or bootstrap[:N]", o->spec);
    }
    if (o->seed && type != SVY_REP_BOOTSTRAP)
        svy_tool_usage_error("--seed is for --replicates bootstrap");
    unsigned long seed = 1;
    if (o->seed) {
        char *end;
        seed = strtoul(o->seed, &end, 10);
        if (!*o->seed || *end)
            svy_tool_usage_error("--seed '%s' is not a whole number", o->seed);
    }
    if (type == SVY_REP_JKN && !o->strata)
        svy_tool_usage_error("--replicates jkn needs --strata (unstratified: jk1 or bootstrap)");
    if ((type == SVY_REP_BRR || type == SVY_REP_FAY) && !o->strata)
        svy_tool_usage_error("--replicates %s needs --strata (two PSUs per stratum)", svy_reptype_name(type));
    if ((type == SVY_REP_BRR || type == SVY_REP_FAY) && o->fpc)
        svy_tool_usage_error("--replicates %s does not use --fpc (R's as.svrepdesign drops it with a warning)",
                             svy_reptype_name(type));
    if (type == SVY_REP_JK1 && o->strata)
        svy_tool_usage_error("--replicates jk1 is for an unstratified design: use jkn with --strata");
    char *strata = first_stage(o->strata, "--strata");
    char *psu = first_stage(o->psu, "--psu");
    char *fpc = first_stage(o->fpc, "--fpc");
    svy_err err;
    svy_err_clear(&err);
    svy_wrep *r = svy_wrep_new();
    if (!r || svy_wrep_set_type(r, type, nboot, seed, &err) || svy_wrep_set_design(r, strata, psu, fpc, &err) ||
        (type == SVY_REP_FAY && svy_wrep_set_rho(r, rho, &err)))
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    free(strata);
    free(psu);
    free(fpc);
    return r;
}

void wrep_tool_colname(const char *out, size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "%s_r%zu", out, i + 1);
}

svy_status wrep_tool_schema(const svy_wrep *r, const char *out, svy_schema *s, const char *src, svy_err *err)
{
    size_t n = svy_wrep_count(r), len = strlen(out) + 32;
    char *name = malloc(len);
    if (!name)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        wrep_tool_colname(out, i, name, len);
        if (svy_schema_find(s, name) >= 0) {
            svy_status st = svy_err_set(err, SVY_E_USAGE, src, 0, 0, name,
                                        "the input already has a column %s (choose another --out)", name);
            free(name);
            return st;
        }
        svy_var *v = svy_schema_add(s, name, SVY_VAR_NUMERIC, err);
        if (!v) {
            free(name);
            return err->code ? err->code : SVY_E_NOMEM;
        }
        char label[80];
        snprintf(label, sizeof label, "replicate %zu of %zu (%s), weighted again", i + 1, n, svy_wrep_type_name(r));
        if (svy_var_set_label(v, label) != SVY_OK) {
            free(name);
            return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        }
    }
    free(name);
    return SVY_OK;
}

svy_status wrep_tool_repinfo(const svy_wrep *r, const char *path, const char *out, svy_err *err)
{
    svy_outfile *of;
    svy_status st = svy_outfile_open(path, &of, err);
    if (st)
        return st;
    svy_csv_out *c = svy_csv_out_new(svy_outfile_stream(of), ',');
    size_t len = strlen(out) + 32;
    char *name = malloc(len);
    if (!c || !name) {
        free(name);
        svy_csv_out_free(c);
        svy_outfile_abort(of);
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    static const char *const head[] = {"column", "type", "scale", "rscale", "rho", "mse", "weight"};
    for (size_t j = 0; j < sizeof head / sizeof *head; j++)
        svy_csv_out_cstr(c, head[j]);
    svy_csv_out_end_row(c);
    for (size_t i = 0; i < svy_wrep_count(r); i++) {
        wrep_tool_colname(out, i, name, len);
        svy_csv_out_cstr(c, name);
        svy_csv_out_cstr(c, svy_wrep_type_name(r));
        svy_csv_out_num(c, svy_wrep_scale(r));
        svy_csv_out_num(c, svy_wrep_rscale(r, i));
        if (isnan(svy_wrep_rho(r)))
            svy_csv_out_empty(c);
        else
            svy_csv_out_num(c, svy_wrep_rho(r));
        svy_csv_out_int(c, 0); /* R's default, getOption("survey.replicates.mse") */
        svy_csv_out_cstr(c, out);
        svy_csv_out_end_row(c);
    }
    free(name);
    st = svy_csv_out_flush(c, path, err);
    svy_csv_out_free(c);
    if (st) {
        svy_outfile_abort(of);
        return st;
    }
    return svy_outfile_commit(of, err);
}
