/* Sliding-window geometry shared by Conv and the pooling family
 * (MaxPool, AveragePool, LpPool, and their gradients).
 *
 * Given the spatial dims of an input (the dims after N and C), a kernel, strides,
 * dilations, explicit pads and auto_pad, ot_window_compute() gives the output
 * spatial dims and the pads actually applied, following ONNX exactly
 * (onnx/defs/nn/defs.cc, reference/ops/op_pool_common.py, MaxPool's doc):
 *
 *   dk  = (kernel - 1) * dilation + 1                     effective kernel extent
 *   NOTSET:  out = floor((in + pad_b + pad_e - dk) / stride) + 1
 *            ceil_mode: out = ceil(...) + 1, minus one if the last window would
 *            start in the end padding, i.e. if (out - 1) * stride >= in + pad_b
 *   VALID:   pads = 0; out = floor((in - dk) / stride) + 1
 *            ceil_mode: out = ceil((in - dk + 1) / stride)
 *   SAME_*:  out = ceil(in / stride) (ceil_mode does not change it);
 *            total = max(0, (out - 1) * stride + dk - in);
 *            SAME_UPPER: pad_b = total / 2, pad_e = total - pad_b (extra pad at the end)
 *            SAME_LOWER: pad_e = total / 2, pad_b = total - pad_e (extra pad at the start)
 *
 * Output position o reads input positions o * stride - pad_b + k * dilation,
 * k in [0, kernel).  Positions outside [0, in) are padding.  With ceil_mode the
 * last window may also run past in + pad_e: `extra_end` says by how much, so a
 * pooling kernel clips windows at in + pad_e + extra_end (reference semantics:
 * those positions are padding too, e.g. excluded from a max, and for
 * AveragePool with count_include_pad they are counted as the reference does).
 *
 * Errors (OT_ERR_SHAPE / OT_ERR_PARSE, message without node name: callers add
 * it with ot_error_context or by formatting their own): a kernel, stride or
 * dilation < 1, a negative pad, or a kernel extent larger than the padded input
 * (which PyTorch and ONNX Runtime reject too).  An input dim of 0 gives out 0. */
#ifndef OT_KERNELS_CPU_WINDOW_H
#define OT_KERNELS_CPU_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxtrain.h"

#define OT_WINDOW_MAX_DIMS (OT_MAX_RANK - 2)

typedef enum ot_auto_pad {
    OT_AUTO_PAD_NOTSET = 0,
    OT_AUTO_PAD_SAME_UPPER,
    OT_AUTO_PAD_SAME_LOWER,
    OT_AUTO_PAD_VALID
} ot_auto_pad;

/* "NOTSET" (also NULL or ""), "SAME_UPPER", "SAME_LOWER", "VALID"; else OT_ERR_PARSE. */
ot_status ot_auto_pad_parse(const char *s, ot_auto_pad *out);
const char *ot_auto_pad_name(ot_auto_pad p);

typedef struct ot_window {
    int n;                                  /* number of spatial dims */
    int64_t in[OT_WINDOW_MAX_DIMS];         /* input spatial dims */
    int64_t kernel[OT_WINDOW_MAX_DIMS];
    int64_t stride[OT_WINDOW_MAX_DIMS];
    int64_t dilation[OT_WINDOW_MAX_DIMS];
    int64_t pad_begin[OT_WINDOW_MAX_DIMS];  /* resolved pads (auto_pad applied) */
    int64_t pad_end[OT_WINDOW_MAX_DIMS];
    int64_t extra_end[OT_WINDOW_MAX_DIMS];  /* ceil_mode overhang past in + pad_end (>= 0) */
    int64_t out[OT_WINDOW_MAX_DIMS];        /* output spatial dims */
} ot_window;

/* n spatial dims (1..OT_WINDOW_MAX_DIMS).  strides / dilations may be NULL
 * (all 1); pads may be NULL (all 0), else 2n values in ONNX order
 * [b_0 .. b_{n-1}, e_0 .. e_{n-1}]; explicit pads are ignored unless auto_pad
 * is NOTSET.  Fills *w completely. */
ot_status ot_window_compute(ot_window *w, int n, const int64_t *in, const int64_t *kernel,
                            const int64_t *strides, const int64_t *dilations, const int64_t *pads,
                            ot_auto_pad auto_pad, bool ceil_mode);

/* Product of w->out (output positions per (N, C) plane); the caller checks
   the full output shape with ot_shape_numel first, so this cannot overflow. */
int64_t ot_window_out_numel(const ot_window *w);

#endif
