/* svy_model: the object, the design, the spool of the model's rows and the
 * levels of its categorical columns (see survey/model.h). */
#include "svy_private.h"
#include "model_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <survey/outfile.h>
#include <unistd.h>

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
}

svy_model *svy_model_new(const svy_design *d, svy_family family, const char *formula, svy_err *err)
{
    svy_model *m = calloc(1, sizeof *m);
    if (!m) {
        nomem(err);
        return NULL;
    }
    m->d = *d;
    m->family = family;
    m->margins_var = -1;
    m->formula_text = svy_strdup(formula);
    if (!m->formula_text) {
        nomem(err);
        svy_model_free(m);
        return NULL;
    }
    if (svy_mformula_parse(&m->f, formula, err) != SVY_OK || svy_dsn_init(&m->dsn, d, err) != SVY_OK) {
        svy_model_free(m);
        return NULL;
    }
    m->dsn_ready = 1;
    return m;
}

void svy_model_free(svy_model *m)
{
    if (!m)
        return;
    if (m->spool)
        fclose(m->spool);
    svy_mcal_free(m);
    svy_mformula_free(&m->f);
    if (m->dsn_ready)
        svy_dsn_free(&m->dsn);
    svy_mmatrix_free(&m->X);
    svy_mfit_free(&m->fit);
    for (size_t i = 0; i < m->nwald; i++)
        free(m->wald[i]);
    free(m->wald);
    free(m->walds);
    free(m->coefs);
    for (size_t i = 0; i < m->nmargins; i++) {
        free((char *)m->margins[i].level);
        free((char *)m->margins[i].label);
        free((char *)m->margins[i].value);
        free((char *)m->margins[i].value_label);
    }
    free(m->margins);
    free(m->separation);
    free(m->y_note);
    free(m->formula_text);
    free(m);
}

svy_status svy_model_set_ref(svy_model *m, const char *column, const char *value, svy_err *err)
{
    long v = svy_mformula_var(&m->f, column);
    if (v <= 0)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, column, "--ref %s=%s: %s is not a term variable of the model",
                           column, value, column);
    free(m->f.vars[v].ref_value);
    m->f.vars[v].ref_value = svy_strdup(value);
    return m->f.vars[v].ref_value ? SVY_OK : nomem(err);
}

svy_status svy_model_set_margins(svy_model *m, const char *column, svy_err *err)
{
    long v = svy_mformula_var(&m->f, column);
    if (v == 0)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, column, "--margins %s: that is Y", column);
    if (v > 0) {
        for (size_t i = 0; i < m->f.nterms; i++)
            if ((m->f.terms[i] >> v & 1) && m->f.terms[i] != (mterm)1 << v)
                return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, column,
                                   "--margins %s: %s is in an interaction; predictive margins need it as a main "
                                   "effect only (R's svypredmeans adds it to a model without it)",
                                   column, column);
    } else {
        v = svy_mformula_add_var(&m->f, column, 0); /* categorical as the margins variable */
        if (v == -1)
            return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, column, "too many variables");
        if (v < 0)
            return nomem(err);
    }
    m->margins_var = v;
    return SVY_OK;
}

void svy_model_set_subpop(svy_model *m, const svy_subpop *s)
{
    m->subpop = s;
}

svy_status svy_model_add_wald(svy_model *m, const char *terms, svy_err *err)
{
    char **nw = svy_reallocarray(m->wald, m->nwald + 1, sizeof *m->wald);
    if (!nw)
        return nomem(err);
    m->wald = nw;
    if (!(m->wald[m->nwald] = svy_strdup(terms)))
        return nomem(err);
    m->nwald++;
    return SVY_OK;
}

svy_status svy_model_bind(svy_model *m, const svy_schema *schema, svy_err *err)
{
    m->schema = schema;
    for (size_t i = 0; i < m->f.nvars; i++) {
        mvar *v = &m->f.vars[i];
        v->col = svy_schema_find(schema, v->column);
        if (v->col < 0)
            return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, v->column, "no column '%s' (%s) in the input", v->column,
                               i == 0 ? "Y of the formula" : (long)i == m->margins_var ? "--margins" : "a term");
    }
    svy_status st = svy_dsn_bind(&m->dsn, schema, err);
    if (st)
        return st;
    size_t ns = m->dsn.nstage;
    m->reclen = ns * 8 + 8 + m->f.nvars * 12 + (m->cal ? 4 : 0);
    if (m->cal && (st = svy_mcal_bind(m, err)))
        return st;
    return svy_tmpfile(&m->spool, err);
}

