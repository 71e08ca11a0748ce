/* svy-clean: raw survey data to analysis-ready data by the rules of a
 * codebook, with an audit trail of every changed cell and dropped row. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/survey.h>

#include "tool.h"

/* Problems printed on stderr before the rest are only counted. */
#define SHOW_PROBLEMS 10

struct svy_clean_opts {
    const char *codebook, *output, *log, *rejects, *input, *encoding;
    int strict, check, quiet;
};

struct run {
    struct svy_clean_opts *o;
    svy_codebook *cb;
    svy_clean *clean;
    svy_reader *reader;
    svy_writer *writer;
    svy_outfile *log_file, *rej_file;
    svy_csv_out *log, *rej;
    long long shown;
};

static void usage(void)
{
    printf("Usage: %s -c CODEBOOK_DIR [OPTIONS] [FILE|-]\n"
           "Clean a raw survey file (any format svy reads) by the rules of a codebook and\n"
           "write the cleaned data as CSV on standard output.\n"
           "\n"
           "  -c, --codebook DIR   the study's codebook folder (see codebooks/README.md)\n"
           "      --check          check already cleaned data against the codebook instead:\n"
           "                       every value valid, every consistency check met\n"
           "  -e, --encoding ENC   text encoding of the input, overriding what it declares\n"
           "      --log FILE       every changed cell: row,id,variable,old,new,rule,detail\n"
           "  -o, --output FILE    write here (atomically) instead of standard output;\n"
           "                       a .tsv name writes TSV, anything else CSV\n"
           "  -q, --quiet          print only the summary, not each problem; no progress line\n"
           "      --rejects FILE   every dropped row: row,id,rule,reason\n"
           "      --strict         stop at the first problem (exit 1)\n"
           "  -h, --help           show this help and exit\n"
           "  -V, --version        show the version and exit\n"
           "\n"
           "The summary on standard error reconciles: rows in = rows out + rows rejected.\n",
           svy_tool_name());
}

static svy_status on_reject(void *ctx, long long row, const char *id, svy_clean_rule rule, const char *reason,
                            svy_err *err)
{
    struct run *r = ctx;
    if (!r->rej)
        return SVY_OK;
    svy_csv_out_int(r->rej, row);
    svy_csv_out_cstr(r->rej, id);
    svy_csv_out_cstr(r->rej, svy_clean_rule_name(rule));
    svy_csv_out_cstr(r->rej, reason);
    svy_csv_out_end_row(r->rej);
    return SVY_OK;
}

static svy_status on_problem(void *ctx, long long row, const char *id, const char *var, const char *reason,
                             svy_err *err)
{
    struct run *r = ctx;
    (void)var;
    if (!r->o->quiet && r->shown++ < SHOW_PROBLEMS)
        svy_tool_warn("%s:%lld: %s%s%s", svy_reader_name(r->reader), row, *id ? id : "", *id ? ": " : "", reason);
    return SVY_OK;
}

static svy_status on_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    struct run *r = ctx;
    if (r->o->check)
        return svy_clean_begin_validate(r->clean, schema, err);
    svy_status st = svy_clean_begin(r->clean, schema, err);
    if (st)
        return st;
    svy_format fmt = r->o->output ? svy_format_from_path(r->o->output) : SVY_FMT_CSV;
    if (fmt == SVY_FMT_UNKNOWN)
        fmt = SVY_FMT_CSV;
    if (!(r->writer = svy_tool_writer_new(fmt)))
        return svy_err_set(err, SVY_E_USAGE, r->o->output, 0, 0, NULL, "this format cannot be written");
    st = svy_writer_open(r->writer, r->o->output ? r->o->output : "-", svy_clean_schema(r->clean), err);
    /* A CSV writer copies the row's line: the values need not be filled,
     * and the engine makes the line in the writer's buffer and writes it. */
    svy_clean_set_line_only(r->clean, st == SVY_OK && svy_writer_copies_lines(r->writer));
    svy_clean_set_writer(r->clean, st == SVY_OK ? r->writer : NULL);
    return st;
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    struct run *r = ctx;
    if (r->o->check)
        return svy_clean_validate_row(r->clean, row, err);
    const svy_row *out;
    svy_status st = svy_clean_row(r->clean, row, &out, err);
    if (st || !out) /* rejected, or written by the engine (svy_clean_set_writer) */
        return st;
    return svy_writer_write(r->writer, out, err);
}

