/* Tables of estimates (see survey/table.h).
 *
 * The table is first built as a grid of text cells, then handed to one small
 * output module per format: every format sees the same cells, so csv and md
 * can never disagree about what a row holds.
 */
#include "svy_private.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <survey/csv.h>
#include <survey/table.h>

typedef enum { C_STR, C_NUM, C_MISSING } ckind;

typedef struct tcell {
    char *text;
    ckind kind;
} tcell;

typedef struct grid {
    size_t ncol, nrow; /* rows exclude the header */
    char **head;
    tcell *cells;      /* nrow x ncol */
    size_t cap;
    int *right;        /* align right (numbers) */
    char *footer;
    int failed;
} grid;

void svy_table_opts_init(svy_table_opts *o)
{
    memset(o, 0, sizeof *o);
    o->percent = -1;
}

int svy_table_format_parse(const char *s, svy_table_format *out)
{
    static const struct {
        const char *name;
        svy_table_format f;
    } names[] = {{"csv", SVY_TABLE_CSV},   {"tsv", SVY_TABLE_TSV},     {"md", SVY_TABLE_MD},
                 {"markdown", SVY_TABLE_MD}, {"latex", SVY_TABLE_LATEX}, {"tex", SVY_TABLE_LATEX},
                 {"html", SVY_TABLE_HTML}, {"json", SVY_TABLE_JSON}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].f;
            return 1;
        }
    return 0;
}

int svy_table_layout_parse(const char *s, svy_table_layout *out)
{
    if (strcmp(s, "long") == 0)
        *out = SVY_TABLE_LONG;
    else if (strcmp(s, "wide") == 0)
        *out = SVY_TABLE_WIDE;
    else
        return 0;
    return 1;
}

static int is_report(svy_table_format f)
{
    return f == SVY_TABLE_MD || f == SVY_TABLE_LATEX || f == SVY_TABLE_HTML;
}

/* ------------------------------------------------------------- the grid */

