/* Codebook parsing helpers: role names, value ranges, comparison
 * operators, and numbers read out of text with units (type `number`). */
#include "svy_private.h"
#include "codebook_private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ small parsers */

int cb_parse_num(const char *s, double *out)
{
    return svy_parse_number(s, (size_t)-1, out);
}

static const char *const role_names[SVY_ROLE_COUNT_] = {"", "id", "weight", "strata", "psu", "fpc", "outcome", "group"};

const char *svy_role_name(svy_role role)
{
    return (unsigned)role < SVY_ROLE_COUNT_ ? role_names[role] : "";
}

int cb_is_design_role(svy_role r)
{
    return r == SVY_ROLE_STRATA || r == SVY_ROLE_PSU || r == SVY_ROLE_FPC;
}

/* stage -1: any stage. */
int cb_has_role(const svy_cb_var *v, svy_role role, int stage)
{
    for (size_t i = 0; i < v->nroles; i++)
        if (v->roles[i] == role && (stage < 0 || v->stages[i] == stage))
            return 1;
    return 0;
}

int svy_role_parse_stage(const char *name, svy_role *out, int *stage)
{
    size_t n = strlen(name), k = n;
    while (k > 0 && name[k - 1] >= '0' && name[k - 1] <= '9')
        k--;
    if (k < n) {
        char base[16];
        if (k == 0 || k >= sizeof base || n - k > 1 || name[k] == '0')
            return 0;
        memcpy(base, name, k);
        base[k] = '\0';
        if (!svy_role_parse(base, out) || !cb_is_design_role(*out))
            return 0;
        *stage = name[k] - '0';
        return *stage <= SVY_CB_STAGES_MAX;
    }
    if (!svy_role_parse(name, out))
        return 0;
    *stage = cb_is_design_role(*out) ? 1 : 0;
    return 1;
}

int svy_role_parse(const char *name, svy_role *out)
{
    for (int i = 0; i < SVY_ROLE_COUNT_; i++)
        if (!strcasecmp(name, role_names[i])) {
            *out = (svy_role)i;
            return 1;
        }
    return 0;
}

/* "16-75", "1;2;3", "1-5;99", "-9--1": values and ranges separated by ';'. */
int cb_parse_ranges(const char *s, cb_range **out, size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (!*s)
        return 1;
    char *copy = svy_strdup(s);
    if (!copy)
        return 0;
    int ok = 1;
    for (char *save = NULL, *tok = strtok_r(copy, ";", &save); tok && ok; tok = strtok_r(NULL, ";", &save)) {
        char *e;
        while (*tok == ' ')
            tok++;
        errno = 0;
        double lo = strtod(tok, &e), hi = lo;
        if (e == tok) {
            ok = 0;
            break;
        }
        while (*e == ' ')
            e++;
        if (*e == '-') {
            char *e2;
            hi = strtod(e + 1, &e2);
            if (e2 == e + 1) {
                ok = 0;
                break;
            }
            e = e2;
        }
        while (*e == ' ')
            e++;
        if (*e || isnan(lo) || isnan(hi) || hi < lo || !svy_grow((void **)out, &cap, *n + 1, sizeof **out)) {
            ok = 0;
            break;
        }
        (*out)[(*n)++] = (cb_range){lo, hi};
    }
    free(copy);
    if (!ok) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return ok;
}

int cb_parse_op(const char **s, cb_op *op)
{
    static const struct {
        const char *t;
        cb_op op;
    } ops[] = {{"==", CB_OP_EQ}, {"!=", CB_OP_NE}, {"<=", CB_OP_LE}, {">=", CB_OP_GE},
               {"<", CB_OP_LT},  {">", CB_OP_GT},  {"=", CB_OP_EQ}};
    for (size_t i = 0; i < COUNT(ops); i++) {
        size_t l = strlen(ops[i].t);
        if (!strncmp(*s, ops[i].t, l)) {
            *op = ops[i].op;
            *s += l;
            return 1;
        }
    }
    return 0;
}

int svy_cb_cond_holds(cb_op op, double ref, int is_missing, double x)
{
    switch (op) {
    case CB_OP_MISSING: return is_missing;
    case CB_OP_PRESENT: return !is_missing;
    default: break;
    }
    if (is_missing)
        return 0;
    switch (op) {
    case CB_OP_EQ: return x == ref;
    case CB_OP_NE: return x != ref;
    case CB_OP_LT: return x < ref;
    case CB_OP_LE: return x <= ref;
    case CB_OP_GT: return x > ref;
    case CB_OP_GE: return x >= ref;
    default: return 0;
    }
}

/* ------------------------------------------------------------ quantities */

static int utf8_prefix(const char *s, size_t len, const char *word)
{
    size_t l = strlen(word);
    return len >= l && !strncasecmp(s, word, l);
}

/* Words and marks that may surround a number; matched caselessly. */
static const char *const unit_words[] = {"RMB", "CNY", "yuan", "years old", "years", "year", "yrs", "yr",
                                         "hours", "hrs", "元", "块", "岁", "周岁", "小时", "人民币",
                                         "¥", "￥", "/月", "每月", "per month"};

int svy_cb_parse_quantity(const char *s, size_t len, double *out)
{
    char buf[128];
    size_t n = 0;
    double scale = 1;
    int scaled = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= '0' && c <= '9') || c == '.' || ((c == '-' || c == '+') && n == 0)) {
            if (scaled || n + 1 >= sizeof buf)
                return 0; /* digits after "k" or "万": not one number */
            buf[n++] = (char)c;
            i++;
            continue;
        }
        if (c == ' ' || c == '\t') {
            i++;
            continue;
        }
        /* Thousands separators only between digits: "5,000" but not "5,". */
        if ((c == ',' || !strncmp(s + i, "，", 3)) && n && buf[n - 1] >= '0' && buf[n - 1] <= '9') {
            size_t w = c == ',' ? 1 : 3;
            if (i + w < len && s[i + w] >= '0' && s[i + w] <= '9') {
                i += w;
                continue;
            }
            return 0;
        }
        if (n && !scaled && (c == 'k' || c == 'K') &&
            (i + 1 == len || !((s[i + 1] | 32) >= 'a' && (s[i + 1] | 32) <= 'z'))) {
            scale = 1000, scaled = 1, i++;
            continue;
        }
        if (n && !scaled && utf8_prefix(s + i, len - i, "千")) {
            scale = 1000, scaled = 1, i += 3;
            continue;
        }
        if (n && !scaled && utf8_prefix(s + i, len - i, "万")) {
            scale = 10000, scaled = 1, i += 3;
            continue;
        }
        size_t k = 0;
        while (k < COUNT(unit_words) && !utf8_prefix(s + i, len - i, unit_words[k]))
            k++;
        if (k == COUNT(unit_words))
            return 0;
        i += strlen(unit_words[k]);
    }
    if (!n)
        return 0;
    double d;
    if (!svy_parse_number(buf, n, &d))
        return 0;
    *out = d * scale;
    return 1;
}
