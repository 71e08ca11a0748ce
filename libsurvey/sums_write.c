/* Sums files (see survey/sums.h): what can come from sums, the identity
 * of the flags, the fields per statistic, and partial sums from rows
 * (svy-tab --partial). */
#include "svy_private.h"
#include "estimate_private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/subpop.h>
#include <survey/sums.h>

#include "sums_private.h"

/* Each statistic's fields (survey/sums.h), with the power of the weight
 * each holds (a sum of w, of w^2 ...: scaled by the weights' scale to it).
 * SUMS lines (units of several rows), then ROWS lines (rows are the units,
 * no --psu: co-moments shifted by a0, b0; proportions per group). */
typedef struct fdef {
    const char *name;
    int pw;
} fdef;
static const fdef f_sums[4][9] = {
    {{"n", 0}, {"z", 0}, {"s1", 1}, {"s0", 1}, {"bad", 0}},
    {{"n", 0}, {"z", 0}, {"c", 0}, {"a", 1}, {"b", 1}, {"q", 1}},
    {{"n", 0}, {"z", 0}, {"c", 0}, {"t", 1}, {"b", 1}, {"a", 1}, {"q", 1}},
    {{"n", 0}, {"z", 0}, {"y", 1}, {"x", 1}, {"w", 1}, {"yy", 1}, {"xy", 1}, {"xx", 1}},
};
static const fdef f_rows[4][15] = {
    {{"n", 0}, {"z", 0}, {"bad", 0}, {"k1", 0}, {"v1", 1}, {"d1", 1}, {"e1", 2}, {"k0", 0}, {"v0", 1}, {"d0", 1},
     {"e0", 2}},
    {{"n", 0}, {"z", 0}, {"c", 0}, {"k", 0}, {"a0", 1}, {"b0", 1}, {"da", 1}, {"db", 1}, {"daa", 2}, {"dab", 2},
     {"dbb", 2}, {"q", 1}},
    {{"n", 0}, {"z", 0}, {"c", 0}, {"k", 0}, {"a0", 1}, {"b0", 1}, {"da", 1}, {"db", 1}, {"daa", 2}, {"dab", 2},
     {"dbb", 2}, {"a", 1}, {"q", 1}},
    {{"n", 0}, {"z", 0}, {"k", 0}, {"a0", 1}, {"b0", 1}, {"da", 1}, {"db", 1}, {"daa", 2}, {"dab", 2}, {"dbb", 2},
     {"w", 1}, {"yy", 1}, {"xy", 1}, {"xx", 1}},
};
static const size_t n_sums[4] = {5, 6, 7, 8}, n_rows[4] = {11, 12, 13, 14};

static int stat_ix(svy_stat s)
{
    switch (s) {
    case SVY_STAT_RATE: return 0;
    case SVY_STAT_MEAN: return 1;
    case SVY_STAT_TOTAL: return 2;
    case SVY_STAT_RATIO: return 3;
    default: return -1;
    }
}

size_t svy_sums_nfields(svy_stat s, int rows)
{
    int i = stat_ix(s);
    return i < 0 ? 0 : rows ? n_rows[i] : n_sums[i];
}

const char *svy_sums_field(svy_stat s, int rows, size_t f)
{
    if (f >= svy_sums_nfields(s, rows))
        return NULL;
    return rows ? f_rows[stat_ix(s)][f].name : f_sums[stat_ix(s)][f].name;
}

int svy_sums_power(svy_stat s, int rows, size_t f)
{
    if (f >= svy_sums_nfields(s, rows))
        return 0;
    return rows ? f_rows[stat_ix(s)][f].pw : f_sums[stat_ix(s)][f].pw;
}

int svy_sums_rows(const svy_est *e)
{
    return e->d.npsu == 0 || e->dsn.multistage; /* multistage: rows within each PSU */
}

