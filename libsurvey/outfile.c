/* Atomic output files: temp file beside the target, renamed on commit. */
#include "svy_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
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
    int direct;     /* an existing device, FIFO or socket, or the shell's /dev/stdout: written in place */
    int slot;       /* temp_register's slot of tmp, or -1 */
};

/* ---- temporary files removed on SIGINT, SIGTERM, ... ----
 *
 * The paths of this process's temporary output files, for a signal handler
 * to unlink: fixed slots, no allocation, claimed and released with atomic
 * flags (0 free, 1 being filled, 2 ready), so the handler only ever sees a
 * whole path.  A process with more than TEMP_SLOTS open outputs at once
 * leaves the extra ones to svy_outfile_abort(). */
#define TEMP_SLOTS 16
static char temp_path[TEMP_SLOTS][PATH_MAX];
static atomic_int temp_state[TEMP_SLOTS];

static int temp_register(const char *path)
{
    if (strlen(path) >= PATH_MAX)
        return -1;
    for (int i = 0; i < TEMP_SLOTS; i++) {
        int expect = 0;
        if (atomic_compare_exchange_strong(&temp_state[i], &expect, 1)) {
            strcpy(temp_path[i], path);
            atomic_store(&temp_state[i], 2);
            return i;
        }
    }
    return -1;
}

static void temp_release(int slot)
{
    if (slot >= 0)
        atomic_store(&temp_state[slot], 0);
}

static void on_fatal_signal(int sig)
{
    int e = errno;
    for (int i = 0; i < TEMP_SLOTS; i++)
        if (atomic_load(&temp_state[i]) == 2)
            unlink(temp_path[i]);
    signal(sig, SIG_DFL);
    errno = e;
    raise(sig); /* delivered on return: the process ends by the signal, as it would have */
}

int svy_outfile_cleanup_on_signals(void)
{
    static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGXFSZ, SIGXCPU, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction old, sa;
        if (sigaction(sigs[i], NULL, &old) != 0)
            return -1;
        if (old.sa_handler != SIG_DFL)
            continue; /* ignored (nohup, SIGPIPE set to SIG_IGN) or the caller's own */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], &sa, NULL) != 0)
            return -1;
    }
    return 0;
}

/* ---- targets ---- */

static svy_status open_fail(svy_outfile *o, svy_err *err, const char *path, int e, const char *what)
{
    svy_outfile_abort(o);
    return svy_err_sys(err, e, path, 0, "%s", what);
}

/* /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: the descriptor the
 * shell set up, used as it is (`-o /dev/stdout >> log` appends, as the shell
 * asked); -1 for any other name. */
static int std_descriptor(const char *path)
{
    if (strcmp(path, "/dev/stdout") == 0)
        return 1;
    if (strcmp(path, "/dev/stderr") == 0)
        return 2;
    const char *n = strncmp(path, "/dev/fd/", 8) == 0         ? path + 8
                    : strncmp(path, "/proc/self/fd/", 14) == 0 ? path + 14
                                                               : NULL;
    if (!n || !*n || strspn(n, "0123456789") != strlen(n) || strlen(n) > 6)
        return -1;
    return atoi(n);
}

/* Follow -o's symbolic links the way the kernel does with
 * fs.protected_symlinks: a link in a sticky world-writable folder (/tmp) is
 * followed only when its owner is us or the folder's owner, so a link
 * another user planted cannot aim our output at a file of our own.  A
 * dangling link names the file to create; a loop is refused.  real gets the
 * path of the file to replace or create. */
static svy_status resolve_target(const char *path, char *real, size_t size, svy_err *err)
{
    if (strlen(path) >= size)
        return svy_err_set(err, SVY_E_IO, path, 0, 0, NULL, "cannot create output: %s", strerror(ENAMETOOLONG));
    strcpy(real, path);
    for (int hops = 0;; hops++) {
        struct stat lb;
        if (lstat(real, &lb) != 0 || !S_ISLNK(lb.st_mode))
            return SVY_OK; /* absent (created) or not a link: mkstemp and rename say what is wrong */
        if (hops == 40)
            return svy_err_set(err, SVY_E_IO, path, 0, 0, NULL, "cannot create output: %s", strerror(ELOOP));
        char dir[PATH_MAX];
        const char *slash = strrchr(real, '/');
        size_t dl = slash ? (size_t)(slash - real) : 0;
        if (!slash)
            strcpy(dir, ".");
        else if (dl == 0)
            strcpy(dir, "/");
        else
            snprintf(dir, sizeof dir, "%.*s", (int)dl, real);
        struct stat db;
        if (stat(dir, &db) == 0 && (db.st_mode & S_ISVTX) && (db.st_mode & S_IWOTH) && lb.st_uid != geteuid() &&
            lb.st_uid != db.st_uid)
            return svy_err_set(err, SVY_E_IO, path, 0, 0, NULL,
                               "refusing to write through a symbolic link owned by another user in a sticky "
                               "world-writable folder (%s), as the kernel's protected_symlinks would",
                               dir);
        char to[PATH_MAX];
        ssize_t k = readlink(real, to, sizeof to - 1);
        if (k < 0)
            return svy_err_set(err, SVY_E_IO, path, 0, 0, NULL, "cannot read link: %s", strerror(errno));
        to[k] = '\0';
        char next[PATH_MAX];
        int n = to[0] == '/' || !slash ? snprintf(next, sizeof next, "%s", to)
                                       : snprintf(next, sizeof next, "%.*s/%s", (int)dl, real, to);
        if (n < 0 || (size_t)n >= size)
            return svy_err_set(err, SVY_E_IO, path, 0, 0, NULL, "cannot create output: %s", strerror(ENAMETOOLONG));
        strcpy(real, next);
    }
}

