/* --subpop EXPR (libsurvey/subpop.c): grammar, precedence, labels, missing
 * values as R's subset() treats them, errors naming the place. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <survey/codebook.h>
#include <survey/schema.h>
#include <survey/subpop.h>

#ifndef SVY_SRCDIR
#define SVY_SRCDIR "."
#endif

enum { AGE, SEX, REGION, INC, GENDER, CATEGORY, MYCOL, NIANLING, NCOLS };

static svy_schema *schema(void)
{
    svy_err err;
    svy_schema *s = svy_schema_new();
    cr_assert(s);
    svy_schema_add(s, "age", SVY_VAR_NUMERIC, &err);
    svy_var *sex = svy_schema_add(s, "sex", SVY_VAR_NUMERIC, &err);
    svy_var_add_label_num(sex, 1, "male");
    svy_var_add_label_num(sex, 2, "female");
    svy_var *region = svy_schema_add(s, "region", SVY_VAR_STRING, &err);
    svy_var_add_label_str(region, "N", "north");
    svy_schema_add(s, "inc", SVY_VAR_UNTYPED, &err);
    svy_schema_add(s, "gender", SVY_VAR_UNTYPED, &err);
    svy_schema_add(s, "category", SVY_VAR_NUMERIC, &err);
    svy_schema_add(s, "my col", SVY_VAR_NUMERIC, &err);
    cr_assert(svy_schema_add(s, "年龄", SVY_VAR_NUMERIC, &err));
    return s;
}

static svy_codebook *nsfe(void)
{
    svy_codebook *cb;
    svy_err err;
    cr_assert_eq(svy_codebook_load(SVY_SRCDIR "/codebooks/nsfe-2021", &cb, &err), SVY_OK, "%s", err.msg);
    return cb;
}

static svy_value num(double x) { return (svy_value){.num = x, .type = SVY_VAL_NUM}; }
static svy_value str(const char *t) { return (svy_value){.str = t, .len = strlen(t), .type = SVY_VAL_STR}; }
static svy_value miss(void) { return (svy_value){.type = SVY_VAL_NUM, .missing = SVY_MISS_SYSTEM}; }

/* A row where every column has a plain value; tests change what they need. */
static void base_row(svy_value *v)
{
    v[AGE] = num(35);
    v[SEX] = num(1);
    v[REGION] = str("N");
    v[INC] = str("1200");
    v[GENDER] = str("2");
    v[CATEGORY] = num(1);
    v[MYCOL] = num(7);
    v[NIANLING] = num(40);
}

/* Parse and bind (nsfe codebook), or fail the test. */
static svy_subpop *bound(const char *expr)
{
    svy_subpop *p;
    svy_err err;
    cr_assert_eq(svy_subpop_parse(expr, &p, &err), SVY_OK, "%s: %s", expr, err.msg);
    svy_schema *s = schema();
    svy_codebook *cb = nsfe();
    cr_assert_eq(svy_subpop_bind(p, s, cb, &err), SVY_OK, "%s: %s", expr, err.msg);
    svy_schema_free(s);
    svy_codebook_free(cb);
    return p;
}

static int in_row(const svy_subpop *p, const svy_value *v)
{
    svy_row row = {.index = 1, .nvals = NCOLS, .vals = v};
    int in = -1;
    svy_err err;
    cr_assert_eq(svy_subpop_eval(p, &row, &in, &err), SVY_OK, "%s", err.msg);
    return in;
}

/* in for the base row with one column changed */
static int in_with(const char *expr, int col, svy_value x)
{
    svy_value v[NCOLS];
    base_row(v);
    v[col] = x;
    svy_subpop *p = bound(expr);
    int r = in_row(p, v);
    svy_subpop_free(p);
    return r;
}

static void canon(const char *expr, const char *want)
{
    svy_subpop *p, *q;
    svy_err err;
    cr_assert_eq(svy_subpop_parse(expr, &p, &err), SVY_OK, "%s: %s", expr, err.msg);
    cr_expect_str_eq(svy_subpop_text(p), want, "%s", expr);
    /* the canonical form reads back to itself */
    cr_assert_eq(svy_subpop_parse(svy_subpop_text(p), &q, &err), SVY_OK, "%s", err.msg);
    cr_expect_str_eq(svy_subpop_text(q), want);
    svy_subpop_free(p);
    svy_subpop_free(q);
}

