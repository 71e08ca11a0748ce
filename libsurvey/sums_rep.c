/* Replicate weights in sums files (see survey/sums.h): what the replicate
 * variance needs from the rows, per line of a sums file.
 *
 * A replicate design has no strata or PSUs (the replicates carry them), so
 * its lines are per (domain, subpopulation[, level of an open share]).
 * Each line holds, beside the Taylor fields the point estimates and deff
 * come from:
 *   - under each replicate column's own name, the line's sum of that
 *     replicate weight (so --from-sums finds the columns, PREFIX* too, as
 *     the rows' run did);
 *   - per outcome K, the replicates' sums (replicate_private.h's slots):
 *     rate, mean, total  _K_ry<r> (sum a_r y), _K_ra<r> (sum a_r, valid rows)
 *     ratio              _K_ry<r>, _K_rx<r> (sum a_r x)
 *     share              _K_ra<r>, then per codebook code j _K_ry<j>_<r>;
 *                        a share no codebook labels: _K_ra<r> (the line's level)
 *   - the Gram matrix of the line's replicate weights, _g<i>_<j> = sum a_i a_j
 *     (j <= i): R(R+1)/2 numbers.  The df rules need the rank of a domain's
 *     (and of the whole design's) replicate-weight matrix; the Gram is the
 *     smallest statistic that adds across lines and shards and whose sum
 *     has that rank (the matrix A'A of the rows' A, exactly what the row run
 *     takes the rank of, with the same 1e-10 tolerance on its eigenvalues).
 * Every sum adds across lines and shards; rows outside the subpopulation
 * add nothing (as in a row run, where they never reach the replicates). */
#include "svy_private.h"
#include "replicate_private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/sums.h>

#include "sums_private.h"

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

/* Outcome o's replicate fields, in blocks of R. */
size_t svy_sums_rep_blocks(const svy_est *e, size_t o)
{
    const outcome *oc = &e->out[o];
    if (oc->stat != SVY_STAT_SHARE)
        return 2;
    return svy_sums_open(oc) ? 1 : 1 + oc->nlev;
}

/* The name of block j, replicate k (0-based) of outcome o. */
static void rep_fname(const svy_est *e, size_t o, size_t j, size_t k, char *buf, size_t cap)
{
    const outcome *oc = &e->out[o];
    if (oc->stat == SVY_STAT_SHARE && j > 0)
        snprintf(buf, cap, "_%zu_ry%zu_%zu", o + 1, j, k + 1);
    else if (oc->stat == SVY_STAT_SHARE || j == 1)
        snprintf(buf, cap, "_%zu_%s%zu", o + 1, oc->stat == SVY_STAT_RATIO ? "rx" : "ra", k + 1);
    else
        snprintf(buf, cap, "_%zu_ry%zu", o + 1, k + 1);
}

uint64_t svy_sums_rep_hash(const svy_est *e, uint64_t h)
{
    const svy_rep *r = e->rep;
    if (!r)
        return h;
    /* the columns as bound (a sums file's are the rows'), else as asked
     * (--sql: names only) */
    size_t n = r->names ? r->R : r->npat;
    h = (h ^ 0x72) * 0x100000001b3ull;
    for (size_t i = 0; i < n; i++) {
        const char *s = r->names ? r->names[i] : r->pat[i];
        int dup = 0;
        for (size_t j = 0; !r->names && j < i; j++)
            dup |= strcmp(r->pat[j], s) == 0;
        if (dup)
            continue;
        for (; *s; s++)
            h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
        h = (h ^ 0x1f) * 0x100000001b3ull;
    }
    return h;
}

/* ------------------------------------------------------ partial sums */

struct sums_rep {
    size_t R, ng, width; /* width: doubles per line: R, the outcomes', ng */
    size_t *off;         /* each outcome's first field in a line */
    double *pool;
    size_t nlines, cap;
    size_t *nz;
};

