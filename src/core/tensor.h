/* Host tensors: dtype, shape and a data pointer.  The struct is the public
   ot_tensor handle's definition, internal to the library. */
#ifndef OT_CORE_TENSOR_H
#define OT_CORE_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnxtrain.h"

struct ot_tensor {
    ot_dtype dtype;
    int rank;
    int64_t dims[OT_MAX_RANK];
    void *data;    /* host data; NULL for a shape-only descriptor */
    bool owns;     /* data was allocated for this tensor and is freed with it */
    char *name;    /* optional, owned */
};

/* Allocates data (zeroed) for dtype/shape.  *out is a new tensor. */
ot_status ot_tensor_new(ot_dtype dtype, int rank, const int64_t *dims, ot_tensor **out);
/* A descriptor without data. */
ot_status ot_tensor_new_desc(ot_dtype dtype, int rank, const int64_t *dims, ot_tensor **out);
/* Deep copy (data and name). */
ot_status ot_tensor_clone(const ot_tensor *t, ot_tensor **out);
int64_t ot_tensor_numel(const ot_tensor *t);
size_t ot_tensor_nbytes(const ot_tensor *t);
/* Allocates t->data for its current dtype/shape (zeroed); frees old owned data. */
ot_status ot_tensor_alloc_data(ot_tensor *t);
/* Sets dtype/rank/dims of a descriptor. */
void ot_tensor_set_shape(ot_tensor *t, ot_dtype dtype, int rank, const int64_t *dims);
ot_status ot_tensor_set_name(ot_tensor *t, const char *name);
/* Values of a small integer tensor (int32/int64) into out (at most cap). */
ot_status ot_tensor_to_i64(const ot_tensor *t, int64_t *out, int64_t cap, int64_t *count);

#endif
