/* The ReadStat backend's shared parts: its buffered I/O (readstat_io.c),
 * the state of a read (readstat_read.c) and the turning of ReadStat's
 * failures into error records (readstat_fail.c).  Not installed. */
#ifndef SVY_READSTAT_PRIVATE_H
#define SVY_READSTAT_PRIVATE_H

#include "reader_private.h"
#include "encoding_private.h"

#include <readstat.h>
#include <sys/types.h>

#define RS_BUF_SIZE (1u << 20)

/* Buffered file access for ReadStat. */
typedef struct rs_io {
    int fd;
    int input_fd;    /* the reader's descriptor (not ours to close), or -1: open the path (a catalog) */
    unsigned char *buf;
    size_t len, pos; /* bytes in buf, read position in buf */
    off_t base;      /* file offset of buf[0] */
    int sys_errno;   /* errno of a failed system call, 0 if none */
    /* The last read that got less than it asked for (the end of the file):
     * old .dta value labels end at the first short read, whatever it cut. */
    size_t short_want, short_got;
    int short_read;
} rs_io;

/* One delivered column: where its value goes and its string buffer. */
typedef struct rs_col {
    long slot;          /* output slot, -1 when skipped */
    int user_missing;   /* the variable has SPSS missing definitions */
    char *sbuf;
    size_t scap;
} rs_col;

typedef struct rs_ctx {
    svy_reader *r;
    const svy_handler *h;
    void *hctx;
    svy_err *err;
    svy_status st;         /* why a handler stopped ReadStat */
    const char *file;      /* name for messages: r->name or the catalog */

    /* Pass 1. */
    svy_schema *full;
    svy_schema *sets;      /* value-label sets, one pseudo-variable each */

    /* Pass 2. */
    rs_col *cols;
    size_t ncols;
    int trigger;           /* variable whose value ends a row */
    long long row;         /* 0-based row being read */
    int last_index;        /* last variable seen in the row, -1 at row start */

    int dta_version;       /* .dta format version (104..119), 0 for other formats */
    char encoding[64];     /* the text encoding in force, for messages */
    int undeclared;        /* the file declares no encoding: its bytes are UTF-8, or refused */
    svy_raw_texts raw;     /* the file's own bytes of its texts, then */
    int restart;           /* pass 1 stopped to read again with undeclared set */
    char rs_msg[256];      /* last message from ReadStat's error handler */
} rs_ctx;

/* readstat_io.c: serve ReadStat's reads of io from its buffer. */
void svy_rs_set_io(readstat_parser_t *p, rs_io *io);
/* Close what the open handler opened (ReadStat may not have): 0. */
int svy_rs_io_close(void *ctx);

/* readstat_fail.c */
/* Turn what ReadStat returned into a record (unless a handler set one). */
svy_status svy_rs_fail(rs_ctx *c, rs_io *io, readstat_error_t e, int in_data);
svy_status svy_rs_check_dta_length(int fd, const char *name, svy_err *err);
svy_status svy_rs_check_dta_labels_end(rs_ctx *c, const rs_io *io);

#endif
