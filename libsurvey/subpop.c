/* Subpopulations: parse, bind and evaluate --subpop EXPR (survey/subpop.h).
 * R's subset.survey.design is the specification of what is in:
 * r <- eval(EXPR); r & !is.na(r). */
#include "svy_private.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <survey/choices.h>
#include <survey/subpop.h>

#include "subpop_private.h"

#define EXPR_MAX ((size_t)1 << 16) /* bytes of an expression */
#define DEPTH_MAX 200              /* nesting of ( and ! */

typedef enum { N_OR, N_AND, N_NOT, N_CMP, N_IN } nkind;
typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } cmpop;
_Static_assert((int)N_IN == SVY_SP_IN && (int)OP_GE == SVY_SP_GE, "subpop_private.h names the same kinds");
static const char *const op_text[] = {"==", "!=", "<", "<=", ">", ">="};

typedef struct lit {
    int is_str;       /* written as text */
    double num;       /* the number written, or the code a label names (bound) */
    char *str;        /* the text written */
    size_t pos;       /* byte offset in the expression */
    int by_num;       /* bound: compare numerically with num */
    const char *text; /* bound: compare as text with this: str, or own */
    char *own;        /* bound: a copy of the value a text column's label names */
} lit;

typedef struct node {
    nkind kind;
    cmpop op;
    size_t a, b;       /* children: OR, AND (a, b), NOT (a) */
    size_t col;        /* CMP, IN: index into cols */
    size_t lit0, nlit; /* CMP, IN: literals */
} node;

typedef struct column {
    char *name;
    size_t pos; /* byte offset of its first use */
    long idx;   /* bound: index in the schema */
} column;

struct svy_subpop {
    char *expr, *canon;
    node *nodes;
    size_t nnodes, cap_nodes;
    lit *lits;
    size_t nlits, cap_lits;
    column *cols;
    size_t ncols, cap_cols;
    size_t root;
    int bound;
};

/* ------------------------------------------------------------ errors */

