/* The body of csv_scan.c's row loop, built twice: in csv_scan.c for the
 * baseline (SSE2) and in csv_scan_avx2.c with AVX2 and BMI for the CPUs
 * that have them (chosen at run time in svy_csv_scan_init).  The includer
 * defines SCAN_FN, the loop's name, and SCAN_LINKAGE.  Not installed. */
#ifndef SVY_CSV_SCAN_BODY_H
#define SVY_CSV_SCAN_BODY_H

#include "csv_private.h"

#include <stdlib.h>
#include <string.h>
#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#define SMAP_STOP (-2) /* map entry past the last column: a field too many */
#define SMAP_TAIL (-3) /* not delivered, nor any column after it */

/* smap holds a delivered column's byte offset in the value array (no
 * multiply per field), or a negative mark. */
static inline svy_value *slot_at(svy_value *vals, int off)
{
    return (svy_value *)(void *)((char *)vals + off);
}

/* The index of x's lowest set bit (x != 0) as a word: GCC widens
 * __builtin_ctzll's int and clears the register first, two instructions a
 * field more.  "rep bsf" is tzcnt where there is one, bsf elsewhere: the
 * same answer for x != 0. */
static inline size_t low_bit(uint64_t x)
{
#if defined(__x86_64__) && defined(__GNUC__)
    uint64_t t;
    __asm__("rep bsfq %1, %0" : "=r"(t) : "rm"(x) : "cc");
    return (size_t)t;
#else
    return (size_t)__builtin_ctzll(x);
#endif
}

enum { LF_HI = 1, LF_CR = 2, LF_NUL = 4 };

/* The state of the line being split. */
typedef struct scanline {
    size_t line;   /* its first byte */
    size_t next;   /* the byte after its LF */
    size_t from;   /* the field's first byte */
    size_t k;      /* the field's column */
    int quoted;    /* 0: unquoted, 1: inside quotes, 2: after the closing quote */
    unsigned lf;   /* LF_HI: a byte >= 0x80; LF_CR: a CR; LF_NUL: a NUL */
    int anyq;      /* a quoted field */
    size_t nesc;   /* quoted fields with "" to undo, value offsets in esc[] */
    int esc[16];
    int esc_this;  /* the current quoted field has "" */
} scanline;

/* The line is given back to the line path: each byte that became a NUL is
 * what it was.  A field's NUL is at its end: its delimiter, or the closing
 * quote of a quoted field (whose value starts after the opening quote). */
static void restore(csvctx *c, const char *base, const scanline *L)
{
    svy_value *vals = c->r->vals;
    for (size_t k = 0; k < L->k; k++) {
        int slot = c->smap[k];
        if (slot < 0)
            continue;
        const svy_value *v = slot_at(vals, slot);
        if (v->missing != SVY_MISS_NONE)
            continue;
        char *end = (char *)(uintptr_t)(v->str + v->len);
        *end = v->str > base + L->line && v->str[-1] == '"' ? '"' : c->delim;
    }
}

/* One field, [from, to), quoted or not (to is the byte after its content). */
static inline __attribute__((always_inline)) void deliver(char *p, svy_value *v, size_t from, int quoted, size_t to)
{
    if (quoted) {
        size_t f = from + 1;
        p[to] = '\0';
        v->missing = SVY_MISS_NONE;
        v->str = p + f;
        v->len = to - f;
    } else if (to != from) {
        p[to] = '\0';
        v->missing = SVY_MISS_NONE;
        v->str = p + from;
        v->len = to - from;
    } else {
        v->missing = SVY_MISS_SYSTEM;
        v->str = "";
        v->len = 0;
    }
}

/* "" inside a quoted field becomes ", in place (the line is taken). */
static void unescape(svy_value *v)
{
    char *s = (char *)(uintptr_t)v->str, *w = s;
    for (size_t i = 0; i < v->len; i++) {
        *w++ = s[i];
        if (s[i] == '"')
            i++;
    }
    *w = '\0';
    v->len = (size_t)(w - s);
}

/* svy_row.line for a taken line (csv_read.c's line_plain: no quote, no CR,
 * no field starting with U+FEFF): the line's bytes with each field's NUL
 * turned back into the delimiter. */
