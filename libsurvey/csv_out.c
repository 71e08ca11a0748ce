/* RFC 4180 output with its own buffer: quoting only where needed.
 *
 * A large output is written by a second thread: once WRITER_AFTER bytes
 * have gone out, each full buffer is handed to a thread that write()s it
 * while this one fills the other buffer.  Copying hundreds of megabytes
 * into the page cache is then no longer on the path that makes the rows.
 * Small outputs never start it.  Its write errors do not show in the
 * stream's error flag: callers take them from svy_csv_out_flush().
 *
 * With the thread come two larger buffers (2 MiB each, in huge pages where
 * the kernel gives them): every hand-over wakes the thread, and on a virtual
 * machine a wake costs tens of microseconds; 256 KiB buffers made the
 * wakes about a tenth of svy-clean's time with its 750 MB audit log. */
#include "svy_private.h"

#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <survey/csv.h>
#include <survey/value.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define OUTBUF (1u << 18)
#define BIGBUF ((size_t)2 << 20)
#define WRITER_AFTER ((size_t)8 << 20)

struct svy_csv_out {
    FILE *f;
    char delim;
    int at_row_start;
    int failed;
    int err_no;
    size_t len;
    size_t cap;     /* the size of each of bufs[] */
    size_t drained; /* bytes handed on so far */
    unsigned char special[256]; /* bytes that make a field need quotes */
    char *buf;      /* the buffer being filled: one of bufs[] */
    char *bufs[2];  /* mem[], or big's two halves once the thread runs */
    char *big;      /* 2 x BIGBUF, from the writer's start; NULL before */
    /* The writer thread.  Under mu: pending is the buffer it is to write
     * (NULL when it is idle), stop asks it to end, and w_failed/w_errno
     * are its first write error. */
    int threaded;
    int no_thread;  /* tried once: never start it (again) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const char *pending;
    size_t pending_len;
    int stop, w_failed, w_errno;
    int fd;
    char mem[2][OUTBUF];
};

svy_csv_out *svy_csv_out_new(FILE *f, char delim)
{
    svy_csv_out *o = malloc(sizeof *o);
    if (!o)
        return NULL;
    o->f = f;
    o->delim = delim;
    o->at_row_start = 1;
    o->failed = 0;
    o->err_no = 0;
    o->len = 0;
    o->cap = OUTBUF;
    o->drained = 0;
    o->bufs[0] = o->buf = o->mem[0];
    o->bufs[1] = o->mem[1];
    o->big = NULL;
    o->threaded = 0;
    o->no_thread = 0;
    memset(o->special, 0, sizeof o->special);
    o->special['"'] = o->special['\n'] = o->special['\r'] = o->special[(unsigned char)delim] = 1;
    return o;
}

static void *writer_main(void *arg)
{
    svy_csv_out *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        while (!o->pending && !o->stop)
            pthread_cond_wait(&o->cv, &o->mu);
        if (!o->pending)
            break; /* stop, with nothing left to write */
        const char *p = o->pending;
        size_t n = o->pending_len;
        int failed = o->w_failed;
        pthread_mutex_unlock(&o->mu);
        int e = 0;
        while (n && !failed) {
            ssize_t k = write(o->fd, p, n);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                e = k < 0 ? errno : EIO;
                failed = 1;
                break;
            }
            p += k;
            n -= (size_t)k;
        }
        pthread_mutex_lock(&o->mu);
        if (failed && !o->w_failed) {
            o->w_failed = 1;
            o->w_errno = e;
        }
        o->pending = NULL;
        pthread_cond_broadcast(&o->cv);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

/* Start the writer thread; 0 when it cannot be had (then the output stays
 * on this thread, and no later drain tries again). */
