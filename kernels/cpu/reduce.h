/* CPU kernels for reductions: the Reduce* family (any set of axes), ArgMax /
 * ArgMin and CumSum.
 *
 * ot_cpu_reduce collapses the input into alternating kept / reduced groups of
 * axes and reduces with strides, without transposing: when the innermost
 * group is reduced each output sums contiguous runs (last-axis and
 * (N, C, H*W) -> (C) cases); when it is kept, blocks of adjacent outputs are
 * accumulated row by row (axis-0 and (outer, R, inner) cases).  float32 and
 * float64 have vectorised paths accumulating in double; other types go
 * through a scalar path (float16/bfloat16 in double, integers exactly in
 * 64-bit with two's-complement wrap-around).  Work is split over a fixed
 * partition that depends only on the shape, so results do not depend on the
 * thread count. */
#ifndef OT_KERNELS_CPU_REDUCE_H
#define OT_KERNELS_CPU_REDUCE_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxtrain.h"

typedef enum ot_reduce_op {
    OT_REDUCE_SUM = 0,
    OT_REDUCE_MEAN,
    OT_REDUCE_MAX,
    OT_REDUCE_MIN,
    OT_REDUCE_PROD,
    OT_REDUCE_L1,
    OT_REDUCE_L2,
    OT_REDUCE_LOG_SUM,
    OT_REDUCE_LOG_SUM_EXP,
    OT_REDUCE_SUM_SQUARE
} ot_reduce_op;

/* Reduces x (rank, dims) over the axes i with mask[i] set; y receives the
   kept axes in order (keepdims only changes y's shape, not its layout).  An
   empty mask reduces nothing: each output is op applied to one element
   (ReduceLogSum gives log(x), ReduceSumSquare x^2, ...).  A reduction over
   zero elements gives the op's identity: 0 (sum, L1, L2, sum-square), 1
   (prod), -inf (max, log-sum, log-sum-exp; integer max: the type's minimum),
   +inf (min; integers: the type's maximum), NaN (float mean; integers 0).
   Types: float32, float64, float16, bfloat16, int8..int64, uint8..uint64,
   bool (max/min). */
void ot_cpu_reduce(ot_reduce_op op, ot_dtype dt, const void *x, void *y, int rank, const int64_t *dims,
                   const bool *mask);

/* y (outer, inner) = index along n of the max (or min) of x (outer, n, inner);
   ties give the first index, or the last with select_last.  NaN counts as
   the extreme value (numpy's rule).  n must be > 0.  Types: every numeric
   type but bool. */
void ot_cpu_argreduce(bool want_max, bool select_last, ot_dtype dt, const void *x, int64_t *y, int64_t outer,
                      int64_t n, int64_t inner);

/* Cumulative sum along n of (outer, n, inner); y may alias x.  exclusive:
   y[k] sums x[0..k-1]; reverse: sums run from the end.  Floats accumulate
   in double.  Types: float32, float64, float16, bfloat16, int32, int64,
   uint32, uint64. */
void ot_cpu_cumsum(ot_dtype dt, const void *x, void *y, int64_t outer, int64_t n, int64_t inner,
                   bool exclusive, bool reverse);

#endif
