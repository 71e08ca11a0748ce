/* svy-plot: draw svy-tab's long CSV as an SVG rate chart. */
#include "plot_diff.h"
#include "tool.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FILTERS 16

struct filter {
    const char *col, *value;
    long idx;
};

struct svy_plot_opts {
    const char *input, *output;
    const char *x, *color, *facet;
    const char *title, *subtitle, *source, *footnote;
    struct filter filters[MAX_FILTERS];
    size_t nfilters;
    svy_plot_kind kind;
    svy_plot_sort sort;
    int percent;
    double width, height;

    /* Filled while reading. */
    const char *name;
    svy_plot *plot;
    long ix, icolor, ifacet, ivar, iest, ilo, ihi, iflag, inote;
    char *first_var;    /* the variable of the first row kept */
    int mixed_vars;     /* several variables among the rows kept */
    char *notes[8];     /* distinct method notes from the table */
    size_t nnotes;
    char *flags[8];     /* distinct flag values, for the legend */
    size_t nflags;
    long long kept;
    long long empty;    /* rows without an estimate (svy-tab: no valid value in the domain) */
    plot_diff diff;     /* svy-tab --diff's rows: drawn as differences around zero */

    /* --codebook: outcomes and column titles by their labels. */
    svy_codebook *cb;
    svy_lang lang;
    svy_lang words;     /* generated words: --lang when given, else English */
    const char *encoding;
};

static void usage(void)
{
    printf("Usage: %s [OPTIONS] [FILE|-]\n"
           "Draw svy-tab's long CSV (proportions with confidence intervals) as an SVG chart.\n"
           "\n"
           "Mapping:\n"
           "  -x, --x COL             one row of the chart per value of COL (default: the first\n"
           "                          --by column of the table, or 'variable' when there is none)\n"
           "  -c, --color COL         one colour per value of COL (at most 8), e.g. gender\n"
           "  -f, --facet COL         one panel per value of COL (small multiples), e.g. province\n"
           "  -F, --filter COL=VALUE  keep only rows where COL is VALUE (repeatable); use\n"
           "                          --filter variable=NAME to pick one outcome, and\n"
           "                          --filter statistic=rate when the table also has means\n"
           "\n"
           "Labels:\n"
           "  -C, --codebook DIR      name outcomes and columns by their labels in a study\n"
           "                          codebook (codebooks/README.md)\n"
           "      --lang zh|en        language of codebook labels (zh) and, when given, of every\n"
           "                          word svy-plot writes (subtitle, legend, notes; else English)\n"
           "\n"
           "Look:\n"
           "  -k, --kind dot|bar      dot chart (default) or bars from zero, both with CIs\n"
           "  -s, --sort input|value  rows in input order (default) or largest first\n"
           "      --percent           percent axis and labels (default)\n"
           "      --proportion        proportions 0-1 instead\n"
           "      --width PX          width in pixels (default 760)\n"
           "      --height PX         height in pixels (default: as the rows need)\n"
           "\n"
           "Text ('' leaves a part out):\n"
           "  -t, --title TEXT        title (default: the variable, when there is one)\n"
           "      --subtitle TEXT     subtitle (default: what is shown, by what)\n"
           "      --source TEXT       source note under the chart\n"
           "      --footnote TEXT     footnote (default: the table's method or note column)\n"
           "\n"
           "Output:\n"
           "  -o, --output FILE       write the SVG to FILE atomically (default: stdout)\n"
           "  -e, --encoding ENC      text encoding of the input (GB18030, CP1252, ...)\n"
           "  -q, --quiet             no progress line on standard error (shown on a terminal\n"
           "                          after about 2 s)\n"
           "  -h, --help              show this help and exit\n"
           "  -V, --version           show the version and exit\n"
           "\n"
           "A table from svy-tab --diff (a reference column) draws its differences (level -\n"
           "reference) with their CIs around a zero line, signed, in percentage points; the\n"
           "compared column's labels read \"level - reference\"; --filter statistic=rate draws\n"
           "the rates instead.\n"
           "\n"
           "Rows flagged in the flag column (svy-tab --flag nchs, no-variance) are drawn hollow\n"
           "or hatched and explained in the legend; rows without an estimate (no-estimate) are\n"
           "left out, with a warning.\n"
           "\n"
           "Exit status: 0 ok, 1 bad data, 2 usage error, 3 I/O error.\n",
           svy_tool_name());
}

