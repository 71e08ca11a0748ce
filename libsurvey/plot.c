/* Rate charts as SVG: dot and bar charts with confidence intervals, colour
 * groups and small multiples.
 *
 * Layout is computed from estimated text widths (there is no font engine
 * here), so widths err on the wide side.  Every number written goes through
 * fmt_num(), which neither depends on the locale nor prints more digits than
 * a pixel needs: the same chart is always the same bytes.
 */
#include "svy_private.h"
#include "hashmap_private.h"

#include <survey/messages.h>
#include <survey/plot.h>
#include <survey/value.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct cell {
    size_t x, c, f;
    double est, lo, hi;
    int flagged;
} cell;

struct svy_plot {
    svy_plot_kind kind;
    svy_plot_sort sort;
    int percent;
    svy_lang lang; /* of the words the chart adds */
    double width, height;
    char *title, *subtitle, *source, *footnote, *color_title, *x_title, *facet_title, *flag_label;
    svy_strtab xs, cs, fs; /* labels in order of first appearance */
    int has_color, has_facet;
    cell *cells;
    size_t ncells, cap;
    size_t *cht; /* cells by place (x, c, f): index + 1, 0 = empty */
    size_t chtcap;
};

/* Okabe & Ito (2008), ordered so that the first two (the usual gender
 * split) differ in hue and in lightness; yellow comes late because it is
 * faint on white. */
static const char *const palette[SVY_PLOT_MAX_COLORS] = {
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000",
};
#define NEUTRAL "#6E6E6E"

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

/* ---- construction ------------------------------------------------------ */

svy_plot *svy_plot_new(void)
{
    svy_plot *p = calloc(1, sizeof *p);
    if (p) {
        p->percent = 1;
        p->lang = SVY_LANG_EN;
    }
    return p;
}

void svy_plot_free(svy_plot *p)
{
    if (!p)
        return;
    free(p->title);
    free(p->subtitle);
    free(p->source);
    free(p->footnote);
    free(p->color_title);
    free(p->x_title);
    free(p->facet_title);
    free(p->flag_label);
    svy_strtab_free(&p->xs);
    svy_strtab_free(&p->cs);
    svy_strtab_free(&p->fs);
    free(p->cells);
    free(p->cht);
    free(p);
}

int svy_plot_kind_from_name(const char *name, svy_plot_kind *kind)
{
    if (name && strcmp(name, "dot") == 0) {
        *kind = SVY_PLOT_DOT;
        return 1;
    }
    if (name && strcmp(name, "bar") == 0) {
        *kind = SVY_PLOT_BAR;
        return 1;
    }
    return 0;
}

void svy_plot_set_kind(svy_plot *p, svy_plot_kind kind) { p->kind = kind; }
void svy_plot_set_lang(svy_plot *p, svy_lang lang) { p->lang = lang; }
void svy_plot_set_sort(svy_plot *p, svy_plot_sort sort) { p->sort = sort; }
void svy_plot_set_percent(svy_plot *p, int on) { p->percent = on != 0; }

void svy_plot_set_size(svy_plot *p, double width, double height)
{
    p->width = width > 0 && isfinite(width) ? width : 0;
    p->height = height > 0 && isfinite(height) ? height : 0;
}

static svy_status set_text(char **dst, const char *s)
{
    char *copy = NULL;
    if (s && *s) {
        if (!svy_utf8_valid(s, strlen(s), NULL))
            return SVY_E_ENCODING;
        copy = svy_strdup(s);
        if (!copy)
            return SVY_E_NOMEM;
    }
    free(*dst);
    *dst = copy;
    return SVY_OK;
}

svy_status svy_plot_set_title(svy_plot *p, const char *s) { return set_text(&p->title, s); }
svy_status svy_plot_set_subtitle(svy_plot *p, const char *s) { return set_text(&p->subtitle, s); }
svy_status svy_plot_set_source(svy_plot *p, const char *s) { return set_text(&p->source, s); }
svy_status svy_plot_set_footnote(svy_plot *p, const char *s) { return set_text(&p->footnote, s); }
svy_status svy_plot_set_color_title(svy_plot *p, const char *s) { return set_text(&p->color_title, s); }
svy_status svy_plot_set_x_title(svy_plot *p, const char *s) { return set_text(&p->x_title, s); }
svy_status svy_plot_set_facet_title(svy_plot *p, const char *s) { return set_text(&p->facet_title, s); }
svy_status svy_plot_set_flag_label(svy_plot *p, const char *s) { return set_text(&p->flag_label, s); }

