/* svy_weight internals shared by weight.c (settings, the report),
 * weight_margin.c (margins), weight_pass.c (the passes over the data),
 * weight_cells.c (starting weights per cell, the spool, the summary),
 * weight_fit.c (nonresponse, raking) and weight_trim.c (trimming).
 *
 * A weighting cell is the set of rows that agree on every margin level, the
 * nonresponse class and the respondent flag.  Every step multiplies all the
 * weights of a cell by one factor, so without trimming a row's weight is
 * its starting weight times its cell's factor and the fit needs only each
 * cell's count and sum of starting weights.  Trimming clips single rows;
 * what it needs of the starting weights inside a cell is kept by
 * weight_cells.c in memory when a cell has few distinct starting weights,
 * and otherwise in a spool file that a trimming pass reads again. */
#ifndef SVY_WEIGHT_PRIVATE_H
#define SVY_WEIGHT_PRIVATE_H

#include "svy_private.h"
#include "hashmap_private.h"
#include "textcache_private.h"

#include <stdint.h>
#include <stdio.h>
#include <survey/weight.h>

/* ---- margins -------------------------------------------------------------- */

/* A variable some margin crosses: its categories are the union of the
 * levels over all margins, matched to data values by text or number. */
typedef struct mvar {
    char *name;
    long col;
    svy_strtab bytext; /* level text / label -> entry; category in textcat */
    svy_strtab bynum;  /* 8-byte double -> entry; category in numcat */
    uint32_t *textcat, *numcat;
    size_t textcap, numcap;
    size_t ncat;
    size_t first_margin; /* for messages */
    uint64_t stride;     /* place value in a cell's vcell */
    /* Category of each short text met in the data. */
    svy_textcache vcache;
} mvar;

typedef struct margin {
    char *name;
    size_t nvars;
    size_t *var; /* into w->mvars */
    size_t nlines, cap, levcap;
    char **levels; /* nlines * nvars texts */
    double *total;
    long long *lineno;
    svy_strtab lines; /* tuple of categories -> line */
    long double grand;
    uint32_t *line_of; /* per respondent cell (index into w->resp), after the checks */
} margin;

/* ---- cells ---------------------------------------------------------------- */

/* Distinct starting weights a cell keeps in memory; past that its rows go
 * to the spool.  16 bytes each. */
#define WCELL_KEEP 16

typedef struct wval {
    double w0;
    long long n;
} wval;

struct wtrim; /* weight_trim.c */

typedef struct wcell {
    uint64_t vcell; /* margin categories, mixed radix; UINT64_MAX for nonrespondents */
    uint32_t nr;    /* nonresponse class */
    unsigned char resp;
    unsigned char spooled; /* rows in the spool, vals unused */
    uint16_t nvals;        /* distinct starting weights in vals */
    long long n;           /* rows */
    long long first_row;
    long double s1;   /* sum of the starting weights */
    double min0, max0; /* smallest and largest starting weight */
    wval *vals;       /* sorted by w0 */
    /* A row's weight: w0 * a + b while it has never been clipped (b is 0
     * without trimming), else the value of its group in trim. */
    double a, b;
    struct wtrim *trim;
} wcell;

/* Key under which a row is filed; packed by hand so padding never hashes. */
#define CELL_KEY_LEN 13

/* ---- the engine ----------------------------------------------------------- */

/* Blocks of spooled rows: their cells and starting weights. */
typedef int (*svy_wcell_block_fn)(void *ctx, const uint32_t *cell, const double *w0, size_t n);

struct svy_weight {
    char *start_col;
    int start_prob;
    long start_idx;
    char **nr_cols;
    size_t n_nr;
    long *nr_idx;
    char *resp_col;
    long resp_idx;
    int max_iter;
    double tol;
    int trim_rounds_max;
    double trim_lo, trim_hi;
    int trim_lo_rel, trim_hi_rel, trim_on;
    int trim_once; /* R's trimWeights(strict = FALSE): one pass per round */

    mvar *mvars;
    size_t nmvars, mvcap;
    margin *margins;
    size_t nmargins, mcap;

    svy_schema *schema;
    size_t nvars; /* of schema */
    char *source;
    int begun, fitted, fit_ok;

