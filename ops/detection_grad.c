/* Gradients of the detection family: the rules, and the ai.onnxtrain ops
 * they emit (rows in ops/detection.c's table).
 *   RoiAlign:   dX = RoiAlignGrad(dY, rois, batch_indices [, X for max mode]);
 *               rois and batch_indices get none (the op row's no_grad_inputs).
 *   Col2Im:     dinput = Im2Col(dY, block_shape): im2col is col2im's adjoint
 *               (the convolution kernels' im2col, kernels/cpu/conv.h).
 *   DeformConv: every needed gradient of X, W, offset, B, mask from one
 *               DeformConvGrad(dY, X, W, offset, , mask?), its `wrt`
 *               attribute naming which (its outputs, in that order).
 * NonMaxSuppression's output is integer: nothing flows through it. */
#include <string.h>

#include "detection_ops.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/matmul.h"
#include "src/runtime/workspace.h"

#define MAXD OT_DET_MAXD

static const ot_dtype float_types[] = {OT_FLOAT16, OT_BFLOAT16, OT_FLOAT, OT_DOUBLE, OT_UNDEFINED};

/* ---- RoiAlignGrad(dY, rois, batch_indices, X?) -> dX ----------------------------------
 * dY (R, C, output_height, output_width); dX shaped input_shape (N, C, H, W).
 * X (that shape) is needed in max mode only, to find each bin's winner. */

ot_status ot_roi_align_grad_infer(ot_kctx *c) {
    const ot_roi_align_attrs *a = c->attrs;
    const ot_tensor *dy = ot_in(c, 0), *x = ot_in(c, 3);
    OT_TRY(ot_check_dtype(c, 0, float_types));
    int64_t R;
    OT_TRY(ot_roi_align_check_rois(c, 1, dy->dtype, &R));
    const int64_t *xs = a->input_shape;
    int64_t want[4] = {R, xs[1], a->out_h, a->out_w};
    OT_TRY(ot_check_dy(c, 4, want));
    if (a->max_mode && !x) return ot_op_error(c, OT_ERR_SHAPE, "max mode needs the forward's X (input 3)");
    if (x && (x->dtype != dy->dtype || !ot_shape_equal(x->rank, x->dims, 4, xs)))
        return ot_op_error(c, OT_ERR_SHAPE, "X must have dY's type and the shape input_shape");
    ot_set_out(c, 0, dy->dtype, 4, xs);
    return OT_OK;
}

ot_status ot_roi_align_grad_cpu(ot_kctx *c) {
    const ot_roi_align_attrs *a = c->attrs;
    const ot_tensor *bi = ot_in(c, 2);
    OT_TRY(ot_roi_align_check_batch(c, bi, a->input_shape[0]));
    ot_roi_align_params p = ot_roi_align_params_of(a, a->input_shape, bi->dims[0]);
    ot_det_stage s;
    OT_TRY(ot_det_stage_begin(c, &s, 0xb));
    const void *x = a->max_mode ? s.in[3] : NULL;
    if (ot_in(c, 0)->dtype == OT_DOUBLE) ot_roi_align_grad_f64(&p, s.in[0], x, s.in[1], bi->data, s.out[0]);
    else ot_roi_align_grad_f32(&p, s.in[0], x, s.in[1], bi->data, s.out[0]);
    return ot_det_stage_end(c, &s, OT_OK);
}

/* ---- Im2Col(dY, block_shape) -> (N, C * prod(block_shape), L) ---------------------------
 * dY (N, C, image...); the attributes are Col2Im's. */

static ot_status im2col_shapes(ot_kctx *c, ot_conv_geom *g) {
    const ot_tensor *x = ot_in(c, 0);
    OT_TRY(ot_check_dtype(c, 0, float_types));
    OT_TRY(ot_need_value(c, 1));
    int64_t block[MAXD];
    int n;
    OT_TRY(ot_col2im_dims(c, 1, "block_shape", block, &n));
    if (x->rank != n + 2)
        return ot_op_error(c, OT_ERR_SHAPE, "input has rank %d; block_shape gives %d spatial dims", x->rank, n);
    return ot_col2im_geometry(c, n, x->dims + 2, block, g);
}