/* A usage error whose message holds each of the texts given. */
static void usage_error(const char *expr, int bind, const char *var, const char *a, const char *b)
{
    svy_subpop *p = NULL;
    svy_err err;
    svy_status st = svy_subpop_parse(expr, &p, &err);
    if (bind) {
        cr_assert_eq(st, SVY_OK, "%s: %s", expr, err.msg);
        svy_schema *s = schema();
        svy_codebook *cb = nsfe();
        st = svy_subpop_bind(p, s, cb, &err);
        svy_schema_free(s);
        svy_codebook_free(cb);
    } else
        cr_expect_null(p);
    cr_expect_eq(st, SVY_E_USAGE, "%s: status %d", expr, st);
    cr_expect(strstr(err.msg, a), "%s: '%s' not in: %s", expr, a, err.msg);
    if (b)
        cr_expect(strstr(err.msg, b), "%s: '%s' not in: %s", expr, b, err.msg);
    if (var)
        cr_expect_str_eq(err.var, var, "%s: %s", expr, err.msg);
    svy_subpop_free(p);
}

Test(subpop, canonical_form)
{
    canon("age>=30&age<50", "age >= 30 & age < 50");
    canon("age >= 30 && sex == 1 || sex == 2", "age >= 30 & sex == 1 | sex == 2");
    canon("(age >= 30 | sex == 1) & sex == 2", "(age >= 30 | sex == 1) & sex == 2");
    canon("age >= 30 | (sex == 1 & sex == 2)", "age >= 30 | sex == 1 & sex == 2");
    canon("age == 1 | (sex == 1 | sex == 2)", "age == 1 | (sex == 1 | sex == 2)");
    canon("!age >= 30", "!(age >= 30)");
    canon("!!(age >= 30)", "!!(age >= 30)");
    canon("!(age > 1 & sex != 2)", "!(age > 1 & sex != 2)");
    canon("category in {1,'platform worker' , 2}", "category in {1, \"platform worker\", 2}");
    canon("`my col` <= -2.50", "`my col` <= -2.5");
    canon("age < 1e2 & age > .5", "age < 100 & age > 0.5");
    canon("region == \"say \\\"hi\\\" \\\\ \"", "region == \"say \\\"hi\\\" \\\\ \"");
    canon("年龄 >= 30", "年龄 >= 30");
    canon("`in` == 1", "`in` == 1");
}

/* ! binds tighter than &, & tighter than |; both left to right. */
Test(subpop, precedence)
{
    /* sex is 1, age 35 */
    cr_expect_eq(in_with("sex == 2 & age > 30 | age < 40", SEX, num(1)), 1);
    cr_expect_eq(in_with("age < 40 | sex == 2 & age > 90", SEX, num(1)), 1);
    cr_expect_eq(in_with("(age < 40 | sex == 2) & age > 90", SEX, num(1)), 0);
    cr_expect_eq(in_with("!sex == 2 & age > 30", SEX, num(1)), 1);
    cr_expect_eq(in_with("!(sex == 1 & age > 30)", SEX, num(1)), 0);
    cr_expect_eq(in_with("!!(sex == 1)", SEX, num(1)), 1);
    cr_expect_eq(in_with("sex == 1 & (age == 1 | age == 35 | age == 2)", SEX, num(1)), 1);
}

Test(subpop, comparison_operators)
{
    const char *yes[] = {"age == 35", "age != 34", "age < 36", "age <= 35", "age > 34", "age >= 35",
                         "age in {1, 35}", "年龄 > 39.5", "`my col` == 7"};
    const char *no[] = {"age == 34", "age != 35", "age < 35", "age <= 34.9", "age > 35", "age >= 35.5",
                        "age in {1, 36}", "年龄 < 40", "`my col` != 7"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        cr_expect_eq(in_with(yes[i], AGE, num(35)), 1, "%s", yes[i]);
        cr_expect_eq(in_with(no[i], AGE, num(35)), 0, "%s", no[i]);
    }
}

