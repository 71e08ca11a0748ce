/* IRLS as R's glm.fit runs it, and the design-based sandwich as
 * survey:::svy.varcoef computes it.
 *
 * To agree with R to 1e-9 the iteration path is R's, not just its limit:
 * the start (gaussian mu = y; quasibinomial mu = (pw y + 1/2)/(pw + 1)),
 * prior weights pw = w / mean(w) over every design row, the stopping rule
 * |dev - dev_old| / (|dev| + 0.1) < 1e-8 after at most 25 solves, R's
 * logit link functions with their +-30 thresholds, and the lagged working
 * weights: (X'WX)^-1 and the scores' W come from the last solve, i.e. the
 * iterate before the final one (survey-reference-2 §7).
 *
 * Each iteration reads the spool once: X'WX is never formed; the rows of
 * sqrt(W) [X z] are folded into a (p+1) x (p+1) triangle by Givens
 * rotations (a QR of the whole n x p matrix, as R's, so the precision is
 * QR's, not the normal equations').  Rank and the solution then come from
 * R's dqrdc2 rule on that triangle: Householder with limited pivoting,
 * a column whose remaining norm falls below 1e-11 of its own norm moves to
 * the end (aliased: NA in R, NaN here).  GSL has no such limited pivoting,
 * hence our own few lines. */
#include "svy_private.h"
#include "model_private.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAXIT = 25 };
static const double EPSILON = 1e-8;

/* R's C logit functions (src/library/stats/src/family.c). */
static const double THRESH = 30., MTHRESH = -30.;

double svy_model_linkinv(svy_family f, double eta)
{
    if (f == SVY_FAMILY_LINEAR)
        return eta;
    double tmp = eta < MTHRESH ? DBL_EPSILON : eta > THRESH ? 1 / DBL_EPSILON : exp(eta);
    return tmp / (1 + tmp);
}

double svy_model_mu_eta(svy_family f, double eta)
{
    if (f == SVY_FAMILY_LINEAR)
        return 1;
    double opexp = 1 + exp(eta);
    return eta > THRESH || eta < MTHRESH ? DBL_EPSILON : exp(eta) / (opexp * opexp);
}

static double y_log_y(double y, double mu)
{
    return y != 0. ? y * log(y / mu) : 0;
}

static double dev_resid(svy_family f, double y, double mu, double wt)
{
    if (f == SVY_FAMILY_LINEAR)
        return wt * (y - mu) * (y - mu);
    return 2 * wt * (y_log_y(y, mu) + y_log_y(1 - y, 1 - mu));
}

static double variance(svy_family f, double mu)
{
    return f == SVY_FAMILY_LINEAR ? 1 : mu * (1 - mu);
}

/* ------------------------------------------------ the streaming triangle */

typedef struct tri {
    size_t q;   /* p + 1 */
    double *R;  /* q x q, row-major, upper */
} tri;

static void tri_add(tri *T, double *r)
{
    size_t q = T->q;
    for (size_t j = 0; j < q; j++) {
        double b = r[j];
        if (b == 0)
            continue;
        double *Rj = T->R + j * q, a = Rj[j], rr = hypot(a, b), c = a / rr, s = b / rr;
        Rj[j] = rr;
        for (size_t k = j + 1; k < q; k++) {
            double t = Rj[k];
            Rj[k] = c * t + s * r[k];
            r[k] = c * r[k] - s * t;
        }
    }
}

/* The solve of one iteration: pivot, rank, beta (p, 0 for aliased) and
 * (X'WX)^-1 in pivot order (rank x rank, row-major). */
typedef struct solve {
    size_t p, rank;
    size_t *pivot;
    double *beta, *Ainv;
} solve;

static void solve_free(solve *S)
{
    free(S->pivot);
    free(S->beta);
    free(S->Ainv);
    memset(S, 0, sizeof *S);
}

static int solve_alloc(solve *S, size_t p)
{
    S->p = p;
    S->pivot = svy_calloc(p, sizeof *S->pivot);
    S->beta = svy_calloc(p, sizeof *S->beta);
    S->Ainv = svy_calloc(p * p, sizeof *S->Ainv);
    return S->pivot && S->beta && S->Ainv;
}

/* dqrdc2's limited pivoting on A (n = p rows, column-major in a), with b
 * transformed alongside; then back substitution and (R'R)^-1. */
