/* Text metrics for chart layout: UTF-8 decoding, estimated advance widths
 * (there is no font engine here, so widths err on the wide side), line
 * wrapping and ellipsis fitting. */
#include "plot_private.h"

#include <survey/value.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

double plot_text_width_n(const char *s, size_t len, double fs)
{
    const char *end = s + len;
    double em = 0;
    while (s < end && *s)
        em += cp_em(next_cp(&s));
    return em * fs;
}

double svy_plot_text_width(const char *s, double font_size)
{
    return s ? plot_text_width_n(s, strlen(s), font_size) : 0;
}



size_t plot_wrap(const char *s, double fs, double maxw, span **out)
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
            w = plot_text_width_n(line, (size_t)(p - line), fs);
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


size_t plot_fit_ellipsis(const char *s, size_t len, double fs, double maxw)
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

