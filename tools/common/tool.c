/* Shared front end: messages, exit codes and small option helpers. */
#include "tool.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *progname = "svy";

void svy_tool_init(const char *argv0)
{
    if (argv0 && *argv0) {
        const char *slash = strrchr(argv0, '/');
        progname = slash ? slash + 1 : argv0;
    }
    /* getopt's own message and ours made two for one bad option. */
    opterr = 0;
    /* An interrupted run removes its temporary output files. */
    svy_outfile_cleanup_on_signals();
}

const char *svy_tool_name(void)
{
    return progname;
}

/* For clang's -Wformat=2, which checks vfprintf's callers through this.
 * Control characters (a newline in a file name or a data value) are
 * written escaped, so no message can forge a line of its own. */
SVY_PRINTF(1, 0) static void vwarn(const char *fmt, va_list ap)
{
    char buf[4096];
    vsnprintf(buf, sizeof buf, fmt, ap);
    fflush(stdout);
    svy_tool_progress_clear();
    fprintf(stderr, "%s: ", progname);
    for (const unsigned char *p = (const unsigned char *)buf; *p; p++) {
        if (*p == '\n')
            fputs("\\n", stderr);
        else if (*p == '\r')
            fputs("\\r", stderr);
        else if (*p == '\t')
            fputs("\\t", stderr);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(stderr, "\\x%02x", *p);
        else
            fputc(*p, stderr);
    }
    fputc('\n', stderr);
}

void svy_tool_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
}

void svy_tool_die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
    exit(code);
}

void svy_tool_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help' for more information.\n", progname);
    exit(SVY_EXIT_USAGE);
}

void svy_tool_bad_option(char **argv, const char *optstring)
{
    const char *word = optind > 0 ? argv[optind - 1] : "";
    if (word && word[0] == '-' && word[1] == '-') {
        size_t n = strcspn(word, "=");
        if (!optopt)
            svy_tool_usage_error("unknown option '%.*s'", (int)n, word);
        if (word[n] == '=')
            svy_tool_usage_error("option '%.*s' takes no value", (int)n, word);
        svy_tool_usage_error("option '%.*s' needs a value", (int)n, word);
    }
    const char *p = optopt > 0 && optopt < 256 ? strchr(optstring, optopt) : NULL;
    if (p && p[1] == ':')
        svy_tool_usage_error("option '-%c' needs a value", optopt);
    if (optopt > 32 && optopt < 127)
        svy_tool_usage_error("unknown option '-%c'", optopt);
    svy_tool_usage_error("unknown option");
}

int svy_tool_exit_code(svy_status st)
{
    switch (st) {
    case SVY_OK:
        return SVY_EXIT_OK;
    case SVY_E_USAGE:
        return SVY_EXIT_USAGE;
    case SVY_E_IO:
    case SVY_E_NOMEM:
        return SVY_EXIT_IO;
    default:
        return SVY_EXIT_DATA;
    }
}

int svy_tool_report(const svy_err *err)
{
    char buf[1200];
    svy_err_format(err, buf, sizeof buf);
    if (err->sys_errno && !strstr(buf, strerror(err->sys_errno)))
        svy_tool_warn("%s: %s", buf, strerror(err->sys_errno));
    else
        svy_tool_warn("%s", buf);
    if (err->code == SVY_E_USAGE)
        fprintf(stderr, "Try '%s --help' for more information.\n", progname);
    return svy_tool_exit_code(err->code ? err->code : SVY_E_DATA);
}

void svy_tool_version(void)
{
    printf("%s (svy) %s\nlibsurvey %s\n", progname, SVY_VERSION_STRING, svy_version());
}

int svy_tool_finish_stdout(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        /* A run that failed has said why; a second message about the same
         * broken output (/dev/full) only confuses. */
        if (code != SVY_EXIT_OK)
            return code;
        int e = errno;
        fprintf(stderr, "%s: error writing standard output: %s\n", progname, strerror(e));
        return SVY_EXIT_IO;
    }
    return code;
}

int svy_tool_write_result(const char *path, svy_tool_write_fn write, void *ctx, svy_err *err)
{
    if (!path) {
        if (write(stdout, "<stdout>", ctx, err) != SVY_OK)
            return svy_tool_report(err);
        return svy_tool_finish_stdout(SVY_EXIT_OK);
    }
    svy_outfile *of;
    if (svy_outfile_open(path, &of, err) != SVY_OK)
        return svy_tool_report(err);
    if (write(svy_outfile_stream(of), path, ctx, err) != SVY_OK) {
        svy_outfile_abort(of);
        return svy_tool_report(err);
    }
    if (svy_outfile_commit(of, err) != SVY_OK)
        return svy_tool_report(err);
    return SVY_EXIT_OK;
}

char **svy_tool_split_list(const char *s, size_t *n)
{
    size_t count = 1;
    for (const char *p = s; *p; p++)
        count += *p == ',';
    size_t len = strlen(s);
    char **out = malloc((count + 1) * sizeof *out + len + 1);
    if (!out)
        svy_tool_die(SVY_EXIT_IO, "out of memory");
    char *buf = (char *)(out + count + 1);
    memcpy(buf, s, len + 1);
    size_t k = 0;
    for (char *tok = buf;;) {
        char *comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        if (!*tok) {
            free(out);
            svy_tool_usage_error("empty name in list '%s'", s);
        }
        out[k++] = tok;
        if (!comma)
            break;
        tok = comma + 1;
    }
    out[k] = NULL;
    *n = k;
    return out;
}

svy_writer *svy_tool_writer_new(svy_format fmt)
{
    svy_writer *w = svy_writer_new(fmt);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (w && sde && *sde) {
        char *end;
        long long t = strtoll(sde, &end, 10);
        if (!*end && t >= 0)
            svy_writer_set_timestamp(w, t);
    }
    return w;
}
