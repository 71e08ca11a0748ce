/* The clean engine's recode step: which pattern of a set a text matches
 * (pcre2, remembered per variable), and the log's detail of a recode. */
#include "svy_private.h"
#include "codebook_private.h"
#include "clean_private.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* "set@recodes.csv:line", the log's detail of a recode. */
void svy_clean_recode_detail(const cb_recode *rc, size_t k, char *buf, size_t size)
{
    static const char mid[] = "@recodes.csv:";
    size_t nl = strlen(rc->name), n = 0;
    char num[24];
    int line = rc->r[k].line, nd = 0;
    if (nl + sizeof mid + 12 > size) {
        snprintf(buf, size, "%s@recodes.csv:%d", rc->name, line);
        return;
    }
    memcpy(buf, rc->name, nl);
    n = nl;
    memcpy(buf + n, mid, sizeof mid - 1);
    n += sizeof mid - 1;
    if (line < 0) {
        buf[n++] = '-';
        line = -line;
    }
    do {
        num[nd++] = (char)('0' + line % 10);
        line /= 10;
    } while (line);
    while (nd)
        buf[n++] = num[--nd];
    buf[n] = '\0';
}

svy_status svy_clean_match_recode(const svy_cb_var *v, clean_memo_slot *memo, const char *recodes_path,
                                  const char *input, long long row, const char *s, size_t len, size_t *k,
                                  svy_err *err)
{
    const cb_recode *rc = v->recode;
    clean_memo_slot *slot = NULL;
    if (len <= CLEAN_MEMO_TEXT && rc->n < UINT32_MAX - 1) {
        if (memo) {
            uint32_t h = 2166136261u;
            for (size_t b = 0; b < len; b++)
                h = (h ^ (unsigned char)s[b]) * 16777619u;
            slot = &memo[(h ^ h >> 16) % CLEAN_MEMO_SLOTS];
            if (slot->k && slot->len == len && !memcmp(slot->text, s, len)) {
                *k = slot->k - 1;
                return SVY_OK;
            }
        }
    }
    size_t r = 0;
    for (; r < rc->n; r++) {
        int m = pcre2_match(rc->r[r].re, (PCRE2_SPTR)s, len, 0, 0, rc->md, rc->mctx);
        if (m >= 0)
            break;
        if (m != PCRE2_ERROR_NOMATCH) {
            /* The rule is at fault (a limit) or the cell: name both. */
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(m, msg, sizeof msg);
            int limit = m == PCRE2_ERROR_MATCHLIMIT || m == PCRE2_ERROR_DEPTHLIMIT || m == PCRE2_ERROR_HEAPLIMIT;
            return svy_err_set(err, SVY_E_DATA, recodes_path, rc->r[r].line, 2, v->name,
                               "pattern '%s' of recode set %s, matching the value '%.*s' of %s row %lld "
                               "(variable %s): %s%s",
                               rc->r[r].pattern, rc->name, (int)(len > 80 ? 80 : len), s, input, row,
                               v->name, (const char *)msg,
                               limit ? " (a pattern that backtracks this much, like (a+)+, needs rewriting)" : "");
        }
    }
    if (slot) {
        slot->k = (uint32_t)r + 1;
        slot->len = (uint16_t)len;
        memcpy(slot->text, s, len);
    }
    *k = r;
    return SVY_OK;
}
