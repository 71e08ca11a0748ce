/* The design flags every estimating tool shares (-c, -w, -s, -p, --fpc,
 * --ultimate-cluster, --lonely, --lang, -q), their defaults from a study
 * codebook's design roles, the choice of the input's final weight, and the
 * line on standard error that says which design was chosen.  svy-tab and
 * svy-model use it (svy-tab keeps its own, longer help text). */
#ifndef SVY_DESIGN_OPTS_H
#define SVY_DESIGN_OPTS_H

#include <getopt.h>
#include <survey/survey.h>

enum {
    SVY_DOPT_FPC = 1000,
    SVY_DOPT_ULTIMATE,
    SVY_DOPT_LONELY,
    SVY_DOPT_LANG
};

/* Short options for getopt_long, and the long ones (spliced into the tool's table). */
#define SVY_DESIGN_SHORT "c:p:qs:w:"
#define SVY_DESIGN_LONG                                                                                            \
    {"codebook", required_argument, NULL, 'c'}, {"fpc", required_argument, NULL, SVY_DOPT_FPC},                    \
        {"lang", required_argument, NULL, SVY_DOPT_LANG}, {"lonely", required_argument, NULL, SVY_DOPT_LONELY},    \
        {"psu", required_argument, NULL, 'p'}, {"quiet", no_argument, NULL, 'q'},                                  \
        {"strata", required_argument, NULL, 's'}, {"ultimate-cluster", no_argument, NULL, SVY_DOPT_ULTIMATE},      \
        {"weight", required_argument, NULL, 'w'}

/* The help lines of these flags. */
#define SVY_DESIGN_HELP                                                                                           \
    "Design (flags override a codebook):\n"                                                                       \
    "  -c, --codebook DIR      design roles and value labels from a study codebook\n"                             \
    "      --lang zh|en        language of codebook labels (zh)\n"                                                \
    "  -w, --weight COL        sampling weight; 0 keeps the row in the design (default:\n"                        \
    "                          from the fpc, N/n multiplied over stages; else 1). With -c\n"                      \
    "                          and no -w, a final weight in the input (svy-weight's) is used\n"                   \
    "  -p, --psu A[,B...]      unit ids by stage, as R's id = ~A + B (default: each row)\n"                       \
    "  -s, --strata S1[,S2...] strata by stage, as R's strata = ~S1 + S2\n"                                       \
    "      --fpc F1[,F2...]    per stage: population units, or sampling fractions\n"                              \
    "      --ultimate-cluster  first-stage variance only (R's survey.ultimate.cluster)\n"                         \
    "      --lonely RULE       stratum with one unit: fail|remove|certainty|adjust|average (fail)\n"              \
    "  -q, --quiet             do not say on standard error which design was chosen;\n"                           \
    "                          no progress line\n"

typedef struct svy_design_opts {
    svy_design d;
    char **psu, **strata, **fpc; /* the flags' lists, owned */
    const char *cb_psu[SVY_STAGES_MAX], *cb_strata[SVY_STAGES_MAX], *cb_fpc[SVY_STAGES_MAX];
    const char *codebook;        /* -c */
    svy_codebook *cb;
    const char *cb_weight;       /* the codebook's design weight */
    svy_lang lang;
    int lang_given;
    int quiet;
    int lonely_given;            /* --lonely */
    int weight_given, roles_given, weight_final;
    char note[400];              /* the choice of weight, for a table's notes */
} svy_design_opts;

void svy_design_opts_init(svy_design_opts *o);
void svy_design_opts_free(svy_design_opts *o);
/* 1 when getopt_long's c was one of these flags (then handled; usage
 * errors exit 2), 0 otherwise. */
int svy_design_opts_parse(svy_design_opts *o, int c, const char *arg);
/* After the options: load the codebook and fill the roles the flags left open. */
svy_status svy_design_opts_resolve(svy_design_opts *o, svy_err *err);
/* In the reader's schema callback, on the tool's copy of the schema: the
 * codebook's labels, the final weight when none was given, and the line on
 * standard error (unless -q). */
svy_status svy_design_opts_on_schema(svy_design_opts *o, svy_schema *schema, svy_err *err);
/* The same in two steps, for a tool that must act on the weight's choice
 * before the line is said: the labels and the weight; then the line. */
svy_status svy_design_opts_weigh(svy_design_opts *o, svy_schema *schema, svy_err *err);
void svy_design_opts_say(const svy_design_opts *o);

#endif
