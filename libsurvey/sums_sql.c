/* One SQL query computing a sums file (see survey/sums.h) for SQLite,
 * PostgreSQL, ClickHouse and Spark SQL: an inner SELECT turns each row
 * into its keys, weight and outcome values (missing = NULL, as an empty
 * field is in a file), the outer one sums them per group. */
#include "svy_private.h"
#include "estimate_private.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/sums.h>

#include "subpop_private.h"
#include "sums_private.h"

typedef struct q {
    FILE *f;
    svy_sql_dialect d;
    const char *table;
    int sub; /* --subpop: _s (1 in the subpopulation) is a key and gates every field */
    int with; /* ClickHouse without --subpop: row values as WITH aliases (ch_head) */
} q;

static void ident(const q *Q, const char *s)
{
    svy_sql_ident(Q->f, Q->d, s);
}

static void cast(const q *Q, const char *col)
{
    svy_sql_double(Q->f, Q->d, col);
}

static const char *txt(const q *Q)
{
    static const char *const t[] = {"TEXT", "TEXT", "Nullable(String)", "STRING"};
    return t[Q->d];
}

static svy_status literal(const q *Q, const char *s, svy_err *err)
{
    SVY_FAIL_IF(Q->d == SVY_SQL_SPARK && (strchr(s, '\'') || strchr(s, '\\')), err, SVY_E_USAGE,
                "--sql spark: the value '%s' holds a quote or backslash, which Spark SQL escapes its own way", s);
    putc('\'', Q->f);
    for (; *s; s++) {
        if (*s == '\'')
            putc('\'', Q->f);
        putc(*s, Q->f);
    }
    putc('\'', Q->f);
    return SVY_OK;
}

/* ClickHouse's WITH form: a rate's value in the column's own type, 0/1
 * (UInt8) for COL=VALUE, NULL where the column is: a registry's flags are
 * small integers, which w * y and the 0/1 test take as they are, where
 * toFloat64 converted every row (bench/RESULTS.md).  Exact: a row counts
 * only when its value is 0 or 1 (else the reading fails), and a number
 * equals a code in ClickHouse exactly when its double does in a row run. */
static svy_status ch_rate_value(const q *Q, const outcome *oc, const svy_sql_level *lv, svy_err *err)
{
    if (!oc->value) {
        ident(Q, oc->column);
        return SVY_OK;
    }
    if (lv && lv->is_num) {
        char b[SVY_DTOA_MAX];
        svy_dtoa(lv->num, b);
        putc('(', Q->f);
        ident(Q, oc->column);
        fprintf(Q->f, " = %s)", b);
        return SVY_OK;
    }
    fputs("(CAST(", Q->f);
    ident(Q, oc->column);
    fprintf(Q->f, " AS %s) = ", txt(Q));
    svy_status st = literal(Q, oc->value, err);
    putc(')', Q->f);
    return st;
}

/* Outcome o's values in the inner SELECT: _vK (1 valid), _yK, _xK, _cK. */
static svy_status inner_outcome(const q *Q, const outcome *oc, size_t k, const svy_sql_level *lv, int rows,
                                svy_err *err)
{
    FILE *f = Q->f;
    if (Q->with) { /* a UInt8, the constant 1 for a column that cannot be NULL */
        fputs(",\n    isNotNull(", f);
        ident(Q, oc->column);
        if (oc->den) {
            fputs(") AND isNotNull(", f);
            ident(Q, oc->den);
        }
        fprintf(f, ") AS _v%zu", k);
    } else {
        fputs(",\n    CASE WHEN ", f);
        ident(Q, oc->column);
        if (oc->den) {
            fputs(" IS NOT NULL AND ", f);
            ident(Q, oc->den);
        }
        fprintf(f, " IS NOT NULL THEN 1 ELSE 0 END AS _v%zu", k);
    }
    if (svy_sums_open(oc) && Q->with) /* the column itself is the key (ch_head) */
        return SVY_OK;
    fputs(",\n    ", f);
    if (svy_sums_open(oc)) { /* the value itself, a key: SQLite's shell would print a REAL to 15 digits */
        if (Q->d == SVY_SQL_SQLITE) {
            fputs("CASE WHEN typeof(", f);
            ident(Q, oc->column);
            fputs(") = 'real' THEN printf('%!.17g', ", f);
            ident(Q, oc->column);
            fputs(") ELSE ", f);
            ident(Q, oc->column);
            fputs(" END", f);
        } else {
            ident(Q, oc->column);
        }
        fprintf(f, " AS _l%zu", k);
        return SVY_OK;
    }
    if (oc->stat == SVY_STAT_RATE && Q->with) {
        svy_status st = ch_rate_value(Q, oc, lv, err);
        if (st != SVY_OK)
            return st;
    } else if (oc->stat == SVY_STAT_RATE && oc->value) {
        fputs("CASE WHEN ", f);
        if (lv && lv->is_num) {
            char b[SVY_DTOA_MAX];
            svy_dtoa(lv->num, b);
            cast(Q, oc->column);
            fprintf(f, " = %s", b);
        } else {
            svy_status st;
            fputs("CAST(", f);
            ident(Q, oc->column);
            fprintf(f, " AS %s) = ", txt(Q));
            if ((st = literal(Q, oc->value, err)) != SVY_OK)
                return st;
        }
        fputs(" THEN 1.0 ELSE 0.0 END", f);
    } else {
        cast(Q, oc->column);
    }
    fprintf(f, " AS _y%zu", k);
    if (oc->den) {
        fputs(",\n    ", f);
        cast(Q, oc->den);
        fprintf(f, " AS _x%zu", k);
    }
    if (oc->stat == SVY_STAT_MEAN || oc->stat == SVY_STAT_TOTAL || (rows && oc->den)) {
        fputs(",\n    (SELECT MIN(", f);
        cast(Q, oc->column);
        fprintf(f, ") FROM %s) AS _c%zu", Q->table, k);
    }
    if (rows && oc->den) {
        fputs(",\n    (SELECT MIN(", f);
        cast(Q, oc->den);
        fprintf(f, ") FROM %s) AS _m%zu", Q->table, k);
    }
    return SVY_OK;
}

