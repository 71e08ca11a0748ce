/* The short-text cache: short texts (up to 7 bytes, the usual codes of a
 * survey column) straight to a small id, in front of a slower look-up (an
 * intern table, a label search).  Direct-mapped, SVY_TEXTCACHE_N entries
 * per cache; an entry keeps the last text that hashed to it.  It must only
 * cache what is a function of the text alone.  Look-ups are inline: they
 * run for every row.  Not installed.
 *
 *   uint64_t key;
 *   svy_textcache_ent *ent = svy_textcache_slot(c, v, &key);
 *   if (ent && ent->key == key) return ent->id;      (a hit)
 *   long id = slow(v);
 *   if (id >= 0 && ent) svy_textcache_put(ent, key, id);
 */
#ifndef SVY_TEXTCACHE_PRIVATE_H
#define SVY_TEXTCACHE_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error textcache_private.h is only for building libsurvey and its unit tests.
#endif

#include <stddef.h>
#include <stdint.h>

#include <survey/value.h>

#include "svy_private.h"

enum { SVY_TEXTCACHE_BITS = 6, SVY_TEXTCACHE_N = 1 << SVY_TEXTCACHE_BITS };

typedef struct svy_textcache_ent {
    uint64_t key; /* svy_short_key of the text; 0 = empty */
    uint32_t id;
} svy_textcache_ent;

typedef struct svy_textcache {
    svy_textcache_ent ent[SVY_TEXTCACHE_N];
} svy_textcache;

/* n empty caches (one per column, say); NULL when out of memory.  free()
 * them. */
svy_textcache *svy_textcache_new(size_t n);

/* The entry of a short text value and its key; NULL when v is not a text of
 * at most 7 bytes (not cached). */
static inline svy_textcache_ent *svy_textcache_slot(svy_textcache *c, const svy_value *v, uint64_t *key)
{
    if (v->type != SVY_VAL_STR || v->len > 7)
        return NULL;
    *key = svy_short_key(v->str, v->len);
    return &c->ent[(*key * 0x9e3779b97f4a7c15ull) >> (64 - SVY_TEXTCACHE_BITS)];
}

static inline void svy_textcache_put(svy_textcache_ent *ent, uint64_t key, uint32_t id)
{
    ent->key = key;
    ent->id = id;
}

#endif