static double parse_px(const char *opt, const char *s)
{
    double d;
    if (!svy_parse_number(s, (size_t)-1, &d) || d < 100 || d > 20000)
        svy_tool_usage_error("%s wants pixels between 100 and 20000, not '%s'", opt, s);
    return d;
}

/* The text of a cell: CSV cells arrive as text; other formats' numbers are
 * printed the way svy-tab would print them. */
static const char *cell_text(const svy_value *v, char *buf)
{
    if (svy_value_is_missing(v))
        return "";
    if (v->type == SVY_VAL_STR)
        return v->str;
    svy_dtoa(v->num, buf);
    return buf;
}

static svy_status need_col(struct svy_plot_opts *o, const svy_schema *s, const char *name,
                           const char *why, long *idx, svy_err *err)
{
    *idx = svy_schema_find(s, name);
    if (*idx < 0)
        return svy_err_set(err, why ? SVY_E_USAGE : SVY_E_DATA, o->name, 0, 0, name,
                           "no column '%s'%s%s", name, why ? " for " : " (not svy-tab's long CSV?)",
                           why ? why : "");
    return SVY_OK;
}

static svy_status on_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    struct svy_plot_opts *o = ctx;
    svy_status st;
    if ((st = need_col(o, s, "variable", NULL, &o->ivar, err)) ||
        (st = need_col(o, s, "estimate", NULL, &o->iest, err)) ||
        (st = need_col(o, s, "ci_low", NULL, &o->ilo, err)) ||
        (st = need_col(o, s, "ci_high", NULL, &o->ihi, err)))
        return st;
    o->iflag = svy_schema_find(s, "flag");
    o->inote = svy_schema_find(s, "method");
    if (o->inote < 0)
        o->inote = svy_schema_find(s, "note");
    if (!o->x)
        o->x = o->ivar > 0 ? svy_var_name(svy_schema_var(s, 0)) : "variable";
    if ((st = need_col(o, s, o->x, "--x", &o->ix, err)))
        return st;
    o->x = svy_var_name(svy_schema_var(s, (size_t)o->ix));
    o->icolor = o->ifacet = -1;
    if (o->color && (st = need_col(o, s, o->color, "--color", &o->icolor, err)))
        return st;
    if (o->facet && (st = need_col(o, s, o->facet, "--facet", &o->ifacet, err)))
        return st;
    const char *stat_filter = NULL;
    for (size_t i = 0; i < o->nfilters; i++) {
        if ((st = need_col(o, s, o->filters[i].col, "--filter", &o->filters[i].idx, err)))
            return st;
        if (strcmp(o->filters[i].col, "statistic") == 0)
            stat_filter = o->filters[i].value;
    }
    plot_diff_detect(&o->diff, s, o->ivar, stat_filter);
    return SVY_OK;
}

static int maps_variable(const struct svy_plot_opts *o)
{
    if (o->ix == o->ivar || o->icolor == o->ivar || o->ifacet == o->ivar)
        return 1;
    for (size_t i = 0; i < o->nfilters; i++)
        if (o->filters[i].idx == o->ivar)
            return 1;
    return 0;
}

static svy_status read_number(struct svy_plot_opts *o, const svy_row *row, long col,
                              const char *what, int optional, double *out, svy_err *err)
{
    const svy_value *v = &row->vals[col];
    if (optional && svy_value_is_missing(v)) {
        *out = NAN;
        return SVY_OK;
    }
    char buf[SVY_DTOA_MAX];
    if (!svy_value_number(v, out) || !isfinite(*out))
        return svy_err_set(err, SVY_E_DATA, o->name, row->index, col + 1, what,
                           "%s '%s' is not a number", what, cell_text(v, buf));
    return SVY_OK;
}

static int is_flagged(const char *s)
{
    static const char *const no[] = {"", "0", "no", "false", "ok", "FALSE", "NO", "OK"};
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (strcmp(s, no[i]) == 0)
            return 0;
    return 1;
}

