#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <survey/profile.h>

static svy_schema *schema3(void)
{
    svy_schema *s = svy_schema_new();
    cr_assert(s);
    cr_assert(svy_schema_add(s, "u", SVY_VAR_UNTYPED, NULL));
    svy_var *n = svy_schema_add(s, "n", SVY_VAR_NUMERIC, NULL);
    cr_assert(n);
    cr_assert_eq(svy_var_add_label_num(n, 1, "one"), SVY_OK);
    cr_assert(svy_schema_add(s, "t", SVY_VAR_STRING, NULL));
    return s;
}

static svy_value txt(const char *s)
{
    return (svy_value){.type = SVY_VAL_STR, .str = s, .len = strlen(s)};
}

static svy_value num(double d, int missing)
{
    return (svy_value){.type = SVY_VAL_NUM, .num = d, .missing = (unsigned char)missing};
}

static void add(svy_profile *p, long long index, svy_value a, svy_value b, svy_value c)
{
    svy_value v[3] = {a, b, c};
    svy_row row = {.index = index, .nvals = 3, .vals = v};
    cr_assert_eq(svy_profile_add_row(p, &row, NULL), SVY_OK);
}

Test(profile, counts_ranges_and_distinct_values)
{
    svy_schema *s = schema3();
    svy_profile *p = svy_profile_new(s, 100);
    svy_schema_free(s);
    cr_assert(p);
    add(p, 1, txt("3"), num(1, SVY_MISS_NONE), txt("a"));
    add(p, 2, txt("3.0"), num(-0.0, SVY_MISS_NONE), txt("b"));
    add(p, 3, txt(""), num(0, SVY_MISS_NONE), txt("a"));
    add(p, 4, txt("-2"), num(-9, SVY_MISS_USER), txt(""));
    const svy_col_profile *u = svy_profile_col(p, 0), *n = svy_profile_col(p, 1), *t = svy_profile_col(p, 2);
    cr_assert_eq(u->valid, 3, "an empty untyped field is missing");
    cr_assert_eq(u->missing, 1);
    cr_assert_eq(u->distinct, 2, "3 and 3.0 are one number");
    cr_assert(u->all_numeric && u->all_integer);
    cr_assert_eq(u->min, -2);
    cr_assert_eq(u->max, 3);
    cr_assert_eq(u->width, 3, "the longest text");
    cr_assert_eq(u->nnum, 3);
    cr_assert_eq(n->distinct, 2, "-0 and 0 are one value");
    cr_assert_eq(n->missing, 1);
    cr_assert(n->unlabelled, "0 has no label");
    cr_assert_eq(n->umin, -9, "user-missing numbers are kept apart");
    cr_assert_eq(svy_profile_stata_bytes(n), 1);
    cr_assert_eq(t->distinct, 3, "a, b and the empty text of a string variable");
    cr_assert_eq(t->valid, 4);
    svy_profile_free(p);
}

Test(profile, text_turns_a_column_to_text_and_is_sampled)
{
    svy_schema *s = schema3();
    svy_profile *p = svy_profile_new(s, 100);
    svy_schema_free(s);
    add(p, 1, txt("1"), num(1, SVY_MISS_NONE), txt("x"));
    add(p, 2, txt("2"), num(1, SVY_MISS_NONE), txt("x"));
    add(p, 3, txt("n/a"), num(1, SVY_MISS_NONE), txt("x"));
    add(p, 4, txt("1"), num(1, SVY_MISS_NONE), txt("x"));
    const svy_col_profile *u = svy_profile_col(p, 0);
    cr_assert(!u->all_numeric);
    cr_assert_eq(u->distinct, 2, "counted afresh as text from the first non-number: n/a and 1");
    cr_assert_eq(u->ntext, 1);
    cr_assert_eq(u->text_row[0], 3);
    cr_assert_str_eq(u->text[0], "n/a");
    svy_profile_free(p);
}

Test(profile, distinct_values_stop_at_the_bound)
{
    svy_schema *s = schema3();
    svy_profile *p = svy_profile_new(s, 2);
    svy_schema_free(s);
    for (int i = 0; i < 5; i++)
        add(p, i + 1, txt("1"), num(i, SVY_MISS_NONE), txt("x"));
    cr_assert(svy_profile_col(p, 1)->distinct_full);
    cr_assert_eq(svy_profile_col(p, 1)->distinct, 2);
    cr_assert(!svy_profile_col(p, 0)->distinct_full);
    svy_profile_free(p);
}

Test(profile, distinct_numbers_are_compared_not_just_hashed)
{
    /* The old svy-codebook set took equal 64-bit hashes for equal numbers. */
    svy_schema *s = schema3();
    svy_profile *p = svy_profile_new(s, 1000000);
    svy_schema_free(s);
    for (int i = 0; i < 20000; i++)
        add(p, i + 1, txt("1"), num(i * 0.001, SVY_MISS_NONE), txt("x"));
    cr_assert_eq(svy_profile_col(p, 1)->distinct, 20000);
    svy_profile_free(p);
}

Test(profile, stata_integer_storage)
{
    svy_col_profile c = {.min = 5, .max = 100, .all_integer = 1, .u_integer = 1, .valid = 1};
    cr_assert_eq(svy_profile_stata_bytes(&c), 1, "byte: -127..100");
    c.max = 101;
    cr_assert_eq(svy_profile_stata_bytes(&c), 2, "int: -32767..32740");
    c.max = 32741;
    cr_assert_eq(svy_profile_stata_bytes(&c), 4, "long: -2147483647..2147483620");
    c.max = 2147483621.0;
    cr_assert_eq(svy_profile_stata_bytes(&c), 0, "past long: a double");
    c.max = 3;
    c.umin = -200;
    cr_assert_eq(svy_profile_stata_bytes(&c), 2, "user-missing codes are written as values");
    c.all_integer = 0;
    cr_assert_eq(svy_profile_stata_bytes(&c), 0, "fractions: a double");
    svy_col_profile none = {.min = INFINITY, .max = -INFINITY, .all_integer = 1, .u_integer = 1};
    cr_assert_eq(svy_profile_stata_bytes(&none), 1, "no numbers: a byte");
}
