/* svy-export: any supported survey file to Stata .dta or SPSS .sav/.zsav.
 *
 * Both formats put the row count and every string width in the header, so
 * the input is read twice: a first pass measures (rows, widths, whether a
 * CSV column holds only numbers), the second writes.  Standard input is
 * spooled by the reader so that it can be read twice.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

struct svy_export_opts {
    const char *input;
    const char *output;
    const char *encoding;
    const char *catalog;
    const char *codebook;
    svy_lang lang;
    svy_format format;
};

/* The first pass: a profile of every column, and the codebook's variable
 * of each column it names. */
struct scan_run {
    const svy_codebook *cb;
    svy_profile *prof;
    svy_schema *schema; /* the output's: types and widths settled from the profile */
    const svy_cb_var **cbv;
    size_t ncols;
    long long rows;
};

struct write_run {
    svy_writer *w;
    const char *output;
    const svy_schema *out_schema;
};

static void usage(void)
{
    printf("Usage: %s [OPTIONS] [FILE|-] -o OUT.dta|OUT.sav|OUT.zsav\n"
           "Write a survey data file (any format svy-import reads) as a Stata 14+\n"
           ".dta (version 118) or an SPSS .sav/.zsav, with variable labels, value\n"
           "labels and missing-value definitions.\n"
           "\n"
           "  -o, --output FILE       output file; its extension chooses the format\n"
           "  -F, --format FMT        dta, sav or zsav, whatever the extension\n"
           "  -c, --codebook DIR      variable and value labels from a codebook folder (codebooks/README.md);\n"
           "                          its types rule (a non-number in a number column is an error)\n"
           "                          and its study title becomes the data set label\n"
           "  -L, --lang zh|en        language of the codebook labels (default zh)\n"
           "  -C, --catalog FILE      SAS format catalog (.sas7bcat) with the value labels of\n"
           "                          .sas7bdat input (refused with any other input)\n"
           "  -e, --encoding ENC      text encoding of the input, overriding what it declares\n"
           "  -q, --quiet             no progress line on standard error (shown on a terminal\n"
           "                          after about 2 s)\n"
           "  -h, --help              show this help and exit\n"
           "  -V, --version           show the version and exit\n"
           "\n"
           "Exit status: 0 success, 1 data error, 2 usage error, 3 I/O error.\n",
           svy_tool_name());
}

static svy_status scan_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    struct scan_run *run = ctx;
    run->prof = svy_profile_new(schema, 0);
    run->schema = svy_schema_clone(schema);
    run->ncols = svy_schema_nvars(schema);
    run->cbv = calloc(run->ncols ? run->ncols : 1, sizeof *run->cbv);
    if (!run->prof || !run->schema || !run->cbv)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    for (size_t i = 0; run->cb && i < run->ncols; i++) {
        long k = svy_codebook_find(run->cb, svy_var_name(svy_schema_var(schema, i)));
        run->cbv[i] = k >= 0 ? svy_codebook_var(run->cb, (size_t)k) : NULL;
    }
    return SVY_OK;
}

/* The codebook's types rule: a number column holds numbers. */
static svy_status check_types(const struct scan_run *run, const svy_row *row, svy_err *err)
{
    for (size_t i = 0; i < row->nvals && i < run->ncols; i++) {
        const svy_value *v = &row->vals[i];
        const svy_cb_var *cbv = run->cbv[i];
        double d;
        if (!cbv || svy_cb_var_type(cbv) == SVY_CB_TEXT || v->type != SVY_VAL_STR || !v->len ||
            v->missing != SVY_MISS_NONE || svy_value_number(v, &d))
            continue;
        const char *name = svy_var_name(svy_schema_var(run->schema, i));
        return svy_err_set(err, SVY_E_DATA, NULL, row->index, (long long)i + 1, name,
                           "column %s holds '%.*s', which is not a number (the codebook's type for %s is %s)",
                           name, (int)(v->len > 60 ? 60 : v->len), v->str, name,
                           svy_cb_var_type(cbv) == SVY_CB_CODE      ? "code"
                           : svy_cb_var_type(cbv) == SVY_CB_INTEGER ? "integer"
                                                                    : "number");
    }
    return SVY_OK;
}

static svy_status scan_row(void *ctx, const svy_row *row, svy_err *err)
{
    struct scan_run *run = ctx;
    run->rows++;
    svy_status st = run->cb ? check_types(run, row, err) : SVY_OK;
    return st ? st : svy_profile_add_row(run->prof, row, err);
}

static svy_status write_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    struct write_run *run = ctx;
    if (svy_schema_nvars(schema) != svy_schema_nvars(run->out_schema))
        return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, NULL, "the input changed between the two passes");
    return svy_writer_open(run->w, run->output, run->out_schema, err);
}

