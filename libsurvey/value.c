/* Numbers in and out: lazy parsing of text cells, shortest round-trip output. */
#include "svy_private.h"
#include "numconv_private.h"

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

/* Past the fast path: fast_float (exact, as strtod) on the whole text, which
 * takes no hex and no blanks; a leading '+' (strtod's and ours, not
 * fast_float's) is skipped.  Texts of 512 bytes or more stay refused as
 * before.  Not inlined: the fast path then compiles as tight as it did. */
__attribute__((noinline)) static int parse_general(const char *s, size_t len, double *out)
{
    if (len >= 512)
        return 0;
    if (s[0] == '+') {
        s++;
        len--;
        if (!len || *s == '+' || *s == '-')
            return 0;
    }
    /* A number starts with a digit or a point (after its sign): text, inf
     * and nan end here, without fast_float. */
    char c = s[s[0] == '-' && len > 1];
    if (!((c >= '0' && c <= '9') || c == '.'))
        return 0;
    return svy_num_parse(s, len, out);
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

    /* Fast path: [-+]digits[.digits] with at most 15 significant digits
     * (not tried on longer texts: both paths round correctly, so which one
     * reads a number never changes its value). */
    if (len > 17)
        return parse_general(s, len, out);
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

    return parse_general(s, len, out);
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

/* The digits of u, two at a time. */
static size_t digits2(uint64_t u, char *buf)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                   "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                   "8081828384858687888990919293949596979899";
    char tmp[24];
    size_t n = sizeof tmp;
    while (u >= 100) {
        unsigned r = (unsigned)(u % 100);
        u /= 100;
        n -= 2;
        memcpy(tmp + n, pairs + 2 * r, 2);
    }
    if (u >= 10) {
        n -= 2;
        memcpy(tmp + n, pairs + 2 * u, 2);
    } else {
        tmp[--n] = (char)('0' + u);
    }
    memcpy(buf, tmp + n, sizeof tmp - n);
    return sizeof tmp - n;
}

/* %.15g, %.16g or %.17g, the first that reads back, in exact integer
 * arithmetic for |d| in [1e-4, 1e15) that is not an integer: d = m 2^e with
 * -66 <= e < 0, so d 10^s (s <= 21) is the 128-bit integer m 10^s shifted
 * right by -e, rounded half to even as printf rounds, and whether the P
 * digits read back is whether they lie within half a unit of the last
 * place of d (a quarter below a power of two), as strtod decides.  The
 * text is the one printf gives, fixed notation with trailing zeros
 * dropped; 0 when d is outside the range or would print with an exponent. */
#ifdef __SIZEOF_INT128__
__extension__ typedef unsigned __int128 u128;

static const uint64_t pow10_u64[20] = {1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
                                       10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
                                       100000000000ull, 1000000000000ull, 10000000000000ull,
                                       100000000000000ull, 1000000000000000ull, 10000000000000000ull,
                                       100000000000000000ull, 1000000000000000000ull,
                                       10000000000000000000ull};

static inline u128 p10x(int i)
{
    return i < 20 ? (u128)pow10_u64[i] : (u128)pow10_u64[19] * pow10_u64[i - 19];
}

static size_t dtoa_exact(double d, char *buf)
{
    uint64_t bits;
    memcpy(&bits, &d, 8);
    int neg = (int)(bits >> 63);
    int be = (int)((bits >> 52) & 0x7ff);
    if (be == 0 || be == 0x7ff)
        return 0;
    uint64_t m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
    int sh = 1075 - be; /* d = m / 2^sh */
    double a = fabs(d);
    if (!(a >= 1e-4 && a < 1e15) || sh <= 0 || sh > 66)
        return 0;
    static const u128 one = 1;
    /* Decimal exponent x: 10^x <= a < 10^(x+1), i.e. m 10^(16-x) in
     * [10^16 2^sh, 10^17 2^sh); from the binary exponent, then exactly. */
    int x = ((be - 1023) * 78913) >> 18;
    for (int k = 0; k < 4; k++) {
        if (16 - x < 0 || 16 - x > 21)
            return 0;
        u128 t = (u128)m * p10x(16 - x);
        if (t < (p10x(16) << sh))
            x--;
        else if (t >= (p10x(17) << sh))
            x++;
        else
            break;
    }
    if (16 - x < 0 || 16 - x > 21)
        return 0;
    for (int prec = 15; prec <= 17; prec++) {
        int sc = prec - 1 - x;
        if (sc < 0 || sc > 21)
            return 0;
        u128 t = (u128)m * p10x(sc);
        u128 q = t >> sh, r = t - (q << sh), half = one << (sh - 1);
        if (r > half || (r == half && (q & 1)))
            q++;
        int xe = x;
        if (q == p10x(prec)) { /* 9.99.. rounded up to 10.0.. */
            q = p10x(prec - 1);
            xe++;
            sc--;
            if (sc < 0)
                return 0;
        }
        if (xe < -4 || xe >= prec)
            return 0; /* printf would use an exponent */
        if (prec < 17) {
            /* q / 10^sc reads back as d: |q 2^sh - m 10^sc| < 10^sc / 2, or
             * < 10^sc / 4 below d when m is a power of two; a tie goes to the
             * even mantissa. */
            u128 qa = q << sh, ta = (u128)m * p10x(sc);
            u128 diff = qa > ta ? qa - ta : ta - qa;
            int below = qa < ta && m == (1ull << 52);
            u128 scaled = below ? diff * 4 : diff * 2;
            if (!(scaled < p10x(sc) || (scaled == p10x(sc) && !(m & 1))))
                continue;
        }
        char dig[24];
        size_t nd = digits2((uint64_t)q, dig), n = 0;
        while (nd > 1 && dig[nd - 1] == '0' && (long)nd > (long)xe + 1)
            nd--;
        if (neg)
            buf[n++] = '-';
        if (xe >= 0) {
            size_t ip = (size_t)xe + 1;
            for (size_t i = 0; i < ip; i++)
                buf[n++] = i < nd ? dig[i] : '0';
            if (nd > ip) {
                buf[n++] = '.';
                for (size_t i = ip; i < nd; i++)
                    buf[n++] = dig[i];
            }
        } else {
            buf[n++] = '0';
            buf[n++] = '.';
            for (int i = 0; i < -xe - 1; i++)
                buf[n++] = '0';
            for (size_t i = 0; i < nd; i++)
                buf[n++] = dig[i];
        }
        buf[n] = '\0';
        return n;
    }
    return 0;
}
#else
static size_t dtoa_exact(double d, char *buf)
{
    (void)d;
    (void)buf;
    return 0;
}
#endif

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

