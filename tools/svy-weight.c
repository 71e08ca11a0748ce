/* svy-weight: design weights to final weights — nonresponse adjustment,
 * post-stratification or raking to population margins, trimming.  Two
 * passes over the input: the first files rows into weighting cells, the
 * second writes every row back with its weight appended. */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/survey.h>

#include "weight_rep_opts.h"
#include "tool.h"

struct svy_weight_opts {
    const char *weight, *prob, *nonresponse, *respondent, *out_col, *report, *output, *trim, *input;
    const char *encoding;
    const char **margins;
    size_t nmargins;
    int max_iter, max_rounds;
    double tol;
    int quiet;
    int trim_once;
    struct wrep_opts rep;
};

struct run {
    struct svy_weight_opts *o;
    svy_weight *w;
    svy_reader *reader;
    svy_writer *writer;
    svy_schema *out_schema;
    /* Typed outputs (.dta, .sav): the first pass profiles the columns so
     * untyped CSV columns of numbers are written as numbers. */
    svy_profile *prof;
    svy_value *vals;
    size_t nvals;
    int text_out;
    int csv_out; /* the writer copies svy_row.line (svy_writer_copies_lines) */
    svy_wrep *wrep; /* --replicates */
    double *reps;
    char *reptext;
    /* Text of recent weights, direct-mapped by their bits: rows of a cell
     * with one starting weight share their weight, and printing a double
     * would otherwise be much of the cost of writing a row. */
    struct wtext {
        uint64_t bits;
        unsigned char len;
        char text[SVY_DTOA_MAX];
    } *cache;
};

#define TEXT_CACHE 1024

static void usage(void)
{
    printf("Usage: %s [OPTIONS] [FILE|-]\n"
           "Compute survey weights: start from design weights, adjust for nonresponse,\n"
           "post-stratify or rake to population margins, trim.  Writes every input row,\n"
           "all columns kept, with the new weight appended.\n"
           "\n"
           "  -w, --weight COL          starting weight (default: 1 for every row)\n"
           "  -p, --prob COL            inclusion probability instead: weight 1/COL\n"
           "      --nonresponse COLS    weighting classes for nonresponse (comma list)\n"
           "      --respondent COL      1 = respondent, 0 = nonrespondent (weight 0)\n"
           "  -m, --margin FILE         population margin: CSV of variables then 'total';\n"
           "                            one is post-stratification, several are raking\n"
           "      --max-iter N          raking sweeps allowed (%d)\n"
           "      --tol X               largest relative gap to the margins (%g)\n"
           "      --trim LO,HI          bounds on the weights, absolute or times the\n"
           "                            mean weight: 0.3x,3.5x; either may be empty\n"
           "      --trim-strict         repeat R's trimWeights() pass until no weight is\n"
           "                            outside the bounds (R's strict = TRUE; the default)\n"
           "      --trim-once           one pass per round, R's default strict = FALSE:\n"
           "                            weights it pushes past a bound stay there\n"
           "      --max-rounds N        rounds of trimming then raking allowed (%d)\n"
           "      --out COL             name of the new column (weight_final)\n"
           "      --replicates TYPE     also write replicate weights COL_r1 ... COL_rN, each\n"
           "                            weighted again: jk1, jkn, brr, fay:RHO or bootstrap[:N]\n"
           "                            (N = 50); with --trim each replicate is trimmed too\n"
           "                            (Nx bounds from the replicate's own mean weight)\n"
           "      --strata COL          strata for the replicates (jkn, brr, fay, bootstrap)\n"
           "      --psu COL             primary sampling units (default: each row)\n"
           "      --fpc COL             stage-1 population size (or fraction <= 1)\n"
           "      --seed N              seed of the bootstrap (1)\n"
           "      --repinfo FILE        write the replicate-design file svy-tab --repinfo reads\n"
           "  -o, --output FILE         write here (atomically) instead of standard output;\n"
           "                            .tsv, .dta, .sav, .zsav by name, anything else CSV\n"
           "      --report FILE         the report as .csv or .md instead of on stderr\n"
           "  -e, --encoding ENC        text encoding of the input\n"
           "  -q, --quiet               no report or progress line on standard error\n"
           "  -h, --help                show this help and exit\n"
           "  -V, --version             show the version and exit\n"
           "\n"
           "Exit status: 0 ok, 1 data error or no convergence, 2 usage, 3 I/O.\n",
           svy_tool_name(), SVY_WEIGHT_MAX_ITER, SVY_WEIGHT_TOL, SVY_WEIGHT_TRIM_ROUNDS);
}

