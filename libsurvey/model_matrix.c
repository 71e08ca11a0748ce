/* The columns of the model matrix, coded as R's model.matrix codes them: a
 * numeric variable is its value; a categorical one in term T is coded by
 * treatment contrasts (every level but the reference) when the term T
 * without it is in the model (the empty term: the intercept), else by the
 * indicators of all its levels.  The columns of a term run over the levels
 * with its first variable fastest. */
#include "svy_private.h"
#include "model_private.h"

#include <stdlib.h>
#include <string.h>

static int has_term(const mterm *terms, size_t n, int intercept, mterm t)
{
    if (t == 0)
        return intercept;
    for (size_t i = 0; i < n; i++)
        if (terms[i] == t)
            return 1;
    return 0;
}

void svy_mmatrix_free(mmatrix *X)
{
    for (size_t j = 0; j < X->p; j++) {
        free(X->cols[j].name);
        free(X->cols[j].label);
    }
    free(X->cols);
    memset(X, 0, sizeof *X);
}

static char *join(const char *a, const char *b, const char *c, const char *d)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
    char *s = svy_malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s%s", a, b, c, d);
    return s;
}

static svy_status add_col(mmatrix *X, size_t *cap, const mcol *c, svy_err *err)
{
    if (X->p >= SVY_MODEL_COLS_MAX)
        return svy_err_set(err, SVY_E_LIMIT, NULL, 0, 0, NULL, "the model has more than %d columns",
                           SVY_MODEL_COLS_MAX);
    if (!svy_grow((void **)&X->cols, cap, X->p + 1, sizeof *X->cols))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    X->cols[X->p++] = *c;
    return SVY_OK;
}

static svy_status term_cols(mmatrix *X, size_t *cap, const mformula *f, const mterm *terms, size_t nterms,
                            int intercept, size_t ti, svy_err *err)
{
    mterm t = terms[ti];
    uint16_t vars[8];
    int32_t first[8], count[8];
    int32_t skip[8];
    uint16_t nv = 0;
    for (size_t v = 0; v < f->nvars; v++) {
        if (!(t >> v & 1))
            continue;
        if (nv == 8)
            return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "an interaction of more than 8 variables");
        const mvar *V = &f->vars[v];
        vars[nv] = (uint16_t)v;
        skip[nv] = -1;
        if (!V->cat) {
            first[nv] = -1;
            count[nv] = 1;
        } else {
            int contrasts = has_term(terms, nterms, intercept, t & ~((mterm)1 << v));
            first[nv] = 0;
            count[nv] = (int32_t)V->nlev - (contrasts ? 1 : 0);
            skip[nv] = contrasts ? (int32_t)V->ref : -1;
            if (count[nv] <= 0)
                return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, V->column, "%s has a single level", V->column);
        }
        nv++;
    }
    int32_t idx[8] = {0};
    for (;;) {
        mcol c = {.term = ti, .nv = nv};
        char *name = svy_strdup(""), *label = svy_strdup("");
        for (uint16_t k = 0; k < nv && name && label; k++) {
            const mvar *V = &f->vars[vars[k]];
            c.var[k] = vars[k];
            const char *sep = k ? ":" : "";
            char *nn, *nl;
            if (first[k] < 0) {
                c.level[k] = -1;
                nn = join(name, sep, V->name, "");
                nl = join(label, sep, V->name, "");
            } else {
                int32_t lev = idx[k];
                if (skip[k] >= 0 && lev >= skip[k])
                    lev++; /* the reference level has no column */
                c.level[k] = lev;
                char *tmp = join(V->name, "=", V->lev[lev].text, "");
                nn = tmp ? join(name, sep, tmp, "") : NULL;
                free(tmp);
                tmp = join(V->name, "=", V->lev[lev].label ? V->lev[lev].label : V->lev[lev].text, "");
                nl = tmp ? join(label, sep, tmp, "") : NULL;
                free(tmp);
            }
            free(name);
            free(label);
            name = nn;
            label = nl;
        }
        if (!name || !label) {
            free(name);
            free(label);
            return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        }
        c.name = name;
        c.label = label;
        svy_status st = add_col(X, cap, &c, err);
        if (st) {
            free(name);
            free(label);
            return st;
        }
        uint16_t k = 0;
        while (k < nv && ++idx[k] >= count[k])
            idx[k++] = 0;
        if (k == nv)
            break;
    }
    return SVY_OK;
}

svy_status svy_mmatrix_build(mmatrix *X, const mformula *f, const mterm *terms, size_t nterms, int intercept,
                             svy_err *err)
{
    memset(X, 0, sizeof *X);
    size_t cap = 0;
    svy_status st;
    if (intercept) {
        mcol c = {.term = SIZE_MAX, .nv = 0, .name = svy_strdup("(Intercept)"), .label = svy_strdup("(Intercept)")};
        if (!c.name || !c.label) {
            free(c.name);
            free(c.label);
            return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        }
        if ((st = add_col(X, &cap, &c, err))) {
            free(c.name);
            free(c.label);
            return st;
        }
    }
    for (size_t i = 0; i < nterms; i++)
        if ((st = term_cols(X, &cap, f, terms, nterms, intercept, i, err)))
            return st;
    return SVY_OK;
}
