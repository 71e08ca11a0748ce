/* Shared by the sums files' modules (sums_write.c, sums_read.c,
 * sums_sql.c; see survey/sums.h).  Not installed. */
#ifndef SVY_SUMS_PRIVATE_H
#define SVY_SUMS_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error sums_private.h is only for building libsurvey and its unit tests.
#endif

#include <stdint.h>
#include <stdio.h>
#include <survey/sums.h>

/* The key columns of a sums file, each name once, in file order: the by
 * columns, then the first stage's strata, PSU and fpc, then the weight;
 * of every later stage its strata (when its own), fpc and unit, the last
 * stage's units being rows: one id of the line's rows (the design counts
 * the ids of each unit above, and _rows - 1 more). */
enum { SUMS_KEY_BY, SUMS_KEY_STRATA, SUMS_KEY_PSU, SUMS_KEY_FPC, SUMS_KEY_WEIGHT, SUMS_KEY_FPC2, SUMS_KEY_ID2,
       SUMS_KEY_STRATA2, SUMS_KEY_UNIT2 };
typedef struct sums_key {
    const char *name;
    int role;
    size_t by;    /* SUMS_KEY_BY: which by variable; of a later stage (FPC2, ID2, STRATA2, UNIT2): the stage */
} sums_key;
enum { SUMS_KEYS_MAX = 64 };
size_t svy_sums_keys(const svy_est *e, sums_key *keys);

/* The power of the weight field f holds (0 counts and values, 1 sums of
 * w, 2 of w^2); whether the lines are ROWS lines (no --psu: rows are the
 * units, co-moments per domain and stratum). */
int svy_sums_power(svy_stat s, int rows, size_t f);
int svy_sums_rows(const svy_est *e);

/* Outcome o's fields (sums_share.c: shares too): how many, the name of
 * field j (in buf for a share level), the power of the weight it holds. */
size_t svy_sums_nf(const svy_est *e, size_t o);
const char *svy_sums_fname(const svy_est *e, size_t o, size_t j, char *buf, size_t cap);
int svy_sums_fpow(const svy_est *e, size_t o, size_t j);
/* A share of a column no codebook labels ("open"): its levels come with
 * the sums, a line per level (column _K_level). */
int svy_sums_open(const outcome *oc);
/* A share's row into its fields f (weight w); a line's share fields x into
 * record r of layer li (lv: an open share's level id, from the line's
 * _K_level); a proportion's group merged (sums_read.c). */
void svy_sums_share_add(const svy_est *e, size_t o, double *f, const svy_row *row, double w);
/* A row's value of a labelled share: the index of its code, or -1 (other). */
long svy_sums_share_code(const outcome *oc, const svy_row *row);
/* The sums file's column NAME, or -1 and a usage error saying this is not a
 * sums file "of OF" (made "with the same SAME"). */
long svy_sums_col(const svy_est *e, const char *name, const char *of, const char *same, svy_err *err);
svy_status svy_sums_share_merge(svy_est *e, size_t o, size_t li, size_t r, const double *x, long lv, svy_err *err);
void svy_sums_group_merge(double *g, const double *l);

/* A CSV field, quoted when it must be. */
void svy_sums_put_field(FILE *f, const char *s, size_t len);

/* sums_dialect.c: the dialects' text, for sums_sql.c and sums_rep_sql.c: an
 * identifier quoted; a column as a double (toFloat64 in ClickHouse, which
 * keeps its nullability); SUM( and its close (SQLite prints it to 17
 * digits). */
void svy_sql_ident(FILE *f, svy_sql_dialect d, const char *s);
void svy_sql_double(FILE *f, svy_sql_dialect d, const char *col);
void svy_sql_sum_open(FILE *f, svy_sql_dialect d);
void svy_sql_sum_close(FILE *f, svy_sql_dialect d);

/* sums_rep.c: replicate weights.  Outcome o's replicate fields in blocks of
 * R; the identity hash of the replicate columns (h unchanged without);
 * partial sums per line (svy_sums); a line read into the replicates' slots
 * and Gram matrices (dm: the line is in its domain; f, foff, lv: the line's
 * Taylor fields, each outcome's first, each open share's level). */
struct sums_rep;
struct sums_rep_in;
size_t svy_sums_rep_blocks(const svy_est *e, size_t o);
uint64_t svy_sums_rep_hash(const svy_est *e, uint64_t h);
svy_status svy_sums_rep_new(const svy_est *e, struct sums_rep **out, svy_err *err);
void svy_sums_rep_free(struct sums_rep *p);
svy_status svy_sums_rep_push(struct sums_rep *p, svy_est *e, size_t line, const svy_row *row, const double *ys,
                             const int *valid, svy_err *err);
void svy_sums_rep_header(const struct sums_rep *p, const svy_est *e, FILE *f);
void svy_sums_rep_put(const struct sums_rep *p, size_t line, FILE *f);
svy_status svy_sums_rep_ready(svy_est *e, struct sums_rep_in **out, svy_err *err);
void svy_sums_rep_in_free(struct sums_rep_in *p);
svy_status svy_sums_rep_line(svy_est *e, struct sums_rep_in *p, const svy_row *line, int dm, const double *f,
                             const size_t *foff, const long *lv, svy_err *err);
/* sums_rep_sql.c: whether the flags' df needs the Gram; the query's limits
 * ; its inner and outer replicate fields
 * (sub: --subpop's _s gates them). */
int svy_sums_rep_needs_gram(const svy_est *e);
svy_status svy_sums_rep_sql_check(const svy_est *e, svy_sql_dialect d, svy_err *err);
svy_status svy_sums_rep_sql_inner(const svy_est *e, svy_sql_dialect d, FILE *f);
/* The whole query as a UNION ALL of parts, each with a chunk of the Gram,
 * when it must be split (1, *st its status), else 0. */
int svy_sums_rep_sql_split(const svy_est *e, svy_sql_dialect d, const char *table, const svy_sql_level *levels,
                           FILE *f, svy_status *st, svy_err *err);
/* sums_rep.c: a line of a part > 0 of a split query (its Gram chunk only):
 * 1 when it was one (*st its status). */
int svy_sums_rep_part_line(svy_est *e, struct sums_rep_in *p, const svy_row *line, svy_status *st, svy_err *err);
svy_status svy_sums_rep_sql_outer(const svy_est *e, svy_sql_dialect d, int sub, FILE *f);

#endif
