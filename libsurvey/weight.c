/* Weighting on cells: nonresponse adjustment, post-stratification, raking
 * and trimming (see survey/weight.h). */
#include "svy_private.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/reader.h>
#include <survey/weight.h>

/* ---- a small interning hash: byte keys -> dense indices ------------------ */

typedef struct intern {
    uint32_t *slots; /* entry index + 1; 0 is empty */
    size_t cap;      /* slots, a power of two */
    uint64_t *hash;  /* per entry */
    size_t *off;     /* per entry, into arena */
    uint32_t *len;
    size_t n, ncap;
    char *arena;
    size_t alen, acap;
} intern;

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

/* Keys are short (level texts, 21-byte cell keys): fixed-size overlapping
 * loads instead of a byte loop, as wyhash does. */
static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)n * 0xff51afd7ed558ccdull);
    uint64_t a, b;
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            memcpy(&a, s + i, 8);
            h = mix64(h ^ a) * 0xff51afd7ed558ccdull;
        }
        if (i < n) {
            memcpy(&a, s + n - 8, 8);
            h = mix64(h ^ a) * 0xc4ceb9fe1a85ec53ull;
        }
        return mix64(h);
    }
    if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        a = x;
        b = y;
    } else if (n) {
        a = ((uint64_t)s[0] << 16) | ((uint64_t)s[n / 2] << 8) | s[n - 1];
        b = 0;
    } else {
        a = b = 0;
    }
    return mix64(h ^ (a << 32 | b) ^ (b * 0xc4ceb9fe1a85ec53ull));
}

static void intern_free(intern *it)
{
    free(it->slots);
    free(it->hash);
    free(it->off);
    free(it->len);
    free(it->arena);
    memset(it, 0, sizeof *it);
}

static const char *intern_key(const intern *it, size_t i, size_t *len)
{
    if (len)
        *len = it->len[i];
    return it->arena + it->off[i];
}

/* Index of key, or -1. */
static long intern_find(const intern *it, const void *key, size_t len)
{
    if (!it->cap)
        return -1;
    uint64_t h = hash_bytes(key, len);
    size_t mask = it->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint32_t s = it->slots[i];
        if (!s)
            return -1;
        size_t e = s - 1;
        if (it->hash[e] == h && it->len[e] == len && memcmp(it->arena + it->off[e], key, len) == 0)
            return (long)e;
    }
}

static int intern_rehash(intern *it, size_t ncap)
{
    uint32_t *ns = svy_calloc(ncap, sizeof *ns);
    if (!ns)
        return 0;
    for (size_t e = 0; e < it->n; e++) {
        size_t i = (size_t)it->hash[e] & (ncap - 1);
        while (ns[i])
            i = (i + 1) & (ncap - 1);
        ns[i] = (uint32_t)(e + 1);
    }
    free(it->slots);
    it->slots = ns;
    it->cap = ncap;
    return 1;
}

/* Index of key, adding it when new (*added set).  -1 when out of memory. */
static long intern_add(intern *it, const void *key, size_t len, int *added)
{
    if (added)
        *added = 0;
    long f = intern_find(it, key, len);
    if (f >= 0)
        return f;
    if (it->n >= UINT32_MAX - 1)
        return -1;
    if ((it->n + 1) * 2 > it->cap && !intern_rehash(it, it->cap ? it->cap * 2 : 64))
        return -1;
    if (!svy_grow((void **)&it->hash, &it->ncap, it->n + 1, sizeof *it->hash))
        return -1;
    /* The parallel arrays grow together, to the capacity of hash. */
    size_t cap = it->ncap;
    size_t *noff = svy_reallocarray(it->off, cap, sizeof *noff);
    if (!noff)
        return -1;
    it->off = noff;
    uint32_t *nlen = svy_reallocarray(it->len, cap, sizeof *nlen);
    if (!nlen)
        return -1;
    it->len = nlen;
    if (!svy_grow((void **)&it->arena, &it->acap, it->alen + len + 1, 1))
        return -1;
    memcpy(it->arena + it->alen, key, len);
    it->arena[it->alen + len] = '\0';
    size_t e = it->n++;
    it->hash[e] = hash_bytes(key, len);
    it->off[e] = it->alen;
    it->len[e] = (uint32_t)len;
    it->alen += len + 1;
    size_t i = (size_t)it->hash[e] & (it->cap - 1);
    while (it->slots[i])
        i = (i + 1) & (it->cap - 1);
    it->slots[i] = (uint32_t)(e + 1);
    if (added)
        *added = 1;
    return (long)e;
}

/* ---- the engine ----------------------------------------------------------- */

/* A variable some margin crosses: its categories are the union of the
 * levels over all margins, matched to data values by text or number. */
typedef struct mvar {
    char *name;
    long col;
    intern bytext;  /* level text / label -> entry; category in textcat */
    intern bynum;   /* 8-byte double -> entry; category in numcat */
    uint32_t *textcat, *numcat;
    size_t textcap, numcap;
    size_t ncat;
    size_t first_margin; /* for messages */
    uint64_t stride;     /* place value in a unit's vcell */
    /* Category of each short text met in the data, direct-mapped: the
     * key is the text's bytes, its length and a set top bit (0 = empty). */
    struct vcache {
        uint64_t key;
        uint32_t cat;
    } vcache[64];
} mvar;

typedef struct margin {
    char *name;
    size_t nvars;
    size_t *var; /* into w->mvars */
    size_t nlines, cap, levcap;
    char **levels; /* nlines * nvars texts */
    double *total;
    long long *lineno;
    intern lines; /* tuple of categories -> line */
    long double grand;
    int *line_of; /* per respondent unit, after the checks */
} margin;

typedef struct unit {
    uint64_t vcell;
    double w0;
    double w; /* current weight of each row of the unit */
    long long n;
    long long first_row;
    uint32_t nr;
    unsigned char resp;
    unsigned char clipped;
} unit;

/* Key under which a row is filed; packed by hand so padding never hashes. */
#define UNIT_KEY_LEN 21

struct svy_weight {
    char *start_col;
    int start_prob;
    long start_idx;
    char **nr_cols;
    size_t n_nr;
    long *nr_idx;
    char *resp_col;
    long resp_idx;
    int max_iter;
    double tol;
    double trim_lo, trim_hi;
    int trim_lo_rel, trim_hi_rel, trim_on;

    mvar *mvars;
    size_t nmvars, mvcap;
    margin *margins;
    size_t nmargins, mcap;

    svy_schema *schema;
    size_t nvars; /* of schema */
    char *source;
    int begun, fitted;

    intern nrcells;       /* key bytes -> nonresponse cell */
    long long *nr_first;  /* first row of each nonresponse cell */
    size_t nr_firstcap;
    intern units_ix;
    unit *units;
    size_t unitcap;
    size_t *resp_units; /* indices of respondent units */
    size_t nresp_units;
    long double *acc;   /* scratch per margin line */
    size_t acccap;

