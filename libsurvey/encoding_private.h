/* Files that declare no text encoding (encoding_guess.c).  Not installed. */
#ifndef SVY_ENCODING_PRIVATE_H
#define SVY_ENCODING_PRIVATE_H

#include <readstat.h>
#include <stddef.h>
#include <survey/error.h>

/* An SPSS .sav/.zsav at path: 1 when it declares its encoding (record
 * 7.20, or a code page in record 7.3), 0 when it does not, -1 when its
 * dictionary cannot be walked. */
int svy_sav_declares_encoding(int fd); /* reads with pread: the offset stays */

/* 1 when every text of the file (data set label, variable labels, value
 * labels, string values) reads from GB18030 as ASCII or Chinese, and some
 * of it is Chinese: the encoding to suggest for a file that declares none.
 * Reads the whole file; for error messages only. */
typedef readstat_error_t (*svy_rs_parse_fn)(readstat_parser_t *, const char *, void *);
int svy_rs_reads_as_gb18030(svy_rs_parse_fn parse, int fd);

/* 1 when a file ReadStat reads declares no text encoding: Stata before
 * format 118 never does (ReadStat assumes Windows-1252), an SPSS file may
 * not (ReadStat then names Windows-1252 too, so the file is looked at). */
int svy_rs_declares_no_encoding(const char *format, readstat_metadata_t *md, int fd);

/* Such a file is read as ISO-8859-1, which gives each byte its own
 * character (ReadStat's "UTF-8" drops texts it cannot convert); this undoes
 * it: the file's own bytes of s, to be taken as UTF-8 or refused.  s itself
 * when it is ASCII, NULL out of memory; the result lives until four more
 * texts have been converted. */
typedef struct svy_raw_texts {
    char *buf[4];
    size_t cap[4];
    int next;
} svy_raw_texts;
const char *svy_raw_text(svy_raw_texts *rt, const char *s, size_t *len);
void svy_raw_text_free(svy_raw_texts *rt);

/* The error for text of such a file that is not UTF-8: names --encoding,
 * and GB18030 when the whole file (the input descriptor, read with parse) reads as
 * Chinese in it.  bad: the offset of the first bad byte. */
svy_status svy_undeclared_error(svy_err *err, const char *file, long long row, long long col, const char *var,
                                const char *what, size_t bad, svy_rs_parse_fn parse, int fd);

#endif
