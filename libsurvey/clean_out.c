/* The clean engine's memo of cleaned cells (a cell, its CSV field and its log
 * line made once per remembered text), a cell's text, a row's source cells
 * and a kept row's output line (its log lines: clean_log.c). */
#include "svy_private.h"
#include "clean_private.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <survey/value.h>

/* The text of o (its f is set apart, by svy_clean_cell_field). */
int svy_clean_set_text(clean_cell *o, const char *s, size_t len)
{
    if (!svy_grow((void **)&o->own, &o->cap, len + 1 + 16, 1)) /* 16 to spare: see svy_clean_fill_row */
        return 0;
    memmove(o->own, s, len);
    o->own[len] = '\0';
    o->s = o->own;
    o->len = len;
    o->dtoa = 0;
    o->p = &o->v;
    return 1;
}

/* Whole numbers below 1e15 as svy_dtoa prints them, without it. */
static size_t print_number(double x, char *buf)
{
    if (x >= 0 && x < 1e15 && x == (double)(long long)x && !(x == 0 && signbit(x))) {
        size_t n = svy_fmt_ll((long long)x, buf);
        buf[n] = '\0';
        return n;
    }
    return svy_dtoa(x, buf);
}

/* "0".."9", and 16 bytes to spare after each (see svy_clean_fill_row). */
const char svy_clean_small_ints[] = "0\0" "1\0" "2\0" "3\0" "4\0" "5\0" "6\0" "7\0" "8\0" "9\0" "................";

/* A missing cell's text and field: empty, with 16 bytes to spare. */
static const char empty_text[32];

/* A missing value as svy_clean_set_missing makes it. */
const clean_val svy_clean_missing = {.f = empty_text, .s = empty_text, .num = NAN, .missing = 1};

/* 0 and 1 as svy_clean_set_number makes them. */
const clean_val svy_clean_flags[2] = {
    {.f = svy_clean_small_ints, .flen = 1, .s = svy_clean_small_ints, .len = 1, .num = 0.0, .dtoa = 1},
    {.f = svy_clean_small_ints + 2, .flen = 1, .s = svy_clean_small_ints + 2, .len = 1, .num = 1.0, .dtoa = 1}};

int svy_clean_set_number(clean_cell *o, double x)
{
    if (x >= 0 && x <= 9 && x == (double)(int)x && !(x == 0 && signbit(x))) {
        o->s = o->f = svy_clean_small_ints + 2 * (int)x;
        o->len = o->flen = 1;
        o->num = x;
        o->missing = 0;
        o->dtoa = 1;
        o->p = &o->v;
        return 1;
    }
    char buf[SVY_DTOA_MAX];
    size_t n = print_number(x, buf);
    if (!svy_clean_set_text(o, buf, n))
        return 0;
    o->num = x;
    o->missing = 0;
    o->dtoa = 1;
    o->f = o->s;
    o->flen = n;
    return 1;
}


void svy_clean_set_missing(clean_cell *o)
{
    o->missing = 1;
    o->num = NAN;
    o->s = o->f = empty_text;
    o->len = o->flen = 0;
    o->p = &o->v;
}

/* 1 when svy_dtoa prints the number read from s[0..len) as s itself: a
 * plain decimal of at most 15 digits, no zeros it would drop, not in its
 * exponent range; then the text can stay as it is. */
int svy_clean_prints_as_itself(const char *s, size_t len)
{
    size_t i = len && s[0] == '-', sig;
    if (i == len)
        return 0;
    if (s[i] == '0') {
        if (++i == len || s[i] != '.')
            return 0; /* "0" (negative zero apart) is left to svy_dtoa; "05" */
        size_t z = ++i;
        while (i < len && s[i] == '0')
            i++;
        if (i - z > 3 || i == len)
            return 0; /* below 1e-4: printed with an exponent */
        sig = 0;
    } else {
        size_t d = i;
        while (i < len && (unsigned)(s[i] - '0') <= 9)
            i++;
        if (i == d || i - d > 15)
            return 0;
        if (i == len)
            return 1;
        if (s[i] != '.' || ++i == len)
            return 0;
        sig = i - 1 - d;
    }
    size_t f = i;
    for (; i < len; i++)
        if ((unsigned)(s[i] - '0') > 9)
            return 0;
    return sig + (len - f) <= 15 && s[len - 1] != '0';
}

