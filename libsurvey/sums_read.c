/* Reading sums files into an estimator (see survey/sums.h): each line is
 * a group of rows of one domain and PSU, added to the records the rows
 * would have made; the design counts its stratum and PSU as the rows would. */
#include "svy_private.h"
#include "estimate_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/sums.h>

#include "sums_private.h"

struct sums_bind {
    int ready;
    int rows;       /* ROWS lines (no --psu) */
    char ident[SVY_SUMS_IDENT_MAX];
    long c_id, c_dom, c_sub, c_rows, c_nz;
    long *cols;     /* every outcome's fields, in order */
    long *c_lev;    /* each outcome's _K_level (open shares), else -1 */
    long *lv;       /* the line's level of each open share */
    size_t *foff;   /* each outcome's first field */
    size_t width;
    double *f;
    double *fsums;  /* a ROWS line's fields as SUMS fields (several layers) */
    struct sums_rep_in *rep; /* replicate weights (sums_rep.c) */
};

void svy_sums_bind_free(struct sums_bind *b)
{
    if (!b)
        return;
    free(b->cols);
    free(b->c_lev);
    free(b->lv);
    free(b->foff);
    free(b->f);
    free(b->fsums);
    svy_sums_rep_in_free(b->rep);
    free(b);
}

svy_status svy_est_set_from_sums(svy_est *e, svy_err *err)
{
    SVY_FAIL_IF(e->bound, err, SVY_E_USAGE, "svy_est_set_from_sums after svy_est_bind");
    if (e->sums)
        return SVY_OK;
    e->sums = svy_calloc(1, sizeof *e->sums);
    SVY_FAIL_IF(!e->sums, err, SVY_E_NOMEM, "out of memory");
    return SVY_OK;
}

long svy_sums_col(const svy_est *e, const char *name, const char *of, const char *same, svy_err *err)
{
    long c = svy_schema_find(e->schema, name);
    if (c < 0)
        svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, name,
                    "this is not a sums file of %s: it has no column %s (svy-tab --partial or --sql makes one with the "
                    "same %s)",
                    of, name, same);
    return c;
}

static long col_of(const svy_est *e, const char *name, svy_err *err)
{
    return svy_sums_col(e, name, "these flags", "design and estimate flags", err);
}

/* The sums file's columns, at its first line. */
static svy_status ready(svy_est *e, svy_err *err)
{
    struct sums_bind *S = e->sums;
    svy_status st = svy_sums_check(e, err);
    if (st)
        return st;
    svy_sums_identity(e, S->ident);
    if ((S->c_id = col_of(e, "_svysums", err)) < 0 || (S->c_dom = col_of(e, "_dom", err)) < 0 ||
        (S->c_sub = col_of(e, "_sub", err)) < 0 || (S->c_rows = col_of(e, "_rows", err)) < 0 ||
        (S->c_nz = col_of(e, "_nzrows", err)) < 0)
        return SVY_E_USAGE;
    S->foff = svy_calloc(e->nout + 1, sizeof *S->foff);
    S->rows = svy_sums_rows(e);
    int fits = e->nlay >= 1 && e->lay[e->nlay - 1].rows == S->rows; /* lines: records of the last layer */
    for (size_t li = 0; li + 1 < e->nlay; li++)
        fits &= !e->lay[li].rows; /* the layers above take sums */
    SVY_FAIL_IF(!fits, err, SVY_E_USAGE, "this design's variance needs records the sums do not hold");
    for (size_t o = 0; o < e->nout; o++)
        S->width += svy_sums_nf(e, o);
    S->cols = svy_calloc(S->width + 1, sizeof *S->cols);
    S->f = svy_calloc(S->width + 1, sizeof *S->f);
    S->c_lev = svy_calloc(e->nout + 1, sizeof *S->c_lev);
    S->lv = svy_calloc(e->nout + 1, sizeof *S->lv);
    SVY_FAIL_IF(!S->foff || !S->cols || !S->f || !S->c_lev || !S->lv, err, SVY_E_NOMEM, "out of memory");
    size_t w = 0;
    for (size_t o = 0; o < e->nout; o++) {
        char lname[48];
        snprintf(lname, sizeof lname, "_%zu_level", o + 1);
        S->c_lev[o] = -1;
        if (svy_sums_open(&e->out[o]) && (S->c_lev[o] = col_of(e, lname, err)) < 0)
            return SVY_E_USAGE;
        S->foff[o] = w;
        for (size_t j = 0; j < svy_sums_nf(e, o); j++, w++) {
            char name[64], b[32];
            snprintf(name, sizeof name, "_%zu_%s", o + 1, svy_sums_fname(e, o, j, b, sizeof b));
            if ((S->cols[w] = col_of(e, name, err)) < 0)
                return SVY_E_USAGE;
        }
    }
    if (e->rep && (st = svy_sums_rep_ready(e, &S->rep, err)) != SVY_OK)
        return st;
    S->ready = 1;
    return SVY_OK;
}

