/* Internals shared by clean.c, clean_recode.c and clean_out.c. */
#ifndef SVY_CLEAN_PRIVATE_H
#define SVY_CLEAN_PRIVATE_H

#include "codebook_private.h"
#include "hashmap_private.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <survey/clean.h>
#include <survey/csv.h>

/* Which pattern of a recode set a text matched, remembered per variable:
 * survey columns repeat a few spellings, and a match depends on the text
 * alone.  Direct-mapped, CLEAN_MEMO_SLOTS slots (12 KiB) per recoded
 * variable, texts up to CLEAN_MEMO_TEXT bytes; errors (match limits) are
 * never remembered. */
#define CLEAN_MEMO_SLOTS 256
#define CLEAN_MEMO_TEXT 42
typedef struct clean_memo_slot {
    uint32_t k;   /* rule index + 1 (n + 1: no rule matched); 0: empty */
    uint16_t len;
    char text[CLEAN_MEMO_TEXT];
} clean_memo_slot;

/* The first rule of v's recode set that s[0..len) matches, in *k (the
 * set's n: none); memo may be NULL.  A pcre2 error (a limit) is a data
 * error naming the rule (recodes_path, its line) and the cell (input, row). */
svy_status svy_clean_match_recode(const svy_cb_var *v, clean_memo_slot *memo, const char *recodes_path,
                                  const char *input, long long row, const char *s, size_t len, size_t *k,
                                  svy_err *err);

/* "set@recodes.csv:line", the log's detail of rule k of rc. */
void svy_clean_recode_detail(const cb_recode *rc, size_t k, char *buf, size_t size);

/* What the rest of the row reads of a cleaned cell; a memo slot holds one
 * to copy whole. */
typedef struct clean_val {
    const char *f; /* the value as the CSV writer writes it (f and flen first: see clean_slot) */
    size_t flen;
    const char *s; /* text of the cleaned value ("" when missing) */
    size_t len;
    double num;
    int missing;
    int dtoa; /* numeric and s is svy_dtoa(num): f may be s */
} clean_val;

/* One cleaned cell, read through p: the value of a memo slot (a remembered
 * text: no copy) or the cell's own v, whose s and f point into own/fown or
 * static texts.  Either stays valid until the variable's next cell.  The
 * svy_clean_set_* functions fill v and point p at it. */
typedef struct clean_cell {
    const clean_val *p;
    union {
        clean_val v;
        struct { /* clean_val's fields */
            const char *f;
            size_t flen;
            const char *s;
            size_t len;
            double num;
            int missing;
            int dtoa;
        };
    };
    char *own, *fown;
    size_t cap, fcap;
} clean_cell;

/* What cleaning made of one raw text of a variable, remembered: a source
 * cell's result depends on its variable and its raw text alone, unless it
 * raised a problem or rejected its row (those are never remembered).  The
 * blob holds s, f and, for a changed cell, the log's texts: old, detail and
 * the line after "row,id," (variable,old,new,rule,detail and a newline). */
#define CLEAN_CELL_SLOTS 2048 /* 2^11: clean_fast_slot */
#define CLEAN_WAYS 4 /* a text's slot is one of a group of this many (svy_clean_memo_find) */
#define CLEAN_KEY_MAX 40
typedef struct clean_slot {
    /* What a lookup of a text of up to 7 bytes reads, in the slot's first 32
     * bytes (one cache line: slots are 160 bytes from a 64-byte boundary). */
    uint64_t ka; /* with kb, kc: a text of up to 23 bytes as three words (clean_fast_key; with keylen), else 0 */
    uint16_t used, keylen;
    unsigned char changed, rule;
    clean_val v; /* s and f point into blob */
    uint64_t kb, kc;
    uint32_t old_off, det_off, t_off, t_len;
    char key[CLEAN_KEY_MAX];
    char *blob;
    size_t bcap;
    size_t var; /* the variable whose text it is (an event of it names the variable by it) */
} clean_slot;
_Static_assert(sizeof(clean_slot) == 160, "160-byte slots: the memo's salt (svy_clean_new) and line layout");

