/* Drives the library's public API through every injected fault: for each
 * scenario and each fault class, the 1st, 2nd, ... Nth allocation (or file
 * system call) fails, for N up to the number the scenario makes.  Each run
 * must end in an error status of the right kind (SVY_E_NOMEM for
 * allocations, SVY_E_IO for system calls) with a message, or in success with
 * exactly the output of a fault-free run; and must leave no leaked memory
 * (LSan, in the sanitizer build), no open descriptor, no temporary file and
 * no partial output file.
 * Usage: fault_driver [SCENARIO...]   (default: all) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <survey/survey.h>

#include "fault.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* Results go to a static buffer: the driver itself must not allocate while
 * faults are armed. */
static char out[16384];
static size_t outlen;
static char dir[512], tmpdir[PATH_MAX];
static char csv1[PATH_MAX], csv_cp1252[PATH_MAX], target[PATH_MAX];

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out + outlen, sizeof out - outlen, fmt, ap);
    va_end(ap);
    if (k > 0)
        outlen = outlen + (size_t)k >= sizeof out ? sizeof out - 1 : outlen + (size_t)k;
}

static svy_status on_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    (void)ctx;
    (void)err;
    for (size_t i = 0; i < svy_schema_nvars(s); i++)
        emit("%s%s", i ? "|" : "", svy_var_name(svy_schema_var(s, i)));
    emit("\n");
    return SVY_OK;
}

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    (void)ctx;
    (void)err;
    for (size_t i = 0; i < row->nvals; i++) {
        const svy_value *v = &row->vals[i];
        if (v->missing)
            emit("%s<NA>", i ? "|" : "");
        else
            emit("%s[%.*s]", i ? "|" : "", (int)v->len, v->str);
    }
    emit("\n");
    return SVY_OK;
}

static const svy_handler handler = {on_schema, on_row};

static svy_status read_with(const char *path, const char *enc, const char *const *cols, size_t ncols,
                            int rewindable, int runs, svy_err *err)
{
    svy_reader *r = svy_reader_new();
    if (!r)
        return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
    svy_status st = SVY_OK;
    if (enc)
        st = svy_reader_set_encoding(r, enc);
    if (!st && cols)
        st = svy_reader_set_columns(r, cols, ncols);
    if (st)
        svy_err_set(err, st, path, 0, 0, NULL, "cannot set an option");
    svy_reader_set_rewindable(r, rewindable);
    if (!st)
        st = svy_reader_open(r, path, err);
    for (int i = 0; !st && i < runs; i++)
        st = svy_reader_run(r, &handler, NULL, err);
    svy_reader_free(r);
    return st;
}

static svy_status sc_csv(svy_err *err)
{
    return read_with(csv1, NULL, NULL, 0, 0, 1, err);
}

static svy_status sc_csv_columns(svy_err *err)
{
    const char *cols[] = {"c", "a"};
    return read_with(csv1, NULL, cols, 2, 0, 1, err);
}

static svy_status sc_csv_encoding(svy_err *err)
{
    return read_with(csv_cp1252, "CP1252", NULL, 0, 0, 1, err);
}

static svy_status sc_stdin_stream(svy_err *err)
{
    return read_with("-", NULL, NULL, 0, 0, 1, err);
}

static svy_status sc_stdin_spool(svy_err *err)
{
    return read_with("-", NULL, NULL, 0, 1, 2, err);
}

static svy_schema *build_schema(svy_err *err)
{
    svy_schema *s = svy_schema_new();
    if (!s) {
        svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        return NULL;
    }
    svy_var *g = svy_schema_add(s, "sex", SVY_VAR_NUMERIC, err);
    svy_var *n = g ? svy_schema_add(s, "name", SVY_VAR_STRING, err) : NULL;
    svy_var *d = n ? svy_schema_add(s, "born", SVY_VAR_NUMERIC, err) : NULL;
    if (!d) {
        svy_schema_free(s);
        return NULL;
    }
    svy_schema_set_date_origin(s, SVY_ORIGIN_STATA);
    svy_status st = svy_var_add_label_num(g, 1, "male");
    if (!st)
        st = svy_var_add_label_tagged(g, 'a', "refused");
    if (!st)
        st = svy_var_set_label(n, "respondent's name");
    svy_var_set_width(n, 16); /* .sav writes string widths in its header */
    if (!st)
        st = svy_var_set_format(d, "%td");
    if (!st)
        st = svy_var_add_missing_range(g, -9, -8);
    if (!st)
        st = svy_schema_set_label(s, "fault test");
    if (st) {
        svy_err_set(err, st, NULL, 0, 0, NULL, "cannot build the schema");
        svy_schema_free(s);
        return NULL;
    }
    svy_schema *c = svy_schema_clone(s);
    svy_schema_free(s);
    if (!c)
        svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    return c;
}

