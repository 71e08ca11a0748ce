/* The sampling design as rows reveal it (not installed): stages, strata and
 * units per stage, the number of units n per stratum, the fpc, the weights.
 * The estimator (estimate.c) hands it every row and gets back the row's
 * place in the design; the variance kernel (variance_private.h) then needs
 * only the per-stratum numbers kept here.
 *
 * R's rules (survey:::svydesign.default, as.fpc, multistage), which this
 * module keeps:
 *  - Stage s has an id column (--psu A,B,...), an optional strata column
 *    (stage s uses strata column min(s, NS), as R's strata = ~S1 + S2) and,
 *    when an fpc is given, an fpc column for every stage.
 *  - Units are nested: a unit of stage s is (its stratum, its id); the
 *    stratum of stage s >= 2 is (the unit of stage s-1, the strata value),
 *    which is the unit of stage s-1 itself when the stage has no strata
 *    column of its own.  So codes may repeat in other strata or units.
 *  - n of a stratum counts its distinct units over every row of the design:
 *    zero-weight rows, rows of no domain and rows with missing outcomes too.
 *  - Later stages matter only when an fpc is given and there are two or more
 *    id columns; they enter the variance unless the ultimate-cluster rule is
 *    asked for, and weights derived from the fpc are the product over all
 *    stages of N/n.
 *  - The fpc is counts N everywhere (some value above 1) or fractions n/N
 *    everywhere; it must be constant in a stratum and N >= n.
 *
 * Units of the last stage are usually single rows (workers within cities,
 * schools within districts): those are checked, not stored, by an exact set
 * of (stratum, id) keys; when an id does repeat in its stratum, the estimator
 * is told to read the rows again with units kept (svy_dsn_end_pass).
 *
 * Memory: per stratum 128 bytes, per unit 16 bytes and a bit plus its key in a hash
 * table (about 40 bytes), and when codes are small whole numbers 8 bytes per
 * possible code (at most 4 per code seen, plus 8 KiB); the last stage's check costs 4 bytes per possible
 * id when ids are whole numbers below 4 times (the rows + 2^18) (respondent numbers:
 * a direct array, plus a bit per id; at most 4.2 MiB past 4 ids a row), else 11 to 21 bytes per row when ids are whole numbers
 * below 2^40 in fewer than 2^23 strata, else the key text plus about 40
 * bytes.  Nothing per row for one stage.
 */
#ifndef SVY_DESIGN_PRIVATE_H
#define SVY_DESIGN_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error design_private.h is only for building libsurvey and its unit tests.
#endif

#include <stddef.h>
#include <stdint.h>
#include <survey/error.h>
#include <survey/estimate.h>
#include <survey/schema.h>
#include <survey/value.h>

#include "hashmap_private.h"

#define SVY_DSN_NOUNIT UINT32_MAX /* not an enum: past int, which -Wpedantic refuses */

typedef struct svy_dstratum {
    uint32_t parent;      /* its unit of the stage above; 0 at stage 1 */
    uint32_t label;       /* id of its text in the stage's label table */
    long long n;          /* units in the design */
    long long first_row;  /* the row of its first member */
    long long fpc_row;    /* the row its fpc was read from */
    double fpc;           /* as given; NAN without an fpc */
    double N, g, f;       /* after svy_dsn_end_pass: population units, (N - n)/N, n/N */
    double F;             /* the fractions n/N of the strata above, multiplied: its variance's factor */
    double prodN, prodn;  /* N and n multiplied down to here: weights from the fpc */
    long long nzrows;     /* rows of nonzero weight (stage 1) */
    long long nzunits;    /* units holding a row of nonzero weight (stage 1) */
} svy_dstratum;

typedef struct svy_dunit {
    uint32_t stratum;
    int pad;
    long long first_row;
} svy_dunit;

/* What every row reads or writes of its stratum, apart (16 bytes a stratum,
 * so rows in any order find it in the cache). */
typedef struct svy_dhot {
    uint64_t fpc_text;    /* short text of the fpc that passed every check here; 0 none */
    long long n;          /* units that are rows, counted in pass 1: added to n at its end */
} svy_dhot;

/* Codes that are small whole numbers written as digits (PSU and stratum
 * numbers in a numeric column), by value: (parent + 1) << 32 | id; 0 none. */
typedef struct svy_ddirect {
    uint64_t *e;
    size_t cap, n;
} svy_ddirect;

/* A two-way cache of short codes (and numbers) to strata and units. */
typedef struct svy_dcache {
    uint64_t key;
    uint32_t parent, id;
    uint32_t isnum, pad;
} svy_dcache;
enum { SVY_DCACHE_BITS = 12 };

/* An id waiting for its check (design_ids.c). */
typedef struct svy_idq {
    uint64_t u;
    uint32_t stratum;
    long long row;
} svy_idq;
enum { SVY_IDQ = 16 };

/* The exact set of (stratum, id) of a last stage whose units are rows. */
typedef struct svy_idset {
    uint32_t *own;        /* whole ids below ncap: stratum + 1 of their one row so far; 0 unseen;
                           * UINT32_MAX: in several strata, see slots */
    size_t ncap;
    uint64_t *seen;       /* bit x set when own[x] is not 0: rows in any order read this
                           * (ncap / 8 bytes, in the cache) instead of own, which they write */
    uint64_t *slots;      /* packed (stratum, id) keys, 0 empty */
    size_t nslots, n;
    svy_strtab other;     /* keys that do not pack: stratum + id text */
    svy_idq q[SVY_IDQ];   /* ids below ncap checked a few rows late (defer_ids) */
    unsigned qhead, qn;
} svy_idset;

