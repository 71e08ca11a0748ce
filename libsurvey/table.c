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
            return xprintf(g, "%s=%s", vl ? vl : r->column, l);
    }
    if (vl && strcmp(r->variable, r->column) == 0)
        return xprintf(g, "%s", vl);
    return xprintf(g, "%s", r->variable);
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
    return xprintf(g, "%s", buf);
}

/* The statistic's word: the catalogue's in report formats, R's and the
 * machine formats' English name otherwise. */
static const char *stat_word(svy_lang L, svy_stat st, int report)
{
    static const svy_msg_id words[] = {SVY_MSG_TAB_STAT_RATE, SVY_MSG_TAB_STAT_SHARE, SVY_MSG_TAB_STAT_MEAN,
                                       SVY_MSG_TAB_STAT_TOTAL};
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
static void long_columns(const svy_est *e, const svy_table_opts *o, int report, int *flag, int *note)
{
    *flag = !report || o->flag;
    *note = !report;
    for (size_t i = 0; i < svy_est_count(e); i++) {
        const svy_est_result *r = svy_est_get(e, i);
        unsigned mine = r->flags & (SVY_FLAG_NO_ESTIMATE | SVY_FLAG_NO_VARIANCE);
        *flag |= mine != 0;
        *note |= r->note != NULL;
    }
}

static void build_long(grid *g, const svy_est *e, const svy_table_opts *o, int percent, int report,
                       const char *method)
{
    size_t nby = svy_est_nby(e);
    int fl, nt;
    long_columns(e, o, report, &fl, &nt);
    size_t ncol = nby + 10 + (o->cv ? 1 : 0) + (size_t)fl + (size_t)nt + (report ? 0 : 1);
    grid_set_header(g, ncol);
    if (g->failed)
        return;
    static const svy_msg_id names[] = {SVY_MSG_TAB_COL_VARIABLE, SVY_MSG_TAB_COL_STATISTIC, SVY_MSG_TAB_COL_ESTIMATE,
                                       SVY_MSG_TAB_COL_SE,       SVY_MSG_TAB_COL_CI_LOW,    SVY_MSG_TAB_COL_CI_HIGH,
                                       SVY_MSG_TAB_COL_DF,       SVY_MSG_TAB_COL_DEFF,      SVY_MSG_TAB_COL_N,
                                       SVY_MSG_TAB_COL_WEIGHTED_N};
    /* Machine formats keep the English names pipelines match on. */
    svy_lang L = report ? o->lang : SVY_LANG_EN;
    size_t c = 0;
    for (size_t k = 0; k < nby; k++)
        g->head[c++] = svy_strdup(by_head(o, svy_est_by_name(e, k)));
    for (size_t k = 0; k < 10; k++) {
        g->right[c] = k > 1;
        g->head[c++] = svy_strdup(svy_msg(L, names[k]));
    }
    if (o->cv) {
        g->right[c] = 1;
        g->head[c++] = svy_strdup(svy_msg(L, SVY_MSG_TAB_COL_CV));
    }
    if (fl)
        g->head[c++] = svy_strdup(svy_msg(L, SVY_MSG_TAB_COL_FLAG));
    if (nt)
        g->head[c++] = svy_strdup(svy_msg(L, SVY_MSG_TAB_COL_NOTE));
    if (!report)
        g->head[c++] = svy_strdup(svy_msg(L, SVY_MSG_TAB_COL_METHOD));
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
        cell_str(g, &x[1], stat_word(L, r->stat, report));
        double m = scale_of(r, percent) ? 100 : 1;
        if (report) {
            int dec = decimals(r, percent);
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
        size_t k = 10;
        if (o->cv) {
            if (report)
                cell_fixed(g, &x[k], r->cv * 100, 1);
            else
                cell_num(g, &x[k], r->cv);
            k++;
        }
        if (fl) {
            if (r->flags & (SVY_FLAG_NO_ESTIMATE | SVY_FLAG_NO_VARIANCE | (o->flag ? ~0u : 0))) {
                x[k].text = flag_text(g, L, r->flags);
                x[k].kind = C_STR;
            }
            k++;
        }
        if (nt) {
            if (r->note)
                cell_str(g, &x[k], r->note);
            k++;
        }
        if (!report)
            cell_str(g, &x[k], method);
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

static void build_wide(grid *g, const svy_est *e, const svy_table_opts *o, int percent, int report,
                       const char *method)
{
    size_t nby = svy_est_nby(e);
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
    int any_note = 0;
    for (size_t i = 0; i < svy_est_count(e); i++)
        any_note |= svy_est_get(e, i)->note != NULL;
    size_t extra = report ? 0 : 2; /* note, method */
    grid_set_header(g, nby + nv + extra);
    for (size_t k = 0; k < nby && !g->failed; k++)
        g->head[k] = svy_strdup(by_head(o, svy_est_by_name(e, k)));
    for (size_t j = 0; j < nv && !g->failed; j++) {
        char *t = variable_text(g, o, cols[j].first);
        if (t && cols[j].named_stat) {
            char *u = xprintf(g, "%s (%s)", t, stat_word(o->lang, cols[j].stat, report));
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
            if (extra)
                cell_str(g, &row[nby + nv + 1], method);
        }
        size_t j = wide_col(cols, nv, r);
        if (extra && r->note && !g->failed) {
            tcell *nc = &row[nby + nv];
            char *t = xprintf(g, "%s%s%s (%s): %s", nc->text ? nc->text : "", nc->text ? "; " : "", r->variable,
                              svy_stat_name(r->stat), r->note);
            free(nc->text);
            nc->text = t;
            nc->kind = C_STR;
        }
        double m = scale_of(r, percent) ? 100 : 1;
        int dec = decimals(r, percent);
        const char *mark = wide_mark(o, r);
        tcell *c = &row[nby + j];
        if (isnan(r->estimate)) {
            if (report)
                c->text = xprintf(g, "\xe2\x80\x94"); /* em dash: no estimate */
            else
                continue;
        } else if (isnan(r->ci_low) || isnan(r->ci_high))
            c->text = xprintf(g, "%.*f%s", dec, r->estimate * m, mark);
        else
            c->text = xprintf(g, "%.*f (%.*f%s%.*f)%s", dec, r->estimate * m, dec, r->ci_low * m, dash, dec,
                              r->ci_high * m, mark);
        c->kind = C_STR;
    }
    (void)any_note;
    free(cols);
}

/* The design and method of the table, in one paragraph from the message
 * catalogue: the footer of report formats and the method column of machine
 * formats. */
static char *method_text(grid *g, const svy_est *e, const svy_table_opts *o, int percent, int report)
{
    const svy_design *d = svy_est_design(e);
    const svy_est_info *in = svy_est_info_get(e);
    svy_lang L = o->lang;
    char design[1400], part[400], num[3][32];
    size_t u = 0;
    design[0] = '\0';
#define PUT(...) u += (size_t)snprintf(design + u, u < sizeof design ? sizeof design - u : 0, __VA_ARGS__)
#define PUTMSG(...) (svy_msg_format(part, sizeof part, L, __VA_ARGS__, (const char *)NULL), PUT("%s", part))
    size_t stages = d->npsu ? d->npsu : 1;
    for (size_t s = 0; s < stages; s++) {
        int first = 1;
        if (s)
            PUT("%s", svy_msg(L, SVY_MSG_TAB_STAGE_SEP));
        if (stages > 1) {
            snprintf(num[0], sizeof num[0], "%zu", s + 1);
            PUTMSG(SVY_MSG_TAB_STAGE, num[0]);
            PUT(" ");
        }
        const char *strata = d->nstrata > s ? d->strata[s] : NULL;
        if (strata) {
            PUTMSG(SVY_MSG_TAB_ROLE_STRATA, strata);
            first = 0;
        }
        if (d->npsu) {
            if (!first)
                PUT("%s", svy_msg(L, SVY_MSG_TAB_LIST_SEP));
            PUTMSG(s == 0 ? SVY_MSG_TAB_ROLE_PSU : SVY_MSG_TAB_ROLE_UNIT, d->psu[s]);
            first = 0;
        }
        if (d->nfpc) {
            if (!first)
                PUT("%s", svy_msg(L, SVY_MSG_TAB_LIST_SEP));
            PUTMSG(SVY_MSG_TAB_ROLE_FPC, d->fpc[s]);
            first = 0;
        }
        if (first && stages == 1)
            PUT("%s", svy_msg(L, SVY_MSG_TAB_EVERY_ROW_PSU));
    }
    PUT("%s", svy_msg(L, SVY_MSG_TAB_STAGE_SEP));
    if (d->weight)
        PUTMSG(SVY_MSG_TAB_ROLE_WEIGHT, d->weight);
    else
        PUT("%s", svy_msg(L, in->weights == SVY_WEIGHTS_FPC ? SVY_MSG_TAB_WEIGHTS_FPC : SVY_MSG_TAB_UNWEIGHTED));
#undef PUTMSG
#undef PUT
    if (u >= sizeof design)
        design[sizeof design - 1] = '\0';
    char zero[200] = "", later[400] = "", counts[800];
    if (in->zero_weight_rows) {
        snprintf(num[0], sizeof num[0], "%lld", in->zero_weight_rows);
        svy_msg_format(zero, sizeof zero, L, SVY_MSG_TAB_ZERO_WEIGHTS, num[0], (const char *)NULL);
    }
    for (size_t s = 1, v = 0; s < in->nstages && v < sizeof later; s++) {
        snprintf(num[0], sizeof num[0], "%zu", in->nunits[s]);
        snprintf(num[1], sizeof num[1], "%zu", s + 1);
        svy_msg_format(part, sizeof part, L, SVY_MSG_TAB_UNITS_AT_STAGE, num[0], num[1], (const char *)NULL);
        v += (size_t)snprintf(later + v, sizeof later - v, "%s", part);
    }
    snprintf(num[0], sizeof num[0], "%lld", svy_est_rows(e));
    snprintf(num[1], sizeof num[1], "%zu", svy_est_nstrata(e));
    snprintf(num[2], sizeof num[2], "%zu", svy_est_npsu(e));
    svy_msg_format(counts, sizeof counts, L, SVY_MSG_TAB_COUNTS, num[0], zero, num[1], num[2], later,
                   (const char *)NULL);
    const char *fpc = svy_msg(L, d->nfpc ? (in->fpc_fraction ? SVY_MSG_TAB_FPC_FRACTIONS : SVY_MSG_TAB_FPC_COUNTS)
                                         : SVY_MSG_TAB_FPC_NONE);
    char var[600];
    if (in->var_stages > 1) {
        snprintf(num[0], sizeof num[0], "%zu", in->var_stages);
        svy_msg_format(var, sizeof var, L, SVY_MSG_TAB_VAR_MULTI, num[0], fpc, (const char *)NULL);
    } else if (stages > 1)
        svy_msg_format(var, sizeof var, L,
                       d->ultimate_cluster ? SVY_MSG_TAB_VAR_FIRST_ASKED : SVY_MSG_TAB_VAR_FIRST_NOFPC, fpc,
                       (const char *)NULL);
    else
        svy_msg_format(var, sizeof var, L, SVY_MSG_TAB_VAR_ONE, fpc, (const char *)NULL);
    char df[200];
    switch (d->df_rule) {
    case SVY_DF_DOMAIN:
        snprintf(df, sizeof df, "%s", svy_msg(L, SVY_MSG_TAB_DF_DOMAIN));
        break;
    case SVY_DF_FULL:
        snprintf(df, sizeof df, "%s", svy_msg(L, SVY_MSG_TAB_DF_FULL));
        break;
    case SVY_DF_INF:
        snprintf(df, sizeof df, "%s", svy_msg(L, SVY_MSG_TAB_DF_INF));
        break;
    default:
        snprintf(df, sizeof df, "%g", d->df);
        break;
    }
    static const svy_msg_id ci_text[] = {SVY_MSG_TAB_CI_LOGIT, SVY_MSG_TAB_CI_WALD, SVY_MSG_TAB_CI_BETA,
                                         SVY_MSG_TAB_CI_WILSON};
    static const svy_msg_id lonely_text[] = {SVY_MSG_TAB_LONELY_FAIL, SVY_MSG_TAB_LONELY_REMOVE,
                                             SVY_MSG_TAB_LONELY_CERTAINTY, SVY_MSG_TAB_LONELY_ADJUST,
                                             SVY_MSG_TAB_LONELY_AVERAGE};
    char level[32];
    snprintf(level, sizeof level, "%g", d->level * 100);
    char s_design[2600], s_ci[300], s_df[400], s_lonely[200];
    svy_msg_format(s_design, sizeof s_design, L, SVY_MSG_TAB_DESIGN, design, counts, var, (const char *)NULL);
    svy_msg_format(s_ci, sizeof s_ci, L, SVY_MSG_TAB_CI, level, svy_msg(L, ci_text[d->ci]), (const char *)NULL);
    svy_msg_format(s_df, sizeof s_df, L, SVY_MSG_TAB_DF, df, (const char *)NULL);
    svy_msg_format(s_lonely, sizeof s_lonely, L, SVY_MSG_TAB_LONELY,
                   (unsigned)d->lonely < 5 ? svy_msg(L, lonely_text[d->lonely]) : svy_lonely_name(d->lonely),
                   (const char *)NULL);
    int any_nv = 0, any_ne = 0;
    for (size_t i = 0; i < svy_est_count(e); i++) {
        any_nv |= (svy_est_get(e, i)->flags & SVY_FLAG_NO_VARIANCE) != 0;
        any_ne |= (svy_est_get(e, i)->flags & SVY_FLAG_NO_ESTIMATE) != 0;
    }
    int wide = o->layout == SVY_TABLE_WIDE && report;
    return xprintf(g, "%s%s%s%s%s%s%s%s%s", s_design, percent ? svy_msg(L, SVY_MSG_TAB_PERCENT) : "", s_ci, s_df,
                   s_lonely, report && o->flag ? svy_msg(L, SVY_MSG_TAB_FLAG_NOTE) : "",
                   wide && any_nv ? svy_msg(L, SVY_MSG_TAB_NOTE_NO_VARIANCE) : "",
                   wide && any_ne ? svy_msg(L, SVY_MSG_TAB_NOTE_NO_ESTIMATE) : "", o->note ? o->note : "");
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
    g.footer = method_text(&g, e, o, percent, report);
    if (g.footer) {
        if (o->layout == SVY_TABLE_WIDE)
            build_wide(&g, e, o, percent, report, g.footer);
        else
            build_long(&g, e, o, percent, report, g.footer);
    }
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
