/* A design from the columns of an R-written case file (tests/ref/model-api.R,
 * vtotals-api.R): weight, strata, psu, fpc (space-separated lists; empty:
 * none), ultimate cluster (1) and the lonely-PSU rule, cs[2..7].  The design
 * points into b, which must live as long as it. */
#ifndef DESIGN_CASE_H
#define DESIGN_CASE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <survey/estimate.h>

typedef struct design_case {
    char sbuf[256], pbuf[256], fbuf[256];
    const char *strata[8], *psu[8], *fpc[8];
} design_case;

static inline const char *nz(const char *s)
{
    return *s ? s : NULL;
}

static inline size_t split_words(char *buf, const char **out, size_t max)
{
    size_t n = 0;
    for (char *tok = strtok(buf, " "); tok && n < max; tok = strtok(NULL, " "))
        out[n++] = tok;
    return n;
}

static inline void design_case_read(const char *const *cs, design_case *b, svy_design *d)
{
    snprintf(b->sbuf, sizeof b->sbuf, "%s", cs[3]);
    snprintf(b->pbuf, sizeof b->pbuf, "%s", cs[4]);
    snprintf(b->fbuf, sizeof b->fbuf, "%s", cs[5]);
    svy_design_init(d);
    d->weight = nz(cs[2]);
    d->nstrata = split_words(b->sbuf, b->strata, 8);
    d->strata = b->strata;
    d->npsu = split_words(b->pbuf, b->psu, 8);
    d->psu = b->psu;
    d->nfpc = split_words(b->fbuf, b->fpc, 8);
    d->fpc = b->fpc;
    d->ultimate_cluster = strcmp(cs[6], "1") == 0;
    cr_assert(svy_lonely_parse(cs[7], &d->lonely), "lonely rule %s", cs[7]);
}

#endif
