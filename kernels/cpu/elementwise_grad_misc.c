/* Gradient kernels with several operands: PowGrad, PReluGrad, MinMaxGrad
 * (broadcasting, through the iterator of broadcast.h), ClipGrad and
 * DropoutGrad (flat).  float32 and float64 have typed loops; float16 and
 * bfloat16 (and Pow's mixed base/exponent dtypes) go through float64 loads. */
#include <string.h>
#include <tgmath.h>

#include "elementwise_grad.h"
#include "elementwise_util.h"

#define LD(dt, p) ot_load_f64((dt), (p), 0)
#define ST(dt, p, v) ot_store_f64((dt), (p), 0, (v))

/* ---- Pow ------------------------------------------------------------------ */
typedef struct pow_grad_ctx {
    int wrt;
    bool has_z;
    ot_dtype tdy, tx, te, tout;
} pow_grad_ctx;

/* Operands: out, dy, x, e[, z].  wrt 0: dy * e * x^(e-1), 0 where e == 0;
   wrt 1: dy * z * log(x) where x > 0, else 0. */
#define POW_GRAD_FN(NAME, T)                                                                              \
    static void NAME(char *const *p, const int64_t *s, int64_t n, const void *vctx) {                     \
        const pow_grad_ctx *c = vctx;                                                                     \
        if (c->wrt == 0 && s[0] == (int64_t)sizeof(T) && s[1] == s[0] && s[2] == s[0] && s[3] == 0) {     \
            /* scalar exponent: x^2 (the common case) and x^1 need no libm */                             \
            T *o = (T *)p[0];                                                                             \
            const T *dy = (const T *)p[1], *x = (const T *)p[2], e = *(const T *)p[3];                    \
            if (e == 2) {                                                                                 \
                _Pragma("omp simd") for (int64_t i = 0; i < n; i++) o[i] = dy[i] * ((T)2 * x[i]);         \
            } else if (e == 1) {                                                                          \
                for (int64_t i = 0; i < n; i++) o[i] = dy[i];                                             \
            } else if (e == 0) {                                                                          \
                for (int64_t i = 0; i < n; i++) o[i] = 0;                                                 \
            } else {                                                                                      \
                const T em1 = e - (T)1;                                                                   \
                for (int64_t i = 0; i < n; i++) o[i] = dy[i] * (e * pow(x[i], em1));                      \
            }                                                                                             \
            return;                                                                                       \
        }                                                                                                 \
        for (int64_t i = 0; i < n; i++) {                                                                 \
            const T d = *(const T *)(p[1] + i * s[1]), x = *(const T *)(p[2] + i * s[2]);                 \
            const T e = *(const T *)(p[3] + i * s[3]);                                                    \
            T r;                                                                                          \
            if (c->wrt == 0) {                                                                            \
                r = e == 0 ? (T)0 : d * (e * pow(x, e - (T)1));                                           \
            } else {                                                                                      \
                const T z = c->has_z ? *(const T *)(p[4] + i * s[4]) : pow(x, e);                         \
                r = x > 0 ? d * (z * log(x)) : (T)0;                                                      \
            }                                                                                             \
            *(T *)(p[0] + i * s[0]) = r;                                                                  \
        }                                                                                                 \
    }
POW_GRAD_FN(pow_grad_f32, float)
POW_GRAD_FN(pow_grad_f64, double)

static void pow_grad_generic(char *const *p, const int64_t *s, int64_t n, const void *vctx) {
    const pow_grad_ctx *c = vctx;
    for (int64_t i = 0; i < n; i++) {
        const double d = LD(c->tdy, p[1] + i * s[1]), x = LD(c->tx, p[2] + i * s[2]);
        const double e = LD(c->te, p[3] + i * s[3]);
        double r;
        if (c->wrt == 0) {
            r = e == 0 ? 0.0 : d * (e * pow(x, e - 1.0));
        } else {
            const double z = c->has_z ? LD(c->tx, p[4] + i * s[4]) : pow(x, e);
            r = x > 0 ? d * (z * log(x)) : 0.0;
        }
        ST(c->tout, p[0] + i * s[0], r);
    }
}

