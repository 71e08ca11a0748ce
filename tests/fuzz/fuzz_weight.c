/* svy-weight's inputs: the margin reader (svy_weight_load_margin, any file
 * the reader takes), the trimming spec parser, and the raking/trimming they
 * drive.  Input: a first line with the trim spec ("0.3x,3.5x"; "!0.3x,3.5x"
 * for one pass per round, R's strict = FALSE), then parts
 * split by lines "%%": margin file 1, margin file 2, the data (CSV whose
 * column "w" is the starting weight when present).  Checks: every row of a
 * successful fit gets a finite weight >= 0, and the report adds up. */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <math.h>
#include <survey/weight.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct run {
    svy_weight *w;
    int pass;
    long long rows;
} run;

static svy_status on_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    run *k = ctx;
    return k->pass == 1 ? svy_weight_begin(k->w, s, "data", err) : SVY_OK;
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    run *k = ctx;
    k->rows++;
    if (k->pass == 1)
        return svy_weight_add_row(k->w, row, err);
    double wt;
    svy_status st = svy_weight_lookup(k->w, row, &wt, err);
    if (!st)
        FUZZ_ASSERT(isfinite(wt) && wt >= 0);
    return st;
}

static svy_status pass(run *k, const char *path, int n, svy_err *err)
{
    svy_reader *r = svy_reader_new();
    svy_handler h = {on_schema, on_row};
    k->pass = n;
    k->rows = 0;
    svy_status st = svy_reader_open(r, path, err);
    if (!st)
        st = svy_reader_run(r, &h, k, err);
    svy_reader_free(r);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *end = data + size;
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    char spec[128];
    size_t sl = (size_t)(nl - data) < sizeof spec - 1 ? (size_t)(nl - data) : sizeof spec - 1;
    memcpy(spec, data, sl);
    spec[sl] = '\0';
    const uint8_t *p = nl + 1;
    const uint8_t *part[3];
    size_t plen[3];
    for (int i = 0; i < 3; i++) {
        const uint8_t *sep = i < 2 && p < end ? memmem(p, (size_t)(end - p), "\n%%\n", 4) : NULL;
        const uint8_t *stop = sep ? sep + 1 : end;
        part[i] = p;
        plen[i] = p < end ? (size_t)(stop - p) : 0;
        p = sep ? sep + 4 : end;
    }
    char paths[3][64];
    int fds[3];
    for (int i = 0; i < 3; i++)
        fds[i] = fuzz_memfile(part[i], plen[i], paths[i], sizeof paths[i]);

    run k = {0};
    k.w = svy_weight_new();
    svy_err err;
    svy_err_clear(&err);
    /* A spec starting with '!' trims in one pass (R's strict = FALSE). */
    const char *sp = spec;
    if (*sp == '!') {
        svy_weight_set_trim_strict(k.w, 0);
        sp++;
    }
    svy_status st = sp[0] ? svy_weight_set_trim_spec(k.w, sp, &err) : SVY_OK;
    if (!st && memmem(part[2], plen[2] < 64 ? plen[2] : 64, "w", 1))
        st = svy_weight_set_start(k.w, "w", 0, &err);
    if (st == SVY_E_USAGE)
        st = SVY_OK; /* a bad spec is the user's; go on without it */
    svy_err_clear(&err);
    for (int i = 0; !st && i < 2; i++)
        if (plen[i] > 1) /* a part of just "\n": no such margin */
            st = svy_weight_load_margin(k.w, paths[i], &err);
    if (!st && svy_weight_margin_count(k.w) > 0) {
        st = pass(&k, paths[2], 1, &err);
        if (!st)
            st = svy_weight_fit(k.w, &err);
        if (!st) {
            const svy_weight_report *rp = svy_weight_get_report(k.w);
            FUZZ_ASSERT(rp->rows == k.rows);
            FUZZ_ASSERT(rp->respondents + rp->nonrespondents == rp->rows);
            st = pass(&k, paths[2], 2, &err);
        }
    }
    fuzz_check_error(st, &err);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "status %d: %s\n", (int)st, err.msg);
    svy_weight_free(k.w);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    return 0;
}
