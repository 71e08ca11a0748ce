#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/value.h>

#include "svy_private.h"

/* The tests' random texts: fixed seeds, so a failure repeats. */
static uint64_t xorshift(uint64_t s)
{
    s ^= s << 13;
    s ^= s >> 7;
    return s ^ s << 17;
}

static uint64_t lcg(uint64_t x)
{
    return x * 6364136223846793005ull + 1442695040888963407ull;
}

static void roundtrip(double d)
{
    char buf[SVY_DTOA_MAX];
    size_t n = svy_dtoa(d, buf);
    cr_assert_eq(n, strlen(buf));
    double back = strtod(buf, NULL);
    cr_assert(memcmp(&back, &d, sizeof d) == 0, "%.17g printed as %s reads back as %.17g", d, buf, back);
}

Test(value, dtoa_round_trips_extremes)
{
    double cases[] = {0.0, -0.0, 1.0, -1.0, 0.1, 1.0 / 3.0, 2.0 / 3.0, 1e15, 1e16, 123456789012345678.0,
                      DBL_MAX, -DBL_MAX, DBL_MIN, 5e-324, 1e-300, 9007199254740993.0, 0.30000000000000004,
                      27.4, 1e22, 1e23, 4.35, 123.456, -7.0e-10};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        roundtrip(cases[i]);
    srand(42);
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (isfinite(d))
            roundtrip(d);
    }
}

Test(value, dtoa_is_shortest_for_common_values)
{
    char buf[SVY_DTOA_MAX];
    svy_dtoa(0.1, buf);
    cr_assert_str_eq(buf, "0.1");
    svy_dtoa(5000, buf);
    cr_assert_str_eq(buf, "5000");
    svy_dtoa(-42, buf);
    cr_assert_str_eq(buf, "-42");
    svy_dtoa(0.274, buf);
    cr_assert_str_eq(buf, "0.274");
    svy_dtoa(-0.0, buf);
    cr_assert_str_eq(buf, "-0");
    svy_dtoa(NAN, buf);
    cr_assert_str_eq(buf, "nan");
}

Test(value, parse_number_accepts_decimal_forms)
{
    double d;
    cr_assert(svy_parse_number("42", (size_t)-1, &d) && d == 42);
    cr_assert(svy_parse_number(" -3.25 ", (size_t)-1, &d) && d == -3.25, "blanks around a number are allowed");
    cr_assert(svy_parse_number("1e5", (size_t)-1, &d) && d == 1e5);
    cr_assert(svy_parse_number("0.1", (size_t)-1, &d) && d == 0.1, "fast path must round like strtod");
    cr_assert(svy_parse_number("12345678901234567890", (size_t)-1, &d) && d == 12345678901234567890.0);
    cr_assert(svy_parse_number("0.30000000000000004", (size_t)-1, &d) && d == 0.30000000000000004);
    cr_assert(svy_parse_number("5000xyz", 4, &d) && d == 5000, "length bounds the text");
}

