/* The estimator's new domains, records and share levels: what a row that
 * starts a domain, a (domain, unit) pair or a share level needs made.  The
 * per-row look-ups, with their caches, are in estimate_rows.c (the hot
 * path stays in one translation unit). */
#include "svy_private.h"
#include "estimate_private.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

/* ------------------------------------------------------------- domains */

static svy_status key_grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return SVY_OK;
    return svy_grow((void **)buf, cap, need, 1) ? SVY_OK : SVY_E_NOMEM;
}

long svy_est_new_domain(svy_est *e, const svy_row *row, int overall, svy_err *err)
{
    size_t id = e->dom_tab.n - 1; /* already interned by the caller */
    size_t oldcap = e->cap_doms;
    if (!svy_grow((void **)&e->doms, &e->cap_doms, id + 1, sizeof *e->doms))
        return nomem(err), -1;
    if (e->cap_doms > oldcap)
        memset(e->doms + oldcap, 0, (e->cap_doms - oldcap) * sizeof *e->doms);
    dominfo *d = &e->doms[id];
    d->overall = overall;
    d->first_row = row->index;
    d->block = e->ndpool;
    size_t need = e->ndpool + DB * e->nout;
    if (!svy_grow((void **)&e->dpool, &e->capdpool, need, sizeof *e->dpool))
        return nomem(err), -1;
    memset(e->dpool + e->ndpool, 0, DB * e->nout * sizeof *e->dpool);
    e->ndpool = need;
    if (!svy_grow((void **)&e->dom_vals, &e->cap_dom_vals, (id + 1) * (e->nby ? e->nby : 1), sizeof *e->dom_vals))
        return nomem(err), -1;
    for (size_t k = 0; k < e->nby; k++) {
        size_t idx = id * e->nby + k;
        if (overall) {
            e->dom_vals[idx] = (size_t)-1;
            continue;
        }
        /* shown as first seen: "01" stays "01" though "1" is the same code */
        const svy_value *v = &row->vals[e->by_idx[k]];
        char nb[SVY_DTOA_MAX];
        size_t len;
        const char *s = v->type == SVY_VAL_STR ? v->str : nb;
        len = v->type == SVY_VAL_STR ? v->len : svy_dtoa(v->num, nb);
        long vid = svy_strtab_intern(&e->domval_tab, s, len, NULL);
        if (vid < 0)
            return nomem(err), -1;
        if (!svy_grow((void **)&e->domval_num, &e->cap_domval_num, (size_t)vid + 1, 1))
            return nomem(err), -1;
        e->domval_num[vid] = v->type == SVY_VAL_NUM;
        e->dom_vals[idx] = (size_t)vid;
    }
    return (long)id;
}

/* ------------------------------------------------------------- records */

/* Keep the direct indexes of records under this many bytes in all. */
#define DENSE_MAX ((size_t)64 << 20)

long svy_est_rec_new(svy_est *e, layer *L, size_t li, uint32_t dom, uint32_t key, svy_err *err)
{
    int added;
    long i = svy_u64map_get(&L->map, ((uint64_t)dom << 32) | key, L->nrecs, &added);
    if (i < 0)
        return nomem(err), -1;
    if (added) {
        if (!svy_grow((void **)&L->recs, &L->caprecs, L->nrecs + 1, sizeof *L->recs))
            return nomem(err), -1;
        size_t need = L->npool + L->bsize;
        size_t cap = L->cappool;
        if (!svy_grow((void **)&L->pool, &L->cappool, need, sizeof *L->pool))
            return nomem(err), -1;
        if (cap != L->cappool)
            svy_dsn_huge(L->pool, L->cappool * sizeof *L->pool);
        memset(L->pool + L->npool, 0, L->bsize * sizeof *L->pool);
        L->recs[L->nrecs++] = (rec){.domain = dom, .key = key, .block = L->npool};
        L->npool = need;
    }
    if (li >= LAYERS_MAX) /* a layer beside the design's (estimate_calib.c): no direct index */
        return i;
    /* Extend the domain's direct index over this key while memory allows:
     * rows in any order then find their record without hashing. */
    dindex *x = &e->doms[dom].dix[li];
    if (key >= x->len) {
        size_t nl = x->len ? x->len * 2 : 64;
        while (nl <= key)
            nl *= 2;
        if (e->dense_bytes + (nl - x->len) * sizeof *x->idx <= DENSE_MAX) {
            uint32_t *ni = realloc(x->idx, nl * sizeof *ni);
            if (ni) {
                memset(ni + x->len, 0, (nl - x->len) * sizeof *ni);
                e->dense_bytes += (nl - x->len) * sizeof *ni;
                x->idx = ni;
                x->len = nl;
            }
        }
    }
    if (key < x->len)
        x->idx[key] = (uint32_t)i + 1;
    return i;
}

double *svy_est_level_block(svy_est *e, layer *L, size_t r, long level, svy_err *err)
{
    size_t bs = L->rows ? 4 : 1;
    int added;
    long i = svy_u64map_get(&L->lmap, ((uint64_t)r << 32) | (uint64_t)level, L->nlpool / bs, &added);
    if (i < 0)
        return nomem(err), NULL;
    if (added) {
        if (!svy_grow((void **)&L->lpool, &L->caplpool, L->nlpool + bs, sizeof *L->lpool))
            return nomem(err), NULL;
        memset(L->lpool + L->nlpool, 0, bs * sizeof *L->lpool);
        L->nlpool += bs;
    }
    return L->lpool + (size_t)i * bs;
}

/* ------------------------------------------------------- share levels */

long svy_est_level_get(svy_est *e, size_t o, const svy_value *v, svy_err *err)
{
    char nb[SVY_DTOA_MAX];
    size_t len;
    const char *s = svy_dsn_key(v, e->out[o].numeric, nb, &len);
    char pre[24];
    int pl = snprintf(pre, sizeof pre, "%zu", o);
    if (key_grow(&e->keybuf, &e->capkey, (size_t)pl + 1 + len))
        return nomem(err), -1;
    memcpy(e->keybuf, pre, (size_t)pl + 1);
    memcpy(e->keybuf + pl + 1, s, len);
    int added;
    long id = svy_strtab_intern(&e->lvl_tab, e->keybuf, (size_t)pl + 1 + len, &added);
    if (id < 0)
        return nomem(err), -1;
    if (added) {
        if (!svy_grow((void **)&e->lvl_outcome, &e->cap_lvl_outcome, (size_t)id + 1, sizeof *e->lvl_outcome))
            return nomem(err), -1;
        e->lvl_outcome[id] = (long)o;
    }
    return id;
}