static svy_status sc_schema(svy_err *err)
{
    svy_schema *s = build_schema(err);
    if (!s)
        return err->code;
    const svy_var *g = svy_schema_var(s, 0);
    svy_value one = {.type = SVY_VAL_NUM, .num = 1};
    emit("%zu %s %s %s\n", svy_schema_nvars(s), svy_var_label_for(g, &one), svy_var_label(svy_schema_var(s, 1)),
         svy_schema_label(s));
    svy_schema_free(s);
    return SVY_OK;
}

static char dta[PATH_MAX], sav[PATH_MAX];

/* Three rows in any output format (labels on for CSV; the row count up front
 * for ReadStat's .dta and .sav writer). */
static svy_status write_rows(svy_format fmt, const char *path, svy_err *err)
{
    svy_schema *s = build_schema(err);
    if (!s)
        return err->code;
    svy_writer *w = svy_writer_new(fmt);
    if (!w) {
        svy_schema_free(s);
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    svy_writer_set_timestamp(w, 1735689600); /* same bytes on every run */
    if (fmt == SVY_FMT_CSV)
        svy_writer_set_labels(w, 1);
    else
        svy_writer_set_row_count(w, 3);
    svy_status st = svy_writer_open(w, path, s, err);
    svy_value v[3] = {{.type = SVY_VAL_NUM, .num = 1},
                      {.type = SVY_VAL_STR, .str = "a,\"b\"", .len = 5},
                      {.type = SVY_VAL_NUM, .num = 22797}};
    svy_row row = {.index = 1, .nvals = 3, .vals = v};
    for (int i = 0; !st && i < 3; i++)
        st = svy_writer_write(w, &row, err);
    if (!st)
        st = svy_writer_close(w, err);
    svy_writer_free(w);
    svy_schema_free(s);
    return st;
}

static svy_status sc_write_csv(svy_err *err)
{
    return write_rows(SVY_FMT_CSV, target, err);
}

static svy_status sc_write_dta(svy_err *err)
{
    return write_rows(SVY_FMT_DTA, target, err);
}

static svy_status sc_write_sav(svy_err *err)
{
    return write_rows(SVY_FMT_SAV, target, err);
}

static svy_status sc_read_dta(svy_err *err)
{
    return read_with(dta, NULL, NULL, 0, 0, 1, err);
}

static svy_status sc_read_sav_columns(svy_err *err)
{
    const char *cols[] = {"born", "sex"};
    return read_with(sav, NULL, cols, 2, 0, 1, err);
}

typedef struct scenario {
    const char *name;
    svy_status (*run)(svy_err *err);
    int stdin_csv; /* fd 0 reads csv1 from its start */
    int writes;    /* compare the target file, not out[] */
} scenario;

static const scenario scenarios[] = {
    {"csv", sc_csv, 0, 0},
    {"csv-columns", sc_csv_columns, 0, 0},
    {"csv-encoding", sc_csv_encoding, 0, 0},
    {"stdin-stream", sc_stdin_stream, 1, 0},
    {"stdin-spool", sc_stdin_spool, 1, 0},
    {"schema", sc_schema, 0, 0},
    {"write-csv", sc_write_csv, 0, 1},
    {"write-dta", sc_write_dta, 0, 1},
    {"write-sav", sc_write_sav, 0, 1},
    {"read-dta", sc_read_dta, 0, 0},
    {"read-sav-columns", sc_read_sav_columns, 0, 0},
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static int dir_entries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.' || (e->d_name[1] && (e->d_name[1] != '.' || e->d_name[2]));
    closedir(d);
    return n;
}

/* The written file (binary for .dta/.sav); its length, 0 when absent. */
static size_t slurp_target(char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(target, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static int run_scenario(const scenario *sc, fault_class cls, long *total, long *absorbed)
{
    static char ref[sizeof out], got[sizeof out];
    size_t reflen, gotlen;
    svy_err err;
    int failures = 0;
    const char *cname = cls == FAULT_ALLOC ? "alloc" : "io";

    unlink(target);
    if (sc->stdin_csv)
        lseek(0, 0, SEEK_SET);
    outlen = 0;
    out[0] = '\0';
    fault_arm(cls, LONG_MAX);
    svy_status st = sc->run(&err);
    *total = fault_disarm(NULL);
    if (st) {
        fprintf(stderr, "FAIL %s: fails without a fault: %s\n", sc->name, err.msg);
        return 1;
    }
    if (sc->writes) {
        reflen = slurp_target(ref, sizeof ref);
    } else {
        memcpy(ref, out, outlen + 1);
        reflen = outlen;
    }
    int fds = count_fds();
    int tmps = dir_entries(tmpdir);

    *absorbed = 0;
    for (long n = 1; n <= *total + 1; n++) {
        unlink(target);
        if (sc->stdin_csv)
            lseek(0, 0, SEEK_SET);
        outlen = 0;
        out[0] = '\0';
        svy_err_clear(&err);
        int hit;
        fault_arm(cls, n);
        st = sc->run(&err);
        fault_disarm(&hit);
        if (sc->writes) {
            gotlen = slurp_target(got, sizeof got);
        } else {
            memcpy(got, out, outlen + 1);
            gotlen = outlen;
        }
        char why[1024] = "";
        if (!hit && st)
            snprintf(why, sizeof why, "fails though no fault was injected: %s", err.msg);
        else if (st == SVY_OK && (gotlen != reflen || memcmp(got, ref, gotlen) != 0))
            snprintf(why, sizeof why, "the fault was swallowed: success with different output");
        else if (st && !err.msg[0])
            snprintf(why, sizeof why, "error status %d without a message", (int)st);
        else if (st && cls == FAULT_ALLOC && st != SVY_E_NOMEM)
            snprintf(why, sizeof why, "allocation failure reported as '%s': %s", svy_status_str(st), err.msg);
        else if (st && cls == FAULT_IO && st != SVY_E_IO)
            snprintf(why, sizeof why, "I/O failure reported as '%s': %s", svy_status_str(st), err.msg);
        else if (st && sc->writes && gotlen)
            snprintf(why, sizeof why, "failed, yet the output file exists");
        else if (count_fds() != fds)
            snprintf(why, sizeof why, "descriptor leak (%d open, %d before)", count_fds(), fds);
        else if (dir_entries(tmpdir) != tmps)
            snprintf(why, sizeof why, "temporary file left in TMPDIR");
        else if (dir_entries(dir) != 5 + (st == SVY_OK && sc->writes))
            snprintf(why, sizeof why, "temporary file left beside the output");
#ifdef HAVE_LSAN
        if (!why[0] && __lsan_do_recoverable_leak_check())
            snprintf(why, sizeof why, "memory leak (see the LSan report above)");
#endif
        if (st == SVY_OK && hit) {
            (*absorbed)++;
            if (getenv("FAULT_VERBOSE"))
                fprintf(stderr, "note %s: %s fault %ld absorbed\n", sc->name, cname, n);
        }
        if (why[0]) {
            fprintf(stderr, "FAIL %s: %s fault %ld: %s\n", sc->name, cname, n, why);
            failures++;
        }
        if (!hit)
            break;
    }
    return failures;
}

int main(int argc, char **argv)
{
    snprintf(dir, sizeof dir, "%s/svy-fault.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", dir);
    mkdir(tmpdir, 0700);
    setenv("TMPDIR", tmpdir, 1);
    /* .dta/.sav headers carry the time of writing: pin it so runs compare. */
    setenv("SOURCE_DATE_EPOCH", "1735689600", 1);
    snprintf(csv1, sizeof csv1, "%s/in.csv", dir);
    snprintf(csv_cp1252, sizeof csv_cp1252, "%s/cp1252.csv", dir);
    snprintf(target, sizeof target, "%s/out.csv", dir);
    /* BOM, CRLF, quoted and unquoted lines, a field spanning lines, missing
     * and empty values. */
    write_file(csv1, "\xEF\xBB\xBF" "a,b,c\r\n1,x,2\r\n\"q,1\",\"multi\nline\",\"\"\n3,,\"say \"\"hi\"\"\"\n4,y,5");
    write_file(csv_cp1252, "name;town\nJos\xE9;K\xF6ln\n\x80uro;\"caf\xE9, bar\"\n");
    snprintf(dta, sizeof dta, "%s/in.dta", dir);
    snprintf(sav, sizeof sav, "%s/in.sav", dir);
    svy_err e0;
    if (write_rows(SVY_FMT_DTA, dta, &e0) || write_rows(SVY_FMT_SAV, sav, &e0)) {
        fprintf(stderr, "cannot write the fixtures: %s\n", e0.msg);
        return 2;
    }
    int fd = open(csv1, O_RDONLY);
    if (fd < 0 || dup2(fd, 0) < 0) {
        perror(csv1);
        return 2;
    }
    close(fd);

    int failures = 0;
    for (size_t i = 0; i < sizeof scenarios / sizeof *scenarios; i++) {
        const scenario *sc = &scenarios[i];
        int chosen = argc < 2;
        for (int a = 1; a < argc; a++)
            chosen |= strcmp(argv[a], sc->name) == 0;
        if (!chosen)
            continue;
        for (fault_class cls = FAULT_ALLOC; cls <= FAULT_IO; cls++) {
            long total = 0, absorbed = 0;
            int f = run_scenario(sc, cls, &total, &absorbed);
            printf("%-16s %-5s %4ld fault points, %ld absorbed, %d failures\n", sc->name,
                   cls == FAULT_ALLOC ? "alloc" : "io", total, absorbed, f);
            failures += f;
        }
    }
    unlink(csv1);
    unlink(csv_cp1252);
    unlink(dta);
    unlink(sav);
    unlink(target);
    rmdir(tmpdir);
    rmdir(dir);
    return failures ? 1 : 0;
}