static svy_format output_format(const struct svy_weight_opts *o);

static svy_status pass1_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    struct run *r = ctx;
    svy_format fmt = output_format(r->o);
    if (fmt != SVY_FMT_CSV && fmt != SVY_FMT_TSV && !(r->prof = svy_profile_new(schema, 0)))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    svy_status st = svy_weight_begin(r->w, schema, svy_reader_name(r->reader), err);
    return st || !r->wrep ? st : svy_wrep_begin(r->wrep, r->w, err);
}

static svy_status rep_pass1_row(void *ctx, const svy_row *row, svy_err *err)
{
    struct run *r = ctx;
    svy_status st = r->prof ? svy_profile_add_row(r->prof, row, err) : SVY_OK;
    return st ? st : svy_wrep_add_row(r->wrep, r->w, row, err);
}

static svy_status pass1_row(void *ctx, const svy_row *row, svy_err *err)
{
    struct run *r = ctx;
    svy_status st = r->prof ? svy_profile_add_row(r->prof, row, err) : SVY_OK;
    return st ? st : svy_weight_add_row(r->w, row, err);
}

/* The output's format, by its name: CSV for standard output and for names
 * without a known ending. */
static svy_format output_format(const struct svy_weight_opts *o)
{
    svy_format fmt = o->output ? svy_format_from_path(o->output) : SVY_FMT_CSV;
    return fmt == SVY_FMT_UNKNOWN ? SVY_FMT_CSV : fmt;
}

/* The new column's variable label says what it is and how it was made,
 * within Stata's 80 bytes.  Its start is SVY_FINAL_WEIGHT_LABEL, by which
 * svy-tab -c knows the final weight in a .dta or .sav. */
static void weight_label(const struct svy_weight_opts *o, char *buf, size_t size)
{
    char from[64];
    if (o->weight)
        snprintf(from, sizeof from, "%.30s", o->weight);
    else if (o->prob)
        snprintf(from, sizeof from, "1/%.30s", o->prob);
    else
        snprintf(from, sizeof from, "1");
    char how[64] = "";
    size_t u = 0;
    if (o->nonresponse)
        u += (size_t)snprintf(how + u, sizeof how - u, ", nonresponse");
    if (o->nmargins == 1)
        u += (size_t)snprintf(how + u, sizeof how - u, ", post-stratified");
    else if (o->nmargins > 1)
        u += (size_t)snprintf(how + u, sizeof how - u, ", raked to %zu margins", o->nmargins);
    if (o->trim && u < sizeof how)
        snprintf(how + u, sizeof how - u, ", trimmed");
    snprintf(buf, size, "%s: from %s%s)", SVY_FINAL_WEIGHT_LABEL, from, how);
}