Test(value, parse_number_rejects_non_numbers)
{
    double d;
    const char *bad[] = {"", " ", "abc", "5,000", "5k", "0x1A", "inf", "nan", "1.2.3", "35岁", "-", ".", "1e"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_not(svy_parse_number(bad[i], (size_t)-1, &d), "'%s' must not parse as a number", bad[i]);
}

Test(value, value_number_reads_text_lazily)
{
    svy_value v = {.type = SVY_VAL_STR, .str = "17", .len = 2};
    double d = 0;
    cr_assert(svy_value_number(&v, &d) && d == 17);
    v.missing = SVY_MISS_SYSTEM;
    cr_assert_not(svy_value_number(&v, &d), "a missing value has no number");
    svy_value n = {.type = SVY_VAL_NUM, .num = 2.5};
    cr_assert(svy_value_number(&n, &d) && d == 2.5);
}

/* The printf-free path for short decimals must print what the %.15g..%.17g
 * search prints, digit for digit. */
static size_t dtoa_by_printf(double d, char *buf)
{
    for (int prec = 15; prec <= 17; prec++) {
        int n = snprintf(buf, SVY_DTOA_MAX, "%.*g", prec, d);
        if (prec == 17 || strtod(buf, NULL) == d)
            return (size_t)n;
    }
    return 0;
}

Test(value, dtoa_fast_path_matches_printf)
{
    uint64_t s = 88172645463325252ULL;
    char a[SVY_DTOA_MAX], b[SVY_DTOA_MAX];
    for (long i = 0; i < 300000; i++) {
        s = xorshift(s);
        double d;
        switch (i % 4) {
        case 0: d = (double)(s % 100000000) / pow(10, (double)(s % 13)); break;
        case 1: d = (double)(s % 1000000) / 997.0; break;
        case 2: d = exp(9 + 1.2 * (double)(s % 1000000) / 1e6); break;
        default: d = (double)(s % 1000000000000000ULL) / pow(10, (double)(s % 20)); break;
        }
        if (s & 1024)
            d = -d;
        if (d == floor(d))
            continue; /* the integer path is another test's */
        dtoa_by_printf(d, a);
        svy_dtoa(d, b);
        cr_assert_str_eq(b, a, "%.17g: fast path %s, printf %s", d, b, a);
    }
}

/* The exact integer path for values of 16 and 17 digits (raked weights):
 * random bit patterns over the whole range it takes, its edges (1e-4,
 * 1e15, powers of two and of ten, neighbours of each) and products like
 * raking's, against printf digit for digit. */
Test(value, dtoa_exact_path_matches_printf)
{
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    char a[SVY_DTOA_MAX], b[SVY_DTOA_MAX];
    for (long i = 0; i < 1500000; i++) {
        s = xorshift(s);
        double d;
        switch (i % 5) {
        case 0: { /* any bits with an exponent from 2^-15 to 2^51 */
            uint64_t bits = (s & ((1ULL << 52) - 1)) | (uint64_t)(1023 - 15 + (s >> 52) % 67) << 52;
            memcpy(&d, &bits, 8);
            break;
        }
        case 1: d = ldexp(1.0, (int)(s % 64) - 14); break;
        case 2: d = pow(10, (double)((int)(s % 20) - 4)); break;
        case 3: d = (double)(s % 100000 + 1) / 7.0 * 1.0000001; break;
        default: d = 0.0001 * (double)(s % 1000000007) * 1.2345678901234567; break;
        }
        if (i % 3 == 1)
            d = nextafter(d, (s & 2) ? INFINITY : 0);
        if (s & 1024)
            d = -d;
        if (d == floor(d) || !isfinite(d))
            continue;
        dtoa_by_printf(d, a);
        svy_dtoa(d, b);
        cr_assert_str_eq(b, a, "%.17g (bits %llx): %s, printf %s", d, (unsigned long long)i, b, a);
    }
}

/* The per-row callers' inline parser must give what svy_parse_number gives,
 * bit for bit, and leave everything it does not take to it. */
Test(value, inline_number_parser_agrees_with_parse_number)
{
    const char *forms[] = {"0", "-0", "7", "364.08", "-12.5", "5.", ".5", "-.5", "0001.50", "999999999999999",
                           "99999999999.9999", "0.000000000000001", "123456789012345", "1234567890123456",
                           "1.234567890123456", "", "-", ".", "1.2.3", "1e5", " 1", "1 ", "+1", "--1", "1-",
                           "12a", "0x10", "١٢"};
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        double a = -1, b = -1;
        int fa = svy_number_fast(forms[i], strlen(forms[i]), &a);
        int fb = svy_parse_number(forms[i], strlen(forms[i]), &b);
        cr_assert(!fa || (fb && memcmp(&a, &b, sizeof a) == 0), "'%s': inline %d %.17g, parse %d %.17g", forms[i],
                  fa, a, fb, b);
    }
    /* random decimals of 1 to 15 digits with the point anywhere */
    uint64_t x = 42;
    char buf[40];
    for (int i = 0; i < 200000; i++) {
        x = lcg(x);
        int nd = 1 + (int)((x >> 33) % 15), dot = (int)((x >> 40) % (unsigned)(nd + 1)), n = 0;
        if ((x >> 50) & 1)
            buf[n++] = '-';
        uint64_t y = x;
        for (int k = 0; k < nd; k++) {
            if (k == dot && dot)
                buf[n++] = '.';
            y = y * 2862933555777941757ull + 3037000493ull;
            buf[n++] = (char)('0' + (y >> 40) % 10);
        }
        double a, b;
        cr_assert(svy_number_fast(buf, (size_t)n, &a), "'%.*s' is the inline parser's", n, buf);
        cr_assert(svy_parse_number(buf, (size_t)n, &b));
        cr_assert(memcmp(&a, &b, sizeof a) == 0, "'%.*s': %.17g vs %.17g", n, buf, a, b);
        buf[n] = '\0';
        cr_assert(a == strtod(buf, NULL), "'%s' rounds as strtod does", buf);
    }
}