/* tpl with # standing for K */
static void tpl_put(const q *Q, const char *tpl, size_t k)
{
    for (const char *t = tpl; *t; t++)
        if (*t == '#')
            fprintf(Q->f, "%zu", k);
        else
            putc(*t, Q->f);
}

/* SUM(CASE WHEN valid THEN expr ELSE 0 END) AS _K_name, # in tpl standing for K */
static void field(const q *Q, size_t k, const char *name, const char *tpl, int dbl_sum)
{
    fputs(",\n  ", Q->f);
    if (Q->d == SVY_SQL_CLICKHOUSE) {
        /* times the 0/1 indicators: ClickHouse 18.16 spends less than on
         * sumIf (bench/RESULTS.md); a row with an input missing is NULL
         * (skipped) or 0, and a group of no valid row sums to 0 (or NULL,
         * which clickhouse-client would print as \N: made 0).  _sg is _s
         * again: ClickHouse 18.16 fails on a GROUP BY alias in a sum. */
        fputs("ifNull(sum((", Q->f);
        tpl_put(Q, tpl, k);
        fprintf(Q->f, Q->sub ? ") * _v%zu * _sg), 0)" : ") * _v%zu), 0)", k);
        fprintf(Q->f, " AS _%zu_%s", k, name);
        return;
    }
    if (dbl_sum)
        svy_sql_sum_open(Q->f, Q->d);
    else
        fputs("SUM(", Q->f);
    fprintf(Q->f, Q->sub ? "CASE WHEN _v%zu = 1 AND _s = 1 THEN " : "CASE WHEN _v%zu = 1 THEN ", k);
    tpl_put(Q, tpl, k);
    fprintf(Q->f, " ELSE %s END", dbl_sum ? "0.0" : "0");
    if (dbl_sum)
        svy_sql_sum_close(Q->f, Q->d);
    else
        fputs(")", Q->f);
    fprintf(Q->f, " AS _%zu_%s", k, name);
}

/* MIN(expr) AS _K_name: a constant of the query (a shift) */
static void cfield(const q *Q, size_t k, const char *name, const char *tpl)
{
    fputs(Q->d == SVY_SQL_SQLITE ? ",\n  printf('%!.17g', MIN(" : ",\n  MIN(", Q->f);
    tpl_put(Q, tpl, k);
    fprintf(Q->f, Q->d == SVY_SQL_SQLITE ? ")) AS _%zu_%s" : ") AS _%zu_%s", k, name);
}

/* Co-moments of (a, b) around (a0, b0): every ROWS line of a mean, total, ratio. */
static void comoments(const q *Q, size_t k, const char *a0, const char *b0, const char *da, const char *db)
{
    char t[512];
    field(Q, k, "k", "1", 0);
    cfield(Q, k, "a0", a0);
    cfield(Q, k, "b0", b0);
    field(Q, k, "da", da, 1);
    field(Q, k, "db", db, 1);
    snprintf(t, sizeof t, "(%s) * (%s)", da, da);
    field(Q, k, "daa", t, 1);
    snprintf(t, sizeof t, "(%s) * (%s)", da, db);
    field(Q, k, "dab", t, 1);
    snprintf(t, sizeof t, "(%s) * (%s)", db, db);
    field(Q, k, "dbb", t, 1);
}