static svy_status pass2_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    struct run *r = ctx;
    if (!(r->out_schema = svy_schema_clone(schema)))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    if (r->prof)
        svy_profile_type_untyped(r->prof, r->out_schema);
    if (svy_schema_find(schema, r->o->out_col) >= 0)
        return svy_err_set(err, SVY_E_USAGE, svy_reader_name(r->reader), 0, 0, r->o->out_col,
                           "the input already has a column %s (choose another with --out)", r->o->out_col);
    svy_var *v = svy_schema_add(r->out_schema, r->o->out_col, SVY_VAR_NUMERIC, err);
    if (!v)
        return err->code ? err->code : SVY_E_NOMEM;
    char label[200];
    weight_label(r->o, label, sizeof label);
    if (svy_var_set_label(v, label) != SVY_OK)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    svy_status st;
    if (r->wrep && (st = wrep_tool_schema(r->wrep, r->o->out_col, r->out_schema, svy_reader_name(r->reader), err)))
        return st;
    r->nvals = svy_schema_nvars(r->out_schema);
    if (!(r->vals = calloc(r->nvals, sizeof *r->vals)))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    svy_format fmt = output_format(r->o);
    if (!(r->writer = svy_tool_writer_new(fmt)))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    r->text_out = fmt == SVY_FMT_CSV || fmt == SVY_FMT_TSV;
    r->csv_out = svy_writer_copies_lines(r->writer);
    if (r->text_out && !(r->cache = calloc(TEXT_CACHE, sizeof *r->cache)))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    /* .dta and .sav headers carry the row count, known from the first pass. */
    svy_writer_set_row_count(r->writer, svy_weight_get_report(r->w)->rows);
    return svy_writer_open(r->writer, r->o->output ? r->o->output : "-", r->out_schema, err);
}

static svy_status pass2_row(void *ctx, const svy_row *row, svy_err *err)
{
    struct run *r = ctx;
    double wt;
    svy_status st = svy_weight_lookup(r->w, row, &wt, err);
    if (st)
        return st;
    /* A CSV writer given the line reads only the values after it (this
     * tool sets neither labels nor missing codes, which would need them). */
    if (!(row->line && r->csv_out))
        memcpy(r->vals, row->vals, row->nvals * sizeof *row->vals);
    if (r->text_out) {
        uint64_t bits;
        memcpy(&bits, &wt, 8);
        /* Two ways: a pair of slots, the newer text first. */
        struct wtext *t = &r->cache[((bits * 0x9e3779b97f4a7c15ull) >> 55) * 2];
        if (!(t[0].len && t[0].bits == bits)) {
            struct wtext x = t[1];
            t[1] = t[0];
            if (x.len && x.bits == bits) {
                t[0] = x;
            } else {
                t[0].bits = bits;
                t[0].len = (unsigned char)svy_dtoa(wt, t[0].text);
            }
        }
        r->vals[row->nvals] = (svy_value){.type = SVY_VAL_STR, .str = t->text, .len = t->len};
    } else {
        r->vals[row->nvals] = (svy_value){.type = SVY_VAL_NUM, .num = wt};
    }
    /* A CSV line read as it is goes out as it came, the weight after it. */
    svy_row out = {.index = row->index, .nvals = row->nvals + 1, .vals = r->vals, .line = row->line,
                   .line_len = row->line_len, .line_nvals = row->line_nvals};
    return svy_writer_write(r->writer, &out, err);
}

/* A row with its weight and replicate weights (--replicates). */
static svy_status rep_pass2_row(void *ctx, const svy_row *row, svy_err *err)
{
    struct run *r = ctx;
    size_t n = svy_wrep_count(r->wrep);
    double wt;
    svy_status st = svy_wrep_lookup(r->wrep, r->w, row, &wt, r->reps, err);
    if (st)
        return st;
    if (!r->reptext && !(r->reptext = malloc((n + 1) * SVY_DTOA_MAX)))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    if (!(row->line && r->csv_out))
        memcpy(r->vals, row->vals, row->nvals * sizeof *row->vals);
    for (size_t i = 0; i <= n; i++) {
        double d = i ? r->reps[i - 1] : wt;
        svy_value *v = &r->vals[row->nvals + i];
        if (r->text_out) {
            char *t = r->reptext + i * SVY_DTOA_MAX;
            *v = (svy_value){.type = SVY_VAL_STR, .str = t, .len = svy_dtoa(d, t)};
        } else {
            *v = (svy_value){.type = SVY_VAL_NUM, .num = d};
        }
    }
    svy_row out = {.index = row->index, .nvals = row->nvals + 1 + n, .vals = r->vals, .line = row->line,
                   .line_len = row->line_len, .line_nvals = row->line_nvals};
    return svy_writer_write(r->writer, &out, err);
}

/* ---- the report ----------------------------------------------------------- */

struct item {
    const char *key, *what;
    double num;
    int is_int;
    const char *text; /* instead of a number */
};