    char *keybuf;
    size_t keycap;
    /* Last unit seen for each margin cell, when the margin cells are few:
     * rows mostly repeat a cell's weight and class, so this skips hashing. */
    uint32_t *cell_cache; /* unit + 1; 0 empty */
    uint64_t ncells_dense;
    svy_weight_report rep;
};

svy_weight *svy_weight_new(void)
{
    svy_weight *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->start_idx = -1;
    w->resp_idx = -1;
    w->max_iter = 100;
    w->tol = 1e-10;
    w->trim_lo = -INFINITY;
    w->trim_hi = INFINITY;
    return w;
}

void svy_weight_free(svy_weight *w)
{
    if (!w)
        return;
    free(w->start_col);
    for (size_t i = 0; i < w->n_nr; i++)
        free(w->nr_cols[i]);
    free(w->nr_cols);
    free(w->nr_idx);
    free(w->resp_col);
    for (size_t i = 0; i < w->nmvars; i++) {
        mvar *v = &w->mvars[i];
        free(v->name);
        intern_free(&v->bytext);
        intern_free(&v->bynum);
        free(v->textcat);
        free(v->numcat);
    }
    free(w->mvars);
    for (size_t i = 0; i < w->nmargins; i++) {
        margin *m = &w->margins[i];
        free(m->name);
        free(m->var);
        for (size_t k = 0; k < m->nlines * m->nvars; k++)
            free(m->levels[k]);
        free(m->levels);
        free(m->total);
        free(m->lineno);
        intern_free(&m->lines);
        free(m->line_of);
    }
    free(w->margins);
    svy_schema_free(w->schema);
    free(w->source);
    intern_free(&w->nrcells);
    free(w->nr_first);
    intern_free(&w->units_ix);
    free(w->units);
    free(w->resp_units);
    free(w->acc);
    free(w->keybuf);
    free(w->cell_cache);
    free(w);
}

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory while weighting");
}

static svy_status too_late(const svy_weight *w, svy_err *err)
{
    if (w->begun)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL,
                           "weighting settings must come before the first pass");
    return SVY_OK;
}

svy_status svy_weight_set_start(svy_weight *w, const char *col, int is_prob, svy_err *err)
{
    svy_status st = too_late(w, err);
    if (st)
        return st;
    free(w->start_col);
    w->start_col = NULL;
    if (col && !(w->start_col = svy_strdup(col)))
        return nomem(err);
    w->start_prob = is_prob;
    return SVY_OK;
}

svy_status svy_weight_set_nonresponse(svy_weight *w, const char *const *cells, size_t ncells,
                                      const char *respondent, svy_err *err)
{
    svy_status st = too_late(w, err);
    if (st)
        return st;
    SVY_FAIL_IF(!respondent || !*respondent, err, SVY_E_USAGE,
                "nonresponse adjustment needs a respondent column");
    free(w->resp_col);
    if (!(w->resp_col = svy_strdup(respondent)))
        return nomem(err);
    for (size_t i = 0; i < w->n_nr; i++)
        free(w->nr_cols[i]);
    free(w->nr_cols);
    w->n_nr = 0;
    if (!(w->nr_cols = svy_calloc(ncells ? ncells : 1, sizeof *w->nr_cols)))
        return nomem(err);
    for (size_t i = 0; i < ncells; i++) {
        if (!(w->nr_cols[i] = svy_strdup(cells[i])))
            return nomem(err);
        w->n_nr++;
    }
    return SVY_OK;
}

svy_status svy_weight_set_convergence(svy_weight *w, int max_iter, double tol, svy_err *err)
{
    SVY_FAIL_IF(max_iter < 1, err, SVY_E_USAGE, "the iteration limit must be at least 1 (got %d)", max_iter);
    SVY_FAIL_IF(!(tol > 0) || !isfinite(tol), err, SVY_E_USAGE,
                "the tolerance must be a positive number (got %g)", tol);
    w->max_iter = max_iter;
    w->tol = tol;
    return SVY_OK;
}

svy_status svy_weight_set_trim(svy_weight *w, double lo, int lo_rel, double hi, int hi_rel, svy_err *err)
{
    SVY_FAIL_IF(isnan(lo) || isnan(hi), err, SVY_E_USAGE, "a trimming bound is not a number");
    SVY_FAIL_IF(lo == INFINITY || hi == -INFINITY, err, SVY_E_USAGE, "a trimming bound is infinite the wrong way");
    SVY_FAIL_IF(lo < 0 && isfinite(lo), err, SVY_E_USAGE, "the lower trimming bound %g is negative", lo);
    SVY_FAIL_IF(!(hi > 0), err, SVY_E_USAGE, "the upper trimming bound %g is not positive", hi);
    SVY_FAIL_IF(lo_rel == hi_rel && lo >= hi, err, SVY_E_USAGE,
                "the lower trimming bound %g is not below the upper bound %g", lo, hi);
    w->trim_lo = lo;
    w->trim_hi = hi;
    w->trim_lo_rel = lo_rel && isfinite(lo);
    w->trim_hi_rel = hi_rel && isfinite(hi);
    w->trim_on = isfinite(lo) || isfinite(hi);
    return SVY_OK;
}

static int parse_bound(const char *s, size_t len, double *v, int *rel, double none)
{
    while (len && (s[len - 1] == ' '))
        len--;
    while (len && *s == ' ')
        s++, len--;
    *rel = 0;
    if (!len) {
        *v = none;
        return 1;
    }
    if (s[len - 1] == 'x' || s[len - 1] == 'X') {
        *rel = 1;
        len--;
    }
    return len && svy_parse_number(s, len, v) && isfinite(*v);
}

svy_status svy_weight_set_trim_spec(svy_weight *w, const char *spec, svy_err *err)
{
    const char *comma = strchr(spec, ',');
    SVY_FAIL_IF(!comma || strchr(comma + 1, ','), err, SVY_E_USAGE,
                "trimming bounds '%s' are not LO,HI (e.g. 0.3x,3.5x or 1,500)", spec);
    double lo, hi;
    int lr, hr;
    SVY_FAIL_IF(!parse_bound(spec, (size_t)(comma - spec), &lo, &lr, -INFINITY), err, SVY_E_USAGE,
                "lower trimming bound in '%s' is not a number or a multiple of the mean (Nx)", spec);
    SVY_FAIL_IF(!parse_bound(comma + 1, strlen(comma + 1), &hi, &hr, INFINITY), err, SVY_E_USAGE,
                "upper trimming bound in '%s' is not a number or a multiple of the mean (Nx)", spec);
    SVY_FAIL_IF(isinf(lo) && isinf(hi), err, SVY_E_USAGE, "trimming bounds '%s' set no bound", spec);
    return svy_weight_set_trim(w, lo, lr, hi, hr, err);
}

/* ---- margins -------------------------------------------------------------- */

