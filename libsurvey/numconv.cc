/* Exact number conversions from two well-kept C++ header libraries, behind
 * C functions for value.c: Dragonbox (Junekey Jeon) finds the shortest
 * decimal that reads back to a double, fast_float (Daniel Lemire) reads a
 * decimal with the Eisel-Lemire algorithm and falls back to big-integer
 * arithmetic where that is needed, so both are exact for every input.  No
 * exceptions leave this file and nothing in it allocates. */
#include "numconv_private.h"

#include <dragonbox/dragonbox.h>
#include <fast_float/fast_float.h>

#include <cstring>

int svy_num_shortest(double d, uint64_t *sig, int *exp10)
{
    /* Finite and nonzero, as Dragonbox requires; the sign is the caller's. */
    if (!(d != 0) || d - d != 0)
        return 0;
    auto r = jkj::dragonbox::to_decimal(d < 0 ? -d : d);
    *sig = r.significand;
    *exp10 = r.exponent;
    return 1;
}

/* The common long number, [-]digits[.digits] with at most 19 digits in
 * all (svy-weight's 17-digit weights): its digits read here, eight at a
 * time where they can be, then fast_float's own steps for a whole mantissa
 * and power of ten (Clinger's exact division, else Eisel-Lemire), which
 * from_chars would take for it too.  0 when the text is any other form, or
 * Eisel-Lemire cannot decide (from_chars then). */
static int plain_decimal(const char *p, const char *end, double *out)
{
    const char *s0 = p;
    bool neg = p != end && *p == '-';
    p += neg;
    uint64_t w = 0;
    const char *first = p;
    while (p != end && unsigned(*p - '0') < 10)
        w = w * 10 + unsigned(*p++ - '0');
    size_t nint = size_t(p - first), nfrac = 0;
    if (p != end && *p == '.') {
        const char *f = ++p;
        while (end - p >= 8 && nint + size_t(p - f) + 8 <= 19 && fast_float::is_made_of_eight_digits_fast(p)) {
            w = w * 100000000 + fast_float::parse_eight_digits_unrolled(p);
            p += 8;
        }
        /* The last 1..7 digits as eight bytes ending at the text's end,
         * those before them read as '0' (fast_float's eight-digit step). */
        size_t r = size_t(end - p);
        if (r && r < 8 && end - s0 >= 8) {
            uint64_t v, lead = ~0ull >> (8 * r);
            std::memcpy(&v, end - 8, 8);
            v = (v & ~lead) | (0x3030303030303030ull & lead);
            if (fast_float::is_made_of_eight_digits_fast(v)) {
                static const uint64_t pow10[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
                w = w * pow10[r] + fast_float::parse_eight_digits_unrolled(v);
                p = end;
            }
        }
        while (p != end && unsigned(*p - '0') < 10) /* more than 19 digits: refused below */
            w = w * 10 + unsigned(*p++ - '0');
        nfrac = size_t(p - f);
    }
    if (p != end || nint + nfrac == 0 || nint + nfrac > 19)
        return 0;
    using fmt = fast_float::binary_format<double>;
    int64_t q = -int64_t(nfrac);
    double d;
    if (q >= fmt::min_exponent_fast_path() && w <= fmt::max_mantissa_fast_path() &&
        fast_float::detail::rounds_to_nearest()) {
        d = double(w) / fmt::exact_power_of_ten(-q);
        *out = neg ? -d : d;
        return 1;
    }
    fast_float::adjusted_mantissa am = fast_float::compute_float<fmt>(q, w);
    if (am.power2 < 0)
        return 0;
    fast_float::to_float(neg, am, d);
    *out = d;
    return 1;
}

int svy_num_parse(const char *s, size_t len, double *out)
{
    if (plain_decimal(s, s + len, out))
        return 1;
    double d = 0;
    auto r = fast_float::from_chars(s, s + len, d);
    if (r.ec != std::errc() || r.ptr != s + len)
        return 0;
    *out = d;
    return 1;
}
