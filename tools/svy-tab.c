/* svy-tab: design-based rates, means and totals by domain, as R's survey
 * package computes them, in one pass over any supported input. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "design_opts.h"
#include "repopts.h"
#include <survey/calibrate.h>
#include <survey/subpop.h>

#include "tab.h"
#include "tab_usage.h"
#include "tool.h"


/* --ratio NUM/DEN: cut item at the first '/', *den the denominator (owned);
 * returns the cut (never NULL). */
static char *ratio_den(char *item, char **den)
{
    char *slash = strchr(item, '/');
    if (!slash || !slash[1] || slash == item)
        svy_tool_usage_error("--ratio: '%s' is not NUM/DEN (two columns)", item);
    *slash = '\0';
    if (!(*den = strdup(slash + 1)))
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    return slash;
}

static void add_outs(tab *T, svy_stat stat, const char *list)
{
    size_t n;
    char **items = svy_tool_split_list(list, &n);
    for (size_t i = 0; i < n; i++) {
        if (T->nouts == T->capouts) {
            T->capouts = T->capouts ? T->capouts * 2 : 8;
            T->outs = realloc(T->outs, T->capouts * sizeof *T->outs);
            if (!T->outs)
                svy_tool_die(SVY_EXIT_IO, "out of memory");
        }
        outspec *o = &T->outs[T->nouts++];
        o->stat = stat;
        o->value = NULL;
        o->unchecked = 0;
        o->median = 0;
        char *eq = stat == SVY_STAT_RATE ? strchr(items[i], '=') : NULL;
        if (eq) {
            *eq = '\0';
            if (!eq[1])
                svy_tool_usage_error("--rate %s=: empty value", items[i]);
            o->value = strdup(eq + 1);
        }
        if (stat == SVY_STAT_RATIO)
            eq = ratio_den(items[i], &o->value);
        if (!*items[i])
            svy_tool_usage_error("--%s: empty column name in '%s'", svy_stat_name(stat), list);
        o->column = strdup(items[i]);
        if (!o->column || (eq && !o->value))
            svy_tool_die(SVY_EXIT_IO, "out of memory");
    }
    free(items);
}

/* --probs: each strictly between 0 and 1. */
static void parse_probs(tab *T, const char *list)
{
    size_t n;
    char **items = svy_tool_split_list(list, &n);
    free(T->probs);
    T->probs = calloc(n ? n : 1, sizeof *T->probs);
    if (!T->probs)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char *end;
        double p = strtod(items[i], &end);
        if (end == items[i] || *end || !(p > 0 && p < 1))
            svy_tool_usage_error("--probs: '%s' is not a probability above 0 and below 1", items[i]);
        T->probs[i] = p;
    }
    T->nprobs = n;
    free(items);
    if (!n)
        svy_tool_usage_error("--probs: no probability in '%s'", list);
}

static void add_quantiles(tab *T, const char *list, int median)
{
    size_t from = T->nouts;
    add_outs(T, SVY_STAT_QUANTILE, list);
    for (size_t i = from; i < T->nouts; i++)
        T->outs[i].median = median;
}

/* The codebook's outcomes (role outcome) when no estimate was asked for: a
 * rate when the labelled codes are 0 and 1, the shares of the levels for
 * other codes, a mean for numbers.  (The design roles come from
 * design_opts.) */
static void apply_codebook(tab *T)
{
    if (T->nouts == 0) {
        size_t n = svy_codebook_roles(T->o.cb, SVY_ROLE_OUTCOME, NULL, 0);
        const char **names = calloc(n + 1, sizeof *names);
        if (!names)
            svy_tool_die(SVY_EXIT_IO, "out of memory");
        svy_codebook_roles(T->o.cb, SVY_ROLE_OUTCOME, names, n);
        for (size_t i = 0; i < n; i++) {
            const svy_cb_var *v = svy_codebook_var(T->o.cb, (size_t)svy_codebook_find(T->o.cb, names[i]));
            svy_stat stat = SVY_STAT_MEAN;
            if (svy_cb_var_type(v) == SVY_CB_CODE) {
                int binary = svy_cb_var_nlabels(v) > 0;
                for (size_t k = 0; k < svy_cb_var_nlabels(v); k++) {
                    double code = svy_cb_var_label_code(v, k);
                    binary &= code == 0 || code == 1;
                }
                stat = binary ? SVY_STAT_RATE : SVY_STAT_SHARE;
            }
            add_outs(T, stat, names[i]);
        }
        free(names);
    }
}