ot_status ot_im2col_infer(ot_kctx *c) {
    ot_conv_geom g;
    OT_TRY(im2col_shapes(c, &g));
    const ot_tensor *x = ot_in(c, 0);
    int64_t dims[3] = {x->dims[0], x->dims[1] * g.kernel_size, g.col_size}, numel;
    OT_TRY(ot_shape_numel(3, dims, &numel));
    ot_set_out(c, 0, x->dtype, 3, dims);
    return OT_OK;
}

ot_status ot_im2col_cpu(ot_kctx *c) {
    ot_conv_geom g;
    OT_TRY(im2col_shapes(c, &g));
    const ot_tensor *x = ot_in(c, 0);
    int64_t N = x->dims[0], C = x->dims[1], in_step = C * g.img_size, out_step = C * g.kernel_size * g.col_size;
    ot_det_stage s;
    OT_TRY(ot_det_stage_begin(c, &s, 0x1));
    for (int64_t b = 0; b < N && out_step; b++) {
        if (x->dtype == OT_DOUBLE) ot_im2col_f64(&g, C, (const double *)s.in[0] + b * in_step, (double *)s.out[0] + b * out_step);
        else ot_im2col_f32(&g, C, (const float *)s.in[0] + b * in_step, (float *)s.out[0] + b * out_step);
    }
    return ot_det_stage_end(c, &s, OT_OK);
}

/* ---- DeformConvGrad(dY, X, W, offset, B (unused, empty), mask?) ---------------------------
 * dY (N, M, out...); outputs: the gradients of the forward inputs listed in
 * wrt (0 X, 1 W, 2 offset, 3 B, 4 mask), each shaped like that input. */

ot_status ot_deform_grad_infer(ot_kctx *c) {
    const ot_deform_attrs *a = c->attrs;
    ot_deform_geom g;
    OT_TRY(ot_deform_geometry(c, 1, &g));
    const ot_tensor *dy = ot_in(c, 0);
    if (dy->dtype != ot_in(c, 1)->dtype) return ot_op_error(c, OT_ERR_TYPE, "dY and X must have the same type");
    int64_t want[OT_MAX_RANK] = {g.N, g.M};
    memcpy(want + 2, g.conv.col, sizeof(int64_t) * (size_t)g.conv.n);
    OT_TRY(ot_check_dy(c, g.conv.n + 2, want));
    if (c->n_out != a->n_wrt)
        return ot_op_error(c, OT_ERR_SHAPE, "%d outputs, but wrt lists %d gradients", c->n_out, a->n_wrt);
    for (int i = 0; i < a->n_wrt; i++) {
        int k = (int)a->wrt[i];
        if (k == 3) {
            ot_set_out(c, i, dy->dtype, 1, &g.M);
            continue;
        }
        const ot_tensor *t = ot_in(c, 1 + k);
        if (!t) return ot_op_error(c, OT_ERR_SHAPE, "wrt lists input %d (mask), which is absent", k);
        ot_set_out(c, i, dy->dtype, t->rank, t->dims);
    }
    ot_workspace_request(ot_deform_conv_scratch(dy->dtype == OT_DOUBLE ? OT_DOUBLE : OT_FLOAT, &g));
    return OT_OK;
}

ot_status ot_deform_grad_cpu(ot_kctx *c) {
    const ot_deform_attrs *a = c->attrs;
    ot_deform_geom g;
    OT_TRY(ot_deform_geometry(c, 1, &g));
    ot_det_stage s;
    OT_TRY(ot_det_stage_begin(c, &s, 0x2f));
    void *d[5] = {0};
    for (int i = 0; i < a->n_wrt; i++) d[a->wrt[i]] = s.out[i];
    ot_dtype dt = ot_in(c, 0)->dtype == OT_DOUBLE ? OT_DOUBLE : OT_FLOAT;
    ot_status st = ot_deform_conv_backward(dt, &g, s.in[0], s.in[1], s.in[2], s.in[3], c->n_in > 5 ? s.in[5] : NULL,
                                           d[0], d[1], d[2], d[4], d[3]);
    return ot_det_stage_end(c, &s, st);
}

/* ---- the rules ------------------------------------------------------------------------------ */