size_t svy_clean_csv_field(char *buf, const char *s, size_t len, int empty_quoted)
{
    int quote = len == 0 ? empty_quoted : len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3);
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == '"' || s[i] == ',' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        memcpy(buf, s, len);
        return len;
    }
    size_t n = 0;
    buf[n++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            buf[n++] = '"';
        buf[n++] = s[i];
    }
    buf[n++] = '"';
    return n;
}

int svy_clean_cell_field(clean_cell *o, int text)
{
    if (o->missing) {
        o->f = empty_text;
        o->flen = 0;
        return 1;
    }
    if (!text && o->dtoa) {
        o->f = o->s;
        o->flen = o->len;
        return 1;
    }
    if (text && o->len && !memchr(o->s, '"', o->len) && !memchr(o->s, ',', o->len) && !memchr(o->s, '\n', o->len) &&
        !memchr(o->s, '\r', o->len) && !(o->len >= 3 && !memcmp(o->s, "\xEF\xBB\xBF", 3))) {
        o->f = o->s;
        o->flen = o->len;
        return 1;
    }
    size_t need = (text ? 2 * o->len + 2 : SVY_DTOA_MAX) + 16; /* 16 to spare: see svy_clean_fill_row */
    if (!svy_grow((void **)&o->fown, &o->fcap, need, 1))
        return 0;
    o->flen = text ? svy_clean_csv_field(o->fown, o->s, o->len, 1) : svy_dtoa(o->num, o->fown);
    o->f = o->fown;
    return 1;
}

clean_slot *svy_clean_memo_find(clean_memo *m, const char *s, size_t len, int *hit)
{
    *hit = 0;
    if (!m->slots) {
        /* From a 64-byte boundary (see clean_slot); calloc's pages are
         * touched only where slots are used. */
        if (!(m->mem = calloc(CLEAN_CELL_SLOTS + 2, sizeof *m->slots)))
            return NULL;
        m->slots = (clean_slot *)((char *)m->mem + (-(uintptr_t)m->mem & 63));
        m->fast = m->slots;
    }
    if (m->off || len > CLEAN_KEY_MAX) {
        *hit = -1;
        return &m->slots[CLEAN_CELL_SLOTS];
    }
    uint64_t a, b, c;
    size_t h = clean_fast_key(s, len, &a, &b, &c) ? clean_fast_slot(a, b, c, m->salt)
                                                  : (svy_hash_bytes(s, len, 0) + m->salt) % CLEAN_CELL_SLOTS;
    /* Four ways: a text is in one of the four slots of h's group (a new one
     * takes slot h if empty, another empty one, else one picked by the count
     * of lookups), so the
     * few texts of one slot do not keep throwing each other out. */
    clean_slot *g = &m->slots[h & ~(size_t)(CLEAN_WAYS - 1)], *r = m->slots[h].used ? NULL : &m->slots[h];
    m->lookups++;
    for (size_t w = 0; w < CLEAN_WAYS; w++) {
        clean_slot *q = &g[w];
        if (q->used && q->keylen == len && !memcmp(q->key, s, len)) {
            *hit = 1;
            return q;
        }
        if (!q->used && !r)
            r = q;
    }
    if (!r)
        r = &g[m->lookups & (CLEAN_WAYS - 1)];
    /* Every 4096 lookups (hits in svy_clean_sources count too): a column
     * that mostly misses is not worth it. */
    m->misses++;
    if (m->lookups >= 4096) {
        if (m->misses * 2 > m->lookups) {
            m->off = 1;
            m->fast = NULL;
        }
        m->lookups = m->misses = 0;
    }
    return r;
}

void svy_clean_memo_free(clean_memo *m)
{
    if (!m->slots)
        return;
    free(m->slots[CLEAN_CELL_SLOTS].blob); /* the scratch slot's (none: no blob) */
    for (size_t i = 0; i < m->nheld; i++) /* not every slot: most were never touched */
        free(m->slots[m->held[i]].blob);
    free(m->held);
    free(m->mem);
    m->slots = NULL;
    m->mem = NULL;
    m->held = NULL;
    m->nheld = m->heldcap = 0;
}

