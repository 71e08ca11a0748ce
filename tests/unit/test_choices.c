/* Choices said out loud: --rate levels, the final weight. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <survey/choices.h>
#include <survey/codebook.h>
#include <survey/schema.h>

#ifndef SVY_SRCDIR
#define SVY_SRCDIR "."
#endif

static svy_codebook *nsfe(void)
{
    svy_codebook *cb;
    svy_err err;
    cr_assert_eq(svy_codebook_load(SVY_SRCDIR "/codebooks/nsfe-2021", &cb, &err), SVY_OK, "%s", err.msg);
    return cb;
}

static const svy_cb_var *var(svy_codebook *cb, const char *name)
{
    return svy_codebook_var(cb, (size_t)svy_codebook_find(cb, name));
}

Test(choices, level_any_language_and_case)
{
    svy_codebook *cb = nsfe();
    double code = 0;
    char *known;
    cr_assert_eq(svy_level_resolve(NULL, var(cb, "burden"), "heavy", &code, &known), SVY_LEVEL_CODE);
    cr_assert_eq(code, 4);
    cr_assert_eq(svy_level_resolve(NULL, var(cb, "burden"), "较重", &code, &known), SVY_LEVEL_CODE);
    cr_assert_eq(code, 4);
    cr_assert_eq(svy_level_resolve(NULL, var(cb, "gender"), "Female", &code, &known), SVY_LEVEL_CODE);
    cr_assert_eq(code, 2);
    cr_assert_eq(svy_level_resolve(NULL, var(cb, "gender"), "2", &code, &known), SVY_LEVEL_CODE);
    svy_codebook_free(cb);
}

Test(choices, level_none_lists_the_levels)
{
    svy_codebook *cb = nsfe();
    double code;
    char *known;
    cr_assert_eq(svy_level_resolve(NULL, var(cb, "gender"), "femal", &code, &known), SVY_LEVEL_NONE);
    cr_assert_str_eq(known, "1 = 男 / male, 2 = 女 / female");
    free(known);
    cr_assert_eq(svy_level_resolve(NULL, var(cb, "category"), "3", &code, &known), SVY_LEVEL_NONE);
    cr_assert(known && strstr(known, "2 = 非平台灵活就业人员 / non-platform flexible worker"));
    free(known);
    svy_codebook_free(cb);
}

Test(choices, level_file_labels_and_unknown)
{
    svy_err err;
    svy_schema *s = svy_schema_new();
    svy_var *v = svy_schema_add(s, "sex", SVY_VAR_NUMERIC, &err);
    svy_var_add_label_num(v, 1, "male");
    svy_var_add_label_num(v, 2, "female");
    svy_var *t = svy_schema_add(s, "job", SVY_VAR_UNTYPED, &err);
    double code;
    char *known;
    cr_assert_eq(svy_level_resolve(v, NULL, " FEMALE ", &code, &known), SVY_LEVEL_CODE);
    cr_assert_eq(code, 2);
    /* a code the file does not label may still be in the data */
    cr_assert_eq(svy_level_resolve(v, NULL, "3", &code, &known), SVY_LEVEL_UNKNOWN);
    cr_assert_eq(svy_level_resolve(v, NULL, "fem", &code, &known), SVY_LEVEL_NONE);
    free(known);
    cr_assert_eq(svy_level_resolve(t, NULL, "rider", &code, &known), SVY_LEVEL_UNKNOWN);
    svy_schema_free(s);
}

Test(choices, final_weight_by_label_or_name)
{
    svy_err err;
    svy_schema *s = svy_schema_new();
    svy_schema_add(s, "weight", SVY_VAR_NUMERIC, &err);
    int amb;
    cr_assert_null(svy_final_weight_find(s, &amb));
    svy_var *w = svy_schema_add(s, "wt2", SVY_VAR_NUMERIC, &err);
    svy_var_set_label(w, "Final survey weight (svy-weight: from weight, post-stratified)");
    cr_assert_str_eq(svy_final_weight_find(s, &amb), "wt2");
    cr_assert_eq(amb, 0);
    svy_schema_add(s, "weight_final", SVY_VAR_UNTYPED, &err);
    svy_final_weight_find(s, &amb);
    cr_assert_eq(amb, 1);
    svy_schema_free(s);
}
