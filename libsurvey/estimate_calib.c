/* Calibration-aware linearization (survey/calibrate.h; the state is in
 * calib_private.h): the margins, the shared sums of each row, the residual
 * operator of R's svyrecvar on sums, and the variance with residuals.
 *
 * With r_k = z_k - psw_k b_{j(k)} the calibration residual of row k (j its
 * joint cell, b_j what the operator subtracts per unit of weight), a
 * first-stage unit's total of residuals is Z_i - sum_j PW_{i,j} b_j, with
 * PW the unit's weight in cell j: the units outside the domain get a
 * residual total too.  Where rows are the units, a stratum's sum of
 * squares is sum z^2 - 2 sum_j b_j (sum z psw)_j + sum_j b_j^2 (sum psw^2)_j
 * minus (its sum)^2 / n.  b is linear in the sums of z (post-
 * stratification: X_c / W_c) or of u = z / w (raking: back-fitting). */
#include "svy_private.h"
#include "calib_private.h"
#include "variance_private.h"
#include "weight_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

svy_status svy_cal_add_margin(svy_cal **cp, const char *path, svy_err *err)
{
    if (!*cp && !(*cp = svy_calloc(1, sizeof **cp)))
        return nomem(err);
    svy_cal *c = *cp;
    if (!c->wt && !(c->wt = svy_weight_new()))
        return nomem(err);
    svy_status st = svy_weight_load_margin(c->wt, path, err);
    if (st)
        return st;
    char **np = realloc(c->paths, (c->npaths + 1) * sizeof *np);
    if (!np)
        return nomem(err);
    c->paths = np;
    if (!(c->paths[c->npaths] = svy_strdup(path)))
        return nomem(err);
    c->npaths++;
    return SVY_OK;
}

svy_status svy_est_add_calibration(svy_est *e, const char *path, svy_err *err)
{
    SVY_FAIL_IF(e->bound, err, SVY_E_USAGE, "calibration margins must be given before the schema is bound");
    SVY_FAIL_IF(e->rep, err, SVY_E_USAGE,
                "--calibrated-to with replicate weights: the replicates already carry the calibration");
    return svy_cal_add_margin(&e->cal, path, err);
}

double svy_est_calibration_gap(const svy_est *e)
{
    return e->cal && e->cal->prepared ? e->cal->gap : NAN;
}

size_t svy_est_calibration_count(const svy_est *e)
{
    return e->cal ? e->cal->npaths : 0;
}

const char *svy_est_calibration_margin(const svy_est *e, size_t i)
{
    return e->cal && i < e->cal->npaths ? e->cal->paths[i] : NULL;
}

const char *svy_cal_margin_column(const svy_cal *c, size_t i)
{
    return c && c->wt && i < c->wt->nmvars ? c->wt->mvars[i].name : NULL;
}

const char *svy_cal_column(const svy_est *e, size_t i)
{
    return svy_cal_margin_column(e->cal, i);
}

static void layer_clear(layer *L)
{
    free(L->recs);
    free(L->pool);
    svy_u64map_free(&L->map);
    svy_u64map_free(&L->lmap);
    free(L->lpool);
    size_t bs = L->bsize;
    memset(L, 0, sizeof *L);
    L->bsize = bs;
}

static void sums_free(svy_cal *c)
{
    svy_u64map_free(&c->pcmap);
    free(c->pc_place);
    free(c->pc_cell);
    free(c->pc_w);
    free(c->pc_w2);
    free(c->pc_z0);
    free(c->cell_n);
    free(c->cell_w);
    layer_clear(&c->lw);
    layer_clear(&c->l1);
    layer_clear(&c->l2);
    void *v[] = {c->dw, c->d1, c->d2, c->pw, c->p1, c->p2, c->line, c->mstart, c->line_n,
                 c->X, c->b, c->a, c->acc, c->z, c->zq, c->ustart, c->uorder};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        free(v[i]);
    c->pc_place = c->pc_cell = NULL;
    c->pc_w = c->pc_w2 = c->pc_z0 = c->cell_n = c->cell_w = NULL;
    c->dw = c->d1 = c->d2 = c->pw = c->p1 = c->p2 = c->mstart = c->ustart = c->uorder = NULL;
    c->line = NULL;
    c->line_n = c->X = c->b = c->a = c->acc = c->z = c->zq = NULL;
    c->npc = c->cappc = c->ncell = c->capcell = 0;
    c->prepared = 0;
}

