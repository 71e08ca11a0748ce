/* The SVG document of a chart.  Every number written goes through
 * svg_out()'s %v, which neither depends on the locale nor prints more digits
 * than a pixel needs: the same chart is always the same bytes.
 */
#include "plot_private.h"

#include <survey/messages.h>
#include <survey/value.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Okabe & Ito (2008), ordered so that the first two (the usual gender
 * split) differ in hue and in lightness; yellow comes late because it is
 * faint on white. */
static const char *const palette[SVY_PLOT_MAX_COLORS] = {
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000",
};
#define NEUTRAL "#6E6E6E"

/* ---- output -------------------------------------------------------------- */

/* Shortest of %.2f: two decimals are a hundredth of a pixel. */
static void fmt_num(double v, char *buf, size_t size)
{
    plot_fixed(v, 2, buf, size);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *e = buf + strlen(buf) - 1;
        while (e > dot && *e == '0')
            *e-- = '\0';
        if (e == dot)
            *e = '\0';
    }
}

static void put_esc_n(FILE *f, const char *s, size_t len)
{
    for (size_t i = 0; i < len && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            /* XML 1.0 has no place for other C0 controls, not even escaped. */
            if (c < 0x20 && c != '\t' && c != '\n')
                fputc(' ', f);
            else
                fputc(c, f);
        }
    }
}

/* A tiny printf of its own letters, none of which means what printf's
 * would: %s raw text, %t escaped text, %T escaped text with a length
 * (size_t then char *), %v a number (double, through fmt_num), %d an int,
 * %% a '%'.  Keeps every number in the document on one formatting path. */
static void svg_out(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            fputc(*p, f);
            continue;
        }
        char buf[64];
        switch (*++p) {
        case 's': fputs(va_arg(ap, const char *), f); break;
        case 't': {
            const char *s = va_arg(ap, const char *);
            put_esc_n(f, s, strlen(s));
            break;
        }
        case 'T': {
            size_t len = va_arg(ap, size_t);
            put_esc_n(f, va_arg(ap, const char *), len);
            break;
        }
        case 'v': fmt_num(va_arg(ap, double), buf, sizeof buf); fputs(buf, f); break;
        case 'd': fprintf(f, "%d", va_arg(ap, int)); break;
        case '%': fputc('%', f); break;
        default: fputc('?', f); p--; break;
        }
    }
    va_end(ap);
}


/* ---- drawing ------------------------------------------------------------- */

static const char *color_of(const svy_plot *p, size_t c)
{
    (void)p;
    return palette[c % SVY_PLOT_MAX_COLORS];
}

static double text_lines(FILE *f, const char *s, const span *v, size_t n, double x, double y,
                         double fs, const char *attrs)
{
    for (size_t i = 0; i < n; i++) {
        y += fs * (i ? 1.3 : 1.0);
        svg_out(f, "<text x=\"%v\" y=\"%v\" font-size=\"%v\"%s>%T</text>\n", x, y, fs, attrs,
            v[i].len, s + v[i].off);
    }
    return y;
}

/* Legend items laid out left to right, wrapping to a new line. */
typedef struct legend {
    FILE *f;
    double x0, x, y, maxx;
    int lines;
    int draw;
} legend;

/* Returns where the swatch goes. */
static double legend_item(legend *g, double swatch_w, const char *label, double gap_after)
{
    double w = swatch_w + 6 + svy_plot_text_width(label, FS_LEGEND);
    if (g->x > g->x0 && g->x + w > g->maxx) {
        g->x = g->x0;
        g->y += 22;
        g->lines++;
    }
    double at = g->x;
    if (g->draw && *label)
        svg_out(g->f, "<text x=\"%v\" y=\"%v\" font-size=\"%v\" fill=\"#333\">%t</text>\n",
            g->x + swatch_w + 6, g->y + 4.5, FS_LEGEND, label);
    g->x += w + gap_after;
    return at;
}

static void draw_dot(FILE *f, double cx, double cy, double r, const char *col, int hollow)
{
    if (hollow)
        svg_out(f, "<circle cx=\"%v\" cy=\"%v\" r=\"%v\" fill=\"#fff\" stroke=\"%s\" stroke-width=\"1.8\"/>\n",
            cx, cy, r - 0.4, col);
    else
        svg_out(f, "<circle cx=\"%v\" cy=\"%v\" r=\"%v\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"1\"/>\n",
            cx, cy, r, col);
}

