/* The clean engine's log: a kept row's changes, each a line "row,id," and
 * the line's tail made once per remembered cell (clean_out.c's memo), to the
 * log and the change hook, counted by rule. */
#include "svy_private.h"
#include "clean_private.h"

#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

const char *svy_clean_row_id(const svy_clean *c)
{
    if (c->cb->id < 0 || c->cell[c->cb->id].p->missing)
        return "";
    return c->cell[c->cb->id].p->s;
}

/* "row,id," of the row's log lines, at the start of buf. */
static size_t log_prefix(svy_clean *c, char *buf, long long row, const char *id, size_t idl)
{
    size_t n = c->lrow_n; /* the row number's text is kept from the last row */
    if (n && c->lrow > 0 && row == c->lrow + 1 && row < 100000000000000LL) { /* the next row: one added to its digits */
        char *t = c->lrow_txt;
        size_t k = n;
        while (k && t[k - 1] == '9')
            t[--k] = '0';
        if (k) {
            t[k - 1]++;
        } else {
            memmove(t + 1, t, n++);
            t[0] = '1';
        }
    } else {
        n = svy_fmt_ll(row, c->lrow_txt); /* as svy_csv_out_int writes it */
    }
    c->lrow = row;
    c->lrow_n = n;
    memcpy(buf, c->lrow_txt, 24);
    buf[n++] = ',';
    if (c->cb->id >= 0 && !c->text[c->cb->id] && idl) { /* a number's text needs no quotes */
        if (idl <= 16)
            memcpy(buf + n, id, 16); /* a cell's text has 16 bytes to spare */
        else
            memcpy(buf + n, id, idl);
        n += idl;
    } else
        n += svy_clean_csv_field(buf + n, id, idl, 1);
    buf[n++] = ',';
    return n;
}

/* A log line's tail (after "row,id,"), counted by its rule. */
static inline const char *event_tail(svy_clean *c, const clean_event *e, size_t *tl)
{
    const clean_slot *r = e->slot;
    if (r) {
        c->st.changed_by[r->rule]++;
        *tl = r->t_len;
        return r->blob + r->t_off;
    }
    c->st.changed_by[e->rule]++;
    *tl = e->t_len;
    return c->arena + e->t_off;
}

/* A tail of tl bytes at d, as 32-byte copies: tails have 48 bytes to spare,
 * the log's room 64 (see write_log's need). */
static inline char *put_tail(char *d, const char *t, size_t tl)
{
    if (tl <= 64) {
        memcpy(d, t, 32);
        if (tl > 32)
            memcpy(d + 32, t + 32, 32);
        return d + tl;
    }
    return (char *)memcpy(d, t, tl) + tl;
}

/* The row's log lines after the first's prefix (pre bytes at buf, at most
 * 32): each line's prefix one 32-byte copy.  Returns their end. */
static char *log_lines32(svy_clean *c, char *buf, size_t pre)
{
    char p32[32];
    memcpy(p32, buf, 32); /* pre bytes and what follows them in the log's room */
    char *d = buf;
    for (const clean_event *e = c->ev, *ee = e + c->nev; e < ee; e++) {
        size_t tl;
        const char *t = event_tail(c, e, &tl);
        memcpy(d, p32, 32); /* the first line's own prefix again, in place */
        d = put_tail(d + pre, t, tl);
    }
    return d;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* log_lines32 with AVX2's 32-byte moves (the prefix one store from a
 * register, a tail two or four moves); chosen at run time (write_log). */