void svy_sums_rep_free(struct sums_rep *p)
{
    if (!p)
        return;
    free(p->off);
    free(p->pool);
    free(p->nz);
    free(p);
}

svy_status svy_sums_rep_new(const svy_est *e, struct sums_rep **out, svy_err *err)
{
    struct sums_rep *p = svy_calloc(1, sizeof *p);
    if (!p || !(p->off = svy_calloc(e->nout + 1, sizeof *p->off)) ||
        !(p->nz = svy_calloc(e->rep->R, sizeof *p->nz))) {
        svy_sums_rep_free(p);
        return nomem(err);
    }
    p->R = e->rep->R;
    p->ng = p->R * (p->R + 1) / 2;
    p->width = p->R;
    for (size_t o = 0; o < e->nout; o++) {
        p->off[o] = p->width;
        p->width += svy_sums_rep_blocks(e, o) * p->R;
    }
    p->width += p->ng;
    *out = p;
    return SVY_OK;
}

/* g += a a' (packed lower triangle), over a's nonzero entries. */
static void gram_add(double *g, const double *a, size_t R, size_t *nz)
{
    size_t k = 0;
    for (size_t i = 0; i < R; i++)
        if (a[i] != 0)
            nz[k++] = i;
    for (size_t p = 0; p < k; p++) {
        size_t i = nz[p];
        double *gi = g + i * (i + 1) / 2;
        for (size_t q = 0; q <= p; q++)
            gi[nz[q]] += a[i] * a[nz[q]];
    }
}

svy_status svy_sums_rep_push(struct sums_rep *p, svy_est *e, size_t line, const svy_row *row, const double *ys,
                             const int *valid, svy_err *err)
{
    if (line >= p->nlines) {
        if (!svy_grow((void **)&p->pool, &p->cap, (line + 1) * p->width, sizeof *p->pool))
            return nomem(err);
        memset(p->pool + p->nlines * p->width, 0, (line + 1 - p->nlines) * p->width * sizeof *p->pool);
        p->nlines = line + 1;
    }
    svy_status st = svy_rep_read_row(e, row, err);
    if (st)
        return st;
    const size_t R = p->R;
    const double *a = e->rep->a;
    double *b = p->pool + line * p->width;
    for (size_t k = 0; k < R; k++)
        b[k] += a[k];
    for (size_t o = 0; o < e->nout; o++) {
        if (!valid[o])
            continue;
        const outcome *oc = &e->out[o];
        double *x = b + p->off[o];
        if (oc->stat == SVY_STAT_SHARE) {
            long c = svy_sums_open(oc) ? -1 : svy_sums_share_code(oc, row);
            for (size_t k = 0; k < R; k++)
                x[k] += a[k];
            for (size_t k = 0; c >= 0 && k < R; k++)
                x[(size_t)(1 + c) * R + k] += a[k];
            continue;
        }
        double y = ys[o], d = oc->stat == SVY_STAT_RATIO ? oc->x : 1;
        for (size_t k = 0; k < R; k++) {
            x[k] += a[k] * y;
            x[R + k] += oc->stat == SVY_STAT_RATIO ? a[k] * d : a[k];
        }
    }
    gram_add(b + p->width - p->ng, a, R, p->nz);
    return SVY_OK;
}

void svy_sums_rep_header(const struct sums_rep *p, const svy_est *e, FILE *f)
{
    char b[64];
    fputs(",_repbad", f); /* rows whose replicate weights are missing or negative: 0 here (a row is an error) */
    for (size_t k = 0; k < p->R; k++) {
        const char *name = e->rep->names[k];
        putc(',', f);
        svy_sums_put_field(f, name, strlen(name));
    }
    for (size_t o = 0; o < e->nout; o++)
        for (size_t j = 0; j < svy_sums_rep_blocks(e, o); j++)
            for (size_t k = 0; k < p->R; k++) {
                rep_fname(e, o, j, k, b, sizeof b);
                fprintf(f, ",%s", b);
            }
    for (size_t i = 0; i < p->R; i++)
        for (size_t j = 0; j <= i; j++)
            fprintf(f, ",_g%zu_%zu", i + 1, j + 1);
}

