#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <survey/clean.h>
#include <survey/codebook.h>

#include "test_util.h"
#include "svy_private.h"
#include "clean_private.h"

/* A scratch codebook with a small study: id, province (recoded), age
 * (number from text), job (recode order matters), four yes/no items,
 * derived variables and checks. */
static char tmpdir[256];

static void write_file(const char *name, const char *text) { svy_test_write_file(tmpdir, name, text); }

static void scratch(void)
{
    svy_test_scratch_new(tmpdir, sizeof tmpdir, "/tmp/svy-clean-XXXXXX");
    write_file("study.csv", "key,value\nname,test\nduplicates,keep_first\n");
    write_file("variables.csv",
               "name,source,label_zh,label_en,type,valid,missing,recode,labels,role,invalid\n"
               "resp_id,id,编号,id,integer,1-999999,,,,id,reject\n"
               "province,prov,省份,province,code,,,province,province,strata,\n"
               "age,age_raw,年龄,age,integer,16-75,-9;-8,,,,\n"
               "job,job_raw,工作,job,code,,,job,job,,\n"
               "pe,B1,职工养老,employee pension,code,,-9;3,yn,yesno,outcome,\n"
               "pr,B2,居民养老,resident pension,code,,-9;3,yn,yesno,outcome,\n"
               "ever,B3,曾参保,ever insured,code,,-9,yn,yesno,,\n"
               "burden,B5,负担,burden,code,1-5,-8;99,,,,\n");
    write_file("values.csv", "labels,value,label_zh,label_en\n"
                             "province,33,浙江,Zhejiang\nprovince,44,广东,Guangdong\n"
                             "job,1,外卖骑手,food delivery\njob,2,网约车司机,ride-hailing\njob,5,网络自由职业,online\n"
                             "yesno,0,否,no\nyesno,1,是,yes\n");
    write_file("recodes.csv", "set,pattern,value\n"
                              "province,^(浙江|zhejiang|zj)(省|\\s*prov(ince|\\.)?)?$,33\n"
                              "province,^(广东|廣東|guangdong|gd)(省)?$,44\n"
                              "province,^(不详|unknown)$,\n"
                              "job,外卖|骑手|food,1\n"
                              "job,网约车|滴滴|(ride|car)[\\s-]*hailing,2\n"
                              "job,网络|online,5\n"
                              "yn,^1$,1\nyn,^2$,0\n");
    write_file("derived.csv", "name,kind,sources,args,label_zh,label_en,labels,role\n"
                              "any_pension,any_of,pe;pr,1,任一养老,any pension,yesno,outcome\n"
                              "both_pension,all_of,pe;pr,1,两种养老,both,yesno,\n"
                              "burden_heavy,threshold,burden,>=4,负担重,burden heavy,yesno,outcome\n"
                              "platform,map,job,1-5=1;6=2,平台,platform,,\n"
                              "age_copy,copy,age,,年龄,age,,\n");
    write_file("checks.csv", "name,if,then,action,message\n"
                             "insured_never,any_pension == 1,ever == 1,set_missing,在参保却答从未参保\n"
                             "burden_uninsured,any_pension == 0,burden is missing,warn,负担只问参保者\n"
                             "too_young_heavy,age < 18,burden_heavy != 1,reject,未成年负担重\n");
}

static void cleanup(void) { svy_test_scratch_remove(tmpdir); }

TestSuite(clean, .init = scratch, .fini = cleanup);

enum { C_ID, C_PROV, C_AGE, C_JOB, C_B1, C_B2, C_B3, C_B5, NC };
static const char *const raw_names[NC] = {"id", "prov", "age_raw", "job_raw", "B1", "B2", "B3", "B5"};

typedef struct logged {
    char var[32], old[64], new_[64], detail[96];
    svy_clean_rule rule;
    long long row;
} logged;

static struct {
    logged log[64];
    int nlog;
    char reject_reason[256];
    svy_clean_rule reject_rule;
    int nreject, nproblem;
} seen;

static svy_status on_change(void *ctx, const svy_clean_change *ch, svy_err *err)
{
    if (seen.nlog < 64) {
        logged *l = &seen.log[seen.nlog++];
        snprintf(l->var, sizeof l->var, "%s", ch->var);
        snprintf(l->old, sizeof l->old, "%s", ch->old_value);
        snprintf(l->new_, sizeof l->new_, "%s", ch->new_value);
        snprintf(l->detail, sizeof l->detail, "%s", ch->detail);
        l->rule = ch->rule;
        l->row = ch->row;
    }
    return SVY_OK;
}

static svy_status on_reject(void *ctx, long long row, const char *id, svy_clean_rule rule, const char *reason,
                            svy_err *err)
{
    seen.nreject++;
    seen.reject_rule = rule;
    snprintf(seen.reject_reason, sizeof seen.reject_reason, "%s", reason);
    return SVY_OK;
}

static svy_status on_problem(void *ctx, long long row, const char *id, const char *var, const char *reason,
                             svy_err *err)
{
    seen.nproblem++;
    return SVY_OK;
}

typedef struct fixture {
    svy_codebook *cb;
    svy_clean *c;
    svy_schema *raw;
    long long row;
} fixture;

