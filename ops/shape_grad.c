/* Gradient rules of the shape family: data movement, so each gradient is the
 * inverse movement of dy. */
#include <string.h>

#include "grad.h"
#include "shape_ops.h"

/* Reshape, Flatten, Squeeze, Unsqueeze: dx = reshape(dy, shape(x)). */
ot_status ot_reshape_like_grad(ot_grad_ctx *g) {
    int64_t dims[OT_MAX_RANK];
    const ot_tensor *x = ot_grad_value(g, ot_grad_x(g, 0));
    int rank = x->rank;
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)rank);
    int dx;
    OT_TRY(ot_grad_reshape(g, ot_grad_dy(g, 0), rank, dims, &dx));
    return ot_grad_set(g, 0, dx);
}