svy_status svy_sums_check(const svy_est *e, svy_err *err)
{
    for (size_t o = 0; o < e->nout; o++) {
        const outcome *oc = &e->out[o];
        SVY_FAIL_IF(oc->quant || oc->stat == SVY_STAT_QUANTILE, err, SVY_E_USAGE,
                    "--quantile/--median %s: quantiles cannot come from sums (they need the values); run svy-tab on the rows",
                    oc->column);
    }
    SVY_FAIL_IF(e->nby + 3 * e->dsn.nstage + 2 > SUMS_KEYS_MAX, err, SVY_E_USAGE,
                "sums take at most %d --by variables and design columns", SUMS_KEYS_MAX - 2);
    SVY_FAIL_IF(e->d.npsu > 1 && e->dsn.nstage == 1, err, SVY_E_USAGE,
                "sums take one --psu column: give the first stage's alone (without an fpc the later ones do not enter "
                "the variance)");
    SVY_FAIL_IF(e->cal, err, SVY_E_USAGE,
                "--calibrated-to does not come from sums yet (the residuals need sums per margin cell and PSU): run "
                "svy-tab on the rows");
    return SVY_OK;
}

/* FNV-1a, 64 bits */
static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (h ^ 0x1f) * 0x100000001b3ull; /* a separator */
}

void svy_sums_identity(const svy_est *e, char *buf)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv(h, "svysums1");
    h = fnv(h, e->d.weight ? e->d.weight : "");
    for (size_t i = 0; i < e->d.npsu; i++)
        h = fnv(h, e->d.psu[i]);
    h = fnv(h, "|");
    for (size_t i = 0; i < e->d.nstrata; i++)
        h = fnv(h, e->d.strata[i]);
    h = fnv(h, "|");
    for (size_t i = 0; i < e->d.nfpc; i++)
        h = fnv(h, e->d.fpc[i]);
    h = fnv(h, "|");
    for (size_t k = 0; k < e->nby; k++)
        h = fnv(h, e->by[k]);
    h = fnv(h, "|");
    for (size_t o = 0; o < e->nout; o++) {
        h = fnv(h, svy_stat_name(e->out[o].stat));
        h = fnv(h, e->out[o].column);
        h = fnv(h, e->out[o].value ? e->out[o].value : "");
        h = fnv(h, e->out[o].den ? e->out[o].den : "");
        for (size_t k = 0; k < e->out[o].nlev; k++) {
            char b[SVY_DTOA_MAX];
            svy_dtoa(e->out[o].lev[k], b);
            h = fnv(h, b);
        }
    }
    h = fnv(h, e->subpop ? svy_subpop_text(e->subpop) : "");
    h = svy_sums_rep_hash(e, h);
    snprintf(buf, SVY_SUMS_IDENT_MAX, "svysums%d:%016llx", SVY_SUMS_VERSION, (unsigned long long)h);
}

/* ------------------------------------------------------ partial sums */

typedef struct pline {
    uint32_t dom1, unit, sub; /* unit: the PSU, or the stratum where rows are the units (no --psu) */
    long id2;                 /* several stages: one id of the line's rows (the last stage) */
    uint32_t ph[SVY_STAGES_MAX], pu[SVY_STAGES_MAX]; /* its stratum and unit at every stage */
    uint32_t tmiss;           /* rows missing only --test's variable: their combination + 1 (s->tmtab) */
    long long rows, nzrows;
    size_t block;
} pline;

struct svy_sums {
    svy_est *e;
    svy_u64map map;
    pline *ln;
    size_t n, cap;
    double *pool;
    size_t npool, cappool;
    size_t width;   /* doubles per line */
    size_t *foff;   /* each outcome's fields in a line */
    double *ys;
    int *valid;
    svy_strtab ids;  /* two stages: one id per line */
    /* shares of columns no codebook labels: lines per level too */
    size_t nopen;
    size_t *open;       /* their outcomes */
    svy_strtab lvtab;   /* their levels' texts */
    svy_strtab linetab; /* with open shares: a line's packed key, id = line */
    int32_t *key;       /* dom, sub, unit, then a level id (or -1) per open share */
    int32_t *lvids;     /* each line's level ids */
    size_t caplv;
    struct sums_rep *rep; /* replicate weights (sums_rep.c) */
    svy_strtab tmtab;     /* --test: the other by values' ids of rows missing the tested one */
};

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