static svy_status write_row(void *ctx, const svy_row *row, svy_err *err)
{
    struct write_run *run = ctx;
    return svy_writer_write(run->w, row, err);
}

/* Types and widths from the scan: CSV columns of numbers become numeric,
 * the rest text as wide as their longest value. */
static svy_status settle_types(struct scan_run *run, svy_err *err)
{
    for (size_t i = 0; i < run->ncols; i++) {
        svy_var *v = svy_schema_var_mut(run->schema, i);
        const svy_col_profile *c = svy_profile_col(run->prof, i);
        if (svy_var_type_of(v) == SVY_VAR_UNTYPED && run->cbv[i])
            svy_var_set_type(v, svy_cb_var_type(run->cbv[i]) == SVY_CB_TEXT ? SVY_VAR_STRING : SVY_VAR_NUMERIC);
        else if (svy_var_type_of(v) == SVY_VAR_UNTYPED)
            svy_var_set_type(v, c->ntext == 0 ? SVY_VAR_NUMERIC : SVY_VAR_STRING);
        if (svy_var_type_of(v) == SVY_VAR_STRING)
            svy_var_set_width(v, c->width ? c->width : 1);
        else
            svy_var_set_width(v, svy_profile_stata_bytes(c));
    }
    (void)err;
    return SVY_OK;
}

/* Without a codebook a CSV column is text when one value is not a number:
 * say so when it is mostly numbers (a stray "n/a" made it text). */
static void warn_mostly_numeric(const char *input, const struct scan_run *scan)
{
    for (size_t i = 0; i < scan->ncols; i++) {
        const svy_col_profile *c = svy_profile_col(scan->prof, i);
        const svy_var *v = svy_schema_var(scan->schema, i);
        if (scan->cbv[i] || !c->ntext || svy_var_type_of(v) != SVY_VAR_STRING || c->nnum < 9 * c->ntext)
            continue;
        char which[200];
        size_t u = 0;
        for (long long k = 0; k < c->ntext && k < 3; k++)
            u += (size_t)snprintf(which + u, sizeof which - u, "%srow %lld '%s'", k ? ", " : "", c->text_row[k],
                                  c->text[k]);
        svy_tool_warn("%s: warning: column %s is written as text because %lld of its %lld values %s "
                      "(%s%s); a codebook (-c) that gives its type makes that an error instead",
                      input, svy_var_name(v), c->ntext, c->ntext + c->nnum,
                      c->ntext > 1 ? "are not numbers" : "is not a number", which, c->ntext > 3 ? ", ..." : "");
    }
}

/* The codebook's study title becomes the data set label; say when the
 * format's header cannot hold all of it. */
static void set_title(const svy_codebook *cb, svy_schema *schema, const struct svy_export_opts *o)
{
    const char *title = svy_codebook_title(cb);
    if (!*title || svy_schema_set_label(schema, title) != SVY_OK)
        return;
    size_t max = o->format == SVY_FMT_DTA ? 80 : 64;
    if (strlen(title) > max)
        svy_tool_warn("%s: warning: the study title is longer than the %zu bytes %s data set label holds: "
                      "cut to fit", o->output, max, o->format == SVY_FMT_DTA ? "a Stata" : "an SPSS");
}

/* Say what the target format could not keep (the writer converts it). */
static void warn_losses(const struct svy_export_opts *o, const struct scan_run *scan)
{
    long long tagged = 0;
    for (size_t i = 0; i < scan->ncols; i++)
        tagged += svy_profile_col(scan->prof, i)->tagged;
    if (tagged && o->format != SVY_FMT_DTA)
        svy_tool_warn("%s: %lld tagged missing values (.a-.z) written as system missing: SPSS has none",
                      o->output, tagged);
    if (o->format != SVY_FMT_DTA)
        return;
    size_t nmiss = 0, nstrlab = 0;
    const char *first_miss = NULL, *first_strlab = NULL;
    for (size_t i = 0; i < scan->ncols; i++) {
        const svy_var *v = svy_schema_var(scan->schema, i);
        if (svy_var_nmissing(v) && !nmiss++)
            first_miss = svy_var_name(v);
        if (svy_var_type_of(v) == SVY_VAR_STRING && svy_var_nlabels(v) && !nstrlab++)
            first_strlab = svy_var_name(v);
    }
    if (nmiss)
        svy_tool_warn("%s: Stata has no user-missing values: the definitions of %zu variable%s (%s%s) "
                      "were left out, their values kept as numbers",
                      o->output, nmiss, nmiss > 1 ? "s" : "", first_miss, nmiss > 1 ? ", ..." : "");
    if (nstrlab)
        svy_tool_warn("%s: Stata has no value labels on text: those of %zu variable%s (%s%s) were left out",
                      o->output, nstrlab, nstrlab > 1 ? "s" : "", first_strlab, nstrlab > 1 ? ", ..." : "");
}

