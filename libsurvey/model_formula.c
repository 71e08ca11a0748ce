/* The formula 'Y ~ a + b + a:b + a*b + factor(x) - 1', expanded as R's
 * terms() expands it: a*b is a + b + a:b, ':' binds before '*', which binds
 * before '+' and '-'; '- 1' and '+ 0' drop the intercept; '- a' drops a term;
 * duplicate terms count once; terms are ordered by degree, then as written.
 * Variables are numbered in order of first appearance (Y is 0). */
#include "svy_private.h"
#include "model_private.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct lexer {
    const char *s, *p;
    mformula *f;
    svy_err *err;
} lexer;

/* A list of terms. */
typedef struct tlist {
    mterm t[256];
    size_t n;
} tlist;

static svy_status bad(lexer *L, const char *what)
{
    return svy_err_set(L->err, SVY_E_USAGE, NULL, 0, 0, NULL, "formula '%s': %s at '%.20s'", L->s, what,
                       *L->p ? L->p : "(end)");
}

static void skip(lexer *L)
{
    while (isspace((unsigned char)*L->p))
        L->p++;
}

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || (unsigned char)c >= 0x80;
}

long svy_mformula_var(const mformula *f, const char *column)
{
    for (size_t i = 0; i < f->nvars; i++)
        if (strcmp(f->vars[i].column, column) == 0 || strcmp(f->vars[i].name, column) == 0)
            return (long)i;
    return -1;
}

long svy_mformula_add_var(mformula *f, const char *column, int factor)
{
    for (size_t i = 0; i < f->nvars; i++)
        if (strcmp(f->vars[i].column, column) == 0 && f->vars[i].factor == factor)
            return (long)i;
    if (f->nvars == SVY_MODEL_VARS_MAX)
        return -1;
    mvar *v = &f->vars[f->nvars];
    memset(v, 0, sizeof *v);
    v->column = svy_strdup(column);
    size_t n = strlen(column) + 9;
    v->name = svy_malloc(n);
    if (!v->column || !v->name)
        return -2;
    snprintf(v->name, n, factor ? "factor(%s)" : "%s", column);
    v->factor = factor;
    v->col = -1;
    v->ref = -1;
    return (long)f->nvars++;
}

static svy_status expr(lexer *L, tlist *out, int *icpt);