/* A count: a whole number of 0 or more. */
static int count_of(const svy_row *row, long c, long long *out)
{
    double x;
    if (!svy_value_number(&row->vals[c], &x) || !(x >= 0) || x != floor(x) || x > 9e15)
        return 0;
    *out = (long long)x;
    return 1;
}

static svy_status bad_line(const svy_est *e, const svy_row *row, long c, svy_err *err, const char *what)
{
    return svy_fail_row(e->schema, row, c, err, "%s", what);
}

/* Move a line's sums of a mean or total from its shift to the domain's. */
static double reshift(double *dp, double c_line, double n)
{
    if (n == 0)
        return 0;
    if (!dp[0]) {
        dp[0] = 1;
        dp[1] = c_line;
    }
    return c_line - dp[1];
}

/* ROWS lines: a group of a proportion (count, first weight, sums of w -
 * first and its square) and co-moments (count, first a and b, sums of the
 * deviations, their squares and product) added to a record's, moved to its
 * first values. */
void svy_sums_group_merge(double *g, const double *l)
{
    if (l[0] == 0)
        return;
    if (g[0] == 0)
        g[1] = l[1];
    double dl = l[1] - g[1], k = l[0];
    g[2] += l[2] + k * dl;
    g[3] += l[3] + 2 * dl * l[2] + k * dl * dl;
    g[0] += k;
}

static void comoment_merge(double *c, const double *m)
{
    double k = m[0];
    if (k == 0)
        return;
    if (c[0] == 0)
        c[1] = m[1], c[2] = m[2];
    double al = m[1] - c[1], be = m[2] - c[2];
    c[3] += m[3] + k * al;
    c[4] += m[4] + k * be;
    c[5] += m[5] + 2 * al * m[3] + k * al * al;
    c[6] += m[6] + al * m[4] + be * m[3] + k * al * be;
    c[7] += m[7] + 2 * be * m[4] + k * be * be;
    c[0] += k;
}

/* One outcome's ROWS line x into its record's cells c (layout in
 * estimate_private.h); s its domain's shift. */
static void rows_merge(svy_stat st, double *c, double *s, const double *x)
{
    double dl, m[8], Sa, Sb;
    switch (st) {
    case SVY_STAT_RATE: /* n z bad k1 v1 d1 e1 k0 v0 d0 e0 */
        svy_sums_group_merge(c, x + 3);
        svy_sums_group_merge(c + 4, x + 7);
        break;
    case SVY_STAT_MEAN: /* n z c k a0 b0 da db daa dab dbb q; a = w (y - c): moved by dl b */
        dl = reshift(s, x[2], x[0]);
        Sa = x[3] * x[4] + x[6], Sb = x[3] * x[5] + x[7];
        m[0] = x[3], m[1] = x[4] + dl * x[5], m[2] = x[5], m[3] = x[6] + dl * x[7], m[4] = x[7];
        m[5] = x[8] + 2 * dl * x[9] + dl * dl * x[10], m[6] = x[9] + dl * x[10], m[7] = x[10];
        comoment_merge(c, m);
        c[8] += x[11] + 2 * dl * Sa + dl * dl * Sb;
        break;
    case SVY_STAT_TOTAL: /* n z c k a0 b0 da db daa dab dbb a q; a = w y */
        dl = reshift(s, x[2], x[0]);
        Sb = x[3] * x[5] + x[7];
        comoment_merge(c, x + 3);
        c[8] += x[11] + dl * Sb;
        c[9] += x[12] + 2 * dl * x[11] + dl * dl * Sb;
        break;
    case SVY_STAT_RATIO: /* n z k a0 b0 da db daa dab dbb w yy xy xx */
        comoment_merge(c, x + 2);
        for (int i = 0; i < 4; i++)
            c[8 + i] += x[10 + i];
        break;
    default:
        break;
    }
}

