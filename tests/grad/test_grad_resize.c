/* Gradient checks for the resize family: Resize (every mode, coordinate
 * mode, nearest mode, cubic_coeff_a, exclude_outside, antialias, axes,
 * keep_aspect_ratio_policy, tf_crop_and_resize's roi; up- and downsampling;
 * scales and sizes; the opset 10, 11, 13, 18, 19 forms), Upsample (7
 * attribute, 9 input), GridSample (nearest / linear / cubic, every padding
 * mode, align_corners, 1-D to 3-D, gradients w.r.t. X and grid; opset 16
 * and 20) and AffineGrid (2-D, 3-D). */
#include "gradcheck.h"

/* A differentiable input with values in [lo, hi]. */
#define DR(lo_, hi_, ...) \
    {GC_DIFF, 0, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}, NULL, NULL, lo_, hi_}
/* 1-D constant inputs: int64, float32, and an empty float32 (an absent roi / scales). */
#define CF(...) {GC_CONST, OT_FLOAT, 1, {sizeof((double[]){__VA_ARGS__}) / sizeof(double)}, NULL, \
                 (const double[]){__VA_ARGS__}}
#define CE {GC_CONST, OT_FLOAT, 1, {0}}
#define NONE {GC_ABSENT}

/* Resize(X, roi, scales, sizes) at opset os. */
#define RS(nm, os, x, roi, sc, sz, na, ...) {.name = nm, .op = "Resize", .opset = os, .n_in = 4, .n_out = 1, \
                                             .in = {x, roi, sc, sz}, .n_attrs = na, .attrs = {__VA_ARGS__}}
#define GS(nm, os, x, g, na, ...) {.name = nm, .op = "GridSample", .opset = os, .n_in = 2, .n_out = 1, \
                                   .in = {x, g}, .n_attrs = na, .attrs = {__VA_ARGS__}}

