/* The replicate-weight flags (--repweights, --reptype, --rho, --scale,
 * --rscales, --mse, --repinfo) for tools that estimate (svy-tab). */
#ifndef SVY_TOOL_REPOPTS_H
#define SVY_TOOL_REPOPTS_H

#include <getopt.h>
#include <stddef.h>
#include <survey/replicate.h>

enum {
    SVY_REPOPT_WEIGHTS = 400,
    SVY_REPOPT_TYPE,
    SVY_REPOPT_RHO,
    SVY_REPOPT_SCALE,
    SVY_REPOPT_RSCALES,
    SVY_REPOPT_MSE,
    SVY_REPOPT_INFO
};

/* Entries for a tool's getopt_long table. */
#define SVY_REPOPTS_LONG                                                                                   \
    {"mse", no_argument, NULL, SVY_REPOPT_MSE}, {"repinfo", required_argument, NULL, SVY_REPOPT_INFO},     \
        {"reptype", required_argument, NULL, SVY_REPOPT_TYPE},                                             \
        {"repweights", required_argument, NULL, SVY_REPOPT_WEIGHTS},                                       \
        {"rho", required_argument, NULL, SVY_REPOPT_RHO}, {"rscales", required_argument, NULL, SVY_REPOPT_RSCALES}, \
        {"scale", required_argument, NULL, SVY_REPOPT_SCALE}

/* Lines for --help. */
#define SVY_REPOPTS_HELP                                                                                   \
    "Replicate weights (R's svrepdesign, combined weights; no strata, PSUs, fpc):\n"                       \
    "      --repweights COLS   replicate weight columns: a comma list, or PREFIX*\n"                        \
    "                          (columns starting with PREFIX); -w: the full-sample weight\n"               \
    "      --reptype TYPE      jk1|jkn|brr|fay|bootstrap|sdr|other (jk1)\n"                                \
    "      --scale S           R's scale (by type: jk1 (R-1)/R, brr 1/R, fay 1/(R(1-rho)^2),\n"            \
    "                          bootstrap 1/(R-1), sdr 4/R, jkn and other 1; R replicates)\n"               \
    "      --rscales FILE|LIST per-replicate factors (R's rscales; jkn needs them)\n"                      \
    "      --rho R             Fay's rho (fay needs it)\n"                                                 \
    "      --mse               centre on the full-sample estimate\n"                                       \
    "      --repinfo FILE      all of these (and -w) from svy-weight's replicate file\n"              \
    "                          (every statistic, --diff and --test take the replicate variance)\n"

typedef struct svy_repopts {
    char **cols;      /* --repweights' list */
    size_t ncols;
    int type_given;
    svy_reptype type;
    double rho, scale;
    double *rscales;
    size_t nrscales;
    int mse;
    const char *repinfo;
    int any;          /* some replicate flag was given */
    svy_repinfo *ri;
} svy_repopts;

void svy_repopts_init(svy_repopts *o);
void svy_repopts_free(svy_repopts *o);
/* Take option c (exits on a usage error); 0 when c is not a replicate flag. */
int svy_repopts_option(svy_repopts *o, int c, const char *arg);
/* After the options: the design into *d (its arrays live as long as o) and
 * the full-sample weight the --repinfo file names (NULL without one);
 * exits on a usage error or an unreadable file. */
void svy_repopts_design(svy_repopts *o, svy_repdesign *d, const char **weight);

#endif
