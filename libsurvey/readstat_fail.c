/* ReadStat's failures as error records: where in the data a read failed,
 * what ReadStat's codes mean for the user, and the truncations of .dta
 * files that ReadStat itself does not notice. */
#include "readstat_private.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The column a failed string conversion most likely hit: the next delivered
 * variable after the last one ReadStat handed over. */
static void locate_failure(const rs_ctx *c, long long *row, long long *col, const char **var)
{
    *row = c->row + 1;
    *col = 0;
    *var = NULL;
    if (!c->cols)
        return;
    int from = c->last_index + 1;
    for (size_t i = (size_t)from; i < c->ncols; i++) {
        const svy_var *v = svy_schema_var(c->full ? c->full : c->r->full, i);
        if (c->cols[i].slot >= 0 && v && svy_var_type_of(v) == SVY_VAR_STRING) {
            *col = (long long)i + 1;
            *var = svy_var_name(v);
            return;
        }
    }
}


svy_status svy_rs_fail(rs_ctx *c, rs_io *io, readstat_error_t e, int in_data)
{
    if (e == READSTAT_ERROR_USER_ABORT && c->st != SVY_OK)
        return c->st;
    long long row = 0, col = 0;
    /* A failed read makes ReadStat see a short or odd file: whatever it
     * concluded, the cause is the system's. */
    if (io->sys_errno && e != READSTAT_ERROR_OPEN) {
        const char *where;
        if (in_data)
            locate_failure(c, &row, &col, &where);
        return svy_err_sys(c->err, io->sys_errno, c->file, row, "read error");
    }
    const char *var = NULL;
    if (in_data)
        locate_failure(c, &row, &col, &var);
    const char *rsmsg = readstat_error_message(e);
    char extra[300] = "";
    if (c->rs_msg[0])
        snprintf(extra, sizeof extra, " (%s)", c->rs_msg);
    switch (e) {
    case READSTAT_ERROR_OPEN:
        return svy_err_sys(c->err, io->sys_errno ? io->sys_errno : ENOENT, c->file, 0, "cannot open");
    case READSTAT_ERROR_MALLOC:
        /* ReadStat refuses allocations a corrupt header asks for. */
        return svy_err_set(c->err, SVY_E_FORMAT, c->file, row, 0, NULL,
                           "corrupt or unsupported %s file: %s%s", c->r->format, rsmsg, extra);
    case READSTAT_ERROR_CONVERT:
    case READSTAT_ERROR_CONVERT_BAD_STRING:
    case READSTAT_ERROR_CONVERT_SHORT_STRING:
    case READSTAT_ERROR_CONVERT_LONG_STRING:
        return svy_err_set(c->err, SVY_E_ENCODING, c->file, row, col, var,
                           "text cannot be converted from %s to UTF-8; name the file's real encoding with --encoding",
                           c->encoding[0] ? c->encoding : "the declared encoding");
    case READSTAT_ERROR_UNSUPPORTED_CHARSET:
        if (c->r->encoding)
            return svy_err_set(c->err, SVY_E_USAGE, c->file, 0, 0, NULL, "unknown encoding '%s'", c->r->encoding);
        return svy_err_set(c->err, SVY_E_ENCODING, c->file, 0, 0, NULL,
                           "the file declares a character set this system cannot convert%s; "
                           "name one with --encoding", extra);
    case READSTAT_ERROR_READ:
    case READSTAT_ERROR_SEEK:
        if (io->sys_errno) {
            return svy_err_sys(c->err, io->sys_errno, c->file, row, "read error");
        }
        return svy_err_set(c->err, SVY_E_FORMAT, c->file, row, 0, NULL,
                           "%s file ends early or is corrupt: %s%s", c->r->format, rsmsg, extra);
    case READSTAT_ERROR_UNSUPPORTED_FILE_FORMAT_VERSION:
        if (!strcmp(c->r->format, "dta")) {
            unsigned char b = 0;
            int fd = svy_reader_input_fd(c->r);
            if (fd < 0 || pread(fd, &b, 1, 0) != 1)
                b = 0;
            if (b >= 0x66 && b < 0x68)
                return svy_err_set(c->err, SVY_E_FORMAT, c->file, 0, 0, NULL,
                                   "Stata file format %d (Stata 1 and 2) is older than ReadStat reads "
                                   "(104 and later); save it again in a newer Stata", b);
        }
        return svy_err_set(c->err, SVY_E_FORMAT, c->file, 0, 0, NULL, "unsupported version of the %s format%s",
                           c->r->format, extra);
    case READSTAT_ERROR_ROW_COUNT_MISMATCH:
        return svy_err_set(c->err, SVY_E_FORMAT, c->file, row, 0, NULL,
                           "%s file has fewer rows than its header says (truncated?)%s", c->r->format, extra);
    default:
        return svy_err_set(c->err, SVY_E_FORMAT, c->file, row, col, var, "not a readable %s file: %s%s",
                           c->r->format, rsmsg, extra);
    }
}