static void setup(fixture *f, int strict)
{
    memset(&seen, 0, sizeof seen);
    svy_err err;
    svy_err_clear(&err);
    cr_assert_eq(svy_codebook_load(tmpdir, &f->cb, &err), SVY_OK, "test codebook loads: %s:%lld:%lld: %s", err.file,
                 err.row, err.col, err.msg);
    f->raw = svy_schema_new();
    for (int i = 0; i < NC; i++)
        cr_assert(svy_schema_add(f->raw, raw_names[i], SVY_VAR_UNTYPED, &err), "schema");
    f->c = svy_clean_new(f->cb);
    cr_assert(f->c, "engine");
    svy_clean_hooks h = {on_change, on_reject, on_problem};
    svy_clean_set_hooks(f->c, &h, NULL);
    svy_clean_set_strict(f->c, strict);
    svy_clean_set_input_name(f->c, "raw.csv");
    cr_assert_eq(svy_clean_begin(f->c, f->raw, &err), SVY_OK, "bind: %s", err.msg);
    f->row = 0;
}

static void teardown(fixture *f)
{
    svy_clean_free(f->c);
    svy_schema_free(f->raw);
    svy_codebook_free(f->cb);
}

/* Clean one row given as text cells (NULL = missing). */
static svy_status feed(fixture *f, const char *const cells[NC], const svy_row **out, svy_err *err)
{
    svy_value v[NC];
    for (int i = 0; i < NC; i++) {
        memset(&v[i], 0, sizeof v[i]);
        v[i].type = SVY_VAL_STR;
        v[i].str = cells[i] ? cells[i] : "";
        v[i].len = cells[i] ? strlen(cells[i]) : 0;
        if (!cells[i])
            v[i].missing = SVY_MISS_SYSTEM;
    }
    svy_row r = {.index = ++f->row, .nvals = NC, .vals = v};
    svy_err_clear(err);
    seen.nlog = 0;
    return svy_clean_row(f->c, &r, out, err);
}

static long col(fixture *f, const char *name)
{
    long k = svy_schema_find(svy_clean_schema(f->c), name);
    cr_assert_geq(k, 0, "cleaned schema has %s", name);
    return k;
}

static double num(fixture *f, const svy_row *r, const char *name)
{
    const svy_value *v = &r->vals[col(f, name)];
    return svy_value_is_missing(v) ? NAN : v->num;
}

static const logged *log_for(const char *var)
{
    for (int i = 0; i < seen.nlog; i++)
        if (!strcmp(seen.log[i].var, var))
            return &seen.log[i];
    return NULL;
}

Test(clean, recode_spellings_and_scripts_first_match_wins)
{
    fixture f;
    setup(&f, 0);
    static const struct {
        const char *prov, *job;
        double want_prov, want_job;
    } cases[] = {{"浙江省", "美团骑手", 33, 1},        {" zhejiang prov. ", "Food-delivery rider", 33, 1},
                 {"ZJ", "online car-hailing", 33, 2}, {"廣東", "网络主播", 44, 5},
                 {"GUANGDONG", "滴滴司机", 44, 2}};
    const svy_row *out;
    svy_err err;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char id[16];
        snprintf(id, sizeof id, "%zu", i + 1);
        const char *cells[NC] = {id, cases[i].prov, "30", cases[i].job, "2", "1", "1", "3"};
        cr_assert_eq(feed(&f, cells, &out, &err), SVY_OK, "row cleans: %s", err.msg);
        cr_assert_not_null(out, "row kept");
        cr_expect_eq(num(&f, out, "province"), cases[i].want_prov, "'%s' is province %g", cases[i].prov,
                     cases[i].want_prov);
        cr_expect_eq(num(&f, out, "job"), cases[i].want_job, "'%s' is job %g (order of patterns decides)",
                     cases[i].job, cases[i].want_job);
        const logged *l = log_for("province");
        cr_assert_not_null(l, "the recode of '%s' is logged", cases[i].prov);
        cr_expect_eq(l->rule, SVY_RULE_RECODE, "rule is recode");
        cr_expect_str_eq(l->old, cases[i].prov, "old value is the raw text, blanks and all");
        cr_expect(strstr(l->detail, "recodes.csv:") != NULL, "detail names the pattern's line: %s", l->detail);
    }
    /* "online car-hailing" would match the online rule too: the earlier one wins. */
    const char *nomatch[NC] = {"9", "火星", "30", "外卖", "1", "2", "1", "3"};
    cr_assert_eq(feed(&f, nomatch, &out, &err), SVY_OK, "an unknown province is handled, not fatal");
    cr_expect(isnan(num(&f, out, "province")), "no pattern matches: missing");
    cr_expect_eq(log_for("province")->rule, SVY_RULE_INVALID, "logged as invalid");
    cr_expect_eq(seen.nproblem, 1, "and counted as a problem");
    const char *tomissing[NC] = {"10", "不详", "30", "外卖", "1", "2", "1", "3"};
    cr_assert_eq(feed(&f, tomissing, &out, &err), SVY_OK, "recode to missing");
    cr_expect(isnan(num(&f, out, "province")), "a rule with an empty value makes the cell missing");
    cr_expect_eq(seen.nproblem, 1, "a deliberate missing is not a problem");
    teardown(&f);
}

