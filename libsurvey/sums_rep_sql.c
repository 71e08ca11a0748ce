/* Replicate weights in the SQL query of the sums (sums_sql.c calls these;
 * the fields in sums_rep.c).  The inner SELECT passes each replicate column
 * as _a1 .. _aR (a double); the outer one sums, per line, the columns
 * themselves, each outcome's 2R (or R(L+1)) replicate sums, and the Gram
 * matrix sum a_i a_j (j <= i) that the df rules take the rank of.
 *
 * The Gram is R(R+1)/2 columns: with one rate it fits SQLite's 2,000 result
 * columns up to 59 replicates and PostgreSQL's 1,664 up to 53.  Past that
 * the query is a UNION ALL of parts (each one more pass over the table),
 * every part the same query with _gpart = k and the k-th chunk of the Gram
 * in columns _gc1 ..; --from-sums takes only the chunk from lines of parts
 * above 0.  Past PARTS_MAX parts it is refused with a message naming the
 * --df to give.  The Gram is left out when the flags need no rank (--df N
 * or --df inf, without --diff and --test); the reader refuses sums without
 * a Gram when its flags need one: never a different df. */
#include "svy_private.h"
#include "replicate_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/sums.h>

#include "sums_private.h"

enum { PARTS_MAX = 16 };

/* Whether the flags' df needs the rank (replicate.c's svy_rep_bind). */
int svy_sums_rep_needs_gram(const svy_est *e)
{
    return e->d.df_rule == SVY_DF_DOMAIN || e->d.df_rule == SVY_DF_FULL || e->diff_on || e->test_on;
}

/* The replicate columns, each once (the patterns: no PREFIX* in a query). */
static size_t rep_names(const svy_est *e, const char **names)
{
    const svy_rep *r = e->rep;
    size_t n = 0;
    for (size_t i = 0; i < r->npat; i++) {
        int dup = 0;
        for (size_t j = 0; j < n; j++)
            dup |= strcmp(names[j], r->pat[i]) == 0;
        if (!dup)
            names[n++] = r->pat[i];
    }
    return n;
}

svy_status svy_sums_rep_sql_check(const svy_est *e, svy_sql_dialect d, svy_err *err)
{
    const svy_rep *r = e->rep;
    sums_key keys[SUMS_KEYS_MAX];
    size_t ncols = 5 + svy_sums_keys(e, keys);
    for (size_t o = 0; o < e->nout; o++)
        ncols += svy_sums_nf(e, o) + svy_sums_open(&e->out[o]);
    for (size_t i = 0; i < r->npat; i++) {
        size_t len = strlen(r->pat[i]);
        SVY_FAIL_IF(len && r->pat[i][len - 1] == '*', err, SVY_E_USAGE,
                    "--sql with --repweights %s: the query cannot list a table's columns; name each replicate column "
                    "(--repweights rw1,rw2,...) or give --repinfo",
                    r->pat[i]);
    }
    const char **names = svy_calloc(r->npat + 1, sizeof *names);
    SVY_FAIL_IF(!names, err, SVY_E_NOMEM, "out of memory");
    size_t R = rep_names(e, names);
    free(names);
    SVY_FAIL_IF(R < 2, err, SVY_E_USAGE, "--repweights: %zu replicate column; a variance needs 2 or more", R);
    size_t n = ncols + 1 + R;
    for (size_t o = 0; o < e->nout; o++)
        n += svy_sums_rep_blocks(e, o) * R;
    size_t lim = d == SVY_SQL_SQLITE ? 2000 : d == SVY_SQL_POSTGRES ? 1664 : 0;
    const char *eng = d == SVY_SQL_SQLITE ? "SQLite" : "PostgreSQL";
    SVY_FAIL_IF(lim && n > lim, err, SVY_E_USAGE,
                "--sql: %zu result columns for %zu replicates, over %s's %zu: give fewer outcomes per query "
                "(one svy-tab --sql per outcome, each read by its own --from-sums)",
                n, R, eng, lim);
    size_t g = R * (R + 1) / 2;
    svy_rep *rw = e->rep;
    if (!rw->sql_in)
        rw->sql_parts = 0;
    /* over the limit: the Gram in chunks, one per part of a UNION ALL
     * (each part one more pass over the table), up to PARTS_MAX */
    if (lim && svy_sums_rep_needs_gram(e) && n + g > lim && n + 2 <= lim && !rw->sql_in) {
        size_t chunk = lim - n - 1, parts = (g + chunk - 1) / chunk;
        if (parts <= PARTS_MAX) {
            rw->sql_parts = parts;
            rw->sql_chunk = chunk;
            return SVY_OK;
        }
    }
    if (rw->sql_in)
        return SVY_OK;
    SVY_FAIL_IF(lim && svy_sums_rep_needs_gram(e) && n + g > lim, err, SVY_E_USAGE,
                "--sql: the degrees of freedom of %s need the rank of the replicate weights, whose Gram matrix "
                "(%zu sums for %zu replicates) with the %zu other sums needs more than %d parts of %s's %zu result "
                "columns; give --df N "
                "(the df a row run states: at most %zu here) or --df inf, without --diff and --test, or use "
                "--partial on the rows",
                e->diff_on || e->test_on ? "--diff and --test" : "this --df rule", g, R, n, PARTS_MAX, eng, lim, R - 1);
    return SVY_OK;
}

