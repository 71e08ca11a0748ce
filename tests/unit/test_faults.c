/* I/O faults at the library level: full devices, closed pipes, unreadable,
 * vanishing and streamed inputs, a temporary folder that cannot take the
 * spool of standard input, and truncated streams from a failed upstream.
 * Each must end in a clear error of the right kind and leave no partial
 * output and no temporary file behind.  Criterion runs every test in its own
 * process, so resource limits and signal settings stay local. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <survey/survey.h>

static char scratch[256];

static void make_scratch(void)
{
    snprintf(scratch, sizeof scratch, "/tmp/svy-faults-XXXXXX");
    cr_assert_not_null(mkdtemp(scratch), "cannot make a scratch folder");
}

static void rm_scratch(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    cr_assert_eq(system(cmd), 0, "cannot remove the scratch folder");
}

/* Entries in a folder, "." and ".." not counted. */
static int entries(const char *path)
{
    DIR *d = opendir(path);
    cr_assert_not_null(d, "cannot list %s", path);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0, "cannot close %s", path);
}

typedef struct sink {
    long long rows;
    char last[256];
} sink;

static svy_status on_row(void *ctx, const svy_row *row, svy_err *err)
{
    sink *k = ctx;
    (void)err;
    k->rows++;
    snprintf(k->last, sizeof k->last, "%.*s", (int)row->vals[0].len, row->vals[0].str);
    return SVY_OK;
}

static const svy_handler handler = {NULL, on_row};

static svy_status read_all(const char *path, int rewindable, sink *k, svy_err *err)
{
    svy_reader *r = svy_reader_new();
    svy_reader_set_rewindable(r, rewindable);
    memset(k, 0, sizeof *k);
    svy_err_clear(err);
    svy_status st = svy_reader_open(r, path, err);
    if (!st)
        st = svy_reader_run(r, &handler, k, err);
    svy_reader_free(r);
    return st;
}

static svy_schema *one_column(void)
{
    svy_schema *s = svy_schema_new();
    cr_assert_not_null(svy_schema_add(s, "x", SVY_VAR_STRING, NULL), "cannot build a schema");
    return s;
}

/* Write n rows of "value" to path through svy_writer. */
static svy_status write_rows(const char *path, long n, svy_err *err)
{
    svy_schema *s = one_column();
    svy_writer *w = svy_writer_new(SVY_FMT_CSV);
    svy_status st = svy_writer_open(w, path, s, err);
    svy_value v = {.type = SVY_VAL_STR, .str = "some value", .len = 10};
    svy_row row = {.index = 1, .nvals = 1, .vals = &v};
    for (long i = 0; !st && i < n; i++)
        st = svy_writer_write(w, &row, err);
    if (!st)
        st = svy_writer_close(w, err);
    svy_writer_free(w);
    svy_schema_free(s);
    return st;
}

Test(faults, output_to_dev_full_is_an_io_error)
{
    svy_err err;
    struct stat before;
    cr_assert_eq(stat("/dev/full", &before), 0, "this test needs /dev/full");
    svy_status st = write_rows("/dev/full", 20000, &err);
    cr_assert_eq(st, SVY_E_IO, "a full device must fail the write, got %d: %s", st, err.msg);
    cr_assert(strstr(err.msg, "No space left"), "the message says why: %s", err.msg);
    struct stat after;
    cr_assert_eq(stat("/dev/full", &after), 0, "/dev/full is still there");
    cr_assert(S_ISCHR(after.st_mode), "/dev/full is still a device, not a file renamed over it");
}

Test(faults, output_to_a_device_is_written_in_place)
{
    /* Atomic output renames a temporary file over the target: over
     * /dev/null, as root, that replaced the device with a regular file. */
    svy_err err;
    svy_status st = write_rows("/dev/null", 10, &err);
    cr_assert_eq(st, SVY_OK, "writing to /dev/null works: %s", err.msg);
    struct stat sb;
    cr_assert_eq(stat("/dev/null", &sb), 0, "/dev/null exists");
    cr_assert(S_ISCHR(sb.st_mode), "/dev/null is still a character device");
    DIR *d = opendir("/dev");
    struct dirent *e;
    while (d && (e = readdir(d)))
        cr_assert_null(strstr(e->d_name, ".null.tmp"), "no temporary file left in /dev: %s", e->d_name);
    if (d)
        closedir(d);
}