ot_status ot_cpu_pow_grad(int wrt, const ot_tensor *dy, const ot_tensor *x, const ot_tensor *e, const ot_tensor *z,
                          ot_tensor *out) {
    if (!ot_dtype_is_float(x->dtype) || (wrt && !ot_dtype_is_float(e->dtype)) || !ot_dtype_is_float(dy->dtype))
        return ot_error(OT_ERR_UNSUPPORTED, "PowGrad: no kernel for %s ^ %s", ot_dtype_name(x->dtype),
                        ot_dtype_name(e->dtype));
    pow_grad_ctx c = {wrt, wrt && z, dy->dtype, x->dtype, e->dtype, out->dtype};
    const ot_tensor *in[4] = {dy, x, e, z};
    ot_bcast_fn fn = pow_grad_generic;
    const bool same = dy->dtype == x->dtype && e->dtype == x->dtype && out->dtype == x->dtype;
    if (same && x->dtype == OT_FLOAT) fn = pow_grad_f32;
    else if (same && x->dtype == OT_DOUBLE) fn = pow_grad_f64;
    return ot_bcast_tensors(out, c.has_z ? 4 : 3, in, fn, &c, OT_GRAIN_COSTLY);
}

/* ---- PRelu --------------------------------------------------------------- */
typedef struct prelu_grad_ctx {
    int wrt;
    ot_dtype t;
} prelu_grad_ctx;

/* Operands: out, dy, x, slope. */
#define PRELU_GRAD_FN(NAME, T)                                                                      \
    static void NAME(char *const *p, const int64_t *s, int64_t n, const void *ctx) {                \
        const int wrt = ((const prelu_grad_ctx *)ctx)->wrt;                                         \
        const int64_t ez = (int64_t)sizeof(T);                                                      \
        if (s[0] == ez && s[1] == ez && s[2] == ez && (s[3] == ez || s[3] == 0)) {                  \
            T *o = (T *)p[0];                                                                       \
            const T *dy = (const T *)p[1], *x = (const T *)p[2], *sl = (const T *)p[3];             \
            const int64_t ks = s[3] ? 1 : 0;                                                        \
            if (wrt == 0) {                                                                         \
                _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                               \
                    const T m = x[i] > 0 ? (T)1 : sl[i * ks];                                       \
                    o[i] = dy[i] * m;                                                               \
                }                                                                                   \
            } else {                                                                                \
                _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                               \
                    const T m = x[i] > 0 ? (T)0 : x[i];                                             \
                    o[i] = dy[i] * m;                                                               \
                }                                                                                   \
            }                                                                                       \
            return;                                                                                 \
        }                                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                           \
            const T d = *(const T *)(p[1] + i * s[1]), x = *(const T *)(p[2] + i * s[2]);           \
            const T sl = *(const T *)(p[3] + i * s[3]);                                             \
            *(T *)(p[0] + i * s[0]) = wrt == 0 ? d * (x > 0 ? (T)1 : sl) : d * (x > 0 ? (T)0 : x);  \
        }                                                                                           \
    }
PRELU_GRAD_FN(prelu_grad_f32, float)
PRELU_GRAD_FN(prelu_grad_f64, double)

static void prelu_grad_generic(char *const *p, const int64_t *s, int64_t n, const void *vctx) {
    const prelu_grad_ctx *c = vctx;
    for (int64_t i = 0; i < n; i++) {
        const double d = LD(c->t, p[1] + i * s[1]), x = LD(c->t, p[2] + i * s[2]), sl = LD(c->t, p[3] + i * s[3]);
        ST(c->t, p[0] + i * s[0], c->wrt == 0 ? d * (x > 0 ? 1.0 : sl) : d * (x > 0 ? 0.0 : x));
    }
}

