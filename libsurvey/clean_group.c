/* The clean engine's memo of runs of adjacent code columns: a battery of
 * yes/no questions (B1_1..B1_7, then B2..B7_5 of the NSFE codebook) is
 * answered in far fewer combinations than there are rows, so the whole
 * run's raw texts, one piece of the input line, are one key.  A hit gives
 * every member cell its memo slot's value, the row's events of the run and
 * its part of the output line at once (svy_clean_sources); a miss cleans
 * the cells one by one and records them here.  Outputs are the same either
 * way: a record only repeats what the members' own memo slots hold. */
#include "svy_private.h"
#include "clean_private.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A run is given up when more than half of its lookups in a window of
 * this many had to throw a record out or could not make one. */
#define GROUP_WINDOW 4096

void svy_clean_groups_free(svy_clean *c)
{
    for (size_t k = 0; k < c->ngrp; k++) {
        clean_gent *t = c->grp[k].tab;
        if (!t)
            continue;
        for (size_t e = 0; e < (size_t)CLEAN_GROUP_SETS * CLEAN_GROUP_WAYS; e++)
            free(t[e].rec);
        free(t);
    }
    free(c->grp);
    c->grp = NULL;
    c->ngrp = 0;
}

/* Plan entry j and the next are members of one run: code columns, not the
 * id, next to each other in the input as in the plan. */
static int joins_next(const svy_clean *c, size_t j)
{
    const svy_codebook *cb = c->cb;
    if (j + 1 >= cb->nsource)
        return 0;
    const clean_src *a = &c->src[j], *b = &c->src[j + 1];
    return cb->vars[a->var].type == SVY_CB_CODE && cb->vars[b->var].type == SVY_CB_CODE && (long)a->var != cb->id &&
           (long)b->var != cb->id && b->col == a->col + 1 && b->cell == a->cell + 1; /* cells from the first's */
}

int svy_clean_groups_make(svy_clean *c)
{
    svy_clean_groups_free(c);
    size_t ns = c->cb->nsource, n = 0;
    for (size_t i = 0; i < ns; i++) {
        c->cmemo[c->src[i].var].epoch = &c->cmemo[c->src[i].var].own_epoch;
        c->src[i].grp = NULL;
    }
    for (int pass = 0; pass < 2; pass++) {
        n = 0;
        for (size_t j = 0; j < ns;) {
            size_t g = 1;
            while (g < CLEAN_GROUP_MAX && joins_next(c, j + g - 1))
                g++;
            if (g >= 2 && pass) {
                clean_group *gr = &c->grp[n];
                gr->first = j;
                gr->g = g;
                c->src[j].grp = gr;
                for (size_t k = j; k < j + g; k++)
                    c->cmemo[c->src[k].var].epoch = &gr->epoch;
            }
            n += g >= 2;
            j += g;
        }
        if (!pass && n && !(c->grp = calloc(n, sizeof *c->grp)))
            return 0;
    }
    c->ngrp = n;
    return 1;
}

/* The memo slot whose value v is. */
static const clean_slot *slot_of(const clean_val *v)
{
    return (const clean_slot *)(const void *)((const char *)v - offsetof(clean_slot, v));
}

/* Lookups of the window: more than half of them misses (of those counted),
 * and the run is looked up no more. */
static void count_miss(clean_group *gr, clean_src *p)
{
    gr->misses++;
    if (gr->lookups >= GROUP_WINDOW) {
        if (gr->misses * 2 > gr->lookups)
            p->grp = NULL;
        gr->lookups = gr->misses = 0;
    }
}

int svy_clean_group_store(svy_clean *c, clean_src *p, const char *s0, const uint64_t *kw, size_t n, size_t len,
                          uint64_t h)
{
    clean_group *gr = p->grp;
    size_t g = gr->g, seglen = 0, nch = 0, nul = 0;
    for (size_t i = 0; i < len; i++)
        nul += s0[i] == '\0';
    for (size_t j = 0; j < g; j++) {
        const clean_val *v = p[j].cell->p;
        if (v == &p[j].cell->v || v->flen > 16 || nul != g - 1) { /* not from its memo (raised something), a long field, a NUL in a text */
            count_miss(gr, p);
            return 1;
        }
        seglen += v->flen + 1;
        nch += slot_of(v)->changed != 0;
    }
    if (!gr->tab && !(gr->tab = calloc((size_t)CLEAN_GROUP_SETS * CLEAN_GROUP_WAYS, sizeof *gr->tab)))
        return 0;
    clean_gent *e = &gr->tab[(h >> 53) * CLEAN_GROUP_WAYS], *w = NULL;
    for (size_t k = 0; k < CLEAN_GROUP_WAYS && !w; k++)
        if (e[k].h == h) /* this key's record of an older epoch (or another key of its hash) */
            w = &e[k];
    for (size_t k = 0; k < CLEAN_GROUP_WAYS && !w; k++)
        if (!e[k].rec)
            w = &e[k];
    if (!w) {
        w = &e[gr->rr++ % CLEAN_GROUP_WAYS];
        count_miss(gr, p);
    }
    size_t need = sizeof(clean_grec) + 8 * n + nch * sizeof(clean_gev) + g * sizeof(clean_val *) + seglen + 16; /* 16: see clean_grec_seg */
    clean_grec *r = w->rec;
    if (!r || r->cap < need) {
        if (!(r = realloc(r, need)))
            return 0;
        r->cap = (uint16_t)need;
        w->rec = r;
    }
    w->h = 0; /* until the record is whole */
    r->epoch = gr->epoch;
    r->klen = (uint16_t)len;
    r->seglen = (uint16_t)seglen;
    r->nch = (uint16_t)nch;
    memcpy(r->kw, kw, 8 * n);
    clean_gev *ev = (clean_gev *)(void *)(r->kw + n);
    const clean_val **cv = (const clean_val **)(void *)(ev + nch);
    char *seg = (char *)(cv + g);
    for (size_t j = 0, k = 0, o = 0; j < g; j++) {
        const clean_val *v = p[j].cell->p;
        cv[j] = v;
        if (slot_of(v)->changed)
            ev[k++] = (clean_gev){p[j].var, slot_of(v)};
        memcpy(seg + o, v->f, v->flen);
        o += v->flen;
        seg[o++] = ',';
    }
    w->h = h;
    return 1;
}