int svy_clean_slot_store(clean_memo *m, clean_slot *r, const svy_cb_var *v, const clean_cell *o, const char *raw, size_t rawlen,
                         int changed, svy_clean_rule rule, const char *detail, size_t *tail_max)
{
    size_t namel = strlen(v->name), dl = detail ? strlen(detail) : 0;
    size_t oldl = strnlen(raw, rawlen), newl = strlen(o->s);
    /* 48 bytes to spare: the row's line and log copy 16 and 32 at a time */
    size_t need = o->len + 1 + o->flen + rawlen + 1 + dl + 1 + 2 * (namel + oldl + newl + dl) + 32 + 48;
    if (!r->blob) { /* the memo's list of slots with a blob, to free them alone */
        if (!svy_grow((void **)&m->held, &m->heldcap, m->nheld + 1, sizeof *m->held))
            return 0;
        m->held[m->nheld++] = (uint32_t)(r - m->slots);
    }
    if (!svy_grow((void **)&r->blob, &r->bcap, need, 1))
        return 0;
    char *b = r->blob;
    size_t n = 0;
    memcpy(b, o->s, o->len);
    b[o->len] = '\0';
    n = o->len + 1;
    memcpy(b + n, o->f, o->flen);
    r->v = o->v;
    r->v.s = b;
    r->v.f = b + n;
    r->v.dtoa = 0;
    n += o->flen;
    r->used = r->keylen = 0;
    r->ka = r->kb = r->kc = 0;
    clean_fast_key(raw, rawlen, &r->ka, &r->kb, &r->kc);
    if (rawlen <= CLEAN_KEY_MAX) {
        memcpy(r->key, raw, rawlen);
        r->keylen = (uint16_t)rawlen;
    }
    r->changed = (unsigned char)changed;
    r->rule = (unsigned char)rule;
    if (changed) {
        r->old_off = (uint32_t)n;
        memcpy(b + n, raw, rawlen);
        b[n + rawlen] = '\0';
        n += rawlen + 1;
        r->det_off = (uint32_t)n;
        memcpy(b + n, detail ? detail : "", dl);
        b[n + dl] = '\0';
        n += dl + 1;
        r->t_off = (uint32_t)n;
        n += svy_clean_csv_field(b + n, v->name, namel, 1);
        b[n++] = ',';
        n += svy_clean_csv_field(b + n, raw, oldl, 0);
        b[n++] = ',';
        n += svy_clean_csv_field(b + n, o->s, newl, 0);
        b[n++] = ',';
        const char *rn = svy_clean_rule_name(rule);
        memcpy(b + n, rn, strlen(rn));
        n += strlen(rn);
        b[n++] = ',';
        n += svy_clean_csv_field(b + n, detail ? detail : "", dl, 0);
        b[n++] = '\n';
        r->t_len = (uint32_t)(n - r->t_off);
        if (*tail_max < r->t_len)
            *tail_max = r->t_len;
    }
    return 1;
}

/* ------------------------------------------------------------ a row */

/* A cell of a column whose memo is off (an id) that is a plain whole
 * number in its valid range, of a numeric variable with no missing codes
 * and no recode set: its text stays (no rule changes it, nothing is
 * logged), made here directly as svy_clean_source would.  0: take the
 * general path. */
static int plain_number(svy_clean *c, size_t i, const svy_value *rv)
{
    const char *s = rv->str;
    size_t len = rv->len;
    if (!c->plain[i] || rv->type != SVY_VAL_STR || rv->missing || len - 1 >= 15 || s[0] == '0')
        return 0;
    uint64_t x = 0;
    for (size_t k = 0; k < len; k++) {
        unsigned d = (unsigned)(unsigned char)s[k] - '0';
        if (d > 9)
            return 0;
        x = x * 10 + d;
    }
    const svy_cb_var *v = &c->cb->vars[i];
    clean_cell *o = &c->cell[i];
    int valid = 0;
    if (v->kind == CB_K_SOURCE && v->nvalid) { /* as svy_cb_var_valid_num for a whole number */
        for (size_t k = 0; k < v->nvalid && !valid; k++)
            valid = (double)x >= v->valid[k].lo && (double)x <= v->valid[k].hi;
    } else {
        valid = svy_cb_var_valid_num(v, (double)x);
    }
    if (!valid)
        return 0;
    if (o->cap < len + 1 + 16) { /* as svy_clean_set_text, which grows it */
        if (!svy_clean_set_text(o, s, len))
            return 0;
    } else { /* 1 to 15 bytes in two loads that may overlap */
        char *t = o->own;
        if (len >= 8) {
            memcpy(t, s, 8);
            memcpy(t + len - 8, s + len - 8, 8);
        } else if (len >= 4) {
            memcpy(t, s, 4);
            memcpy(t + len - 4, s + len - 4, 4);
        } else {
            t[0] = s[0];
            t[len - 1] = s[len - 1];
            t[len / 2] = s[len / 2];
        }
        t[len] = '\0';
        o->s = t;
        o->len = len;
        o->p = &o->v;
    }
    o->num = (double)x;
    o->missing = 0;
    o->dtoa = 1;
    o->f = o->s;
    o->flen = len;
    return 1;
}