static size_t add_column(const char **names, size_t n, size_t cap, const char *col)
{
    for (size_t j = 0; j < n && j < cap; j++)
        if (strcmp(names[j], col) == 0)
            return n;
    if (n < cap)
        names[n] = col;
    return n + 1;
}

size_t svy_model_columns(const svy_model *m, const char **names, size_t cap)
{
    size_t n = svy_dsn_columns(&m->dsn, names, cap, 0);
    for (size_t i = 0; i < m->f.nvars; i++)
        n = add_column(names, n, cap, m->f.vars[i].column);
    size_t ns = m->subpop ? svy_subpop_ncolumns(m->subpop) : 0;
    for (size_t i = 0; i < ns; i++)
        n = add_column(names, n, cap, svy_subpop_column(m->subpop, i));
    for (size_t i = 0; svy_mcal_column(m, i); i++)
        n = add_column(names, n, cap, svy_mcal_column(m, i));
    return n;
}

int svy_model_passes_max(const svy_model *m)
{
    return m->dsn.derive_w || m->dsn.nstage >= 2 ? 2 : 1;
}

/* Remember a value of a variable among the rows of the model. */
static svy_status note_value(mvar *v, double num, const char *s, size_t len, uint32_t *tid, svy_err *err)
{
    if (s) {
        long id = svy_strtab_intern(&v->texts, s, len, NULL);
        if (id < 0)
            return nomem(err);
        *tid = (uint32_t)id;
        v->any_text = 1;
        return SVY_OK;
    }
    if (v->many)
        return SVY_OK;
    uint64_t key;
    double x = num == 0 ? 0 : num;
    memcpy(&key, &x, sizeof key);
    int added = 0;
    if (v->nums.n >= SVY_MODEL_LEVELS_MAX && svy_u64map_find(&v->nums, key) < 0) {
        v->many = 1;
        return SVY_OK;
    }
    if (svy_u64map_get(&v->nums, key, v->nnum, &added) < 0)
        return nomem(err);
    if (added) {
        if (!svy_grow((void **)&v->numlist, &v->capnum, v->nnum + 1, sizeof *v->numlist))
            return nomem(err);
        v->numlist[v->nnum++] = x;
    }
    return SVY_OK;
}

static svy_status spool_row(svy_model *m, const svy_row *row, const svy_dpath *pp, uint32_t cell, int *in_model,
                            svy_err *err);

svy_status svy_model_push(svy_model *m, const svy_row *row, svy_err *err)
{
    svy_dpath path;
    svy_status st = svy_dsn_row(&m->dsn, row, &path, err);
    if (st)
        return st;
    uint32_t cell = 0;
    if (m->cal && (st = svy_mcal_row(m, row, &path, &cell, err)))
        return st;
    int in = 0;
    if ((st = spool_row(m, row, &path, cell, &in, err)))
        return st;
    return m->cal && !in ? svy_mcal_outside(m, &path, cell, err) : SVY_OK;
}

