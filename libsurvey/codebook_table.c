/* The codebook's CSV files read into memory: small tables with a header
 * line, each field kept with the line it starts on for messages. */
#include "svy_private.h"
#include "codebook_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ CSV tables */

void cbtab_free(cbtab *t)
{
    for (size_t i = 0; i < t->nhead; i++)
        free(t->head[i]);
    free(t->head);
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t i = 0; i < t->rows[r].n; i++)
            free(t->rows[r].f[i]);
        free(t->rows[r].f);
    }
    free(t->rows);
    memset(t, 0, sizeof *t);
}

static char *read_file(const char *path, size_t *len, svy_err *err, int *absent)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT && absent) {
            *absent = 1;
            return NULL;
        }
        svy_err_sys(err, errno, path, 0, "cannot open codebook file");
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = svy_malloc(cap);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - n - 1, f);
        n += k;
        if (n + 1 < cap)
            break;
        char *nb = cap > SVY_ALLOC_MAX / 2 ? NULL : realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf) {
        svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "codebook file too large");
        return NULL;
    }
    if (bad) {
        free(buf);
        svy_err_set(err, SVY_E_IO, path, 0, 0, NULL, "read error");
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int push_field(char ***f, size_t *n, size_t *cap, const char *s, size_t len)
{
    if (!svy_grow((void **)f, cap, *n + 1, sizeof **f))
        return 0;
    char *d = svy_strndup(s, len);
    if (!d)
        return 0;
    (*f)[(*n)++] = d;
    return 1;
}

/* RFC 4180 with the spreadsheet habits: BOM, CRLF, a trailing empty line,
 * fields trimmed of blanks outside quotes.  Fully empty rows are skipped. */
svy_status cbtab_load(cbtab *t, const char *path, int *absent, svy_err *err)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    size_t len;
    char *buf = read_file(path, &len, err, absent);
    if (!buf)
        return absent && *absent ? SVY_OK : err->code;
    size_t bad;
    if (!svy_utf8_valid(buf, len, &bad)) {
        int line = 1;
        for (size_t i = 0; i < bad; i++)
            line += buf[i] == '\n';
        free(buf);
        return svy_err_set(err, SVY_E_ENCODING, path, line, 0, NULL, "codebook files must be UTF-8");
    }
    /* NUL is valid UTF-8 but cuts every name and pattern short. */
    const char *nul = memchr(buf, 0, len);
    if (nul) {
        int line = 1;
        for (const char *q = buf; q < nul; q++)
            line += *q == '\n';
        free(buf);
        return svy_err_set(err, SVY_E_ENCODING, path, line, 0, NULL, "NUL byte in a codebook file");
    }
    size_t i = 0;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        i = 3;
    int line = 1;
    char *fld = NULL;
    size_t flen = 0, fcap = 0;
    int first = 1;
    svy_status st = SVY_OK;
    while (i < len && st == SVY_OK) {
        char **f = NULL;
        size_t n = 0, cap = 0;
        int rec_line = line, nonempty = 0;
        for (;;) {
            flen = 0;
            while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
                i++;
            if (i < len && buf[i] == '"') {
                i++;
                for (;;) {
                    if (i >= len) {
                        st = svy_err_set(err, SVY_E_FORMAT, path, rec_line, (long long)n + 1, NULL,
                                         "quoted field not closed");
                        break;
                    }
                    if (buf[i] == '"') {
                        if (i + 1 < len && buf[i + 1] == '"') {
                            i++;
                        } else {
                            i++;
                            break;
                        }
                    }
                    if (buf[i] == '\n')
                        line++;
                    if (!svy_grow((void **)&fld, &fcap, flen + 1, 1)) {
                        st = svy_err_set(err, SVY_E_NOMEM, path, rec_line, 0, NULL, "out of memory");
                        break;
                    }
                    fld[flen++] = buf[i++];
                }
                while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
                    i++;
            } else {
                while (i < len && buf[i] != ',' && buf[i] != '\n' && buf[i] != '\r') {
                    if (!svy_grow((void **)&fld, &fcap, flen + 1, 1)) {
                        st = svy_err_set(err, SVY_E_NOMEM, path, rec_line, 0, NULL, "out of memory");
                        break;
                    }
                    fld[flen++] = buf[i++];
                }
                while (flen && (fld[flen - 1] == ' ' || fld[flen - 1] == '\t'))
                    flen--;
            }
            if (st != SVY_OK)
                break;
            if (flen)
                nonempty = 1;
            if (!push_field(&f, &n, &cap, fld ? fld : "", flen)) {
                st = svy_err_set(err, SVY_E_NOMEM, path, rec_line, 0, NULL, "out of memory");
                break;
            }
            if (i < len && buf[i] == ',') {
                i++;
                continue;
            }
            if (i < len && buf[i] == '\r')
                i++;
            if (i < len && buf[i] == '\n') {
                i++;
                line++;
            } else if (i < len) {
                st = svy_err_set(err, SVY_E_FORMAT, path, rec_line, (long long)n, NULL,
                                 "text after a closing quote");
            }
            break;
        }
        if (st == SVY_OK && nonempty) {
            if (first) {
                t->head = f;
                t->nhead = n;
                f = NULL;
                first = 0;
            } else if (!svy_grow((void **)&t->rows, &t->cap, t->nrows + 1, sizeof *t->rows)) {
                st = svy_err_set(err, SVY_E_NOMEM, path, rec_line, 0, NULL, "out of memory");
            } else {
                t->rows[t->nrows].f = f;
                t->rows[t->nrows].n = n;
                t->rows[t->nrows++].line = rec_line;
                f = NULL;
            }
        }
        if (f) {
            for (size_t k = 0; k < n; k++)
                free(f[k]);
            free(f);
        }
    }
    free(fld);
    free(buf);
    if (st == SVY_OK && first)
        st = svy_err_set(err, SVY_E_FORMAT, path, 1, 0, NULL, "no header line");
    if (st != SVY_OK)
        cbtab_free(t);
    return st;
}

/* Column index by header name; -1 when absent. */
long cbtab_col(const cbtab *t, const char *name)
{
    for (size_t i = 0; i < t->nhead; i++)
        if (!strcmp(t->head[i], name))
            return (long)i;
    return -1;
}

const char *cbtab_cell(const cbtab *t, size_t r, long c)
{
    if (c < 0 || (size_t)c >= t->rows[r].n)
        return "";
    return t->rows[r].f[c];
}

/* Every header must be known and the required ones present. */
svy_status cbtab_check_header(const cbtab *t, const char *const *known, size_t nknown, const char *const *req,
                               size_t nreq, svy_err *err)
{
    for (size_t i = 0; i < t->nhead; i++) {
        size_t k = 0;
        while (k < nknown && strcmp(known[k], t->head[i]))
            k++;
        if (k == nknown)
            return svy_err_set(err, SVY_E_DATA, t->path, 1, (long long)i + 1, NULL, "unknown column '%s'",
                               t->head[i]);
        /* Two columns of one name: the second was silently ignored. */
        if (cbtab_col(t, t->head[i]) != (long)i)
            return svy_err_set(err, SVY_E_DATA, t->path, 1, (long long)i + 1, NULL,
                               "column '%s' given twice (first as column %ld)", t->head[i],
                               cbtab_col(t, t->head[i]) + 1);
    }
    for (size_t k = 0; k < nreq; k++)
        if (cbtab_col(t, req[k]) < 0)
            return svy_err_set(err, SVY_E_DATA, t->path, 1, 0, NULL, "required column '%s' missing", req[k]);
    return SVY_OK;
}
