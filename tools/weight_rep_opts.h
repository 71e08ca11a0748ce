/* svy-weight --replicates: the options, the extra columns and the
 * replicate-design file (--repinfo), kept apart from the plain path. */
#ifndef SVY_WEIGHT_REP_TOOL_H
#define SVY_WEIGHT_REP_TOOL_H

#include <survey/survey.h>

struct wrep_opts {
    const char *spec; /* --replicates jk1|jkn|brr|fay:RHO|bootstrap[:N] */
    const char *strata, *psu, *fpc, *repinfo, *seed;
};

/* Checks the options (usage errors exit); NULL when --replicates is absent. */
svy_wrep *wrep_tool_setup(const struct wrep_opts *o);
/* Replicate column i's name: <out>_r<i+1>. */
void wrep_tool_colname(const char *out, size_t i, char *buf, size_t size);
/* Adds the replicate columns to the output schema. */
svy_status wrep_tool_schema(const svy_wrep *r, const char *out, svy_schema *s, const char *src, svy_err *err);
/* Writes the replicate-design file. */
svy_status wrep_tool_repinfo(const svy_wrep *r, const char *path, const char *out, svy_err *err);

#endif