/* The row into the spool when it is one of the model's (*in_model). */
static svy_status spool_row(svy_model *m, const svy_row *row, const svy_dpath *pp, uint32_t cell, int *in_model,
                            svy_err *err)
{
    svy_status st;
    svy_dpath path = *pp;
    m->rows++;
    if (m->subpop) {
        /* Out of the subpopulation: out of the model, in the design (R's
         * subset() gives the row weight 0, so R's rescaling mean counts it
         * as 0 among all rows). */
        int in = 0;
        if ((st = svy_subpop_eval(m->subpop, row, &in, err)))
            return st;
        if (!in)
            return SVY_OK;
    }
    m->subpop_rows++;
    m->wsum_all += path.w;
    double num[SVY_MODEL_VARS_MAX];
    const svy_value *txt[SVY_MODEL_VARS_MAX];
    size_t nv = m->f.nvars;
    for (size_t i = 0; i < nv; i++) {
        const svy_value *v = &row->vals[m->f.vars[i].col];
        txt[i] = NULL;
        if (svy_value_is_missing(v)) {
            m->dropped++;
            return SVY_OK;
        }
        if (v->type == SVY_VAL_NUM) {
            num[i] = v->num;
            if (!isfinite(num[i])) {
                m->dropped++;
                return SVY_OK;
            }
        } else if (!(svy_number_fast(v->str, v->len, &num[i]) || svy_parse_number(v->str, v->len, &num[i])) ||
                   !isfinite(num[i])) {
            num[i] = NAN;
            txt[i] = v;
        }
    }
    unsigned char rec[8 * SVY_STAGES_MAX * 2 + 8 + SVY_MODEL_VARS_MAX * 12 + 4];
    size_t ns = m->dsn.nstage, off = 0;
    memcpy(rec, path.stratum, ns * 4);
    memcpy(rec + ns * 4, path.unit, ns * 4);
    off = ns * 8;
    memcpy(rec + off, &path.w, 8);
    off += 8;
    for (size_t i = 0; i < nv; i++) {
        uint32_t tid = UINT32_MAX;
        if ((st = note_value(&m->f.vars[i], num[i], txt[i] ? txt[i]->str : NULL, txt[i] ? txt[i]->len : 0, &tid,
                             err)))
            return st;
        memcpy(rec + off + i * 8, &num[i], 8);
        memcpy(rec + off + nv * 8 + i * 4, &tid, 4);
    }
    if (m->cal)
        memcpy(rec + off + nv * 12, &cell, 4);
    if (fwrite(rec, 1, m->reclen, m->spool) != m->reclen)
        return svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot spool the model's rows to a temporary file");
    m->used++;
    m->wsum_used += path.w;
    *in_model = 1;
    if (path.w == 0)
        m->zero_w++;
    return SVY_OK;
}

static int cmp_num(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const svy_strtab *sort_tab;
static int cmp_tid(const void *a, const void *b)
{
    return strcmp(svy_strtab_str(sort_tab, *(const uint32_t *)a), svy_strtab_str(sort_tab, *(const uint32_t *)b));
}

static svy_status level_list(svy_model *m, mvar *v, svy_err *err)
{
    if (v->many && v->nnum)
        return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, v->column,
                           "%s has text values and more than %d distinct numbers: it cannot be a categorical term",
                           v->column, SVY_MODEL_LEVELS_MAX);
    size_t nt = v->texts.n, n = v->nnum + nt;
    if (n > SVY_MODEL_LEVELS_MAX)
        return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, v->column, "%s has more than %d levels", v->column,
                           SVY_MODEL_LEVELS_MAX);
    if (v->nnum > 1)
        qsort(v->numlist, v->nnum, sizeof *v->numlist, cmp_num);
    uint32_t *order = svy_calloc(nt + 1, sizeof *order);
    v->lev = svy_calloc(n + 1, sizeof *v->lev);
    v->tid_lev = svy_calloc(nt + 1, sizeof *v->tid_lev);
    if (!order || !v->lev || !v->tid_lev) {
        free(order);
        return nomem(err);
    }
    for (uint32_t i = 0; i < nt; i++)
        order[i] = i;
    sort_tab = &v->texts;
    if (nt > 1)
        qsort(order, nt, sizeof *order, cmp_tid);
    const svy_var *sv = svy_schema_var(m->schema, (size_t)v->col);
    for (size_t k = 0; k < n; k++) {
        mlevel *L = &v->lev[k];
        char nb[SVY_DTOA_MAX];
        svy_value val = {0};
        if (k < v->nnum) {
            L->isnum = 1;
            L->num = v->numlist[k];
            svy_dtoa(L->num, nb);
            L->text = svy_strdup(nb);
            val.type = SVY_VAL_NUM;
            val.num = L->num;
        } else {
            L->tid = order[k - v->nnum];
            v->tid_lev[L->tid] = (uint32_t)k;
            L->text = svy_strdup(svy_strtab_str(&v->texts, L->tid));
            val.type = SVY_VAL_STR;
            val.str = svy_strtab_str(&v->texts, L->tid);
            val.len = v->texts.ent[L->tid].len;
        }
        const char *lab = svy_var_label_for(sv, &val);
        if (lab && !(L->label = svy_strdup(lab)))
            L->text = NULL;
        if (!L->text) {
            free(order);
            return nomem(err);
        }
    }
    free(order);
    v->nlev = n;
    return SVY_OK;
}