void svy_cal_free(svy_cal *c)
{
    if (!c)
        return;
    sums_free(c);
    svy_weight_free(c->wt);
    for (size_t i = 0; i < c->npaths; i++)
        free(c->paths[i]);
    free(c->paths);
    free(c);
}

svy_status svy_cal_restart(svy_cal *c, const svy_schema *schema, const char *source, svy_err *err)
{
    sums_free(c);
    svy_weight_free(c->wt);
    if (!(c->wt = svy_weight_new()))
        return nomem(err);
    for (size_t i = 0; i < c->npaths; i++) {
        svy_status st = svy_weight_load_margin(c->wt, c->paths[i], err);
        if (st)
            return st;
    }
    return svy_weight_begin(c->wt, schema, source, err);
}

/* The layers the variance reads: one, keyed by stratum (rows are the
 * units), by first-stage unit, or by first-stage unit whose rows are the
 * units of a second stage (R's two-stage recursion). */
static svy_status shape(svy_est *e, svy_err *err)
{
    svy_cal *c = e->cal;
    SVY_FAIL_IF(e->nlay != 1, err, SVY_E_USAGE,
                "--calibrated-to with a variance of two or more stages is supported when the second stage's units "
                "are the rows and it has no strata of its own; else add --ultimate-cluster (the first stage only, "
                "R's survey.ultimate.cluster)");
    c->rows_units = e->lay[0].by_stratum;
    c->stage2 = !e->lay[0].by_stratum && e->lay[0].rows;
    return SVY_OK;
}

svy_status svy_cal_bind(svy_est *e, svy_err *err)
{
    svy_cal *c = e->cal;
    SVY_FAIL_IF(e->rep, err, SVY_E_USAGE,
                "--calibrated-to with replicate weights: the replicates already carry the calibration");
    svy_status st = shape(e, err);
    if (st)
        return st;
    c->lw.bsize = c->l1.bsize = c->l2.bsize = e->sums_size;
    e->batch = 0; /* rows are summed one by one (the calibration layers) */
    const char *src = e->source ? svy_reader_name(e->source) : NULL;
    return svy_cal_begin(c, e->schema, src, err);
}

svy_status svy_cal_begin(svy_cal *c, const svy_schema *schema, const char *source, svy_err *err)
{
    c->nm = svy_weight_margin_count(c->wt);
    c->rake = c->nm >= 2;
    return svy_weight_begin(c->wt, schema, source, err);
}

svy_status svy_cal_reset(svy_est *e, svy_err *err)
{
    sums_free(e->cal);
    svy_status st = shape(e, err); /* the layers may change when the rows come again */
    const char *src = e->source ? svy_reader_name(e->source) : NULL;
    return st ? st : svy_cal_restart(e->cal, e->schema, src, err);
}

/* "respondent at X=v, a level margin M lacks" is svy-weight's wording. */
static svy_status cell_error(svy_err *err)
{
    const char *pre = "respondent at ";
    size_t pl = strlen(pre);
    char msg[sizeof err->msg + 40];
    if (strncmp(err->msg, pre, pl) == 0)
        snprintf(msg, sizeof msg, "--calibrated-to: the row has %.400s", err->msg + pl);
    else
        snprintf(msg, sizeof msg, "--calibrated-to: %.400s", err->msg);
    memcpy(err->msg, msg, sizeof err->msg - 1);
    err->msg[sizeof err->msg - 1] = '\0';
    return err->code;
}