static int keep_line(csvctx *c, const char *p, const scanline *L, size_t e)
{
    size_t n = e - L->line;
    const svy_value *vals = c->r->vals;
    if (L->anyq)
        return 1;
    if (L->lf & LF_HI)
        for (size_t k = 0; k < c->ncols; k++)
            if (vals[k].len >= 3 && memcmp(vals[k].str, "\xEF\xBB\xBF", 3) == 0)
                return 1;
    if (n + 1 > c->linecap && !svy_grow((void **)&c->linebuf, &c->linecap, n + 1, 1)) {
        svy_csv_fail(c, SVY_E_NOMEM, 0, NULL, "out of memory");
        return 0;
    }
    memcpy(c->linebuf, p + L->line, n);
    for (size_t k = 0; k + 1 < c->ncols; k++)
        if (vals[k].len)
            c->linebuf[vals[k].str + vals[k].len - (p + L->line)] = c->delim;
    c->r->line = c->linebuf;
    c->r->line_len = n;
    return 1;
}

enum { LINE_TAKEN, LINE_LEFT, LINE_FAILED };

/* The newline at pos ends the line: check it whole, give the last field,
 * deliver the row. */
static int end_line(csvctx *c, char *p, scanline *L, size_t pos)
{
    size_t e = pos;
    L->next = pos + 1;
    if (L->quoted == 1 || (L->lf & LF_NUL))
        return LINE_LEFT; /* a quoted field spans lines (libcsv's), or a NUL */
    if (L->lf & LF_CR) {
        /* Only a CR right before the LF, which fast_line strips. */
        e = pos - 1;
        if (p[e] != '\r' || e == L->line || memchr(p + L->line, '\r', e - L->line))
            return LINE_LEFT;
    }
    if (L->k + 1 != c->ncols || e == L->line || (L->quoted && p[e - 1] != '"'))
        return LINE_LEFT;
    /* Our NULs in the line are ASCII: the check sees the line's text. */
    if ((L->lf & LF_HI) && !svy_utf8_valid(p + L->line, e - L->line, NULL))
        return LINE_LEFT;
    int slot = c->smap[L->k];
    svy_value *vals = c->r->vals;
    if (L->esc_this && slot >= 0) {
        if (L->nesc == sizeof L->esc / sizeof *L->esc)
            return LINE_LEFT;
        L->esc[L->nesc++] = slot;
    }
    if (slot >= 0)
        deliver(p, slot_at(vals, slot), L->from, L->quoted, L->quoted ? e - 1 : e);
    L->k++;
    if (c->lines_ok && !keep_line(c, p, L, e))
        return LINE_FAILED;
    for (size_t j = 0; j < L->nesc; j++)
        unescape(slot_at(vals, L->esc[j]));
    svy_status st = svy_reader_emit(c->r, c->h, c->ctx, c->err);
    c->r->line = NULL;
    if (st) {
        c->st = st;
        return LINE_FAILED;
    }
    return LINE_TAKEN;
}

/* Per 64 bytes, a bit each: the delimiter, LF, '"', past ASCII, NUL or CR,
 * NUL (z only when x has a bit). */
typedef struct masks {
    uint64_t d, n, q, h, x, z;
} masks;

#if defined(__AVX2__)
static inline uint64_t bits2(__m256i a, __m256i b)
{
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(a) | (uint64_t)(uint32_t)_mm256_movemask_epi8(b) << 32;
}
#define EQ2(y) _mm256_cmpeq_epi8(y0, y), _mm256_cmpeq_epi8(y1, y)
#elif defined(__SSE2__)
static inline uint64_t bits64(__m128i a, __m128i b, __m128i c, __m128i d)
{
    return (uint64_t)(unsigned)_mm_movemask_epi8(a) | (uint64_t)(unsigned)_mm_movemask_epi8(b) << 16 |
           (uint64_t)(unsigned)_mm_movemask_epi8(c) << 32 | (uint64_t)(unsigned)_mm_movemask_epi8(d) << 48;
}
#define EQ4(y) _mm_cmpeq_epi8(x0, y), _mm_cmpeq_epi8(x1, y), _mm_cmpeq_epi8(x2, y), _mm_cmpeq_epi8(x3, y)
#endif

