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

#include "table_private.h"

void svy_table_opts_init(svy_table_opts *o)
{
    memset(o, 0, sizeof *o);
    o->percent = -1;
    o->lang = SVY_LANG_EN;
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

const char *svy_table_layout_name(svy_table_layout l)
{
    return l == SVY_TABLE_LONG ? "long" : l == SVY_TABLE_WIDE ? "wide" : "?";
}

static int is_report(svy_table_format f)
{
    return f == SVY_TABLE_MD || f == SVY_TABLE_LATEX || f == SVY_TABLE_HTML;
}

/* ------------------------------------------------------------- the grid */

char *svy_grid_printf(grid *g, const char *fmt, ...)
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
    for (size_t i = 0; g->head && i < g->ncol; i++)
        free(g->head[i]);
    for (size_t i = 0; i < g->nrow * g->ncol; i++)
        free(g->cells[i].text);
    free(g->head);
    free(g->cells);
    free(g->right);
    free(g->footer);
}

svy_status svy_table_finish(FILE *f, grid *g, const svy_table_opts *o, const char *name, svy_err *err)
{
    if (g->failed) {
        grid_free(g);
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    int werr = svy_table_emit(f, g, o);
    grid_free(g);
    if (werr == ENOMEM)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    if (werr || fflush(f) != 0 || ferror(f)) {
        /* Say why (a full disk, a closed pipe), as every other write error does. */
        return svy_err_sys(err, werr ? werr : errno, name, 0, "write error");
    }
    return SVY_OK;
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
        c->text = svy_grid_printf(g, "%.*f", dec, d);
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
    c->text = svy_grid_printf(g, "%lld", n);
    c->kind = C_NUM;
}

/* ----------------------------------------------------------- labelling */

static const char *label_of(const svy_table_opts *o, const char *column, const svy_value *v);

const char *svy_table_label_of(const svy_table_opts *o, const char *column, const char *text)
{
    svy_value v;
    memset(&v, 0, sizeof v);
    v.type = SVY_VAL_STR;
    v.str = text;
    v.len = strlen(text);
    const char *l = label_of(o, column, &v);
    return l ? l : text;
}

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
            cell_str(g, &row[k], k == 0 ? svy_msg(o->lang, SVY_MSG_TAB_TOTAL) : "");
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

/* A by column's header: its variable label in report formats with labels. */
static const char *by_head(const svy_table_opts *o, const char *column)
{
    const char *l = var_label(o, column);
    return l ? l : column;
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
            return svy_grid_printf(g, "%s=%s", vl ? vl : r->column, l);
    }
    if (vl && strcmp(r->variable, r->column) == 0)
        return svy_grid_printf(g, "%s", vl);
    return svy_grid_printf(g, "%s", r->variable);
}

/* The flag column: the NCHS words, then the estimator's own, joined by "+",
 * in the table's language. */
static char *flag_text(grid *g, svy_lang L, unsigned f)
{
    static const struct {
        unsigned bit;
        svy_msg_id word;
    } words[] = {{SVY_FLAG_NO_ESTIMATE, SVY_MSG_TAB_FLAG_NO_ESTIMATE},
                 {SVY_FLAG_NO_VARIANCE, SVY_MSG_TAB_FLAG_NO_VARIANCE},
                 {SVY_FLAG_SUPPRESS, SVY_MSG_TAB_FLAG_SUPPRESS},
                 {SVY_FLAG_REVIEW, SVY_MSG_TAB_FLAG_REVIEW}};
    char buf[160];
    size_t u = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof *words && u < sizeof buf; i++)
        if (f & words[i].bit)
            u += (size_t)snprintf(buf + u, sizeof buf - u, "%s%s", u ? svy_msg(L, SVY_MSG_TAB_FLAG_JOIN) : "",
                                  svy_msg(L, words[i].word));
    return svy_grid_printf(g, "%s", buf);
}

/* The statistic's word: the catalogue's in report formats, R's and the
 * machine formats' English name otherwise. */
