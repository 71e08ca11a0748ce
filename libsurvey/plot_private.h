/* The chart engine's shared parts: the chart itself, its type sizes, and
 * the layout the drawing code reads.  plot.c collects the estimates,
 * plot_text.c measures and wraps UTF-8 text, plot_layout.c places panels and
 * scales, plot_svg.c writes the document.  Not installed. */
#ifndef SVY_PLOT_PRIVATE_H
#define SVY_PLOT_PRIVATE_H

#include "svy_private.h"
#include "hashmap_private.h"

#include <survey/plot.h>

#include <survey/value.h>

#include <math.h>
#include <stddef.h>
#include <stdio.h>

typedef struct cell {
    size_t x, c, f;
    double est, lo, hi;
    int flagged;
} cell;

struct svy_plot {
    svy_plot_kind kind;
    svy_plot_sort sort;
    int percent;
    int diff;      /* differences of proportions (svy_plot_set_differences) */
    svy_lang lang; /* of the words the chart adds */
    double width, height;
    char *title, *subtitle, *source, *footnote, *color_title, *x_title, *facet_title, *flag_label;
    svy_strtab xs, cs, fs; /* labels in order of first appearance */
    int has_color, has_facet;
    cell *cells;
    size_t ncells, cap;
    svy_u64map places; /* cells by place (x, c, f), see plot_place_key() */
};


#define FONT_FAMILY \
    "'Helvetica Neue', Helvetica, Arial, 'Liberation Sans', 'Noto Sans CJK SC', " \
    "'WenQuanYi Zen Hei', sans-serif"

/* Type sizes in px; 13 px labels stay legible when a 760 px figure is
 * scaled to a page column. */
#define PAD 20.0
#define FS_TITLE 20.0
#define FS_SUB 14.0
#define FS_LEGEND 13.0
#define FS_LABEL 13.0
#define FS_FACET 14.0
#define FS_VALUE 11.5
#define FS_TICK 11.5
#define FS_NOTE 11.5
#define PANEL_GAP 24.0
#define MIN_PANEL 220.0
#define DEFAULT_WIDTH 760.0

/* Bold Helvetica is about 7% wider on average. */
#define BOLD 1.07

/* One line of wrapped text: (start, length) into the text. */
/* Break text into lines no wider than maxw: at spaces, and between two
 * wide (CJK) characters, which need no space to break.  A newline in the
 * text always breaks.  Returns the number of lines; *out gets an array of
 * (start, length) pairs into s, which the caller frees. */
typedef struct span {
    size_t off, len;
} span;

typedef struct scale {
    double lo, hi, step; /* domain, tick spacing */
    int nticks;
    double x0, x1;       /* pixel range */
    int decimals;        /* tick label decimals */
} scale;

static inline double sx(const scale *s, double v)
{
    return s->x0 + (v - s->lo) / (s->hi - s->lo) * (s->x1 - s->x0);
}

typedef struct layout {
    double W, H;
    double label_w;       /* category label column */
    double panel_w;       /* one facet panel, value-label room included */
    double value_room;    /* right of the plot area, for value labels */
    double band;          /* height of one category row */
    double mark;          /* dot diameter or bar thickness */
    double mark_step;     /* distance between colour groups within a row */
    size_t ncol, nrow;
    size_t label_lines;   /* most lines a category label may take */
    double facet_h, axis_h;
    size_t *xorder;       /* display order of categories */
    span *title, *sub, *src, *foot;
    size_t ntitle, nsub, nsrc, nfoot;
} layout;

/* A label's or a coordinate's digits; not-finite or huge values are never
 * drawn (no pixel or percentage is that large): 0. */
static inline void plot_fixed(double v, int decimals, char *buf, size_t size)
{
    if (!isfinite(v) || fabs(v) > 1e15)
        v = 0;
    svy_fmt_fixed(v, decimals, buf, size);
}

/* Height of n wrapped lines at font size fs. */
static inline double wrapped_height(size_t n, double fs) { return (double)n * fs * 1.3; }

/* plot.c */
long plot_cell_find(const svy_plot *p, size_t x, size_t c, size_t f);

/* plot_text.c: widths in px of UTF-8 text at font size fs (see
 * svy_plot_text_width). */
double plot_text_width_n(const char *s, size_t len, double fs);
/* Break text into lines no wider than maxw: at spaces, and between two
 * wide (CJK) characters, which need no space to break.  A newline in the
 * text always breaks.  Returns the number of lines; *out gets an array of
 * spans into s, which the caller frees. */
size_t plot_wrap(const char *s, double fs, double maxw, span **out);
/* Bytes of s[0..len) that fit in maxw with an ellipsis after them. */
size_t plot_fit_ellipsis(const char *s, size_t len, double fs, double maxw);

/* plot_layout.c */
int plot_layout(const svy_plot *p, layout *L);
void plot_layout_free(layout *L);
void plot_nice_scale(scale *s, double lo, double hi, int max_ticks, int percent);
void plot_fmt_value(double v, int percent, int decimals, char *buf, size_t size);
void plot_fmt_estimate(const svy_plot *p, double v, char *buf, size_t size);
/* A tick label (signed for differences, without the % sign). */
void plot_fmt_tick(const svy_plot *p, double v, int decimals, char *buf, size_t size);

#endif
