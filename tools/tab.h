/* svy-tab's state, shared by tools/svy-tab.c and the files beside it
 * (tab_warn.c). */
#ifndef TAB_H
#define TAB_H

#include "design_opts.h"
#include "repopts.h"
#include <survey/subpop.h>

#include "tab_sums.h"

typedef struct outspec {
    svy_stat stat;
    char *column;
    char *value;
    int unchecked; /* COL=VALUE with nothing to check VALUE against */
    int median;    /* --median COL: the quantile at 0.5 only (else at every --probs) */
} outspec;

typedef struct tab {
    svy_design_opts o;  /* the design flags, the codebook, the weight's choice */
    char **by;
    size_t nby;
    outspec *outs;
    size_t nouts, capouts;
    svy_table_opts t;
    const char *output;
    const char *input;
    svy_est *est;
    svy_schema *schema; /* a copy, for labels */
    const char *encoding;
    char **by_alloc;    /* -b's list, owned */
    char *diff;         /* --diff VAR[=REF], owned: VAR, and REF after its '=' */
    const char *diff_ref;
    const char *test;   /* --test VAR */
    int test_chisq;     /* --test-method chisq */
    int test_method_given;
    svy_repopts rep;    /* replicate weights: --repweights ... or --repinfo */
    svy_repdesign rd;
    svy_subpop *subpop; /* --subpop */
    char *notes;        /* the notes' sentences (note and the subpopulation), owned */
    double *probs;      /* --probs (NULL: 0.5) */
    size_t nprobs;
    const char **cal;   /* --calibrated-to MARGIN, repeatable */
    size_t ncal;
    tab_sums sums;      /* --partial, --from-sums, --sql */
    char **inputs;      /* the inputs (several: --from-sums) */
    int ninputs;
} tab;

/* tab_warn.c: after the table, what the data suggest went wrong: a COL=VALUE
 * no row has, a stray word making a one-row domain of a labelled --by. */
void tab_warn_unmatched(const tab *T);
void tab_warn_stray_domains(const tab *T);

#endif