static const char *stat_word(svy_lang L, svy_stat st, int report)
{
    static const svy_msg_id words[] = {SVY_MSG_TAB_STAT_RATE,  SVY_MSG_TAB_STAT_SHARE, SVY_MSG_TAB_STAT_MEAN,
                                       SVY_MSG_TAB_STAT_TOTAL, SVY_MSG_TAB_STAT_RATIO, SVY_MSG_TAB_STAT_QUANTILE};
    if (report && (unsigned)st < sizeof words / sizeof *words)
        return svy_msg(L, words[st]);
    return svy_stat_name(st);
}

/* --------------------------------------------------------- build tables */

static int scale_of(const svy_est_result *r, int percent)
{
    return svy_stat_is_proportion(r->stat) && percent;
}

static int decimals(const svy_est_result *r, int percent)
{
    return svy_stat_is_proportion(r->stat) ? (percent ? 1 : 3) : r->stat == SVY_STAT_TOTAL ? 0 : 2;
}

/* Report formats show the flag and note columns only when a row has one;
 * machine formats always have them (and the method), so that pipelines
 * can rely on the columns. */
static void long_columns(const svy_est *e, const svy_table_opts *o, int report, int *flag, int *note, int *diff)
{
    *flag = !report || o->flag;
    *note = !report;
    *diff = 0;
    for (size_t i = 0; i < svy_est_count(e); i++) {
        const svy_est_result *r = svy_est_get(e, i);
        unsigned mine = r->flags & (SVY_FLAG_NO_ESTIMATE | SVY_FLAG_NO_VARIANCE);
        *flag |= mine != 0;
        *note |= r->note != NULL;
        *diff |= r->reference != NULL;
    }
}

/* What every builder needs: the grid, the estimates, the options. */
typedef struct tbuild {
    grid *g;
    const svy_est *e;
    const svy_table_opts *o;
    int percent, report;
    const char *method;
    int flag, note;  /* long layout: the flag and note columns are there */
    int diff;        /* long layout: differences (--diff) add reference and p_value */
    int pcol;        /* long layout: a quantile's p, last (only when there are quantiles) */
} tbuild;

static void long_header(const tbuild *b, size_t ncol)
{
    grid *g = b->g;
    const svy_est *e = b->e;
    const svy_table_opts *o = b->o;
    static const svy_msg_id names[] = {SVY_MSG_TAB_COL_VARIABLE, SVY_MSG_TAB_COL_STATISTIC, SVY_MSG_TAB_COL_ESTIMATE,
                                       SVY_MSG_TAB_COL_SE,       SVY_MSG_TAB_COL_CI_LOW,    SVY_MSG_TAB_COL_CI_HIGH,
                                       SVY_MSG_TAB_COL_DF,       SVY_MSG_TAB_COL_DEFF,      SVY_MSG_TAB_COL_N,
                                       SVY_MSG_TAB_COL_WEIGHTED_N};
    /* Machine formats keep the English names pipelines match on. */
    svy_lang L = b->report ? o->lang : SVY_LANG_EN;
    size_t nby = svy_est_nby(e), c = 0;
    for (size_t k = 0; k < nby; k++)
        g->head[c++] = svy_strdup(by_head(o, svy_est_by_name(e, k)));
    for (size_t k = 0; k < 10; k++) {
        g->right[c] = k > 1;
        g->head[c++] = svy_strdup(svy_msg(L, names[k]));
    }
    if (b->diff) {
        g->head[c++] = svy_strdup(svy_msg(L, SVY_MSG_TAB_COL_REFERENCE));
        g->right[c] = 1;
        g->head[c++] = svy_strdup(svy_msg(L, SVY_MSG_TAB_COL_P_VALUE));
    }
    if (o->cv) {
        g->right[c] = 1;
        g->head[c++] = svy_strdup(svy_msg(L, SVY_MSG_TAB_COL_CV));
    }
    if (b->flag)
        g->head[c++] = svy_strdup(svy_msg(L, SVY_MSG_TAB_COL_FLAG));
    if (b->note)
        g->head[c++] = svy_strdup(svy_msg(L, SVY_MSG_TAB_COL_NOTE));
    if (!b->report)
        g->head[c++] = svy_strdup(svy_msg(L, SVY_MSG_TAB_COL_METHOD));
    if (b->pcol) {
        g->right[c] = 1;
        g->head[c++] = svy_strdup("p");
    }
    for (size_t i = 0; i < ncol; i++)
        if (!g->head[i])
            g->failed = 1;
}

