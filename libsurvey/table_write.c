/* Table output, one small module per format (csv, tsv, md, latex, html,
 * json): every format writes the same grid of cells (table.c builds it),
 * so csv and md can never disagree about what a row holds. */
#include "svy_private.h"
#include "table_private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <survey/csv.h>


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

int svy_table_emit(FILE *f, const grid *g, const svy_table_opts *o)
{
    return modules[o->format].write(f, g, o);
}

const char *svy_table_format_name(svy_table_format f)
{
    return (unsigned)f <= SVY_TABLE_JSON ? modules[f].name : "?";
}
