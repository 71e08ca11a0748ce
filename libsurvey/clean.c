/* The clean engine: codebook rules applied row by row, every change recorded.
 * A row's changes are buffered until the row is known to be kept, so the log
 * never lists cells of a row that the rejects file lists as dropped. */
#include "svy_private.h"
#include "codebook_private.h"
#include "clean_private.h"
#include "writer_private.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/clean.h>

static const char *const rule_names[SVY_RULE_COUNT_] = {"trim",  "missing", "recode", "number", "range",
                                                        "invalid", "check", "duplicate", "derive"};

const char *svy_clean_rule_name(svy_clean_rule rule)
{
    return (unsigned)rule < SVY_RULE_COUNT_ ? rule_names[rule] : "?";
}

int svy_clean_base_only;

svy_clean *svy_clean_new(const svy_codebook *cb)
{
    svy_clean *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cb = cb;
#if defined(__x86_64__) && defined(__GNUC__)
    c->avx2 = !svy_clean_base_only && __builtin_cpu_supports("avx2");
#endif
    size_t n = cb->nvars;
    c->col = svy_calloc(n, sizeof *c->col);
    c->cell = svy_calloc(n, sizeof *c->cell);
    c->vals = svy_calloc(n, sizeof *c->vals);
    c->memo = svy_calloc(n, sizeof *c->memo);
    c->cmemo = svy_calloc(n, sizeof *c->cmemo);
    c->order = svy_calloc(n, sizeof *c->order);
    c->src = svy_calloc(n, sizeof *c->src);
    c->text = svy_calloc(n, 1);
    c->plain = svy_calloc(n, 1);
    if (!c->col || !c->cell || !c->vals || !c->memo || !c->cmemo || !c->order || !c->src || !c->text || !c->plain) {
        svy_clean_free(c);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const svy_cb_var *v = &cb->vars[i];
        c->cell[i].p = &c->cell[i].v; /* no value yet: as a zeroed cell (an id read before its first cell) */
        c->cmemo[i].epoch = &c->cmemo[i].own_epoch;
        c->cmemo[i].salt = i * 13; /* 160-byte slots: 32.5 lines apart, another cache set (64 sets) */
        c->text[i] = v->type == SVY_CB_TEXT;
        c->plain[i] = v->type != SVY_CB_TEXT && !v->nmissing && !v->recode;
    }
    return c;
}

void svy_clean_free(svy_clean *c)
{
    if (!c)
        return;
    if (c->cell)
        for (size_t i = 0; i < c->cb->nvars; i++) {
            free(c->cell[i].own);
            free(c->cell[i].fown);
        }
    free(c->cell);
    if (c->cmemo)
        for (size_t i = 0; i < c->cb->nvars; i++)
            svy_clean_memo_free(&c->cmemo[i]);
    free(c->cmemo);
    svy_clean_groups_free(c);
    free(c->dplan);
    free(c->cplan);
    free(c->order);
    free(c->src);
    free(c->text);
    free(c->plain);
    free(c->line);
    free(c->lbuf);
    if (c->memo)
        for (size_t i = 0; i < c->cb->nvars; i++)
            free(c->memo[i]);
    free(c->memo);
    free(c->col);
    free(c->vals);
    free(c->ev);
    free(c->arena);
    svy_strtab_free(&c->ids);
    free(c->id_row);
    svy_u64map_free(&c->idnum);
    clean_ids_free(&c->idpages);
    free(c->idnum_row);
    free(c->input);
    svy_schema_free(c->schema);
    free(c);
}

void svy_clean_set_strict(svy_clean *c, int on) { c->strict = on; }
void svy_clean_set_log(svy_clean *c, svy_csv_out *log) { c->log = log; }
void svy_clean_set_line_only(svy_clean *c, int on) { c->line_only = on; }

void svy_clean_set_writer(svy_clean *c, svy_writer *w)
{
    c->writer = w;
    c->wout = w ? svy_writer_line_out(w) : NULL;
}

void svy_clean_set_hooks(svy_clean *c, const svy_clean_hooks *hooks, void *ctx)
{
    if (hooks)
        c->hooks = *hooks;
    else
        memset(&c->hooks, 0, sizeof c->hooks);
    c->ctx = ctx;
}