/* Remember s once among at most 8 distinct values. */
static void add_distinct(char **v, size_t *n, const char *s)
{
    if (!*s || *n == 8)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(v[i], s) == 0)
            return;
    if (!(v[*n] = strdup(s)))
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    (*n)++;
}

/* The values joined with sep (caller frees); NULL when there are none. */
static char *join(char *const *v, size_t n, const char *sep)
{
    if (!n)
        return NULL;
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i]) + strlen(sep);
    char *s = malloc(len);
    if (!s)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(s, sep);
        strcat(s, v[i]);
    }
    return s;
}

static const char *or_all(const struct svy_plot_opts *o, const char *s)
{
    return *s ? s : svy_msg(o->words, SVY_MSG_PLOT_ALL);
}

/* The label the codebook gives variable `name`, or name itself. */
static const char *var_label(const struct svy_plot_opts *o, const char *name)
{
    if (!o->cb || !name)
        return name;
    long i = svy_codebook_find(o->cb, name);
    if (i < 0)
        return name;
    const char *l = svy_cb_var_label(svy_codebook_var(o->cb, (size_t)i), o->lang);
    return l && *l ? l : name;
}

/* A cell of column `col` as drawn: outcomes (svy-tab's variable column) by
 * their labels. */
static const char *shown(const struct svy_plot_opts *o, long col, const char *text)
{
    return col == o->ivar ? var_label(o, text) : text;
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    struct svy_plot_opts *o = ctx;
    char b1[SVY_DTOA_MAX], b2[SVY_DTOA_MAX], b3[SVY_DTOA_MAX], b4[SVY_DTOA_MAX];
    for (size_t i = 0; i < o->nfilters; i++)
        if (strcmp(cell_text(&row->vals[o->filters[i].idx], b1), o->filters[i].value) != 0)
            return SVY_OK;

    const char *var = cell_text(&row->vals[o->ivar], b1);
    if (!o->first_var) {
        o->first_var = strdup(var);
        if (!o->first_var)
            return svy_err_set(err, SVY_E_NOMEM, o->name, 0, 0, NULL, "out of memory");
    } else if (strcmp(var, o->first_var) != 0) {
        o->mixed_vars = 1;
        if (!maps_variable(o))
            return svy_err_set(err, SVY_E_USAGE, o->name, row->index, o->ivar + 1, "variable",
                               "the table holds more than one variable ('%s', '%s'): pick one with "
                               "--filter variable=NAME, or map 'variable' to --x, --color or --facet",
                               o->first_var, var);
    }

    if (o->diff.on) { /* a table of differences: its estimates are not drawn */
        int skip = plot_diff_skip(&o->diff, row);
        if (skip < 0)
            return svy_err_set(err, SVY_E_NOMEM, o->name, 0, 0, NULL, "out of memory");
        if (skip)
            return SVY_OK;
    }
    svy_status st;
    double est, lo, hi;
    /* svy-tab leaves the estimate of a domain without valid values empty
     * (flag no-estimate, a note why): nothing to draw there. */
    if (svy_value_is_missing(&row->vals[o->iest]) ||
        (row->vals[o->iest].type == SVY_VAL_STR && row->vals[o->iest].len == 0)) {
        o->empty++;
        return SVY_OK;
    }
    if ((st = read_number(o, row, o->iest, "estimate", 0, &est, err)) ||
        (st = read_number(o, row, o->ilo, "ci_low", 1, &lo, err)) ||
        (st = read_number(o, row, o->ihi, "ci_high", 1, &hi, err)))
        return st;
    if (o->diff.on && (est < -1 || est > 1))
        return svy_err_set(err, SVY_E_DATA, o->name, row->index, o->iest + 1, "estimate",
                           "difference %s is outside [-1, 1]: svy-plot draws differences of proportions "
                           "(--filter variable=NAME keeps one outcome)",
                           cell_text(&row->vals[o->iest], b2));
    if (!o->diff.on && (est < 0 || est > 1))
        return svy_err_set(err, SVY_E_DATA, o->name, row->index, o->iest + 1, "estimate",
                           "estimate %s is outside [0, 1]: svy-plot draws proportions (is this a "
                           "--percent table, or a mean? --filter statistic=rate keeps the proportions)",
                           cell_text(&row->vals[o->iest], b2));
    const char *ft = o->iflag >= 0 ? cell_text(&row->vals[o->iflag], b2) : "";
    int flagged = is_flagged(ft);
    if (flagged)
        add_distinct(o->flags, &o->nflags, ft);
    if (o->inote >= 0)
        add_distinct(o->notes, &o->nnotes, cell_text(&row->vals[o->inote], b2));

    if (o->diff.on) { /* drawn at the end, when the compared column is known */
        int k = plot_diff_keep(&o->diff, row, o->ix, o->icolor, o->ifacet, est, lo, hi, flagged);
        if (k < 0)
            return svy_err_set(err, SVY_E_NOMEM, o->name, 0, 0, NULL, "out of memory");
        o->kept += k;
        return SVY_OK;
    }
    /* svy-tab --overall leaves the --by cells of its overall row empty. */
    const char *x = shown(o, o->ix, or_all(o, cell_text(&row->vals[o->ix], b2)));
    const char *color = o->icolor >= 0 ? shown(o, o->icolor, or_all(o, cell_text(&row->vals[o->icolor], b3))) : NULL;
    const char *facet = o->ifacet >= 0 ? shown(o, o->ifacet, or_all(o, cell_text(&row->vals[o->ifacet], b4))) : NULL;
    st = svy_plot_add(o->plot, x, color, facet, est, lo, hi, flagged, err);
    if (st) {
        /* The library knows what is wrong and which input it blames; the
         * row and the column are ours to add. */
        svy_err e = *err;
        long col = st == SVY_E_DATA && strcmp(e.var, "ci_low") == 0 ? o->ilo + 1 : 0;
        svy_err_set(err, st, o->name, row->index, col, NULL, "%s", e.msg);
        return st;
    }
    o->kept++;
    return SVY_OK;
}