/* A line's sums into the domain's record of its unit (or stratum) in layer
 * li; f in the layer's own form (ROWS fields or SUMS fields); last: the
 * line's own layer (the last), which counts its rows in the domain. */
static svy_status add_line(svy_est *e, long dom, const svy_dpath *p, long long rows, long long nz, const double *f,
                           size_t li, int last, svy_err *err)
{
    dominfo *D = &e->doms[dom];
    if (last)
        D->rows += rows;
    layer *L = &e->lay[li];
    long r = svy_est_rec_get(e, L, li, (uint32_t)dom, L->by_stratum ? p->stratum[L->stage] : p->unit[L->stage], err);
    if (r < 0)
        return SVY_E_NOMEM;
    rec *R = &L->recs[r];
    R->rows += rows;
    R->nzrows += nz;
    double *blk = L->pool + R->block, *dp = e->dpool + D->block;
    const struct sums_bind *S = e->sums;
    for (size_t o = 0; o < e->nout; o++) {
        const double *x = f + S->foff[o];
        double *c = blk + (L->rows ? e->out[o].off_rows : e->out[o].off_sums), *s = dp + DB * o, dl;
        if (last)
            s[2] += x[1];
        if (e->out[o].stat == SVY_STAT_SHARE) {
            svy_status st = svy_sums_share_merge(e, o, li, (size_t)r, x, S->lv[o], err);
            if (st)
                return st;
            blk = L->pool + L->recs[r].block;
            continue;
        }
        if (L->rows) {
            rows_merge(e->out[o].stat, c, s, x);
            continue;
        }
        switch (e->out[o].stat) {
        case SVY_STAT_RATE:
            c[0] += x[2], c[1] += x[3], c[2] += x[0];
            break;
        case SVY_STAT_MEAN: /* n z c a b q -> A' B cnt Q */
            dl = reshift(s, x[2], x[0]);
            c[0] += x[3] + dl * x[4], c[1] += x[4], c[2] += x[0];
            c[3] += x[5] + 2 * dl * x[3] + dl * dl * x[4];
            break;
        case SVY_STAT_TOTAL: /* n z c t b a q -> A B cnt A' Q */
            dl = reshift(s, x[2], x[0]);
            c[0] += x[3], c[1] += x[4], c[2] += x[0];
            c[3] += x[5] + dl * x[4];
            c[4] += x[6] + 2 * dl * x[5] + dl * dl * x[4];
            break;
        case SVY_STAT_RATIO: /* n z y x w yy xy xx -> A X cnt W Syy Sxy Sxx */
            c[0] += x[2], c[1] += x[3], c[2] += x[0], c[3] += x[4];
            c[4] += x[5], c[5] += x[6], c[6] += x[7];
            break;
        default:
            break;
        }
    }
    return SVY_OK;
}

/* Outcome o's ROWS fields x as SUMS fields y (survey/sums.h): a layer
 * above the lines' own takes the sums of its units, k a0 + da being the
 * sum of a (the co-moments' and groups' first values times the count, plus
 * the deviations from them). */