svy_status svy_sums_rep_sql_inner(const svy_est *e, svy_sql_dialect d, FILE *f)
{
    const char **names = svy_calloc(e->rep->npat + 1, sizeof *names);
    if (!names)
        return SVY_E_NOMEM;
    size_t R = rep_names(e, names);
    for (size_t i = 0; i < R; i++) {
        fputs(",\n    ", f);
        svy_sql_double(f, d, names[i]);
        fprintf(f, " AS _a%zu", i + 1);
    }
    free(names);
    return SVY_OK;
}

/* SUM(CASE WHEN cond THEN expr ELSE 0.0 END) AS name, printed to 17
 * digits by SQLite; ClickHouse's sumIf. cond NULL: every row. */
static void rsum(FILE *f, svy_sql_dialect d, const char *cond, const char *expr, const char *name)
{
    fputs(",\n  ", f);
    if (d == SVY_SQL_CLICKHOUSE) {
        if (cond)
            fprintf(f, "sumIf(assumeNotNull(%s), %s)", expr, cond);
        else
            fprintf(f, "sum(assumeNotNull(%s))", expr);
    } else {
        svy_sql_sum_open(f, d);
        if (cond)
            fprintf(f, "CASE WHEN %s THEN %s ELSE 0.0 END", cond, expr);
        else
            fputs(expr, f);
        svy_sql_sum_close(f, d);
    }
    fputs(" AS ", f);
    svy_sql_ident(f, d, name);
}

/* Outcome o's replicate fields (sums_rep.c's names, in its order). */
static void outcome_fields(const svy_est *e, svy_sql_dialect d, size_t o, size_t R, int sub, FILE *f)
{
    const outcome *oc = &e->out[o];
    char cond[96], expr[256], name[96];
    snprintf(cond, sizeof cond, sub ? "_v%zu = 1 AND _s = 1" : "_v%zu = 1", o + 1);
    int share = oc->stat == SVY_STAT_SHARE;
    for (size_t j = 0; j < svy_sums_rep_blocks(e, o); j++)
        for (size_t k = 1; k <= R; k++) {
            if (share && j > 0) {
                char code[SVY_DTOA_MAX];
                svy_dtoa(oc->lev[j - 1], code);
                snprintf(expr, sizeof expr, "CASE WHEN _y%zu = %s THEN _a%zu ELSE 0.0 END", o + 1, code, k);
                snprintf(name, sizeof name, "_%zu_ry%zu_%zu", o + 1, j, k);
            } else if (share || j == 1) {
                if (oc->stat == SVY_STAT_RATIO)
                    snprintf(expr, sizeof expr, "_a%zu * _x%zu", k, o + 1);
                else
                    snprintf(expr, sizeof expr, "_a%zu", k);
                snprintf(name, sizeof name, "_%zu_%s%zu", o + 1, oc->stat == SVY_STAT_RATIO ? "rx" : "ra", k);
            } else {
                snprintf(expr, sizeof expr, "_a%zu * _y%zu", k, o + 1);
                snprintf(name, sizeof name, "_%zu_ry%zu", o + 1, k);
            }
            rsum(f, d, cond, expr, name);
        }
}

