/* Replicate-weight variance inside the estimator (see survey/replicate.h).
 * Not installed.
 *
 * Per (domain, outcome, share level) a slot of 2R doubles: the replicates'
 * sums of a_r y (num) and of a_r (den) over the rows with a valid value;
 * a share keeps its denominator in the slot of level -1.  While an outcome
 * has had a value on every row of its domain its den is the domain's own
 * sum of a_r (dden: the same additions in the same order), so a row adds
 * its weights once per domain, not once per outcome.  Per domain, when
 * the df rule needs it, the lower triangle of sum_k a_k a_k' (R x R), whose
 * rank is the rank of the domain's replicate-weight matrix; rows whose
 * weights are proportional (a PSU's rows in bootstrap, JK and BRR files)
 * are summed as one term per distinct direction (replicate_rows.c). */
#ifndef SVY_REPLICATE_PRIVATE_H
#define SVY_REPLICATE_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error replicate_private.h is only for building libsurvey and its unit tests.
#endif

#include <survey/replicate.h>

#include "estimate_private.h"
#include "hashmap_private.h"

typedef struct svy_rep {
    char **pat;         /* the columns or PREFIX* patterns asked for */
    size_t npat;
    svy_reptype type;
    double rho, scale_given;
    double *rs_given;
    size_t nrs_given;
    int mse;
    /* at bind */
    size_t R;
    long *col;          /* schema index of each replicate column */
    char **names;       /* and its name (the schema is the caller's: sums files need them later) */
    double scale;
    double *rscales;
    char note[800];
    double *a;          /* one row's replicate weights */
    size_t *nz;         /* the indices of its nonzero ones (gram_add) */
    svy_u64map map;     /* (domain, outcome, level + 1) -> slot */
    double *pool;
    size_t nslots, capslots;
    int gram_dom, gram_full; /* which matrices the df rule needs */
    /* --sql (sums_rep_sql.c): the Gram split over parts of a UNION ALL */
    size_t sql_parts, sql_part, sql_chunk;
    int sql_in;
    double **gram;      /* per domain, NULL until its first row */
    size_t capgram;
    double *gfull;
    double *dfs;        /* per domain, -2 until computed */
    double df_full;     /* the whole design's, -2 until computed */
    size_t capdfs;
    /* replicate_rows.c: the domains' shared denominators */
    unsigned char *split; /* per slot: its den is its own (else dden of its domain) */
    size_t capsplit;
    double **dden;        /* per domain: sum of a over its rows */
    size_t *drows, capdd;
    long *dslot;          /* per domain and outcome: its level -1 slot, -1 before its first value */
    size_t capds;
    const char *last_s;   /* the row's last nonzero replicate text and its value */
    size_t last_len;
    double last_w;
    /* the Gram terms per distinct direction b = a / c (c: the row's first
     * nonzero weight): per (matrix, direction) the sum of c^2 */
    int pat_off;          /* too many directions: every row added to its matrices */
    size_t dir_cap;       /* how many directions are kept (unit tests lower it) */
    size_t nw;            /* 64-bit words of a row's nonzero mask */
    svy_u64map pmap;      /* hash of a direction -> its index */
    double *pb;           /* directions, R each */
    uint64_t *pm;         /* their nonzero masks, nw each */
    unsigned char *pbin;  /* 1: every nonzero b is 1 (compared by mask) */
    double *pbmax;        /* largest b of each */
    size_t ndir, cappb, cappm, cappbin, cappbmax;
    svy_u64map emap;      /* (matrix, direction) -> term */
    double *esum;
    uint32_t *etgt, *epid; /* matrix (a domain, or UINT32_MAX: the whole design) and direction */
    size_t nent, capes, capet, capep;
    double *b;            /* scratch: one row's direction and mask */
    uint64_t *mask;
} svy_rep;

void svy_rep_free(svy_rep *r);
/* At svy_est_bind(): the columns, R's defaults and the notes. */
svy_status svy_rep_bind(svy_est *e, svy_err *err);
/* One row, whose domain is dom (-1: none) and outcome values v
 * (estimate_rows.c's rowvals: ys, valid, levels). */
svy_status svy_rep_row(svy_est *e, const svy_row *row, long dom, const double *ys, const int *valid,
                       const long *levels, svy_err *err);
/* The replicate SE, df, deff's n and the logit-scale SE of result r
 * (quantity q of domain dom), set in r; se_logit NAN unless a proportion. */
svy_status svy_rep_result(svy_est *e, size_t dom, const qty *q, svy_est_result *r, double *se_logit,
                          svy_err *err);
/* The degrees of freedom of domain dom under the design's df rule. */
double svy_rep_df(svy_est *e, size_t dom);
/* degf of the whole design (rank of every row's replicate weights - 1),
 * and of the rows of domains dom[0..nd) (NAN when none was kept). */
double svy_rep_full_df(svy_est *e);
double svy_rep_domains_df(svy_est *e, const size_t *dom, size_t nd);
/* Forget the sums (the rows come again: a quantile's second pass). */
void svy_rep_reset(svy_rep *r);
/* replicate_rows.c: allocate the per-row scratch (at bind); move the Gram
 * terms kept per direction into the matrices (before any rank is read);
 * free and forget what the rows kept (svy_rep_free, svy_rep_reset). */
svy_status svy_rep_rows_bind(svy_rep *r, svy_err *err);
svy_status svy_rep_gram_flush(svy_rep *r);
void svy_rep_rows_clear(svy_rep *r, int release);
/* Quantity q of domain dom: the replicates' sums (NULL: no row), and the
 * replicate estimates t[0..R) (NAN where a replicate has no weight). */
void svy_rep_sums(const svy_est *e, size_t dom, const qty *q, const double **num, const double **den);
void svy_rep_estimates(const svy_est *e, size_t dom, const qty *q, double *t);
/* svrVar of one statistic's replicates t, centred on their mean (over
 * rscale > 0) or on centre with mse; *dropped counts NAN replicates. */
double svy_rep_var(const svy_rep *r, const double *t, double centre, int mse, size_t *dropped);
/* replicate_compare.c: --diff's SE from the replicates of the difference;
 * --test's cell covariance V (K x K, K = nr nc as svy_cells) and R's nu = degf. */
svy_status svy_rep_diff(svy_est *e, size_t d, size_t dref, const qty *q, double est, double *V, svy_err *err);
svy_status svy_rep_test_cov(svy_est *e, const svy_cells *cs, double *V, double *nu, svy_err *err);

/* Sums files (sums_rep.c): a row's replicate weights into r->a; the slot
 * (num, den: 2R doubles, its den its own) of quantity (dom, o, level),
 * made when new (NULL: out of memory; valid until the next slot is made);
 * the Gram matrix of domain dom, or of the whole design (dom < 0). */
svy_status svy_rep_read_row(svy_est *e, const svy_row *row, svy_err *err);
double *svy_rep_slot(svy_rep *r, size_t dom, size_t o, long level);
double *svy_rep_gram_of(svy_rep *r, long dom);

#endif