int main(int argc, char **argv)
{
    svy_tool_init(argv[0]);
    struct svy_export_opts o = {0};
    int quiet = 0;
    /* Keep this list sorted. */
    static const struct option longopts[] = {
        {"catalog", required_argument, NULL, 'C'},
        {"codebook", required_argument, NULL, 'c'},
        {"encoding", required_argument, NULL, 'e'},
        {"format", required_argument, NULL, 'F'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"lang", required_argument, NULL, 'L'},
        {"output", required_argument, NULL, 'o'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "C:c:e:F:hqL:o:V", longopts, NULL)) != -1) {
        switch (ch) {
        case 'C': o.catalog = optarg; break;
        case 'c': o.codebook = optarg; break;
        case 'e': o.encoding = optarg; break;
        case 'F':
            o.format = svy_format_from_name(optarg);
            if (o.format != SVY_FMT_DTA && o.format != SVY_FMT_SAV && o.format != SVY_FMT_ZSAV)
                svy_tool_usage_error("--format must be dta, sav or zsav, not '%s'", optarg);
            break;
        case 'q': quiet = 1; break;
        case 'h': usage(); return svy_tool_finish_stdout(SVY_EXIT_OK);
        case 'L':
            if (!svy_lang_parse(optarg, &o.lang))
                svy_tool_usage_error("--lang: '%s' is neither zh nor en", optarg);
            break;
        case 'o': o.output = optarg; break;
        case 'V': svy_tool_version(); return svy_tool_finish_stdout(SVY_EXIT_OK);
        default: svy_tool_bad_option(argv, "C:c:e:F:hL:o:V");
        }
    }
    if (argc - optind > 1)
        svy_tool_usage_error("one input file at most");
    o.input = optind < argc ? argv[optind] : "-";
    if (!o.output || !*o.output)
        svy_tool_usage_error("no output file: give -o OUT.dta, OUT.sav or OUT.zsav");
    if (!o.format) {
        o.format = svy_format_from_path(o.output);
        if (o.format != SVY_FMT_DTA && o.format != SVY_FMT_SAV && o.format != SVY_FMT_ZSAV)
            svy_tool_usage_error("cannot tell the output format from '%s': use .dta, .sav or .zsav, or --format",
                                 o.output);
    }

    svy_err err;
    svy_err_clear(&err);
    int code = SVY_EXIT_OK;
    svy_status st;
    struct scan_run scan = {0};
    svy_codebook *cb = NULL;
    svy_writer *w = svy_tool_writer_new(o.format);
    svy_reader *r = svy_reader_new();
    svy_tool_progress(r, quiet);
    if (!r || !w) {
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
    svy_reader_set_rewindable(r, 1);
    if (o.codebook && (st = svy_codebook_load(o.codebook, &cb, &err)) != SVY_OK)
        goto report;
    scan.cb = cb;
    if ((st = svy_reader_open(r, o.input, &err)) != SVY_OK)
        goto report;
    svy_handler hs = {.schema = scan_schema, .row = scan_row};
    if ((st = svy_reader_run(r, &hs, &scan, &err)) != SVY_OK) {
        if (!err.file[0])
            snprintf(err.file, sizeof err.file, "%s", svy_reader_name(r));
        goto report;
    }
    if ((st = settle_types(&scan, &err)) != SVY_OK)
        goto report;
    warn_mostly_numeric(svy_reader_name(r), &scan);
    if (cb) {
        if ((st = svy_codebook_apply_labels(cb, scan.schema, o.lang, &err)) != SVY_OK)
            goto report;
        set_title(cb, scan.schema, &o);
    }

    svy_writer_set_row_count(w, scan.rows);
    struct write_run wr = {.w = w, .output = o.output, .out_schema = scan.schema};
    svy_handler hw = {.schema = write_schema, .row = write_row};
    if ((st = svy_reader_run(r, &hw, &wr, &err)) != SVY_OK)
        goto report;
    if ((st = svy_writer_close(w, &err)) != SVY_OK)
        goto report;
    warn_losses(&o, &scan);
    goto out;
report:
    code = svy_tool_report(&err);
out:
    svy_writer_free(w);
    svy_reader_free(r);
    svy_schema_free(scan.schema);
    svy_profile_free(scan.prof);
    free(scan.cbv);
    svy_codebook_free(cb);
    return svy_tool_finish_stdout(code);
}
