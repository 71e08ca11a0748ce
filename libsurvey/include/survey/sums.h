/* libsurvey: estimates from sums computed where the data live.
 *
 * Every Taylor-linearized estimate of svy_est (rates, means, totals,
 * ratios; differences, tests and design effects from them) needs only
 * sums per domain, stratum and PSU.  A "sums file" holds those sums; it is
 * written from rows (svy_sums_*: a shard of a file, svy-tab --partial) or
 * by a database (svy_sums_sql: one GROUP BY query), and read back into an
 * estimator (svy_est_set_from_sums, svy_est_push_sums) that then finishes
 * as if it had read the rows.  Any number of files may be read one after
 * the other: lines of the same (domain, PSU) add, so shards may split PSUs.
 *
 * The format (version 1) is CSV with a header, one line per group of rows
 * that share their by values, their first-stage stratum, PSU and fpc, and
 * whether they are in a domain and in the subpopulation:
 *   _svysums   "svysums1:" and 16 hex digits: the identity of the design and
 *              estimate flags (svy_sums_identity); a line made for other
 *              flags is a usage error
 *   by, strata, PSU, fpc columns under their own names (each name once);
 *   the weight column under its name: 1 when a row of the group weighs
 *   more than 0, else 0 (the sums hold the weights)
 *   _dom       1: the rows are in the domain of their by values
 *   _sub       1: the rows are in the subpopulation (1 without --subpop;
 *              the query computes it from --subpop as a key, not a WHERE)
 *   _rows, _nzrows  rows, and rows of nonzero weight
 * then per outcome K (1-based, in the order added) the fields
 * svy_sums_field() names, "_K_" + field:
 *   rate   n z s1 s0 bad    (valid rows; of them weighing 0; sums of w y,
 *                            w - w y; values not 0/1: an error at reading)
 *   mean   n z c a b q      (c a shift; a = sum w (y-c), b = sum w,
 *   total  n z c t b a q     q = sum w (y-c)^2, t = sum w y)
 *   ratio  n z y x w yy xy xx (sums of w y, w x, w, w y y, w y x, w x x)
 * Without --psu every row is a unit: lines are per domain and stratum; in
 * two or more stages whose last-stage units are rows (R's multistage
 * variance: --psu A,ID --fpc F1,F2, or --psu A,B,ID --fpc F1,F2,F3, strata
 * at any stage) per domain and stratum of the last stage (the unit above,
 * or its own stratum in it), with every later stage's strata, fpc and
 * units, and one ID of the line's rows, as keys; the reader adds a line's
 * sums (k a0 + da ...) to the records of the stages above.  Such lines hold co-moments (sums of a - a0, b - b0 and their squares and product,
 * around shifts a0 and b0) instead:
 *   rate   n z bad k1 v1 d1 e1 k0 v0 d0 e0  (per group y = 1 and y = 0: rows,
 *                            a shift of w, sums of w - v and (w - v)^2)
 *   mean   n z c k a0 b0 da db daa dab dbb q    (a = w (y - c), b = w)
 *   total  n z c k a0 b0 da db daa dab dbb a q  (a = w y, b = w)
 *   ratio  n z k a0 b0 da db daa dab dbb w yy xy xx  (a = w y, b = w x)
 * Numbers are printed so they read back to the same double.  Shifts make
 * sums of squares around a value near the data: lines with different
 * shifts are moved to the domain's at reading (exact to rounding).
 *
 *   share  n z other b, then per level j (the codebook's codes, in its order)
 *          kj sj; ROWS lines: n z other, then per level kj vj dj ej
 * A share of a column the codebook does not label ("open") splits the
 * lines by the column's value as well: a column _K_level after _nzrows
 * holds it (empty when missing), and the fields are the one level's:
 *   share  n z b; ROWS lines: n z k v d e
 * With replicate weights (lines per domain: no strata or PSUs) each line also
 * holds _repbad (rows whose replicate weight is NULL or negative: an error at
 * reading), each replicate column's sum under its own name, per outcome K the
 * replicates' sums _K_ry<r> _K_ra<r> (a ratio: _K_ry<r> _K_rx<r>; a share:
 * _K_ra<r>, then per code j _K_ry<j>_<r>; an open share: _K_ra<r>), and the
 * Gram matrix of the replicate weights _g<i>_<j> (j <= i), whose rank gives
 * the df (a query leaves it out when the df rule needs no rank).
 * What these sums cannot give (a usage error that says so): quantiles
 * (they need the values), last-stage units of several rows.  Weights
 * derived from the fpc (no weight column) are constant within a line: its sums are of weight 1, and
 * the reader, in the design's second pass, weights them by the line's N/n.
 */
