/* Helpers shared by the elementwise kernels: dtype lists for X-macros and
   conversions with defined results where C's are undefined. */
#ifndef OT_KERNELS_CPU_ELEMENTWISE_UTIL_H
#define OT_KERNELS_CPU_ELEMENTWISE_UTIL_H

#include <math.h>
#include <stdint.h>

#include "../../src/core/half.h"

/* X(dtype enum, short name, storage type, compute type, load, store) */
#define OT_EW_ID(v) (v)
#define OT_EW_FLOAT_TYPES(X)                                          \
    X(OT_FLOAT, f32, float, float, OT_EW_ID, OT_EW_ID)               \
    X(OT_DOUBLE, f64, double, double, OT_EW_ID, OT_EW_ID)            \
    X(OT_FLOAT16, f16, uint16_t, float, ot_f16_to_f32, ot_f32_to_f16) \
    X(OT_BFLOAT16, bf16, uint16_t, float, ot_bf16_to_f32, ot_f32_to_bf16)
/* X(dtype enum, short name, type, unsigned type wide enough to wrap in) */
#define OT_EW_SINT_TYPES(X)                  \
    X(OT_INT8, i8, int8_t, uint32_t)         \
    X(OT_INT16, i16, int16_t, uint32_t)      \
    X(OT_INT32, i32, int32_t, uint32_t)      \
    X(OT_INT64, i64, int64_t, uint64_t)
#define OT_EW_UINT_TYPES(X)                  \
    X(OT_UINT8, u8, uint8_t, uint32_t)       \
    X(OT_UINT16, u16, uint16_t, uint32_t)    \
    X(OT_UINT32, u32, uint32_t, uint32_t)    \
    X(OT_UINT64, u64, uint64_t, uint64_t)

/* double -> int64 toward zero; NaN -> 0, saturating (C leaves these undefined). */
static inline int64_t ot_ew_d2i64(double v) {
    if (v != v) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}

/* double -> uint64: values >= 2^63 convert directly, the rest go through
   int64 so negative values wrap as they do on common hardware. */
static inline uint64_t ot_ew_d2u64(double v) {
    if (v >= 18446744073709551615.0) return UINT64_MAX;
    if (v >= 9223372036854775808.0) return (uint64_t)v;
    return (uint64_t)ot_ew_d2i64(v);
}

#endif