/* The replicates' trimming: said in the report, bounds and all. */
static size_t rep_trim_items(const svy_wrep_trim_report *t, int rel, struct item *it)
{
    size_t n = 0;
    it[n++] = (struct item){"rep_trim_bounds", "replicates trimmed, bounds", 0, 0,
                            rel ? "Nx: times each replicate's own mean weight (its rows of weight 0 left out)"
                                : "as given (absolute), the full sample's"};
    it[n++] = (struct item){"rep_trim_lo_min", "  lower bound, smallest", t->lo_min, 0, NULL};
    it[n++] = (struct item){"rep_trim_lo_max", "  lower bound, largest", t->lo_max, 0, NULL};
    it[n++] = (struct item){"rep_trim_hi_min", "  upper bound, smallest", t->hi_min, 0, NULL};
    it[n++] = (struct item){"rep_trim_hi_max", "  upper bound, largest", t->hi_max, 0, NULL};
    it[n++] = (struct item){"rep_trim_changed", "  replicates with clipping", (double)t->changed, 1, NULL};
    it[n++] = (struct item){"rep_trim_clipped", "  weights clipped, all reps", (double)t->clipped, 1, NULL};
    it[n++] = (struct item){"rep_trim_rounds_max", "  most trimming rounds of one", t->rounds_max, 1, NULL};
    return n;
}

static size_t report_items(const svy_weight_report *p, int margins, int trim, struct item *it)
{
    size_t n = 0;
#define ITEM(k, w, v, i) it[n++] = (struct item){k, w, (double)(v), i, NULL}
#define TEXT(k, w, t) it[n++] = (struct item){k, w, 0, 0, t}
    ITEM("rows", "rows read", p->rows, 1);
    ITEM("respondents", "rows weighted", p->respondents, 1);
    ITEM("nonrespondents", "nonrespondents (weight 0)", p->nonrespondents, 1);
    ITEM("cells", "weighting cells", p->cells, 1);
    if (margins)
        TEXT("converged", "raking converged", p->converged ? "yes" : "no");
    ITEM("iterations", "raking iterations", p->iterations, 1);
    ITEM("max_gap", "largest relative margin gap", p->max_gap, 0);
    if (margins) {
        TEXT("worst_margin", "margin with the largest gap", p->worst_margin);
        ITEM("worst_line", "  its line in the margin file", p->worst_line, 1);
        TEXT("worst_level", "  its level", p->worst_level);
        ITEM("worst_weighted", "  weighted total", p->worst_weighted, 0);
        ITEM("worst_total", "  population total", p->worst_total, 0);
    }
    if (trim) {
        TEXT("trim_mode", "trimming",
             p->trim_strict ? "strict (until none is outside)" : "once (R's strict = FALSE)");
        ITEM("trim_lo", "lower trimming bound", p->trim_lo, 0);
        ITEM("trim_hi", "upper trimming bound", p->trim_hi, 0);
        ITEM("trim_passes", "trimming passes", p->trim_passes, 1);
    }
    ITEM("trim_rounds", "trimming rounds", p->trim_rounds, 1);
    ITEM("trimmed", "weights trimmed", p->trimmed, 1);
    if (trim)
        ITEM("outside", "weights outside the bounds", p->outside, 1);
    ITEM("total", "sum of weights", p->total, 0);
    ITEM("min", "minimum weight", p->min, 0);
    ITEM("median", "median weight", p->median, 0);
    ITEM("max", "maximum weight", p->max, 0);
    ITEM("mean", "mean weight", p->mean, 0);
    ITEM("cv", "coefficient of variation", p->cv, 0);
    ITEM("deff_kish", "Kish design effect 1 + CV^2", p->deff_kish, 0);
#undef ITEM
#undef TEXT
    return n;
}

static void fmt_num(const struct item *i, char *buf, size_t size, int exact)
{
    if (i->text)
        snprintf(buf, size, "%s", i->text);
    else if (i->is_int)
        snprintf(buf, size, "%lld", (long long)i->num);
    else if (exact) {
        char d[SVY_DTOA_MAX];
        svy_dtoa(i->num, d);
        snprintf(buf, size, "%s", d);
    } else
        snprintf(buf, size, "%.6g", i->num);
}