static svy_status open_side(const char *path, const char *header, svy_outfile **of, svy_csv_out **out,
                            svy_err *err)
{
    if (!path)
        return SVY_OK;
    svy_status st = svy_outfile_open(path, of, err);
    if (st)
        return st;
    if (!(*out = svy_csv_out_new(svy_outfile_stream(*of), ',')))
        return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
    size_t n;
    char **names = svy_tool_split_list(header, &n);
    for (size_t i = 0; i < n; i++)
        svy_csv_out_cstr(*out, names[i]);
    svy_csv_out_end_row(*out);
    free(names);
    return SVY_OK;
}

static svy_status close_side(const char *path, svy_outfile **of, svy_csv_out **out, svy_err *err)
{
    if (!*of)
        return SVY_OK;
    svy_status st = svy_csv_out_flush(*out, path, err);
    svy_csv_out_free(*out);
    *out = NULL;
    if (st) {
        svy_outfile_abort(*of);
        *of = NULL;
        return st;
    }
    st = svy_outfile_commit(*of, err);
    *of = NULL;
    return st;
}

static void summary(const struct run *r)
{
    const svy_clean_stats *s = svy_clean_get_stats(r->clean);
    if (r->o->check) {
        fprintf(stderr, "%s: %lld rows checked, %lld problems\n", svy_tool_name(), s->rows_in, s->problems);
        return;
    }
    fprintf(stderr, "%s: rows: %lld in = %lld out + %lld rejected", svy_tool_name(), s->rows_in, s->rows_out,
            s->rows_rejected);
    /* --strict stops on a row that is then neither out nor rejected: it is
     * counted, so the sum still holds ("3 in = 2 out + 0 rejected" did not). */
    long long stopped = s->rows_in - s->rows_out - s->rows_rejected;
    if (stopped > 0)
        fprintf(stderr, " + %lld stopped by --strict", stopped);
    const char *sep = " (";
    for (int k = 0; k < SVY_RULE_COUNT_; k++)
        if (s->rejected_by[k]) {
            fprintf(stderr, "%s%s %lld", sep, svy_clean_rule_name((svy_clean_rule)k), s->rejected_by[k]);
            sep = ", ";
        }
    fprintf(stderr, "%s\n", *sep == ',' ? ")" : "");
    fprintf(stderr, "%s: cells changed: %lld", svy_tool_name(), s->cells_changed);
    sep = " (";
    for (int k = 0; k < SVY_RULE_COUNT_; k++)
        if (s->changed_by[k]) {
            fprintf(stderr, "%s%s %lld", sep, svy_clean_rule_name((svy_clean_rule)k), s->changed_by[k]);
            sep = ", ";
        }
    fprintf(stderr, "%s\n", *sep == ',' ? ")" : "");
    fprintf(stderr, "%s: problems: %lld%s\n", svy_tool_name(), s->problems,
            s->problems > SHOW_PROBLEMS && !r->o->quiet ? " (the first shown above; all in --log and --rejects)" : "");
}

