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
 * this many had to throw a slot out or could not fill one. */
#define GROUP_WINDOW 4096

void svy_clean_groups_free(svy_clean *c)
{
    for (size_t k = 0; k < c->ngrp; k++)
        free(c->grp[k].mem);
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
            size_t len = 1;
            while (joins_next(c, j + len - 1))
                len++;
            /* A run of len columns in pieces of at most CLEAN_GROUP_MAX, as even as can be. */
            size_t pieces = (len + CLEAN_GROUP_MAX - 1) / CLEAN_GROUP_MAX;
            for (size_t q = 0, at = j; q < pieces; q++) {
                size_t g = len / pieces + (q < len % pieces);
                if (g >= 2 && pass) {
                    clean_group *gr = &c->grp[n];
                    gr->first = at;
                    gr->g = g;
                    gr->salt = (at * 13) & (CLEAN_GROUP_SLOTS - 1);
                    c->src[at].grp = gr;
                    for (size_t k = 0; k < g; k++)
                        c->cmemo[c->src[at + k].var].epoch = &gr->epoch;
                }
                n += g >= 2;
                at += g;
            }
            j += len;
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

/* A miss counted; in a window of GROUP_WINDOW lookups more than half of
 * them, and the run is looked up no more. */
static void count_miss(clean_group *gr, clean_src *p)
{
    gr->misses++;
    if (gr->lookups >= GROUP_WINDOW) {
        if (gr->misses * 2 > gr->lookups)
            p->grp = NULL;
        gr->lookups = gr->misses = 0;
    }
}

/* Member j's value is its memo's slot: that slot, else NULL. */
static const clean_slot *member_slot(const clean_src *p, size_t j)
{
    const clean_val *v = p[j].cell->p;
    const clean_slot *base = p[j].m->slots;
    if (v == &p[j].cell->v || !base)
        return NULL;
    const clean_slot *r = slot_of(v);
    return r >= base && r < base + CLEAN_CELL_SLOTS ? r : NULL;
}

int svy_clean_group_store(svy_clean *c, clean_src *p, const char *s0, size_t len, uint64_t a, uint64_t b, uint64_t k)
{
    clean_group *gr = p->grp;
    size_t g = gr->g, seglen = 0, nul = 0;
    const clean_slot *ms[CLEAN_GROUP_MAX];
    if (len - 1 >= 23) { /* not a piece of the line, or too long */
        count_miss(gr, p);
        return 1;
    }
    for (size_t i = 0; i < len; i++)
        nul += s0[i] == '\0';
    for (size_t j = 0; j < g; j++) {
        ms[j] = member_slot(p, j);
        size_t flen = p[j].cell->p->flen;
        seglen += flen + 1;
        /* Not from its memo (it raised something), a NUL in a text, the
         * piece too long for a slot, or a field past the 16 bytes the line
         * keeps room for each variable (a longer one goes through
         * svy_clean_line_long, which makes room; a hit's piece does not). */
        if (!ms[j] || flen > 16 || seglen > sizeof gr->slots->seg || nul != g - 1) {
            count_miss(gr, p);
            return 1;
        }
    }
    if (!gr->slots) { /* from a 64-byte boundary, as a column's memo */
        if (!(gr->mem = calloc(CLEAN_GROUP_SLOTS + 2, sizeof *gr->slots)))
            return 0;
        gr->slots = (clean_gslot *)(void *)((char *)gr->mem + (-(uintptr_t)gr->mem & 63));
    }
    size_t h = clean_fast_slot(a, b, k, gr->salt);
    clean_gslot *s = &gr->slots[h & ~(size_t)(CLEAN_WAYS - 1)], *r = gr->slots[h].klen ? NULL : &gr->slots[h];
    for (size_t w = 0; w < CLEAN_WAYS && !r; w++)
        if (!s[w].klen || s[w].epoch != gr->epoch)
            r = &s[w];
    if (!r) {
        r = &s[gr->lookups & (CLEAN_WAYS - 1)];
        count_miss(gr, p);
    }
    r->ka = a, r->kb = b, r->kc = k;
    r->klen = (uint8_t)len;
    r->epoch = gr->epoch;
    r->seglen = (uint8_t)seglen;
    r->chg = 0;
    for (size_t j = 0, o = 0; j < g; j++) {
        const clean_val *v = p[j].cell->p;
        r->ms[j] = ms[j];
        r->chg |= (uint8_t)((ms[j]->changed != 0) << j);
        memcpy(r->seg + o, v->f, v->flen);
        o += v->flen;
        r->seg[o++] = ',';
    }
    return 1;
}