svy_status svy_clean_set_input_name(svy_clean *c, const char *name)
{
    char *d = svy_strdup(name);
    if (!d)
        return SVY_E_NOMEM;
    free(c->input);
    c->input = d;
    return SVY_OK;
}

const svy_schema *svy_clean_schema(const svy_clean *c) { return c->schema; }
const svy_clean_stats *svy_clean_get_stats(const svy_clean *c) { return &c->st; }

static const char *input_name(const svy_clean *c) { return c->input ? c->input : "<input>"; }

/* ------------------------------------------------------------ binding */

static svy_status build_schema(svy_clean *c, svy_err *err)
{
    const svy_codebook *cb = c->cb;
    svy_schema_free(c->schema);
    if (!(c->schema = svy_schema_new()))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    svy_schema_set_format(c->schema, "csv");
    if (*cb->title)
        svy_schema_set_label(c->schema, cb->title);
    for (size_t i = 0; i < cb->nvars; i++) {
        const svy_cb_var *v = &cb->vars[i];
        svy_var *sv = svy_schema_add(c->schema, v->name, v->type == SVY_CB_TEXT ? SVY_VAR_STRING : SVY_VAR_NUMERIC,
                                     err);
        if (!sv)
            return err->code;
    }
    return svy_codebook_apply_labels(cb, c->schema, SVY_LANG_ZH, err);
}

svy_status svy_clean_begin(svy_clean *c, const svy_schema *raw, svy_err *err)
{
    svy_status st = svy_codebook_check_schema(c->cb, raw, err);
    if (st)
        return st;
    for (size_t i = 0; i < c->cb->nvars; i++)
        c->col[i] = i < c->cb->nsource ? svy_schema_find(raw, c->cb->vars[i].source) : -1;
    /* The id first, so every message about the row can name it; room for
     * an event of every source cell and check, so none has to grow. */
    size_t n = 0;
    if (c->cb->id >= 0)
        c->order[n++] = (size_t)c->cb->id;
    for (size_t i = 0; i < c->cb->nsource; i++)
        if ((long)i != c->cb->id)
            c->order[n++] = i;
    for (size_t j = 0; j < n; j++)
        c->src[j] = (clean_src){&c->cmemo[c->order[j]], &c->cell[c->order[j]], (size_t)c->col[c->order[j]], c->order[j], NULL};
    c->inorder = c->cb->id <= 0; /* the order is the line's: fields written as cells are made */
    if (!svy_clean_groups_make(c) || !svy_clean_derive_plan(c))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    if (!svy_grow((void **)&c->ev, &c->evcap, c->cb->nsource + c->cb->nchecks + 1, sizeof *c->ev))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    c->validating = 0;
    return build_schema(c, err);
}

svy_status svy_clean_begin_validate(svy_clean *c, const svy_schema *cleaned, svy_err *err)
{
    for (size_t i = 0; i < c->cb->nvars; i++) {
        const svy_cb_var *v = &c->cb->vars[i];
        c->col[i] = svy_schema_find(cleaned, v->name);
        if (c->col[i] < 0)
            return svy_err_set(err, SVY_E_DATA, input_name(c), 0, 0, v->name,
                               "the cleaned data have no column '%s' (%s line %d)", v->name,
                               v->file == CB_F_DERIVED ? "derived.csv" : "variables.csv", v->line);
    }
    c->validating = 1;
    return build_schema(c, err);
}

/* ------------------------------------------------------------ helpers */

/* Raw cell as text; 0 when it is missing. */
static int raw_text(const svy_value *v, char *buf, const char **s, size_t *len)
{
    if (v->missing == SVY_MISS_SYSTEM || v->missing == SVY_MISS_TAGGED)
        return 0;
    if (v->type == SVY_VAL_NUM) {
        if (isnan(v->num))
            return 0;
        *len = svy_dtoa(v->num, buf);
        *s = buf;
    } else {
        *s = v->str ? v->str : "";
        *len = v->str ? v->len : 0;
        if (!*len)
            return 0; /* an empty text cell is missing, as in CSV */
    }
    return 1;
}

