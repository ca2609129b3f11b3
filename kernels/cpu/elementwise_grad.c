/* Unary gradient maps dx = dy * f'(v), v the forward input x or output y
 * (see elementwise_grad.h for which).  One statement list per op,
 * instantiated for float32 (exp/tanh/sigmoid/erfc from the vectorisable
 * elementwise_fastmath.h) and float64 (libm, exact); float16/bfloat16 run
 * the float32 loop on stack buffers.  Each body first computes every
 * candidate value and only then selects between them, so the selects are
 * between ready values and GCC if-converts and vectorises the float32 loops
 * (see elementwise_fastmath.h on why arithmetic inside branches does not). */
#include <tgmath.h>

#include "elementwise_fastmath.h"
#include "elementwise_grad.h"
#include "elementwise_util.h"

#define K(c) ((T)(c))

/* Stable logistic, tanh(softplus(x)) and softplus in float64. */
static inline double ug_sigmoid_f64(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }
static inline double ug_softplus_f64(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static inline double ug_tanh_softplus_f64(double x) { return tanh(ug_softplus_f64(x)); }

/* tanh(softplus(x)) = n / (n + 2) with n = e^x (e^x + 2): one exp and no
   log.  Above x = 20 the result is 1 in float32, so x is clamped there to
   keep n finite. */
static inline float ug_tanh_softplus_f32(float x) {
    const uint32_t big = 0u - (uint32_t)(x > 20.0f); /* a mask, not ?: (see ug_sel_f32) */
    const float c = ot_fm_bits2f((ot_fm_f2bits(x) & ~big) | (ot_fm_f2bits(20.0f) & big));
    const float e = ot_fast_expf(c);
    const float n = e * (e + 2.0f);
    return n / (n + 2.0f);
}

/* Selects on the bits: GCC sinks arithmetic used by one arm of ?: into a
   branch and then will not if-convert it (it may trap under the default
   -ftrapping-math), which stops vectorisation.  Both arms are computed
   first and the mask picks one (the conditions use & and |, not && and ||,
   for the same reason). */
static inline float ug_sel_f32(int c, float a, float b) {
    const uint32_t m = 0u - (uint32_t)c;
    return ot_fm_bits2f((ot_fm_f2bits(a) & m) | (ot_fm_f2bits(b) & ~m));
}
static inline double ug_sel_f64(int c, double a, double b) { return c ? a : b; }

/* The normal CDF: 0.5 (1 + erf(x / sqrt 2)) = 0.5 erfc(-x / sqrt 2). */
static inline float ug_phi_f32(float x) { return 0.5f * ot_fast_erfcf(-0.70710678118654752440f * x); }
static inline double ug_phi_f64(double x) { return 0.5 * erfc(-0.70710678118654752440 * x); }

/* d: dy, v: x or y, r: the result; A, B, G: the op's parameters.  UG_SEL,
   UG_EXP, UG_TANH, UG_SIGMOID, UG_TSP (tanh of softplus) and UG_PHI (the
   normal CDF) are set per type. */
#define UG_OPS(X)                                                                                       \
    X(RELU, r = UG_SEL(v > 0, d, K(0));)                                                                \
    X(SIGMOID, r = d * (v * (K(1) - v));)                                                               \
    X(TANH, r = d * (K(1) - v * v);)                                                                    \
    X(SQRT, r = K(0.5) * d / v;)                                                                        \
    X(RECIPROCAL, r = -(d * (v * v));)                                                                  \
    X(TAN, r = d * (K(1) + v * v);)                                                                     \
    X(ABS, r = UG_SEL(v > 0, d, UG_SEL(v < 0, -d, K(0)));)                                              \
    X(SIN, r = d * cos(v);)                                                                             \
    X(COS, r = -(d * sin(v));)                                                                          \
    X(LEAKY_RELU, r = UG_SEL(v > 0, d, A * d);)                                                         \
    X(ELU, r = UG_SEL(v > 0, d, d * (A * UG_EXP(v)));)                                                  \
    X(SELU, r = UG_SEL(v > 0, G * d, d * ((G * A) * UG_EXP(v)));)                                       \
    X(CELU, r = UG_SEL(v > 0, d, d * UG_EXP(v / A));)                                                   \
    X(GELU, r = d * (UG_PHI(v) + v * K(0.39894228040143267794) * UG_EXP(K(-0.5) * v * v));)              \
    X(GELU_TANH, const T c = K(0.79788456080286535588); const T v2 = v * v;                             \
      const T t = UG_TANH(c * (v + K(0.044715) * v2 * v));                                              \
      r = d * (K(0.5) * (K(1) + t) + K(0.5) * v * (K(1) - t * t) * c * (K(1) + K(0.134145) * v2));)     \
    X(ERF, r = d * (K(1.12837916709551257390) * UG_EXP(-(v * v)));)                                    \
    X(SOFTPLUS, r = d * UG_SIGMOID(v);)                                                                 \
    X(SOFTSIGN, const T a = K(1) + fabs(v); r = d / (a * a);)                                           \
    X(HARD_SIGMOID, const T w = A * v + B; r = UG_SEL((w > 0) & (w < 1), A * d, K(0));)                 \
    X(HARD_SWISH, const T m = d * (v * K(1.0 / 3.0) + K(0.5)); r = UG_SEL(v < -3, K(0), UG_SEL(v <= 3, m, d));) \
    X(MISH, const T t = UG_TSP(v); r = d * (t + v * UG_SIGMOID(v) * (K(1) - t * t));)                  \
    X(ACOS, r = -d / sqrt(K(1) - v * v);)                                                               \
    X(ASIN, r = d / sqrt(K(1) - v * v);)                                                                \
    X(ATAN, r = d / (K(1) + v * v);)                                                                    \
    X(SINH, r = d * cosh(v);)                                                                           \
    X(COSH, r = d * sinh(v);)                                                                           \
    X(ASINH, r = d / sqrt(v * v + K(1));)                                                               \
    X(ACOSH, r = d / sqrt(v * v - K(1));)                                                               \
    X(ATANH, r = d / (K(1) - v * v);)                                                                   \
    X(THRESHOLDED_RELU, r = UG_SEL(v > A, d, K(0));)                                                    \
    X(SHRINK, r = UG_SEL((v < -A) | (v > A), d, K(0));)

/* One small function per (op, type): in one big switch GCC stops inlining
   the fast exp/tanh and the loops fall back to calls. */
#define UG_FN(name, body)                                                                               \
    static void UG_NAME(name)(const ot_unary_params *p, const T *dys, const T *vs, T *dxs, int64_t n) {  \
        const T A = (T)p->alpha, B = (T)p->beta, G = (T)p->gamma;                                       \
        (void)A, (void)B, (void)G;                                                                      \
        _Pragma("omp simd")                                                                             \
        for (int64_t i = 0; i < n; i++) {                                                               \
            const T d = dys[i], v = vs[i];                                                              \
            T r;                                                                                        \
            body                                                                                        \
            dxs[i] = r;                                                                                 \
        }                                                                                               \
    }
#define UG_DISPATCH(name, body) \
    case OT_UG_##name: UG_NAME(name)(p, dys, vs, dxs, n); return;

static const ot_unary_params ug_no_params = {0.0f, 0.0f, 0.0f};

#define T float
#define UG_NAME(name) ug_f32_##name
#define UG_SEL ug_sel_f32
#define UG_EXP ot_fast_expf
#define UG_TANH ot_fast_tanhf
#define UG_SIGMOID ot_fast_sigmoidf
#define UG_TSP ug_tanh_softplus_f32
#define UG_PHI ug_phi_f32
UG_OPS(UG_FN)
void ot_unary_grad_f32(ot_unary_grad_op op, const ot_unary_params *p, const float *dys, const float *vs, float *dxs,
                       int64_t n) {
    if (!p) p = &ug_no_params;
    switch (op) {
        UG_OPS(UG_DISPATCH)
    default: return;
    }
}
#undef T
#undef UG_NAME
#undef UG_SEL
#undef UG_EXP
#undef UG_TANH
#undef UG_SIGMOID
#undef UG_TSP
#undef UG_PHI

#define T double
#define UG_NAME(name) ug_f64_##name
#define UG_SEL ug_sel_f64
#define UG_EXP exp
#define UG_TANH tanh
#define UG_SIGMOID ug_sigmoid_f64
#define UG_TSP ug_tanh_softplus_f64
#define UG_PHI ug_phi_f64
UG_OPS(UG_FN)
void ot_unary_grad_f64(ot_unary_grad_op op, const ot_unary_params *p, const double *dys, const double *vs,
                       double *dxs, int64_t n) {
    if (!p) p = &ug_no_params;
    switch (op) {
        UG_OPS(UG_DISPATCH)
    default: return;
    }
}
#undef T
#undef UG_NAME
#undef UG_SEL
#undef UG_EXP
#undef UG_TANH
#undef UG_SIGMOID
#undef UG_TSP
#undef UG_PHI

typedef struct ug_job {
    ot_unary_grad_op op;
    const ot_unary_params *p;
    ot_dtype dt;
    const void *dy, *v;
    void *dx;
} ug_job;

enum { UG_BUF = 256 };

static void ug_range(int64_t b, int64_t e, const void *ctx) {
    const ug_job *j = ctx;
    const int64_t n = e - b;
    switch (j->dt) {
    case OT_FLOAT:
        ot_unary_grad_f32(j->op, j->p, (const float *)j->dy + b, (const float *)j->v + b, (float *)j->dx + b, n);
        return;
    case OT_DOUBLE:
        ot_unary_grad_f64(j->op, j->p, (const double *)j->dy + b, (const double *)j->v + b, (double *)j->dx + b, n);
        return;
    case OT_FLOAT16:
    case OT_BFLOAT16: {
        const uint16_t *dy = (const uint16_t *)j->dy + b, *v = (const uint16_t *)j->v + b;
        uint16_t *dx = (uint16_t *)j->dx + b;
        const bool h = j->dt == OT_FLOAT16;
        float bd[UG_BUF], bv[UG_BUF];
        for (int64_t s = 0; s < n; s += UG_BUF) {
            const int64_t m = n - s < UG_BUF ? n - s : UG_BUF;
            for (int64_t i = 0; i < m; i++) {
                bd[i] = h ? ot_f16_to_f32(dy[s + i]) : ot_bf16_to_f32(dy[s + i]);
                bv[i] = h ? ot_f16_to_f32(v[s + i]) : ot_bf16_to_f32(v[s + i]);
            }
            ot_unary_grad_f32(j->op, j->p, bd, bv, bd, m);
            for (int64_t i = 0; i < m; i++) dx[s + i] = h ? ot_f32_to_f16(bd[i]) : ot_f32_to_bf16(bd[i]);
        }
        return;
    }
    default: return;
    }
}

/* Selects and polynomials run at memory speed; libm calls are worth threads
   much earlier. */
static int64_t ug_grain(ot_unary_grad_op op) {
    switch (op) {
    case OT_UG_RELU: case OT_UG_SIGMOID: case OT_UG_TANH: case OT_UG_SQRT: case OT_UG_RECIPROCAL: case OT_UG_TAN:
    case OT_UG_ABS: case OT_UG_LEAKY_RELU: case OT_UG_SOFTSIGN: case OT_UG_HARD_SIGMOID: case OT_UG_HARD_SWISH:
    case OT_UG_ATAN: case OT_UG_ATANH: case OT_UG_THRESHOLDED_RELU: case OT_UG_SHRINK:
        return OT_GRAIN_CHEAP;
    default: return OT_GRAIN_COSTLY;
    }
}

ot_status ot_cpu_unary_grad(ot_unary_grad_op op, const ot_unary_params *p, const ot_tensor *dy, const ot_tensor *v,
                            ot_tensor *dx) {
    if ((int)op < 0 || op >= OT_UG_COUNT || !ot_dtype_is_float(dy->dtype) || v->dtype != dy->dtype ||
        dx->dtype != dy->dtype)
        return ot_error(OT_ERR_UNSUPPORTED, "no unary gradient kernel %d for %s", (int)op, ot_dtype_name(dy->dtype));
    ug_job j = {op, p ? p : &ug_no_params, dy->dtype, dy->data, v->data, dx->data};
    ot_parallel_range(ot_tensor_numel(dx), ug_grain(op), ug_range, &j);
    return OT_OK;
}