    svy_strtab nrcells;      /* key bytes -> nonresponse cell */
    long long *nr_first; /* first row of each nonresponse cell */
    size_t nr_firstcap;
    svy_strtab cells_ix;
    wcell *cells;
    size_t cellcap;
    size_t *resp;  /* indices of respondent cells */
    size_t nresp;
    long double *acc; /* scratch per margin line */
    size_t acccap;
    long double *ctot; /* current weighted total of each respondent cell */
    double *cfac;      /* factor applied to each respondent cell by the last rake */

    /* Rows of cells with more distinct starting weights than WCELL_KEEP:
     * (cell, w0) pairs in blocks, in an unlinked temporary file. */
    struct wspool {
        FILE *f;
        uint32_t *cell; /* the block being filled */
        double *w0;
        size_t fill;
        long long rows; /* in the file, including the block being filled */
    } spool;

    char *keybuf;
    size_t keycap;
    /* Last cell seen for each combination of margin categories, when these
     * are few: rows mostly repeat a class, so this skips hashing. */
    uint32_t *cell_cache; /* cell + 1; 0 empty */
    uint64_t ncells_dense;
    /* Raking sweeps the first rake took (before any trimming round): what
     * every replicate gets, as R's rake() on a replicate design. */
    int rake_sweeps;
    /* Where trimming reads the spooled rows: NULL for the spool, else (a
     * replicate's trimming, weight_rep_trim.c) this reader of trim_src. */
    svy_status (*trim_scan)(void *src, svy_wcell_block_fn fn, void *ctx, svy_err *err);
    void *trim_src;
    /* Where raking stands: the margin line furthest from its total. */
    size_t worst_m, worst_l;
    svy_weight_report rep;
};

svy_status svy_weight_nomem(svy_err *err);
/* SVY_E_USAGE once the first pass has begun: settings come before it. */
svy_status svy_weight_too_late(const svy_weight *w, svy_err *err);
/* "stype=E, sch.wide=Yes" for messages. */
void svy_weight_describe_line(const svy_weight *w, const margin *m, size_t line, char *buf, size_t size);
svy_status svy_weight_line_err(const svy_weight *w, const margin *m, size_t line, svy_err *err, const char *msg);

/* weight_pass.c, for weight_rep.c: a row's cell and starting weight. */
svy_status svy_weight_add_row_cell(svy_weight *w, const svy_row *row, size_t *cell, double *start, svy_err *err);
svy_status svy_weight_lookup_start(const svy_weight *w, const svy_row *row, double *weight, size_t *cell,
                                   double *start, svy_err *err);

/* hadamard.c: R's survey:::hadamard(n), the n-row Hadamard matrix BRR uses
 * (0/1 entries, row-major, *size x *size with *size > n; NULL: no memory). */
unsigned char *svy_hadamard(size_t n, size_t *size);

/* weight_cells.c: the starting weights of each cell. */
svy_status svy_wcell_add(svy_weight *w, size_t cell, double w0, svy_err *err);
/* Flush the spool before reading it. */
svy_status svy_wcell_spool_finish(svy_weight *w, svy_err *err);
/* Call fn for every block of spooled rows; stop at a nonzero return. */
svy_status svy_wcell_spool_scan(svy_weight *w, svy_wcell_block_fn fn, void *ctx, svy_err *err);
void svy_wcell_free(svy_weight *w);
/* Report statistics over the respondents' final weights (one or a few
 * reads of the spool for the median). */
svy_status svy_wcell_summarize(svy_weight *w, svy_err *err);

/* weight_fit.c */
svy_status svy_weight_fit_cells(svy_weight *w, svy_err *err);
/* Rake (or post-stratify) the respondent cells' totals w->ctot to the
 * margins; w->cfac gets each cell's factor.  Reusable on any set of cell
 * totals, such as those of a replicate weight. */
svy_status svy_weight_rake(svy_weight *w, svy_err *err);
double svy_weight_max_gap(svy_weight *w, size_t *worst_m, size_t *worst_l);

/* weight_trim.c */
svy_status svy_weight_trim(svy_weight *w, svy_err *err);
void svy_wtrim_free(struct wtrim *t);
/* Free what only the trimming passes need (the spooled cells' edge lists);
 * svy_wtrim_weight still works. */
void svy_wtrim_shrink(struct wtrim *t);
double svy_wtrim_weight(const wcell *c, double w0);

/* The final weight of a row of cell c with starting weight w0. */
static inline double svy_wcell_weight(const wcell *c, double w0)
{
    return c->trim ? svy_wtrim_weight(c, w0) : w0 * c->a + c->b;
}

#endif
