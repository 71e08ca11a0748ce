#include <criterion/criterion.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <survey/plot.h>
#ifdef SVY_HAVE_PNG
#include <png.h>
#endif

/* The chart as a string (caller frees). */
static char *render(const svy_plot *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f, "open_memstream");
    svy_err err;
    svy_err_clear(&err);
    svy_status st = svy_plot_write_svg(p, f, "mem", &err);
    fclose(f);
    cr_assert_eq(st, SVY_OK, "writing the chart failed: %s", err.msg);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void add_ok(svy_plot *p, const char *x, const char *c, const char *f, double e, double lo,
                   double hi, int flag)
{
    svy_err err;
    svy_err_clear(&err);
    svy_status st = svy_plot_add(p, x, c, f, e, lo, hi, flag, &err);
    cr_assert_eq(st, SVY_OK, "adding %s/%s/%s failed: %s", x, c ? c : "-", f ? f : "-", err.msg);
}

/* Pension by worker category and gender in two provinces, one flagged. */
static svy_plot *sample_plot(svy_plot_kind kind, int colors, int facets)
{
    static const char *cats[] = {"城镇职工", "Self-employed", "灵活就业人员", "Migrant worker"};
    static const char *gen[] = {"男 Male", "女 Female"};
    static const char *prov[] = {"广东", "四川"};
    static const double base[] = {0.82, 0.41, 0.27, 0.35};
    svy_plot *p = svy_plot_new();
    cr_assert_not_null(p);
    svy_plot_set_kind(p, kind);
    svy_plot_set_title(p, "Pension participation 养老保险参保率");
    svy_plot_set_subtitle(p, "Percent of workers, with 95% confidence intervals");
    svy_plot_set_source(p, "Source: NSFE-2021 (synthetic)");
    svy_plot_set_footnote(p, "Taylor linearisation; logit intervals.");
    svy_plot_set_color_title(p, "gender");
    svy_plot_set_x_title(p, "category");
    svy_plot_set_facet_title(p, "province");
    for (int f = 0; f < (facets ? 2 : 1); f++)
        for (int i = 0; i < 4; i++)
            for (int g = 0; g < (colors ? 2 : 1); g++) {
                double e = base[i] - 0.06 * g + 0.03 * f;
                add_ok(p, cats[i], colors ? gen[g] : NULL, facets ? prov[f] : NULL, e, e - 0.04,
                       e + 0.05, i == 2 && g == (colors ? 1 : 0));
            }
    return p;
}

Test(plot, text_width_uses_latin_metrics_and_full_width_cjk)
{
    cr_assert_float_eq(svy_plot_text_width("ab", 10), (0.556 + 0.556) * 10, 1e-9,
                       "Latin letters use Helvetica advance widths");
    cr_assert_float_eq(svy_plot_text_width("il", 10), (0.222 + 0.222) * 10, 1e-9,
                       "narrow letters are narrow");
    cr_assert_float_eq(svy_plot_text_width("中文", 13), 2 * 13, 1e-9,
                       "CJK ideographs are one em each");
    cr_assert_float_eq(svy_plot_text_width("ｶ", 10), 6, 1e-9,
                       "half-width katakana is not full width");
    cr_assert_float_eq(svy_plot_text_width("Ａ", 10), 10, 1e-9, "full-width forms are one em");
    cr_assert_float_eq(svy_plot_text_width("가", 10), 10, 1e-9, "hangul is one em");
    cr_assert_float_eq(svy_plot_text_width("", 10), 0, 1e-9, "empty text has no width");
    cr_assert_float_eq(svy_plot_text_width(NULL, 10), 0, 1e-9, "NULL has no width");
    cr_assert(svy_plot_text_width("灵活就业人员", 13) > svy_plot_text_width("Self-employed", 13) * 0.9,
              "six ideographs are about as wide as a 13-letter word, not half of it");
}

Test(plot, kind_names)
{
    svy_plot_kind k = SVY_PLOT_BAR;
    cr_assert(svy_plot_kind_from_name("dot", &k) && k == SVY_PLOT_DOT, "dot is a kind");
    cr_assert(svy_plot_kind_from_name("bar", &k) && k == SVY_PLOT_BAR, "bar is a kind");
    cr_assert_not(svy_plot_kind_from_name("pie", &k), "pie charts are not offered");
    cr_assert_not(svy_plot_kind_from_name(NULL, &k), "NULL is no kind");
}

