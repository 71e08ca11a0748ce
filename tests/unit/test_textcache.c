/* The short-text cache (libsurvey/textcache_private.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textcache_private.h"

static svy_value text(const char *s)
{
    svy_value v;
    memset(&v, 0, sizeof v);
    v.type = SVY_VAL_STR;
    v.str = s;
    v.len = strlen(s);
    return v;
}

/* The id a cache gives a value: a hit, or a miss that stores `slow`. */
static long cached(svy_textcache *c, const svy_value *v, uint32_t slow, int *hit)
{
    uint64_t key = 0;
    svy_textcache_ent *ent = svy_textcache_slot(c, v, &key);
    *hit = ent && ent->key == key;
    if (*hit)
        return ent->id;
    if (ent)
        svy_textcache_put(ent, key, slow);
    return slow;
}

Test(textcache, a_short_text_hits_after_its_first_look_up)
{
    svy_textcache *c = svy_textcache_new(2);
    cr_assert(c, "new");
    int hit;
    svy_value a = text("01");
    cr_expect_eq(cached(c, &a, 7, &hit), 7);
    cr_expect(!hit, "an empty cache misses");
    cr_expect_eq(cached(c, &a, 99, &hit), 7, "the stored id, not the slow one");
    cr_expect(hit, "then hits");
    svy_value b = text("1"); /* another text: another key, never the id of "01" */
    cr_expect_eq(cached(c, &b, 8, &hit), 8);
    cr_expect(!hit, "\"1\" is not \"01\"");
    cr_expect_eq(cached(&c[1], &a, 5, &hit), 5);
    cr_expect(!hit, "the caches of two columns are apart");
    svy_value empty = text("");
    cr_expect_eq(cached(c, &empty, 3, &hit), 3);
    cr_expect_eq(cached(c, &empty, 4, &hit), 3, "the empty text is a text like any other");
    free(c);
}

Test(textcache, long_texts_and_numbers_are_not_cached)
{
    svy_textcache *c = svy_textcache_new(1);
    uint64_t key = 0;
    svy_value eight = text("12345678");
    cr_expect_null(svy_textcache_slot(c, &eight, &key), "8 bytes: not cached");
    svy_value seven = text("1234567");
    cr_expect_not_null(svy_textcache_slot(c, &seven, &key), "7 bytes: cached");
    svy_value num;
    memset(&num, 0, sizeof num);
    num.type = SVY_VAL_NUM;
    num.num = 1;
    cr_expect_null(svy_textcache_slot(c, &num, &key), "numbers: not cached");
    free(c);
}

Test(textcache, every_entry_keeps_the_last_text_that_maps_to_it)
{
    svy_textcache *c = svy_textcache_new(1);
    int hits = 0, hit;
    /* 1000 codes through 64 entries: each text finds its own id or misses,
     * never another text's id */
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 1000; i++) {
            char s[8];
            snprintf(s, sizeof s, "%d", i);
            svy_value v = text(s);
            long id = cached(c, &v, (uint32_t)i, &hit);
            cr_assert_eq(id, i, "text %s gave id %ld", s, id);
            hits += hit;
        }
    svy_value last = text("999");
    cr_expect_eq(cached(c, &last, 0, &hit), 999);
    cr_expect(hit, "the last text looked up is still there (%d hits in all)", hits);
    free(c);
}
