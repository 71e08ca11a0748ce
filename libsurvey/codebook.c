/* Codebooks: a folder of small CSV files a researcher edits in a spreadsheet.
 * Everything is checked at load, so cleaning never meets a bad rule halfway
 * through a file; every complaint carries file, line and column. */
#include "svy_private.h"
#include "codebook_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOC(t, r, c) (t)->path, (t)->rows[r].line, (long long)(c) + 1

static const char *const file_names[CB_F_COUNT] = {"study.csv",  "variables.csv", "values.csv",
                                                   "recodes.csv", "derived.csv",   "checks.csv"};

/* ------------------------------------------------------------ the codebook */

static void recode_free(cb_recode *r)
{
    for (size_t i = 0; i < r->n; i++) {
        pcre2_code_free(r->r[i].re);
        free(r->r[i].pattern);
        free(r->r[i].value);
    }
    free(r->r);
    pcre2_match_data_free(r->md);
    pcre2_match_context_free(r->mctx);
    free(r->name);
}

static void var_free(svy_cb_var *v)
{
    free(v->name);
    free(v->source);
    free(v->label_zh);
    free(v->label_en);
    free(v->valid);
    for (size_t i = 0; i < v->nmissing; i++)
        free(v->missing[i]);
    free(v->missing);
    free(v->missing_num);
    free(v->src);
    free(v->map);
}

void svy_codebook_free(svy_codebook *cb)
{
    if (!cb)
        return;
    for (size_t i = 0; i < cb->nvars; i++)
        var_free(&cb->vars[i]);
    free(cb->vars);
    for (size_t i = 0; i < cb->nsets; i++) {
        for (size_t k = 0; k < cb->sets[i].n; k++) {
            free(cb->sets[i].v[k].zh);
            free(cb->sets[i].v[k].en);
        }
        free(cb->sets[i].v);
        free(cb->sets[i].name);
    }
    free(cb->sets);
    for (size_t i = 0; i < cb->nrecodes; i++)
        recode_free(&cb->recodes[i]);
    free(cb->recodes);
    for (size_t i = 0; i < cb->nchecks; i++) {
        free(cb->checks[i].name);
        free(cb->checks[i].message);
    }
    free(cb->checks);
    for (int f = 0; f < CB_F_COUNT; f++)
        free(cb->path[f]);
    free(cb->dir);
    free(cb->name);
    free(cb->title);
    free(cb);
}

#define NOMEM(t, r) svy_err_set(err, SVY_E_NOMEM, (t)->path, (t)->rows[r].line, 0, NULL, "out of memory")

static cb_labelset *find_set(svy_codebook *cb, const char *name)
{
    for (size_t i = 0; i < cb->nsets; i++)
        if (!strcmp(cb->sets[i].name, name))
            return &cb->sets[i];
    return NULL;
}

static cb_recode *find_recode(svy_codebook *cb, const char *name)
{
    for (size_t i = 0; i < cb->nrecodes; i++)
        if (!strcmp(cb->recodes[i].name, name))
            return &cb->recodes[i];
    return NULL;
}

long svy_codebook_find(const svy_codebook *cb, const char *name)
{
    for (size_t i = 0; i < cb->nvars; i++)
        if (!strcmp(cb->vars[i].name, name))
            return (long)i;
    return -1;
}

static int valid_name(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

static svy_status load_study(svy_codebook *cb, const cbtab *t, svy_err *err)
{
    static const char *const known[] = {"key", "value", "note"};
    static const char *const req[] = {"key", "value"};
    svy_status st = cbtab_check_header(t, known, COUNT(known), req, COUNT(req), err);
    if (st)
        return st;
    long ck = cbtab_col(t, "key"), cv = cbtab_col(t, "value");
    for (size_t r = 0; r < t->nrows; r++) {
        const char *k = cbtab_cell(t, r, ck), *v = cbtab_cell(t, r, cv);
        if (!strcmp(k, "name") || !strcmp(k, "title")) {
            char **dst = !strcmp(k, "name") ? &cb->name : &cb->title;
            free(*dst);
            if (!(*dst = svy_strdup(v)))
                return NOMEM(t, r);
        } else if (!strcmp(k, "duplicates")) {
            if (!strcmp(v, "keep_first"))
                cb->dup = CB_DUP_KEEP_FIRST;
            else if (!strcmp(v, "error"))
                cb->dup = CB_DUP_ERROR;
            else
                return svy_err_set(err, SVY_E_DATA, LOC(t, r, cv), NULL,
                                   "duplicates must be keep_first or error, not '%s'", v);
        } else {
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, ck), NULL,
                               "unknown key '%s' (name, title, duplicates)", k);
        }
    }
    return SVY_OK;
}

