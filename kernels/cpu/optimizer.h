/* CPU optimizer kernels: multi-tensor parameter updates, gradient scaling
 * and the global gradient L2 norm.
 *
 * Element types: float32 and float64 (parameters, gradients and state share
 * one dtype; mixed precision keeps float32 master weights).
 *
 * The updates reproduce torch.optim 1.13's single-tensor implementations
 * operation by operation, each op rounded to the dtype as ATen rounds it.
 * ATen's vectorised CPU kernels (AVX2 / AVX-512, what PyTorch uses on any
 * x86-64 machine of the last decade) compute `a.add(b, alpha=s)` as
 * fma(b, s, a) and `a.addcmul(b, c, value=s)` as fma(s*b, c, a), so these
 * kernels do the same, and the results equal PyTorch's bit for bit
 * (tests/unit/test_optimizer.c checks against tests/golden/optimizer_*.txt).
 * Every Python scalar becomes the dtype first (ATen's Scalar conversion), e.g.
 * (float)(1 - beta1).  With c = ot_optim_coeffs (src/train/optim_config.h):
 *
 *   sgd family (torch: d_p = g; d_p.add(p, wd); buf.mul_(mom).add_(d_p, 1-damp);
 *               d_p.add(buf, mom); p.add_(d_p, -lr)):
 *     d = l2 ? fma(p, wd, g) : g
 *     if use_momentum:
 *         b = first_step ? d : fma(d, 1-damp, b*mom)
 *         d = nesterov ? fma(b, mom, d) : b
 *     p = fma(d, -lr, p)
 *   adam / adamw (torch: p.mul_(1-lr*wd) [adamw]; g.add(p, wd) [adam];
 *                 m.mul_(b1).add_(g, 1-b1); v.mul_(b2).addcmul_(g, g, 1-b2);
 *                 denom = (v.sqrt() / bc2_sqrt).add_(eps);
 *                 p.addcdiv_(m, denom, -step_size)):
 *     p = p * decay                                  (adamw only, even wd = 0)
 *     g = l2 ? fma(p, wd, g) : g                     (adam only)
 *     m = fma(g, 1-b1, m*b1)
 *     v = fma((1-b2)*g, g, v*b2)
 *     p = p + ((-step_size) * m) / (sqrt(v) / bc2_sqrt + eps)
 *   adagrad (torch: g.add(p, wd); sum.addcmul_(g, g, 1); std = sum.sqrt().add_(eps);
 *            p.addcdiv_(g, std, -clr)):
 *     g = l2 ? fma(p, wd, g) : g
 *     s = fma(g, g, s)
 *     p = p + ((-clr) * g) / (sqrt(s) + eps)
 *
 * Note torch >= 2.0 updates Adam's exp_avg with lerp_ instead of
 * mul_().add_(), which can differ from 1.13 in the last bit of m.
 *
 * Work is split over OpenMP threads by element ranges; every element is
 * independent, so results do not depend on the thread count.  On x86-64
 * CPUs with AVX2+FMA the loops run 8 (4) lanes at a time; elsewhere a scalar
 * loop with C99 fma() gives the same results. */
#ifndef OT_KERNELS_CPU_OPTIMIZER_H
#define OT_KERNELS_CPU_OPTIMIZER_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxtrain.h"
#include "src/train/optim_config.h"

/* One group of parameters updated by one call (the tensors whose gradients
 * are complete at the same point of the step). */
typedef struct ot_optim_group {
    int count;                              /* tensors in the group */
    const int64_t *numel;                   /* [count] elements of each */
    void *const *param;                     /* [count] updated in place */
    const void *const *grad;                /* [count] read only */
    void *const *state[OT_OPTIM_MAX_STATE]; /* state[k][i]: state tensor k of param i, in place
                                               (k < ot_optim_state_count(kind); others unused) */
} ot_optim_group;

bool ot_cpu_optim_dtype_ok(ot_dtype dt); /* float32, float64 */

/* Applies one update step (coefficients from ot_optim_coeffs_compute) to every
 * tensor of the group.  Parameters, gradients and state must not overlap one
 * another.  OT_ERR_UNSUPPORTED for another dtype, OT_ERR_INVALID_ARG for a
 * missing pointer or a negative count. */
ot_status ot_cpu_optim_update(ot_dtype dt, const ot_optim_coeffs *c, const ot_optim_group *g);

/* g[i][j] *= coef (coef converted to dt first, as torch's mul_ does) for the
 * `count` tensors of a group. */
ot_status ot_cpu_grads_scale(ot_dtype dt, int count, void *const *grads, const int64_t *numel, double coef);

/* Sum of squares of all elements of a group of tensors, accumulated in
 * double.  The elements are cut into a fixed number of contiguous
 * partitions (independent of the thread count), each summed in a fixed
 * order, and the partition sums added in order: the result is the same for
 * any number of threads.  (For float32 each square is exact in double.)
 * NaN/Inf propagate. */
ot_status ot_cpu_grads_sumsq(ot_dtype dt, int count, const void *const *grads, const int64_t *numel, double *sumsq);

#endif
