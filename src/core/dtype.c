#include "dtype.h"

#include "half.h"
#include "lowprec.h"

size_t ot_dtype_size(ot_dtype t) {
    switch (t) {
    case OT_FLOAT: case OT_INT32: case OT_UINT32: return 4;
    case OT_UINT8: case OT_INT8: case OT_BOOL: return 1;
    case OT_UINT16: case OT_INT16: case OT_FLOAT16: case OT_BFLOAT16: return 2;
    case OT_INT64: case OT_DOUBLE: case OT_UINT64: case OT_COMPLEX64: return 8;
    case OT_COMPLEX128: return 16;
    default: return ot_dtype_is_lowprec(t) ? 1 : 0; /* unpacked in memory: lowprec.h */
    }
}

const char *ot_dtype_name(ot_dtype t) {
    switch ((int)t) {
    case OT_FLOAT8E4M3FN: return "float8e4m3fn";
    case OT_FLOAT8E4M3FNUZ: return "float8e4m3fnuz";
    case OT_FLOAT8E5M2: return "float8e5m2";
    case OT_FLOAT8E5M2FNUZ: return "float8e5m2fnuz";
    case OT_UINT4: return "uint4";
    case OT_INT4: return "int4";
    case OT_FLOAT4E2M1: return "float4e2m1";
    case OT_FLOAT8E8M0: return "float8e8m0";
    case OT_UINT2: return "uint2";
    case OT_INT2: return "int2";
    case OT_FLOAT: return "float32";
    case OT_UINT8: return "uint8";
    case OT_INT8: return "int8";
    case OT_UINT16: return "uint16";
    case OT_INT16: return "int16";
    case OT_INT32: return "int32";
    case OT_INT64: return "int64";
    case OT_STRING: return "string";
    case OT_BOOL: return "bool";
    case OT_FLOAT16: return "float16";
    case OT_DOUBLE: return "float64";
    case OT_UINT32: return "uint32";
    case OT_UINT64: return "uint64";
    case OT_COMPLEX64: return "complex64";
    case OT_COMPLEX128: return "complex128";
    case OT_BFLOAT16: return "bfloat16";
    case OT_UNDEFINED: return "undefined";
    }
    return "unknown-dtype";
}

bool ot_dtype_is_float(ot_dtype t) {
    return t == OT_FLOAT || t == OT_DOUBLE || t == OT_FLOAT16 || t == OT_BFLOAT16;
}

bool ot_dtype_is_int(ot_dtype t) {
    switch (t) {
    case OT_UINT8: case OT_INT8: case OT_UINT16: case OT_INT16: case OT_INT32:
    case OT_INT64: case OT_UINT32: case OT_UINT64: return true;
    default: return false;
    }
}

bool ot_dtype_is_signed(ot_dtype t) {
    if ((int)t == OT_INT4 || (int)t == OT_INT2) return true;
    if (ot_dtype_is_lowprec_float(t)) return (int)t != OT_FLOAT8E8M0; /* E8M0 has no sign bit */
    return t == OT_INT8 || t == OT_INT16 || t == OT_INT32 || t == OT_INT64 || ot_dtype_is_float(t);
}

bool ot_dtype_is_numeric(ot_dtype t) {
    return ot_dtype_is_float(t) || ot_dtype_is_int(t) || t == OT_BOOL;
}

double ot_load_f64(ot_dtype t, const void *d, int64_t i) {
    switch (t) {
    case OT_FLOAT: return ((const float *)d)[i];
    case OT_DOUBLE: return ((const double *)d)[i];
    case OT_FLOAT16: return ot_f16_to_f32(((const uint16_t *)d)[i]);
    case OT_BFLOAT16: return ot_bf16_to_f32(((const uint16_t *)d)[i]);
    case OT_UINT8: return ((const uint8_t *)d)[i];
    case OT_INT8: return ((const int8_t *)d)[i];
    case OT_UINT16: return ((const uint16_t *)d)[i];
    case OT_INT16: return ((const int16_t *)d)[i];
    case OT_INT32: return ((const int32_t *)d)[i];
    case OT_INT64: return (double)((const int64_t *)d)[i];
    case OT_UINT32: return ((const uint32_t *)d)[i];
    case OT_UINT64: return (double)((const uint64_t *)d)[i];
    case OT_BOOL: return ((const uint8_t *)d)[i] != 0;
    default: return ot_lowprec_decode(t, ((const uint8_t *)d)[i]);
    }
}

int64_t ot_load_i64(ot_dtype t, const void *d, int64_t i) {
    switch (t) {
    case OT_INT64: return ((const int64_t *)d)[i];
    case OT_UINT64: return (int64_t)((const uint64_t *)d)[i];
    case OT_INT32: return ((const int32_t *)d)[i];
    case OT_UINT32: return ((const uint32_t *)d)[i];
    case OT_INT16: return ((const int16_t *)d)[i];
    case OT_UINT16: return ((const uint16_t *)d)[i];
    case OT_INT8: return ((const int8_t *)d)[i];
    case OT_UINT8: return ((const uint8_t *)d)[i];
    case OT_BOOL: return ((const uint8_t *)d)[i] != 0;
    default: return (int64_t)ot_load_f64(t, d, i);
    }
}

void ot_store_f64(ot_dtype t, void *d, int64_t i, double v) {
    switch (t) {
    case OT_FLOAT: ((float *)d)[i] = (float)v; break;
    case OT_DOUBLE: ((double *)d)[i] = v; break;
    case OT_FLOAT16: ((uint16_t *)d)[i] = ot_f32_to_f16((float)v); break;
    case OT_BFLOAT16: ((uint16_t *)d)[i] = ot_f32_to_bf16((float)v); break;
    case OT_BOOL: ((uint8_t *)d)[i] = v != 0; break;
    default:
        if (ot_dtype_is_lowprec_float(t)) /* saturating, like Cast's default */
            ((uint8_t *)d)[i] = ot_lowprec_encode(t, v, true, OT_ROUND_UP);
        else
            ot_store_i64(t, d, i, v != v ? 0 : v >= 0x1p63 ? INT64_MAX : v <= -0x1p63 ? INT64_MIN : (int64_t)v);
        break;
    }
}

void ot_store_i64(ot_dtype t, void *d, int64_t i, int64_t v) {
    switch (t) {
    case OT_INT64: ((int64_t *)d)[i] = v; break;
    case OT_UINT64: ((uint64_t *)d)[i] = (uint64_t)v; break;
    case OT_INT32: ((int32_t *)d)[i] = (int32_t)v; break;
    case OT_UINT32: ((uint32_t *)d)[i] = (uint32_t)v; break;
    case OT_INT16: ((int16_t *)d)[i] = (int16_t)v; break;
    case OT_UINT16: ((uint16_t *)d)[i] = (uint16_t)v; break;
    case OT_INT8: ((int8_t *)d)[i] = (int8_t)v; break;
    case OT_UINT8: ((uint8_t *)d)[i] = (uint8_t)v; break;
    case OT_BOOL: ((uint8_t *)d)[i] = v != 0; break;
    default:
        if (ot_dtype_is_lowprec_int(t)) /* wraps to the low bits, sign-extended: lowprec.h */
            ((uint8_t *)d)[i] = ot_lowprec_unpack_bits(t, (unsigned)(uint64_t)v);
        else
            ot_store_f64(t, d, i, (double)v);
        break;
    }
}
