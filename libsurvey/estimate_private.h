/* The estimator's state, shared by estimate.c (rows in) and
 * estimate_finish.c (estimates out).  Not installed.
 *
 * What is kept, and why it is enough.  Every estimate is linear in the
 * rows' (weight, value) pairs until the ratio R is known, so the rows are
 * summed per domain and per unit of the design into records, one layer of
 * records per stage of the variance (see design_private.h for stages):
 *
 *  - SUMS records, per (domain, unit) of a stage whose units hold several
 *    rows (PSUs): per outcome the totals that give the unit's linearized
 *    total for any R.  The variance kernel centres those totals in two
 *    passes over the records at the end: nothing can cancel.
 *  - ROWS records, where rows are the units (no --psu; or the last stage,
 *    e.g. workers within cities): per (domain, stratum) the row-level sums
 *    that give the stratum's sum of squares for any R without keeping rows:
 *    for a proportion, per group (in the level or not) the count, the sum
 *    of weights and their spread, which combine into sums of squares only
 *    (svy_vss_groups); for a mean or total, co-moments of (w y, w) shifted
 *    by the stratum's first row.  When the last stage's strata are the
 *    units of the stage above (no strata column of their own), the record
 *    of that unit is a ROWS record and serves both stages.
 *
 * Means shift their values by the domain's first value (y - c), totals
 * keep w y as R computes it; sums of squares are taken around shifts, so
 * values of 1e9 with a spread of 1 keep their digits.
 *
 * Layout of a record's doubles, per outcome (at outcome.off):
 *   SUMS  rate  S1 S0 cnt            (sums of w over y = 1 and y = 0)
 *         share B cnt                (+ per level: S)
 *         mean  A' B cnt Q           (A' = sum w (y - c), Q = sum w (y - c)^2)
 *         total A B cnt A' Q         (A = sum w y)
 *   ROWS  rate  k1 w1 d1 e1  k0 w0 d0 e0  (per group: count, first weight,
 *                                         sum and square sum of w - first)
 *         share k                    (+ per level: k w0 d e)
 *         mean  k a0 b0 da db daa dab dbb Q      (a = w (y - c), b = w)
 *         total k a0 b0 da db daa dab dbb A' Q   (a = w y)
 *   ratio (y/x, estimate_ratio.c):
 *   SUMS  A X cnt W Syy Sxy Sxx     (A = sum w y, X = sum w x, W = sum w,
 *                                     S.. = sums of w y y, w x y, w x x)
 *   ROWS  k a0 b0 da db daa dab dbb W Syy Sxy Sxx   (a = w y, b = w x)
 */
#ifndef SVY_ESTIMATE_PRIVATE_H
#define SVY_ESTIMATE_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error estimate_private.h is only for building libsurvey and its unit tests.
#endif

#include <stddef.h>
#include <stdint.h>
#include <survey/estimate.h>

#include "design_private.h"
#include "hashmap_private.h"
#include "textcache_private.h"

enum { LAYERS_MAX = SVY_STAGES_MAX };

typedef struct outcome {
    svy_stat stat;
    char *column;
    char *value;      /* rate COL=VALUE: the text asked for */
    char *name;       /* display name */
    long col;         /* index in the schema */
    int match_num;    /* value compares as a number */
    double match;     /* the number (a code, or the code of a label) */
    int plain;        /* a rate of a 0/1 column (no VALUE) */
    int numeric;      /* the column's codes compare as numbers */
    size_t off_sums, off_rows; /* its doubles in SUMS and ROWS blocks */
    char *den;        /* ratio: the denominator's column (column is the numerator) */
    long den_col;
    double x;         /* ratio: the row's denominator, as read; quantile: its value */
    double *lev;      /* share from sums (sums_share.c): its codes, fixed before the rows */
    size_t nlev;
    /* quantile (estimate_quantile.c): a rate outcome 1{x <= q_d} in the last pass */
    int quant;
    double prob;
    struct qdom *qd;  /* per domain: its prepared pairs and estimate */
    size_t nqd;
    struct qspool { uint32_t dom, h, u; double x, w; } *qs; /* the estimating pass's rows, w != 0: domain,
                                                            * first-stage stratum and unit (for df), x, w */
    size_t nqs, capqs;
    void *qpairs;     /* svy_qpair, bucketed by domain */
} outcome;

