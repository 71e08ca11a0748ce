/* Files that declare no text encoding (encoding_guess.c).  Not installed. */
#ifndef SVY_ENCODING_PRIVATE_H
#define SVY_ENCODING_PRIVATE_H

#include <readstat.h>

/* An SPSS .sav/.zsav at path: 1 when it declares its encoding (record
 * 7.20, or a code page in record 7.3), 0 when it does not, -1 when its
 * dictionary cannot be walked. */
int svy_sav_declares_encoding(const char *path);

/* 1 when every text of the file (data set label, variable labels, value
 * labels, string values) reads from GB18030 as ASCII or Chinese, and some
 * of it is Chinese: the encoding to suggest for a file that declares none.
 * Reads the whole file; for error messages only. */
typedef readstat_error_t (*svy_rs_parse_fn)(readstat_parser_t *, const char *, void *);
int svy_rs_reads_as_gb18030(svy_rs_parse_fn parse, const char *path);

#endif