svy_status svy_cal_cell(svy_cal *c, const svy_row *row, double w, size_t *cellp, svy_err *err)
{
    size_t cell;
    double start;
    svy_status st = svy_weight_add_row_cell(c->wt, row, &cell, &start, err);
    if (st)
        return st == SVY_E_DATA ? cell_error(err) : st;
    if (cell >= c->ncell) {
        size_t old = c->capcell;
        if (!svy_grow((void **)&c->cell_n, &old, cell + 1, sizeof *c->cell_n) ||
            !svy_grow((void **)&c->cell_w, &c->capcell, cell + 1, sizeof *c->cell_w))
            return nomem(err);
        for (size_t j = c->ncell; j <= cell; j++)
            c->cell_n[j] = c->cell_w[j] = 0;
        c->ncell = cell + 1;
    }
    c->cell_n[cell] += 1;
    c->cell_w[cell] += w;
    *cellp = cell;
    return SVY_OK;
}

svy_status svy_cal_row(svy_est *e, const svy_row *row, const svy_dpath *p, svy_err *err)
{
    svy_cal *c = e->cal;
    size_t cell;
    double w = p->w;
    svy_status st = svy_cal_cell(c, row, w, &cell, err);
    if (st)
        return st;
    if (w == 0 && c->rake)
        return svy_fail_row(e->schema, row, e->dsn.weight_col, err, "%s", SVY_CAL_ZERO_RAKE);
    uint32_t place = c->rows_units ? p->stratum[0] : p->unit[0];
    int added;
    long pc = svy_u64map_get(&c->pcmap, (uint64_t)place << 32 | (uint64_t)cell, c->npc, &added);
    if (pc < 0)
        return nomem(err);
    if (added) {
        size_t need = c->npc + 1, k1 = c->cappc, k2 = c->cappc, k3 = c->cappc, k4 = c->cappc;
        if (!svy_grow((void **)&c->pc_place, &k1, need, sizeof *c->pc_place) ||
            !svy_grow((void **)&c->pc_cell, &k2, need, sizeof *c->pc_cell) ||
            !svy_grow((void **)&c->pc_w, &k3, need, sizeof *c->pc_w) ||
            !svy_grow((void **)&c->pc_z0, &k4, need, sizeof *c->pc_z0) ||
            !svy_grow((void **)&c->pc_w2, &c->cappc, need, sizeof *c->pc_w2))
            return nomem(err);
        c->pc_place[c->npc] = place;
        c->pc_cell[c->npc] = (uint32_t)cell;
        c->pc_w[c->npc] = c->pc_w2[c->npc] = c->pc_z0[c->npc] = 0;
        c->npc++;
    }
    /* R: a row of weight 0 before and after post-stratification counts with
     * weight 1 (in the file's units: folded in at svy_cal_prepare, once the
     * weights' scale is known) */
    if (w == 0)
        c->pc_z0[pc] += 1;
    c->pc_w[pc] += w;
    c->pc_w2[pc] += w * w;
    c->cur_cell = (uint32_t)cell;
    c->cur_pc = (uint32_t)pc;
    return SVY_OK;
}

/* The records of each domain: a counting sort by domain into perm. */
static svy_status by_domain(const layer *L, size_t ndom, size_t **start, size_t **perm, svy_err *err)
{
    size_t *s = svy_calloc(ndom + 2, sizeof *s), *p = svy_calloc(L->nrecs ? L->nrecs : 1, sizeof *p);
    if (!s || !p) {
        free(s);
        free(p);
        return nomem(err);
    }
    for (size_t r = 0; r < L->nrecs; r++)
        s[L->recs[r].domain + 2]++;
    for (size_t d = 0; d < ndom; d++)
        s[d + 2] += s[d + 1];
    for (size_t r = 0; r < L->nrecs; r++)
        p[s[L->recs[r].domain + 1]++] = r;
    *start = s;
    *perm = p;
    return SVY_OK;
}