void svy_sums_rep_put(const struct sums_rep *p, size_t line, FILE *f)
{
    char b[SVY_DTOA_MAX];
    fputs(",0", f);
    for (size_t i = 0; i < p->width; i++) {
        putc(',', f);
        fwrite(b, 1, svy_dtoa(line < p->nlines ? p->pool[line * p->width + i] : 0, b), f);
    }
}

/* ------------------------------------------------------------ reading */

struct sums_rep_in {
    size_t R, ng, width; /* as struct sums_rep, without the R named columns */
    size_t *off;
    long *cols;
    double *v;
    int gram;            /* the df rule needs the rank: the _g columns read */
    long c_bad;          /* _repbad */
    size_t ngc;          /* Gram columns a line holds: ng, or a query's chunk (_gc1 ..) */
    long c_part, c_id, c_rows, c_dom, c_sub; /* a split query's _gpart (-1 none), and its lines' keys */
    char ident[SVY_SUMS_IDENT_MAX];
};

void svy_sums_rep_in_free(struct sums_rep_in *p)
{
    if (!p)
        return;
    free(p->off);
    free(p->cols);
    free(p->v);
    free(p);
}

static long rep_col(const svy_est *e, const char *name, svy_err *err)
{
    return svy_sums_col(e, name, "these replicate weights", "flags", err);
}

svy_status svy_sums_rep_ready(svy_est *e, struct sums_rep_in **out, svy_err *err)
{
    const size_t R = e->rep->R;
    struct sums_rep_in *p = svy_calloc(1, sizeof *p);
    if (!p)
        return nomem(err);
    *out = p;
    p->R = R;
    p->ng = R * (R + 1) / 2;
    if (!(p->off = svy_calloc(e->nout + 1, sizeof *p->off)))
        return nomem(err);
    for (size_t o = 0; o < e->nout; o++) {
        p->off[o] = p->width;
        p->width += svy_sums_rep_blocks(e, o) * R;
    }
    p->gram = e->rep->gram_dom || e->rep->gram_full;
    p->c_part = svy_schema_find(e->schema, "_gpart");
    p->ngc = !p->gram || (p->c_part < 0 && svy_schema_find(e->schema, "_g1_1") < 0) ? 0 : p->c_part < 0 ? p->ng : 0;
    for (char b[32]; p->gram && p->c_part >= 0; p->ngc++) /* a split query: its chunk's width */
        if (snprintf(b, sizeof b, "_gc%zu", p->ngc + 1), svy_schema_find(e->schema, b) < 0)
            break;
    p->width += p->ngc;
    if (!(p->cols = svy_calloc(p->width + 1, sizeof *p->cols)) || !(p->v = svy_calloc(p->width + 1, sizeof *p->v)))
        return nomem(err);
    char b[64];
    size_t w = 0;
    if ((p->c_bad = rep_col(e, "_repbad", err)) < 0)
        return SVY_E_USAGE;
    for (size_t o = 0; o < e->nout; o++)
        for (size_t j = 0; j < svy_sums_rep_blocks(e, o); j++)
            for (size_t k = 0; k < R; k++, w++) {
                rep_fname(e, o, j, k, b, sizeof b);
                if ((p->cols[w] = rep_col(e, b, err)) < 0)
                    return SVY_E_USAGE;
            }
    if (p->gram && !p->ngc)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, "_g1_1",
                           "these sums hold no Gram matrix of the replicate weights (--sql leaves it out when --df N "
                           "or --df inf is given without --diff and --test), but the degrees of freedom of these flags "
                           "need its rank: give the --df the query was made with");
    for (size_t i = 0, n = 0; n < p->ngc && i < R; i++)
        for (size_t j = 0; j <= i && n < p->ngc; j++, w++, n++) {
            if (p->c_part >= 0)
                snprintf(b, sizeof b, "_gc%zu", n + 1);
            else
                snprintf(b, sizeof b, "_g%zu_%zu", i + 1, j + 1);
            if ((p->cols[w] = rep_col(e, b, err)) < 0)
                return SVY_E_USAGE;
        }
    svy_sums_identity(e, p->ident);
    p->c_id = svy_schema_find(e->schema, "_svysums");
    p->c_rows = svy_schema_find(e->schema, "_rows");
    p->c_dom = svy_schema_find(e->schema, "_dom");
    p->c_sub = svy_schema_find(e->schema, "_sub");
    return SVY_OK;
}