/* The slot of a text of 1 to 7 bytes, one word a (svy_clean_memo_find), if
 * it is remembered there, else NULL: a slot of that keylen holds such a text,
 * whose ka is its bytes. */
static inline const clean_slot *memo_hit_short(const clean_slot *fast, size_t h, uint64_t a, size_t len)
{
    const clean_slot *r = &fast[h];
    if (r->ka == a && r->keylen == len)
        return r;
    const clean_slot *g = &fast[h & ~(size_t)(CLEAN_WAYS - 1)]; /* the text's other ways */
    for (size_t w = 0; w < CLEAN_WAYS; w++)
        if (g[w].ka == a && g[w].keylen == len)
            return &g[w];
    return NULL;
}

/* The same for a text of 8 to 23 bytes: its three words tell it apart from
 * any other text (kb or kc of a longer one is never 0). */
static inline const clean_slot *memo_hit(const clean_slot *fast, size_t h, uint64_t a, uint64_t b, uint64_t k)
{
    const clean_slot *r = &fast[h];
    if (r->ka == a && r->kb == b && r->kc == k)
        return r;
    const clean_slot *g = &fast[h & ~(size_t)(CLEAN_WAYS - 1)]; /* the text's other ways */
    for (size_t w = 0; w < CLEAN_WAYS; w++)
        if (g[w].ka == a && g[w].kb == b && g[w].kc == k)
            return &g[w];
    return NULL;
}

/* Source cell p of the row: looked up in its memo, else cleaned
 * (svy_clean_source); its field into the line at *d when the line is being
 * built in order. */
static inline __attribute__((always_inline)) svy_status one_cell(svy_clean *c, const clean_src *p,
                                                                 const svy_value *vals, size_t *nevp, char **dp,
                                                                 svy_err *err)
{
    const svy_value *rv = &vals[p->col];
    clean_memo *m = p->m;
    const clean_slot *fast = m->fast, *r = NULL;
    size_t len = rv->len, nev = *nevp;
    if (fast && len - 1 < 23 && rv->type == SVY_VAL_STR && !rv->missing) {
        uint64_t a, b, k;
        if (len <= 7) { /* the common case: one word */
            a = clean_short_key(rv->str, len);
            r = memo_hit_short(fast, clean_fast_slot(a, 0, 0, m->salt), a, len);
        } else {
            clean_fast_key(rv->str, len, &a, &b, &k);
            r = memo_hit(fast, clean_fast_slot(a, b, k, m->salt), a, b, k);
        }
    }
    const clean_val *cv;
    if (r) {
        m->lookups++;
        p->cell->p = cv = &r->v;
        if (r->changed) /* room for every source cell and check: svy_clean_begin */
            c->ev[nev++].slot = r;
    } else {
        c->nev = nev;
        if (!m->off || !plain_number(c, p->var, rv)) {
            svy_status st = svy_clean_source(c, p->var, rv, err);
            if (st)
                return st;
        }
        if ((long)p->var == c->cb->id) /* the id comes first; every id is new (missing from the memo) */
            svy_clean_id_prefetch(c);
        nev = c->nev;
        cv = p->cell->p;
    }
    *nevp = nev;
    char *d = *dp;
    if (d) { /* as in svy_clean_fill_row */
        size_t n = cv->flen;
        if (n > 16) {
            if (!(d = svy_clean_line_long(c, d, cv->f, n)))
                return svy_err_set(err, SVY_E_NOMEM, c->input, c->cur_row, 0, NULL, "out of memory");
        } else {
            memcpy(d, cv->f, 16);
        }
        d[n] = ',';
        *dp = d + n + 1;
    }
    return SVY_OK;
}