/* A group of a proportion in ROWS lines, the rows where cond holds: the
 * fields v, d, e + suffix (a shift of w, sums of w - v and (w - v)^2). */
static void group_sums(const q *Q, size_t k, const char *suffix, const char *cond)
{
    char nm[40], t[512];
    snprintf(nm, sizeof nm, "v%s", suffix);
    cfield(Q, k, nm, "_w0");
    snprintf(nm, sizeof nm, "d%s", suffix);
    snprintf(t, sizeof t, "CASE WHEN %s THEN _w - _w0 ELSE 0.0 END", cond);
    field(Q, k, nm, t, 1);
    snprintf(nm, sizeof nm, "e%s", suffix);
    snprintf(t, sizeof t, "CASE WHEN %s THEN (_w - _w0) * (_w - _w0) ELSE 0.0 END", cond);
    field(Q, k, nm, t, 1);
}

/* A share's fields after n and z (survey/sums.h): other, then SUMS: b and
 * per level k s; ROWS: per level k v d e. */
static int share_fields(const q *Q, const outcome *oc, size_t k, int rows)
{
    if (svy_sums_open(oc)) { /* one level per line (_K_level): SUMS b; ROWS k v d e */
        if (!rows) {
            field(Q, k, "b", "_w", 1);
            return 1;
        }
        field(Q, k, "k", "1", 0);
        group_sums(Q, k, "", "1 = 1");
        return 1;
    }
    size_t cap = 64 + 40 * oc->nlev;
    char *t = malloc(cap), nm[32], code[SVY_DTOA_MAX];
    if (!t)
        return 0;
    size_t n = (size_t)snprintf(t, cap, "CASE WHEN _y# IN (");
    for (size_t j = 0; j < oc->nlev; j++) {
        svy_dtoa(oc->lev[j], code);
        n += (size_t)snprintf(t + n, cap - n, "%s%s", j ? ", " : "", code);
    }
    snprintf(t + n, cap - n, ") THEN 0 ELSE 1 END");
    field(Q, k, "other", t, 0);
    if (!rows)
        field(Q, k, "b", "_w", 1);
    for (size_t j = 0; j < oc->nlev; j++) {
        svy_dtoa(oc->lev[j], code);
        snprintf(nm, sizeof nm, "k%zu", j + 1);
        snprintf(t, cap, "CASE WHEN _y# = %s THEN 1 ELSE 0 END", code);
        field(Q, k, nm, t, 0);
        if (!rows) {
            snprintf(nm, sizeof nm, "s%zu", j + 1);
            snprintf(t, cap, "CASE WHEN _y# = %s THEN _w ELSE 0.0 END", code);
            field(Q, k, nm, t, 1);
            continue;
        }
        snprintf(nm, sizeof nm, "%zu", j + 1);
        snprintf(t, cap, "_y# = %s", code);
        group_sums(Q, k, nm, t);
    }
    free(t);
    return 1;
}

/* The fields of ROWS lines (no --psu: rows are the units); 0 out of memory. */
static int outer_rows(const q *Q, const outcome *oc, size_t k)
{
    field(Q, k, "n", "1", 0);
    field(Q, k, "z", "CASE WHEN _w = 0 THEN 1 ELSE 0 END", 0);
    switch (oc->stat) {
    case SVY_STAT_SHARE:
        return share_fields(Q, oc, k, 1);
    case SVY_STAT_RATE:
        field(Q, k, "bad", "CASE WHEN _y# <> 0 AND _y# <> 1 THEN 1 ELSE 0 END", 0);
        for (int g = 1; g >= 0; g--) {
            const char *in = g ? "_y# <> 0" : "_y# = 0";
            char t[256], nm[4];
            snprintf(t, sizeof t, "CASE WHEN %s THEN 1 ELSE 0 END", in);
            snprintf(nm, sizeof nm, "k%d", g);
            field(Q, k, nm, t, 0);
            group_sums(Q, k, nm + 1, in);
        }
        break;
    case SVY_STAT_MEAN:
    case SVY_STAT_TOTAL:
        cfield(Q, k, "c", "_c#");
        if (oc->stat == SVY_STAT_MEAN)
            comoments(Q, k, "0.0", "_w0", "_w * (_y# - _c#)", "_w - _w0");
        else
            comoments(Q, k, "_w0 * _c#", "_w0", "_w * _y# - _w0 * _c#", "_w - _w0");
        if (oc->stat == SVY_STAT_TOTAL)
            field(Q, k, "a", "_w * (_y# - _c#)", 1);
        field(Q, k, "q", "_w * (_y# - _c#) * (_y# - _c#)", 1);
        break;
    case SVY_STAT_RATIO:
        comoments(Q, k, "_w0 * _c#", "_w0 * _m#", "_w * _y# - _w0 * _c#", "_w * _x# - _w0 * _m#");
        field(Q, k, "w", "_w", 1);
        field(Q, k, "yy", "_w * _y# * _y#", 1);
        field(Q, k, "xy", "_w * _y# * _x#", 1);
        field(Q, k, "xx", "_w * _x# * _x#", 1);
        break;
    default:
        break;
    }
    return 1;
}