/* One line's replicate sums into domain dom's slots.  f: the line's Taylor
 * fields (foff: each outcome's first), whose counts say which share levels
 * have rows; lv: each open share's level. */
static svy_status add_slots(svy_est *e, const struct sums_rep_in *p, size_t dom, const double *f,
                            const size_t *foff, const long *lv, svy_err *err)
{
    svy_rep *r = e->rep;
    const size_t R = p->R;
    for (size_t o = 0; o < e->nout; o++) {
        const outcome *oc = &e->out[o];
        const double *x = p->v + p->off[o], *t = f + foff[o];
        if (t[0] == 0) /* no valid row here: no slot, as a row run */
            continue;
        double *s = svy_rep_slot(r, dom, o, -1);
        if (!s)
            return nomem(err);
        int share = oc->stat == SVY_STAT_SHARE;
        for (size_t k = 0; k < R; k++) {
            s[R + k] += x[(share ? 0 : R) + k];
            s[k] += share ? 0 : x[k];
        }
        if (!share)
            continue;
        for (size_t j = 0; j < (svy_sums_open(oc) ? 1 : oc->nlev); j++) {
            long id = lv[o];
            if (!svy_sums_open(oc)) { /* a ROWS line: per code a group k v d e */
                if (t[3 + 4 * j] == 0)
                    continue;
                char nb[SVY_DTOA_MAX];
                svy_value v = {.type = SVY_VAL_STR, .str = nb};
                v.len = svy_dtoa(oc->lev[j], nb);
                if ((id = svy_est_level_get(e, o, &v, err)) < 0)
                    return SVY_E_NOMEM;
            }
            if (!(s = svy_rep_slot(r, dom, o, id)))
                return nomem(err);
            const double *y = x + (svy_sums_open(oc) ? 0 : (1 + j) * R);
            for (size_t k = 0; k < R; k++)
                s[k] += y[k];
        }
    }
    return SVY_OK;
}

/* The line's Gram columns (of part k) into matrix dom (-1: the whole design's). */
static svy_status add_gram(svy_rep *r, const struct sums_rep_in *p, long dom, size_t k, svy_err *err)
{
    double *g = svy_rep_gram_of(r, dom);
    if (!g)
        return nomem(err);
    const double *x = p->v + p->width - p->ngc;
    for (size_t i = 0, at = k * p->ngc; i < p->ngc && at + i < p->ng; i++)
        g[at + i] += x[i];
    return SVY_OK;
}

/* The line's numbers: the replicate fields, its Gram columns (the first
 * `from` are skipped). */
static svy_status read_fields(svy_est *e, struct sums_rep_in *p, const svy_row *line, size_t from, svy_err *err)
{
    for (size_t i = from; i < p->width; i++) {
        const svy_value *v = &line->vals[p->cols[i]];
        if (svy_value_is_missing(v)) /* SUM over no row is NULL in SQL */
            p->v[i] = 0;
        else if (!svy_value_number(v, &p->v[i]) || !isfinite(p->v[i]))
            return svy_est_blame(e, svy_fail_row(e->schema, line, p->cols[i], err, "not a number"), err);
    }
    return SVY_OK;
}