static void draw_bar_swatch(FILE *f, double x, double y, double w, double h, size_t c,
                            const char *col, int hatched)
{
    if (hatched)
        svg_out(f, "<rect x=\"%v\" y=\"%v\" width=\"%v\" height=\"%v\" fill=\"url(#svyplot-hatch-%d)\" "
               "stroke=\"%s\" stroke-width=\"1.2\"/>\n",
            x + 0.6, y + 0.6, fmax(w - 1.2, 0), fmax(h - 1.2, 0), (int)c, col);
    else
        svg_out(f, "<rect x=\"%v\" y=\"%v\" width=\"%v\" height=\"%v\" fill=\"%s\"/>\n", x, y, w, h, col);
}

/* Returns the legend height; draws only when g->draw. */
static double do_legend(const svy_plot *p, legend *g, int any_flag, int any_ci)
{
    int dot = p->kind == SVY_PLOT_DOT;
    double y0 = g->y;
    if (p->has_color) {
        if (p->color_title) {
            char *t = malloc(strlen(p->color_title) + 4);
            if (t) {
                strcpy(t, p->color_title);
                strcat(t, svy_msg(p->lang, SVY_MSG_PLOT_COLON));
                legend_item(g, -6, t, 10);
                free(t);
            }
        }
        for (size_t c = 0; c < p->cs.n; c++) {
            const char *col = color_of(p, c);
            double lx = legend_item(g, 12, svy_strtab_str(&p->cs, c), 16);
            if (g->draw) {
                if (dot)
                    draw_dot(g->f, lx + 6, g->y, 5, col, 0);
                else
                    draw_bar_swatch(g->f, lx, g->y - 6, 12, 12, c, col, 0);
            }
        }
        g->x += 8;
    }
    const char *single = p->has_color ? NEUTRAL : palette[0];
    if (any_ci) {
        const char *lab = svy_msg(p->lang, SVY_MSG_PLOT_CI);
        double lx = legend_item(g, 28, lab, 16);
        if (g->draw) {
            if (dot) {
                svg_out(g->f, "<line x1=\"%v\" y1=\"%v\" x2=\"%v\" y2=\"%v\" stroke=\"%s\" stroke-width=\"2\" "
                          "stroke-opacity=\"0.55\" stroke-linecap=\"round\"/>\n",
                    lx + 1, g->y, lx + 27, g->y, single);
                draw_dot(g->f, lx + 14, g->y, 4.5, single, 0);
            } else {
                svg_out(g->f, "<path d=\"M%v %vV%vM%v %vH%vM%v %vV%v\" fill=\"none\" stroke=\"#222\" "
                          "stroke-width=\"1.2\"/>\n",
                    lx + 1, g->y - 4, g->y + 4, lx + 1, g->y, lx + 27, lx + 27, g->y - 4, g->y + 4);
            }
        }
    }
    if (any_flag) {
        const char *what = p->flag_label ? p->flag_label : svy_msg(p->lang, SVY_MSG_PLOT_UNRELIABLE);
        const char *how = svy_msg(p->lang, dot ? SVY_MSG_PLOT_HOLLOW : SVY_MSG_PLOT_HATCHED);
        char *lab = malloc(strlen(what) + strlen(how) + 1);
        if (!lab)
            return g->y - y0 + 22;
        strcpy(lab, how);
        strcat(lab, what);
        double lx = legend_item(g, 12, lab, 16);
        free(lab);
        if (g->draw) {
            if (dot)
                draw_dot(g->f, lx + 6, g->y, 5, single, 1);
            else
                draw_bar_swatch(g->f, lx, g->y - 6, 12, 12, SVY_PLOT_MAX_COLORS, NEUTRAL, 1);
        }
    }
    return g->y - y0 + 22;
}

static const cell *cell_at(const svy_plot *p, size_t x, size_t c, size_t f)
{
    long i = plot_cell_find(p, x, c, f);
    return i < 0 ? NULL : &p->cells[i];
}