static svy_status load_values(svy_codebook *cb, const cbtab *t, svy_err *err)
{
    static const char *const known[] = {"labels", "value", "label_zh", "label_en", "note"};
    static const char *const req[] = {"labels", "value"};
    svy_status st = cbtab_check_header(t, known, COUNT(known), req, COUNT(req), err);
    if (st)
        return st;
    long cs = cbtab_col(t, "labels"), cv = cbtab_col(t, "value"), cz = cbtab_col(t, "label_zh"),
         ce = cbtab_col(t, "label_en");
    for (size_t r = 0; r < t->nrows; r++) {
        const char *name = cbtab_cell(t, r, cs);
        if (!*name)
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cs), NULL, "label set name is empty");
        double code;
        if (!cb_parse_num(cbtab_cell(t, r, cv), &code) || code != floor(code))
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cv), NULL, "value '%s' is not a whole number",
                               cbtab_cell(t, r, cv));
        if (!*cbtab_cell(t, r, cz) && !*cbtab_cell(t, r, ce))
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cz), NULL, "value %s has neither label_zh nor label_en",
                               cbtab_cell(t, r, cv));
        cb_labelset *set = find_set(cb, name);
        if (!set) {
            if (!svy_grow((void **)&cb->sets, &cb->sets_cap, cb->nsets + 1, sizeof *cb->sets))
                return NOMEM(t, r);
            set = &cb->sets[cb->nsets++];
            memset(set, 0, sizeof *set);
            if (!(set->name = svy_strdup(name)))
                return NOMEM(t, r);
        }
        for (size_t k = 0; k < set->n; k++)
            if (set->v[k].code == code)
                return svy_err_set(err, SVY_E_DATA, LOC(t, r, cv), NULL,
                                   "value %s of label set '%s' already labelled on line %d", cbtab_cell(t, r, cv), name,
                                   set->v[k].line);
        if (!svy_grow((void **)&set->v, &set->cap, set->n + 1, sizeof *set->v))
            return NOMEM(t, r);
        cb_label *l = &set->v[set->n++];
        l->code = code;
        l->line = t->rows[r].line;
        l->zh = svy_strdup(*cbtab_cell(t, r, cz) ? cbtab_cell(t, r, cz) : cbtab_cell(t, r, ce));
        l->en = svy_strdup(*cbtab_cell(t, r, ce) ? cbtab_cell(t, r, ce) : cbtab_cell(t, r, cz));
        if (!l->zh || !l->en)
            return NOMEM(t, r);
    }
    return SVY_OK;
}

