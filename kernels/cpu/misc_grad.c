/* Backward loops of the misc family: CumProdGrad, LRNGrad, SwishGrad (the
 * formulas are in misc.h).  float32 and float64; the half types staged. */
#include "fp_select.h" /* first: float selects vectorise */
#include <math.h>
#include <string.h>

#include "../../src/core/dtype.h"
#include "../../src/runtime/workspace.h"
#include "broadcast.h"
#include "elementwise_fastmath.h"
#include "misc.h"
#include "simd_clones.h"

/* Stages up to three half inputs and one output through float32; run() then
   sees float tensors only.  Each tensor keeps its shape. */
typedef struct staged {
    ot_tensor in[3], out;
    float *buf[4];
} staged;

static ot_status stage(staged *s, int n_in, const ot_tensor *const *in, const ot_tensor *out) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < n_in; i++) {
        s->in[i] = *in[i];
        s->in[i].dtype = OT_FLOAT;
        s->in[i].data = s->buf[i] = ot_misc_stage_f32(in[i]);
        if (!s->buf[i]) return ot_error(OT_ERR_NOMEM, "out of memory staging float16 data");
    }
    s->out = *out;
    s->out.dtype = OT_FLOAT;
    s->out.data = s->buf[3] = ot_misc_scratch_f32(ot_tensor_numel(out));
    if (!s->buf[3]) return ot_error(OT_ERR_NOMEM, "out of memory staging float16 data");
    return OT_OK;
}

static void unstage(staged *s, ot_tensor *out, bool ok) {
    if (ok) ot_misc_unstage_f32(s->buf[3], out);
    for (int i = 3; i >= 0; i--) ot_workspace_free(s->buf[i]);
}

/* ---- CumProdGrad ----------------------------------------------------------------------- */

enum { CP_CHUNK = 256 };

/* Backward scan: S into dx; forward scan: times the running product P.
   Positions k are in scan order (reversed when `rev`). */
#define DEFINE_CUMPROD_GRAD(NAME, T)                                                                          \
    static void NAME(const T *dy, const T *x, T *dx, int64_t outer, int64_t n, int64_t inner, bool excl,      \
                     bool rev) {                                                                              \
        const int64_t nch = (inner + CP_CHUNK - 1) / CP_CHUNK, tasks = outer * nch;                           \
        const bool par = tasks > 1 && outer * n * inner >= OT_GRAIN_CHEAP / 2;                                 \
        if (inner == 1 && n > 0) { /* contiguous lines: scalar scans */                                        \
            _Pragma("omp parallel for schedule(static) if (par)") for (int64_t o = 0; o < outer; o++) {       \
                const T *g = dy + o * n, *xr = x + o * n;                                                      \
                T *d = dx + o * n;                                                                             \
                const int64_t st = rev ? -1 : 1, last = rev ? 0 : n - 1;                                       \
                T acc = excl ? (T)0 : g[last];                                                                 \
                d[last] = acc;                                                                                 \
                for (int64_t i = last - st; i >= 0 && i < n; i -= st) {                                        \
                    acc = acc * xr[i + st] + g[excl ? i + st : i];                                             \
                    d[i] = acc;                                                                                \
                }                                                                                              \
                acc = (T)1;                                                                                    \
                for (int64_t i = last - st * (n - 1); i >= 0 && i < n; i += st) {                              \
                    d[i] *= acc;                                                                               \
                    acc *= xr[i];                                                                              \
                }                                                                                              \
            }                                                                                                  \
            return;                                                                                            \
        }                                                                                                      \
        _Pragma("omp parallel for schedule(static) if (par)") for (int64_t t = 0; t < tasks; t++) {           \
            const int64_t o = t / nch, j0 = (t % nch) * CP_CHUNK;                                              \
            const int64_t m = inner - j0 < CP_CHUNK ? inner - j0 : CP_CHUNK;                                   \
            T acc[CP_CHUNK];                                                                                   \
            if (n == 0) continue;                                                                              \
            const int64_t last = (o * n + (rev ? 0 : n - 1)) * inner + j0;                                     \
            for (int64_t j = 0; j < m; j++) acc[j] = excl ? (T)0 : dy[last + j];                               \
            memcpy(dx + last, acc, sizeof(T) * (size_t)m);                                                     \
            for (int64_t k = n - 2; k >= 0; k--) {                                                             \
                const int64_t off = (o * n + (rev ? n - 1 - k : k)) * inner + j0;                              \
                const int64_t nxt = (o * n + (rev ? n - 2 - k : k + 1)) * inner + j0;                          \
                const T *g = dy + (excl ? nxt : off);                                                          \
                for (int64_t j = 0; j < m; j++) {                                                              \
                    acc[j] = acc[j] * x[nxt + j] + g[j];                                                       \
                    dx[off + j] = acc[j];                                                                      \
                }                                                                                              \
            }                                                                                                  \
            for (int64_t j = 0; j < m; j++) acc[j] = (T)1;                                                     \
            for (int64_t k = 0; k < n; k++) {                                                                  \
                const int64_t off = (o * n + (rev ? n - 1 - k : k)) * inner + j0;                              \
                for (int64_t j = 0; j < m; j++) {                                                              \
                    dx[off + j] *= acc[j];                                                                     \
                    acc[j] *= x[off + j];                                                                      \
                }                                                                                              \
            }                                                                                                  \
        }                                                                                                      \
    }

