/* svy_model tables: csv/tsv for machines (full precision, empty = missing),
 * md/latex/html for reports (rounded, with the fit line and notes naming
 * the design, the model and the methods). */
#include "svy_private.h"
#include "model_private.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { MAXC = 12 };

typedef struct wctx {
    FILE *f;
    svy_table_format fmt;
} wctx;

static int report(svy_table_format f)
{
    return f == SVY_TABLE_MD || f == SVY_TABLE_LATEX || f == SVY_TABLE_HTML;
}

static void put_text(const wctx *w, const char *s)
{
    if (w->fmt == SVY_TABLE_CSV) {
        if (strpbrk(s, ",\"\r\n") || (unsigned char)s[0] == 0xEF) {
            fputc('"', w->f);
            for (; *s; s++) {
                if (*s == '"')
                    fputc('"', w->f);
                fputc(*s, w->f);
            }
            fputc('"', w->f);
        } else {
            fputs(s, w->f);
        }
    } else if (w->fmt == SVY_TABLE_TSV) {
        for (; *s; s++)
            fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, w->f);
    } else if (w->fmt == SVY_TABLE_LATEX) {
        for (; *s; s++) {
            if (strchr("&%$#_{}", *s))
                fprintf(w->f, "\\%c", *s);
            else if (*s == '~')
                fputs("\\textasciitilde{}", w->f);
            else if (*s == '^')
                fputs("\\textasciicircum{}", w->f);
            else if (*s == '\\')
                fputs("\\textbackslash{}", w->f);
            else
                fputc(*s, w->f);
        }
    } else if (w->fmt == SVY_TABLE_HTML) {
        for (; *s; s++) {
            if (*s == '&')
                fputs("&amp;", w->f);
            else if (*s == '<')
                fputs("&lt;", w->f);
            else if (*s == '>')
                fputs("&gt;", w->f);
            else if (*s == '"')
                fputs("&quot;", w->f);
            else
                fputc(*s, w->f);
        }
    } else {
        for (; *s; s++)
            fputs(*s == '|' ? "\\|" : (char[2]){*s, 0}, w->f);
    }
}

/* A number: full precision for machines, 4 significant digits for people. */
static void num(char *buf, size_t n, svy_table_format f, double x)
{
    if (isnan(x))
        buf[0] = '\0';
    else if (!report(f))
        svy_dtoa(x, buf);
    else if (isinf(x))
        snprintf(buf, n, "%s", x > 0 ? "Inf" : "-Inf");
    else
        snprintf(buf, n, "%.4g", x);
}

static void pval(char *buf, size_t n, svy_table_format f, double p)
{
    if (report(f) && p < 0.001)
        snprintf(buf, n, "<0.001");
    else if (report(f) && !isnan(p))
        snprintf(buf, n, "%.3f", p);
    else
        num(buf, n, f, p);
}

static void row(const wctx *w, const char *const *cells, size_t n, int head)
{
    switch (w->fmt) {
    case SVY_TABLE_CSV:
    case SVY_TABLE_TSV:
        for (size_t i = 0; i < n; i++) {
            if (i)
                fputc(w->fmt == SVY_TABLE_CSV ? ',' : '\t', w->f);
            put_text(w, cells[i]);
        }
        fputc('\n', w->f);
        break;
    case SVY_TABLE_MD:
        fputs("|", w->f);
        for (size_t i = 0; i < n; i++) {
            fputc(' ', w->f);
            put_text(w, cells[i]);
            fputs(" |", w->f);
        }
        fputc('\n', w->f);
        if (head) {
            fputs("|", w->f);
            for (size_t i = 0; i < n; i++)
                fputs(i ? "---:|" : "---|", w->f);
            fputc('\n', w->f);
        }
        break;
    case SVY_TABLE_LATEX:
        for (size_t i = 0; i < n; i++) {
            if (i)
                fputs(" & ", w->f);
            put_text(w, cells[i]);
        }
        fputs(head ? " \\\\\n\\midrule\n" : " \\\\\n", w->f);
        break;
    default:
        fputs("<tr>", w->f);
        for (size_t i = 0; i < n; i++) {
            fputs(head ? "<th>" : "<td>", w->f);
            put_text(w, cells[i]);
            fputs(head ? "</th>" : "</td>", w->f);
        }
        fputs("</tr>\n", w->f);
    }
}