static int outer_outcome(const q *Q, const outcome *oc, size_t k)
{
    field(Q, k, "n", "1", 0);
    field(Q, k, "z", "CASE WHEN _w = 0 THEN 1 ELSE 0 END", 0);
    switch (oc->stat) {
    case SVY_STAT_SHARE:
        return share_fields(Q, oc, k, 0);
    case SVY_STAT_RATE:
        field(Q, k, "s1", "_w * _y#", 1);
        field(Q, k, "s0", "_w - _w * _y#", 1);
        field(Q, k, "bad", "CASE WHEN _y# <> 0 AND _y# <> 1 THEN 1 ELSE 0 END", 0);
        break;
    case SVY_STAT_MEAN:
    case SVY_STAT_TOTAL:
        fprintf(Q->f, Q->d == SVY_SQL_SQLITE ? ",\n  printf('%%!.17g', MIN(_c%zu)) AS _%zu_c" : ",\n  MIN(_c%zu) AS _%zu_c", k, k);
        if (oc->stat == SVY_STAT_TOTAL)
            field(Q, k, "t", "_w * _y#", 1);
        if (oc->stat == SVY_STAT_MEAN)
            field(Q, k, "a", "_w * (_y# - _c#)", 1);
        field(Q, k, "b", "_w", 1);
        if (oc->stat == SVY_STAT_TOTAL)
            field(Q, k, "a", "_w * (_y# - _c#)", 1);
        field(Q, k, "q", "_w * (_y# - _c#) * (_y# - _c#)", 1);
        break;
    case SVY_STAT_RATIO:
        field(Q, k, "y", "_w * _y#", 1);
        field(Q, k, "x", "_w * _x#", 1);
        field(Q, k, "w", "_w", 1);
        field(Q, k, "yy", "_w * _y# * _y#", 1);
        field(Q, k, "xy", "_w * _y# * _x#", 1);
        field(Q, k, "xx", "_w * _x# * _x#", 1);
        break;
    default:
        break;
    }
    return 1;
}

/* One test of --subpop as a SQL boolean that is never NULL: that it holds
 * (neg 0) or that it fails (neg 1).  A missing value makes a comparison
 * neither (R's NA) and `in` fail (R's %in%). */
static svy_status sub_test(const q *Q, const svy_subpop *s, size_t i, const svy_subpop_node *n, int neg, svy_err *err)
{
    static const char *const ops[] = {"=", "<>", "<", "<=", ">", ">="};
    const char *op = n->kind == SVY_SP_IN ? "=" : ops[n->op];
    fputs("(CASE WHEN ", Q->f);
    ident(Q, n->column);
    fprintf(Q->f, " IS NULL THEN %d WHEN ", n->kind == SVY_SP_IN && neg);
    for (size_t k = 0; k < n->nlit; k++) {
        svy_subpop_lit l;
        svy_subpop_lit_at(s, i, k, &l);
        fputs(k ? " OR " : "", Q->f);
        if (l.by_num) {
            char b[SVY_DTOA_MAX];
            svy_dtoa(l.num, b);
            cast(Q, n->column);
            fprintf(Q->f, " %s %s", op, b);
            continue;
        }
        fputs("CAST(", Q->f);
        ident(Q, n->column);
        fprintf(Q->f, " AS %s) %s ", txt(Q), op);
        svy_status st = literal(Q, l.text, err);
        if (st != SVY_OK)
            return st;
    }
    fprintf(Q->f, " THEN %d ELSE %d END = 1)", !neg, neg);
    return SVY_OK;
}

