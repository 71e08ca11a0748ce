/* Numbers in and out: lazy parsing of text cells, shortest round-trip output. */
#include "svy_private.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/value.h>

/* Powers of ten that are exact doubles: the fast path below divides by one,
 * which rounds correctly when the mantissa is exact too (Clinger). */
const double svy_pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int svy_parse_number(const char *s, size_t len, double *out)
{
    if (len == (size_t)-1)
        len = strlen(s);
    while (len && is_blank(*s)) {
        s++;
        len--;
    }
    while (len && is_blank(s[len - 1]))
        len--;
    if (!len)
        return 0;

    /* Fast path: [-+]digits[.digits] with at most 15 significant digits. */
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
    }
    uint64_t mant = 0;
    int ndig = 0, frac = 0, seen_dot = 0, any = 0;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            any = 1;
            if (mant || c != '0')
                ndig++;
            mant = mant * 10 + (uint64_t)(c - '0');
            if (seen_dot)
                frac++;
            if (ndig > 15)
                break;
        } else if (c == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            break;
        }
    }
    if (i == len && any && frac <= 22) {
        double d = (double)mant / svy_pow10_exact[frac];
        *out = neg ? -d : d;
        return 1;
    }

    /* General path: strtod on a bounded copy, refusing hex, inf, nan and
     * anything left over. */
    char buf[512];
    if (len >= sizeof buf)
        return 0;
    for (size_t k = 0; k < len; k++) {
        char c = s[k];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double d = strtod(buf, &end);
    if (end != buf + len || end == buf)
        return 0;
    *out = d;
    return 1;
}

int svy_value_number(const svy_value *v, double *out)
{
    if (v->missing != SVY_MISS_NONE)
        return 0;
    if (v->type == SVY_VAL_NUM) {
        *out = v->num;
        return 1;
    }
    return svy_parse_number(v->str, v->len, out);
}

static size_t utoa_rev(uint64_t u, char *buf)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    for (size_t k = 0; k < n; k++)
        buf[k] = tmp[n - 1 - k];
    return n;
}

/* A subnormal carries fewer significant digits than 15, so its shortest
 * form may have fewer (5e-324 was printed 4.94065645841247e-324). */
__attribute__((noinline, cold)) static size_t dtoa_subnormal(double d, char *buf)
{
    int n = 0;
    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(buf, SVY_DTOA_MAX, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return (size_t)n;
}

size_t svy_dtoa(double d, char *buf)
{
    if (isnan(d))
        return (size_t)snprintf(buf, SVY_DTOA_MAX, "nan");
    if (isinf(d))
        return (size_t)snprintf(buf, SVY_DTOA_MAX, d < 0 ? "-inf" : "inf");
    /* Integers (the bulk of survey data) print without the printf machinery. */
    if (d == floor(d) && fabs(d) < 1e15 && !(d == 0 && signbit(d))) {
        size_t n = 0;
        uint64_t u;
        if (d < 0) {
            buf[n++] = '-';
            u = (uint64_t)(-d);
        } else {
            u = (uint64_t)d;
        }
        n += utoa_rev(u, buf + n);
        buf[n] = '\0';
        return n;
    }
    /* Decimals of at most 15 significant digits in fixed notation (weights,
     * amounts, shares) without printf either: the fewest decimals k for which
     * an integer m gives m / 10^k == |d|.  Both are exact doubles, so the
     * division rounds correctly, as strtod does, and the text reads back; it
     * is also what %.15g prints, because |d| lies within a fraction of a
     * 15th-digit unit of m / 10^k. */
    double a = fabs(d);
    if (a >= 1e-4 && a < 1e15) {
        for (int k = 1; k <= 15; k++) {
            double x = a * svy_pow10_exact[k];
            if (x >= 1e15)
                break;
            double m0 = nearbyint(x);
            for (int dm = -1; dm <= 1; dm++) {
                double m = m0 + dm;
                if (m <= 0 || m / svy_pow10_exact[k] != a)
                    continue;
                char digits[24];
                size_t len = utoa_rev((uint64_t)m, digits), n = 0;
                if (d < 0)
                    buf[n++] = '-';
                if (len > (size_t)k) {
                    memcpy(buf + n, digits, len - (size_t)k);
                    n += len - (size_t)k;
                    buf[n++] = '.';
                    memcpy(buf + n, digits + len - (size_t)k, (size_t)k);
                    n += (size_t)k;
                } else {
                    buf[n++] = '0';
                    buf[n++] = '.';
                    for (size_t z = len; z < (size_t)k; z++)
                        buf[n++] = '0';
                    memcpy(buf + n, digits, len);
                    n += len;
                }
                buf[n] = '\0';
                return n;
            }
        }
    }
    if (__builtin_expect(a < DBL_MIN, 0))
        return dtoa_subnormal(d, buf);
    /* The shortest of 15, 16, 17 significant digits that reads back. */
    for (int prec = 15; prec <= 17; prec++) {
        int n = snprintf(buf, SVY_DTOA_MAX, "%.*g", prec, d);
        if (prec == 17 || strtod(buf, NULL) == d)
            return (size_t)n;
    }
    return 0; /* not reached */
}
