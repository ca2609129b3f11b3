/* CPU kernels of the quantization ops: QuantizeLinear, DequantizeLinear,
 * DynamicQuantizeLinear, QLinearMatMul and QLinearConv's requantization.
 * Numerics follow the ONNX reference (numpy): x / scale is rounded to the
 * "precision" type before rounding to an integer (ties to even) or encoding
 * to a float8/float4 code. */
#ifndef OT_KERNELS_CPU_QUANT_H
#define OT_KERNELS_CPU_QUANT_H

#include <stdbool.h>
#include <stdint.h>

#include "../../src/core/status.h"
#include "../../src/core/tensor.h"

/* x viewed as (outer, axis_len, inner); the scale (and zero point) is
   per-tensor (one value), per-axis (axis_len values) or blocked
   (outer, ceil(axis_len / block), inner). */
typedef struct ot_quant_layout {
    int64_t outer, axis_len, inner;
    bool per_tensor;
    int64_t block; /* 0: not blocked */
} ot_quant_layout;

/* y = saturate(round(x / scale) + zero_point) in y's dtype.  zp may be NULL.
   prec: the dtype x / scale is rounded to (OT_DOUBLE: not rounded). */
ot_status ot_cpu_quantize(const ot_tensor *x, const ot_tensor *scale, const ot_tensor *zp, const ot_quant_layout *l,
                          ot_dtype prec, bool saturate, ot_tensor *y);
/* y = (x - zero_point) * scale in y's dtype; float8/float4 x ignore zp. */
ot_status ot_cpu_dequantize(const ot_tensor *x, const ot_tensor *scale, const ot_tensor *zp, const ot_quant_layout *l,
                            ot_tensor *y);
/* x float32 -> y uint8, y_scale and y_zero_point scalars. */
void ot_cpu_dynamic_quantize(const ot_tensor *x, ot_tensor *y, ot_tensor *y_scale, ot_tensor *y_zp);
/* acc (int32, shaped like y) * (mul[c]) + y_zp rounded and clamped to y's
   8-bit range; c = (i / inner) % n_mul picks the multiplier (n_mul 1: one). */
void ot_cpu_requantize(const int32_t *acc, const double *mul, int64_t n_mul, int64_t inner, double y_zp,
                       ot_tensor *y);
/* Batched integer matmul: a (batch_a, M, K) - a_zp, b (batch_b, K, N) - b_zp[n]
   -> acc (batch, M, N) int32; batch_a/batch_b are 1 or batch (broadcast). */
void ot_cpu_qmatmul_acc(const ot_tensor *a, int64_t a_zp, const ot_tensor *b, const int64_t *b_zp, int64_t n_bzp,
                        int64_t batch, int64_t batch_a, int64_t batch_b, int64_t M, int64_t K, int64_t N, int32_t *acc);

#endif