static svy_status write_report(const struct svy_weight_opts *o, const svy_weight_report *p,
                               const svy_wrep_trim_report *rt, svy_err *err)
{
    struct item it[48];
    size_t n = report_items(p, o->nmargins > 0, o->trim != NULL, it);
    if (rt)
        n += rep_trim_items(rt, strchr(o->trim, 'x') || strchr(o->trim, 'X'), it + n);
    char buf[300];
    if (!o->report) {
        if (o->quiet)
            return SVY_OK;
        for (size_t i = 0; i < n; i++) {
            fmt_num(&it[i], buf, sizeof buf, 0);
            fprintf(stderr, "%s: %-30s %s\n", svy_tool_name(), it[i].what, buf);
        }
        return SVY_OK;
    }
    const char *dot = strrchr(o->report, '.');
    int md = dot && strcmp(dot, ".md") == 0;
    svy_outfile *of;
    svy_status st = svy_outfile_open(o->report, &of, err);
    if (st)
        return st;
    FILE *f = svy_outfile_stream(of);
    if (md) {
        fprintf(f, "| statistic | value |\n|---|---:|\n");
        for (size_t i = 0; i < n; i++) {
            fmt_num(&it[i], buf, sizeof buf, 0);
            fprintf(f, "| %s | %s |\n", it[i].what, buf);
        }
    } else {
        svy_csv_out *c = svy_csv_out_new(f, ',');
        if (!c) {
            svy_outfile_abort(of);
            return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        }
        svy_csv_out_cstr(c, "statistic");
        svy_csv_out_cstr(c, "value");
        svy_csv_out_end_row(c);
        for (size_t i = 0; i < n; i++) {
            svy_csv_out_cstr(c, it[i].key);
            if (it[i].text)
                svy_csv_out_cstr(c, it[i].text);
            else if (it[i].is_int)
                svy_csv_out_int(c, (long long)it[i].num);
            else
                svy_csv_out_num(c, it[i].num);
            svy_csv_out_end_row(c);
        }
        st = svy_csv_out_flush(c, o->report, err);
        svy_csv_out_free(c);
        if (st) {
            svy_outfile_abort(of);
            return st;
        }
    }
    return svy_outfile_commit(of, err);
}

static double parse_double_opt(const char *s, const char *name)
{
    double d;
    if (!svy_parse_number(s, (size_t)-1, &d))
        svy_tool_usage_error("%s '%s' is not a number", name, s);
    return d;
}

static int parse_count_opt(const char *s, const char *name)
{
    double d = parse_double_opt(s, name);
    if (d < 1 || d > 1e9 || d != floor(d))
        svy_tool_usage_error("%s '%s' is not a whole number of at least 1", name, s);
    return (int)d;
}