static svy_status load_recodes(svy_codebook *cb, const cbtab *t, svy_err *err)
{
    static const char *const known[] = {"set", "pattern", "value", "note"};
    static const char *const req[] = {"set", "pattern", "value"};
    svy_status st = cbtab_check_header(t, known, COUNT(known), req, COUNT(req), err);
    if (st)
        return st;
    long cs = cbtab_col(t, "set"), cp = cbtab_col(t, "pattern"), cv = cbtab_col(t, "value");
    for (size_t r = 0; r < t->nrows; r++) {
        const char *name = cbtab_cell(t, r, cs), *pat = cbtab_cell(t, r, cp);
        if (!*name)
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cs), NULL, "recode set name is empty");
        if (!*pat)
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cp), NULL, "pattern is empty");
        cb_recode *rc = find_recode(cb, name);
        if (!rc) {
            if (!svy_grow((void **)&cb->recodes, &cb->recodes_cap, cb->nrecodes + 1, sizeof *cb->recodes))
                return NOMEM(t, r);
            rc = &cb->recodes[cb->nrecodes++];
            memset(rc, 0, sizeof *rc);
            if (!(rc->name = svy_strdup(name)))
                return NOMEM(t, r);
        }
        if (!svy_grow((void **)&rc->r, &rc->cap, rc->n + 1, sizeof *rc->r))
            return NOMEM(t, r);
        cb_rule *rule = &rc->r[rc->n];
        memset(rule, 0, sizeof *rule);
        int ec;
        PCRE2_SIZE eo;
        rule->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &ec,
                                 &eo, NULL);
        if (!rule->re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ec, msg, sizeof msg);
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cp), NULL, "pattern does not compile at offset %zu: %s",
                               (size_t)eo, (const char *)msg);
        }
        rc->n++;
        /* JIT is an optimisation: where it is unavailable, matching still works. */
        (void)pcre2_jit_compile(rule->re, PCRE2_JIT_COMPLETE);
        rule->line = t->rows[r].line;
        if (!(rule->pattern = svy_strdup(pat)))
            return NOMEM(t, r);
        const char *val = cbtab_cell(t, r, cv);
        if (*val && !(rule->value = svy_strdup(val)))
            return NOMEM(t, r);
    }
    for (size_t i = 0; i < cb->nrecodes; i++) {
        cb_recode *rc = &cb->recodes[i];
        uint32_t most = 0;
        for (size_t k = 0; k < rc->n; k++) {
            uint32_t c = 0;
            pcre2_pattern_info(rc->r[k].re, PCRE2_INFO_CAPTURECOUNT, &c);
            most = c > most ? c : most;
        }
        if (!(rc->md = pcre2_match_data_create(most + 1, NULL)) || !(rc->mctx = pcre2_match_context_create(NULL)))
            return svy_err_set(err, SVY_E_NOMEM, t->path, 0, 0, NULL, "out of memory");
        pcre2_set_match_limit(rc->mctx, CB_MATCH_LIMIT);
        pcre2_set_depth_limit(rc->mctx, CB_DEPTH_LIMIT);
    }
    return SVY_OK;
}

static svy_cb_var *new_var(svy_codebook *cb)
{
    if (!svy_grow((void **)&cb->vars, &cb->cap, cb->nvars + 1, sizeof *cb->vars))
        return NULL;
    svy_cb_var *v = &cb->vars[cb->nvars++];
    memset(v, 0, sizeof *v);
    return v;
}

/* Name, labels, label set and role: the columns variables.csv and
 * derived.csv share. */
static svy_status common_columns(svy_codebook *cb, const cbtab *t, size_t r, svy_cb_var *v, int file,
                                 svy_err *err)
{
    long cn = cbtab_col(t, "name"), cz = cbtab_col(t, "label_zh"), ce = cbtab_col(t, "label_en"),
         cl = cbtab_col(t, "labels"), cr = cbtab_col(t, "role");
    const char *name = cbtab_cell(t, r, cn);
    v->line = t->rows[r].line;
    v->file = file;
    if (!valid_name(name))
        return svy_err_set(err, SVY_E_DATA, LOC(t, r, cn), NULL,
                           "'%s' is not a variable name (letters, digits, _; not starting with a digit)", name);
    if (svy_codebook_find(cb, name) != (long)(v - cb->vars) && svy_codebook_find(cb, name) >= 0)
        return svy_err_set(err, SVY_E_DATA, LOC(t, r, cn), NULL, "variable '%s' defined twice", name);
    if (!(v->label_zh = svy_strdup(*cbtab_cell(t, r, cz) ? cbtab_cell(t, r, cz) : cbtab_cell(t, r, ce))) ||
        !(v->label_en = svy_strdup(*cbtab_cell(t, r, ce) ? cbtab_cell(t, r, ce) : cbtab_cell(t, r, cz))))
        return NOMEM(t, r);
    const char *ls = cbtab_cell(t, r, cl);
    v->labels_col = (int)cl + 1;
    if (*ls && !(v->labels = find_set(cb, ls)))
        return svy_err_set(err, SVY_E_DATA, LOC(t, r, cl), NULL, "label set '%s' is not in values.csv", ls);
    /* One role, or several separated by ';' ("id;psu2": the respondent id
     * is also the unit of the second stage). */
    const char *role = cbtab_cell(t, r, cr);
    const char *p = role;
    do {
        const char *q = strchr(p, ';');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        char tok[32];
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        snprintf(tok, sizeof tok, "%.*s", (int)(len < sizeof tok ? len : sizeof tok - 1), p);
        svy_role ro;
        int stg;
        if (len >= sizeof tok || !svy_role_parse_stage(tok, &ro, &stg) || (ro == SVY_ROLE_NONE && q))
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cr), NULL,
                               "unknown role '%s' (id, weight, strata, psu, fpc, outcome, group; psu2, strata2, "
                               "fpc2... for later stages, up to %d; several separated by ';')",
                               role, SVY_CB_STAGES_MAX);
        if (ro != SVY_ROLE_NONE) {
            if (v->nroles == 4)
                return svy_err_set(err, SVY_E_DATA, LOC(t, r, cr), NULL, "at most 4 roles in one cell: '%s'", role);
            for (size_t i = 0; stg && cb->vars + i <= v; i++)
                for (size_t j = 0; j < cb->vars[i].nroles; j++)
                    if (cb->vars[i].roles[j] == ro && cb->vars[i].stages[j] == stg)
                        return svy_err_set(err, SVY_E_DATA, LOC(t, r, cr), NULL,
                                           "a second variable with the role %s at stage %d ('%s' is the first)",
                                           tok, stg, cb->vars[i].name);
            v->roles[v->nroles] = ro;
            v->stages[v->nroles++] = stg;
        }
        p = q ? q + 1 : NULL;
    } while (p);
    v->role = v->nroles ? v->roles[0] : SVY_ROLE_NONE;
    v->stage = v->nroles ? v->stages[0] : 0;
    return SVY_OK;
}