svy_sums *svy_sums_new(svy_est *e, svy_err *err)
{
    if (!e->bound) {
        svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "svy_sums_new before svy_est_bind");
        return NULL;
    }
    if (svy_sums_check(e, err) != SVY_OK)
        return NULL;
    svy_sums *s = svy_calloc(1, sizeof *s);
    if (!s || !(s->foff = svy_calloc(e->nout + 1, sizeof *s->foff)) ||
        !(s->ys = svy_calloc(e->nout + 1, sizeof *s->ys)) || !(s->valid = svy_calloc(e->nout + 1, sizeof *s->valid))) {
        svy_sums_free(s);
        nomem(err);
        return NULL;
    }
    s->e = e;
    for (size_t o = 0; o < e->nout; o++) {
        s->foff[o] = s->width;
        s->width += svy_sums_nf(e, o);
        s->nopen += svy_sums_open(&e->out[o]);
    }
    if (s->nopen && (!(s->open = svy_calloc(s->nopen, sizeof *s->open)) ||
                     !(s->key = svy_calloc(3 + s->nopen, sizeof *s->key)))) {
        svy_sums_free(s);
        nomem(err);
        return NULL;
    }
    for (size_t o = 0, j = 0; o < e->nout; o++)
        if (svy_sums_open(&e->out[o]))
            s->open[j++] = o;
    if (e->rep && svy_sums_rep_new(e, &s->rep, err) != SVY_OK) {
        svy_sums_free(s);
        return NULL;
    }
    return s;
}

void svy_sums_free(svy_sums *s)
{
    if (!s)
        return;
    svy_sums_rep_free(s->rep);
    svy_strtab_free(&s->tmtab);
    svy_u64map_free(&s->map);
    svy_strtab_free(&s->ids);
    svy_strtab_free(&s->lvtab);
    svy_strtab_free(&s->linetab);
    free(s->open);
    free(s->key);
    free(s->lvids);
    free(s->ln);
    free(s->pool);
    free(s->foff);
    free(s->ys);
    free(s->valid);
    free(s);
}

/* The line of a group of rows; with open shares, s->key[3..] holds the
 * row's levels (a line per level, as shards split PSUs). */
static long line_of(svy_sums *s, long dom, uint32_t unit, int sub, uint32_t tm, svy_err *err)
{
    uint64_t key = ((uint64_t)(dom + 1) << 33) | ((uint64_t)(sub != 0) << 32) | unit;
    if (tm) /* in no domain (dom -1): keyed by the combination */
        key = 1ull << 63 | (uint64_t)tm << 33 | ((uint64_t)(sub != 0) << 32) | unit;
    int added;
    long i;
    if (s->nopen) {
        s->key[0] = (int32_t)(dom - (long)tm), s->key[1] = sub != 0, s->key[2] = (int32_t)unit;
        i = svy_strtab_intern(&s->linetab, s->key, (3 + s->nopen) * sizeof *s->key, &added);
    } else {
        i = svy_u64map_get(&s->map, key, s->n, &added);
    }
    if (i < 0)
        return nomem(err), -1;
    if (added) {
        if (!svy_grow((void **)&s->ln, &s->cap, s->n + 1, sizeof *s->ln) ||
            !svy_grow((void **)&s->pool, &s->cappool, s->npool + s->width, sizeof *s->pool) ||
            (s->nopen && !svy_grow((void **)&s->lvids, &s->caplv, (s->n + 1) * s->nopen, sizeof *s->lvids)))
            return nomem(err), -1;
        if (s->nopen)
            memcpy(s->lvids + s->n * s->nopen, s->key + 3, s->nopen * sizeof *s->key);
        memset(s->pool + s->npool, 0, s->width * sizeof *s->pool);
        s->ln[s->n++] = (pline){.dom1 = (uint32_t)(dom + 1), .unit = unit, .sub = (uint32_t)(sub != 0), .tmiss = tm,
                                .block = s->npool};
        s->npool += s->width;
    }
    return i;
}