/* One record: the rows of a domain in one unit (or stratum) of a layer. */
typedef struct rec {
    uint32_t domain, key;
    uint32_t stratum, parent; /* set at finish, for sorting */
    long long rows, nzrows;
    size_t block;
} rec;

typedef struct layer {
    size_t stage;     /* 0-based */
    int by_stratum;   /* keyed by the stratum of the stage (else by the unit) */
    int rows;         /* ROWS records: rows are the units (of stage+1 when keyed by unit) */
    size_t bsize;     /* doubles per record */
    rec *recs;
    size_t nrecs, caprecs;
    double *pool;
    size_t npool, cappool;
    svy_u64map map;   /* (domain, key) -> record */
    svy_u64map lmap;  /* (record, share level) -> level block */
    double *lpool;
    size_t nlpool, caplpool;
    size_t *dstart;   /* at finish: records of domain d are [dstart[d], dstart[d+1]) */
    struct uslot *ux; /* by key (unit or stratum): its first records (estimate_queue.c) */
    size_t uxlen;
} layer;

/* A dense index of one domain's records in one layer, by key. */
typedef struct dindex {
    uint32_t *idx;    /* record + 1; 0 none */
    size_t len;
} dindex;

typedef struct dominfo {
    long long rows;
    long long first_row;
    int overall;
    size_t block;     /* DB doubles per outcome in dpool: have shift, shift, rows of weight 0 */
    dindex dix[LAYERS_MAX];
} dominfo;

enum { DB = 3 };

/* Entries of each by variable's cache of short values, and of the cache
 * of domains. */
enum { DOMC_BITS = 10, DOMC = 1 << DOMC_BITS };
enum { BYDIR_K = 4, BYDIR_N = 1110, DDIR_BITS = 12 };

/* Rows of a table of rates in any order (see estimate_rows.c): each row
 * waits in its layer's queue as (weight, key and domain, outcomes as bits),
 * in the bucket of its key (unit or stratum; a bucket is the 2^ush keys
 * whose records fill about QBYTES), without looking its record up.  When
 * the queue is full, each bucket in turn finds its rows' records (made
 * there when new, so a bucket's records lie together) and sums them in
 * the rows' order (a record still sums its rows in their order, so every
 * sum is the same): the bucket's records stay in the cache while its rows
 * go by, and no row waits on memory for its record.  At most QOUT outcomes:
 * their values (0 or 1) in yv's low 16 bits, which are valid in its high
 * 16; domains below 2^16 (kd: the key's low 16 bits, then the domain).
 * Memory: QCHUNKS chunks of QCH entries of 16 bytes (2 MiB, any number of
 * layers), a link per chunk, 12 bytes per bucket (at most QBUCKETS a
 * layer), 4 bytes per domain. */
enum { QCH = 64, QCHUNKS = 2048, QBUCKETS = 512, QBYTES = 32768, USLOT = 7, QOUT = 16 };
#define SVY_QNONE UINT32_MAX
typedef struct qent {
    double w;
    uint32_t kd, yv;
} qent;
typedef struct qbucket {
    uint32_t head, tail, fill; /* its chunks, first and last (SVY_QNONE: none); entries in the last */
} qbucket;
typedef struct qlayer {
    qbucket *bk;
    uint32_t nb;       /* buckets in bk */
    unsigned ush;      /* a bucket holds the keys of 2^ush */
    uint32_t keys;     /* the largest key queued (or refused) + 1: the next ush */
} qlayer;
typedef struct rqueue {
    qent *pool;        /* QCHUNKS chunks of QCH entries */
    uint32_t *next;    /* per chunk: the bucket's next chunk */
    uint32_t used;     /* chunks taken */
    qlayer ql[LAYERS_MAX];
    uint32_t *drows;   /* rows queued per domain, into doms[].rows at the end of the pass */
    size_t ndrows, capdrows;
    int avx2;          /* the flush sums SUMS records 4 lanes at a time (estimate_queue.c) */
} rqueue;
/* A unit's (or stratum's) first records (layer.ux), one cache line: the
 * queue's buckets find their rows' records here, in a table of 64 bytes
 * per unit, where the domains' direct indexes (estimate_domain.c) spread a
 * unit's records over as many lines as it has domains. */