static size_t hash_place(size_t x, size_t c, size_t f)
{
    uint64_t h = (uint64_t)x * 0x9E3779B97F4A7C15u;
    h ^= ((uint64_t)c + 0x632BE59BD9B4E019u) * 0xC2B2AE3D27D4EB4Fu;
    h ^= ((uint64_t)f + 0x8CB92BA72F3D8DD7u) * 0x165667B19E3779F9u;
    return (size_t)(h ^ (h >> 29));
}

/* Rehash into a table twice the size needed for n entries; 0 on failure. */
static int rehash(size_t **ht, size_t *htcap, size_t n, size_t (*key)(const void *, size_t),
                  const void *owner)
{
    size_t cap = 16;
    while (cap < 2 * (n + 1))
        cap *= 2;
    size_t *t = svy_calloc(cap, sizeof *t);
    if (!t)
        return 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = key(owner, i) & (cap - 1);
        while (t[j])
            j = (j + 1) & (cap - 1);
        t[j] = i + 1;
    }
    free(*ht);
    *ht = t;
    *htcap = cap;
    return 1;
}

static size_t cell_key(const void *owner, size_t i)
{
    const cell *c = &((const svy_plot *)owner)->cells[i];
    return hash_place(c->x, c->c, c->f);
}

/* Index of s in l, appending it when new; (size_t)-1 when out of memory. */
static size_t intern(svy_strtab *l, const char *s)
{
    long i = svy_strtab_intern(l, s, strlen(s), NULL);
    return i < 0 ? (size_t)-1 : (size_t)i;
}

static long cell_find(const svy_plot *p, size_t x, size_t c, size_t f)
{
    if (!p->chtcap)
        return -1;
    for (size_t j = hash_place(x, c, f) & (p->chtcap - 1); p->cht[j]; j = (j + 1) & (p->chtcap - 1)) {
        const cell *e = &p->cells[p->cht[j] - 1];
        if (e->x == x && e->c == c && e->f == f)
            return (long)(p->cht[j] - 1);
    }
    return -1;
}

static svy_status check_label(const char *what, const char *s, svy_err *err)
{
    size_t bad = 0;
    if (s && !svy_utf8_valid(s, strlen(s), &bad))
        return svy_err_set(err, SVY_E_ENCODING, NULL, 0, 0, NULL,
                           "%s label is not valid UTF-8 (byte %zu)", what, bad + 1);
    return SVY_OK;
}

svy_status svy_plot_add(svy_plot *p, const char *x, const char *color, const char *facet,
                        double est, double ci_low, double ci_high, int flagged, svy_err *err)
{
    svy_status st;
    SVY_FAIL_IF(!x, err, SVY_E_USAGE, "an estimate needs a category");
    if ((st = check_label("category", x, err)) || (st = check_label("colour", color, err)) ||
        (st = check_label("facet", facet, err)))
        return st;
    SVY_FAIL_IF(!isfinite(est), err, SVY_E_DATA, "estimate is not a finite number");
    char a[SVY_DTOA_MAX], b[SVY_DTOA_MAX], cc[SVY_DTOA_MAX];
    svy_dtoa(est, a);
    svy_dtoa(ci_low, b);
    svy_dtoa(ci_high, cc);
    SVY_FAIL_IF(est < 0 || est > 1, err, SVY_E_DATA,
                "estimate %s is outside [0, 1]: a rate chart shows proportions", a);
    int has_lo = !isnan(ci_low), has_hi = !isnan(ci_high);
    SVY_FAIL_IF(has_lo != has_hi, err, SVY_E_DATA, "confidence interval has only one end");
    if (has_lo) {
        SVY_FAIL_IF(!isfinite(ci_low) || !isfinite(ci_high), err, SVY_E_DATA,
                    "confidence interval is not finite");
        SVY_FAIL_IF(ci_low < 0 || ci_high > 1, err, SVY_E_DATA,
                    "confidence interval [%s, %s] is outside [0, 1]", b, cc);
        /* A rounding slack: svy-tab's interval ends are printed shortest
         * round-trip, but an interval of width zero may sit a hair off. */
        SVY_FAIL_IF(ci_low > est + 1e-12 || ci_high < est - 1e-12, err, SVY_E_DATA,
                    "confidence interval [%s, %s] does not contain the estimate %s", b, cc, a);
    }

    long ci = svy_strtab_find(&p->cs, color ? color : "", color ? strlen(color) : 0);
    SVY_FAIL_IF(ci < 0 && p->cs.n >= SVY_PLOT_MAX_COLORS, err, SVY_E_DATA,
                "more than %d colour groups ('%s' would be the %zuth): hues beyond that cannot be "
                "told apart; filter the input or use facets",
                SVY_PLOT_MAX_COLORS, color ? color : "", p->cs.n + 1);

    size_t xi = intern(&p->xs, x);
    size_t cix = intern(&p->cs, color ? color : "");
    size_t fi = intern(&p->fs, facet ? facet : "");
    SVY_FAIL_IF(xi == (size_t)-1 || cix == (size_t)-1 || fi == (size_t)-1, err, SVY_E_NOMEM,
                "out of memory");
    SVY_FAIL_IF(cell_find(p, xi, cix, fi) >= 0, err, SVY_E_DATA,
                "a second estimate for the same place (category '%s'%s%s%s%s%s%s): "
                "pick one with a filter, or map the column that differs to colour or facet",
                x, color ? ", colour '" : "", color ? color : "", color ? "'" : "",
                facet ? ", facet '" : "", facet ? facet : "", facet ? "'" : "");
    SVY_FAIL_IF(!svy_grow((void **)&p->cells, &p->cap, p->ncells + 1, sizeof *p->cells), err,
                SVY_E_NOMEM, "out of memory");
    p->cells[p->ncells++] = (cell){xi, cix, fi, est, has_lo ? ci_low : NAN, has_lo ? ci_high : NAN,
                                   flagged != 0};
    if (2 * p->ncells >= p->chtcap) {
        if (!rehash(&p->cht, &p->chtcap, p->ncells, cell_key, p)) {
            p->ncells--;
            return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        }
    } else {
        size_t j = hash_place(xi, cix, fi) & (p->chtcap - 1);
        while (p->cht[j])
            j = (j + 1) & (p->chtcap - 1);
        p->cht[j] = p->ncells;
    }
    if (color)
        p->has_color = 1;
    if (facet)
        p->has_facet = 1;
    return SVY_OK;
}

