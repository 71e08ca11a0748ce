/* Files that declare no text encoding (encoding_private.h).
 *
 * Old Stata (before 118) and many SPSS files say nothing about their
 * encoding; ReadStat then reads them as Windows-1252, which turns Chinese
 * into "ÄÐ" without a word.  svy reads such text as UTF-8 or refuses it, and
 * the refusal suggests GB18030 when the whole file reads cleanly in it. */
#include "svy_private.h"
#include "encoding_private.h"

#include <fcntl.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* ------------------------------------------------ SPSS: is one declared? */

typedef struct sav_scan {
    int fd;
    off_t pos;
    int swap;
} sav_scan;

static int rd(sav_scan *s, void *buf, size_t n)
{
    ssize_t got = pread(s->fd, buf, n, s->pos);
    if (got != (ssize_t)n)
        return 0;
    s->pos += (off_t)n;
    return 1;
}

static int rd32(sav_scan *s, int32_t *v)
{
    uint32_t u;
    if (!rd(s, &u, 4))
        return 0;
    if (s->swap)
        u = __builtin_bswap32(u);
    memcpy(v, &u, 4);
    return 1;
}

/* Walk the dictionary to its end (record 999): 1 when an encoding record
 * (7.20) or a real code page in the machine record (7.3) is there, 0 when
 * neither is, -1 when the dictionary cannot be walked (ReadStat reports). */
int svy_sav_declares_encoding(int fd)
{
    sav_scan s = {.fd = fd};
    if (s.fd < 0)
        return -1;
    int declared = -1;
    int32_t layout, rec, a, b, c;
    s.pos = 64;
    if (!rd32(&s, &layout))
        goto out;
    if (layout != 2 && layout != 3) {
        s.swap = 1;
        s.pos = 64;
        if (!rd32(&s, &layout) || (layout != 2 && layout != 3))
            goto out;
    }
    s.pos = 176;
    for (int guard = 0; guard < 1 << 20; guard++) {
        if (!rd32(&s, &rec))
            goto out;
        switch (rec) {
        case 2: { /* variable */
            int32_t f[5]; /* type, has label, missing values, print, write */
            for (int i = 0; i < 5; i++)
                if (!rd32(&s, &f[i]))
                    goto out;
            s.pos += 8; /* name */
            if (f[1]) {
                if (!rd32(&s, &a) || a < 0)
                    goto out;
                s.pos += (a + 3) / 4 * 4;
            }
            s.pos += (off_t)(f[2] < 0 ? -f[2] : f[2]) * 8;
            break;
        }
        case 3: /* value labels, then their variables (record 4) */
            if (!rd32(&s, &a) || a < 0)
                goto out;
            for (int32_t i = 0; i < a; i++) {
                unsigned char len;
                s.pos += 8;
                if (!rd(&s, &len, 1))
                    goto out;
                s.pos += (len + 1 + 7) / 8 * 8 - 1;
            }
            if (!rd32(&s, &rec) || rec != 4 || !rd32(&s, &a) || a < 0)
                goto out;
            s.pos += (off_t)a * 4;
            break;
        case 6: /* documents */
            if (!rd32(&s, &a) || a < 0)
                goto out;
            s.pos += (off_t)a * 80;
            break;
        case 7:
            if (!rd32(&s, &a) || !rd32(&s, &b) || !rd32(&s, &c) || b < 0 || c < 0)
                goto out;
            if (a == 20) {
                declared = 1;
                goto out;
            }
            if (a == 3 && b == 4 && c >= 8) {
                int32_t v[8];
                for (int i = 0; i < 8; i++)
                    if (!rd32(&s, &v[i]))
                        goto out;
                s.pos += (off_t)(c - 8) * 4;
                /* character code: 1 EBCDIC, 2 7-bit ASCII, 3 8-bit ASCII
                 * (nothing said), else a Windows code page */
                if (v[7] > 3) {
                    declared = 1;
                    goto out;
                }
                break;
            }
            s.pos += (off_t)b * c;
            break;
        case 999:
            declared = 0;
            goto out;
        default:
            goto out;
        }
    }
out:
    return declared;
}

/* ------------------------------------ does the file read as GB18030? */

typedef struct probe {
    int ok;  /* every text so far is ASCII or Chinese */
    int any; /* some text was not ASCII */
    iconv_t back; /* UTF-8 to GB18030: the bytes the file holds */
} probe;

/* Chinese text in GB18030 is nearly all two-byte characters whose second
 * byte is not ASCII; Latin-1 text ("München": FC 6E) pairs a high byte with
 * an ASCII letter, which GBK reads as a rare Hanzi. */
static int gb_pairs(probe *p, const char *s, size_t n)
{
    char buf[1024];
    char *in = (char *)s, *out = buf;
    size_t inleft = n, outleft = sizeof buf;
    iconv(p->back, NULL, NULL, NULL, NULL);
    if (n > 512 || iconv(p->back, &in, &inleft, &out, &outleft) == (size_t)-1)
        return n > 512; /* long text: the code point check alone */
    const unsigned char *b = (const unsigned char *)buf;
    size_t len = (size_t)(out - buf);
    for (size_t i = 0; i < len; i++)
        if (b[i] >= 0x80) {
            if (i + 1 >= len || b[i + 1] < 0xA1)
                return 0;
            i++;
        }
    return 1;
}

