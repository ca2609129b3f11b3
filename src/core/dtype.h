/* Element types: sizes, names, classes, and scalar conversion. */
#ifndef OT_CORE_DTYPE_H
#define OT_CORE_DTYPE_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxtrain.h"

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