typedef struct uslot {
    uint32_t n;
    uint32_t dom[USLOT], rec[USLOT];
    uint32_t pad;
} uslot;

/* estimate_queue.c: the queue's memory (0: none, rows are summed at once);
 * a row of domain dom in layer li's queue (1; 0 when it cannot be queued:
 * flush and sum it at once; -1 when the queue is full: flush and put it
 * again); summing the queued rows (SVY_E_NOMEM when a new record found no
 * memory); freeing the queue. */
int svy_est_queue_ready(svy_est *e);
extern int svy_est_queue_scalar_only; /* unit tests: the flush without AVX2 */
int svy_est_queue_put_slow(rqueue *q, size_t li, uint32_t key, uint32_t dom, double w, uint32_t yv);
svy_status svy_est_flush_queue(svy_est *e, svy_err *err);
void svy_est_queue_rows(svy_est *e); /* the domains' queued row counts, into doms[].rows (end of a pass) */
void svy_est_queue_free(svy_est *e);

/* Every queued row comes here: its bucket's last chunk, when it has room. */
static inline int svy_est_queue_put(rqueue *q, size_t li, uint32_t key, uint32_t dom, double w, uint32_t yv)
{
    const qlayer *l = &q->ql[li];
    uint32_t b = key >> l->ush;
    if (b < l->nb && dom <= 0xffff) {
        qbucket *B = &l->bk[b];
        if (B->fill < QCH) {
            qent *c = q->pool + (size_t)B->tail * QCH;
#if defined(__GNUC__)
            /* the bucket's line after next, for writing (in its chunk): a
             * line of the queue last held rows a flush ago, and a store
             * that waits for it holds up the stores behind it */
            __builtin_prefetch(c + ((B->fill + 8) & (QCH - 1)), 1);
#endif
            c[B->fill++] = (qent){w, key << 16 | dom, yv};
            return 1;
        }
    }
    return svy_est_queue_put_slow(q, li, key, dom, w, yv);
}

struct svy_est {
    svy_design d;
    /* copies of the design's names */
    char **psu_cols, **strata_cols, **fpc_cols, *weight_col;
    char **by;
    size_t nby;
    long *by_idx;
    int *by_numeric;
    svy_dsn dsn;
    svy_est_info info;
    /* Each by variable's values get small ids (byval_tab, keyed by value
     * text, numbers by value), and a domain is keyed by its by variables'
     * ids.  byval_cache maps short texts straight to their ids. */
    svy_strtab *byval_tab;
    svy_textcache *byval_cache; /* one per by variable */
    uint32_t *dom_key;
    struct domc {
        uint64_t key;
        uint32_t dom1; /* domain + 1; 0 = empty entry */
    } dom_cache[DOMC];
    const svy_schema *schema;
    const svy_reader *source; /* errors name its file and its columns */

    outcome *out;
    size_t nout, capout;
    int bound, finished, ended;
    int any_share;
    int any_shift;  /* a mean or total: values are shifted by the domain's first */
    int all_rates;  /* every outcome a rate: the short loop for SUMS records */
    int all_plain;  /* every outcome a rate of a 0/1 column: the short loop for cells */
    int batch;      /* rates only, at most 32: rows may be queued (rqueue) */
    int queueing;   /* rows are queued now: most rows lately changed unit */
    uint32_t last_rec, window, changes;
    rqueue *q;      /* while queueing */
    size_t sums_size, rows_size; /* doubles per record in SUMS and ROWS layers */