/* Blanks, including the ideographic space U+3000 typed by Chinese IMEs. */
static void trim(const char **s, size_t *len)
{
    for (;;) {
        if (*len && ((*s)[0] == ' ' || (*s)[0] == '\t' || (*s)[0] == '\r' || (*s)[0] == '\n'))
            (*s)++, (*len)--;
        else if (*len >= 3 && !memcmp(*s, "\xE3\x80\x80", 3))
            *s += 3, *len -= 3;
        else
            break;
    }
    for (;;) {
        const char *e = *s + *len;
        if (*len && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
            (*len)--;
        else if (*len >= 3 && !memcmp(e - 3, "\xE3\x80\x80", 3))
            *len -= 3;
        else
            break;
    }
}

static size_t arena_put(svy_clean *c, const char *s, size_t len, int *ok)
{
    size_t off = c->alen;
    if (!svy_grow((void **)&c->arena, &c->acap, c->alen + len + 1, 1)) {
        *ok = 0;
        return 0;
    }
    memcpy(c->arena + off, s, len);
    c->arena[off + len] = '\0';
    c->alen += len + 1;
    return off;
}

/* A changed cell not remembered: its texts in the row's arena. */
static svy_status record(svy_clean *c, size_t var, const char *old, size_t oldlen, svy_clean_rule rule,
                         const char *detail, svy_err *err)
{
    if (!svy_grow((void **)&c->ev, &c->evcap, c->nev + 1, sizeof *c->ev))
        return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, NULL, "out of memory");
    int ok = 1;
    const clean_val *o = c->cell[var].p;
    const char *name = c->cb->vars[var].name, *rn = svy_clean_rule_name(rule);
    clean_event *e = &c->ev[c->nev];
    e->var = var;
    e->rule = rule;
    e->slot = NULL;
    e->old_off = arena_put(c, old, oldlen, &ok);
    e->new_off = arena_put(c, o->s, o->len, &ok);
    e->det_off = arena_put(c, detail ? detail : "", detail ? strlen(detail) : 0, &ok);
    if (!ok)
        return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, NULL, "out of memory");
    /* The log's line after "row,id,": the fields as svy_csv_out_cstr writes
     * them (up to a NUL), empty ones as missing. */
    size_t nl = strlen(name), rl = strlen(rn), ol = strlen(c->arena + e->old_off);
    size_t wl = strlen(c->arena + e->new_off), dl = strlen(c->arena + e->det_off);
    if (!svy_grow((void **)&c->arena, &c->acap, c->alen + 2 * (nl + ol + wl + dl) + rl + 16 + 48, 1))
        return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, NULL, "out of memory");
    char *t = c->arena + c->alen;
    size_t n = svy_clean_csv_field(t, name, nl, 1);
    t[n++] = ',';
    n += svy_clean_csv_field(t + n, c->arena + e->old_off, ol, 0);
    t[n++] = ',';
    n += svy_clean_csv_field(t + n, c->arena + e->new_off, wl, 0);
    t[n++] = ',';
    memcpy(t + n, rn, rl);
    n += rl;
    t[n++] = ',';
    n += svy_clean_csv_field(t + n, c->arena + e->det_off, dl, 0);
    t[n++] = '\n';
    e->t_off = c->alen;
    e->t_len = n;
    c->alen += n;
    if (c->tail_max < n)
        c->tail_max = n;
    c->nev++;
    return SVY_OK;
}

static const char *row_id(const svy_clean *c) { return svy_clean_row_id(c); }