/* Every margin line's weight against its total. */
static svy_status check_totals(svy_cal *c, double wscale, svy_err *err)
{
    const svy_weight *w = c->wt;
    for (size_t m = 0; m < c->nm; m++) {
        const margin *M = &w->margins[m];
        for (size_t l = 0; l < M->nlines; l++) {
            double s = 0;
            for (size_t j = 0; j < c->ncell; j++)
                if (c->line[j * c->nm + m] == l)
                    s += c->cell_w[j];
            s *= wscale;
            double gap = fabs(s - M->total[l]) / fabs(M->total[l]);
            if (gap > c->gap)
                c->gap = gap;
            if (!(gap <= SVY_CAL_GAP_MAX)) {
                char lev[300], msg[500];
                svy_weight_describe_line(w, M, l, lev, sizeof lev);
                snprintf(msg, sizeof msg,
                         "--calibrated-to: the weights sum to %.17g at %s, not to the total %.17g: the weight column "
                         "was not calibrated to this margin",
                         s, lev, M->total[l]);
                return svy_err_set(err, SVY_E_DATA, M->name, M->lineno[l], 0, NULL, "%s", msg);
            }
        }
    }
    return SVY_OK;
}

/* The first-stage units by stratum (units as places). */
static svy_status units_by_stratum(svy_est *e, svy_err *err)
{
    svy_cal *c = e->cal;
    const svy_dstage *S = &e->dsn.st[0];
    size_t nu = S->nunits, nh = S->nstrata;
    if (!(c->ustart = svy_calloc(nh + 2, sizeof *c->ustart)) || !(c->uorder = svy_calloc(nu ? nu : 1, sizeof *c->uorder)))
        return nomem(err);
    for (size_t u = 0; u < nu; u++)
        c->ustart[S->units[u].stratum + 2]++;
    for (size_t h = 0; h < nh; h++)
        c->ustart[h + 2] += c->ustart[h + 1];
    for (size_t u = 0; u < nu; u++)
        c->uorder[c->ustart[S->units[u].stratum + 1]++] = u;
    return SVY_OK;
}

svy_status svy_cal_cells_ready(svy_cal *c, double wscale, svy_err *err)
{
    svy_status st = svy_weight_fit(c->wt, err); /* the margins against the cells: every line has rows */
    if (st)
        return st;
    const svy_weight *w = c->wt;
    SVY_FAIL_IF(w->cells_ix.n != c->ncell, err, SVY_E_USAGE, "calibration cells disagree (internal)");
    size_t nl = 0;
    if (!(c->mstart = svy_calloc(c->nm + 1, sizeof *c->mstart)))
        return nomem(err);
    for (size_t m = 0; m < c->nm; m++) {
        c->mstart[m] = nl;
        nl += w->margins[m].nlines;
    }
    c->mstart[c->nm] = nl;
    size_t J = c->ncell ? c->ncell : 1;
    if (!(c->line = svy_calloc(J * c->nm, sizeof *c->line)) || !(c->line_n = svy_calloc(nl + 1, sizeof *c->line_n)) ||
        !(c->X = svy_calloc(J, sizeof *c->X)) || !(c->b = svy_calloc(J, sizeof *c->b)) ||
        !(c->a = svy_calloc(nl + 1, sizeof *c->a)) || !(c->acc = svy_calloc(nl + 1, sizeof *c->acc)))
        return nomem(err);
    for (size_t k = 0; k < w->nresp; k++)
        for (size_t m = 0; m < c->nm; m++)
            c->line[w->resp[k] * c->nm + m] = w->margins[m].line_of[k];
    for (size_t j = 0; j < c->ncell; j++)
        for (size_t m = 0; m < c->nm; m++)
            c->line_n[c->mstart[m] + c->line[j * c->nm + m]] += c->cell_n[j];
    return check_totals(c, wscale, err);
}

