/* Replicate weights from svy_weight's cells (see survey/weight_rep.h).
 *
 * A row's replicate weight is w0 * m_r(PSU) * F_r(cell): m_r is the
 * replicate's PSU multiplier (R's jk1weights, jknweights, bootweights) and
 * F_r the product of the replicate's own nonresponse and raking factors.
 * The first pass keeps the sum of starting weights of each (cell, PSU)
 * pair; a replicate's cell totals are sums of m_r * those.  Raking follows
 * R's rake() on a replicate design: every replicate gets as many sweeps as
 * the full sample's first rake needed and is not checked for convergence.
 * With trimming, weight_rep_trim.c then trims each replicate. */
#include "weight_private.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <survey/weight_rep.h>

#include "weight_rep_private.h"


svy_wrep *svy_wrep_new(void)
{
    svy_wrep *r = svy_calloc(1, sizeof *r);
    if (r) {
        r->type = SVY_REP_JKN;
        r->strata_idx = r->psu_idx = r->fpc_idx = -1;
    }
    return r;
}

void svy_wrep_free(svy_wrep *r)
{
    if (!r)
        return;
    free(r->strata_col);
    free(r->psu_col);
    free(r->fpc_col);
    svy_strtab_free(&r->strata);
    svy_strtab_free(&r->psus);
    svy_strtab_free(&r->pairs);
    free(r->sfpc);
    free(r->sfirst);
    free(r->sn);
    free(r->pstrat);
    free(r->psum);
    free(r->key);
    free(r->rscale);
    free(r->del);
    free(r->mult);
    free(r->fac);
    svy_wrep_trim_free(r->trim);
    free(r);
}

svy_status svy_wrep_set_type(svy_wrep *r, svy_reptype type, size_t nboot, unsigned long seed, svy_err *err)
{
    SVY_FAIL_IF(type != SVY_REP_JK1 && type != SVY_REP_JKN && type != SVY_REP_BOOTSTRAP && type != SVY_REP_BRR &&
                    type != SVY_REP_FAY,
                err, SVY_E_USAGE, "unknown replicate type");
    SVY_FAIL_IF(nboot > 100000, err, SVY_E_USAGE, "at most 100000 bootstrap replicates");
    r->type = type;
    r->nboot = nboot ? nboot : SVY_REP_BOOT_DEFAULT;
    r->seed = seed;
    return SVY_OK;
}

svy_status svy_wrep_set_rho(svy_wrep *r, double rho, svy_err *err)
{
    SVY_FAIL_IF(!(rho > 0 && rho < 1), err, SVY_E_USAGE, "Fay's rho must be above 0 and below 1, not %g", rho);
    r->rho = rho;
    return SVY_OK;
}

double svy_wrep_rho(const svy_wrep *r)
{
    return r->type == SVY_REP_FAY ? r->rho : NAN;
}

static int dup_opt(char **dst, const char *s)
{
    free(*dst);
    *dst = NULL;
    return !s || (*dst = svy_strdup(s)) != NULL;
}

svy_status svy_wrep_set_design(svy_wrep *r, const char *strata, const char *psu, const char *fpc, svy_err *err)
{
    if (!dup_opt(&r->strata_col, strata) || !dup_opt(&r->psu_col, psu) || !dup_opt(&r->fpc_col, fpc))
        return svy_weight_nomem(err);
    return SVY_OK;
}

static svy_status find(const svy_weight *w, const char *name, const char *what, long *idx, svy_err *err)
{
    *idx = -1;
    if (!name)
        return SVY_OK;
    *idx = svy_schema_find(w->schema, name);
    if (*idx < 0)
        return svy_err_set(err, SVY_E_USAGE, w->source, 0, 0, name, "no column %s (%s) in the data", name, what);
    return SVY_OK;
}