/* A problem: reported, counted, and in strict mode the end of the run. */
static svy_status problem(svy_clean *c, size_t var, long long col, svy_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static svy_status problem(svy_clean *c, size_t var, long long col, svy_err *err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->st.problems++;
    c->side++;
    const char *name = var < c->cb->nvars ? c->cb->vars[var].name : NULL;
    if (c->strict)
        return svy_err_set(err, SVY_E_DATA, input_name(c), c->cur_row, col, name, "%s", msg);
    if (c->hooks.problem)
        return c->hooks.problem(c->ctx, c->cur_row, row_id(c), name ? name : "", msg, err);
    return SVY_OK;
}

static void reject(svy_clean *c, svy_clean_rule rule, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void reject(svy_clean *c, svy_clean_rule rule, const char *fmt, ...)
{
    c->side++;
    if (c->rejected)
        return; /* the first reason is the one reported */
    c->rejected = 1;
    c->reject_rule = rule;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ one source cell */

static int is_missing_code(const svy_cb_var *v, const char *s, size_t len)
{
    if (!v->nmissing)
        return 0;
    double x;
    int isnum = svy_number_fast(s, len, &x) || svy_parse_number(s, len, &x);
    for (size_t i = 0; i < v->nmissing; i++) {
        if (strlen(v->missing[i]) == len && !memcmp(v->missing[i], s, len))
            return 1;
        if (isnum && !isnan(v->missing_num[i]) && v->missing_num[i] == x)
            return 1;
    }
    return 0;
}

static void format_ranges(const svy_cb_var *v, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < v->nvalid && off + 1 < size; i++) {
        int k;
        if (v->valid[i].lo == v->valid[i].hi)
            k = snprintf(buf + off, size - off, "%s%g", i ? ";" : "", v->valid[i].lo);
        else
            k = snprintf(buf + off, size - off, "%s%g-%g", i ? ";" : "", v->valid[i].lo, v->valid[i].hi);
        if (k < 0)
            break;
        off += (size_t)k < size - off ? (size_t)k : size - off - 1;
    }
    if (!v->nvalid && v->labels)
        snprintf(buf, size, "codes of label set %s", v->labels->name);
}

/* A value that cannot stay: made missing, or its row rejected. */
static svy_status invalid(svy_clean *c, size_t i, svy_clean_rule rule, const char *raw, size_t rawlen,
                          const char *why, svy_err *err, svy_clean_rule *out_rule, char *detail, size_t dsize)
{
    const svy_cb_var *v = &c->cb->vars[i];
    svy_status st = problem(c, i, c->col[i] + 1, err, "%s: '%.*s' %s", v->name, (int)(rawlen > 200 ? 200 : rawlen),
                            raw, why);
    if (st)
        return st;
    svy_clean_set_missing(&c->cell[i]);
    *out_rule = rule;
    snprintf(detail, dsize, "%s", why);
    if (v->reject_invalid)
        reject(c, rule, "%s: '%.*s' %s", v->name, (int)(rawlen > 200 ? 200 : rawlen), raw, why);
    return SVY_OK;
}

/* A source cell's raw text made clean: the cell, *rule and detail (256
 * bytes); problems and rejections raised on the way. */
static svy_status clean_text(svy_clean *c, size_t i, const char *raw, size_t rawlen, svy_clean_rule *rule,
                             char *detail, svy_err *err)
{
    const svy_cb_var *v = &c->cb->vars[i];
    clean_cell *o = &c->cell[i];
    const char *s = raw;
    size_t len = rawlen;
    trim(&s, &len);
    *rule = v->type == SVY_CB_TEXT ? SVY_RULE_TRIM : SVY_RULE_NUMBER;
    detail[0] = '\0';
    if (!len || is_missing_code(v, s, len)) {
        svy_clean_set_missing(o);
        *rule = SVY_RULE_MISSING;
        size_t dl = len < 256 ? len : 255;
        memcpy(detail, s, dl);
        detail[dl] = '\0';
        if (v->reject_invalid)
            reject(c, SVY_RULE_MISSING, "%s: missing code '%.*s'", v->name, (int)len, s);
        return SVY_OK;
    }
    if (v->recode) {
        const cb_recode *rc = v->recode;
        size_t k = 0;
        svy_status st;
        if (!c->memo[i])
            c->memo[i] = calloc(CLEAN_MEMO_SLOTS, sizeof *c->memo[i]); /* none: no memo */
        if ((st = svy_clean_match_recode(v, c->memo[i], c->cb->path[CB_F_RECODES], input_name(c), c->cur_row, s,
                                         len, &k, err)))
            return st;
        if (k == rc->n) {
            char why[160];
            snprintf(why, sizeof why, "matches no pattern of recode set %s", rc->name);
            return invalid(c, i, SVY_RULE_INVALID, s, len, why, err, rule, detail, 256);
        }
        *rule = SVY_RULE_RECODE;
        svy_clean_recode_detail(rc, k, detail, 256);
        if (!rc->r[k].value) {
            svy_clean_set_missing(o);
            return SVY_OK;
        }
        s = rc->r[k].value;
        len = strlen(s);
    }
    int ok;
    if (v->type == SVY_CB_TEXT) {
        ok = svy_clean_set_text(o, s, len);
        o->missing = 0;
        o->num = NAN;
    } else {
        double x;
        if (!svy_number_fast(s, len, &x) && !svy_parse_number(s, len, &x) && !svy_cb_parse_quantity(s, len, &x))
            return invalid(c, i, SVY_RULE_INVALID, s, len, "is not a number", err, rule, detail, 256);
        if (!svy_cb_var_valid_num(v, x)) {
            char rg[200], why[240];
            format_ranges(v, rg, sizeof rg);
            snprintf(why, sizeof why, "is outside the valid values (%s)", rg);
            svy_status st = invalid(c, i, SVY_RULE_RANGE, s, len, why, err, rule, detail, 256);
            snprintf(detail, 256, "%s", rg);
            return st;
        }
        /* A number already written as svy_dtoa writes it stays as it is. */
        ok = svy_clean_prints_as_itself(s, len) ? svy_clean_set_text(o, s, len) : svy_clean_set_number(o, x);
        o->num = x;
        o->missing = 0;
        o->dtoa = 1;
    }
    return ok ? SVY_OK : svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, v->name, "out of memory");
}

/* The cell as remembered in r; its change, if any, for the log. */
static svy_status use_slot(svy_clean *c, size_t i, const clean_slot *r, svy_err *err)
{
    c->cell[i].p = &r->v;
    if (!r->changed)
        return SVY_OK;
    if (c->nev == c->evcap && !svy_grow((void **)&c->ev, &c->evcap, c->nev + 1, sizeof *c->ev))
        return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, NULL, "out of memory");
    c->ev[c->nev++].slot = r;
    return SVY_OK;
}