static const unsigned char *find_bytes(const unsigned char *h, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (h[i] == (unsigned char)needle[0] && !memcmp(h + i, needle, k))
            return h + i;
    return NULL;
}

/* ReadStat stops quietly at a short read in the value labels of a .dta, so
 * a file cut there would lose its labels unnoticed.  Formats 117 and later
 * carry a map whose last entry is the end of the file: check it. */
svy_status svy_rs_check_dta_length(int fd, const char *name, svy_err *err)
{
    unsigned char head[1024];
    ssize_t n = pread(fd, head, sizeof head, 0);
    struct stat st;
    int have_size = fstat(fd, &st) == 0;
    if (n < 20 || !have_size || memcmp(head, "<stata_dta>", 11) != 0)
        return SVY_OK;
    const unsigned char *bo = find_bytes(head, (size_t)n, "<byteorder>");
    const unsigned char *map = find_bytes(head, (size_t)n, "<map>");
    if (!bo || !map || map + 5 + 14 * 8 > head + n)
        return SVY_OK;
    int msf = bo + 14 <= head + n && !memcmp(bo + 11, "MSF", 3);
    const unsigned char *p = map + 5 + 13 * 8;
    uint64_t end = 0;
    for (int i = 0; i < 8; i++)
        end |= (uint64_t)p[msf ? i : 7 - i] << (8 * (7 - i));
    if (end > (uint64_t)st.st_size)
        return svy_err_set(err, SVY_E_FORMAT, name, 0, 0, NULL,
                           "dta file is truncated: %lld bytes of the %llu its map announces",
                           (long long)st.st_size, (unsigned long long)end);
    return SVY_OK;
}

/* Before format 117 a .dta has no map: its value labels run to the end of
 * the file, and ReadStat ends them quietly at the first read that comes
 * back short, so a file cut inside them (even by one byte) lost its last
 * label set unnoticed.  The only short read of a whole file is the length
 * field of the table that is not there (2 or 4 bytes, none of them read);
 * any other means the file ends inside a table.  Not for 105-107: ReadStat
 * 1.1.8 reads their tables with the layout of 108 (4-byte length, 33-byte
 * name) while Stata 5 wrote 2-byte lengths and 9-byte names, so a whole file
 * ends in a short read too (a real 105 file of the test corpus does). */
svy_status svy_rs_check_dta_labels_end(rs_ctx *c, const rs_io *io)
{
    if (!c->dta_version || c->dta_version >= 117 || !io->short_read)
        return SVY_OK;
    if (c->dta_version >= 105 && c->dta_version <= 107)
        return SVY_OK;
    if (io->short_got == 0 && (io->short_want == 2 || io->short_want == 4))
        return SVY_OK;
    return svy_err_set(c->err, SVY_E_FORMAT, c->file, 0, 0, NULL,
                       "dta file (format %d) is truncated: it ends inside its value labels (a read of %zu bytes "
                       "found %zu)",
                       c->dta_version, io->short_want, io->short_got);
}

