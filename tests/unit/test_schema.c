#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <survey/schema.h>

Test(schema, add_find_and_reject_duplicates)
{
    svy_schema *s = svy_schema_new();
    svy_err err;
    cr_assert_not_null(svy_schema_add(s, "province", SVY_VAR_STRING, &err));
    cr_assert_not_null(svy_schema_add(s, "age", SVY_VAR_NUMERIC, &err));
    cr_assert_null(svy_schema_add(s, "age", SVY_VAR_NUMERIC, &err), "a duplicate name is refused");
    cr_assert_eq(err.code, SVY_E_USAGE);
    cr_assert_str_eq(err.var, "age");
    cr_assert_eq(svy_schema_find(s, "age"), 1);
    cr_assert_eq(svy_schema_find(s, "nope"), -1);
    cr_assert_eq(svy_schema_nvars(s), 2);
    svy_schema_free(s);
    svy_schema_free(NULL);
}

Test(schema, value_labels_both_ways_with_cjk)
{
    svy_schema *s = svy_schema_new();
    svy_var *v = svy_schema_add(s, "gender", SVY_VAR_NUMERIC, NULL);
    svy_var_add_label_num(v, 1, "男");
    svy_var_add_label_num(v, 2, "女");
    svy_var_add_label_tagged(v, 'a', "拒绝回答");
    svy_value one = {.type = SVY_VAL_NUM, .num = 1};
    cr_assert_str_eq(svy_var_label_for(v, &one), "男");
    svy_value text2 = {.type = SVY_VAL_STR, .str = "2", .len = 1};
    cr_assert_str_eq(svy_var_label_for(v, &text2), "女", "a text cell holding a code finds its label");
    svy_value tag = {.type = SVY_VAL_NUM, .num = NAN, .missing = SVY_MISS_TAGGED, .tag = 'a'};
    cr_assert_str_eq(svy_var_label_for(v, &tag), "拒绝回答");
    svy_value three = {.type = SVY_VAL_NUM, .num = 3};
    cr_assert_null(svy_var_label_for(v, &three));
    double code;
    cr_assert(svy_var_code_for(v, "女", &code) && code == 2);
    svy_schema *c = svy_schema_clone(s);
    svy_schema_free(s);
    cr_assert_str_eq(svy_var_label_text(svy_schema_var(c, 0), 1), "女", "a clone is deep");
    svy_schema_free(c);
}

Test(schema, user_missing_ranges)
{
    svy_schema *s = svy_schema_new();
    svy_var *v = svy_schema_add(s, "income", SVY_VAR_NUMERIC, NULL);
    cr_assert_eq(svy_var_add_missing_range(v, -9, -8), SVY_OK);
    cr_assert_eq(svy_var_add_missing_range(v, 99, 99), SVY_OK);
    svy_value a = {.type = SVY_VAL_NUM, .num = -8.5};
    svy_value b = {.type = SVY_VAL_NUM, .num = 99};
    svy_value c = {.type = SVY_VAL_NUM, .num = 5000};
    cr_assert(svy_var_is_user_missing(v, &a));
    cr_assert(svy_var_is_user_missing(v, &b));
    cr_assert_not(svy_var_is_user_missing(v, &c));
    cr_assert_eq(svy_var_add_missing_range(v, 3, 1), SVY_E_USAGE, "lo > hi is refused");
    svy_schema_free(s);
}

Test(schema, date_kind_from_formats_of_each_origin)
{
    svy_schema *s = svy_schema_new();
    struct { const char *fmt; svy_date_kind kind; } cases[] = {
        {"%td", SVY_DATE_DAY}, {"%tdCCYY-NN-DD", SVY_DATE_DAY}, {"%tc", SVY_DATE_DATETIME},
        {"%tC", SVY_DATE_DATETIME}, {"%tm", SVY_DATE_MONTH}, {"%tq", SVY_DATE_QUARTER},
        {"%tw", SVY_DATE_WEEK}, {"%th", SVY_DATE_HALFYEAR}, {"%ty", SVY_DATE_YEAR},
        {"%9.0g", SVY_DATE_NONE}, {"DATE11", SVY_DATE_DAY}, {"ADATE10", SVY_DATE_DAY},
        {"DATETIME20", SVY_DATE_DATETIME}, {"TIME8", SVY_DATE_TIME}, {"F8.2", SVY_DATE_NONE},
        {"MMDDYY10.", SVY_DATE_DAY}, {"", SVY_DATE_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[16];
        snprintf(name, sizeof name, "v%zu", i);
        svy_var *v = svy_schema_add(s, name, SVY_VAR_NUMERIC, NULL);
        svy_var_set_format(v, cases[i].fmt);
        cr_assert_eq(svy_var_date_kind(v), cases[i].kind, "format '%s'", cases[i].fmt);
    }
    svy_schema_free(s);
}
