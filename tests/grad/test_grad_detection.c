/* Gradient checks for the detection family: RoiAlign w.r.t. X (avg and max,
 * half_pixel and output_half_pixel, fixed and adaptive sampling,
 * spatial_scale, rois sampling outside the map, several images; opsets 10,
 * 16, 22), Col2Im w.r.t. its input (1-D to 3-D, pads, strides, dilations)
 * and DeformConv w.r.t. X, W, offset, mask and B (1-D, 2-D, 3-D, groups,
 * offset groups, strides, dilations, pads, offsets reaching into the zero
 * padding, subsets of the inputs differentiated; opsets 19 and 22). */
#include <stdio.h>

#include "gradcheck.h"

/* Offsets: wide enough that some samples leave the image. */
#define OFF(...) {GC_DIFF, 0, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}, NULL, NULL, -2.5, 2.5}
/* rois (R, 4) as float64 constants */
#define ROIS(R, ...) {GC_CONST, OT_DOUBLE, 2, {R, 4}, NULL, (const double[]){__VA_ARGS__}}

#define ROI(nm, os, x, rois, bi, na, ...) {.name = nm, .op = "RoiAlign", .opset = os, .n_in = 3, .n_out = 1, \
                                           .in = {x, rois, bi}, .n_attrs = na, .attrs = {__VA_ARGS__}}
#define C2I(nm, x, img, blk, na, ...) {.name = nm, .op = "Col2Im", .opset = 18, .n_in = 3, .n_out = 1, \
                                       .in = {x, img, blk}, .n_attrs = na, .attrs = {__VA_ARGS__}}

static const gc_case cases[] = {
    /* RoiAlign */
    ROI("roialign_avg_half_pixel_sr2", 16, D(1, 2, 6, 7),
        ROIS(3, 0.3, 1.2, 4.7, 5.1, 1.6, 0.4, 6.2, 3.3, -0.7, 2.1, 2.9, 6.6), CI(0, 0, 0), 4,
        AI("output_height", 3), AI("output_width", 2), AI("sampling_ratio", 2), AS("mode", "avg")),
    ROI("roialign_max_output_half_pixel_adaptive_scale", 22, D(2, 1, 8, 8),
        ROIS(3, 1.3, 2.6, 13.1, 9.4, 0.2, 0.7, 7.3, 15.2, 4.4, 3.3, 9.9, 6.1), CI(1, 0, 1), 6,
        AI("output_height", 2), AI("output_width", 3), AI("sampling_ratio", 0), AF("spatial_scale", 0.5f),
        AS("mode", "max"), AS("coordinate_transformation_mode", "output_half_pixel")),
    ROI("roialign_opset10_avg_adaptive", 10, D(2, 2, 5, 6),
        ROIS(2, 0.6, 0.3, 4.4, 3.7, 1.1, 1.9, 1.4, 2.2), CI(1, 0), 2, AI("output_height", 2), AI("output_width", 2)),
    ROI("roialign_max_half_pixel_sr3", 22, D(1, 3, 7, 5),
        ROIS(2, 0.4, 0.8, 3.9, 6.3, -1.3, -0.6, 5.8, 7.9), CI(0, 0), 5,
        AI("output_height", 2), AI("output_width", 2), AI("sampling_ratio", 3), AS("mode", "max"),
        AS("coordinate_transformation_mode", "half_pixel")),
    ROI("roialign_avg_default_attrs_opset22", 22, D(1, 1, 4, 4), ROIS(1, 0.5, 0.5, 3.2, 2.7), CI(0), 0, AI("", 0)),

    /* Col2Im */
    C2I("col2im_basic", D(1, 5, 5), CI(5, 5), CI(1, 5), 0, AI("", 0)),
    C2I("col2im_dilations_pads_strides", D(2, 18, 21), CI(6, 7), CI(2, 3), 3, AL("dilations", 2, 1),
        AL("pads", 1, 0, 2, 1), AL("strides", 1, 2)),
    C2I("col2im_3d", D(1, 10, 12), CI(3, 4, 5), CI(1, 1, 5), 0, AI("", 0)),
    C2I("col2im_1d_strided", D(2, 6, 4), CI(9), CI(3), 1, AL("strides", 2)),
    C2I("col2im_overlapping_strides", D(1, 9, 4), CI(5, 5), CI(3, 3), 1, AL("strides", 2, 2)),

    /* DeformConv */
    {.name = "deform_2d_basic", .op = "DeformConv", .opset = 19, .n_in = 3, .n_out = 1,
     .in = {D(1, 1, 3, 3), D(1, 1, 2, 2), OFF(1, 8, 2, 2)}, .n_attrs = 1, .attrs = {AL("kernel_shape", 2, 2)}},
    {.name = "deform_2d_groups_strides_dilations_pads_mask_bias", .op = "DeformConv", .opset = 22, .n_in = 5,
     .n_out = 1, .in = {D(2, 4, 5, 6), D(6, 2, 3, 2), OFF(2, 24, 3, 5), D(6), D(2, 12, 3, 5)}, .n_attrs = 5,
     .attrs = {AI("group", 2), AI("offset_group", 2), AL("strides", 2, 1), AL("dilations", 1, 2),
               AL("pads", 1, 0, 1, 1)}},
    {.name = "deform_1d_mask_bias", .op = "DeformConv", .opset = 19, .n_in = 5, .n_out = 1,
     .in = {D(2, 2, 7), D(3, 2, 3), OFF(2, 3, 4), D(3), D(2, 3, 4)}, .n_attrs = 2,
     .attrs = {AL("pads", 1, 1), AL("strides", 2)}},
    {.name = "deform_3d_group2_mask", .op = "DeformConv", .opset = 22, .n_in = 5, .n_out = 1,
     .in = {D(1, 2, 3, 4, 3), D(2, 1, 2, 2, 2), OFF(1, 24, 2, 3, 2), {GC_ABSENT}, D(1, 8, 2, 3, 2)}, .n_attrs = 1,
     .attrs = {AI("group", 2)}},
    {.name = "deform_frozen_x_w_offset_only", .op = "DeformConv", .opset = 22, .n_in = 4, .n_out = 1,
     .in = {ND(1, 3, 5, 4), D(2, 3, 2, 2), OFF(1, 24, 4, 3), ND(2)}, .n_attrs = 1, .attrs = {AI("offset_group", 3)}},
    {.name = "deform_mask_only", .op = "DeformConv", .opset = 19, .n_in = 5, .n_out = 1,
     .in = {ND(1, 2, 4, 4), ND(2, 2, 2, 2), ND(1, 8, 3, 3), {GC_ABSENT}, D(1, 4, 3, 3)}, .n_attrs = 0,
     .attrs = {AI("", 0)}},
};

int main(void) { return gc_run_all(cases, sizeof cases / sizeof cases[0]); }