/* Run gr at p, of G members (a constant where it is inlined: its loops
 * unrolled): when its piece is in a slot, each member's value, the run's
 * events and its piece of the line, as the members' own memo hits would make
 * them, and 1.  Else 0, *L the piece's length ((size_t)-1: not a piece).
 *
 * The piece: the members' raw texts v[0..G) in one piece of memory, each a
 * text value (NUL-terminated, svy_value's rule) starting right after the NUL
 * of the one before (the CSV reader's rows).  The bytes between the texts
 * are not read: each is its text's NUL, and a slot is only filled from a
 * piece with no other NUL (svy_clean_group_store), so an equal piece has the
 * same texts. */
static inline __attribute__((always_inline)) int group_hit(svy_clean *c, const clean_src *p, const clean_group *gr,
                                                           const svy_value *v, size_t G, size_t *nevp, char **dp,
                                                           size_t *L)
{
    static const svy_value text = {.type = SVY_VAL_STR, .missing = SVY_MISS_NONE};
    uint16_t want, tm;
    memcpy(&want, &text.type, 2); /* type and missing, next to each other */
    /* Addresses as integers: a number value's str may be NULL, read before its type is known. */
    const uintptr_t s0 = (uintptr_t)v[0].str;
    uintptr_t x = s0, bad = 0;
#pragma GCC unroll 8
    for (size_t j = 0; j < G; j++) {
        memcpy(&tm, &v[j].type, 2);
        bad |= (uintptr_t)(tm ^ want) | ((uintptr_t)v[j].str ^ x);
        x = (uintptr_t)v[j].str + v[j].len + 1;
    }
    size_t n = (size_t)(x - 1 - s0);
    *L = bad ? (size_t)-1 : n;
    if (bad || n - 1 >= 23 || !gr->slots)
        return 0;
    uint64_t a, b, k;
    clean_fast_key(v[0].str, n, &a, &b, &k);
    const clean_gslot *r = clean_group_find(gr, a, b, k, n);
    if (!r)
        return 0;
    clean_cell *cell = p->cell; /* the members' cells follow it (svy_clean_groups_make) */
#pragma GCC unroll 8
    for (size_t j = 0; j < G; j++)
        cell[j].p = &r->ms[j]->v;
    clean_event *ev = c->ev + *nevp;
    for (unsigned m = r->chg; m; m &= m - 1)
        (ev++)->slot = r->ms[__builtin_ctz(m)];
    *nevp = (size_t)(ev - c->ev);
    char *d = *dp;
    if (d) {
        memcpy(d, r->seg, 16);
        for (size_t o = 16; o < r->seglen; o += 16)
            memcpy(d + o, r->seg + o, 16);
        *dp = d + r->seglen;
    }
    return 1;
}

/* A run not found (or not a piece of the line): its cells one by one,
 * then its slot filled (svy_clean_group_store); out of the loop of hits. */
static __attribute__((noinline)) svy_status group_miss(svy_clean *c, clean_src *p, const svy_value *vals, size_t L,
                                                       size_t *nev, char **d, svy_err *err)
{
    uint64_t a = 0, b = 0, k = 0;
    if (L - 1 < 23)
        clean_fast_key(vals[p->col].str, L, &a, &b, &k);
    for (size_t j = 0, g = p->grp->g; j < g; j++) {
        svy_status st = one_cell(c, p + j, vals, nev, d, err);
        if (st)
            return st;
    }
    if (!svy_clean_group_store(c, p, vals[p->col].str, L, a, b, k))
        return svy_err_set(err, SVY_E_NOMEM, c->input, c->cur_row, 0, NULL, "out of memory");
    return SVY_OK;
}

