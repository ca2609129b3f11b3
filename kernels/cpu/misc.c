/* Misc family loops: CumProd, LRN, Swish, Binarizer, EyeLike, the random
 * fills, ReverseSequence, TensorScatter, and the float16/bfloat16 staging
 * every float loop of the family shares (see misc.h). */
#include "fp_select.h" /* first: float selects vectorise */
#include "misc.h"

#include <math.h>
#include <string.h>

#include "../../src/core/dtype.h"
#include "../../src/core/half.h"
#include "../../src/runtime/workspace.h"
#include "broadcast.h"
#include "elementwise_fastmath.h"
#include "simd_clones.h"

/* ---- staging ------------------------------------------------------------------ */

bool ot_misc_is_half(ot_dtype t) { return t == OT_FLOAT16 || t == OT_BFLOAT16; }

float *ot_misc_scratch_f32(int64_t n) { return ot_workspace_alloc((size_t)(n > 0 ? n : 1) * sizeof(float)); }

float *ot_misc_stage_f32(const ot_tensor *t) {
    const int64_t n = ot_tensor_numel(t);
    float *f = ot_misc_scratch_f32(n);
    if (!f) return NULL;
    const uint16_t *h = t->data;
    const bool bf = t->dtype == OT_BFLOAT16;
#pragma omp parallel for schedule(static) if (n >= OT_GRAIN_CHEAP)
    for (int64_t i = 0; i < n; i++) f[i] = bf ? ot_bf16_to_f32(h[i]) : ot_f16_to_f32(h[i]);
    return f;
}

void ot_misc_unstage_f32(const float *src, ot_tensor *t) {
    const int64_t n = ot_tensor_numel(t);
    uint16_t *h = t->data;
    const bool bf = t->dtype == OT_BFLOAT16;
#pragma omp parallel for schedule(static) if (n >= OT_GRAIN_CHEAP)
    for (int64_t i = 0; i < n; i++) h[i] = bf ? ot_f32_to_bf16(src[i]) : ot_f32_to_f16(src[i]);
}

/* (outer, n, inner) around axis. */
static void around_axis(const ot_tensor *x, int axis, int64_t *outer, int64_t *n, int64_t *inner) {
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= x->dims[d];
    for (int d = axis + 1; d < x->rank; d++) *inner *= x->dims[d];
    *n = x->dims[axis];
}

/* ---- CumProd ---------------------------------------------------------------------- */

/* Lines are processed CHUNK inner positions at a time, so the running
   products sit in a small stack row and every step is a contiguous,
   vectorisable row operation.  Reading x_k before writing y_k keeps it
   correct in place. */
enum { CP_CHUNK = 256 };

#define DEFINE_CUMPROD(NAME, T)                                                                             \
    static void NAME(const T *x, T *y, int64_t outer, int64_t n, int64_t inner, bool excl, bool rev) {      \
        const int64_t nch = (inner + CP_CHUNK - 1) / CP_CHUNK, tasks = outer * nch;                         \
        const bool par = tasks > 1 && outer * n * inner >= OT_GRAIN_CHEAP;                                   \
        if (inner == 1) { /* contiguous lines: a scalar scan each */                                         \
            _Pragma("omp parallel for schedule(static) if (par)") for (int64_t o = 0; o < outer; o++) {     \
                const T *xr = x + o * n;                                                                     \
                T *yr = y + o * n, acc = (T)1;                                                               \
                for (int64_t k = 0; k < n; k++) {                                                            \
                    const int64_t i = rev ? n - 1 - k : k;                                                   \
                    const T v = xr[i];                                                                       \
                    if (excl) yr[i] = acc, acc *= v;                                                         \
                    else acc *= v, yr[i] = acc;                                                              \
                }                                                                                            \
            }                                                                                                \
            return;                                                                                          \
        }                                                                                                    \
        _Pragma("omp parallel for schedule(static) if (par)") for (int64_t t = 0; t < tasks; t++) {         \
            const int64_t o = t / nch, j0 = (t % nch) * CP_CHUNK;                                            \
            const int64_t m = inner - j0 < CP_CHUNK ? inner - j0 : CP_CHUNK;                                 \
            T acc[CP_CHUNK];                                                                                 \
            for (int64_t j = 0; j < m; j++) acc[j] = (T)1;                                                   \
            for (int64_t k = 0; k < n; k++) {                                                                \
                const int64_t off = (o * n + (rev ? n - 1 - k : k)) * inner + j0;                            \
                const T *xr = x + off;                                                                       \
                T *yr = y + off;                                                                             \
                if (excl)                                                                                    \
                    for (int64_t j = 0; j < m; j++) {                                                        \
                        const T v = xr[j];                                                                   \
                        yr[j] = acc[j];                                                                      \
                        acc[j] *= v;                                                                         \
                    }                                                                                        \
                else                                                                                         \
                    for (int64_t j = 0; j < m; j++) {                                                        \
                        acc[j] *= xr[j];                                                                     \
                        yr[j] = acc[j];                                                                      \
                    }                                                                                        \
            }                                                                                                \
        }                                                                                                    \
    }