static svy_status load_variables(svy_codebook *cb, const cbtab *t, svy_err *err)
{
    static const char *const known[] = {"name",    "source", "label_zh", "label_en", "type",    "valid",
                                        "missing", "recode", "labels",   "role",     "invalid", "note"};
    static const char *const req[] = {"name", "source", "type"};
    svy_status st = cbtab_check_header(t, known, COUNT(known), req, COUNT(req), err);
    if (st)
        return st;
    long cn = cbtab_col(t, "name"), cs = cbtab_col(t, "source"), ct = cbtab_col(t, "type"),
         cv = cbtab_col(t, "valid"), cm = cbtab_col(t, "missing"), crc = cbtab_col(t, "recode"),
         ci = cbtab_col(t, "invalid");
    for (size_t r = 0; r < t->nrows; r++) {
        svy_cb_var *v = new_var(cb);
        if (!v)
            return NOMEM(t, r);
        if (!(v->name = svy_strdup(cbtab_cell(t, r, cn))))
            return NOMEM(t, r);
        if ((st = common_columns(cb, t, r, v, CB_F_VARIABLES, err)))
            return st;
        v->kind = CB_K_SOURCE;
        v->source_col = (int)cs + 1;
        const char *src = cbtab_cell(t, r, cs);
        if (!*src)
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cs), NULL, "source column is empty");
        if (!(v->source = svy_strdup(src)))
            return NOMEM(t, r);
        const char *type = cbtab_cell(t, r, ct);
        static const char *const types[] = {"number", "integer", "code", "text"};
        size_t k = 0;
        while (k < COUNT(types) && strcmp(type, types[k]))
            k++;
        if (k == COUNT(types))
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, ct), NULL,
                               "unknown type '%s' (number, integer, code, text)", type);
        v->type = (svy_cb_type)k;
        if (!cb_parse_ranges(cbtab_cell(t, r, cv), &v->valid, &v->nvalid))
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cv), NULL,
                               "valid must be values or ranges like 16-75;99, not '%s'", cbtab_cell(t, r, cv));
        if (v->nvalid && v->type == SVY_CB_TEXT)
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cv), NULL, "a text variable has no valid range");
        if (v->type == SVY_CB_CODE && !v->labels && !v->nvalid)
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, ct), NULL,
                               "a code variable needs a label set (labels) or valid codes");
        const char *miss = cbtab_cell(t, r, cm);
        if (*miss) {
            char *copy = svy_strdup(miss);
            if (!copy)
                return NOMEM(t, r);
            size_t cap = 0, cap2 = 0;
            for (char *save = NULL, *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
                if (!svy_grow((void **)&v->missing, &cap, v->nmissing + 1, sizeof *v->missing) ||
                    !svy_grow((void **)&v->missing_num, &cap2, v->nmissing + 1, sizeof *v->missing_num) ||
                    !(v->missing[v->nmissing] = svy_strdup(tok))) {
                    free(copy);
                    return NOMEM(t, r);
                }
                double d;
                v->missing_num[v->nmissing++] = cb_parse_num(tok, &d) ? d : NAN;
            }
            free(copy);
        }
        const char *rc = cbtab_cell(t, r, crc);
        if (*rc && !(v->recode = find_recode(cb, rc)))
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, crc), NULL, "recode set '%s' is not in recodes.csv", rc);
        const char *inv = cbtab_cell(t, r, ci);
        if (!strcmp(inv, "reject"))
            v->reject_invalid = 1;
        else if (*inv && strcmp(inv, "missing"))
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, ci), NULL, "invalid must be missing or reject, not '%s'",
                               inv);
        /* A label on a code the variable can never take contradicts the
         * codebook itself. */
        if (v->labels && v->nvalid) {
            for (size_t k2 = 0; k2 < v->labels->n; k2++) {
                double c = v->labels->v[k2].code;
                size_t j = 0;
                while (j < v->nvalid && !(c >= v->valid[j].lo && c <= v->valid[j].hi))
                    j++;
                if (j == v->nvalid)
                    return svy_err_set(err, SVY_E_DATA, cb->path[CB_F_VALUES], v->labels->v[k2].line, 2, NULL,
                                       "label set '%s' labels %g, outside the valid values of '%s' (%s line %d)",
                                       v->labels->name, c, v->name, file_names[CB_F_VARIABLES], v->line);
            }
        }
        if (cb_has_role(v, SVY_ROLE_ID, -1)) {
            if (cb->id >= 0)
                return svy_err_set(err, SVY_E_DATA, LOC(t, r, cbtab_col(t, "role")), NULL,
                                   "a second id variable ('%s' is the first)", cb->vars[cb->id].name);
            cb->id = (long)(v - cb->vars);
        }
    }
    return SVY_OK;
}

