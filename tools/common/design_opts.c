/* The shared design flags (see design_opts.h), of svy-tab and svy-model. */
#include "design_opts.h"

#include <stdlib.h>
#include <string.h>

#include "tool.h"

void svy_design_opts_init(svy_design_opts *o)
{
    memset(o, 0, sizeof *o);
    svy_design_init(&o->d);
}

void svy_design_opts_free(svy_design_opts *o)
{
    free(o->psu);
    free(o->strata);
    free(o->fpc);
    svy_codebook_free(o->cb);
    o->psu = o->strata = o->fpc = NULL;
    o->cb = NULL;
}

/* A design flag's list of columns, one per stage; empty names are errors. */
static void set_list(char ***dst, size_t *n, const char *opt, const char *arg)
{
    free(*dst);
    *dst = svy_tool_split_list(arg, n);
    for (size_t i = 0; i < *n; i++)
        if (!(*dst)[i][0])
            svy_tool_usage_error("%s: empty column name in '%s'", opt, arg);
    if (*n > SVY_STAGES_MAX)
        svy_tool_usage_error("%s: %zu stages; at most %d are supported", opt, *n, SVY_STAGES_MAX);
}

int svy_design_opts_parse(svy_design_opts *o, int c, const char *arg)
{
    switch (c) {
    case 'c':
        o->codebook = arg;
        return 1;
    case 'p':
        set_list(&o->psu, &o->d.npsu, "--psu", arg);
        o->d.psu = (const char *const *)o->psu;
        return 1;
    case 'q':
        o->quiet = 1;
        return 1;
    case 's':
        set_list(&o->strata, &o->d.nstrata, "--strata", arg);
        o->d.strata = (const char *const *)o->strata;
        return 1;
    case 'w':
        o->d.weight = arg;
        return 1;
    case SVY_DOPT_FPC:
        set_list(&o->fpc, &o->d.nfpc, "--fpc", arg);
        o->d.fpc = (const char *const *)o->fpc;
        return 1;
    case SVY_DOPT_ULTIMATE:
        o->d.ultimate_cluster = 1;
        return 1;
    case SVY_DOPT_LONELY:
        o->lonely_given = 1;
        if (!svy_lonely_parse(arg, &o->d.lonely))
            svy_tool_usage_error("--lonely: unknown rule '%s' (fail, remove, certainty, adjust, average)", arg);
        return 1;
    case SVY_DOPT_LANG:
        if (!svy_lang_parse(arg, &o->lang))
            svy_tool_usage_error("--lang: '%s' is neither zh nor en", arg);
        o->lang_given = 1;
        return 1;
    default:
        return 0;
    }
}

/* The codebook's columns with a design role, stage by stage. */
static size_t cb_stages(const svy_codebook *cb, svy_role role, const char **out, size_t stages)
{
    size_t n = 0;
    while (n < stages && (out[n] = svy_codebook_role_stage(cb, role, (int)n + 1)))
        n++;
    return n;
}

svy_status svy_design_opts_resolve(svy_design_opts *o, svy_err *err)
{
    o->weight_given = o->d.weight != NULL;
    o->roles_given = o->d.nstrata && o->d.npsu && o->d.nfpc;
    if (!o->codebook)
        return SVY_OK;
    svy_status st = svy_codebook_load(o->codebook, &o->cb, err);
    if (st)
        return st;
    o->cb_weight = svy_codebook_role(o->cb, SVY_ROLE_WEIGHT);
    if (!o->d.weight)
        o->d.weight = o->cb_weight;
    if (!o->d.npsu) {
        o->d.npsu = cb_stages(o->cb, SVY_ROLE_PSU, o->cb_psu, SVY_STAGES_MAX);
        o->d.psu = o->cb_psu;
    }
    size_t stages = o->d.npsu ? o->d.npsu : 1;
    if (!o->d.nstrata) {
        o->d.nstrata = cb_stages(o->cb, SVY_ROLE_STRATA, o->cb_strata, stages);
        o->d.strata = o->cb_strata;
    }
    if (!o->d.nfpc) {
        o->d.nfpc = cb_stages(o->cb, SVY_ROLE_FPC, o->cb_fpc, stages);
        o->d.fpc = o->cb_fpc;
    }
    return SVY_OK;
}

