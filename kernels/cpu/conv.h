/* Convolution kernels: im2col / col2im and the Conv / ConvTranspose forward
 * passes built on them with BLAS GEMMs (kernels/cpu/matmul.h).
 *
 * One geometry describes both directions.  The "image" side is the big one
 * (Conv's input, ConvTranspose's output), the "col" side holds one entry per
 * window position (Conv's output, ConvTranspose's input); window position o
 * and kernel offset k touch image coordinate
 *     i = o * stride - pad + k * dilation        (per spatial dim)
 * and coordinates outside [0, img) are zero padding.  pad may be negative
 * (ConvTranspose with an output_shape larger than the natural one). */
#ifndef OT_KERNELS_CPU_CONV_H
#define OT_KERNELS_CPU_CONV_H

#include <stdint.h>

#include "onnxtrain.h"
#include "window.h"

typedef struct ot_conv_geom {
    int n;                                /* spatial dims */
    int64_t img[OT_WINDOW_MAX_DIMS];
    int64_t col[OT_WINDOW_MAX_DIMS];
    int64_t kernel[OT_WINDOW_MAX_DIMS];
    int64_t stride[OT_WINDOW_MAX_DIMS];
    int64_t dilation[OT_WINDOW_MAX_DIMS];
    int64_t pad[OT_WINDOW_MAX_DIMS];      /* begin padding of the image */
    int64_t img_size, col_size, kernel_size; /* products of the above */
} ot_conv_geom;

/* Fills img_size, col_size and kernel_size from the per-dim arrays. */
void ot_conv_geom_finish(ot_conv_geom *g);
/* True when col == img element for element (1x1 kernel, stride 1, no pad):
   the image is its own column matrix. */
int ot_conv_geom_is_identity(const ot_conv_geom *g);

/* col (channels * kernel_size, col_size) = windows of img (channels, img...). */
void ot_im2col_f32(const ot_conv_geom *g, int64_t channels, const float *img, float *col);
void ot_im2col_f64(const ot_conv_geom *g, int64_t channels, const double *img, double *col);
/* img (channels, img...) += the adjoint of im2col applied to col. */
void ot_col2im_f32(const ot_conv_geom *g, int64_t channels, const float *col, float *img);
void ot_col2im_f64(const ot_conv_geom *g, int64_t channels, const double *col, double *img);

/* Conv: X (N, C, img...), W (M, C/G, kernel...), B (M) or NULL ->
   Y (N, M, col...).  dtype OT_FLOAT or OT_DOUBLE.  OT_ERR_NOMEM if the
   column scratch cannot be allocated. */
ot_status ot_conv_forward(ot_dtype dtype, const ot_conv_geom *g, int64_t N, int64_t C, int64_t M, int64_t G,
                          const void *X, const void *W, const void *B, void *Y);
/* ConvTranspose: X (N, C, col...), W (C, M/G, kernel...), B (M) or NULL ->
   Y (N, M, img...). */
ot_status ot_conv_transpose_forward(ot_dtype dtype, const ot_conv_geom *g, int64_t N, int64_t C, int64_t M,
                                    int64_t G, const void *X, const void *W, const void *B, void *Y);

/* Gradients.  The weight gradient of Conv and of ConvTranspose is one
   product: the "img" tensor (N, C_img, img...) through im2col against the
   "col" tensor (N, C_col, col...):
     dW (C_col, C_img/G, kernel...) = sum_n col_n im2col(img_n)^T per group.
   Conv: img = X, col = dY, dW is (M, C/G, k...).
   ConvTranspose: img = dY, col = X, dW is (C, M/G, k...).
   The input gradients need no kernel of their own: Conv's dX is
   ot_conv_transpose_forward of dY with W, ConvTranspose's is ot_conv_forward
   of dY with W (the weight layouts coincide).  OT_ERR_NOMEM on scratch. */
ot_status ot_conv_weight_grad(ot_dtype dtype, const ot_conv_geom *g, int64_t N, int64_t C_img, int64_t C_col,
                              int64_t G, const void *img, const void *col, void *dW);
/* dB (M) = sums of dY (N, M, S) over N and S. */
void ot_conv_bias_grad(ot_dtype dtype, int64_t N, int64_t M, int64_t S, const void *dY, void *dB);

#endif