    svy_strtab dom_tab, lvl_tab;
    dominfo *doms;
    size_t cap_doms;
    /* by values of the domains, as first seen: type byte + text */
    svy_strtab domval_tab;
    size_t *dom_vals; /* nby ids per domain into domval_tab */
    size_t cap_dom_vals;
    unsigned char *domval_num;
    size_t cap_domval_num;
    double *dpool;
    size_t ndpool, capdpool;

    layer lay[LAYERS_MAX];
    size_t nlay;
    size_t dense_bytes;

    long *lvl_outcome; /* share levels: lvl_tab keys are "outcome index \0 text" */
    size_t cap_lvl_outcome;
    char *keybuf;
    size_t capkey;

    long long rows;
    long overall_dom;
    const struct svy_subpop *subpop; /* --subpop (estimate_subpop.c); NULL: none */
    long long subpop_rows;           /* rows in it */
    int qphase;                      /* quantiles: 0 none, 1 collecting, 2 the pass of 1{x <= q} */

    struct svy_rep *rep; /* replicate weights (replicate.c); NULL: Taylor linearization */
    struct svy_cal *cal; /* --calibrated-to margins (estimate_calib.c); NULL: none */
    int row_extra;       /* per row after its domain: the overall domain, or replicate weights */

    svy_est_result *res;
    size_t nres, capres;
    /* --diff (estimate_diff.c): differences between the levels of by
     * variable diff_by and diff_ref (NULL: the lowest), after the results */
    int diff_on;
    size_t diff_by;
    char *diff_ref;
    /* --test (estimate_test.c) */
    int test_on, test_chisq;
    size_t test_by;
    svy_est_test *tests;
    size_t ntests, captests;
    /* rows whose tested variable is missing (in the design and in R's N and
     * nu, in no domain): per combination of the other by values (keyed as
     * dom_tab with UINT32_MAX for the tested one) their rows, and their
     * first-stage (combination, stratum, unit) keys */
    svy_strtab tmiss_combo, tmiss_psu;
    long long *tmiss_rows;
    size_t cap_tmiss_rows;
    char **names; /* display names of share levels and notes, owned */
    size_t nnames, capnames;
    struct sums_bind *sums; /* reading a sums file (sums_read.c); NULL: rows */
    /* Before the by values' and domains' caches (above), which miss when rows come in any order (their
     * entries collide): the first BYDIR_K by variables' values of one to
     * three digits, their id + 1 by text (small_code in estimate_rows.c);
     * and domains by their by values' ids, each id
     * packed in the bits its variable has needed so far (dbits; when one
     * grows, ddir starts empty), domain + 1.  24 KiB, in svy_est. */
    uint16_t bydir[BYDIR_K][BYDIR_N];
    uint8_t dbits[BYDIR_K];
    unsigned dtot;
    uint32_t ddir[1u << DDIR_BITS];
    size_t packed; /* the row's first outcomes read as bits only, while queueing (estimate_rows.c) */
};

/* estimate_rows.c, for the sums (sums_write.c, sums_read.c): a row's domain
 * (-1 none, -2 failure), the overall domain, and a row's outcomes (ys,
 * valid; shares' levels not read). */
long svy_est_row_domain(svy_est *e, const svy_row *row, svy_err *err);
long svy_est_overall_dom(svy_est *e, const svy_row *row, svy_err *err);
svy_status svy_est_row_outcomes(svy_est *e, const svy_row *row, double *ys, int *valid, svy_err *err);
/* sums_read.c: frees what svy_est_set_from_sums made */
void svy_sums_bind_free(struct sums_bind *b);

/* estimate_quantile.c: quantiles (svy_est_add_quantile) as rates of
 * 1{x <= q_d}: the row in domain dom
 * (collect its pair, or set ys[o] to the indicator), the end of a pass (q_d
 * for every domain, and one more pass), the results (Woodruff), freeing. */