svy_status svy_weight_add_margin(svy_weight *w, const char *name, const char *const *vars, size_t nvars,
                                 size_t *index, svy_err *err)
{
    svy_status st = too_late(w, err);
    if (st)
        return st;
    SVY_FAIL_IF(nvars == 0, err, SVY_E_USAGE, "margin %s names no variable", name);
    if (!svy_grow((void **)&w->margins, &w->mcap, w->nmargins + 1, sizeof *w->margins))
        return nomem(err);
    margin *m = &w->margins[w->nmargins];
    memset(m, 0, sizeof *m);
    if (!(m->name = svy_strdup(name)) || !(m->var = svy_calloc(nvars, sizeof *m->var))) {
        free(m->name);
        return nomem(err);
    }
    m->nvars = nvars;
    for (size_t j = 0; j < nvars; j++) {
        for (size_t k = 0; k < j; k++)
            if (strcmp(vars[k], vars[j]) == 0) {
                free(m->name);
                free(m->var);
                return svy_err_set(err, SVY_E_USAGE, name, 0, 0, vars[j],
                                   "variable %s appears twice in the margin", vars[j]);
            }
        size_t v = 0;
        while (v < w->nmvars && strcmp(w->mvars[v].name, vars[j]) != 0)
            v++;
        if (v == w->nmvars) {
            if (!svy_grow((void **)&w->mvars, &w->mvcap, w->nmvars + 1, sizeof *w->mvars)) {
                free(m->name);
                free(m->var);
                return nomem(err);
            }
            mvar *mv = &w->mvars[v];
            memset(mv, 0, sizeof *mv);
            if (!(mv->name = svy_strdup(vars[j]))) {
                free(m->name);
                free(m->var);
                return nomem(err);
            }
            mv->first_margin = w->nmargins;
            w->nmvars++;
        }
        m->var[j] = v;
    }
    if (index)
        *index = w->nmargins;
    w->nmargins++;
    return SVY_OK;
}

size_t svy_weight_margin_count(const svy_weight *w)
{
    return w->nmargins;
}

/* "stype=E, sch.wide=Yes" for messages. */
static void describe_line(const svy_weight *w, const margin *m, size_t line, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < m->nvars && off + 1 < size; j++) {
        int k = snprintf(buf + off, size - off, "%s%s=%s", j ? ", " : "", w->mvars[m->var[j]].name,
                         m->levels[line * m->nvars + j]);
        if (k < 0)
            break;
        off += (size_t)k < size - off ? (size_t)k : size - off - 1;
    }
}

/* An error about one line of a margin: "FILE: line N: v=level: msg". */
static svy_status line_err(const svy_weight *w, const margin *m, size_t line, svy_err *err, const char *msg)
{
    char lev[300];
    describe_line(w, m, line, lev, sizeof lev);
    if (m->lineno[line] > 0)
        return svy_err_set(err, SVY_E_DATA, m->name, 0, 0, NULL, "line %lld: %s: %s", m->lineno[line], lev, msg);
    return svy_err_set(err, SVY_E_DATA, m->name, 0, 0, NULL, "%s: %s", lev, msg);
}

svy_status svy_weight_add_margin_level(svy_weight *w, size_t mi, const char *const *levels, double total,
                                       long long line, svy_err *err)
{
    svy_status st = too_late(w, err);
    if (st)
        return st;
    SVY_FAIL_IF(mi >= w->nmargins, err, SVY_E_USAGE, "no margin %zu", mi);
    margin *m = &w->margins[mi];
    size_t cap = m->cap;
    if (!svy_grow((void **)&m->total, &cap, m->nlines + 1, sizeof *m->total))
        return nomem(err);
    cap = m->cap;
    if (!svy_grow((void **)&m->lineno, &cap, m->nlines + 1, sizeof *m->lineno))
        return nomem(err);
    if (!svy_grow((void **)&m->levels, &m->levcap, (m->nlines + 1) * m->nvars, sizeof *m->levels))
        return nomem(err);
    m->cap = cap;
    size_t l = m->nlines;
    for (size_t j = 0; j < m->nvars; j++)
        m->levels[l * m->nvars + j] = NULL;
    for (size_t j = 0; j < m->nvars; j++)
        if (!(m->levels[l * m->nvars + j] = svy_strdup(levels[j] ? levels[j] : ""))) {
            for (size_t k = 0; k < j; k++)
                free(m->levels[l * m->nvars + k]);
            return nomem(err);
        }
    m->total[l] = total;
    m->lineno[l] = line;
    m->nlines++;
    for (size_t j = 0; j < m->nvars; j++)
        if (!levels[j] || !*levels[j])
            return line_err(w, m, l, err, "missing level of a margin variable");
    if (isnan(total))
        return line_err(w, m, l, err, "missing total");
    if (!(total > 0) || !isfinite(total)) {
        char msg[80];
        snprintf(msg, sizeof msg, "total %g is not a positive number", total);
        return line_err(w, m, l, err, msg);
    }
    m->grand += total;
    return SVY_OK;
}

typedef struct margin_ctx {
    svy_weight *w;
    const char *path;
    size_t index;
    size_t nvars;
    char **texts;
} margin_ctx;

static svy_status margin_schema(void *ctx, const svy_schema *s, svy_err *err)
{
    margin_ctx *c = ctx;
    size_t n = svy_schema_nvars(s);
    SVY_FAIL_IF(n < 2 || strcmp(svy_var_name(svy_schema_var(s, n - 1)), "total") != 0, err, SVY_E_DATA,
                "margin file %s: columns must be one or more variables and then 'total'", c->path);
    const char **names = svy_calloc(n, sizeof *names);
    if (!names)
        return nomem(err);
    for (size_t i = 0; i + 1 < n; i++)
        names[i] = svy_var_name(svy_schema_var(s, i));
    svy_status st = svy_weight_add_margin(c->w, c->path, names, n - 1, &c->index, err);
    free(names);
    if (st)
        return st;
    c->nvars = n - 1;
    if (!(c->texts = svy_calloc(n, sizeof *c->texts)))
        return nomem(err);
    return SVY_OK;
}

static svy_status margin_row(void *ctx, const svy_row *row, svy_err *err)
{
    margin_ctx *c = ctx;
    char nums[64][SVY_DTOA_MAX];
    SVY_FAIL_IF(row->nvals != c->nvars + 1, err, SVY_E_DATA, "margin file %s: row %lld has %zu field%s", c->path,
                row->index, row->nvals, row->nvals == 1 ? "" : "s");
    for (size_t j = 0; j < c->nvars; j++) {
        const svy_value *v = &row->vals[j];
        if (svy_value_is_missing(v))
            c->texts[j] = "";
        else if (v->type == SVY_VAL_STR)
            c->texts[j] = (char *)v->str;
        else if (j < 64) {
            svy_dtoa(v->num, nums[j]);
            c->texts[j] = nums[j];
        } else
            return svy_err_set(err, SVY_E_LIMIT, c->path, 0, 0, NULL, "more than 64 numeric margin variables");
    }
    double total = NAN;
    const svy_value *tv = &row->vals[c->nvars];
    long long line = row->index + 1; /* the header is line 1 */
    if (!svy_value_is_missing(tv) && !svy_value_number(tv, &total) &&
        !(tv->type == SVY_VAL_STR && tv->len == 0))
        return svy_err_set(err, SVY_E_DATA, c->path, 0, 0, "total", "line %lld: total '%s' is not a number",
                           line, tv->str);
    return svy_weight_add_margin_level(c->w, c->index, (const char *const *)c->texts, total, line, err);
}

