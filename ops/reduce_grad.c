/* Gradient rules of the reduce family and the ai.onnxtrain ReduceGrad op.
 * Numeric loops: kernels/cpu/reduce_grad.c (the formulas are listed in
 * kernels/cpu/reduce_grad.h).
 *
 *   ReduceGrad(dy [, x] [, y] [, axes]) -> dx
 *       dx has x's shape; x is the forward's input (needed by every mode but
 *       ReduceSum / ReduceMean; without it the attribute `shape` gives dx's
 *       shape), y its output (needed by ReduceL2, ReduceLogSum,
 *       ReduceLogSumExp, ReduceMax, ReduceMin), dy y's gradient.  Attributes:
 *       mode, the forward op's name ("ReduceSum", ...); the forward's axes as
 *       the `axes` attribute or the `axes` input (int32/int64, read at run
 *       time, so the rule never needs its value), keepdims (default 1),
 *       noop_with_empty_axes (default 0), with the forward's meaning; shape.
 *
 * ReduceMax / ReduceMin follow PyTorch's amax / amin: tied maxima share the
 * gradient evenly (torch.max(dim) would route it to one index instead).
 * CumSum's gradient is a CumSum of dy in the other direction, with the same
 * `exclusive`.  The axes input gets no gradient. */
#include <string.h>

#include "kernels/cpu/reduce_grad.h"
#include "reduce_ops.h"

static const ot_dtype float_types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_UNDEFINED};

/* ---- rules ------------------------------------------------------------------ */

ot_status ot_reduce_grad_rule(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0);
    if (!ot_grad_needs(g, 0) || dy < 0) return OT_OK;
    const ot_reduce_attrs *a = ot_grad_attrs(g);
    const char *mode = ot_grad_node(g)->op_type; /* heap string: stays valid across emits */
    const ot_tensor *xv = ot_grad_value(g, ot_grad_x(g, 0));
    int rank = xv->rank;
    int64_t shape[OT_MAX_RANK];
    memcpy(shape, xv->dims, sizeof(int64_t) * (size_t)rank);
    ot_grad_attr at[5];
    int n = 0;
    at[n++] = (ot_grad_attr){.name = "mode", .type = OT_ATTR_STRING, .s = mode};
    at[n++] = (ot_grad_attr){.name = "keepdims", .type = OT_ATTR_INT, .i = a->keepdims};
    at[n++] = (ot_grad_attr){.name = "shape", .type = OT_ATTR_INTS, .ints = shape, .n = rank};
    if (a->axes_input && a->noop_empty)
        at[n++] = (ot_grad_attr){.name = "noop_with_empty_axes", .type = OT_ATTR_INT, .i = 1};
    if (!a->axes_input && a->n_axes > 0)
        at[n++] = (ot_grad_attr){.name = "axes", .type = OT_ATTR_INTS, .ints = a->axes, .n = a->n_axes};
    int in[4] = {dy, ot_reduce_grad_needs_x(a->op) ? ot_grad_x(g, 0) : -1,
                 ot_reduce_grad_needs_y(a->op) ? ot_grad_y(g, 0) : -1, a->axes_input ? ot_grad_x(g, 1) : -1};
    int n_in = 4, dx;
    while (n_in > 1 && in[n_in - 1] < 0) n_in--;
    OT_TRY(ot_grad_emit(g, "ReduceGrad", OT_DOMAIN_TRAIN, n_in, in, 1, &dx, n, at));
    return ot_grad_set(g, 0, dx);
}

/* y_k sums x_j over j <= k (j < k exclusive; j >= k / j > k reversed), so
   dx_j sums dy_k over the same relation read the other way. */
ot_status ot_cumsum_grad_rule(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0);
    if (!ot_grad_needs(g, 0) || dy < 0) return OT_OK;
    const ot_cumsum_attrs *a = ot_grad_attrs(g);
    ot_grad_attr at[2] = {{.name = "exclusive", .type = OT_ATTR_INT, .i = a->exclusive},
                          {.name = "reverse", .type = OT_ATTR_INT, .i = !a->reverse}};
    int in[2] = {dy, ot_grad_x(g, 1)}, dx;
    OT_TRY(ot_grad_emit(g, "CumSum", "", 2, in, 1, &dx, 2, at));
    return ot_grad_set(g, 0, dx);
}

/* ---- ReduceGrad ------------------------------------------------------------- */

ot_status ot_reduce_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_reduce_grad_attrs *a = attrs;
    const char *mode;
    OT_TRY(ot_attr_get_string(n, "mode", "", &mode));
    if (!ot_reduce_op_of(mode, &a->op))
        return ot_error(OT_ERR_UNSUPPORTED, "node '%s' (ReduceGrad): mode '%s' is not a Reduce* op name", n->name,
                        mode);
    int64_t keep, noop;
    OT_TRY(ot_attr_get_int(n, "keepdims", 1, &keep));
    OT_TRY(ot_attr_get_int(n, "noop_with_empty_axes", 0, &noop));
    a->keepdims = keep != 0;
    a->noop_empty = noop != 0;
    const int64_t *v;
    int count;
    OT_TRY(ot_attr_get_ints(n, "axes", &v, &count));
    if (count > OT_MAX_RANK)
        return ot_error(OT_ERR_SHAPE, "node '%s' (ReduceGrad): %d axes, but tensors have at most %d dimensions",
                        n->name, count, OT_MAX_RANK);
    a->n_axes = count;
    for (int i = 0; i < count; i++) a->axes[i] = v[i];
    OT_TRY(ot_attr_get_ints(n, "shape", &v, &count));
    if (count > OT_MAX_RANK)
        return ot_error(OT_ERR_SHAPE, "node '%s' (ReduceGrad): shape has %d dimensions, at most %d are supported",
                        n->name, count, OT_MAX_RANK);
    a->rank = count;
    for (int i = 0; i < count; i++) a->shape[i] = v[i];
    return OT_OK;
}