svy_status svy_wrep_begin(svy_wrep *r, svy_weight *w, svy_err *err)
{
    SVY_FAIL_IF(!w->begun, err, SVY_E_USAGE, "svy_wrep_begin before svy_weight_begin");
    SVY_FAIL_IF(r->type == SVY_REP_JK1 && r->strata_col, err, SVY_E_USAGE,
                "JK1 is for an unstratified design (R: \"Can't use JK1 for a stratified design\"): use jkn");
    SVY_FAIL_IF(r->type == SVY_REP_JKN && !r->strata_col, err, SVY_E_USAGE,
                "JKn needs strata (R: \"Must use JK1 or bootstrap for an unstratified design\"): use jk1");
    int brr = r->type == SVY_REP_BRR || r->type == SVY_REP_FAY;
    SVY_FAIL_IF(r->type == SVY_REP_FAY && !(r->rho > 0 && r->rho < 1), err, SVY_E_USAGE,
                "Fay replicates need rho (svy_wrep_set_rho)");
    SVY_FAIL_IF(brr && !r->strata_col, err, SVY_E_USAGE,
                "BRR needs strata of two PSUs (R: \"Must use JK1 or bootstrap for an unstratified design\")");
    SVY_FAIL_IF(brr && r->fpc_col, err, SVY_E_USAGE,
                "BRR does not use an fpc (R: \"Finite population correction dropped in conversion\"): leave it out");
    svy_status st;
    if ((st = find(w, r->strata_col, "strata", &r->strata_idx, err)) ||
        (st = find(w, r->psu_col, "PSU", &r->psu_idx, err)) || (st = find(w, r->fpc_col, "fpc", &r->fpc_idx, err)))
        return st;
    return SVY_OK;
}

/* Key bytes of a design value after off: numbers by value ("1" and "1.0"
 * are one stratum), else the text. */
static int put_value(svy_wrep *r, size_t *off, const svy_value *v)
{
    double d;
    size_t need = *off + 1 + (v->type == SVY_VAL_STR ? v->len : 8);
    if (!svy_grow((void **)&r->key, &r->keycap, need + 8, 1))
        return 0;
    if (svy_value_number(v, &d)) {
        d = d == 0 ? 0 : d;
        r->key[(*off)++] = 'N';
        memcpy(r->key + *off, &d, 8);
        *off += 8;
    } else {
        r->key[(*off)++] = 'S';
        memcpy(r->key + *off, v->str, v->len);
        *off += v->len;
    }
    return 1;
}

static svy_status row_err(const svy_weight *w, const svy_row *row, long col, svy_err *err, const char *msg)
{
    return svy_err_set(err, SVY_E_DATA, w->source, row->index, col + 1,
                       svy_var_name(svy_schema_var(w->schema, (size_t)col)), "%s", msg);
}

/* The row's stratum (added when create, with its fpc checked), or -1 with
 * err set. */