/* The same in a ROWS line (rows are the units): groups of a proportion
 * (svy_est_group_add), co-moments (svy_est_comoment_add). */

static void field_add_rows(double *f, svy_stat st, double w, double y, double x)
{
    f[0] += 1;
    f[1] += w == 0;
    if (st == SVY_STAT_RATE) {
        svy_est_group_add(f + (y != 0 ? 3 : 7), w);
    } else if (st == SVY_STAT_MEAN || st == SVY_STAT_TOTAL) {
        if (f[0] == 1)
            f[2] = y;
        double yp = y - f[2], a = w * yp;
        if (st == SVY_STAT_MEAN) {
            svy_est_comoment_add(f + 3, a, w);
            f[11] += a * yp;
        } else {
            svy_est_comoment_add(f + 3, w * y, w);
            f[11] += a;
            f[12] += a * yp;
        }
    } else if (st == SVY_STAT_RATIO) {
        double a = w * y, b = w * x;
        svy_est_comoment_add(f + 2, a, b);
        f[10] += w;
        f[11] += a * y;
        f[12] += a * x;
        f[13] += b * x;
    }
}

/* One valid outcome of a row into its fields (as the estimator's cells
 * compute them, with the line's first value as the shift). */
static void field_add(double *f, svy_stat st, double w, double y, double x)
{
    f[0] += 1;
    f[1] += w == 0;
    if (st == SVY_STAT_RATE) {
        double a = w * y;
        f[2] += a;
        f[3] += w - a;
    } else if (st == SVY_STAT_MEAN || st == SVY_STAT_TOTAL) {
        if (f[0] == 1)
            f[2] = y;
        double yp = y - f[2], a = w * yp;
        if (st == SVY_STAT_MEAN) {
            f[3] += a;
            f[4] += w;
            f[5] += a * yp;
        } else {
            f[3] += w * y;
            f[4] += w;
            f[5] += a;
            f[6] += a * yp;
        }
    } else if (st == SVY_STAT_RATIO) {
        double a = w * y, b = w * x;
        f[2] += a;
        f[3] += b;
        f[4] += w;
        f[5] += a * y;
        f[6] += a * x;
        f[7] += b * x;
    }
}

/* A row's levels of the open shares into s->key[3..]: the value's key
 * as the estimator makes it ("1" and "1.0" one level of a number column),
 * -1 when missing or not read. */
static svy_status open_levels(svy_sums *s, const svy_row *row, int in)
{
    for (size_t j = 0; j < s->nopen; j++) {
        size_t o = s->open[j], len;
        const outcome *oc = &s->e->out[o];
        s->key[3 + j] = -1;
        if (!in || !s->valid[o])
            continue;
        char nb[SVY_DTOA_MAX];
        const char *t = svy_dsn_key(&row->vals[oc->col], oc->numeric, nb, &len);
        long id = svy_strtab_intern(&s->lvtab, t, len, NULL);
        if (id < 0)
            return SVY_E_NOMEM;
        s->key[3 + j] = (int32_t)id;
    }
    return SVY_OK;
}

