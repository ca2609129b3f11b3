/* Detection-family kernels: NonMaxSuppression, RoiAlign (forward and the
 * gradient w.r.t. X), Col2Im for integer types (float types reuse the
 * convolution's col2im, kernels/cpu/conv.h) and DeformConv (forward and
 * every gradient).
 *
 * Float kernels come in float32 and float64; they compute in the data type,
 * as ONNX Runtime does (float16/bfloat16 callers stage through float32). */
#ifndef OT_KERNELS_CPU_DETECTION_H
#define OT_KERNELS_CPU_DETECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "conv.h"
#include "onnxtrain.h"

/* ---- NonMaxSuppression ------------------------------------------------------
 * boxes (B, S, 4), scores (B, K, S).  For each (batch, class), in that order:
 * boxes scoring strictly above score_threshold (all of them without one),
 * highest score first (ties: lower box index first), greedily kept unless
 * their IoU with a box already kept for that class is strictly greater than
 * iou_threshold, until max_per_class are kept.  Box format: corners
 * [y1, x1, y2, x2] in any diagonal order, or [x_center, y_center, w, h]. */
typedef struct ot_nms_params {
    int64_t batches, classes, boxes;
    int64_t max_per_class; /* <= 0: nothing is selected */
    float iou_threshold, score_threshold;
    bool has_score_threshold, center_point_box;
} ot_nms_params;

/* Writes the selected [batch, class, box] triples to out (at most cap of
   them; out may be NULL to count only) and their number to *count.
   OT_ERR_NOMEM when the scratch cannot be allocated. */
ot_status ot_nms(const ot_nms_params *p, const float *boxes, const float *scores, int64_t *out, int64_t cap,
                 int64_t *count);

/* ---- RoiAlign -----------------------------------------------------------------
 * X (N, C, H, W), rois (R, 4) as [x1, y1, x2, y2] in image coordinates,
 * batch_indices (R) in [0, N) (checked by the caller) -> Y (R, C, oh, ow).
 * Each output bin averages (or takes the max of) a grid of bilinear samples;
 * as ONNX Runtime and the ONNX reference do, "max" takes the largest of the
 * four weighted corner terms of each sample, and a sample outside
 * [-1, H] x [-1, W] counts as 0. */
typedef struct ot_roi_align_params {
    int64_t N, C, H, W, R, out_h, out_w;
    int64_t sampling_ratio; /* > 0: that many samples per bin side; 0: ceil(roi size / bins) */
    double spatial_scale;
    bool half_pixel; /* shift by -0.5 (half_pixel) or not (output_half_pixel; opset 10) */
    bool max_mode;
} ot_roi_align_params;

void ot_roi_align_f32(const ot_roi_align_params *p, const float *X, const float *rois, const int64_t *batch,
                      float *Y);
void ot_roi_align_f64(const ot_roi_align_params *p, const double *X, const double *rois, const int64_t *batch,
                      double *Y);
/* dX (N, C, H, W) = the adjoint of the forward at X, from dY (R, C, oh, ow):
   avg mode spreads each bin's gradient over its samples' corners; max mode
   routes it to the corner term that won (the first one in scan order on
   ties) and reads X (X may be NULL in avg mode).  dX is overwritten. */
void ot_roi_align_grad_f32(const ot_roi_align_params *p, const float *dY, const float *X, const float *rois,
                           const int64_t *batch, float *dX);
void ot_roi_align_grad_f64(const ot_roi_align_params *p, const double *dY, const double *X, const double *rois,
                           const int64_t *batch, double *dX);

/* ---- Col2Im for integer types ---------------------------------------------------
 * img (channels, img...) = sum over the windows of col (channels * kernel_size,
 * col_size), wrapping modulo 2^bits like the hardware's addition (the same
 * bits serve signed and unsigned).  elem_size 1, 2, 4 or 8; img is
 * overwritten. */
void ot_col2im_int(const ot_conv_geom *g, int64_t channels, int elem_size, const void *col, void *img);

/* ---- DeformConv ------------------------------------------------------------------
 * X (N, C, img...), W (M, C/G, kernel...), offset (N, OG * K * n, out...),
 * mask (N, OG * K, out...) or NULL (all ones), B (M) or NULL -> Y (N, M, out...),
 * K = kernel_size, n spatial dims.  Kernel tap k of output position o of
 * channel c (offset group c / (C / OG)) samples X at
 *     o * stride - pad + k * dilation + offset[og, k, d, o]   (per dim d)
 * by multilinear interpolation, corners outside the image reading 0, and
 * scales it by mask[og, k, o].  Offset channel (og * K + k) * n + d holds the
 * displacement along dim d.  The "image" of g is X's spatial dims, its
 * "col" the output's (the conv geometry, padding at the begin only). */
typedef struct ot_deform_geom {
    ot_conv_geom conv;
    int64_t N, C, M, G, OG;
} ot_deform_geom;

/* dtype OT_FLOAT or OT_DOUBLE.  OT_ERR_NOMEM when the column scratch
   (C * K * out_size values) cannot be allocated. */
ot_status ot_deform_conv_forward(ot_dtype dt, const ot_deform_geom *g, const void *X, const void *W, const void *offset,
                                 const void *mask, const void *B, void *Y);
/* Gradients from dY (N, M, out...): each of dX, dW, doffset, dmask, dB is
   computed when non-NULL (and overwritten); the others are skipped. */
ot_status ot_deform_conv_backward(ot_dtype dt, const ot_deform_geom *g, const void *dY, const void *X, const void *W,
                                  const void *offset, const void *mask, void *dX, void *dW, void *doffset, void *dmask,
                                  void *dB);
/* Scratch bytes the two calls above ask for (for ot_workspace_request). */
size_t ot_deform_conv_scratch(ot_dtype dt, const ot_deform_geom *g);

#endif