/* The last block of the buffer: bytes past its end say nothing. */
static inline __attribute__((always_inline)) masks clip(masks m, size_t left)
{
    if (left < 64) {
        uint64_t keep = (1ull << left) - 1;
        m.d &= keep;
        m.n &= keep;
        m.q &= keep;
        m.h &= keep;
        m.x &= keep;
        m.z &= keep;
    }
    return m;
}

static inline __attribute__((always_inline)) masks block(const char *p, size_t i, size_t end, char delim)
{
    masks m;
#if defined(__AVX2__)
    const __m256i *q = (const __m256i *)(const void *)(p + i);
    __m256i y0 = _mm256_loadu_si256(q), y1 = _mm256_loadu_si256(q + 1);
    __m256i vz = _mm256_setzero_si256(), vr = _mm256_set1_epi8('\r'), vq = _mm256_set1_epi8('"');
    m.d = bits2(EQ2(_mm256_set1_epi8(delim)));
    m.n = bits2(EQ2(_mm256_set1_epi8('\n')));
    /* Most blocks have no quote, CR, NUL or byte past ASCII: one test for
     * all four (a byte's own top bit marks it past ASCII). */
#define SPECIAL(y) _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(y, vq), y), \
                                   _mm256_or_si256(_mm256_cmpeq_epi8(y, vz), _mm256_cmpeq_epi8(y, vr)))
    if (!_mm256_movemask_epi8(_mm256_or_si256(SPECIAL(y0), SPECIAL(y1)))) {
        m.q = m.h = m.x = m.z = 0;
        return clip(m, end - i);
    }
#undef SPECIAL
    m.q = bits2(EQ2(vq));
    m.h = bits2(y0, y1);
    m.x = bits2(_mm256_or_si256(_mm256_cmpeq_epi8(y0, vz), _mm256_cmpeq_epi8(y0, vr)),
                _mm256_or_si256(_mm256_cmpeq_epi8(y1, vz), _mm256_cmpeq_epi8(y1, vr)));
    m.z = m.x ? bits2(EQ2(vz)) : 0;
#elif defined(__SSE2__)
    const __m128i *q = (const __m128i *)(const void *)(p + i);
    __m128i x0 = _mm_loadu_si128(q), x1 = _mm_loadu_si128(q + 1), x2 = _mm_loadu_si128(q + 2),
            x3 = _mm_loadu_si128(q + 3);
    __m128i vz = _mm_setzero_si128(), vr = _mm_set1_epi8('\r');
    __m128i vq = _mm_set1_epi8('"');
    m.d = bits64(EQ4(_mm_set1_epi8(delim)));
    m.n = bits64(EQ4(_mm_set1_epi8('\n')));
    /* Most blocks have no quote, CR, NUL or byte past ASCII: one test for
     * all four (a byte's own top bit marks it past ASCII). */
#define SPECIAL(x) _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vq), x), \
                                _mm_or_si128(_mm_cmpeq_epi8(x, vz), _mm_cmpeq_epi8(x, vr)))
    __m128i sp = _mm_or_si128(_mm_or_si128(SPECIAL(x0), SPECIAL(x1)), _mm_or_si128(SPECIAL(x2), SPECIAL(x3)));
    if (!_mm_movemask_epi8(sp)) {
        m.q = m.h = m.x = m.z = 0;
        return clip(m, end - i);
    }
#undef SPECIAL
    m.q = bits64(EQ4(vq));
    m.h = bits64(x0, x1, x2, x3);
    m.x = bits64(_mm_or_si128(_mm_cmpeq_epi8(x0, vz), _mm_cmpeq_epi8(x0, vr)),
                 _mm_or_si128(_mm_cmpeq_epi8(x1, vz), _mm_cmpeq_epi8(x1, vr)),
                 _mm_or_si128(_mm_cmpeq_epi8(x2, vz), _mm_cmpeq_epi8(x2, vr)),
                 _mm_or_si128(_mm_cmpeq_epi8(x3, vz), _mm_cmpeq_epi8(x3, vr)));
    m.z = m.x ? bits64(EQ4(vz)) : 0;