/* A column's title: svy-tab's "variable" column holds the outcomes, so call
 * it that; other columns by their codebook label. */
static const char *col_title(const struct svy_plot_opts *o, const char *col)
{
    return col && strcmp(col, "variable") == 0 ? svy_msg(o->words, SVY_MSG_PLOT_OUTCOME) : var_label(o, col);
}

/* The kept differences into the chart, the compared column's cells as
 * "level − reference"; *one: that comparison when the column is not mapped
 * and every row makes the same one (the subtitle names it). */
static svy_status add_diff_rows(struct svy_plot_opts *o, char **one, svy_err *err)
{
    plot_diff *d = &o->diff;
    long k = plot_diff_column(d, o->ix, o->icolor, o->ifacet);
    const long cols[3] = {o->ix, o->icolor, o->ifacet};
    int same = k >= 0 && k != o->ix && k != o->icolor && k != o->ifacet;
    for (size_t i = 0; i < d->n; i++) {
        const plot_drow *r = &d->rows[i];
        if (same && (strcmp(r->by[k], d->rows[0].by[k]) != 0 || strcmp(r->ref, d->rows[0].ref) != 0))
            same = 0;
        const char *cells[3] = {r->x, r->color, r->facet}, *txt[3];
        char *lab[3] = {NULL, NULL, NULL};
        for (int j = 0; j < 3; j++) {
            txt[j] = cells[j] ? shown(o, cols[j], or_all(o, cells[j])) : NULL;
            if (cells[j] && cols[j] == k && !(txt[j] = lab[j] = plot_diff_label(txt[j], r->ref)))
                svy_tool_die(SVY_EXIT_IO, "out of memory");
        }
        svy_status st = svy_plot_add(o->plot, txt[0], txt[1], txt[2], r->est, r->lo, r->hi, r->flagged, err);
        for (int j = 0; j < 3; j++)
            free(lab[j]);
        if (st) {
            svy_err e = *err;
            return svy_err_set(err, st, o->name, r->row, 0, NULL, "%s", e.msg);
        }
    }
    if (same && d->n && !(*one = plot_diff_label(d->rows[0].by[k], d->rows[0].ref)))
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    return SVY_OK;
}

