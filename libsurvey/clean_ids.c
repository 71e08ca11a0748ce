/* The id rule's table of whole-number ids, in pages of consecutive ids, and
 * the engine's lookup of a row's id (in the pages, else a hash table).
 *
 * Survey ids are numbered in blocks (a province's, a wave's), so the ids of
 * neighbouring rows share a page: a new id is a write into a page already
 * in the cache, where a hash table of a million ids makes every insert a
 * cache miss, and every doubling of the table a million more.  Ids spread
 * too thin for pages (fewer than CLEAN_ID_DENSE per page on average) go to
 * the hash table instead, and so do the ids of rows past 2^32. */
#include "svy_private.h"
#include "clean_private.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE_BITS 10
#define PAGE_IDS ((size_t)1 << PAGE_BITS)
/* Pages pay when they average this many ids (4 KiB a page: 32 bytes an id,
 * what the hash table costs); checked from the 64th page on. */
#define CLEAN_ID_DENSE 128

void clean_ids_free(clean_ids *d)
{
    for (size_t i = 0; i < d->nblocks; i++)
        free(d->blocks[i]);
    free(d->blocks);
    free(d->pages);
    svy_u64map_free(&d->dir);
    memset(d, 0, sizeof *d);
}

/* Give the pages up: their ids and rows into map (rows[] by index). */
static int to_map(clean_ids *d, svy_u64map *map, long long **rows, size_t *rowcap)
{
    for (size_t i = 0; i < d->dir.nslots; i++) {
        if (!d->dir.vals[i])
            continue;
        const uint32_t *pg = d->pages[d->dir.vals[i] - 1];
        for (size_t j = 0; j < PAGE_IDS; j++) {
            if (!pg[j])
                continue;
            int added;
            long e = -1;
            if (svy_grow((void **)rows, rowcap, map->n + 1, sizeof **rows))
                e = svy_u64map_get(map, (d->dir.keys[i] << PAGE_BITS) | j, map->n, &added);
            if (e < 0)
                return 0;
            (*rows)[e] = (long long)pg[j] - 1;
        }
    }
    clean_ids_free(d);
    d->off = 1;
    return 1;
}

/* Pages are cut from blocks as many pages as there are already (16 at
 * first), up to BLOCK_PAGES: 4 KiB each from calloc was a page fault each
 * (2,500 on a million ids, a few microseconds each on a VM).  Full blocks
 * are 2 MiB on a 2 MiB boundary, huge pages where the system gives them. */
#define BLOCK_PAGES 512
static uint32_t *new_block(clean_ids *d)
{
    size_t np = d->npages < 16 ? 16 : d->npages < BLOCK_PAGES ? d->npages : BLOCK_PAGES;
    size_t bytes = np * PAGE_IDS * sizeof(uint32_t);
    uint32_t *b = NULL;
    if (!svy_grow((void **)&d->blocks, &d->blockcap, d->nblocks + 1, sizeof *d->blocks))
        return NULL;
    if (np == BLOCK_PAGES) {
        if ((b = aligned_alloc((size_t)2 << 20, bytes))) {
#if defined(MADV_HUGEPAGE)
            (void)madvise(b, bytes, MADV_HUGEPAGE);
#endif
            memset(b, 0, bytes);
        }
    } else {
        b = calloc(np * PAGE_IDS, sizeof *b);
    }
    if (!b)
        return NULL;
    d->blocks[d->nblocks++] = b;
    d->bnext = b;
    d->bleft = np;
    return b;
}

static uint32_t *new_page(clean_ids *d, uint64_t pno)
{
    int added;
    if (!svy_grow((void **)&d->pages, &d->pagecap, d->npages + 1, sizeof *d->pages))
        return NULL;
    if (!d->bleft && !new_block(d))
        return NULL;
    uint32_t *pg = d->bnext;
    if (svy_u64map_get(&d->dir, pno, d->npages, &added) < 0)
        return NULL;
    d->bnext += PAGE_IDS;
    d->bleft--;
    d->pages[d->npages++] = pg;
    return pg;
}

int clean_ids_add(clean_ids *d, uint64_t id, long long row, long long *first, svy_u64map *map, long long **rows,
                  size_t *rowcap)
{
    if (d->off || row < 0 || row >= (long long)UINT32_MAX - 1)
        return d->off || to_map(d, map, rows, rowcap) ? 2 : -1;
    uint64_t pno = id >> PAGE_BITS;
    uint32_t *pg = d->last;
    if (!pg || pno != d->last_pno) {
        long k = svy_u64map_find(&d->dir, pno);
        if (k >= 0) {
            pg = d->pages[k];
        } else {
            if (d->npages >= 64 && d->n < d->npages * CLEAN_ID_DENSE)
                return to_map(d, map, rows, rowcap) ? 2 : -1;
            if (!(pg = new_page(d, pno)))
                return -1;
        }
        d->last = pg;
        d->last_pno = pno;
    }
    uint32_t *e = &pg[id & (PAGE_IDS - 1)];
    if (*e) {
        *first = (long long)*e - 1;
        return 0;
    }
    *e = (uint32_t)(row + 1);
    d->n++;
    return 1;
}

void clean_ids_prefetch(const clean_ids *d, uint64_t id)
{
    if (!d->off && d->last && id >> PAGE_BITS != d->last_pno)
        svy_u64map_prefetch(&d->dir, id >> PAGE_BITS);
}

/* ------------------------------------------------------------ the engine's ids */

/* A numeric id that is a whole number is its own key in c->idnum (one text
 * per number: the cleaned text is svy_dtoa's); 0 for any other. */
static int id_number(const svy_clean *c, uint64_t *key)
{
    const clean_val *o = c->cell[c->cb->id].p;
    if (c->text[c->cb->id] || !(o->num >= 1 && o->num <= 9007199254740992.0))
        return 0;
    *key = (uint64_t)o->num; /* exact in range: a whole number converts back to itself */
    return (double)*key == o->num;
}

void svy_clean_id_prefetch(const svy_clean *c)
{
    uint64_t key;
    if (c->cb->id >= 0 && id_number(c, &key)) {
        if (c->idpages.off)
            svy_u64map_prefetch(&c->idnum, key);
        else
            clean_ids_prefetch(&c->idpages, key);
    }
}

int svy_clean_id_seen(svy_clean *c, const char *id, long long *first)
{
    uint64_t key;
    int num = id_number(c, &key), added;
    if (num) {
        int k = clean_ids_add(&c->idpages, key, c->cur_row, first, &c->idnum, &c->idnum_row, &c->idnum_rowcap);
        if (k != 2)
            return k;
    }
    /* Room for a new id's row first, so a failure leaves both in step. */
    long e = -1;
    long long *rows;
    if (num) {
        if (svy_grow((void **)&c->idnum_row, &c->idnum_rowcap, c->idnum.n + 1, sizeof *c->idnum_row))
            e = svy_u64map_get(&c->idnum, key, c->idnum.n, &added);
        rows = c->idnum_row;
    } else {
        if (svy_grow((void **)&c->id_row, &c->id_rowcap, c->ids.n + 1, sizeof *c->id_row))
            e = svy_strtab_intern(&c->ids, id, strlen(id), &added);
        rows = c->id_row;
    }
    if (e < 0)
        return -1;
    if (added)
        rows[e] = c->cur_row;
    *first = rows[e];
    return added;
}