__attribute__((target("avx2"))) static char *log_lines32_avx2(svy_clean *c, char *buf, size_t pre)
{
    const __m256i p32 = _mm256_loadu_si256((const __m256i *)(const void *)buf);
    char *d = buf;
    for (const clean_event *e = c->ev, *ee = e + c->nev; e < ee; e++) {
        size_t tl;
        const char *t = event_tail(c, e, &tl);
        _mm256_storeu_si256((__m256i *)(void *)d, p32);
        d += pre;
        if (tl <= 64) { /* 48 bytes to spare after a tail, 64 in the log's room (write_log) */
            _mm256_storeu_si256((__m256i *)(void *)d, _mm256_loadu_si256((const __m256i *)(const void *)t));
            if (tl > 32)
                _mm256_storeu_si256((__m256i *)(void *)(d + 32),
                                    _mm256_loadu_si256((const __m256i *)(const void *)(t + 32)));
        } else {
            memcpy(d, t, tl);
        }
        d += tl;
    }
    return d;
}
#endif

/* The same for a longer prefix (a long id). */
static char *log_lines(svy_clean *c, char *buf, size_t pre)
{
    char *d = buf + pre;
    for (const clean_event *e = c->ev, *ee = e + c->nev; e < ee; e++) {
        size_t tl;
        const char *t = event_tail(c, e, &tl);
        if (e != c->ev)
            d = (char *)memcpy(d, buf, pre) + pre;
        d = put_tail(d, t, tl);
    }
    return d;
}

/* The row's log lines, all in one piece. */
static int write_log(svy_clean *c, long long row)
{
    const clean_val *idv = c->cb->id >= 0 ? c->cell[c->cb->id].p : &svy_clean_missing; /* svy_clean_row_id */
    const char *id = idv->missing ? "" : idv->s;
    size_t idl = idv->missing ? 0 : idv->len, pre;
    /* Straight into the log's buffer when it has room (the copies below
     * may write up to 64 bytes past a line's end: the room allows it). */
    size_t need = (c->nev + 1) * (2 * idl + 40 + c->tail_max + 32);
    char *buf = svy_csv_out_room(c->log, need);
    if (!buf) {
        if (!svy_grow((void **)&c->lbuf, &c->lbufcap, need, 1))
            return 0;
        buf = c->lbuf;
    }
    pre = log_prefix(c, buf, row, id, idl);
    char *d;
#if defined(__x86_64__) && defined(__GNUC__)
    if (pre <= 32 && c->avx2)
        d = log_lines32_avx2(c, buf, pre);
    else
#endif
        d = pre <= 32 ? log_lines32(c, buf, pre) : log_lines(c, buf, pre);
    if (buf != c->lbuf) {
        svy_csv_out_advance(c->log, (size_t)(d - buf));
    } else {
        svy_csv_out_fields(c->log, buf, (size_t)(d - buf) - 1);
        svy_csv_out_end_row(c->log);
    }
    return 1;
}

static svy_status hook_changes(svy_clean *c, long long row, svy_err *err)
{
    svy_status st = SVY_OK;
    for (size_t k = 0; k < c->nev && st == SVY_OK; k++) {
        const clean_event *e = &c->ev[k];
        const clean_slot *r = e->slot;
        const char *base = r ? r->blob : c->arena;
        svy_clean_change ch = {row,
                               svy_clean_row_id(c),
                               c->cb->vars[r ? r->var : e->var].name,
                               base + (r ? r->old_off : e->old_off),
                               base + (r ? 0 : e->new_off),
                               r ? (svy_clean_rule)r->rule : e->rule,
                               base + (r ? r->det_off : e->det_off)};
        if (c->hooks.change)
            st = c->hooks.change(c->ctx, &ch, err);
    }
    return st;
}

svy_status svy_clean_emit_changes(svy_clean *c, long long row, svy_err *err)
{
    c->st.cells_changed += (long long)c->nev;
    if (c->log && c->nev) { /* it counts them by rule as well */
        if (!write_log(c, row))
            return svy_err_set(err, SVY_E_NOMEM, c->input, row, 0, NULL, "out of memory");
    } else {
        for (size_t k = 0; k < c->nev; k++)
            c->st.changed_by[c->ev[k].slot ? c->ev[k].slot->rule : c->ev[k].rule]++;
    }
    if (!c->hooks.change)
        return SVY_OK;
    return hook_changes(c, row, err);
}