Test(plot, add_rejects_values_a_rate_chart_cannot_show)
{
    svy_plot *p = svy_plot_new();
    svy_err err;
    cr_assert_eq(svy_plot_add(p, "a", NULL, NULL, 1.2, NAN, NAN, 0, &err), SVY_E_DATA,
                 "an estimate above 1 is not a proportion");
    cr_assert(strstr(err.msg, "outside [0, 1]"), "the message says why: %s", err.msg);
    cr_assert_eq(svy_plot_add(p, "a", NULL, NULL, -0.1, NAN, NAN, 0, &err), SVY_E_DATA,
                 "a negative estimate is not a proportion");
    cr_assert_eq(svy_plot_add(p, "a", NULL, NULL, NAN, NAN, NAN, 0, &err), SVY_E_DATA,
                 "an estimate must be a number");
    cr_assert_eq(svy_plot_add(p, "a", NULL, NULL, 0.5, 0.6, 0.7, 0, &err), SVY_E_DATA,
                 "a CI must contain its estimate");
    cr_assert(strstr(err.msg, "does not contain"), "the message says why: %s", err.msg);
    cr_assert_eq(svy_plot_add(p, "a", NULL, NULL, 0.5, 0.4, NAN, 0, &err), SVY_E_DATA,
                 "a CI with one end is broken");
    cr_assert_eq(svy_plot_add(p, "a", NULL, NULL, 0.5, -0.1, 0.6, 0, &err), SVY_E_DATA,
                 "a CI below zero cannot belong to a proportion");
    cr_assert_eq(svy_plot_add(p, "bad \xff", NULL, NULL, 0.5, NAN, NAN, 0, &err), SVY_E_ENCODING,
                 "labels must be UTF-8");
    cr_assert_eq(svy_plot_count(p), 0, "nothing failed was kept");
    cr_assert_eq(svy_plot_add(p, "a", NULL, NULL, 0.5, 0.5, 0.5, 0, &err), SVY_OK,
                 "a zero-width CI is fine: %s", err.msg);
    cr_assert_eq(svy_plot_add(p, "b", NULL, NULL, 0, NAN, NAN, 0, &err), SVY_OK,
                 "an estimate without CI is drawn without whisker: %s", err.msg);
    cr_assert_eq(svy_plot_add(p, "a", NULL, NULL, 0.3, NAN, NAN, 0, &err), SVY_E_DATA,
                 "two estimates cannot take the same place");
    cr_assert(strstr(err.msg, "second estimate"), "the message says why: %s", err.msg);
    svy_plot_free(p);
}

/* A chart of differences (svy-tab --diff) takes values in [-1, 1], draws
 * the zero line and signed values without a % sign. */
