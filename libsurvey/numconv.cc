/* Exact number conversions from two well-kept C++ header libraries, behind
 * C functions for value.c: Dragonbox (Junekey Jeon) finds the shortest
 * decimal that reads back to a double, fast_float (Daniel Lemire) reads a
 * decimal with the Eisel-Lemire algorithm and falls back to big-integer
 * arithmetic where that is needed, so both are exact for every input.  No
 * exceptions leave this file and nothing in it allocates. */
#include "numconv_private.h"

#include <dragonbox/dragonbox.h>
#include <fast_float/fast_float.h>

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

int svy_num_parse(const char *s, size_t len, double *out)
{
    double d = 0;
    auto r = fast_float::from_chars(s, s + len, d);
    if (r.ec != std::errc() || r.ptr != s + len)
        return 0;
    *out = d;
    return 1;
}
