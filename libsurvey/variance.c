/* The design-based variance kernel (see variance_private.h). */
#include "svy_private.h"
#include "variance_private.h"

#include <math.h>
#include <string.h>

void svy_vgroup_begin(svy_vgroup *g, size_t p, double *sum)
{
    g->p = p;
    g->sum = sum;
    g->nstrat = g->nok = 0;
    memset(sum, 0, p * p * sizeof *sum);
}

/* R's onestrat: the g < 1e-7 test comes first, so a stratum sampled
 * completely is never lonely. */
int svy_vgroup_add(svy_vgroup *g, const double *ss, const double *uu, double n, double gf, svy_lonely rule)
{
    size_t pp = g->p * g->p;
    g->nstrat++;
    if (gf < 1e-7) {
        g->nok++;
        return 0;
    }
    if (n > 1) {
        double scale = gf * n / (n - 1);
        for (size_t i = 0; i < pp; i++)
            g->sum[i] += scale * ss[i];
        g->nok++;
        return 0;
    }
    switch (rule) {
    case SVY_LONELY_FAIL:
        return -1;
    case SVY_LONELY_ADJUST:
        for (size_t i = 0; i < pp; i++)
            g->sum[i] += gf * uu[i];
        g->nok++;
        return 0;
    case SVY_LONELY_AVERAGE:
        return 1;
    case SVY_LONELY_REMOVE:
    case SVY_LONELY_CERTAINTY:
    default:
        g->nok++; /* the lone unit, centred on itself, adds 0 */
        return 0;
    }
}

void svy_vgroup_end(const svy_vgroup *g, double F, double *V)
{
    size_t pp = g->p * g->p;
    if (g->nstrat == 0)
        return;
    if (g->nok == 0) {
        for (size_t i = 0; i < pp; i++)
            V[i] = NAN;
        return;
    }
    double scale = F * (double)g->nstrat / (double)g->nok;
    for (size_t i = 0; i < pp; i++)
        V[i] += scale * g->sum[i];
}

void svy_vss_units(const double *z, size_t k, size_t p, double n, double *ss, double *uu)
{
    memset(ss, 0, p * p * sizeof *ss);
    memset(uu, 0, p * p * sizeof *uu);
    for (size_t a = 0; a < p; a++) {
        double mean_a = 0;
        for (size_t i = 0; i < k; i++)
            mean_a += z[i * p + a];
        mean_a /= n;
        for (size_t b = 0; b <= a; b++) {
            double mean_b = 0;
            for (size_t i = 0; i < k; i++)
                mean_b += z[i * p + b];
            mean_b /= n;
            double s = 0, u = 0;
            for (size_t i = 0; i < k; i++) {
                double za = z[i * p + a], zb = z[i * p + b];
                s += (za - mean_a) * (zb - mean_b);
                u += za * zb;
            }
            s += (n - (double)k) * mean_a * mean_b; /* the absent units, Z = 0 */
            ss[a * p + b] = ss[b * p + a] = s;
            uu[a * p + b] = uu[b * p + a] = u;
        }
    }
}

svy_vgroup_stats svy_vstats_merge(svy_vgroup_stats a, svy_vgroup_stats b)
{
    if (a.k == 0)
        return b;
    if (b.k == 0)
        return a;
    double k = a.k + b.k;
    double d = a.s / a.k - b.s / b.k;
    return (svy_vgroup_stats){k, a.s + b.s, a.m + b.m + d * d * (a.k * b.k / k)};
}

svy_vgroup_stats svy_vstats_from_shifted(double k, double x0, double d1, double d2)
{
    if (k == 0)
        return (svy_vgroup_stats){0, 0, 0};
    double m = d2 - d1 * d1 / k;
    return (svy_vgroup_stats){k, k * x0 + d1, m > 0 ? m : 0};
}

/* Sum of squares of the rows' own values, without cancellation. */
static double sum_sq(svy_vgroup_stats g)
{
    return g.k > 0 ? g.m + g.s * (g.s / g.k) : 0;
}

void svy_vss_groups(svy_vgroup_stats g1, svy_vgroup_stats g0, double alpha, double beta, double n, double *ss,
                    double *uu)
{
    double k = g1.k + g0.k;
    if (k == 0) {
        *ss = *uu = 0;
        return;
    }
    /* Centred co-moments of (P, Q) over the present rows: P is w in
     * group 1 and 0 in group 0, Q the other way round. */
    double cpp = g1.k > 0 ? g1.m + g1.s * g1.s * (g0.k / (g1.k * k)) : 0;
    double cqq = g0.k > 0 ? g0.m + g0.s * g0.s * (g1.k / (g0.k * k)) : 0;
    double cpq = -g1.s * (g0.s / k);
    double present = alpha * alpha * cpp + 2 * alpha * beta * cpq + beta * beta * cqq;
    if (present < 0)
        present = 0;
    double zbar = (alpha * g1.s + beta * g0.s) / k;
    *ss = present + k * (n - k) / n * zbar * zbar;
    *uu = alpha * alpha * sum_sq(g1) + beta * beta * sum_sq(g0);
}

void svy_vss_comoments(double k, double A, double B, double Caa, double Cab, double Cbb, double alpha, double beta,
                       double n, double *ss, double *uu)
{
    if (k == 0) {
        *ss = *uu = 0;
        return;
    }
    double present = alpha * alpha * Caa + 2 * alpha * beta * Cab + beta * beta * Cbb;
    if (present < 0)
        present = 0;
    double zbar = alpha * (A / k) + beta * (B / k);
    *ss = present + k * (n - k) / n * zbar * zbar;
    *uu = present + k * zbar * zbar;
}