svy_status svy_cal_prepare(svy_est *e, svy_err *err)
{
    svy_cal *c = e->cal;
    if (c->prepared)
        return SVY_OK;
    svy_status st = svy_cal_cells_ready(c, e->dsn.wscale, err);
    if (st)
        return st;
    size_t places = c->rows_units ? e->dsn.st[0].nstrata : e->dsn.st[0].nunits;
    if (!(c->z = svy_calloc(places + 1, sizeof *c->z)) || !(c->zq = svy_calloc(places + 1, sizeof *c->zq)))
        return nomem(err);
    double one = 1 / e->dsn.wscale; /* weight 1, scaled as the weights are */
    for (size_t k = 0; k < c->npc; k++) {
        c->pc_w[k] += c->pc_z0[k] * one;
        c->pc_w2[k] += c->pc_z0[k] * one * one;
    }
    size_t nd = e->dom_tab.n;
    if ((st = by_domain(&c->lw, nd, &c->dw, &c->pw, err)) || (st = by_domain(&c->l1, nd, &c->d1, &c->p1, err)) ||
        (st = by_domain(&c->l2, nd, &c->d2, &c->p2, err)))
        return st;
    if (!c->rows_units && (st = units_by_stratum(e, err)))
        return st;
    c->prepared = 1;
    return SVY_OK;
}

/* sum over the terms of their records' alpha p + beta q in layer L, by key, into out. */
static void term_sums(const svy_est *e, const layer *L, const size_t *start, const size_t *perm, size_t nt,
                      const size_t *dom, const vctx *terms, double *out)
{
    for (size_t t = 0; t < nt; t++)
        for (size_t i = start[dom[t]]; i < start[dom[t] + 1]; i++) {
            size_t r = perm[i];
            usum u = svy_est_rec_usum(e, L, r, terms[t].q);
            out[L->recs[r].key] += terms[t].z.alpha * u.p + terms[t].z.beta * u.q;
        }
}

/* b per joint cell from c->X: what the residual subtracts per unit of weight. */
static void coef_of_X(svy_cal *c)
{
    size_t J = c->ncell, nm = c->nm, nl = c->mstart[nm];
    memset(c->a, 0, nl * sizeof *c->a);
    if (!c->rake) { /* post-stratification: the w-weighted mean of u in the cell */
        memset(c->acc, 0, nl * sizeof *c->acc);
        double *wl = c->acc;
        for (size_t j = 0; j < J; j++) {
            c->a[c->line[j]] += c->X[j];
            wl[c->line[j]] += c->cell_w[j];
        }
        for (size_t j = 0; j < J; j++)
            c->b[j] = c->a[c->line[j]] / wl[c->line[j]];
        return;
    }
    /* raking: R's 10 passes of back-fitting u on the margins, unweighted means */
    for (int it = 0; it < SVY_CAL_PASSES; it++)
        for (size_t m = 0; m < nm; m++) {
            double *acc = c->acc + c->mstart[m], *am = c->a + c->mstart[m];
            size_t nlm = c->mstart[m + 1] - c->mstart[m];
            memset(acc, 0, nlm * sizeof *acc);
            for (size_t j = 0; j < J; j++) {
                const uint32_t *ln = c->line + j * nm;
                double cur = 0;
                for (size_t m2 = 0; m2 < nm; m2++)
                    cur += c->a[c->mstart[m2] + ln[m2]];
                acc[ln[m]] += c->X[j] - c->cell_n[j] * cur;
            }
            for (size_t l = 0; l < nlm; l++)
                am[l] += acc[l] / c->line_n[c->mstart[m] + l];
        }
    for (size_t j = 0; j < J; j++) {
        double s = 0;
        for (size_t m = 0; m < nm; m++)
            s += c->a[c->mstart[m] + c->line[j * nm + m]];
        c->b[j] = s;
    }
}

void svy_cal_coef(svy_cal *c, const double *X, double *b)
{
    memcpy(c->X, X, c->ncell * sizeof *c->X);
    coef_of_X(c);
    memcpy(b, c->b, c->ncell * sizeof *b);
}

