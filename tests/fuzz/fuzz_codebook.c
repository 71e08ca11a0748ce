/* The codebook loader and its rule compiler (recodes: PCRE2 patterns;
 * derived rules; consistency checks), then the cleaning engine they drive.
 * One input holds the folder: the parts between lines "%%" are, in order,
 * variables.csv, values.csv, recodes.csv, derived.csv, checks.csv and
 * study.csv (an empty part: the file is absent). */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <survey/clean.h>
#include <survey/codebook.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[] = {"variables.csv", "values.csv", "recodes.csv",
                                    "derived.csv", "checks.csv", "study.csv"};
static char dir[256];

/* Raw cells for the engine: numbers with units, codes, missing codes,
 * Chinese text, junk. */
static const char *const pool[] = {"1", "", "2", "5,000元", "-9", "35岁", "北京", "abc", "1e308", "-0", "3.5",
                                   "99", "女", "nan", "0x10", " 7 "};

static void write_part(const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!n) {
        unlink(path);
        return;
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        abort();
}

static svy_status feed(svy_codebook *cb, const uint8_t *data, size_t size)
{
    svy_err err;
    svy_schema *raw = svy_schema_new();
    svy_status st = svy_schema_set_format(raw, "csv");
    for (size_t i = 0; !st && i < svy_codebook_nvars(cb); i++) {
        const svy_cb_var *v = svy_codebook_var(cb, i);
        if (svy_cb_var_is_derived(v))
            continue;
        const char *src = svy_cb_var_source(v);
        if (svy_schema_find(raw, src) >= 0)
            continue;
        if (!svy_schema_add(raw, src, SVY_VAR_UNTYPED, &err))
            st = err.code;
    }
    if (!st)
        st = svy_codebook_check_schema(cb, raw, &err);
    svy_clean *c = st ? NULL : svy_clean_new(cb);
    if (c) {
        st = svy_clean_begin(c, raw, &err);
        size_t n = svy_schema_nvars(raw);
        svy_value vals[64];
        for (int row = 0; !st && row < 8 && n <= 64; row++) {
            for (size_t i = 0; i < n; i++) {
                uint8_t pick = size ? data[(row * 31 + i * 7) % size] : 0;
                const char *s = pool[(pick + row + i) % (sizeof pool / sizeof *pool)];
                vals[i] = (svy_value){.type = SVY_VAL_STR, .str = s, .len = strlen(s),
                                      .missing = *s ? SVY_MISS_NONE : SVY_MISS_SYSTEM};
            }
            svy_row in = {.index = row + 1, .nvals = n, .vals = vals};
            const svy_row *out = NULL;
            st = svy_clean_row(c, &in, &out, &err);
            if (!st && out)
                FUZZ_ASSERT(out->nvals == svy_schema_nvars(svy_clean_schema(c)));
            if (st == SVY_E_DATA)
                st = SVY_OK; /* a rejected row in strict mode is data, not a bug */
        }
        fuzz_check_error(st, &err);
        if (getenv("FUZZ_VERBOSE"))
            fprintf(stderr, "clean: status %d: %s\n", (int)st, err.msg);
        svy_clean_free(c);
    }
    svy_schema_free(raw);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/svy-fuzz-cb.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir))
            abort();
    }
    const uint8_t *p = data, *end = data + size;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        const uint8_t *sep = p < end ? memmem(p, (size_t)(end - p), "\n%%\n", 4) : NULL;
        const uint8_t *stop = sep ? sep + 1 : end;
        write_part(files[f], p, p < end ? (size_t)(stop - p) : 0);
        p = sep ? sep + 4 : end;
    }
    svy_codebook *cb = NULL;
    svy_err err;
    svy_err_clear(&err);
    svy_status st = svy_codebook_load(dir, &cb, &err);
    fuzz_check_error(st, &err);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "load: status %d: %s\n", (int)st, err.msg);
    if (st == SVY_OK) {
        FUZZ_ASSERT(cb != NULL);
        for (size_t i = 0; i < svy_codebook_nvars(cb); i++) {
            const svy_cb_var *v = svy_codebook_var(cb, i);
            FUZZ_ASSERT(svy_codebook_find(cb, svy_cb_var_name(v)) == (long)i);
            for (size_t k = 0; k < svy_cb_var_nlabels(v); k++)
                FUZZ_ASSERT(svy_cb_var_label_text(v, k, SVY_LANG_EN) != NULL);
        }
        feed(cb, data, size);
    } else {
        FUZZ_ASSERT(cb == NULL);
    }
    svy_codebook_free(cb);
    return 0;
}