int main(int argc, char **argv)
{
    svy_tool_init(argv[0]);
    struct svy_clean_opts o = {0};
    enum { OPT_CHECK = 256, OPT_LOG, OPT_REJECTS, OPT_STRICT };
    /* Please keep this list sorted. */
    static const struct option longopts[] = {
        {"check", no_argument, NULL, OPT_CHECK},
        {"codebook", required_argument, NULL, 'c'},
        {"encoding", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {"log", required_argument, NULL, OPT_LOG},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"rejects", required_argument, NULL, OPT_REJECTS},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "c:e:ho:qV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.codebook = optarg; break;
        case 'e': o.encoding = optarg; break;
        case 'h': usage(); return svy_tool_finish_stdout(SVY_EXIT_OK);
        case 'o': o.output = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'V': svy_tool_version(); return svy_tool_finish_stdout(SVY_EXIT_OK);
        case OPT_CHECK: o.check = 1; break;
        case OPT_LOG: o.log = optarg; break;
        case OPT_REJECTS: o.rejects = optarg; break;
        case OPT_STRICT: o.strict = 1; break;
        default: svy_tool_bad_option(argv, "c:e:ho:qV");
        }
    }
    if (!o.codebook)
        svy_tool_usage_error("a codebook is required (-c DIR)");
    if (argc - optind > 1)
        svy_tool_usage_error("one input file at most");
    o.input = optind < argc ? argv[optind] : "-";
    if (o.output) {
        svy_format f = svy_format_from_path(o.output);
        /* Stata and SPSS headers carry the row count, which a stream only
         * knows at its end. */
        if (f == SVY_FMT_DTA || f == SVY_FMT_SAV || f == SVY_FMT_ZSAV)
            svy_tool_usage_error("svy-clean writes CSV or TSV; convert with svy-export -c for .dta or .sav");
    }
    if (o.check && (o.output || o.log || o.rejects))
        svy_tool_usage_error("--check writes nothing: no -o, --log or --rejects");

    struct run r = {.o = &o};
    svy_err err;
    svy_err_clear(&err);
    int code = SVY_EXIT_OK;
    svy_status st = svy_codebook_load(o.codebook, &r.cb, &err);
    if (st == SVY_OK && !(r.clean = svy_clean_new(r.cb)))
        st = svy_err_set(&err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    if (st == SVY_OK && !(r.reader = svy_reader_new()))
        st = svy_err_set(&err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    svy_tool_progress(r.reader, o.quiet);
    if (st == SVY_OK && o.encoding)
        st = svy_reader_set_encoding(r.reader, o.encoding) == SVY_OK
                 ? SVY_OK
                 : svy_err_set(&err, SVY_E_USAGE, NULL, 0, 0, NULL, "unknown encoding '%s'", o.encoding);
    if (st == SVY_OK)
        st = svy_reader_open(r.reader, o.input, &err);
    if (st == SVY_OK) {
        svy_clean_set_strict(r.clean, o.strict);
        svy_clean_set_input_name(r.clean, svy_reader_name(r.reader));
        svy_clean_hooks hooks = {NULL, on_reject, on_problem};
        svy_clean_set_hooks(r.clean, &hooks, &r);
        st = open_side(o.log, "row,id,variable,old,new,rule,detail", &r.log_file, &r.log, &err);
        svy_clean_set_log(r.clean, r.log); /* the engine writes the log lines itself */
    }
    if (st == SVY_OK)
        st = open_side(o.rejects, "row,id,rule,reason", &r.rej_file, &r.rej, &err);
    if (st == SVY_OK) {
        svy_handler h = {on_schema, on_row};
        st = svy_reader_run(r.reader, &h, &r, &err);
    }
    if (st == SVY_OK && r.writer)
        st = svy_writer_close(r.writer, &err);
    if (st == SVY_OK)
        st = close_side(o.log, &r.log_file, &r.log, &err);
    if (st == SVY_OK)
        st = close_side(o.rejects, &r.rej_file, &r.rej, &err);
    if (st != SVY_OK)
        code = svy_tool_report(&err);
    if (r.clean && (st == SVY_OK || o.strict))
        summary(&r);
    if (st == SVY_OK && o.check && svy_clean_get_stats(r.clean)->problems)
        code = SVY_EXIT_DATA;

    svy_csv_out_free(r.log);
    svy_csv_out_free(r.rej);
    svy_outfile_abort(r.log_file);
    svy_outfile_abort(r.rej_file);
    svy_writer_free(r.writer);
    svy_reader_free(r.reader);
    svy_clean_free(r.clean);
    svy_codebook_free(r.cb);
    return svy_tool_finish_stdout(code);
}
