/* Comparisons of domain estimates: contrasts and Rao-Scott tests
 * (compare_private.h).  R's source is the specification:
 * survey:::contrast, survey:::tconfint, survey:::svychisq.survey.design. */
#include "svy_private.h"
#include "compare_private.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_permutation.h>
#include <survey/estimate.h>

/* Two-sided p of t on df degrees of freedom (the normal for df = Inf). */
static double two_sided_p(double t, double df)
{
    if (isnan(t) || isnan(df) || !(df > 0))
        return NAN;
    double a = -fabs(t);
    return 2 * (isinf(df) ? gsl_cdf_ugaussian_P(a) : gsl_cdf_tdist_P(a, df));
}

svy_status svy_contrast(size_t k, const double *theta, const double *V, const double *c, double df, double level,
                        svy_contrast_result *out, svy_err *err)
{
    SVY_FAIL_IF(k == 0, err, SVY_E_USAGE, "a contrast needs at least one estimate");
    SVY_FAIL_IF(!(level > 0 && level < 1), err, SVY_E_USAGE, "confidence level %g is not between 0 and 1", level);
    SVY_FAIL_IF(isnan(df) || !(df > 0), err, SVY_E_USAGE, "contrast: %g degrees of freedom", df);
    double est = 0, var = 0;
    for (size_t i = 0; i < k; i++) {
        if (c[i] == 0)
            continue;
        est += c[i] * theta[i];
        /* (c'V) c, in R's order of the products */
        double cv = 0;
        for (size_t j = 0; j < k; j++)
            if (c[j] != 0)
                cv += c[j] * V[j * k + i];
        var += cv * c[i];
    }
    double se = sqrt(var);
    double q = svy_qt(0.5 + level / 2, df);
    *out = (svy_contrast_result){.estimate = est, .se = se, .t = est / se, .df = df};
    out->p_value = two_sided_p(out->t, df);
    out->ci_low = est - q * se;
    out->ci_high = est + q * se;
    return SVY_OK;
}

/* Pearson's X^2 of the table n * phat (R: chisq.test(correct = FALSE) on
 * svytable(..., Ntotal = N)): expected counts from the margins. */
static double pearson(size_t nr, size_t nc, const double *phat, double n, double *rs, double *cs)
{
    double tot = 0;
    for (size_t i = 0; i < nr; i++)
        rs[i] = 0;
    for (size_t j = 0; j < nc; j++) {
        cs[j] = 0;
        for (size_t i = 0; i < nr; i++) {
            double x = n * phat[i + nr * j];
            rs[i] += x;
            cs[j] += x;
            tot += x;
        }
    }
    double x2 = 0;
    for (size_t j = 0; j < nc; j++)
        for (size_t i = 0; i < nr; i++) {
            double e = rs[i] * cs[j] / tot, d = n * phat[i + nr * j] - e;
            x2 += d * d / e;
        }
    return x2;
}

/* M = D^-1 C: the interaction contrasts of the nr x nc grid (cell indicator
 * of (r, c), r, c >= 1, centred by rows and columns: its residual on the
 * additive model, whose projection on a full grid is row mean + column mean
 * - grand mean), each cell divided by its proportion (0 for an empty cell,
 * R's ifelse(mean2 == 0, 0, 1/mean2)). */
static void contrasts_scaled(size_t nr, size_t nc, const double *phat, double *C, double *M)
{
    size_t rc = nr * nc, k = (nr - 1) * (nc - 1);
    for (size_t r = 1, m = 0; r < nr; r++)
        for (size_t c = 1; c < nc; c++, m++)
            for (size_t j = 0; j < nc; j++)
                for (size_t i = 0; i < nr; i++) {
                    double v = (double)(i == r && j == c) - (double)(j == c) / (double)nr -
                               (double)(i == r) / (double)nc + 1.0 / (double)rc;
                    size_t cell = i + nr * j;
                    C[cell * k + m] = v;
                    M[cell * k + m] = phat[cell] == 0 ? 0 : v / phat[cell];
                }
}

