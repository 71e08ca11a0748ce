/* Quantiles of a domain and their Woodruff intervals (quantile_private.h).
 * R's source is the specification: survey:::qrule_math, survey:::qs,
 * survey:::woodruffCI, survey:::svyquantile.survey.design. */
#include "svy_private.h"
#include "quantile_private.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <survey/estimate.h>

/* Stable bottom-up merge sort by x: R's order() keeps ties in input order,
 * and the running sums (so the ties' boundaries) depend on that order. */
static void sort_stable(svy_qpair *v, size_t n, svy_qpair *tmp)
{
    svy_qpair *a = v, *b = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                b[k++] = a[j].x < a[i].x ? a[j++] : a[i++];
            while (i < mid)
                b[k++] = a[i++];
            while (j < hi)
                b[k++] = a[j++];
        }
        svy_qpair *t = a;
        a = b;
        b = t;
    }
    if (a != v)
        memcpy(v, a, n * sizeof *v);
}

/* The order key of x: its bits, sign flipped for x >= 0 and all flipped for
 * x < 0, so that unsigned order is numeric order; -0 is keyed as +0 (they
 * compare equal, as in the merge's <). */
static uint64_t qkey(double x)
{
    uint64_t k;
    x = x == 0 ? 0.0 : x;
    memcpy(&k, &x, sizeof k);
    return k >> 63 ? ~k : k | (uint64_t)1 << 63;
}

/* Stable LSD radix sort by qkey(x), byte by byte, skipping the bytes that
 * all keys share: the same order as sort_stable (ties keep input order). */
static void sort_radix(svy_qpair *v, size_t n, svy_qpair *tmp)
{
    size_t cnt[8][256];
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = qkey(v[i].x);
        for (int b = 0; b < 8; b++)
            cnt[b][(k >> (8 * b)) & 255]++;
    }
    svy_qpair *a = v, *o = tmp;
    for (int b = 0; b < 8; b++) {
        size_t *c = cnt[b], at = 0;
        if (c[(qkey(a[0].x) >> (8 * b)) & 255] == n)
            continue; /* one bucket: the pass keeps the order */
        for (int d = 0; d < 256; d++) {
            size_t m = c[d];
            c[d] = at;
            at += m;
        }
        for (size_t i = 0; i < n; i++)
            o[c[(qkey(a[i].x) >> (8 * b)) & 255]++] = a[i];
        svy_qpair *t = a;
        a = o;
        o = t;
    }
    if (a != v)
        memcpy(v, a, n * sizeof *v);
}

svy_status svy_qdomain_prepare(svy_qpair *v, size_t *n, svy_qpair *tmp, double *total, svy_err *err)
{
    size_t m = 0;
    long double sum = 0;
    for (size_t i = 0; i < *n; i++) {
        if (isnan(v[i].x) || !(v[i].w >= 0) || isinf(v[i].w))
            return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, NULL,
                               "quantile: value %g with weight %g (values must be numbers, weights finite and >= 0)",
                               v[i].x, v[i].w);
        if (v[i].w == 0)
            continue;
        sum += v[i].w;
        v[m++] = v[i];
    }
    *n = m;
    *total = (double)sum;
    if (m < 2048) /* below it the merge's passes cost less than the radix's */
        sort_stable(v, m, tmp);
    else
        sort_radix(v, m, tmp);
    long double run = 0;
    for (size_t i = 0; i < m; i++) {
        run += v[i].w;
        v[i].w = (double)run;
    }
    return SVY_OK;
}

double svy_qrule_math(const svy_qpair *v, size_t n, double total, double p)
{
    if (n == 0 || isnan(p) || p < 0 || p > 1)
        return NAN;
    double cut = p * total;
    /* cumw is non-decreasing: the last j with cumw_j <= cut by bisection */
    size_t lo = 0, hi = n; /* answer + 1 in [lo, hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].w <= cut)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t pos = lo ? lo - 1 : 0; /* R's last(): the first when none */
    if (p - v[pos].w / total == 0)
        return v[pos].x;
    return v[pos + 1 < n ? pos + 1 : pos].x;
}

void svy_woodruff(const svy_qpair *v, size_t n, double total, double Fhat, double se_F, double df, double level,
                  svy_quantile_ci *out)
{
    /* R: confint(m, level = 1 - alpha, df) -> a = (1 - level)/2, qt(c(a, 1 - a)) */
    double a = (1 - level) / 2;
    double L = Fhat + se_F * svy_qt(a, df), U = Fhat + se_F * svy_qt(1 - a, df);
    out->ci_low = isnan(L) || L < 0 ? NAN : svy_qrule_math(v, n, total, L);
    out->ci_high = isnan(U) || U > 1 ? NAN : svy_qrule_math(v, n, total, U);
    out->se = (out->ci_high - out->ci_low) / (2 * svy_qt(1 - a, df));
}