size_t svy_plot_count(const svy_plot *p)
{
    return p->ncells;
}

/* ---- text measurement ---------------------------------------------------- */

/* Decode one code point; advances *s.  Invalid bytes count as U+FFFD. */
static uint32_t next_cp(const char **s)
{
    const unsigned char *u = (const unsigned char *)*s;
    uint32_t cp;
    int n;
    if (u[0] < 0x80) {
        cp = u[0];
        n = 0;
    } else if ((u[0] & 0xE0) == 0xC0) {
        cp = u[0] & 0x1F;
        n = 1;
    } else if ((u[0] & 0xF0) == 0xE0) {
        cp = u[0] & 0x0F;
        n = 2;
    } else if ((u[0] & 0xF8) == 0xF0) {
        cp = u[0] & 0x07;
        n = 3;
    } else {
        *s += 1;
        return 0xFFFD;
    }
    int i;
    for (i = 1; i <= n; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *s += i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (u[i] & 0x3F);
    }
    *s += n + 1;
    return cp;
}

/* East Asian wide and full-width ranges (UAX #11, the common blocks). */
static int is_wide(uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
           (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

/* Helvetica advance widths (1/1000 em) for U+0020..U+007E, from its AFM. */
static const unsigned short helv[95] = {
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, /* space../ */
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556,                               /* 0-9 */
    278, 278, 584, 584, 584, 556, 1015,                                             /* :..@ */
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, /* A-P */
    778, 722, 667, 611, 722, 667, 944, 667, 667, 611,                               /* Q-Z */
    278, 278, 278, 469, 556, 333,                                                   /* [..` */
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, /* a-p */
    556, 333, 500, 278, 556, 500, 722, 500, 500, 500,                               /* q-z */
    334, 260, 334, 584,                                                             /* {..~ */
};

static double cp_em(uint32_t cp)
{
    if (cp >= 0x20 && cp <= 0x7E)
        return helv[cp - 0x20] / 1000.0;
    if (is_wide(cp))
        return 1.0;
    if (cp < 0x20 || (cp >= 0x300 && cp <= 0x36F) || cp == 0x200B)
        return 0; /* controls and combining marks take no room */
    if (cp == 0x2026 || cp == 0x2014)
        return 1.0;
    return 0.6; /* other scripts: about an average Latin letter */
}

static double text_width_n(const char *s, size_t len, double fs)
{
    const char *end = s + len;
    double em = 0;
    while (s < end && *s)
        em += cp_em(next_cp(&s));
    return em * fs;
}

double svy_plot_text_width(const char *s, double font_size)
{
    return s ? text_width_n(s, strlen(s), font_size) : 0;
}

/* Bold Helvetica is about 7% wider on average. */
#define BOLD 1.07

/* Break text into lines no wider than maxw: at spaces, and between two
 * wide (CJK) characters, which need no space to break.  A newline in the
 * text always breaks.  Returns the number of lines; *out gets an array of
 * (start, length) pairs into s, which the caller frees. */
typedef struct span {
    size_t off, len;
} span;

static size_t wrap(const char *s, double fs, double maxw, span **out)
{
    span *v = NULL;
    size_t n = 0, cap = 0;
    const char *line = s, *brk = NULL, *p = s;
    double w = 0;
    uint32_t prev = 0;
    *out = NULL;
    while (*p) {
        const char *at = p;
        uint32_t cp = next_cp(&p);
        if (cp == '\n' || (at > line && (cp == ' ' || is_wide(cp) || is_wide(prev))))
            brk = at;
        double cw = cp_em(cp) * fs;
        if (cp == '\n' || (w + cw > maxw && brk && brk > line && cp != ' ')) {
            const char *stop = cp == '\n' ? at : brk;
            if (!svy_grow((void **)&v, &cap, n + 1, sizeof *v))
                break;
            size_t len = (size_t)(stop - line);
            while (len && line[len - 1] == ' ')
                len--;
            v[n++] = (span){(size_t)(line - s), len};
            line = cp == '\n' ? p : stop;
            while (*line == ' ')
                line++;
            brk = NULL;
            w = text_width_n(line, (size_t)(p - line), fs);
            if (cp == '\n')
                w = 0;
            prev = cp;
            continue;
        }
        w += cw;
        prev = cp;
    }
    if (*line && svy_grow((void **)&v, &cap, n + 1, sizeof *v))
        v[n++] = (span){(size_t)(line - s), strlen(line)};
    *out = v;
    return n;
}

/* ---- output -------------------------------------------------------------- */

/* v with exactly `decimals` decimals, rounded as printf's %.*f rounds (so
 * that a label agrees with svy-tab's tables digit for digit), but with '.'
 * as the point whatever the locale: %f follows LC_NUMERIC, and a decimal
 * comma in a program that called setlocale() would break the SVG. */
static void fmt_fixed(double v, int decimals, char *buf, size_t size)
{
    char tmp[400], digits[400];
    if (!isfinite(v) || fabs(v) > 1e15)
        v = 0; /* never drawn: no pixel or percentage is that large */
    snprintf(tmp, sizeof tmp, "%.*f", decimals, v);
    size_t nd = 0;
    int nonzero = 0;
    for (const char *q = tmp; *q; q++)
        if (*q >= '0' && *q <= '9') {
            digits[nd++] = *q;
            nonzero |= *q != '0';
        }
    size_t ip = nd > (size_t)decimals ? nd - (size_t)decimals : 0, o = 0;
    if (tmp[0] == '-' && nonzero && o + 1 < size)
        buf[o++] = '-';
    for (size_t i = 0; i < nd && o + 2 < size; i++) {
        if (i == ip && decimals > 0)
            buf[o++] = '.';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

/* Shortest of %.2f: two decimals are a hundredth of a pixel. */
static void fmt_num(double v, char *buf, size_t size)
{
    fmt_fixed(v, 2, buf, size);
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

/* A tiny printf: %s raw text, %e escaped text, %E escaped text with a
 * length (size_t then char *), %n a number (double), %d an int, %% a '%'.
 * Keeps every number in the document on one formatting path. */
static void out(FILE *f, const char *fmt, ...)
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
        case 'e': {
            const char *s = va_arg(ap, const char *);
            put_esc_n(f, s, strlen(s));
            break;
        }
        case 'E': {
            size_t len = va_arg(ap, size_t);
            put_esc_n(f, va_arg(ap, const char *), len);
            break;
        }
        case 'n': fmt_num(va_arg(ap, double), buf, sizeof buf); fputs(buf, f); break;
        case 'd': fprintf(f, "%d", va_arg(ap, int)); break;
        case '%': fputc('%', f); break;
        default: fputc('?', f); p--; break;
        }
    }
    va_end(ap);
}

/* ---- scales -------------------------------------------------------------- */

typedef struct scale {
    double lo, hi, step; /* domain, tick spacing */
    int nticks;
    double x0, x1;       /* pixel range */
    int decimals;        /* tick label decimals */
} scale;

static double sx(const scale *s, double v)
{
    return s->x0 + (v - s->lo) / (s->hi - s->lo) * (s->x1 - s->x0);
}

/* Ticks at 1, 2, 2.5 or 5 times a power of ten: the largest count not over
 * max_ticks.  All of them divide 1, so a domain within [0, 1] stays within. */
static void nice_scale(scale *s, double lo, double hi, int max_ticks, int percent)
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

static void fmt_value(double v, int percent, int decimals, char *buf, size_t size)
{
    fmt_fixed(percent ? v * 100 : v, decimals, buf, size);
    if (percent && strlen(buf) + 1 < size)
        strcat(buf, "%");
}

/* Label decimals: percent to one decimal, as tables print them. */
static void fmt_estimate(const svy_plot *p, double v, char *buf, size_t size)
{
    fmt_value(v, p->percent, p->percent ? 1 : 3, buf, size);
}

/* ---- layout -------------------------------------------------------------- */

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

static void layout_free(layout *L)
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

static double wrapped_height(size_t n, double fs) { return (double)n * fs * 1.3; }

static int do_layout(const svy_plot *p, layout *L)
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
    fmt_estimate(p, 1, buf, sizeof buf);
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
        size_t n = wrap(svy_strtab_str(&p->xs, i), FS_LABEL, L->label_w - 12 + 0.01, &v);
        free(v);
        if (n > L->label_lines)
            L->label_lines = n > 3 ? 3 : n;
    }
    L->band = fmax(L->band, (double)L->label_lines * FS_LABEL * 1.15 + 8);
    L->facet_h = p->has_facet ? 28 : 4;
    L->axis_h = 26;

    if (p->title)
        L->ntitle = wrap(p->title, FS_TITLE * BOLD, inner, &L->title);
    if (p->subtitle)
        L->nsub = wrap(p->subtitle, FS_SUB, inner, &L->sub);
    if (p->source)
        L->nsrc = wrap(p->source, FS_NOTE, inner, &L->src);
    if (p->footnote)
        L->nfoot = wrap(p->footnote, FS_NOTE, inner, &L->foot);
    return 1;
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
        out(f, "<text x=\"%n\" y=\"%n\" font-size=\"%n\"%s>%E</text>\n", x, y, fs, attrs,
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
        out(g->f, "<text x=\"%n\" y=\"%n\" font-size=\"%n\" fill=\"#333\">%e</text>\n",
            g->x + swatch_w + 6, g->y + 4.5, FS_LEGEND, label);
    g->x += w + gap_after;
    return at;
}

static void draw_dot(FILE *f, double cx, double cy, double r, const char *col, int hollow)
{
    if (hollow)
        out(f, "<circle cx=\"%n\" cy=\"%n\" r=\"%n\" fill=\"#fff\" stroke=\"%s\" stroke-width=\"1.8\"/>\n",
            cx, cy, r - 0.4, col);
    else
        out(f, "<circle cx=\"%n\" cy=\"%n\" r=\"%n\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"1\"/>\n",
            cx, cy, r, col);
}

static void draw_bar_swatch(FILE *f, double x, double y, double w, double h, size_t c,
                            const char *col, int hatched)
{
    if (hatched)
        out(f, "<rect x=\"%n\" y=\"%n\" width=\"%n\" height=\"%n\" fill=\"url(#svyplot-hatch-%d)\" "
               "stroke=\"%s\" stroke-width=\"1.2\"/>\n",
            x + 0.6, y + 0.6, fmax(w - 1.2, 0), fmax(h - 1.2, 0), (int)c, col);
    else
        out(f, "<rect x=\"%n\" y=\"%n\" width=\"%n\" height=\"%n\" fill=\"%s\"/>\n", x, y, w, h, col);
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
                out(g->f, "<line x1=\"%n\" y1=\"%n\" x2=\"%n\" y2=\"%n\" stroke=\"%s\" stroke-width=\"2\" "
                          "stroke-opacity=\"0.55\" stroke-linecap=\"round\"/>\n",
                    lx + 1, g->y, lx + 27, g->y, single);
                draw_dot(g->f, lx + 14, g->y, 4.5, single, 0);
            } else {
                out(g->f, "<path d=\"M%n %nV%nM%n %nH%nM%n %nV%n\" fill=\"none\" stroke=\"#222\" "
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
    long i = cell_find(p, x, c, f);
    return i < 0 ? NULL : &p->cells[i];
}

static void write_desc(const svy_plot *p, const layout *L, FILE *f)
{
    char a[32], b[32], c[32];
    char m[600];
    const char *group = svy_msg(p->lang, SVY_MSG_PLOT_GROUP);
    svy_msg_format(m, sizeof m, p->lang, p->kind == SVY_PLOT_DOT ? SVY_MSG_PLOT_DESC_DOT : SVY_MSG_PLOT_DESC_BAR,
                   svy_msg(p->lang, p->percent ? SVY_MSG_PLOT_PERCENTAGES : SVY_MSG_PLOT_PROPORTIONS),
                   (const char *)NULL);
    out(f, "<desc id=\"svyplot-desc\">%e", m);
    if (p->x_title) {
        svy_msg_format(m, sizeof m, p->lang, SVY_MSG_PLOT_DESC_BY, p->x_title, (const char *)NULL);
        out(f, "%e", m);
    }
    if (p->has_color) {
        svy_msg_format(m, sizeof m, p->lang, SVY_MSG_PLOT_DESC_COLOR, p->color_title ? p->color_title : group,
                       (const char *)NULL);
        out(f, "%e", m);
    }
    if (p->has_facet) {
        svy_msg_format(m, sizeof m, p->lang, SVY_MSG_PLOT_DESC_FACET, p->facet_title ? p->facet_title : group,
                       (const char *)NULL);
        out(f, "%e", m);
    }
    out(f, "%s", svy_msg(p->lang, SVY_MSG_PLOT_END));
    for (size_t fi = 0; fi < p->fs.n; fi++) {
        if (p->has_facet)
            out(f, "\n%e%s", svy_strtab_str(&p->fs, fi), svy_msg(p->lang, SVY_MSG_PLOT_COLON));
        for (size_t k = 0; k < p->xs.n; k++) {
            size_t xi = L->xorder[k];
            for (size_t ci = 0; ci < p->cs.n; ci++) {
                const cell *e = cell_at(p, xi, ci, fi);
                if (!e)
                    continue;
                fmt_estimate(p, e->est, a, sizeof a);
                if (p->has_color)
                    svy_msg_format(m, sizeof m, p->lang, SVY_MSG_PLOT_DESC_ITEM_COLOR, svy_strtab_str(&p->xs, xi),
                                   svy_strtab_str(&p->cs, ci), a, (const char *)NULL);
                else
                    svy_msg_format(m, sizeof m, p->lang, SVY_MSG_PLOT_DESC_ITEM, svy_strtab_str(&p->xs, xi), a,
                                   (const char *)NULL);
                out(f, "%e", m);
                if (!isnan(e->lo)) {
                    fmt_estimate(p, e->lo, b, sizeof b);
                    fmt_estimate(p, e->hi, c, sizeof c);
                    svy_msg_format(m, sizeof m, p->lang, SVY_MSG_PLOT_DESC_CI, b, c, (const char *)NULL);
                    out(f, "%e", m);
                }
                if (e->flagged)
                    out(f, "%s", svy_msg(p->lang, SVY_MSG_PLOT_DESC_FLAGGED));
                out(f, "%s", svy_msg(p->lang, SVY_MSG_PLOT_DESC_SEP));
            }
        }
    }
    out(f, "</desc>\n");
}

/* Bytes of s that fit in maxw with an ellipsis after them. */
static size_t fit_with_ellipsis(const char *s, size_t len, double fs, double maxw)
{
    const char *q = s, *cut = s, *end = s + len;
    double acc = cp_em(0x2026) * fs;
    while (q < end && *q) {
        acc += cp_em(next_cp(&q)) * fs;
        if (acc > maxw)
            break;
        cut = q;
    }
    return (size_t)(cut - s);
}

/* A category label, right-aligned at x and centred on cy: wrapped onto at
 * most max_lines lines; what still does not fit is cut with an ellipsis,
 * and then the whole label is kept as a tooltip (it is in the description
 * too, so nothing is lost to a screen reader). */
static void draw_label(FILE *f, const char *lab, double x, double cy, double maxw, size_t max_lines)
{
    span *v;
    size_t n = wrap(lab, FS_LABEL, maxw + 0.01, &v); /* (w + 12) - 12 need not be w */
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
        if (text_width_n(lab + v[i].off, v[i].len, FS_LABEL) > maxw + 0.01)
            cut = 1;
    double lh = FS_LABEL * 1.15;
    double y = cy + FS_LABEL * 0.35 - (double)(shown - 1) * lh / 2;
    for (size_t i = 0; i < shown; i++, y += lh) {
        const char *t = lab + v[i].off;
        size_t len = v[i].len;
        int ell = text_width_n(t, len, FS_LABEL) > maxw + 0.01 || (i + 1 == shown && shown < n);
        if (ell)
            len = fit_with_ellipsis(t, len, FS_LABEL, maxw);
        out(f, "<text x=\"%n\" y=\"%n\" font-size=\"%n\" fill=\"#222\" text-anchor=\"end\">", x, y,
            FS_LABEL);
        if (cut && i == 0)
            out(f, "<title>%e</title>", lab);
        out(f, "%E%s</text>\n", len, t, ell ? "\xE2\x80\xA6" : "");
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
        if (cell_find(p, x, k, f) >= 0) {
            if (k < c)
                rank++;
            present++;
        }
    return (double)rank - (double)(present - 1) / 2;
}

static void draw_panel(const svy_plot *p, const layout *L, FILE *f, size_t fi, double px,
                       double py, int labels)
{
    int dot = p->kind == SVY_PLOT_DOT;
    scale s;
    /* Shared across panels so that small multiples compare. */
    double lo = 1, hi = 0;
    for (size_t i = 0; i < p->ncells; i++) {
        const cell *e = &p->cells[i];
        double a = isnan(e->lo) ? e->est : e->lo, b = isnan(e->hi) ? e->est : e->hi;
        lo = fmin(lo, a);
        hi = fmax(hi, b);
    }
    /* Bars must start at zero; dots may zoom, but not when zero is near. */
    if (!dot || lo < 0.35 * hi)
        lo = 0;
    if (hi - lo < 0.01)
        hi = fmin(1, lo + 0.01);
    if (hi - lo < 0.01)
        lo = hi - 0.01;
    double plot_w = L->panel_w - L->value_room;
    /* About one tick per 80 px, but never so few that a panel shows only
     * its ends, nor so many that the grid turns into texture. */
    int max_ticks = (int)(plot_w / 80);
    if (max_ticks < 4)
        max_ticks = 4;
    if (max_ticks > 6)
        max_ticks = 6;
    nice_scale(&s, lo, hi, max_ticks, p->percent);
    s.x0 = px + 6;
    s.x1 = px + plot_w;

    double top = py + L->facet_h;
    double rows_h = (double)p->xs.n * L->band;
    if (p->has_facet)
        out(f, "<text x=\"%n\" y=\"%n\" font-size=\"%n\" font-weight=\"bold\" fill=\"#111\">%e</text>\n",
            s.x0, py + FS_FACET + 4, FS_FACET, svy_strtab_str(&p->fs, fi));

    /* Grid first, so that marks sit on top. */
    out(f, "<g stroke=\"#E4E4E4\" stroke-width=\"1\">\n");
    for (int t = 0; t < s.nticks; t++) {
        double x = sx(&s, s.lo + t * s.step);
        out(f, "<line x1=\"%n\" y1=\"%n\" x2=\"%n\" y2=\"%n\"/>\n", x, top, x, top + rows_h);
    }
    out(f, "</g>\n");
    if (!dot || s.lo == 0)
        out(f, "<line x1=\"%n\" y1=\"%n\" x2=\"%n\" y2=\"%n\" stroke=\"#8C8C8C\" stroke-width=\"1\"/>\n",
            sx(&s, s.lo), top, sx(&s, s.lo), top + rows_h);
    /* Tick labels */
    out(f, "<g font-size=\"%n\" fill=\"#555\" text-anchor=\"middle\">\n", FS_TICK);
    for (int t = 0; t < s.nticks; t++) {
        char buf[32];
        double v = s.lo + t * s.step;
        fmt_value(v, p->percent, s.decimals, buf, sizeof buf);
        out(f, "<text x=\"%n\" y=\"%n\">%s</text>\n", sx(&s, v), top + rows_h + 16, buf);
    }
    out(f, "</g>\n");

    size_t nc = p->cs.n;
    for (size_t k = 0; k < p->xs.n; k++) {
        size_t xi = L->xorder[k];
        double cy = top + ((double)k + 0.5) * L->band;
        if (labels)
            draw_label(f, svy_strtab_str(&p->xs, xi), px - 12, cy, L->label_w - 12, L->label_lines);
        if (dot)
            out(f, "<line x1=\"%n\" y1=\"%n\" x2=\"%n\" y2=\"%n\" stroke=\"#D0D0D0\" stroke-width=\"1\" "
                   "stroke-dasharray=\"1 3\"/>\n",
                s.x0, cy, s.x1, cy);
        for (size_t ci = 0; ci < nc; ci++) {
            const cell *e = cell_at(p, xi, ci, fi);
            if (!e)
                continue;
            const char *col = p->has_color ? color_of(p, ci) : palette[0];
            double y = cy + slot_offset(p, xi, ci, fi) * L->mark_step;
            double ex = sx(&s, e->est);
            int has_ci = !isnan(e->lo);
            double right = has_ci ? sx(&s, e->hi) : ex;
            if (dot) {
                if (has_ci)
                    out(f, "<line x1=\"%n\" y1=\"%n\" x2=\"%n\" y2=\"%n\" stroke=\"%s\" stroke-width=\"2\" "
                           "stroke-opacity=\"0.55\" stroke-linecap=\"round\"%s/>\n",
                        sx(&s, e->lo), y, right, y, col,
                        e->flagged ? " stroke-dasharray=\"3 3\"" : "");
                draw_dot(f, ex, y, L->mark / 2, col, e->flagged);
            } else {
                double x0 = sx(&s, 0);
                draw_bar_swatch(f, x0, y - L->mark / 2, ex - x0, L->mark, ci, col, e->flagged);
                if (has_ci) {
                    double cap = L->mark * 0.25;
                    double xl = sx(&s, e->lo);
                    out(f, "<path d=\"M%n %nV%nM%n %nH%nM%n %nV%n\" fill=\"none\" stroke=\"#222\" "
                           "stroke-width=\"1.2\"/>\n",
                        xl, y - cap, y + cap, xl, y, right, right, y - cap, y + cap);
                }
            }
        }
    }

    /* Value labels last, over every mark, with a white halo so that a
     * neighbour's interval line never runs through the digits. */
    out(f, "<g font-size=\"%n\" stroke=\"#fff\" stroke-width=\"3\" stroke-linejoin=\"round\" "
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
            char buf[32];
            fmt_estimate(p, e->est, buf, sizeof buf);
            out(f, "<text x=\"%n\" y=\"%n\" fill=\"%s\"%s>%s</text>\n", right + 5, y + FS_VALUE * 0.35,
                e->flagged ? "#777" : "#333", e->flagged ? " font-style=\"italic\"" : "", buf);
        }
    }
    out(f, "</g>\n");
}

svy_status svy_plot_write_svg(const svy_plot *p, FILE *f, const char *name, svy_err *err)
{
    SVY_FAIL_IF(p->ncells == 0, err, SVY_E_USAGE, "nothing to plot: no estimates");
    layout L;
    if (!do_layout(p, &L)) {
        layout_free(&L);
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

    out(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%n\" height=\"%n\" viewBox=\"0 0 %n %n\" "
           "role=\"img\" aria-labelledby=\"svyplot-title svyplot-desc\">\n",
        L.W, L.H, L.W, L.H);
    out(f, "<title id=\"svyplot-title\">%e</title>\n", p->title ? p->title : svy_msg(p->lang, SVY_MSG_PLOT_DEFAULT_TITLE));
    write_desc(p, &L, f);
    if (p->kind == SVY_PLOT_BAR && (any_flag)) {
        out(f, "<defs>\n");
        for (size_t c = 0; c <= SVY_PLOT_MAX_COLORS; c++) {
            if (c < SVY_PLOT_MAX_COLORS && c >= p->cs.n)
                continue;
            const char *col = c == SVY_PLOT_MAX_COLORS ? NEUTRAL : p->has_color ? color_of(p, c) : palette[0];
            out(f, "<pattern id=\"svyplot-hatch-%d\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" "
                   "patternTransform=\"rotate(45)\"><rect width=\"5\" height=\"5\" fill=\"#fff\"/>"
                   "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"5\" stroke=\"%s\" stroke-width=\"3\"/></pattern>\n",
                (int)c, col);
        }
        out(f, "</defs>\n");
    }
    out(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
    out(f, "<g font-family=\"%s\">\n", FONT_FAMILY);
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
        out(f, "<line x1=\"%n\" y1=\"%n\" x2=\"%n\" y2=\"%n\" stroke=\"#CCC\" stroke-width=\"1\"/>\n", PAD,
            ny, L.W - PAD, ny);
        ny += 4;
        if (L.nsrc)
            ny = text_lines(f, p->source, L.src, L.nsrc, PAD, ny, FS_NOTE, " fill=\"#555\"") + 4;
        if (L.nfoot)
            text_lines(f, p->footnote, L.foot, L.nfoot, PAD, ny - (L.nsrc ? FS_NOTE * 0.3 : 0),
                       FS_NOTE, " fill=\"#555\"");
    }
    out(f, "</g>\n</svg>\n");
    layout_free(&L);
    /* Flushed here so the failing write's errno says why ("write error"
     * alone did not). */
    errno = 0;
    if (fflush(f) != 0 || ferror(f)) {
        int e = errno ? errno : EIO;
        return svy_err_sys(err, e, name, 0, "write error");
    }
    return SVY_OK;
}