static void write_desc(const svy_plot *p, const layout *L, FILE *f)
{
    char a[32], b[32], c[32];
    char m[600];
    const char *group = svy_msg(p->lang, SVY_MSG_PLOT_GROUP);
    svy_msg_format(m, sizeof m, p->lang, p->kind == SVY_PLOT_DOT ? SVY_MSG_PLOT_DESC_DOT : SVY_MSG_PLOT_DESC_BAR,
                   svy_msg(p->lang, p->diff ? (p->percent ? SVY_MSG_PLOT_DIFFS_PP : SVY_MSG_PLOT_DIFFS_PROP)
                                            : p->percent ? SVY_MSG_PLOT_PERCENTAGES : SVY_MSG_PLOT_PROPORTIONS),
                   (const char *)NULL);
    svg_out(f, "<desc id=\"svyplot-desc\">%t", m);
    if (p->x_title) {
        svy_msg_format(m, sizeof m, p->lang, SVY_MSG_PLOT_DESC_BY, p->x_title, (const char *)NULL);
        svg_out(f, "%t", m);
    }
    if (p->has_color) {
        svy_msg_format(m, sizeof m, p->lang, SVY_MSG_PLOT_DESC_COLOR, p->color_title ? p->color_title : group,
                       (const char *)NULL);
        svg_out(f, "%t", m);
    }
    if (p->has_facet) {
        svy_msg_format(m, sizeof m, p->lang, SVY_MSG_PLOT_DESC_FACET, p->facet_title ? p->facet_title : group,
                       (const char *)NULL);
        svg_out(f, "%t", m);
    }
    svg_out(f, "%s", svy_msg(p->lang, SVY_MSG_PLOT_END));
    for (size_t fi = 0; fi < p->fs.n; fi++) {
        if (p->has_facet)
            svg_out(f, "\n%t%s", svy_strtab_str(&p->fs, fi), svy_msg(p->lang, SVY_MSG_PLOT_COLON));
        for (size_t k = 0; k < p->xs.n; k++) {
            size_t xi = L->xorder[k];
            for (size_t ci = 0; ci < p->cs.n; ci++) {
                const cell *e = cell_at(p, xi, ci, fi);
                if (!e)
                    continue;
                plot_fmt_estimate(p, e->est, a, sizeof a);
                if (p->has_color)
                    svy_msg_format(m, sizeof m, p->lang, SVY_MSG_PLOT_DESC_ITEM_COLOR, svy_strtab_str(&p->xs, xi),
                                   svy_strtab_str(&p->cs, ci), a, (const char *)NULL);
                else
                    svy_msg_format(m, sizeof m, p->lang, SVY_MSG_PLOT_DESC_ITEM, svy_strtab_str(&p->xs, xi), a,
                                   (const char *)NULL);
                svg_out(f, "%t", m);
                if (!isnan(e->lo)) {
                    plot_fmt_estimate(p, e->lo, b, sizeof b);
                    plot_fmt_estimate(p, e->hi, c, sizeof c);
                    svy_msg_format(m, sizeof m, p->lang, SVY_MSG_PLOT_DESC_CI, b, c, (const char *)NULL);
                    svg_out(f, "%t", m);
                }
                if (e->flagged)
                    svg_out(f, "%s", svy_msg(p->lang, SVY_MSG_PLOT_DESC_FLAGGED));
                svg_out(f, "%s", svy_msg(p->lang, SVY_MSG_PLOT_DESC_SEP));
            }
        }
    }
    svg_out(f, "</desc>\n");
}

/* Bytes of s that fit in maxw with an ellipsis after them. */
/* A category label, right-aligned at x and centred on cy: wrapped onto at
 * most max_lines lines; what still does not fit is cut with an ellipsis,
 * and then the whole label is kept as a tooltip (it is in the description
 * too, so nothing is lost to a screen reader). */
