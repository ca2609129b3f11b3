/* Mini-batches: validation at creation, per-epoch permutations, conversion
 * into two preallocated buffers, one prefetch thread. */
#include "batcher.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/dtype.h"
#include "../core/rng.h"
#include "../core/shape.h"
#include "../core/status.h"

/* The generator stream of the sampler ("SHUF"): distinct from any node index
   a Dropout uses, so shuffling and dropout never share random numbers. */
#define SHUFFLE_STREAM 0x53485546ull

typedef enum conv_kind { CONV_COPY, CONV_U8_F32, CONV_F64_F32, CONV_TO_FLOAT, CONV_TO_INT } conv_kind;

typedef struct bind_rt {
    char *array, *target;   /* owned copies */
    const ot_tensor *src;   /* (N, ...) in the dataset */
    const char *source;     /* its file */
    bool csv;
    ot_dtype dtype;         /* of the batch tensor */
    int rank;               /* per-sample */
    int64_t dims[OT_MAX_RANK];
    int64_t elems;          /* per sample */
    double scale;           /* integer source -> float target */
    conv_kind kind;
    ot_batch_binding spec;  /* n_classes, ignore_index */
} bind_rt;

typedef enum slot_state { SLOT_EMPTY, SLOT_READY, SLOT_IN_USE } slot_state;

typedef struct slot {
    ot_tensor **t; /* one (cap_rows, ...) tensor per binding */
    int64_t rows;
    bool epoch_end;
    int64_t epoch_after, cursor_after; /* the position after this batch */
    slot_state state;
} slot;

struct ot_batcher {
    const ot_dataset *ds;
    int n;
    bind_rt *bind;
    int64_t samples, bs, cap_rows;
    bool shuffle, drop_last;
    uint64_t seed;
    /* consumer (the caller's thread) */
    int64_t c_epoch, c_cursor;
    int c_next, c_cur;
    /* producer (the worker, or the caller when there is no worker) */
    int64_t p_epoch, p_cursor, perm_epoch;
    int p_next;
    int64_t *perm; /* (samples) when shuffling */
    slot slots[2];
    /* prefetch thread */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool running, quit, sync;
};

/* ---- permutation ---------------------------------------------------------- */

typedef struct draw64 {
    ot_rng r;
    uint64_t block;
    uint32_t w[4];
    int used; /* words of w consumed */
} draw64;

static uint64_t draw_next(draw64 *d) {
    if (d->used == 4) {
        ot_rng_block(&d->r, d->block++, d->w);
        d->used = 0;
    }
    uint64_t x = (uint64_t)d->w[d->used] << 32 | d->w[d->used + 1];
    d->used += 2;
    return x;
}

/* Uniform in [0, bound) without modulo bias: reject the 2^64 mod bound
   smallest words. */
static uint64_t draw_below(draw64 *d, uint64_t bound) {
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        uint64_t x = draw_next(d);
        if (x >= threshold) return x % bound;
    }
}

