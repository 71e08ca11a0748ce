/* Predictive margins, as R's survey:::svypredmeans(adjustmodel, ~g)
 * computes them (Korn and Graubard 1999): the model without g, plus g as a
 * factor at the end, is fitted; for each level l every row's g is set to l,
 * and the margin is the weighted mean of the predictions,
 *   m_l = sum w mu_l / sum w,   G_l = sum w mu'(eta_l) x_l / sum w,
 *   Var = G' V(beta) G + V_cond,
 * V_cond being svymean's variance of the predictions taken as fixed.  R adds
 * no covariance between the two parts, and neither do we (survey-reference-2
 * §8).  Differences from the reference level use the whole covariance matrix
 * (R's svycontrast); intervals and p-values are normal, as R's confint on a
 * svystat.  The margins average over the rows of the model (R: the design
 * without the rows that have a missing value). */
#include "svy_private.h"
#include "model_private.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct mctx {
    svy_model *m;
    mmatrix X;
    mfit fit;
    size_t L, p, g;
    double *mg, *G, *x, *Vc, *vv, sw;
} mctx;

static void mctx_free(mctx *c)
{
    svy_mmatrix_free(&c->X);
    svy_mfit_free(&c->fit);
    free(c->mg);
    free(c->G);
    free(c->x);
    free(c->Vc);
    free(c->vv);
}

static double predict(const mctx *c, const mrow *r, double *eta)
{
    double e = 0;
    svy_mmatrix_row(&c->X, r, c->x);
    for (size_t j = 0; j < c->p; j++)
        if (!isnan(c->fit.beta[j]))
            e += c->x[j] * c->fit.beta[j];
    *eta = e;
    return svy_model_linkinv(c->m->family, e);
}

/* svymean's linearized values of the predictions at every level. */
static void cond_row(void *ctx, mrow *r, double *z, int last)
{
    (void)last;
    mctx *c = ctx;
    for (size_t l = 0; l < c->L; l++) {
        r->lev[c->g] = (uint32_t)l;
        double eta, mu = predict(c, r, &eta);
        z[l] = r->path.w * (mu - c->mg[l]) / c->sw;
    }
}

/* m_l and G_l, then V_cond through the design. */
static svy_status margin_passes(mctx *c, size_t g, svy_err *err)
{
    svy_model *m = c->m;
    mrow r;
    int k;
    svy_status st = svy_model_rewind(m, err);
    c->sw = 0;
    while (st == SVY_OK && (k = svy_model_next(m, &r, err)) > 0) {
        double w = r.path.w;
        c->sw += w;
        for (size_t l = 0; l < c->L; l++) {
            r.lev[g] = (uint32_t)l;
            double eta, mu = predict(c, &r, &eta), me = svy_model_mu_eta(m->family, eta);
            c->mg[l] += w * mu;
            for (size_t j = 0; j < c->p; j++)
                c->G[l * c->p + j] += w * me * c->x[j];
        }
    }
    if (st || k < 0)
        return st ? st : err->code;
    for (size_t l = 0; l < c->L; l++) {
        c->mg[l] /= c->sw;
        for (size_t j = 0; j < c->p; j++)
            c->G[l * c->p + j] /= c->sw;
    }
    c->g = g;
    return svy_model_vcov_of(m, c->L, cond_row, c, c->Vc, NULL, err);
}

static char *level_name(const mvar *v, size_t l, int label, int bare)
{
    const char *t = label && v->lev[l].label ? v->lev[l].label : v->lev[l].text;
    size_t n = strlen(v->name) + strlen(t) + 2;
    char *s = svy_malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", bare ? "" : v->name, bare ? "" : "=", t);
    return s;
}

svy_status svy_model_margins_run(svy_model *m, svy_err *err)
{
    size_t g = (size_t)m->margins_var;
    const mvar *V = &m->f.vars[g];
    mctx c = {.m = m, .L = V->nlev};
    mterm terms[256];
    size_t nt = 0;
    for (size_t i = 0; i < m->f.nterms && nt < 255; i++)
        if (!(m->f.terms[i] >> g & 1))
            terms[nt++] = m->f.terms[i];
    terms[nt++] = (mterm)1 << g;
    svy_status st = svy_mmatrix_build(&c.X, &m->f, terms, nt, m->f.intercept, err);
    if (st == SVY_OK) {
        m->margins_refit = 1;
        st = svy_mfit_run(m, &c.X, &c.fit, err);
        m->margins_refit = 0;
    }
    size_t L = c.L, p = c.p = c.X.p;
    if (st == SVY_OK) {
        c.mg = svy_calloc(L, sizeof *c.mg);
        c.G = svy_calloc(L * p, sizeof *c.G);
        c.x = svy_calloc(p + 1, sizeof *c.x);
        c.Vc = svy_calloc(L * L, sizeof *c.Vc);
        c.vv = svy_calloc(L * L, sizeof *c.vv);
        m->margins = svy_calloc(L, sizeof *m->margins);
        if (!c.mg || !c.G || !c.x || !c.Vc || !c.vv || !m->margins)
            st = svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    if (st == SVY_OK)
        st = margin_passes(&c, g, err);
    if (st) {
        mctx_free(&c);
        return st;
    }
    const double *Vb = c.fit.V;
    for (size_t a = 0; a < L; a++)
        for (size_t b = 0; b < L; b++) {
            double s = 0;
            for (size_t i = 0; i < p; i++)
                for (size_t j = 0; j < p; j++)
                    if (!isnan(Vb[i * p + j]))
                        s += c.G[a * p + i] * Vb[i * p + j] * c.G[b * p + j];
            c.vv[a * L + b] = s + c.Vc[a * L + b];
        }
    double zq = gsl_cdf_ugaussian_Pinv(1 - (1 - m->d.level) / 2);
    size_t r = (size_t)V->ref;
    for (size_t l = 0; l < L; l++) {
        svy_model_margin *M = &m->margins[m->nmargins++];
        M->level = level_name(V, l, 0, 0);
        M->label = level_name(V, l, 1, 0);
        M->value = level_name(V, l, 0, 1);
        M->value_label = level_name(V, l, 1, 1);
        if (!M->level || !M->label || !M->value || !M->value_label) {
            mctx_free(&c);
            return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        }
        M->reference = l == r;
        M->margin = c.mg[l];
        M->se = sqrt(c.vv[l * L + l]);
        M->ci_low = M->margin - zq * M->se;
        M->ci_high = M->margin + zq * M->se;
        if (l == r) {
            M->diff = M->diff_se = M->diff_z = M->diff_p = M->diff_low = M->diff_high = NAN;
            continue;
        }
        M->diff = c.mg[l] - c.mg[r];
        M->diff_se = sqrt(c.vv[l * L + l] + c.vv[r * L + r] - 2 * c.vv[l * L + r]);
        M->diff_z = M->diff / M->diff_se;
        M->diff_p = 2 * gsl_cdf_ugaussian_P(-fabs(M->diff_z));
        M->diff_low = M->diff - zq * M->diff_se;
        M->diff_high = M->diff + zq * M->diff_se;
    }
    mctx_free(&c);
    return SVY_OK;
}