/* The byte loop the inline parser had before its word-at-a-time form: the
 * new one must answer as it did, bit for bit, on every text. */
static int number_fast_bytewise(const char *s, size_t len, double *out)
{
    /* svy_number_fast_loop is that loop, unchanged; the word form now
     * sends it only texts under 4 bytes, so call it for every length */
    size_t i = len > 0 && s[0] == '-';
    if (len - i == 0 || len - i > 16)
        return 0;
    return svy_number_fast_loop(s, i, len, (int)i, out);
}

static void fast_like_bytewise(const char *t, size_t n)
{
    /* the text alone in its allocation: a read past either end is ASan's */
    char *s = malloc(n ? n : 1);
    cr_assert(s);
    memcpy(s, t, n);
    double a = -7, b = -7;
    int fa = svy_number_fast(s, n, &a), fb = number_fast_bytewise(s, n, &b);
    cr_assert(fa == fb && memcmp(&a, &b, sizeof a) == 0, "'%.*s' (%zu bytes): %d %.17g, byte loop %d %.17g", (int)n,
              t, n, fa, a, fb, b);
    free(s);
}

/* Every text of 0 to 6 bytes over digits, '.', '-' and bytes next to them
 * ('/', ':', '+', NUL, 0xAE, 0xB0), then random texts of up to 18 bytes,
 * mostly digits with points and signs. */
Test(value, inline_number_parser_word_form_matches_byte_loop)
{
    const char alpha[] = {'0', '1', '5', '9', '.', '-', '/', ':', '+', '\0', (char)0xAE, (char)0xB0};
    const size_t na = sizeof alpha;
    char t[24];
    for (size_t n = 0; n <= 6; n++) {
        size_t total = 1;
        for (size_t k = 0; k < n; k++)
            total *= na;
        for (size_t c = 0; c < total; c++) {
            size_t y = c;
            for (size_t k = 0; k < n; k++, y /= na)
                t[k] = alpha[y % na];
            fast_like_bytewise(t, n);
        }
    }
    uint64_t x = 7;
    for (int r = 0; r < 2000000; r++) {
        x = lcg(x);
        size_t n = (size_t)((x >> 59) + (x >> 61)) % 19;
        uint64_t y = x;
        for (size_t k = 0; k < n; k++) {
            y = y * 2862933555777941757ull + 3037000493ull;
            unsigned v = (unsigned)(y >> 40) % 64;
            t[k] = v < 52 ? (char)('0' + v % 10) : v < 58 ? '.' : v < 61 ? '-' : alpha[v % na];
        }
        fast_like_bytewise(t, n);
    }
}

