/* Shared between ops/detection.c (NonMaxSuppression, RoiAlign, Col2Im,
 * DeformConv: the family table) and ops/detection_grad.c (their gradient
 * rules and the ai.onnxtrain ops those emit: RoiAlignGrad, Im2Col,
 * DeformConvGrad, whose rows sit at the end of the same table). */
#ifndef OT_OPS_DETECTION_OPS_H
#define OT_OPS_DETECTION_OPS_H

#include "grad.h"
#include "kernels/cpu/detection.h"
#include "kernels/cpu/window.h"

#define OT_DET_MAXD OT_WINDOW_MAX_DIMS

/* ---- RoiAlign (and RoiAlignGrad, which adds input_shape) ---- */
typedef struct ot_roi_align_attrs {
    bool max_mode, half_pixel;
    int64_t out_h, out_w, sampling_ratio;
    float spatial_scale;
    int n_input_shape; /* RoiAlignGrad: 4; -1 otherwise */
    int64_t input_shape[4];
} ot_roi_align_attrs;

#define OT_ROI_ALIGN_ATTRS "coordinate_transformation_mode,mode,output_height,output_width,sampling_ratio,spatial_scale"
ot_status ot_roi_align_parse(const ot_node *n, int64_t opset, void *attrs);
/* rois (R, 4) and batch_indices (R) of in[rois_at], in[rois_at + 1]: shapes
   and dtypes (rois of type `dt`); *R receives the roi count. */
ot_status ot_roi_align_check_rois(ot_kctx *c, int rois_at, ot_dtype dt, int64_t *R);
/* Every batch index within [0, N): a run-time check (values are data). */
ot_status ot_roi_align_check_batch(ot_kctx *c, const ot_tensor *batch, int64_t N);
ot_roi_align_params ot_roi_align_params_of(const ot_roi_align_attrs *a, const int64_t *xdims, int64_t R);

/* ---- Col2Im / Im2Col geometry ---- */
typedef struct ot_col2im_attrs {
    int n_dilations, n_pads, n_strides; /* -1: absent */
    int64_t dilations[OT_DET_MAXD], pads[2 * OT_DET_MAXD], strides[OT_DET_MAXD];
} ot_col2im_attrs;

#define OT_COL2IM_ATTRS "dilations,pads,strides"
ot_status ot_col2im_parse(const ot_node *n, int64_t opset, void *attrs);
/* The geometry of n spatial dims from image dims, block dims and the
   attributes; checks the attribute lengths and values. */
ot_status ot_col2im_geometry(ot_kctx *c, int n, const int64_t *image, const int64_t *block, ot_conv_geom *g);
/* The values of a 1-D int64 shape input (need_value first). */
ot_status ot_col2im_dims(ot_kctx *c, int i, const char *what, int64_t *dims, int *n);

/* ---- DeformConv (and DeformConvGrad, which adds wrt) ---- */
typedef struct ot_deform_attrs {
    int64_t group, offset_group;
    int n_kernel, n_strides, n_dilations, n_pads; /* -1: absent */
    int64_t kernel[OT_DET_MAXD], strides[OT_DET_MAXD], dilations[OT_DET_MAXD], pads[2 * OT_DET_MAXD];
    int n_wrt; /* DeformConvGrad: the forward inputs its outputs are gradients of */
    int64_t wrt[5];
} ot_deform_attrs;

#define OT_DEFORM_ATTRS "dilations,group,kernel_shape,offset_group,pads,strides"
ot_status ot_deform_parse(const ot_node *n, int64_t opset, void *attrs);
/* Validates X, W, offset, B, mask at in[x_at .. x_at + 4] (B, mask may be
   absent) and resolves the geometry. */
ot_status ot_deform_geometry(ot_kctx *c, int x_at, ot_deform_geom *g);

/* ---- float16 / bfloat16 staging ----
 * Kernels run on float32 copies of the float inputs listed in `mask` (bit i:
 * input i) and write float32 outputs narrowed by ot_det_stage_end. */
typedef struct ot_det_stage {
    bool half;
    const void *in[8];
    void *out[8];
    float *own[16];
} ot_det_stage;
ot_status ot_det_stage_begin(ot_kctx *c, ot_det_stage *s, unsigned mask);
ot_status ot_det_stage_end(ot_kctx *c, ot_det_stage *s, ot_status st);

/* ---- gradient side (ops/detection_grad.c) ---- */
ot_status ot_roi_align_grad_infer(ot_kctx *c);
ot_status ot_roi_align_grad_cpu(ot_kctx *c);
ot_status ot_im2col_infer(ot_kctx *c);
ot_status ot_im2col_cpu(ot_kctx *c);
ot_status ot_deform_grad_infer(ot_kctx *c);
ot_status ot_deform_grad_cpu(ot_kctx *c);

ot_status ot_roi_align_grad(ot_grad_ctx *g);
ot_status ot_col2im_grad(ot_grad_ctx *g);
ot_status ot_deform_conv_grad(ot_grad_ctx *g);

#endif
