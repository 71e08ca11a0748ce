/* svy-model: design-based linear and logistic regression, odds ratios,
 * predictive margins and Wald tests, as R's svyglm, svypredmeans and
 * regTermTest compute them, on svy-tab's design flags and inputs. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "design_opts.h"
#include "tool.h"

typedef struct opts {
    svy_design_opts D;
    int family;           /* -1 none, else svy_family */
    const char *formula;
    const char *input;
    const char *output;
    const char *encoding;
    const char *margins;
    svy_subpop *subpop;   /* --subpop, parsed at option time, bound per schema */
    char **refs;          /* COL=VALUE */
    size_t nrefs;
    const char **walds;
    size_t nwalds;
    const char **cals;    /* --calibrated-to */
    size_t ncals;
    svy_model_out out;
    svy_model *m;
    svy_schema *schema;   /* a copy, for labels */
    svy_reader *reader;
} opts;

static void usage(void)
{
    printf("Usage: %s [OPTIONS] (--logit | --linear) 'Y ~ TERMS' [FILE|-]\n"
           "Design-based linear and logistic regression (R's svyglm), odds ratios, predictive\n"
           "margins (svypredmeans) and Wald tests (regTermTest), on any supported input.\n"
           "\n"
           "TERMS: numeric columns as they are; columns with value labels or text, and factor(x),\n"
           "as categorical (indicators against the lowest code); a:b and a*b interactions; an\n"
           "intercept unless '- 1'. Rows with a missing value in Y or a term leave the model,\n"
           "the design stays whole (as R does); their number is said.\n"
           "\n"
           "%s"
           "Model:\n"
           "      --logit             logistic regression (R's quasibinomial): Y is 0/1, or text\n"
           "                          with two values (the first in sort order is 0)\n"
           "      --linear            linear regression (R's gaussian)\n"
           "      --ref COL=VALUE     reference level of a categorical column (code or label)\n"
           "      --margins VAR       predictive margins of Y by the levels of VAR, adjusted for the\n"
           "                          other terms, and their differences from the reference level\n"
           "      --wald TERM[,TERM]  joint Wald test of these terms (repeatable: one test each)\n"
           "      --level N           confidence level in percent (95)\n"
           "      --subpop EXPR       fit on the rows where EXPR holds (as svy-tab: col == value,\n"
           "                          != < <= > >=, col in {v,...}, & | ! and parentheses; labels\n"
           "                          by their text); the other rows stay in the design (PSUs,\n"
           "                          strata, df), as R's svyglm on subset(design, EXPR)\n"
           "      --calibrated-to MARGIN  the weight was post-stratified (one margin) or raked\n"
           "                          (several; repeat the flag) to these margin files (as\n"
           "                          svy-weight --margin reads them): SEs, tests and margins use\n"
           "                          the calibration residuals (R's svyglm after postStratify()/rake())\n"
           "Output:\n"
           "  -f, --format FMT        csv|tsv|md|latex|html (csv). csv/tsv: one table, the\n"
           "                          coefficients (term,estimate,se,t,df,p_value,ci_low,ci_high),\n"
           "                          or the margins with --margins (svy-tab's long layout:\n"
           "                          svy-plot draws them), or the tests with --wald;\n"
           "                          md/latex/html: every table, the fit line and notes\n"
           "      --odds-ratios       --logit: exp(estimate) and exp(CI)\n"
           "      --labels            name terms by value labels\n"
           "      --title TEXT        caption of md, latex and html tables\n"
           "  -o, --output FILE       write FILE atomically instead of standard output\n"
           "Input:\n"
           "  -e, --encoding ENC      text encoding of the input (GB18030, CP1252, ...)\n"
           "  -h, --help              this help\n"
           "  -V, --version           version\n",
           svy_tool_name(), SVY_DESIGN_HELP);
}

enum {
    OPT_LOGIT = 256,
    OPT_LINEAR,
    OPT_REF,
    OPT_MARGINS,
    OPT_WALD,
    OPT_LEVEL,
    OPT_ODDS,
    OPT_LABELS,
    OPT_CALIBRATED,
    OPT_TITLE,
    OPT_SUBPOP
};

