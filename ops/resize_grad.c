/* Gradient rules of the resize family.  Each is one backward op of the
 * ai.onnxtrain domain (defined in resize.c / resize_grid.c):
 *  - Resize, Upsample: dX = ResizeGrad(dY, roi, scales, sizes), the forward's
 *    resolved attributes plus X's shape; the backward op resolves the same
 *    geometry from the same inputs at run time, so it works whether or not
 *    they are compile-time constants.  roi / scales / sizes get no gradient;
 *  - GridSample: dX = GridSampleGradX(grid, dY), dgrid =
 *    GridSampleGradGrid(X, grid, dY) (zero for nearest), each only when needed;
 *  - AffineGrid: dtheta = AffineGridGrad(dgrid). */
#include <string.h>

#include "resize_ops.h"

ot_status ot_resize_grad_rule(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0), dx;
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    const ot_resize_attrs a = *(const ot_resize_attrs *)ot_grad_attrs(g);
    const ot_grad_shape xs = ot_grad_shape_of(g, ot_grad_x(g, 0));
    ot_grad_attr at[12];
    int k = 0;
    at[k++] = (ot_grad_attr){.name = "mode", .type = OT_ATTR_STRING, .s = ot_resize_mode_name(a.mode)};
    at[k++] = (ot_grad_attr){.name = "coordinate_transformation_mode", .type = OT_ATTR_STRING,
                             .s = ot_resize_coord_name(a.coord)};
    at[k++] = (ot_grad_attr){.name = "nearest_mode", .type = OT_ATTR_STRING, .s = ot_resize_nearest_name(a.nearest)};
    at[k++] = (ot_grad_attr){.name = "cubic_coeff_a", .type = OT_ATTR_FLOAT, .f = a.cubic_a};
    at[k++] = (ot_grad_attr){.name = "exclude_outside", .type = OT_ATTR_INT, .i = a.exclude_outside};
    at[k++] = (ot_grad_attr){.name = "antialias", .type = OT_ATTR_INT, .i = a.antialias};
    at[k++] = (ot_grad_attr){.name = "keep_aspect_ratio_policy", .type = OT_ATTR_STRING,
                             .s = ot_resize_policy_name(a.policy)};
    at[k++] = (ot_grad_attr){.name = "input_shape", .type = OT_ATTR_INTS, .ints = xs.dims, .n = xs.rank};
    if (a.n_axes >= 0) at[k++] = (ot_grad_attr){.name = "axes", .type = OT_ATTR_INTS, .ints = a.axes, .n = a.n_axes};
    int in[4] = {dy, -1, -1, -1}, n_in = 1;
    if (a.form == OT_RESIZE_FORM_ATTR) {
        at[k++] = (ot_grad_attr){.name = "scales", .type = OT_ATTR_FLOATS, .floats = a.scales, .n = a.n_scales};
    } else if (a.form == OT_RESIZE_FORM_SCALES) { /* (X, scales) -> ResizeGrad's scales slot */
        in[2] = ot_grad_x(g, 1);
        n_in = 3;
    } else {
        for (int i = 1; i < 4; i++)
            if ((in[i] = ot_grad_x(g, i)) >= 0) n_in = i + 1;
    }
    OT_TRY(ot_grad_emit(g, "ResizeGrad", OT_DOMAIN_TRAIN, n_in, in, 1, &dx, k, at));
    return ot_grad_set(g, 0, dx);
}

ot_status ot_grid_sample_grad_rule(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0), x = ot_grad_x(g, 0), grid = ot_grad_x(g, 1);
    if (dy < 0) return OT_OK;
    const ot_grid_attrs a = *(const ot_grid_attrs *)ot_grad_attrs(g);
    ot_grad_attr at[4] = {
        {.name = "mode", .type = OT_ATTR_STRING, .s = ot_grid_mode_name(a.mode)},
        {.name = "padding_mode", .type = OT_ATTR_STRING, .s = ot_grid_padding_name(a.padding)},
        {.name = "align_corners", .type = OT_ATTR_INT, .i = a.align_corners},
    };
    if (ot_grad_needs(g, 0)) {
        const ot_grad_shape xs = ot_grad_shape_of(g, x);
        int in[2] = {grid, dy}, dx;
        at[3] = (ot_grad_attr){.name = "input_shape", .type = OT_ATTR_INTS, .ints = xs.dims, .n = xs.rank};
        OT_TRY(ot_grad_emit(g, "GridSampleGradX", OT_DOMAIN_TRAIN, 2, in, 1, &dx, 4, at));
        OT_TRY(ot_grad_set(g, 0, dx));
    }
    if (ot_grad_needs(g, 1)) {
        int in[3] = {x, grid, dy}, dgrid;
        OT_TRY(ot_grad_emit(g, "GridSampleGradGrid", OT_DOMAIN_TRAIN, 3, in, 1, &dgrid, 3, at));
        OT_TRY(ot_grad_set(g, 1, dgrid));
    }
    return OT_OK;
}

ot_status ot_affine_grid_grad_rule(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0), dtheta;
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    const ot_grid_attrs *a = ot_grad_attrs(g);
    ot_grad_attr at = {.name = "align_corners", .type = OT_ATTR_INT, .i = a->align_corners};
    OT_TRY(ot_grad_emit(g, "AffineGridGrad", OT_DOMAIN_TRAIN, 1, &dy, 1, &dtheta, 1, &at));
    return ot_grad_set(g, 0, dtheta);
}
