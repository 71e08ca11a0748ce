/* The C face of numconv.cc (Dragonbox and fast_float): used by value.c only. */
#ifndef SVY_NUMCONV_PRIVATE_H
#define SVY_NUMCONV_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* |d| = sig * 10^exp10 with the fewest digits that read back to d, the
 * closest to d among those (ties to even), trailing zeros removed; 0 for
 * zero, infinities and NaN. */
int svy_num_shortest(double d, uint64_t *sig, int *exp10);

/* The whole of s[0..len) as a decimal number, rounded to nearest as strtod
 * rounds; 0 when anything is left over.  Callers refuse inf, nan and a
 * leading '+' themselves. */
int svy_num_parse(const char *s, size_t len, double *out);

#ifdef __cplusplus
}
#endif

#endif