static svy_status find_source_var(svy_codebook *cb, const cbtab *t, size_t r, long c, const char *name, size_t self,
                                  size_t *out, svy_err *err)
{
    long k = svy_codebook_find(cb, name);
    if (k < 0 || (size_t)k >= self)
        return svy_err_set(err, SVY_E_DATA, LOC(t, r, c), NULL,
                           "'%s' is not a variable defined before this line", name);
    *out = (size_t)k;
    return SVY_OK;
}

static svy_status load_derived(svy_codebook *cb, const cbtab *t, svy_err *err)
{
    static const char *const known[] = {"name", "kind", "sources", "args", "label_zh", "label_en", "labels", "role",
                                        "note"};
    static const char *const req[] = {"name", "kind", "sources"};
    svy_status st = cbtab_check_header(t, known, COUNT(known), req, COUNT(req), err);
    if (st)
        return st;
    long cn = cbtab_col(t, "name"), ck = cbtab_col(t, "kind"), cs = cbtab_col(t, "sources"),
         ca = cbtab_col(t, "args");
    for (size_t r = 0; r < t->nrows; r++) {
        svy_cb_var *v = new_var(cb);
        if (!v)
            return NOMEM(t, r);
        size_t self = (size_t)(v - cb->vars);
        if (!(v->name = svy_strdup(cbtab_cell(t, r, cn))) || !(v->source = svy_strdup("")))
            return NOMEM(t, r);
        if ((st = common_columns(cb, t, r, v, CB_F_DERIVED, err)))
            return st;
        static const struct {
            const char *name;
            cb_kind kind;
        } kinds[] = {{"copy", CB_K_COPY}, {"any_of", CB_K_ANY_OF}, {"all_of", CB_K_ALL_OF},
                     {"threshold", CB_K_THRESHOLD}, {"map", CB_K_MAP}};
        const char *kind = cbtab_cell(t, r, ck);
        size_t k = 0;
        while (k < COUNT(kinds) && strcmp(kinds[k].name, kind))
            k++;
        if (k == COUNT(kinds))
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, ck), NULL,
                               "unknown kind '%s' (copy, any_of, all_of, threshold, map)", kind);
        v->kind = kinds[k].kind;
        v->type = SVY_CB_CODE;
        char *copy = svy_strdup(cbtab_cell(t, r, cs));
        if (!copy)
            return NOMEM(t, r);
        size_t cap = 0;
        for (char *save = NULL, *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
            while (*tok == ' ')
                tok++;
            if (!svy_grow((void **)&v->src, &cap, v->nsrc + 1, sizeof *v->src)) {
                free(copy);
                return NOMEM(t, r);
            }
            st = find_source_var(cb, t, r, cs, tok, self, &v->src[v->nsrc], err);
            if (st) {
                free(copy);
                return st;
            }
            v->nsrc++;
        }
        free(copy);
        v = &cb->vars[self]; /* find_source_var does not move vars, but be plain about it */
        if (!v->nsrc)
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cs), NULL, "no source variables");
        if ((v->kind == CB_K_COPY || v->kind == CB_K_THRESHOLD || v->kind == CB_K_MAP) && v->nsrc != 1)
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cs), NULL, "%s takes exactly one source variable", kind);
        const char *args = cbtab_cell(t, r, ca);
        v->arg = 1;
        switch (v->kind) {
        case CB_K_COPY:
            v->type = cb->vars[v->src[0]].type;
            if (!v->labels)
                v->labels = cb->vars[v->src[0]].labels;
            break;
        case CB_K_ANY_OF:
        case CB_K_ALL_OF:
            if (*args && !cb_parse_num(args, &v->arg))
                return svy_err_set(err, SVY_E_DATA, LOC(t, r, ca), NULL, "args must be the value that counts, not '%s'",
                                   args);
            break;
        case CB_K_THRESHOLD: {
            const char *p = args;
            while (*p == ' ')
                p++;
            if (!cb_parse_op(&p, &v->op) || !cb_parse_num(p, &v->arg))
                return svy_err_set(err, SVY_E_DATA, LOC(t, r, ca), NULL,
                                   "threshold args are an operator and a number like >=4, not '%s'", args);
            break;
        }
        case CB_K_MAP: {
            char *c2 = svy_strdup(args);
            if (!c2)
                return NOMEM(t, r);
            size_t mcap = 0;
            int ok = *args != 0;
            for (char *save = NULL, *tok = strtok_r(c2, ";", &save); tok && ok; tok = strtok_r(NULL, ";", &save)) {
                char *eq = strchr(tok, '=');
                cb_range *rg = NULL;
                size_t nrg = 0;
                double to;
                if (!eq) {
                    ok = 0;
                    break;
                }
                *eq = '\0';
                if (!cb_parse_ranges(tok, &rg, &nrg) || nrg != 1 || !cb_parse_num(eq + 1, &to) ||
                    !svy_grow((void **)&v->map, &mcap, v->nmap + 1, sizeof *v->map)) {
                    free(rg);
                    ok = 0;
                    break;
                }
                v->map[v->nmap++] = (cb_map){rg[0].lo, rg[0].hi, to};
                free(rg);
            }
            free(c2);
            if (!ok)
                return svy_err_set(err, SVY_E_DATA, LOC(t, r, ca), NULL,
                                   "map args are cases like 1-5=1;6=2, not '%s'", args);
            break;
        }
        default: break;
        }
        if (cb_has_role(v, SVY_ROLE_ID, -1))
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cbtab_col(t, "role")), NULL,
                               "the id must come from the data, not be derived");
    }
    return SVY_OK;
}