static char *xprintf(grid *g, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static char *xprintf(grid *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? svy_malloc((size_t)n + 1) : NULL;
    if (!s) {
        g->failed = 1;
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static void grid_free(grid *g)
{
    for (size_t i = 0; i < g->ncol; i++)
        free(g->head[i]);
    for (size_t i = 0; i < g->nrow * g->ncol; i++)
        free(g->cells[i].text);
    free(g->head);
    free(g->cells);
    free(g->right);
    free(g->footer);
}

static void grid_set_header(grid *g, size_t ncol)
{
    g->ncol = ncol;
    g->head = calloc(ncol, sizeof *g->head);
    g->right = calloc(ncol, sizeof *g->right);
    if (!g->head || !g->right)
        g->failed = 1;
}

static tcell *grid_add_row(grid *g)
{
    if (g->failed)
        return NULL;
    if (!svy_grow((void **)&g->cells, &g->cap, (g->nrow + 1) * g->ncol, sizeof *g->cells)) {
        g->failed = 1;
        return NULL;
    }
    tcell *r = g->cells + g->nrow * g->ncol;
    memset(r, 0, g->ncol * sizeof *r);
    for (size_t i = 0; i < g->ncol; i++)
        r[i].kind = C_MISSING;
    g->nrow++;
    return r;
}

static void cell_str(grid *g, tcell *c, const char *s)
{
    c->text = svy_strdup(s ? s : "");
    c->kind = C_STR;
    if (!c->text)
        g->failed = 1;
}

/* A machine number: shortest round trip. */
static void cell_num(grid *g, tcell *c, double d)
{
    if (isnan(d))
        return;
    char b[SVY_DTOA_MAX];
    svy_dtoa(d, b);
    c->text = svy_strdup(b);
    c->kind = C_NUM;
    if (!c->text)
        g->failed = 1;
}

/* A report number, rounded to `dec` decimals. */
static void cell_fixed(grid *g, tcell *c, double d, int dec)
{
    if (isnan(d))
        return;
    if (isinf(d)) {
        c->text = svy_strdup(d > 0 ? "inf" : "-inf");
    } else {
        c->text = xprintf(g, "%.*f", dec, d);
        if (c->text && strcmp(c->text, "-0") == 0)
            c->text[0] = '0', c->text[1] = '\0';
        else if (c->text && c->text[0] == '-' && strspn(c->text + 1, "0.") == strlen(c->text + 1))
            memmove(c->text, c->text + 1, strlen(c->text)); /* no "-0.0" */
    }
    c->kind = C_NUM;
    if (!c->text)
        g->failed = 1;
}

static void cell_int(grid *g, tcell *c, long long n)
{
    c->text = xprintf(g, "%lld", n);
    c->kind = C_NUM;
}

/* ----------------------------------------------------------- labelling */

static const char *label_of(const svy_table_opts *o, const char *column, const svy_value *v)
{
    if (!o->labels || !o->schema || !v)
        return NULL;
    long i = svy_schema_find(o->schema, column);
    if (i < 0)
        return NULL;
    const svy_var *var = svy_schema_var(o->schema, (size_t)i);
    const char *l = svy_var_label_for(var, v);
    if (!l && v->type == SVY_VAL_STR) {
        svy_value num = *v;
        if (svy_parse_number(v->str, v->len, &num.num)) {
            num.type = SVY_VAL_NUM;
            l = svy_var_label_for(var, &num);
        }
    }
    return l;
}

static const char *by_text(const svy_est *e, const svy_table_opts *o, size_t dom, size_t k, char *nb)
{
    const svy_value *v = svy_est_domain_value(e, dom, k);
    if (!v)
        return NULL;
    const char *l = label_of(o, svy_est_by_name(e, k), v);
    if (l)
        return l;
    if (v->type == SVY_VAL_NUM) {
        svy_dtoa(v->num, nb);
        return nb;
    }
    return v->str;
}

/* The by cells of a row for domain dom; the overall row (no by values) reads
 * "Total" in report formats and is left empty in machine ones. */
static void put_by(grid *g, const svy_est *e, const svy_table_opts *o, size_t dom, tcell *row, int report)
{
    char nb[SVY_DTOA_MAX];
    for (size_t k = 0, nby = svy_est_nby(e); k < nby; k++) {
        const char *t = by_text(e, o, dom, k, nb);
        if (t)
            cell_str(g, &row[k], t);
        else if (report)
            cell_str(g, &row[k], k == 0 ? "Total" : "");
    }
}

/* The name of a variable in a table meant for reading: its label when the
 * data (or the codebook) give one and labels are asked for.  Machine formats
 * keep the name, which pipelines match on. */
static const char *var_label(const svy_table_opts *o, const char *column)
{
    if (!o->labels || !o->schema || !(o->format == SVY_TABLE_MD || o->format == SVY_TABLE_LATEX ||
                                      o->format == SVY_TABLE_HTML))
        return NULL;
    long i = svy_schema_find(o->schema, column);
    if (i < 0)
        return NULL;
    const char *l = svy_var_label(svy_schema_var(o->schema, (size_t)i));
    return *l ? l : NULL;
}

static char *variable_text(grid *g, const svy_table_opts *o, const svy_est_result *r)
{
    const char *vl = var_label(o, r->column);
    if (r->level && o->labels) {
        svy_value v;
        memset(&v, 0, sizeof v);
        v.type = SVY_VAL_STR;
        v.str = r->level;
        v.len = strlen(r->level);
        const char *l = label_of(o, r->column, &v);
        if (l)
            return xprintf(g, "%s=%s", vl ? vl : r->column, l);
    }
    if (vl && strcmp(r->variable, r->column) == 0)
        return xprintf(g, "%s", vl);
    return xprintf(g, "%s", r->variable);
}

static const char *flag_text(unsigned f)
{
    if ((f & SVY_FLAG_SUPPRESS) && (f & SVY_FLAG_REVIEW))
        return "suppress+review";
    if (f & SVY_FLAG_SUPPRESS)
        return "suppress";
    if (f & SVY_FLAG_REVIEW)
        return "review";
    return "";
}

/* --------------------------------------------------------- build tables */

static int scale_of(const svy_est_result *r, int percent)
{
    return r->stat == SVY_STAT_RATE && percent;
}

static void build_long(grid *g, const svy_est *e, const svy_table_opts *o, int percent, int report)
{
    size_t nby = svy_est_nby(e);
    size_t ncol = nby + 9 + (o->cv ? 1 : 0) + (o->flag ? 1 : 0);
    grid_set_header(g, ncol);
    if (g->failed)
        return;
    static const char *const names[] = {"variable", "estimate", "se", "ci_low", "ci_high",
                                        "df",       "deff",     "n",  "weighted_n"};
    size_t c = 0;
    for (size_t k = 0; k < nby; k++)
        g->head[c++] = svy_strdup(svy_est_by_name(e, k));
    for (size_t k = 0; k < 9; k++) {
        g->right[c] = k > 0;
        g->head[c++] = svy_strdup(names[k]);
    }
    if (o->cv) {
        g->right[c] = 1;
        g->head[c++] = svy_strdup("cv");
    }
    if (o->flag)
        g->head[c++] = svy_strdup("flag");
    for (size_t i = 0; i < ncol; i++)
        if (!g->head[i])
            g->failed = 1;

    for (size_t i = 0; i < svy_est_count(e) && !g->failed; i++) {
        const svy_est_result *r = svy_est_get(e, i);
        tcell *row = grid_add_row(g);
        if (!row)
            return;
        put_by(g, e, o, r->domain, row, report);
        tcell *x = row + nby;
        x[0].text = variable_text(g, o, r);
        x[0].kind = C_STR;
        double m = scale_of(r, percent) ? 100 : 1;
        if (report) {
            int dec = r->stat == SVY_STAT_RATE ? (percent ? 1 : 3) : r->stat == SVY_STAT_TOTAL ? 0 : 2;
            cell_fixed(g, &x[1], r->estimate * m, dec);
            cell_fixed(g, &x[2], r->se * m, dec + 1);
            cell_fixed(g, &x[3], r->ci_low * m, dec);
            cell_fixed(g, &x[4], r->ci_high * m, dec);
            cell_fixed(g, &x[5], r->df, isfinite(r->df) && r->df == floor(r->df) ? 0 : 1);
            cell_fixed(g, &x[6], r->deff, 2);
            cell_int(g, &x[7], r->n);
            cell_fixed(g, &x[8], r->weighted_n, 0);
        } else {
            cell_num(g, &x[1], r->estimate * m);
            cell_num(g, &x[2], r->se * m);
            cell_num(g, &x[3], r->ci_low * m);
            cell_num(g, &x[4], r->ci_high * m);
            cell_num(g, &x[5], r->df);
            cell_num(g, &x[6], r->deff);
            cell_int(g, &x[7], r->n);
            cell_num(g, &x[8], r->weighted_n);
        }
        size_t k = 9;
        if (o->cv) {
            if (report)
                cell_fixed(g, &x[k], r->cv * 100, 1);
            else
                cell_num(g, &x[k], r->cv);
            k++;
        }
        if (o->flag)
            cell_str(g, &x[k], flag_text(r->flags));
    }
}

static void build_wide(grid *g, const svy_est *e, const svy_table_opts *o, int percent, int report)
{
    size_t nby = svy_est_nby(e);
    /* variables in first-seen order */
    const char **vars = NULL;
    const svy_est_result **first = NULL;
    size_t nv = 0, capv = 0, capf = 0;
    for (size_t i = 0; i < svy_est_count(e); i++) {
        const svy_est_result *r = svy_est_get(e, i);
        size_t j = 0;
        while (j < nv && strcmp(vars[j], r->variable) != 0)
            j++;
        if (j == nv) {
            if (!svy_grow((void **)&vars, &capv, nv + 1, sizeof *vars) ||
                !svy_grow((void **)&first, &capf, nv + 1, sizeof *first)) {
                g->failed = 1;
                break;
            }
            vars[nv] = r->variable;
            first[nv++] = r;
        }
    }
    grid_set_header(g, nby + nv);
    for (size_t k = 0; k < nby && !g->failed; k++)
        g->head[k] = svy_strdup(svy_est_by_name(e, k));
    for (size_t j = 0; j < nv && !g->failed; j++) {
        g->head[nby + j] = variable_text(g, o, first[j]);
        g->right[nby + j] = 1;
    }
    const char *dash = o->format == SVY_TABLE_LATEX ? "--" : "\xe2\x80\x93";
    size_t last_dom = (size_t)-1;
    tcell *row = NULL;
    for (size_t i = 0; i < svy_est_count(e) && !g->failed; i++) {
        const svy_est_result *r = svy_est_get(e, i);
        if (r->domain != last_dom) {
            row = grid_add_row(g);
            if (!row)
                break;
            last_dom = r->domain;
            put_by(g, e, o, r->domain, row, report);
        }
        size_t j = 0;
        while (j < nv && strcmp(vars[j], r->variable) != 0)
            j++;
        double m = scale_of(r, percent) ? 100 : 1;
        int dec = r->stat == SVY_STAT_RATE ? (percent ? 1 : 3) : r->stat == SVY_STAT_TOTAL ? 0 : 2;
        const char *mark = "";
        if (o->flag)
            mark = (r->flags & SVY_FLAG_SUPPRESS) ? ((r->flags & SVY_FLAG_REVIEW) ? " *\xe2\x80\xa0" : " *")
                                                  : (r->flags & SVY_FLAG_REVIEW) ? " \xe2\x80\xa0" : "";
        tcell *c = &row[nby + j];
        if (isnan(r->estimate))
            continue;
        if (isnan(r->ci_low) || isnan(r->ci_high))
            c->text = xprintf(g, "%.*f%s", dec, r->estimate * m, mark);
        else
            c->text = xprintf(g, "%.*f (%.*f%s%.*f)%s", dec, r->estimate * m, dec, r->ci_low * m, dash, dec,
                              r->ci_high * m, mark);
        c->kind = C_STR;
    }
    free(vars);
    free(first);
}

static void build_footer(grid *g, const svy_est *e, const svy_table_opts *o, int percent)
{
    const svy_design *d = svy_est_design(e);
    char design[600];
    size_t u = 0;
    design[0] = '\0';
#define ADD(label, v)                                                                                      \
    if (v)                                                                                                 \
        u += (size_t)snprintf(design + u, sizeof design - u, "%s%s %s", u ? ", " : "", label, v);
    ADD("strata", d->strata)
    ADD("PSU", d->psu)
    ADD("weight", d->weight)
    ADD("FPC", d->fpc)
#undef ADD
    if (!u)
        snprintf(design, sizeof design, "simple random sample, unweighted");
    char df[120];
    switch (d->df_rule) {
    case SVY_DF_DOMAIN:
        snprintf(df, sizeof df, "PSUs minus strata with members of the domain");
        break;
    case SVY_DF_FULL:
        snprintf(df, sizeof df, "PSUs minus strata of the whole design");
        break;
    case SVY_DF_INF:
        snprintf(df, sizeof df, "infinite (normal quantiles)");
        break;
    default:
        snprintf(df, sizeof df, "%g", d->df);
        break;
    }
    static const char *const ci_text[] = {"logit", "Wald", "Korn-Graubard (beta)", "Wilson"};
    g->footer = xprintf(g,
                        "Design: %s; %lld rows, %zu strata, %zu PSUs. %s%g%% CI: %s (means and totals: Wald). "
                        "Degrees of freedom: %s. Lonely PSU: %s.%s",
                        design, svy_est_rows(e), svy_est_nstrata(e), svy_est_npsu(e),
                        percent ? "Proportions in percent. " : "", d->level * 100, ci_text[d->ci], df,
                        svy_lonely_name(d->lonely),
                        o->flag ? " * does not meet the NCHS standards for proportions (suppress); "
                                  "\xe2\x80\xa0 fewer than 8 degrees of freedom (review)."
                                : "");
}

/* -------------------------------------------------------- output modules */

typedef struct outmod {
    const char *name;
    /* 0, or the errno of a failure the stream's error flag does not show
     * (csv_out writes large outputs from its own thread, to the descriptor) */
    int (*write)(FILE *f, const grid *g, const svy_table_opts *o);
} outmod;

static void put_escaped(FILE *f, const char *s, const char *const *map)
{
    for (; *s; s++) {
        const char *rep = map[(unsigned char)*s];
        if (rep)
            fputs(rep, f);
        else
            fputc(*s, f);
    }
}

/* open, s escaped, close; nothing at all when s is NULL. */
static void put_wrapped(FILE *f, const char *open, const char *s, const char *close, const char *const *map)
{
    if (!s)
        return;
    fputs(open, f);
    put_escaped(f, s, map);
    fputs(close, f);
}

static int write_delim(FILE *f, const grid *g, char delim)
{
    svy_csv_out *o = svy_csv_out_new(f, delim);
    if (!o)
        return ENOMEM;
    for (size_t c = 0; c < g->ncol; c++)
        svy_csv_out_cstr(o, g->head[c]);
    svy_csv_out_end_row(o);
    for (size_t r = 0; r < g->nrow; r++) {
        for (size_t c = 0; c < g->ncol; c++) {
            const tcell *x = &g->cells[r * g->ncol + c];
            if (x->kind == C_MISSING)
                svy_csv_out_empty(o);
            else
                svy_csv_out_cstr(o, x->text);
        }
        svy_csv_out_end_row(o);
    }
    svy_err err;
    int en = 0;
    if (svy_csv_out_flush(o, "", &err) != SVY_OK)
        en = err.sys_errno ? err.sys_errno : EIO;
    svy_csv_out_free(o);
    return en;
}

static int mod_csv(FILE *f, const grid *g, const svy_table_opts *o)
{
    return write_delim(f, g, ',');
}

static int mod_tsv(FILE *f, const grid *g, const svy_table_opts *o)
{
    return write_delim(f, g, '\t');
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static int mod_json(FILE *f, const grid *g, const svy_table_opts *o)
{
    fputs("[\n", f);
    for (size_t r = 0; r < g->nrow; r++) {
        fputs("  {", f);
        for (size_t c = 0; c < g->ncol; c++) {
            const tcell *x = &g->cells[r * g->ncol + c];
            if (c)
                fputs(", ", f);
            json_str(f, g->head[c]);
            fputs(": ", f);
            if (x->kind == C_MISSING)
                fputs("null", f);
            else if (x->kind == C_NUM && strcmp(x->text, "inf") != 0 && strcmp(x->text, "-inf") != 0)
                fputs(x->text, f);
            else if (x->kind == C_NUM)
                fputs("null", f);
            else
                json_str(f, x->text);
        }
        fputs(r + 1 < g->nrow ? "},\n" : "}\n", f);
    }
    fputs("]\n", f);
    return 0;
}

/* Markdown renders raw HTML: '<', '>' and '&' from values, labels and the
 * title are written as entities, as the HTML output does. */
static const char *const md_map[256] = {['|'] = "\\|", ['\n'] = " ", ['\r'] = " ",
                                        ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;"};

static int mod_md(FILE *f, const grid *g, const svy_table_opts *o)
{
    put_wrapped(f, "**", o->title, "**\n\n", md_map);
    fputc('|', f);
    for (size_t c = 0; c < g->ncol; c++)
        put_wrapped(f, " ", g->head[c], " |", md_map);
    fputs("\n|", f);
    for (size_t c = 0; c < g->ncol; c++)
        fputs(g->right[c] ? " ---: |" : " :--- |", f);
    fputc('\n', f);
    for (size_t r = 0; r < g->nrow; r++) {
        fputc('|', f);
        for (size_t c = 0; c < g->ncol; c++) {
            const tcell *x = &g->cells[r * g->ncol + c];
            fputc(' ', f);
            put_escaped(f, x->kind == C_MISSING ? "" : x->text, md_map);
            fputs(" |", f);
        }
        fputc('\n', f);
    }
    fputc('\n', f);
    put_escaped(f, g->footer, md_map);
    fputc('\n', f);
    return 0;
}

static const char *const tex_map[256] = {
    ['&'] = "\\&", ['%'] = "\\%", ['$'] = "\\$", ['#'] = "\\#", ['_'] = "\\_", ['{'] = "\\{",
    ['}'] = "\\}", ['~'] = "\\textasciitilde{}", ['^'] = "\\textasciicircum{}", ['\\'] = "\\textbackslash{}",
};

static int mod_latex(FILE *f, const grid *g, const svy_table_opts *o)
{
    fputs("\\begin{table}[htbp]\n\\centering\n", f);
    put_wrapped(f, "\\caption{", o->title, "}\n", tex_map);
    fputs("\\begin{tabular}{", f);
    for (size_t c = 0; c < g->ncol; c++)
        fputc(g->right[c] ? 'r' : 'l', f);
    fputs("}\n\\hline\n", f);
    for (size_t c = 0; c < g->ncol; c++) {
        if (c)
            fputs(" & ", f);
        put_escaped(f, g->head[c], tex_map);
    }
    fputs(" \\\\\n\\hline\n", f);
    for (size_t r = 0; r < g->nrow; r++) {
        for (size_t c = 0; c < g->ncol; c++) {
            const tcell *x = &g->cells[r * g->ncol + c];
            if (c)
                fputs(" & ", f);
            if (x->kind != C_MISSING)
                put_escaped(f, x->text, tex_map);
        }
        fputs(" \\\\\n", f);
    }
    fputs("\\hline\n\\end{tabular}\n\\par\\smallskip\n{\\footnotesize ", f);
    put_escaped(f, g->footer, tex_map);
    fputs("}\n\\end{table}\n", f);
    return 0;
}

static const char *const html_map[256] = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;"};

static int mod_html(FILE *f, const grid *g, const svy_table_opts *o)
{
    fputs("<table class=\"svy-tab\">\n", f);
    put_wrapped(f, "<caption>", o->title, "</caption>\n", html_map);
    fputs("<thead>\n<tr>", f);
    for (size_t c = 0; c < g->ncol; c++)
        put_wrapped(f, "<th>", g->head[c], "</th>", html_map);
    fputs("</tr>\n</thead>\n<tbody>\n", f);
    for (size_t r = 0; r < g->nrow; r++) {
        fputs("<tr>", f);
        for (size_t c = 0; c < g->ncol; c++) {
            const tcell *x = &g->cells[r * g->ncol + c];
            fputs(g->right[c] ? "<td style=\"text-align:right\">" : "<td>", f);
            if (x->kind != C_MISSING)
                put_escaped(f, x->text, html_map);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fprintf(f, "</tbody>\n<tfoot>\n<tr><td colspan=\"%zu\">", g->ncol);
    put_escaped(f, g->footer, html_map);
    fputs("</td></tr>\n</tfoot>\n</table>\n", f);
    return 0;
}

static const outmod modules[] = {
    [SVY_TABLE_CSV] = {"csv", mod_csv},       [SVY_TABLE_TSV] = {"tsv", mod_tsv},
    [SVY_TABLE_MD] = {"md", mod_md},          [SVY_TABLE_LATEX] = {"latex", mod_latex},
    [SVY_TABLE_HTML] = {"html", mod_html},    [SVY_TABLE_JSON] = {"json", mod_json},
};

svy_status svy_table_write(FILE *f, const char *name, const svy_est *e, const svy_table_opts *o, svy_err *err)
{
    SVY_FAIL_IF((unsigned)o->format > SVY_TABLE_JSON, err, SVY_E_USAGE, "unknown table format");
    int report = is_report(o->format);
    int percent = o->percent < 0 ? report : o->percent;
    grid g;
    memset(&g, 0, sizeof g);
    if (o->layout == SVY_TABLE_WIDE)
        build_wide(&g, e, o, percent, report);
    else
        build_long(&g, e, o, percent, report);
    build_footer(&g, e, o, percent);
    if (g.failed) {
        grid_free(&g);
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    int werr = modules[o->format].write(f, &g, o);
    grid_free(&g);
    if (werr == ENOMEM)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    if (werr || fflush(f) != 0 || ferror(f)) {
        /* Say why (a full disk, a closed pipe), as every other write error does. */
        int en = werr ? werr : errno;
        svy_status st = svy_err_set(err, SVY_E_IO, name, 0, 0, NULL, "write error: %s", strerror(en ? en : EIO));
        if (err)
            err->sys_errno = en;
        return st;
    }
    return SVY_OK;
}
