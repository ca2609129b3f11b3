/* CPU kernels of the elementwise family: unary maps, broadcasting binary
 * ops, Pow, Where, Clip, Cast, Dropout.  Shapes and dtypes are validated by
 * the ops (ops/elementwise*.c); these functions trust them and only check
 * the (dtype, op) pair exists, returning OT_ERR_UNSUPPORTED otherwise.
 * Outputs may alias the first input when dtype and shape are the same. */
#ifndef OT_KERNELS_CPU_ELEMENTWISE_H
#define OT_KERNELS_CPU_ELEMENTWISE_H

#include <stdbool.h>
#include <stdint.h>

#include "../../src/core/dtype.h"
#include "../../src/core/rng.h"
#include "../../src/core/status.h"
#include "../../src/core/tensor.h"
#include "broadcast.h"

/* ---- unary maps: y = f(x), same dtype ---------------------------------- */
#define OT_UNARY_OPS(X)                                                       \
    X(NEG) X(ABS) X(SQRT) X(RECIPROCAL) X(EXP) X(LOG) X(SIN) X(COS) X(TAN)    \
    X(TANH) X(SIGMOID) X(RELU) X(LEAKY_RELU) X(ELU) X(SELU) X(CELU) X(GELU)   \
    X(GELU_TANH) X(ERF) X(SOFTPLUS) X(SOFTSIGN) X(HARD_SIGMOID) X(HARD_SWISH) \
    X(MISH) X(FLOOR) X(CEIL) X(ROUND) X(SIGN) X(ACOS) X(ASIN) X(ATAN) X(SINH) \
    X(COSH) X(ASINH) X(ACOSH) X(ATANH) X(THRESHOLDED_RELU) X(SHRINK)          \
    X(BITWISE_NOT) X(NOT)

typedef enum ot_unary_op {
#define OT_X(name) OT_UN_##name,
    OT_UNARY_OPS(OT_X)
#undef OT_X
        OT_UN_COUNT
} ot_unary_op;

/* The op's float attributes: LeakyRelu/Elu/Celu/ThresholdedRelu alpha;
   Selu alpha, gamma; HardSigmoid alpha, beta; Shrink lambd (alpha), bias (beta). */
typedef struct ot_unary_params {
    float alpha, beta, gamma;
} ot_unary_params;

/* Which dtypes a unary op has a kernel for (floats: all four float types;
   integers only where the op is defined on them). */
bool ot_cpu_unary_supports(ot_unary_op op, ot_dtype dt);
/* y = op(x); y has x's dtype and shape. */
ot_status ot_cpu_unary(ot_unary_op op, const ot_unary_params *p, const ot_tensor *x, ot_tensor *y);
/* The map on one float64 value (the reference the fusion compiler and the
   tests use; float ops only). */
double ot_unary_eval(ot_unary_op op, const ot_unary_params *p, double x);
/* Contiguous float32 / float64 maps, for fused kernels: y may equal x. */
void ot_unary_f32(ot_unary_op op, const ot_unary_params *p, const float *x, float *y, int64_t n);
void ot_unary_f64(ot_unary_op op, const ot_unary_params *p, const double *x, double *y, int64_t n);

/* IsNaN / IsInf on float types: y is bool (uint8 0/1). */
ot_status ot_cpu_isnan(const ot_tensor *x, ot_tensor *y);
ot_status ot_cpu_isinf(const ot_tensor *x, bool detect_positive, bool detect_negative, ot_tensor *y);

/* ---- binary ops with numpy broadcasting --------------------------------- */
typedef enum ot_binary_op {
    OT_BIN_ADD, OT_BIN_SUB, OT_BIN_MUL, OT_BIN_DIV, /* integer Div truncates; x/0 -> 0 */
    OT_BIN_MIN, OT_BIN_MAX,                         /* NaN propagates (np.minimum) */
    OT_BIN_MOD,                                     /* integers, sign of divisor (Python) */
    OT_BIN_FMOD,                                    /* C fmod: sign of dividend */
    OT_BIN_EQ, OT_BIN_LT, OT_BIN_LE, OT_BIN_GT, OT_BIN_GE, /* -> bool */
    OT_BIN_AND, OT_BIN_OR, OT_BIN_XOR,              /* bool */
    OT_BIN_BITAND, OT_BIN_BITOR, OT_BIN_BITXOR,     /* integers */
    OT_BIN_SHL, OT_BIN_SHR,                         /* unsigned; shift >= width -> 0 */
    OT_BIN_PRELU,                                   /* a < 0 ? a * b : a */
    OT_BIN_COUNT
} ot_binary_op;

/* The inner loop for (op, input dtype) — operands (out, a, b) — or NULL
   when the pair has no kernel. */
ot_bcast_fn ot_cpu_binary_fn(ot_binary_op op, ot_dtype dt);
bool ot_binary_is_compare(ot_binary_op op); /* output is bool */
/* out = a op b; out is shaped to the broadcast shape (and bool for compares). */
ot_status ot_cpu_binary(ot_binary_op op, const ot_tensor *a, const ot_tensor *b, ot_tensor *out);

/* Pow: float base with any numeric exponent, int32/int64 base with any
   exponent (numpy's power then cast to the base's dtype). */
bool ot_cpu_pow_supports(ot_dtype base, ot_dtype exponent);
ot_status ot_cpu_pow(const ot_tensor *x, const ot_tensor *y, ot_tensor *z);

/* out = cond ? x : y with broadcasting; any dtype (selected by byte width). */
ot_status ot_cpu_where(const ot_tensor *cond, const ot_tensor *x, const ot_tensor *y, ot_tensor *out);

/* y = min(max(x, lo), hi): lo/hi are scalar tensors of x's dtype or NULL. */
ot_status ot_cpu_clip(const ot_tensor *x, const ot_tensor *lo, const ot_tensor *hi, ot_tensor *y);

/* y = x * s (float types), for Mean. */
ot_status ot_cpu_scale(ot_tensor *y, double s);

/* Every numeric dtype to every numeric dtype (bool included).  Floats to
   integers truncate toward zero; NaN gives 0 and out-of-range values
   saturate to the int64/uint64 range before wrapping to narrower types,
   so the (undefined in the spec) result is at least deterministic. */
bool ot_cpu_cast_supports(ot_dtype from, ot_dtype to);
ot_status ot_cpu_cast(const ot_tensor *x, ot_tensor *y); /* saturating, round_mode "up" */
/* saturate: float8 targets clamp out-of-range values to +-max (else inf/NaN);
   round_mode (ot_round_mode): float8e8m0 targets only. */
ot_status ot_cpu_cast_mode(const ot_tensor *x, ot_tensor *y, bool saturate, int round_mode);

/* Copies x's bytes into y unless they are the same buffer. */
void ot_cpu_copy(const ot_tensor *x, ot_tensor *y);

/* Dropout.  train false: y = x, mask all true.  Otherwise element i is kept
   when the uniform [0, 1) number of element i of `rng` is >= ratio, and kept
   elements are scaled by 1 / (1 - ratio) (ratio 1 drops everything).  mask
   may be NULL; its dtype is bool or x's dtype (opsets before 10). */
ot_status ot_cpu_dropout(const ot_tensor *x, double ratio, bool train, const ot_rng *rng, ot_tensor *y,
                         ot_tensor *mask);

#endif
