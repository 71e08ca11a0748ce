/* svy-codebook: one row per variable with its metadata and a few counts. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

enum cb_format { CB_CSV, CB_MD };

struct svy_codebook_opts {
    const char *input;
    const char *encoding;
    const char *catalog;
    const char *write_dir;
    enum cb_format format;
    size_t max_distinct;
};

struct cb_run {
    struct svy_codebook_opts *o;
    svy_profile *prof;
    const svy_schema *schema;
    size_t nvars;
};

static void usage(void)
{
    printf("Usage: %s [OPTIONS] [FILE|-]\n"
           "Describe each variable of a survey data file: name, type, format, label,\n"
           "value labels, missing-value definitions, valid n, missing n, distinct\n"
           "values, minimum and maximum.  No FILE, or -, reads standard input.\n"
           "\n"
           "  -C, --catalog FILE      SAS format catalog (.sas7bcat) with the value labels of\n"
           "                          .sas7bdat input (refused with any other input)\n"
           "  -d, --max-distinct N    count distinct values up to N (default 1000)\n"
           "  -e, --encoding ENC      text encoding of the file, overriding what it declares\n"
           "  -f, --format csv|md     output as CSV (default) or a Markdown table\n"
           "  -w, --write DIR         write a codebook folder (variables.csv, values.csv) in DIR\n"
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
    struct cb_run *run = ctx;
    if (!(run->prof = svy_profile_new(schema, run->o->max_distinct)))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    run->schema = svy_profile_schema(run->prof);
    run->nvars = svy_profile_ncols(run->prof);
    return SVY_OK;
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    struct cb_run *run = ctx;
    return svy_profile_add_row(run->prof, row, err);
}

/* An empty text is an empty field, not a quoted "". */
static void out_text(svy_csv_out *o, const char *s)
{
    if (*s)
        svy_csv_out_cstr(o, s);
    else
        svy_csv_out_empty(o);
}

static const char *type_name(const svy_var *v, const svy_col_profile *s)
{
    switch (svy_var_type_of(v)) {
    case SVY_VAR_NUMERIC: return "numeric";
    case SVY_VAR_STRING: return "string";
    default: return s->all_numeric ? "numeric" : "string";
    }
}

static const char *const columns[] = {"name", "type", "format", "label", "value_labels", "missing",
                                      "valid_n", "missing_n", "distinct", "min", "max"};
#define NCOLS (sizeof columns / sizeof columns[0])

/* One variable's fields as text, in the order of columns[]. */
static char *need(char *s)
{
    if (!s)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    return s;
}

/* vl and mv get the list-valued fields (malloc'd). */
static void fields(const struct cb_run *run, size_t i, char *f[NCOLS], char **vl, char **mv, char num[5][64])
{
    const svy_var *v = svy_schema_var(run->schema, i);
    const svy_col_profile *s = svy_profile_col(run->prof, i);
    *vl = need(svy_codebook_labels_text(v));
    *mv = need(svy_codebook_missing_text(v));
    f[0] = (char *)svy_var_name(v);
    f[1] = (char *)type_name(v, s);
    f[2] = (char *)svy_var_format(v);
    f[3] = (char *)svy_var_label(v);
    f[4] = *vl;
    f[5] = *mv;
    snprintf(num[0], 64, "%lld", s->valid);
    snprintf(num[1], 64, "%lld", s->missing);
    if (s->distinct_full)
        snprintf(num[2], 64, "\xe2\x89\xa5%zu", run->o->max_distinct);
    else
        snprintf(num[2], 64, "%zu", s->distinct);
    f[6] = num[0];
    f[7] = num[1];
    f[8] = num[2];
    int numeric = svy_var_type_of(v) == SVY_VAR_NUMERIC ||
                  (svy_var_type_of(v) == SVY_VAR_UNTYPED && s->all_numeric);
    if (numeric && s->valid) {
        svy_dtoa(s->min, num[3]);
        f[9] = num[3];
        svy_dtoa(s->max, num[4]);
        f[10] = num[4];
    } else {
        f[9] = "";
        f[10] = "";
    }
}

static svy_status print_csv(const struct cb_run *run, FILE *f, const char *name, svy_err *err)
{
    svy_csv_out *o = svy_csv_out_new(f, ',');
    if (!o)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    for (size_t c = 0; c < NCOLS; c++)
        svy_csv_out_cstr(o, columns[c]);
    svy_csv_out_end_row(o);
    for (size_t i = 0; i < run->nvars; i++) {
        char *fl[NCOLS], num[5][64], *vl, *mv;
        fields(run, i, fl, &vl, &mv, num);
        for (size_t c = 0; c < NCOLS; c++)
            out_text(o, fl[c]);
        svy_csv_out_end_row(o);
        free(vl);
        free(mv);
    }
    svy_status st = svy_csv_out_flush(o, name, err);
    svy_csv_out_free(o);
    return st;
}

