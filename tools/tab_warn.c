/* svy-tab's warnings about the data after the table (see tab.h). */
#include <string.h>

#include "tab.h"
#include "tool.h"

static const char *by_label(const svy_var *var, const svy_value *v)
{
    const char *l = svy_var_label_for(var, v);
    double x;
    if (!l && v->type == SVY_VAL_STR && svy_parse_number(v->str, v->len, &x)) {
        svy_value num = {.type = SVY_VAL_NUM, .num = x};
        l = svy_var_label_for(var, &num);
    }
    return l;
}

/* A stray word in a labelled --by column makes a domain of one row: say so
 * (a typo in the data, most likely, not a group of the study). */
void tab_warn_stray_domains(const tab *T)
{
    if (T->o.quiet)
        return;
    size_t last = (size_t)-1;
    for (size_t i = 0; i < svy_est_count(T->est); i++) {
        const svy_est_result *r = svy_est_get(T->est, i);
        if (r->domain == last || r->domain_rows != 1 || svy_est_domain_is_overall(T->est, r->domain))
            continue;
        last = r->domain;
        for (size_t k = 0; k < T->nby; k++) {
            long vi = svy_schema_find(T->schema, T->by[k]);
            const svy_value *v = svy_est_domain_value(T->est, r->domain, k);
            if (vi < 0 || !v)
                continue;
            const svy_var *var = svy_schema_var(T->schema, (size_t)vi);
            if (svy_var_nlabels(var) == 0 || by_label(var, v))
                continue;
            char nb[SVY_DTOA_MAX];
            const char *text = v->type == SVY_VAL_NUM ? (svy_dtoa(v->num, nb), nb) : v->str;
            svy_tool_warn("warning: --by %s: '%s' makes a domain of one row, and it is none of the values "
                          "%s's labels name (a stray word in the data?)",
                          T->by[k], text, T->by[k]);
        }
    }
}

/* A COL=VALUE that nothing could check and no row has: say so. */
void tab_warn_unmatched(const tab *T)
{
    for (size_t i = 0; i < T->nouts; i++) {
        const outspec *o = &T->outs[i];
        if (!o->unchecked || T->o.quiet)
            continue;
        int any = 0, seen = 0;
        for (size_t k = 0; k < svy_est_count(T->est); k++) {
            const svy_est_result *r = svy_est_get(T->est, k);
            if (r->stat != SVY_STAT_RATE || !r->level || strcmp(r->column, o->column) || strcmp(r->level, o->value))
                continue;
            seen = 1;
            any |= !(r->estimate == 0);
        }
        if (seen && !any)
            svy_tool_warn("warning: no row has %s=%s (%s has no value labels to check '%s' against): "
                          "its rate is 0 everywhere", o->column, o->value, o->column, o->value);
    }
}

