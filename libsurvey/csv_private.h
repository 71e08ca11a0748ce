/* The CSV backend's shared parts: the parse state (csv_read.c, the line
 * loop and the quote-free fast path), libcsv's field and row callbacks for
 * the lines that need it (csv_fields.c), and the byte source with its
 * encoding conversion (csv_source.c).  Not installed. */
#ifndef SVY_CSV_PRIVATE_H
#define SVY_CSV_PRIVATE_H

#include "reader_private.h"

#include <iconv.h>
#include <sys/types.h>

#define CHUNK (1u << 18)
/* The scans read whole blocks (16 bytes in csv_read.c, 64 in csv_scan.c):
 * the buffer has this much readable (zeroed) space after its end, and the
 * bytes past what was read are masked off. */
#define SCAN_PAD 64
#define LINE_MAX_BYTES FIELD_MAX
/* One field may not exceed this; a "line without end" fails here. */
#define FIELD_MAX ((size_t)64 << 20)
#define COLS_MAX 100000

typedef struct csvctx {
    svy_reader *r;
    const svy_handler *h;
    void *ctx;
    svy_err *err;
    svy_status st;       /* first failure; parsing stops reporting then */
    int header_done;
    size_t ncols;        /* header width */
    size_t col;          /* current field index in the row */
    /* header */
    char **names;
    size_t nnames, names_cap;
    /* the row being assembled: field bytes in one arena, offsets per slot */
    char *arena;
    size_t arena_len, arena_cap;
    const char **direct; /* fast path: the field in the line buffer, or NULL (then off[] into arena) */
    int zero_copy;       /* the fast path owns a writable line: point into it */
    size_t *off;
    size_t *len;
    unsigned char *miss;
    size_t nslots;
    int ascii_line;      /* the fast path saw only ASCII: no UTF-8 check needed */
    int check_ff;        /* input is UTF-8 as read (no --encoding conversion) */
    char delim;
    int fast_done;       /* fast_line took the line (no quote in it) */
    int row_done;        /* on_row ran since the flag was cleared */
    /* svy_row.line: asked for, and possible for this input (UTF-8, ',',
     * every column delivered in order); the line's copy, as direct_row
     * writes NULs into the line itself */
    int lines_ok;
    char *linebuf;
    size_t linecap;
    /* csv_scan.c: column -> value slot, -1 not delivered, -2 past the last */
    int *smap;
    /* csv_scan.c: the row loop for this CPU */
    size_t (*scan)(struct csvctx *c, char *p, size_t start, size_t end, int *why);
} csvctx;

/* The byte source: the file or stdin (after the bytes read for detection),
 * converted to UTF-8 when the user named another encoding. */
typedef struct source {
    svy_reader *r;
    int fd;
    int head_pending;
    iconv_t cd;
    char *raw;
    size_t raw_len;   /* unconverted bytes carried over (incomplete sequence) */
    int bad;          /* iconv hit bytes that are not valid in the encoding */
    int eof;
    int aborted;      /* raw[] starts with the abort mark: nothing after it is data */
} source;

/* csv_fields.c */
/* libcsv's space test: no byte is a blank to trim. */
int svy_csv_no_space(unsigned char c);
/* Record the first failure of the parse (later ones are not reported). */
void svy_csv_fail(csvctx *c, svy_status code, long long col, const char *var, const char *msg);
/* 1 when s[0..len) is UTF-8; else 0 with the failure recorded. */
int svy_csv_check_utf8(csvctx *c, const char *s, size_t len, const char *var);
/* libcsv's callbacks: one field, the end of a row (the header first). */
void svy_csv_on_field(void *s, size_t len, void *data);
void svy_csv_on_row(int term, void *data);
char svy_csv_detect_delim(const svy_reader *r);
int svy_csv_is_utf8_name(const char *enc);

/* csv_scan.c: the row loop for common lines.  svy_csv_scan_init: 1 when
 * the delimiter allows it (after the header).  svy_csv_scan splits and
 * delivers whole lines of p[start..end) and returns where it stopped, with
 * *why: SCAN_MORE, the line there is not complete; SCAN_LEFT, the line
 * there goes to the line path (as it was read); SCAN_FAILED, c->st was set
 * by the line that ends before the returned offset. */
enum { SCAN_MORE, SCAN_LEFT, SCAN_FAILED };
int svy_csv_scan_init(csvctx *c);
size_t svy_csv_scan(csvctx *c, char *p, size_t start, size_t end, int *why);
/* csv_scan_avx2.c: the same loop built for AVX2 and BMI (x86-64 builds),
 * taken when the CPU has them and svy_csv_scan_base_only is 0 (the unit
 * tests set it to run the baseline loop too). */
size_t svy_csv_scan_avx2(csvctx *c, char *p, size_t start, size_t end, int *why);
extern int svy_csv_scan_base_only;
/* Lines svy_csv_scan gave back to the line path, counted for the unit
 * tests (a line the loop should take but gives back reads the same). */
extern unsigned long svy_csv_scan_left;

/* csv_source.c: up to cap bytes of UTF-8 into dst; 0 at the end; -1 on a
 * read error (errno set); -2 when the input has bytes invalid in its
 * encoding; -3 at the abort mark. */
ssize_t svy_csv_src_read(source *s, char *dst, size_t cap);
/* After a row that failed at the end of what was converted: does the
 * abort mark come next in the raw bytes? */
int svy_csv_mark_follows(source *s);

#endif