static void rows_to_sums(const svy_est *e, size_t o, const double *x, double *y)
{
    const outcome *oc = &e->out[o];
    y[0] = x[0], y[1] = x[1];
    switch (oc->stat) {
    case SVY_STAT_RATE: /* n z bad k1 v1 d1 e1 k0 v0 d0 e0 -> n z s1 s0 bad */
        y[2] = x[3] * x[4] + x[5], y[3] = x[7] * x[8] + x[9], y[4] = x[2];
        break;
    case SVY_STAT_MEAN: /* n z c k a0 b0 da db daa dab dbb q -> n z c a b q */
        y[2] = x[2], y[3] = x[3] * x[4] + x[6], y[4] = x[3] * x[5] + x[7], y[5] = x[11];
        break;
    case SVY_STAT_TOTAL: /* n z c k a0 b0 da db daa dab dbb a q -> n z c t b a q */
        y[2] = x[2], y[3] = x[3] * x[4] + x[6], y[4] = x[3] * x[5] + x[7], y[5] = x[11], y[6] = x[12];
        break;
    case SVY_STAT_RATIO: /* n z k a0 b0 da db daa dab dbb w yy xy xx -> n z y x w yy xy xx */
        y[2] = x[2] * x[3] + x[5], y[3] = x[2] * x[4] + x[6];
        for (int i = 0; i < 4; i++)
            y[4 + i] = x[10 + i];
        break;
    case SVY_STAT_SHARE:
        if (svy_sums_open(oc)) { /* n z k v d e -> n z b */
            y[2] = x[2] * x[3] + x[4];
            break;
        }
        y[2] = x[2], y[3] = 0; /* n z other, per level k v d e -> n z other b, per level k s */
        for (size_t k = 0; k < oc->nlev; k++) {
            const double *g = x + 3 + 4 * k;
            y[4 + 2 * k] = g[0];
            y[5 + 2 * k] = g[0] * g[1] + g[2];
            y[3] += y[5 + 2 * k];
        }
        break;
    default:
        break;
    }
}

/* A line into every layer: its own (the last) as read, those above (of
 * more than one stage: units of the stages above) its sums. */
static svy_status add_layers(svy_est *e, long dom, const svy_dpath *p, long long rows, long long nz, const double *f,
                             svy_err *err)
{
    struct sums_bind *S = e->sums;
    svy_status st = add_line(e, dom, p, rows, nz, f, e->nlay - 1, 1, err);
    if (st != SVY_OK || e->nlay == 1)
        return st;
    double *y = S->fsums; /* the SUMS form at the same offsets: it is never longer than the ROWS form */
    if (!y && !(y = S->fsums = svy_calloc(S->width + 1, sizeof *y)))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    for (size_t o = 0; o < e->nout; o++)
        rows_to_sums(e, o, f + S->foff[o], y + S->foff[o]);
    for (size_t li = 0; li + 1 < e->nlay && st == SVY_OK; li++)
        st = add_line(e, dom, p, rows, nz, y, li, 0, err);
    return st;
}

/* The line's numbers: counts, and every field (finite). */
static svy_status read_line(svy_est *e, const svy_row *row, long long *rows, long long *nz, long long *dm,
                            long long *sub, svy_err *err)
{
    struct sums_bind *S = e->sums;
    const svy_value *id = &row->vals[S->c_id];
    char nb[SVY_DTOA_MAX];
    size_t len;
    const char *t = svy_value_is_missing(id) ? "" : svy_dsn_key(id, 0, nb, &len);
    if (strcmp(t, S->ident) != 0)
        return svy_err_set(err, SVY_E_USAGE, NULL, row->index, S->c_id + 1, "_svysums",
                            "these sums were made for other flags (%s; these flags make %s): give svy-tab --from-sums "
                            "the same design, --by, estimate and --subpop flags as --partial or --sql",
                            t[0] ? t : "none", S->ident);
    if (!count_of(row, S->c_rows, rows))
        return bad_line(e, row, S->c_rows, err, "_rows is not a count");
    if (!count_of(row, S->c_nz, nz) || *nz > *rows)
        return bad_line(e, row, S->c_nz, err, "_nzrows is not a count of at most _rows");
    if (!count_of(row, S->c_dom, dm) || *dm > 1 || !count_of(row, S->c_sub, sub) || *sub > 1)
        return bad_line(e, row, S->c_dom, err, "_dom and _sub must be 0 or 1");
    for (size_t w = 0; w < S->width; w++) { /* every outcome's fields, in order (sums_bind) */
        const svy_value *v = &row->vals[S->cols[w]];
        if (svy_value_is_missing(v)) /* SUM over no row is NULL in SQL */
            S->f[w] = 0;
        else if (!svy_value_number(v, &S->f[w]) || !isfinite(S->f[w]))
            return bad_line(e, row, S->cols[w], err, "not a number");
    }
    for (size_t o = 0; o < e->nout; o++)
        if (e->out[o].stat == SVY_STAT_SHARE && !svy_sums_open(&e->out[o]) && S->f[S->foff[o] + 2] > 0)
            return svy_fail_row(e->schema, row, S->cols[S->foff[o] + 2], err,
                                "column %s holds values that are not among the codebook's codes of %s in these rows "
                                "(_%zu_other); the share would leave them out",
                                e->out[o].column, e->out[o].column, o + 1);
    for (size_t o = 0; o < e->nout; o++)
        if (e->out[o].stat == SVY_STAT_RATE && S->f[S->foff[o] + (S->rows ? 2 : 4)] > 0)
            return svy_fail_row(e->schema, row, S->cols[S->foff[o] + (S->rows ? 2 : 4)], err,
                                "column %s holds values other than 0 and 1 in these rows, but a rate needs 0 or 1 "
                                "(use --rate %s=VALUE for a code)",
                                e->out[o].column, e->out[o].column);
    return SVY_OK;
}

