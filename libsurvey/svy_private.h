/* libsurvey internals shared between modules.  Not installed. */
#ifndef SVY_PRIVATE_H
#define SVY_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error svy_private.h is only for building libsurvey and its unit tests.
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <survey/error.h>

/* No single allocation sized by input may exceed this: a file header that
 * claims billions of anything fails with SVY_E_LIMIT instead. */
#define SVY_ALLOC_MAX ((size_t)1 << 30)

/* Internal functions are hidden from the shared library by visibility, not
 * by reserved names. */
void *svy_malloc(size_t n);
void *svy_calloc(size_t count, size_t size);
/* Array growth with overflow and cap check; NULL on failure, p untouched. */
void *svy_reallocarray(void *p, size_t count, size_t size);
char *svy_strdup(const char *s);
char *svy_strndup(const char *s, size_t n);

/* Grow a dynamic array *pp of *cap elements to hold at least need. */
int svy_grow(void **pp, size_t *cap, size_t need, size_t elem);

/* Fail early with a record; evaluates to return. */
#define SVY_FAIL_IF(cond, err, code, ...)                                  \
    do {                                                                   \
        if (cond)                                                          \
            return svy_err_set((err), (code), NULL, 0, 0, NULL, __VA_ARGS__); \
    } while (0)

/* Written by svy_outfile_abort() after whatever part of a stream reached
 * standard output (or a FIFO), so the next tool in a pipeline fails instead
 * of taking the prefix for the whole: 0xFF never occurs in UTF-8, and the
 * CSV reader checks every line for it, quoted or not, projected or not. */
#define SVY_ABORT_MARK "\xFF" "svy-abort: the program writing this stream failed; the data are incomplete"

/* Temp dir for spools and atomic outputs. */
const char *svy_tmpdir(void);

/* UTF-8: 1 when the bytes are valid UTF-8; on failure *bad is the offset of
 * the first bad byte. */
int svy_utf8_valid(const char *s, size_t len, size_t *bad);
#if defined(SVY_SCAN_AVX2)
/* utf8_avx2.c: 1 when s[0..len) is UTF-8, 32 bytes at a time (AVX2 CPUs
 * only); svy_utf8_valid takes it for texts of 64 bytes and more unless
 * svy_utf8_bytes_only is set (the unit tests set it to test the byte loop). */
int svy_utf8_valid_avx2(const char *s, size_t len);
#endif
extern int svy_utf8_bytes_only;

/* A new schema with copies of the variables idx[0..n-1] of s (schema.c). */
struct svy_schema;
struct svy_schema *svy_schema_project(const struct svy_schema *s, const long *idx, size_t n);

/* A text of at most 7 bytes as one word, for the per-row caches of codes:
 * its bytes, its length and a set top bit, so that no two texts share a
 * key and no key is 0 (an empty cache entry).  Fixed-size loads instead of
 * a loop over the bytes. */
static inline uint64_t svy_short_key(const char *s, size_t len)
{
    uint16_t h;
    uint32_t w;
    uint64_t x = 0;
    switch (len) {
    case 7: x = (uint64_t)(unsigned char)s[6] << 48; /* fall through */
    case 6: memcpy(&h, s + 4, 2); x |= (uint64_t)h << 32; /* fall through */
    case 4: memcpy(&w, s, 4); x |= w; break;
    case 5: memcpy(&w, s, 4); x = (uint64_t)(unsigned char)s[4] << 32 | w; break;
    case 3: x = (uint64_t)(unsigned char)s[2] << 16; /* fall through */
    case 2: memcpy(&h, s, 2); x |= h; break;
    case 1: x = (unsigned char)s[0]; break;
    default: break;
    }
    return x | (uint64_t)len << 56 | 1ull << 63;
}

/* Powers of ten 1e0..1e22, exact doubles (value.c). */
extern const double svy_pow10_exact[23];

/* The common case of svy_parse_number, inline for the per-row paths:
 * [-]digits[.digits] with at most 15 digits in all.  The result is the one
 * svy_parse_number gives (the same exact mantissa divided by the same exact
 * power of ten, which rounds correctly); 0 sends anything else to it. */
static inline __attribute__((always_inline)) int svy_number_fast_loop(const char *s, size_t i, size_t len, int neg,
                                                                     double *out)
{
    uint64_t mant = 0;
    size_t dot = 0, ndig = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d <= 9) {
            mant = mant * 10 + d;
            ndig++;
        } else if (s[i] == '.' && !dot) {
            dot = i + 1;
        } else {
            return 0;
        }
    }
    if (!ndig || ndig > 15)
        return 0;
    double x = (double)(int64_t)mant / svy_pow10_exact[dot ? len - dot : 0];
    *out = neg ? -x : x;
    return 1;
}

/* 4 to 8 bytes after the sign as one word, read without a byte loop and
 * never outside s[0..len): two 4-byte loads that may overlap (OR keeps a
 * byte read twice); shorter texts take the byte loop.  Then the
 * point is found and taken out, the digits are left-padded with '0' to
 * eight, checked and converted as fast_float does (parse_eight_digits). */
static inline __attribute__((always_inline)) int svy_number_fast(const char *s, size_t len, double *out)
{
    size_t i = len > 0 && s[0] == '-';
    size_t n = len - i;
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    /* the word form reads the first byte as the lowest: little-endian only */
    return n - 1 < 16 && svy_number_fast_loop(s, i, len, (int)i, out);
#endif
    if (n - 4 > 4) /* 0 to 3 bytes (the loop is shorter), or more than 8 */
        return n - 1 < 16 && svy_number_fast_loop(s, i, len, (int)i, out);
    const char *t = s + i;
    uint32_t lo, hi;
    memcpy(&lo, t, 4);
    memcpy(&hi, t + n - 4, 4);
    uint64_t x = lo | (uint64_t)hi << (8 * (n - 4));
    /* The lowest byte equal to '.' (the borrow trick's false hits lie only
     * above a true one; bytes past n are 0, not '.'). */
    uint64_t e = x ^ 0x2E2E2E2E2E2E2E2Eull;
    uint64_t z = (e - 0x0101010101010101ull) & ~e & 0x8080808080808080ull;
    size_t frac = 0;
    if (z) {
        unsigned b = (unsigned)__builtin_ctzll(z) >> 3; /* the point's byte */
        uint64_t below = (1ull << (8 * b)) - 1;
        x = (x & below) | ((x >> 8) & ~below);
        frac = n - 1 - b;
        n--;
    }
    if (n < 8)
        x = x << (8 * (8 - n)) | 0x3030303030303030ull >> (8 * n);
    if (((x + 0x4646464646464646ull) | (x - 0x3030303030303030ull)) & 0x8080808080808080ull)
        return 0;
    x -= 0x3030303030303030ull;
    x = x * 10 + (x >> 8);
    x = ((x & 0x000000FF000000FFull) * (100 + (1000000ull << 32)) +
         ((x >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32))) >> 32;
    double v = (double)(int64_t)(uint32_t)x / svy_pow10_exact[frac];
    *out = i ? -v : v;
    return 1;
}

#endif
