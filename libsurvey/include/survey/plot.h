/* libsurvey: rate charts as self-contained SVG.
 *
 * A chart is built from a list of estimates, each placed by up to three
 * labels: a category (one row of the chart), a colour group (for example
 * gender) and a facet (one small multiple, for example a province).  The
 * categories, colours and facets appear in the order they were first added,
 * unless the chart is sorted by value.
 *
 * Output is deterministic: the same estimates and settings give the same
 * bytes (no time stamps, no locale, fixed number formatting).  Text is
 * XML-escaped; labels may be any UTF-8, Chinese included.
 */
#ifndef SURVEY_PLOT_H
#define SURVEY_PLOT_H

#include <stdio.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/codebook.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svy_plot svy_plot;

typedef enum svy_plot_kind {
    SVY_PLOT_DOT = 0, /* Cleveland dot chart: a dot per estimate, a line for its CI */
    SVY_PLOT_BAR      /* bars from zero with CI whiskers */
} svy_plot_kind;

typedef enum svy_plot_sort {
    SVY_PLOT_SORT_INPUT = 0, /* categories in the order first added */
    SVY_PLOT_SORT_VALUE      /* largest mean estimate (over colours and facets) first */
} svy_plot_sort;

/* The most colour groups a chart takes: beyond the eight Okabe-Ito colours,
 * hues can no longer be told apart, colour-blind or not. */
#define SVY_PLOT_MAX_COLORS 8

SVY_API svy_plot *svy_plot_new(void);
SVY_API void svy_plot_free(svy_plot *p);

/* "dot" or "bar" -> kind; returns 0 when the name is unknown. */
SVY_API int svy_plot_kind_from_name(const char *name, svy_plot_kind *kind);

/* Language of the words the chart adds itself (legend, description, the
 * default title): survey/messages.h.  English by default. */
SVY_API void svy_plot_set_lang(svy_plot *p, svy_lang lang);
SVY_API void svy_plot_set_kind(svy_plot *p, svy_plot_kind kind);
SVY_API void svy_plot_set_sort(svy_plot *p, svy_plot_sort sort);
/* Percent axis and value labels (default on); off shows proportions 0-1. */
SVY_API void svy_plot_set_percent(svy_plot *p, int on);
/* Estimates are differences of proportions, in [-1, 1] (svy-tab --diff):
 * the axis runs through zero, drawn as the reference line, bars start at
 * zero on either side, values are signed and, with percent, in percentage
 * points (no % sign).  Off by default. */
SVY_API void svy_plot_set_differences(svy_plot *p, int on);
/* Pixel size; 0 picks it from the content (default width 760, height as
 * the rows need).  A fixed height squeezes or stretches the rows. */
SVY_API void svy_plot_set_size(svy_plot *p, double width, double height);

/* Texts; NULL or "" leaves the part out.  The footnote is wrapped to the
 * chart width; the others are wrapped when they do not fit on one line. */
SVY_API svy_status svy_plot_set_title(svy_plot *p, const char *s);
SVY_API svy_status svy_plot_set_subtitle(svy_plot *p, const char *s);
SVY_API svy_status svy_plot_set_source(svy_plot *p, const char *s);
SVY_API svy_status svy_plot_set_footnote(svy_plot *p, const char *s);
/* What the colour groups are (shown before them in the legend), e.g. "gender". */
SVY_API svy_status svy_plot_set_color_title(svy_plot *p, const char *s);
/* What the categories and the facets are, for the screen-reader description. */
SVY_API svy_status svy_plot_set_x_title(svy_plot *p, const char *s);
SVY_API svy_status svy_plot_set_facet_title(svy_plot *p, const char *s);
/* What a flagged estimate is, in the legend after "Hollow: " or "Hatched: "
 * (default "unreliable estimate (flagged), interpret with caution"). */
SVY_API svy_status svy_plot_set_flag_label(svy_plot *p, const char *s);

/* Add one estimate.  x names its category (required); color and facet may be
 * NULL when the chart has none.  est must be finite; ci_low/ci_high NaN when
 * there is no interval (drawn without one).  flagged marks an estimate as
 * unreliable: drawn hollow (dot) or hatched (bar) and explained in the
 * legend.  Fails with SVY_E_DATA for a value outside [0,1], a CI that does
 * not contain the estimate, a second estimate for the same place, or a
 * ninth colour; SVY_E_ENCODING for a label that is not UTF-8.  err->var
 * names the input blamed, for a caller to point at its own column:
 * "estimate", "ci_low" (any fault of the interval), "category", "colour" or
 * "facet"; it is empty for a second estimate at one place. */
SVY_API svy_status svy_plot_add(svy_plot *p, const char *x, const char *color, const char *facet,
                                double est, double ci_low, double ci_high, int flagged, svy_err *err);

/* Number of estimates added. */
SVY_API size_t svy_plot_count(const svy_plot *p);

/* Write the chart as a standalone SVG document.  SVY_E_USAGE when nothing
 * was added; SVY_E_IO when writing fails (name is used in the message). */
SVY_API svy_status svy_plot_write_svg(const svy_plot *p, FILE *f, const char *name, svy_err *err);

/* Estimated advance width, in pixels, of UTF-8 text at a font size in a
 * sans-serif face: Helvetica metrics for Latin, full width (1 em) for CJK
 * ideographs, kana, hangul and full-width forms.  Used for layout. */
SVY_API double svy_plot_text_width(const char *s, double font_size);

#ifdef __cplusplus
}
#endif

#endif
