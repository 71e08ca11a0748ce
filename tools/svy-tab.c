/* svy-tab: design-based rates, means and totals by domain, as R's survey
 * package computes them, in one pass over any supported input. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

typedef struct outspec {
    svy_stat stat;
    char *column;
    char *value;
} outspec;

typedef struct tab {
    svy_design d;
    char **by;
    size_t nby;
    outspec *outs;
    size_t nouts, capouts;
    svy_table_opts t;
    const char *output;
    const char *input;
    svy_est *est;
    svy_schema *schema; /* a copy, for labels */
    svy_codebook *cb;
    svy_lang lang;
} tab;

static void usage(void)
{
    printf("Usage: %s [OPTIONS] [FILE|-]\n"
           "Weighted rates, means and totals by domain, with design-based standard errors,\n"
           "confidence intervals, degrees of freedom and design effects (as R's survey package).\n"
           "\n"
           "Design (flags override a codebook):\n"
           "  -c, --codebook DIR      design roles, default outcomes (role outcome) and value\n"
           "                          labels from a study codebook (codebooks/README.md)\n"
           "      --lang zh|en        language of codebook labels (zh)\n"
           "  -w, --weight COL        sampling weight (default: 1 for every row)\n"
           "  -s, --strata COL        stratum\n"
           "  -p, --psu COL           primary sampling unit, nested in strata (default: each row)\n"
           "      --fpc COL           population PSUs of the stratum, or sampling fraction when <= 1\n"
           "      --lonely RULE       stratum with one PSU: fail|remove|certainty|adjust|average (fail)\n"
           "Estimates:\n"
           "  -b, --by A[,B...]       domains: every combination present in the data\n"
           "      --overall           add the overall row\n"
           "  -r, --rate COL[=VALUE][,...]  rate of a 0/1 column, or share with VALUE (code or label)\n"
           "      --share COL[,...]   share of every level of a column\n"
           "      --mean COL[,...]    mean\n"
           "      --total COL[,...]   total\n"
           "      --ci METHOD         logit|wald|beta|wilson (logit); beta is Korn-Graubard\n"
           "      --level N           confidence level in percent (95)\n"
           "      --df RULE           domain|full|inf|NUMBER (domain)\n"
           "      --flag nchs         flag proportions the NCHS standards say not to show\n"
           "Output:\n"
           "  -f, --format FMT        csv|tsv|md|latex|html|json (csv)\n"
           "      --layout L          long|wide (long)\n"
           "      --percent           proportions in percent (always in md, latex, html)\n"
           "      --labels            value labels instead of codes (and variable labels\n                          in md, latex, html)\n"
           "      --cv                add the coefficient of variation\n"
           "      --title TEXT        caption of md, latex and html tables\n"
           "  -o, --output FILE       write FILE atomically instead of standard output\n"
           "  -h, --help              this help\n"
           "  -V, --version           version\n",
           svy_tool_name());
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
        char *eq = stat == SVY_STAT_RATE ? strchr(items[i], '=') : NULL;
        if (eq) {
            *eq = '\0';
            if (!eq[1])
                svy_tool_usage_error("--rate %s=: empty value", items[i]);
            o->value = strdup(eq + 1);
        }
        if (!*items[i])
            svy_tool_usage_error("--rate: empty column name in '%s'", list);
        o->column = strdup(items[i]);
        if (!o->column || (eq && !o->value))
            svy_tool_die(SVY_EXIT_IO, "out of memory");
    }
    free(items);
}

/* Roles the flags left open come from the codebook: the design, and the
 * outcomes (role outcome) when no estimate was asked for: a rate when the labelled codes are 0 and 1, the
 * shares of the levels for other codes, a mean for numbers. */
