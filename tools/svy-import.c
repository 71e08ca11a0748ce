/* svy-import: any supported survey file to CSV or TSV. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

struct svy_import_opts {
    const char *input;
    const char *output;
    const char *encoding;
    const char *catalog;
    char **columns;
    size_t ncolumns;
    long long limit;
    svy_format format;
    int labels, missing_codes, raw_dates;
};

struct import_run {
    svy_writer *w;
    const char *output;
};

static void usage(void)
{
    printf("Usage: %s [OPTIONS] [FILE|-]\n"
           "Write a survey data file (.dta .sav .zsav .por .sas7bdat .xpt .csv .tsv,\n"
           "detected from its content) as CSV on standard output.\n"
           "\n"
           "  -c, --columns A,B,...   only these columns, in this order\n"
           "  -C, --catalog FILE      SAS format catalog (.sas7bcat) with the value labels of\n"
           "                          .sas7bdat input (refused with any other input)\n"
           "  -e, --encoding ENC      text encoding of the file, overriding what it declares\n"
           "  -f, --format csv|tsv    output format (default csv)\n"
           "  -l, --labels            value labels instead of codes\n"
           "  -n, --limit N           stop after N rows\n"
           "  -m, --missing-codes     missing values as their code or tag (., .a, 99) instead of empty\n"
           "  -o, --output FILE       write FILE (atomically) instead of standard output\n"
           "      --raw-dates         dates as stored numbers instead of ISO 8601\n"
           "  -q, --quiet             no progress line on standard error (shown on a terminal\n"
           "                          after about 2 s)\n"
           "  -h, --help              show this help and exit\n"
           "  -V, --version           show the version and exit\n"
           "\n"
           "Exit status: 0 success, 1 data error, 2 usage error, 3 I/O error.\n",
           svy_tool_name());
}

static svy_status on_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    struct import_run *run = ctx;
    return svy_writer_open(run->w, run->output, schema, err);
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    struct import_run *run = ctx;
    return svy_writer_write(run->w, row, err);
}

static long long parse_count(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (!*s || *end || n < 0 || errno)
        svy_tool_usage_error("%s must be a whole number >= 0, not '%s'", what, s);
    return n;
}

int main(int argc, char **argv)
{
    svy_tool_init(argv[0]);
    struct svy_import_opts o = {.limit = -1, .format = SVY_FMT_CSV, .output = "-"};
    int quiet = 0;
    enum { OPT_RAW_DATES = 256 };
    /* Keep this list sorted. */
    static const struct option longopts[] = {
        {"catalog", required_argument, NULL, 'C'},
        {"columns", required_argument, NULL, 'c'},
        {"encoding", required_argument, NULL, 'e'},
        {"format", required_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"labels", no_argument, NULL, 'l'},
        {"limit", required_argument, NULL, 'n'},
        {"missing-codes", no_argument, NULL, 'm'},
        {"output", required_argument, NULL, 'o'},
        {"raw-dates", no_argument, NULL, OPT_RAW_DATES},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "C:c:e:f:hqln:mo:V", longopts, NULL)) != -1) {
        switch (ch) {
        case 'C': o.catalog = optarg; break;
        case 'c':
            free(o.columns);
            o.columns = svy_tool_split_list(optarg, &o.ncolumns);
            break;
        case 'e': o.encoding = optarg; break;
        case 'f':
            o.format = svy_format_from_name(optarg);
            if (o.format != SVY_FMT_CSV && o.format != SVY_FMT_TSV)
                svy_tool_usage_error("--format must be csv or tsv, not '%s'", optarg);
            break;
        case 'q': quiet = 1; break;
        case 'h': usage(); return svy_tool_finish_stdout(SVY_EXIT_OK);
        case 'l': o.labels = 1; break;
        case 'n': o.limit = parse_count(optarg, "--limit"); break;
        case 'm': o.missing_codes = 1; break;
        case 'o': o.output = optarg; break;
        case OPT_RAW_DATES: o.raw_dates = 1; break;
        case 'V': svy_tool_version(); return svy_tool_finish_stdout(SVY_EXIT_OK);
        default: svy_tool_bad_option(argv, "C:c:e:f:hln:mo:V");
        }
    }
    if (argc - optind > 1)
        svy_tool_usage_error("one input file at most");
    o.input = optind < argc ? argv[optind] : "-";
    if (!*o.output)
        svy_tool_usage_error("empty output file name");

    svy_err err;
    svy_err_clear(&err);
    int code = SVY_EXIT_OK;
    svy_status st = SVY_OK;
    svy_reader *r = svy_reader_new();
    svy_tool_progress(r, quiet);
    svy_writer *w = svy_tool_writer_new(o.format);
    if (!r || !w) {
        svy_tool_warn("out of memory");
        code = SVY_EXIT_IO;
        goto out;
    }
    svy_reader_set_limit(r, o.limit);
    if (o.encoding && (st = svy_reader_set_encoding(r, o.encoding)) != SVY_OK)
        goto fail;
    if (o.catalog && (st = svy_reader_set_catalog(r, o.catalog)) != SVY_OK)
        goto fail;
    if (o.columns && (st = svy_reader_set_columns(r, (const char *const *)o.columns, o.ncolumns)) != SVY_OK)
        goto fail;
    svy_writer_set_labels(w, o.labels);
    svy_writer_set_missing_codes(w, o.missing_codes);
    svy_writer_set_iso_dates(w, !o.raw_dates);
    /* Lines that need no rewriting are copied as they are, when the writer can. */
    svy_reader_set_keep_lines(r, svy_writer_copies_lines(w));

    if ((st = svy_reader_open(r, o.input, &err)) != SVY_OK)
        goto report;
    struct import_run run = {.w = w, .output = o.output};
    svy_handler h = {.schema = on_schema, .row = on_row};
    if ((st = svy_reader_run(r, &h, &run, &err)) != SVY_OK)
        goto report;
    if ((st = svy_writer_close(w, &err)) != SVY_OK)
        goto report;
    goto out;
fail:
    svy_err_set(&err, st, NULL, 0, 0, NULL, "%s", st == SVY_E_NOMEM ? "out of memory" : "bad option value");
report:
    code = svy_tool_report(&err);
out:
    /* Freeing an unclosed writer removes its temporary file. */
    svy_writer_free(w);
    svy_reader_free(r);
    free(o.columns);
    return svy_tool_finish_stdout(code);
}