/* Fixed decimals as printf's %.*f rounds, but always with a '.' point. */
Test(value, fmt_fixed_matches_printf_in_any_locale)
{
    static const double v[] = {0, 0.5, 0.125, 0.375, 2.675, -0.0004, -1.25, 123456.789, 1e-7, 99.95};
    char got[64], want[400];
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        for (int d = 0; d <= 4; d++) {
            snprintf(want, sizeof want, "%.*f", d, v[i]);
            svy_fmt_fixed(v[i], d, got, sizeof got);
            const char *w = want;
            if (w[0] == '-' && strspn(w + 1, "0.") == strlen(w + 1))
                w++; /* a negative that rounds to zero loses its sign */
            cr_assert_str_eq(got, w, "%.17g with %d decimals", v[i], d);
        }
    svy_fmt_fixed(NAN, 2, got, sizeof got);
    cr_assert_str_eq(got, "nan");
    svy_fmt_fixed(-INFINITY, 2, got, sizeof got);
    cr_assert_str_eq(got, "-inf");
    char big[400];
    svy_fmt_fixed(-DBL_MAX, 20, big, sizeof big);
    snprintf(want, sizeof want, "%.0f", -DBL_MAX);
    cr_assert(strncmp(big, want, strlen(want)) == 0 && strlen(big) == strlen(want) + 21, "all of DBL_MAX's digits");
    svy_fmt_fixed(3.14159, 3, got, 4);
    cr_assert_str_eq(got, "3.1", "cut to the buffer");
}

/* svy_dtoa (Dragonbox underneath) against printf over every kind of double:
 * random bit patterns of the whole range, subnormals, powers of two (the
 * lopsided rounding intervals) and their neighbours, digit for digit with
 * the %.15g..%.17g search (%.1g.. for subnormals), and read back by strtod. */
static size_t dtoa_reference(double d, char *buf)
{
    int first = fabs(d) < DBL_MIN && d != 0 ? 1 : 15;
    for (int prec = first; prec <= 17; prec++) {
        int n = snprintf(buf, SVY_DTOA_MAX, "%.*g", prec, d);
        if (prec == 17 || strtod(buf, NULL) == d)
            return (size_t)n;
    }
    return 0;
}

Test(value, dtoa_matches_printf_over_all_doubles)
{
    uint64_t s = 0x2545F4914F6CDD1DULL;
    char a[SVY_DTOA_MAX], b[SVY_DTOA_MAX];
    for (long i = 0; i < 1200000; i++) {
        s = xorshift(s);
        double d;
        uint64_t bits;
        switch (i % 4) {
        case 0: bits = s; break;                                     /* anything */
        case 1: bits = s & ((1ULL << 52) - 1); break;                /* subnormal */
        case 2: bits = (s % 2046 + 1) << 52; break;                  /* a power of two */
        default: bits = (((s >> 12) % 2046 + 1) << 52) + s % 5 - 2; break; /* next to one */
        }
        memcpy(&d, &bits, 8);
        if (!isfinite(d))
            continue;
        if (s & 1)
            d = -d;
        size_t na = dtoa_reference(d, a), nb = svy_dtoa(d, b);
        cr_assert_str_eq(b, a, "bits %016llx: %s, printf %s", (unsigned long long)bits, b, a);
        cr_assert_eq(na, nb);
        double back = strtod(b, NULL);
        cr_assert(memcmp(&back, &d, 8) == 0, "%s reads back", b);
    }
    const double edge[] = {5e-324, DBL_MIN, DBL_MAX, 1e-5, 1e-4, 9.999999999999999e-5, 1e15, 1e16, 1e17,
                           1e21, 1e22, 1e23, 1e100, 1e-100, 2.2250738585072009e-308, 0.1, 0.2, 0.3};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
        dtoa_reference(edge[i], a);
        svy_dtoa(edge[i], b);
        cr_assert_str_eq(b, a, "%.17g", edge[i]);
    }
}

/* svy_parse_number (fast_float underneath) against strtod, bit for bit:
 * every double printed at 17, 16, 15 and 6 significant digits in both
 * notations, long and halfway texts, and the forms strtod takes or refuses. */
