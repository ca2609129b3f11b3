/* Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_
 * (norm_type 2) does it:
 *
 *   total = sqrt(sum over all gradients of sum(g * g))
 *   coef  = max_norm / (total + 1e-6);  if coef < 1: every g *= coef
 *
 * PyTorch computes coef on a tensor of the gradients' dtype as
 * reciprocal(total + 1e-6) * max_norm (Tensor.__rtruediv__), clamps it to
 * 1 and multiplies every gradient by it; ot_clip_coef reproduces that
 * arithmetic in the dtype's precision, so the scaled gradients match
 * PyTorch's given the same total.  The total itself is accumulated in double
 * in a fixed order (ot_cpu_grads_sumsq), independent of the thread count;
 * PyTorch accumulates it in float32, so the two totals can differ in the
 * last bits.  A NaN/Inf total propagates as in PyTorch (gradients become
 * NaN, or 0 for an infinite total); the caller checks for non-finite values.
 * Clipping happens after gradient accumulation, before the update. */
#ifndef OT_TRAIN_CLIP_H
#define OT_TRAIN_CLIP_H

#include <stdint.h>

#include "onnxtrain.h"

/* The factor clip_grad_norm_ multiplies gradients of dtype dt (float32 or
 * float64) by, given the global norm: min(1, (1 / (total + 1e-6)) * max_norm)
 * in dt's precision (NaN when total is NaN). */
double ot_clip_coef(ot_dtype dt, double total_norm, double max_norm);

/* Clips the `count` gradients of one dtype (CPU buffers) to a global norm
 * of max_norm (finite, >= 0) and stores the norm before clipping in
 * *total_norm.  Gradients of several dtypes: add their ot_cpu_grads_sumsq,
 * take the square root, and scale each group by ot_clip_coef. */
ot_status ot_clip_grad_norm(ot_dtype dt, int count, void *const *grads, const int64_t *numel, double max_norm,
                            double *total_norm);

#endif