DEFINE_CUMPROD_GRAD(cumprod_grad_f32, float)
DEFINE_CUMPROD_GRAD(cumprod_grad_f64, double)

ot_status ot_cpu_cumprod_grad(const ot_tensor *dy, const ot_tensor *x, int axis, bool exclusive, bool reverse,
                              ot_tensor *dx) {
    int64_t outer = 1, inner = 1, n = x->dims[axis];
    for (int d = 0; d < axis; d++) outer *= x->dims[d];
    for (int d = axis + 1; d < x->rank; d++) inner *= x->dims[d];
    switch (x->dtype) {
    case OT_FLOAT:
        cumprod_grad_f32(dy->data, x->data, dx->data, outer, n, inner, exclusive, reverse);
        return OT_OK;
    case OT_DOUBLE:
        cumprod_grad_f64(dy->data, x->data, dx->data, outer, n, inner, exclusive, reverse);
        return OT_OK;
    case OT_FLOAT16: case OT_BFLOAT16: {
        staged s;
        const ot_tensor *in[2] = {dy, x};
        ot_status st = stage(&s, 2, in, dx);
        if (!st) cumprod_grad_f32(s.in[0].data, s.in[1].data, s.out.data, outer, n, inner, exclusive, reverse);
        unstage(&s, dx, !st);
        return st;
    }
    default: return ot_error(OT_ERR_UNSUPPORTED, "CumProdGrad: no kernel for %s", ot_dtype_name(x->dtype));
    }
}

/* ---- LRNGrad ------------------------------------------------------------------------------ */

enum { LRN_CHUNK = 256 };

/* Pass 1, per (n, c) row: d from the window's squares, dx = dy d^-beta and
   t = dy x d^(-beta-1) (scratch).  Pass 2, per (n, i) row: dx -= k x_i times
   the sum of t over the channels whose windows hold i, [i - hi, i + lo]. */
#define DEFINE_LRN_GRAD(NAME, T, APPLY)                                                                         \
    static void NAME(const T *dy, const T *x, T *dx, T *tmp, int64_t N, int64_t C, int64_t S,                 \
                     const ot_lrn_params *p) {                                                                \
        const int64_t lo = (p->size - 1) / 2, hi = p->size - 1 - lo;                                          \
        const T scale = (T)(p->alpha / (double)p->size), bias = (T)p->bias, beta = (T)p->beta;               \
        const T k2 = (T)(2.0 * p->alpha * p->beta / (double)p->size);                                        \
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
                const int64_t off = t * S + s0;                                                               \
                APPLY(dy + off, x + off, dx + off, tmp + off, sum, m, scale, bias, beta);                     \
            }                                                                                                 \
        }                                                                                                     \
        _Pragma("omp parallel for schedule(static) if (par)") for (int64_t t = 0; t < N * C; t++) {          \
            const int64_t nn = t / C, i = t % C;                                                              \
            const int64_t c0 = i - hi < 0 ? 0 : i - hi, c1 = i + lo > C - 1 ? C - 1 : i + lo;                \
            T sum[LRN_CHUNK];                                                                                 \
            for (int64_t s0 = 0; s0 < S; s0 += LRN_CHUNK) {                                                   \
                const int64_t m = S - s0 < LRN_CHUNK ? S - s0 : LRN_CHUNK;                                    \
                for (int64_t j = 0; j < m; j++) sum[j] = 0;                                                   \
                for (int64_t c = c0; c <= c1; c++) {                                                          \
                    const T *tr = tmp + (nn * C + c) * S + s0;                                                \
                    for (int64_t j = 0; j < m; j++) sum[j] += tr[j];                                          \
                }                                                                                             \
                const int64_t off = t * S + s0;                                                               \
                for (int64_t j = 0; j < m; j++) dx[off + j] -= k2 * x[off + j] * sum[j];                      \
            }                                                                                                 \
        }                                                                                                     \
    }

/* Pass 1's chunk: pw = d^-beta, dx = dy pw, t = dy x pw / d (beta 0.75 without pow). */
static void lrn_grad_apply_f32(const float *dy, const float *x, float *dx, float *t, const float *sum, int64_t m,
                               float scale, float bias, float beta) {
    if (beta == 0.75f) {
#pragma omp simd
        for (int64_t j = 0; j < m; j++) {
            const float d = bias + scale * sum[j], r = 1.0f / sqrtf(d), pw = r * sqrtf(r);
            dx[j] = dy[j] * pw;
            t[j] = dy[j] * x[j] * pw / d;
        }
        return;
    }
    for (int64_t j = 0; j < m; j++) {
        const float d = bias + scale * sum[j], pw = powf(d, -beta);
        dx[j] = dy[j] * pw;
        t[j] = dy[j] * x[j] * pw / d;
    }
}
static void lrn_grad_apply_f64(const double *dy, const double *x, double *dx, double *t, const double *sum, int64_t m,
                               double scale, double bias, double beta) {
    for (int64_t j = 0; j < m; j++) {
        const double d = bias + scale * sum[j], pw = pow(d, -beta);
        dx[j] = dy[j] * pw;
        t[j] = dy[j] * x[j] * pw / d;
    }
}