static long row_stratum(svy_wrep *r, const svy_weight *w, const svy_row *row, int create, svy_err *err)
{
    size_t off = 0;
    uint32_t s = 0;
    if (r->strata_idx >= 0) {
        const svy_value *v = &row->vals[r->strata_idx];
        if (svy_value_is_missing(v))
            return row_err(w, row, r->strata_idx, err, "missing stratum"), -1;
        if (!put_value(r, &off, v))
            return svy_weight_nomem(err), -1;
        long e;
        int added = 0;
        if (create)
            e = svy_strtab_intern(&r->strata, r->key, off, &added);
        else
            e = svy_strtab_find(&r->strata, r->key, off);
        if (e < 0)
            return (create ? svy_weight_nomem(err)
                           : svy_err_set(err, SVY_E_DATA, w->source, row->index, 0, NULL,
                                         "the data changed between the two passes")),
                   -1;
        s = (uint32_t)e;
    } else if (create && !r->strata.n) {
        int added;
        if (svy_strtab_intern(&r->strata, "", 0, &added) < 0)
            return svy_weight_nomem(err), -1;
    }
    if (create && s >= r->scap) {
        size_t old = r->scap, c1 = old, c2 = old, c3 = old;
        if (!svy_grow((void **)&r->sfpc, &c1, (size_t)s + 1, sizeof *r->sfpc) ||
            !svy_grow((void **)&r->sfirst, &c2, (size_t)s + 1, sizeof *r->sfirst) ||
            !svy_grow((void **)&r->sn, &c3, (size_t)s + 1, sizeof *r->sn))
            return svy_weight_nomem(err), -1;
        r->scap = c1 < c2 ? (c1 < c3 ? c1 : c3) : (c2 < c3 ? c2 : c3);
        for (size_t i = old; i < r->scap; i++) {
            r->sfpc[i] = -1; /* not seen */
            r->sn[i] = 0;
        }
    }
    if (create && r->fpc_idx >= 0) {
        const svy_value *v = &row->vals[r->fpc_idx];
        double d;
        if (svy_value_is_missing(v) || !svy_value_number(v, &d) || !(d > 0) || !isfinite(d))
            return row_err(w, row, r->fpc_idx, err, "the fpc is not a positive number"), -1;
        if (r->sfpc[s] < 0) {
            r->sfpc[s] = d;
            r->sfirst[s] = row->index;
        } else if (r->sfpc[s] != d) {
            char msg[200];
            snprintf(msg, sizeof msg, "the fpc differs from row %lld of the same stratum (%.17g, %.17g)",
                     r->sfirst[s], r->sfpc[s], d);
            return row_err(w, row, r->fpc_idx, err, msg), -1;
        }
    } else if (create && r->sfpc[s] < 0) {
        r->sfpc[s] = NAN;
        r->sfirst[s] = row->index;
    }
    return (long)s;
}

/* The row's PSU (added when create), or -1 with err set. */
static long row_psu(svy_wrep *r, const svy_weight *w, const svy_row *row, int create, svy_err *err)
{
    long sl = row_stratum(r, w, row, create, err);
    if (sl < 0)
        return -1;
    uint32_t s = (uint32_t)sl;
    size_t off = 0;
    if (!svy_grow((void **)&r->key, &r->keycap, 16, 1))
        return svy_weight_nomem(err), -1;
    memcpy(r->key, &s, 4);
    off = 4;
    if (r->psu_idx >= 0) {
        const svy_value *v = &row->vals[r->psu_idx];
        if (svy_value_is_missing(v))
            return row_err(w, row, r->psu_idx, err, "missing PSU"), -1;
        if (!put_value(r, &off, v))
            return svy_weight_nomem(err), -1;
    } else {
        long long i = row->index;
        memcpy(r->key + off, &i, 8);
        off += 8;
    }
    long p;
    int added = 0;
    if (create)
        p = svy_strtab_intern(&r->psus, r->key, off, &added);
    else
        p = svy_strtab_find(&r->psus, r->key, off);
    if (p < 0)
        return (create ? svy_weight_nomem(err)
                       : svy_err_set(err, SVY_E_DATA, w->source, row->index, 0, NULL,
                                     "the data changed between the two passes")),
               -1;
    if (added) {
        if (!svy_grow((void **)&r->pstrat, &r->pcap, (size_t)p + 1, sizeof *r->pstrat))
            return svy_weight_nomem(err), -1;
        r->pstrat[p] = s;
        r->sn[s]++;
    }
    return p;
}

svy_status svy_wrep_add_row(svy_wrep *r, svy_weight *w, const svy_row *row, svy_err *err)
{
    size_t cell;
    double w0;
    svy_status st = svy_weight_add_row_cell(w, row, &cell, &w0, err);
    if (st)
        return st;
    long p = row_psu(r, w, row, 1, err);
    if (p < 0)
        return err ? err->code : SVY_E_DATA;
    uint32_t k[2] = {(uint32_t)cell, (uint32_t)p};
    int added;
    long q = svy_strtab_intern(&r->pairs, k, sizeof k, &added);
    if (q < 0)
        return svy_weight_nomem(err);
    if (added) {
        if (!svy_grow((void **)&r->psum, &r->paircap, (size_t)q + 1, sizeof *r->psum))
            return svy_weight_nomem(err);
        r->psum[q] = 0;
    }
    r->psum[q] += w0;
    if (w->trim_on && w->cells[cell].resp)
        return svy_wrep_trim_row(r, (uint32_t)cell, (uint32_t)p, w0, err);
    return SVY_OK;
}

