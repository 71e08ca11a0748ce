/* svy-weight: design weights to final weights — nonresponse adjustment,
 * post-stratification or raking to population margins, trimming.  Two
 * passes over the input: the first files rows into weighting cells, the
 * second writes every row back with its weight appended. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/survey.h>

#include "tool.h"

struct svy_weight_opts {
    const char *weight, *prob, *nonresponse, *respondent, *out_col, *report, *output, *trim, *input;
    const char *encoding;
    const char **margins;
    size_t nmargins;
    int max_iter;
    double tol;
    int quiet;
};

struct run {
    struct svy_weight_opts *o;
    svy_weight *w;
    svy_reader *reader;
    svy_writer *writer;
    svy_schema *out_schema;
    svy_value *vals;
    size_t nvals;
    /* Shortest text of each cell's weight, made once: printing a double is
     * most of the cost of writing a row otherwise. */
    int text_out;
    int csv_out; /* the output is CSV */
    char (*text)[SVY_DTOA_MAX];
    unsigned char *text_len;
};

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
           "      --max-iter N          raking sweeps (and trimming rounds) allowed (100)\n"
           "      --tol X               largest relative gap to the margins (1e-10)\n"
           "      --trim LO,HI          bounds on the weights, absolute or times the\n"
           "                            mean weight: 0.3x,3.5x; either may be empty\n"
           "      --out COL             name of the new column (weight_final)\n"
           "  -o, --output FILE         write here (atomically) instead of standard output;\n"
           "                            .tsv, .dta, .sav, .zsav by name, anything else CSV\n"
           "      --report FILE         the report as .csv or .md instead of on stderr\n"
           "  -e, --encoding ENC        text encoding of the input\n"
           "  -q, --quiet               no report on standard error\n"
           "  -h, --help                show this help and exit\n"
           "  -V, --version             show the version and exit\n"
           "\n"
           "Exit status: 0 ok, 1 data error or no convergence, 2 usage, 3 I/O.\n",
           svy_tool_name());
}

static svy_status pass1_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    struct run *r = ctx;
    return svy_weight_begin(r->w, schema, svy_reader_name(r->reader), err);
}

static svy_status pass1_row(void *ctx, const svy_row *row, svy_err *err)
{
    struct run *r = ctx;
    return svy_weight_add_row(r->w, row, err);
}

/* The output's format, by its name: CSV for standard output and for names
 * without a known ending. */
static svy_format output_format(const struct svy_weight_opts *o)
{
    svy_format fmt = o->output ? svy_format_from_path(o->output) : SVY_FMT_CSV;
    return fmt == SVY_FMT_UNKNOWN ? SVY_FMT_CSV : fmt;
}

static svy_status pass2_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    struct run *r = ctx;
    if (!(r->out_schema = svy_schema_clone(schema)))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    if (svy_schema_find(schema, r->o->out_col) >= 0)
        return svy_err_set(err, SVY_E_USAGE, svy_reader_name(r->reader), 0, 0, r->o->out_col,
                           "the input already has a column %s (choose another with --out)", r->o->out_col);
    svy_var *v = svy_schema_add(r->out_schema, r->o->out_col, SVY_VAR_NUMERIC, err);
    if (!v)
        return err->code ? err->code : SVY_E_NOMEM;
    svy_var_set_label(v, "final survey weight (svy-weight)");
    r->nvals = svy_schema_nvars(r->out_schema);
    if (!(r->vals = calloc(r->nvals, sizeof *r->vals)))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    svy_format fmt = output_format(r->o);
    if (!(r->writer = svy_writer_new(fmt)))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    r->text_out = fmt == SVY_FMT_CSV || fmt == SVY_FMT_TSV;
    r->csv_out = fmt == SVY_FMT_CSV;
    size_t ncells = svy_weight_get_report(r->w)->cells;
    if (r->text_out && (!(r->text = calloc(ncells ? ncells : 1, sizeof *r->text)) ||
                        !(r->text_len = calloc(ncells ? ncells : 1, 1))))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    /* .dta and .sav headers carry the row count, known from the first pass. */
    svy_writer_set_row_count(r->writer, svy_weight_get_report(r->w)->rows);
    return svy_writer_open(r->writer, r->o->output ? r->o->output : "-", r->out_schema, err);
}

static svy_status pass2_row(void *ctx, const svy_row *row, svy_err *err)
{
    struct run *r = ctx;
    double wt;
    size_t cell;
    svy_status st = svy_weight_lookup_cell(r->w, row, &wt, &cell, err);
    if (st)
        return st;
    /* A CSV writer given the line reads only the values after it (this
     * tool sets neither labels nor missing codes, which would need them). */
    if (!(row->line && r->csv_out))
        memcpy(r->vals, row->vals, row->nvals * sizeof *row->vals);
    if (r->text_out) {
        if (!r->text_len[cell])
            r->text_len[cell] = (unsigned char)svy_dtoa(wt, r->text[cell]);
        r->vals[row->nvals] = (svy_value){.type = SVY_VAL_STR, .str = r->text[cell], .len = r->text_len[cell]};
    } else {
        r->vals[row->nvals] = (svy_value){.type = SVY_VAL_NUM, .num = wt};
    }
    /* A CSV line read as it is goes out as it came, the weight after it. */
    svy_row out = {.index = row->index, .nvals = row->nvals + 1, .vals = r->vals, .line = row->line,
                   .line_len = row->line_len, .line_nvals = row->line_nvals};
    return svy_writer_write(r->writer, &out, err);
}