/* "VAR OP NUMBER" or "VAR is missing" / "VAR is present". */
static int parse_cond(svy_codebook *cb, const char *s, cb_cond *c)
{
    char name[128];
    size_t n = 0;
    while (*s == ' ')
        s++;
    while (*s && *s != ' ' && !strchr("=!<>", *s) && n + 1 < sizeof name)
        name[n++] = *s++;
    name[n] = '\0';
    long k = svy_codebook_find(cb, name);
    if (k < 0)
        return 0;
    c->var = (size_t)k;
    while (*s == ' ')
        s++;
    if (!strcmp(s, "is missing")) {
        c->op = CB_OP_MISSING;
        return 1;
    }
    if (!strcmp(s, "is present")) {
        c->op = CB_OP_PRESENT;
        return 1;
    }
    if (!cb_parse_op(&s, &c->op))
        return 0;
    return cb_parse_num(s, &c->value);
}

static svy_status load_checks(svy_codebook *cb, const cbtab *t, svy_err *err)
{
    static const char *const known[] = {"name", "if", "then", "action", "message", "note"};
    static const char *const req[] = {"name", "if", "then", "action"};
    svy_status st = cbtab_check_header(t, known, COUNT(known), req, COUNT(req), err);
    if (st)
        return st;
    long cn = cbtab_col(t, "name"), ci = cbtab_col(t, "if"), ct = cbtab_col(t, "then"),
         ca = cbtab_col(t, "action"), cm = cbtab_col(t, "message");
    for (size_t r = 0; r < t->nrows; r++) {
        if (!svy_grow((void **)&cb->checks, &cb->checks_cap, cb->nchecks + 1, sizeof *cb->checks))
            return NOMEM(t, r);
        cb_check *c = &cb->checks[cb->nchecks++];
        memset(c, 0, sizeof *c);
        c->line = t->rows[r].line;
        if (!(c->name = svy_strdup(cbtab_cell(t, r, cn))) || !(c->message = svy_strdup(cbtab_cell(t, r, cm))))
            return NOMEM(t, r);
        if (!*c->name)
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, cn), NULL, "check name is empty");
        if (!parse_cond(cb, cbtab_cell(t, r, ci), &c->when))
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, ci), NULL,
                               "'%s' is not a condition like 'any_scheme == 1' on a codebook variable",
                               cbtab_cell(t, r, ci));
        if (!parse_cond(cb, cbtab_cell(t, r, ct), &c->then))
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, ct), NULL,
                               "'%s' is not a condition like 'ever_insured == 1' on a codebook variable",
                               cbtab_cell(t, r, ct));
        const char *a = cbtab_cell(t, r, ca);
        if (!strcmp(a, "set_missing"))
            c->action = CB_ACT_SET_MISSING;
        else if (!strcmp(a, "reject"))
            c->action = CB_ACT_REJECT;
        else if (!strcmp(a, "warn"))
            c->action = CB_ACT_WARN;
        else
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, ca), NULL,
                               "action must be set_missing, reject or warn, not '%s'", a);
        if (c->action == CB_ACT_SET_MISSING && (long)c->then.var == cb->id)
            return svy_err_set(err, SVY_E_DATA, LOC(t, r, ct), NULL, "a check cannot make the id missing");
    }
    return SVY_OK;
}