svy_status svy_clean_source(svy_clean *c, size_t i, const svy_value *rawv, svy_err *err)
{
    const svy_cb_var *v = &c->cb->vars[i];
    clean_cell *o = &c->cell[i];
    char numbuf[SVY_DTOA_MAX];
    const char *raw;
    size_t rawlen;
    if (!raw_text(rawv, numbuf, &raw, &rawlen)) {
        svy_clean_set_missing(o);
        if (v->reject_invalid)
            reject(c, SVY_RULE_INVALID, "%s: missing", v->name);
        return SVY_OK;
    }
    int hit;
    clean_slot *r = svy_clean_memo_find(&c->cmemo[i], raw, rawlen, &hit);
    if (!r)
        return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, NULL, "out of memory");
    if (hit > 0)
        return use_slot(c, i, r, err);
    unsigned long side = c->side;
    svy_clean_rule rule;
    char detail[256];
    svy_status st = clean_text(c, i, raw, rawlen, &rule, detail, err);
    if (st)
        return st;
    int changed = o->missing || o->len != rawlen || memcmp(o->s, raw, rawlen);
    if (!svy_clean_cell_field(o, v->type == SVY_CB_TEXT))
        return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, NULL, "out of memory");
    if (c->side == side && hit == 0) { /* nothing said about it: the same text always gives the same */
        if (r->used) /* another text's slot: its run's records that point at it are stale */
            ++*c->cmemo[i].epoch;
        if (!svy_clean_slot_store(&c->cmemo[i], r, v, o, raw, rawlen, changed, rule, detail, &c->tail_max))
            return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, NULL, "out of memory");
        r->used = 1;
        r->var = i;
        return use_slot(c, i, r, err);
    }
    return changed ? record(c, i, raw, rawlen, rule, detail, err) : SVY_OK;
}

/* ------------------------------------------------------------ derived */

svy_status svy_clean_derive(svy_clean *c, size_t i, svy_err *err)
{
    const svy_cb_var *v = &c->cb->vars[i];
    clean_cell *o = &c->cell[i];
    const clean_val *a = c->cell[v->src[0]].p;
    int anymiss = 0, hit = 0, miss_all = 0;
    double x = NAN;
    switch (v->kind) {
    case CB_K_COPY:
        if (a->missing) {
            svy_clean_set_missing(o);
        } else if (!svy_clean_set_text(o, a->s, a->len)) {
            return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, v->name, "out of memory");
        } else {
            o->num = a->num;
            o->missing = 0;
        }
        return SVY_OK;
    case CB_K_ANY_OF:
    case CB_K_ALL_OF:
        for (size_t k = 0; k < v->nsrc; k++) {
            const clean_val *s = c->cell[v->src[k]].p;
            if (s->missing)
                anymiss = 1;
            else if (s->num == v->arg)
                hit++;
            else
                miss_all = 1; /* a present value that does not count */
        }
        if (v->kind == CB_K_ANY_OF)
            x = hit ? 1 : anymiss ? NAN : 0;
        else
            x = miss_all ? 0 : anymiss ? NAN : 1;
        break;
    case CB_K_THRESHOLD:
        if (!a->missing)
            x = svy_cb_cond_holds(v->op, v->arg, 0, a->num) ? 1 : 0;
        break;
    case CB_K_MAP:
        if (!a->missing) {
            for (size_t k = 0; k < v->nmap && isnan(x); k++)
                if (a->num >= v->map[k].lo && a->num <= v->map[k].hi)
                    x = v->map[k].to;
            if (isnan(x)) {
                svy_status st = problem(c, i, 0, err, "%s: no map case for %s = %s", v->name, c->cb->vars[v->src[0]].name,
                                        a->s);
                if (st)
                    return st;
            }
        }
        break;
    default: break;
    }
    if (isnan(x))
        svy_clean_set_missing(o);
    else if (!svy_clean_set_flag(o, x))
        return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, v->name, "out of memory");
    return SVY_OK;
}

