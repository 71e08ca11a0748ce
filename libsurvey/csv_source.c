/* The bytes CSV input is parsed from: the file or standard input (after the
 * bytes read for detection), converted to UTF-8 when the user named another
 * encoding, and cut at the abort mark of a failed upstream tool. */
#include "csv_private.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <unistd.h>


static ssize_t raw_read(source *s, char *dst, size_t cap)
{
    if (s->head_pending) {
        s->head_pending = 0;
        size_t n = s->r->head_len < cap ? s->r->head_len : cap;
        memcpy(dst, s->r->head, n);
        return (ssize_t)n;
    }
    ssize_t k;
    do
        k = read(s->fd, dst, cap);
    while (k < 0 && errno == EINTR);
    return k;
}

/* The bytes of raw[0..n) that may be converted: all of them, or those
 * before the abort mark of a failed upstream tool.  The mark is found in
 * the raw bytes, before decoding: decoded as CP1252 or Latin-1 its 0xFF is
 * a 'y' with diaeresis, and it went through as data.  A possible start of
 * the mark at the very end is held back until more bytes tell. */
static size_t before_mark(source *s, size_t n)
{
    static const char mark[] = SVY_ABORT_MARK;
    for (const char *p = s->raw; (p = memchr(p, 0xFF, n - (size_t)(p - s->raw))) != NULL; p++) {
        size_t i = (size_t)(p - s->raw), rest = n - i;
        if (rest >= 10 && memcmp(p, mark, 10) == 0) {
            s->aborted = i == 0;
            return i;
        }
        if (rest < 10 && !s->eof && memcmp(p, mark, rest) == 0)
            return i;
    }
    return n;
}

/* Up to cap bytes of UTF-8 into dst; 0 at the end; -1 on a read error
 * (errno set); -2 when the input has bytes invalid in its encoding; -3 at
 * the abort mark. */
ssize_t svy_csv_src_read(source *s, char *dst, size_t cap)
{
    if (s->cd == (iconv_t)-1)
        return raw_read(s, dst, cap);
    if (s->bad)
        return -2;
    for (;;) {
        if (s->aborted)
            return -3;
        if (!s->eof && s->raw_len < CHUNK / 4) {
            ssize_t k = raw_read(s, s->raw + s->raw_len, CHUNK / 4 * 2 - s->raw_len);
            if (k < 0)
                return -1;
            if (k == 0)
                s->eof = 1;
            s->raw_len += (size_t)k;
        }
        if (!s->raw_len)
            return 0;
        size_t lim = before_mark(s, s->raw_len);
        if (s->aborted)
            return -3;
        if (!lim && !s->eof && s->raw_len < CHUNK / 4)
            continue; /* only the start of what may be the mark: read on */
        char *in = s->raw, *out = dst;
        size_t inleft = lim, outleft = cap;
        size_t rc = iconv(s->cd, &in, &inleft, &out, &outleft);
        int e = errno;
        inleft += s->raw_len - lim;
        memmove(s->raw, in, inleft);
        s->raw_len = inleft;
        size_t got = (size_t)(out - dst);
        if (rc == (size_t)-1 && e == EILSEQ)
            s->bad = 1;
        if (rc == (size_t)-1 && e == EINVAL && s->eof)
            s->bad = 1; /* the file ends inside a character */
        if (got)
            return (ssize_t)got;
        if (s->bad)
            return -2;
        if (s->eof && !s->raw_len)
            return 0;
        if (rc == (size_t)-1 && e == E2BIG)
            return -2; /* cannot happen with cap >= 4 bytes; refuse rather than loop */
    }
}

/* After a row that failed at the end of what was converted: does the
 * abort mark come next in the raw bytes? */
__attribute__((noinline, cold)) int svy_csv_mark_follows(source *s)
{
    char tmp[64];
    return s->cd != (iconv_t)-1 && svy_csv_src_read(s, tmp, sizeof tmp) == -3;
}