/* Node i of --subpop: that it is TRUE (neg 0) or FALSE (neg 1), R's
 * three-valued logic written with two-valued AND, OR: !a is TRUE when a is
 * FALSE; a & b is FALSE when either is; a | b TRUE when either is.  (SQL's
 * own NULL logic would do, but ClickHouse 18's and/or have none.) */
static svy_status sub_node(const q *Q, const svy_subpop *s, size_t i, int neg, svy_err *err)
{
    svy_subpop_node n;
    svy_subpop_node_at(s, i, &n);
    if (n.kind == SVY_SP_NOT)
        return sub_node(Q, s, n.a, !neg, err);
    if (n.kind == SVY_SP_CMP || n.kind == SVY_SP_IN)
        return sub_test(Q, s, i, &n, neg, err);
    svy_status st;
    fputs("(", Q->f);
    if ((st = sub_node(Q, s, n.a, neg, err)) != SVY_OK)
        return st;
    fputs((n.kind == SVY_SP_AND) != neg ? " AND " : " OR ", Q->f);
    if ((st = sub_node(Q, s, n.b, neg, err)) != SVY_OK)
        return st;
    fputs(")", Q->f);
    return SVY_OK;
}

/* The inner SELECT's _s: 1 for a row in the subpopulation (malloc'd text,
 * made before any output so that a value Spark cannot quote fails first). */
static svy_status sub_column(q Q, const svy_subpop *s, char **out, svy_err *err)
{
    size_t len;
    *out = NULL;
    SVY_FAIL_IF(!svy_subpop_bound(s), err, SVY_E_USAGE, "--sql: --subpop was not bound to the codebook");
    if (!(Q.f = open_memstream(out, &len)))
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    fputs(",\n    CASE WHEN ", Q.f);
    svy_status st = sub_node(&Q, s, svy_subpop_root(s), 0, err);
    fputs(" THEN 1 ELSE 0 END AS _s", Q.f);
    if (fclose(Q.f) != 0 && st == SVY_OK)
        st = svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    if (st != SVY_OK) {
        free(*out);
        *out = NULL;
    }
    return st;
}

static int table_ok(const char *t)
{
    if (!*t)
        return 0;
    for (; *t; t++)
        if (!isalnum((unsigned char)*t) && *t != '_' && *t != '.')
            return 0;
    return 1;
}

/* Key i in the outer SELECT and GROUP BY: the inner SELECT's _kI, or in
 * ClickHouse the column itself (ClickHouse 18.16 fails on an alias of a
 * column renamed again: "Unknown identifier"). */
static void key_ref(const q *Q, const sums_key *keys, size_t i)
{
    if (Q->with)
        ident(Q, keys[i].name);
    else
        fprintf(Q->f, "_k%zu", i);
}

/* An open share's level in the outer SELECT and GROUP BY, likewise. */
static void level_ref(const q *Q, const svy_est *e, size_t o)
{
    if (Q->with)
        ident(Q, e->out[o].column);
    else
        fprintf(Q->f, "_l%zu", o + 1);
}

/* ",\n  CASE ... END AS _dom": in a domain when in the subpopulation
 * (sub = 1) and every by value is present (keys named pre + their index). */
static void dom_case(const q *Q, const sums_key *keys, size_t nk, const char *sub, const char *pre)
{
    fprintf(Q->f, ",\n  CASE WHEN %s = 1", sub);
    for (size_t i = 0; i < nk; i++)
        if (keys[i].role == SUMS_KEY_BY)
            fprintf(Q->f, " AND %s%zu IS NOT NULL", pre, i);
    fputs(" THEN 1 ELSE 0 END AS _dom", Q->f);
}

/* ClickHouse: the query aggregates the table itself, so that each shard
 * of a Distributed table sums its own rows (a subquery would send every
 * row to the server that was asked); the row values are WITH aliases, and
 * an outer SELECT gives the keys their names (ClickHouse 18.16 takes an
 * alias that names a column for that column: "Cyclic aliases").  Its
 * head: the comment, that renaming, and the start of the WITH.  Not with
 * --subpop: 18.16 then fails on _s as a key of the GROUP BY ("not under
 * aggregate function"), so that query keeps the subquery. */