static void residual_b(const svy_est *e, size_t nt, const size_t *dom, const vctx *terms)
{
    svy_cal *c = e->cal;
    memset(c->X, 0, c->ncell * sizeof *c->X);
    term_sums(e, c->rake ? &c->l1 : &c->lw, c->rake ? c->d1 : c->dw, c->rake ? c->p1 : c->pw, nt, dom, terms, c->X);
    coef_of_X(c);
}

static svy_status add_stratum(vctx *v, svy_vgroup *g, size_t h, double ss, double uu)
{
    const svy_dstratum *T = &v->e->dsn.st[0].strata[h];
    if (svy_vgroup_add(g, &ss, &uu, (double)T->n, T->g, v->e->d.lonely) < 0)
        return SVY_E_DATA;
    return SVY_OK;
}

/* First-stage units hold several rows: each unit's total of residuals. */
static svy_status units_var(vctx *v, svy_vgroup *g, size_t nt, const size_t *dom, const vctx *terms, svy_err *err)
{
    svy_est *e = v->e;
    svy_cal *c = e->cal;
    const layer *L = &e->lay[0];
    const svy_dstage *S = &e->dsn.st[0];
    memset(c->z, 0, S->nunits * sizeof *c->z);
    for (size_t t = 0; t < nt; t++)
        for (size_t i = L->dstart[dom[t]]; i < L->dstart[dom[t] + 1]; i++) {
            usum u = svy_est_rec_usum(e, L, i, terms[t].q);
            c->z[L->recs[i].key] += terms[t].z.alpha * u.p + terms[t].z.beta * u.q;
        }
    for (size_t k = 0; k < c->npc; k++)
        c->z[c->pc_place[k]] -= c->pc_w[k] * c->b[c->pc_cell[k]];
    for (size_t h = 0; h < S->nstrata; h++) {
        size_t a = c->ustart[h], b = c->ustart[h + 1];
        if (a == b)
            continue;
        for (size_t i = a; i < b; i++)
            c->zq[i - a] = c->z[c->uorder[i]];
        double ss, uu;
        svy_vss_units(c->zq, b - a, 1, (double)S->strata[h].n, &ss, &uu);
        if (add_stratum(v, g, h, ss, uu))
            return svy_dsn_lonely_error(&e->dsn, 0, (uint32_t)h, 0, err);
    }
    return SVY_OK;
}

/* Rows are the units: each stratum's sums of residuals and of their squares. */
static svy_status rows_var(vctx *v, svy_vgroup *g, size_t nt, const size_t *dom, const vctx *terms, svy_err *err)
{
    svy_est *e = v->e;
    svy_cal *c = e->cal;
    const layer *L = &e->lay[0];
    const svy_dstage *S = &e->dsn.st[0];
    size_t nh = S->nstrata;
    memset(c->z, 0, nh * sizeof *c->z);
    memset(c->zq, 0, nh * sizeof *c->zq);
    for (size_t t = 0; t < nt; t++)
        for (size_t i = L->dstart[dom[t]]; i < L->dstart[dom[t] + 1]; i++) {
            uint32_t h = L->recs[i].key;
            double ss, uu;
            svy_est_rows_ss(&terms[t], L, i, (double)S->strata[h].n, &ss, &uu);
            usum u = svy_est_rec_usum(e, L, i, terms[t].q);
            c->z[h] += terms[t].z.alpha * u.p + terms[t].z.beta * u.q;
            c->zq[h] += uu;
        }
    const layer *L2 = &c->l2;
    for (size_t t = 0; t < nt; t++)
        for (size_t i = c->d2[dom[t]]; i < c->d2[dom[t] + 1]; i++) {
            size_t r = c->p2[i], k = L2->recs[r].key;
            usum u = svy_est_rec_usum(e, L2, r, terms[t].q);
            double zw = terms[t].z.alpha * u.p + terms[t].z.beta * u.q;
            c->zq[c->pc_place[k]] -= 2 * c->b[c->pc_cell[k]] * zw;
        }
    for (size_t k = 0; k < c->npc; k++) {
        double b = c->b[c->pc_cell[k]];
        c->z[c->pc_place[k]] -= c->pc_w[k] * b;
        c->zq[c->pc_place[k]] += c->pc_w2[k] * b * b;
    }
    for (size_t h = 0; h < nh; h++) {
        double n = (double)S->strata[h].n, ss = c->zq[h] - c->z[h] * (c->z[h] / n);
        if (add_stratum(v, g, h, ss > 0 ? ss : 0, c->zq[h]))
            return svy_dsn_lonely_error(&e->dsn, 0, (uint32_t)h, 0, err);
    }
    return SVY_OK;
}