DEFINE_CUMPROD(cumprod_f32, float)
DEFINE_CUMPROD(cumprod_f64, double)
DEFINE_CUMPROD(cumprod_u32, uint32_t)
DEFINE_CUMPROD(cumprod_u64, uint64_t)

ot_status ot_cpu_cumprod(const ot_tensor *x, int axis, bool exclusive, bool reverse, ot_tensor *y) {
    int64_t outer, n, inner;
    around_axis(x, axis, &outer, &n, &inner);
    switch (x->dtype) {
    case OT_FLOAT: cumprod_f32(x->data, y->data, outer, n, inner, exclusive, reverse); return OT_OK;
    case OT_DOUBLE: cumprod_f64(x->data, y->data, outer, n, inner, exclusive, reverse); return OT_OK;
    case OT_INT32: case OT_UINT32: cumprod_u32(x->data, y->data, outer, n, inner, exclusive, reverse); return OT_OK;
    case OT_INT64: case OT_UINT64: cumprod_u64(x->data, y->data, outer, n, inner, exclusive, reverse); return OT_OK;
    case OT_FLOAT16: case OT_BFLOAT16: {
        float *f = ot_misc_stage_f32(x);
        if (!f) return ot_error(OT_ERR_NOMEM, "CumProd: out of memory");
        cumprod_f32(f, f, outer, n, inner, exclusive, reverse);
        ot_misc_unstage_f32(f, y);
        ot_workspace_free(f);
        return OT_OK;
    }
    default: return ot_error(OT_ERR_UNSUPPORTED, "CumProd: no kernel for %s", ot_dtype_name(x->dtype));
    }
}

/* ---- LRN -------------------------------------------------------------------------- */

/* y = x * (bias + scale * sum)^-beta over one chunk; beta 0.75 (AlexNet,
   the default), 0.5 and 1 in vectorised loops without pow. */
static void lrn_apply_f32(const float *x, float *y, const float *sum, int64_t m, float scale, float bias, float beta) {
    if (beta == 0.75f) {
#pragma omp simd
        for (int64_t j = 0; j < m; j++) {
            const float r = 1.0f / sqrtf(bias + scale * sum[j]);
            y[j] = x[j] * r * sqrtf(r);
        }
    } else if (beta == 0.5f) {
#pragma omp simd
        for (int64_t j = 0; j < m; j++) y[j] = x[j] / sqrtf(bias + scale * sum[j]);
    } else if (beta == 1.0f) {
#pragma omp simd
        for (int64_t j = 0; j < m; j++) y[j] = x[j] / (bias + scale * sum[j]);
    } else {
        for (int64_t j = 0; j < m; j++) y[j] = x[j] * powf(bias + scale * sum[j], -beta);
    }
}
static void lrn_apply_f64(const double *x, double *y, const double *sum, int64_t m, double scale, double bias,
                          double beta) {
    for (int64_t j = 0; j < m; j++) y[j] = x[j] * pow(bias + scale * sum[j], -beta);
}

enum { LRN_CHUNK = 256 };

/* One (n, c) row at a time, CHUNK spatial positions at a time: the window's
   squares are summed row by row (contiguous, vectorised). */
