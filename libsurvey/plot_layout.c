/* Chart layout: category order, panel grid, value scales and the label
 * number formats. */
#include "plot_private.h"

#include <survey/value.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- scales -------------------------------------------------------------- */


/* Ticks at 1, 2, 2.5 or 5 times a power of ten: the largest count not over
 * max_ticks.  All of them divide 1, so a domain within [0, 1] stays within. */
void plot_nice_scale(scale *s, double lo, double hi, int max_ticks, int percent)
{
    static const double mult[] = {1, 2, 2.5, 5};
    double step = 1;
    long i0 = 0, i1 = 1;
    for (int e = -4; e <= 0; e++) {
        int found = 0;
        for (size_t k = 0; k < sizeof mult / sizeof *mult; k++) {
            double st = mult[k] * pow(10, e);
            if (st > 1)
                break;
            long a = (long)floor(lo / st + 1e-9), b = (long)ceil(hi / st - 1e-9);
            if (b <= a)
                b = a + 1;
            if (b - a <= max_ticks) {
                step = st;
                i0 = a;
                i1 = b;
                found = 1;
                break;
            }
        }
        if (found)
            break;
    }
    s->lo = (double)i0 * step;
    s->hi = (double)i1 * step;
    s->step = step;
    s->nticks = (int)(i1 - i0) + 1;
    /* Fewest decimals that print every tick exactly. */
    double mul = percent ? 100 : 1;
    s->decimals = 0;
    for (int d = 0; d <= 4; d++) {
        double f = pow(10, d) * step * mul;
        s->decimals = d;
        if (fabs(f - floor(f + 0.5)) < 1e-6)
            break;
    }
}

void plot_fmt_value(double v, int percent, int decimals, char *buf, size_t size)
{
    plot_fixed(percent ? v * 100 : v, decimals, buf, size);
    if (percent && strlen(buf) + 1 < size)
        strcat(buf, "%");
}

/* A difference: "+" or U+2212 before it, no % sign (percentage points). */
static void fmt_signed(double v, int percent, int decimals, char *buf, size_t size)
{
    char d[64];
    plot_fixed(fabs(percent ? v * 100 : v), decimals, d, sizeof d);
    int zero = strspn(d, "0.") == strlen(d);
    snprintf(buf, size, "%s%s", zero ? "" : v > 0 ? "+" : "\xE2\x88\x92", d);
}

/* Label decimals: percent to one decimal, as tables print them. */
void plot_fmt_estimate(const svy_plot *p, double v, char *buf, size_t size)
{
    if (p->diff)
        fmt_signed(v, p->percent, p->percent ? 1 : 3, buf, size);
    else
        plot_fmt_value(v, p->percent, p->percent ? 1 : 3, buf, size);
}

void plot_fmt_tick(const svy_plot *p, double v, int decimals, char *buf, size_t size)
{
    if (p->diff)
        fmt_signed(v, p->percent, decimals, buf, size);
    else
        plot_fmt_value(v, p->percent, decimals, buf, size);
}

/* ---- layout -------------------------------------------------------------- */


void plot_layout_free(layout *L)
{
    free(L->xorder);
    free(L->title);
    free(L->sub);
    free(L->src);
    free(L->foot);
}

typedef struct keyed {
    double key;
    size_t idx;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1; /* largest first */
    return x->idx < y->idx ? -1 : x->idx > y->idx; /* ties keep input order */
}

static int order_categories(const svy_plot *p, layout *L)
{
    size_t nx = p->xs.n;
    L->xorder = svy_calloc(nx, sizeof *L->xorder);
    keyed *k = svy_calloc(nx, sizeof *k);
    if (!L->xorder || !k) {
        free(k);
        return 0;
    }
    /* key holds the sum, idx the count, until the means are taken. */
    for (size_t j = 0; j < p->ncells; j++) {
        k[p->cells[j].x].key += p->cells[j].est;
        k[p->cells[j].x].idx++;
    }
    for (size_t i = 0; i < nx; i++)
        k[i] = (keyed){p->sort == SVY_PLOT_SORT_VALUE && k[i].idx ? k[i].key / (double)k[i].idx : 0, i};
    if (p->sort == SVY_PLOT_SORT_VALUE)
        qsort(k, nx, sizeof *k, cmp_keyed);
    for (size_t i = 0; i < nx; i++)
        L->xorder[i] = k[i].idx;
    free(k);
    return 1;
}

int plot_layout(const svy_plot *p, layout *L)
{
    memset(L, 0, sizeof *L);
    if (!order_categories(p, L))
        return 0;
    L->W = p->width ? p->width : DEFAULT_WIDTH;
    double inner = L->W - 2 * PAD;
    if (inner < 100)
        inner = 100;

    double maxlab = 0;
    for (size_t i = 0; i < p->xs.n; i++) {
        double w = svy_plot_text_width(svy_strtab_str(&p->xs, i), FS_LABEL);
        if (w > maxlab)
            maxlab = w;
    }
    L->label_w = fmin(maxlab + 12, inner * 0.35);

    char buf[32];
    plot_fmt_estimate(p, 1, buf, sizeof buf);
    L->value_room = svy_plot_text_width(buf, FS_VALUE) + 10;

    size_t nf = p->fs.n;
    double avail = inner - L->label_w;
    size_t ncol = (size_t)((avail + PANEL_GAP) / (MIN_PANEL + PANEL_GAP));
    if (ncol < 1)
        ncol = 1;
    if (ncol > nf)
        ncol = nf;
    L->nrow = (nf + ncol - 1) / ncol;
    L->ncol = (nf + L->nrow - 1) / L->nrow; /* 4 facets: 2 x 2, not 3 + 1 */
    L->panel_w = (avail - (double)(L->ncol - 1) * PANEL_GAP) / (double)L->ncol;

    size_t nc = p->cs.n;
    if (p->kind == SVY_PLOT_DOT) {
        L->mark = 9;
        L->mark_step = nc > 1 ? 12 : 0;
        L->band = fmax(24, (double)nc * 12 + 12);
    } else {
        L->mark = nc > 1 ? 12 : 18;
        L->mark_step = L->mark + 1;
        L->band = (double)nc * L->mark_step + 10;
    }
    /* Long labels wrap rather than vanish behind an ellipsis: rows grow
     * to take up to three lines. */
    L->label_lines = 1;
    for (size_t i = 0; i < p->xs.n; i++) {
        span *v;
        size_t n = plot_wrap(svy_strtab_str(&p->xs, i), FS_LABEL, L->label_w - 12 + 0.01, &v);
        free(v);
        if (n > L->label_lines)
            L->label_lines = n > 3 ? 3 : n;
    }
    L->band = fmax(L->band, (double)L->label_lines * FS_LABEL * 1.15 + 8);
    L->facet_h = p->has_facet ? 28 : 4;
    L->axis_h = 26;

    if (p->title)
        L->ntitle = plot_wrap(p->title, FS_TITLE * BOLD, inner, &L->title);
    if (p->subtitle)
        L->nsub = plot_wrap(p->subtitle, FS_SUB, inner, &L->sub);
    if (p->source)
        L->nsrc = plot_wrap(p->source, FS_NOTE, inner, &L->src);
    if (p->footnote)
        L->nfoot = plot_wrap(p->footnote, FS_NOTE, inner, &L->foot);
    return 1;
}