svy_status svy_sums_push(svy_sums *s, const svy_row *row, svy_err *err)
{
    svy_est *e = s->e;
    if (e->dsn.pass > 1) /* weights from the fpc: the sums are of weight 1, weighted at reading */
        return SVY_OK;
    svy_dpath p;
    svy_status st = svy_dsn_row(&e->dsn, row, &p, err);
    if (st)
        return svy_est_blame(e, st, err);
    e->rows++;
    int in = 1;
    if (e->subpop && (st = svy_est_subpop_in(e, row, &in, err)) != SVY_OK)
        return svy_est_blame(e, st, err);
    long dom = -1;
    uint32_t tm = 0;
    if (in) {
        if ((dom = svy_est_row_domain(e, row, err)) == -2)
            return SVY_E_NOMEM;
        if (dom == -3) { /* only --test's variable missing: no domain, but its combination counts */
            long c = svy_strtab_intern(&s->tmtab, e->dom_key, e->nby * sizeof *e->dom_key, NULL);
            if (c < 0)
                return nomem(err);
            tm = (uint32_t)c + 1;
            dom = -1;
        }
        if ((st = svy_est_row_outcomes(e, row, s->ys, s->valid, err)) != SVY_OK)
            return svy_est_blame(e, st, err);
    }
    SVY_FAIL_IF(e->dsn.repeat, err, SVY_E_DATA,
                "%s repeats within its unit (row %lld): units of several rows at the last stage do not come from sums",
                e->d.psu[e->dsn.nstage - 1], row->index);
    int rows = svy_sums_rows(e);
    if (s->nopen && (st = open_levels(s, row, in)) != SVY_OK)
        return nomem(err);
    /* a line: rows of one unit of the last layer (their PSU, or stratum
     * without --psu), or of several stages one stratum of the last (the
     * unit above, or its own stratum in it): that fixes every stage above,
     * and is the last layer's unit when the later stages are in the variance */
    const layer *F = &e->lay[0];
    uint32_t key = e->dsn.nstage >= 2 ? p.stratum[e->dsn.nstage - 1] : F->by_stratum ? p.stratum[0] : p.unit[0];
    long i = line_of(s, dom, key, in, tm, err);
    if (i < 0)
        return SVY_E_NOMEM;
    pline *L = &s->ln[i];
    if (L->rows == 0) {
        memcpy(L->ph, p.stratum, sizeof L->ph);
        memcpy(L->pu, p.unit, sizeof L->pu);
    }
    if (L->rows == 0 && e->dsn.nstage >= 2) {
        char nb[SVY_DTOA_MAX];
        size_t len;
        const svy_dstage *T = &e->dsn.st[e->dsn.nstage - 1];
        const char *t = svy_dsn_key(&row->vals[T->id_col], T->id_numeric, nb, &len);
        if ((L->id2 = svy_strtab_intern(&s->ids, t, len, NULL)) < 0)
            return nomem(err);
    }
    L->rows++;
    L->nzrows += p.w != 0;
    if (s->rep && in && (st = svy_sums_rep_push(s->rep, e, (size_t)i, row, s->ys, s->valid, err)) != SVY_OK)
        return svy_est_blame(e, st, err);
    for (size_t o = 0; in && o < e->nout; o++)
        if (s->valid[o] && e->out[o].stat == SVY_STAT_SHARE)
            svy_sums_share_add(e, o, s->pool + L->block + s->foff[o], row, p.w);
        else if (s->valid[o])
            (rows ? field_add_rows : field_add)(s->pool + L->block + s->foff[o], e->out[o].stat, p.w, s->ys[o],
                                                e->out[o].x);
    return SVY_OK;
}

/* ------------------------------------------------------------ writing */