/* A new estimator for the design and outcomes of T. */
static svy_status make_est(tab *T, svy_err *err)
{
    svy_est_free(T->est);
    T->est = svy_est_new(&T->o.d, (const char *const *)T->by, T->nby, err);
    if (!T->est)
        return err->code ? err->code : SVY_E_NOMEM;
    for (size_t i = 0; i < T->nouts; i++) {
        const outspec *o = &T->outs[i];
        if (o->stat == SVY_STAT_QUANTILE) {
            static const double half = 0.5;
            const double *pr = o->median || !T->probs ? &half : T->probs;
            size_t np = o->median || !T->probs ? 1 : T->nprobs;
            for (size_t k = 0; k < np; k++)
                if (svy_est_add_quantile(T->est, o->column, pr[k], err) != SVY_OK)
                    return err->code;
            continue;
        }
        if ((o->stat == SVY_STAT_RATIO ? svy_est_add_ratio(T->est, o->column, o->value, err)
                                       : svy_est_add_outcome(T->est, o->stat, o->column, o->value, err)) != SVY_OK)
            return err->code;
    }
    svy_est_set_subpop(T->est, T->subpop);
    for (size_t i = 0; i < T->ncal; i++)
        if (svy_est_add_calibration(T->est, T->cal[i], err) != SVY_OK)
            return err->code;
    if (T->rep.any && svy_est_set_replicates(T->est, &T->rd, err) != SVY_OK)
        return err->code;
    if (T->diff && svy_est_set_diff(T->est, T->diff, T->diff_ref, err) != SVY_OK)
        return err->code;
    if (T->test && svy_est_set_test(T->est, T->test, T->test_chisq, err) != SVY_OK)
        return err->code;
    return SVY_OK;
}

/* --diff VAR=REF: REF may be a label (in any codebook language, or the
 * file's) of a coded VAR; the estimator matches by values, so it gets the
 * code.  A REF that is neither is reported after the rows, when the levels
 * are known. */
static svy_status diff_ref_code(tab *T, svy_err *err)
{
    if (!T->diff || !T->diff_ref)
        return SVY_OK;
    long vi = svy_schema_find(T->schema, T->diff);
    const svy_var *var = vi >= 0 ? svy_schema_var(T->schema, (size_t)vi) : NULL;
    long ci = T->o.cb ? svy_codebook_find(T->o.cb, T->diff) : -1;
    const svy_cb_var *cbv = ci >= 0 ? svy_codebook_var(T->o.cb, (size_t)ci) : NULL;
    double code;
    char *known = NULL;
    if (svy_level_resolve(var, cbv, T->diff_ref, &code, &known) == SVY_LEVEL_CODE) {
        char buf[SVY_DTOA_MAX];
        svy_dtoa(code, buf);
        free(known);
        return svy_est_set_diff(T->est, T->diff, buf, err);
    }
    free(known);
    return SVY_OK;
}

/* COL=VALUE outcomes: VALUE must be a code or a label of COL, in any
 * language of the codebook or as the data label it; a value that is
 * neither would be a rate of 0 everywhere, without a word. */
static svy_status check_levels(tab *T, svy_err *err)
{
    for (size_t i = 0; i < T->nouts; i++) {
        outspec *o = &T->outs[i];
        if (!o->value || o->stat == SVY_STAT_RATIO)
            continue;
        long vi = svy_schema_find(T->schema, o->column);
        const svy_var *var = vi >= 0 ? svy_schema_var(T->schema, (size_t)vi) : NULL;
        long ci = T->o.cb ? svy_codebook_find(T->o.cb, o->column) : -1;
        const svy_cb_var *cbv = ci >= 0 ? svy_codebook_var(T->o.cb, (size_t)ci) : NULL;
        double code;
        char *known;
        switch (svy_level_resolve(var, cbv, o->value, &code, &known)) {
        case SVY_LEVEL_CODE:
            if (svy_est_set_level_code(T->est, i, code, err) != SVY_OK)
                return err->code;
            break;
        case SVY_LEVEL_UNKNOWN:
            o->unchecked = 1;
            break;
        case SVY_LEVEL_NONE:
            svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, o->column,
                        "--rate %s=%s: '%s' is neither a code nor a label of %s; %s has %s", o->column, o->value,
                        o->value, o->column, o->column, known ? known : "no labelled codes");
            free(known);
            return SVY_E_USAGE;
        }
    }
    return SVY_OK;
}