/* ---- the fit -------------------------------------------------------------- */

static void describe_stratum(const svy_wrep *r, size_t s, char *buf, size_t size)
{
    if (!r->strata_col) {
        snprintf(buf, size, "the sample");
        return;
    }
    const char *k = svy_strtab_str(&r->strata, s);
    size_t len = svy_strtab_len(&r->strata, s);
    if (k[0] == 'N') {
        double d;
        char t[SVY_DTOA_MAX];
        memcpy(&d, k + 1, 8);
        svy_dtoa(d, t);
        snprintf(buf, size, "stratum %s=%s", r->strata_col, t);
    } else {
        snprintf(buf, size, "stratum %s=%.*s", r->strata_col, (int)(len - 1 < 200 ? len - 1 : 200), k + 1);
    }
}

/* R's jk1weights fpc: the factor (N - n)/N, 1 without an fpc. */
static svy_status fpc_factor(const svy_wrep *r, size_t s, double *f, svy_err *err)
{
    double d = r->sfpc[s], n = (double)r->sn[s];
    *f = 1;
    if (isnan(d))
        return SVY_OK;
    if (d <= 1) {
        *f = 1 - d;
        return SVY_OK;
    }
    if (d < n) {
        char b[300];
        describe_stratum(r, s, b, sizeof b);
        return svy_err_set(err, SVY_E_DATA, NULL, r->sfirst[s], 0, r->fpc_col,
                           "%s: population size %.17g is smaller than its %zu PSUs", b, d, r->sn[s]);
    }
    *f = (d - n) / d;
    return SVY_OK;
}

/* The replicates of the jackknives, in R's order: strata in order of first
 * appearance, PSUs in order of first appearance within each. */
static svy_status jackknife(svy_wrep *r, svy_err *err)
{
    size_t np = r->psus.n, ns = r->strata.n;
    if (!(r->del = svy_calloc(np ? np : 1, sizeof *r->del)) ||
        !(r->rscale = svy_calloc(np ? np : 1, sizeof *r->rscale)))
        return svy_weight_nomem(err);
    r->scale = 1;
    if (r->type == SVY_REP_JK1) {
        double f;
        svy_status st = fpc_factor(r, 0, &f, err);
        if (st)
            return st;
        double n = (double)np;
        SVY_FAIL_IF(np < 2, err, SVY_E_DATA, "JK1 needs at least 2 PSUs, the data have %zu", np);
        SVY_FAIL_IF(f == 0, err, SVY_E_DATA, "every PSU of the population is in the sample: no replicates");
        r->scale = f * (n - 1) / n;
        for (size_t p = 0; p < np; p++) {
            r->del[p] = (uint32_t)p;
            r->rscale[p] = 1;
        }
        r->nrep = np;
        return SVY_OK;
    }
    size_t k = 0;
    for (size_t s = 0; s < ns; s++) {
        double f;
        svy_status st = fpc_factor(r, s, &f, err);
        if (st)
            return st;
        if (f == 0)
            continue; /* certainty stratum: R drops its replicates */
        if (r->sn[s] < 2) {
            char b[300];
            describe_stratum(r, s, b, sizeof b);
            return svy_err_set(err, SVY_E_DATA, NULL, r->sfirst[s], 0, r->strata_col,
                               "%s has only one PSU (R's lonely.psu = \"fail\")", b);
        }
        double n = (double)r->sn[s];
        for (size_t p = 0; p < np; p++)
            if (r->pstrat[p] == s) {
                r->del[k] = (uint32_t)p;
                r->rscale[k++] = f * (n - 1) / n;
            }
    }
    SVY_FAIL_IF(k == 0, err, SVY_E_DATA, "all strata were sampled whole: no replicates");
    r->nrep = k;
    return SVY_OK;
}