svy_status svy_weight_load_margin(svy_weight *w, const char *path, svy_err *err)
{
    svy_status st = too_late(w, err);
    if (st)
        return st;
    svy_reader *r = svy_reader_new();
    if (!r)
        return nomem(err);
    margin_ctx c = {.w = w, .path = path};
    svy_handler h = {margin_schema, margin_row};
    st = svy_reader_open(r, path, err);
    if (!st)
        st = svy_reader_run(r, &h, &c, err);
    if (!st && (!c.texts || w->margins[c.index].nlines == 0))
        st = svy_err_set(err, SVY_E_DATA, path, 0, 0, NULL, "margin file has no levels");
    free(c.texts);
    svy_reader_free(r);
    return st;
}

/* ---- first pass ----------------------------------------------------------- */

static double norm_zero(double d)
{
    return d == 0 ? 0.0 : d; /* -0 and 0 are one category */
}

static int map_set(intern *it, uint32_t **cats, size_t *cap, const void *key, size_t len, uint32_t cat,
                   uint32_t *have)
{
    int added;
    long e = intern_add(it, key, len, &added);
    if (e < 0)
        return -1;
    if (added) {
        if (!svy_grow((void **)cats, cap, (size_t)e + 1, sizeof **cats))
            return -1;
        (*cats)[e] = cat;
        *have = cat;
        return 1;
    }
    *have = (*cats)[e];
    return 0;
}

static long map_get(const intern *it, const uint32_t *cats, const void *key, size_t len)
{
    long e = intern_find(it, key, len);
    return e < 0 ? -1 : (long)cats[e];
}

/* Category of a margin level text, creating one for a new level. */
static svy_status resolve_level(svy_weight *w, mvar *v, const svy_var *sv, const char *text, uint32_t *cat,
                                svy_err *err)
{
    size_t len = strlen(text);
    double num, code;
    int isnum = svy_parse_number(text, len, &num);
    int iscode = sv && svy_var_code_for(sv, text, &code);
    long c = map_get(&v->bytext, v->textcat, text, len);
    if (c < 0 && isnum) {
        num = norm_zero(num);
        c = map_get(&v->bynum, v->numcat, &num, sizeof num);
    }
    if (c < 0 && iscode) {
        code = norm_zero(code);
        c = map_get(&v->bynum, v->numcat, &code, sizeof code);
    }
    if (c < 0) {
        c = (long)v->ncat++;
        SVY_FAIL_IF(v->ncat > UINT32_MAX / 2, err, SVY_E_LIMIT, "too many levels of %s", v->name);
    }
    uint32_t have;
    if (map_set(&v->bytext, &v->textcat, &v->textcap, text, len, (uint32_t)c, &have) < 0)
        return nomem(err);
    if (isnum && map_set(&v->bynum, &v->numcat, &v->numcap, &num, sizeof num, (uint32_t)c, &have) < 0)
        return nomem(err);
    if (iscode && map_set(&v->bynum, &v->numcat, &v->numcap, &code, sizeof code, (uint32_t)c, &have) < 0)
        return nomem(err);
    *cat = (uint32_t)c;
    (void)w;
    return SVY_OK;
}

static svy_status find_col(const svy_weight *w, const char *name, const char *what, long *idx, svy_err *err)
{
    *idx = svy_schema_find(w->schema, name);
    if (*idx < 0)
        return svy_err_set(err, SVY_E_USAGE, w->source, 0, 0, name, "no column %s (%s) in the data", name, what);
    return SVY_OK;
}

svy_status svy_weight_begin(svy_weight *w, const svy_schema *schema, const char *source, svy_err *err)
{
    SVY_FAIL_IF(w->begun, err, SVY_E_USAGE, "the first pass has already begun");
    w->begun = 1;
    w->nvars = svy_schema_nvars(schema);
    if (!(w->schema = svy_schema_clone(schema)) || !(w->source = svy_strdup(source ? source : "<data>")))
        return nomem(err);
    svy_status st;
    if (w->start_col && (st = find_col(w, w->start_col, w->start_prob ? "inclusion probability" : "weight",
                                       &w->start_idx, err)))
        return st;
    if (w->resp_col) {
        if ((st = find_col(w, w->resp_col, "respondent flag", &w->resp_idx, err)))
            return st;
        if (!(w->nr_idx = svy_calloc(w->n_nr ? w->n_nr : 1, sizeof *w->nr_idx)))
            return nomem(err);
        for (size_t i = 0; i < w->n_nr; i++)
            if ((st = find_col(w, w->nr_cols[i], "nonresponse cell", &w->nr_idx[i], err)))
                return st;
    }
    for (size_t i = 0; i < w->nmvars; i++)
        if ((st = find_col(w, w->mvars[i].name, "margin variable", &w->mvars[i].col, err))) {
            err->file[0] = '\0';
            snprintf(err->msg, sizeof err->msg, "margin %s: no column %s in %s",
                     w->margins[w->mvars[i].first_margin].name, w->mvars[i].name, w->source);
            return st;
        }
    /* Categories are the union of every margin's levels, so that a variable
     * in two margins (stype, and stype x sch.wide) is one set of cells. */
    size_t maxv = 0;
    for (size_t mi = 0; mi < w->nmargins; mi++)
        if (w->margins[mi].nvars > maxv)
            maxv = w->margins[mi].nvars;
    uint32_t *tuple = svy_calloc(maxv ? maxv : 1, sizeof *tuple);
    if (!tuple)
        return nomem(err);
    for (size_t mi = 0; mi < w->nmargins; mi++) {
        margin *m = &w->margins[mi];
        if (!m->nlines) {
            free(tuple);
            return svy_err_set(err, SVY_E_DATA, m->name, 0, 0, NULL, "margin has no levels");
        }
        for (size_t l = 0; l < m->nlines; l++) {
            for (size_t j = 0; j < m->nvars; j++) {
                mvar *v = &w->mvars[m->var[j]];
                const svy_var *sv = svy_schema_var(w->schema, (size_t)v->col);
                if ((st = resolve_level(w, v, sv, m->levels[l * m->nvars + j], &tuple[j], err))) {
                    free(tuple);
                    return st;
                }
            }
            int added;
            long e = intern_add(&m->lines, tuple, m->nvars * sizeof *tuple, &added);
            if (e < 0) {
                free(tuple);
                return nomem(err);
            }
            if (!added) {
                free(tuple);
                char lev[300];
                describe_line(w, m, l, lev, sizeof lev);
                return svy_err_set(err, SVY_E_DATA, m->name, 0, 0, NULL,
                                   "line %lld: %s: the same level as line %lld", m->lineno[l], lev,
                                   m->lineno[(size_t)e]);
            }
        }
    }
    free(tuple);
    /* Grand totals must agree or raking cannot converge; checked here so the
     * error comes before reading any data. */
    for (size_t mi = 1; mi < w->nmargins; mi++) {
        long double g0 = w->margins[0].grand, g = w->margins[mi].grand;
        if (fabsl(g - g0) > (long double)w->tol * g0)
            return svy_err_set(err, SVY_E_DATA, w->margins[mi].name, 0, 0, NULL,
                               "totals sum to %.17g but %s sums to %.17g: margins must describe one population",
                               (double)g, w->margins[0].name, (double)g0);
    }
    uint64_t stride = 1;
    for (size_t i = 0; i < w->nmvars; i++) {
        w->mvars[i].stride = stride;
        if (w->mvars[i].ncat && stride > (UINT64_MAX >> 2) / w->mvars[i].ncat)
            return svy_err_set(err, SVY_E_LIMIT, NULL, 0, 0, NULL, "margins cross too many levels");
        stride *= w->mvars[i].ncat ? w->mvars[i].ncat : 1;
    }
    if (stride <= ((uint64_t)1 << 20)) {
        w->ncells_dense = stride;
        if (!(w->cell_cache = svy_calloc((size_t)stride, sizeof *w->cell_cache)))
            return nomem(err);
    }
    return SVY_OK;
}

