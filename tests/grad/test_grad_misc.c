/* Gradient checks for the misc family: CumProd (exclusive, reverse, axis
 * forms, zeros in the input), SpaceToDepth and DepthToSpace (opset 1 and
 * 13, DCR and CRD), ReverseSequence (both layouts), LRN (even and odd
 * sizes, beta 0.75 and otherwise, a window wider than C), Det (batched,
 * exactly singular matrices through the cofactor path), Swish (alpha), and
 * CenterCropPad (crop and pad, with and without axes); float32 cases run
 * the float loops of the grad ops. */
#include "gradcheck.h"

#define F32(...) {GC_DIFF, OT_FLOAT, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}}
/* A GC_DIFF input with given values. */
#define DV(vals, ...) {GC_DIFF, 0, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}, NULL, vals}
#define CI32_0(v) {GC_CONST, OT_INT32, 0, {0}, (const int64_t[]){v}}

#define C1(nm, op_, os, x, na, ...) {.name = nm, .op = op_, .opset = os, .n_in = 1, .n_out = 1, .in = {x}, \
                                     .n_attrs = na, .attrs = {__VA_ARGS__}}
#define C2(nm, op_, os, x, y, na, ...) {.name = nm, .op = op_, .opset = os, .n_in = 2, .n_out = 1, .in = {x, y}, \
                                        .n_attrs = na, .attrs = {__VA_ARGS__}}

static const double with_zeros[] = {0.5, 0, 2, 0, -1.5, 1.2};
static const double zeros_2d[] = {0.7, 0, 1.3, -0.4, 0.9, 1.1, 0, 0, 2, 1.5, -1, 0.3};
static const double singular3[] = {1, 2, 3, 2, 4, 6, 1, 0, 1};
static const double rank1_3[] = {1, 2, 3, 2, 4, 6, 3, 6, 9};
static const double zero_col[] = {0, 1, 0, 2, 0, 5, 0, -1};