/* The reference level: --ref by code, text or label; else the first. */
static svy_status choose_ref(mvar *v, svy_err *err)
{
    v->ref = 0;
    if (!v->ref_value)
        return SVY_OK;
    double x;
    int isnum = svy_parse_number(v->ref_value, (size_t)-1, &x);
    for (size_t k = 0; k < v->nlev; k++)
        if (strcmp(v->lev[k].text, v->ref_value) == 0 || (isnum && v->lev[k].isnum && v->lev[k].num == x)) {
            v->ref = (long)k;
            return SVY_OK;
        }
    for (size_t k = 0; k < v->nlev; k++)
        if (v->lev[k].label && strcmp(v->lev[k].label, v->ref_value) == 0) {
            v->ref = (long)k;
            return SVY_OK;
        }
    char list[300] = "";
    for (size_t k = 0, len = 0; k < v->nlev && len < sizeof list - 40; k++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "", v->lev[k].text);
    return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, v->column,
                       "--ref %s=%s: no row of the model has that code or label; %s has %s", v->column, v->ref_value,
                       v->column, list);
}

/* After the last pass: which columns are categorical, and their levels. */
static svy_status settle_levels(svy_model *m, svy_err *err)
{
    for (size_t i = 0; i < m->f.nvars; i++) {
        mvar *v = &m->f.vars[i];
        const svy_var *sv = svy_schema_var(m->schema, (size_t)v->col);
        if (i == 0) {
            m->y_text = v->any_text;
            if (!m->y_text)
                continue;
            v->cat = 1;
        } else {
            v->cat = v->factor || v->any_text || svy_var_nlabels(sv) > 0 || (long)i == m->margins_var;
            if (!v->cat) {
                if (v->ref_value)
                    return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, v->column,
                                       "--ref %s=%s: %s is numeric (no value labels): write factor(%s) in the "
                                       "formula to make it categorical",
                                       v->column, v->ref_value, v->column, v->column);
                continue;
            }
        }
        svy_status st = level_list(m, v, err);
        if (st)
            return st;
        if (i > 0 && v->nlev < 2)
            return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, v->column,
                               "%s has a single level (%s) among the rows of the model: it cannot be a categorical "
                               "term (R: \"contrasts can be applied only to factors with 2 or more levels\")",
                               v->column, v->nlev ? v->lev[0].text : "none");
        if (i > 0 && (st = choose_ref(v, err)))
            return st;
    }
    mvar *y = &m->f.vars[0];
    if (m->y_text) {
        if (m->family != SVY_FAMILY_LOGIT)
            return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, y->column,
                               "Y %s holds text ('%s'): a linear model needs numbers", y->column,
                               y->nlev ? y->lev[y->nlev - 1].text : "");
        if (y->nlev != 2)
            return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, y->column,
                               "Y %s holds text with %zu distinct values among the rows of the model: a logit "
                               "needs two (or 0/1 numbers)",
                               y->column, y->nlev);
        size_t n = strlen(y->column) * 2 + strlen(y->lev[0].text) + strlen(y->lev[1].text) + 80;
        if (!(m->y_note = svy_malloc(n)))
            return nomem(err);
        snprintf(m->y_note, n, "Y is %s = %s (1) against %s = %s (0), as R reads a factor response", y->column,
                 y->lev[1].text, y->column, y->lev[0].text);
    }
    return SVY_OK;
}

static svy_status spool_rewind_write(svy_model *m, svy_err *err)
{
    if (fflush(m->spool) != 0 || fseek(m->spool, 0, SEEK_SET) != 0 || ftruncate(fileno(m->spool), 0) != 0)
        return svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot rewind the spool of the model's rows");
    return SVY_OK;
}

svy_status svy_model_end_pass(svy_model *m, int *again, svy_err *err)
{
    svy_status st = svy_dsn_end_pass(&m->dsn, again, err);
    if (st)
        return st;
    if (*again) {
        /* The design needs the rows again (weights from the fpc, units of
         * several rows): the spool is written anew. */
        m->rows = m->used = m->dropped = m->zero_w = m->subpop_rows = 0;
        m->wsum_all = m->wsum_used = 0;
        svy_status st2 = m->cal ? svy_mcal_again(m, err) : SVY_OK;
        return st2 ? st2 : spool_rewind_write(m, err);
    }
    return settle_levels(m, err);
}