/* A missing value neither triggers a check nor contradicts it, unless the
 * condition is about being missing. */
static inline int cond_true(const svy_clean *c, const cb_cond *k, int missing_means)
{
    const clean_val *o = c->cell[k->var].p;
    if (k->op == CB_OP_EQ) /* the common ones, inline (as svy_cb_cond_holds) */
        return o->missing ? missing_means : o->num == k->value;
    if (k->op == CB_OP_MISSING)
        return o->missing;
    if (k->op == CB_OP_PRESENT)
        return !o->missing;
    if (o->missing && k->op != CB_OP_MISSING && k->op != CB_OP_PRESENT)
        return missing_means;
    return svy_cb_cond_holds(k->op, k->value, o->missing, o->num);
}

/* cond_true of a check's plan (clean_cplan). */
static inline int plan_true(const clean_ccond *k, int missing_means)
{
    const clean_val *o = k->cell->p;
    if (k->op == CB_OP_EQ)
        return o->missing ? missing_means : o->num == k->value;
    if (k->op == CB_OP_MISSING)
        return o->missing;
    if (k->op == CB_OP_PRESENT)
        return !o->missing;
    if (o->missing)
        return missing_means;
    return svy_cb_cond_holds((cb_op)k->op, k->value, 0, o->num);
}

static svy_status run_checks(svy_clean *c, svy_err *err)
{
    const svy_codebook *cb = c->cb;
    for (size_t k = 0; k < cb->nchecks; k++) {
        if (!plan_true(&c->cplan[k].when, 0) || plan_true(&c->cplan[k].then, 1))
            continue;
        const cb_check *ch = &cb->checks[k];
        const clean_val *o = c->cell[ch->then.var].p;
        const char *var = cb->vars[ch->then.var].name;
        svy_status st = problem(c, ch->then.var, 0, err, "check %s (checks.csv:%d): %s%s%s = %s", ch->name, ch->line,
                                ch->message, *ch->message ? "; " : "", var, o->missing ? "" : o->s);
        if (st)
            return st;
        char detail[200];
        snprintf(detail, sizeof detail, "%s@checks.csv:%d", ch->name, ch->line);
        if (ch->action == CB_ACT_REJECT) {
            reject(c, SVY_RULE_CHECK, "check %s: %s", ch->name, *ch->message ? ch->message : "failed");
        } else if (ch->action == CB_ACT_SET_MISSING) {
            /* The log's old value is the value before the check. */
            char old[256];
            size_t ol = o->len < sizeof old ? o->len : sizeof old - 1;
            memcpy(old, o->s ? o->s : "", ol);
            svy_clean_set_missing(&c->cell[ch->then.var]);
            c->lstale = 1; /* its field may be in the line already */
            if ((st = record(c, ch->then.var, old, ol, SVY_RULE_CHECK, detail, err)))
                return st;
        }
    }
    return SVY_OK;
}

/* ------------------------------------------------------------ ids */

