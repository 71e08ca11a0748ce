#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codebook_private.h"
#include <survey/codebook.h>

#include "test_util.h"

/* A scratch codebook folder with the given files (name, content pairs). */
static char tmpdir[256];

static void write_file(const char *name, const char *text) { svy_test_write_file(tmpdir, name, text); }

static void scratch(void)
{
    svy_test_scratch_new(tmpdir, sizeof tmpdir, "/tmp/svy-cb-XXXXXX");
}

static void cleanup(void) { svy_test_scratch_remove(tmpdir); }

static const char *VARS_HEAD = "name,source,label_zh,label_en,type,valid,missing,recode,labels,role,invalid\n";

static svy_status load(svy_codebook **cb, svy_err *err)
{
    svy_err_clear(err);
    return svy_codebook_load(tmpdir, cb, err);
}

TestSuite(codebook, .init = scratch, .fini = cleanup);

Test(codebook, nsfe_study_loads_completely)
{
    svy_codebook *cb = NULL;
    svy_err err;
    svy_err_clear(&err);
    svy_status st = svy_codebook_load(SVY_SRCDIR "/codebooks/nsfe-2021", &cb, &err);
    char buf[1200];
    cr_assert_eq(st, SVY_OK, "the study's own codebook must load: %s", svy_err_format(&err, buf, sizeof buf));
    /* The analysis names are a contract other tools and tests rely on. */
    static const char *const names[] = {"resp_id", "province", "city", "weight", "fpc", "category", "gender",
                                        "age", "hukou", "pension_emp", "pension_res", "medical_emp",
                                        "medical_res", "injury", "unemployment", "maternity", "any_pension",
                                        "commercial_ins", "burden_heavy", "might_stop"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        cr_expect_geq(svy_codebook_find(cb, names[i]), 0, "analysis variable %s must be in the codebook", names[i]);
    cr_expect_str_eq(svy_codebook_role(cb, SVY_ROLE_ID), "resp_id", "design role id");
    cr_expect_str_eq(svy_codebook_role(cb, SVY_ROLE_WEIGHT), "weight", "design role weight");
    cr_expect_str_eq(svy_codebook_role(cb, SVY_ROLE_STRATA), "province", "design role strata");
    cr_expect_str_eq(svy_codebook_role(cb, SVY_ROLE_PSU), "city", "design role psu");
    cr_expect_str_eq(svy_codebook_role(cb, SVY_ROLE_FPC), "fpc", "design role fpc");
    /* the second stage: workers (the respondent id, also the id) within cities */
    cr_expect_str_eq(svy_codebook_role_stage(cb, SVY_ROLE_PSU, 1), "city", "stage 1 psu");
    cr_expect_str_eq(svy_codebook_role_stage(cb, SVY_ROLE_PSU, 2), "resp_id", "stage 2 psu (role id;psu2)");
    cr_expect_str_eq(svy_codebook_role_stage(cb, SVY_ROLE_FPC, 2), "fpc2", "stage 2 fpc");
    cr_expect_null(svy_codebook_role_stage(cb, SVY_ROLE_STRATA, 2), "no strata of its own at stage 2");
    const char *outcomes[32];
    size_t n = svy_codebook_roles(cb, SVY_ROLE_OUTCOME, outcomes, 32);
    cr_expect_geq(n, 10, "participation variables are outcomes (got %zu)", n);
    const svy_cb_var *g = svy_codebook_var(cb, (size_t)svy_codebook_find(cb, "gender"));
    cr_assert_eq(svy_cb_var_nlabels(g), 2, "gender has two labelled codes");
    cr_expect_str_eq(svy_cb_var_label_text(g, 0, SVY_LANG_ZH), "男", "Chinese label of code 1");
    cr_expect_str_eq(svy_cb_var_label_text(g, 1, SVY_LANG_EN), "female", "English label of code 2");
    const svy_cb_var *cat = svy_codebook_var(cb, (size_t)svy_codebook_find(cb, "category"));
    cr_expect(svy_cb_var_is_derived(cat), "category is derived from job");
    cr_expect(svy_cb_var_valid_num(cat, 2) && !svy_cb_var_valid_num(cat, 3), "category is 1 or 2");
    svy_codebook_free(cb);
}

Test(codebook, stage_roles_parse)
{
    svy_role r;
    int s;
    cr_assert(svy_role_parse_stage("psu", &r, &s) && r == SVY_ROLE_PSU && s == 1, "psu is stage 1");
    cr_assert(svy_role_parse_stage("psu1", &r, &s) && r == SVY_ROLE_PSU && s == 1, "psu1 is stage 1");
    cr_assert(svy_role_parse_stage("FPC2", &r, &s) && r == SVY_ROLE_FPC && s == 2, "fpc2, any case");
    cr_assert(svy_role_parse_stage("strata3", &r, &s) && r == SVY_ROLE_STRATA && s == 3, "strata3");
    cr_assert(svy_role_parse_stage("outcome", &r, &s) && r == SVY_ROLE_OUTCOME && s == 0, "no stage");
    cr_assert(!svy_role_parse_stage("weight2", &r, &s), "only design roles have stages");
    cr_assert(!svy_role_parse_stage("psu9", &r, &s) && !svy_role_parse_stage("psu0", &r, &s) &&
                  !svy_role_parse_stage("psu12", &r, &s),
              "stages 1 to 8");
}

Test(codebook, bad_regex_names_file_line_and_column)
{
    write_file("variables.csv", "name,source,type,recode,labels\nsex,A1,code,g,gl\n");
    write_file("values.csv", "labels,value,label_zh,label_en\ngl,1,男,male\n");
    write_file("recodes.csv", "set,pattern,value\ng,^男$,1\ng,^(女|f,2\n");
    svy_codebook *cb = NULL;
    svy_err err;
    cr_assert_eq(load(&cb, &err), SVY_E_DATA, "an unclosed group must not compile");
    cr_expect(strstr(err.file, "recodes.csv") != NULL, "error names the recodes file, got %s", err.file);
    cr_expect_eq(err.row, 3, "error names line 3 (got %lld)", err.row);
    cr_expect_eq(err.col, 2, "error names column 2, the pattern (got %lld)", err.col);
    cr_expect(strstr(err.msg, "does not compile") != NULL, "message says why: %s", err.msg);
    cr_expect_null(cb, "no codebook on failure");
}

Test(codebook, column_the_data_lack_is_an_error_at_its_cell)
{
    char v[512];
    snprintf(v, sizeof v, "%sage,A2_age,年龄,age,integer,16-75,-9,,,,\nsex,A1_sexx,性别,sex,text,,,,,,\n", VARS_HEAD);
    write_file("variables.csv", v);
    svy_codebook *cb = NULL;
    svy_err err;
    cr_assert_eq(load(&cb, &err), SVY_OK, "codebook itself is fine: %s", err.msg);
    svy_schema *s = svy_schema_new();
    svy_schema_add(s, "A2_age", SVY_VAR_STRING, &err);
    svy_schema_add(s, "A1_sex", SVY_VAR_STRING, &err);
    cr_assert_eq(svy_codebook_check_schema(cb, s, &err), SVY_E_DATA, "A1_sexx is not in the data");
    cr_expect(strstr(err.file, "variables.csv") != NULL, "names variables.csv, got %s", err.file);
    cr_expect_eq(err.row, 3, "line 3 of variables.csv (got %lld)", err.row);
    cr_expect_eq(err.col, 2, "column 2 is source (got %lld)", err.col);
    cr_expect(strstr(err.msg, "A1_sexx") != NULL, "message names the missing column: %s", err.msg);
    svy_schema_free(s);
    svy_codebook_free(cb);
}

Test(codebook, value_labels_that_contradict_the_data)
{
    char v[512];
    snprintf(v, sizeof v, "%sgender,A1,性别,gender,code,,,,gl,,\n", VARS_HEAD);
    write_file("variables.csv", v);
    write_file("values.csv", "labels,value,label_zh,label_en\ngl,1,男,male\ngl,2,女,female\n");
    svy_codebook *cb = NULL;
    svy_err err;
    cr_assert_eq(load(&cb, &err), SVY_OK, "codebook itself is fine: %s", err.msg);
    svy_schema *s = svy_schema_new();
    svy_var *a1 = svy_schema_add(s, "A1", SVY_VAR_NUMERIC, &err);
    svy_var_add_label_num(a1, 1, "Female");
    svy_var_add_label_num(a1, 2, "Male");
    cr_assert_eq(svy_codebook_check_schema(cb, s, &err), SVY_E_DATA, "data say 1 = Female, codebook 2 = female");
    cr_expect(strstr(err.file, "values.csv") != NULL, "names values.csv, got %s", err.file);
    cr_expect(err.row == 2 || err.row == 3, "names the line of the contradicted label (got %lld)", err.row);
    svy_schema_free(s);

    /* Agreeing labels, in the other language and case, are fine. */
    s = svy_schema_new();
    a1 = svy_schema_add(s, "A1", SVY_VAR_NUMERIC, &err);
    svy_var_add_label_num(a1, 1, "MALE");
    svy_var_add_label_num(a1, 2, "女");
    cr_expect_eq(svy_codebook_check_schema(cb, s, &err), SVY_OK, "agreeing labels are not a contradiction: %s",
                 err.msg);
    svy_schema_free(s);
    svy_codebook_free(cb);
}

Test(codebook, label_outside_valid_range_contradicts_codebook)
{
    char v[512];
    snprintf(v, sizeof v, "%sburden,B5,负担,burden,code,1-5,,,bl,,\n", VARS_HEAD);
    write_file("variables.csv", v);
    write_file("values.csv", "labels,value,label_zh,label_en\nbl,1,很轻,very light\nbl,6,极重,extreme\n");
    svy_codebook *cb = NULL;
    svy_err err;
    cr_assert_eq(load(&cb, &err), SVY_E_DATA, "code 6 is labelled but not valid");
    cr_expect(strstr(err.file, "values.csv") && err.row == 3, "values.csv line 3, got %s:%lld", err.file, err.row);
}

Test(codebook, unknown_type_kind_role_and_header)
{
    svy_codebook *cb = NULL;
    svy_err err;
    write_file("variables.csv", "name,source,type\nx,X,float\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "unknown type");
    cr_expect(err.row == 2 && err.col == 3, "type cell, got %lld:%lld", err.row, err.col);
    write_file("variables.csv", "name,source,type,colour\nx,X,number,red\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "unknown header");
    cr_expect(err.row == 1 && err.col == 4, "header cell, got %lld:%lld", err.row, err.col);
    write_file("variables.csv", "name,source,type,role\nx,X,number,wieght\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "unknown role");
    write_file("variables.csv", "name,source,type\nx,X,number\n");
    write_file("derived.csv", "name,kind,sources,args\ny,sum_of,x,\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "unknown derived kind");
    cr_expect(strstr(err.file, "derived.csv") && err.row == 2 && err.col == 2, "kind cell, got %s:%lld:%lld",
              err.file, err.row, err.col);
    write_file("derived.csv", "name,kind,sources,args\ny,any_of,x;z,\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "a source that is not defined");
    cr_expect(strstr(err.msg, "'z'") != NULL, "names it: %s", err.msg);
    cr_expect_null(cb, "no codebook on failure");
}

Test(codebook, quoted_fields_bom_and_crlf)
{
    write_file("variables.csv", "\xEF\xBB\xBFname,source,label_en,type,note\r\n"
                                "income,A7,\"Income, monthly \"\"yuan\"\"\",number,\"two\r\nlines\"\r\n\r\n");
    svy_codebook *cb = NULL;
    svy_err err;
    cr_assert_eq(load(&cb, &err), SVY_OK, "spreadsheet CSV must load: %s", err.msg);
    const svy_cb_var *v = svy_codebook_var(cb, 0);
    cr_expect_str_eq(svy_cb_var_name(v), "income", "BOM is not part of the first header");
    cr_expect_str_eq(svy_cb_var_label(v, SVY_LANG_EN), "Income, monthly \"yuan\"", "quotes undone");
    cr_expect_str_eq(svy_cb_var_label(v, SVY_LANG_ZH), "Income, monthly \"yuan\"",
                     "a missing Chinese label falls back to English");
    svy_codebook_free(cb);
}

Test(codebook, quantities_out_of_text)
{
    static const struct {
        const char *s;
        double want;
    } ok[] = {{"5000", 5000},   {"5,000元", 5000}, {"5k", 5000},     {"5.2k", 5200},   {"5千", 5000},
              {"0.6万", 6000},  {"1万", 10000},    {"¥5000", 5000},  {"RMB 5000", 5000}, {"5000 元", 5000},
              {"35岁", 35},     {"35周岁", 35},     {"35 years", 35}, {" 35 ", 35},      {"-9", -9},
              {"12，000元", 12000}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        double d = NAN;
        cr_expect(svy_cb_parse_quantity(ok[i].s, strlen(ok[i].s), &d) && d == ok[i].want, "'%s' should read as %g, got %g",
                  ok[i].s, ok[i].want, d);
    }
    static const char *const bad[] = {"", "abc", "5k5", "35 apples", "5,", "男", "1,2,3x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double d;
        cr_expect(!svy_cb_parse_quantity(bad[i], strlen(bad[i]), &d), "'%s' is not a quantity", bad[i]);
    }
}

Test(codebook, apply_labels_to_a_schema)
{
    char v[512];
    snprintf(v, sizeof v, "%sgender,A1,性别,Gender,code,,,,gl,group,\n", VARS_HEAD);
    write_file("variables.csv", v);
    write_file("values.csv", "labels,value,label_zh,label_en\ngl,1,男,male\ngl,2,女,female\n");
    svy_codebook *cb = NULL;
    svy_err err;
    cr_assert_eq(load(&cb, &err), SVY_OK, "loads: %s", err.msg);
    svy_schema *s = svy_schema_new();
    svy_schema_add(s, "gender", SVY_VAR_NUMERIC, &err);
    svy_schema_add(s, "other", SVY_VAR_NUMERIC, &err);
    cr_assert_eq(svy_codebook_apply_labels(cb, s, SVY_LANG_EN, &err), SVY_OK, "apply");
    const svy_var *g = svy_schema_var(s, 0);
    cr_expect_str_eq(svy_var_label(g), "Gender", "variable label in English");
    svy_value two = {.num = 2, .type = SVY_VAL_NUM};
    cr_expect_str_eq(svy_var_label_for(g, &two), "female", "value label of 2");
    cr_expect_eq(svy_var_nlabels(svy_schema_var(s, 1)), 0, "unknown variables are left alone");
    cr_expect_eq(svy_codebook_role(cb, SVY_ROLE_GROUP) != NULL, 1, "gender is a group");
    svy_schema_free(s);
    svy_codebook_free(cb);
}

Test(codebook, malformed_csv_and_duplicates_are_located)
{
    svy_codebook *cb = NULL;
    svy_err err;
    write_file("variables.csv", "name,source,type,note\nx,X,number,\"never closed\n");
    cr_expect_eq(load(&cb, &err), SVY_E_FORMAT, "an unclosed quote is a format error");
    cr_expect(strstr(err.file, "variables.csv") && err.row == 2, "at the record's line, got %s:%lld", err.file,
              err.row);
    write_file("variables.csv", "name,source,type\nx,X,number\nx,Y,number\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "a variable defined twice");
    cr_expect(err.row == 3 && err.col == 1, "at the second definition's name, got %lld:%lld", err.row, err.col);
    write_file("variables.csv", "name,source,type,role\na,A,integer,id\nb,B,integer,id\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "two id variables");
    cr_expect(err.row == 3 && err.col == 4, "at the second role cell, got %lld:%lld", err.row, err.col);
    write_file("variables.csv", "name,source,type,labels\ng,G,code,gl\n");
    write_file("values.csv", "labels,value,label_zh,label_en\ngl,1,男,male\ngl,1,男性,man\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "a code labelled twice in one set");
    cr_expect(strstr(err.file, "values.csv") && err.row == 3, "at the second label, got %s:%lld", err.file, err.row);
    write_file("values.csv", "labels,value,label_zh,label_en\ngl,1.5,半,half\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "codes are whole numbers");
    write_file("values.csv", "labels,value,label_zh,label_en\ngl,1,男,male\n");
    write_file("variables.csv", "name,source,type,labels,valid\ng,G,code,gl,1-x\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "a valid range that does not parse");
    cr_expect(err.row == 2 && err.col == 5, "at the valid cell, got %lld:%lld", err.row, err.col);
    write_file("variables.csv", "name,source,type\n9lives,X,number\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "names cannot start with a digit");
    cr_expect_null(cb, "no codebook on any failure");
}

Test(codebook, checks_and_derived_args_are_parsed_at_load)
{
    svy_codebook *cb = NULL;
    svy_err err;
    write_file("variables.csv", "name,source,type,valid\nb,B,integer,1-5\n");
    write_file("derived.csv", "name,kind,sources,args\nheavy,threshold,b,4\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "threshold needs an operator");
    cr_expect(strstr(err.file, "derived.csv") && err.row == 2 && err.col == 4, "at args, got %s:%lld:%lld", err.file,
              err.row, err.col);
    write_file("derived.csv", "name,kind,sources,args\ngrp,map,b,1-2=1;3-5\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "a map case without a target");
    write_file("derived.csv", "name,kind,sources,args\nheavy,threshold,b,>=4\n");
    write_file("checks.csv", "name,if,then,action\nc1,heavy == 1,b >= 4,fix_it\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "unknown action");
    cr_expect(strstr(err.file, "checks.csv") && err.row == 2 && err.col == 4, "at action, got %s:%lld:%lld",
              err.file, err.row, err.col);
    write_file("checks.csv", "name,if,then,action\nc1,heavy = = 1,b >= 4,warn\n");
    cr_expect_eq(load(&cb, &err), SVY_E_DATA, "a condition that does not parse");
    cr_expect(err.col == 2, "at the if cell, got %lld", err.col);
    write_file("checks.csv", "name,if,then,action\nc1,heavy == 1,b >= 4,warn\nc2,b is missing,heavy is missing,set_missing\n");
    cr_assert_eq(load(&cb, &err), SVY_OK, "well-formed checks load: %s", err.msg);
    svy_codebook_free(cb);
}

/* svy_codebook_write: a folder written from profiled data loads back as a
 * codebook with the data's types, labels and missing codes. */
Test(codebook, write_from_a_profile_loads_back)
{
    svy_schema *s = svy_schema_new();
    svy_var *sex = svy_schema_add(s, "sex", SVY_VAR_NUMERIC, NULL);
    cr_assert(sex);
    cr_assert_eq(svy_var_set_label(sex, "性别"), SVY_OK);
    cr_assert_eq(svy_var_add_label_num(sex, 1, "男"), SVY_OK);
    cr_assert_eq(svy_var_add_label_num(sex, 2, "Female"), SVY_OK);
    cr_assert(svy_schema_add(s, "age", SVY_VAR_UNTYPED, NULL));
    cr_assert(svy_schema_add(s, "name", SVY_VAR_STRING, NULL));
    svy_profile *p = svy_profile_new(s, 100);
    svy_schema_free(s);
    cr_assert(p);
    svy_value v[3] = {{.type = SVY_VAL_NUM, .num = 1}, {.type = SVY_VAL_STR, .str = "34", .len = 2},
                      {.type = SVY_VAL_STR, .str = "x", .len = 1}};
    svy_row row = {.index = 1, .nvals = 3, .vals = v};
    cr_assert_eq(svy_profile_add_row(p, &row, NULL), SVY_OK);
    char dir[64];
    svy_test_scratch_new(dir, sizeof dir, "/tmp/svy-cbwrite-XXXXXX");
    char sub[128];
    snprintf(sub, sizeof sub, "%s/cb", dir);
    svy_err err;
    cr_assert_eq(svy_codebook_write(p, sub, &err), SVY_OK, "%s", err.msg);
    svy_profile_free(p);
    svy_codebook *cb = NULL;
    cr_assert_eq(svy_codebook_load(sub, &cb, &err), SVY_OK, "%s", err.msg);
    long k = svy_codebook_find(cb, "sex");
    cr_assert(k >= 0);
    const svy_cb_var *cv = svy_codebook_var(cb, (size_t)k);
    cr_assert_eq(svy_cb_var_type(cv), SVY_CB_CODE);
    cr_assert_str_eq(svy_cb_var_label(cv, SVY_LANG_ZH), "性别", "CJK labels go to label_zh");
    cr_assert_eq(svy_cb_var_nlabels(cv), 2);
    cr_assert_str_eq(svy_cb_var_label_text(cv, 1, SVY_LANG_EN), "Female", "other labels to label_en");
    cr_assert_eq(svy_cb_var_type(svy_codebook_var(cb, (size_t)svy_codebook_find(cb, "age"))), SVY_CB_INTEGER);
    cr_assert_eq(svy_cb_var_type(svy_codebook_var(cb, (size_t)svy_codebook_find(cb, "name"))), SVY_CB_TEXT);
    svy_codebook_free(cb);
    svy_test_scratch_remove(dir);
}

Test(codebook, role_names_parse_back)
{
    for (int i = 0; i < SVY_ROLE_COUNT_; i++) {
        svy_role r;
        cr_assert(svy_role_parse(svy_role_name((svy_role)i), &r), "role %d", i);
        cr_assert_eq(r, (svy_role)i, "_name and _parse are inverse");
    }
    svy_role r;
    cr_assert(svy_role_parse("PSU", &r) && r == SVY_ROLE_PSU, "caseless");
    cr_assert(!svy_role_parse("psu2", &r), "stages are svy_role_parse_stage's");
}

Test(codebook, label_and_missing_texts_of_a_variable)
{
    svy_schema *s = svy_schema_new();
    svy_var *v = svy_schema_add(s, "q", SVY_VAR_NUMERIC, NULL);
    cr_assert(v);
    cr_assert_eq(svy_var_add_label_num(v, 1, "yes"), SVY_OK);
    cr_assert_eq(svy_var_add_label_tagged(v, 'a', "n/a"), SVY_OK);
    cr_assert_eq(svy_var_add_missing_range(v, 8, 9), SVY_OK);
    cr_assert_eq(svy_var_add_missing_range(v, -1.75e308, -1), SVY_OK);
    char *l = svy_codebook_labels_text(v), *m = svy_codebook_missing_text(v);
    cr_assert_str_eq(l, "1=yes; .a=n/a");
    cr_assert_str_eq(m, "8 thru 9; LO thru -1");
    free(l);
    free(m);
    svy_var *e = svy_schema_add(s, "e", SVY_VAR_NUMERIC, NULL);
    l = svy_codebook_labels_text(e);
    cr_assert_str_eq(l, "", "none: an empty text, not NULL");
    free(l);
    svy_schema_free(s);
}

/* The CSV rules libcsv alone would change (lenient libcsv folds text after
 * a closing quote into the field and closes an open quote at the end;
 * strict libcsv refuses a quote inside an unquoted field): messages, lines
 * and columns as the hand-written reader before gave them. */
Test(codebook, table_reader_keeps_its_quote_rules)
{
    static const struct {
        const char *text, *msg;
        int line, col;
    } bad[] = {{"a,b\n\"ab\"c,d\n", "text after a closing quote", 2, 1},
               {"a,b\nx, \"ab\" \"c\",d\ny\n", "text after a closing quote", 2, 2},
               {"a,b\n\nx,\"two\nlines\n", "quoted field not closed", 3, 2},
               {"a,b\nx,y\rz\n", "text after a closing quote", 2, 2},
               {"a,b\n  \rz\n", "text after a closing quote", 2, 1},
               {"\n \n,\n", "no header line", 1, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_file("t.csv", bad[i].text);
        char path[300];
        snprintf(path, sizeof path, "%s/t.csv", tmpdir);
        cbtab t;
        svy_err err;
        svy_err_clear(&err);
        cr_expect_eq(cbtab_load(&t, path, NULL, &err), SVY_E_FORMAT, "case %zu must fail", i);
        cr_expect_str_eq(err.msg, bad[i].msg, "case %zu", i);
        cr_expect_eq(err.row, bad[i].line, "case %zu line", i);
        cr_expect_eq(err.col, bad[i].col, "case %zu column", i);
    }
    write_file("t.csv", "a , \"b,\"\"c\"\"\" \r\n\r\n,,\nsay \"hi\",  x  \n\n  \"q\"  ,\"\"\n");
    char path[300];
    snprintf(path, sizeof path, "%s/t.csv", tmpdir);
    cbtab t;
    svy_err err;
    svy_err_clear(&err);
    cr_assert_eq(cbtab_load(&t, path, NULL, &err), SVY_OK, "%s", err.msg);
    cr_expect_str_eq(t.head[1], "b,\"c\"", "quoted header, blanks outside quotes trimmed");
    cr_assert_eq(t.nrows, 2, "empty records skipped");
    cr_expect_str_eq(t.rows[0].f[0], "say \"hi\"", "a quote inside an unquoted field is kept");
    cr_expect_str_eq(t.rows[0].f[1], "x");
    cr_expect_eq(t.rows[0].line, 4);
    cr_expect_str_eq(t.rows[1].f[0], "q");
    cr_expect_eq(t.rows[1].line, 6);
    cbtab_free(&t);
}