svy_status svy_est_quant_row(svy_est *e, uint32_t dom, const svy_dpath *p, double *ys, const int *valid, svy_err *err);
svy_status svy_est_quant_end_pass(svy_est *e, int *again, svy_err *err);
void svy_est_quant_results(svy_est *e);
double svy_est_quant_indicator(const svy_est *e, size_t o, size_t dom); /* 1{x <= q_dom}, the last pass */
void svy_est_quant_free(outcome *oc);

/* estimate.c: the layers of records the design needs, and freeing them
 * (svy_est_free, and a pass that starts over). */
void svy_est_plan_layers(svy_est *e);
void svy_est_layers_free(svy_est *e);

/* estimate.c: on failure (st != SVY_OK), an error record that names the
 * source reader's file and counts columns as the file does; returns st. */
svy_status svy_est_blame(const svy_est *e, svy_status st, svy_err *err);

/* estimate_domain.c: a new domain, the last one interned in dom_tab, whose
 * first row is `row` (its id, -1 on failure); a new record of (domain, key)
 * in layer li (-1 on failure; li >= LAYERS_MAX: a layer outside e->lay,
 * found by its map only, or made); the level block of a share level in record r;
 * a share level's id (-1 on failure). */
long svy_est_new_domain(svy_est *e, const svy_row *row, int overall, svy_err *err);
long svy_est_rec_new(svy_est *e, layer *L, size_t li, uint32_t dom, uint32_t key, svy_err *err);
double *svy_est_level_block(svy_est *e, layer *L, size_t r, long level, svy_err *err);
long svy_est_level_get(svy_est *e, size_t o, const svy_value *v, svy_err *err);

/* The record of (domain, key) in layer li: the domain's direct index when it
 * covers the key (every row looks here: inline), else the map. */
static inline long svy_est_rec_get(svy_est *e, layer *L, size_t li, uint32_t dom, uint32_t key, svy_err *err)
{
    const dindex *x = &e->doms[dom].dix[li];
    if (key < x->len && x->idx[key])
        return (long)x->idx[key] - 1;
    return svy_est_rec_new(e, L, li, dom, key, err);
}

/* One estimated quantity: an outcome, or a level of a share. */
typedef struct qty {
    size_t o;
    long level;      /* share level, or -1 */
    svy_stat stat;
    const long *lv;  /* every level of a share outcome (sorted), nlv of them */
    size_t nlv;
} qty;

/* A unit's (or a domain's) sums for one quantity. */
typedef struct usum {
    double cnt;      /* rows with a valid value */
    double p, q;     /* proportions: weight in the level and outside; means: A', B; totals: A, B */
    double ash, qq;  /* totals: A' = sum w (y - c); means and totals: Q = sum w (y - c)^2;
                      * ratios: ash = W (sum w) */
} usum;

/* How the estimate is linear in a unit's sums: Z = alpha p + beta q. */
typedef struct lin {
    double alpha, beta;
} lin;

/* One variance being summed (svy_est_quantity_var). */
typedef struct vctx {
    svy_est *e;
    const qty *q;
    lin z;
    double *zbuf;
    int undefined;   /* lonely "average" left a unit with no stratum to average */
    double V;        /* the variance, summed over the stages */
} vctx;


/* One group of a proportion (ROWS): count, first weight, sums of w - w0
 * and of (w - w0)^2 (estimate_rows.c, and the sums files alike). */
static inline void svy_est_group_add(double *g, double w)
{
    if (g[0] == 0)
        g[1] = w;
    g[0] += 1;
    double dw = w - g[1];
    g[2] += dw;
    g[3] += dw * dw;
}

/* Co-moments of (a, b) shifted by the first row (ROWS):
 * c[0..7] = n, first a, first b, sums of the shifts, of their squares and product. */
static inline void svy_est_comoment_add(double *c, double a, double b)
{
    if (c[0] == 0) {
        c[1] = a;
        c[2] = b;
    }
    c[0] += 1;
    double da = a - c[1], db = b - c[2];
    c[3] += da;
    c[4] += db;
    c[5] += da * da;
    c[6] += da * db;
    c[7] += db * db;
}