size_t svy_sums_keys(const svy_est *e, sums_key *keys)
{
    size_t n = 0;
    const char *names[SUMS_KEYS_MAX];
    int roles[SUMS_KEYS_MAX];
    size_t bys[SUMS_KEYS_MAX], m = 0;
    for (size_t k = 0; k < e->nby && m < SUMS_KEYS_MAX; k++, m++)
        names[m] = e->by[k], roles[m] = SUMS_KEY_BY, bys[m] = k;
    if (e->d.nstrata && m < SUMS_KEYS_MAX)
        names[m] = e->d.strata[0], roles[m] = SUMS_KEY_STRATA, bys[m++] = 0;
    if (e->d.npsu && m < SUMS_KEYS_MAX)
        names[m] = e->d.psu[0], roles[m] = SUMS_KEY_PSU, bys[m++] = 0;
    if (e->d.nfpc && m < SUMS_KEYS_MAX)
        names[m] = e->d.fpc[0], roles[m] = SUMS_KEY_FPC, bys[m++] = 0;
    if (e->d.weight && m < SUMS_KEYS_MAX)
        names[m] = e->d.weight, roles[m] = SUMS_KEY_WEIGHT, bys[m++] = 0;
    /* later stages: their strata (when their own), fpc, and units; the
     * last stage's units are rows: one id of the line's rows */
    for (size_t st = 1; st < e->dsn.nstage && st < e->d.nfpc && m + 3 < SUMS_KEYS_MAX; st++) {
        const svy_dstage *T = &e->dsn.st[st];
        if (T->own_strata)
            names[m] = T->strata_name, roles[m] = SUMS_KEY_STRATA2, bys[m++] = st;
        names[m] = e->d.fpc[st], roles[m] = SUMS_KEY_FPC2, bys[m++] = st;
        names[m] = e->d.psu[st], roles[m] = st + 1 == e->dsn.nstage ? SUMS_KEY_ID2 : SUMS_KEY_UNIT2, bys[m++] = st;
    }
    for (size_t i = 0; i < m; i++) {
        int dup = 0;
        for (size_t j = 0; j < n; j++)
            dup |= strcmp(keys[j].name, names[i]) == 0;
        if (!dup)
            keys[n++] = (sums_key){names[i], roles[i], bys[i]};
    }
    return n;
}

void svy_sums_put_field(FILE *f, const char *s, size_t len)
{
    if (len && !memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) && !memchr(s, '\r', len) &&
        s[0] != ' ' && s[len - 1] != ' ') {
        fwrite(s, 1, len, f);
        return;
    }
    if (!len)
        return;
    putc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            putc('"', f);
        putc(s[i], f);
    }
    putc('"', f);
}

static void put_num(FILE *f, double x)
{
    char b[SVY_DTOA_MAX];
    putc(',', f);
    fwrite(b, 1, svy_dtoa(x, b), f);
}

static void write_header(const svy_sums *s, const svy_est *e, const sums_key *keys, size_t nk, FILE *f)
{
    fputs("_svysums", f);
    for (size_t i = 0; i < nk; i++) {
        putc(',', f);
        svy_sums_put_field(f, keys[i].name, strlen(keys[i].name));
    }
    fputs(",_dom,_sub,_rows,_nzrows", f);
    for (size_t o = 0; o < e->nout; o++)
        if (svy_sums_open(&e->out[o]))
            fprintf(f, ",_%zu_level", o + 1);
    for (size_t o = 0; o < e->nout; o++)
        for (size_t j = 0; j < svy_sums_nf(e, o); j++) {
            char b[32];
            fprintf(f, ",_%zu_%s", o + 1, svy_sums_fname(e, o, j, b, sizeof b));
        }
    if (s->rep)
        svy_sums_rep_header(s->rep, e, f);
    putc('\n', f);
}

