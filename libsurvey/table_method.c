/* The design and method of a table in one paragraph, from the message
 * catalogue (messages.c): the footer of report formats, the method column
 * of machine formats. */
#include "svy_private.h"
#include "table_private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <survey/calibrate.h>
#include <survey/replicate.h>

/* The design's roles, stage by stage, then the weights, into design[size]. */
static void design_text(const svy_est *e, svy_lang L, char *design, size_t size)
{
    const svy_design *d = svy_est_design(e);
    const svy_est_info *in = svy_est_design_info(e);
    char part[400], num[32];
    size_t u = 0;
    design[0] = '\0';
#define PUT(...) u += (size_t)snprintf(design + u, u < size ? size - u : 0, __VA_ARGS__)
#define PUTMSG(...) (svy_msg_format(part, sizeof part, L, __VA_ARGS__, (const char *)NULL), PUT("%s", part))
    size_t stages = d->npsu ? d->npsu : 1;
    for (size_t s = 0; s < stages; s++) {
        int first = 1;
        if (s)
            PUT("%s", svy_msg(L, SVY_MSG_TAB_STAGE_SEP));
        if (stages > 1) {
            snprintf(num, sizeof num, "%zu", s + 1);
            PUTMSG(SVY_MSG_TAB_STAGE, num);
            PUT(" ");
        }
        const char *strata = d->nstrata > s ? d->strata[s] : NULL;
        if (strata) {
            PUTMSG(SVY_MSG_TAB_ROLE_STRATA, strata);
            first = 0;
        }
        if (d->npsu) {
            if (!first)
                PUT("%s", svy_msg(L, SVY_MSG_TAB_LIST_SEP));
            PUTMSG(s == 0 ? SVY_MSG_TAB_ROLE_PSU : SVY_MSG_TAB_ROLE_UNIT, d->psu[s]);
            first = 0;
        }
        if (d->nfpc) {
            if (!first)
                PUT("%s", svy_msg(L, SVY_MSG_TAB_LIST_SEP));
            PUTMSG(SVY_MSG_TAB_ROLE_FPC, d->fpc[s]);
            first = 0;
        }
        if (first && stages == 1)
            PUT("%s", svy_msg(L, SVY_MSG_TAB_EVERY_ROW_PSU));
    }
    PUT("%s", svy_msg(L, SVY_MSG_TAB_STAGE_SEP));
    if (d->weight)
        PUTMSG(SVY_MSG_TAB_ROLE_WEIGHT, d->weight);
    else
        PUT("%s", svy_msg(L, in->weights == SVY_WEIGHTS_FPC ? SVY_MSG_TAB_WEIGHTS_FPC : SVY_MSG_TAB_UNWEIGHTED));
#undef PUTMSG
#undef PUT
    if (u >= size)
        design[size - 1] = '\0';
}

/* Rows, zero weights, strata, PSUs and later stages' units, into counts[size]. */
static void counts_text(const svy_est *e, svy_lang L, char *counts, size_t size)
{
    const svy_est_info *in = svy_est_design_info(e);
    char zero[200] = "", later[400] = "", part[400], num[3][32];
    if (in->zero_weight_rows) {
        snprintf(num[0], sizeof num[0], "%lld", in->zero_weight_rows);
        svy_msg_format(zero, sizeof zero, L, SVY_MSG_TAB_ZERO_WEIGHTS, num[0], (const char *)NULL);
    }
    for (size_t s = 1, v = 0; s < in->nstages && v < sizeof later; s++) {
        snprintf(num[0], sizeof num[0], "%zu", in->nunits[s]);
        snprintf(num[1], sizeof num[1], "%zu", s + 1);
        svy_msg_format(part, sizeof part, L, SVY_MSG_TAB_UNITS_AT_STAGE, num[0], num[1], (const char *)NULL);
        v += (size_t)snprintf(later + v, sizeof later - v, "%s", part);
    }
    snprintf(num[0], sizeof num[0], "%lld", svy_est_rows(e));
    snprintf(num[1], sizeof num[1], "%zu", svy_est_nstrata(e));
    snprintf(num[2], sizeof num[2], "%zu", svy_est_npsu(e));
    svy_msg_format(counts, size, L, SVY_MSG_TAB_COUNTS, num[0], zero, num[1], num[2], later, (const char *)NULL);
}

