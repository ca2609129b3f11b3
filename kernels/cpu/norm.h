/* CPU kernels for normalisation ops (BatchNormalization, LayerNormalization,
 * InstanceNormalization, GroupNormalization).
 *
 * Element types: float32, float64, float16 and bfloat16 (the last two are
 * computed in float32).  Statistics are always accumulated in double, one
 * pass over the data with a per-slice shift (the slice's first element), so
 * large means do not cancel the variance.  Callers (ops/norm.c) validate
 * dtypes and shapes; these functions assume a supported dtype. */
#ifndef OT_KERNELS_CPU_NORM_H
#define OT_KERNELS_CPU_NORM_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxtrain.h"

/* True for the element types these kernels handle. */
bool ot_cpu_norm_dtype_ok(ot_dtype dt);

/* Per-channel statistics of x viewed as (outer, C, inner), reduced over
 * outer * inner elements (BatchNormalization's batch statistics):
 * mean[c] and the BIASED variance var[c] (sum of squared deviations / count).
 * The unbiased variance PyTorch uses for running_var is
 * var[c] * count / (count - 1) with count = outer * inner. */
void ot_cpu_channel_moments(ot_dtype dt, const void *x, int64_t outer, int64_t C, int64_t inner,
                            double *mean, double *var);

/* y = (x - m[c]) * a[c] + b[c] on (outer, C, inner); y may alias x.
 * (Subtracting the mean first keeps float32 results accurate when the mean
 * is large compared with the standard deviation.) */
void ot_cpu_channel_affine(ot_dtype dt, const void *x, void *y, int64_t outer, int64_t C, int64_t inner,
                           const double *m, const double *a, const double *b);

/* Group normalisation of x viewed as (N, G, CG, S): mean and biased
 * variance per (n, g) over CG * S elements, then
 *   y = (x - mean) / sqrt(var + eps) * scale[k] + bias[k]
 * with k the channel g * CG + cg when per_channel, else the group g.
 * scale and bias have x's dtype.  InstanceNormalization is G = C, CG = 1. */
void ot_cpu_group_norm(ot_dtype dt, const void *x, const void *scale, const void *bias, void *y, int64_t N,
                       int64_t G, int64_t CG, int64_t S, bool per_channel, double eps);

/* Layer normalisation of x viewed as (rows, D): per row
 *   y = (x - mean) * inv_std * scale + bias,  inv_std = 1 / sqrt(biased var + eps)
 * where scale (P elements) and bias (Pb elements, may be NULL) repeat over the
 * flattened x with their period: ONNX's broadcast of Scale/B when their shape
 * (leading 1s dropped) equals X's trailing dims.  So either P divides D
 * (scale[j % P]) or D divides P (scale[(r * D + j) % P]); same for Pb.  Both
 * have x's dtype.  mean / inv_std (may be NULL) receive `rows` values of
 * dtype stat_dt. */
void ot_cpu_layer_norm(ot_dtype dt, const void *x, const void *scale, int64_t P, const void *bias, int64_t Pb,
                       void *y, int64_t rows, int64_t D, double eps, ot_dtype stat_dt, void *mean,
                       void *inv_std);

/* RMS normalisation (RMSNormalization): as ot_cpu_layer_norm without centring
 * or bias: y = x / sqrt(mean(x^2) + eps) * scale (scale: P elements, period
 * rules as above). */
void ot_cpu_rms_norm(ot_dtype dt, const void *x, const void *scale, int64_t P, void *y, int64_t rows, int64_t D,
                     double eps);

/* Lp normalisation (LpNormalization) of x viewed as (outer, L, inner) along L,
 * p = 1 or 2: y = x / ||x||_p, and 0 where the norm is 0.  Norms in double. */
void ot_cpu_lp_norm(ot_dtype dt, const void *x, void *y, int64_t outer, int64_t L, int64_t inner, int p);

/* Mean-variance normalisation (MeanVarianceNormalization) of x (rank, dims)
 * over the axes with reduce[a] set: y = (x - mean) / (sqrt(biased var) + eps),
 * ONNX's formula (eps outside the root, 1e-9 in the spec). */
void ot_cpu_mvn(ot_dtype dt, const void *x, void *y, int rank, const int64_t *dims, const bool *reduce, double eps);

/* ---- gradients (kernels/cpu/norm_grad.c) ----------------------------------
 * Statistics are recomputed from x in double (one pass that also gathers the
 * dy sums), then a second pass writes dx: two passes over x and dy.  The
 * per-parameter sums (dscale, dbias) are double and their summation order
 * depends only on the shapes, never on the thread count. */

/* BatchNormalization on x (N, C, inner).  Per-channel inputs and outputs are
 * double arrays of C values. */
typedef struct ot_bn_grad_args {
    const double *scale;
    const double *mean, *var;  /* given statistics (inference mode), or NULL: batch statistics */
    double eps;
    /* training only, may be NULL: gradients flowing into the batch mean and
       biased batch variance (opset < 14's saved_mean / saved_var outputs) */
    const double *dsaved_mean, *dsaved_var;
    double *dscale, *dbias;    /* out: sum(dy * xhat), sum(dy) */
    double *dmean, *dvar;      /* out, inference mode only (NULL: not wanted) */
} ot_bn_grad_args;
/* Training:  dx = scale * invstd / n * (n * dy - sum(dy) - xhat * sum(dy * xhat))
 *            (+ the saved statistics' terms), n = N * inner.
 * Inference: dx = dy * scale * invstd.  dx may be NULL (not wanted). */
void ot_cpu_batch_norm_grad(ot_dtype dt, const void *x, const void *dy, void *dx, int64_t N, int64_t C, int64_t inner,
                            const ot_bn_grad_args *a);

/* Layer normalisation (rms false) or RMS normalisation (rms true) on x
 * (rows, D), scale with period P and the bias gradient with period Pb (0: no
 * bias), as in ot_cpu_layer_norm.  dmean / dinv (may be NULL; `rows` values of
 * type dmean_dt / dinv_dt) are gradients flowing into the Mean / InvStdDev
 * outputs.  part: scratch of nblk * (P + Pb) doubles, nblk from
 * ot_cpu_layer_norm_grad_blocks.  dscale (P) and dbias (Pb) receive the
 * parameter gradients in double; dx may be NULL. */
int ot_cpu_layer_norm_grad_blocks(int64_t rows, int64_t D, int64_t P, int64_t Pb);
void ot_cpu_layer_norm_grad(ot_dtype dt, const void *x, const void *dy, const void *scale, int64_t P, int64_t Pb,
                            void *dx, int64_t rows, int64_t D, double eps, bool rms, const void *dmean,
                            ot_dtype dmean_dt, const void *dinv, ot_dtype dinv_dt, double *part, int nblk,
                            double *dscale, double *dbias);

/* Group normalisation (InstanceNormalization: G = C, CG = 1) on x (N, G, CG, S)
 * with K = per_channel ? G * CG : G scale entries of x's dtype.  part:
 * scratch of 2 * N * K doubles; dscale and dbias (K doubles) receive the
 * parameter gradients.  dx may be NULL. */
void ot_cpu_group_norm_grad(ot_dtype dt, const void *x, const void *dy, const void *scale, void *dx, int64_t N,
                            int64_t G, int64_t CG, int64_t S, bool per_channel, double eps, double *part,
                            double *dscale, double *dbias);

#endif