/* The numbers of a long row: rounded for people, exact for machines. */
static void long_numbers(const tbuild *b, const svy_est_result *r, tcell *x)
{
    grid *g = b->g;
    double m = scale_of(r, b->percent) ? 100 : 1;
    if (b->report) {
        int dec = decimals(r, b->percent);
        cell_fixed(g, &x[2], r->estimate * m, dec);
        cell_fixed(g, &x[3], r->se * m, dec + 1);
        cell_fixed(g, &x[4], r->ci_low * m, dec);
        cell_fixed(g, &x[5], r->ci_high * m, dec);
        cell_fixed(g, &x[6], r->df, isfinite(r->df) && r->df == floor(r->df) ? 0 : 1);
        cell_fixed(g, &x[7], r->deff, 2);
        cell_int(g, &x[8], r->n);
        cell_fixed(g, &x[9], r->weighted_n, 0);
    } else {
        cell_num(g, &x[2], r->estimate * m);
        cell_num(g, &x[3], r->se * m);
        cell_num(g, &x[4], r->ci_low * m);
        cell_num(g, &x[5], r->ci_high * m);
        cell_num(g, &x[6], r->df);
        cell_num(g, &x[7], r->deff);
        cell_int(g, &x[8], r->n);
        cell_num(g, &x[9], r->weighted_n);
    }
}

/* A difference's reference level (labelled as the by column is) and p-value. */
static void long_diff_cells(const tbuild *b, const svy_est_result *r, tcell *x)
{
    grid *g = b->g;
    if (!r->reference)
        return;
    svy_value v;
    memset(&v, 0, sizeof v);
    v.type = SVY_VAL_STR;
    v.str = r->reference;
    v.len = strlen(r->reference);
    long k = svy_est_diff_by(b->e);
    const char *l = k >= 0 ? label_of(b->o, svy_est_by_name(b->e, (size_t)k), &v) : NULL;
    cell_str(g, &x[0], l ? l : r->reference);
    if (b->report && r->p_value < 0.0001) { /* 4 decimals would read 0.0000 */
        x[1].text = svy_grid_printf(g, "%.1e", r->p_value);
        x[1].kind = C_NUM;
    }
    else if (b->report)
        cell_fixed(g, &x[1], r->p_value, 4);
    else
        cell_num(g, &x[1], r->p_value);
}

static void long_row(const tbuild *b, const svy_est_result *r, tcell *row)
{
    grid *g = b->g;
    const svy_table_opts *o = b->o;
    int report = b->report;
    svy_lang L = report ? o->lang : SVY_LANG_EN;
    put_by(g, b->e, o, r->domain, row, report);
    tcell *x = row + svy_est_nby(b->e);
    x[0].text = variable_text(g, o, r);
    x[0].kind = C_STR;
    cell_str(g, &x[1], !r->reference ? stat_word(L, r->stat, report)
                       : report      ? svy_msg(L, SVY_MSG_TAB_STAT_DIFFERENCE)
                                     : "difference");
    long_numbers(b, r, x);
    size_t k = 10;
    if (b->diff) {
        long_diff_cells(b, r, x + k);
        k += 2;
    }
    if (o->cv) {
        if (report)
            cell_fixed(g, &x[k], r->cv * 100, 1);
        else
            cell_num(g, &x[k], r->cv);
        k++;
    }
    if (b->flag) {
        if (r->flags & (SVY_FLAG_NO_ESTIMATE | SVY_FLAG_NO_VARIANCE | (o->flag ? ~0u : 0))) {
            x[k].text = flag_text(g, L, r->flags);
            x[k].kind = C_STR;
        }
        k++;
    }
    if (b->note) {
        if (r->note)
            cell_str(g, &x[k], r->note);
        k++;
    }
    if (!report)
        cell_str(g, &x[k++], b->method);
    if (b->pcol && r->stat == SVY_STAT_QUANTILE)
        cell_num(g, &x[k], r->p);
}

