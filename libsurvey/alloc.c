/* Capped allocation: sizes that come from input files go through here. */
#include "svy_private.h"

#include <stdlib.h>
#include <string.h>

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

int svy_utf8_valid(const char *str, size_t len, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else goto fail;
        if (i + n >= len)
            goto fail;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                goto fail;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* Overlongs, surrogates and > U+10FFFF. */
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            goto fail;
        i += n + 1;
    }
    return 1;
fail:
    if (bad)
        *bad = i;
    return 0;
}