static void draw_label(FILE *f, const char *lab, double x, double cy, double maxw, size_t max_lines)
{
    span *v;
    size_t n = plot_wrap(lab, FS_LABEL, maxw + 0.01, &v); /* (w + 12) - 12 need not be w */
    if (!v) {
        n = 1;
        v = malloc(sizeof *v);
        if (!v)
            return;
        v[0] = (span){0, strlen(lab)};
    }
    size_t shown = n < max_lines ? n : max_lines;
    int cut = shown < n;
    for (size_t i = 0; i < shown; i++)
        if (plot_text_width_n(lab + v[i].off, v[i].len, FS_LABEL) > maxw + 0.01)
            cut = 1;
    double lh = FS_LABEL * 1.15;
    double y = cy + FS_LABEL * 0.35 - (double)(shown - 1) * lh / 2;
    for (size_t i = 0; i < shown; i++, y += lh) {
        const char *t = lab + v[i].off;
        size_t len = v[i].len;
        int ell = plot_text_width_n(t, len, FS_LABEL) > maxw + 0.01 || (i + 1 == shown && shown < n);
        if (ell)
            len = plot_fit_ellipsis(t, len, FS_LABEL, maxw);
        svg_out(f, "<text x=\"%v\" y=\"%v\" font-size=\"%v\" fill=\"#222\" text-anchor=\"end\">", x, y,
            FS_LABEL);
        if (cut && i == 0)
            svg_out(f, "<title>%t</title>", lab);
        svg_out(f, "%T%s</text>\n", len, t, ell ? "\xE2\x80\xA6" : "");
    }
    free(v);
}

/* Where colour group c sits in its row, in mark steps from the centre: the
 * groups present are packed and centred, so that a row with one estimate
 * (an overall row, a missing cell) has it on the row's line. */
static double slot_offset(const svy_plot *p, size_t x, size_t c, size_t f)
{
    size_t rank = 0, present = 0;
    for (size_t k = 0; k < p->cs.n; k++)
        if (plot_cell_find(p, x, k, f) >= 0) {
            if (k < c)
                rank++;
            present++;
        }
    return (double)rank - (double)(present - 1) / 2;
}

/* One panel being drawn: its chart, layout, facet, scale and the top of
 * its rows. */
typedef struct panel {
    const svy_plot *p;
    const layout *L;
    FILE *f;
    size_t fi;
    scale s;
    double top, rows_h;
    int dot;
} panel;

/* The value scale, shared across panels so that small multiples compare. */
static void panel_scale(panel *P, double px)
{
    const svy_plot *p = P->p;
    const layout *L = P->L;
    int dot = P->dot;
    scale s;
    double lo = 1, hi = 0;
    for (size_t i = 0; i < p->ncells; i++) {
        const cell *e = &p->cells[i];
        double a = isnan(e->lo) ? e->est : e->lo, b = isnan(e->hi) ? e->est : e->hi;
        lo = fmin(lo, a);
        hi = fmax(hi, b);
    }
    /* Bars must start at zero; dots may zoom, but not when zero is near.
     * Differences always show zero, their reference line. */
    if (p->diff) {
        lo = fmin(lo, 0);
        hi = fmax(hi, 0);
    } else if (!dot || lo < 0.35 * hi) {
        lo = 0;
    }
    if (hi - lo < 0.01)
        hi = fmin(1, lo + 0.01);
    if (hi - lo < 0.01)
        lo = hi - 0.01;
    /* negative differences print their values left of their intervals */
    double left_room = p->diff && lo < 0 ? L->value_room : 0;
    double plot_w = L->panel_w - L->value_room - left_room;
    /* About one tick per 80 px, but never so few that a panel shows only
     * its ends, nor so many that the grid turns into texture. */
    int max_ticks = (int)(plot_w / 80);
    if (max_ticks < 4)
        max_ticks = 4;
    if (max_ticks > 6)
        max_ticks = 6;
    plot_nice_scale(&s, lo, hi, max_ticks, p->percent);
    s.x0 = px + 6 + left_room;
    s.x1 = px + left_room + plot_w;
    P->s = s;
}