#else
    m.d = m.n = m.q = m.h = m.x = m.z = 0;
    for (unsigned b = 0; b < 64; b++) {
        unsigned char ch = (unsigned char)p[i + b];
        m.d |= (uint64_t)(ch == (unsigned char)delim) << b;
        m.n |= (uint64_t)(ch == '\n') << b;
        m.q |= (uint64_t)(ch == '"') << b;
        m.h |= (uint64_t)(ch >= 0x80) << b;
        m.x |= (uint64_t)(ch == 0 || ch == '\r') << b;
        m.z |= (uint64_t)(ch == 0) << b;
    }
#endif
    return clip(m, end - i);
}

/* What the bytes of m selected by sel say about their line. */
static inline unsigned line_flags(const masks *m, uint64_t sel)
{
    uint64_t z = m->z & sel;
    return ((m->h & sel) ? LF_HI : 0) | ((m->x & ~z & sel) ? LF_CR : 0) | (z ? LF_NUL : 0);
}

/* The line's state into L, and the newline at pos ends it. */
static inline int newline(csvctx *c, char *p, scanline *L, size_t pos, size_t from, size_t k, int quoted,
                          int esc_this, unsigned lf)
{
    L->from = from;
    L->k = k;
    L->quoted = quoted;
    L->esc_this = esc_this;
    L->lf = lf;
    return end_line(c, p, L, pos);
}

/* The splitting state kept in registers between blocks (the rest is in
 * scanline, touched at line ends). */
typedef struct cursor {
    size_t from, k;
    int quoted, esc_this;
    unsigned lf;
    uint64_t skipq; /* the next block's first byte is the second quote of a "" */
    int r;          /* end_line's answer that stopped the scan */
} cursor;

enum { GO_ON, STOP_MORE, STOP_LEFT, STOP_LINE };

/* The line ends at pos: the line path's checks, the row, and a new line.
 * A plain line (ASCII, no CR or quote, the header's width, no kept line)
 * needs only its last field. */
static inline __attribute__((always_inline)) int line_at(csvctx *c, char *p, scanline *L, cursor *u, size_t pos)
{
    if (!(u->lf | (unsigned)u->quoted | (unsigned)L->anyq | (unsigned)c->lines_ok) && u->k + 1 == c->ncols &&
        pos != L->line) {
        int slot = c->smap[u->k];
        if (slot >= 0)
            deliver(p, slot_at(c->r->vals, slot), u->from, 0, pos);
        svy_status st = svy_reader_emit(c->r, c->h, c->ctx, c->err);
        if (st) {
            c->st = st;
            L->next = pos + 1;
            u->r = LINE_FAILED;
            return STOP_LINE;
        }
        /* nothing else to reset: no quote, no "", no flag in this line */
        L->line = u->from = pos + 1;
        u->k = 0;
        return GO_ON;
    }
    if ((u->r = newline(c, p, L, pos, u->from, u->k, u->quoted, u->esc_this, u->lf)) != LINE_TAKEN)
        return STOP_LINE;
    L->line = u->from = pos + 1;
    L->nesc = 0;
    L->anyq = 0;
    u->k = 0;
    u->lf = 0;
    u->quoted = 0;
    u->esc_this = 0;
    return GO_ON;
}

/* A block without a quote, outside quotes: fields end at delimiters, lines
 * at LF. */
static inline __attribute__((always_inline)) int plain_block(csvctx *c, char *p, scanline *L, cursor *u,
                                                             const masks *m, size_t i)
{
    svy_value *vals = c->r->vals;
    const int *smap = c->smap;
    uint64_t d = m->d, nl = m->n, rem = ~0ull; /* rem: bytes not yet in a finished line */
    const uint64_t hx = m->h | m->x;
    for (;;) {
        uint64_t nb = nl & -nl;
        uint64_t dd = nb ? d & (nb - 1) : d;
        while (dd) {
            size_t pos = i + low_bit(dd);
            dd &= dd - 1;
            int slot = smap[u->k++];
            if (slot >= 0) {
                deliver(p, slot_at(vals, slot), u->from, 0, pos);
            } else if (slot == SMAP_TAIL && dd) {
                /* The line's other fields in this block are not read:
                 * counted, not visited. */
                pos = i + 63 - (unsigned)__builtin_clzll(dd);
#if defined(__POPCNT__)
                size_t more = (size_t)__builtin_popcountll(dd);
                dd = 0;
#else
                size_t more = 0;
                for (; dd; dd &= dd - 1)
                    more++;
#endif
                if (u->k + more > c->ncols)
                    return STOP_LEFT; /* a field too many */
                u->k += more;
            } else if (slot == SMAP_STOP) {
                return STOP_LEFT;
            }
            u->from = pos + 1;
        }
        if (!nb)
            break;
        uint64_t done = nb | (nb - 1);
        if (hx & rem & done)
            u->lf |= line_flags(m, rem & done);
        rem &= ~done;
        d &= ~done;
        nl &= nl - 1;
        if (line_at(c, p, L, u, i + low_bit(nb)) != GO_ON)
            return STOP_LINE;
    }
    if (hx & rem)
        u->lf |= line_flags(m, rem);
    return GO_ON;
}

