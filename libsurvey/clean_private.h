/* Internals shared by clean.c and clean_recode.c. */
#ifndef SVY_CLEAN_PRIVATE_H
#define SVY_CLEAN_PRIVATE_H

#include "codebook_private.h"

#include <stdint.h>

/* Which pattern of a recode set a text matched, remembered per variable:
 * survey columns repeat a few spellings, and a match depends on the text
 * alone.  Direct-mapped, CLEAN_MEMO_SLOTS slots (12 KiB) per recoded
 * variable, texts up to CLEAN_MEMO_TEXT bytes; errors (match limits) are
 * never remembered. */
#define CLEAN_MEMO_SLOTS 256
#define CLEAN_MEMO_TEXT 42
typedef struct clean_memo_slot {
    uint32_t k;   /* rule index + 1 (n + 1: no rule matched); 0: empty */
    uint16_t len;
    char text[CLEAN_MEMO_TEXT];
} clean_memo_slot;

/* The first rule of v's recode set that s[0..len) matches, in *k (the
 * set's n: none); memo may be NULL.  A pcre2 error (a limit) is a data
 * error naming the rule (recodes_path, its line) and the cell (input, row). */
svy_status svy_clean_match_recode(const svy_cb_var *v, clean_memo_slot *memo, const char *recodes_path,
                                  const char *input, long long row, const char *s, size_t len, size_t *k,
                                  svy_err *err);

/* "set@recodes.csv:line", the log's detail of rule k of rc. */
void svy_clean_recode_detail(const cb_recode *rc, size_t k, char *buf, size_t size);

#endif