/* The design's counts: svy_dsn_row counted the line as one row. */
static void design_counts(svy_est *e, const svy_dpath *p, long long rows, long long nz)
{
    svy_dsn *d = &e->dsn;
    d->rows += rows - 1;
    if (d->pass != 1) /* the design counts in its first pass only */
        return;
    svy_dstratum *T = &d->st[0].strata[p->stratum[0]];
    if (d->nids == 0)
        T->n += rows - 1; /* rows are the units */
    if (d->nstage >= 2) /* the line's rows are units of its stratum at the last stage */
        d->st[d->nstage - 1].strata[p->stratum[d->nstage - 1]].n += rows - 1;
    if (p->w != 0) {
        T->nzrows += nz - 1;
        d->zero_rows += rows - nz;
    } else {
        d->zero_rows += rows - 1;
    }
}

/* The line's level of each open share that has valid rows in it: a level
 * of the table even where the line is in no domain, as a row's value is. */
static svy_status open_levels(svy_est *e, const svy_row *line, svy_err *err)
{
    struct sums_bind *S = e->sums;
    for (size_t o = 0; o < e->nout; o++) {
        if (S->c_lev[o] < 0 || S->f[S->foff[o]] == 0)
            continue;
        const svy_value *v = &line->vals[S->c_lev[o]];
        if (svy_value_is_missing(v))
            return svy_fail_row(e->schema, line, S->c_lev[o], err,
                                "_%zu_level is empty, but the line has valid values of %s (_%zu_n)", o + 1,
                                e->out[o].column, o + 1);
        if ((S->lv[o] = svy_est_level_get(e, o, v, err)) < 0)
            return SVY_E_NOMEM;
    }
    return SVY_OK;
}

/* clickhouse-client prints NULL as \N in CSVWithNames (no output setting
 * for it in 18.16; a string, even an empty one, is quoted), where SQLite's
 * and PostgreSQL's clients print an empty field: a field that is exactly \N
 * is missing, as in a file (a by value "\N" reads as NULL).  *copy: the
 * line with those fields missing (vals malloc'd); 1 when made, 0 for a
 * line without one, -1 out of memory. */
static int is_ch_null(const svy_value *v)
{
    return !svy_value_is_missing(v) && v->str && v->len == 2 && v->str[0] == '\\' && v->str[1] == 'N';
}

static int ch_nulls(const svy_row *line, svy_row *copy)
{
    size_t i = 0;
    while (i < line->nvals && !is_ch_null(&line->vals[i]))
        i++;
    if (i == line->nvals)
        return 0;
    svy_value *v = malloc(line->nvals * sizeof *v);
    if (!v)
        return -1;
    memcpy(v, line->vals, line->nvals * sizeof *v);
    for (; i < line->nvals; i++)
        if (is_ch_null(&v[i]))
            v[i].missing = SVY_MISS_SYSTEM, v[i].str = "", v[i].len = 0;
    *copy = *line;
    copy->vals = v;
    copy->line = NULL, copy->line_len = 0, copy->line_nvals = 0;
    return 1;
}