static svy_status row_err(const svy_weight *w, const svy_row *row, long col, svy_err *err, const char *msg)
{
    const char *name = col >= 0 ? svy_var_name(svy_schema_var(w->schema, (size_t)col)) : NULL;
    return svy_err_set(err, SVY_E_DATA, w->source, row->index, col >= 0 ? col + 1 : 0, name, "%s", msg);
}

/* Category of a data value, or -1 when no margin level matches it. */
static long value_cat_slow(const mvar *v, const svy_var *sv, const svy_value *val)
{
    long c;
    double d;
    if (val->type == SVY_VAL_NUM) {
        d = norm_zero(val->num);
        if ((c = map_get(&v->bynum, v->numcat, &d, sizeof d)) >= 0)
            return c;
    } else {
        if ((c = map_get(&v->bytext, v->textcat, val->str, val->len)) >= 0)
            return c;
        if (svy_parse_number(val->str, val->len, &d)) {
            d = norm_zero(d);
            if ((c = map_get(&v->bynum, v->numcat, &d, sizeof d)) >= 0)
                return c;
        }
    }
    const char *lab = svy_var_label_for(sv, val);
    if (lab)
        return map_get(&v->bytext, v->textcat, lab, strlen(lab));
    return -1;
}

/* The same through the cache of short texts (the usual codes), which
 * keeps only what the slow path found: a function of the text alone. */
static long value_cat(mvar *v, const svy_schema *schema, const svy_value *val)
{
    if (val->type != SVY_VAL_STR || val->len > 7)
        return value_cat_slow(v, svy_schema_var(schema, (size_t)v->col), val);
    uint64_t key = svy_short_key(val->str, val->len);
    struct vcache *ent = &v->vcache[(key * 0x9e3779b97f4a7c15ull) >> 58];
    if (ent->key == key)
        return ent->cat;
    long c = value_cat_slow(v, svy_schema_var(schema, (size_t)v->col), val);
    if (c >= 0) {
        ent->key = key;
        ent->cat = (uint32_t)c;
    }
    return c;
}

static void value_text(const svy_value *v, char *buf, size_t size)
{
    if (v->type == SVY_VAL_STR)
        snprintf(buf, size, "%.*s", (int)(v->len < 200 ? v->len : 200), v->str);
    else {
        char d[SVY_DTOA_MAX];
        svy_dtoa(v->num, d);
        snprintf(buf, size, "%s", d);
    }
}

/* Key bytes of a nonresponse-cell value: numbers by value, so "1" and "1.0"
 * are one class. */
static int put_nr_value(svy_weight *w, size_t *off, const svy_value *v)
{
    double d;
    size_t need = *off + 1 + (v->type == SVY_VAL_STR ? 4 + v->len : 8);
    if (!svy_grow((void **)&w->keybuf, &w->keycap, need + 8, 1))
        return 0;
    if (svy_value_number(v, &d)) {
        d = norm_zero(d);
        w->keybuf[(*off)++] = 'N';
        memcpy(w->keybuf + *off, &d, 8);
        *off += 8;
    } else {
        uint32_t len = (uint32_t)v->len;
        w->keybuf[(*off)++] = 'S';
        memcpy(w->keybuf + *off, &len, 4);
        memcpy(w->keybuf + *off + 4, v->str, v->len);
        *off += 4 + v->len;
    }
    return 1;
}

/* File a row: fills the unit key; nr cell added when create. */
static svy_status row_key(svy_weight *w, const svy_row *row, int create, unsigned char key[UNIT_KEY_LEN],
                          svy_err *err)
{
    SVY_FAIL_IF(row->nvals != w->nvars, err, SVY_E_DATA, "row %lld has %zu values, expected %zu", row->index,
                row->nvals, w->nvars);
    double w0 = 1;
    char buf[260], msg[400];
    if (w->start_idx >= 0) {
        const svy_value *v = &row->vals[w->start_idx];
        if (svy_value_is_missing(v))
            return row_err(w, row, w->start_idx, err,
                           w->start_prob ? "missing inclusion probability" : "missing weight");
        double d;
        if (!(v->type == SVY_VAL_STR && svy_number_fast(v->str, v->len, &d)) && !svy_value_number(v, &d)) {
            value_text(v, buf, sizeof buf);
            snprintf(msg, sizeof msg, "'%s' is not a number", buf);
            return row_err(w, row, w->start_idx, err, msg);
        }
        if (w->start_prob) {
            if (!(d > 0 && d <= 1)) {
                value_text(v, buf, sizeof buf);
                snprintf(msg, sizeof msg, "inclusion probability %s is not in (0, 1]", buf);
                return row_err(w, row, w->start_idx, err, msg);
            }
            w0 = 1 / d;
        } else {
            if (!(d > 0) || !isfinite(d)) {
                value_text(v, buf, sizeof buf);
                snprintf(msg, sizeof msg, "weight %s is not a positive number", buf);
                return row_err(w, row, w->start_idx, err, msg);
            }
            w0 = d;
        }
    }
    unsigned char resp = 1;
    uint32_t nr = 0;
    if (w->resp_idx >= 0) {
        const svy_value *v = &row->vals[w->resp_idx];
        double d;
        if (svy_value_is_missing(v) || !svy_value_number(v, &d) || (d != 0 && d != 1)) {
            if (svy_value_is_missing(v))
                snprintf(buf, sizeof buf, "missing value");
            else
                value_text(v, buf, sizeof buf);
            snprintf(msg, sizeof msg, "respondent flag '%s' is not 1 or 0", buf);
            return row_err(w, row, w->resp_idx, err, msg);
        }
        resp = d == 1;
        size_t off = 0;
        for (size_t i = 0; i < w->n_nr; i++) {
            const svy_value *cv = &row->vals[w->nr_idx[i]];
            if (svy_value_is_missing(cv))
                return row_err(w, row, w->nr_idx[i], err, "missing value in a nonresponse cell variable");
            if (!put_nr_value(w, &off, cv))
                return nomem(err);
        }
        long e;
        if (create) {
            int added;
            e = intern_add(&w->nrcells, w->keybuf ? w->keybuf : "", off, &added);
            if (e < 0)
                return nomem(err);
            if (added) {
                if (!svy_grow((void **)&w->nr_first, &w->nr_firstcap, (size_t)e + 1, sizeof *w->nr_first))
                    return nomem(err);
                w->nr_first[e] = row->index;
            }
        } else {
            e = intern_find(&w->nrcells, w->keybuf ? w->keybuf : "", off);
            SVY_FAIL_IF(e < 0, err, SVY_E_DATA, "row %lld: the data changed between passes", row->index);
        }
        nr = (uint32_t)e;
    }
    uint64_t vcell = 0;
    if (resp) {
        for (size_t i = 0; i < w->nmvars; i++) {
            mvar *v = &w->mvars[i];
            const svy_value *val = &row->vals[v->col];
            if (svy_value_is_missing(val)) {
                snprintf(msg, sizeof msg, "missing value in margin variable %.200s", v->name);
                return row_err(w, row, v->col, err, msg);
            }
            long c = value_cat(v, w->schema, val);
            if (c < 0) {
                value_text(val, buf, sizeof buf);
                return svy_err_set(err, SVY_E_DATA, w->source, row->index, v->col + 1, v->name,
                                   "respondent at %s=%s, a level margin %s lacks", v->name, buf,
                                   w->margins[v->first_margin].name);
            }
            vcell += (uint64_t)c * v->stride;
        }
    } else {
        vcell = UINT64_MAX; /* nonrespondents take part in no margin */
    }
    memcpy(key, &vcell, 8);
    memcpy(key + 8, &w0, 8);
    memcpy(key + 16, &nr, 4);
    key[20] = resp;
    return SVY_OK;
}

