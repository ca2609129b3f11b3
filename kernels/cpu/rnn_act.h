/* The recurrent layers' gate activations over a vector, with the clip on
 * their input, in float32 (the fast vectorised exp/tanh/sigmoid of
 * elementwise_fastmath.h) and float64 (libm).  Internal to kernels/cpu/rnn*.c.
 *
 *   ot_rnn_act_fwd_SUF:  y = f(clamp(x, -clip, clip))
 *   ot_rnn_act_grad_SUF: y as above, and d = f'(clamp(x)) where
 *                        -clip <= x <= clip, else 0 (the clamp's gradient;
 *                        PyTorch's clamp backward also passes at the bounds).
 * Derivatives at the kinks follow PyTorch: Relu and ThresholdedRelu take 0 at
 * the threshold, LeakyRelu and Elu the negative side's slope at 0,
 * HardSigmoid 0 where alpha * x + beta is exactly 0 or 1. */
#ifndef OT_KERNELS_CPU_RNN_ACT_H
#define OT_KERNELS_CPU_RNN_ACT_H

#include <math.h>
#include <stdint.h>

#include "elementwise_fastmath.h"
#include "rnn.h"
#include "simd_clones.h"

static inline float ot_rnn_sigmoidf(float x) { return ot_fast_sigmoidf(x); }
static inline double ot_rnn_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
/* log(1 + e^x) without overflow for large x. */
static inline float ot_rnn_softplusf(float x) { return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)); }
static inline double ot_rnn_softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

#define OT_RNN_CLAMP(v, c) ((v) < -(c) ? -(c) : (v) > (c) ? (c) : (v))
#define OT_RNN_HSIG(u) ((u) < 0 ? 0 : (u) > 1 ? 1 : (u))
#define OT_RNN_ABS(v) ((v) < 0 ? -(v) : (v))

/* Loop bodies: FY is f(v), FD is f'(v) (may use y = f(v)). */
#define OT_RNN_LOOP_FWD(RT, FY, FD)                       \
    _Pragma("omp simd") for (int64_t k = 0; k < n; k++) { \
        const RT v = OT_RNN_CLAMP(x[k], c);               \
        out[k] = (FY);                                    \
    }
#define OT_RNN_LOOP_GRAD(RT, FY, FD)                            \
    _Pragma("omp simd") for (int64_t k = 0; k < n; k++) {       \
        const RT v = OT_RNN_CLAMP(x[k], c);                     \
        const RT y = (FY);                                      \
        out[k] = y;                                             \
        d[k] = (x[k] >= -c && x[k] <= c) ? (RT)(FD) : (RT)0;    \
    }

/* One loop per activation, so that each vectorises. */
#define OT_RNN_ACT_SWITCH(RT, EXP, TANH, SIGM, SOFTPLUS, LOOP)                                  \
    switch (a->kind) {                                                                          \
    case OT_RNN_ACT_RELU: LOOP(RT, v > 0 ? v : (RT)0, v > 0 ? 1 : 0) break;                     \
    case OT_RNN_ACT_TANH: LOOP(RT, TANH(v), 1 - y * y) break;                                   \
    case OT_RNN_ACT_SIGMOID: LOOP(RT, SIGM(v), y * (1 - y)) break;                              \
    case OT_RNN_ACT_AFFINE: LOOP(RT, al * v + be, al) break;                                    \
    case OT_RNN_ACT_LEAKYRELU: LOOP(RT, v >= 0 ? v : al * v, v > 0 ? (RT)1 : al) break;         \
    case OT_RNN_ACT_THRESHOLDEDRELU: LOOP(RT, v > al ? v : (RT)0, v > al ? 1 : 0) break;        \
    case OT_RNN_ACT_SCALEDTANH:                                                                 \
        LOOP(RT, al * TANH(be * v), al * be * (1 - TANH(be * v) * TANH(be * v))) break;          \
    case OT_RNN_ACT_HARDSIGMOID:                                                                \
        LOOP(RT, OT_RNN_HSIG(al * v + be), (al * v + be > 0 && al * v + be < 1) ? al : (RT)0) break; \
    case OT_RNN_ACT_ELU: LOOP(RT, v >= 0 ? v : al * (EXP(v) - 1), v > 0 ? (RT)1 : al * EXP(v)) break; \
    case OT_RNN_ACT_SOFTSIGN:                                                                   \
        LOOP(RT, v / (1 + OT_RNN_ABS(v)), 1 / ((1 + OT_RNN_ABS(v)) * (1 + OT_RNN_ABS(v)))) break; \
    default: /* OT_RNN_ACT_SOFTPLUS */ LOOP(RT, SOFTPLUS(v), SIGM(v)) break;                     \
    }

#define OT_RNN_ACT_DEFINE(SUF, RT, EXP, TANH, SIGM, SOFTPLUS, ATTR)                                              \
    static ATTR void ot_rnn_act_fwd_##SUF(const ot_rnn_act *a, RT c, const RT *x, RT *out, int64_t n) {        \
        const RT al = (RT)a->alpha, be = (RT)a->beta;                                                           \
        OT_RNN_ACT_SWITCH(RT, EXP, TANH, SIGM, SOFTPLUS, OT_RNN_LOOP_FWD)                                       \
    }                                                                                                           \
    static ATTR void ot_rnn_act_grad_##SUF(const ot_rnn_act *a, RT c, const RT *x, RT *out, RT *d, int64_t n) {   \
        const RT al = (RT)a->alpha, be = (RT)a->beta;                                                           \
        OT_RNN_ACT_SWITCH(RT, EXP, TANH, SIGM, SOFTPLUS, OT_RNN_LOOP_GRAD)                                      \
    }

/* float32: compiled for AVX2 too (the activations took a fifth of an LSTM
   step with SSE2 only); unused: each of rnn.c / rnn_grad.c needs one of them. */
OT_RNN_ACT_DEFINE(f32, float, ot_fast_expf, ot_fast_tanhf, ot_rnn_sigmoidf, ot_rnn_softplusf, OT_SIMD_CLONES __attribute__((unused)))
OT_RNN_ACT_DEFINE(f64, double, exp, tanh, ot_rnn_sigmoid, ot_rnn_softplus, inline)

#endif