/* 1-based character (UTF-8, not byte) at byte offset off. */
static size_t char_pos(const char *s, size_t off)
{
    size_t n = 1;
    for (size_t i = 0; i < off && s[i]; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static svy_status fail_at(svy_err *err, const char *expr, size_t off, const char *var, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* "--subpop: MESSAGE (character N of: EXPR)", SVY_E_USAGE. */
static svy_status fail_at(svy_err *err, const char *expr, size_t off, const char *var, const char *fmt, ...)
{
    char m[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, var, "--subpop: %s (character %zu of: %s)", m,
                       char_pos(expr, off), expr);
}

static svy_status nomem(svy_err *err)
{
    return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "--subpop: out of memory");
}

/* ------------------------------------------------------------ lexer */

typedef enum {
    T_END, T_IDENT, T_NUM, T_STR, T_OP, T_AND, T_OR, T_NOT, T_LPAR, T_RPAR, T_LBRACE, T_RBRACE, T_COMMA, T_IN, T_BAD
} tkind;

typedef struct parser {
    svy_subpop *s;
    const char *e;
    size_t off;   /* next byte to lex */
    tkind t;      /* current token */
    size_t start; /* its byte offset */
    cmpop op;
    double num;
    char *text; /* IDENT, STR: malloc'd, taken by whoever keeps it */
    int depth;
    svy_err *err;
} parser;

static int ident_byte(unsigned char c, int first)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 ||
           (!first && ((c >= '0' && c <= '9') || c == '.'));
}

/* A quoted text or `name`: the bytes between the quotes, escapes undone
 * (none in backquotes).  -1 when the closing quote is missing. */
static int lex_quoted(parser *P, char q)
{
    const char *e = P->e;
    size_t i = P->off + 1, n = 0;
    char *out = svy_malloc(strlen(e + i) + 1);
    if (!out)
        return -2;
    while (e[i] && e[i] != q) {
        if (q != '`' && e[i] == '\\' && (e[i + 1] == q || e[i + 1] == '\\'))
            i++;
        out[n++] = e[i++];
    }
    if (!e[i]) {
        free(out);
        return -1;
    }
    out[n] = '\0';
    P->text = out;
    P->off = i + 1;
    return 0;
}

static int lex_number(parser *P)
{
    const char *e = P->e + P->off;
    size_t n = 0;
    if (e[n] == '-' || e[n] == '+')
        n++;
    while ((e[n] >= '0' && e[n] <= '9') || e[n] == '.' || e[n] == 'e' || e[n] == 'E' ||
           ((e[n] == '-' || e[n] == '+') && (e[n - 1] == 'e' || e[n - 1] == 'E')))
        n++;
    if (ident_byte((unsigned char)e[n], 0) || !svy_parse_number(e, n, &P->num) || !isfinite(P->num))
        return -1;
    P->off += n;
    return 0;
}

static const struct {
    const char *text;
    tkind t;
    cmpop op;
} puncts[] = {{"==", T_OP, OP_EQ}, {"!=", T_OP, OP_NE}, {"<=", T_OP, OP_LE}, {">=", T_OP, OP_GE},
              {"&&", T_AND, 0},    {"||", T_OR, 0},     {"<", T_OP, OP_LT},  {">", T_OP, OP_GT},
              {"&", T_AND, 0},     {"|", T_OR, 0},      {"!", T_NOT, 0},     {"(", T_LPAR, 0},
              {")", T_RPAR, 0},    {"{", T_LBRACE, 0},  {"}", T_RBRACE, 0},  {",", T_COMMA, 0}};

/* The next token into P; SVY_E_USAGE for bytes that make none. */
static svy_status lex(parser *P)
{
    free(P->text);
    P->text = NULL;
    const char *e = P->e;
    while (e[P->off] == ' ' || e[P->off] == '\t' || e[P->off] == '\n' || e[P->off] == '\r')
        P->off++;
    P->start = P->off;
    char c = e[P->off];
    if (!c)
        return P->t = T_END, SVY_OK;
    if (c == '"' || c == '\'' || c == '`') {
        int r = lex_quoted(P, c);
        if (r == -2)
            return nomem(P->err);
        if (r < 0)
            return fail_at(P->err, e, P->start, NULL, "%c without its closing %c", c, c);
        P->t = c == '`' ? T_IDENT : T_STR;
        return SVY_OK;
    }
    if ((c >= '0' && c <= '9') || c == '.' || ((c == '-' || c == '+') && ((e[P->off + 1] >= '0' && e[P->off + 1] <= '9') || e[P->off + 1] == '.'))) {
        if (lex_number(P) < 0)
            return fail_at(P->err, e, P->start, NULL, "not a number");
        return P->t = T_NUM, SVY_OK;
    }
    if (ident_byte((unsigned char)c, 1)) {
        size_t n = 1;
        while (ident_byte((unsigned char)e[P->off + n], 0))
            n++;
        P->text = svy_strndup(e + P->off, n);
        if (!P->text)
            return nomem(P->err);
        P->off += n;
        P->t = n == 2 && !memcmp(e + P->start, "in", 2) ? T_IN : T_IDENT;
        return SVY_OK;
    }
    for (size_t i = 0; i < sizeof puncts / sizeof *puncts; i++) {
        size_t n = strlen(puncts[i].text);
        if (!strncmp(e + P->off, puncts[i].text, n)) {
            P->off += n;
            P->op = puncts[i].op;
            return P->t = puncts[i].t, SVY_OK;
        }
    }
    if (c == '=')
        return fail_at(P->err, e, P->start, NULL, "'=' is not a comparison: write ==");
    return fail_at(P->err, e, P->start, NULL, "unexpected '%c'", c);
}

/* ------------------------------------------------------------ parser */

static long add_node(parser *P, node n)
{
    svy_subpop *s = P->s;
    if (!svy_grow((void **)&s->nodes, &s->cap_nodes, s->nnodes + 1, sizeof *s->nodes))
        return nomem(P->err), -1;
    s->nodes[s->nnodes] = n;
    return (long)s->nnodes++;
}

/* The column P->text names (taken), as an index into s->cols. */
static long add_column(parser *P)
{
    svy_subpop *s = P->s;
    for (size_t i = 0; i < s->ncols; i++)
        if (!strcmp(s->cols[i].name, P->text))
            return (long)i;
    if (!svy_grow((void **)&s->cols, &s->cap_cols, s->ncols + 1, sizeof *s->cols))
        return nomem(P->err), -1;
    s->cols[s->ncols] = (column){P->text, P->start, -1};
    P->text = NULL;
    return (long)s->ncols++;
}

/* One value (number or text) as a literal; then the next token. */
static svy_status value(parser *P, const char *colname)
{
    svy_subpop *s = P->s;
    if (P->t == T_IDENT)
        return fail_at(P->err, P->e, P->start, colname, "%s is not a value: write text in quotes (\"%s\")", P->text,
                       P->text);
    if (P->t != T_NUM && P->t != T_STR)
        return fail_at(P->err, P->e, P->start, colname, "a number or a \"text\" to compare %s with is missing", colname);
    if (!svy_grow((void **)&s->lits, &s->cap_lits, s->nlits + 1, sizeof *s->lits))
        return nomem(P->err);
    s->lits[s->nlits++] = (lit){.is_str = P->t == T_STR, .num = P->num, .str = P->text, .pos = P->start};
    P->text = NULL;
    return lex(P);
}

/* column op value | column in { value, ... } */
static long test(parser *P)
{
    if (P->t != T_IDENT)
        return fail_at(P->err, P->e, P->start, NULL,
                       P->t == T_END ? "a comparison is missing at the end" : "a column name is expected here"), -1;
    long col = add_column(P);
    if (col < 0 || lex(P) != SVY_OK)
        return -1;
    const char *name = P->s->cols[col].name;
    node n = {.kind = P->t == T_IN ? N_IN : N_CMP, .op = P->op, .col = (size_t)col, .lit0 = P->s->nlits};
    if (P->t != T_OP && P->t != T_IN)
        return fail_at(P->err, P->e, P->start, name, "==, !=, <, <=, >, >= or in is expected after %s", name), -1;
    if (lex(P) != SVY_OK)
        return -1;
    if (n.kind == N_CMP) {
        if (value(P, name) != SVY_OK)
            return -1;
    } else {
        if (P->t != T_LBRACE)
            return fail_at(P->err, P->e, P->start, name, "{ is expected after in"), -1;
        do {
            if (lex(P) != SVY_OK || value(P, name) != SVY_OK)
                return -1;
        } while (P->t == T_COMMA);
        if (P->t != T_RBRACE)
            return fail_at(P->err, P->e, P->start, name, "} or , is expected in the list of %s", name), -1;
        if (lex(P) != SVY_OK)
            return -1;
    }
    n.nlit = P->s->nlits - n.lit0;
    return add_node(P, n);
}

static long or_expr(parser *P);

static long unary(parser *P)
{
    if (++P->depth > DEPTH_MAX)
        return fail_at(P->err, P->e, P->start, NULL, "nested more than %d deep", DEPTH_MAX), -1;
    long r;
    if (P->t == T_NOT) {
        if (lex(P) != SVY_OK || (r = unary(P)) < 0)
            return -1;
        r = add_node(P, (node){.kind = N_NOT, .a = (size_t)r});
    } else if (P->t == T_LPAR) {
        size_t open = P->start;
        if (lex(P) != SVY_OK || (r = or_expr(P)) < 0)
            return -1;
        if (P->t != T_RPAR)
            return fail_at(P->err, P->e, P->t == T_END ? open : P->start, NULL,
                           P->t == T_END ? "( without its )" : "& | or ) is expected here"), -1;
        if (lex(P) != SVY_OK)
            return -1;
    } else
        r = test(P);
    P->depth--;
    return r;
}

static long binary(parser *P, tkind t)
{
    long a = t == T_OR ? binary(P, T_AND) : unary(P);
    while (a >= 0 && P->t == t) {
        long b;
        if (lex(P) != SVY_OK || (b = t == T_OR ? binary(P, T_AND) : unary(P)) < 0)
            return -1;
        a = add_node(P, (node){.kind = t == T_OR ? N_OR : N_AND, .a = (size_t)a, .b = (size_t)b});
    }
    return a;
}

static long or_expr(parser *P) { return binary(P, T_OR); }

/* ------------------------------------------------------------ canonical text */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int failed;
} sbuf;