/* A variable's memo: CLEAN_CELL_SLOTS direct-mapped slots and one scratch
 * slot (slots[CLEAN_CELL_SLOTS]) for texts not remembered.  A column of
 * (nearly) all different texts, like an id, turns it off. */
typedef struct clean_memo {
    clean_slot *slots; /* in mem, from its first 64-byte boundary */
    void *mem;
    const clean_slot *fast; /* slots while the memo is on, else NULL */
    size_t salt; /* added to a text's hash: the same text of two columns in different cache sets */
    uint32_t *held; /* slots that have a blob */
    size_t nheld, heldcap;
    unsigned long lookups, misses;
    int off;
    uint64_t *epoch; /* counted up when a used slot is filled anew: its run's (clean_group), else own_epoch */
    uint64_t own_epoch;
} clean_memo;

/* A run of adjacent code columns remembered as one key (clean_group.c):
 * the answers to a battery of yes/no questions come in far fewer
 * combinations than rows.  In the CSV reader's rows the run's raw texts are
 * one piece of the input line, each ended by a NUL where its comma was; a
 * piece of up to 23 bytes seen before gives each cell its memo slot's value
 * (no key, hash or compare per cell), the run's events and its part of the
 * output line in one step.  A run is at most CLEAN_GROUP_MAX columns (a
 * longer one is cut in pieces) so that its combinations stay few and its
 * slots in the cache: two 64-byte lines a hit.  A slot names its members'
 * memo slots; a member filling a used slot anew counts the run's epoch up,
 * and slots of another epoch are not used. */
#define CLEAN_GROUP_MAX 6 /* svy_clean_sources has a case for each size 2 .. 6 */
#define CLEAN_GROUP_SLOTS 2048 /* 2^11, CLEAN_WAYS to a set, as a column's memo */
_Static_assert(CLEAN_GROUP_SLOTS == CLEAN_CELL_SLOTS, "runs find their slots by clean_fast_slot, masked for a column's memo");
typedef struct clean_gslot {
    uint64_t ka, kb, kc; /* the piece as clean_fast_key's words, with klen */
    uint64_t epoch;      /* 64 bits: never the same again */
    uint8_t klen;   /* 0: empty */
    uint8_t seglen; /* bytes of seg */
    uint8_t chg;    /* bit j: member j's slot is a change (an event) */
    uint8_t pad_;
    const clean_slot *ms[CLEAN_GROUP_MAX]; /* member j's memo slot */
    char seg[40];   /* each member's field and comma (a 16-byte copy may read on into the next slot) */
} clean_gslot;
_Static_assert(sizeof(clean_gslot) == 128, "a run's slot is two cache lines, the key in the first");
typedef struct clean_group {
    clean_gslot *slots; /* CLEAN_GROUP_SLOTS and one to spare, in mem from its first 64-byte boundary */
    void *mem;
    size_t first, g;                         /* members: src[first .. first + g) */
    size_t salt;
    uint64_t epoch;
    unsigned long lookups, misses;
} clean_group;

/* One source cell of a row, in the order they are cleaned: the raw value
 * at vals[col] of the input row, variable var (svy_clean_begin). */
typedef struct clean_src {
    clean_memo *m;
    clean_cell *cell;
    size_t col, var;
    clean_group *grp; /* on a run's first member while the run is remembered, else NULL */
} clean_src;

/* A changed cell of the current row: remembered in slot (then only slot is
 * set: its variable is slot->var), or with its texts in the row's arena
 * (slot NULL). */
typedef struct clean_event {
    size_t var;
    const clean_slot *slot;
    svy_clean_rule rule;
    size_t old_off, det_off, new_off, t_off, t_len;
} clean_event;

/* Texts of up to 23 bytes as three words that no other text has (a is
 * never 0); 0 for longer texts. */
/* A text of 1 to 7 bytes as one word, its bytes alone (the slot's keylen
 * tells "1" from "1\0"), from two loads that may overlap. */
static inline uint64_t clean_short_key(const char *s, size_t len)
{
    uint64_t x = 0;
    if (len >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + len - 4, 4);
        x = lo | (uint64_t)hi << (8 * (len - 4));
    } else if (len >= 2) {
        uint16_t lo, hi;
        memcpy(&lo, s, 2);
        memcpy(&hi, s + len - 2, 2);
        x = lo | (uint64_t)hi << (8 * (len - 2));
    } else if (len) {
        x = (unsigned char)s[0];
    }
    return x;
}

