/* Read ahead on a second core: the format backend (tokenizing CSV, decoding
 * ReadStat's records) runs in a producer thread and hands rows over in
 * batches; the caller's callbacks still run on the calling thread, in order,
 * so callers stay single-threaded.  Memory is a few batches, not rows. */
#include "reader_private.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NBATCH 4
#define BATCH_ROWS 2048

typedef struct batch {
    size_t nrows;
    svy_value *vals;   /* BATCH_ROWS * nslots */
    long long *index;
    size_t *line_off, *line_len; /* svy_row.line in the arena; line_len (size_t)-1: none */
    char *arena;       /* string bytes; vals[].str holds offsets until handed over */
    size_t arena_len, arena_cap;
    int last;          /* end of the stream: status/err below */
    svy_status st;
} batch;

typedef struct pipeline {
    svy_reader *r;
    svy_backend_run run;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch batches[NBATCH];
    int full[NBATCH], nfull, full_head; /* FIFO of indices ready for the consumer */
    int empty[NBATCH], nempty;          /* stack of indices free for the producer */
    int cur;                            /* producer's batch, -1 when none */
    size_t nslots;
    const svy_schema *schema;           /* set once the backend knows it */
    int schema_ready;
    int stop;                           /* the consumer wants no more rows */
    svy_err perr;                       /* the producer's error record */
} pipeline;

