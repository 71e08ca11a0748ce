/* libcsv's side of CSV input: the per-field and end-of-row callbacks for
 * lines the fast path in csv_read.c leaves to libcsv (quoted fields), the
 * header, and the delimiter guess. */
#include "csv_private.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* libcsv trims blanks around unquoted fields unless told not to: keep the
 * data as it is. */
int svy_csv_no_space(unsigned char c)
{
    (void)c;
    return 0;
}

void svy_csv_fail(csvctx *c, svy_status code, long long col, const char *var, const char *msg)
{
    if (c->st)
        return;
    c->st = svy_err_set(c->err, code, c->r->name, c->header_done ? c->r->rows + 1 : 0, col, var, "%s", msg);
}

int svy_csv_check_utf8(csvctx *c, const char *s, size_t len, const char *var)
{
    size_t bad;
    if (c->ascii_line || svy_utf8_valid(s, len, &bad))
        return 1;
    if (!var && c->header_done && c->col < c->ncols)
        var = svy_var_name(svy_schema_var(c->r->full, c->col));
    if (!c->st) {
        c->st = svy_err_set(c->err, SVY_E_ENCODING, c->r->name, c->header_done ? c->r->rows + 1 : 0,
                            (long long)c->col + 1, var,
                            "text is not valid UTF-8 (byte %zu of the field); give the file's encoding with "
                            "--encoding, for example GB18030 or CP1252",
                            bad + 1);
    }
    return 0;
}

void svy_csv_on_field(void *s, size_t len, void *data)
{
    csvctx *c = data;
    if (c->st)
        return;
    if (!c->header_done) {
        if (c->nnames >= COLS_MAX) {
            svy_csv_fail(c, SVY_E_LIMIT, (long long)c->nnames + 1, NULL, "more than 100000 columns");
            return;
        }
        if (s && !svy_csv_check_utf8(c, s, len, NULL))
            return;
        if (!svy_grow((void **)&c->names, &c->names_cap, c->nnames + 1, sizeof *c->names)) {
            svy_csv_fail(c, SVY_E_NOMEM, 0, NULL, "out of memory");
            return;
        }
        c->names[c->nnames] = s ? svy_strndup(s, len) : svy_strdup("");
        if (!c->names[c->nnames]) {
            svy_csv_fail(c, SVY_E_NOMEM, 0, NULL, "out of memory");
            return;
        }
        c->nnames++;
        c->col++;
        return;
    }
    if (c->col >= c->ncols) {
        char msg[96];
        snprintf(msg, sizeof msg, "row has more fields than the %zu of the header", c->ncols);
        svy_csv_fail(c, SVY_E_DATA, (long long)c->col + 1, NULL, msg);
        c->col++;
        return;
    }
    long slot = svy_reader_slot(c->r, c->col);
    if (slot >= 0) {
        if (!s) {
            c->miss[slot] = 1;
            c->len[slot] = 0;
        } else {
            if (!svy_csv_check_utf8(c, s, len, NULL))
                return;
            if (c->zero_copy) {
                /* The delimiter after the field becomes its NUL. */
                ((char *)s)[len] = '\0';
                c->direct[slot] = s;
                c->len[slot] = len;
                c->miss[slot] = 0;
                c->col++;
                return;
            }
            c->direct[slot] = NULL;
            /* Past the cap the row is too large; below it, memory ran out
             * (fault injection found both reported as a size limit). */
            if (c->arena_len + len + 1 > SVY_ALLOC_MAX / 2) {
                svy_csv_fail(c, SVY_E_LIMIT, (long long)c->col + 1, NULL, "row too large");
                return;
            }
            if (!svy_grow((void **)&c->arena, &c->arena_cap, c->arena_len + len + 1, 1)) {
                svy_csv_fail(c, SVY_E_NOMEM, (long long)c->col + 1, NULL, "out of memory");
                return;
            }
            memcpy(c->arena + c->arena_len, s, len);
            c->arena[c->arena_len + len] = '\0';
            c->off[slot] = c->arena_len;
            c->len[slot] = len;
            c->miss[slot] = 0;
            c->arena_len += len + 1;
        }
    }
    c->col++;
}