static void ch_head(const q *Q, const svy_est *e, const char *id, const sums_key *keys, size_t nk)
{
    FILE *f = Q->f;
    fprintf(f, "-- svy-tab --sql: the sums of %s (only these aggregates leave the database)\n", id);
    fputs("SELECT _svysums", f);
    for (size_t i = 0; i < nk; i++) {
        fprintf(f, ", _o%zu AS ", i);
        ident(Q, keys[i].name);
    }
    dom_case(Q, keys, nk, "_sub", "_o");
    fputs(", _sub, _rows, _nzrows", f);
    for (size_t o = 0; o < e->nout; o++)
        if (svy_sums_open(&e->out[o]))
            fprintf(f, ", _%zu_level", o + 1);
    for (size_t o = 0; o < e->nout; o++)
        for (size_t j = 0; j < svy_sums_nf(e, o); j++) {
            char b[32];
            fprintf(f, ", _%zu_%s", o + 1, svy_sums_fname(e, o, j, b, sizeof b));
        }
    fputs("\nFROM (WITH ", f);
}

/* The outer SELECT's identity and keys, up to _nzrows and the levels of
 * open shares. */
static void outer_keys(const q *Q, const svy_est *e, const char *id, const sums_key *keys, size_t nk)
{
    FILE *f = Q->f;
    if (!Q->with) /* else in ch_head */
        fprintf(f, "-- svy-tab --sql: the sums of %s (only these aggregates leave the database)\n", id);
    fprintf(f, "SELECT '%s' AS _svysums", id);
    for (size_t i = 0; i < nk; i++) {
        fputs(",\n  ", f);
        if (keys[i].role == SUMS_KEY_WEIGHT)
            fputs("MAX(CASE WHEN _w <> 0 THEN 1 ELSE 0 END)", f);
        else if (keys[i].role == SUMS_KEY_ID2)
            fputs("MIN(", f), key_ref(Q, keys, i), fputs(")", f);
        else
            key_ref(Q, keys, i);
        if (Q->with) {
            fprintf(f, " AS _o%zu", i);
            continue;
        }
        fputs(" AS ", f);
        ident(Q, keys[i].name);
    }
    if (!Q->with) /* else in ch_head: ClickHouse 18.16 fails on _s = 1 here */
        dom_case(Q, keys, nk, Q->sub ? "_s" : "1", "_k");
    fprintf(f, ",\n  %s AS _sub,\n  COUNT(*) AS _rows,\n"
               "  SUM(CASE WHEN _w <> 0 THEN 1 ELSE 0 END) AS _nzrows", Q->sub ? "_s" : "1");
    for (size_t o = 0; o < e->nout; o++)
        if (svy_sums_open(&e->out[o]))
            fputs(",\n  ", f), level_ref(Q, e, o), fprintf(f, " AS _%zu_level", o + 1);
}

/* ClickHouse, rates only, lines per PSU: most rows have every outcome
 * present, 0 or 1, and a nonzero weight, so the shards group the rows by
 * their keys and a pattern of the rare events (bit 0: weight 0; per
 * outcome K bit 2K-1 missing, bit 2K not 0 or 1), summing only the count
 * and per outcome w y and w - w y; the outer SELECT makes n, z and bad of
 * each outcome from the patterns' counts.  13 aggregate calls a row for
 * six rates instead of 33 (bench/RESULTS.md). */
static int ch_rates_only(const svy_est *e)
{
    if (svy_sums_rows(e) || e->nout > 31)
        return 0;
    for (size_t o = 0; o < e->nout; o++)
        if (e->out[o].stat != SVY_STAT_RATE)
            return 0;
    return 1;
}

/* The pattern in the smallest unsigned type that holds its 2 nout + 1
 * bits: the GROUP BY's keys stay a fixed-size hash key.  A missing value
 * makes the 0/1 test NULL, so ifNull gives its bit 0. */
static void ch_pattern(const q *Q, size_t nout)
{
    size_t bits = 2 * nout + 1;
    fprintf(Q->f, "toUInt%d((_w = 0)", bits <= 8 ? 8 : bits <= 16 ? 16 : bits <= 32 ? 32 : 64);
    for (size_t k = 1; k <= nout; k++)
        fprintf(Q->f, " + %llu * (1 - _v%zu) + %llu * ifNull(_y%zu * (_y%zu - 1) != 0, 0)", 1ull << (2 * k - 1), k,
                1ull << (2 * k), k, k);
    fputs(")", Q->f);
}