/* A split query's part of a line, 0 without one. */
static size_t part_of(const struct sums_rep_in *p, const svy_row *line)
{
    double k;
    if (p->c_part < 0 || !svy_value_number(&line->vals[p->c_part], &k) || !(k >= 0) || k > 1e6)
        return 0;
    return (size_t)k;
}

int svy_sums_rep_part_line(svy_est *e, struct sums_rep_in *p, const svy_row *line, svy_status *st, svy_err *err)
{
    size_t k = part_of(p, line);
    if (!k || !p->ngc)
        return 0;
    svy_rep *r = e->rep;
    double rows = 0, dm = 0, sub = 0;
    char nb[SVY_DTOA_MAX];
    size_t len;
    const svy_value *id = &line->vals[p->c_id];
    *st = SVY_OK;
    if (svy_value_is_missing(id) || strcmp(svy_dsn_key(id, 0, nb, &len), p->ident) != 0)
        *st = svy_err_set(err, SVY_E_USAGE, NULL, line->index, p->c_id + 1, "_svysums",
                          "these sums were made for other flags (these flags make %s)", p->ident);
    else if (!svy_value_number(&line->vals[p->c_rows], &rows) || !svy_value_number(&line->vals[p->c_dom], &dm) ||
             !svy_value_number(&line->vals[p->c_sub], &sub))
        *st = svy_est_blame(e, svy_fail_row(e->schema, line, p->c_rows, err, "_rows, _dom, _sub must be counts"), err);
    if (*st || rows == 0 || sub != 1 || (*st = read_fields(e, p, line, p->width - p->ngc, err)))
        return 1;
    if (r->gram_full)
        *st = add_gram(r, p, -1, k, err);
    long dom = dm == 1 ? svy_est_row_domain(e, line, err) : -1;
    if (dom == -2)
        *st = SVY_E_NOMEM;
    if (*st == SVY_OK && dom >= 0 && r->gram_dom)
        *st = add_gram(r, p, dom, k, err);
    if (*st == SVY_OK && e->d.overall && e->nby > 0 && r->gram_dom) {
        long od = svy_est_overall_dom(e, line, err);
        *st = od < 0 ? SVY_E_NOMEM : add_gram(r, p, od, k, err);
    }
    return 1;
}

svy_status svy_sums_rep_line(svy_est *e, struct sums_rep_in *p, const svy_row *line, int dm, const double *f,
                             const size_t *foff, const long *lv, svy_err *err)
{
    svy_rep *r = e->rep;
    double bad;
    if (!svy_value_is_missing(&line->vals[p->c_bad]) && (!svy_value_number(&line->vals[p->c_bad], &bad) || bad != 0))
        return svy_est_blame(e, svy_fail_row(e->schema, line, p->c_bad, err,
                                             "rows of this line have a replicate weight that is missing or below 0 "
                                             "(_repbad; R: \"Missing values not allowed in 'repweights'\")"), err);
    svy_status st = read_fields(e, p, line, 0, err);
    if (st)
        return st;
    if (r->gram_full && p->gram)
        st = add_gram(r, p, -1, 0, err);
    long dom = dm ? svy_est_row_domain(e, line, err) : -1;
    if (dom == -2)
        return SVY_E_NOMEM;
    if (st == SVY_OK && dom >= 0 && r->gram_dom && p->gram)
        st = add_gram(r, p, dom, 0, err);
    if (st == SVY_OK && dom >= 0)
        st = add_slots(e, p, (size_t)dom, f, foff, lv, err);
    if (st == SVY_OK && e->d.overall && e->nby > 0) {
        long od = svy_est_overall_dom(e, line, err);
        if (od < 0)
            return SVY_E_NOMEM;
        if (r->gram_dom && p->gram)
            st = add_gram(r, p, od, 0, err);
        if (st == SVY_OK)
            st = add_slots(e, p, (size_t)od, f, foff, lv, err);
    }
    return st;
}
