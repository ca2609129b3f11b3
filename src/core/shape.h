/* Shape arithmetic.  Every product is overflow-checked: a model file never
   makes us compute (or allocate) a size that does not fit. */
#ifndef OT_CORE_SHAPE_H
#define OT_CORE_SHAPE_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxtrain.h"

/* Largest element count we accept for one tensor (2^40 elements). */
#define OT_MAX_NUMEL ((int64_t)1 << 40)

/* Product of dims into *numel; OT_ERR_SHAPE for a negative dim,
   OT_ERR_NOMEM when the product exceeds OT_MAX_NUMEL. */
ot_status ot_shape_numel(int rank, const int64_t *dims, int64_t *numel);
/* numel * elem_size as bytes, checked. */
ot_status ot_shape_bytes(int rank, const int64_t *dims, size_t elem_size, size_t *bytes);

/* Numpy broadcasting of a and b into out (rank = max(ra, rb)). */
ot_status ot_shape_broadcast(int ra, const int64_t *a, int rb, const int64_t *b, int *rout,
                             int64_t *out);
/* Row-major strides of a shape (in elements). */
void ot_shape_strides(int rank, const int64_t *dims, int64_t *strides);
/* Strides of `in` broadcast to `out` (0 on broadcast axes); in is right-aligned. */
void ot_shape_broadcast_strides(int rin, const int64_t *in, int rout, const int64_t *out,
                                int64_t *strides);
/* Normalises a possibly negative axis in [-rank, rank) to [0, rank). */
ot_status ot_axis_normalize(int64_t axis, int rank, int *out);
bool ot_shape_equal(int ra, const int64_t *a, int rb, const int64_t *b);
/* "(2, 3, 4)" into buf. */
const char *ot_shape_str(int rank, const int64_t *dims, char *buf, size_t cap);

#endif