#ifndef SURVEY_SUMS_H
#define SURVEY_SUMS_H

#include <stdio.h>
#include <survey/codebook.h>
#include <survey/common.h>
#include <survey/error.h>
#include <survey/estimate.h>
#include <survey/value.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SVY_SUMS_VERSION 1
#define SVY_SUMS_IDENT_MAX 32

/* After svy_est_bind (or the outcomes and svy_est_set_subpop): whether the
 * design and estimates can come from sums (SVY_E_USAGE saying why not). */
SVY_API svy_status svy_sums_check(const svy_est *e, svy_err *err);

/* Before any sums: the levels of every --share outcome, the codes the
 * codebook labels for its column (a value outside them is an error when
 * the sums are read); a column it does not label keeps its levels open
 * (they come with the sums, a line per level). */
SVY_API svy_status svy_sums_share_codes(svy_est *e, const svy_codebook *cb, svy_err *err);

/* The identity of the estimator's design and estimate flags:
 * "svysums1:" and 16 hex digits (buf holds SVY_SUMS_IDENT_MAX bytes). */
SVY_API void svy_sums_identity(const svy_est *e, char *buf);

/* The number of fields of a statistic, and the name of field i, in lines
 * of PSUs (rows 0) or, without --psu, of strata whose rows are the units
 * (rows 1). */
SVY_API size_t svy_sums_nfields(svy_stat s, int rows);
SVY_API const char *svy_sums_field(svy_stat s, int rows, size_t i);

/* Partial sums from rows: an accumulator over a bound estimator (which it
 * uses for the design, the domains and the outcomes' values; do not push
 * rows to the estimator itself). */
typedef struct svy_sums svy_sums;
SVY_API svy_sums *svy_sums_new(svy_est *e, svy_err *err);
SVY_API svy_status svy_sums_push(svy_sums *s, const svy_row *row, svy_err *err);
/* The sums file; the smallest nonzero count of rows of a domain line in
 * *min_cell (0: none). */
SVY_API svy_status svy_sums_write(svy_sums *s, FILE *f, long long *min_cell, svy_err *err);
SVY_API void svy_sums_free(svy_sums *s);

/* Reading sums: call before svy_est_bind; the schema bound is then the
 * sums file's, and every line goes to svy_est_push_sums instead of
 * svy_est_push.  The rest (end of pass, finish, results) is as for rows. */
SVY_API svy_status svy_est_set_from_sums(svy_est *e, svy_err *err);
SVY_API svy_status svy_est_push_sums(svy_est *e, const svy_row *line, svy_err *err);

/* The SQL dialects of svy_sums_sql. */
typedef enum svy_sql_dialect {
    SVY_SQL_SQLITE = 0,
    SVY_SQL_POSTGRES,
    SVY_SQL_CLICKHOUSE,
    SVY_SQL_SPARK
} svy_sql_dialect;
SVY_API int svy_sql_dialect_parse(const char *s, svy_sql_dialect *out); /* 1 when known */

/* One outcome's COL=VALUE as the query must compare it: a number (num set,
 * *is_num 1) or a text.  The caller resolves labels (codebook). */
typedef struct svy_sql_level {
    int is_num;
    double num;
} svy_sql_level;

/* One SQL query over table that computes the sums file of the estimator's
 * flags (not bound: there is no schema).  levels[i] is outcome i's COL=VALUE
 * as resolved (NULL or is_num 0: compared as text).  SVY_E_USAGE for what
 * the dialect cannot express (named). */
SVY_API svy_status svy_sums_sql(const svy_est *e, svy_sql_dialect dialect, const char *table,
                                const svy_sql_level *levels, FILE *f, svy_err *err);

#ifdef __cplusplus
}
#endif

#endif