/* The search svy_dtoa did before Dragonbox, kept for the one case where
 * the two may differ: a power of two (its lower neighbour is nearer than
 * its upper one) whose shortest form has 16 or 17 digits; and for nan, inf
 * and -0. */
__attribute__((noinline, cold)) static size_t dtoa_search(double d, char *buf)
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
    size_t quick = dtoa_exact(d, buf);
    if (quick)
        return quick;
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

/* dig[0..nd) with the decimal exponent x (the value is d.ddd 10^x) as
 * printf's %.{prec}g lays them out with its trailing zeros dropped. */
static size_t format_g(int neg, const char *dig, size_t nd, int x, int prec, char *buf)
{
    size_t n = 0;
    if (neg)
        buf[n++] = '-';
    if (x < -4 || x >= prec) {
        buf[n++] = dig[0];
        if (nd > 1) {
            buf[n++] = '.';
            memcpy(buf + n, dig + 1, nd - 1);
            n += nd - 1;
        }
        buf[n++] = 'e';
        buf[n++] = x < 0 ? '-' : '+';
        unsigned ax = (unsigned)(x < 0 ? -x : x);
        if (ax >= 100)
            buf[n++] = (char)('0' + ax / 100);
        buf[n++] = (char)('0' + ax / 10 % 10);
        buf[n++] = (char)('0' + ax % 10);
    } else if (x >= 0) {
        size_t ip = (size_t)x + 1;
        for (size_t i = 0; i < ip; i++)
            buf[n++] = i < nd ? dig[i] : '0';
        if (nd > ip) {
            buf[n++] = '.';
            memcpy(buf + n, dig + ip, nd - ip);
            n += nd - ip;
        }
    } else {
        buf[n++] = '0';
        buf[n++] = '.';
        for (int i = 0; i < -x - 1; i++)
            buf[n++] = '0';
        memcpy(buf + n, dig, nd);
        n += nd;
    }
    buf[n] = '\0';
    return n;
}

/* What "%.15g", "%.16g" or "%.17g" prints, the first that reads back (for a
 * subnormal, the first of "%.1g".."%.17g"): Dragonbox's shortest digits are
 * those, because the correctly rounded P digits, when any P digits read back,
 * are the nearest of them to d (and 15 digits always name one double, so
 * fewer digits padded with zeros are the %.15g ones).  Only where d's
 * rounding interval is lopsided, at a power of two, may the nearest P digits
 * fall outside it while others lie inside: that case keeps the search. */
size_t svy_dtoa(double d, char *buf)
{
    if (!isfinite(d))
        return dtoa_search(d, buf);
    /* Integers (the bulk of survey data) print without any search. */
    double a = fabs(d);
    if (a < 1e15) {
        uint64_t u = (uint64_t)a;
        if ((double)u == a && !(d == 0 && signbit(d))) {
            size_t n = d < 0;
            buf[0] = '-';
            if (u < 10) {
                buf[n++] = (char)('0' + u);
            } else {
                n += digits2(u, buf + n);
            }
            buf[n] = '\0';
            return n;
        }
    }
    uint64_t sig, bits;
    int e;
    if (!svy_num_shortest(d, &sig, &e))
        return dtoa_search(d, buf); /* -0 */
    char dig[24];
    size_t nd = digits2(sig, dig);
    memcpy(&bits, &d, sizeof bits);
    if (nd >= 16 && !(bits & ((1ull << 52) - 1)))
        return dtoa_search(d, buf);
    return format_g(signbit(d) != 0, dig, nd, e + (int)nd - 1, nd < 15 ? 15 : (int)nd, buf);
}

/* Rounded as printf's %.*f rounds (so that a chart's label agrees with
 * svy-tab's tables digit for digit), but with '.' as the point whatever the
 * locale: %f follows LC_NUMERIC, and a decimal comma in a program that
 * called setlocale() would break a CSV or an SVG.  The digits are taken from
 * printf's text, whatever it uses for the point. */
void svy_fmt_fixed(double v, int decimals, char *buf, size_t size)
{
    /* DBL_MAX has 309 integer digits: with the point, 20 decimals, a sign
     * and the NUL, 332 bytes. */
    char tmp[352], digits[352];
    if (!size)
        return;
    if (!isfinite(v)) {
        snprintf(buf, size, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
        return;
    }
    if (decimals < 0)
        decimals = 0;
    if (decimals > 20)
        decimals = 20;
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
