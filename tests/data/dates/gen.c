/* Makes the files of this folder: dates whose display format shows less
 * than the value holds.  Not built by meson:
 *   cc -o /tmp/gen gen.c -lreadstat && (cd tests/data/dates && /tmp/gen)
 * spss-partial.sav: 2010-08-11 (and 2010-08-01, 2010-08-11 13:45:30) as
 *   MOYR8, WKYR10, DATE11, MONTH9 and WKDAY9; a month number 8 and a
 *   weekday 3 as MONTH9 and WKDAY9.
 * stata-partial.dta: 2010-08-11 13:45:30.250 as %tcHH:MM:SS, a time of
 *   day 13:45:30 as %tcHH:MM:SS, 606.5 as %tm, 18485.5 as %td. */
#include <readstat.h>
#include <stdio.h>

static ssize_t put(const void *b, size_t n, void *ctx) { return (ssize_t)fwrite(b, 1, n, ctx); }

static void make(const char *path, int dta, const char *const *names, const char *const *fmts, int nvars,
                 const double *rows, int nrows)
{
    FILE *f = fopen(path, "wb");
    readstat_writer_t *w = readstat_writer_init();
    readstat_set_data_writer(w, put);
    readstat_writer_set_file_timestamp(w, 1735689600);
    readstat_variable_t *v[16];
    for (int i = 0; i < nvars; i++) {
        v[i] = readstat_add_variable(w, names[i], READSTAT_TYPE_DOUBLE, 0);
        readstat_variable_set_format(v[i], fmts[i]);
    }
    if (dta) {
        readstat_writer_set_file_format_version(w, 118);
        readstat_begin_writing_dta(w, f, nrows);
    } else {
        readstat_begin_writing_sav(w, f, nrows);
    }
    for (int r = 0; r < nrows; r++) {
        readstat_begin_row(w);
        for (int i = 0; i < nvars; i++)
            readstat_insert_double_value(w, v[i], rows[r * nvars + i]);
        readstat_end_row(w);
    }
    readstat_end_writing(w);
    readstat_writer_free(w);
    fclose(f);
}

int main(void)
{
    /* SPSS: seconds since 1582-10-14; 2010-08-11 is day 13500864000 / 86400 */
    const double d11 = 13500864000.0, d01 = d11 - 10 * 86400.0, t = 13 * 3600 + 45 * 60 + 30;
    static const char *const sn[] = {"moyr", "wkyr", "date", "month", "wkday"};
    static const char *const sf[] = {"MOYR8", "WKYR10", "DATE11", "MONTH9", "WKDAY9"};
    const double srows[] = {d11, d11, d11, d11, d11,   d01, d01, d01, 8, 3,
                            d11 + t, d11 + t, d11 + t, d11 + t, d11 + t};
    make("spss-partial.sav", 0, sn, sf, 5, srows, 3);
    /* Stata: ms (or days, months) since 1960-01-01; 2010-08-11 is day 18485 */
    static const char *const tn[] = {"tc_time", "tm", "td"};
    static const char *const tf[] = {"%tcHH:MM:SS", "%tm", "%td"};
    const double ms = 18485.0 * 86400000.0 + t * 1000.0 + 250;
    const double trows[] = {ms, 606.5, 18485.5, t * 1000.0, 607, 18485};
    make("stata-partial.dta", 1, tn, tf, 3, trows, 2);
    return 0;
}
