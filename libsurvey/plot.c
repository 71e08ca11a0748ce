/* Rate charts as SVG: dot and bar charts with confidence intervals, colour
 * groups and small multiples.  This file collects the estimates; see
 * plot_private.h for where layout, text metrics and drawing live.
 */
#include "plot_private.h"

#include <survey/messages.h>
#include <survey/value.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    svy_u64map_free(&p->places);
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
void svy_plot_set_differences(svy_plot *p, int on) { p->diff = on != 0; }

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

/* A place's key: category id in the high half, then facet id, then the
 * colour (fewer than 8, SVY_PLOT_MAX_COLORS) in the low 3 bits.  Ids fit:
 * svy_strtab ids are below 2^32, and facets are capped at 2^29 on entry. */
static uint64_t place_key(size_t x, size_t c, size_t f)
{
    return (uint64_t)x << 32 | (uint64_t)f << 3 | (uint64_t)c;
}

/* Index of s in l, appending it when new; (size_t)-1 when out of memory. */
static size_t intern(svy_strtab *l, const char *s)
{
    long i = svy_strtab_intern(l, s, strlen(s), NULL);
    return i < 0 ? (size_t)-1 : (size_t)i;
}

long plot_cell_find(const svy_plot *p, size_t x, size_t c, size_t f)
{
    return svy_u64map_find(&p->places, place_key(x, c, f));
}

static svy_status check_label(const char *what, const char *s, svy_err *err)
{
    size_t bad = 0;
    if (s && !svy_utf8_valid(s, strlen(s), &bad))
        return svy_err_set(err, SVY_E_ENCODING, NULL, 0, 0, what,
                           "%s label is not valid UTF-8 (byte %zu)", what, bad + 1);
    return SVY_OK;
}

/* Errors name the input they blame in err->var (see plot.h), so that a
 * caller can point at its own column without reading the message. */
#define BLAME_IF(cond, err, code, var, ...)                                \
    do {                                                                   \
        if (cond)                                                          \
            return svy_err_set((err), (code), NULL, 0, 0, (var), __VA_ARGS__); \
    } while (0)

svy_status svy_plot_add(svy_plot *p, const char *x, const char *color, const char *facet,
                        double est, double ci_low, double ci_high, int flagged, svy_err *err)
{
    svy_status st;
    BLAME_IF(!x, err, SVY_E_USAGE, "category", "an estimate needs a category");
    if ((st = check_label("category", x, err)) || (st = check_label("colour", color, err)) ||
        (st = check_label("facet", facet, err)))
        return st;
    BLAME_IF(!isfinite(est), err, SVY_E_DATA, "estimate", "estimate is not a finite number");
    char a[SVY_DTOA_MAX], b[SVY_DTOA_MAX], cc[SVY_DTOA_MAX];
    svy_dtoa(est, a);
    svy_dtoa(ci_low, b);
    svy_dtoa(ci_high, cc);
    const double vmin = p->diff ? -1 : 0;
    BLAME_IF(est < vmin || est > 1, err, SVY_E_DATA, "estimate",
                p->diff ? "difference %s is outside [-1, 1]: a chart of differences shows differences of proportions"
                        : "estimate %s is outside [0, 1]: a rate chart shows proportions", a);
    int has_lo = !isnan(ci_low), has_hi = !isnan(ci_high);
    BLAME_IF(has_lo != has_hi, err, SVY_E_DATA, "ci_low", "confidence interval has only one end");
    if (has_lo) {
        BLAME_IF(!isfinite(ci_low) || !isfinite(ci_high), err, SVY_E_DATA, "ci_low",
                    "confidence interval is not finite");
        BLAME_IF(ci_low < vmin || ci_high > 1, err, SVY_E_DATA, "ci_low",
                    "confidence interval [%s, %s] is outside [%s, 1]", b, cc, p->diff ? "-1" : "0");
        /* A rounding slack: svy-tab's interval ends are printed shortest
         * round-trip, but an interval of width zero may sit a hair off. */
        BLAME_IF(ci_low > est + 1e-12 || ci_high < est - 1e-12, err, SVY_E_DATA, "ci_low",
                    "confidence interval [%s, %s] does not contain the estimate %s", b, cc, a);
    }

    long ci = svy_strtab_find(&p->cs, color ? color : "", color ? strlen(color) : 0);
    BLAME_IF(ci < 0 && p->cs.n >= SVY_PLOT_MAX_COLORS, err, SVY_E_DATA, "colour",
                "more than %d colour groups ('%s' would be the %zuth): hues beyond that cannot be "
                "told apart; filter the input or use facets",
                SVY_PLOT_MAX_COLORS, color ? color : "", p->cs.n + 1);

    size_t xi = intern(&p->xs, x);
    size_t cix = intern(&p->cs, color ? color : "");
    size_t fi = intern(&p->fs, facet ? facet : "");
    SVY_FAIL_IF(xi == (size_t)-1 || cix == (size_t)-1 || fi == (size_t)-1, err, SVY_E_NOMEM,
                "out of memory");
    BLAME_IF(fi >= (size_t)1 << 29, err, SVY_E_LIMIT, "facet", "more than %zu facets", (size_t)1 << 29);
    SVY_FAIL_IF(plot_cell_find(p, xi, cix, fi) >= 0, err, SVY_E_DATA,
                "a second estimate for the same place (category '%s'%s%s%s%s%s%s): "
                "pick one with a filter, or map the column that differs to colour or facet",
                x, color ? ", colour '" : "", color ? color : "", color ? "'" : "",
                facet ? ", facet '" : "", facet ? facet : "", facet ? "'" : "");
    SVY_FAIL_IF(!svy_grow((void **)&p->cells, &p->cap, p->ncells + 1, sizeof *p->cells), err,
                SVY_E_NOMEM, "out of memory");
    p->cells[p->ncells++] = (cell){xi, cix, fi, est, has_lo ? ci_low : NAN, has_lo ? ci_high : NAN,
                                   flagged != 0};
    int added;
    if (svy_u64map_get(&p->places, place_key(xi, cix, fi), p->ncells - 1, &added) < 0) {
        p->ncells--;
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
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

