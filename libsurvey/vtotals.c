/* The design covariance of p totals (see vtotals_private.h). */
#include "svy_private.h"
#include "vtotals_private.h"
#include "variance_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One stage in the variance. */
typedef struct vstage {
    int rows;            /* its units are single rows: co-moments per stratum */
    size_t nunits, nstrata;
    double *tot;         /* stored units: nunits x p totals */
    unsigned char *upres;/* stored units: holds a row added */
    double *k, *mean, *m2; /* rows as units: per stratum count, p means, p x p co-moments */
    unsigned char *spres;/* stratum holds a row added */
    size_t *uorder, *ustart; /* stored units by stratum: uorder[ustart[h]..ustart[h+1]) */
    size_t *sorder, *sstart; /* strata by their parent unit (stage >= 2) */
    size_t maxk;         /* most units in one stratum */
} vstage;

struct svy_vtot {
    const svy_dsn *d;
    size_t p, nvar;
    svy_lonely rule;
    vstage st[SVY_STAGES_MAX];
    unsigned char *nzunit, *nzstrat; /* stage 1: units and strata with a row of nonzero weight */
    double nzrows;                   /* stage 1 units are rows: rows of nonzero weight */
    double *zbuf, *ss, *uu, *sum, *delta;
};

/* idx sorted by key (counting sort): order[start[k]..start[k+1]) hold the
 * items of key k. */
static int bucket(size_t nitems, size_t nkeys, const uint32_t *key, size_t **order, size_t **start)
{
    *order = svy_calloc(nitems + 1, sizeof **order);
    *start = svy_calloc(nkeys + 2, sizeof **start);
    if (!*order || !*start)
        return 0;
    for (size_t i = 0; i < nitems; i++)
        (*start)[key[i] + 1]++;
    for (size_t k = 0; k < nkeys; k++)
        (*start)[k + 1] += (*start)[k];
    size_t *fill = svy_calloc(nkeys + 1, sizeof *fill);
    if (!fill)
        return 0;
    for (size_t i = 0; i < nitems; i++) {
        uint32_t k = key[i];
        (*order)[(*start)[k] + fill[k]++] = i;
    }
    free(fill);
    return 1;
}

void svy_vtot_free(svy_vtot *v)
{
    if (!v)
        return;
    for (size_t s = 0; s < SVY_STAGES_MAX; s++) {
        vstage *S = &v->st[s];
        free(S->tot);
        free(S->upres);
        free(S->k);
        free(S->mean);
        free(S->m2);
        free(S->spres);
        free(S->uorder);
        free(S->ustart);
        free(S->sorder);
        free(S->sstart);
    }
    free(v->nzunit);
    free(v->nzstrat);
    free(v->zbuf);
    free(v->ss);
    free(v->uu);
    free(v->sum);
    free(v->delta);
    free(v);
}

static svy_vtot *fail(svy_vtot *v, svy_err *err)
{
    svy_vtot_free(v);
    svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    return NULL;
}

svy_vtot *svy_vtot_new(const svy_dsn *d, size_t p, svy_lonely rule, svy_err *err)
{
    svy_vtot *v = calloc(1, sizeof *v);
    if (!v)
        return fail(v, err);
    v->d = d;
    v->p = p;
    v->rule = rule;
    v->nvar = d->nvar;
    size_t maxk = 1, pp = p * p;
    for (size_t s = 0; s < v->nvar; s++) {
        const svy_dstage *D = &d->st[s];
        vstage *S = &v->st[s];
        S->rows = d->rows_last && s + 1 == d->nstage;
        S->nstrata = D->nstrata;
        S->nunits = D->nunits;
        if (!(S->spres = svy_calloc(S->nstrata, 1)))
            return fail(v, err);
        if (S->rows) {
            S->k = svy_calloc(S->nstrata, sizeof *S->k);
            S->mean = svy_calloc(S->nstrata, p * sizeof *S->mean);
            S->m2 = svy_calloc(S->nstrata, pp * sizeof *S->m2);
            if (!S->k || !S->mean || !S->m2)
                return fail(v, err);
        } else {
            S->tot = svy_calloc(S->nunits, p * sizeof *S->tot);
            S->upres = svy_calloc(S->nunits, 1);
            uint32_t *key = svy_calloc(S->nunits, sizeof *key);
            for (size_t u = 0; key && u < S->nunits; u++)
                key[u] = D->units[u].stratum;
            int ok = key && bucket(S->nunits, S->nstrata, key, &S->uorder, &S->ustart);
            free(key);
            if (!S->tot || !S->upres || !ok)
                return fail(v, err);
            for (size_t h = 0; h < S->nstrata; h++)
                if (S->ustart[h + 1] - S->ustart[h] > maxk)
                    maxk = S->ustart[h + 1] - S->ustart[h];
        }
        if (s > 0) {
            uint32_t *key = svy_calloc(S->nstrata, sizeof *key);
            for (size_t h = 0; key && h < S->nstrata; h++)
                key[h] = D->strata[h].parent;
            int ok = key && bucket(S->nstrata, d->st[s - 1].nunits, key, &S->sorder, &S->sstart);
            free(key);
            if (!ok)
                return fail(v, err);
        }
    }
    v->nzstrat = svy_calloc(d->st[0].nstrata, 1);
    v->nzunit = svy_calloc(d->st[0].nunits, 1);
    v->zbuf = svy_calloc(maxk, p * sizeof *v->zbuf);
    v->ss = svy_calloc(pp, sizeof *v->ss);
    v->uu = svy_calloc(pp, sizeof *v->uu);
    v->sum = svy_calloc(pp, sizeof *v->sum);
    v->delta = svy_calloc(p, sizeof *v->delta);
    if (!v->nzstrat || !v->nzunit || !v->zbuf || !v->ss || !v->uu || !v->sum || !v->delta)
        return fail(v, err);
    return v;
}

