/* Codebook internals shared by codebook.c (loading), codebook_table.c (its
 * CSV files), codebook_parse.c (parsing helpers), codebook_access.c
 * (accessors, the codebook against a schema) and clean.c.  Not installed. */
#ifndef SVY_CODEBOOK_PRIVATE_H
#define SVY_CODEBOOK_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error codebook_private.h is only for building libsurvey and its unit tests.
#endif

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <survey/codebook.h>

#define COUNT(a) (sizeof(a) / sizeof *(a))

/* ---- the CSV files (codebook_table.c) ----------------------------------- */

typedef struct cbrow {
    char **f;
    size_t n;
    int line;
} cbrow;

typedef struct cbtab {
    const char *path;
    char **head;
    size_t nhead;
    cbrow *rows;
    size_t nrows, cap;
} cbtab;

/* Read path into t.  When absent is not NULL a missing file is no error:
 * *absent is set and t stays empty. */
svy_status cbtab_load(cbtab *t, const char *path, int *absent, svy_err *err);
void cbtab_free(cbtab *t);
/* Column index by header name; -1 when absent. */
long cbtab_col(const cbtab *t, const char *name);
/* Field c of row r; "" past the row's end or for c < 0. */
const char *cbtab_cell(const cbtab *t, size_t r, long c);
/* Every header must be known and the required ones present. */
svy_status cbtab_check_header(const cbtab *t, const char *const *known, size_t nknown, const char *const *req,
                              size_t nreq, svy_err *err);

enum { CB_F_STUDY, CB_F_VARIABLES, CB_F_VALUES, CB_F_RECODES, CB_F_DERIVED, CB_F_CHECKS, CB_F_COUNT };

typedef struct cb_range {
    double lo, hi;
} cb_range;

typedef struct cb_label {
    double code;
    char *zh, *en;
    int line;
} cb_label;

typedef struct cb_labelset {
    char *name;
    cb_label *v;
    size_t n, cap;
} cb_labelset;

typedef struct cb_rule {
    pcre2_code *re;
    char *pattern;
    char *value; /* NULL: the value becomes missing */
    int line;
} cb_rule;

typedef struct cb_recode {
    char *name;
    cb_rule *r;
    size_t n, cap;
    pcre2_match_data *md; /* one per set: match data is reused across rows */
    pcre2_match_context *mctx; /* the match and depth limits (CB_MATCH_LIMIT) */
} cb_recode;

/* A pattern that backtracks without end ("^(a+)+$" on "aaa...a!") stops
 * here instead of costing seconds per cell: far above what a pattern
 * written for survey answers needs. */
#define CB_MATCH_LIMIT 100000u
#define CB_DEPTH_LIMIT 10000u

typedef enum cb_kind { CB_K_SOURCE = 0, CB_K_COPY, CB_K_ANY_OF, CB_K_ALL_OF, CB_K_THRESHOLD, CB_K_MAP } cb_kind;

typedef enum cb_op { CB_OP_EQ, CB_OP_NE, CB_OP_LT, CB_OP_LE, CB_OP_GT, CB_OP_GE, CB_OP_MISSING, CB_OP_PRESENT } cb_op;

typedef struct cb_map {
    double lo, hi, to;
} cb_map;

struct svy_cb_var {
    char *name, *source, *label_zh, *label_en;
    svy_cb_type type;
    svy_role role;      /* the first role of the cell */
    int stage;          /* its stage: 1 for psu/strata/fpc, 2 for psu2..., else 0 */
    svy_role roles[4];  /* every role of the cell ("id;psu2") */
    int stages[4];
    size_t nroles;
    cb_kind kind;
    int reject_invalid; /* invalid value: drop the row instead of making it missing */
    cb_range *valid;
    size_t nvalid;
    char **missing; /* missing codes as written */
    double *missing_num; /* NAN when the code is not a number */
    size_t nmissing;
    cb_recode *recode;
    cb_labelset *labels;
    /* derived */
    size_t *src;
    size_t nsrc;
    cb_op op;
    double arg;
    cb_map *map;
    size_t nmap;
    int line, file, source_col, labels_col;
};

typedef struct cb_cond {
    size_t var;
    cb_op op;
    double value;
} cb_cond;

typedef enum cb_action { CB_ACT_SET_MISSING, CB_ACT_REJECT, CB_ACT_WARN } cb_action;

typedef struct cb_check {
    char *name, *message;
    cb_cond when, then;
    cb_action action;
    int line;
} cb_check;

typedef enum cb_dup { CB_DUP_KEEP_FIRST, CB_DUP_ERROR } cb_dup;

struct svy_codebook {
    char *dir, *name, *title;
    char *path[CB_F_COUNT];
    svy_cb_var *vars;
    size_t nvars, cap;
    size_t nsource; /* vars[0..nsource) come from variables.csv */
    cb_labelset *sets;
    size_t nsets, sets_cap;
    cb_recode *recodes;
    size_t nrecodes, recodes_cap;
    cb_check *checks;
    size_t nchecks, checks_cap;
    long id; /* index of the id variable or -1 */
    cb_dup dup;
};

/* ---- parsing helpers (codebook_parse.c) ----------------------------------- */

/* A whole text as a number (svy_parse_number). */
int cb_parse_num(const char *s, double *out);
int cb_is_design_role(svy_role r);
/* Whether v has role at stage (-1: any stage). */
int cb_has_role(const svy_cb_var *v, svy_role role, int stage);
/* "16-75", "1;2;3", "1-5;99", "-9--1": values and ranges separated by ';'. */
int cb_parse_ranges(const char *s, cb_range **out, size_t *n);
/* A comparison operator at *s, which moves past it. */
int cb_parse_op(const char **s, cb_op *op);

/* Read a number out of text the way type `number` does: blanks, thousands
 * separators, currency marks and unit words are dropped, "k"/"千" multiply by
 * 1000 and "万" by 10000.  1 when a number was found, 0 otherwise. */
int svy_cb_parse_quantity(const char *s, size_t len, double *out);

/* Condition test on a cleaned value (missing: is_missing set). */
int svy_cb_cond_holds(cb_op op, double ref, int is_missing, double x);

#endif
