/* The SQL dialects' text that both queries of the sums write with
 * (sums_sql.c, sums_rep_sql.c; sums_private.h). */
#include "svy_private.h"
#include "estimate_private.h"

#include <stdio.h>
#include <string.h>
#include <survey/sums.h>

#include "sums_private.h"

int svy_sql_dialect_parse(const char *s, svy_sql_dialect *out)
{
    static const char *const names[] = {"sqlite", "postgres", "clickhouse", "spark"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (svy_sql_dialect)i;
            return 1;
        }
    if (strcmp(s, "postgresql") == 0 || strcmp(s, "hive") == 0) {
        *out = s[0] == 'p' ? SVY_SQL_POSTGRES : SVY_SQL_SPARK;
        return 1;
    }
    return 0;
}

/* A quoted identifier. */
void svy_sql_ident(FILE *f, svy_sql_dialect d, const char *s)
{
    char qc = d == SVY_SQL_SPARK ? '`' : '"';
    putc(qc, f);
    for (; *s; s++) {
        if (*s == qc)
            putc(qc, f);
        putc(*s, f);
    }
    putc(qc, f);
}

/* ClickHouse: toFloat64 keeps a column's own nullability, where CAST to
 * Nullable(Float64) made every value, sum and test of a column without
 * missing values Nullable, which ClickHouse 18.16 computes about 1.5x
 * slower (bench/RESULTS.md); NULL still gives NULL. */
void svy_sql_double(FILE *f, svy_sql_dialect d, const char *col)
{
    static const char *const t[] = {"REAL", "DOUBLE PRECISION", "Float64", "DOUBLE"};
    fputs(d == SVY_SQL_CLICKHOUSE ? "toFloat64(" : "CAST(", f);
    svy_sql_ident(f, d, col);
    if (d == SVY_SQL_CLICKHOUSE)
        putc(')', f);
    else
        fprintf(f, " AS %s)", t[d]);
}

/* A sum printed so it reads back to the same double (sqlite3's shell
 * prints 15 digits of a REAL). */
void svy_sql_sum_open(FILE *f, svy_sql_dialect d)
{
    fputs(d == SVY_SQL_SQLITE ? "printf('%!.17g', SUM(" : "SUM(", f);
}

void svy_sql_sum_close(FILE *f, svy_sql_dialect d)
{
    fputs(d == SVY_SQL_SQLITE ? "))" : ")", f);
}