static const struct option long_opts[] = {
    SVY_DESIGN_LONG,
    {"calibrated-to", required_argument, NULL, OPT_CALIBRATED},
    {"encoding", required_argument, NULL, 'e'},
    {"format", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {"labels", no_argument, NULL, OPT_LABELS},
    {"level", required_argument, NULL, OPT_LEVEL},
    {"linear", no_argument, NULL, OPT_LINEAR},
    {"logit", no_argument, NULL, OPT_LOGIT},
    {"margins", required_argument, NULL, OPT_MARGINS},
    {"odds-ratios", no_argument, NULL, OPT_ODDS},
    {"output", required_argument, NULL, 'o'},
    {"ref", required_argument, NULL, OPT_REF},
    {"subpop", required_argument, NULL, OPT_SUBPOP},
    {"title", required_argument, NULL, OPT_TITLE},
    {"version", no_argument, NULL, 'V'},
    {"wald", required_argument, NULL, OPT_WALD},
    {NULL, 0, NULL, 0},
};

#define SHORTS SVY_DESIGN_SHORT "e:f:ho:V"

/* A new model for the design and options of o. */
static svy_status make_model(opts *o, svy_err *err)
{
    svy_model_free(o->m);
    o->m = svy_model_new(&o->D.d, (svy_family)o->family, o->formula, err);
    if (!o->m)
        return err->code ? err->code : SVY_E_NOMEM;
    svy_status st = SVY_OK;
    if (o->margins) /* first: --ref may name the margins variable */
        st = svy_model_set_margins(o->m, o->margins, err);
    for (size_t i = 0; st == SVY_OK && i < o->nrefs; i++) {
        char *eq = strchr(o->refs[i], '=');
        *eq = '\0';
        st = svy_model_set_ref(o->m, o->refs[i], eq + 1, err);
        *eq = '=';
    }
    for (size_t i = 0; st == SVY_OK && i < o->nwalds; i++)
        st = svy_model_add_wald(o->m, o->walds[i], err);
    for (size_t i = 0; st == SVY_OK && i < o->ncals; i++)
        st = svy_model_add_calibration(o->m, o->cals[i], err);
    if (o->subpop)
        svy_model_set_subpop(o->m, o->subpop);
    return st;
}

static svy_status on_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    opts *o = ctx;
    o->schema = svy_schema_clone(schema);
    if (!o->schema)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    const char *before = o->D.d.weight;
    svy_status st = svy_design_opts_on_schema(&o->D, o->schema, err);
    if (st)
        return st;
    if (o->D.d.weight != before && (st = make_model(o, err)))
        return st;
    if (o->subpop && (st = svy_subpop_bind(o->subpop, o->schema, o->D.cb, err)))
        return st;
    svy_model_set_source(o->m, svy_reader_name(o->reader));
    return svy_model_bind(o->m, o->schema, err);
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    opts *o = ctx;
    return svy_model_push(o->m, row, err);
}

static void *grow(void *p, size_t n, size_t size)
{
    void *q = realloc(p, n * size);
    if (!q)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    return q;
}

static void parse_options(opts *o, int argc, char **argv)
{
    int c;
    while ((c = getopt_long(argc, argv, SHORTS, long_opts, NULL)) != -1) {
        if (svy_design_opts_parse(&o->D, c, optarg))
            continue;
        switch (c) {
        case 'e':
            o->encoding = optarg;
            break;
        case 'f':
            if (!svy_table_format_parse(optarg, &o->out.format) || o->out.format == SVY_TABLE_JSON)
                svy_tool_usage_error("--format: unknown format '%s' (csv, tsv, md, latex, html)", optarg);
            break;
        case 'h':
            usage();
            exit(svy_tool_finish_stdout(SVY_EXIT_OK));
        case 'o':
            o->output = optarg;
            break;
        case 'V':
            svy_tool_version();
            exit(svy_tool_finish_stdout(SVY_EXIT_OK));
        case OPT_LOGIT:
        case OPT_LINEAR: {
            int f = c == OPT_LOGIT ? SVY_FAMILY_LOGIT : SVY_FAMILY_LINEAR;
            if (o->family >= 0 && o->family != f)
                svy_tool_usage_error("--logit and --linear: choose one");
            o->family = f;
            break;
        }
        case OPT_REF:
            if (!strchr(optarg, '=') || optarg[0] == '=' || !strchr(optarg, '=')[1])
                svy_tool_usage_error("--ref %s: COL=VALUE expected", optarg);
            o->refs = grow(o->refs, o->nrefs + 1, sizeof *o->refs);
            o->refs[o->nrefs++] = optarg;
            break;
        case OPT_MARGINS:
            o->margins = optarg;
            break;
        case OPT_SUBPOP: {
            svy_err e;
            svy_err_clear(&e);
            if (o->subpop)
                svy_tool_usage_error("--subpop given twice: join the conditions with &");
            if (svy_subpop_parse(optarg, &o->subpop, &e) != SVY_OK)
                svy_tool_usage_error("--subpop: %s", e.msg);
            break;
        }
        case OPT_CALIBRATED:
            o->cals = grow(o->cals, o->ncals + 1, sizeof *o->cals);
            o->cals[o->ncals++] = optarg;
            break;
        case OPT_WALD:
            o->walds = grow(o->walds, o->nwalds + 1, sizeof *o->walds);
            o->walds[o->nwalds++] = optarg;
            break;
        case OPT_LEVEL: {
            char *end;
            double l = strtod(optarg, &end);
            if (end == optarg || *end || !(l > 0 && l < 100))
                svy_tool_usage_error("--level: %s is not a percentage between 0 and 100", optarg);
            o->D.d.level = l / 100;
            break;
        }
        case OPT_ODDS:
            o->out.odds_ratios = 1;
            break;
        case OPT_LABELS:
            o->out.labels = 1;
            break;
        case OPT_TITLE:
            o->out.title = optarg;
            break;
        default:
            svy_tool_bad_option(argv, SHORTS);
        }
    }
    if (o->family < 0)
        svy_tool_usage_error("give --logit or --linear");
    if (optind >= argc)
        svy_tool_usage_error("no formula: give 'Y ~ TERMS'");
    o->formula = argv[optind++];
    if (optind + 1 < argc)
        svy_tool_usage_error("one input at most, got %d", argc - optind);
    o->input = optind < argc ? argv[optind] : "-";
    if (o->out.odds_ratios && o->family != SVY_FAMILY_LOGIT)
        svy_tool_usage_error("--odds-ratios needs --logit");
}