/* The key fields of a line. */
static void write_keys(const svy_sums *s, const pline *L, const sums_key *keys, size_t nk, FILE *f)
{
    const svy_est *e = s->e;
    const svy_dsn *d = &e->dsn;
    uint32_t h = L->ph[0];
    size_t len;
    const char *t;
    for (size_t i = 0; i < nk; i++) {
        putc(',', f);
        switch (keys[i].role) {
        case SUMS_KEY_BY:
            if (L->tmiss && keys[i].by != e->test_by) { /* the normalized value (a key) */
                uint32_t id;
                memcpy(&id, svy_strtab_str(&s->tmtab, L->tmiss - 1) + keys[i].by * sizeof id, sizeof id);
                svy_sums_put_field(f, svy_strtab_str(&e->byval_tab[keys[i].by], id),
                                   svy_strtab_len(&e->byval_tab[keys[i].by], id));
            }
            if (L->dom1 && !e->doms[L->dom1 - 1].overall) {
                size_t id = e->dom_vals[(L->dom1 - 1) * e->nby + keys[i].by];
                svy_sums_put_field(f, svy_strtab_str(&e->domval_tab, id), svy_strtab_len(&e->domval_tab, id));
            }
            break;
        case SUMS_KEY_STRATA:
            t = svy_dsn_stratum_text(d, 0, h, &len);
            svy_sums_put_field(f, t, len);
            break;
        case SUMS_KEY_PSU:
            t = svy_dsn_unit_text(d, 0, L->pu[0], &len);
            svy_sums_put_field(f, t, len);
            break;
        case SUMS_KEY_STRATA2:
            t = svy_dsn_stratum_text(d, keys[i].by, L->ph[keys[i].by], &len);
            svy_sums_put_field(f, t, len);
            break;
        case SUMS_KEY_UNIT2:
            t = svy_dsn_unit_text(d, keys[i].by, L->pu[keys[i].by], &len);
            svy_sums_put_field(f, t, len);
            break;
        case SUMS_KEY_FPC: {
            char b[SVY_DTOA_MAX];
            svy_sums_put_field(f, b, svy_dtoa(d->st[0].strata[h].fpc, b));
            break;
        }
        case SUMS_KEY_FPC2: {
            char b[SVY_DTOA_MAX];
            svy_sums_put_field(f, b, svy_dtoa(d->st[keys[i].by].strata[L->ph[keys[i].by]].fpc, b));
            break;
        }
        case SUMS_KEY_ID2:
            svy_sums_put_field(f, svy_strtab_str(&s->ids, (size_t)L->id2), svy_strtab_len(&s->ids, (size_t)L->id2));
            break;
        default:
            putc(L->nzrows ? '1' : '0', f);
        }
    }
}

svy_status svy_sums_write(svy_sums *s, FILE *f, long long *min_cell, svy_err *err)
{
    const svy_est *e = s->e;
    sums_key keys[SUMS_KEYS_MAX];
    size_t nk = svy_sums_keys(e, keys);
    char ident[SVY_SUMS_IDENT_MAX];
    svy_sums_identity(e, ident);
    double sc = e->dsn.wscale;
    *min_cell = 0;
    write_header(s, e, keys, nk, f);
    for (size_t i = 0; i < s->n; i++) {
        const pline *L = &s->ln[i];
        if (L->dom1 && (*min_cell == 0 || L->rows < *min_cell))
            *min_cell = L->rows;
        fputs(ident, f);
        write_keys(s, L, keys, nk, f);
        fprintf(f, ",%d,%u,%lld,%lld", L->dom1 != 0, L->sub, L->rows, L->nzrows);
        for (size_t j = 0; j < s->nopen; j++) {
            int32_t id = s->lvids[i * s->nopen + j];
            putc(',', f);
            if (id >= 0)
                svy_sums_put_field(f, svy_strtab_str(&s->lvtab, (size_t)id), svy_strtab_len(&s->lvtab, (size_t)id));
        }
        for (size_t o = 0; o < e->nout; o++) {
            const double *x = s->pool + L->block + s->foff[o];
            for (size_t j = 0; j < svy_sums_nf(e, o); j++) {
                int pw = svy_sums_fpow(e, o, j);
                put_num(f, pw == 2 ? x[j] * sc * sc : pw ? x[j] * sc : x[j]);
            }
        }
        if (s->rep)
            svy_sums_rep_put(s->rep, i, f);
        putc('\n', f);
    }
    if (ferror(f))
        return svy_err_sys(err, errno, NULL, 0, "writing the sums");
    return SVY_OK;
}