static svy_status ch_rates(const q *Q, const svy_est *e, const char *id, const sums_key *keys, size_t nk,
                           const svy_sql_level *levels, svy_err *err)
{
    FILE *f = Q->f;
    fprintf(f, "-- svy-tab --sql: the sums of %s (only these aggregates leave the database)\n", id);
    fprintf(f, "SELECT '%s' AS _svysums", id);
    for (size_t i = 0; i < nk; i++) {
        if (keys[i].role == SUMS_KEY_WEIGHT)
            fputs(",\n  MAX(_c * (1 - bitAnd(_p, 1)) > 0) AS ", f);
        else
            fprintf(f, ",\n  _o%zu AS ", i);
        ident(Q, keys[i].name);
    }
    dom_case(Q, keys, nk, "1", "_o");
    fputs(",\n  1 AS _sub,\n  sum(_c) AS _rows,\n  sum(_c * (1 - bitAnd(_p, 1))) AS _nzrows", f);
    for (size_t k = 1; k <= e->nout; k++) {
        unsigned m = (unsigned)(2 * k - 1), b = (unsigned)(2 * k);
        fprintf(f, ",\n  sum(_c * (1 - bitAnd(bitShiftRight(_p, %u), 1))) AS _%zu_n", m, k);
        fprintf(f, ",\n  sum(_c * (1 - bitAnd(bitShiftRight(_p, %u), 1)) * bitAnd(_p, 1)) AS _%zu_z", m, k);
        /* a pattern's rows are all valid or all missing: the sums of one
         * where K is missing (NULL, or y 0 of a COL=VALUE test) do not count */
        fprintf(f, ",\n  sum(_s1_%zu * (1 - bitAnd(bitShiftRight(_p, %u), 1))) AS _%zu_s1", k, m, k);
        fprintf(f, ",\n  sum(_s0_%zu * (1 - bitAnd(bitShiftRight(_p, %u), 1))) AS _%zu_s0", k, m, k);
        fprintf(f, ",\n  sum(_c * bitAnd(bitShiftRight(_p, %u), 1)) AS _%zu_bad", b, k);
    }
    fputs("\nFROM (WITH ", f);
    if (e->d.weight)
        cast(Q, e->d.weight);
    else
        fputs("1.0", f);
    fputs(" AS _w", f);
    for (size_t o = 0; o < e->nout; o++) {
        svy_status st = inner_outcome(Q, &e->out[o], o + 1, levels ? &levels[o] : NULL, 0, err);
        if (st != SVY_OK)
            return st;
    }
    fputs("\nSELECT ", f);
    for (size_t i = 0; i < nk; i++)
        if (keys[i].role != SUMS_KEY_WEIGHT)
            ident(Q, keys[i].name), fprintf(f, " AS _o%zu, ", i);
    ch_pattern(Q, e->nout);
    fputs(" AS _p,\n  count() AS _c", f);
    for (size_t k = 1; k <= e->nout; k++)
        fprintf(f, ",\n  ifNull(sum(_w * _y%zu), 0) AS _s1_%zu,\n  ifNull(sum(_w - _w * _y%zu), 0) AS _s0_%zu", k, k, k, k);
    fprintf(f, "\nFROM %s\nGROUP BY ", Q->table);
    for (size_t i = 0; i < nk; i++)
        if (keys[i].role != SUMS_KEY_WEIGHT)
            ident(Q, keys[i].name), fputs(", ", f);
    ch_pattern(Q, e->nout);
    fputs(")\nGROUP BY ", f);
    int first = 1;
    for (size_t i = 0; i < nk; i++)
        if (keys[i].role != SUMS_KEY_WEIGHT)
            fprintf(f, "%s_o%zu", first ? "" : ", ", i), first = 0;
    fputs(first ? "_sub;\n" : ";\n", f);
    return ferror(f) ? svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "writing the query") : SVY_OK;
}

/* The outer (aggregating) SELECT, to Q->f or, in the WITH form, into *ob
 * (written after the WITH: ch_head); 0 out of memory. */
static int outer_select(q *Q, const svy_est *e, const char *id, const sums_key *keys, size_t nk, char **ob,
                        size_t *ol)
{
    FILE *f = Q->f;
    int ok = !Q->with || (Q->f = open_memstream(ob, ol)) != NULL;
    if (ok)
        outer_keys(Q, e, id, keys, nk);
    int rows = svy_sums_rows(e);
    for (size_t o = 0; ok && o < e->nout; o++)
        ok = (rows ? outer_rows : outer_outcome)(Q, &e->out[o], o + 1);
    if (Q->with && Q->f && fclose(Q->f) != 0)
        ok = 0;
    Q->f = f;
    return ok;
}

