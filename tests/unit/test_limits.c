/* Inputs that claim or contain more than the library will hold: a line
 * without end, a quoted field of gigabytes, a header of a million columns.
 * Each fails with SVY_E_LIMIT and a clear message, in bounded memory: the
 * test measures its own peak RSS, and outside ASan (which reserves a huge
 * address space of its own) it also runs under an address-space limit, so
 * an attempt to allocate what the input claims fails the test. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <survey/survey.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define MiB (1024L * 1024L)

static char path[64];

static void cap_memory(void)
{
#ifndef UNDER_ASAN
    /* 64 MiB lines need a 128 MiB buffer at most; 768 MiB leaves room for
     * the test runner and libraries, and none for a claimed gigabyte. */
    struct rlimit rl = {768 * MiB, 768 * MiB};
    cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0, "cannot set RLIMIT_AS");
#endif
}

static long peak_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* A file of head, then n bytes made by repeating unit, then tail. */
static void make_file(const char *head, const char *unit, long n, const char *tail)
{
    strcpy(path, "/tmp/svy-limit-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0, "mkstemp");
    FILE *f = fdopen(fd, "wb");
    fputs(head, f);
    size_t ul = strlen(unit);
    char block[65536];
    size_t bl = 0;
    while (bl + ul <= sizeof block) {
        memcpy(block + bl, unit, ul);
        bl += ul;
    }
    for (long done = 0; done < n; done += (long)bl)
        fwrite(block, 1, (size_t)(n - done < (long)bl ? n - done : (long)bl), f);
    fputs(tail, f);
    cr_assert_eq(fclose(f), 0, "write %s", path);
}

static svy_status read_it(svy_err *err, long long *rows)
{
    svy_reader *r = svy_reader_new();
    svy_err_clear(err);
    svy_status st = svy_reader_open(r, path, err);
    svy_handler h = {NULL, NULL};
    if (!st)
        st = svy_reader_run(r, &h, NULL, err);
    *rows = svy_reader_rows(r);
    svy_reader_free(r);
    unlink(path);
    return st;
}

Test(limits, line_without_end)
{
    make_file("a,b\n", "x", 70 * MiB, "");
    cap_memory();
    svy_err err;
    long long rows;
    svy_status st = read_it(&err, &rows);
    cr_assert_eq(st, SVY_E_LIMIT, "a 70 MiB line is refused: %d %s", st, err.msg);
    cr_assert(strstr(err.msg, "64 MiB"), "the message names the limit: %s", err.msg);
    cr_assert_eq(err.row, 1, "the error points at the first data row");
    cr_assert_lt(peak_mib(), 400, "memory stays bounded (%ld MiB)", peak_mib());
}

Test(limits, quoted_field_of_many_lines)
{
    /* Short lines, but one quoted field that never closes: libcsv's buffer
     * is what grows here, and its cap is what stops it. */
    make_file("a,b\n1,\"", "0123456789abcdef0123456789abcdef0123456789abcdef012345678\n", 70 * MiB, "\"\n");
    cap_memory();
    svy_err err;
    long long rows;
    svy_status st = read_it(&err, &rows);
    cr_assert_eq(st, SVY_E_LIMIT, "a 70 MiB field is refused: %d %s", st, err.msg);
    cr_assert(strstr(err.msg, "64 MiB"), "the message names the limit: %s", err.msg);
    cr_assert_lt(peak_mib(), 400, "memory stays bounded (%ld MiB)", peak_mib());
}

Test(limits, header_of_a_million_columns)
{
    make_file("", "c,", 2 * 1000000, "z\n1\n");
    cap_memory();
    svy_err err;
    long long rows;
    svy_status st = read_it(&err, &rows);
    cr_assert_eq(st, SVY_E_LIMIT, "a million columns are refused: %d %s", st, err.msg);
    cr_assert(strstr(err.msg, "100000 columns"), "the message names the limit: %s", err.msg);
}

Test(limits, many_short_rows_stream_in_constant_memory)
{
    make_file("a,b,c\n", "1,2,3\n", 12 * MiB, "");
    cap_memory();
    svy_err err;
    long long rows;
    svy_status st = read_it(&err, &rows);
    cr_assert_eq(st, SVY_OK, "%s", err.msg);
    cr_assert_eq(rows, 2 * MiB, "every row is read");
    cr_assert_lt(peak_mib(), 100, "memory does not grow with rows (%ld MiB)", peak_mib());
}

/* Crafted .dta and .sav headers that claim billions of rows, variables,
 * labels or bytes of string (tests/data/limits/README): an error naming the
 * file, never an attempt to allocate what they claim. */
static void claims_too_much(const char *name)
{
    char full[512];
    snprintf(full, sizeof full, "%s/tests/data/limits/%s", SVY_SRCDIR, name);
    cap_memory();
    svy_reader *r = svy_reader_new();
    svy_err err;
    svy_err_clear(&err);
    svy_status st = svy_reader_open(r, full, &err);
    svy_handler h = {NULL, NULL};
    if (!st)
        st = svy_reader_run(r, &h, NULL, &err);
    svy_reader_free(r);
    cr_assert_neq(st, SVY_OK, "%s must fail", name);
    cr_assert(st == SVY_E_FORMAT || st == SVY_E_DATA || st == SVY_E_LIMIT,
              "%s: a file error, not a system one (%d: %s)", name, st, err.msg);
    cr_assert(strstr(err.file, name), "%s: the error names the file: %s", name, err.file);
    cr_assert_lt(peak_mib(), 100, "%s: memory stays bounded (%ld MiB)", name, peak_mib());
}

Test(limits, dta_claims_2g_variables) { claims_too_much("k2g.dta"); }
Test(limits, dta_claims_2_40_rows) { claims_too_much("n2g.dta"); }
Test(limits, dta114_claims_2g_rows) { claims_too_much("n114.dta"); }
Test(limits, dta114_claims_32767_variables) { claims_too_much("k114.dta"); }
Test(limits, sav_very_long_string_of_2g) { claims_too_much("vls.sav"); }
Test(limits, sav_info_record_of_8g) { claims_too_much("info.sav"); }
Test(limits, sav_claims_2g_value_labels) { claims_too_much("vlab.sav"); }
Test(limits, sav_claims_2g_cases_of_2g_values) { claims_too_much("ncase.sav"); }