static void parse_like_strtod(const char *t)
{
    char *end;
    double want = strtod(t, &end), got = -12345;
    int ok = svy_parse_number(t, strlen(t), &got);
    cr_assert(ok, "'%s' parses", t);
    cr_assert(memcmp(&got, &want, 8) == 0, "'%s': %.17g, strtod %.17g", t, got, want);
}

Test(value, parse_number_matches_strtod_bit_for_bit)
{
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    char t[64];
    for (long i = 0; i < 600000; i++) {
        s = xorshift(s);
        double d;
        uint64_t bits = i % 3 ? s : s & ((1ULL << 52) - 1);
        memcpy(&d, &bits, 8);
        if (!isfinite(d))
            continue;
        switch (i % 6) {
        case 0: snprintf(t, sizeof t, "%.17g", d); break;
        case 1: snprintf(t, sizeof t, "%.16g", d); break;
        case 2: snprintf(t, sizeof t, "%.15g", d); break;
        case 3: snprintf(t, sizeof t, "%.6e", d); break;
        case 4: snprintf(t, sizeof t, "%.20e", d); break;
        default:
            if (fabs(d) < 1e15 && fabs(d) > 1e-3)
                snprintf(t, sizeof t, "%.17f", d);
            else
                snprintf(t, sizeof t, "%.17g", d);
        }
        parse_like_strtod(t);
    }
    static const char *const forms[] = {
        ".5", "5.", "-.5e-3", "+1.5e3", ".50000000000000000001", "50000000000000000000.", "-.50000000000000000001",
        "+00000000000000000000.25", "-0000000000000000000000", "1234567890123456789e-5", "1E5", "1e+5", "1e-5", "1e400", "-1e400", "1e-400", "0e0", "-0",
        "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
        "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
        "9007199254740993", "9007199254740993.00000000000000000000000000001", "9007199254740992.9999999999999999",
        "0.1000000000000000055511151231257827021181583404541015625",
        "0.1000000000000000055511151231257827021181583404541015624",
        "0.1000000000000000055511151231257827021181583404541015626",
        "1016.1290322580645", "2.2250738585072011e-308", "2.2250738585072012e-308",
        "123456789012345678901234567890123456789012345678901234567890e-40",
        "0.00000000000000000000000000000000000000000000000000000000000000000000000000001"};
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++)
        parse_like_strtod(forms[i]);
    static const char *const bad[] = {"+-1", "++1", "-+1", "+", "+.", "1e", "e5", ".e5", "1.2.3", "0x1p3", "inf",
                                      "-inf", "nan", "infinity", "1e5.5", "1-2", "1e++5"};
    double d;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_not(svy_parse_number(bad[i], strlen(bad[i]), &d), "'%s' is refused", bad[i]);
}

/* numconv.cc reads [-]digits[.digits] of up to 19 digits itself before
 * fast_float's Clinger and Eisel-Lemire steps: such texts of every length
 * and split, with random digits (halfway cases among them), read as strtod
 * reads them. */
Test(value, plain_decimals_to_19_digits_match_strtod)
{
    uint64_t s = 0x2545F4914F6CDD1DULL;
    char t[48];
    for (long i = 0; i < 400000; i++) {
        s = xorshift(s);
        int ndig = 1 + (int)(s % 21), nint = (int)((s >> 8) % (unsigned)(ndig + 1)), n = 0;
        if ((s >> 16) & 1)
            t[n++] = '-';
        uint64_t r = s >> 20;
        for (int k = 0; k < ndig; k++) {
            if (k == nint)
                t[n++] = '.';
            /* runs of 0 and 9 and a trailing 5 make halfway and carry cases */
            int dig = (r >> (k % 40)) & 4 ? (int)((r >> (k % 40)) % 10) : ((r >> 3) & 1 ? 9 : 0);
            if (k == ndig - 1 && (r & 3) == 0)
                dig = 5;
            t[n++] = (char)('0' + dig);
        }
        if (nint == ndig && (r >> 5) & 1)
            t[n++] = '.';
        t[n] = '\0';
        parse_like_strtod(t);
    }
}