/* How the variance was taken (stages, fpc), into var[size]. */
static void variance_text(const svy_est *e, svy_lang L, char *var, size_t size)
{
    const svy_design *d = svy_est_design(e);
    const svy_est_info *in = svy_est_design_info(e);
    size_t stages = d->npsu ? d->npsu : 1;
    char num[32];
    const char *fpc = svy_msg(L, d->nfpc ? (in->fpc_fraction ? SVY_MSG_TAB_FPC_FRACTIONS : SVY_MSG_TAB_FPC_COUNTS)
                                         : SVY_MSG_TAB_FPC_NONE);
    if (in->var_stages > 1) {
        snprintf(num, sizeof num, "%zu", in->var_stages);
        svy_msg_format(var, size, L, SVY_MSG_TAB_VAR_MULTI, num, fpc, (const char *)NULL);
    } else if (stages > 1)
        svy_msg_format(var, size, L, d->ultimate_cluster ? SVY_MSG_TAB_VAR_FIRST_ASKED : SVY_MSG_TAB_VAR_FIRST_NOFPC,
                       fpc, (const char *)NULL);
    else
        svy_msg_format(var, size, L, SVY_MSG_TAB_VAR_ONE, fpc, (const char *)NULL);
}

/* The degrees of freedom rule, into df[size]. */
static void df_text(const svy_design *d, svy_lang L, char *df, size_t size)
{
    switch (d->df_rule) {
    case SVY_DF_DOMAIN:
        snprintf(df, size, "%s", svy_msg(L, SVY_MSG_TAB_DF_DOMAIN));
        break;
    case SVY_DF_FULL:
        snprintf(df, size, "%s", svy_msg(L, SVY_MSG_TAB_DF_FULL));
        break;
    case SVY_DF_INF:
        snprintf(df, size, "%s", svy_msg(L, SVY_MSG_TAB_DF_INF));
        break;
    default:
        snprintf(df, size, "%g", d->df);
        break;
    }
}

static void diff_text(const svy_est *e, const svy_table_opts *o, svy_lang L, char *out, size_t size);

/* A replicate-weight design's paragraph (English only for now): the type,
 * scale, rscales and centring R's svrepdesign() used, and the df rule. */
static char *rep_method(grid *g, const svy_est *e, const svy_rep_info *ri, const svy_table_opts *o, int percent,
                        const char *s_ci)
{
    const svy_design *d = svy_est_design(e);
    char rs[80], df[120], rho[40] = "";
    if (ri->rscale_min == ri->rscale_max)
        snprintf(rs, sizeof rs, "%.10g", ri->rscale_min);
    else
        snprintf(rs, sizeof rs, "%.10g to %.10g", ri->rscale_min, ri->rscale_max);
    if (ri->type == SVY_REP_FAY)
        snprintf(rho, sizeof rho, ", rho %g", ri->rho);
    if (d->df_rule == SVY_DF_DOMAIN)
        snprintf(df, sizeof df, "rank of the domain's replicate weights minus 1");
    else if (d->df_rule == SVY_DF_FULL)
        snprintf(df, sizeof df, "rank of the replicate weights minus 1");
    else
        df_text(d, o->lang, df, sizeof df);
    char s_diff[700];
    diff_text(e, o, o->lang, s_diff, sizeof s_diff);
    return svy_grid_printf(g,
                           "Design: replicate weights (R's svrepdesign, combined weights): %s, %zu replicates%s, "
                           "scale %.10g, rscales %s, centred on %s; weight %s; %lld rows. Variance: scale * sum of "
                           "rscale * (replicate estimate - centre)^2. %s%s Degrees of freedom: %s.%s%s",
                           svy_reptype_name(ri->type), ri->nrep, rho, ri->scale, rs,
                           ri->mse ? "the full-sample estimate (mse)" : "the replicates' mean",
                           d->weight ? d->weight : "none (1)", svy_est_rows(e),
                           percent ? svy_msg(o->lang, SVY_MSG_TAB_PERCENT) : "", s_ci, df, s_diff,
                           o->note ? o->note : "");
}

/* --diff: how the differences' SE, df and p were computed; empty without
 * differences.  The reference is labelled as in the table. */
static void diff_text(const svy_est *e, const svy_table_opts *o, svy_lang L, char *out, size_t size)
{
    out[0] = '\0';
    long k = svy_est_diff_by(e);
    if (k < 0)
        return;
    const svy_est_result *r = NULL;
    for (size_t i = 0; i < svy_est_count(e) && !r; i++)
        if (svy_est_get(e, i)->reference)
            r = svy_est_get(e, i);
    if (!r)
        return;
    char dfn[40], df[120];
    snprintf(dfn, sizeof dfn, "%.17g", r->df);
    if (isinf(r->df))
        snprintf(df, sizeof df, "%s", svy_msg(L, SVY_MSG_TAB_DIFF_NORMAL));
    else
        svy_msg_format(df, sizeof df, L, SVY_MSG_TAB_DIFF_T, dfn, (const char *)NULL);
    const char *by = svy_est_by_name(e, (size_t)k);
    svy_rep_info ri;
    int rep = svy_est_rep_info(e, &ri);
    svy_msg_format(out, size, L, rep ? SVY_MSG_TAB_DIFF_NOTE_REP : SVY_MSG_TAB_DIFF_NOTE, by,
                   svy_table_label_of(o, by, r->reference), df,
                   svy_est_design(e)->df_rule == SVY_DF_DOMAIN || svy_est_design(e)->df_rule == SVY_DF_FULL
                       ? svy_msg(L, rep ? SVY_MSG_TAB_DIFF_REP_DF : SVY_MSG_TAB_DIFF_DESIGN_DF)
                       : "",
                   (const char *)NULL);
}