static void put_full(pipeline *p, int i)
{
    pthread_mutex_lock(&p->mu);
    p->full[(p->full_head + p->nfull) % NBATCH] = i;
    p->nfull++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* The producer's next empty batch; -1 when the consumer stopped. */
static int get_empty(pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    while (!p->nempty && !p->stop)
        pthread_cond_wait(&p->cv, &p->mu);
    int i = p->stop ? -1 : p->empty[--p->nempty];
    pthread_mutex_unlock(&p->mu);
    if (i >= 0) {
        p->batches[i].nrows = 0;
        p->batches[i].arena_len = 0;
        p->batches[i].last = 0;
    }
    return i;
}

static svy_status prod_schema(void *ctx, const svy_schema *schema, svy_err *err)
{
    pipeline *p = ctx;
    size_t n = svy_schema_nvars(schema);
    p->nslots = n;
    for (int i = 0; i < NBATCH; i++) {
        p->batches[i].vals = svy_calloc((size_t)BATCH_ROWS * (n ? n : 1), sizeof(svy_value));
        p->batches[i].index = svy_calloc(BATCH_ROWS, sizeof(long long));
        p->batches[i].line_off = svy_calloc(BATCH_ROWS, sizeof(size_t));
        p->batches[i].line_len = svy_calloc(BATCH_ROWS, sizeof(size_t));
        if (!p->batches[i].vals || !p->batches[i].index || !p->batches[i].line_off || !p->batches[i].line_len)
            return svy_err_set(err, SVY_E_NOMEM, p->r->name, 0, 0, NULL, "out of memory");
    }
    pthread_mutex_lock(&p->mu);
    p->schema = schema;
    p->schema_ready = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return SVY_OK;
}

static svy_status prod_row(void *ctx, const svy_row *row, svy_err *err)
{
    pipeline *p = ctx;
    if (p->cur < 0 && (p->cur = get_empty(p)) < 0)
        return SVY_E_ABORT;
    batch *b = &p->batches[p->cur];
    svy_value *dst = b->vals + b->nrows * p->nslots;
    const char *span = p->r->span;
    size_t span_len = p->r->span_len;
    /* One size check per row, then plain copies. */
    size_t need = row->line ? row->line_len + 1 : 0;
    if (span) {
        need += span_len + 1; /* + a NUL for the empty strings */
    } else {
        for (size_t i = 0; i < p->nslots; i++)
            if (row->vals[i].type == SVY_VAL_STR)
                need += (row->vals[i].str ? row->vals[i].len : 0) + 1;
    }
    if (!svy_grow((void **)&b->arena, &b->arena_cap, b->arena_len + need, 1)) {
        if (b->arena_len + need > SVY_ALLOC_MAX / 2)
            return svy_err_set(err, SVY_E_LIMIT, p->r->name, row->index, 0, NULL, "rows too large to buffer");
        return svy_err_set(err, SVY_E_NOMEM, p->r->name, row->index, 0, NULL, "out of memory");
    }
    memcpy(dst, row->vals, p->nslots * sizeof *dst);
    if (span) {
        /* The row's text in one piece; each value keeps its place in it,
         * and a value outside it (an empty string) points at the NUL after. */
        size_t base = b->arena_len;
        memcpy(b->arena + base, span, span_len);
        b->arena[base + span_len] = '\0';
        for (size_t i = 0; i < p->nslots; i++) {
            if (dst[i].type != SVY_VAL_STR)
                continue;
            /* as integers: the value's text may lie outside the span's object */
            uintptr_t at = (uintptr_t)dst[i].str, from = (uintptr_t)span;
            size_t off = at >= from && at - from + dst[i].len < span_len ? (size_t)(at - from) : span_len;
            if (off == span_len)
                dst[i].len = 0;
            dst[i].str = (const char *)(uintptr_t)(base + off); /* an offset until handed over */
        }
        b->arena_len += span_len + 1;
    } else {
        for (size_t i = 0; i < p->nslots; i++) {
            if (dst[i].type != SVY_VAL_STR)
                continue;
            size_t len = dst[i].str ? dst[i].len : 0;
            char *to = b->arena + b->arena_len;
            if (len)
                memcpy(to, dst[i].str, len);
            to[len] = '\0';
            dst[i].len = len;
            dst[i].str = (const char *)(uintptr_t)b->arena_len; /* an offset until handed over */
            b->arena_len += len + 1;
        }
    }
    b->line_len[b->nrows] = (size_t)-1;
    if (row->line) {
        memcpy(b->arena + b->arena_len, row->line, row->line_len);
        b->arena[b->arena_len + row->line_len] = '\0';
        b->line_off[b->nrows] = b->arena_len;
        b->line_len[b->nrows] = row->line_len;
        b->arena_len += row->line_len + 1;
    }
    b->index[b->nrows++] = row->index;
    if (b->nrows == BATCH_ROWS) {
        put_full(p, p->cur);
        p->cur = -1;
    }
    return SVY_OK;
}

static void *producer(void *arg)
{
    pipeline *p = arg;
    static const svy_handler ph = {prod_schema, prod_row};
    svy_status st = p->run(p->r, &ph, p, &p->perr);
    if (st == SVY_E_ABORT && p->r->limit_hit)
        st = SVY_OK;
    /* The last batch carries the status, after every row before it. */
    if (p->cur < 0)
        p->cur = get_empty(p);
    if (p->cur >= 0) {
        p->batches[p->cur].last = 1;
        p->batches[p->cur].st = st;
        put_full(p, p->cur);
    }
    return NULL;
}

static void pipeline_free(pipeline *p)
{
    for (int i = 0; i < NBATCH; i++) {
        free(p->batches[i].vals);
        free(p->batches[i].index);
        free(p->batches[i].line_off);
        free(p->batches[i].line_len);
        free(p->batches[i].arena);
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

svy_status svy_reader_run_threaded(svy_reader *r, svy_backend_run run, const svy_handler *h, void *ctx,
                                   svy_err *err, int *started)
{
    *started = 0;
    pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return SVY_E_ABORT;
    p->r = r;
    p->run = run;
    p->cur = -1;
    for (int i = 0; i < NBATCH; i++)
        p->empty[p->nempty++] = i;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return SVY_E_ABORT;
    }
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return SVY_E_ABORT;
    }
    pthread_t tid;
    if (pthread_create(&tid, NULL, producer, p) != 0) {
        pipeline_free(p);
        return SVY_E_ABORT;
    }
    *started = 1;

    svy_status st = SVY_OK;
    int schema_done = 0, finished = 0;
    while (!finished) {
        pthread_mutex_lock(&p->mu);
        while (!p->nfull && !(p->schema_ready && !schema_done))
            pthread_cond_wait(&p->cv, &p->mu);
        int want_schema = p->schema_ready && !schema_done;
        int i = -1;
        if (!want_schema) {
            i = p->full[p->full_head];
            p->full_head = (p->full_head + 1) % NBATCH;
            p->nfull--;
        }
        pthread_mutex_unlock(&p->mu);

        if (want_schema) {
            schema_done = 1;
            if (h->schema && (st = h->schema(ctx, p->schema, err)) != SVY_OK)
                break;
            continue;
        }
        batch *b = &p->batches[i];
        for (size_t k = 0; k < b->nrows && st == SVY_OK; k++) {
            svy_value *vals = b->vals + k * p->nslots;
            for (size_t j = 0; j < p->nslots; j++)
                if (vals[j].type == SVY_VAL_STR)
                    vals[j].str = b->arena + (uintptr_t)vals[j].str;
            svy_row row = {.index = b->index[k], .nvals = p->nslots, .vals = vals};
            if (b->line_len[k] != (size_t)-1) {
                row.line = b->arena + b->line_off[k];
                row.line_len = b->line_len[k];
                row.line_nvals = p->nslots;
            }
            if (h->row)
                st = h->row(ctx, &row, err);
        }
        if (st == SVY_OK && b->last) {
            finished = 1;
            if (b->st != SVY_OK) {
                st = b->st;
                if (err)
                    *err = p->perr;
            }
        }
        pthread_mutex_lock(&p->mu);
        p->empty[p->nempty++] = i;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (st != SVY_OK)
            break;
    }
    /* Stop the producer if the consumer ended early, then wait for it. */
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(tid, NULL);
    pipeline_free(p);
    return st;
}