ot_status ot_cpu_prelu_grad(int wrt, const ot_tensor *dy, const ot_tensor *x, const ot_tensor *slope,
                            ot_tensor *out) {
    if (!ot_dtype_is_float(x->dtype) || dy->dtype != x->dtype || slope->dtype != x->dtype)
        return ot_error(OT_ERR_UNSUPPORTED, "PReluGrad: no kernel for %s", ot_dtype_name(x->dtype));
    prelu_grad_ctx c = {wrt, x->dtype};
    const ot_tensor *in[3] = {dy, x, slope};
    ot_bcast_fn fn = x->dtype == OT_FLOAT ? prelu_grad_f32 : x->dtype == OT_DOUBLE ? prelu_grad_f64 : prelu_grad_generic;
    return ot_bcast_tensors(out, 3, in, fn, &c, OT_GRAIN_CHEAP);
}

/* ---- Min / Max ------------------------------------------------------------ */
typedef struct minmax_grad_ctx {
    int k, n; /* which input's gradient, of how many (operands 3..3+n-1) */
    ot_dtype t;
} minmax_grad_ctx;

/* Operands: out, dy, y, x0..x(n-1): out = x_k == y ? dy / #{j: x_j == y} : 0. */
#define MINMAX_GRAD_FN(NAME, T)                                                                  \
    static void NAME(char *const *p, const int64_t *s, int64_t n, const void *vctx) {            \
        const minmax_grad_ctx *c = vctx;                                                         \
        for (int64_t i = 0; i < n; i++) {                                                        \
            const T y = *(const T *)(p[2] + i * s[2]);                                           \
            int ties = 0;                                                                        \
            for (int j = 0; j < c->n; j++) ties += *(const T *)(p[3 + j] + i * s[3 + j]) == y;   \
            const bool hit = *(const T *)(p[3 + c->k] + i * s[3 + c->k]) == y;                   \
            const T d = *(const T *)(p[1] + i * s[1]);                                           \
            *(T *)(p[0] + i * s[0]) = hit ? (ties == 1 ? d : d / (T)ties) : (T)0;                \
        }                                                                                        \
    }
MINMAX_GRAD_FN(minmax_grad_f32, float)
MINMAX_GRAD_FN(minmax_grad_f64, double)

static void minmax_grad_generic(char *const *p, const int64_t *s, int64_t n, const void *vctx) {
    const minmax_grad_ctx *c = vctx;
    for (int64_t i = 0; i < n; i++) {
        const double y = LD(c->t, p[2] + i * s[2]);
        int ties = 0;
        for (int j = 0; j < c->n; j++) ties += LD(c->t, p[3 + j] + i * s[3 + j]) == y;
        const bool hit = LD(c->t, p[3 + c->k] + i * s[3 + c->k]) == y;
        ST(c->t, p[0] + i * s[0], hit ? LD(c->t, p[1] + i * s[1]) / ties : 0.0);
    }
}

/* More inputs than the iterator has operands: count the ties into out
   first (operands out, out, y, x_j), then divide (out, out, dy, y, x_k). */
static void minmax_count(char *const *p, const int64_t *s, int64_t n, const void *vctx) {
    const minmax_grad_ctx *c = vctx;
    for (int64_t i = 0; i < n; i++) {
        const double cnt = LD(c->t, p[1] + i * s[1]);
        const double eq = LD(c->t, p[3] + i * s[3]) == LD(c->t, p[2] + i * s[2]) ? 1.0 : 0.0;
        ST(c->t, p[0] + i * s[0], cnt + eq);
    }
}