#define DEFINE_LRN(NAME, T, APPLY)                                                                            \
    static void NAME(const T *x, T *y, int64_t N, int64_t C, int64_t S, const ot_lrn_params *p) {             \
        const int64_t lo = (p->size - 1) / 2, hi = p->size - 1 - lo;                                          \
        const T scale = (T)(p->alpha / (double)p->size), bias = (T)p->bias, beta = (T)p->beta;               \
        const bool par = N * C > 1 && N * C * S * (p->size + 4) >= OT_GRAIN_CHEAP;                            \
        _Pragma("omp parallel for schedule(static) if (par)") for (int64_t t = 0; t < N * C; t++) {          \
            const int64_t nn = t / C, c = t % C;                                                              \
            const int64_t c0 = c - lo < 0 ? 0 : c - lo, c1 = c + hi > C - 1 ? C - 1 : c + hi;                \
            T sum[LRN_CHUNK];                                                                                 \
            for (int64_t s0 = 0; s0 < S; s0 += LRN_CHUNK) {                                                   \
                const int64_t m = S - s0 < LRN_CHUNK ? S - s0 : LRN_CHUNK;                                    \
                for (int64_t j = 0; j < m; j++) sum[j] = 0;                                                   \
                for (int64_t i = c0; i <= c1; i++) {                                                          \
                    const T *xr = x + (nn * C + i) * S + s0;                                                  \
                    for (int64_t j = 0; j < m; j++) sum[j] += xr[j] * xr[j];                                  \
                }                                                                                             \
                APPLY(x + t * S + s0, y + t * S + s0, sum, m, scale, bias, beta);                             \
            }                                                                                                 \
        }                                                                                                     \
    }

DEFINE_LRN(lrn_f32, float, lrn_apply_f32)
DEFINE_LRN(lrn_f64, double, lrn_apply_f64)

static void lrn_layout(const ot_tensor *x, int64_t *N, int64_t *C, int64_t *S) {
    *N = x->dims[0];
    *C = x->dims[1];
    *S = 1;
    for (int d = 2; d < x->rank; d++) *S *= x->dims[d];
}

ot_status ot_cpu_lrn(const ot_tensor *x, const ot_lrn_params *p, ot_tensor *y) {
    int64_t N, C, S;
    lrn_layout(x, &N, &C, &S);
    switch (x->dtype) {
    case OT_FLOAT: lrn_f32(x->data, y->data, N, C, S, p); return OT_OK;
    case OT_DOUBLE: lrn_f64(x->data, y->data, N, C, S, p); return OT_OK;
    case OT_FLOAT16: case OT_BFLOAT16: {
        float *f = ot_misc_stage_f32(x), *g = ot_misc_scratch_f32(N * C * S);
        ot_status s = f && g ? OT_OK : ot_error(OT_ERR_NOMEM, "LRN: out of memory");
        if (!s) {
            lrn_f32(f, g, N, C, S, p);
            ot_misc_unstage_f32(g, y);
        }
        ot_workspace_free(g);
        ot_workspace_free(f);
        return s;
    }
    default: return ot_error(OT_ERR_UNSUPPORTED, "LRN: no kernel for %s", ot_dtype_name(x->dtype));
    }
}

/* ---- Swish ------------------------------------------------------------------------ */

typedef struct ew_job {
    const void *a, *b;
    void *out;
    double alpha;
} ew_job;

OT_SIMD_CLONES static void swish_f32_range(int64_t b, int64_t e, const void *ctx) {
    const ew_job *j = ctx;
    const float *x = j->a;
    float *y = j->out;
    const float alpha = (float)j->alpha;
#pragma omp simd
    for (int64_t i = b; i < e; i++) y[i] = x[i] * ot_fast_sigmoidf(alpha * x[i]);
}

static void swish_f64_range(int64_t b, int64_t e, const void *ctx) {
    const ew_job *j = ctx;
    const double *x = j->a;
    double *y = j->out;
    for (int64_t i = b; i < e; i++) y[i] = x[i] / (1.0 + exp(-j->alpha * x[i]));
}

ot_status ot_cpu_swish(const ot_tensor *x, double alpha, ot_tensor *y) {
    const int64_t n = ot_tensor_numel(x);
    ew_job j = {x->data, NULL, y->data, alpha};
    switch (x->dtype) {
    case OT_FLOAT: ot_parallel_range(n, OT_GRAIN_COSTLY, swish_f32_range, &j); return OT_OK;
    case OT_DOUBLE: ot_parallel_range(n, OT_GRAIN_COSTLY, swish_f64_range, &j); return OT_OK;
    case OT_FLOAT16: case OT_BFLOAT16: {
        float *f = ot_misc_stage_f32(x);
        if (!f) return ot_error(OT_ERR_NOMEM, "Swish: out of memory");
        j.a = j.out = f;
        ot_parallel_range(n, OT_GRAIN_COSTLY, swish_f32_range, &j);
        ot_misc_unstage_f32(f, y);
        ot_workspace_free(f);
        return OT_OK;
    }
    default: return ot_error(OT_ERR_UNSUPPORTED, "Swish: no kernel for %s", ot_dtype_name(x->dtype));
    }
}

/* ---- Binarizer --------------------------------------------------------------------- */