static int start_writer(svy_csv_out *o)
{
    o->no_thread = 1;
    /* From here on the stream's own buffer stays empty: the thread writes
     * to its descriptor directly. */
    if (fflush(o->f) != 0) {
        o->failed = 1;
        o->err_no = errno;
        return 0;
    }
    o->fd = fileno(o->f);
    if (o->fd < 0)
        return 0;
    if (pthread_mutex_init(&o->mu, NULL) != 0)
        return 0;
    if (pthread_cond_init(&o->cv, NULL) != 0) {
        pthread_mutex_destroy(&o->mu);
        return 0;
    }
    o->pending = NULL;
    o->stop = o->w_failed = o->w_errno = 0;
    if (pthread_create(&o->thread, NULL, writer_main, o) != 0) {
        pthread_cond_destroy(&o->cv);
        pthread_mutex_destroy(&o->mu);
        return 0;
    }
    o->threaded = 1;
    o->no_thread = 0;
    return 1;
}

/* Wait until the thread is idle; its error, if any, becomes ours. */
static void wait_idle(svy_csv_out *o)
{
    pthread_mutex_lock(&o->mu);
    while (o->pending)
        pthread_cond_wait(&o->cv, &o->mu);
    if (o->w_failed && !o->failed) {
        o->failed = 1;
        o->err_no = o->w_errno;
    }
    pthread_mutex_unlock(&o->mu);
}

static void stop_writer(svy_csv_out *o)
{
    if (!o->threaded)
        return;
    wait_idle(o);
    pthread_mutex_lock(&o->mu);
    o->stop = 1;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->thread, NULL);
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->mu);
    o->threaded = 0;
    o->no_thread = 1; /* once stopped (a flush), the rest is written here */
}

void svy_csv_out_free(svy_csv_out *o)
{
    if (o) {
        stop_writer(o);
        free(o->big);
    }
    free(o);
}

/* The big buffers, taken when the thread starts: without them the small
 * ones serve, only with more wakes. */
static char *big_buffers(void)
{
    void *p = NULL;
    if (posix_memalign(&p, BIGBUF, 2 * BIGBUF) != 0)
        return NULL;
#if defined(MADV_HUGEPAGE)
    (void)madvise(p, 2 * BIGBUF, MADV_HUGEPAGE);
#endif
    return p;
}

static void drain(svy_csv_out *o)
{
    int grow = 0;
    if (o->len && !o->failed && !o->threaded && !o->no_thread && o->drained >= WRITER_AFTER)
        grow = start_writer(o) && (o->big = big_buffers()) != NULL;
    if (o->len && !o->failed && o->threaded) {
        /* hand this buffer over, fill the other one */
        wait_idle(o);
        if (!o->failed) {
            pthread_mutex_lock(&o->mu);
            o->pending = o->buf;
            o->pending_len = o->len;
            pthread_cond_broadcast(&o->cv);
            pthread_mutex_unlock(&o->mu);
            if (grow) {
                /* the small buffer handed over stays valid until the
                 * next hand-over waits for it */
                o->bufs[0] = o->big;
                o->bufs[1] = o->big + BIGBUF;
                o->cap = BIGBUF;
                o->buf = o->bufs[0];
            } else {
                o->buf = o->buf == o->bufs[0] ? o->bufs[1] : o->bufs[0];
            }
        }
    } else if (o->len && !o->failed) {
        if (fwrite(o->buf, 1, o->len, o->f) != o->len) {
            o->failed = 1;
            o->err_no = errno;
        }
    }
    o->drained += o->len;
    o->len = 0;
}

static void put(svy_csv_out *o, const char *s, size_t n)
{
    while (n) {
        if (o->len == o->cap)
            drain(o);
        size_t k = o->cap - o->len;
        if (k > n)
            k = n;
        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
    }
}

static void sep(svy_csv_out *o)
{
    if (!o->at_row_start) {
        if (o->len == o->cap)
            drain(o);
        o->buf[o->len++] = o->delim;
    }
    o->at_row_start = 0;
}

/* Length of the start of s that needs no quotes: 16 bytes at a time where
 * SSE2 is there (never reading past s + len), then byte by byte. */
static size_t plain_len(const svy_csv_out *o, const char *s, size_t len)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
                  dl = _mm_set1_epi8(o->delim);
    for (; i + 16 <= len; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, nl)),
                                   _mm_or_si128(_mm_cmpeq_epi8(x, cr), _mm_cmpeq_epi8(x, dl)));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
#endif
    while (i < len && !o->special[(unsigned char)s[i]])
        i++;
    return i;
}