static void minmax_divide(char *const *p, const int64_t *s, int64_t n, const void *vctx) {
    const minmax_grad_ctx *c = vctx;
    for (int64_t i = 0; i < n; i++) {
        const double cnt = LD(c->t, p[1] + i * s[1]);
        const bool hit = LD(c->t, p[4] + i * s[4]) == LD(c->t, p[3] + i * s[3]);
        ST(c->t, p[0] + i * s[0], hit ? LD(c->t, p[2] + i * s[2]) / cnt : 0.0);
    }
}

ot_status ot_cpu_minmax_grad(int k, int n, const ot_tensor *const *xs, const ot_tensor *dy, const ot_tensor *y,
                             ot_tensor *out) {
    if (!ot_dtype_is_float(dy->dtype) || k < 0 || k >= n)
        return ot_error(OT_ERR_UNSUPPORTED, "MinMaxGrad: no kernel for %s", ot_dtype_name(dy->dtype));
    minmax_grad_ctx c = {k, n, dy->dtype};
    if (n + 3 <= OT_BCAST_MAX_OPERANDS) {
        const ot_tensor *in[OT_BCAST_MAX_OPERANDS] = {dy, y};
        for (int j = 0; j < n; j++) in[2 + j] = xs[j];
        ot_bcast_fn fn = dy->dtype == OT_FLOAT ? minmax_grad_f32 : dy->dtype == OT_DOUBLE ? minmax_grad_f64
                                                                                           : minmax_grad_generic;
        return ot_bcast_tensors(out, n + 2, in, fn, &c, OT_GRAIN_COSTLY);
    }
    memset(out->data, 0, ot_tensor_nbytes(out)); /* zero bits are 0.0 in every float type */
    for (int j = 0; j < n; j++) {
        const ot_tensor *in[3] = {out, y, xs[j]};
        OT_TRY(ot_bcast_tensors(out, 3, in, minmax_count, &c, OT_GRAIN_CHEAP));
    }
    const ot_tensor *in[4] = {out, dy, y, xs[k]};
    return ot_bcast_tensors(out, 4, in, minmax_divide, &c, OT_GRAIN_CHEAP);
}

/* ---- Clip ------------------------------------------------------------------ */
typedef struct clip_grad_job {
    const ot_tensor *dy, *x;
    ot_tensor *dx;
    double lo, hi;
} clip_grad_job;

static void clip_grad_range(int64_t b, int64_t e, const void *ctx) {
    const clip_grad_job *j = ctx;
    switch (j->x->dtype) {
    case OT_FLOAT: {
        const float *dy = j->dy->data, *x = j->x->data;
        float *dx = j->dx->data;
        const float lo = (float)j->lo, hi = (float)j->hi;
#pragma omp simd
        for (int64_t i = b; i < e; i++) dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0.0f;
        return;
    }
    case OT_DOUBLE: {
        const double *dy = j->dy->data, *x = j->x->data;
        double *dx = j->dx->data;
#pragma omp simd
        for (int64_t i = b; i < e; i++) dx[i] = (x[i] >= j->lo && x[i] <= j->hi) ? dy[i] : 0.0;
        return;
    }
    default: {
        const ot_dtype t = j->x->dtype;
        for (int64_t i = b; i < e; i++) {
            const double x = ot_load_f64(t, j->x->data, i);
            ot_store_f64(t, j->dx->data, i, (x >= j->lo && x <= j->hi) ? ot_load_f64(t, j->dy->data, i) : 0.0);
        }
        return;
    }
    }
}

ot_status ot_cpu_clip_grad(const ot_tensor *dy, const ot_tensor *x, const ot_tensor *lo, const ot_tensor *hi,
                           double lo_attr, double hi_attr, ot_tensor *dx) {
    if (!ot_dtype_is_float(x->dtype) || dy->dtype != x->dtype || dx->dtype != x->dtype)
        return ot_error(OT_ERR_UNSUPPORTED, "ClipGrad: no kernel for %s", ot_dtype_name(x->dtype));
    /* The bounds as the forward sees them: stored in x's dtype. */
    clip_grad_job j = {dy, x, dx, lo ? ot_load_f64(lo->dtype, lo->data, 0) : lo_attr,
                       hi ? ot_load_f64(hi->dtype, hi->data, 0) : hi_attr};
    ot_parallel_range(ot_tensor_numel(x), OT_GRAIN_CHEAP, clip_grad_range, &j);
    return OT_OK;
}