/* A block with quotes, or inside a quoted field: each delimiter, LF and
 * quote in turn. */
static inline __attribute__((always_inline)) int quoted_block(csvctx *c, char *p, scanline *L, cursor *u,
                                                              masks *m, size_t i, size_t end)
{
    svy_value *vals = c->r->vals;
    const char delim = c->delim;
    uint64_t rem = ~0ull;
    m->q &= ~u->skipq;
    u->skipq = 0;
    uint64_t s = m->d | m->n | m->q;
    while (s) {
        unsigned b = (unsigned)__builtin_ctzll(s);
        uint64_t bit = 1ull << b;
        size_t pos = i + b;
        s &= s - 1;
        if (m->d & bit) {
            if (u->quoted == 1)
                continue;
            int slot = c->smap[u->k];
            if (slot >= 0) {
                deliver(p, slot_at(vals, slot), u->from, u->quoted, u->quoted ? pos - 1 : pos);
                if (u->esc_this) {
                    if (L->nesc == sizeof L->esc / sizeof *L->esc)
                        return STOP_LEFT;
                    L->esc[L->nesc++] = slot;
                }
            } else if (slot == SMAP_STOP) {
                return STOP_LEFT;
            }
            u->esc_this = 0;
            u->quoted = 0;
            u->k++;
            u->from = pos + 1;
        } else if (m->n & bit) {
            uint64_t done = bit | (bit - 1);
            if ((m->h | m->x) & rem & done)
                u->lf |= line_flags(m, rem & done);
            rem &= ~done;
            if (line_at(c, p, L, u, pos) != GO_ON)
                return STOP_LINE;
        } else if (u->quoted == 0) {
            if (pos != u->from)
                return STOP_LEFT; /* a quote inside an unquoted field: libcsv's error */
            u->quoted = 1;
            L->anyq = 1;
        } else if (u->quoted == 1) {
            if (pos + 1 >= end)
                return STOP_MORE;
            char nx = p[pos + 1];
            if (nx == '"') {
                u->esc_this = 1;
                if (b == 63)
                    u->skipq = 1;
                else
                    s &= ~(bit << 1);
            } else if (nx == delim || nx == '\n' || nx == '\r') {
                u->quoted = 2;
            } else {
                return STOP_LEFT; /* text after the closing quote */
            }
        } else {
            return STOP_LEFT;
        }
    }
    if ((m->h | m->x) & rem)
        u->lf |= line_flags(m, rem);
    return GO_ON;
}

SCAN_LINKAGE size_t SCAN_FN(csvctx *c, char *p, size_t start, size_t end, int *why)
{
    scanline L = {.line = start};
    cursor u = {.from = start};
    int stop = GO_ON;
    for (size_t i = start; i < end && stop == GO_ON; i += 64) {
        masks m = block(p, i, end, c->delim);
        if (!(m.q | (uint64_t)u.quoted | u.skipq))
            stop = plain_block(c, p, &L, &u, &m, i);
        else
            stop = quoted_block(c, p, &L, &u, &m, i, end);
    }
    if (stop == STOP_LINE && u.r == LINE_FAILED) {
        *why = SCAN_FAILED;
        return L.next;
    }
    /* Mid-line: the line goes back as it was read. */
    L.k = u.k;
    restore(c, p, &L);
    *why = stop == STOP_LEFT || stop == STOP_LINE ? SCAN_LEFT : SCAN_MORE;
    return L.line;
}

#endif