/* R's bootweights: in each stratum of n PSUs, n draws with replacement
 * (without an fpc) or n of the population's N slots, PSU j filling slots
 * j, j + n, ... (R's rep(upsu, length = N)), without replacement; a PSU's
 * multiplier is how often it was drawn. */
static svy_status bootstrap(svy_wrep *r, svy_err *err)
{
    size_t np = r->psus.n, ns = r->strata.n, R = r->nboot;
    SVY_FAIL_IF(R < 2, err, SVY_E_USAGE, "the bootstrap needs at least 2 replicates");
    SVY_FAIL_IF(np > SIZE_MAX / sizeof(double) / R, err, SVY_E_LIMIT, "too many replicates and PSUs");
    if (!(r->mult = svy_calloc(np * R, sizeof *r->mult)) || !(r->rscale = svy_calloc(R, sizeof *r->rscale)))
        return svy_weight_nomem(err);
    size_t *idx = svy_calloc(np ? np : 1, sizeof *idx);
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!idx || !g) {
        free(idx);
        gsl_rng_free(g);
        return svy_weight_nomem(err);
    }
    gsl_rng_set(g, r->seed);
    double inv = 0;
    svy_status st = SVY_OK;
    for (size_t s = 0; s < ns && !st; s++) {
        size_t n = 0;
        for (size_t p = 0; p < np; p++)
            if (r->pstrat[p] == s)
                idx[n++] = p;
        inv += 1.0 / (double)n;
        double N = r->sfpc[s];
        if (!isnan(N) && N <= 1)
            N = (double)n / N; /* a fraction: R's popsize */
        if (!isnan(N) && N < (double)n) {
            char b[300];
            describe_stratum(r, s, b, sizeof b);
            st = svy_err_set(err, SVY_E_DATA, NULL, r->sfirst[s], 0, r->fpc_col,
                             "%s: population size %.17g is smaller than its %zu PSUs", b, N, n);
            break;
        }
        for (size_t b = 0; b < R; b++) {
            double *m = r->mult + b * np;
            if (isnan(N)) {
                for (size_t i = 0; i < n; i++)
                    m[idx[gsl_rng_uniform_int(g, n)]] += 1;
            } else {
                /* Sequential hypergeometric draws over the PSUs' slot counts. */
                unsigned long slots = (unsigned long)N, left = slots, want = n;
                for (size_t i = 0; i < n && want; i++) {
                    unsigned long mine = slots / n + (i < slots % n);
                    unsigned long got = gsl_ran_hypergeometric(g, (unsigned)mine, (unsigned)(left - mine),
                                                               (unsigned)want);
                    m[idx[i]] = (double)got;
                    left -= mine;
                    want -= got;
                }
            }
        }
    }
    free(idx);
    gsl_rng_free(g);
    if (st)
        return st;
    double nbar = (double)ns / inv; /* harmonic mean of PSUs per stratum */
    SVY_FAIL_IF(!(nbar > 1), err, SVY_E_DATA, "the bootstrap needs strata of 2 or more PSUs");
    r->scale = nbar / ((nbar - 1) * (double)(R - 1));
    for (size_t b = 0; b < R; b++)
        r->rscale[b] = 1;
    r->nrep = R;
    return SVY_OK;
}

/* A stratum as R's as.character() writes it (brrweights orders strata so). */
static char *stratum_text(const svy_wrep *r, size_t s)
{
    const char *k = svy_strtab_str(&r->strata, s);
    size_t len = svy_strtab_len(&r->strata, s);
    char t[40];
    if (k[0] != 'N')
        return svy_strndup(k + 1, len - 1);
    double d;
    memcpy(&d, k + 1, 8);
    snprintf(t, sizeof t, "%.15g", d);
    return svy_strdup(t);
}

