/* The CSV reader's row loop for the common lines: one pass over the buffer
 * finds delimiters, newlines and quotes 64 bytes at a time and hands each
 * field to its value slot as it is found, in place (the byte after a field
 * becomes its NUL), many lines per call.
 *
 * It takes a line only when the line path (csv_read.c: fast_line, libcsv)
 * would deliver it without complaint, and then delivers exactly what that
 * path would: the header's number of fields; no NUL; no CR but one before
 * the LF; quotes only around whole fields ("" inside them), the field not
 * spanning lines; valid UTF-8 over the whole line when it has a byte past
 * ASCII.  Any other line is left, untouched, for the line path, which keeps
 * every message, row and column number it always gave. */
#define SCAN_FN scan_base
#define SCAN_LINKAGE static
#include "csv_scan_body.h"

int svy_csv_scan_base_only;

/* The column map's entry: a delivered column's byte offset in the value
 * array, or -1. */
static int slot_off(long slot)
{
    return slot < 0 ? (int)slot : (int)((size_t)slot * sizeof(svy_value));
}

int svy_csv_scan_init(csvctx *c)
{
    unsigned char d = (unsigned char)c->delim;
    if (d == '"' || d == '\n' || d == '\r' || d == 0 || d >= 0x80 || !c->ncols)
        return 0;
    c->smap = svy_calloc(c->ncols + 1, sizeof *c->smap);
    if (!c->smap)
        return 0;
    for (size_t k = 0; k < c->ncols; k++)
        c->smap[k] = slot_off(svy_reader_slot(c->r, k));
    c->smap[c->ncols] = SMAP_STOP;
    for (size_t k = c->ncols; k-- > 0 && c->smap[k] == -1;)
        c->smap[k] = SMAP_TAIL;
    c->scan = scan_base;
#if defined(SVY_SCAN_AVX2)
    if (!svy_csv_scan_base_only && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
        __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt"))
        c->scan = svy_csv_scan_avx2;
#endif
    return 1;
}

unsigned long svy_csv_scan_left;

size_t svy_csv_scan(csvctx *c, char *p, size_t start, size_t end, int *why)
{
    size_t next = c->scan(c, p, start, end, why);
    if (*why == SCAN_LEFT)
        __atomic_fetch_add(&svy_csv_scan_left, 1, __ATOMIC_RELAXED);
    return next;
}