/* The temporary file beside real: ".NAME.tmpXXXXXX", or ".svy.tmpXXXXXX"
 * when that would be longer than a file name may be (a target of 245-255
 * bytes failed with "File name too long"). */
static char *temp_name(const char *real)
{
    const char *slash = strrchr(real, '/');
    size_t dirlen = slash ? (size_t)(slash - real + 1) : 0;
    const char *base = real + dirlen;
    size_t n = strlen(real) + 16;
    char *t = svy_malloc(n);
    if (!t)
        return NULL;
    if (strlen(base) + 11 <= NAME_MAX)
        snprintf(t, n, "%.*s.%s.tmpXXXXXX", (int)dirlen, real, base);
    else
        snprintf(t, n, "%.*s.svy.tmpXXXXXX", (int)dirlen, real);
    return t;
}

static svy_status open_direct(svy_outfile *o, const char *path, int fd, svy_err *err)
{
    o->direct = 1;
    o->path = svy_strdup(path);
    if (!o->path) {
        if (fd >= 0)
            close(fd);
        free(o);
        return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
    }
    if (fd < 0 && (fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
        return open_fail(o, err, path, errno, "cannot open output");
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        int e = errno;
        close(fd);
        return open_fail(o, err, path, e == ENOMEM || !e ? ENOMEM : e, "cannot open output");
    }
    return SVY_OK;
}

svy_status svy_outfile_open(const char *path, svy_outfile **out, svy_err *err)
{
    *out = NULL;
    svy_outfile *o = calloc(1, sizeof *o);
    if (!o)
        return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
    o->slot = -1;
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
    /* The shell's own descriptors are written as they are: no temporary
     * file, no rename (which replaced the file `>> log` appends to). */
    int sfd = std_descriptor(path);
    if (sfd >= 0) {
        int fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0) {
            int e = errno;
            free(o);
            return svy_err_sys(err, e, path, 0, "cannot open output");
        }
        svy_status st = open_direct(o, path, fd, err);
        if (!st)
            *out = o;
        return st;
    }
    char real[PATH_MAX];
    svy_status st = resolve_target(path, real, sizeof real, err);
    if (st) {
        free(o);
        return st;
    }
    /* A target that exists and is not a regular file (/dev/null, /dev/full,
     * a FIFO) is written in place: renaming a temporary file over it would
     * replace the device node itself, which root is allowed to do. */
    struct stat sb;
    int exists = stat(real, &sb) == 0;
    if (exists && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)) {
        st = open_direct(o, real, -1, err);
        if (!st)
            *out = o;
        return st;
    }
    /* The temp name is hidden and in the same folder, so rename() is atomic
     * and a crash leaves at most a dot-file, never a half-written target. */
    o->real = svy_strdup(real);
    o->path = svy_strdup(path);
    o->tmp = o->real ? temp_name(o->real) : NULL;
    if (!o->path || !o->tmp || !o->real) {
        svy_outfile_abort(o);
        return svy_err_set(err, SVY_E_NOMEM, path, 0, 0, NULL, "out of memory");
    }
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        return open_fail(o, err, path, e, "cannot create output");
    }
    o->slot = temp_register(o->tmp);
    /* mkstemp makes 0600.  A file replaced keeps its mode (a 0600 file
     * stayed private only until svy wrote it) and, as root, its owner;
     * a new one is an ordinary file. */
    if (exists && S_ISREG(sb.st_mode)) {
        if (geteuid() == 0)
            (void)!fchown(fd, sb.st_uid, sb.st_gid);
        else if (sb.st_gid != getegid())
            (void)!fchown(fd, (uid_t)-1, sb.st_gid);
        fchmod(fd, sb.st_mode & 07777);
    } else {
        mode_t um = umask(0);
        umask(um);
        fchmod(fd, 0666 & ~um);
    }
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
            st = svy_err_sys(err, e, o->path, 0, "write error");
        }
        if (fclose(o->f) != 0 && !st) {
            e = errno;
            st = svy_err_sys(err, e, o->path, 0, "write error");
        }
        free(o->path);
        free(o->real);
        free(o);
        return st;
    }
    if (!o->tmp) {
        if (fflush(o->f) != 0 || ferror(o->f)) {
            e = errno;
            st = svy_err_sys(err, e, "<stdout>", 0, "write error");
        }
        free(o->path);
        free(o->real);
        free(o);
        return st;
    }
    if (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0) {
        e = errno;
        st = svy_err_sys(err, e, o->path, 0, "write error");
    }
    if (fclose(o->f) != 0 && !st) {
        e = errno;
        st = svy_err_sys(err, e, o->path, 0, "write error");
    }
    o->f = NULL;
    if (!st && rename(o->tmp, o->real) != 0) {
        e = errno;
        st = svy_err_sys(err, e, o->path, 0, "cannot rename output into place");
    }
    if (st)
        unlink(o->tmp);
    temp_release(o->slot);
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
        temp_release(o->slot);
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
        return svy_err_sys(err, e, path, 0, "cannot create temporary file");
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