typedef struct named {
    char *text;
    size_t s;
} named;

static int cmp_named(const void *pa, const void *pb)
{
    const named *a = pa, *b = pb;
    int c = strcmp(a->text, b->text);
    return c ? c : (a->s > b->s) - (a->s < b->s);
}

/* The half-samples of R's brrweights (small = "fail", large = "split"):
 * strata sorted by their text; strata of more than 2 PSUs split into pairs
 * first, then those of 2; within a stratum the PSUs in order of first
 * appearance, alternately first and second of a pair.  Replicate i doubles
 * the second PSU of pair k when H[k + 1, i] = 0, else the first, and zeroes
 * the other (Fay: 2 - rho and rho); H is R's hadamard(pairs), one
 * replicate per column. */
static svy_status pair_up(svy_wrep *r, const named *o, uint32_t *pair, unsigned char *pos, size_t *npairs,
                          svy_err *err)
{
    size_t np = r->psus.n, ns = r->strata.n, upto = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t s = o[i].s;
        if (r->sn[s] >= 2 && r->sn[s] % 2 == 0)
            continue;
        char b[300];
        describe_stratum(r, s, b, sizeof b);
        return svy_err_set(err, SVY_E_DATA, NULL, r->sfirst[s], 0, r->strata_col,
                           r->sn[s] < 2 ? "%s has only one PSU; BRR needs two per stratum (R: \"Some strata have "
                                          "fewer than 2 PSUs\")"
                                        : "%s has %zu PSUs, an odd number (R: \"Can't split with odd numbers of "
                                          "PSUs in a stratum\")",
                           b, r->sn[s]);
    }
    for (int large = 1; large >= 0; large--)
        for (size_t i = 0; i < ns; i++) {
            size_t s = o[i].s, k = 0;
            if ((r->sn[s] > 2) != large)
                continue;
            for (size_t p = 0; p < np; p++)
                if (r->pstrat[p] == s) {
                    pair[p] = (uint32_t)(upto + k / 2);
                    pos[p] = (unsigned char)(k++ % 2);
                }
            upto += r->sn[s] / 2;
        }
    *npairs = upto;
    return SVY_OK;
}

static svy_status brr(svy_wrep *r, svy_err *err)
{
    size_t np = r->psus.n, ns = r->strata.n, npairs = 0, size = 0;
    named *o = svy_calloc(ns ? ns : 1, sizeof *o);
    uint32_t *pair = svy_calloc(np ? np : 1, sizeof *pair);
    unsigned char *pos = svy_calloc(np ? np : 1, 1), *H = NULL;
    svy_status st = o && pair && pos ? SVY_OK : svy_weight_nomem(err);
    for (size_t s = 0; s < ns && !st; s++)
        if (!(o[s] = (named){stratum_text(r, s), s}).text)
            st = svy_weight_nomem(err);
    if (!st) {
        qsort(o, ns, sizeof *o, cmp_named);
        st = pair_up(r, o, pair, pos, &npairs, err);
    }
    if (!st && !(H = svy_hadamard(npairs, &size)))
        st = svy_weight_nomem(err);
    if (!st && np > SIZE_MAX / sizeof(double) / size)
        st = svy_err_set(err, SVY_E_LIMIT, NULL, 0, 0, NULL, "too many replicates and PSUs");
    if (!st && (!(r->mult = svy_calloc(np * size, sizeof *r->mult)) ||
                !(r->rscale = svy_calloc(size, sizeof *r->rscale))))
        st = svy_weight_nomem(err);
    for (size_t i = 0; !st && i < size; i++) {
        for (size_t p = 0; p < np; p++)
            r->mult[i * np + p] = (H[(pair[p] + 1) * size + i] ? 1 - pos[p] : pos[p]) ? 2 - r->rho : r->rho;
        r->rscale[i] = 1;
    }
    if (!st) {
        r->nrep = size;
        r->scale = 1 / ((double)size * (1 - r->rho) * (1 - r->rho)); /* R: 1/(R (1 - fay.rho)^2) */
    }
    for (size_t s = 0; o && s < ns; s++)
        free(o[s].text);
    free(o);
    free(pair);
    free(pos);
    free(H);
    return st;
}


