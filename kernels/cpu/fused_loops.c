/* The float32 loops of the fused kernels, compiled for AVX2 and the
 * baseline ISA (OT_SIMD_CLONES).  A fused kernel's operands are tiles in L1,
 * where the loops are bound by instruction throughput, so the wide copies
 * pay.  Except for Erf and exact Gelu (own vectorised forms, a few ulp from
 * libm's), every loop computes the same expression as the unfused kernel
 * (kernels/cpu/elementwise_binary.c, elementwise_unary.c,
 * elementwise_grad.c) with the same inline functions and no FMA, so fused
 * and unfused results are the same bits. */
#include <math.h>

#include "elementwise_fastmath.h"
#include "fused.h"

/* erf(x), branch-free and without exp or division: x P(x^2) below |x| = 1
   (Cephes erff's minimax polynomial, 1.9e-7 relative); above, a degree-12
   Chebyshev fit of erf on [1, 3.92] in u = (|x| - 2.46) / 1.46 (|x| clamped
   there: erf rounds to 1 beyond), 9.2e-8 absolute in float32 arithmetic;
   x's sign is put back. */
static inline float fx_erff(float x) {
    const float z = x * x;
    float p = 7.853861353153693e-5f;
    p = p * z - 8.010193625184903e-4f;
    p = p * z + 5.188327685732524e-3f;
    p = p * z - 2.685381193529856e-2f;
    p = p * z + 1.128358514861418e-1f;
    p = p * z - 3.761262582423300e-1f;
    p = p * z + 1.128379165726710e+0f;
    const float small = x * p;
    const uint32_t xb = ot_fm_f2bits(x), ab = xb & 0x7fffffffu, sign = xb & 0x80000000u;
    /* min(|x|, 3.92) on the bits: float compares in a loop stop GCC from
       vectorising it (see elementwise_fastmath.h) */
    const uint32_t lim = 0x407ae148u, over = 0u - (uint32_t)(ab > lim); /* 3.92f */
    const float u = (ot_fm_bits2f((ab & ~over) | (lim & over)) - 2.46f) * (1.0f / 1.46f);
    float q = -8.599194116e-04f;
    q = q * u + 1.629612991e-03f;
    q = q * u + 2.283840673e-03f;
    q = q * u - 9.083879180e-03f;
    q = q * u + 8.065709844e-03f;
    q = q * u + 6.526904646e-03f;
    q = q * u - 2.869897336e-02f;
    q = q * u + 4.509779066e-02f;
    q = q * u - 4.500537366e-02f;
    q = q * u + 3.060109727e-02f;
    q = q * u - 1.393160224e-02f;
    q = q * u + 3.878064919e-03f;
    q = q * u + 9.994966984e-01f;
    const uint32_t qb = ot_fm_f2bits(q), q_over = 0u - (uint32_t)(qb > 0x3f800000u); /* q > 1 (q > 0 here) */
    const float big = ot_fm_bits2f(((qb & ~q_over) | (0x3f800000u & q_over)) | sign);
    /* 1 <= |x| <= inf as one unsigned compare; below 1 and NaN (which the
       polynomial propagates) take x P(x^2). */
    const uint32_t use_big = 0u - (uint32_t)(ab - 0x3f800000u <= 0x40000000u);
    return ot_fm_bits2f((ot_fm_f2bits(big) & use_big) | (ot_fm_f2bits(small) & ~use_big));
}

/* Exact Gelu: x Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2 where that
   is accurate, and erfc(-x / sqrt 2) / 2 in the lower tail (x < -2), where
   1 + erf cancels. */
static inline float fx_geluf(float x) {
    const float e = 0.5f + 0.5f * fx_erff(0.70710678118654752440f * x);
    const float tail = 0.5f * ot_fast_erfcf(-0.70710678118654752440f * x);
    const uint32_t xb = ot_fm_f2bits(x), use_tail = 0u - (uint32_t)(xb > 0xc0000000u && xb <= 0xff800000u); /* x < -2 */
    return x * ot_fm_bits2f((ot_fm_f2bits(tail) & use_tail) | (ot_fm_f2bits(e) & ~use_tail));
}