svy_status svy_codebook_load(const char *dir, svy_codebook **out, svy_err *err)
{
    *out = NULL;
    svy_codebook *cb = calloc(1, sizeof *cb);
    if (!cb)
        return svy_err_set(err, SVY_E_NOMEM, dir, 0, 0, NULL, "out of memory");
    cb->id = -1;
    if (!(cb->dir = svy_strdup(dir)) || !(cb->name = svy_strdup("")) || !(cb->title = svy_strdup(""))) {
        svy_codebook_free(cb);
        return svy_err_set(err, SVY_E_NOMEM, dir, 0, 0, NULL, "out of memory");
    }
    for (int f = 0; f < CB_F_COUNT; f++) {
        size_t n = strlen(dir) + strlen(file_names[f]) + 2;
        if (!(cb->path[f] = malloc(n))) {
            svy_codebook_free(cb);
            return svy_err_set(err, SVY_E_NOMEM, dir, 0, 0, NULL, "out of memory");
        }
        snprintf(cb->path[f], n, "%s/%s", dir, file_names[f]);
    }
    /* Order matters: label sets and recode sets are named by variables,
     * variables by derived rules, all of them by checks. */
    static const int order[] = {CB_F_STUDY, CB_F_VALUES, CB_F_RECODES, CB_F_VARIABLES, CB_F_DERIVED, CB_F_CHECKS};
    svy_status st = SVY_OK;
    for (size_t i = 0; i < COUNT(order) && st == SVY_OK; i++) {
        int f = order[i], absent = 0;
        cbtab t;
        st = cbtab_load(&t, cb->path[f], f == CB_F_VARIABLES ? NULL : &absent, err);
        if (st || absent)
            continue;
        switch (f) {
        case CB_F_STUDY: st = load_study(cb, &t, err); break;
        case CB_F_VALUES: st = load_values(cb, &t, err); break;
        case CB_F_RECODES: st = load_recodes(cb, &t, err); break;
        case CB_F_VARIABLES:
            st = load_variables(cb, &t, err);
            cb->nsource = cb->nvars;
            break;
        case CB_F_DERIVED: st = load_derived(cb, &t, err); break;
        case CB_F_CHECKS: st = load_checks(cb, &t, err); break;
        default: break;
        }
        cbtab_free(&t);
    }
    if (st == SVY_OK && cb->nvars == 0)
        st = svy_err_set(err, SVY_E_DATA, cb->path[CB_F_VARIABLES], 1, 0, NULL, "the codebook defines no variables");
    if (st != SVY_OK) {
        svy_codebook_free(cb);
        return st;
    }
    *out = cb;
    return SVY_OK;
}