/* Markdown cell: pipes escaped, line breaks as spaces, and '<', '>', '&' as
 * entities (Markdown renders raw HTML). */
static void md_cell(const char *s)
{
    fputs(" ", stdout);
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", stdout);
        else if (*s == '<')
            fputs("&lt;", stdout);
        else if (*s == '>')
            fputs("&gt;", stdout);
        else if (*s == '&')
            fputs("&amp;", stdout);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', stdout);
        else
            fputc(*s, stdout);
    }
    fputs(" |", stdout);
}

static void print_md(const struct cb_run *run)
{
    fputs("|", stdout);
    for (size_t c = 0; c < NCOLS; c++)
        md_cell(columns[c]);
    fputs("\n|", stdout);
    for (size_t c = 0; c < NCOLS; c++)
        fputs(c >= 6 ? " ---: |" : " --- |", stdout);
    fputs("\n", stdout);
    for (size_t i = 0; i < run->nvars; i++) {
        char *fl[NCOLS], num[5][64], *vl, *mv;
        fields(run, i, fl, &vl, &mv, num);
        fputs("|", stdout);
        for (size_t c = 0; c < NCOLS; c++)
            md_cell(fl[c]);
        fputs("\n", stdout);
        free(vl);
        free(mv);
    }
}

int main(int argc, char **argv)
{
    svy_tool_init(argv[0]);
    struct svy_codebook_opts o = {.format = CB_CSV, .max_distinct = 1000};
    int quiet = 0;
    /* Keep this list sorted. */
    static const struct option longopts[] = {
        {"catalog", required_argument, NULL, 'C'},
        {"encoding", required_argument, NULL, 'e'},
        {"format", required_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"max-distinct", required_argument, NULL, 'd'},
        {"version", no_argument, NULL, 'V'},
        {"write", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "C:d:e:f:hqVw:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'C': o.catalog = optarg; break;
        case 'd': {
            char *end;
            errno = 0;
            long long n = strtoll(optarg, &end, 10);
            if (!*optarg || *end || n < 1 || n > 100000000 || errno)
                svy_tool_usage_error("--max-distinct must be a whole number from 1 to 100000000, not '%s'", optarg);
            o.max_distinct = (size_t)n;
            break;
        }
        case 'e': o.encoding = optarg; break;
        case 'f':
            if (!strcmp(optarg, "csv"))
                o.format = CB_CSV;
            else if (!strcmp(optarg, "md"))
                o.format = CB_MD;
            else
                svy_tool_usage_error("--format must be csv or md, not '%s'", optarg);
            break;
        case 'q': quiet = 1; break;
        case 'h': usage(); return svy_tool_finish_stdout(SVY_EXIT_OK);
        case 'V': svy_tool_version(); return svy_tool_finish_stdout(SVY_EXIT_OK);
        case 'w': o.write_dir = optarg; break;
        default: svy_tool_bad_option(argv, "C:d:e:f:hVw:");
        }
    }
    if (argc - optind > 1)
        svy_tool_usage_error("one input file only");
    o.input = optind < argc ? argv[optind] : "-"; /* no file: standard input, as every tool */

    svy_err err;
    svy_err_clear(&err);
    int code = SVY_EXIT_OK;
    svy_status st;
    struct cb_run run = {.o = &o};
    svy_reader *r = svy_reader_new();
    svy_tool_progress(r, quiet);
    if (!r) {
        svy_tool_warn("out of memory");
        code = SVY_EXIT_IO;
        goto out;
    }
    if ((o.encoding && svy_reader_set_encoding(r, o.encoding) != SVY_OK) ||
        (o.catalog && svy_reader_set_catalog(r, o.catalog) != SVY_OK)) {
        svy_tool_warn("out of memory");
        code = SVY_EXIT_IO;
        goto out;
    }
    svy_handler h = {.schema = on_schema, .row = on_row};
    if ((st = svy_reader_open(r, o.input, &err)) != SVY_OK || (st = svy_reader_run(r, &h, &run, &err)) != SVY_OK) {
        code = svy_tool_report(&err);
        goto out;
    }
    if (o.write_dir) {
        if ((st = svy_codebook_write(run.prof, o.write_dir, &err)) != SVY_OK)
            code = svy_tool_report(&err);
    } else if (o.format == CB_MD) {
        print_md(&run);
    } else if ((st = print_csv(&run, stdout, "<stdout>", &err)) != SVY_OK) {
        code = svy_tool_report(&err);
    }
out:
    svy_profile_free(run.prof);
    svy_reader_free(r);
    return svy_tool_finish_stdout(code);
}