static const gc_case cases[] = {
    /* nearest */
    RS("nearest_up_scales", 19, D(1, 2, 3, 4), CE, CF(1, 1, 2, 1.5), NONE, 0, AI("", 0)),
    RS("nearest_down_sizes_floor", 19, D(1, 1, 5, 7), NONE, NONE, CI(1, 1, 3, 4), 1, AS("nearest_mode", "floor")),
    RS("nearest_ceil_align_corners", 19, D(2, 1, 3, 4), NONE, CF(1, 1, 1.7, 0.8), NONE, 2,
       AS("nearest_mode", "ceil"), AS("coordinate_transformation_mode", "align_corners")),
    RS("nearest_prefer_ceil_asymmetric", 19, D(1, 2, 4, 3), NONE, NONE, CI(1, 2, 7, 5), 2,
       AS("nearest_mode", "round_prefer_ceil"), AS("coordinate_transformation_mode", "asymmetric")),
    /* linear: coordinate modes, up and down */
    RS("linear_up_half_pixel", 19, D(1, 2, 3, 4), CE, CF(1, 1, 2, 1.5), NONE, 1, AS("mode", "linear")),
    RS("linear_down_half_pixel", 19, D(1, 1, 7, 6), CE, CF(1, 1, 0.5, 0.6), NONE, 1, AS("mode", "linear")),
    RS("linear_align_corners_sizes", 19, D(1, 2, 4, 5), NONE, NONE, CI(1, 2, 7, 3), 2, AS("mode", "linear"),
       AS("coordinate_transformation_mode", "align_corners")),
    RS("linear_asymmetric", 19, D(2, 1, 3, 5), NONE, CF(1, 1, 2.5, 0.7), NONE, 2, AS("mode", "linear"),
       AS("coordinate_transformation_mode", "asymmetric")),
    RS("linear_pytorch_half_pixel_to_1", 19, D(1, 2, 4, 5), NONE, NONE, CI(1, 2, 1, 8), 2, AS("mode", "linear"),
       AS("coordinate_transformation_mode", "pytorch_half_pixel")),
    RS("linear_half_pixel_symmetric", 19, D(1, 1, 5, 4), NONE, CF(1, 1, 1.3, 0.7), NONE, 2, AS("mode", "linear"),
       AS("coordinate_transformation_mode", "half_pixel_symmetric")),
    RS("linear_antialias_down", 19, D(1, 2, 9, 8), NONE, CF(1, 1, 0.4, 0.6), NONE, 2, AS("mode", "linear"),
       AI("antialias", 1)),
    RS("linear_3d_trilinear", 19, D(1, 3, 4, 5), NONE, CF(1, 1.5, 0.5, 2), NONE, 1, AS("mode", "linear")),
    /* cubic */
    RS("cubic_up", 19, D(1, 1, 4, 4), NONE, CF(1, 1, 2, 1.5), NONE, 1, AS("mode", "cubic")),
    RS("cubic_a_exclude_outside", 19, D(1, 2, 5, 4), NONE, CF(1, 1, 1.6, 0.8), NONE, 3, AS("mode", "cubic"),
       AF("cubic_coeff_a", -0.5f), AI("exclude_outside", 1)),
    RS("cubic_antialias_down", 19, D(1, 1, 9, 10), NONE, NONE, CI(1, 1, 4, 3), 2, AS("mode", "cubic"),
       AI("antialias", 1)),
    RS("cubic_align_corners", 19, D(1, 1, 4, 5), NONE, CF(1, 1, 1.5, 0.6), NONE, 2, AS("mode", "cubic"),
       AS("coordinate_transformation_mode", "align_corners")),
    /* tf_crop_and_resize: extrapolated outputs carry no gradient */
    RS("tf_crop_and_resize_linear", 19, D(1, 1, 5, 6), CF(0, 0, 0.2, -0.1, 1, 1, 0.8, 1.3), NONE, CI(1, 1, 4, 5), 3,
       AS("mode", "linear"), AS("coordinate_transformation_mode", "tf_crop_and_resize"), AF("extrapolation_value", 2)),
    RS("tf_crop_and_resize_nearest_axes", 19, D(1, 2, 5, 6), CF(0.1, -0.2, 0.9, 1.1), NONE, CI(3, 4), 3,
       AS("coordinate_transformation_mode", "tf_crop_and_resize"), AL("axes", 2, 3), AF("extrapolation_value", -1)),
    /* axes and keep_aspect_ratio_policy (opset 18) */
    RS("axes_reversed_scales", 18, D(2, 3, 4, 5), NONE, CF(0.6, 1.5), NONE, 2, AS("mode", "linear"), AL("axes", 3, -2)),
    RS("not_larger", 18, D(1, 2, 6, 4), NONE, NONE, CI(5, 7), 3, AS("mode", "linear"), AL("axes", 2, 3),
       AS("keep_aspect_ratio_policy", "not_larger")),
    RS("not_smaller_cubic", 18, D(1, 1, 6, 4), NONE, NONE, CI(5, 7), 3, AS("mode", "cubic"), AL("axes", 2, 3),
       AS("keep_aspect_ratio_policy", "not_smaller")),
    /* older forms */
    RS("opset13_sizes_linear", 13, D(1, 2, 3, 5), NONE, NONE, CI(1, 2, 5, 3), 1, AS("mode", "linear")),
    RS("opset11_roi_scales", 11, D(1, 1, 4, 3), CE, CF(1, 1, 1.5, 2), NONE, 1, AS("mode", "cubic")),
    RS("opset11_tf_half_pixel_for_nn", 11, D(1, 1, 4, 3), CE, CF(1, 1, 1.5, 0.7), NONE, 1,
       AS("coordinate_transformation_mode", "tf_half_pixel_for_nn")),
    {.name = "resize10_linear", .op = "Resize", .opset = 10, .n_in = 2, .n_out = 1,
     .in = {D(1, 1, 3, 5), CF(1, 1, 2, 0.6)}, .n_attrs = 1, .attrs = {AS("mode", "linear")}},
    {.name = "resize10_nearest_down", .op = "Resize", .opset = 10, .n_in = 2, .n_out = 1,
     .in = {D(1, 1, 3, 7), CF(1, 1, 1.5, 0.6)}},
    {.name = "upsample9_linear", .op = "Upsample", .opset = 9, .n_in = 2, .n_out = 1,
     .in = {D(1, 2, 3, 4), CF(1, 1, 2, 1.5)}, .n_attrs = 1, .attrs = {AS("mode", "linear")}},
    {.name = "upsample7_nearest_attr", .op = "Upsample", .opset = 7, .n_in = 1, .n_out = 1, .in = {D(1, 2, 3, 2)},
     .n_attrs = 1, .attrs = {{.name = "scales", .type = OT_ATTR_FLOATS, .floats = (const float[]){1, 1, 2, 3}, .n = 4}}},

    /* GridSample: X and grid (coordinates partly outside [-1, 1] for the paddings) */
    GS("gs_linear_zeros", 20, D(1, 2, 4, 5), DR(-1.2, 1.2, 1, 3, 4, 2), 0, AI("", 0)),
    GS("gs_linear_border_ac", 20, D(2, 1, 4, 3), DR(-1.4, 1.4, 2, 3, 3, 2), 2, AS("padding_mode", "border"),
       AI("align_corners", 1)),
    GS("gs_linear_reflection", 20, D(1, 2, 3, 5), DR(-2.5, 2.5, 1, 4, 3, 2), 1, AS("padding_mode", "reflection")),
    GS("gs_linear_reflection_ac", 20, D(1, 1, 4, 4), DR(-2.5, 2.5, 1, 3, 3, 2), 2, AS("padding_mode", "reflection"),
       AI("align_corners", 1)),
    GS("gs_nearest_zeros", 20, D(1, 2, 4, 5), DR(-1.2, 1.2, 1, 3, 3, 2), 1, AS("mode", "nearest")),
    GS("gs_nearest_reflection", 20, D(1, 1, 4, 3), DR(-2, 2, 1, 3, 2, 2), 2, AS("mode", "nearest"),
       AS("padding_mode", "reflection")),
    GS("gs_cubic_zeros", 20, D(1, 2, 5, 4), DR(-1.1, 1.1, 1, 3, 3, 2), 1, AS("mode", "cubic")),
    GS("gs_cubic_border_ac", 20, D(1, 1, 4, 5), DR(-1.3, 1.3, 1, 2, 3, 2), 3, AS("mode", "cubic"),
       AS("padding_mode", "border"), AI("align_corners", 1)),
    GS("gs_cubic_reflection", 20, D(1, 1, 5, 4), DR(-2, 2, 1, 3, 2, 2), 2, AS("mode", "cubic"),
       AS("padding_mode", "reflection")),
    GS("gs_volumetric_linear", 20, D(1, 2, 3, 4, 3), DR(-1.1, 1.1, 1, 2, 3, 2, 3), 0, AI("", 0)),
    GS("gs_volumetric_cubic_border", 20, D(1, 1, 3, 3, 4), DR(-1.2, 1.2, 1, 2, 2, 2, 3), 2, AS("mode", "cubic"),
       AS("padding_mode", "border")),
    GS("gs_1d_linear_reflection_ac", 20, D(2, 2, 6), DR(-2, 2, 2, 5, 1), 2, AS("padding_mode", "reflection"),
       AI("align_corners", 1)),
    GS("gs_opset16_bilinear", 16, D(2, 2, 3, 4), DR(-1, 1, 2, 2, 3, 2), 1, AS("mode", "bilinear")),
    GS("gs_opset16_bicubic_ac", 16, D(1, 1, 4, 4), DR(-1, 1, 1, 3, 2, 2), 2, AS("mode", "bicubic"),
       AI("align_corners", 1)),

    /* AffineGrid */
    {.name = "affine_2d", .op = "AffineGrid", .opset = 20, .n_in = 2, .n_out = 1, .in = {D(2, 2, 3), CI(2, 3, 4, 5)}},
    {.name = "affine_2d_ac", .op = "AffineGrid", .opset = 20, .n_in = 2, .n_out = 1, .in = {D(1, 2, 3), CI(1, 1, 3, 1)},
     .n_attrs = 1, .attrs = {AI("align_corners", 1)}},
    {.name = "affine_3d_ac", .op = "AffineGrid", .opset = 20, .n_in = 2, .n_out = 1,
     .in = {D(2, 3, 4), CI(2, 1, 2, 3, 4)}, .n_attrs = 1, .attrs = {AI("align_corners", 1)}},
    {.name = "affine_3d", .op = "AffineGrid", .opset = 20, .n_in = 2, .n_out = 1, .in = {D(1, 3, 4), CI(1, 2, 3, 2, 2)}},
};

int main(void) { return gc_run_all(cases, (int)(sizeof cases / sizeof cases[0])); }