svy_status svy_model_rewind(svy_model *m, svy_err *err)
{
    if (fflush(m->spool) != 0 || fseek(m->spool, 0, SEEK_SET) != 0)
        return svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot rewind the spool of the model's rows");
    return SVY_OK;
}

static long level_of(const mvar *v, double num, uint32_t tid)
{
    if (tid != UINT32_MAX)
        return v->tid_lev[tid];
    size_t lo = 0, hi = v->nnum;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->lev[mid].num < num)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo;
}

int svy_model_next(svy_model *m, mrow *r, svy_err *err)
{
    unsigned char rec[8 * SVY_STAGES_MAX * 2 + 8 + SVY_MODEL_VARS_MAX * 12 + 4];
    size_t got = fread(rec, 1, m->reclen, m->spool);
    if (got != m->reclen) {
        if (got == 0 && feof(m->spool))
            return 0;
        svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "cannot read the spool of the model's rows");
        return -1;
    }
    size_t ns = m->dsn.nstage, nv = m->f.nvars, off = ns * 8 + 8;
    memcpy(r->path.stratum, rec, ns * 4);
    memcpy(r->path.unit, rec + ns * 4, ns * 4);
    memcpy(&r->path.w, rec + ns * 8, 8);
    for (size_t i = 0; i < nv; i++) {
        uint32_t tid;
        memcpy(&r->num[i], rec + off + i * 8, 8);
        memcpy(&tid, rec + off + nv * 8 + i * 4, 4);
        const mvar *v = &m->f.vars[i];
        if (v->cat)
            r->lev[i] = (uint32_t)level_of(v, r->num[i], tid);
    }
    r->y = m->y_text ? (double)(r->lev[0] != 0) : r->num[0];
    r->cell = 0;
    if (m->cal)
        memcpy(&r->cell, rec + off + nv * 12, 4);
    return 1;
}

/* Logit: a level of a categorical term in which every row of nonzero
 * weight has the same Y is named (separation: its coefficient runs off). */
static svy_status level_counts_alloc(svy_model *m, svy_err *err)
{
    for (size_t i = 1; i < m->f.nvars; i++) {
        mvar *v = &m->f.vars[i];
        if (!v->cat)
            continue;
        v->wy1 = svy_calloc(v->nlev, sizeof *v->wy1);
        v->wsum = svy_calloc(v->nlev, sizeof *v->wsum);
        if (!v->wy1 || !v->wsum)
            return nomem(err);
    }
    m->count_levels = 1;
    return SVY_OK;
}

void svy_model_count_levels(svy_model *m, const mrow *r)
{
    if (!m->count_levels || r->path.w == 0)
        return;
    for (size_t i = 1; i < m->f.nvars; i++)
        if (m->f.vars[i].cat) {
            m->f.vars[i].wsum[r->lev[i]] += 1;
            m->f.vars[i].wy1[r->lev[i]] += r->y;
        }
}

/* The rows of nonzero weight per level were counted while the main fit
 * spooled its model matrix (svy_model_count_levels). */
static svy_status find_separation(svy_model *m, svy_err *err)
{
    char buf[600] = "";
    size_t len = 0;
    for (size_t i = 1; i < m->f.nvars; i++) {
        const mvar *v = &m->f.vars[i];
        if (!v->cat || (long)i == m->margins_var)
            continue;
        int in_model = 0;
        for (size_t t = 0; t < m->f.nterms; t++)
            in_model |= (int)(m->f.terms[t] >> i & 1);
        for (size_t l = 0; in_model && l < v->nlev && len < sizeof buf - 120; l++)
            if (v->wsum[l] > 0 && (v->wy1[l] == 0 || v->wy1[l] == v->wsum[l]))
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s=%s: Y is %d in all %.0f rows", len ? "; " : "",
                                        v->name, v->lev[l].text, v->wy1[l] == 0 ? 0 : 1, v->wsum[l]);
    }
    if (!len && m->fit.fitted01 > 0)
        snprintf(buf, sizeof buf, "%lld rows have fitted probabilities within 1e-15 of 0 or 1 (quasi-complete "
                 "separation by a combination of terms)", m->fit.fitted01);
    if (buf[0] && !(m->separation = svy_strdup(buf)))
        return nomem(err);
    return SVY_OK;
}

