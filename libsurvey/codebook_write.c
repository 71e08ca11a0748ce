/* A codebook folder written from data (svy-codebook -w): variables.csv and
 * values.csv as codebooks/README.md describes them, each written
 * atomically.  What the format cannot say (open-ended SPSS missing ranges,
 * labels of tagged missings, labels on text) is named in the note column
 * instead of being dropped silently. */
#include "svy_private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <survey/codebook.h>
#include <survey/csv.h>
#include <survey/outfile.h>
#include <survey/profile.h>
#include <sys/stat.h>

/* A growing text; oom set (and the text left as it was) when out of memory. */
typedef struct text {
    char *p;
    size_t len, cap;
    int oom;
} text;

static void put(text *b, const char *s, size_t n)
{
    if (b->oom || !svy_grow((void **)&b->p, &b->cap, b->len + n + 1, 1)) {
        b->oom = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(text *b, const char *s) { put(b, s, strlen(s)); }

static void put_num(text *b, double d)
{
    char buf[SVY_DTOA_MAX];
    put(b, buf, svy_dtoa(d, buf));
}

static void clear(text *b)
{
    b->len = 0;
    put(b, "", 0);
}

static int is_code(const svy_value *lv)
{
    return lv->type == SVY_VAL_NUM && lv->missing == SVY_MISS_NONE && lv->num == floor(lv->num) &&
           fabs(lv->num) < 9007199254740992.0;
}

/* Text with CJK characters (U+2E80 and above in three-byte UTF-8) goes in
 * the codebook's label_zh column, other text in label_en. */
static int looks_chinese(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0xE2 && *p <= 0xE9 && (p[0] > 0xE2 || p[1] >= 0xBA))
            return 1;
    return 0;
}

/* An empty text is an empty field, not a quoted "". */
static void out_text(svy_csv_out *o, const char *s)
{
    if (*s)
        svy_csv_out_cstr(o, s);
    else
        svy_csv_out_empty(o);
}

static const char *set_name(const svy_var *v)
{
    return *svy_var_labelset_name(v) ? svy_var_labelset_name(v) : svy_var_name(v);
}

/* The text, or NULL (and nothing kept) when out of memory. */
static char *finish(text *b)
{
    if (!b->oom && !b->p)
        put(b, "", 0);
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    return b->p;
}

char *svy_codebook_labels_text(const svy_var *v)
{
    text b = {0};
    for (size_t j = 0; j < svy_var_nlabels(v); j++) {
        const svy_value *lv = svy_var_label_value(v, j);
        if (j)
            puts_(&b, "; ");
        if (lv->missing == SVY_MISS_TAGGED) {
            char t[3] = {'.', lv->tag, 0};
            puts_(&b, t);
        } else if (lv->type == SVY_VAL_STR) {
            puts_(&b, "\"");
            put(&b, lv->str, lv->len);
            puts_(&b, "\"");
        } else {
            put_num(&b, lv->num);
        }
        puts_(&b, "=");
        puts_(&b, svy_var_label_text(v, j));
    }
    return finish(&b);
}

char *svy_codebook_missing_text(const svy_var *v)
{
    text b = {0};
    for (size_t j = 0; j < svy_var_nmissing(v); j++) {
        if (j)
            puts_(&b, "; ");
        const char *ms = svy_var_missing_str(v, j);
        if (ms) {
            puts_(&b, "\"");
            puts_(&b, ms);
            puts_(&b, "\"");
            continue;
        }
        double lo, hi;
        svy_var_missing_range(v, j, &lo, &hi);
        if (lo == hi) {
            put_num(&b, lo);
            continue;
        }
        /* SPSS writes LO and HI as the extreme doubles. */
        if (lo <= -1.7e308)
            puts_(&b, "LO");
        else
            put_num(&b, lo);
        puts_(&b, " thru ");
        if (hi >= 1.7e308)
            puts_(&b, "HI");
        else
            put_num(&b, hi);
    }
    return finish(&b);
}

/* Missing-value definitions: codes and ranges in miss ("8;9", "7-9"), the
 * rest named in note. */
static void missing_defs(const svy_var *v, text *miss, text *note)
{
    for (size_t j = 0; j < svy_var_nmissing(v); j++) {
        const char *ms = svy_var_missing_str(v, j);
        double lo, hi;
        svy_var_missing_range(v, j, &lo, &hi);
        if (ms || lo <= -1.7e308 || hi >= 1.7e308) {
            puts_(note, note->len ? "; " : "");
            puts_(note, "missing-value definition not expressible here: ");
            if (ms) {
                puts_(note, "\"");
                puts_(note, ms);
                puts_(note, "\"");
            } else {
                puts_(note, lo <= -1.7e308 ? "LO" : "");
                if (lo > -1.7e308)
                    put_num(note, lo);
                puts_(note, " thru ");
                if (hi >= 1.7e308)
                    puts_(note, "HI");
                else
                    put_num(note, hi);
            }
            continue;
        }
        if (miss->len)
            puts_(miss, ";");
        put_num(miss, lo);
        if (hi != lo) {
            puts_(miss, "-");
            put_num(miss, hi);
        }
    }
}

/* One line of variables.csv. */
static int variable_row(svy_csv_out *o, const svy_var *v, const svy_col_profile *s, text t[3])
{
    text *valid = &t[0], *miss = &t[1], *note = &t[2];
    const char *label = svy_var_label(v);
    int numeric = svy_var_type_of(v) == SVY_VAR_NUMERIC ||
                  (svy_var_type_of(v) == SVY_VAR_UNTYPED && s->all_numeric);
    size_t nnum = 0, nother = 0;
    for (size_t j = 0; j < svy_var_nlabels(v); j++) {
        if (is_code(svy_var_label_value(v, j)))
            nnum++;
        else
            nother++;
    }
    clear(valid);
    clear(miss);
    clear(note);
    const char *type = "text";
    if (numeric) {
        type = nnum ? "code" : s->all_integer ? "integer" : "number";
        /* Codes the data hold without a label must stay valid. */
        if (nnum && s->unlabelled && s->valid) {
            put_num(valid, s->min);
            puts_(valid, "-");
            put_num(valid, s->max);
        }
    }
    missing_defs(v, miss, note);
    if (nother) {
        puts_(note, note->len ? "; " : "");
        puts_(note, "labels not expressible here (tagged missing, text or fractional values) left out");
    }
    if (*svy_var_format(v)) {
        puts_(note, note->len ? "; " : "");
        puts_(note, "format ");
        puts_(note, svy_var_format(v));
    }
    if (svy_var_type_of(v) == SVY_VAR_STRING && svy_var_width(v)) {
        char wbuf[64];
        snprintf(wbuf, sizeof wbuf, "%swidth %zu", note->len ? "; " : "", svy_var_width(v));
        puts_(note, wbuf);
    }
    if (valid->oom || miss->oom || note->oom)
        return 0;
    svy_csv_out_cstr(o, svy_var_name(v));
    svy_csv_out_cstr(o, svy_var_name(v));
    out_text(o, looks_chinese(label) ? label : "");
    out_text(o, looks_chinese(label) ? "" : label);
    svy_csv_out_cstr(o, type);
    out_text(o, valid->p);
    out_text(o, miss->p);
    out_text(o, numeric && nnum ? set_name(v) : "");
    svy_csv_out_empty(o);
    out_text(o, note->p);
    svy_csv_out_end_row(o);
    return 1;
}

static int write_variables(svy_csv_out *o, const svy_profile *p)
{
    static const char *const cols[] = {"name", "source", "label_zh", "label_en", "type", "valid",
                                       "missing", "labels", "role", "note"};
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
        svy_csv_out_cstr(o, cols[c]);
    svy_csv_out_end_row(o);
    text t[3] = {{0}};
    int ok = 1;
    const svy_schema *schema = svy_profile_schema(p);
    for (size_t i = 0; ok && i < svy_profile_ncols(p); i++)
        ok = variable_row(o, svy_schema_var(schema, i), svy_profile_col(p, i), t);
    for (int k = 0; k < 3; k++)
        free(t[k].p);
    return ok;
}

static int write_values(svy_csv_out *o, const svy_profile *p)
{
    static const char *const cols[] = {"labels", "value", "label_zh", "label_en"};
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
        svy_csv_out_cstr(o, cols[c]);
    svy_csv_out_end_row(o);
    const svy_schema *schema = svy_profile_schema(p);
    for (size_t i = 0; i < svy_schema_nvars(schema); i++) {
        const svy_var *v = svy_schema_var(schema, i);
        if (svy_var_type_of(v) == SVY_VAR_STRING)
            continue;
        const char *set = set_name(v);
        /* A set shared by several variables is written once. */
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            const svy_var *u = svy_schema_var(schema, j);
            seen = svy_var_type_of(u) != SVY_VAR_STRING && svy_var_nlabels(u) && !strcmp(set_name(u), set);
        }
        if (seen)
            continue;
        for (size_t j = 0; j < svy_var_nlabels(v); j++) {
            if (!is_code(svy_var_label_value(v, j)))
                continue;
            const char *label = svy_var_label_text(v, j);
            svy_csv_out_cstr(o, set);
            svy_csv_out_num(o, svy_var_label_value(v, j)->num);
            out_text(o, looks_chinese(label) ? label : "");
            out_text(o, looks_chinese(label) ? "" : label);
            svy_csv_out_end_row(o);
        }
    }
    return 1;
}

/* DIR/name written atomically by fn. */
static svy_status write_file(const char *dir, const char *name, int (*fn)(svy_csv_out *, const svy_profile *),
                             const svy_profile *p, svy_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    svy_outfile *of = NULL;
    svy_status st = svy_outfile_open(path, &of, err);
    if (st != SVY_OK)
        return st;
    svy_csv_out *o = svy_csv_out_new(svy_outfile_stream(of), ',');
    if (!o) {
        svy_outfile_abort(of);
        return svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    if (!fn(o, p))
        st = svy_err_set(err, SVY_E_NOMEM, NULL, 0, 0, NULL, "out of memory");
    svy_status fst = svy_csv_out_flush(o, path, st == SVY_OK ? err : NULL);
    svy_csv_out_free(o);
    if (st == SVY_OK)
        st = fst;
    if (st != SVY_OK) {
        svy_outfile_abort(of);
        return st;
    }
    return svy_outfile_commit(of, err);
}

svy_status svy_codebook_write(const svy_profile *p, const char *dir, svy_err *err)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return svy_err_sys(err, errno, dir, 0, "cannot create directory");
    svy_status st = write_file(dir, "variables.csv", write_variables, p, err);
    return st ? st : write_file(dir, "values.csv", write_values, p, err);
}