svy_status svy_sums_sql(const svy_est *e, svy_sql_dialect dialect, const char *table, const svy_sql_level *levels,
                        FILE *f, svy_err *err)
{
    svy_status st = svy_sums_check(e, err);
    if (st)
        return st;
    SVY_FAIL_IF(!table_ok(table), err, SVY_E_USAGE,
                "--table '%s': give a table name of letters, digits, '_' and '.' (a view for anything else)", table);
    for (size_t o = 0; dialect == SVY_SQL_SPARK && o < e->nout; o++) /* before any output */
        SVY_FAIL_IF(e->out[o].value && !(levels && levels[o].is_num) &&
                        (strchr(e->out[o].value, '\'') || strchr(e->out[o].value, '\\')),
                    err, SVY_E_USAGE,
                    "--sql spark: the value '%s' holds a quote or backslash, which Spark SQL escapes its own way",
                    e->out[o].value);
    if (e->rep && (st = svy_sums_rep_sql_check(e, dialect, err)) != SVY_OK)
        return st;
    if (e->rep && svy_sums_rep_sql_split(e, dialect, table, levels, f, &st, err))
        return st;
    q Q = {f, dialect, table, e->subpop != NULL, dialect == SVY_SQL_CLICKHOUSE && !e->subpop && !e->rep};
    char *sub = NULL;
    if (e->subpop && (st = sub_column(Q, e->subpop, &sub, err)) != SVY_OK)
        return st;
    sums_key keys[SUMS_KEYS_MAX];
    size_t nk = svy_sums_keys(e, keys);
    char id[SVY_SUMS_IDENT_MAX];
    svy_sums_identity(e, id);
    if (Q.with && ch_rates_only(e))
        return ch_rates(&Q, e, id, keys, nk, levels, err);
    char *ob = NULL; /* ClickHouse: the aggregating SELECT, written after the WITH (ch_head) */
    size_t ol = 0;
    int ch = Q.with, rows = svy_sums_rows(e);
    if (!outer_select(&Q, e, id, keys, nk, &ob, &ol) ||
        (e->rep && svy_sums_rep_sql_outer(e, dialect, Q.sub, f) != SVY_OK)) {
        free(sub);
        free(ob);
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    if (ch)
        ch_head(&Q, e, id, keys, nk);
    else
        fputs("\nFROM (SELECT ", f);
    if (e->d.weight)
        cast(&Q, e->d.weight);
    else
        fputs("1.0", f);
    fputs(" AS _w", f);
    if (rows && e->d.weight) {
        fputs(",\n    (SELECT MIN(", f);
        cast(&Q, e->d.weight);
        fprintf(f, ") FROM %s) AS _w0", table);
    } else if (rows) {
        fputs(",\n    1.0 AS _w0", f);
    }
    for (size_t i = 0; i < nk; i++)
        if (keys[i].role != SUMS_KEY_WEIGHT && !ch) {
            fputs(",\n    ", f);
            ident(&Q, keys[i].name);
            fprintf(f, " AS _k%zu", i);
        }
    if (sub)
        fputs(sub, f);
    if (sub && dialect == SVY_SQL_CLICKHOUSE) /* the same as _sg (field) */
        fprintf(f, "%.*s_sg", (int)strlen(sub) - 2, sub);
    free(sub);
    for (size_t o = 0; o < e->nout; o++)
        if ((st = inner_outcome(&Q, &e->out[o], o + 1, levels ? &levels[o] : NULL, rows, err)) != SVY_OK) {
            free(ob);
            return st;
        }
    if (e->rep && svy_sums_rep_sql_inner(e, dialect, f) != SVY_OK) {
        free(ob);
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    if (ch)
        fprintf(f, "\n%.*s\nFROM %s\nGROUP BY ", (int)ol, ob, table);
    else
        fprintf(f, "\n  FROM %s) AS _t\nGROUP BY ", table);
    free(ob);
    int first = 1;
    for (size_t i = 0; i < nk; i++)
        if (keys[i].role != SUMS_KEY_WEIGHT && keys[i].role != SUMS_KEY_ID2) {
            fputs(first ? "" : ", ", f), key_ref(&Q, keys, i);
            first = 0;
        }
    if (Q.sub)
        fprintf(f, "%s_s", first ? "" : ", "), first = 0;
    for (size_t o = 0; o < e->nout; o++)
        if (svy_sums_open(&e->out[o]))
            fputs(first ? "" : ", ", f), level_ref(&Q, e, o), first = 0;
    fputs(first ? "_sub" : "", f);
    fputs(ch ? ");\n" : ";\n", f);
    return ferror(f) ? svy_err_set(err, SVY_E_IO, NULL, 0, 0, NULL, "writing the query") : SVY_OK;
}
