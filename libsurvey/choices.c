/* Choices made for the user, said out loud by the tools (survey/choices.h). */
#include "svy_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <survey/choices.h>
#include <survey/value.h>

/* Compare ignoring ASCII case and blanks around a; 1 when equal. */
static int caseless_eq(const char *a, const char *b)
{
    while (*a == ' ')
        a++;
    size_t n = strlen(a);
    while (n && a[n - 1] == ' ')
        n--;
    return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

/* The known levels of a column: codes with up to two label texts each. */
typedef struct level {
    double code;
    const char *l1, *l2;
} level;

typedef struct levels {
    level *v;
    size_t n, cap;
    int failed;
} levels;

static void add_level(levels *L, double code, const char *text)
{
    if (text && !*text)
        text = NULL;
    for (size_t i = 0; i < L->n; i++)
        if (L->v[i].code == code) {
            if (text && !L->v[i].l1)
                L->v[i].l1 = text;
            else if (text && strcmp(L->v[i].l1, text) != 0 && (!L->v[i].l2 || !strcmp(L->v[i].l2, text)))
                L->v[i].l2 = text;
            return;
        }
    if (!svy_grow((void **)&L->v, &L->cap, L->n + 1, sizeof *L->v)) {
        L->failed = 1;
        return;
    }
    L->v[L->n++] = (level){code, text, NULL};
}

static void collect(levels *L, const svy_var *var, const svy_cb_var *cbv)
{
    if (cbv)
        for (size_t i = 0; i < svy_cb_var_nlabels(cbv); i++) {
            double c = svy_cb_var_label_code(cbv, i);
            add_level(L, c, svy_cb_var_label_text(cbv, i, SVY_LANG_ZH));
            add_level(L, c, svy_cb_var_label_text(cbv, i, SVY_LANG_EN));
        }
    if (var && svy_var_type_of(var) != SVY_VAR_STRING)
        for (size_t i = 0; i < svy_var_nlabels(var); i++) {
            const svy_value *v = svy_var_label_value(var, i);
            if (v->type == SVY_VAL_NUM && !v->tag)
                add_level(L, v->num, svy_var_label_text(var, i));
        }
}

/* "1 = 男 / male, 2 = 女 / female", at most 40 levels. */
static char *list_levels(const levels *L)
{
    size_t cap = 64;
    for (size_t i = 0; i < L->n && i < 40; i++)
        cap += SVY_DTOA_MAX + 8 + (L->v[i].l1 ? strlen(L->v[i].l1) : 0) + (L->v[i].l2 ? strlen(L->v[i].l2) : 0);
    char *s = svy_malloc(cap);
    if (!s)
        return NULL;
    size_t u = 0;
    s[0] = '\0';
    for (size_t i = 0; i < L->n && i < 40; i++) {
        char nb[SVY_DTOA_MAX];
        svy_dtoa(L->v[i].code, nb);
        u += (size_t)snprintf(s + u, cap - u, "%s%s", i ? ", " : "", nb);
        if (L->v[i].l1)
            u += (size_t)snprintf(s + u, cap - u, " = %s", L->v[i].l1);
        if (L->v[i].l2)
            u += (size_t)snprintf(s + u, cap - u, " / %s", L->v[i].l2);
    }
    if (L->n > 40)
        snprintf(s + u, cap - u, ", ... (%zu in all)", L->n);
    return s;
}

svy_level_match svy_level_resolve(const svy_var *var, const svy_cb_var *cbv, const char *value, double *code,
                                  char **known)
{
    *known = NULL;
    levels L = {0};
    collect(&L, var, cbv);
    svy_level_match m = SVY_LEVEL_UNKNOWN;
    double x;
    if (svy_parse_number(value, (size_t)-1, &x)) {
        int found = 0;
        for (size_t i = 0; i < L.n; i++)
            found |= L.v[i].code == x;
        /* The codebook is the authority on a code variable's codes; labels a
         * data file carries may cover only some of its codes. */
        if (found || (cbv && svy_cb_var_type(cbv) == SVY_CB_CODE && svy_cb_var_valid_num(cbv, x)))
            m = SVY_LEVEL_CODE, *code = x;
        else if (cbv && svy_cb_var_type(cbv) == SVY_CB_CODE)
            m = SVY_LEVEL_NONE;
    } else if (L.n) {
        size_t hit = (size_t)-1, nfold = 0, fold = 0;
        for (size_t i = 0; i < L.n && hit == (size_t)-1; i++) {
            const char *t[2] = {L.v[i].l1, L.v[i].l2};
            for (int k = 0; k < 2; k++) {
                if (!t[k])
                    continue;
                if (!strcmp(t[k], value))
                    hit = i;
                else if (caseless_eq(value, t[k]) && (nfold == 0 || fold != i))
                    fold = i, nfold++;
            }
        }
        if (hit == (size_t)-1 && nfold == 1)
            hit = fold;
        if (hit != (size_t)-1)
            m = SVY_LEVEL_CODE, *code = L.v[hit].code;
        else
            m = SVY_LEVEL_NONE;
    }
    if (m == SVY_LEVEL_NONE)
        *known = L.n ? list_levels(&L) : NULL;
    free(L.v);
    return m;
}

const char *svy_final_weight_find(const svy_schema *s, int *ambiguous)
{
    const char *found = NULL;
    *ambiguous = 0;
    size_t plen = strlen(SVY_FINAL_WEIGHT_LABEL);
    for (size_t i = 0; i < svy_schema_nvars(s); i++) {
        const svy_var *v = svy_schema_var(s, i);
        if (svy_var_type_of(v) == SVY_VAR_STRING)
            continue;
        if (strncasecmp(svy_var_label(v), SVY_FINAL_WEIGHT_LABEL, plen) != 0 &&
            strcmp(svy_var_name(v), SVY_FINAL_WEIGHT_NAME) != 0)
            continue;
        if (found)
            *ambiguous = 1;
        else
            found = svy_var_name(v);
    }
    return found;
}