static void table_begin(const wctx *w, const char *caption, size_t ncol)
{
    if (w->fmt == SVY_TABLE_MD && caption) {
        fputs("**", w->f);
        put_text(w, caption);
        fputs("**\n\n", w->f);
    } else if (w->fmt == SVY_TABLE_LATEX) {
        fputs("\\begin{table}[htbp]\n\\centering\n", w->f);
        if (caption) {
            fputs("\\caption{", w->f);
            put_text(w, caption);
            fputs("}\n", w->f);
        }
        fputs("\\begin{tabular}{l", w->f);
        for (size_t i = 1; i < ncol; i++)
            fputc('r', w->f);
        fputs("}\n\\toprule\n", w->f);
    } else if (w->fmt == SVY_TABLE_HTML) {
        fputs("<table>\n", w->f);
        if (caption) {
            fputs("<caption>", w->f);
            put_text(w, caption);
            fputs("</caption>\n", w->f);
        }
    }
}

static void table_end(const wctx *w)
{
    if (w->fmt == SVY_TABLE_LATEX)
        fputs("\\bottomrule\n\\end{tabular}\n\\end{table}\n", w->f);
    else if (w->fmt == SVY_TABLE_HTML)
        fputs("</table>\n", w->f);
    if (report(w->fmt))
        fputc('\n', w->f);
}

static void coef_table(const wctx *w, const svy_model *m, const svy_model_out *o)
{
    int orr = o->odds_ratios && m->family == SVY_FAMILY_LOGIT;
    double lvl = m->d.level * 100;
    char cil[40], cih[40];
    snprintf(cil, sizeof cil, report(w->fmt) ? "%g%% CI low" : "ci_low", lvl);
    snprintf(cih, sizeof cih, report(w->fmt) ? "%g%% CI high" : "ci_high", lvl);
    const char *head_csv[] = {"term", orr ? "odds_ratio" : "estimate", orr ? "se_log_odds" : "se", "t", "df",
                              "p_value", cil, cih};
    const char *head_rep[] = {"Term", orr ? "Odds ratio" : "Estimate", orr ? "SE (log odds)" : "SE", "t", "df",
                              "p", cil, cih};
    table_begin(w, o->title ? o->title : orr ? "Odds ratios" : "Coefficients", 8);
    row(w, report(w->fmt) ? head_rep : head_csv, 8, 1);
    for (size_t i = 0; i < svy_model_ncoef(m); i++) {
        const svy_model_coef *c = svy_model_coef_get(m, i);
        char b[7][40];
        double e = c->estimate, lo = c->ci_low, hi = c->ci_high;
        if (orr) {
            e = exp(e);
            lo = exp(lo);
            hi = exp(hi);
        }
        num(b[0], 40, w->fmt, e);
        num(b[1], 40, w->fmt, c->se);
        num(b[2], 40, w->fmt, c->t);
        num(b[3], 40, w->fmt, c->df);
        pval(b[4], 40, w->fmt, c->p_value);
        num(b[5], 40, w->fmt, lo);
        num(b[6], 40, w->fmt, hi);
        const char *cells[] = {o->labels ? c->label : c->term, b[0], b[1], b[2], b[3], b[4], b[5], b[6]};
        row(w, cells, 8, 0);
    }
    table_end(w);
}