struct scratch {
    long double *tot, *all, *resp, *ctot, *acc;
    double *cfac;
};

static svy_status rep_fail(const svy_wrep *r, size_t i, svy_err *err, const char *what)
{
    (void)r;
    return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, NULL,
                       "replicate %zu: %s (the replicate deletes or reweights every PSU that has it)", i + 1, what);
}

/* Replicate i's cell factors into r->fac: its own nonresponse classes, then
 * as many raking sweeps as the full sample took. */
static svy_status fit_one(svy_wrep *r, const svy_weight *w, size_t i, struct scratch *x, svy_err *err)
{
    size_t nc = r->ncells, npair = r->pairs.n;
    double *F = r->fac + i * nc;
    for (size_t c = 0; c < nc; c++)
        x->tot[c] = 0;
    for (size_t q = 0; q < npair; q++) {
        const uint32_t *k = (const uint32_t *)(const void *)svy_strtab_str(&r->pairs, q);
        uint32_t kk[2];
        memcpy(kk, k, sizeof kk);
        x->tot[kk[0]] += svy_wrep_multiplier(r, i, kk[1]) * r->psum[q];
    }
    for (size_t c = 0; c < nc; c++)
        F[c] = w->cells[c].resp;
    if (w->resp_idx >= 0) {
        size_t ncl = w->nrcells.n;
        for (size_t c = 0; c < ncl; c++)
            x->all[c] = x->resp[c] = 0;
        for (size_t c = 0; c < nc; c++) {
            x->all[w->cells[c].nr] += x->tot[c];
            if (w->cells[c].resp)
                x->resp[w->cells[c].nr] += x->tot[c];
        }
        for (size_t c = 0; c < nc; c++) {
            const wcell *u = &w->cells[c];
            if (!u->resp)
                continue;
            if (x->resp[u->nr] == 0 && x->all[u->nr] > 0)
                return rep_fail(r, i, err, "a nonresponse cell has no respondents left");
            F[c] = x->resp[u->nr] > 0 ? (double)(x->all[u->nr] / x->resp[u->nr]) : 1;
        }
    }
    if (!w->nmargins)
        return SVY_OK;
    for (size_t k = 0; k < w->nresp; k++) {
        x->ctot[k] = x->tot[w->resp[k]] * F[w->resp[k]];
        x->cfac[k] = F[w->resp[k]];
    }
    for (int it = 0; it < w->rake_sweeps; it++)
        for (size_t mi = 0; mi < w->nmargins; mi++) {
            const margin *m = &w->margins[mi];
            for (size_t l = 0; l < m->nlines; l++)
                x->acc[l] = 0;
            for (size_t k = 0; k < w->nresp; k++)
                x->acc[m->line_of[k]] += x->ctot[k];
            for (size_t l = 0; l < m->nlines; l++) {
                if (!(x->acc[l] > 0)) {
                    char lev[300], msg[400];
                    svy_weight_describe_line(w, m, l, lev, sizeof lev);
                    snprintf(msg, sizeof msg, "margin %s, %s has no weight left", m->name, lev);
                    return rep_fail(r, i, err, msg);
                }
                x->acc[l] = (long double)m->total[l] / x->acc[l];
            }
            for (size_t k = 0; k < w->nresp; k++) {
                long double f = x->acc[m->line_of[k]];
                x->ctot[k] *= f;
                x->cfac[k] = (double)(x->cfac[k] * f);
            }
        }
    for (size_t k = 0; k < w->nresp; k++)
        F[w->resp[k]] = x->cfac[k];
    return SVY_OK;
}

