/* Open-addressing hash tables with linear probing and power-of-two sizes,
 * kept at most half full. */
#include "svy_private.h"
#include "hashmap_private.h"

#include <stdlib.h>
#include <string.h>

/* Static, as they were in estimate.c: the compiler specialises them for
 * the callers here, which the per-row path of the estimator notices. */
static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* Keys are short (codes, ids, a few by values): eight bytes at a time. */
uint64_t svy_hash_bytes(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, s, n);
        h = (h ^ w) * 0x94d049bb133111ebull;
    }
    return hash_u64(h);
}

/* ------------------------------------------------------------ strtab */

void svy_strtab_free(svy_strtab *t)
{
    free(t->arena);
    free(t->ent);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static int strtab_rehash(svy_strtab *t, size_t nslots)
{
    uint32_t *ns = svy_calloc(nslots, sizeof *ns);
    if (!ns)
        return 0;
    for (size_t id = 0; id < t->n; id++) {
        uint64_t h = svy_hash_bytes(t->arena + t->ent[id].off, t->ent[id].len, 0);
        size_t i = h & (nslots - 1);
        while (ns[i])
            i = (i + 1) & (nslots - 1);
        ns[i] = (uint32_t)(id + 1);
    }
    free(t->slots);
    t->slots = ns;
    t->nslots = nslots;
    return 1;
}

long svy_strtab_find(const svy_strtab *t, const void *s, size_t n)
{
    if (t->nslots == 0)
        return -1;
    size_t i = svy_hash_bytes(s, n, 0) & (t->nslots - 1);
    while (t->slots[i]) {
        size_t id = t->slots[i] - 1;
        if (t->ent[id].len == n && memcmp(t->arena + t->ent[id].off, s, n) == 0)
            return (long)id;
        i = (i + 1) & (t->nslots - 1);
    }
    return -1;
}

/* The probe loop is written out here rather than shared with find: this is
 * the per-row path of the estimator, and a call per probe costs it. */
long svy_strtab_intern(svy_strtab *t, const void *s, size_t n, int *added)
{
    if (added)
        *added = 0;
    if (t->nslots == 0 && !strtab_rehash(t, 64))
        return -1;
    uint64_t h = svy_hash_bytes(s, n, 0);
    size_t i = h & (t->nslots - 1);
    while (t->slots[i]) {
        size_t id = t->slots[i] - 1;
        if (t->ent[id].len == n && memcmp(t->arena + t->ent[id].off, s, n) == 0)
            return (long)id;
        i = (i + 1) & (t->nslots - 1);
    }
    if (t->n >= UINT32_MAX - 1)
        return -1;
    if ((t->n + 1) * 2 > t->nslots) {
        if (!strtab_rehash(t, t->nslots * 2))
            return -1;
        return svy_strtab_intern(t, s, n, added);
    }
    if (!svy_grow((void **)&t->arena, &t->acap, t->alen + n + 1, 1))
        return -1;
    if (!svy_grow((void **)&t->ent, &t->cap, t->n + 1, sizeof *t->ent))
        return -1;
    memcpy(t->arena + t->alen, s, n);
    t->arena[t->alen + n] = '\0';
    t->ent[t->n].off = t->alen;
    t->ent[t->n].len = n;
    t->alen += n + 1;
    t->slots[i] = (uint32_t)(t->n + 1);
    if (added)
        *added = 1;
    return (long)t->n++;
}

/* ------------------------------------------------------------ u64map */

void svy_u64map_free(svy_u64map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static int u64map_rehash(svy_u64map *m, size_t nslots)
{
    uint64_t *nk = svy_calloc(nslots, sizeof *nk);
    uint32_t *nv = svy_calloc(nslots, sizeof *nv);
    if (!nk || !nv) {
        free(nk);
        free(nv);
        return 0;
    }
    for (size_t i = 0; i < m->nslots; i++) {
        if (!m->vals[i])
            continue;
        size_t j = hash_u64(m->keys[i]) & (nslots - 1);
        while (nv[j])
            j = (j + 1) & (nslots - 1);
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->nslots = nslots;
    return 1;
}

long svy_u64map_get(svy_u64map *m, uint64_t key, size_t next, int *added)
{
    *added = 0;
    if ((m->n + 1) * 2 > m->nslots && !u64map_rehash(m, m->nslots ? m->nslots * 2 : 64))
        return -1;
    size_t i = hash_u64(key) & (m->nslots - 1);
    while (m->vals[i]) {
        if (m->keys[i] == key)
            return (long)(m->vals[i] - 1);
        i = (i + 1) & (m->nslots - 1);
    }
    if (next >= UINT32_MAX - 1)
        return -1;
    m->keys[i] = key;
    m->vals[i] = (uint32_t)(next + 1);
    m->n++;
    *added = 1;
    return (long)next;
}

void svy_u64map_prefetch(const svy_u64map *m, uint64_t key)
{
    if (!m->nslots)
        return;
    size_t i = hash_u64(key) & (m->nslots - 1);
    __builtin_prefetch(&m->keys[i]);
    __builtin_prefetch(&m->vals[i]);
}

long svy_u64map_find(const svy_u64map *m, uint64_t key)
{
    if (!m->nslots)
        return -1;
    size_t i = hash_u64(key) & (m->nslots - 1);
    while (m->vals[i]) {
        if (m->keys[i] == key)
            return (long)(m->vals[i] - 1);
        i = (i + 1) & (m->nslots - 1);
    }
    return -1;
}