DEFINE_LRN_GRAD(lrn_grad_f32, float, lrn_grad_apply_f32)
DEFINE_LRN_GRAD(lrn_grad_f64, double, lrn_grad_apply_f64)

size_t ot_cpu_lrn_grad_workspace(ot_dtype dt, int64_t numel) {
    /* t in the compute type; the half types also stage dy, x and dx.  16
       bytes per block for the workspace headers. */
    const size_t n = (size_t)(numel > 0 ? numel : 1);
    if (dt == OT_DOUBLE) return n * sizeof(double) + 64;
    return n * sizeof(float) * (ot_misc_is_half(dt) ? 4 : 1) + 64 * 4;
}

ot_status ot_cpu_lrn_grad(const ot_tensor *dy, const ot_tensor *x, const ot_lrn_params *p, ot_tensor *dx) {
    int64_t N = x->dims[0], C = x->dims[1], S = 1;
    for (int d = 2; d < x->rank; d++) S *= x->dims[d];
    const int64_t n = N * C * S;
    switch (x->dtype) {
    case OT_FLOAT: case OT_FLOAT16: case OT_BFLOAT16: {
        staged s;
        const bool half = x->dtype != OT_FLOAT;
        const ot_tensor *in[2] = {dy, x};
        ot_status st = half ? stage(&s, 2, in, dx) : OT_OK;
        float *tmp = st ? NULL : ot_misc_scratch_f32(n);
        if (!st && !tmp) st = ot_error(OT_ERR_NOMEM, "LRNGrad: out of memory");
        if (!st) {
            if (half) lrn_grad_f32(s.in[0].data, s.in[1].data, s.out.data, tmp, N, C, S, p);
            else lrn_grad_f32(dy->data, x->data, dx->data, tmp, N, C, S, p);
        }
        ot_workspace_free(tmp);
        if (half) unstage(&s, dx, !st);
        return st;
    }
    case OT_DOUBLE: {
        double *tmp = ot_workspace_alloc(sizeof(double) * (size_t)(n ? n : 1));
        if (!tmp) return ot_error(OT_ERR_NOMEM, "LRNGrad: out of memory");
        lrn_grad_f64(dy->data, x->data, dx->data, tmp, N, C, S, p);
        ot_workspace_free(tmp);
        return OT_OK;
    }
    default: return ot_error(OT_ERR_UNSUPPORTED, "LRNGrad: no kernel for %s", ot_dtype_name(x->dtype));
    }
}

/* ---- SwishGrad ------------------------------------------------------------------------------- */

typedef struct swish_job {
    const void *dy, *x;
    void *dx;
    double alpha;
} swish_job;

OT_SIMD_CLONES static void swish_grad_f32_range(int64_t b, int64_t e, const void *ctx) {
    const swish_job *j = ctx;
    const float *dy = j->dy, *x = j->x;
    float *dx = j->dx;
    const float alpha = (float)j->alpha;
#pragma omp simd
    for (int64_t i = b; i < e; i++) {
        const float ax = alpha * x[i], s = ot_fast_sigmoidf(ax);
        dx[i] = dy[i] * s * (1.0f + ax * (1.0f - s));
    }
}

static void swish_grad_f64_range(int64_t b, int64_t e, const void *ctx) {
    const swish_job *j = ctx;
    const double *dy = j->dy, *x = j->x;
    double *dx = j->dx;
    for (int64_t i = b; i < e; i++) {
        const double ax = j->alpha * x[i], s = 1.0 / (1.0 + exp(-ax));
        dx[i] = dy[i] * s * (1.0 + ax * (1.0 - s));
    }
}

ot_status ot_cpu_swish_grad(const ot_tensor *dy, const ot_tensor *x, double alpha, ot_tensor *dx) {
    const int64_t n = ot_tensor_numel(x);
    swish_job j = {dy->data, x->data, dx->data, alpha};
    switch (x->dtype) {
    case OT_FLOAT: ot_parallel_range(n, OT_GRAIN_COSTLY, swish_grad_f32_range, &j); return OT_OK;
    case OT_DOUBLE: ot_parallel_range(n, OT_GRAIN_COSTLY, swish_grad_f64_range, &j); return OT_OK;
    case OT_FLOAT16: case OT_BFLOAT16: {
        staged s;
        const ot_tensor *in[2] = {dy, x};
        ot_status st = stage(&s, 2, in, dx);
        if (!st) {
            j = (swish_job){s.in[0].data, s.in[1].data, s.out.data, alpha};
            ot_parallel_range(n, OT_GRAIN_COSTLY, swish_grad_f32_range, &j);
        }
        unstage(&s, dx, !st);
        return st;
    }
    default: return ot_error(OT_ERR_UNSUPPORTED, "SwishGrad: no kernel for %s", ot_dtype_name(x->dtype));
    }
}