/* R's warnings about a replicate design's defaults, as notes. */
static void say_rep_notes(const tab *T)
{
    const char *n = svy_est_rep_note(T->est);
    while (n && *n && !T->o.quiet) {
        const char *nl = strchr(n, '\n');
        int len = nl ? (int)(nl - n) : (int)strlen(n);
        fprintf(stderr, "%s: note: %.*s\n", svy_tool_name(), len, n);
        n = nl ? nl + 1 : n + len;
    }
}

/* With replicate weights the design is theirs: the full-sample weight may
 * come from --repinfo; strata, PSUs and an fpc are refused when asked for,
 * and dropped, with a note, when a codebook named them. */
static void rep_design(tab *T)
{
    if (!T->rep.any)
        return;
    const char *w;
    svy_repopts_design(&T->rep, &T->rd, &w);
    if (w && T->o.d.weight && strcmp(w, T->o.d.weight) != 0)
        svy_tool_usage_error("-w %s, but the --repinfo file's full-sample weight is %s", T->o.d.weight, w);
    if (w && !T->o.d.weight) {
        T->o.d.weight = w;
        T->o.weight_given = 1;
    }
    if (T->o.psu || T->o.strata || T->o.fpc || T->o.d.ultimate_cluster || T->o.lonely_given)
        svy_tool_usage_error("replicate weights carry the design: --strata, --psu, --fpc, --ultimate-cluster and "
                             "--lonely are not used with them (R's svrepdesign ignores them); leave them out");
    if ((T->o.d.nstrata || T->o.d.npsu || T->o.d.nfpc) && !T->o.quiet)
        svy_tool_warn("note: the codebook's strata, PSUs and fpc are not used with replicate weights");
    T->o.d.nstrata = T->o.d.npsu = T->o.d.nfpc = 0;
}

static svy_status on_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    tab *T = ctx;
    T->schema = svy_schema_clone(schema);
    if (!T->schema)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    int final_before = T->o.weight_final;
    svy_status st = SVY_OK;
    for (size_t i = 0; T->sums.from_sums && st == SVY_OK && i < T->nouts; i++) /* their labels */
        st = tab_sums_add_var(T->schema, T->outs[i].column, T->outs[i].stat == SVY_STAT_RATIO ? T->outs[i].value : NULL, err);
    if (st == SVY_OK)
        st = svy_design_opts_weigh(&T->o, T->schema, err);
    if (st != SVY_OK)
        return st;
    if (T->o.weight_final && !final_before && (st = make_est(T, err)) != SVY_OK)
        return st; /* the input's final weight: a new estimator with it */
    svy_design_opts_say(&T->o);
    if ((st = svy_est_bind(T->est, T->schema, err)) != SVY_OK)
        return st;
    say_rep_notes(T);
    if (T->subpop && !T->sums.from_sums && (st = svy_subpop_bind(T->subpop, T->schema, T->o.cb, err)) != SVY_OK)
        return st;
    if ((st = diff_ref_code(T, err)) != SVY_OK || (st = check_levels(T, err)) != SVY_OK)
        return st;
    return tab_sums_schema(&T->sums, T->est, schema, 1, err); /* as read, without outcome columns */
}

/* The label a by value has in the schema (its text, or its number). */
static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    tab *T = ctx;
    if (T->sums.partial || T->sums.from_sums)
        return tab_sums_row(&T->sums, T->est, row, err);
    return svy_est_push(T->est, row, err);
}

enum {
    OPT_CI = 256,
    OPT_CALIBRATED,
    OPT_CV,
    OPT_DF,
    OPT_DIFF,
    OPT_FLAG,
    OPT_LABELS,
    OPT_LAYOUT,
    OPT_LEVEL,
    OPT_MEAN,
    OPT_OVERALL,
    OPT_MEDIAN,
    OPT_PERCENT,
    OPT_PROBS,
    OPT_QUANTILE,
    OPT_RATIO,
    OPT_SHARE,
    OPT_SUBPOP,
    OPT_TEST,
    OPT_TEST_METHOD,
    OPT_TITLE,
    OPT_TOTAL,
};

