/* UTF-8 validity 32 bytes at a time (this file alone gets -mavx2): the
 * lookup method of Keiser and Lemire, "Validating UTF-8 in less than one
 * instruction per byte" (Software: Practice and Experience, 2021), as
 * simdjson and simdutf use it.  Three table look-ups, by the high and low
 * nibble of the byte before and the high nibble of this one, say which
 * error that pair of bytes would make; a third or fourth byte of a sequence
 * is checked by the lead two or three bytes back.  It accepts exactly what
 * alloc.c's byte loop accepts (RFC 3629: no overlongs, no surrogates,
 * nothing past U+10FFFF); svy_utf8_valid takes it for long texts on CPUs
 * with AVX2 and asks the byte loop where the first bad byte is. */
#include "svy_private.h"

#include <immintrin.h>
#include <string.h>

/* The error bits of Keiser and Lemire's tables. */
enum {
    TOO_SHORT = 1 << 0,  /* a lead, then not a continuation */
    TOO_LONG = 1 << 1,   /* ASCII, then a continuation */
    OVERLONG_3 = 1 << 2, /* E0 80..9F */
    TOO_LARGE = 1 << 3,  /* F4 90.., F5.. */
    SURROGATE = 1 << 4,  /* ED A0..BF */
    OVERLONG_2 = 1 << 5, /* C0, C1 */
    TOO_LARGE_1000 = 1 << 6,
    OVERLONG_4 = 1 << 6, /* F0 80..8F */
    TWO_CONTS = 1 << 7,  /* two continuations: right only as a 3rd or 4th byte */
    CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS,
};

/* The same 16-byte table in both lanes, for _mm256_shuffle_epi8. */
#define TABLE(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p)                                                  \
    _mm256_setr_epi8((char)(a), (char)(b), (char)(c), (char)(d), (char)(e), (char)(f), (char)(g), (char)(h),  \
                     (char)(i), (char)(j), (char)(k), (char)(l), (char)(m), (char)(n), (char)(o), (char)(p),  \
                     (char)(a), (char)(b), (char)(c), (char)(d), (char)(e), (char)(f), (char)(g), (char)(h),  \
                     (char)(i), (char)(j), (char)(k), (char)(l), (char)(m), (char)(n), (char)(o), (char)(p))

typedef struct {
    __m256i hi1, lo1, hi2, nib, max;
} utf8_tables;

static inline __m256i high_nibbles(__m256i x, __m256i nib)
{
    return _mm256_and_si256(_mm256_srli_epi16(x, 4), nib);
}

/* in's bytes, each with the one n places before it (prev's last n bytes
 * first): AVX2's alignr works within 128-bit lanes, hence the permute. */
#define PREV(in, prev, n) _mm256_alignr_epi8((in), _mm256_permute2x128_si256((prev), (in), 0x21), 16 - (n))

static inline __m256i block_errors(const utf8_tables *t, __m256i in, __m256i prev)
{
    __m256i p1 = PREV(in, prev, 1);
    __m256i sc = _mm256_and_si256(
        _mm256_and_si256(_mm256_shuffle_epi8(t->hi1, high_nibbles(p1, t->nib)),
                         _mm256_shuffle_epi8(t->lo1, _mm256_and_si256(p1, t->nib))),
        _mm256_shuffle_epi8(t->hi2, high_nibbles(in, t->nib)));
    /* Where the byte two back is E0.. or three back F0.., this byte must be
     * a continuation: the tables flag TWO_CONTS (0x80) there, and the xor
     * clears exactly those. */
    __m256i third = _mm256_subs_epu8(PREV(in, prev, 2), _mm256_set1_epi8((char)(0xE0 - 0x80)));
    __m256i fourth = _mm256_subs_epu8(PREV(in, prev, 3), _mm256_set1_epi8((char)(0xF0 - 0x80)));
    __m256i must23 = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));
    return _mm256_xor_si256(must23, sc);
}

/* Nonzero where the block's last bytes start a sequence it does not end. */
static inline __m256i incomplete(const utf8_tables *t, __m256i in)
{
    return _mm256_subs_epu8(in, t->max);
}

int svy_utf8_valid_avx2(const char *s, size_t len)
{
    utf8_tables t;
    t.hi1 = TABLE(TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TWO_CONTS,
                  TWO_CONTS, TWO_CONTS, TWO_CONTS, TOO_SHORT | OVERLONG_2, TOO_SHORT,
                  TOO_SHORT | OVERLONG_3 | SURROGATE, TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
    t.lo1 = TABLE(CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
                  CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                  CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                  CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                  CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                  CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE, CARRY | TOO_LARGE | TOO_LARGE_1000,
                  CARRY | TOO_LARGE | TOO_LARGE_1000);
    t.hi2 = TABLE(TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
                  TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
                  TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
                  TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
                  TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE, TOO_SHORT, TOO_SHORT, TOO_SHORT,
                  TOO_SHORT);
    t.nib = _mm256_set1_epi8(0x0F);
    /* Past the last three bytes, no lead may stand unfinished: the largest
     * byte allowed 3, 2 and 1 from the end is F0-1, E0-1 and C0-1. */
    t.max = _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                             -1, -1, -1, -1, -1, -1, -1, -1, (char)(0xF0 - 1), (char)(0xE0 - 1),
                             (char)(0xC0 - 1));
    const unsigned char *p = (const unsigned char *)s;
    __m256i err = _mm256_setzero_si256(), prev = _mm256_setzero_si256(), prev_incomplete = err;
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        __m256i in = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
        if (_mm256_movemask_epi8(in) == 0) {
            err = _mm256_or_si256(err, prev_incomplete);
        } else {
            err = _mm256_or_si256(err, block_errors(&t, in, prev));
            prev_incomplete = incomplete(&t, in);
        }
        prev = in;
    }
    if (i < len) {
        /* The tail: the last 32 bytes when there are 64 (bytes checked
         * twice are checked the same), else padded with ASCII, so that a
         * sequence cut by the end meets a byte that is not its continuation. */
        __m256i in;
        if (len >= 64) {
            in = _mm256_loadu_si256((const __m256i *)(const void *)(p + len - 32));
            prev = _mm256_loadu_si256((const __m256i *)(const void *)(p + len - 64));
        } else {
            unsigned char tail[32];
            memset(tail, 0, sizeof tail);
            memcpy(tail, p + i, len - i);
            in = _mm256_loadu_si256((const __m256i *)(const void *)tail);
        }
        if (_mm256_movemask_epi8(in) == 0) {
            err = _mm256_or_si256(err, prev_incomplete);
        } else {
            err = _mm256_or_si256(err, block_errors(&t, in, prev));
            prev_incomplete = incomplete(&t, in);
        }
    }
    err = _mm256_or_si256(err, prev_incomplete);
    return _mm256_testz_si256(err, err);
}
