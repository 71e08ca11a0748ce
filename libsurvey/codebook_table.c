/* The codebook's CSV files read into memory: small tables with a header
 * line, each field kept with the line it starts on for messages. */
#include "svy_private.h"
#include "codebook_private.h"

#include <csv.h>
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

/* NUL is valid UTF-8 but cuts every name and pattern short. */
static svy_status check_bytes(const char *buf, size_t len, const char *path, svy_err *err)
{
    size_t bad;
    const char *msg = NULL;
    if (!svy_utf8_valid(buf, len, &bad))
        msg = "codebook files must be UTF-8";
    else if (memchr(buf, 0, len)) {
        bad = (size_t)((const char *)memchr(buf, 0, len) - buf);
        msg = "NUL byte in a codebook file";
    }
    if (!msg)
        return SVY_OK;
    int line = 1;
    for (size_t i = 0; i < bad; i++)
        line += buf[i] == '\n';
    return svy_err_set(err, SVY_E_ENCODING, path, line, 0, NULL, "%s", msg);
}

/* libcsv parses; this reader keeps what libcsv does not say: the line each
 * record starts on, and where each field's raw bytes lie, so that the two
 * places where lenient libcsv and the codebook's rules differ are caught
 * (text after a closing quote, which libcsv folds into the field; a quote
 * never closed, which libcsv closes at the end) and a lone CR.  The buffer
 * is fed one byte at a time so the callbacks know the position; codebook
 * files are small. */
typedef struct cbparse {
    cbtab *t;
    svy_err *err;
    const char *buf;
    size_t len, pos, fstart;
    char **f;
    size_t n, cap;
    int line, rec_line, in_row, nonempty;
    svy_status st;
} cbparse;

static int is_blank(char b)
{
    return b == ' ' || b == '\t';
}

/* The raw bytes [fstart, end) of one field against the quoting rules. */
static svy_status raw_field_check(cbparse *c, size_t end)
{
    const char *b = c->buf;
    size_t j = c->fstart;
    while (j < end && (is_blank(b[j]) || b[j] == '\r' || b[j] == '\n'))
        j++;
    if (j == end || b[j] != '"')
        return SVY_OK;
    for (j++;; j++) {
        if (j >= end)
            return svy_err_set(c->err, SVY_E_FORMAT, c->t->path, c->rec_line, (long long)c->n + 1, NULL,
                               "quoted field not closed");
        if (b[j] == '"') {
            if (j + 1 < end && b[j + 1] == '"')
                j++;
            else
                break;
        }
    }
    for (j++; j < end && is_blank(b[j]); j++)
        ;
    if (j != end)
        return svy_err_set(c->err, SVY_E_FORMAT, c->t->path, c->rec_line, (long long)c->n + 1, NULL,
                           "text after a closing quote");
    return SVY_OK;
}

static void drop_fields(cbparse *c)
{
    for (size_t k = 0; k < c->n; k++)
        free(c->f[k]);
    free(c->f);
    c->f = NULL;
    c->n = c->cap = 0;
}

static void on_field(void *s, size_t len, void *data)
{
    cbparse *c = data;
    if (c->st != SVY_OK)
        return;
    c->st = raw_field_check(c, c->pos);
    c->fstart = c->pos + 1;
    if (c->st != SVY_OK)
        return;
    char *d = NULL;
    if (!svy_grow((void **)&c->f, &c->cap, c->n + 1, sizeof *c->f) || !(d = svy_strndup(s ? s : "", len))) {
        c->st = svy_err_set(c->err, SVY_E_NOMEM, c->t->path, c->rec_line, 0, NULL, "out of memory");
        return;
    }
    c->f[c->n++] = d;
    c->nonempty |= len > 0;
}

/* A record ends: the first one with any text is the header, fully empty
 * ones are skipped. */
static void on_row(int term, void *data)
{
    cbparse *c = data;
    c->in_row = 0;
    c->fstart = c->pos + 1;
    if (c->st == SVY_OK && term == '\r' && c->pos + 1 < c->len && c->buf[c->pos + 1] != '\n')
        c->st = svy_err_set(c->err, SVY_E_FORMAT, c->t->path, c->rec_line, (long long)c->n, NULL,
                            "text after a closing quote");
    cbtab *t = c->t;
    if (c->st == SVY_OK && c->nonempty) {
        if (!t->head) {
            t->head = c->f;
            t->nhead = c->n;
            c->f = NULL;
        } else if (!svy_grow((void **)&t->rows, &t->cap, t->nrows + 1, sizeof *t->rows)) {
            c->st = svy_err_set(c->err, SVY_E_NOMEM, t->path, c->rec_line, 0, NULL, "out of memory");
        } else {
            t->rows[t->nrows++] = (cbrow){c->f, c->n, c->rec_line};
            c->f = NULL;
        }
    }
    if (c->f)
        drop_fields(c);
    c->n = c->cap = 0;
    c->nonempty = 0;
}

/* One byte into libcsv, with the line count and the start of a record. */
static void feed(cbparse *c, struct csv_parser *p, size_t i)
{
    char b = c->buf[i];
    if (!c->in_row && b == '\r' && i + 1 < c->len && c->buf[i + 1] != '\n') {
        c->st = svy_err_set(c->err, SVY_E_FORMAT, c->t->path, c->line, 1, NULL, "text after a closing quote");
        return;
    }
    if (!c->in_row && !is_blank(b) && b != '\r' && b != '\n') {
        c->in_row = 1;
        c->rec_line = c->line;
    }
    c->pos = i;
    if (csv_parse(p, c->buf + i, 1, on_field, on_row, c) != 1 && c->st == SVY_OK)
        c->st = svy_err_set(c->err, SVY_E_NOMEM, c->t->path, c->rec_line, 0, NULL, "out of memory");
    c->line += b == '\n';
}

/* RFC 4180 with the spreadsheet habits: BOM, CRLF, a trailing empty line,
 * fields trimmed of blanks outside quotes.  Fully empty rows are skipped.
 * libcsv runs lenient (a quote inside an unquoted field is kept). */
svy_status cbtab_load(cbtab *t, const char *path, int *absent, svy_err *err)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    size_t len;
    char *buf = read_file(path, &len, err, absent);
    if (!buf)
        return absent && *absent ? SVY_OK : err->code;
    svy_status st = check_bytes(buf, len, path, err);
    struct csv_parser p;
    if (st == SVY_OK && csv_init(&p, 0) != 0)
        st = svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
    if (st == SVY_OK) {
        size_t i = len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) ? 3 : 0;
        cbparse c = {.t = t, .err = err, .buf = buf, .len = len, .fstart = i, .line = 1, .rec_line = 1};
        for (; i < len && c.st == SVY_OK; i++)
            feed(&c, &p, i);
        c.pos = len;
        if (c.st == SVY_OK && csv_fini(&p, on_field, on_row, &c) != 0 && c.st == SVY_OK)
            c.st = svy_err_set(err, SVY_E_NOMEM, path, c.rec_line, 0, NULL, "out of memory");
        drop_fields(&c);
        csv_free(&p);
        st = c.st;
    }
    free(buf);
    if (st == SVY_OK && !t->head)
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
