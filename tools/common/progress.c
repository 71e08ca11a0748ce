/* The progress line every tool shows on a long run: after about two seconds,
 * when standard error is a terminal and -q was not given, one line of rows
 * read, rows per second and how far into the input, rewritten in place a few
 * times a second and erased when the run ends (or before any message).  The
 * library only counts (svy_reader_set_progress); the clock is read here,
 * once per SVY_PROGRESS_ROWS rows. */
#include "tool.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SHOW_AFTER 2.0 /* seconds into a pass */
#define EVERY 0.25     /* seconds between updates */

static struct {
    int on, shown;
    double pass_start, last_draw;
    long long last_rows;
} prog;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* 1234567 as "1,234,567". */
static void grouped(long long v, char *buf, size_t size)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", v), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < size; i++) {
        if (i && tmp[i - 1] != '-' && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
}

static void bytes_text(long long b, char *buf, size_t size)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void svy_tool_progress_clear(void)
{
    if (!prog.shown)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    prog.shown = 0;
}

static void on_progress(void *ctx, const svy_progress *p)
{
    (void)ctx;
    double t = now_s();
    if (p->done) {
        svy_tool_progress_clear();
        prog.last_rows = 0;
        prog.pass_start = t; /* a second pass starts its own clock */
        return;
    }
    if (p->rows < prog.last_rows) /* a new pass over the input */
        prog.pass_start = t;
    prog.last_rows = p->rows;
    double el = t - prog.pass_start;
    if (el < SHOW_AFTER || (prog.shown && t - prog.last_draw < EVERY))
        return;
    prog.last_draw = t;
    char rows[40], rate[40], line[200], b[32], s[32];
    grouped(p->rows, rows, sizeof rows);
    grouped((long long)((double)p->rows / el), rate, sizeof rate);
    int n = snprintf(line, sizeof line, "%s: %s rows, %s rows/s", svy_tool_name(), rows, rate);
    if (p->bytes >= 0 && p->size > 0 && n > 0 && (size_t)n < sizeof line) {
        bytes_text(p->bytes, b, sizeof b);
        bytes_text(p->size, s, sizeof s);
        snprintf(line + n, sizeof line - (size_t)n, ", %s of %s (%.0f%%)", b, s,
                 100.0 * (double)p->bytes / (double)p->size);
    }
    fflush(stdout);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    prog.shown = 1;
}

static void clear_at_exit(void) { svy_tool_progress_clear(); }

void svy_tool_progress(svy_reader *r, int quiet)
{
    const char *term = getenv("TERM");
    if (!r || quiet || !isatty(STDERR_FILENO) || (term && !strcmp(term, "dumb")))
        return;
    if (!prog.on) {
        prog.on = 1;
        prog.pass_start = now_s();
        atexit(clear_at_exit);
    }
    svy_reader_set_progress(r, on_progress, NULL);
}