svy_status svy_clean_sources(svy_clean *c, const svy_row *in, svy_err *err)
{
    const svy_value *vals = in->vals;
    clean_src *p = c->src, *pe = p + c->cb->nsource;
    size_t nev = c->nev;
    char *d = c->inorder ? c->lb : NULL; /* each field into the line as soon as it is made */
    for (; p < pe; p++) {
        clean_group *gr = p->grp;
        if (gr) {
            const svy_value *v = &vals[p->col];
            size_t L = 0;
            int hit = 0;
            gr->lookups++;
            switch (gr->g) { /* each size with its loops unrolled */
            case 2: hit = group_hit(c, p, gr, v, 2, &nev, &d, &L); break;
            case 3: hit = group_hit(c, p, gr, v, 3, &nev, &d, &L); break;
            case 4: hit = group_hit(c, p, gr, v, 4, &nev, &d, &L); break;
            case 5: hit = group_hit(c, p, gr, v, 5, &nev, &d, &L); break;
            default: hit = group_hit(c, p, gr, v, 6, &nev, &d, &L); break;
            }
            if (!hit) {
                svy_status st = group_miss(c, p, vals, L, &nev, &d, err);
                if (st)
                    return st;
            }
            p += gr->g - 1;
            continue;
        }
        svy_status st = one_cell(c, p, vals, &nev, &d, err);
        if (st)
            return st;
    }
    c->nev = nev;
    c->lend = d;
    return SVY_OK;
}


/* ------------------------------------------------------------ a kept row's line */

int svy_clean_line_start(svy_clean *c)
{
    /* Each field of up to 16 bytes as one 16-byte copy, and its comma
     * (17 * nvars + 64), and in the output's buffer room for longer ones
     * (a weight's 17 digits) so that the line seldom has to move. */
    size_t need = c->cb->nvars * 17 + 64;
    char *p = c->wout ? svy_csv_out_room(c->wout, need += c->cb->nvars * 16 + 256) : NULL;
    c->lstale = 0;
    c->lroom = p != NULL;
    if (!p) {
        if (c->linecap < need && !svy_grow((void **)&c->line, &c->linecap, need + 192, 1))
            return 0;
        p = c->line;
        need = c->linecap;
    }
    c->lb = c->lend = p;
    c->lcap = need;
    return 1;
}

char *svy_clean_line_long(svy_clean *c, char *d, const char *f, size_t n)
{
    size_t at = (size_t)(d - c->lb), need = at + n + c->cb->nvars * 17 + 64;
    if (need > c->lcap) {
        int moving = c->lroom; /* else lb is line, which may move as it grows */
        if (c->linecap < need && !svy_grow((void **)&c->line, &c->linecap, need + 192, 1))
            return NULL;
        if (moving)
            memcpy(c->line, c->lb, at);
        c->lb = c->line;
        c->lcap = c->linecap;
        c->lroom = 0;
        d = c->lb + at;
    }
    memcpy(d, f, n);
    return d;
}

int svy_clean_fill_row(svy_clean *c)
{
    const svy_codebook *cb = c->cb;
    size_t nv = cb->nvars, i = cb->nsource;
    char *d = c->lend;
    if (!c->inorder || c->lstale || !d) { /* every field anew, where the line was begun */
        i = 0;
        d = c->lb;
    }
    /* Every field of up to 16 bytes as one 16-byte copy (each f has 16
     * bytes to spare), and its comma: room for them all (svy_clean_line_start). */
    for (const clean_cell *cell = c->cell; i < nv; i++) {
        const clean_val *cv = cell[i].p;
        size_t n = cv->flen;
        if (n > 16) {
            if (!(d = svy_clean_line_long(c, d, cv->f, n)))
                return 0;
        } else {
            memcpy(d, cv->f, 16);
        }
        d[n] = ',';
        d += n + 1;
    }
    c->lend = d;
    for (i = 0; i < cb->nvars && !c->line_only; i++) {
        const clean_val *o = c->cell[i].p;
        svy_value *v = &c->vals[i];
        int text = c->text[i];
        v->type = text ? SVY_VAL_STR : SVY_VAL_NUM;
        v->tag = 0;
        if (o->missing) {
            v->missing = SVY_MISS_SYSTEM;
            v->num = NAN;
            v->str = "";
            v->len = 0;
        } else {
            v->missing = SVY_MISS_NONE;
            v->num = text ? 0 : o->num;
            v->str = text ? o->s : NULL;
            v->len = text ? o->len : 0;
        }
    }
    c->row.index = c->st.rows_out;
    c->row.nvals = cb->nvars;
    c->row.vals = c->vals;
    c->row.line = c->lb;
    c->row.line_len = cb->nvars ? (size_t)(d - c->lb) - 1 : 0;
    c->row.line_nvals = cb->nvars;
    return 1;
}
