/* Dates and times as ISO 8601, from Stata, SPSS and SAS numeric encodings. */
#include "writer_private.h"

#include <math.h>
#include <stdio.h>

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's algorithm). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = (long long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static size_t fmt_day(long long days1970, char *buf, size_t size)
{
    long long y;
    unsigned m, d;
    civil_from_days(days1970, &y, &m, &d);
    /* Years past 9999 or before 0 take ISO 8601's expanded form, with a sign. */
    int n = (y >= 0 && y <= 9999) ? snprintf(buf, size, "%04lld-%02u-%02u", y, m, d)
                                  : snprintf(buf, size, "%+05lld-%02u-%02u", y, m, d);
    return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* Seconds (possibly fractional) since 1970 -> YYYY-MM-DDTHH:MM:SS[.fff] */
static size_t fmt_datetime(double secs1970, char *buf, size_t size)
{
    double ms_total = round(secs1970 * 1000.0);
    double days = floor(ms_total / 86400000.0);
    double ms_of_day = ms_total - days * 86400000.0;
    size_t n = fmt_day((long long)days, buf, size);
    if (!n)
        return 0;
    long long ms = (long long)ms_of_day;
    int k;
    if (ms % 1000)
        k = snprintf(buf + n, size - n, "T%02lld:%02lld:%02lld.%03lld", ms / 3600000, ms / 60000 % 60,
                     ms / 1000 % 60, ms % 1000);
    else
        k = snprintf(buf + n, size - n, "T%02lld:%02lld:%02lld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60);
    return k < 0 || (size_t)k >= size - n ? 0 : n + (size_t)k;
}

static size_t fmt_time(double secs, char *buf, size_t size)
{
    double ms_total = round(secs * 1000.0);
    const char *sign = ms_total < 0 ? "-" : "";
    long long ms = (long long)fabs(ms_total);
    int k;
    if (ms % 1000)
        k = snprintf(buf, size, "%s%02lld:%02lld:%02lld.%03lld", sign, ms / 3600000, ms / 60000 % 60,
                     ms / 1000 % 60, ms % 1000);
    else
        k = snprintf(buf, size, "%s%02lld:%02lld:%02lld", sign, ms / 3600000, ms / 60000 % 60, ms / 1000 % 60);
    return k < 0 || (size_t)k >= size ? 0 : (size_t)k;
}

/* Every value is written in full: where a display format shows less than
 * the value holds (SPSS MOYR of 2010-08-11, a date with a time of day, a
 * Stata %tc shown as a time, a fractional %tm), the fuller form is written
 * instead of the display's, so that nothing stored is lost. */
size_t svy_date_iso(double v, svy_date_kind kind, svy_date_origin origin, char *buf, size_t size)
{
    if (!isfinite(v) || fabs(v) > 1e15)
        return 0;
    /* Days between the epochs and 1970-01-01. */
    const long long stata0 = days_from_civil(1960, 1, 1);
    const long long spss0 = days_from_civil(1582, 10, 14);
    int k;
    switch (origin) {
    case SVY_ORIGIN_SPSS:
        /* SPSS stores every date kind as seconds since 1582-10-14. */
        switch (kind) {
        case SVY_DATE_TIME:
            return fmt_time(v, buf, size);
        case SVY_DATE_DATETIME:
            return fmt_datetime(v + (double)spss0 * 86400.0, buf, size);
        case SVY_DATE_NONE:
            return 0;
        case SVY_DATE_MONTH_NAME:
            if (v >= 1 && v <= 12 && v == floor(v))
                return 0; /* a month number, written as it is */
            goto spss_day;
        case SVY_DATE_WEEKDAY:
            if (v >= 1 && v <= 7 && v == floor(v))
                return 0;
            goto spss_day;
        default:
        spss_day: {
            double day = floor(v / 86400.0);
            if (v != day * 86400.0) /* a time of day too */
                return fmt_datetime(v + (double)spss0 * 86400.0, buf, size);
            size_t n = fmt_day(spss0 + (long long)day, buf, size);
            /* MOYR shows the month: enough only for the first of it */
            if (n >= 10 && kind == SVY_DATE_MONTH && buf[n - 2] == '0' && buf[n - 1] == '1')
                n -= 3, buf[n] = '\0';
            return n;
        }
        }
    case SVY_ORIGIN_SAS:
        switch (kind) {
        case SVY_DATE_TIME:
            return fmt_time(v, buf, size);
        case SVY_DATE_DATETIME:
            return fmt_datetime(v + (double)stata0 * 86400.0, buf, size);
        case SVY_DATE_NONE:
            return 0;
        default:
            if (v != floor(v))
                return fmt_datetime((v + (double)stata0) * 86400.0, buf, size);
            return fmt_day(stata0 + (long long)floor(v), buf, size);
        }
    case SVY_ORIGIN_STATA:
    case SVY_ORIGIN_NONE:
    default:
        break;
    }
    /* Stata: each kind counts its own unit from 1960; a fraction of one
     * has no display, so the number is written. */
    if (kind != SVY_DATE_DAY && kind != SVY_DATE_DATETIME && kind != SVY_DATE_TIME && v != floor(v))
        return 0;
    long long i = (long long)floor(v);
    switch (kind) {
    case SVY_DATE_DAY:
        if (v != floor(v))
            return fmt_datetime((v + (double)stata0) * 86400.0, buf, size);
        return fmt_day(stata0 + i, buf, size);
    case SVY_DATE_DATETIME:
        return fmt_datetime(v / 1000.0 + (double)stata0 * 86400.0, buf, size);
    case SVY_DATE_TIME:
        /* %tcHH:MM shows a time; a value past the first day holds a date */
        if (v < 0 || v >= 86400000.0)
            return fmt_datetime(v / 1000.0 + (double)stata0 * 86400.0, buf, size);
        return fmt_time(v / 1000.0, buf, size);
    case SVY_DATE_WEEK: {
        /* Stata weeks: 52 per year, week 1 starts on Jan 1, week 52 takes the rest.
         * Written as the date the week starts. */
        long long y = 1960 + (i >= 0 ? i / 52 : -((-i + 51) / 52));
        long long w = i - (y - 1960) * 52;
        return fmt_day(days_from_civil(y, 1, 1) + w * 7, buf, size);
    }
    case SVY_DATE_MONTH: {
        long long y = 1960 + (i >= 0 ? i / 12 : -((-i + 11) / 12));
        long long m = i - (y - 1960) * 12 + 1;
        k = snprintf(buf, size, "%04lld-%02lld", y, m);
        break;
    }
    case SVY_DATE_QUARTER: {
        long long y = 1960 + (i >= 0 ? i / 4 : -((-i + 3) / 4));
        long long q = i - (y - 1960) * 4 + 1;
        k = snprintf(buf, size, "%04lld-Q%lld", y, q);
        break;
    }
    case SVY_DATE_HALFYEAR: {
        long long y = 1960 + (i >= 0 ? i / 2 : -((-i + 1) / 2));
        long long h = i - (y - 1960) * 2 + 1;
        k = snprintf(buf, size, "%04lld-H%lld", y, h);
        break;
    }
    case SVY_DATE_YEAR:
        k = snprintf(buf, size, "%04lld", i);
        break;
    default:
        return 0;
    }
    return k < 0 || (size_t)k >= size ? 0 : (size_t)k;
}