static const char *stage_list(const char *const *cols, size_t n, const char *none, char *buf, size_t size)
{
    if (n == 0)
        return none;
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++) {
        int k = snprintf(buf + len, size - len, "%s%s", i ? "," : "", cols[i]);
        if (k < 0)
            break;
        len += (size_t)k;
    }
    return buf;
}

static void say_design(const svy_design_opts *o)
{
    if (!o->cb || o->quiet || (o->weight_given && o->roles_given))
        return;
    const svy_design *d = &o->d;
    char w[300], sb[300], pb[300], fb[300];
    if (o->weight_given)
        snprintf(w, sizeof w, "%s (-w)", d->weight);
    else if (o->weight_final)
        snprintf(w, sizeof w, "%s (the input's final weight, not the codebook's design weight %s)", d->weight,
                 o->cb_weight ? o->cb_weight : "(none)");
    else if (d->weight)
        snprintf(w, sizeof w, "%s (the codebook's design weight)", d->weight);
    else if (d->nfpc)
        snprintf(w, sizeof w, "none (derived from the fpc, N/n over stages)");
    else
        snprintf(w, sizeof w, "none (every row weighs 1)");
    fprintf(stderr, "%s: design: weight %s; strata %s; PSU %s; FPC %s (-w, -s, -p, --fpc override; -q: quiet)\n",
            svy_tool_name(), w, stage_list(d->strata, d->nstrata, "none", sb, sizeof sb),
            stage_list(d->psu, d->npsu, "none (each row)", pb, sizeof pb),
            stage_list(d->fpc, d->nfpc, "none", fb, sizeof fb));
}

/* The weight, when the user gave none: an input that holds a final weight
 * (svy-weight's) is analysed with it, not with the codebook's design weight. */
static svy_status choose_weight(svy_design_opts *o, const svy_schema *schema, svy_err *err)
{
    if (o->weight_given)
        return SVY_OK;
    int ambiguous;
    const char *fw = svy_final_weight_find(schema, &ambiguous);
    if (!fw)
        return SVY_OK;
    if (ambiguous && o->cb)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, fw,
                           "the input holds more than one final weight (%s is one); choose with -w", fw);
    if (!o->cb) {
        if (!o->quiet)
            svy_tool_warn("warning: the input holds the final weight %s, but no weight was given: "
                          "every row weighs 1 (-w %s uses it)", fw, fw);
        return SVY_OK;
    }
    if (o->d.weight && strcmp(o->d.weight, fw) == 0)
        return SVY_OK;
    o->d.weight = fw;
    o->weight_final = 1;
    svy_msg_format(o->note, sizeof o->note, o->lang_given ? o->lang : SVY_LANG_EN, SVY_MSG_TAB_FINAL_WEIGHT_NOTE,
                   fw, o->cb_weight ? o->cb_weight : "-", (const char *)NULL);
    return SVY_OK;
}

svy_status svy_design_opts_weigh(svy_design_opts *o, svy_schema *schema, svy_err *err)
{
    if (o->cb) {
        svy_status st = svy_codebook_apply_labels(o->cb, schema, o->lang, err);
        if (st)
            return st;
    }
    return choose_weight(o, schema, err);
}

void svy_design_opts_say(const svy_design_opts *o)
{
    say_design(o);
}

svy_status svy_design_opts_on_schema(svy_design_opts *o, svy_schema *schema, svy_err *err)
{
    svy_status st = svy_design_opts_weigh(o, schema, err);
    if (st)
        return st;
    svy_design_opts_say(o);
    return SVY_OK;
}