/* Labels: the data's own (sex), the codebook's in every language and
 * ignoring case (gender, category), numbers as codes. */
Test(subpop, labels_and_codes)
{
    cr_expect_eq(in_with("sex == \"female\"", SEX, num(2)), 1);
    cr_expect_eq(in_with("sex == \"female\"", SEX, num(1)), 0);
    cr_expect_eq(in_with("sex != 'male'", SEX, num(2)), 1);
    cr_expect_eq(in_with("gender == \"female\"", GENDER, str("2")), 1);
    cr_expect_eq(in_with("gender == \"Female \"", GENDER, str("2")), 1);
    cr_expect_eq(in_with("gender == \"女\"", GENDER, str("2")), 1);
    cr_expect_eq(in_with("gender == 2", GENDER, str("2")), 1);
    cr_expect_eq(in_with("gender == \"男\"", GENDER, str("2")), 0);
    cr_expect_eq(in_with("category == \"platform worker\"", CATEGORY, num(1)), 1);
    cr_expect_eq(in_with("category in {\"non-platform flexible worker\"}", CATEGORY, num(1)), 0);
    cr_expect_eq(in_with("category in {\"平台劳动者\", 2}", CATEGORY, num(2)), 1);
    /* a label stands for its code under ordering operators */
    cr_expect_eq(in_with("category < \"non-platform flexible worker\"", CATEGORY, num(1)), 1);
    /* a CSV column that holds the labels themselves */
    cr_expect_eq(in_with("gender == \"female\"", GENDER, str("female")), 1);
    cr_expect_eq(in_with("gender != \"female\"", GENDER, str("male")), 1);
}

Test(subpop, text_columns)
{
    cr_expect_eq(in_with("region == \"N\"", REGION, str("N")), 1);
    cr_expect_eq(in_with("region == \"north\"", REGION, str("N")), 1); /* its label */
    cr_expect_eq(in_with("region in {\"S\", \"E\"}", REGION, str("N")), 0);
    cr_expect_eq(in_with("region != \"S\"", REGION, str("N")), 1);
    cr_expect_eq(in_with("region == \"a \\\"b\\\"\"", REGION, str("a \"b\"")), 1);
    /* a CSV column without labels compares text as given */
    cr_expect_eq(in_with("inc == \"n/a\"", INC, str("n/a")), 1);
    /* and numbers as numbers: "1200.0" is 1200 */
    cr_expect_eq(in_with("inc == 1200", INC, str("1200.0")), 1);
    cr_expect_eq(in_with("inc >= 1000 & inc < 2000", INC, str(" 1500 ")), 1);
}

/* R: subset(d, EXPR) keeps r & !is.na(r) of three-valued logic. */
Test(subpop, missing_values_as_r)
{
    cr_expect_eq(in_with("age >= 30", AGE, miss()), 0);
    cr_expect_eq(in_with("!(age >= 30)", AGE, miss()), 0);   /* !NA is NA */
    cr_expect_eq(in_with("age >= 30 | sex == 1", AGE, miss()), 1); /* NA | TRUE */
    cr_expect_eq(in_with("sex == 1 | age >= 30", AGE, miss()), 1);
    cr_expect_eq(in_with("age >= 30 | sex == 2", AGE, miss()), 0); /* NA | FALSE */
    cr_expect_eq(in_with("!(age >= 30 & sex == 2)", AGE, miss()), 1); /* !(NA & FALSE) */
    cr_expect_eq(in_with("!(age >= 30 & sex == 1)", AGE, miss()), 0); /* !(NA & TRUE) */
    /* %in%: NA is in no set, so its negation keeps the row */
    cr_expect_eq(in_with("age in {35}", AGE, miss()), 0);
    cr_expect_eq(in_with("!(age in {35})", AGE, miss()), 1);
    /* every kind of missing, and NaN */
    svy_value tagged = {.type = SVY_VAL_NUM, .missing = SVY_MISS_TAGGED, .tag = 'a'};
    svy_value user = {.num = 35, .type = SVY_VAL_NUM, .missing = SVY_MISS_USER};
    cr_expect_eq(in_with("!(age == 35)", AGE, tagged), 0);
    cr_expect_eq(in_with("age == 35", AGE, user), 0);
    cr_expect_eq(in_with("!(age == 35)", AGE, user), 0);
    cr_expect_eq(in_with("!(age == 35)", AGE, num(NAN)), 0);
    cr_expect_eq(in_with("!(age in {35})", AGE, num(NAN)), 1);
    cr_expect_eq(in_with("region == \"N\"", REGION, (svy_value){.type = SVY_VAL_STR, .str = "", .missing = SVY_MISS_SYSTEM}), 0);
}

