/* Codebook accessors, and the codebook held against a data set's schema. */
#include "svy_private.h"
#include "codebook_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ accessors */

const char *svy_codebook_dir(const svy_codebook *cb) { return cb->dir; }
const char *svy_codebook_name(const svy_codebook *cb) { return cb->name; }
const char *svy_codebook_title(const svy_codebook *cb) { return cb->title; }
size_t svy_codebook_nvars(const svy_codebook *cb) { return cb->nvars; }

const svy_cb_var *svy_codebook_var(const svy_codebook *cb, size_t i)
{
    return i < cb->nvars ? &cb->vars[i] : NULL;
}

const char *svy_codebook_role(const svy_codebook *cb, svy_role role)
{
    for (size_t i = 0; i < cb->nvars; i++)
        if (cb_has_role(&cb->vars[i], role, cb_is_design_role(role) ? 1 : -1))
            return cb->vars[i].name;
    return NULL;
}

const char *svy_codebook_role_stage(const svy_codebook *cb, svy_role role, int stage)
{
    for (size_t i = 0; i < cb->nvars; i++)
        if (cb_has_role(&cb->vars[i], role, stage))
            return cb->vars[i].name;
    return NULL;
}

size_t svy_codebook_roles(const svy_codebook *cb, svy_role role, const char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < cb->nvars; i++)
        if (cb_has_role(&cb->vars[i], role, -1)) {
            if (n < max)
                names[n] = cb->vars[i].name;
            n++;
        }
    return n;
}

const char *svy_cb_var_name(const svy_cb_var *v) { return v->name; }
const char *svy_cb_var_source(const svy_cb_var *v) { return v->source; }
const char *svy_cb_var_label(const svy_cb_var *v, svy_lang lang) { return lang == SVY_LANG_EN ? v->label_en : v->label_zh; }
svy_cb_type svy_cb_var_type(const svy_cb_var *v) { return v->type; }
svy_role svy_cb_var_role(const svy_cb_var *v) { return v->role; }
int svy_cb_var_stage(const svy_cb_var *v) { return v->stage; }
int svy_cb_var_is_derived(const svy_cb_var *v) { return v->kind != CB_K_SOURCE; }
size_t svy_cb_var_nlabels(const svy_cb_var *v) { return v->labels ? v->labels->n : 0; }

double svy_cb_var_label_code(const svy_cb_var *v, size_t i)
{
    return v->labels && i < v->labels->n ? v->labels->v[i].code : NAN;
}

const char *svy_cb_var_label_text(const svy_cb_var *v, size_t i, svy_lang lang)
{
    if (!v->labels || i >= v->labels->n)
        return NULL;
    return lang == SVY_LANG_EN ? v->labels->v[i].en : v->labels->v[i].zh;
}

int svy_cb_var_valid_num(const svy_cb_var *v, double x)
{
    if (isnan(x) || isinf(x))
        return 0;
    switch (v->kind) {
    case CB_K_ANY_OF:
    case CB_K_ALL_OF:
    case CB_K_THRESHOLD:
        return x == 0 || x == 1;
    case CB_K_MAP:
        for (size_t i = 0; i < v->nmap; i++)
            if (v->map[i].to == x)
                return 1;
        return 0;
    default: break;
    }
    if (v->type == SVY_CB_TEXT)
        return 1;
    if ((v->type == SVY_CB_INTEGER || v->type == SVY_CB_CODE) && x != floor(x))
        return 0;
    if (v->nvalid) {
        for (size_t i = 0; i < v->nvalid; i++)
            if (x >= v->valid[i].lo && x <= v->valid[i].hi)
                return 1;
        return 0;
    }
    if (v->type == SVY_CB_CODE && v->labels) {
        for (size_t i = 0; i < v->labels->n; i++)
            if (v->labels->v[i].code == x)
                return 1;
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------ against data */

/* Caseless (ASCII) comparison after trimming blanks: how a person reads two
 * labels as "the same". */
static int same_label(const char *a, const char *b)
{
    while (*a == ' ')
        a++;
    while (*b == ' ')
        b++;
    size_t la = strlen(a), lb = strlen(b);
    while (la && a[la - 1] == ' ')
        la--;
    while (lb && b[lb - 1] == ' ')
        lb--;
    return la == lb && !strncasecmp(a, b, la);
}

svy_status svy_codebook_check_schema(const svy_codebook *cb, const svy_schema *raw, svy_err *err)
{
    for (size_t i = 0; i < cb->nsource; i++) {
        const svy_cb_var *v = &cb->vars[i];
        long k = svy_schema_find(raw, v->source);
        if (k < 0)
            return svy_err_set(err, SVY_E_DATA, cb->path[CB_F_VARIABLES], v->line, v->source_col, v->name,
                               "the data have no column '%s'", v->source);
        /* The data's labels can only be compared where codes pass through
         * unchanged. */
        if (!v->labels || v->recode)
            continue;
        const svy_var *rv = svy_schema_var(raw, (size_t)k);
        for (size_t j = 0; j < svy_var_nlabels(rv); j++) {
            const svy_value *val = svy_var_label_value(rv, j);
            if (val->type != SVY_VAL_NUM || val->missing)
                continue;
            const char *text = svy_var_label_text(rv, j);
            for (size_t m = 0; m < v->labels->n; m++) {
                const cb_label *l = &v->labels->v[m];
                if (l->code != val->num && (same_label(text, l->zh) || same_label(text, l->en)))
                    return svy_err_set(err, SVY_E_DATA, cb->path[CB_F_VALUES], l->line, 2, v->name,
                                       "label '%s' is code %g here but code %g in the data's column '%s'", text,
                                       l->code, val->num, v->source);
            }
        }
    }
    return SVY_OK;
}

svy_status svy_codebook_apply_labels(const svy_codebook *cb, svy_schema *schema, svy_lang lang, svy_err *err)
{
    for (size_t i = 0; i < svy_schema_nvars(schema); i++) {
        svy_var *sv = svy_schema_var_mut(schema, i);
        long k = svy_codebook_find(cb, svy_var_name(sv));
        if (k < 0)
            continue;
        const svy_cb_var *v = &cb->vars[k];
        const char *label = svy_cb_var_label(v, lang);
        if (*label && svy_var_set_label(sv, label) != SVY_OK)
            return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, v->name, "out of memory");
        if (!v->labels || svy_var_type_of(sv) == SVY_VAR_STRING)
            continue;
        if (svy_var_set_labelset_name(sv, v->labels->name) != SVY_OK)
            return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, v->name, "out of memory");
        for (size_t m = 0; m < v->labels->n; m++) {
            const cb_label *l = &v->labels->v[m];
            svy_value val = {.num = l->code, .type = SVY_VAL_NUM};
            if (svy_var_label_for(sv, &val))
                continue; /* the data's own label stays: the codebook only fills gaps */
            if (svy_var_add_label_num(sv, l->code, lang == SVY_LANG_EN ? l->en : l->zh) != SVY_OK)
                return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, v->name, "out of memory");
        }
    }
    return SVY_OK;
}

int svy_lang_parse(const char *s, svy_lang *out)
{
    if (strcmp(s, "zh") == 0)
        *out = SVY_LANG_ZH;
    else if (strcmp(s, "en") == 0)
        *out = SVY_LANG_EN;
    else
        return 0;
    return 1;
}