static void draw_grid(const panel *P)
{
    const svy_plot *p = P->p;
    FILE *f = P->f;
    scale s = P->s;
    double top = P->top, rows_h = P->rows_h;
    int dot = P->dot;
    /* Grid first, so that marks sit on top. */
    svg_out(f, "<g stroke=\"#E4E4E4\" stroke-width=\"1\">\n");
    for (int t = 0; t < s.nticks; t++) {
        double x = sx(&s, s.lo + t * s.step);
        svg_out(f, "<line x1=\"%v\" y1=\"%v\" x2=\"%v\" y2=\"%v\"/>\n", x, top, x, top + rows_h);
    }
    svg_out(f, "</g>\n");
    if (p->diff) /* the zero line: no difference */
        svg_out(f, "<line x1=\"%v\" y1=\"%v\" x2=\"%v\" y2=\"%v\" stroke=\"#444\" stroke-width=\"1.5\"/>\n",
            sx(&s, 0), top, sx(&s, 0), top + rows_h);
    else if (!dot || s.lo == 0)
        svg_out(f, "<line x1=\"%v\" y1=\"%v\" x2=\"%v\" y2=\"%v\" stroke=\"#8C8C8C\" stroke-width=\"1\"/>\n",
            sx(&s, s.lo), top, sx(&s, s.lo), top + rows_h);
    /* Tick labels */
    svg_out(f, "<g font-size=\"%v\" fill=\"#555\" text-anchor=\"middle\">\n", FS_TICK);
    for (int t = 0; t < s.nticks; t++) {
        char buf[32];
        double v = s.lo + t * s.step;
        plot_fmt_tick(p, v, s.decimals, buf, sizeof buf);
        svg_out(f, "<text x=\"%v\" y=\"%v\">%s</text>\n", sx(&s, v), top + rows_h + 16, buf);
    }
    svg_out(f, "</g>\n");
}

/* The mark of one estimate, colour group ci, centred on y. */
static void draw_mark(const panel *P, const cell *e, size_t ci, double y)
{
    const svy_plot *p = P->p;
    const layout *L = P->L;
    FILE *f = P->f;
    scale s = P->s;
    int dot = P->dot;
    const char *col = p->has_color ? color_of(p, ci) : palette[0];
    double ex = sx(&s, e->est);
    int has_ci = !isnan(e->lo);
    double right = has_ci ? sx(&s, e->hi) : ex;
    if (dot) {
        if (has_ci)
            svg_out(f, "<line x1=\"%v\" y1=\"%v\" x2=\"%v\" y2=\"%v\" stroke=\"%s\" stroke-width=\"2\" "
                   "stroke-opacity=\"0.55\" stroke-linecap=\"round\"%s/>\n",
                sx(&s, e->lo), y, right, y, col,
                e->flagged ? " stroke-dasharray=\"3 3\"" : "");
        draw_dot(f, ex, y, L->mark / 2, col, e->flagged);
    } else {
        double x0 = sx(&s, 0); /* a negative difference's bar runs left of zero */
        draw_bar_swatch(f, fmin(x0, ex), y - L->mark / 2, fabs(ex - x0), L->mark, ci, col, e->flagged);
        if (has_ci) {
            double cap = L->mark * 0.25;
            double xl = sx(&s, e->lo);
            svg_out(f, "<path d=\"M%v %vV%vM%v %vH%vM%v %vV%v\" fill=\"none\" stroke=\"#222\" "
                   "stroke-width=\"1.2\"/>\n",
                xl, y - cap, y + cap, xl, y, right, right, y - cap, y + cap);
        }
    }
}

static void draw_marks(const panel *P, double px, int labels)
{
    const svy_plot *p = P->p;
    const layout *L = P->L;
    FILE *f = P->f;
    scale s = P->s;
    double top = P->top;
    size_t fi = P->fi;
    int dot = P->dot;
    size_t nc = p->cs.n;
    for (size_t k = 0; k < p->xs.n; k++) {
        size_t xi = L->xorder[k];
        double cy = top + ((double)k + 0.5) * L->band;
        if (labels)
            draw_label(f, svy_strtab_str(&p->xs, xi), px - 12, cy, L->label_w - 12, L->label_lines);
        if (dot)
            svg_out(f, "<line x1=\"%v\" y1=\"%v\" x2=\"%v\" y2=\"%v\" stroke=\"#D0D0D0\" stroke-width=\"1\" "
                   "stroke-dasharray=\"1 3\"/>\n",
                s.x0, cy, s.x1, cy);
        for (size_t ci = 0; ci < nc; ci++) {
            const cell *e = cell_at(p, xi, ci, fi);
            if (!e)
                continue;
            draw_mark(P, e, ci, cy + slot_offset(p, xi, ci, fi) * L->mark_step);
        }
    }
}

