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
 * The model matrix is spooled once (y, pw, x: 8 (p + 2) bytes a row), and
 * each iteration reads it once: X'WX is never formed; blocks of 64 rows of
 * sqrt(W) [X z] are folded into a (p+1) x (p+1) triangle by Householder
 * reflections (a QR of the whole n x p matrix, as R's, so the precision is
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
#include <survey/outfile.h>

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

enum { BLOCK = 64 };

typedef struct tri {
    size_t q;   /* p + 1 */
    double *R;  /* q x q, row-major, upper */
    double *blk;/* BLOCK rows, column-major (q columns of BLOCK) */
    size_t nb;
} tri;

/* Fold the rows of the block into R: Householder on [R; block], column by
 * column; only R's row j and the block are nonzero in column j, so each
 * reflection touches them alone (a QR of the stacked rows, as accurate as
 * one of the whole matrix). */
static void axpy64(double *restrict y, const double *restrict x, double a)
{
    for (size_t i = 0; i < BLOCK; i++)
        y[i] -= a * x[i];
}

typedef double v2d __attribute__((vector_size(16)));

/* Two-lane partial sums over a fixed 64 (GCC and Clang vector extensions):
 * the reduction the compiler will not vectorize by itself at -O2. */
static double dot64(const double *restrict a, const double *restrict b)
{
    v2d s0 = {0, 0}, s1 = {0, 0};
    for (size_t i = 0; i < BLOCK; i += 4) {
        v2d x0, y0, x1, y1;
        memcpy(&x0, a + i, sizeof x0);
        memcpy(&y0, b + i, sizeof y0);
        memcpy(&x1, a + i + 2, sizeof x1);
        memcpy(&y1, b + i + 2, sizeof y1);
        s0 += x0 * y0;
        s1 += x1 * y1;
    }
    v2d t = s0 + s1;
    return t[0] + t[1];
}

static void tri_fold(tri *T)
{
    size_t q = T->q, nb = T->nb;
    double *B = T->blk;
    if (nb == 0)
        return;
    if (nb < BLOCK) /* rows of zeros change nothing */
        for (size_t j = 0; j < q; j++)
            memset(B + j * BLOCK + nb, 0, (BLOCK - nb) * sizeof *B);
    for (size_t j = 0; j < q; j++) {
        double *bj = B + j * BLOCK, a = T->R[j * q + j], s = dot64(bj, bj);
        if (s == 0)
            continue;
        double nrm = sqrt(a * a + s), alpha = a > 0 ? -nrm : nrm; /* new R_jj, no cancellation in v0 */
        double v0 = a - alpha, tau = -v0 / alpha; /* H = I - tau v v', v = (1, bj / v0) */
        double inv = 1 / v0;
        for (size_t i = 0; i < BLOCK; i++)
            bj[i] *= inv;
        T->R[j * q + j] = alpha;
        for (size_t k = j + 1; k < q; k++) {
            double *bk = B + k * BLOCK, d = (T->R[j * q + k] + dot64(bj, bk)) * tau;
            T->R[j * q + k] -= d;
            axpy64(bk, bj, d);
        }
    }
    T->nb = 0;
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

static int back_solve(const double *a, const double *b, size_t p, solve *S);

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
    S->rank = k < p ? k : p;
    int ok = back_solve(a, b, p, S);
    free(a);
    free(b);
    free(orig);
    return ok;
}

/* beta from R[0:rank, 0:rank] beta = b (a: R column-major, p rows), and
 * (R'R)^-1 = R^-1 R^-T. */
static int back_solve(const double *a, const double *b, size_t p, solve *S)
{
    size_t rank = S->rank;
    memset(S->beta, 0, p * sizeof *S->beta);
    double *bp = svy_calloc(rank + 1, sizeof *bp);
    double *Rinv = svy_calloc(rank * rank + 1, sizeof *Rinv);
    if (!bp || !Rinv) {
        free(bp);
        free(Rinv);
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
    FILE *xs;         /* the model matrix: y, pw, x (p) per row */
    double *buf;      /* XCHUNK records read at a time */
    size_t reclen;    /* doubles per record */
} irls;

enum { XCHUNK = 1024 };

/* mu and mu'(eta) from one exp(), bit for bit what R's logit_linkinv and
 * logit_mu_eta give. */
static inline void link2(svy_family f, double eta, double *mu, double *me)
{
    if (f == SVY_FAMILY_LINEAR) {
        *mu = eta;
        *me = 1;
        return;
    }
    double e = exp(eta), tmp = eta < MTHRESH ? DBL_EPSILON : eta > THRESH ? 1 / DBL_EPSILON : e, opexp = 1 + e;
    *mu = tmp / (1 + tmp);
    *me = eta > THRESH || eta < MTHRESH ? DBL_EPSILON : e / (opexp * opexp);
}

/* The start, R's family$initialize then linkinv(linkfun(mustart)). */
static inline double start_eta(svy_family f, double y, double pw)
{
    if (f == SVY_FAMILY_LINEAR)
        return y;
    double mu = (pw * y + 0.5) / (pw + 1);
    return log(mu / (1 - mu));
}

/* Rows of the model matrix into the triangle: eta at beta (NULL: R's
 * start), the deviance of the rows returned. */
static double fold_chunk(irls *I, const double *beta, size_t n)
{
    svy_family fam = I->m->family;
    size_t p = I->p, rl = I->reclen;
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        const double *rec = I->buf + i * rl, *x = rec + 2;
        double y = rec[0], pw = rec[1], eta, mu, me;
        if (!beta) {
            eta = start_eta(fam, y, pw);
        } else {
            eta = 0;
            for (size_t j = 0; j < p; j++)
                eta += x[j] * beta[j];
        }
        link2(fam, eta, &mu, &me);
        d += dev_resid(fam, y, mu, pw);
        if (!(pw > 0) || me == 0)
            continue;
        double W = sqrt(pw * me * me / variance(fam, mu)), z = eta + (y - mu) / me;
        double *r = I->T.blk + I->T.nb;
        for (size_t j = 0; j < p; j++)
            r[j * BLOCK] = W * x[j];
        r[p * BLOCK] = W * z;
        if (++I->T.nb == BLOCK)
            tri_fold(&I->T);
    }
    return d;
}

static void tri_clear(irls *I)
{
    memset(I->T.R, 0, I->T.q * I->T.q * sizeof *I->T.R);
    I->T.nb = 0;
}

/* The model matrix once, so that the iterations read numbers only; the
 * start's deviance and triangle on the way. */
static svy_status write_xspool(irls *I, double *dev, svy_err *err)
{
    svy_model *m = I->m;
    svy_status st = svy_tmpfile(&I->xs, err);
    if (st == SVY_OK)
        st = svy_model_rewind(m, err);
    mrow row;
    int k = 0;
    size_t n = 0, rl = I->reclen;
    double d = 0;
    tri_clear(I);
    while (st == SVY_OK && (k = svy_model_next(m, &row, err)) > 0) {
        double *rec = I->buf + n * rl;
        svy_model_count_levels(m, &row);
        rec[0] = row.y;
        rec[1] = row.path.w * I->pwscale;
        svy_mmatrix_row(I->X, &row, rec + 2);
        if (m->family == SVY_FAMILY_LOGIT && !(row.y >= 0 && row.y <= 1)) {
            char nb[SVY_DTOA_MAX];
            svy_dtoa(row.y, nb);
            return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, m->f.vars[0].column,
                               "Y %s holds %s: a logit needs values from 0 to 1 (R: \"y values must be 0 <= y <= "
                               "1\")",
                               m->f.vars[0].column, nb);
        }
        if (++n == XCHUNK) {
            d += fold_chunk(I, NULL, n);
            if (fwrite(I->buf, sizeof *I->buf * rl, n, I->xs) != n)
                return svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot spool the model matrix");
            n = 0;
        }
    }
    if (st == SVY_OK && k < 0)
        st = err->code;
    if (st == SVY_OK && n) {
        d += fold_chunk(I, NULL, n);
        if (fwrite(I->buf, sizeof *I->buf * rl, n, I->xs) != n)
            st = svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot spool the model matrix");
    }
    tri_fold(&I->T);
    *dev = d;
    return st;
}