Test(faults, output_file_over_size_limit_leaves_nothing)
{
    make_scratch();
    char path[512];
    snprintf(path, sizeof path, "%s/out.csv", scratch);
    /* A full disk, for this process only: writes past 64 KiB fail EFBIG. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {65536, 65536};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0, "cannot set RLIMIT_FSIZE");
    svy_err err;
    svy_status st = write_rows(path, 100000, &err);
    cr_assert_eq(st, SVY_E_IO, "a write past the limit fails: %d %s", st, err.msg);
    cr_assert_eq(entries(scratch), 0, "neither the output nor its temporary file is left");
    rm_scratch();
}

Test(faults, output_into_a_missing_folder)
{
    svy_err err;
    svy_status st = write_rows("/nonexistent-svy-dir/out.csv", 1, &err);
    cr_assert_eq(st, SVY_E_IO, "no folder, no output: %s", err.msg);
    cr_assert(strstr(err.msg, "No such file"), "the message says why: %s", err.msg);
}

Test(faults, closed_pipe_is_an_io_error)
{
    int p[2];
    cr_assert_eq(pipe(p), 0, "pipe");
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    FILE *f = fdopen(p[1], "wb");
    svy_schema *s = one_column();
    svy_writer *w = svy_writer_new(SVY_FMT_CSV);
    svy_err err;
    svy_status st = svy_writer_open_stream(w, f, "<pipe>", s, &err);
    svy_value v = {.type = SVY_VAL_STR, .str = "x", .len = 1};
    svy_row row = {.index = 1, .nvals = 1, .vals = &v};
    for (int i = 0; !st && i < 100000; i++)
        st = svy_writer_write(w, &row, &err);
    if (!st)
        st = svy_writer_close(w, &err);
    cr_assert_eq(st, SVY_E_IO, "a reader gone is an I/O error: %s", err.msg);
    cr_assert(strstr(err.msg, "Broken pipe"), "the message says why: %s", err.msg);
    svy_writer_free(w);
    svy_schema_free(s);
    fclose(f);
}

Test(faults, unreadable_inputs_fail_for_root_too)
{
    make_scratch();
    sink k;
    svy_err err;
    cr_assert_eq(read_all(scratch, 0, &k, &err), SVY_E_IO, "a folder is not readable data: %s", err.msg);
    cr_assert(strstr(err.msg, "Is a directory"), "the message says why: %s", err.msg);
    char path[512];
    snprintf(path, sizeof path, "%s/missing.csv", scratch);
    cr_assert_eq(read_all(path, 0, &k, &err), SVY_E_IO, "a missing file: %s", err.msg);
    cr_assert(strstr(err.msg, "No such file"), "the message says why: %s", err.msg);
    snprintf(path, sizeof path, "%s/f.csv", scratch);
    write_file(path, "a\n1\n");
    snprintf(path, sizeof path, "%s/f.csv/inside.csv", scratch);
    cr_assert_eq(read_all(path, 0, &k, &err), SVY_E_IO, "a path through a file: %s", err.msg);
    cr_assert(strstr(err.msg, "Not a directory"), "the message says why: %s", err.msg);
    rm_scratch();
}

Test(faults, input_removed_after_open_is_still_the_one_read)
{
    make_scratch();
    char path[512];
    snprintf(path, sizeof path, "%s/in.csv", scratch);
    write_file(path, "a\nfirst\nsecond\n");
    svy_reader *r = svy_reader_new();
    svy_err err;
    cr_assert_eq(svy_reader_open(r, path, &err), SVY_OK, "%s", err.msg);
    /* Removed, then replaced by another file under the same name. */
    cr_assert_eq(unlink(path), 0, "unlink");
    write_file(path, "a\nother\n");
    sink k = {0};
    cr_assert_eq(svy_reader_run(r, &handler, &k, &err), SVY_OK, "%s", err.msg);
    cr_assert_eq(k.rows, 2, "the file detected at open is the one read");
    cr_assert_str_eq(k.last, "second", "the file detected at open is the one read");
    svy_reader_free(r);
    rm_scratch();
}

/* A .dta or .sav of one labelled code column and one text column. */
static void write_labelled(const char *path, svy_format fmt, const char *label, const char *text)
{
    svy_schema *s = svy_schema_new();
    svy_var *code = svy_schema_add(s, "code", SVY_VAR_NUMERIC, NULL);
    svy_var *t = svy_schema_add(s, "t", SVY_VAR_STRING, NULL);
    cr_assert(code && t, "cannot build a schema");
    svy_var_set_width(t, 16);
    cr_assert_eq(svy_var_add_label_num(code, 1, label), SVY_OK, "label");
    svy_writer *w = svy_writer_new(fmt);
    svy_writer_set_row_count(w, 1);
    svy_writer_set_labels(w, 0);
    svy_err err;
    svy_status st = svy_writer_open(w, path, s, &err);
    svy_value v[2] = {{.type = SVY_VAL_NUM, .num = 1}, {.type = SVY_VAL_STR, .str = text, .len = strlen(text)}};
    svy_row row = {.index = 1, .nvals = 2, .vals = v};
    if (!st)
        st = svy_writer_write(w, &row, &err);
    if (!st)
        st = svy_writer_close(w, &err);
    cr_assert_eq(st, SVY_OK, "cannot write %s: %s", path, err.msg);
    svy_writer_free(w);
    svy_schema_free(s);
}