/* What the chart's values are: "Percent", or for differences "Difference
 * (level − reference) in percentage points" (one: the comparison, when
 * every row makes the same). */
static char *what_shown(const struct svy_plot_opts *o, const char *one)
{
    size_t len = 300 + (one ? strlen(one) : 0);
    char *s = malloc(len);
    if (!s)
        return NULL;
    if (!o->diff.on)
        snprintf(s, len, "%s", svy_msg(o->words, o->percent ? SVY_MSG_PLOT_PERCENT : SVY_MSG_PLOT_PROPORTION));
    else if (one)
        svy_msg_format(s, len, o->words, o->percent ? SVY_MSG_PLOT_DIFF_OF_PP : SVY_MSG_PLOT_DIFF_OF_PROP, one,
                       (const char *)NULL);
    else
        snprintf(s, len, "%s", svy_msg(o->words, o->percent ? SVY_MSG_PLOT_DIFF_PP : SVY_MSG_PLOT_DIFF_PROP));
    return s;
}

/* "Percent by category, gender and province" from the mapping. */
static char *default_subtitle(const struct svy_plot_opts *o, const char *one)
{
    const char *parts[3] = {o->x, o->color, o->facet};
    size_t n = 0, len = 200;
    const char *v[3];
    for (size_t i = 0; i < 3; i++)
        if (parts[i]) {
            v[n] = col_title(o, parts[i]);
            len += strlen(v[n++]) + 8;
        }
    char *what = what_shown(o, one);
    char *s = what ? malloc(len + strlen(what)) : NULL;
    if (!s) {
        free(what);
        return NULL;
    }
    strcpy(s, what);
    free(what);
    for (size_t i = 0; i < n; i++) {
        strcat(s, svy_msg(o->words, i == 0       ? SVY_MSG_PLOT_BY_FIRST
                                    : i + 1 == n ? SVY_MSG_PLOT_BY_LAST
                                                 : SVY_MSG_PLOT_BY_SEP));
        strcat(s, v[i]);
    }
    strcat(s, svy_msg(o->words, SVY_MSG_PLOT_WITH_CI));
    return s;
}

static void add_filter(struct svy_plot_opts *o, char *arg)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        svy_tool_usage_error("--filter wants COL=VALUE, not '%s'", arg);
    if (o->nfilters == MAX_FILTERS)
        svy_tool_usage_error("at most %d --filter options", MAX_FILTERS);
    *eq = '\0';
    o->filters[o->nfilters++] = (struct filter){arg, eq + 1, -1};
}

enum { OPT_SUBTITLE = 256, OPT_SOURCE, OPT_FOOTNOTE, OPT_WIDTH, OPT_HEIGHT, OPT_PERCENT, OPT_PROPORTION, OPT_LANG };