static inline int svy_est_is_prop(svy_stat s)
{
    return s == SVY_STAT_RATE || s == SVY_STAT_SHARE;
}

/* estimate_variance.c: the domain's sums for quantity q (its records of the
 * first layer); present PSUs of the first stage (2: more than one);
 * the linearization of an estimate R of a total X; the variance of q in
 * domain d into c->V (in the units of the scaled weights; skip_top leaves
 * out the first stage: a ratio whose rows all lie in one PSU, where it is 0
 * by construction). */
usum svy_est_domain_sum(const svy_est *e, size_t dom, const qty *q);
int svy_est_top_units(const svy_est *e, size_t d, const qty *q);
lin svy_est_lin_of(svy_stat stat, double R, double X);
svy_status svy_est_quantity_var(vctx *c, size_t d, int skip_top, svy_err *err);

/* estimate_test.c: a row in the design whose tested by variable is missing
 * (e->dom_key holds the other by values' ids); freeing those rows' counts. */
svy_status svy_est_test_row(svy_est *e, const svy_dpath *p, svy_err *err);
void svy_est_test_free(svy_est *e);

/* estimate_subpop.c: whether a row is in the subpopulation (*in). */
svy_status svy_est_subpop_in(svy_est *e, const svy_row *row, int *in, svy_err *err);

/* estimate_ratio.c: a ratio's value in a row (1 valid: *y the numerator,
 * oc->x the denominator; 0 missing; -1 error); its cells in a SUMS and a
 * ROWS record; its sums in a record; its design effect. */
int svy_est_ratio_value(svy_est *e, outcome *oc, const svy_row *row, double *y, svy_err *err);
void svy_est_ratio_sums_cell(double *c, double w, double y, double x);
void svy_est_ratio_rows_cell(double *c, double w, double y, double x);
usum svy_est_ratio_rec_sum(const double *c, int rows);
double svy_est_ratio_deff(const svy_est *e, size_t dom, const qty *q, double R, double se, double nnz);

/* The variance of the sum over nt disjoint domains dom[t] of quantity
 * terms[t].q with lin terms[t].z (coefficients folded into the lin) into
 * c->V: the joint linearization (estimate_variance.c). */
svy_status svy_est_combination_var(vctx *c, size_t nt, const size_t *dom, const vctx *terms, svy_err *err);

/* The K x K covariance of --test's cell proportions (K = nr nc; cell
 * (o, j) at o + nr j: table row o, domain dom[j]) into V, in one pass over
 * the domains' records (estimate_variance.c).  A rate's table rows are in
 * and out; a share's the levels row_level[0..nr). */
typedef struct svy_cells {
    const qty *q;
    size_t nc, nr;
    const size_t *dom;
    const long *row_level;
    const double *ph; /* the K proportions */
    double W;         /* the table's weight */
} svy_cells;
svy_status svy_est_cells_cov(svy_est *e, const svy_cells *cs, double *V, svy_err *err);

/* estimate_finish.c; the design's df (PSUs minus strata, nonzero weights) */
svy_status svy_est_compute(svy_est *e, svy_err *err);
double svy_est_full_df(const svy_est *e);

/* estimate_diff.c: the difference results, appended after the others (the
 * domains in table order, every share level of each outcome in lv). */
svy_status svy_est_test_results(svy_est *e, const size_t *order, size_t ndom, const long *lv, size_t nlv,
                                svy_err *err);
svy_status svy_est_diff_results(svy_est *e, const size_t *order, size_t ndom, const long *lv, size_t nlv,
                                svy_err *err);

/* interval.c: confidence intervals and the NCHS flags of one result. */
void svy_est_rate_ci(const svy_design *d, svy_est_result *r, long long nrows);
void svy_est_nchs_flags(svy_est_result *r, double level, long long nrows);

#endif