typedef struct labelled_sink {
    char label[64], text[64];
} labelled_sink;

static svy_status on_labelled_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    labelled_sink *k = ctx;
    (void)err;
    svy_value one = {.type = SVY_VAL_NUM, .num = 1};
    const char *l = svy_var_label_for(svy_schema_var(s, 0), &one);
    snprintf(k->label, sizeof k->label, "%s", l ? l : "(none)");
    return SVY_OK;
}

static svy_status on_labelled_row(void *ctx, const svy_row *row, svy_err *err)
{
    labelled_sink *k = ctx;
    (void)err;
    snprintf(k->text, sizeof k->text, "%.*s", (int)row->vals[1].len, row->vals[1].str);
    return SVY_OK;
}

/* ReadStat reads a file twice (labels and variables, then rows), and both
 * passes opened the path again: a file replaced between open and run was read
 * with nothing of the one detected, and one replaced between the passes with
 * the labels of the first.  Both passes read the descriptor detected. */
Test(faults, dta_and_sav_replaced_after_open_are_still_the_ones_read)
{
    make_scratch();
    static const struct {
        svy_format fmt;
        const char *name;
    } kinds[] = {{SVY_FMT_DTA, "in.dta"}, {SVY_FMT_SAV, "in.sav"}};
    for (size_t i = 0; i < 2; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", scratch, kinds[i].name);
        write_labelled(path, kinds[i].fmt, "first label", "first file");
        svy_reader *r = svy_reader_new();
        svy_err err;
        cr_assert_eq(svy_reader_open(r, path, &err), SVY_OK, "%s", err.msg);
        cr_assert_eq(unlink(path), 0, "unlink");
        write_labelled(path, kinds[i].fmt, "second label", "second file");
        labelled_sink k = {"", ""};
        svy_handler h = {on_labelled_schema, on_labelled_row};
        cr_assert_eq(svy_reader_run(r, &h, &k, &err), SVY_OK, "%s: %s", kinds[i].name, err.msg);
        cr_assert_str_eq(k.label, "first label", "%s: the labels of the file detected", kinds[i].name);
        cr_assert_str_eq(k.text, "first file", "%s: the rows of the file detected", kinds[i].name);
        svy_reader_free(r);
    }
    rm_scratch();
}

Test(faults, pipe_given_by_path_is_read_whole)
{
    /* `svy-x <(zcat f.gz)`: the path is a pipe that cannot be opened twice. */
    int p[2];
    cr_assert_eq(pipe(p), 0, "pipe");
    const char *text = "a,b\n1,2\n3,4\n5,6\n";
    cr_assert_eq(write(p[1], text, strlen(text)), (ssize_t)strlen(text), "fill the pipe");
    close(p[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", p[0]);
    sink k;
    svy_err err;
    cr_assert_eq(read_all(path, 0, &k, &err), SVY_OK, "a pipe is read like standard input: %s", err.msg);
    cr_assert_eq(k.rows, 3, "every row of the pipe, the detection bytes included");
    cr_assert_str_eq(k.last, "5", "the last row arrives");
    close(p[0]);
}

/* Standard input from a file of CSV, spooled (rewindable) at open. */
static svy_status spool_stdin(const char *text, svy_err *err, sink *k)
{
    char path[512];
    snprintf(path, sizeof path, "%s/stdin.csv", scratch);
    write_file(path, text);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0, "open %s", path);
    dup2(fd, 0);
    close(fd);
    unlink(path);
    return read_all("-", 1, k, err);
}

Test(faults, spool_into_a_missing_tmpdir)
{
    make_scratch();
    setenv("TMPDIR", "/nonexistent-svy-tmp", 1);
    sink k;
    svy_err err;
    svy_status st = spool_stdin("a\n1\n", &err, &k);
    cr_assert_eq(st, SVY_E_IO, "no temporary folder, no spool: %s", err.msg);
    cr_assert(strstr(err.msg, "temporary file"), "the message names the temporary file: %s", err.msg);
    rm_scratch();
}

Test(faults, spool_into_a_full_tmpdir)
{
    make_scratch();
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/tmp", scratch);
    mkdir(tmp, 0700);
    setenv("TMPDIR", tmp, 1);
    /* 200 KB of input, and room for 64 KiB: the spool fills the "disk". */
    size_t n = 200000;
    char *big = malloc(n + 1);
    memcpy(big, "a\n", 2);
    for (size_t i = 2; i < n; i++)
        big[i] = i % 10 == 9 ? '\n' : 'x';
    big[n] = '\0';
    signal(SIGXFSZ, SIG_IGN);
    char path[512];
    snprintf(path, sizeof path, "%s/stdin.csv", scratch);
    write_file(path, big);
    free(big);
    int fd = open(path, O_RDONLY);
    dup2(fd, 0);
    close(fd);
    struct rlimit rl = {65536, 65536};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0, "cannot set RLIMIT_FSIZE");
    sink k;
    svy_err err;
    svy_status st = read_all("-", 1, &k, &err);
    cr_assert_eq(st, SVY_E_IO, "a spool that cannot be written is an I/O error: %s", err.msg);
    cr_assert(strstr(err.msg, "spool"), "the message says it was the spool: %s", err.msg);
    cr_assert_eq(k.rows, 0, "no row is delivered from a partial spool");
    cr_assert_eq(entries(tmp), 0, "the partial spool is removed");
    rm_scratch();
}

