/* svy_model internals shared by model*.c (not installed).
 *
 * model_formula.c  the formula: variables and terms (R's expansion of *, :, -)
 * model.c          the object: design, spool of the model's rows, levels
 * model_matrix.c   columns of the model matrix from terms and levels (R's coding)
 * model_fit.c      IRLS as glm.fit runs it, the sandwich (svy.varcoef), t/CI
 * model_margins.c  svypredmeans and the differences from the reference level
 * model_wald.c     regTermTest
 * model_write.c    the tables
 * model_cal.c      calibrated weights (--calibrated-to) and the design
 *                  covariance of the rows' linearized values
 */
#ifndef SVY_MODEL_PRIVATE_H
#define SVY_MODEL_PRIVATE_H

#ifndef SVY_BUILDING_LIB
#error model_private.h is only for building libsurvey and its unit tests.
#endif

#include <stdint.h>
#include <stdio.h>
#include <survey/model.h>

#include "design_private.h"
#include "hashmap_private.h"
#include "vtotals_private.h"

enum {
    SVY_MODEL_VARS_MAX = 64,    /* variables of a formula (a bit each in a term) */
    SVY_MODEL_LEVELS_MAX = 1000, /* levels of one categorical column */
    SVY_MODEL_COLS_MAX = 2000    /* columns of the model matrix */
};

/* One level of a categorical column. */
typedef struct mlevel {
    int isnum;
    double num;
    uint32_t tid;       /* text id when !isnum */
    char *text;         /* as printed: the code or the text */
    char *label;        /* value label, or NULL */
} mlevel;

typedef struct mvar {
    char *column;       /* the input column */
    char *name;         /* as written: "x" or "factor(x)" */
    int factor;         /* factor(x): categorical whatever its values */
    long col;           /* in the schema */
    int cat;            /* categorical (decided after the first pass) */
    int any_text;       /* a value that is not a number was seen */
    int many;           /* more distinct numbers than SVY_MODEL_LEVELS_MAX */
    svy_strtab texts;   /* text values seen */
    svy_u64map nums;    /* distinct numbers seen (bits), up to the cap */
    double *numlist;
    size_t nnum, capnum;
    mlevel *lev;        /* sorted: numbers by value, then texts bytewise */
    size_t nlev;
    uint32_t *tid_lev;  /* text id -> level */
    long ref;           /* reference level */
    char *ref_value;    /* --ref as given */
    double *wy1, *wsum; /* logit: per level, weighted rows with Y = 1 and all (separation) */
} mvar;

/* A term: a set of variables (bit i = variable i). */
typedef uint64_t mterm;

typedef struct mformula {
    mvar vars[SVY_MODEL_VARS_MAX]; /* vars[0] is Y */
    size_t nvars;
    mterm *terms;                  /* R's order: by degree, then as written */
    size_t nterms;
    int intercept;
} mformula;

/* One column of the model matrix: the product over its term's variables of
 * the value (numeric) or the indicator of a level. */
typedef struct mcol {
    size_t term;                   /* index in the formula's terms; SIZE_MAX: the intercept */
    uint16_t nv;
    uint16_t var[8];
    int32_t level[8];              /* -1: the numeric value */
    char *name, *label;
} mcol;

typedef struct mdesign_matrix {
    mcol *cols;
    size_t p;
} mmatrix;

/* A fitted model. */
typedef struct mfit {
    size_t p, rank;
    size_t *pivot;      /* pivot[i]: column of position i (the first rank are estimable) */
    double *beta;       /* p, NaN aliased */
    double *V;          /* p x p covariance, NaN aliased */
    double *Ainv;       /* rank x rank (XtWX)^-1 in pivot order */
    double df, design_df;
    int iter, converged;
    long long fitted01;
} mfit;

/* A spooled row. */
typedef struct mrow {
    svy_dpath path;
    double y;           /* Y as a number (text Y: its 0/1) */
    double num[SVY_MODEL_VARS_MAX];
    uint32_t lev[SVY_MODEL_VARS_MAX]; /* categorical: level index */
    uint32_t cell;      /* with calibration: the row's joint margin cell */
} mrow;

struct svy_cal;

