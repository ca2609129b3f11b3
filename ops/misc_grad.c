/* Gradient rules of the misc family and its ai.onnxtrain grad ops.
 *
 * Data movement is undone with forward ops: SpaceToDepth and DepthToSpace
 * (DCR) invert each other; CRD's inverse is a Reshape / Transpose / Reshape;
 * ReverseSequence is its own inverse; CenterCropPad back to the input's
 * sizes is its own adjoint (the crop offset of one is the pad offset of the
 * other, floors on both sides).  Dedicated ops where forward ops would cost
 * several passes or lose accuracy:
 *
 *   CumProdGrad(dy, x, axis) -> dx         attributes exclusive, reverse (the forward's)
 *       dy, x, dx: x's shape; axis: the forward's axis input (read at run
 *       time).  Division-free (exact where x has zeros): see kernels/cpu/misc.h.
 *   LRNGrad(dy, x) -> dx                   attributes size, alpha, beta, bias
 *       dy, x, dx: (N, C, ...).
 *   DetGrad(dy, x) -> dx
 *       x, dx: (..., M, M); dy: (...).  dx = dy * adj(x)^T.
 *   SwishGrad(dy, x) -> dx                 attribute alpha
 *       elementwise: dy * s * (1 + alpha x (1 - s)), s = sigmoid(alpha x). */
#include <string.h>

#include "misc_ops.h"
#include "reduce_ops.h"
#include "src/runtime/workspace.h"

ot_status ot_misc_zero_grad_rule(ot_grad_ctx *g) {
    (void)g;
    return OT_OK;
}

#define DY_OR_DONE(g, dy)                                        \
    const int dy = ot_grad_dy(g, 0);                             \
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK

/* ---- rules ------------------------------------------------------------------------------- */

ot_status ot_cumprod_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    const ot_cumprod_attrs *a = ot_grad_attrs(g);
    const ot_grad_attr at[2] = {{.name = "exclusive", .type = OT_ATTR_INT, .i = a->exclusive},
                                {.name = "reverse", .type = OT_ATTR_INT, .i = a->reverse}};
    int in[3] = {dy, ot_grad_x(g, 0), ot_grad_x(g, 1)}, dx;
    OT_TRY(ot_grad_emit(g, "CumProdGrad", OT_DOMAIN_TRAIN, 3, in, 1, &dx, 2, at));
    return ot_grad_set(g, 0, dx);
}

/* DepthToSpace without `mode` is DCR at every opset, the inverse of SpaceToDepth. */
ot_status ot_s2d_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    const ot_grad_attr at = {.name = "blocksize", .type = OT_ATTR_INT,
                             .i = ((const ot_d2s_attrs *)ot_grad_attrs(g))->blocksize};
    int dx;
    OT_TRY(ot_grad_emit(g, "DepthToSpace", "", 1, &dy, 1, &dx, 1, &at));
    return ot_grad_set(g, 0, dx);
}

ot_status ot_d2s_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    const ot_d2s_attrs *a = ot_grad_attrs(g);
    const int64_t bs = a->blocksize;
    int dx;
    if (!a->crd) {
        const ot_grad_attr at = {.name = "blocksize", .type = OT_ATTR_INT, .i = bs};
        OT_TRY(ot_grad_emit(g, "SpaceToDepth", "", 1, &dy, 1, &dx, 1, &at));
        return ot_grad_set(g, 0, dx);
    }
    /* CRD: dy (N, C', H, bs, W, bs) -> (N, C', bs, bs, H, W) -> x's (N, C, H, W). */
    const ot_grad_shape x = ot_grad_shape_of(g, ot_grad_x(g, 0));
    const int64_t N = x.dims[0], C = x.dims[1], H = x.dims[2], W = x.dims[3];
    const int64_t six[6] = {N, C / (bs * bs), H, bs, W, bs}, perm[6] = {0, 1, 3, 5, 2, 4};
    const ot_grad_attr at = {.name = "perm", .type = OT_ATTR_INTS, .ints = perm, .n = 6};
    int v6, t6;
    OT_TRY(ot_grad_reshape(g, dy, 6, six, &v6));
    OT_TRY(ot_grad_emit(g, "Transpose", "", 1, &v6, 1, &t6, 1, &at));
    OT_TRY(ot_grad_reshape(g, t6, 4, x.dims, &dx));
    return ot_grad_set(g, 0, dx);
}

/* The same reversal again puts every element back. */
ot_status ot_revseq_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    const ot_revseq_attrs *a = ot_grad_attrs(g);
    const ot_grad_attr at[2] = {{.name = "batch_axis", .type = OT_ATTR_INT, .i = a->batch_axis},
                                {.name = "time_axis", .type = OT_ATTR_INT, .i = a->time_axis}};
    int in[2] = {dy, ot_grad_x(g, 1)}, dx;
    OT_TRY(ot_grad_emit(g, "ReverseSequence", "", 2, in, 1, &dx, 2, at));
    return ot_grad_set(g, 0, dx);
}

ot_status ot_lrn_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    const ot_lrn_attrs *a = ot_grad_attrs(g);
    const ot_grad_attr at[4] = {{.name = "size", .type = OT_ATTR_INT, .i = a->size},
                                {.name = "alpha", .type = OT_ATTR_FLOAT, .f = a->alpha},
                                {.name = "beta", .type = OT_ATTR_FLOAT, .f = a->beta},
                                {.name = "bias", .type = OT_ATTR_FLOAT, .f = a->bias}};
    int in[2] = {dy, ot_grad_x(g, 0)}, dx;
    OT_TRY(ot_grad_emit(g, "LRNGrad", OT_DOMAIN_TRAIN, 2, in, 1, &dx, 4, at));
    return ot_grad_set(g, 0, dx);
}