Test(clean, missing_codes_become_missing)
{
    fixture f;
    setup(&f, 0);
    const svy_row *out;
    svy_err err;
    const char *cells[NC] = {"1", "浙江", " -9 ", "外卖", "3", "-9", "1", "99"};
    cr_assert_eq(feed(&f, cells, &out, &err), SVY_OK, "cleans: %s", err.msg);
    cr_expect(isnan(num(&f, out, "age")), "-9 refused is missing");
    cr_expect(isnan(num(&f, out, "pe")), "3 don't know is missing");
    cr_expect(isnan(num(&f, out, "pr")), "-9 is missing");
    cr_expect(isnan(num(&f, out, "burden")), "99 not applicable is missing");
    const logged *l = log_for("age");
    cr_assert_not_null(l, "logged");
    cr_expect_eq(l->rule, SVY_RULE_MISSING, "rule missing");
    cr_expect_str_eq(l->new_, "", "new value is empty (missing)");
    cr_expect_str_eq(l->detail, "-9", "detail is the code");
    cr_expect_eq(seen.nproblem, 0, "missing codes are expected, not problems");
    /* A numeric -9 (from .sav/.dta) is the same code. */
    svy_value v[NC];
    const char *txt[NC] = {"2", "浙江", NULL, "外卖", "1", "2", "1", "4"};
    for (int i = 0; i < NC; i++) {
        memset(&v[i], 0, sizeof v[i]);
        v[i].type = SVY_VAL_STR;
        v[i].str = txt[i] ? txt[i] : "";
        v[i].len = txt[i] ? strlen(txt[i]) : 0;
    }
    v[C_AGE].type = SVY_VAL_NUM;
    v[C_AGE].num = -8;
    svy_row r = {.index = 2, .nvals = NC, .vals = v};
    cr_assert_eq(svy_clean_row(f.c, &r, &out, &err), SVY_OK, "numeric cell");
    cr_expect(isnan(num(&f, out, "age")), "numeric -8 is the missing code -8");
    teardown(&f);
}

Test(clean, numbers_out_of_text_and_range)
{
    fixture f;
    setup(&f, 0);
    const svy_row *out;
    svy_err err;
    static const struct {
        const char *age;
        double want;
        svy_clean_rule rule;
    } cases[] = {{"35岁", 35, SVY_RULE_NUMBER},    {"35 years", 35, SVY_RULE_NUMBER},
                 {"35周岁", 35, SVY_RULE_NUMBER},  {"150", NAN, SVY_RULE_RANGE},
                 {"230岁", NAN, SVY_RULE_RANGE},   {"35.5", NAN, SVY_RULE_RANGE},
                 {"三十五", NAN, SVY_RULE_INVALID}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char id[16];
        snprintf(id, sizeof id, "%zu", i + 1);
        const char *cells[NC] = {id, "浙江", cases[i].age, "外卖", "1", "2", "1", "3"};
        cr_assert_eq(feed(&f, cells, &out, &err), SVY_OK, "cleans: %s", err.msg);
        double got = num(&f, out, "age");
        if (isnan(cases[i].want))
            cr_expect(isnan(got), "'%s' is not a valid age: missing, got %g", cases[i].age, got);
        else
            cr_expect_eq(got, cases[i].want, "'%s' reads as %g", cases[i].age, cases[i].want);
        const logged *l = log_for("age");
        cr_assert_not_null(l, "'%s' is a changed cell", cases[i].age);
        cr_expect_eq(l->rule, cases[i].rule, "'%s': rule %s, got %s", cases[i].age,
                     svy_clean_rule_name(cases[i].rule), svy_clean_rule_name(l->rule));
    }
    const char *plain[NC] = {"99", "浙江", "35", "外卖", "1", "2", "1", "3"};
    cr_assert_eq(feed(&f, plain, &out, &err), SVY_OK, "cleans");
    cr_expect_null(log_for("age"), "35 stays 35: nothing to log");
    teardown(&f);
}

Test(clean, strict_stops_at_first_problem_with_location)
{
    fixture f;
    setup(&f, 1);
    const svy_row *out;
    svy_err err;
    const char *ok[NC] = {"1", "浙江", "35", "外卖", "1", "2", "1", "3"};
    cr_assert_eq(feed(&f, ok, &out, &err), SVY_OK, "a clean row passes in strict mode");
    const char *bad[NC] = {"2", "浙江", "150", "外卖", "1", "2", "1", "3"};
    cr_assert_eq(feed(&f, bad, &out, &err), SVY_E_DATA, "an out-of-range age stops a strict run");
    cr_expect_eq(err.row, 2, "error names the row (got %lld)", err.row);
    cr_expect_eq(err.col, C_AGE + 1, "and the raw column (got %lld)", err.col);
    cr_expect_str_eq(err.var, "age", "and the variable");
    cr_expect_str_eq(err.file, "raw.csv", "and the input");
    teardown(&f);
}