void ot_batcher_permutation(uint64_t seed, int64_t epoch, int64_t n, int64_t *order) {
    draw64 d = {ot_rng_make(seed, SHUFFLE_STREAM, (uint64_t)epoch), 0, {0}, 4};
    for (int64_t i = 0; i < n; i++) order[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)draw_below(&d, (uint64_t)i + 1);
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* ---- binding resolution and validation ------------------------------------ */

static const char *tname(const bind_rt *r) { return r->target ? r->target : r->array; }

/* "x.npy, array 'x', sample 17 (data row 18)" */
static const char *where(const bind_rt *r, int64_t sample, char *buf, size_t cap) {
    if (r->csv)
        snprintf(buf, cap, "%s, array '%s', sample %lld (data row %lld)", r->source, r->array, (long long)sample,
                 (long long)sample + 1);
    else
        snprintf(buf, cap, "%s, array '%s', sample %lld", r->source, r->array, (long long)sample);
    return buf;
}

/* The per-sample shape: the binding's, with -1 entries taken from the data. */
static ot_status resolve_shape(bind_rt *r, const ot_batch_binding *b) {
    const ot_tensor *s = r->src;
    const int srank = s->rank - 1;
    const int64_t *sd = s->dims + 1;
    OT_TRY(ot_shape_numel(srank, sd, &r->elems));
    char ss[160], ts[160];
    ot_shape_str(srank, sd, ss, sizeof ss);
    if (b->rank < 0) {
        r->rank = srank;
        memcpy(r->dims, sd, sizeof(int64_t) * (size_t)srank);
        return OT_OK;
    }
    if (b->rank > OT_MAX_RANK - 1)
        return ot_error(OT_ERR_UNSUPPORTED, "%s: per-sample rank %d is too large (at most %d)", tname(r), b->rank,
                        OT_MAX_RANK - 1);
    r->rank = b->rank;
    int unknown = 0, at = -1;
    int64_t known = 1; /* product of the fixed dims */
    for (int d = 0; d < b->rank; d++) {
        if (b->dims[d] < 0) {
            unknown++, at = d;
        } else if (b->dims[d] > 0 && known > OT_MAX_NUMEL / b->dims[d]) {
            return ot_error(OT_ERR_SHAPE, "%s: the per-sample shape is too large", tname(r));
        } else {
            known *= b->dims[d];
        }
    }
    if (unknown && srank == b->rank) {
        /* same rank: symbolic dims are the data's, fixed dims must agree */
        bool agree = true;
        for (int d = 0; d < b->rank; d++) {
            if (b->dims[d] >= 0 && b->dims[d] != sd[d]) agree = false;
            r->dims[d] = sd[d];
        }
        if (agree) return OT_OK;
    }
    for (int d = 0; d < b->rank; d++) r->dims[d] = b->dims[d];
    if (unknown == 1 && known > 0 && r->elems % known == 0) {
        r->dims[at] = r->elems / known;
        return OT_OK;
    }
    if (!unknown && known == r->elems) return OT_OK;
    ot_shape_str(b->rank, r->dims, ts, sizeof ts);
    if (unknown)
        return ot_error(OT_ERR_SHAPE,
                        "%s, array '%s': a sample has shape %s (%lld elements), which does not fit the shape %s "
                        "(-1: any size) that %s takes per sample",
                        r->source, r->array, ss, (long long)r->elems, ts, tname(r));
    return ot_error(OT_ERR_SHAPE,
                    "%s, array '%s': a sample has shape %s (%lld elements) but %s takes %s (%lld elements) per "
                    "sample; a sample is reshaped only when the element counts match",
                    r->source, r->array, ss, (long long)r->elems, tname(r), ts, (long long)known);
}

static double float_max(ot_dtype t) {
    switch (t) {
    case OT_FLOAT16: return 65504.0;
    case OT_BFLOAT16: return 3.3895313892515355e38;
    case OT_FLOAT: return FLT_MAX;
    default: return DBL_MAX;
    }
}

/* Integer range of a type as int64 (uint64 capped at INT64_MAX: labels and
   indices never need more). */
static void int_range(ot_dtype t, int64_t *lo, int64_t *hi) {
    switch (t) {
    case OT_BOOL: *lo = 0, *hi = 1; return;
    case OT_UINT8: *lo = 0, *hi = UINT8_MAX; return;
    case OT_INT8: *lo = INT8_MIN, *hi = INT8_MAX; return;
    case OT_UINT16: *lo = 0, *hi = UINT16_MAX; return;
    case OT_INT16: *lo = INT16_MIN, *hi = INT16_MAX; return;
    case OT_UINT32: *lo = 0, *hi = UINT32_MAX; return;
    case OT_INT32: *lo = INT32_MIN, *hi = INT32_MAX; return;
    case OT_UINT64: *lo = 0, *hi = INT64_MAX; return;
    default: *lo = INT64_MIN, *hi = INT64_MAX; return;
    }
}

/* Float target: NaN/Inf in the data, or values the target type cannot hold. */
static ot_status validate_float(const bind_rt *r) {
    const ot_tensor *s = r->src;
    const int64_t total = ot_tensor_numel(s);
    const double lim = float_max(r->dtype);
    char w[512];
    if (!ot_dtype_is_float(s->dtype)) {
        int64_t lo, hi;
        int_range(s->dtype, &lo, &hi);
        double big = fmax(fabs((double)lo), fabs((double)hi)) * fabs(r->scale);
        if (big <= lim) return OT_OK; /* no value can overflow: skip the scan */
    }
    for (int64_t i = 0; i < total; i++) {
        double v;
        if (s->dtype == OT_FLOAT) {
            float f = ((const float *)s->data)[i];
            if (isfinite(f) && r->dtype != OT_FLOAT16 && r->dtype != OT_BFLOAT16) continue;
            v = f;
        } else {
            v = ot_load_f64(s->dtype, s->data, i);
            if (ot_dtype_is_int(s->dtype)) v *= r->scale;
        }
        if (isfinite(v) && fabs(v) <= lim) continue;
        int64_t sample = i / (r->elems ? r->elems : 1), elem = i - sample * r->elems;
        if (!isfinite(v))
            return ot_error(OT_ERR_NUMERIC, "%s: element %lld is %s; %s must be finite", where(r, sample, w, sizeof w),
                            (long long)elem, isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"), tname(r));
        return ot_error(OT_ERR_NUMERIC, "%s: element %lld, %g, overflows %s (%s)", where(r, sample, w, sizeof w),
                        (long long)elem, v, ot_dtype_name(r->dtype), tname(r));
    }
    return OT_OK;
}

/* Integer target: whole numbers in the type's range, and labels in
   [0, n_classes) unless ignored. */
static ot_status validate_int(const bind_rt *r) {
    const ot_tensor *s = r->src;
    const ot_batch_binding *b = &r->spec;
    const int64_t total = ot_tensor_numel(s);
    int64_t lo, hi, slo, shi;
    int_range(r->dtype, &lo, &hi);
    if (ot_dtype_is_int(s->dtype) || s->dtype == OT_BOOL) {
        int_range(s->dtype, &slo, &shi);
        if (b->n_classes <= 0 && s->dtype != OT_UINT64 && slo >= lo && shi <= hi) return OT_OK;
    }
    char w[512];
    for (int64_t i = 0; i < total; i++) {
        int64_t v;
        int64_t sample = i / (r->elems ? r->elems : 1), elem = i - sample * r->elems;
        if (ot_dtype_is_float(s->dtype)) {
            double d = ot_load_f64(s->dtype, s->data, i);
            if (!(d == floor(d) && fabs(d) < 9.2e18))
                return ot_error(OT_ERR_TYPE, "%s: element %lld is %g, not a whole number; %s takes %s values",
                                where(r, sample, w, sizeof w), (long long)elem, d, tname(r), ot_dtype_name(r->dtype));
            v = (int64_t)d;
        } else if (s->dtype == OT_UINT64 && ((const uint64_t *)s->data)[i] > (uint64_t)INT64_MAX) {
            return ot_error(OT_ERR_TYPE, "%s: element %lld is %llu, too large for %s (%s)",
                            where(r, sample, w, sizeof w), (long long)elem,
                            (unsigned long long)((const uint64_t *)s->data)[i], tname(r), ot_dtype_name(r->dtype));
        } else {
            v = ot_load_i64(s->dtype, s->data, i);
        }
        if (b->has_ignore_index && v == b->ignore_index) continue;
        if (b->n_classes > 0 && (v < 0 || v >= b->n_classes))
            return ot_error(OT_ERR_INVALID_ARG, "%s: %s value %lld is outside the class range [0, %lld)",
                            where(r, sample, w, sizeof w), tname(r), (long long)v, (long long)b->n_classes);
        if (v < lo || v > hi)
            return ot_error(OT_ERR_TYPE, "%s: element %lld is %lld, outside the range of %s (%s)",
                            where(r, sample, w, sizeof w), (long long)elem, (long long)v, ot_dtype_name(r->dtype),
                            tname(r));
    }
    return OT_OK;
}

static ot_status bind_resolve(const ot_dataset *ds, const ot_batch_binding *b, bind_rt *r) {
    if (!b->array) return ot_error(OT_ERR_INVALID_ARG, "ot_batcher_create: a binding has no array name");
    r->spec = *b;
    r->array = ot_strdup(b->array);
    r->target = b->target ? ot_strdup(b->target) : NULL;
    if (!r->array || (b->target && !r->target)) return ot_error(OT_ERR_NOMEM, "out of memory");
    int i = ot_dataset_find(ds, b->array);
    if (i < 0) {
        char names[512];
        return ot_error(OT_ERR_INVALID_ARG, "no data array named '%s' for %s (the data has %s)", b->array, tname(r),
                        ot_dataset_names_str(ds, names, sizeof names));
    }
    r->src = ot_dataset_tensor(ds, i);
    r->source = ot_dataset_source(ds, i);
    r->csv = ot_dataset_from_csv(ds, i);
    r->dtype = b->dtype == OT_UNDEFINED ? r->src->dtype : b->dtype;
    if (!ot_dtype_is_numeric(r->dtype))
        return ot_error(OT_ERR_UNSUPPORTED, "%s: cannot feed %s data (%s, array '%s')", tname(r),
                        ot_dtype_name(r->dtype), r->source, r->array);
    const ot_dtype sd = r->src->dtype;
    r->scale = ot_dtype_is_int(sd) && ot_dtype_is_float(r->dtype) ? ot_dataset_scale(ds, i) : 1.0;
    OT_TRY(resolve_shape(r, b));
    if (sd == r->dtype) r->kind = CONV_COPY;
    else if (sd == OT_UINT8 && r->dtype == OT_FLOAT) r->kind = CONV_U8_F32;
    else if (sd == OT_DOUBLE && r->dtype == OT_FLOAT) r->kind = CONV_F64_F32;
    else r->kind = ot_dtype_is_float(r->dtype) ? CONV_TO_FLOAT : CONV_TO_INT;
    if (ot_dtype_is_float(r->dtype)) return validate_float(r);
    if (b->n_classes > 0 || r->kind != CONV_COPY) return validate_int(r);
    return OT_OK;
}

/* ---- producing a batch ---------------------------------------------------- */

/* Rows [first, first + rows) of the epoch's order into dst (rows, elems). */
static void convert_rows(const bind_rt *r, int64_t first, int64_t rows, const int64_t *perm, void *dst) {
    const ot_tensor *s = r->src;
    const size_t ses = ot_dtype_size(s->dtype), des = ot_dtype_size(r->dtype);
    const int64_t e = r->elems;
    for (int64_t k = 0; k < rows; k++) {
        const int64_t i = perm ? perm[first + k] : first + k; /* file index */
        const char *sp = (const char *)s->data + (size_t)(i * e) * ses;
        char *dp = (char *)dst + (size_t)(k * e) * des;
        switch (r->kind) {
        case CONV_COPY: memcpy(dp, sp, (size_t)e * ses); break;
        case CONV_U8_F32: {
            const float sc = (float)r->scale;
            for (int64_t j = 0; j < e; j++) ((float *)dp)[j] = (float)((const uint8_t *)sp)[j] * sc;
            break;
        }
        case CONV_F64_F32:
            for (int64_t j = 0; j < e; j++) ((float *)dp)[j] = (float)((const double *)sp)[j];
            break;
        case CONV_TO_FLOAT:
            for (int64_t j = 0; j < e; j++) ot_store_f64(r->dtype, dp, j, ot_load_f64(s->dtype, sp, j) * r->scale);
            break;
        case CONV_TO_INT:
            /* validated: whole numbers in range */
            for (int64_t j = 0; j < e; j++)
                ot_store_i64(r->dtype, dp, j,
                             ot_dtype_is_float(s->dtype) ? (int64_t)ot_load_f64(s->dtype, sp, j)
                                                         : ot_load_i64(s->dtype, sp, j));
            break;
        }
    }
}

/* Samples remaining from `cursor` make no further batch. */
static bool epoch_done(const ot_batcher *b, int64_t cursor) {
    int64_t left = b->samples - cursor;
    return left <= 0 || (b->drop_last && left < b->bs);
}

/* Fills `s` with the batch at the producer's position and advances it. */
static void produce(ot_batcher *b, slot *s) {
    if (b->shuffle && b->perm_epoch != b->p_epoch) {
        ot_batcher_permutation(b->seed, b->p_epoch, b->samples, b->perm);
        b->perm_epoch = b->p_epoch;
    }
    int64_t rows = b->samples - b->p_cursor;
    if (rows > b->bs) rows = b->bs;
    for (int i = 0; i < b->n; i++) {
        convert_rows(&b->bind[i], b->p_cursor, rows, b->shuffle ? b->perm : NULL, s->t[i]->data);
        s->t[i]->dims[0] = rows;
    }
    s->rows = rows;
    b->p_cursor += rows;
    s->epoch_end = epoch_done(b, b->p_cursor);
    if (s->epoch_end) b->p_epoch++, b->p_cursor = 0;
    s->epoch_after = b->p_epoch;
    s->cursor_after = b->p_cursor;
}

static void *worker_main(void *arg) {
    ot_batcher *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        slot *s = &b->slots[b->p_next];
        while (!b->quit && s->state != SLOT_EMPTY) pthread_cond_wait(&b->cv, &b->mu);
        if (b->quit) break;
        /* the slot is EMPTY: the consumer does not touch it until READY */
        pthread_mutex_unlock(&b->mu);
        produce(b, s);
        pthread_mutex_lock(&b->mu);
        s->state = SLOT_READY;
        b->p_next ^= 1;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static void stop_worker(ot_batcher *b) {
    if (!b->running) return;
    pthread_mutex_lock(&b->mu);
    b->quit = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    b->running = false;
    b->quit = false;
}

/* Puts producer and consumer at (epoch, cursor) with both buffers free. */
static void reset_position(ot_batcher *b, int64_t epoch, int64_t cursor) {
    if (epoch_done(b, cursor)) epoch++, cursor = 0;
    b->c_epoch = b->p_epoch = epoch;
    b->c_cursor = b->p_cursor = cursor;
    b->c_next = b->p_next = 0;
    b->c_cur = -1;
    b->perm_epoch = -1;
    for (int k = 0; k < 2; k++) b->slots[k].state = SLOT_EMPTY;
}

/* ---- public --------------------------------------------------------------- */

ot_status ot_batcher_create(const ot_dataset *ds, const ot_batch_binding *bindings, int n, int64_t batch_size,
                            bool shuffle, bool drop_last, uint64_t seed, ot_batcher **out) {
    if (!ds || (n > 0 && !bindings) || n < 1 || !out)
        return ot_error(OT_ERR_INVALID_ARG, "ot_batcher_create: NULL argument or no bindings");
    const int64_t samples = ot_dataset_samples(ds);
    if (batch_size < 1) return ot_error(OT_ERR_INVALID_ARG, "batch size %lld must be at least 1", (long long)batch_size);
    if (samples < 1) return ot_error(OT_ERR_INVALID_ARG, "the data set has no samples");
    if (drop_last && samples < batch_size)
        return ot_error(OT_ERR_INVALID_ARG,
                        "the data set has %lld samples, fewer than one batch of %lld: with drop_last no batch is left",
                        (long long)samples, (long long)batch_size);
    ot_batcher *b = ot_calloc(1, sizeof *b);
    if (!b) return ot_error(OT_ERR_NOMEM, "out of memory");
    b->ds = ds;
    b->samples = samples;
    b->bs = batch_size;
    b->cap_rows = batch_size < samples ? batch_size : samples;
    b->shuffle = shuffle;
    b->drop_last = drop_last;
    b->seed = seed;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    ot_status s = OT_OK;
    b->bind = ot_calloc((size_t)n, sizeof *b->bind);
    if (!b->bind) s = ot_error(OT_ERR_NOMEM, "out of memory");
    else b->n = n; /* zeroed entries free safely if resolution stops half-way */
    for (int i = 0; i < n && !s; i++) s = bind_resolve(ds, &bindings[i], &b->bind[i]);
    if (!s && shuffle && !(b->perm = ot_malloc(sizeof(int64_t) * (size_t)samples)))
        s = ot_error(OT_ERR_NOMEM, "out of memory for the permutation of %lld samples", (long long)samples);
    for (int k = 0; k < 2 && !s; k++) {
        b->slots[k].t = ot_calloc((size_t)n, sizeof(ot_tensor *));
        if (!b->slots[k].t) s = ot_error(OT_ERR_NOMEM, "out of memory");
        for (int i = 0; i < n && !s; i++) {
            const bind_rt *r = &b->bind[i];
            int64_t dims[OT_MAX_RANK];
            dims[0] = b->cap_rows;
            memcpy(dims + 1, r->dims, sizeof(int64_t) * (size_t)r->rank);
            s = ot_tensor_new(r->dtype, r->rank + 1, dims, &b->slots[k].t[i]);
            if (!s) s = ot_tensor_set_name(b->slots[k].t[i], r->array);
            if (s) ot_error_context(s, "batch buffer for %s", tname(r));
        }
    }
    if (s) {
        ot_batcher_free(b);
        return s;
    }
    reset_position(b, 0, 0);
    *out = b;
    return OT_OK;
}

void ot_batcher_free(ot_batcher *b) {
    if (!b) return;
    stop_worker(b);
    for (int k = 0; k < 2; k++) {
        for (int i = 0; b->slots[k].t && i < b->n; i++) ot_tensor_free(b->slots[k].t[i]);
        ot_free(b->slots[k].t);
    }
    for (int i = 0; i < b->n; i++) {
        ot_free(b->bind[i].array);
        ot_free(b->bind[i].target);
    }
    ot_free(b->bind);
    ot_free(b->perm);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    ot_free(b);
}

ot_status ot_batcher_next(ot_batcher *b, ot_tensor ***batch, int64_t *rows, bool *epoch_end) {
    if (!b || !batch || !rows) return ot_error(OT_ERR_INVALID_ARG, "ot_batcher_next: NULL argument");
    if (!b->running && !b->sync) {
        /* started on first use, so set_state before it costs no wasted batch */
        if (pthread_create(&b->thread, NULL, worker_main, b) == 0) b->running = true;
        else b->sync = true; /* no thread to be had: fill batches on the caller's thread */
    }
    slot *s = &b->slots[b->c_next];
    pthread_mutex_lock(&b->mu);
    if (b->c_cur >= 0) {
        b->slots[b->c_cur].state = SLOT_EMPTY;
        pthread_cond_broadcast(&b->cv);
    }
    if (b->sync) {
        pthread_mutex_unlock(&b->mu);
        produce(b, s);
        b->p_next ^= 1;
        pthread_mutex_lock(&b->mu);
    } else {
        while (s->state != SLOT_READY) pthread_cond_wait(&b->cv, &b->mu);
    }
    s->state = SLOT_IN_USE;
    pthread_mutex_unlock(&b->mu);
    b->c_cur = b->c_next;
    b->c_next ^= 1;
    b->c_epoch = s->epoch_after;
    b->c_cursor = s->cursor_after;
    *batch = s->t;
    *rows = s->rows;
    if (epoch_end) *epoch_end = s->epoch_end;
    return OT_OK;
}

ot_batcher_state ot_batcher_get_state(const ot_batcher *b) {
    ot_batcher_state st = {b->c_epoch, b->c_cursor, b->seed};
    return st;
}

ot_status ot_batcher_set_state(ot_batcher *b, const ot_batcher_state *st) {
    if (!b || !st) return ot_error(OT_ERR_INVALID_ARG, "ot_batcher_set_state: NULL argument");
    if (st->epoch < 0 || st->cursor < 0 || st->cursor > b->samples)
        return ot_error(OT_ERR_INVALID_ARG,
                        "sampler state epoch %lld, cursor %lld does not fit a data set of %lld samples (was the "
                        "checkpoint made with other data?)",
                        (long long)st->epoch, (long long)st->cursor, (long long)b->samples);
    stop_worker(b);
    b->seed = st->seed;
    reset_position(b, st->epoch, st->cursor);
    return OT_OK;
}

int64_t ot_batcher_batches_per_epoch(const ot_batcher *b) {
    return b->drop_last ? b->samples / b->bs : (b->samples + b->bs - 1) / b->bs;
}

int64_t ot_batcher_samples(const ot_batcher *b) { return b->samples; }