ot_status ot_det_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    int in[2] = {dy, ot_grad_x(g, 0)}, dx;
    OT_TRY(ot_grad_emit(g, "DetGrad", OT_DOMAIN_TRAIN, 2, in, 1, &dx, 0, NULL));
    return ot_grad_set(g, 0, dx);
}

ot_status ot_swish_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    const ot_grad_attr at = {.name = "alpha", .type = OT_ATTR_FLOAT,
                             .f = ((const ot_swish_attrs *)ot_grad_attrs(g))->alpha};
    int in[2] = {dy, ot_grad_x(g, 0)}, dx;
    OT_TRY(ot_grad_emit(g, "SwishGrad", OT_DOMAIN_TRAIN, 2, in, 1, &dx, 1, &at));
    return ot_grad_set(g, 0, dx);
}

/* dx = CenterCropPad(dy, x's sizes on the same axes). */
ot_status ot_ccpad_grad_rule(ot_grad_ctx *g) {
    DY_OR_DONE(g, dy);
    const ot_ccpad_attrs *a = ot_grad_attrs(g);
    const ot_grad_shape x = ot_grad_shape_of(g, ot_grad_x(g, 0));
    int64_t sizes[OT_MAX_RANK];
    const int n = a->n_axes < 0 ? x.rank : a->n_axes;
    for (int k = 0; k < n; k++) {
        int ax = k;
        if (a->n_axes >= 0) OT_TRY(ot_axis_normalize(a->axes[k], x.rank, &ax));
        sizes[k] = x.dims[ax];
    }
    int shape, dx;
    OT_TRY(ot_grad_const_i64(g, n, sizes, &shape));
    const ot_grad_attr at = {.name = "axes", .type = OT_ATTR_INTS, .ints = a->axes, .n = a->n_axes};
    int in[2] = {dy, shape};
    OT_TRY(ot_grad_emit(g, "CenterCropPad", "", 2, in, 1, &dx, a->n_axes >= 0 ? 1 : 0, &at));
    return ot_grad_set(g, 0, dx);
}

/* ---- grad ops ---------------------------------------------------------------------------- */

/* dy must have the forward output's shape `want`; dx takes x's. */
static ot_status grad_io(ot_kctx *c, int rank, const int64_t *want) {
    OT_TRY(ot_misc_check_float(c, 0));
    OT_TRY(ot_misc_check_float(c, 1));
    const ot_tensor *dy = c->in[0], *x = c->in[1];
    if (dy->dtype != x->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "dy is %s, x %s", ot_dtype_name(dy->dtype), ot_dtype_name(x->dtype));
    OT_TRY(ot_check_dy(c, rank, want));
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

static void request_staging(const ot_tensor *x, int buffers) {
    if (x->dtype == OT_FLOAT16 || x->dtype == OT_BFLOAT16)
        ot_workspace_request((size_t)buffers * ((size_t)ot_tensor_numel(x) * sizeof(float) + 32));
}

ot_status ot_cumprod_grad_infer(ot_kctx *c) {
    static const ot_dtype axis_types[] = {OT_INT32, OT_INT64, OT_UNDEFINED};
    const ot_tensor *x = c->in[1];
    OT_TRY(ot_check_dtype(c, 2, axis_types));
    OT_TRY(grad_io(c, x->rank, x->dims));
    if (x->rank == 0) return ot_op_error(c, OT_ERR_SHAPE, "x must have rank >= 1");
    request_staging(x, 3);
    return OT_OK;
}

ot_status ot_cumprod_grad_cpu(ot_kctx *c) {
    const ot_cumprod_attrs *a = c->attrs;
    int axis;
    OT_TRY(ot_cumulative_axis(c, c->in[1], c->in[2], &axis));
    return ot_cpu_cumprod_grad(c->in[0], c->in[1], axis, a->exclusive, a->reverse, c->out[0]);
}

ot_status ot_lrn_grad_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[1];
    if (x->rank < 2) return ot_op_error(c, OT_ERR_SHAPE, "x must be (N, C, ...), got rank %d", x->rank);
    OT_TRY(grad_io(c, x->rank, x->dims));
    ot_workspace_request(ot_cpu_lrn_grad_workspace(x->dtype, ot_tensor_numel(x)));
    return OT_OK;
}

ot_status ot_lrn_grad_cpu(ot_kctx *c) {
    const ot_lrn_params p = ot_misc_lrn_params(c->attrs);
    return ot_cpu_lrn_grad(c->in[0], c->in[1], &p, c->out[0]);
}

ot_status ot_det_grad_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[1];
    if (x->rank < 2 || x->dims[x->rank - 1] != x->dims[x->rank - 2])
        return ot_op_error(c, OT_ERR_SHAPE, "x must be (..., M, M)");
    OT_TRY(grad_io(c, x->rank - 2, x->dims));
    int64_t batch = 1;
    for (int d = 0; d < x->rank - 2; d++) batch *= x->dims[d];
    ot_workspace_request(ot_cpu_det_workspace(x->dtype, batch, x->dims[x->rank - 1], true));
    return OT_OK;
}

ot_status ot_det_grad_cpu(ot_kctx *c) { return ot_cpu_det_grad(c->in[0], c->in[1], c->out[0]); }

ot_status ot_swish_grad_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[1];
    OT_TRY(grad_io(c, x->rank, x->dims));
    request_staging(x, 3);
    return OT_OK;
}

ot_status ot_swish_grad_cpu(ot_kctx *c) {
    return ot_cpu_swish_grad(c->in[0], c->in[1], ((const ot_swish_attrs *)c->attrs)->alpha, c->out[0]);
}
