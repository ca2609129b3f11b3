/* A fast path for the most common pooling window: 2-D MaxPool 2x2, stride 2,
 * no padding, dilation 1 (every CNN's downsampling).  Windows do not overlap,
 * so the gradient writes each input element once.  Semantics are the generic
 * kernels' (kernels/cpu/pool.c, pool_grad.c): a NaN in a window wins, and the
 * gradient goes to the first maximum in scan order (the first NaN if any). */
#ifndef OT_KERNELS_CPU_POOL_FAST_H
#define OT_KERNELS_CPU_POOL_FAST_H

#include <stdbool.h>
#include <stdint.h>

#include "window.h"

bool ot_pool_is_2x2s2(const ot_window *w);
/* x (NC, H, W) -> y (NC, H/2, W/2) */
void ot_maxpool2x2_f32(const ot_window *w, int64_t NC, const float *x, float *y);
/* dx (NC, H, W) from x and dy (NC, H/2, W/2); rows/columns no window covers get 0. */
void ot_maxpool2x2_grad_f32(const ot_window *w, int64_t NC, const float *x, const float *dy, float *dx);

#endif