OT_SIMD_CLONES void ot_fused_unary_f32(ot_unary_op op, const ot_unary_params *p, const float *x, float *y, int64_t n) {
    switch (op) {
    case OT_UN_ERF:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = fx_erff(x[i]);
        return;
    case OT_UN_GELU:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = fx_geluf(x[i]);
        return;
    case OT_UN_NEG:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = -x[i];
        return;
    case OT_UN_RELU: /* x < 0 ? 0 : x, on the bits (keeps NaN and -0 as the unfused loop) */
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            const uint32_t b = ot_fm_f2bits(x[i]), neg = 0u - (uint32_t)(b > 0x80000000u && b <= 0xff800000u);
            y[i] = ot_fm_bits2f(b & ~neg);
        }
        return;
    default: ot_unary_f32(op, p, x, y, n); return; /* the shared loops (exp, sigmoid, tanh, ...) */
    }
}

/* o = a op b; a_step / b_step 1 for a run, 0 for one value. */
#define FX_BIN(EXPR)                                                                   \
    if (a_step && b_step) {                                                            \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                          \
            const float x = a[i], y = b[i];                                            \
            o[i] = EXPR;                                                               \
        }                                                                              \
    } else if (a_step) {                                                               \
        const float y = b[0];                                                          \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                          \
            const float x = a[i];                                                      \
            o[i] = EXPR;                                                               \
        }                                                                              \
    } else {                                                                           \
        const float x = a[0];                                                          \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                          \
            const float y = b[i];                                                      \
            o[i] = EXPR;                                                               \
        }                                                                              \
    }                                                                                  \
    return true;

OT_SIMD_CLONES bool ot_fused_binary_f32(ot_binary_op op, float *o, const float *a, int a_step, const float *b, int b_step,
                                      int64_t n) {
    if (!a_step && !b_step) n = 1;
    switch (op) {
    case OT_BIN_ADD: FX_BIN(x + y)
    case OT_BIN_SUB: FX_BIN(x - y)
    case OT_BIN_MUL: FX_BIN(x * y)
    case OT_BIN_DIV: FX_BIN(x / y)
    default: return false;
    }
}

/* Selects on the bits, as elementwise_grad.c's ug_sel_f32. */
static inline float fx_sel(int c, float a, float b) {
    const uint32_t m = 0u - (uint32_t)c;
    return ot_fm_bits2f((ot_fm_f2bits(a) & m) | (ot_fm_f2bits(b) & ~m));
}

#define FX_UG(BODY)                                                                    \
    _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                              \
        const float d = dy[i], v = vs[i];                                              \
        float r;                                                                       \
        BODY;                                                                          \
        dx[i] = r;                                                                     \
    }                                                                                  \
    return true;

OT_SIMD_CLONES bool ot_fused_ugrad_f32(ot_unary_grad_op op, const ot_unary_params *p, const float *dy, const float *vs,
                                     float *dx, int64_t n) {
    const float A = p ? p->alpha : 0.0f;
    switch (op) {
    case OT_UG_RELU: FX_UG(r = fx_sel(v > 0, d, 0.0f))
    case OT_UG_LEAKY_RELU: FX_UG(r = fx_sel(v > 0, d, A * d))
    case OT_UG_SIGMOID: FX_UG(r = d * (v * (1.0f - v)))
    case OT_UG_TANH: FX_UG(r = d * (1.0f - v * v))
    case OT_UG_ERF: FX_UG(r = d * (1.12837916709551257390f * ot_fast_expf(-(v * v))))
    case OT_UG_GELU:
        FX_UG(r = d * (0.5f * ot_fast_erfcf(-0.70710678118654752440f * v) +
                       v * 0.39894228040143267794f * ot_fast_expf(-0.5f * v * v)))
    default: return false;
    }
}
