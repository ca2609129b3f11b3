/* Element types: sizes, names, classes, and scalar conversion. */
#ifndef OT_CORE_DTYPE_H
#define OT_CORE_DTYPE_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxtrain.h"

/* TensorProto numbers of the low-precision element types (src/core/lowprec.h
   says how they are stored).  They belong in include/onnxtrain.h's ot_dtype;
   until they move there they are plain ints, so code switching on an ot_dtype
   switches on (int)t to name them. */
enum {
    OT_FLOAT8E4M3FN = 17,
    OT_FLOAT8E4M3FNUZ = 18,
    OT_FLOAT8E5M2 = 19,
    OT_FLOAT8E5M2FNUZ = 20,
    OT_UINT4 = 21,
    OT_INT4 = 22,
    OT_FLOAT4E2M1 = 23,
    OT_FLOAT8E8M0 = 24,
    OT_UINT2 = 25,
    OT_INT2 = 26
};

bool ot_dtype_is_float(ot_dtype t); /* float16, bfloat16, float, double */
bool ot_dtype_is_int(ot_dtype t);   /* signed and unsigned integers (not bool) */
bool ot_dtype_is_signed(ot_dtype t);
bool ot_dtype_is_numeric(ot_dtype t); /* float, int or bool: what kernels handle */
/* ONNX name as in the spec ("tensor(float)") is not needed; short names: */
const char *ot_dtype_name(ot_dtype t);

/* Element i of a buffer of dtype t, as double / int64 (bool: 0 or 1). */
double ot_load_f64(ot_dtype t, const void *data, int64_t i);
int64_t ot_load_i64(ot_dtype t, const void *data, int64_t i);
/* Stores v into element i (converted as a C cast would; float16/bfloat16 round to nearest even). */
void ot_store_f64(ot_dtype t, void *data, int64_t i, double v);
void ot_store_i64(ot_dtype t, void *data, int64_t i, int64_t v);

#endif