/* The second stage, whose units are the rows of each first-stage unit (its
 * stratum at stage 2): per unit, after units_var left the units' totals of
 * residuals in c->z, the sum of squared residuals; each unit is its own
 * group, scaled by the first stage's sampling fraction (R's multistage). */
static svy_status stage2_var(vctx *v, size_t nt, const size_t *dom, const vctx *terms, svy_err *err)
{
    svy_est *e = v->e;
    svy_cal *c = e->cal;
    const layer *L = &e->lay[0];
    const svy_dstage *S2 = &e->dsn.st[1];
    size_t nu = e->dsn.st[0].nunits;
    memset(c->zq, 0, nu * sizeof *c->zq);
    for (size_t t = 0; t < nt; t++)
        for (size_t i = L->dstart[dom[t]]; i < L->dstart[dom[t] + 1]; i++) {
            double ss, uu;
            svy_est_rows_ss(&terms[t], L, i, (double)S2->strata[L->recs[i].key].n, &ss, &uu);
            c->zq[L->recs[i].key] += uu;
        }
    const layer *L2 = &c->l2;
    for (size_t t = 0; t < nt; t++)
        for (size_t i = c->d2[dom[t]]; i < c->d2[dom[t] + 1]; i++) {
            size_t r = c->p2[i], k = L2->recs[r].key;
            usum u = svy_est_rec_usum(e, L2, r, terms[t].q);
            c->zq[c->pc_place[k]] -= 2 * c->b[c->pc_cell[k]] * (terms[t].z.alpha * u.p + terms[t].z.beta * u.q);
        }
    for (size_t k = 0; k < c->npc; k++) {
        double b = c->b[c->pc_cell[k]];
        c->zq[c->pc_place[k]] += c->pc_w2[k] * b * b;
    }
    for (size_t u = 0; u < nu; u++) {
        const svy_dstratum *T = &S2->strata[u];
        double n = (double)T->n, ss = c->zq[u] - c->z[u] * (c->z[u] / n), uu = c->zq[u], sum;
        if (ss < 0)
            ss = 0;
        svy_vgroup g;
        svy_vgroup_begin(&g, 1, &sum);
        if (svy_vgroup_add(&g, &ss, &uu, n, T->g, e->d.lonely) < 0)
            return svy_dsn_lonely_error(&e->dsn, 1, (uint32_t)u, 0, err);
        svy_vgroup_end(&g, T->F, &v->V);
    }
    return SVY_OK;
}

svy_status svy_cal_var(vctx *v, size_t nt, const size_t *dom, const vctx *terms, svy_err *err)
{
    svy_est *e = v->e;
    v->V = 0;
    v->undefined = 0;
    svy_status st = svy_cal_prepare(e, err);
    if (st)
        return st;
    residual_b(e, nt, dom, terms);
    double sum;
    svy_vgroup g;
    svy_vgroup_begin(&g, 1, &sum);
    st = e->cal->rows_units ? rows_var(v, &g, nt, dom, terms, err) : units_var(v, &g, nt, dom, terms, err);
    if (st)
        return st;
    svy_vgroup_end(&g, 1, &v->V);
    if (e->cal->stage2 && (st = stage2_var(v, nt, dom, terms, err)))
        return st;
    if (isnan(v->V))
        v->undefined = 1;
    return SVY_OK;
}