/* The unit of a key through the per-cell cache, or -1. */
static long cached_unit(const svy_weight *w, const unsigned char *key)
{
    uint64_t vcell;
    memcpy(&vcell, key, 8);
    if (vcell >= w->ncells_dense)
        return -1;
    uint32_t c = w->cell_cache[vcell];
    if (!c)
        return -1;
    const unit *u = &w->units[c - 1];
    if (memcmp(&u->w0, key + 8, 8) != 0 || memcmp(&u->nr, key + 16, 4) != 0 || u->resp != key[20])
        return -1;
    return (long)c - 1;
}

static void remember_unit(svy_weight *w, const unsigned char *key, long e)
{
    uint64_t vcell;
    memcpy(&vcell, key, 8);
    if (vcell < w->ncells_dense)
        w->cell_cache[vcell] = (uint32_t)e + 1;
}

svy_status svy_weight_add_row(svy_weight *w, const svy_row *row, svy_err *err)
{
    SVY_FAIL_IF(!w->begun || w->fitted, err, SVY_E_USAGE, "rows must come between begin and fit");
    unsigned char key[UNIT_KEY_LEN];
    svy_status st = row_key(w, row, 1, key, err);
    if (st)
        return st;
    int added = 0;
    long e = cached_unit(w, key);
    if (e < 0) {
        e = intern_add(&w->units_ix, key, UNIT_KEY_LEN, &added);
        if (e < 0)
            return nomem(err);
    }
    if (added) {
        if (!svy_grow((void **)&w->units, &w->unitcap, (size_t)e + 1, sizeof *w->units))
            return nomem(err);
        unit *u = &w->units[e];
        memset(u, 0, sizeof *u);
        memcpy(&u->vcell, key, 8);
        memcpy(&u->w0, key + 8, 8);
        memcpy(&u->nr, key + 16, 4);
        u->resp = key[20];
        u->first_row = row->index;
    }
    remember_unit(w, key, e);
    w->units[e].n++;
    w->rep.rows++;
    return SVY_OK;
}

/* ---- fit ------------------------------------------------------------------ */

static void describe_nr(const svy_weight *w, size_t cell, char *buf, size_t size)
{
    size_t len;
    const char *k = intern_key(&w->nrcells, cell, &len);
    size_t off = 0, p = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < w->n_nr && p < len && off + 1 < size; i++) {
        char val[220];
        if (k[p] == 'N') {
            double d;
            memcpy(&d, k + p + 1, 8);
            svy_dtoa(d, val);
            p += 9;
        } else {
            uint32_t l;
            memcpy(&l, k + p + 1, 4);
            snprintf(val, sizeof val, "%.*s", (int)(l < 200 ? l : 200), k + p + 5);
            p += 5 + l;
        }
        int n = snprintf(buf + off, size - off, "%s%s=%s", i ? ", " : "", w->nr_cols[i], val);
        if (n < 0)
            break;
        off += (size_t)n < size - off ? (size_t)n : size - off - 1;
    }
    if (!w->n_nr)
        snprintf(buf, size, "all rows");
}

static svy_status nonresponse(svy_weight *w, svy_err *err)
{
    size_t nc = w->nrcells.n;
    long double *all = svy_calloc(nc ? nc : 1, sizeof *all);
    long double *resp = svy_calloc(nc ? nc : 1, sizeof *resp);
    if (!all || !resp) {
        free(all);
        free(resp);
        return nomem(err);
    }
    size_t nu = w->units_ix.n;
    for (size_t u = 0; u < nu; u++) {
        const unit *x = &w->units[u];
        all[x->nr] += (long double)x->n * x->w0;
        if (x->resp)
            resp[x->nr] += (long double)x->n * x->w0;
    }
    for (size_t c = 0; c < nc; c++)
        if (resp[c] == 0) {
            char d[400];
            describe_nr(w, c, d, sizeof d);
            free(all);
            free(resp);
            return svy_err_set(err, SVY_E_DATA, w->source, w->nr_first[c], 0, NULL,
                               "nonresponse cell %s has no respondents to carry its weight", d);
        }
    for (size_t u = 0; u < nu; u++) {
        unit *x = &w->units[u];
        if (x->resp)
            x->w = (double)((long double)x->w0 * (all[x->nr] / resp[x->nr]));
        else
            x->w = 0;
    }
    free(all);
    free(resp);
    return SVY_OK;
}

/* Map every respondent unit to its line in each margin; the checks that
 * must precede any iteration live here. */
