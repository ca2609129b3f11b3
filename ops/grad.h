/* The gradient-rule interface.  An op's `grad` entry (ops/op.h) receives an
 * ot_grad_ctx for one forward node and emits backward nodes into the graph,
 * then hands each input's gradient to ot_grad_set.  Rules are written with
 * forward ops where that is efficient (Mul's gradient is Mul) and with
 * dedicated ops of the ai.onnxtrain domain where it is not (ReluGrad, ...).
 *
 * Shapes: every value the rule sees (forward values and values it emitted)
 * has a known dtype and shape (ot_grad_value), because autodiff runs after
 * shape inference and each emitted node is inferred as it is added.
 *
 * Emitted default-domain ops run at the model's opset: use only ops whose
 * signature is the same across opsets 7..23 (elementwise math, MatMul, Gemm,
 * Transpose, Reshape, Cast, Where, Concat, Expand, Gather...), or the helpers
 * below, which pick the right form (ReduceSum axes as input or attribute). */
#ifndef OT_OPS_GRAD_H
#define OT_OPS_GRAD_H

#include "op.h"

#define OT_DOMAIN_TRAIN "ai.onnxtrain"

typedef struct ot_grad_ctx ot_grad_ctx;

const ot_node *ot_grad_node(const ot_grad_ctx *g);
const void *ot_grad_attrs(const ot_grad_ctx *g);  /* the forward node's parsed attributes */
int64_t ot_grad_opset(const ot_grad_ctx *g);
/* The forward node's index: the key of its random stream (Dropout).  Passes
   after autodiff must keep node indices (or remap such references). */
int ot_grad_node_index(const ot_grad_ctx *g);
int ot_grad_x(const ot_grad_ctx *g, int i);        /* forward input i (value id, -1 absent) */
int ot_grad_y(const ot_grad_ctx *g, int i);        /* forward output i (value id, -1 absent) */
int ot_grad_dy(const ot_grad_ctx *g, int i);       /* gradient of output i, -1 when none flows */
bool ot_grad_needs(const ot_grad_ctx *g, int i);   /* does forward input i need a gradient? */
/* dtype/rank/dims of a value, and its data when it is a compile-time constant
   (else NULL).  The pointer is valid until the next ot_grad_* call: copy what
   you need (and never keep pointers into the graph's values across emits). */
const ot_tensor *ot_grad_value(const ot_grad_ctx *g, int v);

/* A copy of a value's dtype and shape, which stays valid across emits. */
typedef struct ot_grad_shape {
    ot_dtype dtype;
    int rank;
    int64_t dims[OT_MAX_RANK];
} ot_grad_shape;
static inline ot_grad_shape ot_grad_shape_of(const ot_grad_ctx *g, int v) {
    const ot_tensor *t = ot_grad_value(g, v);
    ot_grad_shape s = {t->dtype, t->rank, {0}};
    for (int d = 0; d < t->rank; d++) s.dims[d] = t->dims[d];
    return s;
}

/* Contributes dx as the gradient of forward input i.  A dx whose shape is a
   broadcast of the input's is summed back to the input's shape here. */
ot_status ot_grad_set(ot_grad_ctx *g, int i, int dx);

/* Emits a node and infers its outputs.  `attrs` may be NULL; n_out new values
   are created and returned in out[].  Returns the node index in *node if non-NULL. */
typedef struct ot_grad_attr {
    const char *name;
    ot_attr_type type;  /* INT, FLOAT, INTS, FLOATS, STRING, STRINGS */
    int64_t i;
    float f;
    const int64_t *ints;
    const float *floats;
    int n;
    const char *s;
    const char *const *strings;
} ot_grad_attr;
ot_status ot_grad_emit(ot_grad_ctx *g, const char *op, const char *domain, int n_in, const int *in, int n_out,
                       int *out, int n_attrs, const ot_grad_attr *attrs);
/* One-input/one-output and two-input conveniences for default-domain ops. */
ot_status ot_grad_op1(ot_grad_ctx *g, const char *op, int a, int *out);
ot_status ot_grad_op2(ot_grad_ctx *g, const char *op, int a, int b, int *out);

/* Constants (new values with role CONSTANT). */
ot_status ot_grad_const_i64(ot_grad_ctx *g, int n, const int64_t *vals, int *out);   /* 1-D int64 */
ot_status ot_grad_const_scalar(ot_grad_ctx *g, ot_dtype dtype, double v, int *out);  /* rank 0 */

/* ReduceSum over `axes` (n of them), in the form the model's opset wants. */
ot_status ot_grad_reduce_sum(ot_grad_ctx *g, int x, int n, const int64_t *axes, bool keepdims, int *out);
/* Reshape x to dims (rank r). */
ot_status ot_grad_reshape(ot_grad_ctx *g, int x, int r, const int64_t *dims, int *out);
/* Sums x (a broadcast of `like`'s shape) back to like's shape. */
ot_status ot_grad_sum_to(ot_grad_ctx *g, int x, int like, int *out);

#endif