static int solve_tri(const tri *T, size_t p, double tol, solve *S)
{
    size_t q = T->q;
    double *a = svy_calloc(p * p, sizeof *a), *b = svy_calloc(p, sizeof *b), *orig = svy_calloc(p, sizeof *orig);
    if (!a || !b || !orig) {
        free(a);
        free(b);
        free(orig);
        return 0;
    }
    for (size_t i = 0; i < p; i++) {
        for (size_t j = 0; j < p; j++)
            a[j * p + i] = T->R[i * q + j];
        b[i] = T->R[i * q + p];
        S->pivot[i] = i;
    }
    for (size_t j = 0; j < p; j++) {
        double s = 0;
        for (size_t i = 0; i < p; i++)
            s += a[j * p + i] * a[j * p + i];
        orig[j] = sqrt(s) == 0 ? 1 : sqrt(s);
    }
    size_t k = p; /* columns not moved to the end */
    for (size_t l = 0; l < p; l++) {
        for (;;) {
            double s = 0;
            for (size_t i = l; i < p; i++)
                s += a[l * p + i] * a[l * p + i];
            if (l >= k || sqrt(s) >= orig[l] * tol)
                break;
            /* cycle column l to the end */
            double *col = svy_malloc(p * sizeof *col);
            if (!col) {
                free(a);
                free(b);
                free(orig);
                return 0;
            }
            memcpy(col, a + l * p, p * sizeof *col);
            memmove(a + l * p, a + (l + 1) * p, (p - l - 1) * p * sizeof *a);
            memcpy(a + (p - 1) * p, col, p * sizeof *col);
            free(col);
            size_t pv = S->pivot[l];
            double ov = orig[l];
            memmove(S->pivot + l, S->pivot + l + 1, (p - l - 1) * sizeof *S->pivot);
            memmove(orig + l, orig + l + 1, (p - l - 1) * sizeof *orig);
            S->pivot[p - 1] = pv;
            orig[p - 1] = ov;
            k--;
        }
        if (l + 1 == p)
            break;
        double *x = a + l * p, nrm = 0;
        for (size_t i = l; i < p; i++)
            nrm += x[i] * x[i];
        nrm = sqrt(nrm);
        if (nrm == 0)
            continue;
        if (x[l] != 0)
            nrm = copysign(nrm, x[l]);
        for (size_t i = l; i < p; i++)
            x[i] /= nrm;
        x[l] += 1;
        for (size_t j = l + 1; j <= p; j++) {
            double *y = j < p ? a + j * p : b, t = 0;
            for (size_t i = l; i < p; i++)
                t -= x[i] * y[i];
            t /= x[l];
            for (size_t i = l; i < p; i++)
                y[i] += t * x[i];
        }
        x[l] = -nrm;
        for (size_t i = l + 1; i < p; i++)
            x[i] = 0;
    }
    size_t rank = k < p ? k : p;
    S->rank = rank;
    /* beta: R[0:rank, 0:rank] beta = b */
    memset(S->beta, 0, p * sizeof *S->beta);
    double *bp = svy_calloc(rank + 1, sizeof *bp);
    double *Rinv = svy_calloc(rank * rank + 1, sizeof *Rinv);
    if (!bp || !Rinv) {
        free(bp);
        free(Rinv);
        free(a);
        free(b);
        free(orig);
        return 0;
    }
    for (size_t ii = rank; ii-- > 0;) {
        double s = b[ii];
        for (size_t j = ii + 1; j < rank; j++)
            s -= a[j * p + ii] * bp[j];
        bp[ii] = s / a[ii * p + ii];
    }
    for (size_t i = 0; i < rank; i++)
        S->beta[S->pivot[i]] = bp[i];
    /* R^-1 (upper), then (R'R)^-1 = R^-1 R^-T */
    for (size_t c = 0; c < rank; c++)
        for (size_t ii = c + 1; ii-- > 0;) {
            double s = ii == c ? 1 : 0;
            for (size_t j = ii + 1; j <= c; j++)
                s -= a[j * p + ii] * Rinv[j * rank + c];
            Rinv[ii * rank + c] = s / a[ii * p + ii];
        }
    for (size_t i = 0; i < rank; i++)
        for (size_t j = 0; j <= i; j++) {
            double s = 0;
            for (size_t l = i > j ? i : j; l < rank; l++)
                s += Rinv[i * rank + l] * Rinv[j * rank + l];
            S->Ainv[i * rank + j] = S->Ainv[j * rank + i] = s;
        }
    free(bp);
    free(Rinv);
    free(a);
    free(b);
    free(orig);
    return 1;
}

/* ------------------------------------------------------------ the passes */

