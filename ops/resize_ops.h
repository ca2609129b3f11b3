/* The resize family's shared declarations: the parsed attributes and the
 * functions that ops/resize.c (Resize, Upsample, ResizeGrad and the table),
 * ops/resize_grid.c (GridSample, AffineGrid and their gradient ops) and
 * ops/resize_grad.c (the gradient rules) share. */
#ifndef OT_OPS_RESIZE_OPS_H
#define OT_OPS_RESIZE_OPS_H

#include "grad.h"
#include "kernels/cpu/resize.h"

/* Where a node's scales / sizes / roi come from. */
typedef enum ot_resize_form {
    OT_RESIZE_FORM_ATTR,   /* Upsample-7: the scales attribute */
    OT_RESIZE_FORM_SCALES, /* Upsample-9, Resize-10: inputs (X, scales) */
    OT_RESIZE_FORM_FULL    /* Resize-11+ and ResizeGrad: inputs (X | dY, roi, scales, sizes) */
} ot_resize_form;

typedef enum ot_resize_policy { OT_RESIZE_STRETCH, OT_RESIZE_NOT_LARGER, OT_RESIZE_NOT_SMALLER } ot_resize_policy;

typedef struct ot_resize_attrs {
    ot_resize_form form;
    ot_resize_mode mode;
    ot_resize_coord coord;
    ot_resize_nearest nearest;
    float cubic_a;
    float extrapolation;
    bool exclude_outside;
    bool antialias;
    ot_resize_policy policy;
    int n_axes; /* -1: every axis */
    int64_t axes[OT_MAX_RANK];
    int n_scales; /* FORM_ATTR */
    float scales[OT_MAX_RANK];
    int n_shape; /* ResizeGrad: the forward X's shape */
    int64_t shape[OT_MAX_RANK];
} ot_resize_attrs;

/* The attribute spellings (what ResizeGrad receives). */
const char *ot_resize_mode_name(ot_resize_mode m);
const char *ot_resize_coord_name(ot_resize_coord c);
const char *ot_resize_nearest_name(ot_resize_nearest n);
const char *ot_resize_policy_name(ot_resize_policy p);

typedef struct ot_grid_attrs {
    ot_grid_mode mode;
    ot_grid_padding padding;
    bool align_corners;
    int n_shape; /* GridSampleGradX: the forward X's shape */
    int64_t shape[OT_MAX_RANK];
} ot_grid_attrs;

const char *ot_grid_mode_name(ot_grid_mode m);
const char *ot_grid_padding_name(ot_grid_padding p);

/* Gradient rules (resize_grad.c). */
ot_status ot_resize_grad_rule(ot_grad_ctx *g);
ot_status ot_grid_sample_grad_rule(ot_grad_ctx *g);
ot_status ot_affine_grid_grad_rule(ot_grad_ctx *g);

/* GridSample, AffineGrid and their gradient ops (resize_grid.c). */
ot_status ot_grid_sample_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_grid_sample_infer(ot_kctx *c);
ot_status ot_grid_sample_cpu(ot_kctx *c);
ot_status ot_grid_sample_grad_x_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_grid_sample_grad_x_infer(ot_kctx *c);
ot_status ot_grid_sample_grad_x_cpu(ot_kctx *c);
ot_status ot_grid_sample_grad_grid_infer(ot_kctx *c);
ot_status ot_grid_sample_grad_grid_cpu(ot_kctx *c);
ot_status ot_affine_grid_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_affine_grid_infer(ot_kctx *c);
ot_status ot_affine_grid_cpu(ot_kctx *c);
ot_status ot_affine_grid_grad_infer(ot_kctx *c);
ot_status ot_affine_grid_grad_cpu(ot_kctx *c);

#endif