struct svy_model {
    svy_design d;
    svy_family family;
    char *formula_text;
    mformula f;
    long margins_var;      /* index in f.vars, -1 none */
    char **wald;
    size_t nwald;
    svy_dsn dsn;
    int dsn_ready;
    const svy_schema *schema;
    FILE *spool;
    size_t reclen;
    long long rows, used, dropped, zero_w;
    const svy_subpop *subpop; /* borrowed; NULL: every row */
    long long subpop_rows;
    double wsum_all;       /* sum of the weights of every design row (R's rescale) */
    double wsum_used;      /* ... of the model's rows */
    int margins_refit;     /* svy_mfit_run is svypredmeans' refit */
    int y_text;            /* Y read as R reads a factor response */
    double y_bad;          /* a logit Y outside [0, 1] */
    long long y_bad_row;
    mmatrix X;
    mfit fit;
    svy_model_fit info;
    svy_model_coef *coefs;
    svy_model_margin *margins;
    size_t nmargins;
    svy_model_wald *walds;
    int count_levels;      /* the main fit counts rows and Y = 1 per level (separation) */
    char *separation, *y_note;
    char *keybuf;
    struct svy_cal *cal;   /* --calibrated-to margins (calib_private.h); NULL none */
    FILE *cal_out;         /* the design's rows outside the model: path and cell */
    int cal_ready;
    const char *source;    /* the input's name (borrowed) */
};

/* model_formula.c */
svy_status svy_mformula_parse(mformula *f, const char *text, svy_err *err);
void svy_mformula_free(mformula *f);
/* Index of the variable of column name as written (x or factor(x)), or -1. */
long svy_mformula_var(const mformula *f, const char *column);
/* Append a variable (as factor) unless there; its index; -1 too many. */
long svy_mformula_add_var(mformula *f, const char *column, int factor);
/* Terms of a comma-separated list ("a,b:c") as bit sets; 0 when one is not in the model. */
svy_status svy_mformula_terms_of(const mformula *f, const char *list, mterm *out, size_t cap, size_t *n,
                                 svy_err *err);

/* model_matrix.c */
svy_status svy_mmatrix_build(mmatrix *X, const mformula *f, const mterm *terms, size_t nterms, int intercept,
                             svy_err *err);
void svy_mmatrix_free(mmatrix *X);
/* The row's x (p values). */
static inline void svy_mmatrix_row(const mmatrix *X, const mrow *r, double *x)
{
    for (size_t j = 0; j < X->p; j++) {
        const mcol *c = &X->cols[j];
        double v = 1;
        for (uint16_t k = 0; k < c->nv; k++)
            v *= c->level[k] < 0 ? r->num[c->var[k]] : (double)(r->lev[c->var[k]] == (uint32_t)c->level[k]);
        x[j] = v;
    }
}

/* model.c: the spool */
svy_status svy_model_rewind(svy_model *m, svy_err *err);
/* 1 a row, 0 the end, -1 error (err set). */
int svy_model_next(svy_model *m, mrow *r, svy_err *err);
/* The main fit's first read of the spool: per level of each categorical
 * term, rows of nonzero weight and their sum of Y (for separation). */
void svy_model_count_levels(svy_model *m, const mrow *r);

/* model_fit.c: fit X by IRLS on the spool; margins_g >= 0 replaces that
 * variable's level in every row (predictions at a level) -- unused by the fit. */
svy_status svy_mfit_run(svy_model *m, const mmatrix *X, mfit *fit, svy_err *err);
void svy_mfit_free(mfit *fit);
double svy_model_linkinv(svy_family f, double eta);
double svy_model_mu_eta(svy_family f, double eta);

/* model_cal.c: calibration (the tool's --calibrated-to) */
svy_status svy_mcal_bind(svy_model *m, svy_err *err);
void svy_mcal_free(svy_model *m);
/* The rows come again. */
svy_status svy_mcal_again(svy_model *m, svy_err *err);
/* Every design row: its joint margin cell. */
svy_status svy_mcal_row(svy_model *m, const svy_row *row, const svy_dpath *path, uint32_t *cell, svy_err *err);
/* A design row that is not one of the model's. */
svy_status svy_mcal_outside(svy_model *m, const svy_dpath *path, uint32_t cell, svy_err *err);
/* After the last pass: the cells against the margins' totals. */
svy_status svy_mcal_ready(svy_model *m, svy_err *err);
const char *svy_mcal_column(const svy_model *m, size_t i);
/* The linearized values z (p) of a model row; last: the read that feeds the
 * variance (a value may be asked for twice with calibration). */
typedef void (*svy_mz_fn)(void *ctx, mrow *r, double *z, int last);
/* V (p x p): the design covariance of the totals of z over the model's rows,
 * with calibration residuals of every design row when the weights were
 * calibrated (R's svyrecvar with the design's postStrata); df: R's degf of
 * the design without the rows outside the model (NULL: not wanted). */
svy_status svy_model_vcov_of(svy_model *m, size_t p, svy_mz_fn fn, void *ctx, double *V, double *df, svy_err *err);

/* model_margins.c, model_wald.c */
svy_status svy_model_margins_run(svy_model *m, svy_err *err);
svy_status svy_model_wald_run(svy_model *m, svy_err *err);

#endif