static svy_status check_margins(svy_weight *w, svy_err *err)
{
    size_t nr = w->nresp_units;
    size_t maxv = 1;
    for (size_t mi = 0; mi < w->nmargins; mi++)
        if (w->margins[mi].nvars > maxv)
            maxv = w->margins[mi].nvars;
    uint32_t *tuple = svy_calloc(maxv, sizeof *tuple);
    if (!tuple)
        return nomem(err);
    for (size_t mi = 0; mi < w->nmargins; mi++) {
        margin *m = &w->margins[mi];
        if (!(m->line_of = svy_calloc(nr ? nr : 1, sizeof *m->line_of))) {
            free(tuple);
            return nomem(err);
        }
        long long *count = svy_calloc(m->nlines, sizeof *count);
        if (!count) {
            free(tuple);
            return nomem(err);
        }
        for (size_t k = 0; k < nr; k++) {
            const unit *x = &w->units[w->resp_units[k]];
            for (size_t j = 0; j < m->nvars; j++) {
                const mvar *v = &w->mvars[m->var[j]];
                tuple[j] = (uint32_t)((x->vcell / v->stride) % (v->ncat ? v->ncat : 1));
            }
            long l = intern_find(&m->lines, tuple, m->nvars * sizeof *tuple);
            if (l < 0) {
                /* Name the combination by the levels of some line sharing
                 * each category: every category came from some margin line. */
                char lev[400];
                size_t off = 0;
                lev[0] = '\0';
                for (size_t j = 0; j < m->nvars; j++) {
                    const mvar *v = &w->mvars[m->var[j]];
                    const char *t = "?";
                    for (size_t e = 0; e < v->bytext.n; e++)
                        if (v->textcat[e] == tuple[j]) {
                            t = intern_key(&v->bytext, e, NULL);
                            break;
                        }
                    int n = snprintf(lev + off, sizeof lev - off, "%s%s=%s", j ? ", " : "", v->name, t);
                    if (n > 0)
                        off += (size_t)n < sizeof lev - off ? (size_t)n : sizeof lev - off - 1;
                }
                free(tuple);
                free(count);
                return svy_err_set(err, SVY_E_DATA, m->name, 0, 0, NULL,
                                   "no line for %s, a level respondents have (first at %s row %lld)", lev,
                                   w->source, x->first_row);
            }
            m->line_of[k] = (int)l;
            count[l] += x->n;
        }
        for (size_t l = 0; l < m->nlines; l++)
            if (!count[l]) {
                free(tuple);
                free(count);
                return line_err(w, m, l, err, "no respondent has this level");
            }
        free(count);
    }
    free(tuple);
    return SVY_OK;
}

/* Weighted totals of margin m's lines into w->acc. */
static void margin_sums(svy_weight *w, const margin *m)
{
    for (size_t l = 0; l < m->nlines; l++)
        w->acc[l] = 0;
    for (size_t k = 0; k < w->nresp_units; k++) {
        const unit *x = &w->units[w->resp_units[k]];
        w->acc[m->line_of[k]] += (long double)x->n * x->w;
    }
}

static double max_gap(svy_weight *w, size_t *worst_m, size_t *worst_l)
{
    double gap = 0;
    for (size_t mi = 0; mi < w->nmargins; mi++) {
        const margin *m = &w->margins[mi];
        margin_sums(w, m);
        for (size_t l = 0; l < m->nlines; l++) {
            double g = (double)(fabsl(w->acc[l] - m->total[l]) / m->total[l]);
            if (g > gap || isnan(g)) {
                gap = g;
                if (worst_m)
                    *worst_m = mi;
                if (worst_l)
                    *worst_l = l;
            }
        }
    }
    return gap;
}

/* Iterative proportional fitting, one margin after another as R's rake()
 * does; stops when the targets hold, not when the weights stop moving. */
static svy_status rake(svy_weight *w, svy_err *err)
{
    if (!w->nmargins)
        return SVY_OK;
    int it = 0;
    for (;;) {
        for (size_t mi = 0; mi < w->nmargins; mi++) {
            const margin *m = &w->margins[mi];
            margin_sums(w, m);
            for (size_t l = 0; l < m->nlines; l++)
                w->acc[l] = (long double)m->total[l] / w->acc[l];
            for (size_t k = 0; k < w->nresp_units; k++) {
                unit *x = &w->units[w->resp_units[k]];
                x->w = (double)(x->w * w->acc[m->line_of[k]]);
            }
        }
        it++;
        w->rep.iterations++;
        size_t wm = 0, wl = 0;
        double gap = max_gap(w, &wm, &wl);
        w->rep.max_gap = gap;
        if (gap <= w->tol)
            return SVY_OK;
        if (it >= w->max_iter) {
            const margin *m = &w->margins[wm];
            char lev[300];
            describe_line(w, m, wl, lev, sizeof lev);
            margin_sums(w, m);
            return svy_err_set(err, SVY_E_DATA, m->name, 0, 0, NULL,
                               "raking did not converge in %d iterations: largest relative gap %.3g "
                               "(tolerance %g) at line %lld, %s: weighted %.17g, total %.17g",
                               it, gap, w->tol, m->lineno[wl], lev, (double)w->acc[wl], m->total[wl]);
        }
    }
}

static double clip(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static int within(const svy_weight *w, double lo, double hi, double *worst);

/* R's trimWeights() step: clip, and spread what was clipped evenly over the
 * rows inside the bounds.  Repeated, as strict = TRUE does, until every
 * weight is within the bounds to the tolerance: R's own recursion goes on
 * until none is outside at all, which can ping-pong forever on the last bit
 * of a weight sitting on a bound. */
static svy_status trim_strict(svy_weight *w, double lo, double hi, svy_err *err)
{
    for (int pass = 0;; pass++) {
        double worst;
        if (within(w, lo, hi, &worst))
            return SVY_OK;
        long double cut = 0;
        long long inside = 0;
        for (size_t k = 0; k < w->nresp_units; k++) {
            const unit *x = &w->units[w->resp_units[k]];
            if (x->w < lo || x->w > hi)
                cut += (long double)x->n * (x->w - clip(x->w, lo, hi));
            else
                inside += x->n;
        }
        SVY_FAIL_IF(!inside, err, SVY_E_DATA,
                    "trimming to [%g, %g] leaves no weight inside the bounds to take up the rest", lo, hi);
        SVY_FAIL_IF(pass >= 100000, err, SVY_E_DATA, "trimming to [%g, %g] does not settle", lo, hi);
        double add = (double)cut / (double)inside;
        for (size_t k = 0; k < w->nresp_units; k++) {
            unit *x = &w->units[w->resp_units[k]];
            if (x->w < lo || x->w > hi) {
                x->w = clip(x->w, lo, hi);
                x->clipped = 1;
            } else
                x->w += add;
        }
    }
}

static int within(const svy_weight *w, double lo, double hi, double *worst)
{
    int ok = 1;
    *worst = NAN;
    double slack = w->tol;
    for (size_t k = 0; k < w->nresp_units; k++) {
        double x = w->units[w->resp_units[k]].w;
        if (x > hi * (1 + slack) || x < lo * (1 - slack)) {
            if (ok || fabs(x - clip(x, lo, hi)) > fabs(*worst - clip(*worst, lo, hi)))
                *worst = x;
            ok = 0;
        }
    }
    return ok;
}

static svy_status trim(svy_weight *w, svy_err *err)
{
    long double sw = 0;
    long long n = 0;
    for (size_t k = 0; k < w->nresp_units; k++) {
        const unit *x = &w->units[w->resp_units[k]];
        sw += (long double)x->n * x->w;
        n += x->n;
    }
    double mean = (double)(sw / n);
    double lo = w->trim_lo_rel ? w->trim_lo * mean : w->trim_lo;
    double hi = w->trim_hi_rel ? w->trim_hi * mean : w->trim_hi;
    w->rep.trim_lo = lo;
    w->rep.trim_hi = hi;
    /* Trimming keeps the total, so the mean weight can never leave [lo, hi]. */
    SVY_FAIL_IF(lo >= hi, err, SVY_E_USAGE, "trimming bounds [%g, %g] are empty (mean weight %g)", lo, hi, mean);
    SVY_FAIL_IF(mean > hi, err, SVY_E_DATA,
                "cannot trim to an upper bound %g below the mean weight %g: the total would not hold", hi, mean);
    SVY_FAIL_IF(mean < lo, err, SVY_E_DATA,
                "cannot trim to a lower bound %g above the mean weight %g: the total would not hold", lo, mean);
    for (int round = 0;; round++) {
        double worst;
        if (within(w, lo, hi, &worst))
            return SVY_OK;
        if (round >= w->max_iter) {
            return svy_err_set(err, SVY_E_DATA, NULL, 0, 0, NULL,
                               "trimming to [%.10g, %.10g] and raking to the margins cannot both hold: after %d "
                               "rounds a weight of %.10g is still outside (largest relative margin gap %.3g)",
                               lo, hi, round, worst, w->rep.max_gap);
        }
        svy_status st = trim_strict(w, lo, hi, err);
        if (st)
            return st;
        w->rep.trim_rounds++;
        if ((st = rake(w, err))) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "after trimming to [%.10g, %.10g]: %.440s", lo, hi, err->msg);
            memcpy(err->msg, msg, sizeof msg);
            return st;
        }
    }
}

