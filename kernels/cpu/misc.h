/* CPU loops of the misc family (ops/misc*.c).  The ops validate shapes and
 * dtypes; these functions trust them and return OT_ERR_UNSUPPORTED only for a
 * dtype they have no loop for, OT_ERR_NOMEM when scratch memory is short.
 *
 * float32 and float64 have their own loops; float16 and bfloat16 are staged
 * through float32 copies (workspace memory, see ot_misc_stage_f32).
 *
 *   misc.c         CumProd, LRN, Swish, Binarizer, EyeLike, random fills,
 *                  ReverseSequence, TensorScatter, the staging helpers
 *   misc_grad.c    CumProdGrad, LRNGrad, SwishGrad
 *   misc_det.c     Det, DetGrad
 *   misc_unique.c  Unique */
#ifndef OT_KERNELS_CPU_MISC_H
#define OT_KERNELS_CPU_MISC_H

#include <stdbool.h>
#include <stdint.h>

#include "../../src/core/rng.h"
#include "../../src/core/status.h"
#include "../../src/core/tensor.h"

/* ---- staging of float16 / bfloat16 through float32 ------------------------ */
bool ot_misc_is_half(ot_dtype t);
/* A float32 copy of t (workspace memory; free with ot_workspace_free), or
   NULL when out of memory. */
float *ot_misc_stage_f32(const ot_tensor *t);
/* An uninitialised float32 buffer of n elements (workspace), or NULL. */
float *ot_misc_scratch_f32(int64_t n);
/* Rounds n float32 values into t (float16 or bfloat16). */
void ot_misc_unstage_f32(const float *src, ot_tensor *t);

/* ---- CumProd --------------------------------------------------------------- *
 * x and y: (outer, n, inner) around the axis; y may alias x.  Integers wrap
 * (the product is taken in the unsigned type of the same width). */
ot_status ot_cpu_cumprod(const ot_tensor *x, int axis, bool exclusive, bool reverse, ot_tensor *y);
/* dx of y = CumProd(x): float types.  Division-free, so exact at zeros:
   with P_k the product of the x before k (scan order) and S_k the sum over
   outputs m >= k (m > k exclusive) of dy_m times the x strictly between the
   ones k multiplies into and m, dx_k = P_k * S_k; S runs backward with
   S_k = dy_k + x_{k+1} S_{k+1} (exclusive: dy_{k+1} + x_{k+1} S_{k+1}). */
ot_status ot_cpu_cumprod_grad(const ot_tensor *dy, const ot_tensor *x, int axis, bool exclusive, bool reverse,
                              ot_tensor *dx);

/* ---- LRN --------------------------------------------------------------------- *
 * x, y: (N, C, spatial...).  d_c = bias + alpha / size * sum of x_i^2 over
 * the channels i in [c - floor((size-1)/2), c + ceil((size-1)/2)] (clipped),
 * y_c = x_c * d_c^-beta. */
typedef struct ot_lrn_params {
    int64_t size;
    double alpha, beta, bias;
} ot_lrn_params;
ot_status ot_cpu_lrn(const ot_tensor *x, const ot_lrn_params *p, ot_tensor *y);
/* dx_i = dy_i d_i^-beta - 2 alpha beta / size * x_i * sum over the channels c
   whose window holds i of dy_c x_c d_c^(-beta-1).  Workspace: the bytes of
   ot_cpu_lrn_grad_workspace. */
ot_status ot_cpu_lrn_grad(const ot_tensor *dy, const ot_tensor *x, const ot_lrn_params *p, ot_tensor *dx);
size_t ot_cpu_lrn_grad_workspace(ot_dtype dt, int64_t numel);

/* ---- Det (misc_det.c) -------------------------------------------------------- *
 * x (batch..., M, M) -> y (batch...): LU with partial pivoting in float64. */
ot_status ot_cpu_det(const ot_tensor *x, ot_tensor *y);
/* dx = dy * adj(x)^T (= dy * det(x) * x^-T when x is invertible; the
   cofactors themselves when an exact zero pivot shows x singular, up to
   M = OT_DET_COFACTOR_MAX, beyond which OT_ERR_NUMERIC). */
#define OT_DET_COFACTOR_MAX 64
ot_status ot_cpu_det_grad(const ot_tensor *dy, const ot_tensor *x, ot_tensor *dx);
size_t ot_cpu_det_workspace(ot_dtype dt, int64_t batch, int64_t m, bool grad);

/* ---- elementwise ------------------------------------------------------------- */
/* y = x * sigmoid(alpha x) */
ot_status ot_cpu_swish(const ot_tensor *x, double alpha, ot_tensor *y);
/* dx = dy * s * (1 + alpha x (1 - s)), s = sigmoid(alpha x) */
ot_status ot_cpu_swish_grad(const ot_tensor *dy, const ot_tensor *x, double alpha, ot_tensor *dx);
/* y = x > threshold ? 1 : 0, in x's type (float, double, int32, int64). */
ot_status ot_cpu_binarizer(const ot_tensor *x, double threshold, ot_tensor *y);
/* y (rows, cols), any numeric type or bool: ones at (i, i + k), zeros elsewhere. */
void ot_cpu_eyelike(ot_tensor *y, int64_t k);

/* ---- random (counter-based: element i uses the generator's words for i) ------- */
/* y = low + (high - low) * u, u uniform in [0, 1): 24 random bits for the
   16- and 32-bit float types, 53 for float64 (two words per element). */
ot_status ot_cpu_random_uniform(const ot_rng *r, double low, double high, ot_tensor *y);
/* y_i = u_i < p_i ? 1 : 0 in y's type (u with float64 resolution when p is float64). */
ot_status ot_cpu_bernoulli(const ot_rng *r, const ot_tensor *p, ot_tensor *y);

/* ---- data movement (any element size) ------------------------------------------ */
/* x viewed as (T, B, inner) (time_major) or (B, T, inner): the first lens[b]
   steps of batch b reversed, the rest copied.  lens were validated. */
void ot_cpu_reverse_sequence(const void *x, void *y, size_t esize, int64_t T, int64_t B, int64_t inner,
                             bool time_major, const int64_t *lens);
/* cache (outer, max_seq, inner) viewed around `axis`, outer = B * rest; the
   update (outer, seq, inner) is written at rows (idx[b] + s) (mod max_seq when
   circular) of batch b = o / rest.  out may alias cache.  Returns -1 (and the
   offending batch in *bad) when a linear write leaves [0, max_seq). */
int ot_cpu_tensor_scatter(const void *cache, const void *update, void *out, size_t esize, int64_t B, int64_t rest,
                          int64_t max_seq, int64_t seq, int64_t inner, const int64_t *idx, bool circular,
                          int64_t *bad);

/* ---- Unique (misc_unique.c) ------------------------------------------------------ *
 * Unique slices of x along `axis` (axis < 0: of the flattened x), ascending
 * (lexicographic over the slice's elements in row-major order; NaN above
 * every number and equal to NaN) or in order of first occurrence.  *count
 * receives the number of unique slices; each output pointer may be NULL:
 * y (x's shape with count slices), first (count), inverse (number of
 * slices), counts (count), int64. */
ot_status ot_cpu_unique(const ot_tensor *x, int axis, bool sorted, int64_t *count, ot_tensor *y, int64_t *first,
                        int64_t *inverse, int64_t *counts);

#endif