/* ---- the report ----------------------------------------------------------- */

struct item {
    const char *key, *what;
    double num;
    int is_int;
};

static size_t report_items(const svy_weight_report *p, struct item *it)
{
    size_t n = 0;
#define ITEM(k, w, v, i) it[n++] = (struct item){k, w, (double)(v), i}
    ITEM("rows", "rows read", p->rows, 1);
    ITEM("respondents", "rows weighted", p->respondents, 1);
    ITEM("nonrespondents", "nonrespondents (weight 0)", p->nonrespondents, 1);
    ITEM("cells", "weighting cells", p->cells, 1);
    ITEM("iterations", "raking iterations", p->iterations, 1);
    ITEM("max_gap", "largest relative margin gap", p->max_gap, 0);
    ITEM("trim_rounds", "trimming rounds", p->trim_rounds, 1);
    ITEM("trimmed", "weights trimmed", p->trimmed, 1);
    ITEM("total", "sum of weights", p->total, 0);
    ITEM("min", "minimum weight", p->min, 0);
    ITEM("median", "median weight", p->median, 0);
    ITEM("max", "maximum weight", p->max, 0);
    ITEM("mean", "mean weight", p->mean, 0);
    ITEM("cv", "coefficient of variation", p->cv, 0);
    ITEM("deff_kish", "Kish design effect 1 + CV^2", p->deff_kish, 0);
#undef ITEM
    return n;
}

static void fmt_num(const struct item *i, char *buf, size_t size, int exact)
{
    if (i->is_int)
        snprintf(buf, size, "%lld", (long long)i->num);
    else if (exact) {
        char d[SVY_DTOA_MAX];
        svy_dtoa(i->num, d);
        snprintf(buf, size, "%s", d);
    } else
        snprintf(buf, size, "%.6g", i->num);
}

static svy_status write_report(const struct svy_weight_opts *o, const svy_weight_report *p, svy_err *err)
{
    struct item it[32];
    size_t n = report_items(p, it);
    char buf[64];
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
            if (it[i].is_int)
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

int main(int argc, char **argv)
{
    svy_tool_init(argv[0]);
    struct svy_weight_opts o = {.out_col = "weight_final", .max_iter = 100, .tol = 1e-10};
    enum { OPT_MAX_ITER = 256, OPT_NONRESPONSE, OPT_OUT, OPT_REPORT, OPT_RESPONDENT, OPT_TOL, OPT_TRIM };
    /* Please keep this list sorted. */
    static const struct option longopts[] = {
        {"encoding", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {"margin", required_argument, NULL, 'm'},
        {"max-iter", required_argument, NULL, OPT_MAX_ITER},
        {"nonresponse", required_argument, NULL, OPT_NONRESPONSE},
        {"out", required_argument, NULL, OPT_OUT},
        {"output", required_argument, NULL, 'o'},
        {"prob", required_argument, NULL, 'p'},
        {"quiet", no_argument, NULL, 'q'},
        {"report", required_argument, NULL, OPT_REPORT},
        {"respondent", required_argument, NULL, OPT_RESPONDENT},
        {"tol", required_argument, NULL, OPT_TOL},
        {"trim", required_argument, NULL, OPT_TRIM},
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
        case OPT_MAX_ITER: {
            double d = parse_double_opt(optarg, "--max-iter");
            if (d < 1 || d > 1e9 || d != floor(d))
                svy_tool_usage_error("--max-iter '%s' is not a whole number of at least 1", optarg);
            o.max_iter = (int)d;
            break;
        }
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
    svy_err err;
    svy_err_clear(&err);
    svy_status st = SVY_OK;
    char **cells = NULL;
    if (!(r.w = svy_weight_new()) || !(r.reader = svy_reader_new()))
        st = svy_err_set(&err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
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
    if (!st && o.trim)
        st = svy_weight_set_trim_spec(r.w, o.trim, &err);
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
        svy_handler h = {pass1_schema, pass1_row};
        st = svy_reader_run(r.reader, &h, &r, &err);
    }
    if (!st)
        st = svy_weight_fit(r.w, &err);
    if (!st) {
        svy_handler h = {pass2_schema, pass2_row};
        /* Lines are of use only to a CSV writer (the format is by name). */
        svy_reader_set_keep_lines(r.reader, output_format(&o) == SVY_FMT_CSV);
        st = svy_reader_run(r.reader, &h, &r, &err);
    }
    if (!st && r.writer)
        st = svy_writer_close(r.writer, &err);
    if (!st)
        st = write_report(&o, svy_weight_get_report(r.w), &err);
    int code = st ? svy_tool_report(&err) : SVY_EXIT_OK;

    svy_writer_free(r.writer);
    svy_schema_free(r.out_schema);
    free(r.vals);
    free(r.text);
    free(r.text_len);
    svy_reader_free(r.reader);
    svy_weight_free(r.w);
    free(cells);
    free(o.margins);
    return svy_tool_finish_stdout(code);
}
