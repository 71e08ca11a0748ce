/* Buffered file access for ReadStat: ReadStat's own I/O reads each Stata
 * row with one read(2); these handlers serve its reads from a 1 MiB buffer,
 * which is most of what makes svy-import faster than the readstat command. */
#include "readstat_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Both passes read the descriptor the reader detected, never the path
 * again: a file replaced in between would be read with the labels of the
 * first (the path ReadStat passes is only a name). */
static int io_open(const char *path, void *ctx)
{
    rs_io *io = ctx;
    if (io->input_fd >= 0) {
        if (lseek(io->input_fd, 0, SEEK_SET) != 0) {
            io->sys_errno = errno;
            return -1;
        }
        io->fd = io->input_fd;
    } else {
        io->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (io->fd < 0) {
            io->sys_errno = errno;
            return -1;
        }
    }
    io->len = io->pos = 0;
    io->base = 0;
    io->short_read = 0;
    return io->fd;
}

int svy_rs_io_close(void *ctx)
{
    rs_io *io = ctx;
    int rc = 0;
    if (io->fd >= 0 && io->fd != io->input_fd)
        rc = close(io->fd);
    io->fd = -1;
    return rc;
}

static ssize_t io_read(void *dst, size_t n, void *ctx)
{
    rs_io *io = ctx;
    unsigned char *d = dst;
    size_t done = 0;
    /* ReadStat 1.1.8 compares what this returns with the size it wanted as
     * size_t in places (the .sav header), so -1 read as a full read of
     * garbage: a failed read returns the short count instead, and the error
     * stays in sys_errno for rs_fail (found by fault injection). */
    if (io->sys_errno)
        return 0;
    while (done < n) {
        if (io->pos < io->len) {
            size_t k = io->len - io->pos;
            if (k > n - done)
                k = n - done;
            memcpy(d + done, io->buf + io->pos, k);
            io->pos += k;
            done += k;
            continue;
        }
        io->base += (off_t)io->len;
        io->len = io->pos = 0;
        /* Large reads bypass the buffer. */
        size_t want = n - done;
        unsigned char *into = want >= RS_BUF_SIZE ? d + done : io->buf;
        size_t cap = want >= RS_BUF_SIZE ? want : RS_BUF_SIZE;
        ssize_t got;
        do
            got = read(io->fd, into, cap);
        while (got < 0 && errno == EINTR);
        if (got < 0) {
            io->sys_errno = errno;
            return (ssize_t)done;
        }
        if (got == 0) {
            io->short_read = 1;
            io->short_want = n;
            io->short_got = done;
            break;
        }
        if (into == io->buf) {
            io->len = (size_t)got;
        } else {
            io->base += got;
            done += (size_t)got;
        }
    }
    return (ssize_t)done;
}

static readstat_off_t io_seek(readstat_off_t off, readstat_io_flags_t whence, void *ctx)
{
    rs_io *io = ctx;
    off_t target;
    if (whence == READSTAT_SEEK_SET) {
        target = off;
    } else if (whence == READSTAT_SEEK_CUR) {
        target = io->base + (off_t)io->pos + off;
    } else {
        struct stat st;
        if (fstat(io->fd, &st) != 0) {
            io->sys_errno = errno;
            return -1;
        }
        target = st.st_size + off;
    }
    if (target < 0)
        return -1;
    if (target >= io->base && target <= io->base + (off_t)io->len) {
        io->pos = (size_t)(target - io->base);
        return target;
    }
    if (lseek(io->fd, target, SEEK_SET) < 0) {
        /* EINVAL: an offset no file can have, read from a corrupt header
         * (a .dta map): bad data, not a failing system. */
        if (errno != EINVAL)
            io->sys_errno = errno;
        return -1;
    }
    io->base = target;
    io->len = io->pos = 0;
    return target;
}

static readstat_error_t io_update(long file_size, readstat_progress_handler h, void *user_ctx, void *ctx)
{
    return READSTAT_OK;
}

void svy_rs_set_io(readstat_parser_t *p, rs_io *io)
{
    readstat_set_open_handler(p, io_open);
    readstat_set_close_handler(p, svy_rs_io_close);
    readstat_set_read_handler(p, io_read);
    readstat_set_seek_handler(p, io_seek);
    readstat_set_update_handler(p, io_update);
    readstat_set_io_ctx(p, io);
}