/* --calibrated-to: the variance knows the calibration; empty without
 * margins. */
static void calib_text(const svy_est *e, svy_lang L, char *out, size_t size)
{
    out[0] = '\0';
    size_t n = svy_est_calibration_count(e);
    if (!n)
        return;
    char list[1000];
    size_t off = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n && off < sizeof list; i++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? svy_msg(L, SVY_MSG_TAB_LIST_SEP) : "",
                                svy_est_calibration_margin(e, i));
    svy_msg_format(out, size, L, n >= 2 ? SVY_MSG_TAB_CALIB_RAKED : SVY_MSG_TAB_CALIB_POSTSTRAT, list,
                   (const char *)NULL);
}

char *svy_table_method(grid *g, const svy_est *e, const svy_table_opts *o, int percent, int report)
{
    const svy_design *d = svy_est_design(e);
    svy_lang L = o->lang;
    svy_rep_info ri;
    if (svy_est_rep_info(e, &ri)) {
        static const svy_msg_id cit[] = {SVY_MSG_TAB_CI_LOGIT, SVY_MSG_TAB_CI_WALD, SVY_MSG_TAB_CI_BETA,
                                         SVY_MSG_TAB_CI_WILSON};
        char lv[32], s_ci[300];
        snprintf(lv, sizeof lv, "%g", d->level * 100);
        svy_msg_format(s_ci, sizeof s_ci, L, SVY_MSG_TAB_CI, lv, svy_msg(L, cit[d->ci]), (const char *)NULL);
        return rep_method(g, e, &ri, o, percent, s_ci);
    }
    char design[1400], counts[800], var[600], df[200];
    design_text(e, L, design, sizeof design);
    counts_text(e, L, counts, sizeof counts);
    variance_text(e, L, var, sizeof var);
    df_text(d, L, df, sizeof df);
    static const svy_msg_id ci_text[] = {SVY_MSG_TAB_CI_LOGIT, SVY_MSG_TAB_CI_WALD, SVY_MSG_TAB_CI_BETA,
                                         SVY_MSG_TAB_CI_WILSON};
    static const svy_msg_id lonely_text[] = {SVY_MSG_TAB_LONELY_FAIL, SVY_MSG_TAB_LONELY_REMOVE,
                                             SVY_MSG_TAB_LONELY_CERTAINTY, SVY_MSG_TAB_LONELY_ADJUST,
                                             SVY_MSG_TAB_LONELY_AVERAGE};
    char level[32];
    snprintf(level, sizeof level, "%g", d->level * 100);
    char s_design[2600], s_ci[300], s_df[400], s_lonely[200];
    svy_msg_format(s_design, sizeof s_design, L, SVY_MSG_TAB_DESIGN, design, counts, var, (const char *)NULL);
    svy_msg_format(s_ci, sizeof s_ci, L, SVY_MSG_TAB_CI, level, svy_msg(L, ci_text[d->ci]), (const char *)NULL);
    svy_msg_format(s_df, sizeof s_df, L, SVY_MSG_TAB_DF, df, (const char *)NULL);
    svy_msg_format(s_lonely, sizeof s_lonely, L, SVY_MSG_TAB_LONELY,
                   (unsigned)d->lonely < 5 ? svy_msg(L, lonely_text[d->lonely]) : svy_lonely_name(d->lonely),
                   (const char *)NULL);
    int any_nv = 0, any_ne = 0;
    for (size_t i = 0; i < svy_est_count(e); i++) {
        any_nv |= (svy_est_get(e, i)->flags & SVY_FLAG_NO_VARIANCE) != 0;
        any_ne |= (svy_est_get(e, i)->flags & SVY_FLAG_NO_ESTIMATE) != 0;
    }
    int wide = o->layout == SVY_TABLE_WIDE && report;
    char s_diff[700], s_cal[1400];
    diff_text(e, o, L, s_diff, sizeof s_diff);
    calib_text(e, L, s_cal, sizeof s_cal);
    return svy_grid_printf(g, "%s%s%s%s%s%s%s%s%s%s%s", s_design, s_cal, percent ? svy_msg(L, SVY_MSG_TAB_PERCENT) : "", s_ci,
                           s_df, s_diff, s_lonely, report && o->flag ? svy_msg(L, SVY_MSG_TAB_FLAG_NOTE) : "",
                           wide && any_nv ? svy_msg(L, SVY_MSG_TAB_NOTE_NO_VARIANCE) : "",
                           wide && any_ne ? svy_msg(L, SVY_MSG_TAB_NOTE_NO_ESTIMATE) : "", o->note ? o->note : "");
}