Test(plot, differences_are_signed_around_zero)
{
    svy_plot *p = svy_plot_new();
    svy_err err;
    svy_plot_set_differences(p, 1);
    cr_assert_eq(svy_plot_add(p, "a", NULL, NULL, -0.212, -0.25, -0.17, 0, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(svy_plot_add(p, "b", NULL, NULL, 0.05, -0.01, 0.11, 0, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(svy_plot_add(p, "c", NULL, NULL, -1.2, NAN, NAN, 0, &err), SVY_E_DATA,
                 "a difference of proportions is within [-1, 1]");
    cr_assert(strstr(err.msg, "outside [-1, 1]"), "the message says why: %s", err.msg);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(svy_plot_write_svg(p, f, "mem", &err), SVY_OK, "%s", err.msg);
    fclose(f);
    cr_assert(strstr(buf, ">\xE2\x88\x92" "21.2</text>"), "a negative value with a minus sign, in points");
    cr_assert(strstr(buf, ">+5.0</text>"), "a positive value with a plus sign");
    cr_assert(strstr(buf, "stroke=\"#444\" stroke-width=\"1.5\""), "the zero line");
    cr_assert_null(strstr(buf, "%</text>"), "no percent sign on differences");
    free(buf);
    svy_plot_free(p);
}

/* A caller points at its own column from err->var, never from the words of
 * the message (svy-plot used to search the message for "confidence"). */
Test(plot, add_errors_name_the_input_they_blame)
{
    svy_plot *p = svy_plot_new();
    svy_err err;
    cr_assert_eq(svy_plot_add(p, "a", NULL, NULL, 1.2, NAN, NAN, 0, &err), SVY_E_DATA);
    cr_assert_str_eq(err.var, "estimate");
    cr_assert_eq(svy_plot_add(p, "a", NULL, NULL, 0.5, 0.6, 0.7, 0, &err), SVY_E_DATA);
    cr_assert_str_eq(err.var, "ci_low", "the interval is blamed on its first column");
    cr_assert_eq(svy_plot_add(p, "a", NULL, NULL, 0.5, 0.4, NAN, 0, &err), SVY_E_DATA);
    cr_assert_str_eq(err.var, "ci_low");
    cr_assert_eq(svy_plot_add(p, "a", NULL, "bad \xff", 0.5, NAN, NAN, 0, &err), SVY_E_ENCODING);
    cr_assert_str_eq(err.var, "facet");
    cr_assert_eq(svy_plot_add(p, "confidence", NULL, NULL, 0.5, NAN, NAN, 0, &err), SVY_OK);
    cr_assert_eq(svy_plot_add(p, "confidence", NULL, NULL, 0.5, NAN, NAN, 0, &err), SVY_E_DATA);
    cr_assert_str_eq(err.var, "", "a second estimate blames no single input, whatever its label says");
    svy_plot_free(p);
}

Test(plot, at_most_eight_colours)
{
    svy_plot *p = svy_plot_new();
    svy_err err;
    char name[8];
    for (int i = 0; i < SVY_PLOT_MAX_COLORS; i++) {
        snprintf(name, sizeof name, "g%d", i);
        cr_assert_eq(svy_plot_add(p, "a", name, NULL, 0.5, NAN, NAN, 0, &err), SVY_OK,
                     "colour %d of 8 is allowed", i + 1);
    }
    cr_assert_eq(svy_plot_add(p, "b", "g3", NULL, 0.5, NAN, NAN, 0, &err), SVY_OK,
                 "a known colour group on a new row is fine");
    cr_assert_eq(svy_plot_add(p, "a", "g8", NULL, 0.5, NAN, NAN, 0, &err), SVY_E_DATA,
                 "a ninth colour cannot be told apart");
    cr_assert(strstr(err.msg, "colour groups"), "the message says why: %s", err.msg);
    svy_plot_free(p);
}

Test(plot, empty_chart_is_an_error)
{
    svy_plot *p = svy_plot_new();
    svy_err err;
    FILE *f = tmpfile();
    cr_assert_eq(svy_plot_write_svg(p, f, "x", &err), SVY_E_USAGE, "a chart needs estimates");
    fclose(f);
    svy_plot_free(p);
    svy_plot_free(NULL);
}

Test(plot, svg_has_accessible_title_and_description)
{
    svy_plot *p = sample_plot(SVY_PLOT_DOT, 1, 0);
    char *s = render(p);
    cr_assert(strncmp(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0,
              "a standalone SVG document starts with the XML declaration");
    cr_assert(strstr(s, "role=\"img\" aria-labelledby=\"svyplot-title svyplot-desc\""),
              "screen readers find the title and description");
    cr_assert(strstr(s, "<title id=\"svyplot-title\">Pension participation 养老保险参保率</title>"),
              "the title element carries the chart title");
    cr_assert(strstr(s, "<desc id=\"svyplot-desc\">Dot chart of percentages with confidence "
                        "intervals by category, coloured by gender."),
              "the description says what the chart shows");
    cr_assert(strstr(s, "灵活就业人员, 女 Female: 21.0% (CI 17.0% to 26.0%), flagged as unreliable;"),
              "the description lists each estimate with its CI and flag");
    cr_assert(strstr(s, "'Noto Sans CJK SC', 'WenQuanYi Zen Hei', sans-serif"),
              "the font list falls back to CJK fonts");
    cr_assert(strstr(s, ">城镇职工</text>"), "Chinese category labels are written as text");
    cr_assert(strstr(s, ">82.0%</text>"), "values are labelled in percent");
    cr_assert(strstr(s, ">Source: NSFE-2021 (synthetic)</text>"), "the source note is shown");
    cr_assert(strstr(s, ">Taylor linearisation; logit intervals.</text>"), "the footnote is shown");
    cr_assert(strstr(s, ">男 Male</text>") && strstr(s, ">gender:</text>"),
              "the legend names the colour groups and what they are");
    cr_assert(strstr(s, "#0072B2") && strstr(s, "#E69F00"), "Okabe-Ito blue and orange");
    free(s);
    svy_plot_free(p);
}

Test(plot, flagged_estimates_are_drawn_distinctly_and_explained)
{
    svy_plot *p = sample_plot(SVY_PLOT_DOT, 1, 0);
    char *s = render(p);
    cr_assert(strstr(s, "fill=\"#fff\" stroke=\"#E69F00\""),
              "the flagged estimate (female, orange) is a hollow dot");
    cr_assert(strstr(s, "Hollow: unreliable estimate (flagged)"), "the legend explains hollow dots");
    cr_assert(strstr(s, "font-style=\"italic\">21.0%</text>"), "its value label is set apart");
    free(s);
    svy_plot_free(p);

    p = sample_plot(SVY_PLOT_BAR, 1, 0);
    s = render(p);
    cr_assert(strstr(s, "<pattern id=\"svyplot-hatch-1\""), "bars get a hatch per colour");
    cr_assert(strstr(s, "fill=\"url(#svyplot-hatch-1)\" stroke=\"#E69F00\""),
              "the flagged bar is hatched in its colour");
    cr_assert(strstr(s, "Hatched: unreliable estimate (flagged)"), "the legend explains hatching");
    free(s);
    svy_plot_free(p);

    p = sample_plot(SVY_PLOT_DOT, 0, 0);
    svy_plot_set_flag_label(p, "suppressed under NCHS rules");
    s = render(p);
    cr_assert(strstr(s, ">Hollow: suppressed under NCHS rules</text>"),
              "the caller can say what the flag means");
    free(s);
    svy_plot_free(p);

    p = svy_plot_new();
    add_ok(p, "a", NULL, NULL, 0.5, 0.4, 0.6, 0);
    s = render(p);
    cr_assert_null(strstr(s, "unreliable"), "no flag, no flag legend");
    free(s);
    svy_plot_free(p);
}

Test(plot, text_is_xml_escaped)
{
    svy_plot *p = svy_plot_new();
    svy_plot_set_title(p, "R&D <staff> \"quoted\" 'single'");
    add_ok(p, "a<b & c>d", "x\"y", NULL, 0.5, 0.4, 0.6, 0);
    add_ok(p, "ctrl\x01here", "x\"y", NULL, 0.3, 0.2, 0.4, 0);
    char *s = render(p);
    cr_assert(strstr(s, "R&amp;D &lt;staff&gt; &quot;quoted&quot; &#39;single&#39;"), "title escaped");
    cr_assert(strstr(s, ">a&lt;b &amp; c&gt;d</text>"), "labels escaped");
    cr_assert(strstr(s, ">x&quot;y</text>"), "legend escaped");
    cr_assert_null(strstr(s, "\x01"), "control characters have no place in XML");
    cr_assert_null(strstr(s, "a<b"), "no raw markup from labels");
    free(s);
    svy_plot_free(p);
}

Test(plot, same_input_same_bytes)
{
    for (int k = 0; k < 2; k++) {
        svy_plot *a = sample_plot((svy_plot_kind)k, 1, 1), *b = sample_plot((svy_plot_kind)k, 1, 1);
        char *sa = render(a), *sb = render(b), *sa2 = render(a);
        cr_assert_str_eq(sa, sb, "two charts built alike are byte-identical");
        cr_assert_str_eq(sa, sa2, "writing twice gives the same bytes");
        free(sa);
        free(sb);
        free(sa2);
        svy_plot_free(a);
        svy_plot_free(b);
    }
}

Test(plot, sort_by_value_puts_the_largest_first)
{
    svy_plot *p = svy_plot_new();
    add_ok(p, "low", NULL, NULL, 0.1, NAN, NAN, 0);
    add_ok(p, "high", NULL, NULL, 0.9, NAN, NAN, 0);
    add_ok(p, "mid", NULL, NULL, 0.5, NAN, NAN, 0);
    char *s = render(p);
    cr_assert(strstr(s, ">low<") < strstr(s, ">high<") && strstr(s, ">high<") < strstr(s, ">mid<"),
              "input order by default");
    free(s);
    svy_plot_set_sort(p, SVY_PLOT_SORT_VALUE);
    s = render(p);
    char *h = strstr(s, ">high</text>"), *m = strstr(s, ">mid</text>"), *l = strstr(s, ">low</text>");
    cr_assert(h && m && l && h < m && m < l, "sorted: high, mid, low");
    free(s);
    svy_plot_free(p);
}

Test(plot, percent_axis_has_nice_ticks)
{
    svy_plot *p = svy_plot_new();
    svy_plot_set_kind(p, SVY_PLOT_BAR);
    add_ok(p, "a", NULL, NULL, 0.27, 0.22, 0.33, 0);
    add_ok(p, "b", NULL, NULL, 0.41, 0.36, 0.46, 0);
    char *s = render(p);
    cr_assert(strstr(s, ">0%</text>"), "bars start at zero");
    cr_assert(strstr(s, ">50%</text>") || strstr(s, ">45%</text>") || strstr(s, ">40%</text>"),
              "ticks are round percentages");
    cr_assert_null(strstr(s, ">60%</text>"), "the axis stops near the data, not at 100%%");
    cr_assert(strstr(s, ">27.0%</text>"), "value labels have one decimal");
    free(s);
    svy_plot_set_percent(p, 0);
    s = render(p);
    cr_assert(strstr(s, ">0.270</text>"), "proportions print as proportions");
    cr_assert(strstr(s, ">0.0</text>") && strstr(s, ">0.1</text>"), "proportion ticks share their decimals");
    cr_assert_null(strstr(s, "%</text>"), "no percent signs in proportion mode");
    free(s);
    svy_plot_free(p);
}

Test(plot, dot_chart_zooms_only_when_zero_is_far)
{
    svy_plot *p = svy_plot_new();
    add_ok(p, "a", NULL, NULL, 0.82, 0.8, 0.84, 0);
    add_ok(p, "b", NULL, NULL, 0.9, 0.88, 0.92, 0);
    char *s = render(p);
    cr_assert_null(strstr(s, ">0%</text>"), "values far from zero: the dot axis zooms in");
    free(s);
    svy_plot_set_kind(p, SVY_PLOT_BAR);
    s = render(p);
    cr_assert(strstr(s, ">0%</text>"), "a bar's length must mean something: always from zero");
    free(s);
    svy_plot_free(p);
}

Test(plot, long_text_wraps_and_long_labels_are_cut_with_a_tooltip)
{
    svy_plot *p = svy_plot_new();
    svy_plot_set_size(p, 400, 0);
    svy_plot_set_footnote(p, "Standard errors by Taylor linearisation for a stratified two-stage "
                             "cluster design; confidence intervals on the logit scale; degrees of "
                             "freedom are PSUs minus strata. 方法说明：按省分层的整群抽样设计，"
                             "以二阶段抽样抽取住户。");
    const char *lng = "An extraordinarily long category label that cannot fit in the column";
    add_ok(p, lng, NULL, NULL, 0.5, 0.4, 0.6, 0);
    char *s = render(p);
    cr_assert(count(s, "font-size=\"11.5\" fill=\"#555\">") >= 3,
              "the footnote wraps onto several lines at 400 px");
    cr_assert(strstr(s, "<title>An extraordinarily long category label that cannot fit in the "
                        "column</title>"),
              "a cut label keeps its full text as a tooltip");
    cr_assert(strstr(s, "\xE2\x80\xA6</text>"), "a cut label ends with an ellipsis");
    free(s);
    svy_plot_free(p);
}

Test(plot, facets_make_one_panel_each)
{
    svy_plot *p = sample_plot(SVY_PLOT_DOT, 1, 1);
    char *s = render(p);
    cr_assert(strstr(s, "font-weight=\"bold\" fill=\"#111\">广东</text>") &&
                  strstr(s, "font-weight=\"bold\" fill=\"#111\">四川</text>"),
              "each facet is titled");
    cr_assert_eq(count(s, ">城镇职工</text>"), 1,
                 "panels side by side share the category labels on the left");
    cr_assert(strstr(s, "one panel per province"), "the description names the facets");
    free(s);
    svy_plot_free(p);
}

Test(plot, fixed_height_is_respected)
{
    svy_plot *p = sample_plot(SVY_PLOT_BAR, 0, 0);
    svy_plot_set_size(p, 600, 700);
    char *s = render(p);
    cr_assert(strstr(s, "width=\"600\" height=\"700\" viewBox=\"0 0 600 700\""),
              "the size asked for is the size written");
    free(s);
    svy_plot_free(p);
}

/* ---- rendering to pixels ------------------------------------------------ */

#ifdef SVY_HAVE_PNG
typedef struct pixstats {
    long total, inked, blue, orange;
} pixstats;

static int near(const unsigned char *px, int r, int g, int b)
{
    return abs(px[0] - r) < 24 && abs(px[1] - g) < 24 && abs(px[2] - b) < 24;
}

static pixstats png_stats(const char *path)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, path), "%s is not a PNG: %s", path, img.message);
    img.format = PNG_FORMAT_RGBA;
    unsigned char *buf = malloc(PNG_IMAGE_SIZE(img));
    cr_assert_not_null(buf);
    cr_assert(png_image_finish_read(&img, NULL, buf, 0, NULL), "cannot decode %s: %s", path, img.message);
    pixstats st = {0, 0, 0, 0};
    st.total = (long)img.width * img.height;
    for (long i = 0; i < st.total; i++) {
        const unsigned char *px = buf + 4 * i;
        if (px[3] > 0 && (px[0] < 235 || px[1] < 235 || px[2] < 235))
            st.inked++;
        if (near(px, 0x00, 0x72, 0xB2))
            st.blue++;
        if (near(px, 0xE6, 0x9F, 0x00))
            st.orange++;
    }
    free(buf);
    png_image_free(&img);
    return st;
}
#endif

Test(plot, every_kind_renders_to_a_nonblank_png)
{
#ifndef SVY_HAVE_PNG
    cr_skip_test("built without libpng");
#else
    if (system("command -v rsvg-convert >/dev/null 2>&1") != 0)
        cr_skip_test("rsvg-convert (librsvg2-bin) is not installed");
    char dir[] = "/tmp/svy-plot-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir), "temporary folder");
    for (int k = 0; k < 2; k++)
        for (int variant = 0; variant < 3; variant++) {
            svy_plot *p = sample_plot((svy_plot_kind)k, variant >= 1, variant == 2);
            char svg[128], png[128], cmd[400];
            snprintf(svg, sizeof svg, "%s/k%d-v%d.svg", dir, k, variant);
            snprintf(png, sizeof png, "%s/k%d-v%d.png", dir, k, variant);
            FILE *f = fopen(svg, "w");
            cr_assert_not_null(f);
            svy_err err;
            cr_assert_eq(svy_plot_write_svg(p, f, svg, &err), SVY_OK, "%s", err.msg);
            fclose(f);
            svy_plot_free(p);
            snprintf(cmd, sizeof cmd, "rsvg-convert -o '%s' '%s'", png, svg);
            cr_assert_eq(system(cmd), 0, "rsvg-convert accepts the SVG (kind %d, variant %d)", k, variant);
            pixstats st = png_stats(png);
            cr_assert(st.total > 300 * 200, "the image has a size (kind %d variant %d)", k, variant);
            /* Text, axes and marks together ink a few percent of a chart;
             * a blank or all-black image is a failed render. */
            cr_assert(st.inked > st.total / 50 && st.inked < st.total / 2,
                      "kind %d variant %d: %ld of %ld pixels inked", k, variant, st.inked, st.total);
            cr_assert(st.blue > 50, "kind %d variant %d: the marks are drawn in blue (%ld px)", k,
                      variant, st.blue);
            if (variant >= 1)
                cr_assert(st.orange > 50, "kind %d variant %d: the second group is orange (%ld px)", k,
                          variant, st.orange);
            else
                cr_assert(st.orange < 5, "kind %d variant %d: one group, one colour", k, variant);
            unlink(svg);
            unlink(png);
        }
    rmdir(dir);
#endif
}

Test(plot, many_places_are_kept_apart)
{
    /* Past several rehashes of the label and place indexes. */
    svy_plot *p = svy_plot_new();
    svy_err err;
    char x[32], c[32];
    for (int i = 0; i < 600; i++)
        for (int g = 0; g < 3; g++) {
            snprintf(x, sizeof x, "row %d", i);
            snprintf(c, sizeof c, "g%d", g);
            cr_assert_eq(svy_plot_add(p, x, c, NULL, (i % 100) / 100.0, NAN, NAN, 0, &err), SVY_OK,
                         "%s/%s: %s", x, c, err.msg);
        }
    cr_assert_eq(svy_plot_count(p), 1800, "every estimate kept");
    cr_assert_eq(svy_plot_add(p, "row 599", "g1", NULL, 0.5, NAN, NAN, 0, &err), SVY_E_DATA,
                 "a duplicate is found among many");
    cr_assert_eq(svy_plot_add(p, "row 0", "g2", NULL, 0.5, NAN, NAN, 0, &err), SVY_E_DATA,
                 "the first place is still found");
    char *s = render(p);
    cr_assert(strstr(s, ">row 0</text>") && strstr(s, ">row 599</text>"), "all rows drawn");
    cr_assert(strstr(s, "\nrow 599, g2: 99.0%;"), "the last estimate is in the description");
    cr_assert(strstr(s, "\nrow 123, g0: 23.0%;"), "estimates keep their own values");
    free(s);
    svy_plot_free(p);
}

Test(plot, value_labels_round_as_the_tables_do)
{
    /* svy-tab prints percentages with printf("%.1f", p * 100): a chart must
     * not say 30.7% where the table beside it says 30.6%. */
    static const double v[] = {0.3065, 0.2105, 0.0005, 0.12345, 0.99995, 0.0};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        svy_plot *p = svy_plot_new();
        add_ok(p, "a", NULL, NULL, v[i], NAN, NAN, 0);
        char want[64];
        snprintf(want, sizeof want, ">%.1f%%</text>", v[i] * 100);
        char *s = render(p);
        cr_assert(strstr(s, want), "%.17g is labelled %s as printf rounds it", v[i], want);
        free(s);
        svy_plot_free(p);
    }
}

Test(plot, numbers_ignore_the_locale)
{
    const char *locs[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE.utf8", "ru_RU.UTF-8"};
    const char *got = NULL;
    for (size_t i = 0; i < sizeof locs / sizeof *locs && !got; i++)
        got = setlocale(LC_NUMERIC, locs[i]);
    if (!got)
        cr_skip_test("no locale with a decimal comma installed");
    svy_plot *p = sample_plot(SVY_PLOT_BAR, 1, 1);
    char *s = render(p);
    setlocale(LC_NUMERIC, "C");
    svy_plot *q = sample_plot(SVY_PLOT_BAR, 1, 1);
    char *c = render(q);
    cr_assert_str_eq(s, c, "a program's LC_NUMERIC (%s) must not change the SVG", got);
    free(s);
    free(c);
    svy_plot_free(p);
    svy_plot_free(q);
}

Test(plot, a_lone_estimate_sits_on_its_row_line)
{
    svy_plot *p = svy_plot_new();
    add_ok(p, "a", "male", NULL, 0.6, 0.55, 0.65, 0);
    add_ok(p, "a", "female", NULL, 0.5, 0.45, 0.55, 0);
    add_ok(p, "All", "All", NULL, 0.55, 0.52, 0.58, 0);
    char *s = render(p);
    /* The second row's dotted guide line, then the last dot drawn (All). */
    const char *guide = strstr(s, "stroke-dasharray=\"1 3\"");
    cr_assert_not_null(guide);
    guide = strstr(guide + 1, "stroke-dasharray=\"1 3\"");
    cr_assert_not_null(guide, "two rows, two guide lines");
    const char *l = guide;
    while (l > s && strncmp(l, "<line", 5) != 0)
        l--;
    double gy = 0, cy = 0;
    cr_assert(sscanf(strstr(l, "y1=\""), "y1=\"%lf\"", &gy) == 1, "guide line has a y");
    const char *c = strstr(guide, "<circle");
    cr_assert_not_null(c, "the lone estimate is drawn after its row's line");
    cr_assert(sscanf(strstr(c, "cy=\""), "cy=\"%lf\"", &cy) == 1, "dot has a y");
    cr_assert_float_eq(cy, gy, 1e-9, "a row's only estimate is centred on the row, not in a slot");
    free(s);
    svy_plot_free(p);
}
