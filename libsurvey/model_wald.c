/* regTermTest(model, ~terms), R's default method "Wald": the coefficients
 * of the terms (the estimable ones), W = b' V^-1 b, F = W / k on k and the
 * model's residual df (design df + 1 - rank), p = pf(F, k, df, upper). */
#include "svy_private.h"
#include "model_private.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static svy_status one_test(svy_model *m, const char *spec, svy_model_wald *out, svy_err *err)
{
    mterm want[64];
    size_t nw;
    svy_status st = svy_mformula_terms_of(&m->f, spec, want, 64, &nw, err);
    if (st)
        return st;
    size_t p = m->X.p, k = 0;
    size_t *idx = svy_calloc(p, sizeof *idx);
    if (!idx)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    for (size_t j = 0; j < p; j++) {
        const mcol *c = &m->X.cols[j];
        if (c->term == SIZE_MAX || isnan(m->fit.beta[j]))
            continue;
        for (size_t i = 0; i < nw; i++)
            if (m->f.terms[c->term] == want[i]) {
                idx[k++] = j;
                break;
            }
    }
    out->terms = spec;
    out->df_num = (double)k;
    out->df_den = m->fit.df;
    out->chisq = out->F = out->p_value = NAN;
    if (k == 0) {
        free(idx);
        return SVY_OK;
    }
    gsl_matrix *V = gsl_matrix_alloc(k, k);
    gsl_vector *b = gsl_vector_alloc(k), *x = gsl_vector_alloc(k);
    if (!V || !b || !x) {
        gsl_matrix_free(V);
        gsl_vector_free(b);
        gsl_vector_free(x);
        free(idx);
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    for (size_t a = 0; a < k; a++) {
        gsl_vector_set(b, a, m->fit.beta[idx[a]]);
        for (size_t c = 0; c < k; c++)
            gsl_matrix_set(V, a, c, m->fit.V[idx[a] * p + idx[c]]);
    }
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    if (gsl_linalg_cholesky_decomp1(V) == GSL_SUCCESS && gsl_linalg_cholesky_solve(V, b, x) == GSL_SUCCESS) {
        double w = 0;
        for (size_t a = 0; a < k; a++)
            w += gsl_vector_get(b, a) * gsl_vector_get(x, a);
        out->chisq = w;
        out->F = w / (double)k;
        out->p_value = out->df_den > 0 ? gsl_cdf_fdist_Q(out->F, (double)k, out->df_den) : NAN;
    }
    gsl_set_error_handler(old);
    gsl_matrix_free(V);
    gsl_vector_free(b);
    gsl_vector_free(x);
    free(idx);
    return SVY_OK;
}

svy_status svy_model_wald_run(svy_model *m, svy_err *err)
{
    if (!m->nwald)
        return SVY_OK;
    m->walds = svy_calloc(m->nwald, sizeof *m->walds);
    if (!m->walds)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    for (size_t i = 0; i < m->nwald; i++) {
        svy_status st = one_test(m, m->wald[i], &m->walds[i], err);
        if (st)
            return st;
    }
    return SVY_OK;
}