static const unit *sort_units; /* qsort has no context argument */

static int cmp_unit_w(const void *a, const void *b)
{
    double x = sort_units[*(const size_t *)a].w, y = sort_units[*(const size_t *)b].w;
    return (x > y) - (x < y);
}

static void summarize(svy_weight *w)
{
    svy_weight_report *r = &w->rep;
    long double s = 0, s2 = 0;
    long long n = 0;
    r->min = INFINITY;
    r->max = -INFINITY;
    for (size_t k = 0; k < w->nresp_units; k++) {
        const unit *x = &w->units[w->resp_units[k]];
        s += (long double)x->n * x->w;
        s2 += (long double)x->n * x->w * x->w;
        n += x->n;
        if (x->w < r->min)
            r->min = x->w;
        if (x->w > r->max)
            r->max = x->w;
        if (x->clipped)
            r->trimmed += x->n;
    }
    r->respondents = n;
    r->nonrespondents = r->rows - n;
    r->cells = w->units_ix.n;
    r->nr_cells = w->resp_idx >= 0 ? w->nrcells.n : 0;
    r->total = (double)s;
    r->mean = (double)(s / n);
    long double var = s2 / n - (s / n) * (s / n);
    r->cv = var > 0 ? (double)(sqrtl(var) / (s / n)) : 0;
    r->deff_kish = (double)(n * s2 / (s * s));
    /* Median over rows from the cells and their counts (R's median: the
     * mean of the two middle rows when there are an even number). */
    sort_units = w->units;
    qsort(w->resp_units, w->nresp_units, sizeof *w->resp_units, cmp_unit_w);
    long long lo_rank = (n + 1) / 2, hi_rank = n / 2 + 1; /* 1-based */
    double lo_v = NAN, hi_v = NAN;
    long long cum = 0;
    for (size_t k = 0; k < w->nresp_units; k++) {
        const unit *x = &w->units[w->resp_units[k]];
        if (cum < lo_rank && cum + x->n >= lo_rank)
            lo_v = x->w;
        if (cum < hi_rank && cum + x->n >= hi_rank)
            hi_v = x->w;
        cum += x->n;
    }
    r->median = n % 2 ? lo_v : (lo_v + hi_v) / 2;
}

svy_status svy_weight_fit(svy_weight *w, svy_err *err)
{
    SVY_FAIL_IF(!w->begun || w->fitted, err, SVY_E_USAGE, "fit needs one first pass");
    w->fitted = 1;
    SVY_FAIL_IF(w->rep.rows == 0, err, SVY_E_DATA, "%s has no rows to weight", w->source);
    size_t nu = w->units_ix.n;
    if (!(w->resp_units = svy_calloc(nu, sizeof *w->resp_units)))
        return nomem(err);
    for (size_t u = 0; u < nu; u++) {
        w->units[u].w = w->units[u].w0;
        if (w->units[u].resp)
            w->resp_units[w->nresp_units++] = u;
    }
    size_t maxl = 1;
    for (size_t mi = 0; mi < w->nmargins; mi++)
        if (w->margins[mi].nlines > maxl)
            maxl = w->margins[mi].nlines;
    if (!(w->acc = svy_calloc(maxl, sizeof *w->acc)))
        return nomem(err);
    svy_status st;
    if (w->nmargins && (st = check_margins(w, err)))
        return st;
    if (w->resp_idx >= 0 && (st = nonresponse(w, err)))
        return st;
    if ((st = rake(w, err)))
        return st;
    if (w->trim_on && (st = trim(w, err)))
        return st;
    w->rep.max_gap = w->nmargins ? max_gap(w, NULL, NULL) : 0;
    summarize(w);
    return SVY_OK;
}

svy_status svy_weight_lookup_cell(const svy_weight *w, const svy_row *row, double *weight, size_t *cell,
                                  svy_err *err)
{
    SVY_FAIL_IF(!w->fitted, err, SVY_E_USAGE, "lookup before fit");
    unsigned char key[UNIT_KEY_LEN];
    /* row_key only reuses the scratch key buffer and fills the level caches
     * (results of the text alone): no visible state changes. */
    svy_status st = row_key((svy_weight *)w, row, 0, key, err);
    if (st)
        return st;
    long e = cached_unit(w, key);
    if (e < 0) {
        e = intern_find(&w->units_ix, key, UNIT_KEY_LEN);
        SVY_FAIL_IF(e < 0, err, SVY_E_DATA, "row %lld: the data changed between the two passes", row->index);
        /* The cache is not part of the observable state. */
        remember_unit((svy_weight *)w, key, e);
    }
    *weight = w->units[e].w;
    if (cell)
        *cell = (size_t)e;
    return SVY_OK;
}

svy_status svy_weight_lookup(const svy_weight *w, const svy_row *row, double *weight, svy_err *err)
{
    return svy_weight_lookup_cell(w, row, weight, NULL, err);
}

const svy_weight_report *svy_weight_get_report(const svy_weight *w)
{
    return &w->rep;
}