Test(subpop, syntax_errors_name_the_place)
{
    usage_error("", 0, NULL, "empty", "character 1 ");
    usage_error("age >= ", 0, "age", "to compare age with is missing", "character 8 ");
    usage_error("age = 30", 0, NULL, "write ==", "character 5 ");
    usage_error("(age > 1", 0, NULL, "( without its )", "character 1 ");
    usage_error("age > 1)", 0, NULL, ") without its (", "character 8 ");
    usage_error("age > 1 &", 0, NULL, "missing at the end", "character 10 ");
    usage_error("sex == male", 0, "sex", "male is not a value", "(\"male\")");
    usage_error("region == \"north", 0, NULL, "without its closing", "character 11 ");
    usage_error("age > 1.2.3", 0, NULL, "not a number", "character 7 ");
    usage_error("age > 3x", 0, NULL, "not a number", "character 7 ");
    usage_error("age 30", 0, "age", "==, !=, <, <=, >, >= or in is expected after age", "character 5 ");
    usage_error("age in 1, 2", 0, "age", "{ is expected after in", NULL);
    usage_error("age in {1 2}", 0, "age", "} or , is expected", "character 11 ");
    usage_error("age in {}", 0, "age", "to compare age with is missing", NULL);
    usage_error("age > 1 sex == 2", 0, NULL, "& | or the end is expected", "character 9 ");
    usage_error("30 < age", 0, NULL, "a column name is expected", "character 1 ");
    usage_error("age > 1 # x", 0, NULL, "unexpected '#'", NULL);
    /* positions count characters, not bytes */
    usage_error("年龄 >= 30 & 性别 ==", 0, "性别", "missing", "character 17 ");
    /* the message quotes the expression */
    usage_error("age => 3", 0, NULL, "of: age => 3)", NULL);
}

Test(subpop, bind_errors_name_column_and_place)
{
    usage_error("age > 1 & agee < 3", 1, "agee", "no column agee", "character 11 ");
    usage_error("sex == \"femal\"", 1, "sex", "\"femal\" is neither a code nor a label of sex",
                "1 = male, 2 = female");
    usage_error("gender == \"femal\"", 1, "gender", "男 / male", "character 11 ");
    usage_error("category == 3", 1, "category", "3 is not a code of category", "platform worker");
    usage_error("category in {1, 9}", 1, "category", "9 is not a code", "character 17 ");
    usage_error("age == \"old\"", 1, "age", "without value labels", "character 8 ");
    usage_error("region == 1", 1, "region", "text column", "(\"1\")");
    usage_error("region < \"N\"", 1, "region", "compare it with == != or in", NULL);
    usage_error("inc > \"rich\"", 1, "inc", "compare numbers", NULL);
}

/* Ordering operators take any number, even on a coded column. */
Test(subpop, ordering_on_codes_takes_any_number)
{
    cr_expect_eq(in_with("category < 1.5", CATEGORY, num(1)), 1);
    cr_expect_eq(in_with("category >= 9", CATEGORY, num(1)), 0);
}