static svy_status dedup(svy_clean *c, svy_err *err)
{
    const char *id = row_id(c);
    if (!*id) {
        reject(c, SVY_RULE_INVALID, "no %s", c->cb->vars[c->cb->id].name);
        return SVY_OK;
    }
    long long first = 0;
    int k = svy_clean_id_seen(c, id, &first);
    if (k < 0)
        return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, NULL, "out of memory (ids)");
    if (k)
        return SVY_OK;
    const char *name = c->cb->vars[c->cb->id].name;
    if (c->cb->dup == CB_DUP_ERROR)
        return svy_err_set(err, SVY_E_DATA, input_name(c), c->cur_row, c->col[c->cb->id] + 1, name,
                           "duplicate %s %s (first at row %lld)", name, id, first);
    svy_status st = problem(c, (size_t)c->cb->id, c->col[c->cb->id] + 1, err,
                            "duplicate %s %s: first kept at row %lld", name, id, first);
    if (st)
        return st;
    reject(c, SVY_RULE_DUPLICATE, "duplicate %s %s: first kept at row %lld", name, id, first);
    return SVY_OK;
}

/* ------------------------------------------------------------ rows */

svy_status svy_clean_row(svy_clean *c, const svy_row *in, const svy_row **out, svy_err *err)
{
    const svy_codebook *cb = c->cb;
    *out = NULL;
    c->cur_row = in->index;
    c->rejected = 0;
    c->nev = 0;
    c->alen = 0;
    c->st.rows_in++;
    if (!svy_clean_line_start(c))
        return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, NULL, "out of memory");
    svy_status st = svy_clean_sources(c, in, err);
    if (st == SVY_OK)
        st = svy_clean_derive_all(c, err);
    if (st == SVY_OK)
        st = run_checks(c, err);
    if (st == SVY_OK && cb->id >= 0 && !c->rejected)
        st = dedup(c, err);
    if (st)
        return st;
    if (c->rejected) {
        c->st.rows_rejected++;
        c->st.rejected_by[c->reject_rule]++;
        if (c->hooks.reject)
            return c->hooks.reject(c->ctx, in->index, row_id(c), c->reject_rule, c->reason, err);
        return SVY_OK;
    }
    if ((st = svy_clean_emit_changes(c, in->index, err)))
        return st;
    c->st.rows_out++;
    if (!svy_clean_fill_row(c))
        return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, NULL, "out of memory");
    if (!c->wout) {
        *out = &c->row;
        return SVY_OK;
    }
    if (c->lroom) { /* the line is in the output's buffer: ended and taken as it is */
        c->lb[c->row.line_len] = '\n';
        svy_csv_out_advance(c->wout, c->row.line_len + 1);
    } else {
        svy_csv_out_fields(c->wout, c->lb, c->row.line_len);
        svy_csv_out_end_row(c->wout);
    }
    svy_writer_count_row(c->writer);
    return SVY_OK;
}

/* ------------------------------------------------------------ validation */

svy_status svy_clean_validate_row(svy_clean *c, const svy_row *row, svy_err *err)
{
    const svy_codebook *cb = c->cb;
    c->cur_row = row->index;
    c->st.rows_in++;
    svy_status st = SVY_OK;
    for (size_t i = 0; i < cb->nvars; i++) {
        const svy_cb_var *v = &cb->vars[i];
        const svy_value *val = &row->vals[c->col[i]];
        clean_cell *o = &c->cell[i];
        char numbuf[SVY_DTOA_MAX];
        const char *s;
        size_t len;
        if (!raw_text(val, numbuf, &s, &len)) {
            svy_clean_set_missing(o);
            continue;
        }
        if (!svy_clean_set_text(o, s, len))
            return svy_err_set(err, SVY_E_NOMEM, input_name(c), c->cur_row, 0, v->name, "out of memory");
        o->missing = 0;
        if (v->type == SVY_CB_TEXT)
            continue;
        double x;
        if (!svy_parse_number(s, len, &x)) {
            if ((st = problem(c, i, c->col[i] + 1, err, "%s: '%.*s' is not a number", v->name, (int)len, s)))
                return st;
            svy_clean_set_missing(o);
        } else if (!svy_cb_var_valid_num(v, x)) {
            if ((st = problem(c, i, c->col[i] + 1, err, "%s: %s is not a valid value", v->name, o->s)))
                return st;
            o->num = x;
        } else {
            o->num = x;
        }
    }
    for (size_t k = 0; k < cb->nchecks; k++) {
        const cb_check *ch = &cb->checks[k];
        if (ch->action == CB_ACT_WARN || !cond_true(c, &ch->when, 0) || cond_true(c, &ch->then, 1))
            continue;
        if ((st = problem(c, ch->then.var, 0, err, "check %s (checks.csv:%d) fails", ch->name, ch->line)))
            return st;
    }
    c->st.rows_out++;
    return SVY_OK;
}