typedef struct svy_dstage {
    long id_col, strata_col, fpc_col;
    const char *id_name, *strata_name, *fpc_name;
    int own_strata;       /* stage >= 2 with a strata column of its own */
    int id_numeric, strata_numeric; /* codes compare as numbers ("1" = "1.0") */
    svy_strtab labels;    /* stratum keys: (parent unit, text) from stage 2 on */
    svy_dstratum *strata;
    size_t nstrata, capstrata;
    svy_dhot *hot;        /* per stratum */
    size_t caphot;
    svy_strtab ukeys;     /* unit keys: (stratum, id text) */
    svy_dunit *units;
    size_t nunits, capunits;
    uint64_t *nzbits;     /* stage 1: a bit per unit holding a row of nonzero weight */
    size_t nzwords;
    uint32_t nzlast;      /* the last unit marked there, + 1; 0 none */
    svy_idset ids;        /* the last stage when its units are rows */
    svy_dcache *scache, *ucache;
    svy_ddirect sdir, udir; /* before the caches: strata and units by number */
    uint64_t fpc_key;     /* the last short fpc text read, and its number */
    double fpc_last;
} svy_dstage;

typedef struct svy_dsn {
    size_t nstage;        /* stages read: every id column when an fpc is given, else the first */
    size_t nvar;          /* stages in the variance */
    size_t nids, nstrata_cols;
    const char *const *ids_all; /* every --psu column, read or not (checked at bind) */
    int has_fpc, fraction, derive_w, ultimate;
    int rows_last;        /* the units of stage nstage are rows (no id, or ids checked unique) */
    int multistage;       /* R's recursion over the later stages */
    int defer_ids;        /* the last stage's ids may be checked a few rows late: *repeat
                           * is then known at the end of the pass, not at its row */
    long weight_col;
    const char *weight_name;
    const svy_schema *schema;
    int pass;             /* 1, then 2 when asked for */
    int estimating;       /* rows of this pass go to the estimates */
    int repeat;           /* pass 1 found a last-stage id twice in its stratum */
    long long repeat_row, repeat_first;
    long long rows, rows_pass1, zero_rows;
    double fpc_min, fpc_max;
    long long fpc_min_row, fpc_max_row;
    size_t fpc_min_stage, fpc_max_stage;
    double wmin, wmax;    /* positive weights, as read */
    long long wmin_row, wmax_row;
    double wscale;        /* weights are divided by this power of two */
    int have_scale;
    svy_dstage st[SVY_STAGES_MAX];
    char *keybuf;
    size_t capkey;
} svy_dsn;

/* The place of one row: its stratum and unit at every stage read (unit
 * SVY_DSN_NOUNIT where units are rows), and its weight divided by wscale. */
typedef struct svy_dpath {
    uint32_t stratum[SVY_STAGES_MAX];
    uint32_t unit[SVY_STAGES_MAX];
    double w;
} svy_dpath;

/* The names are the caller's and must outlive d; checks the counts (R's
 * "non-conformable" cases become usage errors naming the flags). */
/* A data error naming the row and the schema's column col (-1: none). */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
svy_status svy_fail_row(const svy_schema *schema, const svy_row *row, long col, svy_err *err, const char *fmt, ...);

/* design.c: a code interned as prefix + key text; -1 out of memory. */
long svy_dsn_code_intern(svy_dsn *d, svy_strtab *tab, const svy_value *v, int numeric, uint32_t prefix, int *added);
/* design_ids.c: the last stage's check of a row's id v in stratum h (counts
 * new units in S->hot, sets d->repeat); the queued ones (defer_ids); -1 out
 * of memory. */
int svy_dsn_id_check(svy_dsn *d, svy_dstage *S, uint32_t h, const svy_value *v, long long row);
int svy_dsn_ids_drain(svy_dsn *d);
/* Large arrays that rows in any order read at random: huge pages asked for
 * (where the system has them on request), so they cost few TLB entries. */
void svy_dsn_huge(void *p, size_t n);
/* Frees a last stage's id set (design.c; also at the end of a pass). */
void svy_dsn_idset_free(svy_idset *s);
svy_status svy_dsn_init(svy_dsn *d, const svy_design *spec, svy_err *err);
void svy_dsn_free(svy_dsn *d);
svy_status svy_dsn_bind(svy_dsn *d, const svy_schema *schema, svy_err *err);
/* Every column the design reads; n may exceed cap. */
size_t svy_dsn_columns(const svy_dsn *d, const char **names, size_t cap, size_t n);
/* One row: fills p; SVY_E_DATA names the row and column of a missing or
 * bad weight, stratum, id or fpc. */
svy_status svy_dsn_row(svy_dsn *d, const svy_row *row, svy_dpath *p, svy_err *err);
/* After the last row of a pass: checks the fpc (mixtures, N < n), computes
 * N, g, f and F, and says whether the rows must come again (*again): for
 * weights derived from the fpc, or when last-stage ids repeat. */
svy_status svy_dsn_end_pass(svy_dsn *d, int *again, svy_err *err);

/* Text of a stratum (at stage s, 0-based) for messages. */
const char *svy_dsn_stratum_text(const svy_dsn *d, size_t s, uint32_t h, size_t *len);
const char *svy_dsn_unit_text(const svy_dsn *d, size_t s, uint32_t u, size_t *len);
/* The error of a lone unit under --lonely fail (stratum h of stage s); brief
 * leaves out the id columns (vtotals' words). */
svy_status svy_dsn_lonely_error(const svy_dsn *d, size_t s, uint32_t h, int brief, svy_err *err);

/* Key text of a value: numbers by value (the shortest round trip, -0 as 0)
 * when numeric is set, else the text.  buf holds SVY_DTOA_MAX bytes. */
const char *svy_dsn_key(const svy_value *v, int numeric, char *buf, size_t *len);

#endif
