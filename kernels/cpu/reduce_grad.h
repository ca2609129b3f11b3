/* CPU kernel for the gradients of the Reduce* ops (the ai.onnxtrain
 * ReduceGrad op).
 *
 * With y = reduce(x) over the axes in mask and dy of y's elements (kept axes
 * in order; keepdims does not change the layout), dx has x's shape and
 *   Sum        dx = dy                     Mean       dx = dy / R
 *   SumSquare  dx = 2 x dy                 L1         dx = sign(x) dy (0 at 0)
 *   L2         dx = x / y dy (0 where y = 0, as PyTorch's norm)
 *   LogSum     dx = dy / sum(x) = dy exp(-y)
 *   LogSumExp  dx = dy exp(x - y)
 *   Max, Min   dx = dy / k at the k elements equal to y, 0 elsewhere (PyTorch's
 *              amax / amin: ties share the gradient evenly; a NaN y gives 0)
 *   Prod       dx_i = dy * prod_{j<i} x_j * prod_{j>i} x_j (prefix and
 *              suffix products in double: no division, exact with zeros)
 * where R is the number of elements per output.  Types: float32 and float64
 * (vectorised), float16 / bfloat16 (through float32). */
#ifndef OT_KERNELS_CPU_REDUCE_GRAD_H
#define OT_KERNELS_CPU_REDUCE_GRAD_H

#include "reduce.h"

/* x is read by every op but Sum and Mean (NULL allowed there), y by L2,
   LogSum, LogSumExp, Max and Min.  Fails only when out of memory (Max, Min
   and Prod need scratch space). */
ot_status ot_cpu_reduce_grad(ot_reduce_op op, ot_dtype dt, const void *dy, const void *x, const void *y, void *dx,
                             int rank, const int64_t *dims, const bool *mask);

/* Whether the gradient of `op` reads x / y. */
bool ot_reduce_grad_needs_x(ot_reduce_op op);
bool ot_reduce_grad_needs_y(ot_reduce_op op);

#endif