/* ---- Dropout ------------------------------------------------------------------ */
typedef struct drop_grad_job {
    const ot_tensor *dy, *mask;
    ot_tensor *dx;
    double ratio, scale;
    const ot_rng *rng;
} drop_grad_job;

enum { DROP_GRAD_BUF = 256 };

/* The keep decisions of elements [s, s + m) into keep[]: from the mask, or
   drawn as ot_cpu_dropout draws them (u >= (float)ratio). */
static void drop_grad_keep(const drop_grad_job *j, int64_t s, int64_t m, uint8_t *keep) {
    if (j->mask) {
        if (j->mask->dtype == OT_BOOL) {
            const uint8_t *mk = (const uint8_t *)j->mask->data + s;
            for (int64_t k = 0; k < m; k++) keep[k] = mk[k] != 0;
        } else {
            for (int64_t k = 0; k < m; k++) keep[k] = ot_load_f64(j->mask->dtype, j->mask->data, s + k) != 0.0;
        }
        return;
    }
    float u[DROP_GRAD_BUF];
    const float ratio = (float)j->ratio;
    ot_rng_fill_uniform(j->rng, (uint64_t)s, m, u);
    for (int64_t k = 0; k < m; k++) keep[k] = u[k] >= ratio;
}

static void drop_grad_range(int64_t b, int64_t e, const void *ctx) {
    const drop_grad_job *j = ctx;
    uint8_t keep[DROP_GRAD_BUF];
    const float scale32 = (float)j->scale;
    const ot_dtype t = j->dy->dtype;
    for (int64_t s = b; s < e; s += DROP_GRAD_BUF) {
        const int64_t m = e - s < DROP_GRAD_BUF ? e - s : DROP_GRAD_BUF;
        drop_grad_keep(j, s, m, keep);
        if (t == OT_FLOAT) {
            const float *dy = (const float *)j->dy->data + s;
            float *dx = (float *)j->dx->data + s;
            for (int64_t k = 0; k < m; k++) dx[k] = keep[k] ? dy[k] * scale32 : 0.0f;
        } else if (t == OT_DOUBLE) {
            const double *dy = (const double *)j->dy->data + s;
            double *dx = (double *)j->dx->data + s;
            for (int64_t k = 0; k < m; k++) dx[k] = keep[k] ? dy[k] * j->scale : 0.0;
        } else { /* as the forward: the float32 scale, through float64 */
            for (int64_t k = 0; k < m; k++)
                ot_store_f64(t, j->dx->data, s + k, keep[k] ? ot_load_f64(t, j->dy->data, s + k) * scale32 : 0.0);
        }
    }
}

ot_status ot_cpu_dropout_grad(const ot_tensor *dy, double ratio, bool train, const ot_rng *rng, const ot_tensor *mask,
                              ot_tensor *dx) {
    if (!ot_dtype_is_float(dy->dtype) || dx->dtype != dy->dtype)
        return ot_error(OT_ERR_UNSUPPORTED, "DropoutGrad: no kernel for %s", ot_dtype_name(dy->dtype));
    if (!train || ratio == 0.0) {
        ot_cpu_copy(dy, dx);
        return OT_OK;
    }
    drop_grad_job j = {dy, mask, dx, ratio, ratio < 1.0 ? 1.0 / (1.0 - ratio) : 0.0, rng};
    ot_parallel_range(ot_tensor_numel(dy), OT_GRAIN_COSTLY, drop_grad_range, &j);
    return OT_OK;
}