/* Sorted by name. */
static const struct option long_opts[] = {
    {"by", required_argument, NULL, 'b'},
    {"calibrated-to", required_argument, NULL, OPT_CALIBRATED},
    {"ci", required_argument, NULL, OPT_CI},
    {"cv", no_argument, NULL, OPT_CV},
    {"df", required_argument, NULL, OPT_DF},
    {"diff", required_argument, NULL, OPT_DIFF},
    {"encoding", required_argument, NULL, 'e'},
    {"flag", required_argument, NULL, OPT_FLAG},
    {"format", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {"labels", no_argument, NULL, OPT_LABELS},
    {"layout", required_argument, NULL, OPT_LAYOUT},
    {"level", required_argument, NULL, OPT_LEVEL},
    {"mean", required_argument, NULL, OPT_MEAN},
    {"median", required_argument, NULL, OPT_MEDIAN},
    {"output", required_argument, NULL, 'o'},
    {"overall", no_argument, NULL, OPT_OVERALL},
    {"percent", no_argument, NULL, OPT_PERCENT},
    {"probs", required_argument, NULL, OPT_PROBS},
    {"quantile", required_argument, NULL, OPT_QUANTILE},
    {"rate", required_argument, NULL, 'r'},
    {"ratio", required_argument, NULL, OPT_RATIO},
    {"share", required_argument, NULL, OPT_SHARE},
    {"subpop", required_argument, NULL, OPT_SUBPOP},
    {"test", required_argument, NULL, OPT_TEST},
    {"test-method", required_argument, NULL, OPT_TEST_METHOD},
    {"title", required_argument, NULL, OPT_TITLE},
    {"total", required_argument, NULL, OPT_TOTAL},
    {"version", no_argument, NULL, 'V'},
    SVY_DESIGN_LONG,
    SVY_REPOPTS_LONG,
    TAB_SUMS_LONG,
    {NULL, 0, NULL, 0},
};

static double parse_positive(const char *opt, const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || !isfinite(v))
        svy_tool_usage_error("%s: '%s' is not a positive number", opt, s);
    return v;
}

/* --subpop EXPR: parsed now, so a syntax error is a usage error before
 * any input is read (columns and labels are checked against the schema). */
static void parse_subpop(tab *T, const char *expr)
{
    svy_err err;
    svy_err_clear(&err);
    svy_subpop_free(T->subpop);
    T->subpop = NULL;
    if (svy_subpop_parse(expr, &T->subpop, &err) != SVY_OK) {
        if (err.code == SVY_E_NOMEM)
            svy_tool_die(SVY_EXIT_IO, "out of memory");
        svy_tool_usage_error("%s", err.msg);
    }
}