/* One pass: the deviance at beta and the triangle of the next solve. */
static svy_status pass(irls *I, const double *beta, double *dev, svy_err *err)
{
    size_t n;
    double d = 0;
    tri_clear(I);
    if (fflush(I->xs) != 0 || fseek(I->xs, 0, SEEK_SET) != 0)
        return svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot rewind the spool of the model matrix");
    while ((n = fread(I->buf, sizeof *I->buf * I->reclen, XCHUNK, I->xs)) > 0)
        d += fold_chunk(I, beta, n);
    if (ferror(I->xs))
        return svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot read the spool of the model matrix");
    tri_fold(&I->T);
    *dev = d;
    return SVY_OK;
}

/* The sandwich's rows: scores x W_prev (y - mu)/mu'(eta) at the final
 * beta, with W from the solve's iterate (prev; NULL: the start), times
 * (X'WX)^-1. */
typedef struct sctx {
    irls *I;
    const solve *S;
    const double *prev;
    double *u;
    long long fitted01;
} sctx;

static void score_row(void *ctx, mrow *row, double *z, int last)
{
    sctx *c = ctx;
    irls *I = c->I;
    const solve *S = c->S;
    svy_family fam = I->m->family;
    size_t p = I->p, rank = S->rank;
    double pw = row->path.w * I->pwscale, y = row->y, eta = 0, etap = 0;
    svy_mmatrix_row(I->X, row, I->x);
    for (size_t j = 0; j < p; j++)
        eta += I->x[j] * S->beta[j];
    double mu, me;
    link2(fam, eta, &mu, &me);
    if (last && fam == SVY_FAMILY_LOGIT && (mu > 1 - 10 * DBL_EPSILON || mu < 10 * DBL_EPSILON))
        c->fitted01++;
    double mup, mep;
    if (c->prev) {
        for (size_t j = 0; j < p; j++)
            etap += I->x[j] * c->prev[j];
    } else {
        etap = start_eta(fam, y, pw);
    }
    link2(fam, etap, &mup, &mep);
    double W = pw > 0 && mep != 0 ? pw * mep * mep / variance(fam, mup) : 0;
    double res = (y - mu) / me;
    for (size_t a = 0; a < rank; a++)
        c->u[a] = I->x[S->pivot[a]] * W * res;
    for (size_t b = 0; b < rank; b++) {
        double s = 0;
        for (size_t a = 0; a < rank; a++)
            s += c->u[a] * S->Ainv[a * rank + b];
        z[b] = s;
    }
}