static const gc_case cases[] = {
    /* CumProd */
    C2("cumprod_1d", "CumProd", 26, D(6), CI0(0), 0, AI("", 0)),
    C2("cumprod_1d_exclusive", "CumProd", 26, D(6), CI0(0), 1, AI("exclusive", 1)),
    C2("cumprod_1d_reverse", "CumProd", 26, D(6), CI0(-1), 1, AI("reverse", 1)),
    C2("cumprod_1d_reverse_exclusive", "CumProd", 26, D(6), CI0(0), 2, AI("reverse", 1), AI("exclusive", 1)),
    C2("cumprod_zeros", "CumProd", 26, DV(with_zeros, 6), CI0(0), 0, AI("", 0)),
    C2("cumprod_zeros_exclusive_reverse", "CumProd", 26, DV(with_zeros, 6), CI0(0), 2, AI("reverse", 1),
       AI("exclusive", 1)),
    C2("cumprod_2d_axis0_zeros", "CumProd", 26, DV(zeros_2d, 4, 3), CI0(0), 0, AI("", 0)),
    C2("cumprod_2d_axis1_int32_axis", "CumProd", 26, DV(zeros_2d, 4, 3), CI32_0(1), 1, AI("exclusive", 1)),
    C2("cumprod_3d_axis_neg2_reverse", "CumProd", 26, D(2, 4, 3), CI0(-2), 1, AI("reverse", 1)),
    {.name = "cumprod_float32", .op = "CumProd", .opset = 26, .n_in = 2, .n_out = 1, .in = {F32(3, 5), CI0(1)},
     .n_attrs = 1, .attrs = {AI("exclusive", 1)}, .rtol = 1e-3, .atol = 1e-4, .h = 1.0 / 64},

    /* SpaceToDepth / DepthToSpace */
    C1("space_to_depth_opset13", "SpaceToDepth", 13, D(2, 2, 4, 6), 1, AI("blocksize", 2)),
    C1("space_to_depth_opset1_bs3", "SpaceToDepth", 7, D(1, 2, 3, 6), 1, AI("blocksize", 3)),
    C1("depth_to_space_opset1", "DepthToSpace", 7, D(2, 8, 2, 3), 1, AI("blocksize", 2)),
    C1("depth_to_space_dcr", "DepthToSpace", 13, D(1, 8, 3, 2), 2, AI("blocksize", 2), AS("mode", "DCR")),
    C1("depth_to_space_crd", "DepthToSpace", 13, D(2, 8, 2, 3), 2, AI("blocksize", 2), AS("mode", "CRD")),
    C1("depth_to_space_crd_bs3", "DepthToSpace", 11, D(1, 18, 2, 1), 2, AI("blocksize", 3), AS("mode", "CRD")),

    /* ReverseSequence */
    C2("reverse_sequence_time_major", "ReverseSequence", 10, D(4, 3, 2), CI(4, 1, 2), 2, AI("batch_axis", 1),
       AI("time_axis", 0)),
    C2("reverse_sequence_batch_major", "ReverseSequence", 10, D(3, 4), CI(1, 4, 0), 2, AI("batch_axis", 0),
       AI("time_axis", 1)),

    /* LRN */
    C1("lrn_size3", "LRN", 13, D(2, 5, 3, 2), 4, AI("size", 3), AF("alpha", 0.5f), AF("beta", 0.75f), AF("bias", 1.2f)),
    C1("lrn_size2_beta06", "LRN", 13, D(1, 4, 2, 3), 4, AI("size", 2), AF("alpha", 0.8f), AF("beta", 0.6f),
       AF("bias", 1.0f)),
    C1("lrn_size5_wider_than_c_opset1", "LRN", 7, D(2, 3, 4), 4, AI("size", 5), AF("alpha", 0.9f), AF("beta", 1.0f),
       AF("bias", 2.0f)),
    C1("lrn_defaults_rank2", "LRN", 13, D(3, 6), 1, AI("size", 4)),
    {.name = "lrn_float32", .op = "LRN", .opset = 13, .n_in = 1, .n_out = 1, .in = {F32(2, 6, 3, 3)}, .n_attrs = 3,
     .attrs = {AI("size", 3), AF("alpha", 0.5f), AF("beta", 0.75f)}, .rtol = 2e-3, .atol = 2e-4, .h = 1.0 / 256},

    /* Det */
    C1("det_2x2", "Det", 22, D(2, 2), 0, AI("", 0)),
    C1("det_3x3_opset11", "Det", 11, D(3, 3), 0, AI("", 0)),
    C1("det_batched_4x4", "Det", 22, D(2, 3, 4, 4), 0, AI("", 0)),
    C1("det_1x1", "Det", 22, D(3, 1, 1), 0, AI("", 0)),
    C1("det_singular_rank2", "Det", 22, DV(singular3, 3, 3), 0, AI("", 0)),
    C1("det_singular_rank1", "Det", 22, DV(rank1_3, 3, 3), 0, AI("", 0)),
    C1("det_zero_column", "Det", 22, DV(zero_col, 2, 2, 2), 0, AI("", 0)),
    {.name = "det_float32", .op = "Det", .opset = 22, .n_in = 1, .n_out = 1, .in = {F32(2, 3, 3)}, .rtol = 1e-3,
     .atol = 1e-4, .h = 1.0 / 256},

    /* Swish */
    C1("swish_default_alpha", "Swish", 24, D(3, 4), 0, AI("", 0)),
    C1("swish_alpha", "Swish", 24, D(2, 5), 1, AF("alpha", 0.5f)),
    {.name = "swish_float32", .op = "Swish", .opset = 24, .n_in = 1, .n_out = 1, .in = {F32(4, 3)}, .n_attrs = 1,
     .attrs = {AF("alpha", 1.7f)}, .rtol = 1e-3, .atol = 1e-4, .h = 1.0 / 256},

    /* CenterCropPad */
    C2("center_crop_pad_axes", "CenterCropPad", 18, D(5, 4, 3), CI(2, 6), 1, AL("axes", 0, -1)),
    C2("center_crop_pad_all_axes", "CenterCropPad", 18, D(3, 4), CI(6, 1), 0, AI("", 0)),
    C2("center_crop_pad_odd", "CenterCropPad", 18, D(2, 7), CI(4, 10), 0, AI("", 0)),
};

int main(void) { return gc_run_all(cases, sizeof cases / sizeof cases[0]); }