/* An option of the design or the estimates (columns, rules); 0 when c is not one of them. */
static int design_option(tab *T, int c)
{
    switch (c) {
    case 'b':
        free(T->by_alloc);
        T->by_alloc = svy_tool_split_list(optarg, &T->nby);
        T->by = T->by_alloc;
        return 1;
    case 'r':
        add_outs(T, SVY_STAT_RATE, optarg);
        return 1;
    case OPT_CI:
        if (!svy_ci_method_parse(optarg, &T->o.d.ci))
            svy_tool_usage_error("--ci: unknown method '%s' (logit, wald, beta, wilson)", optarg);
        return 1;
    case OPT_DF:
        /* a rule by name (domain, full, inf), or a fixed number */
        if (!svy_df_rule_parse(optarg, &T->o.d.df_rule) || T->o.d.df_rule == SVY_DF_FIXED) {
            T->o.d.df_rule = SVY_DF_FIXED;
            T->o.d.df = parse_positive("--df", optarg);
        }
        return 1;
    case OPT_DIFF: {
        free(T->diff);
        T->diff = strdup(optarg);
        if (!T->diff)
            svy_tool_die(SVY_EXIT_IO, "out of memory");
        char *eq = strchr(T->diff, '=');
        T->diff_ref = eq ? eq + 1 : NULL;
        if (eq)
            *eq = '\0';
        if (!T->diff[0] || (eq && !eq[1]))
            svy_tool_usage_error("--diff: give VAR or VAR=REF, got '%s'", optarg);
        return 1;
    }
    case OPT_TEST:
        T->test = optarg;
        return 1;
    case OPT_TEST_METHOD:
        if (strcmp(optarg, "f") != 0 && strcmp(optarg, "F") != 0 && strcmp(optarg, "chisq") != 0)
            svy_tool_usage_error("--test-method: '%s' is neither f nor chisq", optarg);
        T->test_chisq = strcmp(optarg, "chisq") == 0;
        T->test_method_given = 1;
        return 1;
    case OPT_FLAG:
        if (strcmp(optarg, "nchs") != 0)
            svy_tool_usage_error("--flag: unknown standard '%s' (nchs)", optarg);
        T->o.d.nchs = 1;
        T->t.flag = 1;
        return 1;
    case OPT_LEVEL: {
        double l = parse_positive("--level", optarg);
        if (!(l > 0 && l < 100))
            svy_tool_usage_error("--level: %s is not a percentage between 0 and 100", optarg);
        T->o.d.level = l / 100;
        return 1;
    }
    case OPT_MEAN:
        add_outs(T, SVY_STAT_MEAN, optarg);
        return 1;
    case OPT_OVERALL:
        T->o.d.overall = 1;
        return 1;
    case OPT_SHARE:
        add_outs(T, SVY_STAT_SHARE, optarg);
        return 1;
    case OPT_CALIBRATED:
        if (!(T->cal = realloc(T->cal, (T->ncal + 1) * sizeof *T->cal)))
            svy_tool_die(SVY_EXIT_IO, "out of memory");
        T->cal[T->ncal++] = optarg;
        return 1;
    case OPT_SUBPOP:
        parse_subpop(T, optarg);
        return 1;
    case OPT_RATIO:
        add_outs(T, SVY_STAT_RATIO, optarg);
        return 1;
    case OPT_QUANTILE:
        add_quantiles(T, optarg, 0);
        return 1;
    case OPT_MEDIAN:
        add_quantiles(T, optarg, 1);
        return 1;
    case OPT_PROBS:
        parse_probs(T, optarg);
        return 1;
    case OPT_TOTAL:
        add_outs(T, SVY_STAT_TOTAL, optarg);
        return 1;
    }
    return 0;
}

/* An option of the input or the table; 0 when c is not one of them. */
static int output_option(tab *T, int c)
{
    switch (c) {
    case 'e':
        T->encoding = optarg;
        return 1;
    case 'f':
        if (!svy_table_format_parse(optarg, &T->t.format))
            svy_tool_usage_error("--format: unknown format '%s' (csv, tsv, md, latex, html, json)", optarg);
        return 1;
    case 'o':
        T->output = optarg;
        return 1;
    case OPT_CV:
        T->t.cv = 1;
        return 1;
    case OPT_LABELS:
        T->t.labels = 1;
        return 1;
    case OPT_LAYOUT:
        if (!svy_table_layout_parse(optarg, &T->t.layout))
            svy_tool_usage_error("--layout: '%s' is neither long nor wide", optarg);
        return 1;
    case OPT_PERCENT:
        T->t.percent = 1;
        return 1;
    case OPT_TITLE:
        T->t.title = optarg;
        return 1;
    }
    return 0;
}

/* The options into T; exits on --help, --version and usage errors. */
static void parse_options(tab *T, int argc, char **argv)
{
    int c;
    while ((c = getopt_long(argc, argv, "b:c:e:f:ho:p:qr:s:Vw:", long_opts, NULL)) != -1) {
        if (c == 'h') {
            svy_tab_usage();
            exit(svy_tool_finish_stdout(SVY_EXIT_OK));
        }
        if (c == 'V') {
            svy_tool_version();
            exit(svy_tool_finish_stdout(SVY_EXIT_OK));
        }
        if (!svy_design_opts_parse(&T->o, c, optarg) && !design_option(T, c) && !output_option(T, c) &&
            !svy_repopts_option(&T->rep, c, optarg) && !tab_sums_option(&T->sums, c, optarg))
            svy_tool_bad_option(argv, "b:c:e:f:ho:p:qr:s:Vw:");
    }
    if (T->o.lang_given)
        T->t.lang = T->o.lang; /* the notes follow --lang; without it they stay English */
}

/* Read the input (twice when the design needs it) into the estimates;
 * an exit code. */