typedef struct irls {
    svy_model *m;
    const mmatrix *X;
    size_t p;
    double pwscale;   /* pw = w * pwscale (1 / mean of the weights) */
    tri T;
    double *x, *r;
} irls;

/* One pass: the deviance at beta (NULL: R's start) and the triangle of the
 * next solve. */
static svy_status pass(irls *I, const double *beta, double *dev, svy_err *err)
{
    svy_model *m = I->m;
    svy_family fam = m->family;
    size_t p = I->p, q = p + 1;
    memset(I->T.R, 0, q * q * sizeof *I->T.R);
    *dev = 0;
    svy_status st = svy_model_rewind(m, err);
    if (st)
        return st;
    mrow row;
    int k;
    while ((k = svy_model_next(m, &row, err)) > 0) {
        double pw = row.path.w * I->pwscale, y = row.y, eta, mu;
        svy_mmatrix_row(I->X, &row, I->x);
        if (!beta) {
            if (fam == SVY_FAMILY_LOGIT && !(y >= 0 && y <= 1)) {
                char nb[SVY_DTOA_MAX];
                svy_dtoa(y, nb);
                return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, m->f.vars[0].column,
                                   "Y %s holds %s: a logit needs values from 0 to 1 (R: \"y values must be 0 <= y <= "
                                   "1\")",
                                   m->f.vars[0].column, nb);
            }
            mu = fam == SVY_FAMILY_LINEAR ? y : (pw * y + 0.5) / (pw + 1);
            eta = fam == SVY_FAMILY_LINEAR ? mu : log(mu / (1 - mu));
            mu = svy_model_linkinv(fam, eta);
        } else {
            eta = 0;
            for (size_t j = 0; j < p; j++)
                eta += I->x[j] * beta[j];
            mu = svy_model_linkinv(fam, eta);
        }
        *dev += dev_resid(fam, y, mu, pw);
        double me = svy_model_mu_eta(fam, eta);
        if (!(pw > 0) || me == 0)
            continue;
        double W = sqrt(pw * me * me / variance(fam, mu)), z = eta + (y - mu) / me;
        for (size_t j = 0; j < p; j++)
            I->r[j] = W * I->x[j];
        I->r[p] = W * z;
        tri_add(&I->T, I->r);
    }
    return k < 0 ? err->code : SVY_OK;
}

/* The sandwich: scores x W_prev (y - mu)/mu'(eta) at the final beta, with
 * W from the solve's iterate (prev; NULL: the start), times (X'WX)^-1,
 * through the design's multistage variance. */
static svy_status sandwich(irls *I, const solve *S, const double *prev, mfit *fit, svy_err *err)
{
    svy_model *m = I->m;
    svy_family fam = m->family;
    size_t p = I->p, rank = S->rank;
    double *u = svy_calloc(rank + 1, sizeof *u), *z = svy_calloc(rank + 1, sizeof *z);
    double *Vr = svy_calloc(rank * rank + 1, sizeof *Vr);
    svy_vtot *v = svy_vtot_new(&m->dsn, rank, m->d.lonely, err);
    svy_status st = (!u || !z || !Vr) ? svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory")
                    : !v             ? err->code
                                     : svy_model_rewind(m, err);
    mrow row;
    int k = 0;
    fit->fitted01 = 0;
    while (st == SVY_OK && (k = svy_model_next(m, &row, err)) > 0) {
        double pw = row.path.w * I->pwscale, y = row.y, eta = 0, etap = 0;
        svy_mmatrix_row(I->X, &row, I->x);
        for (size_t j = 0; j < p; j++)
            eta += I->x[j] * S->beta[j];
        double mu = svy_model_linkinv(fam, eta), me = svy_model_mu_eta(fam, eta);
        if (fam == SVY_FAMILY_LOGIT && (mu > 1 - 10 * DBL_EPSILON || mu < 10 * DBL_EPSILON))
            fit->fitted01++;
        double mup;
        if (prev) {
            for (size_t j = 0; j < p; j++)
                etap += I->x[j] * prev[j];
            mup = svy_model_linkinv(fam, etap);
        } else {
            mup = fam == SVY_FAMILY_LINEAR ? y : (pw * y + 0.5) / (pw + 1);
            etap = fam == SVY_FAMILY_LINEAR ? mup : log(mup / (1 - mup));
            mup = svy_model_linkinv(fam, etap);
        }
        double mep = svy_model_mu_eta(fam, etap);
        double W = pw > 0 && mep != 0 ? pw * mep * mep / variance(fam, mup) : 0;
        double res = (y - mu) / me;
        for (size_t a = 0; a < rank; a++)
            u[a] = I->x[S->pivot[a]] * W * res;
        for (size_t b = 0; b < rank; b++) {
            double s = 0;
            for (size_t a = 0; a < rank; a++)
                s += u[a] * S->Ainv[a * rank + b];
            z[b] = s;
        }
        svy_vtot_add(v, &row.path, z);
    }
    if (st == SVY_OK && k < 0)
        st = err->code;
    if (st == SVY_OK && rank > 0)
        st = svy_vtot_cov(v, Vr, err);
    if (st == SVY_OK) {
        for (size_t i = 0; i < p * p; i++)
            fit->V[i] = NAN;
        for (size_t a = 0; a < rank; a++)
            for (size_t b = 0; b < rank; b++)
                fit->V[S->pivot[a] * p + S->pivot[b]] = Vr[a * rank + b];
        fit->design_df = svy_vtot_df(v);
    }
    svy_vtot_free(v);
    free(u);
    free(z);
    free(Vr);
    return st;
}