static void put(sbuf *b, const char *t, size_t n)
{
    if (b->failed || !svy_grow((void **)&b->p, &b->cap, b->n + n + 1, 1)) {
        b->failed = 1;
        return;
    }
    memcpy(b->p + b->n, t, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void puts_(sbuf *b, const char *t) { put(b, t, strlen(t)); }

static void put_name(sbuf *b, const char *name)
{
    int plain = ident_byte((unsigned char)name[0], 1) && strcmp(name, "in") != 0;
    for (const char *c = name; *c && plain; c++)
        plain = ident_byte((unsigned char)*c, 0);
    if (plain) {
        puts_(b, name);
        return;
    }
    puts_(b, "`");
    puts_(b, name);
    puts_(b, "`");
}

static void put_lit(sbuf *b, const lit *l)
{
    if (!l->is_str) {
        char nb[SVY_DTOA_MAX];
        put(b, nb, svy_dtoa(l->num, nb));
        return;
    }
    puts_(b, "\"");
    for (const char *c = l->str; *c; c++) {
        if (*c == '"' || *c == '\\')
            puts_(b, "\\");
        put(b, c, 1);
    }
    puts_(b, "\"");
}

static int prec(nkind k) { return k == N_OR ? 1 : k == N_AND ? 2 : k == N_NOT ? 3 : 4; }

static void print_node(const svy_subpop *s, sbuf *b, size_t i, int min)
{
    const node *n = &s->nodes[i];
    int paren = prec(n->kind) < min;
    if (paren)
        puts_(b, "(");
    switch (n->kind) {
    case N_OR:
    case N_AND:
        print_node(s, b, n->a, prec(n->kind));
        puts_(b, n->kind == N_OR ? " | " : " & ");
        print_node(s, b, n->b, prec(n->kind) + 1);
        break;
    case N_NOT:
        puts_(b, "!");
        /* what ! negates is always bracketed, but for another ! */
        print_node(s, b, n->a, s->nodes[n->a].kind == N_NOT ? 3 : 5);
        break;
    case N_CMP:
    case N_IN:
        put_name(b, s->cols[n->col].name);
        puts_(b, n->kind == N_IN ? " in {" : " ");
        if (n->kind == N_CMP) {
            puts_(b, op_text[n->op]);
            puts_(b, " ");
        }
        for (size_t k = 0; k < n->nlit; k++) {
            if (k)
                puts_(b, ", ");
            put_lit(b, &s->lits[n->lit0 + k]);
        }
        if (n->kind == N_IN)
            puts_(b, "}");
        break;
    }
    if (paren)
        puts_(b, ")");
}

/* ------------------------------------------------------------ parse, free */

void svy_subpop_free(svy_subpop *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nlits; i++) {
        free(s->lits[i].str);
        free(s->lits[i].own);
    }
    for (size_t i = 0; i < s->ncols; i++)
        free(s->cols[i].name);
    free(s->lits);
    free(s->cols);
    free(s->nodes);
    free(s->expr);
    free(s->canon);
    free(s);
}

svy_status svy_subpop_parse(const char *expr, svy_subpop **out, svy_err *err)
{
    svy_err local;
    if (!err)
        err = &local;
    *out = NULL;
    size_t len = strlen(expr);
    SVY_FAIL_IF(len > EXPR_MAX, err, SVY_E_LIMIT, "--subpop: the expression is longer than %zu bytes", EXPR_MAX);
    size_t bad;
    SVY_FAIL_IF(!svy_utf8_valid(expr, len, &bad), err, SVY_E_USAGE, "--subpop: not UTF-8 at byte %zu", bad + 1);
    svy_subpop *s = svy_calloc(1, sizeof *s);
    if (!s || !(s->expr = svy_strdup(expr))) {
        free(s);
        return nomem(err);
    }
    parser P = {.s = s, .e = s->expr, .err = err};
    long root = -1;
    if (lex(&P) == SVY_OK) {
        if (P.t == T_END)
            fail_at(err, s->expr, 0, NULL, "the expression is empty");
        else if ((root = or_expr(&P)) >= 0 && P.t != T_END) {
            fail_at(err, s->expr, P.start, NULL, P.t == T_RPAR ? ") without its (" : "& | or the end is expected here");
            root = -1;
        }
    }
    free(P.text);
    if (root < 0) {
        svy_subpop_free(s);
        return err->code;
    }
    s->root = (size_t)root;
    sbuf b = {0};
    print_node(s, &b, s->root, 0);
    if (b.failed) {
        free(b.p);
        svy_subpop_free(s);
        return nomem(err);
    }
    s->canon = b.p;
    *out = s;
    return SVY_OK;
}

size_t svy_subpop_ncolumns(const svy_subpop *s) { return s->ncols; }
const char *svy_subpop_column(const svy_subpop *s, size_t i) { return i < s->ncols ? s->cols[i].name : NULL; }
const char *svy_subpop_text(const svy_subpop *s) { return s->canon; }

/* ------------------------------------------------------------ bind */

/* A text value of a text column: the value itself, or the value whose
 * label it is (exactly; a value equal to the text wins). */
static const char *text_value(const svy_var *var, const char *text)
{
    const char *by_label = NULL;
    for (size_t i = 0; i < svy_var_nlabels(var); i++) {
        const svy_value *v = svy_var_label_value(var, i);
        if (v->type != SVY_VAL_STR)
            continue;
        if (!strcmp(v->str, text))
            return text;
        if (!by_label && !strcmp(svy_var_label_text(var, i), text))
            by_label = v->str;
    }
    return by_label ? by_label : text;
}

/* A number compared with a column: a number column takes any number with
 * ordering operators; with == != in, a coded column's codes only. */
static svy_status bind_number(const svy_subpop *s, const column *c, int ordering, lit *l, const svy_var *var,
                              const svy_cb_var *cbv, svy_err *err)
{
    char nb[SVY_DTOA_MAX];
    svy_dtoa(l->num, nb);
    if (svy_var_type_of(var) == SVY_VAR_STRING)
        return fail_at(err, s->expr, l->pos, c->name, "%s is a text column: write the value in quotes (\"%s\")",
                       c->name, nb);
    l->by_num = 1;
    if (ordering)
        return SVY_OK;
    double code;
    char *known;
    if (svy_level_resolve(var, cbv, nb, &code, &known) == SVY_LEVEL_NONE) {
        svy_status st = fail_at(err, s->expr, l->pos, c->name, "%s is not a code of %s; %s has %s", nb, c->name,
                                c->name, known ? known : "no labelled codes");
        free(known);
        return st;
    }
    return SVY_OK;
}

static svy_status bind_text(const svy_subpop *s, const column *c, int ordering, lit *l, const svy_var *var,
                            const svy_cb_var *cbv, svy_err *err)
{
    svy_var_type type = svy_var_type_of(var);
    if (type == SVY_VAR_STRING) {
        if (ordering)
            return fail_at(err, s->expr, l->pos, c->name, "%s is a text column: compare it with == != or in",
                           c->name);
        const char *t = text_value(var, l->str);
        if (t != l->str && !(l->own = svy_strdup(t)))
            return nomem(err);
        l->text = l->own ? l->own : l->str;
        return SVY_OK;
    }
    char *known;
    switch (svy_level_resolve(var, cbv, l->str, &l->num, &known)) {
    case SVY_LEVEL_CODE:
        /* a CSV column may hold the labels themselves */
        l->by_num = 1;
        l->text = l->str;
        return SVY_OK;
    case SVY_LEVEL_NONE: {
        svy_status st = fail_at(err, s->expr, l->pos, c->name, "\"%s\" is neither a code nor a label of %s; %s has %s",
                                l->str, c->name, c->name, known ? known : "no labelled codes");
        free(known);
        return st;
    }
    case SVY_LEVEL_UNKNOWN:
        break;
    }
    if (type == SVY_VAR_NUMERIC)
        return fail_at(err, s->expr, l->pos, c->name, "%s is a number column without value labels: \"%s\" names no code",
                       c->name, l->str);
    if (ordering)
        return fail_at(err, s->expr, l->pos, c->name,
                       "%s has no value labels to say which code \"%s\" is: < <= > >= compare numbers", c->name, l->str);
    l->text = l->str; /* a CSV column of text, matched as given */
    return SVY_OK;
}

svy_status svy_subpop_bind(svy_subpop *s, const svy_schema *schema, const svy_codebook *cb, svy_err *err)
{
    svy_err local;
    if (!err)
        err = &local;
    s->bound = 0;
    for (size_t i = 0; i < s->ncols; i++) {
        column *c = &s->cols[i];
        c->idx = svy_schema_find(schema, c->name);
        if (c->idx < 0)
            return fail_at(err, s->expr, c->pos, c->name, "no column %s in the input", c->name);
    }
    for (size_t i = 0; i < s->nnodes; i++) {
        const node *n = &s->nodes[i];
        if (n->kind != N_CMP && n->kind != N_IN)
            continue;
        const column *c = &s->cols[n->col];
        const svy_var *var = svy_schema_var(schema, (size_t)c->idx);
        long ci = cb ? svy_codebook_find(cb, c->name) : -1;
        const svy_cb_var *cbv = ci >= 0 ? svy_codebook_var(cb, (size_t)ci) : NULL;
        int ordering = n->kind == N_CMP && n->op >= OP_LT;
        for (size_t k = 0; k < n->nlit; k++) {
            lit *l = &s->lits[n->lit0 + k];
            l->by_num = 0;
            l->text = NULL;
            free(l->own);
            l->own = NULL;
            svy_status st = l->is_str ? bind_text(s, c, ordering, l, var, cbv, err)
                                      : bind_number(s, c, ordering, l, var, cbv, err);
            if (st != SVY_OK)
                return st;
        }
    }
    s->bound = 1;
    return SVY_OK;
}

/* ------------------------------------------------------------ eval */

enum { NO = 0, YES = 1, NA = 2, FAILED = -1 };

/* The text of a cell: its bytes, or a number written as svy writes it. */
static const char *cell_text(const svy_value *v, char *nb, size_t *len)
{
    if (v->type == SVY_VAL_STR)
        return *len = v->len, v->str;
    *len = svy_dtoa(v->num, nb);
    return nb;
}

static int text_eq(const svy_value *v, const char *t)
{
    char nb[SVY_DTOA_MAX];
    size_t len;
    const char *s = cell_text(v, nb, &len);
    return len == strlen(t) && memcmp(s, t, len) == 0;
}

/* One literal against a present value: YES, NO, NA (NaN) or FAILED. */
static int match(const svy_subpop *s, const node *n, const lit *l, const svy_row *row, const svy_value *v,
                 svy_err *err)
{
    if (!l->by_num)
        return text_eq(v, l->text) == (n->kind == N_IN || n->op == OP_EQ);
    double x;
    if (!svy_value_number(v, &x)) {
        if (l->text && (n->kind == N_IN || n->op <= OP_NE))
            return text_eq(v, l->text) == (n->kind == N_IN || n->op == OP_EQ);
        char nb[SVY_DTOA_MAX];
        size_t len;
        const char *t = cell_text(v, nb, &len);
        const column *c = &s->cols[n->col];
        svy_err_set(err, SVY_E_DATA, NULL, row->index, c->idx + 1, c->name,
                    "--subpop: %s is '%.*s', not a number to compare with %s", c->name, (int)(len > 64 ? 64 : len), t,
                    s->canon);
        return FAILED;
    }
    if (isnan(x))
        return NA;
    switch (n->kind == N_IN ? OP_EQ : n->op) {
    case OP_EQ: return x == l->num;
    case OP_NE: return x != l->num;
    case OP_LT: return x < l->num;
    case OP_LE: return x <= l->num;
    case OP_GT: return x > l->num;
    case OP_GE: return x >= l->num;
    }
    return FAILED;
}

static int eval_test(const svy_subpop *s, const node *n, const svy_row *row, svy_err *err)
{
    const column *c = &s->cols[n->col];
    if ((size_t)c->idx >= row->nvals) {
        svy_err_set(err, SVY_E_DATA, NULL, row->index, 0, c->name, "--subpop: the row has no column %s", c->name);
        return FAILED;
    }
    const svy_value *v = &row->vals[c->idx];
    /* R: a comparison with NA is NA; NA %in% set is FALSE */
    if (svy_value_is_missing(v))
        return n->kind == N_IN ? NO : NA;
    for (size_t k = 0; k < n->nlit; k++) {
        int m = match(s, n, &s->lits[n->lit0 + k], row, v, err);
        if (m == FAILED || n->kind == N_CMP)
            return m;
        if (m == YES)
            return YES;
        /* %in%: NaN (NA) is in no set of numbers */
    }
    return NO;
}

/* Three-valued, as R's & | ! on logical vectors. */
static int eval_node(const svy_subpop *s, size_t i, const svy_row *row, svy_err *err)
{
    const node *n = &s->nodes[i];
    int a, b;
    switch (n->kind) {
    case N_NOT:
        a = eval_node(s, n->a, row, err);
        return a == NO ? YES : a == YES ? NO : a;
    case N_AND:
    case N_OR: {
        int stop = n->kind == N_AND ? NO : YES;
        if ((a = eval_node(s, n->a, row, err)) == FAILED || a == stop)
            return a;
        if ((b = eval_node(s, n->b, row, err)) == FAILED || b == stop)
            return b;
        return a == NA || b == NA ? NA : a;
    }
    default:
        return eval_test(s, n, row, err);
    }
}

svy_status svy_subpop_eval(const svy_subpop *s, const svy_row *row, int *in, svy_err *err)
{
    svy_err local;
    if (!err)
        err = &local;
    *in = 0;
    if (!s->bound)
        return svy_err_set(err, SVY_E_USAGE, NULL, 0, 0, NULL, "--subpop: evaluated before it was bound to a schema");
    int r = eval_node(s, s->root, row, err);
    if (r == FAILED)
        return err->code;
    *in = r == YES; /* R: r & !is.na(r) */
    return SVY_OK;
}

/* ------------------------------------------------------------ view (subpop_private.h) */

int svy_subpop_bound(const svy_subpop *s) { return s->bound; }
size_t svy_subpop_root(const svy_subpop *s) { return s->root; }

void svy_subpop_node_at(const svy_subpop *s, size_t i, svy_subpop_node *out)
{
    const node *n = &s->nodes[i];
    int leaf = n->kind == N_CMP || n->kind == N_IN;
    *out = (svy_subpop_node){(int)n->kind, (int)n->op, n->a, n->b, leaf ? s->cols[n->col].name : NULL, leaf ? n->nlit : 0};
}

void svy_subpop_lit_at(const svy_subpop *s, size_t i, size_t k, svy_subpop_lit *out)
{
    const lit *l = &s->lits[s->nodes[i].lit0 + k];
    *out = (svy_subpop_lit){l->by_num, l->num, l->text};
}
