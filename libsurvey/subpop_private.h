/* A read-only view of a parsed and bound --subpop expression (subpop.c),
 * for what writes it in another language (sums_sql.c: a SQL boolean).
 * Not installed. */
#ifndef SVY_SUBPOP_PRIVATE_H
#define SVY_SUBPOP_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error subpop_private.h is only for building libsurvey and its unit tests.
#endif

#include <stddef.h>
#include <survey/subpop.h>

enum { SVY_SP_OR, SVY_SP_AND, SVY_SP_NOT, SVY_SP_CMP, SVY_SP_IN };   /* node kinds */
enum { SVY_SP_EQ, SVY_SP_NE, SVY_SP_LT, SVY_SP_LE, SVY_SP_GT, SVY_SP_GE }; /* CMP's operators */

typedef struct svy_subpop_node {
    int kind, op;       /* op: CMP only */
    size_t a, b;        /* children: OR, AND (a, b); NOT (a) */
    const char *column; /* CMP, IN */
    size_t nlit;        /* CMP: 1; IN: the set's size */
} svy_subpop_node;

/* As bound (svy_subpop_bind): compare as a number with num (by_num), else
 * as text with text. */
typedef struct svy_subpop_lit {
    int by_num;
    double num;
    const char *text;
} svy_subpop_lit;

/* The root's index; node i; literal k of node i (0 <= k < nlit).  Only
 * after svy_subpop_bind succeeded (0 from svy_subpop_root otherwise is
 * not an error: check svy_subpop_bound). */
int svy_subpop_bound(const svy_subpop *s);
size_t svy_subpop_root(const svy_subpop *s);
void svy_subpop_node_at(const svy_subpop *s, size_t i, svy_subpop_node *out);
void svy_subpop_lit_at(const svy_subpop *s, size_t i, size_t k, svy_subpop_lit *out);

#endif