static int read_rows(tab *T, svy_err *err)
{
    svy_reader *r = svy_reader_new();
    if (!r)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    svy_tool_progress(r, T->o.quiet);
    svy_est_set_reader(T->est, r); /* its errors then name the file's columns */
    const char *cols[256];
    size_t ncols = svy_est_columns(T->est, cols, 256);
    /* Without -w the weight may be one the input holds: read every column. */
    if (ncols <= 256 && T->o.weight_given && !T->rep.any && !T->sums.from_sums) { /* replicate columns may be PREFIX* */
        if (svy_reader_set_columns(r, cols, ncols) != SVY_OK)
            svy_tool_die(SVY_EXIT_IO, "out of memory");
    }
    if (T->encoding && svy_reader_set_encoding(r, T->encoding) != SVY_OK)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    svy_handler h = {on_schema, on_row};
    /* Weights from the fpc, and later stages whose units turn out to hold
     * several rows, need the rows twice: standard input is then spooled. */
    svy_reader_set_rewindable(r, svy_est_passes_max(T->est) > 1);
    svy_status st = svy_reader_open(r, T->input, err);
    int again = 1;
    for (int pass = 0; st == SVY_OK && again; pass++) {
        h.schema = pass ? NULL : on_schema;
        if (T->sums.from_sums) /* every sums file */
            st = tab_sums_read_all(&T->sums, T->est, r, &h, T, T->inputs, T->ninputs, err);
        else
            st = svy_reader_run(r, &h, T, err);
        if (st == SVY_OK)
            st = svy_est_end_pass(T->est, &again, err);
        again &= !T->sums.partial; /* weights from the fpc: partial sums are of weight 1 */
    }
    if (st == SVY_OK && T->sums.partial) {
        svy_reader_free(r);
        return tab_sums_partial_write(&T->sums, T->output, T->o.quiet, err);
    }
    if (st == SVY_OK)
        st = svy_est_finish(T->est, err);
    if (st != SVY_OK && !err->file[0]) /* svy-tab's own checks of the schema (weight, levels) */
        snprintf(err->file, sizeof err->file, "%s", svy_reader_name(r) ? svy_reader_name(r) : T->input);
    svy_est_set_reader(T->est, NULL);
    svy_reader_free(r);
    if (st != SVY_OK)
        return svy_tool_report(err);
    tab_warn_unmatched(T);
    tab_warn_stray_domains(T);
    return SVY_EXIT_OK;
}

/* The notes' own sentences: the weight chosen, the subpopulation. */
static void set_notes(tab *T)
{
    if (T->o.note[0])
        T->t.note = T->o.note;
    int quantiles = 0;
    for (size_t i = 0; i < T->nouts; i++)
        quantiles |= T->outs[i].stat == SVY_STAT_QUANTILE;
    if (!T->subpop && !quantiles)
        return;
    const char *expr = T->subpop ? svy_subpop_text(T->subpop) : "";
    size_t size = strlen(T->o.note) + strlen(expr) + 1024;
    T->notes = malloc(size);
    if (!T->notes)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    size_t len = (size_t)snprintf(T->notes, size, "%s", T->o.note);
    if (T->subpop) {
        char in[32], all[32];
        snprintf(in, sizeof in, "%lld", svy_est_subpop_rows(T->est));
        snprintf(all, sizeof all, "%lld", svy_est_rows(T->est));
        svy_msg_format(T->notes + len, size - len, T->t.lang, SVY_MSG_TAB_SUBPOP_NOTE, expr, in, all,
                       (const char *)NULL);
        len += strlen(T->notes + len);
    }
    if (quantiles)
        svy_msg_format(T->notes + len, size - len, T->t.lang, SVY_MSG_TAB_QUANTILE_NOTE, (const char *)NULL);
    T->t.note = T->notes;
}

static svy_status write_table_to(FILE *f, const char *name, void *ctx, svy_err *err)
{
    tab *T = ctx;
    return (T->test ? svy_table_write_tests : svy_table_write)(f, name, T->est, &T->t, err);
}

/* The table, to -o atomically or to standard output; an exit code. */
static int write_table(tab *T, svy_err *err)
{
    T->t.schema = T->schema;
    set_notes(T);
    return svy_tool_write_result(T->output, write_table_to, T, err);
}