static inline __attribute__((always_inline)) int clean_fast_key(const char *s, size_t len, uint64_t *a, uint64_t *b,
                                                                uint64_t *c)
{
    if (len <= 7) {
        *a = clean_short_key(s, len);
        *b = *c = 0;
        return 1;
    }
    if (len > 23)
        return 0;
    memcpy(a, s, 8);
    *a |= *a == 0; /* eight NUL bytes: kept apart from an empty slot (a reader gives no such text) */
    if (len <= 15) {
        *b = svy_short_key(s + 8, len - 8);
        *c = 0;
    } else {
        memcpy(b, s + 8, 8);
        *c = svy_short_key(s + 16, len - 16);
    }
    return 1;
}

/* Multiplicative (Fibonacci) hashing: the product's top bits depend on every
 * bit of the key; a one-word key (b = c = 0) costs one multiply. */
static inline size_t clean_fast_slot(uint64_t a, uint64_t b, uint64_t c, size_t salt)
{
    uint64_t h = (a ^ (b * 0xC4CEB9FE1A85EC53ull) ^ (c * 0xFF51AFD7ED558CCDull)) * 0x9E3779B97F4A7C15ull;
    return (size_t)((h >> 53) + salt) & (CLEAN_CELL_SLOTS - 1); /* 2^11 slots */
}

/* The slot of a run's piece of len bytes (1 to 23: clean_fast_key's words
 * a, b, k) of its epoch, or NULL. */
static inline const clean_gslot *clean_group_find(const clean_group *gr, uint64_t a, uint64_t b, uint64_t k, size_t len)
{
    size_t h = clean_fast_slot(a, b, k, gr->salt);
    const clean_gslot *r = &gr->slots[h];
    if (r->ka == a && r->kb == b && r->kc == k && r->klen == len && r->epoch == gr->epoch)
        return r;
    const clean_gslot *s = &gr->slots[h & ~(size_t)(CLEAN_WAYS - 1)]; /* the piece's other ways */
    for (size_t w = 0; w < CLEAN_WAYS; w++)
        if (s[w].ka == a && s[w].kb == b && s[w].kc == k && s[w].klen == len && s[w].epoch == gr->epoch)
            return &s[w];
    return NULL;
}

/* The runs of the engine's plan (svy_clean_begin): src[].grp set.  0: out
 * of memory. */
int svy_clean_groups_make(svy_clean *c);
void svy_clean_groups_free(svy_clean *c);

/* After a run's cells were cleaned one by one (a miss: its piece s0 of len
 * bytes, clean_fast_key's words a, b, k; len past 23: not a piece, or too
 * long): its slot filled when every cell came from its memo and the fields
 * fit; a run that mostly misses is given up.  0: out of memory. */
int svy_clean_group_store(svy_clean *c, clean_src *p, const char *s0, size_t len, uint64_t a, uint64_t b, uint64_t k);

/* The slot of text s of a memo: *hit is 1 when it holds s's result, -1
 * when s is not to be remembered (the memo is off, or s too long). */
clean_slot *svy_clean_memo_find(clean_memo *m, const char *s, size_t len, int *hit);
void svy_clean_memo_free(clean_memo *m);

/* Fill slot r of memo m (key s[0..len)) from a cleaned cell of variable v: s, f and,
 * when changed, the log's texts; *tail_max: the longest log line tail yet.
 * 0: out of memory. */
int svy_clean_slot_store(clean_memo *m, clean_slot *r, const svy_cb_var *v, const clean_cell *o, const char *raw, size_t rawlen,
                         int changed, svy_clean_rule rule, const char *detail, size_t *tail_max);

/* A cell's text (copied; f is set apart by svy_clean_cell_field), a number
 * (its text as svy_dtoa prints it, f too), missing.  0: out of memory. */
int svy_clean_set_text(clean_cell *o, const char *s, size_t len);
int svy_clean_set_number(clean_cell *o, double x);
void svy_clean_set_missing(clean_cell *o);