svy_status svy_est_push_sums(svy_est *e, const svy_row *line, svy_err *err)
{
    SVY_FAIL_IF(!e->sums || !e->bound || e->finished || e->ended, err, SVY_E_USAGE,
                "svy_est_push_sums without svy_est_set_from_sums and bind, or after the end");
    svy_status st;
    svy_row nl;
    int cn = ch_nulls(line, &nl);
    if (cn < 0)
        return svy_est_blame(e, svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory"), err);
    if (cn) {
        st = svy_est_push_sums(e, &nl, err);
        free((void *)nl.vals);
        return st;
    }
    if (!e->sums->ready && (st = ready(e, err)) != SVY_OK)
        return svy_est_blame(e, st, err);
    if (e->rep && svy_sums_rep_part_line(e, e->sums->rep, line, &st, err)) /* a Gram chunk alone */
        return st;
    long long rows, nz, dm, sub;
    if ((st = read_line(e, line, &rows, &nz, &dm, &sub, err)) != SVY_OK)
        return svy_est_blame(e, st, err);
    if (rows == 0)
        return SVY_OK;
    svy_dpath p;
    if ((st = svy_dsn_row(&e->dsn, line, &p, err)) != SVY_OK)
        return svy_est_blame(e, st, err);
    if (e->dsn.repeat)
        return svy_est_blame(e, svy_fail_row(e->schema, line, e->dsn.st[e->dsn.nstage - 1].id_col, err,
                                             "two lines of one unit name the same %s: units of several rows at the "
                                             "last stage do not come from sums", e->d.psu[e->dsn.nstage - 1]), err);
    if ((p.w != 0) != (nz > 0))
        return svy_est_blame(e, bad_line(e, line, e->dsn.weight_col, err, "the weight column must be 1 when _nzrows > 0, else 0"), err);
    design_counts(e, &p, rows, nz);
    if (!e->dsn.estimating) /* weights from the fpc: the lines come again when n is known */
        return SVY_OK;
    e->rows += rows;
    if (!sub)
        return SVY_OK;
    if (e->subpop)
        e->subpop_rows += rows;
    if ((st = open_levels(e, line, err)) != SVY_OK)
        return svy_est_blame(e, st, err);
    double *f = e->sums->f;
    if (e->dsn.derive_w) /* sums of weight 1: the line's weight N/n (constant in it) to each field's power */
        for (size_t o = 0, w = 0; o < e->nout; o++)
            for (size_t j = 0; j < svy_sums_nf(e, o); j++, w++) {
                int pw = svy_sums_fpow(e, o, j);
                f[w] *= pw == 2 ? p.w * p.w : pw ? p.w : 1;
            }
    if (dm) {
        long dom = svy_est_row_domain(e, line, err);
        if (dom == -2)
            return SVY_E_NOMEM;
        if (dom >= 0 && (st = add_layers(e, dom, &p, rows, nz, f, err)) != SVY_OK)
            return st;
    } else if (e->test_on && svy_value_is_missing(&line->vals[e->by_idx[e->test_by]]) &&
               svy_est_row_domain(e, line, err) == -3) { /* only --test's variable missing (no domain made) */
        for (long long k = 0; k < rows; k++)
            if ((st = svy_est_test_row(e, &p, err)) != SVY_OK)
                return st;
    }
    if (e->d.overall && e->nby > 0) {
        long od = svy_est_overall_dom(e, line, err);
        if (od < 0)
            return SVY_E_NOMEM;
        if ((st = add_layers(e, od, &p, rows, nz, f, err)) != SVY_OK)
            return st;
    }
    if (e->rep)
        return svy_sums_rep_line(e, e->sums->rep, line, (int)dm, f, e->sums->foff, e->sums->lv, err);
    return SVY_OK;
}