/* dx's shape: x's, else the `shape` attribute. */
static ot_status reduce_grad_shape(const ot_kctx *c, int *rank, const int64_t **dims) {
    const ot_reduce_grad_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 1);
    if (x) {
        *rank = x->rank;
        *dims = x->dims;
        return OT_OK;
    }
    if (a->rank < 0) return ot_op_error(c, OT_ERR_INVALID_ARG, "needs input 1 (x) or the attribute 'shape'");
    *rank = a->rank;
    *dims = a->shape;
    return OT_OK;
}

ot_status ot_reduce_grad_infer(ot_kctx *c) {
    static const ot_dtype axes_types[] = {OT_INT32, OT_INT64, OT_UNDEFINED};
    const ot_reduce_grad_attrs *a = c->attrs;
    OT_TRY(ot_check_dtype(c, 0, float_types));
    OT_TRY(ot_check_dtype(c, 3, axes_types));
    const ot_tensor *dy = c->in[0], *x = ot_in(c, 1), *y = ot_in(c, 2), *axes = ot_in(c, 3);
    char s0[128], s1[128];
    if (ot_reduce_grad_needs_x(a->op) && !x) return ot_op_error(c, OT_ERR_INVALID_ARG, "this mode needs input 1 (x)");
    if (ot_reduce_grad_needs_y(a->op) && !y) return ot_op_error(c, OT_ERR_INVALID_ARG, "this mode needs input 2 (y)");
    int rank = 0;
    const int64_t *dims = NULL;
    OT_TRY(reduce_grad_shape(c, &rank, &dims));
    if (x && a->rank >= 0 && !ot_shape_equal(x->rank, x->dims, a->rank, a->shape))
        return ot_op_error(c, OT_ERR_SHAPE, "x %s does not match the attribute shape %s",
                           ot_shape_str(x->rank, x->dims, s0, sizeof s0),
                           ot_shape_str(a->rank, a->shape, s1, sizeof s1));
    if ((x && x->dtype != dy->dtype) || (y && y->dtype != dy->dtype))
        return ot_op_error(c, OT_ERR_TYPE, "dy, x and y must have the same type");
    if (y && !ot_shape_equal(y->rank, y->dims, dy->rank, dy->dims))
        return ot_op_error(c, OT_ERR_SHAPE, "y %s and dy %s must have the same shape",
                           ot_shape_str(y->rank, y->dims, s0, sizeof s0),
                           ot_shape_str(dy->rank, dy->dims, s1, sizeof s1));
    if (!axes || axes->data) { /* the axes are known now: check dy's shape exactly */
        bool mask[OT_MAX_RANK];
        OT_TRY(ot_reduce_mask(c, rank, axes, a->n_axes, a->axes, a->noop_empty, mask));
        int64_t want[OT_MAX_RANK];
        int r = 0;
        for (int i = 0; i < rank; i++) {
            if (!mask[i]) want[r++] = dims[i];
            else if (a->keepdims) want[r++] = 1;
        }
        if (!ot_shape_equal(dy->rank, dy->dims, r, want))
            return ot_op_error(c, OT_ERR_SHAPE, "dy %s does not match the reduction's output %s",
                               ot_shape_str(dy->rank, dy->dims, s0, sizeof s0), ot_shape_str(r, want, s1, sizeof s1));
    }
    ot_set_out(c, 0, dy->dtype, rank, dims);
    return OT_OK;
}

ot_status ot_reduce_grad_cpu(ot_kctx *c) {
    const ot_reduce_grad_attrs *a = c->attrs;
    const ot_tensor *dy = c->in[0], *x = ot_in(c, 1), *y = ot_in(c, 2);
    ot_tensor *dx = c->out[0];
    bool mask[OT_MAX_RANK];
    OT_TRY(ot_reduce_mask(c, dx->rank, ot_in(c, 3), a->n_axes, a->axes, a->noop_empty, mask));
    int64_t kept = 1;
    for (int i = 0; i < dx->rank; i++)
        if (!mask[i]) kept *= dx->dims[i];
    if (ot_tensor_numel(dy) != kept) {
        char s0[128], s1[128];
        return ot_op_error(c, OT_ERR_SHAPE, "dy %s does not match the reduction of %s over the given axes",
                           ot_shape_str(dy->rank, dy->dims, s0, sizeof s0),
                           ot_shape_str(dx->rank, dx->dims, s1, sizeof s1));
    }
    ot_status s = ot_cpu_reduce_grad(a->op, dy->dtype, dy->data, x ? x->data : NULL, y ? y->data : NULL, dx->data,
                                     dx->rank, dx->dims, mask);
    return s ? ot_error_context(s, "node '%s' (ReduceGrad)", c->name) : OT_OK;
}
