/* Shared between ops/conv.c (the family table, Conv / ConvTranspose) and
 * ops/conv_grad.c (their gradient rules and the ai.onnxtrain gradient ops). */
#ifndef OT_OPS_CONV_OPS_H
#define OT_OPS_CONV_OPS_H

#include "grad.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/window.h"

typedef struct conv_attrs {
    ot_auto_pad auto_pad;
    int64_t group;
    int n_kernel, n_strides, n_dilations, n_pads, n_out_pad, n_out_shape; /* -1: absent */
    int64_t kernel[OT_WINDOW_MAX_DIMS], strides[OT_WINDOW_MAX_DIMS], dilations[OT_WINDOW_MAX_DIMS];
    int64_t pads[2 * OT_WINDOW_MAX_DIMS];
    int64_t out_pad[OT_WINDOW_MAX_DIMS], out_shape[OT_WINDOW_MAX_DIMS + 2];
} conv_attrs;

/* The geometry of a Conv (transpose false) or ConvTranspose node from its
   inputs' shapes and its parsed conv_attrs: validates as infer does. */
ot_status ot_conv_op_geometry(ot_kctx *c, bool transpose, ot_conv_geom *g, int64_t *M);

/* Gradient ops (ai.onnxtrain), with the forward's geometry made explicit:
 * kernel_shape, strides, dilations and pads (begin..., end...: the end pads
 * may be negative after a ConvTranspose), group, and transposed (1: the
 * forward was a ConvTranspose, so dY is on the "image" side).
 *   ConvGradInput(dY, W) -> dX, shaped input_shape (the forward X's shape)
 *   ConvGradWeight(dY, X) -> dW [, dB] */
#define OT_CONV_GRAD_ATTRS "dilations,group,kernel_shape,pads,strides,transposed"
typedef struct ot_conv_grad_attrs {
    int64_t group;
    bool transposed;
    int n; /* spatial dims (from kernel_shape) */
    int64_t kernel[OT_WINDOW_MAX_DIMS], strides[OT_WINDOW_MAX_DIMS], dilations[OT_WINDOW_MAX_DIMS];
    int64_t pads[2 * OT_WINDOW_MAX_DIMS];
    int n_input_shape; /* -1: absent */
    int64_t input_shape[OT_WINDOW_MAX_DIMS + 2];
} ot_conv_grad_attrs;

ot_status ot_conv_grad_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_conv_grad_input_infer(ot_kctx *c);
ot_status ot_conv_grad_input_cpu(ot_kctx *c);
ot_status ot_conv_grad_weight_infer(ot_kctx *c);
ot_status ot_conv_grad_weight_cpu(ot_kctx *c);

/* Gradient rules of Conv and ConvTranspose. */
ot_status ot_conv_grad(ot_grad_ctx *g);
ot_status ot_conv_transpose_grad(ot_grad_ctx *g);

#endif