/* What the fit says out loud: rows left out, separation, convergence. */
static void say_fit(const opts *o)
{
    const svy_model_fit *F = svy_model_fit_get(o->m);
    if (F->separation)
        svy_tool_warn("warning: separation: %s; the coefficients involved are not finite estimates", F->separation);
    if (!F->converged)
        svy_tool_warn("warning: the fit did not converge in %d iterations", F->iterations);
    if (o->D.quiet)
        return;
    if (F->subpop)
        svy_tool_warn("subpopulation %s: %lld of %lld rows in it; the others stay in the design", F->subpop,
                      F->subpop_rows, F->rows);
    if (F->dropped)
        svy_tool_warn("%lld of %lld rows%s have a missing value in the model's columns: left out of the model, "
                      "the design kept whole",
                      F->dropped, F->subpop ? F->subpop_rows : F->rows, F->subpop ? " of the subpopulation" : "");
    if (F->y_note)
        svy_tool_warn("%s", F->y_note);
    if (svy_model_calibration_gap(o->m) > 1e-8)
        svy_tool_warn("note: the weights come within %.2g (relative) of the --calibrated-to margins, not to "
                      "rounding: raking stopped early; the variance uses the final weights (see svy-model(1))",
                      svy_model_calibration_gap(o->m));
}

static svy_status write_model(FILE *f, const char *name, void *ctx, svy_err *err)
{
    opts *o = ctx;
    return svy_model_write(f, name, o->m, &o->out, err);
}

static int write_out(opts *o, svy_err *err)
{
    if (o->D.note[0])
        o->out.note = o->D.note;
    return svy_tool_write_result(o->output, write_model, o, err);
}

int main(int argc, char **argv)
{
    svy_tool_init(argv[0]);
    opts o;
    memset(&o, 0, sizeof o);
    o.family = -1;
    svy_design_opts_init(&o.D);
    parse_options(&o, argc, argv);
    svy_err err;
    svy_err_clear(&err);
    int rc = SVY_EXIT_OK;
    if (svy_design_opts_resolve(&o.D, &err) != SVY_OK || make_model(&o, &err) != SVY_OK) {
        rc = svy_tool_report(&err);
        goto done;
    }
    svy_reader *r = svy_reader_new();
    if (!r)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    svy_tool_progress(r, o.D.quiet);
    o.reader = r;
    const char *cols[256];
    size_t ncols = svy_model_columns(o.m, cols, 256);
    int projected = 0;
    /* Without -w the weight may be one the input holds: read every column. */
    if (ncols <= 256 && o.D.weight_given) {
        if (svy_reader_set_columns(r, cols, ncols) != SVY_OK)
            svy_tool_die(SVY_EXIT_IO, "out of memory");
        projected = 1;
    }
    if (o.encoding && svy_reader_set_encoding(r, o.encoding) != SVY_OK)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    svy_handler h = {on_schema, on_row};
    svy_reader_set_rewindable(r, svy_model_passes_max(o.m) > 1);
    svy_status st = svy_reader_open(r, o.input, &err);
    int again = 1;
    for (int pass = 0; st == SVY_OK && again; pass++) {
        h.schema = pass ? NULL : on_schema;
        st = svy_reader_run(r, &h, &o, &err);
        if (st == SVY_OK)
            st = svy_model_end_pass(o.m, &again, &err);
    }
    if (st == SVY_OK)
        st = svy_model_finish(o.m, &err);
    if (st != SVY_OK) {
        if (!err.file[0])
            snprintf(err.file, sizeof err.file, "%s", svy_reader_name(r) ? svy_reader_name(r) : o.input);
        if (projected && err.code == SVY_E_DATA && err.var[0])
            err.col = svy_reader_column_of(r, err.var);
        svy_reader_free(r);
        rc = svy_tool_report(&err);
        goto done;
    }
    svy_reader_free(r);
    say_fit(&o);
    rc = write_out(&o, &err);
done:
    svy_model_free(o.m);
    svy_subpop_free(o.subpop);
    svy_schema_free(o.schema);
    free(o.refs);
    free(o.walds);
    free(o.cals);
    svy_design_opts_free(&o.D);
    return rc;
}