ot_status ot_roi_align_grad(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0), dx;
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    const ot_roi_align_attrs a = *(const ot_roi_align_attrs *)ot_grad_attrs(g);
    const ot_grad_shape xs = ot_grad_shape_of(g, ot_grad_x(g, 0));
    ot_grad_attr at[7] = {
        {.name = "mode", .type = OT_ATTR_STRING, .s = a.max_mode ? "max" : "avg"},
        {.name = "coordinate_transformation_mode", .type = OT_ATTR_STRING,
         .s = a.half_pixel ? "half_pixel" : "output_half_pixel"},
        {.name = "output_height", .type = OT_ATTR_INT, .i = a.out_h},
        {.name = "output_width", .type = OT_ATTR_INT, .i = a.out_w},
        {.name = "sampling_ratio", .type = OT_ATTR_INT, .i = a.sampling_ratio},
        {.name = "spatial_scale", .type = OT_ATTR_FLOAT, .f = a.spatial_scale},
        {.name = "input_shape", .type = OT_ATTR_INTS, .ints = xs.dims, .n = 4},
    };
    int in[4] = {dy, ot_grad_x(g, 1), ot_grad_x(g, 2), ot_grad_x(g, 0)};
    OT_TRY(ot_grad_emit(g, "RoiAlignGrad", OT_DOMAIN_TRAIN, a.max_mode ? 4 : 3, in, 1, &dx, 7, at));
    return ot_grad_set(g, 0, dx);
}

ot_status ot_col2im_grad(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0), dx;
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    const ot_col2im_attrs a = *(const ot_col2im_attrs *)ot_grad_attrs(g);
    ot_grad_attr at[3];
    int k = 0;
    if (a.n_dilations >= 0) at[k++] = (ot_grad_attr){.name = "dilations", .type = OT_ATTR_INTS, .ints = a.dilations, .n = a.n_dilations};
    if (a.n_pads >= 0) at[k++] = (ot_grad_attr){.name = "pads", .type = OT_ATTR_INTS, .ints = a.pads, .n = a.n_pads};
    if (a.n_strides >= 0) at[k++] = (ot_grad_attr){.name = "strides", .type = OT_ATTR_INTS, .ints = a.strides, .n = a.n_strides};
    int in[2] = {dy, ot_grad_x(g, 2)};
    OT_TRY(ot_grad_emit(g, "Im2Col", OT_DOMAIN_TRAIN, 2, in, 1, &dx, k, at));
    return ot_grad_set(g, 0, dx);
}

ot_status ot_deform_conv_grad(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0);
    if (dy < 0) return OT_OK;
    int64_t wrt[5];
    int n_wrt = 0;
    for (int i = 0; i < 5; i++)
        if (ot_grad_x(g, i) >= 0 && ot_grad_needs(g, i)) wrt[n_wrt++] = i;
    if (!n_wrt) return OT_OK;
    const ot_deform_attrs a = *(const ot_deform_attrs *)ot_grad_attrs(g);
    ot_grad_attr at[7];
    int k = 0;
    at[k++] = (ot_grad_attr){.name = "group", .type = OT_ATTR_INT, .i = a.group};
    at[k++] = (ot_grad_attr){.name = "offset_group", .type = OT_ATTR_INT, .i = a.offset_group};
    at[k++] = (ot_grad_attr){.name = "wrt", .type = OT_ATTR_INTS, .ints = wrt, .n = n_wrt};
    if (a.n_kernel >= 0) at[k++] = (ot_grad_attr){.name = "kernel_shape", .type = OT_ATTR_INTS, .ints = a.kernel, .n = a.n_kernel};
    if (a.n_strides >= 0) at[k++] = (ot_grad_attr){.name = "strides", .type = OT_ATTR_INTS, .ints = a.strides, .n = a.n_strides};
    if (a.n_dilations >= 0)
        at[k++] = (ot_grad_attr){.name = "dilations", .type = OT_ATTR_INTS, .ints = a.dilations, .n = a.n_dilations};
    if (a.n_pads >= 0) at[k++] = (ot_grad_attr){.name = "pads", .type = OT_ATTR_INTS, .ints = a.pads, .n = a.n_pads};
    int mask = ot_grad_x(g, 4);
    int in[6] = {dy, ot_grad_x(g, 0), ot_grad_x(g, 1), ot_grad_x(g, 2), -1, mask};
    int out[5];
    OT_TRY(ot_grad_emit(g, "DeformConvGrad", OT_DOMAIN_TRAIN, mask >= 0 ? 6 : 4, in, n_wrt, out, k, at));
    for (int i = 0; i < n_wrt; i++) OT_TRY(ot_grad_set(g, (int)wrt[i], out[i]));
    return OT_OK;
}