static void margins_table(const wctx *w, const svy_model *m, const svy_model_out *o)
{
    const char *var = m->f.vars[m->margins_var].name, *y = m->f.vars[0].name;
    const char *head_csv[] = {var, "variable", "estimate", "se", "ci_low", "ci_high", "difference", "diff_se", "z",
                              "p_value", "diff_ci_low", "diff_ci_high"};
    const char *head_rep[] = {var, "Y", "Margin", "SE", "CI low", "CI high", "Difference", "SE", "z", "p",
                              "CI low", "CI high"};
    table_begin(w, "Predictive margins (difference from the reference level)", 12);
    row(w, report(w->fmt) ? head_rep : head_csv, 12, 1);
    for (size_t i = 0; i < svy_model_nmargins(m); i++) {
        const svy_model_margin *M = svy_model_margin_get(m, i);
        char b[10][40];
        num(b[0], 40, w->fmt, M->margin);
        num(b[1], 40, w->fmt, M->se);
        num(b[2], 40, w->fmt, M->ci_low);
        num(b[3], 40, w->fmt, M->ci_high);
        num(b[4], 40, w->fmt, M->diff);
        num(b[5], 40, w->fmt, M->diff_se);
        num(b[6], 40, w->fmt, M->diff_z);
        pval(b[7], 40, w->fmt, M->diff_p);
        num(b[8], 40, w->fmt, M->diff_low);
        num(b[9], 40, w->fmt, M->diff_high);
        if (M->reference && report(w->fmt))
            snprintf(b[4], 40, "(reference)");
        const char *cells[] = {o->labels ? M->value_label : M->value, y, b[0], b[1], b[2], b[3], b[4], b[5], b[6],
                               b[7], b[8], b[9]};
        row(w, cells, 12, 0);
    }
    table_end(w);
}

static void wald_table(const wctx *w, const svy_model *m)
{
    const char *head_csv[] = {"terms", "F", "df_num", "df_den", "p_value", "chisq"};
    const char *head_rep[] = {"Terms", "F", "df", "denominator df", "p", "Wald chi-square"};
    table_begin(w, "Wald tests (R's regTermTest)", 6);
    row(w, report(w->fmt) ? head_rep : head_csv, 6, 1);
    for (size_t i = 0; i < svy_model_nwald(m); i++) {
        const svy_model_wald *t = svy_model_wald_get(m, i);
        char b[5][40];
        num(b[0], 40, w->fmt, t->F);
        num(b[1], 40, w->fmt, t->df_num);
        num(b[2], 40, w->fmt, t->df_den);
        pval(b[3], 40, w->fmt, t->p_value);
        num(b[4], 40, w->fmt, t->chisq);
        const char *cells[] = {t->terms, b[0], b[1], b[2], b[3], b[4]};
        row(w, cells, 6, 0);
    }
    table_end(w);
}

static void list(char *buf, size_t n, const char *const *cols, size_t k, const char *none)
{
    size_t len = 0;
    buf[0] = '\0';
    if (!k)
        snprintf(buf, n, "%s", none);
    for (size_t i = 0; i < k && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? "," : "", cols[i]);
}

static void note(const wctx *w, const char *fmt, ...)
{
    char buf[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (w->fmt == SVY_TABLE_HTML)
        fputs("<p>", w->f);
    put_text(w, buf);
    fputs(w->fmt == SVY_TABLE_HTML ? "</p>\n" : w->fmt == SVY_TABLE_LATEX ? "\\par\n" : "\n\n", w->f);
}

/* --calibrated-to: the variance knows the calibration. */
static void calib_note(const wctx *w, const svy_model *m)
{
    size_t n = svy_model_calibration_count(m);
    if (!n)
        return;
    char list[800];
    size_t len = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? (i + 1 == n ? " and " : ", ") : "",
                                svy_model_calibration_margin(m, i));
    note(w, "Calibration-aware variance: the weights were %s to the margins in %s; the influence functions of every "
            "design row (0 in rows outside the model) are replaced by their %s residuals before the design "
            "variance, as R's svyglm on a design passed through %s.",
         n >= 2 ? "raked" : "post-stratified", list, n >= 2 ? "raking" : "post-stratification",
         n >= 2 ? "rake() (10 back-fitting passes with unweighted cell means, on the final weights)" : "postStratify()");
}