static void draw_values(const panel *P)
{
    const svy_plot *p = P->p;
    const layout *L = P->L;
    FILE *f = P->f;
    scale s = P->s;
    double top = P->top;
    size_t fi = P->fi;
    int dot = P->dot;
    size_t nc = p->cs.n;
    /* Value labels last, over every mark, with a white halo so that a
     * neighbour's interval line never runs through the digits. */
    svg_out(f, "<g font-size=\"%v\" stroke=\"#fff\" stroke-width=\"3\" stroke-linejoin=\"round\" "
           "paint-order=\"stroke\">\n",
        FS_VALUE);
    for (size_t k = 0; k < p->xs.n; k++) {
        size_t xi = L->xorder[k];
        double cy = top + ((double)k + 0.5) * L->band;
        for (size_t ci = 0; ci < nc; ci++) {
            const cell *e = cell_at(p, xi, ci, fi);
            if (!e)
                continue;
            double y = cy + slot_offset(p, xi, ci, fi) * L->mark_step;
            double right = isnan(e->hi) ? sx(&s, e->est) : sx(&s, e->hi);
            if (dot)
                right = fmax(right, sx(&s, e->est) + L->mark / 2);
            /* a negative difference: left of its interval (and of its bar) */
            int left = p->diff && e->est < 0;
            if (left) {
                right = isnan(e->lo) ? sx(&s, e->est) : sx(&s, e->lo);
                if (dot)
                    right = fmin(right, sx(&s, e->est) - L->mark / 2);
            }
            char buf[32];
            plot_fmt_estimate(p, e->est, buf, sizeof buf);
            svg_out(f, "<text x=\"%v\" y=\"%v\" fill=\"%s\"%s%s>%s</text>\n", left ? right - 5 : right + 5,
                y + FS_VALUE * 0.35, e->flagged ? "#777" : "#333", e->flagged ? " font-style=\"italic\"" : "",
                left ? " text-anchor=\"end\"" : "", buf);
        }
    }
    svg_out(f, "</g>\n");
}

static void draw_panel(const svy_plot *p, const layout *L, FILE *f, size_t fi, double px,
                       double py, int labels)
{
    panel P = {.p = p, .L = L, .f = f, .fi = fi, .dot = p->kind == SVY_PLOT_DOT};
    panel_scale(&P, px);
    P.top = py + L->facet_h;
    P.rows_h = (double)p->xs.n * L->band;
    if (p->has_facet)
        svg_out(f, "<text x=\"%v\" y=\"%v\" font-size=\"%v\" font-weight=\"bold\" fill=\"#111\">%t</text>\n",
            P.s.x0, py + FS_FACET + 4, FS_FACET, svy_strtab_str(&p->fs, fi));
    draw_grid(&P);
    draw_marks(&P, px, labels);
    draw_values(&P);
}