int main(int argc, char **argv)
{
    svy_tool_init(argv[0]);
    const char *codebook = NULL;
    /* Please keep this list sorted. */
    static const struct option longopts[] = {
        {"codebook", required_argument, NULL, 'C'},
        {"color", required_argument, NULL, 'c'},
        {"facet", required_argument, NULL, 'f'},
        {"filter", required_argument, NULL, 'F'},
        {"footnote", required_argument, NULL, OPT_FOOTNOTE},
        {"height", required_argument, NULL, OPT_HEIGHT},
        {"encoding", required_argument, NULL, 'e'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"kind", required_argument, NULL, 'k'},
        {"lang", required_argument, NULL, OPT_LANG},
        {"output", required_argument, NULL, 'o'},
        {"percent", no_argument, NULL, OPT_PERCENT},
        {"proportion", no_argument, NULL, OPT_PROPORTION},
        {"sort", required_argument, NULL, 's'},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"subtitle", required_argument, NULL, OPT_SUBTITLE},
        {"title", required_argument, NULL, 't'},
        {"version", no_argument, NULL, 'V'},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"x", required_argument, NULL, 'x'},
        {NULL, 0, NULL, 0},
    };
    struct svy_plot_opts o = {.percent = 1, .output = "-", .words = SVY_LANG_EN};
    int quiet = 0;
    int c;
    while ((c = getopt_long(argc, argv, "c:C:e:f:F:hqk:o:s:t:Vx:", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.color = optarg; break;
        case 'C': codebook = optarg; break;
        case 'e': o.encoding = optarg; break;
        case OPT_LANG:
            if (!svy_lang_parse(optarg, &o.lang))
                svy_tool_usage_error("--lang: '%s' is neither zh nor en", optarg);
            o.words = o.lang;
            break;
        case 'f': o.facet = optarg; break;
        case 'F': add_filter(&o, optarg); break;
        case 'q': quiet = 1; break;
        case 'h': usage(); return svy_tool_finish_stdout(SVY_EXIT_OK);
        case 'k':
            if (!svy_plot_kind_from_name(optarg, &o.kind))
                svy_tool_usage_error("--kind is dot or bar, not '%s'", optarg);
            break;
        case 'o': o.output = optarg; break;
        case 's':
            if (strcmp(optarg, "input") == 0)
                o.sort = SVY_PLOT_SORT_INPUT;
            else if (strcmp(optarg, "value") == 0)
                o.sort = SVY_PLOT_SORT_VALUE;
            else
                svy_tool_usage_error("--sort is input or value, not '%s'", optarg);
            break;
        case 't': o.title = optarg; break;
        case 'V': svy_tool_version(); return svy_tool_finish_stdout(SVY_EXIT_OK);
        case 'x': o.x = optarg; break;
        case OPT_FOOTNOTE: o.footnote = optarg; break;
        case OPT_HEIGHT: o.height = parse_px("--height", optarg); break;
        case OPT_PERCENT: o.percent = 1; break;
        case OPT_PROPORTION: o.percent = 0; break;
        case OPT_SOURCE: o.source = optarg; break;
        case OPT_SUBTITLE: o.subtitle = optarg; break;
        case OPT_WIDTH: o.width = parse_px("--width", optarg); break;
        default: svy_tool_bad_option(argv, "c:C:e:f:F:hk:o:s:t:Vx:");
        }
    }
    if (argc - optind > 1)
        svy_tool_usage_error("one input at most (got %d)", argc - optind);
    o.input = optind < argc ? argv[optind] : "-";
    const char *mapped[3] = {o.x, o.color, o.facet};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (mapped[i] && mapped[j] && strcmp(mapped[i], mapped[j]) == 0)
                svy_tool_usage_error("column '%s' is mapped twice (--x, --color, --facet)", mapped[i]);

    svy_err err;
    svy_err_clear(&err);
    svy_status st = SVY_OK;
    int code = SVY_EXIT_OK;
    char *subtitle = NULL, *notes = NULL, *flaglabel = NULL, *one = NULL;
    svy_outfile *of = NULL;
    svy_reader *r = svy_reader_new();
    svy_tool_progress(r, quiet);
    o.plot = svy_plot_new();
    if (!r || !o.plot) {
        st = svy_err_set(&err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        goto out;
    }
    if (codebook && (st = svy_codebook_load(codebook, &o.cb, &err)))
        goto out;
    if (o.encoding && svy_reader_set_encoding(r, o.encoding) != SVY_OK) {
        st = svy_err_set(&err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        goto out;
    }
    if ((st = svy_reader_open(r, o.input, &err)))
        goto out;
    o.name = svy_reader_name(r);
    svy_handler h = {on_schema, on_row};
    if ((st = svy_reader_run(r, &h, &o, &err)))
        goto out;
    if (o.kept == 0) {
        st = svy_err_set(&err, SVY_E_DATA, o.name, 0, 0, NULL,
                         o.nfilters ? "no rows left after --filter"
                         : o.diff.on ? "no differences in the table (its reference column is empty)"
                                     : "no estimates in the table");
        goto out;
    }
    svy_plot_set_differences(o.plot, o.diff.on);
    if (o.diff.on && (st = add_diff_rows(&o, &one, &err)))
        goto out;
    if (o.empty)
        svy_tool_warn("%lld row%s without an estimate not drawn (see the table's note column)", o.empty,
                      o.empty == 1 ? "" : "s");

    svy_plot_set_kind(o.plot, o.kind);
    svy_plot_set_lang(o.plot, o.words);
    svy_plot_set_sort(o.plot, o.sort);
    svy_plot_set_percent(o.plot, o.percent);
    svy_plot_set_size(o.plot, o.width, o.height);
    const char *title = o.title;
    if (!title && !o.mixed_vars)
        title = var_label(&o, o.first_var);
    if (!o.subtitle)
        subtitle = default_subtitle(&o, one);
    notes = join(o.notes, o.nnotes, " ");
    const char *foot = o.footnote ? o.footnote : notes;
    /* Name the flags in the legend ("review", "suppress"), unless they are
     * bare yes/no marks that say nothing more than "flagged". */
    int generic = 1;
    for (size_t i = 0; i < o.nflags; i++)
        if (strcmp(o.flags[i], "1") && strcasecmp(o.flags[i], "true") && strcasecmp(o.flags[i], "yes") &&
            strcasecmp(o.flags[i], "x") && strcmp(o.flags[i], "*"))
            generic = 0;
    /* svy-tab's flag codes, in the words of the chart */
    for (size_t i = 0; !generic && i < o.nflags; i++) {
        static const struct {
            const char *code;
            svy_msg_id id;
        } fl[] = {{"suppress", SVY_MSG_TAB_FLAG_SUPPRESS},
                  {"review", SVY_MSG_TAB_FLAG_REVIEW},
                  {"suppress+review", SVY_MSG_TAB_FLAG_BOTH}};
        for (size_t k = 0; k < sizeof fl / sizeof *fl; k++)
            if (!strcmp(o.flags[i], fl[k].code)) {
                char *t = strdup(svy_msg(o.words, fl[k].id));
                if (!t)
                    svy_tool_die(SVY_EXIT_IO, "out of memory");
                free(o.flags[i]);
                o.flags[i] = t;
                break;
            }
    }
    char *flagvals = generic ? NULL : join(o.flags, o.nflags, o.words == SVY_LANG_ZH ? "、" : ", ");
    if (flagvals) {
        size_t len = strlen(flagvals) + 200;
        flaglabel = malloc(len);
        if (!flaglabel)
            svy_tool_die(SVY_EXIT_IO, "out of memory");
        svy_msg_format(flaglabel, len, o.words, SVY_MSG_PLOT_UNRELIABLE_FLAG, flagvals, (const char *)NULL);
        free(flagvals);
    }
    if ((st = svy_plot_set_title(o.plot, title)) ||
        (st = svy_plot_set_subtitle(o.plot, o.subtitle ? o.subtitle : subtitle)) ||
        (st = svy_plot_set_source(o.plot, o.source)) || (st = svy_plot_set_footnote(o.plot, foot)) ||
        (st = svy_plot_set_x_title(o.plot, col_title(&o, o.x))) ||
        (st = svy_plot_set_color_title(o.plot, col_title(&o, o.color))) ||
        (st = svy_plot_set_facet_title(o.plot, col_title(&o, o.facet))) ||
        (st = svy_plot_set_flag_label(o.plot, flaglabel))) {
        svy_err_set(&err, st, NULL, 0, 0, NULL, "%s in a title or note given as an option",
                    st == SVY_E_ENCODING ? "text that is not UTF-8" : "out of memory");
        goto out;
    }
    if ((st = svy_outfile_open(o.output, &of, &err)))
        goto out;
    if ((st = svy_plot_write_svg(o.plot, svy_outfile_stream(of), svy_outfile_path(of), &err)))
        goto out;
    st = svy_outfile_commit(of, &err);
    of = NULL;

out:
    if (st)
        code = svy_tool_report(&err);
    svy_outfile_abort(of);
    svy_reader_free(r);
    svy_plot_free(o.plot);
    svy_codebook_free(o.cb);
    free(o.first_var);
    free(one);
    plot_diff_free(&o.diff);
    for (size_t i = 0; i < o.nnotes; i++)
        free(o.notes[i]);
    for (size_t i = 0; i < o.nflags; i++)
        free(o.flags[i]);
    free(notes);
    free(flaglabel);
    free(subtitle);
    return svy_tool_finish_stdout(code);
}