svy_status svy_wrep_fit(svy_wrep *r, svy_weight *w, svy_err *err)
{
    SVY_FAIL_IF(!w->fit_ok, err, SVY_E_USAGE, "svy_wrep_fit needs a successful svy_weight_fit");
    SVY_FAIL_IF(r->fitted, err, SVY_E_USAGE, "svy_wrep_fit called twice");
    r->fitted = 1;
    svy_status st = r->type == SVY_REP_BOOTSTRAP ? bootstrap(r, err) : (r->type == SVY_REP_BRR || r->type == SVY_REP_FAY) ? brr(r, err)
                                                                                               : jackknife(r, err);
    if (st)
        return st;
    r->ncells = w->cells_ix.n;
    size_t nc = r->ncells ? r->ncells : 1;
    SVY_FAIL_IF(nc > SIZE_MAX / sizeof(double) / r->nrep, err, SVY_E_LIMIT, "too many replicates and cells");
    size_t maxl = 1;
    for (size_t mi = 0; mi < w->nmargins; mi++)
        if (w->margins[mi].nlines > maxl)
            maxl = w->margins[mi].nlines;
    size_t ncl = w->nrcells.n ? w->nrcells.n : 1;
    struct scratch x = {svy_calloc(nc, sizeof(long double)), svy_calloc(ncl, sizeof(long double)),
                        svy_calloc(ncl, sizeof(long double)), svy_calloc(nc, sizeof(long double)),
                        svy_calloc(maxl, sizeof(long double)), svy_calloc(nc, sizeof(double))};
    r->fac = svy_calloc(nc * r->nrep, sizeof *r->fac);
    if (!x.tot || !x.all || !x.resp || !x.ctot || !x.acc || !x.cfac || !r->fac)
        st = svy_weight_nomem(err);
    for (size_t i = 0; !st && i < r->nrep; i++)
        st = fit_one(r, w, i, &x, err);
    if (!st)
        st = svy_wrep_trim_fit(r, w, err);
    free(x.tot);
    free(x.all);
    free(x.resp);
    free(x.ctot);
    free(x.acc);
    free(x.cfac);
    if (st)
        r->nrep = 0;
    return st;
}

size_t svy_wrep_count(const svy_wrep *r)
{
    return r->nrep;
}

const char *svy_wrep_type_name(const svy_wrep *r)
{
    return svy_reptype_name(r->type);
}

double svy_wrep_scale(const svy_wrep *r)
{
    return r->scale;
}

double svy_wrep_rscale(const svy_wrep *r, size_t i)
{
    return i < r->nrep ? r->rscale[i] : NAN;
}

const double *svy_wrep_boot_multipliers(const svy_wrep *r, size_t i, size_t *npsu)
{
    *npsu = r->psus.n;
    return r->mult && i < r->nrep ? r->mult + i * r->psus.n : NULL;
}

svy_status svy_wrep_lookup(const svy_wrep *r, const svy_weight *w, const svy_row *row, double *weight,
                           double *reps, svy_err *err)
{
    SVY_FAIL_IF(!r->fac || !r->nrep, err, SVY_E_USAGE, "svy_wrep_lookup before svy_wrep_fit");
    size_t cell;
    double w0;
    svy_status st = svy_weight_lookup_start(w, row, weight, &cell, &w0, err);
    if (st)
        return st;
    long p = row_psu((svy_wrep *)r, w, row, 0, err);
    if (p < 0)
        return err ? err->code : SVY_E_DATA;
    if (!r->trim) {
        for (size_t i = 0; i < r->nrep; i++)
            reps[i] = w0 * svy_wrep_multiplier(r, i, (size_t)p) * r->fac[i * r->ncells + cell];
        return SVY_OK;
    }
    for (size_t i = 0; i < r->nrep; i++) {
        double m = svy_wrep_multiplier(r, i, (size_t)p);
        const wcell *tc = svy_wrep_trim_cells(r, i);
        reps[i] = tc ? (m > 0 ? svy_wcell_weight(&tc[cell], w0 * m) : 0) : w0 * m * r->fac[i * r->ncells + cell];
    }
    return SVY_OK;
}