svy_status svy_plot_write_svg(const svy_plot *p, FILE *f, const char *name, svy_err *err)
{
    SVY_FAIL_IF(p->ncells == 0, err, SVY_E_USAGE, "nothing to plot: no estimates");
    layout L;
    if (!plot_layout(p, &L)) {
        plot_layout_free(&L);
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    int any_flag = 0, any_ci = 0;
    for (size_t i = 0; i < p->ncells; i++) {
        any_flag |= p->cells[i].flagged;
        any_ci |= !isnan(p->cells[i].lo);
    }

    /* Vertical budget, top to bottom. */
    double y = PAD;
    double title_y = y;
    if (L.ntitle)
        y += wrapped_height(L.ntitle, FS_TITLE) + 2;
    double sub_y = y;
    if (L.nsub)
        y += wrapped_height(L.nsub, FS_SUB);
    y += 12;
    legend g = {f, PAD, PAD, y + 8, L.W - PAD, 1, 0};
    double legend_y = g.y;
    double leg_h = 0;
    if (p->has_color || any_flag || any_ci)
        leg_h = do_legend(p, &g, any_flag, any_ci);
    y += leg_h + 6;
    double panels_y = y;
    double panel_h = L.facet_h + (double)p->xs.n * L.band + L.axis_h;
    double fixed_below = 0;
    if (L.nsrc || L.nfoot)
        fixed_below += 12 + wrapped_height(L.nsrc, FS_NOTE) + wrapped_height(L.nfoot, FS_NOTE) +
                       (L.nsrc && L.nfoot ? 4 : 0);
    if (p->height) {
        /* Fit the rows to the height asked for, within legibility. */
        double room = p->height - panels_y - fixed_below - PAD - (double)(L.nrow - 1) * PANEL_GAP -
                      (double)L.nrow * (L.facet_h + L.axis_h);
        double band = room / ((double)L.nrow * (double)p->xs.n);
        double min_band = L.mark + (p->cs.n > 1 ? ((double)p->cs.n - 1) * L.mark_step : 0) + 4;
        L.band = fmax(band, min_band);
        while (L.label_lines > 1 && (double)L.label_lines * FS_LABEL * 1.15 + 4 > L.band)
            L.label_lines--;
        panel_h = L.facet_h + (double)p->xs.n * L.band + L.axis_h;
    }
    y += (double)L.nrow * panel_h + (double)(L.nrow - 1) * PANEL_GAP;
    double notes_y = y;
    y += fixed_below;
    L.H = p->height ? p->height : y + PAD;

    svg_out(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    svg_out(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%v\" height=\"%v\" viewBox=\"0 0 %v %v\" "
           "role=\"img\" aria-labelledby=\"svyplot-title svyplot-desc\">\n",
        L.W, L.H, L.W, L.H);
    svg_out(f, "<title id=\"svyplot-title\">%t</title>\n", p->title ? p->title : svy_msg(p->lang, SVY_MSG_PLOT_DEFAULT_TITLE));
    write_desc(p, &L, f);
    if (p->kind == SVY_PLOT_BAR && (any_flag)) {
        svg_out(f, "<defs>\n");
        for (size_t c = 0; c <= SVY_PLOT_MAX_COLORS; c++) {
            if (c < SVY_PLOT_MAX_COLORS && c >= p->cs.n)
                continue;
            const char *col = c == SVY_PLOT_MAX_COLORS ? NEUTRAL : p->has_color ? color_of(p, c) : palette[0];
            svg_out(f, "<pattern id=\"svyplot-hatch-%d\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" "
                   "patternTransform=\"rotate(45)\"><rect width=\"5\" height=\"5\" fill=\"#fff\"/>"
                   "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"5\" stroke=\"%s\" stroke-width=\"3\"/></pattern>\n",
                (int)c, col);
        }
        svg_out(f, "</defs>\n");
    }
    svg_out(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
    svg_out(f, "<g font-family=\"%s\">\n", FONT_FAMILY);
    if (L.ntitle)
        text_lines(f, p->title, L.title, L.ntitle, PAD, title_y, FS_TITLE,
                   " font-weight=\"bold\" fill=\"#111\"");
    if (L.nsub)
        text_lines(f, p->subtitle, L.sub, L.nsub, PAD, sub_y + 2, FS_SUB, " fill=\"#444\"");
    if (leg_h > 0) {
        legend g2 = {f, PAD, PAD, legend_y, L.W - PAD, 1, 1};
        do_legend(p, &g2, any_flag, any_ci);
    }
    for (size_t fi = 0; fi < p->fs.n; fi++) {
        size_t r = fi / L.ncol, c = fi % L.ncol;
        double px = PAD + L.label_w + (double)c * (L.panel_w + PANEL_GAP);
        double py = panels_y + (double)r * (panel_h + PANEL_GAP);
        draw_panel(p, &L, f, fi, px, py, c == 0);
    }
    if (L.nsrc || L.nfoot) {
        double ny = notes_y + 6;
        svg_out(f, "<line x1=\"%v\" y1=\"%v\" x2=\"%v\" y2=\"%v\" stroke=\"#CCC\" stroke-width=\"1\"/>\n", PAD,
            ny, L.W - PAD, ny);
        ny += 4;
        if (L.nsrc)
            ny = text_lines(f, p->source, L.src, L.nsrc, PAD, ny, FS_NOTE, " fill=\"#555\"") + 4;
        if (L.nfoot)
            text_lines(f, p->footnote, L.foot, L.nfoot, PAD, ny - (L.nsrc ? FS_NOTE * 0.3 : 0),
                       FS_NOTE, " fill=\"#555\"");
    }
    svg_out(f, "</g>\n</svg>\n");
    plot_layout_free(&L);
    /* Flushed here so the failing write's errno says why ("write error"
     * alone did not). */
    errno = 0;
    if (fflush(f) != 0 || ferror(f)) {
        int e = errno ? errno : EIO;
        return svy_err_sys(err, e, name, 0, "write error");
    }
    return SVY_OK;
}