static void notes(const wctx *w, const svy_model *m, const svy_model_out *o)
{
    const svy_design *d = &m->d;
    const svy_model_fit *F = svy_model_fit_get(m);
    char s[300], p[300], fp[300];
    list(s, sizeof s, d->strata, d->nstrata, "none");
    list(p, sizeof p, d->psu, d->npsu, "none (each row)");
    list(fp, sizeof fp, d->fpc, d->nfpc, "none");
    if (F->subpop)
        note(w, "Subpopulation: %s (rows in: %lld of %lld; rows used: %lld). The rows outside it are out of the "
                "model and stay in the design: their PSUs and strata count for the variance, as R's "
                "svyglm(design = subset(design, ...)); the design df are R's degf of that subset.",
             F->subpop, F->subpop_rows, F->rows, F->used);
    note(w, "Fit: %lld of %lld rows%s in the model (%lld with a missing value left out, the design kept whole)%s; "
            "design df %g, residual df %g (design df + 1 - %zu coefficients); %s after %d iterations.",
         F->used, F->subpop ? F->subpop_rows : F->rows, F->subpop ? " of the subpopulation" : "", F->dropped,
         F->zero_weight ? " including rows of weight 0" : "", F->design_df, F->df, F->rank,
         F->converged ? "converged" : "NOT converged", F->iterations);
    note(w, "Model: %s, %s. Categorical terms: indicators against the reference level; %s",
         m->family == SVY_FAMILY_LOGIT ? "logistic regression (R svyglm, family quasibinomial)"
                                       : "linear regression (R svyglm, family gaussian)",
         svy_model_formula(m),
         m->family == SVY_FAMILY_LOGIT && o->odds_ratios ? "odds ratios are exp(coefficient) with exp(CI)."
                                                         : "coefficients on the scale of the linear predictor.");
    note(w, "Design: weight %s; strata %s; PSU %s; FPC %s; %s variance; lonely PSU rule %s. SEs: design-based "
            "sandwich (linearization); t tests and %g%% CIs on the residual df.",
         d->weight ? d->weight : d->nfpc ? "from the fpc" : "none (1)", s, p, fp,
         d->npsu >= 2 && d->nfpc && !d->ultimate_cluster ? "multistage" : "first-stage (ultimate cluster)",
         svy_lonely_name(d->lonely), d->level * 100);
    calib_note(w, m);
    if (svy_model_nmargins(m))
        note(w, "Margins: predictive margins (R svypredmeans, Korn-Graubard), averaged over the rows of the model%s; "
                "normal intervals and p-values, as R's confint on them.",
             F->subpop ? " (in the subpopulation)" : "");
    if (F->separation)
        note(w, "Separation: %s. The coefficients involved are not finite estimates.", F->separation);
    if (F->y_note)
        note(w, "%s.", F->y_note);
    if (o->note)
        note(w, "%s", o->note);
}

svy_status svy_model_write(FILE *f, const char *name, const svy_model *m, const svy_model_out *o, svy_err *err)
{
    if (o->format == SVY_TABLE_JSON)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "--format json is not supported by svy-model");
    wctx w = {f, o->format};
    if (!report(o->format)) {
        if (svy_model_nmargins(m))
            margins_table(&w, m, o);
        else if (svy_model_nwald(m))
            wald_table(&w, m);
        else
            coef_table(&w, m, o);
    } else {
        coef_table(&w, m, o);
        if (svy_model_nmargins(m))
            margins_table(&w, m, o);
        if (svy_model_nwald(m))
            wald_table(&w, m);
        notes(&w, m, o);
    }
    if (fflush(f) != 0 || ferror(f))
        return svy_err_set(err, SVY_E_IO, name, 0, 0, NULL, "write error");
    return SVY_OK;
}
