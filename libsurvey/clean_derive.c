/* The clean engine's derived variables, row by row: any_of and all_of from
 * their sources' values, map and threshold of a code from a table made once
 * (the codebook's rule applied to each whole number 0..63), the rest and
 * anything off the table the long way (svy_clean_derive); and the checks'
 * plan (their cells, for run_checks). */
#include "svy_private.h"
#include "clean_private.h"

#include <math.h>
#include <stdlib.h>

/* What svy_clean_derive makes of a whole number n of v's source: 0 or 1
 * (svy_clean_flags), else -1 (another number, or no map case: a problem). */
static signed char table_entry(const svy_cb_var *v, double n)
{
    double x = NAN;
    if (v->kind == CB_K_THRESHOLD) {
        x = svy_cb_cond_holds(v->op, v->arg, 0, n) ? 1 : 0;
    } else {
        for (size_t k = 0; k < v->nmap && isnan(x); k++)
            if (n >= v->map[k].lo && n <= v->map[k].hi)
                x = v->map[k].to;
    }
    return x == 1 ? 1 : x == 0 && !signbit(x) ? 0 : -1;
}

int svy_clean_derive_plan(svy_clean *c)
{
    const svy_codebook *cb = c->cb;
    free(c->dplan);
    if (!(c->dplan = svy_calloc(cb->nvars - cb->nsource + 1, sizeof *c->dplan)))
        return 0;
    for (size_t i = cb->nsource; i < cb->nvars; i++) {
        const svy_cb_var *v = &cb->vars[i];
        clean_dplan *d = &c->dplan[i - cb->nsource];
        d->var = i;
        d->kind = (int)v->kind;
        d->src = v->src;
        d->nsrc = v->nsrc;
        d->src0 = v->nsrc ? v->src[0] : 0;
        d->arg = v->arg;
        for (int n = 0; n < CLEAN_DTAB; n++)
            d->tab[n] = v->kind == CB_K_MAP || v->kind == CB_K_THRESHOLD ? table_entry(v, n) : -1;
    }
    free(c->cplan);
    if (!(c->cplan = svy_calloc(cb->nchecks + 1, sizeof *c->cplan)))
        return 0;
    for (size_t k = 0; k < cb->nchecks; k++) {
        const cb_check *ch = &cb->checks[k];
        c->cplan[k].when = (clean_ccond){&c->cell[ch->when.var], ch->when.value, (int)ch->when.op};
        c->cplan[k].then = (clean_ccond){&c->cell[ch->then.var], ch->then.value, (int)ch->then.op};
    }
    return 1;
}

/* Their cells point at shared values (svy_clean_flags, svy_clean_missing)
 * but for copy and the long way: no svy_clean_cell_field after. */
svy_status svy_clean_derive_all(svy_clean *c, svy_err *err)
{
    const svy_codebook *cb = c->cb;
    clean_cell *cell = c->cell;
    for (const clean_dplan *d = c->dplan, *de = d + (cb->nvars - cb->nsource); d < de; d++) {
        if (d->kind == CB_K_MAP || d->kind == CB_K_THRESHOLD) {
            const clean_val *a = cell[d->src0].p;
            if (a->missing) { /* as svy_clean_derive: missing */
                cell[d->var].p = &svy_clean_missing;
                continue;
            }
            double x = a->num;
            if (x >= 0 && x < CLEAN_DTAB && x == (double)(int)x && d->tab[(int)x] >= 0) {
                cell[d->var].p = &svy_clean_flags[d->tab[(int)x]];
                continue;
            }
        } else if (d->kind == CB_K_ANY_OF || d->kind == CB_K_ALL_OF) {
            /* any_of: 1 at the first source with the value, else missing if one
             * is, else 0; all_of: 0 at the first present without it, else
             * missing if one is, else 1. */
            const int any = d->kind == CB_K_ANY_OF;
            const double arg = d->arg;
            int anymiss = 0, x = -2;
            for (const size_t *k = d->src, *ke = k + d->nsrc; k < ke && x == -2; k++) {
                const clean_val *sv = cell[*k].p;
                if (sv->missing)
                    anymiss = 1;
                else if ((sv->num == arg) == any)
                    x = any;
            }
            if (x == -2)
                x = anymiss ? -1 : !any;
            cell[d->var].p = x < 0 ? &svy_clean_missing : &svy_clean_flags[x];
            continue;
        }
        svy_status st = svy_clean_derive(c, d->var, err);
        if (st)
            return st;
        if (d->kind == CB_K_COPY && !svy_clean_cell_field(&cell[d->var], cb->vars[d->var].type == SVY_CB_TEXT))
            return svy_err_set(err, SVY_E_NOMEM, c->input, c->cur_row, 0, NULL, "out of memory");
    }
    return SVY_OK;
}
