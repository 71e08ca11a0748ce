/* svy-tab's path through the library: design roles, domains and outcomes
 * bound to a CSV's columns, the estimator fed every row, and the table
 * written in every format.  svy-tab parses its options inline, so the
 * option parsers it calls (svy_lonely_parse, svy_ci_method_parse,
 * svy_table_format_parse, svy_table_layout_parse) get the first line of the
 * input as text.  The next 4 bytes choose the design; the rest is the CSV. */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <math.h>
#include <survey/estimate.h>
#include <survey/table.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct run {
    uint8_t opt[4];
    svy_design d;
    svy_est *e;
    char names[8][64];
    const char *psu[2], *strata[1], *fpc[2];
    int bound;
} run;

static const char *pick(run *k, const svy_schema *s, int slot, unsigned sel)
{
    size_t n = svy_schema_nvars(s);
    if (sel == 0 || n == 0)
        return NULL;
    snprintf(k->names[slot], sizeof k->names[slot], "%s", svy_var_name(svy_schema_var(s, (sel - 1) % n)));
    return k->names[slot];
}

static svy_status on_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    run *k = ctx;
    const uint8_t *o = k->opt;
    svy_design_init(&k->d);
    /* Stages: a PSU (o[0] bits 2-3), a second stage (o[2] bit 5), an fpc
     * for each (o[0] bit 6, o[2] bit 6), the ultimate cluster (o[2] bit 7). */
    k->strata[0] = pick(k, s, 0, o[0] & 3);
    k->psu[0] = pick(k, s, 1, (o[0] >> 2) & 3);
    k->psu[1] = k->psu[0] && ((o[2] >> 5) & 1) ? pick(k, s, 6, 1 + (o[1] & 3)) : NULL;
    k->fpc[0] = (o[0] >> 6) & 1 ? pick(k, s, 3, 3) : NULL;
    k->fpc[1] = k->fpc[0] && k->psu[1] && ((o[2] >> 6) & 1) ? pick(k, s, 7, 2) : NULL;
    k->d.strata = k->strata;
    k->d.nstrata = k->strata[0] != NULL;
    k->d.psu = k->psu;
    k->d.npsu = k->psu[0] ? (k->psu[1] ? 2 : 1) : 0;
    k->d.fpc = k->fpc;
    k->d.nfpc = k->fpc[0] ? (k->fpc[1] ? 2 : 1) : 0;
    k->d.ultimate_cluster = (o[2] >> 7) & 1;
    k->d.weight = pick(k, s, 2, (o[0] >> 4) & 3);
    k->d.lonely = (svy_lonely)(o[1] % 5);
    k->d.df_rule = (svy_df_rule)((o[1] >> 3) & 3);
    k->d.df = 3;
    k->d.ci = (svy_ci_method)((o[1] >> 5) & 3);
    k->d.level = (o[2] & 1) ? 0.9 : 0.95;
    k->d.overall = (o[2] >> 1) & 1;
    k->d.nchs = (o[2] >> 2) & 1;
    const char *by = pick(k, s, 4, (o[2] >> 3) & 3);
    k->e = svy_est_new(&k->d, &by, by ? 1 : 0, err);
    if (!k->e)
        return err->code ? err->code : SVY_E_NOMEM;
    const char *col = pick(k, s, 5, 1 + ((o[3] >> 2) & 3));
    static const char *const values[] = {NULL, "1", "2", "x"};
    svy_stat stat = (svy_stat)(o[3] & 3);
    svy_status st = svy_est_add_outcome(k->e, stat, col, stat == SVY_STAT_RATE ? values[(o[3] >> 4) & 3] : NULL, err);
    if (!st)
        st = svy_est_bind(k->e, s, err);
    k->bound = st == SVY_OK;
    return st;
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    run *k = ctx;
    return svy_est_push(k->e, row, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The option parsers, on the first line. */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t line = nl ? (size_t)(nl - data) : size;
    size_t l = line > 64 ? 64 : line;
    char word[65];
    memcpy(word, data, l);
    word[l] = '\0';
    svy_lonely lo;
    svy_ci_method ci;
    svy_table_format tf;
    svy_table_layout tl;
    svy_lonely lo2;
    svy_ci_method ci2;
    /* A name that parses names a value whose own name parses back to it. */
    if (svy_lonely_parse(word, &lo))
        FUZZ_ASSERT(svy_lonely_parse(svy_lonely_name(lo), &lo2) && lo2 == lo);
    if (svy_ci_method_parse(word, &ci))
        FUZZ_ASSERT(svy_ci_method_parse(svy_ci_method_name(ci), &ci2) && ci2 == ci);
    svy_table_format_parse(word, &tf);
    svy_table_layout_parse(word, &tl);
    if (nl) {
        size -= line + 1;
        data = nl + 1;
    } else {
        return 0;
    }
    if (size < 4)
        return 0;
    run k = {0};
    memcpy(k.opt, data, 4);
    data += 4;
    size -= 4;

    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    svy_reader *r = svy_reader_new();
    svy_err err;
    svy_err_clear(&err);
    svy_handler h = {on_schema, on_row};
    svy_status st = svy_reader_open(r, path, &err);
    int again = 1;
    for (int pass = 0; !st && again; pass++) {
        h.schema = pass ? NULL : on_schema;
        st = svy_reader_run(r, &h, &k, &err);
        if (!st)
            st = svy_est_end_pass(k.e, &again, &err);
    }
    if (!st)
        st = svy_est_finish(k.e, &err);
    fuzz_check_error(st, &err);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "status %d: %s\n", (int)st, err.msg);
    if (!st) {
        for (size_t i = 0; i < svy_est_count(k.e); i++) {
            const svy_est_result *res = svy_est_get(k.e, i);
            FUZZ_ASSERT(res->domain < svy_est_ndomains(k.e));
            FUZZ_ASSERT(isnan(res->se) || res->se >= 0);
            FUZZ_ASSERT(res->n <= res->domain_rows);
        }
        for (int f = SVY_TABLE_CSV; f <= SVY_TABLE_JSON; f++) {
            svy_table_opts o;
            svy_table_opts_init(&o);
            o.format = (svy_table_format)f;
            o.layout = (k.opt[3] >> 6) & 1 ? SVY_TABLE_WIDE : SVY_TABLE_LONG;
            o.labels = 1;
            o.schema = NULL;
            o.cv = 1;
            o.flag = k.d.nchs;
            o.title = "t";
            char *buf = NULL;
            size_t len = 0;
            FILE *mf = open_memstream(&buf, &len);
            svy_status ts = svy_table_write(mf, "mem", k.e, &o, &err);
            fclose(mf);
            fuzz_check_error(ts, &err);
            FUZZ_ASSERT(ts == SVY_OK || ts == SVY_E_USAGE);
            free(buf);
        }
    }
    svy_est_free(k.e);
    svy_reader_free(r);
    close(fd);
    return 0;
}