/* A name, factor(name) or a parenthesized expression. */
static svy_status primary(lexer *L, tlist *out)
{
    skip(L);
    if (*L->p == '(') {
        L->p++;
        int icpt = -1;
        svy_status st = expr(L, out, &icpt);
        if (st)
            return st;
        skip(L);
        if (*L->p != ')')
            return bad(L, "')' expected");
        L->p++;
        return SVY_OK;
    }
    const char *a = L->p;
    while (is_name_char(*L->p))
        L->p++;
    if (L->p == a)
        return bad(L, "a column name expected");
    size_t n = (size_t)(L->p - a);
    char name[256];
    if (n >= sizeof name)
        return bad(L, "name too long");
    memcpy(name, a, n);
    name[n] = '\0';
    int factor = 0;
    skip(L);
    if (strcmp(name, "factor") == 0 && *L->p == '(') {
        L->p++;
        skip(L);
        a = L->p;
        while (is_name_char(*L->p))
            L->p++;
        n = (size_t)(L->p - a);
        if (!n || n >= sizeof name)
            return bad(L, "factor(COLUMN) expected");
        memcpy(name, a, n);
        name[n] = '\0';
        skip(L);
        if (*L->p != ')')
            return bad(L, "factor(COLUMN): ')' expected");
        L->p++;
        factor = 1;
    } else if (*L->p == '(') {
        return bad(L, "only factor() may be applied to a column");
    }
    long v = svy_mformula_add_var(L->f, name, factor);
    if (v == -1)
        return svy_err_set(L->err, SVY_E_USAGE, NULL, 0, 0, NULL, "formula '%s': more than %d variables", L->s,
                           SVY_MODEL_VARS_MAX);
    if (v < 0)
        return svy_err_set(L->err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    out->n = 1;
    out->t[0] = (mterm)1 << v;
    return SVY_OK;
}

static svy_status push_term(lexer *L, tlist *out, mterm t)
{
    for (size_t i = 0; i < out->n; i++)
        if (out->t[i] == t)
            return SVY_OK;
    if (out->n == sizeof out->t / sizeof out->t[0])
        return bad(L, "too many terms");
    out->t[out->n++] = t;
    return SVY_OK;
}

/* a:b:c: every union of one term of each side. */
static svy_status colon(lexer *L, tlist *out)
{
    svy_status st = primary(L, out);
    for (;;) {
        skip(L);
        if (st || *L->p != ':')
            return st;
        L->p++;
        tlist rhs, prod = {.n = 0};
        if ((st = primary(L, &rhs)))
            return st;
        for (size_t i = 0; i < out->n && !st; i++)
            for (size_t j = 0; j < rhs.n && !st; j++)
                st = push_term(L, &prod, out->t[i] | rhs.t[j]);
        *out = prod;
    }
}

/* a*b: a + b + a:b. */
static svy_status star(lexer *L, tlist *out)
{
    svy_status st = colon(L, out);
    for (;;) {
        skip(L);
        if (st || *L->p != '*')
            return st;
        L->p++;
        tlist rhs, all = *out;
        if ((st = colon(L, &rhs)))
            return st;
        for (size_t j = 0; j < rhs.n && !st; j++)
            st = push_term(L, &all, rhs.t[j]);
        for (size_t i = 0; i < out->n && !st; i++)
            for (size_t j = 0; j < rhs.n && !st; j++)
                st = push_term(L, &all, out->t[i] | rhs.t[j]);
        *out = all;
    }
}

/* terms joined by + and -, with 0 and 1 for the intercept (*icpt). */
static svy_status expr(lexer *L, tlist *out, int *icpt)
{
    out->n = 0;
    int sign = 1;
    skip(L);
    if (*L->p == '-') {
        sign = -1;
        L->p++;
    } else if (*L->p == '+') {
        L->p++;
    }
    for (;;) {
        skip(L);
        svy_status st;
        if ((*L->p == '0' || *L->p == '1') && !is_name_char(L->p[1])) {
            *icpt = (*L->p == '1') == (sign > 0);
            L->p++;
        } else {
            tlist one;
            if ((st = star(L, &one)))
                return st;
            for (size_t i = 0; i < one.n; i++) {
                if (sign > 0) {
                    if ((st = push_term(L, out, one.t[i])))
                        return st;
                    continue;
                }
                for (size_t k = 0; k < out->n; k++)
                    if (out->t[k] == one.t[i]) {
                        memmove(&out->t[k], &out->t[k + 1], (out->n - k - 1) * sizeof out->t[0]);
                        out->n--;
                        break;
                    }
            }
        }
        skip(L);
        if (*L->p == '+')
            sign = 1;
        else if (*L->p == '-')
            sign = -1;
        else
            return SVY_OK;
        L->p++;
    }
}

static int degree(mterm t)
{
    return __builtin_popcountll(t);
}

svy_status svy_mformula_parse(mformula *f, const char *text, svy_err *err)
{
    memset(f, 0, sizeof *f);
    lexer L = {text, text, f, err};
    const char *tilde = strchr(text, '~');
    if (!tilde)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "formula '%s': 'Y ~ TERMS' expected", text);
    skip(&L);
    tlist lhs;
    svy_status st = primary(&L, &lhs);
    if (st)
        return st;
    if (f->vars[0].factor)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "formula '%s': Y must be a column", text);
    skip(&L);
    if (*L.p != '~')
        return bad(&L, "'~' expected after Y");
    L.p++;
    tlist rhs;
    int icpt = 1;
    if ((st = expr(&L, &rhs, &icpt)))
        return st;
    skip(&L);
    if (*L.p)
        return bad(&L, "unexpected text");
    f->intercept = icpt;
    f->terms = svy_calloc(rhs.n + 1, sizeof *f->terms);
    if (!f->terms)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    for (int d = 1; d <= SVY_MODEL_VARS_MAX; d++)
        for (size_t i = 0; i < rhs.n; i++)
            if (degree(rhs.t[i]) == d) {
                if (rhs.t[i] & 1)
                    return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "formula '%s': Y (%s) is also a term",
                                       text, f->vars[0].column);
                f->terms[f->nterms++] = rhs.t[i];
            }
    if (!f->nterms && !f->intercept)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "formula '%s': no term and no intercept", text);
    return SVY_OK;
}

void svy_mformula_free(mformula *f)
{
    for (size_t i = 0; i < f->nvars; i++) {
        mvar *v = &f->vars[i];
        free(v->column);
        free(v->name);
        svy_strtab_free(&v->texts);
        svy_u64map_free(&v->nums);
        free(v->numlist);
        for (size_t k = 0; k < v->nlev; k++) {
            free(v->lev[k].text);
            free(v->lev[k].label);
        }
        free(v->lev);
        free(v->tid_lev);
        free(v->ref_value);
        free(v->wy1);
        free(v->wsum);
    }
    free(f->terms);
    memset(f, 0, sizeof *f);
}

svy_status svy_mformula_terms_of(const mformula *f, const char *list, mterm *out, size_t cap, size_t *n,
                                 svy_err *err)
{
    *n = 0;
    const char *p = list;
    while (*p) {
        const char *e = p + strcspn(p, ",");
        mterm t = 0;
        const char *q = p;
        while (q < e) {
            const char *c = q;
            while (c < e && *c != ':')
                c++;
            char name[256];
            size_t len = (size_t)(c - q);
            while (len && isspace((unsigned char)*q)) {
                q++;
                len--;
            }
            while (len && isspace((unsigned char)q[len - 1]))
                len--;
            if (!len || len >= sizeof name)
                return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "--wald %s: an empty or long term", list);
            memcpy(name, q, len);
            name[len] = '\0';
            long v = svy_mformula_var(f, name);
            if (v <= 0)
                return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, name, "--wald %s: '%s' is not a variable of the model",
                                   list, name);
            t |= (mterm)1 << v;
            q = c < e ? c + 1 : c;
        }
        int found = 0;
        for (size_t i = 0; i < f->nterms; i++)
            found |= f->terms[i] == t;
        if (!found)
            return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "--wald %s: '%.*s' is not a term of the model",
                               list, (int)(e - p), p);
        if (*n < cap)
            out[(*n)++] = t;
        p = *e ? e + 1 : e;
    }
    return SVY_OK;
}