/* --sql: the query of the sums of these flags; an exit code. */
static int sql_query(tab *T)
{
    const char **cols = calloc(T->nouts + 1, sizeof *cols), **vals = calloc(T->nouts + 1, sizeof *vals);
    if (!cols || !vals)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    for (size_t i = 0; i < T->nouts; i++) {
        cols[i] = T->outs[i].column;
        vals[i] = T->outs[i].stat == SVY_STAT_RATIO ? NULL : T->outs[i].value;
    }
    int rc = tab_sums_sql(&T->sums, T->est, T->o.cb, cols, vals, T->subpop, T->output);
    free(cols);
    free(vals);
    return rc;
}

int main(int argc, char **argv)
{
    svy_tool_init(argv[0]);
    tab T;
    memset(&T, 0, sizeof T);
    svy_design_opts_init(&T.o);
    svy_table_opts_init(&T.t);
    svy_repopts_init(&T.rep);
    parse_options(&T, argc, argv);
    T.inputs = argv + optind;
    T.ninputs = argc - optind;
    T.input = optind < argc ? argv[optind] : "-";
    svy_err err;
    svy_err_clear(&err);
    if (svy_design_opts_resolve(&T.o, &err) != SVY_OK)
        return svy_tool_report(&err);
    if (T.o.cb)
        apply_codebook(&T);
    if (T.ncal && T.rep.any)
        svy_tool_usage_error("--calibrated-to with replicate weights: the replicates already carry the calibration "
                             "(each was weighted again); leave --calibrated-to out");
    rep_design(&T);
    if (T.nouts == 0)
        svy_tool_usage_error("nothing to estimate: give --rate, --share, --mean, --total, --ratio, --quantile or --median%s",
                             T.o.codebook ? " (the codebook has no outcome)" : "");
    if (T.test && (T.diff || T.t.layout == SVY_TABLE_WIDE))
        svy_tool_usage_error("--test writes the tests table instead of the estimates: drop %s",
                             T.diff ? "--diff (run svy-tab twice)" : "--layout wide");
    if (T.test_method_given && !T.test)
        svy_tool_usage_error("--test-method needs --test VAR");
    if (T.diff && T.t.layout == SVY_TABLE_WIDE)
        svy_tool_usage_error("--diff: the differences are rows of the long layout; drop --layout wide");
    if (T.probs && T.nprobs > 1 && T.t.layout == SVY_TABLE_WIDE)
        for (size_t i = 0; i < T.nouts; i++)
            if (T.outs[i].stat == SVY_STAT_QUANTILE && !T.outs[i].median)
                svy_tool_usage_error("--layout wide takes one --probs (its columns would not say which p)");
    if (T.o.d.overall && T.nby == 0)
        T.o.d.overall = 0; /* without --by the only row already is the overall one */

    int rc = SVY_EXIT_OK;
    if (make_est(&T, &err) != SVY_OK) {
        rc = svy_tool_report(&err); /* a design the flags cannot make (fpc per stage...) */
        goto done;
    }

    tab_sums_check(&T.sums, T.est, T.ninputs, T.o.cb, T.o.cb && !T.o.weight_given);
    if (T.sums.sql) {
        rc = sql_query(&T);
        goto done;
    }
    rc = read_rows(&T, &err);
    if (rc == SVY_EXIT_OK && svy_est_calibration_gap(T.est) > 1e-8 && !T.o.quiet)
        svy_tool_warn("note: the weights come within %.2g (relative) of the --calibrated-to margins, not to "
                      "rounding: raking stopped early; the variance uses the final weights (see svy-tab(1))",
                      svy_est_calibration_gap(T.est));
    if (rc == SVY_EXIT_OK && T.sums.from_sums)
        tab_sums_say(&T.sums, T.o.quiet);
    if (rc == SVY_EXIT_OK && !T.sums.partial)
        rc = write_table(&T, &err);

done:
    tab_sums_free(&T.sums);
    svy_est_free(T.est);
    svy_schema_free(T.schema);
    for (size_t i = 0; i < T.nouts; i++) {
        free(T.outs[i].column);
        free(T.outs[i].value);
    }
    free(T.outs);
    free(T.by_alloc);
    free(T.diff);
    svy_design_opts_free(&T.o);
    svy_repopts_free(&T.rep);
    svy_subpop_free(T.subpop);
    free(T.notes);
    free(T.probs);
    free(T.cal);
    return rc;
}