/* svy_clean_set_number, inline for 0 and 1 (the derived variables' flags):
 * the cell points at a shared value (its own v is left as it was, so no
 * svy_clean_cell_field after it). */
extern const char svy_clean_small_ints[];
extern const clean_val svy_clean_flags[2], svy_clean_missing;
static inline int svy_clean_set_flag(clean_cell *o, double x)
{
    if (x == 1 || (x == 0 && !signbit(x))) {
        o->p = &svy_clean_flags[x == 1];
        return 1;
    }
    return svy_clean_set_number(o, x);
}

/* 1 when svy_dtoa prints the number read from s[0..len) as s itself. */
int svy_clean_prints_as_itself(const char *s, size_t len);

/* f of a cell from its s: quoted where the CSV writer quotes (text), or
 * svy_dtoa(num) (numbers not already printed so).  0: out of memory. */
int svy_clean_cell_field(clean_cell *o, int text);

/* Bytes of a CSV field as svy_csv_out_str writes s; empty_quoted: "" for
 * an empty s (the writer's empty string) or nothing (the log's missing).
 * Returns the length; buf needs 2 * len + 2 bytes. */
size_t svy_clean_csv_field(char *buf, const char *s, size_t len, int empty_quoted);

/* Whole-number ids in pages of consecutive ids (clean_ids.c); off: given
 * up (ids too sparse, or a row past 2^32), the ids are in the engine's
 * hash table instead. */
typedef struct clean_ids {
    svy_u64map dir; /* page number -> index into pages */
    uint32_t **pages; /* per id of the page: its first row + 1, 0 unseen */
    size_t npages, pagecap, n;
    uint32_t *last; /* the page of the latest id */
    uint64_t last_pno;
    uint32_t **blocks; /* pages are cut from these (clean_ids.c's new_page) */
    size_t nblocks, blockcap;
    uint32_t *bnext; /* the newest block's next page, bleft pages left */
    size_t bleft;
    int off;
} clean_ids;

/* Id seen at row: 1 new, 0 seen before (*first: its row), 2 not kept in
 * pages (the caller asks map; pages given up move their ids into map and
 * rows[] first), -1 out of memory. */
int clean_ids_add(clean_ids *d, uint64_t id, long long row, long long *first, svy_u64map *map, long long **rows,
                  size_t *rowcap);
void clean_ids_prefetch(const clean_ids *d, uint64_t id);
void clean_ids_free(clean_ids *d);

/* A derived variable as svy_clean_derive_all walks them (clean_derive.c):
 * any_of and all_of with their sources; map and threshold of a whole
 * number 0..63 (a code) from a table of what svy_clean_derive makes of it
 * (0 or 1; -1: not in the table, derived the long way). */
#define CLEAN_DTAB 64
typedef struct clean_dplan {
    size_t var, src0, nsrc;
    const size_t *src;
    double arg;
    int kind;                /* cb_kind */
    signed char tab[CLEAN_DTAB]; /* map and threshold */
} clean_dplan;

/* A check's condition as run_checks reads it: the cell, not its index. */
typedef struct clean_ccond {
    const clean_cell *cell;
    double value;
    int op; /* cb_op */
} clean_ccond;
typedef struct clean_cplan {
    clean_ccond when, then;
} clean_cplan;

/* The derived variables' and the checks' plans (svy_clean_begin).  0: out
 * of memory. */
int svy_clean_derive_plan(svy_clean *c);

/* Derived variable i of the row, the long way (clean.c). */
svy_status svy_clean_derive(svy_clean *c, size_t i, svy_err *err);

/* Every derived variable of the row. */
svy_status svy_clean_derive_all(svy_clean *c, svy_err *err);

/* 1: svy_clean_new takes the baseline code even on an AVX2 CPU (the unit
 * tests run both). */
extern int svy_clean_base_only;

