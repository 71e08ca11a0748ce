/* The estimator's subpopulation (--subpop): rows where the expression is
 * false stay in the design, so their units and strata count in the
 * variance as R's subset(design, ...) keeps fpc$sampsize, but they enter
 * no domain.  The degrees of freedom of the domain rule then count the
 * units and strata of the subpopulation's rows: R's degf(subset). */
#include "svy_private.h"
#include "estimate_private.h"

#include <survey/subpop.h>

void svy_est_set_subpop(svy_est *e, const svy_subpop *s)
{
    e->subpop = s;
}

long long svy_est_subpop_rows(const svy_est *e)
{
    return e->subpop ? e->subpop_rows : e->rows;
}

svy_status svy_est_subpop_in(svy_est *e, const svy_row *row, int *in, svy_err *err)
{
    svy_status st = svy_subpop_eval(e->subpop, row, in, err);
    if (st == SVY_OK && *in)
        e->subpop_rows++;
    return st;
}
