#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hashmap_private.h"

Test(hashmap, strtab_ids_in_order_of_first_appearance)
{
    svy_strtab t = {0};
    int added;
    cr_assert_eq(svy_strtab_intern(&t, "b", 1, &added), 0, "the first string gets id 0");
    cr_assert_eq(added, 1, "a new string is reported as added");
    cr_assert_eq(svy_strtab_intern(&t, "a", 1, &added), 1, "the second new string gets the next id");
    cr_assert_eq(svy_strtab_intern(&t, "b", 1, &added), 0, "a known string keeps its id");
    cr_assert_eq(added, 0, "a known string is not added again");
    cr_assert_eq(svy_strtab_intern(&t, "", 0, NULL), 2, "the empty string is a key like any other");
    cr_assert_eq(t.n, 3, "three distinct strings");
    cr_assert_str_eq(svy_strtab_str(&t, 1), "a", "ids give back their strings");
    svy_strtab_free(&t);
    cr_assert_eq(t.n, 0, "free leaves an empty table that can be reused");
    svy_strtab_free(&t);
}

Test(hashmap, strtab_keys_are_bytes_not_c_strings)
{
    svy_strtab t = {0};
    long a = svy_strtab_intern(&t, "x\0y", 3, NULL), b = svy_strtab_intern(&t, "x\0z", 3, NULL);
    long c = svy_strtab_intern(&t, "x", 1, NULL);
    cr_assert(a >= 0 && b >= 0 && c >= 0, "interning succeeds");
    cr_assert(a != b && a != c && b != c, "embedded NULs and lengths distinguish keys");
    cr_assert_eq(t.ent[a].len, 3, "the length is kept");
    svy_strtab_free(&t);
}

Test(hashmap, strtab_survives_growth)
{
    svy_strtab t = {0};
    char buf[32];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(buf, sizeof buf, "key-%d-long-enough-for-words", i);
        cr_assert_eq(svy_strtab_intern(&t, buf, (size_t)n, NULL), i, "new key %d gets the next id", i);
    }
    for (int i = 0; i < 20000; i += 997) {
        int n = snprintf(buf, sizeof buf, "key-%d-long-enough-for-words", i);
        cr_assert_eq(svy_strtab_find(&t, buf, (size_t)n), i, "key %d is found after many rehashes", i);
        cr_assert_str_eq(svy_strtab_str(&t, (size_t)i), buf, "string %d is intact after arena growth", i);
    }
    cr_assert_eq(svy_strtab_find(&t, "absent", 6), -1, "an absent key is not found");
    svy_strtab_free(&t);
}

Test(hashmap, strtab_find_on_empty_table)
{
    svy_strtab t = {0};
    cr_assert_eq(svy_strtab_find(&t, "", 0), -1, "nothing is found in an empty table");
    cr_assert_eq(t.n, 0, "find does not add");
}

Test(hashmap, u64map_get_and_find)
{
    svy_u64map m = {0};
    int added;
    cr_assert_eq(svy_u64map_find(&m, 7), -1, "nothing is found in an empty map");
    for (uint64_t k = 0; k < 5000; k++) {
        uint64_t key = (k << 32) | (k * 3);
        cr_assert_eq(svy_u64map_get(&m, key, (size_t)k, &added), (long)k, "a new key stores the next index");
        cr_assert_eq(added, 1, "a new key is reported as added");
    }
    cr_assert_eq(svy_u64map_get(&m, (9ull << 32) | 27, 12345, &added), 9, "a known key keeps its index");
    cr_assert_eq(added, 0, "a known key is not added again");
    cr_assert_eq(svy_u64map_find(&m, (4999ull << 32) | (4999 * 3)), 4999, "find sees keys after rehashing");
    cr_assert_eq(svy_u64map_find(&m, 1), -1, "an absent key is not found");
    cr_assert_eq(m.n, 5000, "one entry per distinct key");
    svy_u64map_free(&m);
    svy_u64map_free(&m);
}

Test(hashmap, strtab_binary_keys_and_their_lengths)
{
    /* weight.c files rows under packed binary keys: doubles, tuples of ids. */
    svy_strtab t = {0};
    double x = 1.5, y = -0.0, z = 0.0;
    unsigned tuple[3] = {7, 0, 9};
    long a = svy_strtab_intern(&t, &x, sizeof x, NULL), b = svy_strtab_intern(&t, &y, sizeof y, NULL);
    long c = svy_strtab_intern(&t, &z, sizeof z, NULL), d = svy_strtab_intern(&t, tuple, sizeof tuple, NULL);
    cr_assert(a >= 0 && b >= 0 && c >= 0 && d >= 0, "interning succeeds");
    cr_assert(b != c, "keys compare by their bytes: -0 and 0 differ until the caller folds them");
    cr_assert_eq(svy_strtab_len(&t, (size_t)d), sizeof tuple, "the length of a stored key");
    cr_assert(memcmp(svy_strtab_str(&t, (size_t)d), tuple, sizeof tuple) == 0, "the stored bytes");
    cr_assert_eq(svy_strtab_find(&t, tuple, sizeof tuple), d, "found by the same bytes");
    cr_assert_eq(svy_strtab_find(&t, tuple, sizeof tuple - 1), -1, "a prefix is another key");
    svy_strtab_free(&t);
}

Test(hashmap, strtab_many_keys_survive_growth)
{
    svy_strtab t = {0};
    char buf[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(buf, sizeof buf, "id%d", i);
        cr_assert_eq(svy_strtab_intern(&t, buf, (size_t)n, NULL), i, "ids dense in order");
    }
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(buf, sizeof buf, "id%d", i);
        cr_assert_eq(svy_strtab_find(&t, buf, (size_t)n), i, "every key found after rehashing");
        cr_assert_str_eq(svy_strtab_str(&t, (size_t)i), buf, "and its text kept");
    }
    svy_strtab_free(&t);
}
