/* CPU kernels for pooling: MaxPool (with argmax indices), AveragePool,
 * LpPool and the global variants.
 *
 * Tensors are (NC, spatial...) planes, NCHW-contiguous; the window geometry
 * (output dims, resolved pads, ceil_mode) comes from window.h.  Windows over
 * 1 to 3 spatial dims are supported (ot_cpu_pool_dims_ok).
 *
 * Window semantics (ONNX = PyTorch):
 *  - taps at o * stride - pad_begin + k * dilation outside [0, in) are padding;
 *  - MaxPool ignores padding; NaN propagates (the first NaN wins); ties keep
 *    the first tap in row-major window order; a window with no input tap
 *    gives the type's lowest value and index -1;
 *  - AveragePool divides by the number of input taps (count_include_pad = 0),
 *    or by the taps inside the padded input [-pad_begin, in + pad_end)
 *    (count_include_pad = 1): ceil_mode's overhang past the end padding is
 *    never counted;
 *  - LpPool is (sum |x|^p)^(1/p) over input taps (padding adds 0).
 *
 * Element types: MaxPool float32, float64, float16, bfloat16, int8, uint8;
 * the others the four float types (half types computed in float32). */
#ifndef OT_KERNELS_CPU_POOL_H
#define OT_KERNELS_CPU_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxtrain.h"
#include "window.h"

bool ot_cpu_pool_dims_ok(int n_spatial);          /* 1..3 */
bool ot_cpu_maxpool_dtype_ok(ot_dtype dt);
bool ot_cpu_avgpool_dtype_ok(ot_dtype dt);        /* also LpPool and the global pools */

/* x (NC, w->in...) -> y (NC, w->out...).  indices (may be NULL): int64 flat
 * index of each maximum into x, counting whole planes before it
 * (plane * prod(in) + spatial offset); the spatial offset is row-major, or
 * column-major (first spatial axis fastest) when col_major (storage_order 1). */
void ot_cpu_maxpool(ot_dtype dt, const ot_window *w, int64_t NC, const void *x, void *y, int64_t *indices,
                    bool col_major);
void ot_cpu_avgpool(ot_dtype dt, const ot_window *w, int64_t NC, const void *x, void *y, bool count_include_pad);
void ot_cpu_lppool(ot_dtype dt, const ot_window *w, int64_t NC, const void *x, void *y, int64_t p);

/* Gradients (kernels/cpu/pool_grad.c), float types only; dx (NC, w->in...) is
 * overwritten.  MaxPool: each dy (NC, w->out...) goes to its window's first
 * maximum of x in row-major tap order (the first NaN when there is one: the
 * tap the forward's Indices name); PyTorch's routing.  AveragePool: dy divided
 * by the forward's divisor goes to every input tap of the window.  Parallel
 * over planes; results do not depend on the thread count. */
void ot_cpu_maxpool_grad(ot_dtype dt, const ot_window *w, int64_t NC, const void *x, const void *dy, void *dx);
void ot_cpu_avgpool_grad(ot_dtype dt, const ot_window *w, int64_t NC, const void *dy, void *dx,
                         bool count_include_pad);

typedef enum ot_global_pool { OT_GLOBAL_AVG, OT_GLOBAL_MAX, OT_GLOBAL_LP } ot_global_pool;
/* x (NC, S) -> y (NC): mean / max (NaN propagates) / Lp norm of each plane
 * (p used by OT_GLOBAL_LP only).  Sums accumulate in double. */
void ot_cpu_global_pool(ot_global_pool kind, ot_dtype dt, int64_t NC, int64_t S, const void *x, void *y, int64_t p);

/* MaxUnpool (ONNX reference semantics): y (rank dims `out`, zero-filled by the
 * caller) receives x[j] at the flat index ind[j] of the `grid` shape (the
 * unpooled shape implied by kernel/strides/pads), re-laid into `out` when
 * output_shape makes it larger.  Float types only.  Returns -1, or the first
 * j whose index lies outside the grid (nothing after it is written). */
int64_t ot_cpu_maxunpool(ot_dtype dt, const void *x, const int64_t *ind, int64_t n, void *y, int rank,
                         const int64_t *grid, const int64_t *out);

#endif