static double pt2(double t, double df);

static svy_status make_coefs(svy_model *m, svy_err *err)
{
    size_t p = m->X.p;
    m->coefs = svy_calloc(p, sizeof *m->coefs);
    if (!m->coefs)
        return nomem(err);
    double df = m->fit.df, q = svy_qt(1 - (1 - m->d.level) / 2, df);
    for (size_t j = 0; j < p; j++) {
        svy_model_coef *c = &m->coefs[j];
        c->term = m->X.cols[j].name;
        c->label = m->X.cols[j].label;
        c->estimate = m->fit.beta[j];
        c->aliased = isnan(c->estimate);
        c->se = sqrt(m->fit.V[j * p + j]);
        c->t = c->estimate / c->se;
        c->df = df;
        c->p_value = df > 0 ? pt2(c->t, df) : NAN;
        c->ci_low = c->estimate - q * c->se;
        c->ci_high = c->estimate + q * c->se;
    }
    return SVY_OK;
}

svy_status svy_model_finish(svy_model *m, svy_err *err)
{
    if (m->subpop && m->subpop_rows == 0)
        return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, NULL, "--subpop %s: no row of the %lld is in the subpopulation",
                           svy_subpop_text(m->subpop), m->rows);
    if (m->used == 0)
        return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, NULL,
                           "no row has a value in every column of the model (%lld rows%s, all with a missing value)",
                           m->subpop_rows, m->subpop ? " in the subpopulation" : "");
    mterm *terms = m->f.terms;
    svy_status st = svy_mmatrix_build(&m->X, &m->f, terms, m->f.nterms, m->f.intercept, err);
    if (st == SVY_OK && m->family == SVY_FAMILY_LOGIT)
        st = level_counts_alloc(m, err);
    if (st || (st = svy_mfit_run(m, &m->X, &m->fit, err)))
        return st;
    m->count_levels = 0;
    if (m->family == SVY_FAMILY_LOGIT && (st = find_separation(m, err)))
        return st;
    if ((st = make_coefs(m, err)))
        return st;
    svy_model_fit *I = &m->info;
    I->rows = m->rows;
    I->used = m->used;
    I->dropped = m->dropped;
    I->zero_weight = m->zero_w;
    I->design_df = m->fit.design_df;
    I->df = m->fit.df;
    I->ncoef = m->X.p;
    I->rank = m->fit.rank;
    I->iterations = m->fit.iter;
    I->converged = m->fit.converged;
    I->fitted_01 = m->fit.fitted01;
    I->separation = m->separation;
    I->y_note = m->y_note;
    I->subpop = m->subpop ? svy_subpop_text(m->subpop) : NULL;
    I->subpop_rows = m->subpop_rows;
    if (m->margins_var >= 0 && (st = svy_model_margins_run(m, err)))
        return st;
    return svy_model_wald_run(m, err);
}

#include <gsl/gsl_cdf.h>
/* 2 P(T > |t|), R's 2 * pt(-abs(t), df). */
static double pt2(double t, double df)
{
    if (isnan(t))
        return NAN;
    return 2 * (isinf(df) ? gsl_cdf_ugaussian_P(-fabs(t)) : gsl_cdf_tdist_P(-fabs(t), df));
}

const svy_model_fit *svy_model_fit_get(const svy_model *m) { return &m->info; }
size_t svy_model_ncoef(const svy_model *m) { return m->coefs ? m->X.p : 0; }
const svy_model_coef *svy_model_coef_get(const svy_model *m, size_t i) { return &m->coefs[i]; }
size_t svy_model_nmargins(const svy_model *m) { return m->nmargins; }
const svy_model_margin *svy_model_margin_get(const svy_model *m, size_t i) { return &m->margins[i]; }
size_t svy_model_nwald(const svy_model *m) { return m->walds ? m->nwald : 0; }
const svy_model_wald *svy_model_wald_get(const svy_model *m, size_t i) { return &m->walds[i]; }
const double *svy_model_vcov(const svy_model *m) { return m->fit.V; }
const svy_design *svy_model_design(const svy_model *m) { return &m->d; }
svy_family svy_model_family(const svy_model *m) { return m->family; }
const char *svy_model_formula(const svy_model *m) { return m->formula_text; }