/* tr(A^-1 B) and tr((A^-1 B)^2) for k x k A, B (A overwritten). */
static int traces(size_t k, double *A, const double *B, double *t1, double *t2)
{
    gsl_matrix_view av = gsl_matrix_view_array(A, k, k);
    gsl_matrix *D = gsl_matrix_alloc(k, k);
    gsl_permutation *perm = gsl_permutation_alloc(k);
    if (!D || !perm) {
        gsl_matrix_free(D);
        gsl_permutation_free(perm);
        return -1;
    }
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int sign, bad = gsl_linalg_LU_decomp(&av.matrix, perm, &sign) != GSL_SUCCESS;
    for (size_t j = 0; j < k && !bad; j++) {
        gsl_vector_const_view bj = gsl_vector_const_view_array_with_stride(B + j, k, k);
        gsl_vector_view dj = gsl_matrix_column(D, j);
        bad = gsl_linalg_LU_solve(&av.matrix, perm, &bj.vector, &dj.vector) != GSL_SUCCESS;
    }
    gsl_set_error_handler(old);
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < k && !bad; i++) {
        s1 += gsl_matrix_get(D, i, i);
        for (size_t j = 0; j < k; j++)
            s2 += gsl_matrix_get(D, i, j) * gsl_matrix_get(D, j, i);
    }
    *t1 = bad ? NAN : s1;
    *t2 = bad ? NAN : s2;
    gsl_matrix_free(D);
    gsl_permutation_free(perm);
    return 0;
}

/* A = C'M/n and B = M'VM (k x k), from C and M (rc x k). */
static void forms(size_t rc, size_t k, const double *C, const double *M, const double *V, double n, double *A,
                  double *B, double *VM)
{
    for (size_t a = 0; a < rc; a++)
        for (size_t m = 0; m < k; m++) {
            double s = 0;
            for (size_t b = 0; b < rc; b++)
                s += V[a * rc + b] * M[b * k + m];
            VM[a * k + m] = s;
        }
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            double sa = 0, sb = 0;
            for (size_t a = 0; a < rc; a++) {
                sa += C[a * k + i] * M[a * k + j];
                sb += M[a * k + i] * VM[a * k + j];
            }
            A[i * k + j] = sa / n;
            B[i * k + j] = sb;
        }
}

svy_status svy_raoscott(size_t nr, size_t nc, const double *phat, const double *V, double n, double nu,
                        svy_raoscott_result *out, svy_err *err)
{
    SVY_FAIL_IF(nr < 2 || nc < 2, err, SVY_E_USAGE,
                "a test of independence needs at least two levels of each variable (the table is %zu x %zu)", nr, nc);
    /* O(cells^2 (nr-1)(nc-1)) work and 3 cells x (nr-1)(nc-1) doubles */
    SVY_FAIL_IF(nr > 1024 || nc > 1024 || nr * nc > 1024, err, SVY_E_LIMIT,
                "a %zu x %zu table is too large for a test of independence (at most 1024 cells)", nr, nc);
    size_t rc = nr * nc, k = (nr - 1) * (nc - 1);
    double *buf = svy_calloc(2 * rc * k + rc * k + 2 * k * k + nr + nc, sizeof *buf);
    if (!buf)
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory for a %zu x %zu test", nr, nc);
    double *C = buf, *M = C + rc * k, *VM = M + rc * k, *A = VM + rc * k, *B = A + k * k, *rs = B + k * k,
           *cs = rs + nr;
    *out = (svy_raoscott_result){.x2 = pearson(nr, nc, phat, n, rs, cs), .df_chisq = (double)k};
    contrasts_scaled(nr, nc, phat, C, M);
    forms(rc, k, C, M, V, n, A, B, VM);
    if (traces(k, A, B, &out->delta1, &out->delta2) < 0) {
        free(buf);
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory for a %zu x %zu test", nr, nc);
    }
    free(buf);
    out->f = out->x2 / out->delta1;
    out->ndf = out->delta1 * out->delta1 / out->delta2;
    out->ddf = out->ndf * nu;
    out->p_f = isfinite(out->f) && out->ndf > 0 && out->ddf > 0 ? gsl_cdf_fdist_Q(out->f, out->ndf, out->ddf) : NAN;
    double stat = out->x2 / (out->delta1 / (double)k);
    out->p_chisq = isfinite(stat) ? gsl_cdf_chisq_Q(stat, (double)k) : NAN;
    return SVY_OK;
}