void svy_mfit_free(mfit *fit)
{
    free(fit->pivot);
    free(fit->beta);
    free(fit->V);
    free(fit->Ainv);
    memset(fit, 0, sizeof *fit);
}

svy_status svy_mfit_run(svy_model *m, const mmatrix *X, mfit *fit, svy_err *err)
{
    size_t p = X->p, q = p + 1;
    memset(fit, 0, sizeof *fit);
    irls I = {.m = m, .X = X, .p = p, .pwscale = (double)m->rows / m->wsum_all, .T = {.q = q}};
    solve cur = {0}, next = {0};
    double *prev = svy_calloc(p, sizeof *prev);
    I.T.R = svy_calloc(q * q, sizeof *I.T.R);
    I.x = svy_calloc(p + 1, sizeof *I.x);
    I.r = svy_calloc(q, sizeof *I.r);
    fit->p = p;
    fit->beta = svy_calloc(p, sizeof *fit->beta);
    fit->V = svy_calloc(p * p, sizeof *fit->V);
    fit->pivot = svy_calloc(p, sizeof *fit->pivot);
    svy_status st = SVY_OK;
    if (!prev || !I.T.R || !I.x || !I.r || !fit->beta || !fit->V || !fit->pivot || !solve_alloc(&cur, p) ||
        !solve_alloc(&next, p))
        st = svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    if (st == SVY_OK && !(m->wsum_all > 0))
        st = svy_err_set(err, SVY_E_DATA, NULL, 0, 0, NULL, "every weight is 0: no model can be fitted");
    double dev_old = 0, dev = 0, tol = fmin(1e-7, EPSILON / 1000);
    int have_prev = 0;
    if (st == SVY_OK && (st = pass(&I, NULL, &dev_old, err)) == SVY_OK && !solve_tri(&I.T, p, tol, &cur))
        st = svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    int iter = 1;
    while (st == SVY_OK) {
        if ((st = pass(&I, cur.beta, &dev, err)))
            break;
        if (!isfinite(dev)) {
            st = svy_err_set(err, SVY_E_DATA, NULL, 0, 0, NULL,
                             "the fit diverged (deviance not finite after %d iterations)", iter);
            break;
        }
        if (fabs(dev - dev_old) / (fabs(dev) + 0.1) < EPSILON) {
            fit->converged = 1;
            break;
        }
        if (iter == MAXIT)
            break;
        if (!solve_tri(&I.T, p, tol, &next)) {
            st = svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
            break;
        }
        memcpy(prev, cur.beta, p * sizeof *prev);
        have_prev = 1;
        solve t = cur;
        cur = next;
        next = t;
        dev_old = dev;
        iter++;
    }
    fit->iter = iter;
    if (st == SVY_OK)
        st = sandwich(&I, &cur, have_prev ? prev : NULL, fit, err);
    if (st == SVY_OK) {
        fit->rank = cur.rank;
        for (size_t j = 0; j < p; j++)
            fit->beta[j] = cur.beta[j];
        for (size_t a = cur.rank; a < p; a++)
            fit->beta[cur.pivot[a]] = NAN;
        memcpy(fit->pivot, cur.pivot, p * sizeof *fit->pivot);
        fit->df = fit->design_df + 1 - (double)cur.rank;
        fit->Ainv = cur.Ainv;
        cur.Ainv = NULL;
    }
    solve_free(&cur);
    solve_free(&next);
    free(prev);
    free(I.T.R);
    free(I.x);
    free(I.r);
    return st;
}