int main(int argc, char **argv)
{
    svy_tool_init(argv[0]);
    struct svy_weight_opts o = {.out_col = "weight_final", .max_iter = SVY_WEIGHT_MAX_ITER,
                                .max_rounds = SVY_WEIGHT_TRIM_ROUNDS, .tol = SVY_WEIGHT_TOL};
    enum {
        OPT_MAX_ITER = 256,
        OPT_MAX_ROUNDS,
        OPT_NONRESPONSE,
        OPT_OUT,
        OPT_REPORT,
        OPT_RESPONDENT,
        OPT_TOL,
        OPT_TRIM,
        OPT_TRIM_ONCE,
        OPT_TRIM_STRICT,
        OPT_REPLICATES,
        OPT_STRATA,
        OPT_PSU,
        OPT_FPC,
        OPT_SEED,
        OPT_REPINFO
    };
    /* Please keep this list sorted. */
    static const struct option longopts[] = {
        {"encoding", required_argument, NULL, 'e'},
        {"fpc", required_argument, NULL, OPT_FPC},
        {"help", no_argument, NULL, 'h'},
        {"margin", required_argument, NULL, 'm'},
        {"max-iter", required_argument, NULL, OPT_MAX_ITER},
        {"max-rounds", required_argument, NULL, OPT_MAX_ROUNDS},
        {"nonresponse", required_argument, NULL, OPT_NONRESPONSE},
        {"out", required_argument, NULL, OPT_OUT},
        {"output", required_argument, NULL, 'o'},
        {"prob", required_argument, NULL, 'p'},
        {"psu", required_argument, NULL, OPT_PSU},
        {"quiet", no_argument, NULL, 'q'},
        {"repinfo", required_argument, NULL, OPT_REPINFO},
        {"replicates", required_argument, NULL, OPT_REPLICATES},
        {"report", required_argument, NULL, OPT_REPORT},
        {"respondent", required_argument, NULL, OPT_RESPONDENT},
        {"seed", required_argument, NULL, OPT_SEED},
        {"strata", required_argument, NULL, OPT_STRATA},
        {"tol", required_argument, NULL, OPT_TOL},
        {"trim", required_argument, NULL, OPT_TRIM},
        {"trim-once", no_argument, NULL, OPT_TRIM_ONCE},
        {"trim-strict", no_argument, NULL, OPT_TRIM_STRICT},
        {"version", no_argument, NULL, 'V'},
        {"weight", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    o.margins = calloc((size_t)argc, sizeof *o.margins);
    if (!o.margins)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    int c;
    while ((c = getopt_long(argc, argv, "e:hm:o:p:qVw:", longopts, NULL)) != -1) {
        switch (c) {
        case 'e': o.encoding = optarg; break;
        case 'h': usage(); free(o.margins); return svy_tool_finish_stdout(SVY_EXIT_OK);
        case 'm': o.margins[o.nmargins++] = optarg; break;
        case 'o': o.output = optarg; break;
        case 'p': o.prob = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'V': svy_tool_version(); free(o.margins); return svy_tool_finish_stdout(SVY_EXIT_OK);
        case 'w': o.weight = optarg; break;
        case OPT_MAX_ITER: o.max_iter = parse_count_opt(optarg, "--max-iter"); break;
        case OPT_MAX_ROUNDS: o.max_rounds = parse_count_opt(optarg, "--max-rounds"); break;
        case OPT_NONRESPONSE: o.nonresponse = optarg; break;
        case OPT_OUT: o.out_col = optarg; break;
        case OPT_REPORT: o.report = optarg; break;
        case OPT_RESPONDENT: o.respondent = optarg; break;
        case OPT_TOL:
            o.tol = parse_double_opt(optarg, "--tol");
            if (!(o.tol > 0))
                svy_tool_usage_error("--tol '%s' must be positive", optarg);
            break;
        case OPT_TRIM: o.trim = optarg; break;
        case OPT_TRIM_ONCE: o.trim_once = 1; break;
        case OPT_TRIM_STRICT: o.trim_once = 0; break;
        case OPT_REPLICATES: o.rep.spec = optarg; break;
        case OPT_STRATA: o.rep.strata = optarg; break;
        case OPT_PSU: o.rep.psu = optarg; break;
        case OPT_FPC: o.rep.fpc = optarg; break;
        case OPT_SEED: o.rep.seed = optarg; break;
        case OPT_REPINFO: o.rep.repinfo = optarg; break;
        default: svy_tool_bad_option(argv, "e:hm:o:p:qVw:");
        }
    }
    if (argc - optind > 1)
        svy_tool_usage_error("one input file at most");
    o.input = optind < argc ? argv[optind] : "-";
    if (o.weight && o.prob)
        svy_tool_usage_error("--weight and --prob exclude each other");
    if (o.nonresponse && !o.respondent)
        svy_tool_usage_error("--nonresponse needs --respondent COL");
    if (!*o.out_col)
        svy_tool_usage_error("--out needs a column name");
    if (o.report) {
        const char *dot = strrchr(o.report, '.');
        if (!dot || (strcmp(dot, ".csv") != 0 && strcmp(dot, ".md") != 0))
            svy_tool_usage_error("--report '%s' must end in .csv or .md", o.report);
    }

    struct run r = {.o = &o};
    r.wrep = wrep_tool_setup(&o.rep);
    svy_err err;
    svy_err_clear(&err);
    svy_status st = SVY_OK;
    char **cells = NULL;
    if (!(r.w = svy_weight_new()) || !(r.reader = svy_reader_new()))
        st = svy_err_set(&err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    svy_tool_progress(r.reader, o.quiet);
    if (!st && (o.weight || o.prob))
        st = svy_weight_set_start(r.w, o.weight ? o.weight : o.prob, o.prob != NULL, &err);
    if (!st && o.respondent) {
        size_t n = 0;
        if (o.nonresponse)
            cells = svy_tool_split_list(o.nonresponse, &n);
        st = svy_weight_set_nonresponse(r.w, (const char *const *)cells, n, o.respondent, &err);
    }
    if (!st)
        st = svy_weight_set_convergence(r.w, o.max_iter, o.tol, &err);
    if (!st)
        st = svy_weight_set_trim_rounds(r.w, o.max_rounds, &err);
    if (!st && o.trim)
        st = svy_weight_set_trim_spec(r.w, o.trim, &err);
    if (!st)
        svy_weight_set_trim_strict(r.w, !o.trim_once);
    for (size_t i = 0; !st && i < o.nmargins; i++)
        st = svy_weight_load_margin(r.w, o.margins[i], &err);
    if (!st && o.encoding && svy_reader_set_encoding(r.reader, o.encoding) != SVY_OK)
        st = svy_err_set(&err, SVY_E_USAGE, NULL, 0, 0, NULL, "unknown encoding '%s'", o.encoding);
    if (!st) {
        /* Standard input is spooled so the second pass can read it again. */
        svy_reader_set_rewindable(r.reader, 1);
        st = svy_reader_open(r.reader, o.input, &err);
    }
    if (!st) {
        svy_handler h = {pass1_schema, r.wrep ? rep_pass1_row : pass1_row};
        st = svy_reader_run(r.reader, &h, &r, &err);
    }
    if (!st) {
        st = svy_weight_fit(r.w, &err);
        /* Raking that did not converge still has a report: how close it
         * came and where. */
        if (st && !svy_weight_get_report(r.w)->converged && svy_weight_get_report(r.w)->worst_margin[0]) {
            svy_err rerr;
            svy_err_clear(&rerr);
            if (write_report(&o, svy_weight_get_report(r.w), NULL, &rerr))
                svy_tool_report(&rerr);
        }
    }
    if (!st && r.wrep && !(st = svy_wrep_fit(r.wrep, r.w, &err)) &&
        !(r.reps = calloc(svy_wrep_count(r.wrep) + 1, sizeof *r.reps)))
        st = svy_err_set(&err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    if (!st) {
        svy_handler h = {pass2_schema, r.wrep ? rep_pass2_row : pass2_row};
        /* Lines are of use only to a CSV writer (the format is by name). */
        svy_reader_set_keep_lines(r.reader, output_format(&o) == SVY_FMT_CSV);
        st = svy_reader_run(r.reader, &h, &r, &err);
    }
    if (!st && r.writer)
        st = svy_writer_close(r.writer, &err);
    if (!st && r.wrep && o.rep.repinfo)
        st = wrep_tool_repinfo(r.wrep, o.rep.repinfo, o.out_col, &err);
    if (!st)
        st = write_report(&o, svy_weight_get_report(r.w), r.wrep ? svy_wrep_get_trim_report(r.wrep) : NULL, &err);
    int code = st ? svy_tool_report(&err) : SVY_EXIT_OK;

    svy_writer_free(r.writer);
    svy_schema_free(r.out_schema);
    svy_profile_free(r.prof);
    free(r.vals);
    free(r.cache);
    svy_reader_free(r.reader);
    svy_weight_free(r.w);
    svy_wrep_free(r.wrep);
    free(r.reps);
    free(r.reptext);
    free(cells);
    free(o.margins);
    return svy_tool_finish_stdout(code);
}
