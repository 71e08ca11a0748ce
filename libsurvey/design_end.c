/* The design at the end of a pass (see design_private.h): the texts of
 * strata and units for messages, the fpc's checks once every row is seen,
 * the numbers of each stage, and the lonely-PSU error. */
#include "svy_private.h"
#include "design_private.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ end of pass */

const char *svy_dsn_stratum_text(const svy_dsn *d, size_t s, uint32_t h, size_t *len)
{
    const svy_dstage *S = &d->st[s];
    if (!S->own_strata) {
        if (s == 0) {
            *len = 0;
            return "";
        }
        return svy_dsn_unit_text(d, s - 1, h, len);
    }
    const svy_dstratum *T = &S->strata[h];
    *len = S->labels.ent[T->label].len - 4;
    return svy_strtab_str(&S->labels, T->label) + 4;
}

const char *svy_dsn_unit_text(const svy_dsn *d, size_t s, uint32_t u, size_t *len)
{
    const svy_dstage *S = &d->st[s];
    if (u == SVY_DSN_NOUNIT || u >= S->ukeys.n) {
        *len = 0;
        return "";
    }
    *len = S->ukeys.ent[u].len - 4;
    return svy_strtab_str(&S->ukeys, u) + 4;
}

static svy_status fpc_counts(svy_dsn *d, svy_err *err)
{
    if (d->fpc_max > 1 && d->fpc_min < 1) {
        const svy_dstage *B = &d->st[d->fpc_max_stage], *S = &d->st[d->fpc_min_stage];
        return svy_err_set(err, SVY_E_DATA, NULL, d->fpc_min_row, S->fpc_col + 1, S->fpc_name,
                           "fpc %s holds a sampling fraction (this row) but fpc %s a population count (row %lld): "
                           "all counts or all fractions (R: \"Must have all fpc>=1 or all fpc<=1\")",
                           S->fpc_name, B->fpc_name, d->fpc_max_row);
    }
    if (!(d->fpc_max > 1) && d->fpc_min >= 1)
        return svy_err_set(err, SVY_E_DATA, NULL, d->fpc_max_row, d->st[0].fpc_col + 1, d->st[0].fpc_name,
                           "every fpc value is 1: as fractions every unit was sampled, as counts each stratum "
                           "has one unit; R's svydesign fails here too: give population counts or fractions");
    d->fraction = !(d->fpc_max > 1);
    return SVY_OK;
}

static svy_status fpc_too_small(const svy_dsn *d, size_t i, const svy_dstratum *T, svy_err *err)
{
    const svy_dstage *S = &d->st[i];
    size_t len;
    const char *t = svy_dsn_stratum_text(d, i, (uint32_t)(T - S->strata), &len);
    char where[200];
    if (i == 0)
        snprintf(where, sizeof where, "stratum '%.*s'%s%s", (int)(len < 80 ? len : 80), t,
                 S->strata_name ? " of column " : "", S->strata_name ? S->strata_name : "");
    else
        snprintf(where, sizeof where, "stage %zu, within unit '%.*s' of the stage above", i + 1,
                 (int)(len < 80 ? len : 80), t);
    const char *what = i == 0 && S->id_col >= 0 ? "PSUs" : i == 0 ? "rows" : "units";
    return svy_err_set(err, SVY_E_DATA, NULL, T->fpc_row, S->fpc_col + 1, S->fpc_name,
                       "fpc %s says %s has %.15g %s in the population, but %lld are sampled "
                       "(R: \"FPC implies >100%% sampling\")",
                       S->fpc_name, where, T->N, what, T->n);
}

/* N, g, f per stratum; F and the products of N and n down the stages. */
static svy_status stage_numbers(svy_dsn *d, svy_err *err)
{
    for (size_t i = 0; i < d->nstage; i++) {
        svy_dstage *S = &d->st[i];
        for (size_t h = 0; h < S->nstrata; h++) {
            svy_dstratum *T = &S->strata[h];
            double n = (double)T->n;
            if (d->has_fpc) {
                T->N = d->fraction ? n / T->fpc : T->fpc;
                if (T->N < n)
                    return fpc_too_small(d, i, T, err);
                T->g = (T->N - n) / T->N;
                T->f = n / T->N;
            } else {
                T->N = INFINITY;
                T->g = 1;
                T->f = 0;
            }
            if (i == 0) {
                T->F = 1;
                T->prodN = T->N;
                T->prodn = n;
            } else {
                const svy_dstratum *up = &d->st[i - 1].strata[d->st[i - 1].units[T->parent].stratum];
                T->F = up->F * up->f;
                T->prodN = up->prodN * T->N;
                T->prodn = up->prodn * n;
            }
            if (d->derive_w && T->N > 1e12)
                return svy_err_set(err, SVY_E_DATA, NULL, T->fpc_row, S->fpc_col + 1, S->fpc_name,
                                   "fpc %s implies %.15g population units: too many to derive weights from "
                                   "(R: \"can't be computed from fpc\"); give --weight",
                                   S->fpc_name, T->N);
        }
    }
    return SVY_OK;
}