/* The engine (clean.c); the row's output and log are made in clean_out.c. */
struct svy_clean {
    const svy_codebook *cb;
    int strict, validating, line_only;
    svy_clean_hooks hooks;
    void *ctx;
    svy_csv_out *log;   /* the log written directly, or NULL */
    char *input;
    svy_schema *schema;
    long *col; /* raw (or cleaned, when validating) column of each codebook variable */
    clean_cell *cell;
    size_t *order; /* source variables in the order they are cleaned: the id first */
    clean_src *src;  /* the same, with their columns, memos and cells */
    unsigned char *text; /* per variable: a text variable */
    unsigned char *plain; /* per variable: numeric, no missing codes, no recode set (see plain_number) */
    clean_memo_slot **memo; /* per variable with a recode set, made at its first cell */
    clean_memo *cmemo;      /* per source variable */
    clean_group *grp;       /* runs of adjacent code columns (clean_group.c) */
    clean_dplan *dplan;     /* the derived variables, in order (clean_derive.c) */
    clean_cplan *cplan;     /* the checks, in order */
    size_t ngrp;
    svy_value *vals;
    svy_row row;
    clean_event *ev;
    size_t nev, evcap;
    char *arena;
    size_t alen, acap;
    char *line, *lbuf; /* the output row as CSV; the row's log lines */
    size_t linecap, lbufcap;
    struct svy_writer *writer; /* kept rows written here (svy_clean_set_writer), or NULL */
    svy_csv_out *wout;  /* its CSV output, for lines built in place */
    char *lb, *lend;    /* the row's line as built so far: at lb (wout's room or line), up to lend */
    size_t lcap;        /* bytes usable at lb */
    int lroom;          /* lb is wout's room */
    int lstale;         /* a source cell changed after its field was written (a check) */
    int inorder;        /* source cells are cleaned in the line's order: their fields written at once */
    int avx2;           /* the CPU has AVX2: the log's lines with 32-byte moves (clean_out.c) */
    size_t tail_max; /* the longest log line after "row,id," remembered or recorded yet */
    char lrow_txt[32];   /* the log's latest row number as text (svy_fmt_ll's), lrow_n bytes */
    size_t lrow_n;
    long long lrow;
    svy_strtab ids;      /* id text -> index into id_row */
    long long *id_row;   /* row each id was first seen at */
    size_t id_rowcap;
    clean_ids idpages;   /* whole-number ids 1 .. 2^53 (their text is svy_dtoa's), while dense */
    svy_u64map idnum;    /* the same, when not in idpages -> index into idnum_row */
    long long *idnum_row;
    size_t idnum_rowcap;
    svy_clean_stats st;
    long long cur_row;
    unsigned long side; /* problems and rejections raised: such cells are not remembered */
    int rejected;
    svy_clean_rule reject_rule;
    char reason[512];
};

/* Clean source cell i of the current row (clean.c): remembered or not. */
svy_status svy_clean_source(svy_clean *c, size_t i, const svy_value *rawv, svy_err *err);

/* The row's source cells, the id first (clean_out.c): texts remembered
 * are looked up here, the rest go to svy_clean_source. */
svy_status svy_clean_sources(svy_clean *c, const svy_row *in, svy_err *err);

/* The current row's id cleaned: start loading its place in the table of
 * ids, needed at the row's end. */
void svy_clean_id_prefetch(const svy_clean *c);

/* The row's id (its text id) in the table of ids (clean_ids.c): 1 new, 0
 * seen before (*first: the row it was first seen at), -1 out of memory. */
int svy_clean_id_seen(svy_clean *c, const char *id, long long *first);

/* The cleaned id of the current row, "" when there is none. */
const char *svy_clean_row_id(const svy_clean *c);

/* The kept row's changes to the log and the change hook, counted. */
svy_status svy_clean_emit_changes(svy_clean *c, long long row, svy_err *err);

/* Where the row's line is built: in the writer's output buffer when it has
 * one, else c->line (clean_out.c).  0: out of memory. */
int svy_clean_line_start(svy_clean *c);

/* The line's field at d (in the line at c->lb), f[0..n) longer than 16
 * bytes: copied, the line moved into c->line when its room is short.
 * Returns d as it stands after the move (the field's start), NULL when out
 * of memory. */
char *svy_clean_line_long(svy_clean *c, char *d, const char *f, size_t n);

/* c->row: the values and, as one CSV line, the bytes a CSV writer writes
 * for them (the source fields already in the line unless stale).  0: out
 * of memory. */
int svy_clean_fill_row(svy_clean *c);

#endif