Test(subpop, data_error_names_row_and_column)
{
    svy_subpop *p = bound("age > 1 & inc > 1000");
    svy_value v[NCOLS];
    base_row(v);
    v[INC] = str("lots");
    svy_row row = {.index = 17, .nvals = NCOLS, .vals = v};
    int in = 1;
    svy_err err;
    cr_assert_eq(svy_subpop_eval(p, &row, &in, &err), SVY_E_DATA);
    cr_expect_eq(in, 0);
    cr_expect_eq(err.row, 17);
    cr_expect_eq(err.col, INC + 1);
    cr_expect_str_eq(err.var, "inc");
    cr_expect(strstr(err.msg, "'lots'"), "%s", err.msg);
    /* not reached when & has already decided, as in R */
    v[AGE] = num(0);
    cr_expect_eq(svy_subpop_eval(p, &row, &in, &err), SVY_OK);
    cr_expect_eq(in, 0);
    svy_subpop_free(p);
}

Test(subpop, columns_in_order_of_first_use)
{
    svy_subpop *p;
    svy_err err;
    cr_assert_eq(svy_subpop_parse("sex == 1 & (age > 3 | sex == 2) & `my col` in {1}", &p, &err), SVY_OK);
    cr_assert_eq(svy_subpop_ncolumns(p), 3);
    cr_expect_str_eq(svy_subpop_column(p, 0), "sex");
    cr_expect_str_eq(svy_subpop_column(p, 1), "age");
    cr_expect_str_eq(svy_subpop_column(p, 2), "my col");
    cr_expect_null(svy_subpop_column(p, 3));
    svy_subpop_free(p);
}

Test(subpop, bind_to_a_projected_schema)
{
    svy_subpop *p;
    svy_err err;
    cr_assert_eq(svy_subpop_parse("sex == \"female\" & age < 40", &p, &err), SVY_OK);
    svy_schema *s = svy_schema_new();
    svy_schema_add(s, "age", SVY_VAR_NUMERIC, &err);
    svy_var *sex = svy_schema_add(s, "sex", SVY_VAR_NUMERIC, &err);
    svy_var_add_label_num(sex, 2, "female");
    cr_assert_eq(svy_subpop_bind(p, s, NULL, &err), SVY_OK, "%s", err.msg);
    svy_value v[2] = {num(39), num(2)};
    svy_row row = {.index = 1, .nvals = 2, .vals = v};
    int in;
    cr_assert_eq(svy_subpop_eval(p, &row, &in, &err), SVY_OK);
    cr_expect_eq(in, 1);
    /* a row shorter than the schema is a data error, not a read past it */
    row.nvals = 1;
    cr_expect_eq(svy_subpop_eval(p, &row, &in, &err), SVY_E_DATA);
    svy_schema_free(s);
    svy_subpop_free(p);
}

Test(subpop, eval_before_bind_and_limits)
{
    svy_subpop *p;
    svy_err err;
    cr_assert_eq(svy_subpop_parse("age > 1", &p, &err), SVY_OK);
    svy_value v[1] = {num(3)};
    svy_row row = {.index = 1, .nvals = 1, .vals = v};
    int in;
    cr_expect_eq(svy_subpop_eval(p, &row, &in, &err), SVY_E_USAGE);
    svy_subpop_free(p);
    /* deep nesting is an error, not a stack overflow */
    char deep[1200];
    memset(deep, '(', 600);
    strcpy(deep + 600, "age > 1");
    cr_expect_eq(svy_subpop_parse(deep, &p, &err), SVY_E_USAGE);
    cr_expect(strstr(err.msg, "nested"), "%s", err.msg);
    memset(deep, '!', 600);
    cr_expect_eq(svy_subpop_parse(deep, &p, &err), SVY_E_USAGE);
    /* 100 levels are fine */
    memset(deep, '(', 100);
    strcpy(deep + 100, "age > 1");
    memset(deep + 107, ')', 100);
    deep[207] = '\0';
    cr_assert_eq(svy_subpop_parse(deep, &p, &err), SVY_OK, "%s", err.msg);
    cr_expect_str_eq(svy_subpop_text(p), "age > 1");
    svy_subpop_free(p);
    cr_expect_eq(svy_subpop_parse("age > 1 & \xff", &p, &err), SVY_E_USAGE);
    cr_expect_eq(svy_subpop_parse("age > 1", &p, NULL), SVY_OK);
    svy_subpop_free(p);
    cr_expect_eq(svy_subpop_parse("age >", &p, NULL), SVY_E_USAGE);
    svy_subpop_free(NULL);
}