#define DEFINE_BINARIZE(NAME, T)                                                      \
    static void NAME(int64_t b, int64_t e, const void *ctx) {                         \
        const ew_job *j = ctx;                                                        \
        const T *x = j->a;                                                            \
        T *y = j->out;                                                                \
        const double th = j->alpha;                                                   \
        for (int64_t i = b; i < e; i++) y[i] = (double)x[i] > th ? (T)1 : (T)0;       \
    }
DEFINE_BINARIZE(binarize_f32, float)
DEFINE_BINARIZE(binarize_f64, double)
DEFINE_BINARIZE(binarize_i32, int32_t)
DEFINE_BINARIZE(binarize_i64, int64_t)

ot_status ot_cpu_binarizer(const ot_tensor *x, double threshold, ot_tensor *y) {
    ew_job j = {x->data, NULL, y->data, threshold};
    ot_range_fn fn = x->dtype == OT_FLOAT ? binarize_f32 : x->dtype == OT_DOUBLE ? binarize_f64
                   : x->dtype == OT_INT32 ? binarize_i32 : x->dtype == OT_INT64 ? binarize_i64 : NULL;
    if (!fn) return ot_error(OT_ERR_UNSUPPORTED, "Binarizer: no kernel for %s", ot_dtype_name(x->dtype));
    ot_parallel_range(ot_tensor_numel(x), OT_GRAIN_CHEAP, fn, &j);
    return OT_OK;
}

/* ---- EyeLike ------------------------------------------------------------------------- */

void ot_cpu_eyelike(ot_tensor *y, int64_t k) {
    const int64_t rows = y->dims[0], cols = y->dims[1];
    memset(y->data, 0, ot_tensor_nbytes(y));
    /* Row i holds its one at column i + k, for the rows where that exists. */
    const int64_t first = k < 0 ? -k : 0;
    for (int64_t i = first; i < rows && i + k < cols; i++) ot_store_f64(y->dtype, y->data, i * cols + i + k, 1.0);
}

/* ---- random fills --------------------------------------------------------------------- */

enum { RND_BUF = 256 };

/* Element first + k's uniform in [0, 1) with 53 bits: words 2i and 2i + 1. */
static void uniform53(const ot_rng *r, int64_t first, int64_t m, double *u) {
    uint32_t w[2 * RND_BUF];
    ot_rng_fill_u32(r, 2 * (uint64_t)first, 2 * m, w);
    for (int64_t k = 0; k < m; k++)
        u[k] = ((double)(w[2 * k] >> 5) * 67108864.0 + (double)(w[2 * k + 1] >> 6)) * (1.0 / 9007199254740992.0);
}

typedef struct rnd_job {
    const ot_rng *rng;
    double low, high;
    const ot_tensor *p;
    ot_tensor *y;
} rnd_job;

static void uniform_range(int64_t b, int64_t e, const void *ctx) {
    const rnd_job *j = ctx;
    float uf[RND_BUF];
    double ud[RND_BUF];
    const ot_dtype dt = j->y->dtype;
    for (int64_t s = b; s < e; s += RND_BUF) {
        const int64_t m = e - s < RND_BUF ? e - s : RND_BUF;
        if (dt == OT_DOUBLE) {
            uniform53(j->rng, s, m, ud);
            double *y = (double *)j->y->data + s;
            for (int64_t k = 0; k < m; k++) y[k] = j->low + (j->high - j->low) * ud[k];
            continue;
        }
        ot_rng_fill_uniform(j->rng, (uint64_t)s, m, uf);
        const float lo = (float)j->low, w = (float)(j->high - j->low);
        if (dt == OT_FLOAT) {
            float *y = (float *)j->y->data + s;
            for (int64_t k = 0; k < m; k++) y[k] = lo + w * uf[k];
        } else {
            for (int64_t k = 0; k < m; k++) ot_store_f64(dt, j->y->data, s + k, (double)(lo + w * uf[k]));
        }
    }
}

ot_status ot_cpu_random_uniform(const ot_rng *r, double low, double high, ot_tensor *y) {
    if (!ot_dtype_is_float(y->dtype))
        return ot_error(OT_ERR_UNSUPPORTED, "RandomUniformLike: no kernel for %s", ot_dtype_name(y->dtype));
    rnd_job j = {r, low, high, NULL, y};
    ot_parallel_range(ot_tensor_numel(y), OT_GRAIN_COSTLY, uniform_range, &j);
    return OT_OK;
}

