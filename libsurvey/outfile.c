/* Atomic output files: temp file beside the target, renamed on commit. */
#include "svy_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <survey/outfile.h>

struct svy_outfile {
    FILE *f;
    char *path;     /* target */
    char *tmp;      /* temporary beside it; NULL for stdout and devices */
    char *real;     /* what is renamed over: path, or the file a symlink names */
    int direct;     /* an existing device, FIFO or socket: written in place */
};

svy_status svy_outfile_open(const char *path, svy_outfile **out, svy_err *err)
{
    *out = NULL;
    svy_outfile *o = calloc(1, sizeof *o);
    if (!o)
        return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        o->path = svy_strdup("<stdout>");
        if (!o->path) {
            free(o);
            return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
        }
        *out = o;
        return SVY_OK;
    }
    /* A target that exists and is not a regular file (/dev/null, /dev/full,
     * a FIFO) is written in place: renaming a temporary file over it would
     * replace the device node itself, which root is allowed to do. */
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)) {
        o->direct = 1;
        o->path = svy_strdup(path);
        if (!o->path) {
            free(o);
            return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
        }
        int dfd = open(path, O_WRONLY | O_CLOEXEC);
        if (dfd < 0) {
            int e = errno;
            svy_outfile_abort(o);
            svy_status st = svy_err_set(err, SVY_E_IO, path, 0, 0, NULL, "cannot open output: %s", strerror(e));
            if (err)
                err->sys_errno = e;
            return st;
        }
        o->f = fdopen(dfd, "wb");
        if (!o->f) {
            close(dfd);
            svy_outfile_abort(o);
            return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
        }
        *out = o;
        return SVY_OK;
    }
    /* The temp name is hidden and in the same folder, so rename() is atomic
     * and a crash leaves at most a dot-file, never a half-written target. */
    /* Through a symlink, replace the file it names, not the link: renaming
     * over /dev/stdout (a link) with `> file` would replace the link itself. */
    struct stat lb;
    char *resolved = lstat(path, &lb) == 0 && S_ISLNK(lb.st_mode) ? realpath(path, NULL) : NULL;
    o->real = resolved ? svy_strdup(resolved) : svy_strdup(path);
    free(resolved);
    const char *real = o->real ? o->real : path;
    const char *slash = strrchr(real, '/');
    size_t dirlen = slash ? (size_t)(slash - real + 1) : 0;
    size_t n = strlen(real) + 16;
    o->path = svy_strdup(path);
    o->tmp = svy_malloc(n);
    if (!o->path || !o->tmp || !o->real) {
        svy_outfile_abort(o);
        return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
    }
    snprintf(o->tmp, n, "%.*s.%s.tmpXXXXXX", (int)dirlen, real, real + dirlen);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        svy_outfile_abort(o);
        svy_status st = svy_err_set(err, SVY_E_IO, path, 0, 0, NULL, "cannot create output: %s", strerror(e));
        if (err)
            err->sys_errno = e;
        return st;
    }
    /* mkstemp makes 0600; outputs are ordinary files. */
    mode_t um = umask(0);
    umask(um);
    fchmod(fd, 0666 & ~um);
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        close(fd);
        svy_outfile_abort(o);
        return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
    }
    *out = o;
    return SVY_OK;
}

FILE *svy_outfile_stream(svy_outfile *o) { return o->f; }
const char *svy_outfile_path(const svy_outfile *o) { return o->path; }

svy_status svy_outfile_commit(svy_outfile *o, svy_err *err)
{
    svy_status st = SVY_OK;
    int e = 0;
    if (o->direct) {
        if (fflush(o->f) != 0 || ferror(o->f)) {
            e = errno;
            st = svy_err_set(err, SVY_E_IO, o->path, 0, 0, NULL, "write error: %s", strerror(e));
        }
        if (fclose(o->f) != 0 && !st) {
            e = errno;
            st = svy_err_set(err, SVY_E_IO, o->path, 0, 0, NULL, "write error: %s", strerror(e));
        }
        free(o->path);
        free(o->real);
        free(o);
        if (err && st)
            err->sys_errno = e;
        return st;
    }
    if (!o->tmp) {
        if (fflush(o->f) != 0 || ferror(o->f)) {
            e = errno;
            st = svy_err_set(err, SVY_E_IO, "<stdout>", 0, 0, NULL, "write error: %s", strerror(e));
        }
        free(o->path);
        free(o->real);
        free(o);
        if (err && st)
            err->sys_errno = e;
        return st;
    }
    if (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0) {
        e = errno;
        st = svy_err_set(err, SVY_E_IO, o->path, 0, 0, NULL, "write error: %s", strerror(e));
    }
    if (fclose(o->f) != 0 && !st) {
        e = errno;
        st = svy_err_set(err, SVY_E_IO, o->path, 0, 0, NULL, "write error: %s", strerror(e));
    }
    o->f = NULL;
    if (!st && rename(o->tmp, o->real) != 0) {
        e = errno;
        st = svy_err_set(err, SVY_E_IO, o->path, 0, 0, NULL, "cannot rename output into place: %s", strerror(e));
    }
    if (st) {
        unlink(o->tmp);
        if (err)
            err->sys_errno = e;
    }
    free(o->tmp);
    free(o->path);
    free(o->real);
    free(o);
    return st;
}

void svy_outfile_abort(svy_outfile *o)
{
    if (!o)
        return;
    if (o->tmp) {
        if (o->f)
            fclose(o->f);
        unlink(o->tmp);
        free(o->tmp);
    } else if (o->direct) {
        if (o->f) {
            fputs("\n" SVY_ABORT_MARK "\n", o->f);
            fclose(o->f);
        }
    } else if (o->f) {
        /* Not on a terminal: there a person reads the error message. */
        if (!isatty(fileno(o->f)))
            fputs("\n" SVY_ABORT_MARK "\n", o->f);
        fflush(o->f);
    }
    free(o->path);
    free(o->real);
    free(o);
}

svy_status svy_tmpfile(FILE **out, svy_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/svy-spool.XXXXXX", svy_tmpdir());
    int fd = mkstemp(path);
    if (fd < 0) {
        int e = errno;
        svy_status st = svy_err_set(err, SVY_E_IO, path, 0, 0, NULL, "cannot create temporary file: %s", strerror(e));
        if (err)
            err->sys_errno = e;
        return st;
    }
    /* Unlinked at once: the space is freed however the process ends. */
    unlink(path);
    *out = fdopen(fd, "w+b");
    if (!*out) {
        close(fd);
        return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
    }
    return SVY_OK;
}