/* The sandwich through the design's multistage variance (with the
 * calibration residuals when the weights were calibrated). */
static svy_status sandwich(irls *I, const solve *S, const double *prev, mfit *fit, svy_err *err)
{
    size_t p = I->p, rank = S->rank;
    sctx c = {.I = I, .S = S, .prev = prev, .u = svy_calloc(rank + 1, sizeof *c.u)};
    double *Vr = svy_calloc(rank * rank + 1, sizeof *Vr);
    svy_status st = (!c.u || !Vr) ? svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory")
                                  : svy_model_vcov_of(I->m, rank, score_row, &c, Vr, &fit->design_df, err);
    fit->fitted01 = c.fitted01;
    if (st == SVY_OK) {
        for (size_t i = 0; i < p * p; i++)
            fit->V[i] = NAN;
        for (size_t a = 0; a < rank; a++)
            for (size_t b = 0; b < rank; b++)
                fit->V[S->pivot[a] * p + S->pivot[b]] = Vr[a * rank + b];
    }
    free(c.u);
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

/* glm's prior weights: w / mean(w) over the design's rows; after a
 * subpopulation R's `[` drops the other rows, unless the design is
 * calibrated: then they stay with weight 0 and count in the mean.
 * svypredmeans refits on the fit's design, design[-nas, ]: on a calibrated
 * design the rows with a missing value are there too, with weight 0. */
static double pw_scale(const svy_model *m)
{
    if (m->cal)
        return (double)m->rows / (m->margins_refit ? m->wsum_used : m->wsum_all);
    return (double)m->subpop_rows / m->wsum_all;
}

svy_status svy_mfit_run(svy_model *m, const mmatrix *X, mfit *fit, svy_err *err)
{
    size_t p = X->p, q = p + 1;
    memset(fit, 0, sizeof *fit);
    irls I = {.m = m, .X = X, .p = p, .pwscale = pw_scale(m), .T = {.q = q}, .reclen = p + 2};
    solve cur = {0}, next = {0};
    double *prev = svy_calloc(p, sizeof *prev);
    I.T.R = svy_calloc(q * q, sizeof *I.T.R);
    I.T.blk = svy_calloc(q * BLOCK, sizeof *I.T.blk);
    I.buf = svy_calloc(XCHUNK * I.reclen, sizeof *I.buf);
    I.x = svy_calloc(p + 1, sizeof *I.x);
    I.r = svy_calloc(q, sizeof *I.r);
    fit->p = p;
    fit->beta = svy_calloc(p, sizeof *fit->beta);
    fit->V = svy_calloc(p * p, sizeof *fit->V);
    fit->pivot = svy_calloc(p, sizeof *fit->pivot);
    svy_status st = SVY_OK;
    if (!prev || !I.T.R || !I.T.blk || !I.buf || !I.x || !I.r || !fit->beta || !fit->V || !fit->pivot || !solve_alloc(&cur, p) ||
        !solve_alloc(&next, p))
        st = svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    if (st == SVY_OK && !(m->wsum_all > 0))
        st = svy_err_set(err, SVY_E_DATA, NULL, 0, 0, NULL, "every weight is 0: no model can be fitted");
    double dev_old = 0, dev = 0, tol = fmin(1e-7, EPSILON / 1000);
    int have_prev = 0;
    if (st == SVY_OK && (st = write_xspool(&I, &dev_old, err)) == SVY_OK && !solve_tri(&I.T, p, tol, &cur))
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
    free(I.T.blk);
    free(I.buf);
    if (I.xs)
        fclose(I.xs);
    free(I.x);
    free(I.r);
    return st;
}