static void build_long(tbuild *b)
{
    grid *g = b->g;
    const svy_est *e = b->e;
    long_columns(e, b->o, b->report, &b->flag, &b->note, &b->diff);
    b->pcol = 0;
    for (size_t i = 0; i < svy_est_count(e); i++)
        b->pcol |= svy_est_get(e, i)->stat == SVY_STAT_QUANTILE;
    size_t ncol = svy_est_nby(e) + 10 + 2 * (size_t)b->diff + (b->o->cv ? 1 : 0) + (size_t)b->flag + (size_t)b->note +
                  (b->report ? 0 : 1) + (size_t)b->pcol;
    grid_set_header(g, ncol);
    if (g->failed)
        return;
    long_header(b, ncol);
    for (size_t i = 0; i < svy_est_count(e) && !g->failed; i++) {
        tcell *row = grid_add_row(g);
        if (!row)
            return;
        long_row(b, svy_est_get(e, i), row);
    }
}

/* Wide columns are (variable, statistic): --mean X --total X gives two. */
typedef struct wcol {
    const char *variable;
    svy_stat stat;
    const svy_est_result *first;
    int named_stat; /* the variable has several statistics: say which */
} wcol;

static size_t wide_col(const wcol *c, size_t n, const svy_est_result *r)
{
    size_t j = 0;
    while (j < n && !(c[j].stat == r->stat && strcmp(c[j].variable, r->variable) == 0))
        j++;
    return j;
}

static const char *wide_mark(const svy_table_opts *o, const svy_est_result *r)
{
    if (r->flags & SVY_FLAG_NO_VARIANCE)
        return " \xe2\x80\xa1"; /* double dagger */
    if (!o->flag)
        return "";
    if (r->flags & SVY_FLAG_SUPPRESS)
        return (r->flags & SVY_FLAG_REVIEW) ? " *\xe2\x80\xa0" : " *";
    return (r->flags & SVY_FLAG_REVIEW) ? " \xe2\x80\xa0" : "";
}

/* The wide columns, one per (variable, statistic) in order of appearance. */
static wcol *wide_columns(grid *g, const svy_est *e, size_t *n)
{
    wcol *cols = NULL;
    size_t nv = 0, capv = 0;
    for (size_t i = 0; i < svy_est_count(e); i++) {
        const svy_est_result *r = svy_est_get(e, i);
        if (wide_col(cols, nv, r) < nv)
            continue;
        if (!svy_grow((void **)&cols, &capv, nv + 1, sizeof *cols)) {
            g->failed = 1;
            break;
        }
        cols[nv++] = (wcol){r->variable, r->stat, r, 0};
    }
    for (size_t j = 0; j < nv; j++)
        for (size_t k = 0; k < nv; k++)
            if (k != j && strcmp(cols[j].variable, cols[k].variable) == 0)
                cols[j].named_stat = 1;
    *n = nv;
    return cols;
}

