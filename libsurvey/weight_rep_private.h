/* svy_wrep internals shared by weight_rep.c (the replicates' multipliers
 * and cell factors) and weight_rep_trim.c (trimming each replicate). */
#ifndef SVY_WEIGHT_REP_PRIVATE_H
#define SVY_WEIGHT_REP_PRIVATE_H

#include "weight_private.h"

#include <survey/weight_rep.h>

struct wrep_trim; /* weight_rep_trim.c */

struct svy_wrep {
    svy_reptype type;
    double rho;        /* Fay's; 0 for BRR */
    size_t nboot;
    unsigned long seed;
    char *strata_col, *psu_col, *fpc_col;
    long strata_idx, psu_idx, fpc_idx;

    svy_strtab strata; /* value key -> stratum */
    double *sfpc;      /* per stratum: population size (or fraction), NaN none */
    long long *sfirst; /* per stratum: first row */
    size_t *sn;        /* per stratum: PSUs */
    size_t scap;
    svy_strtab psus;   /* stratum (4 bytes) + value key -> PSU */
    uint32_t *pstrat;  /* per PSU: stratum */
    size_t pcap;
    svy_strtab pairs;  /* cell (4 bytes) + PSU (4 bytes) -> pair */
    long double *psum; /* per pair: sum of starting weights */
    size_t paircap;
    char *key;
    size_t keycap;

    /* After the fit. */
    size_t nrep, ncells;
    double scale;
    double *rscale;
    uint32_t *del;     /* jackknife: the PSU replicate r deletes */
    double *mult;      /* bootstrap: nrep x PSUs multipliers */
    double *fac;       /* nrep x cells: replicate cell factors */
    int fitted;
    struct wrep_trim *trim; /* with trimming: weight_rep_trim.c */
};

/* Multiplier of PSU p in replicate i. */
static inline double svy_wrep_multiplier(const svy_wrep *r, size_t i, size_t p)
{
    if (r->mult)
        return r->mult[i * r->psus.n + p];
    uint32_t d = r->del[i];
    if (p == d)
        return 0;
    if (r->type == SVY_REP_JK1)
        return (double)r->psus.n / (double)(r->psus.n - 1);
    size_t s = r->pstrat[d];
    return r->pstrat[p] == s ? (double)r->sn[s] / (double)(r->sn[s] - 1) : 1;
}

/* weight_rep_trim.c: trimming each replicate as the full sample was.
 * A respondent row (cell, PSU, starting weight) for the replicates' spool. */
svy_status svy_wrep_trim_row(svy_wrep *r, uint32_t cell, uint32_t psu, double w0, svy_err *err);
/* After the replicates' cell factors (r->fac): trim every replicate. */
svy_status svy_wrep_trim_fit(svy_wrep *r, svy_weight *w, svy_err *err);
/* Replicate i's trimmed cells, or NULL where trimming changed nothing
 * (the weight is then w0 * m * r->fac). */
const wcell *svy_wrep_trim_cells(const svy_wrep *r, size_t i);
void svy_wrep_trim_free(struct wrep_trim *t);

#endif