Test(clean, derived_any_all_threshold_map_copy)
{
    fixture f;
    setup(&f, 0);
    const svy_row *out;
    svy_err err;
    static const struct {
        const char *b1, *b2, *b5;
        double any, both, heavy;
    } cases[] = {
        {"1", "2", "4", 1, 0, 1},     {"2", "2", "3", 0, 0, 0},       {"1", "1", "5", 1, 1, 1},
        {"3", "2", "2", NAN, 0, 0},   {"3", "1", "99", 1, NAN, NAN}, {"-9", "3", "-8", NAN, NAN, NAN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char id[16];
        snprintf(id, sizeof id, "%zu", i + 1);
        const char *cells[NC] = {id, "浙江", "40", "网约车", cases[i].b1, cases[i].b2, "1", cases[i].b5};
        cr_assert_eq(feed(&f, cells, &out, &err), SVY_OK, "cleans: %s", err.msg);
        double any = num(&f, out, "any_pension"), both = num(&f, out, "both_pension"),
               heavy = num(&f, out, "burden_heavy");
        cr_expect(isnan(cases[i].any) ? isnan(any) : any == cases[i].any,
                  "any_of(%s,%s) = %g, got %g (missing only when no yes and some unknown)", cases[i].b1, cases[i].b2,
                  cases[i].any, any);
        cr_expect(isnan(cases[i].both) ? isnan(both) : both == cases[i].both, "all_of(%s,%s) = %g, got %g",
                  cases[i].b1, cases[i].b2, cases[i].both, both);
        cr_expect(isnan(cases[i].heavy) ? isnan(heavy) : heavy == cases[i].heavy, "threshold(%s >= 4) = %g, got %g",
                  cases[i].b5, cases[i].heavy, heavy);
        cr_expect_eq(num(&f, out, "platform"), 1, "map 1-5=1: ride-hailing is platform work");
        cr_expect_eq(num(&f, out, "age_copy"), 40, "copy");
    }
    teardown(&f);
}

Test(clean, duplicate_ids_keep_first_and_reconcile)
{
    fixture f;
    setup(&f, 0);
    const svy_row *out;
    svy_err err;
    const char *a[NC] = {"330001", "浙江", "35岁", "外卖", "1", "2", "1", "3"};
    const char *b[NC] = {"330002", "广东", "40", "外卖", "1", "2", "1", "3"};
    const char *dup[NC] = {"330001", "ZJ", "35", "外卖", "1", "2", "1", "3"};
    const char *noid[NC] = {NULL, "ZJ", "35", "外卖", "1", "2", "1", "3"};
    cr_assert_eq(feed(&f, a, &out, &err), SVY_OK, "first");
    cr_assert_not_null(out, "first record of 330001 is kept");
    cr_assert_eq(feed(&f, b, &out, &err), SVY_OK, "second");
    cr_assert_eq(feed(&f, dup, &out, &err), SVY_OK, "a duplicate is not fatal under keep_first");
    cr_expect_null(out, "the later record of 330001 is dropped");
    cr_expect_eq(seen.reject_rule, SVY_RULE_DUPLICATE, "rejected as a duplicate");
    cr_expect(strstr(seen.reject_reason, "first kept at row 1") != NULL, "reason names the kept row: %s",
              seen.reject_reason);
    cr_expect_eq(seen.nlog, 0, "a dropped row has no log lines");
    cr_assert_eq(feed(&f, noid, &out, &err), SVY_OK, "a row without id");
    cr_expect_null(out, "is dropped (invalid=reject on the id)");
    const svy_clean_stats *s = svy_clean_get_stats(f.c);
    cr_expect_eq(s->rows_in, 4, "4 rows in");
    cr_expect_eq(s->rows_out, 2, "2 rows out");
    cr_expect_eq(s->rows_rejected, 2, "2 rejected");
    cr_expect_eq(s->rows_in, s->rows_out + s->rows_rejected, "rows in = out + rejected");
    cr_expect_eq(s->rejected_by[SVY_RULE_DUPLICATE], 1, "one by the duplicate rule");
    teardown(&f);
}

Test(clean, duplicate_rule_error_stops)
{
    write_file("study.csv", "key,value\nduplicates,error\n");
    fixture f;
    setup(&f, 0);
    const svy_row *out;
    svy_err err;
    const char *a[NC] = {"7", "浙江", "35", "外卖", "1", "2", "1", "3"};
    cr_assert_eq(feed(&f, a, &out, &err), SVY_OK, "first");
    cr_assert_eq(feed(&f, a, &out, &err), SVY_E_DATA, "the rule 'error' makes a duplicate fatal");
    cr_expect(strstr(err.msg, "duplicate") != NULL, "says so: %s", err.msg);
    teardown(&f);
}

Test(clean, consistency_checks_set_missing_warn_reject)
{
    fixture f;
    setup(&f, 0);
    const svy_row *out;
    svy_err err;
    /* In a pension scheme, yet "never insured" (B3 = 2 -> ever = 0). */
    const char *never[NC] = {"1", "浙江", "35", "外卖", "1", "2", "2", "3"};
    cr_assert_eq(feed(&f, never, &out, &err), SVY_OK, "cleans: %s", err.msg);
    cr_assert_not_null(out, "set_missing keeps the row");
    cr_expect(isnan(num(&f, out, "ever")), "the contradicted answer is made missing");
    const logged *l = NULL;
    for (int i = 0; i < seen.nlog; i++)
        if (!strcmp(seen.log[i].var, "ever") && seen.log[i].rule == SVY_RULE_CHECK)
            l = &seen.log[i];
    cr_assert_not_null(l, "the check's change is logged");
    cr_expect_str_eq(l->old, "0", "old value is the value before the check");
    cr_expect(strstr(l->detail, "insured_never") != NULL, "detail names the check: %s", l->detail);
    cr_expect_eq(seen.nproblem, 1, "a failed check is a problem");

    /* Not insured, yet a burden: warn keeps the value. */
    const char *warn[NC] = {"2", "浙江", "35", "外卖", "2", "2", "2", "4"};
    cr_assert_eq(feed(&f, warn, &out, &err), SVY_OK, "cleans");
    cr_assert_not_null(out, "warn keeps the row");
    cr_expect_eq(num(&f, out, "burden"), 4, "warn keeps the value");
    cr_expect_eq(seen.nproblem, 2, "but counts the problem");

    /* 16 is valid but the check on age < 18 with a heavy burden rejects. */
    const char *rej[NC] = {"3", "浙江", "16", "外卖", "1", "2", "1", "5"};
    cr_assert_eq(feed(&f, rej, &out, &err), SVY_OK, "cleans");
    cr_expect_null(out, "reject drops the row");
    cr_expect_eq(seen.reject_rule, SVY_RULE_CHECK, "rejected by a check");
    cr_expect(strstr(seen.reject_reason, "未成年负担重") != NULL, "reason carries the message: %s", seen.reject_reason);
    teardown(&f);
}

Test(clean, validate_cleaned_rows)
{
    fixture f;
    setup(&f, 0);
    svy_err err;
    svy_schema *s = svy_schema_new();
    const svy_schema *cs = svy_clean_schema(f.c);
    for (size_t i = 0; i < svy_schema_nvars(cs); i++)
        svy_schema_add(s, svy_var_name(svy_schema_var(cs, i)), SVY_VAR_UNTYPED, &err);
    cr_assert_eq(svy_clean_begin_validate(f.c, s, &err), SVY_OK, "bind cleaned names: %s", err.msg);
    size_t n = svy_schema_nvars(s);
    svy_value v[32];
    cr_assert_leq(n, 32, "fits");
    /* resp_id province age job pe pr ever burden any both heavy platform age_copy */
    const char *good[] = {"1", "33", "35", "1", "1", "0", "1", "4", "1", "0", "1", "1", "35"};
    const char *bad[] = {"2", "34", "35", "1", "1", "0", "1", "4", "1", "0", "1", "1", "35"};
    cr_assert_eq(n, sizeof good / sizeof *good, "13 cleaned variables");
    for (int pass = 0; pass < 2; pass++) {
        const char **cells = pass ? bad : good;
        for (size_t i = 0; i < n; i++) {
            memset(&v[i], 0, sizeof v[i]);
            v[i].type = SVY_VAL_STR;
            v[i].str = cells[i];
            v[i].len = strlen(cells[i]);
        }
        svy_row r = {.index = pass + 1, .nvals = n, .vals = v};
        cr_assert_eq(svy_clean_validate_row(f.c, &r, &err), SVY_OK, "validation reports, does not stop");
    }
    cr_expect_eq(svy_clean_get_stats(f.c)->problems, 1, "province 34 is not a labelled code");
    svy_schema_free(s);
    teardown(&f);
}

/* Recode matches are remembered per variable: many spellings (more than the
 * memo's slots, so they collide and replace each other), each seen several
 * times in a shuffled order, always give the rule that pcre2 gives, with the
 * same detail, and unmatched texts stay unmatched. */
Test(clean, recode_memo_gives_the_first_match_every_time)
{
    fixture f;
    setup(&f, 0);
    const svy_row *out;
    svy_err err;
    char id[16], prov[48], job[48];
    for (int i = 0; i < 3000; i++) {
        int k = (i * 7919) % 1000;
        snprintf(id, sizeof id, "%d", i + 1);
        /* 0: Zhejiang (line 2), 1: Guangdong (line 3), 2: no pattern */
        snprintf(prov, sizeof prov, "x%d", k);
        if (k % 3 == 0)
            snprintf(prov, sizeof prov, "%*szj", k % 40, "");
        else if (k % 3 == 1)
            snprintf(prov, sizeof prov, "%*sGD省", k % 40, "");
        snprintf(job, sizeof job, k % 2 ? "online %d" : "food %d", k);
        const char *cells[NC] = {id, prov, "30", job, "2", "1", "1", "3"};
        cr_assert_eq(feed(&f, cells, &out, &err), SVY_OK, "row %d: %s", i, err.msg);
        cr_assert_not_null(out);
        const logged *l = log_for("province");
        cr_assert_not_null(l, "'%s' logged", prov);
        if (k % 3 == 2) {
            cr_assert(isnan(num(&f, out, "province")), "'%s' matches nothing", prov);
            cr_assert_eq(l->rule, SVY_RULE_INVALID);
        } else {
            cr_assert_eq(num(&f, out, "province"), k % 3 == 0 ? 33 : 44, "'%s'", prov);
            cr_assert_str_eq(l->detail, k % 3 == 0 ? "province@recodes.csv:2" : "province@recodes.csv:3");
        }
        cr_assert_eq(num(&f, out, "job"), k % 2 ? 5 : 1, "'%s'", job);
    }
    teardown(&f);
}

/* The log the engine writes itself (svy_clean_set_log) is byte for byte
 * what svy-clean wrote from the change hook, and a row's line is what a CSV
 * writer makes of its values: texts remembered (seen again and again), ones
 * needing quotes, blanks trimmed, missing codes, unmatched texts, numbers
 * printed otherwise than read, duplicates. */
static char *slurp(FILE *fp, size_t *n)
{
    fflush(fp);
    long len = ftell(fp);
    cr_assert_geq(len, 0);
    char *buf = malloc((size_t)len + 1);
    cr_assert_not_null(buf);
    rewind(fp);
    *n = fread(buf, 1, (size_t)len, fp);
    buf[*n] = '\0';
    return buf;
}

static void hook_line(svy_csv_out *o, long long row, const svy_clean_change *ch)
{
    svy_csv_out_int(o, row);
    svy_csv_out_cstr(o, ch->id);
    svy_csv_out_cstr(o, ch->var);
    const char *f[4] = {ch->old_value, ch->new_value, svy_clean_rule_name(ch->rule), ch->detail};
    for (int k = 0; k < 4; k++)
        if (*f[k])
            svy_csv_out_cstr(o, f[k]);
        else
            svy_csv_out_empty(o);
    svy_csv_out_end_row(o);
}

static svy_csv_out *hook_out;
static svy_status on_change_csv(void *ctx, const svy_clean_change *ch, svy_err *err)
{
    hook_line(hook_out, ch->row, ch);
    return on_change(ctx, ch, err);
}

static void log_and_line(void)
{
    fixture f;
    setup(&f, 0);
    FILE *flog = tmpfile(), *fhook = tmpfile(), *fline = tmpfile(), *fvals = tmpfile();
    cr_assert(flog && fhook && fline && fvals);
    svy_csv_out *olog = svy_csv_out_new(flog, ','), *oline = svy_csv_out_new(fline, ','),
                *ovals = svy_csv_out_new(fvals, ',');
    hook_out = svy_csv_out_new(fhook, ',');
    svy_clean_set_log(f.c, olog);
    svy_clean_hooks h = {on_change_csv, on_reject, on_problem};
    svy_clean_set_hooks(f.c, &h, NULL);
    static const char *const provs[] = {"浙江省", " zj ", "GD省", "x, \"y\"", "广东", "\xE3\x80\x80ZJ"};
    static const char *const ages[] = {"30", "030", "35岁", "-9", "16.50", "80", " 40 ", "1e1"};
    static const char *const jobs[] = {"food", "滴滴", "online, \"live\"", "none", "骑手"};
    static const char *const yn[] = {"1", "2", "3", "-9", NULL, " 2"};
    const svy_row *out;
    svy_err err;
    long kept = 0;
    for (int i = 0; i < 2000; i++) {
        char id[24];
        snprintf(id, sizeof id, i % 97 == 5 ? "%d" : i % 50 == 3 ? "0%d" : "%d", i % 97 == 5 ? i - 1 : i + 1);
        const char *cells[NC] = {id,          provs[i % 6], ages[(i / 3) % 8], jobs[(i / 2) % 5],
                                 yn[i % 6],   yn[(i / 5) % 6], yn[(i / 7) % 6], yn[(i / 11) % 6]};
        cr_assert_eq(feed(&f, cells, &out, &err), SVY_OK, "row %d: %s", i, err.msg);
        if (!out)
            continue;
        kept++;
        svy_csv_out_fields(oline, out->line, out->line_len);
        svy_csv_out_end_row(oline);
        cr_assert_eq(out->line_nvals, out->nvals);
        for (size_t k = 0; k < out->nvals; k++) {
            const svy_value *v = &out->vals[k];
            if (v->missing)
                svy_csv_out_empty(ovals);
            else if (v->type == SVY_VAL_STR)
                svy_csv_out_str(ovals, v->str, v->len);
            else
                svy_csv_out_num(ovals, v->num);
        }
        svy_csv_out_end_row(ovals);
    }
    cr_assert_gt(kept, 1500);
    cr_assert_gt(svy_clean_get_stats(f.c)->rows_rejected, 10, "duplicates (07 is 7) rejected");
    svy_csv_out *all[4] = {olog, hook_out, oline, ovals};
    for (int k = 0; k < 4; k++)
        cr_assert_eq(svy_csv_out_flush(all[k], "t", &err), SVY_OK);
    size_t nl, nh, nli, nv;
    char *a = slurp(flog, &nl), *b = slurp(fhook, &nh), *c = slurp(fline, &nli), *d = slurp(fvals, &nv);
    cr_assert_gt(nl, 10000, "a log was written");
    cr_assert(strstr(a, "\"x, \"\"y\"\"\""), "quoted old values in the log");
    cr_assert_eq(nl, nh, "log %zu bytes, hook %zu", nl, nh);
    cr_assert(!memcmp(a, b, nl), "the log is the hook's bytes");
    cr_assert_eq(nli, nv, "lines %zu bytes, values %zu", nli, nv);
    cr_assert(!memcmp(c, d, nv), "the lines are the values as CSV");
    free(a), free(b), free(c), free(d);
    for (int k = 0; k < 4; k++)
        svy_csv_out_free(all[k]);
    fclose(flog), fclose(fhook), fclose(fline), fclose(fvals);
    teardown(&f);
}

Test(clean, log_and_line_are_what_the_hook_and_a_csv_writer_give) { log_and_line(); }

/* The same with the log's lines made by the baseline code on an AVX2 CPU. */
Test(clean, log_and_line_the_same_without_avx2)
{
    svy_clean_base_only = 1;
    log_and_line();
    svy_clean_base_only = 0;
}

/* With svy_clean_set_writer the engine writes each kept row into the CSV
 * writer's buffer itself: the same bytes as the values of the rows it gives
 * written with svy_writer_write, checks that change a written cell and
 * rejected rows included. */
static void clean_rows(fixture *f, svy_writer *w, int in_place)
{
    static const char *const provs[] = {"浙江省", " zj ", "GD省", "x, \"y\"", "广东", "\xE3\x80\x80ZJ"};
    static const char *const ages[] = {"30", "030", "35岁", "-9", "16.50", "80", " 40 ", "17"};
    static const char *const jobs[] = {"food", "滴滴", "online, \"live\"", "none", "骑手"};
    static const char *const yn[] = {"1", "2", "3", "-9", NULL, " 2"};
    static const char *const burden[] = {"5", "1", "99", "4", "3.25"};
    svy_err err;
    if (in_place)
        svy_clean_set_writer(f->c, w);
    for (int i = 0; i < 3000; i++) {
        char id[24];
        const svy_row *out;
        snprintf(id, sizeof id, "%d", i % 89 == 7 ? i : i + 1);
        const char *cells[NC] = {id,        provs[i % 6],     ages[(i / 3) % 8],  jobs[(i / 2) % 5],
                                 yn[i % 6], yn[(i / 5) % 6], yn[(i / 7) % 6], burden[(i / 13) % 5]};
        cr_assert_eq(feed(f, cells, &out, &err), SVY_OK, "row %d: %s", i, err.msg);
        cr_assert(!in_place || !out, "row %d written by the engine", i);
        if (out) { /* its values, not its line */
            svy_row r = *out;
            r.line = NULL;
            cr_assert_eq(svy_writer_write(w, &r, &err), SVY_OK);
        }
    }
}

Test(clean, rows_written_in_place_are_the_rows_given)
{
    fixture f[2];
    FILE *fp[2];
    char *text[2];
    size_t n[2];
    svy_err err;
    for (int k = 0; k < 2; k++) {
        setup(&f[k], 0);
        svy_writer *w = svy_writer_new(SVY_FMT_CSV);
        cr_assert(w && (fp[k] = tmpfile()));
        cr_assert_eq(svy_writer_open_stream(w, fp[k], "t.csv", svy_clean_schema(f[k].c), &err), SVY_OK);
        clean_rows(&f[k], w, k);
        cr_assert_eq(svy_writer_close(w, &err), SVY_OK);
        svy_writer_free(w);
        text[k] = slurp(fp[k], &n[k]);
        fclose(fp[k]);
        teardown(&f[k]);
    }
    cr_assert_gt(n[0], 30000, "rows were written");
    cr_assert_eq(n[0], n[1], "given %zu bytes, in place %zu", n[0], n[1]);
    cr_assert(!memcmp(text[0], text[1], n[0]), "the same bytes");
    free(text[0]), free(text[1]);
}

/* Clean one row as the CSV reader gives it: the texts one after another in
 * one buffer, each ended by a NUL (where its comma was). */
static svy_status feed_line(fixture *f, const char *const cells[NC], const svy_row **out, svy_err *err)
{
    static char buf[1024];
    svy_value v[NC];
    size_t at = 0;
    for (int i = 0; i < NC; i++) {
        memset(&v[i], 0, sizeof v[i]);
        v[i].type = SVY_VAL_STR;
        v[i].str = "";
        if (!cells[i]) {
            v[i].missing = SVY_MISS_SYSTEM;
            at++; /* the empty field's comma */
            continue;
        }
        size_t n = strlen(cells[i]);
        memcpy(buf + at, cells[i], n + 1);
        v[i].str = buf + at;
        v[i].len = n;
        at += n + 1;
    }
    svy_row r = {.index = ++f->row, .nvals = NC, .vals = v};
    svy_err_clear(err);
    seen.nlog = 0;
    return svy_clean_row(f->c, &r, out, err);
}

/* Rows whose job..B5 run (five adjacent code columns) repeats, with a
 * spelling of job that keeps changing (its memo slots are filled anew:
 * records of the run that point at them go stale), through both feeds:
 * the log, the lines and the counts are the same. */
static void run_rows(int line, char **log, size_t *nlog, char **lines, size_t *nlines, svy_clean_stats *st)
{
    fixture f;
    setup(&f, 0);
    FILE *flog = tmpfile(), *fline = tmpfile();
    cr_assert(flog && fline);
    svy_csv_out *olog = svy_csv_out_new(flog, ','), *oline = svy_csv_out_new(fline, ',');
    svy_clean_set_log(f.c, olog);
    static const char *const provs[] = {"浙江省", " zj ", "GD省", "广东"};
    static const char *const jobs[] = {"food", "滴滴", "online, \"live\"", "none", "骑手", "a\"b"};
    static const char *const yn[] = {"1", "2", "3", "-9", NULL, " 2", "1"};
    static const char *const burden[] = {"5", "1", "99", "4", "3.25", "2", "x"};
    svy_err err;
    for (int i = 0; i < 24000; i++) {
        char id[24], job[32];
        const svy_row *out;
        snprintf(id, sizeof id, "%d", i % 89 == 7 ? i : i + 1);
        snprintf(job, sizeof job, "%s", jobs[(i / 2) % 6]);
        const char *cells[NC] = {id,        provs[i % 4],     "30",             job,
                                 yn[i % 3], yn[(i / 3) % 2], yn[(i / 7) % 4], burden[(i / 13) % 4]};
        if (i % 101 == 0) /* a problem: not remembered */
            cells[C_B5] = burden[4 + i % 3];
        if (i % 5 == 4) { /* 2,300 spellings in turn, each run's texts twice: more than a memo set holds */
            int k = (i / 5) % 2300;
            snprintf(job, sizeof job, "food %d", k);
            cells[C_B1] = yn[k % 7], cells[C_B2] = yn[(k / 7) % 7], cells[C_B3] = "1", cells[C_B5] = "2";
        }
        svy_status s = line ? feed_line(&f, cells, &out, &err) : feed(&f, cells, &out, &err);
        cr_assert_eq(s, SVY_OK, "row %d: %s", i, err.msg);
        if (out) {
            svy_csv_out_fields(oline, out->line, out->line_len);
            svy_csv_out_end_row(oline);
        }
    }
    cr_assert_eq(svy_csv_out_flush(olog, "t", &err), SVY_OK);
    cr_assert_eq(svy_csv_out_flush(oline, "t", &err), SVY_OK);
    *log = slurp(flog, nlog);
    *lines = slurp(fline, nlines);
    *st = *svy_clean_get_stats(f.c);
    svy_csv_out_free(olog), svy_csv_out_free(oline);
    fclose(flog), fclose(fline);
    teardown(&f);
}

Test(clean, a_run_of_code_columns_remembered_gives_the_same_bytes)
{
    char *log[2], *lines[2];
    size_t nlog[2], nlines[2];
    svy_clean_stats st[2];
    for (int k = 0; k < 2; k++)
        run_rows(k, &log[k], &nlog[k], &lines[k], &nlines[k], &st[k]);
    cr_assert_gt(nlog[0], 100000, "a log was written");
    cr_assert_gt(nlines[0], 100000, "rows were written");
    cr_assert_eq(nlog[0], nlog[1], "log: cells %zu bytes, one line %zu", nlog[0], nlog[1]);
    cr_assert(!memcmp(log[0], log[1], nlog[0]), "the same log");
    cr_assert_eq(nlines[0], nlines[1], "lines: cells %zu bytes, one line %zu", nlines[0], nlines[1]);
    cr_assert(!memcmp(lines[0], lines[1], nlines[0]), "the same lines");
    cr_assert(!memcmp(&st[0], &st[1], sizeof st[0]), "the same counts");
    free(log[0]), free(log[1]), free(lines[0]), free(lines[1]);
}

/* Whole-number ids live in pages cut from blocks (16 pages, then as many as
 * there are, then 2 MiB ones), until they are too sparse for pages and move
 * into a hash table: a repeated id is found, with its first row, before
 * and after the move. */
Test(clean, duplicate_ids_found_across_id_blocks_and_after_the_move)
{
    fixture f;
    setup(&f, 0);
    const svy_row *out;
    svy_err err;
    char id[32];
    const char *row[NC] = {id, "浙江", "35", "外卖", "1", "2", "1", "3"};
    long long n = 0;
    for (long p = 0; p < 600; p++) /* 600 pages of 1,024 ids, 128 ids each: past the first 2 MiB block */
        for (long k = 0; k < 128; k++) {
            snprintf(id, sizeof id, "%ld", 1 + p * 1024 + k * 8);
            cr_assert_eq(feed(&f, row, &out, &err), SVY_OK);
            cr_assert_not_null(out, "id %s is new", id);
            n++;
        }
    static const long again[] = {1, 1 + 17 * 1024 + 8, 1 + 300 * 1024 + 64, 1 + 599 * 1024 + 127 * 8};
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sizeof again / sizeof *again; i++) {
            long pg = (again[i] - 1) / 1024, k = (again[i] - 1) % 1024 / 8;
            snprintf(id, sizeof id, "%ld", again[i]);
            cr_assert_eq(feed(&f, row, &out, &err), SVY_OK);
            cr_assert_null(out, "id %s again is dropped (pass %d)", id, pass);
            char want[64];
            snprintf(want, sizeof want, "first kept at row %ld", pg * 128 + k + 1);
            cr_assert(strstr(seen.reject_reason, want), "%s: %s", want, seen.reject_reason);
            n++;
        }
        for (long k = 0; k < 20000 && !pass; k++) { /* sparser ids: the pages give up */
            snprintf(id, sizeof id, "%ld", 700000 + k * 13);
            cr_assert_eq(feed(&f, row, &out, &err), SVY_OK);
            cr_assert_not_null(out, "id %s is new", id);
            n++;
        }
    }
    cr_assert_eq(svy_clean_get_stats(f.c)->rows_in, n);
    cr_assert_eq(svy_clean_get_stats(f.c)->rows_rejected, 8);
    teardown(&f);
}