static void apply_codebook(tab *T)
{
    if (!T->d.weight)
        T->d.weight = svy_codebook_role(T->cb, SVY_ROLE_WEIGHT);
    if (!T->d.strata)
        T->d.strata = svy_codebook_role(T->cb, SVY_ROLE_STRATA);
    if (!T->d.psu)
        T->d.psu = svy_codebook_role(T->cb, SVY_ROLE_PSU);
    if (!T->d.fpc)
        T->d.fpc = svy_codebook_role(T->cb, SVY_ROLE_FPC);
    if (T->nouts == 0) {
        size_t n = svy_codebook_roles(T->cb, SVY_ROLE_OUTCOME, NULL, 0);
        const char **names = calloc(n + 1, sizeof *names);
        if (!names)
            svy_tool_die(SVY_EXIT_IO, "out of memory");
        svy_codebook_roles(T->cb, SVY_ROLE_OUTCOME, names, n);
        for (size_t i = 0; i < n; i++) {
            const svy_cb_var *v = svy_codebook_var(T->cb, (size_t)svy_codebook_find(T->cb, names[i]));
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

static svy_status on_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    tab *T = ctx;
    T->schema = svy_schema_clone(schema);
    if (!T->schema)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    if (T->cb) {
        svy_status st = svy_codebook_apply_labels(T->cb, T->schema, T->lang, err);
        if (st != SVY_OK)
            return st;
    }
    return svy_est_bind(T->est, T->schema, err);
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    tab *T = ctx;
    return svy_est_push(T->est, row, err);
}

enum {
    OPT_CI = 256,
    OPT_CV,
    OPT_DF,
    OPT_FLAG,
    OPT_FPC,
    OPT_LABELS,
    OPT_LANG,
    OPT_LAYOUT,
    OPT_LEVEL,
    OPT_LONELY,
    OPT_MEAN,
    OPT_OVERALL,
    OPT_PERCENT,
    OPT_SHARE,
    OPT_TITLE,
    OPT_TOTAL
};

/* Sorted by name. */
static const struct option long_opts[] = {
    {"by", required_argument, NULL, 'b'},
    {"ci", required_argument, NULL, OPT_CI},
    {"codebook", required_argument, NULL, 'c'},
    {"cv", no_argument, NULL, OPT_CV},
    {"df", required_argument, NULL, OPT_DF},
    {"flag", required_argument, NULL, OPT_FLAG},
    {"format", required_argument, NULL, 'f'},
    {"fpc", required_argument, NULL, OPT_FPC},
    {"help", no_argument, NULL, 'h'},
    {"labels", no_argument, NULL, OPT_LABELS},
    {"lang", required_argument, NULL, OPT_LANG},
    {"layout", required_argument, NULL, OPT_LAYOUT},
    {"level", required_argument, NULL, OPT_LEVEL},
    {"lonely", required_argument, NULL, OPT_LONELY},
    {"mean", required_argument, NULL, OPT_MEAN},
    {"output", required_argument, NULL, 'o'},
    {"overall", no_argument, NULL, OPT_OVERALL},
    {"percent", no_argument, NULL, OPT_PERCENT},
    {"psu", required_argument, NULL, 'p'},
    {"rate", required_argument, NULL, 'r'},
    {"share", required_argument, NULL, OPT_SHARE},
    {"strata", required_argument, NULL, 's'},
    {"title", required_argument, NULL, OPT_TITLE},
    {"total", required_argument, NULL, OPT_TOTAL},
    {"version", no_argument, NULL, 'V'},
    {"weight", required_argument, NULL, 'w'},
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

int main(int argc, char **argv)
{
    svy_tool_init(argv[0]);
    tab T;
    memset(&T, 0, sizeof T);
    svy_design_init(&T.d);
    svy_table_opts_init(&T.t);
    char **by_alloc = NULL;
    const char *codebook = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "b:c:f:ho:p:r:s:Vw:", long_opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            free(by_alloc);
            by_alloc = svy_tool_split_list(optarg, &T.nby);
            T.by = by_alloc;
            break;
        case 'c':
            codebook = optarg;
            break;
        case 'f':
            if (!svy_table_format_parse(optarg, &T.t.format))
                svy_tool_usage_error("--format: unknown format '%s' (csv, tsv, md, latex, html, json)", optarg);
            break;
        case 'h':
            usage();
            return svy_tool_finish_stdout(SVY_EXIT_OK);
        case 'o':
            T.output = optarg;
            break;
        case 'p':
            T.d.psu = optarg;
            break;
        case 'r':
            add_outs(&T, SVY_STAT_RATE, optarg);
            break;
        case 's':
            T.d.strata = optarg;
            break;
        case 'V':
            svy_tool_version();
            return svy_tool_finish_stdout(SVY_EXIT_OK);
        case 'w':
            T.d.weight = optarg;
            break;
        case OPT_CI:
            if (!svy_ci_method_parse(optarg, &T.d.ci))
                svy_tool_usage_error("--ci: unknown method '%s' (logit, wald, beta, wilson)", optarg);
            break;
        case OPT_CV:
            T.t.cv = 1;
            break;
        case OPT_DF:
            if (strcmp(optarg, "domain") == 0)
                T.d.df_rule = SVY_DF_DOMAIN;
            else if (strcmp(optarg, "full") == 0)
                T.d.df_rule = SVY_DF_FULL;
            else if (strcmp(optarg, "inf") == 0)
                T.d.df_rule = SVY_DF_INF;
            else {
                T.d.df_rule = SVY_DF_FIXED;
                T.d.df = parse_positive("--df", optarg);
            }
            break;
        case OPT_FLAG:
            if (strcmp(optarg, "nchs") != 0)
                svy_tool_usage_error("--flag: unknown standard '%s' (nchs)", optarg);
            T.d.nchs = 1;
            T.t.flag = 1;
            break;
        case OPT_FPC:
            T.d.fpc = optarg;
            break;
        case OPT_LABELS:
            T.t.labels = 1;
            break;
        case OPT_LANG:
            if (!svy_lang_parse(optarg, &T.lang))
                svy_tool_usage_error("--lang: '%s' is neither zh nor en", optarg);
            break;
        case OPT_LAYOUT:
            if (!svy_table_layout_parse(optarg, &T.t.layout))
                svy_tool_usage_error("--layout: '%s' is neither long nor wide", optarg);
            break;
        case OPT_LEVEL: {
            double l = parse_positive("--level", optarg);
            if (!(l > 0 && l < 100))
                svy_tool_usage_error("--level: %s is not a percentage between 0 and 100", optarg);
            T.d.level = l / 100;
            break;
        }
        case OPT_LONELY:
            if (!svy_lonely_parse(optarg, &T.d.lonely))
                svy_tool_usage_error("--lonely: unknown rule '%s' (fail, remove, certainty, adjust, average)",
                                     optarg);
            break;
        case OPT_MEAN:
            add_outs(&T, SVY_STAT_MEAN, optarg);
            break;
        case OPT_OVERALL:
            T.d.overall = 1;
            break;
        case OPT_PERCENT:
            T.t.percent = 1;
            break;
        case OPT_SHARE:
            add_outs(&T, SVY_STAT_SHARE, optarg);
            break;
        case OPT_TITLE:
            T.t.title = optarg;
            break;
        case OPT_TOTAL:
            add_outs(&T, SVY_STAT_TOTAL, optarg);
            break;
        default:
            svy_tool_bad_option(argv, "b:c:f:ho:p:r:s:Vw:");
        }
    }
    if (optind + 1 < argc)
        svy_tool_usage_error("one input at most, got %d", argc - optind);
    T.input = optind < argc ? argv[optind] : "-";
    svy_err err;
    svy_err_clear(&err);
    if (codebook) {
        if (svy_codebook_load(codebook, &T.cb, &err) != SVY_OK)
            return svy_tool_report(&err);
        apply_codebook(&T);
    }
    if (T.nouts == 0)
        svy_tool_usage_error("nothing to estimate: give --rate, --share, --mean or --total%s",
                             codebook ? " (the codebook has no outcome)" : "");
    if (T.d.overall && T.nby == 0)
        T.d.overall = 0; /* without --by the only row already is the overall one */

    T.est = svy_est_new(&T.d, (const char *const *)T.by, T.nby, &err);
    if (!T.est)
        return svy_tool_report(&err);
    int rc = SVY_EXIT_OK;
    for (size_t i = 0; i < T.nouts; i++)
        if (svy_est_add_outcome(T.est, T.outs[i].stat, T.outs[i].column, T.outs[i].value, &err) != SVY_OK) {
            rc = svy_tool_report(&err);
            goto done;
        }

    svy_reader *r = svy_reader_new();
    if (!r)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    const char *cols[256];
    size_t ncols = svy_est_columns(T.est, cols, 256);
    int projected = 0;
    if (ncols <= 256) {
        if (svy_reader_set_columns(r, cols, ncols) != SVY_OK)
            svy_tool_die(SVY_EXIT_IO, "out of memory");
        projected = 1;
    }
    svy_handler h = {on_schema, on_row};
    svy_status st = svy_reader_open(r, T.input, &err);
    if (st == SVY_OK)
        st = svy_reader_run(r, &h, &T, &err);
    if (st == SVY_OK)
        st = svy_est_finish(T.est, &err);
    if (st != SVY_OK) {
        if (!err.file[0])
            snprintf(err.file, sizeof err.file, "%s", svy_reader_name(r) ? svy_reader_name(r) : T.input);
        /* column numbers from the estimator count the projected columns, not the file's */
        if (projected && err.code == SVY_E_DATA && err.var[0])
            err.col = svy_reader_column_of(r, err.var);
        svy_reader_free(r);
        rc = svy_tool_report(&err);
        goto done;
    }
    svy_reader_free(r);

    T.t.schema = T.schema;
    if (T.output) {
        svy_outfile *of;
        if (svy_outfile_open(T.output, &of, &err) != SVY_OK) {
            rc = svy_tool_report(&err);
            goto done;
        }
        if (svy_table_write(svy_outfile_stream(of), T.output, T.est, &T.t, &err) != SVY_OK) {
            svy_outfile_abort(of);
            rc = svy_tool_report(&err);
            goto done;
        }
        if (svy_outfile_commit(of, &err) != SVY_OK) {
            rc = svy_tool_report(&err);
            goto done;
        }
    } else {
        if (svy_table_write(stdout, "<stdout>", T.est, &T.t, &err) != SVY_OK) {
            rc = svy_tool_report(&err);
            goto done;
        }
        rc = svy_tool_finish_stdout(SVY_EXIT_OK);
    }

done:
    svy_est_free(T.est);
    svy_schema_free(T.schema);
    for (size_t i = 0; i < T.nouts; i++) {
        free(T.outs[i].column);
        free(T.outs[i].value);
    }
    free(T.outs);
    free(by_alloc);
    svy_codebook_free(T.cb);
    return rc;
}