static void bernoulli_range(int64_t b, int64_t e, const void *ctx) {
    const rnd_job *j = ctx;
    float uf[RND_BUF];
    double ud[RND_BUF];
    const ot_dtype pt = j->p->dtype, yt = j->y->dtype;
    for (int64_t s = b; s < e; s += RND_BUF) {
        const int64_t m = e - s < RND_BUF ? e - s : RND_BUF;
        if (pt == OT_DOUBLE) {
            uniform53(j->rng, s, m, ud);
            const double *p = (const double *)j->p->data + s;
            for (int64_t k = 0; k < m; k++) uf[k] = ud[k] < p[k] ? 1.0f : 0.0f;
        } else {
            ot_rng_fill_uniform(j->rng, (uint64_t)s, m, uf);
            if (pt == OT_FLOAT) {
                const float *p = (const float *)j->p->data + s;
                for (int64_t k = 0; k < m; k++) uf[k] = uf[k] < p[k] ? 1.0f : 0.0f;
            } else {
                for (int64_t k = 0; k < m; k++) uf[k] = uf[k] < (float)ot_load_f64(pt, j->p->data, s + k) ? 1.0f : 0.0f;
            }
        }
        /* uf now holds the 0 / 1 draws. */
        if (yt == OT_FLOAT) memcpy((float *)j->y->data + s, uf, sizeof(float) * (size_t)m);
        else if (yt == OT_BOOL || yt == OT_UINT8 || yt == OT_INT8)
            for (int64_t k = 0; k < m; k++) ((uint8_t *)j->y->data)[s + k] = (uint8_t)(uf[k] != 0.0f);
        else
            for (int64_t k = 0; k < m; k++) ot_store_f64(yt, j->y->data, s + k, (double)uf[k]);
    }
}

ot_status ot_cpu_bernoulli(const ot_rng *r, const ot_tensor *p, ot_tensor *y) {
    if (!ot_dtype_is_float(p->dtype) || !ot_dtype_is_numeric(y->dtype))
        return ot_error(OT_ERR_UNSUPPORTED, "Bernoulli: no kernel for %s -> %s", ot_dtype_name(p->dtype),
                        ot_dtype_name(y->dtype));
    rnd_job j = {r, 0, 0, p, y};
    ot_parallel_range(ot_tensor_numel(y), OT_GRAIN_COSTLY, bernoulli_range, &j);
    return OT_OK;
}

/* ---- ReverseSequence, TensorScatter --------------------------------------------------------- */

void ot_cpu_reverse_sequence(const void *x, void *y, size_t esize, int64_t T, int64_t B, int64_t inner,
                             bool time_major, const int64_t *lens) {
    const size_t row = esize * (size_t)inner;
    const bool par = T * B > 1 && (int64_t)row * T * B >= 4 * OT_GRAIN_CHEAP;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t q = 0; q < T * B; q++) {
        const int64_t b = q / T, t = q % T;
        const int64_t src_t = t < lens[b] ? lens[b] - 1 - t : t;
        const int64_t dst = time_major ? t * B + b : b * T + t, src = time_major ? src_t * B + b : b * T + src_t;
        memcpy((char *)y + (size_t)dst * row, (const char *)x + (size_t)src * row, row);
    }
}

int ot_cpu_tensor_scatter(const void *cache, const void *update, void *out, size_t esize, int64_t B, int64_t rest,
                          int64_t max_seq, int64_t seq, int64_t inner, const int64_t *idx, bool circular,
                          int64_t *bad) {
    const size_t row = esize * (size_t)inner;
    if (!circular)
        for (int64_t b = 0; b < B; b++) {
            const int64_t w = idx ? idx[b] : 0;
            if (w < 0 || w > max_seq - seq) {
                *bad = b;
                return -1;
            }
        }
    if (out != cache) {
        const size_t total = row * (size_t)(B * rest * max_seq);
        if (total) memcpy(out, cache, total);
    }
    const int64_t outer = B * rest;
#pragma omp parallel for schedule(static) if (outer * seq * (int64_t)row >= 4 * OT_GRAIN_CHEAP)
    for (int64_t q = 0; q < outer * seq; q++) {
        const int64_t o = q / seq, s = q % seq;
        int64_t pos = (idx ? idx[o / rest] : 0) + s;
        if (circular) pos = ((pos % max_seq) + max_seq) % max_seq;
        memcpy((char *)out + (size_t)(o * max_seq + pos) * row, (const char *)update + (size_t)(o * seq + s) * row,
               row);
    }
    return 0;
}