svy_status svy_sums_rep_sql_outer(const svy_est *e, svy_sql_dialect d, int sub, FILE *f)
{
    const char **names = svy_calloc(e->rep->npat + 1, sizeof *names);
    if (!names)
        return SVY_E_NOMEM;
    size_t R = rep_names(e, names);
    char expr[128], name[96];
    const char *cond = sub ? "_s = 1" : NULL;
    fputs(d == SVY_SQL_CLICKHOUSE ? ",\n  sumIf(1, " : ",\n  SUM(CASE WHEN ", f);
    fputs(sub ? "_s = 1 AND (" : "(", f);
    for (size_t k = 1; k <= R; k++)
        fprintf(f, "%s_a%zu IS NULL OR _a%zu < 0", k > 1 ? " OR " : "", k, k);
    fputs(d == SVY_SQL_CLICKHOUSE ? ")) AS _repbad" : ") THEN 1 ELSE 0 END) AS _repbad", f);
    for (size_t k = 1; k <= R; k++) {
        snprintf(expr, sizeof expr, "_a%zu", k);
        rsum(f, d, cond, expr, names[k - 1]);
    }
    free(names);
    for (size_t o = 0; o < e->nout; o++)
        outcome_fields(e, d, o, R, sub, f);
    if (!svy_sums_rep_needs_gram(e))
        return SVY_OK;
    const svy_rep *r = e->rep;
    size_t lo = 0, hi = R * (R + 1) / 2, p = 0; /* the packed entries of this part */
    if (r->sql_parts) {
        fprintf(f, ",\n  %zu AS _gpart", r->sql_part);
        lo = r->sql_part * r->sql_chunk;
        hi = lo + r->sql_chunk < hi ? lo + r->sql_chunk : hi;
    }
    for (size_t i = 1; i <= R; i++)
        for (size_t j = 1; j <= i; j++, p++) {
            if (p < lo || p >= hi)
                continue;
            snprintf(expr, sizeof expr, "_a%zu * _a%zu", i, j);
            if (r->sql_parts)
                snprintf(name, sizeof name, "_gc%zu", p - lo + 1);
            else
                snprintf(name, sizeof name, "_g%zu_%zu", i, j);
            rsum(f, d, cond, expr, name);
        }
    for (size_t q = hi - lo; r->sql_parts && q < r->sql_chunk; q++) { /* the last part: as wide as the others */
        fprintf(f, ",\n  0.0 AS ");
        snprintf(name, sizeof name, "_gc%zu", q + 1);
        svy_sql_ident(f, d, name);
    }
    return SVY_OK;
}

int svy_sums_rep_sql_split(const svy_est *e, svy_sql_dialect d, const char *table, const svy_sql_level *levels,
                           FILE *f, svy_status *st, svy_err *err)
{
    svy_rep *r = e->rep;
    if (r->sql_parts < 2 || r->sql_in)
        return 0;
    r->sql_in = 1;
    *st = SVY_OK;
    for (size_t k = 0; *st == SVY_OK && k < r->sql_parts; k++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m) {
            *st = svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
            break;
        }
        r->sql_part = k;
        *st = svy_sums_sql(e, d, table, levels, m, err);
        if (fclose(m) != 0 && *st == SVY_OK)
            *st = svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == ';'))
            len--;
        if (*st == SVY_OK) {
            fputs(k ? "\nUNION ALL\n" : "", f);
            fwrite(buf, 1, len, f);
        }
        free(buf);
    }
    if (*st == SVY_OK)
        fputs(";\n", f);
    r->sql_in = 0;
    r->sql_part = 0;
    return 1;
}