/* What a failed upstream tool leaves on its standard output: a prefix cut at
 * a row boundary, then the abort mark. */
static void upstream(const char *path, int fail)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0, "open %s", path);
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    close(fd);
    svy_outfile *o;
    svy_err err;
    cr_assert_eq(svy_outfile_open("-", &o, &err), SVY_OK, "%s", err.msg);
    fputs("a,b\n1,2\n3,4\n", svy_outfile_stream(o));
    if (fail)
        svy_outfile_abort(o);
    else
        cr_assert_eq(svy_outfile_commit(o, &err), SVY_OK, "%s", err.msg);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
}

Test(faults, truncated_stream_from_failed_upstream_is_rejected)
{
    make_scratch();
    char path[512];
    snprintf(path, sizeof path, "%s/stream.csv", scratch);
    sink k;
    svy_err err;
    upstream(path, 0);
    cr_assert_eq(read_all(path, 0, &k, &err), SVY_OK, "a whole stream reads: %s", err.msg);
    cr_assert_eq(k.rows, 2, "both rows");
    upstream(path, 1);
    svy_status st = read_all(path, 0, &k, &err);
    cr_assert_eq(st, SVY_E_IO, "the prefix of a failed run is not taken for the whole: %d %s", st, err.msg);
    cr_assert(strstr(err.msg, "incomplete"), "the message says the input is incomplete: %s", err.msg);
    /* Also when the column that would hold the mark is not delivered. */
    svy_reader *r = svy_reader_new();
    const char *cols[] = {"b"};
    svy_reader_set_columns(r, cols, 1);
    st = svy_reader_open(r, path, &err);
    if (!st)
        st = svy_reader_run(r, &handler, &k, &err);
    svy_reader_free(r);
    cr_assert_eq(st, SVY_E_IO, "projection does not hide the mark: %s", err.msg);
    rm_scratch();
}

Test(faults, mark_inside_an_open_quoted_field_is_rejected)
{
    /* Cut inside a quoted field, then the mark: the quote does not hide it. */
    make_scratch();
    char path[512];
    snprintf(path, sizeof path, "%s/cut.csv", scratch);
    write_file(path, "a,b\n1,\"open\nquote\n\xFFsvy-abort: the program writing this stream failed\n");
    sink k;
    svy_err err;
    cr_assert_eq(read_all(path, 0, &k, &err), SVY_E_IO, "%s", err.msg);
    rm_scratch();
}

Test(faults, output_through_a_symlink_replaces_the_file_not_the_link)
{
    /* -o /dev/stdout with stdout redirected to a file: the atomic rename
     * replaced the /dev/stdout link itself.  Shown on a private link. */
    make_scratch();
    char real[512], link[512];
    snprintf(real, sizeof real, "%s/real.csv", scratch);
    snprintf(link, sizeof link, "%s/link.csv", scratch);
    write_file(real, "old\n");
    cr_assert_eq(symlink("real.csv", link), 0, "symlink");
    svy_err err;
    cr_assert_eq(write_rows(link, 2, &err), SVY_OK, "%s", err.msg);
    struct stat sb;
    cr_assert_eq(lstat(link, &sb), 0, "the link is there");
    cr_assert(S_ISLNK(sb.st_mode), "the link is still a link");
    FILE *f = fopen(real, "rb");
    char buf[64] = "";
    cr_assert_not_null(f, "the file is there");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cr_assert_str_eq(buf, "x\nsome value\nsome value\n", "the file the link names holds the output");
    cr_assert_eq(entries(scratch), 2, "no temporary file left");
    rm_scratch();
}