size_t svy_vtot_p(const svy_vtot *v)
{
    return v->p;
}

void svy_vtot_reset(svy_vtot *v)
{
    size_t p = v->p;
    for (size_t s = 0; s < v->nvar; s++) {
        vstage *S = &v->st[s];
        memset(S->spres, 0, S->nstrata);
        if (S->rows) {
            memset(S->k, 0, S->nstrata * sizeof *S->k);
            memset(S->mean, 0, S->nstrata * p * sizeof *S->mean);
            memset(S->m2, 0, S->nstrata * p * p * sizeof *S->m2);
        } else {
            memset(S->tot, 0, S->nunits * p * sizeof *S->tot);
            memset(S->upres, 0, S->nunits);
        }
    }
    memset(v->nzstrat, 0, v->d->st[0].nstrata);
    memset(v->nzunit, 0, v->d->st[0].nunits);
    v->nzrows = 0;
}

void svy_vtot_add(svy_vtot *v, const svy_dpath *path, const double *z)
{
    size_t p = v->p;
    for (size_t s = 0; s < v->nvar; s++) {
        vstage *S = &v->st[s];
        uint32_t h = path->stratum[s];
        S->spres[h] = 1;
        if (S->rows) {
            /* Welford: no cancellation however large the totals */
            double k = ++S->k[h], *mean = S->mean + h * p, *m2 = S->m2 + h * p * p;
            for (size_t a = 0; a < p; a++) {
                v->delta[a] = z[a] - mean[a];
                mean[a] += v->delta[a] / k;
            }
            for (size_t a = 0; a < p; a++)
                for (size_t b = 0; b <= a; b++)
                    m2[a * p + b] += v->delta[a] * (z[b] - mean[b]);
        } else {
            uint32_t u = path->unit[s];
            double *t = S->tot + (size_t)u * p;
            for (size_t a = 0; a < p; a++)
                t[a] += z[a];
            S->upres[u] = 1;
        }
    }
    if (path->w != 0) {
        v->nzstrat[path->stratum[0]] = 1;
        if (path->unit[0] == SVY_DSN_NOUNIT)
            v->nzrows++;
        else
            v->nzunit[path->unit[0]] = 1;
    }
}

double svy_vtot_df(const svy_vtot *v)
{
    double units = v->nzrows, strata = 0;
    for (size_t u = 0; u < v->d->st[0].nunits; u++)
        units += v->nzunit[u];
    for (size_t h = 0; h < v->d->st[0].nstrata; h++)
        strata += v->nzstrat[h];
    return units - strata;
}

/* ss and uu of stratum h of stage s over its n design units. */
static void stratum_ss(svy_vtot *v, size_t s, size_t h, double n)
{
    vstage *S = &v->st[s];
    size_t p = v->p;
    if (S->rows) {
        double k = S->k[h], *mean = S->mean + h * p, *m2 = S->m2 + h * p * p;
        for (size_t a = 0; a < p; a++)
            for (size_t b = 0; b <= a; b++) {
                double mm = mean[a] * mean[b];
                v->ss[a * p + b] = v->ss[b * p + a] = m2[a * p + b] + k * (n - k) / n * mm;
                v->uu[a * p + b] = v->uu[b * p + a] = m2[a * p + b] + k * mm;
            }
        return;
    }
    size_t k = 0;
    for (size_t i = S->ustart[h]; i < S->ustart[h + 1]; i++) {
        size_t u = S->uorder[i];
        if (S->upres[u])
            memcpy(v->zbuf + k++ * p, S->tot + u * p, p * sizeof *v->zbuf);
    }
    svy_vss_units(v->zbuf, k, p, n, v->ss, v->uu);
}

static svy_status add_stratum(svy_vtot *v, svy_vgroup *g, size_t s, size_t h, svy_err *err)
{
    const svy_dstratum *T = &v->d->st[s].strata[h];
    stratum_ss(v, s, h, (double)T->n);
    if (svy_vgroup_add(g, v->ss, v->uu, (double)T->n, T->g, v->rule) < 0)
        return svy_dsn_lonely_error(v->d, s, (uint32_t)h, 1, err);
    return SVY_OK;
}

svy_status svy_vtot_cov(svy_vtot *v, double *V, svy_err *err)
{
    size_t p = v->p;
    svy_status st;
    memset(V, 0, p * p * sizeof *V);
    svy_vgroup g;
    svy_vgroup_begin(&g, p, v->sum);
    vstage *S0 = &v->st[0];
    for (size_t h = 0; h < S0->nstrata; h++)
        if (S0->spres[h] && (st = add_stratum(v, &g, 0, h, err)))
            return st;
    svy_vgroup_end(&g, 1, V);
    for (size_t s = 1; s < v->nvar; s++) {
        vstage *S = &v->st[s];
        const svy_dstage *D = &v->d->st[s];
        for (size_t P = 0; P < v->st[s - 1].nunits; P++) {
            if (S->sstart[P] == S->sstart[P + 1])
                continue;
            svy_vgroup_begin(&g, p, v->sum);
            double F = D->strata[S->sorder[S->sstart[P]]].F;
            for (size_t i = S->sstart[P]; i < S->sstart[P + 1]; i++) {
                size_t h = S->sorder[i];
                if (S->spres[h] && (st = add_stratum(v, &g, s, h, err)))
                    return st;
            }
            svy_vgroup_end(&g, F, V);
        }
    }
    return SVY_OK;
}