void svy_csv_out_str(svy_csv_out *o, const char *s, size_t len)
{
    /* Most fields need no quotes and fit the buffer: check, then copy.
     * (Text starting with U+FEFF takes the slow path, which quotes it.) */
    if (len && o->len + len + 1 <= o->cap && !(len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)) {
        if (plain_len(o, s, len) == len) {
            char *d = o->buf + o->len;
            size_t k = 0;
            if (!o->at_row_start)
                d[k++] = o->delim;
            memcpy(d + k, s, len);
            o->len += k + len;
            o->at_row_start = 0;
            return;
        }
    }
    sep(o);
    /* "" keeps an empty string apart from a missing value.  Text that starts
     * with U+FEFF is quoted too: first in a file, readers take those bytes
     * for a byte-order mark and drop them (fuzzing found a header name lost). */
    int quote = len == 0 || (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) || plain_len(o, s, len) < len;
    if (!quote) {
        put(o, s, len);
        return;
    }
    put(o, "\"", 1);
    const char *p = s, *end = s + len;
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q) {
            put(o, p, (size_t)(end - p));
            break;
        }
        put(o, p, (size_t)(q - p) + 1);
        put(o, "\"", 1);
        p = q + 1;
    }
    put(o, "\"", 1);
}

void svy_csv_out_cstr(svy_csv_out *o, const char *s)
{
    svy_csv_out_str(o, s, strlen(s));
}

void svy_csv_out_num(svy_csv_out *o, double d)
{
    char tmp[SVY_DTOA_MAX];
    size_t n = svy_dtoa(d, tmp);
    sep(o);
    put(o, tmp, n);
}

/* "00".."99" */
static const char digits2[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                              "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                              "8081828384858687888990919293949596979899";

size_t svy_fmt_ll(long long v, char *buf)
{
    /* Row numbers and counts: the digits svy_dtoa gives an integer below
     * 1e15, without the double, two at a time; larger ones as svy_dtoa
     * prints them. */
    if (v <= -1000000000000000LL || v >= 1000000000000000LL)
        return svy_dtoa((double)v, buf);
    char tmp[48], *p = tmp + 24; /* the digits end at tmp + 24; 24 bytes copied from their start */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    while (u >= 100) {
        p -= 2;
        memcpy(p, digits2 + 2 * (u % 100), 2);
        u /= 100;
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, digits2 + 2 * u, 2);
    } else {
        *--p = (char)('0' + u);
    }
    if (v < 0)
        *--p = '-';
    memcpy(buf, p, 24);
    return (size_t)(tmp + 24 - p);
}

void svy_csv_out_int(svy_csv_out *o, long long v)
{
    char tmp[SVY_DTOA_MAX];
    size_t n = svy_fmt_ll(v, tmp);
    sep(o);
    put(o, tmp, n);
}

void svy_csv_out_empty(svy_csv_out *o)
{
    sep(o);
}

void svy_csv_out_fields(svy_csv_out *o, const char *s, size_t len)
{
    sep(o);
    if (o->len + len <= o->cap) {
        memcpy(o->buf + o->len, s, len);
        o->len += len;
    } else {
        put(o, s, len);
    }
}

char *svy_csv_out_room(svy_csv_out *o, size_t n)
{
    if (!o->at_row_start || n > o->cap)
        return NULL;
    if (o->cap - o->len < n)
        drain(o);
    return o->buf + o->len;
}

void svy_csv_out_advance(svy_csv_out *o, size_t n)
{
    o->len += n;
    o->at_row_start = 1;
}

void svy_csv_out_end_row(svy_csv_out *o)
{
    /* RFC 4180 says CRLF; every consumer in a Unix pipeline wants LF, and
     * every RFC 4180 reader accepts it. */
    put(o, "\n", 1);
    o->at_row_start = 1;
}

svy_status svy_csv_out_flush(svy_csv_out *o, const char *name, svy_err *err)
{
    drain(o);
    stop_writer(o);
    if (!o->failed && fflush(o->f) != 0) {
        o->failed = 1;
        o->err_no = errno;
    }
    if (o->failed) {
        return svy_err_sys(err, o->err_no, name, 0, "write error");
    }
    return SVY_OK;
}
