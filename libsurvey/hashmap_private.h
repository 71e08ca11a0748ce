/* The one hash facility of libsurvey: interned byte keys (svy_strtab) and
 * 64-bit keys (svy_u64map).  Not installed. */
#ifndef SVY_HASHMAP_PRIVATE_H
#define SVY_HASHMAP_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error hashmap_private.h is only for building libsurvey and its unit tests.
#endif

#include <stddef.h>
#include <stdint.h>

/* A hash of n bytes, eight at a time (the tables' keys; svy-clean's memo
 * of long texts). */
uint64_t svy_hash_bytes(const void *p, size_t n, uint64_t seed);

/* Interned byte strings, ids 0, 1, ... in order of first appearance.  Each
 * string is stored once, NUL-terminated, in one arena: no malloc per key.
 * A zeroed struct is an empty table. */
typedef struct svy_strtab {
    char *arena;
    size_t alen, acap;
    struct svy_strent {
        size_t off, len;
    } *ent;
    size_t n, cap;
    uint32_t *slots; /* id + 1, 0 empty */
    size_t nslots;
} svy_strtab;

void svy_strtab_free(svy_strtab *t);
/* Id of the n bytes at s (any bytes: texts, packed binary keys), adding
 * them when new (then *added = 1; added may be NULL).  -1 on memory failure,
 * with the table unchanged. */
long svy_strtab_intern(svy_strtab *t, const void *s, size_t n, int *added);
/* Id of the n bytes at s, or -1 when absent. */
long svy_strtab_find(const svy_strtab *t, const void *s, size_t n);

/* The stored key of id (NUL-terminated) and its length. */
static inline const char *svy_strtab_str(const svy_strtab *t, size_t id)
{
    return t->arena + t->ent[id].off;
}

static inline size_t svy_strtab_len(const svy_strtab *t, size_t id)
{
    return t->ent[id].len;
}

/* 64-bit key -> index below UINT32_MAX.  A zeroed struct is an empty map. */
typedef struct svy_u64map {
    uint64_t *keys;
    uint32_t *vals; /* index + 1, 0 empty */
    size_t nslots, n;
} svy_u64map;

void svy_u64map_free(svy_u64map *m);
/* Index for key; when absent, stores next and sets *added.  -1 on failure. */
long svy_u64map_get(svy_u64map *m, uint64_t key, size_t next, int *added);
/* Index for key, or -1 when absent. */
long svy_u64map_find(const svy_u64map *m, uint64_t key);
/* Start loading key's first slot into the cache, for a get or find a
 * little later (a large map's lookups are cache misses). */
void svy_u64map_prefetch(const svy_u64map *m, uint64_t key);

#endif