static void wide_header(const tbuild *b, const wcol *cols, size_t nv, size_t extra)
{
    grid *g = b->g;
    const svy_table_opts *o = b->o;
    size_t nby = svy_est_nby(b->e);
    grid_set_header(g, nby + nv + extra);
    for (size_t k = 0; k < nby && !g->failed; k++)
        g->head[k] = svy_strdup(by_head(o, svy_est_by_name(b->e, k)));
    for (size_t j = 0; j < nv && !g->failed; j++) {
        char *t = variable_text(g, o, cols[j].first);
        if (t && cols[j].named_stat) {
            char *u = svy_grid_printf(g, "%s (%s)", t, stat_word(o->lang, cols[j].stat, b->report));
            free(t);
            t = u;
        }
        g->head[nby + j] = t;
        g->right[nby + j] = 1;
    }
    if (extra && !g->failed) {
        g->head[nby + nv] = svy_strdup("note");
        g->head[nby + nv + 1] = svy_strdup("method");
    }
}

/* A result's note, added to its row's note cell. */
static void wide_note(grid *g, tcell *nc, const svy_est_result *r)
{
    char *t = svy_grid_printf(g, "%s%s%s (%s): %s", nc->text ? nc->text : "", nc->text ? "; " : "", r->variable,
                              svy_stat_name(r->stat), r->note);
    free(nc->text);
    nc->text = t;
    nc->kind = C_STR;
}

/* A result's cell: estimate (interval) and its mark; 0 when it stays empty. */
static int wide_cell(const tbuild *b, const svy_est_result *r, tcell *c)
{
    grid *g = b->g;
    double m = scale_of(r, b->percent) ? 100 : 1;
    int dec = decimals(r, b->percent);
    const char *mark = wide_mark(b->o, r);
    const char *dash = b->o->format == SVY_TABLE_LATEX ? "--" : "\xe2\x80\x93";
    if (isnan(r->estimate)) {
        if (!b->report)
            return 0;
        c->text = svy_grid_printf(g, "\xe2\x80\x94"); /* em dash: no estimate */
    } else if (isnan(r->ci_low) || isnan(r->ci_high))
        c->text = svy_grid_printf(g, "%.*f%s", dec, r->estimate * m, mark);
    else
        c->text = svy_grid_printf(g, "%.*f (%.*f%s%.*f)%s", dec, r->estimate * m, dec, r->ci_low * m, dash, dec,
                                  r->ci_high * m, mark);
    c->kind = C_STR;
    return 1;
}

static void build_wide(tbuild *b)
{
    grid *g = b->g;
    const svy_est *e = b->e;
    size_t nby = svy_est_nby(e), nv = 0;
    wcol *cols = wide_columns(g, e, &nv);
    size_t extra = b->report ? 0 : 2; /* note, method */
    wide_header(b, cols, nv, extra);
    size_t last_dom = (size_t)-1;
    tcell *row = NULL;
    for (size_t i = 0; i < svy_est_count(e) && !g->failed; i++) {
        const svy_est_result *r = svy_est_get(e, i);
        if (r->domain != last_dom) {
            row = grid_add_row(g);
            if (!row)
                break;
            last_dom = r->domain;
            put_by(g, e, b->o, r->domain, row, b->report);
            if (extra)
                cell_str(g, &row[nby + nv + 1], b->method);
        }
        if (extra && r->note && !g->failed)
            wide_note(g, &row[nby + nv], r);
        wide_cell(b, r, &row[nby + wide_col(cols, nv, r)]);
    }
    free(cols);
}

svy_status svy_table_write(FILE *f, const char *name, const svy_est *e, const svy_table_opts *o, svy_err *err)
{
    SVY_FAIL_IF((unsigned)o->format > SVY_TABLE_JSON, err, SVY_E_USAGE, "unknown table format");
    int report = is_report(o->format);
    int percent = o->percent < 0 ? report : o->percent;
    grid g;
    memset(&g, 0, sizeof g);
    g.footer = svy_table_method(&g, e, o, percent, report);
    if (g.footer) {
        tbuild b = {&g, e, o, percent, report, g.footer, 0, 0, 0, 0};
        if (o->layout == SVY_TABLE_WIDE)
            build_wide(&b);
        else
            build_long(&b);
    }
    return svy_table_finish(f, &g, o, name, err);
}