/* 1 when the code point is Chinese script or its punctuation. */
static int cjk(unsigned long cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x3000 && cp <= 0x303F) ||
           (cp >= 0xFF00 && cp <= 0xFFEF) || (cp >= 0x20000 && cp <= 0x2FFFF);
}

/* Latin-1 text such as "Müller" also decodes from GB18030, into symbols no
 * Chinese text has: every non-ASCII character must be Chinese. */
static int probe_text(probe *p, const char *s)
{
    if (!s)
        return READSTAT_HANDLER_OK;
    size_t n = strlen(s), bad;
    if (!svy_utf8_valid(s, n, &bad) || !gb_pairs(p, s, n)) {
        p->ok = 0;
        return READSTAT_HANDLER_ABORT;
    }
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            i++;
            continue;
        }
        int k = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : 2;
        unsigned long cp = ch & (0x3F >> (k - 1));
        for (int j = 1; j < k && i + (size_t)j < n; j++)
            cp = cp << 6 | ((unsigned char)s[i + (size_t)j] & 0x3F);
        if (!cjk(cp)) {
            p->ok = 0;
            return READSTAT_HANDLER_ABORT;
        }
        p->any = 1;
        i += (size_t)k;
    }
    return READSTAT_HANDLER_OK;
}

static int probe_metadata(readstat_metadata_t *md, void *ctx)
{
    return probe_text(ctx, readstat_get_file_label(md));
}

static int probe_variable(int index, readstat_variable_t *v, const char *val_labels, void *ctx)
{
    return probe_text(ctx, readstat_variable_get_label(v));
}

static int probe_value_label(const char *val_labels, readstat_value_t value, const char *label, void *ctx)
{
    return probe_text(ctx, label);
}

static int probe_value(int obs, readstat_variable_t *v, readstat_value_t value, void *ctx)
{
    if (value.type == READSTAT_TYPE_STRING || value.type == READSTAT_TYPE_STRING_REF)
        return probe_text(ctx, readstat_string_value(value));
    return READSTAT_HANDLER_OK;
}

int svy_rs_reads_as_gb18030(svy_rs_parse_fn parse, int fd)
{
    /* ReadStat opens by name: the descriptor's own file, even if its path
     * now names another (or none: a spool), through /proc. */
    char path[64];
    if (fd < 0)
        return 0;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    readstat_parser_t *p = readstat_parser_init();
    if (!p)
        return 0;
    probe pr = {1, 0, iconv_open("GB18030", "UTF-8")};
    if (pr.back == (iconv_t)-1) {
        readstat_parser_free(p);
        return 0;
    }
    readstat_set_metadata_handler(p, probe_metadata);
    readstat_set_variable_handler(p, probe_variable);
    readstat_set_value_label_handler(p, probe_value_label);
    readstat_set_value_handler(p, probe_value);
    readstat_set_handler_character_encoding(p, "UTF-8");
    readstat_set_file_character_encoding(p, "GB18030");
    readstat_error_t e = parse(p, path, &pr);
    readstat_parser_free(p);
    iconv_close(pr.back);
    return e == READSTAT_OK && pr.ok && pr.any;
}

/* ------------------------------------------------- files that say nothing */

int svy_rs_declares_no_encoding(const char *format, readstat_metadata_t *md, int fd)
{
    if (!strcmp(format, "dta"))
        return readstat_get_file_format_version(md) < 118;
    if ((!strcmp(format, "sav") || !strcmp(format, "zsav")) && fd >= 0)
        return svy_sav_declares_encoding(fd) == 0;
    return 0;
}

const char *svy_raw_text(svy_raw_texts *rt, const char *s, size_t *len)
{
    size_t n = *len, i = 0;
    while (i < n && (unsigned char)s[i] < 0x80)
        i++;
    if (i == n)
        return s;
    int k = rt->next;
    rt->next = (k + 1) % 4;
    if (rt->cap[k] < n + 1) {
        char *nb = realloc(rt->buf[k], n + 1);
        if (!nb)
            return NULL;
        rt->buf[k] = nb;
        rt->cap[k] = n + 1;
    }
    char *out = rt->buf[k];
    size_t o = 0;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0xC0 && i + 1 < n) /* U+0080..U+00FF: two bytes in UTF-8 */
            ch = (unsigned char)(((ch & 0x1F) << 6) | ((unsigned char)s[++i] & 0x3F));
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    *len = o;
    return out;
}

void svy_raw_text_free(svy_raw_texts *rt)
{
    for (int i = 0; i < 4; i++)
        free(rt->buf[i]);
}

svy_status svy_undeclared_error(svy_err *err, const char *file, long long row, long long col, const char *var,
                                const char *what, size_t bad, svy_rs_parse_fn parse, int fd)
{
    int gb = parse && fd >= 0 && svy_rs_reads_as_gb18030(parse, fd);
    return svy_err_set(err, SVY_E_ENCODING, file, row, col, var,
                       "%s is not UTF-8 (byte %zu) and the file declares no encoding: name it with --encoding%s",
                       what, bad + 1,
                       gb ? " (the file reads as Chinese in GB18030: --encoding GB18030)" : ", e.g. --encoding CP1252");
}
