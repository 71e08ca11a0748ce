/* Capped allocation: sizes that come from input files go through here. */
#include "svy_private.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void *svy_malloc(size_t n)
{
    if (n > SVY_ALLOC_MAX)
        return NULL;
    return malloc(n ? n : 1);
}

void *svy_calloc(size_t count, size_t size)
{
    if (size && count > SVY_ALLOC_MAX / size)
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *svy_reallocarray(void *p, size_t count, size_t size)
{
    if (size && count > SVY_ALLOC_MAX / size)
        return NULL;
    size_t n = count * size;
    return realloc(p, n ? n : 1);
}

char *svy_strndup(const char *s, size_t n)
{
    char *d = svy_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *svy_strdup(const char *s)
{
    return svy_strndup(s, strlen(s));
}

int svy_grow(void **pp, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SVY_ALLOC_MAX / 2)
            return 0;
        ncap *= 2;
    }
    void *np = svy_reallocarray(*pp, ncap, elem);
    if (!np)
        return 0;
    *pp = np;
    *cap = ncap;
    return 1;
}

const char *svy_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    return (t && *t) ? t : "/tmp";
}

/* ASCII is skipped 16 bytes at a time to the next byte past it (the CSV
 * reader checks every line with bytes past ASCII here); a sequence's
 * continuation bytes are tested by range, the second byte's range saying
 * what is an overlong, a surrogate or past U+10FFFF. */
int svy_utf8_bytes_only;

int svy_utf8_valid(const char *str, size_t len, size_t *bad)
{
#if defined(SVY_SCAN_AVX2)
    /* Lines of CJK text are mostly 3-byte sequences, a branch or two each
     * in the loop below; 32 bytes at a time they cost a third.  Only a bad
     * text comes back here, to find its first bad byte. */
    if (len >= 64 && !svy_utf8_bytes_only && __builtin_cpu_supports("avx2") && svy_utf8_valid_avx2(str, len))
        return 1;
#endif
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
#if defined(__SSE2__)
        if (i + 16 <= len) {
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)));
            if (!m) {
                i += 16;
                continue;
            }
            i += (unsigned)__builtin_ctz(m);
        }
#endif
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xE0 && c <= 0xEF) { /* 3 bytes: CJK text */
            /* E0 needs A0..BF next (no overlong), ED 80..9F (no surrogate). */
            unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
            if (i + 2 >= len || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xC0) != 0x80)
                goto fail;
            i += 3;
        } else if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= len || (s[i + 1] & 0xC0) != 0x80)
                goto fail;
            i += 2;
        } else if (c >= 0xF0 && c <= 0xF4) {
            /* F0 needs 90..BF next (no overlong), F4 80..8F (<= U+10FFFF). */
            unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
            if (i + 3 >= len || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80)
                goto fail;
            i += 4;
        } else {
            goto fail;
        }
    }
    return 1;
fail:
    if (bad)
        *bad = i;
    return 0;
}