svy_status svy_dsn_end_pass(svy_dsn *d, int *again, svy_err *err)
{
    *again = 0;
    if (d->pass > 1) {
        SVY_FAIL_IF(d->rows != d->rows_pass1, err, SVY_E_DATA,
                    "the input changed between the two passes the design needs: %lld rows, then %lld",
                    d->rows_pass1, d->rows);
        d->pass = 3;
        return SVY_OK;
    }
    d->rows_pass1 = d->rows;
    SVY_FAIL_IF(svy_dsn_ids_drain(d) < 0, err, SVY_E_NOMEM, "out of memory");
    for (size_t i = 0; i < d->nstage; i++) /* units that are rows, counted apart */
        for (size_t h = 0; h < d->st[i].nstrata; h++) {
            d->st[i].strata[h].n += d->st[i].hot[h].n;
            d->st[i].hot[h].n = 0;
        }
    svy_status st;
    if (d->has_fpc && d->rows > 0 && (st = fpc_counts(d, err)))
        return st;
    if ((st = stage_numbers(d, err)))
        return st;
    if (d->repeat) {
        d->rows_last = 0; /* the last stage keeps its units */
        svy_dsn_idset_free(&d->st[d->nstage - 1].ids);
    }
    if (d->derive_w || d->repeat) {
        *again = 1;
        d->pass = 2;
        d->rows = 0;
        d->estimating = 1;
        return SVY_OK;
    }
    d->pass = 3;
    return SVY_OK;
}

/* A lone unit under --lonely fail: name the stratum, the row of its first
 * member and the column.  brief: without the id columns of the stratum's
 * units and of the unit above (the words of the model's variance). */
svy_status svy_dsn_lonely_error(const svy_dsn *d, size_t s, uint32_t h, int brief, svy_err *err)
{
    const svy_dstage *S = &d->st[s];
    const svy_dstratum *T = &S->strata[h];
    size_t len;
    const char *t = svy_dsn_stratum_text(d, s, h, &len);
    int tl = (int)(len < 100 ? len : 100);
    const char *rule = "choose --lonely remove|certainty|adjust|average (R's survey.lonely.psu)";
    const char *of = !brief && S->id_name ? " of column " : "", *id = !brief && S->id_name ? S->id_name : "";
    if (s == 0 && S->strata_name)
        return svy_err_set(err, SVY_E_DATA, NULL, T->first_row, S->strata_col + 1, S->strata_name,
                           "stratum '%.*s' of column %s has a single PSU%s%s (this row is its first): %s", tl, t,
                           S->strata_name, of, id, rule);
    if (s == 0)
        return svy_err_set(err, SVY_E_DATA, NULL, T->first_row, S->id_col >= 0 ? S->id_col + 1 : 0, S->id_name,
                           "the design has a single PSU%s%s: %s", of, id, rule);
    const svy_dstage *U = &d->st[s - 1];
    if (brief)
        return svy_err_set(err, SVY_E_DATA, NULL, T->first_row, S->id_col + 1, S->id_name,
                           "unit '%.*s' of stage %zu has a single unit of column %s sampled in it "
                           "(stage %zu; this row is its first): %s",
                           tl, t, s, S->id_name, s + 1, rule);
    if (!S->own_strata)
        return svy_err_set(err, SVY_E_DATA, NULL, T->first_row, S->id_col + 1, S->id_name,
                           "unit '%.*s' of column %s (stage %zu) has a single unit of column %s sampled in it "
                           "(stage %zu; this row is its first): %s",
                           tl, t, U->id_name, s, S->id_name, s + 1, rule);
    size_t ul;
    const char *ut = svy_dsn_unit_text(d, s - 1, T->parent, &ul);
    return svy_err_set(err, SVY_E_DATA, NULL, T->first_row, S->strata_col + 1, S->strata_name,
                       "stratum '%.*s' of column %s within unit '%.*s' of column %s has a single unit of "
                       "column %s at stage %zu (this row is its first): %s",
                       tl, t, S->strata_name, (int)(ul < 100 ? ul : 100), ut, U->id_name, S->id_name, s + 1, rule);
}
