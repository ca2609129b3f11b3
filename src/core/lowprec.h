/* Low-precision element types: float8 (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ,
 * E8M0), float4 E2M1 and the 4- and 2-bit integers.
 *
 * In memory every such element takes ONE byte (ot_dtype_size == 1), unpacked,
 * so kernels index them like uint8:
 *   float8 types          the 8-bit code;
 *   float4e2m1            the 4-bit code in the low nibble (high nibble 0);
 *   int4, int2            the value sign-extended to int8 (-8..7, -2..1);
 *   uint4, uint2          the value as uint8 (0..15, 0..3).
 * Only (de)serialisation packs 4-bit types two per byte and 2-bit types four
 * per byte, first element in the lowest bits (TensorProto raw_data/int32_data).
 *
 * These types are not "numeric" (ot_dtype_is_numeric): generic kernels do not
 * see them; Cast, the quantization ops and byte-moving ops (Identity, Reshape,
 * ...) handle them explicitly. */
#ifndef OT_CORE_LOWPREC_H
#define OT_CORE_LOWPREC_H

#include <stdbool.h>
#include <stdint.h>

#include "dtype.h"

/* Rounding of a cast to float8e8m0 (Cast 24+ 'round_mode'). */
typedef enum ot_round_mode { OT_ROUND_UP = 0, OT_ROUND_DOWN = 1, OT_ROUND_NEAREST = 2 } ot_round_mode;

bool ot_dtype_is_lowprec(ot_dtype t);       /* any of the types above */
bool ot_dtype_is_lowprec_float(ot_dtype t); /* float8 types and float4e2m1 */
bool ot_dtype_is_lowprec_int(ot_dtype t);   /* int4, uint4, int2, uint2 */
/* Bits per element as serialised: 4 or 2 for packed types, else 8 * size. */
int ot_dtype_bits(ot_dtype t);
/* Value range of the 4/2-bit integers (and 8/16-bit ones, for quantization). */
void ot_lowprec_int_range(ot_dtype t, int64_t *lo, int64_t *hi);

/* Exact value of a float8/float4 code (NaN codes -> NaN, E5M2 infinities -> inf). */
double ot_lowprec_decode(ot_dtype t, uint8_t code);
/* Code of x rounded to nearest even (E8M0: by `rm`, from x as float32, as the
   ONNX reference does).  saturate: out-of-range values and infinities become
   +-max; otherwise they become inf (E5M2) or NaN (the others; E8M0 NaN).
   float4e2m1 has no inf or NaN: it always saturates, NaN gives 0x8 (-0) as
   ml_dtypes does. */
uint8_t ot_lowprec_encode(ot_dtype t, double x, bool saturate, ot_round_mode rm);

/* A 4/2-bit integer from the low bits of a packed field (sign-extended for int4/int2). */
static inline uint8_t ot_lowprec_unpack_bits(ot_dtype t, unsigned bits) {
    switch ((int)t) {
    case OT_INT4: return (uint8_t)(int8_t)((int)((bits & 0xf) ^ 0x8) - 8);
    case OT_INT2: return (uint8_t)(int8_t)((int)((bits & 0x3) ^ 0x2) - 2);
    case OT_UINT2: return (uint8_t)(bits & 0x3);
    default: return (uint8_t)(bits & 0xf); /* uint4, float4e2m1 */
    }
}

/* Unpacks n elements of bits ot_dtype_bits(t) (4 or 2) from src into one byte each. */
void ot_lowprec_unpack(ot_dtype t, const uint8_t *src, int64_t n, uint8_t *dst);
/* The reverse: (n * bits + 7) / 8 bytes; unused high bits of the last byte are 0. */
void ot_lowprec_pack(ot_dtype t, const uint8_t *src, int64_t n, uint8_t *dst);

#endif