static void start_rows(csvctx *c)
{
    svy_reader *r = c->r;
    svy_err *err = c->err;
    svy_schema *full = svy_schema_new();
    if (!full || svy_schema_set_format(full, r->format)) {
        svy_schema_free(full);
        svy_csv_fail(c, SVY_E_NOMEM, 0, NULL, "out of memory");
        return;
    }
    for (size_t i = 0; i < c->nnames; i++) {
        const char *name = c->names[i];
        char gen[32];
        if (!*name) {
            /* A blank header cell still names a column the data can use. */
            snprintf(gen, sizeof gen, "V%zu", i + 1);
            name = gen;
        }
        if (!svy_schema_add(full, name, SVY_VAR_UNTYPED, err)) {
            long first = svy_schema_find(full, name);
            svy_schema_free(full);
            if (err) {
                err->row = 0;
                err->col = (long long)i + 1;
                snprintf(err->file, sizeof err->file, "%s", r->name);
                if (err->code == SVY_E_USAGE) {
                    err->code = SVY_E_DATA;
                    snprintf(err->msg, sizeof err->msg, "column name '%s' given twice (first as column %ld)",
                             name, first + 1);
                }
            }
            c->st = err ? err->code : SVY_E_DATA;
            return;
        }
    }
    c->ncols = c->nnames;
    c->header_done = 1;
    svy_status st = svy_reader_begin(r, full, c->h, c->ctx, err);
    if (st) {
        c->st = st;
        return;
    }
    c->nslots = svy_schema_nvars(r->out);
    size_t n = c->nslots ? c->nslots : 1;
    c->off = svy_calloc(n, sizeof *c->off);
    c->len = svy_calloc(n, sizeof *c->len);
    c->miss = svy_calloc(n, 1);
    c->direct = svy_calloc(n, sizeof *c->direct);
    if (!c->off || !c->len || !c->miss || !c->direct)
        svy_csv_fail(c, SVY_E_NOMEM, 0, NULL, "out of memory");
    c->lines_ok = r->keep_lines && c->delim == ',' && c->check_ff && c->nslots == c->ncols;
    for (size_t i = 0; i < c->ncols && c->lines_ok; i++)
        c->lines_ok = svy_reader_slot(r, i) == (long)i;
    /* Every CSV value is text: what only the row loops would repeat. */
    for (size_t i = 0; i < c->nslots; i++) {
        r->vals[i].type = SVY_VAL_STR;
        r->vals[i].tag = 0;
        r->vals[i].num = 0;
    }
}

void svy_csv_on_row(int term, void *data)
{
    (void)term;
    csvctx *c = data;
    c->row_done = 1;
    if (c->st)
        return;
    if (!c->header_done) {
        start_rows(c);
        c->col = 0;
        return;
    }
    if (c->col != c->ncols) {
        if (!c->st)
            c->st = svy_err_set(c->err, SVY_E_DATA, c->r->name, c->r->rows + 1, (long long)c->col, NULL,
                                "row has %zu field%s, the header has %zu", c->col, c->col == 1 ? "" : "s",
                                c->ncols);
        return;
    }
    svy_value *vals = c->r->vals;
    for (size_t i = 0; i < c->nslots; i++) {
        svy_value *v = &vals[i];
        v->type = SVY_VAL_STR;
        v->tag = 0;
        v->num = 0;
        if (c->miss[i]) {
            v->missing = SVY_MISS_SYSTEM;
            v->str = "";
            v->len = 0;
        } else {
            v->missing = SVY_MISS_NONE;
            v->str = c->direct[i] ? c->direct[i] : c->arena + c->off[i];
            v->len = c->len[i];
        }
    }
    svy_status st = svy_reader_emit(c->r, c->h, c->ctx, c->err);
    if (st)
        c->st = st;
    c->col = 0;
    c->arena_len = 0;
}

char svy_csv_detect_delim(const svy_reader *r)
{
    if (r->delim)
        return r->delim;
    if (strcmp(r->format, "tsv") == 0)
        return '\t';
    /* Most frequent of , ; | outside quotes on the first line. */
    size_t counts[3] = {0, 0, 0};
    const char cands[3] = {',', ';', '|'};
    int inq = 0;
    for (size_t i = 0; i < r->head_len; i++) {
        char ch = (char)r->head[i];
        if (ch == '"')
            inq = !inq;
        else if (!inq && (ch == '\n' || ch == '\r'))
            break;
        else if (!inq)
            for (int k = 0; k < 3; k++)
                counts[k] += ch == cands[k];
    }
    int best = 0;
    for (int k = 1; k < 3; k++)
        if (counts[k] > counts[best])
            best = k;
    return cands[best];
}

int svy_csv_is_utf8_name(const char *enc)
{
    return strcasecmp(enc, "UTF-8") == 0 || strcasecmp(enc, "UTF8") == 0;
}

